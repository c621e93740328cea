//! Drawing: the window as a function of [`Gui`]'s state. Clicks and keys become events for
//! [`super::state::State::handle`] or calls on [`Gui`]; nothing is decided here.

use checkpass::verdict::{Lang, Level, OfficerView};
use egui::{Align, Color32, Layout, RichText, Stroke, Vec2};

use crate::store::LoggedVerdict;
use crate::timefmt;

use super::app::Gui;
use super::prefs::{RESOLUTIONS, TIMEOUTS};
use super::state::{CameraStatus, Event, InputSource, Screen, Shown};

const GREEN: Color32 = Color32::from_rgb(0x1b, 0x8a, 0x3a);
const AMBER: Color32 = Color32::from_rgb(0xf2, 0xa9, 0x00);
const RED: Color32 = Color32::from_rgb(0xc6, 0x28, 0x28);

/// Chinese or English.
pub fn tr(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

fn level_colors(level: Level) -> (Color32, Color32) {
    match level {
        Level::Green => (GREEN, Color32::WHITE),
        Level::Amber => (AMBER, Color32::BLACK),
        Level::Red => (RED, Color32::WHITE),
    }
}

/// Draws one frame of the window.
pub fn show(gui: &mut Gui, ui: &mut egui::Ui) {
    read_input(gui, ui.ctx());
    gui.pump();
    let mut text_focus = false;
    egui::Panel::top("status").show(ui, |ui| status_bar(gui, ui));
    egui::Panel::bottom("notice").show(ui, |ui| notice_bar(gui, ui));
    egui::CentralPanel::default_margins().show(ui, |ui| match gui.state.screen {
        Screen::Scan => scan_screen(gui, ui, &mut text_focus),
        Screen::History => history_screen(gui, ui, &mut text_focus),
        Screen::Settings => settings_screen(gui, ui, &mut text_focus),
    });
    gui.text_focus = text_focus;
    // Keep the countdown moving each second, and the bundle age and clock status fresh.
    let next = if gui.state.shown.is_some() { 1 } else { 30 };
    ui.ctx()
        .request_repaint_after(std::time::Duration::from_secs(next));
}

/// Keys typed outside text boxes (a handheld scanner), pasted text and dropped files.
fn read_input(gui: &mut Gui, ctx: &egui::Context) {
    let (events, dropped) = ctx.input(|i| (i.events.clone(), i.raw.dropped_files.clone()));
    for f in dropped {
        let path = f.path();
        if !path.as_os_str().is_empty() {
            gui.dropped(path.to_path_buf());
        }
    }
    if gui.text_focus {
        return;
    }
    for e in events {
        match e {
            egui::Event::Text(t) => gui.event(Event::Typed(t)),
            egui::Event::Paste(t) => gui.event(Event::Pasted(t)),
            egui::Event::Key {
                key: egui::Key::Enter,
                pressed: true,
                ..
            } => gui.event(Event::Enter),
            _ => {}
        }
    }
    // What a scanner typed is the scanner's: a focused button must not also take its Enter or
    // Space (base45 has spaces) as a click.
    ctx.input_mut(|i| i.events.retain(|e| !is_scanner_input(e)));
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

fn status_bar(gui: &mut Gui, ui: &mut egui::Ui) {
    let lang = gui.state.lang;
    let now = gui.now();
    ui.horizontal(|ui| {
        for (screen, zh, en) in [
            (Screen::Scan, "扫描", "Scan"),
            (Screen::History, "今日记录", "Today's scans"),
            (Screen::Settings, "设置", "Settings"),
        ] {
            let label = RichText::new(tr(lang, zh, en)).size(18.0);
            if ui
                .selectable_label(gui.state.screen == screen, label)
                .clicked()
            {
                gui.event(Event::Show(screen));
            }
        }
        ui.separator();
        if let Ok(engine) = gui.engine() {
            let cp = engine.settings().checkpoint.clone();
            ui.label(RichText::new(format!("{}{cp}", tr(lang, "检查站 ", "Checkpoint "))).strong());
            // The pinned root, always in sight: an officer compares it with the printed one.
            let root = engine.settings().root_key.kid();
            ui.label(format!("{}{root}", tr(lang, "根密钥 ", "Root key ")));
            if engine.settings().allow_dev_keys {
                ui.label(
                    RichText::new(tr(
                        lang,
                        "测试配置：信任开发密钥",
                        "TEST SETUP: dev keys trusted",
                    ))
                    .background_color(RED)
                    .color(Color32::WHITE),
                );
            }
        }
        ui.separator();
        match &gui.state.bundle {
            Some(b) => {
                let en = lang == Lang::En;
                let text = format!(
                    "{} {} · {} {}",
                    tr(lang, "信任包 序号", "Bundle #"),
                    b.sequence,
                    timefmt::duration(b.age_secs(now), en),
                    tr(lang, "前", "old")
                );
                if b.is_stale(now) {
                    let stale = format!(
                        "{text} · {}",
                        tr(lang, "已过期，请更新", "stale: update it")
                    );
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
                    RichText::new(tr(lang, "未安装信任包", "No trust bundle installed"))
                        .background_color(AMBER)
                        .color(Color32::BLACK),
                );
            }
        }
        if let Some(problem) = gui.state.clock {
            let reference = match problem {
                crate::engine::ClockProblem::BehindLog { newest_scan_at } => newest_scan_at,
                crate::engine::ClockProblem::BehindBundle { issued_at } => issued_at,
            };
            ui.label(
                RichText::new(format!(
                    "{} {}",
                    tr(
                        lang,
                        "时钟异常：本机时间早于",
                        "Clock warning: earlier than"
                    ),
                    timefmt::minutes(reference)
                ))
                .background_color(AMBER)
                .color(Color32::BLACK),
            );
        }
        if gui.simulated_clock() {
            ui.label(
                RichText::new(format!(
                    "{} {}",
                    tr(lang, "模拟时间", "Simulated time"),
                    timefmt::minutes(now)
                ))
                .background_color(Color32::from_rgb(0x44, 0x44, 0xaa))
                .color(Color32::WHITE),
            );
        }
        ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
            ui.label(camera_text(&gui.state.camera, lang));
        });
    });
}

