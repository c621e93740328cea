//! The command line: `verifier init | bundle install | bundle show | check | log | settings`.
//! Arguments are turned into engine calls here, and results into text; everything else lives
//! in the library. Exit status of `check`: 0 green, 10 amber, 20 red (the worst of all QRs),
//! 2 for a usage or I/O error (any command).

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use checkpass::keys::{self, KeyRole};
use checkpass::number::PassNumber;
use checkpass::verdict::{Lang, Level};
use clap::{Args, Parser, Subcommand};

use crate::engine::{Checked, ClockProblem, Engine, InitOptions};
use crate::report::{self, Source};
use crate::settings::{self, lang_str, parse_lang};
use crate::store::{ScanRecord, MAX_BUNDLE_BYTES};
use crate::timefmt;

/// Exit status for a green verdict.
pub const EXIT_GREEN: u8 = 0;
/// Exit status for an amber verdict (the officer must look).
pub const EXIT_AMBER: u8 = 10;
/// Exit status for a red verdict, including an image with no pass in it.
pub const EXIT_RED: u8 = 20;
/// Exit status for a usage or I/O error.
pub const EXIT_ERROR: u8 = 2;

/// 检查站通行证核验 — checkpoint pass verifier (offline).
#[derive(Debug, Parser)]
#[command(name = "verifier", version, about, long_about = None)]
pub struct Cli {
    /// 数据目录 (data directory: scan log, settings, trust bundle); default: the platform's data dir
    #[arg(long, global = true, value_name = "DIR", env = "VERIFIER_DATA")]
    pub data: Option<PathBuf>,
    /// 显示语言 zh|en (display language; default: the setting, else zh)
    #[arg(long, global = true, value_name = "zh|en", value_parser = parse_lang_arg)]
    pub lang: Option<Lang>,
    /// 不带子命令时打开检查站窗口 (without a subcommand: open the checkpoint window)
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// 打开检查站窗口：摄像头扫码、扫码枪输入、核验结论 (open the checkpoint window)
    Gui,
    /// 初始化：固定根公钥并设定本检查站 (pin the root key and name this checkpoint)
    Init(InitArgs),
    /// 信任包 (trust bundle)
    #[command(subcommand)]
    Bundle(BundleCommand),
    /// 核验通行证二维码 (check pass QR codes in images or a QR text)
    #[command(
        after_help = "退出状态 (exit status): 0 通过 (green), 10 注意 (amber), \
        20 拒绝 (red; 图像中没有通行证也是 20, also for an image without a pass), \
        2 用法或读写错误 (usage or I/O error). 多个二维码取最差结论 (several QRs: the worst verdict)."
    )]
    Check(CheckArgs),
    /// 查看、导出或校验查验记录 (list, export or verify the scan log)
    Log(LogArgs),
    /// 本机时钟 (the device clock)
    #[command(subcommand)]
    Clock(ClockCommand),
    /// 查看或修改设置 (show or change settings)
    Settings(SettingsArgs),
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// 根公钥文件 (root public key file)
    #[arg(long, value_name = "FILE")]
    pub root_key: PathBuf,
    /// 本检查站编码 (this checkpoint's code, e.g. C101)
    #[arg(long, value_name = "CODE")]
    pub checkpoint: String,
    /// 执勤人员编号 (officer on duty)
    #[arg(long, value_name = "ID")]
    pub officer: Option<String>,
    /// 仅测试用：允许信任 keys/ 中的开发密钥和测试向量密钥 (test setups only: trust the public development keys)
    #[arg(long)]
    pub allow_dev_keys: bool,
}

