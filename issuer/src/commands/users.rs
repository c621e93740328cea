//! `issuer user`: the accounts people sign in to the web service with.

use std::process::ExitCode;

use anyhow::{bail, Result};
use checkpass::text::terminal_safe as safe;
use serde_json::json;

use crate::cli::UserAddArgs;
use issuer::accounts::{self, NewUser, Role};
use issuer::keyring;

use super::{Ctx, DataDir};

pub(super) fn add(data: &DataDir, ctx: &Ctx, args: UserAddArgs) -> Result<ExitCode> {
    let actor = ctx.actor()?;
    let user = NewUser::new(
        &args.name,
        args.role,
        args.district,
        args.organisation.as_deref(),
    )?;
    let mut store = data.open()?;
    if let Some(code) = user.district {
        if !store.districts()?.iter().any(|d| d.code == code) {
            bail!("区划代码 {code} 不在区划表中（issuer registry show）");
        }
    }
    let password = keyring::new_user_password()?;
    let hash = accounts::hash_password(&password)?;
    let created = store.add_user(&user, &hash, &actor, issuer::clock::now())?;
    if ctx.json {
        ctx.print_json(&created)?;
    } else {
        println!(
            "已添加账号 {}（{}）",
            safe(&created.name),
            created.role.label_zh()
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn list(data: &DataDir, ctx: &Ctx) -> Result<ExitCode> {
    let users = data.open()?.users()?;
    if ctx.json {
        ctx.print_json(&users)?;
        return Ok(ExitCode::SUCCESS);
    }
    for u in &users {
        let place = match (u.role, u.district, &u.organisation) {
            (Role::District, Some(code), _) => format!("区市 {code}"),
            (Role::Applicant, _, Some(org)) => format!("单位 {}", safe(org)),
            _ => String::new(),
        };
        let state = if u.is_active() { "" } else { "（已停用）" };
        println!(
            "{:<20} {:<10} {place}{state}",
            safe(&u.name),
            u.role.label_zh()
        );
    }
    println!("共 {} 个账号", users.len());
    Ok(ExitCode::SUCCESS)
}

pub(super) fn set_disabled(
    data: &DataDir,
    ctx: &Ctx,
    name: &str,
    disabled: bool,
) -> Result<ExitCode> {
    let actor = ctx.actor()?;
    let user = data
        .open()?
        .set_user_disabled(name, disabled, &actor, issuer::clock::now())?;
    if ctx.json {
        ctx.print_json(&user)?;
    } else if disabled {
        println!("账号 {} 已停用", safe(name));
    } else {
        println!("账号 {} 已重新启用", safe(name));
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn password(data: &DataDir, ctx: &Ctx, name: &str) -> Result<ExitCode> {
    let actor = ctx.actor()?;
    let mut store = data.open()?;
    if store.user_with_hash(name)?.is_none() {
        bail!("找不到账号 {}（issuer user list 列出全部账号）", safe(name));
    }
    let password = keyring::new_user_password()?;
    let hash = accounts::hash_password(&password)?;
    store.set_password(name, &hash, &actor, issuer::clock::now())?;
    if ctx.json {
        ctx.print_json(&json!({ "name": name, "password_changed": true }))?;
    } else {
        println!("账号 {} 的口令已更新", safe(name));
    }
    Ok(ExitCode::SUCCESS)
}
