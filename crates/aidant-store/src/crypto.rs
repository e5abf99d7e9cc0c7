//! Field encryption for identities that could hurt someone if exposed:
//! reporters' contact details now, victims' and sources' identities later.
//!
//! Each sealed value gets its own random data key. The data key is wrapped
//! (encrypted) by the master key, which lives outside the database (a key
//! file or an environment variable). Both layers use XChaCha20-Poly1305, whose
//! 192-bit nonces are safe to draw at random. The associated data binds a
//! ciphertext to its record and field, so a ciphertext copied into another
//! row fails to open.
//!
//! A sealed value names the master key that wrapped its data key by an
//! 8-byte key id in its header, and the wrapped key's associated data is that
//! key id alone. So rotating the master key only rewraps each data key: the
//! ciphertext and its binding are untouched, and rotation needs to know
//! nothing about which record a value belongs to. A `Keyring` holds the
//! current key (which seals) and retired keys (which still open), so values
//! not yet rewrapped stay readable during and after an interrupted rotation.

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

/// The key id in a sealed value's header, or `None` if the value is too
/// short or of an unknown format.
pub fn sealed_key_id(sealed: &[u8]) -> Option<[u8; KEY_ID_LEN]> {
    if sealed.len() < HEADER_LEN + TAG_LEN || sealed[0] != SEALED_VERSION {
        return None;
    }
    sealed[1..1 + KEY_ID_LEN].try_into().ok()
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
        let data_key = self.unwrap_data_key(sealed)?;
        let (data_nonce, ciphertext) = sealed[HEADER_LEN - NONCE_LEN..].split_at(NONCE_LEN);
        XChaCha20Poly1305::new(&data_key.into())
            .decrypt(XNonce::from_slice(data_nonce), Payload { msg: ciphertext, aad: binding.as_bytes() })
            .map_err(|_| CryptoError::Damaged)
    }

    /// The data key of a value sealed under this master key.
    fn unwrap_data_key(&self, sealed: &[u8]) -> Result<[u8; KEY_LEN], CryptoError> {
        let key_id = sealed_key_id(sealed).ok_or(CryptoError::Damaged)?;
        if key_id != self.key_id() {
            return Err(CryptoError::WrongMasterKey(hex::encode(key_id)));
        }
        let rest = &sealed[1 + KEY_ID_LEN..];
        let (wrap_nonce, rest) = rest.split_at(NONCE_LEN);
        let wrapped_key = &rest[..KEY_LEN + TAG_LEN];
        let data_key = XChaCha20Poly1305::new(&self.bytes.into())
            .decrypt(XNonce::from_slice(wrap_nonce), Payload { msg: wrapped_key, aad: &key_id })
            .map_err(|_| CryptoError::Damaged)?;
        data_key.try_into().map_err(|_| CryptoError::Damaged)
    }

    /// The same value with its data key wrapped by this key instead: a new
    /// header, the data nonce and ciphertext copied unchanged.
    fn wrap_header(&self, data_key: &[u8; KEY_LEN], sealed: &[u8]) -> Vec<u8> {
        let wrap_nonce = random_nonce();
        let key_id = self.key_id();
        let wrapped_key = XChaCha20Poly1305::new(&self.bytes.into())
            .encrypt(XNonce::from_slice(&wrap_nonce), Payload { msg: data_key, aad: &key_id })
            .expect("encrypting 32 bytes cannot fail");
        let mut rewrapped = Vec::with_capacity(sealed.len());
        rewrapped.push(SEALED_VERSION);
        rewrapped.extend_from_slice(&key_id);
        rewrapped.extend_from_slice(&wrap_nonce);
        rewrapped.extend_from_slice(&wrapped_key);
        rewrapped.extend_from_slice(&sealed[HEADER_LEN - NONCE_LEN..]);
        rewrapped
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "MasterKey([redacted], id {})", hex::encode(self.key_id()))
    }
}

/// The master keys a server knows: the current one, which seals every new
/// value, and retired ones, which only open values not yet rewrapped. The key
/// id in each sealed value chooses the key. `Debug` never prints a key.
#[derive(Clone)]
pub struct Keyring {
    current: MasterKey,
    retired: Vec<MasterKey>,
}

/// What rewrapping did to one value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rewrapped {
    /// It was already under the current key; nothing to write.
    AlreadyCurrent,
    /// The value with its data key now wrapped by the current key.
    Rewrapped(Vec<u8>),
}

impl Keyring {
    /// A keyring that seals with `current` and also opens values sealed under
    /// any of `retired` (duplicates of the current key are ignored).
    pub fn new(current: MasterKey, retired: Vec<MasterKey>) -> Self {
        let mut unique: Vec<MasterKey> = Vec::with_capacity(retired.len());
        for key in retired {
            if key.key_id() != current.key_id() && !unique.iter().any(|known| known.key_id() == key.key_id()) {
                unique.push(key);
            }
        }
        Self { current, retired: unique }
    }

