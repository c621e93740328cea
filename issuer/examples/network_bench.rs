//! The checkpoint network at province scale: 1,000 checkpoints (a device each) and
//! 1,000,000 passes issued across 16 districts, each pass scanned at the 10 checkpoints of its
//! route, 40 minutes apart: 10,000,000 scans in a day. Every device's day is exported as one
//! signed log file (`checkpass::logfile`), and the city imports the 1,000 files (signature
//! and chain checked, then stored) and works out the findings, on SQLite and on PostgreSQL.
//!
//! A thousandth of the passes is copied (also seen, 10 minutes after its first stop, at a
//! checkpoint 300 km away) and another thousandth never reaches its last stop: the run checks
//! that exactly these come out as findings (a copy is also off its route).
//!
//! Measured: the export file's size per 10,000 scans; the import (files/s and scans/s, reading
//! and checking included); the findings (time, and the process's peak memory while computing
//! them, reset before: `/proc/self/clear_refs` = 5, then `VmHWM`). Seeding uses raw SQL after
//! the store created its schema; everything measured goes through the `Store` trait.
//!
//! ```text
//! nice -n 10 cargo run --release -p issuer --example network_bench -- --passes 1000000 --backends sqlite,pg
//! ```
//!
//! Results: docs/BENCHMARKS.md, "The checkpoint network at province scale".

#[path = "../tests/common/pg.rs"]
mod pg;

use std::time::Instant;

use anyhow::{ensure, Context, Result};
use clap::{Parser, ValueEnum};
use issuer::checkpass::keys::SigningKey;
use issuer::checkpass::logfile::{open_log, sign_log, LogRecord, ScanLogFile};
use issuer::checkpass::scanlog::{link, EntryKind};
use issuer::findings::{self, FindingKind};
use issuer::scans::{Device, ScanFilter};
use issuer::store::{self, Location};

/// 2022-03-12 09:00 (UTC+8): the day the scans are made.
const DAY0: i64 = 1_647_046_800;
const DAY: i64 = 86_400;
/// Checkpoints: 25 highways (columns) of 40 checkpoints, 11 km apart.
const COLUMNS: u64 = 25;
const ROWS: u64 = 40;
const STOPS: u64 = 10;
/// Route start rows 0..=30, so that a route's 10 stops stay on one highway.
const STARTS: u64 = ROWS - STOPS + 1;
const LEG_SECS: i64 = 2400;

