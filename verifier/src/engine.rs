//! The checkpoint engine: what the CLI and the GUI both drive. It owns the settings, the
//! installed trust bundle and the scan log, and turns a QR text into a recorded verdict:
//! the pass rules of `checkpass` first, then what only this device knows (a repeat scan of the
//! same pass here, a clock that went backwards). No printing, no reading of the system clock:
//! `now` is always passed in.

use std::path::Path;

use checkpass::bundle::{open_bundle, BundleError, TrustBundle};
use checkpass::keys::PublicKey;
use checkpass::rules;
use checkpass::verdict::{Lang, Level, Reason, Verdict};

use crate::settings::{self, Settings, SettingsError};
use crate::store::{LogFacts, LoggedVerdict, NewScan, ScanRecord, Store, StoreError};

/// Why the engine could not do what was asked. Never about the pass itself: a bad pass is a
/// red [`Verdict`], not an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    #[error("此设备尚未初始化 (not initialised): 请先运行 verifier init --root-key FILE --checkpoint CODE (数据目录 {dir})")]
    NotInitialised { dir: String },
    #[error("此设备已固定另一根密钥 {pinned} (a different root key is pinned); 更换根密钥须使用新的数据目录 (use a new data directory)")]
    OtherRootPinned { pinned: String },
    #[error("未安装信任包 (no trust bundle installed): 请运行 verifier bundle install FILE")]
    NoBundle,
    #[error("已安装的信任包 {path} 校验失败, 请重新安装 (installed bundle failed verification; reinstall it): {source}")]
    InstalledBundleInvalid {
        path: String,
        #[source]
        source: BundleError,
    },
    #[error("信任包被拒绝 (bundle refused): {0}")]
    BundleRefused(#[source] BundleError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Settings(#[from] SettingsError),
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

/// What the device's clock looks like compared with what it has seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockProblem {
    /// `now` is earlier than the newest scan in the log.
    BehindLog { newest_scan_at: i64 },
    /// `now` is earlier than the installed bundle's issue time (beyond the allowed skew).
    BehindBundle { issued_at: i64 },
}

