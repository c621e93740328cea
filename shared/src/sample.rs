//! A typical pass and bundle built from the Weihai sample data, for tests, docs, test vectors
//! and benchmarks of every crate. Nothing here is used to verify real passes.

use crate::bundle::{Checkpoint, IssuerKey, Policy, RevocationList, TrustBundle};
use crate::keys::SigningKey;
use crate::pass::{Category, MaskedId, Pass, PassBody, Serial};

/// 2022-03-13 08:00 UTC+8: inside the sample pass's validity window.
pub const NOW: i64 = 1_647_129_600;
/// 2022-03-12 10:00 UTC+8: when the sample pass was issued.
pub const ISSUED_AT: i64 = 1_647_050_400;
/// The sample issuer (CWT `iss`).
pub const ISSUER: &str = "WH";

/// The checkpoint registry of the sample city (samples/weihai/checkpoints.csv, compiled in).
pub fn checkpoints() -> Vec<Checkpoint> {
    include_str!("../../samples/weihai/checkpoints.csv")
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut f = line.trim().split(',');
            Some(Checkpoint {
                code: f.next()?.to_string(),
                name: f.next()?.to_string(),
                district: f.next()?.parse().ok()?,
                road: f.next()?.to_string(),
            })
        })
        .collect()
}

/// Application SQ003-0001 of the sample spreadsheet as an issued pass.
pub fn pass() -> Pass {
    Pass {
        serial: Serial(1),
        issuer: ISSUER.to_string(),
        issued_at: ISSUED_AT,
        not_before: 1_647_082_800, // 2022-03-12 19:00
        expires_at: 1_647_255_600, // 2022-03-14 19:00
        body: PassBody {
            district: 371003,
            plate: "鲁KP20XL".into(),
            trailer: None,
            driver_name: "邓丽伟".into(),
            driver_id: MaskedId {
                prefix: 320102,
                suffix: "6657".into(),
            },
            occupants: 1,
            category: Category::RawMaterials,
            cargo: "塑料粒子".into(),
            origin: "环翠区张村镇工业园".into(),
            destination: "环翠区羊亭镇物流中心".into(),
            route: vec!["C201".into(), "C101".into()],
            test_sampled_at: 1_647_007_200, // 2022-03-11 22:00
            arrive_by: None,
        },
    }
}

/// A bundle trusting `signing` from 2022-03-01 to 2022-12-31, issued at `issued_at`.
pub fn bundle(signing: &SigningKey, sequence: u64, issued_at: i64) -> TrustBundle {
    TrustBundle {
        sequence,
        issued_at,
        issuer: ISSUER.to_string(),
        keys: vec![IssuerKey {
            public_key: signing.public_key(),
            valid_from: 1_646_064_000,
            valid_to: 1_672_416_000,
            compromised_since: None,
            scope: Default::default(),
        }],
        checkpoints: checkpoints(),
        revoked: RevocationList::default(),
        policy: Policy::default(),
    }
}

/// The fixed signing key of the test vectors (seed 0x01 × 32). Public, never for real passes.
pub fn vector_signing_key() -> SigningKey {
    SigningKey::from_seed(&[0x01; 32])
}

/// The fixed root key of the test vectors (seed 0x02 × 32). Public, never for real bundles.
pub fn vector_root_key() -> SigningKey {
    SigningKey::from_seed(&[0x02; 32])
}
