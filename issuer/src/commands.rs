//! One function per subcommand: each opens what it needs, calls the store and the pure modules,
//! and prints a Chinese summary or, with `--json`, JSON for scripts. Errors go back to `main`.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use checkpass::bundle::{IssuerKey, Policy, TrustBundle};
use checkpass::keys::{KeyRole, SigningKey};
use checkpass::pass::Serial;
use serde::Serialize;
use serde_json::json;

use crate::cli::{
    AuditArgs, BulkArgs, BundleArgs, Cli, Command, ExportArgs, FormatArg, ImportArgs, InitArgs,
    IssueArgs, IssuedSelection, KeysCommand, ListArgs, PolicyCommand, PolicySetArgs, PrintArgs,
    RegistryCommand, RegistryLoadArgs, RejectArgs, RevokeArgs, ShowArgs, SmsArgs,
};
use crate::import::{self, ImportError};
use crate::issuing;
use crate::keyring;
use crate::render::Formats;
use crate::store::{
    Application, Checkpoint, District, ImportOutcome, KeyRecord, ListFilter, Store,
};
use crate::validate::{self, format_cst, NewApplication, Problem, RawRow, Rules};
use crate::workflow::{self, Action, Status};

/// Exit status of an import that stored the good rows but refused some.
pub const EXIT_ROWS_REFUSED: u8 = 2;

const DB_FILE: &str = "issuer.db";
/// A signing key stays in the bundle this long after its last pass could have been issued.
const KEY_LIFETIME_SECS: i64 = 10 * 365 * 24 * 3600;

/// The data directory's layout.
pub struct DataDir {
    pub root: PathBuf,
}

impl DataDir {
    pub fn db(&self) -> PathBuf {
        self.root.join(DB_FILE)
    }
    pub fn keys(&self) -> PathBuf {
        self.root.join("keys")
    }
    pub fn passes(&self) -> PathBuf {
        self.root.join("passes")
    }
    fn issue_lock(&self) -> PathBuf {
        self.root.join("issue.lock")
    }

