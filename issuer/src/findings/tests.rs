//! Each rule on hand-made logs.

use super::*;
use crate::domain::Place;
use checkpass::logfile::LogRecord;

const T0: i64 = 1_647_072_000; // 2022-03-12 16:00 +08:00
const MIN: i64 = 60;

fn settings(now: i64) -> Settings {
    Settings {
        now,
        skew_secs: 5 * MIN,
        grace_secs: 2 * 3600,
        turnaround_secs: 10 * MIN,
        travel: Travel::new(
            [
                ("C101", 37.47, 122.08),
                ("C102", 37.45, 122.03),
                ("C107", 36.93, 121.53),
                ("C201", 37.42, 122.00),
            ]
            .map(|(code, lat, lon)| Place {
                code: code.into(),
                lat,
                lon,
            }),
            travel::DEFAULT_SPEED_KMH,
        ),
    }
}

fn pass(serial: &str, route: &[&str]) -> PassFacts {
    PassFacts {
        serial: serial.into(),
        number: format!("371003-{serial}"),
        app_no: "SQ1".into(),
        plate: "鲁K12345".into(),
        route: route.iter().map(|c| c.to_string()).collect(),
        start_at: T0 - 3600,
        end_at: T0 + 24 * 3600,
        revoked_at: None,
    }
}

fn scan(device: &str, id: i64, at: i64, checkpoint: &str, verdict: &str, reasons: &str) -> Scan {
    Scan {
        device: device.into(),
        record: LogRecord {
            id,
            kind: EntryKind::Scan,
            at,
            checkpoint: checkpoint.into(),
            officer: Some("王警官".into()),
            serial: Some("S1".into()),
            plate: Some("鲁K12345".into()),
            verdict: Some(verdict.into()),
            reasons: reasons.into(),
            bundle_sequence: Some(1),
            simulated: false,
            note: None,
            hash: [0; 32],
        },
        imported_at: at,
    }
}

fn run(p: Option<PassFacts>, scans: Vec<Scan>, now: i64) -> Vec<Finding> {
    let passes: HashMap<String, PassFacts> = p.into_iter().map(|p| (p.serial.clone(), p)).collect();
    let settings = settings(now);
    let mut analysis = Analysis::new(&passes, &settings);
    for s in scans {
        analysis.push(s);
    }
    analysis.finish()
}

fn kinds(found: &[Finding]) -> Vec<FindingKind> {
    found.iter().map(|f| f.kind).collect()
}

#[test]
fn a_trip_along_the_route_finds_nothing() {
    let found = run(
        Some(pass("S1", &["C201", "C101", "C107"])),
        vec![
            scan("d1", 1, T0, "C201", "green", ""),
            scan("d2", 1, T0 + 20 * MIN, "C101", "green", ""),
            scan("d3", 1, T0 + 80 * MIN, "C107", "green", ""),
        ],
        T0 + 3 * 24 * 3600,
    );
    assert_eq!(found, vec![]);
}

#[test]
fn two_far_checkpoints_ten_minutes_apart_are_a_clone() {
    let found = run(
        Some(pass("S1", &["C201", "C101", "C107"])),
        vec![
            scan("d2", 7, T0, "C101", "green", ""),
            scan("d3", 9, T0 + 10 * MIN, "C107", "green", ""),
        ],
        T0,
    );
    assert_eq!(kinds(&found), vec![FindingKind::Clone]);
    let f = &found[0];
    assert_eq!(f.id, "clone/S1");
    assert_eq!(f.number.as_deref(), Some("371003-S1"));
    assert_eq!(
        f.evidence
            .iter()
            .map(|e| (e.device.as_str(), e.entry))
            .collect::<Vec<_>>(),
        vec![("d2", 7), ("d3", 9)]
    );
    assert!(f.detail.contains("相隔 10 分钟"), "{}", f.detail);
    assert!(f.detail.contains("至少需 47 分钟"), "{}", f.detail);
}

