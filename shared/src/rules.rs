//! The verification rules: one pure function from (QR text, trust bundle, this checkpoint,
//! now) to a [`Verdict`] listing every finding.
//!
//! Order matters only for what can be known: nothing of the payload is read before the
//! signature verified against a key of the bundle, so a forged pass shows no facts. Once the
//! signature holds, every rule runs and every failure is listed.

use crate::bundle::TrustBundle;
use crate::pass::Pass;
use crate::time::{format_cst, hours};
use crate::verdict::{OfficerView, Reason, RouteStop, Verdict};
use crate::wire::{decode_qr_text, WireError};

/// Checks a QR text at `checkpoint` at time `now` (unix seconds).
pub fn verify(qr_text: &str, bundle: &TrustBundle, checkpoint: &str, now: i64) -> Verdict {
    let mut verdict = Verdict::new(checkpoint, now);
    check_pass(qr_text, bundle, checkpoint, now, &mut verdict);
    check_environment(bundle, checkpoint, now, &mut verdict);
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

fn check_pass(text: &str, bundle: &TrustBundle, checkpoint: &str, now: i64, v: &mut Verdict) {
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
    let skew = bundle.policy.clock_skew_secs;
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
    if bundle.revoked.contains(pass.serial) {
        v.add(Reason::Revoked);
    }
    if now + skew < pass.not_before {
        v.add(Reason::NotYetValid {
            not_before: pass.not_before,
        });
    }
    if now - skew >= pass.expires_at {
        v.add(Reason::Expired {
            expires_at: pass.expires_at,
        });
    }
    if !pass.body.route.iter().any(|c| c == checkpoint) {
        v.add(Reason::NotOnRoute {
            checkpoint: checkpoint.to_string(),
        });
    }
    let test_age = now - pass.body.test_sampled_at;
    if test_age > bundle.policy.max_test_age_secs {
        v.add(Reason::TestTooOld {
            age_hours: hours(test_age),
            max_hours: hours(bundle.policy.max_test_age_secs),
        });
    }
    v.view = Some(officer_view(&pass, bundle, checkpoint, now));
    v.pass = Some(pass);
}

/// Findings about the checkpoint itself, whatever was scanned.
fn check_environment(bundle: &TrustBundle, checkpoint: &str, now: i64, v: &mut Verdict) {
    if now + bundle.policy.clock_skew_secs < bundle.issued_at {
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
    OfficerView {
        serial: pass.serial.to_string(),
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
        test_age_hours: hours(now - b.test_sampled_at),
    }
}

#[cfg(test)]
mod tests;
