//! The checkpoint network end to end: three checkpoints (verifier data directories at C201,
//! C101 and C107) check the issued sample passes under a simulated clock, export their signed
//! logs, and the city imports them and lists the findings with their evidence — a clean trip,
//! a pass copied to a second truck, a truck that never leaves — then revokes a finding's pass
//! and the next bundle turns it red. Forged log files are refused and store nothing.

mod common;

use checkpass::keys::{parse_public_key_file, public_key_file, KeyRole, SigningKey};
use checkpass::logfile::{open_log, sign_log};
use checkpass::verdict::Level;
use common::*;
use serde_json::Value;
use verifier::engine::Engine;

/// 2022-03-12 20:00 (UTC+8): the sample passes used here are valid and their tests recent.
const T: i64 = 1_647_086_400;
const MIN: i64 = 60;

struct Checkpoint {
    code: &'static str,
    dir: std::path::PathBuf,
    engine: Engine,
}

impl Checkpoint {
    fn new(env: &Env, code: &'static str, root: checkpass::keys::PublicKey) -> Checkpoint {
        let dir = env.path(&format!("checkpoint-{code}"));
        let mut engine = Engine::init(&dir, root, code, Some("E2E")).unwrap();
        engine.set_simulated_clock(true);
        Checkpoint { code, dir, engine }
    }

    fn install(&mut self, bundle: &std::path::Path) {
        self.engine
            .install_bundle(&std::fs::read(bundle).unwrap())
            .unwrap();
    }

    fn check(&mut self, qr: &str, at: i64) -> Level {
        let verdict = self
            .engine
            .check_text_at(qr, at, self.code)
            .unwrap()
            .verdict;
        eprintln!("{} {at}: {:?}", self.code, verdict.codes());
        verdict.level()
    }

