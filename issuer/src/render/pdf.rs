//! Writes a laid-out sheet as a one-page PDF: vector text in the embedded font (a CFF subset
//! holding only the glyphs this pass uses, with a ToUnicode map so the text can be searched
//! and copied), vector QR modules.
//!
//! Built on `pdf-writer` (objects and content operators) and `subsetter` (the font subset),
//! the two crates under krilla, used directly so that the compression is ours to choose:
//! krilla deflates every stream at level 6, which on a pass's content stream (mostly the QR's
//! ~1,500 near-identical rectangles) took 1 ms of a 2.1 ms PDF. Level 1 gives up 2–3 KB per
//! file for a fifth of that time; the font subset barely compresses and is stored as is
//! (docs/BENCHMARKS.md has the numbers).

use std::io::Write as _;
use std::sync::OnceLock;

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, TextRenderingMode, UnicodeCmap};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use subsetter::GlyphRemapper;

use super::font::FONT_BYTES;
use super::sheet::{Item, Page, BOLD_STROKE, PAGE_H, PAGE_W};
use super::RenderError;

/// zlib level of the content stream and the ToUnicode map (see the module docs).
const DEFLATE_LEVEL: u32 = 1;
/// Resource name of the one font.
const FONT_NAME: Name<'static> = Name(b"F0");

/// What the PDF says about the font besides its glyphs, read once from the font file.
struct FontInfo {
    postscript_name: String,
    /// In PDF glyph space (1/1000 em).
    bbox: Rect,
    ascent: f32,
    descent: f32,
    cap_height: f32,
}

static FONT_INFO: OnceLock<Result<FontInfo, String>> = OnceLock::new();

fn font_info() -> Result<&'static FontInfo, RenderError> {
    FONT_INFO
        .get_or_init(|| {
            let face = ttf_parser::Face::parse(FONT_BYTES, 0).map_err(|e| e.to_string())?;
            let scale = 1000.0 / f32::from(face.units_per_em());
            let postscript_name = face
                .names()
                .into_iter()
                .find(|n| n.name_id == ttf_parser::name_id::POST_SCRIPT_NAME)
                .and_then(|n| n.to_string())
                .filter(|n| !n.is_empty() && n.is_ascii())
                .ok_or("the font has no PostScript name")?;
            let b = face.global_bounding_box();
            let ascent = f32::from(face.ascender()) * scale;
            Ok(FontInfo {
                postscript_name,
                bbox: Rect::new(
                    f32::from(b.x_min) * scale,
                    f32::from(b.y_min) * scale,
                    f32::from(b.x_max) * scale,
                    f32::from(b.y_max) * scale,
                ),
                ascent,
                descent: f32::from(face.descender()) * scale,
                cap_height: face
                    .capital_height()
                    .map_or(ascent, |h| f32::from(h) * scale),
            })
        })
        .as_ref()
        .map_err(|e| RenderError::Font(e.clone()))
}

/// The glyphs a page uses, renumbered from 0 (.notdef) in order of first use: the subset's
/// glyph ids, which are also the CIDs the content stream shows.
struct UsedGlyphs {
    remapper: GlyphRemapper,
    /// Advance in 1/1000 em, by new id.
    widths: Vec<f32>,
    /// The text each new id stands for (empty for .notdef).
    texts: Vec<String>,
}

impl UsedGlyphs {
    fn new() -> UsedGlyphs {
        UsedGlyphs {
            remapper: GlyphRemapper::new(),
            widths: vec![0.0],
            texts: vec![String::new()],
        }
    }

    fn add(&mut self, old: u16, advance_em: f32, text: &str) -> u16 {
        let new = self.remapper.remap(old);
        if usize::from(new) == self.widths.len() {
            self.widths.push(advance_em * 1000.0);
            self.texts.push(text.to_string());
        }
        new
    }
}

fn deflate(data: &[u8]) -> Result<Vec<u8>, RenderError> {
    let mut e = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(data.len() / 3),
        flate2::Compression::new(DEFLATE_LEVEL),
    );
    e.write_all(data)
        .and_then(|()| e.finish())
        .map_err(|e| RenderError::Pdf(format!("deflate: {e}")))
}

/// The bare CFF program of a subset OpenType font (what `FontFile3 /CIDFontType0C` holds).
fn cff_table(otf: &[u8]) -> Result<&[u8], RenderError> {
    ttf_parser::RawFace::parse(otf, 0)
        .ok()
        .and_then(|face| face.table(ttf_parser::Tag::from_bytes(b"CFF ")))
        .ok_or_else(|| RenderError::Font("the font subset has no CFF table".into()))
}

