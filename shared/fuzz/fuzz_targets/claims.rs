//! Genuinely signed passes with any claim times (the first 40 bytes: iat, nbf, exp, test
//! sample time and the checking time, as i64), verified with a bundle that may declare the key
//! compromised: never a panic, and green only when every window rule holds.
#![no_main]

use checkpass::bundle::TrustBundle;
use checkpass::{rules, sample, verdict::Level, wire};
use libfuzzer_sys::fuzz_target;

fn holds(b: &TrustBundle, iat: i64, nbf: i64, exp: i64, sampled: i64, now: i64) -> Option<bool> {
    let p = &b.policy;
    let k = &b.keys[0];
    Some(
        iat >= k.valid_from
            && iat <= k.valid_to
            && !k.compromised_at(iat)
            && exp.checked_sub(nbf)? <= p.max_validity_secs
            && nbf >= iat.checked_sub(p.clock_skew_secs)?
            && exp <= k.valid_to.checked_add(p.max_validity_secs)?
            && sampled <= iat
            && sampled >= nbf.checked_sub(p.max_test_age_secs)?.checked_sub(p.max_validity_secs)?
            && now.checked_add(p.clock_skew_secs)? >= nbf
            && now.checked_sub(p.clock_skew_secs)? < exp
            && now.checked_sub(sampled)? <= p.max_test_age_secs,
    )
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 41 {
        return;
    }
    let t = |i: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&data[i * 8..i * 8 + 8]);
        i64::from_le_bytes(b)
    };
    let (iat, nbf, exp, sampled, now) = (t(0), t(1), t(2), t(3), t(4));
    let key = sample::vector_signing_key();
    let mut bundle = sample::bundle(&key, 1, sample::ISSUED_AT);
    if data[40] & 1 == 1 {
        bundle.keys[0].compromised_since = Some(sample::ISSUED_AT);
    }
    let mut pass = sample::pass();
    pass.issued_at = iat;
    pass.not_before = nbf;
    pass.expires_at = exp;
    pass.body.test_sampled_at = sampled;
    let Ok(text) = wire::issue_qr_text(&pass, &key) else {
        return;
    };
    let v = rules::verify(&text, &bundle, "C201", now);
    if v.level() == Level::Green {
        assert_eq!(
            holds(&bundle, iat, nbf, exp, sampled, now),
            Some(true),
            "green although a rule fails: {:?}",
            (iat, nbf, exp, sampled, now)
        );
    }
});
