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
