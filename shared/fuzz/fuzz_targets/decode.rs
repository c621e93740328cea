//! Any input, as QR text and as COSE bytes, through the whole verification: never a panic,
//! and never green unless it carries exactly the genuine sample pass (the fuzzer cannot sign,
//! so anything else that came out green would be a forgery accepted).
#![no_main]

use std::sync::OnceLock;

use checkpass::bundle::TrustBundle;
use checkpass::pass::Pass;
use checkpass::{rules, sample, verdict::Level, wire};
use libfuzzer_sys::fuzz_target;

fn setup() -> &'static (TrustBundle, Pass) {
    static S: OnceLock<(TrustBundle, Pass)> = OnceLock::new();
    S.get_or_init(|| {
        let key = sample::vector_signing_key();
        (sample::bundle(&key, 1, sample::NOW), sample::pass())
    })
}

fn check(text: &str) {
    let (bundle, genuine) = setup();
    let v = rules::verify(text, bundle, "C201", sample::NOW);
    if v.level() == Level::Green {
        assert_eq!(v.pass.as_deref(), Some(genuine));
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        check(text);
    }
    check(&wire::qr_text(data));
});
