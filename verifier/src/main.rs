//! `verifier`: the checkpoint's command line. All the work is in the library (`verifier::cli`).

fn main() -> std::process::ExitCode {
    verifier::cli::main()
}