/// Two clocks five minutes apart each way must not make a normal trip look impossible: the
/// devices at C201 and C102 are 4 km apart (3 minutes at the bound).
#[test]
fn clock_skew_between_devices_is_not_a_clone_or_a_step_back() {
    let found = run(
        Some(pass("S1", &["C201", "C102", "C107"])),
        vec![
            // C102's clock is 9 minutes behind: it logged the truck before C201 did.
            scan("d102", 1, T0 - 6 * MIN, "C102", "green", ""),
            scan("d201", 1, T0, "C201", "green", ""),
            scan("d107", 1, T0 + 50 * MIN, "C107", "green", ""),
        ],
        T0,
    );
    assert_eq!(found, vec![]);
    // Beyond twice the tolerated skew, the step back is reported.
    let found = run(
        Some(pass("S1", &["C201", "C102"])),
        vec![
            scan("d102", 1, T0, "C102", "green", ""),
            scan("d201", 1, T0 + 40 * MIN, "C201", "green", ""),
        ],
        T0,
    );
    assert_eq!(kinds(&found), vec![FindingKind::OutOfOrder]);
}

#[test]
fn a_checkpoint_off_the_route_is_reported_with_its_scans() {
    let found = run(
        Some(pass("S1", &["C201", "C101"])),
        vec![
            scan("d1", 1, T0, "C201", "green", ""),
            scan("d9", 4, T0 + 60 * MIN, "C107", "amber", "NOT_ON_ROUTE"),
            scan("d2", 2, T0 + 200 * MIN, "C101", "green", ""),
        ],
        T0 + 3 * 24 * 3600,
    );
    assert_eq!(kinds(&found), vec![FindingKind::OffRoute]);
    assert_eq!(found[0].evidence.len(), 1);
    assert_eq!(found[0].evidence[0].checkpoint, "C107");
}

#[test]
fn a_truck_not_seen_leaving_lingers_after_the_grace_period() {
    let p = pass("S1", &["C201", "C101"]);
    let scans = || vec![scan("d1", 1, T0, "C201", "green", "")];
    // Still inside its window plus grace: nothing yet.
    assert_eq!(run(Some(p.clone()), scans(), p.end_at + 3600), vec![]);
    let found = run(Some(p.clone()), scans(), p.end_at + 3 * 3600);
    assert_eq!(kinds(&found), vec![FindingKind::Lingering]);
    assert!(found[0].detail.contains("C101"), "{}", found[0].detail);
    // A round trip: seen going in, and back out at the same checkpoint.
    let round = pass("S1", &["C201", "C101", "C201"]);
    let back = vec![
        scan("d1", 1, T0, "C201", "green", ""),
        scan("d2", 1, T0 + 30 * MIN, "C101", "green", ""),
        scan("d1", 2, T0 + 5 * 3600, "C201", "green", ""),
    ];
    assert_eq!(
        run(Some(round.clone()), back, round.end_at + 3 * 3600),
        vec![]
    );
    let stays = vec![
        scan("d1", 1, T0, "C201", "green", ""),
        scan("d2", 1, T0 + 30 * MIN, "C101", "green", ""),
    ];
    assert_eq!(
        kinds(&run(Some(round.clone()), stays, round.end_at + 3 * 3600)),
        vec![FindingKind::Lingering]
    );
    // A one-stop route only comes in: no leaving is expected.
    let inbound = pass("S1", &["C201"]);
    assert_eq!(
        run(Some(inbound.clone()), scans(), inbound.end_at + 9 * 3600),
        vec![]
    );
}

#[test]
fn scans_of_a_revoked_or_expired_pass_and_a_stale_green() {
    let mut p = pass("S1", &["C201", "C101"]);
    p.revoked_at = Some(T0 + 10 * MIN);
    let found = run(
        Some(p),
        vec![
            scan("d1", 1, T0, "C201", "green", ""),
            scan("d2", 1, T0 + 30 * MIN, "C101", "green", ""),
            scan("d2", 2, T0 + 40 * MIN, "C101", "red", "REVOKED"),
            scan("d2", 3, T0 + 41 * MIN, "C101", "amber", "REPEAT_SCAN"),
        ],
        T0,
    );
    assert_eq!(kinds(&found), vec![FindingKind::UsedWhileInvalid]);
    let f = &found[0];
    assert_eq!(
        f.evidence.iter().map(|e| e.entry).collect::<Vec<_>>(),
        vec![1, 2],
        "the green after revocation and the red; not the green before nor the plain repeat"
    );
    assert!(
        f.detail.contains("其中 1 次在市级撤销之后仍判为通过"),
        "{}",
        f.detail
    );
}

