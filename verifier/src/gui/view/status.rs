//! The status bar (screens, checkpoint, pinned root, bundle age, clock, camera) and the notice
//! line under the window.

use checkpass::verdict::Lang;
use egui::{Align, Color32, Layout, RichText};

use crate::engine::ClockProblem;
use crate::gui::state::{CameraStatus, Device, Event, Screen, State};
use crate::timefmt;

use super::{tr, Out, AMBER, GREEN, RED};

pub(super) fn status_bar(state: &State, ui: &mut egui::Ui, out: &mut Out) {
    let lang = state.lang;
    let now = state.now;
    ui.horizontal(|ui| {
        for (screen, zh, en) in [
            (Screen::Scan, "扫描", "Scan"),
            (Screen::History, "今日记录", "Today's scans"),
            (Screen::Settings, "设置", "Settings"),
        ] {
            let label = RichText::new(tr(lang, zh, en)).size(18.0);
            if ui.selectable_label(state.screen == screen, label).clicked() {
                out.emit(Event::Show(screen));
            }
        }
        ui.separator();
        if let Device::Ready(device) = &state.device {
            let cp = &device.checkpoint;
            ui.label(RichText::new(format!("{}{cp}", tr(lang, "检查站 ", "Checkpoint "))).strong());
            if let Some(d) = device.direction {
                ui.label(RichText::new(d.label(lang)).strong());
            }
            // The pinned root, always in sight: an officer compares it with the printed one.
            let root = &device.root_kid;
            ui.label(format!("{}{root}", tr(lang, "根密钥 ", "Root key ")));
            if device.allow_dev_keys {
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
        match &state.bundle {
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
        if let Some(problem) = state.clock {
            let reference = match problem {
                ClockProblem::BehindLog { newest_scan_at } => newest_scan_at,
                ClockProblem::BehindBundle { issued_at } => issued_at,
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
        if state.simulated_clock {
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
            ui.label(camera_text(&state.camera, lang));
        });
    });
}

pub(super) fn camera_text(status: &CameraStatus, lang: Lang) -> String {
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

pub(super) fn notice_bar(state: &State, ui: &mut egui::Ui) {
    let lang = state.lang;
    ui.horizontal(|ui| {
        if let Some(n) = &state.notice {
            let color = if n.ok { GREEN } else { RED };
            ui.label(RichText::new(n.text.clone()).color(color).size(16.0));
        } else {
            ui.label(tr(
                lang,
                "可用摄像头、手持扫码枪、拖入图片或粘贴二维码文本核验",
                "Scan with the camera or a handheld scanner, drop an image, or paste the QR text",
            ));
        }
        let pending = state.pending_scanner_text();
        if !pending.is_empty() {
            ui.label(format!(
                "{} {}",
                tr(lang, "扫码枪输入中：", "Scanner typing:"),
                pending.chars().count()
            ));
        }
        ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
            ui.label(format!("{} {}", tr(lang, "帧", "frames"), state.frames));
        });
    });
}
