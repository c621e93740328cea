//! The whole scanning loop with no camera: a recorded folder of 1280×720 frames →
//! the `qr-scanner` worker and `FrameDecoder` → `State` → the engine's verdict → the scan log →
//! the history. Plus the latency benchmark (ignored by default; run it in release mode).

mod gui_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use checkpass::verdict::Level;
use gui_support::{Fixture, NOW};
use verifier::decode::FrameDecoder;
use verifier::engine::Engine;
use verifier::gui::scanner::{ScanMsg, ScanOptions, Scanner};
use verifier::gui::source::{FrameSource, RecordedSource};
use verifier::gui::state::Screen;
use verifier::gui::{Event, FrameInput, Gui, GuiConfig};
use verifier::store::LoggedVerdict;

fn config(input: FrameInput) -> GuiConfig {
    GuiConfig {
        input,
        scan: ScanOptions {
            preview_width: Some(320),
            ..ScanOptions::default()
        },
        clock: Box::new(|| NOW),
        simulated_clock: false,
        sound: false,
        before_job: None,
    }
}

/// Runs the GUI (without drawing) until the recording has played to the end.
fn play(gui: &mut Gui) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !gui.scan_ended {
        gui.pump_wait(Duration::from_millis(200));
        assert!(Instant::now() < deadline, "the recording did not end");
    }
    gui.pump();
    // The checks and scan-log writes run on the `verify` worker: wait for their answers.
    assert!(
        gui.settle(Duration::from_secs(30)),
        "the verify worker did not answer"
    );
}

#[test]
fn recorded_frames_to_verdicts_scan_log_and_history() {
    let fx = Fixture::new();
    let green = fx.green();
    let red = fx.red();
    // Empty frames, a pass held for six frames, empty frames, another pass held for four.
    let frames = [
        None,
        None,
        Some(green.as_str()),
        Some(green.as_str()),
        Some(green.as_str()),
        None,
        Some(green.as_str()),
        Some(green.as_str()),
        Some(green.as_str()),
        None,
        Some(red.as_str()),
        Some(red.as_str()),
        Some(red.as_str()),
        Some(red.as_str()),
    ];
    let folder = gui_support::record(fx.path(), &frames);
    let ctx = egui::Context::default();
    let mut gui = Gui::new(
        fx.path().to_path_buf(),
        config(FrameInput::Recorded(folder)),
        &ctx,
    );
    play(&mut gui);
    // Each pass was checked once although it was in many frames; the second replaced the first.
    let shown = gui.state.shown.as_ref().expect("a verdict on screen");
    assert_eq!(shown.checked.verdict.level(), Level::Red);
    assert_eq!(
        gui.state.frames as usize,
        frames.len(),
        "every frame with a code arrived"
    );
    let history: Vec<(Option<String>, LoggedVerdict)> = gui
        .state
        .history
        .iter()
        .map(|r| (r.plate.clone(), r.verdict))
        .collect();
    assert_eq!(
        history,
        vec![
            (Some("鲁KP20XL".into()), LoggedVerdict::Green),
            (Some("鲁KR9000".into()), LoggedVerdict::Red),
        ]
    );
    let log = Engine::open(fx.path()).unwrap().scans(None).unwrap();
    assert_eq!(
        log.len(),
        2,
        "the scan log holds one record per pass, not per frame"
    );
    assert_eq!(log[0].officer.as_deref(), Some("W-007"));
    let overlay = gui
        .state
        .overlay
        .as_ref()
        .expect("where the last code was found");
    assert_eq!(overlay.codes.len(), 1);
    assert_eq!(overlay.codes[0].text, red);
    gui.event(Event::Show(Screen::History));
    gui.settle(Duration::from_secs(30));
    assert_eq!(gui.state.filtered_history().len(), 2);
}

#[test]
fn a_recorded_source_plays_in_order_then_ends() {
    let fx = Fixture::new();
    let green = fx.green();
    let folder = gui_support::record(fx.path(), &[None, Some(green.as_str())]);
    let mut src = RecordedSource::open(&folder).unwrap();
    assert_eq!(src.len(), 2);
    assert!(src.next_frame().unwrap().is_some());
    let f = src.next_frame().unwrap().unwrap();
    assert_eq!(f.dimensions(), (1280, 720));
    assert_eq!(src.size(), (1280, 720));
    assert!(src.next_frame().unwrap().is_none());
    // The worker reads the code and reports where it is.
    let scanner = Scanner::start(
        Box::new(move || {
            RecordedSource::open(&folder).map(|s| Box::new(s) as Box<dyn FrameSource>)
        }),
        FrameDecoder::new(),
        ScanOptions::default(),
        Arc::new(|| {}),
    )
    .unwrap();
    let mut found = Vec::new();
    while let Some(msg) = scanner.recv_timeout(Duration::from_secs(30)) {
        match msg {
            ScanMsg::Frame { codes, .. } => found.push(codes),
            ScanMsg::Ended(why) => {
                assert!(why.is_none());
                break;
            }
            _ => {}
        }
    }
    assert_eq!(found.len(), 2);
    assert!(found[0].is_empty());
    assert_eq!(found[1].len(), 1);
    assert_eq!(found[1][0].text, green);
    let xs: Vec<f32> = found[1][0].corners.iter().map(|p| p.x).collect();
    assert!(
        xs.iter().all(|x| (300.0..1000.0).contains(x)),
        "corners near the centre: {xs:?}"
    );
    scanner.stop();
}

