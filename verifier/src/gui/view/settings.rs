//! Settings: language, checkpoint and officer, clock correction, camera and alert
//! preferences, the trust bundle; on a device not set up yet, the set-up form.

use checkpass::verdict::Lang;
use egui::{Color32, RichText};

use crate::gui::prefs::{RESOLUTIONS, TIMEOUTS};
use crate::gui::state::{Device, Event, Field, State};
use crate::timefmt;

use super::{tr, Out, AMBER, RED};

pub(super) fn screen(state: &State, ui: &mut egui::Ui, out: &mut Out) {
    let lang = state.lang;
    egui::ScrollArea::vertical().show(ui, |ui| {
        ui.heading(tr(lang, "语言 / Language", "Language / 语言"));
        ui.horizontal(|ui| {
            if ui.selectable_label(lang == Lang::Zh, "中文").clicked() {
                out.emit(Event::Lang(Lang::Zh));
            }
            if ui.selectable_label(lang == Lang::En, "English").clicked() {
                out.emit(Event::Lang(Lang::En));
            }
        });
        ui.separator();
        match &state.device {
            Device::Ready(_) => {}
            Device::Opening => {
                ui.label(tr(lang, "正在打开数据目录…", "Opening the data directory…"));
                return;
            }
            Device::Unusable(why) => {
                setup_form(state, why, ui, out, lang);
                return;
            }
        }
        ui.heading(tr(lang, "检查站与执勤人员", "Checkpoint and officer"));
        egui::Grid::new("identity").num_columns(2).show(ui, |ui| {
            identity_rows(ui, state, out, lang);
        });
        if ui.button(tr(lang, "保存", "Save")).clicked() {
            out.emit(Event::SaveIdentity);
        }
        ui.separator();
        clock_form(state, ui, out, lang);
        ui.separator();
        ui.heading(tr(lang, "扫描与提示", "Scanning and alerts"));
        let mut prefs = state.prefs.clone();
        egui::Grid::new("prefs").num_columns(2).show(ui, |ui| {
            ui.label(tr(lang, "摄像头", "Camera"));
            let auto = tr(lang, "自动（第一个）", "Automatic (first)").to_owned();
            egui::ComboBox::from_id_salt("camera")
                .selected_text(prefs.camera.clone().unwrap_or_else(|| auto.clone()))
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut prefs.camera, None, auto);
                    for c in &state.cameras {
                        ui.selectable_value(&mut prefs.camera, Some(c.clone()), c.clone());
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
        if prefs != state.prefs {
            out.emit(Event::Prefs(prefs));
        }
        ui.separator();
        bundle_section(state, ui, out, lang);
    });
}

/// After the device clock was put right (it had run fast), the officer records it: logged,
/// and the clock floor starts afresh so scans stop showing a clock warning.
fn clock_form(state: &State, ui: &mut egui::Ui, out: &mut Out, lang: Lang) {
    ui.heading(tr(lang, "时钟", "Clock"));
    ui.label(format!(
        "{}{}",
        tr(lang, "本机时间 ", "Device time "),
        timefmt::minutes(state.now)
    ));
    egui::Grid::new("clock").num_columns(2).show(ui, |ui| {
        labelled_field(
            ui,
            out,
            tr(lang, "校正理由", "Correction reason"),
            Field::ClockReason,
            &state.fields.clock_reason,
        );
    });
    if ui
        .button(tr(lang, "登记时钟校正", "Record clock correction"))
        .clicked()
    {
        out.emit(Event::CorrectClock);
    }
}

fn bundle_section(state: &State, ui: &mut egui::Ui, out: &mut Out, lang: Lang) {
    let now = state.now;
    ui.heading(tr(lang, "信任包", "Trust bundle"));
    match &state.bundle {
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
        out.edit(Field::BundlePath, &state.fields.bundle_path, |text| {
            ui.add(egui::TextEdit::singleline(text).desired_width(360.0))
                .labelled_by(l.id)
        });
        if ui.button(tr(lang, "导入信任包", "Import bundle")).clicked() {
            out.emit(Event::ImportBundle);
        }
        if ui
            .button(tr(lang, "查找U盘", "Look on USB sticks"))
            .clicked()
        {
            out.emit(Event::FindBundles);
        }
    });
    for p in &state.fields.found_bundles {
        if ui.link(p.display().to_string()).clicked() {
            out.emit(Event::Edit(Field::BundlePath, p.display().to_string()));
        }
    }
}

/// One row of a two-column form grid: a label and the text field it names (for screen
/// readers and the UI tests).
fn labelled_field(ui: &mut egui::Ui, out: &mut Out, label: &str, field: Field, value: &str) {
    let l = ui.label(label);
    out.edit(field, value, |text| {
        ui.text_edit_singleline(text).labelled_by(l.id)
    });
    ui.end_row();
}

/// The checkpoint code and officer rows, shared by setup and settings.
fn identity_rows(ui: &mut egui::Ui, state: &State, out: &mut Out, lang: Lang) {
    labelled_field(
        ui,
        out,
        tr(lang, "检查站编码", "Checkpoint code"),
        Field::Checkpoint,
        &state.fields.checkpoint,
    );
    labelled_field(
        ui,
        out,
        tr(lang, "执勤人员编号", "Officer ID"),
        Field::Officer,
        &state.fields.officer,
    );
}

fn setup_form(state: &State, why: &str, ui: &mut egui::Ui, out: &mut Out, lang: Lang) {
    ui.heading(tr(lang, "初始化本机", "Set up this device"));
    ui.label(RichText::new(why.to_owned()).color(RED));
    egui::Grid::new("setup").num_columns(2).show(ui, |ui| {
        labelled_field(
            ui,
            out,
            tr(lang, "根公钥文件", "Root public key file"),
            Field::RootKeyPath,
            &state.fields.root_key_path,
        );
        identity_rows(ui, state, out, lang);
    });
    if ui.button(tr(lang, "初始化", "Initialise")).clicked() {
        out.emit(Event::InitDevice);
    }
}
