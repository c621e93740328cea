//! The command line, as clap derive types. Nothing here does any work: `main` turns these into
//! calls of the command functions in [`crate::commands`].

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use issuer::workflow::Status;

const EXIT_CODES: &str = "退出码 (exit status): 0 成功；1 出错（原因见标准错误）；\
2 导入或签发完成但有被拒绝的行或申请（import, issue --all: some rows or applications were refused）。\n\
口令 (passphrase): 从终端输入，或在脚本中设置环境变量 ISSUER_PASSPHRASE（至少 12 个字符）；\
根密钥可另设口令：init --separate-root-passphrase 或 ISSUER_ROOT_PASSPHRASE \
(the root key may have its own passphrase)。";

/// 通行证签发系统：导入申请、审核、签发、撤销、导出信任包。
/// The city group's pass issuer: import applications, review, sign passes, revoke, export the trust bundle.
#[derive(Debug, Parser)]
#[command(name = "issuer", version, after_help = EXIT_CODES)]
pub struct Cli {
    /// 数据目录（默认为系统的应用数据目录）/ data directory (default: the platform data dir)
    #[arg(long, global = true, env = "ISSUER_DATA", value_name = "DIR")]
    pub data: Option<PathBuf>,

    /// 数据库：文件路径或 sqlite:///路径（默认为数据目录中的 issuer.db），或 postgres://用户@主机/库名
    /// / the database: a path or sqlite:///path (default: issuer.db in the data dir), or postgres://user@host/db
    #[arg(
        long,
        global = true,
        env = "ISSUER_DB",
        value_name = "URL",
        hide_env_values = true
    )]
    pub db: Option<String>,

    /// 以 JSON 输出，供脚本使用 / print JSON for scripts
    #[arg(long, global = true)]
    pub json: bool,

    /// 操作人（记入审计日志；默认为环境变量 ISSUER_OPERATOR 或当前系统用户）/ who is acting
    #[arg(long, global = true, env = "ISSUER_OPERATOR", value_name = "NAME")]
    pub by: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// 创建数据目录、根密钥和第一把签发密钥，并载入区划与检查站表
    /// (create the data dir, the root key and a first signing key; load districts and checkpoints)
    Init(InitArgs),
    /// 从 .xlsx 或 .csv（UTF-8/GBK）导入申请，逐行校验 (import applications, validating every row)
    Import(ImportArgs),
    /// 列出申请 (list applications)
    List(ListArgs),
    /// 显示一份申请及其通行证 (show one application and its pass)
    Show(ShowArgs),
    /// 区市转报：已提交 → 区市已转报 (district forwards: submitted → forwarded)
    Forward(BulkArgs),
    /// 市级批准：区市已转报 → 市级已批准 (city approves: forwarded → approved)
    Approve(BulkArgs),
    /// 市级驳回：区市已转报 → 已驳回 (city rejects: forwarded → rejected)
    Reject(RejectArgs),
    /// 签发通行证并生成二维码、通行证 PDF/PNG 和短信 (sign passes and write their files)
    Issue(IssueArgs),
    /// 把多张已签发的通行证合成一个 PDF，便于批量打印 (one PDF of many issued passes, for printing)
    Print(PrintArgs),
    /// 导出短信发送清单（手机号码,短信内容）供短信平台批量发送 (SMS outbox CSV for the SMS gateway)
    Sms(SmsArgs),
    /// 撤销已签发的通行证 (revoke an issued pass)
    Revoke(RevokeArgs),
    /// 显示审计日志，可按操作人、操作、时间筛选 (print the audit trail, optionally filtered)
    Audit(AuditArgs),
    /// 导出签名的信任包给检查站 (export the signed trust bundle for the checkpoints)
    Bundle(BundleArgs),
    /// 密钥管理 (key management)
    Keys(KeysArgs),
    /// 区划与检查站表：查看或重新载入 (districts and checkpoints: show or reload)
    Registry(RegistryArgs),
    /// 核验策略：查看或修改，随下一个信任包下发 (verification policy: show or change)
    Policy(PolicyArgs),
    /// 数据库：复制整个库（如从 SQLite 迁到 PostgreSQL）/ database: copy a whole store
    Db(DbArgs),
    /// 账号：添加、列出、停用、启用、改口令（供网页服务登录）/ accounts for the web service
    User(UserArgs),
    /// 启动网页服务：申请单位在线申请、区市转报、市级审批 / start the web service
    Serve(ServeArgs),
    /// 检查站设备：登记设备公钥、列出设备及其记录缺口 (checkpoint devices: register, list)
    Devices(DevicesArgs),
    /// 导入检查站导出的签名扫描记录 (import the checkpoints' signed scan logs)
    Scans(ScansArgs),
    /// 综合各检查站记录的发现：复制、偏离路线、未离开、撤销后使用 (findings from the merged logs)
    Findings(FindingsArgs),
}

