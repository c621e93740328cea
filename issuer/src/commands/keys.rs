//! The keys: listing, rotating the signing key, exporting the public keys the checkpoints pin, and
//! unlocking a key for signing.

use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use checkpass::bundle::COMPROMISED_ALWAYS;
use checkpass::keys::{KeyRole, SigningKey};
use serde_json::json;

use crate::cli::{ExportArgs, KeyRevokeArgs};
use issuer::domain::KeyRecord;
use issuer::keyring;
use issuer::store::Store;
use issuer::validate::format_cst;

use super::init::key_record;
use super::{Ctx, DataDir};

pub(super) fn active_key(store: &dyn Store, role: KeyRole) -> Result<KeyRecord> {
    store
        .keys()?
        .into_iter()
        .find(|k| k.role == role.as_str() && k.status == "active")
        .ok_or_else(|| {
            anyhow!("数据库中没有可用的{role}密钥（签发密钥被宣告泄露后，请运行 issuer keys rotate 生成新密钥）")
        })
}

pub(super) fn unlock(
    data: &DataDir,
    record: &KeyRecord,
    role: KeyRole,
    passphrase: &str,
) -> Result<SigningKey> {
    let key = keyring::unlock(&data.keys().join(&record.file), role, passphrase)?;
    if key.kid().to_hex() != record.kid {
        bail!(
            "私钥文件 {} 与数据库记录的密钥 {} 不符",
            record.file,
            record.kid
        );
    }
    Ok(key)
}

pub(super) fn keys_list(data: &DataDir, ctx: &Ctx) -> Result<ExitCode> {
    let store = data.open()?;
    let keys = store.keys()?;
    if ctx.json {
        ctx.print_json(&keys)?;
    } else {
        for k in &keys {
            let role = if k.role == "root" {
                "根密钥"
            } else {
                "签发密钥"
            };
            let status = match (k.status.as_str(), k.compromised_at) {
                (_, Some(_)) => "已宣告泄露",
                ("active", None) => "使用中",
                _ => "已停用",
            };
            println!(
                "{}  {}({})  {}({})  {}  {}",
                k.kid,
                role,
                k.role,
                status,
                k.status,
                format_cst(k.created_at),
                k.public_key
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn keys_rotate(data: &DataDir, ctx: &Ctx) -> Result<ExitCode> {
    let actor = ctx.actor()?;
    let mut store = data.open()?;
    let passphrase = keyring::passphrase(false)?;
    // Prove the passphrase on the current signing key, so the new key is sealed under the same
    // one; after `keys revoke` there is none active, and the newest one proves it as well.
    let old = match active_key(&*store, KeyRole::Signing) {
        Ok(k) => k,
        Err(e) => store
            .keys()?
            .into_iter()
            .filter(|k| k.role == KeyRole::Signing.as_str())
            .max_by_key(|k| k.created_at)
            .ok_or(e)?,
    };
    unlock(data, &old, KeyRole::Signing, &passphrase)?;
    // A passphrase set before the minimum existed opens the old key but seals no new one.
    checkpass::keys::check_new_passphrase(&passphrase).context("无法用当前口令加密新密钥")?;
    let key = SigningKey::generate();
    let file = keyring::store_secret(&data.keys(), &key, KeyRole::Signing, &passphrase)?;
    let t = issuer::clock::now();
    store.add_key(&key_record(&key, KeyRole::Signing, file, t), &actor, t)?;
    if ctx.json {
        ctx.print_json(&json!({ "new_kid": key.kid().to_hex(), "retired_kid": old.kid }))?;
    } else {
        println!(
            "新签发密钥 {}；旧密钥 {} 已停用，其签发的通行证到期前仍有效。",
            key.kid(),
            old.kid
        );
        println!("请导出新的信任包：issuer bundle --out FILE");
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn keys_export(data: &DataDir, ctx: &Ctx, args: ExportArgs) -> Result<ExitCode> {
    let store = data.open()?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("无法创建目录 {}", args.out.display()))?;
    let mut written = Vec::new();
    for k in store.keys()? {
        let role = if k.role == "root" {
            KeyRole::Root
        } else {
            KeyRole::Signing
        };
        let public = checkpass::keys::PublicKey::from_hex(&k.public_key)
            .with_context(|| format!("数据库中密钥 {} 的公钥无效", k.kid))?;
        let text = checkpass::keys::public_key_file(&public, role);
        let mut names = vec![format!("{}-{}.pub", k.role, k.kid)];
        if role == KeyRole::Root && k.status == "active" {
            names.push("root.pub".into());
        }
        for name in names {
            let path = args.out.join(name);
            keyring::write_atomic(&path, text.as_bytes(), 0o644, true)?;
            written.push(path);
        }
    }
    if ctx.json {
        ctx.print_json(&written)?;
    } else {
        for p in &written {
            println!("{}", p.display());
        }
        println!(
            "检查站安装时固定根公钥：verifier init --root-key {}",
            args.out.join("root.pub").display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn keys_revoke(data: &DataDir, ctx: &Ctx, args: KeyRevokeArgs) -> Result<ExitCode> {
    let actor = ctx.actor()?;
    let reason = args.reason.trim();
    if reason.is_empty() {
        bail!("理由不能为空");
    }
    let since = super::parse_since(args.since.as_deref())?.unwrap_or(COMPROMISED_ALWAYS);
    let mut store = data.open()?;
    let key = store.compromise_key(&args.kid, since, reason, &actor, issuer::clock::now())?;
    if ctx.json {
        ctx.print_json(&key)?;
    } else {
        match key.compromised_since {
            Some(t) if t != COMPROMISED_ALWAYS => println!(
                "签发密钥 {} 已宣告泄露：{} 起用它签发的通行证，在检查站安装下一个信任包后一律拒绝。",
                key.kid,
                format_cst(t)
            ),
            _ => println!(
                "签发密钥 {} 已宣告泄露：用它签发的全部通行证，在检查站安装下一个信任包后一律拒绝。",
                key.kid
            ),
        }
        println!("1. 生成新签发密钥：issuer keys rotate");
        println!("2. 立即导出信任包并分发到各检查站：issuer bundle --out FILE");
        println!("3. 受影响的合法通行证须重新签发");
    }
    Ok(ExitCode::SUCCESS)
}
