//! The pass model: what a signed pass says, independent of how it is encoded.
//!
//! A [`Pass`] is the CWT envelope (issuer, times, serial) around a [`PassBody`] (the truck, the
//! driver and the journey). Only what a checkpoint needs is here: the driver's full ID number and
//! phone stay in the issuer's store, the pass carries a [`MaskedId`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::messages::write_bilingual;
use crate::verdict::Lang;
/// Errors in the values of a pass, found when building one or reading one back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PassError {
    BadSerial(String),
    SerialCheckDigit(String),
    BadIdNumber,
    UnknownCategory(String),
}

impl PassError {
    /// The text in `lang`, without the value concerned.
    pub fn message(&self, lang: Lang) -> &'static str {
        match self {
            PassError::BadSerial(_) => msg!(lang, error.pass.bad_serial),
            PassError::SerialCheckDigit(_) => msg!(lang, error.pass.serial_check_digit),
            PassError::BadIdNumber => msg!(lang, error.pass.bad_id_number),
            PassError::UnknownCategory(_) => msg!(lang, error.pass.unknown_category),
        }
    }
}

impl std::fmt::Display for PassError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let value: Option<&dyn std::fmt::Display> = match self {
            PassError::BadSerial(v)
            | PassError::SerialCheckDigit(v)
            | PassError::UnknownCategory(v) => Some(v),
            PassError::BadIdNumber => None,
        };
        write_bilingual(f, |lang| self.message(lang).into(), value)
    }
}

/// The largest serial: ten decimal digits before the check digit.
pub const SERIAL_MAX: u64 = 9_999_999_999;

/// The pass number printed on the sheet and carried as the CWT `cti`.
///
/// Shown as `00000-00123-4`: ten digits in two groups and a Luhn check digit, so an officer
/// who types a serial by hand is told at once when a digit is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Serial(pub u64);

impl Serial {
    /// Luhn check digit of the ten-digit form.
    pub fn check_digit(self) -> u8 {
        let digits = format!("{:010}", self.0);
        luhn_check_digit(&digits)
    }

    /// Minimal big-endian bytes, as carried in the CWT `cti` claim.
    pub fn to_cti(self) -> Vec<u8> {
        let bytes = self.0.to_be_bytes();
        let first = bytes.iter().position(|b| *b != 0).unwrap_or(7);
        bytes[first..].to_vec()
    }

    /// Reads a `cti`: 1 to 8 bytes, minimal (no leading zero byte), at most [`SERIAL_MAX`].
    pub fn from_cti(cti: &[u8]) -> Option<Serial> {
        if cti.is_empty() || cti.len() > 8 || (cti.len() > 1 && cti[0] == 0) {
            return None;
        }
        let value = cti.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        (value <= SERIAL_MAX).then_some(Serial(value))
    }
}

fn luhn_check_digit(digits: &str) -> u8 {
    // Walk from the right; the digit next to the check digit is doubled.
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let dd = d * 2;
                if dd > 9 {
                    dd - 9
                } else {
                    dd
                }
            } else {
                d
            }
        })
        .sum();
    ((10 - (sum % 10)) % 10) as u8
}

impl fmt::Display for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = format!("{:010}", self.0);
        write!(
            f,
            "{}-{}-{}",
            &digits[..5],
            &digits[5..],
            self.check_digit()
        )
    }
}

impl FromStr for Serial {
    type Err = PassError;

    /// Accepts `00000-00123-4`, `00000001234` (with check digit) and spaces or dashes anywhere.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits: String = s.chars().filter(|c| *c != '-' && *c != ' ').collect();
        if digits.len() != 11 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PassError::BadSerial(s.to_string()));
        }
        let (body, check) = digits.split_at(10);
        let value: u64 = body
            .parse()
            .map_err(|_| PassError::BadSerial(s.to_string()))?;
        let serial = Serial(value);
        if check.as_bytes()[0] - b'0' != serial.check_digit() {
            return Err(PassError::SerialCheckDigit(s.to_string()));
        }
        Ok(serial)
    }
}

/// What the truck carries, as in the city's notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Category {
    /// 工业原材料
    RawMaterials,
    /// 产成品
    FinishedGoods,
    /// 返岗人员 (buses bringing workers back to factories)
    ReturningWorkers,
}

impl Category {
    pub const ALL: [Category; 3] = [
        Category::RawMaterials,
        Category::FinishedGoods,
        Category::ReturningWorkers,
    ];

    /// The integer carried on the wire.
    pub fn code(self) -> u8 {
        match self {
            Category::RawMaterials => 1,
            Category::FinishedGoods => 2,
            Category::ReturningWorkers => 3,
        }
    }

    pub fn from_code(code: u64) -> Option<Category> {
        Category::ALL
            .into_iter()
            .find(|c| u64::from(c.code()) == code)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Category::RawMaterials => "工业原材料",
            Category::FinishedGoods => "产成品",
            Category::ReturningWorkers => "返岗人员",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Category::RawMaterials => "industrial raw materials",
            Category::FinishedGoods => "finished products",
            Category::ReturningWorkers => "workers returning to work",
        }
    }

    /// The category named by its Chinese label, as written in the application spreadsheet.
    pub fn from_label(label: &str) -> Option<Category> {
        let label = label.trim();
        Category::ALL.into_iter().find(|c| c.label_zh() == label)
    }
}

