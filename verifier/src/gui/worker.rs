//! The `verify` worker thread: it owns the [`Engine`] and does everything that checks a
//! signature or writes to disk for the window — checking a text and recording it in the scan
//! log (an fsync'd SQLite insert), installing a bundle, setting up the device, saving settings
//! and preferences, recording a clock correction, exporting CSV, looking on USB sticks.
//!
//! So no frame waits for any of it: the application sends a [`Job`], goes on drawing, and the
//! answer comes back as [`Event`]s for [`super::State::handle`], with a repaint requested.
//! Jobs are done in the order sent, one at a time, as the engine did them on the UI thread.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use checkpass::bundle::TrustBundle;
use checkpass::keys::KeyRole;
use checkpass::messages::in_both;
use checkpass::msg;
use checkpass::verdict::Lang;

use crate::engine::Engine;
use crate::store::{ScanRecord, MAX_BUNDLE_BYTES};

use super::prefs::GuiPrefs;
use super::state::{BundleInfo, DeviceInfo, Event, InputSource, Notice};

/// What the worker is asked to do; `now` is the application's clock when it was asked.
#[derive(Debug, Clone)]
pub enum Job {
    Check {
        text: String,
        source: InputSource,
        now: i64,
    },
    LoadHistory {
        since: i64,
    },
    Status {
        now: i64,
    },
    SavePrefs(GuiPrefs),
    SaveLang(Lang),
    ImportBundle {
        path: PathBuf,
        now: i64,
    },
    FindBundles,
    SaveIdentity {
        checkpoint: String,
        officer: Option<String>,
        direction: Option<checkpass::scanlog::Direction>,
        now: i64,
    },
    CorrectClock {
        reason: String,
        now: i64,
    },
    RecordTestReport {
        target: crate::engine::ReportTarget,
        seen: i64,
        now: i64,
    },
    InitDevice {
        root_key: PathBuf,
        checkpoint: String,
        officer: Option<String>,
        now: i64,
    },
    ExportCsv {
        path: PathBuf,
        rows: Vec<ScanRecord>,
    },
}

/// Called on the worker before each job (tests: a slow check).
pub type JobHook = Arc<dyn Fn(&Job) + Send + Sync>;

/// The handle the application keeps.
pub struct Worker {
    jobs: Option<Sender<Job>>,
    answers: Receiver<Vec<Event>>,
    /// Jobs sent (and the opening) whose answer has not been taken yet.
    outstanding: usize,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    /// Starts the worker on the data directory `dir`; its first answer says whether the
    /// directory could be opened ([`Event::Opened`]) and the bundle and clock status.
    pub fn start(
        dir: PathBuf,
        simulated_clock: bool,
        now: i64,
        hook: Option<JobHook>,
        wake: Arc<dyn Fn() + Send + Sync>,
    ) -> std::io::Result<Worker> {
        let (jobs, job_rx) = channel::<Job>();
        let (answer_tx, answers) = channel::<Vec<Event>>();
        let thread = std::thread::Builder::new()
            .name("verify".into())
            .spawn(move || {
                let mut w = Verify {
                    engine: open(&dir, simulated_clock),
                    dir,
                    simulated_clock,
                };
                let mut first = vec![Event::Opened(w.device_info())];
                first.extend(w.status(now));
                if answer_tx.send(first).is_err() {
                    return;
                }
                wake();
                for job in job_rx {
                    if let Some(hook) = &hook {
                        hook(&job);
                    }
                    if answer_tx.send(w.run(job)).is_err() {
                        return;
                    }
                    wake();
                }
            })?;
        Ok(Worker {
            jobs: Some(jobs),
            answers,
            outstanding: 1,
            thread: Some(thread),
        })
    }

    /// Queues a job; never waits.
    pub fn send(&mut self, job: Job) {
        if let Some(jobs) = &self.jobs {
            if jobs.send(job).is_ok() {
                self.outstanding += 1;
            }
        }
    }

    /// The answers that have arrived, without waiting.
    pub fn try_answers(&mut self) -> Vec<Event> {
        let mut out = Vec::new();
        while let Ok(events) = self.answers.try_recv() {
            self.outstanding = self.outstanding.saturating_sub(1);
            out.extend(events);
        }
        out
    }

