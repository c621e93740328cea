//! The application around [`State`]: it owns the workers (`verify`, which owns the engine;
//! `qr-scanner`; `image-file`), the sound thread, the camera preview's texture and the clock.
//! Each frame it turns what happened (keys, dropped files, worker messages) into [`Event`]s,
//! draws [`super::view::show`] from `&State`, feeds the view's events back and carries out the
//! [`Command`]s that come out.
//!
//! Nothing here waits for a signature check or a disk write: those are [`Job`]s for the
//! `verify` worker, whose answers arrive as events on a later frame.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::decode::FrameDecoder;

use super::prefs::GuiPrefs;
use super::scanner::{Opener, Preview, ScanMsg, ScanOptions, Scanner};
use super::sound::Sound;
use super::source::{list_cameras, CameraSource, FrameSource, RecordedSource, SourceError};
use super::state::{start_of_day_cst, CameraStatus, Command, Event, InputSource, Notice, State};
use super::worker::{Job, JobHook, Worker};

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
    /// Called on the `verify` worker before each job (tests: a slow check).
    pub before_job: Option<JobHook>,
}

impl Default for GuiConfig {
    fn default() -> Self {
        GuiConfig {
            input: FrameInput::Camera,
            scan: ScanOptions::default(),
            clock: Box::new(|| chrono::Utc::now().timestamp()),
            simulated_clock: false,
            sound: true,
            before_job: None,
        }
    }
}

/// An image file decoded off the UI thread.
struct FileJob {
    name: String,
    result: Result<Vec<String>, String>,
}

/// The GUI application.
pub struct Gui {
    pub state: State,
    dir: PathBuf,
    config: GuiConfig,
    worker: Option<Worker>,
    scanner: Option<Scanner>,
    sound: Option<Sound>,
    wake: Arc<dyn Fn() + Send + Sync>,
    files_tx: Sender<FileJob>,
    files_rx: Receiver<FileJob>,
    preview: Option<Preview>,
    preview_dirty: bool,
    texture: Option<egui::TextureHandle>,
    /// When the camera frame whose check is with the worker was captured.
    awaiting_capture: Option<Instant>,
    /// When the frame that triggered the verdict on screen was captured (until it is drawn).
    pending_capture: Option<Instant>,
    last_latency: Option<Duration>,
    last_clock_check: i64,
    /// The recorded source has played to its end (tests and benchmarks).
    pub scan_ended: bool,
}

