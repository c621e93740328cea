//! The GUI's state as plain data, changed only by [`State::handle`] with the clock passed in.
//!
//! No drawing, no engine, no threads here: an [`Event`] (a code seen by the camera, a key typed
//! by a handheld scanner, a click in the view, a verdict returned by the verify worker, a tick
//! of the clock) goes in, the state changes, and the [`Command`]s that the application must
//! carry out (check this text, import this bundle, export this CSV, play this sound) come out.
//! So every rule of the screen — which read is checked, when a verdict goes away, what the
//! history shows, what a button does — is tested without a window. The view only reads
//! [`State`] and emits events; even the text boxes' contents are here ([`Fields`]).

use std::path::PathBuf;

use checkpass::msg;
use checkpass::number::{NumberError, PassNumber};
use checkpass::scanlog::Direction;
use checkpass::verdict::{Lang, Level};
use checkpass::wire::{MAX_QR_TEXT, QR_PREFIX};

use crate::decode::Point;
use crate::engine::{is_scan_of, Checked, ClockProblem, ReportTarget};
use crate::store::{LoggedVerdict, ScanRecord};
use crate::timefmt;

use super::prefs::GuiPrefs;

/// A pass held still in front of the camera is checked once: later reads of the same text are
/// ignored while it is seen again within this many seconds.
pub const HOLD_SECS: i64 = 3;
/// Characters from a handheld scanner arrive in a burst; a gap longer than this starts a new
/// code (half-typed text from a dropped scan is discarded).
pub const WEDGE_GAP_SECS: i64 = 2;

/// The screens of the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Scan,
    History,
    Settings,
}

impl Screen {
    pub fn all() -> [Screen; 3] {
        [Screen::Scan, Screen::History, Screen::Settings]
    }
}

/// Where a QR text came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputSource {
    Camera,
    /// A USB barcode scanner typing like a keyboard.
    Scanner,
    /// Text pasted or typed into the paste box.
    Pasted,
    /// An image file opened or dropped (its name).
    File(String),
}

/// What the camera is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CameraStatus {
    /// Opening the device.
    Starting,
    Running {
        name: String,
        width: u32,
        height: u32,
    },
    /// No camera on this computer.
    NotFound,
    /// A camera exists but could not be opened (used by another program, no permission).
    Busy(String),
    /// Scanning from something other than a camera (a recorded folder of frames).
    Recorded(String),
    /// The source ended or failed after starting.
    Stopped(String),
}

/// A verdict on screen.
#[derive(Debug, Clone)]
pub struct Shown {
    pub checked: Checked,
    pub source: InputSource,
    pub shown_at: i64,
    /// The sample time of a newer test report the officer saw and recorded for this pass.
    pub test_report: Option<i64>,
}

/// A message under the main panel (bundle import result, export, unreadable file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub ok: bool,
    pub text: String,
}

/// The installed bundle as the status bar shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleInfo {
    pub sequence: u64,
    pub issued_at: i64,
    pub max_age_secs: i64,
    pub keys: usize,
    pub checkpoints: usize,
    pub revoked: usize,
}

impl BundleInfo {
    pub fn age_secs(&self, now: i64) -> i64 {
        now - self.issued_at
    }

    pub fn is_stale(&self, now: i64) -> bool {
        self.age_secs(now) > self.max_age_secs
    }
}

/// One code read from a camera frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    pub text: String,
    pub corners: [Point; 4],
}

/// What the window shows of the opened data directory (the engine itself lives on the verify
/// worker).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    pub checkpoint: String,
    pub officer: Option<String>,
    /// The pinned root key's id, always in sight: an officer compares it with the printed one.
    pub root_kid: String,
    /// A test setup that trusts the public development keys.
    pub allow_dev_keys: bool,
    pub lang: Lang,
    /// The lane's direction, when set (`verifier settings --direction`).
    pub direction: Option<checkpass::scanlog::Direction>,
}

/// The data directory as the window knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Device {
    /// The verify worker is opening it.
    Opening,
    Ready(DeviceInfo),
    /// Not set up yet, or broken: why (the settings screen offers the set-up form).
    Unusable(String),
}

