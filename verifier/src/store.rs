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
use std::io::Write;
use std::path::{Path, PathBuf};

use checkpass::messages::write_bilingual;
use checkpass::msg;
use checkpass::scanlog::{ChainBroken, Entry, EntryKind};
use checkpass::verdict::Lang;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use crate::files::ReadError;

/// File name of the SQLite database inside the data directory.
pub const DB_FILE: &str = "verifier.db";
/// File name of the installed trust bundle inside the data directory.
pub const BUNDLE_FILE: &str = "bundle.cose";
/// File name of this device's scan-log signing key inside the data directory.
pub const DEVICE_KEY_FILE: &str = "device.key";
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
    // 2: the log becomes a hash chain of entries of three kinds (scans, clock corrections,
    // settings changes); scans made under a simulated clock are marked. SQLite cannot change a
    // CHECK constraint in place, so the table is rebuilt; `chain_unhashed` then chains the
    // rows carried over. An entry with a hash can no longer be updated.
    "DROP TRIGGER scans_no_update;
    DROP TRIGGER scans_no_delete;
    DROP INDEX scans_serial;
    DROP INDEX scans_time;
    ALTER TABLE scans RENAME TO scans_v1;
    CREATE TABLE scans (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        kind            TEXT NOT NULL DEFAULT 'scan' CHECK (kind IN ('scan', 'clock', 'settings')),
        scanned_at      INTEGER NOT NULL,
        checkpoint      TEXT NOT NULL,
        officer         TEXT,
        serial          TEXT,
        plate           TEXT,
        verdict         TEXT CHECK (verdict IN ('green', 'amber', 'red')),
        reasons         TEXT NOT NULL,
        bundle_sequence INTEGER,
        simulated       INTEGER NOT NULL DEFAULT 0 CHECK (simulated IN (0, 1)),
        note            TEXT,
        hash            BLOB,
        CHECK ((kind = 'scan') = (verdict IS NOT NULL))
    );
    INSERT INTO scans (id, scanned_at, checkpoint, officer, serial, plate, verdict, reasons,
                       bundle_sequence)
        SELECT id, scanned_at, checkpoint, officer, serial, plate, verdict, reasons,
               bundle_sequence FROM scans_v1 ORDER BY id;
    DROP TABLE scans_v1;
    CREATE INDEX scans_serial ON scans (serial, checkpoint, scanned_at);
    CREATE INDEX scans_time ON scans (scanned_at);
    -- The clock floor on every check: newest by kind of clock, after the last correction.
    CREATE INDEX scans_floor ON scans (simulated, scanned_at);
    CREATE INDEX scans_kind ON scans (kind, id);
    -- The highest sequence the log has seen, on every start.
    CREATE INDEX scans_sequence ON scans (bundle_sequence);
    CREATE TRIGGER scans_no_update BEFORE UPDATE ON scans WHEN OLD.hash IS NOT NULL
        BEGIN SELECT RAISE(ABORT, 'the scan log is append-only'); END;
    CREATE TRIGGER scans_no_delete BEFORE DELETE ON scans
        BEGIN SELECT RAISE(ABORT, 'the scan log is append-only'); END;",
    // 3: a fourth kind of entry, the newer test report an officer saw (`test_report`, its
    // sample time in the note). The table is rebuilt for the CHECK constraint; every row, its
    // id and its hash are carried over unchanged, so the chain still verifies.
    "DROP TRIGGER scans_no_update;
    DROP TRIGGER scans_no_delete;
    DROP INDEX scans_serial;
    DROP INDEX scans_time;
    DROP INDEX scans_floor;
    DROP INDEX scans_kind;
    DROP INDEX scans_sequence;
    ALTER TABLE scans RENAME TO scans_v2;
    CREATE TABLE scans (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        kind            TEXT NOT NULL DEFAULT 'scan'
                        CHECK (kind IN ('scan', 'clock', 'settings', 'test_report')),
        scanned_at      INTEGER NOT NULL,
        checkpoint      TEXT NOT NULL,
        officer         TEXT,
        serial          TEXT,
        plate           TEXT,
        verdict         TEXT CHECK (verdict IN ('green', 'amber', 'red')),
        reasons         TEXT NOT NULL,
        bundle_sequence INTEGER,
        simulated       INTEGER NOT NULL DEFAULT 0 CHECK (simulated IN (0, 1)),
        note            TEXT,
        hash            BLOB,
        CHECK ((kind = 'scan') = (verdict IS NOT NULL))
    );
    INSERT INTO scans (id, kind, scanned_at, checkpoint, officer, serial, plate, verdict,
                       reasons, bundle_sequence, simulated, note, hash)
        SELECT id, kind, scanned_at, checkpoint, officer, serial, plate, verdict, reasons,
               bundle_sequence, simulated, note, hash FROM scans_v2 ORDER BY id;
    DROP TABLE scans_v2;
    CREATE INDEX scans_serial ON scans (serial, checkpoint, scanned_at);
    CREATE INDEX scans_time ON scans (scanned_at);
    CREATE INDEX scans_floor ON scans (simulated, scanned_at);
    CREATE INDEX scans_kind ON scans (kind, id);
    CREATE INDEX scans_sequence ON scans (bundle_sequence);
    CREATE TRIGGER scans_no_update BEFORE UPDATE ON scans WHEN OLD.hash IS NOT NULL
        BEGIN SELECT RAISE(ABORT, 'the scan log is append-only'); END;
    CREATE TRIGGER scans_no_delete BEFORE DELETE ON scans
        BEGIN SELECT RAISE(ABORT, 'the scan log is append-only'); END;",
];

