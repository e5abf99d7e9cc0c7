//! Backups: a consistent copy of the database, encrypted under the master
//! key, with a manifest that says what it holds and lets a restore check it
//! before anything is replaced.
//!
//! The copy is encrypted as a stream (the STREAM construction over
//! XChaCha20-Poly1305, one-megabyte chunks), with a random data key wrapped
//! by the master key exactly as a sealed field's is: the backup names the
//! key by its id, opens with the current key or a retired one, and a copy
//! cut short, reordered or altered fails to open. The manifest records each
//! file's size and SHA-256, the audit chain's head at the copy (a restore
//! walks the restored chain and checks it reaches that entry unchanged) and
//! the number of reports.
//!
//! The keys are not in the backup: kept apart, as the data directory's are.

use std::io::{self, Read, Write};
use std::path::Path;

use chacha20poly1305::aead::stream::{DecryptorBE32, EncryptorBE32};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::crypto::{CryptoError, Keyring, sealed_key_id};
use crate::{Backend, Store, StoreError};

/// The encrypted copy inside a backup directory.
pub const BACKUP_FILE: &str = "aidant-backup.bin";
/// The manifest beside it.
pub const MANIFEST_FILE: &str = "manifest.json";
/// The manifest format this version writes and reads.
pub const MANIFEST_FORMAT: u32 = 1;

const MAGIC: &[u8; 8] = b"AIDANTB1";
const CHUNK: usize = 1 << 20;
const TAG_LEN: usize = 16;
/// XChaCha20's 24-byte nonce less STREAM's 4-byte counter and 1-byte last flag.
const NONCE_PREFIX_LEN: usize = 19;
const DATA_KEY_BINDING: &str = "aidant backup data key";
/// A wrapped data key is about a hundred bytes; anything far larger is not one.
const MAX_WRAPPED_KEY: usize = 4096;

/// Why a backup could not be written or opened.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("this is not an Aidant backup (or is of a format this version does not read)")]
    NotABackup,
    #[error("the backup was encrypted under master key {0}, which is neither the current key nor a retired one")]
    UnknownKey(String),
    #[error("the backup is damaged, cut short or altered (it fails to decrypt)")]
    Damaged,
}

/// What a backup holds, written beside it as `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: u32,
    /// The version of Aidant that wrote it.
    pub aidant_version: String,
    /// When the copy was taken (RFC 3339, UTC).
    pub created_at: String,
    /// `sqlite` or `postgres`: a backup restores into the same backend.
    pub backend: String,
    /// Migrations applied to the copied database.
    pub migrations: i64,
    /// The id of the master key that encrypts it.
    pub master_key_id: String,
    /// Reports in the copy.
    pub reports: i64,
    /// The audit chain's entry the copy reaches, at least.
    pub audit_sequence: i64,
    pub audit_hash: String,
    pub files: Vec<ManifestFile>,
}

/// One file of a backup: its name, size and SHA-256 (hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestFile {
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
}

/// A PostgreSQL snapshot held open for `pg_dump --snapshot`, with what it holds.
pub struct ExportedSnapshot {
    transaction: sqlx::Transaction<'static, sqlx::Any>,
    /// The id to give `pg_dump --snapshot`.
    pub id: String,
    pub reports: i64,
    pub audit_sequence: i64,
    pub audit_hash: String,
}

impl ExportedSnapshot {
    /// Ends the transaction once the dump has its copy.
    pub async fn release(self) -> Result<(), StoreError> {
        self.transaction.rollback().await?;
        Ok(())
    }
}

