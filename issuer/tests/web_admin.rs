//! The admin's pages (keys, registry, policy, trust bundle, audit trail), by direct URL and form
//! in-process over a real SQLite store with real sealed keys: only an admin reaches them, every
//! change needs the session's CSRF token, and each action does what its command does — a
//! rotation moves the web's signer to the new key, a compromise stops web issuing, a downloaded
//! bundle opens with the root key, the audit filters select the right lines.

#[path = "common/browser.rs"]
mod browser;

use axum::http::{header, StatusCode};
use browser::{Browser, PASSWORD};
use issuer::accounts::{hash_password, NewUser, Role};
use issuer::checkpass::keys::{KeyRole, PublicKey, SigningKey};
use issuer::checkpass::pass::Category;
use issuer::checkpass::scope::KeyScope;
use issuer::checkpass::verdict::Level;
use issuer::domain::{AuditEntry, AuditFilter, Checkpoint, District};
use issuer::store::{self, Location, Store};
use issuer::validate::NewApplication;
use issuer::web::{router, AppState, WebSigner};
use issuer::workflow::Action;

/// The sealed keys' passphrase.
const PASSPHRASE: &str = "签发密钥的口令 passphrase";
/// The issuer's clock: 2022-03-12 09:00 (UTC+8), inside the applications' windows.
const NOW: i64 = 1_647_046_800;
/// When a truck passes its checkpoint.
const AT_CHECKPOINT: i64 = 1_647_050_000;

fn app(no: &str, district: u32, plate: &str, route: &str) -> NewApplication {
    NewApplication {
        app_no: no.into(),
        applicant_type: "运输人".into(),
        district,
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
        start_at: 1_647_043_200,
        end_at: 1_647_129_600,
        route: vec![route.into()],
        test_sampled_at: 1_647_000_000,
        test_result: "阴性".into(),
        arrive_by: None,
        row: 2,
    }
}

fn district(code: u32, name: &str) -> District {
    District {
        code,
        name: name.into(),
        contact: "联络人".into(),
        phone: "0631-5200000".into(),
        email: "a@example.cn".into(),
    }
}

fn checkpoint(code: &str, district: u32) -> Checkpoint {
    Checkpoint {
        code: code.into(),
        name: format!("{code} 站"),
        district,
        road: "G1".into(),
    }
}

/// A data directory as `issuer init` leaves it (a root and a signing key sealed under
/// [`PASSPHRASE`], two districts, two checkpoints), two approved applications through C101 and
/// a submitted one through C102, an account of every role, and the service started with
/// `--sign` (or without).
struct World {
    dir: tempfile::TempDir,
    location: Location,
    root: PublicKey,
    signing_kid: String,
    app: axum::Router,
}

impl World {
    fn new(sign: bool) -> World {
        issuer::clock::simulate(NOW);
        let dir = tempfile::tempdir().unwrap();
        let location = Location::Sqlite(dir.path().join("issuer.db"));
        let keys_dir = dir.path().join("keys");
        std::fs::create_dir(&keys_dir).unwrap();
        let mut s = store::open(&location).unwrap();
        s.set_meta("issuer_name", "威海市交通运输保障专班").unwrap();
        let root = SigningKey::generate();
        let signing = SigningKey::generate();
        for (key, role) in [(&root, KeyRole::Root), (&signing, KeyRole::Signing)] {
            let file = issuer::keyring::store_secret(&keys_dir, key, role, PASSPHRASE).unwrap();
            s.add_key(
                &issuer::keys::record(key, role, file, NOW - 86_400),
                "init",
                1,
            )
            .unwrap();
        }
        s.load_registry(
            &[district(371002, "环翠区"), district(371003, "文登区")],
            &[checkpoint("C101", 371002), checkpoint("C102", 371003)],
            "init",
            1,
        )
        .unwrap();
        s.import(
            &[
                app("HC-1", 371002, "鲁K00001", "C101"),
                app("HC-2", 371002, "鲁K00002", "C101"),
                app("WD-1", 371003, "鲁K00003", "C102"),
            ],
            "f.csv",
            "liaison-hc",
            2,
        )
        .unwrap();
        let hc = ["HC-1".to_string(), "HC-2".to_string()];
        s.transition(&hc, Action::Forward, None, "liaison-hc", 3, None)
            .unwrap();
        s.transition(&hc, Action::Approve, None, "reviewer1", 4, None)
            .unwrap();
        let hash = hash_password(PASSWORD).unwrap();
        for (name, role, district, org) in [
            ("liaison-hc", Role::District, Some(371002), None),
            ("reviewer1", Role::City, None, None),
            ("admin1", Role::Admin, None, None),
            ("shunda", Role::Applicant, None, Some("威海顺达物流")),
        ] {
            let u = NewUser::new(name, role, district, org).unwrap();
            s.add_user(&u, &hash, "init", 5).unwrap();
        }
        s.set_meta("issuer", "CN-WH").unwrap();
        let mut state = AppState::new(location.clone(), 2).unwrap();
        state.keys_dir = keys_dir.clone();
        state.passes_dir = dir.path().join("passes");
        if sign {
            // As `issuer serve --sign` unlocks it.
            let (record, key) =
                issuer::keys::unlock_active(&*s, &keys_dir, KeyRole::Signing, PASSPHRASE).unwrap();
            state.set_following_signer(
                WebSigner {
                    key,
                    kid: record.kid,
                },
                zeroize::Zeroizing::new(PASSPHRASE.to_string()),
            );
        }
        World {
            dir,
            location,
            root: root.public_key(),
            signing_kid: signing.kid().to_hex(),
            app: router(state),
        }
    }

