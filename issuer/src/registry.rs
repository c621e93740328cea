//! Rules of the registry (districts and checkpoints) that do not depend on where it is kept.

use std::collections::{BTreeSet, HashSet};

use crate::domain::{Checkpoint, District};

/// The codes still in use (by live applications whose window has not ended) that a reload
/// with `districts` and `checkpoints` would take away, as "区划 371003" / "检查站 C101". An
/// empty list leaves that part of the registry alone and drops nothing.
pub fn dropped_codes(
    used: &(BTreeSet<u32>, BTreeSet<String>),
    districts: &[District],
    checkpoints: &[Checkpoint],
) -> Vec<String> {
    let mut lost = Vec::new();
    if !districts.is_empty() {
        let kept: HashSet<u32> = districts.iter().map(|d| d.code).collect();
        lost.extend(
            used.0
                .iter()
                .filter(|c| !kept.contains(c))
                .map(|c| format!("区划 {c}")),
        );
    }
    if !checkpoints.is_empty() {
        let kept: HashSet<&str> = checkpoints.iter().map(|c| c.code.as_str()).collect();
        lost.extend(
            used.1
                .iter()
                .filter(|c| !kept.contains(c.as_str()))
                .map(|c| format!("检查站 {c}")),
        );
    }
    lost
}
