use super::*;
use crate::sample;
use proptest::prelude::*;

fn key() -> SigningKey {
    sample::vector_signing_key()
}

/// Signs an arbitrary claims value, so decoding errors come from the payload, not the signature.
fn sign_claims(claims: Value) -> String {
    let mut payload = Vec::new();
    ciborium::into_writer(&claims, &mut payload).unwrap();
    sign_raw_payload(payload)
}

fn sign_raw_payload(payload: Vec<u8>) -> String {
    let k = key();
    let cose = CoseSign1Builder::new()
        .protected(
            HeaderBuilder::new()
                .algorithm(iana::Algorithm::EdDSA)
                .key_id(k.kid().0.to_vec())
                .build(),
        )
        .payload(payload)
        .create_signature(&[], |tbs| k.sign(tbs).to_vec())
        .build()
        .to_tagged_vec()
        .unwrap();
    qr_text(&cose)
}

/// The sample pass's claims as a CBOR map, to be edited by a test.
fn sample_claims() -> Vec<(Value, Value)> {
    let text = issue_qr_text(&sample::pass(), &key()).unwrap();
    let signed = decode_qr_text(&text).unwrap();
    let payload = signed.sign1.payload.clone().unwrap();
    match ciborium::from_reader::<Value, _>(payload.as_slice()).unwrap() {
        Value::Map(m) => m,
        _ => unreachable!(),
    }
}

fn body_entries(claims: &mut [(Value, Value)]) -> &mut Vec<(Value, Value)> {
    let (_, body) = claims
        .iter_mut()
        .find(|(k, _)| *k == int(BODY_CLAIM))
        .unwrap();
    match body {
        Value::Map(m) => m,
        _ => unreachable!(),
    }
}

fn read(text: &str) -> Result<Pass, WireError> {
    let signed = decode_qr_text(text)?;
    signed.verify_signature(&key().public_key())?;
    signed.pass()
}

#[test]
fn a_pass_round_trips() {
    let pass = sample::pass();
    let text = issue_qr_text(&pass, &key()).unwrap();
    assert!(text.starts_with("TP1:"));
    let signed = decode_qr_text(&text).unwrap();
    assert_eq!(signed.alg, Alg::EdDsa);
    assert_eq!(signed.kid, key().kid());
    assert_eq!(read(&text).unwrap(), pass);
}

#[test]
fn the_qr_text_is_alphanumeric_mode_only() {
    let text = issue_qr_text(&sample::pass(), &key()).unwrap();
    let alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    assert!(text.chars().all(|c| alphabet.contains(c)), "{text}");
}

#[test]
fn the_sample_pass_is_compact() {
    let cose = sign_pass(&sample::pass(), &key()).unwrap();
    assert!(cose.len() <= 260, "{} bytes", cose.len());
}

#[test]
fn signing_is_deterministic() {
    // Ed25519 is deterministic: test vectors can pin exact bytes.
    let a = issue_qr_text(&sample::pass(), &key()).unwrap();
    let b = issue_qr_text(&sample::pass(), &key()).unwrap();
    assert_eq!(a, b);
}

#[test]
fn ed25519_algorithm_id_is_accepted_too() {
    let cose = sign_pass_with(&sample::pass(), &key(), Alg::Ed25519).unwrap();
    let text = qr_text(&cose);
    assert_eq!(decode_qr_text(&text).unwrap().alg, Alg::Ed25519);
    assert_eq!(read(&text).unwrap(), sample::pass());
}

#[test]
fn a_trailing_line_ending_is_ignored_but_nothing_else() {
    let text = issue_qr_text(&sample::pass(), &key()).unwrap();
    assert!(read(&format!("{text}\r\n")).is_ok());
    assert!(matches!(
        read(&format!("{text}00")),
        Err(WireError::Cose(_)) | Err(WireError::Base45(_))
    ));
}

#[test]
fn prefix_and_version() {
    assert_eq!(
        decode_qr_text("https://example.cn/").unwrap_err(),
        WireError::NotAPass
    );
    assert_eq!(decode_qr_text("").unwrap_err(), WireError::NotAPass);
    assert_eq!(
        decode_qr_text("HC1:NCFOXN").unwrap_err(),
        WireError::NotAPass
    );
    assert_eq!(decode_qr_text("tp1:ABC").unwrap_err(), WireError::NotAPass);
    assert_eq!(
        decode_qr_text("TP2:ABC").unwrap_err(),
        WireError::UnsupportedVersion("2".into())
    );
}

#[test]
fn too_long() {
    let text = format!("TP1:{}", "A".repeat(MAX_QR_TEXT));
    assert!(matches!(
        decode_qr_text(&text),
        Err(WireError::TooLong { .. })
    ));
}