/// What went wrong in the data directory, with the file concerned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    Dir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    Db {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    DeviceKey {
        path: PathBuf,
        what: String,
    },
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    BundleTooLarge {
        path: PathBuf,
        size: u64,
    },
    CorruptRecord {
        id: i64,
        what: String,
    },
    ChainBroken(#[from] ChainBroken),
}

impl StoreError {
    /// The text in `lang`, without the cause.
    fn text(&self, lang: Lang) -> String {
        use StoreError as E;
        match self {
            E::Dir { path, .. } => msg!(lang, error.store.dir, path = path.display()),
            E::Db { path, .. } => msg!(lang, error.store.db, path = path.display()),
            E::TooNew { path, found, known } => msg!(
                lang,
                error.store.too_new,
                found = found,
                known = known,
                path = path.display()
            ),
            E::DeviceKey { path, what } => msg!(
                lang,
                error.store.device_key,
                path = path.display(),
                what = what
            ),
            E::File { path, .. } => msg!(lang, error.store.file, path = path.display()),
            E::BundleTooLarge { path, size } => msg!(
                lang,
                error.store.bundle_too_large,
                limit = MAX_BUNDLE_BYTES,
                path = path.display(),
                size = size
            ),
            E::CorruptRecord { id, what } => {
                msg!(lang, error.store.corrupt_record, id = id, what = what)
            }
            E::ChainBroken(e) => e.message(lang),
        }
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cause: Option<&dyn std::fmt::Display> = match self {
            StoreError::Dir { source, .. } | StoreError::File { source, .. } => Some(source),
            StoreError::Db { source, .. } => Some(source),
            _ => None,
        };
        write_bilingual(f, |lang| self.text(lang), cause)
    }
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
    /// Checked under a simulated clock (`--at`, `VERIFIER_AT`): never moves the clock floor.
    pub simulated: bool,
    /// The lane's direction, when the device has one: logged in the entry's note.
    pub direction: Option<checkpass::scanlog::Direction>,
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
    pub simulated: bool,
}

/// An entry of the log that is not a scan: a clock correction or a settings change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEvent {
    pub kind: EntryKind,
    pub at: i64,
    pub checkpoint: String,
    pub officer: Option<String>,
    /// The pass it is about (a test report the officer saw), if any.
    pub serial: Option<String>,
    pub plate: Option<String>,
    pub bundle_sequence: Option<u64>,
    /// Made under a simulated clock (as the scan it follows).
    pub simulated: bool,
    pub note: String,
}

