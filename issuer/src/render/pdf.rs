//! Writes a laid-out sheet as a one-page PDF: vector text in the embedded font, vector QR
//! modules.
//!
//! The font goes in as two CFF subsets, each with a ToUnicode map so the text can be searched
//! and copied: `F0` holds the glyphs every sheet of the issuer draws (labels, conditions,
//! digits: [`Page::common_text`]) and is subset once per run; `F1` holds the rest of this
//! document's glyphs (names, places, cargo). Subsetting costs about 8 µs a glyph and two
//! thirds of a sheet's glyphs are common, so this took the PDF from 0.7 to ~0.3 ms
//! (docs/BENCHMARKS.md).
//!
//! Built on `pdf-writer` (objects and content operators) and `subsetter` (the font subset),
//! the two crates under krilla, used directly so that the compression is ours to choose:
//! krilla deflates every stream at level 6, which on a pass's content stream (mostly the QR's
//! ~1,500 near-identical rectangles) took 1 ms of a 2.1 ms PDF. Level 1 gives up 2–3 KB per
//! file for a fifth of that time; the font subset barely compresses and is stored as is
//! (docs/BENCHMARKS.md has the numbers).

use std::io::Write as _;
use std::sync::{Arc, Mutex, OnceLock};

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, TextRenderingMode, UnicodeCmap};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use subsetter::GlyphRemapper;

use super::font::FONT_BYTES;
use super::sheet::{Item, Page, BOLD_STROKE, PAGE_H, PAGE_W};
use super::RenderError;

/// zlib level of the content stream and the ToUnicode map (see the module docs).
const DEFLATE_LEVEL: u32 = 1;
/// Resource names of the common subset and of the document's own.
const COMMON_FONT: Name<'static> = Name(b"F0");
const OWN_FONT: Name<'static> = Name(b"F1");

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

/// The glyphs of one subset, renumbered from 0 (.notdef) in order of first use: the subset's
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