#[derive(Debug, Subcommand)]
pub enum ClockCommand {
    /// 登记时钟校正：本机时钟曾走快、现已改正 (record that the device clock was corrected)
    Correct {
        /// 理由，如“时钟快了一天，已按北京时间校正” (reason)
        #[arg(long, required = true)]
        reason: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// 校验查验记录的哈希链 (check the scan log's hash chain)
    Verify,
    /// 导出本机签名的查验记录文件，交市里汇总 (export the scan log as a file signed by this
    /// device's key, for the city: issuer scans import)
    Export {
        /// 输出文件 (output file, e.g. C101-2022-03-13.scanlog)
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// 从此时刻起的第一次查验开始导出；缺省导出全部 (from the first scan at or after this time;
        /// default: the whole log. RFC 3339, "2022-03-12 19:00", or 24h / 7d ago)
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
    },
    /// 显示本机的记录签名公钥，或写入文件供市里登记 (show this device's log key, or write
    /// its public key file for the city to register: issuer devices add)
    Device {
        /// 写入公钥文件 (write the public key file)
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// 按通行证编号查找今日的查验记录 (find today's scans of a pass by its number, e.g.
    /// 371003-000001-6); 找到时退出码 0，没有时 1 (exit 0 when found, 1 when not)
    Find {
        /// 通行证编号：6 位区划代码、6 位流水号、校验位，可含空格或短横 (the pass number)
        number: String,
        /// 以此时刻所在的一天为“今日” (the day containing this time is "today"; RFC 3339)
        #[arg(long, value_name = "TIME", value_parser = parse_time_arg)]
        at: Option<i64>,
    },
}

#[derive(Debug, Subcommand)]
pub enum BundleCommand {
    /// 安装信任包 (install a trust bundle signed by the pinned root)
    Install {
        /// 信任包文件 (bundle file)
        file: PathBuf,
    },
    /// 显示已安装的信任包 (show the installed bundle)
    Show {
        /// 以此时刻计算信任包时效 (RFC 3339; default: now)
        #[arg(long, value_name = "TIME", value_parser = parse_time_arg)]
        at: Option<i64>,
    },
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// 每个二维码输出一行 JSON (one JSON object per QR, one per line)
    #[arg(long)]
    pub json: bool,
    /// 以此时刻核验 (check as of this time, RFC 3339; default: now)
    #[arg(long, value_name = "RFC3339", value_parser = parse_time_arg)]
    pub at: Option<i64>,
    /// 以此检查站核验 (check for this checkpoint instead of the configured one)
    #[arg(long, value_name = "CODE")]
    pub checkpoint: Option<String>,
    /// 二维码文本 (a QR text instead of images)
    #[arg(
        long,
        value_name = "QR_TEXT",
        conflicts_with = "images",
        required_unless_present = "images"
    )]
    pub text: Option<String>,
    /// 图像文件 PNG/JPEG (image files)
    #[arg(value_name = "IMAGE")]
    pub images: Vec<PathBuf>,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct LogArgs {
    #[command(subcommand)]
    pub command: Option<LogCommand>,
    /// 只列出此时刻以后的记录 (RFC 3339, "2022-03-12 19:00" or 2022-03-12 in UTC+8, or 24h / 7d ago)
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// 导出为 CSV 文件 ("-" for standard output)
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SettingsArgs {
    /// 本检查站编码 (this checkpoint's code)
    #[arg(long, value_name = "CODE")]
    pub checkpoint: Option<String>,
    /// 执勤人员编号 (officer on duty)
    #[arg(long, value_name = "ID", conflicts_with = "no_officer")]
    pub officer: Option<String>,
    /// 清除执勤人员 (clear the officer)
    #[arg(long)]
    pub no_officer: bool,
    /// 重复查验提示时间窗, 秒 (repeat-scan window in seconds; overrides the bundle policy)
    #[arg(long, value_name = "SECS", conflicts_with = "policy_repeat_window")]
    pub repeat_window: Option<i64>,
    /// 使用信任包规定的重复查验时间窗 (use the bundle policy's repeat window)
    #[arg(long)]
    pub policy_repeat_window: bool,
    /// 默认显示语言 zh|en (default display language)
    #[arg(long, value_name = "zh|en", value_parser = parse_lang_arg)]
    pub language: Option<Lang>,
}

fn parse_lang_arg(s: &str) -> Result<Lang, String> {
    parse_lang(s).map_err(|e| e.to_string())
}

fn parse_time_arg(s: &str) -> Result<i64, String> {
    timefmt::parse(s).map_err(|e| e.to_string())
}

/// Runs the verifier with the process arguments; what `main` calls.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with status 0; usage errors to stderr with 2.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_ERROR } else { 0 });
        }
    };
    if !matches!(cli.command, None | Some(Command::Gui)) {
        default_sigpipe();
    }
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(
                io::stderr(),
                "错误 (error): {}",
                checkpass::describe_error(e.as_ref())
            );
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// In the terminal commands (not the GUI), a closed pipe (`verifier log | head`) ends the
/// process quietly, as it ends other Unix tools, instead of an error about the pipe. The scan
/// log's writes are transactions, which a signal cannot leave half done.
fn default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called from main before the command starts any thread; SIG_DFL is a valid handler.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// The exit status for a verdict level.
pub fn exit_code(level: Level) -> u8 {
    match level {
        Level::Green => EXIT_GREEN,
        Level::Amber => EXIT_AMBER,
        Level::Red => EXIT_RED,
    }
}

