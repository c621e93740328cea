//! The driver's test report an applicant uploads with an online application: which files are
//! accepted (a PNG or JPEG photo, or a PDF, judged by their content, never by the name or the
//! browser's word) and how large. The store keeps the bytes in the database — outside any web
//! root, and on every server process alike — and the web service shows them only to the
//! accounts that may see the application.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The largest report accepted: a phone photo of a paper report, or a one-page PDF.
pub const MAX_REPORT_BYTES: usize = 5 * 1024 * 1024;

/// What a report file is, by its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum MediaType {
    Png,
    Jpeg,
    Pdf,
}

impl MediaType {
    pub const ALL: [MediaType; 3] = [MediaType::Png, MediaType::Jpeg, MediaType::Pdf];

    /// The media type stored and sent in `Content-Type`.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::Png => "image/png",
            MediaType::Jpeg => "image/jpeg",
            MediaType::Pdf => "application/pdf",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            MediaType::Png => "png",
            MediaType::Jpeg => "jpg",
            MediaType::Pdf => "pdf",
        }
    }

    pub fn parse(text: &str) -> Option<MediaType> {
        MediaType::ALL.into_iter().find(|m| m.as_str() == text)
    }
}

/// Why a report file is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    #[error("核酸检测报告文件为空")]
    Empty,
    #[error("核酸检测报告文件过大（{size} 字节），不超过 {max} 字节（5 MiB）", max = MAX_REPORT_BYTES)]
    TooLarge { size: usize },
    #[error("核酸检测报告须为 PNG 或 JPEG 图片或 PDF 文件（按文件内容判断）")]
    NotAcceptedType,
    #[error("核酸检测报告图片已损坏，无法读取：{0}")]
    BadImage(String),
    #[error("核酸检测报告 PDF 不完整（缺少文件结尾）")]
    TruncatedPdf,
}

/// A report's description, without its bytes (for lists and pages).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportInfo {
    pub app_no: String,
    pub media_type: MediaType,
    pub size: u64,
    /// SHA-256 of the content, hex: names the exact file an officer looked at.
    pub sha256: String,
    pub uploaded_by: String,
    pub uploaded_at: i64,
}

/// A report with its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TestReport {
    pub info: ReportInfo,
    #[serde(with = "hex_bytes")]
    pub content: Vec<u8>,
}

mod hex_bytes {
    pub fn serialize<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        let mut text = String::with_capacity(bytes.len() * 2);
        for b in bytes {
            text.push_str(&format!("{b:02x}"));
        }
        s.serialize_str(&text)
    }
}

impl TestReport {
    /// Checks `content` and describes it as uploaded by `by` at `at` for `app_no`.
    pub fn new(
        app_no: &str,
        content: Vec<u8>,
        by: &str,
        at: i64,
    ) -> Result<TestReport, ReportError> {
        let media_type = check(&content)?;
        let sha256 = Sha256::digest(&content)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(TestReport {
            info: ReportInfo {
                app_no: app_no.to_string(),
                media_type,
                size: content.len() as u64,
                sha256,
                uploaded_by: by.to_string(),
                uploaded_at: at,
            },
            content,
        })
    }
}

/// What `content` is, if it is an accepted report: an image must decode its header (a file
/// merely starting with the right bytes is not a photo), a PDF must have its header and end.
pub fn check(content: &[u8]) -> Result<MediaType, ReportError> {
    if content.is_empty() {
        return Err(ReportError::Empty);
    }
    if content.len() > MAX_REPORT_BYTES {
        return Err(ReportError::TooLarge {
            size: content.len(),
        });
    }
    let media_type = if content.starts_with(b"\x89PNG\r\n\x1a\n") {
        MediaType::Png
    } else if content.starts_with(&[0xFF, 0xD8, 0xFF]) {
        MediaType::Jpeg
    } else if content.starts_with(b"%PDF-") {
        MediaType::Pdf
    } else {
        return Err(ReportError::NotAcceptedType);
    };
    match media_type {
        MediaType::Png | MediaType::Jpeg => {
            let format = if media_type == MediaType::Png {
                image::ImageFormat::Png
            } else {
                image::ImageFormat::Jpeg
            };
            image::ImageReader::with_format(std::io::Cursor::new(content), format)
                .into_dimensions()
                .map_err(|e| ReportError::BadImage(e.to_string()))?;
        }
        MediaType::Pdf => {
            // The trailer's %%EOF sits in the last kilobyte (often followed by a newline).
            let tail = &content[content.len().saturating_sub(1024)..];
            if !tail.windows(5).any(|w| w == b"%%EOF") {
                return Err(ReportError::TruncatedPdf);
            }
        }
    }
    Ok(media_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png() -> Vec<u8> {
        let mut out = Vec::new();
        image::GrayImage::new(4, 4)
            .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn accepted_by_content() {
        assert_eq!(check(&png()), Ok(MediaType::Png));
        assert_eq!(check(b"%PDF-1.7\n1 0 obj\n%%EOF\n"), Ok(MediaType::Pdf));
        let r = TestReport::new("W1", png(), "carrier1", 5).unwrap();
        assert_eq!(r.info.media_type.as_str(), "image/png");
        assert_eq!(r.info.sha256.len(), 64);
        assert_eq!(MediaType::parse("application/pdf"), Some(MediaType::Pdf));
    }

    #[test]
    fn refused_with_reasons() {
        assert_eq!(check(b""), Err(ReportError::Empty));
        assert_eq!(check(b"<html>"), Err(ReportError::NotAcceptedType));
        assert_eq!(check(b"%PDF-1.7\n1 0 obj"), Err(ReportError::TruncatedPdf));
        let mut fake = b"\x89PNG\r\n\x1a\n".to_vec();
        fake.extend_from_slice(b"not really");
        assert!(matches!(check(&fake), Err(ReportError::BadImage(_))));
        let big = vec![0u8; MAX_REPORT_BYTES + 1];
        assert!(matches!(check(&big), Err(ReportError::TooLarge { .. })));
    }
}
