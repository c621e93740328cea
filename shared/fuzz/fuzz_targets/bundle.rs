//! Any bytes as a trust bundle: never a panic, never accepted unless the root signed it. The
//! same bytes are also signed as a bundle's payload with the (public) test root, so the fuzzer
//! reaches the payload decoder (keys with compromise times, revocations, policy) that a
//! signature would otherwise keep it from.
#![no_main]

use checkpass::{bundle, sample};
use coset::{iana, CoseSign1Builder, HeaderBuilder, TaggedCborSerializable};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let root_key = sample::vector_root_key();
    let root = root_key.public_key();
    let _ = bundle::open_bundle(data, &root, Some(1));
    let signed = CoseSign1Builder::new()
        .protected(
            HeaderBuilder::new()
                .algorithm(iana::Algorithm::EdDSA)
                .key_id(root.kid().0.to_vec())
                .build(),
        )
        .payload(data.to_vec())
        .create_signature(&[], |tbs| root_key.sign(tbs).to_vec())
        .build()
        .to_tagged_vec();
    if let Ok(bytes) = signed {
        let _ = bundle::open_bundle(&bytes, &root, None);
    }
});
