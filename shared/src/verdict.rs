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
        match (self, lang) {
            (Level::Green, Lang::Zh) => "通过",
            (Level::Amber, Lang::Zh) => "注意",
            (Level::Red, Lang::Zh) => "拒绝",
            (Level::Green, Lang::En) => "PASS",
            (Level::Amber, Lang::En) => "CHECK",
            (Level::Red, Lang::En) => "REFUSE",
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

/// The text in `lang` of a Chinese/English pair: the one helper the verifier's CLI, report and
/// GUI use for their words (the reasons' messages are [`Reason::message`]).
pub fn tr(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
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
        match lang {
            Lang::Zh => self.message_zh(),
            Lang::En => self.message_en(),
        }
    }

    fn message_zh(&self) -> String {
        match self {
            Reason::NotAPass => "不是通行证二维码".into(),
            Reason::UnsupportedVersion { version } => {
                format!("通行证版本 {version} 不受支持，请更新核验程序")
            }
            Reason::Damaged { .. } => "二维码内容损坏或被篡改，无法读取".into(),
            Reason::UnsupportedAlgorithm => "签名算法不受支持".into(),
            Reason::UnknownKey { kid } => format!("签发密钥未知（{kid}），可能是伪造或信任包过旧"),
            Reason::BadSignature => "签名无效：通行证是伪造的或被篡改".into(),
            Reason::KeyNotValid { kid } => format!("签发密钥 {kid} 在签发时不在有效期内"),
            Reason::KeyCompromised { kid, since: None } => {
                format!("签发密钥 {kid} 已被宣告泄露：其签发的通行证一律无效")
            }
            Reason::KeyCompromised {
                kid,
                since: Some(since),
            } => format!(
                "签发密钥 {kid} 已被宣告泄露：{} 以后签发的通行证一律无效",
                format_cst(*since)
            ),
            Reason::KeyOutOfScope {
                kid,
                district,
                category,
            } => {
                let what = match (district, category) {
                    (Some(d), Some(c)) => format!("区划 {d:06} 的{}", c.label_zh()),
                    (Some(d), None) => format!("区划 {d:06} 的"),
                    (None, Some(c)) => format!("{}类", c.label_zh()),
                    (None, None) => String::new(),
                };
                format!("签发密钥 {kid} 无权签发{what}通行证：疑为被盗密钥签发")
            }
            Reason::WrongIssuer { found } => format!("签发机关不符（{found}）"),
            Reason::Revoked => "通行证已被撤销".into(),
            Reason::NotYetValid { not_before } => {
                format!("通行证尚未生效（{} 起有效）", format_cst(*not_before))
            }
            Reason::Expired {
                expires_at,
                judged_at: None,
            } => format!("通行证已过期（有效期至 {}）", format_cst(*expires_at)),
            Reason::Expired {
                expires_at,
                judged_at: Some(at),
            } => format!(
                "通行证已过期（有效期至 {}）：按本机记录的最晚时间 {} 判断，本机时钟落后",
                format_cst(*expires_at),
                format_cst(*at)
            ),
            Reason::ValidityTooLong { hours, max_hours } => {
                format!("有效期长达 {hours} 小时，超过允许的 {max_hours} 小时：疑为被盗密钥签发")
            }
            Reason::StartsBeforeIssue {
                not_before,
                issued_at,
            } => format!(
                "生效时间 {} 早于签发时间 {}：疑为伪造",
                format_cst(*not_before),
                format_cst(*issued_at)
            ),
            Reason::OutlivesKey { kid, expires_at } => format!(
                "有效期至 {}，超出签发密钥 {kid} 的使用期限：疑为伪造",
                format_cst(*expires_at)
            ),
            Reason::TestTimeImplausible { sampled_at } => format!(
                "核酸采样时间 {} 不合理（晚于签发或远早于生效）：疑为伪造",
                format_cst(*sampled_at)
            ),
            Reason::TimeOutOfRange => "通行证中的时间超出范围：疑为伪造".into(),
            Reason::NotOnRoute { checkpoint } => {
                format!("本检查站（{checkpoint}）不在核定路线上")
            }
            Reason::TestTooOld {
                age_hours,
                max_hours,
            } => format!("核酸采样已 {age_hours} 小时，超过 {max_hours} 小时：请查验新的阴性报告"),
            Reason::TestExpiresBeforeArrival {
                arrive_by,
                max_hours,
            } => format!(
                "核酸将在到达前超过{max_hours}小时（预计 {} 到达末站）：请提醒司机及时复检",
                format_cst(*arrive_by)
            ),
            Reason::PassExpiresBeforeArrival {
                arrive_by,
                expires_at,
            } => format!(
                "通行证将在到达前过期（有效至 {}，预计 {} 到达末站）",
                format_cst(*expires_at),
                format_cst(*arrive_by)
            ),
            Reason::RepeatScan { seconds_ago } if *seconds_ago < 60 => {
                "同一通行证刚刚在本站查验过".into()
            }
            Reason::RepeatScan { seconds_ago } => {
                format!("同一通行证 {} 分钟前刚在本站查验过", seconds_ago / 60)
            }
            Reason::BundleStale { age_hours } => {
                format!("信任包已 {age_hours} 小时未更新，撤销名单可能过时")
            }
            Reason::ClockBehind { reference } => format!(
                "本机时钟可能被调慢：早于 {}，请核对时间",
                format_cst(*reference)
            ),
            Reason::UnknownCheckpoint { checkpoint } => {
                format!("本检查站编码 {checkpoint} 不在信任包的检查站名单中")
            }
        }
    }

    fn message_en(&self) -> String {
        match self {
            Reason::NotAPass => "Not a pass QR code".into(),
            Reason::UnsupportedVersion { version } => {
                format!("Pass version {version} is not supported; update the verifier")
            }
            Reason::Damaged { detail } => format!("The QR content is damaged or altered ({detail})"),
            Reason::UnsupportedAlgorithm => "Unsupported signature algorithm".into(),
            Reason::UnknownKey { kid } => {
                format!("Unknown signing key ({kid}): forged, or the trust bundle is out of date")
            }
            Reason::BadSignature => "Bad signature: the pass is forged or altered".into(),
            Reason::KeyNotValid { kid } => {
                format!("Signing key {kid} was not valid when the pass was issued")
            }
            Reason::KeyCompromised { kid, since: None } => {
                format!("Signing key {kid} was declared compromised: no pass it signed is valid")
            }
            Reason::KeyCompromised {
                kid,
                since: Some(since),
            } => format!(
                "Signing key {kid} was declared compromised: no pass it signed after {} is valid",
                format_cst(*since)
            ),
            Reason::KeyOutOfScope {
                kid,
                district,
                category,
            } => {
                let what = match (district, category) {
                    (Some(d), Some(c)) => format!("{} passes of district {d:06}", c.label_en()),
                    (Some(d), None) => format!("passes of district {d:06}"),
                    (None, Some(c)) => format!("{} passes", c.label_en()),
                    (None, None) => "this pass".to_string(),
                };
                format!(
                    "Signing key {kid} may not sign {what}: probably minted with a stolen key"
                )
            }
            Reason::WrongIssuer { found } => format!("Wrong issuer ({found})"),
            Reason::Revoked => "The pass has been revoked".into(),
            Reason::NotYetValid { not_before } => {
                format!("Not valid yet (valid from {})", format_cst(*not_before))
            }
            Reason::Expired {
                expires_at,
                judged_at: None,
            } => format!("Expired (valid until {})", format_cst(*expires_at)),
            Reason::Expired {
                expires_at,
                judged_at: Some(at),
            } => format!(
                "Expired (valid until {}), judged at {}, the latest time this device has seen: its clock is behind",
                format_cst(*expires_at),
                format_cst(*at)
            ),
            Reason::ValidityTooLong { hours, max_hours } => format!(
                "Valid for {hours} h, longer than the {max_hours} h allowed: probably minted with a stolen key"
            ),
            Reason::StartsBeforeIssue {
                not_before,
                issued_at,
            } => format!(
                "Valid from {}, before it was issued at {}: probably forged",
                format_cst(*not_before),
                format_cst(*issued_at)
            ),
            Reason::OutlivesKey { kid, expires_at } => format!(
                "Valid until {}, beyond the life of signing key {kid}: probably forged",
                format_cst(*expires_at)
            ),
            Reason::TestTimeImplausible { sampled_at } => format!(
                "Implausible test sample time {} (after issue, or long before the start): probably forged",
                format_cst(*sampled_at)
            ),
            Reason::TimeOutOfRange => "A time in the pass is out of range: probably forged".into(),
            Reason::NotOnRoute { checkpoint } => {
                format!("This checkpoint ({checkpoint}) is not on the approved route")
            }
            Reason::TestTooOld {
                age_hours,
                max_hours,
            } => format!(
                "Test sample is {age_hours} h old, over {max_hours} h: ask for a newer negative report"
            ),
            Reason::TestExpiresBeforeArrival {
                arrive_by,
                max_hours,
            } => format!(
                "The test will be over {max_hours} h old before arrival (planned at the last checkpoint {}): remind the driver to be tested again",
                format_cst(*arrive_by)
            ),
            Reason::PassExpiresBeforeArrival {
                arrive_by,
                expires_at,
            } => format!(
                "The pass will expire before arrival (valid until {}, planned at the last checkpoint {})",
                format_cst(*expires_at),
                format_cst(*arrive_by)
            ),
            Reason::RepeatScan { seconds_ago } if *seconds_ago < 60 => {
                "The same pass was checked here less than a minute ago".into()
            }
            Reason::RepeatScan { seconds_ago } => format!(
                "The same pass was checked here {} min ago",
                seconds_ago / 60
            ),
            Reason::BundleStale { age_hours } => format!(
                "The trust bundle is {age_hours} h old; revocations may be out of date"
            ),
            Reason::ClockBehind { reference } => format!(
                "This device's clock may be set back: it is before {}",
                format_cst(*reference)
            ),
            Reason::UnknownCheckpoint { checkpoint } => {
                format!("Checkpoint code {checkpoint} is not in the trust bundle's registry")
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
