//! The one font of the pass sheet, compiled into the binary, and the text measuring that the
//! PDF and PNG renderers share.
//!
//! The font is Noto Sans CJK SC Regular cut down to 通用规范汉字表 + GB 2312 + punctuation
//! (`assets/fonts/`, see its README): nothing is read from the disk at run time. It is parsed
//! once per process; glyph ids and advances come from here so both outputs place every glyph
//! at the same spot.

use std::sync::OnceLock;

use ab_glyph::{Font as _, FontRef, GlyphId};

use super::RenderError;

/// The font file, as shipped in `assets/fonts/`.
pub static FONT_BYTES: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../assets/fonts/NotoSansCJKsc-Regular-tongyong.otf"
));

/// Parsed once: parsing is cheap, but a pass run renders thousands of sheets.
static FONT: OnceLock<Result<FontRef<'static>, String>> = OnceLock::new();

/// The parsed font.
pub fn font() -> Result<&'static FontRef<'static>, RenderError> {
    FONT.get_or_init(|| FontRef::try_from_slice(FONT_BYTES).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| RenderError::Font(e.clone()))
}

/// Whether the font draws `c` (characters that are never drawn, like line breaks, count as
/// covered).
pub fn covers(font: &FontRef<'_>, c: char) -> bool {
    c.is_control() || font.glyph_id(c).0 != 0
}

/// One glyph of a laid-out line: its id and its advance as a fraction of the em.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlacedGlyph {
    pub id: u16,
    /// Advance in em units (multiply by the font size in points).
    pub advance_em: f32,
    /// Byte range of the character in the line's text (for the PDF's text layer).
    pub start: usize,
    pub end: usize,
}

/// A line of text turned into glyphs. No shaping: CJK text and the Latin digits of a pass
/// need none, and both renderers then agree to the glyph.
pub fn glyphs(font: &FontRef<'_>, text: &str) -> Vec<PlacedGlyph> {
    let upem = font.units_per_em().unwrap_or(1000.0);
    text.char_indices()
        .filter(|(_, c)| !c.is_control())
        .map(|(i, c)| {
            let id = font.glyph_id(c);
            PlacedGlyph {
                id: id.0,
                advance_em: font.h_advance_unscaled(id) / upem,
                start: i,
                end: i + c.len_utf8(),
            }
        })
        .collect()
}

/// Width of `text` in em units.
pub fn width_em(font: &FontRef<'_>, text: &str) -> f32 {
    let upem = font.units_per_em().unwrap_or(1000.0);
    text.chars()
        .filter(|c| !c.is_control())
        .map(|c| font.h_advance_unscaled(font.glyph_id(c)) / upem)
        .sum()
}

/// The ab_glyph scale that makes one em `em_px` pixels (ab_glyph scales by the
/// ascent-to-descent height, not by the em).
pub fn px_scale(font: &FontRef<'_>, em_px: f32) -> ab_glyph::PxScale {
    let upem = font.units_per_em().unwrap_or(1000.0);
    ab_glyph::PxScale::from(em_px * font.height_unscaled() / upem)
}

/// A glyph id as ab_glyph wants it.
pub fn glyph_id(id: u16) -> GlyphId {
    GlyphId(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The 8,105 characters of 通用规范汉字表, derived from Unihan kTGH
    /// (assets/fonts/make-tongyong-8105.py).
    const TONGYONG: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../assets/fonts/tongyong-8105.txt"
    ));

    #[test]
    fn font_covers_all_8105_tongyong_characters() {
        let font = font().unwrap();
        let mut count = 0;
        let mut missing = String::new();
        for line in TONGYONG.lines().filter(|l| !l.starts_with('#')) {
            let mut fields = line.split('\t');
            let index: usize = fields.next().unwrap().parse().unwrap();
            let code = fields.next().unwrap();
            let ch = fields.next().unwrap();
            let c = ch.chars().next().unwrap();
            assert_eq!(ch.chars().count(), 1, "row {index}");
            assert_eq!(code, format!("U+{:04X}", c as u32), "row {index}");
            count += 1;
            assert_eq!(count, index, "rows must be numbered 1..=8105");
            if !covers(font, c) {
                missing.push(c);
            }
        }
        assert_eq!(count, 8105);
        assert!(missing.is_empty(), "font lacks {missing}");
    }

    #[test]
    fn font_covers_punctuation_and_latin_used_on_passes() {
        let font = font().unwrap();
        for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcxyz-:/*（）()，。；：、→—·①②③④⑤⑥⑦⑧⑨⑩【】"
            .chars()
        {
            assert!(covers(font, c), "missing {c:?}");
        }
        // A character outside the subset is reported, not silently drawn as tofu.
        assert!(!covers(font, '𠀀'));
        assert!(!covers(font, '한'));
    }

    #[test]
    fn advances_are_positive_and_cjk_is_full_width() {
        let font = font().unwrap();
        let g = glyphs(font, "威海A1");
        assert_eq!(g.len(), 4);
        assert!((g[0].advance_em - 1.0).abs() < 0.01);
        assert!(g[2].advance_em > 0.3 && g[2].advance_em < 0.9);
        assert_eq!((g[1].start, g[1].end), (3, 6));
        assert!(
            (width_em(font, "威海A1") - g.iter().map(|g| g.advance_em).sum::<f32>()).abs() < 1e-4
        );
    }
}
