//! The store's conformance suite: every test runs against both backends — SQLite in a
//! temporary file, and PostgreSQL in a throwaway cluster of this test process (`common/pg.rs`)
//! — and must give the same results. Then concurrency: threads with their own connections
//! approve, reject and issue the same applications at once.

#[path = "common/pg.rs"]
mod pg;

use std::collections::{BTreeSet, HashSet};
use std::sync::{Arc, Barrier};

use issuer::accounts::{NewUser, Role};
use issuer::checkpass::keys::SigningKey;
use issuer::checkpass::logfile::{LogRecord, ScanLogFile};
use issuer::checkpass::pass::{Category, Serial};
use issuer::checkpass::scanlog::{link, EntryKind};
use issuer::checkpass::scope::KeyScope;
use issuer::domain::Place;
use issuer::domain::{
    AuditFilter, Checkpoint, District, ImportOutcome, KeyRecord, ListFilter, NotIssuable, Revoked,
};
use issuer::report::{MediaType, TestReport};
use issuer::scans::{Device, Gap, JoinError, ScanFilter};
use issuer::store::{
    self, postgres::PgStore, sqlite::SqliteStore, Amended, Ask, Lease, Location, SignError, Signed,
    Store, StoreError, ToSign, Which,
};
use issuer::validate::NewApplication;
use issuer::workflow::{self, Action, Status};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh, empty database of one backend.
struct Db {
    location: Location,
    _dir: tempfile::TempDir,
}

impl Db {
    fn new(backend: Backend) -> Db {
        let dir = tempfile::tempdir().unwrap();
        let location = match backend {
            Backend::Sqlite => Location::Sqlite(dir.path().join("t.db")),
            Backend::Postgres => Location::Postgres(pg::Cluster::shared().new_database()),
        };
        Db {
            location,
            _dir: dir,
        }
    }

    fn open(&self) -> Box<dyn Store> {
        store::open(&self.location).unwrap()
    }

    /// Runs SQL behind the store's back, as an operator with a database shell could.
    fn raw(&self, sql: &str) -> Result<(), String> {
        match &self.location {
            Location::Sqlite(path) => rusqlite::Connection::open(path)
                .unwrap()
                .execute_batch(sql)
                .map_err(|e| e.to_string()),
            Location::Postgres(url) => ::postgres::Client::connect(url, ::postgres::NoTls)
                .unwrap()
                .batch_execute(sql)
                .map_err(|e| e.to_string()),
        }
    }

    fn create_at_version(&self, version: usize) {
        match &self.location {
            Location::Sqlite(path) => SqliteStore::create_at_version(path, version).unwrap(),
            Location::Postgres(url) => PgStore::create_at_version(url, version).unwrap(),
        }
    }
}

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
        arrive_by: None,
        row: 2,
    }
}

/// Imports `apps` and takes them through forwarding and approval.
fn approved(s: &mut dyn Store, apps: &[NewApplication]) {
    s.import(apps, "f.csv", "t", 1).unwrap();
    let nos: Vec<String> = apps.iter().map(|a| a.app_no.clone()).collect();
    s.transition(&nos, Action::Forward, None, "d", 2, None)
        .unwrap();
    s.transition(&nos, Action::Approve, None, "c", 3, None)
        .unwrap();
}

/// A signer that writes the serial as the QR text.
fn sign(t: ToSign<'_>) -> Result<Signed, SignError> {
    Ok(Signed {
        qr_text: format!("QR{}", t.serial.0),
        kid: "k".into(),
    })
}

/// Reserves (and signs) up to `limit` new passes at `now` as holder "a".
fn reserve_new(s: &mut dyn Store, limit: usize, now: i64) -> issuer::store::Reserved {
    s.reserve(
        &Ask {
            which: Which::New,
            limit,
            skip: &HashSet::new(),
            lease: &lease("a"),
            actor: "c",
            now,
        },
        &mut sign,
    )
    .unwrap()
}

fn lease(holder: &str) -> Lease {
    Lease {
        holder: holder.into(),
        secs: 600,
    }
}

fn key(kid: &str, role: &str, created: i64) -> KeyRecord {
    KeyRecord {
        kid: kid.into(),
        role: role.into(),
        public_key: format!("pk-{kid}"),
        file: format!("{kid}.key"),
        status: "active".into(),
        created_at: created,
        retired_at: None,
        compromised_at: None,
        compromised_since: None,
        compromise_reason: None,
        scope_districts: String::new(),
        scope_categories: String::new(),
    }
}

fn registry() -> (Vec<District>, Vec<Checkpoint>) {
    (
        vec![District {
            code: 371003,
            name: "文登区".into(),
            contact: "李四".into(),
            phone: "0631-1234567".into(),
            email: "wd@example.cn".into(),
        }],
        vec![
            Checkpoint {
                code: "C101".into(),
                name: "一号站".into(),
                district: 371003,
                road: "G1".into(),
            },
            Checkpoint {
                code: "C201".into(),
                name: "二号站".into(),
                district: 371003,
                road: "G2".into(),
            },
        ],
    )
}

// ------------------------------------------------------------------ the suite

fn migrations_apply_once_and_refuse_newer(b: Backend) {
    let db = Db::new(b);
    let s = db.open();
    let v = s.schema_version().unwrap();
    assert_eq!(v, store::sqlite::MIGRATIONS.len() as i64);
    assert_eq!(
        store::sqlite::MIGRATIONS.len(),
        store::postgres::MIGRATIONS.len()
    );
    drop(s);
    assert_eq!(db.open().schema_version().unwrap(), v);
    // A database written by a newer issuer is refused, not misread.
    match b {
        Backend::Sqlite => db.raw(&format!("PRAGMA user_version = {}", v + 1)),
        Backend::Postgres => db.raw(&format!("UPDATE schema_version SET version = {}", v + 1)),
    }
    .unwrap();
    match store::open(&db.location) {
        Err(StoreError::TooNew { found, .. }) => assert_eq!(found, v + 1),
        Err(e) => panic!("wrong error {e}"),
        Ok(_) => panic!("a newer database must be refused"),
    }
}

/// A database left by the previous version (before leases) is brought up to date and keeps
/// its data.
fn migrates_from_the_previous_version(b: Backend) {
    let db = Db::new(b);
    let previous = store::sqlite::MIGRATIONS.len() - 1;
    db.create_at_version(previous);
    db.raw(
        "INSERT INTO meta (key, value) VALUES ('issuer', 'CN-TEST'); \
         INSERT INTO foreign_revocations (serial, revoked_at, revoked_by, reason) \
         VALUES (7, 1, 'x', '伪造')",
    )
    .unwrap();
    let mut s = db.open();
    assert_eq!(
        s.schema_version().unwrap(),
        store::sqlite::MIGRATIONS.len() as i64
    );
    assert_eq!(s.meta("issuer").unwrap().as_deref(), Some("CN-TEST"));
    assert_eq!(s.revoked_serials().unwrap(), [Serial(7)]);
    // And it works: a reservation (which needs the new lease columns) goes through.
    approved(&mut *s, &[app("A1", "鲁K11111", 100, 200)]);
    let r = reserve_new(&mut *s, 5, 150);
    assert_eq!(r.passes.len(), 1);
}

fn import_is_idempotent_and_refuses_overlaps(b: Backend) {
    let db = Db::new(b);
    let mut s = db.open();
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
    // A rejected application frees its plate.
    s.transition(&["A1".into()], Action::Forward, None, "d", 5, None)
        .unwrap();
    s.transition(&["A1".into()], Action::Reject, None, "c", 6, Some("x"))
        .unwrap();
    assert_eq!(
        s.import(&[app("A4", "鲁K11111", 150, 199)], "f", "t", 7)
            .unwrap(),
        [ImportOutcome::Inserted]
    );
    assert!(matches!(
        s.get("NOPE"),
        Err(StoreError::NoSuchApplication(_))
    ));
}

