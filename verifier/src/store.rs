//! Everything the verifier keeps on disk, in one data directory:
//!
//! - `verifier.db` (SQLite, WAL): the settings table (key → value) and the append-only scan log;
//! - `bundle.cose`: the installed trust bundle, exactly as signed by the root.
//!
//! This module owns all SQL and all file writes; it knows nothing about passes or signatures.
//! The caller (the engine) verifies a bundle against the pinned root *before* handing its bytes
//! here, and re-verifies them every time it loads them.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, TransactionBehavior};

/// File name of the SQLite database inside the data directory.
pub const DB_FILE: &str = "verifier.db";
/// File name of the installed trust bundle inside the data directory.
pub const BUNDLE_FILE: &str = "bundle.cose";
/// A trust bundle file larger than the format allows is refused before it is read into memory.
pub const MAX_BUNDLE_BYTES: u64 = checkpass::bundle::MAX_BUNDLE_BYTES as u64;

/// Schema migrations, applied in order; `PRAGMA user_version` counts how many have run.
/// Never edit a released entry: append a new one.
const MIGRATIONS: &[&str] = &[
    // 1: settings and the scan log. The triggers make the log append-only even for a
    // careless caller: a scan record, once written, can be neither changed nor removed.
    "CREATE TABLE settings (
        key   TEXT PRIMARY KEY NOT NULL,
        value TEXT NOT NULL
    );
    CREATE TABLE scans (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        scanned_at      INTEGER NOT NULL,
        checkpoint      TEXT NOT NULL,
        officer         TEXT,
        serial          TEXT,
        plate           TEXT,
        verdict         TEXT NOT NULL CHECK (verdict IN ('green', 'amber', 'red')),
        reasons         TEXT NOT NULL,
        bundle_sequence INTEGER
    );
    CREATE INDEX scans_serial ON scans (serial, checkpoint, scanned_at);
    CREATE INDEX scans_time ON scans (scanned_at);
    CREATE TRIGGER scans_no_update BEFORE UPDATE ON scans
        BEGIN SELECT RAISE(ABORT, 'the scan log is append-only'); END;
    CREATE TRIGGER scans_no_delete BEFORE DELETE ON scans
        BEGIN SELECT RAISE(ABORT, 'the scan log is append-only'); END;",
];

/// What went wrong in the data directory, with the file concerned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("数据目录 {path} 无法使用 (data directory unusable): {source}")]
    Dir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("数据库 {path} 出错 (database error): {source}")]
    Db {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "数据库 {path} 由更新版本的程序创建 (schema version {found}, this program knows {known})"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("文件 {path} 读写失败 (file I/O error): {source}")]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "信任包文件 {path} 过大 ({size} 字节, 上限 {MAX_BUNDLE_BYTES}) (bundle file too large)"
    )]
    BundleTooLarge { path: PathBuf, size: u64 },
    #[error("扫描记录第 {id} 条已损坏: {what} (scan record corrupt)")]
    CorruptRecord { id: i64, what: String },
}

/// Verdict of a scan as stored in the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LoggedVerdict {
    Green,
    Amber,
    Red,
}

impl LoggedVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            LoggedVerdict::Green => "green",
            LoggedVerdict::Amber => "amber",
            LoggedVerdict::Red => "red",
        }
    }

    fn parse(s: &str) -> Option<LoggedVerdict> {
        match s {
            "green" => Some(LoggedVerdict::Green),
            "amber" => Some(LoggedVerdict::Amber),
            "red" => Some(LoggedVerdict::Red),
            _ => None,
        }
    }
}

/// A scan about to be appended to the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewScan {
    pub scanned_at: i64,
    pub checkpoint: String,
    pub officer: Option<String>,
    /// Only for a pass whose signature verified: a forged QR must not be able to make a
    /// genuine pass look like a repeat.
    pub serial: Option<String>,
    pub plate: Option<String>,
    pub verdict: LoggedVerdict,
    /// Stable reason codes (`REPEAT_SCAN`, …).
    pub reasons: Vec<String>,
    pub bundle_sequence: Option<u64>,
}

/// One scan as read back from the log.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ScanRecord {
    pub id: i64,
    pub scanned_at: i64,
    pub checkpoint: String,
    pub officer: Option<String>,
    pub serial: Option<String>,
    pub plate: Option<String>,
    pub verdict: LoggedVerdict,
    pub reasons: Vec<String>,
    pub bundle_sequence: Option<u64>,
}

/// What the log says before a new scan is recorded; read in the same transaction as the insert.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogFacts {
    /// Time of the newest scan in the whole log (any checkpoint, any verdict).
    pub newest_scan_at: Option<i64>,
    /// Time of the latest earlier scan of the same serial at the same checkpoint.
    pub last_same_pass_here: Option<i64>,
}

