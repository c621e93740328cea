//! End to end across the two programs: the issuer binary imports, approves and issues the
//! sample applications and exports its public keys and trust bundle; a checkpoint set up the
//! way `verifier init` sets one up (the exported root key pinned, the bundle installed) reads
//! the printed pass sheet — as rendered, and as a dim, soft, tilted phone photo of it — with
//! the verifier's decoder and gets the verdicts an officer should see. A revocation reaches
//! the checkpoint through the next bundle.

mod common;

use checkpass::keys::{parse_public_key_file, KeyRole};
use checkpass::verdict::Level;
use common::*;
use image::GrayImage;
use serde_json::Value;
use verifier::decode::FrameDecoder;
use verifier::engine::Engine;

/// The sample applications travel in March 2022: the issuer runs on the sample's clock
/// (`common::SAMPLE_NOW`, 2022-03-12 09:00, set for every command) and the checkpoint checks on
/// 2022-03-13 08:00 (UTC+8).
const CHECKED_AT: i64 = 1_647_129_600;

/// What a phone camera makes of a printed sheet: smaller, tilted, soft and dim.
fn phone_photo(sheet: &GrayImage) -> GrayImage {
    let small = image::imageops::resize(
        sheet,
        sheet.width() * 7 / 10,
        sheet.height() * 7 / 10,
        image::imageops::FilterType::Triangle,
    );
    let mut photo =
        GrayImage::from_pixel(small.width() + 80, small.height() + 80, image::Luma([90]));
    // A slight tilt: each row shifted a little more to the right.
    for (x, y, p) in small.enumerate_pixels() {
        let shift = y / 40;
        // Dim: white paper reads as light gray in a cab.
        let v = 60 + u32::from(p.0[0]) * 150 / 255;
        photo.put_pixel(x + 40 + shift.min(39), y + 40, image::Luma([v as u8]));
    }
    image::imageops::blur(&photo, 1.2)
}

fn the_one_text(decoder: &FrameDecoder, frame: &GrayImage) -> String {
    let codes = decoder.decode(frame);
    assert_eq!(codes.len(), 1, "QR codes found");
    codes[0].text.clone()
}

#[test]
fn issued_sheets_scan_at_a_checkpoint_and_a_revocation_reaches_it() {
    let env = Env::new();
    let (mut engine, shown) = issued_sample_and_checkpoint(&env, "applications.xlsx", "png");
    // SQ003-0001: C201 → C101, valid 2022-03-12 19:00 to 2022-03-14 19:00.
    let serial = shown["pass"]["serial"].as_str().unwrap().to_string();
    let sheet = image::open(env.data().join("passes").join(&serial).join("pass.png"))
        .unwrap()
        .to_luma8();
    let decoder = FrameDecoder::new();
    let text = the_one_text(&decoder, &sheet);
    assert_eq!(text, shown["pass"]["qr_text"].as_str().unwrap());
    assert_eq!(the_one_text(&decoder, &phone_photo(&sheet)), text);

    let checked = engine.check_text_at(&text, CHECKED_AT, "C101").unwrap();
    assert_eq!(
        checked.verdict.level(),
        Level::Green,
        "{:?}",
        checked.verdict.reasons
    );
    let view = checked.verdict.view.expect("the officer's facts");
    assert_eq!(view.plate, "鲁KP20XL");
    assert_eq!(view.driver_name, "邓丽伟");
    // The full ID number never reaches the checkpoint.
    assert!(!format!("{view:?}").contains("320102199210156657"));

    // The same sheet at a checkpoint off its route: amber, not green.
    let off_route = engine
        .check_text_at(&text, CHECKED_AT + 600, "C105")
        .unwrap();
    assert_eq!(off_route.verdict.level(), Level::Amber);

    // One changed character of the QR text is never green.
    let mut forged = text.clone().into_bytes();
    let i = forged.len() / 2;
    forged[i] = if forged[i] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    let checked = engine
        .check_text_at(&forged, CHECKED_AT + 1200, "C101")
        .unwrap();
    assert_eq!(checked.verdict.level(), Level::Red);

    // Revoked at the city; the next bundle makes the checkpoint refuse the same sheet.
    env.ok(&["revoke", &serial, "--reason", "驾驶员变更"]);
    install_next_bundle(&env, &mut engine, "bundle-2.cose");
    let checked = engine
        .check_text_at(&text, CHECKED_AT + 1800, "C101")
        .unwrap();
    assert_eq!(checked.verdict.level(), Level::Red);
    assert!(
        checked.verdict.codes().contains(&"REVOKED"),
        "{:?}",
        checked.verdict.codes()
    );
    // An older bundle is refused now that a newer one is installed.
    assert!(engine
        .install_bundle(&std::fs::read(env.path("bundle-1.cose")).unwrap())
        .is_err());
}

