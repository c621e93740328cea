//! Rasterises a laid-out sheet to an 8-bit grayscale image at 150 dpi and encodes PNGs.
//!
//! Speed matters (a whole day's passes are rendered in one run): glyph bitmaps are cached
//! per thread, the page is gray only, and PNGs use the `png` crate's fast deflate. PNGs carry
//! their resolution (pHYs) so a printed `pass.png` comes out at A5.

use std::cell::RefCell;
use std::collections::HashMap;

use ab_glyph::{point, Font as _, Glyph};
use image::GrayImage;

use super::font;
use super::sheet::{Item, Page, TextRun, PAGE_H, PAGE_W, PX_PER_PT};
use super::RenderError;

/// Size of `pass.png` in pixels (A5 at 150 dpi: 874 × 1240).
pub fn page_px() -> (u32, u32) {
    (
        (PAGE_W * PX_PER_PT).round() as u32,
        (PAGE_H * PX_PER_PT).round() as u32,
    )
}

/// Horizontal sub-pixel positions a glyph is cached at.
const SUBPIXEL_STEPS: f32 = 4.0;
/// Bound on cached glyph bitmaps per thread (a few MB at most).
const CACHE_MAX: usize = 20_000;

struct GlyphBitmap {
    left: i32,
    top: i32,
    width: u32,
    coverage: Vec<u8>,
}

thread_local! {
    /// (glyph id, em size in 1/64 px, sub-pixel step) -> bitmap.
    static GLYPHS: RefCell<HashMap<(u16, u32, u8), GlyphBitmap>> = RefCell::new(HashMap::new());
}

/// Draw `page` into a new white image.
pub fn rasterise(page: &Page) -> Result<GrayImage, RenderError> {
    let (w, h) = page_px();
    let mut img = super::qr::white(w, h);
    for item in &page.items {
        match item {
            Item::Fill { x, y, w, h, gray } => fill(&mut img, *x, *y, *w, *h, *gray),
            Item::Frame { x, y, w, h, line } => {
                fill(&mut img, *x, *y, *w, *line, 0);
                fill(&mut img, *x, *y + *h - *line, *w, *line, 0);
                fill(&mut img, *x, *y, *line, *h, 0);
                fill(&mut img, *x + *w - *line, *y, *line, *h, 0);
            }
            Item::Text(run) => draw_text(&mut img, run)?,
            Item::Qr { x, y, module } => {
                // Layout made these whole pixels; round away float noise.
                let m = (module * PX_PER_PT).round() as u32;
                let x0 = (x * PX_PER_PT).round() as u32;
                let y0 = (y * PX_PER_PT).round() as u32;
                for &(row, col, len) in page.qr.runs() {
                    fill_px(
                        &mut img,
                        x0 + col as u32 * m,
                        y0 + row as u32 * m,
                        len as u32 * m,
                        m,
                        0,
                    );
                }
            }
        }
    }
    Ok(img)
}

/// Fill a rectangle given in points; edges snap to pixels, at least one pixel thick.
fn fill(img: &mut GrayImage, x: f32, y: f32, w: f32, h: f32, gray: u8) {
    let x0 = (x * PX_PER_PT).round().max(0.0) as u32;
    let y0 = (y * PX_PER_PT).round().max(0.0) as u32;
    let x1 = ((x + w) * PX_PER_PT).round().max(0.0) as u32;
    let y1 = ((y + h) * PX_PER_PT).round().max(0.0) as u32;
    fill_px(
        img,
        x0,
        y0,
        x1.saturating_sub(x0).max(1),
        y1.saturating_sub(y0).max(1),
        gray,
    );
}

fn fill_px(img: &mut GrayImage, x: u32, y: u32, w: u32, h: u32, gray: u8) {
    let (iw, ih) = img.dimensions();
    let x1 = (x + w).min(iw);
    let y1 = (y + h).min(ih);
    if x >= x1 {
        return;
    }
    let stride = iw as usize;
    let buf: &mut [u8] = &mut *img;
    for row in y..y1 {
        let start = row as usize * stride;
        buf[start + x as usize..start + x1 as usize].fill(gray);
    }
}

