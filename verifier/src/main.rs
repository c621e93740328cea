//! `verifier`: the checkpoint's command line. All the work is in the library (`verifier::cli`).

fn main() -> std::process::ExitCode {
    // Windows: UTF-8 console output while the verifier runs (see `verifier::winplatform`).
    #[cfg(windows)]
    let _utf8 = verifier::winplatform::Utf8Output::set();
    verifier::cli::main()
}
