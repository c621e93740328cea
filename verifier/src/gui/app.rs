//! The application around [`State`]: it owns the engine, the scanning worker, the sound thread
//! and the clock, turns what happens (worker messages, keys, dropped files, clicks) into
//! [`Event`]s and carries out the [`Command`]s that come back. Drawing is in [`super::view`].
//!
//! No verification happens here: texts go to [`Engine::check_text`] and its verdict is shown.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use checkpass::bundle::TrustBundle;
use checkpass::verdict::Lang;

use crate::decode::FrameDecoder;
use crate::engine::Engine;
use crate::store::{ScanRecord, MAX_BUNDLE_BYTES};
use crate::timefmt;

use super::prefs::GuiPrefs;
use super::scanner::{Opener, Preview, ScanMsg, ScanOptions, Scanner};
use super::sound::Sound;
use super::source::{
    list_cameras, CameraEntry, CameraSource, FrameSource, RecordedSource, SourceError,
};
use super::state::{
    start_of_day_cst, BundleInfo, Command, Event, InputSource, Notice, Screen, State,
};

/// Where frames come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameInput {
    /// The camera chosen in the settings.
    Camera,
    /// A folder of recorded frames (tests, demonstrations, benchmarks).
    Recorded(PathBuf),
    /// Any other source, opened on the scanning thread (tests: a camera that is missing or
    /// busy).
    Custom(SourceFactory),
    /// No scanning (tests of the other screens).
    Off,
}

/// Opens a frame source; called on the scanning thread each time scanning (re)starts.
#[derive(Clone)]
pub struct SourceFactory(
    pub Arc<dyn Fn() -> Result<Box<dyn FrameSource>, SourceError> + Send + Sync>,
);

impl std::fmt::Debug for SourceFactory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SourceFactory")
    }
}

impl PartialEq for SourceFactory {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for SourceFactory {}

/// How the GUI is started.
pub struct GuiConfig {
    pub input: FrameInput,
    pub scan: ScanOptions,
    /// Unix seconds now; the system clock in the product, a fixed or stepped clock in tests.
    pub clock: Box<dyn Fn() -> i64>,
    /// A simulated time is in force (shown as a banner so it is never mistaken for real use).
    pub simulated_clock: bool,
    pub sound: bool,
}

impl Default for GuiConfig {
    fn default() -> Self {
        GuiConfig {
            input: FrameInput::Camera,
            scan: ScanOptions::default(),
            clock: Box::new(|| chrono::Utc::now().timestamp()),
            simulated_clock: false,
            sound: true,
        }
    }
}

/// An image file decoded off the UI thread.
struct FileJob {
    name: String,
    result: Result<Vec<String>, String>,
}

/// Text typed into the window's text boxes (not part of [`State`]: it is only what is being
/// edited, nothing decided yet).
#[derive(Debug, Default, Clone)]
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
    /// Bundle files found on USB sticks.
    pub found_bundles: Vec<PathBuf>,
}

/// The GUI application.
pub struct Gui {
    pub state: State,
    pub fields: Fields,
    engine: Result<Engine, String>,
    dir: PathBuf,
    config: GuiConfig,
    scanner: Option<Scanner>,
    sound: Option<Sound>,
    wake: Arc<dyn Fn() + Send + Sync>,
    files_tx: Sender<FileJob>,
    files_rx: Receiver<FileJob>,
    pub(super) preview: Option<Preview>,
    pub(super) preview_dirty: bool,
    pub(super) texture: Option<egui::TextureHandle>,
    pub(super) cameras: Vec<CameraEntry>,
    /// A text box had keyboard focus in the last frame: keys are not a handheld scanner's.
    pub(super) text_focus: bool,
    /// When the frame that triggered the check on screen was captured.
    pending_capture: Option<Instant>,
    last_latency: Option<Duration>,
    last_clock_check: i64,
    /// Frames whose message carried codes; for the benchmark.
    pub scan_ended: bool,
}

