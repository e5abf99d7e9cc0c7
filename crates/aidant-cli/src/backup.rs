//! `aidant backup` and `aidant restore`: a consistent, encrypted copy of the
//! database with a manifest, and its restore, checked before anything is
//! replaced. SQLite is copied with `VACUUM INTO` (one read transaction while
//! writers carry on), PostgreSQL with `pg_dump` (one snapshot), each streamed
//! through the encryption in `aidant_store::backup`; the keys stay apart.

use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use aidant_core::audit::{AuditAction, AuditActor, AuditRecordKind, ChainAnchor};
use aidant_store::audit::AuditEvent;
use aidant_store::backup::{
    BACKUP_FILE, BackupError, HashingWriter, MANIFEST_FILE, MANIFEST_FORMAT, Manifest, ManifestFile, backup_key_id, decrypt_stream, encrypt_stream, hash_file,
};
use aidant_store::{Backend, Keyring, Store, StoreOptions};

use crate::config::Config;
use crate::startup::{Failure, StoreUse, create_private_dir_for, existing_keyring, open_store, prepare_data_dir};

#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// The directory to write the backup to (created; must be new or empty).
    /// Keep it away from the key directory: the backup opens with the master key.
    #[arg(long, value_name = "DIR")]
    to: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// The backup directory written by `aidant backup`.
    #[arg(long, value_name = "DIR")]
    from: PathBuf,
    /// SQLite: replace the database already in the data directory (stop every
    /// `aidant serve` first); it is kept beside the restored one, renamed.
    #[arg(long)]
    replace: bool,
}

fn runtime(context: &str) -> impl Fn(aidant_store::StoreError) -> Failure + '_ {
    move |error| Failure::Runtime(format!("{context}: {error}"))
}

fn backup_failure(error: BackupError) -> Failure {
    Failure::Runtime(error.to_string())
}

fn now_rfc3339() -> Result<String, Failure> {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|error| Failure::Runtime(format!("cannot format the time: {error}")))
}

/// Removes a file when dropped unless `keep` was called: plaintext copies
/// never outlive the command, whatever stops it.
struct TemporaryFile(Option<PathBuf>);

impl TemporaryFile {
    fn keep(mut self) -> PathBuf {
        self.0.take().unwrap_or_default()
    }
}

impl Drop for TemporaryFile {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(&path);
            for suffix in ["-wal", "-shm", "-journal"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
    }
}

/// `aidant backup --to DIR`.
pub async fn backup(config: &Config, arguments: BackupArgs) -> Result<ExitCode, Failure> {
    let store = open_store(config, StoreUse::Maintenance).await?;
    let keyring = existing_keyring(config)?;
    prepare_backup_dir(&arguments.to)?;
    let backup_id = aidant_store::new_id();
    let reason = format!("aidant backup {backup_id}");
    store
        .audit(&AuditEvent {
            actor: &AuditActor::Cli,
            action: AuditAction::BackupCreated,
            record_kind: AuditRecordKind::Database,
            record_id: &backup_id,
            reason: Some(&reason),
        })
        .await
        .map_err(runtime("cannot write the audit entry"))?;
    let output_path = arguments.to.join(BACKUP_FILE);
    let output = std::fs::File::create(&output_path).map_err(|error| Failure::Startup(format!("cannot write {}: {error}", output_path.display())))?;
    let mut writer = HashingWriter::new(BufWriter::new(output));
    let copied = match store.backend() {
        Backend::Sqlite => copy_sqlite(&store, config, &keyring, &mut writer).await,
        Backend::Postgres => copy_postgres(&store, config, &keyring, &mut writer).await,
    };
    let (inner, bytes, sha256) = writer.finish();
    let flushed = inner.into_inner().map_err(|error| error.into_error()).and_then(|file| file.sync_all());
    let contents = match (copied, flushed) {
        (Ok(contents), Ok(())) => contents,
        (Err(failure), _) => {
            let _ = std::fs::remove_file(&output_path);
            return Err(failure);
        }
        (_, Err(error)) => {
            let _ = std::fs::remove_file(&output_path);
            return Err(Failure::Runtime(format!("cannot write {}: {error}", output_path.display())));
        }
    };
    let manifest = Manifest {
        format: MANIFEST_FORMAT,
        aidant_version: env!("CARGO_PKG_VERSION").to_owned(),
        created_at: now_rfc3339()?,
        backend: store.backend().as_str().to_owned(),
        migrations: contents.migrations,
        master_key_id: crate::startup::hex_id(keyring.current()),
        reports: contents.reports,
        audit_sequence: contents.anchor.sequence,
        audit_hash: contents.anchor.hash.clone(),
        files: vec![ManifestFile { name: BACKUP_FILE.to_owned(), bytes, sha256 }],
    };
    let manifest_text = serde_json::to_string_pretty(&manifest).map_err(|error| Failure::Runtime(format!("cannot write the manifest: {error}")))?;
    crate::startup::write_private_file(&arguments.to.join(MANIFEST_FILE), manifest_text.as_bytes())
        .map_err(|error| Failure::Startup(format!("cannot write the manifest in {}: {error}", arguments.to.display())))?;
    store.close().await;
    println!(
        "backup written to {}: {} reports, audit chain to entry {}, {:.1} MB encrypted under master key {}",
        arguments.to.display(),
        contents.reports,
        contents.anchor.sequence,
        bytes as f64 / 1e6,
        manifest.master_key_id
    );
    println!("keep it apart from the key directory: it opens with the master key (or, after a rotation, the retired one)");
    Ok(ExitCode::SUCCESS)
}

