//! The checkpoint web app's verifier: the `checkpass` rules compiled to WebAssembly.
//!
//! The app (checkpoint-web/) keeps its state in the browser (IndexedDB) and calls these
//! functions for every decision: pinning the root key, installing a trust bundle (the same
//! refusals as the native verifier: wrong root, rollback, a different file of the same
//! sequence, damaged, oversized, development keys), and turning a QR text into a verdict with
//! the scan log's findings (repeat scan, clock behind). JavaScript shows the result; it judges
//! nothing itself. The scan log's chain, its signed export (`checkpass::logfile`, by the app's
//! own device key, made from a seed the app keeps) and the officer's record of a newer test
//! report (`checkpass::scanlog::test_report_note`) are made here too.
//!
//! Results cross the boundary as JSON text (one `JSON.parse` in the app). The same functions
//! are plain Rust too ([`Verifier`] without wasm-bindgen's glue), so the tests compare the
//! WebAssembly's answers with the native ones.

use checkpass::bundle::TrustBundle;
use checkpass::checkpoint::{accept_bundle, dev_key_in, Installed, LogFacts};
use checkpass::keys::{
    is_public_test_key, parse_public_key_file, public_key_file, KeyRole, PublicKey, SigningKey,
};
use checkpass::logfile::{open_log, sign_log, LogFileError, LogRecord, ScanLogFile};
use checkpass::messages::in_both;
use checkpass::msg;
use checkpass::rules::log::{add_log_reasons, repeat_window};
use checkpass::rules::{self, Clock};
use checkpass::scanlog::test_report_note;
use checkpass::time::{format_cst, hours, parse_cst};
use checkpass::verdict::{Lang, Verdict};
use serde::Deserialize;
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;

/// A refusal, with a message for the officer (Chinese, English in parentheses, as the native
/// verifier prints it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// A stable code for the app and the tests.
    pub code: &'static str,
    pub message: String,
}

impl From<Refused> for JsValue {
    fn from(r: Refused) -> JsValue {
        let e = js_sys_error(&r.message);
        let _ = js_set(&e, "code", r.code);
        e
    }
}

fn js_sys_error(message: &str) -> JsValue {
    JsError::new(message).into()
}

/// Sets a string property without js-sys (Reflect through wasm-bindgen's own intrinsics).
fn js_set(target: &JsValue, key: &str, value: &str) -> Result<(), JsValue> {
    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_namespace = Reflect, js_name = set, catch)]
        fn reflect_set(target: &JsValue, key: &JsValue, value: &JsValue) -> Result<bool, JsValue>;
    }
    reflect_set(target, &JsValue::from_str(key), &JsValue::from_str(value)).map(|_| ())
}

/// The app's own words from the message catalogue (`[app]` in shared/messages.toml), as JSON
/// `{"zh": {"cameraStart": "打开摄像头", …}, "en": {…}}`: the names in camelCase, as app.js
/// uses them.
#[wasm_bindgen]
pub fn app_words() -> String {
    let mut zh = serde_json::Map::new();
    let mut en = serde_json::Map::new();
    for (key, z, e) in checkpass::messages::tables::APP {
        let name = camel_case(key);
        zh.insert(name.clone(), json!(z));
        en.insert(name, json!(e));
    }
    json!({ "zh": zh, "en": en }).to_string()
}