fn workflow_is_audited_and_audit_is_append_only(b: Backend) {
    let db = Db::new(b);
    let mut s = db.open();
    s.import(&[app("A1", "鲁K11111", 100, 200)], "f.csv", "t", 1)
        .unwrap();
    assert!(matches!(
        s.transition(&["A1".into()], Action::Approve, None, "city", 2, None),
        Err(StoreError::Illegal(_))
    ));
    s.transition(&["A1".into()], Action::Forward, None, "district", 3, None)
        .unwrap();
    let a = s
        .transition(
            &["A1".into()],
            Action::Reject,
            None,
            "city",
            4,
            Some("资料不全"),
        )
        .unwrap()
        .remove(0);
    assert_eq!(a.status, Status::Rejected);
    assert_eq!(a.forwarded_by.as_deref(), Some("district"));
    assert_eq!(a.decided_by.as_deref(), Some("city"));
    assert_eq!(a.reject_reason.as_deref(), Some("资料不全"));
    let trail = s.audit(Some("A1")).unwrap();
    let actions: Vec<_> = trail.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["import", "forward", "reject"]);
    assert_eq!(trail[2].from_status.as_deref(), Some("forwarded"));
    assert_eq!(trail[2].to_status.as_deref(), Some("rejected"));
    assert_eq!(trail[2].actor, "city");
    // Not even a database shell changes or removes a line.
    assert!(db.raw("DELETE FROM audit").is_err());
    assert!(db.raw("UPDATE audit SET actor = 'x'").is_err());
    if b == Backend::Postgres {
        assert!(db.raw("TRUNCATE audit").is_err());
    }
    assert_eq!(s.audit(None).unwrap().len(), 3);
}

/// Drives a new application `no` into `status`.
fn in_status(s: &mut dyn Store, no: &str, plate: &str, status: Status) {
    s.import(&[app(no, plate, 100, 200)], "f", "t", 1).unwrap();
    let one = [no.to_string()];
    if status == Status::Submitted {
        return;
    }
    if status == Status::Returned {
        s.transition(&one, Action::Return, None, "d", 2, Some("x"))
            .unwrap();
        return;
    }
    s.transition(&one, Action::Forward, None, "d", 2, None)
        .unwrap();
    match status {
        Status::Forwarded => {}
        Status::Rejected => {
            s.transition(&one, Action::Reject, None, "c", 3, Some("x"))
                .unwrap();
        }
        _ => {
            s.transition(&one, Action::Approve, None, "c", 3, None)
                .unwrap();
            if status == Status::Approved {
                return;
            }
            let r = s
                .reserve(
                    &Ask {
                        which: Which::One(no),
                        limit: 1,
                        skip: &HashSet::new(),
                        lease: &lease("a"),
                        actor: "c",
                        now: 150,
                    },
                    &mut sign,
                )
                .unwrap();
            let serial = r.passes[0].pass.serial;
            s.mark_issued(&[serial], "c", 4).unwrap();
            if status == Status::Revoked {
                s.revoke(serial, "丢失", "c", 5).unwrap();
            }
        }
    }
    assert_eq!(s.get(no).unwrap().status, status);
}

/// Every action from every status: the store allows exactly what the workflow allows, and a
/// refused change changes nothing, not even the audit trail.
fn every_illegal_transition_is_refused(b: Backend) {
    let db = Db::new(b);
    let mut s = db.open();
    let mut n = 0;
    for status in Status::ALL {
        for action in [
            Action::Forward,
            Action::Approve,
            Action::Reject,
            Action::Return,
        ] {
            n += 1;
            let no = format!("S{n:02}");
            in_status(&mut *s, &no, &format!("鲁K{n:05}"), status);
            let allowed = workflow::transition(&no, status, action).is_ok();
            let audit_before = s.audit(None).unwrap().len();
            match s.transition(std::slice::from_ref(&no), action, None, "x", 9, Some("r")) {
                Ok(changed) => {
                    assert!(allowed, "{action:?} from {status:?} must be refused");
                    assert_ne!(changed[0].status, status);
                }
                Err(StoreError::Illegal(_)) => {
                    assert!(!allowed, "{action:?} from {status:?} must be allowed");
                    assert_eq!(s.get(&no).unwrap().status, status);
                    assert_eq!(s.audit(None).unwrap().len(), audit_before);
                }
                Err(e) => panic!("{action:?} from {status:?}: {e}"),
            }
        }
        // Revoking: only an issued pass.
        if let Some(pass) = s.get(&format!("S{n:02}")).unwrap().pass {
            let result = s.revoke(pass.serial, "r", "x", 10);
            let allowed = workflow::transition("x", status, Action::Revoke).is_ok();
            assert_eq!(result.is_ok(), allowed, "revoke from {status:?}");
        }
    }
    // All or nothing: a bulk approve of a forwarded and a submitted application changes none.
    in_status(&mut *s, "B1", "鲁K90001", Status::Forwarded);
    in_status(&mut *s, "B2", "鲁K90002", Status::Submitted);
    let audit_before = s.audit(None).unwrap().len();
    assert!(s
        .transition(
            &["B1".into(), "B2".into()],
            Action::Approve,
            None,
            "c",
            10,
            None
        )
        .is_err());
    assert_eq!(s.get("B1").unwrap().status, Status::Forwarded);
    assert_eq!(s.audit(None).unwrap().len(), audit_before);
    // Issue and revoke do not go through `transition`.
    in_status(&mut *s, "B3", "鲁K90003", Status::Approved);
    assert!(s
        .transition(&["B3".into()], Action::Issue, None, "c", 10, None)
        .is_err());
}

fn reservation_is_reused_and_issue_recorded_once(b: Backend) {
    let db = Db::new(b);
    let mut s = db.open();
    approved(&mut *s, &[app("A1", "鲁K11111", 100, 200)]);
    let none = HashSet::new();
    let a = lease("a");
    let first = s
        .reserve(
            &Ask {
                which: Which::New,
                limit: 10,
                skip: &none,
                lease: &a,
                actor: "c",
                now: 150,
            },
            &mut sign,
        )
        .unwrap()
        .passes;
    assert_eq!(first.len(), 1);
    // A crash before mark_issued: the same holder gets the same serial and QR back.
    let nothing = s.reserve(
        &Ask {
            which: Which::New,
            limit: 10,
            skip: &none,
            lease: &a,
            actor: "c",
            now: 151,
        },
        &mut |_| panic!("no new work"),
    );
    assert!(nothing.unwrap().passes.is_empty());
    let again = s
        .reserve(
            &Ask {
                which: Which::Pending,
                limit: 10,
                skip: &none,
                lease: &a,
                actor: "c",
                now: 151,
            },
            &mut |_| panic!("must not sign twice"),
        )
        .unwrap()
        .passes;
    assert_eq!(again[0].pass, first[0].pass);
    let serial = first[0].pass.serial;
    assert_eq!(s.get_by_serial(serial).unwrap().data.app_no, "A1");
    // `find` takes either the application number or the serial as printed.
    assert_eq!(s.find("A1").unwrap().pass.unwrap().serial, serial);
    assert_eq!(s.find(&serial.to_string()).unwrap().data.app_no, "A1");
    assert!(matches!(
        s.find("00000-00099-1"),
        Err(StoreError::NoSuchApplication(_))
    ));
    assert_eq!(s.mark_issued(&[serial], "c", 152).unwrap(), 1);
    assert_eq!(s.mark_issued(&[serial], "c", 153).unwrap(), 0);
    assert!(s
        .reserve(
            &Ask {
                which: Which::One("A1"),
                limit: 10,
                skip: &none,
                lease: &a,
                actor: "c",
                now: 154
            },
            &mut sign
        )
        .unwrap()
        .passes
        .is_empty());
    let got = s.get("A1").unwrap();
    assert_eq!(got.status, Status::Issued);
    assert_eq!(got.pass.unwrap().state, "issued");
    let Revoked::Issued(r) = s.revoke(serial, "丢失", "c", 155).unwrap() else {
        panic!("an issued pass is revoked as issued");
    };
    assert_eq!(r.status, Status::Revoked);
    assert_eq!(r.pass.unwrap().revoke_reason.as_deref(), Some("丢失"));
    assert_eq!(s.revoked_serials().unwrap(), [serial]);
    assert!(matches!(
        s.get_by_serial(Serial(999)),
        Err(StoreError::NoSuchPass(_))
    ));
}

