//! Where camera frames come from: a [`FrameSource`] gives grayscale frames one at a time.
//!
//! - [`CameraSource`]: a webcam through nokhwa (V4L2 on Linux), asking for YUYV (whose luma
//!   bytes are the grayscale frame, no decoding) or MJPEG (decoded with `image`).
//! - [`RecordedSource`]: a folder of image files played in name order, so the whole scanning
//!   loop runs in tests and benchmarks with no camera.

use std::path::{Path, PathBuf};

use checkpass::messages::in_both;
use checkpass::msg;
use image::GrayImage;

use crate::decode::load_gray_image;

/// Why a source could not give a frame. Its text is in both languages, `中文 (English): detail`:
/// the camera opens before the officer's language is known.
#[derive(Debug)]
#[non_exhaustive]
pub enum SourceError {
    NoCamera,
    Busy(String),
    Read(String),
    Folder { path: PathBuf, why: String },
    FrameFile { path: PathBuf, why: String },
}

impl std::fmt::Display for SourceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SourceError::NoCamera => f.write_str(&in_both(|l| msg!(l, gui.both.no_camera))),
            SourceError::Busy(why) => {
                let what = in_both(|l| msg!(l, gui.both.camera_busy));
                write!(f, "{what}: {why}")
            }
            SourceError::Read(why) => {
                let what = in_both(|l| msg!(l, gui.both.camera_read_failed));
                write!(f, "{what}: {why}")
            }
            SourceError::Folder { path, why } => {
                let what = in_both(|l| msg!(l, gui.both.frame_folder_unreadable));
                write!(f, "{what}: {}: {why}", path.display())
            }
            SourceError::FrameFile { path, why } => {
                let what = in_both(|l| msg!(l, gui.both.frame_file_unreadable));
                write!(f, "{what}: {}: {why}", path.display())
            }
        }
    }
}

impl std::error::Error for SourceError {}

/// A camera-like stream of grayscale frames.
pub trait FrameSource {
    /// A human name for the status line.
    fn name(&self) -> String;
    /// The size of the frames, once known.
    fn size(&self) -> (u32, u32);
    /// The next frame; `Ok(None)` when a recorded source has ended. A camera blocks until its
    /// next frame.
    fn next_frame(&mut self) -> Result<Option<GrayImage>, SourceError>;
    /// Whether this is a real camera (the status line says "camera" rather than "recording").
    fn is_camera(&self) -> bool {
        false
    }
}

/// A folder of PNG/JPEG frames, played once in file-name order.
#[derive(Debug)]
pub struct RecordedSource {
    folder: PathBuf,
    files: Vec<PathBuf>,
    next: usize,
    size: (u32, u32),
}

impl RecordedSource {
    pub fn open(folder: &Path) -> Result<RecordedSource, SourceError> {
        let err = |why: String| SourceError::Folder {
            path: folder.to_path_buf(),
            why,
        };
        let mut files: Vec<PathBuf> = std::fs::read_dir(folder)
            .map_err(|e| err(e.to_string()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension().and_then(|x| x.to_str()).is_some_and(|x| {
                    matches!(
                        x.to_ascii_lowercase().as_str(),
                        "png" | "jpg" | "jpeg" | "webp"
                    )
                })
            })
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(err(in_both(|l| msg!(l, gui.both.no_frames))));
        }
        Ok(RecordedSource {
            folder: folder.to_path_buf(),
            files,
            next: 0,
            size: (0, 0),
        })
    }

    /// Number of frames in the recording.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

impl FrameSource for RecordedSource {
    fn name(&self) -> String {
        self.folder.display().to_string()
    }

    fn size(&self) -> (u32, u32) {
        self.size
    }

    fn next_frame(&mut self) -> Result<Option<GrayImage>, SourceError> {
        let Some(path) = self.files.get(self.next) else {
            return Ok(None);
        };
        self.next += 1;
        let frame = load_gray_image(path).map_err(|e| SourceError::FrameFile {
            path: path.clone(),
            why: e.to_string(),
        })?;
        self.size = frame.dimensions();
        Ok(Some(frame))
    }
}

/// A camera the system lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CameraEntry {
    pub index: u32,
    pub name: String,
}