impl Gui {
    /// Opens the data directory and starts scanning. Never fails: a device that is not set up
    /// yet gets the setup screen.
    pub fn new(dir: PathBuf, config: GuiConfig, ctx: &egui::Context) -> Gui {
        super::fonts::install(ctx);
        let repaint = ctx.clone();
        let wake: Arc<dyn Fn() + Send + Sync> = Arc::new(move || repaint.request_repaint());
        let engine = Engine::open(&dir)
            .map(|mut e| {
                e.set_simulated_clock(config.simulated_clock);
                e
            })
            .map_err(|e| e.to_string());
        let lang = engine
            .as_ref()
            .map(|e| e.settings().lang)
            .unwrap_or_default();
        let (mut prefs, prefs_problem) = GuiPrefs::load(&dir);
        if !config.sound {
            prefs.sound = false;
        }
        let state = State::new(lang, prefs);
        let (files_tx, files_rx) = channel();
        let sound = if config.sound {
            Sound::start().ok()
        } else {
            None
        };
        let mut gui = Gui {
            state,
            fields: Fields::default(),
            engine,
            dir,
            config,
            scanner: None,
            sound,
            wake,
            files_tx,
            files_rx,
            preview: None,
            preview_dirty: false,
            texture: None,
            cameras: Vec::new(),
            text_focus: false,
            pending_capture: None,
            last_latency: None,
            last_clock_check: i64::MIN,
            scan_ended: false,
        };
        gui.fields.export_path = gui.default_export_path();
        if let Ok(e) = &gui.engine {
            gui.fields.checkpoint = e.settings().checkpoint.clone();
            gui.fields.officer = e.settings().officer.clone().unwrap_or_default();
        }
        if let Some(why) = prefs_problem {
            gui.event(Event::Notice(Notice {
                ok: false,
                text: why,
            }));
        }
        gui.refresh_status();
        gui.start_scanner();
        gui
    }

    pub fn now(&self) -> i64 {
        (self.config.clock)()
    }

