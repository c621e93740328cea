//! Verdicts and their reasons, with the words an officer reads.
//!
//! A [`Verdict`] is a list of [`Reason`]s; its [`Level`] is derived from them (the worst one,
//! green when there is none), so a reason can never be recorded without the colour following.
//! Every reason has a stable code for logs and scripts and a message in Chinese and English.

use serde::Serialize;

use crate::pass::{Category, Pass, Serial};
use crate::time::{format_cst, hours};

/// Green: everything holds. Amber: valid, but the officer must look. Red: refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Green,
    Amber,
    Red,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Green => "green",
            Level::Amber => "amber",
            Level::Red => "red",
        }
    }

    /// The one large word on the verdict screen.
    pub fn word(self, lang: Lang) -> &'static str {
        match self {
            Level::Green => msg!(lang, level.green),
            Level::Amber => msg!(lang, level.amber),
            Level::Red => msg!(lang, level.red),
        }
    }
}

/// The language of messages. Chinese first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Zh,
    En,
}

/// Stable codes of reasons, as logged and printed by `--json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReasonCode {
    NotAPass,
    UnsupportedVersion,
    Damaged,
    UnsupportedAlgorithm,
    UnknownKey,
    BadSignature,
    KeyNotValid,
    KeyCompromised,
    KeyOutOfScope,
    WrongIssuer,
    Revoked,
    NotYetValid,
    Expired,
    ValidityTooLong,
    StartsBeforeIssue,
    OutlivesKey,
    TestTimeImplausible,
    TimeOutOfRange,
    NotOnRoute,
    TestTooOld,
    TestExpiresBeforeArrival,
    PassExpiresBeforeArrival,
    RepeatScan,
    BundleStale,
    ClockBehind,
    UnknownCheckpoint,
}

impl ReasonCode {
    pub const ALL: [ReasonCode; 26] = [
        ReasonCode::NotAPass,
        ReasonCode::UnsupportedVersion,
        ReasonCode::Damaged,
        ReasonCode::UnsupportedAlgorithm,
        ReasonCode::UnknownKey,
        ReasonCode::BadSignature,
        ReasonCode::KeyNotValid,
        ReasonCode::KeyCompromised,
        ReasonCode::KeyOutOfScope,
        ReasonCode::WrongIssuer,
        ReasonCode::Revoked,
        ReasonCode::NotYetValid,
        ReasonCode::Expired,
        ReasonCode::ValidityTooLong,
        ReasonCode::StartsBeforeIssue,
        ReasonCode::OutlivesKey,
        ReasonCode::TestTimeImplausible,
        ReasonCode::TimeOutOfRange,
        ReasonCode::NotOnRoute,
        ReasonCode::TestTooOld,
        ReasonCode::TestExpiresBeforeArrival,
        ReasonCode::PassExpiresBeforeArrival,
        ReasonCode::RepeatScan,
        ReasonCode::BundleStale,
        ReasonCode::ClockBehind,
        ReasonCode::UnknownCheckpoint,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::NotAPass => "NOT_A_PASS",
            ReasonCode::UnsupportedVersion => "UNSUPPORTED_VERSION",
            ReasonCode::Damaged => "DAMAGED",
            ReasonCode::UnsupportedAlgorithm => "UNSUPPORTED_ALGORITHM",
            ReasonCode::UnknownKey => "UNKNOWN_KEY",
            ReasonCode::BadSignature => "BAD_SIGNATURE",
            ReasonCode::KeyNotValid => "KEY_NOT_VALID",
            ReasonCode::KeyCompromised => "KEY_COMPROMISED",
            ReasonCode::KeyOutOfScope => "KEY_OUT_OF_SCOPE",
            ReasonCode::WrongIssuer => "WRONG_ISSUER",
            ReasonCode::Revoked => "REVOKED",
            ReasonCode::NotYetValid => "NOT_YET_VALID",
            ReasonCode::Expired => "EXPIRED",
            ReasonCode::ValidityTooLong => "VALIDITY_TOO_LONG",
            ReasonCode::StartsBeforeIssue => "STARTS_BEFORE_ISSUE",
            ReasonCode::OutlivesKey => "OUTLIVES_KEY",
            ReasonCode::TestTimeImplausible => "TEST_TIME_IMPLAUSIBLE",
            ReasonCode::TimeOutOfRange => "TIME_OUT_OF_RANGE",
            ReasonCode::NotOnRoute => "NOT_ON_ROUTE",
            ReasonCode::TestTooOld => "TEST_TOO_OLD",
            ReasonCode::TestExpiresBeforeArrival => "TEST_EXPIRES_BEFORE_ARRIVAL",
            ReasonCode::PassExpiresBeforeArrival => "PASS_EXPIRES_BEFORE_ARRIVAL",
            ReasonCode::RepeatScan => "REPEAT_SCAN",
            ReasonCode::BundleStale => "BUNDLE_STALE",
            ReasonCode::ClockBehind => "CLOCK_BEHIND",
            ReasonCode::UnknownCheckpoint => "UNKNOWN_CHECKPOINT",
        }
    }

    pub fn parse(code: &str) -> Option<ReasonCode> {
        ReasonCode::ALL.into_iter().find(|c| c.as_str() == code)
    }

    pub fn level(self) -> Level {
        use ReasonCode::*;
        match self {
            NotAPass | UnsupportedVersion | Damaged | UnsupportedAlgorithm | UnknownKey
            | BadSignature | KeyNotValid | KeyCompromised | KeyOutOfScope | WrongIssuer
            | Revoked | NotYetValid | Expired | ValidityTooLong | StartsBeforeIssue
            | OutlivesKey | TestTimeImplausible | TimeOutOfRange => Level::Red,
            NotOnRoute
            | TestTooOld
            | TestExpiresBeforeArrival
            | PassExpiresBeforeArrival
            | RepeatScan
            | BundleStale
            | ClockBehind
            | UnknownCheckpoint => Level::Amber,
        }
    }
}

