//! The trust bundle: everything a checkpoint knows, in one file signed by the root key.
//!
//! A COSE_Sign1 (tag 18, EdDSA, `kid` of the root key) whose payload is a CBOR map with small
//! integer keys: sequence number, issue time, the expected pass issuer, the issuer's public
//! keys with their validity, the checkpoint registry, the revocation list and the policy.
//! [`open_bundle`] accepts a bundle only if the pinned root key signed it and its sequence
//! number is not lower than the last one installed.
//!
//! Revoked serials are kept sorted and stored as LEB128-encoded gaps in one byte string, so a
//! million revocations take about a megabyte and load in milliseconds; lookups are binary
//! searches.

use ciborium::Value;
use coset::{
    iana, CoseSign1, CoseSign1Builder, HeaderBuilder, RegisteredLabelWithPrivate,
    TaggedCborSerializable,
};

use crate::cbor::{as_bytes, as_int, as_text, as_uint, int, uint, Fields};
use crate::keys::{Kid, PublicKey, SigningKey};
use crate::messages::write_bilingual;
use crate::pass::{Category, Serial, SERIAL_MAX};
use crate::scope::KeyScope;
use crate::verdict::Lang;
use crate::wire::WireError;

/// The largest bundle accepted, in bytes. A million revocations take at most about 2 MB in the
/// gap encoding (serials below 10^10 leave an average gap under 10^4, two LEB128 bytes; only a
/// few dozen gaps can need five), a registry of ten thousand checkpoints about 1 MB; 4 MiB
/// leaves room for both. Anything larger is refused before it is parsed.
pub const MAX_BUNDLE_BYTES: usize = 4 * 1024 * 1024;

/// `compromised_since` value meaning "every pass the key ever signed".
pub const COMPROMISED_ALWAYS: i64 = i64::MIN;

/// Why a bundle was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    TooLarge(usize),
    Malformed(#[from] WireError),
    WrongRoot { expected: Kid, found: String },
    BadSignature,
    Rollback { found: u64, installed: u64 },
    SameSequenceDiffers { sequence: u64 },
}

impl BundleError {
    /// The text in `lang`, without the cause.
    pub fn message(&self, lang: Lang) -> String {
        use BundleError as E;
        match self {
            E::TooLarge(size) => msg!(lang, error.bundle.too_large, size = size),
            E::Malformed(_) => msg!(lang, error.bundle.malformed).into(),
            E::WrongRoot { expected, found } => msg!(
                lang,
                error.bundle.wrong_root,
                expected = expected,
                found = found
            ),
            E::BadSignature => msg!(lang, error.bundle.bad_signature).into(),
            E::Rollback { found, installed } => msg!(
                lang,
                error.bundle.rollback,
                found = found,
                installed = installed
            ),
            E::SameSequenceDiffers { sequence } => {
                msg!(
                    lang,
                    error.bundle.same_sequence_differs,
                    sequence = sequence
                )
            }
        }
    }
}

impl std::fmt::Display for BundleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cause: Option<&dyn std::fmt::Display> = match self {
            BundleError::Malformed(e) => Some(e),
            _ => None,
        };
        write_bilingual(f, |lang| self.message(lang), cause)
    }
}

/// A pass-signing key the checkpoints trust, and when it may have signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerKey {
    pub public_key: PublicKey,
    /// Passes issued (iat) before this time are refused with this key.
    pub valid_from: i64,
    /// Passes issued after this time are refused with this key; passes it signed earlier stay
    /// valid until they expire, which is what key rotation needs.
    pub valid_to: i64,
    /// Set when the root declared the key stolen: passes it signed at or after this time (by
    /// their `iat`) are refused; [`COMPROMISED_ALWAYS`] refuses all of them. A thief can
    /// backdate `iat`, but the window rules bound such a pass to end within the longest
    /// validity after this time.
    pub compromised_since: Option<i64>,
    /// The districts and categories the key may sign for; unrestricted by default. An
    /// unscoped key is encoded exactly as before scopes existed.
    pub scope: KeyScope,
}

