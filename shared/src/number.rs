//! The national pass number (全国通行证编号): the issuing area's 6-digit division code, a
//! 6-digit serial and an ISO 7064 MOD 11-2 check character, printed `371003-000001-6`.
//!
//! The 2022 national passes were numbered with 12 digits, area code then serial; officers know
//! that shape. It is derived entirely from what a pass already carries (body `district` and the
//! `cti` serial), so the QR does not grow. The check character is the one of the 18-digit
//! resident ID number (GB 11643, the same algorithm, the same trailing `X`): it catches every
//! single mistyped digit and every swap of two digits, so a mistyped number is told apart from a
//! pass not in the log. Serials beyond 999 999 widen the serial part (never truncate it), so the
//! number stays unique. This module is the only place the number is formatted or parsed.

use std::fmt;
use std::str::FromStr;

use crate::messages::write_bilingual;
use crate::pass::{Serial, SERIAL_MAX};
use crate::verdict::Lang;

/// Digits of the division code.
const DISTRICT_DIGITS: usize = 6;
/// Digits the serial part has at least (the national form).
const SERIAL_DIGITS: usize = 6;
/// Digits of the widest serial part ([`SERIAL_MAX`] has ten).
const SERIAL_DIGITS_MAX: usize = 10;

/// Why a typed pass number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NumberError {
    Empty,
    NotADigit(char),
    WrongLength(usize),
    NonCanonical,
    CheckDigit { expected: char, found: char },
    BadDistrict(u32),
}

impl NumberError {
    /// The text in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        use NumberError as E;
        match self {
            E::Empty => msg!(lang, error.number.empty).into(),
            E::NotADigit(c) => msg!(lang, error.number.not_a_digit, char = c),
            E::WrongLength(len) => msg!(lang, error.number.wrong_length, len = len),
            E::NonCanonical => msg!(lang, error.number.non_canonical).into(),
            E::CheckDigit { expected, found } => msg!(
                lang,
                error.number.check_digit,
                expected = expected,
                found = found
            ),
            E::BadDistrict(d) => msg!(lang, error.number.bad_district, district = d),
        }
    }
}

impl std::fmt::Display for NumberError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write_bilingual(f, |lang| self.message(lang), None)
    }
}

/// ISO 7064 MOD 11-2 check character of a string of ASCII digits: weights `2^k mod 11` from
/// the right (the check position has `k = 0`), value `(12 − Σ mod 11) mod 11`, 10 written `X`.
/// For 17 digits these are GB 11643's weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2.
pub fn mod11_2(digits: &str) -> Option<char> {
    let mut sum = 0u32;
    let mut weight = 2u32; // 2^1: the digit next to the check character.
    for b in digits.bytes().rev() {
        if !b.is_ascii_digit() {
            return None;
        }
        sum = (sum + u32::from(b - b'0') * weight) % 11;
        weight = weight * 2 % 11;
    }
    let value = (12 - sum) % 11;
    Some(if value == 10 {
        'X'
    } else {
        char::from(b'0' + value as u8)
    })
}

/// A pass's national number: the pass body's district and the serial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PassNumber {
    pub district: u32,
    pub serial: Serial,
}

impl PassNumber {
    /// The number of a pass with this district (100000–999999) and serial.
    pub fn new(district: u32, serial: Serial) -> Result<PassNumber, NumberError> {
        if !(100_000..=999_999).contains(&district) {
            return Err(NumberError::BadDistrict(district));
        }
        Ok(PassNumber { district, serial })
    }

    /// The digits without the check character: 12 for serials up to 999 999, more beyond.
    fn digits(&self) -> String {
        format!("{:06}{:06}", self.district, self.serial.0)
    }

    /// The check character (`0`–`9` or `X`).
    pub fn check(&self) -> char {
        // digits() is all ASCII digits, so mod11_2 always answers.
        mod11_2(&self.digits()).unwrap_or('X')
    }

    /// Without separators, as typed or put in a spreadsheet: `3710030000016`.
    pub fn compact(&self) -> String {
        format!("{}{}", self.digits(), self.check())
    }
}

/// What a sheet, a verdict or a page shows for a pass of `district` and `serial`: its national
/// number, or the serial's own form (`00000-00001-8`) when the district is not a 6-digit code
/// (which no decodable pass has: the wire format caps it, the issuer's validation requires
/// six digits).
pub fn printed(district: u32, serial: Serial) -> String {
    PassNumber::new(district, serial).map_or_else(|_| serial.to_string(), |n| n.to_string())
}

/// The printed form, `371003-000001-6`: area, serial, check.
impl fmt::Display for PassNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:06}-{:06}-{}",
            self.district,
            self.serial.0,
            self.check()
        )
    }
}

impl FromStr for PassNumber {
    type Err = NumberError;

