//! The command line's definition (clap): every subcommand, option and help text, and the
//! parsers for their values. No command runs here: [`crate::cli`] and the GUI do the work, and
//! `main.rs` dispatches between them.

use std::path::PathBuf;

use checkpass::verdict::Lang;
use clap::{Args, Parser, Subcommand};

use crate::settings::parse_lang;
use crate::timefmt;

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
    /// 核酸超时时，记录民警所见新阴性报告的采样时间，如 "2022-03-13 07:30"
    /// (when the test is too old: record the sample time of a newer negative report the officer saw)
    #[arg(long, value_name = "TIME", value_parser = parse_time_arg)]
    pub test_seen: Option<i64>,
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
    /// 本机所查车道方向 in（进城）|out（出城），随每次查验记录 (this lane's direction, logged with each scan)
    #[arg(long, value_name = "in|out", value_parser = parse_direction_arg, conflicts_with = "no_direction")]
    pub direction: Option<checkpass::scanlog::Direction>,
    /// 清除车道方向 (clear the direction)
    #[arg(long)]
    pub no_direction: bool,
}

fn parse_direction_arg(s: &str) -> Result<checkpass::scanlog::Direction, String> {
    checkpass::scanlog::Direction::parse(s).ok_or_else(|| {
        checkpass::msg!(
            checkpass::verdict::Lang::Zh,
            cli.direction_invalid,
            value = s
        )
    })
}

fn parse_lang_arg(s: &str) -> Result<Lang, String> {
    parse_lang(s).map_err(|e| e.to_string())
}

fn parse_time_arg(s: &str) -> Result<i64, String> {
    timefmt::parse(s).map_err(|e| e.to_string())
}

/// Parses the process arguments (help, version and usage errors come back as the error).
pub fn parse() -> Result<Cli, clap::Error> {
    Cli::try_parse()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