/// `camera_start` → `cameraStart`.
fn camel_case(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for c in key.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn bundle_refusal(e: checkpass::bundle::BundleError) -> Refused {
    use checkpass::bundle::BundleError as E;
    let code = match &e {
        E::TooLarge(_) => "TOO_LARGE",
        E::Malformed(_) => "MALFORMED",
        E::WrongRoot { .. } => "WRONG_ROOT",
        E::BadSignature => "BAD_SIGNATURE",
        E::Rollback { .. } => "ROLLBACK",
        E::SameSequenceDiffers { .. } => "SAME_SEQUENCE_DIFFERS",
        _ => "REFUSED",
    };
    Refused {
        code,
        message: checkpass::describe_error(&e),
    }
}

/// What the app stored about the installed bundle (null on a fresh device).
#[derive(Debug, Default, Deserialize)]
struct InstalledState {
    sequence: Option<u64>,
    digest: Option<String>,
}

/// What the app's scan log says before this scan (null: nothing).
#[derive(Debug, Default, Deserialize)]
struct LogState {
    clock_floor: Option<i64>,
    last_same_pass_here: Option<i64>,
}

fn parse_json<T: for<'de> Deserialize<'de> + Default>(
    text: &str,
    what: &str,
) -> Result<T, Refused> {
    if text.trim().is_empty() || text.trim() == "null" {
        return Ok(T::default());
    }
    serde_json::from_str(text).map_err(|e| Refused {
        code: "BAD_ARGUMENT",
        message: format!("{what}: {e}"),
    })
}

/// One checkpoint device: the pinned root and, once installed, the trust bundle.
#[wasm_bindgen]
pub struct Verifier {
    root: PublicKey,
    allow_dev_keys: bool,
    bundle: Option<TrustBundle>,
}

#[wasm_bindgen]
impl Verifier {
    /// Pins the root key from the text of a root key file (`root.pub`, as `issuer keys
    /// export` writes it). The public development and test-vector keys are refused unless
    /// `allow_dev_keys` (a test set-up only), as `verifier init` refuses them.
    #[wasm_bindgen(constructor)]
    pub fn new(root_file: &str, allow_dev_keys: bool) -> Result<Verifier, Refused> {
        let (root, role) = parse_public_key_file(root_file).map_err(|e| Refused {
            code: "BAD_ROOT_FILE",
            message: format!("{}: {e}", in_both(|l| msg!(l, web.root_file_unreadable))),
        })?;
        if role != KeyRole::Root {
            return Err(Refused {
                code: "NOT_A_ROOT_KEY",
                message: in_both(|l| msg!(l, web.not_a_root_key, role = role.as_str())),
            });
        }
        if !allow_dev_keys && is_public_test_key(&root) {
            return Err(Refused {
                code: "DEV_KEY",
                message: in_both(|l| msg!(l, web.dev_root_key, kid = root.kid())),
            });
        }
        Ok(Verifier {
            root,
            allow_dev_keys,
            bundle: None,
        })
    }

    /// The pinned root's key id (8 hex digits), to compare with the printed one.
    #[wasm_bindgen(getter)]
    pub fn root_kid(&self) -> String {
        self.root.kid().to_hex()
    }

    /// The pinned root key (64 hex digits).
    #[wasm_bindgen(getter)]
    pub fn root_key(&self) -> String {
        self.root.to_hex()
    }

    /// Installs a bundle file. `installed` is what the app stored of the bundle installed
    /// before (`{"sequence": n, "digest": "hex"}` or null). Refused as the native verifier
    /// refuses; on success returns the bundle's summary at `now` (JSON) with its `digest`
    /// to store. The same call re-opens the stored bundle when the app starts.
    pub fn install(&mut self, bytes: &[u8], installed: &str, now: f64) -> Result<String, Refused> {
        let state: InstalledState = parse_json(installed, "installed")?;
        let digest = match state.digest.as_deref().map(hex::decode) {
            None => None,
            Some(Ok(d)) if d.len() == 32 => d.try_into().ok(),
            Some(_) => {
                return Err(Refused {
                    code: "BAD_ARGUMENT",
                    message: "installed.digest: not 64 hex digits".into(),
                })
            }
        };
        let installed = Installed {
            sequence: state.sequence,
            digest,
        };
        let (bundle, digest) =
            accept_bundle(bytes, &self.root, installed).map_err(bundle_refusal)?;
        if !self.allow_dev_keys {
            if let Some(kid) = dev_key_in(&bundle) {
                return Err(Refused {
                    code: "DEV_KEY",
                    message: in_both(|l| msg!(l, web.dev_signing_key, kid = kid)),
                });
            }
        }
        let mut summary = summary(&bundle, now as i64);
        summary["digest"] = json!(hex::encode(digest));
        self.bundle = Some(bundle);
        Ok(summary.to_string())
    }

    /// The installed bundle's summary at `now` (JSON), or null.
    pub fn summary(&self, now: f64) -> String {
        self.bundle
            .as_ref()
            .map_or(Value::Null, |b| summary(b, now as i64))
            .to_string()
    }

    /// Checks a QR text at `checkpoint` at `now` (unix seconds) with what the app's scan log
    /// says (`{"clock_floor": t, "last_same_pass_here": t}` or null): the verdict as JSON.
    pub fn verify(
        &self,
        text: &str,
        checkpoint: &str,
        now: f64,
        log: &str,
    ) -> Result<String, Refused> {
        let bundle = self.bundle.as_ref().ok_or(Refused {
            code: "NO_BUNDLE",
            message: in_both(|l| msg!(l, web.no_bundle)),
        })?;
        let log: LogState = parse_json(log, "log")?;
        let facts = LogFacts {
            clock_floor: log.clock_floor,
            last_same_pass_here: log.last_same_pass_here,
        };
        Ok(verdict_json(&check(text, bundle, checkpoint, now as i64, facts)).to_string())
    }
}

/// The verdict at a checkpoint as the native verifier's engine makes it: the pass rules, then
/// the scan log's findings (a repeat scan, a clock behind), each listed once.
pub fn check(
    text: &str,
    bundle: &TrustBundle,
    checkpoint: &str,
    now: i64,
    facts: LogFacts,
) -> Verdict {
    let mut verdict = rules::verify_at(
        text,
        bundle,
        checkpoint,
        Clock {
            now,
            floor: facts.clock_floor,
        },
    );
    let window = repeat_window(None, Some(bundle)).unwrap_or(0);
    add_log_reasons(&mut verdict, facts, now, window, bundle);
    verdict
}

/// A verdict as the app shows and logs it.
pub fn verdict_json(v: &Verdict) -> Value {
    let level = v.level();
    json!({
        "level": level.as_str(),
        "word": { "zh": level.word(Lang::Zh), "en": level.word(Lang::En) },
        "reasons": v.reasons.iter().map(|r| json!({
            "code": r.code().as_str(),
            "level": r.level().as_str(),
            "zh": r.message(Lang::Zh),
            "en": r.message(Lang::En),
        })).collect::<Vec<_>>(),
        "view": v.view,
        "serial": v.serial().map(|s| s.to_string()),
        // The pass's own test (unix seconds), which a recorded newer report must follow.
        "test_sampled_at": v.pass.as_ref().map(|p| p.body.test_sampled_at),
        "checkpoint": v.checkpoint,
        "checked_at": v.checked_at,
        "checked_at_cst": format_cst(v.checked_at),
    })
}

/// The bundle as the set-up screen and the status line show it.
pub fn summary(b: &TrustBundle, now: i64) -> Value {
    json!({
        "sequence": b.sequence,
        "issuer": b.issuer,
        "issued_at": b.issued_at,
        "issued_at_cst": format_cst(b.issued_at),
        "age_hours": hours(b.age_secs(now)),
        "stale": b.is_stale(now),
        "max_age_hours": hours(b.policy.max_bundle_age_secs),
        "repeat_window_secs": b.policy.repeat_window_secs,
        "keys": b.keys.len(),
        "revoked": b.revoked.len(),
        "checkpoints": b.checkpoints,
    })
}

/// One scan-log entry as the app stores it (the fields the chain covers).
#[derive(Debug, Deserialize)]
struct LogEntry {
    id: i64,
    #[serde(default = "scan_kind")]
    kind: String,
    at: i64,
    checkpoint: String,
    officer: Option<String>,
    serial: Option<String>,
    plate: Option<String>,
    verdict: Option<String>,
    /// Reason codes separated by spaces.
    reasons: String,
    bundle_sequence: Option<i64>,
    #[serde(default)]
    simulated: bool,
    note: Option<String>,
    /// The stored hash (hex), when checking a log.
    hash: Option<String>,
}

fn scan_kind() -> String {
    "scan".into()
}

impl LogEntry {
    fn entry(&self) -> Result<checkpass::scanlog::Entry<'_>, Refused> {
        let kind = checkpass::scanlog::EntryKind::parse(&self.kind).ok_or(Refused {
            code: "BAD_ARGUMENT",
            message: format!("entry {}: unknown kind {:?}", self.id, self.kind),
        })?;
        Ok(checkpass::scanlog::Entry {
            id: self.id,
            kind,
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
        })
    }
}