/// One finding, with the facts its message needs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    NotAPass,
    UnsupportedVersion {
        version: String,
    },
    /// The text looks like a pass but cannot be read; `detail` is technical (English).
    Damaged {
        detail: String,
    },
    UnsupportedAlgorithm,
    UnknownKey {
        kid: String,
    },
    BadSignature,
    KeyNotValid {
        kid: String,
    },
    /// The root declared the key stolen; `since` is when (None: every pass it ever signed).
    KeyCompromised {
        kid: String,
        since: Option<i64>,
    },
    /// The bundle limits the key to some districts or categories and the pass lies outside
    /// them (`district` / `category`: what is outside): what a stolen district key would mint.
    KeyOutOfScope {
        kid: String,
        district: Option<u32>,
        category: Option<Category>,
    },
    WrongIssuer {
        found: String,
    },
    Revoked,
    NotYetValid {
        not_before: i64,
    },
    /// `judged_at` is set when the window was judged against the clock floor (the latest time
    /// this device trusts it has seen) rather than its clock, which is behind it.
    Expired {
        expires_at: i64,
        judged_at: Option<i64>,
    },
    /// `exp − nbf` longer than the policy grants: what a stolen key would mint.
    ValidityTooLong {
        hours: i64,
        max_hours: i64,
    },
    /// `nbf` earlier than `iat` (beyond the skew): a pass cannot be valid before it existed.
    StartsBeforeIssue {
        not_before: i64,
        issued_at: i64,
    },
    /// `exp` after the key's last signing time plus the longest validity.
    OutlivesKey {
        kid: String,
        expires_at: i64,
    },
    /// The test sample was taken after the pass was issued, or long before it starts.
    TestTimeImplausible {
        sampled_at: i64,
    },
    /// A time of the pass is so far out that arithmetic on it overflows.
    TimeOutOfRange,
    NotOnRoute {
        checkpoint: String,
    },
    TestTooOld {
        age_hours: i64,
        max_hours: i64,
    },
    /// The test will be older than the policy allows when the vehicle plans to reach its last
    /// checkpoint (`arrive_by`).
    TestExpiresBeforeArrival {
        arrive_by: i64,
        max_hours: i64,
    },
    /// The pass will have expired when the vehicle plans to reach its last checkpoint.
    PassExpiresBeforeArrival {
        arrive_by: i64,
        expires_at: i64,
    },
    RepeatScan {
        seconds_ago: i64,
    },
    BundleStale {
        age_hours: i64,
    },
    ClockBehind {
        reference: i64,
    },
    UnknownCheckpoint {
        checkpoint: String,
    },
}

