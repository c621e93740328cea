//! Any bytes as an application file (xlsx or CSV, UTF-8 or GBK) through the issuer's import
//! and row validation: never a panic, memory bounded (run with `-rss_limit_mb=2048`), and every
//! row the import accepts can be signed (the pass format's limits are checked at import).
//!
#![no_main]

use std::sync::LazyLock;

use issuer::checkpass;
use issuer::{import, validate};
use checkpass::pass::{Pass, Serial};
use libfuzzer_sys::fuzz_target;

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