    /// Accepts the printed form or the digits alone; spaces and dashes anywhere are ignored, a
    /// lower-case `x` is read as `X`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut chars: Vec<char> = s
            .chars()
            .filter(|c| *c != '-' && *c != ' ')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let Some(found) = chars.pop() else {
            return Err(NumberError::Empty);
        };
        if let Some(bad) = chars
            .iter()
            .copied()
            .chain((!found.is_ascii_digit() && found != 'X').then_some(found))
            .find(|c| !c.is_ascii_digit())
        {
            return Err(NumberError::NotADigit(bad));
        }
        let n = chars.len() + 1;
        let min = DISTRICT_DIGITS + SERIAL_DIGITS;
        if !(min..=DISTRICT_DIGITS + SERIAL_DIGITS_MAX).contains(&chars.len()) {
            return Err(NumberError::WrongLength(n));
        }
        let digits: String = chars.into_iter().collect();
        let (district, serial) = digits.split_at(DISTRICT_DIGITS);
        if serial.len() > SERIAL_DIGITS && serial.starts_with('0') {
            return Err(NumberError::NonCanonical);
        }
        let expected = mod11_2(&digits).ok_or(NumberError::WrongLength(n))?;
        if expected != found {
            return Err(NumberError::CheckDigit { expected, found });
        }
        // Both parts are ASCII digits of bounded length, so they parse.
        let district: u32 = district.parse().map_err(|_| NumberError::WrongLength(n))?;
        let serial: u64 = serial.parse().map_err(|_| NumberError::WrongLength(n))?;
        if serial > SERIAL_MAX {
            return Err(NumberError::WrongLength(n));
        }
        PassNumber::new(district, Serial(serial))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mod11_2_matches_gb11643_id_numbers() {
        // Resident ID numbers whose check character is known (GB 11643 worked examples).
        assert_eq!(mod11_2("11010519491231002"), Some('X'));
        assert_eq!(mod11_2("44052418800101001"), Some('4'));
        assert_eq!(mod11_2("1101051949123100a"), None);
    }

    #[test]
    fn printed_form_and_round_trip() {
        let n = PassNumber::new(371003, Serial(1)).unwrap();
        // The example of docs/pass-format.md, computed by hand.
        assert_eq!(n.to_string(), "371003-000001-6");
        assert_eq!(n.compact(), "3710030000016");
        assert_eq!(n.compact().len(), 13);
        for text in [
            n.to_string(),
            n.compact(),
            n.compact().to_lowercase(),
            format!(" {} ", n.to_string().replace('-', " ")),
        ] {
            assert_eq!(text.parse::<PassNumber>(), Ok(n), "{text}");
        }
        for serial in [0, 999_999, 1_000_000, 123_456_789, SERIAL_MAX] {
            let n = PassNumber::new(110105, Serial(serial)).unwrap();
            assert_eq!(n.to_string().parse::<PassNumber>(), Ok(n));
        }
        // Beyond a million the serial part widens instead of wrapping onto another pass.
        assert_eq!(
            PassNumber::new(371003, Serial(1_234_567))
                .unwrap()
                .to_string(),
            "371003-1234567-5"
        );
    }

    #[test]
    fn an_x_check_character_round_trips() {
        let n = (0..100u64)
            .map(|s| PassNumber::new(371003, Serial(s)).unwrap())
            .find(|n| n.check() == 'X')
            .expect("one in eleven numbers ends in X");
        assert!(n.to_string().ends_with("-X"));
        assert_eq!(n.compact().to_lowercase().parse::<PassNumber>(), Ok(n));
    }

    #[test]
    fn every_single_typo_and_adjacent_swap_is_caught() {
        let n = PassNumber::new(371003, Serial(4711)).unwrap().compact();
        let digits: Vec<u8> = n.bytes().collect();
        for i in 0..12 {
            for d in b'0'..=b'9' {
                if d == digits[i] {
                    continue;
                }
                let mut typo = digits.clone();
                typo[i] = d;
                let typo = String::from_utf8(typo).unwrap();
                assert!(
                    matches!(
                        typo.parse::<PassNumber>(),
                        Err(NumberError::CheckDigit { .. })
                    ),
                    "{typo}"
                );
            }
            if i < 11 && digits[i] != digits[i + 1] {
                let mut swapped = digits.clone();
                swapped.swap(i, i + 1);
                let swapped = String::from_utf8(swapped).unwrap();
                assert!(swapped.parse::<PassNumber>().is_err(), "{swapped}");
            }
        }
    }

    #[test]
    fn bad_input_says_what_is_wrong() {
        let good = PassNumber::new(371003, Serial(1)).unwrap().compact();
        assert_eq!("".parse::<PassNumber>(), Err(NumberError::Empty));
        assert_eq!(" - ".parse::<PassNumber>(), Err(NumberError::Empty));
        assert_eq!(
            good[..12].parse::<PassNumber>(),
            Err(NumberError::WrongLength(12))
        );
        assert_eq!(
            "37100300000123456789".parse::<PassNumber>(),
            Err(NumberError::WrongLength(20))
        );
        let expected = good.chars().last().unwrap();
        let found = if expected == '7' { '8' } else { '7' };
        assert_eq!(
            format!("{}{found}", &good[..12]).parse::<PassNumber>(),
            Err(NumberError::CheckDigit { expected, found })
        );
        let typo = format!("{}{found}", &good[..12]).parse::<PassNumber>();
        assert!(typo.unwrap_err().to_string().contains("校验位错误"));
        assert_eq!(
            "37100300000A1".parse::<PassNumber>(),
            Err(NumberError::NotADigit('A'))
        );
        assert_eq!(
            "371003\u{ff10}000011".parse::<PassNumber>(),
            Err(NumberError::NotADigit('\u{ff10}')),
            "a full-width digit is not a digit"
        );
        assert_eq!(
            "X71003000001X".parse::<PassNumber>(),
            Err(NumberError::NotADigit('X'))
        );
        let padded = format!("3710030000001{}", mod11_2("3710030000001").unwrap());
        assert_eq!(padded.parse::<PassNumber>(), Err(NumberError::NonCanonical));
        let no_area = format!("071003000001{}", mod11_2("071003000001").unwrap());
        assert_eq!(
            no_area.parse::<PassNumber>(),
            Err(NumberError::BadDistrict(71003))
        );
        assert_eq!(
            PassNumber::new(12345, Serial(1)),
            Err(NumberError::BadDistrict(12345))
        );
    }
}