#[test]
fn bad_base45() {
    assert!(matches!(
        decode_qr_text("TP1:abc"),
        Err(WireError::Base45(_))
    ));
    assert!(matches!(decode_qr_text("TP1:A"), Err(WireError::Base45(_))));
    assert!(
        matches!(decode_qr_text("TP1:GGW"), Err(WireError::Base45(_))),
        "over 65535"
    );
}

#[test]
fn cose_envelope_errors() {
    let cose = sign_pass(&sample::pass(), &key()).unwrap();
    // Trailing bytes after the COSE structure.
    let mut trailing = cose.clone();
    trailing.push(0x00);
    assert!(matches!(
        decode_qr_text(&qr_text(&trailing)),
        Err(WireError::Cose(_))
    ));
    // Untagged.
    assert!(matches!(
        decode_qr_text(&qr_text(&cose[1..])),
        Err(WireError::Cose(_))
    ));
    // Truncated.
    assert!(matches!(
        decode_qr_text(&qr_text(&cose[..cose.len() - 1])),
        Err(WireError::Cose(_))
    ));
    // Empty.
    assert!(matches!(decode_qr_text("TP1:"), Err(WireError::Cose(_))));
}

#[test]
fn header_errors() {
    let k = key();
    let build = |protected: coset::Header, unprotected: coset::Header| {
        let cose = CoseSign1Builder::new()
            .protected(protected)
            .unprotected(unprotected)
            .payload(vec![0xa0])
            .create_signature(&[], |tbs| k.sign(tbs).to_vec())
            .build()
            .to_tagged_vec()
            .unwrap();
        decode_qr_text(&qr_text(&cose))
    };
    let kid = k.kid().0.to_vec();
    let es256 = HeaderBuilder::new()
        .algorithm(iana::Algorithm::ES256)
        .key_id(kid.clone())
        .build();
    assert!(matches!(
        build(es256, Default::default()),
        Err(WireError::UnsupportedAlgorithm(_))
    ));
    let no_alg = HeaderBuilder::new().key_id(kid.clone()).build();
    assert_eq!(
        build(no_alg, Default::default()).unwrap_err(),
        WireError::MissingField("alg")
    );
    let short_kid = HeaderBuilder::new()
        .algorithm(iana::Algorithm::EdDSA)
        .key_id(vec![1, 2, 3])
        .build();
    assert_eq!(
        build(short_kid, Default::default()).unwrap_err(),
        WireError::BadKid
    );
    let good = HeaderBuilder::new()
        .algorithm(iana::Algorithm::EdDSA)
        .key_id(kid.clone())
        .build();
    let unprotected = HeaderBuilder::new().key_id(vec![9; 8]).build();
    assert_eq!(
        build(good.clone(), unprotected).unwrap_err(),
        WireError::UnexpectedHeader("unprotected")
    );
    let with_ct = HeaderBuilder::new()
        .algorithm(iana::Algorithm::EdDSA)
        .key_id(kid)
        .content_format(iana::CoapContentFormat::Cwt)
        .build();
    assert_eq!(
        build(with_ct, Default::default()).unwrap_err(),
        WireError::UnexpectedHeader("protected")
    );
    assert!(build(good, Default::default()).is_ok());
}

#[test]
fn a_changed_signature_is_refused() {
    let mut cose = sign_pass(&sample::pass(), &key()).unwrap();
    let n = cose.len();
    cose[n - 1] ^= 0x01;
    let signed = decode_qr_text(&qr_text(&cose)).unwrap();
    assert_eq!(
        signed.verify_signature(&key().public_key()),
        Err(WireError::BadSignature)
    );
    let other = SigningKey::from_seed(&[0x55; 32]).public_key();
    let good = decode_qr_text(&issue_qr_text(&sample::pass(), &key()).unwrap()).unwrap();
    assert_eq!(good.verify_signature(&other), Err(WireError::BadSignature));
}

#[test]
fn duplicate_claim_is_refused() {
    let mut claims = sample_claims();
    claims.push((int(1), Value::Text("WHJT".into())));
    assert!(matches!(
        read(&sign_claims(Value::Map(claims))),
        Err(WireError::Cose(_))
    ));
}

#[test]
fn duplicate_body_key_is_refused() {
    let mut claims = sample_claims();
    body_entries(&mut claims).push((int(body_key::PLATE), Value::Text("鲁K00000".into())));
    assert_eq!(
        read(&sign_claims(Value::Map(claims))).unwrap_err(),
        WireError::DuplicateKey("body key 2".into())
    );
}