    /// Waits up to `timeout` for the next answer (tests and benchmarks).
    pub fn wait_answer(&mut self, timeout: Duration) -> Option<Vec<Event>> {
        match self.answers.recv_timeout(timeout) {
            Ok(events) => {
                self.outstanding = self.outstanding.saturating_sub(1);
                Some(events)
            }
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => None,
        }
    }

    /// Jobs whose answer has not been taken yet.
    pub fn outstanding(&self) -> usize {
        self.outstanding
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Closing the queue ends the thread after the job in hand: a scan being recorded is
        // finished, not cut off.
        self.jobs = None;
        if let Some(t) = self.thread.take() {
            let deadline = Instant::now() + Duration::from_secs(5);
            while !t.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            if t.is_finished() {
                let _ = t.join();
            }
        }
    }
}

fn open(dir: &Path, simulated_clock: bool) -> Result<Engine, String> {
    Engine::open(dir)
        .map(|mut e| {
            e.set_simulated_clock(simulated_clock);
            e
        })
        .map_err(|e| e.to_string())
}

/// The worker's side: the engine, or why it could not be opened.
struct Verify {
    engine: Result<Engine, String>,
    dir: PathBuf,
    simulated_clock: bool,
}

impl Verify {
    fn device_info(&self) -> Result<DeviceInfo, String> {
        self.engine.as_ref().map(device_info).map_err(Clone::clone)
    }

    /// The bundle and clock status for the status bar.
    fn status(&self, now: i64) -> [Event; 2] {
        let (bundle, clock) = match &self.engine {
            Ok(engine) => (
                engine.bundle().ok().map(bundle_info),
                engine.clock_problem(now).ok().flatten(),
            ),
            Err(_) => (None, None),
        };
        [Event::Bundle(bundle), Event::Clock(clock)]
    }

    fn run(&mut self, job: Job) -> Vec<Event> {
        let notice = |e: String| Event::Notice(Notice { ok: false, text: e });
        match job {
            Job::Check { text, source, now } => {
                let event = match &mut self.engine {
                    Ok(engine) => match engine.check_text(&text, now) {
                        Ok(checked) => Event::Checked {
                            checked: Box::new(checked),
                            source,
                        },
                        Err(e) => Event::CheckFailed(e.to_string()),
                    },
                    Err(why) => Event::CheckFailed(why.clone()),
                };
                // A check may have found the clock set back; the status bar shows it at once.
                let mut out = vec![event];
                out.extend(self.status(now));
                out
            }
            Job::LoadHistory { since } => match &self.engine {
                Ok(engine) => match engine.scans(Some(since)) {
                    Ok(records) => vec![Event::History(records)],
                    Err(e) => vec![notice(e.to_string())],
                },
                Err(_) => vec![Event::History(Vec::new())],
            },
            Job::Status { now } => self.status(now).into(),
            Job::SavePrefs(prefs) => match prefs.save(&self.dir) {
                Ok(()) => Vec::new(),
                Err(e) => vec![notice(e.to_string())],
            },
            Job::SaveLang(lang) => match &mut self.engine {
                Ok(engine) => match engine.update_settings(|s| s.lang = lang) {
                    Ok(()) => Vec::new(),
                    Err(e) => vec![notice(e.to_string())],
                },
                Err(_) => Vec::new(),
            },
            Job::ImportBundle { path, now } => {
                let result = crate::files::read_limited(&path, MAX_BUNDLE_BYTES)
                    .map_err(|e| e.to_string())
                    .and_then(|bytes| match &mut self.engine {
                        Ok(engine) => engine
                            .install_bundle(&bytes)
                            .map(bundle_info)
                            .map_err(|e| format!("{}: {e}", path.display())),
                        Err(why) => Err(why.clone()),
                    });
                let mut out = vec![Event::BundleImported(result)];
                out.extend(self.status(now));
                out
            }
            Job::FindBundles => vec![Event::BundlesFound(find_bundles())],
            Job::SaveIdentity {
                checkpoint,
                officer,
                direction,
                now,
            } => {
                let result = match &mut self.engine {
                    Ok(engine) => engine
                        .update_settings(|s| {
                            s.checkpoint = checkpoint;
                            s.officer = officer;
                            s.direction = direction;
                        })
                        .map(|()| device_info(engine))
                        .map_err(|e| e.to_string()),
                    Err(why) => Err(why.clone()),
                };
                let mut out = vec![Event::IdentitySaved(result)];
                out.extend(self.status(now));
                out
            }
            Job::RecordTestReport { target, seen, now } => {
                let result = match &mut self.engine {
                    Ok(engine) => engine
                        .record_test_report(&target, seen, now)
                        .map(|_| seen)
                        .map_err(|e| e.to_string()),
                    Err(why) => Err(why.clone()),
                };
                vec![Event::TestReportRecorded(result)]
            }
            Job::CorrectClock { reason, now } => {
                let result = match &mut self.engine {
                    Ok(engine) => engine
                        .record_clock_correction(now, &reason)
                        .map(|()| now)
                        .map_err(|e| e.to_string()),
                    Err(why) => Err(why.clone()),
                };
                let mut out = vec![Event::ClockCorrected(result)];
                out.extend(self.status(now));
                out
            }
            Job::InitDevice {
                root_key,
                checkpoint,
                officer,
                now,
            } => match self.init(&root_key, &checkpoint, officer.as_deref()) {
                Ok(info) => {
                    let mut out = vec![Event::Initialised(Ok(info))];
                    out.extend(self.status(now));
                    out
                }
                Err(why) => vec![Event::Initialised(Err(why))],
            },
            Job::ExportCsv { path, rows } => {
                let result = crate::files::write_csv_file(&path, &rows)
                    .map(|()| (rows.len(), path))
                    .map_err(|e| e.to_string());
                vec![Event::Exported(result)]
            }
        }
    }

