//! The issuer's keys as the command line and the web service manage them: the active key of a
//! role, unlocking a key with its passphrase, rotating the signing key, declaring a signing key
//! compromised. Each front end asks for the passphrase its own way (the terminal or
//! `ISSUER_PASSPHRASE`; a password field) and calls these; the sealed files themselves are
//! [`crate::keyring`]'s.

use std::path::Path;

use checkpass::bundle::COMPROMISED_ALWAYS;
use checkpass::keys::{KeyError, KeyRole, SigningKey};
use checkpass::scope::KeyScope;

use crate::domain::KeyRecord;
use crate::keyring;
use crate::store::{Store, StoreError};

/// The longest reason a key compromise is recorded with.
pub const MAX_REASON_CHARS: usize = 200;

/// Why a key could not be found, unlocked, rotated or declared compromised.
#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "数据库中没有可用的{0}密钥（签发密钥被宣告泄露后，请运行 issuer keys rotate 生成新密钥）"
    )]
    NoActive(KeyRole),
    /// The passphrase does not open the key (or the file was altered: the AEAD cannot tell).
    #[error("口令错误，无法解开私钥 {file}（wrong passphrase, or the key file was altered）")]
    WrongPassphrase { file: String },
    /// The passphrase opens the old key but is too weak to seal a new one.
    #[error("无法用当前口令加密新密钥：{0}")]
    WeakPassphrase(#[source] KeyError),
    #[error("私钥文件 {file} 与数据库记录的密钥 {kid} 不符")]
    Mismatch { file: String, kid: String },
    /// A key file that is missing, unreadable, too open or of the wrong role.
    #[error("{0:#}")]
    File(anyhow::Error),
    #[error("理由不能为空")]
    EmptyReason,
    #[error("理由不超过 {MAX_REASON_CHARS} 字")]
    LongReason,
}

impl KeysError {
    /// Whether the person asking can put it right (a passphrase or a reason), as opposed to a
    /// broken data directory or database.
    pub fn is_input(&self) -> bool {
        matches!(
            self,
            KeysError::WrongPassphrase { .. }
                | KeysError::WeakPassphrase(_)
                | KeysError::EmptyReason
                | KeysError::LongReason
        )
    }
}

/// The record of a key just made, active from `t`.
pub fn record(key: &SigningKey, role: KeyRole, file: String, t: i64) -> KeyRecord {
    KeyRecord {
        kid: key.kid().to_hex(),
        role: role.as_str().into(),
        public_key: key.public_key().to_hex(),
        file,
        status: "active".into(),
        created_at: t,
        retired_at: None,
        compromised_at: None,
        compromised_since: None,
        compromise_reason: None,
        scope_districts: String::new(),
        scope_categories: String::new(),
    }
}

/// The key of `role` in use.
pub fn active(store: &dyn Store, role: KeyRole) -> Result<KeyRecord, KeysError> {
    store
        .keys()?
        .into_iter()
        .find(|k| k.role == role.as_str() && k.status == "active")
        .ok_or(KeysError::NoActive(role))
}

/// Opens the sealed file of `record` (in `keys_dir`) with `passphrase`; it must hold that very
/// key, of `role`.
pub fn unlock(
    keys_dir: &Path,
    record: &KeyRecord,
    role: KeyRole,
    passphrase: &str,
) -> Result<SigningKey, KeysError> {
    let key = keyring::unlock(&keys_dir.join(&record.file), role, passphrase).map_err(|e| {
        let wrong = e.chain().any(|c| {
            matches!(
                c.downcast_ref::<KeyError>(),
                Some(KeyError::WrongPassphrase)
            )
        });
        if wrong {
            KeysError::WrongPassphrase {
                file: record.file.clone(),
            }
        } else {
            KeysError::File(e)
        }
    })?;
    if key.kid().to_hex() != record.kid {
        return Err(KeysError::Mismatch {
            file: record.file.clone(),
            kid: record.kid.clone(),
        });
    }
    Ok(key)
}

/// The active key of `role`, unlocked.
pub fn unlock_active(
    store: &dyn Store,
    keys_dir: &Path,
    role: KeyRole,
    passphrase: &str,
) -> Result<(KeyRecord, SigningKey), KeysError> {
    let record = active(store, role)?;
    let key = unlock(keys_dir, &record, role, passphrase)?;
    Ok((record, key))
}

/// What a rotation made: the new signing key (unlocked, for a signer that follows it) and the
/// key it retired.
pub struct Rotated {
    pub key: SigningKey,
    pub kid: String,
    pub retired_kid: String,
}

/// Makes a new signing key sealed under `passphrase`, in `keys_dir`, limited to `scope` (the
/// default: unlimited), and records it as the active one (the store retires the old one in the
/// same transaction). The passphrase is first
/// proved on the current signing key — or, after a compromise left none active, on the newest
/// — so every signing key stays under one passphrase.
pub fn rotate(
    store: &mut dyn Store,
    keys_dir: &Path,
    passphrase: &str,
    scope: &KeyScope,
    actor: &str,
    now: i64,
) -> Result<Rotated, KeysError> {
    let old = match active(store, KeyRole::Signing) {
        Ok(k) => k,
        Err(e) => store
            .keys()?
            .into_iter()
            .filter(|k| k.role == KeyRole::Signing.as_str())
            .max_by_key(|k| k.created_at)
            .ok_or(e)?,
    };
    unlock(keys_dir, &old, KeyRole::Signing, passphrase)?;
    // A passphrase set before the minimum existed opens the old key but seals no new one.
    checkpass::keys::check_new_passphrase(passphrase).map_err(KeysError::WeakPassphrase)?;
    let key = SigningKey::generate();
    let file = keyring::store_secret(keys_dir, &key, KeyRole::Signing, passphrase)
        .map_err(KeysError::File)?;
    let mut rec = record(&key, KeyRole::Signing, file, now);
    rec.set_scope(scope);
    store.add_key(&rec, actor, now)?;
    Ok(Rotated {
        kid: key.kid().to_hex(),
        key,
        retired_kid: old.kid,
    })
}

/// Declares the signing key `kid` stolen, with a reason: retired at once, and the next bundle
/// refuses what it signed from `since` on (`None`: everything it ever signed). A root key
/// cannot be revoked this way ([`StoreError::RootKeyCompromise`]).
pub fn declare_compromised(
    store: &mut dyn Store,
    kid: &str,
    reason: &str,
    since: Option<i64>,
    actor: &str,
    now: i64,
) -> Result<KeyRecord, KeysError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(KeysError::EmptyReason);
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(KeysError::LongReason);
    }
    let since = since.unwrap_or(COMPROMISED_ALWAYS);
    Ok(store.compromise_key(kid.trim(), since, reason, actor, now)?)
}

/// A key's role as lists show it.
pub fn role_label(k: &KeyRecord) -> &'static str {
    if k.role == KeyRole::Root.as_str() {
        "根密钥"
    } else {
        "签发密钥"
    }
}

/// A key's scope as lists show it: `全部` for an unlimited key, `—` for a root key.
pub fn scope_label(k: &KeyRecord) -> String {
    if k.role == KeyRole::Root.as_str() {
        return "—".into();
    }
    k.scope()
        .map_or_else(|e| format!("无效：{e}"), |s| s.to_string())
}

/// A key's state as lists show it.
pub fn status_label(k: &KeyRecord) -> &'static str {
    match (k.status.as_str(), k.compromised_at) {
        (_, Some(_)) => "已宣告泄露",
        ("active", None) => "使用中",
        _ => "已停用",
    }
}
