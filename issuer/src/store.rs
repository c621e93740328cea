//! The application store: the only module that speaks SQL. Everything the issuer keeps —
//! districts, checkpoints, applications and their workflow, passes, key records, counters and
//! the append-only audit trail — goes through the methods of [`Store`], each one a single
//! transaction. A server database could replace SQLite by reimplementing this module alone.
//!
//! SQLite runs in WAL mode with `synchronous=FULL`, so a committed change survives a crash or
//! power cut; writers use `BEGIN IMMEDIATE` and a busy timeout, so two `issuer` processes on one
//! data directory queue instead of failing. The schema is versioned with `PRAGMA user_version`.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;
use std::time::Duration;

use checkpass::pass::{Category, Serial};
use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};

use crate::validate::NewApplication;
use crate::workflow::{self, Action, IllegalTransition, Status};

/// Schema migrations, applied in order; `user_version` is the number applied so far.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE districts (
    code INTEGER PRIMARY KEY, name TEXT NOT NULL, contact TEXT NOT NULL,
    phone TEXT NOT NULL, email TEXT NOT NULL);
CREATE TABLE checkpoints (
    code TEXT PRIMARY KEY, name TEXT NOT NULL, district INTEGER NOT NULL, road TEXT NOT NULL);
CREATE TABLE applications (
    id INTEGER PRIMARY KEY,
    app_no TEXT NOT NULL UNIQUE,
    applicant_type TEXT NOT NULL,
    district INTEGER NOT NULL,
    plate TEXT NOT NULL,
    trailer TEXT,
    driver_name TEXT NOT NULL,
    driver_id TEXT NOT NULL,
    mobile TEXT NOT NULL,
    occupants INTEGER NOT NULL,
    category INTEGER NOT NULL,
    cargo TEXT NOT NULL,
    origin TEXT NOT NULL,
    destination TEXT NOT NULL,
    start_at INTEGER NOT NULL,
    end_at INTEGER NOT NULL,
    route TEXT NOT NULL,
    test_sampled_at INTEGER NOT NULL,
    test_result TEXT NOT NULL,
    status TEXT NOT NULL,
    source_file TEXT NOT NULL,
    source_row INTEGER NOT NULL,
    imported_at INTEGER NOT NULL,
    imported_by TEXT NOT NULL,
    forwarded_by TEXT, forwarded_at INTEGER,
    decided_by TEXT, decided_at INTEGER, reject_reason TEXT);
CREATE INDEX applications_plate ON applications (plate, start_at);
CREATE INDEX applications_status ON applications (status, id);
CREATE TABLE passes (
    serial INTEGER PRIMARY KEY,
    application_id INTEGER NOT NULL UNIQUE REFERENCES applications (id),
    kid TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    qr_text TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'issued')),
    issued_by TEXT NOT NULL,
    revoked_at INTEGER, revoked_by TEXT, revoke_reason TEXT);
CREATE TABLE keys (
    kid TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('root', 'signing')),
    public_key TEXT NOT NULL,
    file TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'retired')),
    created_at INTEGER NOT NULL,
    retired_at INTEGER);
CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    app_no TEXT,
    serial INTEGER,
    from_status TEXT,
    to_status TEXT,
    detail TEXT);
CREATE INDEX audit_app ON audit (app_no);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
"#,
    r#"
ALTER TABLE keys ADD COLUMN compromised_at INTEGER;
ALTER TABLE keys ADD COLUMN compromised_since INTEGER;
ALTER TABLE keys ADD COLUMN compromise_reason TEXT;
CREATE TABLE foreign_revocations (
    serial INTEGER PRIMARY KEY,
    revoked_at INTEGER NOT NULL,
    revoked_by TEXT NOT NULL,
    reason TEXT NOT NULL);
