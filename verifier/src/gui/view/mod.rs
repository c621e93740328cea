//! Drawing: the window as a function of `&State`. Clicks, edits and the text-box focus become
//! [`Event`]s, returned to the application; nothing is decided, checked or written here.
//!
//! One module per part of the window: [`status`] (the status bar and the notice line),
//! [`scan`] (camera, other ways in, the verdict), [`history`] (today's scans), [`settings`].

mod history;
mod scan;
mod settings;
mod status;

use checkpass::verdict::Level;
use egui::Color32;

use super::state::{Event, Field, Screen, State};

const GREEN: Color32 = Color32::from_rgb(0x1b, 0x8a, 0x3a);
const AMBER: Color32 = Color32::from_rgb(0xf2, 0xa9, 0x00);
const RED: Color32 = Color32::from_rgb(0xc6, 0x28, 0x28);

fn level_colors(level: Level) -> (Color32, Color32) {
    match level {
        Level::Green => (GREEN, Color32::WHITE),
        Level::Amber => (AMBER, Color32::BLACK),
        Level::Red => (RED, Color32::WHITE),
    }
}

/// What one frame of drawing produced.
#[derive(Default)]
struct Out {
    events: Vec<Event>,
    /// A text box has the keyboard focus.
    text_focus: bool,
}

impl Out {
    fn emit(&mut self, event: Event) {
        self.events.push(event);
    }

    /// Draws a text box over a copy of `current` with `add`; an edit becomes
    /// [`Event::Edit`].
    fn edit(
        &mut self,
        field: Field,
        current: &str,
        add: impl FnOnce(&mut String) -> egui::Response,
    ) {
        let mut text = current.to_owned();
        let r = add(&mut text);
        self.text_focus |= r.has_focus();
        if r.changed() {
            self.emit(Event::Edit(field, text));
        }
    }
}

/// Draws one frame of the window from `state`, with the camera preview `preview`, and returns
/// what the officer did.
pub fn show(state: &State, preview: Option<&egui::TextureHandle>, ui: &mut egui::Ui) -> Vec<Event> {
    let mut out = Out::default();
    egui::Panel::top("status").show(ui, |ui| status::status_bar(state, ui, &mut out));
    egui::Panel::bottom("notice").show(ui, |ui| status::notice_bar(state, ui));
    egui::CentralPanel::default_margins().show(ui, |ui| match state.screen {
        Screen::Scan => scan::screen(state, preview, ui, &mut out),
        Screen::History => history::screen(state, ui, &mut out),
        Screen::Settings => settings::screen(state, ui, &mut out),
    });
    if out.text_focus != state.text_focus {
        out.emit(Event::TextFocus(out.text_focus));
    }
    out.events
}
