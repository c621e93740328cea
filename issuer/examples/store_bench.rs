//! Measures the store (`issuer::store`) at province scale, on PostgreSQL and SQLite, through
//! the `Store` trait only (raw SQL only seeds data quickly, after the store has created its
//! schema). Each part runs alone; `all` runs them in turn with their defaults.
//!
//! - `rtt`: one PostgreSQL round trip (`SELECT 1`) with one client and with two, the cost
//!   every statement of a store call pays on this machine.
//! - `queries`: 1,000,000 applications over 16 districts (371001..371016) in mixed statuses,
//!   a tenth of them issued with a pass (serial = id), seeded with one `INSERT … SELECT` (a
//!   `generate_series` on PostgreSQL, a recursive CTE on SQLite) and analysed. Two layouts:
//!   `by-age` (the forwarded and submitted applications are the newest, as in a store in use)
//!   and `spread` (every status evenly through the ids). Then the queries an operator runs,
//!   interleaved on one connection as a server would run them, `--runs` times each with
//!   varying parameters after 10 unmeasured warm-up rounds: p50/p95/max in ms.
//! - `writers`: `--threads` operators, each with its own connection, import batches of 10
//!   new rows (their own numbers and plates), forward them, approve them (`--batches` rounds
//!   each), starting from an empty store: transitions per second (each imported row, forward
//!   and approve is one) and latency per store call.
//! - `issue`: `--apps` approved applications issued by one issuer, then (fresh database) by two
//!   at once, each with its own connection and lease: `reserve(Which::New, 64)` with a signer
//!   doing real Ed25519 signing, then `mark_issued`. Passes per second; checks that no
//!   application got two passes, no serial repeats, every QR text verifies and carries its
//!   serial, and the store lists them all issued. Also counts reservations that came back
//!   short while work was left (the issuer would have stopped there), signatures thrown away
//!   and serials skipped. Rendering and writing the pass files is not part of it.
//!
//! Backends: `pg` is a database in the throwaway cluster of `tests/common/pg.rs`, which runs
//! with fsync=off; `pg-fsync` is a second throwaway cluster started here the same way but with
//! fsync on (the server's default); `sqlite` is a file in a temporary directory with the store's
//! own settings (WAL, synchronous=FULL).
//!
//! ```text
//! nice -n 10 cargo run --release -p issuer --example store_bench -- all
//! nice -n 10 cargo run --release -p issuer --example store_bench -- rtt
//! nice -n 10 cargo run --release -p issuer --example store_bench -- queries --apps 1000000 --runs 200 --backends pg,sqlite --layouts by-age,spread
//! nice -n 10 cargo run --release -p issuer --example store_bench -- writers --threads 20 --batches 100 --backends pg,pg-fsync,sqlite
//! nice -n 10 cargo run --release -p issuer --example store_bench -- issue --apps 5000 --batch 64 --backends pg,sqlite
//! ```
//!
//! Results and their reading: docs/store-bench.md.

#[path = "../tests/common/pg.rs"]
mod pg;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use issuer::checkpass::keys::SigningKey;
use issuer::checkpass::pass::{Category, Serial};
use issuer::checkpass::wire;
use issuer::domain::{ImportOutcome, ListFilter};
use issuer::issuing;
use issuer::store::{self, Ask, Lease, Location, SignError, Signed, Store, ToSign, Which};
use issuer::validate::NewApplication;
use issuer::workflow::{Action, Status};

/// The clock of every run: 2022-03-12 09:00 (UTC+8), as the sample data.
const NOW: i64 = 1_647_046_800;
const DAY: i64 = 86_400;
/// The districts applications are spread over.
const FIRST_DISTRICT: u32 = 371_001;
const DISTRICTS: u32 = 16;
/// A valid ID number (the pass masks it), the one the store tests use.
const DRIVER_ID: &str = "320102199210156657";
/// Unmeasured rounds before the measured ones: connections warm, plans cached.
const WARMUP: usize = 10;
/// Applications per plate in the province data (windows two days apart, never overlapping).
const APPS_PER_PLATE: u64 = 4;
const PLATE_LETTERS: &[u8] = b"ABCDEFGHJK";

#[derive(Parser)]
#[command(about = "Store benchmark: operator queries, concurrent writers, concurrent issuers")]
struct Cli {
    #[command(subcommand)]
    part: Part,
}

#[derive(Subcommand)]
enum Part {
    /// Operator queries against a province-sized store.
    Queries(QueryArgs),
    /// Concurrent operators importing, forwarding and approving.
    Writers(WriterArgs),
    /// One issuer against two at once.
    Issue(IssueArgs),
    /// The cost of one PostgreSQL round trip (`SELECT 1`) with one client and with two: what
    /// every statement of a store call pays on this machine.
    Rtt,
    /// Every part in turn, with its defaults.
    All,
}

#[derive(clap::Args)]
struct QueryArgs {
    /// Applications to seed (a tenth get issued passes).
    #[arg(long, default_value_t = 1_000_000)]
    apps: u64,
    /// Measured runs of each query.
    #[arg(long, default_value_t = 200)]
    runs: usize,
    #[arg(long, value_delimiter = ',', default_value = "pg,sqlite")]
    backends: Vec<Backend>,
    /// Where the statuses lie in id order (by-age, spread).
    #[arg(long, value_delimiter = ',', default_value = "by-age,spread")]
    layouts: Vec<Mix>,
}

