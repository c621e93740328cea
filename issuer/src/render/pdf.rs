//! Writes a laid-out sheet as a one-page PDF with krilla: vector text in the embedded font
//! (subset to the glyphs this pass uses, so each file stays small), vector QR modules.

use std::sync::OnceLock;

use krilla::color::luma;
use krilla::geom::{PathBuilder, Point, Rect, Transform};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule, LineCap, Stroke};
use krilla::text::{Font, GlyphId, KrillaGlyph};
use krilla::{Document, SerializeSettings};

use super::font::FONT_BYTES;
use super::sheet::{Item, Page, BOLD_STROKE, PAGE_H, PAGE_W};
use super::RenderError;

/// krilla's handle of the embedded font, made once (it hashes the font data on creation).
static FONT: OnceLock<Option<Font>> = OnceLock::new();

fn font() -> Result<Font, RenderError> {
    FONT.get_or_init(|| Font::new(FONT_BYTES.into(), 0))
        .clone()
        .ok_or_else(|| RenderError::Font("krilla cannot read the embedded font".into()))
}

fn fill(gray: u8) -> Fill {
    Fill {
        paint: luma::Color::new(gray).into(),
        rule: FillRule::NonZero,
        ..Fill::default()
    }
}

/// The PDF bytes of `page`; `title` goes into the document information.
pub fn pdf_bytes(page: &Page, title: &str) -> Result<Vec<u8>, RenderError> {
    let font = font()?;
    let settings = SerializeSettings {
        // XMP metadata and tagging add size and time to thousands of files for nothing a
        // printout needs.
        xmp_metadata: false,
        enable_tagging: false,
        ..SerializeSettings::default()
    };
    let mut doc = Document::new_with(settings);
    doc.set_metadata(
        Metadata::new()
            .title(title.to_string())
            .language("zh-CN".to_string())
            .creator("issuer".to_string()),
    );
    let settings =
        PageSettings::from_wh(PAGE_W, PAGE_H).ok_or(RenderError::Pdf("bad page size".into()))?;
    let mut pdf_page = doc.start_page_with(settings);
    let mut surface = pdf_page.surface();
    for item in &page.items {
        match item {
            Item::Fill { x, y, w, h, gray } => {
                if let Some(path) = rect_path(&[(*x, *y, *w, *h)]) {
                    surface.set_fill(Some(fill(*gray)));
                    surface.set_stroke(None);
                    surface.draw_path(&path);
                }
            }
            Item::Frame { x, y, w, h, line } => {
                // Strokes are centred on the path: inset by half the line to stay inside.
                let half = line / 2.0;
                if let Some(path) = rect_path(&[(x + half, y + half, w - line, h - line)]) {
                    surface.set_fill(None);
                    surface.set_stroke(Some(Stroke {
                        paint: luma::Color::black().into(),
                        width: *line,
                        ..Stroke::default()
                    }));
                    surface.draw_path(&path);
                }
            }
            Item::Text(run) => {
                let glyphs: Vec<KrillaGlyph> = run
                    .glyphs
                    .iter()
                    .map(|g| {
                        KrillaGlyph::new(
                            GlyphId::new(u32::from(g.id)),
                            g.advance_em,
                            0.0,
                            0.0,
                            0.0,
                            g.start..g.end,
                            None,
                        )
                    })
                    .collect();
                surface.set_fill(Some(fill(0)));
                surface.set_stroke(run.bold.then(|| Stroke {
                    paint: luma::Color::black().into(),
                    width: BOLD_STROKE,
                    ..Stroke::default()
                }));
                surface.draw_glyphs(
                    Point::from_xy(run.x, run.y),
                    &glyphs,
                    font.clone(),
                    &run.text,
                    run.size,
                    false,
                );
            }
            Item::Qr { x, y, module } => {
                // Each run of dark modules is one stroked line one module wide, in whole-module
                // coordinates under one transform: "12 3.5 m 17 3.5 l" instead of a rectangle
                // of long decimals keeps the content stream (and its compression) small.
                let mut pb = PathBuilder::new();
                for (row, col, len) in page.qr.runs() {
                    pb.move_to(col as f32, row as f32 + 0.5);
                    pb.line_to((col + len) as f32, row as f32 + 0.5);
                }
                if let Some(path) = pb.finish() {
                    surface
                        .push_transform(&Transform::from_row(*module, 0.0, 0.0, *module, *x, *y));
                    surface.set_fill(None);
                    surface.set_stroke(Some(Stroke {
                        paint: luma::Color::black().into(),
                        width: 1.0,
                        line_cap: LineCap::Butt,
                        ..Stroke::default()
                    }));
                    surface.draw_path(&path);
                    surface.pop();
                }
            }
        }
    }
    surface.finish();
    pdf_page.finish();
    doc.finish().map_err(|e| RenderError::Pdf(format!("{e:?}")))
}

fn rect_path(rects: &[(f32, f32, f32, f32)]) -> Option<krilla::geom::Path> {
    let mut pb = PathBuilder::new();
    for &(x, y, w, h) in rects {
        pb.push_rect(Rect::from_xywh(x, y, w, h)?);
    }
    pb.finish()
}
