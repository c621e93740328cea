//! The store seam: everything the issuer keeps — districts, checkpoints, applications and
//! their workflow, passes, key records, counters and the append-only audit trail — goes through
//! the [`Store`] trait, each method one transaction. Two backends implement it: [`sqlite`] (the
//! embedded default, one data directory on one machine) and [`postgres`] (one database that
//! many operators, server processes and machines share). [`open`] picks one from a
//! [`Location`]: a path or `sqlite://…`, or `postgres://…`.
//!
//! The rules that decide what may change live outside, in [`crate::workflow`] and
//! [`crate::validate`]; the backends only apply them inside their transactions. Neither
//! backend's types leave this module: errors are [`StoreError`], rows are [`crate::domain`]
//! records.
//!
//! Many operators at once: every state change checks, in its `UPDATE … WHERE`, the status it
//! read, so of two reviewers acting on one application at the same moment one succeeds and
//! the other gets [`StoreError::Conflict`]. Pass reservations carry a [`Lease`]: a reservation
//! left by a crashed issuer is taken over by another once the lease has run out, on the
//! database's clock (which all machines share).

pub mod postgres;
pub mod sqlite;

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use checkpass::number::PassNumber;
use checkpass::pass::Serial;
use serde::Serialize;

use crate::accounts::{NewUser, User};
use checkpass::logfile::ScanLogFile;

use crate::domain::{
    Application, AuditEntry, Checkpoint, District, ImportOutcome, KeyRecord, ListFilter,
    NotIssuable, PassRecord, Place, Revoked,
};
use crate::report::{ReportInfo, TestReport};
use crate::scans::{Device, DeviceSummary, Scan, ScanFilter, ScansImported};
use crate::validate::NewApplication;
use crate::workflow::{Action, IllegalTransition, Status};

/// An error from a database library, kept as text and source so that no backend type leaks.
pub type DbError = Box<dyn std::error::Error + Send + Sync>;

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("数据库错误：{0}")]
    Database(#[source] DbError),
    /// The location is in the field, not the message: callers name the database they were
    /// opening in their own context.
    #[error("无法连接数据库：{source}")]
    Connect {
        location: String,
        #[source]
        source: DbError,
    },
    #[error(
        "数据库地址 “{0}” 无法识别：应为文件路径、sqlite:///路径 或 postgres://用户@主机/库名"
    )]
    BadLocation(String),
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
    #[error("申请 {app_no} 刚被他人改为“{now}”（本操作读到的是“{read}”），未做任何更改：请刷新后重新决定")]
    Conflict {
        app_no: String,
        read: &'static str,
        now: &'static str,
    },
    #[error(
        "新表缺少仍在使用的编码：{}（尚未到期的申请或通行证引用了它们）；未做任何修改 / \
         the new registry drops codes that live applications or passes still use; nothing changed",
        .0.join("、")
    )]
    CodesInUse(Vec<String>),
    #[error("账号 {0} 已存在")]
    UserExists(String),
    #[error("找不到账号 {0}（issuer user list 列出全部账号）")]
    NoSuchUser(String),
    #[error("目标数据库不是空的（已有 {0}），不会写入：请用一个新建的空数据库")]
    NotEmpty(String),
    #[error("数据库中的数据损坏：{0}")]
    Corrupt(String),
    #[error(
        "设备 {0} 尚未登记：请先核对设备上显示的密钥编号后登记（issuer devices add 公钥文件，\
         或 issuer scans import --accept {0}）/ device {0} is not registered"
    )]
    NoSuchDevice(String),
    #[error(transparent)]
    Join(#[from] crate::scans::JoinError),
}

impl StoreError {
    pub(crate) fn db(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
        StoreError::Database(Box::new(e))
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Where the store is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// An SQLite database file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection string (`postgres://user:password@host:port/db?…`).
    Postgres(String),
}

impl Location {
    /// Reads `--db` / `ISSUER_DB`: `postgres://` or `postgresql://` for PostgreSQL; `sqlite://`
    /// followed by a path, or a plain path, for SQLite.
    pub fn parse(text: &str) -> Result<Location> {
        let text = text.trim();
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(Location::Postgres(text.to_string()));
        }
        if let Some(path) = text.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(StoreError::BadLocation(text.to_string()));
            }
            return Ok(Location::Sqlite(PathBuf::from(path)));
        }
        if text.is_empty() || text.contains("://") {
            return Err(StoreError::BadLocation(text.to_string()));
        }
        Ok(Location::Sqlite(PathBuf::from(text)))
    }

    pub fn sqlite(path: &Path) -> Location {
        Location::Sqlite(path.to_path_buf())
    }
}

