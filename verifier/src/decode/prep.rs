//! Image preprocessing for the fallback passes: pure functions from a frame to a new image.

use image::imageops::{self, FilterType};
use image::GrayImage;

use super::Preprocess;

/// The image a pass decodes, or `None` when it decodes the frame itself (no copy).
pub(crate) fn apply(frame: &GrayImage, preprocess: Preprocess) -> Option<GrayImage> {
    let (w, h) = frame.dimensions();
    match preprocess {
        Preprocess::None => None,
        Preprocess::Blur => Some(imageops::blur(frame, 1.0)),
        // Triangle (bilinear) averages neighbouring pixels, which also smooths noise.
        Preprocess::Half => Some(imageops::resize(
            frame,
            (w / 2).max(1),
            (h / 2).max(1),
            FilterType::Triangle,
        )),
        Preprocess::Double => Some(imageops::resize(
            frame,
            w.saturating_mul(2),
            h.saturating_mul(2),
            FilterType::Triangle,
        )),
    }
}