fn draw_text(img: &mut GrayImage, run: &TextRun) -> Result<(), RenderError> {
    let font = font::font()?;
    let em_px = run.size * PX_PER_PT;
    let scale = font::px_scale(font, em_px);
    let size_key = (em_px * 64.0).round() as u32;
    let baseline = (run.y * PX_PER_PT).round() as i32;
    let mut pen = run.x * PX_PER_PT;
    GLYPHS.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.len() > CACHE_MAX {
            cache.clear();
        }
        for g in &run.glyphs {
            let whole = pen.floor();
            let step = ((pen - whole) * SUBPIXEL_STEPS)
                .floor()
                .min(SUBPIXEL_STEPS - 1.0);
            let bitmap = cache
                .entry((g.id, size_key, step as u8))
                .or_insert_with(|| {
                    let glyph = Glyph {
                        id: font::glyph_id(g.id),
                        scale,
                        position: point(step / SUBPIXEL_STEPS, 0.0),
                    };
                    match font.outline_glyph(glyph) {
                        Some(outlined) => {
                            let b = outlined.px_bounds();
                            let width = b.width() as u32;
                            let height = b.height() as u32;
                            let mut coverage = vec![0u8; (width * height) as usize];
                            outlined.draw(|x, y, c| {
                                if let Some(p) = coverage.get_mut((y * width + x) as usize) {
                                    *p = (c.clamp(0.0, 1.0) * 255.0).round() as u8;
                                }
                            });
                            GlyphBitmap {
                                left: b.min.x as i32,
                                top: b.min.y as i32,
                                width,
                                coverage,
                            }
                        }
                        // Spaces and other blank glyphs.
                        None => GlyphBitmap {
                            left: 0,
                            top: 0,
                            width: 0,
                            coverage: Vec::new(),
                        },
                    }
                });
            blit(img, bitmap, whole as i32, baseline);
            if run.bold {
                // One pixel to the right: the raster twin of the PDF's outline.
                blit(img, bitmap, whole as i32 + 1, baseline);
            }
            pen += g.advance_em * em_px;
        }
    });
    Ok(())
}

/// Darken `img` by the glyph's coverage (black text on any background).
fn blit(img: &mut GrayImage, b: &GlyphBitmap, x: i32, baseline: i32) {
    if b.width == 0 {
        return;
    }
    let (iw, ih) = (img.width() as i32, img.height() as i32);
    let stride = iw as usize;
    let buf: &mut [u8] = &mut *img;
    // Columns of the bitmap that land inside the image.
    let left = x + b.left;
    let skip = (-left).max(0) as usize;
    let end = (b.width as i32).min(iw - left).max(0) as usize;
    if skip >= end {
        return;
    }
    for (row, cov_row) in b.coverage.chunks(b.width as usize).enumerate() {
        let py = baseline + b.top + row as i32;
        if py < 0 || py >= ih {
            continue;
        }
        let start = py as usize * stride + (left + skip as i32) as usize;
        let dst = &mut buf[start..start + (end - skip)];
        // Branch-free so that the loop vectorises (c = 0 leaves the pixel as it is).
        for (p, &c) in dst.iter_mut().zip(&cov_row[skip..end]) {
            *p = darken(*p, c);
        }
    }
}

/// `p` darkened by coverage `c`: round(p × (255 − c) / 255), in 16-bit lanes.
#[inline(always)]
fn darken(p: u8, c: u8) -> u8 {
    // x ≤ 255 × 255 + 127 fits in u16, and (x + 1 + (x >> 8)) >> 8 is x / 255 for every x
    // up to 65534 (a test checks all 65,536 pairs).
    let x = u16::from(p) * (255 - u16::from(c)) + 127;
    ((x + 1 + (x >> 8)) >> 8) as u8
}