/// Sets up the sample at the city (init, import `file`, forward, approve, issue in `format`)
/// and a checkpoint pinning its exported root, with the first bundle (`bundle-1.cose`)
/// installed, the way `verifier init` and `bundle install` do; gives the checkpoint and
/// `issuer show SQ003-0001`. Every step runs on the sample's clock, init too: a key made today
/// would not be valid for a pass issued in 2022.
fn issued_sample_and_checkpoint(env: &Env, file: &str, format: &str) -> (Engine, Value) {
    env.ok(&["init"]);
    let applications = samples().join(file);
    let out = env.run(&["import", applications.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "imported with the bad rows refused"
    );
    env.ok(&["forward", "--all"]);
    env.ok(&["approve", "--all"]);
    env.ok(&["issue", "--all", "--formats", format]);
    let keys = env.path("public-keys");
    env.ok(&["keys", "export", "--out", keys.to_str().unwrap()]);
    let (root, role) =
        parse_public_key_file(&std::fs::read_to_string(keys.join("root.pub")).unwrap()).unwrap();
    assert_eq!(role, KeyRole::Root);
    let mut engine = Engine::init(&env.path("checkpoint"), root, "C101", Some("E2E")).unwrap();
    install_next_bundle(env, &mut engine, "bundle-1.cose");
    (engine, env.json(&["show", "SQ003-0001"]))
}

/// The key id of the first key of `role` that `issuer keys list` shows.
fn kid_of(env: &Env, role: &str) -> String {
    env.json(&["keys", "list"])
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["role"] == role)
        .unwrap()["kid"]
        .as_str()
        .unwrap()
        .to_string()
}

fn install_next_bundle(env: &Env, engine: &mut Engine, name: &str) {
    let bundle = env.path(name);
    env.ok(&["bundle", "--out", bundle.to_str().unwrap()]);
    engine
        .install_bundle(&std::fs::read(&bundle).unwrap())
        .unwrap();
}

