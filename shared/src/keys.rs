//! Ed25519 keys, their short ids, and the text files they are kept in.
//!
//! A key id ([`Kid`]) is the first 4 bytes of SHA-256 of the 32-byte public key, so it can be
//! recomputed from the key and never needs to be trusted on its own. Secret keys are only ever
//! written sealed: Argon2id turns the passphrase into a key for XChaCha20-Poly1305, and the
//! file's role and key id are bound to the ciphertext as associated data. This module does no
//! I/O: callers read and write the text, and check file permissions with
//! [`check_secret_file_mode`].
//!
//! New files are sealed with Argon2id at 64 MiB, 3 passes ([`ARGON2_M_KIB`], [`ARGON2_T`]),
//! under a passphrase of at least [`MIN_PASSPHRASE_CHARS`] characters. The parameters are
//! stored in each file, so files sealed with the earlier, cheaper ones still open. Every
//! copy of a seed, a wrapping key and Argon2's working memory is zeroed when dropped.

use std::fmt;

use argon2::{Algorithm, Argon2, Params, Version};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use ed25519_dalek::Signer as _;
#[cfg(feature = "keygen")]
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::messages::write_bilingual;
use crate::verdict::Lang;

/// Errors reading, unsealing or using keys.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    WrongPassphrase,
    /// The file's mode bits.
    TooOpen(u32),
    Malformed(String),
    BadPublicKey,
    KidMismatch {
        stated: String,
        actual: String,
    },
    EmptyPassphrase,
    ShortPassphrase {
        min: usize,
    },
    Kdf(String),
}

impl KeyError {
    /// The text in `lang`, without the technical detail.
    pub fn message(&self, lang: Lang) -> String {
        use KeyError as E;
        match self {
            E::WrongPassphrase => msg!(lang, error.key.wrong_passphrase).into(),
            E::TooOpen(mode) => msg!(lang, error.key.too_open, mode = format!("{mode:o}")),
            E::Malformed(_) => msg!(lang, error.key.malformed).into(),
            E::BadPublicKey => msg!(lang, error.key.bad_public_key).into(),
            E::KidMismatch { stated, actual } => msg!(
                lang,
                error.key.kid_mismatch,
                actual = actual,
                stated = stated
            ),
            E::EmptyPassphrase => msg!(lang, error.key.empty_passphrase).into(),
            E::ShortPassphrase { min } => msg!(lang, error.key.short_passphrase, min = min),
            E::Kdf(_) => msg!(lang, error.key.kdf).into(),
        }
    }
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let detail: Option<&dyn std::fmt::Display> = match self {
            KeyError::Malformed(d) | KeyError::Kdf(d) => Some(d),
            _ => None,
        };
        write_bilingual(f, |lang| self.message(lang), detail)
    }
}

/// Short key id: the first 4 bytes of SHA-256 of the public key. Short because it is in every
/// QR code; a collision could only make a verifier try the wrong key (and refuse), and the
/// issuer refuses to create a key whose id is already taken.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Kid(pub [u8; KID_LEN]);

/// Bytes in a key id.
pub const KID_LEN: usize = 4;

impl Kid {
    pub fn from_slice(bytes: &[u8]) -> Option<Kid> {
        bytes.try_into().ok().map(Kid)
    }

    pub fn to_hex(self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(text: &str) -> Option<Kid> {
        let bytes = hex::decode(text.trim()).ok()?;
        Kid::from_slice(&bytes)
    }
}

impl fmt::Display for Kid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Kid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Kid({})", self.to_hex())
    }
}

/// What a key is for. The root key signs trust bundles only; signing keys sign passes only; a
/// checkpoint device's key signs that device's exported scan logs only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyRole {
    Root,
    Signing,
    Device,
}

impl KeyRole {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyRole::Root => "root",
            KeyRole::Signing => "signing",
            KeyRole::Device => "device",
        }
    }
}

impl fmt::Display for KeyRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An Ed25519 public key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(ed25519_dalek::VerifyingKey);

impl PublicKey {
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<PublicKey, KeyError> {
        ed25519_dalek::VerifyingKey::from_bytes(bytes)
            .map(PublicKey)
            .map_err(|_| KeyError::BadPublicKey)
    }

    pub fn from_slice(bytes: &[u8]) -> Result<PublicKey, KeyError> {
        let arr: &[u8; 32] = bytes.try_into().map_err(|_| KeyError::BadPublicKey)?;
        PublicKey::from_bytes(arr)
    }