/// What one copy holds, read from the copy itself where the backend allows.
struct Contents {
    anchor: ChainAnchor,
    reports: i64,
    migrations: i64,
}

fn prepare_backup_dir(directory: &Path) -> Result<(), Failure> {
    if directory.exists() {
        let empty = std::fs::read_dir(directory).map(|mut entries| entries.next().is_none()).unwrap_or(false);
        if !empty {
            return Err(Failure::Config(format!("{} is not empty: give a new or empty directory for the backup", directory.display())));
        }
    }
    create_private_dir_for(&directory.join(MANIFEST_FILE)).map_err(|error| Failure::Startup(format!("cannot create {}: {error}", directory.display())))
}

/// The chain's verified head, or the failure that stops a backup or restore.
async fn verified_anchor(store: &Store, what: &str) -> Result<ChainAnchor, Failure> {
    match store.verify_audit_chain().await.map_err(runtime("cannot read the audit log"))? {
        Ok(summary) => Ok(ChainAnchor { sequence: summary.entries, hash: summary.head_hash }),
        Err(chain_break) => Err(Failure::Runtime(format!("the audit chain is BROKEN ({chain_break}); {what}"))),
    }
}

/// SQLite: `VACUUM INTO` a private file in the data directory, checked and
/// counted there, encrypted into the backup and removed.
async fn copy_sqlite(store: &Store, config: &Config, keyring: &Keyring, writer: &mut impl std::io::Write) -> Result<Contents, Failure> {
    let plain = TemporaryFile(Some(config.data_dir.join(format!(".aidant-backup-{}.db", aidant_store::new_id()))));
    let path = plain.0.clone().unwrap_or_default();
    store.copy_sqlite_into(&path).await.map_err(runtime("cannot copy the database"))?;
    let copy = Store::connect(&format!("sqlite://{}", path.display()), &StoreOptions::default(), None).await.map_err(runtime("cannot open the copy"))?;
    let anchor = verified_anchor(&copy, "no backup was written").await;
    let reports = copy.count_reports().await.map_err(runtime("cannot count the reports"));
    let migrations = copy.migration_count().await.map_err(runtime("cannot read the migrations"));
    copy.close().await;
    let contents = Contents { anchor: anchor?, reports: reports?, migrations: migrations? };
    let file = std::fs::File::open(&path).map_err(|error| Failure::Runtime(format!("cannot read the copy: {error}")))?;
    encrypt_stream(keyring, BufReader::new(file), writer).map_err(backup_failure)?;
    drop(plain);
    Ok(contents)
}

