//! The checkpoint engine: what the CLI and the GUI both drive. It owns the settings, the
//! installed trust bundle and the scan log, and turns a QR text into a recorded verdict:
//! the pass rules of `checkpass` first, then what only this device knows (a repeat scan of the
//! same pass here, a clock that went backwards). No printing; `now` is always passed in (the
//! one exception: a settings entry of the log is stamped with the system clock).
//!
//! What someone holding the laptop could rewrite is checked here: the pinned root against the
//! build and the development keys, the settings rows against the log's own record of them,
//! the sequence floor against every sequence the log has seen.

use std::fmt;
use std::path::Path;

use checkpass::bundle::{open_bundle, BundleError, TrustBundle};
use checkpass::checkpoint::{accept_bundle, dev_key_in};
use checkpass::keys::PublicKey;
use checkpass::messages::write_bilingual;
use checkpass::msg;
use checkpass::number::PassNumber;
use checkpass::pass::Serial;
use checkpass::rules::{self, Clock};
use checkpass::scanlog::{test_report_note, EntryKind};
use checkpass::verdict::{Lang, Level, Reason, Verdict};

use crate::settings::{self, Settings, SettingsError};
use crate::store::{ChainHead, LoggedVerdict, NewEvent, NewScan, ScanRecord, Store, StoreError};

/// Why the engine could not do what was asked. Never about the pass itself: a bad pass is a
/// red [`Verdict`], not an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    TestReport(#[from] checkpass::scanlog::TestReportRefused),
    NoPassToReport,
    TestNotTooOld,
    NotInitialised {
        dir: String,
    },
    OtherRootPinned {
        pinned: String,
    },
    NoBundle,
    InstalledBundleInvalid {
        path: String,
        #[source]
        source: BundleError,
    },
    BundleRefused(#[source] BundleError),
    NotTheBuildRoot {
        expected: String,
        found: String,
    },
    DevKey(DevKey),
    SettingsTampered(Tampered),
    CorrectionSimulated,
    Export(#[source] checkpass::wire::WireError),
    Store(#[from] StoreError),
    Settings(#[from] SettingsError),
}

/// A public development key that only a test setup may trust, by its key id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DevKey {
    Root(String),
    BundleSigner(String),
}

impl DevKey {
    fn text(&self, lang: Lang) -> String {
        match self {
            DevKey::Root(kid) => msg!(lang, error.engine.dev_root_key, kid = kid),
            DevKey::BundleSigner(kid) => msg!(lang, error.engine.dev_signing_key, kid = kid),
        }
    }
}

/// How the settings were changed outside this program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tampered {
    /// The settings the log recorded last (`logged`) are not the settings now (`now`).
    Changed { logged: String, now: String },
    /// The installed bundle's sequence is lower than one the log has seen.
    RolledBack { installed: Option<u64>, logged: u64 },
}

impl Tampered {
    fn text(&self, lang: Lang) -> String {
        match self {
            Tampered::Changed { logged, now } => {
                msg!(
                    lang,
                    error.engine.tampered_changed,
                    logged = logged,
                    now = now
                )
            }
            Tampered::RolledBack { installed, logged } => msg!(
                lang,
                error.engine.tampered_rolled_back,
                installed = installed.map_or("-".to_string(), |i| i.to_string()),
                logged = logged
            ),
        }
    }
}

impl EngineError {
    /// The text in `lang`, without the cause (`None` for the errors that only pass one on).
    fn text(&self, lang: Lang) -> Option<String> {
        use EngineError as E;
        Some(match self {
            E::TestReport(_) => msg!(lang, error.engine.test_report).into(),
            E::NoPassToReport => msg!(lang, error.engine.no_pass_to_report).into(),
            E::TestNotTooOld => msg!(lang, error.engine.test_not_too_old).into(),
            E::NotInitialised { dir } => msg!(lang, error.engine.not_initialised, dir = dir),
            E::OtherRootPinned { pinned } => {
                msg!(lang, error.engine.other_root_pinned, pinned = pinned)
            }
            E::NoBundle => msg!(lang, error.engine.no_bundle).into(),
            E::InstalledBundleInvalid { path, .. } => {
                msg!(lang, error.engine.installed_bundle_invalid, path = path)
            }
            E::BundleRefused(_) => msg!(lang, error.engine.bundle_refused).into(),
            E::NotTheBuildRoot { expected, found } => msg!(
                lang,
                error.engine.not_the_build_root,
                expected = expected,
                found = found
            ),
            E::DevKey(key) => msg!(lang, error.engine.dev_key, what = key.text(lang)),
            E::SettingsTampered(how) => {
                msg!(lang, error.engine.settings_tampered, what = how.text(lang))
            }
            E::CorrectionSimulated => msg!(lang, error.engine.correction_simulated).into(),
            E::Export(_) => msg!(lang, error.engine.export).into(),
            E::Store(_) | E::Settings(_) => return None,
        })
    }
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cause: Option<&dyn fmt::Display> = match self {
            EngineError::TestReport(e) => Some(e),
            EngineError::InstalledBundleInvalid { source, .. } => Some(source),
            EngineError::BundleRefused(e) => Some(e),
            EngineError::Export(e) => Some(e),
            EngineError::Store(e) => return e.fmt(f),
            EngineError::Settings(e) => return e.fmt(f),
            _ => None,
        };
        write_bilingual(f, |lang| self.text(lang).unwrap_or_default(), cause)
    }
}

