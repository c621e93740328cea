//! The web service in a real browser: `issuer serve --sign` on the sample's data and clock,
//! and Debian's headless Chromium driven by playwright-core (`tests/browser/chain.mjs`) doing
//! what the people of the chain do, on a phone-sized and a desktop-sized window: apply (one
//! field wrong first, with the test report), forward, approve, issue, download; a rejection
//! reaching the applicant and the city's SMS outbox; other districts and organisations refused
//! by URL; a `<script>` name shown as text. Then the QR image the applicant downloaded is read
//! with the verifier's decoder at a checkpoint set up like `verifier init` sets one up, and is
//! green there.
//!
//! `scripts/install-deps.sh` installs Chromium, a CJK font, Node.js and the script's
//! `node_modules`. Without them the test says why and passes, except under `CI=true`, where it
//! fails. `SCREENSHOT_DIR=docs/images` writes the README's screenshots there.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use checkpass::keys::{parse_public_key_file, KeyRole};
use checkpass::verdict::Level;
use common::*;
use serde_json::Value;
use verifier::engine::Engine;

/// Every account's password here.
const PASSWORD: &str = "浏览器测试口令 browser-test-1";
/// When the checkpoint scans the passes: 2022-03-13 08:00 (UTC+8), inside their window
/// (2022-03-12 08:00 to 2022-03-14 08:00; issued at 09:00 on the 12th).
const CHECKED_AT: i64 = 1_647_129_600;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn script_dir() -> PathBuf {
    workspace().join("tests/browser")
}

fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// Why the browser cannot run here, if it cannot.
fn missing() -> Option<String> {
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        return Some("node is not installed".into());
    }
    if !chromium().exists() {
        return Some(format!("{} is not installed", chromium().display()));
    }
    let playwright = script_dir().join("node_modules/playwright-core/package.json");
    if !playwright.exists() {
        return Some(format!(
            "{} is missing (npm ci in tests/browser)",
            playwright.display()
        ));
    }
    None
}

/// The accounts the script signs in with: name, role, and the role's `--district` or
/// `--organisation`.
const ACCOUNTS: [(&str, &str, &[&str]); 6] = [
    ("shunda", "applicant", &["--organisation", "威海顺达物流"]),
    ("haiyun", "applicant", &["--organisation", "威海海运物流"]),
    ("liaison-hc", "district", &["--district", "371002"]),
    ("liaison-wd", "district", &["--district", "371003"]),
    ("reviewer1", "city", &[]),
    ("admin1", "admin", &[]),
];

#[test]
fn the_chain_in_a_real_browser_on_a_phone_and_a_desktop() {
    if let Some(why) = missing() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("the browser test cannot run: {why}; scripts/install-deps.sh installs it");
        }
        eprintln!("browser test skipped: {why} (scripts/install-deps.sh installs it)");
        return;
    }
    let started = Instant::now();
    let env = Env::init();
    // Other applications in the queues, as on a working day: the sample's, the 文登区 ones
    // forwarded to the city.
    env.import_sample();
    env.ok(&["forward", "--all", "--district", "371003"]);
    for (name, role, scope) in ACCOUNTS {
        let mut args = vec!["user", "add", name, "--role", role];
        args.extend_from_slice(scope);
        let out = env
            .command(&args)
            .env("ISSUER_USER_PASSWORD", PASSWORD)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let (mut server, addr, lines) = env.serve_with(&["--sign"]);
    // The server's standard error, kept for a failure's message (and never left to fill the pipe).
    let server_log = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>());
    // Downloads, screenshots and the page of a failed step: kept after the test (under
    // target/tmp), replaced by the next run.
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
    let _ = std::fs::remove_dir_all(&out_dir);
    let screenshots = match std::env::var_os("SCREENSHOT_DIR") {
        Some(d) => workspace().join(d),
        None => out_dir.clone(),
    };
    let run = Command::new("node")
        .arg("chain.mjs")
        .current_dir(script_dir())
        .env("BASE_URL", format!("http://{addr}"))
        .env("PASSWORD", PASSWORD)
        .env("OUT_DIR", &out_dir)
        .env("SCREENSHOT_DIR", &screenshots)
        .env("CHROMIUM", chromium())
        .env("APPLICANT", "shunda")
        .env("OTHER_APPLICANT", "haiyun")
        .env("LIAISON", "liaison-hc")
        .env("OTHER_LIAISON", "liaison-wd")
        .env("REVIEWER", "reviewer1")
        .output()
        .unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
    let server_log = server_log.join().unwrap().join("\n");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.success(),
        "the browser script failed ({}):\n{stdout}\n{stderr}\nserver:\n{server_log}\n\
         (the page at the failure: {})",
        run.status,
        out_dir.join("failure.png").display()
    );
    let result: Value = stdout
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("RESULT "))
        .map(|j| serde_json::from_str(j).unwrap())
        .unwrap_or_else(|| panic!("no RESULT line:\n{stdout}\n{stderr}"));
    let browsed = started.elapsed();
    // The script's steps with their times (shown with --nocapture).
    eprintln!("{stderr}");

    // The store agrees with what the pages showed.
    for which in ["phone", "desktop"] {
        let no = result[which]["app_no"].as_str().unwrap();
        let shown = env.json(&["show", no]);
        assert_eq!(shown["status"], "issued", "{shown}");
        assert_eq!(shown["organisation"], "威海顺达物流", "{shown}");
    }
    let rejected = env.json(&["show", result["rejected"]["app_no"].as_str().unwrap()]);
    assert_eq!(rejected["status"], "rejected", "{rejected}");
    assert_eq!(rejected["driver_name"], "<script>alert(1)</script>");

    // A checkpoint pinning the city's root with its current bundle, the way `verifier init`
    // and `verifier bundle install` set one up.
    let keys = env.path("public-keys");
    env.ok(&["keys", "export", "--out", keys.to_str().unwrap()]);
    let (root, role) =
        parse_public_key_file(&std::fs::read_to_string(keys.join("root.pub")).unwrap()).unwrap();
    assert_eq!(role, KeyRole::Root);
    let mut engine = Engine::init(&env.path("checkpoint"), root, "C101", Some("E2E")).unwrap();
    let bundle = env.path("bundle.cose");
    env.ok(&["bundle", "--out", bundle.to_str().unwrap()]);
    engine
        .install_bundle(&std::fs::read(&bundle).unwrap())
        .unwrap();
    // Each downloaded QR image, read as `verifier check` reads an image file, at a checkpoint
    // on its route (C201 → C101): green.
    for (which, checkpoint, plate) in [
        ("phone", "C201", "鲁K5P001"),
        ("desktop", "C101", "鲁K5D002"),
    ] {
        let qr = result[which]["qr"].as_str().unwrap();
        let codes = verifier::decode::decode_image_file(qr).unwrap();
        assert_eq!(codes.len(), 1, "{which}: one QR code in {qr}");
        let checked = engine
            .check_text_at(&codes[0].text, CHECKED_AT, checkpoint)
            .unwrap();
        assert_eq!(
            checked.verdict.level(),
            Level::Green,
            "{which} at {checkpoint}: {:?}",
            checked.verdict.reasons
        );
        assert_eq!(checked.verdict.view.as_ref().unwrap().plate, plate);
    }
    eprintln!(
        "browser chain: {:.1} s in the browser and the service, {:.1} s in all",
        browsed.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}