fn system_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let command = match cli.command {
        None | Some(Command::Gui) => {
            crate::gui::run(cli.data)?;
            return Ok(ExitCode::SUCCESS);
        }
        Some(command) => command,
    };
    let dir = data_dir(cli.data.as_deref())?;
    match command {
        Command::Gui => Ok(ExitCode::SUCCESS),
        Command::Init(args) => init(&dir, args, cli.lang),
        Command::Bundle(BundleCommand::Install { file }) => bundle_install(&dir, &file, cli.lang),
        Command::Bundle(BundleCommand::Show { at }) => {
            bundle_show(&dir, at.unwrap_or_else(system_now), cli.lang)
        }
        Command::Check(args) => check(&dir, args, cli.lang),
        Command::Log(LogArgs {
            command: Some(LogCommand::Verify),
            ..
        }) => log_verify(&dir, cli.lang),
        Command::Log(LogArgs {
            command: Some(LogCommand::Find { number, at }),
            ..
        }) => log_find(&dir, &number, at, cli.lang),
        Command::Log(LogArgs {
            command: Some(LogCommand::Export { out, since }),
            ..
        }) => log_export(&dir, &out, since.as_deref(), cli.lang),
        Command::Log(LogArgs {
            command: Some(LogCommand::Device { out }),
            ..
        }) => log_device(&dir, out.as_deref(), cli.lang),
        Command::Log(args) => log(&dir, args, cli.lang),
        Command::Clock(ClockCommand::Correct { reason }) => {
            clock_correct(&dir, &reason, system_now(), cli.lang)
        }
        Command::Settings(args) => settings_cmd(&dir, args, cli.lang),
    }
}

/// `--data DIR`, else the platform's data directory for this program.
pub fn data_dir(given: Option<&Path>) -> Result<PathBuf> {
    if let Some(dir) = given {
        return Ok(dir.to_path_buf());
    }
    // The local (not roaming) data directory: on Windows %LOCALAPPDATA%\checkpass\verifier\data,
    // since the scan log belongs to this device and an SQLite file must not travel with a
    // roaming profile. On Linux and macOS it is the same directory as `data_dir`.
    directories::ProjectDirs::from("cn", "checkpass", "verifier")
        .map(|d| d.data_local_dir().to_path_buf())
        .ok_or_else(|| {
            anyhow!("无法确定数据目录，请用 --data DIR 指定 (no data directory; pass --data DIR)")
        })
}

fn open(dir: &Path, lang: Option<Lang>) -> Result<(Engine, Lang)> {
    let engine = Engine::open(dir)?;
    let lang = lang.unwrap_or(engine.settings().lang);
    Ok((engine, lang))
}

