//! Issue 15: everything the view used to do itself (check a pasted text, open an image, import
//! a bundle, look on USB sticks, save the identity, record a clock correction, set up the
//! device, export CSV, retry the camera) is now an event that the state turns into a command,
//! driven here without a window. And the application's side: those commands run on the
//! `verify` worker, so a slow check never delays a frame.

mod gui_support;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use checkpass::scanlog::Direction;
use checkpass::verdict::{Lang, Level};
use gui_support::{Fixture, NOW};
use verifier::engine::Engine;
use verifier::gui::prefs::GuiPrefs;
use verifier::gui::state::{BundleInfo, Device, DeviceInfo, Field, InputSource, Notice, Screen};
use verifier::gui::worker::Job;
use verifier::gui::{Command, Event, FrameInput, Gui, GuiConfig, State};
use verifier::store::{LoggedVerdict, ScanRecord};

fn state() -> State {
    State::new(Lang::Zh, GuiPrefs::default())
}

fn edit(s: &mut State, field: Field, text: &str) {
    assert!(s.handle(Event::Edit(field, text.into()), NOW).is_empty());
}

fn device() -> DeviceInfo {
    DeviceInfo {
        checkpoint: "C101".into(),
        officer: Some("W-007".into()),
        root_kid: "abcd".into(),
        direction: None,
        allow_dev_keys: false,
        lang: Lang::En,
    }
}

fn notice(s: &State) -> Notice {
    s.notice.clone().expect("a notice")
}

#[test]
fn the_paste_box_is_checked_and_emptied() {
    let mut s = state();
    edit(&mut s, Field::Paste, "  TP1:AAA \n");
    assert_eq!(s.fields.paste, "  TP1:AAA \n");
    let c = s.handle(Event::SubmitPaste, NOW);
    assert_eq!(
        c,
        vec![Command::Check {
            text: "TP1:AAA".into(),
            source: InputSource::Pasted
        }]
    );
    assert!(s.fields.paste.is_empty());
    // An empty box checks nothing.
    assert!(s.handle(Event::SubmitPaste, NOW).is_empty());
}

#[test]
fn open_image_and_dropped_files() {
    let mut s = state();
    edit(&mut s, Field::ImagePath, " /tmp/pass.png ");
    assert_eq!(
        s.handle(Event::OpenImage, NOW),
        vec![Command::OpenImage(PathBuf::from("/tmp/pass.png"))]
    );
    assert_eq!(
        s.handle(Event::Dropped(PathBuf::from("/usb/b-7.COSE")), NOW),
        vec![Command::ImportBundle(PathBuf::from("/usb/b-7.COSE"))]
    );
    assert_eq!(
        s.handle(Event::Dropped(PathBuf::from("/tmp/photo.jpg")), NOW),
        vec![Command::OpenImage(PathBuf::from("/tmp/photo.jpg"))]
    );
}

#[test]
fn retry_camera() {
    let mut s = state();
    assert_eq!(
        s.handle(Event::RetryCamera, NOW),
        vec![Command::RestartCamera]
    );
}

#[test]
fn bundle_import_and_usb_sticks() {
    let mut s = state();
    edit(&mut s, Field::BundlePath, "/media/usb/bundle-2.cose");
    assert_eq!(
        s.handle(Event::ImportBundle, NOW),
        vec![Command::ImportBundle(PathBuf::from(
            "/media/usb/bundle-2.cose"
        ))]
    );
    let info = BundleInfo {
        sequence: 2,
        issued_at: NOW,
        max_age_secs: 86_400,
        keys: 1,
        checkpoints: 3,
        revoked: 4,
    };
    s.handle(Event::BundleImported(Ok(info.clone())), NOW);
    assert_eq!(s.bundle, Some(info));
    assert!(notice(&s).ok);
    assert!(notice(&s).text.contains("已导入信任包：序号 2"));
    s.handle(Event::BundleImported(Err("bad".into())), NOW);
    assert_eq!(notice(&s).text, "信任包被拒绝：bad");

    assert_eq!(
        s.handle(Event::FindBundles, NOW),
        vec![Command::FindBundles]
    );
    let found = vec![PathBuf::from("/media/usb/a.cose")];
    s.handle(Event::BundlesFound(found.clone()), NOW);
    assert_eq!(s.fields.found_bundles, found);
}

