//! The trust bundle the checkpoints install: keys, checkpoints, revocations and policy, signed by
//! the root key.

use std::process::ExitCode;

use anyhow::Result;
use checkpass::keys::KeyRole;
use serde_json::json;

use crate::cli::BundleArgs;
use issuer::{keyring, keys, trust};

use super::{Ctx, DataDir};

pub(super) fn bundle(data: &DataDir, ctx: &Ctx, args: BundleArgs) -> Result<ExitCode> {
    let actor = ctx.actor()?;
    let mut store = data.open()?;
    let passphrase = keyring::root_passphrase()?;
    let (_, root) = keys::unlock_active(&*store, &data.keys(), KeyRole::Root, &passphrase)?;
    let t = issuer::clock::now();
    let note = args.out.display().to_string();
    let (b, bytes) = trust::export(&mut *store, &root, t, &actor, &note)?;
    let detail = trust::summary(&b);
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
