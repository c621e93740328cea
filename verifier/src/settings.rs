//! The checkpoint's configuration: which root key is pinned, which checkpoint this device is,
//! who is on duty, the repeat-scan window and the display language. Pure: conversion to and
//! from the key → value rows that [`crate::store`] keeps, with validation.

use std::collections::BTreeMap;

use std::fmt;

use checkpass::keys::PublicKey;
use checkpass::messages::write_bilingual;
use checkpass::msg;
use checkpass::scanlog::Direction;
use checkpass::verdict::Lang;

/// Everything `verifier init` (and later `verifier settings`) decides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// The root public key pinned at installation; every trust bundle must be signed by it.
    pub root_key: PublicKey,
    /// Code of this checkpoint in the bundle's registry (e.g. `C101`).
    pub checkpoint: String,
    /// Officer on duty, recorded with each scan.
    pub officer: Option<String>,
    /// Overrides the bundle policy's repeat-scan window (seconds) when set.
    pub repeat_window_secs: Option<i64>,
    /// Language of messages shown to the officer.
    pub lang: Lang,
    /// Highest bundle sequence ever installed here: a bundle file swapped for an older one
    /// on disk is refused like an older bundle offered to `bundle install`.
    pub installed_sequence: Option<u64>,
    /// SHA-256 of the installed bundle file: a bundle with the same sequence must be this file.
    pub installed_digest: Option<[u8; 32]>,
    /// A test setup: the development and test-vector keys, whose secrets are public, may be
    /// trusted (`verifier init --allow-dev-keys`).
    pub allow_dev_keys: bool,
    /// Which way this device's lane goes (进城/出城), when it has one: logged with each scan.
    pub direction: Option<Direction>,
}

/// Reads a language name as typed (`zh`, `en`, `中文`, `english`).
pub fn parse_lang(s: &str) -> Result<Lang, SettingsError> {
    match s.trim().to_ascii_lowercase().as_str() {
        "zh" | "zh-cn" | "cn" | "中文" => Ok(Lang::Zh),
        "en" | "en-us" | "en-gb" | "english" => Ok(Lang::En),
        _ => Err(SettingsError::Invalid {
            key: "lang",
            value: s.to_owned(),
            why: Invalid::OnlyZhEn,
        }),
    }
}

/// The stored name of a language.
pub fn lang_str(lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => "zh",
        Lang::En => "en",
    }
}

/// A setting that is missing or malformed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SettingsError {
    Missing(&'static str),
    Invalid {
        key: &'static str,
        value: String,
        why: Invalid,
    },
}

/// What is wrong with a setting's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Invalid {
    OnlyZhEn,
    Empty,
    TooLong,
    NoSpaces,
    WindowRange,
    NotEd25519,
    NotSeconds,
    NotSequence,
    NotDigest,
    NotDirection,
}

impl Invalid {
    pub fn text(self, lang: Lang) -> &'static str {
        match self {
            Invalid::OnlyZhEn => msg!(lang, error.settings.only_zh_en),
            Invalid::Empty => msg!(lang, error.settings.empty),
            Invalid::TooLong => msg!(lang, error.settings.too_long),
            Invalid::NoSpaces => msg!(lang, error.settings.no_spaces),
            Invalid::WindowRange => msg!(lang, error.settings.window_range),
            Invalid::NotEd25519 => msg!(lang, error.settings.not_ed25519),
            Invalid::NotSeconds => msg!(lang, error.settings.not_seconds),
            Invalid::NotSequence => msg!(lang, error.settings.not_sequence),
            Invalid::NotDigest => msg!(lang, error.settings.not_digest),
            Invalid::NotDirection => msg!(lang, error.settings.not_direction),
        }
    }
}

impl SettingsError {
    /// The text in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            SettingsError::Missing(key) => msg!(lang, error.settings.missing, key = key),
            SettingsError::Invalid { key, value, why } => msg!(
                lang,
                error.settings.invalid,
                key = key,
                value = format!("{value:?}"),
                why = why.text(lang)
            ),
        }
    }
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_bilingual(f, |lang| self.message(lang), None)
    }
}

const ROOT_KEY: &str = "root_key";
const CHECKPOINT: &str = "checkpoint";
const OFFICER: &str = "officer";
const REPEAT_WINDOW: &str = "repeat_window_secs";
const LANG: &str = "lang";
const INSTALLED_SEQUENCE: &str = "installed_bundle_sequence";
const INSTALLED_DIGEST: &str = "installed_bundle_sha256";
const ALLOW_DEV_KEYS: &str = "allow_dev_keys";
const DIRECTION: &str = "direction";

/// Longest repeat window accepted (30 days): longer would flag every regular truck.
pub const MAX_REPEAT_WINDOW_SECS: i64 = 30 * 86_400;

/// Checks a checkpoint code or officer id: 1–32 printable characters, no spaces.
pub fn validate_code(key: &'static str, value: &str) -> Result<String, SettingsError> {
    let v = value.trim();
    let invalid = |why| SettingsError::Invalid {
        key,
        value: value.to_owned(),
        why,
    };
    if v.is_empty() {
        return Err(invalid(Invalid::Empty));
    }
    if v.chars().count() > 32 {
        return Err(invalid(Invalid::TooLong));
    }
    if v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid(Invalid::NoSpaces));
    }
    Ok(v.to_owned())
}

/// Checks a repeat window in seconds.
pub fn validate_repeat_window(secs: i64) -> Result<i64, SettingsError> {
    if (0..=MAX_REPEAT_WINDOW_SECS).contains(&secs) {
        Ok(secs)
    } else {
        Err(SettingsError::Invalid {
            key: REPEAT_WINDOW,
            value: secs.to_string(),
            why: Invalid::WindowRange,
        })
    }
}

