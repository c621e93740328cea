//! The keys: listing, rotating the signing key, exporting the public keys the checkpoints pin,
//! declaring a signing key compromised (the rules: [`issuer::keys`]).

use std::process::ExitCode;

use anyhow::{Context, Result};
use checkpass::bundle::COMPROMISED_ALWAYS;
use checkpass::keys::KeyRole;
use checkpass::scope::KeyScope;
use serde_json::json;

use crate::cli::{ExportArgs, KeyRevokeArgs, RotateArgs};
use issuer::validate::format_cst;
use issuer::{keyring, keys};

use super::{Ctx, DataDir};

pub(super) fn keys_list(data: &DataDir, ctx: &Ctx) -> Result<ExitCode> {
    let store = data.open()?;
    let records = store.keys()?;
    if ctx.json {
        ctx.print_json(&records)?;
    } else {
        for k in &records {
            let role = keys::role_label(k);
            let status = keys::status_label(k);
            println!(
                "{}  {}({})  {}({})  {}  {}  范围: {}",
                k.kid,
                role,
                k.role,
                status,
                k.status,
                format_cst(k.created_at),
                k.public_key,
                keys::scope_label(k)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn keys_rotate(data: &DataDir, ctx: &Ctx, args: RotateArgs) -> Result<ExitCode> {
    let actor = ctx.actor()?;
    // A wrong list is refused before the passphrase is asked for.
    let scope = KeyScope::parse(&args.districts, &args.categories)?;
    let mut store = data.open()?;
    let passphrase = keyring::passphrase(false)?;
    let rotated = keys::rotate(
        &mut *store,
        &data.keys(),
        &passphrase,
        &scope,
        &actor,
        issuer::clock::now(),
    )?;
    if ctx.json {
        ctx.print_json(&json!({
            "new_kid": rotated.kid,
            "retired_kid": rotated.retired_kid,
            "scope_districts": scope.districts,
            "scope_categories": scope.categories.iter().map(|c| c.code()).collect::<Vec<_>>(),
        }))?;
    } else {
        println!(
            "新签发密钥 {}（范围：{scope}）；旧密钥 {} 已停用，其签发的通行证到期前仍有效。",
            rotated.kid, rotated.retired_kid
        );
        if !scope.is_unrestricted() {
            println!(
                "范围外的申请将拒绝签发；检查站须先升级到认识密钥范围的版本，再安装此后的信任包（docs/SECURITY.md）。"
            );
        }
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
    let since = super::parse_since(args.since.as_deref())?;
    let mut store = data.open()?;
    let key = keys::declare_compromised(
        &mut *store,
        &args.kid,
        &args.reason,
        since,
        &actor,
        issuer::clock::now(),
    )?;
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
