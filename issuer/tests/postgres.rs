//! The command line on PostgreSQL (`--db` / `ISSUER_DB`): the whole job as on SQLite, two
//! machines sharing one database, `db copy` from SQLite to PostgreSQL and back, and the errors
//! a wrong or newer database gives. Each test gets a fresh database in this process's
//! throwaway cluster (`common/pg.rs`).

mod common;

use std::collections::BTreeSet;

use common::{samples, Env};
use serde_json::Value;

fn serials(v: &Value) -> Vec<String> {
    v["passes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["serial"].as_str().unwrap().to_string())
        .collect()
}

/// Import, review, issue, revoke, keys, bundle, print and SMS, all against PostgreSQL: the
/// data directory keeps only keys and pass files.
#[test]
fn the_whole_job_runs_on_postgres() {
    let Some(env) = Env::init_postgres() else {
        return;
    };
    assert!(
        !env.data().join("issuer.db").exists(),
        "no SQLite file beside a PostgreSQL store"
    );
    env.import_sample();
    assert_eq!(env.statuses().len(), 40);
    // Importing again adds nothing.
    let again = env.json(&[
        "import",
        samples().join("applications.csv").to_str().unwrap(),
    ]);
    assert_eq!(again["imported"], 0);
    env.ok(&["forward", "--all"]);
    env.ok(&["approve", "SQ003-0001", "SQ083-0002", "SQ003-0006"]);
    env.ok(&["reject", "SQ083-0003", "--reason", "资料不全"]);
    let issued = env.json(&["issue", "--all", "--formats", "svg"]);
    let s = serials(&issued);
    assert_eq!(s.len(), 3, "{issued}");
    let shown = env.json(&["show", "SQ003-0001"]);
    assert_eq!(shown["status"], "issued");
    assert!(shown["pass"]["qr_text"]
        .as_str()
        .unwrap()
        .starts_with("TP1:"));
    env.ok(&["revoke", &s[1], "--reason", "丢失"]);
    env.ok(&["keys", "rotate"]);
    assert_eq!(env.json(&["keys", "list"]).as_array().unwrap().len(), 3);
    let bundle = env.path("bundle.cose");
    let info = env.json(&["bundle", "--out", bundle.to_str().unwrap()]);
    assert_eq!(info["sequence"], 1);
    let info = env.json(&["bundle", "--out", bundle.to_str().unwrap()]);
    assert_eq!(info["sequence"], 2);
    let pdf = env.path("print.pdf");
    let printed = env.json(&["print", "--all", "--out", pdf.to_str().unwrap()]);
    assert_eq!(printed["pages"], 2, "{printed}");
    let sms = env.path("sms.csv");
    env.ok(&["sms", "--all", "--out", sms.to_str().unwrap()]);
    let audit = env.json(&["audit"]);
    let actions: BTreeSet<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in [
        "import", "forward", "approve", "reject", "issue", "revoke", "keys.add",
    ] {
        assert!(actions.contains(a), "{a} missing from {actions:?}");
    }
    // Initialising the same database again is refused.
    let other = Env {
        dir: tempfile::tempdir().unwrap(),
        db: env.db.clone(),
    };
    let err = other.fails(&["init"]);
    assert!(err.contains("已经初始化"), "{err}");
}

/// Two machines — two data directories holding the same keys — share one PostgreSQL store:
/// both issue, neither issues anything twice, and each can render again the files of a pass
/// the other issued.
#[test]
fn two_machines_share_one_database() {
    let Some(first) = Env::init_postgres() else {
        return;
    };
    let second = Env {
        dir: tempfile::tempdir().unwrap(),
        db: first.db.clone(),
    };
    // The second machine gets a copy of the data directory's keys (passes stay local).
    copy_dir(&first.data().join("keys"), &second.data().join("keys"));
    let csv = first.path("many.csv");
    common::write_valid_csv(&csv, 12);
    first.approve_all_from(&csv);
    let (a, b) = (
        first.json(&["issue", "--all", "--formats", "svg", "--batch", "2"]),
        second.json(&["issue", "--all", "--formats", "svg", "--batch", "2"]),
    );
    let mut all: Vec<String> = serials(&a);
    all.extend(serials(&b));
    let unique: BTreeSet<&String> = all.iter().collect();
    assert_eq!((all.len(), unique.len()), (12, 12));

    // A pass the first machine issued: the second renders its files on demand, from the
    // store, without signing again.
    let app_no = a["passes"][0]["app_no"].as_str().unwrap().to_string();
    let serial = a["passes"][0]["serial"].as_str().unwrap().to_string();
    let again = second.json(&["issue", &app_no, "--formats", "svg"]);
    assert_eq!(again["passes"][0]["serial"], serial.as_str());
    assert_eq!(again["passes"][0]["new"], false);
    let there = second.data().join("passes").join(&serial);
    let qr = std::fs::read_to_string(there.join("qr.txt")).unwrap();
    let original =
        std::fs::read_to_string(first.data().join("passes").join(&serial).join("qr.txt")).unwrap();
    assert_eq!(qr, original, "the same signed QR text");
    assert!(there.join("qr.svg").is_file());
}

/// SQLite → PostgreSQL → a fresh SQLite gives the same store; the copy works as the
/// original; a non-empty target is refused.
#[test]
fn db_copy_round_trip_sqlite_postgres_sqlite() {
    let Some(pg_env) = Env::new_postgres() else {
        return;
    };
    let env = Env::init();
    env.import_sample();
    env.ok(&["forward", "--all"]);
    env.ok(&["approve", "SQ003-0001", "SQ083-0002"]);
    let issued = env.json(&["issue", "--all", "--formats", "svg"]);
    assert_eq!(serials(&issued).len(), 2);
    env.ok(&["revoke", &serials(&issued)[0], "--reason", "丢失"]);
    let sqlite = env.data().join("issuer.db");
    let pg = pg_env.db.clone().unwrap();
    let there = env.json(&[
        "db",
        "copy",
        "--from",
        sqlite.to_str().unwrap(),
        "--to",
        &pg,
    ]);
    assert_eq!(there["counts"]["applications"], 40, "{there}");
    assert_eq!(there["counts"]["passes"], 2);
    assert_eq!(there["next_serial"], 3);
    let back_file = env.path("back.db");
    let back = env.json(&[
        "db",
        "copy",
        "--from",
        &pg,
        "--to",
        &format!("sqlite://{}", back_file.display()),
    ]);
    assert_eq!(back["sha256"], there["sha256"], "same content both ways");

    // The PostgreSQL copy is a working store: the same data directory's keys issue from it,
    // and the next serial follows the original's.
    let moved = Env {
        dir: tempfile::tempdir().unwrap(),
        db: Some(pg.clone()),
    };
    std::fs::create_dir_all(moved.data()).unwrap();
    copy_dir(&env.data().join("keys"), &moved.data().join("keys"));
    assert_eq!(moved.statuses(), env.statuses());
    moved.ok(&["approve", "SQ003-0006"]);
    let next = moved.json(&["issue", "SQ003-0006", "--formats", "svg"]);
    let serial = next["passes"][0]["serial"].as_str().unwrap();
    assert!(serial.starts_with("00000-00003-"), "{next}");

    // Never into a database that holds anything.
    let err = env.fails(&[
        "db",
        "copy",
        "--from",
        sqlite.to_str().unwrap(),
        "--to",
        &pg,
    ]);
    assert!(err.contains("不是空的"), "{err}");
}

/// The set-up docs/deployment.md describes: an owner role that creates the schema, and the
/// role every issuer process uses, which may add to the audit trail but not change it, nor
/// drop the trigger that guards it.
#[test]
fn the_app_role_cannot_rewrite_the_audit_trail_or_the_imported_scans() {
    if !common::pg::available() {
        return;
    }
    let cluster = common::pg::Cluster::shared();
    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
    let run = |db: &str, user: &str, args: &[&str]| {
        let out = cluster.psql(db, user, args);
        assert!(
            out.status.success(),
            "psql {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(
        "postgres",
        "postgres",
        &[
            "-v",
            "owner_password=owner-secret",
            "-v",
            "app_password=app-secret",
            "-f",
            docs.join("postgres-roles.sql").to_str().unwrap(),
        ],
    );
    let owner = Env {
        dir: tempfile::tempdir().unwrap(),
        db: Some(cluster.url_as("passes", "issuer_owner")),
    };
    owner.ok(&["init"]);
    run(
        "passes",
        "issuer_owner",
        &["-f", docs.join("postgres-grants.sql").to_str().unwrap()],
    );
    // Day to day, as issuer_app, with the owner's data directory (its keys).
    let app = Env {
        dir: owner.dir,
        db: Some(cluster.url_as("passes", "issuer_app")),
    };
    app.import_sample();
    app.ok(&["forward", "SQ003-0001"]);
    app.ok(&["approve", "SQ003-0001"]);
    app.ok(&["issue", "SQ003-0001", "--formats", "svg"]);
    let bundle = app.path("b.cose");
    app.ok(&["bundle", "--out", bundle.to_str().unwrap()]);
    // A checkpoint's log comes home through issuer_app; once in, it cannot be changed.
    let device = issuer::checkpass::keys::SigningKey::from_seed(&[4; 32]);
    let mut record = issuer::checkpass::logfile::LogRecord {
        id: 1,
        kind: issuer::checkpass::scanlog::EntryKind::Scan,
        at: 1_647_129_600,
        checkpoint: "C101".into(),
        officer: None,
        serial: Some("00000-00001-8".into()),
        plate: None,
        verdict: Some("red".into()),
        reasons: "REVOKED".into(),
        bundle_sequence: Some(1),
        simulated: false,
        note: None,
        hash: [0; 32],
    };
    record.hash = issuer::checkpass::scanlog::link(&[0; 32], &record.entry());
    let log = issuer::checkpass::logfile::ScanLogFile {
        device: device.public_key(),
        exported_at: 1_647_130_000,
        prev: [0; 32],
        entries: vec![record],
    };
    let file = app.path("c101.scanlog");
    std::fs::write(
        &file,
        issuer::checkpass::logfile::sign_log(&log, &device).unwrap(),
    )
    .unwrap();
    let kid = device.public_key().kid().to_hex();
    app.ok(&["scans", "import", file.to_str().unwrap(), "--accept", &kid]);
    let lines = app.json(&["audit"]).as_array().unwrap().len();
    for sql in [
        "UPDATE scans SET verdict = 'green'",
        "DELETE FROM scans",
        "TRUNCATE scans",
        "UPDATE audit SET actor = 'someone else'",
        "DELETE FROM audit",
        "TRUNCATE audit",
        "DROP TRIGGER audit_no_change ON audit",
        "ALTER TABLE audit DISABLE TRIGGER audit_no_change",
        "UPDATE schema_version SET version = 1",
    ] {
        let out = cluster.psql("passes", "issuer_app", &["-c", sql]);
        assert!(!out.status.success(), "issuer_app could run {sql}");
    }
    assert_eq!(app.json(&["audit"]).as_array().unwrap().len(), lines);
}

/// A CA, and a server certificate it signs for localhost and 127.0.0.1, made with the openssl
/// command line.
fn make_certs(
    dir: &std::path::Path,
) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let openssl = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl (Debian package openssl) is needed for the TLS test");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    openssl(
        &[
            &["req", "-x509"][..],
            &ec,
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
                "-days",
                "2",
                "-subj",
                "/CN=issuer test CA",
            ],
        ]
        .concat(),
    );
    openssl(
        &[
            &["req"][..],
            &ec,
            &[
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=localhost",
            ],
        ]
        .concat(),
    );
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "2",
        "-extfile",
        "san.ext",
    ]);
    (
        dir.join("ca.crt"),
        dir.join("server.crt"),
        dir.join("server.key"),
    )
}