/// PostgreSQL: the chain verified, then a snapshot exported and counted, and
/// `pg_dump` of that very snapshot streamed through the encryption; no
/// plaintext on disk.
async fn copy_postgres(store: &Store, config: &Config, keyring: &Keyring, writer: &mut impl std::io::Write) -> Result<Contents, Failure> {
    verified_anchor(store, "no backup was written").await?;
    let migrations = store.migration_count().await.map_err(runtime("cannot read the migrations"))?;
    let snapshot = store.export_snapshot().await.map_err(runtime("cannot take a snapshot"))?;
    let anchor = ChainAnchor { sequence: snapshot.audit_sequence, hash: snapshot.audit_hash.clone() };
    let reports = snapshot.reports;
    let url = config.effective_database_url();
    let dumped = dump_postgres(&url, &snapshot.id, keyring, writer);
    snapshot.release().await.map_err(runtime("cannot end the snapshot"))?;
    dumped?;
    Ok(Contents { anchor, reports, migrations })
}

fn dump_postgres(url: &str, snapshot: &str, keyring: &Keyring, writer: &mut impl std::io::Write) -> Result<(), Failure> {
    let mut dump = Command::new("pg_dump")
        .args(["--format=plain", "--no-owner", "--no-privileges", "--quote-all-identifiers", "--snapshot", snapshot, "--dbname"])
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| Failure::Startup(format!("cannot run pg_dump (install PostgreSQL's client tools): {error}")))?;
    let stdout = dump.stdout.take().ok_or_else(|| Failure::Runtime("pg_dump gave no output".to_owned()))?;
    let encrypted = encrypt_stream(keyring, BufReader::new(stdout), writer);
    let finished = dump.wait_with_output().map_err(|error| Failure::Runtime(format!("pg_dump: {error}")))?;
    if !finished.status.success() {
        let reason = String::from_utf8_lossy(&finished.stderr).lines().last().unwrap_or_default().to_owned();
        return Err(Failure::Runtime(format!("pg_dump failed ({}): {reason}", finished.status)));
    }
    encrypted.map_err(backup_failure)
}

/// `aidant restore --from DIR [--replace]`.
pub async fn restore(config: &Config, arguments: RestoreArgs) -> Result<ExitCode, Failure> {
    let manifest = read_manifest(&arguments.from)?;
    let backup_path = arguments.from.join(BACKUP_FILE);
    let url = config.effective_database_url();
    let backend = Backend::from_url(&url).map_err(|error| Failure::Config(error.to_string()))?;
    if manifest.backend != backend.as_str() {
        return Err(Failure::Config(format!(
            "this is a {} backup and the database in force is {}: a backup restores into the backend it was taken from",
            manifest.backend,
            backend.as_str()
        )));
    }
    let keyring = existing_keyring(config)?;
    let file = std::fs::File::open(&backup_path).map_err(|error| Failure::Runtime(format!("cannot read {}: {error}", backup_path.display())))?;
    let key_id = backup_key_id(BufReader::new(file)).map_err(backup_failure)?;
    let hex = |id: [u8; 8]| id.iter().map(|byte| format!("{byte:02x}")).collect::<String>();
    let known = std::iter::once(keyring.current().key_id()).chain(keyring.retired_key_ids()).any(|id| hex(id) == key_id);
    if !known {
        return Err(Failure::Config(format!(
            "the backup was encrypted under master key {key_id}, which is neither the current key nor a retired one: restore with that key (see `aidant keys status`)"
        )));
    }
    let anchor = ChainAnchor { sequence: manifest.audit_sequence, hash: manifest.audit_hash.clone() };
    let restored = match backend {
        Backend::Sqlite => restore_sqlite(config, &arguments, &keyring, &backup_path, &manifest, &anchor).await?,
        Backend::Postgres => restore_postgres(&url, &keyring, &backup_path, &manifest, &anchor).await?,
    };
    println!(
        "restored {} reports from the backup of {} into {}; the audit chain verifies to entry {} and on to {}",
        manifest.reports,
        manifest.created_at,
        aidant_store::redact_url(&url),
        manifest.audit_sequence,
        restored
    );
    Ok(ExitCode::SUCCESS)
}