/// The window's text boxes: what is being typed, nothing decided yet.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Fields {
    pub paste: String,
    pub image_path: String,
    pub bundle_path: String,
    pub export_path: String,
    pub checkpoint: String,
    pub officer: String,
    pub root_key_path: String,
    /// Why the clock was corrected (settings → 时钟).
    pub clock_reason: String,
    /// The sample time of a newer test report the officer sees (verdict panel), as typed.
    pub test_seen: String,
    /// Bundle files found on USB sticks.
    pub found_bundles: Vec<PathBuf>,
    /// The lane's direction as chosen in the settings (not saved yet): `None` for a lane
    /// that takes both ways.
    pub direction: Option<Direction>,
}

/// One of the [`Fields`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Paste,
    ImagePath,
    BundlePath,
    ExportPath,
    Checkpoint,
    Officer,
    RootKeyPath,
    ClockReason,
    TestSeen,
}

impl Fields {
    fn get_mut(&mut self, field: Field) -> &mut String {
        match field {
            Field::Paste => &mut self.paste,
            Field::ImagePath => &mut self.image_path,
            Field::BundlePath => &mut self.bundle_path,
            Field::ExportPath => &mut self.export_path,
            Field::Checkpoint => &mut self.checkpoint,
            Field::Officer => &mut self.officer,
            Field::RootKeyPath => &mut self.root_key_path,
            Field::ClockReason => &mut self.clock_reason,
            Field::TestSeen => &mut self.test_seen,
        }
    }

    /// The officer field as stored: `None` when blank.
    fn officer(&self) -> Option<String> {
        let o = self.officer.trim();
        (!o.is_empty()).then(|| o.to_owned())
    }
}

/// Everything that can happen to the GUI.
#[derive(Debug, Clone)]
pub enum Event {
    CameraStarted {
        name: String,
        width: u32,
        height: u32,
    },
    CameraRecorded(String),
    CameraNotFound,
    CameraBusy(String),
    CameraStopped(String),
    /// A camera frame was decoded; `codes` may be empty.
    Frame {
        width: u32,
        height: u32,
        codes: Vec<Seen>,
    },
    /// Text typed into the window while no text box has focus (a handheld scanner).
    Typed(String),
    /// Enter pressed while no text box has focus: a handheld scanner finished a code.
    Enter,
    /// The paste box was submitted.
    Pasted(String),
    /// An image file was decoded: the texts found, or why it could not be read.
    FileDecoded {
        name: String,
        result: Result<Vec<String>, String>,
    },
    /// The engine checked a text.
    Checked {
        checked: Box<Checked>,
        source: InputSource,
    },
    /// The engine could not check (no bundle installed, database error).
    CheckFailed(String),
    /// The clock moved on (verdict timeout, countdown).
    Tick,
    Show(Screen),
    Dismiss,
    Filter(Option<LoggedVerdict>),
    /// The history's search box changed: a pass number being typed (empty: no search).
    Search(String),
    History(Vec<ScanRecord>),
    Bundle(Option<BundleInfo>),
    BundleImported(Result<BundleInfo, String>),
    Clock(Option<ClockProblem>),
    Lang(Lang),
    Prefs(GuiPrefs),
    Notice(Notice),
    /// A text box was edited.
    Edit(Field, String),
    /// The lane direction chosen in the settings (saved with the checkpoint and officer).
    ChooseDirection(Option<Direction>),
    /// Whether a text box has the keyboard focus (then keys are not a handheld scanner's).
    TextFocus(bool),
    /// The paste box's "check text" button.
    SubmitPaste,
    /// The "open image" button: the image path field is read.
    OpenImage,
    /// A file dropped on the window.
    Dropped(PathBuf),
    /// The "retry camera" button.
    RetryCamera,
    /// The "import bundle" button: the bundle path field is read.
    ImportBundle,
    /// The "look on USB sticks" button.
    FindBundles,
    BundlesFound(Vec<PathBuf>),
    /// The settings' "save" button: checkpoint and officer.
    SaveIdentity,
    /// The checkpoint and officer were stored (the device as it now is), or why not.
    IdentitySaved(Result<DeviceInfo, String>),
    /// The "record clock correction" button.
    CorrectClock,
    /// The correction was recorded at this time, or why not.
    ClockCorrected(Result<i64, String>),
    /// The set-up form's "initialise" button.
    InitDevice,
    /// The data directory was set up, or why not.
    Initialised(Result<DeviceInfo, String>),
    /// The worker opened the data directory, or why it could not.
    Opened(Result<DeviceInfo, String>),
    /// The history's "export CSV" button: the filtered history goes to the export path.
    ExportCsv,
    /// So many records were exported to this file, or why not.
    Exported(Result<(usize, PathBuf), String>),
    /// The cameras on this computer (names), for the settings.
    Cameras(Vec<String>),
    /// The verdict panel's "record the report seen" button: the test-seen field is read.
    RecordTestReport,
    /// The report's sample time was recorded in the log, or why not.
    TestReportRecorded(Result<i64, String>),
}

