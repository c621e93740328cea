//! End-to-end tests of the `issuer` binary: every subcommand, every bad row of the sample file,
//! the workflow and its refusals, idempotent issuing, keys, bundle and revocation, and the
//! failure modes (wrong passphrase, missing data dir, malformed or wrong-kind files).

mod common;

use std::collections::{BTreeMap, BTreeSet};

use checkpass::keys::{parse_public_key_file, KeyRole};
use checkpass::verdict::{Level, ReasonCode};
use common::{samples, without_clock_note, Env};
use serde_json::Value;

const ALL_FILES: [&str; 6] = [
    "qr.png", "qr.svg", "pass.pdf", "pass.png", "sms.txt", "qr.txt",
];

#[test]
fn every_subcommand_has_help() {
    let env = Env::new();
    for sub in [
        vec![],
        vec!["init"],
        vec!["import"],
        vec!["list"],
        vec!["show"],
        vec!["forward"],
        vec!["approve"],
        vec!["reject"],
        vec!["issue"],
        vec!["print"],
        vec!["sms"],
        vec!["revoke"],
        vec!["audit"],
        vec!["bundle"],
        vec!["keys"],
        vec!["keys", "list"],
        vec!["keys", "rotate"],
        vec!["keys", "export"],
        vec!["registry"],
        vec!["registry", "show"],
        vec!["registry", "load"],
        vec!["policy"],
        vec!["policy", "show"],
        vec!["policy", "set"],
        vec!["keys", "revoke"],
        vec!["db"],
        vec!["db", "copy"],
        vec!["user"],
        vec!["user", "add"],
        vec!["user", "list"],
        vec!["user", "disable"],
        vec!["user", "enable"],
        vec!["user", "password"],
    ] {
        let mut args = sub.clone();
        args.push("--help");
        let out = env.ok(&args);
        assert!(out.contains("Usage: issuer"), "{sub:?}: {out}");
    }
}

/// The expected refusals: application number → reason, from bad-rows.csv.
fn expected_bad_rows() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(samples().join("bad-rows.csv")).unwrap();
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (no, reason) = l.split_once(',').unwrap();
            (no.trim().to_string(), reason.trim().to_string())
        })
        .collect()
}

#[test]
fn every_bad_row_of_the_sample_is_caught_with_its_reason() {
    let expected = expected_bad_rows();
    assert_eq!(expected.len(), 9);
    for file in [
        "applications.xlsx",
        "applications.csv",
        "applications-gbk.csv",
    ] {
        let env = Env::init();
        let path = samples().join(file);
        let out = env.run(&["import", path.to_str().unwrap(), "--json"]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{file}: bad rows give exit status 2"
        );
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut found = BTreeMap::new();
        for r in report["refused"].as_array().unwrap() {
            let problems = r["problems"].as_array().unwrap();
            assert_eq!(problems.len(), 1, "{file}: {r}");
            assert!(r["row"].as_u64().unwrap() >= 2);
            // Each problem carries its stable code and the English text beside the Chinese.
            let code = problems[0]["code"].as_str().unwrap();
            assert!(
                !code.is_empty() && code.chars().all(|c| c.is_ascii_uppercase() || c == '_'),
                "{r}"
            );
            assert!(
                !problems[0]["reason_en"].as_str().unwrap().is_empty(),
                "{r}"
            );
            found.insert(
                r["app_no"].as_str().unwrap().to_string(),
                problems[0]["reason"].as_str().unwrap().to_string(),
            );
        }
        assert_eq!(found, expected, "{file}");
        assert_eq!(report["imported"], 40, "{file}");
        assert_eq!(report["rows"], 49, "{file}");
        // The human listing names the row and the reason too.
        let text = env.run(&["import", path.to_str().unwrap()]);
        let stdout = String::from_utf8(text.stdout).unwrap();
        assert!(
            stdout.contains("第5行 SQ003-0041：身份证号校验位错误"),
            "{stdout}"
        );
        assert!(
            stdout.contains("导入 0 行，已导入过 40 行，拒绝 9 行"),
            "{stdout}"
        );
    }
}

/// Stored application data without where and when it was imported.
fn stored_rows(env: &Env) -> Vec<Value> {
    env.json(&["list"])
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let mut a = a.clone();
            let o = a.as_object_mut().unwrap();
            for k in ["source_file", "imported_at"] {
                o.remove(k);
            }
            a
        })
        .collect()
}

#[test]
fn xlsx_utf8_csv_and_gbk_csv_give_the_same_rows_and_reimport_adds_nothing() {
    let mut results = Vec::new();
    for file in [
        "applications.xlsx",
        "applications.csv",
        "applications-gbk.csv",
    ] {
        let env = Env::init();
        let report = env.json(&["import", samples().join(file).to_str().unwrap()]);
        let expected_encoding = match file {
            "applications.xlsx" => "workbook",
            "applications.csv" => "utf-8",
            _ => "gbk",
        };
        assert_eq!(report["encodings"][0], expected_encoding);
        results.push(stored_rows(&env));
    }
    assert_eq!(results[0].len(), 40);
    assert_eq!(results[0], results[1]);
    assert_eq!(results[0], results[2]);

    // Importing the same applications again, from any of the three files, stores nothing twice.
    let env = Env::init();
    for file in [
        "applications.xlsx",
        "applications.xlsx",
        "applications.csv",
        "applications-gbk.csv",
    ] {
        env.json(&["import", samples().join(file).to_str().unwrap()]);
    }
    assert_eq!(env.statuses().len(), 40);
    let imports = env
        .json(&["audit"])
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "import")
        .count();
    assert_eq!(imports, 40);
}

