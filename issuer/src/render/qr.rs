//! The pass's QR code: one alphanumeric-mode segment, error correction level Q, drawn as PNG
//! (8 px modules) and SVG, both with the standard 4-module quiet zone.
//!
//! The QR text is `TP1:` + base45, whose alphabet is exactly QR's alphanumeric set, so one
//! alphanumeric segment carries it at 5.5 bits a character. The segment is built explicitly
//! rather than by automatic mode choice so that a text that would fall back to byte mode (a
//! bug upstream) is an error here instead of a silently bigger, harder-to-scan code.
//!
//! Encoding uses `fast_qr`: for a pass-sized code (version 16-18) the `qrcode` crate spends
//! ~8 ms choosing the mask and `qrcodegen` ~1.1 ms; `fast_qr` ~0.4 ms, same code and mask.

use fast_qr::{Mode, QRBuilder, QRCode, ECL};
use image::GrayImage;

use super::RenderError;

/// Error correction level of every pass QR: Q restores up to ~25 % damaged modules, enough for
/// a creased printout, at a size that a phone camera still reads from a screen.
pub const EC_LEVEL: ECL = ECL::Q;
/// Pixels per module in `qr.png`: prints crisply at 300 dpi (0.68 mm modules) and stays sharp
/// when a phone scales the image.
pub const PNG_MODULE_PX: u32 = 8;
/// Quiet zone around the code, in modules (ISO/IEC 18004 asks for 4).
pub const QUIET_ZONE: u32 = 4;

/// Characters of QR alphanumeric mode.
fn is_alphanumeric(c: char) -> bool {
    matches!(c, '0'..='9' | 'A'..='Z' | ' ' | '$' | '%' | '*' | '+' | '-' | '.' | '/' | ':')
}

/// `text` as the smallest level-Q code with one alphanumeric-mode segment.
fn build(text: &str) -> Result<QRCode, RenderError> {
    if text.is_empty() {
        return Err(RenderError::QrEmpty);
    }
    if let Some((index, ch)) = text.char_indices().find(|(_, c)| !is_alphanumeric(*c)) {
        return Err(RenderError::QrNotAlphanumeric { index, ch });
    }
    // The mode is forced, never guessed; the version is the smallest that fits.
    QRBuilder::new(text.as_bytes())
        .ecl(EC_LEVEL)
        .mode(Mode::Alphanumeric)
        .build()
        .map_err(|_| RenderError::QrTooLong { len: text.len() })
}

/// Encode `text` as the smallest level-Q QR code holding it in one alphanumeric segment.
pub fn encode(text: &str) -> Result<Modules, RenderError> {
    Ok(Modules::of(&build(text)?))
}

/// A QR code's modules as a row-major grid, without the quiet zone.
#[derive(Debug, Clone)]
pub struct Modules {
    pub width: usize,
    pub dark: Vec<bool>,
    /// [`Modules::runs`], found once for the three drawings.
    runs: Vec<(usize, usize, usize)>,
}

impl Modules {
    fn of(code: &QRCode) -> Modules {
        let dark: Vec<bool> = code.data[..code.size * code.size]
            .iter()
            .map(|m| m.value())
            .collect();
        let runs = dark_runs(&dark, code.size);
        Modules {
            width: code.size,
            dark,
            runs,
        }
    }

    /// Horizontal runs of dark modules as (row, first column, length): one rectangle each,
    /// which keeps the PDF, PNG and SVG drawing short.
    pub fn runs(&self) -> &[(usize, usize, usize)] {
        &self.runs
    }

    /// Side of the code with its quiet zone, in modules.
    pub fn side_with_quiet_zone(&self) -> u32 {
        self.width as u32 + 2 * QUIET_ZONE
    }
}

