//! Benchmark (issue 15): the CPU time of UI frames while a verdict is checked and recorded
//! (signature check, fsync'd SQLite insert), no camera, no GPU. Ignored by default:
//! `cargo test -p verifier --test frame_time -- --ignored --nocapture`.
//! Results and the numbers from before the `verify` worker: docs/BENCHMARKS.md.

mod gui_support;

use std::time::{Duration, Instant};

use gui_support::{Fixture, NOW};
use verifier::gui::scanner::ScanOptions;
use verifier::gui::{FrameInput, Gui, GuiConfig};

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

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() - 1) * p / 100]
}

fn summary(name: &str, mut times: Vec<Duration>) -> String {
    times.sort();
    format!(
        "{name}: median {:.1?}, p95 {:.1?}, max {:.1?} ({} frames)",
        percentile(&times, 50),
        percentile(&times, 95),
        times[times.len() - 1],
        times.len()
    )
}

#[test]
#[ignore]
fn bench_frame_time_while_a_verdict_is_recorded() {
    let fx = Fixture::new();
    let ctx = egui::Context::default();
    let config = GuiConfig {
        input: FrameInput::Off,
        scan: ScanOptions::default(),
        clock: Box::new(|| NOW),
        sound: false,
        ..GuiConfig::default()
    };
    let mut gui = Gui::new(fx.path().to_path_buf(), config, &ctx);
    let shown = |gui: &Gui| gui.state.shown.as_ref().map(|s| s.checked.record.id);
    let (mut taking, mut verdict, mut other) = (Vec::new(), Vec::new(), Vec::new());
    // Round 0 warms up: the first verdict rasterises the big glyphs (~0.2-0.4 s, once).
    for i in 0..21u64 {
        for _ in 0..3 {
            let t = frame(&ctx, &mut gui, Vec::new());
            if i > 0 {
                other.push(t);
            }
        }
        let mut p = checkpass::sample::pass();
        p.serial = checkpass::pass::Serial(300 + i);
        let before = shown(&gui);
        let t = frame(&ctx, &mut gui, vec![egui::Event::Paste(fx.text(&p))]);
        if i > 0 {
            taking.push(t);
        }
        // Before the worker the verdict was drawn in that same frame; now a few frames later.
        let mut t_verdict = t;
        let deadline = Instant::now() + Duration::from_secs(30);
        while shown(&gui) == before {
            std::thread::sleep(Duration::from_millis(2));
            let t = frame(&ctx, &mut gui, Vec::new());
            t_verdict = t;
            if shown(&gui) == before && i > 0 {
                other.push(t);
            }
            assert!(Instant::now() < deadline, "no verdict");
        }
        if i > 0 {
            verdict.push(t_verdict);
        }
    }
    println!("{}", summary("frame taking the pass", taking));
    println!("{}", summary("frame first drawing its verdict", verdict));
    println!("{}", summary("other frames", other));
}