fn hash_hex(text: &str, what: &str) -> Result<[u8; 32], Refused> {
    hex::decode(text)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or(Refused {
            code: "BAD_ARGUMENT",
            message: format!("{what}: not 64 hex digits"),
        })
}

/// The scan log's hash chain, the native log's own (`checkpass::scanlog`): the hash (hex) of
/// `entry` (JSON, as the app stores it) following `prev` (hex; empty for the first entry).
#[wasm_bindgen]
pub fn chain_link(prev: &str, entry: &str) -> Result<String, Refused> {
    let prev = if prev.is_empty() {
        checkpass::scanlog::GENESIS
    } else {
        hash_hex(prev, "prev")?
    };
    let e: LogEntry = serde_json::from_str(entry).map_err(|e| Refused {
        code: "BAD_ARGUMENT",
        message: format!("entry: {e}"),
    })?;
    Ok(hex::encode(checkpass::scanlog::link(&prev, &e.entry()?)))
}

/// Checks a whole log (a JSON array of entries with their `hash`, in order): the head hash
/// (hex), or the entry where the chain breaks.
#[wasm_bindgen]
pub fn verify_log(entries: &str) -> Result<String, Refused> {
    let entries: Vec<LogEntry> = serde_json::from_str(entries).map_err(|e| Refused {
        code: "BAD_ARGUMENT",
        message: format!("entries: {e}"),
    })?;
    let mut chain = Vec::with_capacity(entries.len());
    for e in &entries {
        let stored = match e.hash.as_deref() {
            None => None,
            Some(h) => Some(hash_hex(h, "hash")?),
        };
        chain.push((e.entry()?, stored));
    }
    checkpass::scanlog::verify_chain(chain)
        .map(hex::encode)
        .map_err(|e| Refused {
            code: "CHAIN_BROKEN",
            message: e.to_string(),
        })
}