fn dark_runs(dark: &[bool], width: usize) -> Vec<(usize, usize, usize)> {
    let mut runs = Vec::new();
    for (y, row) in dark.chunks(width.max(1)).enumerate() {
        let mut x = 0;
        while x < row.len() {
            if row[x] {
                let start = x;
                while x < row.len() && row[x] {
                    x += 1;
                }
                runs.push((y, start, x - start));
            } else {
                x += 1;
            }
        }
    }
    runs
}

/// A white image (one memset, unlike a per-pixel fill, which crawls in debug builds).
pub fn white(w: u32, h: u32) -> GrayImage {
    let len = w as usize * h as usize;
    // from_raw only refuses a buffer shorter than w × h; the fallback is never taken.
    GrayImage::from_raw(w, h, vec![255; len])
        .unwrap_or_else(|| GrayImage::from_pixel(w, h, image::Luma([255])))
}

/// `qr.png`: the code as a 1-bit grayscale PNG with [`PNG_MODULE_PX`] modules and the quiet
/// zone, at `dpi`. Black and white need no more than one bit a pixel: an eighth of the data
/// of an 8-bit image to filter and compress, and a file a fifth the size.
pub fn png(m: &Modules, dpi: f32) -> Result<Vec<u8>, png::EncodingError> {
    let side = m.side_with_quiet_zone() * PNG_MODULE_PX;
    let row_bytes = (side as usize).div_ceil(8);
    let px = PNG_MODULE_PX as usize;
    let q = (QUIET_ZONE * PNG_MODULE_PX) as usize;
    // Bit set = white (PNG grayscale: 0 is black).
    let mut data = vec![0xFFu8; row_bytes * side as usize];
    let mut row_bits = vec![0xFFu8; row_bytes];
    for (y, modules) in m.dark.chunks(m.width.max(1)).enumerate() {
        row_bits.fill(0xFF);
        for (x, _) in modules.iter().enumerate().filter(|(_, dark)| **dark) {
            for bit in q + x * px..q + (x + 1) * px {
                row_bits[bit / 8] &= !(0x80 >> (bit % 8));
            }
        }
        for dy in 0..px {
            let start = (q + y * px + dy) * row_bytes;
            data[start..start + row_bytes].copy_from_slice(&row_bits);
        }
    }
    super::raster::encode_png(side, side, png::BitDepth::One, &data, dpi)
}