#[derive(Debug, Args)]
pub struct DevicesArgs {
    #[command(subcommand)]
    pub command: DevicesCommand,
}

#[derive(Debug, Subcommand)]
pub enum DevicesCommand {
    /// 登记设备公钥文件（verifier log device --out 导出）/ register a device's public key file
    Add(DeviceAddArgs),
    /// 列出已登记的设备、已导入的记录条数和缺口 (list devices, entries imported and gaps)
    List,
}

#[derive(Debug, Args)]
pub struct DeviceAddArgs {
    /// 设备公钥文件 (the device public key file)
    pub file: PathBuf,
    /// 设备说明，如“C101 威海收费站 1号机” (where the device works)
    #[arg(long, default_value = "", value_name = "TEXT")]
    pub label: String,
}

#[derive(Debug, Args)]
pub struct ScansArgs {
    #[command(subcommand)]
    pub command: ScansCommand,
}

#[derive(Debug, Subcommand)]
pub enum ScansCommand {
    /// 导入扫描记录文件（verifier log export 或网页版导出）；重复导入不会重复计入
    /// (import scan-log files; a file imported twice adds nothing)
    Import(ScansImportArgs),
}

#[derive(Debug, Args)]
pub struct ScansImportArgs {
    /// 扫描记录文件 (scan-log files)
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// 首次导入时登记该设备：填写民警在设备上核对过的密钥编号
    /// (register the device on first import: the key id as read on the device's screen)
    #[arg(long, value_name = "KID")]
    pub accept: Vec<String>,
    /// 随 --accept 登记的设备说明 (label for a device registered with --accept)
    #[arg(long, default_value = "", value_name = "TEXT")]
    pub label: String,
}