    pub fn from_hex(text: &str) -> Result<PublicKey, KeyError> {
        let bytes = hex::decode(text.trim()).map_err(|_| KeyError::BadPublicKey)?;
        PublicKey::from_slice(&bytes)
    }

    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.to_bytes())
    }

    pub fn kid(&self) -> Kid {
        let digest = Sha256::digest(self.0.as_bytes());
        let mut kid = [0u8; KID_LEN];
        kid.copy_from_slice(&digest[..KID_LEN]);
        Kid(kid)
    }

    /// Strict Ed25519 verification (rejects small-order keys and non-canonical signatures).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(sig) = ed25519_dalek::Signature::from_slice(signature) else {
            return false;
        };
        self.0.verify_strict(message, &sig).is_ok()
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_hex())
    }
}

/// An Ed25519 secret key. Its `Debug` never shows the secret; it is zeroed on drop.
pub struct SigningKey(ed25519_dalek::SigningKey);

impl SigningKey {
    /// A fresh key from the operating system's random source (feature `keygen`).
    #[cfg(feature = "keygen")]
    pub fn generate() -> SigningKey {
        SigningKey(ed25519_dalek::SigningKey::generate(&mut OsRng))
    }

    /// A key from a 32-byte seed: for test vectors and development keys only.
    pub fn from_seed(seed: &[u8; 32]) -> SigningKey {
        SigningKey(ed25519_dalek::SigningKey::from_bytes(seed))
    }

    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    pub fn kid(&self) -> Kid {
        self.public_key().kid()
    }

    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.0.sign(message).to_bytes()
    }

    /// The 32-byte seed, to store a key that must sign unattended (a checkpoint device's log
    /// key); every other key is kept sealed ([`seal`]-style files) instead.
    pub fn seed(&self) -> [u8; 32] {
        self.0.to_bytes()
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey(kid {}, secret hidden)", self.kid())
    }
}

const SECRET_FORMAT: &str = "checkpass-secret-key/1";
const PUBLIC_FORMAT: &str = "checkpass-public-key/1";

/// Argon2id cost of newly sealed key files: 64 MiB, 3 passes (RFC 9106's second recommended
/// option; about 0.2 s per unlock, see docs/BENCHMARKS.md). Files sealed before with 19 MiB,
/// 2 passes open as they are: the cost is read from the file.
pub const ARGON2_M_KIB: u32 = 64 * 1024;
pub const ARGON2_T: u32 = 3;
#[cfg(feature = "keygen")]
const ARGON2_P: u32 = 1;
/// Upper bounds accepted when reading a file, so a crafted file cannot ask for gigabytes.
const ARGON2_M_KIB_MAX: u32 = 1024 * 1024;
const ARGON2_T_MAX: u32 = 16;

/// The shortest passphrase a new key file is sealed under, in characters.
pub const MIN_PASSPHRASE_CHARS: usize = 12;

/// Whether `passphrase` may seal a new key file: not empty, at least
/// [`MIN_PASSPHRASE_CHARS`] characters. (Opening a file needs only the right passphrase.)
pub fn check_new_passphrase(passphrase: &str) -> Result<(), KeyError> {
    if passphrase.is_empty() {
        return Err(KeyError::EmptyPassphrase);
    }
    if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(KeyError::ShortPassphrase {
            min: MIN_PASSPHRASE_CHARS,
        });
    }
    Ok(())
}

/// An Argon2id cost: memory in KiB, passes, lanes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cost {
    m_kib: u32,
    t: u32,
    p: u32,
}

