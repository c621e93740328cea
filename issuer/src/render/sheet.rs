//! Layout of the printable pass sheet (A5 portrait, Chinese), as a list of positioned boxes,
//! text runs and QR modules in points. The PDF and PNG renderers only draw this list, so the
//! two outputs have the same layout.
//!
//! Coordinates: points (1/72 in), origin top-left, y down; a text run's `y` is its baseline.

use ab_glyph::FontRef;

use super::font::{self, PlacedGlyph};
use super::qr::Modules;
use super::{PassFacts, PassSheet, RenderError, RouteStop};

/// A5 in points (148 × 210 mm).
pub const PAGE_W: f32 = 148.0 / 25.4 * 72.0;
pub const PAGE_H: f32 = 210.0 / 25.4 * 72.0;
/// Resolution of `pass.png`.
pub const PNG_DPI: f32 = 150.0;
/// Pixels per point in `pass.png`.
pub const PX_PER_PT: f32 = PNG_DPI / 72.0;

/// Outer frame inset from the page edge.
const FRAME: f32 = 20.0;
/// Left and right edge of the content.
const X0: f32 = 36.0;
const X1: f32 = PAGE_W - 36.0;
/// Wanted QR side; the real one is a whole number of PNG pixels per module, at most this.
const QR_TARGET: f32 = 205.0;
/// Lowest point the table may reach (the footer sits below it).
const TABLE_BOTTOM: f32 = PAGE_H - 52.0;

/// The conditions every pass carries (DESIGN.md: the driver stays in the cab and leaves once
/// the goods are delivered).
pub const CONDITIONS: [&str; 3] = [
    "驾乘人员全程不得下车",
    "货物送达后不得停留",
    "仅用于应急运输",
];

/// Gray level 0 (black) ..= 255 (white).
pub type Gray = u8;

/// One line of text, already turned into glyphs.
#[derive(Debug, Clone)]
pub struct TextRun {
    pub x: f32,
    pub y: f32,
    pub size: f32,
    pub text: String,
    pub glyphs: Vec<PlacedGlyph>,
    /// Drawn heavier: outlined with [`BOLD_STROKE`] on top of the fill (the font has one
    /// weight; a second would double the binary).
    pub bold: bool,
}

/// Outline width that makes a run bold: one pixel of `pass.png`.
pub const BOLD_STROKE: f32 = 1.0 / PX_PER_PT;

impl TextRun {
    pub fn width(&self) -> f32 {
        self.glyphs.iter().map(|g| g.advance_em).sum::<f32>() * self.size
    }
}

/// Something drawn on the sheet.
#[derive(Debug, Clone)]
pub enum Item {
    /// A filled rectangle.
    Fill {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        gray: Gray,
    },
    /// A rectangle outline of line width `line`, drawn inside the given box.
    Frame {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        line: f32,
    },
    Text(TextRun),
    /// The QR code's dark modules; `module` is the side of one module.
    Qr {
        x: f32,
        y: f32,
        module: f32,
    },
}

/// A laid-out sheet.
pub struct Page {
    pub items: Vec<Item>,
    pub qr: Modules,
    /// What every sheet of this issuer draws whatever the application ([`common_text`]).
    pub common_text: String,
}

/// Characters of the variable fields that nearly every sheet has: the digits and marks of
/// serials, times, masked IDs and routes, and the words a trailer adds.
const COMMON_MARKS: &str = "0123456789-:*.()C→①②③④⑤挂车";

/// The text every sheet of the issuer `issuer_name` draws, whatever the application: title,
/// labels, conditions, footer, the words around the values, and [`COMMON_MARKS`]. The PDF
/// embeds these glyphs as one font subset made once per run (`pdf`).
pub fn common_text(issuer_name: &str) -> String {
    // A sheet with every application field empty draws exactly the fixed text.
    let blank = PassSheet {
        facts: PassFacts::default(),
        issuer_name: issuer_name.to_string(),
        qr_text: String::new(),
    };
    let mut text: String = drawn_texts(&blank).into_iter().map(|(_, t)| t).collect();
    text.push_str(COMMON_MARKS);
    text
}

/// The city part of the issuer's name ("威海市…指挥部" → "威海市"), for the title.
pub fn city_of(issuer_name: &str) -> &str {
    match issuer_name.char_indices().find(|(_, c)| *c == '市') {
        // A city name is short; a 市 further in is part of something else.
        Some((i, c)) if issuer_name[..i].chars().count() <= 5 => &issuer_name[..i + c.len_utf8()],
        _ => "",
    }
}

