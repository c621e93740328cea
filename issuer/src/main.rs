//! `issuer`: the city group's pass issuer. `main` only parses the command line, runs it and
//! turns an error into a message on standard error and a non-zero exit status.

mod cli;
mod commands;

use std::process::ExitCode;

use clap::Parser;
use issuer::clock;

fn main() -> ExitCode {
    default_sigpipe();
    let cli = cli::Cli::parse();
    let started = clock::init().inspect(|()| {
        // Passes and audit records carry this time: nobody should use it without knowing.
        if let Some(t) = clock::simulated() {
            eprintln!(
                "注意：使用模拟时间 ISSUER_NOW={}（仅用于演示和测试）/ note: simulated clock from ISSUER_NOW",
                checkpass::time::format_cst(t)
            );
        }
    });
    match started.and_then(|()| commands::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            // Errors quote file names and cells: control characters are shown, never sent.
            let message = checkpass::describe_error(e.as_ref());
            eprintln!("错误：{}", checkpass::text::terminal_safe(&message));
            ExitCode::FAILURE
        }
    }
}

/// A closed pipe (`issuer list | head`) ends the process quietly, as it ends other Unix tools,
/// instead of a panic in `println!`. Nothing is lost: every write of the issuer survives being
/// killed at any point (the tests use SIGKILL), and a SIGPIPE is no different.
fn default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first in main, before any other thread exists; SIG_DFL is a valid handler.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