#[test]
fn a_signing_key_declared_stolen_turns_its_passes_red_with_the_next_bundle() {
    let env = Env::new();
    let (mut engine, shown) = issued_sample_and_checkpoint(&env, "applications.csv", "svg");
    let text = shown["pass"]["qr_text"].as_str().unwrap().to_string();
    let checked = engine.check_text_at(&text, CHECKED_AT, "C101").unwrap();
    assert_eq!(checked.verdict.level(), Level::Green);

    let kid = kid_of(&env, "signing");
    let said = env.ok(&["keys", "revoke", &kid, "--reason", "签发电脑被盗"]);
    assert!(said.contains("已宣告泄露"), "{said}");
    // Nothing more is signed with it: issuing asks for a new key first.
    let out = env.run(&["issue", "--all"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("keys rotate"),
        "{stderr}"
    );
    env.ok(&["keys", "rotate"]);
    install_next_bundle(&env, &mut engine, "bundle-2.cose");
    let checked = engine
        .check_text_at(&text, CHECKED_AT + 3600, "C101")
        .unwrap();
    assert_eq!(checked.verdict.level(), Level::Red);
    assert_eq!(checked.verdict.codes(), vec!["KEY_COMPROMISED"]);

    // The root key cannot be revoked this way: it signs the bundles themselves.
    let root_kid = kid_of(&env, "root");
    let out = env.run(&["keys", "revoke", &root_kid, "--reason", "x"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("根密钥"));
}

#[test]
fn a_key_declared_stolen_since_a_time_spares_the_passes_signed_before() {
    let env = Env::new();
    let (mut engine, shown) = issued_sample_and_checkpoint(&env, "applications.csv", "svg");
    let text = shown["pass"]["qr_text"].as_str().unwrap().to_string();
    let kid = kid_of(&env, "signing");
    // Issued at 09:00; the theft happened at 12:00.
    env.ok(&[
        "keys",
        "revoke",
        &kid,
        "--reason",
        "被盗",
        "--since",
        "2022-03-12 12:00",
    ]);
    install_next_bundle(&env, &mut engine, "bundle-2.cose");
    let checked = engine.check_text_at(&text, CHECKED_AT, "C101").unwrap();
    assert_eq!(
        checked.verdict.level(),
        Level::Green,
        "{:?}",
        checked.verdict.reasons
    );
}

/// Issue 14 point 3 end to end: an application with a planned arrival at its last checkpoint
/// (the optional column 预计到达时间) gets a pass that carries it; a checkpoint on the way
/// warns that the driver's test will be too old by then, and says when.
#[test]
fn a_planned_arrival_travels_in_the_pass_and_the_checkpoint_looks_ahead() {
    let env = Env::new();
    env.ok(&["init"]);
    let sample = std::fs::read_to_string(samples().join("applications.csv")).unwrap();
    let mut lines = sample.lines();
    let header = lines.next().unwrap();
    let row = lines.find(|l| l.starts_with("SQ003-0001,")).unwrap();
    let csv = env.path("arrival.csv");
    std::fs::write(
        &csv,
        format!("{header},预计到达时间\n{row},2022-03-14 10:00\n"),
    )
    .unwrap();
    env.ok(&["import", csv.to_str().unwrap()]);
    env.ok(&["forward", "--all"]);
    env.ok(&["approve", "--all"]);
    env.ok(&["issue", "--all", "--formats", "svg"]);
    let shown = env.json(&["show", "SQ003-0001"]);
    assert_eq!(shown["arrive_by"], 1_647_223_200);
    let keys = env.path("public-keys");
    env.ok(&["keys", "export", "--out", keys.to_str().unwrap()]);
    let (root, _) =
        parse_public_key_file(&std::fs::read_to_string(keys.join("root.pub")).unwrap()).unwrap();
    let mut engine = Engine::init(&env.path("checkpoint"), root, "C201", Some("E2E")).unwrap();
    install_next_bundle(&env, &mut engine, "bundle.cose");
    let text = shown["pass"]["qr_text"].as_str().unwrap();
    let checked = engine.check_text_at(text, CHECKED_AT, "C201").unwrap();
    assert_eq!(checked.verdict.level(), Level::Amber);
    assert_eq!(checked.verdict.codes(), vec!["TEST_EXPIRES_BEFORE_ARRIVAL"]);
    let message = checked.verdict.reasons[0].message(checkpass::verdict::Lang::Zh);
    assert!(message.contains("核酸将在到达前超过48小时"), "{message}");
    assert!(message.contains("2022-03-14 10:00"), "{message}");
    // The officer sees the planned arrival among the facts.
    let view = checked.verdict.view.as_ref().unwrap();
    assert_eq!(view.arrive_by.as_deref(), Some("2022-03-14 10:00"));
    let src = verifier::report::Source {
        image: None,
        text: Some(text),
        index: 1,
        count: 1,
    };
    let report = verifier::report::human(&src, &checked, checkpass::verdict::Lang::Zh);
    assert!(
        report.contains("预计到达：2022-03-14 10:00 (UTC+8，末站)"),
        "{report}"
    );
}
