//! The GUI's own preferences (camera, resolution, verdict timeout, sound), kept as
//! `gui.json` in the data directory.
//!
//! Why a file of its own: the engine's settings table is replaced as a whole on every save and
//! knows only the settings it validates, so keys the GUI put there would be lost. Checkpoint,
//! officer and language stay in the engine's settings, shared with the CLI.

use std::path::{Path, PathBuf};

use checkpass::msg;
use checkpass::verdict::Lang;
use serde::{Deserialize, Serialize};

use crate::store::{write_atomic, StoreError};

/// File name inside the data directory.
pub const PREFS_FILE: &str = "gui.json";

/// Resolutions offered in the settings (the camera picks the closest it has).
pub const RESOLUTIONS: [(u32, u32); 3] = [(640, 480), (1280, 720), (1920, 1080)];
/// Verdict timeouts offered (seconds); the verdict also goes at the next scan.
pub const TIMEOUTS: [u32; 5] = [5, 10, 20, 30, 60];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GuiPrefs {
    /// The camera's name as the system reports it; `None`: the first camera.
    pub camera: Option<String>,
    pub resolution: (u32, u32),
    pub verdict_timeout_secs: u32,
    pub sound: bool,
}

impl Default for GuiPrefs {
    fn default() -> Self {
        GuiPrefs {
            camera: None,
            resolution: (1280, 720),
            verdict_timeout_secs: 20,
            sound: true,
        }
    }
}

impl GuiPrefs {
    /// Values brought into range (a hand-edited file cannot make the verdict vanish at once
    /// or ask the camera for a gigapixel frame).
    pub fn normalised(mut self) -> GuiPrefs {
        self.verdict_timeout_secs = self.verdict_timeout_secs.clamp(3, 600);
        let (w, h) = self.resolution;
        if !(160..=3840).contains(&w) || !(120..=2160).contains(&h) {
            self.resolution = GuiPrefs::default().resolution;
        }
        self
    }

    pub fn path(dir: &Path) -> PathBuf {
        dir.join(PREFS_FILE)
    }

    /// Reads the preferences; a missing file gives the defaults, a broken one the defaults and
    /// the reason in `lang` (shown once to the officer, then overwritten by the next save).
    pub fn load(dir: &Path, lang: Lang) -> (GuiPrefs, Option<String>) {
        let path = GuiPrefs::path(dir);
        match std::fs::read(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (GuiPrefs::default(), None),
            Err(e) => (
                GuiPrefs::default(),
                Some(msg!(
                    lang,
                    gui.prefs.unreadable,
                    path = path.display(),
                    error = e
                )),
            ),
            Ok(bytes) => match serde_json::from_slice::<GuiPrefs>(&bytes) {
                Ok(p) => (p.normalised(), None),
                Err(e) => (
                    GuiPrefs::default(),
                    Some(msg!(
                        lang,
                        gui.prefs.invalid,
                        path = path.display(),
                        error = e
                    )),
                ),
            },
        }
    }

    /// Writes the preferences atomically.
    pub fn save(&self, dir: &Path) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        write_atomic(dir, &GuiPrefs::path(dir), &bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_broken_file() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            GuiPrefs::load(dir.path(), Lang::Zh),
            (GuiPrefs::default(), None)
        );
        let p = GuiPrefs {
            camera: Some("USB Camera".into()),
            resolution: (640, 480),
            verdict_timeout_secs: 30,
            sound: false,
        };
        p.save(dir.path()).unwrap();
        assert_eq!(GuiPrefs::load(dir.path(), Lang::Zh), (p, None));
        std::fs::write(GuiPrefs::path(dir.path()), b"{not json").unwrap();
        let (p, why) = GuiPrefs::load(dir.path(), Lang::Zh);
        assert_eq!(p, GuiPrefs::default());
        assert!(why.unwrap().contains("gui.json"));
        let wild = GuiPrefs {
            resolution: (1, 1),
            verdict_timeout_secs: 0,
            ..GuiPrefs::default()
        }
        .normalised();
        assert_eq!(wild.resolution, (1280, 720));
        assert_eq!(wild.verdict_timeout_secs, 3);
    }
}
