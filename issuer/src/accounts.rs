//! Accounts and roles: who may sign in, and what each role may see and do. The rules of
//! authority live here, pure — the store keeps the accounts, the front ends ask these
//! functions before they act.
//!
//! - an **applicant** account belongs to an organisation (the carrier, shipper or receiver:
//!   organisations, not individuals, apply) and sees only its organisation's applications;
//! - a **district** liaison sees and acts on one district's applications only, and forwards;
//! - a **city** reviewer approves, rejects, issues and revokes — but never an application they
//!   forwarded themselves;
//! - an **admin** manages accounts, keys, registry, policy and bundles.

use std::fmt;
use std::str::FromStr;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use serde::Serialize;

use crate::domain::Application;

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Applicant,
    District,
    City,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Applicant, Role::District, Role::City, Role::Admin];

    /// The stable name stored and printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Applicant => "applicant",
            Role::District => "district",
            Role::City => "city",
            Role::Admin => "admin",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Role::Applicant => "申请单位",
            Role::District => "区市联络员",
            Role::City => "市级审核",
            Role::Admin => "管理员",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Role::Applicant => "applicant",
            Role::District => "district liaison",
            Role::City => "city reviewer",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("未知角色：{s}"))
    }
}

/// An account as kept (without its password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub name: String,
    pub role: Role,
    /// The district a liaison works for.
    pub district: Option<u32>,
    /// The organisation an applicant account applies for.
    pub organisation: Option<String>,
    pub created_at: i64,
    pub created_by: String,
    pub disabled_at: Option<i64>,
    /// Signing in is refused until then, after [`MAX_FAILED_LOGINS`] wrong passwords.
    pub locked_until: Option<i64>,
}

/// Wrong passwords in a row before an account is locked for [`LOCK_SECS`]: guessing is slowed
/// to a handful of tries per quarter hour per account, on every server process alike (the
/// count is in the store).
pub const MAX_FAILED_LOGINS: i64 = 5;
pub const LOCK_SECS: i64 = 15 * 60;

impl User {
    /// Whether signing in is locked at `now`.
    pub fn is_locked(&self, now: i64) -> bool {
        self.locked_until.is_some_and(|t| now < t)
    }

    pub fn is_active(&self) -> bool {
        self.disabled_at.is_none()
    }

    /// Whether this account may see `app` at all.
    pub fn may_see(&self, app: &Application) -> bool {
        match self.role {
            Role::Admin | Role::City => true,
            Role::District => self.district == Some(app.data.district),
            Role::Applicant => self.organisation.is_some() && app.organisation == self.organisation,
        }
    }

    /// Whether this account may approve or reject `app`: a city reviewer who did not forward
    /// it (the two levels of review are two people).
    pub fn may_decide(&self, app: &Application) -> Result<(), Refusal> {
        if self.role != Role::City {
            return Err(Refusal::Role {
                needed: Role::City,
                has: self.role,
            });
        }
        if app.forwarded_by.as_deref() == Some(self.name.as_str()) {
            return Err(Refusal::OwnForward);
        }
        Ok(())
    }

    /// Whether this account may send `app` back to its applicant for correction: the liaison
    /// of its district, for an application an applicant account submitted online (an imported
    /// row has no account to go back to; its liaison corrects the spreadsheet).
    pub fn may_return(&self, app: &Application) -> Result<(), Refusal> {
        self.may_forward(app)?;
        if app.organisation.is_none() {
            return Err(Refusal::NoApplicantAccount);
        }
        Ok(())
    }

    /// Whether this account may correct and resubmit `app`: an account of the organisation
    /// that submitted it.
    pub fn may_resubmit(&self, app: &Application) -> Result<(), Refusal> {
        if self.role != Role::Applicant {
            return Err(Refusal::Role {
                needed: Role::Applicant,
                has: self.role,
            });
        }
        if !self.may_see(app) {
            return Err(Refusal::OtherOrganisation);
        }
        Ok(())
    }

    /// Whether this account may open `app`'s uploaded test report: those who check it (its
    /// district's liaison, the city) and the organisation that uploaded it — not an admin, who
    /// manages the system and needs no one's medical record.
    pub fn may_see_report(&self, app: &Application) -> bool {
        self.role != Role::Admin && self.may_see(app)
    }

    /// Whether this account may forward `app`: the liaison of its district.
    pub fn may_forward(&self, app: &Application) -> Result<(), Refusal> {
        if self.role != Role::District {
            return Err(Refusal::Role {
                needed: Role::District,
                has: self.role,
            });
        }
        if self.district != Some(app.data.district) {
            return Err(Refusal::OtherDistrict);
        }
        Ok(())
    }
}

