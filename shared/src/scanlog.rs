//! The scan log's hash chain: each entry carries SHA-256 over the previous entry's hash and
//! its own fields, so an entry changed, removed or inserted afterwards breaks every hash after
//! it. Pure, so the desktop verifier and the web verifier chain the same way. Also the log's
//! representation of a newer test report the officer saw ([`EntryKind::TestReport`], its note
//! made and read by [`test_report_note`] and [`parse_test_report_note`]).
//!
//! The chain has no secret: someone who can write the log file can recompute it from the
//! changed entry onwards. What it gives is evidence: a head hash written down or exported
//! earlier no longer matches, and a careless edit is caught by `verifier log verify`.

use sha2::{Digest, Sha256};

use crate::messages::write_bilingual;
use crate::verdict::Lang;

/// The hash before the first entry.
pub const GENESIS: [u8; 32] = [0; 32];

/// What an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// A pass (or an image without one) was checked.
    Scan,
    /// The officer recorded that the device clock was corrected.
    ClockCorrection,
    /// The pinned root key or the installed bundle changed.
    Settings,
    /// The officer recorded the sample time of a newer negative test report (paper or phone)
    /// that the driver showed, after a scan whose test was too old (`TEST_TOO_OLD`). Logged
    /// right after that scan with its checkpoint, officer, serial and plate; `at` is when it
    /// was recorded, `note` is [`test_report_note`]'s `sample_at=<unix seconds>`; verdict,
    /// reasons and bundle sequence are empty. The verdict stays what it was: the officer
    /// decides, the log keeps what he saw.
    TestReport,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Scan => "scan",
            EntryKind::ClockCorrection => "clock",
            EntryKind::Settings => "settings",
            EntryKind::TestReport => "test_report",
        }
    }

    pub fn parse(s: &str) -> Option<EntryKind> {
        [
            EntryKind::Scan,
            EntryKind::ClockCorrection,
            EntryKind::Settings,
            EntryKind::TestReport,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// The fields of one entry that the chain covers, in their stored form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<'a> {
    pub id: i64,
    pub kind: EntryKind,
    pub at: i64,
    pub checkpoint: &'a str,
    pub officer: Option<&'a str>,
    pub serial: Option<&'a str>,
    pub plate: Option<&'a str>,
    pub verdict: Option<&'a str>,
    /// Reason codes separated by spaces.
    pub reasons: &'a str,
    pub bundle_sequence: Option<i64>,
    /// Made under a simulated clock (`--at`, `VERIFIER_AT`).
    pub simulated: bool,
    pub note: Option<&'a str>,
}

/// The hash of `entry` following `prev`. Every field is length-prefixed (absent fields get their
/// own marker), so no two different entries encode alike.
pub fn link(prev: &[u8; 32], entry: &Entry<'_>) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"checkpass-scanlog/1");
    h.update(prev);
    h.update(entry.id.to_be_bytes());
    let text = |h: &mut Sha256, t: Option<&str>| match t {
        None => h.update([0u8]),
        Some(t) => {
            h.update([1u8]);
            h.update((t.len() as u64).to_be_bytes());
            h.update(t.as_bytes());
        }
    };
    text(&mut h, Some(entry.kind.as_str()));
    h.update(entry.at.to_be_bytes());
    text(&mut h, Some(entry.checkpoint));
    text(&mut h, entry.officer);
    text(&mut h, entry.serial);
    text(&mut h, entry.plate);
    text(&mut h, entry.verdict);
    text(&mut h, Some(entry.reasons));
    match entry.bundle_sequence {
        None => h.update([0u8]),
        Some(s) => {
            h.update([1u8]);
            h.update(s.to_be_bytes());
        }
    }
    h.update([u8::from(entry.simulated)]);
    text(&mut h, entry.note);
    h.finalize().into()
}

/// Where a chain does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ChainBroken {
    pub id: i64,
    pub what: String,
}

impl ChainBroken {
    /// The text in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        msg!(
            lang,
            error.store.chain_broken,
            id = self.id,
            what = &self.what
        )
    }
}

impl std::fmt::Display for ChainBroken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write_bilingual(f, |lang| self.message(lang), None)
    }
}