#[derive(clap::Args)]
struct WriterArgs {
    #[arg(long, default_value_t = 20)]
    threads: usize,
    /// Batches of 10 rows each thread imports, forwards and approves.
    #[arg(long, default_value_t = 100)]
    batches: usize,
    #[arg(long, value_delimiter = ',', default_value = "pg,pg-fsync,sqlite")]
    backends: Vec<Backend>,
}

#[derive(clap::Args)]
struct IssueArgs {
    /// Approved applications to issue.
    #[arg(long, default_value_t = 5_000)]
    apps: u64,
    /// Reservations per `reserve` call.
    #[arg(long, default_value_t = 64)]
    batch: usize,
    #[arg(long, value_delimiter = ',', default_value = "pg,sqlite")]
    backends: Vec<Backend>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Backend {
    /// PostgreSQL, the test cluster of tests/common/pg.rs (fsync=off).
    Pg,
    /// PostgreSQL, a cluster started here with fsync on.
    PgFsync,
    /// SQLite, WAL and synchronous=FULL (the store's settings).
    Sqlite,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Pg => "PostgreSQL (fsync=off)",
            Backend::PgFsync => "PostgreSQL (fsync=on)",
            Backend::Sqlite => "SQLite (WAL, sync=FULL)",
        }
    }
}

fn main() -> Result<()> {
    let mut dbs = Databases::default();
    run(&mut dbs, Cli::parse().part)
}

fn run(dbs: &mut Databases, part: Part) -> Result<()> {
    match part {
        Part::Queries(a) => queries(dbs, &a),
        Part::Writers(a) => writers(dbs, &a),
        Part::Issue(a) => issue(dbs, &a),
        Part::Rtt => rtt(dbs),
        Part::All => {
            for part in ["rtt", "queries", "writers", "issue"] {
                run(dbs, Cli::parse_from(["store_bench", part]).part)?;
            }
            Ok(())
        }
    }
}

// ------------------------------------------------------------------ databases

/// Hands out fresh empty databases and keeps what they live in until the end.
#[derive(Default)]
struct Databases {
    durable: Option<durable::Cluster>,
    dirs: Vec<tempfile::TempDir>,
}

impl Databases {
    fn fresh(&mut self, backend: Backend) -> Result<Location> {
        Ok(match backend {
            Backend::Pg => {
                ensure!(pg::available(), "no PostgreSQL server binaries");
                Location::Postgres(pg::Cluster::shared().new_database())
            }
            Backend::PgFsync => {
                if self.durable.is_none() {
                    self.durable = Some(durable::Cluster::start().map_err(anyhow::Error::msg)?);
                }
                let cluster = self.durable.as_mut().context("cluster")?;
                Location::Postgres(cluster.new_database()?)
            }
            Backend::Sqlite => {
                let dir = tempfile::tempdir()?;
                let location = Location::Sqlite(dir.path().join("issuer.db"));
                self.dirs.push(dir);
                location
            }
        })
    }
}

/// Runs SQL behind the store's back, in one batch.
fn raw(location: &Location, sql: &str) -> Result<()> {
    match location {
        Location::Sqlite(path) => rusqlite::Connection::open(path)?.execute_batch(sql)?,
        Location::Postgres(url) => {
            postgres::Client::connect(url, postgres::NoTls)?.batch_execute(sql)?;
        }
    }
    Ok(())
}

/// The database's size on disk, for the report.
fn size_mb(location: &Location) -> Result<f64> {
    Ok(match location {
        Location::Sqlite(path) => {
            let mut wal = path.clone().into_os_string();
            wal.push("-wal");
            let len = |p: PathBuf| std::fs::metadata(p).map_or(0, |m| m.len());
            (len(path.clone()) + len(PathBuf::from(wal))) as f64 / 1e6
        }
        Location::Postgres(url) => {
            let mut c = postgres::Client::connect(url, postgres::NoTls)?;
            let bytes: i64 = c
                .query_one("SELECT pg_database_size(current_database())", &[])?
                .get(0);
            bytes as f64 / 1e6
        }
    })
}

// ------------------------------------------------------------------ seeding

/// The status mix of the province data: of every 100 applications 10 issued, 40 approved and
/// 32 rejected (below each bound, that status, by `((id - 1) / 16) % 82`, so that every
/// district gets the same mix), and 9 forwarded and 9 submitted.
const DECIDED_MIX: [(u64, Status); 3] = [
    (10, Status::Issued),
    (50, Status::Approved),
    (82, Status::Rejected),
];
const QUEUED_PERCENT: u64 = 9;

/// What to seed.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mix {
    /// The province mix in import order: the forwarded and then the submitted applications
    /// are the newest (highest ids), as in a store that has been in use.
    ByAge,
    /// The province mix with every status spread evenly over the ids (queues scattered
    /// through the table: the easy case for a query that scans in id order).
    Spread,
    /// All approved and issuable now (for issuing).
    AllApproved,
}

fn status_of(id: u64, apps: u64, mix: Mix) -> Status {
    let cycle = (id - 1) / u64::from(DISTRICTS);
    let decided = |k: u64| {
        DECIDED_MIX
            .iter()
            .find(|(bound, _)| k < *bound)
            .map_or(Status::Rejected, |(_, s)| *s)
    };
    let queued = apps * QUEUED_PERCENT / 100;
    match mix {
        Mix::AllApproved => Status::Approved,
        Mix::ByAge if id > apps - queued => Status::Submitted,
        Mix::ByAge if id > apps - 2 * queued => Status::Forwarded,
        Mix::ByAge => decided(cycle % 82),
        Mix::Spread => match cycle % 100 {
            k if k < 82 => decided(k),
            k if k < 82 + QUEUED_PERCENT => Status::Submitted,
            _ => Status::Forwarded,
        },
    }
}