#[cfg(feature = "keygen")]
const COST: Cost = Cost {
    m_kib: ARGON2_M_KIB,
    t: ARGON2_T,
    p: ARGON2_P,
};

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SealedFile {
    format: String,
    role: KeyRole,
    kid: String,
    public_key: String,
    kdf: KdfParams,
    nonce: String,
    ciphertext: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KdfParams {
    alg: String,
    m_kib: u32,
    t: u32,
    p: u32,
    salt: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PublicFile {
    format: String,
    role: KeyRole,
    kid: String,
    public_key: String,
}

/// The wrapping key for `passphrase`; it and Argon2's working memory are zeroed on drop.
fn derive_key(passphrase: &str, salt: &[u8], cost: Cost) -> Result<Zeroizing<[u8; 32]>, KeyError> {
    let params = Params::new(cost.m_kib, cost.t, cost.p, Some(32))
        .map_err(|e| KeyError::Kdf(e.to_string()))?;
    let mut memory = Zeroizing::new(vec![argon2::Block::default(); params.block_count()]);
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let mut out = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into_with_memory(
            passphrase.as_bytes(),
            salt,
            out.as_mut_slice(),
            memory.as_mut_slice(),
        )
        .map_err(|e| KeyError::Kdf(e.to_string()))?;
    Ok(out)
}

fn associated_data(role: KeyRole, kid: &str, public_key: &str) -> Vec<u8> {
    format!("{SECRET_FORMAT}|{}|{kid}|{public_key}", role.as_str()).into_bytes()
}

/// Seals a secret key under a passphrase, giving the text of a key file. The passphrase must
/// pass [`check_new_passphrase`].
///
/// Needs the operating system's random source (feature `keygen`).
#[cfg(feature = "keygen")]
pub fn seal(key: &SigningKey, role: KeyRole, passphrase: &str) -> Result<String, KeyError> {
    check_new_passphrase(passphrase)?;
    seal_with(key, role, passphrase, COST)
}

#[cfg(feature = "keygen")]
fn seal_with(
    key: &SigningKey,
    role: KeyRole,
    passphrase: &str,
    cost: Cost,
) -> Result<String, KeyError> {
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 24];
    OsRng.fill_bytes(&mut salt);
    OsRng.fill_bytes(&mut nonce);
    let wrapping = derive_key(passphrase, &salt, cost)?;
    let cipher = XChaCha20Poly1305::new(wrapping.as_ref().into());
    let kid = key.kid().to_hex();
    let public_key = key.public_key().to_hex();
    let aad = associated_data(role, &kid, &public_key);
    let secret = Zeroizing::new(key.0.to_bytes());
    let ciphertext = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: secret.as_slice(),
                aad: &aad,
            },
        )
        .map_err(|_| KeyError::Kdf("encryption failed".into()))?;
    let file = SealedFile {
        format: SECRET_FORMAT.into(),
        role,
        kid,
        public_key,
        kdf: KdfParams {
            alg: "argon2id".into(),
            m_kib: cost.m_kib,
            t: cost.t,
            p: cost.p,
            salt: B64.encode(salt),
        },
        nonce: B64.encode(nonce),
        ciphertext: B64.encode(ciphertext),
    };
    serde_json::to_string_pretty(&file).map_err(|e| KeyError::Malformed(e.to_string()))
}

/// Reads the role and key id of a sealed key file without the passphrase.
pub fn sealed_info(text: &str) -> Result<(KeyRole, Kid), KeyError> {
    let file: SealedFile =
        serde_json::from_str(text).map_err(|e| KeyError::Malformed(e.to_string()))?;
    if file.format != SECRET_FORMAT {
        return Err(KeyError::Malformed(format!(
            "unknown format {:?}",
            file.format
        )));
    }
    let kid = Kid::from_hex(&file.kid).ok_or_else(|| KeyError::Malformed("kid".into()))?;
    Ok((file.role, kid))
}

/// Opens a sealed key file. A wrong passphrase and a tampered file both give
/// [`KeyError::WrongPassphrase`]: the AEAD cannot tell them apart.
pub fn open_sealed(text: &str, passphrase: &str) -> Result<(SigningKey, KeyRole), KeyError> {
    let file: SealedFile =
        serde_json::from_str(text).map_err(|e| KeyError::Malformed(e.to_string()))?;
    if file.format != SECRET_FORMAT {
        return Err(KeyError::Malformed(format!(
            "unknown format {:?}",
            file.format
        )));
    }
    let k = &file.kdf;
    if k.alg != "argon2id" || k.m_kib > ARGON2_M_KIB_MAX || k.t > ARGON2_T_MAX || k.p > 16 {
        return Err(KeyError::Malformed(
            "unsupported key derivation parameters".into(),
        ));
    }
    let b64 = |field: &str, v: &str| {
        B64.decode(v)
            .map_err(|_| KeyError::Malformed(format!("{field} is not base64")))
    };
    let salt = b64("salt", &k.salt)?;
    let nonce = b64("nonce", &file.nonce)?;
    let ciphertext = b64("ciphertext", &file.ciphertext)?;
    if nonce.len() != 24 {
        return Err(KeyError::Malformed("nonce must be 24 bytes".into()));
    }
    let cost = Cost {
        m_kib: k.m_kib,
        t: k.t,
        p: k.p,
    };
    let wrapping = derive_key(passphrase, &salt, cost)?;
    let cipher = XChaCha20Poly1305::new(wrapping.as_ref().into());
    let aad = associated_data(file.role, &file.kid, &file.public_key);
    let secret = Zeroizing::new(
        cipher
            .decrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| KeyError::WrongPassphrase)?,
    );
    let seed: Zeroizing<[u8; 32]> = Zeroizing::new(
        secret
            .as_slice()
            .try_into()
            .map_err(|_| KeyError::Malformed("secret must be 32 bytes".into()))?,
    );
    let key = SigningKey::from_seed(&seed);
    let actual = key.kid().to_hex();
    if actual != file.kid {
        return Err(KeyError::KidMismatch {
            stated: file.kid,
            actual,
        });
    }
    Ok((key, file.role))
}

