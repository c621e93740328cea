//! Any bytes as a trust bundle: never a panic, never accepted unless the root signed it.
#![no_main]

use checkpass::{bundle, sample};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let root = sample::vector_root_key().public_key();
    let _ = bundle::open_bundle(data, &root, Some(1));
});
