//! The scan screen: the camera preview with the code outlined and the other ways in (handheld
//! scanner, paste box, image file); or, while one is shown, the verdict with the facts.

use checkpass::msg;
use checkpass::verdict::{Lang, Level, OfficerView, ReasonCode};
use egui::{Color32, RichText, Stroke, Vec2};

use crate::gui::state::{CameraStatus, Event, Field, InputSource, Shown, State};
use crate::timefmt;

use super::status::camera_text;
use super::{level_colors, Out, RED};

type Preview<'a> = Option<&'a egui::TextureHandle>;

pub(super) fn screen(state: &State, tex: Preview<'_>, ui: &mut egui::Ui, out: &mut Out) {
    if let Some(shown) = &state.shown {
        verdict_panel(state, tex, ui, shown, out);
        return;
    }
    let lang = state.lang;
    ui.columns(2, |cols| {
        preview(state, tex, &mut cols[0], out);
        other_inputs(state, &mut cols[1], out, lang);
    });
}

fn preview(state: &State, tex: Preview<'_>, ui: &mut egui::Ui, out: &mut Out) {
    let lang = state.lang;
    match &state.camera {
        CameraStatus::NotFound | CameraStatus::Busy(_) => {
            let (title, detail) = match &state.camera {
                CameraStatus::Busy(why) => (
                    msg!(lang, gui.scan.camera_cannot_open),
                    msg!(lang, gui.scan.camera_busy_help, why = why),
                ),
                _ => (
                    msg!(lang, gui.camera.not_found),
                    String::from(msg!(lang, gui.scan.no_camera_help)),
                ),
            };
            ui.label(RichText::new(title).size(32.0).strong().color(RED));
            ui.label(RichText::new(detail).size(18.0));
            if ui.button(msg!(lang, gui.scan.retry_camera)).clicked() {
                out.emit(Event::RetryCamera);
            }
        }
        _ => {
            match tex {
                Some(tex) => {
                    let avail = ui.available_width();
                    let size = tex.size_vec2();
                    let scale = (avail / size.x).min(1.5);
                    let resp = ui.add(egui::Image::new((tex.id(), size * scale)));
                    // Where the QR was found, scaled from frame to preview coordinates.
                    if let Some(o) = &state.overlay {
                        let rect = resp.rect;
                        let sx = rect.width() / o.width.max(1) as f32;
                        let sy = rect.height() / o.height.max(1) as f32;
                        for code in &o.codes {
                            let pts: Vec<egui::Pos2> = code
                                .corners
                                .iter()
                                .map(|p| rect.min + Vec2::new(p.x * sx, p.y * sy))
                                .collect();
                            let mut closed = pts.clone();
                            if let Some(first) = pts.first() {
                                closed.push(*first);
                            }
                            ui.painter().add(egui::Shape::line(
                                closed,
                                Stroke::new(4.0, Color32::from_rgb(0, 200, 255)),
                            ));
                        }
                    }
                }
                None => {
                    ui.label(RichText::new(camera_text(&state.camera, lang)).size(24.0));
                }
            }
            ui.label(RichText::new(msg!(lang, gui.scan.hold_to_camera)).size(20.0));
        }
    }
}

fn other_inputs(state: &State, ui: &mut egui::Ui, out: &mut Out, lang: Lang) {
    ui.heading(msg!(lang, gui.scan.other_ways));
    ui.label(msg!(lang, gui.scan.scanner_help));
    ui.add_space(8.0);
    let l = ui.label(msg!(lang, gui.scan.paste_label));
    out.edit(Field::Paste, &state.fields.paste, |text| {
        ui.add(
            egui::TextEdit::multiline(text)
                .desired_rows(3)
                .desired_width(f32::INFINITY)
                .hint_text("TP1:…"),
        )
        .labelled_by(l.id)
    });
    if ui.button(msg!(lang, gui.scan.check_text)).clicked() {
        out.emit(Event::SubmitPaste);
    }
    ui.add_space(8.0);
    let l = ui.label(msg!(lang, gui.scan.image_label));
    ui.horizontal(|ui| {
        out.edit(Field::ImagePath, &state.fields.image_path, |text| {
            ui.add(egui::TextEdit::singleline(text).desired_width(280.0))
                .labelled_by(l.id)
        });
        if ui.button(msg!(lang, gui.scan.open_image)).clicked() {
            out.emit(Event::OpenImage);
        }
    });
}

