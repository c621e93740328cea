//! The city group's pass issuer as a library: what the `issuer` command line (and, next, the
//! web service) calls. The front ends parse arguments, call these modules and print; nothing
//! here reads the command line or writes to the terminal.
//!
//! - [`accounts`]: accounts and roles, and who may see and do what (pure).
//! - [`validate`]: the intake rules of one application row, pure.
//! - [`problem`]: what a rule finds wrong, as a stable code with Chinese and English text.
//! - [`import`]: reading application spreadsheets (xlsx, UTF-8/GBK CSV) into raw rows.
//! - [`intake`]: checking a file's rows (each row, and across rows) and storing the good ones.
//! - [`workflow`]: the application's statuses and the actions between them, pure.
//! - [`domain`]: the records the issuer works with (application, pass, key, registry, audit).
//! - [`store`]: everything kept, behind one trait with two backends (SQLite embedded,
//!   PostgreSQL shared): applications, passes, keys, registry, audit trail.
//! - [`trust`]: the trust bundle the checkpoints install, built from the store.
//! - [`issuing`]: signing an approved application's pass, checking it, writing its files.
//! - [`outbox`]: the SMS outbox (issued passes and rejections) and the batch to print.
//! - [`registry`]: the rules of the district and checkpoint tables.
//! - [`report`]: the driver's test report uploaded with an online application.
//! - [`render`]: the pass sheet (PDF, PNG), the QR (PNG, SVG) and the SMS text.
//! - [`keyring`]: secret and public key files in the data directory.
//! - [`keys`]: the active keys, unlocking one, rotating, declaring one compromised.
//! - [`policy`]: the verification policy's items and their bounds.
//! - [`web`]: the web service (`issuer serve`) over the same library.
//! - [`clock`]: the issuer's clock (the system's, or `ISSUER_NOW` for demonstrations).

/// The pass format the library's types are made of, re-exported so that a user of this library
/// (the fuzz target, a future server) uses the very same version.
pub use checkpass;

pub mod accounts;
pub mod clock;
pub mod domain;
pub mod findings;
pub mod import;
pub mod intake;
pub mod issuing;
pub mod keyring;
pub mod keys;
pub mod outbox;
pub mod policy;
pub mod problem;
pub mod registry;
pub mod render;
pub mod report;
pub mod scans;
pub mod store;
pub mod trust;
pub mod validate;
pub mod web;
pub mod workflow;

/// `bytes` random bytes from the operating system, as lowercase hex: session tokens, lease
/// holders, numbers of applications submitted online.
pub fn random_hex(bytes: usize) -> Result<String, getrandom::Error> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf)?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}