#[test]
fn saving_checkpoint_and_officer() {
    let mut s = state();
    s.handle(Event::Opened(Ok(device())), NOW);
    assert_eq!(s.lang, Lang::En, "the stored language");
    assert_eq!(s.fields.checkpoint, "C101");
    assert_eq!(s.fields.officer, "W-007");
    edit(&mut s, Field::Checkpoint, " C102 ");
    edit(&mut s, Field::Officer, "  ");
    assert_eq!(
        s.handle(Event::SaveIdentity, NOW),
        vec![Command::SaveIdentity {
            checkpoint: "C102".into(),
            officer: None,
            direction: None,
        }]
    );
    let saved = DeviceInfo {
        checkpoint: "C102".into(),
        officer: None,
        ..device()
    };
    s.handle(Event::IdentitySaved(Ok(saved.clone())), NOW);
    assert_eq!(s.device, Device::Ready(saved));
    assert_eq!(notice(&s).text, "Checkpoint and officer saved");
    s.handle(Event::IdentitySaved(Err("disk full".into())), NOW);
    assert_eq!(
        notice(&s),
        Notice {
            ok: false,
            text: "disk full".into()
        }
    );
}

/// The lane's direction is chosen on the settings screen and saved with the checkpoint and
/// officer; the stored one is what the screen starts from.
#[test]
fn choosing_the_lane_direction() {
    let mut s = state();
    let inbound = DeviceInfo {
        direction: Some(Direction::Inbound),
        ..device()
    };
    s.handle(Event::Opened(Ok(inbound)), NOW);
    assert_eq!(s.fields.direction, Some(Direction::Inbound));
    assert!(s
        .handle(Event::ChooseDirection(Some(Direction::Outbound)), NOW)
        .is_empty());
    assert_eq!(
        s.handle(Event::SaveIdentity, NOW),
        vec![Command::SaveIdentity {
            checkpoint: "C101".into(),
            officer: Some("W-007".into()),
            direction: Some(Direction::Outbound),
        }]
    );
    s.handle(Event::ChooseDirection(None), NOW);
    assert!(matches!(
        &s.handle(Event::SaveIdentity, NOW)[..],
        [Command::SaveIdentity {
            direction: None,
            ..
        }]
    ));
}

#[test]
fn a_clock_correction_needs_a_reason() {
    let mut s = state();
    assert!(s.handle(Event::CorrectClock, NOW).is_empty());
    assert_eq!(notice(&s).text, "请填写校正理由");
    edit(&mut s, Field::ClockReason, " 快了一天 ");
    assert_eq!(
        s.handle(Event::CorrectClock, NOW),
        vec![Command::CorrectClock {
            reason: "快了一天".into()
        }]
    );
    s.handle(Event::ClockCorrected(Err("db".into())), NOW);
    assert_eq!(s.fields.clock_reason, " 快了一天 ", "kept for another try");
    s.handle(Event::ClockCorrected(Ok(NOW)), NOW);
    assert!(notice(&s).ok && notice(&s).text.starts_with("已登记时钟校正："));
    assert!(s.fields.clock_reason.is_empty());
}

#[test]
fn setting_up_the_device() {
    let mut s = state();
    s.handle(Event::Opened(Err("尚未初始化".into())), NOW);
    assert_eq!(s.device, Device::Unusable("尚未初始化".into()));
    edit(&mut s, Field::RootKeyPath, " /keys/root.pub.json ");
    edit(&mut s, Field::Checkpoint, "C101");
    assert_eq!(
        s.handle(Event::InitDevice, NOW),
        vec![Command::InitDevice {
            root_key: PathBuf::from("/keys/root.pub.json"),
            checkpoint: "C101".into(),
            officer: None
        }]
    );
    s.handle(Event::Initialised(Err("not a root key".into())), NOW);
    assert!(!notice(&s).ok);
    assert!(matches!(s.device, Device::Unusable(_)));
    s.handle(Event::Initialised(Ok(device())), NOW);
    assert_eq!(notice(&s).text, "已初始化，请导入信任包");
    assert_eq!(s.device, Device::Ready(device()));
}