/// [`status_of`] in SQL, over the id `i`.
fn status_sql(apps: u64, mix: Mix) -> String {
    let cycle = format!("((i - 1) / {DISTRICTS})");
    let decided = |k: &str| {
        let mut case = String::from("CASE");
        for (bound, s) in DECIDED_MIX {
            case += &format!(" WHEN {k} < {bound} THEN '{}'", s.as_str());
        }
        case + " ELSE 'rejected' END"
    };
    let queued = apps * QUEUED_PERCENT / 100;
    match mix {
        Mix::AllApproved => "'approved'".into(),
        Mix::ByAge => format!(
            "CASE WHEN i > {} THEN 'submitted' WHEN i > {} THEN 'forwarded' ELSE {} END",
            apps - queued,
            apps - 2 * queued,
            decided(&format!("{cycle} % 82"))
        ),
        Mix::Spread => format!(
            "CASE WHEN {cycle} % 100 < 82 THEN {} WHEN {cycle} % 100 < {} THEN 'submitted' \
             ELSE 'forwarded' END",
            decided(&format!("{cycle} % 100")),
            82 + QUEUED_PERCENT
        ),
    }
}

fn plates(apps: u64) -> u64 {
    (apps / APPS_PER_PLATE).max(1)
}

/// The plate of plate number `p` (`p = id % plates`), as the seeding SQL writes it.
fn plate_text(p: u64) -> String {
    let letter = PLATE_LETTERS[(p % PLATE_LETTERS.len() as u64) as usize] as char;
    format!("鲁{letter}{:05}", p / PLATE_LETTERS.len() as u64)
}

fn app_no_text(id: u64) -> String {
    format!("SQ{id:07}")
}

/// Fills the store at `location` (its schema already created) with `apps` applications, and
/// passes for the issued ones, in one statement each, then analyses it.
fn seed(location: &Location, apps: u64, mix: Mix) -> Result<()> {
    let sqlite = matches!(location, Location::Sqlite(_));
    // Zero-padding, the one spelling the two dialects do not share.
    let pad = |expr: &str, width: usize| {
        if sqlite {
            format!("printf('%0{width}d', {expr})")
        } else {
            format!("lpad(({expr})::text, {width}, '0')")
        }
    };
    let status = status_sql(apps, mix);
    let n_plates = plates(apps);
    let letters = std::str::from_utf8(PLATE_LETTERS)?;
    let l = PLATE_LETTERS.len();
    let plate = format!(
        "'鲁' || substr('{letters}', CAST(1 + (i % {n_plates}) % {l} AS INTEGER), 1) || {}",
        pad(&format!("(i % {n_plates}) / {l}"), 5),
    );
    // Plate number p's applications are generations 0, 1, 2, … two days apart; generation 0
    // is under way now (so approved ones are issuable).
    let start = format!("{} + (i / {n_plates}) * {}", NOW - 3600, 2 * DAY);
    let decided = "('approved', 'rejected', 'issued')";
    let select = format!(
        "SELECT i, 'SQ' || {app_no}, '运输人', {FIRST_DISTRICT} + (i - 1) % {DISTRICTS}, plate, \
         NULL, '张三', '{DRIVER_ID}', '13551566498', 1, 1 + i % 3, '钢材', '威海市经区', \
         '济南市历城区', start_at, start_at + {DAY}, 'C101,C201', {sampled}, '阴性', status, \
         'seed.xlsx', 1 + i % 5000, {imported}, 'seed', \
         CASE WHEN status <> 'submitted' THEN 'district' END, \
         CASE WHEN status <> 'submitted' THEN {forwarded} END, \
         CASE WHEN status IN {decided} THEN 'city' END, \
         CASE WHEN status IN {decided} THEN {forwarded} + 3600 END, \
         CASE WHEN status = 'rejected' THEN '材料不全' END FROM s",
        app_no = pad("i", 7),
        sampled = NOW - 7200,
        imported = NOW - 2 * DAY,
        forwarded = NOW - DAY,
    );
    let columns = "id, app_no, applicant_type, district, plate, trailer, driver_name, driver_id, \
        mobile, occupants, category, cargo, origin, destination, start_at, end_at, route, \
        test_sampled_at, test_result, status, source_file, source_row, imported_at, \
        imported_by, forwarded_by, forwarded_at, decided_by, decided_at, reject_reason";
    // A signed pass's QR text is ~390 characters.
    let passes = format!(
        "INSERT INTO passes (serial, application_id, kid, issued_at, qr_text, state, issued_by) \
         SELECT id, id, '0a1b2c3d', {}, 'CP1:' || {}, 'issued', 'seed' FROM applications \
         WHERE status = 'issued'",
        NOW - DAY / 2,
        pad("id", 386)
    );
    if sqlite {
        raw(
            location,
            &format!(
                "PRAGMA cache_size = -1000000; BEGIN; \
                 WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < {apps}), \
                 s AS (SELECT i, {status} AS status, {start} AS start_at, {plate} AS plate FROM g) \
                 INSERT INTO applications ({columns}) {select}; \
                 {passes}; \
                 INSERT INTO meta (key, value) VALUES ('next_serial', '{next}') \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value; \
                 COMMIT; ANALYZE; PRAGMA optimize;",
                next = apps + 1
            ),
        )
    } else {
        raw(
            location,
            &format!(
                "WITH s AS (SELECT i, {status} AS status, {start} AS start_at, {plate} AS plate \
                 FROM generate_series(1::bigint, {apps}) AS g(i)) \
                 INSERT INTO applications ({columns}) {select}; \
                 {passes}; \
                 SELECT setval(pg_get_serial_sequence('applications', 'id'), {next}, false); \
                 SELECT setval('pass_serial', {next}, false);",
                next = apps + 1
            ),
        )?;
        // Not in the batch above: VACUUM refuses to run inside a transaction.
        raw(location, "VACUUM ANALYZE")
    }
}

