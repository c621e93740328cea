//! `verifier`: the checkpoint's program. Without a subcommand (or with `gui`) it opens the
//! officer's window, else it runs a terminal command. This file only dispatches: the window is
//! `verifier::gui`, the commands `verifier::cli`, the argument definitions `verifier::cli::flags`.

use std::process::ExitCode;

use verifier::cli::{self, flags};

fn main() -> ExitCode {
    // Windows: UTF-8 console output while the verifier runs (see `verifier::winplatform`).
    #[cfg(windows)]
    let _utf8 = verifier::winplatform::Utf8Output::set();
    let args = match flags::parse() {
        Ok(args) => args,
        Err(e) => {
            // Help and version go to stdout with status 0; usage errors to stderr with 2.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { cli::EXIT_ERROR } else { 0 });
        }
    };
    let result = match args.command {
        None | Some(flags::Command::Gui) => {
            verifier::gui::run(args.data).map(|()| ExitCode::SUCCESS)
        }
        Some(command) => cli::run(command, args.data.as_deref(), args.lang),
    };
    result.unwrap_or_else(|e| cli::report_error(&e))
}
