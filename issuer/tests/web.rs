//! The web service's limits, by direct URL and API call rather than by hidden buttons: each role
//! sees and does only what it must. The router is called in-process (no socket), over a real
//! SQLite store; the same rules run on PostgreSQL because they sit above the store.

use std::collections::HashMap;

use axum::body::Body;
use axum::http::{header, StatusCode};
use http_body_util::BodyExt;
use issuer::accounts::{hash_password, NewUser, Role};
use issuer::checkpass::pass::Category;
use issuer::domain::{Checkpoint, District};
use issuer::store::{self, Location, Store};
use issuer::validate::NewApplication;
use issuer::web::{router, AppState};
use issuer::workflow::Action;
use serde_json::Value;
use tower::ServiceExt;

#[path = "common/pg.rs"]
mod pg;

#[path = "common/browser.rs"]
mod browser;

use browser::{Answer, Browser, PASSWORD};

fn app(no: &str, district: u32, plate: &str, driver: &str) -> NewApplication {
    NewApplication {
        app_no: no.into(),
        applicant_type: "运输人".into(),
        district,
        plate: plate.into(),
        trailer: None,
        driver_name: driver.into(),
        driver_id: "320102199210156657".into(),
        mobile: "13551566498".into(),
        occupants: 1,
        category: Category::RawMaterials,
        cargo: "钢材".into(),
        origin: "甲".into(),
        destination: "乙".into(),
        start_at: 1_647_043_200,
        end_at: 1_647_129_600,
        route: vec!["C101".into()],
        test_sampled_at: 1_647_000_000,
        test_result: "阴性".into(),
        arrive_by: None,
        row: 2,
    }
}

/// A store with two districts, an application in each (one with a hostile driver name), and
/// an account of every role.
struct World {
    _dir: tempfile::TempDir,
    location: Location,
    /// Built once, outside any async context: PostgreSQL's blocking client must not connect
    /// from a thread that drives async tasks.
    app: axum::Router,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let location = Location::Sqlite(dir.path().join("issuer.db"));
        World::at(dir, location)
    }

    /// The same world in a database of this process's throwaway PostgreSQL cluster; `None`
    /// (skipped) only outside CI on a machine without PostgreSQL.
    fn postgres() -> Option<World> {
        if !pg::available() {
            return None;
        }
        let location = Location::Postgres(pg::Cluster::shared().new_database());
        Some(World::at(tempfile::tempdir().unwrap(), location))
    }

    fn at(dir: tempfile::TempDir, location: Location) -> World {
        let mut s = store::open(&location).unwrap();
        let district = |code, name: &str| District {
            code,
            name: name.into(),
            contact: "联络人".into(),
            phone: "0631-5200000".into(),
            email: "a@example.cn".into(),
        };
        s.load_registry(
            &[district(371002, "环翠区"), district(371003, "文登区")],
            &[Checkpoint {
                code: "C101".into(),
                name: "一号站".into(),
                district: 371002,
                road: "G1".into(),
            }],
            "admin",
            1,
        )
        .unwrap();
        s.import(
            &[
                app("HC-1", 371002, "鲁K00001", "张三"),
                app("WD-1", 371003, "鲁K00002", "<script>alert(1)</script>"),
                NewApplication {
                    // 2022-03-12 20:00 UTC+8
                    arrive_by: Some(1_647_086_400),
                    ..app("WD-2", 371003, "鲁K00003", "李四")
                },
            ],
            "f.csv",
            "t",
            2,
        )
        .unwrap();
        let hash = hash_password(PASSWORD).unwrap();
        for (name, role, district, org) in [
            ("liaison-hc", Role::District, Some(371002), None),
            ("liaison-wd", Role::District, Some(371003), None),
            ("reviewer1", Role::City, None, None),
            ("reviewer2", Role::City, None, None),
            ("admin1", Role::Admin, None, None),
            ("shunda", Role::Applicant, None, Some("威海顺达物流")),
        ] {
            let u = NewUser::new(name, role, district, org).unwrap();
            s.add_user(&u, &hash, "admin", 3).unwrap();
        }
        let app = router(AppState::new(location.clone(), 2).unwrap());
        World {
            _dir: dir,
            location,
            app,
        }
    }

    fn store(&self) -> Box<dyn Store> {
        store::open(&self.location).unwrap()
    }

    /// Runs `f` on the store from a plain thread, as the service's blocking pool does (an
    /// async test's own thread may not block on PostgreSQL's client).
    fn with_store<T: Send>(&self, f: impl FnOnce(&mut dyn Store) -> T + Send) -> T {
        std::thread::scope(|scope| scope.spawn(|| f(&mut *self.store())).join().unwrap())
    }
}

/// A form with the test report photo, as the apply page sends it.
async fn apply(b: &mut Browser, path: &str, fields: &[(&str, &str)]) -> Answer {
    let png = report_png();
    b.post_form_with_file(path, fields, Some(("report", "report.png", &png)))
        .await
}

/// A small real PNG: a photographed test report as far as the service can tell.
fn report_png() -> Vec<u8> {
    let mut out = Vec::new();
    image::GrayImage::from_pixel(8, 8, image::Luma([200]))
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// The form fields of a good application for district 371002 travelling through C101, with
/// plate `plate`.
fn good_application(plate: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![
        ("applicant_type", "运输人"),
        ("district", "371002"),
        ("plate", plate),
        ("trailer", ""),
        ("driver_name", "王五"),
        ("driver_id", "320102199210156657"),
        ("mobile", "13912345678"),
        ("occupants", "1"),
        ("category", "工业原材料"),
        ("cargo", "钢材"),
        ("origin", "环翠区张村镇"),
        ("destination", "文登区米山镇"),
        ("start", "2022-03-12T08:00"),
        ("end", "2022-03-13T08:00"),
        // Picked from the registry's checkpoints, one select per stop.
        ("route1", "C101"),
        ("route2", ""),
        ("test_sampled_at", "2022-03-11T20:00"),
        ("test_result", "阴性"),
    ]
}

/// `fields` with `name` set to `value`, and the CSRF token.
fn with<'a>(
    fields: &[(&'a str, &'a str)],
    csrf: &'a str,
    name: &str,
    value: &'a str,
) -> Vec<(&'a str, &'a str)> {
    let mut out = vec![("csrf", csrf)];
    out.extend(
        fields
            .iter()
            .map(|(k, v)| (*k, if *k == name { value } else { *v })),
    );
    out
}