// ------------------------------------------------------------------ measuring

/// Latencies of one kind of call, in milliseconds.
#[derive(Default)]
struct Latencies(Vec<f64>);

impl Latencies {
    fn add(&mut self, d: Duration) {
        self.0.push(d.as_secs_f64() * 1e3);
    }

    fn extend(&mut self, other: Latencies) {
        self.0.extend(other.0);
    }

    /// Nearest-rank percentile.
    fn pct(&self, p: f64) -> f64 {
        let mut v = self.0.clone();
        v.sort_by(f64::total_cmp);
        if v.is_empty() {
            return f64::NAN;
        }
        let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
        v[rank.clamp(1, v.len()) - 1]
    }

    fn max(&self) -> f64 {
        self.0.iter().copied().fold(f64::NAN, f64::max)
    }
}

/// A small deterministic generator (splitmix64): the same parameters every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n
    }
}

/// Prints rows under a header as a pipe table, columns padded to their widest cell.
fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let width = |i: usize| {
        rows.iter()
            .map(|r| r[i].chars().count())
            .chain([header[i].chars().count()])
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..header.len()).map(width).collect();
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
            .collect();
        println!("| {} |", padded.join(" | "));
    };
    line(header.iter().map(|h| h.to_string()).collect());
    line(widths.iter().map(|w| "-".repeat(*w)).collect());
    for r in rows {
        line(r.clone());
    }
    println!();
}

fn ms(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.1}")
    }
}

// ------------------------------------------------------------------ part 1: queries

#[derive(Clone, Copy)]
enum Query {
    /// A district's page of forwarded applications.
    DistrictQueue,
    /// The city's page of forwarded applications, all districts.
    CityQueue,
    Plate,
    Serial,
    AppNo,
    /// A district's submitted application numbers (what a bulk forward acts on).
    Submitted,
}

const QUERIES: [Query; 6] = [
    Query::DistrictQueue,
    Query::CityQueue,
    Query::Plate,
    Query::Serial,
    Query::AppNo,
    Query::Submitted,
];

impl Query {
    fn label(self) -> &'static str {
        match self {
            Query::DistrictQueue => "list(Forwarded, district d, limit 100)",
            Query::CityQueue => "list(Forwarded, all districts, limit 100)",
            Query::Plate => "list(plate p)",
            Query::Serial => "get_by_serial(s)",
            Query::AppNo => "get(app_no)",
            Query::Submitted => "app_nos_with_status(Submitted, d)",
        }
    }

    /// Runs the query once with parameters from `rng`; the number of rows it gave.
    fn run(self, s: &dyn Store, apps: u64, mix: Mix, rng: &mut Rng) -> Result<usize> {
        let district = FIRST_DISTRICT + rng.below(u64::from(DISTRICTS)) as u32;
        let page = |district| ListFilter {
            status: Some(Status::Forwarded),
            district,
            limit: Some(100),
            ..Default::default()
        };
        Ok(match self {
            Query::DistrictQueue => s.list(&page(Some(district)))?.len(),
            Query::CityQueue => s.list(&page(None))?.len(),
            Query::Plate => s
                .list(&ListFilter {
                    plate: Some(plate_text(rng.below(plates(apps)))),
                    ..Default::default()
                })?
                .len(),
            Query::Serial => {
                let id = loop {
                    let id = 1 + rng.below(apps);
                    if status_of(id, apps, mix) == Status::Issued {
                        break id;
                    }
                };
                let app = s.get_by_serial(Serial(id))?;
                ensure!(app.data.app_no == app_no_text(id), "wrong application");
                1
            }
            Query::AppNo => {
                let id = 1 + rng.below(apps);
                ensure!(s.get(&app_no_text(id))?.data.app_no == app_no_text(id));
                1
            }
            Query::Submitted => s
                .app_nos_with_status(Status::Submitted, Some(district))?
                .len(),
        })
    }
}