#[test]
fn a_genuine_serial_never_issued_here_points_at_a_stolen_key() {
    let found = run(None, vec![scan("d1", 1, T0, "C201", "green", "")], T0);
    assert_eq!(kinds(&found), vec![FindingKind::NotIssuedHere]);
    assert_eq!(found[0].number, None);
    assert_eq!(found[0].plate.as_deref(), Some("鲁K12345"));
}

#[test]
fn an_old_test_shows_the_report_the_officer_recorded() {
    let mut settings_entry = scan("d1", 2, T0 + MIN, "C201", "amber", "");
    settings_entry.record.kind = EntryKind::Settings; // never evidence
    let found = run(
        Some(pass("S1", &["C201"])),
        vec![
            scan("d1", 1, T0, "C201", "amber", "TEST_TOO_OLD"),
            settings_entry,
        ],
        T0,
    );
    assert_eq!(kinds(&found), vec![FindingKind::TestTooOld]);
    assert!(found[0].detail.contains("未记录新的核酸报告"));
    assert_eq!(found[0].evidence.len(), 1);

    let mut report = scan("d1", 2, T0 + MIN, "C201", "amber", "");
    report.record.kind = EntryKind::TestReport;
    report.record.verdict = None;
    report.record.note = Some(format!("sample_at={}", T0 - 3600));
    let found = run(
        Some(pass("S1", &["C201"])),
        vec![scan("d1", 1, T0, "C201", "amber", "TEST_TOO_OLD"), report],
        T0,
    );
    assert_eq!(kinds(&found), vec![FindingKind::TestTooOld]);
    assert!(
        found[0].detail.contains("采样时间 2022-03-12 15:00"),
        "{}",
        found[0].detail
    );
    assert_eq!(found[0].evidence[1].kind, "test_report");
}

#[test]
fn findings_come_by_kind_then_serial_one_pass_at_a_time() {
    let passes: HashMap<String, PassFacts> = [pass("S1", &["C201"]), pass("S2", &["C201"])]
        .into_iter()
        .map(|p| (p.serial.clone(), p))
        .collect();
    let settings = settings(T0);
    let mut a = Analysis::new(&passes, &settings);
    for (serial, cp) in [("S1", "C107"), ("S2", "C101"), ("S2", "C107")] {
        let mut s = scan("d", 1, T0, cp, "amber", "NOT_ON_ROUTE");
        s.record.serial = Some(serial.into());
        a.push(s);
    }
    let found = a.finish();
    let ids: Vec<&str> = found.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, vec!["clone/S2", "off_route/S1", "off_route/S2"]);
}

/// At one checkpoint, a lane each way: seen going in and then out within the turnaround is a
/// copy; the same after a delivery (hours later) is a normal trip; no direction, no finding.
#[test]
fn both_ways_through_one_checkpoint_within_minutes_is_a_clone() {
    let way = |mut s: Scan, d: &str| {
        s.record.note = Some(format!("direction={d}"));
        s
    };
    let p = || Some(pass("S1", &["C101", "C201", "C101"]));
    let found = run(
        p(),
        vec![
            way(scan("in", 1, T0, "C101", "green", ""), "in"),
            way(scan("out", 1, T0 + 4 * MIN, "C101", "green", ""), "out"),
        ],
        T0,
    );
    assert_eq!(kinds(&found), vec![FindingKind::Clone]);
    assert!(
        found[0].detail.contains("在 C101 相隔 4 分钟"),
        "{}",
        found[0].detail
    );
    assert_eq!(found[0].evidence.len(), 2);
    let found = run(
        p(),
        vec![
            way(scan("in", 1, T0, "C101", "green", ""), "in"),
            way(scan("out", 1, T0 + 5 * 3600, "C101", "green", ""), "out"),
        ],
        T0,
    );
    assert_eq!(found, vec![]);
    let found = run(
        p(),
        vec![
            scan("a", 1, T0, "C101", "green", ""),
            scan("b", 1, T0 + 4 * MIN, "C101", "green", ""),
        ],
        T0,
    );
    assert_eq!(found, vec![]);
}
