//! Everything the driver gets for one issued pass, written into one folder:
//!
//! | file | what |
//! | --- | --- |
//! | `qr.png` | the QR alone (1-bit PNG), 8 px modules, 4-module quiet zone, level Q, alphanumeric mode |
//! | `qr.svg` | the same QR as a scalable vector |
//! | `pass.pdf` | the printable A5 pass sheet in Chinese, vector, font embedded (subset) |
//! | `pass.png` | the same sheet as an image (150 dpi, 16 gray levels) for phones |
//! | `sms.txt` | the SMS for the driver |
//! | `qr.txt` | the QR text itself (`TP1:` + base45) |
//!
//! This module owns the look of a pass and nothing else: the caller gives it a [`PassSheet`]
//! of display strings (already formatted and masked) and the signed QR text. It reads no
//! file: the font is compiled in (`font`). Layout is done once per sheet (`sheet`) and drawn
//! by both the PDF (`pdf`) and the PNG (`raster`) back ends.

mod font;
mod pdf;
mod qr;
mod raster;
mod sheet;
mod sms;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::str::FromStr;

pub use checkpass::verdict::{PassFacts, RouteStop};
pub use sms::{rejection_text, sms_text};

/// What a pass sheet shows: the pass's facts ([`PassFacts`], the type the verifier shows
/// them in too) and what only the sheet has. The full ID number and the phone number are
/// never given here. Reads as its facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassSheet {
    pub facts: PassFacts,
    /// e.g. "威海市新冠肺炎疫情防控指挥部"; the title takes its city ("威海市") from here.
    pub issuer_name: String,
    /// The signed pass as QR text: "TP1:" + uppercase base45.
    pub qr_text: String,
}

impl std::ops::Deref for PassSheet {
    type Target = PassFacts;

    fn deref(&self) -> &PassFacts {
        &self.facts
    }
}

impl std::ops::DerefMut for PassSheet {
    fn deref_mut(&mut self) -> &mut PassFacts {
        &mut self.facts
    }
}

/// The files every pass folder has whatever the formats.
pub const ALWAYS_WRITTEN: [&str; 2] = ["qr.txt", "sms.txt"];

/// Which optional files to write (`sms.txt` and `qr.txt` are always written).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Formats {
    pub qr_png: bool,
    pub qr_svg: bool,
    pub sheet_pdf: bool,
    pub sheet_png: bool,
}

impl Formats {
    /// Every format.
    pub fn all() -> Formats {
        Formats {
            qr_png: true,
            qr_svg: true,
            sheet_pdf: true,
            sheet_png: true,
        }
    }

    /// Just the two images a phone needs: `qr.png` and `pass.png`.
    // Part of the API for callers; the CLI currently builds the same set itself.
    #[allow(dead_code)]
    pub fn png_only() -> Formats {
        Formats {
            qr_png: true,
            qr_svg: false,
            sheet_pdf: false,
            sheet_png: true,
        }
    }

    /// The requested formats whose file is not in `dir` yet.
    pub fn missing_in(&self, dir: &Path) -> Formats {
        let lacks = |on: bool, name: &str| on && !dir.join(name).is_file();
        Formats {
            qr_png: lacks(self.qr_png, "qr.png"),
            qr_svg: lacks(self.qr_svg, "qr.svg"),
            sheet_pdf: lacks(self.sheet_pdf, "pass.pdf"),
            sheet_png: lacks(self.sheet_png, "pass.png"),
        }
    }

    /// The files these formats write (besides qr.txt and sms.txt, which are always written).
    pub fn file_names(&self) -> Vec<&'static str> {
        [
            (self.qr_png, "qr.png"),
            (self.qr_svg, "qr.svg"),
            (self.sheet_pdf, "pass.pdf"),
            (self.sheet_png, "pass.png"),
        ]
        .into_iter()
        .filter_map(|(on, n)| on.then_some(n))
        .collect()
    }

    fn none() -> Formats {
        Formats {
            qr_png: false,
            qr_svg: false,
            sheet_pdf: false,
            sheet_png: false,
        }
    }
}

impl Default for Formats {
    fn default() -> Formats {
        Formats::all()
    }
}

/// Names accepted in a format list, as the CLI documents them.
pub const FORMAT_NAMES: &str = "png, svg, pdf, sheet-png, all";

/// A format list that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseFormatsError {
    #[error("未知的输出格式 “{0}”，可用：{FORMAT_NAMES} / unknown output format “{0}”, expected one of: {FORMAT_NAMES}")]
    Unknown(String),
    #[error(
        "没有指定输出格式，可用：{FORMAT_NAMES} / no output format given, expected: {FORMAT_NAMES}"
    )]
    Empty,
}

impl FromStr for Formats {
    type Err = ParseFormatsError;

    /// A comma- or space-separated list such as "png,svg,pdf,sheet-png" (or "all").
    fn from_str(s: &str) -> Result<Formats, ParseFormatsError> {
        let mut f = Formats::none();
        let mut any = false;
        for name in s
            .split([',', ' ', '，'])
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            any = true;
            match name.to_ascii_lowercase().as_str() {
                "png" | "qr-png" => f.qr_png = true,
                "svg" | "qr-svg" => f.qr_svg = true,
                "pdf" | "sheet-pdf" | "pass-pdf" => f.sheet_pdf = true,
                "sheet-png" | "pass-png" => f.sheet_png = true,
                "all" => f = Formats::all(),
                _ => return Err(ParseFormatsError::Unknown(name.to_string())),
            }
        }
        if any {
            Ok(f)
        } else {
            Err(ParseFormatsError::Empty)
        }
    }
}

