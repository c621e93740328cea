//! Checks the code against every test vector in tests/vectors/*.json.
//!
//! Each vector names a fixed key (by seed), the pass fields, the exact COSE bytes and QR text,
//! and the verdict expected at a checkpoint and time. Run with `UPDATE_VECTORS=1` to rewrite
//! the files after a deliberate format change (and review the diff).

use std::path::{Path, PathBuf};

use checkpass::bundle::{key_entry_cbor, IssuerKey, RevocationList};
use checkpass::keys::SigningKey;
use checkpass::pass::{Category, Pass, Serial};
use checkpass::rules::verify;
use checkpass::sample;
use checkpass::scope::KeyScope;
use checkpass::wire::{self, Alg};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Vector {
    description: String,
    /// Seed of the Ed25519 signing key the bundle trusts (hex, 32 bytes).
    trusted_key_seed: String,
    trusted_public_key: String,
    trusted_kid: String,
    /// Seed of the key that actually signed (differs for "unknown key" vectors).
    signer_seed: Option<String>,
    alg: Option<i64>,
    pass: Option<Pass>,
    /// How the signed bytes were altered after signing, if at all.
    tamper: Option<String>,
    cose_hex: Option<String>,
    qr_text: String,
    context: Context,
    expected: Expected,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Context {
    checkpoint: String,
    now: i64,
    now_cst: String,
    bundle_issuer: String,
    bundle_issued_at: i64,
    key_valid_from: i64,
    key_valid_to: i64,
    revoked: Vec<u64>,
    max_test_age_secs: i64,
    clock_skew_secs: i64,
    max_validity_secs: i64,
    /// The districts (prefixes) and categories the trusted key is limited to; absent for an
    /// unscoped key (every vector before scopes existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key_scope: Option<ScopeJson>,
    /// The trusted key's entry in the bundle's key list, CBOR hex, when it is scoped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key_entry_hex: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct ScopeJson {
    districts: Vec<String>,
    categories: Vec<Category>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Expected {
    verdict: String,
    reasons: Vec<String>,
}

struct Case {
    name: &'static str,
    description: &'static str,
    signer: [u8; 32],
    alg: Alg,
    pass: Option<Pass>,
    raw_text: Option<&'static str>,
    tamper: Option<&'static str>,
    checkpoint: &'static str,
    now: i64,
    revoked: Vec<u64>,
    /// District prefixes and categories (as `issuer keys rotate` takes them) the key is limited to.
    scope: Option<(&'static str, &'static str)>,
}

const TRUSTED: [u8; 32] = [0x01; 32];

fn cases() -> Vec<Case> {
    let base = || Case {
        name: "",
        description: "",
        signer: TRUSTED,
        alg: Alg::EdDsa,
        pass: Some(sample::pass()),
        raw_text: None,
        tamper: None,
        checkpoint: "C201",
        now: sample::NOW,
        revoked: vec![],
        scope: None,
    };
    let p = sample::pass();
    vec![
        Case {
            name: "01-valid-green",
            description: "A valid pass scanned at a checkpoint on its route, inside its window: green.",
            ..base()
        },
        Case {
            name: "02-valid-alg-minus-19",
            description: "The same pass signed with COSE alg -19 (Ed25519, RFC 9864): accepted, green.",
            alg: Alg::Ed25519,
            ..base()
        },
        Case {
            name: "03-bad-signature",
            description: "The last byte of the signature flipped: red, BAD_SIGNATURE, no facts shown.",
            tamper: Some("xor 0x01 into the last byte of the COSE bytes"),
            ..base()
        },
        Case {
            name: "04-expired",
            description: "Scanned one hour after exp (beyond the 300 s skew): red, EXPIRED.",
            now: p.expires_at + 3600,
            ..base()
        },
        Case {
            name: "05-revoked",
            description: "Serial 1 is on the bundle's revocation list: red, REVOKED.",
            revoked: vec![1, 42],
            ..base()
        },
        Case {
            name: "06-wrong-route",
            description: "Scanned at C105, which is not on the route C201→C101: amber, NOT_ON_ROUTE.",
            checkpoint: "C105",
            ..base()
        },
        Case {
            name: "07-test-too-old",
            description: "Scanned 50 h after the test sample (policy 48 h), still inside the window: amber, TEST_TOO_OLD.",
            now: p.body.test_sampled_at + 50 * 3600,
            ..base()
        },
        Case {
            name: "08-unknown-key",
            description: "Signed by a key the bundle does not hold: red, UNKNOWN_KEY.",
            signer: [0x03; 32],
            ..base()
        },
        Case {
            name: "09-not-a-pass",
            description: "A URL, as a payment or web QR holds: red, NOT_A_PASS.",
            pass: None,
            raw_text: Some("https://example.cn/pay?order=20220312"),
            ..base()
        },
        Case {
            name: "11-validity-too-long",
            description: "Genuinely signed, but valid for 30 days (policy: at most 72 h), as a stolen key would mint: red, VALIDITY_TOO_LONG.",
            pass: Some(Pass {
                expires_at: p.not_before + 30 * 86_400,
                ..sample::pass()
            }),
            ..base()
        },
        Case {
            name: "12-starts-before-issue",
            description: "Genuinely signed, but valid from a day before it was issued (beyond the 300 s skew): red, STARTS_BEFORE_ISSUE.",
            pass: Some(Pass {
                not_before: p.issued_at - 86_400,
                expires_at: p.issued_at + 12 * 3600,
                ..sample::pass()
            }),
            now: p.issued_at + 3600,
            ..base()
        },
        Case {
            name: "13-scoped-key-in-scope",
            description: "The key is limited to districts 3710… (Weihai) and raw materials; the pass (371003, raw materials) is inside: green.",
            scope: Some(("3710", "工业原材料")),
            ..base()
        },
        Case {
            name: "14-scoped-key-other-district",
            description: "The key is limited to districts 110105 and 1101… (Beijing); a Weihai pass it signed, as a stolen district key would mint: red, KEY_OUT_OF_SCOPE.",
            scope: Some(("110105,1101", "")),
            ..base()
        },
        Case {
            name: "15-scoped-key-other-category",
            description: "The key is limited to Weihai and finished products; a raw-materials pass it signed: red, KEY_OUT_OF_SCOPE.",
            scope: Some(("3710", "产成品")),
            ..base()
        },
        Case {
            name: "16-test-expires-before-arrival",
            description: "The pass plans arrival at its last checkpoint 2022-03-14 10:00, 60 h after the test sample (policy 48 h); scanned 2022-03-13 08:00 at its first: amber, TEST_EXPIRES_BEFORE_ARRIVAL.",
            pass: Some({
                let mut p = sample::pass();
                p.body.arrive_by = Some(1_647_223_200);
                p
            }),
            ..base()
        },
        Case {
            name: "17-pass-expires-before-arrival",
            description: "The pass plans arrival 2022-03-14 21:00, after its window ends (19:00) and 71 h after the test: amber, TEST_EXPIRES_BEFORE_ARRIVAL and PASS_EXPIRES_BEFORE_ARRIVAL.",
            pass: Some({
                let mut p = sample::pass();
                p.body.arrive_by = Some(1_647_266_400);
                p
            }),
            ..base()
        },
        Case {
            name: "10-trailing-bytes",
            description: "One byte (0x00) appended after the COSE structure: red, DAMAGED.",
            tamper: Some("append 0x00 after the COSE bytes"),
            ..base()
        },
    ]
}

fn bundle_for(case: &Case) -> checkpass::bundle::TrustBundle {
    let trusted = SigningKey::from_seed(&TRUSTED);
    let mut b = sample::bundle(&trusted, 1, sample::ISSUED_AT);
    b.revoked = case
        .revoked
        .iter()
        .copied()
        .map(Serial)
        .collect::<RevocationList>();
    if let Some((districts, categories)) = case.scope {
        b.keys[0].scope = KeyScope::parse(districts, categories).unwrap();
    }
    b
}

fn build(case: &Case) -> Vector {
    let trusted = SigningKey::from_seed(&TRUSTED);
    let bundle = bundle_for(case);
    let (cose_hex, qr_text) = match (&case.pass, case.raw_text) {
        (Some(pass), _) => {
            let signer = SigningKey::from_seed(&case.signer);
            let mut cose = wire::sign_pass_with(pass, &signer, case.alg).unwrap();
            match case.tamper {
                Some(t) if t.starts_with("xor") => {
                    let n = cose.len();
                    cose[n - 1] ^= 0x01;
                }
                Some(_) => cose.push(0x00),
                None => {}
            }
            (Some(hex::encode(&cose)), wire::qr_text(&cose))
        }
        (None, Some(text)) => (None, text.to_string()),
        (None, None) => unreachable!(),
    };
    let verdict = verify(&qr_text, &bundle, case.checkpoint, case.now);
    Vector {
        description: case.description.to_string(),
        trusted_key_seed: hex::encode(TRUSTED),
        trusted_public_key: trusted.public_key().to_hex(),
        trusted_kid: trusted.kid().to_hex(),
        signer_seed: case.pass.as_ref().map(|_| hex::encode(case.signer)),
        alg: case.pass.as_ref().map(|_| case.alg.cose_id()),
        pass: case.pass.clone(),
        tamper: case.tamper.map(str::to_string),
        cose_hex,
        qr_text,
        context: Context {
            checkpoint: case.checkpoint.to_string(),
            now: case.now,
            now_cst: checkpass::time::format_cst(case.now),
            bundle_issuer: bundle.issuer.clone(),
            bundle_issued_at: bundle.issued_at,
            key_valid_from: bundle.keys[0].valid_from,
            key_valid_to: bundle.keys[0].valid_to,
            revoked: case.revoked.clone(),
            max_test_age_secs: bundle.policy.max_test_age_secs,
            clock_skew_secs: bundle.policy.clock_skew_secs,
            max_validity_secs: bundle.policy.max_validity_secs,
            key_scope: case.scope.map(|_| ScopeJson {
                districts: bundle.keys[0].scope.districts.clone(),
                categories: bundle.keys[0].scope.categories.clone(),
            }),
            key_entry_hex: case
                .scope
                .map(|_| hex::encode(key_entry_cbor(&bundle.keys[0]).unwrap())),
        },
        expected: Expected {
            verdict: verdict.level().as_str().to_string(),
            reasons: verdict.codes().iter().map(|c| c.to_string()).collect(),
        },
    }
}

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors")
}

#[test]
fn every_vector_matches_the_code() {
    let dir = vectors_dir();
    let update = std::env::var_os("UPDATE_VECTORS").is_some();
    let cases = cases();
    for case in &cases {
        let built = build(case);
        let path = dir.join(format!("{}.json", case.name));
        if update {
            let text = serde_json::to_string_pretty(&built).unwrap() + "\n";
            std::fs::write(&path, text).unwrap();
            continue;
        }
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let stored: Vector = serde_json::from_str(&text).unwrap();
        assert_eq!(stored, built, "{}", case.name);
    }
    let on_disk = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .map(|e| e.path().extension().is_some_and(|x| x == "json"))
                .unwrap_or(false)
        })
        .count();
    assert_eq!(
        on_disk,
        cases.len(),
        "a vector file without a case, or the reverse"
    );
}