/// Benchmark, not a test of timing: `cargo test --release -p verifier --test gui_loop -- \
/// --ignored --nocapture bench`. From the first frame holding a readable QR (captured by the
/// worker) to the verdict laid out for drawing, at 1280×720 through the recorded source.
#[test]
#[ignore]
fn bench_first_readable_frame_to_verdict() {
    let fx = Fixture::new();
    let mut texts = Vec::new();
    for i in 0..10u64 {
        let mut p = checkpass::sample::pass();
        p.serial = checkpass::pass::Serial(100 + i);
        texts.push(fx.text(&p));
    }
    let mut latencies = Vec::new();
    for t in &texts {
        let folder = gui_support::record(fx.path(), &[None, Some(t.as_str())]);
        let ctx = egui::Context::default();
        let mut gui = Gui::new(
            fx.path().to_path_buf(),
            config(FrameInput::Recorded(folder)),
            &ctx,
        );
        let mut drawn = None;
        let deadline = Instant::now() + Duration::from_secs(30);
        while drawn.is_none() && Instant::now() < deadline {
            draw(&ctx, &mut gui);
            drawn = gui.last_latency();
            if drawn.is_none() {
                gui.pump_wait(Duration::from_millis(5));
                // pump_wait handled one message; let the next frame draw it.
            }
        }
        latencies.push(drawn.expect("verdict drawn"));
        std::fs::remove_dir_all(fx.path().join("frames")).unwrap();
    }
    latencies.sort();
    println!(
        "first readable frame -> verdict drawn, 1280x720, {} runs: min {:?}, median {:?}, max {:?}",
        latencies.len(),
        latencies[0],
        latencies[latencies.len() / 2],
        latencies[latencies.len() - 1]
    );
}

/// One frame without a window. The texture changes (fonts, preview) have no GPU to go to:
/// dropping them unapplied would panic in epaint.
fn draw(ctx: &egui::Context, gui: &mut Gui) {
    let mut out = ctx.run_ui(Default::default(), |ui| gui.update_ui(ui));
    out.textures_delta.clear();
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() - 1) * p / 100]
}

/// Benchmark: CPU time of one UI frame (layout and tessellation, no GPU) while the worker scans
/// a 30 fps recording of 1280×720 frames with a preview. `-- --ignored --nocapture bench`.
#[test]
#[ignore]
fn bench_ui_frame_time_while_scanning() {
    let fx = Fixture::new();
    let green = fx.green();
    let frames: Vec<Option<&str>> = (0..90)
        .map(|i| {
            if i % 3 == 0 {
                Some(green.as_str())
            } else {
                None
            }
        })
        .collect();
    let folder = gui_support::record(fx.path(), &frames);
    let ctx = egui::Context::default();
    let mut cfg = config(FrameInput::Recorded(folder));
    cfg.scan.preview_width = Some(640);
    cfg.scan.frame_interval = Some(Duration::from_millis(33));
    let mut gui = Gui::new(fx.path().to_path_buf(), cfg, &ctx);
    let mut times = Vec::new();
    while !gui.scan_ended {
        let t = Instant::now();
        draw(&ctx, &mut gui);
        times.push(t.elapsed());
        std::thread::sleep(Duration::from_millis(16));
    }
    times.sort();
    println!(
        "UI frame (CPU) while scanning, {} frames: median {:?}, p95 {:?}, max {:?}; frames decoded {}",
        times.len(),
        percentile(&times, 50),
        percentile(&times, 95),
        times[times.len() - 1],
        gui.state.frames
    );
}

/// Benchmark: from creating the GUI to the camera status being known (camera ready, or the
/// no-camera screen), with the real camera path. `-- --ignored --nocapture bench`.
#[test]
#[ignore]
fn bench_start_to_camera_ready_or_no_camera() {
    let fx = Fixture::new();
    let t = Instant::now();
    let ctx = egui::Context::default();
    let mut cfg = config(FrameInput::Camera);
    cfg.scan.preview_width = Some(640);
    let mut gui = Gui::new(fx.path().to_path_buf(), cfg, &ctx);
    use verifier::gui::state::CameraStatus;
    while gui.state.camera == CameraStatus::Starting && t.elapsed() < Duration::from_secs(10) {
        gui.pump_wait(Duration::from_millis(5));
    }
    draw(&ctx, &mut gui);
    println!(
        "start -> camera status {:?} drawn: {:?}",
        gui.state.camera,
        t.elapsed()
    );
}

/// Benchmark: what one 1280×720 frame costs the worker: the fast path on every frame, the full
/// pipeline on an empty frame (run on every `full_every`-th empty frame).
#[test]
#[ignore]
fn bench_decode_cost_per_frame() {
    let fx = Fixture::new();
    let green = fx.green();
    let with_code = gui_support::frame(Some(&green), 3);
    let empty = gui_support::frame(None, 4);
    let time = |decoder: &FrameDecoder, frame: &image::GrayImage| {
        let mut t: Vec<Duration> = (0..5)
            .map(|_| {
                let s = Instant::now();
                let _ = decoder.decode(frame);
                s.elapsed()
            })
            .collect();
        t.sort();
        t[2]
    };
    let fast = FrameDecoder::fast();
    let full = FrameDecoder::new();
    println!(
        "decode 1280x720, median of 5: fast path with code {:?}, fast path empty {:?}, full pipeline empty {:?}",
        time(&fast, &with_code),
        time(&fast, &empty),
        time(&full, &empty)
    );
}