fn camera_text(status: &CameraStatus, lang: Lang) -> String {
    match status {
        CameraStatus::Starting => tr(lang, "正在打开摄像头…", "Opening camera…").into(),
        CameraStatus::Running {
            name,
            width,
            height,
        } => format!(
            "{}{name} {width}×{height}",
            tr(lang, "摄像头：", "Camera: ")
        ),
        CameraStatus::Recorded(name) => format!("{}{name}", tr(lang, "录制帧：", "Recording: ")),
        CameraStatus::NotFound => tr(lang, "未找到摄像头", "No camera found").into(),
        CameraStatus::Busy(_) => tr(lang, "摄像头被占用或无法打开", "Camera busy").into(),
        CameraStatus::Stopped(why) if why.is_empty() => {
            tr(lang, "扫描已停止", "Scanning stopped").into()
        }
        CameraStatus::Stopped(why) => {
            format!("{}{why}", tr(lang, "扫描已停止：", "Scanning stopped: "))
        }
    }
}

fn notice_bar(gui: &mut Gui, ui: &mut egui::Ui) {
    let lang = gui.state.lang;
    ui.horizontal(|ui| {
        if let Some(n) = &gui.state.notice {
            let color = if n.ok { GREEN } else { RED };
            ui.label(RichText::new(n.text.clone()).color(color).size(16.0));
        } else {
            ui.label(tr(
                lang,
                "可用摄像头、手持扫码枪、拖入图片或粘贴二维码文本核验",
                "Scan with the camera or a handheld scanner, drop an image, or paste the QR text",
            ));
        }
        let pending = gui.state.pending_scanner_text();
        if !pending.is_empty() {
            ui.label(format!(
                "{} {}",
                tr(lang, "扫码枪输入中：", "Scanner typing:"),
                pending.chars().count()
            ));
        }
        ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
            ui.label(format!("{} {}", tr(lang, "帧", "frames"), gui.state.frames));
        });
    });
}