/// The verifier's state: open one per data directory.
#[derive(Debug)]
pub struct Engine {
    store: Store,
    settings: Settings,
    bundle: Installed,
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
        let checkpoint = settings::validate_code("checkpoint", checkpoint)?;
        let officer = officer
            .map(|o| settings::validate_code("officer", o))
            .transpose()?;
        let mut store = Store::open(dir)?;
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
                None => Settings {
                    root_key,
                    checkpoint,
                    officer,
                    repeat_window_secs: None,
                    lang: Lang::default(),
                    installed_sequence: None,
                },
            };
            Ok(settings.to_map())
        })?;
        let settings = Settings::from_map(&stored)?.ok_or(SettingsError::Missing("root_key"))?;
        let bundle = load_bundle(&store, &settings)?;
        Ok(Engine {
            store,
            settings,
            bundle,
        })
    }

    /// Opens an initialised data directory.
    pub fn open(dir: &Path) -> Result<Engine, EngineError> {
        let store = Store::open(dir)?;
        let settings =
            Settings::from_map(&store.settings()?)?.ok_or_else(|| EngineError::NotInitialised {
                dir: dir.display().to_string(),
            })?;
        let bundle = load_bundle(&store, &settings)?;
        Ok(Engine {
            store,
            settings,
            bundle,
        })
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
        let stored_floor =
            Settings::from_map(&self.store.settings()?)?.and_then(|s| s.installed_sequence);
        let floor = self.sequence_floor().max(stored_floor);
        let bundle = open_bundle(bytes, &self.settings.root_key, floor)
            .map_err(EngineError::BundleRefused)?;
        self.store.write_bundle(bytes)?;
        let sequence = bundle.sequence;
        let dir = self.store.dir().display().to_string();
        let stored = self.store.modify_settings(|map| {
            let mut s = Settings::from_map(&map)?.ok_or(EngineError::NotInitialised { dir })?;
            s.installed_sequence = s.installed_sequence.max(Some(sequence));
            Ok::<_, EngineError>(s.to_map())
        })?;
        self.settings = Settings::from_map(&stored)?.ok_or(SettingsError::Missing("root_key"))?;
        self.bundle = Installed::Valid(bundle);
        self.bundle()
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
        self.settings.repeat_window_secs.or(match &self.bundle {
            Installed::Valid(b) => Some(b.policy.repeat_window_secs),
            _ => None,
        })
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
        let bundle = self.bundle()?;
        let verdict = rules::verify(text, bundle, checkpoint, now);
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
        let bundle = self.bundle()?;
        let bundle_issued_at = bundle.issued_at;
        let skew = bundle.policy.clock_skew_secs;
        let sequence = bundle.sequence;
        let window = self.repeat_window_secs().unwrap_or(0);
        let serial = verdict.pass.as_ref().map(|p| p.serial.to_string());
        let plate = verdict.pass.as_ref().map(|p| p.body.plate.clone());
        let officer = self.settings.officer.clone();
        let lookup = serial.clone();
        let (record, verdict) = self
            .store
            .record_scan(lookup.as_deref(), checkpoint, |facts| {
                for reason in log_reasons(facts, now, window, bundle_issued_at, skew) {
                    // The rules already flag a clock behind the bundle; one clock finding is enough.
                    if !verdict.has(reason.code()) {
                        verdict.add(reason);
                    }
                }
                let scan = NewScan {
                    scanned_at: now,
                    checkpoint: checkpoint.to_owned(),
                    officer,
                    serial,
                    plate,
                    verdict: logged(verdict.level()),
                    reasons: verdict.codes().into_iter().map(str::to_owned).collect(),
                    bundle_sequence: Some(sequence),
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
        let newest = self.store.newest_scan_at()?;
        let (issued_at, skew) = match &self.bundle {
            Installed::Valid(b) => (Some(b.issued_at), b.policy.clock_skew_secs),
            _ => (None, 0),
        };
        Ok(clock_problem(newest, issued_at, skew, now))
    }

    /// Scans recorded at or after `since`, oldest first.
    pub fn scans(&self, since: Option<i64>) -> Result<Vec<ScanRecord>, EngineError> {
        Ok(self.store.scans(since)?)
    }

    /// Number of scans in the log.
    pub fn scan_count(&self) -> Result<u64, EngineError> {
        Ok(self.store.scan_count()?)
    }
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

/// The clock check: `now` earlier than the newest scan (beyond `skew`), or earlier than the
/// bundle's issue time minus `skew`. The skew tolerance keeps a small clock correction from
/// flagging a scan; a clock set back by hours or days is caught.
pub fn clock_problem(
    newest_scan_at: Option<i64>,
    bundle_issued_at: Option<i64>,
    skew: i64,
    now: i64,
) -> Option<ClockProblem> {
    let skew = skew.max(0);
    if let Some(newest) = newest_scan_at {
        if now < newest.saturating_sub(skew) {
            return Some(ClockProblem::BehindLog {
                newest_scan_at: newest,
            });
        }
    }
    if let Some(issued_at) = bundle_issued_at {
        if now < issued_at.saturating_sub(skew) {
            return Some(ClockProblem::BehindBundle { issued_at });
        }
    }
    None
}

/// The reasons only the log can give: a repeat of the same pass here within `window`
/// seconds, and a clock behind the log or the bundle.
pub fn log_reasons(
    facts: LogFacts,
    now: i64,
    window: i64,
    bundle_issued_at: i64,
    skew: i64,
) -> Vec<Reason> {
    let mut out = Vec::new();
    if let Some(last) = facts.last_same_pass_here {
        // A scan "in the future" of `now` counts too: with the clock set back, the pass was
        // still scanned here moments ago.
        if window > 0 && last >= now.saturating_sub(window) {
            out.push(Reason::RepeatScan {
                seconds_ago: now.saturating_sub(last).max(0),
            });
        }
    }
    match clock_problem(facts.newest_scan_at, Some(bundle_issued_at), skew, now) {
        Some(ClockProblem::BehindLog { newest_scan_at }) => out.push(Reason::ClockBehind {
            reference: newest_scan_at,
        }),
        Some(ClockProblem::BehindBundle { issued_at }) => out.push(Reason::ClockBehind {
            reference: issued_at,
        }),
        None => {}
    }
    out
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

    #[test]
    fn repeat_within_window_only() {
        let facts = |last| LogFacts {
            newest_scan_at: last,
            last_same_pass_here: last,
        };
        assert_eq!(log_reasons(facts(None), 1000, 600, 0, 300), vec![]);
        assert_eq!(
            log_reasons(facts(Some(500)), 1000, 600, 0, 300),
            vec![Reason::RepeatScan { seconds_ago: 500 }]
        );
        assert_eq!(
            log_reasons(facts(Some(400)), 1000, 600, 0, 300),
            vec![Reason::RepeatScan { seconds_ago: 600 }]
        );
        assert_eq!(log_reasons(facts(Some(399)), 1000, 600, 0, 300), vec![]);
        assert_eq!(log_reasons(facts(Some(999)), 1000, 0, 0, 300), vec![]);
    }

    #[test]
    fn clock_behind_log_or_bundle() {
        assert_eq!(clock_problem(Some(1000), Some(500), 300, 1000), None);
        assert_eq!(clock_problem(Some(1000), Some(500), 300, 700), None);
        assert_eq!(
            clock_problem(Some(1000), Some(500), 300, 699),
            Some(ClockProblem::BehindLog {
                newest_scan_at: 1000
            })
        );
        assert_eq!(
            clock_problem(None, Some(5000), 300, 4699),
            Some(ClockProblem::BehindBundle { issued_at: 5000 })
        );
        assert_eq!(clock_problem(None, Some(5000), 300, 4700), None);
        let facts = LogFacts {
            newest_scan_at: Some(10_000),
            last_same_pass_here: None,
        };
        assert_eq!(
            log_reasons(facts, 5_000, 600, 0, 300),
            vec![Reason::ClockBehind { reference: 10_000 }]
        );
    }
}