/// Checks entries in order (`(entry, stored hash)`), from [`GENESIS`]; gives the head hash.
pub fn verify_chain<'a>(
    entries: impl IntoIterator<Item = (Entry<'a>, Option<[u8; 32]>)>,
) -> Result<[u8; 32], ChainBroken> {
    let mut prev = GENESIS;
    let mut last_id = i64::MIN;
    for (entry, stored) in entries {
        if entry.id <= last_id {
            return Err(ChainBroken {
                id: entry.id,
                what: "entries out of order".into(),
            });
        }
        last_id = entry.id;
        let expected = link(&prev, &entry);
        match stored {
            None => {
                return Err(ChainBroken {
                    id: entry.id,
                    what: "no hash".into(),
                })
            }
            Some(h) if h != expected => {
                return Err(ChainBroken {
                    id: entry.id,
                    what: "hash does not match: this entry or one before it was changed, \
                           removed or inserted"
                        .into(),
                })
            }
            Some(_) => prev = expected,
        }
    }
    Ok(prev)
}

/// Which way the lane a device checks goes: set per device, so that the city can tell a truck
/// entering from one leaving (a pass seen both ways at one checkpoint within minutes was in two
/// trucks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Inbound,
    Outbound,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "in",
            Direction::Outbound => "out",
        }
    }

    /// `in`/`out`, or the Chinese 进城/出城 (入城 too).
    pub fn parse(text: &str) -> Option<Direction> {
        match text.trim().to_ascii_lowercase().as_str() {
            "in" | "inbound" | "进城" | "入城" => Some(Direction::Inbound),
            "out" | "outbound" | "出城" => Some(Direction::Outbound),
            _ => None,
        }
    }

    pub fn label(self, lang: crate::verdict::Lang) -> &'static str {
        match self {
            Direction::Inbound => msg!(lang, direction.inbound),
            Direction::Outbound => msg!(lang, direction.outbound),
        }
    }
}

/// The prefix of a scan's note that gives the lane's direction.
pub const DIRECTION: &str = "direction=";

/// A scan's note on a device whose lane has a direction: `direction=in` or `direction=out`.
pub fn direction_note(direction: Direction) -> String {
    format!("{DIRECTION}{}", direction.as_str())
}

/// The direction in a scan's note, or `None` when the note is not exactly that form.
pub fn parse_direction_note(note: &str) -> Option<Direction> {
    match note.strip_prefix(DIRECTION)? {
        "in" => Some(Direction::Inbound),
        "out" => Some(Direction::Outbound),
        _ => None,
    }
}

/// The prefix of a [`EntryKind::TestReport`] entry's note.
pub const SAMPLE_AT: &str = "sample_at=";

/// Why a test report's sample time is not recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TestReportRefused {
    InFuture,
    NotNewer,
}

impl TestReportRefused {
    /// The text in `lang`.
    pub fn message(self, lang: Lang) -> &'static str {
        match self {
            TestReportRefused::InFuture => msg!(lang, error.test_report.in_future),
            TestReportRefused::NotNewer => msg!(lang, error.test_report.not_newer),
        }
    }
}

impl std::fmt::Display for TestReportRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write_bilingual(f, |lang| self.message(lang).into(), None)
    }
}

/// The note of a [`EntryKind::TestReport`] entry: `sample_at=<unix seconds>`, the sample time
/// of the report the officer saw. Refused when that time is after `now` or not after the
/// pass's own test (`pass_sampled_at`): such a report proves nothing new.
pub fn test_report_note(
    seen_sampled_at: i64,
    pass_sampled_at: i64,
    now: i64,
) -> Result<String, TestReportRefused> {
    if seen_sampled_at > now {
        return Err(TestReportRefused::InFuture);
    }
    if seen_sampled_at <= pass_sampled_at {
        return Err(TestReportRefused::NotNewer);
    }
    Ok(format!("{SAMPLE_AT}{seen_sampled_at}"))
}