impl Gui {
    /// Starts the `verify` worker on the data directory and starts scanning. Never fails: a
    /// device that is not set up yet gets the setup screen.
    pub fn new(dir: PathBuf, config: GuiConfig, ctx: &egui::Context) -> Gui {
        super::fonts::install(ctx);
        let repaint = ctx.clone();
        let wake: Arc<dyn Fn() + Send + Sync> = Arc::new(move || repaint.request_repaint());
        // The language of the data directory's settings is known once the worker has opened
        // it; until then the window speaks the default one.
        let lang = checkpass::verdict::Lang::default();
        let (mut prefs, prefs_problem) = GuiPrefs::load(&dir, lang);
        if !config.sound {
            prefs.sound = false;
        }
        let mut state = State::new(lang, prefs);
        state.simulated_clock = config.simulated_clock;
        let (files_tx, files_rx) = channel();
        let sound = if config.sound {
            Sound::start().ok()
        } else {
            None
        };
        let now = (config.clock)();
        let worker = Worker::start(
            dir.clone(),
            config.simulated_clock,
            now,
            config.before_job.clone(),
            wake.clone(),
        );
        let mut gui = Gui {
            state,
            dir,
            config,
            worker: None,
            scanner: None,
            sound,
            wake,
            files_tx,
            files_rx,
            preview: None,
            preview_dirty: false,
            texture: None,
            awaiting_capture: None,
            pending_capture: None,
            last_latency: None,
            last_clock_check: now,
            scan_ended: false,
        };
        match worker {
            Ok(w) => gui.worker = Some(w),
            Err(e) => gui.state.device = super::state::Device::Unusable(e.to_string()),
        }
        let export = gui.default_export_path();
        gui.event(Event::Edit(super::state::Field::ExportPath, export));
        if let Some(why) = prefs_problem {
            gui.event(Event::Notice(Notice {
                ok: false,
                text: why,
            }));
        }
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

    /// Time from capturing the frame that held the QR to drawing its verdict, for the last
    /// camera read.
    pub fn last_latency(&self) -> Option<Duration> {
        self.last_latency
    }

    /// Applies an event now and carries out what follows.
    pub fn event(&mut self, event: Event) {
        let now = self.now();
        let checked_camera = matches!(
            &event,
            Event::Checked {
                source: InputSource::Camera,
                ..
            }
        );
        let commands = self.state.handle(event, now);
        if checked_camera {
            self.pending_capture = self.awaiting_capture.take();
        }
        self.run(commands);
    }

    fn send(&mut self, job: Job) {
        match &mut self.worker {
            Some(w) => w.send(job),
            None => {
                let text = match &self.state.device {
                    super::state::Device::Unusable(why) => why.clone(),
                    _ => String::from("verify worker not running"),
                };
                self.event(Event::CheckFailed(text));
            }
        }
    }

    fn run(&mut self, commands: Vec<Command>) {
        for c in commands {
            let now = self.now();
            match c {
                Command::Check { text, source } => self.send(Job::Check { text, source, now }),
                Command::PlaySound(level) => {
                    if let Some(s) = &self.sound {
                        s.play(level);
                    }
                }
                Command::LoadHistory => self.send(Job::LoadHistory {
                    since: start_of_day_cst(now),
                }),
                Command::SavePrefs => self.send(Job::SavePrefs(self.state.prefs.clone())),
                Command::SaveLang(lang) => self.send(Job::SaveLang(lang)),
                Command::RestartCamera => self.start_scanner(),
                Command::OpenImage(path) => self.open_image(path),
                Command::ImportBundle(path) => self.send(Job::ImportBundle { path, now }),
                Command::FindBundles => self.send(Job::FindBundles),
                Command::SaveIdentity {
                    checkpoint,
                    officer,
                    direction,
                } => self.send(Job::SaveIdentity {
                    checkpoint,
                    officer,
                    direction,
                    now,
                }),
                Command::CorrectClock { reason } => self.send(Job::CorrectClock { reason, now }),
                Command::RecordTestReport { target, seen } => {
                    self.send(Job::RecordTestReport { target, seen, now })
                }
                Command::InitDevice {
                    root_key,
                    checkpoint,
                    officer,
                } => self.send(Job::InitDevice {
                    root_key,
                    checkpoint,
                    officer,
                    now,
                }),
                Command::ExportCsv { path, rows } => self.send(Job::ExportCsv { path, rows }),
            }
        }
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
                let names = list_cameras().into_iter().map(|c| c.name).collect();
                self.event(Event::Cameras(names));
                let wanted = self.state.prefs.camera.clone();
                let res = self.state.prefs.resolution;
                Box::new(move || {
                    CameraSource::open(wanted.as_deref(), res)
                        .map(|s| Box::new(s) as Box<dyn FrameSource>)
                })
            }
        };
        self.event(Event::CameraStopped(String::new()));
        self.state.camera = CameraStatus::Starting;
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