/// The installed bundle, as found when the data directory was opened.
#[derive(Debug)]
enum Installed {
    None,
    Valid(TrustBundle),
    /// The file is there but no longer verifies (edited, truncated, swapped for an older one):
    /// checks refuse to run until a good bundle is installed.
    Invalid(BundleError),
}

/// One recorded check.
#[derive(Debug, Clone)]
pub struct Checked {
    /// Checkpoint the pass was checked for.
    pub checkpoint: String,
    /// The verdict, with the log's reasons added.
    pub verdict: Verdict,
    /// The row appended to the scan log.
    pub record: ScanRecord,
}

/// A scan whose pass's test was too old: what a newer report the officer saw is recorded
/// against ([`Engine::record_test_report`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportTarget {
    pub scan: ScanRecord,
    /// When the pass's own test was sampled (a report must be newer).
    pub pass_sampled_at: i64,
}

impl Checked {
    /// This check as the target of a test report seen: only a genuine pass amber for its
    /// test's age.
    pub fn report_target(&self) -> Result<ReportTarget, EngineError> {
        let Some(pass) = self
            .verdict
            .pass
            .as_ref()
            .filter(|_| self.record.serial.is_some())
        else {
            return Err(EngineError::NoPassToReport);
        };
        if !self.verdict.has(checkpass::verdict::ReasonCode::TestTooOld) {
            return Err(EngineError::TestNotTooOld);
        }
        Ok(ReportTarget {
            scan: self.record.clone(),
            pass_sampled_at: pass.pass().body.test_sampled_at,
        })
    }
}

use checkpass::rules::log::{add_log_reasons, device_clock_problem, repeat_window};
pub use checkpass::rules::log::{clock_problem, log_reasons, ClockProblem};

/// The verifier's state: open one per data directory.
#[derive(Debug)]
pub struct Engine {
    store: Store,
    settings: Settings,
    bundle: Installed,
    /// `now` comes from `--at`/`VERIFIER_AT`: scans are marked simulated and never move the
    /// real clock floor (simulated scans keep one of their own).
    simulated: bool,
}

/// Choices made once, at `verifier init`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InitOptions {
    /// Trust the development and test-vector keys (a test setup only).
    pub allow_dev_keys: bool,
}

