//! What a checkpoint device adds to the pass rules, whatever keeps its state (the native
//! verifier's SQLite log, the web app's IndexedDB): accepting a trust bundle against the pinned
//! root and what was installed before, and the findings only a scan log can give (a repeat
//! scan of the same pass here, a clock that went backwards).
//!
//! Both verifiers call these; neither writes a rule of its own.

use crate::bundle::{bundle_digest, check_same_sequence, open_bundle, BundleError, TrustBundle};
use crate::keys::{is_public_test_key, Kid, PublicKey};
use crate::rules;
use crate::verdict::Reason;

/// What the log says before a new scan is recorded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogFacts {
    /// The clock floor: the latest time this device has seen for real — its newest entry not
    /// made under a simulated clock, counting from the last clock correction on. (For a
    /// simulated scan: the newest simulated one.)
    pub clock_floor: Option<i64>,
    /// Time of the latest earlier scan of the same serial at the same checkpoint.
    pub last_same_pass_here: Option<i64>,
}

/// What the device's clock looks like compared with what it has seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockProblem {
    /// `now` is earlier than the newest scan in the log.
    BehindLog { newest_scan_at: i64 },
    /// `now` is earlier than the installed bundle's issue time (beyond the allowed skew).
    BehindBundle { issued_at: i64 },
}

/// What a checkpoint installed last: the floor a new bundle's sequence must reach, and the
/// digest of the bundle of that sequence.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Installed {
    pub sequence: Option<u64>,
    pub digest: Option<[u8; 32]>,
}

/// Checks a bundle file for installation: signed by the pinned `root`, not older than the
/// installed sequence, the very same file if its sequence is the installed one, within the
/// size limit. Returns the bundle and its digest (to remember with the sequence).
pub fn accept_bundle(
    bytes: &[u8],
    root: &PublicKey,
    installed: Installed,
) -> Result<(TrustBundle, [u8; 32]), BundleError> {
    let bundle = open_bundle(bytes, root, installed.sequence)?;
    let digest = bundle_digest(bytes);
    if let (Some(floor), Some(installed_digest)) = (installed.sequence, installed.digest) {
        check_same_sequence(bundle.sequence, &digest, floor, &installed_digest)?;
    }
    Ok((bundle, digest))
}

/// The first signing key of the bundle that is a public development or test-vector key, which
/// a real checkpoint refuses.
pub fn dev_key_in(bundle: &TrustBundle) -> Option<Kid> {
    bundle
        .keys
        .iter()
        .find(|k| is_public_test_key(&k.public_key))
        .map(|k| k.kid())
}

/// The clock check: `now` earlier than the newest scan (beyond `skew`), or earlier than the
/// bundle's issue time minus `skew`. The skew tolerance keeps a small clock correction from
/// flagging a scan; a clock set back by hours or days is caught.
pub fn clock_problem(
    newest_scan_at: Option<i64>,
    bundle_issued_at: Option<i64>,
    skew: i64,
    now: i64,
) -> Option<ClockProblem> {
    let skew = skew.max(0);
    if let Some(newest) = newest_scan_at {
        if now < newest.saturating_sub(skew) {
            return Some(ClockProblem::BehindLog {
                newest_scan_at: newest,
            });
        }
    }
    if let Some(issued_at) = bundle_issued_at {
        if now < issued_at.saturating_sub(skew) {
            return Some(ClockProblem::BehindBundle { issued_at });
        }
    }
    None
}

/// The reasons only the log can give: a repeat of the same pass here within `window`
/// seconds, and a clock behind the (trusted) clock floor or the bundle.
pub fn log_reasons(facts: LogFacts, now: i64, window: i64, bundle: &TrustBundle) -> Vec<Reason> {
    let mut out = Vec::new();
    if let Some(last) = facts.last_same_pass_here {
        // A scan "in the future" of `now` counts too: with the clock set back, the pass was
        // still scanned here moments ago.
        if window > 0 && last >= now.saturating_sub(window) {
            out.push(Reason::RepeatScan {
                seconds_ago: now.saturating_sub(last).max(0),
            });
        }
    }
    let floor = rules::trusted_floor(facts.clock_floor, bundle);
    match clock_problem(
        floor,
        Some(bundle.issued_at),
        bundle.policy.clock_skew_secs,
        now,
    ) {
        Some(ClockProblem::BehindLog { newest_scan_at }) => out.push(Reason::ClockBehind {
            reference: newest_scan_at,
        }),
        Some(ClockProblem::BehindBundle { issued_at }) => out.push(Reason::ClockBehind {
            reference: issued_at,
        }),
        None => {}
    }
    out
}