/// What `verify_chain` found: how many entries, and the hash of the last (to write down or
/// compare with an earlier export).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainHead {
    pub entries: u64,
    pub head: [u8; 32],
}

/// What the log says before a new scan is recorded; read in the same transaction as the insert.
pub use checkpass::checkpoint::LogFacts;

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
        owner_only_dir(dir).map_err(|source| StoreError::Dir {
            path: dir.to_path_buf(),
            source,
        })?;
        let db_path = dir.join(DB_FILE);
        // Created owner-only before SQLite opens it; SQLite gives its -wal and -shm files the
        // database file's mode.
        owner_only_file(&db_path).map_err(|source| StoreError::File {
            path: db_path.clone(),
            source,
        })?;
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

    /// Appends a scan to the log. `decide` sees what the log held just before (clock floor,
    /// earlier scan of the same pass here, under the same kind of clock: a demonstration's
    /// simulated scans are no repeats of real ones) and returns the record to write; reading and
    /// appending happen in one immediate transaction, so two scanners sharing the directory
    /// cannot both miss each other's scan of the same pass.
    pub fn record_scan<T>(
        &mut self,
        serial: Option<&str>,
        checkpoint: &str,
        simulated: bool,
        decide: impl FnOnce(LogFacts) -> (NewScan, T),
    ) -> Result<(ScanRecord, T), StoreError> {
        let (id, scan, extra) = self.immediate(|tx| {
            let clock_floor = clock_floor(tx, simulated)?;
            let last_same_pass_here: Option<i64> = match serial {
                Some(serial) => tx.query_row(
                    "SELECT MAX(scanned_at) FROM scans WHERE kind = 'scan' AND serial = ?1 \
                     AND checkpoint = ?2 AND simulated = ?3",
                    params![serial, checkpoint, simulated],
                    |r| r.get(0),
                )?,
                None => None,
            };
            let (scan, extra) = decide(LogFacts {
                clock_floor,
                last_same_pass_here,
            });
            let reasons = scan.reasons.join(" ");
            let note = scan.direction.map(checkpass::scanlog::direction_note);
            let id = append(
                tx,
                &Entry {
                    id: 0,
                    kind: EntryKind::Scan,
                    at: scan.scanned_at,
                    checkpoint: &scan.checkpoint,
                    officer: scan.officer.as_deref(),
                    serial: scan.serial.as_deref(),
                    plate: scan.plate.as_deref(),
                    verdict: Some(scan.verdict.as_str()),
                    reasons: &reasons,
                    bundle_sequence: scan.bundle_sequence.map(|s| s as i64),
                    simulated: scan.simulated,
                    note: note.as_deref(),
                },
            )?;
            Ok((id, scan, extra))
        })?;
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
                simulated: scan.simulated,
            },
            extra,
        ))
    }

    /// Appends a clock correction, a settings change or a test report seen to the log.
    pub fn record_event(&mut self, event: &NewEvent) -> Result<i64, StoreError> {
        self.immediate(|tx| {
            append(
                tx,
                &Entry {
                    id: 0,
                    kind: event.kind,
                    at: event.at,
                    checkpoint: &event.checkpoint,
                    officer: event.officer.as_deref(),
                    serial: event.serial.as_deref(),
                    plate: event.plate.as_deref(),
                    verdict: None,
                    reasons: "",
                    bundle_sequence: event.bundle_sequence.map(|s| s as i64),
                    simulated: event.simulated,
                    note: Some(&event.note),
                },
            )
        })
    }

    /// Runs `work` in one immediate transaction (committed if it succeeds), naming the database
    /// in any error.
    fn immediate<T>(
        &mut self,
        work: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let result = (|| {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let value = work(&tx)?;
            tx.commit()?;
            Ok(value)
        })();
        result.map_err(|source| StoreError::Db {
            path: self.db_path.clone(),
            source,
        })
    }

    /// The note of the latest settings entry, if any.
    pub fn latest_settings_note(&self) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row(
                "SELECT note FROM scans WHERE kind = 'settings' ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()
            .map(Option::flatten)
            .map_err(|e| self.db_err(e))
    }

    /// The highest bundle sequence any entry of the log names.
    pub fn highest_logged_sequence(&self) -> Result<Option<u64>, StoreError> {
        let n: Option<i64> = self
            .conn
            .query_row("SELECT MAX(bundle_sequence) FROM scans", [], |r| r.get(0))
            .map_err(|e| self.db_err(e))?;
        Ok(n.and_then(|n| u64::try_from(n).ok()))
    }

    /// Walks the whole log and checks its hash chain.
    pub fn verify_chain(&self) -> Result<ChainHead, StoreError> {
        let rows = read_rows(&self.conn).map_err(|e| self.db_err(e))?;
        let mut entries = Vec::with_capacity(rows.len());
        for r in &rows {
            entries.push((r.entry()?, r.hash()?));
        }
        let head = checkpass::scanlog::verify_chain(entries)?;
        Ok(ChainHead {
            entries: rows.len() as u64,
            head,
        })
    }

    /// This device's key for signing exported scan logs, made on first use. Kept as its seed
    /// in hex, readable by the device's account only: the device signs unattended, so there is
    /// no passphrase to seal it with (docs/SECURITY.md says what a stolen one can do).
    pub fn device_key(&self) -> Result<checkpass::keys::SigningKey, StoreError> {
        let path = self.dir.join(DEVICE_KEY_FILE);
        let file_err = |source| StoreError::File {
            path: path.clone(),
            source,
        };
        match fs::read_to_string(&path) {
            Ok(text) => {
                let seed = hex::decode(text.trim())
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .ok_or_else(|| StoreError::DeviceKey {
                        path: path.clone(),
                        what: "not 64 hex digits".into(),
                    })?;
                Ok(checkpass::keys::SigningKey::from_seed(&seed))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = checkpass::keys::SigningKey::generate();
                let mut tmp = tempfile::NamedTempFile::new_in(&self.dir).map_err(file_err)?;
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    tmp.as_file()
                        .set_permissions(fs::Permissions::from_mode(0o600))
                        .map_err(file_err)?;
                }
                tmp.write_all(hex::encode(key.seed()).as_bytes())
                    .map_err(file_err)?;
                tmp.as_file().sync_all().map_err(file_err)?;
                // Never over a key another process made meanwhile: that one stays.
                match tmp.persist_noclobber(&path) {
                    Ok(_) => Ok(key),
                    Err(_) => self.device_key(),
                }
            }
            Err(e) => Err(file_err(e)),
        }
    }

    /// The log for export, with its chain checked: every entry from the first scan at or after
    /// `since` (all when `None`) in chain order, and the chain hash before the first. A
    /// broken chain is an error, never exported.
    pub fn log_records(
        &self,
        since: Option<i64>,
    ) -> Result<([u8; 32], Vec<checkpass::logfile::LogRecord>), StoreError> {
        let rows = read_rows(&self.conn).map_err(|e| self.db_err(e))?;
        let mut entries = Vec::with_capacity(rows.len());
        for r in &rows {
            entries.push((r.entry()?, r.hash()?));
        }
        checkpass::scanlog::verify_chain(entries)?;
        let first = match since {
            None => 0,
            // By the first *scan* at or after `since`: settings entries carry the real clock
            // even when scans are simulated, so their times do not order the log.
            Some(t) => rows
                .iter()
                .position(|r| r.kind == "scan" && r.at >= t)
                .unwrap_or(rows.len()),
        };
        let prev = match first.checked_sub(1).and_then(|i| rows.get(i)) {
            Some(r) => r.hash()?.unwrap_or(checkpass::scanlog::GENESIS),
            None => checkpass::scanlog::GENESIS,
        };
        let mut out = Vec::with_capacity(rows.len() - first);
        for r in &rows[first..] {
            let e = r.entry()?;
            out.push(checkpass::logfile::LogRecord {
                id: r.id,
                kind: e.kind,
                at: r.at,
                checkpoint: r.checkpoint.clone(),
                officer: r.officer.clone(),
                serial: r.serial.clone(),
                plate: r.plate.clone(),
                verdict: r.verdict.clone(),
                reasons: r.reasons.clone(),
                bundle_sequence: r.bundle_sequence,
                simulated: r.simulated,
                note: r.note.clone(),
                hash: r.hash()?.unwrap_or(checkpass::scanlog::GENESIS),
            });
        }
        Ok((prev, out))
    }

    /// Scans recorded at or after `since` (all if `None`), oldest first.
    pub fn scans(&self, since: Option<i64>) -> Result<Vec<ScanRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, scanned_at, checkpoint, officer, serial, plate, verdict, reasons,
                        bundle_sequence, simulated
                 FROM scans WHERE kind = 'scan' AND scanned_at >= ?1 ORDER BY scanned_at, id",
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
                    row.get::<_, Option<String>>(6)?,
                    row.get::<_, String>(7)?,
                    row.get::<_, Option<i64>>(8)?,
                    row.get::<_, bool>(9)?,
                ))
            })
            .map_err(|e| self.db_err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (
                id,
                scanned_at,
                checkpoint,
                officer,
                serial,
                plate,
                verdict,
                reasons,
                seq,
                simulated,
            ) = row.map_err(|e| self.db_err(e))?;
            let verdict = verdict
                .as_deref()
                .and_then(LoggedVerdict::parse)
                .ok_or_else(|| StoreError::CorruptRecord {
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
                simulated,
            });
        }
        Ok(out)
    }

    /// The clock floor (see [`LogFacts::clock_floor`]) of real or of simulated scans.
    pub fn clock_floor(&self, simulated: bool) -> Result<Option<i64>, StoreError> {
        clock_floor(&self.conn, simulated).map_err(|e| self.db_err(e))
    }

    /// Number of scans in the log.
    pub fn scan_count(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM scans WHERE kind = 'scan'", [], |r| {
                r.get(0)
            })
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
        read_bundle_file(file, &path).map(Some)
    }

    /// Replaces the installed bundle with `bytes`: written to a temporary file in the same
    /// directory, flushed to disk, then renamed over the old one, so a crash leaves either the
    /// old or the new bundle, never a torn one. The caller has verified `bytes`.
    pub fn write_bundle(&self, bytes: &[u8]) -> Result<(), StoreError> {
        let path = self.bundle_path();
        write_atomic(&self.dir, &path, bytes)
    }
}

