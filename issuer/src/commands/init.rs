//! Creating a data directory: the keys, the registry and the policy it starts with.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use checkpass::bundle::Policy;
use checkpass::keys::{KeyRole, SigningKey};
use serde_json::json;

use crate::cli::InitArgs;
use issuer::domain::{Checkpoint, District, Place};
use issuer::import;
use issuer::keyring;
use issuer::store::Location;

use super::registry::read_registry_files;
use super::{Ctx, DataDir};

pub(super) fn init(data: &DataDir, ctx: &Ctx, args: InitArgs) -> Result<ExitCode> {
    let actor = ctx.actor()?;
    if data.db_file().exists() {
        bail!("数据目录 {} 已经初始化过，不会覆盖", data.root.display());
    }
    if let Ok(mut entries) = std::fs::read_dir(&data.root) {
        if entries.next().is_some() {
            bail!(
                "数据目录 {} 已存在且不为空，不会在其中初始化",
                data.root.display()
            );
        }
    }
    if args.issuer.trim().is_empty() || args.issuer.len() > checkpass::wire::limits::ISSUER {
        bail!(
            "签发机构标识应为 1 到 {} 个字节",
            checkpass::wire::limits::ISSUER
        );
    }
    // Read every input before creating anything, so a bad file leaves nothing behind.
    let built_in = args.districts.is_none() && args.checkpoints.is_none();
    let (districts, checkpoints, places) = if built_in {
        sample_registry()?
    } else {
        read_registry_files(args.districts.as_deref(), args.checkpoints.as_deref())?
    };
    let passphrase = keyring::passphrase(true)?;
    let root_passphrase = keyring::new_root_passphrase(args.separate_root_passphrase, &passphrase)?;

    // Build the directory under a temporary name beside it and rename it into place at the end.
    let parent = data
        .root
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).with_context(|| format!("无法创建 {}", parent.display()))?;
    let staging = tempfile::Builder::new()
        .prefix(".issuer-init-")
        .tempdir_in(parent)
        .with_context(|| format!("无法在 {} 中创建目录", parent.display()))?;
    let stage = DataDir {
        root: staging.path().to_path_buf(),
        db: data.db.clone(),
    };
    // A named database (`--db`) is used where it is; it must hold nothing yet. The default
    // SQLite file is created inside the staging directory and appears with it.
    let mut store = issuer::store::open(&stage.location())
        .with_context(|| format!("无法打开数据库 {}", stage.location()))?;
    if store.meta("issuer")?.is_some() || !store.keys()?.is_empty() {
        bail!(
            "数据库 {} 已经初始化过，不会覆盖。另一台机器加入同一个库时，请复制原数据目录（含 keys/）并用同一个 --db",
            stage.location()
        );
    }
    if let Some(Location::Sqlite(path)) = &data.db {
        if path.exists() && store.districts()?.len() + store.checkpoints()?.len() > 0 {
            bail!("数据库 {} 不是空的，不会在其中初始化", path.display());
        }
    }
    std::fs::create_dir(stage.keys())?;
    std::fs::create_dir(stage.passes())?;
    let t = issuer::clock::now();
    let root = SigningKey::generate();
    let signing = SigningKey::generate();
    let root_file = keyring::store_secret(&stage.keys(), &root, KeyRole::Root, &root_passphrase)?;
    let signing_file =
        keyring::store_secret(&stage.keys(), &signing, KeyRole::Signing, &passphrase)?;
    {
        store.set_meta("issuer_name", args.issuer_name.trim())?;
        store.set_meta("policy", &serde_json::to_string(&Policy::default())?)?;
        store.load_registry(&districts, &checkpoints, &actor, t)?;
        if !places.is_empty() {
            store.set_places(&places, &actor, t)?;
        }
        for (key, role, file) in [
            (&root, KeyRole::Root, root_file),
            (&signing, KeyRole::Signing, signing_file),
        ] {
            store.add_key(&issuer::keys::record(key, role, file, t), &actor, t)?;
        }
        // Last: a store is initialised once it names its issuer.
        store.set_meta("issuer", args.issuer.trim())?;
    }
    drop(store);
    let staged = staging.keep();
    // rename() replaces an empty directory, and fails on a non-empty one.
    if let Err(e) = std::fs::rename(&staged, &data.root) {
        let _ = std::fs::remove_dir_all(&staged);
        return Err(e).with_context(|| format!("无法创建数据目录 {}", data.root.display()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&data.root, std::fs::Permissions::from_mode(0o700))?;
    }
    if ctx.json {
        ctx.print_json(&json!({
            "data": data.root,
            "root_kid": root.kid().to_hex(),
            "signing_kid": signing.kid().to_hex(),
            "districts": districts.len(),
            "checkpoints": checkpoints.len(),
            "sample_registry": built_in,
        }))?;
    } else {
        println!("已初始化数据目录 {}", data.root.display());
        println!("  根密钥   {}", root.kid());
        println!("  签发密钥 {}", signing.kid());
        println!(
            "  区划 {} 个，检查站 {} 个",
            districts.len(),
            checkpoints.len()
        );
        if built_in {
            println!(
                "  未指定 --districts/--checkpoints：已载入内置的威海示例表（虚构数据），\
                 可用 issuer registry load 替换 / the built-in sample registry was loaded"
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The sample registry in `samples/weihai/` (fictional), compiled in: what `init` loads when
/// given neither file, so that a first try works with the sample applications.
fn sample_registry() -> Result<(Vec<District>, Vec<Checkpoint>, Vec<Place>)> {
    const DISTRICTS: &[u8] = include_bytes!("../../../samples/weihai/districts.csv");
    const CHECKPOINTS: &[u8] = include_bytes!("../../../samples/weihai/checkpoints.csv");
    Ok((
        import::parse_districts("内置示例 districts.csv", DISTRICTS)?,
        import::parse_checkpoints("内置示例 checkpoints.csv", CHECKPOINTS)?,
        import::parse_places("内置示例 checkpoints.csv", CHECKPOINTS)?,
    ))
}