/// The code as a standalone SVG document: one unit per module, quiet zone included, one
/// `<path>` of dark runs; scales to any print size.
pub fn svg(m: &Modules) -> String {
    let side = m.side_with_quiet_zone();
    let q = QUIET_ZONE as usize;
    let mut d = String::with_capacity(m.runs().len() * 16);
    // itoa rather than write!: the formatting machinery was most of the time of this loop.
    let mut num = itoa::Buffer::new();
    for &(row, col, len) in m.runs() {
        d.push('M');
        d.push_str(num.format(col + q));
        d.push(' ');
        d.push_str(num.format(row + q));
        d.push('h');
        d.push_str(num.format(len));
        d.push_str("v1h-");
        d.push_str(num.format(len));
        d.push('z');
    }
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            "\n",
            r#"<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{s}" height="{s}" viewBox="0 0 {s} {s}" shape-rendering="crispEdges">"#,
            r##"<rect width="{s}" height="{s}" fill="#ffffff"/><path fill="#000000" d="{d}"/></svg>"##,
            "\n"
        ),
        s = side,
        d = d
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A QR text of the length a real pass has (about 400 base45 characters).
    fn pass_like_text() -> String {
        let alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
        let mut s = String::from("TP1:");
        for i in 0..400 {
            let k = (i * 7 + i / 3) % alphabet.len();
            s.push_str(&alphabet[k..k + 1]);
        }
        s
    }

    fn version(code: &QRCode) -> usize {
        code.version.map(|v| v as usize + 1).unwrap()
    }

    #[test]
    fn pass_text_uses_one_alphanumeric_segment_at_level_q() {
        let text = pass_like_text();
        let code = build(&text).unwrap();
        assert_eq!(code.mode, Some(Mode::Alphanumeric));
        assert!(matches!(code.ecl, Some(ECL::Q)));
        assert_eq!(code.size, 4 * version(&code) + 17);
        // Automatic mode choice agrees, and byte mode would need a bigger code: the mode
        // actually matters here.
        let auto = QRBuilder::new(text.as_bytes())
            .ecl(EC_LEVEL)
            .build()
            .unwrap();
        assert_eq!(version(&auto), version(&code));
        let bytes = QRBuilder::new(text.as_bytes())
            .ecl(EC_LEVEL)
            .mode(Mode::Byte)
            .build()
            .unwrap();
        assert!(
            version(&bytes) > version(&code),
            "alnum v{}",
            version(&code)
        );
        let m = encode(&text).unwrap();
        assert_eq!(m.width, code.size);
        assert_eq!(m.dark.len(), m.width * m.width);
    }

    #[test]
    fn lowercase_or_binary_text_is_refused() {
        assert!(matches!(
            encode("tp1:abc"),
            Err(RenderError::QrNotAlphanumeric { index: 0, ch: 't' })
        ));
        assert!(matches!(
            encode("TP1:AB#"),
            Err(RenderError::QrNotAlphanumeric { index: 6, ch: '#' })
        ));
        assert!(matches!(
            encode("TP1:通"),
            Err(RenderError::QrNotAlphanumeric { index: 4, .. })
        ));
        assert!(matches!(encode(""), Err(RenderError::QrEmpty)));
    }

    #[test]
    fn too_long_text_is_an_error_not_a_panic() {
        let text = "A".repeat(5000);
        assert!(matches!(
            encode(&text),
            Err(RenderError::QrTooLong { len: 5000 })
        ));
    }

    #[test]
    fn png_has_quiet_zone_and_module_size() {
        let m = encode("TP1:HELLO WORLD").unwrap();
        let bytes = png(&m, 300.0).unwrap();
        let decoder = ::png::Decoder::new(std::io::Cursor::new(&bytes));
        let info = decoder.read_info().unwrap();
        assert_eq!(info.info().bit_depth, ::png::BitDepth::One);
        assert_eq!(info.info().color_type, ::png::ColorType::Grayscale);
        let img = image::load_from_memory(&bytes).unwrap().to_luma8();
        let side = (m.width as u32 + 2 * QUIET_ZONE) * PNG_MODULE_PX;
        assert_eq!(img.dimensions(), (side, side));
        // The quiet zone is white all round.
        let q = QUIET_ZONE * PNG_MODULE_PX;
        for i in 0..side {
            for j in 0..q {
                assert_eq!(img.get_pixel(i, j).0[0], 255);
                assert_eq!(img.get_pixel(j, i).0[0], 255);
                assert_eq!(img.get_pixel(i, side - 1 - j).0[0], 255);
                assert_eq!(img.get_pixel(side - 1 - j, i).0[0], 255);
            }
        }
        // Every module is a solid square of its colour.
        for y in 0..m.width {
            for x in 0..m.width {
                let want = if m.dark[y * m.width + x] { 0 } else { 255 };
                for (dx, dy) in [(0, 0), (7, 7), (3, 5)] {
                    let p = img.get_pixel(q + x as u32 * 8 + dx, q + y as u32 * 8 + dy);
                    assert_eq!(p.0[0], want);
                }
            }
        }
    }

    #[test]
    fn runs_cover_exactly_the_dark_modules() {
        let m = encode("TP1:RUNS 123").unwrap();
        let mut dark = vec![false; m.width * m.width];
        for &(y, x, len) in m.runs() {
            for i in x..x + len {
                assert!(!dark[y * m.width + i]);
                dark[y * m.width + i] = true;
            }
        }
        assert_eq!(dark, m.dark);
    }
}
