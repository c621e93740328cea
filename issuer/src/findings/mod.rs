//! Findings from the merged scan log: what no single checkpoint can see, worked out at the city
//! from every device's imported scans and the passes it issued. Each finding names its pass
//! and carries its evidence (the scans, by device and entry number), so that an operator can
//! check it before acting on it (`issuer revoke --finding`).
//!
//! The rules, one per [`FindingKind`]:
//! - *clone*: one pass seen at two checkpoints in less time than the road allows between them
//!   ([`travel`]), beyond the clocks' tolerated skew;
//! - *off route*: seen at a checkpoint not on its route; *out of order*: seen against its
//!   route's order (a step back in less than the skew is not counted: clocks differ);
//! - *lingering*: a pass whose route leaves the city again (two checkpoints or more, the last
//!   being the way out; a round trip ends where it started) seen on its route but not at its
//!   last checkpoint by the end of its window plus a grace period;
//! - *used while invalid*: scans that were red or amber for a revoked, expired or not yet valid
//!   pass or key, and green scans made after the city revoked the pass (a stale bundle);
//! - *not issued here*: a serial this city never issued, read as a genuine pass (a stolen key);
//! - *test too old*: scans amber for the driver's test, with any newer report the officer
//!   recorded.
//!
//! Pure: the caller streams the scans in (grouped by serial, as the store reads them) and
//! gets the findings back; memory is one pass's scans at a time.

pub mod travel;

#[cfg(test)]
mod tests;

use std::collections::HashMap;

use checkpass::scanlog::{parse_direction_note, parse_test_report_note, EntryKind};
use checkpass::time::format_cst;
use serde::Serialize;

use crate::scans::{Scan, ScanFilter};
use crate::store::{Store, StoreError};
pub use travel::Travel;

/// What kind of finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    Clone,
    NotIssuedHere,
    UsedWhileInvalid,
    OffRoute,
    OutOfOrder,
    Lingering,
    TestTooOld,
}

impl FindingKind {
    pub const ALL: [FindingKind; 7] = [
        FindingKind::Clone,
        FindingKind::NotIssuedHere,
        FindingKind::UsedWhileInvalid,
        FindingKind::OffRoute,
        FindingKind::OutOfOrder,
        FindingKind::Lingering,
        FindingKind::TestTooOld,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Clone => "clone",
            FindingKind::NotIssuedHere => "not_issued_here",
            FindingKind::UsedWhileInvalid => "used_while_invalid",
            FindingKind::OffRoute => "off_route",
            FindingKind::OutOfOrder => "out_of_order",
            FindingKind::Lingering => "lingering",
            FindingKind::TestTooOld => "test_too_old",
        }
    }

    pub fn parse(text: &str) -> Option<FindingKind> {
        FindingKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// The finding's name, Chinese first.
    pub fn title(self) -> (&'static str, &'static str) {
        match self {
            FindingKind::Clone => ("疑似复制通行证", "Copied pass"),
            FindingKind::NotIssuedHere => ("非本市签发的通行证", "Pass not issued here"),
            FindingKind::UsedWhileInvalid => {
                ("撤销或过期后仍在使用", "Used while revoked or expired")
            }
            FindingKind::OffRoute => ("偏离路线", "Off its route"),
            FindingKind::OutOfOrder => ("未按路线顺序", "Against its route's order"),
            FindingKind::Lingering => ("送达后未离开", "Did not leave"),
            FindingKind::TestTooOld => ("核酸超时", "Test too old"),
        }
    }

    /// Whether revoking the pass is the usual answer.
    pub fn suggests_revoking(self) -> bool {
        matches!(
            self,
            FindingKind::Clone | FindingKind::OffRoute | FindingKind::Lingering
        )
    }
}

/// What the city knows of one pass it issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassFacts {
    pub serial: String,
    pub number: String,
    pub app_no: String,
    pub plate: String,
    pub route: Vec<String>,
    pub start_at: i64,
    pub end_at: i64,
    pub revoked_at: Option<i64>,
}

/// One scan cited as evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub device: String,
    pub entry: i64,
    pub kind: &'static str,
    pub at: i64,
    pub checkpoint: String,
    pub officer: Option<String>,
    pub plate: Option<String>,
    pub verdict: Option<String>,
    pub reasons: String,
    pub note: Option<String>,
    pub simulated: bool,
}

impl Evidence {
    fn of(scan: &Scan) -> Evidence {
        let r = &scan.record;
        Evidence {
            device: scan.device.clone(),
            entry: r.id,
            kind: r.kind.as_str(),
            at: r.at,
            checkpoint: r.checkpoint.clone(),
            officer: r.officer.clone(),
            plate: r.plate.clone(),
            verdict: r.verdict.clone(),
            reasons: r.reasons.clone(),
            note: r.note.clone(),
            simulated: r.simulated,
        }
    }
}

