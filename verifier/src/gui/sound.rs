//! A distinct sound for each verdict: green a rising two-tone chime, amber two short middle
//! beeps, red three low long buzzes — told apart without looking at the screen.
//!
//! The tones are synthesised (no sound files); playback runs on its own thread (`verdict-sound`)
//! because an audio stream is not `Send`. A computer without a sound device plays nothing and
//! says so once; the verdict on screen never depends on sound.

use std::num::NonZero;
use std::sync::mpsc::{channel, Sender};

use checkpass::messages::in_both;
use checkpass::msg;
use checkpass::verdict::Level;

/// Sample rate of the synthesised tones.
pub const RATE: u32 = 22_050;

/// The tones of a verdict: (frequency in Hz, milliseconds); frequency 0 is silence.
pub fn tones(level: Level) -> &'static [(f32, u32)] {
    match level {
        Level::Green => &[(880.0, 110), (0.0, 30), (1320.0, 180)],
        Level::Amber => &[(660.0, 140), (0.0, 110), (660.0, 140)],
        Level::Red => &[
            (220.0, 260),
            (0.0, 90),
            (220.0, 260),
            (0.0, 90),
            (220.0, 260),
        ],
    }
}

/// The samples (mono, [`RATE`]) of a verdict's sound, with short ramps so tones do not click.
pub fn samples(level: Level) -> Vec<f32> {
    let mut out = Vec::new();
    for &(freq, ms) in tones(level) {
        let n = (RATE as usize * ms as usize) / 1000;
        let ramp = (RATE as usize / 200).max(1); // 5 ms
        for i in 0..n {
            let t = i as f32 / RATE as f32;
            let env = (i.min(n - 1 - i) as f32 / ramp as f32).min(1.0);
            let s = if freq > 0.0 {
                // A square-ish tone (fundamental plus third harmonic) carries in a noisy booth.
                let w = 2.0 * std::f32::consts::PI * freq * t;
                0.35 * (w.sin() + 0.3 * (3.0 * w).sin())
            } else {
                0.0
            };
            out.push(s * env);
        }
    }
    out
}

/// Plays verdict sounds on a background thread.
#[derive(Debug, Clone)]
pub struct Sound {
    tx: Sender<Level>,
}

impl Sound {
    /// Starts the sound thread. The device is opened at the first sound.
    pub fn start() -> std::io::Result<Sound> {
        let (tx, rx) = channel::<Level>();
        std::thread::Builder::new()
            .name("verdict-sound".into())
            .spawn(move || {
                let mut sink: Option<rodio::MixerDeviceSink> = None;
                let mut failed = false;
                while let Ok(level) = rx.recv() {
                    if sink.is_none() && !failed {
                        match rodio::DeviceSinkBuilder::open_default_sink() {
                            Ok(mut s) => {
                                s.log_on_drop(false);
                                sink = Some(s);
                            }
                            Err(e) => {
                                failed = true;
                                let what = in_both(|l| msg!(l, gui.both.no_sound_device));
                                eprintln!("{what}: {e}");
                            }
                        }
                    }
                    if let (Some(s), Some(ch), Some(rate)) =
                        (&sink, NonZero::new(1u16), NonZero::new(RATE))
                    {
                        s.mixer()
                            .add(rodio::buffer::SamplesBuffer::new(ch, rate, samples(level)));
                    }
                }
            })?;
        Ok(Sound { tx })
    }

    pub fn play(&self, level: Level) {
        let _ = self.tx.send(level);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_verdict_sounds_different() {
        let g = samples(Level::Green);
        let a = samples(Level::Amber);
        let r = samples(Level::Red);
        assert!(g != a && a != r && g != r);
        assert!(r.len() > g.len(), "red is the longest");
        assert!(g.iter().all(|s| s.abs() <= 1.0));
        assert_eq!(g[0], 0.0, "starts silent: no click");
    }
}
