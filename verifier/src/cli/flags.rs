//! The command line's definition (clap): every subcommand, option and help text, and the
//! parsers for their values. No command runs here: [`crate::cli`] and the GUI do the work, and
//! `main.rs` dispatches between them.

use std::path::PathBuf;

use checkpass::verdict::Lang;
use clap::{Args, Parser, Subcommand};

use crate::settings::parse_lang;
use crate::timefmt;

/// A help text from the catalogue (`cli.help`), in both languages at once: `--help` is shown
/// before any setting is read.
macro_rules! help {
    ($key:ident) => {
        checkpass::messages::in_both(|l| checkpass::msg!(l, cli.help.$key))
    };
}

/// The checkpoint pass verifier: the window without a subcommand, else a terminal command.
#[derive(Debug, Parser)]
#[command(name = "verifier", version, about = help!(about), long_about = None)]
pub struct Cli {
    #[arg(long, global = true, value_name = "DIR", env = "VERIFIER_DATA", help = help!(data))]
    pub data: Option<PathBuf>,
    #[arg(long, global = true, value_name = "zh|en", value_parser = parse_lang_arg, help = help!(lang))]
    pub lang: Option<Lang>,
    /// Without one, the checkpoint window opens.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    #[command(about = help!(gui))]
    Gui,
    #[command(about = help!(init))]
    Init(InitArgs),
    #[command(subcommand, about = help!(bundle))]
    Bundle(BundleCommand),
    #[command(about = help!(check), after_help = help!(check_exit))]
    Check(CheckArgs),
    #[command(about = help!(log))]
    Log(LogArgs),
    #[command(subcommand, about = help!(clock))]
    Clock(ClockCommand),
    #[command(about = help!(settings))]
    Settings(SettingsArgs),
}

#[derive(Debug, Args)]
pub struct InitArgs {
    #[arg(long, value_name = "FILE", help = help!(root_key))]
    pub root_key: PathBuf,
    #[arg(long, value_name = "CODE", help = help!(init_checkpoint))]
    pub checkpoint: String,
    #[arg(long, value_name = "ID", help = help!(officer))]
    pub officer: Option<String>,
    #[arg(long, help = help!(allow_dev_keys))]
    pub allow_dev_keys: bool,
}

#[derive(Debug, Subcommand)]
pub enum ClockCommand {
    #[command(about = help!(clock_correct))]
    Correct {
        #[arg(long, required = true, help = help!(clock_reason))]
        reason: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum LogCommand {
    #[command(about = help!(log_verify))]
    Verify,
    #[command(about = help!(log_export))]
    Export {
        #[arg(long, value_name = "FILE", help = help!(log_export_out))]
        out: PathBuf,
        #[arg(long, value_name = "TIME", help = help!(log_export_since))]
        since: Option<String>,
    },
    #[command(about = help!(log_device))]
    Device {
        #[arg(long, value_name = "FILE", help = help!(log_device_out))]
        out: Option<PathBuf>,
    },
    #[command(about = help!(log_find))]
    Find {
        #[arg(help = help!(log_find_number))]
        number: String,
        #[arg(long, value_name = "TIME", value_parser = parse_time_arg, help = help!(log_find_at))]
        at: Option<i64>,
    },
}

#[derive(Debug, Subcommand)]
pub enum BundleCommand {
    #[command(about = help!(bundle_install))]
    Install {
        #[arg(help = help!(bundle_file))]
        file: PathBuf,
    },
    #[command(about = help!(bundle_show))]
    Show {
        #[arg(long, value_name = "TIME", value_parser = parse_time_arg, help = help!(bundle_show_at))]
        at: Option<i64>,
    },
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[arg(long, help = help!(check_json))]
    pub json: bool,
    #[arg(long, value_name = "RFC3339", value_parser = parse_time_arg, help = help!(check_at))]
    pub at: Option<i64>,
    #[arg(long, value_name = "CODE", help = help!(check_checkpoint))]
    pub checkpoint: Option<String>,
    #[arg(long, value_name = "TIME", value_parser = parse_time_arg, help = help!(check_test_seen))]
    pub test_seen: Option<i64>,
    #[arg(
        long,
        value_name = "QR_TEXT",
        conflicts_with = "images",
        required_unless_present = "images",
        help = help!(check_text)
    )]
    pub text: Option<String>,
    #[arg(value_name = "IMAGE", help = help!(check_images))]
    pub images: Vec<PathBuf>,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct LogArgs {
    #[command(subcommand)]
    pub command: Option<LogCommand>,
    #[arg(long, value_name = "TIME", help = help!(log_since))]
    pub since: Option<String>,
    #[arg(long, value_name = "FILE", help = help!(log_csv))]
    pub csv: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SettingsArgs {
    #[arg(long, value_name = "CODE", help = help!(settings_checkpoint))]
    pub checkpoint: Option<String>,
    #[arg(long, value_name = "ID", conflicts_with = "no_officer", help = help!(officer))]
    pub officer: Option<String>,
    #[arg(long, help = help!(no_officer))]
    pub no_officer: bool,
    #[arg(
        long,
        value_name = "SECS",
        conflicts_with = "policy_repeat_window",
        help = help!(repeat_window)
    )]
    pub repeat_window: Option<i64>,
    #[arg(long, help = help!(policy_repeat_window))]
    pub policy_repeat_window: bool,
    #[arg(long, value_name = "zh|en", value_parser = parse_lang_arg, help = help!(language))]
    pub language: Option<Lang>,
    #[arg(
        long,
        value_name = "in|out",
        value_parser = parse_direction_arg,
        conflicts_with = "no_direction",
        help = help!(direction)
    )]
    pub direction: Option<checkpass::scanlog::Direction>,
    #[arg(long, help = help!(no_direction))]
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