#[derive(Parser)]
struct Cli {
    /// Passes to issue (each is scanned at its 10 stops).
    #[arg(long, default_value_t = 1_000_000)]
    passes: u64,
    #[arg(long, value_delimiter = ',', default_value = "sqlite,pg")]
    backends: Vec<Backend>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Backend {
    /// SQLite, WAL and synchronous=FULL (the store's settings).
    Sqlite,
    /// PostgreSQL, the throwaway cluster of tests/common/pg.rs (fsync=off).
    Pg,
}

fn code(checkpoint: u64) -> String {
    format!("K{checkpoint:04}")
}

/// Checkpoint `c` is row `c % 40` of highway `c / 40`: 0.1° of latitude (11 km) between rows,
/// 0.6° of longitude (55 km) between highways.
fn place(c: u64) -> (f64, f64) {
    (
        34.5 + (c % ROWS) as f64 * 0.1,
        115.0 + (c / ROWS) as f64 * 0.6,
    )
}

fn copied(id: u64) -> bool {
    id % 1000 == 7
}

fn lingers(id: u64) -> bool {
    id % 1000 == 13
}

/// When pass `id` reaches stop `j` of its route.
fn at_stop(id: u64, j: u64) -> i64 {
    DAY0 + ((id * 7919) % 40_000) as i64 + j as i64 * LEG_SECS
}

/// Seeds `passes` applications, all issued, with their routes, in one statement each.
fn seed(location: &Location, passes: u64) -> Result<()> {
    let sqlite = matches!(location, Location::Sqlite(_));
    let pad = |expr: &str, width: usize| {
        if sqlite {
            format!("printf('%0{width}d', {expr})")
        } else {
            format!("lpad(({expr})::text, {width}, '0')")
        }
    };
    let start = format!("(i % {STARTS}) + {ROWS} * ((i / {STARTS}) % {COLUMNS})");
    let route = (0..STOPS)
        .map(|j| format!("'K' || {}", pad(&format!("{start} + {j}"), 4)))
        .collect::<Vec<_>>()
        .join(" || ',' || ");
    let select = format!(
        "SELECT i, 'SQ' || {app_no}, '运输人', 371001 + (i - 1) % 16, '鲁K' || {plate}, NULL, \
         '张三', '320102199210156657', '13551566498', 1, 1 + i % 3, '钢材', '甲', '乙', \
         {start_at}, {start_at} + {DAY}, {route}, {sampled}, '阴性', 'issued', 'seed.xlsx', 1, \
         {imported}, 'seed', 'district', {imported}, 'city', {imported} FROM g",
        app_no = pad("i", 7),
        plate = pad("i", 7),
        start_at = DAY0 - 3600,
        sampled = DAY0 - 7200,
        imported = DAY0 - DAY,
    );
    let columns = "id, app_no, applicant_type, district, plate, trailer, driver_name, driver_id, \
        mobile, occupants, category, cargo, origin, destination, start_at, end_at, route, \
        test_sampled_at, test_result, status, source_file, source_row, imported_at, \
        imported_by, forwarded_by, forwarded_at, decided_by, decided_at";
    let pass_rows = format!(
        "INSERT INTO passes (serial, application_id, kid, issued_at, qr_text, state, issued_by) \
         SELECT id, id, '0a1b2c3d', {}, 'CP1:' || {}, 'issued', 'seed' FROM applications",
        DAY0 - DAY / 2,
        pad("id", 386)
    );
    if sqlite {
        raw(
            location,
            &format!(
                "PRAGMA cache_size = -1000000; BEGIN; \
                 WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < {passes}) \
                 INSERT INTO applications ({columns}) {select}; {pass_rows}; COMMIT; ANALYZE;"
            ),
        )
    } else {
        raw(
            location,
            &format!(
                "WITH g(i) AS (SELECT generate_series(1::bigint, {passes})) \
                 INSERT INTO applications ({columns}) {select}; {pass_rows};"
            ),
        )?;
        raw(location, "VACUUM ANALYZE")
    }
}

fn raw(location: &Location, sql: &str) -> Result<()> {
    match location {
        Location::Sqlite(path) => rusqlite::Connection::open(path)?.execute_batch(sql)?,
        Location::Postgres(url) => {
            postgres::Client::connect(url, postgres::NoTls)?.batch_execute(sql)?;
        }
    }
    Ok(())
}

/// One device's day: the scans at checkpoint `c`, in time order, chained and signed.
fn device_day(c: u64, key: &SigningKey, passes: u64) -> Result<Vec<u8>> {
    let (row, column) = (c % ROWS, c / ROWS);
    let mut scans: Vec<(i64, u64)> = Vec::new();
    // Passes whose route covers this row: starts row-9..=row on this highway.
    for start_row in row.saturating_sub(STOPS - 1)..=row.min(STARTS - 1) {
        let j = row - start_row;
        // Ids with id % STARTS == start_row and (id / STARTS) % COLUMNS == column.
        let mut id = start_row + STARTS * column;
        while id <= passes {
            if id > 0 && !(lingers(id) && j == STOPS - 1) {
                scans.push((at_stop(id, j), id));
            }
            id += STARTS * COLUMNS;
        }
    }
    // The copies, seen here 10 minutes after their first stop on a highway 5 columns away.
    let source_column = (column + COLUMNS - 5) % COLUMNS;
    for start_row in row.saturating_sub(STOPS - 1)..=row.min(STARTS - 1) {
        if start_row != row {
            continue;
        }
        let mut id = start_row + STARTS * source_column;
        while id <= passes {
            if id > 0 && copied(id) {
                scans.push((at_stop(id, 0) + 600, id));
            }
            id += STARTS * COLUMNS;
        }
    }
    scans.sort_unstable();
    let mut prev = [0u8; 32];
    let checkpoint = code(c);
    let entries = scans
        .into_iter()
        .enumerate()
        .map(|(i, (at, id))| {
            let mut r = LogRecord {
                id: i as i64 + 1,
                kind: EntryKind::Scan,
                at,
                checkpoint: checkpoint.clone(),
                officer: Some("王警官".into()),
                serial: Some(issuer::checkpass::pass::Serial(id).to_string()),
                plate: Some(format!("鲁K{id:07}")),
                verdict: Some("green".into()),
                reasons: String::new(),
                bundle_sequence: Some(1),
                simulated: false,
                note: None,
                hash: [0; 32],
            };
            r.hash = link(&prev, &r.entry());
            prev = r.hash;
            r
        })
        .collect();
    let log = ScanLogFile {
        device: key.public_key(),
        exported_at: DAY0 + DAY,
        prev: [0; 32],
        entries,
    };
    Ok(sign_log(&log, key)?)
}

/// Peak resident memory since the last reset, in MB.
fn peak_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn run(backend: Backend, passes: u64, dir: &std::path::Path) -> Result<()> {
    let (name, location) = match backend {
        Backend::Sqlite => (
            "SQLite (WAL, sync=FULL)",
            Location::Sqlite(dir.join("network.db")),
        ),
        Backend::Pg => {
            ensure!(pg::available(), "no PostgreSQL server binaries");
            (
                "PostgreSQL (fsync=off)",
                Location::Postgres(pg::Cluster::shared().new_database()),
            )
        }
    };
    let mut s = store::open(&location)?;
    s.set_meta("issuer", "CN-BENCH")?;
    s.set_meta(
        "policy",
        &serde_json::to_string(&issuer::checkpass::bundle::Policy::default())?,
    )?;
    let t = Instant::now();
    seed(&location, passes)?;
    println!(
        "{name}: seeded {passes} issued passes in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let checkpoints = COLUMNS * ROWS;
    let places: Vec<issuer::domain::Place> = (0..checkpoints)
        .map(|c| {
            let (lat, lon) = place(c);
            issuer::domain::Place {
                code: code(c),
                lat,
                lon,
            }
        })
        .collect();
    s.set_places(&places, "bench", DAY0)?;
    let keys: Vec<SigningKey> = (0..checkpoints)
        .map(|c| {
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&c.to_le_bytes());
            SigningKey::from_seed(&seed)
        })
        .collect();
    for (c, key) in keys.iter().enumerate() {
        s.add_device(
            &Device::new(&key.public_key(), &code(c as u64), "bench", DAY0),
            "bench",
            DAY0,
        )?;
    }

    // Files are made outside the timing (they come from the devices), one at a time.
    let (mut scans, mut bytes, mut import_secs, mut make_secs) = (0usize, 0usize, 0f64, 0f64);
    for (c, key) in keys.iter().enumerate() {
        let t = Instant::now();
        let file = device_day(c as u64, key, passes)?;
        make_secs += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let log = open_log(&file).context("open_log")?;
        let done = s.import_scans(&log, &code(c as u64), "bench", DAY0 + DAY)?;
        import_secs += t.elapsed().as_secs_f64();
        ensure!(done.added == log.entries.len() && done.missing.is_empty());
        scans += done.added;
        bytes += file.len();
    }
    println!(
        "{name}: {scans} scans in {checkpoints} files ({:.1} MB, {:.0} bytes per scan, {:.0} kB per 10,000 scans; made in {make_secs:.1} s)",
        bytes as f64 / 1e6,
        bytes as f64 / scans as f64,
        bytes as f64 / scans as f64 * 10_000.0 / 1000.0,
    );
    println!(
        "{name}: import {import_secs:.1} s: {:.0} scans/s, {:.1} files/s",
        scans as f64 / import_secs,
        checkpoints as f64 / import_secs
    );

    reset_peak();
    let t = Instant::now();
    let settings = findings::settings(&*s, DAY0 + 10 * DAY, 2 * 3600, 100.0)?;
    let found = findings::from_store(&*s, &ScanFilter::default(), &settings)?;
    let secs = t.elapsed().as_secs_f64();
    let count = |k: FindingKind| found.iter().filter(|f| f.kind == k).count();
    let expect_copied = (1..=passes).filter(|id| copied(*id)).count();
    let expect_lingering = (1..=passes).filter(|id| lingers(*id)).count();
    println!(
        "{name}: findings in {secs:.1} s ({:.0} scans/s), peak memory {:.0} MB: {} clone, {} off route, {} lingering, {} in all",
        scans as f64 / secs,
        peak_mb(),
        count(FindingKind::Clone),
        count(FindingKind::OffRoute),
        count(FindingKind::Lingering),
        found.len()
    );
    ensure!(count(FindingKind::Clone) == expect_copied, "clones");
    ensure!(count(FindingKind::OffRoute) == expect_copied, "off route");
    ensure!(
        count(FindingKind::Lingering) == expect_lingering,
        "lingering"
    );
    ensure!(
        found.len() == 2 * expect_copied + expect_lingering,
        "nothing else"
    );
    Ok(())
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let dir = tempfile::tempdir()?;
    for backend in &cli.backends {
        run(*backend, cli.passes, dir.path())?;
    }
    Ok(())
}
