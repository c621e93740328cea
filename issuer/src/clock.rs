//! The issuer's clock: the system clock, or a fixed time from `ISSUER_NOW` (RFC 3339) for
//! demonstrations and tests on the sample data, whose travel windows lie in March 2022.
//!
//! Only someone who already holds the signing keys' passphrase can use it to backdate a pass,
//! so it opens nothing they could not do anyway; every audit record still carries the time used.

use std::sync::OnceLock;

use anyhow::{Context, Result};

static FIXED: OnceLock<Option<i64>> = OnceLock::new();

/// Reads `ISSUER_NOW` once; a malformed value is an error rather than a silent fallback.
pub fn init() -> Result<()> {
    let fixed = match std::env::var("ISSUER_NOW") {
        Ok(text) if !text.trim().is_empty() => Some(
            chrono::DateTime::parse_from_rfc3339(text.trim())
                .with_context(|| {
                    format!("环境变量 ISSUER_NOW 不是 RFC 3339 时间 (e.g. 2022-03-12T09:00:00+08:00): {text:?}")
                })?
                .timestamp(),
        ),
        _ => None,
    };
    let _ = FIXED.set(fixed);
    Ok(())
}

/// Fixes the clock at `at` (unix seconds), as `ISSUER_NOW` would, for a program or test that
/// runs on the sample data; false if the clock was already set (it is set once per process).
pub fn simulate(at: i64) -> bool {
    FIXED.set(Some(at)).is_ok()
}

/// The fixed time `ISSUER_NOW` set, if it set one (after [`init`]).
pub fn simulated() -> Option<i64> {
    FIXED.get().copied().flatten()
}

/// Now, in unix seconds.
pub fn now() -> i64 {
    FIXED
        .get()
        .copied()
        .flatten()
        .unwrap_or_else(|| chrono::Utc::now().timestamp())
}
