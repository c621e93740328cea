//! The trust bundle the checkpoints install: the signing keys with the times they may sign
//! for, the checkpoints, the revoked serials and the policy, signed by the root key. Built
//! here from the store, for the command line and the web service alike.
//!
//! Every bundle built is also *published*: kept in the store as the newest, which the web
//! service hands to the checkpoint web app (`/checkpoint/bundle.cose`) together with the root
//! public key (`/checkpoint/root.pub`), so that a phone online fetches the newest bundle
//! itself. Both are public: the bundle carries public keys, checkpoint names, revoked serials
//! and the policy, nothing about a person.

use checkpass::bundle::{IssuerKey, TrustBundle};
use checkpass::keys::SigningKey;

use crate::store::{Store, StoreError};

/// The `meta` key under which the newest bundle built is kept (hex of its bytes).
const PUBLISHED_BUNDLE: &str = "published_bundle";

/// A signing key stays in the bundle this long after its last pass could have been issued.
pub const KEY_LIFETIME_SECS: i64 = 10 * 365 * 24 * 3600;

#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("数据库中密钥 {kid} 的公钥无效：{source}")]
    BadKey {
        kid: String,
        #[source]
        source: checkpass::keys::KeyError,
    },
    #[error("数据库中密钥 {kid} 的范围无效：{source}")]
    BadScope {
        kid: String,
        #[source]
        source: checkpass::scope::ScopeError,
    },
    #[error("信任包签名失败：{0}")]
    Sign(#[source] checkpass::wire::WireError),
    #[error("导出的信任包自检失败：{0}")]
    SelfCheck(#[source] checkpass::bundle::BundleError),
    #[error("数据库中已发布的信任包已损坏（不是十六进制），请重新生成信任包")]
    Published,
}

/// The trust bundle as of `at`, with sequence 0 (the caller takes a real one).
pub fn contents(store: &dyn Store, at: i64) -> Result<TrustBundle, TrustError> {
    let policy = store.policy()?;
    let mut keys = Vec::new();
    for k in store.keys()?.into_iter().filter(|k| k.role == "signing") {
        let public_key = checkpass::keys::PublicKey::from_hex(&k.public_key).map_err(|source| {
            TrustError::BadKey {
                kid: k.kid.clone(),
                source,
            }
        })?;
        let signed_until = k
            .retired_at
            .unwrap_or(k.created_at.saturating_add(KEY_LIFETIME_SECS));
        let last_signed_expiry = store.last_expiry_signed_by(&k.kid)?.unwrap_or(i64::MIN);
        // Checkpoints refuse a pass that ends later than one window after its key's `valid_to`
        // (what bounds a stolen key). A pass issued days ahead of its trip may end later than
        // that after a rotation, so a retired key's `valid_to` reaches back from its last pass.
        let valid_to =
            signed_until.max(last_signed_expiry.saturating_sub(policy.max_validity_secs));
        // A retired key stays while any pass it may have signed can still be shown.
        let last_expiry = last_signed_expiry.max(valid_to.saturating_add(policy.max_validity_secs));
        // A compromised key stays for good, so its passes are refused by name, not as unknown.
        if k.status == "retired"
            && k.compromised_since.is_none()
            && last_expiry.saturating_add(policy.clock_skew_secs) < at
        {
            continue;
        }
        keys.push(IssuerKey {
            public_key,
            valid_from: k.created_at,
            valid_to,
            compromised_since: k.compromised_since,
            scope: k.scope().map_err(|source| TrustError::BadScope {
                kid: k.kid.clone(),
                source,
            })?,
        });
    }
    Ok(TrustBundle {
        sequence: 0,
        issued_at: at,
        issuer: store.issuer_id()?,
        keys,
        checkpoints: store.checkpoints()?,
        revoked: store.revoked_serials()?.into_iter().collect(),
        policy,
    })
}

/// Builds the bundle as of `at`, takes its sequence number (audited as `actor`, with `note`
/// saying where it goes), signs it with `root` and checks it the way a checkpoint will.
pub fn export(
    store: &mut dyn Store,
    root: &SigningKey,
    at: i64,
    actor: &str,
    note: &str,
) -> Result<(TrustBundle, Vec<u8>), TrustError> {
    let mut b = contents(store, at)?;
    let detail = format!("{note}：{}", summary(&b));
    b.sequence = store.next_bundle_sequence(actor, at, &detail)?;
    let bytes = checkpass::bundle::sign_bundle(&b, root).map_err(TrustError::Sign)?;
    checkpass::bundle::open_bundle(&bytes, &root.public_key(), None)
        .map_err(TrustError::SelfCheck)?;
    store.set_meta(PUBLISHED_BUNDLE, &hex::encode(&bytes))?;
    Ok((b, bytes))
}

/// The newest bundle built ([`export`]), as signed; `None` before the first.
pub fn published(store: &dyn Store) -> Result<Option<Vec<u8>>, TrustError> {
    let Some(text) = store.meta(PUBLISHED_BUNDLE)? else {
        return Ok(None);
    };
    hex::decode(text.trim())
        .map(Some)
        .map_err(|_| TrustError::Published)
}

/// The active root key as a public key file (what `issuer keys export` writes as `root.pub`
/// and a checkpoint pins); `None` before `issuer init`.
pub fn root_public_key_file(store: &dyn Store) -> Result<Option<String>, TrustError> {
    let Some(k) = store
        .keys()?
        .into_iter()
        .find(|k| k.role == "root" && k.status == "active")
    else {
        return Ok(None);
    };
    let public = checkpass::keys::PublicKey::from_hex(&k.public_key).map_err(|source| {
        TrustError::BadKey {
            kid: k.kid.clone(),
            source,
        }
    })?;
    Ok(Some(checkpass::keys::public_key_file(
        &public,
        checkpass::keys::KeyRole::Root,
    )))
}

/// "密钥 2 把，检查站 9 个，撤销 1 张".
pub fn summary(b: &TrustBundle) -> String {
    format!(
        "密钥 {} 把，检查站 {} 个，撤销 {} 张",
        b.keys.len(),
        b.checkpoints.len(),
        b.revoked.len()
    )
}
