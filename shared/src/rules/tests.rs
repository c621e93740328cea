use super::*;
use crate::bundle::{IssuerKey, RevocationList};
use crate::keys::SigningKey;
use crate::pass::Serial;
use crate::sample::{self, NOW};
use crate::verdict::{Level, ReasonCode};
use crate::wire::{issue_qr_text, qr_text, sign_pass};
use proptest::prelude::*;

const HOUR: i64 = 3600;

fn key() -> SigningKey {
    sample::vector_signing_key()
}

fn bundle() -> TrustBundle {
    sample::bundle(&key(), 1, NOW - HOUR)
}

fn text_of(pass: &crate::pass::Pass) -> String {
    issue_qr_text(pass, &key()).unwrap()
}

fn codes(v: &Verdict) -> Vec<ReasonCode> {
    v.reasons.iter().map(Reason::code).collect()
}

#[test]
fn a_good_pass_on_its_route_is_green() {
    let v = verify(&text_of(&sample::pass()), &bundle(), "C201", NOW);
    assert_eq!(v.level(), Level::Green, "{:?}", v.reasons);
    let view = v.view.unwrap();
    assert_eq!(view.plate, "鲁KP20XL");
    assert_eq!(view.driver_id_masked, "320102********6657");
    assert_eq!(view.route[0].name, "桥头检查站");
    assert!(view.route[0].here && !view.route[1].here);
    assert_eq!(view.test_age_hours, 34);
    assert_eq!(view.valid_from, "2022-03-12 19:00");
    assert_eq!(v.pass.unwrap().serial, Serial(1));
}

#[test]
fn expired_and_not_yet_valid() {
    let pass = sample::pass();
    let text = text_of(&pass);
    let b = sample::bundle(&key(), 1, sample::ISSUED_AT);
    let late = pass.expires_at + b.policy.clock_skew_secs;
    let v = verify(&text, &b, "C201", late);
    assert!(v.has(ReasonCode::Expired));
    assert_eq!(v.level(), Level::Red);
    // Within the tolerated skew it is still valid.
    let v = verify(
        &text,
        &b,
        "C201",
        pass.expires_at + b.policy.clock_skew_secs - 1,
    );
    assert!(!v.has(ReasonCode::Expired));
    let early = pass.not_before - b.policy.clock_skew_secs - 1;
    let v = verify(&text, &b, "C201", early);
    assert_eq!(codes(&v), vec![ReasonCode::NotYetValid]);
    assert!(!verify(&text, &b, "C201", early + 1).has(ReasonCode::NotYetValid));
}

#[test]
fn revoked() {
    let mut b = bundle();
    b.revoked = [Serial(1), Serial(9)]
        .into_iter()
        .collect::<RevocationList>();
    let v = verify(&text_of(&sample::pass()), &b, "C201", NOW);
    assert_eq!(codes(&v), vec![ReasonCode::Revoked]);
    assert_eq!(v.level(), Level::Red);
    assert!(v.view.is_some(), "the officer still sees what was revoked");
}

#[test]
fn not_on_route_is_amber() {
    let v = verify(&text_of(&sample::pass()), &bundle(), "C105", NOW);
    assert_eq!(codes(&v), vec![ReasonCode::NotOnRoute]);
    assert_eq!(v.level(), Level::Amber);
    assert!(v.view.unwrap().route.iter().all(|s| !s.here));
}

#[test]
fn old_test_is_amber() {
    let pass = sample::pass();
    let b = bundle();
    let at_limit = pass.body.test_sampled_at + b.policy.max_test_age_secs;
    assert!(!verify(&text_of(&pass), &b, "C201", at_limit).has(ReasonCode::TestTooOld));
    let v = verify(&text_of(&pass), &b, "C201", at_limit + 1);
    assert_eq!(codes(&v), vec![ReasonCode::TestTooOld]);
    assert_eq!(v.level(), Level::Amber);
    assert!(v.reasons[0]
        .message(crate::verdict::Lang::Zh)
        .contains("48 小时"));
}

#[test]
fn unknown_key_shows_nothing_of_the_pass() {
    let other = SigningKey::from_seed(&[0x33; 32]);
    let text = issue_qr_text(&sample::pass(), &other).unwrap();
    let v = verify(&text, &bundle(), "C201", NOW);
    assert_eq!(codes(&v), vec![ReasonCode::UnknownKey]);
    assert!(v.pass.is_none() && v.view.is_none());
}

#[test]
fn a_forged_signature_under_a_trusted_kid_is_red() {
    // The forger copies the real kid but signs with their own key.
    let forger = SigningKey::from_seed(&[0x44; 32]);
    let mut pass = sample::pass();
    pass.body.plate = "鲁K99999".into();
    let forged = sign_pass(&pass, &forger).unwrap();
    let real_kid = key().kid().0;
    let forger_kid = forger.kid().0;
    let pos = forged.windows(4).position(|w| w == forger_kid).unwrap();
    let mut swapped = forged.clone();
    swapped[pos..pos + 4].copy_from_slice(&real_kid);
    let v = verify(&qr_text(&swapped), &bundle(), "C201", NOW);
    assert_eq!(codes(&v), vec![ReasonCode::BadSignature]);
    assert!(v.view.is_none());
}

