//! `checkpass`: signed offline checkpoint passes.
//!
//! The library both the issuer and the checkpoint verifier stand on. It is pure: bytes and
//! values in, values out; the clock is always an argument (unix seconds).
//!
//! - [`pass`]: the pass model (serial, category, masked ID, body, envelope).
//! - [`wire`]: QR text ⇄ base45 ⇄ COSE_Sign1 (Ed25519) ⇄ CWT claims ⇄ [`pass::Pass`].
//! - [`keys`]: Ed25519 keys, key ids, sealed secret-key files and public-key files.
//! - [`scope`]: the districts and categories a signing key may sign for.
//! - [`number`]: the national pass number (district + serial + check character).
//! - [`bundle`]: the root-signed trust bundle (keys, checkpoints, revocations, policy).
//! - [`rules`]: [`rules::verify`], from (QR text, bundle, checkpoint, now) to a verdict; and
//!   [`rules::log`], the repeat-scan and clock rules over the facts a scan log supplies.
//! - [`verdict`]: verdict levels, reasons with stable codes and Chinese/English messages, the
//!   verified pass (only the rules make one) and [`verdict::PassFacts`], the facts of a pass as
//!   the printed sheet, the CLI and the GUI show them.
//! - [`checkpoint`]: accepting a bundle against the pinned root and what was installed.
//! - [`scanlog`]: the hash chain of a checkpoint's scan log.
//! - [`text`]: untrusted text made safe for a terminal or a CSV cell.
//! - [`messages`]: every word the checkpoint shows, zh and en, from the one catalogue file
//!   (`shared/messages.toml`) through the [`msg!`] macro.
//!
//! ```
//! use checkpass::{rules, sample, verdict::Level, wire};
//!
//! let key = sample::vector_signing_key();
//! let text = wire::issue_qr_text(&sample::pass(), &key).unwrap();
//! let bundle = sample::bundle(&key, 1, sample::NOW);
//! let verdict = rules::verify(&text, &bundle, "C101", sample::NOW);
//! assert_eq!(verdict.level(), Level::Green);
//! assert_eq!(verdict.view.unwrap().plate, "鲁KP20XL");
//! ```

// First, so that `msg!` is in scope in every module below.
#[macro_use]
pub mod messages;
pub mod bundle;
mod cbor;
pub mod checkpoint;
pub mod keys;
pub mod logfile;
pub mod number;
pub mod pass;
pub mod rules;
pub mod sample;
pub mod scanlog;
pub mod scope;
pub mod text;
pub mod time;
pub mod verdict;
pub mod wire;

/// An error and its causes in one line, for the binaries' edges.
///
/// Error types here and in the binaries name their cause in their own message (so a GUI that
/// shows `to_string()` shows everything) and also expose it as `source()`; printing the chain
/// naively would repeat it. A cause is printed only when the text before it does not already
/// contain it.
pub fn describe_error(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut cause = err.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cause = c.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_error_names_each_cause_once() {
        let inner = wire::WireError::Cose("extraneous data".into());
        let outer = bundle::BundleError::from(inner);
        let text = describe_error(&outer);
        assert_eq!(text.matches("extraneous data").count(), 1, "{text}");
        assert!(text.starts_with("信任包格式错误"), "{text}");
        let io = std::io::Error::other("disk full");
        assert_eq!(describe_error(&io), "disk full");
    }
}