/// A reservation held under a live lease is not taken by another issuer; once the lease is
/// over, it is, with the same serial and QR text.
fn a_lease_keeps_others_off_until_it_runs_out(b: Backend) {
    let db = Db::new(b);
    let mut s = db.open();
    approved(&mut *s, &[app("A1", "鲁K11111", 100, 200)]);
    let none = HashSet::new();
    let mine = s
        .reserve(
            &Ask {
                which: Which::New,
                limit: 10,
                skip: &none,
                lease: &lease("a"),
                actor: "a",
                now: 150,
            },
            &mut sign,
        )
        .unwrap()
        .passes;
    let mut other = db.open();
    let theirs = other
        .reserve(
            &Ask {
                which: Which::Pending,
                limit: 10,
                skip: &none,
                lease: &lease("b"),
                actor: "b",
                now: 150,
            },
            &mut sign,
        )
        .unwrap();
    assert!(theirs.passes.is_empty(), "a live lease is respected");
    let held = other.held_elsewhere(&lease("b")).unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].0, "A1");
    assert!(held[0].1 > 500 && held[0].1 <= 600, "{held:?}");
    assert!(
        s.held_elsewhere(&lease("a")).unwrap().is_empty(),
        "not from its holder"
    );
    assert!(other
        .reserve(
            &Ask {
                which: Which::One("A1"),
                limit: 1,
                skip: &none,
                lease: &lease("b"),
                actor: "b",
                now: 150
            },
            &mut sign
        )
        .unwrap()
        .passes
        .is_empty());
    // Holder "a" crashed; its lease was short. "c" takes over the same pass.
    let short = Lease {
        holder: "a".into(),
        secs: 0,
    };
    s.reserve(
        &Ask {
            which: Which::Pending,
            limit: 10,
            skip: &none,
            lease: &short,
            actor: "a",
            now: 150,
        },
        &mut sign,
    )
    .unwrap();
    let taken = other
        .reserve(
            &Ask {
                which: Which::Pending,
                limit: 10,
                skip: &none,
                lease: &lease("c"),
                actor: "c",
                now: 151,
            },
            &mut |_| panic!("never signed twice"),
        )
        .unwrap()
        .passes;
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].pass, mine[0].pass, "same serial and QR text");
    let serial = mine[0].pass.serial;
    let recorded = s.mark_issued(&[serial], "a", 152).unwrap()
        + other.mark_issued(&[serial], "c", 152).unwrap();
    assert_eq!(recorded, 1);
    let issued = s
        .audit(Some("A1"))
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "issue")
        .count();
    assert_eq!(issued, 1);
}

fn a_serial_never_issued_is_revoked_and_never_issued_later(b: Backend) {
    let db = Db::new(b);
    let mut s = db.open();
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
        &mut *s,
        &[
            app("A1", "鲁K11110", 100, 200),
            app("A2", "鲁K11111", 100, 1200),
        ],
    );
    let got = reserve_new(&mut *s, 10, 150);
    let serials: Vec<Serial> = got.passes.iter().map(|r| r.pass.serial).collect();
    assert_eq!(serials, [Serial(1), Serial(3)], "serial 2 is skipped");
    let audit = s.audit(None).unwrap();
    assert!(audit.iter().any(|e| e.action == "revoke.foreign"));
}

/// A signer that refuses one application: the others are reserved in the same call, nothing
/// is stored for the refused one, and `skip` passes over it next time.
fn a_refused_signature_does_not_stop_the_others(b: Backend) {
    let db = Db::new(b);
    let mut s = db.open();
    let apps = [
        app("A1", "鲁K11111", 100, 200),
        app("A2", "鲁K22222", 100, 200),
        app("A3", "鲁K33333", 100, 200),
    ];
    approved(&mut *s, &apps);
    let mut refuse_a2 = |t: ToSign<'_>| -> Result<Signed, SignError> {
        if t.app.data.app_no == "A2" {
            return Err("too long".into());
        }
        sign(t)
    };
    let a = lease("a");
    let r = s
        .reserve(
            &Ask {
                which: Which::New,
                limit: 10,
                skip: &HashSet::new(),
                lease: &a,
                actor: "c",
                now: 150,
            },
            &mut refuse_a2,
        )
        .unwrap();
    let serials: Vec<u64> = r.passes.iter().map(|p| p.pass.serial.0).collect();
    let apps_reserved: Vec<&str> = r
        .passes
        .iter()
        .map(|p| p.app.data.app_no.as_str())
        .collect();
    assert_eq!(apps_reserved, ["A1", "A3"]);
    assert!(serials[0] < serials[1]);
    if b == Backend::Sqlite {
        // SQLite's counter is in the transaction: the refused one gave its serial back. (A
        // PostgreSQL sequence never gives one back; the gap is harmless.)
        assert_eq!(serials, [1, 2]);
    }
    assert_eq!(r.unsigned.len(), 1);
    assert_eq!(r.unsigned[0].0.data.app_no, "A2");
    assert!(s.get("A2").unwrap().pass.is_none());
    let skip: HashSet<String> = ["A2".to_string()].into();
    let r = s
        .reserve(
            &Ask {
                which: Which::New,
                limit: 1,
                skip: &skip,
                lease: &a,
                actor: "c",
                now: 151,
            },
            &mut refuse_a2,
        )
        .unwrap();
    assert!(r.passes.is_empty() && r.unsigned.is_empty());
    // Withdrawn after approval: rejected, audited, and out of every later reservation.
    let w = s
        .transition(
            &["A2".into()],
            Action::Reject,
            None,
            "c",
            152,
            Some("姓名过长"),
        )
        .unwrap();
    assert_eq!(w[0].status, Status::Rejected);
    let r = s
        .reserve(
            &Ask {
                which: Which::New,
                limit: 10,
                skip: &HashSet::new(),
                lease: &a,
                actor: "c",
                now: 153,
            },
            &mut sign,
        )
        .unwrap();
    assert!(r.passes.is_empty() && r.unsigned.is_empty());
}

/// Withdrawing an approval whose pass was signed by a run that then crashed revokes that
/// pass, and the pending reservation can no longer be recorded as issued.
fn withdrawing_a_signed_but_unissued_pass_revokes_it(b: Backend) {
    let db = Db::new(b);
    let mut s = db.open();
    approved(&mut *s, &[app("A1", "鲁K11111", 100, 200)]);
    let r = reserve_new(&mut *s, 10, 150);
    let serial = r.passes[0].pass.serial;
    s.transition(&["A1".into()], Action::Reject, None, "c", 151, Some("撤回"))
        .unwrap();
    assert_eq!(s.revoked_serials().unwrap(), [serial]);
    assert_eq!(s.mark_issued(&[serial], "c", 152).unwrap(), 0);
    assert_eq!(s.get("A1").unwrap().status, Status::Rejected);
    let audit = s.audit(Some("A1")).unwrap();
    let last = audit.last().unwrap();
    assert_eq!(last.action, "reject");
    assert_eq!(last.serial.as_deref(), Some(serial.to_string().as_str()));
}