/// The manifest, and the backup file checked against it.
fn read_manifest(directory: &Path) -> Result<Manifest, Failure> {
    let manifest_path = directory.join(MANIFEST_FILE);
    let text = std::fs::read_to_string(&manifest_path).map_err(|error| {
        Failure::Config(format!("no backup manifest at {}: {error} (give the directory `aidant backup --to` wrote)", manifest_path.display()))
    })?;
    let manifest: Manifest =
        serde_json::from_str(&text).map_err(|error| Failure::Runtime(format!("the manifest {} cannot be read: {error}", manifest_path.display())))?;
    if manifest.format != MANIFEST_FORMAT {
        return Err(Failure::Runtime(format!("the manifest is of format {}, which this version does not read", manifest.format)));
    }
    let [file] = manifest.files.as_slice() else {
        return Err(Failure::Runtime("the manifest does not list the one backup file".to_owned()));
    };
    if file.name != BACKUP_FILE {
        return Err(Failure::Runtime(format!("the manifest lists {:?}, not {BACKUP_FILE}", file.name)));
    }
    let (bytes, sha256) =
        hash_file(&directory.join(BACKUP_FILE)).map_err(|error| Failure::Runtime(format!("cannot read {}: {error}", directory.join(BACKUP_FILE).display())))?;
    if bytes != file.bytes || sha256 != file.sha256 {
        return Err(Failure::Runtime(format!(
            "{BACKUP_FILE} does not match its manifest ({bytes} bytes, SHA-256 {sha256}; the manifest says {} bytes, {}): it is damaged or was altered; nothing was restored",
            file.bytes, file.sha256
        )));
    }
    Ok(manifest)
}

/// Checks a restored database before it is put in place: its chain walks
/// whole to the manifest's entry unchanged, and it holds the reports the
/// manifest counts. Records the restore in the restored chain and returns
/// where the chain now ends.
async fn check_restored(store: &Store, manifest: &Manifest, anchor: &ChainAnchor) -> Result<i64, Failure> {
    match store.verify_audit_chain_against(anchor).await.map_err(runtime("cannot read the restored audit log"))? {
        Ok(_) => {}
        Err(anchor_break) => return Err(Failure::Runtime(format!("the restored audit chain does not verify ({anchor_break}); nothing was restored"))),
    }
    let reports = store.count_reports().await.map_err(runtime("cannot count the restored reports"))?;
    if reports != manifest.reports {
        return Err(Failure::Runtime(format!("the backup holds {reports} reports where its manifest says {}; nothing was restored", manifest.reports)));
    }
    let reason = format!("aidant restore of the backup taken {}", manifest.created_at);
    store
        .audit(&AuditEvent {
            actor: &AuditActor::Cli,
            action: AuditAction::BackupRestored,
            record_kind: AuditRecordKind::Database,
            record_id: &manifest.audit_hash,
            reason: Some(&reason),
        })
        .await
        .map_err(runtime("cannot write the audit entry"))
}