fn queries(dbs: &mut Databases, args: &QueryArgs) -> Result<()> {
    ensure!(
        args.apps >= 1600,
        "--apps must be at least 1600 (one status cycle)"
    );
    println!(
        "## Operator queries: {} applications, {} districts, {} measured runs each \
         (after {WARMUP} warm-up rounds), interleaved on one connection\n",
        args.apps, DISTRICTS, args.runs
    );
    ensure!(
        !args.layouts.contains(&Mix::AllApproved),
        "layouts: by-age or spread"
    );
    let mut setup = Vec::new();
    let mut rows = Vec::new();
    for (&mix, &backend) in args
        .layouts
        .iter()
        .flat_map(|m| args.backends.iter().map(move |b| (m, b)))
    {
        let layout = match mix {
            Mix::ByAge => "by age",
            _ => "spread",
        };
        let location = dbs.fresh(backend)?;
        drop(store::open(&location)?);
        let started = Instant::now();
        seed(&location, args.apps, mix)?;
        let seed_secs = started.elapsed().as_secs_f64();
        let s = store::open(&location)?;
        let count = |status| Ok::<_, anyhow::Error>(s.app_nos_with_status(status, None)?.len());
        setup.push(vec![
            backend.name().to_string(),
            layout.to_string(),
            format!("{seed_secs:.1}"),
            format!("{:.0}", size_mb(&location)?),
            count(Status::Issued)?.to_string(),
            count(Status::Forwarded)?.to_string(),
            count(Status::Submitted)?.to_string(),
        ]);
        let mut rng = Rng(0x5EED);
        let mut lat: Vec<Latencies> = QUERIES.iter().map(|_| Latencies::default()).collect();
        let mut counts = vec![0usize; QUERIES.len()];
        for round in 0..WARMUP + args.runs {
            for (i, q) in QUERIES.iter().enumerate() {
                let started = Instant::now();
                let n = q.run(&*s, args.apps, mix, &mut rng)?;
                if round >= WARMUP {
                    lat[i].add(started.elapsed());
                    counts[i] += n;
                }
            }
        }
        for (i, q) in QUERIES.iter().enumerate() {
            let p95 = lat[i].pct(95.0);
            rows.push(vec![
                backend.name().to_string(),
                layout.to_string(),
                q.label().to_string(),
                format!("{:.0}", counts[i] as f64 / args.runs as f64),
                ms(lat[i].pct(50.0)),
                ms(p95),
                ms(lat[i].max()),
                if p95 < 50.0 { "yes" } else { "NO" }.to_string(),
            ]);
        }
    }
    print_table(
        &[
            "backend",
            "layout",
            "seed s",
            "size MB",
            "issued",
            "forwarded",
            "submitted",
        ],
        &setup,
    );
    print_table(
        &[
            "backend",
            "layout",
            "query",
            "rows",
            "p50 ms",
            "p95 ms",
            "max ms",
            "p95 < 50 ms",
        ],
        &rows,
    );
    Ok(())
}

// ------------------------------------------------------------------ part 2: writers

/// A new application of writer `t`'s batch `b`, row `r`: its own number and plate.
fn writer_row(t: usize, b: usize, r: usize) -> NewApplication {
    let k = b * 10 + r;
    NewApplication {
        app_no: format!("W{t:02}-{k:05}"),
        applicant_type: "运输人".into(),
        district: FIRST_DISTRICT + (t as u32 % DISTRICTS),
        plate: format!("鲁W{t:02}{k:05}"),
        trailer: None,
        driver_name: "张三".into(),
        driver_id: DRIVER_ID.into(),
        mobile: "13551566498".into(),
        occupants: 1,
        category: Category::RawMaterials,
        cargo: "钢材".into(),
        origin: "威海市经区".into(),
        destination: "济南市历城区".into(),
        start_at: NOW,
        end_at: NOW + DAY,
        route: vec!["C101".into(), "C201".into()],
        test_sampled_at: NOW - 3600,
        test_result: "阴性".into(),
        arrive_by: None,
        row: r + 2,
    }
}

/// One operator's work: import, forward and approve, batch after batch.
fn writer(
    location: &Location,
    t: usize,
    batches: usize,
    start: &Barrier,
) -> Result<[Latencies; 3]> {
    let mut s = store::open(location)?;
    let actor = format!("op{t}");
    let mut lat: [Latencies; 3] = Default::default();
    start.wait();
    for b in 0..batches {
        let rows: Vec<NewApplication> = (0..10).map(|r| writer_row(t, b, r)).collect();
        let nos: Vec<String> = rows.iter().map(|a| a.app_no.clone()).collect();
        let started = Instant::now();
        let outcomes = s.import(&rows, "bench.xlsx", &actor, NOW)?;
        lat[0].add(started.elapsed());
        ensure!(outcomes.iter().all(|o| *o == ImportOutcome::Inserted));
        for (i, (action, seen)) in [
            (Action::Forward, Status::Submitted),
            (Action::Approve, Status::Forwarded),
        ]
        .into_iter()
        .enumerate()
        {
            let started = Instant::now();
            let changed = s.transition(&nos, action, Some(seen), &actor, NOW, None)?;
            lat[i + 1].add(started.elapsed());
            ensure!(changed.len() == nos.len());
        }
    }
    Ok(lat)
}