/// The root public key this program was built to trust, if any: `VERIFIER_ROOT_KEY` (64 hex
/// digits) at build time. A release built for one city refuses every other root. The 4-byte
/// key id alone (`VERIFIER_ROOT_KID`) is accepted too but only narrows the choice: 2^32 tries
/// find another key with the same id, so a release should bake in the whole key.
pub fn build_root() -> BuildRoot {
    BuildRoot {
        key: option_env!("VERIFIER_ROOT_KEY"),
        kid: option_env!("VERIFIER_ROOT_KID"),
    }
}

/// See [`build_root`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BuildRoot {
    pub key: Option<&'static str>,
    pub kid: Option<&'static str>,
}

/// Whether `root` may be pinned (or stay pinned) on this build.
pub fn check_root(
    root: &PublicKey,
    build: BuildRoot,
    allow_dev_keys: bool,
) -> Result<(), EngineError> {
    if let Some(expected) = build.key {
        if !expected.trim().eq_ignore_ascii_case(&root.to_hex()) {
            return Err(EngineError::NotTheBuildRoot {
                expected: expected.trim().to_string(),
                found: root.to_hex(),
            });
        }
    }
    if let Some(expected) = build.kid {
        if !expected.trim().eq_ignore_ascii_case(&root.kid().to_hex()) {
            return Err(EngineError::NotTheBuildRoot {
                expected: expected.trim().to_string(),
                found: root.kid().to_hex(),
            });
        }
    }
    if !allow_dev_keys && checkpass::keys::is_public_test_key(root) {
        return Err(EngineError::DevKey(DevKey::Root(root.kid().to_string())));
    }
    Ok(())
}

/// The log's record of what is pinned and installed, to compare with the settings rows.
fn settings_note(s: &Settings) -> String {
    format!(
        "root={} sequence={} bundle={}",
        s.root_key.to_hex(),
        s.installed_sequence
            .map_or_else(|| "-".to_string(), |n| n.to_string()),
        s.installed_digest
            .map_or_else(|| "-".to_string(), hex::encode),
    )
}

impl Engine {
    /// Initialises (or re-configures) the data directory at `dir`: pins `root_key` and names
    /// the checkpoint. Re-running with the same root changes the checkpoint or officer; a
    /// different root is refused, because it would let anyone holding a new key re-pin trust.
    pub fn init(
        dir: &Path,
        root_key: PublicKey,
        checkpoint: &str,
        officer: Option<&str>,
    ) -> Result<Engine, EngineError> {
        Engine::init_with(dir, root_key, checkpoint, officer, InitOptions::default())
    }

    /// [`Engine::init`] with the choices of `verifier init`.
    pub fn init_with(
        dir: &Path,
        root_key: PublicKey,
        checkpoint: &str,
        officer: Option<&str>,
        options: InitOptions,
    ) -> Result<Engine, EngineError> {
        let checkpoint = settings::validate_code("checkpoint", checkpoint)?;
        let officer = officer
            .map(|o| settings::validate_code("officer", o))
            .transpose()?;
        check_root(&root_key, build_root(), options.allow_dev_keys)?;
        let mut store = Store::open(dir)?;
        let mut created = false;
        let stored = store.modify_settings(|map| {
            let settings = match Settings::from_map(&map)? {
                Some(old) if old.root_key != root_key => {
                    return Err(EngineError::OtherRootPinned {
                        pinned: old.root_key.kid().to_string(),
                    })
                }
                Some(old) => Settings {
                    checkpoint,
                    officer: officer.or(old.officer),
                    ..old
                },
                None => {
                    created = true;
                    Settings {
                        root_key,
                        checkpoint,
                        officer,
                        repeat_window_secs: None,
                        lang: Lang::default(),
                        installed_sequence: None,
                        installed_digest: None,
                        allow_dev_keys: options.allow_dev_keys,
                        direction: None,
                    }
                }
            };
            Ok(settings.to_map())
        })?;
        let settings = Settings::from_map(&stored)?.ok_or(SettingsError::Missing("root_key"))?;
        if created {
            log_settings(&mut store, &settings)?;
        }
        // The device's own key for signing exported logs, made now so that its public half
        // can be registered with the city before the first export.
        store.device_key()?;
        Engine::with_settings(store, settings)
    }