/// A writer that counts and hashes what passes through it.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        Self { inner, hasher: Sha256::new(), bytes: 0 }
    }

    /// The bytes written and their SHA-256 in hex, with the inner writer.
    pub fn finish(self) -> (W, u64, String) {
        (self.inner, self.bytes, hex::encode(self.hasher.finalize()))
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buffer: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(buffer)?;
        self.hasher.update(&buffer[..written]);
        self.bytes += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The size and SHA-256 (hex) of a file.
pub fn hash_file(path: &Path) -> io::Result<(u64, String)> {
    let mut file = std::fs::File::open(path)?;
    let mut writer = HashingWriter::new(io::sink());
    io::copy(&mut file, &mut writer)?;
    let (_, bytes, sha256) = writer.finish();
    Ok((bytes, sha256))
}

/// Reads until `buffer` is full or the input ends; returns how much was read.
fn read_full(input: &mut impl Read, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match input.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(count) => filled += count,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(filled)
}

/// Encrypts `input` to `output` under the keyring's current key. Every
/// chunk but the last is full, so a copy cut at a chunk's end fails to open.
pub fn encrypt_stream(keyring: &Keyring, mut input: impl Read, mut output: impl Write) -> Result<(), BackupError> {
    let mut data_key = [0u8; 32];
    rand::rng().fill_bytes(&mut data_key);
    let mut nonce_prefix = [0u8; NONCE_PREFIX_LEN];
    rand::rng().fill_bytes(&mut nonce_prefix);
    let wrapped = keyring.seal(&data_key, DATA_KEY_BINDING);
    output.write_all(MAGIC)?;
    output.write_all(&u32::try_from(wrapped.len()).map_err(|_| BackupError::NotABackup)?.to_be_bytes())?;
    output.write_all(&wrapped)?;
    output.write_all(&nonce_prefix)?;
    let mut encryptor = EncryptorBE32::from_aead(XChaCha20Poly1305::new(&data_key.into()), nonce_prefix.as_ref().into());
    let mut buffer = vec![0u8; CHUNK];
    loop {
        let count = read_full(&mut input, &mut buffer)?;
        if count < CHUNK {
            let last = encryptor.encrypt_last(&buffer[..count]).map_err(|_| BackupError::Damaged)?;
            output.write_all(&last)?;
            break;
        }
        let sealed = encryptor.encrypt_next(buffer.as_slice()).map_err(|_| BackupError::Damaged)?;
        output.write_all(&sealed)?;
    }
    output.flush()?;
    Ok(())
}

/// The id (hex) of the master key a backup file names, without opening it.
pub fn backup_key_id(mut input: impl Read) -> Result<String, BackupError> {
    let wrapped = read_header(&mut input)?;
    sealed_key_id(&wrapped).map(hex::encode).ok_or(BackupError::NotABackup)
}

fn read_header(input: &mut impl Read) -> Result<Vec<u8>, BackupError> {
    let mut magic = [0u8; 8];
    if read_full(input, &mut magic)? != magic.len() || &magic != MAGIC {
        return Err(BackupError::NotABackup);
    }
    let mut length = [0u8; 4];
    if read_full(input, &mut length)? != length.len() {
        return Err(BackupError::NotABackup);
    }
    let length = u32::from_be_bytes(length) as usize;
    if length > MAX_WRAPPED_KEY {
        return Err(BackupError::NotABackup);
    }
    let mut wrapped = vec![0u8; length];
    if read_full(input, &mut wrapped)? != length {
        return Err(BackupError::NotABackup);
    }
    Ok(wrapped)
}

/// Decrypts a backup made by `encrypt_stream` to `output`, with whichever of
/// the keyring's keys it names. Fails on any change, reordering or cut.
pub fn decrypt_stream(keyring: &Keyring, mut input: impl Read, mut output: impl Write) -> Result<(), BackupError> {
    let wrapped = read_header(&mut input)?;
    let data_key = keyring.open(&wrapped, DATA_KEY_BINDING).map_err(|error| match error {
        CryptoError::WrongMasterKey(key_id) => BackupError::UnknownKey(key_id),
        _ => BackupError::Damaged,
    })?;
    let data_key: [u8; 32] = data_key.try_into().map_err(|_| BackupError::Damaged)?;
    let mut nonce_prefix = [0u8; NONCE_PREFIX_LEN];
    if read_full(&mut input, &mut nonce_prefix)? != NONCE_PREFIX_LEN {
        return Err(BackupError::Damaged);
    }
    let mut decryptor = DecryptorBE32::from_aead(XChaCha20Poly1305::new(&data_key.into()), nonce_prefix.as_ref().into());
    let mut buffer = vec![0u8; CHUNK + TAG_LEN];
    loop {
        let count = read_full(&mut input, &mut buffer)?;
        if count < CHUNK + TAG_LEN {
            let last = decryptor.decrypt_last(&buffer[..count]).map_err(|_| BackupError::Damaged)?;
            output.write_all(&last)?;
            break;
        }
        let plain = decryptor.decrypt_next(buffer.as_slice()).map_err(|_| BackupError::Damaged)?;
        output.write_all(&plain)?;
    }
    output.flush()?;
    Ok(())
}

impl Store {
    /// Writes a consistent copy of this SQLite database to `path` (which must
    /// not exist) with `VACUUM INTO`: one read transaction, so the copy is
    /// the database at one moment while writers carry on.
    pub async fn copy_sqlite_into(&self, path: &Path) -> Result<(), StoreError> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Unsupported("a SQLite copy of a PostgreSQL database"));
        }
        let target = path.to_str().ok_or(StoreError::Unsupported("a backup path that is not UTF-8"))?;
        sqlx::query("VACUUM INTO $1").bind(target).execute(&self.pool).await?;
        Ok(())
    }

    /// Opens a read-only PostgreSQL transaction and exports its snapshot, so
    /// that `pg_dump --snapshot` copies exactly what it counted: its reports
    /// and its audit chain's last entry. Keep it until the dump has finished.
    pub async fn export_snapshot(&self) -> Result<ExportedSnapshot, StoreError> {
        if self.backend != Backend::Postgres {
            return Err(StoreError::Unsupported("exporting a snapshot of a SQLite database"));
        }
        let mut transaction = self.pool.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *transaction).await?;
        let id: String = sqlx::query_scalar("SELECT pg_export_snapshot()").fetch_one(&mut *transaction).await?;
        let reports: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM reports").fetch_one(&mut *transaction).await?;
        let head: Option<(i64, String)> =
            sqlx::query_as("SELECT sequence, hash FROM audit_log ORDER BY sequence DESC LIMIT 1").fetch_optional(&mut *transaction).await?;
        let (audit_sequence, audit_hash) = head.unwrap_or_else(|| (0, hex::encode(aidant_core::audit::GENESIS_HASH)));
        Ok(ExportedSnapshot { transaction, id, reports, audit_sequence, audit_hash })
    }

    /// Moves everything in SQLite's write-ahead log into the database file
    /// and empties the log, waiting out a checkpoint already running, so the
    /// file alone holds the database (before it is renamed into place).
    pub async fn checkpoint_wal(&self) -> Result<(), StoreError> {
        if self.backend != Backend::Sqlite {
            return Ok(());
        }
        for _ in 0..100 {
            let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)").fetch_one(&self.write_pool).await?;
            if busy == 0 {
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        Err(StoreError::Unsupported("a write-ahead log that could not be checkpointed (another process has the database open)"))
    }

    /// How many migrations this database has had applied.
    pub async fn migration_count(&self) -> Result<i64, StoreError> {
        Ok(self.applied_migrations().await? as i64)
    }

    /// Empties a PostgreSQL database a restore filled, after its check failed.
    pub async fn drop_public_schema(&self) -> Result<(), StoreError> {
        if self.backend != Backend::Postgres {
            return Err(StoreError::Unsupported("dropping the schema of a SQLite database"));
        }
        sqlx::query("DROP SCHEMA public CASCADE").execute(&self.pool).await?;
        sqlx::query("CREATE SCHEMA public").execute(&self.pool).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::MasterKey;

    fn round_trip(keyring: &Keyring, plain: &[u8]) -> Vec<u8> {
        let mut sealed = Vec::new();
        encrypt_stream(keyring, plain, &mut sealed).unwrap();
        let mut opened = Vec::new();
        decrypt_stream(keyring, sealed.as_slice(), &mut opened).unwrap();
        opened
    }

    #[test]
    fn every_size_round_trips_including_exact_chunks() {
        let keyring = Keyring::new(MasterKey::generate(), Vec::new());
        for size in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 2 * CHUNK + 17] {
            let plain: Vec<u8> = (0..size).map(|index| (index % 251) as u8).collect();
            assert_eq!(round_trip(&keyring, &plain), plain, "{size} bytes");
        }
    }

    #[test]
    fn a_copy_cut_altered_or_under_another_key_does_not_open() {
        let key = MasterKey::generate();
        let keyring = Keyring::new(key.clone(), Vec::new());
        let plain: Vec<u8> = (0..(2 * CHUNK + 100)).map(|index| (index % 7) as u8).collect();
        let mut sealed = Vec::new();
        encrypt_stream(&keyring, plain.as_slice(), &mut sealed).unwrap();
        assert!(!sealed.windows(64).any(|window| window == &plain[..64]), "no plaintext in the copy");
        assert_eq!(backup_key_id(sealed.as_slice()).unwrap(), hex::encode(key.key_id()));

        let open = |bytes: &[u8], keyring: &Keyring| decrypt_stream(keyring, bytes, io::sink());
        let mut altered = sealed.clone();
        let middle = altered.len() / 2;
        altered[middle] ^= 1;
        assert!(matches!(open(&altered, &keyring), Err(BackupError::Damaged)));
        let wrapped_len = u32::from_be_bytes(sealed[MAGIC.len()..MAGIC.len() + 4].try_into().unwrap()) as usize;
        let header = MAGIC.len() + 4 + wrapped_len + NONCE_PREFIX_LEN;
        assert_eq!(sealed.len(), header + 2 * (CHUNK + TAG_LEN) + 100 + TAG_LEN);
        let cut_at_a_chunk = &sealed[..header + 2 * (CHUNK + TAG_LEN)];
        assert!(matches!(open(cut_at_a_chunk, &keyring), Err(BackupError::Damaged)), "a copy cut at a chunk's end");
        assert!(matches!(open(&sealed[..sealed.len() - 1], &keyring), Err(BackupError::Damaged)));
        let other = Keyring::new(MasterKey::generate(), Vec::new());
        assert!(matches!(open(&sealed, &other), Err(BackupError::UnknownKey(id)) if id == hex::encode(key.key_id())));
        assert!(matches!(open(b"not a backup at all", &keyring), Err(BackupError::NotABackup)));
        // After a rotation the old key, kept as retired, still opens it.
        let rotated = Keyring::new(MasterKey::generate(), vec![key]);
        assert_eq!(round_trip(&rotated, b"after rotation"), b"after rotation");
        assert!(open(&sealed, &rotated).is_ok());
    }
}