/// What the application must do after an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Check this text with the engine and send back [`Event::Checked`].
    Check {
        text: String,
        source: InputSource,
    },
    PlaySound(Level),
    /// Reload today's scans into [`Event::History`].
    LoadHistory,
    /// Store the GUI preferences (camera, timeout, sound).
    SavePrefs,
    /// Store the language in the engine's settings.
    SaveLang(Lang),
    /// Reopen the camera with the current preferences.
    RestartCamera,
    /// Decode an image file off the UI thread into [`Event::FileDecoded`].
    OpenImage(PathBuf),
    /// Install the trust bundle file into [`Event::BundleImported`].
    ImportBundle(PathBuf),
    /// Look for bundle files on USB sticks into [`Event::BundlesFound`].
    FindBundles,
    /// Store checkpoint and officer into [`Event::IdentitySaved`].
    SaveIdentity {
        checkpoint: String,
        officer: Option<String>,
        direction: Option<Direction>,
    },
    /// Record a clock correction into [`Event::ClockCorrected`].
    CorrectClock {
        reason: String,
    },
    /// Set up the data directory with the root key file into [`Event::Initialised`].
    InitDevice {
        root_key: PathBuf,
        checkpoint: String,
        officer: Option<String>,
    },
    /// Write these records as CSV into [`Event::Exported`].
    ExportCsv {
        path: PathBuf,
        rows: Vec<ScanRecord>,
    },
    /// Record a newer test report seen for the pass just checked into
    /// [`Event::TestReportRecorded`].
    RecordTestReport {
        target: ReportTarget,
        seen: i64,
    },
}

/// The current camera focus: where the last code was seen, for the preview overlay.
#[derive(Debug, Clone, PartialEq)]
pub struct Overlay {
    pub width: u32,
    pub height: u32,
    pub codes: Vec<Seen>,
}

#[derive(Debug, Clone, Default)]
struct Held {
    text: String,
    last_seen: i64,
}

#[derive(Debug, Clone, Default)]
struct Wedge {
    text: String,
    last_at: i64,
}

/// The whole GUI state.
#[derive(Debug, Clone)]
pub struct State {
    pub screen: Screen,
    pub lang: Lang,
    pub prefs: GuiPrefs,
    pub camera: CameraStatus,
    pub shown: Option<Shown>,
    pub overlay: Option<Overlay>,
    pub history: Vec<ScanRecord>,
    pub filter: Option<LoggedVerdict>,
    /// The text of the history's search box, as typed.
    pub search: String,
    /// The search box read as a pass number; `None` while it is empty.
    pub search_number: Option<Result<PassNumber, NumberError>>,
    pub bundle: Option<BundleInfo>,
    pub clock: Option<ClockProblem>,
    pub notice: Option<Notice>,
    /// Frames decoded since start (status line).
    pub frames: u64,
    pub device: Device,
    pub fields: Fields,
    /// A text box had the keyboard focus in the last frame.
    pub text_focus: bool,
    /// Cameras found on this computer (names).
    pub cameras: Vec<String>,
    /// A simulated time is in force (shown as a banner so it is never mistaken for real use).
    pub simulated_clock: bool,
    /// The time of the last event (unix seconds): what the view shows as now.
    pub now: i64,
    held: Option<Held>,
    wedge: Wedge,
}

impl State {
    pub fn new(lang: Lang, prefs: GuiPrefs) -> State {
        State {
            screen: Screen::Scan,
            lang,
            prefs,
            camera: CameraStatus::Starting,
            shown: None,
            overlay: None,
            history: Vec::new(),
            filter: None,
            search: String::new(),
            search_number: None,
            bundle: None,
            clock: None,
            notice: None,
            frames: 0,
            device: Device::Opening,
            fields: Fields::default(),
            text_focus: false,
            cameras: Vec::new(),
            simulated_clock: false,
            now: 0,
            held: None,
            wedge: Wedge::default(),
        }
    }