/// Refuses a secret key file that group or other users can read or write (Unix mode bits).
pub fn check_secret_file_mode(mode: u32) -> Result<(), KeyError> {
    if mode & 0o077 != 0 {
        Err(KeyError::TooOpen(mode & 0o777))
    } else {
        Ok(())
    }
}

/// The text of a public key file, the form `verifier init --root-key` pins.
pub fn public_key_file(key: &PublicKey, role: KeyRole) -> String {
    let file = PublicFile {
        format: PUBLIC_FORMAT.into(),
        role,
        kid: key.kid().to_hex(),
        public_key: key.to_hex(),
    };
    // Serialising a struct of strings cannot fail.
    serde_json::to_string_pretty(&file).unwrap_or_default() + "\n"
}

/// Reads a public key file; the stated key id must match the key.
pub fn parse_public_key_file(text: &str) -> Result<(PublicKey, KeyRole), KeyError> {
    let file: PublicFile =
        serde_json::from_str(text).map_err(|e| KeyError::Malformed(e.to_string()))?;
    if file.format != PUBLIC_FORMAT {
        return Err(KeyError::Malformed(format!(
            "unknown format {:?}",
            file.format
        )));
    }
    let key = PublicKey::from_hex(&file.public_key)?;
    let actual = key.kid().to_hex();
    if actual != file.kid {
        return Err(KeyError::KidMismatch {
            stated: file.kid,
            actual,
        });
    }
    Ok((key, file.role))
}

/// Whether `key` is one whose secret half is public: the development keys in `keys/` and the
/// test-vector keys. A checkpoint refuses to trust them unless told it is a test setup
/// (`verifier init --allow-dev-keys`): anyone can sign with them.
pub fn is_public_test_key(key: &PublicKey) -> bool {
    const DEV_KEYS: [&str; 2] = [
        include_str!("../../keys/DEV-ONLY-root.pub.json"),
        include_str!("../../keys/DEV-ONLY-signing.pub.json"),
    ];
    let dev = DEV_KEYS
        .iter()
        .filter_map(|text| parse_public_key_file(text).ok())
        .map(|(k, _)| k);
    let vectors = [[0x01u8; 32], [0x02; 32]]
        .iter()
        .map(|seed| SigningKey::from_seed(seed).public_key());
    dev.chain(vectors).any(|k| k == *key)
}

// The tests make fresh keys and seal files: they need `keygen` (a default feature).
#[cfg(all(test, feature = "keygen"))]
mod tests {
    use super::*;

    #[test]
    fn kid_is_derived_from_the_public_key() {
        let key = SigningKey::from_seed(&[7; 32]);
        let kid = key.kid();
        assert_eq!(kid, key.public_key().kid());
        assert_eq!(Kid::from_hex(&kid.to_hex()), Some(kid));
        assert_ne!(kid, SigningKey::from_seed(&[8; 32]).kid());
    }

    #[test]
    fn sealed_key_opens_with_the_right_passphrase_only() {
        let key = SigningKey::generate();
        let text = seal(&key, KeyRole::Signing, "正确的口令 correct horse").unwrap();
        assert!(!text.contains(&hex::encode(key.0.to_bytes())));
        let (back, role) = open_sealed(&text, "正确的口令 correct horse").unwrap();
        assert_eq!(role, KeyRole::Signing);
        assert_eq!(back.public_key(), key.public_key());
        assert!(matches!(
            open_sealed(&text, "wrong"),
            Err(KeyError::WrongPassphrase)
        ));
        assert_eq!(sealed_info(&text).unwrap(), (KeyRole::Signing, key.kid()));
    }