/// One finding: a pass, what is wrong, and the scans that show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// `kind/serial`: stable as more logs come in, and what `issuer revoke --finding` takes.
    pub id: String,
    pub kind: FindingKind,
    pub serial: String,
    /// The national pass number, for a pass issued here.
    pub number: Option<String>,
    pub app_no: Option<String>,
    pub plate: Option<String>,
    /// What was seen, in Chinese and in English.
    pub detail: String,
    pub detail_en: String,
    pub evidence: Vec<Evidence>,
}

impl Finding {
    /// The reason a revocation from this finding records, unless the operator words one.
    pub fn revoke_reason(&self) -> String {
        format!("发现 {}：{}。{}", self.id, self.kind.title().0, self.detail)
    }
}

/// The analysis's settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub now: i64,
    /// Clocks of two devices may differ by up to this much.
    pub skew_secs: i64,
    /// Time after a window's end before a truck not seen leaving is lingering.
    pub grace_secs: i64,
    /// A pass seen entering and leaving (or the reverse) at one checkpoint within this time
    /// was in two trucks (the policy's repeat window).
    pub turnaround_secs: i64,
    pub travel: Travel,
}

/// Reason codes that mean the pass itself (or its key) was not valid when scanned.
const INVALID: [&str; 6] = [
    "REVOKED",
    "EXPIRED",
    "NOT_YET_VALID",
    "KEY_COMPROMISED",
    "KEY_NOT_VALID",
    "KEY_OUT_OF_SCOPE",
];

/// Works out the findings, one pass at a time: [`Analysis::push`] every scan with a serial,
/// grouped by serial and in time order within it, then [`Analysis::finish`].
pub struct Analysis<'a> {
    passes: &'a HashMap<String, PassFacts>,
    settings: &'a Settings,
    current: Vec<Scan>,
    findings: Vec<Finding>,
}

impl<'a> Analysis<'a> {
    pub fn new(passes: &'a HashMap<String, PassFacts>, settings: &'a Settings) -> Analysis<'a> {
        Analysis {
            passes,
            settings,
            current: Vec::new(),
            findings: Vec::new(),
        }
    }

    pub fn push(&mut self, scan: Scan) {
        if self.current.first().map(|s| &s.record.serial) != Some(&scan.record.serial) {
            self.flush();
        }
        self.current.push(scan);
    }

    /// The findings, by kind (clones first) and then by serial.
    pub fn finish(mut self) -> Vec<Finding> {
        self.flush();
        self.findings
            .sort_by(|a, b| (a.kind, &a.serial).cmp(&(b.kind, &b.serial)));
        self.findings
    }

    fn flush(&mut self) {
        let mut scans = std::mem::take(&mut self.current);
        let Some(serial) = scans.first().and_then(|s| s.record.serial.clone()) else {
            return;
        };
        // The store's order is by time already; a stable sort keeps ties as they came.
        scans.sort_by_key(|s| s.record.at);
        let found = judge(&serial, self.passes.get(&serial), &scans, self.settings);
        self.findings.extend(found);
    }
}

