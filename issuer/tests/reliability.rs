//! Reliability of issuing, on both stores: a SIGKILL in the middle of `issue --all` loses no
//! approval and never leaves a pass recorded as issued without its files; two `issue --all`
//! processes at once issue each pass exactly once. The PostgreSQL runs use a throwaway cluster
//! of this test process.

mod common;

use std::collections::BTreeSet;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{write_valid_csv, Env};
use serde_json::Value;

const FILES: [&str; 3] = ["qr.svg", "qr.txt", "sms.txt"];

/// Every application is approved or issued, and every issued one has all its files.
fn assert_consistent(env: &Env, total: usize) -> usize {
    let list = env.json(&["list"]);
    let apps = list.as_array().unwrap();
    assert_eq!(apps.len(), total);
    let mut issued = 0;
    for a in apps {
        match a["status"].as_str().unwrap() {
            "approved" => {}
            "issued" => {
                issued += 1;
                let serial = a["pass"]["serial"].as_str().unwrap();
                let dir = env.data().join("passes").join(serial);
                for f in FILES {
                    assert!(
                        dir.join(f).is_file(),
                        "{serial} is recorded as issued but {f} is missing"
                    );
                }
                let qr = std::fs::read_to_string(dir.join("qr.txt")).unwrap();
                assert_eq!(qr.trim_end(), a["pass"]["qr_text"].as_str().unwrap());
            }
            other => panic!("{}: unexpected status {other}", a["app_no"]),
        }
    }
    issued
}

/// The serials of all issued passes, checking that no application has two.
fn issued_serials(env: &Env) -> BTreeSet<String> {
    let list = env.json(&["list", "--status", "issued"]);
    let serials: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["pass"]["serial"].as_str().unwrap().to_string())
        .collect();
    let set: BTreeSet<String> = serials.iter().cloned().collect();
    assert_eq!(set.len(), serials.len(), "a serial is used twice");
    set
}

#[test]
fn sigkill_during_issue_all_loses_nothing() {
    sigkill_during_issue_all(Env::init());
}

#[test]
fn sigkill_during_issue_all_loses_nothing_on_postgres() {
    if let Some(env) = Env::init_postgres() {
        sigkill_during_issue_all(env);
    }
}

#[test]
fn two_concurrent_issue_all_issue_each_pass_once() {
    two_concurrent_issue_all(Env::init());
}

#[test]
fn two_concurrent_issue_all_issue_each_pass_once_on_postgres() {
    if let Some(env) = Env::init_postgres() {
        two_concurrent_issue_all(env);
    }
}

fn sigkill_during_issue_all(env: Env) {
    const N: usize = 120;
    let csv = env.path("many.csv");
    write_valid_csv(&csv, N);
    env.approve_all_from(&csv);

    // A short lease, so that the rerun can take over the killed run's reservations soon.
    let mut child = env
        .command(&[
            "issue",
            "--all",
            "--formats",
            "svg",
            "--batch",
            "3",
            "--lease-secs",
            "1",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill once some passes are on disk (or give up waiting after a generous limit).
    let deadline = Instant::now() + Duration::from_secs(120);
    while env.pass_dirs().len() < 10 && Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let issued_before = assert_consistent(&env, N);
    assert!(issued_before < N, "the kill should land before the end");
    let before = issued_serials(&env);

    // Rerun once the killed run's lease is over: finishes the job, reusing any reservation it
    // left (same serial, same QR text).
    std::thread::sleep(Duration::from_millis(2100));
    let rerun = env.json(&["issue", "--all", "--formats", "svg"]);
    assert_eq!(rerun["held_elsewhere"].as_array().unwrap().len(), 0);
    assert_eq!(assert_consistent(&env, N), N);
    let after = issued_serials(&env);
    assert!(
        before.is_subset(&after),
        "a pass issued before the kill changed its serial"
    );
    assert_eq!(after.len(), N);
    // No orphan directories: each pass directory belongs to an issued pass.
    let dirs: BTreeSet<String> = env
        .pass_dirs()
        .iter()
        .map(|d| d.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(dirs, after);
    let issues = env
        .json(&["audit"])
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "issue")
        .count();
    assert_eq!(issues, N);
}

fn two_concurrent_issue_all(env: Env) {
    const N: usize = 40;
    let csv = env.path("many.csv");
    write_valid_csv(&csv, N);
    env.approve_all_from(&csv);

    let spawn = || {
        env.command(&[
            "issue",
            "--all",
            "--formats",
            "svg",
            "--batch",
            "4",
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let mut new_passes = Vec::new();
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        for p in v["passes"].as_array().unwrap() {
            assert_eq!(p["new"], true);
            new_passes.push((
                p["app_no"].as_str().unwrap().to_string(),
                p["serial"].as_str().unwrap().to_string(),
            ));
        }
    }
    assert_eq!(
        new_passes.len(),
        N,
        "each application issued once across both processes"
    );
    let apps: BTreeSet<_> = new_passes.iter().map(|(a, _)| a.clone()).collect();
    assert_eq!(apps.len(), N);
    assert_eq!(assert_consistent(&env, N), N);
    assert_eq!(issued_serials(&env).len(), N);
    assert_eq!(env.pass_dirs().len(), N);
}