    /// Handles everything that arrived since the last frame, without waiting. Called once per
    /// UI frame (and by tests that run the loop without a window).
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
        let answers = self
            .worker
            .as_mut()
            .map(Worker::try_answers)
            .unwrap_or_default();
        for e in answers {
            self.event(e);
        }
        let now = self.now();
        if now - self.last_clock_check >= 10 || now < self.last_clock_check {
            self.last_clock_check = now;
            self.send(Job::Status { now });
        }
        self.event(Event::Tick);
    }

    /// Waits up to `timeout` for the scanning worker's next message and handles it (tests and
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

    /// Waits until the `verify` worker has answered every job sent so far, including those
    /// that the answers themselves cause, handling each answer (tests and benchmarks; the
    /// window never waits). Returns false when `timeout` passed first.
    pub fn settle(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let Some(worker) = self.worker.as_mut() else {
                return true;
            };
            if worker.outstanding() == 0 {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            if let Some(events) = worker.wait_answer(left) {
                for e in events {
                    self.event(e);
                }
            }
        }
    }

    /// Jobs sent to the `verify` worker whose answer has not been handled yet.
    pub fn jobs_outstanding(&self) -> usize {
        self.worker.as_ref().map_or(0, Worker::outstanding)
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
                let now = self.now();
                let commands = self.state.handle(
                    Event::Frame {
                        width,
                        height,
                        codes,
                    },
                    now,
                );
                if commands.iter().any(|c| matches!(c, Command::Check { .. })) {
                    self.awaiting_capture = Some(captured);
                }
                self.run(commands);
            }
        }
    }

    /// Decodes an image file on a worker thread; the result arrives as [`Event::FileDecoded`].
    fn open_image(&mut self, path: PathBuf) {
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

    fn default_export_path(&self) -> String {
        let day = checkpass::time::format_cst(self.now());
        let day = day.get(..10).unwrap_or("scans");
        let base = directories::UserDirs::new()
            .map(|u| u.home_dir().to_path_buf())
            .unwrap_or_else(|| self.dir.clone());
        base.join(format!("scans-{day}.csv")).display().to_string()
    }

    /// Keys typed outside text boxes (a handheld scanner), pasted text and dropped files.
    fn read_input(&mut self, ctx: &egui::Context) {
        let (events, dropped) = ctx.input(|i| (i.events.clone(), i.raw.dropped_files.clone()));
        for f in dropped {
            let path = f.path();
            if !path.as_os_str().is_empty() {
                self.event(Event::Dropped(path.to_path_buf()));
            }
        }
        if self.state.text_focus {
            return;
        }
        for e in events {
            match e {
                egui::Event::Text(t) => self.event(Event::Typed(t)),
                egui::Event::Paste(t) => self.event(Event::Pasted(t)),
                egui::Event::Key {
                    key: egui::Key::Enter,
                    pressed: true,
                    ..
                } => self.event(Event::Enter),
                _ => {}
            }
        }
        // What a scanner typed is the scanner's: a focused button must not also take its Enter
        // or Space (base45 has spaces) as a click.
        ctx.input_mut(|i| i.events.retain(|e| !is_scanner_input(e)));
    }

    /// The newest camera preview into the texture the view draws.
    fn update_texture(&mut self, ctx: &egui::Context) {
        if !self.preview_dirty {
            return;
        }
        if let Some(p) = &self.preview {
            let image = egui::ColorImage::from_gray([p.width as usize, p.height as usize], &p.gray);
            match &mut self.texture {
                Some(t) => t.set(image, egui::TextureOptions::LINEAR),
                None => {
                    self.texture =
                        Some(ctx.load_texture("camera", image, egui::TextureOptions::LINEAR))
                }
            }
        }
        self.preview_dirty = false;
    }

    /// One frame: input and worker messages in, the view drawn from the state, its events
    /// handled. What `eframe` calls, and what UI tests call with their own context.
    pub fn update_ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        self.read_input(&ctx);
        self.pump();
        self.update_texture(&ctx);
        let events = super::view::show(&self.state, self.texture.as_ref(), ui);
        for e in events {
            self.event(e);
        }
        if self.state.shown.is_some() && self.state.screen == super::state::Screen::Scan {
            if let Some(t) = self.pending_capture.take() {
                self.last_latency = Some(t.elapsed());
            }
        }
        // Keep the countdown moving each second, and the bundle age and clock status fresh.
        let next = if self.state.shown.is_some() { 1 } else { 30 };
        ctx.request_repaint_after(Duration::from_secs(next));
    }
}

fn is_scanner_input(e: &egui::Event) -> bool {
    matches!(
        e,
        egui::Event::Text(_)
            | egui::Event::Paste(_)
            | egui::Event::Key {
                key: egui::Key::Enter | egui::Key::Space,
                ..
            }
    )
}

impl eframe::App for Gui {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.update_ui(ui);
    }
}
