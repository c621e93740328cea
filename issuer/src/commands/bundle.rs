//! The trust bundle the checkpoints install: keys, checkpoints, revocations and policy, signed by
//! the root key.

use std::process::ExitCode;

use anyhow::{Context, Result};
use checkpass::bundle::{IssuerKey, TrustBundle};
use checkpass::keys::KeyRole;
use serde_json::json;

use crate::cli::BundleArgs;
use issuer::keyring;
use issuer::store::Store;

use super::keys::{active_key, unlock};
use super::{issuer_id, policy, Ctx, DataDir, KEY_LIFETIME_SECS};

/// The trust bundle as of `at` (sequence filled in by the caller).
fn trust_bundle(store: &dyn Store, at: i64) -> Result<TrustBundle> {
    let policy = policy(store)?;
    let mut keys = Vec::new();
    for k in store.keys()?.into_iter().filter(|k| k.role == "signing") {
        let public_key = checkpass::keys::PublicKey::from_hex(&k.public_key)
            .with_context(|| format!("数据库中密钥 {} 的公钥无效", k.kid))?;
        let signed_until = k.retired_at.unwrap_or(k.created_at + KEY_LIFETIME_SECS);
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
        });
    }
    let checkpoints = store.checkpoints()?;
    Ok(TrustBundle {
        sequence: 0,
        issued_at: at,
        issuer: issuer_id(store)?,
        keys,
        checkpoints,
        revoked: store.revoked_serials()?.into_iter().collect(),
        policy,
    })
}

pub(super) fn bundle(data: &DataDir, ctx: &Ctx, args: BundleArgs) -> Result<ExitCode> {
    let actor = ctx.actor()?;
    let mut store = data.open()?;
    let passphrase = keyring::root_passphrase()?;
    let root = unlock(
        data,
        &active_key(&*store, KeyRole::Root)?,
        KeyRole::Root,
        &passphrase,
    )?;
    let t = issuer::clock::now();
    let mut b = trust_bundle(&*store, t)?;
    let detail = format!(
        "密钥 {} 把，检查站 {} 个，撤销 {} 张",
        b.keys.len(),
        b.checkpoints.len(),
        b.revoked.len()
    );
    let audit_detail = format!("{}：{detail}", args.out.display());
    b.sequence = store.next_bundle_sequence(&actor, t, &audit_detail)?;
    let bytes = checkpass::bundle::sign_bundle(&b, &root).context("信任包签名失败")?;
    // Check it the way a checkpoint will before anyone receives it.
    checkpass::bundle::open_bundle(&bytes, &root.public_key(), None)
        .context("导出的信任包自检失败")?;
    // Owner-only; the operator copies it onto the checkpoints' USB stick.
    keyring::write_atomic(&args.out, &bytes, 0o600, true)?;
    if ctx.json {
        ctx.print_json(&json!({
            "out": args.out,
            "sequence": b.sequence,
            "issued_at": b.issued_at,
            "keys": b.keys.iter().map(|k| k.kid().to_hex()).collect::<Vec<_>>(),
            "checkpoints": b.checkpoints.len(),
            "revoked": b.revoked.len(),
            "bytes": bytes.len(),
        }))?;
    } else {
        println!(
            "已导出信任包 {}：序号 {}，{}",
            args.out.display(),
            b.sequence,
            detail
        );
    }
    Ok(ExitCode::SUCCESS)
}