#[test]
fn unknown_body_key_and_claim_are_refused() {
    let mut claims = sample_claims();
    body_entries(&mut claims).push((int(99), int(1)));
    assert!(matches!(
        read(&sign_claims(Value::Map(claims))),
        Err(WireError::UnknownField(_))
    ));
    let mut claims = sample_claims();
    claims.push((int(-65538), int(1)));
    assert!(matches!(
        read(&sign_claims(Value::Map(claims))),
        Err(WireError::UnknownField(_))
    ));
    let mut claims = sample_claims();
    claims.push((int(2), Value::Text("subject".into())));
    assert!(matches!(
        read(&sign_claims(Value::Map(claims))),
        Err(WireError::UnknownField(_))
    ));
}

#[test]
fn every_missing_field_is_named() {
    let names = [
        (body_key::DISTRICT, "district"),
        (body_key::PLATE, "plate"),
        (body_key::DRIVER_NAME, "driver_name"),
        (body_key::DRIVER_ID, "driver_id"),
        (body_key::CATEGORY, "category"),
        (body_key::CARGO, "cargo"),
        (body_key::ORIGIN, "origin"),
        (body_key::DESTINATION, "destination"),
        (body_key::ROUTE, "route"),
        (body_key::TEST_SAMPLED_AT, "test_sampled_at"),
    ];
    for (key, name) in names {
        let mut claims = sample_claims();
        body_entries(&mut claims).retain(|(k, _)| *k != int(key));
        assert_eq!(
            read(&sign_claims(Value::Map(claims))).unwrap_err(),
            WireError::MissingField(name)
        );
    }
    for (claim, name) in [
        (1, "iss"),
        (4, "exp"),
        (5, "nbf"),
        (6, "iat"),
        (7, "cti"),
        (BODY_CLAIM, "body"),
    ] {
        let mut claims = sample_claims();
        claims.retain(|(k, _)| *k != int(claim));
        let err = read(&sign_claims(Value::Map(claims))).unwrap_err();
        assert_eq!(err, WireError::MissingField(name), "claim {claim}");
    }
}

#[test]
fn wrong_types_are_refused() {
    let cases: Vec<(i64, Value)> = vec![
        (body_key::DISTRICT, Value::Text("371003".into())),
        (body_key::PLATE, int(1)),
        (
            body_key::DRIVER_ID,
            Value::Text("320102********6657".into()),
        ),
        (body_key::DRIVER_ID, Value::Array(vec![int(320102)])),
        (body_key::OCCUPANTS, int(-1)),
        (
            body_key::DRIVER_ID,
            Value::Array(vec![int(320102), int(10_000)]),
        ),
        (
            body_key::DRIVER_ID,
            Value::Array(vec![int(320102), Value::Text("6657".into())]),
        ),
        (body_key::CATEGORY, int(4)),
        (body_key::ROUTE, Value::Text("C201".into())),
        (body_key::ROUTE, Value::Array(vec![int(201)])),
        (body_key::ROUTE, Value::Array(vec![])),
        (body_key::TEST_SAMPLED_AT, Value::Float(1.5)),
        (body_key::PLATE, Value::Text(String::new())),
        (body_key::CARGO, Value::Text("x".repeat(200))),
        (body_key::DRIVER_NAME, Value::Text("a\u{0}b".into())),
    ];
    for (key, value) in cases {
        let mut claims = sample_claims();
        let body = body_entries(&mut claims);
        body.retain(|(k, _)| *k != int(key));
        body.push((int(key), value.clone()));
        let err = read(&sign_claims(Value::Map(claims))).unwrap_err();
        assert!(
            matches!(
                err,
                WireError::WrongType(_) | WireError::InvalidValue { .. }
            ),
            "key {key} value {value:?}: {err:?}"
        );
    }
    let mut claims = sample_claims();
    for (k, v) in claims.iter_mut() {
        if *k == int(4) {
            *v = Value::Float(1.0e9);
        }
    }
    assert_eq!(
        read(&sign_claims(Value::Map(claims))).unwrap_err(),
        WireError::WrongType("exp")
    );
    assert!(read(&sign_claims(Value::Array(vec![]))).is_err());
    assert!(
        read(&sign_raw_payload(vec![0xa0, 0x00])).is_err(),
        "payload with trailing bytes"
    );
}

#[test]
fn one_occupant_has_one_encoding() {
    let mut claims = sample_claims();
    body_entries(&mut claims).push((int(body_key::OCCUPANTS), int(1)));
    assert!(matches!(
        read(&sign_claims(Value::Map(claims))),
        Err(WireError::InvalidValue {
            field: "occupants",
            ..
        })
    ));
    let mut pass = sample::pass();
    pass.body.occupants = 36;
    assert_eq!(read(&issue_qr_text(&pass, &key()).unwrap()).unwrap(), pass);
}