    /// Opens an initialised data directory.
    pub fn open(dir: &Path) -> Result<Engine, EngineError> {
        let store = Store::open(dir)?;
        let settings =
            Settings::from_map(&store.settings()?)?.ok_or_else(|| EngineError::NotInitialised {
                dir: dir.display().to_string(),
            })?;
        Engine::with_settings(store, settings)
    }

    /// Checks the settings rows against the build and the log, then loads the bundle.
    fn with_settings(mut store: Store, settings: Settings) -> Result<Engine, EngineError> {
        check_root(&settings.root_key, build_root(), settings.allow_dev_keys)?;
        match store.latest_settings_note()? {
            // A data directory from before the log recorded settings: record them now.
            None => log_settings(&mut store, &settings)?,
            Some(note) if note != settings_note(&settings) => {
                return Err(EngineError::SettingsTampered(Tampered::Changed {
                    logged: note,
                    now: settings_note(&settings),
                }))
            }
            Some(_) => {}
        }
        if let (Some(logged), installed) = (
            store.highest_logged_sequence()?,
            settings.installed_sequence,
        ) {
            if installed.is_none_or(|i| i < logged) {
                return Err(EngineError::SettingsTampered(Tampered::RolledBack {
                    installed,
                    logged,
                }));
            }
        }
        let bundle = load_bundle(&store, &settings)?;
        Ok(Engine {
            store,
            settings,
            bundle,
            simulated: false,
        })
    }

    /// Marks the times given to this engine as simulated (`--at`, `VERIFIER_AT`).
    pub fn set_simulated_clock(&mut self, simulated: bool) {
        self.simulated = simulated;
    }

