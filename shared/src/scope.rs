//! What a signing key may sign: district codes (by prefix) and cargo categories.
//!
//! The root can limit a pass-signing key in the trust bundle, so that a district's key, if
//! stolen, cannot mint passes for another district or another kind of cargo: a checkpoint
//! refuses such a pass (`KEY_OUT_OF_SCOPE`), and the issuer refuses to sign it in the first
//! place. [`KeyScope::check`] is the one rule both use. An empty list means "any".

use std::fmt;

use crate::messages::write_bilingual;
use crate::pass::{Category, PassBody};
use crate::verdict::Lang;

/// The longest district prefix: a whole 6-digit division code.
pub const MAX_PREFIX_DIGITS: usize = 6;
/// At most this many prefixes per key: a city has a few dozen districts.
pub const MAX_PREFIXES: usize = 64;

/// A scope that cannot be written down.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScopeError {
    BadPrefix(String),
    TooManyPrefixes,
    UnknownCategory(String),
}

impl ScopeError {
    /// The text in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            ScopeError::BadPrefix(p) => msg!(lang, error.scope.bad_prefix, prefix = p),
            ScopeError::TooManyPrefixes => {
                msg!(lang, error.scope.too_many_prefixes, max = MAX_PREFIXES)
            }
            ScopeError::UnknownCategory(c) => {
                msg!(lang, error.scope.unknown_category, category = c)
            }
        }
    }
}

impl fmt::Display for ScopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_bilingual(f, |lang| self.message(lang), None)
    }
}

/// A key's limits. The default (both lists empty) is an unscoped key: it may sign anything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct KeyScope {
    /// Prefixes of the pass body's 6-digit district code (`37` a province, `3710` a city,
    /// `371003` one district); sorted, without duplicates. Empty: every district.
    pub districts: Vec<String>,
    /// Categories the key may sign, sorted by code, without duplicates. Empty: every category.
    pub categories: Vec<Category>,
}

/// What of a pass lies outside its key's scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfScope {
    /// The pass's district, when no prefix covers it.
    pub district: Option<u32>,
    /// The pass's category, when the key may not sign it.
    pub category: Option<Category>,
}

impl KeyScope {
    /// A scope from district prefixes and categories, checked and put in canonical order.
    pub fn new(
        districts: impl IntoIterator<Item = String>,
        categories: impl IntoIterator<Item = Category>,
    ) -> Result<KeyScope, ScopeError> {
        let mut districts: Vec<String> = districts.into_iter().collect();
        for p in &districts {
            let digits_ok = !p.is_empty()
                && p.len() <= MAX_PREFIX_DIGITS
                && p.bytes().all(|b| b.is_ascii_digit());
            if !digits_ok {
                return Err(ScopeError::BadPrefix(p.clone()));
            }
        }
        districts.sort();
        districts.dedup();
        if districts.len() > MAX_PREFIXES {
            return Err(ScopeError::TooManyPrefixes);
        }
        let mut categories: Vec<Category> = categories.into_iter().collect();
        categories.sort_by_key(|c| c.code());
        categories.dedup();
        Ok(KeyScope {
            districts,
            categories,
        })
    }

    /// Reads the command line's and the web form's lists: `110105,1101` and
    /// `工业原材料,产成品` (or the codes `1,2`); commas (ASCII or full-width), spaces and
    /// enumeration commas separate; empty text means no limit.
    pub fn parse(districts: &str, categories: &str) -> Result<KeyScope, ScopeError> {
        let items = |s: &str| -> Vec<String> {
            s.split([',', '，', '、', ' ', ';'])
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect()
        };
        let categories = items(categories)
            .into_iter()
            .map(|c| {
                Category::from_label(&c)
                    .or_else(|| c.parse::<u64>().ok().and_then(Category::from_code))
                    .ok_or(ScopeError::UnknownCategory(c))
            })
            .collect::<Result<Vec<_>, _>>()?;
        KeyScope::new(items(districts), categories)
    }

    /// Whether the key may sign anything (how every key was before scopes existed).
    pub fn is_unrestricted(&self) -> bool {
        self.districts.is_empty() && self.categories.is_empty()
    }

    pub fn allows_district(&self, district: u32) -> bool {
        let code = format!("{district:06}");
        self.districts.is_empty() || self.districts.iter().any(|p| code.starts_with(p.as_str()))
    }

    pub fn allows_category(&self, category: Category) -> bool {
        self.categories.is_empty() || self.categories.contains(&category)
    }

