//! Today's scans: verdict filter, search by pass number, CSV export.

use checkpass::verdict::{Lang, Level};
use egui::RichText;

use crate::gui::state::{Event, Field, State};
use crate::store::LoggedVerdict;
use crate::timefmt;

use super::{level_colors, tr, Out};

pub(super) fn screen(state: &State, ui: &mut egui::Ui, out: &mut Out) {
    let lang = state.lang;
    ui.horizontal(|ui| {
        for (f, zh, en) in [
            (None, "全部", "All"),
            (Some(LoggedVerdict::Green), "只看通过", "Green only"),
            (Some(LoggedVerdict::Amber), "只看注意", "Amber only"),
            (Some(LoggedVerdict::Red), "只看拒绝", "Red only"),
        ] {
            if ui
                .selectable_label(state.filter == f, tr(lang, zh, en))
                .clicked()
            {
                out.emit(Event::Filter(f));
            }
        }
        ui.separator();
        let l = ui.label(tr(lang, "导出到", "Export to"));
        out.edit(Field::ExportPath, &state.fields.export_path, |text| {
            ui.add(egui::TextEdit::singleline(text).desired_width(320.0))
                .labelled_by(l.id)
        });
        if ui.button(tr(lang, "导出 CSV", "Export CSV")).clicked() {
            out.emit(Event::ExportCsv);
        }
    });
    ui.horizontal(|ui| {
        let l = ui.label(tr(lang, "按通行证编号查找", "Find by pass number"));
        let mut search = state.search.clone();
        let r = ui
            .add(
                egui::TextEdit::singleline(&mut search)
                    .hint_text("371003-000001-6")
                    .desired_width(200.0),
            )
            .labelled_by(l.id);
        out.text_focus |= r.has_focus();
        if r.changed() {
            out.emit(Event::Search(search));
        }
        if !state.search.is_empty() && ui.button(tr(lang, "清除", "Clear")).clicked() {
            out.emit(Event::Search(String::new()));
        }
    });
    if let Some(problem) = state.search_problem() {
        ui.colored_label(egui::Color32::from_rgb(0xb0, 0x30, 0x20), problem);
    }
    ui.separator();
    let rows = state.filtered_history();
    ui.label(match (lang, &state.search_number) {
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