fn issuable_only_between_test_and_window_end(b: Backend) {
    let db = Db::new(b);
    let mut s = db.open();
    approved(
        &mut *s,
        &[
            app("EARLY", "鲁K00001", 10_000, 20_000), // test at 6_400
            app("OVER", "鲁K00002", 100, 200),
            app("NOW", "鲁K00003", 1_000, 20_000),
        ],
    );
    let now = 5_000;
    let mut why = s.not_issuable(now).unwrap();
    why.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        why,
        [
            ("EARLY".to_string(), NotIssuable::TestLater),
            ("OVER".to_string(), NotIssuable::WindowOver)
        ]
    );
    let r = s
        .reserve(
            &Ask {
                which: Which::New,
                limit: 10,
                skip: &HashSet::new(),
                lease: &lease("a"),
                actor: "c",
                now,
            },
            &mut sign,
        )
        .unwrap();
    let got: Vec<&str> = r
        .passes
        .iter()
        .map(|p| p.app.data.app_no.as_str())
        .collect();
    assert_eq!(got, ["NOW"]);
}

fn counters_meta_and_policy(b: Backend) {
    let db = Db::new(b);
    let mut s = db.open();
    assert_eq!(s.next_bundle_sequence("c", 1, "x").unwrap(), 1);
    assert_eq!(s.next_bundle_sequence("c", 2, "x").unwrap(), 2);
    assert_eq!(s.meta("issuer").unwrap(), None);
    assert!(s.issuer_id().is_err(), "not initialised");
    assert_eq!(
        s.policy().unwrap(),
        issuer::checkpass::bundle::Policy::default()
    );
    s.set_meta("issuer", "CN-WH").unwrap();
    s.set_meta("issuer", "CN-WH2").unwrap();
    assert_eq!(s.meta("issuer").unwrap().as_deref(), Some("CN-WH2"));
    assert_eq!(s.issuer_id().unwrap(), "CN-WH2");
    assert!(!s.location().is_empty());
    s.set_policy("{}", "{\"a\":1}", "admin", 3).unwrap();
    assert_eq!(s.meta("policy").unwrap().as_deref(), Some("{\"a\":1}"));
    let audit = s.audit(None).unwrap();
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["bundle.export", "bundle.export", "policy.set"]);
    assert_eq!(audit[2].detail.as_deref(), Some("{} → {\"a\":1}"));
}

fn registry_and_codes_in_use(b: Backend) {
    let db = Db::new(b);
    let mut s = db.open();
    let (districts, checkpoints) = registry();
    s.load_registry(&districts, &checkpoints, "admin", 1)
        .unwrap();
    assert_eq!(s.districts().unwrap(), districts);
    assert_eq!(s.checkpoints().unwrap(), checkpoints);
    // An empty list leaves that part alone.
    s.load_registry(&[], &checkpoints[..1], "admin", 2).unwrap();
    assert_eq!(s.districts().unwrap(), districts);
    assert_eq!(s.checkpoints().unwrap(), checkpoints[..1]);
    s.import(
        &[
            app("A1", "鲁K11111", 100, 200),
            app("A2", "鲁K22222", 100, 5000),
        ],
        "f",
        "t",
        3,
    )
    .unwrap();
    let (d, c) = s.codes_in_use(1000).unwrap();
    assert_eq!(d, BTreeSet::from([371003]));
    assert_eq!(c, BTreeSet::from(["C101".to_string(), "C201".to_string()]));
    assert!(s.codes_in_use(6000).unwrap().0.is_empty());
    // A reload may not take away a code a live application still uses; nothing changes.
    match s.load_registry(&[], &checkpoints[1..], "admin", 1000) {
        Err(StoreError::CodesInUse(lost)) => assert_eq!(lost, ["检查站 C101"]),
        other => panic!("{other:?}"),
    }
    assert_eq!(s.checkpoints().unwrap(), checkpoints[..1]);
    // Once the window is over, it may.
    s.load_registry(&[], &checkpoints[1..], "admin", 6000)
        .unwrap();
    assert_eq!(s.checkpoints().unwrap(), checkpoints[1..]);
}

fn lists_and_queues(b: Backend) {
    let db = Db::new(b);
    let mut s = db.open();
    let mut other_district = app("B1", "鲁K22222", 100, 200);
    other_district.district = 371002;
    s.import(
        &[
            app("A1", "鲁K11111", 100, 200),
            other_district,
            app("A2", "鲁K11111", 300, 400),
        ],
        "f",
        "t",
        1,
    )
    .unwrap();
    s.transition(&["A2".into()], Action::Forward, None, "d", 2, None)
        .unwrap();
    let nos = |f: ListFilter| -> Vec<String> {
        s.list(&f)
            .unwrap()
            .into_iter()
            .map(|a| a.data.app_no)
            .collect()
    };
    assert_eq!(nos(ListFilter::default()), ["A1", "B1", "A2"]);
    assert_eq!(
        nos(ListFilter {
            district: Some(371003),
            ..Default::default()
        }),
        ["A1", "A2"]
    );
    assert_eq!(
        nos(ListFilter {
            status: Some(Status::Submitted),
            district: Some(371003),
            ..Default::default()
        }),
        ["A1"]
    );
    assert_eq!(
        nos(ListFilter {
            plate: Some("鲁K11111".into()),
            limit: Some(1),
            ..Default::default()
        }),
        ["A1"]
    );
    assert_eq!(
        s.app_nos_with_status(Status::Submitted, None).unwrap(),
        ["A1", "B1"]
    );
    assert_eq!(
        s.app_nos_with_status(Status::Submitted, Some(371002))
            .unwrap(),
        ["B1"]
    );
}

fn keys_rotate_and_compromise(b: Backend) {
    let db = Db::new(b);
    let mut s = db.open();
    s.add_key(&key("root1", "root", 1), "admin", 1).unwrap();
    s.add_key(&key("sig1", "signing", 1), "admin", 1).unwrap();
    s.add_key(&key("sig2", "signing", 5), "admin", 5).unwrap();
    let keys = s.keys().unwrap();
    let kids: Vec<(&str, &str)> = keys
        .iter()
        .map(|k| (k.kid.as_str(), k.status.as_str()))
        .collect();
    assert_eq!(
        kids,
        [("root1", "active"), ("sig1", "retired"), ("sig2", "active")]
    );
    assert_eq!(keys[1].retired_at, Some(5));
    assert!(matches!(
        s.compromise_key("root1", 0, "x", "admin", 6),
        Err(StoreError::RootKeyCompromise(_))
    ));
    assert!(matches!(
        s.compromise_key("nope", 0, "x", "admin", 6),
        Err(StoreError::NoSuchKey(_))
    ));
    let k = s.compromise_key("sig2", 100, "被盗", "admin", 7).unwrap();
    assert_eq!(
        (k.status.as_str(), k.compromised_since, k.compromised_at),
        ("retired", Some(100), Some(7))
    );
    // Declaring it again only moves `since` earlier.
    let k = s.compromise_key("sig2", 200, "again", "admin", 8).unwrap();
    assert_eq!(k.compromised_since, Some(100));
    let k = s.compromise_key("sig2", 50, "again", "admin", 9).unwrap();
    assert_eq!(k.compromised_since, Some(50));
    assert_eq!(s.last_expiry_signed_by("sig2").unwrap(), None);
    approved(&mut *s, &[app("A1", "鲁K11111", 100, 200)]);
    reserve_new(&mut *s, 1, 150);
    assert_eq!(s.last_expiry_signed_by("k").unwrap(), Some(200));
}