impl Settings {
    /// Settings from the stored rows; `Ok(None)` when the device was never initialised.
    pub fn from_map(map: &BTreeMap<String, String>) -> Result<Option<Settings>, SettingsError> {
        let Some(root) = map.get(ROOT_KEY) else {
            return Ok(None);
        };
        let root_key = PublicKey::from_hex(root).map_err(|_| SettingsError::Invalid {
            key: ROOT_KEY,
            value: root.clone(),
            why: Invalid::NotEd25519,
        })?;
        let checkpoint = validate_code(
            CHECKPOINT,
            map.get(CHECKPOINT)
                .ok_or(SettingsError::Missing(CHECKPOINT))?,
        )?;
        let officer = map
            .get(OFFICER)
            .map(|o| validate_code(OFFICER, o))
            .transpose()?;
        let repeat_window_secs = map
            .get(REPEAT_WINDOW)
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| SettingsError::Invalid {
                        key: REPEAT_WINDOW,
                        value: v.clone(),
                        why: Invalid::NotSeconds,
                    })
                    .and_then(validate_repeat_window)
            })
            .transpose()?;
        let lang = map
            .get(LANG)
            .map(|v| parse_lang(v))
            .transpose()?
            .unwrap_or_default();
        let installed_sequence = map
            .get(INSTALLED_SEQUENCE)
            .map(|v| {
                v.parse::<u64>().map_err(|_| SettingsError::Invalid {
                    key: INSTALLED_SEQUENCE,
                    value: v.clone(),
                    why: Invalid::NotSequence,
                })
            })
            .transpose()?;
        let installed_digest = map
            .get(INSTALLED_DIGEST)
            .map(|v| {
                hex::decode(v)
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .ok_or_else(|| SettingsError::Invalid {
                        key: INSTALLED_DIGEST,
                        value: v.clone(),
                        why: Invalid::NotDigest,
                    })
            })
            .transpose()?;
        let allow_dev_keys = map.get(ALLOW_DEV_KEYS).is_some_and(|v| v == "yes");
        let direction = map
            .get(DIRECTION)
            .map(|v| {
                Direction::parse(v).ok_or_else(|| SettingsError::Invalid {
                    key: DIRECTION,
                    value: v.clone(),
                    why: Invalid::NotDirection,
                })
            })
            .transpose()?;
        Ok(Some(Settings {
            root_key,
            checkpoint,
            officer,
            repeat_window_secs,
            lang,
            installed_sequence,
            installed_digest,
            allow_dev_keys,
            direction,
        }))
    }

    /// The rows to store.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        m.insert(ROOT_KEY.into(), self.root_key.to_hex());
        m.insert(CHECKPOINT.into(), self.checkpoint.clone());
        if let Some(o) = &self.officer {
            m.insert(OFFICER.into(), o.clone());
        }
        if let Some(w) = self.repeat_window_secs {
            m.insert(REPEAT_WINDOW.into(), w.to_string());
        }
        m.insert(LANG.into(), lang_str(self.lang).into());
        if let Some(s) = self.installed_sequence {
            m.insert(INSTALLED_SEQUENCE.into(), s.to_string());
        }
        if let Some(d) = &self.installed_digest {
            m.insert(INSTALLED_DIGEST.into(), hex::encode(d));
        }
        if self.allow_dev_keys {
            m.insert(ALLOW_DEV_KEYS.into(), "yes".into());
        }
        if let Some(d) = self.direction {
            m.insert(DIRECTION.into(), d.as_str().into());
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use checkpass::keys::SigningKey;

    fn sample() -> Settings {
        Settings {
            root_key: SigningKey::from_seed(&[7; 32]).public_key(),
            checkpoint: "C101".into(),
            officer: Some("W-007".into()),
            repeat_window_secs: Some(600),
            lang: Lang::En,
            installed_sequence: Some(4),
            installed_digest: Some([9; 32]),
            allow_dev_keys: true,
            direction: Some(Direction::Outbound),
        }
    }

    #[test]
    fn round_trip() {
        let s = sample();
        assert_eq!(Settings::from_map(&s.to_map()), Ok(Some(s.clone())));
        let bare = Settings {
            officer: None,
            repeat_window_secs: None,
            lang: Lang::Zh,
            installed_sequence: None,
            installed_digest: None,
            allow_dev_keys: false,
            direction: None,
            ..s
        };
        assert_eq!(Settings::from_map(&bare.to_map()), Ok(Some(bare)));
    }

    #[test]
    fn uninitialised_and_broken() {
        assert_eq!(Settings::from_map(&BTreeMap::new()), Ok(None));
        let mut m = sample().to_map();
        m.remove(CHECKPOINT);
        assert_eq!(
            Settings::from_map(&m),
            Err(SettingsError::Missing(CHECKPOINT))
        );
        let mut m = sample().to_map();
        m.insert(ROOT_KEY.into(), "zz".into());
        assert!(matches!(
            Settings::from_map(&m),
            Err(SettingsError::Invalid { key: ROOT_KEY, .. })
        ));
        let mut m = sample().to_map();
        m.insert(REPEAT_WINDOW.into(), "-5".into());
        assert!(Settings::from_map(&m).is_err());
    }

    #[test]
    fn codes_and_langs() {
        assert_eq!(validate_code(CHECKPOINT, " C101 "), Ok("C101".into()));
        assert!(validate_code(CHECKPOINT, "").is_err());
        assert!(validate_code(CHECKPOINT, "C 101").is_err());
        assert!(validate_code(CHECKPOINT, &"C".repeat(33)).is_err());
        assert_eq!(parse_lang("EN"), Ok(Lang::En));
        assert_eq!(parse_lang("中文"), Ok(Lang::Zh));
        assert!(parse_lang("fr").is_err());
    }
}
