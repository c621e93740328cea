//! The checkpoints' scans as the city keeps them: the devices it knows, the scans imported from
//! their signed log files, and what one import did. The file format and its checks are
//! [`checkpass::logfile`]; which device is trusted, and how a file joins the device's earlier
//! ones, is decided here and in the store.

use std::collections::HashMap;

use checkpass::keys::{parse_public_key_file, KeyRole, PublicKey};
use checkpass::logfile::{LogRecord, ScanLogFile};
use serde::Serialize;

/// A checkpoint device whose log files the city accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Device {
    /// The device key's id (as `verifier log device` shows it).
    pub kid: String,
    /// The Ed25519 public key, hex.
    pub public_key: String,
    /// Where the device works, as the operator described it ("C101 威海收费站 笔记本 1").
    pub label: String,
    pub added_at: i64,
    pub added_by: String,
}

impl Device {
    /// A device from its key, registered now by `actor`.
    pub fn new(key: &PublicKey, label: &str, actor: &str, now: i64) -> Device {
        Device {
            kid: key.kid().to_hex(),
            public_key: key.to_hex(),
            label: label.trim().to_string(),
            added_at: now,
            added_by: actor.to_string(),
        }
    }
}

/// Reads a device public-key file (`verifier log device --out FILE`, or the web app's
/// download): it must name the role `device`, so that a root or signing key file handed over by
/// mistake is not registered as a checkpoint.
pub fn device_key_from_file(text: &str) -> Result<PublicKey, String> {
    let (key, role) = parse_public_key_file(text).map_err(|e| e.to_string())?;
    if role != KeyRole::Device {
        return Err(format!(
            "这是{}公钥文件，不是检查站设备公钥（verifier log device --out 导出）/ a {} key file, not a device key",
            role, role
        ));
    }
    Ok(key)
}

/// A device with what the city has of its log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceSummary {
    #[serde(flatten)]
    pub device: Device,
    /// Scans and other log entries imported.
    pub entries: u64,
    /// The newest entry's number and time.
    pub last_id: Option<i64>,
    pub last_at: Option<i64>,
    /// Entry numbers the city has not seen, below the newest one.
    pub missing: Vec<Gap>,
}

/// Entry numbers `first..=last` of a device's log that no imported file has carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Gap {
    pub first: i64,
    pub last: i64,
}

impl std::fmt::Display for Gap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.first == self.last {
            write!(f, "第 {} 条", self.first)
        } else {
            write!(f, "第 {}–{} 条", self.first, self.last)
        }
    }
}

/// The gaps in a device's entry numbers, from its sorted ids: before the first (logs number
/// from 1) and between any two.
pub fn gaps(sorted_ids: impl IntoIterator<Item = i64>) -> Vec<Gap> {
    let mut gaps = Vec::new();
    let mut next = 1;
    for id in sorted_ids {
        if id > next {
            gaps.push(Gap {
                first: next,
                last: id - 1,
            });
        }
        next = next.max(id + 1);
    }
    gaps
}

/// One imported log entry and the device that logged it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    pub device: String,
    pub record: LogRecord,
    /// When the city imported it.
    pub imported_at: i64,
}

impl Serialize for Scan {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let r = &self.record;
        (
            &self.device,
            r.id,
            r.kind.as_str(),
            r.at,
            &r.checkpoint,
            &r.officer,
            &r.serial,
            &r.plate,
            &r.verdict,
            &r.reasons,
            r.bundle_sequence,
            r.simulated,
            &r.note,
            hash_text(&r.hash),
            self.imported_at,
        )
            .serialize(ser)
    }
}

/// Why a file's entries cannot join what the city has of the device.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoinError {
    #[error(
        "设备 {device} 的第 {id} 条记录与此前导入的不同：同一设备的记录被改动过，或两台设备用了同一把密钥；未导入此文件 \
         / entry {id} of device {device} differs from the one imported before; nothing imported"
    )]
    Differs { device: String, id: i64 },
    #[error(
        "文件接不上设备 {device} 已导入的第 {id} 条记录（哈希不符）：记录被改动过；未导入此文件 \
         / the file does not follow on from entry {id} of device {device}; nothing imported"
    )]
    DoesNotJoin { device: String, id: i64 },
}

/// The entries of `log` that are new, given the hashes the city has (`known`) of the device's
/// entries from the one before the file's first to its last. An entry already known must be
/// the very same (its chain hash), and the file must follow on from the entry before it when
/// the city has that one: otherwise nothing of the file is taken. The one home of these rules,
/// for both stores.
pub fn new_entries<'a>(
    device: &str,
    log: &'a ScanLogFile,
    known: &HashMap<i64, [u8; 32]>,
) -> Result<(Vec<&'a LogRecord>, usize), JoinError> {
    if let Some(first) = log.entries.first() {
        if let Some(before) = known.get(&(first.id - 1)) {
            if *before != log.prev {
                return Err(JoinError::DoesNotJoin {
                    device: device.to_string(),
                    id: first.id - 1,
                });
            }
        }
    }
    let mut fresh = Vec::new();
    let mut already = 0;
    for entry in &log.entries {
        match known.get(&entry.id) {
            Some(hash) if *hash == entry.hash => already += 1,
            Some(_) => {
                return Err(JoinError::Differs {
                    device: device.to_string(),
                    id: entry.id,
                })
            }
            None => fresh.push(entry),
        }
    }
    Ok((fresh, already))
}

/// What one file's import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScansImported {
    pub device: String,
    /// Entries new to the city.
    pub added: usize,
    /// Entries already imported from another file (the same entry, hash and all).
    pub already: usize,
    /// The device's gaps after this import.
    pub missing: Vec<Gap>,
}

/// Which scans the findings read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanFilter {
    /// Only scans at or after this time.
    pub since: Option<i64>,
    /// Also scans made under a simulated clock (`--at`, `VERIFIER_AT`): tests and demos.
    pub include_simulated: bool,
}

/// The chain hash as stored: lowercase hex.
pub fn hash_text(hash: &[u8; 32]) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// A stored chain hash back to bytes.
pub fn hash_from_text(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_before_and_between() {
        assert_eq!(gaps([1, 2, 3]), vec![]);
        assert_eq!(gaps([]), vec![]);
        assert_eq!(
            gaps([3, 4, 7, 9]),
            vec![
                Gap { first: 1, last: 2 },
                Gap { first: 5, last: 6 },
                Gap { first: 8, last: 8 }
            ]
        );
        assert_eq!(Gap { first: 5, last: 6 }.to_string(), "第 5–6 条");
    }

    #[test]
    fn hashes_round_trip_as_text() {
        let h = [0xab; 32];
        assert_eq!(hash_from_text(&hash_text(&h)), Some(h));
        assert_eq!(hash_from_text("zz"), None);
        assert_eq!(hash_from_text(&"é".repeat(32)), None);
    }
}