/// Every finding for one pass, from its scans in time order.
fn judge(
    serial: &str,
    pass: Option<&PassFacts>,
    all: &[Scan],
    settings: &Settings,
) -> Vec<Finding> {
    let scans: Vec<&Scan> = all
        .iter()
        .filter(|s| s.record.kind == EntryKind::Scan)
        .collect();
    let mut out = Vec::new();
    let mut found =
        |kind: FindingKind, (detail, detail_en): (String, String), evidence: Vec<&Scan>| {
            out.push(Finding {
                id: format!("{}/{serial}", kind.as_str()),
                kind,
                serial: serial.to_string(),
                number: pass.map(|p| p.number.clone()),
                app_no: pass.map(|p| p.app_no.clone()),
                plate: pass
                    .map(|p| p.plate.clone())
                    .or_else(|| evidence.iter().find_map(|s| s.record.plate.clone())),
                detail,
                detail_en,
                evidence: evidence.into_iter().map(Evidence::of).collect(),
            });
        };
    let is_green = |s: &Scan| s.record.verdict.as_deref() == Some("green");
    let has = |s: &Scan, code: &str| s.record.reasons.split(' ').any(|r| r == code);

    // Clone: consecutive sightings at two places closer in time than the road allows.
    let mut pairs = Vec::new();
    let mut worst: Option<(i64, i64, &str, &str)> = None;
    let mut turned: Option<(i64, &str)> = None;
    for w in scans.windows(2) {
        let (a, b) = (w[0], w[1]);
        let took = b.record.at - a.record.at;
        if a.record.checkpoint == b.record.checkpoint {
            // Both ways through one checkpoint within minutes: two trucks.
            let way = |s: &Scan| s.record.note.as_deref().and_then(parse_direction_note);
            if let (Some(x), Some(y)) = (way(a), way(b)) {
                if x != y && took < settings.turnaround_secs {
                    push_unique(&mut pairs, a);
                    push_unique(&mut pairs, b);
                    turned.get_or_insert((took, &a.record.checkpoint));
                }
            }
            continue;
        }
        let Some(min) = settings
            .travel
            .min_secs(&a.record.checkpoint, &b.record.checkpoint)
        else {
            continue;
        };
        if took + 2 * settings.skew_secs < min {
            push_unique(&mut pairs, a);
            push_unique(&mut pairs, b);
            if worst.is_none_or(|(t, m, _, _)| m - t < min - took) {
                worst = Some((took, min, &a.record.checkpoint, &b.record.checkpoint));
            }
        }
    }
    // One finding per pass: the road's bound says the most, when there is one.
    let clone_detail = match (worst, turned) {
        (Some((took, min, from, to)), _) => Some((
            format!(
                "{from} 与 {to} 相隔 {} 分钟先后扫到，而两地之间至少需 {} 分钟：可能有两辆车使用同一张通行证",
                took / 60,
                (min + 59) / 60
            ),
            format!(
                "Seen at {from} and {to} {} min apart, while the road takes at least {} min: two vehicles may share one pass",
                took / 60,
                (min + 59) / 60
            ),
        )),
        (None, Some((took, at))) => Some((
            format!(
                "在 {at} 相隔 {} 分钟先后被进城与出城两个方向扫到：可能有两辆车使用同一张通行证",
                took / 60
            ),
            format!(
                "Seen at {at} going both ways {} min apart: two vehicles may share one pass",
                took / 60
            ),
        )),
        (None, None) => None,
    };
    if let Some(detail) = clone_detail {
        found(FindingKind::Clone, detail, pairs);
    }

    // Invalid when used: the checkpoint said so, or the city had revoked it already.
    let invalid: Vec<&Scan> = scans
        .iter()
        .copied()
        .filter(|s| {
            (!is_green(s) && INVALID.iter().any(|c| has(s, c)))
                || (is_green(s)
                    && pass
                        .and_then(|p| p.revoked_at)
                        .is_some_and(|r| s.record.at >= r))
        })
        .collect();
    if !invalid.is_empty() {
        let stale = invalid.iter().filter(|s| is_green(s)).count();
        let mut detail = format!("{} 次扫描时通行证已撤销、过期或尚未生效", invalid.len());
        let mut detail_en = format!(
            "{} scans while the pass was revoked, expired or not yet valid",
            invalid.len()
        );
        if stale > 0 {
            detail.push_str(&format!(
                "；其中 {stale} 次在市级撤销之后仍判为通过：该检查站的信任包未及时更新"
            ));
            detail_en.push_str(&format!(
                "; {stale} of them green after the city revoked it: that checkpoint's bundle was old"
            ));
        }
        let detail = (detail, detail_en);
        found(FindingKind::UsedWhileInvalid, detail, invalid);
    }

    // The driver's test was too old; the officer may have recorded a newer report seen.
    let old: Vec<&Scan> = all
        .iter()
        .filter(|s| {
            (s.record.kind == EntryKind::Scan && has(s, "TEST_TOO_OLD"))
                || s.record.kind == EntryKind::TestReport
        })
        .collect();
    if old.iter().any(|s| s.record.kind == EntryKind::Scan) {
        let seen: Vec<String> = old
            .iter()
            .filter(|s| s.record.kind == EntryKind::TestReport)
            .filter_map(|s| s.record.note.as_deref().and_then(parse_test_report_note))
            .map(format_cst)
            .collect();
        let detail = if seen.is_empty() {
            (
                "核酸检测超过时限；未记录新的核酸报告".to_string(),
                "Test too old; no newer report recorded".to_string(),
            )
        } else {
            (
                format!(
                    "核酸检测超过时限；民警记录了所见的新核酸报告，采样时间 {}",
                    seen.join("、")
                ),
                format!(
                    "Test too old; the officer recorded a newer report seen, sampled {}",
                    seen.join(", ")
                ),
            )
        };
        found(FindingKind::TestTooOld, detail, old);
    }

    let Some(pass) = pass else {
        let genuine: Vec<&Scan> = scans.iter().copied().filter(|s| is_green(s)).collect();
        if !genuine.is_empty() {
            found(
                FindingKind::NotIssuedHere,
                (
                    "签名有效、但本市从未签发此编号：签发密钥可能已泄露".to_string(),
                    "A valid signature on a number this city never issued: a signing key may be stolen"
                        .to_string(),
                ),
                genuine,
            );
        }
        return out;
    };

    // Off route.
    let off: Vec<&Scan> = scans
        .iter()
        .copied()
        .filter(|s| !pass.route.contains(&s.record.checkpoint))
        .collect();
    if !off.is_empty() {
        let mut codes: Vec<&str> = off.iter().map(|s| s.record.checkpoint.as_str()).collect();
        codes.dedup();
        found(
            FindingKind::OffRoute,
            (
                format!(
                    "在路线（{}）以外的检查站 {} 被扫到",
                    pass.route.join("→"),
                    codes.join("、")
                ),
                format!(
                    "Seen at {}, off its route ({})",
                    codes.join(", "),
                    pass.route.join("→")
                ),
            ),
            off,
        );
    }

    // Order along the route: each sighting at the same or a later stop than the one before.
    let mut position = 0;
    let mut last: Option<&Scan> = None;
    let mut against = Vec::new();
    for s in scans.iter().copied() {
        let Some(offset) = pass.route[position..]
            .iter()
            .position(|c| *c == s.record.checkpoint)
        else {
            if pass.route.contains(&s.record.checkpoint) {
                let before = last.filter(|l| s.record.at - l.record.at > 2 * settings.skew_secs);
                if let Some(before) = before {
                    push_unique(&mut against, before);
                    push_unique(&mut against, s);
                }
            }
            continue;
        };
        position += offset;
        last = Some(s);
    }
    if !against.is_empty() {
        found(
            FindingKind::OutOfOrder,
            (
                format!("扫描顺序与路线（{}）相反", pass.route.join("→")),
                format!("Seen against its route's order ({})", pass.route.join("→")),
            ),
            against,
        );
    }

    // Lingering: on the route, but never at its last stop after that.
    if pass.route.len() >= 2 && settings.now > pass.end_at + settings.grace_secs {
        let exit = pass.route.len() - 1;
        let on_route: Vec<&Scan> = scans
            .iter()
            .copied()
            .filter(|s| pass.route.contains(&s.record.checkpoint))
            .collect();
        let mut position = 0;
        for s in &on_route {
            if let Some(offset) = pass.route[position..]
                .iter()
                .position(|c| *c == s.record.checkpoint)
            {
                position += offset;
            }
        }
        if !on_route.is_empty() && position < exit {
            found(
                FindingKind::Lingering,
                (
                    format!(
                        "已在路线上被扫到，但通行时段结束 {} 小时后仍未在出城检查站 {} 被扫到",
                        (settings.now - pass.end_at) / 3600,
                        pass.route[exit]
                    ),
                    format!(
                        "Seen on its route, but not at its way out {} {} h after its window ended",
                        pass.route[exit],
                        (settings.now - pass.end_at) / 3600
                    ),
                ),
                on_route,
            );
        }
    }
    out
}

