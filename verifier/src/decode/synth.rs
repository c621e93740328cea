//! Camera-like test frames: a rendered QR code placed on a larger gray frame, turned,
//! foreshortened, unevenly lit, blurred and noisy, as a webcam sees a phone screen or a printout.
//!
//! Used by the decoder's tests and benchmarks (and available to the end-to-end tests); it is pure
//! and deterministic (the noise comes from a seeded generator), so results do not vary by run.

use image::{imageops, GrayImage, Luma};

/// Where and how the code appears in the frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Placement {
    /// Frame size in pixels.
    pub width: u32,
    pub height: u32,
    /// Centre of the code in the frame, as fractions of width and height.
    pub centre: (f32, f32),
    /// Side of the code (quiet zone included) in frame pixels.
    pub side: f32,
    /// Rotation, degrees clockwise.
    pub angle_deg: f32,
    /// Foreshortening of the code's width (1.0: none; 0.7: seen about 45° from the side).
    pub foreshorten: f32,
    /// Gray levels of the code's dark and light modules (a phone screen at low brightness is
    /// about 60 and 170).
    pub dark: u8,
    pub light: u8,
    /// Gray level of the background.
    pub background: u8,
    /// Light falling off from left to right: 0.0 even, 0.5 half as bright on the right.
    pub falloff: f32,
    /// Gaussian blur (out of focus, motion), in frame pixels; 0 for none.
    pub blur_sigma: f32,
    /// Amplitude of uniform sensor noise in gray levels; 0 for none.
    pub noise: u8,
    /// Seed of the noise.
    pub seed: u64,
}

impl Default for Placement {
    fn default() -> Self {
        Placement {
            width: 1280,
            height: 720,
            centre: (0.5, 0.5),
            side: 400.0,
            angle_deg: 0.0,
            foreshorten: 1.0,
            dark: 30,
            light: 220,
            background: 120,
            falloff: 0.0,
            blur_sigma: 0.0,
            noise: 0,
            seed: 1,
        }
    }
}

/// Draws `code` (a rendered QR code, dark modules below mid-gray) into a new frame.
pub fn camera_frame(code: &GrayImage, p: &Placement) -> GrayImage {
    let (cw, ch) = (code.width().max(1) as f32, code.height().max(1) as f32);
    let (cx, cy) = (p.centre.0 * p.width as f32, p.centre.1 * p.height as f32);
    let (sin, cos) = p.angle_deg.to_radians().sin_cos();
    let sx = p.side * p.foreshorten.clamp(0.05, 1.0) / cw;
    let sy = p.side / ch;
    let mut rng = p.seed | 1;
    let mut frame = GrayImage::new(p.width, p.height);
    for (x, y, px) in frame.enumerate_pixels_mut() {
        // Frame pixel -> code pixel: undo the translation, the rotation, then the scale.
        let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
        let (rx, ry) = (dx * cos + dy * sin, -dx * sin + dy * cos);
        let (u, v) = (rx / sx + cw / 2.0, ry / sy + ch / 2.0);
        let base = match sample(code, u, v) {
            Some(level) => {
                let t = level / 255.0;
                p.dark as f32 + t * (p.light as f32 - p.dark as f32)
            }
            None => p.background as f32,
        };
        let lit = base * (1.0 - p.falloff * x as f32 / p.width.max(1) as f32);
        let noise = if p.noise > 0 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            (rng % (2 * u64::from(p.noise) + 1)) as f32 - f32::from(p.noise)
        } else {
            0.0
        };
        *px = Luma([(lit + noise).round().clamp(0.0, 255.0) as u8]);
    }
    if p.blur_sigma > 0.0 {
        imageops::blur(&frame, p.blur_sigma)
    } else {
        frame
    }
}

/// Bilinear sample of `img` at (u, v) in pixel units, `None` outside the image.
fn sample(img: &GrayImage, u: f32, v: f32) -> Option<f32> {
    let (w, h) = (img.width() as f32, img.height() as f32);
    if !(0.0..w).contains(&u) || !(0.0..h).contains(&v) {
        return None;
    }
    let (fx, fy) = ((u - 0.5).max(0.0), (v - 0.5).max(0.0));
    let (x0, y0) = (fx.floor() as u32, fy.floor() as u32);
    let (x1, y1) = (
        (x0 + 1).min(img.width() - 1),
        (y0 + 1).min(img.height() - 1),
    );
    let (ax, ay) = (fx - x0 as f32, fy - y0 as f32);
    let at = |x: u32, y: u32| f32::from(img.get_pixel(x, y)[0]);
    let top = at(x0, y0) * (1.0 - ax) + at(x1, y0) * ax;
    let bottom = at(x0, y1) * (1.0 - ax) + at(x1, y1) * ax;
    Some(top * (1.0 - ay) + bottom * ay)
}

/// The image turned light-on-dark.
pub fn inverted(img: &GrayImage) -> GrayImage {
    let mut out = img.clone();
    imageops::invert(&mut out);
    out
}

/// The image mirrored left to right.
pub fn mirrored(img: &GrayImage) -> GrayImage {
    imageops::flip_horizontal(img)
}

/// A pass-like text: a short prefix then `len` pseudo-random base45 characters (alphanumeric QR
/// mode), about the shape of a signed pass; the same `seed` gives the same text.
pub fn pass_text(len: usize, seed: u32) -> String {
    const BASE45: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    let mut state = seed;
    let body: String = (0..len)
        .map(|_| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
            BASE45[(state >> 16) as usize % BASE45.len()] as char
        })
        .collect();
    format!("CP1:{body}")
}