/// Creates `dir` (and its parents) owner-only, and makes an existing one owner-only: the
/// settings, the bundle and the scan log are nobody else's business on a shared laptop.
fn owner_only_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let mode = fs::metadata(dir)?.permissions().mode();
        if mode & 0o077 != 0 {
            fs::set_permissions(dir, fs::Permissions::from_mode(mode & 0o700))?;
        }
        Ok(())
    }
    #[cfg(not(unix))]
    fs::create_dir_all(dir)
}

/// Creates `path` empty with mode 0600 if it does not exist; makes an existing one 0600.
fn owner_only_file(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)?;
        let mode = fs::metadata(path)?.permissions().mode();
        if mode & 0o077 != 0 {
            fs::set_permissions(path, fs::Permissions::from_mode(mode & 0o600))?;
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

/// See [`LogFacts::clock_floor`]. A correction's own time counts: the officer stated it.
/// Simulated scans have a floor of their own, so that a demonstration on old sample data
/// behaves like a real device without touching the real floor.
fn clock_floor(conn: &Connection, simulated: bool) -> rusqlite::Result<Option<i64>> {
    conn.query_row(
        "SELECT MAX(scanned_at) FROM scans WHERE simulated = ?1 AND kind IN ('scan', 'clock') \
         AND id >= (SELECT COALESCE(MAX(id), 0) FROM scans WHERE kind = 'clock')",
        [simulated],
        |r| r.get(0),
    )
}

/// Appends `entry` (its `id` is assigned here) chained to the last entry; returns the id.
fn append(conn: &Connection, entry: &Entry<'_>) -> rusqlite::Result<i64> {
    let (last_id, prev): (i64, Option<Vec<u8>>) = conn
        .query_row(
            "SELECT id, hash FROM scans ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .unwrap_or((0, None));
    let prev = prev
        .and_then(|p| <[u8; 32]>::try_from(p.as_slice()).ok())
        .unwrap_or(checkpass::scanlog::GENESIS);
    let entry = Entry {
        id: last_id + 1,
        ..*entry
    };
    let hash = checkpass::scanlog::link(&prev, &entry);
    conn.prepare_cached(
        "INSERT INTO scans (id, kind, scanned_at, checkpoint, officer, serial, plate, verdict,
                            reasons, bundle_sequence, simulated, note, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        entry.id,
        entry.kind.as_str(),
        entry.at,
        entry.checkpoint,
        entry.officer,
        entry.serial,
        entry.plate,
        entry.verdict,
        entry.reasons,
        entry.bundle_sequence,
        entry.simulated,
        entry.note,
        hash.to_vec(),
    ])?;
    Ok(entry.id)
}

/// One stored entry, owned, as the chain covers it.
struct Row {
    id: i64,
    kind: String,
    at: i64,
    checkpoint: String,
    officer: Option<String>,
    serial: Option<String>,
    plate: Option<String>,
    verdict: Option<String>,
    reasons: String,
    bundle_sequence: Option<i64>,
    simulated: bool,
    note: Option<String>,
    hash: Option<Vec<u8>>,
}

impl Row {
    fn entry(&self) -> Result<Entry<'_>, StoreError> {
        Ok(Entry {
            id: self.id,
            kind: EntryKind::parse(&self.kind).ok_or_else(|| StoreError::CorruptRecord {
                id: self.id,
                what: format!("kind {:?}", self.kind),
            })?,
            at: self.at,
            checkpoint: &self.checkpoint,
            officer: self.officer.as_deref(),
            serial: self.serial.as_deref(),
            plate: self.plate.as_deref(),
            verdict: self.verdict.as_deref(),
            reasons: &self.reasons,
            bundle_sequence: self.bundle_sequence,
            simulated: self.simulated,
            note: self.note.as_deref(),
        })
    }

    fn hash(&self) -> Result<Option<[u8; 32]>, StoreError> {
        self.hash
            .as_deref()
            .map(|h| {
                <[u8; 32]>::try_from(h).map_err(|_| StoreError::CorruptRecord {
                    id: self.id,
                    what: "hash is not 32 bytes".into(),
                })
            })
            .transpose()
    }
}

