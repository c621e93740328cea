use super::*;
use crate::scanlog::GENESIS;

fn device() -> SigningKey {
    SigningKey::from_seed(&[0x31; 32])
}

/// `n` scans chained from `prev`, ids from `first`.
fn chained(prev: [u8; 32], first: i64, n: usize) -> Vec<LogRecord> {
    let mut chain = prev;
    (0..n)
        .map(|i| {
            let mut r = LogRecord {
                id: first + i as i64,
                kind: EntryKind::Scan,
                at: 1_647_129_600 + 60 * i as i64,
                checkpoint: "C101".into(),
                officer: Some("0001".into()),
                serial: Some(format!("00000-{:05}-8", i + 1)),
                plate: Some("鲁K00001".into()),
                verdict: Some("green".into()),
                reasons: String::new(),
                bundle_sequence: Some(3),
                simulated: i % 2 == 1,
                note: None,
                hash: [0; 32],
            };
            r.hash = link(&chain, &r.entry());
            chain = r.hash;
            r
        })
        .collect()
}

fn file(entries: Vec<LogRecord>, prev: [u8; 32]) -> ScanLogFile {
    ScanLogFile {
        device: device().public_key(),
        exported_at: 1_647_200_000,
        prev,
        entries,
    }
}

#[test]
fn a_signed_log_opens_as_it_was_written() {
    let log = file(chained(GENESIS, 1, 5), GENESIS);
    let bytes = sign_log(&log, &device()).unwrap();
    let opened = open_log(&bytes).unwrap();
    assert_eq!(opened, log);
    assert_eq!(opened.head(), log.entries[4].hash);
    // An empty export (nothing new since the last) is a valid file that joins where it began.
    let empty = file(vec![], log.head());
    assert_eq!(
        open_log(&sign_log(&empty, &device()).unwrap())
            .unwrap()
            .head(),
        log.head()
    );
}

#[test]
fn a_later_export_joins_the_earlier_one() {
    let all = chained(GENESIS, 1, 6);
    let first = file(all[..3].to_vec(), GENESIS);
    let second = file(all[3..].to_vec(), first.head());
    let second = open_log(&sign_log(&second, &device()).unwrap()).unwrap();
    assert_eq!(second.prev, first.head());
    assert_eq!(second.entries[0].id, 4);
}

#[test]
fn only_the_device_key_signs_its_file() {
    let log = file(chained(GENESIS, 1, 2), GENESIS);
    let other = SigningKey::from_seed(&[0x32; 32]);
    assert!(sign_log(&log, &other).is_err());
    // A file claiming the device's key but signed by another: the signature does not hold.
    let mut forged = log.clone();
    forged.device = other.public_key();
    let bytes = sign_log(&forged, &other).unwrap();
    let mut sign1 = CoseSign1::from_tagged_slice(&bytes).unwrap();
    let mut payload = sign1.payload.take().unwrap();
    let (from, to) = (
        other.public_key().to_bytes(),
        device().public_key().to_bytes(),
    );
    let at = payload.windows(32).position(|w| w == from).unwrap();
    payload[at..at + 32].copy_from_slice(&to);
    sign1.payload = Some(payload);
    sign1.protected.header.key_id = device().kid().0.to_vec();
    sign1.protected.original_data = None;
    let bytes = sign1.to_tagged_vec().unwrap();
    assert!(matches!(
        open_log(&bytes),
        Err(LogFileError::BadSignature(_))
    ));
}

/// A file re-signed by the device after someone changed it: only the chain can tell.
fn resigned(entries: Vec<LogRecord>) -> Result<ScanLogFile, LogFileError> {
    open_log(&sign_log(&file(entries, GENESIS), &device()).unwrap())
}