/// The sample time in a [`EntryKind::TestReport`] entry's note, or `None` when the note is not
/// exactly `sample_at=<unix seconds>` (digits with an optional `-`, nothing else).
pub fn parse_test_report_note(note: &str) -> Option<i64> {
    let digits = note.strip_prefix(SAMPLE_AT)?;
    let unsigned = digits.strip_prefix('-').unwrap_or(digits);
    if unsigned.is_empty() || !unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_direction_note_is_made_and_read_back() {
        for d in [Direction::Inbound, Direction::Outbound] {
            assert_eq!(parse_direction_note(&direction_note(d)), Some(d));
            assert_eq!(Direction::parse(d.as_str()), Some(d));
        }
        assert_eq!(direction_note(Direction::Inbound), "direction=in");
        assert_eq!(Direction::parse("出城"), Some(Direction::Outbound));
        assert_eq!(parse_direction_note("direction=up"), None);
        assert_eq!(parse_direction_note("sample_at=5"), None);
    }

    fn entry(id: i64, serial: Option<&str>) -> Entry<'_> {
        Entry {
            id,
            kind: EntryKind::Scan,
            at: 1_647_129_600 + id,
            checkpoint: "C101",
            officer: Some("W007"),
            serial,
            plate: Some("鲁KP20XL"),
            verdict: Some("green"),
            reasons: "",
            bundle_sequence: Some(3),
            simulated: false,
            note: None,
        }
    }

    fn chained<'a>(entries: &[Entry<'a>]) -> Vec<(Entry<'a>, Option<[u8; 32]>)> {
        let mut prev = GENESIS;
        entries
            .iter()
            .map(|e| {
                prev = link(&prev, e);
                (*e, Some(prev))
            })
            .collect()
    }

    #[test]
    fn a_chain_verifies_and_any_change_breaks_it() {
        let entries = [entry(1, Some("1")), entry(2, Some("2")), entry(3, None)];
        let good = chained(&entries);
        let head = verify_chain(good.clone()).unwrap();
        assert_eq!(head, good[2].1.unwrap());

        let mut edited = good.clone();
        edited[1].0.verdict = Some("red");
        assert_eq!(verify_chain(edited).unwrap_err().id, 2);
        let mut removed = good.clone();
        removed.remove(1);
        assert_eq!(verify_chain(removed).unwrap_err().id, 3);
        let mut simulated = good.clone();
        simulated[0].0.simulated = true;
        assert_eq!(verify_chain(simulated).unwrap_err().id, 1);
        let mut moved = good;
        moved[2].0.note = Some("");
        assert_eq!(verify_chain(moved).unwrap_err().id, 3);
    }

    #[test]
    fn absent_and_empty_fields_hash_apart() {
        let a = entry(1, None);
        let b = entry(1, Some(""));
        assert_ne!(link(&GENESIS, &a), link(&GENESIS, &b));
    }

    #[test]
    fn old_kinds_keep_their_names_and_hashes() {
        // Stored names are part of every hash: they must never change.
        let names: Vec<_> = [
            EntryKind::Scan,
            EntryKind::ClockCorrection,
            EntryKind::Settings,
            EntryKind::TestReport,
        ]
        .iter()
        .map(|k| k.as_str())
        .collect();
        assert_eq!(names, ["scan", "clock", "settings", "test_report"]);
        for name in names {
            assert_eq!(EntryKind::parse(name).map(EntryKind::as_str), Some(name));
        }
        assert_eq!(EntryKind::parse("test-report"), None);
        // A scan's hash, computed independently of this code (Python's hashlib over the
        // documented encoding): adding a kind leaves the old entries' hashes as they were.
        assert_eq!(
            hex::encode(link(&GENESIS, &entry(1, Some("1")))),
            "918cb8db8aec2272781403e1e614caa82f3adda8a14f32d39fe6cbea26287a28"
        );
    }

    #[test]
    fn a_test_report_note_is_made_and_read_back() {
        let pass = 1_647_000_000;
        let now = 1_647_200_000;
        let note = test_report_note(1_647_100_000, pass, now).unwrap();
        assert_eq!(note, "sample_at=1647100000");
        assert_eq!(parse_test_report_note(&note), Some(1_647_100_000));
        // At now is fine; after now, or not after the pass's own test, is refused.
        assert!(test_report_note(now, pass, now).is_ok());
        assert_eq!(
            test_report_note(now + 1, pass, now),
            Err(TestReportRefused::InFuture)
        );
        assert_eq!(
            test_report_note(pass, pass, now),
            Err(TestReportRefused::NotNewer)
        );
        assert_eq!(
            test_report_note(pass - 3600, pass, now),
            Err(TestReportRefused::NotNewer)
        );
        for bad in [
            "",
            "sample_at=",
            "sample_at=-",
            "sample_at=+5",
            "sample_at= 5",
            "sample_at=5 ",
            "sample_at=5x",
            "sample_at=99999999999999999999",
            "sampled_at=5",
            "5",
        ] {
            assert_eq!(parse_test_report_note(bad), None, "{bad:?}");
        }
        assert_eq!(parse_test_report_note("sample_at=-5"), Some(-5));
    }
}
