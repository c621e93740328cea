//! The wire format of a pass: QR text ⇄ base45 ⇄ COSE_Sign1 ⇄ CWT claims ⇄ [`Pass`].
//!
//! `TP1:` + base45(COSE_Sign1), tagged 18, protected header `{1: -8 (EdDSA) | -19 (Ed25519),
//! 4: kid}`, empty unprotected header, payload a CWT claims set with `iss`, `exp`, `nbf`, `iat`,
//! `cti` and the private claim [`BODY_CLAIM`] holding the body as a map with small integer keys.
//! docs/pass-format.md is the specification; this module is the reference implementation.
//!
//! Decoding is strict and in two steps, so nothing of the payload is believed before the
//! signature is checked: [`decode_qr_text`] reads the envelope (prefix, base45, COSE, header),
//! [`SignedPass::verify_signature`] checks it over the bytes received, and [`SignedPass::pass`]
//! reads the claims.

use ciborium::Value;
use coset::cwt::{ClaimsSet, ClaimsSetBuilder, Timestamp};
use coset::{
    iana, CborSerializable, CoseSign1, CoseSign1Builder, HeaderBuilder, RegisteredLabelWithPrivate,
    TaggedCborSerializable,
};

use crate::cbor::{as_int, as_text, as_uint, int, Fields};
use crate::keys::{Kid, PublicKey, SigningKey};
use crate::messages::write_bilingual;
use crate::pass::{Category, MaskedId, Pass, PassBody, Serial};
use crate::verdict::Lang;

/// What every pass QR text starts with: format `TP`, version `1`.
pub const QR_PREFIX: &str = "TP1:";
/// The longest QR text accepted, in bytes. A real pass is about a quarter of this.
pub const MAX_QR_TEXT: usize = 4096;
/// CWT claim key of the pass body: the first key of the private-use range (RFC 8392 §9.1).
pub const BODY_CLAIM: i64 = -65537;

/// Limits on the body's strings (UTF-8 bytes) and lists.
pub mod limits {
    pub const PLATE: usize = 16;
    pub const NAME: usize = 64;
    pub const CARGO: usize = 96;
    pub const PLACE: usize = 128;
    pub const ISSUER: usize = 32;
    pub const CHECKPOINT_CODE: usize = 16;
    pub const ROUTE_LEN: usize = 32;
}

/// Keys of the body map.
pub mod body_key {
    pub const DISTRICT: i64 = 1;
    pub const PLATE: i64 = 2;
    pub const TRAILER: i64 = 3;
    pub const DRIVER_NAME: i64 = 4;
    pub const DRIVER_ID: i64 = 5;
    pub const OCCUPANTS: i64 = 6;
    pub const CATEGORY: i64 = 7;
    pub const CARGO: i64 = 8;
    pub const ORIGIN: i64 = 9;
    pub const DESTINATION: i64 = 10;
    pub const ROUTE: i64 = 11;
    pub const TEST_SAMPLED_AT: i64 = 12;
    pub const ARRIVE_BY: i64 = 13;
}