    fn store(&self) -> Box<dyn Store> {
        store::open(&self.location).unwrap()
    }

    async fn login(&self, name: &str) -> Browser {
        Browser::login(&self.app, name).await
    }

    fn active_signing_kid(&self) -> String {
        issuer::keys::active(&*self.store(), KeyRole::Signing)
            .unwrap()
            .kid
    }

    fn audit_of(&self, action: &str) -> Vec<AuditEntry> {
        self.store()
            .audit_where(&AuditFilter {
                action: Some(action.into()),
                ..AuditFilter::default()
            })
            .unwrap()
    }
}

/// A reviewer issues `app_no` from the web; the answer's status and page.
async fn issue(reviewer: &mut Browser, app_no: &str) -> (StatusCode, String) {
    let page = format!("/applications/{app_no}");
    let csrf = reviewer.csrf(&page).await;
    let a = reviewer
        .post_form(&format!("{page}/issue"), &[("csrf", &csrf)])
        .await;
    (a.status, a.body)
}

/// Uploads one registry table (`districts` or `checkpoints`).
async fn upload(admin: &mut Browser, csrf: &str, which: &str, bytes: &[u8]) -> browser::Answer {
    admin
        .post_multipart(
            "/admin/registry",
            &[
                ("csrf", None, csrf.as_bytes()),
                (which, Some("表.csv"), bytes),
            ],
        )
        .await
}

/// The policy form's fields with these values.
fn policy_fields<'a>(csrf: &'a str, values: [&'a str; 5]) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![("csrf", csrf)];
    for (name, v) in [
        "max_test_age_hours",
        "clock_skew_minutes",
        "max_bundle_age_hours",
        "repeat_window_minutes",
        "max_validity_hours",
    ]
    .into_iter()
    .zip(values)
    {
        fields.push((name, v));
    }
    fields
}

const PAGES: [&str; 5] = [
    "/admin/keys",
    "/admin/registry",
    "/admin/policy",
    "/admin/bundle",
    "/admin/audit",
];

const CHECKPOINTS_CSV: &str =
    "编码,名称,所属区市,道路\nC101,一号站,371002,G1\nC102,二号站,371003,G2\nC103,新站,371003,S3\n";

