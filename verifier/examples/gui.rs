//! Starts the officer's window (until `verifier` itself opens it with no subcommand).
//!
//! - `cargo run -p verifier --example gui -- [--data DIR]`: the real window on a data directory.
//! - `cargo run -p verifier --example gui -- --demo DIR green|amber|red`: a demonstration with no
//!   camera and no setup: DIR becomes checkpoint C101 trusting the *public test-vector keys* of
//!   `checkpass::sample`, a recorded 1280×720 frame of a sample pass is scanned, and the clock is
//!   simulated at `sample::NOW` (the window says 模拟时间). Used for the screenshots in
//!   `docs/images/gui-*.png`.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use checkpass::bundle::{sign_bundle, RevocationList};
use checkpass::pass::Serial;
use checkpass::{sample, wire};
use qrcode::{EcLevel, QrCode};
use verifier::decode::synth::{camera_frame, Placement};
use verifier::engine::Engine;
use verifier::gui::prefs::GuiPrefs;
use verifier::gui::{FrameInput, GuiConfig};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => verifier::gui::run(None),
        [flag, dir] if flag == "--data" => verifier::gui::run(Some(PathBuf::from(dir))),
        [flag, dir, kind] if flag == "--demo" => demo(PathBuf::from(dir), kind),
        _ => bail!("usage: gui [--data DIR] | gui --demo DIR green|amber|red"),
    }
}

fn demo(dir: PathBuf, kind: &str) -> Result<()> {
    let signing = sample::vector_signing_key();
    let root = sample::vector_root_key();
    let mut pass = sample::pass();
    match kind {
        "green" => {}
        "amber" => pass.body.route = vec!["C201".into(), "C202".into()],
        "red" => {
            pass.serial = Serial(900);
            pass.body.plate = "鲁KR9000".into();
        }
        _ => bail!("kind must be green, amber or red"),
    }
    std::fs::create_dir_all(&dir)?;
    let mut engine = Engine::init(&dir, root.public_key(), "C101", Some("W-007"))?;
    if engine.bundle().is_err() {
        let mut bundle = sample::bundle(&signing, 1, sample::ISSUED_AT);
        bundle.revoked = [Serial(900)].into_iter().collect::<RevocationList>();
        engine.install_bundle(&sign_bundle(&bundle, &root)?)?;
    }
    drop(engine);
    GuiPrefs {
        verdict_timeout_secs: 600,
        sound: false,
        ..GuiPrefs::default()
    }
    .save(&dir)?;
    let text = wire::issue_qr_text(&pass, &signing)?;
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::Q)?
        .render::<image::Luma<u8>>()
        .module_dimensions(8, 8)
        .build();
    let frames = dir.join(format!("frames-{kind}"));
    std::fs::create_dir_all(&frames)?;
    let placement = Placement {
        angle_deg: 6.0,
        noise: 5,
        falloff: 0.2,
        ..Placement::default()
    };
    camera_frame(&code, &placement)
        .save(frames.join("frame-0001.png"))
        .context("writing the demo frame")?;
    let config = GuiConfig {
        input: FrameInput::Recorded(frames),
        clock: Box::new(|| sample::NOW),
        simulated_clock: true,
        ..GuiConfig::default()
    };
    verifier::gui::run_with(dir, config)
}