#[test]
fn id_suffix_integers() {
    assert_eq!(suffix_to_int("6657"), 6657);
    assert_eq!(suffix_to_int("0001"), 1);
    assert_eq!(suffix_to_int("661X"), -662);
    assert_eq!(suffix_to_int("000X"), -1);
    for s in ["6657", "0001", "661X", "000X", "999X", "9999"] {
        assert_eq!(suffix_from_int(suffix_to_int(s)).as_deref(), Some(s));
    }
    assert_eq!(suffix_from_int(10_000), None);
    assert_eq!(suffix_from_int(-1001), None);
}

#[test]
fn serial_must_be_minimal() {
    let mut claims = sample_claims();
    for (k, v) in claims.iter_mut() {
        if *k == int(7) {
            *v = Value::Bytes(vec![0, 1]);
        }
    }
    assert!(matches!(
        read(&sign_claims(Value::Map(claims))),
        Err(WireError::InvalidValue { field: "cti", .. })
    ));
}

#[test]
fn signing_refuses_what_could_not_be_read_back() {
    let mut pass = sample::pass();
    pass.body.route.clear();
    assert!(sign_pass(&pass, &key()).is_err());
    let mut pass = sample::pass();
    pass.expires_at = pass.not_before;
    assert!(sign_pass(&pass, &key()).is_err());
}

#[test]
fn check_body_names_the_field_over_its_limit() {
    let mut pass = sample::pass();
    assert_eq!(check_body(&pass.body), Ok(()));
    // 24 Chinese characters are 72 UTF-8 bytes.
    pass.body.driver_name = "张".repeat(24);
    assert_eq!(
        check_body(&pass.body),
        Err(WireError::InvalidValue {
            field: "driver_name",
            why: "72 bytes > 64".into()
        })
    );
    assert_eq!(check_pass(&pass), check_body(&pass.body));
}

fn text_strategy(max_chars: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            proptest::char::range('\u{4e00}', '\u{9fa5}'),
            proptest::char::range('A', 'Z'),
            proptest::char::range('0', '9'),
        ],
        1..=max_chars,
    )
    .prop_map(|v| v.into_iter().collect())
}

prop_compose! {
    fn any_pass()(
        serial in 0u64..=crate::pass::SERIAL_MAX,
        district in 100_000u32..=999_999,
        plate in text_strategy(5),
        trailer in proptest::option::of(text_strategy(5)),
        driver_name in text_strategy(20),
        prefix in 100_000u32..=999_999,
        suffix_digits in 0u16..1000,
        x in any::<bool>(),
        occupants in any::<u16>(),
        category in 0usize..3,
        cargo in text_strategy(30),
        origin in text_strategy(40),
        destination in text_strategy(40),
        route in proptest::collection::vec("[A-Z][0-9]{3,6}", 1..8),
        issued_at in -10_000_000_000i64..10_000_000_000,
        not_before in -10_000_000_000i64..10_000_000_000,
        duration in 1i64..10_000_000,
        test_sampled_at in any::<i64>(),
        arrive_after in proptest::option::of(0i64..10_000_000),
    ) -> Pass {
        Pass {
            serial: Serial(serial),
            issuer: "WHJT".into(),
            issued_at,
            not_before,
            expires_at: not_before + duration,
            body: PassBody {
                district,
                plate,
                trailer,
                driver_name,
                driver_id: MaskedId {
                    prefix,
                    suffix: format!("{:03}{}", suffix_digits, if x { "X".to_string() } else { (suffix_digits % 10).to_string() }),
                },
                occupants,
                category: Category::ALL[category],
                cargo,
                origin,
                destination,
                route,
                test_sampled_at,
                arrive_by: arrive_after.map(|a| not_before + a),
            },
        }
    }
}

proptest! {
    #[test]
    fn any_pass_round_trips(pass in any_pass()) {
        let text = issue_qr_text(&pass, &key()).unwrap();
        prop_assert!(text.len() <= MAX_QR_TEXT);
        prop_assert_eq!(read(&text).unwrap(), pass);
    }

    #[test]
    fn decoding_never_panics_on_arbitrary_text(s in ".{0,300}") {
        let _ = decode_qr_text(&s).and_then(|p| p.pass());
        let prefixed = format!("TP1:{s}");
        let _ = decode_qr_text(&prefixed).and_then(|p| p.pass());
    }

    #[test]
    fn decoding_never_panics_on_arbitrary_cose(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = decode_cose(&bytes).and_then(|p| p.pass());
        let mut tagged = vec![0xd2];
        tagged.extend_from_slice(&bytes);
        let _ = decode_cose(&tagged).and_then(|p| p.pass());
    }
}