/// A signing key limited to districts and categories keeps its scope through the store, a
/// key recorded before scopes existed (the previous schema) reads back unlimited, and a
/// dump carries the scope to another store.
fn scoped_keys_are_stored_and_migrated(b: Backend) {
    let db = Db::new(b);
    db.create_at_version(store::sqlite::MIGRATIONS.len() - 1);
    db.raw(
        "INSERT INTO keys (kid, role, public_key, file, status, created_at) \
         VALUES ('old1', 'signing', 'pk-old1', 'old1.key', 'active', 1)",
    )
    .unwrap();
    let mut s = db.open();
    let old = s.keys().unwrap().remove(0);
    assert_eq!(
        (old.scope_districts.as_str(), old.scope_categories.as_str()),
        ("", "")
    );
    assert!(old.scope().unwrap().is_unrestricted());
    let scope = KeyScope::parse("110105,1101", "产成品,工业原材料").unwrap();
    let mut scoped = key("sig2", "signing", 5);
    scoped.set_scope(&scope);
    assert_eq!(
        (
            scoped.scope_districts.as_str(),
            scoped.scope_categories.as_str()
        ),
        ("1101,110105", "1,2")
    );
    s.add_key(&scoped, "admin", 5).unwrap();
    let keys = s.keys().unwrap();
    assert_eq!(
        keys[1],
        KeyRecord {
            status: "active".into(),
            ..scoped.clone()
        }
    );
    assert_eq!(keys[1].scope().unwrap(), scope);
    assert_eq!(
        keys[0].status, "retired",
        "the scoped key replaced the old one"
    );
    let copy = Db::new(b);
    copy.open().restore(&s.dump().unwrap()).unwrap();
    assert_eq!(copy.open().keys().unwrap()[1].scope().unwrap(), scope);
}

/// The audit trail read through a filter: each condition in the database, the order either
/// way, a page after a line, a limit; the LIKE of an action's family escapes its wildcards.
fn audit_filters(b: Backend) {
    let db = Db::new(b);
    let mut s = db.open();
    s.add_key(&key("root1", "root", 1), "admin", 10).unwrap();
    s.add_key(&key("sig1", "signing", 1), "admin", 20).unwrap();
    s.import(&[app("A1", "鲁K11111", 100, 200)], "f.csv", "liaison", 30)
        .unwrap();
    s.import(&[app("A2", "鲁K22222", 100, 200)], "f.csv", "liaison", 40)
        .unwrap();
    s.transition(&["A1".into()], Action::Forward, None, "liaison", 50, None)
        .unwrap();
    s.compromise_key("sig1", 0, "被盗", "admin", 60).unwrap();
    s.set_policy("{}", "{}", "admin2", 70).unwrap();
    s.next_bundle_sequence("admin2", 80, "x").unwrap();
    let all = s.audit(None).unwrap();
    assert_eq!(all.len(), 8);
    let ats =
        |f: AuditFilter| -> Vec<i64> { s.audit_where(&f).unwrap().iter().map(|e| e.at).collect() };
    let f = AuditFilter::default;
    assert_eq!(ats(f()), [10, 20, 30, 40, 50, 60, 70, 80]);
    assert_eq!(
        ats(AuditFilter {
            actor: Some("admin".into()),
            ..f()
        }),
        [10, 20, 60],
        "exactly that actor, not admin2"
    );
    assert_eq!(
        ats(AuditFilter {
            action: Some("keys".into()),
            ..f()
        }),
        [10, 20, 60],
        "keys.add and keys.revoke"
    );
    assert_eq!(
        ats(AuditFilter {
            action: Some("keys.revoke".into()),
            ..f()
        }),
        [60]
    );
    for wild in ["key_", "%", "keys%", "_"] {
        assert_eq!(
            ats(AuditFilter {
                action: Some(wild.into()),
                ..f()
            }),
            Vec::<i64>::new(),
            "{wild} is no wildcard"
        );
    }
    assert_eq!(
        ats(AuditFilter {
            app_no: Some("A1".into()),
            ..f()
        }),
        [30, 50]
    );
    assert_eq!(ats(AuditFilter::of_application(Some("A2"))), [40]);
    assert_eq!(
        ats(AuditFilter {
            from: Some(30),
            to: Some(60),
            ..f()
        }),
        [30, 40, 50],
        "from inclusive, to exclusive"
    );
    assert_eq!(
        ats(AuditFilter {
            actor: Some("liaison".into()),
            action: Some("import".into()),
            from: Some(35),
            ..f()
        }),
        [40]
    );
    // Newest first, a page at a time.
    let newest = |after_id: Option<i64>| AuditFilter {
        newest_first: true,
        limit: Some(3),
        after_id,
        ..f()
    };
    let page1 = s.audit_where(&newest(None)).unwrap();
    assert_eq!(page1.iter().map(|e| e.at).collect::<Vec<_>>(), [80, 70, 60]);
    let page2 = s.audit_where(&newest(Some(page1[2].id))).unwrap();
    assert_eq!(page2.iter().map(|e| e.at).collect::<Vec<_>>(), [50, 40, 30]);
    let page3 = s.audit_where(&newest(Some(page2[2].id))).unwrap();
    assert_eq!(page3.iter().map(|e| e.at).collect::<Vec<_>>(), [20, 10]);
    // Oldest first after a line.
    assert_eq!(
        ats(AuditFilter {
            after_id: Some(all[5].id),
            ..f()
        }),
        [70, 80]
    );
    // The lines themselves, whole.
    assert_eq!(
        s.audit_where(&AuditFilter {
            app_no: Some("A1".into()),
            newest_first: true,
            ..f()
        })
        .unwrap(),
        [all[4].clone(), all[2].clone()]
    );
}

/// A whole store copied to a fresh one of the other backend, and back, is the same store; a
/// copy into a store that holds anything is refused.
fn dump_and_restore_round_trip(b: Backend) {
    let db = Db::new(b);
    let mut s = db.open();
    let (districts, checkpoints) = registry();
    s.load_registry(&districts, &checkpoints, "admin", 1)
        .unwrap();
    s.set_meta("issuer", "CN-WH").unwrap();
    s.add_key(&key("root1", "root", 1), "admin", 1).unwrap();
    let liaison = NewUser::new("liaison1", Role::District, Some(371003), None).unwrap();
    s.add_user(&liaison, "$argon2id$fake", "admin", 1).unwrap();
    s.set_user_disabled("liaison1", true, "admin", 2).unwrap();
    approved(
        &mut *s,
        &[
            app("A1", "鲁K11111", 100, 200),
            app("A2", "鲁K22222", 100, 200),
            NewApplication {
                arrive_by: Some(180),
                ..app("A3", "鲁K33333", 100, 200)
            },
        ],
    );
    let r = reserve_new(&mut *s, 2, 150);
    s.mark_issued(&[r.passes[0].pass.serial], "c", 151).unwrap();
    s.revoke(Serial(77), "伪造", "c", 152).unwrap();
    s.next_bundle_sequence("c", 153, "x").unwrap();
    s.put_report(&report("A3", b"%PDF-1.4\n%%EOF\n"), "carrier", 154)
        .unwrap();
    let device_key = SigningKey::from_seed(&[8; 32]);
    s.add_device(
        &Device::new(&device_key.public_key(), "C101", "admin", 155),
        "admin",
        155,
    )
    .unwrap();
    s.import_scans(
        &log_of(&device_key, [0; 32], 1..=4, |_| {}),
        "f",
        "admin",
        156,
    )
    .unwrap();
    s.set_places(
        &[Place {
            code: "C101".into(),
            lat: 37.468,
            lon: 122.083,
        }],
        "admin",
        157,
    )
    .unwrap();
    // What the findings read of each pass signed here, pending or issued.
    let mut facts = s.pass_facts().unwrap();
    facts.sort_by(|a, b| a.serial.cmp(&b.serial));
    assert_eq!(facts.len(), 2);
    assert_eq!(facts[0].serial, Serial(1).to_string());
    assert_eq!(facts[0].route, vec!["C101".to_string(), "C201".to_string()]);
    assert_eq!(
        (facts[0].start_at, facts[0].end_at, facts[0].revoked_at),
        (100, 200, None)
    );
    assert!(
        facts[0].number.starts_with("371003-"),
        "{}",
        facts[0].number
    );
    let original = s.dump().unwrap();
    assert_eq!(original.scans.len(), 4);
    assert_eq!(original.places.len(), 1);
    assert_eq!(original.reports.len(), 1);
    assert_eq!(original.next_serial, 3);
    assert_eq!(original.next_bundle_sequence, 2);

    let other = match b {
        Backend::Sqlite => Backend::Postgres,
        Backend::Postgres => Backend::Sqlite,
    };
    let middle = Db::new(other);
    middle.open().restore(&original).unwrap();
    let back = Db::new(b);
    back.open().restore(&middle.open().dump().unwrap()).unwrap();
    let mut copy = back.open();
    let copied = copy.dump().unwrap();
    assert_eq!(copied, original);
    assert_eq!(copied.digest().unwrap(), original.digest().unwrap());
    // The copy carries on where the original stood: next serial, next bundle, next audit id.
    let r = reserve_new(&mut *copy, 5, 160);
    assert_eq!(r.passes.len(), 1);
    assert_eq!(r.passes[0].pass.serial, Serial(3));
    assert_eq!(copy.next_bundle_sequence("c", 161, "x").unwrap(), 2);
    let audit = copy.audit(None).unwrap();
    assert!(audit.windows(2).all(|w| w[0].id < w[1].id));
    // Not into a store that has anything in it.
    assert!(matches!(
        copy.restore(&original),
        Err(StoreError::NotEmpty(_))
    ));
}

