//! Signed audit checkpoints: the audit chain's head at one moment, signed
//! with an Ed25519 key kept outside the database.
//!
//! The hash chain shows any change that leaves later hashes alone, but
//! someone who can write to the database can also recompute every hash after
//! the entry they changed and rewrite the head row. A checkpoint held
//! elsewhere (a partner's mailbox, a write-once store) records the hash the
//! entry at a sequence had; whoever keeps it can later prove that the log up
//! to that entry is the log that was signed. The signing key is not in the
//! database, so a rewritten log cannot be given a matching new checkpoint by
//! someone who only has the database.

use std::fmt;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use rand::RngCore;
use sha2::{Digest, Sha256};

const SIGNED_STATEMENT_PREFIX: &[u8] = b"aidant audit checkpoint v1\0";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("an audit signing key must be exactly 32 bytes (64 hexadecimal characters)")]
    BadSigningKey,
    #[error("an audit public key must be exactly 32 bytes (64 hexadecimal characters) and a valid Ed25519 key")]
    BadPublicKey,
    #[error("the checkpoint's signature is not 64 bytes of hexadecimal")]
    BadSignature,
    #[error("the checkpoint was signed by key {checkpoint_key_id}, not by the given key {given_key_id}")]
    OtherKey { checkpoint_key_id: String, given_key_id: String },
    #[error("the checkpoint's signature does not match its contents: it was altered or forged")]
    Forged,
}

/// The key that signs checkpoints. `Debug` never prints it.
#[derive(Clone)]
pub struct AuditSigningKey {
    key: SigningKey,
}

impl AuditSigningKey {
    /// A fresh random key.
    pub fn generate() -> Self {
        let mut seed = [0; 32];
        rand::rng().fill_bytes(&mut seed);
        Self { key: SigningKey::from_bytes(&seed) }
    }

    /// Parses the 64-hex-character form kept in the signing key file.
    pub fn from_hex(text: &str) -> Result<Self, CheckpointError> {
        let decoded = hex::decode(text.trim()).map_err(|_| CheckpointError::BadSigningKey)?;
        let seed: [u8; 32] = decoded.try_into().map_err(|_| CheckpointError::BadSigningKey)?;
        Ok(Self { key: SigningKey::from_bytes(&seed) })
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.key.to_bytes())
    }

    pub fn public_key(&self) -> AuditPublicKey {
        AuditPublicKey { key: self.key.verifying_key() }
    }

    /// Signs a checkpoint; its `key_id` must be this key's (use
    /// `Checkpoint::new`, which takes it from the key).
    pub fn sign(&self, checkpoint: Checkpoint) -> SignedCheckpoint {
        let signature = self.key.sign(&checkpoint.signed_bytes());
        SignedCheckpoint { checkpoint, signature: hex::encode(signature.to_bytes()) }
    }
}

impl fmt::Debug for AuditSigningKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "AuditSigningKey([redacted], id {})", self.public_key().key_id())
    }
}

/// The key that verifies checkpoints; safe to publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditPublicKey {
    key: VerifyingKey,
}

impl AuditPublicKey {
    pub fn from_hex(text: &str) -> Result<Self, CheckpointError> {
        let decoded = hex::decode(text.trim()).map_err(|_| CheckpointError::BadPublicKey)?;
        let bytes: [u8; 32] = decoded.try_into().map_err(|_| CheckpointError::BadPublicKey)?;
        VerifyingKey::from_bytes(&bytes).map(|key| Self { key }).map_err(|_| CheckpointError::BadPublicKey)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.key.to_bytes())
    }

    /// A short name for the key: the first 8 bytes of
    /// SHA-256("aidant audit signing key id" || public key), in hex.
    pub fn key_id(&self) -> String {
        let digest = Sha256::new().chain_update(b"aidant audit signing key id").chain_update(self.key.to_bytes()).finalize();
        hex::encode(&digest[..8])
    }
}

/// What a checkpoint states: the chain's head when it was taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The sequence of the newest entry (0 for an empty log).
    pub sequence: i64,
    /// That entry's hash, in hex.
    pub hash: String,
    /// When the checkpoint was taken, RFC 3339 in UTC.
    pub created_at: String,
    /// The database backend the log was read from (`sqlite` or `postgres`).
    pub backend: String,
    /// The id of the key that signs it.
    pub key_id: String,
}

