//! Today's scans: verdict filter, search by pass number, CSV export.

use checkpass::msg;
use checkpass::verdict::Level;
use egui::RichText;

use crate::gui::state::{Event, Field, State};
use crate::store::LoggedVerdict;
use crate::timefmt;

use super::{level_colors, Out};

pub(super) fn screen(state: &State, ui: &mut egui::Ui, out: &mut Out) {
    let lang = state.lang;
    ui.horizontal(|ui| {
        for (f, name) in [
            (None, msg!(lang, gui.history.all)),
            (
                Some(LoggedVerdict::Green),
                msg!(lang, gui.history.green_only),
            ),
            (
                Some(LoggedVerdict::Amber),
                msg!(lang, gui.history.amber_only),
            ),
            (Some(LoggedVerdict::Red), msg!(lang, gui.history.red_only)),
        ] {
            if ui.selectable_label(state.filter == f, name).clicked() {
                out.emit(Event::Filter(f));
            }
        }
        ui.separator();
        let l = ui.label(msg!(lang, gui.history.export_to));
        out.edit(Field::ExportPath, &state.fields.export_path, |text| {
            ui.add(egui::TextEdit::singleline(text).desired_width(320.0))
                .labelled_by(l.id)
        });
        if ui.button(msg!(lang, gui.history.export_csv)).clicked() {
            out.emit(Event::ExportCsv);
        }
    });
    ui.horizontal(|ui| {
        let l = ui.label(msg!(lang, gui.history.find_by_number));
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
        if !state.search.is_empty() && ui.button(msg!(lang, gui.history.clear)).clicked() {
            out.emit(Event::Search(String::new()));
        }
    });
    if let Some(problem) = state.search_problem() {
        ui.colored_label(egui::Color32::from_rgb(0xb0, 0x30, 0x20), problem);
    }
    ui.separator();
    let rows = state.filtered_history();
    ui.label(match &state.search_number {
        Some(Ok(n)) => msg!(
            lang,
            gui.history.count_of_pass,
            number = n,
            count = rows.len()
        ),
        _ => msg!(lang, gui.history.count, count = rows.len()),
    });
    egui::ScrollArea::vertical().show(ui, |ui| {
        egui::Grid::new("history")
            .striped(true)
            .num_columns(4)
            .show(ui, |ui| {
                for h in [
                    msg!(lang, gui.history.time),
                    msg!(lang, gui.history.plate),
                    msg!(lang, gui.history.serial),
                    msg!(lang, gui.history.verdict),
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