/// A device's log entries `ids`, chained from `prev`; `serial_of(id)` names each scan's pass.
fn log_of(
    key: &SigningKey,
    prev: [u8; 32],
    ids: std::ops::RangeInclusive<i64>,
    change: impl Fn(&mut LogRecord),
) -> ScanLogFile {
    let mut hash = prev;
    let entries = ids
        .map(|id| {
            let mut r = LogRecord {
                id,
                kind: EntryKind::Scan,
                at: 1_000 + id * 60,
                checkpoint: "C101".into(),
                officer: Some("王警官".into()),
                serial: Some(format!("S{}", id % 2)),
                plate: Some("鲁K12345".into()),
                verdict: Some("green".into()),
                reasons: String::new(),
                bundle_sequence: Some(1),
                simulated: id % 3 == 0,
                note: None,
                hash: [0; 32],
            };
            change(&mut r);
            r.hash = link(&hash, &r.entry());
            hash = r.hash;
            r
        })
        .collect();
    ScanLogFile {
        device: key.public_key(),
        exported_at: 9_999,
        prev,
        entries,
    }
}

/// Scan-log files join a device's earlier ones: the same file twice adds nothing, an overlap
/// adds only what is new, a changed entry or a file that does not follow on is refused whole,
/// and a gap is reported; an unknown device's file is refused.
fn scan_logs_join_and_gaps_are_reported(b: Backend) {
    let db = Db::new(b);
    let mut s = db.open();
    let key = SigningKey::from_seed(&[7; 32]);
    let device = Device::new(&key.public_key(), "C101 一号机", "admin", 1);
    let first = log_of(&key, [0; 32], 1..=3, |_| {});
    assert!(matches!(
        s.import_scans(&first, "a.cose", "admin", 2),
        Err(StoreError::NoSuchDevice(kid)) if kid == device.kid
    ));
    assert!(s.add_device(&device, "admin", 2).unwrap());
    assert!(!s.add_device(&device, "admin", 3).unwrap());

    let r = s.import_scans(&first, "a.cose", "admin", 4).unwrap();
    assert_eq!((r.added, r.already, r.missing.len()), (3, 0, 0));
    let r = s.import_scans(&first, "a.cose", "admin", 5).unwrap();
    assert_eq!((r.added, r.already), (0, 3));
    // 3..=5 following on from entry 2.
    let whole = log_of(&key, [0; 32], 1..=5, |_| {});
    let overlap = ScanLogFile {
        prev: whole.entries[1].hash,
        entries: whole.entries[2..].to_vec(),
        ..whole.clone()
    };
    let r = s.import_scans(&overlap, "b.cose", "admin", 6).unwrap();
    assert_eq!((r.added, r.already), (2, 1));
    // Entry 4 changed after the fact (the chain re-made from it): refused, nothing stored.
    let changed = log_of(&key, [0; 32], 1..=6, |r| {
        if r.id == 4 {
            r.verdict = Some("red".into());
        }
    });
    assert!(matches!(
        s.import_scans(&changed, "c.cose", "admin", 7),
        Err(StoreError::Join(JoinError::Differs { id: 4, .. }))
    ));
    // A file claiming to follow entry 5 with another hash.
    let astray = ScanLogFile {
        prev: [9; 32],
        entries: log_of(&key, [9; 32], 6..=6, |_| {}).entries,
        ..whole.clone()
    };
    assert!(matches!(
        s.import_scans(&astray, "d.cose", "admin", 8),
        Err(StoreError::Join(JoinError::DoesNotJoin { id: 5, .. }))
    ));
    // Entries 8 and 9 with 6 and 7 never seen: a gap.
    let later = log_of(&key, [5; 32], 8..=9, |_| {});
    let r = s.import_scans(&later, "e.cose", "admin", 9).unwrap();
    assert_eq!(r.added, 2);
    assert_eq!(r.missing, vec![Gap { first: 6, last: 7 }]);
    let devices = s.devices().unwrap();
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0].entries, 7);
    assert_eq!(devices[0].last_id, Some(9));
    assert_eq!(devices[0].missing, vec![Gap { first: 6, last: 7 }]);

    // Read back by serial and time; simulated ones only when asked.
    let mut seen = Vec::new();
    let filter = ScanFilter::default();
    s.for_each_scan(&filter, &mut |scan| {
        seen.push((scan.record.serial.clone().unwrap(), scan.record.id))
    })
    .unwrap();
    let real = |id: i64| id % 3 != 0;
    let mut expected: Vec<(String, i64)> = [1, 2, 3, 4, 5, 8, 9]
        .into_iter()
        .filter(|id| real(*id))
        .map(|id| (format!("S{}", id % 2), id))
        .collect();
    expected.sort();
    assert_eq!(seen, expected);
    let mut all = 0;
    s.for_each_scan(
        &ScanFilter {
            include_simulated: true,
            since: Some(1_000 + 2 * 60),
        },
        &mut |_| all += 1,
    )
    .unwrap();
    assert_eq!(all, 6, "entries 2..=5, 8, 9");
    let audit = s.audit(None).unwrap();
    assert_eq!(
        audit.iter().filter(|a| a.action == "scans.import").count(),
        4,
        "the refused files leave no trace but their error"
    );
    assert_eq!(
        audit.iter().filter(|a| a.action == "devices.add").count(),
        1
    );

    // Places replace each other whole.
    let place = |code: &str, lat: f64| Place {
        code: code.into(),
        lat,
        lon: 122.0,
    };
    s.set_places(&[place("C101", 37.4), place("C107", 36.9)], "admin", 10)
        .unwrap();
    s.set_places(&[place("C101", 37.5)], "admin", 11).unwrap();
    assert_eq!(s.places().unwrap(), vec![place("C101", 37.5)]);
}

fn report(app_no: &str, content: &[u8]) -> TestReport {
    TestReport::new(app_no, content.to_vec(), "carrier", 5).unwrap()
}

