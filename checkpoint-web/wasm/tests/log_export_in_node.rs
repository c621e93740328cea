//! The web app's signed log export and its record of a newer test report, through the
//! WebAssembly build in Node (`export-in-node.mjs`): the files `sign_export` makes open with
//! the native `checkpass::logfile::open_log`, signed by the key `device_key` gives (its public
//! key file parsed natively), the entries exactly the ones chained with `chain_link`, the second
//! export joining the first; an edited entry or a wrong `prev` is refused; `test_report` makes
//! the `sample_at=` note and refuses a time in the future or not newer than the pass's test.
//!
//! Builds the package first (`scripts/build-checkpoint-web.sh --wasm-only`); without Node.js,
//! the wasm32 target or wasm-bindgen the test says why and passes, except under `CI=true`.

use std::path::{Path, PathBuf};
use std::process::Command;

use checkpass::keys::{parse_public_key_file, KeyRole, SigningKey};
use checkpass::logfile::open_log;
use checkpass::scanlog::{link, parse_test_report_note, Entry, EntryKind, GENESIS};
use checkpass::time::parse_cst;
use serde_json::{json, Value};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn missing() -> Option<String> {
    let ok = |cmd: &str, args: &[&str]| {
        Command::new(cmd)
            .args(args)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !ok("node", &["--version"]) {
        return Some("node is not installed".into());
    }
    if !ok("wasm-bindgen", &["--version"]) {
        return Some("wasm-bindgen (wasm-bindgen-cli) is not installed".into());
    }
    let targets = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output();
    if !targets.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("wasm32-unknown-unknown"))
    {
        return Some("the wasm32-unknown-unknown target is not installed".into());
    }
    None
}

#[test]
fn the_web_apps_signed_export_opens_natively() {
    if let Some(why) = missing() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "the Node export test cannot run: {why}"
        );
        eprintln!("Node export test skipped: {why} (scripts/install-deps.sh installs it)");
        return;
    }
    let build = Command::new(workspace().join("scripts/build-checkpoint-web.sh"))
        .arg("--wasm-only")
        .output()
        .unwrap();
    assert!(
        build.status.success(),
        "build-checkpoint-web.sh --wasm-only failed:\n{}",
        String::from_utf8_lossy(&build.stderr)
    );

    let seed = [0x5a; 32];
    let at = 1_647_129_600;
    let pass_sampled = at - 50 * 3600;
    // As the app stores them: scans (one amber for an old test), then the officer's report.
    let scan = |id: i64, verdict: &str, reasons: &str| {
        json!({ "id": id, "kind": "scan", "at": at + id * 60, "checkpoint": "C101",
                "officer": "W007", "serial": format!("0000{id}"), "plate": "鲁K00001",
                "verdict": verdict, "reasons": reasons, "bundle_sequence": 2,
                "simulated": true, "note": null })
    };
    let mut entries = vec![
        scan(1, "green", ""),
        scan(2, "red", "REVOKED"),
        scan(3, "amber", "TEST_TOO_OLD"),
    ];
    let mut report = scan(4, "", "");
    report["kind"] = json!("test_report");
    report["verdict"] = Value::Null;
    report["bundle_sequence"] = Value::Null;
    report["serial"] = json!("00003");
    report["note"] = json!("sample_at=1647100000");
    entries.push(report);
    let case = json!({
        "seed_hex": hex::encode(seed),
        "entries": entries,
        "split": 2,
        "exported_at": at + 3600,
        "report": {
            "pass_sampled_at": pass_sampled,
            "now": at,
            "seen": ["2022-03-12 23:00", "2022-03-13T08:01", "2022-03-10 00:00", "yesterday"],
        },
    });
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("case.json");
    std::fs::write(&input, case.to_string()).unwrap();
    let out = Command::new("node")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/export-in-node.mjs"))
        .arg(&input)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "node failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();

    // The device key: the same as natively from the seed, its file parsed natively.
    let key = SigningKey::from_seed(&seed).public_key();
    let (from_file, role) = parse_public_key_file(got["device"]["file"].as_str().unwrap()).unwrap();
    assert_eq!((from_file, role), (key, KeyRole::Device));
    assert_eq!(got["device"]["kid"], key.kid().to_hex());
    assert_eq!(got["device"]["public_key"], key.to_hex());

    // Both files open natively, signed by that key; the second joins the first.
    let first = open_log(&hex::decode(got["first"].as_str().unwrap()).unwrap()).unwrap();
    let rest = open_log(&hex::decode(got["rest"].as_str().unwrap()).unwrap()).unwrap();
    assert_eq!((first.device, rest.device), (key, key));
    assert_eq!(first.prev, GENESIS);
    assert_eq!(rest.prev, first.head());
    assert_eq!(first.exported_at, at + 3600);
    let all: Vec<_> = first.entries.iter().chain(&rest.entries).collect();
    assert_eq!(all.len(), 4);
    let verdicts: Vec<_> = all.iter().map(|e| e.verdict.as_deref()).collect();
    assert_eq!(verdicts, [Some("green"), Some("red"), Some("amber"), None]);
    // The hashes are the native chain's.
    let mut prev = GENESIS;
    for e in &all {
        let fields: Entry<'_> = e.entry();
        prev = link(&prev, &fields);
        assert_eq!(e.hash, prev, "entry {}", e.id);
    }
    let recorded = all[3];
    assert_eq!(recorded.kind, EntryKind::TestReport);
    assert_eq!(
        recorded.note.as_deref().and_then(parse_test_report_note),
        Some(1_647_100_000)
    );
    assert!(recorded.simulated);

    assert_eq!(got["edited"], "CHAIN_BROKEN");
    assert_eq!(got["wrong_prev"], "CHAIN_BROKEN");
    assert_eq!(got["short_seed"], "BAD_DEVICE_KEY");

    // The officer's report: a time between the pass's test and now is recorded (UTC+8).
    let seen = parse_cst("2022-03-12 23:00").unwrap();
    assert_eq!(
        got["reports"][0],
        json!({ "note": format!("sample_at={seen}"), "sample_at": seen,
                "sample_at_cst": "2022-03-12 23:00", "at_cst": "2022-03-13 08:00" })
    );
    assert_eq!(got["reports"][1]["refused"], "IN_FUTURE");
    assert_eq!(got["reports"][2]["refused"], "NOT_NEWER");
    assert_eq!(got["reports"][3]["refused"], "BAD_TIME");
}