#[test]
fn workflow_with_who_and_when_and_illegal_transitions_refused() {
    let env = Env::init();
    env.import_sample();
    let err = env.fails(&["approve", "SQ003-0001"]);
    assert!(err.contains("不能批准") && err.contains("已提交"), "{err}");
    let err = env.fails(&["issue", "SQ003-0001"]);
    assert!(err.contains("不能签发"), "{err}");
    let err = env.fails(&["reject", "SQ003-0001", "--reason", "x"]);
    assert!(err.contains("不能驳回"), "{err}");
    env.fails(&["forward", "NO-SUCH"]);
    // A reject needs a reason (clap refuses with its usage error, exit 2).
    assert_eq!(env.run(&["reject", "SQ003-0001"]).status.code(), Some(2));

    env.ok(&[
        "forward",
        "SQ003-0001",
        "SQ083-0002",
        "SQ083-0003",
        "--by",
        "文登区联络员",
    ]);
    let err = env.fails(&["forward", "SQ003-0001"]);
    assert!(err.contains("不能转报"), "{err}");
    // All or nothing: one illegal change in a list changes none.
    env.fails(&["approve", "SQ083-0002", "SQ072-0004"]);
    assert_eq!(env.json(&["show", "SQ083-0002"])["status"], "forwarded");

    env.ok(&["approve", "SQ003-0001", "--by", "市专班"]);
    env.ok(&[
        "reject",
        "SQ083-0002",
        "--reason",
        "路线与货物不符",
        "--by",
        "市专班",
    ]);
    let err = env.fails(&["approve", "SQ083-0002"]);
    assert!(err.contains("已驳回"), "{err}");
    // A serial the store never issued (a forgery seen in the field) is revoked all the same,
    // and said to be foreign.
    let forged = checkpass::pass::Serial(9_999_999_990).to_string();
    let out = env.ok(&["revoke", &forged, "--reason", "检查站发现伪造"]);
    assert!(out.contains("从未签发"), "{out}");
    let revoked = env.json(&["revoke", &forged, "--reason", "again"]);
    assert_eq!(revoked["issued_here"], false);

    let shown = env.json(&["show", "SQ003-0001"]);
    assert_eq!(shown["status"], "approved");
    assert_eq!(shown["forwarded_by"], "文登区联络员");
    assert_eq!(shown["decided_by"], "市专班");
    assert!(shown["decided_at"].as_i64().unwrap() >= shown["forwarded_at"].as_i64().unwrap());
    let rejected = env.json(&["show", "SQ083-0002"]);
    assert_eq!(rejected["reject_reason"], "路线与货物不符");

    // Filters.
    let listed = |args: &[&str]| -> BTreeSet<String> {
        let mut all = vec!["list"];
        all.extend_from_slice(args);
        env.json(&all)
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["app_no"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        listed(&["--status", "approved"]),
        BTreeSet::from(["SQ003-0001".to_string()])
    );
    assert_eq!(
        listed(&["--status", "rejected"]),
        BTreeSet::from(["SQ083-0002".to_string()])
    );
    assert_eq!(
        listed(&["--plate", "鲁kp20xl"]),
        BTreeSet::from(["SQ003-0001".to_string()])
    );
    let district = listed(&["--district", "371083"]);
    assert!(district.contains("SQ083-0003") && !district.contains("SQ003-0001"));
    assert_eq!(listed(&[]).len(), 40);
    assert!(env.ok(&["list"]).contains("共 40 份申请"));

    // Every change is in the audit trail, with who.
    let trail = env.json(&["audit", "SQ083-0002"]);
    let steps: Vec<(String, String)> = trail
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["actor"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("import".to_string(), "测试员".to_string()),
            ("forward".to_string(), "文登区联络员".to_string()),
            ("reject".to_string(), "市专班".to_string())
        ]
    );
    assert!(env.ok(&["audit"]).contains("reject"));
}

fn issue_json(env: &Env, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["issue"];
    all.extend_from_slice(args);
    let v = env.json(&all);
    v["passes"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"))
        .clone()
}

#[test]
fn issuing_writes_every_file_and_is_idempotent() {
    let env = Env::init();
    env.import_sample();
    env.ok(&["forward", "SQ003-0001", "SQ083-0002"]);
    env.ok(&["approve", "SQ003-0001", "SQ083-0002"]);

    let first = issue_json(&env, &["SQ003-0001"]);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0]["new"], true);
    let serial = first[0]["serial"].as_str().unwrap().to_string();
    let dir = env.data().join("passes").join(&serial);
    for f in ALL_FILES {
        let meta = std::fs::metadata(dir.join(f)).unwrap_or_else(|_| panic!("{f} missing"));
        assert!(meta.len() > 0, "{f} empty");
    }
    let qr = std::fs::read_to_string(dir.join("qr.txt")).unwrap();
    assert!(qr.starts_with("TP1:"), "{qr}");
    let sms = std::fs::read_to_string(dir.join("sms.txt")).unwrap();
    // The SMS names the pass by its national number (district 371003, a check character).
    let number = first[0]["number"].as_str().unwrap();
    assert!(number.starts_with("371003-"), "{number}");
    assert!(sms.contains("鲁KP20XL") && sms.contains(number), "{sms}");
    assert!(std::fs::read(dir.join("pass.pdf"))
        .unwrap()
        .starts_with(b"%PDF"));
    assert!(std::fs::read(dir.join("pass.png"))
        .unwrap()
        .starts_with(b"\x89PNG"));

    // Again, by application number and by serial: the same pass, nothing new.
    for id in ["SQ003-0001", serial.as_str()] {
        let again = issue_json(&env, &[id]);
        assert_eq!(again[0]["serial"], serial.as_str());
        assert_eq!(again[0]["new"], false);
    }
    assert_eq!(std::fs::read_to_string(dir.join("qr.txt")).unwrap(), qr);
    // --all issues only the other approved application.
    let rest = issue_json(&env, &["--all", "--formats", "svg"]);
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0]["app_no"], "SQ083-0002");
    assert!(issue_json(&env, &["--all"]).is_empty());
    // That pass was written as SVG only; asking for it again with every format fills in the
    // missing files around the same signed text and leaves the existing ones alone.
    let svg_only = env
        .data()
        .join("passes")
        .join(rest[0]["serial"].as_str().unwrap());
    assert!(!svg_only.join("pass.pdf").exists());
    let svg_before = std::fs::read(svg_only.join("qr.svg")).unwrap();
    let qr_before = std::fs::read_to_string(svg_only.join("qr.txt")).unwrap();
    std::fs::remove_file(svg_only.join("sms.txt")).unwrap();
    let again = issue_json(&env, &["SQ083-0002"]);
    assert_eq!(again[0]["new"], false);
    assert_eq!(again[0]["serial"], rest[0]["serial"]);
    for f in ALL_FILES {
        assert!(svg_only.join(f).is_file(), "{f} not filled in");
    }
    assert_eq!(std::fs::read(svg_only.join("qr.svg")).unwrap(), svg_before);
    assert_eq!(
        std::fs::read_to_string(svg_only.join("qr.txt")).unwrap(),
        qr_before
    );
    let leftovers: Vec<_> = std::fs::read_dir(env.data().join("passes"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(
        leftovers.is_empty(),
        "temporary folders left: {leftovers:?}"
    );
    let issued: Vec<_> = env
        .json(&["audit"])
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "issue")
        .cloned()
        .collect();
    assert_eq!(issued.len(), 2);
    let shown = env.json(&["show", &serial]);
    assert_eq!(shown["app_no"], "SQ003-0001");
    assert_eq!(shown["pass"]["qr_text"].as_str().unwrap(), qr.trim_end());
    assert_eq!(shown["pass"]["state"], "issued");
}

