//! The verification rules: one pure function from (QR text, trust bundle, this checkpoint,
//! now) to a [`Verdict`] listing every finding.
//!
//! Order matters only for what can be known: nothing of the payload is read before the
//! signature verified against a key of the bundle, so a forged pass shows no facts. Once the
//! signature holds, every rule runs and every failure is listed.
//!
//! A genuine signature is not enough: a thief of a signing key can sign anything. The shape
//! rules bound what such a pass can claim (no window longer than the policy grants, no start
//! before issue, no end past the key's life plus one window, a test sample time that fits), so
//! a compromise declared in the next bundle ends every pass the thief made within one window.
//! A key the bundle scopes to some districts or categories vouches for nothing outside them.
//!
//! The rules that need the scan log (repeat scan, clock behind) are [`log`]'s.

pub mod log;

use crate::bundle::{IssuerKey, Policy, TrustBundle, COMPROMISED_ALWAYS};
use crate::number;
use crate::pass::Pass;
use crate::time::{format_cst, hours};
use crate::verdict::{
    OfficerView, PassFacts, Reason, ReasonCode, RouteStop, Verdict, VerifiedPass,
};
use crate::wire::{decode_qr_text, WireError};

/// The time a verdict is judged at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    /// The device's clock, or the simulated time.
    pub now: i64,
    /// The latest time this device has seen for real (its newest scan not made under a
    /// simulated clock, since the last clock correction), if any. A clock set back cannot make
    /// an expired pass valid again: windows are judged against the later of the two.
    pub floor: Option<i64>,
}

impl Clock {
    /// Only the device's clock, with no history (a fresh device, a script, the issuer).
    pub fn at(now: i64) -> Clock {
        Clock { now, floor: None }
    }

    /// The time windows are judged at: `now`, or the floor when it is later and trusted.
    pub fn judged_at(&self, bundle: &TrustBundle) -> i64 {
        trusted_floor(self.floor, bundle).map_or(self.now, |f| f.max(self.now))
    }
}

/// The floor, unless it lies beyond the bundle's issue time plus its longest age: a clock that
/// jumped forward once (or a poisoned log) must not make every later pass expired.
pub fn trusted_floor(floor: Option<i64>, bundle: &TrustBundle) -> Option<i64> {
    let limit = bundle
        .issued_at
        .checked_add(bundle.policy.max_bundle_age_secs)?;
    floor.filter(|f| *f <= limit)
}

/// Checks a QR text at `checkpoint` at time `now` (unix seconds), with no clock floor.
pub fn verify(qr_text: &str, bundle: &TrustBundle, checkpoint: &str, now: i64) -> Verdict {
    verify_at(qr_text, bundle, checkpoint, Clock::at(now))
}

/// Checks a QR text at `checkpoint` at the time `clock` gives.
pub fn verify_at(qr_text: &str, bundle: &TrustBundle, checkpoint: &str, clock: Clock) -> Verdict {
    let mut verdict = Verdict::new(checkpoint, clock.now);
    check_pass(qr_text, bundle, checkpoint, clock, &mut verdict);
    check_environment(bundle, checkpoint, clock.now, &mut verdict);
    verdict
}

fn wire_reason(e: WireError) -> Reason {
    match e {
        WireError::NotAPass => Reason::NotAPass,
        WireError::UnsupportedVersion(version) => Reason::UnsupportedVersion { version },
        WireError::UnsupportedAlgorithm(_) => Reason::UnsupportedAlgorithm,
        WireError::BadSignature => Reason::BadSignature,
        other => Reason::Damaged {
            detail: other.to_string(),
        },
    }
}

fn check_pass(text: &str, bundle: &TrustBundle, checkpoint: &str, clock: Clock, v: &mut Verdict) {
    let signed = match decode_qr_text(text) {
        Ok(s) => s,
        Err(e) => return v.add(wire_reason(e)),
    };
    let Some(key) = bundle.key(signed.kid) else {
        return v.add(Reason::UnknownKey {
            kid: signed.kid.to_hex(),
        });
    };
    if let Err(e) = signed.verify_signature(&key.public_key) {
        return v.add(wire_reason(e));
    }
    let pass = match signed.pass() {
        Ok(p) => p,
        Err(e) => return v.add(wire_reason(e)),
    };
    if pass.issuer != bundle.issuer {
        v.add(Reason::WrongIssuer {
            found: pass.issuer.clone(),
        });
    }
    if pass.issued_at < key.valid_from || pass.issued_at > key.valid_to {
        v.add(Reason::KeyNotValid {
            kid: signed.kid.to_hex(),
        });
    }
    if key.compromised_at(pass.issued_at) {
        v.add(Reason::KeyCompromised {
            kid: signed.kid.to_hex(),
            since: key.compromised_since.filter(|s| *s != COMPROMISED_ALWAYS),
        });
    }
    if let Err(out) = key.scope.check(&pass.body) {
        v.add(Reason::KeyOutOfScope {
            kid: signed.kid.to_hex(),
            district: out.district,
            category: out.category,
        });
    }
    if bundle.revoked.contains(pass.serial) {
        v.add(Reason::Revoked);
    }
    let judged = clock.judged_at(bundle);
    check_shape(&pass, key, &bundle.policy, v);
    check_window(&pass, &bundle.policy, clock.now, judged, v);
    check_ahead(&pass, &bundle.policy, judged, v);
    if !pass.body.route.iter().any(|c| c == checkpoint) {
        v.add(Reason::NotOnRoute {
            checkpoint: checkpoint.to_string(),
        });
    }
    v.view = Some(officer_view(&pass, bundle, checkpoint, judged));
    v.pass = Some(VerifiedPass::new(pass));
}