/// The open data directory.
pub struct Store {
    dir: PathBuf,
    db_path: PathBuf,
    conn: Connection,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("dir", &self.dir).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the data directory and its database, and brings the schema
    /// up to date.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        fs::create_dir_all(dir).map_err(|source| StoreError::Dir {
            path: dir.to_path_buf(),
            source,
        })?;
        let db_path = dir.join(DB_FILE);
        let db_err = |source| StoreError::Db {
            path: db_path.clone(),
            source,
        };
        let mut conn = Connection::open(&db_path).map_err(db_err)?;
        // WAL + FULL sync: a scan record that was reported has reached the disk, and a GUI and
        // a CLI can share the directory (the busy timeout makes one wait for the other).
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(db_err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db_err)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(db_err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(db_err)?;
        migrate(&mut conn).map_err(|e| match e {
            MigrateError::Db(source) => StoreError::Db {
                path: db_path.clone(),
                source,
            },
            MigrateError::TooNew(found) => StoreError::TooNew {
                path: db_path.clone(),
                found,
                known: MIGRATIONS.len() as i64,
            },
        })?;
        Ok(Store {
            dir: dir.to_path_buf(),
            db_path,
            conn,
        })
    }

    /// The data directory this store lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn db_err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Db {
            path: self.db_path.clone(),
            source,
        }
    }

    /// All settings as key → value.
    pub fn settings(&self) -> Result<BTreeMap<String, String>, StoreError> {
        read_settings(&self.conn).map_err(|e| self.db_err(e))
    }

    /// Replaces all settings at once (one transaction: never half a configuration).
    pub fn save_settings(&mut self, values: &BTreeMap<String, String>) -> Result<(), StoreError> {
        self.modify_settings(|_| Ok::<_, StoreError>(values.clone()))
            .map(|_| ())
    }

    /// Reads the settings, lets `change` compute the new ones and writes them, in one
    /// immediate transaction: a GUI and a CLI changing different settings at the same time
    /// both keep their change. Returns what was written.
    pub fn modify_settings<E: From<StoreError>>(
        &mut self,
        change: impl FnOnce(BTreeMap<String, String>) -> Result<BTreeMap<String, String>, E>,
    ) -> Result<BTreeMap<String, String>, E> {
        let db_path = self.db_path.clone();
        let db_err = |source| StoreError::Db {
            path: db_path.clone(),
            source,
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db_err)?;
        let current = read_settings(&tx).map_err(db_err)?;
        let next = change(current)?;
        tx.execute("DELETE FROM settings", []).map_err(db_err)?;
        {
            let mut stmt = tx
                .prepare("INSERT INTO settings (key, value) VALUES (?1, ?2)")
                .map_err(db_err)?;
            for (k, v) in &next {
                stmt.execute(params![k, v]).map_err(db_err)?;
            }
        }
        tx.commit().map_err(db_err)?;
        Ok(next)
    }

    /// Appends a scan to the log. `decide` sees what the log held just before (newest scan,
    /// earlier scan of the same pass here) and returns the record to write; reading and
    /// appending happen in one immediate transaction, so two scanners sharing the directory
    /// cannot both miss each other's scan of the same pass.
    pub fn record_scan<T>(
        &mut self,
        serial: Option<&str>,
        checkpoint: &str,
        decide: impl FnOnce(LogFacts) -> (NewScan, T),
    ) -> Result<(ScanRecord, T), StoreError> {
        let db_path = self.db_path.clone();
        let db_err = |source| StoreError::Db {
            path: db_path.clone(),
            source,
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db_err)?;
        let newest_scan_at: Option<i64> = tx
            .query_row("SELECT MAX(scanned_at) FROM scans", [], |r| r.get(0))
            .map_err(db_err)?;
        let last_same_pass_here: Option<i64> = match serial {
            Some(serial) => tx
                .query_row(
                    "SELECT MAX(scanned_at) FROM scans WHERE serial = ?1 AND checkpoint = ?2",
                    params![serial, checkpoint],
                    |r| r.get(0),
                )
                .map_err(db_err)?,
            None => None,
        };
        let (scan, extra) = decide(LogFacts {
            newest_scan_at,
            last_same_pass_here,
        });
        let reasons = scan.reasons.join(" ");
        let sequence = scan.bundle_sequence.map(|s| s as i64);
        tx.execute(
            "INSERT INTO scans (scanned_at, checkpoint, officer, serial, plate, verdict, reasons,
                                bundle_sequence)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                scan.scanned_at,
                scan.checkpoint,
                scan.officer,
                scan.serial,
                scan.plate,
                scan.verdict.as_str(),
                reasons,
                sequence,
            ],
        )
        .map_err(db_err)?;
        let id = tx.last_insert_rowid();
        tx.commit().map_err(db_err)?;
        Ok((
            ScanRecord {
                id,
                scanned_at: scan.scanned_at,
                checkpoint: scan.checkpoint,
                officer: scan.officer,
                serial: scan.serial,
                plate: scan.plate,
                verdict: scan.verdict,
                reasons: scan.reasons,
                bundle_sequence: scan.bundle_sequence,
            },
            extra,
        ))
    }

    /// Scans recorded at or after `since` (all if `None`), oldest first.
    pub fn scans(&self, since: Option<i64>) -> Result<Vec<ScanRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, scanned_at, checkpoint, officer, serial, plate, verdict, reasons,
                        bundle_sequence
                 FROM scans WHERE scanned_at >= ?1 ORDER BY scanned_at, id",
            )
            .map_err(|e| self.db_err(e))?;
        let rows = stmt
            .query_map([since.unwrap_or(i64::MIN)], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, Option<String>>(3)?,
                    row.get::<_, Option<String>>(4)?,
                    row.get::<_, Option<String>>(5)?,
                    row.get::<_, String>(6)?,
                    row.get::<_, String>(7)?,
                    row.get::<_, Option<i64>>(8)?,
                ))
            })
            .map_err(|e| self.db_err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, scanned_at, checkpoint, officer, serial, plate, verdict, reasons, seq) =
                row.map_err(|e| self.db_err(e))?;
            let verdict =
                LoggedVerdict::parse(&verdict).ok_or_else(|| StoreError::CorruptRecord {
                    id,
                    what: format!("verdict {verdict:?}"),
                })?;
            let bundle_sequence = match seq {
                Some(s) => Some(u64::try_from(s).map_err(|_| StoreError::CorruptRecord {
                    id,
                    what: format!("bundle sequence {s}"),
                })?),
                None => None,
            };
            out.push(ScanRecord {
                id,
                scanned_at,
                checkpoint,
                officer,
                serial,
                plate,
                verdict,
                reasons: reasons.split_whitespace().map(str::to_owned).collect(),
                bundle_sequence,
            });
        }
        Ok(out)
    }

    /// Time of the newest scan in the log.
    pub fn newest_scan_at(&self) -> Result<Option<i64>, StoreError> {
        self.conn
            .query_row("SELECT MAX(scanned_at) FROM scans", [], |r| r.get(0))
            .map_err(|e| self.db_err(e))
    }

    /// Number of scans in the log.
    pub fn scan_count(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM scans", [], |r| r.get(0))
            .map_err(|e| self.db_err(e))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Path of the installed bundle file.
    pub fn bundle_path(&self) -> PathBuf {
        self.dir.join(BUNDLE_FILE)
    }

    /// Bytes of the installed bundle, or `None` if none is installed. Not verified here.
    pub fn bundle_bytes(&self) -> Result<Option<Vec<u8>>, StoreError> {
        let path = self.bundle_path();
        let file = match fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(StoreError::File { path, source }),
        };
        read_limited(file, &path, MAX_BUNDLE_BYTES).map(Some)
    }

    /// Replaces the installed bundle with `bytes`: written to a temporary file in the same
    /// directory, flushed to disk, then renamed over the old one, so a crash leaves either the
    /// old or the new bundle, never a torn one. The caller has verified `bytes`.
    pub fn write_bundle(&self, bytes: &[u8]) -> Result<(), StoreError> {
        let path = self.bundle_path();
        write_atomic(&self.dir, &path, bytes)
    }
}