/// The cameras this computer has (empty when none, or when listing fails).
pub fn list_cameras() -> Vec<CameraEntry> {
    use nokhwa::utils::{ApiBackend, CameraIndex};
    match nokhwa::query(ApiBackend::Auto) {
        Ok(list) => list
            .into_iter()
            .filter_map(|info| match info.index() {
                CameraIndex::Index(i) => Some(CameraEntry {
                    index: *i,
                    name: info.human_name(),
                }),
                CameraIndex::String(_) => None,
            })
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// A webcam. Opened on the thread that reads it: nokhwa's camera is not `Send` on every
/// platform, so the scanner is handed a function that opens the source, not the source.
pub struct CameraSource {
    camera: nokhwa::Camera,
    name: String,
    size: (u32, u32),
}

impl std::fmt::Debug for CameraSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CameraSource")
            .field("name", &self.name)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl CameraSource {
    /// Opens the camera named `wanted` (or the first one) at the resolution closest to
    /// `resolution`, and starts its stream.
    pub fn open(wanted: Option<&str>, resolution: (u32, u32)) -> Result<CameraSource, SourceError> {
        use nokhwa::utils::{
            CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType,
            Resolution,
        };
        let cameras = list_cameras();
        let entry = wanted
            .and_then(|w| cameras.iter().find(|c| c.name == w))
            .or_else(|| cameras.first())
            .ok_or(SourceError::NoCamera)?;
        // YUYV first: its luma bytes are the gray frame. MJPEG for cameras that only stream
        // that at high resolutions. The resolution is the closest the camera has.
        // Media Foundation cameras (Windows) often offer NV12, luma plane first, as well.
        let formats = [
            FrameFormat::YUYV,
            FrameFormat::MJPEG,
            FrameFormat::GRAY,
            #[cfg(windows)]
            FrameFormat::NV12,
        ];
        let request = RequestedFormat::with_formats(
            RequestedFormatType::Closest(CameraFormat::new(
                Resolution::new(resolution.0, resolution.1),
                FrameFormat::YUYV,
                30,
            )),
            &formats,
        );
        let mut camera = nokhwa::Camera::new(CameraIndex::Index(entry.index), request)
            .map_err(|e| SourceError::Busy(e.to_string()))?;
        camera
            .open_stream()
            .map_err(|e| SourceError::Busy(e.to_string()))?;
        let res = camera.resolution();
        Ok(CameraSource {
            camera,
            name: entry.name.clone(),
            size: (res.width(), res.height()),
        })
    }
}

impl FrameSource for CameraSource {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn size(&self) -> (u32, u32) {
        self.size
    }

    fn is_camera(&self) -> bool {
        true
    }

    fn next_frame(&mut self) -> Result<Option<GrayImage>, SourceError> {
        let buffer = self
            .camera
            .frame()
            .map_err(|e| SourceError::Read(e.to_string()))?;
        let res = buffer.resolution();
        let gray = to_gray(
            buffer.source_frame_format(),
            res.width(),
            res.height(),
            buffer.buffer(),
        )?;
        self.size = gray.dimensions();
        Ok(Some(gray))
    }
}

/// A camera buffer as a grayscale frame.
pub fn to_gray(
    format: nokhwa::utils::FrameFormat,
    width: u32,
    height: u32,
    data: &[u8],
) -> Result<GrayImage, SourceError> {
    use nokhwa::utils::FrameFormat;
    let pixels = width as usize * height as usize;
    let short = || {
        let what = in_both(|l| msg!(l, gui.both.frame_incomplete));
        SourceError::Read(format!("{what}: {} B, {width}×{height}", data.len()))
    };
    match format {
        // Y0 U Y1 V: every even byte is a luma sample.
        FrameFormat::YUYV => {
            if data.len() < pixels * 2 {
                return Err(short());
            }
            let luma: Vec<u8> = data.iter().step_by(2).take(pixels).copied().collect();
            GrayImage::from_raw(width, height, luma).ok_or_else(short)
        }
        // NV12 and GRAY start with a full plane of luma.
        FrameFormat::NV12 | FrameFormat::GRAY => {
            let luma = data.get(..pixels).ok_or_else(short)?.to_vec();
            GrayImage::from_raw(width, height, luma).ok_or_else(short)
        }
        FrameFormat::MJPEG => image::load_from_memory_with_format(data, image::ImageFormat::Jpeg)
            .map(|img| img.into_luma8())
            .map_err(|e| SourceError::Read(format!("MJPEG: {e}"))),
        FrameFormat::RAWRGB | FrameFormat::RAWBGR => {
            let rgb = data.get(..pixels * 3).ok_or_else(short)?;
            // Rec. 601 luma; the channel order barely matters for black-and-white codes.
            let luma = rgb
                .chunks_exact(3)
                .map(|p| {
                    ((u32::from(p[0]) * 77 + u32::from(p[1]) * 150 + u32::from(p[2]) * 29) >> 8)
                        as u8
                })
                .collect();
            GrayImage::from_raw(width, height, luma).ok_or_else(short)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nokhwa::utils::FrameFormat;

    #[test]
    fn yuyv_luma_and_short_buffers() {
        let data = [10, 128, 20, 128, 30, 128, 40, 128];
        let g = to_gray(FrameFormat::YUYV, 2, 2, &data).unwrap();
        assert_eq!(g.as_raw(), &vec![10, 20, 30, 40]);
        assert!(to_gray(FrameFormat::YUYV, 4, 4, &data).is_err());
        assert!(to_gray(FrameFormat::GRAY, 4, 4, &data).is_err());
        assert!(to_gray(FrameFormat::MJPEG, 4, 4, &data).is_err());
        let rgb = to_gray(FrameFormat::RAWRGB, 1, 1, &[255, 255, 255]).unwrap();
        assert_eq!(rgb.as_raw()[0], 255);
    }

    #[test]
    fn empty_folder_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            RecordedSource::open(dir.path()),
            Err(SourceError::Folder { .. })
        ));
    }
}
