//! The checkpoint verifier, as a library so that the CLI (`main.rs`) and the GUI drive the same
//! engine.
//!
//! - [`engine`]: settings + installed trust bundle + scan log; QR text in, recorded verdict out.
//! - [`store`]: the data directory (SQLite scan log and settings, the bundle file); all SQL.
//! - [`settings`]: the checkpoint's configuration and its validation.
//! - [`report`]: the verdict as the officer reads it (Chinese or English) and as JSON.
//! - [`cli`]: the terminal commands, one module each, and their argument definitions
//!   ([`cli::flags`]); `main.rs` dispatches to them or to [`gui`], which never import each other.
//! - [`files`]: the one home of the data directory's location, size-limited file reads and the
//!   scan log as CSV, used by the CLI, the GUI, the store and the decoder.
//! - [`timefmt`]: times shown and typed in UTC+8.
//! - [`decode`]: finding and reading QR codes in camera frames and image files.
//! - `winplatform` (Windows only): the console's UTF-8 output, the window started by a double
//!   click, USB sticks as drive letters.

pub mod cli;
pub mod decode;
pub mod engine;
pub mod files;
pub mod gui;
pub mod report;
pub mod settings;
pub mod store;
pub mod timefmt;
#[cfg(windows)]
pub mod winplatform;
