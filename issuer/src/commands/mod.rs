//! One function per subcommand: each opens what it needs, calls the store and the pure modules,
//! and prints a Chinese summary or, with `--json`, JSON for scripts. Errors go back to `main`.
//!
//! This module owns the data directory's layout and the dispatch; the commands live by what
//! they work on: `init`, `intake` (import), `review` (list, show, audit, forward, approve,
//! reject), `passes` (issue, revoke, print, sms), `keys`, `bundle`, `registry` (and policy),
//! `network` (devices, scans import, findings).

mod bundle;
mod db;
mod init;
mod intake;
mod keys;
mod network;
mod passes;
mod registry;
mod review;
mod serve;
mod users;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use serde::Serialize;

use crate::cli::{
    Cli, Command, DbCommand, DevicesCommand, KeysCommand, PolicyCommand, RegistryCommand,
    ScansCommand, UserCommand,
};
use issuer::store::{Location, Store};
use issuer::workflow::Action;

/// Exit status of an import that stored the good rows but refused some.
pub const EXIT_ROWS_REFUSED: u8 = 2;
/// Exit status of an `issue --all` that issued the others but could not issue some.
pub const EXIT_SOME_REFUSED: u8 = 2;

const DB_FILE: &str = "issuer.db";

/// The data directory's layout, and where its database is.
pub struct DataDir {
    pub root: PathBuf,
    /// `--db` / `ISSUER_DB`; `None`: the SQLite file in the data directory.
    pub db: Option<Location>,
}

impl DataDir {
    /// The SQLite file a data directory keeps when no other database is named.
    pub fn db_file(&self) -> PathBuf {
        self.root.join(DB_FILE)
    }

    /// The store's location.
    pub fn location(&self) -> Location {
        self.db
            .clone()
            .unwrap_or_else(|| Location::sqlite(&self.db_file()))
    }
    pub fn keys(&self) -> PathBuf {
        self.root.join("keys")
    }
    pub fn passes(&self) -> PathBuf {
        self.root.join("passes")
    }

    /// Opens the store of an initialised data directory.
    fn open(&self) -> Result<Box<dyn Store>> {
        let location = self.location();
        if let Location::Sqlite(path) = &location {
            if !path.is_file() {
                bail!(
                    "数据目录 {} 不存在或尚未初始化：请先运行 issuer init（或用 --data 指定数据目录）",
                    self.root.display()
                );
            }
        }
        let store =
            issuer::store::open(&location).with_context(|| format!("无法打开数据库 {location}"))?;
        if store.meta("issuer")?.is_none() {
            bail!(
                "数据库 {location} 尚未初始化：请先运行 issuer init --db …（数据目录 {}）",
                self.root.display()
            );
        }
        Ok(store)
    }
}

/// Runs one parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let root = match &cli.data {
        Some(d) => d.clone(),
        None => directories::ProjectDirs::from("cn", "checkpass", "issuer")
            .map(|p| p.data_dir().to_path_buf())
            .ok_or_else(|| anyhow!("找不到系统的应用数据目录，请用 --data 指定"))?,
    };
    let db = cli
        .db
        .as_deref()
        .map(Location::parse)
        .transpose()
        .context("--db / ISSUER_DB")?;
    let data = DataDir { root, db };
    let ctx = Ctx {
        json: cli.json,
        by: cli.by.clone(),
    };
    match cli.command {
        Command::Init(a) => init::init(&data, &ctx, a),
        Command::Import(a) => intake::import_files(&data, &ctx, a),
        Command::List(a) => review::list(&data, &ctx, a),
        Command::Show(a) => review::show(&data, &ctx, a),
        Command::Forward(a) => review::bulk(&data, &ctx, Action::Forward, a),
        Command::Approve(a) => review::bulk(&data, &ctx, Action::Approve, a),
        Command::Reject(a) => review::reject(&data, &ctx, a),
        Command::Issue(a) => passes::issue(&data, &ctx, a),
        Command::Print(a) => passes::print(&data, &ctx, a),
        Command::Sms(a) => passes::sms_outbox(&data, &ctx, a),
        Command::Revoke(a) => passes::revoke(&data, &ctx, a),
        Command::Audit(a) => review::audit(&data, &ctx, a),
        Command::Bundle(a) => bundle::bundle(&data, &ctx, a),
        Command::Keys(k) => match k.command {
            KeysCommand::List => keys::keys_list(&data, &ctx),
            KeysCommand::Rotate(args) => keys::keys_rotate(&data, &ctx, args),
            KeysCommand::Export(a) => keys::keys_export(&data, &ctx, a),
            KeysCommand::Revoke(a) => keys::keys_revoke(&data, &ctx, a),
        },
        Command::Registry(r) => match r.command {
            RegistryCommand::Show => registry::registry_show(&data, &ctx),
            RegistryCommand::Load(a) => registry::registry_load(&data, &ctx, a),
        },
        Command::Policy(p) => match p.command {
            PolicyCommand::Show => registry::policy_show(&data, &ctx),
            PolicyCommand::Set(a) => registry::policy_set(&data, &ctx, a),
        },
        Command::Db(d) => match d.command {
            DbCommand::Copy(a) => db::copy(&ctx, a),
        },
        Command::User(u) => match u.command {
            UserCommand::Add(a) => users::add(&data, &ctx, a),
            UserCommand::List => users::list(&data, &ctx),
            UserCommand::Disable(a) => users::set_disabled(&data, &ctx, &a.name, true),
            UserCommand::Enable(a) => users::set_disabled(&data, &ctx, &a.name, false),
            UserCommand::Password(a) => users::password(&data, &ctx, &a.name),
        },
        Command::Serve(a) => serve::serve(&data, a),
        Command::Devices(d) => match d.command {
            DevicesCommand::Add(a) => network::devices_add(&data, &ctx, a),
            DevicesCommand::List => network::devices_list(&data, &ctx),
        },
        Command::Scans(s) => match s.command {
            ScansCommand::Import(a) => network::scans_import(&data, &ctx, a),
        },
        Command::Findings(a) => network::findings(&data, &ctx, a),
    }
}

struct Ctx {
    json: bool,
    by: Option<String>,
}

impl Ctx {
    /// Who is acting, for the audit trail.
    fn actor(&self) -> Result<String> {
        self.by
            .clone()
            .or_else(|| whoami::username().ok())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| anyhow!("无法确定操作人：请用 --by 指定（或设置 ISSUER_OPERATOR）"))
    }

    fn print_json(&self, value: &impl Serialize) -> Result<()> {
        println!("{}", serde_json::to_string_pretty(value)?);
        Ok(())
    }
}

/// A `--since` time as typed (`2022-03-12 08:00`, UTC+8).
fn parse_since(text: Option<&str>) -> Result<Option<i64>> {
    text.map(|t| {
        checkpass::time::parse_cst(t).ok_or_else(|| {
            anyhow::anyhow!("--since 的时间 “{t}” 无法识别，应为 “2022-03-12 08:00” 的形式")
        })
    })
    .transpose()
}
