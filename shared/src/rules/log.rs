//! The rules that need the scan log: a repeat scan of the same pass here, and a device clock
//! behind what the device has already seen. Pure functions over [`LogFacts`], which each
//! verifier's log supplies (the native verifier's SQLite store, the web app's IndexedDB); no
//! verifier keeps a rule of its own.

use crate::bundle::TrustBundle;
use crate::verdict::{Reason, Verdict};

use super::trusted_floor;

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

/// The device's clock at `now` against its clock floor and the installed bundle, if any (the
/// status line's warning, with nothing recorded). Without a bundle the floor is taken as it
/// is, with no skew.
pub fn device_clock_problem(
    clock_floor: Option<i64>,
    bundle: Option<&TrustBundle>,
    now: i64,
) -> Option<ClockProblem> {
    match bundle {
        Some(b) => clock_problem(
            trusted_floor(clock_floor, b),
            Some(b.issued_at),
            b.policy.clock_skew_secs,
            now,
        ),
        None => clock_problem(clock_floor, None, 0, now),
    }
}

/// The repeat-scan window in force: this device's own setting, else the bundle's policy
/// (none without either).
pub fn repeat_window(local: Option<i64>, bundle: Option<&TrustBundle>) -> Option<i64> {
    local.or(bundle.map(|b| b.policy.repeat_window_secs))
}

/// A repeat scan: the same pass scanned here `window` seconds or less before `now`.
pub fn repeat_scan(last_same_pass_here: Option<i64>, now: i64, window: i64) -> Option<Reason> {
    let last = last_same_pass_here?;
    // A scan "in the future" of `now` counts too: with the clock set back, the pass was still
    // scanned here moments ago.
    (window > 0 && last >= now.saturating_sub(window)).then(|| Reason::RepeatScan {
        seconds_ago: now.saturating_sub(last).max(0),
    })
}

/// A clock behind the (trusted) clock floor or the bundle's issue time.
pub fn clock_behind(clock_floor: Option<i64>, now: i64, bundle: &TrustBundle) -> Option<Reason> {
    let floor = trusted_floor(clock_floor, bundle);
    let reference = match clock_problem(
        floor,
        Some(bundle.issued_at),
        bundle.policy.clock_skew_secs,
        now,
    )? {
        ClockProblem::BehindLog { newest_scan_at } => newest_scan_at,
        ClockProblem::BehindBundle { issued_at } => issued_at,
    };
    Some(Reason::ClockBehind { reference })
}

/// The reasons only the log can give: a repeat of the same pass here within `window`
/// seconds, and a clock behind the (trusted) clock floor or the bundle.
pub fn log_reasons(facts: LogFacts, now: i64, window: i64, bundle: &TrustBundle) -> Vec<Reason> {
    repeat_scan(facts.last_same_pass_here, now, window)
        .into_iter()
        .chain(clock_behind(facts.clock_floor, now, bundle))
        .collect()
}

/// Adds the log's findings to a verdict of the pass rules, each once: the pass rules already
/// flag a clock behind the bundle, and one clock finding is enough.
pub fn add_log_reasons(
    verdict: &mut Verdict,
    facts: LogFacts,
    now: i64,
    window: i64,
    bundle: &TrustBundle,
) {
    for reason in log_reasons(facts, now, window, bundle) {
        if !verdict.has(reason.code()) {
            verdict.add(reason);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::SigningKey;
    use crate::sample;
    use crate::verdict::ReasonCode;

    /// A bundle issued at time 0 with the default policy (300 s skew).
    fn bundle_at_zero() -> TrustBundle {
        sample::bundle(&SigningKey::from_seed(&[0x11; 32]), 1, 0)
    }

    #[test]
    fn repeat_within_window_only() {
        let facts = |last| LogFacts {
            clock_floor: last,
            last_same_pass_here: last,
        };
        assert_eq!(
            log_reasons(facts(None), 1000, 600, &bundle_at_zero()),
            vec![]
        );
        assert_eq!(
            log_reasons(facts(Some(500)), 1000, 600, &bundle_at_zero()),
            vec![Reason::RepeatScan { seconds_ago: 500 }]
        );
        assert_eq!(
            log_reasons(facts(Some(400)), 1000, 600, &bundle_at_zero()),
            vec![Reason::RepeatScan { seconds_ago: 600 }]
        );
        assert_eq!(
            log_reasons(facts(Some(399)), 1000, 600, &bundle_at_zero()),
            vec![]
        );
        assert_eq!(
            log_reasons(facts(Some(999)), 1000, 0, &bundle_at_zero()),
            vec![]
        );
    }

    #[test]
    fn a_repeat_with_the_clock_set_back_counts() {
        assert_eq!(
            repeat_scan(Some(1_100), 1_000, 600),
            Some(Reason::RepeatScan { seconds_ago: 0 })
        );
        assert_eq!(repeat_scan(None, 1_000, 600), None);
    }

    #[test]
    fn clock_behind_log_or_bundle() {
        assert_eq!(clock_problem(Some(1000), Some(500), 300, 1000), None);
        assert_eq!(clock_problem(Some(1000), Some(500), 300, 700), None);
        assert_eq!(
            clock_problem(Some(1000), Some(500), 300, 699),
            Some(ClockProblem::BehindLog {
                newest_scan_at: 1000
            })
        );
        assert_eq!(
            clock_problem(None, Some(5000), 300, 4699),
            Some(ClockProblem::BehindBundle { issued_at: 5000 })
        );
        assert_eq!(clock_problem(None, Some(5000), 300, 4700), None);
        let facts = LogFacts {
            clock_floor: Some(10_000),
            last_same_pass_here: None,
        };
        assert_eq!(
            log_reasons(facts, 5_000, 600, &bundle_at_zero()),
            vec![Reason::ClockBehind { reference: 10_000 }]
        );
    }

    #[test]
    fn the_device_clock_without_and_with_a_bundle() {
        // No bundle: the floor as it is, no skew.
        assert_eq!(
            device_clock_problem(Some(1_000), None, 999),
            Some(ClockProblem::BehindLog {
                newest_scan_at: 1_000
            })
        );
        assert_eq!(device_clock_problem(None, None, 0), None);
        let b = bundle_at_zero();
        // With one: the skew applies, and a floor beyond the bundle's age is not trusted.
        assert_eq!(device_clock_problem(Some(1_000), Some(&b), 700), None);
        let too_far = b.policy.max_bundle_age_secs + 1;
        assert_eq!(device_clock_problem(Some(too_far), Some(&b), 1_000), None);
        assert_eq!(
            device_clock_problem(None, Some(&b), -301),
            Some(ClockProblem::BehindBundle { issued_at: 0 })
        );
    }

    #[test]
    fn the_local_repeat_window_overrides_the_policy() {
        let b = bundle_at_zero();
        assert_eq!(repeat_window(Some(60), Some(&b)), Some(60));
        assert_eq!(
            repeat_window(None, Some(&b)),
            Some(b.policy.repeat_window_secs)
        );
        assert_eq!(repeat_window(None, None), None);
    }

    #[test]
    fn log_findings_are_added_once() {
        let b = bundle_at_zero();
        let mut v = Verdict::new("C101", 5_000);
        v.add(Reason::ClockBehind { reference: 9_000 });
        let facts = LogFacts {
            clock_floor: Some(10_000),
            last_same_pass_here: Some(4_990),
        };
        add_log_reasons(&mut v, facts, 5_000, 600, &b);
        assert_eq!(
            v.reasons.iter().map(Reason::code).collect::<Vec<_>>(),
            vec![ReasonCode::ClockBehind, ReasonCode::RepeatScan]
        );
    }
}