    pub fn simulated_clock(&self) -> bool {
        self.config.simulated_clock
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The engine, or why it could not be opened.
    pub fn engine(&self) -> Result<&Engine, &str> {
        self.engine.as_ref().map_err(String::as_str)
    }

    /// Time from capturing the frame that held the QR to drawing its verdict, for the last
    /// camera read.
    pub fn last_latency(&self) -> Option<Duration> {
        self.last_latency
    }

    /// Applies an event now and carries out what follows.
    pub fn event(&mut self, event: Event) {
        let now = self.now();
        let commands = self.state.handle(event, now);
        self.run(commands);
    }

    fn run(&mut self, commands: Vec<Command>) {
        for c in commands {
            match c {
                Command::Check { text, source } => self.check(&text, source),
                Command::PlaySound(level) => {
                    if let Some(s) = &self.sound {
                        s.play(level);
                    }
                }
                Command::LoadHistory => self.load_history(),
                Command::SavePrefs => {
                    if let Err(e) = self.state.prefs.save(&self.dir) {
                        self.event(Event::Notice(Notice {
                            ok: false,
                            text: e.to_string(),
                        }));
                    }
                }
                Command::SaveLang(lang) => {
                    if let Ok(engine) = &mut self.engine {
                        if let Err(e) = engine.update_settings(|s| s.lang = lang) {
                            let text = e.to_string();
                            self.event(Event::Notice(Notice { ok: false, text }));
                        }
                    }
                }
                Command::RestartCamera => self.start_scanner(),
            }
        }
    }

    fn check(&mut self, text: &str, source: InputSource) {
        let now = self.now();
        let event = match &mut self.engine {
            Ok(engine) => match engine.check_text(text, now) {
                Ok(checked) => Event::Checked {
                    checked: Box::new(checked),
                    source,
                },
                Err(e) => Event::CheckFailed(e.to_string()),
            },
            Err(why) => Event::CheckFailed(why.clone()),
        };
        self.event(event);
        // A check may have found the clock set back; show it in the status bar at once.
        self.refresh_status();
    }

    fn load_history(&mut self) {
        let since = start_of_day_cst(self.now());
        let records: Vec<ScanRecord> = match &self.engine {
            Ok(engine) => match engine.scans(Some(since)) {
                Ok(r) => r,
                Err(e) => {
                    let text = e.to_string();
                    self.event(Event::Notice(Notice { ok: false, text }));
                    return;
                }
            },
            Err(_) => Vec::new(),
        };
        self.event(Event::History(records));
    }

    /// Re-reads the bundle and clock status from the engine.
    pub fn refresh_status(&mut self) {
        let now = self.now();
        let (bundle, clock) = match &self.engine {
            Ok(engine) => (
                engine.bundle().ok().map(bundle_info),
                engine.clock_problem(now).ok().flatten(),
            ),
            Err(_) => (None, None),
        };
        self.last_clock_check = now;
        self.event(Event::Bundle(bundle));
        self.event(Event::Clock(clock));
    }

    /// (Re)starts the scanning worker for the configured input.
    pub fn start_scanner(&mut self) {
        if let Some(old) = self.scanner.take() {
            // Release the camera before opening it again.
            old.stop_within(Duration::from_secs(1));
        }
        self.scan_ended = false;
        let opener: Opener = match &self.config.input {
            FrameInput::Off => {
                self.event(Event::CameraStopped(String::new()));
                return;
            }
            FrameInput::Custom(factory) => {
                let factory = factory.0.clone();
                Box::new(move || factory())
            }
            FrameInput::Recorded(folder) => {
                let folder = folder.clone();
                Box::new(move || {
                    RecordedSource::open(&folder).map(|s| Box::new(s) as Box<dyn FrameSource>)
                })
            }
            FrameInput::Camera => {
                self.cameras = list_cameras();
                let wanted = self.state.prefs.camera.clone();
                let res = self.state.prefs.resolution;
                Box::new(move || {
                    CameraSource::open(wanted.as_deref(), res)
                        .map(|s| Box::new(s) as Box<dyn FrameSource>)
                })
            }
        };
        self.event(Event::CameraStopped(String::new()));
        self.state.camera = super::state::CameraStatus::Starting;
        match Scanner::start(
            opener,
            FrameDecoder::new(),
            self.config.scan.clone(),
            self.wake.clone(),
        ) {
            Ok(s) => self.scanner = Some(s),
            Err(e) => self.event(Event::CameraStopped(e.to_string())),
        }
    }

    /// Handles everything that arrived since the last frame. Called once per UI frame (and by
    /// tests that run the loop without a window).
    pub fn pump(&mut self) {
        let mut msgs = Vec::new();
        if let Some(s) = &self.scanner {
            while let Some(m) = s.try_recv() {
                msgs.push(m);
            }
        }
        for m in msgs {
            self.on_scan(m);
        }
        while let Ok(job) = self.files_rx.try_recv() {
            self.event(Event::FileDecoded {
                name: job.name,
                result: job.result,
            });
        }
        let now = self.now();
        if now - self.last_clock_check >= 10 || now < self.last_clock_check {
            self.refresh_status();
        }
        self.event(Event::Tick);
    }

    /// Waits up to `timeout` for the worker's next message and handles it (tests and
    /// benchmarks). Returns false when nothing came.
    pub fn pump_wait(&mut self, timeout: Duration) -> bool {
        let msg = match &self.scanner {
            Some(s) => s.recv_timeout(timeout),
            None => None,
        };
        match msg {
            Some(m) => {
                self.on_scan(m);
                true
            }
            None => false,
        }
    }

    fn on_scan(&mut self, msg: ScanMsg) {
        match msg {
            ScanMsg::Started {
                name,
                camera,
                size: (w, h),
            } => {
                if camera {
                    self.event(Event::CameraStarted {
                        name,
                        width: w,
                        height: h,
                    })
                } else {
                    self.event(Event::CameraRecorded(name))
                }
            }
            ScanMsg::Failed(SourceError::NoCamera) => self.event(Event::CameraNotFound),
            ScanMsg::Failed(e) => self.event(Event::CameraBusy(e.to_string())),
            ScanMsg::Ended(why) => {
                self.scan_ended = true;
                self.event(Event::CameraStopped(
                    why.map(|e| e.to_string()).unwrap_or_default(),
                ))
            }
            ScanMsg::Frame {
                width,
                height,
                codes,
                preview,
                captured,
                ..
            } => {
                if let Some(p) = preview {
                    self.preview = Some(p);
                    self.preview_dirty = true;
                }
                let before = self.state.shown.as_ref().map(|s| s.checked.record.id);
                self.event(Event::Frame {
                    width,
                    height,
                    codes,
                });
                let after = self.state.shown.as_ref().map(|s| s.checked.record.id);
                if after != before {
                    self.pending_capture = Some(captured);
                }
            }
        }
    }

    /// Called by the view once a verdict has been laid out for drawing.
    pub(super) fn verdict_drawn(&mut self) {
        if let Some(t) = self.pending_capture.take() {
            self.last_latency = Some(t.elapsed());
        }
    }

    /// Decodes an image file on a worker thread; the result arrives as [`Event::FileDecoded`].
    pub fn open_image(&mut self, path: PathBuf) {
        let tx = self.files_tx.clone();
        let wake = self.wake.clone();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        let spawned = std::thread::Builder::new()
            .name("image-file".into())
            .spawn(move || {
                let result = FrameDecoder::new()
                    .decode_file(&path)
                    .map(|codes| codes.into_iter().map(|c| c.text).collect())
                    .map_err(|e| e.to_string());
                let _ = tx.send(FileJob { name, result });
                wake();
            });
        if let Err(e) = spawned {
            self.event(Event::Notice(Notice {
                ok: false,
                text: e.to_string(),
            }));
        }
    }

    /// A file dropped on the window: a trust bundle (`.cose`) is imported, anything else is
    /// read as an image.
    pub fn dropped(&mut self, path: PathBuf) {
        let is_bundle = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("cose"));
        if is_bundle {
            self.import_bundle(&path);
        } else {
            self.open_image(path);
        }
    }

