//! The font that makes Chinese readable. egui's built-in fonts have no CJK glyphs; this adds
//! the Noto Sans CJK SC subset that the issuer also prints passes with (all 8,105 characters
//! of 通用规范汉字表, checked by that font's coverage test), as a fallback after egui's own
//! Latin font in both families. One copy of the file in the repository, compiled in.

/// The font file (OpenType/CFF), shared with the printed pass.
pub static CJK_FONT: &[u8] =
    include_bytes!("../../../assets/fonts/NotoSansCJKsc-Regular-tongyong.otf");

/// Name of the font in egui's font table.
pub const CJK_FONT_NAME: &str = "noto-sans-cjk-sc";

/// egui's default fonts plus the CJK font as a fallback for every family.
pub fn definitions() -> egui::FontDefinitions {
    let mut fonts = egui::FontDefinitions::default();
    fonts.font_data.insert(
        CJK_FONT_NAME.to_owned(),
        std::sync::Arc::new(egui::FontData::from_static(CJK_FONT)),
    );
    for family in [egui::FontFamily::Proportional, egui::FontFamily::Monospace] {
        fonts
            .families
            .entry(family)
            .or_default()
            .push(CJK_FONT_NAME.to_owned());
    }
    fonts
}

/// Installs [`definitions`] in `ctx`, with text a little larger than egui's default: the
/// window is read at arm's length in a booth, often by people wearing gloves.
pub fn install(ctx: &egui::Context) {
    ctx.set_fonts(definitions());
    ctx.all_styles_mut(|style| {
        use egui::{FontFamily, FontId, TextStyle};
        for (text_style, size) in [
            (TextStyle::Small, 13.0),
            (TextStyle::Body, 17.0),
            (TextStyle::Button, 17.0),
            (TextStyle::Heading, 22.0),
            (TextStyle::Monospace, 15.0),
        ] {
            let family = if text_style == TextStyle::Monospace {
                FontFamily::Monospace
            } else {
                FontFamily::Proportional
            };
            style
                .text_styles
                .insert(text_style, FontId::new(size, family));
        }
        style.spacing.button_padding = egui::vec2(10.0, 6.0);
    });
}
