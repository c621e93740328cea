//! Any bytes as an application file (xlsx or CSV, UTF-8 or GBK) through the issuer's import
//! and row validation: never a panic, memory bounded (run with `-rss_limit_mb=2048`), and every
//! row the import accepts can be signed (the pass format's limits are checked at import).
//!
//! The issuer is a binary crate, so its `import` and `validate` modules are compiled here from
//! their source; `store` is replaced by the two registry types `import` uses.
#![no_main]

use std::sync::LazyLock;

use checkpass::pass::{Pass, Serial};
use libfuzzer_sys::fuzz_target;

#[allow(dead_code, unused_imports)]
#[path = "../../src/validate.rs"]
mod validate;

#[allow(dead_code)]
#[path = "../../src/problem.rs"]
mod problem;

#[allow(dead_code)]
#[path = "../../src/import.rs"]
mod import;

/// The registry types `import` fills (issuer/src/domain.rs has the same fields).
#[allow(dead_code)]
mod domain {
    pub use checkpass::bundle::Checkpoint;

    pub struct District {
        pub code: u32,
        pub name: String,
        pub contact: String,
        pub phone: String,
        pub email: String,
    }
}

/// The sample registry's codes and the default policy, as `issuer import` would use them.
static RULES: LazyLock<validate::Rules> = LazyLock::new(|| {
    let checkpoints = import::parse_checkpoints(
        "checkpoints.csv",
        include_bytes!("../../../samples/weihai/checkpoints.csv"),
    )
    .expect("the sample checkpoints");
    let districts = import::parse_districts(
        "districts.csv",
        include_bytes!("../../../samples/weihai/districts.csv"),
    )
    .expect("the sample districts");
    let policy = checkpass::bundle::Policy::default();
    validate::Rules {
        checkpoints: checkpoints.into_iter().map(|c| c.code).collect(),
        districts: districts.into_iter().map(|d| d.code).collect(),
        max_test_age_secs: policy.max_test_age_secs,
        max_window_secs: policy.max_validity_secs,
    }
});

/// libfuzzer-sys's panic hook aborts at once, even inside the `catch_unwind` with which the
/// import turns a panic of the spreadsheet parser into "damaged file". A quiet hook lets that
/// guard work as in the issuer; a panic it does not catch still aborts (libfuzzer-sys aborts
/// on any panic that reaches it), so it is still found.
static QUIET_PANICS: std::sync::Once = std::sync::Once::new();

fuzz_target!(|data: &[u8]| {
    QUIET_PANICS.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    let key = checkpass::sample::vector_signing_key();
    for name in ["fuzz.xlsx", "fuzz.csv"] {
        let Ok(sheet) = import::read_bytes(name, data) else {
            continue;
        };
        for raw in &sheet.rows {
            let Ok(app) = validate::validate_row(raw, &RULES) else {
                continue;
            };
            let body = app.pass_body().expect("an accepted row has a maskable ID");
            let pass = Pass {
                serial: Serial(1),
                issuer: "WH".into(),
                issued_at: app.start_at,
                not_before: app.start_at,
                expires_at: app.end_at,
                body,
            };
            checkpass::wire::sign_pass(&pass, &key).expect("an accepted row can be signed");
        }
    }
});
