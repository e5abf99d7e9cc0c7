//! `aidant audit checkpoint|public-key|verify --checkpoint`: signed
//! statements of the audit chain's head, their file format, and checking the
//! log against one.
//!
//! The signing key lives in a file outside the database and the data
//! directory (by default `KEY_DIR/audit-signing.key`, created on first use,
//! mode 0600). A
//! checkpoint is only worth something if a copy is kept where whoever can
//! write to the database cannot reach it, and is verified with a public key
//! recorded there too (`--public-key`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use aidant_core::audit::ChainAnchor;
use aidant_store::checkpoint::{AuditPublicKey, AuditSigningKey, Checkpoint, SignedCheckpoint};
use clap::Args;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::startup::{Failure, StoreUse, open_store, write_private_file};

/// The value of `format` in every checkpoint file this version writes.
const FORMAT: &str = "aidant-audit-checkpoint-v1";

/// A checkpoint as written to a file: JSON, every field signed except the
/// signature itself.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckpointFile {
    format: String,
    sequence: i64,
    hash: String,
    created_at: String,
    backend: String,
    key_id: String,
    signature: String,
}

impl From<&SignedCheckpoint> for CheckpointFile {
    fn from(signed: &SignedCheckpoint) -> Self {
        let checkpoint = &signed.checkpoint;
        Self {
            format: FORMAT.to_owned(),
            sequence: checkpoint.sequence,
            hash: checkpoint.hash.clone(),
            created_at: checkpoint.created_at.clone(),
            backend: checkpoint.backend.clone(),
            key_id: checkpoint.key_id.clone(),
            signature: signed.signature.clone(),
        }
    }
}

impl From<CheckpointFile> for SignedCheckpoint {
    fn from(file: CheckpointFile) -> Self {
        SignedCheckpoint {
            checkpoint: Checkpoint { sequence: file.sequence, hash: file.hash, created_at: file.created_at, backend: file.backend, key_id: file.key_id },
            signature: file.signature,
        }
    }
}

#[derive(Debug, Args)]
pub struct CheckpointArgs {
    /// Write the checkpoint to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Also check the log against this signed checkpoint: its signature, and
    /// that the entry it names still has the hash it recorded.
    #[arg(long, value_name = "FILE")]
    checkpoint: Option<PathBuf>,
    /// The public key (64 hexadecimal characters) the checkpoint must be
    /// signed by; by default the key of this installation's signing key file.
    #[arg(long, value_name = "HEX", requires = "checkpoint")]
    public_key: Option<String>,
}

/// The signing key from its file, created (mode 0600) if there is none yet.
fn load_or_create_signing_key(config: &Config) -> Result<AuditSigningKey, Failure> {
    config.check_keys_apart_from_data().map_err(|error| Failure::Config(error.0))?;
    let path = config.effective_audit_signing_key_file();
    match read_signing_key(&path)? {
        Some(key) => Ok(key),
        None => {
            crate::startup::create_private_dir_for(&path)
                .map_err(|error| Failure::Startup(format!("cannot create the key directory for {}: {error}", path.display())))?;
            let key = AuditSigningKey::generate();
            write_private_file(&path, key.to_hex().as_bytes())
                .map_err(|error| Failure::Startup(format!("cannot create the audit signing key {}: {error}", path.display())))?;
            eprintln!("aidant: created the audit signing key {} (key id {})", path.display(), key.public_key().key_id());
            Ok(key)
        }
    }
}

fn read_signing_key(path: &Path) -> Result<Option<AuditSigningKey>, Failure> {
    match std::fs::read_to_string(path) {
        Ok(text) => AuditSigningKey::from_hex(&text)
            .map(Some)
            .map_err(|_| Failure::Config(format!("setting audit_signing_key_file: {} does not hold 64 hexadecimal characters", path.display()))),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(Failure::Startup(format!("cannot read the audit signing key {}: {error}", path.display()))),
    }
}

