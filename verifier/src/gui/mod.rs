//! The checkpoint officer's window (eframe/egui): live camera scanning, handheld scanners,
//! the verdict screen, today's history, settings and trust-bundle import.
//!
//! - [`state`]: the GUI state as plain data, changed by `State::handle(event, now)`; all the
//!   screen's rules, tested without a window. Events in, commands out.
//! - [`view`]: drawing `&State`, one module per part of the window (status bar, scan, history,
//!   settings); clicks, keys and edits become events. It calls nothing.
//! - [`app`]: [`app::Gui`], which owns the workers, the sound and the preview texture, feeds
//!   events to the state and carries out its commands.
//! - [`worker`]: the `verify` thread, which owns the [`crate::engine::Engine`]: every
//!   signature check and every disk write (scan log, settings, bundle, CSV) happens there, so
//!   no frame waits for one.
//! - [`source`]: where frames come from ([`source::FrameSource`]: a camera through nokhwa, or
//!   a recorded folder of frames).
//! - [`scanner`]: the `qr-scanner` worker thread: frames → [`crate::decode::FrameDecoder`] →
//!   channel.
//! - [`sound`], [`fonts`], [`prefs`], [`usb`]: verdict sounds, the CJK font, the GUI's own
//!   preferences file, bundle files on USB sticks.
//!
//! The GUI decides nothing about a pass: every text goes to the engine on the worker, which
//! records the scan and returns the verdict shown. It does not use the CLI, nor the CLI it
//! (`tests/structure.rs`).

pub mod app;
pub mod fonts;
pub mod prefs;
pub mod scanner;
pub mod sound;
pub mod source;
pub mod state;
pub mod usb;
pub mod view;
pub mod worker;

use std::path::PathBuf;

use anyhow::anyhow;
use checkpass::messages::in_both;
use checkpass::msg;
use checkpass::verdict::Lang;

pub use app::{FrameInput, Gui, GuiConfig};
pub use state::{Command, Event, State};

/// Environment variable: scan a folder of recorded frames instead of the camera
/// (demonstrations, screenshots, benchmarks).
pub const ENV_FRAMES: &str = "VERIFIER_FRAMES";
/// Environment variable: run with a simulated clock (RFC 3339 or `2022-03-13 08:00` UTC+8);
/// the window then shows a "模拟时间" banner, so this is never mistaken for real use.
pub const ENV_AT: &str = "VERIFIER_AT";

/// Opens the window and runs until it is closed. `data_dir`: as `--data` (default: the
/// platform's data directory).
pub fn run(data_dir: Option<PathBuf>) -> anyhow::Result<()> {
    // Started by a double click on Windows: no empty console window behind this one.
    #[cfg(windows)]
    crate::winplatform::release_own_console();
    let dir = crate::files::data_dir(data_dir.as_deref())?;
    let mut config = GuiConfig::default();
    if let Some(folder) = std::env::var_os(ENV_FRAMES) {
        config.input = FrameInput::Recorded(PathBuf::from(folder));
    }
    if let Ok(at) = std::env::var(ENV_AT) {
        let t = crate::timefmt::parse(&at).map_err(|e| anyhow!("{ENV_AT}: {e}"))?;
        config.clock = Box::new(move || t);
        config.simulated_clock = true;
    }
    run_with(dir, config)
}

/// Opens the window on `dir` with `config` (the input and clock decided by the caller).
pub fn run_with(dir: PathBuf, config: GuiConfig) -> anyhow::Result<()> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title(format!(
                "{} · {}",
                msg!(Lang::Zh, gui.window.title),
                msg!(Lang::En, gui.window.title)
            ))
            .with_inner_size([1280.0, 800.0])
            .with_min_inner_size([800.0, 560.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    eframe::run_native(
        "checkpass-verifier",
        options,
        Box::new(move |cc| Ok(Box::new(Gui::new(dir, config, &cc.egui_ctx)))),
    )
    .map_err(|e| {
        let what = in_both(|l| msg!(l, gui.window.cannot_open));
        anyhow!("{what}: {e}")
    })
}