fn writers(dbs: &mut Databases, args: &WriterArgs) -> Result<()> {
    ensure!(
        args.threads < 100 && args.batches < 10_000,
        "too many for the row numbering"
    );
    println!(
        "## Concurrent operators: {} threads, each {} batches of 10 rows (import, forward, \
         approve), one connection each, empty store at start\n",
        args.threads, args.batches
    );
    let transitions = args.threads * args.batches * 30;
    let mut summary = Vec::new();
    let mut rows = Vec::new();
    for &backend in &args.backends {
        let location = dbs.fresh(backend)?;
        drop(store::open(&location)?);
        let start = Barrier::new(args.threads + 1);
        let (results, secs) = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..args.threads)
                .map(|t| {
                    let (location, start) = (&location, &start);
                    scope.spawn(move || writer(location, t, args.batches, start))
                })
                .collect();
            start.wait();
            let started = Instant::now();
            let results: Vec<_> = handles.into_iter().map(|h| h.join()).collect();
            (results, started.elapsed().as_secs_f64())
        });
        let mut lat: [Latencies; 3] = Default::default();
        for r in results {
            let Ok(r) = r else {
                bail!("a writer thread panicked")
            };
            for (all, one) in lat.iter_mut().zip(r?) {
                all.extend(one);
            }
        }
        let approved = store::open(&location)?
            .app_nos_with_status(Status::Approved, None)?
            .len();
        ensure!(approved == args.threads * args.batches * 10, "rows lost");
        let mut all = Latencies::default();
        for (name, l) in ["import 10", "forward 10", "approve 10"].iter().zip(&lat) {
            rows.push(vec![
                backend.name().to_string(),
                name.to_string(),
                l.0.len().to_string(),
                ms(l.pct(50.0)),
                ms(l.pct(95.0)),
                ms(l.pct(99.0)),
                ms(l.max()),
            ]);
            all.0.extend(&l.0);
        }
        summary.push(vec![
            backend.name().to_string(),
            transitions.to_string(),
            format!("{secs:.1}"),
            format!("{:.0}", transitions as f64 / secs),
            ms(all.pct(50.0)),
            ms(all.pct(95.0)),
            ms(all.pct(99.0)),
            ms(all.max()),
        ]);
    }
    print_table(
        &[
            "backend",
            "transitions",
            "wall s",
            "transitions/s",
            "call p50 ms",
            "call p95 ms",
            "call p99 ms",
            "call max ms",
        ],
        &summary,
    );
    print_table(
        &[
            "backend", "call", "calls", "p50 ms", "p95 ms", "p99 ms", "max ms",
        ],
        &rows,
    );
    Ok(())
}

// ------------------------------------------------------------------ part 3: issuing

/// What one issuer did: (application, serial, QR text) of each pass, and its timings.
#[derive(Default)]
struct IssuerRun {
    passes: Vec<(String, Serial, String)>,
    reserve: Latencies,
    mark: Latencies,
    signing: Duration,
    /// Signer calls (more than passes when a reservation was dropped after signing).
    signed: usize,
    /// `reserve` calls that gave fewer than asked for although approved applications without
    /// a pass were left.
    short: usize,
    /// Of those, the ones that gave nothing: `issuing::issue_all` takes an empty answer as
    /// "all done" and would have ended its run there.
    empty: usize,
}

fn issuer_thread(
    location: &Location,
    t: usize,
    batch: usize,
    key: &SigningKey,
    start: &Barrier,
) -> Result<IssuerRun> {
    let mut s = store::open(location)?;
    let lease = Lease {
        holder: format!("bench-issuer-{t}"),
        secs: Lease::DEFAULT_SECS,
    };
    let actor = format!("issuer{t}");
    let kid = key.kid().to_string();
    let none = HashSet::new();
    let mut run = IssuerRun::default();
    let mut signing = Duration::ZERO;
    let mut signed = 0;
    let mut sign = |t: ToSign<'_>| -> Result<Signed, SignError> {
        signed += 1;
        let started = Instant::now();
        let pass = issuing::build_pass(t.app, t.serial, "CN-TEST", t.issued_at)?;
        let qr_text = wire::issue_qr_text(&pass, key)?;
        signing += started.elapsed();
        Ok(Signed {
            qr_text,
            kid: kid.clone(),
        })
    };
    start.wait();
    loop {
        let started = Instant::now();
        let reserved = s.reserve(
            &Ask {
                which: Which::New,
                limit: batch,
                skip: &none,
                lease: &lease,
                actor: &actor,
                now: NOW,
            },
            &mut sign,
        )?;
        run.reserve.add(started.elapsed());
        ensure!(reserved.unsigned.is_empty(), "the signer refused one");
        if reserved.passes.len() < batch {
            // Done, unless approved applications without a pass are left (the other issuer's
            // reservations have one): then count it, and carry on so that all are issued.
            let left = s
                .list(&ListFilter {
                    status: Some(Status::Approved),
                    ..Default::default()
                })?
                .iter()
                .filter(|a| a.pass.is_none())
                .count();
            if left == 0 && reserved.passes.is_empty() {
                break;
            }
            if left > 0 {
                run.short += 1;
                run.empty += usize::from(reserved.passes.is_empty());
            }
        }
        let serials: Vec<Serial> = reserved.passes.iter().map(|r| r.pass.serial).collect();
        let started = Instant::now();
        let marked = s.mark_issued(&serials, &actor, NOW)?;
        run.mark.add(started.elapsed());
        ensure!(
            marked == serials.len(),
            "marked {marked} of {}",
            serials.len()
        );
        run.passes.extend(
            reserved
                .passes
                .into_iter()
                .map(|r| (r.app.data.app_no, r.pass.serial, r.pass.qr_text)),
        );
    }
    run.signing = signing;
    run.signed = signed;
    Ok(run)
}