/// The passes signed here, by serial as scans name them.
pub fn issued_passes(store: &dyn Store) -> Result<HashMap<String, PassFacts>, StoreError> {
    Ok(store
        .pass_facts()?
        .into_iter()
        .map(|p| (p.serial.clone(), p))
        .collect())
}

/// The findings from every scan in `store` that `filter` lets through.
pub fn from_store(
    store: &dyn Store,
    filter: &ScanFilter,
    settings: &Settings,
) -> Result<Vec<Finding>, StoreError> {
    let passes = issued_passes(store)?;
    let mut analysis = Analysis::new(&passes, settings);
    store.for_each_scan(filter, &mut |scan| analysis.push(scan))?;
    Ok(analysis.finish())
}

/// The findings at `now` over the scans `filter` lets through, with the store's policy and
/// places: what `issuer findings`, `issuer revoke --finding` and the web's `/findings` show.
pub fn compute(
    store: &dyn Store,
    filter: &ScanFilter,
    now: i64,
    grace_secs: i64,
    speed_kmh: f64,
) -> Result<Vec<Finding>, StoreError> {
    from_store(store, filter, &settings(store, now, grace_secs, speed_kmh)?)
}

/// The settings from the store's policy (its clock skew) and the checkpoints' places.
pub fn settings(
    store: &dyn Store,
    now: i64,
    grace_secs: i64,
    speed_kmh: f64,
) -> Result<Settings, StoreError> {
    Ok(Settings {
        now,
        skew_secs: store.policy()?.clock_skew_secs,
        grace_secs,
        turnaround_secs: store.policy()?.repeat_window_secs,
        travel: Travel::new(store.places()?, speed_kmh),
    })
}

fn push_unique<'s>(list: &mut Vec<&'s Scan>, scan: &'s Scan) {
    if !list.iter().any(|s| std::ptr::eq(*s, scan)) {
        list.push(scan);
    }
}
