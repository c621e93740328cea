//! The issuer's domain records, independent of where they are kept: an application with its
//! workflow and pass, a pass record, a key record, the registry, audit lines, and the outcomes
//! of the store's operations. The store ([`crate::store`]) reads and writes them; nothing here
//! knows SQL.

use checkpass::pass::Serial;
use checkpass::scope::{KeyScope, ScopeError};
use serde::Serialize;

use crate::validate::NewApplication;
use crate::workflow::Status;

/// A district of the registry and its liaison (the notice's 附件1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct District {
    pub code: u32,
    pub name: String,
    pub contact: String,
    pub phone: String,
    pub email: String,
}

/// A checkpoint of the registry: the same type the trust bundle carries.
pub use checkpass::bundle::Checkpoint;

/// A pass as recorded: `pending` from the moment its serial is reserved until its files are on
/// disk, then `issued`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PassRecord {
    #[serde(serialize_with = "serialize_serial")]
    pub serial: Serial,
    pub kid: String,
    pub issued_at: i64,
    pub qr_text: String,
    pub state: String,
    pub issued_by: String,
    pub revoked_at: Option<i64>,
    pub revoked_by: Option<String>,
    pub revoke_reason: Option<String>,
}

fn serialize_serial<S: serde::Serializer>(s: &Serial, ser: S) -> Result<S::Ok, S::Error> {
    ser.collect_str(s)
}

/// An application with its workflow history and pass, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Application {
    #[serde(flatten)]
    pub data: NewApplication,
    pub status: Status,
    pub source_file: String,
    pub imported_at: i64,
    pub imported_by: String,
    pub forwarded_by: Option<String>,
    pub forwarded_at: Option<i64>,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub reject_reason: Option<String>,
    /// The organisation whose account submitted it online (`None`: imported from a file).
    pub organisation: Option<String>,
    pub pass: Option<PassRecord>,
}

/// One line of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub app_no: Option<String>,
    pub serial: Option<String>,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub detail: Option<String>,
}

/// Which lines of the audit trail to read ([`crate::store::Store::audit_where`]). Every
/// condition set must hold; unset ones do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Exactly this actor.
    pub actor: Option<String>,
    /// This action (`keys.add`), or every action under it (`keys`: `keys.add`, `keys.revoke`).
    pub action: Option<String>,
    /// Lines about this application.
    pub app_no: Option<String>,
    /// From this time on.
    pub from: Option<i64>,
    /// Before this time.
    pub to: Option<i64>,
    /// Newest first (the admin's pages) instead of oldest first.
    pub newest_first: bool,
    /// Only lines after this one in the order asked: the page after one that ended there.
    pub after_id: Option<i64>,
    /// At most this many.
    pub limit: Option<u32>,
}

impl AuditFilter {
    /// The lines about one application (all of them with `None`), oldest first.
    pub fn of_application(app_no: Option<&str>) -> AuditFilter {
        AuditFilter {
            app_no: app_no.map(str::to_string),
            ..AuditFilter::default()
        }
    }

    /// The filter as people type it: actor, action and application number as given (blank:
    /// any), and days or times (UTC+8) from and to. A day as `to` includes that whole day.
    pub fn from_text(
        actor: Option<&str>,
        action: Option<&str>,
        app_no: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<AuditFilter, String> {
        let text = |t: Option<&str>| t.map(str::trim).filter(|t| !t.is_empty()).map(String::from);
        let time = |t: Option<&str>, end: bool| -> Result<Option<i64>, String> {
            let Some(t) = t.map(str::trim).filter(|t| !t.is_empty()) else {
                return Ok(None);
            };
            if let Some(at) = checkpass::time::parse_cst(t) {
                return Ok(Some(at));
            }
            checkpass::time::parse_cst(&format!("{t} 00:00"))
                .map(|day| Some(if end { day + 24 * 3600 } else { day }))
                .ok_or_else(|| {
                    format!("时间“{t}”无法识别，应为“2022-03-12”或“2022-03-12 08:00”的形式")
                })
        };
        Ok(AuditFilter {
            actor: text(actor),
            action: text(action),
            app_no: text(app_no),
            from: time(from, false)?,
            to: time(to, true)?,
            ..AuditFilter::default()
        })
    }
}

/// A key as recorded (the sealed secret lives in a file of the data directory).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyRecord {
    pub kid: String,
    pub role: String,
    pub public_key: String,
    pub file: String,
    pub status: String,
    pub created_at: i64,
    pub retired_at: Option<i64>,
    /// When the key was declared stolen (`issuer keys revoke`).
    pub compromised_at: Option<i64>,
    /// Passes it signed from this time on are refused ([`checkpass::bundle::COMPROMISED_ALWAYS`]:
    /// all of them).
    pub compromised_since: Option<i64>,
    pub compromise_reason: Option<String>,
    /// District-code prefixes the key may sign for, comma-separated (`1101,110105`); empty:
    /// every district. Checkpoints learn it from the bundle.
    pub scope_districts: String,
    /// Category codes the key may sign for, comma-separated (`1,2`); empty: every category.
    pub scope_categories: String,
}

impl KeyRecord {
    /// The key's scope, as the bundle carries it.
    pub fn scope(&self) -> Result<KeyScope, ScopeError> {
        KeyScope::parse(&self.scope_districts, &self.scope_categories)
    }

    /// Records `scope` in the columns' form.
    pub fn set_scope(&mut self, scope: &KeyScope) {
        self.scope_districts = scope.districts_text();
        self.scope_categories = scope
            .categories
            .iter()
            .map(|c| c.code().to_string())
            .collect::<Vec<_>>()
            .join(",");
    }
}

/// What `revoke` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revoked {
    /// A pass this store issued, now revoked.
    Issued(Box<Application>),
    /// A serial this store never issued (a forgery seen in the field), now on the list so the
    /// checkpoints refuse it; the store will never issue it.
    Foreign,
}

/// What happened to one good row on import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportOutcome {
    Inserted,
    /// The same application number with the same content is already stored.
    AlreadyImported,
    /// The same application number is stored with different content.
    Conflicting,
    /// The same plate has an application whose window overlaps this one.
    Overlaps(String),
}

#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub status: Option<Status>,
    pub district: Option<u32>,
    pub plate: Option<String>,
    /// At most this many, oldest first (a page of a queue); `None` for all.
    pub limit: Option<u32>,
}

/// Why an approved application gets no pass now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotIssuable {
    /// Its test sample time is still to come: a later run issues it.
    TestLater,
    /// Its planned window has ended.
    WindowOver,
}

impl NotIssuable {
    /// Why, given whether the test is still to come (otherwise the window is over).
    pub fn from_test_later(test_later: bool) -> NotIssuable {
        if test_later {
            NotIssuable::TestLater
        } else {
            NotIssuable::WindowOver
        }
    }
}

/// Where a checkpoint is (WGS-84 degrees), for the speed bound between checkpoints that the
/// findings use. Kept beside the registry, not in the bundle: checkpoints do not need it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Place {
    pub code: String,
    pub lat: f64,
    pub lon: f64,
}
