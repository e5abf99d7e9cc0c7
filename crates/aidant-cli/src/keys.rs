//! `aidant keys rotate|status`: replacing the master key and rewrapping every
//! sealed value's data key under the new one, crash-safe at every step.
//!
//! Order matters. The old key is written beside the key file as a retired
//! key (mode 0600, synced) before anything else changes; then the key file
//! is replaced atomically by the new key; only then are values rewrapped, in
//! batches, each batch one transaction. A crash at any point leaves every
//! value under a key that start-up loads (the key file or a retired key), and
//! `aidant keys rotate --resume` finishes the job.

use aidant_core::audit::{AuditAction, AuditActor, AuditRecordKind};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use aidant_store::audit::AuditEvent;
use aidant_store::keys::{KeyCensus, RewrapOptions};
use aidant_store::{Keyring, MasterKey, Store};
use clap::{Args, Subcommand};

use crate::config::Config;
use crate::startup::{Failure, StoreUse, hex_id, load_retired_keys, open_store, replace_private_file, retired_key_path};

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make a new master key and rewrap every sealed value's data key under it.
    ///
    /// With a key file (the default `KEY_DIR/master.key`), the old key is kept
    /// as `master.key.retired-<key id>` and the key file gets a new random key.
    /// When the key comes from AIDANT_MASTER_KEY or the `master_key` setting,
    /// give the new key with --new-key-file and change the setting afterwards.
    /// Stop every `aidant serve` first and start them again afterwards.
    Rotate(RotateArgs),
    /// Count the sealed values under each master key and check that the keys
    /// start-up loads open them all.
    Status,
}

#[derive(Debug, Args)]
pub struct RotateArgs {
    /// A file holding the new master key as 64 hexadecimal characters.
    /// Required when the key comes from AIDANT_MASTER_KEY or `master_key`.
    #[arg(long, value_name = "FILE", conflicts_with = "resume")]
    new_key_file: Option<PathBuf>,
    /// Finish an interrupted rotation: rewrap what is still under a retired
    /// key to the current key, without making a new key.
    #[arg(long)]
    resume: bool,
    /// Values rewrapped per transaction.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    batch_size: u32,
}

/// Where the current master key comes from.
enum CurrentKey {
    File(PathBuf),
    Setting,
}

impl CurrentKey {
    fn describe(&self) -> String {
        match self {
            CurrentKey::File(path) => format!("the key file {}", path.display()),
            CurrentKey::Setting => "the master_key setting (AIDANT_MASTER_KEY)".to_owned(),
        }
    }
}

/// The master key in force, which must already exist: rotating or counting
/// under a key made up on the spot would be meaningless.
fn load_current_key(config: &Config) -> Result<(MasterKey, CurrentKey), Failure> {
    config.check_keys_apart_from_data().map_err(|error| Failure::Config(error.0))?;
    if let Some(key) = &config.master_key {
        let key = MasterKey::from_hex(key.expose()).map_err(|_| Failure::Config("setting master_key: must be 64 hexadecimal characters".to_owned()))?;
        return Ok((key, CurrentKey::Setting));
    }
    let path = config.effective_key_file();
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(Failure::Config(format!("no master key at {}: there is nothing to rotate (`aidant serve` creates it on first start)", path.display())));
        }
        Err(error) => return Err(Failure::Startup(format!("cannot read the key file {}: {error}", path.display()))),
    };
    let key =
        MasterKey::from_hex(&text).map_err(|_| Failure::Config(format!("setting key_file: {} does not hold 64 hexadecimal characters", path.display())))?;
    Ok((key, CurrentKey::File(path)))
}

fn read_new_key(path: &Path) -> Result<MasterKey, Failure> {
    let text = std::fs::read_to_string(path).map_err(|error| Failure::Config(format!("--new-key-file: cannot read {}: {error}", path.display())))?;
    MasterKey::from_hex(&text).map_err(|_| Failure::Config(format!("--new-key-file: {} does not hold 64 hexadecimal characters", path.display())))
}

pub async fn run(config: &Config, command: KeysCommand) -> Result<ExitCode, Failure> {
    match command {
        KeysCommand::Rotate(arguments) => rotate(config, arguments).await,
        KeysCommand::Status => status(config).await,
    }
}