fn read_root(env: &Env) -> checkpass::keys::PublicKey {
    let out = env.path("pub");
    env.ok(&["keys", "export", "--out", out.to_str().unwrap()]);
    let (key, role) =
        parse_public_key_file(&std::fs::read_to_string(out.join("root.pub")).unwrap()).unwrap();
    assert_eq!(role, KeyRole::Root);
    key
}

#[test]
fn a_scoped_key_signs_only_inside_its_scope_and_the_bundle_carries_it() {
    let env = Env::init();
    env.import_sample();
    env.ok(&["forward", "--all"]);
    env.ok(&["approve", "SQ003-0001", "SQ083-0002"]);
    // A bad list is refused before anything changes.
    let err = env.fails(&["keys", "rotate", "--districts", "37108x"]);
    assert!(err.contains("37108x"), "{err}");
    let err = env.fails(&["keys", "rotate", "--categories", "危险品"]);
    assert!(err.contains("危险品"), "{err}");
    assert_eq!(env.json(&["keys", "list"]).as_array().unwrap().len(), 2);

    let rotated = env.json(&["keys", "rotate", "--districts", "371083,3711"]);
    assert_eq!(
        rotated["scope_districts"],
        serde_json::json!(["371083", "3711"])
    );
    let listed = env.ok(&["keys", "list"]);
    assert!(
        listed.contains("范围: 区划 371083,3711；类别 全部"),
        "{listed}"
    );
    assert!(
        listed.contains("范围: 全部"),
        "the retired key is unscoped: {listed}"
    );

    // SQ003-0001 is from district 371003: outside the key's scope, not signed.
    let err = env.fails(&["issue", "SQ003-0001", "--formats", "svg"]);
    assert!(
        err.contains("无权签发") && err.contains("区划 371003"),
        "{err}"
    );
    assert_eq!(env.json(&["show", "SQ003-0001"])["status"], "approved");
    // SQ083-0002 (371083) is inside.
    let issued = issue_json(&env, &["SQ083-0002", "--formats", "svg"]);
    assert_eq!(issued.len(), 1);
    let qr = env.json(&["show", "SQ083-0002"])["pass"]["qr_text"]
        .as_str()
        .unwrap()
        .to_string();

    let root = read_root(&env);
    let bundle_path = env.path("bundle.cose");
    env.ok(&["bundle", "--out", bundle_path.to_str().unwrap()]);
    let bundle =
        checkpass::bundle::open_bundle(&std::fs::read(&bundle_path).unwrap(), &root, None).unwrap();
    let scoped: Vec<_> = bundle
        .keys
        .iter()
        .filter(|k| !k.scope.is_unrestricted())
        .collect();
    assert_eq!(scoped.len(), 1);
    assert_eq!(scoped[0].scope.districts, ["371083", "3711"]);
    assert!(scoped[0].scope.categories.is_empty());
    let shown = env.json(&["show", "SQ083-0002"]);
    let start = shown["start_at"].as_i64().unwrap();
    let first = checkpass::wire::decode_qr_text(&qr)
        .unwrap()
        .pass()
        .unwrap()
        .body
        .route[0]
        .clone();
    let v = checkpass::rules::verify(&qr, &bundle, &first, start + 60);
    assert!(
        !v.has(checkpass::verdict::ReasonCode::KeyOutOfScope),
        "{:?}",
        v.reasons
    );

    // Categories too: a key for finished products refuses a raw-materials application.
    env.ok(&["keys", "rotate", "--categories", "产成品"]);
    let err = env.fails(&["issue", "SQ003-0001", "--formats", "svg"]);
    assert!(err.contains("类别 工业原材料"), "{err}");
}