/// The driver's ID number with the middle hidden: the first six digits (the region of
/// registration) and the last four (the last of which may be `X`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MaskedId {
    pub prefix: u32,
    pub suffix: String,
}

impl MaskedId {
    /// Masks a full 18-character ID number. Only the shape is checked here; the GB 11643 check
    /// digit is the issuer's validation.
    pub fn from_full_id(id: &str) -> Result<MaskedId, PassError> {
        let id = id.trim();
        let bytes = id.as_bytes();
        let shape_ok = bytes.len() == 18
            && bytes[..17].iter().all(u8::is_ascii_digit)
            && (bytes[17].is_ascii_digit() || bytes[17] == b'X' || bytes[17] == b'x');
        if !shape_ok {
            return Err(PassError::BadIdNumber);
        }
        let prefix = id[..6].parse().map_err(|_| PassError::BadIdNumber)?;
        Ok(MaskedId {
            prefix,
            suffix: id[14..].to_ascii_uppercase(),
        })
    }

    /// Whether the parts have the shape of a masked ID (used when decoding a pass).
    pub fn is_well_formed(&self) -> bool {
        let s = self.suffix.as_bytes();
        (100_000..=999_999).contains(&self.prefix)
            && s.len() == 4
            && s[..3].iter().all(u8::is_ascii_digit)
            && (s[3].is_ascii_digit() || s[3] == b'X')
    }
}

impl fmt::Display for MaskedId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:06}********{}", self.prefix, self.suffix)
    }
}

/// The journey and the people on it: the private claim of the CWT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassBody {
    /// Code of the applying district (区划代码), e.g. 371003.
    pub district: u32,
    pub plate: String,
    pub trailer: Option<String>,
    pub driver_name: String,
    pub driver_id: MaskedId,
    /// People in the vehicle, the driver included.
    pub occupants: u16,
    pub category: Category,
    pub cargo: String,
    pub origin: String,
    pub destination: String,
    /// Checkpoint codes in the order the vehicle passes them.
    pub route: Vec<String>,
    /// When the driver's nucleic-acid test sample was taken (unix seconds).
    pub test_sampled_at: i64,
    /// When the vehicle plans to reach the route's last checkpoint (unix seconds), if the
    /// applicant gave it: checkpoints before it warn when the test or the pass will not last
    /// that long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrive_by: Option<i64>,
}

/// A whole pass: the CWT claims around the body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pass {
    pub serial: Serial,
    /// The issuing authority (CWT `iss`); the trust bundle names the one it trusts.
    pub issuer: String,
    pub issued_at: i64,
    pub not_before: i64,
    pub expires_at: i64,
    pub body: PassBody,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_display_and_parse_round_trip() {
        for n in [0, 1, 123, 99_999, 1_234_567_890, SERIAL_MAX] {
            let s = Serial(n);
            let text = s.to_string();
            assert_eq!(text.len(), 13, "{text}");
            assert_eq!(text.parse::<Serial>(), Ok(s));
            assert_eq!(text.replace('-', "").parse::<Serial>(), Ok(s));
        }
        assert_eq!(Serial(123).to_string(), "00000-00123-0");
    }

    #[test]
    fn serial_with_a_wrong_digit_is_refused() {
        let good = Serial(4711).to_string();
        let mut bad = good.clone().into_bytes();
        bad[8] = if bad[8] == b'9' { b'0' } else { bad[8] + 1 };
        let bad = String::from_utf8(bad).unwrap();
        assert!(matches!(
            bad.parse::<Serial>(),
            Err(PassError::SerialCheckDigit(_))
        ));
        assert!(matches!(
            "12-34".parse::<Serial>(),
            Err(PassError::BadSerial(_))
        ));
        assert!(matches!(
            "０0000-00123-0".parse::<Serial>(),
            Err(PassError::BadSerial(_))
        ));
    }

    #[test]
    fn cti_is_minimal_and_strict() {
        assert_eq!(Serial(0).to_cti(), vec![0]);
        assert_eq!(Serial(255).to_cti(), vec![255]);
        assert_eq!(Serial(256).to_cti(), vec![1, 0]);
        assert_eq!(Serial::from_cti(&[1, 0]), Some(Serial(256)));
        assert_eq!(Serial::from_cti(&[0, 1]), None, "leading zero");
        assert_eq!(Serial::from_cti(&[]), None);
        assert_eq!(Serial::from_cti(&[0xff; 8]), None, "over the maximum");
        assert_eq!(Serial::from_cti(&[0]), Some(Serial(0)));
    }

    #[test]
    fn masked_id_hides_the_middle() {
        let m = MaskedId::from_full_id("37108319681027661x").unwrap();
        assert_eq!(m.prefix, 371083);
        assert_eq!(m.suffix, "661X");
        assert_eq!(m.to_string(), "371083********661X");
        assert!(m.is_well_formed());
        assert_eq!(
            MaskedId::from_full_id("3710831968102766"),
            Err(PassError::BadIdNumber)
        );
        assert_eq!(
            MaskedId::from_full_id("37108319681027661Y"),
            Err(PassError::BadIdNumber)
        );
    }

    #[test]
    fn categories_by_label_and_code() {
        for c in Category::ALL {
            assert_eq!(Category::from_label(c.label_zh()), Some(c));
            assert_eq!(Category::from_code(u64::from(c.code())), Some(c));
        }
        assert_eq!(Category::from_label("危险品"), None);
        assert_eq!(Category::from_code(0), None);
    }
}