    /// Opens an initialised data directory.
    fn open(&self) -> Result<Store> {
        if !self.db().is_file() {
            bail!(
                "数据目录 {} 不存在或尚未初始化：请先运行 issuer init（或用 --data 指定数据目录）",
                self.root.display()
            );
        }
        Store::open(&self.db()).with_context(|| format!("无法打开数据库 {}", self.db().display()))
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
    let data = DataDir { root };
    let ctx = Ctx {
        json: cli.json,
        by: cli.by.clone(),
    };
    match cli.command {
        Command::Init(a) => init(&data, &ctx, a),
        Command::Import(a) => import_files(&data, &ctx, a),
        Command::List(a) => list(&data, &ctx, a),
        Command::Show(a) => show(&data, &ctx, a),
        Command::Forward(a) => bulk(&data, &ctx, Action::Forward, a),
        Command::Approve(a) => bulk(&data, &ctx, Action::Approve, a),
        Command::Reject(a) => reject(&data, &ctx, a),
        Command::Issue(a) => issue(&data, &ctx, a),
        Command::Print(a) => print(&data, &ctx, a),
        Command::Sms(a) => sms_outbox(&data, &ctx, a),
        Command::Revoke(a) => revoke(&data, &ctx, a),
        Command::Audit(a) => audit(&data, &ctx, a),
        Command::Bundle(a) => bundle(&data, &ctx, a),
        Command::Keys(k) => match k.command {
            KeysCommand::List => keys_list(&data, &ctx),
            KeysCommand::Rotate => keys_rotate(&data, &ctx),
            KeysCommand::Export(a) => keys_export(&data, &ctx, a),
        },
        Command::Registry(r) => match r.command {
            RegistryCommand::Show => registry_show(&data, &ctx),
            RegistryCommand::Load(a) => registry_load(&data, &ctx, a),
        },
        Command::Policy(p) => match p.command {
            PolicyCommand::Show => policy_show(&data, &ctx),
            PolicyCommand::Set(a) => policy_set(&data, &ctx, a),
        },
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

fn policy(store: &Store) -> Result<Policy> {
    match store.meta("policy")? {
        Some(text) => serde_json::from_str(&text).context("数据库中的策略 (policy) 无法读取"),
        None => Ok(Policy::default()),
    }
}

fn issuer_id(store: &Store) -> Result<String> {
    store
        .meta("issuer")?
        .ok_or_else(|| anyhow!("数据库中缺少签发机构标识：数据目录未完整初始化"))
}

// ---------------------------------------------------------------- init

fn init(data: &DataDir, ctx: &Ctx, args: InitArgs) -> Result<ExitCode> {
    let actor = ctx.actor()?;
    if data.db().exists() {
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
    let (districts, checkpoints) = if built_in {
        sample_registry()?
    } else {
        read_registry_files(args.districts.as_deref(), args.checkpoints.as_deref())?
    };
    let passphrase = keyring::passphrase(true)?;

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
    };
    std::fs::create_dir(stage.keys())?;
    std::fs::create_dir(stage.passes())?;
    let t = crate::clock::now();
    let root = SigningKey::generate();
    let signing = SigningKey::generate();
    let root_file = keyring::store_secret(&stage.keys(), &root, KeyRole::Root, &passphrase)?;
    let signing_file =
        keyring::store_secret(&stage.keys(), &signing, KeyRole::Signing, &passphrase)?;
    {
        let mut store = Store::open(&stage.db())?;
        store.set_meta("issuer", args.issuer.trim())?;
        store.set_meta("issuer_name", args.issuer_name.trim())?;
        store.set_meta("policy", &serde_json::to_string(&Policy::default())?)?;
        store.load_registry(&districts, &checkpoints, &actor, t)?;
        for (key, role, file) in [
            (&root, KeyRole::Root, root_file),
            (&signing, KeyRole::Signing, signing_file),
        ] {
            store.add_key(&key_record(key, role, file, t), &actor, t)?;
        }
    }
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
fn sample_registry() -> Result<(Vec<District>, Vec<Checkpoint>)> {
    const DISTRICTS: &[u8] = include_bytes!("../../samples/weihai/districts.csv");
    const CHECKPOINTS: &[u8] = include_bytes!("../../samples/weihai/checkpoints.csv");
    Ok((
        import::parse_districts("内置示例 districts.csv", DISTRICTS)?,
        import::parse_checkpoints("内置示例 checkpoints.csv", CHECKPOINTS)?,
    ))
}

fn key_record(key: &SigningKey, role: KeyRole, file: String, t: i64) -> KeyRecord {
    KeyRecord {
        kid: key.kid().to_hex(),
        role: role.as_str().into(),
        public_key: key.public_key().to_hex(),
        file,
        status: "active".into(),
        created_at: t,
        retired_at: None,
    }
}

// ---------------------------------------------------------------- import

/// One refused row, as listed to the district liaison.
#[derive(Debug, Serialize)]
struct RefusedRow {
    file: String,
    row: usize,
    app_no: String,
    problems: Vec<Problem>,
}

#[derive(Debug, Serialize, Default)]
struct ImportReport {
    files: Vec<String>,
    /// How each file was read: "utf-8", "gbk" or "workbook".
    encodings: Vec<&'static str>,
    rows: usize,
    imported: usize,
    already_imported: usize,
    refused: Vec<RefusedRow>,
    elapsed_secs: f64,
}

fn import_files(data: &DataDir, ctx: &Ctx, args: ImportArgs) -> Result<ExitCode> {
    let actor = ctx.actor()?;
    let mut store = data.open()?;
    let checkpoints = store.checkpoints()?;
    if checkpoints.is_empty() {
        bail!(
            "尚未载入检查站表，无法校验路线：请先运行 issuer registry load --checkpoints FILE / \
             no checkpoints loaded yet: run issuer registry load --checkpoints FILE first"
        );
    }
    let policy = policy(&store)?;
    let rules = Rules {
        checkpoints: checkpoints.iter().map(|c| c.code.clone()).collect(),
        districts: store.districts()?.iter().map(|d| d.code).collect(),
        max_test_age_secs: policy.max_test_age_secs,
        max_window_secs: policy.max_validity_secs,
    };
    let started = Instant::now();
    let mut report = ImportReport::default();
    // Read every file first: a malformed file stops the import before anything is stored.
    let mut sheets = Vec::new();
    for path in &args.files {
        let sheet = import::read_file(path).map_err(|e: ImportError| anyhow!(e))?;
        sheets.push((path.display().to_string(), sheet.rows, sheet.encoding));
    }
    for (name, rows, encoding) in sheets {
        report.files.push(name.clone());
        report.encodings.push(match encoding {
            Some(import::TextEncoding::Utf8) => "utf-8",
            Some(import::TextEncoding::Gbk) => "gbk",
            None => "workbook",
        });
        report.rows += rows.len();
        let (good, mut refused) = check_rows(&name, &rows, &rules);
        let outcomes = store.import(&good, &name, &actor, crate::clock::now())?;
        for (app, outcome) in good.iter().zip(outcomes) {
            let problem = match outcome {
                ImportOutcome::Inserted => {
                    report.imported += 1;
                    continue;
                }
                ImportOutcome::AlreadyImported => {
                    report.already_imported += 1;
                    continue;
                }
                ImportOutcome::Conflicting => Problem::with_detail(
                    "申请编号已存在，但内容与已导入的不同",
                    "如需更正请使用新的申请编号",
                ),
                ImportOutcome::Overlaps(other) => {
                    Problem::with_detail("同一车牌通行时间段重叠", format!("与 {other}"))
                }
            };
            refused.push(RefusedRow {
                file: name.clone(),
                row: app.row,
                app_no: app.app_no.clone(),
                problems: vec![problem],
            });
        }
        refused.sort_by_key(|r| r.row);
        report.refused.extend(refused);
    }
    report.elapsed_secs = started.elapsed().as_secs_f64();
    if ctx.json {
        ctx.print_json(&report)?;
    } else {
        for r in &report.refused {
            let reasons: Vec<String> = r.problems.iter().map(Problem::to_string).collect();
            println!(
                "拒绝 {} 第{}行 {}：{}",
                r.file,
                r.row,
                r.app_no,
                reasons.join("；")
            );
        }
        println!(
            "共 {} 行：导入 {} 行，已导入过 {} 行，拒绝 {} 行（用时 {:.2} 秒）",
            report.rows,
            report.imported,
            report.already_imported,
            report.refused.len(),
            report.elapsed_secs
        );
    }
    Ok(if report.refused.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_ROWS_REFUSED)
    })
}

/// Validates rows and the checks that span rows of one file (repeated numbers, overlapping
/// windows of one plate).
fn check_rows(
    file: &str,
    rows: &[RawRow],
    rules: &Rules,
) -> (Vec<NewApplication>, Vec<RefusedRow>) {
    let mut good: Vec<NewApplication> = Vec::new();
    let mut refused = Vec::new();
    let mut seen_numbers: HashSet<String> = HashSet::new();
    let mut by_plate: HashMap<String, Vec<usize>> = HashMap::new();
    for raw in rows {
        let mut problems = match validate::validate_row(raw, rules) {
            Ok(app) => {
                let mut problems = Vec::new();
                if !seen_numbers.insert(app.app_no.clone()) {
                    problems.push(Problem::new("申请编号在文件中重复"));
                } else if let Some(other) = by_plate.get(&app.plate).and_then(|ids| {
                    ids.iter()
                        .map(|i| &good[*i])
                        .find(|o| o.start_at < app.end_at && app.start_at < o.end_at)
                }) {
                    problems.push(Problem::with_detail(
                        "同一车牌通行时间段重叠",
                        format!("与 {}", other.app_no),
                    ));
                }
                if problems.is_empty() {
                    by_plate
                        .entry(app.plate.clone())
                        .or_default()
                        .push(good.len());
                    good.push(app);
                    continue;
                }
                problems
            }
            Err(problems) => problems,
        };
        problems.dedup();
        refused.push(RefusedRow {
            file: file.to_string(),
            row: raw.row,
            app_no: raw.app_no(),
            problems,
        });
    }
    (good, refused)
}

// ---------------------------------------------------------------- list / show / audit

/// An application as listed, with display times.
#[derive(Serialize)]
struct Listed<'a> {
    #[serde(flatten)]
    app: &'a Application,
    status_zh: &'static str,
    start: String,
    end: String,
}

fn listed(app: &Application) -> Listed<'_> {
    Listed {
        app,
        status_zh: app.status.label_zh(),
        start: format_cst(app.data.start_at),
        end: format_cst(app.data.end_at),
    }
}

