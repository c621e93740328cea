use super::*;
use crate::bundle::{IssuerKey, RevocationList, COMPROMISED_ALWAYS};
use crate::keys::SigningKey;
use crate::pass::Serial;
use crate::sample::{self, NOW};
use crate::verdict::{Lang, Level, ReasonCode};
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
        compromised_since: None,
        scope: Default::default(),
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
        compromised_since: None,
        scope: Default::default(),
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
            ReasonCode::TestTooOld,
            ReasonCode::NotOnRoute
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

/// The sample pass with its times replaced.
fn with_times(iat: i64, nbf: i64, exp: i64, sampled: i64) -> crate::pass::Pass {
    let mut p = sample::pass();
    p.issued_at = iat;
    p.not_before = nbf;
    p.expires_at = exp;
    p.body.test_sampled_at = sampled;
    p
}

#[test]
fn a_stolen_key_cannot_mint_a_pass_valid_for_years() {
    let p = sample::pass();
    let years = with_times(
        p.issued_at,
        p.not_before,
        p.not_before + 3 * 365 * 24 * HOUR,
        p.body.test_sampled_at,
    );
    let v = verify(&text_of(&years), &bundle(), "C201", NOW);
    assert_eq!(v.level(), Level::Red, "{:?}", v.reasons);
    assert!(v.has(ReasonCode::ValidityTooLong), "{:?}", v.reasons);
    // Exactly the longest window the policy grants is still fine.
    let max = bundle().policy.max_validity_secs;
    let longest = with_times(
        p.issued_at,
        p.not_before,
        p.not_before + max,
        p.body.test_sampled_at,
    );
    assert_eq!(
        verify(&text_of(&longest), &bundle(), "C201", NOW).level(),
        Level::Green
    );
}

#[test]
fn a_pass_that_starts_before_it_was_issued_is_red() {
    let p = sample::pass();
    let skew = bundle().policy.clock_skew_secs;
    let early = with_times(
        NOW - HOUR,
        NOW - HOUR - skew - 1,
        p.expires_at,
        p.body.test_sampled_at,
    );
    let v = verify(&text_of(&early), &bundle(), "C201", NOW);
    assert_eq!(codes(&v), vec![ReasonCode::StartsBeforeIssue]);
    assert_eq!(v.level(), Level::Red);
    let within_skew = with_times(
        NOW - HOUR,
        NOW - HOUR - skew,
        p.expires_at,
        p.body.test_sampled_at,
    );
    assert_eq!(
        verify(&text_of(&within_skew), &bundle(), "C201", NOW).level(),
        Level::Green
    );
}

#[test]
fn a_pass_that_outlives_its_key_is_red() {
    let p = sample::pass();
    let mut b = sample::bundle(&key(), 1, p.issued_at);
    b.policy.max_validity_secs = 24 * HOUR;
    // The key may sign until an hour after issue; a pass signed then may last one window.
    b.keys[0].valid_to = p.issued_at + HOUR;
    let end = b.keys[0].valid_to + b.policy.max_validity_secs;
    let now = end - 5 * HOUR;
    let ok = with_times(p.issued_at + HOUR, end - 10 * HOUR, end, p.issued_at);
    let v = verify(&text_of(&ok), &b, "C201", now);
    assert_eq!(v.level(), Level::Green, "{:?}", v.reasons);
    let beyond = with_times(p.issued_at + HOUR, end - 10 * HOUR, end + 1, p.issued_at);
    let v = verify(&text_of(&beyond), &b, "C201", now);
    assert_eq!(codes(&v), vec![ReasonCode::OutlivesKey]);
}