/// Reads each stored vector on its own terms: decode the QR text, check it against the stated
/// key and context (not the generator's), compare with the expectation. These are the same
/// rules; the independent reading is `scripts/check-vectors.py` (Python's pycose), which
/// `stored_vectors_read_by_pycose` runs.
#[test]
fn stored_vectors_verify_on_their_own_terms() {
    for entry in std::fs::read_dir(vectors_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let v: Vector = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let key = checkpass::keys::PublicKey::from_hex(&v.trusted_public_key).unwrap();
        assert_eq!(key.kid().to_hex(), v.trusted_kid);
        let mut bundle = sample::bundle(
            &SigningKey::from_seed(&TRUSTED),
            1,
            v.context.bundle_issued_at,
        );
        bundle.keys = vec![IssuerKey {
            public_key: key,
            valid_from: v.context.key_valid_from,
            valid_to: v.context.key_valid_to,
            compromised_since: None,
            scope: v
                .context
                .key_scope
                .as_ref()
                .map_or_else(KeyScope::default, |s| {
                    KeyScope::new(s.districts.clone(), s.categories.clone()).unwrap()
                }),
        }];
        if let Some(entry) = &v.context.key_entry_hex {
            let stated = hex::encode(key_entry_cbor(&bundle.keys[0]).unwrap());
            assert_eq!(&stated, entry, "{}", path.display());
        }
        bundle.revoked = v.context.revoked.iter().copied().map(Serial).collect();
        bundle.policy.max_test_age_secs = v.context.max_test_age_secs;
        bundle.policy.clock_skew_secs = v.context.clock_skew_secs;
        bundle.policy.max_validity_secs = v.context.max_validity_secs;
        if let Some(cose_hex) = &v.cose_hex {
            let cose = hex::decode(cose_hex).unwrap();
            assert_eq!(wire::qr_text(&cose), v.qr_text, "{}", path.display());
        }
        let verdict = verify(&v.qr_text, &bundle, &v.context.checkpoint, v.context.now);
        assert_eq!(
            verdict.level().as_str(),
            v.expected.verdict,
            "{}",
            path.display()
        );
        assert_eq!(verdict.codes(), v.expected.reasons, "{}", path.display());
        if v.expected.verdict != "red" {
            assert_eq!(
                verdict.pass.as_deref(),
                v.pass.as_ref(),
                "{}",
                path.display()
            );
        }
    }
}

/// The vectors read by another implementation: `scripts/check-vectors.py` with Python's
/// pycose, base45 and cbor2 (installed by `scripts/install-deps.sh`). Without them the test
/// says so and passes, except under `CI=true`, where it fails.
#[test]
fn stored_vectors_read_by_pycose() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/check-vectors.py");
    let ready = std::process::Command::new("python3")
        .args(["-c", "import pycose, base45, cbor2"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ready {
        let why = "python3 with pycose, base45 and cbor2 is missing (scripts/install-deps.sh)";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{why}");
        eprintln!("skipping: {why}");
        return;
    }
    let out = std::process::Command::new("python3")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
