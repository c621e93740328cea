//! The scan screen: the camera preview with the code outlined and the other ways in (handheld
//! scanner, paste box, image file); or, while one is shown, the verdict with the facts.

use checkpass::verdict::{Lang, Level, OfficerView, ReasonCode};
use egui::{Color32, RichText, Stroke, Vec2};

use crate::gui::state::{CameraStatus, Event, Field, InputSource, Shown, State};
use crate::timefmt;

use super::status::camera_text;
use super::{level_colors, tr, Out, RED};

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
                    tr(lang, "摄像头无法打开", "Camera cannot be opened"),
                    format!(
                        "{} ({why})",
                        tr(
                            lang,
                            "可能正被其他程序使用。请关闭其他程序后重新打开，或使用右侧的其他方式。",
                            "Another program may be using it. Close it and retry, or use another way on the right.",
                        )
                    ),
                ),
                _ => (
                    tr(lang, "未找到摄像头", "No camera found"),
                    String::from(tr(
                        lang,
                        "请连接摄像头，或使用右侧的其他方式：手持扫码枪、打开或拖入图片、粘贴二维码文本。",
                        "Connect a camera, or use another way on the right: a handheld scanner, an image file, or paste the QR text.",
                    )),
                ),
            };
            ui.label(RichText::new(title).size(32.0).strong().color(RED));
            ui.label(RichText::new(detail).size(18.0));
            if ui
                .button(tr(lang, "重新打开摄像头", "Retry camera"))
                .clicked()
            {
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
            ui.label(
                RichText::new(tr(
                    lang,
                    "请将通行证二维码对准摄像头",
                    "Hold the pass QR code to the camera",
                ))
                .size(20.0),
            );
        }
    }
}

fn other_inputs(state: &State, ui: &mut egui::Ui, out: &mut Out, lang: Lang) {
    ui.heading(tr(lang, "其他方式", "Other ways in"));
    ui.label(tr(
        lang,
        "手持扫码枪：直接扫码即可（无需点选输入框）。",
        "Handheld scanner: just scan (no need to click a box).",
    ));
    ui.add_space(8.0);
    let l = ui.label(tr(lang, "粘贴二维码文本：", "Paste the QR text:"));
    out.edit(Field::Paste, &state.fields.paste, |text| {
        ui.add(
            egui::TextEdit::multiline(text)
                .desired_rows(3)
                .desired_width(f32::INFINITY)
                .hint_text("TP1:…"),
        )
        .labelled_by(l.id)
    });
    if ui.button(tr(lang, "核验文本", "Check text")).clicked() {
        out.emit(Event::SubmitPaste);
    }
    ui.add_space(8.0);
    let l = ui.label(tr(
        lang,
        "图像文件（也可直接拖入窗口）：",
        "Image file (or drop it on the window):",
    ));
    ui.horizontal(|ui| {
        out.edit(Field::ImagePath, &state.fields.image_path, |text| {
            ui.add(egui::TextEdit::singleline(text).desired_width(280.0))
                .labelled_by(l.id)
        });
        if ui.button(tr(lang, "打开图像", "Open image")).clicked() {
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
                    RichText::new(tr(lang, "所有核验项均通过", "Every check passed"))
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
                    big_fact(ui, tr(lang, "车牌", "Plate"), &view.plate, 48.0);
                    fact(ui, tr(lang, "通行证编号", "Pass number"), &view.number);
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
        InputSource::Camera => tr(lang, "摄像头", "camera").to_owned(),
        InputSource::Scanner => tr(lang, "扫码枪", "handheld scanner").to_owned(),
        InputSource::Pasted => tr(lang, "粘贴文本", "pasted text").to_owned(),
        InputSource::File(name) => name.clone(),
    };
    let left = state.countdown(now).unwrap_or(0);
    let total = state.prefs.verdict_timeout_secs.max(1) as f32;
    ui.horizontal(|ui| {
        ui.label(format!(
            "{}{source} · {} {}",
            tr(lang, "来源：", "From: "),
            timefmt::minutes(shown.checked.record.scanned_at),
            tr(lang, "(UTC+8)", "(UTC+8)")
        ));
        ui.separator();
        let countdown = match lang {
            Lang::Zh => format!("{left} 秒后返回扫描"),
            Lang::En => format!("Back to scanning in {left} s"),
        };
        ui.add(
            egui::ProgressBar::new(left as f32 / total)
                .text(countdown)
                .desired_width(260.0),
        );
        if ui
            .button(RichText::new(tr(lang, "继续扫描", "Next scan")).size(18.0))
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
            let text = match lang {
                Lang::Zh => format!("已记录民警所见核酸报告：采样 {}", timefmt::minutes(at)),
                Lang::En => format!(
                    "Newer test report seen and recorded: sampled {}",
                    timefmt::minutes(at)
                ),
            };
            ui.label(RichText::new(text).size(24.0).strong().color(fg));
        }
        None => {
            ui.horizontal(|ui| {
                let l = ui.label(
                    RichText::new(tr(
                        lang,
                        "所见新核酸报告采样时间",
                        "Newer report seen, sampled at",
                    ))
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
                    .button(
                        RichText::new(tr(lang, "记录所见报告", "Record the report seen"))
                            .size(18.0),
                    )
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
        Some(t) => format!("{}  {} {t}", view.plate, tr(lang, "挂", "trailer")),
        None => view.plate.clone(),
    };
    big_fact(ui, tr(lang, "车牌", "Plate"), &plate, 56.0);
    fact(
        ui,
        tr(lang, "驾驶人", "Driver"),
        &format!(
            "{}   {}   {} {}",
            view.driver_name,
            view.driver_id_masked,
            tr(lang, "随车人数", "occupants"),
            view.occupants
        ),
    );
    let category = view.category(lang);
    fact(
        ui,
        tr(lang, "类别 / 货物", "Category / cargo"),
        &format!("{category} / {}", view.cargo),
    );
    fact(
        ui,
        tr(lang, "起点 → 终点", "From → to"),
        &format!("{} → {}", view.origin, view.destination),
    );
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new(tr(lang, "路线", "Route")).size(20.0).weak());
        for (i, stop) in view.route.iter().enumerate() {
            if i > 0 {
                ui.label(RichText::new("→").size(22.0));
            }
            let text = format!("{} {}", stop.code, stop.name);
            if stop.here {
                ui.label(
                    RichText::new(format!("{text} [{}]", tr(lang, "本站", "here")))
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
        tr(lang, "有效期", "Valid"),
        &format!("{} — {} (UTC+8)", view.valid_from, view.valid_to),
    );
    let age = match lang {
        Lang::Zh => format!(
            "{} 小时（采样 {}）",
            view.test_age_hours, view.test_sampled_at
        ),
        Lang::En => format!(
            "{} h (sampled {})",
            view.test_age_hours, view.test_sampled_at
        ),
    };
    fact(ui, tr(lang, "核酸采样距今", "Test age"), &age);
    fact(ui, tr(lang, "通行证编号", "Pass number"), &view.number);
}