#[test]
fn an_implausible_test_sample_time_is_red() {
    let p = sample::pass();
    let b = bundle();
    let after_issue = with_times(p.issued_at, p.not_before, p.expires_at, p.issued_at + 1);
    let v = verify(&text_of(&after_issue), &b, "C201", NOW);
    assert_eq!(codes(&v), vec![ReasonCode::TestTimeImplausible]);
    let limit = p.not_before - b.policy.max_test_age_secs - b.policy.max_validity_secs;
    let ancient = with_times(p.issued_at, p.not_before, p.expires_at, limit - 1);
    let v = verify(&text_of(&ancient), &b, "C201", NOW);
    assert!(v.has(ReasonCode::TestTimeImplausible), "{:?}", v.reasons);
    assert_eq!(v.level(), Level::Red);
    // At the limit it is only old (amber), not implausible.
    let oldest = with_times(p.issued_at, p.not_before, p.expires_at, limit);
    let v = verify(&text_of(&oldest), &b, "C201", NOW);
    assert_eq!(codes(&v), vec![ReasonCode::TestTooOld]);
}

#[test]
fn extreme_times_are_red_not_wrapped() {
    let p = sample::pass();
    let t = p.body.test_sampled_at;
    let cases = [
        with_times(i64::MIN, p.not_before, p.expires_at, t),
        with_times(i64::MAX, p.not_before, p.expires_at, t),
        with_times(p.issued_at, i64::MIN, p.expires_at, t),
        with_times(p.issued_at, i64::MIN, i64::MAX, t),
        with_times(p.issued_at, p.not_before, i64::MAX, t),
        with_times(p.issued_at, i64::MAX - 1, i64::MAX, t),
        with_times(p.issued_at, p.not_before, p.expires_at, i64::MIN),
        with_times(p.issued_at, p.not_before, p.expires_at, i64::MAX),
        with_times(i64::MIN, i64::MIN, i64::MIN + 1, i64::MIN),
        with_times(i64::MAX, i64::MAX - 1, i64::MAX, i64::MAX),
    ];
    for (i, pass) in cases.iter().enumerate() {
        for now in [NOW, i64::MIN, i64::MAX, 0] {
            let v = verify(&text_of(pass), &bundle(), "C201", now);
            assert_eq!(v.level(), Level::Red, "case {i} at {now}: {:?}", v.reasons);
        }
    }
    // A pass whose times are fine, judged at an absurd clock: red or amber, never a panic.
    for now in [i64::MIN, i64::MAX] {
        assert_ne!(
            verify(&text_of(&p), &bundle(), "C201", now).level(),
            Level::Green
        );
    }
}

#[test]
fn a_compromised_key_refuses_its_passes() {
    let text = text_of(&sample::pass());
    let mut b = bundle();
    b.keys[0].compromised_since = Some(COMPROMISED_ALWAYS);
    let v = verify(&text, &b, "C201", NOW);
    assert_eq!(codes(&v), vec![ReasonCode::KeyCompromised]);
    assert!(v.reasons[0]
        .message(crate::verdict::Lang::Zh)
        .contains("一律无效"));
    // Declared stolen after this pass was signed: the pass stands.
    b.keys[0].compromised_since = Some(sample::ISSUED_AT + 1);
    assert_eq!(verify(&text, &b, "C201", NOW).level(), Level::Green);
    b.keys[0].compromised_since = Some(sample::ISSUED_AT);
    let v = verify(&text, &b, "C201", NOW);
    assert_eq!(codes(&v), vec![ReasonCode::KeyCompromised]);
    assert!(v.reasons[0]
        .message(crate::verdict::Lang::En)
        .contains("after 2022-03-12 10:00"));
}

/// A bundle whose only key is the sample key, limited to `districts` and `categories`.
fn scoped_bundle(districts: &str, categories: &str) -> TrustBundle {
    let mut b = bundle();
    b.keys[0].scope = crate::scope::KeyScope::parse(districts, categories).unwrap();
    b
}