async fn rotate(config: &Config, arguments: RotateArgs) -> Result<ExitCode, Failure> {
    let (current, source) = load_current_key(config)?;
    let retired: Vec<MasterKey> = load_retired_keys(config)?.into_iter().map(|(key, _)| key).collect();
    let new_key = match (&arguments.new_key_file, &source, arguments.resume) {
        (_, _, true) => None,
        (Some(path), _, false) => Some(read_new_key(path)?),
        (None, CurrentKey::File(_), false) => Some(MasterKey::generate()),
        (None, CurrentKey::Setting, false) => {
            return Err(Failure::Config(
                "the master key comes from the master_key setting (AIDANT_MASTER_KEY), which aidant cannot change: write a new key (64 hexadecimal characters) to a private file, run `aidant keys rotate --new-key-file FILE`, then set AIDANT_MASTER_KEY to that file's contents and restart".to_owned(),
            ));
        }
    };
    if new_key.as_ref().is_some_and(|key| key.key_id() == current.key_id()) {
        return Err(Failure::Config("--new-key-file: holds the master key already in use; a rotation needs a different key".to_owned()));
    }
    let store = open_store(config, StoreUse::Maintenance).await?;
    let keyring = match new_key {
        None => {
            audit(&store, AuditAction::KeysRotateResume, hex_id(&current), format!("rewrapping values under retired keys to key {}", hex_id(&current))).await?;
            Keyring::new(current.clone(), retired)
        }
        Some(new_key) => {
            audit(&store, AuditAction::KeysRotateStart, hex_id(&new_key), format!("retiring key {}", hex_id(&current))).await?;
            // The old key is safe on disk before anything else changes.
            let retired_path = retired_key_path(config, &current);
            keep_retired_key(&retired_path, &current)?;
            println!("kept the old master key {} as {}", hex_id(&current), retired_path.display());
            if let CurrentKey::File(path) = &source {
                replace_private_file(path, new_key.to_hex().as_bytes())
                    .map_err(|error| Failure::Runtime(format!("cannot write the new key to {}: {error}", path.display())))?;
                println!("the key file {} now holds the new master key {}", path.display(), hex_id(&new_key));
            }
            let mut known = retired;
            known.push(current.clone());
            Keyring::new(new_key, known)
        }
    };
    let current_id = hex_id(keyring.current());
    let store = store.with_keyring(keyring);
    let summary = store
        .rewrap_sealed_values(&RewrapOptions { batch_size: arguments.batch_size as usize, limit: None })
        .await
        .map_err(|error| Failure::Runtime(format!("rewrapping stopped: {error}; run `aidant keys rotate --resume` to finish")))?;
    for column in &summary.columns {
        println!("{}: {} rewrapped, {} unreadable", column.column.name(), column.rewrapped, column.unreadable);
        if let Some((record_id, reason)) = &column.first_unreadable {
            println!("  first unreadable: record {record_id}: {reason}");
        }
    }
    let census = census(&store).await?;
    let left = census.not_current();
    audit(
        &store,
        AuditAction::KeysRotateFinish,
        current_id.clone(),
        format!("rewrapped {} values; {} not under the current key; {} unreadable", summary.rewrapped(), left, summary.unreadable()),
    )
    .await?;
    println!("rewrapped {} sealed values under master key {current_id}; {left} remain under other keys", summary.rewrapped());
    if let (CurrentKey::Setting, Some(path)) = (&source, &arguments.new_key_file) {
        println!(
            "NEXT: set AIDANT_MASTER_KEY (or master_key) to the contents of {} and restart every `aidant serve`; until then they cannot open rewrapped values",
            path.display()
        );
    } else {
        println!("NEXT: restart every `aidant serve` so it seals with the new key");
    }
    if left > 0 || summary.unreadable() > 0 {
        println!("NOT FINISHED: {left} values are not under the current key; fix what is named above, then run `aidant keys rotate --resume`");
        return Ok(ExitCode::from(1));
    }
    println!("the retired key files can be deleted once no `aidant serve` still runs with them and no backup you may restore needs them");
    Ok(ExitCode::SUCCESS)
}

/// Writes the retired key, or checks an earlier attempt already did.
fn keep_retired_key(path: &Path, key: &MasterKey) -> Result<(), Failure> {
    match std::fs::read_to_string(path) {
        Ok(text) if MasterKey::from_hex(&text).is_ok_and(|kept| kept.key_id() == key.key_id()) => Ok(()),
        Ok(_) => Err(Failure::Config(format!("{} exists but does not hold the key its name says; move it aside and run again", path.display()))),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|error| Failure::Startup(format!("cannot create {}: {error}", parent.display())))?;
            }
            replace_private_file(path, key.to_hex().as_bytes())
                .map_err(|error| Failure::Startup(format!("cannot keep the old master key at {}: {error}", path.display())))
        }
        Err(error) => Err(Failure::Startup(format!("cannot read {}: {error}", path.display()))),
    }
}

async fn audit(store: &Store, action: AuditAction, key_id: String, reason: String) -> Result<i64, Failure> {
    store
        .audit(&AuditEvent { actor: &AuditActor::Cli, action, record_kind: AuditRecordKind::MasterKey, record_id: &key_id, reason: Some(&reason) })
        .await
        .map_err(|error| Failure::Runtime(format!("cannot write the audit entry: {error}")))
}

async fn census(store: &Store) -> Result<KeyCensus, Failure> {
    store.sealed_value_census().await.map_err(|error| Failure::Runtime(format!("cannot count the sealed values: {error}")))
}

async fn status(config: &Config) -> Result<ExitCode, Failure> {
    let (current, source) = load_current_key(config)?;
    let retired = load_retired_keys(config)?;
    println!("current master key {} from {}", hex_id(&current), source.describe());
    for (key, path) in &retired {
        println!("retired master key {} from {}", hex_id(key), path.display());
    }
    let store = open_store(config, StoreUse::Maintenance).await?.with_keyring(Keyring::new(current, retired.into_iter().map(|(key, _)| key).collect()));
    let census = census(&store).await?;
    for column in &census.columns {
        let counts: Vec<String> = column
            .by_key_id
            .iter()
            .map(|(key_id, count)| {
                let role = if *key_id == census.current_key_id {
                    "current"
                } else if census.retired_key_ids.contains(key_id) {
                    "retired"
                } else {
                    "unknown"
                };
                format!("{count} under {key_id} ({role})")
            })
            .collect();
        let counts = if counts.is_empty() { "none".to_owned() } else { counts.join(", ") };
        println!("{}: {counts}", column.column.name());
        if let Some((record_id, reason)) = &column.first_unopenable {
            println!("  {} cannot be opened; first: record {record_id}: {reason}", column.unopenable);
        }
    }
    let left = census.not_current();
    println!("{left} sealed values are not under the current key; {} cannot be opened with the keys loaded", census.unopenable());
    Ok(if census.unopenable() > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