#[derive(Debug, Args)]
pub struct FindingsArgs {
    /// 也计入模拟时间（--at / VERIFIER_AT）下的扫描，供测试与演示
    /// (also count scans made under a simulated clock: tests and demos)
    #[arg(long)]
    pub include_simulated: bool,
    /// 只看该时刻以后的扫描，如 “2022-03-12 08:00” (only scans from this time, UTC+8)
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// 通行时段结束后多少小时仍未离开算作滞留 (hours after the window before "did not leave")
    #[arg(long, default_value_t = 2, value_name = "HOURS")]
    pub grace_hours: u32,
    /// 两检查站间车速上限（公里/小时，按直线距离）(speed bound between checkpoints, km/h)
    #[arg(long, default_value_t = 100, value_name = "KMH")]
    pub speed_kmh: u32,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// 监听地址 (address to listen on)
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub listen: std::net::SocketAddr,
    /// 在 TLS 反向代理之后运行：Cookie 标为 Secure (behind a TLS proxy: mark cookies Secure)
    #[arg(long)]
    pub behind_tls: bool,
    /// 数据库连接数上限 (database connections)
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub connections: u32,
    /// 启动时解锁签发密钥（口令取自 ISSUER_PASSPHRASE 或终端），市级审核可在网页签发
    /// (unlock the signing key at start so that city reviewers can issue from the web)
    #[arg(long)]
    pub sign: bool,
    /// 在 /checkpoint/ 提供检查站网页应用，目录为 scripts/build-checkpoint-web.sh 生成的
    /// checkpoint-web/dist (serve the checkpoint web app from DIR at /checkpoint/)
    #[arg(long, env = "ISSUER_CHECKPOINT_APP", value_name = "DIR")]
    pub checkpoint_app: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct UserArgs {
    #[command(subcommand)]
    pub command: UserCommand,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// 添加账号；口令从终端输入或取自 ISSUER_USER_PASSWORD (add an account)
    Add(UserAddArgs),
    /// 列出账号 (list accounts)
    List,
    /// 停用账号：不能再登录 (disable an account: it can no longer sign in)
    Disable(UserNameArg),
    /// 重新启用账号 (enable an account again)
    Enable(UserNameArg),
    /// 设置新口令 (set a new password)
    Password(UserNameArg),
}

#[derive(Debug, Args)]
pub struct UserAddArgs {
    /// 账号名（字母、数字、. _ -）/ account name
    pub name: String,
    /// 角色 (role)
    #[arg(long, value_enum)]
    pub role: issuer::accounts::Role,
    /// 区市联络员所属区市的区划代码 (the district of a district liaison)
    #[arg(long, value_name = "CODE")]
    pub district: Option<u32>,
    /// 申请单位账号所属的单位 (the organisation of an applicant account)
    #[arg(long, value_name = "NAME")]
    pub organisation: Option<String>,
}

#[derive(Debug, Args)]
pub struct UserNameArg {
    /// 账号名 (account name)
    pub name: String,
}

#[derive(Debug, Args)]
pub struct DbArgs {
    #[command(subcommand)]
    pub command: DbCommand,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// 把一个库的全部内容复制到一个新建的空库，并核对行数和校验和
    /// (copy a whole store into a new, empty one and verify counts and checksums)
    Copy(DbCopyArgs),
}

#[derive(Debug, Args)]
pub struct DbCopyArgs {
    /// 源数据库（路径、sqlite:///… 或 postgres://…）/ source database
    #[arg(long, value_name = "URL")]
    pub from: String,
    /// 目标数据库，必须为空 / target database, must be empty
    #[arg(long, value_name = "URL")]
    pub to: String,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// 区划表 CSV（区划代码,名称,负责人,联系电话,邮箱）；两个表都不给出时载入内置的威海示例表
    /// (districts CSV; with neither file, the built-in sample registry is loaded)
    #[arg(long, value_name = "FILE")]
    pub districts: Option<PathBuf>,
    /// 检查站表 CSV（编码,名称,所属区市,道路）/ checkpoints CSV
    #[arg(long, value_name = "FILE")]
    pub checkpoints: Option<PathBuf>,
    /// 签发机构标识，写入每张通行证 (the issuer id written into every pass)
    #[arg(long, default_value = "WH", value_name = "ID")]
    pub issuer: String,
    /// 签发机构名称，印在通行证上 (the issuer's name printed on the pass)
    #[arg(
        long,
        default_value = "威海市新冠肺炎疫情防控指挥部",
        value_name = "NAME"
    )]
    pub issuer_name: String,
    /// 为根密钥另设口令（另行输入；脚本中用环境变量 ISSUER_ROOT_PASSPHRASE）。默认与签发密钥同一口令
    /// (ask a separate passphrase for the root key; default: the same as the signing keys')
    #[arg(long)]
    pub separate_root_passphrase: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// 申请表文件 (.xlsx 或 .csv) / application files
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// 按状态筛选 (filter by status)
    #[arg(long, value_enum)]
    pub status: Option<Status>,
    /// 按区划代码筛选 (filter by district code)
    #[arg(long, value_name = "CODE")]
    pub district: Option<u32>,
    /// 按车牌号筛选 (filter by plate)
    #[arg(long)]
    pub plate: Option<String>,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// 申请编号或通行证编号 (application number or pass serial)
    pub id: String,
}

#[derive(Debug, Args)]
pub struct BulkArgs {
    /// 申请编号 (application numbers)
    #[arg(
        value_name = "ID",
        required_unless_present = "all",
        conflicts_with = "all"
    )]
    pub ids: Vec<String>,
    /// 处理所有处于上一状态的申请 (all applications in the previous status)
    #[arg(long)]
    pub all: bool,
    /// 与 --all 一起使用：只处理该区划的申请 (with --all: only this district)
    #[arg(long, value_name = "CODE", requires = "all")]
    pub district: Option<u32>,
}

#[derive(Debug, Args)]
pub struct RejectArgs {
    /// 申请编号 (application numbers)
    #[arg(required = true, value_name = "ID")]
    pub ids: Vec<String>,
    /// 驳回理由 (reason)
    #[arg(long, required = true)]
    pub reason: String,
}

/// Which renderings of a pass to write besides qr.txt and sms.txt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// 全部 (all formats)
    All,
    /// 二维码与通行证 PNG (qr.png and pass.png)
    Png,
    /// 二维码 SVG (qr.svg)
    Svg,
    /// 通行证 PDF (pass.pdf)
    Pdf,
}

