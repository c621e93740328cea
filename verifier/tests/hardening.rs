//! The checkpoint in the wrong hands: what someone with the laptop can change in the data
//! directory is refused or shows, a poisoned clock floor heals, and bundles are one file per
//! sequence number. Each test names the hole it pins.

use std::path::Path;

use checkpass::bundle::{sign_bundle, BundleError};
use checkpass::keys::{parse_public_key_file, SigningKey};
use checkpass::verdict::{Level, ReasonCode};
use checkpass::{sample, wire};
use verifier::engine::{check_root, BuildRoot, Engine, EngineError, InitOptions};
use verifier::store::{Store, DB_FILE};

const HOUR: i64 = 3600;

struct Keys {
    root: SigningKey,
    signing: SigningKey,
}

fn keys() -> Keys {
    Keys {
        root: SigningKey::from_seed(&[31; 32]),
        signing: SigningKey::from_seed(&[32; 32]),
    }
}

fn bundle(k: &Keys, sequence: u64, issued_at: i64) -> Vec<u8> {
    sign_bundle(&sample::bundle(&k.signing, sequence, issued_at), &k.root).unwrap()
}

fn ready(dir: &Path, k: &Keys) -> Engine {
    let mut e = Engine::init(dir, k.root.public_key(), "C201", Some("W001")).unwrap();
    e.install_bundle(&bundle(k, 2, sample::ISSUED_AT)).unwrap();
    e
}

fn pass_text(k: &Keys) -> String {
    wire::issue_qr_text(&sample::pass(), &k.signing).unwrap()
}

/// Changes one settings row behind the program's back, as `sqlite3` on the laptop would.
fn edit_setting(dir: &Path, key: &str, value: &str) {
    let mut store = Store::open(dir).unwrap();
    let mut map = store.settings().unwrap();
    map.insert(key.into(), value.into());
    store.save_settings(&map).unwrap();
}

#[test]
fn a_rolled_back_sequence_floor_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let k = keys();
    let mut e = ready(dir.path(), &k);
    e.install_bundle(&bundle(&k, 5, sample::ISSUED_AT)).unwrap();
    drop(e);
    // Back to 1, so that the sequence-2 bundle (before a revocation) would install again.
    edit_setting(dir.path(), "installed_bundle_sequence", "1");
    assert!(matches!(
        Engine::open(dir.path()),
        Err(EngineError::SettingsTampered { .. })
    ));
}

#[test]
fn a_swapped_root_key_row_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let k = keys();
    drop(ready(dir.path(), &k));
    let forger = SigningKey::from_seed(&[66; 32]);
    edit_setting(dir.path(), "root_key", &forger.public_key().to_hex());
    let err = Engine::open(dir.path()).unwrap_err();
    assert!(matches!(err, EngineError::SettingsTampered { .. }), "{err}");
}

#[test]
fn a_build_for_one_city_refuses_any_other_root() {
    let k = keys();
    let city = BuildRoot {
        key: Some(Box::leak(k.root.public_key().to_hex().into_boxed_str())),
        kid: None,
    };
    assert!(check_root(&k.root.public_key(), city, false).is_ok());
    let other = SigningKey::from_seed(&[77; 32]).public_key();
    assert!(matches!(
        check_root(&other, city, false),
        Err(EngineError::NotTheBuildRoot { .. })
    ));
    let by_kid = BuildRoot {
        key: None,
        kid: Some(Box::leak(k.root.kid().to_hex().into_boxed_str())),
    };
    assert!(check_root(&k.root.public_key(), by_kid, false).is_ok());
    assert!(check_root(&other, by_kid, false).is_err());
}

#[test]
fn the_development_root_is_refused_unless_allowed() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../keys/DEV-ONLY-root.pub.json"),
    )
    .unwrap();
    let (dev_root, _) = parse_public_key_file(&text).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let err = Engine::init(dir.path(), dev_root, "C101", None).unwrap_err();
    assert!(matches!(err, EngineError::DevKey { .. }), "{err}");
    let allowed = InitOptions {
        allow_dev_keys: true,
    };
    let e = Engine::init_with(dir.path(), dev_root, "C101", None, allowed).unwrap();
    assert!(e.settings().allow_dev_keys);
    drop(e);
    assert!(Engine::open(dir.path()).is_ok());
}

#[test]
fn a_bundle_trusting_a_test_vector_key_is_refused_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let k = Keys {
        root: SigningKey::from_seed(&[31; 32]),
        signing: sample::vector_signing_key(),
    };
    let mut e = Engine::init(dir.path(), k.root.public_key(), "C201", None).unwrap();
    assert!(matches!(
        e.install_bundle(&bundle(&k, 1, sample::ISSUED_AT)),
        Err(EngineError::DevKey { .. })
    ));
}

#[test]
fn a_bundle_with_the_installed_sequence_must_be_the_same_file() {
    let dir = tempfile::tempdir().unwrap();
    let k = keys();
    let mut e = ready(dir.path(), &k);
    // Same sequence, signed again with other contents (a replayed draft, a doctored copy).
    let other = bundle(&k, 2, sample::ISSUED_AT + 60);
    assert!(matches!(
        e.install_bundle(&other),
        Err(EngineError::BundleRefused(
            BundleError::SameSequenceDiffers { sequence: 2 }
        ))
    ));
    // The very same file again is fine (an officer installing twice).
    e.install_bundle(&bundle(&k, 2, sample::ISSUED_AT)).unwrap();
    e.install_bundle(&bundle(&k, 3, sample::ISSUED_AT)).unwrap();
}