/// Every admin page and action, by direct URL: another role gets 403 and changes nothing; a
/// visitor not signed in is sent to sign in.
#[tokio::test]
async fn every_other_role_is_refused_every_admin_page_and_action() {
    let world = World::new(true);
    let before = world.store().audit(None).unwrap().len();
    for name in ["shunda", "liaison-hc", "reviewer1"] {
        let mut b = world.login(name).await;
        for page in PAGES {
            let a = b.get(page).await;
            assert_eq!(a.status, StatusCode::FORBIDDEN, "{name} GET {page}");
            assert!(a.body.contains("只有管理员"), "{}", a.body);
        }
        let csrf = b.csrf("/queue").await;
        let posts: [(&str, Vec<(&str, &str)>); 4] = [
            (
                "/admin/keys/rotate",
                vec![("csrf", &csrf), ("passphrase", PASSPHRASE)],
            ),
            (
                "/admin/keys/revoke",
                vec![
                    ("csrf", &csrf),
                    ("kid", &world.signing_kid),
                    ("reason", "试试"),
                ],
            ),
            (
                "/admin/bundle",
                vec![("csrf", &csrf), ("passphrase", PASSPHRASE)],
            ),
            (
                "/admin/policy",
                policy_fields(&csrf, ["24", "5", "72", "10", "72"]),
            ),
        ];
        for (path, fields) in &posts {
            let a = b.post_form(path, fields).await;
            assert_eq!(a.status, StatusCode::FORBIDDEN, "{name} POST {path}");
        }
        let a = b
            .post_multipart(
                "/admin/registry",
                &[
                    ("csrf", None, csrf.as_bytes()),
                    ("checkpoints", Some("c.csv"), CHECKPOINTS_CSV.as_bytes()),
                ],
            )
            .await;
        assert_eq!(
            a.status,
            StatusCode::FORBIDDEN,
            "{name} POST /admin/registry"
        );
    }
    let mut visitor = Browser::new(&world.app);
    for page in PAGES {
        assert_eq!(
            visitor.get(page).await.location.as_deref(),
            Some("/login"),
            "{page}"
        );
    }
    // Nothing changed: the same keys, policy, registry; the trail has only the sign-ins.
    let s = world.store();
    assert_eq!(s.keys().unwrap().len(), 2);
    assert_eq!(world.active_signing_kid(), world.signing_kid);
    assert_eq!(s.policy().unwrap(), Default::default());
    assert_eq!(s.checkpoints().unwrap().len(), 2);
    let after = s.audit(None).unwrap();
    assert!(
        after[before..].iter().all(|e| e.action == "login"),
        "{:?}",
        &after[before..]
    );
}

/// An admin's change without the session's token (none, or another's) is refused.
#[tokio::test]
async fn admin_changes_without_the_csrf_token_are_refused() {
    let world = World::new(true);
    let mut admin = world.login("admin1").await;
    let mut other = world.login("admin1").await;
    let foreign = other.csrf("/admin/keys").await;
    for token in [None, Some("0000"), Some(foreign.as_str())] {
        let with = |fields: &[(&'static str, &'static str)]| {
            let mut out: Vec<(&str, &str)> = token.map(|t| ("csrf", t)).into_iter().collect();
            out.extend(fields.iter().copied());
            out
        };
        for (path, fields) in [
            ("/admin/keys/rotate", with(&[("passphrase", PASSPHRASE)])),
            (
                "/admin/keys/revoke",
                with(&[("kid", "x"), ("reason", "试试")]),
            ),
            ("/admin/bundle", with(&[("passphrase", PASSPHRASE)])),
            ("/admin/policy", with(&[("max_test_age_hours", "24")])),
        ] {
            // The admin's own session has a token too, but a different one.
            admin.csrf("/admin/keys").await;
            let a = admin.post_form(path, &fields).await;
            assert_eq!(a.status, StatusCode::FORBIDDEN, "{path} with {token:?}");
            assert!(a.body.contains("CSRF"), "{}", a.body);
        }
        let mut parts: Vec<(&str, Option<&str>, &[u8])> =
            vec![("checkpoints", Some("c.csv"), CHECKPOINTS_CSV.as_bytes())];
        if let Some(t) = token {
            parts.insert(0, ("csrf", None, t.as_bytes()));
        }
        let a = admin.post_multipart("/admin/registry", &parts).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "registry with {token:?}");
    }
    let s = world.store();
    assert_eq!(s.keys().unwrap().len(), 2);
    assert_eq!(s.policy().unwrap(), Default::default());
    assert_eq!(s.checkpoints().unwrap().len(), 2);
    assert!(world.audit_of("bundle.export").is_empty());
}