#[test]
fn an_edited_entry_breaks_the_chain_there() {
    let mut entries = chained(GENESIS, 1, 5);
    entries[2].plate = Some("鲁K99999".into());
    match resigned(entries) {
        Err(LogFileError::ChainBroken { id, .. }) => assert_eq!(id, 3),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_dropped_or_reordered_entry_breaks_the_chain() {
    let mut dropped = chained(GENESIS, 1, 5);
    dropped.remove(2);
    assert!(matches!(
        resigned(dropped),
        Err(LogFileError::ChainBroken { id: 4, .. })
    ));
    let mut swapped = chained(GENESIS, 1, 5);
    swapped.swap(1, 2);
    assert!(matches!(
        resigned(swapped),
        Err(LogFileError::ChainBroken { .. })
    ));
    // The ids renumbered to hide a removal: the hashes still do not follow.
    let mut renumbered = chained(GENESIS, 1, 5);
    renumbered.remove(1);
    for (i, e) in renumbered.iter_mut().enumerate() {
        e.id = i as i64 + 1;
    }
    assert!(matches!(
        resigned(renumbered),
        Err(LogFileError::ChainBroken { id: 2, .. })
    ));
}

#[test]
fn a_changed_byte_anywhere_is_refused() {
    let bytes = sign_log(&file(chained(GENESIS, 1, 3), GENESIS), &device()).unwrap();
    for i in (0..bytes.len()).step_by(7) {
        let mut b = bytes.clone();
        b[i] ^= 0x01;
        assert!(open_log(&b).is_err(), "byte {i} changed and still opened");
    }
}

#[test]
fn damaged_and_oversized_files_get_errors_not_panics() {
    assert!(matches!(open_log(b""), Err(LogFileError::Malformed(_))));
    assert!(matches!(
        open_log(b"not cbor at all"),
        Err(LogFileError::Malformed(_))
    ));
    let bytes = sign_log(&file(chained(GENESIS, 1, 3), GENESIS), &device()).unwrap();
    for len in 0..bytes.len() {
        assert!(open_log(&bytes[..len]).is_err());
    }
    let huge = vec![0u8; MAX_LOG_FILE_BYTES + 1];
    assert!(matches!(open_log(&huge), Err(LogFileError::TooLarge(_))));
}

#[test]
fn the_size_of_ten_thousand_scans() {
    let log = file(chained(GENESIS, 1, 10_000), GENESIS);
    let bytes = sign_log(&log, &device()).unwrap();
    eprintln!("10,000 scans: {} bytes", bytes.len());
    // About 92 bytes a scan (the hash alone is 32): a day of a busy checkpoint is well under 1 MB.
    assert!(bytes.len() < 10_000 * 160, "{} bytes", bytes.len());
    assert_eq!(open_log(&bytes).unwrap().entries.len(), 10_000);
}

#[test]
fn a_recorded_test_report_travels_in_the_file() {
    use crate::scanlog::{parse_test_report_note, test_report_note};
    let mut entries = chained(GENESIS, 1, 1);
    entries[0].verdict = Some("amber".into());
    entries[0].reasons = "TEST_TOO_OLD".into();
    entries[0].hash = link(&GENESIS, &entries[0].entry());
    let scan = entries[0].clone();
    let mut report = LogRecord {
        id: 2,
        kind: EntryKind::TestReport,
        at: scan.at + 90,
        verdict: None,
        reasons: String::new(),
        bundle_sequence: None,
        note: Some(test_report_note(scan.at - 3600, scan.at - 60 * 3600, scan.at + 90).unwrap()),
        hash: [0; 32],
        ..scan.clone()
    };
    report.hash = link(&scan.hash, &report.entry());
    entries.push(report);
    let log = file(entries, GENESIS);
    let opened = open_log(&sign_log(&log, &device()).unwrap()).unwrap();
    assert_eq!(opened, log);
    let seen = &opened.entries[1];
    assert_eq!(seen.kind, EntryKind::TestReport);
    assert_eq!(seen.serial, scan.serial);
    assert_eq!(
        seen.note.as_deref().and_then(parse_test_report_note),
        Some(scan.at - 3600)
    );
}