/// A liaison returns an application; its applicant corrects it (checked for plate overlap
/// against every application but itself) and it is submitted again. Its test report is kept,
/// replaced, and read back byte for byte.
fn returned_amended_and_reported(b: Backend) {
    let db = Db::new(b);
    let mut s = db.open();
    let (districts, checkpoints) = registry();
    s.load_registry(&districts, &checkpoints, "admin", 1)
        .unwrap();
    s.import(
        &[
            app("A1", "鲁K11111", 100, 200),
            app("B1", "鲁K22222", 100, 200),
        ],
        "f",
        "t",
        2,
    )
    .unwrap();
    // Only a returned application can be amended.
    let mut changed = app("A1", "鲁K11111", 120, 220);
    assert!(matches!(
        s.amend(&changed, "carrier", 3),
        Err(StoreError::Illegal(_))
    ));
    let back = s
        .transition(
            &["A1".to_string()],
            Action::Return,
            Some(Status::Submitted),
            "liaison",
            4,
            Some("照片不清"),
        )
        .unwrap();
    assert_eq!(back[0].status, Status::Returned);
    assert_eq!(back[0].reject_reason.as_deref(), Some("照片不清"));
    // Its own old window does not count against it; another application's does.
    changed.plate = "鲁K22222".into();
    assert_eq!(
        s.amend(&changed, "carrier", 5).unwrap(),
        Amended::Overlaps("B1".into())
    );
    assert_eq!(s.get("A1").unwrap().status, Status::Returned);
    changed.plate = "鲁K11111".into();
    changed.cargo = "冷链蔬菜".into();
    // A planned arrival added on correction is kept.
    changed.arrive_by = Some(210);
    let Amended::Resubmitted(done) = s.amend(&changed, "carrier", 6).unwrap() else {
        panic!("not resubmitted");
    };
    assert_eq!(done.status, Status::Submitted);
    assert_eq!(done.data.cargo, "冷链蔬菜");
    assert_eq!(done.data.arrive_by, Some(210));
    assert_eq!(s.get("A1").unwrap().data.arrive_by, Some(210));
    assert_eq!(s.get("B1").unwrap().data.arrive_by, None);
    assert_eq!(done.data.start_at, 120);
    assert_eq!(done.reject_reason, None);
    assert_eq!(done.decided_by, None);
    let audit = s.audit(Some("A1")).unwrap();
    let last = audit.last().unwrap();
    assert_eq!(
        (
            last.action.as_str(),
            last.actor.as_str(),
            last.to_status.as_deref()
        ),
        ("resubmit", "carrier", Some("submitted"))
    );

    assert_eq!(s.report_info("A1").unwrap(), None);
    let png = {
        let mut out = Vec::new();
        image::GrayImage::new(3, 3)
            .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    };
    s.put_report(&report("A1", &png), "carrier", 7).unwrap();
    let pdf = b"%PDF-1.4\n\x00\xff binary\n%%EOF\n";
    s.put_report(&report("A1", pdf), "carrier", 8).unwrap();
    let kept = s.report("A1").unwrap().unwrap();
    assert_eq!(kept.content, pdf);
    assert_eq!(kept.info.media_type, MediaType::Pdf);
    assert_eq!(s.report_info("A1").unwrap().unwrap(), kept.info);
    assert!(matches!(
        s.put_report(&report("NOPE", pdf), "carrier", 9),
        Err(StoreError::NoSuchApplication(_))
    ));
}

/// Accounts: created once per name, listed, found with their hash for signing in, disabled
/// and enabled again, their password replaced; every change audited.
fn accounts(b: Backend) {
    let db = Db::new(b);
    let mut s = db.open();
    let city = NewUser::new("wang.li", Role::City, None, None).unwrap();
    let carrier = NewUser::new("carrier1", Role::Applicant, None, Some("威海顺达物流")).unwrap();
    let u = s.add_user(&city, "$argon2id$h1", "admin", 10).unwrap();
    assert_eq!(
        (u.role, u.created_at, u.created_by.as_str()),
        (Role::City, 10, "admin")
    );
    s.add_user(&carrier, "$argon2id$h2", "admin", 11).unwrap();
    assert!(matches!(
        s.add_user(&city, "$argon2id$h3", "admin", 12),
        Err(StoreError::UserExists(_))
    ));
    let names: Vec<String> = s.users().unwrap().into_iter().map(|u| u.name).collect();
    assert_eq!(names, ["carrier1", "wang.li"]);
    let (u, hash) = s.user_with_hash("carrier1").unwrap().unwrap();
    assert_eq!(u.organisation.as_deref(), Some("威海顺达物流"));
    assert_eq!(hash, "$argon2id$h2");
    assert!(s.user_with_hash("nobody").unwrap().is_none());
    let u = s.set_user_disabled("wang.li", true, "admin", 13).unwrap();
    assert_eq!(u.disabled_at, Some(13));
    // Disabling again keeps the first time.
    let u = s.set_user_disabled("wang.li", true, "admin", 14).unwrap();
    assert_eq!(u.disabled_at, Some(13));
    let u = s.set_user_disabled("wang.li", false, "admin", 15).unwrap();
    assert!(u.is_active());
    s.set_password("wang.li", "$argon2id$new", "wang.li", 16)
        .unwrap();
    assert_eq!(
        s.user_with_hash("wang.li").unwrap().unwrap().1,
        "$argon2id$new"
    );
    assert!(matches!(
        s.set_password("nobody", "x", "admin", 17),
        Err(StoreError::NoSuchUser(_))
    ));
    assert!(matches!(
        s.set_user_disabled("nobody", true, "admin", 17),
        Err(StoreError::NoSuchUser(_))
    ));
    let actions: Vec<String> = s
        .audit(None)
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [
            "user.add",
            "user.add",
            "user.disable",
            "user.disable",
            "user.enable",
            "user.password"
        ]
    );
}

/// Wrong passwords lock an account after the fifth in a row, until the lock runs out; a good
/// one starts the count again. Web sessions expire and end.
fn logins_and_sessions(b: Backend) {
    use issuer::accounts::{LOCK_SECS, MAX_FAILED_LOGINS};
    let db = Db::new(b);
    let mut s = db.open();
    let u = NewUser::new("wang.li", Role::City, None, None).unwrap();
    s.add_user(&u, "$argon2id$h", "admin", 1).unwrap();
    let user = |s: &dyn Store| s.user_with_hash("wang.li").unwrap().unwrap().0;
    for _ in 0..MAX_FAILED_LOGINS - 1 {
        s.login_failed("wang.li", 100).unwrap();
    }
    assert!(!user(&*s).is_locked(100));
    s.login_succeeded("wang.li", 101).unwrap();
    for _ in 0..MAX_FAILED_LOGINS - 1 {
        s.login_failed("wang.li", 200).unwrap();
    }
    assert!(!user(&*s).is_locked(200), "the count started again");
    s.login_failed("wang.li", 200).unwrap();
    let locked = user(&*s);
    assert!(locked.is_locked(200));
    assert!(locked.is_locked(200 + LOCK_SECS - 1));
    assert!(!locked.is_locked(200 + LOCK_SECS));
    // An unknown name changes nothing and audits nothing.
    s.login_failed("nobody", 200).unwrap();
    let audit = s.audit(None).unwrap();
    assert_eq!(
        audit.iter().filter(|e| e.action == "login.failed").count(),
        2 * MAX_FAILED_LOGINS as usize - 1
    );
    assert_eq!(audit.iter().filter(|e| e.action == "login").count(), 1);

    assert_eq!(s.session_load("sid", 10).unwrap(), None);
    s.session_save("sid", "{\"user\":\"wang.li\"}", 100)
        .unwrap();
    s.session_save("old", "{}", 50).unwrap();
    assert_eq!(
        s.session_load("sid", 99).unwrap().as_deref(),
        Some("{\"user\":\"wang.li\"}")
    );
    assert_eq!(s.session_load("sid", 100).unwrap(), None, "expired");
    s.session_save("sid", "{}", 200).unwrap();
    assert_eq!(s.session_load("sid", 150).unwrap().as_deref(), Some("{}"));
    // Ending one session also clears the expired ones.
    s.session_delete("sid", 60).unwrap();
    assert_eq!(s.session_load("sid", 61).unwrap(), None);
    assert_eq!(s.session_load("old", 0).unwrap(), None);
}