fn scan_screen(gui: &mut Gui, ui: &mut egui::Ui, text_focus: &mut bool) {
    if let Some(shown) = gui.state.shown.clone() {
        verdict_panel(gui, ui, &shown);
        gui.verdict_drawn();
        return;
    }
    let lang = gui.state.lang;
    ui.columns(2, |cols| {
        preview(gui, &mut cols[0]);
        other_inputs(gui, &mut cols[1], text_focus, lang);
    });
}

fn preview(gui: &mut Gui, ui: &mut egui::Ui) {
    let lang = gui.state.lang;
    match &gui.state.camera {
        CameraStatus::NotFound | CameraStatus::Busy(_) => {
            let (title, detail) = match &gui.state.camera {
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
                gui.start_scanner();
            }
        }
        _ => {
            if gui.preview_dirty {
                if let Some(p) = &gui.preview {
                    let image =
                        egui::ColorImage::from_gray([p.width as usize, p.height as usize], &p.gray);
                    match &mut gui.texture {
                        Some(t) => t.set(image, egui::TextureOptions::LINEAR),
                        None => {
                            gui.texture = Some(ui.ctx().load_texture(
                                "camera",
                                image,
                                egui::TextureOptions::LINEAR,
                            ))
                        }
                    }
                }
                gui.preview_dirty = false;
            }
            match &gui.texture {
                Some(tex) => {
                    let avail = ui.available_width();
                    let size = tex.size_vec2();
                    let scale = (avail / size.x).min(1.5);
                    let resp = ui.add(egui::Image::new((tex.id(), size * scale)));
                    // Where the QR was found, scaled from frame to preview coordinates.
                    if let Some(o) = &gui.state.overlay {
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
                    ui.label(RichText::new(camera_text(&gui.state.camera, lang)).size(24.0));
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

fn other_inputs(gui: &mut Gui, ui: &mut egui::Ui, text_focus: &mut bool, lang: Lang) {
    ui.heading(tr(lang, "其他方式", "Other ways in"));
    ui.label(tr(
        lang,
        "手持扫码枪：直接扫码即可（无需点选输入框）。",
        "Handheld scanner: just scan (no need to click a box).",
    ));
    ui.add_space(8.0);
    let l = ui.label(tr(lang, "粘贴二维码文本：", "Paste the QR text:"));
    let r = ui
        .add(
            egui::TextEdit::multiline(&mut gui.fields.paste)
                .desired_rows(3)
                .desired_width(f32::INFINITY)
                .hint_text("TP1:…"),
        )
        .labelled_by(l.id);
    *text_focus |= r.has_focus();
    if ui.button(tr(lang, "核验文本", "Check text")).clicked() {
        let text = std::mem::take(&mut gui.fields.paste);
        gui.event(Event::Pasted(text));
    }
    ui.add_space(8.0);
    let l = ui.label(tr(
        lang,
        "图像文件（也可直接拖入窗口）：",
        "Image file (or drop it on the window):",
    ));
    ui.horizontal(|ui| {
        let r = ui
            .add(egui::TextEdit::singleline(&mut gui.fields.image_path).desired_width(280.0))
            .labelled_by(l.id);
        *text_focus |= r.has_focus();
        if ui.button(tr(lang, "打开图像", "Open image")).clicked() {
            let p = std::path::PathBuf::from(gui.fields.image_path.trim());
            gui.open_image(p);
        }
    });
}

fn verdict_panel(gui: &mut Gui, ui: &mut egui::Ui, shown: &Shown) {
    let lang = gui.state.lang;
    let now = gui.now();
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
            preview(gui, ui);
        });
    });
    ui.add_space(8.0);
    let source = match &shown.source {
        InputSource::Camera => tr(lang, "摄像头", "camera").to_owned(),
        InputSource::Scanner => tr(lang, "扫码枪", "handheld scanner").to_owned(),
        InputSource::Pasted => tr(lang, "粘贴文本", "pasted text").to_owned(),
        InputSource::File(name) => name.clone(),
    };
    let left = gui.state.countdown(now).unwrap_or(0);
    let total = gui.state.prefs.verdict_timeout_secs.max(1) as f32;
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
            gui.event(Event::Dismiss);
        }
    });
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

