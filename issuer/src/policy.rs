//! Changing the verification policy the next trust bundle carries: its items, each in whole
//! hours or minutes within bounds, for `issuer policy set` and the admin's page alike.

use checkpass::bundle::Policy;

use crate::store::{Store, StoreError};

/// One item of the policy as people set it.
#[derive(Debug, Clone, Copy)]
pub struct Item {
    /// The command line's flag, also the web form's field (without the dashes).
    pub flag: &'static str,
    /// What it is, as the summary and the page say it ("核酸采样最长").
    pub label: &'static str,
    /// "小时" or "分钟".
    pub unit: &'static str,
    pub unit_secs: i64,
    /// Bounds: outside them a checkpoint would turn away everyone (zero) or stop protecting
    /// anything (weeks).
    pub least: u32,
    pub most: u32,
    slot: fn(&mut Policy) -> &mut i64,
}

impl Item {
    /// The field name of a web form: the flag without its dashes, in snake case.
    pub fn field(&self) -> String {
        self.flag.trim_start_matches('-').replace('-', "_")
    }

    /// The item's value in `p`, in its unit (rounded down).
    pub fn get(&self, p: &Policy) -> i64 {
        let mut p = *p;
        *(self.slot)(&mut p) / self.unit_secs
    }
}

/// The items, in the order they are shown.
pub const ITEMS: [Item; 5] = [
    Item {
        flag: "--max-test-age-hours",
        label: "核酸采样最长",
        unit: "小时",
        unit_secs: 3600,
        least: 1,
        most: 14 * 24,
        slot: |p| &mut p.max_test_age_secs,
    },
    Item {
        flag: "--clock-skew-minutes",
        label: "允许时钟误差",
        unit: "分钟",
        unit_secs: 60,
        least: 0,
        most: 60,
        slot: |p| &mut p.clock_skew_secs,
    },
    Item {
        flag: "--max-bundle-age-hours",
        label: "信任包过期",
        unit: "小时",
        unit_secs: 3600,
        least: 1,
        most: 14 * 24,
        slot: |p| &mut p.max_bundle_age_secs,
    },
    Item {
        flag: "--repeat-window-minutes",
        label: "重复扫码判定",
        unit: "分钟",
        unit_secs: 60,
        least: 0,
        most: 24 * 60,
        slot: |p| &mut p.repeat_window_secs,
    },
    Item {
        flag: "--max-validity-hours",
        label: "通行证最长有效",
        unit: "小时",
        unit_secs: 3600,
        least: 1,
        most: 31 * 24,
        slot: |p| &mut p.max_validity_secs,
    },
];

/// New values for some items (in the order of [`ITEMS`]); `None` keeps the item.
pub type Change = [Option<u32>; 5];

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("{label}（{flag}）应在 {least} 到 {most} {unit}之间，收到 {got} / {flag} must be {least}..={most}, got {got}")]
    OutOfRange {
        label: &'static str,
        flag: &'static str,
        unit: &'static str,
        least: u32,
        most: u32,
        got: u32,
    },
    #[error("没有给出要修改的策略项")]
    Nothing,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `old` with the items of `change` set, each checked against its bounds.
pub fn apply(old: &Policy, change: &Change) -> Result<Policy, PolicyError> {
    if change.iter().all(Option::is_none) {
        return Err(PolicyError::Nothing);
    }
    let mut new = *old;
    for (item, value) in ITEMS.iter().zip(change) {
        if let Some(v) = *value {
            if !(item.least..=item.most).contains(&v) {
                return Err(PolicyError::OutOfRange {
                    label: item.label,
                    flag: item.flag,
                    unit: item.unit,
                    least: item.least,
                    most: item.most,
                    got: v,
                });
            }
            *(item.slot)(&mut new) = i64::from(v) * item.unit_secs;
        }
    }
    Ok(new)
}

/// Sets the items of `change` in the store's policy (audited with the old and new values as
/// `actor`); returns the policy now in force.
pub fn set(
    store: &mut dyn Store,
    change: &Change,
    actor: &str,
    now: i64,
) -> Result<Policy, PolicyError> {
    let old = store.policy()?;
    let new = apply(&old, change)?;
    let text = |p: &Policy| serde_json::to_string(p).map_err(StoreError::db);
    store.set_policy(&text(&old)?, &text(&new)?, actor, now)?;
    Ok(new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_checked_and_kept() {
        let old = Policy::default();
        let new = apply(&old, &[Some(24), None, None, Some(5), None]).unwrap();
        assert_eq!(new.max_test_age_secs, 24 * 3600);
        assert_eq!(new.repeat_window_secs, 300);
        assert_eq!(new.clock_skew_secs, old.clock_skew_secs);
        let e = apply(&old, &[Some(0), None, None, None, None]).unwrap_err();
        assert!(e.to_string().contains("--max-test-age-hours"), "{e}");
        assert!(e.to_string().contains("核酸采样最长"), "{e}");
        assert!(matches!(apply(&old, &[None; 5]), Err(PolicyError::Nothing)));
        assert_eq!(ITEMS[0].get(&old), 48);
        assert_eq!(ITEMS[1].field(), "clock_skew_minutes");
    }
}
