//! Settings: language, checkpoint and officer, clock correction, camera and alert
//! preferences, the trust bundle; on a device not set up yet, the set-up form.

use checkpass::msg;
use checkpass::scanlog::Direction;
use checkpass::verdict::Lang;
use egui::{Color32, RichText};

use crate::gui::prefs::{RESOLUTIONS, TIMEOUTS};
use crate::gui::state::{Device, Event, Field, State};
use crate::timefmt;

use super::{Out, AMBER, RED};

pub(super) fn screen(state: &State, ui: &mut egui::Ui, out: &mut Out) {
    let lang = state.lang;
    egui::ScrollArea::vertical().show(ui, |ui| {
        ui.heading(msg!(lang, gui.settings.language));
        ui.horizontal(|ui| {
            // Each language's name in that language.
            for choice in [Lang::Zh, Lang::En] {
                let name = msg!(choice, gui.settings.language_name);
                if ui.selectable_label(lang == choice, name).clicked() {
                    out.emit(Event::Lang(choice));
                }
            }
        });
        ui.separator();
        match &state.device {
            Device::Ready(_) => {}
            Device::Opening => {
                ui.label(msg!(lang, gui.settings.opening));
                return;
            }
            Device::Unusable(why) => {
                setup_form(state, why, ui, out, lang);
                return;
            }
        }
        ui.heading(msg!(lang, gui.settings.identity));
        egui::Grid::new("identity").num_columns(2).show(ui, |ui| {
            identity_rows(ui, state, out, lang);
            direction_row(ui, state, out, lang);
        });
        if ui.button(msg!(lang, gui.settings.save)).clicked() {
            out.emit(Event::SaveIdentity);
        }
        ui.separator();
        clock_form(state, ui, out, lang);
        ui.separator();
        ui.heading(msg!(lang, gui.settings.scanning));
        let mut prefs = state.prefs.clone();
        egui::Grid::new("prefs").num_columns(2).show(ui, |ui| {
            ui.label(msg!(lang, gui.settings.camera));
            let auto = msg!(lang, gui.settings.camera_auto).to_owned();
            egui::ComboBox::from_id_salt("camera")
                .selected_text(prefs.camera.clone().unwrap_or_else(|| auto.clone()))
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut prefs.camera, None, auto);
                    for c in &state.cameras {
                        ui.selectable_value(&mut prefs.camera, Some(c.clone()), c.clone());
                    }
                });
            ui.end_row();
            ui.label(msg!(lang, gui.settings.resolution));
            egui::ComboBox::from_id_salt("resolution")
                .selected_text(format!("{}×{}", prefs.resolution.0, prefs.resolution.1))
                .show_ui(ui, |ui| {
                    for r in RESOLUTIONS {
                        ui.selectable_value(&mut prefs.resolution, r, format!("{}×{}", r.0, r.1));
                    }
                });
            ui.end_row();
            ui.label(msg!(lang, gui.settings.verdict_shown_for));
            egui::ComboBox::from_id_salt("timeout")
                .selected_text(format!("{} s", prefs.verdict_timeout_secs))
                .show_ui(ui, |ui| {
                    for t in TIMEOUTS {
                        ui.selectable_value(&mut prefs.verdict_timeout_secs, t, format!("{t} s"));
                    }
                });
            ui.end_row();
            ui.label(msg!(lang, gui.settings.sound));
            ui.checkbox(&mut prefs.sound, msg!(lang, gui.settings.sound_on));
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
    ui.heading(msg!(lang, gui.settings.clock));
    ui.label(msg!(
        lang,
        gui.settings.device_time,
        now = timefmt::minutes(state.now)
    ));
    egui::Grid::new("clock").num_columns(2).show(ui, |ui| {
        labelled_field(
            ui,
            out,
            msg!(lang, gui.settings.clock_reason),
            Field::ClockReason,
            &state.fields.clock_reason,
        );
    });
    if ui.button(msg!(lang, gui.settings.correct_clock)).clicked() {
        out.emit(Event::CorrectClock);
    }
}

fn bundle_section(state: &State, ui: &mut egui::Ui, out: &mut Out, lang: Lang) {
    let now = state.now;
    ui.heading(msg!(lang, gui.settings.bundle));
    match &state.bundle {
        Some(b) => {
            let text = msg!(
                lang,
                gui.settings.bundle_facts,
                sequence = b.sequence,
                issued = timefmt::minutes(b.issued_at),
                keys = b.keys,
                checkpoints = b.checkpoints,
                revoked = b.revoked,
            );
            let label = RichText::new(text);
            ui.label(if b.is_stale(now) {
                label.background_color(AMBER).color(Color32::BLACK)
            } else {
                label
            });
        }
        None => {
            ui.label(msg!(lang, gui.settings.no_bundle));
        }
    }
    ui.label(msg!(lang, gui.settings.import_help));
    ui.horizontal(|ui| {
        let l = ui.label(msg!(lang, gui.settings.bundle_file));
        out.edit(Field::BundlePath, &state.fields.bundle_path, |text| {
            ui.add(egui::TextEdit::singleline(text).desired_width(360.0))
                .labelled_by(l.id)
        });
        if ui.button(msg!(lang, gui.settings.import_bundle)).clicked() {
            out.emit(Event::ImportBundle);
        }
        if ui.button(msg!(lang, gui.settings.find_usb)).clicked() {
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
        msg!(lang, gui.settings.checkpoint_code),
        Field::Checkpoint,
        &state.fields.checkpoint,
    );
    labelled_field(
        ui,
        out,
        msg!(lang, gui.settings.officer_id),
        Field::Officer,
        &state.fields.officer,
    );
}

/// The lane's direction, logged with every scan: the city finds a copied pass seen both ways
/// through one checkpoint.
fn direction_row(ui: &mut egui::Ui, state: &State, out: &mut Out, lang: Lang) {
    ui.label(msg!(lang, gui.settings.direction));
    ui.horizontal(|ui| {
        for (choice, name) in [
            (None, msg!(lang, gui.settings.direction_both)),
            (Some(Direction::Inbound), Direction::Inbound.label(lang)),
            (Some(Direction::Outbound), Direction::Outbound.label(lang)),
        ] {
            if ui
                .selectable_label(state.fields.direction == choice, name)
                .clicked()
            {
                out.emit(Event::ChooseDirection(choice));
            }
        }
    });
    ui.end_row();
}

fn setup_form(state: &State, why: &str, ui: &mut egui::Ui, out: &mut Out, lang: Lang) {
    ui.heading(msg!(lang, gui.settings.setup));
    ui.label(RichText::new(why.to_owned()).color(RED));
    egui::Grid::new("setup").num_columns(2).show(ui, |ui| {
        labelled_field(
            ui,
            out,
            msg!(lang, gui.settings.root_key_file),
            Field::RootKeyPath,
            &state.fields.root_key_path,
        );
        identity_rows(ui, state, out, lang);
    });
    if ui.button(msg!(lang, gui.settings.initialise)).clicked() {
        out.emit(Event::InitDevice);
    }
}