/// The times of the pass among themselves and against its key: what bounds a pass minted with
/// a stolen key. Every subtraction is checked; a time that overflows is red, never wrapped.
fn check_shape(pass: &Pass, key: &IssuerKey, policy: &Policy, v: &mut Verdict) {
    let max = policy.max_validity_secs;
    let sampled = pass.body.test_sampled_at;
    let (Some(length), Some(earliest_start), Some(key_end), Some(earliest_sample)) = (
        pass.expires_at.checked_sub(pass.not_before),
        pass.issued_at.checked_sub(policy.clock_skew_secs),
        key.valid_to.checked_add(max),
        pass.not_before
            .checked_sub(policy.max_test_age_secs)
            .and_then(|t| t.checked_sub(max)),
    ) else {
        return v.add(Reason::TimeOutOfRange);
    };
    if length > max {
        v.add(Reason::ValidityTooLong {
            hours: hours(length),
            max_hours: hours(max),
        });
    }
    if pass.not_before < earliest_start {
        v.add(Reason::StartsBeforeIssue {
            not_before: pass.not_before,
            issued_at: pass.issued_at,
        });
    }
    if pass.expires_at > key_end {
        v.add(Reason::OutlivesKey {
            kid: key.kid().to_hex(),
            expires_at: pass.expires_at,
        });
    }
    if sampled > pass.issued_at || sampled < earliest_sample {
        v.add(Reason::TestTimeImplausible {
            sampled_at: sampled,
        });
    }
}

/// The validity window and the test's age at `judged` (the later of `now` and a trusted
/// floor).
fn check_window(pass: &Pass, policy: &Policy, now: i64, judged: i64, v: &mut Verdict) {
    let skew = policy.clock_skew_secs;
    let (Some(latest), Some(earliest), Some(test_age)) = (
        judged.checked_add(skew),
        judged.checked_sub(skew),
        judged.checked_sub(pass.body.test_sampled_at),
    ) else {
        return v.add(Reason::TimeOutOfRange);
    };
    if latest < pass.not_before {
        v.add(Reason::NotYetValid {
            not_before: pass.not_before,
        });
    }
    if earliest >= pass.expires_at {
        v.add(Reason::Expired {
            expires_at: pass.expires_at,
            judged_at: (judged != now).then_some(judged),
        });
    }
    if test_age > policy.max_test_age_secs {
        v.add(Reason::TestTooOld {
            age_hours: hours(test_age),
            max_hours: hours(policy.max_test_age_secs),
        });
    }
}

/// Looking ahead to the planned arrival at the last checkpoint, when the pass gives one and
/// it is still to come: the test too old by then, or the pass expired by then, is amber with
/// its own reason (the vehicle may go on, but the officer can warn the driver). Not added when
/// the test is too old or the pass expired already: those reasons say more.
fn check_ahead(pass: &Pass, policy: &Policy, judged: i64, v: &mut Verdict) {
    let Some(arrive_by) = pass.body.arrive_by.filter(|a| *a > judged) else {
        return;
    };
    let test_at_arrival = arrive_by.checked_sub(pass.body.test_sampled_at);
    if !v.has(ReasonCode::TestTooOld)
        && test_at_arrival.is_some_and(|age| age > policy.max_test_age_secs)
    {
        v.add(Reason::TestExpiresBeforeArrival {
            arrive_by,
            max_hours: hours(policy.max_test_age_secs),
        });
    }
    if !v.has(ReasonCode::Expired) && arrive_by > pass.expires_at {
        v.add(Reason::PassExpiresBeforeArrival {
            arrive_by,
            expires_at: pass.expires_at,
        });
    }
}

/// Findings about the checkpoint itself, whatever was scanned.
fn check_environment(bundle: &TrustBundle, checkpoint: &str, now: i64, v: &mut Verdict) {
    if now.saturating_add(bundle.policy.clock_skew_secs) < bundle.issued_at {
        v.add(Reason::ClockBehind {
            reference: bundle.issued_at,
        });
    } else if bundle.is_stale(now) {
        v.add(Reason::BundleStale {
            age_hours: hours(bundle.age_secs(now)),
        });
    }
    if bundle.checkpoint(checkpoint).is_none() {
        v.add(Reason::UnknownCheckpoint {
            checkpoint: checkpoint.to_string(),
        });
    }
}

/// The facts of a verified pass, with the route's names from the registry.
pub fn officer_view(pass: &Pass, bundle: &TrustBundle, checkpoint: &str, now: i64) -> OfficerView {
    let b = &pass.body;
    let facts = PassFacts {
        number: number::printed(b.district, pass.serial),
        plate: b.plate.clone(),
        trailer: b.trailer.clone(),
        driver_name: b.driver_name.clone(),
        driver_id_masked: b.driver_id.to_string(),
        occupants: b.occupants,
        category_zh: b.category.label_zh().to_string(),
        category_en: b.category.label_en().to_string(),
        cargo: b.cargo.clone(),
        origin: b.origin.clone(),
        destination: b.destination.clone(),
        route: b
            .route
            .iter()
            .map(|code| RouteStop {
                code: code.clone(),
                name: bundle
                    .checkpoint(code)
                    .map_or_else(|| code.clone(), |c| c.name.clone()),
                here: code == checkpoint,
            })
            .collect(),
        valid_from: format_cst(pass.not_before),
        valid_to: format_cst(pass.expires_at),
        test_sampled_at: format_cst(b.test_sampled_at),
        arrive_by: b.arrive_by.map(format_cst),
    };
    OfficerView {
        serial: pass.serial.to_string(),
        facts,
        test_age_hours: hours(now.saturating_sub(b.test_sampled_at)),
    }
}

#[cfg(test)]
mod tests;
