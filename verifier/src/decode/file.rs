//! Loading an image file (PNG, JPEG or WebP) as a grayscale frame, with limits so that a
//! truncated, hostile or huge file gives a typed error instead of a panic or an exhausted memory.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use checkpass::messages::write_bilingual;
use checkpass::msg;
use image::{GrayImage, ImageError, ImageReader, Limits};

use super::{Decoded, FrameDecoder};
use crate::files::ReadError;

/// Files larger than this are refused before they are decoded.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// Images with more pixels than this are refused (a 48-megapixel phone photo still fits).
pub const MAX_PIXELS: u64 = 50_000_000;

/// Why an image file could not be turned into a frame.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    FileTooLarge {
        path: PathBuf,
        limit: u64,
    },
    NotAnImage {
        path: PathBuf,
    },
    TooManyPixels {
        path: PathBuf,
        width: u32,
        height: u32,
        limit: u64,
    },
    Corrupt {
        path: PathBuf,
        #[source]
        source: ImageError,
    },
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use DecodeError as E;
        let text = |lang| match self {
            E::Read { path, .. } => msg!(lang, error.image.read, path = path.display()),
            E::FileTooLarge { path, limit } => msg!(
                lang,
                error.image.too_large,
                limit = limit,
                path = path.display()
            ),
            E::NotAnImage { path } => msg!(lang, error.image.not_an_image, path = path.display()),
            E::TooManyPixels {
                path,
                width,
                height,
                limit,
            } => msg!(
                lang,
                error.image.too_many_pixels,
                height = height,
                limit = limit,
                path = path.display(),
                width = width
            ),
            E::Corrupt { path, .. } => msg!(lang, error.image.corrupt, path = path.display()),
        };
        let cause: Option<&dyn std::fmt::Display> = match self {
            E::Read { source, .. } => Some(source),
            E::Corrupt { source, .. } => Some(source),
            _ => None,
        };
        write_bilingual(f, text, cause)
    }
}

/// Reads QR codes from an image file with the full pipeline ([`FrameDecoder::new`]).
pub fn decode_image_file(path: impl AsRef<Path>) -> Result<Vec<Decoded>, DecodeError> {
    FrameDecoder::new().decode_file(path)
}

impl FrameDecoder {
    /// Reads QR codes from an image file with this decoder.
    pub fn decode_file(&self, path: impl AsRef<Path>) -> Result<Vec<Decoded>, DecodeError> {
        let frame = load_gray_image(path)?;
        Ok(self.decode(&frame))
    }
}

/// Loads a PNG, JPEG or WebP file as an 8-bit grayscale image, within [`MAX_FILE_BYTES`] and
/// [`MAX_PIXELS`].
pub fn load_gray_image(path: impl AsRef<Path>) -> Result<GrayImage, DecodeError> {
    let path = path.as_ref();
    let bytes = read_capped(path)?;
    gray_from_bytes(&bytes, path)
}

fn read_capped(path: &Path) -> Result<Vec<u8>, DecodeError> {
    crate::files::read_limited(path, MAX_FILE_BYTES).map_err(|e| match e {
        ReadError::Open { path, source } | ReadError::Read { path, source } => {
            DecodeError::Read { path, source }
        }
        ReadError::TooLarge { path, limit, .. } => DecodeError::FileTooLarge { path, limit },
    })
}

/// Decodes image bytes; `path` is only used in error messages.
pub(crate) fn gray_from_bytes(bytes: &[u8], path: &Path) -> Result<GrayImage, DecodeError> {
    let corrupt = |source| DecodeError::Corrupt {
        path: path.to_path_buf(),
        source,
    };
    let reader = || -> Result<ImageReader<Cursor<&[u8]>>, DecodeError> {
        let reader = ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|source| DecodeError::Read {
                path: path.to_path_buf(),
                source,
            })?;
        match reader.format() {
            Some(image::ImageFormat::Png | image::ImageFormat::Jpeg | image::ImageFormat::WebP) => {
                Ok(reader)
            }
            _ => Err(DecodeError::NotAnImage {
                path: path.to_path_buf(),
            }),
        }
    };
    // The header alone gives the size: refuse huge images before allocating for them.
    let (width, height) = reader()?.into_dimensions().map_err(corrupt)?;
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(DecodeError::TooManyPixels {
            path: path.to_path_buf(),
            width,
            height,
            limit: MAX_PIXELS,
        });
    }
    let mut limits = Limits::default();
    // RGBA at 16 bits per channel is the largest buffer a decoder makes, plus some slack.
    limits.max_alloc = Some(MAX_PIXELS * 8 + 64 * 1024 * 1024);
    let mut reader = reader()?;
    reader.limits(limits);
    let image = reader.decode().map_err(corrupt)?;
    Ok(image.into_luma8())
}