/// SQLite: decrypted into a private file in the data directory, checked
/// there, and only then renamed into place.
async fn restore_sqlite(
    config: &Config,
    arguments: &RestoreArgs,
    keyring: &Keyring,
    backup_path: &Path,
    manifest: &Manifest,
    anchor: &ChainAnchor,
) -> Result<i64, Failure> {
    let target = config.data_dir.join("aidant.db");
    if config.database_url.is_some() {
        return Err(Failure::Config("restore a SQLite backup into a data directory (--data-dir), not a database_url".to_owned()));
    }
    if target.exists() && !arguments.replace {
        return Err(Failure::Config(format!(
            "there is already a database at {}: stop every `aidant serve` and add --replace (the current one is kept beside it), or restore into another --data-dir",
            target.display()
        )));
    }
    prepare_data_dir(&config.data_dir)?;
    let staging = TemporaryFile(Some(config.data_dir.join(format!(".aidant-restore-{}.db", aidant_store::new_id()))));
    let staging_path = staging.0.clone().unwrap_or_default();
    {
        let input = std::fs::File::open(backup_path).map_err(|error| Failure::Runtime(format!("cannot read {}: {error}", backup_path.display())))?;
        let output =
            std::fs::File::create(&staging_path).map_err(|error| Failure::Startup(format!("cannot write in {}: {error}", config.data_dir.display())))?;
        let mut writer = BufWriter::new(output);
        decrypt_stream(keyring, BufReader::new(input), &mut writer).map_err(backup_failure)?;
        writer
            .into_inner()
            .map_err(|error| error.into_error())
            .and_then(|file| file.sync_all())
            .map_err(|error| Failure::Runtime(format!("cannot write the restored database: {error}")))?;
    }
    let restored = Store::connect(&format!("sqlite://{}", staging_path.display()), &StoreOptions::default(), None)
        .await
        .map_err(runtime("cannot open the restored copy"))?;
    let checked = check_restored(&restored, manifest, anchor).await;
    let flushed = restored.checkpoint_wal().await;
    restored.close().await;
    let head = checked?;
    flushed.map_err(runtime("cannot write the restored database out"))?;
    if target.exists() {
        let kept = config.data_dir.join(format!("aidant.db.before-restore-{}", time::OffsetDateTime::now_utc().unix_timestamp()));
        for suffix in ["", "-wal", "-shm"] {
            let from = PathBuf::from(format!("{}{suffix}", target.display()));
            if from.exists() {
                std::fs::rename(&from, format!("{}{suffix}", kept.display()))
                    .map_err(|error| Failure::Runtime(format!("cannot move {} aside: {error}", from.display())))?;
            }
        }
        println!("the database that was there is kept as {}", kept.display());
    }
    let staging_path = staging.keep();
    std::fs::rename(&staging_path, &target).map_err(|error| Failure::Runtime(format!("cannot put the restored database in place: {error}")))?;
    // The staging copy's log and shared memory are empty after the checkpoint.
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", staging_path.display()));
    }
    Ok(head)
}

/// PostgreSQL: into an empty database only, through `psql` in one
/// transaction; a restore whose check fails is emptied again.
async fn restore_postgres(url: &str, keyring: &Keyring, backup_path: &Path, manifest: &Manifest, anchor: &ChainAnchor) -> Result<i64, Failure> {
    let target = Store::connect(url, &StoreOptions::default(), None).await.map_err(|error| Failure::Startup(error.to_string()))?;
    if target.holds_aidant_schema().await.map_err(runtime("cannot read the database"))? {
        target.close().await;
        return Err(Failure::Config(format!(
            "the database at {} already holds Aidant's tables: restore into an empty database (createdb, then --database-url)",
            aidant_store::redact_url(url)
        )));
    }
    let mut psql = Command::new("psql")
        .args(["--quiet", "--no-psqlrc", "--single-transaction", "--set", "ON_ERROR_STOP=1", "--dbname"])
        .arg(url)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| Failure::Startup(format!("cannot run psql (install PostgreSQL's client tools): {error}")))?;
    let stdin = psql.stdin.take().ok_or_else(|| Failure::Runtime("psql took no input".to_owned()))?;
    let input = std::fs::File::open(backup_path).map_err(|error| Failure::Runtime(format!("cannot read {}: {error}", backup_path.display())))?;
    let mut writer = BufWriter::new(stdin);
    let decrypted = decrypt_stream(keyring, BufReader::new(input), &mut writer);
    if decrypted.is_err() {
        // Stop psql before its input ends, or it would commit what it has.
        let _ = psql.kill();
    }
    drop(writer);
    let finished = psql.wait_with_output().map_err(|error| Failure::Runtime(format!("psql: {error}")))?;
    decrypted.map_err(backup_failure)?;
    if !finished.status.success() {
        let reason = String::from_utf8_lossy(&finished.stderr).lines().next().unwrap_or_default().to_owned();
        return Err(Failure::Runtime(format!("loading the backup failed, and nothing was kept: {reason}")));
    }
    let checked = check_restored(&target, manifest, anchor).await;
    if checked.is_err() {
        target.drop_public_schema().await.map_err(runtime("cannot empty the database after a failed check"))?;
    }
    target.close().await;
    checked
}