fn list(data: &DataDir, ctx: &Ctx, args: ListArgs) -> Result<ExitCode> {
    let store = data.open()?;
    let filter = ListFilter {
        status: args.status,
        district: args.district,
        plate: args.plate.as_deref().map(validate::normalize_plate),
    };
    let apps = store.list(&filter)?;
    if ctx.json {
        ctx.print_json(&apps.iter().map(listed).collect::<Vec<_>>())?;
    } else {
        for a in &apps {
            let serial = a
                .pass
                .as_ref()
                .map(|p| p.serial.to_string())
                .unwrap_or_else(|| "-".into());
            println!(
                "{}  {}  {}  {}  {} 至 {}  {}  {}",
                a.data.app_no,
                a.status.label_zh(),
                a.data.district,
                a.data.plate,
                format_cst(a.data.start_at),
                format_cst(a.data.end_at),
                a.data.route.join("→"),
                serial
            );
        }
        println!("共 {} 份申请", apps.len());
    }
    Ok(ExitCode::SUCCESS)
}

fn find_app(store: &Store, id: &str) -> Result<Application> {
    match store.get(id) {
        Ok(app) => Ok(app),
        Err(crate::store::StoreError::NoSuchApplication(_)) => match id.parse::<Serial>() {
            Ok(serial) => Ok(store.get_by_serial(serial)?),
            Err(_) => bail!("找不到申请 {id}"),
        },
        Err(e) => Err(e.into()),
    }
}