    /// Imports a trust bundle file (from a USB stick); the result is shown as a notice.
    pub fn import_bundle(&mut self, path: &Path) {
        let result =
            read_limited(path, MAX_BUNDLE_BYTES).and_then(|bytes| match &mut self.engine {
                Ok(engine) => engine
                    .install_bundle(&bytes)
                    .map(bundle_info)
                    .map_err(|e| format!("{}: {e}", path.display())),
                Err(why) => Err(why.clone()),
            });
        self.event(Event::BundleImported(result));
        self.refresh_status();
    }

    /// Saves checkpoint and officer from the settings fields.
    pub fn save_identity(&mut self) {
        let checkpoint = self.fields.checkpoint.trim().to_owned();
        let officer = self.fields.officer.trim().to_owned();
        let lang = self.state.lang;
        let result = match &mut self.engine {
            Ok(engine) => engine
                .update_settings(|s| {
                    s.checkpoint = checkpoint;
                    s.officer = (!officer.is_empty()).then_some(officer);
                })
                .map_err(|e| e.to_string()),
            Err(why) => Err(why.clone()),
        };
        let text = match (&result, lang) {
            (Ok(()), Lang::Zh) => "已保存检查站和执勤人员".to_owned(),
            (Ok(()), Lang::En) => "Checkpoint and officer saved".to_owned(),
            (Err(e), _) => e.clone(),
        };
        self.event(Event::Notice(Notice {
            ok: result.is_ok(),
            text,
        }));
        self.refresh_status();
    }

    /// Records that the officer corrected the device clock (logged; the clock floor restarts).
    pub fn record_clock_correction(&mut self) {
        let reason = self.fields.clock_reason.trim().to_owned();
        let now = self.now();
        let lang = self.state.lang;
        let result = match (&mut self.engine, reason.is_empty()) {
            (_, true) => Err(match lang {
                Lang::Zh => "请填写校正理由".to_owned(),
                Lang::En => "Give the reason for the correction".to_owned(),
            }),
            (Ok(engine), false) => engine
                .record_clock_correction(now, &reason)
                .map_err(|e| e.to_string()),
            (Err(why), false) => Err(why.clone()),
        };
        let text = match (&result, lang) {
            (Ok(()), Lang::Zh) => format!("已登记时钟校正：{}", timefmt::minutes(now)),
            (Ok(()), Lang::En) => format!("Clock correction recorded: {}", timefmt::minutes(now)),
            (Err(e), _) => e.clone(),
        };
        if result.is_ok() {
            self.fields.clock_reason.clear();
        }
        self.event(Event::Notice(Notice {
            ok: result.is_ok(),
            text,
        }));
        self.refresh_status();
    }

