//! Finding and reading QR codes in camera frames and image files.
//!
//! This module owns the path from pixels to QR texts: a [`FrameDecoder`] takes an 8-bit grayscale
//! frame and returns every QR code it can read, with the text and the four corners (so the GUI
//! can draw where the code was found). It knows nothing about passes or signatures; the texts go
//! to the verification rules unchanged.
//!
//! # Why this pipeline
//!
//! Chosen by measurement on the corpus in `testdata/corpus` (see `docs/bench-corpus.md` and
//! `benches/corpus.rs`): zxing-cpp read more of the hard real-world images than rxing, zbar or
//! rqrr, and was the fastest, and no rxing or rqrr pass added a read that the zxing-cpp passes
//! below did not already make. So the decoder is zxing-cpp alone, run as a fast path followed by
//! fallbacks that only run when the previous pass found nothing:
//!
//! 1. the frame as it is, with zxing-cpp's local-average binarisation (it also tries inverted,
//!    rotated, mirrored and downscaled images itself);
//! 2. the frame with global-histogram binarisation (low contrast, glare);
//! 3. a lightly blurred copy, with both binarisations (sensor noise, moiré from phone screens,
//!    halftone printouts);
//! 4. a double-size copy of a small image (small codes with few pixels per module); camera
//!    frames are not upscaled, that would cost more time than a frame allows.
//!
//! Each fallback read images of the corpus that the passes before it did not; other passes that
//! were measured (fixed-threshold binarisation, a half-size copy, more binarisations of the
//! double-size copy) read nothing more and are left out, so a frame without a code costs a few
//! passes only.
//!
//! A decoder bug must not take the checkpoint down: every call into the decoder runs behind
//! [`std::panic::catch_unwind`], and a pass that panics counts as a pass that found nothing.

mod backend;
pub mod corpus;
mod file;
mod prep;
pub mod synth;
#[cfg(test)]
mod tests;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

pub use image::GrayImage;

use backend::{Backend, RawSymbol, ZxingCpp};
pub use file::{decode_image_file, load_gray_image, DecodeError, MAX_FILE_BYTES, MAX_PIXELS};

/// How the decoder turns gray levels into black and white modules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Binarisation {
    /// Threshold from the local neighbourhood of each pixel; best for uneven light.
    LocalAverage,
    /// One threshold per row from the histogram; best for low-contrast, evenly lit codes.
    GlobalHistogram,
    /// A fixed threshold at mid-gray; reads some codes whose quiet zone is broken.
    FixedThreshold,
}

/// What is done to the frame before it is handed to the decoder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Preprocess {
    /// The frame as captured.
    None,
    /// A Gaussian blur (sigma 1 pixel) against noise, moiré and halftone dots.
    Blur,
    /// Scaled to half size.
    Half,
    /// Scaled to double size; skipped for frames larger than [`FrameDecoder::max_upscale_side`].
    Double,
}

/// One attempt of the pipeline: a preprocessing step followed by one binarisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Pass {
    pub preprocess: Preprocess,
    pub binarisation: Binarisation,
}

impl Pass {
    pub const fn new(preprocess: Preprocess, binarisation: Binarisation) -> Self {
        Pass {
            preprocess,
            binarisation,
        }
    }
}

impl std::fmt::Display for Pass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}/{:?}", self.preprocess, self.binarisation)
    }
}

/// A point in frame coordinates (pixels, origin top left).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub x: f32,
    pub y: f32,
}

/// One QR code read from a frame.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoded {
    /// The text as the QR code encodes it. Bytes that are not valid text in the code's character
    /// set come out as U+FFFD; a NUL byte ends the text (see `bytes` for the exact payload).
    pub text: String,
    /// The payload bytes exactly as stored in the code.
    pub bytes: Vec<u8>,
    /// Corners of the code in the frame, in the code's own orientation: top left, top right,
    /// bottom right, bottom left.
    pub corners: [Point; 4],
    /// The code was light on dark.
    pub inverted: bool,
    /// The code was mirrored (seen from behind a window or through a selfie camera).
    pub mirrored: bool,
    /// The pass of the pipeline that read it.
    pub pass: Pass,
}

/// What one pass of [`FrameDecoder::decode_report`] did.
#[derive(Clone, Debug, PartialEq)]
pub enum Attempt {
    /// The pass read this many codes.
    Found(Pass, usize),
    /// The pass ran and read nothing.
    Nothing(Pass),
    /// The pass was not run (a double-size copy of a frame that is already large).
    Skipped(Pass),
    /// The decoder reported an error (such as an image it cannot take).
    Failed(Pass, String),
    /// The decoder panicked; the panic was caught and the pass counts as having read nothing.
    Panicked(Pass, String),
}

/// The codes read from one frame and how the pipeline got there.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DecodeReport {
    pub codes: Vec<Decoded>,
    pub attempts: Vec<Attempt>,
}