/// The device key from the app's 32-byte seed (kept in IndexedDB, never leaves the device).
fn device(seed: &[u8]) -> Result<SigningKey, Refused> {
    let seed: &[u8; 32] = seed.try_into().map_err(|_| Refused {
        code: "BAD_DEVICE_KEY",
        message: in_both(|l| msg!(l, web.bad_device_key, len = seed.len())),
    })?;
    Ok(SigningKey::from_seed(seed))
}

/// The app's device key for its signed log exports, from its seed: `{"kid", "public_key",
/// "file"}` (JSON), where `file` is the public key file (role `device`) the city registers,
/// the text `verifier log device --out` writes.
#[wasm_bindgen]
pub fn device_key(seed: &[u8]) -> Result<String, Refused> {
    let public = device(seed)?.public_key();
    Ok(json!({
        "kid": public.kid().to_hex(),
        "public_key": public.to_hex(),
        "file": public_key_file(&public, KeyRole::Device),
    })
    .to_string())
}

/// The signed export of log entries (a JSON array as the app stores them, each with its
/// `hash`, in order, ids consecutive), following `prev` (hex; empty from the log's start), at
/// `exported_at` (unix seconds): the bytes of a `checkpass::logfile` file, as `verifier log
/// export` writes it. The file is opened again before it is handed out, so a log whose chain
/// does not hold is refused (`CHAIN_BROKEN`, naming the entry), never exported.
#[wasm_bindgen]
pub fn sign_export(
    seed: &[u8],
    prev: &str,
    entries: &str,
    exported_at: f64,
) -> Result<Vec<u8>, Refused> {
    let key = device(seed)?;
    let prev = if prev.is_empty() {
        checkpass::scanlog::GENESIS
    } else {
        hash_hex(prev, "prev")?
    };
    let stored: Vec<LogEntry> = serde_json::from_str(entries).map_err(|e| Refused {
        code: "BAD_ARGUMENT",
        message: format!("entries: {e}"),
    })?;
    let mut records = Vec::with_capacity(stored.len());
    for e in &stored {
        let hash = match e.hash.as_deref() {
            Some(h) => hash_hex(h, "hash")?,
            None => {
                return Err(Refused {
                    code: "CHAIN_BROKEN",
                    message: in_both(|l| msg!(l, web.no_hash, id = e.id)),
                })
            }
        };
        let f = e.entry()?;
        records.push(LogRecord {
            id: f.id,
            kind: f.kind,
            at: f.at,
            checkpoint: f.checkpoint.to_string(),
            officer: f.officer.map(str::to_string),
            serial: f.serial.map(str::to_string),
            plate: f.plate.map(str::to_string),
            verdict: f.verdict.map(str::to_string),
            reasons: f.reasons.to_string(),
            bundle_sequence: f.bundle_sequence,
            simulated: f.simulated,
            note: f.note.map(str::to_string),
            hash,
        });
    }
    let log = ScanLogFile {
        device: key.public_key(),
        exported_at: exported_at as i64,
        prev,
        entries: records,
    };
    let bytes = sign_log(&log, &key).map_err(|e| Refused {
        code: "REFUSED",
        message: e.to_string(),
    })?;
    open_log(&bytes).map_err(|e| Refused {
        code: match e {
            LogFileError::ChainBroken { .. } => "CHAIN_BROKEN",
            _ => "REFUSED",
        },
        message: e.to_string(),
    })?;
    Ok(bytes)
}