impl IssuerKey {
    pub fn kid(&self) -> Kid {
        self.public_key.kid()
    }

    /// Whether a pass this key signed at `issued_at` falls under a declared compromise.
    pub fn compromised_at(&self, issued_at: i64) -> bool {
        self.compromised_since
            .is_some_and(|since| issued_at >= since)
    }
}

/// One checkpoint of the registry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Checkpoint {
    pub code: String,
    pub name: String,
    pub district: u32,
    pub road: String,
}

/// The rules the city sets for every checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Policy {
    /// Oldest acceptable test sample, measured from the scan (default 48 h).
    pub max_test_age_secs: i64,
    /// Tolerated difference between the issuer's and the checkpoint's clocks (default 5 min).
    pub clock_skew_secs: i64,
    /// A bundle older than this is stale: its revocations may be out of date (default 72 h).
    pub max_bundle_age_secs: i64,
    /// The same pass scanned again at the same checkpoint within this time is a repeat (10 min).
    pub repeat_window_secs: i64,
    /// Longest validity window the issuer grants (default 72 h).
    pub max_validity_secs: i64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            max_test_age_secs: 48 * 3600,
            clock_skew_secs: 300,
            max_bundle_age_secs: 72 * 3600,
            repeat_window_secs: 600,
            max_validity_secs: 72 * 3600,
        }
    }
}

/// Revoked serials, sorted and without duplicates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevocationList(Vec<u64>);

impl RevocationList {
    pub fn contains(&self, serial: Serial) -> bool {
        self.0.binary_search(&serial.0).is_ok()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = Serial> + '_ {
        self.0.iter().copied().map(Serial)
    }

    /// Gap encoding: each serial minus the previous one (the first minus zero), as LEB128.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.0.len() * 2);
        let mut prev = 0u64;
        for &s in &self.0 {
            let mut gap = s - prev;
            prev = s;
            loop {
                let byte = (gap & 0x7f) as u8;
                gap >>= 7;
                if gap == 0 {
                    out.push(byte);
                    break;
                }
                out.push(byte | 0x80);
            }
        }
        out
    }

    /// Reads the gap encoding; gaps after the first must be positive and serials in range.
    pub fn decode(bytes: &[u8]) -> Result<RevocationList, WireError> {
        let bad = |why: &str| WireError::InvalidValue {
            field: "revoked",
            why: why.to_string(),
        };
        let mut serials = Vec::with_capacity(bytes.len() / 2);
        let mut prev = 0u64;
        let mut gap = 0u64;
        let mut shift = 0u32;
        for &b in bytes {
            if shift > 35 {
                return Err(bad("gap too long"));
            }
            gap |= u64::from(b & 0x7f) << shift;
            if b & 0x80 != 0 {
                shift += 7;
                continue;
            }
            if gap == 0 && !serials.is_empty() {
                return Err(bad("serials not strictly increasing"));
            }
            let serial = prev.checked_add(gap).ok_or_else(|| bad("overflow"))?;
            if serial > SERIAL_MAX {
                return Err(bad("serial out of range"));
            }
            serials.push(serial);
            prev = serial;
            gap = 0;
            shift = 0;
        }
        if shift != 0 {
            return Err(bad("truncated"));
        }
        Ok(RevocationList(serials))
    }
}

impl FromIterator<Serial> for RevocationList {
    fn from_iter<I: IntoIterator<Item = Serial>>(iter: I) -> Self {
        let mut v: Vec<u64> = iter.into_iter().map(|s| s.0).collect();
        v.sort_unstable();
        v.dedup();
        RevocationList(v)
    }
}

/// What a checkpoint trusts, once the bundle's signature has been checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustBundle {
    pub sequence: u64,
    pub issued_at: i64,
    /// The `iss` every pass must carry.
    pub issuer: String,
    pub keys: Vec<IssuerKey>,
    pub checkpoints: Vec<Checkpoint>,
    pub revoked: RevocationList,
    pub policy: Policy,
}

impl TrustBundle {
    pub fn key(&self, kid: Kid) -> Option<&IssuerKey> {
        self.keys.iter().find(|k| k.kid() == kid)
    }