#[tokio::test]
async fn signing_in_wrong_passwords_and_lockout() {
    let world = World::new();
    let mut b = Browser::new(&world.app);
    // Not signed in: pages send to the sign-in page, the API answers 401 in JSON.
    assert_eq!(b.get("/queue").await.location.as_deref(), Some("/login"));
    let a = b.get("/api/me").await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert!(a.json()["error"].is_string());
    // No CSRF token: refused before the password is looked at.
    let a = b
        .post_form("/login", &[("name", "reviewer1"), ("password", PASSWORD)])
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let csrf = b.csrf("/login").await;
    for name in ["reviewer1", "nobody"] {
        let a = b
            .post_form(
                "/login",
                &[
                    ("name", name),
                    ("password", "wrong password!"),
                    ("csrf", &csrf),
                ],
            )
            .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        assert!(a.body.contains("账号或口令错误"), "same answer for both");
    }
    for _ in 0..4 {
        b.post_form(
            "/login",
            &[
                ("name", "reviewer1"),
                ("password", "wrong again!!"),
                ("csrf", &csrf),
            ],
        )
        .await;
    }
    // Five wrong in a row: even the right password is refused for a while.
    let a = b
        .post_form(
            "/login",
            &[
                ("name", "reviewer1"),
                ("password", PASSWORD),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS, "{}", a.body);
    // Another account is not affected.
    let mut other = Browser::login(&world.app, "reviewer2").await;
    let me = other.get("/api/me").await.json();
    assert_eq!(me["role"], "city");
}

#[tokio::test]
async fn a_liaison_sees_and_forwards_only_their_district() {
    liaison_limits(&World::new()).await;
}

/// The service on PostgreSQL: its blocking client runs on tokio's blocking pool, and the
/// sessions live in the database.
#[test]
fn a_liaison_sees_and_forwards_only_their_district_on_postgres() {
    let Some(world) = World::postgres() else {
        return;
    };
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(liaison_limits(&world));
    // Dropped here, outside the runtime: closing a PostgreSQL connection blocks.
    drop(world);
}

async fn liaison_limits(world: &World) {
    let mut b = Browser::login(&world.app, "liaison-wd").await;
    let queue = b.get("/queue").await;
    assert!(queue.body.contains("WD-1") && queue.body.contains("WD-2"));
    assert!(
        !queue.body.contains("HC-1"),
        "another district's application"
    );
    // Lists mask the ID number and mobile; the hostile name is text.
    assert!(queue.body.contains("320102********6657"));
    assert!(!queue.body.contains("320102199210156657"));
    assert!(queue.body.contains("135****6498"));
    assert!(queue.body.contains("&lt;script&gt;"));
    assert!(!queue.body.contains("<script>alert"));
    // Another district's application, by direct URL and by API: not found.
    assert_eq!(
        b.get("/applications/HC-1").await.status,
        StatusCode::NOT_FOUND
    );
    let me = b.get("/api/me").await.json();
    let csrf = me["csrf"].as_str().unwrap().to_string();
    let a = b
        .post_json("/api/applications/HC-1/forward", Some(&csrf), Value::Null)
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.body);
    let listed = b.get("/api/applications").await.json();
    let nos: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["app_no"].as_str().unwrap())
        .collect();
    assert_eq!(nos, ["WD-1", "WD-2"]);
    // Without the CSRF token, nothing changes.
    let a = b.post_form("/applications/WD-2/forward", &[]).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = b
        .post_json("/api/applications/WD-2/forward", None, Value::Null)
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    // Its own district's: forwarded, under its own name.
    let csrf = b.csrf("/applications/WD-2").await;
    let a = b
        .post_form(
            "/applications/WD-2/forward",
            &[("csrf", &csrf), ("seen", "submitted")],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let stored = world.with_store(|s| s.get("WD-2").unwrap());
    assert_eq!(stored.forwarded_by.as_deref(), Some("liaison-wd"));
    // A liaison cannot approve, by form or API.
    let a = b
        .post_form(
            "/applications/WD-2/approve",
            &[("csrf", &csrf), ("seen", "forwarded")],
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = b
        .post_json(
            "/api/applications/WD-2/approve",
            Some(&csrf),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(a.json()["status"], 403);
    // An action that does not exist, or bad input: a clear 4xx, never a 500.
    let a = b
        .post_form("/applications/WD-1/delete", &[("csrf", &csrf)])
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let a = b
        .post_form(
            "/applications/WD-1/forward",
            &[("csrf", &csrf), ("seen", "nonsense")],
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn reviewers_decide_once_and_never_on_their_own_forward() {
    let world = World::new();
    let mut s = world.store();
    s.transition(
        &["WD-1".into(), "WD-2".into()],
        Action::Forward,
        None,
        "liaison-wd",
        4,
        None,
    )
    .unwrap();
    // reviewer2 forwarded HC-1 itself (say, from the command line with --by).
    s.transition(
        &["HC-1".into()],
        Action::Forward,
        None,
        "reviewer2",
        4,
        None,
    )
    .unwrap();
    let mut r1 = Browser::login(&world.app, "reviewer1").await;
    let mut r2 = Browser::login(&world.app, "reviewer2").await;
    let queue = r1.get("/queue").await;
    assert!(queue.body.contains("WD-1") && queue.body.contains("HC-1"));
    let only = r1.get("/api/applications?district=371002").await.json();
    assert_eq!(only.as_array().unwrap().len(), 1);
    let c1 = r1.csrf("/applications/WD-2").await;
    let c2 = r2.csrf("/applications/WD-2").await;
    // Both saw it forwarded; reviewer1 approves first, reviewer2's rejection is a conflict.
    let a = r1
        .post_form(
            "/applications/WD-2/approve",
            &[("csrf", &c1), ("seen", "forwarded")],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let a = r2
        .post_form(
            "/applications/WD-2/reject",
            &[("csrf", &c2), ("seen", "forwarded"), ("reason", "资料不全")],
        )
        .await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    assert!(a.body.contains("刚被他人改为"), "{}", a.body);
    let stored = world.store().get("WD-2").unwrap();
    assert_eq!(stored.decided_by.as_deref(), Some("reviewer1"));
    // A rejection needs a reason.
    let a = r1
        .post_form(
            "/applications/WD-1/reject",
            &[("csrf", &c1), ("seen", "forwarded"), ("reason", "  ")],
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    // reviewer2 cannot decide what it forwarded; reviewer1 can.
    let a = r2
        .post_json(
            "/api/applications/HC-1/approve",
            Some(&c2),
            serde_json::json!({"seen": "forwarded"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(a.json()["error"].as_str().unwrap().contains("自己转报"));
    let a = r1
        .post_json(
            "/api/applications/HC-1/reject",
            Some(&c1),
            serde_json::json!({"seen": "forwarded", "reason": "路线有误"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.json()["status"], "rejected");
    assert_eq!(a.json()["reject_reason"], "路线有误");
    let audit = world.store().audit(Some("HC-1")).unwrap();
    assert_eq!(audit.last().unwrap().actor, "reviewer1");
}

/// The application's page shows the planned arrival at the last checkpoint when it has one.
#[tokio::test]
async fn the_application_page_shows_the_planned_arrival() {
    let world = World::new();
    let mut b = Browser::login(&world.app, "liaison-wd").await;
    let page = b.get("/applications/WD-2").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("预计到达"), "{}", page.body);
    assert!(
        page.body.contains("2022-03-12 20:00（末站）"),
        "{}",
        page.body
    );
    let page = b.get("/applications/WD-1").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("预计到达"));
}

#[tokio::test]
async fn applicants_admins_and_disabled_accounts() {
    let world = World::new();
    // An applicant sees its organisation's applications only: none of the imported ones.
    let mut a = Browser::login(&world.app, "shunda").await;
    assert_eq!(
        a.get("/api/applications").await.json(),
        serde_json::json!([])
    );
    assert_eq!(
        a.get("/applications/WD-1").await.status,
        StatusCode::NOT_FOUND
    );
    let csrf = a.csrf("/queue").await;
    let r = a
        .post_form(
            "/applications/WD-1/forward",
            &[("csrf", &csrf), ("seen", "submitted")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // An admin sees everything but decides nothing.
    let mut admin = Browser::login(&world.app, "admin1").await;
    let all = admin.get("/api/applications").await.json();
    assert_eq!(all.as_array().unwrap().len(), 3);
    let csrf = admin.csrf("/queue").await;
    let r = admin
        .post_form(
            "/applications/WD-1/forward",
            &[("csrf", &csrf), ("seen", "submitted")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Disabling an account ends its session at the next request.
    let mut l = Browser::login(&world.app, "liaison-wd").await;
    assert_eq!(l.get("/queue").await.status, StatusCode::OK);
    world
        .store()
        .set_user_disabled("liaison-wd", true, "admin1", 9)
        .unwrap();
    assert_eq!(l.get("/queue").await.location.as_deref(), Some("/login"));
    // Signing out ends the session; its cookie no longer works.
    let csrf = admin.csrf("/queue").await;
    let old_cookie = admin.cookie.clone();
    let r = admin.post_form("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(r.location.as_deref(), Some("/login"));
    admin.cookie = old_cookie;
    assert_eq!(admin.get("/api/me").await.status, StatusCode::UNAUTHORIZED);
    // A body that is not the documented object: a 400 that says why.
    let mut r = Browser::login(&world.app, "reviewer1").await;
    let csrf = r.get("/api/me").await.json()["csrf"]
        .as_str()
        .unwrap()
        .to_string();
    let req = r
        .request("POST", "/api/applications/WD-1/approve")
        .header("x-csrf-token", &csrf)
        .body(Body::from("{not json"))
        .unwrap();
    let answer = r.send(req).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.json()["error"].as_str().unwrap().contains("JSON"));
}

#[tokio::test]
async fn public_pages_and_the_api_document() {
    let world = World::new();
    let mut b = Browser::new(&world.app);
    let page = b.get("/districts").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("文登区") && page.body.contains("0631-5200000"));
    assert!(page.body.contains("width=device-width"), "phone-sized");
    let doc = b.get("/api/openapi.json").await.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths: HashMap<String, Value> = serde_json::from_value(doc["paths"].clone()).unwrap();
    for p in [
        "/api/me",
        "/api/applications",
        "/api/applications/{app_no}/{action}",
    ] {
        assert!(paths.contains_key(p), "{p}");
    }
    assert_eq!(b.get("/no/such/page").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_applicant_applies_and_fixes_a_wrong_field() {
    let world = World::new();
    // Only applicant accounts apply.
    let mut liaison = Browser::login(&world.app, "liaison-hc").await;
    assert_eq!(liaison.get("/apply").await.status, StatusCode::FORBIDDEN);
    let mut a = Browser::login(&world.app, "shunda").await;
    let form = a.get("/apply").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("身份证号") && form.body.contains("环翠区"));
    let csrf = a.csrf("/apply").await;
    let good = good_application("鲁K77777");
    // The check digit is wrong (…6657 is right).
    let fields = with(&good, &csrf, "driver_id", "320102199210156658");
    let wrong = apply(&mut a, "/apply", &fields).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(wrong.body.contains("校验"), "{}", wrong.body);
    // What was typed stays in the form.
    assert!(wrong.body.contains("鲁K77777") && wrong.body.contains("王五"));
    assert_eq!(
        a.get("/api/applications").await.json(),
        serde_json::json!([])
    );
    // Corrected.
    let fields = with(&good, &csrf, "", "");
    // Without the test report: refused, beside the report's field.
    let no_report = a.post_form("/apply", &fields).await;
    assert_eq!(no_report.status, StatusCode::BAD_REQUEST);
    assert!(no_report.body.contains("请上传司机的核酸检测报告"));
    // A web page renamed report.png: refused by its content.
    let fake = a
        .post_form_with_file(
            "/apply",
            &fields,
            Some(("report", "report.png", b"<html><script>alert(1)</script>")),
        )
        .await;
    assert_eq!(fake.status, StatusCode::BAD_REQUEST);
    assert!(
        fake.body.contains("PNG 或 JPEG 图片或 PDF"),
        "{}",
        fake.body
    );
    assert_eq!(
        a.get("/api/applications").await.json(),
        serde_json::json!([])
    );
    let ok = apply(&mut a, "/apply", &fields).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let at = ok.location.unwrap();
    let app_no = at.trim_start_matches("/applications/").to_string();
    assert!(app_no.starts_with('W'));
    let mine = a.get("/api/applications").await.json();
    assert_eq!(mine[0]["app_no"], app_no.as_str());
    assert_eq!(mine[0]["status"], "submitted");
    assert_eq!(a.get(&at).await.status, StatusCode::OK);
    // The district's liaison has it in the queue; the other district's does not.
    assert!(liaison.get("/queue").await.body.contains(&app_no));
    let mut other = Browser::login(&world.app, "liaison-wd").await;
    assert!(!other.get("/queue").await.body.contains(&app_no));
    // The same truck again in an overlapping window: refused, beside the plate.
    let csrf2 = a.csrf("/apply").await;
    let fields = with(&good, &csrf2, "", "");
    let again = apply(&mut a, "/apply", &fields).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(
        again.body.contains(&app_no),
        "names the overlapping application"
    );
    let stored = world.store().get(&app_no).unwrap();
    assert_eq!(stored.organisation.as_deref(), Some("威海顺达物流"));
    assert_eq!(stored.imported_by, "shunda");
}

/// The chain in one service: an applicant applies, the liaison forwards, a reviewer approves
/// and issues with the key the service was started with, the applicant downloads the pass,
/// and its QR verifies green at a checkpoint on the route.
#[tokio::test]
async fn apply_forward_approve_issue_download_and_verify() {
    use issuer::checkpass::keys::SigningKey;
    use issuer::checkpass::verdict::Level;
    // The sample's day: 2022-03-12 09:00 (UTC+8).
    issuer::clock::simulate(1_647_046_800);
    let world = World::new();
    let key = SigningKey::generate();
    let mut s = world.store();
    s.set_meta("issuer", "CN-WH").unwrap();
    s.set_meta("issuer_name", "威海市交通运输保障专班").unwrap();
    s.add_key(
        &issuer::domain::KeyRecord {
            kid: key.kid().to_hex(),
            role: "signing".into(),
            public_key: key.public_key().to_hex(),
            file: "unused".into(),
            status: "active".into(),
            created_at: 1_646_000_000,
            retired_at: None,
            compromised_at: None,
            compromised_since: None,
            compromise_reason: None,
            scope_districts: String::new(),
            scope_categories: String::new(),
        },
        "admin",
        1,
    )
    .unwrap();
    let passes = world._dir.path().join("passes");
    let mut state = AppState::new(world.location.clone(), 2).unwrap();
    state.passes_dir = passes.clone();
    state.set_signer(Some(issuer::web::WebSigner {
        kid: key.kid().to_hex(),
        key,
    }));
    let app = router(state);
    let browser = |cookie: Option<String>| Browser {
        app: app.clone(),
        cookie,
    };
    let login = |name: &'static str| {
        let mut b = browser(None);
        async move {
            let csrf = b.csrf("/login").await;
            let a = b
                .post_form(
                    "/login",
                    &[("name", name), ("password", PASSWORD), ("csrf", &csrf)],
                )
                .await;
            assert_eq!(a.status, StatusCode::SEE_OTHER);
            b
        }
    };
    let mut applicant = login("shunda").await;
    let csrf = applicant.csrf("/apply").await;
    let good = good_application("鲁K88888");
    let ok = apply(&mut applicant, "/apply", &with(&good, &csrf, "", "")).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let page = ok.location.unwrap();
    let app_no = page.trim_start_matches("/applications/").to_string();
    // Not issued yet: nothing to download.
    let file = format!("{page}/files/qr.txt");
    assert_eq!(applicant.get(&file).await.status, StatusCode::NOT_FOUND);

    let mut liaison = login("liaison-hc").await;
    let csrf = liaison.csrf(&page).await;
    let a = liaison
        .post_form(
            &format!("{page}/forward"),
            &[("csrf", &csrf), ("seen", "submitted")],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    let mut reviewer = login("reviewer1").await;
    let csrf = reviewer.csrf(&page).await;
    let a = reviewer
        .post_form(
            &format!("{page}/approve"),
            &[("csrf", &csrf), ("seen", "forwarded")],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    // A liaison cannot issue; the reviewer can.
    let csrf_l = liaison.csrf(&page).await;
    let a = liaison
        .post_form(&format!("{page}/issue"), &[("csrf", &csrf_l)])
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = reviewer
        .post_form(&format!("{page}/issue"), &[("csrf", &csrf)])
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let stored = world.store().get(&app_no).unwrap();
    assert_eq!(stored.status, issuer::workflow::Status::Issued);
    assert_eq!(stored.pass.as_ref().unwrap().issued_by, "reviewer1");

    // The applicant downloads it; the files are rendered again if this machine lacks them.
    std::fs::remove_dir_all(&passes).unwrap();
    let qr = applicant.get(&file).await;
    assert_eq!(qr.status, StatusCode::OK);
    let png = applicant.get(&format!("{page}/files/pass.pdf")).await;
    assert!(png.body.starts_with("%PDF"));
    // Another organisation's account or another district's liaison: not found.
    let mut other = login("liaison-wd").await;
    assert_eq!(other.get(&file).await.status, StatusCode::NOT_FOUND);
    // Green at C101, the checkpoint on its route, when the truck travels.
    let bundle = issuer::trust::contents(&*world.store(), 1_647_046_800).unwrap();
    let verdict = issuer::checkpass::rules::verify(qr.body.trim(), &bundle, "C101", 1_647_050_000);
    assert_eq!(verdict.level(), Level::Green, "{:?}", verdict.reasons);

    // The driver's SMS (the national pass number, how to get the pass) is in the city's
    // outbox; the pass is in the print batch, listed by its number too.
    let outbox = reviewer.get("/outbox?kind=issued").await;
    assert_eq!(outbox.status, StatusCode::OK);
    let serial = issuer::checkpass::number::PassNumber::new(
        stored.data.district,
        stored.pass.as_ref().unwrap().serial,
    )
    .unwrap()
    .to_string();
    assert!(outbox.body.contains(&serial), "{}", outbox.body);
    assert!(outbox.body.contains("在线下载"));
    let pdf = reviewer.get("/print.pdf").await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert!(pdf.body.starts_with("%PDF"));
    assert!(reviewer.get("/print").await.body.contains(&serial));
    assert_eq!(
        applicant.get("/print.pdf").await.status,
        StatusCode::FORBIDDEN
    );

    // Revoked by a reviewer, with a reason: the pass is no longer offered, and the next
    // bundle carries its serial.
    let a = reviewer
        .post_form(
            &format!("{page}/revoke"),
            &[("csrf", &csrf), ("reason", " ")],
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let a = liaison
        .post_form(
            &format!("{page}/revoke"),
            &[("csrf", &csrf_l), ("reason", "丢失")],
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = reviewer
        .post_form(
            &format!("{page}/revoke"),
            &[("csrf", &csrf), ("reason", "驾驶员更换")],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert_eq!(applicant.get(&file).await.status, StatusCode::CONFLICT);
    let revoked = world.store().get(&app_no).unwrap();
    assert_eq!(revoked.status, issuer::workflow::Status::Revoked);
    let serial = revoked.pass.unwrap().serial;
    let bundle = issuer::trust::contents(&*world.store(), 1_647_046_800).unwrap();
    let verdict = issuer::checkpass::rules::verify(qr.body.trim(), &bundle, "C101", 1_647_050_000);
    assert_eq!(
        verdict.level(),
        Level::Red,
        "{serial}: {:?}",
        verdict.reasons
    );
}

/// Accounts from the web: only an admin reaches the pages, by URL or form; a new account can
/// sign in at once; disabling one ends its session; an admin cannot disable itself.
#[tokio::test]
async fn the_admin_manages_accounts() {
    let world = World::new();
    let mut reviewer = Browser::login(&world.app, "reviewer1").await;
    assert_eq!(
        reviewer.get("/admin/users").await.status,
        StatusCode::FORBIDDEN
    );
    let csrf_r = reviewer.csrf("/queue").await;
    let a = reviewer
        .post_form(
            "/admin/users",
            &[
                ("csrf", &csrf_r),
                ("name", "sneaky"),
                ("role", "admin"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = reviewer
        .post_form("/admin/users/reviewer2/disable", &[("csrf", &csrf_r)])
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);

    let mut admin = Browser::login(&world.app, "admin1").await;
    let page = admin.get("/admin/users").await;
    assert!(page.body.contains("liaison-wd") && page.body.contains("区市联络员"));
    let csrf = admin.csrf("/admin/users").await;
    // Bad input: clear 400s.
    for (field, value) in [("role", "emperor"), ("district", "abc"), ("name", "x")] {
        let mut form = vec![
            ("csrf", csrf.as_str()),
            ("name", "liaison-rc"),
            ("role", "district"),
            ("district", "371002"),
            ("password", PASSWORD),
        ];
        for f in form.iter_mut() {
            if f.0 == field {
                f.1 = value;
            }
        }
        let a = admin.post_form("/admin/users", &form).await;
        assert_eq!(
            a.status,
            StatusCode::BAD_REQUEST,
            "{field}={value}: {}",
            a.body
        );
    }
    let a = admin
        .post_form(
            "/admin/users",
            &[
                ("csrf", &csrf),
                ("name", "liaison-rc"),
                ("role", "district"),
                ("district", "371002"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let mut new = Browser::login(&world.app, "liaison-rc").await;
    assert!(new.get("/queue").await.body.contains("HC-1"));
    let a = admin
        .post_form("/admin/users/liaison-rc/disable", &[("csrf", &csrf)])
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(new.get("/queue").await.location.as_deref(), Some("/login"));
    let a = admin
        .post_form("/admin/users/admin1/disable", &[("csrf", &csrf)])
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let a = admin
        .post_form("/admin/users/nobody/disable", &[("csrf", &csrf)])
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let audit = world.store().audit(None).unwrap();
    assert!(audit
        .iter()
        .any(|e| e.action == "user.disable" && e.actor == "admin1"));
}

/// A liaison uploads the district's spreadsheet: its own rows are stored, another district's
/// and bad rows are listed with their reasons; only liaisons may upload; a file that is not a
/// spreadsheet is a clear 400.
#[tokio::test]
async fn a_liaison_uploads_the_districts_spreadsheet() {
    let world = World::new();
    const HEADER: &str = "申请编号,申请人类型,所属区市,车牌号,挂车号,驾驶人员姓名,身份证号,联系方式,随车人员数,货物类别,货物名称,起运地点,运送地点,拟通行开始时间,拟通行结束时间,拟通行路线,核酸采样时间,核酸检测结果";
    let row = |no: &str, district: &str, plate: &str| {
        format!(
            "{no},运输人,{district},{plate},,王五,320102199210156657,13912345678,1,工业原材料,钢材,甲地,乙地,2022-03-12 08:00,2022-03-13 08:00,C101,2022-03-11 20:00,阴性"
        )
    };
    let csv = [
        HEADER.to_string(),
        row("UP-1", "371003", "鲁K60001"),
        row("UP-2", "371002", "鲁K60002"),
        row("UP-3", "371003", ""),
    ]
    .join("\n");
    let mut reviewer = Browser::login(&world.app, "reviewer1").await;
    assert_eq!(reviewer.get("/upload").await.status, StatusCode::FORBIDDEN);
    let csrf_r = reviewer.csrf("/queue").await;
    let refused = reviewer
        .post_form_with_file(
            "/upload",
            &[("csrf", &csrf_r)],
            Some(("file", "a.csv", csv.as_bytes())),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let mut l = Browser::login(&world.app, "liaison-wd").await;
    let csrf = l.csrf("/upload").await;
    // Without the token: refused, nothing stored.
    let no_token = l
        .post_form_with_file(
            "/upload",
            &[("csrf", "wrong")],
            Some(("file", "a.csv", csv.as_bytes())),
        )
        .await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    let done = l
        .post_form_with_file(
            "/upload",
            &[("csrf", &csrf)],
            Some(("file", "a.csv", csv.as_bytes())),
        )
        .await;
    assert_eq!(
        done.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        done.body
    );
    assert!(done.body.contains("导入 1 行"), "{}", done.body);
    assert!(done.body.contains("UP-2") && done.body.contains("不属于本区市"));
    assert!(done.body.contains("UP-3") && done.body.contains("缺少车牌号"));
    let stored = world.store().get("UP-1").unwrap();
    assert_eq!(stored.imported_by, "liaison-wd");
    assert!(matches!(
        world.store().get("UP-2"),
        Err(issuer::store::StoreError::NoSuchApplication(_))
    ));
    // Not a spreadsheet: a clear 400.
    let bad = l
        .post_form_with_file(
            "/upload",
            &[("csrf", &csrf)],
            Some(("file", "x.csv", "\u{1}\u{2}garbage".as_bytes())),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
}

/// A liaison sends an online application back with a reason; only its organisation corrects
/// and resubmits it; the test report is seen by those who check it and by nobody else.
#[tokio::test]
async fn a_returned_application_is_corrected_and_its_report_kept_private() {
    let world = World::new();
    world.with_store(|s| {
        let u = NewUser::new("other-org", Role::Applicant, None, Some("别家公司")).unwrap();
        s.add_user(&u, &hash_password(PASSWORD).unwrap(), "admin", 3)
            .unwrap();
    });
    let mut a = Browser::login(&world.app, "shunda").await;
    let csrf = a.csrf("/apply").await;
    let good = good_application("鲁K55555");
    let ok = apply(&mut a, "/apply", &with(&good, &csrf, "", "")).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let page = ok.location.unwrap();
    let app_no = page.trim_start_matches("/applications/").to_string();
    let report = format!("{page}/report");

    // The report: to the applicant, its district's liaison and the city; sent as what it is.
    let mut liaison = Browser::login(&world.app, "liaison-hc").await;
    let seen = liaison.get(&page).await;
    assert!(seen.body.contains("查看报告（PNG"), "{}", seen.body);
    let res = liaison
        .app
        .clone()
        .oneshot(liaison.request("GET", &report).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "image/png");
    assert_eq!(res.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(res.headers()[header::CONTENT_SECURITY_POLICY], "sandbox");
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(bytes.as_ref(), report_png().as_slice());
    assert_eq!(a.get(&report).await.status, StatusCode::OK);
    let mut reviewer = Browser::login(&world.app, "reviewer1").await;
    assert_eq!(reviewer.get(&report).await.status, StatusCode::OK);
    let mut other_district = Browser::login(&world.app, "liaison-wd").await;
    assert_eq!(
        other_district.get(&report).await.status,
        StatusCode::NOT_FOUND
    );
    let mut other_org = Browser::login(&world.app, "other-org").await;
    assert_eq!(other_org.get(&report).await.status, StatusCode::NOT_FOUND);
    let mut admin = Browser::login(&world.app, "admin1").await;
    assert_eq!(admin.get(&report).await.status, StatusCode::FORBIDDEN);

    // Returning needs a reason, the application's own liaison, and an applicant account.
    let csrf_l = liaison.csrf(&page).await;
    let no_reason = liaison
        .post_form(
            &format!("{page}/return"),
            &[("csrf", &csrf_l), ("seen", "submitted")],
        )
        .await;
    assert_eq!(no_reason.status, StatusCode::BAD_REQUEST);
    let csrf_o = other_district.csrf("/queue").await;
    let by_other = other_district
        .post_form(
            &format!("{page}/return"),
            &[("csrf", &csrf_o), ("reason", "x")],
        )
        .await;
    assert_eq!(by_other.status, StatusCode::NOT_FOUND);
    let imported = liaison
        .post_form(
            "/applications/HC-1/return",
            &[("csrf", &csrf_l), ("reason", "照片不清")],
        )
        .await;
    assert_eq!(imported.status, StatusCode::FORBIDDEN, "{}", imported.body);
    let back = liaison
        .post_form(
            &format!("{page}/return"),
            &[
                ("csrf", &csrf_l),
                ("seen", "submitted"),
                ("reason", "核酸报告照片不清，请重新拍摄"),
            ],
        )
        .await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.body);
    assert!(!liaison.get("/queue").await.body.contains(&app_no));

    // The applicant's list says why, with the way to correct it; nobody else may correct it.
    let list = a.get("/queue").await.body;
    assert!(list.contains("已退回待修改") && list.contains("核酸报告照片不清"));
    let amend = format!("{page}/amend");
    assert!(list.contains(&amend));
    assert_eq!(other_org.get(&amend).await.status, StatusCode::NOT_FOUND);
    assert_eq!(liaison.get(&amend).await.status, StatusCode::FORBIDDEN);
    let form = a.get(&amend).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("鲁K55555") && form.body.contains("2022-03-12T08:00"));
    assert!(
        form.body.contains(r#"<option value="C101" selected>"#),
        "the route's stop is picked again"
    );
    let csrf = a.csrf(&amend).await;
    // A wrong field is shown beside it, as on the first submission; nothing changes.
    let wrong = a
        .post_form_with_file(&amend, &with(&good, &csrf, "mobile", "1391234"), None)
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(wrong.body.contains("已上传过报告"));
    let corrected = with(&good, &csrf, "cargo", "冷链蔬菜");
    let done = a.post_form_with_file(&amend, &corrected, None).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let stored = world.store().get(&app_no).unwrap();
    assert_eq!(stored.status, issuer::workflow::Status::Submitted);
    assert_eq!(stored.data.cargo, "冷链蔬菜");
    assert_eq!(stored.reject_reason, None);
    // The report was kept; the application is back in its district's queue, once.
    assert!(world.store().report_info(&app_no).unwrap().is_some());
    assert!(liaison.get("/queue").await.body.contains(&app_no));
    assert_eq!(
        a.get(&amend).await.status,
        StatusCode::CONFLICT,
        "only a returned application is corrected"
    );
    let audit = world.store().audit(Some(&app_no)).unwrap();
    let actions: Vec<(&str, &str)> = audit
        .iter()
        .map(|e| (e.action.as_str(), e.actor.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("import", "shunda"),
            ("report", "shunda"),
            ("return", "liaison-hc"),
            ("resubmit", "shunda")
        ]
    );
}

/// The city's desk: the queue filtered, many decided at once (each on its own), rejections in
/// the SMS outbox with their reason, and none of it open to another role.
#[tokio::test]
async fn the_city_decides_many_and_tells_the_drivers() {
    let world = World::new();
    world.with_store(|s| {
        s.set_meta("issuer", "CN-WH").unwrap();
        s.set_meta("issuer_name", "威海市交通运输保障专班").unwrap();
        s.transition(
            &["HC-1".into()],
            Action::Forward,
            None,
            "liaison-hc",
            4,
            None,
        )
        .unwrap();
        s.transition(
            &["WD-1".into()],
            Action::Forward,
            None,
            "liaison-wd",
            4,
            None,
        )
        .unwrap();
        // As if reviewer1 had forwarded it: the two-person rule must hold in bulk too.
        s.transition(
            &["WD-2".into()],
            Action::Forward,
            None,
            "reviewer1",
            4,
            None,
        )
        .unwrap();
    });
    let mut r = Browser::login(&world.app, "reviewer1").await;
    let all = r.get("/queue").await.body;
    assert!(all.contains("HC-1") && all.contains("WD-1") && all.contains("WD-2"));
    assert!(
        all.contains("name=\"app\""),
        "checkboxes in the forwarded queue"
    );
    let wd = r.get("/queue?district=371003").await.body;
    assert!(!wd.contains(">HC-1<") && wd.contains(">WD-1<"));
    let plate = r.get("/queue?plate=%E9%B2%81K00002").await.body;
    assert!(plate.contains(">WD-1<") && !plate.contains(">WD-2<"));
    assert_eq!(
        r.get("/queue?status=nonsense").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        r.get("/queue?district=abc").await.status,
        StatusCode::BAD_REQUEST
    );

    let csrf = r.csrf("/queue").await;
    let no_reason = r
        .post_form(
            "/decide",
            &[("csrf", &csrf), ("action", "reject"), ("app", "WD-1")],
        )
        .await;
    assert_eq!(no_reason.status, StatusCode::BAD_REQUEST);
    // A liaison cannot decide, not even in bulk; nor without the token.
    let mut l = Browser::login(&world.app, "liaison-wd").await;
    let csrf_l = l.csrf("/queue").await;
    let by_liaison = l
        .post_form(
            "/decide",
            &[("csrf", &csrf_l), ("action", "approve"), ("app", "WD-1")],
        )
        .await;
    assert_eq!(by_liaison.status, StatusCode::FORBIDDEN);
    let no_token = r
        .post_form("/decide", &[("action", "approve"), ("app", "WD-1")])
        .await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    assert_eq!(
        world.store().get("WD-1").unwrap().status,
        issuer::workflow::Status::Forwarded
    );
    // Three at once: two approved, the own forward refused and said so.
    let done = r
        .post_form(
            "/decide",
            &[
                ("csrf", &csrf),
                ("action", "approve"),
                ("app", "HC-1"),
                ("app", "WD-2"),
                ("app", "NO-SUCH"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::CONFLICT, "{}", done.body);
    assert!(
        done.body.contains("批准 1 份，未完成 2 份"),
        "{}",
        done.body
    );
    assert!(done.body.contains("不能审批自己转报的申请"));
    assert_eq!(
        world.store().get("HC-1").unwrap().status,
        issuer::workflow::Status::Approved
    );
    assert_eq!(
        world.store().get("WD-2").unwrap().status,
        issuer::workflow::Status::Forwarded
    );
    let rejected = r
        .post_form(
            "/decide",
            &[
                ("csrf", &csrf),
                ("action", "reject"),
                ("reason", "货物不属于重点物资"),
                ("app", "WD-1"),
            ],
        )
        .await;
    assert_eq!(rejected.status, StatusCode::OK, "{}", rejected.body);

    // The rejection reaches the outbox with its reason; the page shows the hostile driver
    // name as text and masks the phone, the gateway's file has it in full.
    let outbox = r.get("/outbox?kind=rejected").await;
    assert_eq!(outbox.status, StatusCode::OK, "{}", outbox.body);
    assert!(outbox.body.contains("货物不属于重点物资"));
    assert!(outbox.body.contains("135****6498"));
    assert!(!outbox.body.contains("<script>alert"));
    assert!(outbox.body.contains("&lt;script&gt;"));
    let csv = r.get("/outbox.csv?kind=rejected&district=371003").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.body.starts_with('\u{feff}'));
    assert!(csv.body.contains("13551566498") && csv.body.contains("WD-1"));
    assert!(csv.body.contains("货物不属于重点物资"));
    assert_eq!(
        r.get("/outbox.csv?kind=rejected&district=371002")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        r.get("/outbox?since=yesterday").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(r.get("/print.pdf").await.status, StatusCode::NOT_FOUND);
    // Only the city.
    for name in ["liaison-wd", "shunda", "admin1"] {
        let mut b = Browser::login(&world.app, name).await;
        for path in ["/outbox", "/outbox.csv", "/print", "/print.pdf"] {
            assert_eq!(
                b.get(path).await.status,
                StatusCode::FORBIDDEN,
                "{name} {path}"
            );
        }
    }
}

/// Chinese first; English on request, remembered by a cookie, for the pages and the form's
/// problems alike; the switch goes back only to a page of this site.
#[tokio::test]
async fn english_on_request() {
    let world = World::new();
    let mut anon = Browser::new(&world.app);
    let zh = anon.get("/login").await.body;
    assert!(zh.contains("lang=\"zh-CN\"") && zh.contains("口令"));
    let req = anon
        .request("GET", "/lang?to=en")
        .header(header::REFERER, "http://127.0.0.1:8080/districts?x=1")
        .body(Body::empty())
        .unwrap();
    let res = anon.app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()[header::LOCATION], "/districts?x=1");
    let cookie = res.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.starts_with("lang=en;"), "{cookie}");
    let away = anon.get("/lang?to=en&back=//evil.example/").await;
    assert_eq!(away.location.as_deref(), Some("/"));

    let mut a = Browser::login(&world.app, "shunda").await;
    a.cookie = Some(format!("{}; lang=en", a.cookie.clone().unwrap()));
    let form = a.get("/apply").await.body;
    assert!(form.contains("lang=\"en\""));
    assert!(form.contains("Driver name") && form.contains("Test report"));
    assert!(!form.contains("驾驶人员姓名"));
    let csrf = a.csrf("/apply").await;
    let good = good_application("鲁K44444");
    let wrong = apply(
        &mut a,
        "/apply",
        &with(&good, &csrf, "driver_id", "320102199210156658"),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(wrong.body.contains("Not submitted"), "{}", wrong.body);
    assert!(
        wrong.body.contains("check character is wrong"),
        "{}",
        wrong.body
    );
    let list = a.get("/queue").await.body;
    assert!(list.contains("Our applications") && list.contains("中文"));
}

/// Bad input is a 4xx with a reason, never a 500: every route, as every role and signed out,
/// with bodies and queries that do not read — with and without a valid CSRF token, so the
/// handlers' own parsing is reached, not only the token check.
#[tokio::test]
async fn no_route_answers_500_to_bad_input() {
    let world = World::new();
    world.with_store(|s| {
        s.set_meta("issuer", "CN-WH").unwrap();
    });
    // Signing out last: it ends the session the others run in.
    let posts = [
        "/login",
        "/apply",
        "/upload",
        "/decide",
        "/applications/HC-1/forward",
        "/applications/HC-1/approve",
        "/applications/HC-1/reject",
        "/applications/HC-1/return",
        "/applications/HC-1/issue",
        "/applications/HC-1/revoke",
        "/applications/HC-1/nonsense",
        "/applications/%00%ff/approve",
        "/applications/HC-1/amend",
        "/admin/users",
        "/admin/users/reviewer2/disable",
        "/admin/users/%2e%2e/enable",
        "/admin/keys/rotate",
        "/admin/keys/revoke",
        "/admin/bundle",
        "/admin/registry",
        "/admin/policy",
        "/api/applications/HC-1/approve",
        "/scans",
        "/findings/revoke",
        "/logout",
    ];
    let gets = [
        "/",
        "/districts",
        "/queue?status=%ff&district=-1&plate=%00",
        "/queue?district=99999999999999999999",
        "/applications/..%2f..%2fetc%2fpasswd",
        "/applications/HC-1/files/..%2fissuer.db",
        "/applications/HC-1/files/qr.png",
        "/applications/HC-1/report",
        "/applications/HC-1/amend",
        "/outbox?since=%ff&kind=%00",
        "/outbox.csv?district=abc",
        "/print.pdf?since=2022-13-45",
        "/admin/audit?from=yesterday&to=%ff&after=-5",
        "/admin/keys",
        "/admin/bundle",
        "/admin/registry",
        "/admin/policy",
        "/lang?to=%ff&back=%ff",
        "/api/applications?status=%ff",
        "/api/me",
        "/findings?since=%ff&simulated=%00",
        "/findings?since=2022-13-45",
        "/scans",
    ];
    let bodies: [(&str, Vec<u8>); 6] = [
        ("application/x-www-form-urlencoded", b"".to_vec()),
        ("application/x-www-form-urlencoded", b"%%%=&&=%zz".to_vec()),
        (
            "application/x-www-form-urlencoded",
            vec![0xff, 0xfe, b'=', 0x80],
        ),
        ("multipart/form-data", b"--x\r\n".to_vec()),
        (
            "multipart/form-data; boundary=B",
            b"--B\r\ngarbage".to_vec(),
        ),
        ("application/json", b"{\"seen\": 5, \"reason\": [".to_vec()),
    ];
    let mut browsers = vec![Browser::new(&world.app)];
    for name in ["shunda", "liaison-hc", "reviewer1", "admin1"] {
        browsers.push(Browser::login(&world.app, name).await);
    }
    for b in &mut browsers {
        let csrf = if b.cookie.is_some() {
            b.csrf("/queue").await
        } else {
            b.csrf("/login").await
        };
        for path in gets {
            let a = b.get(path).await;
            assert!(
                a.status.as_u16() < 500,
                "GET {path}: {} {}",
                a.status,
                a.body
            );
        }
        for path in posts {
            for (ctype, body) in &bodies {
                for token in [None, Some(csrf.as_str())] {
                    let mut body = body.clone();
                    if let (Some(t), true) = (token, ctype.starts_with("application/x-www")) {
                        body.extend_from_slice(format!("&csrf={t}&seen=%ff&action=x").as_bytes());
                    }
                    let mut req = b.request("POST", path).header(header::CONTENT_TYPE, *ctype);
                    if let Some(t) = token {
                        req = req.header("x-csrf-token", t);
                    }
                    let a = b.send(req.body(Body::from(body)).unwrap()).await;
                    assert!(
                        a.status.as_u16() < 500,
                        "POST {path} ({ctype}): {} {}",
                        a.status,
                        a.body
                    );
                }
            }
        }
    }
}

/// A signed scan-log file of `device` with two green scans of serial 777 (never issued here)
/// at C101.
fn forged_pass_log(device: &issuer::checkpass::keys::SigningKey) -> Vec<u8> {
    use issuer::checkpass::logfile::{sign_log, LogRecord, ScanLogFile};
    use issuer::checkpass::pass::Serial;
    use issuer::checkpass::scanlog::{link, EntryKind};
    let mut prev = [0u8; 32];
    let entries = (1..=2)
        .map(|id| {
            let mut r = LogRecord {
                id,
                kind: EntryKind::Scan,
                at: 1_647_100_000 + id * 600,
                checkpoint: "C101".into(),
                officer: Some("王警官".into()),
                serial: Some(Serial(777).to_string()),
                plate: Some("鲁K77777".into()),
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
        device: device.public_key(),
        exported_at: 1_647_101_500,
        prev: [0; 32],
        entries,
    };
    sign_log(&log, device).unwrap()
}

/// Only city reviewers import checkpoint logs, see the findings and revoke from them — every
/// other role is refused by direct URL; a device is accepted only when named; a file twice
/// adds nothing; bad input is a clear 4xx.
#[tokio::test]
async fn the_city_imports_checkpoint_logs_and_revokes_from_a_finding() {
    let world = World::new();
    let device = issuer::checkpass::keys::SigningKey::from_seed(&[3; 32]);
    let kid = device.public_key().kid().to_hex();
    let file = forged_pass_log(&device);
    for name in ["liaison-wd", "admin1", "shunda"] {
        let mut b = Browser::login(&world.app, name).await;
        for path in ["/findings", "/scans", "/findings?simulated=1"] {
            assert_eq!(
                b.get(path).await.status,
                StatusCode::FORBIDDEN,
                "{name} {path}"
            );
        }
        let csrf = b.csrf("/queue").await;
        let up = b
            .post_form_with_file(
                "/scans",
                &[("csrf", &csrf), ("accept", &kid)],
                Some(("file", "c101.cose", &file)),
            )
            .await;
        assert_eq!(up.status, StatusCode::FORBIDDEN, "{name}");
        let revoke = b
            .post_form(
                "/findings/revoke",
                &[("csrf", &csrf), ("id", "not_issued_here/00000-00777-5")],
            )
            .await;
        assert_eq!(revoke.status, StatusCode::FORBIDDEN, "{name}");
    }
    assert!(world.with_store(|s| s.devices().unwrap()).is_empty());

    let mut r = Browser::login(&world.app, "reviewer1").await;
    let csrf = r.csrf("/scans").await;
    let unknown = r
        .post_form_with_file(
            "/scans",
            &[("csrf", &csrf)],
            Some(("file", "c101.cose", &file)),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        unknown.body.contains(&format!("设备 {kid} 尚未登记")),
        "{}",
        unknown.body
    );
    let accepted = r
        .post_form_with_file(
            "/scans",
            &[("csrf", &csrf), ("accept", &kid), ("label", "C101 一号机")],
            Some(("file", "c101.cose", &file)),
        )
        .await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
    assert!(accepted.body.contains("新增 2 条"), "{}", accepted.body);
    let again = r
        .post_form_with_file(
            "/scans",
            &[("csrf", &csrf)],
            Some(("file", "c101.cose", &file)),
        )
        .await;
    assert!(
        again.body.contains("新增 0 条，已导入过 2 条"),
        "{}",
        again.body
    );
    let garbage = r
        .post_form_with_file(
            "/scans",
            &[("csrf", &csrf)],
            Some(("file", "x.cose", b"\x00garbage")),
        )
        .await;
    assert_eq!(garbage.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        garbage.body.contains("扫描记录文件格式错误"),
        "{}",
        garbage.body
    );
    assert_eq!(
        r.get("/findings?since=yesterday").await.status,
        StatusCode::BAD_REQUEST
    );

    let serial = issuer::checkpass::pass::Serial(777).to_string();
    let id = format!("not_issued_here/{serial}");
    let page = r.get("/findings").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&id), "{}", page.body);
    assert!(page.body.contains("非本市签发的通行证"), "{}", page.body);
    let csrf = r.csrf("/findings").await;
    let done = r
        .post_form("/findings/revoke", &[("csrf", &csrf), ("id", &id)])
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body.contains("已撤销通行证"), "{}", done.body);
    let revoked = world.with_store(|s| s.revoked_serials().unwrap());
    assert_eq!(revoked, vec![issuer::checkpass::pass::Serial(777)]);
    let missing = r
        .post_form(
            "/findings/revoke",
            &[("csrf", &csrf), ("id", "clone/nothing")],
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}
