//! The SQLite backend: the embedded default, one database file in the data directory.
//!
//! WAL mode with `synchronous=FULL`, so a committed change survives a crash or power cut;
//! writers use `BEGIN IMMEDIATE` and a busy timeout, so two `issuer` processes on one data
//! directory queue instead of failing (SQLite's one writer at a time also means the
//! optimistic status checks never fire here). The schema is versioned with
//! `PRAGMA user_version`; [`MIGRATIONS`] has the same steps, in the same order, as the
//! PostgreSQL backend's.

mod network;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use checkpass::logfile::ScanLogFile;
use checkpass::pass::{Category, Serial};
use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};

use super::{
    issuable_at, live_statuses_sql, route_from_text, route_to_text, same_content, sorted_order,
    Amended, Ask, Dump, ForeignRevocation, Lease, Reservation, Reserved, Result, Signer, Store,
    StoreError, ToSign, Which, APP_COLUMNS, APP_FROM,
};
use crate::accounts::{NewUser, User};
use crate::domain::{
    Application, AuditEntry, Checkpoint, District, ImportOutcome, KeyRecord, ListFilter,
    NotIssuable, PassRecord, Place, Revoked,
};
use crate::report::{MediaType, ReportInfo, TestReport};
use crate::scans::{Device, DeviceSummary, Scan, ScanFilter, ScansImported};
use crate::validate::NewApplication;
use crate::workflow::{self, Action, Status};

/// Schema migrations, applied in order; `user_version` is the number applied so far.
pub const MIGRATIONS: &[&str] = &[
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
    r#"
ALTER TABLE passes ADD COLUMN lease_holder TEXT;
ALTER TABLE passes ADD COLUMN lease_until INTEGER;
CREATE INDEX applications_district ON applications (district, status, id);
CREATE INDEX passes_pending ON passes (state) WHERE state = 'pending';
"#,
    r#"
ALTER TABLE applications ADD COLUMN organisation TEXT;
CREATE INDEX applications_organisation ON applications (organisation, id);
CREATE TABLE users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('applicant', 'district', 'city', 'admin')),
    district INTEGER,
    organisation TEXT,
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    disabled_at INTEGER,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER);
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    data TEXT NOT NULL,
    expires_at INTEGER NOT NULL);
CREATE INDEX sessions_expiry ON sessions (expires_at);
CREATE INDEX applications_queue ON applications (id) WHERE status IN ('submitted', 'forwarded');
DROP INDEX applications_district;
CREATE INDEX applications_district_numbers ON applications (district, status, id, app_no);
"#,
    r#"
CREATE TABLE reports (
    app_no TEXT PRIMARY KEY REFERENCES applications (app_no),
    media_type TEXT NOT NULL CHECK (media_type IN ('image/png', 'image/jpeg', 'application/pdf')),
    content BLOB NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at INTEGER NOT NULL);
"#,
    // The admin's audit filters read newest first by id; without these a rare actor or
    // action would scan the whole trail (an import audits every row).
    r#"
CREATE INDEX audit_actor ON audit (actor, id);
CREATE INDEX audit_action ON audit (action, id);
CREATE INDEX audit_at ON audit (at, id);
"#,
    // Scoped signing keys: the district-code prefixes and category codes a key may sign for,
    // comma-separated; empty (every key before this) means no limit.
    r#"
ALTER TABLE keys ADD COLUMN scope_districts TEXT NOT NULL DEFAULT '';
ALTER TABLE keys ADD COLUMN scope_categories TEXT NOT NULL DEFAULT '';
"#,
    // The checkpoint network: where checkpoints are (for the speed bound between them), the
    // devices whose logs the city accepts, and their imported entries, keyed by device and
    // entry number so that a file imported twice adds nothing.
    r#"
CREATE TABLE places (code TEXT PRIMARY KEY, lat REAL NOT NULL, lon REAL NOT NULL);
CREATE TABLE devices (
    kid TEXT PRIMARY KEY, public_key TEXT NOT NULL UNIQUE, label TEXT NOT NULL,
    added_at INTEGER NOT NULL, added_by TEXT NOT NULL);
CREATE TABLE scans (
    device TEXT NOT NULL REFERENCES devices (kid),
    id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    at INTEGER NOT NULL,
    checkpoint TEXT NOT NULL,
    officer TEXT,
    serial TEXT,
    plate TEXT,
    verdict TEXT,
    reasons TEXT NOT NULL,
    bundle_sequence INTEGER,
    simulated INTEGER NOT NULL,
    note TEXT,
    hash TEXT NOT NULL,
    imported_at INTEGER NOT NULL,
    PRIMARY KEY (device, id)) WITHOUT ROWID;
CREATE INDEX scans_by_serial ON scans (serial, at) WHERE serial IS NOT NULL;
"#,
    // The planned arrival at the route's last checkpoint, when the applicant gives it: the
    // pass carries it so that checkpoints can look ahead.
    r#"
ALTER TABLE applications ADD COLUMN arrive_by INTEGER;
"#,
];

/// The database's clock, for leases (all processes on one file share the machine's clock).
const DB_NOW: &str = "CAST(strftime('%s', 'now') AS INTEGER)";

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        StoreError::db(e)
    }
}

pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
}

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
            route: route_from_text(&route),
            test_sampled_at: row.get(17)?,
            arrive_by: row.get(39)?,
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
        organisation: row.get(38)?,
        pass,
    })
}

fn app_with_id(row: &Row<'_>) -> rusqlite::Result<(i64, Application)> {
    Ok((row.get(0)?, app_from_row(row)?))
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

/// The first other live application of `app`'s plate whose window overlaps `app`'s.
fn overlapping(conn: &Connection, app: &NewApplication) -> Result<Option<String>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT app_no, start_at, end_at FROM applications \
         WHERE plate = ?1 AND app_no <> ?2 AND status IN {} ORDER BY id",
        live_statuses_sql()
    ))?;
    let mut rows = stmt.query([&app.plate, &app.app_no])?;
    while let Some(r) = rows.next()? {
        if app.overlaps(&app.plate, r.get(1)?, r.get(2)?) {
            return Ok(Some(r.get(0)?));
        }
    }
    Ok(None)
}

const REPORT_INFO: &str = "app_no, media_type, size, sha256, uploaded_by, uploaded_at";

fn report_info_from_row(r: &Row<'_>) -> rusqlite::Result<ReportInfo> {
    let media: String = r.get(1)?;
    Ok(ReportInfo {
        app_no: r.get(0)?,
        media_type: MediaType::parse(&media).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                1,
                rusqlite::types::Type::Text,
                format!("bad media_type {media}").into(),
            )
        })?,
        size: r.get(2)?,
        sha256: r.get(3)?,
        uploaded_by: r.get(4)?,
        uploaded_at: r.get(5)?,
    })
}