    /// The rule: a pass body is inside the scope when a prefix covers its district and its
    /// category is allowed.
    pub fn check(&self, body: &PassBody) -> Result<(), OutOfScope> {
        let out = OutOfScope {
            district: (!self.allows_district(body.district)).then_some(body.district),
            category: (!self.allows_category(body.category)).then_some(body.category),
        };
        if out.district.is_none() && out.category.is_none() {
            Ok(())
        } else {
            Err(out)
        }
    }

    /// The district list as the command line takes it (`1101,110105`).
    pub fn districts_text(&self) -> String {
        self.districts.join(",")
    }

    /// The category list in Chinese (`工业原材料,产成品`).
    pub fn categories_text(&self) -> String {
        self.categories
            .iter()
            .map(|c| c.label_zh())
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl KeyScope {
    /// The scope for people in `lang`: `全部` for an unscoped key, else
    /// `区划 1101,110105；类别 产成品` (`districts 1101,110105; categories finished goods`).
    pub fn describe(&self, lang: Lang) -> String {
        let all = msg!(lang, scope.all);
        if self.is_unrestricted() {
            return all.to_string();
        }
        let districts = if self.districts.is_empty() {
            all.to_string()
        } else {
            self.districts_text()
        };
        let categories = if self.categories.is_empty() {
            all.to_string()
        } else {
            self.categories
                .iter()
                .map(|c| match lang {
                    Lang::Zh => c.label_zh(),
                    Lang::En => c.label_en(),
                })
                .collect::<Vec<_>>()
                .join(msg!(lang, scope.separator))
        };
        msg!(
            lang,
            scope.limited,
            categories = categories,
            districts = districts
        )
    }
}

/// In Chinese, as the issuer shows it: [`KeyScope::describe`].
impl fmt::Display for KeyScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe(Lang::Zh))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample;

    #[test]
    fn an_unscoped_key_allows_everything() {
        let scope = KeyScope::default();
        assert!(scope.is_unrestricted());
        assert_eq!(scope.check(&sample::pass().body), Ok(()));
        assert_eq!(scope.to_string(), "全部");
        assert_eq!(KeyScope::parse("", " "), Ok(KeyScope::default()));
    }

    #[test]
    fn districts_match_by_prefix() {
        let scope = KeyScope::parse("110105, 3710", "").unwrap();
        assert_eq!(scope.districts, vec!["110105", "3710"]);
        assert!(scope.allows_district(371003));
        assert!(scope.allows_district(110105));
        assert!(!scope.allows_district(110106), "a sibling district");
        assert!(!scope.allows_district(371100), "another city");
        assert!(
            !scope.allows_district(37101),
            "5 digits is 037101, not 3710…"
        );
        let mut body = sample::pass().body;
        body.district = 371100;
        assert_eq!(
            scope.check(&body),
            Err(OutOfScope {
                district: Some(371100),
                category: None
            })
        );
    }

    #[test]
    fn categories_limit_by_label_or_code() {
        let scope = KeyScope::parse("", "产成品，3").unwrap();
        assert_eq!(
            scope.categories,
            vec![Category::FinishedGoods, Category::ReturningWorkers]
        );
        let body = sample::pass().body; // raw materials
        assert_eq!(
            scope.check(&body),
            Err(OutOfScope {
                district: None,
                category: Some(Category::RawMaterials)
            })
        );
        assert_eq!(scope.to_string(), "区划 全部；类别 产成品,返岗人员");
    }

    #[test]
    fn bad_lists_are_refused() {
        assert_eq!(
            KeyScope::parse("1101a", ""),
            Err(ScopeError::BadPrefix("1101a".into()))
        );
        assert_eq!(
            KeyScope::parse("1101051", ""),
            Err(ScopeError::BadPrefix("1101051".into()))
        );
        assert_eq!(
            KeyScope::parse("", "危险品"),
            Err(ScopeError::UnknownCategory("危险品".into()))
        );
        assert_eq!(
            KeyScope::parse("", "4"),
            Err(ScopeError::UnknownCategory("4".into()))
        );
        let many: Vec<String> = (0..=MAX_PREFIXES).map(|i| format!("{i:03}")).collect();
        assert_eq!(
            KeyScope::parse(&many.join(","), ""),
            Err(ScopeError::TooManyPrefixes)
        );
        assert_eq!(
            KeyScope::parse("1101,1101", "1,1").unwrap(),
            KeyScope::parse("1101", "工业原材料").unwrap(),
            "duplicates collapse"
        );
    }
}