fn history_screen(gui: &mut Gui, ui: &mut egui::Ui, text_focus: &mut bool) {
    let lang = gui.state.lang;
    ui.horizontal(|ui| {
        for (f, zh, en) in [
            (None, "全部", "All"),
            (Some(LoggedVerdict::Green), "只看通过", "Green only"),
            (Some(LoggedVerdict::Amber), "只看注意", "Amber only"),
            (Some(LoggedVerdict::Red), "只看拒绝", "Red only"),
        ] {
            if ui
                .selectable_label(gui.state.filter == f, tr(lang, zh, en))
                .clicked()
            {
                gui.event(Event::Filter(f));
            }
        }
        ui.separator();
        let l = ui.label(tr(lang, "导出到", "Export to"));
        let r = ui
            .add(egui::TextEdit::singleline(&mut gui.fields.export_path).desired_width(320.0))
            .labelled_by(l.id);
        *text_focus |= r.has_focus();
        if ui.button(tr(lang, "导出 CSV", "Export CSV")).clicked() {
            gui.export_csv();
        }
    });
    ui.horizontal(|ui| {
        let l = ui.label(tr(lang, "按通行证编号查找", "Find by pass number"));
        let mut search = gui.state.search.clone();
        let r = ui
            .add(
                egui::TextEdit::singleline(&mut search)
                    .hint_text("371003-000001-6")
                    .desired_width(200.0),
            )
            .labelled_by(l.id);
        *text_focus |= r.has_focus();
        if r.changed() {
            gui.event(Event::Search(search));
        }
        if !gui.state.search.is_empty() && ui.button(tr(lang, "清除", "Clear")).clicked() {
            gui.event(Event::Search(String::new()));
        }
    });
    if let Some(problem) = gui.state.search_problem() {
        ui.colored_label(egui::Color32::from_rgb(0xb0, 0x30, 0x20), problem);
    }
    ui.separator();
    let rows = gui.state.filtered_history();
    ui.label(match (lang, &gui.state.search_number) {
        (Lang::Zh, Some(Ok(n))) => format!("今日通行证 {n} 的记录 {} 条", rows.len()),
        (Lang::En, Some(Ok(n))) => format!("{} scans of pass {n} today", rows.len()),
        (Lang::Zh, _) => format!("今日共 {} 条", rows.len()),
        (Lang::En, _) => format!("{} scans today", rows.len()),
    });
    egui::ScrollArea::vertical().show(ui, |ui| {
        egui::Grid::new("history")
            .striped(true)
            .num_columns(4)
            .show(ui, |ui| {
                for h in [
                    tr(lang, "时间", "Time"),
                    tr(lang, "车牌", "Plate"),
                    tr(lang, "通行证号", "Serial"),
                    tr(lang, "结论", "Verdict"),
                ] {
                    ui.label(RichText::new(h).strong());
                }
                ui.end_row();
                for r in rows {
                    let time = timefmt::minutes(r.scanned_at);
                    ui.label(time.get(11..).unwrap_or(&time).to_owned());
                    ui.label(r.plate.clone().unwrap_or_else(|| "—".into()));
                    ui.label(r.serial.clone().unwrap_or_else(|| "—".into()));
                    let level = match r.verdict {
                        LoggedVerdict::Green => Level::Green,
                        LoggedVerdict::Amber => Level::Amber,
                        LoggedVerdict::Red => Level::Red,
                    };
                    let (bg, fg) = level_colors(level);
                    ui.label(
                        RichText::new(format!(" {} ", level.word(lang)))
                            .background_color(bg)
                            .color(fg),
                    );
                    ui.end_row();
                }
            });
    });
}