    pub fn checkpoint(&self, code: &str) -> Option<&Checkpoint> {
        self.checkpoints.iter().find(|c| c.code == code)
    }

    /// How long ago the bundle was issued, in seconds (negative if the clock is behind it).
    pub fn age_secs(&self, now: i64) -> i64 {
        now.saturating_sub(self.issued_at)
    }

    pub fn is_stale(&self, now: i64) -> bool {
        self.age_secs(now) > self.policy.max_bundle_age_secs
    }
}

mod key {
    pub const SEQUENCE: i64 = 1;
    pub const ISSUED_AT: i64 = 2;
    pub const ISSUER: i64 = 3;
    pub const KEYS: i64 = 4;
    pub const CHECKPOINTS: i64 = 5;
    pub const REVOKED: i64 = 6;
    pub const POLICY: i64 = 7;
    pub const MAX: i64 = POLICY;
}

/// Keys of a key's scope map (the fifth element of a key entry).
mod scope_key {
    pub const DISTRICTS: i64 = 1;
    pub const CATEGORIES: i64 = 2;
    pub const MAX: i64 = CATEGORIES;
}

mod policy_key {
    pub const MAX_TEST_AGE: i64 = 1;
    pub const CLOCK_SKEW: i64 = 2;
    pub const MAX_BUNDLE_AGE: i64 = 3;
    pub const REPEAT_WINDOW: i64 = 4;
    pub const MAX_VALIDITY: i64 = 5;
    pub const MAX: i64 = MAX_VALIDITY;
}

fn bundle_to_value(b: &TrustBundle) -> Value {
    let keys = b.keys.iter().map(key_to_value).collect();
    let checkpoints = b
        .checkpoints
        .iter()
        .map(|c| {
            Value::Array(vec![
                Value::Text(c.code.clone()),
                Value::Text(c.name.clone()),
                uint(u64::from(c.district)),
                Value::Text(c.road.clone()),
            ])
        })
        .collect();
    let p = &b.policy;
    let policy = Value::Map(vec![
        (int(policy_key::MAX_TEST_AGE), int(p.max_test_age_secs)),
        (int(policy_key::CLOCK_SKEW), int(p.clock_skew_secs)),
        (int(policy_key::MAX_BUNDLE_AGE), int(p.max_bundle_age_secs)),
        (int(policy_key::REPEAT_WINDOW), int(p.repeat_window_secs)),
        (int(policy_key::MAX_VALIDITY), int(p.max_validity_secs)),
    ]);
    Value::Map(vec![
        (int(key::SEQUENCE), uint(b.sequence)),
        (int(key::ISSUED_AT), int(b.issued_at)),
        (int(key::ISSUER), Value::Text(b.issuer.clone())),
        (int(key::KEYS), Value::Array(keys)),
        (int(key::CHECKPOINTS), Value::Array(checkpoints)),
        (int(key::REVOKED), Value::Bytes(b.revoked.encode())),
        (int(key::POLICY), policy),
    ])
}

fn key_to_value(k: &IssuerKey) -> Value {
    let mut fields = vec![
        Value::Bytes(k.public_key.to_bytes().to_vec()),
        int(k.valid_from),
        int(k.valid_to),
    ];
    if k.scope.is_unrestricted() {
        // Exactly the pre-scope encoding, so bundles without scoped keys are unchanged
        // and verifiers that predate scopes still read them.
        fields.extend(k.compromised_since.map(int));
    } else {
        fields.push(k.compromised_since.map_or(Value::Null, int));
        fields.push(scope_to_value(&k.scope));
    }
    Value::Array(fields)
}

/// One key entry of the bundle's key list, as CBOR: what the test vectors of scoped keys show
/// so that another implementation can check its reading of the scope.
pub fn key_entry_cbor(key: &IssuerKey) -> Result<Vec<u8>, WireError> {
    let mut out = Vec::new();
    ciborium::into_writer(&key_to_value(key), &mut out)
        .map_err(|e| WireError::Encode(e.to_string()))?;
    Ok(out)
}