impl Checkpoint {
    pub fn new(sequence: i64, hash: String, created_at: String, backend: &str, signing_key: &AuditSigningKey) -> Self {
        Self { sequence, hash, created_at, backend: backend.to_owned(), key_id: signing_key.public_key().key_id() }
    }

    /// The exact bytes signed: a fixed prefix, then every field length-prefixed
    /// so that no choice of field contents can make two statements alike.
    pub fn signed_bytes(&self) -> Vec<u8> {
        let mut bytes = SIGNED_STATEMENT_PREFIX.to_vec();
        bytes.extend_from_slice(&self.sequence.to_be_bytes());
        for field in [&self.hash, &self.created_at, &self.backend, &self.key_id] {
            bytes.extend_from_slice(&(field.len() as u64).to_be_bytes());
            bytes.extend_from_slice(field.as_bytes());
        }
        bytes
    }
}

/// A checkpoint with its signature (hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    pub checkpoint: Checkpoint,
    pub signature: String,
}

impl SignedCheckpoint {
    /// Checks that `public_key` signed exactly this checkpoint.
    pub fn verify(&self, public_key: &AuditPublicKey) -> Result<(), CheckpointError> {
        let given_key_id = public_key.key_id();
        if self.checkpoint.key_id != given_key_id {
            return Err(CheckpointError::OtherKey { checkpoint_key_id: self.checkpoint.key_id.clone(), given_key_id });
        }
        let bytes: [u8; 64] = hex::decode(self.signature.trim()).ok().and_then(|bytes| bytes.try_into().ok()).ok_or(CheckpointError::BadSignature)?;
        public_key.key.verify_strict(&self.checkpoint.signed_bytes(), &Signature::from_bytes(&bytes)).map_err(|_| CheckpointError::Forged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checkpoint(key: &AuditSigningKey) -> Checkpoint {
        Checkpoint::new(42, "ab".repeat(32), "2026-11-29T08:00:00Z".into(), "sqlite", key)
    }

    #[test]
    fn a_signed_checkpoint_verifies_with_its_key_only() {
        let key = AuditSigningKey::generate();
        let signed = key.sign(checkpoint(&key));
        signed.verify(&key.public_key()).unwrap();
        let public = AuditPublicKey::from_hex(&key.public_key().to_hex()).unwrap();
        signed.verify(&public).unwrap();
        let other = AuditSigningKey::generate();
        assert!(matches!(signed.verify(&other.public_key()), Err(CheckpointError::OtherKey { .. })));
    }

    #[test]
    fn any_change_to_a_checkpoint_is_forgery() {
        let key = AuditSigningKey::generate();
        let signed = key.sign(checkpoint(&key));
        let mut later = signed.clone();
        later.checkpoint.sequence = 43;
        assert_eq!(later.verify(&key.public_key()), Err(CheckpointError::Forged));
        let mut other_hash = signed.clone();
        other_hash.checkpoint.hash = "cd".repeat(32);
        assert_eq!(other_hash.verify(&key.public_key()), Err(CheckpointError::Forged));
        let mut flipped = signed.clone();
        flipped.signature.replace_range(0..2, if &signed.signature[0..2] == "00" { "01" } else { "00" });
        assert_eq!(flipped.verify(&key.public_key()), Err(CheckpointError::Forged));
        let mut short = signed;
        short.signature.truncate(10);
        assert_eq!(short.verify(&key.public_key()), Err(CheckpointError::BadSignature));
    }

    #[test]
    fn keys_round_trip_and_debug_is_redacted() {
        let key = AuditSigningKey::generate();
        let again = AuditSigningKey::from_hex(&key.to_hex()).unwrap();
        assert_eq!(again.public_key(), key.public_key());
        assert!(!format!("{key:?}").contains(&key.to_hex()));
        assert!(AuditSigningKey::from_hex("abcd").is_err());
        assert!(AuditPublicKey::from_hex("zz").is_err());
        assert_eq!(key.public_key().key_id().len(), 16);
    }
}