fn record(id: i64, verdict: LoggedVerdict) -> ScanRecord {
    ScanRecord {
        id,
        scanned_at: NOW + id,
        checkpoint: "C101".into(),
        officer: None,
        serial: None,
        plate: Some(format!("鲁K{id}")),
        verdict,
        reasons: vec![],
        simulated: false,
        bundle_sequence: Some(1),
    }
}

#[test]
fn exporting_the_filtered_history() {
    let mut s = state();
    s.handle(
        Event::History(vec![
            record(1, LoggedVerdict::Green),
            record(2, LoggedVerdict::Red),
        ]),
        NOW,
    );
    s.handle(Event::Filter(Some(LoggedVerdict::Red)), NOW);
    edit(&mut s, Field::ExportPath, "/tmp/today.csv");
    assert_eq!(
        s.handle(Event::ExportCsv, NOW),
        vec![Command::ExportCsv {
            path: PathBuf::from("/tmp/today.csv"),
            rows: vec![record(2, LoggedVerdict::Red)]
        }]
    );
    s.handle(
        Event::Exported(Ok((1, PathBuf::from("/tmp/today.csv")))),
        NOW,
    );
    assert_eq!(notice(&s).text, "已导出 1 条记录到 /tmp/today.csv");
    s.handle(Event::Exported(Err("no room".into())), NOW);
    assert!(!notice(&s).ok);
}

#[test]
fn text_focus_and_cameras_are_state() {
    let mut s = state();
    assert!(s.handle(Event::TextFocus(true), NOW).is_empty());
    assert!(s.text_focus);
    s.handle(Event::Cameras(vec!["USB Camera".into()]), NOW);
    assert_eq!(s.cameras, vec!["USB Camera".to_string()]);
    s.handle(Event::Show(Screen::Settings), NOW + 5);
    assert_eq!(s.now, NOW + 5, "the view's clock is the last event's");
}

// The application: commands go to the `verify` worker.

/// The jobs the worker was given: (kind, name of the thread that ran it).
type Seen = Arc<Mutex<Vec<(String, String)>>>;

/// A GUI with no camera whose worker reports each job and the thread it ran on, after
/// `delay` for a check.
fn gui_with_hook(fx: &Fixture, delay: Duration) -> (Gui, Seen) {
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let hook = Arc::new(move |job: &Job| {
        let thread = std::thread::current().name().unwrap_or("").to_owned();
        let kind = format!("{job:?}")
            .split([' ', '(', '{'])
            .next()
            .unwrap_or("")
            .to_owned();
        if let Ok(mut l) = log.lock() {
            l.push((kind.clone(), thread));
        }
        if kind == "Check" {
            std::thread::sleep(delay);
        }
    });
    let config = GuiConfig {
        input: FrameInput::Off,
        clock: Box::new(|| NOW),
        sound: false,
        before_job: Some(hook),
        ..GuiConfig::default()
    };
    let ctx = egui::Context::default();
    let gui = Gui::new(fx.path().to_path_buf(), config, &ctx);
    (gui, seen)
}

fn frame(ctx: &egui::Context, gui: &mut Gui, events: Vec<egui::Event>) -> Duration {
    let input = egui::RawInput {
        events,
        ..Default::default()
    };
    let t = Instant::now();
    let mut out = ctx.run_ui(input, |ui| gui.update_ui(ui));
    let took = t.elapsed();
    out.textures_delta.clear();
    took
}