fn read_rows(conn: &Connection) -> rusqlite::Result<Vec<Row>> {
    let mut stmt = conn.prepare(
        "SELECT id, kind, scanned_at, checkpoint, officer, serial, plate, verdict, reasons,
                bundle_sequence, simulated, note, hash FROM scans ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Row {
            id: r.get(0)?,
            kind: r.get(1)?,
            at: r.get(2)?,
            checkpoint: r.get(3)?,
            officer: r.get(4)?,
            serial: r.get(5)?,
            plate: r.get(6)?,
            verdict: r.get(7)?,
            reasons: r.get(8)?,
            bundle_sequence: r.get(9)?,
            simulated: r.get(10)?,
            note: r.get(11)?,
            hash: r.get(12)?,
        })
    })?;
    rows.collect()
}

/// Chains the rows a migration carried over without a hash, in order.
fn chain_unhashed(conn: &Connection) -> Result<(), MigrateError> {
    let rows = read_rows(conn)?;
    let mut prev = checkpass::scanlog::GENESIS;
    for r in &rows {
        let entry = r.entry().map_err(|_| {
            MigrateError::Db(rusqlite::Error::InvalidColumnType(
                1,
                "kind".into(),
                rusqlite::types::Type::Text,
            ))
        })?;
        let hash = checkpass::scanlog::link(&prev, &entry);
        if r.hash.is_none() {
            conn.execute(
                "UPDATE scans SET hash = ?1 WHERE id = ?2",
                params![hash.to_vec(), r.id],
            )?;
        }
        prev = hash;
    }
    Ok(())
}