/// After the device clock was put right (it had run fast), the officer records it: logged,
/// and the clock floor starts afresh so scans stop showing a clock warning.
fn clock_form(gui: &mut Gui, ui: &mut egui::Ui, text_focus: &mut bool, lang: Lang) {
    ui.heading(tr(lang, "时钟", "Clock"));
    ui.label(format!(
        "{}{}",
        tr(lang, "本机时间 ", "Device time "),
        timefmt::minutes(gui.now())
    ));
    egui::Grid::new("clock").num_columns(2).show(ui, |ui| {
        *text_focus |= labelled_field(
            ui,
            tr(lang, "校正理由", "Correction reason"),
            &mut gui.fields.clock_reason,
        );
    });
    if ui
        .button(tr(lang, "登记时钟校正", "Record clock correction"))
        .clicked()
    {
        gui.record_clock_correction();
    }
}

fn settings_screen(gui: &mut Gui, ui: &mut egui::Ui, text_focus: &mut bool) {
    let lang = gui.state.lang;
    egui::ScrollArea::vertical().show(ui, |ui| {
        ui.heading(tr(lang, "语言 / Language", "Language / 语言"));
        ui.horizontal(|ui| {
            if ui.selectable_label(lang == Lang::Zh, "中文").clicked() {
                gui.event(Event::Lang(Lang::Zh));
            }
            if ui.selectable_label(lang == Lang::En, "English").clicked() {
                gui.event(Event::Lang(Lang::En));
            }
        });
        ui.separator();
        if gui.engine().is_err() {
            setup_form(gui, ui, text_focus, lang);
            return;
        }
        ui.heading(tr(lang, "检查站与执勤人员", "Checkpoint and officer"));
        egui::Grid::new("identity").num_columns(2).show(ui, |ui| {
            *text_focus |= identity_rows(ui, gui, lang);
        });
        if ui.button(tr(lang, "保存", "Save")).clicked() {
            gui.save_identity();
        }
        ui.separator();
        clock_form(gui, ui, text_focus, lang);
        ui.separator();
        ui.heading(tr(lang, "扫描与提示", "Scanning and alerts"));
        let mut prefs = gui.state.prefs.clone();
        egui::Grid::new("prefs").num_columns(2).show(ui, |ui| {
            ui.label(tr(lang, "摄像头", "Camera"));
            let auto = tr(lang, "自动（第一个）", "Automatic (first)").to_owned();
            egui::ComboBox::from_id_salt("camera")
                .selected_text(prefs.camera.clone().unwrap_or_else(|| auto.clone()))
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut prefs.camera, None, auto);
                    for c in &gui.cameras {
                        ui.selectable_value(
                            &mut prefs.camera,
                            Some(c.name.clone()),
                            c.name.clone(),
                        );
                    }
                });
            ui.end_row();
            ui.label(tr(lang, "分辨率", "Resolution"));
            egui::ComboBox::from_id_salt("resolution")
                .selected_text(format!("{}×{}", prefs.resolution.0, prefs.resolution.1))
                .show_ui(ui, |ui| {
                    for r in RESOLUTIONS {
                        ui.selectable_value(&mut prefs.resolution, r, format!("{}×{}", r.0, r.1));
                    }
                });
            ui.end_row();
            ui.label(tr(lang, "结论显示时间", "Verdict shown for"));
            egui::ComboBox::from_id_salt("timeout")
                .selected_text(format!("{} s", prefs.verdict_timeout_secs))
                .show_ui(ui, |ui| {
                    for t in TIMEOUTS {
                        ui.selectable_value(&mut prefs.verdict_timeout_secs, t, format!("{t} s"));
                    }
                });
            ui.end_row();
            ui.label(tr(lang, "提示音", "Sound"));
            ui.checkbox(&mut prefs.sound, tr(lang, "开启", "On"));
            ui.end_row();
        });
        if prefs != gui.state.prefs {
            gui.event(Event::Prefs(prefs));
        }
        ui.separator();
        bundle_section(gui, ui, text_focus, lang);
    });
}