    #[test]
    fn a_sealed_file_cannot_be_relabelled() {
        let key = SigningKey::generate();
        let text = seal(&key, KeyRole::Signing, PW).unwrap();
        let relabelled = text.replace("\"signing\"", "\"root\"");
        assert!(matches!(
            open_sealed(&relabelled, PW),
            Err(KeyError::WrongPassphrase)
        ));
        assert!(matches!(
            open_sealed("{not json", "pw"),
            Err(KeyError::Malformed(_))
        ));
        assert!(matches!(
            seal(&key, KeyRole::Root, ""),
            Err(KeyError::EmptyPassphrase)
        ));
    }

    const PW: &str = "a passphrase of some length";

    #[test]
    fn a_short_passphrase_is_refused() {
        let key = SigningKey::from_seed(&[7; 32]);
        // Eleven characters (Chinese count as one each) are refused, twelve accepted.
        for short in ["abcdefghijk", "一二三四五六七八九十甲"] {
            assert!(matches!(
                seal(&key, KeyRole::Signing, short),
                Err(KeyError::ShortPassphrase { min: 12 })
            ));
        }
        assert!(check_new_passphrase("一二三四五六七八九十甲乙").is_ok());
        assert!(matches!(
            check_new_passphrase(""),
            Err(KeyError::EmptyPassphrase)
        ));
    }

    #[test]
    fn argon2_parameters_are_at_least_64_mib() {
        let key = SigningKey::from_seed(&[7; 32]);
        let text = seal(&key, KeyRole::Root, PW).unwrap();
        let file: SealedFile = serde_json::from_str(&text).unwrap();
        assert_eq!(file.kdf.alg, "argon2id");
        assert!(file.kdf.m_kib >= 64 * 1024, "{} KiB", file.kdf.m_kib);
        assert!(file.kdf.t >= 3, "{} passes", file.kdf.t);
        assert_eq!(open_sealed(&text, PW).unwrap().0.kid(), key.kid());
    }

    /// A file sealed with the earlier parameters (19 MiB, 2 passes), and with a passphrase
    /// shorter than today's minimum, still opens: the cost is read from the file.
    #[test]
    fn files_sealed_with_the_old_parameters_still_open() {
        let key = SigningKey::from_seed(&[9; 32]);
        let old = Cost {
            m_kib: 19 * 1024,
            t: 2,
            p: 1,
        };
        let text = seal_with(&key, KeyRole::Signing, "pw", old).unwrap();
        assert!(text.contains("\"m_kib\": 19456"), "{text}");
        let (back, role) = open_sealed(&text, "pw").unwrap();
        assert_eq!((back.kid(), role), (key.kid(), KeyRole::Signing));
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let key = SigningKey::from_seed(&[0x42; 32]);
        let shown = format!("{key:?}");
        assert!(!shown.contains("4242"), "{shown}");
    }

    #[test]
    fn file_modes() {
        assert!(check_secret_file_mode(0o100600).is_ok());
        assert!(check_secret_file_mode(0o400).is_ok());
        assert!(matches!(
            check_secret_file_mode(0o644),
            Err(KeyError::TooOpen(0o644))
        ));
        assert!(check_secret_file_mode(0o620).is_err());
    }

    #[test]
    fn public_key_files_round_trip_and_are_checked() {
        let key = SigningKey::generate().public_key();
        let text = public_key_file(&key, KeyRole::Root);
        assert_eq!(parse_public_key_file(&text).unwrap(), (key, KeyRole::Root));
        let other = SigningKey::generate().public_key();
        let forged = text.replace(&key.to_hex(), &other.to_hex());
        assert!(matches!(
            parse_public_key_file(&forged),
            Err(KeyError::KidMismatch { .. })
        ));
    }

    #[test]
    fn the_development_and_vector_keys_are_known_as_public() {
        for name in ["root", "signing"] {
            let text = std::fs::read_to_string(format!(
                "{}/../keys/DEV-ONLY-{name}.pub.json",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap();
            let (key, _) = parse_public_key_file(&text).unwrap();
            assert!(is_public_test_key(&key), "{name}");
        }
        assert!(is_public_test_key(
            &SigningKey::from_seed(&[2; 32]).public_key()
        ));
        assert!(!is_public_test_key(&SigningKey::generate().public_key()));
    }
}