fn show(data: &DataDir, ctx: &Ctx, args: ShowArgs) -> Result<ExitCode> {
    let store = data.open()?;
    let app = find_app(&store, &args.id)?;
    if ctx.json {
        ctx.print_json(&listed(&app))?;
        return Ok(ExitCode::SUCCESS);
    }
    let d = &app.data;
    let opt = |v: &Option<String>, at: Option<i64>| match (v, at) {
        (Some(v), Some(at)) => format!("{v}，{}", format_cst(at)),
        _ => "-".into(),
    };
    println!("申请编号   {}", d.app_no);
    println!("状态       {}（{}）", app.status.label_zh(), app.status);
    println!("申请人类型 {}    所属区市 {}", d.applicant_type, d.district);
    println!(
        "车牌号     {}{}",
        d.plate,
        d.trailer
            .as_deref()
            .map(|t| format!("  挂车 {t}"))
            .unwrap_or_default()
    );
    println!(
        "驾驶人员   {}  {}  {}  随车 {} 人",
        d.driver_name, d.driver_id, d.mobile, d.occupants
    );
    println!("货物       {}：{}", d.category.label_zh(), d.cargo);
    println!("起运/运送  {} → {}", d.origin, d.destination);
    println!(
        "通行时间   {} 至 {}",
        format_cst(d.start_at),
        format_cst(d.end_at)
    );
    println!("路线       {}", d.route.join("→"));
    println!(
        "核酸       {} 采样，{}",
        format_cst(d.test_sampled_at),
        d.test_result
    );
    println!(
        "来源       {} 第{}行，{} 导入于 {}",
        app.source_file,
        d.row,
        app.imported_by,
        format_cst(app.imported_at)
    );
    println!("区市转报   {}", opt(&app.forwarded_by, app.forwarded_at));
    println!("市级审核   {}", opt(&app.decided_by, app.decided_at));
    if let Some(r) = &app.reject_reason {
        println!("驳回理由   {r}");
    }
    if let Some(p) = &app.pass {
        println!(
            "通行证     {}（{}，密钥 {}，{} 签发于 {}）",
            p.serial,
            p.state,
            p.kid,
            p.issued_by,
            format_cst(p.issued_at)
        );
        if let Some(at) = p.revoked_at {
            println!(
                "已撤销     {}，{}：{}",
                format_cst(at),
                p.revoked_by.as_deref().unwrap_or("-"),
                p.revoke_reason.as_deref().unwrap_or("-")
            );
        }
        println!(
            "文件       {}",
            issuing::pass_dir(&data.passes(), p.serial).display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn audit(data: &DataDir, ctx: &Ctx, args: AuditArgs) -> Result<ExitCode> {
    let store = data.open()?;
    let entries = store.audit(args.id.as_deref())?;
    if ctx.json {
        ctx.print_json(&entries)?;
    } else {
        for e in &entries {
            let change = match (&e.from_status, &e.to_status) {
                (Some(f), Some(t)) => format!("{f} → {t}"),
                (None, Some(t)) => format!("→ {t}"),
                _ => String::new(),
            };
            println!(
                "#{}  {}  {}  {}  {}  {}  {}  {}",
                e.id,
                format_cst(e.at),
                e.actor,
                e.action,
                e.app_no.as_deref().unwrap_or("-"),
                e.serial.as_deref().unwrap_or("-"),
                change,
                e.detail.as_deref().unwrap_or("")
            );
        }
        println!("共 {} 条记录", entries.len());
    }
    Ok(ExitCode::SUCCESS)
}

// ---------------------------------------------------------------- workflow

#[derive(Serialize)]
struct Changed {
    app_no: String,
    status: Status,
}

fn apply(
    data: &DataDir,
    ctx: &Ctx,
    action: Action,
    ids: Vec<String>,
    reason: Option<&str>,
) -> Result<ExitCode> {
    let actor = ctx.actor()?;
    let mut store = data.open()?;
    let t = crate::clock::now();
    let changed: Vec<Changed> = store
        .transition(&ids, action, &actor, t, reason)?
        .into_iter()
        .map(|app| Changed {
            app_no: app.data.app_no,
            status: app.status,
        })
        .collect();
    if ctx.json {
        ctx.print_json(&changed)?;
    } else {
        for c in &changed {
            println!(
                "{} {}：{}",
                action.label_zh(),
                c.app_no,
                c.status.label_zh()
            );
        }
        println!("{}了 {} 份申请", action.label_zh(), changed.len());
    }
    Ok(ExitCode::SUCCESS)
}

fn bulk(data: &DataDir, ctx: &Ctx, action: Action, args: BulkArgs) -> Result<ExitCode> {
    let ids = if args.all {
        let (from, _) = workflow::rule(action);
        data.open()?.app_nos_with_status(from, args.district)?
    } else {
        args.ids
    };
    apply(data, ctx, action, ids, None)
}

fn reject(data: &DataDir, ctx: &Ctx, args: RejectArgs) -> Result<ExitCode> {
    if args.reason.trim().is_empty() {
        bail!("驳回理由不能为空");
    }
    apply(
        data,
        ctx,
        Action::Reject,
        args.ids,
        Some(args.reason.trim()),
    )
}

fn revoke(data: &DataDir, ctx: &Ctx, args: RevokeArgs) -> Result<ExitCode> {
    let actor = ctx.actor()?;
    if args.reason.trim().is_empty() {
        bail!("撤销理由不能为空");
    }
    let serial: Serial = args
        .serial
        .parse()
        .map_err(|e| anyhow!("通行证编号 {} 无效：{e}", args.serial))?;
    let mut store = data.open()?;
    let app = store.revoke(serial, args.reason.trim(), &actor, crate::clock::now())?;
    if ctx.json {
        ctx.print_json(&listed(&app))?;
    } else {
        println!("已撤销通行证 {serial}（申请 {}）。请导出新的信任包分发给检查站：issuer bundle --out FILE", app.data.app_no);
    }
    Ok(ExitCode::SUCCESS)
}

// ---------------------------------------------------------------- keys

fn active_key(store: &Store, role: KeyRole) -> Result<KeyRecord> {
    store
        .keys()?
        .into_iter()
        .find(|k| k.role == role.as_str() && k.status == "active")
        .ok_or_else(|| anyhow!("数据库中没有可用的{}密钥", role))
}

fn unlock(
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

fn keys_list(data: &DataDir, ctx: &Ctx) -> Result<ExitCode> {
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
            let status = if k.status == "active" {
                "使用中"
            } else {
                "已停用"
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

fn keys_rotate(data: &DataDir, ctx: &Ctx) -> Result<ExitCode> {
    let actor = ctx.actor()?;
    let mut store = data.open()?;
    let passphrase = keyring::passphrase(false)?;
    // Prove the passphrase on the current signing key, so the new key is sealed under the same one.
    let old = active_key(&store, KeyRole::Signing)?;
    unlock(data, &old, KeyRole::Signing, &passphrase)?;
    let key = SigningKey::generate();
    let file = keyring::store_secret(&data.keys(), &key, KeyRole::Signing, &passphrase)?;
    let t = crate::clock::now();
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

fn keys_export(data: &DataDir, ctx: &Ctx, args: ExportArgs) -> Result<ExitCode> {
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

// ---------------------------------------------------------------- bundle

/// The trust bundle as of `at` (sequence filled in by the caller).
fn trust_bundle(store: &Store, at: i64) -> Result<TrustBundle> {
    let policy = policy(store)?;
    let mut keys = Vec::new();
    for k in store.keys()?.into_iter().filter(|k| k.role == "signing") {
        let public_key = checkpass::keys::PublicKey::from_hex(&k.public_key)
            .with_context(|| format!("数据库中密钥 {} 的公钥无效", k.kid))?;
        let valid_to = k.retired_at.unwrap_or(k.created_at + KEY_LIFETIME_SECS);
        // A retired key stays while any pass it may have signed can still be shown.
        let last_expiry = store
            .last_expiry_signed_by(&k.kid)?
            .unwrap_or(0)
            .max(valid_to + policy.max_validity_secs);
        if k.status == "retired" && last_expiry + policy.clock_skew_secs < at {
            continue;
        }
        keys.push(IssuerKey {
            public_key,
            valid_from: k.created_at,
            valid_to,
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

fn bundle(data: &DataDir, ctx: &Ctx, args: BundleArgs) -> Result<ExitCode> {
    let actor = ctx.actor()?;
    let mut store = data.open()?;
    let passphrase = keyring::passphrase(false)?;
    let root = unlock(
        data,
        &active_key(&store, KeyRole::Root)?,
        KeyRole::Root,
        &passphrase,
    )?;
    let t = crate::clock::now();
    let mut b = trust_bundle(&store, t)?;
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

// ---------------------------------------------------------------- print

/// The issued, unrevoked passes `which` names, in serial order; a revoked or unissued one
/// named by id is an error.
fn issued_apps(store: &Store, which: &IssuedSelection) -> Result<Vec<Application>> {
    let mut apps = if which.all {
        store.list(&ListFilter {
            status: Some(Status::Issued),
            district: which.district,
            plate: None,
        })?
    } else {
        let mut apps = Vec::new();
        for id in &which.ids {
            let app = find_app(store, id)?;
            match app.status {
                Status::Issued => apps.push(app),
                Status::Revoked => bail!("申请 {} 的通行证已撤销", app.data.app_no),
                other => bail!(
                    "申请 {} 尚未签发通行证（当前状态：{}）",
                    app.data.app_no,
                    other.label_zh()
                ),
            }
        }
        apps
    };
    apps.sort_by_key(|a| a.pass.as_ref().map(|p| p.serial));
    apps.dedup_by_key(|a| a.pass.as_ref().map(|p| p.serial));
    Ok(apps)
}

/// The pass sheets of `apps` (those with a pass).
fn sheets_of(store: &Store, apps: &[Application]) -> Result<Vec<crate::render::PassSheet>> {
    let checkpoints = store.checkpoints()?;
    let issuer = issuer_id(store)?;
    let issuer_name = store.meta("issuer_name")?.unwrap_or(issuer);
    Ok(apps
        .iter()
        .filter_map(|app| {
            let pass = app.pass.as_ref()?;
            Some(issuing::sheet_data(app, pass, &checkpoints, &issuer_name))
        })
        .collect())
}

fn print(data: &DataDir, ctx: &Ctx, args: PrintArgs) -> Result<ExitCode> {
    let store = data.open()?;
    let apps = issued_apps(&store, &args.which)?;
    if apps.is_empty() {
        bail!("没有可打印的通行证（已签发且未撤销）");
    }
    let sheets = sheets_of(&store, &apps)?;
    let pdf = crate::render::print_pdf(&sheets).context("生成打印文件失败")?;
    // Readable by the operator only: the sheets carry names and masked ID numbers.
    keyring::write_atomic(&args.out, &pdf, 0o600, true)?;
    if ctx.json {
        ctx.print_json(&json!({
            "out": args.out,
            "pages": sheets.len(),
            "serials": sheets.iter().map(|s| &s.serial).collect::<Vec<_>>(),
        }))?;
    } else {
        println!(
            "已将 {} 张通行证写入 {}（每页一张，A5）",
            sheets.len(),
            args.out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Header of the SMS outbox: the two columns SMS gateways' batch upload takes first, then
/// what the operator needs to trace a message back.
const SMS_HEADER: [&str; 4] = ["手机号码", "短信内容", "申请编号", "通行证编号"];

fn sms_outbox(data: &DataDir, ctx: &Ctx, args: SmsArgs) -> Result<ExitCode> {
    let store = data.open()?;
    let since = match &args.since {
        Some(t) => Some(checkpass::time::parse_cst(t).ok_or_else(|| {
            anyhow!("--since 的时间 “{t}” 无法识别，应为 “2022-03-12 08:00” 的形式")
        })?),
        None => None,
    };
    let apps: Vec<Application> = issued_apps(&store, &args.which)?
        .into_iter()
        .filter(|a| match (since, &a.pass) {
            (Some(t), Some(p)) => p.issued_at >= t,
            _ => true,
        })
        .collect();
    if apps.is_empty() {
        bail!("没有需要发送短信的通行证（已签发且未撤销）");
    }
    let sheets = sheets_of(&store, &apps)?;
    // UTF-8 with a byte-order mark: Excel (and the gateways' Excel templates) read it right.
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    w.write_record(SMS_HEADER)?;
    for (app, sheet) in apps.iter().zip(&sheets) {
        w.write_record([
            app.data.mobile.as_str(),
            &crate::render::sms_text(sheet),
            &app.data.app_no,
            &sheet.serial,
        ])?;
    }
    let bytes = w.into_inner().map_err(|e| anyhow!("{e}"))?;
    // Owner-only: the outbox holds the drivers' phone numbers.
    keyring::write_atomic(&args.out, &bytes, 0o600, true)?;
    if ctx.json {
        ctx.print_json(&json!({ "out": args.out, "messages": sheets.len() }))?;
    } else {
        println!("已导出 {} 条短信到 {}", sheets.len(), args.out.display());
    }
    Ok(ExitCode::SUCCESS)
}

// ---------------------------------------------------------------- issue

#[derive(Serialize)]
struct IssuedPass {
    app_no: String,
    serial: String,
    dir: PathBuf,
    /// False when the application already had its pass (issuing is idempotent).
    new: bool,
    /// The pass was revoked: it is reported, but no file of it is written again.
    revoked: bool,
}

fn formats(args: &[FormatArg]) -> Formats {
    if args.contains(&FormatArg::All) {
        return Formats::all();
    }
    let png = args.contains(&FormatArg::Png);
    Formats {
        qr_png: png,
        qr_svg: args.contains(&FormatArg::Svg),
        sheet_pdf: args.contains(&FormatArg::Pdf),
        sheet_png: png,
    }
}

fn issue(data: &DataDir, ctx: &Ctx, args: IssueArgs) -> Result<ExitCode> {
    let actor = ctx.actor()?;
    let mut store = data.open()?;
    let formats = formats(&args.formats);
    let passes_dir = data.passes();
    std::fs::create_dir_all(&passes_dir)
        .with_context(|| format!("无法创建 {}", passes_dir.display()))?;

    // One issuing process at a time per data directory; a second one waits, then finds the
    // work done. (Correctness does not depend on it: reservations and the final update are
    // transactional. It only avoids rendering the same passes twice.)
    let lock = File::create(data.issue_lock())
        .with_context(|| format!("无法创建 {}", data.issue_lock().display()))?;
    if lock.try_lock().is_err() {
        eprintln!("另一个 issuer 进程正在签发，等待其完成…");
        lock.lock().context("无法获得签发锁")?;
    }
    issuing::remove_stale_temps(&passes_dir)?;

    let checkpoints = store.checkpoints()?;
    let issuer = issuer_id(&store)?;
    let issuer_name = store.meta("issuer_name")?.unwrap_or_else(|| issuer.clone());
    let started = Instant::now();
    let mut out = Vec::new();

    // A single application that already has its pass: give the same pass back.
    if let Some(id) = &args.id {
        let app = find_app(&store, id)?;
        if let (Some(pass), Status::Issued | Status::Revoked) = (&app.pass, app.status) {
            let revoked = app.status == Status::Revoked;
            let dir = if revoked {
                // A revoked pass is never printed again.
                issuing::pass_dir(&passes_dir, pass.serial)
            } else {
                // Rewrite whatever of the requested files is missing (a deleted folder, or an
                // earlier run with fewer formats); the pass itself is never signed again.
                let sheet = issuing::sheet_data(&app, pass, &checkpoints, &issuer_name);
                let dir = issuing::write_pass_dir(&passes_dir, &sheet, pass.serial, formats)?;
                issuing::sync_dir(&passes_dir)?;
                dir
            };
            out.push(IssuedPass {
                app_no: app.data.app_no.clone(),
                serial: pass.serial.to_string(),
                dir,
                new: false,
                revoked,
            });
            return report_issued(ctx, &out, started);
        }
        if app.status != Status::Approved {
            workflow::transition(&app.data.app_no, app.status, Action::Issue)?;
        }
    }

    // Argon2 once per process.
    let passphrase = keyring::passphrase(false)?;
    let record = active_key(&store, KeyRole::Signing)?;
    let key = unlock(data, &record, KeyRole::Signing, &passphrase)?;
    let job = issuing::Job {
        key: &key,
        kid: &record.kid,
        issuer: &issuer,
        issuer_name: &issuer_name,
        checkpoints: &checkpoints,
        passes_dir: &passes_dir,
        formats,
        actor: &actor,
        batch: args.batch.max(1),
        workers: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
    };
    let (done, timings) = match &args.id {
        Some(id) => {
            let app_no = find_app(&store, id)?.data.app_no;
            issuing::issue_one(&mut store, &job, &app_no)?
        }
        None => issuing::issue_all(&mut store, &job)?,
    };
    out.extend(done.into_iter().map(|d| IssuedPass {
        app_no: d.app_no,
        serial: d.serial.to_string(),
        dir: d.dir,
        new: true,
        revoked: false,
    }));
    if ctx.json {
        ctx.print_json(&json!({
            "passes": out,
            "elapsed_secs": started.elapsed().as_secs_f64(),
            "timings": timings,
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    report_issued(ctx, &out, started)
}

fn report_issued(ctx: &Ctx, out: &[IssuedPass], started: Instant) -> Result<ExitCode> {
    let secs = started.elapsed().as_secs_f64();
    if ctx.json {
        ctx.print_json(&json!({ "passes": out, "elapsed_secs": secs }))?;
    } else {
        for p in out {
            let what = if p.new {
                "已签发"
            } else if p.revoked {
                "已撤销（不再生成文件）"
            } else {
                "已签发过（同一张通行证）"
            };
            println!("{what} {} → {}  {}", p.app_no, p.serial, p.dir.display());
        }
        let new = out.iter().filter(|p| p.new).count();
        let rate = if secs > 0.0 { new as f64 / secs } else { 0.0 };
        println!("新签发 {new} 张，用时 {secs:.2} 秒（{rate:.0} 张/秒）");
    }
    Ok(ExitCode::SUCCESS)
}

// ---------------------------------------------------------------- registry and policy

/// The district and checkpoint tables from the given files (empty for a file not given).
fn read_registry_files(
    districts: Option<&Path>,
    checkpoints: Option<&Path>,
) -> Result<(Vec<District>, Vec<Checkpoint>)> {
    Ok((
        districts
            .map(import::read_districts)
            .transpose()?
            .unwrap_or_default(),
        checkpoints
            .map(import::read_checkpoints)
            .transpose()?
            .unwrap_or_default(),
    ))
}

fn registry_show(data: &DataDir, ctx: &Ctx) -> Result<ExitCode> {
    let store = data.open()?;
    let districts = store.districts()?;
    let checkpoints = store.checkpoints()?;
    if ctx.json {
        ctx.print_json(&json!({ "districts": districts, "checkpoints": checkpoints }))?;
    } else {
        println!("区划 {} 个：", districts.len());
        for d in &districts {
            println!("  {}  {}  {}", d.code, d.name, d.contact);
        }
        println!("检查站 {} 个：", checkpoints.len());
        for c in &checkpoints {
            println!("  {}  {}  区划 {}  {}", c.code, c.name, c.district, c.road);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn registry_load(data: &DataDir, ctx: &Ctx, args: RegistryLoadArgs) -> Result<ExitCode> {
    let actor = ctx.actor()?;
    let mut store = data.open()?;
    let (districts, checkpoints) =
        read_registry_files(args.districts.as_deref(), args.checkpoints.as_deref())?;
    let now = crate::clock::now();
    let (districts_used, checkpoints_used) = store.codes_in_use(now)?;
    let mut lost = Vec::new();
    if args.districts.is_some() {
        let kept: HashSet<u32> = districts.iter().map(|d| d.code).collect();
        lost.extend(
            districts_used
                .iter()
                .filter(|c| !kept.contains(c))
                .map(|c| format!("区划 {c}")),
        );
    }
    if args.checkpoints.is_some() {
        let kept: HashSet<&str> = checkpoints.iter().map(|c| c.code.as_str()).collect();
        lost.extend(
            checkpoints_used
                .iter()
                .filter(|c| !kept.contains(c.as_str()))
                .map(|c| format!("检查站 {c}")),
        );
    }
    if !lost.is_empty() {
        bail!(
            "新表缺少仍在使用的编码：{}（尚未到期的申请或通行证引用了它们）；未做任何修改 / \
             the new files drop codes that live applications or passes still use; nothing changed",
            lost.join("、")
        );
    }
    store.load_registry(&districts, &checkpoints, &actor, now)?;
    if ctx.json {
        ctx.print_json(&json!({
            "districts": args.districts.as_ref().map(|_| districts.len()),
            "checkpoints": args.checkpoints.as_ref().map(|_| checkpoints.len()),
        }))?;
    } else {
        if args.districts.is_some() {
            println!("已载入区划 {} 个", districts.len());
        }
        if args.checkpoints.is_some() {
            println!("已载入检查站 {} 个", checkpoints.len());
        }
        println!("新表随下一个信任包下发（issuer bundle --out FILE）");
    }
    Ok(ExitCode::SUCCESS)
}

fn print_policy(ctx: &Ctx, p: &Policy) -> Result<()> {
    if ctx.json {
        return ctx.print_json(p);
    }
    println!("核酸采样最长 {} 小时", p.max_test_age_secs / 3600);
    println!("允许时钟误差 {} 分钟", p.clock_skew_secs / 60);
    println!("信任包过期 {} 小时", p.max_bundle_age_secs / 3600);
    println!("重复扫码判定 {} 分钟", p.repeat_window_secs / 60);
    println!("通行证最长有效 {} 小时", p.max_validity_secs / 3600);
    Ok(())
}

fn policy_show(data: &DataDir, ctx: &Ctx) -> Result<ExitCode> {
    let store = data.open()?;
    print_policy(ctx, &policy(&store)?)?;
    Ok(ExitCode::SUCCESS)
}

/// Bounds of each policy item: (name, least, most). Outside them a checkpoint would turn
/// away everyone (zero) or stop protecting anything (weeks).
const POLICY_BOUNDS: [(&str, u32, u32); 5] = [
    ("--max-test-age-hours", 1, 14 * 24),
    ("--clock-skew-minutes", 0, 60),
    ("--max-bundle-age-hours", 1, 14 * 24),
    ("--repeat-window-minutes", 0, 24 * 60),
    ("--max-validity-hours", 1, 31 * 24),
];

fn policy_set(data: &DataDir, ctx: &Ctx, args: PolicySetArgs) -> Result<ExitCode> {
    let actor = ctx.actor()?;
    let mut store = data.open()?;
    let old = policy(&store)?;
    let mut new = old;
    let items = [
        (args.max_test_age_hours, &mut new.max_test_age_secs, 3600),
        (args.clock_skew_minutes, &mut new.clock_skew_secs, 60),
        (
            args.max_bundle_age_hours,
            &mut new.max_bundle_age_secs,
            3600,
        ),
        (args.repeat_window_minutes, &mut new.repeat_window_secs, 60),
        (args.max_validity_hours, &mut new.max_validity_secs, 3600),
    ];
    for ((value, slot, unit), (name, least, most)) in items.into_iter().zip(POLICY_BOUNDS) {
        if let Some(v) = value {
            if !(least..=most).contains(&v) {
                bail!("{name} 应在 {least} 到 {most} 之间，收到 {v} / {name} must be {least}..={most}, got {v}");
            }
            *slot = i64::from(v) * unit;
        }
    }
    store.set_policy(
        &serde_json::to_string(&old)?,
        &serde_json::to_string(&new)?,
        &actor,
        crate::clock::now(),
    )?;
    if !ctx.json {
        println!("策略已更新，随下一个信任包下发（issuer bundle --out FILE）：");
    }
    print_policy(ctx, &new)?;
    Ok(ExitCode::SUCCESS)
}