impl Reason {
    pub fn code(&self) -> ReasonCode {
        match self {
            Reason::NotAPass => ReasonCode::NotAPass,
            Reason::UnsupportedVersion { .. } => ReasonCode::UnsupportedVersion,
            Reason::Damaged { .. } => ReasonCode::Damaged,
            Reason::UnsupportedAlgorithm => ReasonCode::UnsupportedAlgorithm,
            Reason::UnknownKey { .. } => ReasonCode::UnknownKey,
            Reason::BadSignature => ReasonCode::BadSignature,
            Reason::KeyNotValid { .. } => ReasonCode::KeyNotValid,
            Reason::KeyCompromised { .. } => ReasonCode::KeyCompromised,
            Reason::KeyOutOfScope { .. } => ReasonCode::KeyOutOfScope,
            Reason::WrongIssuer { .. } => ReasonCode::WrongIssuer,
            Reason::Revoked => ReasonCode::Revoked,
            Reason::NotYetValid { .. } => ReasonCode::NotYetValid,
            Reason::Expired { .. } => ReasonCode::Expired,
            Reason::ValidityTooLong { .. } => ReasonCode::ValidityTooLong,
            Reason::StartsBeforeIssue { .. } => ReasonCode::StartsBeforeIssue,
            Reason::OutlivesKey { .. } => ReasonCode::OutlivesKey,
            Reason::TestTimeImplausible { .. } => ReasonCode::TestTimeImplausible,
            Reason::TimeOutOfRange => ReasonCode::TimeOutOfRange,
            Reason::NotOnRoute { .. } => ReasonCode::NotOnRoute,
            Reason::TestTooOld { .. } => ReasonCode::TestTooOld,
            Reason::TestExpiresBeforeArrival { .. } => ReasonCode::TestExpiresBeforeArrival,
            Reason::PassExpiresBeforeArrival { .. } => ReasonCode::PassExpiresBeforeArrival,
            Reason::RepeatScan { .. } => ReasonCode::RepeatScan,
            Reason::BundleStale { .. } => ReasonCode::BundleStale,
            Reason::ClockBehind { .. } => ReasonCode::ClockBehind,
            Reason::UnknownCheckpoint { .. } => ReasonCode::UnknownCheckpoint,
        }
    }

    pub fn level(&self) -> Level {
        self.code().level()
    }