/// The content stream of `page`, in PDF coordinates (origin bottom-left, y up). Glyphs not in
/// the `common` subset are added to `own`.
fn content(page: &Page, common: &Subset, own: &mut UsedGlyphs) -> Vec<u8> {
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
                // Consecutive glyphs of the same subset, shown with one operator.
                let mut pieces: Vec<(Name<'static>, Vec<u8>)> = Vec::new();
                for g in &run.glyphs {
                    let (font, cid) = match common.used.remapper.get(g.id) {
                        Some(cid) => (COMMON_FONT, cid),
                        None => {
                            let text = run.text.get(g.start..g.end).unwrap_or_default();
                            (OWN_FONT, own.add(g.id, g.advance_em, text))
                        }
                    };
                    match pieces.last_mut() {
                        Some((f, codes)) if *f == font => codes.extend(cid.to_be_bytes()),
                        _ => pieces.push((font, cid.to_be_bytes().to_vec())),
                    }
                }
                c.begin_text();
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
                // Showing text moves the pen by the glyphs' widths, whichever font drew them.
                for (font, codes) in &pieces {
                    c.set_font(*font, run.size);
                    c.show(Str(codes));
                }
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

/// An embedded font subset, ready to be written.
struct Subset {
    used: UsedGlyphs,
    /// The bare CFF program.
    cff: Vec<u8>,
    /// `ABCDEF+PostScriptName`.
    base_font: String,
    /// The deflated ToUnicode CMap.
    to_unicode: Vec<u8>,
}

const SYSTEM_INFO: SystemInfo = SystemInfo {
    registry: Str(b"Adobe"),
    ordering: Str(b"Identity"),
    supplement: 0,
};

impl Subset {
    fn of(used: UsedGlyphs, info: &FontInfo) -> Result<Subset, RenderError> {
        let otf = subsetter::subset(FONT_BYTES, 0, &used.remapper)
            .map_err(|e| RenderError::Font(format!("subsetting failed: {e}")))?;
        let cff = cff_table(&otf)?.to_vec();
        let base_font = format!("{}+{}", subset_tag(&used.remapper), info.postscript_name);
        let mut cmap = UnicodeCmap::new(Name(b"Custom"), SYSTEM_INFO);
        for (gid, text) in used.texts.iter().enumerate().skip(1) {
            if let Ok(gid) = u16::try_from(gid) {
                cmap.pair_with_multiple(gid, text.chars());
            }
        }
        let to_unicode = deflate(&cmap.finish())?;
        Ok(Subset {
            used,
            cff,
            base_font,
            to_unicode,
        })
    }
}

/// The subset of [`Page::common_text`], with the text it was made for: made again only when
/// that changes (another issuer name), so once per run.
static COMMON: Mutex<Option<(String, Arc<Subset>)>> = Mutex::new(None);

fn common_subset(text: &str, info: &FontInfo) -> Result<Arc<Subset>, RenderError> {
    // A panic elsewhere while holding the lock leaves a complete value or none.
    let mut cached = COMMON.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((made_for, subset)) = cached.as_ref() {
        if made_for == text {
            return Ok(Arc::clone(subset));
        }
    }
    let mut used = UsedGlyphs::new();
    for g in super::font::glyphs(super::font::font()?, text) {
        used.add(
            g.id,
            g.advance_em,
            text.get(g.start..g.end).unwrap_or_default(),
        );
    }
    let subset = Arc::new(Subset::of(used, info)?);
    *cached = Some((text.to_string(), Arc::clone(&subset)));
    Ok(subset)
}

/// Writes the five objects of an embedded subset, the Type 0 font first at `refs[0]`.
fn write_font(pdf: &mut Pdf, refs: [Ref; 5], info: &FontInfo, subset: &Subset) {
    let [type0_id, cid_id, descriptor_id, file_id, cmap_id] = refs;
    let base_font = subset.base_font.as_bytes();
    pdf.type0_font(type0_id)
        .base_font(Name(format!("{}-Identity-H", subset.base_font).as_bytes()))
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid_id)
        .to_unicode(cmap_id);
    let mut cid = pdf.cid_font(cid_id);
    cid.subtype(CidFontType::Type0)
        .base_font(Name(base_font))
        .system_info(SYSTEM_INFO)
        .font_descriptor(descriptor_id)
        .default_width(0.0);
    cid.widths()
        .consecutive(0, subset.used.widths.iter().copied());
    cid.finish();
    pdf.font_descriptor(descriptor_id)
        .name(Name(base_font))
        .flags(FontFlags::SYMBOLIC)
        .bbox(info.bbox)
        .italic_angle(0.0)
        .ascent(info.ascent)
        .descent(info.descent)
        .cap_height(info.cap_height)
        .stem_v(80.0)
        .font_file3(file_id);
    pdf.stream(file_id, &subset.cff)
        .pair(Name(b"Subtype"), Name(b"CIDFontType0C"));
    pdf.cmap(cmap_id, &subset.to_unicode)
        .name(Name(b"Custom"))
        .system_info(SYSTEM_INFO)
        .filter(Filter::FlateDecode);
}

/// One PDF of `pages` in order (for printing many passes at once), the fonts embedded once:
/// the common subset of the first page, and one subset of every other glyph.
pub fn pdf_document(pages: &[Page], title: &str) -> Result<Vec<u8>, RenderError> {
    let info = font_info()?;
    let common = common_subset(pages.first().map_or("", |p| p.common_text.as_str()), info)?;
    let mut own = UsedGlyphs::new();
    let contents = pages
        .iter()
        .map(|page| deflate(&content(page, &common, &mut own)))
        .collect::<Result<Vec<_>, _>>()?;
    // Only .notdef: every glyph was a common one, and no second font is needed.
    let own = if own.widths.len() > 1 {
        Some(Subset::of(own, info)?)
    } else {
        None
    };

    let mut next = 0;
    let mut alloc = || {
        next += 1;
        Ref::new(next)
    };
    let (catalog_id, pages_id, info_id) = (alloc(), alloc(), alloc());
    let common_refs = [alloc(), alloc(), alloc(), alloc(), alloc()];
    let own_refs = [alloc(), alloc(), alloc(), alloc(), alloc()];
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
        let mut resources = p.resources();
        let mut fonts = resources.fonts();
        fonts.pair(COMMON_FONT, common_refs[0]);
        if own.is_some() {
            fonts.pair(OWN_FONT, own_refs[0]);
        }
        fonts.finish();
        resources.finish();
        p.finish();
        pdf.stream(*content_id, content).filter(Filter::FlateDecode);
    }
    write_font(&mut pdf, common_refs, info, &common);
    if let Some(own) = &own {
        write_font(&mut pdf, own_refs, info, own);
    }

    pdf.document_info(info_id)
        .title(TextStr(title))
        .creator(TextStr("issuer"))
        .producer(TextStr(concat!("issuer ", env!("CARGO_PKG_VERSION"))));
    Ok(pdf.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{qr, sheet, tests::sample_sheet};

    fn page_of(s: &crate::render::PassSheet) -> Page {
        sheet::layout(s, qr::encode(&s.qr_text).unwrap()).unwrap()
    }

    fn embedded_fonts(pdf: &[u8]) -> usize {
        pdf.windows(b"/FontFile3".len())
            .filter(|w| *w == b"/FontFile3")
            .count()
    }

    #[test]
    fn the_common_subset_is_made_once_and_holds_most_of_a_sheet() {
        let info = font_info().unwrap();
        let page = page_of(&sample_sheet());
        let a = common_subset(&page.common_text, info).unwrap();
        let b = common_subset(&page_of(&sample_sheet()).common_text, info).unwrap();
        assert!(Arc::ptr_eq(&a, &b), "made again for the same issuer");

        let mut own = UsedGlyphs::new();
        content(&page, &a, &mut own);
        let (common_n, own_n) = (a.used.widths.len() - 1, own.widths.len() - 1);
        // The sample's own glyphs: plate, names, places, cargo, category.
        assert!(
            own_n > 0 && own_n < common_n,
            "own {own_n}, common {common_n}"
        );
        // Every glyph went to exactly one subset.
        for g in page.items.iter().filter_map(|i| match i {
            Item::Text(run) => Some(&run.glyphs),
            _ => None,
        }) {
            for g in g {
                let in_common = a.used.remapper.get(g.id).is_some();
                assert_ne!(
                    in_common,
                    own.remapper.get(g.id).is_some(),
                    "glyph {}",
                    g.id
                );
            }
        }
    }

    #[test]
    fn a_sheet_of_common_glyphs_only_embeds_one_subset() {
        let mut s = sample_sheet();
        let f = &mut s.facts;
        for field in [
            &mut f.plate,
            &mut f.driver_name,
            &mut f.category_zh,
            &mut f.cargo,
            &mut f.origin,
            &mut f.destination,
        ] {
            *field = "0123".into();
        }
        s.trailer = None;
        s.route = vec![crate::render::RouteStop {
            code: "C101".into(),
            ..Default::default()
        }];
        let pdf = pdf_bytes(&page_of(&s), "t").unwrap();
        assert_eq!(embedded_fonts(&pdf), 1);
        assert!(
            !pdf.windows(3).any(|w| w == b"/F1"),
            "no second font resource"
        );
        assert_eq!(
            embedded_fonts(&pdf_bytes(&page_of(&sample_sheet()), "t").unwrap()),
            2
        );
    }
}