impl fmt::Display for Location {
    /// The location with any password replaced, fit for messages and logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Sqlite(p) => write!(f, "{}", p.display()),
            Location::Postgres(url) => f.write_str(&redact_password(url)),
        }
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`; a `password=` parameter
/// is masked too.
fn redact_password(url: &str) -> String {
    let mut out = url.to_string();
    if let Some(scheme_end) = out.find("://") {
        let rest = &out[scheme_end + 3..];
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        if let Some(at) = rest[..authority_end].rfind('@') {
            if let Some(colon) = rest[..at].find(':') {
                let start = scheme_end + 3 + colon + 1;
                let end = scheme_end + 3 + at;
                out.replace_range(start..end, "***");
            }
        }
    }
    if let Some(p) = out.find("password=") {
        let start = p + "password=".len();
        let end = out[start..].find('&').map_or(out.len(), |e| start + e);
        out.replace_range(start..end, "***");
    }
    out
}

/// Opens the store at `location`, creating its schema or bringing it up to date.
pub fn open(location: &Location) -> Result<Box<dyn Store>> {
    Ok(match location {
        Location::Sqlite(path) => Box::new(sqlite::SqliteStore::open(path)?),
        Location::Postgres(url) => Box::new(postgres::PgStore::open(url)?),
    })
}

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
    /// Those with a reservation left pending by an earlier run (a crash) whose lease is over.
    Pending,
    /// Those with no reservation yet.
    New,
}

/// Who holds the reservations a [`Store::reserve`] call takes, and for how long: until then no
/// other issuer takes them over; after it, one may (the holder crashed or hangs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// Unique per issuing process: host, process id and a random part.
    pub holder: String,
    pub secs: i64,
}

impl Lease {
    /// How long a reservation is held by default: an issuing batch takes seconds.
    pub const DEFAULT_SECS: i64 = 120;

    /// A lease held by this process.
    pub fn for_this_process(secs: i64) -> Lease {
        let host = whoami::hostname().unwrap_or_else(|_| "host".into());
        // The random part only keeps two processes with one pid apart (containers); a failure
        // to get it leaves host and pid, which is still unique on one machine.
        let random = crate::random_hex(6).unwrap_or_default();
        Lease {
            holder: format!("{host}:{}:{random}", std::process::id()),
            secs,
        }
    }
}

/// What one [`Store::reserve`] call asks for: up to `limit` applications of `which`, passing
/// over the numbers in `skip`, held under `lease`, recorded as `actor` at `now`.
#[derive(Debug, Clone, Copy)]
pub struct Ask<'a> {
    pub which: Which<'a>,
    pub limit: usize,
    pub skip: &'a HashSet<String>,
    pub lease: &'a Lease,
    pub actor: &'a str,
    pub now: i64,
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

pub type SignError = Box<dyn std::error::Error + Send + Sync>;

/// Signs one reservation inside [`Store::reserve`]'s transaction.
pub type Signer<'s> = dyn FnMut(ToSign<'_>) -> Result<Signed, SignError> + 's;

/// What one call of [`Store::reserve`] did: the passes reserved, and the applications the
/// signer refused (nothing was stored for those).
#[derive(Debug, Default)]
pub struct Reserved {
    pub passes: Vec<Reservation>,
    pub unsigned: Vec<(Application, SignError)>,
}

/// The whole content of a store, for `issuer db copy`: rows in a backend-neutral form, each
/// table in key order, and the counters.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Dump {
    pub schema_version: i64,
    pub meta: Vec<(String, String)>,
    pub districts: Vec<District>,
    pub checkpoints: Vec<Checkpoint>,
    /// With their database ids, which keep the applications' order.
    pub applications: Vec<(i64, Application)>,
    pub keys: Vec<KeyRecord>,
    pub audit: Vec<AuditEntry>,
    pub foreign_revocations: Vec<ForeignRevocation>,
    /// Accounts with their password hashes.
    pub users: Vec<(User, String)>,
    /// Test reports uploaded with online applications.
    pub reports: Vec<TestReport>,
    pub places: Vec<Place>,
    pub devices: Vec<Device>,
    /// Imported scan-log entries, by device and entry number.
    pub scans: Vec<Scan>,
    /// The next pass serial and bundle sequence number the store will hand out.
    pub next_serial: u64,
    pub next_bundle_sequence: u64,
}

/// What [`Store::amend`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Amended {
    /// Submitted again with the new content.
    Resubmitted(Box<Application>),
    /// Refused: the corrected window overlaps this other application of the plate.
    Overlaps(String),
}

/// A serial revoked without ever being issued here (a forgery seen in the field).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForeignRevocation {
    pub serial: u64,
    pub revoked_at: i64,
    pub revoked_by: String,
    pub reason: String,
}

impl Dump {
    /// How many rows of each kind, for the copy's report.
    pub fn counts(&self) -> Vec<(&'static str, usize)> {
        vec![
            ("meta", self.meta.len()),
            ("districts", self.districts.len()),
            ("checkpoints", self.checkpoints.len()),
            ("applications", self.applications.len()),
            (
                "passes",
                self.applications
                    .iter()
                    .filter(|(_, a)| a.pass.is_some())
                    .count(),
            ),
            ("keys", self.keys.len()),
            ("audit", self.audit.len()),
            ("foreign_revocations", self.foreign_revocations.len()),
            ("users", self.users.len()),
            ("reports", self.reports.len()),
            ("places", self.places.len()),
            ("devices", self.devices.len()),
            ("scans", self.scans.len()),
        ]
    }

    /// A SHA-256 over the whole content in a fixed encoding: two stores with the same digest
    /// hold the same data.
    pub fn digest(&self) -> Result<String> {
        use sha2::{Digest, Sha256};
        let bytes = serde_json::to_vec(self).map_err(StoreError::db)?;
        Ok(Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect())
    }
}

/// The store's operations, one transaction each. Implemented by [`sqlite::SqliteStore`] and
/// [`postgres::PgStore`]; the conformance suite (`issuer/tests/store.rs`) runs against both.
pub trait Store: Send {
    /// Which database this is, for messages (passwords masked).
    fn location(&self) -> String;

    /// The schema version in force.
    fn schema_version(&self) -> Result<i64>;

    fn meta(&self, key: &str) -> Result<Option<String>>;
    fn set_meta(&mut self, key: &str, value: &str) -> Result<()>;

    /// Replaces the district and checkpoint registry (an empty list leaves that part alone).
    /// Refused with [`StoreError::CodesInUse`] if it would take away a code that live
    /// applications use at `now` ([`crate::registry::dropped_codes`]), checked in the same
    /// transaction.
    fn load_registry(
        &mut self,
        districts: &[District],
        checkpoints: &[Checkpoint],
        actor: &str,
        now: i64,
    ) -> Result<()>;

    /// District codes and checkpoint codes that applications still in play refer to: live
    /// (see [`Status::is_live`]) and not yet past the end of their window at `now`. A registry
    /// reload may not take these away.
    fn codes_in_use(
        &self,
        now: i64,
    ) -> Result<(
        std::collections::BTreeSet<u32>,
        std::collections::BTreeSet<String>,
    )>;

    /// Stores a new policy and records the change (old and new values) in the audit trail.
    fn set_policy(&mut self, old: &str, new: &str, actor: &str, now: i64) -> Result<()>;

    fn districts(&self) -> Result<Vec<District>>;
    fn checkpoints(&self) -> Result<Vec<Checkpoint>>;

    /// Stores checked rows in one transaction. A row whose application number is already
    /// stored is not stored again; a row whose plate overlaps another live application
    /// ([`NewApplication::overlaps`]) is refused.
    fn import(
        &mut self,
        rows: &[NewApplication],
        source: &str,
        actor: &str,
        now: i64,
    ) -> Result<Vec<ImportOutcome>> {
        self.import_as(rows, source, None, actor, now)
    }

    /// [`Store::import`], for rows an organisation's account submitted (recorded with them:
    /// the organisation sees its own applications).
    fn import_as(
        &mut self,
        rows: &[NewApplication],
        source: &str,
        organisation: Option<&str>,
        actor: &str,
        now: i64,
    ) -> Result<Vec<ImportOutcome>>;

    /// Applies a forward, approve or reject to each application, with who and when, and
    /// audits it. All or nothing: if one change is illegal, or another operator changed one
    /// of them meanwhile ([`StoreError::Conflict`]), none is made.
    ///
    /// `seen` is the status the operator decided on (the one a page showed): if the
    /// application is no longer in it, that is a conflict even where the workflow would allow
    /// the action from the new status (a reviewer who rejected a forwarded application did not
    /// mean to withdraw an approval someone else gave a second earlier). `None`: act on
    /// whatever status it is in now.
    #[allow(clippy::too_many_arguments)]
    fn transition(
        &mut self,
        app_nos: &[String],
        action: Action,
        seen: Option<Status>,
        actor: &str,
        now: i64,
        reason: Option<&str>,
    ) -> Result<Vec<Application>>;

    /// A returned application (`app.app_no`), corrected by its applicant, submitted again: its
    /// content replaced, its decision and reason cleared, checked for plate overlap against
    /// every other live application as an import is. Fails with
    /// [`StoreError::Illegal`] unless it is returned.
    fn amend(&mut self, app: &NewApplication, actor: &str, now: i64) -> Result<Amended>;

    /// Keeps `report` as the test report of its application, replacing an earlier one.
    fn put_report(&mut self, report: &TestReport, actor: &str, now: i64) -> Result<()>;
    fn report_info(&self, app_no: &str) -> Result<Option<ReportInfo>>;
    fn report(&self, app_no: &str) -> Result<Option<TestReport>>;

    /// Application numbers in a status, oldest first, optionally of one district.
    fn app_nos_with_status(&self, status: Status, district: Option<u32>) -> Result<Vec<String>>;

    fn list(&self, filter: &ListFilter) -> Result<Vec<Application>>;
    fn get(&self, app_no: &str) -> Result<Application>;
    fn get_by_serial(&self, serial: Serial) -> Result<Application>;

    /// The lines of the audit trail `filter` selects, in its order, filtered in the database.
    fn audit_where(&self, filter: &crate::domain::AuditFilter) -> Result<Vec<AuditEntry>>;

    /// The audit trail, oldest first, optionally of one application.
    fn audit(&self, app_no: Option<&str>) -> Result<Vec<AuditEntry>> {
        self.audit_where(&crate::domain::AuditFilter::of_application(app_no))
    }

    /// Records a new key. A new active signing key retires the previous active one in the same
    /// transaction, so there is always exactly one key to sign with.
    fn add_key(&mut self, key: &KeyRecord, actor: &str, now: i64) -> Result<()>;
    fn keys(&self) -> Result<Vec<KeyRecord>>;

    /// Declares a signing key stolen: it is retired at once, and the next bundle tells the
    /// checkpoints to refuse what it signed from `since` on. Declaring it again can only move
    /// `since` earlier.
    fn compromise_key(
        &mut self,
        kid: &str,
        since: i64,
        reason: &str,
        actor: &str,
        now: i64,
    ) -> Result<KeyRecord>;

    /// The latest expiry of any pass signed with `kid`.
    fn last_expiry_signed_by(&self, kid: &str) -> Result<Option<i64>>;

    /// Reserves passes for up to `limit` approved applications of `which`, passing over the
    /// application numbers in `skip`, under `lease`. Pending reservations — left by a crash —
    /// come back unchanged once their lease has run out (or if `lease` holds them); the others
    /// get the next serial and are signed by `sign` inside the transaction, so a serial and
    /// its QR text are fixed before any file exists. An application `sign` refuses is returned
    /// in [`Reserved::unsigned`] and nothing is stored for it; the others are reserved all the
    /// same. Two issuers never reserve one application twice, nor one serial for two.
    fn reserve(&mut self, ask: &Ask<'_>, sign: &mut Signer<'_>) -> Result<Reserved>;

    /// Approved applications without a pass that cannot be issued at `now`, and why.
    fn not_issuable(&self, now: i64) -> Result<Vec<(String, NotIssuable)>>;

    /// Pending reservations another holder's live lease keeps from `lease`: the application
    /// numbers and the seconds left on each lease (another issuer is at work on them, or
    /// crashed and its lease has yet to run out).
    fn held_elsewhere(&self, lease: &Lease) -> Result<Vec<(String, i64)>>;

    /// Records reserved passes as issued — only after their files are on disk. A pass another
    /// process already recorded is skipped; returns how many this call recorded.
    fn mark_issued(&mut self, serials: &[Serial], actor: &str, now: i64) -> Result<usize>;

    /// Revokes a pass: one this store issued, or a serial it never issued (a forgery seen in
    /// the field), which goes on the list all the same and is never issued later.
    fn revoke(&mut self, serial: Serial, reason: &str, actor: &str, now: i64) -> Result<Revoked>;

    fn revoked_serials(&self) -> Result<Vec<Serial>>;

    /// Takes the next trust-bundle sequence number (committed before the bundle is written, so
    /// a crash can skip a number but never reuse one).
    fn next_bundle_sequence(&mut self, actor: &str, now: i64, detail: &str) -> Result<u64>;

    /// Creates an account with an Argon2 `password_hash` ([`crate::accounts::hash_password`]).
    fn add_user(
        &mut self,
        user: &NewUser,
        password_hash: &str,
        actor: &str,
        now: i64,
    ) -> Result<User>;

    /// Every account, by name.
    fn users(&self) -> Result<Vec<User>>;

    /// An account and its password hash, for signing in.
    fn user_with_hash(&self, name: &str) -> Result<Option<(User, String)>>;

    /// Disables (or enables again) an account; a disabled account cannot sign in.
    fn set_user_disabled(
        &mut self,
        name: &str,
        disabled: bool,
        actor: &str,
        now: i64,
    ) -> Result<User>;

    /// Replaces an account's password hash.
    fn set_password(
        &mut self,
        name: &str,
        password_hash: &str,
        actor: &str,
        now: i64,
    ) -> Result<()>;

    /// Counts a wrong password; the [`crate::accounts::MAX_FAILED_LOGINS`]th in a row locks
    /// the account for [`crate::accounts::LOCK_SECS`] (audited).
    fn login_failed(&mut self, name: &str, now: i64) -> Result<()>;

    /// A successful sign-in: the count of wrong passwords starts again (audited).
    fn login_succeeded(&mut self, name: &str, now: i64) -> Result<()>;

    /// A web session's data, if it exists and has not expired at `now`.
    fn session_load(&self, id: &str, now: i64) -> Result<Option<String>>;

    /// Creates or replaces a web session.
    fn session_save(&mut self, id: &str, data: &str, expires_at: i64) -> Result<()>;

    /// Ends a web session (and removes every expired one).
    fn session_delete(&mut self, id: &str, now: i64) -> Result<()>;

    /// Everything stored, for `db copy`.
    /// Replaces the checkpoints' coordinates.
    fn set_places(&mut self, places: &[Place], actor: &str, now: i64) -> Result<()>;
    fn places(&self) -> Result<Vec<Place>>;

    /// Registers a checkpoint device; `false` if it was registered already.
    fn add_device(&mut self, device: &Device, actor: &str, now: i64) -> Result<bool>;
    /// The registered devices with what the city has of their logs.
    fn devices(&self) -> Result<Vec<DeviceSummary>>;
    /// Imports a checked log file of a registered device, in one transaction: its new entries
    /// ([`crate::scans::new_entries`] says which), or nothing if it contradicts what is there.
    fn import_scans(
        &mut self,
        log: &ScanLogFile,
        source: &str,
        actor: &str,
        now: i64,
    ) -> Result<ScansImported>;
    /// What the findings need of every pass signed here, in one query (not whole applications).
    fn pass_facts(&self) -> Result<Vec<crate::findings::PassFacts>>;
    /// Every imported entry that names a pass, by serial and then time, handed to `visit` one
    /// at a time (the findings keep one pass's scans in memory, not the day's).
    fn for_each_scan(&self, filter: &ScanFilter, visit: &mut dyn FnMut(Scan)) -> Result<()>;

    fn dump(&self) -> Result<Dump>;

    /// Fills an empty store with `dump` in one transaction; refuses a store that holds
    /// anything ([`StoreError::NotEmpty`]).
    fn restore(&mut self, dump: &Dump) -> Result<()>;

    /// The verification policy in force (the default until one is set).
    fn policy(&self) -> Result<checkpass::bundle::Policy> {
        match self.meta("policy")? {
            Some(text) => serde_json::from_str(&text)
                .map_err(|e| StoreError::Corrupt(format!("策略 (policy) 无法读取：{e}"))),
            None => Ok(checkpass::bundle::Policy::default()),
        }
    }

    /// The issuer id the passes and bundles carry.
    fn issuer_id(&self) -> Result<String> {
        self.meta("issuer")?
            .ok_or_else(|| StoreError::Corrupt("缺少签发机构标识：数据目录未完整初始化".into()))
    }

    /// The issuer's name as the pass sheet and SMS show it: the one set at `init`, else the
    /// issuer id.
    fn issuer_name(&self) -> Result<String> {
        match self.meta("issuer_name")? {
            Some(name) => Ok(name),
            None => self.issuer_id(),
        }
    }

    /// An application by its number, or by the serial of its pass (as printed on it).
    fn find(&self, id: &str) -> Result<Application> {
        match self.get(id) {
            Err(StoreError::NoSuchApplication(_)) => {
                let missing = || StoreError::NoSuchApplication(id.to_string());
                if let Ok(serial) = id.parse::<Serial>() {
                    return self.get_by_serial(serial).map_err(|_| missing());
                }
                // The national pass number printed on the sheet: its serial, and the district
                // must be the application's.
                let number = id.parse::<PassNumber>().map_err(|_| missing())?;
                self.get_by_serial(number.serial)
                    .ok()
                    .filter(|app| app.data.district == number.district)
                    .ok_or_else(missing)
            }
            other => other,
        }
    }
}

/// The audit detail of a new key: role and id, and the scope of a scoped one.
fn key_detail(key: &KeyRecord) -> String {
    let mut d = format!("{} {}", key.role, key.kid);
    if !key.scope_districts.is_empty() {
        d.push_str(&format!(" 区划 {}", key.scope_districts));
    }
    if !key.scope_categories.is_empty() {
        d.push_str(&format!(" 类别 {}", key.scope_categories));
    }
    d
}

/// The audit detail of a new account.
fn user_detail(u: &NewUser) -> String {
    let mut d = format!("{} {}", u.role, u.name);
    if let Some(code) = u.district {
        d.push_str(&format!(" 区市 {code}"));
    }
    if let Some(o) = &u.organisation {
        d.push_str(&format!(" 单位 {o}"));
    }
    d
}

/// The conflict of an operator acting on a status the application has left.
fn check_seen(app_no: &str, seen: Option<Status>, now: Status) -> Result<()> {
    match seen {
        Some(seen) if seen != now => Err(StoreError::Conflict {
            app_no: app_no.to_string(),
            read: seen.label_zh(),
            now: now.label_zh(),
        }),
        _ => Ok(()),
    }
}

/// The columns an [`Application`] is read from, in the order both backends' row readers
/// expect: the application's (`a`), then its pass's (`p`, NULL when it has none).
const APP_COLUMNS: &str = "a.id, a.app_no, a.applicant_type, a.district, a.plate, a.trailer, \
    a.driver_name, a.driver_id, a.mobile, a.occupants, a.category, a.cargo, a.origin, \
    a.destination, a.start_at, a.end_at, a.route, a.test_sampled_at, a.test_result, a.status, \
    a.source_file, a.source_row, a.imported_at, a.imported_by, a.forwarded_by, a.forwarded_at, \
    a.decided_by, a.decided_at, a.reject_reason, p.serial, p.kid, p.issued_at, p.qr_text, \
    p.state, p.issued_by, p.revoked_at, p.revoked_by, p.revoke_reason, a.organisation, \
    a.arrive_by";

const APP_FROM: &str = "applications a LEFT JOIN passes p ON p.application_id = a.id";

/// A value a list query binds.
#[derive(Debug, Clone, PartialEq)]
enum Param {
    Text(String),
    Int(i64),
}

/// The query of [`Store::list`] for `filter`, with placeholders made by `placeholder(n)`
/// (`?n` or `$n`) and the values to bind in order. Only the filters that are set appear in the
/// WHERE clause — `(?1 IS NULL OR …)` would keep both databases from using an index — and the
/// page of applications is taken before their passes are joined, so a queue page reads a
/// hundred rows, not the whole passes index.
fn list_query(filter: &ListFilter, placeholder: fn(usize) -> String) -> (String, Vec<Param>) {
    let mut conditions = Vec::new();
    let mut params = Vec::new();
    let mut bind = |column: &str, value: Param| {
        params.push(value);
        conditions.push(format!("{column} = {}", placeholder(params.len())));
    };
    if let Some(status) = filter.status {
        bind("status", Param::Text(status.as_str().into()));
    }
    if let Some(district) = filter.district {
        bind("district", Param::Int(i64::from(district)));
    }
    if let Some(plate) = &filter.plate {
        bind("plate", Param::Text(plate.clone()));
    }
    let mut page = String::from("SELECT * FROM applications");
    if !conditions.is_empty() {
        page.push_str(" WHERE ");
        page.push_str(&conditions.join(" AND "));
    }
    page.push_str(" ORDER BY id");
    if let Some(limit) = filter.limit {
        params.push(Param::Int(i64::from(limit)));
        page.push_str(&format!(" LIMIT {}", placeholder(params.len())));
    }
    (
        format!(
            "SELECT {APP_COLUMNS} FROM ({page}) a LEFT JOIN passes p ON p.application_id = a.id \
             ORDER BY a.id"
        ),
        params,
    )
}

/// The columns an [`AuditEntry`] is read from, in the order both backends' row readers expect.
const AUDIT_COLUMNS: &str = "id, at, actor, action, app_no, serial, from_status, to_status, detail";

/// The query of [`Store::audit_where`] for `filter`, placeholders by `placeholder(n)`, and the
/// values to bind in order. As in [`list_query`], only the conditions set appear. An action
/// matches itself and the actions under it (`keys` → `keys.add`), through `LIKE` with its
/// wildcards escaped.
fn audit_query(
    filter: &crate::domain::AuditFilter,
    placeholder: fn(usize) -> String,
) -> (String, Vec<Param>) {
    let mut conditions = Vec::new();
    let mut params = Vec::new();
    let bind = |params: &mut Vec<Param>, value: Param| {
        params.push(value);
        placeholder(params.len())
    };
    if let Some(actor) = &filter.actor {
        let p = bind(&mut params, Param::Text(actor.clone()));
        conditions.push(format!("actor = {p}"));
    }
    if let Some(action) = &filter.action {
        let exact = bind(&mut params, Param::Text(action.clone()));
        let escaped: String = action
            .chars()
            .flat_map(|c| match c {
                '\\' | '%' | '_' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        let under = bind(&mut params, Param::Text(format!("{escaped}.%")));
        conditions.push(format!(
            "(action = {exact} OR action LIKE {under} ESCAPE '\\')"
        ));
    }
    if let Some(app_no) = &filter.app_no {
        let p = bind(&mut params, Param::Text(app_no.clone()));
        conditions.push(format!("app_no = {p}"));
    }
    if let Some(from) = filter.from {
        let p = bind(&mut params, Param::Int(from));
        conditions.push(format!("at >= {p}"));
    }
    if let Some(to) = filter.to {
        let p = bind(&mut params, Param::Int(to));
        conditions.push(format!("at < {p}"));
    }
    if let Some(after) = filter.after_id {
        let p = bind(&mut params, Param::Int(after));
        let op = if filter.newest_first { "<" } else { ">" };
        conditions.push(format!("id {op} {p}"));
    }
    let mut sql = format!("SELECT {AUDIT_COLUMNS} FROM audit");
    if !conditions.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conditions.join(" AND "));
    }
    sql.push_str(if filter.newest_first {
        " ORDER BY id DESC"
    } else {
        " ORDER BY id"
    });
    if let Some(limit) = filter.limit {
        let p = bind(&mut params, Param::Int(i64::from(limit)));
        sql.push_str(&format!(" LIMIT {p}"));
    }
    (sql, params)
}

/// When an approved application can get its pass, as SQL over `a` (applications) with the time
/// as the parameter `now` names: not before the test it vouches for was taken (checkpoints
/// refuse a pass that says so), and not once its window is over. The same text serves both
/// backends.
fn issuable_at(now: &str) -> String {
    format!("a.test_sampled_at <= {now} AND a.end_at > {now}")
}

/// The statuses [`Status::is_live`] accepts, as an SQL list: `('submitted', …)`.
fn live_statuses_sql() -> String {
    let names: Vec<String> = Status::ALL
        .into_iter()
        .filter(|s| s.is_live())
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    format!("({})", names.join(", "))
}

/// A pass just reserved: pending until its files are on disk.
fn pending_pass(serial: Serial, signed: Signed, now: i64, actor: &str) -> PassRecord {
    PassRecord {
        serial,
        kid: signed.kid,
        issued_at: now,
        qr_text: signed.qr_text,
        state: "pending".into(),
        issued_by: actor.to_string(),
        revoked_at: None,
        revoked_by: None,
        revoke_reason: None,
    }
}

/// The audit detail of `keys revoke`.
fn compromise_detail(kid: &str, since: i64, reason: &str) -> String {
    if since == checkpass::bundle::COMPROMISED_ALWAYS {
        format!("{kid}：全部通行证作废；{reason}")
    } else {
        format!(
            "{kid}：{} 起签发的通行证作废；{reason}",
            crate::validate::format_cst(since)
        )
    }
}

/// Same content, ignoring where in which file the row came from.
/// Sets an application's planned arrival, kept apart from the long column lists (it came
/// later); the same statement on both backends but for the placeholders.
const SET_ARRIVE_BY_SQLITE: &str = "UPDATE applications SET arrive_by = ?2 WHERE app_no = ?1";
const SET_ARRIVE_BY_PG: &str = "UPDATE applications SET arrive_by = $2 WHERE app_no = $1";

fn same_content(a: &NewApplication, b: &NewApplication) -> bool {
    NewApplication {
        row: 0,
        ..a.clone()
    } == NewApplication {
        row: 0,
        ..b.clone()
    }
}

/// The route as stored: codes joined by commas (a checkpoint code has none).
fn route_to_text(route: &[String]) -> String {
    route.join(",")
}

/// The SQL of [`Store::pass_facts`], the same on both backends.
const PASS_FACTS_SQL: &str = "SELECT p.serial, a.district, a.app_no, a.plate, a.route, \
    a.start_at, a.end_at, p.revoked_at FROM passes p JOIN applications a ON a.id = p.application_id";

/// One row of [`PASS_FACTS_SQL`], read by either backend.
#[allow(clippy::too_many_arguments)]
fn pass_facts_of(
    serial: i64,
    district: i64,
    app_no: String,
    plate: String,
    route: &str,
    start_at: i64,
    end_at: i64,
    revoked_at: Option<i64>,
) -> Result<crate::findings::PassFacts> {
    let serial = u64::try_from(serial)
        .ok()
        .filter(|s| *s <= checkpass::pass::SERIAL_MAX)
        .map(Serial)
        .ok_or_else(|| StoreError::Corrupt(format!("passes.serial {serial}")))?;
    let district =
        u32::try_from(district).map_err(|_| StoreError::Corrupt(format!("district {district}")))?;
    Ok(crate::findings::PassFacts {
        serial: serial.to_string(),
        number: checkpass::number::printed(district, serial),
        app_no,
        plate,
        route: route_from_text(route),
        start_at,
        end_at,
        revoked_at,
    })
}

fn route_from_text(text: &str) -> Vec<String> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Puts results computed in sorted order back into the caller's order. Bulk changes take
/// their rows in one order (application number) so that two concurrent bulk changes lock rows
/// in the same order and cannot deadlock.
fn sorted_order(app_nos: &[String]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..app_nos.len()).collect();
    order.sort_by(|a, b| app_nos[*a].cmp(&app_nos[*b]));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        assert_eq!(
            Location::parse("postgres://u:p@h/db").unwrap(),
            Location::Postgres("postgres://u:p@h/db".into())
        );
        assert_eq!(
            Location::parse("sqlite:///var/lib/issuer.db").unwrap(),
            Location::Sqlite("/var/lib/issuer.db".into())
        );
        assert_eq!(
            Location::parse("data/issuer.db").unwrap(),
            Location::Sqlite("data/issuer.db".into())
        );
        assert!(Location::parse("mysql://x").is_err());
        assert!(Location::parse("sqlite://").is_err());
        assert!(Location::parse("  ").is_err());
    }

    #[test]
    fn passwords_never_shown() {
        let l = Location::parse("postgres://issuer:s3cret@db.example:5432/passes").unwrap();
        assert_eq!(
            l.to_string(),
            "postgres://issuer:***@db.example:5432/passes"
        );
        let l = Location::parse("postgresql:///passes?host=/run&password=s3cret&user=x").unwrap();
        assert_eq!(
            l.to_string(),
            "postgresql:///passes?host=/run&password=***&user=x"
        );
        let l = Location::parse("postgres://issuer@h/db").unwrap();
        assert_eq!(l.to_string(), "postgres://issuer@h/db");
    }

    #[test]
    fn list_queries_name_only_the_filters_set() {
        let (sql, params) = list_query(&ListFilter::default(), |n| format!("?{n}"));
        assert!(
            sql.contains("(SELECT * FROM applications ORDER BY id) a"),
            "{sql}"
        );
        assert!(params.is_empty());
        let filter = ListFilter {
            status: Some(Status::Forwarded),
            district: Some(371003),
            plate: None,
            limit: Some(100),
        };
        let (sql, params) = list_query(&filter, |n| format!("${n}"));
        assert!(
            sql.contains("WHERE status = $1 AND district = $2 ORDER BY id LIMIT $3"),
            "{sql}"
        );
        assert_eq!(
            params,
            [
                Param::Text("forwarded".into()),
                Param::Int(371003),
                Param::Int(100)
            ]
        );
    }

    #[test]
    fn audit_queries_name_only_the_filters_set() {
        use crate::domain::AuditFilter;
        let (sql, params) = audit_query(&AuditFilter::default(), |n| format!("?{n}"));
        assert!(sql.ends_with("FROM audit ORDER BY id"), "{sql}");
        assert!(params.is_empty());
        let filter = AuditFilter {
            actor: Some("admin1".into()),
            action: Some("a_b%".into()),
            from: Some(10),
            newest_first: true,
            after_id: Some(99),
            limit: Some(200),
            ..AuditFilter::default()
        };
        let (sql, params) = audit_query(&filter, |n| format!("${n}"));
        assert!(
            sql.ends_with(
                "WHERE actor = $1 AND (action = $2 OR action LIKE $3 ESCAPE '\\') \
                 AND at >= $4 AND id < $5 ORDER BY id DESC LIMIT $6"
            ),
            "{sql}"
        );
        assert_eq!(params[2], Param::Text("a\\_b\\%.%".into()));
        assert_eq!(params[5], Param::Int(200));
    }

    #[test]
    fn live_statuses() {
        assert_eq!(
            live_statuses_sql(),
            "('submitted', 'returned', 'forwarded', 'approved', 'issued')"
        );
    }
}