    /// Sets up an uninitialised device: pins the root key from a file and names the checkpoint.
    fn init(
        &mut self,
        path: &Path,
        checkpoint: &str,
        officer: Option<&str>,
    ) -> Result<DeviceInfo, String> {
        let bytes = crate::files::read_limited(path, 64 * 1024).map_err(|e| e.to_string())?;
        let text = String::from_utf8(bytes).map_err(|_| {
            let what = in_both(|l| msg!(l, gui.both.not_a_text_file));
            format!("{} {what}", path.display())
        })?;
        let (key, role) = checkpass::keys::parse_public_key_file(&text)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if role != KeyRole::Root {
            let what = in_both(|l| msg!(l, gui.both.not_a_root_key));
            return Err(format!("{} {what}", path.display()));
        }
        let mut engine =
            Engine::init(&self.dir, key, checkpoint, officer).map_err(|e| e.to_string())?;
        engine.set_simulated_clock(self.simulated_clock);
        let info = device_info(&engine);
        self.engine = Ok(engine);
        Ok(info)
    }
}

fn device_info(engine: &Engine) -> DeviceInfo {
    let s = engine.settings();
    DeviceInfo {
        checkpoint: s.checkpoint.clone(),
        officer: s.officer.clone(),
        root_kid: s.root_key.kid().to_string(),
        allow_dev_keys: s.allow_dev_keys,
        lang: s.lang,
        direction: s.direction,
    }
}

pub(super) fn bundle_info(b: &TrustBundle) -> BundleInfo {
    BundleInfo {
        sequence: b.sequence,
        issued_at: b.issued_at,
        max_age_secs: b.policy.max_bundle_age_secs,
        keys: b.keys.len(),
        checkpoints: b.checkpoints.len(),
        revoked: b.revoked.len(),
    }
}

/// Looks for trust bundle files on mounted USB sticks.
fn find_bundles() -> Vec<PathBuf> {
    #[cfg(not(windows))]
    let roots = [
        Path::new("/media"),
        Path::new("/run/media"),
        Path::new("/mnt"),
    ];
    // On Windows a USB stick is a drive letter of its own.
    #[cfg(windows)]
    let drives = crate::winplatform::removable_drives();
    #[cfg(windows)]
    let roots: Vec<&Path> = drives.iter().map(PathBuf::as_path).collect();
    super::usb::find_bundle_files(&roots)
}