    /// The sentence the officer reads.
    pub fn message(&self, lang: Lang) -> String {
        let t = |at: &i64| format_cst(*at);
        match self {
            Reason::NotAPass => msg!(lang, reason.not_a_pass).into(),
            Reason::UnsupportedVersion { version } => {
                msg!(lang, reason.unsupported_version, version = version)
            }
            Reason::Damaged { detail } => msg!(lang, reason.damaged, detail = detail),
            Reason::UnsupportedAlgorithm => msg!(lang, reason.unsupported_algorithm).into(),
            Reason::UnknownKey { kid } => msg!(lang, reason.unknown_key, kid = kid),
            Reason::BadSignature => msg!(lang, reason.bad_signature).into(),
            Reason::KeyNotValid { kid } => msg!(lang, reason.key_not_valid, kid = kid),
            Reason::KeyCompromised { kid, since: None } => {
                msg!(lang, reason.key_compromised, kid = kid)
            }
            Reason::KeyCompromised {
                kid,
                since: Some(since),
            } => msg!(
                lang,
                reason.key_compromised_since,
                kid = kid,
                since = t(since)
            ),
            Reason::KeyOutOfScope {
                kid,
                district,
                category,
            } => {
                let name = |c: &Category| match lang {
                    Lang::Zh => c.label_zh(),
                    Lang::En => c.label_en(),
                };
                let what = match (district, category) {
                    (Some(d), Some(c)) => msg!(
                        lang,
                        reason.key_scope_district_category,
                        district = d,
                        category = name(c)
                    ),
                    (Some(d), None) => msg!(lang, reason.key_scope_district, district = d),
                    (None, Some(c)) => msg!(lang, reason.key_scope_category, category = name(c)),
                    (None, None) => msg!(lang, reason.key_scope_any).into(),
                };
                msg!(lang, reason.key_out_of_scope, kid = kid, what = what)
            }
            Reason::WrongIssuer { found } => msg!(lang, reason.wrong_issuer, found = found),
            Reason::Revoked => msg!(lang, reason.revoked).into(),
            Reason::NotYetValid { not_before } => {
                msg!(lang, reason.not_yet_valid, not_before = t(not_before))
            }
            Reason::Expired {
                expires_at,
                judged_at: None,
            } => msg!(lang, reason.expired, expires_at = t(expires_at)),
            Reason::Expired {
                expires_at,
                judged_at: Some(at),
            } => msg!(
                lang,
                reason.expired_judged_at,
                expires_at = t(expires_at),
                judged_at = t(at)
            ),
            Reason::ValidityTooLong { hours, max_hours } => msg!(
                lang,
                reason.validity_too_long,
                hours = hours,
                max_hours = max_hours
            ),
            Reason::StartsBeforeIssue {
                not_before,
                issued_at,
            } => msg!(
                lang,
                reason.starts_before_issue,
                not_before = t(not_before),
                issued_at = t(issued_at)
            ),
            Reason::OutlivesKey { kid, expires_at } => msg!(
                lang,
                reason.outlives_key,
                kid = kid,
                expires_at = t(expires_at)
            ),
            Reason::TestTimeImplausible { sampled_at } => msg!(
                lang,
                reason.test_time_implausible,
                sampled_at = t(sampled_at)
            ),
            Reason::TimeOutOfRange => msg!(lang, reason.time_out_of_range).into(),
            Reason::NotOnRoute { checkpoint } => {
                msg!(lang, reason.not_on_route, checkpoint = checkpoint)
            }
            Reason::TestTooOld {
                age_hours,
                max_hours,
            } => msg!(
                lang,
                reason.test_too_old,
                age_hours = age_hours,
                max_hours = max_hours
            ),
            Reason::TestExpiresBeforeArrival {
                arrive_by,
                max_hours,
            } => msg!(
                lang,
                reason.test_expires_before_arrival,
                arrive_by = t(arrive_by),
                max_hours = max_hours
            ),
            Reason::PassExpiresBeforeArrival {
                arrive_by,
                expires_at,
            } => msg!(
                lang,
                reason.pass_expires_before_arrival,
                arrive_by = t(arrive_by),
                expires_at = t(expires_at)
            ),
            Reason::RepeatScan { seconds_ago } if *seconds_ago < 60 => {
                msg!(lang, reason.repeat_scan_just_now).into()
            }
            Reason::RepeatScan { seconds_ago } => {
                msg!(lang, reason.repeat_scan_minutes, minutes = seconds_ago / 60)
            }
            Reason::BundleStale { age_hours } => {
                msg!(lang, reason.bundle_stale, age_hours = age_hours)
            }
            Reason::ClockBehind { reference } => {
                msg!(lang, reason.clock_behind, reference = t(reference))
            }
            Reason::UnknownCheckpoint { checkpoint } => {
                msg!(lang, reason.unknown_checkpoint, checkpoint = checkpoint)
            }
        }
    }
}