"#,
];

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("数据库错误：{0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("数据库版本 {found} 比本程序支持的 {supported} 新，请升级 issuer")]
    TooNew { found: i64, supported: usize },
    #[error("找不到申请 {0}")]
    NoSuchApplication(String),
    #[error("找不到通行证 {0}")]
    NoSuchPass(Serial),
    #[error("找不到密钥 {0}（issuer keys list 列出全部密钥）")]
    NoSuchKey(String),
    #[error("{0} 是根密钥：根密钥泄露无法用信任包撤销，须生成新根密钥并在每个检查站重新固定（新的数据目录）")]
    RootKeyCompromise(String),
    #[error(transparent)]
    Illegal(#[from] IllegalTransition),
    #[error("数据库中的数据损坏：{0}")]
    Corrupt(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

use crate::domain::{
    Application, AuditEntry, Checkpoint, District, ImportOutcome, KeyRecord, ListFilter,
    NotIssuable, PassRecord, Revoked,
};

/// A reserved pass: the serial and signed QR text are fixed before any file is written, so a
/// retry after a crash writes exactly the same pass.
#[derive(Debug, Clone)]
pub struct Reservation {
    pub app: Application,
    pub pass: PassRecord,
}

/// Which approved applications to reserve passes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which<'a> {
    /// This application only.
    One(&'a str),
    /// Those with a reservation left pending by an earlier run (a crash).
    Pending,
    /// Those with no reservation yet.
    New,
}

/// What the signer is given to sign one reservation.
pub struct ToSign<'a> {
    pub app: &'a Application,
    pub serial: Serial,
    pub issued_at: i64,
}

/// The signer's answer: the QR text and the key id that signed it.
pub struct Signed {
    pub qr_text: String,
    pub kid: String,
}

type SignError = Box<dyn std::error::Error + Send + Sync>;

/// What one call of [`Store::reserve`] did: the passes reserved, and the applications the
/// signer refused (nothing was stored for those, and no serial was used).
#[derive(Debug, Default)]
pub struct Reserved {
    pub passes: Vec<Reservation>,
    pub unsigned: Vec<(Application, SignError)>,
}

pub struct Store {
    conn: Connection,
}

const APP_COLUMNS: &str = "a.id, a.app_no, a.applicant_type, a.district, a.plate, a.trailer, \
    a.driver_name, a.driver_id, a.mobile, a.occupants, a.category, a.cargo, a.origin, \
    a.destination, a.start_at, a.end_at, a.route, a.test_sampled_at, a.test_result, a.status, \
    a.source_file, a.source_row, a.imported_at, a.imported_by, a.forwarded_by, a.forwarded_at, \
    a.decided_by, a.decided_at, a.reject_reason, p.serial, p.kid, p.issued_at, p.qr_text, \
    p.state, p.issued_by, p.revoked_at, p.revoked_by, p.revoke_reason";

const APP_FROM: &str = "applications a LEFT JOIN passes p ON p.application_id = a.id";

fn app_from_row(row: &Row<'_>) -> rusqlite::Result<Application> {
    let corrupt = |i: usize, what: &str| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Text,
            format!("bad {what}").into(),
        )
    };
    let category: u64 = row.get(10)?;
    let status: String = row.get(19)?;
    let route: String = row.get(16)?;
    let serial: Option<u64> = row.get(29)?;
    let pass = match serial {
        Some(s) => Some(PassRecord {
            serial: Serial(s),
            kid: row.get(30)?,
            issued_at: row.get(31)?,
            qr_text: row.get(32)?,
            state: row.get(33)?,
            issued_by: row.get(34)?,
            revoked_at: row.get(35)?,
            revoked_by: row.get(36)?,
            revoke_reason: row.get(37)?,
        }),
        None => None,
    };
    Ok(Application {
        data: NewApplication {
            app_no: row.get(1)?,
            applicant_type: row.get(2)?,
            district: row.get(3)?,
            plate: row.get(4)?,
            trailer: row.get(5)?,
            driver_name: row.get(6)?,
            driver_id: row.get(7)?,
            mobile: row.get(8)?,
            occupants: row.get(9)?,
            category: Category::from_code(category).ok_or_else(|| corrupt(10, "category"))?,
            cargo: row.get(11)?,
            origin: row.get(12)?,
            destination: row.get(13)?,
            start_at: row.get(14)?,
            end_at: row.get(15)?,
            route: route
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            test_sampled_at: row.get(17)?,
            test_result: row.get(18)?,
            row: row.get(21)?,
        },
        status: status.parse().map_err(|_| corrupt(19, "status"))?,
        source_file: row.get(20)?,
        imported_at: row.get(22)?,
        imported_by: row.get(23)?,
        forwarded_by: row.get(24)?,
        forwarded_at: row.get(25)?,
        decided_by: row.get(26)?,
        decided_at: row.get(27)?,
        reject_reason: row.get(28)?,
        pass,
    })
}

/// Same content, ignoring where in which file the row came from.
fn same_content(a: &NewApplication, b: &NewApplication) -> bool {
    NewApplication {
        row: 0,
        ..a.clone()
    } == NewApplication {
        row: 0,
        ..b.clone()
    }
}

/// An audit entry about the whole store (no application, pass or status), with a detail.
fn audit_detail(
    tx: &Connection,
    at: i64,
    actor: &str,
    action: &str,
    detail: &str,
) -> rusqlite::Result<()> {
    audit(tx, at, actor, action, None, None, None, None, Some(detail))
}

#[allow(clippy::too_many_arguments)]
fn audit(
    tx: &Connection,
    at: i64,
    actor: &str,
    action: &str,
    app_no: Option<&str>,
    serial: Option<Serial>,
    from: Option<Status>,
    to: Option<Status>,
    detail: Option<&str>,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO audit (at, actor, action, app_no, serial, from_status, to_status, detail) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        at,
        actor,
        action,
        app_no,
        serial.map(|s| s.0),
        from.map(Status::as_str),
        to.map(Status::as_str),
        detail
    ])?;
    Ok(())
}

fn get_app(conn: &Connection, app_no: &str) -> Result<Application> {
    conn.prepare_cached(&format!(
        "SELECT {APP_COLUMNS} FROM {APP_FROM} WHERE a.app_no = ?1"
    ))?
    .query_row([app_no], app_from_row)
    .optional()?
    .ok_or_else(|| StoreError::NoSuchApplication(app_no.to_string()))
}

fn meta_get(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()
}

fn meta_set(conn: &Connection, key: &str, value: &str) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )?;
    Ok(())
}

/// Reads and bumps a counter kept in `meta`; must run inside a write transaction.
fn next_counter(conn: &Connection, key: &str, first: u64) -> Result<u64> {
    let current = match meta_get(conn, key)? {
        Some(v) => v
            .parse::<u64>()
            .map_err(|_| StoreError::Corrupt(format!("计数器 {key}={v}")))?,
        None => first,
    };
    meta_set(conn, key, &(current + 1).to_string())?;
    Ok(current)
}

/// When an approved application can get its pass, as SQL over `a` (applications) with the time
/// as the parameter `now` names (`?1`, `?4`): not before the test it vouches for was taken
/// (checkpoints refuse a pass that says so), and not once its window is over.
fn issuable_at(now: &str) -> String {
    format!("a.test_sampled_at <= {now} AND a.end_at > {now}")
}