fn t(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

/// Writes "label：value" lines; in English the labels are padded to one column.
fn write_fields(
    out: &mut impl Write,
    lang: Lang,
    fields: &[(&str, &str, String)],
) -> io::Result<()> {
    let width = fields
        .iter()
        .map(|(_, en, _)| en.len() + 1)
        .max()
        .unwrap_or(0);
    for (zh, en, value) in fields {
        match lang {
            Lang::Zh => writeln!(out, "{zh}：{value}")?,
            Lang::En => writeln!(out, "{:<width$} {value}", format!("{en}:"))?,
        }
    }
    Ok(())
}

/// Reads a whole file of at most `limit` bytes, naming the file in any error.
fn read_file(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>> {
    let file =
        fs::File::open(path).with_context(|| format!("无法打开{what} {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("无法读取{what} {}", path.display()))?;
    if bytes.len() as u64 > limit {
        bail!("{what} {} 过大 (larger than {limit} bytes)", path.display());
    }
    Ok(bytes)
}

fn init(dir: &Path, args: InitArgs, lang: Option<Lang>) -> Result<ExitCode> {
    let bytes = read_file(&args.root_key, 64 * 1024, "根公钥文件")?;
    let text = String::from_utf8(bytes).map_err(|_| {
        anyhow!(
            "根公钥文件 {} 不是文本 (not a text file)",
            args.root_key.display()
        )
    })?;
    let (key, role) = keys::parse_public_key_file(&text)
        .with_context(|| format!("根公钥文件 {} 无效", args.root_key.display()))?;
    if role != KeyRole::Root {
        bail!(
            "{} 是 {role} 公钥，不是根公钥 (not a root key)",
            args.root_key.display()
        );
    }
    let options = InitOptions {
        allow_dev_keys: args.allow_dev_keys,
    };
    let engine = Engine::init_with(dir, key, &args.checkpoint, args.officer.as_deref(), options)?;
    let lang = lang.unwrap_or(engine.settings().lang);
    let s = engine.settings();
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "{} {}",
        t(lang, "已初始化数据目录", "Initialised data directory"),
        engine.dir().display()
    )?;
    let mut fields = vec![
        ("根公钥", "Root key", s.root_key.kid().to_string()),
        ("检查站", "Checkpoint", s.checkpoint.clone()),
    ];
    if let Some(o) = &s.officer {
        fields.push(("执勤人员", "Officer", o.clone()));
    }
    fields.push((
        "本机记录密钥",
        "Device log key",
        format!(
            "{} (verifier log device --out FILE)",
            engine.device_public_key()?.kid()
        ),
    ));
    write_fields(&mut out, lang, &fields)?;
    if engine.bundle().is_err() {
        writeln!(
            out,
            "{}",
            t(
                lang,
                "下一步：verifier bundle install FILE 安装信任包",
                "Next: verifier bundle install FILE"
            )
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn bundle_install(dir: &Path, file: &Path, lang: Option<Lang>) -> Result<ExitCode> {
    let (mut engine, lang) = open(dir, lang)?;
    let bytes = read_file(file, MAX_BUNDLE_BYTES, "信任包文件")?;
    let bundle = engine
        .install_bundle(&bytes)
        .with_context(|| format!("信任包文件 {}", file.display()))?;
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "{} {} ({} {}, {} {}, {} {})",
        t(
            lang,
            "已安装信任包，序号",
            "Installed trust bundle, sequence"
        ),
        bundle.sequence,
        bundle.keys.len(),
        t(lang, "个签发密钥", "keys"),
        bundle.checkpoints.len(),
        t(lang, "个检查站", "checkpoints"),
        bundle.revoked.len(),
        t(lang, "条撤销", "revocations"),
    )?;
    Ok(ExitCode::SUCCESS)
}

fn bundle_show(dir: &Path, now: i64, lang: Option<Lang>) -> Result<ExitCode> {
    let (engine, lang) = open(dir, lang)?;
    let s = engine.settings();
    let b = engine.bundle()?;
    let en = lang == Lang::En;
    let mut out = io::stdout().lock();
    writeln!(out, "{}{}", t(lang, "序号：", "Sequence:    "), b.sequence)?;
    writeln!(
        out,
        "{}{}",
        t(lang, "签发机关：", "Issuer:      "),
        b.issuer
    )?;
    let age = now - b.issued_at;
    let stale = if b.is_stale(now) {
        t(lang, "（已过期，请更新）", " (stale: update it)")
    } else {
        ""
    };
    writeln!(
        out,
        "{}{} (UTC+8), {} {}{stale}",
        t(lang, "签发时间：", "Issued:      "),
        timefmt::minutes(b.issued_at),
        t(lang, "距今", "age"),
        timefmt::duration(age, en),
    )?;
    writeln!(
        out,
        "{}{}",
        t(lang, "根公钥：", "Root key:    "),
        s.root_key.kid()
    )?;
    writeln!(
        out,
        "{}{}",
        t(lang, "签发密钥：", "Signing keys:"),
        b.keys.len()
    )?;
    for k in &b.keys {
        let compromised = match k.compromised_since {
            None => String::new(),
            Some(checkpass::bundle::COMPROMISED_ALWAYS) => t(
                lang,
                "  已宣告泄露：全部作废",
                "  COMPROMISED: all its passes refused",
            )
            .into(),
            Some(since) => format!(
                "{}{}",
                t(
                    lang,
                    "  已宣告泄露：作废自 ",
                    "  COMPROMISED: passes refused from "
                ),
                timefmt::minutes(since)
            ),
        };
        writeln!(
            out,
            "  {}  {} — {}{compromised}{}",
            k.kid(),
            timefmt::minutes(k.valid_from),
            timefmt::minutes(k.valid_to),
            scope_text(&k.scope, lang)
        )?;
    }
    writeln!(
        out,
        "{}{}",
        t(lang, "撤销条数：", "Revocations: "),
        b.revoked.len()
    )?;
    writeln!(
        out,
        "{}{}",
        t(lang, "检查站数：", "Checkpoints: "),
        b.checkpoints.len()
    )?;
    for c in &b.checkpoints {
        let here = if c.code == s.checkpoint {
            t(lang, "  ← 本站", "  ← this checkpoint")
        } else {
            ""
        };
        writeln!(
            out,
            "  {} {} ({}, {}){here}",
            c.code, c.name, c.road, c.district
        )?;
    }
    if b.checkpoint(&s.checkpoint).is_none() {
        writeln!(
            out,
            "{} {}",
            t(
                lang,
                "注意：本站编码不在检查站名单中：",
                "Warning: this checkpoint is not in the registry:"
            ),
            s.checkpoint
        )?;
    }
    let p = &b.policy;
    writeln!(
        out,
        "{}{} h / {} s / {} h / {} s",
        t(
            lang,
            "规则 (核酸时限/时钟误差/信任包时效/重复窗口)：",
            "Policy (test age/clock skew/bundle age/repeat window): "
        ),
        p.max_test_age_secs / 3600,
        p.clock_skew_secs,
        p.max_bundle_age_secs / 3600,
        engine.repeat_window_secs().unwrap_or(p.repeat_window_secs),
    )?;
    if let Some(problem) = engine.clock_problem(now)? {
        writeln!(out, "{}", clock_warning(problem, lang))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn clock_warning(problem: ClockProblem, lang: Lang) -> String {
    let reference = match problem {
        ClockProblem::BehindLog { newest_scan_at } => newest_scan_at,
        ClockProblem::BehindBundle { issued_at } => issued_at,
    };
    format!(
        "{} {} (UTC+8)",
        t(
            lang,
            "注意：本机时钟早于",
            "Warning: this device's clock is earlier than"
        ),
        timefmt::minutes(reference)
    )
}

fn check(dir: &Path, args: CheckArgs, lang: Option<Lang>) -> Result<ExitCode> {
    let (mut engine, lang) = open(dir, lang)?;
    // Refuse early, before reading any image, when checks cannot run.
    engine.bundle()?;
    // A time given with --at is a simulation: marked in the log, never moving the clock floor.
    engine.set_simulated_clock(args.at.is_some());
    let now = args.at.unwrap_or_else(system_now);
    let checkpoint = match &args.checkpoint {
        Some(c) => settings::validate_code("checkpoint", c)?,
        None => engine.settings().checkpoint.clone(),
    };
    let mut worst: Option<Level> = None;
    let mut failed = false;
    let mut out = io::stdout().lock();
    let mut emit =
        |src: &Source<'_>, checked: &Checked, out: &mut io::StdoutLock<'_>| -> Result<()> {
            worst = worst.max(Some(checked.verdict.level()));
            if args.json {
                writeln!(out, "{}", report::json(src, checked, lang))?;
            } else {
                write!(out, "{}", report::human(src, checked, lang))?;
            }
            Ok(())
        };
    if let Some(text) = &args.text {
        let checked = engine.check_text_at(text, now, &checkpoint)?;
        let src = Source {
            image: None,
            text: Some(text),
            index: 1,
            count: 1,
        };
        emit(&src, &checked, &mut out)?;
    }
    for (i, image) in args.images.iter().enumerate() {
        if i > 0 && !args.json {
            writeln!(out)?;
        }
        let name = image.display().to_string();
        let texts = match read_image(image) {
            Ok(texts) => texts,
            Err(e) => {
                failed = true;
                out.flush()?;
                writeln!(
                    io::stderr(),
                    "错误 (error): {}",
                    checkpass::describe_error(e.as_ref())
                )?;
                continue;
            }
        };
        if texts.is_empty() {
            let checked = engine.check_nothing_found(now, &checkpoint)?;
            let src = Source {
                image: Some(&name),
                text: None,
                index: 0,
                count: 0,
            };
            emit(&src, &checked, &mut out)?;
        }
        for (j, text) in texts.iter().enumerate() {
            let checked = engine.check_text_at(text, now, &checkpoint)?;
            let src = Source {
                image: Some(&name),
                text: Some(text),
                index: j + 1,
                count: texts.len(),
            };
            emit(&src, &checked, &mut out)?;
        }
    }
    out.flush()?;
    if failed {
        return Ok(ExitCode::from(EXIT_ERROR));
    }
    Ok(ExitCode::from(exit_code(worst.unwrap_or(Level::Red))))
}

/// The texts of every QR code found in an image file, each once (a code read twice by the
/// decoder must not look like a repeat scan).
fn read_image(path: &Path) -> Result<Vec<String>> {
    let codes = crate::decode::decode_image_file(path)?;
    let mut texts: Vec<String> = Vec::with_capacity(codes.len());
    for code in codes {
        if !texts.contains(&code.text) {
            texts.push(code.text);
        }
    }
    Ok(texts)
}

/// `--since`: a time (see [`timefmt::parse`]) or a span back from now (`90m`, `24h`, `7d`).
fn parse_since(s: &str, now: i64) -> Result<i64> {
    let s = s.trim();
    if let Some(unit) = s.chars().last() {
        let secs = match unit {
            's' => Some(1),
            'm' => Some(60),
            'h' => Some(3600),
            'd' => Some(86_400),
            _ => None,
        };
        if let (Some(mul), Ok(n)) = (secs, s[..s.len() - 1].parse::<i64>()) {
            if n >= 0 {
                return Ok(now.saturating_sub(n.saturating_mul(mul)));
            }
        }
    }
    Ok(timefmt::parse(s)?)
}

fn log(dir: &Path, args: LogArgs, lang: Option<Lang>) -> Result<ExitCode> {
    let (engine, lang) = open(dir, lang)?;
    let since = args
        .since
        .as_deref()
        .map(|s| parse_since(s, system_now()))
        .transpose()?;
    let scans = engine.scans(since)?;
    match &args.csv {
        Some(path) if path.as_os_str() == "-" => {
            let mut out = io::stdout().lock();
            write_csv(&mut out, &scans)?;
        }
        Some(path) => {
            let mut bytes = Vec::new();
            write_csv(&mut bytes, &scans)?;
            let parent = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            };
            crate::store::write_atomic(&parent, path, &bytes)?;
            writeln!(
                io::stderr(),
                "{} {} {}",
                t(lang, "已导出", "Exported"),
                scans.len(),
                t(lang, "条记录", "scans")
            )?;
        }
        None => {
            let mut out = io::stdout().lock();
            writeln!(
                out,
                "{}",
                t(
                    lang,
                    "时间 (UTC+8)  检查站  执勤人员  通行证号  车牌  结论  原因",
                    "time (UTC+8)  checkpoint  officer  serial  plate  verdict  reasons"
                )
            )?;
            for s in &scans {
                writeln!(out, "{}", log_line(s, lang))?;
            }
            writeln!(out, "{} {}", t(lang, "共", "Total:"), scans.len())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A scoped key's limits as `bundle show` prints them; nothing for an unscoped key.
fn scope_text(scope: &checkpass::scope::KeyScope, lang: Lang) -> String {
    if scope.is_unrestricted() {
        return String::new();
    }
    match lang {
        Lang::Zh => format!("  仅限：{scope}"),
        Lang::En => {
            let any = |empty: bool, text: String| if empty { "any".to_string() } else { text };
            let categories = scope
                .categories
                .iter()
                .map(|c| c.label_en())
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "  only for districts {}; categories {}",
                any(scope.districts.is_empty(), scope.districts_text()),
                any(scope.categories.is_empty(), categories)
            )
        }
    }
}

/// Exit status of `log find` when the pass was not scanned today.
pub const EXIT_NOT_FOUND: u8 = 1;

fn log_find(dir: &Path, number: &str, at: Option<i64>, lang: Option<Lang>) -> Result<ExitCode> {
    // A mistyped number (wrong length, check character) is an error of its own, told apart
    // from a pass not seen today.
    let number: PassNumber = number.parse()?;
    let (engine, lang) = open(dir, lang)?;
    let since = timefmt::start_of_day_cst(at.unwrap_or_else(system_now));
    let scans = engine.scans_of(&number, since)?;
    let mut out = io::stdout().lock();
    if scans.is_empty() {
        match lang {
            Lang::Zh => writeln!(out, "今日查验记录中没有通行证 {number}")?,
            Lang::En => writeln!(out, "No scan of pass {number} in today's log")?,
        }
        return Ok(ExitCode::from(EXIT_NOT_FOUND));
    }
    writeln!(
        out,
        "{} {number}{}",
        t(lang, "通行证", "Pass"),
        t(lang, " 今日的查验记录：", ", today's scans:")
    )?;
    for s in &scans {
        writeln!(out, "{}", log_line(s, lang))?;
    }
    writeln!(out, "{} {}", t(lang, "共", "Total:"), scans.len())?;
    Ok(ExitCode::SUCCESS)
}

fn log_verify(dir: &Path, lang: Option<Lang>) -> Result<ExitCode> {
    let (engine, lang) = open(dir, lang)?;
    let head = engine.verify_log()?;
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "{} {} {}",
        t(lang, "查验记录哈希链完整：", "Scan log hash chain intact:"),
        head.entries,
        t(lang, "条", "entries")
    )?;
    writeln!(
        out,
        "{} {}",
        t(
            lang,
            "链尾哈希（抄录或随记录导出，以便日后比对）：",
            "Head hash (write it down or export it to compare later):"
        ),
        hex::encode(head.head)
    )?;
    Ok(ExitCode::SUCCESS)
}

fn log_export(dir: &Path, out: &Path, since: Option<&str>, lang: Option<Lang>) -> Result<ExitCode> {
    let (engine, lang) = open(dir, lang)?;
    let now = system_now();
    let since = since.map(|s| parse_since(s, now)).transpose()?;
    let (bytes, log) = engine.export_log(since, now)?;
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    crate::store::write_atomic(&parent, out, &bytes)?;
    let scans = log
        .entries
        .iter()
        .filter(|e| e.kind == checkpass::scanlog::EntryKind::Scan)
        .count();
    let simulated = log.entries.iter().filter(|e| e.simulated).count();
    let mut o = io::stdout().lock();
    writeln!(
        o,
        "{} {} ({} {}, {} {}) → {}",
        t(lang, "已导出查验记录", "Scan log exported:"),
        log.entries.len(),
        scans,
        t(lang, "次查验", "scans"),
        simulated,
        t(lang, "条模拟时间", "under a simulated clock"),
        out.display()
    )?;
    writeln!(
        o,
        "{} {}  {} {}",
        t(lang, "设备密钥", "device key"),
        log.device.kid().to_hex(),
        t(lang, "链尾", "head"),
        hex::encode(log.head())
    )?;
    Ok(ExitCode::SUCCESS)
}

fn log_device(dir: &Path, out: Option<&Path>, lang: Option<Lang>) -> Result<ExitCode> {
    let (engine, lang) = open(dir, lang)?;
    let key = engine.device_public_key()?;
    let mut o = io::stdout().lock();
    match out {
        Some(path) => {
            let text = checkpass::keys::public_key_file(&key, checkpass::keys::KeyRole::Device);
            let parent = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            };
            crate::store::write_atomic(&parent, path, text.as_bytes())?;
            writeln!(o, "{} {}", t(lang, "已写入", "Written:"), path.display())?;
        }
        None => {
            writeln!(
                o,
                "{} {}",
                t(lang, "本机记录签名密钥编号：", "This device's log key id:"),
                key.kid().to_hex()
            )?;
            writeln!(o, "{} {}", t(lang, "公钥：", "Public key:"), key.to_hex())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn clock_correct(dir: &Path, reason: &str, now: i64, lang: Option<Lang>) -> Result<ExitCode> {
    let (mut engine, lang) = open(dir, lang)?;
    let reason = reason.trim();
    if reason.is_empty() {
        bail!("理由不能为空 (a reason is required)");
    }
    engine.record_clock_correction(now, reason)?;
    writeln!(
        io::stdout().lock(),
        "{} {} (UTC+8)",
        t(
            lang,
            "已登记时钟校正，本机时间为",
            "Clock correction recorded; this device's time is"
        ),
        timefmt::minutes(now)
    )?;
    Ok(ExitCode::SUCCESS)
}

fn log_line(s: &ScanRecord, lang: Lang) -> String {
    let level = match s.verdict {
        crate::store::LoggedVerdict::Green => Level::Green,
        crate::store::LoggedVerdict::Amber => Level::Amber,
        crate::store::LoggedVerdict::Red => Level::Red,
    };
    let simulated = if s.simulated {
        t(lang, "（模拟时间）", " (simulated time)")
    } else {
        ""
    };
    format!(
        "{}{simulated}  {}  {}  {}  {}  {}  {}",
        timefmt::minutes(s.scanned_at),
        s.checkpoint,
        s.officer.as_deref().unwrap_or("-"),
        s.serial.as_deref().unwrap_or("-"),
        s.plate.as_deref().unwrap_or("-"),
        level.word(lang),
        s.reasons.join(",")
    )
}

/// The scan log as CSV, UTF-8 with a byte-order mark so that Excel on a Chinese Windows
/// shows the plates correctly.
pub fn write_csv(w: &mut impl Write, scans: &[ScanRecord]) -> Result<()> {
    w.write_all("\u{FEFF}".as_bytes())?;
    let mut csv = csv::Writer::from_writer(w);
    csv.write_record([
        "id",
        "scanned_at",
        "scanned_at_unix",
        "checkpoint",
        "officer",
        "serial",
        "plate",
        "verdict",
        "reasons",
        "bundle_sequence",
        "simulated",
    ])?;
    for s in scans {
        let row = [
            s.id.to_string(),
            timefmt::rfc3339(s.scanned_at),
            s.scanned_at.to_string(),
            s.checkpoint.clone(),
            s.officer.clone().unwrap_or_default(),
            s.serial.clone().unwrap_or_default(),
            s.plate.clone().unwrap_or_default(),
            s.verdict.as_str().to_owned(),
            s.reasons.join(" "),
            s.bundle_sequence.map(|q| q.to_string()).unwrap_or_default(),
            if s.simulated { "yes" } else { "no" }.to_owned(),
        ];
        // Officer names and plates come from people and QR codes: no cell may run as a formula.
        csv.write_record(
            row.iter()
                .map(|c| checkpass::text::csv_safe(c).into_owned()),
        )?;
    }
    csv.flush()?;
    Ok(())
}

fn settings_cmd(dir: &Path, args: SettingsArgs, lang: Option<Lang>) -> Result<ExitCode> {
    let (mut engine, _) = open(dir, lang)?;
    let checkpoint = args
        .checkpoint
        .as_deref()
        .map(|c| settings::validate_code("checkpoint", c))
        .transpose()?;
    let officer = args
        .officer
        .as_deref()
        .map(|o| settings::validate_code("officer", o))
        .transpose()?;
    let window = args
        .repeat_window
        .map(settings::validate_repeat_window)
        .transpose()?;
    let changed = checkpoint.is_some()
        || officer.is_some()
        || args.no_officer
        || window.is_some()
        || args.policy_repeat_window
        || args.language.is_some();
    if changed {
        engine.update_settings(|s| {
            if let Some(c) = checkpoint {
                s.checkpoint = c;
            }
            if officer.is_some() || args.no_officer {
                s.officer = officer;
            }
            if window.is_some() || args.policy_repeat_window {
                s.repeat_window_secs = window;
            }
            if let Some(l) = args.language {
                s.lang = l;
            }
        })?;
    }
    let lang = lang.unwrap_or(engine.settings().lang);
    let s = engine.settings();
    let mut out = io::stdout().lock();
    let window = match (s.repeat_window_secs, engine.repeat_window_secs()) {
        (Some(w), _) => format!("{w} s"),
        (None, Some(w)) => format!("{w} s ({})", t(lang, "信任包规定", "bundle policy")),
        (None, None) => t(lang, "未安装信任包", "no bundle installed").to_owned(),
    };
    write_fields(
        &mut out,
        lang,
        &[
            ("数据目录", "Data dir", engine.dir().display().to_string()),
            ("根公钥", "Root key", s.root_key.kid().to_string()),
            ("检查站", "Checkpoint", s.checkpoint.clone()),
            (
                "执勤人员",
                "Officer",
                s.officer.as_deref().unwrap_or("-").to_string(),
            ),
            ("重复查验窗口", "Repeat window", window),
            ("语言", "Language", lang_str(s.lang).to_string()),
        ],
    )?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn since_spans_and_times() {
        assert_eq!(parse_since("24h", 100_000).unwrap(), 100_000 - 86_400);
        assert_eq!(parse_since("90m", 10_000).unwrap(), 10_000 - 5_400);
        assert_eq!(parse_since("2022-03-12 19:00", 0).unwrap(), 1_647_082_800);
        assert!(parse_since("soon", 0).is_err());
        assert!(parse_since("-5h", 0).is_err());
    }

    #[test]
    fn exit_codes() {
        assert_eq!(exit_code(Level::Green), 0);
        assert_eq!(exit_code(Level::Amber), 10);
        assert_eq!(exit_code(Level::Red), 20);
    }
}