/// One stop of the route as the officer sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RouteStop {
    pub code: String,
    /// The registry's name (the verifier: the code again if its bundle does not know it; the
    /// printed sheet: empty if the issuer's registry does not).
    pub name: String,
    /// This is the checkpoint doing the scan (never on the printed sheet).
    pub here: bool,
}

/// The facts of a pass as people read them, as display strings: printed on the pass sheet
/// (issuer), listed by `verifier check`, shown on the GUI's verdict screen. The one type for
/// all three; the full ID number and the phone number are never in it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PassFacts {
    /// The national pass number (`371003-000001-6`), what the officer reads out and types.
    pub number: String,
    pub plate: String,
    pub trailer: Option<String>,
    pub driver_name: String,
    /// e.g. "371083********6619".
    pub driver_id_masked: String,
    pub occupants: u16,
    pub category_zh: String,
    pub category_en: String,
    pub cargo: String,
    pub origin: String,
    pub destination: String,
    /// Checkpoints in order.
    pub route: Vec<RouteStop>,
    /// Local time (UTC+8), e.g. "2022-03-12 19:00".
    pub valid_from: String,
    pub valid_to: String,
    pub test_sampled_at: String,
    /// The planned arrival at the last checkpoint (UTC+8), when the pass carries one (left out
    /// of the JSON when not, which keeps the JSON of earlier passes as it was).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arrive_by: Option<String>,
}

impl PassFacts {
    /// The category label in `lang`.
    pub fn category(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.category_zh,
            Lang::En => &self.category_en,
        }
    }
}

/// The facts the officer compares against the truck and the driver's ID card. Built only from
/// a pass whose signature verified. Reads as its [`PassFacts`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OfficerView {
    pub serial: String,
    #[serde(flatten)]
    pub facts: PassFacts,
    /// Whole hours since the test sample was taken.
    pub test_age_hours: i64,
}

impl std::ops::Deref for OfficerView {
    type Target = PassFacts;

    fn deref(&self) -> &PassFacts {
        &self.facts
    }
}

/// A pass whose signature verified against a key of the trust bundle. Only the rules make one
/// ([`crate::rules::verify_at`], after the signature check): parse, then check, so a verdict
/// that holds a pass says the check ran — nothing else can put one there. It reads as the
/// [`Pass`] it wraps.
///
/// Outside this crate there is no way to make one from a pass:
///
/// ```compile_fail
/// let p = checkpass::verdict::VerifiedPass::new(checkpass::sample::pass());
/// ```
///
/// ```compile_fail
/// let p = checkpass::verdict::VerifiedPass(checkpass::sample::pass());
/// ```
///
/// only by verifying one:
///
/// ```
/// use checkpass::{rules, sample, wire};
/// let key = sample::vector_signing_key();
/// let text = wire::issue_qr_text(&sample::pass(), &key).unwrap();
/// let v = rules::verify(&text, &sample::bundle(&key, 1, sample::NOW), "C101", sample::NOW);
/// assert_eq!(v.pass.unwrap().into_pass(), sample::pass());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedPass(Pass);

impl VerifiedPass {
    /// Only for the rules, once the signature held.
    pub(crate) fn new(pass: Pass) -> VerifiedPass {
        VerifiedPass(pass)
    }

    pub fn pass(&self) -> &Pass {
        &self.0
    }

    pub fn into_pass(self) -> Pass {
        self.0
    }
}

impl std::ops::Deref for VerifiedPass {
    type Target = Pass;

    fn deref(&self) -> &Pass {
        &self.0
    }
}

impl PartialEq<Pass> for VerifiedPass {
    fn eq(&self, other: &Pass) -> bool {
        self.0 == *other
    }
}

/// The outcome of checking one QR text at one checkpoint at one time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub reasons: Vec<Reason>,
    /// The pass, only when its signature verified against a trusted key.
    pub pass: Option<VerifiedPass>,
    pub view: Option<OfficerView>,
    pub checkpoint: String,
    pub checked_at: i64,
}

impl Verdict {
    pub fn new(checkpoint: &str, checked_at: i64) -> Verdict {
        Verdict {
            reasons: Vec::new(),
            pass: None,
            view: None,
            checkpoint: checkpoint.to_string(),
            checked_at,
        }
    }

