//! Every word the checkpoint shows, in Chinese and English: the message catalogue.
//!
//! The texts live in one file, `shared/messages.toml`, which is all a translator edits; the
//! build turns it into the [`msg!`](crate::msg) macro (see `shared/build.rs`), so the verifier's
//! CLI and GUI and the reasons of a verdict read from the same catalogue, and a key or a
//! placeholder that does not match it fails the build instead of reaching an officer's screen.
//!
//! ```
//! use checkpass::{msg, verdict::Lang};
//!
//! assert_eq!(msg!(Lang::Zh, level.green), "通过");
//! assert_eq!(
//!     msg!(Lang::En, reason.repeat_scan_minutes, minutes = 5),
//!     "The same pass was checked here 5 min ago"
//! );
//! ```

include!(concat!(env!("OUT_DIR"), "/messages.rs"));

use std::fmt;

use crate::verdict::Lang;

/// A message in both languages at once, `中文 (English)`, from `text` in each:
/// `in_both(|l| msg!(l, gui.both.no_camera))`. For what is shown before anyone chose a
/// language (errors, `--help`, the window's title).
pub fn in_both<S: AsRef<str>>(text: impl Fn(Lang) -> S) -> String {
    format!("{} ({})", text(Lang::Zh).as_ref(), text(Lang::En).as_ref())
}

/// Writes an error's text in both languages at once — `中文 (English)` — then `: cause` when it
/// has one. Errors reach the terminal and the logs before any language is chosen, so they
/// carry both; `text` gives the catalogue's words in one language.
pub fn write_bilingual(
    f: &mut fmt::Formatter<'_>,
    text: impl Fn(Lang) -> String,
    cause: Option<&dyn fmt::Display>,
) -> fmt::Result {
    f.write_str(&in_both(text))?;
    match cause {
        Some(cause) => write!(f, ": {cause}"),
        None => Ok(()),
    }
}