#[derive(Debug, Args)]
pub struct IssueArgs {
    /// 申请编号 (application number)
    #[arg(
        value_name = "ID",
        required_unless_present = "all",
        conflicts_with = "all"
    )]
    pub id: Option<String>,
    /// 签发所有已批准的申请 (issue every approved application)
    #[arg(long)]
    pub all: bool,
    /// 生成的文件格式，逗号分隔 (formats to write, comma-separated)
    #[arg(long, value_enum, value_delimiter = ',', default_value = "all")]
    pub formats: Vec<FormatArg>,
    /// 每批提交的张数 (passes per committed batch)
    #[arg(long, default_value_t = 64, hide = true)]
    pub batch: usize,
    /// 预留租约秒数：本进程崩溃后，其他签发进程在此之后接手未完成的通行证
    /// (lease on reserved passes: after it, another issuer takes over a crashed run's passes)
    #[arg(long, env = "ISSUER_LEASE_SECS", default_value_t = 120, value_parser = clap::value_parser!(u32).range(1..=86_400))]
    pub lease_secs: u32,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["serial", "finding"])))]
pub struct RevokeArgs {
    /// 通行证编号：全国编号 371003-000001-6 或流水号 00000-00001-8 (pass number or serial)
    pub serial: Option<String>,
    /// 撤销某项发现所指的通行证，如 clone/00000-00001-8（issuer findings 列出）
    /// (revoke the pass of a finding, as `issuer findings` lists it)
    #[arg(long, value_name = "ID", conflicts_with = "serial")]
    pub finding: Option<String>,
    /// 撤销理由（按发现撤销时默认为该发现）(reason; for a finding, the finding by default)
    #[arg(long, required_unless_present = "finding")]
    pub reason: Option<String>,
    /// 查找发现时也计入模拟时间下的扫描 (with --finding: count simulated scans too)
    #[arg(long, requires = "finding")]
    pub include_simulated: bool,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// 只显示该申请的记录 (only this application)
    pub id: Option<String>,
    /// 只显示该操作人的记录 (only this actor)
    #[arg(long, value_name = "NAME")]
    pub actor: Option<String>,
    /// 只显示该操作（如 issue），或其下各项（keys 含 keys.add、keys.revoke）(only this action)
    #[arg(long, value_name = "ACTION")]
    pub action: Option<String>,
    /// 自该日或该时刻起，如 “2022-03-12” 或 “2022-03-12 08:00” (from this day or time, UTC+8)
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// 至该日（含当天）或该时刻前 (to this day, inclusive, or before this time)
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
}

#[derive(Debug, Args)]
pub struct BundleArgs {
    /// 输出文件 (output file)
    #[arg(long, required = true, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct KeysArgs {
    #[command(subcommand)]
    pub command: KeysCommand,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// 列出密钥 (list keys: id, role, status, public key)
    List,
    /// 生成新的签发密钥；旧密钥签发的通行证在到期前仍有效 (new signing key; old passes stay valid)
    Rotate(RotateArgs),
    /// 导出公钥文件（含根公钥），供 verifier init --root-key 固定 (export public key files)
    Export(ExportArgs),
    /// 宣告签发密钥泄露：下一个信任包起，检查站拒绝其签发的通行证 (declare a signing key stolen)
    Revoke(KeyRevokeArgs),
}

#[derive(Debug, Args)]
pub struct RotateArgs {
    /// 新密钥只可签发这些区划代码（按前缀：1101 含 110105）的通行证，逗号分隔；缺省不限
    /// (district-code prefixes the new key may sign for, comma-separated; default: any)
    #[arg(long, value_name = "PREFIXES", default_value = "")]
    pub districts: String,
    /// 新密钥只可签发这些货物类别（工业原材料、产成品、返岗人员，或 1、2、3），逗号分隔；缺省不限
    /// (categories the new key may sign for; default: any)
    #[arg(long, value_name = "CATEGORIES", default_value = "")]
    pub categories: String,
}

#[derive(Debug, Args)]
pub struct KeyRevokeArgs {
    /// 密钥编号 (key id, as issuer keys list shows it)
    pub kid: String,
    /// 理由 (reason)
    #[arg(long, required = true)]
    pub reason: String,
    /// 只作废此时间以后签发的通行证，如 "2022-03-12 08:00"；缺省为全部 (only passes signed from this time on; default: all)
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// 输出目录 (output directory)
    #[arg(long, required = true, value_name = "DIR")]
    pub out: PathBuf,
}