/// Why an account may not do something.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("需要“{}”权限（当前账号为“{}”）", .needed.label_zh(), .has.label_zh())]
    Role { needed: Role, has: Role },
    #[error("不能审批自己转报的申请：两级审核须由两人完成")]
    OwnForward,
    #[error("这份申请不属于本账号所在的区市")]
    OtherDistrict,
    #[error("这份申请不属于本单位")]
    OtherOrganisation,
    #[error("这份申请由区市导入，没有可退回的申请单位账号：请在申请表中更正后重新上传")]
    NoApplicantAccount,
}

/// A new account, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub name: String,
    pub role: Role,
    pub district: Option<u32>,
    pub organisation: Option<String>,
}

/// What is wrong with a new account.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    #[error("账号名应为 2 到 32 个字母、数字、“.”“_”或“-”，以字母或数字开头：{0}")]
    BadName(String),
    #[error("区市联络员账号须指定区市（--district 区划代码）")]
    DistrictNeeded,
    #[error("申请单位账号须指定单位名称（--organisation 名称）")]
    OrganisationNeeded,
    #[error("单位名称应为 1 到 64 个字符，不含控制字符")]
    BadOrganisation,
    #[error("只有区市联络员账号属于某个区市，只有申请单位账号属于某个单位")]
    Misplaced,
    #[error("口令至少 {0} 个字符")]
    ShortPassword(usize),
    #[error("口令散列失败：{0}")]
    Hash(String),
}

/// The shortest password an account may have (the same as a key's passphrase).
pub const MIN_PASSWORD_CHARS: usize = checkpass::keys::MIN_PASSPHRASE_CHARS;

impl NewUser {
    pub fn new(
        name: &str,
        role: Role,
        district: Option<u32>,
        organisation: Option<&str>,
    ) -> Result<NewUser, AccountError> {
        let name = name.trim();
        let ok_name = (2..=32).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
            && name.as_bytes()[0].is_ascii_alphanumeric();
        if !ok_name {
            return Err(AccountError::BadName(name.to_string()));
        }
        let organisation = organisation.map(str::trim).filter(|o| !o.is_empty());
        if let Some(o) = organisation {
            if o.chars().count() > 64 || o.chars().any(char::is_control) {
                return Err(AccountError::BadOrganisation);
            }
        }
        match role {
            Role::District if district.is_none() => return Err(AccountError::DistrictNeeded),
            Role::Applicant if organisation.is_none() => {
                return Err(AccountError::OrganisationNeeded)
            }
            Role::District if organisation.is_some() => return Err(AccountError::Misplaced),
            Role::Applicant if district.is_some() => return Err(AccountError::Misplaced),
            Role::City | Role::Admin if district.is_some() || organisation.is_some() => {
                return Err(AccountError::Misplaced)
            }
            _ => {}
        }
        Ok(NewUser {
            name: name.to_string(),
            role,
            district,
            organisation: organisation.map(str::to_string),
        })
    }
}

/// An Argon2id hash of `password` in PHC form, with a fresh salt. Argon2's default cost
/// (19 MiB, 2 passes: OWASP's recommendation for interactive logins) keeps a sign-in near
/// 50 ms; the key files use a higher cost because they are opened rarely.
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AccountError::ShortPassword(MIN_PASSWORD_CHARS));
    }
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| AccountError::Hash(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| AccountError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AccountError::Hash(e.to_string()))
}

/// Whether `password` matches the stored `hash` (a malformed hash matches nothing).
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_accounts_are_checked() {
        assert!(NewUser::new("wang.li", Role::City, None, None).is_ok());
        assert_eq!(
            NewUser::new("x", Role::City, None, None),
            Err(AccountError::BadName("x".into()))
        );
        assert!(NewUser::new("王", Role::City, None, None).is_err());
        assert!(NewUser::new("-a", Role::City, None, None).is_err());
        assert_eq!(
            NewUser::new("liaison1", Role::District, None, None),
            Err(AccountError::DistrictNeeded)
        );
        assert_eq!(
            NewUser::new("carrier1", Role::Applicant, None, Some("  ")),
            Err(AccountError::OrganisationNeeded)
        );
        assert_eq!(
            NewUser::new("city1", Role::City, Some(371003), None),
            Err(AccountError::Misplaced)
        );
        let a = NewUser::new("carrier1", Role::Applicant, None, Some(" 威海顺达物流 ")).unwrap();
        assert_eq!(a.organisation.as_deref(), Some("威海顺达物流"));
    }

    #[test]
    fn passwords() {
        assert_eq!(
            hash_password("short"),
            Err(AccountError::ShortPassword(MIN_PASSWORD_CHARS))
        );
        let h = hash_password("a long enough password").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("a long enough password", &h));
        assert!(!verify_password("a long enough passworD", &h));
        assert!(!verify_password("anything", "not a hash"));
        assert_ne!(
            h,
            hash_password("a long enough password").unwrap(),
            "salted"
        );
    }
}