/// A check that takes 200 ms does not delay the next frame: the frame that takes the pasted
/// pass and the frames after it are drawn while the worker is still checking.
#[test]
fn a_slow_check_does_not_delay_a_frame() {
    let fx = Fixture::new();
    let (mut gui, seen) = gui_with_hook(&fx, Duration::from_millis(200));
    let ctx = egui::Context::default();
    assert!(gui.settle(Duration::from_secs(30)));
    for _ in 0..3 {
        frame(&ctx, &mut gui, Vec::new());
    }
    let start = Instant::now();
    let took = frame(&ctx, &mut gui, vec![egui::Event::Paste(fx.green())]);
    assert!(
        took < Duration::from_millis(150),
        "the frame taking the pass waited for the check: {took:?}"
    );
    assert_eq!(gui.jobs_outstanding(), 1, "the check is with the worker");
    assert!(gui.state.shown.is_none(), "no verdict yet");
    // Frames go on being drawn while the check runs.
    let mut frames = 0;
    while gui.state.shown.is_none() {
        let took = frame(&ctx, &mut gui, Vec::new());
        assert!(
            took < Duration::from_millis(150),
            "a frame waited: {took:?}"
        );
        frames += 1;
        std::thread::sleep(Duration::from_millis(10));
        assert!(start.elapsed() < Duration::from_secs(30), "no verdict");
    }
    assert!(frames >= 5, "only {frames} frames while the check ran");
    assert!(start.elapsed() >= Duration::from_millis(200));
    let shown = gui.state.shown.as_ref().unwrap();
    assert_eq!(shown.checked.verdict.level(), Level::Green);
    assert!(gui.settle(Duration::from_secs(30)));
    let scans = Engine::open(fx.path()).unwrap().scans(None).unwrap();
    assert_eq!(scans.len(), 1, "recorded in the scan log");
    // Every job, the check and the history reload after it, ran on the `verify` thread.
    let seen = seen.lock().unwrap().clone();
    let kinds: Vec<&str> = seen.iter().map(|(k, _)| k.as_str()).collect();
    assert!(
        kinds.contains(&"Check") && kinds.contains(&"LoadHistory"),
        "{kinds:?}"
    );
    assert!(
        seen.iter().all(|(_, thread)| thread == "verify"),
        "{seen:?}"
    );
}

/// The commands the view used to carry out itself now reach the worker and come back: an
/// import, a CSV export, saving the identity and a clock correction — none on the UI thread.
#[test]
fn the_windows_commands_run_on_the_worker() {
    let fx = Fixture::new();
    let (mut gui, seen) = gui_with_hook(&fx, Duration::ZERO);
    assert!(gui.settle(Duration::from_secs(30)));
    let good = fx.bundle_file(&fx.root, 2, "good.cose");
    gui.event(Event::Edit(Field::BundlePath, good.display().to_string()));
    gui.event(Event::ImportBundle);
    gui.event(Event::Pasted(fx.green()));
    gui.event(Event::Edit(Field::Officer, "W-008".into()));
    gui.event(Event::ChooseDirection(Some(Direction::Outbound)));
    gui.event(Event::SaveIdentity);
    gui.event(Event::Edit(Field::ClockReason, "时钟快了".into()));
    gui.event(Event::CorrectClock);
    assert!(gui.settle(Duration::from_secs(30)));
    let out = fx.path().join("today.csv");
    gui.event(Event::Edit(Field::ExportPath, out.display().to_string()));
    gui.event(Event::ExportCsv);
    gui.event(Event::FindBundles);
    assert!(gui.settle(Duration::from_secs(30)));
    assert_eq!(gui.state.bundle.as_ref().map(|b| b.sequence), Some(2));
    assert!(gui
        .state
        .notice
        .as_ref()
        .unwrap()
        .text
        .contains("已导出 1 条记录"));
    assert!(std::fs::read_to_string(&out).unwrap().contains("鲁KP20XL"));
    let engine = Engine::open(fx.path()).unwrap();
    assert_eq!(engine.settings().officer.as_deref(), Some("W-008"));
    assert_eq!(engine.settings().direction, Some(Direction::Outbound));
    let kinds: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|(k, _)| k.clone())
        .collect();
    for kind in [
        "ImportBundle",
        "Check",
        "SaveIdentity",
        "CorrectClock",
        "ExportCsv",
        "FindBundles",
    ] {
        assert!(
            kinds.iter().any(|k| k == kind),
            "{kind} not on the worker: {kinds:?}"
        );
    }
    assert!(seen.lock().unwrap().iter().all(|(_, t)| t == "verify"));
}

