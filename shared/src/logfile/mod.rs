//! The exported scan log: a checkpoint's scans, as they travel to the city on a USB stick.
//!
//! One file is a COSE_Sign1 (EdDSA, like the trust bundle) signed by the checkpoint device's
//! own key, over a CBOR map:
//!
//! | key | field | |
//! |---|---|---|
//! | 1 | format | `"checkpass-scanlog/1"` |
//! | 2 | device | the device's Ed25519 public key (32 bytes); the header's kid is its key id |
//! | 3 | exported_at | unix seconds, the device's clock |
//! | 4 | prev | the chain hash before the first entry (32 zero bytes from the log's start) |
//! | 5 | entries | `[id, kind, at, checkpoint, officer, serial, plate, verdict, reasons, bundle_sequence, simulated, note, hash]`, each in the log's order |
//!
//! Opening a file checks the signature with the device key it names, then every entry's hash
//! against the chain ([`crate::scanlog::link`]) from `prev`: an entry edited, dropped or
//! reordered after the device logged it — or after it was exported — is refused, naming the
//! entry. Whether the device is one the city knows is the importer's question: the file only
//! proves which key made it. Pure: no files, no clock.

use ciborium::Value;
use coset::RegisteredLabelWithPrivate;
use coset::{iana, CoseSign1, TaggedCborSerializable};

use crate::cbor::{as_bytes, as_int, as_text, int, Fields};
use crate::keys::{PublicKey, SigningKey};
use crate::messages::write_bilingual;
use crate::scanlog::{link, Entry, EntryKind};
use crate::verdict::Lang;
use crate::wire::WireError;

/// The format's name inside the file.
pub const FORMAT: &str = "checkpass-scanlog/1";
/// A file larger than this is refused before it is parsed: 64 MiB holds about 400,000 scans,
/// weeks of a busy checkpoint.
pub const MAX_LOG_FILE_BYTES: usize = 64 << 20;

mod key {
    pub const FORMAT: i64 = 1;
    pub const DEVICE: i64 = 2;
    pub const EXPORTED_AT: i64 = 3;
    pub const PREV: i64 = 4;
    pub const ENTRIES: i64 = 5;
    pub const MAX: i64 = 5;
}

/// One logged entry with its chain hash, owned (as read from a file or a device's database).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    pub id: i64,
    pub kind: EntryKind,
    pub at: i64,
    pub checkpoint: String,
    pub officer: Option<String>,
    pub serial: Option<String>,
    pub plate: Option<String>,
    pub verdict: Option<String>,
    /// Reason codes separated by spaces.
    pub reasons: String,
    pub bundle_sequence: Option<i64>,
    pub simulated: bool,
    pub note: Option<String>,
    pub hash: [u8; 32],
}

impl LogRecord {
    /// The fields the chain covers.
    pub fn entry(&self) -> Entry<'_> {
        Entry {
            id: self.id,
            kind: self.kind,
            at: self.at,
            checkpoint: &self.checkpoint,
            officer: self.officer.as_deref(),
            serial: self.serial.as_deref(),
            plate: self.plate.as_deref(),
            verdict: self.verdict.as_deref(),
            reasons: &self.reasons,
            bundle_sequence: self.bundle_sequence,
            simulated: self.simulated,
            note: self.note.as_deref(),
        }
    }
}

/// A device's scans from one export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanLogFile {
    pub device: PublicKey,
    pub exported_at: i64,
    /// The chain hash before `entries[0]`: where this file joins the device's earlier ones.
    pub prev: [u8; 32],
    pub entries: Vec<LogRecord>,
}

impl ScanLogFile {
    /// The chain hash after the last entry (`prev` when there is none): where the next export
    /// of the same device must join.
    pub fn head(&self) -> [u8; 32] {
        self.entries.last().map_or(self.prev, |e| e.hash)
    }
}