fn verdict_panel(state: &State, tex: Preview<'_>, ui: &mut egui::Ui, shown: &Shown, out: &mut Out) {
    let lang = state.lang;
    let now = state.now;
    let v = &shown.checked.verdict;
    let level = v.level();
    let (bg, fg) = level_colors(level);
    egui::Frame::new()
        .fill(bg)
        .inner_margin(16.0)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.vertical_centered(|ui| {
                ui.label(
                    RichText::new(level.word(lang))
                        .size(140.0)
                        .strong()
                        .color(fg),
                );
            });
            for r in &v.reasons {
                ui.label(
                    RichText::new(format!("• {}", r.message(lang)))
                        .size(30.0)
                        .color(fg),
                );
            }
            if v.reasons.is_empty() {
                ui.label(
                    RichText::new(msg!(lang, gui.verdict.all_passed))
                        .size(24.0)
                        .color(fg),
                );
            }
            if v.has(ReasonCode::TestTooOld) {
                test_report_row(state, shown, ui, out, fg);
            }
        });
    ui.add_space(8.0);
    // The facts, and beside them the live camera with the code outlined (a new pass held up
    // replaces this verdict at once).
    let preview_width = 320.0;
    ui.horizontal_top(|ui| {
        let facts_width = (ui.available_width() - preview_width - 16.0).max(300.0);
        ui.vertical(|ui| {
            ui.set_width(facts_width);
            match (&v.view, level) {
                // Red: only what the officer needs to act (which pass, which truck), no driver
                // data.
                (Some(view), Level::Red) => {
                    big_fact(ui, msg!(lang, gui.verdict.plate), &view.plate, 48.0);
                    fact(ui, msg!(lang, gui.verdict.pass_number), &view.number);
                }
                (Some(view), _) => facts(ui, view, lang),
                (None, _) => {}
            }
        });
        ui.vertical(|ui| {
            ui.set_width(preview_width);
            preview(state, tex, ui, out);
        });
    });
    ui.add_space(8.0);
    let source = match &shown.source {
        InputSource::Camera => msg!(lang, gui.verdict.source_camera).to_owned(),
        InputSource::Scanner => msg!(lang, gui.verdict.source_scanner).to_owned(),
        InputSource::Pasted => msg!(lang, gui.verdict.source_pasted).to_owned(),
        InputSource::File(name) => name.clone(),
    };
    let left = state.countdown(now).unwrap_or(0);
    let total = state.prefs.verdict_timeout_secs.max(1) as f32;
    ui.horizontal(|ui| {
        ui.label(msg!(
            lang,
            gui.verdict.from,
            source = source,
            time = timefmt::minutes(shown.checked.record.scanned_at),
        ));
        ui.separator();
        let countdown = msg!(lang, gui.verdict.countdown, left = left);
        ui.add(
            egui::ProgressBar::new(left as f32 / total)
                .text(countdown)
                .desired_width(260.0),
        );
        if ui
            .button(RichText::new(msg!(lang, gui.verdict.next_scan)).size(18.0))
            .clicked()
        {
            out.emit(Event::Dismiss);
        }
    });
}