/// Over TCP the issuer speaks TLS and checks the server's certificate: with the CA given in
/// PGSSLROOTCERT it connects (the server refuses TCP without TLS, so it did use TLS); without
/// it, or with TLS turned off, it fails with a clear error and writes nothing.
#[test]
fn tcp_connections_use_tls_and_check_the_certificate() {
    if !common::pg::available() {
        return;
    }
    let certs = tempfile::tempdir().unwrap();
    let (ca, cert, key) = make_certs(certs.path());
    let port = common::pg::free_port();
    let _server = common::pg::Cluster::start_tls(&common::pg::Tls { cert, key, port });
    let url = |extra: &str| format!("postgres://postgres@localhost:{port}/postgres{extra}");

    let env = Env {
        dir: tempfile::tempdir().unwrap(),
        db: Some(url("?sslmode=require")),
    };
    // Unknown CA: refused before anything is sent.
    let out = env
        .command(&["init"])
        .env_remove("PGSSLROOTCERT")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("无法连接数据库"), "{err}");
    assert!(err.contains("certificate verify failed"), "{err}");
    assert!(!env.data().exists(), "nothing written");
    // TLS turned off: the server refuses.
    let plain = Env {
        dir: tempfile::tempdir().unwrap(),
        db: Some(url("?sslmode=disable")),
    };
    let out = plain.command(&["init"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    // With the city's CA.
    let out = env
        .command(&["init"])
        .env("PGSSLROOTCERT", &ca)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = env
        .command(&["registry", "show"])
        .env("PGSSLROOTCERT", &ca)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A CA file that is not a certificate is named in the error.
    std::fs::write(certs.path().join("bad.pem"), "not a certificate").unwrap();
    let out = env
        .command(&["list"])
        .env("PGSSLROOTCERT", certs.path().join("bad.pem"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("PGSSLROOTCERT"), "{err}");
}

/// `issuer serve` on PostgreSQL answers over a real socket and stops cleanly on SIGTERM (its
/// blocking database client is closed outside the async runtime).
#[test]
fn serve_on_postgres_answers_and_stops_cleanly() {
    let Some(env) = Env::init_postgres() else {
        return;
    };
    let (mut child, addr, lines) = env.serve();
    let page = common::http_get(&addr, "/districts");
    assert!(
        page.starts_with("HTTP/1.1 200") && page.contains("环翠区"),
        "{page}"
    );
    // SAFETY: kill(2) with the child's pid and SIGTERM.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}: {rest:?}");
    assert!(!rest.iter().any(|l| l.contains("panicked")), "{rest:?}");
    assert!(rest.iter().any(|l| l.contains("已停止")), "{rest:?}");
}

#[test]
fn a_bad_database_url_or_server_is_a_clear_error() {
    let env = Env::new();
    let mut bad = Env::new();
    bad.db = Some("mysql://x/y".into());
    let err = bad.fails(&["list"]);
    assert!(err.contains("无法识别"), "{err}");
    // Nothing listens there; the password is never printed.
    bad.db = Some("postgres://issuer:s3cret@127.0.0.1:1/none?connect_timeout=2".into());
    let err = bad.fails(&["init"]);
    assert!(err.contains("无法连接数据库"), "{err}");
    assert!(!err.contains("s3cret"), "{err}");
    assert!(err.contains("issuer:***@"), "{err}");
    drop(env);
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}