    /// Sets up an uninitialised device: pins the root key from a file and names the checkpoint.
    pub fn init_device(&mut self) {
        let path = PathBuf::from(self.fields.root_key_path.trim());
        let result = read_limited(&path, 64 * 1024)
            .and_then(|bytes| {
                String::from_utf8(bytes)
                    .map_err(|_| format!("{} 不是文本文件 (not a text file)", path.display()))
            })
            .and_then(|text| {
                checkpass::keys::parse_public_key_file(&text)
                    .map_err(|e| format!("{}: {e}", path.display()))
            })
            .and_then(|(key, role)| {
                if role == checkpass::keys::KeyRole::Root {
                    Ok(key)
                } else {
                    Err(format!("{} 不是根公钥 (not a root key)", path.display()))
                }
            })
            .and_then(|key| {
                let officer = self.fields.officer.trim();
                Engine::init(
                    &self.dir,
                    key,
                    self.fields.checkpoint.trim(),
                    (!officer.is_empty()).then_some(officer),
                )
                .map_err(|e| e.to_string())
            });
        match result {
            Ok(mut engine) => {
                engine.set_simulated_clock(self.config.simulated_clock);
                self.engine = Ok(engine);
                self.event(Event::Notice(Notice {
                    ok: true,
                    text: match self.state.lang {
                        Lang::Zh => "已初始化，请导入信任包".into(),
                        Lang::En => "Initialised; now import a trust bundle".into(),
                    },
                }));
                self.refresh_status();
            }
            Err(text) => self.event(Event::Notice(Notice { ok: false, text })),
        }
    }

    /// Writes the filtered history to the export path as CSV.
    pub fn export_csv(&mut self) {
        let path = PathBuf::from(self.fields.export_path.trim());
        let rows: Vec<ScanRecord> = self.state.filtered_history().into_iter().cloned().collect();
        let result = crate::files::write_csv_file(&path, &rows);
        let lang = self.state.lang;
        let notice = match result {
            Ok(()) => Notice {
                ok: true,
                text: match lang {
                    Lang::Zh => format!("已导出 {} 条记录到 {}", rows.len(), path.display()),
                    Lang::En => format!("Exported {} records to {}", rows.len(), path.display()),
                },
            },
            Err(e) => Notice {
                ok: false,
                text: e.to_string(),
            },
        };
        self.event(Event::Notice(notice));
    }

    fn default_export_path(&self) -> String {
        let day = checkpass::time::format_cst(self.now());
        let day = day.get(..10).unwrap_or("scans");
        let base = directories::UserDirs::new()
            .map(|u| u.home_dir().to_path_buf())
            .unwrap_or_else(|| self.dir.clone());
        base.join(format!("scans-{day}.csv")).display().to_string()
    }

    /// Looks for trust bundle files on mounted USB sticks.
    pub fn find_bundles(&mut self) {
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
        self.fields.found_bundles = super::usb::find_bundle_files(&roots);
    }
}

fn bundle_info(b: &TrustBundle) -> BundleInfo {
    BundleInfo {
        sequence: b.sequence,
        issued_at: b.issued_at,
        max_age_secs: b.policy.max_bundle_age_secs,
        keys: b.keys.len(),
        checkpoints: b.checkpoints.len(),
        revoked: b.revoked.len(),
    }
}

/// Reads a whole file of at most `limit` bytes (see [`crate::files::read_limited`]), the error
/// as the notice shows it.
fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, String> {
    crate::files::read_limited(path, limit).map_err(|e| e.to_string())
}

impl eframe::App for Gui {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        super::view::show(self, ui);
    }
}

impl Screen {
    pub fn all() -> [Screen; 3] {
        [Screen::Scan, Screen::History, Screen::Settings]
    }
}