/// The route as printed: "① 桥头检查站 C201 → ② 威海收费站 C101" (no-break spaces inside
/// a stop).
pub fn route_text(route: &[RouteStop]) -> String {
    route
        .iter()
        .enumerate()
        .map(|(i, RouteStop { code, name, .. })| {
            let n = u32::try_from(i).unwrap_or(u32::MAX);
            // ① .. ⑳ are U+2460..; past twenty, plain numbers.
            let mark = match char::from_u32(0x2460 + n) {
                Some(c) if n < 20 => c.to_string(),
                _ => format!("({})", i + 1),
            };
            // No-break spaces: a stop ("③ 文登收费站 C103") wraps as a unit.
            if name.is_empty() {
                format!("{mark}\u{a0}{code}")
            } else {
                format!("{mark}\u{a0}{name}\u{a0}{code}")
            }
        })
        .collect::<Vec<_>>()
        .join(" → ")
}

/// The rows of the table: label, value (may hold line breaks), whether the value is bold.
fn rows(s: &PassSheet) -> Vec<(&'static str, String, bool)> {
    let plate = match s.trailer.as_deref().map(str::trim) {
        Some(t) if !t.is_empty() => format!("{}　挂车 {}", s.plate, t),
        _ => s.plate.clone(),
    };
    let conditions = CONDITIONS
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{}. {c}", i + 1))
        .collect::<Vec<_>>()
        .join("\n");
    let mut rows = vec![
        ("车牌号码", plate, true),
        (
            "驾驶人员",
            format!("{}　身份证 {}", s.driver_name, s.driver_id_masked),
            true,
        ),
        ("随车人数", format!("{} 人", s.occupants), false),
        ("物资类别", format!("{}　{}", s.category_zh, s.cargo), false),
        ("起运地点", s.origin.clone(), false),
        ("运送地点", s.destination.clone(), false),
        ("通行路线", route_text(&s.route), false),
        (
            "有效期限",
            format!("{} 至 {}", s.valid_from, s.valid_to),
            true,
        ),
        ("核酸采样", s.test_sampled_at.clone(), false),
    ];
    if let Some(arrive_by) = &s.arrive_by {
        rows.push(("预计到达", format!("{arrive_by}（末站）"), false));
    }
    rows.push(("通行要求", conditions, true));
    rows
}

/// Every string drawn on the sheet, with the field it comes from (for the font check).
pub fn drawn_texts(s: &PassSheet) -> Vec<(&'static str, String)> {
    let mut v = vec![
        ("title", title(s)),
        ("serial", serial_line(s)),
        ("issuer_name", footer(s)),
    ];
    v.extend(
        rows(s)
            .into_iter()
            .flat_map(|(label, value, _)| [("label", label.to_string()), (label, value)]),
    );
    v
}

fn title(s: &PassSheet) -> String {
    format!("{}重点物资运输车辆通行证", city_of(&s.issuer_name))
}

fn serial_line(s: &PassSheet) -> String {
    format!("通行证编号　{}", s.number)
}

fn footer(s: &PassSheet) -> String {
    format!("签发单位：{}", s.issuer_name)
}

/// Split `text` into lines no wider than `max_w` points at `size`. Breaks between CJK
/// characters and at spaces, never inside a run of Latin letters and digits (a plate, an ID,
/// a checkpoint code) unless that run alone is too wide, and never before closing punctuation.
pub fn wrap(font: &FontRef<'_>, text: &str, size: f32, max_w: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for para in text.split('\n') {
        let chars: Vec<char> = para.chars().collect();
        let mut start = 0;
        while start < chars.len() {
            // Skip spaces at the start of a continuation line.
            while start < chars.len() && start > 0 && chars[start] == ' ' {
                start += 1;
            }
            let mut w = 0.0;
            let mut end = start;
            // Last break between any two CJK characters, and last one after a space (between
            // route stops, words): the latter keeps a checkpoint name whole.
            let mut last_break = None;
            let mut last_space_break = None;
            while end < chars.len() {
                let cw = font::width_em(font, chars[end].encode_utf8(&mut [0; 4])) * size;
                if w + cw > max_w && end > start {
                    break;
                }
                w += cw;
                end += 1;
                if end < chars.len() && can_break_before(chars[end - 1], chars[end]) {
                    last_break = Some(end);
                    if chars[end - 1] == ' ' {
                        last_space_break = Some(end);
                    }
                }
            }
            let cut = if end >= chars.len() {
                end
            } else {
                match (last_space_break, last_break) {
                    // A space break wins unless it leaves the line less than 60 % full.
                    (Some(b), _) if (b - start) * 5 >= (end - start) * 3 => b,
                    (_, Some(b)) => b,
                    _ => end,
                }
            };
            lines.push(
                chars[start..cut]
                    .iter()
                    .collect::<String>()
                    .trim_end()
                    .to_string(),
            );
            start = cut;
        }
        if chars.is_empty() {
            lines.push(String::new());
        }
    }
    lines
}