#[test]
fn a_scoped_key_vouches_only_inside_its_scope() {
    let pass = sample::pass(); // district 371003, raw materials
    let text = text_of(&pass);
    for (districts, categories) in [
        ("3710", ""),
        ("371003", "工业原材料"),
        ("", "1,2"),
        ("11,37", ""),
    ] {
        let v = verify(&text, &scoped_bundle(districts, categories), "C201", NOW);
        assert_eq!(
            v.level(),
            Level::Green,
            "{districts} / {categories}: {:?}",
            v.reasons
        );
    }
    // A Beijing Xicheng key cannot vouch for a Weihai pass, even a genuinely signed one.
    let v = verify(&text, &scoped_bundle("110102,1101", ""), "C201", NOW);
    assert_eq!(codes(&v), vec![ReasonCode::KeyOutOfScope]);
    assert_eq!(v.level(), Level::Red);
    assert_eq!(
        v.reasons[0],
        Reason::KeyOutOfScope {
            kid: key().kid().to_hex(),
            district: Some(371003),
            category: None
        }
    );
    assert!(v.reasons[0]
        .message(crate::verdict::Lang::Zh)
        .contains("区划 371003"));
    // A finished-goods key cannot vouch for raw materials.
    let v = verify(
        &text,
        &scoped_bundle("3710", "产成品,返岗人员"),
        "C201",
        NOW,
    );
    assert_eq!(codes(&v), vec![ReasonCode::KeyOutOfScope]);
    assert!(v.reasons[0]
        .message(crate::verdict::Lang::En)
        .contains("industrial raw materials passes"));
    // Both outside: one reason naming both.
    let v = verify(&text, &scoped_bundle("1101", "3"), "C201", NOW);
    assert_eq!(
        v.reasons,
        vec![Reason::KeyOutOfScope {
            kid: key().kid().to_hex(),
            district: Some(371003),
            category: Some(crate::pass::Category::RawMaterials)
        }]
    );
    // The scope binds the key that signed, not another key of the bundle.
    let other = SigningKey::from_seed(&[0x77; 32]);
    let mut b = bundle();
    b.keys.push(IssuerKey {
        public_key: other.public_key(),
        scope: crate::scope::KeyScope::parse("1101", "").unwrap(),
        ..b.keys[0].clone()
    });
    assert_eq!(verify(&text, &b, "C201", NOW).level(), Level::Green);
    let stolen = issue_qr_text(&pass, &other).unwrap();
    assert_eq!(
        codes(&verify(&stolen, &b, "C201", NOW)),
        vec![ReasonCode::KeyOutOfScope]
    );
}

#[test]
fn an_expired_pass_stays_red_with_the_clock_set_back() {
    let p = sample::pass();
    let b = sample::bundle(&key(), 1, p.expires_at - HOUR);
    let text = text_of(&p);
    let floor = p.expires_at + HOUR;
    let behind = Clock {
        now: NOW,
        floor: Some(floor),
    };
    let v = verify_at(&text, &b, "C201", behind);
    assert!(v.has(ReasonCode::Expired), "{:?}", v.reasons);
    assert_eq!(v.level(), Level::Red);
    assert!(v.reasons.contains(&Reason::Expired {
        expires_at: p.expires_at,
        judged_at: Some(floor)
    }));
    assert!(v
        .reasons
        .iter()
        .any(|r| r.message(crate::verdict::Lang::Zh).contains("本机时钟落后")));
    // With no floor, the set-back clock alone would have let it through.
    assert!(!verify(&text, &b, "C201", NOW).has(ReasonCode::Expired));
}