/// Why a scan-log file is refused.
#[derive(Debug, thiserror::Error)]
pub enum LogFileError {
    TooLarge(usize),
    Malformed(#[from] WireError),
    /// The device key id named in the file.
    BadSignature(String),
    ChainBroken {
        id: i64,
        what: String,
    },
}

impl LogFileError {
    /// The text in `lang`, without the cause.
    pub fn message(&self, lang: Lang) -> String {
        use LogFileError as E;
        match self {
            E::TooLarge(size) => msg!(
                lang,
                error.log_file.too_large,
                max = MAX_LOG_FILE_BYTES,
                size = size
            ),
            E::Malformed(_) => msg!(lang, error.log_file.malformed).into(),
            E::BadSignature(device) => msg!(lang, error.log_file.bad_signature, device = device),
            E::ChainBroken { id, what } => {
                msg!(lang, error.store.chain_broken, id = id, what = what)
            }
        }
    }
}

impl std::fmt::Display for LogFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cause: Option<&dyn std::fmt::Display> = match self {
            LogFileError::Malformed(e) => Some(e),
            _ => None,
        };
        write_bilingual(f, |lang| self.message(lang), cause)
    }
}

/// Signs `log` with the device's key (whose public half must be `log.device`).
pub fn sign_log(log: &ScanLogFile, device: &SigningKey) -> Result<Vec<u8>, WireError> {
    if device.public_key() != log.device {
        return Err(WireError::InvalidValue {
            field: "device",
            why: "the signing key is not the file's device key".into(),
        });
    }
    let entries = log.entries.iter().map(record_to_value).collect();
    let payload_value = Value::Map(vec![
        (int(key::FORMAT), Value::Text(FORMAT.into())),
        (
            int(key::DEVICE),
            Value::Bytes(log.device.to_bytes().to_vec()),
        ),
        (int(key::EXPORTED_AT), int(log.exported_at)),
        (int(key::PREV), Value::Bytes(log.prev.to_vec())),
        (int(key::ENTRIES), Value::Array(entries)),
    ]);
    crate::bundle::sign_cbor(&payload_value, device)
}

/// Checks and reads a scan-log file: its signature by the device key it carries, and the hash
/// chain of every entry from its `prev`.
pub fn open_log(bytes: &[u8]) -> Result<ScanLogFile, LogFileError> {
    if bytes.len() > MAX_LOG_FILE_BYTES {
        return Err(LogFileError::TooLarge(bytes.len()));
    }
    let sign1 = CoseSign1::from_tagged_slice(bytes).map_err(|e| WireError::Cose(e.to_string()))?;
    if !sign1.unprotected.is_empty() {
        return Err(WireError::UnexpectedHeader("unprotected").into());
    }
    let h = &sign1.protected.header;
    if h.alg != Some(RegisteredLabelWithPrivate::Assigned(iana::Algorithm::EdDSA)) {
        return Err(WireError::UnsupportedAlgorithm(format!("{:?}", h.alg)).into());
    }
    let payload = sign1
        .payload
        .as_deref()
        .ok_or(WireError::MissingField("payload"))?;
    let mut reader = payload;
    let value: Value =
        ciborium::from_reader(&mut reader).map_err(|e| WireError::Cose(format!("payload: {e}")))?;
    if !reader.is_empty() {
        return Err(WireError::Cose("trailing bytes after the payload".into()).into());
    }
    let mut f = Fields::from_value(value, "scan log", key::MAX)?;
    let format = f.text(key::FORMAT, "format")?;
    if format != FORMAT {
        return Err(WireError::InvalidValue {
            field: "format",
            why: format!("{format:?}, expected {FORMAT:?}"),
        }
        .into());
    }
    let device = as_bytes(f.required(key::DEVICE, "device")?, "device")?;
    let device = PublicKey::from_slice(&device).map_err(|_| WireError::InvalidValue {
        field: "device",
        why: "not an Ed25519 public key".into(),
    })?;
    if h.key_id != device.kid().0 {
        return Err(WireError::BadKid.into());
    }
    let kid = device.kid().to_hex();
    sign1.verify_signature(&[], |sig, tbs| {
        if device.verify(tbs, sig) {
            Ok(())
        } else {
            Err(LogFileError::BadSignature(kid.clone()))
        }
    })?;
    let exported_at = f.int(key::EXPORTED_AT, "exported_at")?;
    let prev = hash32(f.required(key::PREV, "prev")?, "prev")?;
    let entries = f
        .array(key::ENTRIES, "entries")?
        .into_iter()
        .map(record_from_value)
        .collect::<Result<Vec<_>, WireError>>()?;
    let mut chain = prev;
    let mut last_id = None;
    for e in &entries {
        if last_id.is_some_and(|last| e.id != last + 1) {
            return Err(LogFileError::ChainBroken {
                id: e.id,
                what: format!(
                    "ids not consecutive: {} after {}",
                    e.id,
                    last_id.unwrap_or_default()
                ),
            });
        }
        last_id = Some(e.id);
        if link(&chain, &e.entry()) != e.hash {
            return Err(LogFileError::ChainBroken {
                id: e.id,
                what: "hash does not match: this entry or one before it was changed, removed \
                       or inserted"
                    .into(),
            });
        }
        chain = e.hash;
    }
    Ok(ScanLogFile {
        device,
        exported_at,
        prev,
        entries,
    })
}