fn can_break_before(prev: char, next: char) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '*' | '.' | ':' | '/');
    // Lines end with the arrow or the punctuation, never start with it.
    let closing = matches!(
        next,
        ' ' | '\u{a0}'
            | '，'
            | '。'
            | '；'
            | '：'
            | '、'
            | '）'
            | ')'
            | '→'
            | '」'
            | '》'
            | '！'
            | '？'
    );
    let opening = matches!(prev, '(' | '（' | '\u{a0}');
    !(closing || opening || (word(prev) && word(next)))
}

/// Lay out `sheet` with the QR `modules`.
pub fn layout(sheet: &PassSheet, qr: Modules) -> Result<Page, RenderError> {
    let font = font::font()?;
    let mut items = Vec::new();

    // Double frame.
    items.push(Item::Frame {
        x: FRAME,
        y: FRAME,
        w: PAGE_W - 2.0 * FRAME,
        h: PAGE_H - 2.0 * FRAME,
        line: 1.6,
    });
    items.push(Item::Frame {
        x: FRAME + 3.5,
        y: FRAME + 3.5,
        w: PAGE_W - 2.0 * FRAME - 7.0,
        h: PAGE_H - 2.0 * FRAME - 7.0,
        line: 0.5,
    });

    // Title, shrunk to fit if the city name is long.
    let title = title(sheet);
    let title_size = fit_size(font, &title, 19.0, X1 - X0);
    let mut title_item = centered(font, &title, title_size, 66.0);
    if let Item::Text(run) = &mut title_item {
        run.bold = true;
    }
    items.push(title_item);
    items.push(centered(font, &serial_line(sheet), 11.5, 88.0));
    items.push(Item::Fill {
        x: X0,
        y: 96.0,
        w: X1 - X0,
        h: 0.8,
        gray: 0,
    });

    // QR: a whole number of PNG pixels per module so the raster stays crisp.
    let n = qr.width.max(1) as f32;
    let module_px = (QR_TARGET * PX_PER_PT / n).floor().max(1.0);
    let module = module_px / PX_PER_PT;
    let side = module * n;
    let quiet = 4.0 * module;
    let qr_y = 98.0 + quiet;
    // Centre on a whole pixel too.
    let qr_x = ((PAGE_W - side) / 2.0 * PX_PER_PT).round() / PX_PER_PT;
    let qr_y = (qr_y * PX_PER_PT).round() / PX_PER_PT;
    items.push(Item::Qr {
        x: qr_x,
        y: qr_y,
        module,
    });
    let table_top = qr_y + side + quiet;

    // The table, at the largest text size that fits above the footer.
    let rows = rows(sheet);
    let mut size = 11.0;
    let table = loop {
        let t = table(font, &rows, size, table_top);
        if t.1 <= TABLE_BOTTOM {
            break t.0;
        }
        if size <= 6.5 {
            return Err(RenderError::Overflow {
                needed: t.1 - table_top,
                available: TABLE_BOTTOM - table_top,
            });
        }
        size -= 0.5;
    };
    items.extend(table);

    let footer = footer(sheet);
    let footer_size = fit_size(font, &footer, size.min(9.0), X1 - X0);
    items.push(text(font, &footer, footer_size, X0, PAGE_H - 36.0));
    Ok(Page {
        items,
        qr,
        common_text: common_text(&sheet.issuer_name),
    })
}

/// The table rows at text `size` from `top`; returns the items and the bottom edge.
fn table(
    font: &FontRef<'_>,
    rows: &[(&str, String, bool)],
    size: f32,
    top: f32,
) -> (Vec<Item>, f32) {
    let pad = 0.32 * size;
    let line_h = 1.4 * size;
    let label_w = 4.0 * size + 2.0 * pad;
    let value_x = X0 + label_w;
    let value_w = X1 - value_x - 2.0 * pad;
    let mut items = Vec::new();
    let mut y = top;
    for (label, value, bold) in rows {
        let lines = wrap(font, value, size, value_w);
        let h = lines.len().max(1) as f32 * line_h + 2.0 * pad;
        items.push(Item::Fill {
            x: X0,
            y,
            w: label_w,
            h,
            gray: 232,
        });
        // Baseline: centre the em box (ascent ≈ 0.88 em for this font) in the line.
        let first_baseline = y + pad + (line_h - size) / 2.0 + 0.88 * size;
        items.push(text(font, label, size, X0 + pad, first_baseline));
        for (i, line) in lines.iter().enumerate() {
            let mut item = text(
                font,
                line,
                size,
                value_x + pad,
                first_baseline + i as f32 * line_h,
            );
            if let Item::Text(run) = &mut item {
                run.bold = *bold;
            }
            items.push(item);
        }
        items.push(Item::Frame {
            x: X0,
            y,
            w: X1 - X0,
            h,
            line: 0.6,
        });
        items.push(Item::Fill {
            x: value_x - 0.3,
            y,
            w: 0.6,
            h,
            gray: 0,
        });
        y += h - 0.6; // share the border with the next row
    }
    (items, y + 0.6)
}