    pub fn simulated_clock(&self) -> bool {
        self.simulated
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Changes the settings (checkpoint, officer, window, language); the pinned root key and
    /// the installed sequence cannot be changed this way. The change is applied to the settings
    /// as stored (another process may have changed them since this engine read them).
    pub fn update_settings(
        &mut self,
        change: impl FnOnce(&mut Settings),
    ) -> Result<(), EngineError> {
        let dir = self.store.dir().display().to_string();
        let stored = self.store.modify_settings(|map| {
            let current = Settings::from_map(&map)?.ok_or(EngineError::NotInitialised { dir })?;
            let mut next = current.clone();
            change(&mut next);
            next.root_key = current.root_key;
            next.installed_sequence = current.installed_sequence;
            next.installed_digest = current.installed_digest;
            next.allow_dev_keys = current.allow_dev_keys;
            // Validate by a round trip through the stored form.
            Settings::from_map(&next.to_map())?;
            Ok::<_, EngineError>(next.to_map())
        })?;
        self.settings = Settings::from_map(&stored)?.ok_or(SettingsError::Missing("root_key"))?;
        Ok(())
    }

    /// Re-reads the settings and the installed bundle from the data directory, for a
    /// long-running GUI after the CLI changed them.
    pub fn reload(&mut self) -> Result<(), EngineError> {
        let settings = Settings::from_map(&self.store.settings()?)?.ok_or_else(|| {
            EngineError::NotInitialised {
                dir: self.store.dir().display().to_string(),
            }
        })?;
        self.bundle = load_bundle(&self.store, &settings)?;
        self.settings = settings;
        Ok(())
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        self.store.dir()
    }

    /// The installed, verified bundle.
    pub fn bundle(&self) -> Result<&TrustBundle, EngineError> {
        match &self.bundle {
            Installed::Valid(b) => Ok(b),
            Installed::None => Err(EngineError::NoBundle),
            Installed::Invalid(e) => Err(EngineError::InstalledBundleInvalid {
                path: self.store.bundle_path().display().to_string(),
                source: e.clone(),
            }),
        }
    }

    /// Installs a bundle: accepted only if signed by the pinned root with a sequence not lower
    /// than the installed one. The file is replaced atomically after verification.
    pub fn install_bundle(&mut self, bytes: &[u8]) -> Result<&TrustBundle, EngineError> {
        // The floor as stored too: another process may have installed a newer bundle.
        let stored = Settings::from_map(&self.store.settings()?)?;
        let floor = self
            .sequence_floor()
            .max(stored.as_ref().and_then(|s| s.installed_sequence))
            .max(self.store.highest_logged_sequence()?);
        let installed = checkpass::checkpoint::Installed {
            sequence: floor,
            digest: stored.as_ref().and_then(|s| s.installed_digest),
        };
        let (bundle, digest) = accept_bundle(bytes, &self.settings.root_key, installed)
            .map_err(EngineError::BundleRefused)?;
        if !self.settings.allow_dev_keys {
            if let Some(kid) = dev_key_in(&bundle) {
                return Err(EngineError::DevKey(DevKey::BundleSigner(kid.to_string())));
            }
        }
        self.store.write_bundle(bytes)?;
        let sequence = bundle.sequence;
        let dir = self.store.dir().display().to_string();
        let stored = self.store.modify_settings(|map| {
            let mut s = Settings::from_map(&map)?.ok_or(EngineError::NotInitialised { dir })?;
            if s.installed_sequence.is_none_or(|i| i <= sequence) {
                s.installed_sequence = Some(sequence);
                s.installed_digest = Some(digest);
            }
            Ok::<_, EngineError>(s.to_map())
        })?;
        self.settings = Settings::from_map(&stored)?.ok_or(SettingsError::Missing("root_key"))?;
        log_settings(&mut self.store, &self.settings)?;
        self.bundle = Installed::Valid(bundle);
        self.bundle()
    }

    /// Records that the officer corrected the device clock, which is now `now`: the clock floor
    /// counts from here, so a clock that had jumped forward stops making every scan amber.
    pub fn record_clock_correction(&mut self, now: i64, reason: &str) -> Result<(), EngineError> {
        if self.simulated {
            return Err(EngineError::CorrectionSimulated);
        }
        self.store.record_event(&NewEvent {
            kind: EntryKind::ClockCorrection,
            at: now,
            checkpoint: self.settings.checkpoint.clone(),
            officer: self.settings.officer.clone(),
            serial: None,
            plate: None,
            bundle_sequence: self.settings.installed_sequence,
            simulated: false,
            note: reason.to_string(),
        })?;
        Ok(())
    }

    /// Records that the officer saw a newer negative test report for a pass just checked
    /// (`target`, amber for its test's age), sampled at `seen`: a `test_report` entry right
    /// after the scan, with its checkpoint, pass and clock (docs/scan-log.md). Refused for a
    /// time in the future or not newer than the pass's own test. The verdict stays what it
    /// was — the officer decides — but the log, and the city, know what was seen. Returns the
    /// entry's id.
    pub fn record_test_report(
        &mut self,
        target: &ReportTarget,
        seen: i64,
        now: i64,
    ) -> Result<i64, EngineError> {
        let scan = &target.scan;
        let note = test_report_note(seen, target.pass_sampled_at, now)?;
        Ok(self.store.record_event(&NewEvent {
            kind: EntryKind::TestReport,
            at: now,
            checkpoint: scan.checkpoint.clone(),
            officer: scan.officer.clone(),
            serial: scan.serial.clone(),
            plate: scan.plate.clone(),
            bundle_sequence: scan.bundle_sequence,
            simulated: scan.simulated,
            note,
        })?)
    }

    /// Checks the scan log's hash chain.
    pub fn verify_log(&self) -> Result<ChainHead, EngineError> {
        Ok(self.store.verify_chain()?)
    }

    /// The log from the first entry at or after `since` (all when `None`), signed by this
    /// device's key as a file for the city (`checkpass::logfile`); its chain is checked first.
    pub fn export_log(
        &self,
        since: Option<i64>,
        now: i64,
    ) -> Result<(Vec<u8>, checkpass::logfile::ScanLogFile), EngineError> {
        let key = self.store.device_key()?;
        let (prev, entries) = self.store.log_records(since)?;
        let log = checkpass::logfile::ScanLogFile {
            device: key.public_key(),
            exported_at: now,
            prev,
            entries,
        };
        let bytes = checkpass::logfile::sign_log(&log, &key).map_err(EngineError::Export)?;
        Ok((bytes, log))
    }

    /// This device's public log key (made on first use).
    pub fn device_public_key(&self) -> Result<checkpass::keys::PublicKey, EngineError> {
        Ok(self.store.device_key()?.public_key())
    }

    /// Highest sequence seen: the stored floor or the installed bundle's, whichever is higher.
    fn sequence_floor(&self) -> Option<u64> {
        let installed = match &self.bundle {
            Installed::Valid(b) => Some(b.sequence),
            _ => None,
        };
        installed.max(self.settings.installed_sequence)
    }

    /// The repeat-scan window in force: the local setting, else the bundle's policy.
    pub fn repeat_window_secs(&self) -> Option<i64> {
        repeat_window(self.settings.repeat_window_secs, self.valid_bundle())
    }

    /// The installed bundle when it verified; none otherwise.
    fn valid_bundle(&self) -> Option<&TrustBundle> {
        match &self.bundle {
            Installed::Valid(b) => Some(b),
            _ => None,
        }
    }

    /// Checks a QR text at this device's checkpoint and records the scan.
    pub fn check_text(&mut self, text: &str, now: i64) -> Result<Checked, EngineError> {
        let checkpoint = self.settings.checkpoint.clone();
        self.check_text_at(text, now, &checkpoint)
    }

    /// Checks a QR text as if at `checkpoint` (a mobile team covering another post) and
    /// records the scan under that checkpoint.
    pub fn check_text_at(
        &mut self,
        text: &str,
        now: i64,
        checkpoint: &str,
    ) -> Result<Checked, EngineError> {
        let floor = self.store.clock_floor(self.simulated)?;
        let bundle = self.bundle()?;
        let verdict = rules::verify_at(text, bundle, checkpoint, Clock { now, floor });
        self.record(verdict, now, checkpoint)
    }

    /// Records that an image held no readable pass: a red verdict (`NOT_A_PASS`), so the
    /// truck is not waved through because a photo was blank. The GUI, which sees many empty
    /// frames, does not call this; the CLI does for each image given to it.
    pub fn check_nothing_found(
        &mut self,
        now: i64,
        checkpoint: &str,
    ) -> Result<Checked, EngineError> {
        self.bundle()?;
        let mut verdict = Verdict::new(checkpoint, now);
        verdict.add(Reason::NotAPass);
        self.record(verdict, now, checkpoint)
    }

    fn record(
        &mut self,
        mut verdict: Verdict,
        now: i64,
        checkpoint: &str,
    ) -> Result<Checked, EngineError> {
        let bundle = self.bundle()?.clone();
        let sequence = bundle.sequence;
        let simulated = self.simulated;
        let window = self.repeat_window_secs().unwrap_or(0);
        let serial = verdict.pass.as_ref().map(|p| p.serial.to_string());
        let plate = verdict.pass.as_ref().map(|p| p.body.plate.clone());
        let officer = self.settings.officer.clone();
        let direction = self.settings.direction;
        let lookup = serial.clone();
        let (record, verdict) =
            self.store
                .record_scan(lookup.as_deref(), checkpoint, simulated, |facts| {
                    add_log_reasons(&mut verdict, facts, now, window, &bundle);
                    let scan = NewScan {
                        scanned_at: now,
                        checkpoint: checkpoint.to_owned(),
                        officer,
                        serial,
                        plate,
                        verdict: logged(verdict.level()),
                        reasons: verdict.codes().into_iter().map(str::to_owned).collect(),
                        bundle_sequence: Some(sequence),
                        simulated,
                        direction,
                    };
                    (scan, verdict)
                })?;
        Ok(Checked {
            checkpoint: checkpoint.to_owned(),
            verdict,
            record,
        })
    }

    /// Whether the clock at `now` looks wrong, without recording anything (for a status line).
    pub fn clock_problem(&self, now: i64) -> Result<Option<ClockProblem>, EngineError> {
        let floor = self.store.clock_floor(self.simulated)?;
        Ok(device_clock_problem(floor, self.valid_bundle(), now))
    }

    /// Scans recorded at or after `since`, oldest first.
    pub fn scans(&self, since: Option<i64>) -> Result<Vec<ScanRecord>, EngineError> {
        Ok(self.store.scans(since)?)
    }

    /// Number of scans in the log.
    pub fn scan_count(&self) -> Result<u64, EngineError> {
        Ok(self.store.scan_count()?)
    }

    /// Scans of the pass numbered `number` recorded at or after `since`, oldest first.
    pub fn scans_of(
        &self,
        number: &PassNumber,
        since: i64,
    ) -> Result<Vec<ScanRecord>, EngineError> {
        let mut scans = self.store.scans(Some(since))?;
        scans.retain(|r| is_scan_of(r, number));
        Ok(scans)
    }
}

/// Whether a logged scan is of the pass numbered `number` (typed by the officer). The log keeps
/// the serial of each genuine pass it saw, unique per issuer; the number's district part was
/// checked against its check character when it was parsed ([`PassNumber`]'s `FromStr`).
pub fn is_scan_of(record: &ScanRecord, number: &PassNumber) -> bool {
    record
        .serial
        .as_deref()
        .and_then(|s| s.parse::<Serial>().ok())
        == Some(number.serial)
}

fn load_bundle(store: &Store, settings: &Settings) -> Result<Installed, EngineError> {
    Ok(match store.bundle_bytes()? {
        None => Installed::None,
        Some(bytes) => match open_bundle(&bytes, &settings.root_key, settings.installed_sequence) {
            Ok(b) => Installed::Valid(b),
            Err(e) => Installed::Invalid(e),
        },
    })
}

fn logged(level: Level) -> LoggedVerdict {
    match level {
        Level::Green => LoggedVerdict::Green,
        Level::Amber => LoggedVerdict::Amber,
        Level::Red => LoggedVerdict::Red,
    }
}

/// Appends the settings as they now are to the log, where `open` compares them.
fn log_settings(store: &mut Store, settings: &Settings) -> Result<(), EngineError> {
    store.record_event(&NewEvent {
        kind: EntryKind::Settings,
        at: chrono::Utc::now().timestamp(),
        checkpoint: settings.checkpoint.clone(),
        officer: settings.officer.clone(),
        serial: None,
        plate: None,
        bundle_sequence: settings.installed_sequence,
        simulated: false,
        note: settings_note(settings),
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use checkpass::bundle::sign_bundle;
    use checkpass::keys::SigningKey;
    use checkpass::verdict::ReasonCode;
    use checkpass::{sample, wire};

    struct Keys {
        root: SigningKey,
        signing: SigningKey,
    }

    fn keys() -> Keys {
        Keys {
            root: SigningKey::from_seed(&[21; 32]),
            signing: SigningKey::from_seed(&[22; 32]),
        }
    }

    fn bundle_bytes(k: &Keys, sequence: u64) -> Vec<u8> {
        sign_bundle(
            &sample::bundle(&k.signing, sequence, sample::ISSUED_AT),
            &k.root,
        )
        .unwrap()
    }

    fn ready(dir: &Path, k: &Keys) -> Engine {
        let mut e = Engine::init(dir, k.root.public_key(), "C101", Some("W001")).unwrap();
        e.install_bundle(&bundle_bytes(k, 2)).unwrap();
        e
    }

    #[test]
    fn open_needs_init_and_check_needs_a_bundle() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            Engine::open(dir.path()),
            Err(EngineError::NotInitialised { .. })
        ));
        let k = keys();
        let mut e = Engine::init(dir.path(), k.root.public_key(), "C101", None).unwrap();
        assert!(matches!(
            e.check_text("TP1:", sample::NOW),
            Err(EngineError::NoBundle)
        ));
        assert_eq!(
            e.scan_count().unwrap(),
            0,
            "nothing recorded without a bundle"
        );
        let e = Engine::open(dir.path()).unwrap();
        assert_eq!(e.settings().checkpoint, "C101");
    }

