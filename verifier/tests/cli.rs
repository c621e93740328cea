//! The `verifier` binary end to end on QR texts: init, bundle install/show, check verdicts and
//! exit codes, repeat scans, clock checks, the scan log and its CSV export.

mod common;

use checkpass::keys::{public_key_file, KeyRole, SigningKey};
use checkpass::number::PassNumber;
use checkpass::pass::Serial;
use common::*;

#[test]
fn not_initialised_or_no_bundle_is_a_clear_error() {
    let f = Fixture::new();
    let out = f.check_text(&f.pass_text(), 0, &[]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("verifier init"), "{}", stderr(&out));

    let key = f.root_key_file();
    assert_ok(&f.init(&key, "C101", &[]));
    let out = f.check_text(&f.pass_text(), 0, &[]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("verifier bundle install"),
        "{}",
        stderr(&out)
    );
    let out = f.run(&["bundle", "show"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("未安装信任包"), "{}", stderr(&out));
}

#[test]
fn init_refuses_bad_key_files() {
    let f = Fixture::new();
    // A signing key's public file is not a root key.
    let signing_pub = f.path("signing.pub.json");
    std::fs::write(
        &signing_pub,
        public_key_file(&f.signing.public_key(), KeyRole::Signing),
    )
    .unwrap();
    let garbage = f.path("garbage");
    std::fs::write(&garbage, [0xff, 0x00, 0x12]).unwrap();
    let missing = f.path("missing.json");
    for (key, says) in [
        (&signing_pub, "不是根公钥"),
        (&garbage, "garbage"),
        (&missing, "missing.json"),
    ] {
        let out = f.init(key, "C101", &[]);
        assert_eq!(code(&out), 2);
        assert!(stderr(&out).contains(says), "{}", stderr(&out));
    }
    assert_eq!(code(&f.init(&f.root_key_file(), "C 101", &[])), 2);

    // Usage errors exit 2 as well.
    assert_eq!(code(&f.run(&["init", "--checkpoint", "C101"])), 2);
    assert_eq!(code(&f.run(&["frobnicate"])), 2);
}

#[test]
fn init_keeps_the_pinned_root() {
    let f = Fixture::ready();
    let key = f.root_key_file();
    // Same root: the checkpoint may be renamed.
    assert_ok(&f.init(&key, "C102", &[]));
    let out = f.run(&["settings"]);
    assert!(stdout(&out).contains("C102"));
    assert!(
        stdout(&out).contains("W001"),
        "officer kept: {}",
        stdout(&out)
    );
    // Another root cannot be pinned over it.
    let other = f.path("other.pub.json");
    std::fs::write(
        &other,
        public_key_file(&SigningKey::generate().public_key(), KeyRole::Root),
    )
    .unwrap();
    let out = f.init(&other, "C101", &[]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("另一根密钥"), "{}", stderr(&out));
    // The installed bundle still verifies and still works.
    assert_eq!(
        code(&f.check_text(&f.pass_text(), 0, &["--checkpoint", "C101"])),
        0
    );
}

#[test]
fn bundle_install_rules() {
    let f = Fixture::ready();
    let show =
        |f: &Fixture| stdout(&f.run(&["--lang", "en", "bundle", "show", "--at", NOW_RFC3339]));
    assert!(show(&f).contains("Sequence:    1"), "{}", show(&f));

    // Signed by another root: refused.
    let other_root = SigningKey::generate();
    let wrong = f.bundle_file("wrong.cose", &f.bundle(5), &other_root);
    let out = f.run(&["bundle", "install", wrong.to_str().unwrap()]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("根密钥"), "{}", stderr(&out));
    assert!(stderr(&out).contains("wrong.cose"), "{}", stderr(&out));

    // A newer one is accepted; the same sequence again too.
    let b3 = f.bundle_file("b3.cose", &f.bundle(3), &f.root);
    assert_ok(&f.run(&["bundle", "install", b3.to_str().unwrap()]));
    assert_ok(&f.run(&["bundle", "install", b3.to_str().unwrap()]));
    assert!(show(&f).contains("Sequence:    3"));

    // Lower sequence: refused.
    let b2 = f.bundle_file("b2.cose", &f.bundle(2), &f.root);
    let out = f.run(&["bundle", "install", b2.to_str().unwrap()]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("sequence 2"), "{}", stderr(&out));

    // Corrupted (one byte flipped in the middle, or cut short): refused.
    let mut bytes = std::fs::read(f.path("b3.cose")).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    let bad = f.path("corrupt.cose");
    std::fs::write(&bad, &bytes).unwrap();
    assert_eq!(
        code(&f.run(&["bundle", "install", bad.to_str().unwrap()])),
        2
    );
    let cut = f.path("cut.cose");
    std::fs::write(&cut, &std::fs::read(f.path("b3.cose")).unwrap()[..mid]).unwrap();
    assert_eq!(
        code(&f.run(&["bundle", "install", cut.to_str().unwrap()])),
        2
    );
    let missing = f.path("nope.cose");
    let out = f.run(&["bundle", "install", missing.to_str().unwrap()]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("nope.cose"));

    // Still sequence 3.
    assert!(show(&f).contains("Sequence:    3"));
}

#[test]
fn installed_bundle_swapped_on_disk_is_refused() {
    let f = Fixture::ready();
    let b2 = f.bundle_file("b2.cose", &f.bundle(2), &f.root);
    assert_ok(&f.run(&["bundle", "install", b2.to_str().unwrap()]));
    // Someone copies the old sequence-1 bundle over the installed file.
    std::fs::copy(f.path("b1.cose"), f.data().join("bundle.cose")).unwrap();
    let out = f.check_text(&f.pass_text(), 0, &[]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("重新安装"), "{}", stderr(&out));
    // Reinstalling a good bundle repairs it.
    assert_ok(&f.run(&["bundle", "install", b2.to_str().unwrap()]));
    assert_eq!(code(&f.check_text(&f.pass_text(), 0, &[])), 0);
}

#[test]
fn bundle_show_lists_the_facts() {
    let f = Fixture::new();
    let key = f.root_key_file();
    assert_ok(&f.init(&key, "C101", &[]));
    let b = f.bundle_file("b7.cose", &f.bundle_with_revoked(7, &[11, 12, 13]), &f.root);
    assert_ok(&f.run(&["bundle", "install", b.to_str().unwrap()]));
    // 22 h after issue.
    let out = f.run(&["bundle", "show", "--at", NOW_RFC3339]);
    assert_ok(&out);
    let s = stdout(&out);
    assert!(s.contains("序号：7"), "{s}");
    assert!(s.contains("22 小时"), "{s}");
    assert!(s.contains(&f.signing.kid().to_string()), "{s}");
    assert!(s.contains("撤销条数：3"), "{s}");
    let n = checkpass::sample::checkpoints().len();
    assert!(s.contains(&format!("检查站数：{n}")), "{s}");
    assert!(s.contains("C101 威海收费站"), "{s}");

    let out = f.run(&["--lang", "en", "bundle", "show", "--at", &at(4 * 86_400)]);
    let s = stdout(&out);
    assert!(s.contains("Revocations: 3"), "{s}");
    assert!(s.contains("stale"), "{s}");
    assert!(
        !s.contains("only for"),
        "an unscoped key shows no scope: {s}"
    );

    // A scoped key shows its limits.
    let mut scoped = f.bundle_with_revoked(8, &[]);
    scoped.keys[0].scope = checkpass::scope::KeyScope::parse("1101,110105", "产成品").unwrap();
    let b = f.bundle_file("b8.cose", &scoped, &f.root);
    assert_ok(&f.run(&["bundle", "install", b.to_str().unwrap()]));
    let s = stdout(&f.run(&["bundle", "show", "--at", NOW_RFC3339]));
    assert!(s.contains("仅限：区划 1101,110105；类别 产成品"), "{s}");
    let s = stdout(&f.run(&["--lang", "en", "bundle", "show", "--at", NOW_RFC3339]));
    assert!(
        s.contains("only for districts 1101,110105; categories finished products"),
        "{s}"
    );
}

#[test]
fn log_find_by_pass_number() {
    let f = Fixture::ready();
    assert_eq!(f.check_json(&f.pass_text(), 0, &[]).0, 0);
    assert_eq!(f.check_json(&f.pass_text(), 60, &[]).0, 10);
    let other = f.pass_text_with(|p| p.serial = Serial(2));
    assert_eq!(f.check_json(&other, 120, &[]).0, 0);
    let number = PassNumber::new(371003, Serial(1)).unwrap();

    let out = f.run(&["log", "find", &number.to_string(), "--at", NOW_RFC3339]);
    assert_ok(&out);
    let s = stdout(&out);
    assert!(s.contains(&number.to_string()), "{s}");
    assert_eq!(
        s.matches("鲁KP20XL").count(),
        2,
        "both scans of it, not serial 2: {s}"
    );
    assert!(s.contains("共 2"), "{s}");
    // The digits alone find it too.
    let out = f.run(&["log", "find", &number.compact(), "--at", NOW_RFC3339]);
    assert_ok(&out);

    // Not scanned today (the next day): exit 1, said so.
    let out = f.run(&["log", "find", &number.to_string(), "--at", &at(86_400)]);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    assert!(stdout(&out).contains("今日查验记录中没有通行证"));
    let never = PassNumber::new(371003, Serial(99)).unwrap();
    let out = f.run(&[
        "--lang",
        "en",
        "log",
        "find",
        &never.to_string(),
        "--at",
        NOW_RFC3339,
    ]);
    assert_eq!(code(&out), 1);
    assert!(stdout(&out).contains("No scan of pass"), "{}", stdout(&out));

    // A mistyped number is an error (exit 2) that says what is wrong, not "not found".
    let mut typo = number.compact().into_bytes();
    typo[10] = if typo[10] == b'9' { b'0' } else { typo[10] + 1 };
    let typo = String::from_utf8(typo).unwrap();
    for (bad, says) in [
        (typo.as_str(), "校验位错误"),
        ("37100300001", "应为 13 位"),
        ("37100300000a1", "非数字"),
    ] {
        let out = f.run(&["log", "find", bad, "--at", NOW_RFC3339]);
        assert_eq!(code(&out), 2, "{bad}");
        assert!(stderr(&out).contains(says), "{bad}: {}", stderr(&out));
    }
}

#[test]
fn green_pass_human_output() {
    let f = Fixture::ready();
    let out = f.check_text(&f.pass_text(), 0, &[]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let s = stdout(&out);
    for want in [
        "结论：通过",
        "鲁KP20XL",
        "邓丽伟",
        "320102********6657",
        "工业原材料",
        "塑料粒子",
        "环翠区张村镇工业园 → 环翠区羊亭镇物流中心",
        "【C101 威海收费站】",
        "2022-03-12 19:00 至 2022-03-14 19:00",
        "34 小时前",
        "通行证编号：371003-000001-",
    ] {
        assert!(s.contains(want), "missing {want:?} in:\n{s}");
    }

    let out = f.check_text(&f.pass_text(), 60, &["--lang", "en"]);
    // Within the repeat window: amber, in English.
    assert_eq!(code(&out), 10);
    let s = stdout(&out);
    assert!(s.contains("Verdict: CHECK"), "{s}");
    for want in [
        "Category:    industrial raw materials",
        "鲁KP20XL",
        "320102********6657",
        "2022-03-12 19:00",
    ] {
        assert!(s.contains(want), "missing {want:?} in:\n{s}");
    }
    assert!(!s.contains("结论"), "no Chinese labels in English: {s}");
}

#[test]
fn json_output_for_green_amber_red() {
    let f = Fixture::ready();
    let text = f.pass_text();
    let (c, v) = f.check_json(&text, 0, &[]);
    assert_eq!(c, 0);
    assert_eq!(v.len(), 1);
    let v = &v[0];
    assert_eq!(v["text"], text.as_str());
    assert_eq!(v["verdict"], "green");
    assert!(reasons(v).is_empty());
    assert_eq!(v["serial"], Serial(1).to_string());
    assert_eq!(
        v["number"],
        PassNumber::new(371003, Serial(1)).unwrap().to_string()
    );
    assert_eq!(v["plate"], "鲁KP20XL");
    assert_eq!(v["driver_name"], "邓丽伟");
    assert_eq!(v["driver_id_masked"], "320102********6657");
    assert_eq!(v["checkpoint"], "C101");
    assert_eq!(v["not_before"], "2022-03-12T19:00:00+08:00");
    assert_eq!(v["expires_at"], "2022-03-14T19:00:00+08:00");
    assert_eq!(v["image"], serde_json::Value::Null);

    // Not on this checkpoint's route: amber.
    let (c, v) = f.check_json(&text, 0, &["--checkpoint", "C102"]);
    assert_eq!(c, 10);
    assert_eq!(v[0]["verdict"], "amber");
    assert_eq!(reasons(&v[0]), vec!["NOT_ON_ROUTE"]);
    assert_eq!(v[0]["checkpoint"], "C102");

    // Signed by a key the bundle does not trust: red, and no facts.
    let forged =
        checkpass::wire::issue_qr_text(&checkpass::sample::pass(), &SigningKey::generate())
            .unwrap();
    let (c, v) = f.check_json(&forged, 0, &[]);
    assert_eq!(c, 20);
    assert_eq!(reasons(&v[0]), vec!["UNKNOWN_KEY"]);
    assert_eq!(v[0]["serial"], serde_json::Value::Null);
    assert!(v[0].get("plate").is_none());
    // Expired two days later: red, with the facts still shown.
    let (c, v) = f.check_json(&text, 2 * 86_400, &[]);
    assert_eq!(c, 20);
    assert_eq!(v[0]["verdict"], "red");
    assert!(reasons(&v[0]).contains(&"EXPIRED".to_string()));
    assert_eq!(v[0]["plate"], "鲁KP20XL");
}

#[test]
fn revoked_pass_is_red() {
    let f = Fixture::ready();
    let b = f.bundle_file("b2.cose", &f.bundle_with_revoked(2, &[1]), &f.root);
    assert_ok(&f.run(&["bundle", "install", b.to_str().unwrap()]));
    let (c, v) = f.check_json(&f.pass_text(), 0, &[]);
    assert_eq!(c, 20);
    assert_eq!(reasons(&v[0]), vec!["REVOKED"]);
    // Another serial is unaffected.
    let other = f.pass_text_with(|p| p.serial = Serial(2));
    assert_eq!(f.check_json(&other, 0, &[]).0, 0);
}

#[test]
fn old_test_sample_is_amber() {
    let f = Fixture::ready();
    let old = f.pass_text_with(|p| p.body.test_sampled_at = NOW - 50 * 3600);
    let (c, v) = f.check_json(&old, 0, &[]);
    assert_eq!(c, 10);
    assert_eq!(reasons(&v[0]), vec!["TEST_TOO_OLD"]);
    assert_eq!(v[0]["test_age_hours"], 50);
}

#[test]
fn repeat_scan_within_the_window_is_amber() {
    let f = Fixture::ready();
    let text = f.pass_text();
    assert_eq!(f.check_json(&text, 0, &[]).0, 0);
    let (c, v) = f.check_json(&text, 120, &[]);
    assert_eq!(c, 10);
    assert_eq!(reasons(&v[0]), vec!["REPEAT_SCAN"]);
    // Scanned at another checkpoint: not a repeat there.
    let (c, v) = f.check_json(&text, 130, &["--checkpoint", "C201"]);
    assert_eq!((c, reasons(&v[0])), (0, vec![]));
    // Past the bundle policy's 10 minutes after the last scan here: green again.
    assert_eq!(f.check_json(&text, 120 + 601, &[]).0, 0);
    // A longer local window (1 h) makes it a repeat again.
    assert_ok(&f.run(&["settings", "--repeat-window", "3600"]));
    let (c, v) = f.check_json(&text, 120 + 601 + 1800, &[]);
    assert_eq!((c, reasons(&v[0])), (10, vec!["REPEAT_SCAN".to_string()]));
    // A different pass is not a repeat.
    let other = f.pass_text_with(|p| p.serial = Serial(99));
    assert_eq!(f.check_json(&other, 120 + 601 + 1801, &[]).0, 0);
    // A forged copy of the same serial is red, and does not count as a scan of the pass.
    assert_ok(&f.run(&["settings", "--policy-repeat-window"]));
    let forged =
        checkpass::wire::issue_qr_text(&checkpass::sample::pass(), &SigningKey::generate())
            .unwrap();
    assert_eq!(f.check_json(&forged, 10_000, &[]).0, 20);
    assert_eq!(f.check_json(&text, 10_001, &[]).0, 0);
}

#[test]
fn clock_behind_the_log_or_the_bundle_is_amber() {
    let f = Fixture::ready();
    let text = f.pass_text();
    assert_eq!(f.check_json(&text, 0, &[]).0, 0);
    // The clock was set back a day.
    let other = f.pass_text_with(|p| p.serial = Serial(5));
    let (c, v) = f.check_json(&other, -3600, &[]);
    assert_eq!(c, 10);
    assert_eq!(reasons(&v[0]), vec!["CLOCK_BEHIND"]);
    // A few seconds' correction is tolerated (the policy's clock skew).
    let third = f.pass_text_with(|p| p.serial = Serial(6));
    assert_eq!(f.check_json(&third, -10, &[]).0, 0);

    // Earlier than the bundle's issue time (2022-03-12 10:00): amber too.
    let g = Fixture::ready();
    let (c, v) = g.check_json(
        &g.pass_text(),
        checkpass::sample::ISSUED_AT - NOW - 3600,
        &[],
    );
    assert!(
        reasons(&v[0]).contains(&"CLOCK_BEHIND".to_string()),
        "{v:?}"
    );
    assert!(c >= 10);
    // The warning also shows in bundle show.
    let out = g.run(&["bundle", "show", "--at", &at(-86_400 * 2)]);
    assert!(stdout(&out).contains("本机时钟早于"), "{}", stdout(&out));
}

#[test]
fn usage_errors_exit_with_code_2() {
    // Several --text flags are not allowed; several images are, and the worst verdict of them
    // sets the exit code (tests/images.rs).
    let f = Fixture::ready();
    let out = f.check_text(&f.pass_text(), 0, &["--text", "again"]);
    assert_eq!(code(&out), 2, "a second --text is a usage error");
    let out = f.run(&["check", "--text", "x", "image.png"]);
    assert_eq!(code(&out), 2, "--text and images together is a usage error");
    let out = f.run(&["check"]);
    assert_eq!(code(&out), 2, "nothing to check is a usage error");
}

#[test]
fn log_lists_and_exports_every_check() {
    let f = Fixture::ready();
    let text = f.pass_text();
    assert_eq!(f.check_json(&text, 0, &[]).0, 0);
    assert_eq!(f.check_json(&text, 60, &[]).0, 10);
    assert_eq!(f.check_json("https://example.com/", 120, &[]).0, 20);
    assert_eq!(f.check_json(&text, 180, &["--checkpoint", "C201"]).0, 0);

    let rows = f.log_rows();
    assert_eq!(rows.len(), 4);
    let col = |r: &csv::StringRecord, i: usize| r.get(i).unwrap().to_owned();
    // id, scanned_at, unix, checkpoint, officer, serial, plate, verdict, reasons, sequence
    assert_eq!(col(&rows[0], 1), "2022-03-13T08:00:00+08:00");
    assert_eq!(col(&rows[0], 2), NOW.to_string());
    assert_eq!(col(&rows[0], 3), "C101");
    assert_eq!(col(&rows[0], 4), "W001");
    assert_eq!(col(&rows[0], 5), Serial(1).to_string());
    assert_eq!(col(&rows[0], 6), "鲁KP20XL");
    assert_eq!(col(&rows[0], 7), "green");
    assert_eq!(col(&rows[0], 9), "1");
    assert_eq!(
        (col(&rows[1], 7), col(&rows[1], 8)),
        ("amber".into(), "REPEAT_SCAN".into())
    );
    assert_eq!(
        (col(&rows[2], 5), col(&rows[2], 7)),
        (String::new(), "red".into())
    );
    assert_eq!(col(&rows[2], 8), "NOT_A_PASS");
    assert_eq!(col(&rows[3], 3), "C201");

    // To a file, with a BOM for Excel.
    let csv_path = f.path("log.csv");
    assert_ok(&f.run(&["log", "--csv", csv_path.to_str().unwrap()]));
    let bytes = std::fs::read(&csv_path).unwrap();
    assert!(bytes.starts_with("\u{FEFF}id,scanned_at".as_bytes()));
    assert_eq!(String::from_utf8(bytes).unwrap().lines().count(), 5);

    // --since filters.
    let out = f.run(&["log", "--since", "2022-03-13T08:01:30+08:00"]);
    assert_ok(&out);
    let s = stdout(&out);
    assert_eq!(
        s.lines().filter(|l| l.starts_with("2022-03-13")).count(),
        2,
        "{s}"
    );
    assert!(s.contains("拒绝"), "{s}");
    let out = f.run(&["log", "--since", "next tuesday"]);
    assert_eq!(code(&out), 2);

    // An unwritable export target is an error, and nothing else changes.
    let out = f.run(&[
        "log",
        "--csv",
        f.path("no/such/dir/log.csv").to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 2);
    assert_eq!(f.log_rows().len(), 4);
}

#[test]
fn settings_are_validated_and_persist() {
    let f = Fixture::ready();
    assert_ok(&f.run(&["settings", "--officer", "W002", "--language", "en"]));
    let out = f.run(&["settings"]);
    let s = stdout(&out);
    assert!(s.contains("Officer:       W002"), "{s}");
    assert!(s.contains("Language:      en"), "{s}");
    assert_eq!(code(&f.run(&["settings", "--repeat-window", "-1"])), 2);
    assert_eq!(
        code(&f.run(&["settings", "--repeat-window", "99999999"])),
        2
    );
    assert_eq!(code(&f.run(&["settings", "--language", "fr"])), 2);
    // Language en is now the default display language; --lang zh overrides it.
    let out = f.check_text(&f.pass_text(), 0, &[]);
    assert!(stdout(&out).contains("Verdict: PASS"), "{}", stdout(&out));
    let out = f.check_text(&f.pass_text(), 0, &["--lang", "zh"]);
    assert!(stdout(&out).contains("结论："), "{}", stdout(&out));
    // The officer is recorded with each scan.
    let rows = f.log_rows();
    assert_eq!(rows[0].get(4), Some("W002"));
}

/// A reader that stops early (`verifier log | head`) ends the verifier the way it ends other
/// Unix tools, by SIGPIPE, silently: no error message about the pipe.
#[cfg(unix)]
#[test]
fn a_closed_output_pipe_ends_the_verifier_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let f = Fixture::ready();
    assert_eq!(f.check_json(&f.pass_text(), 0, &[]).0, 0);
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = command_in(&f.data(), &["log"])
        .stdout(writer)
        .output()
        .unwrap();
    // 13 is SIGPIPE on Linux and the BSDs.
    assert_eq!(out.status.signal(), Some(13), "{:?}", out.status);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn scans_with_at_are_marked_simulated_and_the_log_chain_verifies() {
    let f = Fixture::ready();
    assert_eq!(code(&f.check_text(&f.pass_text(), 0, &[])), 0);
    let rows = f.log_rows();
    assert_eq!(rows.len(), 1);
    assert_eq!(&rows[0][10], "yes", "{:?}", rows[0]);
    let out = f.run(&["log"]);
    assert_ok(&out);
    assert!(stdout(&out).contains("模拟时间"), "{}", stdout(&out));
    let out = f.run(&["log", "verify"]);
    assert_ok(&out);
    assert!(stdout(&out).contains("哈希链完整"), "{}", stdout(&out));
    let out = f.run(&["clock", "correct", "--reason", "时钟快了一天，已校正"]);
    assert_ok(&out);
    assert!(stdout(&out).contains("已登记时钟校正"), "{}", stdout(&out));
    assert_ok(&f.run(&["log", "verify"]));
    let out = f.run(&["bundle", "show"]);
    assert!(
        stdout(&out).contains(&f.root.kid().to_hex()),
        "{}",
        stdout(&out)
    );
}

#[test]
fn the_development_root_needs_allow_dev_keys() {
    let f = Fixture::new();
    let dev_root =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../keys/DEV-ONLY-root.pub.json");
    let out = f.init(&dev_root, "C101", &[]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("--allow-dev-keys"),
        "{}",
        stderr(&out)
    );
    assert_ok(&f.init(&dev_root, "C101", &["--allow-dev-keys"]));
}

/// The log for the city: a file signed by this device's own key (made at init, its public
/// file exportable), the whole hash chain inside, simulated scans marked; `--since` starts
/// later and joins the earlier file's chain; a log whose chain is broken is never exported.
#[test]
fn log_export_is_signed_by_the_device_and_chained() {
    let f = Fixture::ready();
    let text = f.pass_text();
    assert_eq!(f.check_json(&text, 0, &[]).0, 0);
    assert_eq!(f.check_json(&text, 60, &[]).0, 10);
    assert_eq!(f.check_json(&text, 3600, &["--checkpoint", "C201"]).0, 0);

    let key_file = f.path("device.pub");
    assert_ok(&f.run(&["log", "device", "--out", key_file.to_str().unwrap()]));
    let (device, role) =
        checkpass::keys::parse_public_key_file(&std::fs::read_to_string(&key_file).unwrap())
            .unwrap();
    assert_eq!(role, KeyRole::Device);
    let shown = stdout(&f.run(&["log", "device"]));
    assert!(shown.contains(&device.kid().to_hex()), "{shown}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(f.data().join("device.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the device key is readable by its account only"
        );
    }

    let all = f.path("all.scanlog");
    let out = f.run(&["log", "export", "--out", all.to_str().unwrap()]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains(&device.kid().to_hex()),
        "{}",
        stdout(&out)
    );
    let log = checkpass::logfile::open_log(&std::fs::read(&all).unwrap()).unwrap();
    assert_eq!(log.device, device);
    assert_eq!(log.prev, checkpass::scanlog::GENESIS);
    let scans: Vec<_> = log
        .entries
        .iter()
        .filter(|e| e.kind == checkpass::scanlog::EntryKind::Scan)
        .collect();
    assert_eq!(scans.len(), 3);
    assert_eq!(scans[0].verdict.as_deref(), Some("green"));
    assert_eq!(scans[1].reasons, "REPEAT_SCAN");
    assert_eq!(scans[2].checkpoint, "C201");
    // The fixture checks with --at: every scan is marked as made under a simulated clock.
    assert!(scans.iter().all(|e| e.simulated));
    // The same head as `log verify` prints.
    let verified = stdout(&f.run(&["log", "verify"]));
    assert!(verified.contains(&hex::encode(log.head())), "{verified}");

    // From a later time: the file starts where the chain reaches it.
    let later = f.path("later.scanlog");
    assert_ok(&f.run(&[
        "log",
        "export",
        "--since",
        "2022-03-13T08:30:00+08:00",
        "--out",
        later.to_str().unwrap(),
    ]));
    let later = checkpass::logfile::open_log(&std::fs::read(&later).unwrap()).unwrap();
    let first = later.entries.first().unwrap();
    let before = log.entries.iter().position(|e| e.id == first.id).unwrap();
    assert!(before > 0);
    assert_eq!(later.prev, log.entries[before - 1].hash);
    assert_eq!(later.head(), log.head());

    // A bad target is an error and writes nothing.
    let out = f.run(&[
        "log",
        "export",
        "--out",
        f.path("no/such/dir/x").to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 2);

    // A log edited behind the program's back is refused, not exported.
    let db = rusqlite::Connection::open(f.data().join("verifier.db")).unwrap();
    db.execute_batch(
        "DROP TRIGGER scans_no_update; UPDATE scans SET plate = '鲁K99999' WHERE kind = 'scan' AND id = (SELECT MIN(id) FROM scans WHERE kind = 'scan');",
    )
    .unwrap();
    drop(db);
    let refused = f.path("refused.scanlog");
    let out = f.run(&["log", "export", "--out", refused.to_str().unwrap()]);
    assert_eq!(code(&out), 2, "{}", stdout(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("哈希链"),
        "{:?}",
        out
    );
    assert!(!refused.exists());
}

/// An old test on the pass: the officer records the newer report seen with `check
/// --test-seen`; the log keeps it right after the scan and exports it; a time in the future, one
/// not newer than the pass's test, or a pass whose test is fine is refused (exit 2).
#[test]
fn a_newer_test_report_seen_is_recorded_after_the_scan() {
    let f = Fixture::ready();
    let old = f.pass_text_with(|p| p.body.test_sampled_at = NOW - 50 * 3600);
    let seen = at(-3600);
    let out = f.check_text(&old, 0, &["--json", "--test-seen", &seen]);
    assert_eq!(
        code(&out),
        10,
        "still amber: the officer decides; {}",
        stdout(&out)
    );
    let v = json_lines(&out);
    assert_eq!(v[0]["test_report"]["recorded"], true, "{}", v[0]);
    assert_eq!(v[0]["test_report"]["sample_at"], NOW - 3600);
    let human = stdout(&f.check_text(&old, 1200, &["--test-seen", &seen]));
    assert!(human.contains("已记录民警所见核酸报告"), "{human}");

    for (when, text) in [
        (at(3600), old.clone()),
        (at(-51 * 3600), old.clone()),
        (seen.clone(), f.pass_text()),
    ] {
        let out = f.check_text(&text, 2400, &["--test-seen", &when]);
        assert_eq!(code(&out), 2, "{when}: {}", stdout(&out));
        assert!(stdout(&out).contains("未记录核酸报告"), "{}", stdout(&out));
    }

    let file = f.path("log.scanlog");
    assert_ok(&f.run(&["log", "export", "--out", file.to_str().unwrap()]));
    let log = checkpass::logfile::open_log(&std::fs::read(&file).unwrap()).unwrap();
    let reports: Vec<_> = log
        .entries
        .iter()
        .filter(|e| e.kind == checkpass::scanlog::EntryKind::TestReport)
        .collect();
    assert_eq!(reports.len(), 2);
    assert_eq!(
        reports[0].note.as_deref(),
        Some(format!("sample_at={}", NOW - 3600).as_str())
    );
    let before = log
        .entries
        .iter()
        .position(|e| e.id == reports[0].id - 1)
        .unwrap();
    assert_eq!(
        log.entries[before].kind,
        checkpass::scanlog::EntryKind::Scan
    );
    assert_eq!(log.entries[before].serial, reports[0].serial);
    assert!(reports[0].simulated, "made under --at, as its scan");
}

/// A device whose lane has a direction logs it with each scan (`direction=in` in the entry's
/// note), so that the city can tell a truck entering from one leaving; cleared, it logs none.
#[test]
fn the_lanes_direction_is_logged_with_each_scan() {
    let f = Fixture::ready();
    let out = f.run(&["settings", "--direction", "进城"]);
    assert_ok(&out);
    assert!(stdout(&out).contains("进城"), "{}", stdout(&out));
    assert_eq!(f.check_json(&f.pass_text(), 0, &[]).0, 0);
    assert_ok(&f.run(&["settings", "--no-direction"]));
    assert_eq!(f.check_json(&f.pass_text(), 3600, &[]).0, 0);
    assert_eq!(code(&f.run(&["settings", "--direction", "up"])), 2);
    let file = f.path("log.scanlog");
    assert_ok(&f.run(&["log", "export", "--out", file.to_str().unwrap()]));
    let log = checkpass::logfile::open_log(&std::fs::read(&file).unwrap()).unwrap();
    let notes: Vec<Option<&str>> = log
        .entries
        .iter()
        .filter(|e| e.kind == checkpass::scanlog::EntryKind::Scan)
        .map(|e| e.note.as_deref())
        .collect();
    assert_eq!(notes, vec![Some("direction=in"), None]);
}