#[test]
fn keys_rotation_bundle_and_revocation() {
    let env = Env::init();
    env.import_sample();
    env.ok(&["forward", "--all"]);
    env.ok(&["approve", "SQ003-0001", "SQ083-0002"]);
    let a = issue_json(&env, &["SQ003-0001", "--formats", "svg"]);
    let keys = env.json(&["keys", "list"]);
    assert_eq!(keys.as_array().unwrap().len(), 2);
    assert_eq!(keys[0]["role"], "root");
    assert_eq!(keys[1]["role"], "signing");
    assert_eq!(keys[1]["public_key"].as_str().unwrap().len(), 64);
    let old_kid = keys[1]["kid"].as_str().unwrap().to_string();

    env.ok(&["keys", "rotate"]);
    let b = issue_json(&env, &["SQ083-0002", "--formats", "svg"]);
    let keys = env.json(&["keys", "list"]);
    let by_kid: BTreeMap<String, (String, String)> = keys
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["kid"].as_str().unwrap().to_string(),
                (
                    k["role"].as_str().unwrap().to_string(),
                    k["status"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect();
    assert_eq!(by_kid.len(), 3);
    assert_eq!(
        by_kid[&old_kid],
        ("signing".to_string(), "retired".to_string())
    );
    let pass_a = env.json(&["show", "SQ003-0001"])["pass"].clone();
    let pass_b = env.json(&["show", "SQ083-0002"])["pass"].clone();
    assert_eq!(pass_a["kid"], old_kid.as_str());
    assert_ne!(pass_b["kid"], old_kid.as_str());

    let root = read_root(&env);
    let exported: Vec<_> = std::fs::read_dir(env.path("pub"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(
        exported.len(),
        4,
        "root.pub, root-<kid>.pub and two signing keys: {exported:?}"
    );

    let bundle_path = env.path("bundle.cose");
    let info = env.json(&["bundle", "--out", bundle_path.to_str().unwrap()]);
    assert_eq!(info["sequence"], 1);
    let bundle =
        checkpass::bundle::open_bundle(&std::fs::read(&bundle_path).unwrap(), &root, None).unwrap();
    assert_eq!(
        bundle.keys.len(),
        2,
        "the bundle carries the old and the new signing key"
    );
    assert_eq!(bundle.checkpoints.len(), 12);
    assert!(bundle.revoked.is_empty());

    // Both passes verify at their first checkpoint when their window starts.
    let check = |qr: &str, app: &str, b: &checkpass::bundle::TrustBundle| {
        let shown = env.json(&["show", app]);
        let start = shown["start_at"].as_i64().unwrap();
        let first = shown["route"][0].as_str().unwrap().to_string();
        checkpass::rules::verify(qr, b, &first, start + 60)
    };
    for (p, app) in [(&pass_a, "SQ003-0001"), (&pass_b, "SQ083-0002")] {
        let v = check(p["qr_text"].as_str().unwrap(), app, &bundle);
        assert!(v.pass.is_some());
        assert_ne!(v.level(), Level::Red, "{app}: {:?}", v.codes());
    }

    // Revoke A; the next bundle has a higher sequence number and lists it.
    let serial_a = a[0]["serial"].as_str().unwrap();
    assert_eq!(
        env.run(&["revoke", serial_a]).status.code(),
        Some(2),
        "--reason is required"
    );
    env.ok(&["revoke", serial_a, "--reason", "车辆信息有误"]);
    env.fails(&["revoke", serial_a, "--reason", "again"]);
    assert_eq!(env.json(&["show", "SQ003-0001"])["status"], "revoked");
    let info = env.json(&["bundle", "--out", bundle_path.to_str().unwrap()]);
    assert_eq!(info["sequence"], 2);
    let bundle =
        checkpass::bundle::open_bundle(&std::fs::read(&bundle_path).unwrap(), &root, Some(1))
            .unwrap();
    assert_eq!(bundle.sequence, 2);
    let v = check(pass_a["qr_text"].as_str().unwrap(), "SQ003-0001", &bundle);
    assert!(v.has(ReasonCode::Revoked), "{:?}", v.codes());
    let v = check(pass_b["qr_text"].as_str().unwrap(), "SQ083-0002", &bundle);
    assert!(!v.has(ReasonCode::Revoked));
    // Issuing a revoked application gives back the same (revoked) pass, never a new one, and
    // writes none of its files again.
    let dir_a = env.data().join("passes").join(serial_a);
    std::fs::remove_dir_all(&dir_a).unwrap();
    let again = issue_json(&env, &["SQ003-0001"]);
    assert_eq!(again[0]["serial"], serial_a);
    assert_eq!(again[0]["new"], false);
    assert_eq!(again[0]["revoked"], true);
    assert!(!dir_a.exists(), "a revoked pass was written again");
    let actions: BTreeSet<String> = env
        .json(&["audit"])
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    for a in [
        "keys.add",
        "bundle.export",
        "revoke",
        "issue",
        "registry.load",
    ] {
        assert!(actions.contains(a), "{a} missing from {actions:?}");
    }
    let _ = b;
}

#[test]
fn wrong_passphrase_changes_nothing() {
    let env = Env::init();
    env.approve_all_from(&samples().join("applications.csv"));
    let out = env
        .command(&["issue", "--all"])
        .env("ISSUER_PASSPHRASE", "wrong")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("口令错误"), "{stderr}");
    assert!(env.statuses().iter().all(|(_, s)| s == "approved"));
    assert!(env.pass_dirs().is_empty());
    for args in [
        &["keys", "rotate"][..],
        &["bundle", "--out", env.path("b").to_str().unwrap()],
    ] {
        let out = env
            .command(args)
            .env("ISSUER_PASSPHRASE", "wrong")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("口令错误"));
    }
    assert_eq!(env.json(&["keys", "list"]).as_array().unwrap().len(), 2);
    assert!(!env.path("b").exists());
}

#[test]
fn bad_input_gives_a_clear_message_and_writes_nothing() {
    let env = Env::new();
    let err = env.fails(&["list"]);
    assert!(err.contains("尚未初始化"), "{err}");
    let err = env.fails(&[
        "import",
        samples().join("applications.csv").to_str().unwrap(),
    ]);
    assert!(err.contains("尚未初始化"), "{err}");
    // A bad registry file leaves no data directory behind.
    let png = env.path("picture.png");
    std::fs::write(&png, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0").unwrap();
    let err = env.fails(&["init", "--checkpoints", png.to_str().unwrap()]);
    assert!(err.contains("文件类型不支持"), "{err}");
    assert!(!env.data().exists());
    let err = env.fails(&[
        "init",
        "--districts",
        samples().join("checkpoints.csv").to_str().unwrap(),
    ]);
    assert!(err.contains("缺少列"), "{err}");
    assert!(!env.data().exists());
    assert!(std::fs::read_dir(env.dir.path())
        .unwrap()
        .flatten()
        .all(|e| !e.file_name().to_string_lossy().starts_with(".issuer-init")));

    let env = Env::init();
    let err = env.fails(&["init"]);
    assert!(err.contains("已经初始化"), "{err}");
    let err = env.fails(&["import", png.to_str().unwrap()]);
    assert!(err.contains("文件类型不支持"), "{err}");
    let fake = env.path("fake.xlsx");
    std::fs::write(&fake, "申请编号,车牌号\n").unwrap();
    let err = env.fails(&["import", fake.to_str().unwrap()]);
    assert!(err.contains("不是可读的 Excel 文件"), "{err}");
    let partial = env.path("partial.csv");
    std::fs::write(&partial, "申请编号,车牌号\nSQ1,鲁K12345\n").unwrap();
    let err = env.fails(&["import", partial.to_str().unwrap()]);
    assert!(
        err.contains("缺少列") && err.contains("驾驶人员姓名"),
        "{err}"
    );
    let err = env.fails(&["import", env.path("nope.csv").to_str().unwrap()]);
    assert!(err.contains("无法读取文件"), "{err}");
    // A good file listed after a bad one: nothing is imported.
    let err = env.fails(&[
        "import",
        samples().join("applications.csv").to_str().unwrap(),
        png.to_str().unwrap(),
    ]);
    assert!(err.contains("picture.png"), "{err}");
    assert!(env.statuses().is_empty());
    let err = env.fails(&["revoke", "123", "--reason", "x"]);
    assert!(err.contains("通行证编号"), "{err}");
}

#[cfg(unix)]
#[test]
fn a_key_file_others_can_read_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::init();
    env.approve_all_from(&samples().join("applications.csv"));
    let keys_dir = env.data().join("keys");
    let mut files = Vec::new();
    for e in std::fs::read_dir(&keys_dir).unwrap().flatten() {
        assert_eq!(
            e.metadata().unwrap().permissions().mode() & 0o777,
            0o600,
            "{:?}",
            e.path()
        );
        files.push(e.path());
    }
    assert_eq!(files.len(), 2);
    for f in &files {
        std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let err = env.fails(&["issue", "--all"]);
    assert!(err.contains("权限"), "{err}");
    assert!(env.pass_dirs().is_empty());
}

#[test]
fn xlsx_with_date_cells_reordered_and_extra_columns() {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let env = Env::init();
    let path = env.path("reordered.xlsx");
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    // Columns in another order, with a 备注 column of the district's own; no 挂车号 column.
    let headers = [
        "备注",
        "拟通行开始时间",
        "申请编号",
        "车牌号",
        "申请人类型",
        "所属区市",
        "驾驶人员姓名",
        "身份证号",
        "联系方式",
        "随车人员数",
        "货物类别",
        "货物名称",
        "起运地点",
        "运送地点",
        "拟通行结束时间",
        "拟通行路线",
        "核酸采样时间",
        "核酸检测结果",
    ];
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    let fmt = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    let start = ExcelDateTime::from_ymd(2022, 3, 12)
        .unwrap()
        .and_hms(19, 0, 0)
        .unwrap();
    let end = ExcelDateTime::from_ymd(2022, 3, 14)
        .unwrap()
        .and_hms(19, 0, 0)
        .unwrap();
    let sampled = ExcelDateTime::from_ymd(2022, 3, 11)
        .unwrap()
        .and_hms(22, 0, 0)
        .unwrap();
    sheet.write_string(1, 0, "加急").unwrap();
    sheet
        .write_datetime_with_format(1, 1, &start, &fmt)
        .unwrap();
    for (c, v) in [
        (2, "SQ003-0001"),
        (3, "鲁KP20XL"),
        (4, "收货人"),
        (6, "邓丽伟"),
        (7, "320102199210156657"),
    ] {
        sheet.write_string(1, c, v).unwrap();
    }
    // Codes and phone numbers typed as numbers, as Excel does unless told otherwise.
    sheet.write_number(1, 5, 371003).unwrap();
    sheet.write_number(1, 8, 18635013331.0).unwrap();
    sheet.write_number(1, 9, 1).unwrap();
    for (c, v) in [
        (10, "工业原材料"),
        (11, "塑料粒子"),
        (12, "环翠区张村镇工业园"),
        (13, "环翠区羊亭镇物流中心"),
        (15, "C201→C101"),
        (17, "阴性"),
    ] {
        sheet.write_string(1, c, v).unwrap();
    }
    sheet.write_datetime_with_format(1, 14, &end, &fmt).unwrap();
    sheet
        .write_datetime_with_format(1, 16, &sampled, &fmt)
        .unwrap();
    book.save(&path).unwrap();

    let report = env.json(&["import", path.to_str().unwrap()]);
    assert_eq!(report["imported"], 1, "{report}");
    let from_xlsx = stored_rows(&env);
    // The same application from the sample CSV is recognised as already imported.
    let again = env.json(&[
        "import",
        samples().join("applications.csv").to_str().unwrap(),
    ]);
    assert_eq!(again["already_imported"], 1, "{again}");
    assert_eq!(from_xlsx[0]["start_at"], 1_647_082_800);
    assert_eq!(from_xlsx[0]["mobile"], "18635013331");
    assert_eq!(from_xlsx[0]["district"], 371003);
}

/// `init` with neither registry file loads the built-in sample (and says so), the same as the
/// files in samples/weihai; with only one file, the other table stays empty and an import
/// says how to load it.
#[test]
fn init_without_registry_files_loads_the_built_in_sample() {
    let built_in = Env::new();
    let out = built_in.ok(&["init"]);
    assert!(out.contains("内置的威海示例表"), "{out}");
    let from_files = Env::init();
    assert_eq!(
        built_in.json(&["registry", "show"]),
        from_files.json(&["registry", "show"])
    );
    // The sample applications import against it (the bad rows refused).
    built_in.import_sample();

    let partial = Env::new();
    let out = partial.ok(&[
        "init",
        "--districts",
        samples().join("districts.csv").to_str().unwrap(),
    ]);
    assert!(!out.contains("内置"), "{out}");
    assert_eq!(
        partial.json(&["registry", "show"])["checkpoints"],
        serde_json::json!([])
    );
    let err = partial.fails(&[
        "import",
        samples().join("applications.csv").to_str().unwrap(),
    ]);
    assert!(err.contains("issuer registry load --checkpoints"), "{err}");
}

/// The registry and the policy change after init, through the audit trail, and reach the
/// checkpoints in the next bundle; a reload that would strand live applications is refused.
#[test]
fn registry_and_policy_change_after_init() {
    let env = Env::init();
    let at_sample_time = |args: &[&str]| {
        let mut cmd = env.command(args);
        cmd.env("ISSUER_NOW", "2022-03-12T09:00:00+08:00");
        cmd.output().unwrap()
    };
    let shown = env.json(&["registry", "show"]);
    assert_eq!(shown["checkpoints"].as_array().unwrap().len(), 12);
    let districts = shown["districts"].as_array().unwrap().len();
    assert!(districts > 0);
    env.import_sample();

    // Without C101, which live applications use: refused, nothing changed.
    let original = std::fs::read_to_string(samples().join("checkpoints.csv")).unwrap();
    let without_c101: String = original
        .lines()
        .filter(|l| !l.starts_with("C101,"))
        .map(|l| format!("{l}\n"))
        .collect();
    let file = env.path("checkpoints-new.csv");
    std::fs::write(&file, &without_c101).unwrap();
    let out = at_sample_time(&["registry", "load", "--checkpoints", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("C101") && stderr.contains("未做任何修改"),
        "{stderr}"
    );
    // The simulated clock never goes unannounced.
    assert!(
        stderr.contains("模拟时间 ISSUER_NOW=2022-03-12 09:00"),
        "{stderr}"
    );
    assert_eq!(
        env.json(&["registry", "show"])["checkpoints"]
            .as_array()
            .unwrap()
            .len(),
        12
    );

    // A new checkpoint added to the full list: loaded, audited, in the next bundle.
    std::fs::write(
        &file,
        format!("{original}C113,测试新增收费站,371002,G18荣乌高速\n"),
    )
    .unwrap();
    let out = at_sample_time(&["registry", "load", "--checkpoints", file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown = env.json(&["registry", "show"]);
    assert_eq!(shown["checkpoints"].as_array().unwrap().len(), 13);
    assert_eq!(
        shown["districts"].as_array().unwrap().len(),
        districts,
        "districts kept"
    );
    assert!(env.ok(&["registry", "show"]).contains("测试新增收费站"));

    // Policy: defaults, a change, refusals.
    let policy = env.json(&["policy", "show"]);
    assert_eq!(policy["max_test_age_secs"], 48 * 3600);
    let changed = env.json(&[
        "policy",
        "set",
        "--max-test-age-hours",
        "24",
        "--repeat-window-minutes",
        "5",
    ]);
    assert_eq!(changed["max_test_age_secs"], 24 * 3600);
    assert_eq!(changed["repeat_window_secs"], 300);
    assert_eq!(
        changed["clock_skew_secs"], policy["clock_skew_secs"],
        "others kept"
    );
    let err = env.fails(&["policy", "set", "--max-test-age-hours", "0"]);
    assert!(err.contains("--max-test-age-hours"), "{err}");
    assert_eq!(
        env.run(&["policy", "set"]).status.code(),
        Some(2),
        "no item given"
    );
    assert_eq!(env.json(&["policy", "show"]), changed);

    let audit = env.json(&["audit"]);
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(actions.contains(&"policy.set"), "{actions:?}");
    assert_eq!(actions.iter().filter(|a| **a == "registry.load").count(), 2);
    // Filtered, as the admin's page filters it: by action (and its family), actor, days.
    let count = |args: &[&str]| {
        let mut all = vec!["audit"];
        all.extend_from_slice(args);
        env.json(&all).as_array().unwrap().len()
    };
    assert_eq!(count(&["--action", "policy"]), 1);
    assert_eq!(
        count(&["--action", "registry.load", "--actor", "测试员"]),
        2
    );
    assert_eq!(count(&["--actor", "someone else"]), 0);
    assert_eq!(
        count(&[
            "--action",
            "registry.load",
            "--from",
            "2022-03-12",
            "--to",
            "2022-03-12"
        ]),
        2
    );
    assert_eq!(
        count(&["--action", "registry.load", "--to", "2022-03-11"]),
        0
    );
    assert!(env.fails(&["audit", "--from", "soon"]).contains("无法识别"));

    let bundle_path = env.path("bundle.cose");
    env.ok(&["bundle", "--out", bundle_path.to_str().unwrap()]);
    let bundle = checkpass::bundle::open_bundle(
        &std::fs::read(&bundle_path).unwrap(),
        &read_root(&env),
        None,
    )
    .unwrap();
    assert_eq!(bundle.checkpoints.len(), 13);
    assert!(bundle.checkpoints.iter().any(|c| c.code == "C113"));
    assert_eq!(bundle.policy.max_test_age_secs, 24 * 3600);
    assert_eq!(bundle.policy.repeat_window_secs, 300);

    // A malformed file: a clear error naming it, nothing changed.
    let bad = env.path("bad.csv");
    std::fs::write(&bad, "编码,名称\nC1,x\n").unwrap();
    let err = env.fails(&["registry", "load", "--checkpoints", bad.to_str().unwrap()]);
    assert!(err.contains("bad.csv"), "{err}");
    assert_eq!(
        env.json(&["registry", "show"])["checkpoints"]
            .as_array()
            .unwrap()
            .len(),
        13
    );
}

/// `print` puts issued passes into one PDF, a page each, in serial order, and `sms` lists their
/// messages for the SMS gateway; revoked and unissued passes are refused by name and left out
/// of `--all`.
#[test]
fn print_and_sms_outbox_take_the_issued_passes() {
    let env = Env::init();
    env.import_sample();
    let apps = ["SQ003-0001", "SQ083-0002", "SQ003-0006"];
    env.ok(&["forward", "--all"]);
    env.ok(&["approve", apps[0], apps[1], apps[2]]);
    let issued = issue_json(&env, &[apps[0], "--formats", "png"]);
    let a = issued[0]["serial"].as_str().unwrap().to_string();
    let b = issue_json(&env, &[apps[1], "--formats", "png"])[0]["serial"]
        .as_str()
        .unwrap()
        .to_string();
    let c = issue_json(&env, &[apps[2], "--formats", "png"])[0]["serial"]
        .as_str()
        .unwrap()
        .to_string();
    let number = |app: &str| {
        let shown = env.ok(&["show", app]);
        shown
            .lines()
            .find_map(|l| l.strip_prefix("通行证     "))
            .and_then(|l| l.split('（').next())
            .unwrap_or_else(|| panic!("{shown}"))
            .to_string()
    };
    let (na, nb, nc) = (number(apps[0]), number(apps[1]), number(apps[2]));
    // A pass number whose district is not the pass's is refused; the right one revokes it.
    let wrong_area = checkpass::number::PassNumber::new(
        110105,
        nb[7..13]
            .parse::<u64>()
            .map(checkpass::pass::Serial)
            .unwrap(),
    )
    .unwrap();
    let err = env.fails(&["revoke", &wrong_area.to_string(), "--reason", "测试撤销"]);
    assert!(err.contains("区划代码"), "{err}");
    env.ok(&["revoke", &nb, "--reason", "测试撤销"]);
    assert_eq!(env.json(&["show", &b])["status"], "revoked");

    let out = env.path("batch.pdf");
    let printed = env.json(&["print", "--all", "--out", out.to_str().unwrap()]);
    assert_eq!(printed["pages"], 2, "{printed}");
    assert_eq!(printed["serials"], serde_json::json!([a, c]));
    let pdf = std::fs::read(&out).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    match std::process::Command::new("pdftotext")
        .arg(&out)
        .arg("-")
        .output()
    {
        Ok(o) => {
            assert!(o.status.success());
            let text = String::from_utf8_lossy(&o.stdout);
            let pages: Vec<&str> = text
                .split('\u{c}')
                .filter(|p| !p.trim().is_empty())
                .collect();
            assert_eq!(pages.len(), 2, "{text}");
            assert!(pages[0].contains(&na) && pages[1].contains(&nc), "{text}");
            assert!(!text.contains(&nb), "a revoked pass was printed");
        }
        Err(e) if std::env::var_os("CI").is_none() => eprintln!("skipping pdftotext: {e}"),
        Err(e) => panic!("pdftotext: {e}; CI must have poppler-utils"),
    }

    // By id, in serial order whatever the order given.
    let two = env.path("two.pdf");
    let printed = env.json(&["print", &c, apps[0], "--out", two.to_str().unwrap()]);
    assert_eq!(printed["serials"], serde_json::json!([a, c]));

    let err = env.fails(&["print", &b, "--out", two.to_str().unwrap()]);
    assert!(err.contains("已撤销"), "{err}");
    env.ok(&["approve", "SQ083-0003"]);
    let err = env.fails(&["print", "SQ083-0003", "--out", two.to_str().unwrap()]);
    assert!(err.contains("尚未签发"), "{err}");
    let err = env.fails(&[
        "print",
        "--all",
        "--district",
        "999999",
        "--out",
        two.to_str().unwrap(),
    ]);
    assert!(err.contains("没有可打印"), "{err}");
    assert_eq!(env.run(&["print", "--out", "x.pdf"]).status.code(), Some(2));

    // The SMS outbox: one row per issued, unrevoked pass, with the driver's phone number and
    // the same text as the pass folder's sms.txt.
    let outbox = env.path("outbox.csv");
    let sent = env.json(&["sms", "--all", "--out", outbox.to_str().unwrap()]);
    assert_eq!(sent["messages"], 2, "{sent}");
    let bytes = std::fs::read(&outbox).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "UTF-8 BOM for Excel");
    let mut rows = csv::Reader::from_reader(&bytes[3..]);
    assert_eq!(
        rows.headers().unwrap().iter().collect::<Vec<_>>(),
        ["手机号码", "短信内容", "申请编号", "通行证编号"]
    );
    let rows: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    let shown = env.json(&["show", apps[0]]);
    assert_eq!(&rows[0][0], shown["mobile"].as_str().unwrap());
    assert_eq!(rows[0][0].len(), 11);
    let sms_txt =
        std::fs::read_to_string(env.data().join("passes").join(&a).join("sms.txt")).unwrap();
    assert_eq!(&rows[0][1], sms_txt.trim_end());
    assert_eq!((&rows[0][2], &rows[0][3]), (apps[0], na.as_str()));
    assert_eq!(&rows[1][3], nc.as_str());
    let err = env.fails(&[
        "sms",
        "--all",
        "--since",
        "2099-01-01 00:00",
        "--out",
        "o.csv",
    ]);
    assert!(err.contains("没有需要发送短信"), "{err}");
    let err = env.fails(&["sms", "--all", "--since", "yesterday", "--out", "o.csv"]);
    assert!(err.contains("yesterday"), "{err}");
    let err = env.fails(&["sms", &b, "--out", "o.csv"]);
    assert!(err.contains("已撤销"), "{err}");
}

/// A reader that stops early (`issuer list | head`) ends the issuer the way it ends other Unix
/// tools, by SIGPIPE, silently: never a panic message about printing.
#[cfg(unix)]
#[test]
fn a_closed_output_pipe_ends_the_issuer_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let env = Env::init();
    env.import_sample();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = env.command(&["list"]).stdout(writer).output().unwrap();
    // 13 is SIGPIPE on Linux and the BSDs.
    assert_eq!(out.status.signal(), Some(13), "{:?}", out.status);
    assert_eq!(
        without_clock_note(&String::from_utf8_lossy(&out.stderr)),
        ""
    );
}

/// An approved application that can never become a pass (here: a driver name made 72 bytes
/// long in the database, as an import before the format check could leave it) is reported by
/// `issue --all`, which issues the others and exits 2; it no longer blocks every batch.
#[test]
fn one_bad_application_does_not_block_the_batch() {
    let env = Env::init();
    env.import_sample();
    env.ok(&["forward", "SQ003-0001", "SQ083-0002", "SQ083-0003"]);
    env.ok(&["approve", "SQ003-0001", "SQ083-0002", "SQ083-0003"]);
    let db = rusqlite::Connection::open(env.data().join("issuer.db")).unwrap();
    db.execute(
        "UPDATE applications SET driver_name = ?1 WHERE app_no = 'SQ083-0002'",
        ["张".repeat(24)],
    )
    .unwrap();
    drop(db);
    let out = env.run(&["issue", "--all", "--formats", "png", "--json"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let issued: BTreeSet<&str> = v["passes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["app_no"].as_str().unwrap())
        .collect();
    assert_eq!(issued, BTreeSet::from(["SQ003-0001", "SQ083-0003"]));
    let failed = v["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{v}");
    assert_eq!(failed[0]["app_no"], "SQ083-0002");
    assert!(
        failed[0]["reason"]
            .as_str()
            .unwrap()
            .contains("driver_name"),
        "{v}"
    );
    // Still approved, still reported, and nothing else to do.
    let again = env.run(&["issue", "--all"]);
    assert_eq!(again.status.code(), Some(2));
    let text = String::from_utf8_lossy(&again.stdout);
    assert!(text.contains("未签发 SQ083-0002"), "{text}");
    assert_eq!(env.json(&["show", "SQ083-0002"])["status"], "approved");
}

/// The city can withdraw an approval until the pass is issued: `reject` works on an approved
/// application, is audited with its reason, and `issue --all` then leaves it alone.
#[test]
fn an_approved_application_can_be_withdrawn() {
    let env = Env::init();
    env.import_sample();
    env.ok(&["forward", "SQ003-0001", "SQ083-0002"]);
    env.ok(&["approve", "SQ003-0001", "SQ083-0002"]);
    env.ok(&[
        "reject",
        "SQ083-0002",
        "--reason",
        "驾驶人员姓名过长，无法制证",
        "--by",
        "市专班",
    ]);
    let shown = env.json(&["show", "SQ083-0002"]);
    assert_eq!(shown["status"], "rejected");
    assert_eq!(shown["reject_reason"], "驾驶人员姓名过长，无法制证");
    let trail = env.json(&["audit", "SQ083-0002"]);
    let last = trail.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "reject");
    assert_eq!(last["actor"], "市专班");
    assert_eq!(last["from_status"], "approved");
    assert_eq!(last["detail"], "驾驶人员姓名过长，无法制证");
    let issued = issue_json(&env, &["--all", "--formats", "png"]);
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0]["app_no"], "SQ003-0001");
    // An issued pass is revoked, not withdrawn.
    let err = env.fails(&["reject", "SQ003-0001", "--reason", "x"]);
    assert!(err.contains("不能驳回"), "{err}");
}

/// Text from files and operators reaches the terminal with its control characters replaced:
/// a file name, an operator name and a reason carrying escape sequences cannot clear the
/// screen or retitle the window in `import`, `list`, `show`, `audit` or an error message.
#[test]
fn issuer_output_escapes_control_characters() {
    let env = Env::init();
    let hostile = env.path("apps\u{1b}[2J\u{1b}]0;pwned\u{7}.csv");
    std::fs::copy(samples().join("applications.csv"), &hostile).unwrap();
    let import = env.run(&["import", hostile.to_str().unwrap()]);
    assert_eq!(import.status.code(), Some(2));
    let by = "\u{1b}[31m红字\u{9b}";
    env.ok(&["forward", "SQ003-0001", "--by", by]);
    env.ok(&["approve", "SQ003-0001"]);
    env.ok(&[
        "reject",
        "SQ003-0001",
        "--reason",
        "撤回\u{1b}[1A\r伪造的一行",
    ]);
    let outputs = [
        String::from_utf8(import.stdout).unwrap(),
        env.ok(&["list"]),
        env.ok(&["show", "SQ003-0001"]),
        env.ok(&["audit"]),
        env.fails(&["import", env.path("no\u{1b}[2Jsuch.csv").to_str().unwrap()]),
    ];
    for out in &outputs {
        assert!(
            !out.chars().any(|c| c.is_control() && c != '\n'),
            "a control character reached the terminal: {out:?}"
        );
    }
    assert!(outputs[0].contains("apps\u{FFFD}[2J\u{FFFD}]0;pwned\u{FFFD}.csv"));
    assert!(outputs[2].contains("撤回\u{FFFD}[1A\u{FFFD}伪造的一行"));
    assert!(outputs[3].contains("\u{FFFD}[31m红字\u{FFFD}"));
    assert!(outputs[4].contains("no\u{FFFD}[2Jsuch.csv"));
}

/// `init` refuses a passphrase under 12 characters before it creates anything.
#[test]
fn a_short_passphrase_is_refused() {
    let env = Env::new();
    let out = env
        .command(&["init"])
        .env("ISSUER_PASSPHRASE", "短口令 short")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("至少需要 12 个字符"), "{err}");
    assert!(!env.data().exists(), "nothing is created");
    // Nor may the root key get a short one of its own.
    let out = env
        .command(&["init"])
        .env("ISSUER_ROOT_PASSPHRASE", "root")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(!env.data().exists(), "nothing is created");
}

/// With `ISSUER_ROOT_PASSPHRASE` at `init` the root key is sealed under its own passphrase:
/// the signing passphrase issues passes but cannot sign a trust bundle.
#[test]
fn the_root_key_can_have_its_own_passphrase() {
    const ROOT: &str = "根密钥的另一个口令 root only";
    let env = Env::new();
    let out = env
        .command(&["init"])
        .env("ISSUER_ROOT_PASSPHRASE", ROOT)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    env.import_sample();
    env.ok(&["forward", "SQ003-0001"]);
    env.ok(&["approve", "SQ003-0001"]);
    issue_json(&env, &["SQ003-0001", "--formats", "png"]);
    let bundle = env.path("b.cose");
    let err = env.fails(&["bundle", "--out", bundle.to_str().unwrap()]);
    assert!(err.contains("口令错误"), "{err}");
    assert!(!bundle.exists());
    let out = env
        .command(&["bundle", "--out", bundle.to_str().unwrap()])
        .env("ISSUER_ROOT_PASSPHRASE", ROOT)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let root = read_root(&env);
    checkpass::bundle::open_bundle(&std::fs::read(&bundle).unwrap(), &root, None).unwrap();
}

/// `--db` (here `ISSUER_DB`) puts the SQLite store wherever it says; without it the same data
/// directory has no store and says so.
#[test]
fn the_store_can_live_outside_the_data_directory() {
    let mut env = Env::new();
    let file = env.path("elsewhere/issuer.db");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    env.db = Some(format!("sqlite://{}", file.display()));
    env.ok(&["init"]);
    assert!(file.is_file());
    assert!(!env.data().join("issuer.db").exists());
    env.import_sample();
    assert_eq!(env.statuses().len(), 40);
    // Initialising that store again is refused.
    let again = Env {
        dir: tempfile::tempdir().unwrap(),
        db: env.db.clone(),
    };
    assert!(again.fails(&["init"]).contains("已经初始化"));
    env.db = None;
    let err = env.fails(&["list"]);
    assert!(err.contains("尚未初始化"), "{err}");
}

/// Accounts for the web service: added with a role (a liaison with a district from the
/// registry, an applicant with an organisation), listed, disabled and enabled, a new password;
/// bad input is a clear error; every change is in the audit trail under who made it.
#[test]
fn accounts_are_managed_from_the_command_line() {
    let env = Env::init();
    let add = |args: &[&str], password: &str| {
        env.command(&[&["user", "add"][..], args].concat())
            .env("ISSUER_USER_PASSWORD", password)
            .output()
            .unwrap()
    };
    let ok = |out: std::process::Output| {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    ok(add(&["wang.li", "--role", "city"], "城市审核员的口令 long"));
    ok(add(
        &["liaison-wd", "--role", "district", "--district", "371003"],
        "区市联络员的口令 long",
    ));
    ok(add(
        &[
            "shunda",
            "--role",
            "applicant",
            "--organisation",
            "威海顺达物流",
        ],
        "申请单位的口令 long enough",
    ));
    let fails = |out: std::process::Output, needle: &str| {
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{needle}: {err}");
    };
    fails(
        add(&["wang.li", "--role", "city"], "another long password"),
        "已存在",
    );
    fails(
        add(&["x y", "--role", "city"], "another long password"),
        "账号名",
    );
    fails(
        add(&["liaison2", "--role", "district"], "another long password"),
        "区市",
    );
    fails(
        add(
            &["liaison3", "--role", "district", "--district", "999999"],
            "another long password",
        ),
        "999999",
    );
    fails(add(&["short", "--role", "admin"], "short"), "12");
    let users = env.json(&["user", "list"]);
    let names: Vec<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["liaison-wd", "shunda", "wang.li"]);
    assert!(
        users.to_string().find("argon2").is_none(),
        "no hash is ever printed"
    );
    env.ok(&["user", "disable", "shunda"]);
    let u = env.json(&["user", "list"]);
    assert!(u[1]["disabled_at"].is_i64());
    env.ok(&["user", "enable", "shunda"]);
    let out = env
        .command(&["user", "password", "wang.li"])
        .env("ISSUER_USER_PASSWORD", "一个新的足够长的口令 new one")
        .output()
        .unwrap();
    ok(out);
    assert!(env.fails(&["user", "disable", "nobody"]).contains("nobody"));
    let audit = env.json(&["audit"]);
    let user_actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .filter(|a| a.starts_with("user."))
        .collect();
    assert_eq!(
        user_actions,
        [
            "user.add",
            "user.add",
            "user.add",
            "user.disable",
            "user.enable",
            "user.password"
        ]
    );
}

/// `issuer serve` starts the web service on the data directory's store and says where; the
/// public page answers over a real socket.
#[test]
fn serve_starts_the_web_service() {
    let env = Env::init();
    let (mut child, addr, _) = env.serve();
    let page = common::http_get(&addr, "/districts");
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("环翠区"), "{page}");
}

/// The SMS outbox tells drivers of both outcomes: a pass issued, or an application rejected
/// with its reason.
#[test]
fn the_sms_outbox_tells_rejections_too() {
    let env = Env::init();
    env.import_sample();
    env.ok(&["forward", "SQ003-0001", "SQ083-0002"]);
    env.ok(&["approve", "SQ003-0001"]);
    env.ok(&["reject", "SQ083-0002", "--reason", "核酸报告不清晰"]);
    env.ok(&["issue", "SQ003-0001", "--formats", "svg"]);
    let only = env.path("rejected.csv");
    let v = env.json(&["sms", "--rejected", "--out", only.to_str().unwrap()]);
    assert_eq!(
        (v["issued"].as_u64(), v["rejected"].as_u64()),
        (Some(0), Some(1))
    );
    let text = std::fs::read_to_string(&only).unwrap();
    assert!(
        text.contains("SQ083-0002") && text.contains("核酸报告不清晰"),
        "{text}"
    );
    assert!(!text.contains("SQ003-0001"));
    let both = env.path("both.csv");
    let v = env.json(&[
        "sms",
        "--all",
        "--rejected",
        "--out",
        both.to_str().unwrap(),
    ]);
    assert_eq!(
        (v["issued"].as_u64(), v["rejected"].as_u64()),
        (Some(1), Some(1))
    );
    // Nothing rejected since then: nothing to send is an error, as before.
    let err = env.fails(&[
        "sms",
        "--rejected",
        "--since",
        "2022-03-13 00:00",
        "--out",
        env.path("none.csv").to_str().unwrap(),
    ]);
    assert!(err.contains("没有需要发送短信"), "{err}");
}