    /// The worst level among the reasons; green when there are none.
    pub fn level(&self) -> Level {
        self.reasons
            .iter()
            .map(Reason::level)
            .max()
            .unwrap_or(Level::Green)
    }

    /// Adds a finding (the engine adds repeat-scan and clock findings this way).
    pub fn add(&mut self, reason: Reason) {
        if !self.reasons.contains(&reason) {
            self.reasons.push(reason);
        }
    }

    pub fn has(&self, code: ReasonCode) -> bool {
        self.reasons.iter().any(|r| r.code() == code)
    }

    pub fn codes(&self) -> Vec<&'static str> {
        self.reasons.iter().map(|r| r.code().as_str()).collect()
    }

    pub fn serial(&self) -> Option<Serial> {
        self.pass.as_ref().map(|p| p.serial)
    }

    /// Whole hours, rounded down, for messages.
    pub fn test_age_hours(&self) -> Option<i64> {
        self.pass
            .as_ref()
            .map(|p| hours(self.checked_at.saturating_sub(p.body.test_sampled_at)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The officer view's JSON (verifier `check --json`, the web app) keeps its flat fields
    /// now that the facts are a [`PassFacts`] of their own.
    #[test]
    fn the_officer_view_serialises_flat() {
        let key = crate::sample::vector_signing_key();
        let text = crate::wire::issue_qr_text(&crate::sample::pass(), &key).unwrap();
        let bundle = crate::sample::bundle(&key, 1, crate::sample::NOW);
        let v = crate::rules::verify(&text, &bundle, "C101", crate::sample::NOW);
        let json = serde_json::to_value(v.view.unwrap()).unwrap();
        let mut keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            vec![
                "cargo",
                "category_en",
                "category_zh",
                "destination",
                "driver_id_masked",
                "driver_name",
                "number",
                "occupants",
                "origin",
                "plate",
                "route",
                "serial",
                "test_age_hours",
                "test_sampled_at",
                "trailer",
                "valid_from",
                "valid_to",
            ]
        );
        // A pass with a planned arrival adds that field alone.
        let mut pass = crate::sample::pass();
        pass.body.arrive_by = Some(pass.not_before + 3600);
        let text = crate::wire::issue_qr_text(&pass, &key).unwrap();
        let v = crate::rules::verify(&text, &bundle, "C101", crate::sample::NOW);
        let json = serde_json::to_value(v.view.unwrap()).unwrap();
        assert_eq!(
            json["arrive_by"],
            crate::time::format_cst(pass.not_before + 3600)
        );
        assert_eq!(json.as_object().unwrap().len(), keys.len() + 1);
    }

    #[test]
    fn level_is_the_worst_reason() {
        let mut v = Verdict::new("C101", 0);
        assert_eq!(v.level(), Level::Green);
        v.add(Reason::TestTooOld {
            age_hours: 50,
            max_hours: 48,
        });
        assert_eq!(v.level(), Level::Amber);
        v.add(Reason::Revoked);
        assert_eq!(v.level(), Level::Red);
        v.add(Reason::Revoked);
        assert_eq!(v.reasons.len(), 2, "a reason is listed once");
        assert_eq!(v.codes(), vec!["TEST_TOO_OLD", "REVOKED"]);
    }

    #[test]
    fn every_code_is_stable_and_parses_back() {
        for c in ReasonCode::ALL {
            assert_eq!(ReasonCode::parse(c.as_str()), Some(c));
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
        }
    }

    #[test]
    fn messages_exist_in_both_languages() {
        let r = Reason::Expired {
            expires_at: 1_647_259_200,
            judged_at: None,
        };
        assert_eq!(
            r.message(Lang::Zh),
            "通行证已过期（有效期至 2022-03-14 20:00）"
        );
        assert!(r.message(Lang::En).starts_with("Expired"));
        assert_eq!(Level::Red.word(Lang::Zh), "拒绝");
    }
}