// ------------------------------------------------------------------ concurrency

/// Two reviewers, each on their own connection, approve and reject the same forwarded
/// applications at the same moment: for each application exactly one of them succeeds, the
/// other gets a clear refusal, and the audit trail has exactly one decision.
fn approve_and_reject_at_once_one_wins(b: Backend) {
    const N: usize = 30;
    let db = Arc::new(Db::new(b));
    let mut s = db.open();
    let rows: Vec<_> = (0..N)
        .map(|i| app(&format!("A{i:03}"), &format!("鲁K{i:05}"), 100, 200))
        .collect();
    s.import(&rows, "f", "t", 1).unwrap();
    let nos: Vec<String> = rows.iter().map(|r| r.app_no.clone()).collect();
    s.transition(&nos, Action::Forward, None, "d", 2, None)
        .unwrap();

    let barrier = Arc::new(Barrier::new(4));
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let (db, barrier, nos) = (db.clone(), barrier.clone(), nos.clone());
            std::thread::spawn(move || {
                let mut s = db.open();
                let action = if t % 2 == 0 {
                    Action::Approve
                } else {
                    Action::Reject
                };
                barrier.wait();
                let mut wins = 0;
                for no in &nos {
                    match s.transition(
                        std::slice::from_ref(no),
                        action,
                        Some(Status::Forwarded),
                        &format!("reviewer{t}"),
                        3,
                        Some("r"),
                    ) {
                        Ok(_) => wins += 1,
                        Err(StoreError::Conflict { .. } | StoreError::Illegal(_)) => {}
                        Err(e) => panic!("reviewer {t}: {e}"),
                    }
                }
                wins
            })
        })
        .collect();
    let wins: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(wins, N, "one decision per application");
    let audit = s.audit(None).unwrap();
    for no in &nos {
        let decisions = audit
            .iter()
            .filter(|e| e.app_no.as_deref() == Some(no))
            .filter(|e| e.action == "approve" || e.action == "reject")
            .count();
        assert_eq!(decisions, 1, "{no}");
        let a = s.get(no).unwrap();
        assert!(matches!(a.status, Status::Approved | Status::Rejected));
    }
}

/// Four issuers, each on its own connection with its own lease, reserve and record passes for
/// the same approved applications at once: every application gets exactly one pass, no serial
/// serves two, and the audit has one `issue` line per pass.
fn concurrent_issuers_issue_each_pass_once(b: Backend) {
    const N: usize = 60;
    let db = Arc::new(Db::new(b));
    let mut s = db.open();
    let rows: Vec<_> = (0..N)
        .map(|i| app(&format!("A{i:03}"), &format!("鲁K{i:05}"), 100, 200))
        .collect();
    approved(&mut *s, &rows);
    let barrier = Arc::new(Barrier::new(4));
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let (db, barrier) = (db.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut s = db.open();
                let l = lease(&format!("issuer{t}"));
                barrier.wait();
                let mut mine = Vec::new();
                for which in [Which::Pending, Which::New] {
                    loop {
                        let r = s
                            .reserve(
                                &Ask {
                                    which,
                                    limit: 4,
                                    skip: &HashSet::new(),
                                    lease: &l,
                                    actor: "c",
                                    now: 150,
                                },
                                &mut sign,
                            )
                            .unwrap();
                        if r.passes.is_empty() {
                            break;
                        }
                        let serials: Vec<Serial> = r.passes.iter().map(|p| p.pass.serial).collect();
                        s.mark_issued(&serials, "c", 151).unwrap();
                        mine.extend(
                            r.passes
                                .into_iter()
                                .map(|p| (p.app.data.app_no, p.pass.serial)),
                        );
                    }
                }
                mine
            })
        })
        .collect();
    let all: Vec<(String, Serial)> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    assert_eq!(all.len(), N, "each application reserved once");
    let apps: BTreeSet<_> = all.iter().map(|(a, _)| a.clone()).collect();
    let serials: BTreeSet<_> = all.iter().map(|(_, s)| *s).collect();
    assert_eq!((apps.len(), serials.len()), (N, N));
    // No serial was taken (nor any signature made) for an application another issuer had
    // just reserved: the serials are exactly 1..=N.
    let expected: BTreeSet<Serial> = (1..=N as u64).map(Serial).collect();
    assert_eq!(serials, expected);
    let listed = s
        .list(&ListFilter {
            status: Some(Status::Issued),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(listed.len(), N);
    for a in &listed {
        let p = a.pass.as_ref().unwrap();
        assert_eq!(p.qr_text, format!("QR{}", p.serial.0));
    }
    let issues = s
        .audit(None)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "issue")
        .count();
    assert_eq!(issues, N);
}

/// A city's whole spreadsheet in one import (the PostgreSQL backend once ran out of lock
/// slots on a few thousand rows).
fn a_large_import_goes_through(b: Backend) {
    let db = Db::new(b);
    let mut s = db.open();
    let rows: Vec<_> = (0..20_000)
        .map(|i| app(&format!("L{i:05}"), &format!("鲁K{i:05}"), 100, 200))
        .collect();
    let out = s.import(&rows, "big.xlsx", "t", 1).unwrap();
    assert!(out.iter().all(|o| *o == ImportOutcome::Inserted));
    assert_eq!(
        s.app_nos_with_status(Status::Submitted, None)
            .unwrap()
            .len(),
        20_000
    );
}

/// Imports of overlapping windows of one plate from two connections at once: one stored.
fn concurrent_imports_never_store_an_overlap(b: Backend) {
    let db = Arc::new(Db::new(b));
    db.open();
    let barrier = Arc::new(Barrier::new(4));
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let (db, barrier) = (db.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut s = db.open();
                let rows: Vec<_> = (0..20)
                    .map(|i| app(&format!("T{t}-{i}"), &format!("鲁K{i:05}"), 100 + t, 200))
                    .collect();
                barrier.wait();
                s.import(&rows, "f", "t", 1).unwrap()
            })
        })
        .collect();
    let inserted = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .filter(|o| *o == ImportOutcome::Inserted)
        .count();
    assert_eq!(inserted, 20, "one application per plate");
    assert_eq!(db.open().list(&ListFilter::default()).unwrap().len(), 20);
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[test]
            fn $name() {
                super::$name(super::Backend::Sqlite);
            })*
        }
        mod postgres {
            $(#[test]
            fn $name() {
                if super::pg::available() {
                    super::$name(super::Backend::Postgres);
                }
            })*
        }
    };
}

conformance!(
    migrations_apply_once_and_refuse_newer,
    migrates_from_the_previous_version,
    import_is_idempotent_and_refuses_overlaps,
    workflow_is_audited_and_audit_is_append_only,
    every_illegal_transition_is_refused,
    reservation_is_reused_and_issue_recorded_once,
    a_lease_keeps_others_off_until_it_runs_out,
    a_serial_never_issued_is_revoked_and_never_issued_later,
    a_refused_signature_does_not_stop_the_others,
    withdrawing_a_signed_but_unissued_pass_revokes_it,
    issuable_only_between_test_and_window_end,
    counters_meta_and_policy,
    registry_and_codes_in_use,
    lists_and_queues,
    keys_rotate_and_compromise,
    scoped_keys_are_stored_and_migrated,
    audit_filters,
    dump_and_restore_round_trip,
    returned_amended_and_reported,
    accounts,
    logins_and_sessions,
    approve_and_reject_at_once_one_wins,
    concurrent_issuers_issue_each_pass_once,
    concurrent_imports_never_store_an_overlap,
    a_large_import_goes_through,
    scan_logs_join_and_gaps_are_reported,
);