/// Which issued passes a command works on: by id, or every issued and unrevoked one.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("which").required(true).multiple(true).args(["ids", "all"])))]
pub struct IssuedSelection {
    /// 申请编号或通行证编号 (application numbers or pass serials)
    pub ids: Vec<String>,
    /// 所有已签发且未撤销的通行证 (every issued, unrevoked pass)
    #[arg(long, conflicts_with = "ids")]
    pub all: bool,
    /// 与 --all 一起使用：只取该区划的通行证 (with --all: only this district)
    #[arg(long, requires = "all", value_name = "CODE")]
    pub district: Option<u32>,
}

#[derive(Debug, Args)]
pub struct PrintArgs {
    #[command(flatten)]
    pub which: IssuedSelection,
    /// 输出的 PDF 文件 (the PDF to write)
    #[arg(long, required = true, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct SmsArgs {
    #[command(flatten)]
    pub which: IssuedSelection,
    /// 只取该时间之后签发（或驳回）的，如 “2022-03-12 08:00” (only those issued or rejected since)
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// 同时通知被驳回的申请（附理由）；可不选通行证单独使用
    /// (also tell the drivers of rejected applications, with the reason)
    #[arg(long, group = "which")]
    pub rejected: bool,
    /// 输出的 CSV 文件（UTF-8 带 BOM，Excel 可直接打开）(the CSV to write)
    #[arg(long, required = true, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct RegistryArgs {
    #[command(subcommand)]
    pub command: RegistryCommand,
}

#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// 列出区划与检查站 (list districts and checkpoints)
    Show,
    /// 用新文件替换区划表和/或检查站表；仍有有效申请使用的编码不能删除
    /// (replace the districts and/or checkpoints; codes live applications use cannot go)
    Load(RegistryLoadArgs),
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("files").required(true).multiple(true)))]
pub struct RegistryLoadArgs {
    /// 区划表 CSV（区划代码,名称,负责人,联系电话,邮箱）/ districts CSV
    #[arg(long, value_name = "FILE", group = "files")]
    pub districts: Option<PathBuf>,
    /// 检查站表 CSV（编码,名称,所属区市,道路，可加 纬度,经度）/ checkpoints CSV (optionally with coordinates)
    #[arg(long, value_name = "FILE", group = "files")]
    pub checkpoints: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    #[command(subcommand)]
    pub command: PolicyCommand,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// 显示当前策略 (show the current policy)
    Show,
    /// 修改策略中给出的项，其余不变 (change the given items, keep the rest)
    Set(PolicySetArgs),
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("items").required(true).multiple(true)))]
pub struct PolicySetArgs {
    /// 核酸采样距核验时最长小时数 (oldest acceptable test sample, hours before the scan)
    #[arg(long, value_name = "HOURS", group = "items")]
    pub max_test_age_hours: Option<u32>,
    /// 允许的时钟误差（分钟）(tolerated clock difference, minutes)
    #[arg(long, value_name = "MINUTES", group = "items")]
    pub clock_skew_minutes: Option<u32>,
    /// 信任包超过该小时数即视为过期 (a bundle older than this is stale, hours)
    #[arg(long, value_name = "HOURS", group = "items")]
    pub max_bundle_age_hours: Option<u32>,
    /// 同一检查站重复扫码的判定时长（分钟）(repeat-scan window at one checkpoint, minutes)
    #[arg(long, value_name = "MINUTES", group = "items")]
    pub repeat_window_minutes: Option<u32>,
    /// 通行证最长有效时长（小时）(longest validity window granted, hours)
    #[arg(long, value_name = "HOURS", group = "items")]
    pub max_validity_hours: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn formats_parse() {
        let cli =
            Cli::try_parse_from(["issuer", "issue", "--all", "--formats", "png,pdf"]).unwrap();
        let Command::Issue(a) = cli.command else {
            panic!()
        };
        assert_eq!(a.formats, [FormatArg::Png, FormatArg::Pdf]);
        assert!(Cli::try_parse_from(["issuer", "issue"]).is_err());
        assert!(Cli::try_parse_from(["issuer", "issue", "A", "--all"]).is_err());
    }
}
