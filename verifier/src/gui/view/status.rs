//! The status bar (screens, checkpoint, pinned root, bundle age, clock, camera) and the notice
//! line under the window.

use checkpass::msg;
use checkpass::verdict::Lang;
use egui::{Align, Color32, Layout, RichText};

use crate::engine::ClockProblem;
use crate::gui::state::{CameraStatus, Device, Event, Screen, State};
use crate::timefmt;

use super::{Out, AMBER, GREEN, RED};

pub(super) fn status_bar(state: &State, ui: &mut egui::Ui, out: &mut Out) {
    let lang = state.lang;
    let now = state.now;
    // Wrapped: on a small laptop screen the items go on to a second line rather than over
    // each other.
    ui.horizontal_wrapped(|ui| {
        // Each item whole: one that does not fit starts the next line.
        ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Extend);
        for (screen, name) in [
            (Screen::Scan, msg!(lang, gui.tabs.scan)),
            (Screen::History, msg!(lang, gui.tabs.history)),
            (Screen::Settings, msg!(lang, gui.tabs.settings)),
        ] {
            let label = RichText::new(name).size(18.0);
            if ui.selectable_label(state.screen == screen, label).clicked() {
                out.emit(Event::Show(screen));
            }
        }
        ui.separator();
        if let Device::Ready(device) = &state.device {
            let cp = &device.checkpoint;
            ui.label(RichText::new(msg!(lang, gui.status.checkpoint, checkpoint = cp)).strong());
            if let Some(d) = device.direction {
                ui.label(RichText::new(d.label(lang)).strong());
            }
            // The pinned root, always in sight: an officer compares it with the printed one.
            let root = &device.root_kid;
            ui.label(msg!(lang, gui.status.root_key, kid = root));
            if device.allow_dev_keys {
                ui.label(
                    RichText::new(msg!(lang, gui.status.dev_keys))
                        .background_color(RED)
                        .color(Color32::WHITE),
                );
            }
        }
        ui.separator();
        match &state.bundle {
            Some(b) => {
                let en = lang == Lang::En;
                let text = msg!(
                    lang,
                    gui.status.bundle,
                    sequence = b.sequence,
                    age = timefmt::duration(b.age_secs(now), en),
                );
                if b.is_stale(now) {
                    let stale = msg!(lang, gui.status.bundle_stale, bundle = text);
                    ui.label(
                        RichText::new(stale)
                            .background_color(AMBER)
                            .color(Color32::BLACK),
                    );
                } else {
                    ui.label(text);
                }
            }
            None => {
                ui.label(
                    RichText::new(msg!(lang, gui.status.no_bundle))
                        .background_color(AMBER)
                        .color(Color32::BLACK),
                );
            }
        }
        if let Some(problem) = state.clock {
            let reference = match problem {
                ClockProblem::BehindLog { newest_scan_at } => newest_scan_at,
                ClockProblem::BehindBundle { issued_at } => issued_at,
            };
            ui.label(
                RichText::new(msg!(
                    lang,
                    gui.status.clock_behind,
                    reference = timefmt::minutes(reference)
                ))
                .background_color(AMBER)
                .color(Color32::BLACK),
            );
        }
        if state.simulated_clock {
            ui.label(
                RichText::new(msg!(
                    lang,
                    gui.status.simulated,
                    now = timefmt::minutes(now)
                ))
                .background_color(Color32::from_rgb(0x44, 0x44, 0xaa))
                .color(Color32::WHITE),
            );
        }
        ui.separator();
        ui.label(camera_text(&state.camera, lang));
    });
}

pub(super) fn camera_text(status: &CameraStatus, lang: Lang) -> String {
    match status {
        CameraStatus::Starting => msg!(lang, gui.camera.starting).into(),
        CameraStatus::Running {
            name,
            width,
            height,
        } => msg!(
            lang,
            gui.camera.running,
            name = name,
            width = width,
            height = height
        ),
        CameraStatus::Recorded(name) => msg!(lang, gui.camera.recorded, name = name),
        CameraStatus::NotFound => msg!(lang, gui.camera.not_found).into(),
        CameraStatus::Busy(_) => msg!(lang, gui.camera.busy).into(),
        CameraStatus::Stopped(why) if why.is_empty() => msg!(lang, gui.camera.stopped).into(),
        CameraStatus::Stopped(why) => msg!(lang, gui.camera.stopped_why, why = why),
    }
}

pub(super) fn notice_bar(state: &State, ui: &mut egui::Ui) {
    let lang = state.lang;
    ui.horizontal(|ui| {
        if let Some(n) = &state.notice {
            let color = if n.ok { GREEN } else { RED };
            ui.label(RichText::new(n.text.clone()).color(color).size(16.0));
        } else {
            ui.label(msg!(lang, gui.status.hint));
        }
        let pending = state.pending_scanner_text();
        if !pending.is_empty() {
            ui.label(msg!(
                lang,
                gui.status.scanner_typing,
                count = pending.chars().count()
            ));
        }
        ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
            ui.label(msg!(lang, gui.status.frames, count = state.frames));
        });
    });
}