fn fit_size(font: &FontRef<'_>, text: &str, size: f32, max_w: f32) -> f32 {
    let w = font::width_em(font, text);
    if w * size <= max_w || w <= 0.0 {
        size
    } else {
        max_w / w
    }
}

fn text(font: &FontRef<'_>, text: &str, size: f32, x: f32, y: f32) -> Item {
    Item::Text(TextRun {
        x,
        y,
        size,
        text: text.to_string(),
        glyphs: font::glyphs(font, text),
        bold: false,
    })
}

fn centered(font: &FontRef<'_>, s: &str, size: f32, y: f32) -> Item {
    let mut item = text(font, s, size, 0.0, y);
    if let Item::Text(run) = &mut item {
        run.x = (PAGE_W - run.width()) / 2.0;
    }
    item
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn city_comes_from_the_issuer_name() {
        assert_eq!(city_of("威海市新冠肺炎疫情防控指挥部"), "威海市");
        assert_eq!(city_of("威海市"), "威海市");
        assert_eq!(city_of("应急运输保障组"), "");
        assert_eq!(city_of("山东省交通运输厅驻某市工作组"), "");
    }

    fn stop(code: &str, name: &str) -> RouteStop {
        RouteStop {
            code: code.into(),
            name: name.into(),
            here: false,
        }
    }

    #[test]
    fn route_lists_names_in_order_with_numbers() {
        let r = vec![stop("C201", "桥头检查站"), stop("C101", "威海收费站")];
        assert_eq!(
            route_text(&r).replace('\u{a0}', " "),
            "① 桥头检查站 C201 → ② 威海收费站 C101"
        );
        let long: Vec<_> = (0..22).map(|i| stop(&format!("C{i}"), "")).collect();
        let t = route_text(&long).replace('\u{a0}', " ");
        assert!(t.starts_with("① C0 → ② C1"));
        assert!(t.contains("⑳ C19 → (21) C20 → (22) C21"));
    }

    #[test]
    fn wrap_keeps_codes_whole_and_fits_width() {
        let font = font::font().unwrap();
        let text =
            "① 桥头检查站 C201 → ② 威海收费站 C101 → ③ 文登东收费站 C104 → ④ 乳山西收费站 C108";
        let lines = wrap(font, text, 10.0, 150.0);
        assert!(lines.len() > 1);
        for l in &lines {
            assert!(font::width_em(font, l) * 10.0 <= 150.0 + 0.01, "{l}");
            assert!(!l.starts_with(' ') && !l.starts_with('→'), "{l:?}");
        }
        assert_eq!(lines.concat().replace(' ', ""), text.replace(' ', ""));
        for code in ["C201", "C101", "C104", "C108"] {
            assert!(
                lines.iter().any(|l| l.contains(code)),
                "{code} split: {lines:?}"
            );
        }
        // A single over-long token is cut rather than overflowing or looping.
        let long = "A".repeat(200);
        let lines = wrap(font, &long, 10.0, 100.0);
        assert!(lines.len() > 2);
        assert_eq!(lines.concat(), long);
        assert_eq!(wrap(font, "一\n\n二", 10.0, 100.0), vec!["一", "", "二"]);
        // A route wraps between stops, keeping each stop's number, name and code together.
        let stops: Vec<_> = checkpass::sample::checkpoints()
            .into_iter()
            .map(|c| stop(&c.code, &c.name))
            .collect();
        let route = route_text(&stops);
        let lines = wrap(font, &route, 8.0, 250.0);
        assert!(lines.len() > 2);
        for (i, RouteStop { code, name, .. }) in stops.iter().enumerate() {
            let stop = format!("\u{a0}{name}\u{a0}{code}");
            assert!(
                lines.iter().any(|l| l.contains(&stop)),
                "stop {i} split: {lines:?}"
            );
        }
    }
}