    /// Applies one event at time `now` (unix seconds) and returns what must be done.
    pub fn handle(&mut self, event: Event, now: i64) -> Vec<Command> {
        let mut out = Vec::new();
        self.now = now;
        match event {
            Event::CameraStarted {
                name,
                width,
                height,
            } => {
                self.camera = CameraStatus::Running {
                    name,
                    width,
                    height,
                }
            }
            Event::CameraRecorded(name) => self.camera = CameraStatus::Recorded(name),
            Event::CameraNotFound => self.camera = CameraStatus::NotFound,
            Event::CameraBusy(why) => self.camera = CameraStatus::Busy(why),
            // The overlay stays: it belongs to the last frame, which the preview keeps showing.
            Event::CameraStopped(why) => self.camera = CameraStatus::Stopped(why),
            Event::Frame {
                width,
                height,
                codes,
            } => {
                self.frames += 1;
                if let Some(seen) = pick(&codes) {
                    let same = self
                        .held
                        .as_ref()
                        .is_some_and(|h| h.text == seen.text && now - h.last_seen <= HOLD_SECS);
                    if !same {
                        out.push(Command::Check {
                            text: seen.text.clone(),
                            source: InputSource::Camera,
                        });
                    }
                    self.held = Some(Held {
                        text: seen.text.clone(),
                        last_seen: now,
                    });
                }
                self.overlay = Some(Overlay {
                    width,
                    height,
                    codes,
                });
            }
            Event::Typed(text) => {
                if now - self.wedge.last_at > WEDGE_GAP_SECS {
                    self.wedge.text.clear();
                }
                self.wedge.last_at = now;
                // Anything longer than a pass can be is not a pass: keep the buffer bounded.
                if self.wedge.text.len() + text.len() <= 2 * MAX_QR_TEXT {
                    self.wedge.text.push_str(&text);
                }
            }
            Event::Enter => {
                let text = std::mem::take(&mut self.wedge.text);
                let fresh = now - self.wedge.last_at <= WEDGE_GAP_SECS;
                if fresh && !text.trim().is_empty() {
                    out.push(Command::Check {
                        text: text.trim().to_owned(),
                        source: InputSource::Scanner,
                    });
                }
            }
            Event::Pasted(text) => {
                if !text.trim().is_empty() {
                    out.push(Command::Check {
                        text: text.trim().to_owned(),
                        source: InputSource::Pasted,
                    });
                }
            }
            Event::FileDecoded { name, result } => match result {
                Ok(texts) => match pick_text(&texts) {
                    Some(text) => out.push(Command::Check {
                        text: text.to_owned(),
                        source: InputSource::File(name),
                    }),
                    None => {
                        self.notice = Some(Notice {
                            ok: false,
                            text: msg!(self.lang, gui.notice.no_qr_in_image, name = name),
                        })
                    }
                },
                Err(why) => {
                    self.notice = Some(Notice {
                        ok: false,
                        text: why,
                    })
                }
            },
            Event::Checked { checked, source } => {
                let level = checked.verdict.level();
                self.shown = Some(Shown {
                    checked: *checked,
                    source,
                    shown_at: now,
                    test_report: None,
                });
                self.fields.test_seen.clear();
                self.screen = Screen::Scan;
                if self.prefs.sound {
                    out.push(Command::PlaySound(level));
                }
                out.push(Command::LoadHistory);
            }
            Event::CheckFailed(why) => {
                self.notice = Some(Notice {
                    ok: false,
                    text: why,
                })
            }
            Event::Tick => {
                if self.countdown(now) == Some(0) {
                    self.shown = None;
                }
                if now - self.wedge.last_at > WEDGE_GAP_SECS {
                    self.wedge.text.clear();
                }
            }
            Event::Show(screen) => {
                self.screen = screen;
                if screen == Screen::History {
                    out.push(Command::LoadHistory);
                }
            }
            Event::Dismiss => self.shown = None,
            Event::Filter(f) => self.filter = f,
            Event::Search(text) => {
                self.search_number = (!text.trim().is_empty()).then(|| text.parse());
                self.search = text;
            }
            Event::History(records) => self.history = records,
            Event::Bundle(info) => self.bundle = info,
            Event::BundleImported(result) => {
                self.notice = Some(match result {
                    Ok(info) => {
                        let text = msg!(
                            self.lang,
                            gui.notice.bundle_imported,
                            sequence = info.sequence,
                            keys = info.keys,
                            checkpoints = info.checkpoints,
                            revoked = info.revoked,
                        );
                        self.bundle = Some(info);
                        Notice { ok: true, text }
                    }
                    Err(why) => Notice {
                        ok: false,
                        text: msg!(self.lang, gui.notice.bundle_refused, why = why),
                    },
                });
            }
            Event::Clock(problem) => self.clock = problem,
            Event::Lang(lang) => {
                if lang != self.lang {
                    self.lang = lang;
                    out.push(Command::SaveLang(lang));
                }
            }
            Event::Prefs(prefs) => {
                let camera_changed =
                    prefs.camera != self.prefs.camera || prefs.resolution != self.prefs.resolution;
                self.prefs = prefs.normalised();
                out.push(Command::SavePrefs);
                if camera_changed {
                    out.push(Command::RestartCamera);
                }
            }
            Event::Notice(n) => self.notice = Some(n),
            Event::Edit(field, text) => {
                // Typing the report's time holds the verdict on screen.
                if field == Field::TestSeen {
                    if let Some(shown) = &mut self.shown {
                        shown.shown_at = now;
                    }
                }
                *self.fields.get_mut(field) = text;
            }
            Event::RecordTestReport => {
                let Some(shown) = &mut self.shown else {
                    return out;
                };
                shown.shown_at = now;
                let target = shown.checked.report_target();
                match (crate::timefmt::parse(&self.fields.test_seen), target) {
                    (Ok(seen), Ok(target)) => out.push(Command::RecordTestReport { target, seen }),
                    (_, Err(why)) => {
                        self.notice = Some(Notice {
                            ok: false,
                            text: why.to_string(),
                        })
                    }
                    (Err(_), Ok(_)) => {
                        self.notice = Some(Notice {
                            ok: false,
                            text: msg!(
                                self.lang,
                                gui.notice.bad_sample_time,
                                typed = self.fields.test_seen.trim()
                            ),
                        })
                    }
                }
            }
            Event::TestReportRecorded(result) => match result {
                Ok(seen) => {
                    if let Some(shown) = &mut self.shown {
                        shown.test_report = Some(seen);
                        shown.shown_at = now;
                    }
                    self.fields.test_seen.clear();
                    out.push(Command::LoadHistory);
                }
                Err(why) => {
                    self.notice = Some(Notice {
                        ok: false,
                        text: why,
                    })
                }
            },
            Event::TextFocus(focus) => self.text_focus = focus,
            Event::SubmitPaste => {
                let text = std::mem::take(&mut self.fields.paste);
                return self.handle(Event::Pasted(text), now);
            }
            Event::OpenImage => out.push(Command::OpenImage(PathBuf::from(
                self.fields.image_path.trim(),
            ))),
            Event::Dropped(path) => {
                // A trust bundle (`.cose`) is imported, anything else is read as an image.
                let is_bundle = path
                    .extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| e.eq_ignore_ascii_case("cose"));
                out.push(if is_bundle {
                    Command::ImportBundle(path)
                } else {
                    Command::OpenImage(path)
                });
            }
            Event::RetryCamera => out.push(Command::RestartCamera),
            Event::ImportBundle => out.push(Command::ImportBundle(PathBuf::from(
                self.fields.bundle_path.trim(),
            ))),
            Event::FindBundles => out.push(Command::FindBundles),
            Event::BundlesFound(found) => self.fields.found_bundles = found,
            Event::ChooseDirection(direction) => self.fields.direction = direction,
            Event::SaveIdentity => out.push(Command::SaveIdentity {
                checkpoint: self.fields.checkpoint.trim().to_owned(),
                officer: self.fields.officer(),
                direction: self.fields.direction,
            }),
            Event::IdentitySaved(result) => {
                let text = match &result {
                    Ok(_) => msg!(self.lang, gui.notice.identity_saved).to_owned(),
                    Err(e) => e.clone(),
                };
                self.notice = Some(Notice {
                    ok: result.is_ok(),
                    text,
                });
                if let Ok(info) = result {
                    self.device = Device::Ready(info);
                }
            }
            Event::CorrectClock => {
                let reason = self.fields.clock_reason.trim().to_owned();
                if reason.is_empty() {
                    self.notice = Some(Notice {
                        ok: false,
                        text: msg!(self.lang, gui.notice.clock_reason_missing).to_owned(),
                    });
                } else {
                    out.push(Command::CorrectClock { reason });
                }
            }
            Event::ClockCorrected(result) => {
                let text = match &result {
                    Ok(at) => msg!(
                        self.lang,
                        gui.notice.clock_corrected,
                        at = timefmt::minutes(*at)
                    ),
                    Err(e) => e.clone(),
                };
                if result.is_ok() {
                    self.fields.clock_reason.clear();
                }
                self.notice = Some(Notice {
                    ok: result.is_ok(),
                    text,
                });
            }
            Event::InitDevice => out.push(Command::InitDevice {
                root_key: PathBuf::from(self.fields.root_key_path.trim()),
                checkpoint: self.fields.checkpoint.trim().to_owned(),
                officer: self.fields.officer(),
            }),
            Event::Initialised(Ok(info)) => {
                self.device = Device::Ready(info);
                self.notice = Some(Notice {
                    ok: true,
                    text: msg!(self.lang, gui.notice.initialised).into(),
                });
            }
            Event::Initialised(Err(text)) => self.notice = Some(Notice { ok: false, text }),
            Event::Opened(result) => match result {
                Ok(info) => {
                    self.lang = info.lang;
                    self.fields.checkpoint = info.checkpoint.clone();
                    self.fields.officer = info.officer.clone().unwrap_or_default();
                    self.fields.direction = info.direction;
                    self.device = Device::Ready(info);
                }
                Err(why) => self.device = Device::Unusable(why),
            },
            Event::ExportCsv => out.push(Command::ExportCsv {
                path: PathBuf::from(self.fields.export_path.trim()),
                rows: self.filtered_history().into_iter().cloned().collect(),
            }),
            Event::Exported(result) => {
                self.notice = Some(match result {
                    Ok((count, path)) => Notice {
                        ok: true,
                        text: msg!(
                            self.lang,
                            gui.notice.exported,
                            count = count,
                            path = path.display()
                        ),
                    },
                    Err(text) => Notice { ok: false, text },
                })
            }
            Event::Cameras(names) => self.cameras = names,
        }
        out
    }

    /// Whole seconds left before the verdict on screen goes away, or `None` when none is shown.
    pub fn countdown(&self, now: i64) -> Option<i64> {
        let shown = self.shown.as_ref()?;
        let timeout = i64::from(self.prefs.verdict_timeout_secs);
        Some((shown.shown_at + timeout - now).clamp(0, timeout))
    }

    /// The history as filtered, newest first: by verdict, and by the pass number in the search
    /// box once it is a valid one (while it is not, [`State::search_problem`] says why and
    /// nothing is hidden).
    pub fn filtered_history(&self) -> Vec<&ScanRecord> {
        let number = match &self.search_number {
            Some(Ok(n)) => Some(n),
            _ => None,
        };
        self.history
            .iter()
            .rev()
            .filter(|r| self.filter.is_none_or(|f| r.verdict == f))
            .filter(|r| number.is_none_or(|n| is_scan_of(r, n)))
            .collect()
    }

    /// Why the search box is not a pass number (wrong length, a bad check character, not
    /// digits), to show under it.
    pub fn search_problem(&self) -> Option<String> {
        match &self.search_number {
            Some(Err(e)) => Some(e.to_string()),
            _ => None,
        }
    }

    /// Characters typed by a handheld scanner not yet ended with Enter.
    pub fn pending_scanner_text(&self) -> &str {
        &self.wedge.text
    }
}

/// The code of a frame to act on: a pass if there is one, else the first code.
fn pick(codes: &[Seen]) -> Option<&Seen> {
    codes
        .iter()
        .find(|c| c.text.starts_with(QR_PREFIX))
        .or_else(|| codes.first())
}

fn pick_text(texts: &[String]) -> Option<&str> {
    texts
        .iter()
        .find(|t| t.starts_with(QR_PREFIX))
        .or_else(|| texts.first())
        .map(String::as_str)
}

/// Start of the day (UTC+8) that contains `now`: "today's scans" for the history.
pub use crate::timefmt::start_of_day_cst;