fn read_settings(conn: &Connection) -> rusqlite::Result<BTreeMap<String, String>> {
    let mut stmt = conn.prepare("SELECT key, value FROM settings")?;
    let rows = stmt.query_map([], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
    })?;
    rows.collect()
}

/// Reads the bundle file (see [`crate::files::read_limited_from`]), in the store's errors.
fn read_bundle_file(file: fs::File, path: &Path) -> Result<Vec<u8>, StoreError> {
    crate::files::read_limited_from(file, path, MAX_BUNDLE_BYTES).map_err(|e| match e {
        ReadError::Open { path, source } | ReadError::Read { path, source } => {
            StoreError::File { path, source }
        }
        ReadError::TooLarge { path, size, .. } => StoreError::BundleTooLarge { path, size },
    })
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
    if version < 2 {
        chain_unhashed(&tx)?;
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
            simulated: false,
            direction: None,
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
            .record_scan(Some("1"), "C101", false, |f| {
                (scan(100, Some("1"), LoggedVerdict::Green), f)
            })
            .unwrap();
        assert_eq!(facts, LogFacts::default());
        let (_, facts) = store
            .record_scan(None, "C101", false, |f| {
                (scan(90, None, LoggedVerdict::Red), f)
            })
            .unwrap();
        assert_eq!(facts.clock_floor, Some(100));
        assert_eq!(facts.last_same_pass_here, None);
        let (rec, facts) = store
            .record_scan(Some("1"), "C101", false, |f| {
                (scan(150, Some("1"), LoggedVerdict::Amber), f)
            })
            .unwrap();
        assert_eq!(facts.last_same_pass_here, Some(100));
        assert_eq!(rec.reasons, vec!["REPEAT_SCAN", "CLOCK_BEHIND"]);
        // Another checkpoint's scans are not repeats here.
        let (_, facts) = store
            .record_scan(Some("1"), "C102", false, |f| {
                (scan(160, Some("1"), LoggedVerdict::Green), f)
            })
            .unwrap();
        assert_eq!(facts.last_same_pass_here, None);
        assert_eq!(facts.clock_floor, Some(150));

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
            .record_scan(None, "C101", false, |_| {
                (scan(1, None, LoggedVerdict::Red), ())
            })
            .unwrap();
        assert!(store
            .conn
            .execute("UPDATE scans SET verdict = 'green'", [])
            .is_err());
        assert!(store.conn.execute("DELETE FROM scans", []).is_err());
        assert_eq!(store.scans(None).unwrap()[0].verdict, LoggedVerdict::Red);
    }

    #[test]
    fn a_log_from_before_the_chain_is_chained_on_upgrade() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute(
            "INSERT INTO scans (scanned_at, checkpoint, verdict, reasons) VALUES (5, 'C101', 'green', '')",
            [],
        )
        .unwrap();
        drop(conn);
        let mut store = Store::open(dir.path()).unwrap();
        assert_eq!(store.verify_chain().unwrap().entries, 1);
        store
            .record_scan(None, "C101", false, |_| {
                (scan(6, None, LoggedVerdict::Red), ())
            })
            .unwrap();
        let head = store.verify_chain().unwrap();
        assert_eq!(head.entries, 2);
        assert_eq!(store.scans(None).unwrap()[0].scanned_at, 5);
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