#[test]
fn a_simulated_scan_never_moves_the_clock_floor() {
    let dir = tempfile::tempdir().unwrap();
    let k = keys();
    let text = pass_text(&k);
    let mut e = ready(dir.path(), &k);
    e.set_simulated_clock(true);
    // --at 2099-01-01
    let far = e.check_text(&text, 4_070_908_800).unwrap();
    assert!(far.record.simulated);
    e.set_simulated_clock(false);
    let now = e.check_text(&text, sample::NOW).unwrap();
    assert_eq!(
        now.verdict.level(),
        Level::Green,
        "{:?}",
        now.verdict.reasons
    );
    assert!(!now.record.simulated);
}

#[test]
fn a_clock_that_jumped_far_forward_does_not_poison_later_scans() {
    let dir = tempfile::tempdir().unwrap();
    let k = keys();
    let text = pass_text(&k);
    let mut e = ready(dir.path(), &k);
    // One real scan while the laptop clock said 2099.
    e.check_text(&text, 4_070_908_800).unwrap();
    let v = e.check_text(&text, sample::NOW).unwrap().verdict;
    assert!(!v.has(ReasonCode::ClockBehind), "{:?}", v.reasons);
    assert!(!v.has(ReasonCode::Expired), "{:?}", v.reasons);
}

#[test]
fn a_clock_correction_is_logged_and_resets_the_floor() {
    let dir = tempfile::tempdir().unwrap();
    let k = keys();
    let text = pass_text(&k);
    let mut e = ready(dir.path(), &k);
    // The clock ran six hours fast for a while (within the bundle's age: trusted).
    e.check_text(&text, sample::NOW + 6 * HOUR).unwrap();
    let v = e.check_text(&text, sample::NOW + HOUR).unwrap().verdict;
    assert!(v.has(ReasonCode::ClockBehind), "{:?}", v.reasons);
    e.record_clock_correction(sample::NOW + HOUR, "时钟快了 6 小时，已校正")
        .unwrap();
    let v = e.check_text(&text, sample::NOW + 2 * HOUR).unwrap().verdict;
    assert!(!v.has(ReasonCode::ClockBehind), "{:?}", v.reasons);
    assert!(e.verify_log().is_ok());
    e.set_simulated_clock(true);
    assert!(matches!(
        e.record_clock_correction(sample::NOW, "x"),
        Err(EngineError::CorrectionSimulated)
    ));
}

#[test]
fn an_expired_pass_stays_red_with_the_clock_set_back() {
    let dir = tempfile::tempdir().unwrap();
    let k = keys();
    let pass = sample::pass();
    let text = pass_text(&k);
    let mut e = Engine::init(dir.path(), k.root.public_key(), "C201", None).unwrap();
    e.install_bundle(&bundle(&k, 2, pass.expires_at - HOUR))
        .unwrap();
    // Seen for real after the pass expired...
    let after = e.check_text(&text, pass.expires_at + HOUR).unwrap();
    assert_eq!(after.verdict.level(), Level::Red);
    // ...then the clock is set back into the window: still red, and the reason says why.
    let back = e.check_text(&text, pass.expires_at - 10 * HOUR).unwrap();
    assert_eq!(
        back.verdict.level(),
        Level::Red,
        "{:?}",
        back.verdict.reasons
    );
    assert!(back.verdict.has(ReasonCode::Expired));
    assert!(back.verdict.has(ReasonCode::ClockBehind));
}

#[test]
fn the_scan_log_is_a_hash_chain_that_catches_an_edit() {
    let dir = tempfile::tempdir().unwrap();
    let k = keys();
    let text = pass_text(&k);
    let mut e = ready(dir.path(), &k);
    e.check_text("https://example.cn/pay", sample::NOW).unwrap();
    e.check_text(&text, sample::NOW + 60).unwrap();
    let head = e.verify_log().unwrap();
    assert!(head.entries >= 4, "settings entries and two scans");
    drop(e);
    // Someone with the laptop turns the red scan green with sqlite3, triggers and all.
    let conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
    conn.execute_batch(
        "DROP TRIGGER scans_no_update;
         UPDATE scans SET verdict = 'green', reasons = '' WHERE verdict = 'red';",
    )
    .unwrap();
    drop(conn);
    let e = Engine::open(dir.path()).unwrap();
    let err = e.verify_log().unwrap_err();
    assert!(err.to_string().contains("哈希链"), "{err}");
}

#[cfg(unix)]
#[test]
fn the_data_directory_and_database_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("checkpoint");
    drop(ready(&dir, &keys()));
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join(DB_FILE)), 0o600);
    assert_eq!(mode(&dir.join("bundle.cose")), 0o600);
    // A directory made by hand with wider modes is tightened when opened.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    drop(Engine::open(&dir).unwrap());
    assert_eq!(mode(&dir), 0o700);
}