/// The next serial to issue, skipping any that was revoked as a forgery before it was issued.
fn next_serial(conn: &Connection) -> Result<Serial> {
    loop {
        let serial = next_counter(conn, "next_serial", 1)?;
        let foreign: bool = conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM foreign_revocations WHERE serial = ?1)")?
            .query_row([serial], |r| r.get(0))?;
        if !foreign {
            return Ok(Serial(serial));
        }
    }
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store> {
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(60))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        Self::migrate(&mut conn)?;
        Ok(Store { conn })
    }

    fn migrate(conn: &mut Connection) -> Result<()> {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > MIGRATIONS.len() as i64 {
            return Err(StoreError::TooNew {
                found: version,
                supported: MIGRATIONS.len(),
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i as i64 + 1)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The schema version in force.
    #[cfg(test)]
    pub fn schema_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(meta_get(&self.conn, key)?)
    }

    pub fn set_meta(&mut self, key: &str, value: &str) -> Result<()> {
        Ok(meta_set(&self.conn, key, value)?)
    }

    /// Replaces the district and checkpoint registry (used by `init`).
    pub fn load_registry(
        &mut self,
        districts: &[District],
        checkpoints: &[Checkpoint],
        actor: &str,
        now: i64,
    ) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if !districts.is_empty() {
            tx.execute("DELETE FROM districts", [])?;
            for d in districts {
                tx.execute(
                    "INSERT INTO districts (code, name, contact, phone, email) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![d.code, d.name, d.contact, d.phone, d.email],
                )?;
            }
        }
        if !checkpoints.is_empty() {
            tx.execute("DELETE FROM checkpoints", [])?;
            for c in checkpoints {
                tx.execute(
                    "INSERT INTO checkpoints (code, name, district, road) VALUES (?1, ?2, ?3, ?4)",
                    params![c.code, c.name, c.district, c.road],
                )?;
            }
        }
        let detail = format!(
            "区划 {} 个，检查站 {} 个",
            districts.len(),
            checkpoints.len()
        );
        audit_detail(&tx, now, actor, "registry.load", &detail)?;
        tx.commit()?;
        Ok(())
    }

    /// District codes and checkpoint codes that applications still in play refer to: not
    /// rejected or revoked, and not yet past the end of their window at `now`. A registry
    /// reload may not take these away.
    pub fn codes_in_use(&self, now: i64) -> Result<(BTreeSet<u32>, BTreeSet<String>)> {
        let mut stmt = self.conn.prepare(
            "SELECT district, route FROM applications \
             WHERE status NOT IN ('rejected', 'revoked') AND end_at > ?1",
        )?;
        let mut districts = BTreeSet::new();
        let mut checkpoints = BTreeSet::new();
        let rows = stmt.query_map([now], |r| Ok((r.get::<_, u32>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (district, route) = row?;
            districts.insert(district);
            checkpoints.extend(
                route
                    .split(',')
                    .filter(|c| !c.is_empty())
                    .map(str::to_string),
            );
        }
        Ok((districts, checkpoints))
    }

    /// Stores a new policy and records the change (old and new values) in the audit trail.
    pub fn set_policy(&mut self, old: &str, new: &str, actor: &str, now: i64) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        meta_set(&tx, "policy", new)?;
        let detail = format!("{old} → {new}");
        audit_detail(&tx, now, actor, "policy.set", &detail)?;
        tx.commit()?;
        Ok(())
    }

    pub fn districts(&self) -> Result<Vec<District>> {
        let mut stmt = self
            .conn
            .prepare("SELECT code, name, contact, phone, email FROM districts ORDER BY code")?;
        let rows = stmt.query_map([], |r| {
            Ok(District {
                code: r.get(0)?,
                name: r.get(1)?,
                contact: r.get(2)?,
                phone: r.get(3)?,
                email: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn checkpoints(&self) -> Result<Vec<Checkpoint>> {
        let mut stmt = self
            .conn
            .prepare("SELECT code, name, district, road FROM checkpoints ORDER BY code")?;
        let rows = stmt.query_map([], |r| {
            Ok(Checkpoint {
                code: r.get(0)?,
                name: r.get(1)?,
                district: r.get(2)?,
                road: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Stores checked rows in one transaction. A row whose application number is already stored
    /// is not stored again; a row whose plate overlaps another live application is refused.
    pub fn import(
        &mut self,
        rows: &[NewApplication],
        source: &str,
        actor: &str,
        now: i64,
    ) -> Result<Vec<ImportOutcome>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut outcomes = Vec::with_capacity(rows.len());
        for app in rows {
            match get_app(&tx, &app.app_no) {
                Ok(existing) => {
                    outcomes.push(if same_content(&existing.data, app) {
                        ImportOutcome::AlreadyImported
                    } else {
                        ImportOutcome::Conflicting
                    });
                    continue;
                }
                Err(StoreError::NoSuchApplication(_)) => {}
                Err(e) => return Err(e),
            }
            let overlap: Option<String> = tx
                .prepare_cached(
                    "SELECT app_no FROM applications WHERE plate = ?1 AND start_at < ?3 \
                     AND end_at > ?2 AND status NOT IN ('rejected', 'revoked') LIMIT 1",
                )?
                .query_row(params![app.plate, app.start_at, app.end_at], |r| r.get(0))
                .optional()?;
            if let Some(other) = overlap {
                outcomes.push(ImportOutcome::Overlaps(other));
                continue;
            }
            tx.prepare_cached(
                "INSERT INTO applications (app_no, applicant_type, district, plate, trailer, \
                 driver_name, driver_id, mobile, occupants, category, cargo, origin, destination, \
                 start_at, end_at, route, test_sampled_at, test_result, status, source_file, \
                 source_row, imported_at, imported_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, \
                 ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)",
            )?
            .execute(params![
                app.app_no,
                app.applicant_type,
                app.district,
                app.plate,
                app.trailer,
                app.driver_name,
                app.driver_id,
                app.mobile,
                app.occupants,
                app.category.code(),
                app.cargo,
                app.origin,
                app.destination,
                app.start_at,
                app.end_at,
                app.route.join(","),
                app.test_sampled_at,
                app.test_result,
                Status::Submitted.as_str(),
                source,
                app.row,
                now,
                actor,
            ])?;
            let detail = format!("{source} 第{}行", app.row);
            audit(
                &tx,
                now,
                actor,
                "import",
                Some(&app.app_no),
                None,
                None,
                Some(Status::Submitted),
                Some(&detail),
            )?;
            outcomes.push(ImportOutcome::Inserted);
        }
        tx.commit()?;
        Ok(outcomes)
    }

    /// Applies a forward, approve or reject to each application, with who and when, and audits
    /// it. All or nothing: if one change is illegal, none is made.
    pub fn transition(
        &mut self,
        app_nos: &[String],
        action: Action,
        actor: &str,
        now: i64,
        reason: Option<&str>,
    ) -> Result<Vec<Application>> {
        let sql = match action {
            Action::Forward => {
                "UPDATE applications SET status = ?1, forwarded_by = ?2, forwarded_at = ?3 WHERE app_no = ?4"
            }
            Action::Approve | Action::Reject => {
                "UPDATE applications SET status = ?1, decided_by = ?2, decided_at = ?3, \
                 reject_reason = ?5 WHERE app_no = ?4"
            }
            // Issuing and revoking go through `mark_issued` and `revoke`.
            Action::Issue | Action::Revoke => {
                return Err(StoreError::Corrupt(format!("{} 不能用 transition", action.as_str())))
            }
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut changed = Vec::with_capacity(app_nos.len());
        for app_no in app_nos {
            let app = get_app(&tx, app_no)?;
            let to = workflow::transition(app_no, app.status, action)?;
            let mut stmt = tx.prepare_cached(sql)?;
            if action == Action::Forward {
                stmt.execute(params![to.as_str(), actor, now, app_no])?;
            } else {
                stmt.execute(params![to.as_str(), actor, now, app_no, reason])?;
            }
            drop(stmt);
            // Withdrawing an approval whose pass a crashed run already signed (a pending
            // reservation): that QR text may exist on disk, so it is revoked with the same
            // reason and goes into the next trust bundle's revocation list.
            let withdrawn = match &app.pass {
                Some(p) if action == Action::Reject => {
                    tx.prepare_cached(
                        "UPDATE passes SET revoked_at = ?1, revoked_by = ?2, revoke_reason = ?3 \
                         WHERE serial = ?4",
                    )?
                    .execute(params![now, actor, reason, p.serial.0])?;
                    Some(p.serial)
                }
                _ => None,
            };
            audit(
                &tx,
                now,
                actor,
                action.as_str(),
                Some(app_no),
                withdrawn,
                Some(app.status),
                Some(to),
                reason,
            )?;
            changed.push(get_app(&tx, app_no)?);
        }
        tx.commit()?;
        Ok(changed)
    }

    /// Application numbers in a status, oldest first, optionally of one district.
    pub fn app_nos_with_status(
        &self,
        status: Status,
        district: Option<u32>,
    ) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare(
            "SELECT app_no FROM applications WHERE status = ?1 AND (?2 IS NULL OR district = ?2) ORDER BY id",
        )?;
        let rows = stmt.query_map(params![status.as_str(), district], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn list(&self, filter: &ListFilter) -> Result<Vec<Application>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {APP_COLUMNS} FROM {APP_FROM} WHERE (?1 IS NULL OR a.status = ?1) \
             AND (?2 IS NULL OR a.district = ?2) AND (?3 IS NULL OR a.plate = ?3) ORDER BY a.id"
        ))?;
        let rows = stmt.query_map(
            params![
                filter.status.map(Status::as_str),
                filter.district,
                filter.plate
            ],
            app_from_row,
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn get(&self, app_no: &str) -> Result<Application> {
        get_app(&self.conn, app_no)
    }

    pub fn get_by_serial(&self, serial: Serial) -> Result<Application> {
        let app_no: Option<String> = self
            .conn
            .query_row(
                "SELECT a.app_no FROM passes p JOIN applications a ON a.id = p.application_id WHERE p.serial = ?1",
                [serial.0],
                |r| r.get(0),
            )
            .optional()?;
        match app_no {
            Some(no) => self.get(&no),
            None => Err(StoreError::NoSuchPass(serial)),
        }
    }

    /// The audit trail, oldest first, optionally of one application.
    pub fn audit(&self, app_no: Option<&str>) -> Result<Vec<AuditEntry>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, at, actor, action, app_no, serial, from_status, to_status, detail FROM audit \
             WHERE (?1 IS NULL OR app_no = ?1) ORDER BY id",
        )?;
        let rows = stmt.query_map([app_no], |r| {
            let serial: Option<u64> = r.get(5)?;
            Ok(AuditEntry {
                id: r.get(0)?,
                at: r.get(1)?,
                actor: r.get(2)?,
                action: r.get(3)?,
                app_no: r.get(4)?,
                serial: serial.map(|s| Serial(s).to_string()),
                from_status: r.get(6)?,
                to_status: r.get(7)?,
                detail: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records a new key. A new active signing key retires the previous active one in the same
    /// transaction, so there is always exactly one key to sign with.
    pub fn add_key(&mut self, key: &KeyRecord, actor: &str, now: i64) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if key.role == "signing" && key.status == "active" {
            tx.execute(
                "UPDATE keys SET status = 'retired', retired_at = ?1 WHERE role = 'signing' AND status = 'active'",
                [now],
            )?;
        }
        tx.execute(
            "INSERT INTO keys (kid, role, public_key, file, status, created_at, retired_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                key.kid,
                key.role,
                key.public_key,
                key.file,
                key.status,
                key.created_at,
                key.retired_at
            ],
        )?;
        let detail = format!("{} {}", key.role, key.kid);
        audit_detail(&tx, now, actor, "keys.add", &detail)?;
        tx.commit()?;
        Ok(())
    }

    pub fn keys(&self) -> Result<Vec<KeyRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT kid, role, public_key, file, status, created_at, retired_at, \
             compromised_at, compromised_since, compromise_reason FROM keys \
             ORDER BY role = 'signing', created_at, kid",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(KeyRecord {
                kid: r.get(0)?,
                role: r.get(1)?,
                public_key: r.get(2)?,
                file: r.get(3)?,
                status: r.get(4)?,
                created_at: r.get(5)?,
                retired_at: r.get(6)?,
                compromised_at: r.get(7)?,
                compromised_since: r.get(8)?,
                compromise_reason: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Declares a signing key stolen: it is retired at once (if it was the active key, nothing is
    /// signed until `keys rotate`), and the next bundle tells the checkpoints to refuse what it
    /// signed from `since` on. Declaring it again can only move `since` earlier.
    pub fn compromise_key(
        &mut self,
        kid: &str,
        since: i64,
        reason: &str,
        actor: &str,
        now: i64,
    ) -> Result<KeyRecord> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let role: String = tx
            .query_row("SELECT role FROM keys WHERE kid = ?1", [kid], |r| r.get(0))
            .optional()?
            .ok_or_else(|| StoreError::NoSuchKey(kid.to_string()))?;
        if role != "signing" {
            return Err(StoreError::RootKeyCompromise(kid.to_string()));
        }
        tx.execute(
            "UPDATE keys SET status = 'retired', retired_at = COALESCE(retired_at, ?2), \
             compromised_at = COALESCE(compromised_at, ?2), \
             compromised_since = MIN(COALESCE(compromised_since, ?3), ?3), \
             compromise_reason = ?4 WHERE kid = ?1",
            params![kid, now, since, reason],
        )?;
        let detail = if since == checkpass::bundle::COMPROMISED_ALWAYS {
            format!("{kid}：全部通行证作废；{reason}")
        } else {
            format!(
                "{kid}：{} 起签发的通行证作废；{reason}",
                crate::validate::format_cst(since)
            )
        };
        audit_detail(&tx, now, actor, "keys.revoke", &detail)?;
        tx.commit()?;
        self.keys()?
            .into_iter()
            .find(|k| k.kid == kid)
            .ok_or_else(|| StoreError::NoSuchKey(kid.to_string()))
    }

    /// The latest expiry of any pass signed with `kid` (a retired key must stay in the bundle
    /// until then).
    pub fn last_expiry_signed_by(&self, kid: &str) -> Result<Option<i64>> {
        Ok(self.conn.query_row(
            "SELECT MAX(a.end_at) FROM passes p JOIN applications a ON a.id = p.application_id WHERE p.kid = ?1",
            [kid],
            |r| r.get(0),
        )?)
    }

    /// Reserves passes for up to `limit` approved applications of `which`, passing over the
    /// application numbers in `skip`. Applications that already hold a pending reservation —
    /// left by a crash — get it back unchanged; the others get the next serial and are signed
    /// by `sign` inside the same transaction, so a serial and its QR text are fixed before any
    /// file exists. An application `sign` refuses is returned in [`Reserved::unsigned`] and
    /// costs no serial; the others are reserved all the same (one bad application must not
    /// hold up a batch).
    pub fn reserve(
        &mut self,
        which: Which<'_>,
        limit: usize,
        skip: &HashSet<String>,
        actor: &str,
        now: i64,
        mut sign: impl FnMut(ToSign<'_>) -> Result<Signed, SignError>,
    ) -> Result<Reserved> {
        let (only, kind) = match which {
            Which::One(app_no) => (Some(app_no), 0),
            Which::Pending => (None, 1),
            Which::New => (None, 2),
        };
        let mut tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Skipped applications may come first: ask for enough rows to fill `limit` anyway.
        let apps: Vec<Application> = tx
            .prepare_cached(&format!(
                "SELECT {APP_COLUMNS} FROM {APP_FROM} WHERE a.status = 'approved' \
                 AND (?1 IS NULL OR a.app_no = ?1) \
                 AND (?2 = 0 OR (?2 = 1 AND p.serial IS NOT NULL) OR (?2 = 2 AND p.serial IS NULL)) \
                 AND (p.serial IS NOT NULL OR ({})) \
                 ORDER BY a.id LIMIT ?3",
                issuable_at("?4")
            ))?
            .query_map(
                params![only, kind, limit.saturating_add(skip.len()) as i64, now],
                app_from_row,
            )?
            .filter(|app| !matches!(app, Ok(a) if skip.contains(&a.data.app_no)))
            .take(limit)
            .collect::<rusqlite::Result<_>>()?;
        let mut out = Reserved::default();
        for mut app in apps {
            if let Some(pass) = app.pass.clone() {
                out.passes.push(Reservation { app, pass });
                continue;
            }
            // A savepoint per application: a refused one gives its serial back.
            let sp = tx.savepoint()?;
            let serial = next_serial(&sp)?;
            let signed = match sign(ToSign {
                app: &app,
                serial,
                issued_at: now,
            }) {
                Ok(signed) => signed,
                Err(e) => {
                    drop(sp);
                    out.unsigned.push((app, e));
                    continue;
                }
            };
            sp.prepare_cached(
                "INSERT INTO passes (serial, application_id, kid, issued_at, qr_text, state, issued_by) \
                 SELECT ?1, id, ?2, ?3, ?4, 'pending', ?5 FROM applications WHERE app_no = ?6",
            )?
            .execute(params![serial.0, signed.kid, now, signed.qr_text, actor, app.data.app_no])?;
            sp.commit()?;
            let pass = PassRecord {
                serial,
                kid: signed.kid,
                issued_at: now,
                qr_text: signed.qr_text,
                state: "pending".into(),
                issued_by: actor.to_string(),
                revoked_at: None,
                revoked_by: None,
                revoke_reason: None,
            };
            app.pass = Some(pass.clone());
            out.passes.push(Reservation { app, pass });
        }
        tx.commit()?;
        Ok(out)
    }

    /// Approved applications without a pass that cannot be issued at `now`, and why.
    pub fn not_issuable(&self, now: i64) -> Result<Vec<(String, NotIssuable)>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT a.app_no, a.test_sampled_at > ?1 FROM applications a \
             LEFT JOIN passes p ON p.application_id = a.id \
             WHERE a.status = 'approved' AND p.serial IS NULL AND NOT ({}) \
             ORDER BY a.id",
            issuable_at("?1")
        ))?;
        let rows = stmt.query_map([now], |r| {
            let test_later: bool = r.get(1)?;
            Ok((
                r.get(0)?,
                if test_later {
                    NotIssuable::TestLater
                } else {
                    NotIssuable::WindowOver
                },
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records reserved passes as issued — only after their files are on disk. A pass another
    /// process already recorded is skipped; returns how many this call recorded.
    pub fn mark_issued(&mut self, serials: &[Serial], actor: &str, now: i64) -> Result<usize> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut done = 0;
        for serial in serials {
            let changed = tx
                .prepare_cached(
                    "UPDATE passes SET state = 'issued' WHERE serial = ?1 AND state = 'pending' \
                     AND revoked_at IS NULL",
                )?
                .execute([serial.0])?;
            if changed == 0 {
                continue;
            }
            let app_no: String = tx
                .prepare_cached(
                    "UPDATE applications SET status = 'issued' WHERE id = \
                     (SELECT application_id FROM passes WHERE serial = ?1) AND status = 'approved' \
                     RETURNING app_no",
                )?
                .query_row([serial.0], |r| r.get(0))
                .optional()?
                .ok_or_else(|| {
                    StoreError::Corrupt(format!("通行证 {serial} 的申请不在已批准状态"))
                })?;
            audit(
                &tx,
                now,
                actor,
                Action::Issue.as_str(),
                Some(&app_no),
                Some(*serial),
                Some(Status::Approved),
                Some(Status::Issued),
                None,
            )?;
            done += 1;
        }
        tx.commit()?;
        Ok(done)
    }

    /// Revokes a pass: one this store issued, or a serial it never issued (a forgery seen in
    /// the field), which goes on the list all the same.
    pub fn revoke(
        &mut self,
        serial: Serial,
        reason: &str,
        actor: &str,
        now: i64,
    ) -> Result<Revoked> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let app_no: Option<String> = tx
            .query_row(
                "SELECT a.app_no FROM passes p JOIN applications a ON a.id = p.application_id WHERE p.serial = ?1",
                [serial.0],
                |r| r.get(0),
            )
            .optional()?;
        let Some(app_no) = app_no else {
            tx.execute(
                "INSERT INTO foreign_revocations (serial, revoked_at, revoked_by, reason) \
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT (serial) DO NOTHING",
                params![serial.0, now, actor, reason],
            )?;
            audit(
                &tx,
                now,
                actor,
                "revoke.foreign",
                None,
                Some(serial),
                None,
                None,
                Some(reason),
            )?;
            tx.commit()?;
            return Ok(Revoked::Foreign);
        };
        let app = get_app(&tx, &app_no)?;
        let to = workflow::transition(&app_no, app.status, Action::Revoke)?;
        tx.execute(
            "UPDATE passes SET revoked_at = ?1, revoked_by = ?2, revoke_reason = ?3 WHERE serial = ?4",
            params![now, actor, reason, serial.0],
        )?;
        tx.execute(
            "UPDATE applications SET status = ?1 WHERE app_no = ?2",
            params![to.as_str(), app_no],
        )?;
        audit(
            &tx,
            now,
            actor,
            Action::Revoke.as_str(),
            Some(&app_no),
            Some(serial),
            Some(app.status),
            Some(to),
            Some(reason),
        )?;
        let app = get_app(&tx, &app_no)?;
        tx.commit()?;
        Ok(Revoked::Issued(Box::new(app)))
    }

    pub fn revoked_serials(&self) -> Result<Vec<Serial>> {
        let mut stmt = self.conn.prepare(
            "SELECT serial FROM passes WHERE revoked_at IS NOT NULL \
                 UNION SELECT serial FROM foreign_revocations ORDER BY serial",
        )?;
        let rows = stmt.query_map([], |r| r.get::<_, u64>(0).map(Serial))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Takes the next trust-bundle sequence number (committed before the bundle is written, so
    /// a crash can skip a number but never reuse one).
    pub fn next_bundle_sequence(&mut self, actor: &str, now: i64, detail: &str) -> Result<u64> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let seq = next_counter(&tx, "bundle_sequence", 1)?;
        let detail = format!("序号 {seq}：{detail}");
        audit_detail(&tx, now, actor, "bundle.export", &detail)?;
        tx.commit()?;
        Ok(seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(no: &str, plate: &str, start: i64, end: i64) -> NewApplication {
        NewApplication {
            app_no: no.into(),
            applicant_type: "运输人".into(),
            district: 371003,
            plate: plate.into(),
            trailer: None,
            driver_name: "张三".into(),
            driver_id: "320102199210156657".into(),
            mobile: "13551566498".into(),
            occupants: 1,
            category: Category::RawMaterials,
            cargo: "钢材".into(),
            origin: "甲".into(),
            destination: "乙".into(),
            start_at: start,
            end_at: end,
            route: vec!["C101".into(), "C201".into()],
            test_sampled_at: start - 3600,
            test_result: "阴性".into(),
            row: 2,
        }
    }

    /// Imports `apps` and takes them through forwarding and approval.
    fn approved(s: &mut Store, apps: &[NewApplication]) {
        s.import(apps, "f.csv", "t", 1).unwrap();
        let nos: Vec<String> = apps.iter().map(|a| a.app_no.clone()).collect();
        s.transition(&nos, Action::Forward, "d", 2, None).unwrap();
        s.transition(&nos, Action::Approve, "c", 3, None).unwrap();
    }

    /// A signer that writes the serial as the QR text.
    fn sign(t: ToSign<'_>) -> Result<Signed, SignError> {
        Ok(Signed {
            qr_text: format!("QR{}", t.serial.0),
            kid: "k".into(),
        })
    }

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).unwrap();
        (dir, store)
    }

    #[test]
    fn migrations_apply_once() {
        let (dir, store) = store();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
        drop(store);
        let again = Store::open(&dir.path().join("t.db")).unwrap();
        assert_eq!(again.schema_version().unwrap(), MIGRATIONS.len() as i64);
    }

    #[test]
    fn import_is_idempotent_and_refuses_overlaps() {
        let (_d, mut s) = store();
        let rows = [
            app("A1", "鲁K11111", 100, 200),
            app("A2", "鲁K11111", 150, 300),
        ];
        let out = s.import(&rows, "f.csv", "t", 1).unwrap();
        assert_eq!(
            out,
            [
                ImportOutcome::Inserted,
                ImportOutcome::Overlaps("A1".into())
            ]
        );
        let out = s.import(&rows[..1], "f.csv", "t", 2).unwrap();
        assert_eq!(out, [ImportOutcome::AlreadyImported]);
        let changed = NewApplication {
            cargo: "水泥".into(),
            ..rows[0].clone()
        };
        assert_eq!(
            s.import(&[changed], "g.csv", "t", 3).unwrap(),
            [ImportOutcome::Conflicting]
        );
        // Touching windows do not overlap.
        assert_eq!(
            s.import(&[app("A3", "鲁K11111", 200, 300)], "f", "t", 4)
                .unwrap(),
            [ImportOutcome::Inserted]
        );
        let got = s.get("A1").unwrap();
        assert_eq!(got.data, rows[0]);
        assert_eq!(got.status, Status::Submitted);
    }

    #[test]
    fn workflow_is_audited_and_audit_is_append_only() {
        let (_d, mut s) = store();
        s.import(&[app("A1", "鲁K11111", 100, 200)], "f.csv", "t", 1)
            .unwrap();
        assert!(matches!(
            s.transition(&["A1".into()], Action::Approve, "city", 2, None),
            Err(StoreError::Illegal(_))
        ));
        s.transition(&["A1".into()], Action::Forward, "district", 3, None)
            .unwrap();
        let a = s
            .transition(&["A1".into()], Action::Reject, "city", 4, Some("资料不全"))
            .unwrap()
            .remove(0);
        assert_eq!(a.status, Status::Rejected);
        assert_eq!(a.decided_by.as_deref(), Some("city"));
        assert_eq!(a.reject_reason.as_deref(), Some("资料不全"));
        let trail = s.audit(Some("A1")).unwrap();
        let actions: Vec<_> = trail.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["import", "forward", "reject"]);
        assert!(s.conn.execute("DELETE FROM audit", []).is_err());
        assert!(s.conn.execute("UPDATE audit SET actor = 'x'", []).is_err());
    }

    #[test]
    fn reservation_is_reused_and_issue_recorded_once() {
        let (_d, mut s) = store();
        approved(&mut s, &[app("A1", "鲁K11111", 100, 200)]);
        let none = HashSet::new();
        let first = s
            .reserve(Which::New, 10, &none, "c", 4, sign)
            .unwrap()
            .passes;
        assert_eq!(first.len(), 1);
        // A crash before mark_issued: the next run gets the same serial and QR back.
        let nothing = s.reserve(Which::New, 10, &none, "c", 5, |_| panic!("no new work"));
        assert!(nothing.unwrap().passes.is_empty());
        let again = s
            .reserve(Which::Pending, 10, &none, "c", 5, |_| {
                panic!("must not sign twice")
            })
            .unwrap()
            .passes;
        assert_eq!(again[0].pass, first[0].pass);
        let serial = first[0].pass.serial;
        assert_eq!(s.mark_issued(&[serial], "c", 6).unwrap(), 1);
        assert_eq!(s.mark_issued(&[serial], "c", 7).unwrap(), 0);
        assert!(s
            .reserve(Which::One("A1"), 10, &none, "c", 8, sign)
            .unwrap()
            .passes
            .is_empty());
        let a = s.get("A1").unwrap();
        assert_eq!(a.status, Status::Issued);
        assert_eq!(a.pass.unwrap().state, "issued");
        let Revoked::Issued(r) = s.revoke(serial, "丢失", "c", 9).unwrap() else {
            panic!("an issued pass is revoked as issued");
        };
        assert_eq!(r.status, Status::Revoked);
        assert_eq!(s.revoked_serials().unwrap(), [serial]);
        assert!(matches!(
            s.revoke(serial, "again", "c", 10),
            Err(StoreError::Illegal(_))
        ));
    }

    #[test]
    fn a_serial_never_issued_is_revoked_and_never_issued_later() {
        let (_dir, mut s) = store();
        // A forged pass seen in the field carries serial 2, which this store has not reached.
        assert_eq!(
            s.revoke(Serial(2), "伪造", "c", 1).unwrap(),
            Revoked::Foreign
        );
        assert_eq!(
            s.revoke(Serial(2), "伪造", "c", 2).unwrap(),
            Revoked::Foreign
        );
        assert_eq!(s.revoked_serials().unwrap(), [Serial(2)]);
        approved(
            &mut s,
            &[
                app("A1", "鲁K11110", 100, 200),
                app("A2", "鲁K11111", 1100, 1200),
            ],
        );
        let got = s
            .reserve(Which::New, 10, &HashSet::new(), "c", 5, sign)
            .unwrap();
        let serials: Vec<Serial> = got.passes.iter().map(|r| r.pass.serial).collect();
        assert_eq!(serials, [Serial(1), Serial(3)], "serial 2 is skipped");
        let audit = s.audit(None).unwrap();
        assert!(audit.iter().any(|e| e.action == "revoke.foreign"));
    }

    #[test]
    fn two_connections_never_issue_one_application_twice() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut a = Store::open(&path).unwrap();
        let mut b = Store::open(&path).unwrap();
        approved(&mut a, &[app("A1", "鲁K11111", 100, 200)]);
        let none = HashSet::new();
        let mine = a
            .reserve(Which::New, 10, &none, "a", 4, sign)
            .unwrap()
            .passes;
        assert!(b
            .reserve(Which::New, 10, &none, "b", 4, sign)
            .unwrap()
            .passes
            .is_empty());
        let theirs = b
            .reserve(Which::Pending, 10, &none, "b", 4, sign)
            .unwrap()
            .passes;
        assert_eq!(mine[0].pass, theirs[0].pass, "same serial and QR text");
        let serial = mine[0].pass.serial;
        let recorded =
            a.mark_issued(&[serial], "a", 5).unwrap() + b.mark_issued(&[serial], "b", 5).unwrap();
        assert_eq!(recorded, 1);
        let issued = a
            .audit(Some("A1"))
            .unwrap()
            .into_iter()
            .filter(|e| e.action == "issue")
            .count();
        assert_eq!(issued, 1);
    }

    /// A signer that refuses one application: the others are reserved in the same call, the
    /// refused one costs no serial, and `skip` passes over it next time.
    #[test]
    fn a_refused_signature_does_not_stop_the_others() {
        let (_d, mut s) = store();
        let apps = [
            app("A1", "鲁K11111", 100, 200),
            app("A2", "鲁K22222", 100, 200),
            app("A3", "鲁K33333", 100, 200),
        ];
        approved(&mut s, &apps);
        let sign = |t: ToSign<'_>| -> Result<Signed, SignError> {
            if t.app.data.app_no == "A2" {
                return Err("too long".into());
            }
            Ok(Signed {
                qr_text: format!("QR{}", t.serial.0),
                kid: "k".into(),
            })
        };
        let r = s
            .reserve(Which::New, 10, &HashSet::new(), "c", 4, sign)
            .unwrap();
        let serials: Vec<u64> = r.passes.iter().map(|p| p.pass.serial.0).collect();
        assert_eq!(serials, [1, 2]);
        assert_eq!(r.unsigned.len(), 1);
        assert_eq!(r.unsigned[0].0.data.app_no, "A2");
        let skip: HashSet<String> = ["A2".to_string()].into();
        let r = s.reserve(Which::New, 1, &skip, "c", 5, sign).unwrap();
        assert!(r.passes.is_empty() && r.unsigned.is_empty());
        // Withdrawn after approval: rejected, audited, and out of every later reservation.
        let w = s
            .transition(&["A2".into()], Action::Reject, "c", 6, Some("姓名过长"))
            .unwrap();
        assert_eq!(w[0].status, Status::Rejected);
        let r = s
            .reserve(Which::New, 10, &HashSet::new(), "c", 7, sign)
            .unwrap();
        assert!(r.passes.is_empty() && r.unsigned.is_empty());
    }

    /// Withdrawing an approval whose pass was signed by a run that then crashed revokes that
    /// pass, and the pending reservation can no longer be recorded as issued.
    #[test]
    fn withdrawing_a_signed_but_unissued_pass_revokes_it() {
        let (_d, mut s) = store();
        approved(&mut s, &[app("A1", "鲁K11111", 100, 200)]);
        let r = s
            .reserve(Which::New, 10, &HashSet::new(), "c", 4, sign)
            .unwrap();
        let serial = r.passes[0].pass.serial;
        s.transition(&["A1".into()], Action::Reject, "c", 5, Some("撤回"))
            .unwrap();
        assert_eq!(s.revoked_serials().unwrap(), [serial]);
        assert_eq!(s.mark_issued(&[serial], "c", 6).unwrap(), 0);
        assert_eq!(s.get("A1").unwrap().status, Status::Rejected);
        let audit = s.audit(Some("A1")).unwrap();
        let last = audit.last().unwrap();
        assert_eq!(last.action, "reject");
        assert_eq!(last.serial.as_deref(), Some(serial.to_string().as_str()));
    }

    #[test]
    fn counters() {
        let (_d, mut s) = store();
        assert_eq!(s.next_bundle_sequence("c", 1, "x").unwrap(), 1);
        assert_eq!(s.next_bundle_sequence("c", 2, "x").unwrap(), 2);
    }
}