impl fmt::Display for Formats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = [
            (self.qr_png, "png"),
            (self.qr_svg, "svg"),
            (self.sheet_pdf, "pdf"),
            (self.sheet_png, "sheet-png"),
        ]
        .into_iter()
        .filter_map(|(on, n)| on.then_some(n))
        .collect();
        f.write_str(&names.join(","))
    }
}

/// Why a pass could not be rendered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    #[error("二维码内容为空 / the QR text is empty")]
    QrEmpty,
    #[error(
        "二维码内容第 {index} 字节的字符 {ch:?} 不属于 QR 字母数字模式（应为 “TP1:” + 大写 base45）/ \
         QR text has {ch:?} at byte {index}, not in QR alphanumeric mode (expected “TP1:” + uppercase base45)"
    )]
    QrNotAlphanumeric { index: usize, ch: char },
    #[error("二维码内容过长（{len} 字符），超出 40-Q 版本容量 / QR text too long ({len} characters) for a version 40-Q code")]
    QrTooLong { len: usize },
    #[error("内置字体无法读取：{0} / the built-in font cannot be read: {0}")]
    Font(String),
    #[error("字段 {field} 含有内置字体不支持的字符 “{chars}”，无法打印 / field {field} has characters the built-in font cannot draw: “{chars}”")]
    MissingGlyphs { field: &'static str, chars: String },
    #[error("通行证内容过多，A5 页面放不下（需要 {needed:.0}pt，只有 {available:.0}pt）/ the pass does not fit on A5 (needs {needed:.0}pt, {available:.0}pt available)")]
    Overflow { needed: f32, available: f32 },
    #[error("生成 {file} 失败：{message} / encoding {file} failed: {message}")]
    Encode { file: &'static str, message: String },
    #[error("生成 PDF 失败：{0} / writing the PDF failed: {0}")]
    Pdf(String),
    #[error("写入 {path} 失败：{source} / cannot write {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
}

/// Characters of `sheet` that the built-in font cannot draw, by field (empty when all print).
/// Validation can call this before approving an application.
pub fn unsupported_chars(sheet: &PassSheet) -> Result<Vec<(&'static str, char)>, RenderError> {
    let f = font::font()?;
    let mut out = Vec::new();
    for (field, text) in sheet::drawn_texts(sheet) {
        for c in text.chars() {
            if !font::covers(f, c) && !out.contains(&(field, c)) {
                out.push((field, c));
            }
        }
    }
    Ok(out)
}

/// Render every requested file of `sheet` into `dir`, an existing directory (the caller
/// writes into a temporary one and renames it when everything is there).
pub fn render_all(sheet: &PassSheet, dir: &Path, formats: &Formats) -> Result<(), RenderError> {
    let code = qr::encode(&sheet.qr_text)?;
    write(dir, "qr.txt", format!("{}\n", sheet.qr_text).as_bytes())?;
    write(dir, "sms.txt", format!("{}\n", sms_text(sheet)).as_bytes())?;
    if formats.qr_png {
        // 300 dpi: 8 px modules print at 0.68 mm.
        let png = qr::png(&code, 300.0).map_err(|e| RenderError::Encode {
            file: "qr.png",
            message: e.to_string(),
        })?;
        write(dir, "qr.png", &png)?;
    }
    if formats.qr_svg {
        write(dir, "qr.svg", qr::svg(&code).as_bytes())?;
    }
    if formats.sheet_pdf || formats.sheet_png {
        let page = page_of(sheet, code)?;
        if formats.sheet_pdf {
            let title = format!("通行证 {}", sheet.number);
            write(dir, "pass.pdf", &pdf::pdf_bytes(&page, &title)?)?;
        }
        if formats.sheet_png {
            let img = raster::rasterise(&page)?;
            let png = raster::png_bytes(&img, sheet::PNG_DPI).map_err(|e| RenderError::Encode {
                file: "pass.png",
                message: e.to_string(),
            })?;
            write(dir, "pass.png", &png)?;
        }
    }
    Ok(())
}

/// The laid-out sheet, after refusing tofu: a name the officer compares with an ID card must
/// print as written.
fn page_of(sheet: &PassSheet, code: qr::Modules) -> Result<sheet::Page, RenderError> {
    let missing = unsupported_chars(sheet)?;
    if let Some(&(field, _)) = missing.first() {
        let chars = missing
            .iter()
            .filter(|(f, _)| *f == field)
            .map(|(_, c)| *c)
            .collect();
        return Err(RenderError::MissingGlyphs { field, chars });
    }
    sheet::layout(sheet, code)
}

/// One PDF with a page for each sheet, in order, for printing a batch at once (the font is
/// embedded once for all of them).
pub fn print_pdf(sheets: &[PassSheet]) -> Result<Vec<u8>, RenderError> {
    let pages = sheets
        .iter()
        .map(|s| page_of(s, qr::encode(&s.qr_text)?))
        .collect::<Result<Vec<_>, _>>()?;
    pdf::pdf_document(&pages, &format!("通行证 {} 张", sheets.len()))
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), RenderError> {
    let path = dir.join(name);
    std::fs::write(&path, bytes).map_err(|source| RenderError::Write { path, source })
}

#[cfg(test)]
pub(crate) mod tests;