/// Six capital letters naming the subset (PDF requires the `ABCDEF+` prefix on subset fonts);
/// FNV-1a of the glyph list, so the same glyphs always give the same name.
fn subset_tag(remapper: &GlyphRemapper) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for gid in remapper.remapped_gids() {
        for b in gid.to_be_bytes() {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    (0..6)
        .map(|i| char::from(b'A' + ((hash >> (i * 8)) % 26) as u8))
        .collect()
}

/// The content stream of `page`, in PDF coordinates (origin bottom-left, y up).
fn content(page: &Page, used: &mut UsedGlyphs) -> Vec<u8> {
    let mut c = Content::new();
    for item in &page.items {
        match item {
            Item::Fill { x, y, w, h, gray } => {
                c.set_fill_gray(f32::from(*gray) / 255.0);
                c.rect(*x, PAGE_H - y - h, *w, *h);
                c.fill_nonzero();
            }
            Item::Frame { x, y, w, h, line } => {
                // Strokes are centred on the path: inset by half the line to stay inside.
                let half = line / 2.0;
                c.set_stroke_gray(0.0);
                c.set_line_width(*line);
                c.rect(x + half, PAGE_H - y - h + half, w - line, h - line);
                c.stroke();
            }
            Item::Text(run) => {
                let mut codes = Vec::with_capacity(run.glyphs.len() * 2);
                for g in &run.glyphs {
                    let text = run.text.get(g.start..g.end).unwrap_or_default();
                    codes.extend(used.add(g.id, g.advance_em, text).to_be_bytes());
                }
                c.begin_text();
                c.set_font(FONT_NAME, run.size);
                c.set_fill_gray(0.0);
                if run.bold {
                    // The font has one weight: bold is the fill plus a thin outline.
                    c.set_text_rendering_mode(TextRenderingMode::FillStroke);
                    c.set_stroke_gray(0.0);
                    c.set_line_width(BOLD_STROKE);
                } else {
                    c.set_text_rendering_mode(TextRenderingMode::Fill);
                }
                c.set_text_matrix([1.0, 0.0, 0.0, 1.0, run.x, PAGE_H - run.y]);
                c.show(Str(&codes));
                c.end_text();
            }
            Item::Qr { x, y, module } => {
                // Whole-module coordinates under one transform (y down from the code's top
                // edge), and all dark runs as rectangles of one path filled once: short
                // integers keep the stream small, one fill leaves no seams between rows.
                c.save_state();
                c.transform([*module, 0.0, 0.0, -module, *x, PAGE_H - y]);
                c.set_fill_gray(0.0);
                for &(row, col, len) in page.qr.runs() {
                    c.rect(col as f32, row as f32, len as f32, 1.0);
                }
                c.fill_nonzero();
                c.restore_state();
            }
        }
    }
    c.finish().to_vec()
}

/// The PDF bytes of `page`; `title` goes into the document information.
pub fn pdf_bytes(page: &Page, title: &str) -> Result<Vec<u8>, RenderError> {
    pdf_document(std::slice::from_ref(page), title)
}

/// One PDF of `pages` in order, sharing one font subset (for printing many passes at once).
pub fn pdf_document(pages: &[Page], title: &str) -> Result<Vec<u8>, RenderError> {
    let info = font_info()?;
    let mut used = UsedGlyphs::new();
    let contents = pages
        .iter()
        .map(|page| deflate(&content(page, &mut used)))
        .collect::<Result<Vec<_>, _>>()?;

    let subset = subsetter::subset(FONT_BYTES, 0, &used.remapper)
        .map_err(|e| RenderError::Font(format!("subsetting failed: {e}")))?;
    let cff = cff_table(&subset)?;
    let tag = subset_tag(&used.remapper);
    let base_font = format!("{tag}+{}", info.postscript_name);
    let system_info = SystemInfo {
        registry: Str(b"Adobe"),
        ordering: Str(b"Identity"),
        supplement: 0,
    };

    let mut next = 0;
    let mut alloc = || {
        next += 1;
        Ref::new(next)
    };
    let (catalog_id, pages_id) = (alloc(), alloc());
    let (type0_id, cid_id, descriptor_id, file_id, cmap_id, info_id) =
        (alloc(), alloc(), alloc(), alloc(), alloc(), alloc());
    let page_ids: Vec<(Ref, Ref)> = pages.iter().map(|_| (alloc(), alloc())).collect();

    let mut pdf = Pdf::new();
    pdf.catalog(catalog_id)
        .pages(pages_id)
        .lang(TextStr("zh-CN"));
    pdf.pages(pages_id)
        .kids(page_ids.iter().map(|(page, _)| *page))
        .count(i32::try_from(pages.len()).map_err(|_| RenderError::Pdf("too many pages".into()))?);
    for ((page_id, content_id), content) in page_ids.iter().zip(&contents) {
        let mut p = pdf.page(*page_id);
        p.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H))
            .parent(pages_id)
            .contents(*content_id);
        p.resources().fonts().pair(FONT_NAME, type0_id);
        p.finish();
        pdf.stream(*content_id, content).filter(Filter::FlateDecode);
    }

    pdf.type0_font(type0_id)
        .base_font(Name(format!("{base_font}-Identity-H").as_bytes()))
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid_id)
        .to_unicode(cmap_id);
    let mut cid = pdf.cid_font(cid_id);
    cid.subtype(CidFontType::Type0)
        .base_font(Name(base_font.as_bytes()))
        .system_info(system_info)
        .font_descriptor(descriptor_id)
        .default_width(0.0);
    cid.widths().consecutive(0, used.widths.iter().copied());
    cid.finish();
    pdf.font_descriptor(descriptor_id)
        .name(Name(base_font.as_bytes()))
        .flags(FontFlags::SYMBOLIC)
        .bbox(info.bbox)
        .italic_angle(0.0)
        .ascent(info.ascent)
        .descent(info.descent)
        .cap_height(info.cap_height)
        .stem_v(80.0)
        .font_file3(file_id);
    pdf.stream(file_id, cff)
        .pair(Name(b"Subtype"), Name(b"CIDFontType0C"));

    let mut to_unicode = UnicodeCmap::new(Name(b"Custom"), system_info);
    for (gid, text) in used.texts.iter().enumerate().skip(1) {
        if let Ok(gid) = u16::try_from(gid) {
            to_unicode.pair_with_multiple(gid, text.chars());
        }
    }
    let cmap = deflate(&to_unicode.finish())?;
    pdf.cmap(cmap_id, &cmap)
        .name(Name(b"Custom"))
        .system_info(system_info)
        .filter(Filter::FlateDecode);

    pdf.document_info(info_id)
        .title(TextStr(title))
        .creator(TextStr("issuer"))
        .producer(TextStr(concat!("issuer ", env!("CARGO_PKG_VERSION"))));
    Ok(pdf.finish())
}