fn insert_report(conn: &Connection, report: &TestReport) -> rusqlite::Result<()> {
    let i = &report.info;
    conn.prepare_cached(
        "INSERT INTO reports (app_no, media_type, content, size, sha256, uploaded_by, uploaded_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (app_no) DO UPDATE SET \
         media_type = excluded.media_type, content = excluded.content, size = excluded.size, \
         sha256 = excluded.sha256, uploaded_by = excluded.uploaded_by, \
         uploaded_at = excluded.uploaded_at",
    )?
    .execute(params![
        i.app_no,
        i.media_type.as_str(),
        report.content,
        i.size,
        i.sha256,
        i.uploaded_by,
        i.uploaded_at
    ])?;
    Ok(())
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

/// Counters kept in `meta` (PostgreSQL uses sequences), with the first value they hand out.
const SERIAL_COUNTER: (&str, u64) = ("next_serial", 1);
const BUNDLE_COUNTER: (&str, u64) = ("bundle_sequence", 1);

fn counter(conn: &Connection, (key, first): (&str, u64)) -> Result<u64> {
    match meta_get(conn, key)? {
        Some(v) => v
            .parse::<u64>()
            .map_err(|_| StoreError::Corrupt(format!("计数器 {key}={v}"))),
        None => Ok(first),
    }
}

/// Reads and bumps a counter; must run inside a write transaction.
fn next_counter(conn: &Connection, c: (&str, u64)) -> Result<u64> {
    let current = counter(conn, c)?;
    meta_set(conn, c.0, &(current + 1).to_string())?;
    Ok(current)
}

/// The next serial to issue, skipping any that was revoked as a forgery before it was issued.
fn next_serial(conn: &Connection) -> Result<Serial> {
    loop {
        let serial = next_counter(conn, SERIAL_COUNTER)?;
        let foreign: bool = conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM foreign_revocations WHERE serial = ?1)")?
            .query_row([serial], |r| r.get(0))?;
        if !foreign {
            return Ok(Serial(serial));
        }
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        let mut conn = Connection::open(path).map_err(|e| StoreError::Connect {
            location: path.display().to_string(),
            source: Box::new(e),
        })?;
        conn.busy_timeout(Duration::from_secs(60))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrate(&mut conn, MIGRATIONS.len())?;
        Ok(SqliteStore {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// Creates a database at `path` with only the first `version` migrations: the schema an
    /// older issuer left, for the migration tests.
    pub fn create_at_version(path: &Path, version: usize) -> Result<()> {
        let mut conn = Connection::open(path)?;
        migrate(&mut conn, version.min(MIGRATIONS.len()))
    }

    fn immediate(&mut self) -> Result<rusqlite::Transaction<'_>> {
        Ok(self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?)
    }
}

/// See [`Store::codes_in_use`].
fn codes_in_use(conn: &Connection, now: i64) -> Result<(BTreeSet<u32>, BTreeSet<String>)> {
    let mut stmt = conn.prepare(&format!(
        "SELECT district, route FROM applications WHERE status IN {} AND end_at > ?1",
        live_statuses_sql()
    ))?;
    let mut districts = BTreeSet::new();
    let mut checkpoints = BTreeSet::new();
    let rows = stmt.query_map([now], |r| Ok((r.get::<_, u32>(0)?, r.get::<_, String>(1)?)))?;
    for row in rows {
        let (district, route) = row?;
        districts.insert(district);
        checkpoints.extend(route_from_text(&route));
    }
    Ok((districts, checkpoints))
}

fn migrate(conn: &mut Connection, upto: usize) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > MIGRATIONS.len() as i64 {
        return Err(StoreError::TooNew {
            found: version,
            supported: MIGRATIONS.len(),
        });
    }
    for (i, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .take(upto)
        .skip(version.max(0) as usize)
    {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
    }
    tx.commit()?;
    Ok(())
}

impl Store for SqliteStore {
    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn schema_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(meta_get(&self.conn, key)?)
    }

    fn set_meta(&mut self, key: &str, value: &str) -> Result<()> {
        Ok(meta_set(&self.conn, key, value)?)
    }

    fn load_registry(
        &mut self,
        districts: &[District],
        checkpoints: &[Checkpoint],
        actor: &str,
        now: i64,
    ) -> Result<()> {
        let tx = self.immediate()?;
        let lost = crate::registry::dropped_codes(&codes_in_use(&tx, now)?, districts, checkpoints);
        if !lost.is_empty() {
            return Err(StoreError::CodesInUse(lost));
        }
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

    fn codes_in_use(&self, now: i64) -> Result<(BTreeSet<u32>, BTreeSet<String>)> {
        codes_in_use(&self.conn, now)
    }

    fn set_policy(&mut self, old: &str, new: &str, actor: &str, now: i64) -> Result<()> {
        let tx = self.immediate()?;
        meta_set(&tx, "policy", new)?;
        let detail = format!("{old} → {new}");
        audit_detail(&tx, now, actor, "policy.set", &detail)?;
        tx.commit()?;
        Ok(())
    }

    fn districts(&self) -> Result<Vec<District>> {
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

    fn checkpoints(&self) -> Result<Vec<Checkpoint>> {
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

    fn import_as(
        &mut self,
        rows: &[NewApplication],
        source: &str,
        organisation: Option<&str>,
        actor: &str,
        now: i64,
    ) -> Result<Vec<ImportOutcome>> {
        let tx = self.immediate()?;
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
            if let Some(other) = overlapping(&tx, app)? {
                outcomes.push(ImportOutcome::Overlaps(other));
                continue;
            }
            tx.prepare_cached(
                "INSERT INTO applications (app_no, applicant_type, district, plate, trailer, \
                 driver_name, driver_id, mobile, occupants, category, cargo, origin, destination, \
                 start_at, end_at, route, test_sampled_at, test_result, status, source_file, \
                 source_row, imported_at, imported_by, organisation) VALUES (?1, ?2, ?3, ?4, ?5, \
                 ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, \
                 ?23, ?24)",
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
                route_to_text(&app.route),
                app.test_sampled_at,
                app.test_result,
                Status::Submitted.as_str(),
                source,
                app.row,
                now,
                actor,
                organisation,
            ])?;
            if app.arrive_by.is_some() {
                tx.prepare_cached(super::SET_ARRIVE_BY_SQLITE)?
                    .execute(params![app.app_no, app.arrive_by])?;
            }
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

    fn transition(
        &mut self,
        app_nos: &[String],
        action: Action,
        seen: Option<Status>,
        actor: &str,
        now: i64,
        reason: Option<&str>,
    ) -> Result<Vec<Application>> {
        let sql = match action {
            Action::Forward => {
                "UPDATE applications SET status = ?1, forwarded_by = ?2, forwarded_at = ?3 \
                 WHERE app_no = ?4 AND status = ?5"
            }
            // A return is the liaison's decision: `decided_*` and the reason say who sent it
            // back and why, until the applicant resubmits.
            Action::Approve | Action::Reject | Action::Return => {
                "UPDATE applications SET status = ?1, decided_by = ?2, decided_at = ?3, \
                 reject_reason = ?6 WHERE app_no = ?4 AND status = ?5"
            }
            // Issuing and revoking go through `mark_issued` and `revoke`, resubmitting through
            // `amend`.
            Action::Issue | Action::Revoke | Action::Resubmit => {
                return Err(StoreError::Corrupt(format!(
                    "{} 不能用 transition",
                    action.as_str()
                )))
            }
        };
        let tx = self.immediate()?;
        let mut changed: Vec<Option<Application>> = vec![None; app_nos.len()];
        for i in sorted_order(app_nos) {
            let app_no = &app_nos[i];
            let app = get_app(&tx, app_no)?;
            super::check_seen(app_no, seen, app.status)?;
            let to = workflow::transition(app_no, app.status, action)?;
            let reason = (action != Action::Forward).then_some(reason).flatten();
            let mut stmt = tx.prepare_cached(sql)?;
            let n = if action == Action::Forward {
                stmt.execute(params![
                    to.as_str(),
                    actor,
                    now,
                    app_no,
                    app.status.as_str()
                ])?
            } else {
                stmt.execute(params![
                    to.as_str(),
                    actor,
                    now,
                    app_no,
                    app.status.as_str(),
                    reason
                ])?
            };
            drop(stmt);
            if n == 0 {
                let current = get_app(&tx, app_no)?;
                return Err(StoreError::Conflict {
                    app_no: app_no.clone(),
                    read: app.status.label_zh(),
                    now: current.status.label_zh(),
                });
            }
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
            changed[i] = Some(get_app(&tx, app_no)?);
        }
        tx.commit()?;
        Ok(changed.into_iter().flatten().collect())
    }

    fn amend(&mut self, new: &NewApplication, actor: &str, now: i64) -> Result<Amended> {
        let tx = self.immediate()?;
        let app = get_app(&tx, &new.app_no)?;
        let to = workflow::transition(&new.app_no, app.status, Action::Resubmit)?;
        if let Some(other) = overlapping(&tx, new)? {
            return Ok(Amended::Overlaps(other));
        }
        let n = tx
            .prepare_cached(
                "UPDATE applications SET applicant_type = ?2, district = ?3, plate = ?4, \
                 trailer = ?5, driver_name = ?6, driver_id = ?7, mobile = ?8, occupants = ?9, \
                 category = ?10, cargo = ?11, origin = ?12, destination = ?13, start_at = ?14, \
                 end_at = ?15, route = ?16, test_sampled_at = ?17, test_result = ?18, \
                 status = ?19, decided_by = NULL, decided_at = NULL, reject_reason = NULL \
                 WHERE app_no = ?1 AND status = ?20",
            )?
            .execute(params![
                new.app_no,
                new.applicant_type,
                new.district,
                new.plate,
                new.trailer,
                new.driver_name,
                new.driver_id,
                new.mobile,
                new.occupants,
                new.category.code(),
                new.cargo,
                new.origin,
                new.destination,
                new.start_at,
                new.end_at,
                route_to_text(&new.route),
                new.test_sampled_at,
                new.test_result,
                to.as_str(),
                app.status.as_str(),
            ])?;
        if n == 0 {
            return Err(StoreError::Corrupt(format!("{} 未能更新", new.app_no)));
        }
        tx.prepare_cached(super::SET_ARRIVE_BY_SQLITE)?
            .execute(params![new.app_no, new.arrive_by])?;
        audit(
            &tx,
            now,
            actor,
            Action::Resubmit.as_str(),
            Some(&new.app_no),
            None,
            Some(app.status),
            Some(to),
            None,
        )?;
        let changed = get_app(&tx, &new.app_no)?;
        tx.commit()?;
        Ok(Amended::Resubmitted(Box::new(changed)))
    }

    fn put_report(&mut self, report: &TestReport, actor: &str, now: i64) -> Result<()> {
        let tx = self.immediate()?;
        get_app(&tx, &report.info.app_no)?;
        insert_report(&tx, report)?;
        let detail = format!(
            "{} {} 字节 sha256 {}",
            report.info.media_type.as_str(),
            report.info.size,
            report.info.sha256
        );
        audit(
            &tx,
            now,
            actor,
            "report",
            Some(&report.info.app_no),
            None,
            None,
            None,
            Some(&detail),
        )?;
        tx.commit()?;
        Ok(())
    }

    fn report_info(&self, app_no: &str) -> Result<Option<ReportInfo>> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {REPORT_INFO} FROM reports WHERE app_no = ?1"
            ))?
            .query_row([app_no], report_info_from_row)
            .optional()?)
    }

    fn report(&self, app_no: &str) -> Result<Option<TestReport>> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {REPORT_INFO}, content FROM reports WHERE app_no = ?1"
            ))?
            .query_row([app_no], |r| {
                Ok(TestReport {
                    info: report_info_from_row(r)?,
                    content: r.get(6)?,
                })
            })
            .optional()?)
    }

    fn app_nos_with_status(&self, status: Status, district: Option<u32>) -> Result<Vec<String>> {
        // Two statements rather than `(?2 IS NULL OR …)`, which would keep SQLite off the index.
        let rows: Vec<String> = match district {
            Some(d) => self
                .conn
                .prepare_cached(
                    "SELECT app_no FROM applications WHERE district = ?2 AND status = ?1 \
                     ORDER BY id",
                )?
                .query_map(params![status.as_str(), d], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?,
            None => self
                .conn
                .prepare_cached("SELECT app_no FROM applications WHERE status = ?1 ORDER BY id")?
                .query_map([status.as_str()], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?,
        };
        Ok(rows)
    }

    fn list(&self, filter: &ListFilter) -> Result<Vec<Application>> {
        let (sql, params) = super::list_query(filter, |n| format!("?{n}"));
        let values = params.into_iter().map(|p| match p {
            super::Param::Text(t) => rusqlite::types::Value::Text(t),
            super::Param::Int(i) => rusqlite::types::Value::Integer(i),
        });
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(values), app_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn get(&self, app_no: &str) -> Result<Application> {
        get_app(&self.conn, app_no)
    }

    fn get_by_serial(&self, serial: Serial) -> Result<Application> {
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

    fn audit_where(&self, filter: &crate::domain::AuditFilter) -> Result<Vec<AuditEntry>> {
        let (sql, params) = super::audit_query(filter, |n| format!("?{n}"));
        let values = params.into_iter().map(|p| match p {
            super::Param::Text(t) => rusqlite::types::Value::Text(t),
            super::Param::Int(i) => rusqlite::types::Value::Integer(i),
        });
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(values), |r| {
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

    fn add_key(&mut self, key: &KeyRecord, actor: &str, now: i64) -> Result<()> {
        let tx = self.immediate()?;
        if key.role == "signing" && key.status == "active" {
            tx.execute(
                "UPDATE keys SET status = 'retired', retired_at = ?1 WHERE role = 'signing' AND status = 'active'",
                [now],
            )?;
        }
        insert_key(&tx, key)?;
        let detail = super::key_detail(key);
        audit_detail(&tx, now, actor, "keys.add", &detail)?;
        tx.commit()?;
        Ok(())
    }

    fn keys(&self) -> Result<Vec<KeyRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT kid, role, public_key, file, status, created_at, retired_at, \
             compromised_at, compromised_since, compromise_reason, scope_districts, \
             scope_categories FROM keys ORDER BY role = 'signing', created_at, kid",
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
                scope_districts: r.get(10)?,
                scope_categories: r.get(11)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn compromise_key(
        &mut self,
        kid: &str,
        since: i64,
        reason: &str,
        actor: &str,
        now: i64,
    ) -> Result<KeyRecord> {
        let tx = self.immediate()?;
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
        audit_detail(
            &tx,
            now,
            actor,
            "keys.revoke",
            &super::compromise_detail(kid, since, reason),
        )?;
        tx.commit()?;
        self.keys()?
            .into_iter()
            .find(|k| k.kid == kid)
            .ok_or_else(|| StoreError::NoSuchKey(kid.to_string()))
    }

    fn last_expiry_signed_by(&self, kid: &str) -> Result<Option<i64>> {
        Ok(self.conn.query_row(
            "SELECT MAX(a.end_at) FROM passes p JOIN applications a ON a.id = p.application_id WHERE p.kid = ?1",
            [kid],
            |r| r.get(0),
        )?)
    }

    fn reserve(&mut self, ask: &Ask<'_>, sign: &mut Signer<'_>) -> Result<Reserved> {
        let Ask {
            which,
            limit,
            skip,
            lease,
            actor,
            now,
        } = *ask;
        let (only, kind) = match which {
            Which::One(app_no) => (Some(app_no), 0),
            Which::Pending => (None, 1),
            Which::New => (None, 2),
        };
        let mut tx = self.immediate()?;
        // Skipped applications may come first: ask for enough rows to fill `limit` anyway.
        // A pending reservation is taken only when its lease is over or this holder has it.
        let apps: Vec<Application> = tx
            .prepare_cached(&format!(
                "SELECT {APP_COLUMNS} FROM {APP_FROM} WHERE a.status = 'approved' \
                 AND (?1 IS NULL OR a.app_no = ?1) \
                 AND (?2 = 0 OR (?2 = 1 AND p.serial IS NOT NULL) OR (?2 = 2 AND p.serial IS NULL)) \
                 AND (p.serial IS NOT NULL OR ({})) \
                 AND (p.serial IS NULL OR p.lease_until IS NULL OR p.lease_until <= {DB_NOW} \
                      OR p.lease_holder = ?5) \
                 ORDER BY a.id LIMIT ?3",
                issuable_at("?4")
            ))?
            .query_map(
                params![
                    only,
                    kind,
                    limit.saturating_add(skip.len()) as i64,
                    now,
                    lease.holder
                ],
                app_from_row,
            )?
            .filter(|app| !matches!(app, Ok(a) if skip.contains(&a.data.app_no)))
            .take(limit)
            .collect::<rusqlite::Result<_>>()?;
        let mut out = Reserved::default();
        for mut app in apps {
            if let Some(pass) = app.pass.clone() {
                tx.prepare_cached(&format!(
                    "UPDATE passes SET lease_holder = ?1, lease_until = {DB_NOW} + ?2 \
                     WHERE serial = ?3"
                ))?
                .execute(params![lease.holder, lease.secs, pass.serial.0])?;
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
            sp.prepare_cached(&format!(
                "INSERT INTO passes (serial, application_id, kid, issued_at, qr_text, state, \
                 issued_by, lease_holder, lease_until) \
                 SELECT ?1, id, ?2, ?3, ?4, 'pending', ?5, ?7, {DB_NOW} + ?8 \
                 FROM applications WHERE app_no = ?6"
            ))?
            .execute(params![
                serial.0,
                signed.kid,
                now,
                signed.qr_text,
                actor,
                app.data.app_no,
                lease.holder,
                lease.secs
            ])?;
            sp.commit()?;
            let pass = super::pending_pass(serial, signed, now, actor);
            app.pass = Some(pass.clone());
            out.passes.push(Reservation { app, pass });
        }
        tx.commit()?;
        Ok(out)
    }

    fn not_issuable(&self, now: i64) -> Result<Vec<(String, NotIssuable)>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT a.app_no, a.test_sampled_at > ?1 FROM applications a \
             LEFT JOIN passes p ON p.application_id = a.id \
             WHERE a.status = 'approved' AND p.serial IS NULL AND NOT ({}) \
             ORDER BY a.id",
            issuable_at("?1")
        ))?;
        let rows = stmt.query_map([now], |r| {
            let test_later: bool = r.get(1)?;
            Ok((r.get(0)?, NotIssuable::from_test_later(test_later)))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn held_elsewhere(&self, lease: &Lease) -> Result<Vec<(String, i64)>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT a.app_no, p.lease_until - {DB_NOW} FROM applications a \
             JOIN passes p ON p.application_id = a.id WHERE a.status = 'approved' \
             AND p.state = 'pending' AND p.lease_until > {DB_NOW} AND p.lease_holder <> ?1 \
             ORDER BY a.id"
        ))?;
        let rows = stmt.query_map([&lease.holder], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn mark_issued(&mut self, serials: &[Serial], actor: &str, now: i64) -> Result<usize> {
        let tx = self.immediate()?;
        let mut done = 0;
        for serial in serials {
            let changed = tx
                .prepare_cached(
                    "UPDATE passes SET state = 'issued', lease_holder = NULL, lease_until = NULL \
                     WHERE serial = ?1 AND state = 'pending' AND revoked_at IS NULL",
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

    fn revoke(&mut self, serial: Serial, reason: &str, actor: &str, now: i64) -> Result<Revoked> {
        let tx = self.immediate()?;
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

    fn revoked_serials(&self) -> Result<Vec<Serial>> {
        let mut stmt = self.conn.prepare(
            "SELECT serial FROM passes WHERE revoked_at IS NOT NULL \
                 UNION SELECT serial FROM foreign_revocations ORDER BY serial",
        )?;
        let rows = stmt.query_map([], |r| r.get::<_, u64>(0).map(Serial))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn next_bundle_sequence(&mut self, actor: &str, now: i64, detail: &str) -> Result<u64> {
        let tx = self.immediate()?;
        let seq = next_counter(&tx, BUNDLE_COUNTER)?;
        let detail = format!("序号 {seq}：{detail}");
        audit_detail(&tx, now, actor, "bundle.export", &detail)?;
        tx.commit()?;
        Ok(seq)
    }

    fn add_user(
        &mut self,
        user: &NewUser,
        password_hash: &str,
        actor: &str,
        now: i64,
    ) -> Result<User> {
        let tx = self.immediate()?;
        let exists: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM users WHERE name = ?1)",
            [&user.name],
            |r| r.get(0),
        )?;
        if exists {
            return Err(StoreError::UserExists(user.name.clone()));
        }
        let record = User {
            name: user.name.clone(),
            role: user.role,
            district: user.district,
            organisation: user.organisation.clone(),
            created_at: now,
            created_by: actor.to_string(),
            disabled_at: None,
            locked_until: None,
        };
        insert_user(&tx, &record, password_hash)?;
        audit_detail(&tx, now, actor, "user.add", &super::user_detail(user))?;
        tx.commit()?;
        Ok(record)
    }

    fn users(&self) -> Result<Vec<User>> {
        Ok(users_with_hashes(&self.conn)?
            .into_iter()
            .map(|(u, _)| u)
            .collect())
    }

    fn user_with_hash(&self, name: &str) -> Result<Option<(User, String)>> {
        get_user(&self.conn, name)
    }

    fn set_user_disabled(
        &mut self,
        name: &str,
        disabled: bool,
        actor: &str,
        now: i64,
    ) -> Result<User> {
        let tx = self.immediate()?;
        let n = tx.execute(
            "UPDATE users SET disabled_at = CASE WHEN ?2 THEN COALESCE(disabled_at, ?3) END \
             WHERE name = ?1",
            params![name, disabled, now],
        )?;
        if n == 0 {
            return Err(StoreError::NoSuchUser(name.to_string()));
        }
        let action = if disabled {
            "user.disable"
        } else {
            "user.enable"
        };
        audit_detail(&tx, now, actor, action, name)?;
        let (user, _) = get_user(&tx, name)?.ok_or_else(|| StoreError::NoSuchUser(name.into()))?;
        tx.commit()?;
        Ok(user)
    }

    fn set_password(
        &mut self,
        name: &str,
        password_hash: &str,
        actor: &str,
        now: i64,
    ) -> Result<()> {
        let tx = self.immediate()?;
        let n = tx.execute(
            "UPDATE users SET password_hash = ?2 WHERE name = ?1",
            [name, password_hash],
        )?;
        if n == 0 {
            return Err(StoreError::NoSuchUser(name.to_string()));
        }
        audit_detail(&tx, now, actor, "user.password", name)?;
        tx.commit()?;
        Ok(())
    }

    fn login_failed(&mut self, name: &str, now: i64) -> Result<()> {
        use crate::accounts::{LOCK_SECS, MAX_FAILED_LOGINS};
        let tx = self.immediate()?;
        let n = tx.execute(
            "UPDATE users SET failed_logins = failed_logins + 1, locked_until = CASE \
             WHEN failed_logins + 1 >= ?2 THEN ?3 ELSE locked_until END WHERE name = ?1",
            params![name, MAX_FAILED_LOGINS, now + LOCK_SECS],
        )?;
        if n > 0 {
            audit_detail(&tx, now, name, "login.failed", name)?;
        }
        tx.commit()?;
        Ok(())
    }

    fn login_succeeded(&mut self, name: &str, now: i64) -> Result<()> {
        let tx = self.immediate()?;
        tx.execute(
            "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE name = ?1",
            [name],
        )?;
        audit_detail(&tx, now, name, "login", name)?;
        tx.commit()?;
        Ok(())
    }

    fn session_load(&self, id: &str, now: i64) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT data FROM sessions WHERE id = ?1 AND expires_at > ?2")?
            .query_row(params![id, now], |r| r.get(0))
            .optional()?)
    }

    fn session_save(&mut self, id: &str, data: &str, expires_at: i64) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO sessions (id, data, expires_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (id) DO UPDATE SET data = excluded.data, \
                 expires_at = excluded.expires_at",
            )?
            .execute(params![id, data, expires_at])?;
        Ok(())
    }

    fn session_delete(&mut self, id: &str, now: i64) -> Result<()> {
        self.conn.execute(
            "DELETE FROM sessions WHERE id = ?1 OR expires_at <= ?2",
            params![id, now],
        )?;
        Ok(())
    }

    fn set_places(&mut self, places: &[Place], actor: &str, now: i64) -> Result<()> {
        let tx = self.immediate()?;
        network::set_places(&tx, places, actor, now)?;
        tx.commit()?;
        Ok(())
    }

    fn places(&self) -> Result<Vec<Place>> {
        network::places(&self.conn)
    }

    fn add_device(&mut self, device: &Device, actor: &str, now: i64) -> Result<bool> {
        let tx = self.immediate()?;
        let added = network::add_device(&tx, device, actor, now)?;
        tx.commit()?;
        Ok(added)
    }

    fn devices(&self) -> Result<Vec<DeviceSummary>> {
        let tx = self.conn.unchecked_transaction()?;
        let devices = network::devices(&tx)?;
        tx.finish()?;
        Ok(devices)
    }

    fn import_scans(
        &mut self,
        log: &ScanLogFile,
        source: &str,
        actor: &str,
        now: i64,
    ) -> Result<ScansImported> {
        let tx = self.immediate()?;
        let imported = network::import_scans(&tx, log, source, actor, now)?;
        tx.commit()?;
        Ok(imported)
    }

    fn pass_facts(&self) -> Result<Vec<crate::findings::PassFacts>> {
        network::pass_facts(&self.conn)
    }

    fn for_each_scan(&self, filter: &ScanFilter, visit: &mut dyn FnMut(Scan)) -> Result<()> {
        network::for_each_scan(&self.conn, filter, visit)
    }

    fn dump(&self) -> Result<Dump> {
        // One read transaction: a consistent snapshot even while others write.
        let tx = self.conn.unchecked_transaction()?;
        let meta = {
            let mut stmt = tx.prepare(
                "SELECT key, value FROM meta WHERE key NOT IN ('next_serial', 'bundle_sequence') \
                 ORDER BY key",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let applications = {
            let mut stmt = tx.prepare(&format!(
                "SELECT {APP_COLUMNS} FROM {APP_FROM} ORDER BY a.id"
            ))?;
            let rows = stmt.query_map([], app_with_id)?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let foreign_revocations = {
            let mut stmt = tx.prepare(
                "SELECT serial, revoked_at, revoked_by, reason FROM foreign_revocations \
                 ORDER BY serial",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(ForeignRevocation {
                    serial: r.get(0)?,
                    revoked_at: r.get(1)?,
                    revoked_by: r.get(2)?,
                    reason: r.get(3)?,
                })
            })?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let reports = {
            let mut stmt = tx.prepare(&format!(
                "SELECT {REPORT_INFO}, content FROM reports ORDER BY app_no"
            ))?;
            let rows = stmt.query_map([], |r| {
                Ok(TestReport {
                    info: report_info_from_row(r)?,
                    content: r.get(6)?,
                })
            })?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let dump = Dump {
            schema_version: self.schema_version()?,
            meta,
            districts: self.districts()?,
            checkpoints: self.checkpoints()?,
            applications,
            keys: self.keys()?,
            audit: self.audit(None)?,
            foreign_revocations,
            users: users_with_hashes(&tx)?,
            reports,
            places: network::places(&tx)?,
            devices: network::all_devices(&tx)?,
            scans: network::all_scans(&tx)?,
            next_serial: counter(&tx, SERIAL_COUNTER)?,
            next_bundle_sequence: counter(&tx, BUNDLE_COUNTER)?,
        };
        tx.finish()?;
        Ok(dump)
    }

    fn restore(&mut self, dump: &Dump) -> Result<()> {
        let tx = self.immediate()?;
        for table in [
            "meta",
            "districts",
            "checkpoints",
            "applications",
            "keys",
            "audit",
            "foreign_revocations",
            "users",
            "reports",
            "places",
            "devices",
            "scans",
        ] {
            let any: bool =
                tx.query_row(&format!("SELECT EXISTS (SELECT 1 FROM {table})"), [], |r| {
                    r.get(0)
                })?;
            if any {
                return Err(StoreError::NotEmpty(table.to_string()));
            }
        }
        for (k, v) in &dump.meta {
            meta_set(&tx, k, v)?;
        }
        meta_set(&tx, SERIAL_COUNTER.0, &dump.next_serial.to_string())?;
        meta_set(
            &tx,
            BUNDLE_COUNTER.0,
            &dump.next_bundle_sequence.to_string(),
        )?;
        for d in &dump.districts {
            tx.execute(
                "INSERT INTO districts (code, name, contact, phone, email) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![d.code, d.name, d.contact, d.phone, d.email],
            )?;
        }
        for c in &dump.checkpoints {
            tx.execute(
                "INSERT INTO checkpoints (code, name, district, road) VALUES (?1, ?2, ?3, ?4)",
                params![c.code, c.name, c.district, c.road],
            )?;
        }
        for (id, a) in &dump.applications {
            let d = &a.data;
            tx.prepare_cached(
                "INSERT INTO applications (id, app_no, applicant_type, district, plate, trailer, \
                 driver_name, driver_id, mobile, occupants, category, cargo, origin, destination, \
                 start_at, end_at, route, test_sampled_at, test_result, status, source_file, \
                 source_row, imported_at, imported_by, forwarded_by, forwarded_at, decided_by, \
                 decided_at, reject_reason, organisation) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, \
                 ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, \
                 ?25, ?26, ?27, ?28, ?29, ?30)",
            )?
            .execute(params![
                id,
                d.app_no,
                d.applicant_type,
                d.district,
                d.plate,
                d.trailer,
                d.driver_name,
                d.driver_id,
                d.mobile,
                d.occupants,
                d.category.code(),
                d.cargo,
                d.origin,
                d.destination,
                d.start_at,
                d.end_at,
                route_to_text(&d.route),
                d.test_sampled_at,
                d.test_result,
                a.status.as_str(),
                a.source_file,
                d.row,
                a.imported_at,
                a.imported_by,
                a.forwarded_by,
                a.forwarded_at,
                a.decided_by,
                a.decided_at,
                a.reject_reason,
                a.organisation,
            ])?;
            if d.arrive_by.is_some() {
                tx.prepare_cached(super::SET_ARRIVE_BY_SQLITE)?
                    .execute(params![d.app_no, d.arrive_by])?;
            }
            if let Some(p) = &a.pass {
                tx.prepare_cached(
                    "INSERT INTO passes (serial, application_id, kid, issued_at, qr_text, state, \
                     issued_by, revoked_at, revoked_by, revoke_reason) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )?
                .execute(params![
                    p.serial.0,
                    id,
                    p.kid,
                    p.issued_at,
                    p.qr_text,
                    p.state,
                    p.issued_by,
                    p.revoked_at,
                    p.revoked_by,
                    p.revoke_reason
                ])?;
            }
        }
        for k in &dump.keys {
            insert_key(&tx, k)?;
        }
        for e in &dump.audit {
            let serial = e.serial.as_deref().map(parse_serial).transpose()?;
            tx.prepare_cached(
                "INSERT INTO audit (id, at, actor, action, app_no, serial, from_status, \
                 to_status, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                e.id,
                e.at,
                e.actor,
                e.action,
                e.app_no,
                serial,
                e.from_status,
                e.to_status,
                e.detail
            ])?;
        }
        for f in &dump.foreign_revocations {
            tx.execute(
                "INSERT INTO foreign_revocations (serial, revoked_at, revoked_by, reason) \
                 VALUES (?1, ?2, ?3, ?4)",
                params![f.serial, f.revoked_at, f.revoked_by, f.reason],
            )?;
        }
        for (u, hash) in &dump.users {
            insert_user(&tx, u, hash)?;
        }
        for r in &dump.reports {
            insert_report(&tx, r)?;
        }
        network::restore(&tx, &dump.places, &dump.devices, &dump.scans)?;
        tx.commit()?;
        Ok(())
    }
}

const USER_COLUMNS: &str = "name, role, district, organisation, created_at, created_by, \
    disabled_at, password_hash, locked_until";

fn user_from_row(r: &Row<'_>) -> Result<(User, String)> {
    let role: String = r.get(1)?;
    Ok((
        User {
            name: r.get(0)?,
            role: role
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("账号角色 {role}")))?,
            district: r.get(2)?,
            organisation: r.get(3)?,
            created_at: r.get(4)?,
            created_by: r.get(5)?,
            disabled_at: r.get(6)?,
            locked_until: r.get(8)?,
        },
        r.get(7)?,
    ))
}

fn get_user(conn: &Connection, name: &str) -> Result<Option<(User, String)>> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {USER_COLUMNS} FROM users WHERE name = ?1"))?;
    let mut rows = stmt.query([name])?;
    match rows.next()? {
        Some(r) => Ok(Some(user_from_row(r)?)),
        None => Ok(None),
    }
}

fn users_with_hashes(conn: &Connection) -> Result<Vec<(User, String)>> {
    let mut stmt = conn.prepare(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY name"))?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(user_from_row(r)?);
    }
    Ok(out)
}

fn insert_user(tx: &Connection, u: &User, password_hash: &str) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO users (name, role, district, organisation, password_hash, created_at, \
         created_by, disabled_at, locked_until) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            u.name,
            u.role.as_str(),
            u.district,
            u.organisation,
            password_hash,
            u.created_at,
            u.created_by,
            u.disabled_at,
            u.locked_until
        ],
    )?;
    Ok(())
}

fn insert_key(tx: &Connection, key: &KeyRecord) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO keys (kid, role, public_key, file, status, created_at, retired_at, \
         compromised_at, compromised_since, compromise_reason, scope_districts, \
         scope_categories) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            key.kid,
            key.role,
            key.public_key,
            key.file,
            key.status,
            key.created_at,
            key.retired_at,
            key.compromised_at,
            key.compromised_since,
            key.compromise_reason,
            key.scope_districts,
            key.scope_categories
        ],
    )?;
    Ok(())
}

/// An audit entry's serial as printed back to its number.
pub(super) fn parse_serial(text: &str) -> Result<u64> {
    text.parse::<Serial>()
        .map(|s| s.0)
        .map_err(|_| StoreError::Corrupt(format!("审计记录中的通行证编号 {text}")))
}