fn bundle_section(gui: &mut Gui, ui: &mut egui::Ui, text_focus: &mut bool, lang: Lang) {
    let now = gui.now();
    ui.heading(tr(lang, "信任包", "Trust bundle"));
    match &gui.state.bundle {
        Some(b) => {
            let text = match lang {
                Lang::Zh => format!(
                    "序号 {}，签发于 {} (UTC+8)，{} 个签发密钥，{} 个检查站，{} 条撤销",
                    b.sequence,
                    timefmt::minutes(b.issued_at),
                    b.keys,
                    b.checkpoints,
                    b.revoked
                ),
                Lang::En => format!(
                    "Sequence {}, issued {} (UTC+8), {} keys, {} checkpoints, {} revocations",
                    b.sequence,
                    timefmt::minutes(b.issued_at),
                    b.keys,
                    b.checkpoints,
                    b.revoked
                ),
            };
            let label = RichText::new(text);
            ui.label(if b.is_stale(now) {
                label.background_color(AMBER).color(Color32::BLACK)
            } else {
                label
            });
        }
        None => {
            ui.label(tr(
                lang,
                "未安装信任包，无法核验",
                "No trust bundle: checks cannot run",
            ));
        }
    }
    ui.label(tr(
        lang,
        "从U盘导入信任包文件 (.cose)，也可直接拖入窗口：",
        "Import a bundle file (.cose) from a USB stick, or drop it on the window:",
    ));
    ui.horizontal(|ui| {
        let l = ui.label(tr(lang, "信任包文件", "Bundle file"));
        let r = ui
            .add(egui::TextEdit::singleline(&mut gui.fields.bundle_path).desired_width(360.0))
            .labelled_by(l.id);
        *text_focus |= r.has_focus();
        if ui.button(tr(lang, "导入信任包", "Import bundle")).clicked() {
            let p = std::path::PathBuf::from(gui.fields.bundle_path.trim());
            gui.import_bundle(&p);
        }
        if ui
            .button(tr(lang, "查找U盘", "Look on USB sticks"))
            .clicked()
        {
            gui.find_bundles();
        }
    });
    let found = gui.fields.found_bundles.clone();
    for p in found {
        if ui.link(p.display().to_string()).clicked() {
            gui.fields.bundle_path = p.display().to_string();
        }
    }
}

/// One row of a two-column form grid: a label and the text field it names (for screen
/// readers and the UI tests). Returns whether the field has the keyboard focus.
fn labelled_field(ui: &mut egui::Ui, label: &str, value: &mut String) -> bool {
    let l = ui.label(label);
    let r = ui.text_edit_singleline(value).labelled_by(l.id);
    ui.end_row();
    r.has_focus()
}

/// The checkpoint code and officer rows, shared by setup and settings. Returns whether one of
/// them has the keyboard focus.
fn identity_rows(ui: &mut egui::Ui, gui: &mut Gui, lang: Lang) -> bool {
    let checkpoint = labelled_field(
        ui,
        tr(lang, "检查站编码", "Checkpoint code"),
        &mut gui.fields.checkpoint,
    );
    let officer = labelled_field(
        ui,
        tr(lang, "执勤人员编号", "Officer ID"),
        &mut gui.fields.officer,
    );
    checkpoint || officer
}

fn setup_form(gui: &mut Gui, ui: &mut egui::Ui, text_focus: &mut bool, lang: Lang) {
    ui.heading(tr(lang, "初始化本机", "Set up this device"));
    if let Err(why) = gui.engine() {
        ui.label(RichText::new(why.to_owned()).color(RED));
    }
    egui::Grid::new("setup").num_columns(2).show(ui, |ui| {
        *text_focus |= labelled_field(
            ui,
            tr(lang, "根公钥文件", "Root public key file"),
            &mut gui.fields.root_key_path,
        );
        *text_focus |= identity_rows(ui, gui, lang);
    });
    if ui.button(tr(lang, "初始化", "Initialise")).clicked() {
        gui.init_device();
    }
}