fn opt_text(t: &Option<String>) -> Value {
    t.as_ref().map_or(Value::Null, |t| Value::Text(t.clone()))
}

fn record_to_value(r: &LogRecord) -> Value {
    Value::Array(vec![
        int(r.id),
        Value::Text(r.kind.as_str().into()),
        int(r.at),
        Value::Text(r.checkpoint.clone()),
        opt_text(&r.officer),
        opt_text(&r.serial),
        opt_text(&r.plate),
        opt_text(&r.verdict),
        Value::Text(r.reasons.clone()),
        r.bundle_sequence.map_or(Value::Null, int),
        Value::Bool(r.simulated),
        opt_text(&r.note),
        Value::Bytes(r.hash.to_vec()),
    ])
}

fn hash32(v: Value, name: &'static str) -> Result<[u8; 32], WireError> {
    <[u8; 32]>::try_from(as_bytes(v, name)?).map_err(|_| WireError::InvalidValue {
        field: name,
        why: "not 32 bytes".into(),
    })
}

fn record_from_value(v: Value) -> Result<LogRecord, WireError> {
    const NAME: &str = "entries";
    let Value::Array(items) = v else {
        return Err(WireError::WrongType(NAME));
    };
    let Ok::<[Value; 13], _>(
        [id, kind, at, checkpoint, officer, serial, plate, verdict, reasons, sequence, simulated, note, hash],
    ) = items.try_into()
    else {
        return Err(WireError::InvalidValue {
            field: NAME,
            why: "an entry has 13 fields".into(),
        });
    };
    let opt = |v: Value| match v {
        Value::Null => Ok(None),
        v => as_text(v, NAME).map(Some),
    };
    let kind = as_text(kind, NAME)?;
    Ok(LogRecord {
        id: as_int(id, NAME)?,
        kind: EntryKind::parse(&kind).ok_or_else(|| WireError::InvalidValue {
            field: NAME,
            why: format!("unknown entry kind {kind:?}"),
        })?,
        at: as_int(at, NAME)?,
        checkpoint: as_text(checkpoint, NAME)?,
        officer: opt(officer)?,
        serial: opt(serial)?,
        plate: opt(plate)?,
        verdict: opt(verdict)?,
        reasons: as_text(reasons, NAME)?,
        bundle_sequence: match sequence {
            Value::Null => None,
            v => Some(as_int(v, NAME)?),
        },
        simulated: match simulated {
            Value::Bool(b) => b,
            _ => return Err(WireError::WrongType(NAME)),
        },
        note: opt(note)?,
        hash: hash32(hash, NAME)?,
    })
}

#[cfg(test)]
mod tests;