/// Why a QR text is not a readable pass.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    TooLong { len: usize, max: usize },
    NotAPass,
    UnsupportedVersion(String),
    Base45(String),
    Cose(String),
    UnsupportedAlgorithm(String),
    BadKid,
    UnexpectedHeader(&'static str),
    MissingField(&'static str),
    WrongType(&'static str),
    DuplicateKey(String),
    UnknownField(String),
    InvalidValue { field: &'static str, why: String },
    BadSignature,
    Encode(String),
}

impl WireError {
    /// The text in `lang`, without the technical detail.
    pub fn message(&self, lang: Lang) -> String {
        use WireError as E;
        match self {
            E::TooLong { len, max } => msg!(lang, error.wire.too_long, len = len, max = max),
            E::NotAPass => msg!(lang, error.wire.not_a_pass).into(),
            E::UnsupportedVersion(_) => msg!(lang, error.wire.unsupported_version).into(),
            E::Base45(_) => msg!(lang, error.wire.base45).into(),
            E::Cose(_) => msg!(lang, error.wire.cose).into(),
            E::UnsupportedAlgorithm(_) => msg!(lang, error.wire.unsupported_algorithm).into(),
            E::BadKid => msg!(lang, error.wire.bad_kid).into(),
            E::UnexpectedHeader(_) => msg!(lang, error.wire.unexpected_header).into(),
            E::MissingField(_) => msg!(lang, error.wire.missing_field).into(),
            E::WrongType(_) => msg!(lang, error.wire.wrong_type).into(),
            E::DuplicateKey(_) => msg!(lang, error.wire.duplicate_key).into(),
            E::UnknownField(_) => msg!(lang, error.wire.unknown_field).into(),
            E::InvalidValue { .. } => msg!(lang, error.wire.invalid_value).into(),
            E::BadSignature => msg!(lang, error.wire.bad_signature).into(),
            E::Encode(_) => msg!(lang, error.wire.encode).into(),
        }
    }

    /// The technical detail (a field, a decoder's words), the same in both languages.
    fn detail(&self) -> Option<String> {
        use WireError as E;
        match self {
            E::UnsupportedVersion(s)
            | E::Base45(s)
            | E::Cose(s)
            | E::UnsupportedAlgorithm(s)
            | E::DuplicateKey(s)
            | E::UnknownField(s)
            | E::Encode(s) => Some(s.clone()),
            E::UnexpectedHeader(s) | E::MissingField(s) | E::WrongType(s) => Some(s.to_string()),
            E::InvalidValue { field, why } => Some(format!("{field}: {why}")),
            E::TooLong { .. } | E::NotAPass | E::BadKid | E::BadSignature => None,
        }
    }
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let detail = self.detail();
        write_bilingual(
            f,
            |lang| self.message(lang),
            detail.as_ref().map(|d| d as &dyn std::fmt::Display),
        )
    }
}

/// The COSE algorithms accepted for passes. New passes are signed with [`Alg::EdDsa`] (-8),
/// which more COSE libraries know today; -19 (RFC 9864 "Ed25519") is accepted as well.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    EdDsa,
    Ed25519,
}

impl Alg {
    pub fn cose_id(self) -> i64 {
        match self {
            Alg::EdDsa => -8,
            Alg::Ed25519 => -19,
        }
    }
}

/// A pass as read from a QR text: the envelope parsed, the signature not yet checked.
#[derive(Debug, Clone)]
pub struct SignedPass {
    pub alg: Alg,
    pub kid: Kid,
    sign1: CoseSign1,
}

/// Signs a pass and gives the COSE_Sign1 bytes (tagged). The pass is checked against the
/// format's limits first, so whatever is signed can be read back.
pub fn sign_pass(pass: &Pass, key: &SigningKey) -> Result<Vec<u8>, WireError> {
    sign_pass_with(pass, key, Alg::EdDsa)
}

/// [`sign_pass`] with a chosen algorithm identifier (for test vectors of -19).
pub fn sign_pass_with(pass: &Pass, key: &SigningKey, alg: Alg) -> Result<Vec<u8>, WireError> {
    check_pass(pass)?;
    let claims = ClaimsSetBuilder::new()
        .issuer(pass.issuer.clone())
        .expiration_time(Timestamp::WholeSeconds(pass.expires_at))
        .not_before(Timestamp::WholeSeconds(pass.not_before))
        .issued_at(Timestamp::WholeSeconds(pass.issued_at))
        .cwt_id(pass.serial.to_cti())
        .private_claim(BODY_CLAIM, body_to_value(&pass.body))
        .build();
    let payload = claims
        .to_vec()
        .map_err(|e| WireError::Encode(e.to_string()))?;
    let alg_id = match alg {
        Alg::EdDsa => iana::Algorithm::EdDSA,
        Alg::Ed25519 => iana::Algorithm::Ed25519,
    };
    let protected = HeaderBuilder::new()
        .algorithm(alg_id)
        .key_id(key.kid().0.to_vec())
        .build();
    CoseSign1Builder::new()
        .protected(protected)
        .payload(payload)
        .create_signature(&[], |tbs| key.sign(tbs).to_vec())
        .build()
        .to_tagged_vec()
        .map_err(|e| WireError::Encode(e.to_string()))
}

/// The QR text for COSE bytes: prefix and base45, all in QR alphanumeric mode.
pub fn qr_text(cose: &[u8]) -> String {
    let mut text = String::with_capacity(QR_PREFIX.len() + cose.len() * 3 / 2 + 2);
    text.push_str(QR_PREFIX);
    text.push_str(&base45::encode(cose));
    text
}

/// Signs a pass and gives its QR text.
pub fn issue_qr_text(pass: &Pass, key: &SigningKey) -> Result<String, WireError> {
    sign_pass(pass, key).map(|cose| qr_text(&cose))
}

/// Reads the envelope of a QR text. A trailing line ending (as keyboard-wedge scanners send) is
/// ignored; anything else that is not exactly a pass is an error.
pub fn decode_qr_text(text: &str) -> Result<SignedPass, WireError> {
    if text.len() > MAX_QR_TEXT {
        return Err(WireError::TooLong {
            len: text.len(),
            max: MAX_QR_TEXT,
        });
    }
    let text = text.trim_end_matches(['\r', '\n']);
    let Some(data) = text.strip_prefix(QR_PREFIX) else {
        return Err(match version_of(text) {
            Some(v) => WireError::UnsupportedVersion(v.to_string()),
            None => WireError::NotAPass,
        });
    };
    let cose = base45::decode(data).map_err(|e| WireError::Base45(format!("{e:?}")))?;
    decode_cose(&cose)
}

/// `TP<digits>:` of another version, so an old verifier can say "update me" rather than
/// "not a pass".
fn version_of(text: &str) -> Option<&str> {
    let rest = text.strip_prefix("TP")?;
    let end = rest.find(':')?;
    let v = &rest[..end];
    (!v.is_empty() && v.len() <= 3 && v.bytes().all(|b| b.is_ascii_digit())).then_some(v)
}

/// Reads the envelope of COSE_Sign1 bytes.
pub fn decode_cose(cose: &[u8]) -> Result<SignedPass, WireError> {
    let sign1 = CoseSign1::from_tagged_slice(cose).map_err(|e| WireError::Cose(e.to_string()))?;
    let h = &sign1.protected.header;
    let alg = match &h.alg {
        Some(RegisteredLabelWithPrivate::Assigned(iana::Algorithm::EdDSA)) => Alg::EdDsa,
        Some(RegisteredLabelWithPrivate::Assigned(iana::Algorithm::Ed25519)) => Alg::Ed25519,
        Some(other) => return Err(WireError::UnsupportedAlgorithm(format!("{other:?}"))),
        None => return Err(WireError::MissingField("alg")),
    };
    let kid = Kid::from_slice(&h.key_id).ok_or(WireError::BadKid)?;
    if !h.crit.is_empty() {
        return Err(WireError::UnexpectedHeader("crit"));
    }
    if h.content_type.is_some()
        || !h.iv.is_empty()
        || !h.partial_iv.is_empty()
        || !h.counter_signatures.is_empty()
        || !h.rest.is_empty()
    {
        return Err(WireError::UnexpectedHeader("protected"));
    }
    if !sign1.unprotected.is_empty() {
        return Err(WireError::UnexpectedHeader("unprotected"));
    }
    if sign1.payload.is_none() {
        return Err(WireError::MissingField("payload"));
    }
    if sign1.signature.len() != 64 {
        return Err(WireError::InvalidValue {
            field: "signature",
            why: format!("{} bytes, Ed25519 has 64", sign1.signature.len()),
        });
    }
    Ok(SignedPass { alg, kid, sign1 })
}

impl SignedPass {
    /// Checks the signature over the bytes as received (the protected header's original
    /// encoding, never a re-encoding).
    pub fn verify_signature(&self, key: &PublicKey) -> Result<(), WireError> {
        self.sign1.verify_signature(&[], |sig, tbs| {
            if key.verify(tbs, sig) {
                Ok(())
            } else {
                Err(WireError::BadSignature)
            }
        })
    }

    /// Reads the claims. Call only after [`SignedPass::verify_signature`] succeeded.
    pub fn pass(&self) -> Result<Pass, WireError> {
        let payload = self
            .sign1
            .payload
            .as_deref()
            .ok_or(WireError::MissingField("payload"))?;
        let claims = ClaimsSet::from_slice(payload).map_err(|e| WireError::Cose(e.to_string()))?;
        pass_from_claims(claims)
    }
}

fn whole_seconds(t: Option<Timestamp>, field: &'static str) -> Result<i64, WireError> {
    match t {
        Some(Timestamp::WholeSeconds(s)) => Ok(s),
        Some(Timestamp::FractionalSeconds(_)) => Err(WireError::WrongType(field)),
        None => Err(WireError::MissingField(field)),
    }
}

fn pass_from_claims(claims: ClaimsSet) -> Result<Pass, WireError> {
    if claims.subject.is_some() {
        return Err(WireError::UnknownField("sub".into()));
    }
    if claims.audience.is_some() {
        return Err(WireError::UnknownField("aud".into()));
    }
    let issuer = claims.issuer.ok_or(WireError::MissingField("iss"))?;
    check_text(&issuer, "iss", limits::ISSUER)?;
    let expires_at = whole_seconds(claims.expiration_time, "exp")?;
    let not_before = whole_seconds(claims.not_before, "nbf")?;
    let issued_at = whole_seconds(claims.issued_at, "iat")?;
    let cti = claims.cwt_id.ok_or(WireError::MissingField("cti"))?;
    let serial = Serial::from_cti(&cti).ok_or_else(|| WireError::InvalidValue {
        field: "cti",
        why: "not a serial".into(),
    })?;
    let mut body = None;
    for (name, value) in claims.rest {
        match name {
            RegisteredLabelWithPrivate::PrivateUse(BODY_CLAIM) => body = Some(value),
            other => return Err(WireError::UnknownField(format!("claim {other:?}"))),
        }
    }
    let body = body_from_value(body.ok_or(WireError::MissingField("body"))?)?;
    let pass = Pass {
        serial,
        issuer,
        issued_at,
        not_before,
        expires_at,
        body,
    };
    check_pass(&pass)?;
    Ok(pass)
}

fn body_to_value(b: &PassBody) -> Value {
    use body_key::*;
    let mut m = vec![
        (int(DISTRICT), int(i64::from(b.district))),
        (int(PLATE), Value::Text(b.plate.clone())),
    ];
    if let Some(t) = &b.trailer {
        m.push((int(TRAILER), Value::Text(t.clone())));
    }
    m.push((int(DRIVER_NAME), Value::Text(b.driver_name.clone())));
    // One occupant (the driver alone) is the common case and is left out.
    if b.occupants != 1 {
        m.push((int(OCCUPANTS), int(i64::from(b.occupants))));
    }
    m.extend([
        (
            int(DRIVER_ID),
            Value::Array(vec![
                int(i64::from(b.driver_id.prefix)),
                int(suffix_to_int(&b.driver_id.suffix)),
            ]),
        ),
        (int(CATEGORY), int(i64::from(b.category.code()))),
        (int(CARGO), Value::Text(b.cargo.clone())),
        (int(ORIGIN), Value::Text(b.origin.clone())),
        (int(DESTINATION), Value::Text(b.destination.clone())),
        (
            int(ROUTE),
            Value::Array(b.route.iter().cloned().map(Value::Text).collect()),
        ),
        (int(TEST_SAMPLED_AT), int(b.test_sampled_at)),
    ]);
    if let Some(a) = b.arrive_by {
        m.push((int(ARRIVE_BY), int(a)));
    }
    Value::Map(m)
}

fn body_from_value(v: Value) -> Result<PassBody, WireError> {
    use body_key::*;
    let mut f = Fields::from_value(v, "body", ARRIVE_BY)?;
    let district = f.uint(DISTRICT, "district", 999_999)? as u32;
    let plate = f.text(PLATE, "plate")?;
    let trailer = f.take(TRAILER).map(|v| as_text(v, "trailer")).transpose()?;
    let driver_name = f.text(DRIVER_NAME, "driver_name")?;
    let driver_id = match f.required(DRIVER_ID, "driver_id")? {
        Value::Array(parts) => {
            let [prefix, suffix]: [Value; 2] = parts
                .try_into()
                .map_err(|_| WireError::WrongType("driver_id"))?;
            MaskedId {
                prefix: as_uint(prefix, "driver_id", 999_999)? as u32,
                suffix: suffix_from_int(as_int(suffix, "driver_id")?).ok_or(
                    WireError::InvalidValue {
                        field: "driver_id",
                        why: "suffix out of range".into(),
                    },
                )?,
            }
        }
        _ => return Err(WireError::WrongType("driver_id")),
    };
    let occupants = match f.take(OCCUPANTS) {
        None => 1,
        Some(v) => match as_uint(v, "occupants", u64::from(u16::MAX))? {
            // 1 is written by leaving the field out; one encoding per pass.
            1 => {
                return Err(WireError::InvalidValue {
                    field: "occupants",
                    why: "1 must be left out".into(),
                })
            }
            n => n as u16,
        },
    };
    let category_code = f.uint(CATEGORY, "category", u64::from(u8::MAX))?;
    let category = Category::from_code(category_code).ok_or(WireError::InvalidValue {
        field: "category",
        why: format!("unknown code {category_code}"),
    })?;
    let cargo = f.text(CARGO, "cargo")?;
    let origin = f.text(ORIGIN, "origin")?;
    let destination = f.text(DESTINATION, "destination")?;
    let route = f
        .array(ROUTE, "route")?
        .into_iter()
        .map(|v| as_text(v, "route"))
        .collect::<Result<Vec<_>, _>>()?;
    let test_sampled_at = f.int(TEST_SAMPLED_AT, "test_sampled_at")?;
    let arrive_by = f
        .take(ARRIVE_BY)
        .map(|v| as_int(v, "arrive_by"))
        .transpose()?;
    Ok(PassBody {
        district,
        plate,
        trailer,
        driver_name,
        driver_id,
        occupants,
        category,
        cargo,
        origin,
        destination,
        route,
        test_sampled_at,
        arrive_by,
    })
}

/// The last four characters of an ID number as one integer: `0..=9999` for four digits, and
/// `-1 - n` for the three digits `n` followed by the check character `X`.
fn suffix_to_int(suffix: &str) -> i64 {
    match suffix.strip_suffix('X') {
        Some(digits) => -1 - digits.parse::<i64>().unwrap_or(0),
        None => suffix.parse().unwrap_or(0),
    }
}

fn suffix_from_int(n: i64) -> Option<String> {
    match n {
        0..=9999 => Some(format!("{n:04}")),
        -1000..=-1 => Some(format!("{:03}X", -1 - n)),
        _ => None,
    }
}

fn check_text(s: &str, field: &'static str, max: usize) -> Result<(), WireError> {
    if s.trim().is_empty() {
        return Err(WireError::InvalidValue {
            field,
            why: "empty".into(),
        });
    }
    if s.len() > max {
        return Err(WireError::InvalidValue {
            field,
            why: format!("{} bytes > {max}", s.len()),
        });
    }
    if s.chars().any(char::is_control) {
        return Err(WireError::InvalidValue {
            field,
            why: "control character".into(),
        });
    }
    Ok(())
}

/// The format's limits, applied the same way before signing and after reading.
pub fn check_pass(p: &Pass) -> Result<(), WireError> {
    check_text(&p.issuer, "iss", limits::ISSUER)?;
    check_body(&p.body)?;
    if p.serial.0 > crate::pass::SERIAL_MAX {
        return Err(WireError::InvalidValue {
            field: "cti",
            why: "serial too large".into(),
        });
    }
    if p.expires_at <= p.not_before {
        return Err(WireError::InvalidValue {
            field: "exp",
            why: "not after nbf".into(),
        });
    }
    if p.body.arrive_by.is_some_and(|a| a < p.not_before) {
        return Err(WireError::InvalidValue {
            field: "arrive_by",
            why: "before nbf".into(),
        });
    }
    Ok(())
}

/// The format's limits on a pass body alone (text lengths in UTF-8 bytes, no control
/// characters, route length, masked ID, district): what the issuer checks at import, so an
/// application that could never be signed is refused with its reason instead of approved.
/// The first field found wrong is named in [`WireError::InvalidValue`].
pub fn check_body(b: &PassBody) -> Result<(), WireError> {
    check_text(&b.plate, "plate", limits::PLATE)?;
    if let Some(t) = &b.trailer {
        check_text(t, "trailer", limits::PLATE)?;
    }
    check_text(&b.driver_name, "driver_name", limits::NAME)?;
    check_text(&b.cargo, "cargo", limits::CARGO)?;
    check_text(&b.origin, "origin", limits::PLACE)?;
    check_text(&b.destination, "destination", limits::PLACE)?;
    if b.route.is_empty() || b.route.len() > limits::ROUTE_LEN {
        return Err(WireError::InvalidValue {
            field: "route",
            why: format!("{} checkpoints", b.route.len()),
        });
    }
    for code in &b.route {
        check_text(code, "route", limits::CHECKPOINT_CODE)?;
    }
    if !b.driver_id.is_well_formed() {
        return Err(WireError::InvalidValue {
            field: "driver_id",
            why: "not a masked ID".into(),
        });
    }
    if b.district > 999_999 {
        return Err(WireError::InvalidValue {
            field: "district",
            why: "more than 6 digits".into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
