//! Criterion benchmarks of the library's hot paths.
//!
//! `cargo bench -p checkpass --bench verify`
//!
//! - sign: sign a pass and make its QR text (what the issuer does per pass)
//! - verify: the whole check of a QR text (prefix, base45, COSE, signature, claims, rules)
//! - verify_1m_revoked: the same against a bundle revoking 1,000,000 passes
//! - bundle_open_1m_revoked: check and load a bundle with 1,000,000 revocations
//! - revocation_lookup_1m: one lookup in that list

use std::hint::black_box;

use checkpass::bundle::{open_bundle, sign_bundle, RevocationList};
use checkpass::pass::Serial;
use checkpass::{rules, sample, wire};
use criterion::{criterion_group, criterion_main, Criterion};

/// A million revoked serials among ten million issued: one at a pseudo-random place in each
/// run of ten (deterministic), so the gaps are what a real list would have.
fn million_revoked() -> RevocationList {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    (0..1_000_000u64)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            Serial(i * 10 + x % 10)
        })
        .collect()
}

fn benches(c: &mut Criterion) {
    let key = sample::vector_signing_key();
    let root = sample::vector_root_key();
    let pass = sample::pass();
    let text = wire::issue_qr_text(&pass, &key).unwrap();
    let bundle = sample::bundle(&key, 1, sample::NOW);

    c.bench_function("sign", |b| {
        b.iter(|| wire::issue_qr_text(black_box(&pass), &key).unwrap())
    });
    c.bench_function("verify", |b| {
        b.iter(|| rules::verify(black_box(&text), &bundle, "C201", sample::NOW))
    });

    let mut big = bundle.clone();
    big.revoked = million_revoked();
    let bytes = sign_bundle(&big, &root).unwrap();
    eprintln!(
        "bundle with {} revocations: {} bytes",
        big.revoked.len(),
        bytes.len()
    );
    c.bench_function("verify_1m_revoked", |b| {
        b.iter(|| rules::verify(black_box(&text), &big, "C201", sample::NOW))
    });
    let probe = Serial(5_000_123);
    c.bench_function("revocation_lookup_1m", |b| {
        b.iter(|| big.revoked.contains(black_box(probe)))
    });
    let mut group = c.benchmark_group("bundle");
    group.sample_size(20);
    group.bench_function("bundle_open_1m_revoked", |b| {
        b.iter(|| open_bundle(black_box(&bytes), &root.public_key(), Some(1)).unwrap())
    });
    group.finish();
}

criterion_group!(all, benches);
criterion_main!(all);