/// Under an old test: the newer report the officer saw, recorded, or the field to record its
/// sample time (the verdict stays amber: the officer decides).
fn test_report_row(
    state: &State,
    shown: &Shown,
    ui: &mut egui::Ui,
    out: &mut Out,
    fg: egui::Color32,
) {
    let lang = state.lang;
    match shown.test_report {
        Some(at) => {
            let text = msg!(
                lang,
                gui.verdict.report_recorded,
                sampled = timefmt::minutes(at)
            );
            ui.label(RichText::new(text).size(24.0).strong().color(fg));
        }
        None => {
            ui.horizontal(|ui| {
                let l = ui.label(
                    RichText::new(msg!(lang, gui.verdict.report_seen_at))
                        .size(20.0)
                        .color(fg),
                );
                out.edit(Field::TestSeen, &state.fields.test_seen, |text| {
                    ui.add(
                        egui::TextEdit::singleline(text)
                            .hint_text("2022-03-13 07:30")
                            .desired_width(200.0),
                    )
                    .labelled_by(l.id)
                });
                if ui
                    .button(RichText::new(msg!(lang, gui.verdict.record_report)).size(18.0))
                    .clicked()
                {
                    out.emit(Event::RecordTestReport);
                }
            });
        }
    }
}

fn big_fact(ui: &mut egui::Ui, label: &str, value: &str, size: f32) {
    ui.horizontal(|ui| {
        ui.label(RichText::new(label).size(20.0));
        ui.label(RichText::new(value).size(size).strong());
    });
}

fn fact(ui: &mut egui::Ui, label: &str, value: &str) {
    ui.horizontal(|ui| {
        ui.label(RichText::new(label).size(20.0).weak());
        ui.label(RichText::new(value).size(24.0).strong());
    });
}

fn facts(ui: &mut egui::Ui, view: &OfficerView, lang: Lang) {
    let plate = match &view.trailer {
        Some(t) => msg!(
            lang,
            gui.verdict.plate_trailer,
            plate = view.plate,
            trailer = t
        ),
        None => view.plate.clone(),
    };
    big_fact(ui, msg!(lang, gui.verdict.plate), &plate, 56.0);
    fact(
        ui,
        msg!(lang, gui.verdict.driver),
        &msg!(
            lang,
            gui.verdict.driver_facts,
            name = view.driver_name,
            id = view.driver_id_masked,
            occupants = view.occupants
        ),
    );
    let category = view.category(lang);
    fact(
        ui,
        msg!(lang, gui.verdict.category_cargo),
        &format!("{category} / {}", view.cargo),
    );
    fact(
        ui,
        msg!(lang, gui.verdict.from_to),
        &format!("{} → {}", view.origin, view.destination),
    );
    ui.horizontal_wrapped(|ui| {
        ui.label(
            RichText::new(msg!(lang, gui.verdict.route))
                .size(20.0)
                .weak(),
        );
        for (i, stop) in view.route.iter().enumerate() {
            if i > 0 {
                ui.label(RichText::new("→").size(22.0));
            }
            let text = format!("{} {}", stop.code, stop.name);
            if stop.here {
                ui.label(
                    RichText::new(msg!(lang, gui.verdict.route_here, stop = text))
                        .size(22.0)
                        .strong()
                        .background_color(Color32::from_rgb(0xff, 0xf1, 0x76))
                        .color(Color32::BLACK),
                );
            } else {
                ui.label(RichText::new(text).size(22.0).strong());
            }
        }
    });
    fact(
        ui,
        msg!(lang, gui.verdict.valid),
        &format!("{} — {} (UTC+8)", view.valid_from, view.valid_to),
    );
    let age = msg!(
        lang,
        gui.verdict.test_age_hours,
        hours = view.test_age_hours,
        sampled = view.test_sampled_at
    );
    fact(ui, msg!(lang, gui.verdict.test_age), &age);
    if let Some(arrive_by) = &view.arrive_by {
        let at = msg!(lang, gui.verdict.arrive_by_at, arrive_by = arrive_by);
        fact(ui, msg!(lang, gui.verdict.arrive_by), &at);
    }
    fact(ui, msg!(lang, gui.verdict.pass_number), &view.number);
}