/// A rotation from the web: a wrong passphrase is a 400 that changes nothing and never shows
/// the passphrase; the right one makes a new active key, and the web issues with it at once.
/// The pass is green at its checkpoint under a bundle downloaded from the web.
#[tokio::test]
async fn rotation_changes_the_key_and_the_web_issues_with_the_new_one() {
    let world = World::new(true);
    let mut admin = world.login("admin1").await;
    let page = admin.get("/admin/keys").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&world.signing_kid) && page.body.contains("使用中"));
    assert!(page.body.contains("根密钥") && page.body.contains("网页签发使用签发密钥"));
    assert!(page.body.contains("href=\"/admin/audit\""), "nav link");
    let csrf = admin.csrf("/admin/keys").await;
    const WRONG: &str = "not the passphrase at all";
    let a = admin
        .post_form(
            "/admin/keys/rotate",
            &[("csrf", &csrf), ("passphrase", WRONG)],
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert!(a.body.contains("口令错误"), "{}", a.body);
    assert!(!a.body.contains(WRONG));
    let a = admin
        .post_form("/admin/keys/rotate", &[("csrf", &csrf), ("passphrase", "")])
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(world.active_signing_kid(), world.signing_kid);
    assert_eq!(world.store().keys().unwrap().len(), 2);

    let a = admin
        .post_form(
            "/admin/keys/rotate",
            &[("csrf", &csrf), ("passphrase", PASSPHRASE)],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(!a.body.contains(PASSPHRASE));
    let new_kid = world.active_signing_kid();
    assert_ne!(new_kid, world.signing_kid);
    assert!(a.body.contains(&new_kid) && a.body.contains("网页签发自此使用新密钥"));
    let keys = world.store().keys().unwrap();
    let old = keys.iter().find(|k| k.kid == world.signing_kid).unwrap();
    assert_eq!(old.status, "retired");
    assert_eq!(old.retired_at, Some(NOW));
    // The new key is sealed in the data directory under the same passphrase.
    let new = keys.iter().find(|k| k.kid == new_kid).unwrap();
    issuer::keys::unlock(
        &world.dir.path().join("keys"),
        new,
        KeyRole::Signing,
        PASSPHRASE,
    )
    .unwrap();
    let added = world.audit_of("keys.add");
    assert_eq!(added.last().unwrap().actor, "admin1");

    let mut reviewer = world.login("reviewer1").await;
    let (status, body) = issue(&mut reviewer, "HC-1").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let pass = world.store().get("HC-1").unwrap().pass.unwrap();
    assert_eq!(pass.kid, new_kid, "issued with the new key");

    let csrf = admin.csrf("/admin/bundle").await;
    let a = admin
        .post_form(
            "/admin/bundle",
            &[("csrf", &csrf), ("passphrase", PASSPHRASE)],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let bundle = issuer::checkpass::bundle::open_bundle(&a.bytes, &world.root, None).unwrap();
    assert_eq!(bundle.keys.len(), 2, "the old and the new signing key");
    let verdict = issuer::checkpass::rules::verify(&pass.qr_text, &bundle, "C101", AT_CHECKPOINT);
    assert_eq!(verdict.level(), Level::Green, "{:?}", verdict.reasons);
}

/// A key rotated on the command line (or in another server process) while the service runs:
/// the next pass issued from the web is signed with the new active key, which the service
/// unlocks with the passphrase it started with — never with the retired one, whose passes the
/// checkpoints would refuse after its retirement.
#[tokio::test]
async fn a_key_rotated_elsewhere_is_followed_when_issuing() {
    let world = World::new(true);
    let rotated = issuer::keys::rotate(
        &mut *world.store(),
        &world.dir.path().join("keys"),
        PASSPHRASE,
        &KeyScope::default(),
        "cli-admin",
        NOW,
    )
    .unwrap();
    assert_ne!(rotated.kid, world.signing_kid);
    let mut reviewer = world.login("reviewer1").await;
    let (status, body) = issue(&mut reviewer, "HC-1").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let pass = world.store().get("HC-1").unwrap().pass.unwrap();
    assert_eq!(pass.kid, rotated.kid, "issued with the key active now");
    // And again, without unlocking anew.
    let (status, body) = issue(&mut reviewer, "HC-2").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(
        world.store().get("HC-2").unwrap().pass.unwrap().kid,
        rotated.kid
    );
}

/// A wrong key passphrase counts as a wrong password: after
/// [`issuer::accounts::MAX_FAILED_LOGINS`] of them (on the rotation or the bundle form) the
/// admin's account is locked — the key forms refuse even the right passphrase with 429, and
/// signing in again is refused too — so a stolen admin session cannot guess the passphrase.
#[tokio::test]
async fn wrong_key_passphrases_lock_the_admin_account() {
    let world = World::new(true);
    let mut admin = world.login("admin1").await;
    let csrf = admin.csrf("/admin/keys").await;
    let before = world.active_signing_kid();
    for i in 0..issuer::accounts::MAX_FAILED_LOGINS {
        let (path, form) = if i % 2 == 0 {
            ("/admin/keys/rotate", "rotate")
        } else {
            ("/admin/bundle", "bundle")
        };
        let a = admin
            .post_form(path, &[("csrf", &csrf), ("passphrase", "guess")])
            .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{form} {i}: {}", a.body);
    }
    let a = admin
        .post_form(
            "/admin/keys/rotate",
            &[("csrf", &csrf), ("passphrase", PASSPHRASE)],
        )
        .await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS, "{}", a.body);
    assert!(a.body.contains("账号暂时锁定"), "{}", a.body);
    let a = admin
        .post_form(
            "/admin/bundle",
            &[("csrf", &csrf), ("passphrase", PASSPHRASE)],
        )
        .await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS, "{}", a.body);
    assert_eq!(world.active_signing_kid(), before, "nothing rotated");
    assert!(world.audit_of("bundle.export").is_empty());
    // Signing in again is refused while the lock lasts.
    let mut other = Browser::new(&world.app);
    let login_csrf = other.csrf("/login").await;
    let a = other
        .post_form(
            "/login",
            &[
                ("name", "admin1"),
                ("password", PASSWORD),
                ("csrf", &login_csrf),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS, "{}", a.body);
}

/// Declaring the web signer's key compromised stops web issuing at once; a rotation starts it
/// again with the new key. Bad input is a clear 4xx.
#[tokio::test]
async fn declaring_the_signers_key_compromised_stops_web_issuing() {
    let world = World::new(true);
    let mut admin = world.login("admin1").await;
    let csrf = admin.csrf("/admin/keys").await;
    let kid = world.signing_kid.as_str();
    let root_kid = world
        .store()
        .keys()
        .unwrap()
        .into_iter()
        .find(|k| k.role == "root")
        .unwrap()
        .kid;
    for (fields, status) in [
        (
            vec![("kid", kid), ("reason", "  ")],
            StatusCode::BAD_REQUEST,
        ),
        (
            vec![("kid", kid), ("reason", "泄露"), ("since", "昨天")],
            StatusCode::BAD_REQUEST,
        ),
        (
            vec![("kid", "ffff0000"), ("reason", "泄露")],
            StatusCode::NOT_FOUND,
        ),
        (
            vec![("kid", root_kid.as_str()), ("reason", "泄露")],
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend(fields.iter().copied());
        let a = admin.post_form("/admin/keys/revoke", &form).await;
        assert_eq!(a.status, status, "{fields:?}: {}", a.body);
    }
    assert!(world
        .store()
        .keys()
        .unwrap()
        .iter()
        .all(|k| k.compromised_at.is_none()));

    let a = admin
        .post_form(
            "/admin/keys/revoke",
            &[
                ("csrf", &csrf),
                ("kid", kid),
                ("reason", "签发电脑失窃"),
                ("since", "2022-03-12T08:00"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(a.body.contains("网页签发已停止"), "{}", a.body);
    let key = world
        .store()
        .keys()
        .unwrap()
        .into_iter()
        .find(|k| k.kid == kid)
        .unwrap();
    assert_eq!(key.compromised_since, Some(1_647_043_200));
    assert_eq!(key.compromise_reason.as_deref(), Some("签发电脑失窃"));
    let revoked = world.audit_of("keys.revoke");
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0].actor, "admin1");
    assert!(admin.get("/admin/keys").await.body.contains("已宣告泄露"));

    let mut reviewer = world.login("reviewer1").await;
    let (status, body) = issue(&mut reviewer, "HC-1").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.contains("宣告泄露"), "{body}");
    assert!(world.store().get("HC-1").unwrap().pass.is_none());

    // A rotation (the passphrase proved on the compromised key, the newest) signs again.
    let a = admin
        .post_form(
            "/admin/keys/rotate",
            &[("csrf", &csrf), ("passphrase", PASSPHRASE)],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let new_kid = world.active_signing_kid();
    let (status, body) = issue(&mut reviewer, "HC-1").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(
        world.store().get("HC-1").unwrap().pass.unwrap().kid,
        new_kid
    );
}

/// The rotation form sets a scope: the new key is recorded with it, the keys page shows it,
/// and the web refuses to sign an application outside it; a bad list is a 400 and changes
/// nothing.
#[tokio::test]
async fn a_rotation_from_the_web_can_scope_the_new_key() {
    let world = World::new(true);
    let mut admin = world.login("admin1").await;
    let csrf = admin.csrf("/admin/keys").await;
    let before = world.active_signing_kid();
    let a = admin
        .post_form(
            "/admin/keys/rotate",
            &[
                ("csrf", &csrf),
                ("passphrase", PASSPHRASE),
                ("districts", "3710x"),
                ("categories", ""),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert!(a.body.contains("3710x"), "{}", a.body);
    assert_eq!(world.active_signing_kid(), before);

    let a = admin
        .post_form(
            "/admin/keys/rotate",
            &[
                ("csrf", &csrf),
                ("passphrase", PASSPHRASE),
                ("districts", "371003"),
                ("categories", "工业原材料，产成品"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(
        a.body.contains("区划 371003；类别 工业原材料,产成品"),
        "{}",
        a.body
    );
    let kid = world.active_signing_kid();
    let record = world
        .store()
        .keys()
        .unwrap()
        .into_iter()
        .find(|k| k.kid == kid)
        .unwrap();
    assert_eq!(
        (
            record.scope_districts.as_str(),
            record.scope_categories.as_str()
        ),
        ("371003", "1,2")
    );
    assert!(admin
        .get("/admin/keys")
        .await
        .body
        .contains("区划 371003；类别 工业原材料,产成品"));

    // HC-1 is from 371002: the web's signer, now on the scoped key, refuses it.
    let mut reviewer = world.login("reviewer1").await;
    let (status, body) = issue(&mut reviewer, "HC-1").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.contains("无权签发"), "{body}");
    assert!(world.store().get("HC-1").unwrap().pass.is_none());
}

/// A service started without `--sign`: a rotation from the web does not start web issuing.
#[tokio::test]
async fn a_rotation_does_not_turn_on_web_issuing() {
    let world = World::new(false);
    let mut admin = world.login("admin1").await;
    assert!(admin
        .get("/admin/keys")
        .await
        .body
        .contains("未使用 --sign"));
    let csrf = admin.csrf("/admin/keys").await;
    let a = admin
        .post_form(
            "/admin/keys/rotate",
            &[("csrf", &csrf), ("passphrase", PASSPHRASE)],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(!a.body.contains("网页签发自此使用新密钥"));
    let mut reviewer = world.login("reviewer1").await;
    let (status, body) = issue(&mut reviewer, "HC-1").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body.contains("issuer issue"), "{body}");
}

/// The trust bundle from the web: the file `issuer bundle --out` writes, signed by the root
/// key, a new sequence number each time, audited; a wrong passphrase is a 400 and takes none.
#[tokio::test]
async fn a_downloaded_bundle_opens_with_the_root_key() {
    let world = World::new(false);
    let mut admin = world.login("admin1").await;
    let page = admin.get("/admin/bundle").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("根密钥口令"));
    // The checkpoint app's files, for anyone (a phone is not signed in): the root key to
    // compare and pin; no bundle before the first is built.
    let mut phone = Browser::new(&world.app);
    let root_file = phone.get("/checkpoint/root.pub").await;
    assert_eq!(root_file.status, StatusCode::OK);
    assert_eq!(
        issuer::checkpass::keys::parse_public_key_file(&root_file.body).unwrap(),
        (world.root, KeyRole::Root)
    );
    assert_eq!(
        phone.get("/checkpoint/bundle.cose").await.status,
        StatusCode::NOT_FOUND
    );
    let csrf = admin.csrf("/admin/bundle").await;
    let a = admin
        .post_form(
            "/admin/bundle",
            &[("csrf", &csrf), ("passphrase", "wrong!")],
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert!(a.body.contains("口令错误"));
    assert!(world.audit_of("bundle.export").is_empty());

    for sequence in [1, 2] {
        let a = admin
            .post_form(
                "/admin/bundle",
                &[("csrf", &csrf), ("passphrase", PASSPHRASE)],
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        assert_eq!(a.headers[header::CONTENT_TYPE], "application/octet-stream");
        assert_eq!(
            a.headers[header::CONTENT_DISPOSITION],
            format!("attachment; filename=\"trust-bundle-{sequence}.cose\"").as_str()
        );
        let last = (sequence > 1).then_some(sequence - 1);
        let bundle = issuer::checkpass::bundle::open_bundle(&a.bytes, &world.root, last).unwrap();
        assert_eq!(bundle.sequence, sequence);
        assert_eq!(bundle.issuer, "CN-WH");
        assert_eq!(bundle.issued_at, NOW);
        assert_eq!(bundle.checkpoints.len(), 2);
        assert_eq!(bundle.keys.len(), 1);
        // Signed by the root key only: another key's public half does not open it.
        let other = SigningKey::generate().public_key();
        assert!(issuer::checkpass::bundle::open_bundle(&a.bytes, &other, None).is_err());
        // Published for the checkpoint app: the very bundle just built.
        let published = phone.get("/checkpoint/bundle.cose").await;
        assert_eq!(published.status, StatusCode::OK);
        assert_eq!(published.headers[header::CACHE_CONTROL], "no-store");
        assert_eq!(published.bytes, a.bytes);
    }
    let exports = world.audit_of("bundle.export");
    assert_eq!(exports.len(), 2);
    for (e, sequence) in exports.iter().zip(1..) {
        assert_eq!(e.actor, "admin1");
        let detail = e.detail.as_deref().unwrap();
        assert!(
            detail.starts_with(&format!("序号 {sequence}：网页下载")),
            "{detail}"
        );
    }
    assert!(admin.get("/admin/bundle").await.body.contains("网页下载"));
}

/// The registry shown and replaced by upload, with the command's refusals; the policy shown
/// and set, with its bounds.
#[tokio::test]
async fn the_admin_loads_the_registry_and_sets_the_policy() {
    let world = World::new(false);
    let mut admin = world.login("admin1").await;
    let page = admin.get("/admin/registry").await;
    assert!(page.body.contains("环翠区") && page.body.contains("C102 站"));
    let csrf = admin.csrf("/admin/registry").await;
    let a = upload(&mut admin, &csrf, "checkpoints", CHECKPOINTS_CSV.as_bytes()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(a.body.contains("已载入检查站 3 个") && a.body.contains("新站"));
    assert_eq!(world.store().checkpoints().unwrap().len(), 3);
    assert_eq!(world.store().districts().unwrap().len(), 2, "left alone");
    // C101 is on the route of live applications: it cannot go.
    let without = "编码,名称,所属区市,道路\nC102,二号站,371003,G2\n";
    let a = upload(&mut admin, &csrf, "checkpoints", without.as_bytes()).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert!(a.body.contains("检查站 C101"), "{}", a.body);
    let districts = "区划代码,名称,负责人,联系电话,邮箱\n371003,文登区,李,1,b@example.cn\n";
    let a = upload(&mut admin, &csrf, "districts", districts.as_bytes()).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert!(a.body.contains("区划 371002"), "{}", a.body);
    // Not a table, a missing column, no file at all: clear 400s.
    for (which, bytes) in [
        ("checkpoints", &b"\x01\x02\x03garbage"[..]),
        ("districts", "区划代码,名称\n371002,环翠区\n".as_bytes()),
    ] {
        let a = upload(&mut admin, &csrf, which, bytes).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{which}: {}", a.body);
    }
    let a = admin
        .post_multipart("/admin/registry", &[("csrf", None, csrf.as_bytes())])
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(world.store().checkpoints().unwrap().len(), 3, "unchanged");
    let loads = world.audit_of("registry.load");
    assert_eq!(loads.last().unwrap().actor, "admin1");
    assert_eq!(loads.len(), 2, "init's and the one upload that succeeded");

    let page = admin.get("/admin/policy").await;
    assert!(page.body.contains("核酸采样最长") && page.body.contains("value=\"48\""));
    let csrf = admin.csrf("/admin/policy").await;
    for values in [
        ["0", "5", "72", "10", "72"],
        ["24", "61", "72", "10", "72"],
        ["24", "5", "abc", "10", "72"],
    ] {
        let a = admin
            .post_form("/admin/policy", &policy_fields(&csrf, values))
            .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{values:?}: {}", a.body);
        assert!(a.body.contains("应"), "{}", a.body);
    }
    let a = admin
        .post_form(
            "/admin/policy",
            &policy_fields(&csrf, ["0", "5", "72", "10", "72"]),
        )
        .await;
    assert!(
        a.body
            .contains("核酸采样最长（--max-test-age-hours）应在 1 到 336"),
        "{}",
        a.body
    );
    assert_eq!(world.store().policy().unwrap(), Default::default());
    let a = admin
        .post_form(
            "/admin/policy",
            &policy_fields(&csrf, ["24", "5", "72", "", "48"]),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let p = world.store().policy().unwrap();
    assert_eq!(p.max_test_age_secs, 24 * 3600);
    assert_eq!(p.clock_skew_secs, 300);
    assert_eq!(p.repeat_window_secs, 600, "blank: kept");
    assert_eq!(p.max_validity_secs, 48 * 3600);
    assert!(a.body.contains("value=\"24\""));
    let set = world.audit_of("policy.set");
    assert_eq!(set.len(), 1);
    assert_eq!(set[0].actor, "admin1");
}

/// The ids of the lines an audit page lists, in order.
fn listed_ids(body: &str) -> Vec<i64> {
    body.split("<tr><td>")
        .skip(1)
        .map(|row| row[..row.find('<').unwrap()].parse().unwrap())
        .collect()
}

/// The audit trail from the web: newest first, 200 a page, each filter applied in the store.
#[tokio::test]
async fn the_audit_trail_filters_and_pages() {
    let world = World::new(false);
    // 250 more lines on 2022-03-10 (UTC+8), one import each.
    let mut s = world.store();
    let day = 1_646_841_600; // 2022-03-10 00:00 UTC+8
    for i in 0..250 {
        let a = app(&format!("BULK-{i}"), 371003, &format!("鲁K9{i:04}"), "C102");
        s.import(&[a], "bulk.csv", "bulk", day + 3600 + i64::from(i))
            .unwrap();
    }
    let all = s.audit(None).unwrap();
    let mut admin = world.login("admin1").await;
    let ids = |filter: &dyn Fn(&AuditEntry) -> bool| -> Vec<i64> {
        let mut v: Vec<i64> = all.iter().filter(|e| filter(e)).map(|e| e.id).collect();
        v.reverse();
        v
    };

    let first = admin.get("/admin/audit").await;
    assert_eq!(first.status, StatusCode::OK);
    let listed = listed_ids(&first.body);
    assert_eq!(listed.len(), 200);
    // Newest first: the admin's own sign-in, then the imports.
    assert!(listed.windows(2).all(|w| w[0] > w[1]));
    assert_eq!(listed[0], all.last().unwrap().id + 1, "the sign-in");
    let at = first.body.find("/admin/audit?after=").expect("a next page");
    let next = first.body[at..first.body[at..].find('"').unwrap() + at].replace("&amp;", "&");
    let second = admin.get(&next).await;
    let rest = listed_ids(&second.body);
    assert_eq!(rest.len(), all.len() + 1 - 200);
    assert!(rest[0] < *listed.last().unwrap());
    assert!(
        !second.body.contains("/admin/audit?after="),
        "the last page"
    );

    for (query, expected) in [
        ("actor=liaison-hc", ids(&|e| e.actor == "liaison-hc")),
        ("action=forward", ids(&|e| e.action == "forward")),
        ("action=keys", ids(&|e| e.action.starts_with("keys."))),
        ("action=user.add", ids(&|e| e.action == "user.add")),
        ("app_no=HC-1", ids(&|e| e.app_no.as_deref() == Some("HC-1"))),
        (
            "actor=bulk&from=2022-03-10&to=2022-03-10",
            ids(&|e| e.actor == "bulk"),
        ),
        ("actor=bulk&from=2022-03-11", vec![]),
        ("actor=bulk&to=2022-03-09", vec![]),
        (
            "from=2022-03-10%2001%3A00&to=2022-03-10%2001%3A00%3A05",
            ids(&|e| (day + 3600..day + 3605).contains(&e.at)),
        ),
    ] {
        assert!(!expected.is_empty() || query.contains("bulk"), "{query}");
        let page = admin.get(&format!("/admin/audit?{query}")).await;
        assert_eq!(page.status, StatusCode::OK, "{query}: {}", page.body);
        // The first page of them.
        let first_page = &expected[..expected.len().min(200)];
        assert_eq!(listed_ids(&page.body), first_page, "{query}");
    }
    assert_eq!(ids(&|e| (day + 3600..day + 3605).contains(&e.at)).len(), 5);
    // The filters are kept on the next page's link.
    let page = admin.get("/admin/audit?actor=bulk").await;
    assert!(
        page.body.contains("/admin/audit?actor=bulk&amp;after="),
        "{}",
        page.body
    );
    let a = admin.get("/admin/audit?from=yesterday").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.body.contains("无法识别"));
}
