//! Field encryption for identities that could hurt someone if exposed:
//! reporters' contact details now, victims' and sources' identities later.
//!
//! Each sealed value gets its own random data key. The data key is wrapped
//! (encrypted) by the master key, which lives outside the database (a key
//! file or an environment variable). Both layers use XChaCha20-Poly1305, whose
//! 192-bit nonces are safe to draw at random. The associated data binds a
//! ciphertext to its record and field, so a ciphertext copied into another
//! row fails to open.

use std::fmt;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use sha2_digest::key_id;

/// Format version of a sealed value, stored as its first byte.
const SEALED_VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
const KEY_LEN: usize = 32;
const TAG_LEN: usize = 16;
const KEY_ID_LEN: usize = 8;
const HEADER_LEN: usize = 1 + KEY_ID_LEN + NONCE_LEN + KEY_LEN + TAG_LEN + NONCE_LEN;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("a master key must be exactly 32 bytes (64 hexadecimal characters)")]
    BadMasterKey,
    #[error("the sealed value was made with a different master key (key id {0})")]
    WrongMasterKey(String),
    #[error("the sealed value is damaged or belongs to another record")]
    Damaged,
}

/// The key that wraps every data key. `Debug` never prints it.
#[derive(Clone)]
pub struct MasterKey {
    bytes: [u8; KEY_LEN],
}

impl MasterKey {
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self { bytes }
    }

    /// Parses the 64-hex-character form kept in key files and `AIDANT_MASTER_KEY`.
    pub fn from_hex(text: &str) -> Result<Self, CryptoError> {
        let decoded = hex::decode(text.trim()).map_err(|_| CryptoError::BadMasterKey)?;
        let bytes: [u8; KEY_LEN] = decoded.try_into().map_err(|_| CryptoError::BadMasterKey)?;
        Ok(Self { bytes })
    }

    /// A fresh random key, for `aidant demo` and first start-up.
    pub fn generate() -> Self {
        let mut bytes = [0; KEY_LEN];
        rand::rng().fill_bytes(&mut bytes);
        Self { bytes }
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.bytes)
    }

    /// A short public fingerprint naming which master key sealed a value.
    pub fn key_id(&self) -> [u8; KEY_ID_LEN] {
        key_id(&self.bytes)
    }

    /// Seals `plaintext` for one field of one record.
    pub fn seal(&self, plaintext: &[u8], binding: &str) -> Vec<u8> {
        let mut data_key = [0; KEY_LEN];
        rand::rng().fill_bytes(&mut data_key);
        let wrap_nonce = random_nonce();
        let data_nonce = random_nonce();
        let key_id = self.key_id();

        let wrapped_key = XChaCha20Poly1305::new(&self.bytes.into())
            .encrypt(XNonce::from_slice(&wrap_nonce), Payload { msg: &data_key, aad: &key_id })
            .expect("encrypting 32 bytes cannot fail");
        let ciphertext = XChaCha20Poly1305::new(&data_key.into())
            .encrypt(XNonce::from_slice(&data_nonce), Payload { msg: plaintext, aad: binding.as_bytes() })
            .expect("encryption of an in-memory buffer cannot fail");

        let mut sealed = Vec::with_capacity(HEADER_LEN + ciphertext.len());
        sealed.push(SEALED_VERSION);
        sealed.extend_from_slice(&key_id);
        sealed.extend_from_slice(&wrap_nonce);
        sealed.extend_from_slice(&wrapped_key);
        sealed.extend_from_slice(&data_nonce);
        sealed.extend_from_slice(&ciphertext);
        sealed
    }

    /// Opens a value sealed by `seal` with the same binding.
    pub fn open(&self, sealed: &[u8], binding: &str) -> Result<Vec<u8>, CryptoError> {
        if sealed.len() < HEADER_LEN + TAG_LEN || sealed[0] != SEALED_VERSION {
            return Err(CryptoError::Damaged);
        }
        let (key_id, rest) = sealed[1..].split_at(KEY_ID_LEN);
        if key_id != self.key_id() {
            return Err(CryptoError::WrongMasterKey(hex::encode(key_id)));
        }
        let (wrap_nonce, rest) = rest.split_at(NONCE_LEN);
        let (wrapped_key, rest) = rest.split_at(KEY_LEN + TAG_LEN);
        let (data_nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let data_key = XChaCha20Poly1305::new(&self.bytes.into())
            .decrypt(XNonce::from_slice(wrap_nonce), Payload { msg: wrapped_key, aad: key_id })
            .map_err(|_| CryptoError::Damaged)?;
        let data_key: [u8; KEY_LEN] = data_key.try_into().map_err(|_| CryptoError::Damaged)?;
        XChaCha20Poly1305::new(&data_key.into())
            .decrypt(XNonce::from_slice(data_nonce), Payload { msg: ciphertext, aad: binding.as_bytes() })
            .map_err(|_| CryptoError::Damaged)
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "MasterKey([redacted], id {})", hex::encode(self.key_id()))
    }
}

fn random_nonce() -> [u8; NONCE_LEN] {
    let mut nonce = [0; NONCE_LEN];
    rand::rng().fill_bytes(&mut nonce);
    nonce
}

mod sha2_digest {
    use sha2::{Digest, Sha256};

    /// The first 8 bytes of SHA-256("aidant master key id" || key).
    pub fn key_id(key: &[u8]) -> [u8; 8] {
        let digest = Sha256::new().chain_update(b"aidant master key id").chain_update(key).finalize();
        let mut id = [0; 8];
        id.copy_from_slice(&digest[..8]);
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens() {
        let key = MasterKey::generate();
        let sealed = key.seal("07700 900982".as_bytes(), "report:1:contact");
        assert!(!sealed.windows(5).any(|window| window == b"07700"));
        assert_eq!(key.open(&sealed, "report:1:contact").unwrap(), b"07700 900982");
    }

    #[test]
    fn refuses_another_record_binding_or_key_or_damage() {
        let key = MasterKey::generate();
        let sealed = key.seal(b"secret", "report:1:contact");
        assert!(matches!(key.open(&sealed, "report:2:contact"), Err(CryptoError::Damaged)));
        assert!(matches!(MasterKey::generate().open(&sealed, "report:1:contact"), Err(CryptoError::WrongMasterKey(_))));
        let mut damaged = sealed.clone();
        *damaged.last_mut().unwrap() ^= 1;
        assert!(matches!(key.open(&damaged, "report:1:contact"), Err(CryptoError::Damaged)));
        assert!(matches!(key.open(&sealed[..10], "report:1:contact"), Err(CryptoError::Damaged)));
    }

    #[test]
    fn hex_round_trip_and_redacted_debug() {
        let key = MasterKey::generate();
        let again = MasterKey::from_hex(&key.to_hex()).unwrap();
        assert_eq!(again.key_id(), key.key_id());
        assert!(!format!("{key:?}").contains(&key.to_hex()));
        assert!(MasterKey::from_hex("abcd").is_err());
    }
}