#[test]
fn a_floor_beyond_the_bundle_age_is_not_trusted() {
    let p = sample::pass();
    let b = bundle();
    // One scan under a clock that had jumped to 2099.
    let poisoned = Clock {
        now: NOW,
        floor: Some(4_070_908_800),
    };
    assert_eq!(poisoned.judged_at(&b), NOW);
    assert_eq!(
        verify_at(&text_of(&p), &b, "C201", poisoned).level(),
        Level::Green
    );
    let limit = b.issued_at + b.policy.max_bundle_age_secs;
    assert_eq!(trusted_floor(Some(limit), &b), Some(limit));
    assert_eq!(trusted_floor(Some(limit + 1), &b), None);
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

    /// Random claim times, extremes included, are green only when every window rule holds.
    #[test]
    fn random_times_are_green_only_when_every_window_rule_holds(
        iat in time_strategy(), nbf in time_strategy(), len in prop_oneof![1i64..=200 * HOUR, any::<i64>()],
        sampled in time_strategy(), now in time_strategy(),
    ) {
        let exp = nbf.saturating_add(len.max(1));
        prop_assume!(exp > nbf);
        let b = bundle();
        let pass = with_times(iat, nbf, exp, sampled);
        let v = verify(&text_of(&pass), &b, "C201", now);
        let p = &b.policy;
        let k = &b.keys[0];
        let holds = (|| {
            Some(iat >= k.valid_from && iat <= k.valid_to
                && exp.checked_sub(nbf)? <= p.max_validity_secs
                && nbf >= iat.checked_sub(p.clock_skew_secs)?
                && exp <= k.valid_to.checked_add(p.max_validity_secs)?
                && sampled <= iat
                && sampled >= nbf.checked_sub(p.max_test_age_secs)?.checked_sub(p.max_validity_secs)?
                && now.checked_add(p.clock_skew_secs)? >= nbf
                && now.checked_sub(p.clock_skew_secs)? < exp
                && now.checked_sub(sampled)? <= p.max_test_age_secs)
        })().unwrap_or(false);
        if v.level() == Level::Green {
            prop_assert!(holds, "green although a rule fails: {:?}", (iat, nbf, exp, sampled, now));
        }
        if !holds {
            prop_assert_ne!(v.level(), Level::Green);
        }
    }
}

/// Times near the sample pass (where green is possible), and anywhere including the extremes.
fn time_strategy() -> impl Strategy<Value = i64> {
    prop_oneof![
        4 => (NOW - 100 * HOUR)..(NOW + 100 * HOUR),
        1 => any::<i64>(),
        1 => Just(i64::MIN),
        1 => Just(i64::MAX),
    ]
}

/// Issue 14 point 3: a pass with a planned arrival at its last checkpoint warns, with its own
/// reason, when the test or the pass will not last until then — and only while the arrival
/// is still to come.
#[test]
fn a_planned_arrival_looks_ahead() {
    let b = bundle();
    let arriving = |at: i64| {
        let mut p = sample::pass();
        p.body.arrive_by = Some(at);
        text_of(&p)
    };
    // Sampled 2022-03-11 22:00: 48 h run out at 2022-03-13 22:00.
    let in_time = arriving(1_647_172_800); // 2022-03-13 20:00
    assert_eq!(verify(&in_time, &b, "C201", NOW).level(), Level::Green);
    let late = arriving(1_647_223_200); // 2022-03-14 10:00
    let v = verify(&late, &b, "C201", NOW);
    assert_eq!(codes(&v), vec![ReasonCode::TestExpiresBeforeArrival]);
    assert_eq!(v.level(), Level::Amber);
    let zh = v.reasons[0].message(Lang::Zh);
    assert!(zh.starts_with("核酸将在到达前超过48小时"), "{zh}");
    assert!(zh.contains("2022-03-14 10:00"), "{zh}");
    // After the window's end (2022-03-14 19:00) too: both.
    let after_window = arriving(1_647_266_400); // 2022-03-14 21:00
    let v = verify(&after_window, &b, "C201", NOW);
    assert_eq!(
        codes(&v),
        vec![
            ReasonCode::TestExpiresBeforeArrival,
            ReasonCode::PassExpiresBeforeArrival
        ]
    );
    assert!(v.reasons[1]
        .message(Lang::En)
        .starts_with("The pass will expire before arrival"));
    // Once the test is too old already, that reason says it; the look-ahead adds nothing.
    let v = verify(&late, &b, "C201", 1_647_183_600); // 2022-03-13 23:00
    assert_eq!(codes(&v), vec![ReasonCode::TestTooOld]);
    // A planned arrival already past: nothing to look ahead to.
    let v = verify(&arriving(NOW - HOUR), &b, "C201", NOW);
    assert_eq!(v.level(), Level::Green, "{:?}", v.reasons);
    // A planned arrival before the window opens is not a pass the issuer makes.
    let mut p = sample::pass();
    p.body.arrive_by = Some(p.not_before - 1);
    assert!(sign_pass(&p, &key()).is_err());
}