#[test]
fn key_outside_its_validity_is_red() {
    let mut b = bundle();
    b.keys = vec![IssuerKey {
        public_key: key().public_key(),
        valid_from: sample::ISSUED_AT + HOUR,
        valid_to: sample::ISSUED_AT + 100 * HOUR,
    }];
    let v = verify(&text_of(&sample::pass()), &b, "C201", NOW);
    assert_eq!(codes(&v), vec![ReasonCode::KeyNotValid]);
    // A retired key still vouches for passes it signed while valid (key rotation).
    b.keys[0].valid_from = sample::ISSUED_AT - HOUR;
    b.keys[0].valid_to = sample::ISSUED_AT;
    assert_eq!(
        verify(&text_of(&sample::pass()), &b, "C201", NOW).level(),
        Level::Green
    );
}

#[test]
fn rotated_keys_both_verify() {
    let old = key();
    let new = SigningKey::from_seed(&[0x66; 32]);
    let mut b = bundle();
    b.keys[0].valid_to = sample::ISSUED_AT;
    b.keys.push(IssuerKey {
        public_key: new.public_key(),
        valid_from: sample::ISSUED_AT,
        valid_to: sample::ISSUED_AT + 1000 * HOUR,
    });
    let old_text = issue_qr_text(&sample::pass(), &old).unwrap();
    let new_text = issue_qr_text(&sample::pass(), &new).unwrap();
    assert_eq!(verify(&old_text, &b, "C201", NOW).level(), Level::Green);
    assert_eq!(verify(&new_text, &b, "C201", NOW).level(), Level::Green);
}

#[test]
fn wrong_issuer_is_red() {
    let mut pass = sample::pass();
    pass.issuer = "OTHER".into();
    let v = verify(&text_of(&pass), &bundle(), "C201", NOW);
    assert_eq!(codes(&v), vec![ReasonCode::WrongIssuer]);
}

#[test]
fn every_failure_is_listed() {
    let mut b = bundle();
    b.revoked = [Serial(1)].into_iter().collect();
    let pass = sample::pass();
    let v = verify(&text_of(&pass), &b, "C105", pass.expires_at + 10 * HOUR);
    assert_eq!(
        codes(&v),
        vec![
            ReasonCode::Revoked,
            ReasonCode::Expired,
            ReasonCode::NotOnRoute,
            ReasonCode::TestTooOld
        ]
    );
    assert_eq!(v.level(), Level::Red);
}

#[test]
fn stale_bundle_and_clock_behind_are_amber() {
    let text = text_of(&sample::pass());
    let mut b = bundle();
    b.issued_at = NOW - b.policy.max_bundle_age_secs - 1;
    let v = verify(&text, &b, "C201", NOW);
    assert_eq!(codes(&v), vec![ReasonCode::BundleStale]);
    assert_eq!(v.level(), Level::Amber);
    b.issued_at = NOW + b.policy.clock_skew_secs + 1;
    let v = verify(&text, &b, "C201", NOW);
    assert_eq!(codes(&v), vec![ReasonCode::ClockBehind]);
}

#[test]
fn unknown_checkpoint_is_amber() {
    let v = verify(&text_of(&sample::pass()), &bundle(), "C999", NOW);
    assert!(v.has(ReasonCode::UnknownCheckpoint));
    assert_eq!(v.level(), Level::Amber);
}

#[test]
fn foreign_content_is_red() {
    let b = bundle();
    for text in [
        "https://example.cn/pay?id=1",
        "wxp://f2f0xxxxxxxx",
        "HC1:6BFOXN%TS3DH0YOJ58S S-W5HDC *M0II5XHC9B5G2+$N",
        "",
        "TP1:",
        "TP1:%%%%",
        "TP9:ABC",
        &"中".repeat(1000),
    ] {
        let v = verify(text, &b, "C201", NOW);
        assert_eq!(v.level(), Level::Red, "{text}");
        assert!(v.view.is_none());
    }
    assert_eq!(
        codes(&verify("https://x", &b, "C201", NOW)),
        vec![ReasonCode::NotAPass]
    );
    assert_eq!(
        codes(&verify("TP9:ABC", &b, "C201", NOW)),
        vec![ReasonCode::UnsupportedVersion]
    );
    assert_eq!(
        codes(&verify("TP1:%%%%", &b, "C201", NOW)),
        vec![ReasonCode::Damaged]
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any single changed byte of a signed pass is never green.
    #[test]
    fn a_changed_byte_is_never_green(index in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let mut cose = sign_pass(&sample::pass(), &key()).unwrap();
        let i = index.index(cose.len());
        cose[i] ^= flip;
        let v = verify(&qr_text(&cose), &bundle(), "C201", NOW);
        prop_assert_eq!(v.level(), Level::Red, "byte {} ^ {}: {:?}", i, flip, v.reasons);
    }

    /// The same for a changed character of the QR text.
    #[test]
    fn a_changed_character_is_never_green(index in any::<prop::sample::Index>(), c in "[0-9A-Z $%*+./:-]") {
        let text = text_of(&sample::pass());
        let i = index.index(text.len());
        let mut changed = text.clone();
        changed.replace_range(i..=i, &c);
        prop_assume!(changed != text);
        let v = verify(&changed, &bundle(), "C201", NOW);
        prop_assert_eq!(v.level(), Level::Red, "char {}: {:?}", i, v.reasons);
    }
}