/// Encode the sheet image as a 4-bit grayscale PNG at `dpi`.
///
/// Sixteen levels are plenty for anti-aliased black text on white (the QR is pure black and
/// white either way), and half the bits make the fixed "Up" filter with fdeflate both the
/// fastest and nearly the smallest choice: 60 KB in 0.16 ms against 76 KB in 0.62 ms for 8
/// bits with the adaptive filter (docs/BENCHMARKS.md).
pub fn png_bytes(img: &GrayImage, dpi: f32) -> Result<Vec<u8>, png::EncodingError> {
    encode_png(
        img.width(),
        img.height(),
        png::BitDepth::Four,
        &pack_gray4(img),
        dpi,
    )
}

/// Rows of two pixels a byte, high nibble first, each rounded to the nearest of 16 levels
/// (level = round(v / 17); written so that the compiler vectorises it).
fn pack_gray4(img: &GrayImage) -> Vec<u8> {
    fn level(v: u8) -> u8 {
        ((u16::from(v) + 8) / 17) as u8
    }
    let width = img.width().max(1) as usize;
    let row_bytes = width.div_ceil(2);
    let mut out = vec![0u8; row_bytes * img.height() as usize];
    for (row, packed) in img.as_raw().chunks(width).zip(out.chunks_mut(row_bytes)) {
        let pairs = row.chunks_exact(2);
        if let ([last], Some(end)) = (pairs.remainder(), packed.last_mut()) {
            *end = level(*last) << 4;
        }
        for (o, p) in packed.iter_mut().zip(pairs) {
            *o = (level(p[0]) << 4) | level(p[1]);
        }
    }
    out
}

/// Encode packed grayscale rows (`depth` bits a pixel, rows padded to whole bytes) as PNG.
pub fn encode_png(
    width: u32,
    height: u32,
    depth: png::BitDepth,
    data: &[u8],
    dpi: f32,
) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::with_capacity(data.len() / 8);
    let mut enc = png::Encoder::new(&mut out, width, height);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(depth);
    enc.set_compression(png::Compression::Fastest);
    let ppm = (dpi / 0.0254).round() as u32;
    enc.set_pixel_dims(Some(png::PixelDimensions {
        xppu: ppm,
        yppu: ppm,
        unit: png::Unit::Meter,
    }));
    let mut writer = enc.write_header()?;
    writer.write_image_data(data)?;
    writer.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn darken_is_exact_rounding_for_every_pixel_and_coverage() {
        for p in 0..=255u32 {
            for c in 0..=255u32 {
                let want = ((p * (255 - c) + 127) / 255) as u8;
                assert_eq!(darken(p as u8, c as u8), want, "p={p} c={c}");
            }
        }
    }

    #[test]
    fn four_bit_png_decodes_to_the_image_within_half_a_level() {
        // Odd width (a half-filled last byte) and every gray value.
        let (w, h) = (257u32, 3u32);
        let img = GrayImage::from_fn(w, h, |x, y| image::Luma([((x + y * 7) % 256) as u8]));
        let bytes = png_bytes(&img, 150.0).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(&bytes));
        let reader = decoder.read_info().unwrap();
        assert_eq!(reader.info().bit_depth, png::BitDepth::Four);
        let back = image::load_from_memory(&bytes).unwrap().to_luma8();
        assert_eq!(back.dimensions(), (w, h));
        for (a, b) in img.pixels().zip(back.pixels()) {
            // 16 levels are 17 apart: rounding moves a value by at most 8.
            assert!(a.0[0].abs_diff(b.0[0]) <= 8, "{} -> {}", a.0[0], b.0[0]);
        }
        // Black and white stay exact (the QR and the text's core).
        assert_eq!(back.get_pixel(0, 0).0[0], 0);
        assert_eq!(back.get_pixel(255, 0).0[0], 255);
    }
}