fn read_settings(conn: &Connection) -> rusqlite::Result<BTreeMap<String, String>> {
    let mut stmt = conn.prepare("SELECT key, value FROM settings")?;
    let rows = stmt.query_map([], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
    })?;
    rows.collect()
}

/// Reads at most `limit` bytes of `file`, refusing anything larger.
pub fn read_limited(file: fs::File, path: &Path, limit: u64) -> Result<Vec<u8>, StoreError> {
    let file_err = |source| StoreError::File {
        path: path.to_path_buf(),
        source,
    };
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(file_err)?;
    if bytes.len() as u64 > limit {
        return Err(StoreError::BundleTooLarge {
            path: path.to_path_buf(),
            size: bytes.len() as u64,
        });
    }
    Ok(bytes)
}

/// Write-then-rename in `dir`, with the data and the directory entry synced.
pub fn write_atomic(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let file_err = |source| StoreError::File {
        path: path.to_path_buf(),
        source,
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(file_err)?;
    tmp.write_all(bytes).map_err(file_err)?;
    tmp.as_file().sync_all().map_err(file_err)?;
    tmp.persist(path).map_err(|e| file_err(e.error))?;
    // The rename itself must survive a power cut too.
    #[cfg(unix)]
    if let Ok(d) = fs::File::open(dir) {
        d.sync_all().map_err(file_err)?;
    }
    Ok(())
}

enum MigrateError {
    Db(rusqlite::Error),
    TooNew(i64),
}

impl From<rusqlite::Error> for MigrateError {
    fn from(e: rusqlite::Error) -> Self {
        MigrateError::Db(e)
    }
}

fn migrate(conn: &mut Connection) -> Result<(), MigrateError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(MigrateError::TooNew(version));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(at: i64, serial: Option<&str>, verdict: LoggedVerdict) -> NewScan {
        NewScan {
            scanned_at: at,
            checkpoint: "C101".into(),
            officer: Some("W001".into()),
            serial: serial.map(str::to_owned),
            plate: Some("鲁K12345".into()),
            verdict,
            reasons: vec!["REPEAT_SCAN".into(), "CLOCK_BEHIND".into()],
            bundle_sequence: Some(3),
        }
    }

    #[test]
    fn settings_round_trip_and_replace() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        assert!(store.settings().unwrap().is_empty());
        let mut m = BTreeMap::new();
        m.insert("checkpoint".to_string(), "C101".to_string());
        m.insert("officer".to_string(), "W001".to_string());
        store.save_settings(&m).unwrap();
        m.remove("officer");
        store.save_settings(&m).unwrap();
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.settings().unwrap(), m);
    }

    #[test]
    fn log_facts_and_append() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let (_, facts) = store
            .record_scan(Some("1"), "C101", |f| {
                (scan(100, Some("1"), LoggedVerdict::Green), f)
            })
            .unwrap();
        assert_eq!(facts, LogFacts::default());
        let (_, facts) = store
            .record_scan(None, "C101", |f| (scan(90, None, LoggedVerdict::Red), f))
            .unwrap();
        assert_eq!(facts.newest_scan_at, Some(100));
        assert_eq!(facts.last_same_pass_here, None);
        let (rec, facts) = store
            .record_scan(Some("1"), "C101", |f| {
                (scan(150, Some("1"), LoggedVerdict::Amber), f)
            })
            .unwrap();
        assert_eq!(facts.last_same_pass_here, Some(100));
        assert_eq!(rec.reasons, vec!["REPEAT_SCAN", "CLOCK_BEHIND"]);
        // Another checkpoint's scans are not repeats here.
        let (_, facts) = store
            .record_scan(Some("1"), "C102", |f| {
                (scan(160, Some("1"), LoggedVerdict::Green), f)
            })
            .unwrap();
        assert_eq!(facts.last_same_pass_here, None);
        assert_eq!(facts.newest_scan_at, Some(150));

        let all = store.scans(None).unwrap();
        assert_eq!(
            all.iter().map(|r| r.scanned_at).collect::<Vec<_>>(),
            vec![90, 100, 150, 160]
        );
        assert_eq!(store.scans(Some(150)).unwrap().len(), 2);
        assert_eq!(store.scan_count().unwrap(), 4);
        assert_eq!(all[0].bundle_sequence, Some(3));
    }

    #[test]
    fn log_is_append_only() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store
            .record_scan(None, "C101", |_| (scan(1, None, LoggedVerdict::Red), ()))
            .unwrap();
        assert!(store
            .conn
            .execute("UPDATE scans SET verdict = 'green'", [])
            .is_err());
        assert!(store.conn.execute("DELETE FROM scans", []).is_err());
        assert_eq!(store.scans(None).unwrap()[0].verdict, LoggedVerdict::Red);
    }

    #[test]
    fn refuses_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open(dir.path()).unwrap());
        let conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        assert!(matches!(
            Store::open(dir.path()),
            Err(StoreError::TooNew { found: 99, .. })
        ));
    }

    #[test]
    fn bundle_file_write_then_read() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.bundle_bytes().unwrap(), None);
        store.write_bundle(b"first").unwrap();
        store.write_bundle(b"second").unwrap();
        assert_eq!(
            store.bundle_bytes().unwrap().as_deref(),
            Some(&b"second"[..])
        );
        // Only the bundle and the database files: no temporary file left behind.
        let names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with(DB_FILE))
            .collect();
        assert_eq!(names, vec![BUNDLE_FILE.to_string()]);
    }
}
