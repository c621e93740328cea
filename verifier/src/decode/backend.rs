//! The call into the QR decoding library (zxing-cpp, a C++ library through its Rust bindings),
//! behind a small trait so the pipeline can be tested with a decoder that misbehaves.

use image::GrayImage;

use super::Binarisation;

/// One code as the library reports it, in the coordinates of the image it was given.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RawSymbol {
    pub text: String,
    pub bytes: Vec<u8>,
    /// Top left, top right, bottom right, bottom left.
    pub corners: [(i32, i32); 4],
    pub inverted: bool,
    pub mirrored: bool,
}

/// A QR decoder. Implementations must be stateless: the pipeline calls them behind
/// `catch_unwind` and keeps going after a panic.
pub(crate) trait Backend: Send + Sync {
    fn read(&self, image: &GrayImage, binarisation: Binarisation)
        -> Result<Vec<RawSymbol>, String>;
}

/// zxing-cpp, QR codes only, trying harder, inverted, rotated and downscaled images itself.
pub(crate) struct ZxingCpp;

impl Backend for ZxingCpp {
    fn read(
        &self,
        image: &GrayImage,
        binarisation: Binarisation,
    ) -> Result<Vec<RawSymbol>, String> {
        let view = zxingcpp::ImageView::from_slice(
            image.as_raw(),
            image.width(),
            image.height(),
            zxingcpp::ImageFormat::Lum,
        )
        .map_err(|e| e.to_string())?;
        // The options object holds a C++ pointer and is neither Send nor Sync, so it is made per
        // call (cheap) rather than kept in the decoder.
        let reader = zxingcpp::read()
            .formats([zxingcpp::BarcodeFormat::QRCode])
            .try_harder(true)
            .try_invert(true)
            .try_rotate(true)
            .try_downscale(true)
            // Plain: the text in the code's own character set, without the "human readable"
            // rewriting of control characters that the default mode does.
            .text_mode(zxingcpp::TextMode::Plain)
            .binarizer(match binarisation {
                Binarisation::LocalAverage => zxingcpp::Binarizer::LocalAverage,
                Binarisation::GlobalHistogram => zxingcpp::Binarizer::GlobalHistogram,
                Binarisation::FixedThreshold => zxingcpp::Binarizer::FixedThreshold,
            });
        let barcodes = reader.from(view).map_err(|e| e.to_string())?;
        Ok(barcodes
            .into_iter()
            .filter(|b| b.is_valid())
            .map(|b| {
                let p = b.position();
                RawSymbol {
                    text: b.text(),
                    bytes: b.bytes(),
                    corners: [
                        (p.top_left.x, p.top_left.y),
                        (p.top_right.x, p.top_right.y),
                        (p.bottom_right.x, p.bottom_right.y),
                        (p.bottom_left.x, p.bottom_left.y),
                    ],
                    inverted: b.is_inverted(),
                    mirrored: b.is_mirrored(),
                }
            })
            .collect())
    }
}