/// Every application issued once, every serial once, every QR text genuine and of its serial,
/// and the store agrees.
fn check_issued(
    s: &dyn Store,
    passes: &[(String, Serial, String)],
    key: &SigningKey,
    apps: u64,
) -> Result<()> {
    let app_nos: HashSet<&str> = passes.iter().map(|(a, _, _)| a.as_str()).collect();
    let serials: HashSet<Serial> = passes.iter().map(|(_, s, _)| *s).collect();
    ensure!(
        passes.len() as u64 == apps,
        "{} passes for {apps} applications",
        passes.len()
    );
    ensure!(
        app_nos.len() == passes.len(),
        "an application got two passes"
    );
    ensure!(serials.len() == passes.len(), "a serial was issued twice");
    let public = key.public_key();
    for (app_no, serial, qr) in passes {
        let signed = wire::decode_qr_text(qr)?;
        signed.verify_signature(&public)?;
        ensure!(
            signed.pass()?.serial == *serial,
            "{app_no}: QR text of another serial"
        );
    }
    let issued = s.list(&ListFilter {
        status: Some(Status::Issued),
        ..Default::default()
    })?;
    ensure!(
        issued.len() as u64 == apps,
        "the store lists {} issued",
        issued.len()
    );
    ensure!(issued
        .iter()
        .all(|a| a.pass.as_ref().is_some_and(|p| p.state == "issued")));
    Ok(())
}

fn issue(dbs: &mut Databases, args: &IssueArgs) -> Result<()> {
    println!(
        "## Issuing: {} approved applications, reserve(Which::New, {}) with Ed25519 signing, \
         then mark_issued; no files rendered\n",
        args.apps, args.batch
    );
    let key = SigningKey::generate();
    let mut rows = Vec::new();
    let mut races = Vec::new();
    for &backend in &args.backends {
        for threads in [1, 2] {
            let location = dbs.fresh(backend)?;
            drop(store::open(&location)?);
            seed(&location, args.apps, Mix::AllApproved)?;
            let start = Barrier::new(threads + 1);
            let (results, secs) = std::thread::scope(|scope| {
                let handles: Vec<_> = (0..threads)
                    .map(|t| {
                        let (location, start, key) = (&location, &start, &key);
                        scope.spawn(move || issuer_thread(location, t, args.batch, key, start))
                    })
                    .collect();
                start.wait();
                let started = Instant::now();
                let results: Vec<_> = handles.into_iter().map(|h| h.join()).collect();
                (results, started.elapsed().as_secs_f64())
            });
            let mut all = IssuerRun::default();
            let mut per_thread = Vec::new();
            for r in results {
                let Ok(r) = r else {
                    bail!("an issuer thread panicked")
                };
                let r = r?;
                per_thread.push(r.passes.len().to_string());
                all.passes.extend(r.passes);
                all.reserve.extend(r.reserve);
                all.mark.extend(r.mark);
                all.signing += r.signing;
                all.signed += r.signed;
                all.short += r.short;
                all.empty += r.empty;
            }
            check_issued(&*store::open(&location)?, &all.passes, &key, args.apps)?;
            // Serials handed out start after the seeded ids.
            let last = all
                .passes
                .iter()
                .map(|(_, s, _)| s.0)
                .max()
                .unwrap_or(args.apps);
            races.push(vec![
                backend.name().to_string(),
                threads.to_string(),
                all.reserve.0.len().to_string(),
                all.short.to_string(),
                all.empty.to_string(),
                (all.signed - all.passes.len()).to_string(),
                (last - args.apps - all.passes.len() as u64).to_string(),
            ]);
            rows.push(vec![
                backend.name().to_string(),
                threads.to_string(),
                per_thread.join(" + "),
                format!("{secs:.2}"),
                format!("{:.0}", all.passes.len() as f64 / secs),
                ms(all.reserve.pct(50.0)),
                ms(all.reserve.pct(95.0)),
                ms(all.mark.pct(50.0)),
                ms(all.mark.pct(95.0)),
                format!("{:.2}", all.signing.as_secs_f64()),
                "ok".to_string(),
            ]);
        }
    }
    print_table(
        &[
            "backend",
            "issuers",
            "passes",
            "wall s",
            "passes/s",
            "reserve p50 ms",
            "reserve p95 ms",
            "mark p50 ms",
            "mark p95 ms",
            "signing s (sum)",
            "checks",
        ],
        &rows,
    );
    println!("Reservations that came back short while work was left:\n");
    print_table(
        &[
            "backend",
            "issuers",
            "reserve calls",
            "short",
            "empty",
            "signatures thrown away",
            "serials skipped",
        ],
        &races,
    );
    Ok(())
}

// ------------------------------------------------------------------ round trips

fn rtt(dbs: &mut Databases) -> Result<()> {
    const N: usize = 5_000;
    println!("## Round trips: `SELECT 1`, {N} per client, one connection per client\n");
    let Location::Postgres(url) = dbs.fresh(Backend::Pg)? else {
        bail!("not PostgreSQL")
    };
    let mut rows = Vec::new();
    for clients in [1, 2] {
        let start = Barrier::new(clients + 1);
        let (results, secs) = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..clients)
                .map(|_| {
                    let (url, start) = (&url, &start);
                    scope.spawn(move || -> Result<Latencies> {
                        let mut c = postgres::Client::connect(url, postgres::NoTls)?;
                        let one = c.prepare("SELECT 1")?;
                        let mut lat = Latencies::default();
                        start.wait();
                        for _ in 0..N {
                            let started = Instant::now();
                            c.query_one(&one, &[])?;
                            lat.add(started.elapsed());
                        }
                        Ok(lat)
                    })
                })
                .collect();
            start.wait();
            let started = Instant::now();
            let results: Vec<_> = handles.into_iter().map(|h| h.join()).collect();
            (results, started.elapsed().as_secs_f64())
        });
        let mut lat = Latencies::default();
        for r in results {
            let Ok(r) = r else {
                bail!("a client thread panicked")
            };
            lat.extend(r?);
        }
        rows.push(vec![
            clients.to_string(),
            format!("{:.0}", lat.pct(50.0) * 1e3),
            format!("{:.0}", lat.pct(95.0) * 1e3),
            format!("{:.0}", (clients * N) as f64 / secs),
        ]);
    }
    print_table(
        &["clients", "p50 µs", "p95 µs", "round trips/s (all clients)"],
        &rows,
    );
    Ok(())
}