/// The officer's record of a newer test report: the sample time he saw (`seen`, as typed or
/// picked, UTC+8: `2022-03-15 08:00` or `2022-03-15T08:00`) after a pass whose own test was
/// sampled at `pass_sampled_at`, at `now`. Gives `{"note", "sample_at", "sample_at_cst",
/// "at_cst"}` (JSON; `note` is the log entry's, `sample_at=<unix seconds>`; `at_cst` is `now`
/// as the log shows it), or a refusal: unreadable
/// (`BAD_TIME`), in the future (`IN_FUTURE`), not newer than the pass's test (`NOT_NEWER`).
#[wasm_bindgen]
pub fn test_report(seen: &str, pass_sampled_at: f64, now: f64) -> Result<String, Refused> {
    let sample_at = parse_cst(seen).ok_or_else(|| Refused {
        code: "BAD_TIME",
        message: in_both(|l| msg!(l, web.bad_sample_time, input = format!("{:?}", seen.trim()))),
    })?;
    let note =
        test_report_note(sample_at, pass_sampled_at as i64, now as i64).map_err(|e| Refused {
            code: match e {
                checkpass::scanlog::TestReportRefused::InFuture => "IN_FUTURE",
                checkpass::scanlog::TestReportRefused::NotNewer => "NOT_NEWER",
            },
            message: e.to_string(),
        })?;
    Ok(json!({
        "note": note,
        "sample_at": sample_at,
        "sample_at_cst": format_cst(sample_at),
        "at_cst": format_cst(now as i64),
    })
    .to_string())
}