/// Issue 14 point 4 on the desktop: a pass amber for its test's age shows a field for the
/// newer report the officer saw; recording it runs on the worker, writes a `test_report`
/// entry after the scan, and the verdict panel then says it was recorded (still amber). A
/// time it cannot read, or one that is not newer, is refused with a notice.
#[test]
fn a_newer_test_report_is_recorded_from_the_verdict() {
    let fx = Fixture::new();
    let (mut gui, seen) = gui_with_hook(&fx, Duration::ZERO);
    assert!(gui.settle(Duration::from_secs(30)));
    let mut old = checkpass::sample::pass();
    old.serial = checkpass::pass::Serial(3);
    old.body.test_sampled_at = NOW - 50 * 3600;
    gui.event(Event::Pasted(fx.text(&old)));
    assert!(gui.settle(Duration::from_secs(30)));
    let shown = gui.state.shown.as_ref().expect("a verdict");
    assert_eq!(shown.checked.verdict.level(), Level::Amber);
    assert_eq!(shown.test_report, None);

    gui.event(Event::Edit(Field::TestSeen, "昨天".into()));
    gui.event(Event::RecordTestReport);
    assert!(notice(&gui.state).text.contains("无法识别"));
    gui.event(Event::Edit(Field::TestSeen, "2022-03-10 08:00".into()));
    gui.event(Event::RecordTestReport);
    assert!(gui.settle(Duration::from_secs(30)));
    assert!(
        notice(&gui.state)
            .text
            .contains("不晚于通行证上的核酸采样时间"),
        "{:?}",
        gui.state.notice
    );
    let seen_at = "2022-03-13 07:00";
    gui.event(Event::Edit(Field::TestSeen, seen_at.into()));
    gui.event(Event::RecordTestReport);
    assert!(gui.settle(Duration::from_secs(30)));
    let shown = gui.state.shown.as_ref().unwrap();
    assert_eq!(shown.test_report, Some(NOW - 3600));
    assert_eq!(
        shown.checked.verdict.level(),
        Level::Amber,
        "the officer decides"
    );
    assert!(gui.state.fields.test_seen.is_empty());
    assert!(seen
        .lock()
        .unwrap()
        .iter()
        .any(|(k, t)| k == "RecordTestReport" && t == "verify"));

    let engine = Engine::open(fx.path()).unwrap();
    let (_, entries) = engine_log(&engine);
    let report = entries
        .iter()
        .find(|e| e.kind == checkpass::scanlog::EntryKind::TestReport)
        .expect("a test_report entry");
    assert_eq!(
        report.note.as_deref(),
        Some(format!("sample_at={}", NOW - 3600).as_str())
    );
    assert_eq!(
        report.serial.as_deref(),
        Some(old.serial.to_string().as_str())
    );

    // A green pass has nothing to record.
    let mut s = state();
    s.handle(
        Event::Checked {
            checked: Box::new(shown.checked.clone()),
            source: InputSource::Pasted,
        },
        NOW,
    );
    let green = Engine::open(fx.path())
        .unwrap()
        .check_text_at(&fx.green(), NOW + 60, "C101")
        .unwrap();
    s.handle(
        Event::Checked {
            checked: Box::new(green),
            source: InputSource::Pasted,
        },
        NOW,
    );
    edit(&mut s, Field::TestSeen, seen_at);
    assert!(s.handle(Event::RecordTestReport, NOW).is_empty());
    assert!(notice(&s).text.contains("无须记录"), "{:?}", s.notice);
}

/// The device's whole log, as exported.
fn engine_log(engine: &Engine) -> ([u8; 32], Vec<checkpass::logfile::LogRecord>) {
    let (_, log) = engine.export_log(None, NOW).unwrap();
    (log.prev, log.entries)
}