/// `aidant audit checkpoint`: verifies the chain (a broken log is never
/// signed), appends an `audit.checkpoint` entry and signs the head after it.
pub async fn checkpoint(config: &Config, arguments: CheckpointArgs) -> Result<ExitCode, Failure> {
    let store = open_store(config, StoreUse::Maintenance).await?;
    let signing_key = load_or_create_signing_key(config)?;
    if let Err(chain_break) = store.verify_audit_chain().await.map_err(|error| Failure::Runtime(error.to_string()))? {
        println!("audit chain BROKEN: {chain_break}; no checkpoint was signed");
        return Ok(ExitCode::from(1));
    }
    let key_id = signing_key.public_key().key_id();
    let head = store.checkpoint_audit_chain(&aidant_core::audit::AuditActor::Cli, &key_id).await.map_err(|error| Failure::Runtime(error.to_string()))?;
    let created_at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|error| Failure::Runtime(format!("cannot format the time: {error}")))?;
    let signed = signing_key.sign(Checkpoint::new(head.sequence, head.hash, created_at, store.backend().as_str(), &signing_key));
    let mut json = serde_json::to_string_pretty(&CheckpointFile::from(&signed)).map_err(|error| Failure::Runtime(error.to_string()))?;
    json.push('\n');
    match &arguments.out {
        Some(path) => {
            std::fs::write(path, json).map_err(|error| Failure::Runtime(format!("cannot write {}: {error}", path.display())))?;
            println!("signed checkpoint of audit entry {} (key {key_id}) written to {}", signed.checkpoint.sequence, path.display());
        }
        None => print!("{json}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// `aidant audit public-key`: the key that verifies this installation's
/// checkpoints, to record wherever the checkpoints are kept.
pub fn public_key(config: &Config) -> Result<ExitCode, Failure> {
    let signing_key = load_or_create_signing_key(config)?;
    println!("{}", signing_key.public_key().to_hex());
    Ok(ExitCode::SUCCESS)
}

fn read_checkpoint(path: &Path) -> Result<SignedCheckpoint, Failure> {
    let text = std::fs::read_to_string(path).map_err(|error| Failure::Config(format!("--checkpoint: cannot read {}: {error}", path.display())))?;
    // Only the position, never the parser's words: pointed at the wrong file
    // (a key file, say), they would quote its contents.
    let file: CheckpointFile = serde_json::from_str(&text).map_err(|error| {
        Failure::Config(format!("--checkpoint: {} is not an Aidant audit checkpoint (line {}, column {})", path.display(), error.line(), error.column()))
    })?;
    if file.format != FORMAT {
        return Err(Failure::Config(format!("--checkpoint: {} has format {:?}; this version reads {FORMAT:?}", path.display(), file.format)));
    }
    Ok(file.into())
}

/// `aidant audit verify [--checkpoint FILE [--public-key HEX]]`.
pub async fn verify(config: &Config, arguments: VerifyArgs) -> Result<ExitCode, Failure> {
    let Some(checkpoint_path) = &arguments.checkpoint else {
        let store = open_store(config, StoreUse::Maintenance).await?;
        eprintln!(
            "warning: no signed checkpoint given (--checkpoint): this shows the chain is whole, but not that it is the chain that was written; \
             someone who can write to the database could rewrite entries with recomputed hashes and pass. Take checkpoints with \
             `aidant audit checkpoint`, keep copies and the public key outside the data directory, and verify against one."
        );
        return match store.verify_audit_chain().await.map_err(|error| Failure::Runtime(error.to_string()))? {
            Ok(summary) => {
                println!("audit chain OK: {} entries, head {}", summary.entries, summary.head_hash);
                Ok(ExitCode::SUCCESS)
            }
            Err(chain_break) => {
                println!("audit chain BROKEN: {chain_break}");
                Ok(ExitCode::from(1))
            }
        };
    };
    let signed = read_checkpoint(checkpoint_path)?;
    let public_key = match &arguments.public_key {
        Some(text) => AuditPublicKey::from_hex(text).map_err(|error| Failure::Config(format!("--public-key: {error}")))?,
        None => {
            let path = config.effective_audit_signing_key_file();
            let key = read_signing_key(&path)?.ok_or_else(|| {
                Failure::Config(format!(
                    "no --public-key given and no audit signing key at {}: pass the public key recorded with the checkpoint",
                    path.display()
                ))
            })?;
            key.public_key()
        }
    };
    if let Err(error) = signed.verify(&public_key) {
        println!("audit checkpoint REJECTED: {error}");
        return Ok(ExitCode::from(1));
    }
    let checkpoint = &signed.checkpoint;
    let store = open_store(config, StoreUse::Maintenance).await?;
    if checkpoint.backend != store.backend().as_str() {
        println!("note: the checkpoint was taken on a {} database; this one is {}", checkpoint.backend, store.backend().as_str());
    }
    let anchor = ChainAnchor { sequence: checkpoint.sequence, hash: checkpoint.hash.clone() };
    match store.verify_audit_chain_against(&anchor).await.map_err(|error| Failure::Runtime(error.to_string()))? {
        Ok(summary) => {
            println!(
                "audit chain OK: {} entries, head {}; entry {} matches the checkpoint signed by key {} at {}",
                summary.entries, summary.head_hash, checkpoint.sequence, checkpoint.key_id, checkpoint.created_at
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(anchor_break) => {
            println!("audit chain BROKEN: {anchor_break}");
            Ok(ExitCode::from(1))
        }
    }
}