// ------------------------------------------------------------------ the durable cluster

/// A second throwaway PostgreSQL cluster, started like the one of `tests/common/pg.rs` (same
/// binaries, a unix socket in its own temporary directory, run as `postgres` when we are root)
/// but with fsync on, the server's default: what durable commits cost on this disk. Stopped
/// and removed when dropped.
mod durable {
    use std::ffi::CString;
    use std::path::{Path, PathBuf};
    use std::process::{Command, Output};

    pub struct Cluster {
        dir: PathBuf,
        bin: PathBuf,
        as_postgres: bool,
        databases: usize,
    }

    impl Cluster {
        pub fn start() -> Result<Cluster, String> {
            let bin = bin_dir().ok_or("PostgreSQL server binaries not found")?;
            // SAFETY: geteuid has no preconditions.
            let as_postgres = unsafe { libc::geteuid() } == 0;
            let tmp = tempfile::Builder::new()
                .prefix("pgbench-")
                .tempdir_in("/tmp")
                .map_err(|e| e.to_string())?;
            let cluster = Cluster {
                dir: tmp.keep(),
                bin,
                as_postgres,
                databases: 0,
            };
            if as_postgres {
                let (uid, gid) = postgres_user()?;
                std::os::unix::fs::chown(&cluster.dir, Some(uid), Some(gid))
                    .map_err(|e| e.to_string())?;
            }
            let data = cluster.dir.join("data");
            cluster.run("initdb", |c| {
                c.args([
                    "-A",
                    "trust",
                    "-U",
                    "postgres",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "-D",
                ])
                .arg(&data);
            })?;
            let opts = format!(
                "-k '{}' -c listen_addresses= -c max_connections=200 -c fsync=on \
                 -c synchronous_commit=on",
                cluster.dir.display()
            );
            cluster.run("pg_ctl", |c| {
                c.arg("-w").arg("-D").arg(&data).arg("-l");
                c.arg(cluster.dir.join("server.log"));
                c.args(["-o", &opts, "start"]);
            })?;
            Ok(cluster)
        }

        /// Creates an empty database and returns its URL.
        pub fn new_database(&mut self) -> anyhow::Result<String> {
            self.databases += 1;
            let name = format!("bench_{}", self.databases);
            let admin = self.url("postgres");
            postgres::Client::connect(&admin, postgres::NoTls)?
                .batch_execute(&format!("CREATE DATABASE {name}"))?;
            Ok(self.url(&name))
        }

        fn url(&self, db: &str) -> String {
            format!(
                "postgresql:///{db}?host={}&user=postgres",
                self.dir.display()
            )
        }

        fn run(&self, name: &str, args: impl FnOnce(&mut Command)) -> Result<Output, String> {
            let exe = self.bin.join(name);
            let mut cmd = if self.as_postgres {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(&exe);
                c
            } else {
                Command::new(&exe)
            };
            args(&mut cmd);
            cmd.current_dir(&self.dir);
            let out = cmd.output().map_err(|e| format!("{name}: {e}"))?;
            if !out.status.success() {
                return Err(format!(
                    "{name} failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
            Ok(out)
        }
    }

    impl Drop for Cluster {
        fn drop(&mut self) {
            let data = self.dir.join("data");
            let _ = self.run("pg_ctl", |c| {
                c.args(["-m", "fast", "-w", "-D"]).arg(&data).arg("stop");
            });
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    /// The highest version under /usr/lib/postgresql (Debian), else the one on PATH.
    fn bin_dir() -> Option<PathBuf> {
        let complete = |d: &Path| {
            ["initdb", "pg_ctl", "postgres"]
                .iter()
                .all(|b| d.join(b).is_file())
        };
        let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
            .filter(|(_, d)| complete(d))
            .collect();
        found.sort();
        found.pop().map(|(_, d)| d).or_else(|| {
            let path = std::env::var_os("PATH")?;
            std::env::split_paths(&path)
                .filter_map(|d| std::fs::canonicalize(d.join("initdb")).ok())
                .filter_map(|f| f.parent().map(Path::to_owned))
                .find(|d| complete(d))
        })
    }

    fn postgres_user() -> Result<(u32, u32), String> {
        let name = CString::new("postgres").map_err(|e| e.to_string())?;
        // SAFETY: getpwnam returns null or a pointer to a static record, read at once.
        let pw = unsafe { libc::getpwnam(name.as_ptr()) };
        if pw.is_null() {
            return Err("no `postgres` user to run the server as".into());
        }
        // SAFETY: pw is not null.
        Ok(unsafe { ((*pw).pw_uid, (*pw).pw_gid) })
    }
}
