//! The city group's pass issuer as a library: what the `issuer` command line (and, next, the
//! web service) calls. The front ends parse arguments, call these modules and print; nothing
//! here reads the command line or writes to the terminal.
//!
//! - [`validate`]: the intake rules of one application row, pure.
//! - [`problem`]: what a rule finds wrong, as a stable code with Chinese and English text.
//! - [`import`]: reading application spreadsheets (xlsx, UTF-8/GBK CSV) into raw rows.
//! - [`workflow`]: the application's statuses and the actions between them, pure.
//! - [`domain`]: the records the issuer works with (application, pass, key, registry, audit).
//! - [`store`]: everything kept (SQLite): applications, passes, keys, registry, audit trail.
//! - [`issuing`]: signing an approved application's pass, checking it, writing its files.
//! - [`render`]: the pass sheet (PDF, PNG), the QR (PNG, SVG) and the SMS text.
//! - [`keyring`]: secret and public key files in the data directory.
//! - [`clock`]: the issuer's clock (the system's, or `ISSUER_NOW` for demonstrations).

/// The pass format the library's types are made of, re-exported so that a user of this library
/// (the fuzz target, a future server) uses the very same version.
pub use checkpass;

pub mod clock;
pub mod domain;
pub mod import;
pub mod issuing;
pub mod keyring;
pub mod problem;
pub mod render;
pub mod store;
pub mod validate;
pub mod workflow;