    pub fn current(&self) -> &MasterKey {
        &self.current
    }

    /// The ids of the retired keys, for status reports.
    pub fn retired_key_ids(&self) -> Vec<[u8; KEY_ID_LEN]> {
        self.retired.iter().map(MasterKey::key_id).collect()
    }

    /// The key whose id a sealed value names, if this keyring holds it.
    fn key_for(&self, sealed: &[u8]) -> Result<&MasterKey, CryptoError> {
        let key_id = sealed_key_id(sealed).ok_or(CryptoError::Damaged)?;
        std::iter::once(&self.current).chain(&self.retired).find(|key| key.key_id() == key_id).ok_or_else(|| CryptoError::WrongMasterKey(hex::encode(key_id)))
    }

    /// Seals with the current key.
    pub fn seal(&self, plaintext: &[u8], binding: &str) -> Vec<u8> {
        self.current.seal(plaintext, binding)
    }

    /// Opens a value sealed under the current key or any retired key.
    pub fn open(&self, sealed: &[u8], binding: &str) -> Result<Vec<u8>, CryptoError> {
        self.key_for(sealed)?.open(sealed, binding)
    }

    /// Checks that a value's data key unwraps, without its binding (which
    /// only the record's owner knows): the wrap layer is intact and its key
    /// is on this keyring.
    pub fn check_wrap(&self, sealed: &[u8]) -> Result<(), CryptoError> {
        self.key_for(sealed)?.unwrap_data_key(sealed).map(|_| ())
    }

    /// Rewraps a value's data key under the current key. Only the header
    /// changes, so the record binding is not needed.
    pub fn rewrap(&self, sealed: &[u8]) -> Result<Rewrapped, CryptoError> {
        let key = self.key_for(sealed)?;
        let data_key = key.unwrap_data_key(sealed)?;
        if key.key_id() == self.current.key_id() {
            return Ok(Rewrapped::AlreadyCurrent);
        }
        Ok(Rewrapped::Rewrapped(self.current.wrap_header(&data_key, sealed)))
    }
}

impl From<MasterKey> for Keyring {
    fn from(current: MasterKey) -> Self {
        Self::new(current, Vec::new())
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let retired: Vec<String> = self.retired_key_ids().iter().map(hex::encode).collect();
        write!(formatter, "Keyring([redacted], current {}, retired [{}])", hex::encode(self.current.key_id()), retired.join(", "))
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
    fn a_keyring_opens_retired_values_and_rewraps_only_the_header() {
        let old = MasterKey::generate();
        let sealed = old.seal(b"secret", "report:1:contact");
        let new = MasterKey::generate();
        let keyring = Keyring::new(new.clone(), vec![old.clone()]);
        assert_eq!(keyring.open(&sealed, "report:1:contact").unwrap(), b"secret");
        let Rewrapped::Rewrapped(rewrapped) = keyring.rewrap(&sealed).unwrap() else { panic!("a retired value is rewrapped") };
        assert_eq!(sealed_key_id(&rewrapped), Some(new.key_id()));
        assert_eq!(rewrapped.len(), sealed.len());
        assert_eq!(rewrapped[HEADER_LEN - NONCE_LEN..], sealed[HEADER_LEN - NONCE_LEN..], "data nonce and ciphertext are untouched");
        assert_eq!(new.open(&rewrapped, "report:1:contact").unwrap(), b"secret");
        assert!(matches!(new.open(&rewrapped, "report:2:contact"), Err(CryptoError::Damaged)), "the binding still holds");
        assert_eq!(keyring.rewrap(&rewrapped).unwrap(), Rewrapped::AlreadyCurrent);
        keyring.check_wrap(&rewrapped).unwrap();
    }

    #[test]
    fn a_keyring_names_an_unknown_key() {
        let stranger = MasterKey::generate();
        let sealed = stranger.seal(b"secret", "draft:1:answers");
        let keyring = Keyring::new(MasterKey::generate(), vec![MasterKey::generate()]);
        let expected = hex::encode(stranger.key_id());
        assert!(matches!(keyring.open(&sealed, "draft:1:answers"), Err(CryptoError::WrongMasterKey(id)) if id == expected));
        assert!(matches!(keyring.rewrap(&sealed), Err(CryptoError::WrongMasterKey(_))));
        assert!(matches!(keyring.rewrap(b"short"), Err(CryptoError::Damaged)));
        let debug = format!("{keyring:?}");
        assert!(!debug.contains(&keyring.current().to_hex()), "{debug}");
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
