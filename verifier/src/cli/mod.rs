//! The terminal commands: `verifier init | bundle install | bundle show | check | log | clock |
//! settings`. Arguments ([`flags`]) are turned into engine calls here, one module per command,
//! and results into text; everything else lives in the library. `main.rs` dispatches between
//! these and the GUI, and neither imports the other.
//!
//! Exit status of `check`: 0 green, 10 amber, 20 red (the worst of all QRs), 2 for a usage or
//! I/O error (any command).

pub mod flags;

mod bundle;
mod check;
mod clock;
mod init;
mod log;
mod settings;

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{anyhow, Result};
use checkpass::msg;
use checkpass::verdict::{Lang, Level};

use crate::engine::Engine;
use crate::files::{self, ReadError};
use flags::{BundleCommand, ClockCommand, Command, LogArgs, LogCommand};

pub use log::EXIT_NOT_FOUND;

/// Exit status for a green verdict.
pub const EXIT_GREEN: u8 = 0;
/// Exit status for an amber verdict (the officer must look).
pub const EXIT_AMBER: u8 = 10;
/// Exit status for a red verdict, including an image with no pass in it.
pub const EXIT_RED: u8 = 20;
/// Exit status for a usage or I/O error.
pub const EXIT_ERROR: u8 = 2;

/// Runs a terminal command on the data directory `data` (`--data`, else the platform's) in
/// `lang` (`--lang`, else the setting). [`Command::Gui`] is not one: `main.rs` opens the window.
pub fn run(command: Command, data: Option<&Path>, lang: Option<Lang>) -> Result<ExitCode> {
    default_sigpipe();
    let dir = files::data_dir(data)?;
    match command {
        Command::Gui => Err(anyhow!("the window is opened by main, not by the CLI")),
        Command::Init(args) => init::run(&dir, args, lang),
        Command::Bundle(BundleCommand::Install { file }) => bundle::install(&dir, &file, lang),
        Command::Bundle(BundleCommand::Show { at }) => {
            bundle::show(&dir, at.unwrap_or_else(system_now), lang)
        }
        Command::Check(args) => check::run(&dir, args, lang),
        Command::Log(LogArgs {
            command: Some(LogCommand::Verify),
            ..
        }) => log::verify(&dir, lang),
        Command::Log(LogArgs {
            command: Some(LogCommand::Find { number, at }),
            ..
        }) => log::find(&dir, &number, at, lang),
        Command::Log(LogArgs {
            command: Some(LogCommand::Export { out, since }),
            ..
        }) => log::export(&dir, &out, since.as_deref(), lang),
        Command::Log(LogArgs {
            command: Some(LogCommand::Device { out }),
            ..
        }) => log::device(&dir, out.as_deref(), lang),
        Command::Log(args) => log::list(&dir, args, lang),
        Command::Clock(ClockCommand::Correct { reason }) => {
            clock::correct(&dir, &reason, system_now(), lang)
        }
        Command::Settings(args) => settings::run(&dir, args, lang),
    }
}

/// Prints a command's (or the window's) error as every command does, and gives status 2.
pub fn report_error(e: &anyhow::Error) -> ExitCode {
    let error = checkpass::describe_error(e.as_ref());
    // Before the settings are read, so in both languages at once.
    let _ = writeln!(io::stderr(), "{}", msg!(Lang::Zh, cli.error, error = error));
    ExitCode::from(EXIT_ERROR)
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

fn open(dir: &Path, lang: Option<Lang>) -> Result<(Engine, Lang)> {
    let engine = Engine::open(dir)?;
    let lang = lang.unwrap_or(engine.settings().lang);
    Ok((engine, lang))
}

/// Writes "label：value" lines (`fields`: a label from the catalogue, its value); in English
/// the labels are padded to one column.
fn write_fields(out: &mut impl Write, lang: Lang, fields: &[(&str, String)]) -> io::Result<()> {
    let width = fields
        .iter()
        .map(|(label, _)| label.chars().count() + 1)
        .max()
        .unwrap_or(0);
    for (label, value) in fields {
        let label = msg!(lang, cli.field_label, label = label);
        match lang {
            Lang::Zh => writeln!(out, "{label}{value}")?,
            Lang::En => writeln!(out, "{label:<width$} {value}")?,
        }
    }
    Ok(())
}

/// Reads a whole file of at most `limit` bytes (see [`files::read_limited`]), naming the file
/// as `what` (from `cli.file`) in any error.
fn read_file(path: &Path, limit: u64, what: &str, lang: Lang) -> Result<Vec<u8>> {
    files::read_limited(path, limit).map_err(|e| {
        let p = path.display();
        match e {
            ReadError::Open { source, .. } => anyhow::Error::new(source).context(msg!(
                lang,
                cli.file.open_failed,
                path = p,
                what = what
            )),
            ReadError::Read { source, .. } => anyhow::Error::new(source).context(msg!(
                lang,
                cli.file.read_failed,
                path = p,
                what = what
            )),
            ReadError::TooLarge { .. } => anyhow!(msg!(
                lang,
                cli.file.too_large,
                limit = limit,
                path = p,
                what = what
            )),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes() {
        assert_eq!(exit_code(Level::Green), 0);
        assert_eq!(exit_code(Level::Amber), 10);
        assert_eq!(exit_code(Level::Red), 20);
    }
}