fn scope_to_value(scope: &KeyScope) -> Value {
    let mut entries = Vec::new();
    if !scope.districts.is_empty() {
        let prefixes = scope.districts.iter().cloned().map(Value::Text).collect();
        entries.push((int(scope_key::DISTRICTS), Value::Array(prefixes)));
    }
    if !scope.categories.is_empty() {
        let codes = scope
            .categories
            .iter()
            .map(|c| uint(u64::from(c.code())))
            .collect();
        entries.push((int(scope_key::CATEGORIES), Value::Array(codes)));
    }
    Value::Map(entries)
}

/// Reads a scope map strictly: at least one limit, no empty list, and the lists in the
/// canonical order the encoder writes (one encoding per bundle).
fn scope_from_value(v: Value) -> Result<KeyScope, WireError> {
    let bad = |why: &str| WireError::InvalidValue {
        field: "key scope",
        why: why.to_string(),
    };
    let mut f = Fields::from_value(v, "key scope", scope_key::MAX)?;
    let list = |v: Option<Value>| -> Result<Vec<Value>, WireError> {
        match v {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) if !items.is_empty() => Ok(items),
            Some(Value::Array(_)) => Err(bad("empty list")),
            Some(_) => Err(WireError::WrongType("key scope")),
        }
    };
    let districts = list(f.take(scope_key::DISTRICTS))?
        .into_iter()
        .map(|p| as_text(p, "key scope"))
        .collect::<Result<Vec<_>, _>>()?;
    let categories = list(f.take(scope_key::CATEGORIES))?
        .into_iter()
        .map(|c| {
            let code = as_uint(c, "key scope", u64::from(u8::MAX))?;
            Category::from_code(code).ok_or_else(|| bad("unknown category"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let scope =
        KeyScope::new(districts.clone(), categories.clone()).map_err(|e| bad(&e.to_string()))?;
    if scope.is_unrestricted() {
        return Err(bad("a scope must limit something"));
    }
    if scope.districts != districts || scope.categories != categories {
        return Err(bad("not sorted or repeated"));
    }
    Ok(scope)
}

fn tuple<const N: usize>(v: Value, name: &'static str) -> Result<[Value; N], WireError> {
    match v {
        Value::Array(items) => items.try_into().map_err(|_| WireError::WrongType(name)),
        _ => Err(WireError::WrongType(name)),
    }
}

fn bundle_from_value(v: Value) -> Result<TrustBundle, WireError> {
    let mut f = Fields::from_value(v, "bundle", key::MAX)?;
    let sequence = f.uint(key::SEQUENCE, "sequence", u64::MAX)?;
    let issued_at = f.int(key::ISSUED_AT, "issued_at")?;
    let issuer = f.text(key::ISSUER, "issuer")?;
    let keys = f
        .array(key::KEYS, "keys")?
        .into_iter()
        .map(|k| {
            // [key, from, to], [key, from, to, compromised_since] or
            // [key, from, to, compromised_since / null, scope].
            let scoped = matches!(&k, Value::Array(items) if items.len() == 5);
            let mut fields = match k {
                Value::Array(items) if (3..=5).contains(&items.len()) => items.into_iter(),
                _ => return Err(WireError::WrongType("keys")),
            };
            let mut next = || fields.next().ok_or(WireError::WrongType("keys"));
            let pk = as_bytes(next()?, "keys")?;
            let public_key = PublicKey::from_slice(&pk).map_err(|_| WireError::InvalidValue {
                field: "keys",
                why: "not an Ed25519 public key".into(),
            })?;
            let valid_from = as_int(next()?, "keys")?;
            let valid_to = as_int(next()?, "keys")?;
            let compromised_since = match next().ok() {
                // null only holds the place before a scope.
                Some(Value::Null) if scoped => None,
                other => other.map(|v| as_int(v, "keys")).transpose()?,
            };
            let scope = next().ok().map(scope_from_value).transpose()?;
            Ok(IssuerKey {
                public_key,
                valid_from,
                valid_to,
                compromised_since,
                scope: scope.unwrap_or_default(),
            })
        })
        .collect::<Result<Vec<_>, WireError>>()?;
    let checkpoints = f
        .array(key::CHECKPOINTS, "checkpoints")?
        .into_iter()
        .map(|c| {
            let [code, name, district, road] = tuple(c, "checkpoints")?;
            Ok(Checkpoint {
                code: as_text(code, "checkpoints")?,
                name: as_text(name, "checkpoints")?,
                district: as_uint(district, "checkpoints", 999_999)? as u32,
                road: as_text(road, "checkpoints")?,
            })
        })
        .collect::<Result<Vec<_>, WireError>>()?;
    let revoked =
        RevocationList::decode(&as_bytes(f.required(key::REVOKED, "revoked")?, "revoked")?)?;
    let mut p = Fields::from_value(
        f.required(key::POLICY, "policy")?,
        "policy",
        policy_key::MAX,
    )?;
    let policy = Policy {
        max_test_age_secs: p.int(policy_key::MAX_TEST_AGE, "max_test_age")?,
        clock_skew_secs: p.int(policy_key::CLOCK_SKEW, "clock_skew")?,
        max_bundle_age_secs: p.int(policy_key::MAX_BUNDLE_AGE, "max_bundle_age")?,
        repeat_window_secs: p.int(policy_key::REPEAT_WINDOW, "repeat_window")?,
        max_validity_secs: p.int(policy_key::MAX_VALIDITY, "max_validity")?,
    };
    Ok(TrustBundle {
        sequence,
        issued_at,
        issuer,
        keys,
        checkpoints,
        revoked,
        policy,
    })
}

/// Signs a bundle with the root key.
pub fn sign_bundle(bundle: &TrustBundle, root: &SigningKey) -> Result<Vec<u8>, WireError> {
    sign_cbor(&bundle_to_value(bundle), root)
}

/// A CBOR value as a tagged COSE_Sign1 (EdDSA, the key's kid, nothing unprotected): the form
/// of every signed file, the bundle and the exported scan log alike.
pub(crate) fn sign_cbor(value: &Value, key: &SigningKey) -> Result<Vec<u8>, WireError> {
    let mut payload = Vec::new();
    ciborium::into_writer(value, &mut payload).map_err(|e| WireError::Encode(e.to_string()))?;
    let protected = HeaderBuilder::new()
        .algorithm(iana::Algorithm::EdDSA)
        .key_id(key.kid().0.to_vec())
        .build();
    CoseSign1Builder::new()
        .protected(protected)
        .payload(payload)
        .create_signature(&[], |tbs| key.sign(tbs).to_vec())
        .build()
        .to_tagged_vec()
        .map_err(|e| WireError::Encode(e.to_string()))
}

/// Checks a bundle against the pinned root key and the last installed sequence number, and
/// reads it.
pub fn open_bundle(
    bytes: &[u8],
    root: &PublicKey,
    last_sequence: Option<u64>,
) -> Result<TrustBundle, BundleError> {
    if bytes.len() > MAX_BUNDLE_BYTES {
        return Err(BundleError::TooLarge(bytes.len()));
    }
    let sign1 = CoseSign1::from_tagged_slice(bytes)
        .map_err(|e| BundleError::Malformed(WireError::Cose(e.to_string())))?;
    // Nothing unsigned may ride along: an unprotected header could carry megabytes that every
    // later start would parse again.
    if !sign1.unprotected.is_empty() {
        return Err(WireError::UnexpectedHeader("unprotected").into());
    }
    let h = &sign1.protected.header;
    if h.alg != Some(RegisteredLabelWithPrivate::Assigned(iana::Algorithm::EdDSA))
        && h.alg
            != Some(RegisteredLabelWithPrivate::Assigned(
                iana::Algorithm::Ed25519,
            ))
    {
        return Err(WireError::UnsupportedAlgorithm(format!("{:?}", h.alg)).into());
    }
    if h.key_id != root.kid().0 {
        return Err(BundleError::WrongRoot {
            expected: root.kid(),
            found: hex::encode(&h.key_id),
        });
    }
    sign1.verify_signature(&[], |sig, tbs| {
        if root.verify(tbs, sig) {
            Ok(())
        } else {
            Err(BundleError::BadSignature)
        }
    })?;
    let payload = sign1
        .payload
        .as_deref()
        .ok_or(WireError::MissingField("payload"))?;
    let mut reader = payload;
    let value: Value =
        ciborium::from_reader(&mut reader).map_err(|e| WireError::Cose(format!("payload: {e}")))?;
    if !reader.is_empty() {
        return Err(WireError::Cose("trailing bytes after the payload".into()).into());
    }
    let bundle = bundle_from_value(value)?;
    if let Some(installed) = last_sequence {
        if bundle.sequence < installed {
            return Err(BundleError::Rollback {
                found: bundle.sequence,
                installed,
            });
        }
    }
    Ok(bundle)
}

/// SHA-256 of a bundle file, as a checkpoint remembers what it installed.
pub fn bundle_digest(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}

/// A bundle with the same sequence number as the installed one must be the very same file: the
/// root signs one bundle per number, so two different ones mean a replayed or doctored copy.
pub fn check_same_sequence(
    sequence: u64,
    digest: &[u8; 32],
    installed_sequence: u64,
    installed_digest: &[u8; 32],
) -> Result<(), BundleError> {
    if sequence == installed_sequence && digest != installed_digest {
        return Err(BundleError::SameSequenceDiffers { sequence });
    }
    Ok(())
}

/// Reads a bundle's header without checking it, to say which root signed it.
pub fn bundle_signer(bytes: &[u8]) -> Option<Kid> {
    let sign1 = CoseSign1::from_tagged_slice(bytes).ok()?;
    Kid::from_slice(&sign1.protected.header.key_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample;

    #[test]
    fn round_trip_and_refusals() {
        let root = SigningKey::from_seed(&[1; 32]);
        let bundle = sample::bundle(&SigningKey::from_seed(&[2; 32]), 7, sample::NOW);
        let bytes = sign_bundle(&bundle, &root).unwrap();
        assert_eq!(
            open_bundle(&bytes, &root.public_key(), None).unwrap(),
            bundle
        );
        assert_eq!(
            open_bundle(&bytes, &root.public_key(), Some(7)).unwrap(),
            bundle
        );
        assert_eq!(
            open_bundle(&bytes, &root.public_key(), Some(8)),
            Err(BundleError::Rollback {
                found: 7,
                installed: 8
            })
        );
        let other = SigningKey::from_seed(&[3; 32]);
        assert!(matches!(
            open_bundle(&bytes, &other.public_key(), None),
            Err(BundleError::WrongRoot { .. })
        ));
        let mut tampered = bytes.clone();
        let n = tampered.len();
        tampered[n - 70] ^= 1;
        assert_eq!(
            open_bundle(&tampered, &root.public_key(), None),
            Err(BundleError::BadSignature)
        );
        assert!(matches!(
            open_bundle(&bytes[..n - 1], &root.public_key(), None),
            Err(BundleError::Malformed(_))
        ));
        assert_eq!(bundle_signer(&bytes), Some(root.kid()));
    }

    #[test]
    fn a_bundle_signed_by_a_signing_key_with_the_root_kid_is_refused() {
        // An attacker can copy the root's kid but not its signature.
        let root = SigningKey::from_seed(&[1; 32]);
        let attacker = SigningKey::from_seed(&[9; 32]);
        let bundle = sample::bundle(&attacker, 99, sample::NOW);
        let mut payload = Vec::new();
        ciborium::into_writer(&bundle_to_value(&bundle), &mut payload).unwrap();
        let forged = CoseSign1Builder::new()
            .protected(
                HeaderBuilder::new()
                    .algorithm(iana::Algorithm::EdDSA)
                    .key_id(root.kid().0.to_vec())
                    .build(),
            )
            .payload(payload)
            .create_signature(&[], |tbs| attacker.sign(tbs).to_vec())
            .build()
            .to_tagged_vec()
            .unwrap();
        assert_eq!(
            open_bundle(&forged, &root.public_key(), None),
            Err(BundleError::BadSignature)
        );
    }

    #[test]
    fn a_genuine_bundle_padded_in_its_unprotected_header_is_refused() {
        let root = SigningKey::from_seed(&[1; 32]);
        let bundle = sample::bundle(&SigningKey::from_seed(&[2; 32]), 7, sample::NOW);
        let bytes = sign_bundle(&bundle, &root).unwrap();
        let mut sign1 = CoseSign1::from_tagged_slice(&bytes).unwrap();
        // The unprotected header is outside the signature: anyone can stuff it.
        sign1
            .unprotected
            .rest
            .push((coset::Label::Int(99), Value::Bytes(vec![0; 1 << 20])));
        let padded = sign1.to_tagged_vec().unwrap();
        assert!(padded.len() > bytes.len() + (1 << 20));
        assert_eq!(
            open_bundle(&padded, &root.public_key(), None),
            Err(BundleError::Malformed(WireError::UnexpectedHeader(
                "unprotected"
            )))
        );
    }

    #[test]
    fn a_million_revocations_fit_under_the_size_cap_and_more_is_refused() {
        let root = SigningKey::from_seed(&[1; 32]);
        let mut bundle = sample::bundle(&SigningKey::from_seed(&[2; 32]), 7, sample::NOW);
        // Spread evenly over the whole serial range: the largest gaps a million can have.
        let step = SERIAL_MAX / 1_000_000;
        bundle.revoked = (0..1_000_000u64).map(|i| Serial(i * step)).collect();
        let bytes = sign_bundle(&bundle, &root).unwrap();
        assert!(
            bytes.len() < MAX_BUNDLE_BYTES / 2,
            "{} bytes for a million revocations",
            bytes.len()
        );
        let opened = open_bundle(&bytes, &root.public_key(), None).unwrap();
        assert_eq!(opened.revoked.len(), 1_000_000);
        let mut oversized = bytes;
        oversized.resize(MAX_BUNDLE_BYTES + 1, 0);
        assert_eq!(
            open_bundle(&oversized, &root.public_key(), None),
            Err(BundleError::TooLarge(MAX_BUNDLE_BYTES + 1))
        );
    }

    #[test]
    fn a_compromised_key_round_trips() {
        let root = SigningKey::from_seed(&[1; 32]);
        let mut bundle = sample::bundle(&SigningKey::from_seed(&[2; 32]), 7, sample::NOW);
        let mut second = bundle.keys[0].clone();
        second.public_key = SigningKey::from_seed(&[3; 32]).public_key();
        second.compromised_since = Some(COMPROMISED_ALWAYS);
        bundle.keys[0].compromised_since = Some(sample::ISSUED_AT);
        bundle.keys.push(second);
        let bytes = sign_bundle(&bundle, &root).unwrap();
        let opened = open_bundle(&bytes, &root.public_key(), None).unwrap();
        assert_eq!(opened, bundle);
        assert!(opened.keys[0].compromised_at(sample::ISSUED_AT));
        assert!(!opened.keys[0].compromised_at(sample::ISSUED_AT - 1));
        assert!(opened.keys[1].compromised_at(i64::MIN));
    }

    #[test]
    fn a_scoped_key_round_trips_and_an_unscoped_one_encodes_as_before() {
        let root = SigningKey::from_seed(&[1; 32]);
        let mut bundle = sample::bundle(&SigningKey::from_seed(&[2; 32]), 7, sample::NOW);
        let unscoped = bundle_to_value(&bundle);
        let Value::Array(entry) = key_entry(&unscoped) else {
            panic!("keys hold arrays")
        };
        assert_eq!(entry.len(), 3, "the pre-scope encoding");
        let mut second = bundle.keys[0].clone();
        second.public_key = SigningKey::from_seed(&[3; 32]).public_key();
        second.compromised_since = Some(sample::ISSUED_AT);
        second.scope = KeyScope::parse("3710", "产成品").unwrap();
        bundle.keys[0].scope = KeyScope::parse("110105,1101", "").unwrap();
        bundle.keys.push(second);
        let bytes = sign_bundle(&bundle, &root).unwrap();
        assert_eq!(
            open_bundle(&bytes, &root.public_key(), None).unwrap(),
            bundle
        );
        let Value::Array(entry) = key_entry(&bundle_to_value(&bundle)) else {
            panic!("keys hold arrays")
        };
        assert_eq!(entry[3], Value::Null, "no compromise: null holds the place");
        assert_eq!(
            entry[4],
            Value::Map(vec![(
                int(1),
                Value::Array(vec![
                    Value::Text("1101".into()),
                    Value::Text("110105".into())
                ])
            )])
        );
    }

    fn key_entry(bundle: &Value) -> Value {
        let Value::Map(entries) = bundle else {
            panic!("a bundle is a map")
        };
        match &entries[3].1 {
            Value::Array(keys) => keys[0].clone(),
            _ => panic!("keys are an array"),
        }
    }

    #[test]
    fn malformed_scopes_are_refused() {
        let pk = Value::Bytes(
            SigningKey::from_seed(&[2; 32])
                .public_key()
                .to_bytes()
                .to_vec(),
        );
        let read = |scope: Value, fourth: Value| {
            let mut b = bundle_to_value(&sample::bundle(&SigningKey::from_seed(&[2; 32]), 1, 0));
            if let Value::Map(entries) = &mut b {
                entries[3].1 = Value::Array(vec![Value::Array(vec![
                    pk.clone(),
                    int(0),
                    int(1),
                    fourth,
                    scope,
                ])]);
            }
            bundle_from_value(b)
        };
        let prefixes =
            |p: &[&str]| Value::Array(p.iter().map(|x| Value::Text(x.to_string())).collect());
        let good = Value::Map(vec![(int(1), prefixes(&["1101"]))]);
        assert!(read(good.clone(), Value::Null).is_ok());
        assert!(read(good.clone(), int(5)).is_ok());
        for (scope, why) in [
            (Value::Map(vec![]), "limits nothing"),
            (
                Value::Map(vec![(int(1), Value::Array(vec![]))]),
                "empty list",
            ),
            (Value::Map(vec![(int(1), prefixes(&["11a"]))]), "not digits"),
            (
                Value::Map(vec![(int(1), prefixes(&["1234567"]))]),
                "too long",
            ),
            (
                Value::Map(vec![(int(1), prefixes(&["2", "1"]))]),
                "unsorted",
            ),
            (
                Value::Map(vec![(int(1), prefixes(&["1", "1"]))]),
                "repeated",
            ),
            (
                Value::Map(vec![(int(2), Value::Array(vec![int(9)]))]),
                "unknown category",
            ),
            (Value::Map(vec![(int(3), prefixes(&["1"]))]), "unknown key"),
            (Value::Text("1101".into()), "not a map"),
        ] {
            assert!(read(scope, Value::Null).is_err(), "{why}");
        }
        assert!(read(good, Value::Text("x".into())).is_err());
        // null in fourth place only before a scope.
        let mut b = bundle_to_value(&sample::bundle(&SigningKey::from_seed(&[2; 32]), 1, 0));
        if let Value::Map(entries) = &mut b {
            entries[3].1 = Value::Array(vec![Value::Array(vec![pk, int(0), int(1), Value::Null])]);
        }
        assert!(bundle_from_value(b).is_err());
    }

    #[test]
    fn revocation_list_encoding() {
        let list: RevocationList = [5, 1, 1_000_000, 5, 300, SERIAL_MAX]
            .into_iter()
            .map(Serial)
            .collect();
        assert_eq!(list.len(), 5);
        let bytes = list.encode();
        assert_eq!(RevocationList::decode(&bytes).unwrap(), list);
        assert!(list.contains(Serial(300)) && !list.contains(Serial(301)));
        assert!(RevocationList::decode(&[0x80]).is_err(), "truncated");
        assert!(RevocationList::decode(&[1, 0]).is_err(), "repeat");
        assert!(RevocationList::decode(&[0xff; 12]).is_err(), "too long");
        assert_eq!(RevocationList::decode(&[]).unwrap().len(), 0);
        assert_eq!(
            RevocationList::decode(&[0]).unwrap().iter().next(),
            Some(Serial(0))
        );
    }
}