    #[test]
    fn bundles_from_another_root_or_older_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let k = keys();
        let mut e = ready(dir.path(), &k);
        let other = Keys {
            root: SigningKey::from_seed(&[23; 32]),
            signing: SigningKey::from_seed(&[22; 32]),
        };
        assert!(matches!(
            e.install_bundle(&bundle_bytes(&other, 9)),
            Err(EngineError::BundleRefused(BundleError::WrongRoot { .. }))
        ));
        assert!(matches!(
            e.install_bundle(&bundle_bytes(&k, 1)),
            Err(EngineError::BundleRefused(BundleError::Rollback { .. }))
        ));
        assert_eq!(e.bundle().unwrap().sequence, 2);
    }

    #[test]
    fn two_engines_on_one_directory_keep_the_sequence_floor() {
        let dir = tempfile::tempdir().unwrap();
        let k = keys();
        let mut gui = ready(dir.path(), &k);
        let mut cli = Engine::open(dir.path()).unwrap();
        cli.install_bundle(&bundle_bytes(&k, 5)).unwrap();
        cli.update_settings(|s| s.officer = Some("W009".into()))
            .unwrap();
        // The GUI changes the language with its old view of the settings...
        gui.update_settings(|s| s.lang = Lang::En).unwrap();
        // ...which keeps the CLI's officer and the new floor.
        assert_eq!(gui.settings().officer.as_deref(), Some("W009"));
        assert_eq!(gui.settings().installed_sequence, Some(5));
        assert!(gui.install_bundle(&bundle_bytes(&k, 4)).is_err());
        gui.reload().unwrap();
        assert_eq!(gui.bundle().unwrap().sequence, 5);
        assert_eq!(Engine::open(dir.path()).unwrap().settings().lang, Lang::En);
    }

    #[test]
    fn checks_are_recorded_and_repeats_flagged_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let k = keys();
        let text = wire::issue_qr_text(&sample::pass(), &k.signing).unwrap();
        let mut e = ready(dir.path(), &k);
        let first = e.check_text(&text, sample::NOW).unwrap();
        assert_eq!(first.verdict.level(), Level::Green);
        assert_eq!(first.record.serial, Some(sample::pass().serial.to_string()));
        assert_eq!(first.record.officer.as_deref(), Some("W001"));
        drop(e);
        let mut e = Engine::open(dir.path()).unwrap();
        let again = e.check_text(&text, sample::NOW + 30).unwrap();
        assert_eq!(again.verdict.level(), Level::Amber);
        assert!(again.verdict.has(ReasonCode::RepeatScan));
        assert_eq!(again.record.verdict, LoggedVerdict::Amber);
        assert_eq!(again.record.reasons, vec!["REPEAT_SCAN"]);

        let nothing = e.check_nothing_found(sample::NOW + 60, "C101").unwrap();
        assert_eq!(nothing.verdict.codes(), vec!["NOT_A_PASS"]);
        assert_eq!(e.scan_count().unwrap(), 3);
        assert_eq!(e.clock_problem(sample::NOW + 60).unwrap(), None);
        assert_eq!(
            e.clock_problem(sample::NOW - 3600).unwrap(),
            Some(ClockProblem::BehindLog {
                newest_scan_at: sample::NOW + 60
            })
        );
        // The clock set back: amber, and recorded with the time the device believed.
        let behind = e.check_text(&text, sample::NOW - 3600).unwrap();
        assert!(behind.verdict.has(ReasonCode::ClockBehind));
        assert_eq!(behind.record.scanned_at, sample::NOW - 3600);
    }

    // The repeat-scan and clock rules' own tests are in checkpass::rules::log.
}