/// Reads QR codes from grayscale frames. Cheap to clone and safe to share between threads.
#[derive(Clone)]
pub struct FrameDecoder {
    passes: Vec<Pass>,
    max_upscale_side: u32,
    backend: Arc<dyn Backend>,
}

impl std::fmt::Debug for FrameDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameDecoder")
            .field("passes", &self.passes)
            .field("max_upscale_side", &self.max_upscale_side)
            .finish_non_exhaustive()
    }
}

impl Default for FrameDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl FrameDecoder {
    /// The full pipeline: the fast path and every fallback (see the module documentation).
    pub fn new() -> Self {
        use Binarisation::*;
        use Preprocess::*;
        let passes = vec![
            Pass::new(None, LocalAverage),
            Pass::new(None, GlobalHistogram),
            Pass::new(Blur, LocalAverage),
            Pass::new(Blur, GlobalHistogram),
            Pass::new(Double, LocalAverage),
        ];
        Self::with_passes(passes)
    }

    /// Only the fast path: for a camera loop that must keep up with the frame rate and runs
    /// [`FrameDecoder::new`] on some frames only.
    pub fn fast() -> Self {
        Self::with_passes(vec![Pass::new(
            Preprocess::None,
            Binarisation::LocalAverage,
        )])
    }

    /// A pipeline of the given passes, tried in order until one reads a code.
    pub fn with_passes(passes: Vec<Pass>) -> Self {
        FrameDecoder {
            passes,
            max_upscale_side: 1000,
            backend: Arc::new(ZxingCpp),
        }
    }

    /// Images whose longer side is above this (1000 pixels unless set) are not upscaled: the copy
    /// would cost more time than a camera frame allows.
    pub fn max_upscale_side(mut self, side: u32) -> Self {
        self.max_upscale_side = side;
        self
    }

    /// The passes, in the order they are tried.
    pub fn passes(&self) -> &[Pass] {
        &self.passes
    }

    #[cfg(test)]
    pub(crate) fn with_backend(mut self, backend: Arc<dyn Backend>) -> Self {
        self.backend = backend;
        self
    }

    /// Every QR code that the first successful pass reads in `frame`. Never panics.
    pub fn decode(&self, frame: &GrayImage) -> Vec<Decoded> {
        self.decode_report(frame).codes
    }

    /// Like [`FrameDecoder::decode`], with a record of every pass tried.
    pub fn decode_report(&self, frame: &GrayImage) -> DecodeReport {
        let mut report = DecodeReport::default();
        if frame.width() == 0 || frame.height() == 0 {
            return report;
        }
        // The preprocessed copy is kept while consecutive passes share the same preprocessing.
        let mut prepared: Option<(Preprocess, Option<GrayImage>)> = None;
        for &pass in &self.passes {
            let longer = frame.width().max(frame.height());
            if pass.preprocess == Preprocess::Double && longer > self.max_upscale_side {
                report.attempts.push(Attempt::Skipped(pass));
                continue;
            }
            if prepared.as_ref().map(|(p, _)| *p) != Some(pass.preprocess) {
                prepared = Some((pass.preprocess, prep::apply(frame, pass.preprocess)));
            }
            let image = match &prepared {
                Some((_, Some(copy))) => copy,
                _ => frame,
            };
            let backend = &self.backend;
            // The backend is stateless, so nothing is left half-updated if it unwinds.
            let outcome = catch_unwind(AssertUnwindSafe(|| backend.read(image, pass.binarisation)));
            match outcome {
                Ok(Ok(symbols)) if !symbols.is_empty() => {
                    report.attempts.push(Attempt::Found(pass, symbols.len()));
                    let sx = frame.width() as f32 / image.width() as f32;
                    let sy = frame.height() as f32 / image.height() as f32;
                    report.codes = symbols
                        .into_iter()
                        .map(|s| to_decoded(s, pass, sx, sy))
                        .collect();
                    return report;
                }
                Ok(Ok(_)) => report.attempts.push(Attempt::Nothing(pass)),
                Ok(Err(message)) => report.attempts.push(Attempt::Failed(pass, message)),
                Err(payload) => report
                    .attempts
                    .push(Attempt::Panicked(pass, panic_message(payload.as_ref()))),
            }
        }
        report
    }
}

fn to_decoded(symbol: RawSymbol, pass: Pass, sx: f32, sy: f32) -> Decoded {
    let corners = symbol.corners.map(|(x, y)| Point {
        x: x as f32 * sx,
        y: y as f32 * sy,
    });
    Decoded {
        text: symbol.text,
        bytes: symbol.bytes,
        corners,
        inverted: symbol.inverted,
        mirrored: symbol.mirrored,
        pass,
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic without a message".to_string()
    }
}