    fn export(&self, env: &Env, name: &str, since: Option<i64>) -> std::path::PathBuf {
        let (bytes, _) = self.engine.export_log(since, T + 1000 * MIN).unwrap();
        let path = env.path(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn device_key(&self) -> SigningKey {
        let hex = std::fs::read_to_string(self.dir.join("device.key")).unwrap();
        let seed: [u8; 32] = (0..32)
            .map(|i| u8::from_str_radix(&hex.trim()[2 * i..2 * i + 2], 16).unwrap())
            .collect::<Vec<_>>()
            .try_into()
            .unwrap();
        SigningKey::from_seed(&seed)
    }
}

fn qr(env: &Env, app_no: &str) -> (String, String) {
    let shown = env.json(&["show", app_no]);
    (
        shown["pass"]["qr_text"].as_str().unwrap().to_string(),
        shown["pass"]["serial"].as_str().unwrap().to_string(),
    )
}

fn p(path: &std::path::Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn findings_come_from_the_checkpoints_logs_and_a_revocation_follows() {
    let env = Env::new();
    env.ok(&["init"]);
    env.import_sample();
    env.ok(&["forward", "--all"]);
    env.ok(&["approve", "--all"]);
    env.ok(&["issue", "--all", "--formats", "png"]);
    let keys = env.path("public-keys");
    env.ok(&["keys", "export", "--out", p(&keys)]);
    let (root, _) =
        parse_public_key_file(&std::fs::read_to_string(keys.join("root.pub")).unwrap()).unwrap();
    let bundle1 = env.path("bundle-1.cose");
    env.ok(&["bundle", "--out", p(&bundle1)]);

    let mut c201 = Checkpoint::new(&env, "C201", root);
    let mut c101 = Checkpoint::new(&env, "C101", root);
    let mut c107 = Checkpoint::new(&env, "C107", root);
    for c in [&mut c201, &mut c101, &mut c107] {
        c.install(&bundle1);
    }

    // SQ003-0001, C201 → C101: in order, half an hour apart. SQ072-0013, C101 → C103 →
    // C107: at C101, and ten minutes later at C107, 77 km away. (Each device's clock only
    // goes forward.)
    let (clean, _) = qr(&env, "SQ003-0001");
    let (copied, copied_serial) = qr(&env, "SQ072-0013");
    assert_eq!(c201.check(&clean, T), Level::Green);
    assert_eq!(c101.check(&copied, T + 10 * MIN), Level::Green);
    assert_eq!(c107.check(&copied, T + 20 * MIN), Level::Green);
    assert_eq!(c101.check(&clean, T + 30 * MIN), Level::Green);
    // SQ072-0017, C201 → C101, window ends 2022-03-13 21:00: goes in and is never seen leaving.
    let (stays, stays_serial) = qr(&env, "SQ072-0017");
    assert_eq!(c201.check(&stays, T + 40 * MIN), Level::Green);

    // Devices come home: C201's registered from its key file, C101's accepted on first import
    // with the id the officer read off the device, C107's refused until it is accepted.
    let c201_key = env.path("c201.pub");
    std::fs::write(
        &c201_key,
        public_key_file(&c201.engine.device_public_key().unwrap(), KeyRole::Device),
    )
    .unwrap();
    let out = env.ok(&["devices", "add", p(&c201_key), "--label", "C201 桥头检查站"]);
    assert!(out.contains("已登记检查站设备"), "{out}");
    // A root key file is not a device.
    let err = env.fails(&["devices", "add", p(&keys.join("root.pub"))]);
    assert!(err.contains("不是检查站设备公钥"), "{err}");

    let f201 = c201.export(&env, "c201-1.cose", None);
    let f101 = c101.export(&env, "c101-1.cose", None);
    let f107 = c107.export(&env, "c107-1.cose", None);
    let out = env.ok(&["scans", "import", p(&f201)]);
    assert!(out.contains("新增"), "{out}");

    let kid101 = c101.engine.device_public_key().unwrap().kid().to_hex();
    let kid107 = c107.engine.device_public_key().unwrap().kid().to_hex();
    let err = env.fails(&["scans", "import", p(&f107)]);
    assert!(err.contains(&format!("设备 {kid107} 尚未登记")), "{err}");
    let imported = env.json(&[
        "scans",
        "import",
        p(&f101),
        p(&f107),
        "--accept",
        &kid101,
        "--accept",
        &kid107,
    ]);
    let added: Vec<u64> = imported
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["added"].as_u64().unwrap())
        .collect();
    assert!(added.iter().all(|n| *n >= 2), "{imported}");
    // The same file again adds nothing.
    let again = env.json(&["scans", "import", p(&f101)]);
    assert_eq!(again[0]["added"], 0, "{again}");
    assert!(again[0]["already"].as_u64().unwrap() >= 3, "{again}");

    // Made under a simulated clock: no findings unless asked.
    let none = env.json(&["findings"]);
    assert_eq!(none, Value::Array(vec![]), "{none}");
    let at_midnight = |args: &[&str]| -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let out = env
            .command(&all)
            .env("ISSUER_NOW", "2022-03-14T00:00:00+08:00")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let found = at_midnight(&["findings", "--include-simulated"]);
    let ids: Vec<&str> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![
            format!("clone/{copied_serial}").as_str(),
            format!("lingering/{stays_serial}").as_str()
        ],
        "{found:#}"
    );
    let clone = &found[0];
    assert_eq!(clone["app_no"], "SQ072-0013");
    let evidence: Vec<(String, i64)> = clone["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["checkpoint"].as_str().unwrap().to_string(),
                e["at"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        evidence,
        vec![
            ("C101".to_string(), T + 10 * MIN),
            ("C107".to_string(), T + 20 * MIN)
        ]
    );
    assert_eq!(clone["evidence"][0]["device"], kid101);
    assert_eq!(clone["evidence"][1]["device"], kid107);
    assert_eq!(found[1]["evidence"][0]["checkpoint"], "C201");
    // The text listing shows the same, with the command that revokes.
    let text = env
        .command(&["findings", "--include-simulated"])
        .env("ISSUER_NOW", "2022-03-14T00:00:00+08:00")
        .output()
        .unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("疑似复制通行证"), "{text}");
    assert!(
        text.contains(&format!("issuer revoke --finding clone/{copied_serial}")),
        "{text}"
    );

    // Revoked from the finding in one step; the next bundle turns the copy red.
    env.ok(&[
        "revoke",
        "--finding",
        &format!("clone/{copied_serial}"),
        "--include-simulated",
    ]);
    let shown = env.json(&["show", "SQ072-0013"]);
    let reason = shown["pass"]["revoke_reason"].as_str().unwrap();
    assert!(
        reason.starts_with(&format!("发现 clone/{copied_serial}：疑似复制通行证")),
        "{reason}"
    );
    let bundle2 = env.path("bundle-2.cose");
    env.ok(&["bundle", "--out", p(&bundle2)]);
    c107.install(&bundle2);
    assert_eq!(c107.check(&copied, T + 60 * MIN), Level::Red);
    assert!(env
        .fails(&["revoke", "--finding", "clone/00000-99999-0"])
        .contains("找不到发现"));

    // A gap: C201 logs two more scans, and only the second comes home.
    assert_eq!(c201.check(&clean, T + 200 * MIN), Level::Green);
    assert_eq!(c201.check(&clean, T + 300 * MIN), Level::Green);
    let late = c201.export(&env, "c201-late.cose", Some(T + 300 * MIN));
    let out = env.ok(&["scans", "import", p(&late)]);
    assert!(out.contains("该设备的记录仍缺 第"), "{out}");
    let devices = env.json(&["devices", "list"]);
    let d201 = devices
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["label"] == "C201 桥头检查站")
        .unwrap();
    assert_eq!(d201["missing"].as_array().unwrap().len(), 1, "{devices}");

    // Forged files: each refused, naming the file, and nothing stored.
    let before = env.json(&["devices", "list"]);
    let genuine = std::fs::read(&f101).unwrap();
    let mut bad_signature = genuine.clone();
    let last = bad_signature.len() - 1;
    bad_signature[last] ^= 1;
    let key101 = c101.device_key();
    let mut edited = open_log(&genuine).unwrap();
    edited.entries[1].verdict = Some("green".into());
    edited.entries[1].checkpoint = "C999".into();
    let mut reordered = open_log(&genuine).unwrap();
    reordered.entries.swap(1, 2);
    let mut stranger = open_log(&genuine).unwrap();
    let thief = SigningKey::generate();
    stranger.device = thief.public_key();
    for (name, bytes, expect) in [
        ("bad-signature.cose", bad_signature, "签名无效"),
        (
            "edited.cose",
            sign_log(&edited, &key101).unwrap(),
            "哈希链断开",
        ),
        (
            "reordered.cose",
            sign_log(&reordered, &key101).unwrap(),
            "哈希链断开",
        ),
        (
            "stranger.cose",
            sign_log(&stranger, &thief).unwrap(),
            "尚未登记",
        ),
    ] {
        let path = env.path(name);
        std::fs::write(&path, bytes).unwrap();
        let err = env.fails(&["scans", "import", p(&path)]);
        assert!(err.contains(name) && err.contains(expect), "{name}: {err}");
    }
    assert_eq!(env.json(&["devices", "list"]), before);
}
