//! Tests of the decoding pipeline: corpus read rates (a subset, so debug CI stays fast), inverted
//! and mirrored codes, camera-like frames, panics inside the decoder, bad image files.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use image::{GrayImage, Luma};
use qrcode::{EcLevel, QrCode};

use super::backend::{Backend, RawSymbol};
use super::synth::{camera_frame, inverted, mirrored, Placement};
use super::*;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/corpus")
}

fn pass_text(len: usize) -> String {
    super::synth::pass_text(len, 12345)
}

fn render(data: &[u8], ec: EcLevel, module_px: u32) -> GrayImage {
    let code = QrCode::with_error_correction_level(data, ec).unwrap();
    code.render::<Luma<u8>>()
        .quiet_zone(true)
        .module_dimensions(module_px, module_px)
        .build()
}

fn texts(codes: &[Decoded]) -> Vec<&str> {
    codes.iter().map(|c| c.text.as_str()).collect()
}

/// Reads every `step`-th exact row of a corpus folder and returns (read, scored).
fn corpus_rate(folder: &str, step: usize) -> (usize, usize) {
    let dir = corpus_dir().join(folder);
    let manifest = std::fs::read_to_string(dir.join("manifest.tsv")).unwrap();
    let rows = corpus::parse_manifest(&manifest).unwrap();
    let decoder = FrameDecoder::new();
    let (mut read, mut scored) = (0, 0);
    for row in rows.iter().filter(|r| r.exact).step_by(step) {
        let frame = load_gray_image(dir.join(&row.image)).unwrap();
        scored += 1;
        if decoder
            .decode(&frame)
            .iter()
            .any(|c| c.text == row.expected)
        {
            read += 1;
        }
    }
    (read, scored)
}

// Thresholds sit a little below what the pipeline reads in release builds (docs/bench-corpus.md:
// 94.9 %, 95.0 %, 100 %), so a regression in decoding fails them.

#[test]
fn reads_zxing_cpp_corpus_samples() {
    let (read, scored) = corpus_rate("zxingcpp-qr", 1);
    assert!(scored >= 130, "{scored}");
    assert!(read * 100 >= scored * 93, "read {read} of {scored}");
}

#[test]
fn reads_zxing_corpus_samples() {
    let (read, scored) = corpus_rate("zxing-qr", 1);
    assert!(scored >= 170, "{scored}");
    assert!(read * 100 >= scored * 93, "read {read} of {scored}");
}

#[test]
fn reads_dense_certificate_samples() {
    // Every 8th image: these codes are all read, and they are large PNGs (slow in debug).
    let (read, scored) = corpus_rate("dgc", 8);
    assert!(scored >= 60, "{scored}");
    assert_eq!(read, scored);
}

#[test]
fn reads_a_plain_code_with_corners() {
    let text = pass_text(250);
    let code = render(text.as_bytes(), EcLevel::Q, 4);
    let frame = camera_frame(
        &code,
        &Placement {
            side: 360.0,
            ..Placement::default()
        },
    );
    let codes = FrameDecoder::new().decode(&frame);
    assert_eq!(texts(&codes), [text.as_str()]);
    let c = &codes[0];
    assert_eq!(c.bytes, text.as_bytes());
    assert!(!c.inverted && !c.mirrored);
    // The code (without its 4-module quiet zone) is centred at (640, 360).
    let mid_x = c.corners.iter().map(|p| p.x).sum::<f32>() / 4.0;
    let mid_y = c.corners.iter().map(|p| p.y).sum::<f32>() / 4.0;
    assert!(
        (mid_x - 640.0).abs() < 10.0 && (mid_y - 360.0).abs() < 10.0,
        "{c:?}"
    );
    assert!(c.corners[0].x < c.corners[1].x && c.corners[0].y < c.corners[3].y);
}

#[test]
fn reads_inverted_and_mirrored_codes() {
    let text = pass_text(120);
    let code = render(text.as_bytes(), EcLevel::Q, 5);
    let decoder = FrameDecoder::new();

    let inv = decoder.decode(&inverted(&code));
    assert_eq!(texts(&inv), [text.as_str()]);
    assert!(inv[0].inverted);

    let mir = decoder.decode(&mirrored(&code));
    assert_eq!(texts(&mir), [text.as_str()]);
    assert!(mir[0].mirrored);

    let both = decoder.decode(&mirrored(&inverted(&code)));
    assert_eq!(texts(&both), [text.as_str()]);
    assert!(both[0].inverted && both[0].mirrored);
}

#[test]
fn reads_camera_like_frames() {
    let text = pass_text(250);
    let code = render(text.as_bytes(), EcLevel::Q, 4);
    let decoder = FrameDecoder::new();
    let cases = [
        // Turned and foreshortened printout.
        Placement {
            side: 420.0,
            angle_deg: 17.0,
            foreshorten: 0.8,
            ..Placement::default()
        },
        // Phone screen at low brightness, uneven light, slightly out of focus, noisy.
        Placement {
            side: 380.0,
            angle_deg: -8.0,
            dark: 70,
            light: 165,
            background: 40,
            falloff: 0.4,
            blur_sigma: 1.2,
            noise: 12,
            ..Placement::default()
        },
        // Upside down and off centre.
        Placement {
            side: 330.0,
            angle_deg: 183.0,
            centre: (0.3, 0.45),
            ..Placement::default()
        },
    ];
    for p in &cases {
        let codes = decoder.decode(&camera_frame(&code, p));
        assert_eq!(texts(&codes), [text.as_str()], "{p:?}");
    }
}

#[test]
fn empty_frames_give_nothing() {
    let decoder = FrameDecoder::new();
    assert!(decoder.decode(&GrayImage::new(0, 0)).is_empty());
    assert!(decoder.decode(&GrayImage::new(1, 1)).is_empty());
    let report = decoder.decode_report(&GrayImage::from_pixel(640, 480, Luma([128])));
    assert!(report.codes.is_empty());
    assert_eq!(report.attempts.len(), decoder.passes().len());
    assert!(report
        .attempts
        .iter()
        .all(|a| matches!(a, Attempt::Nothing(_))));

    // A camera frame is not upscaled.
    let report = decoder.decode_report(&GrayImage::from_pixel(1280, 720, Luma([128])));
    let skipped: Vec<_> = report
        .attempts
        .iter()
        .filter_map(|a| match a {
            Attempt::Skipped(p) => Some(p.preprocess),
            _ => None,
        })
        .collect();
    assert_eq!(skipped, [Preprocess::Double]);
}

#[test]
fn binary_payload_does_not_panic() {
    let payload: Vec<u8> = (0..=255u8).rev().collect();
    let code = render(&payload, EcLevel::M, 4);
    let codes = FrameDecoder::new().decode(&code);
    assert_eq!(codes.len(), 1);
    assert_eq!(codes[0].bytes, payload);
}

#[test]
fn fallback_pass_corners_are_in_frame_coordinates() {
    let text = pass_text(40);
    let code = render(text.as_bytes(), EcLevel::Q, 6);
    let margin = 4.0 * 6.0;
    for pre in [Preprocess::Half, Preprocess::Double, Preprocess::Blur] {
        let decoder = FrameDecoder::with_passes(vec![Pass::new(pre, Binarisation::LocalAverage)]);
        let codes = decoder.decode(&code);
        assert_eq!(texts(&codes), [text.as_str()], "{pre:?}");
        let tl = codes[0].corners[0];
        assert!(
            (tl.x - margin).abs() < 4.0 && (tl.y - margin).abs() < 4.0,
            "{pre:?} {tl:?}"
        );
    }
}

/// Panics on its first `panics` calls, then reports one code.
struct Flaky {
    panics: usize,
    calls: AtomicUsize,
}

impl Backend for Flaky {
    fn read(&self, _: &GrayImage, _: Binarisation) -> Result<Vec<RawSymbol>, String> {
        if self.calls.fetch_add(1, Ordering::SeqCst) < self.panics {
            panic!("decoder bug");
        }
        Ok(vec![RawSymbol {
            text: "ok".into(),
            bytes: b"ok".to_vec(),
            corners: [(0, 0), (10, 0), (10, 10), (0, 10)],
            inverted: false,
            mirrored: false,
        }])
    }
}

#[test]
fn a_panicking_decoder_is_caught_and_the_next_pass_runs() {
    let backend = Arc::new(Flaky {
        panics: 2,
        calls: AtomicUsize::new(0),
    });
    let decoder = FrameDecoder::new().with_backend(backend);
    let report = decoder.decode_report(&GrayImage::new(100, 100));
    assert_eq!(texts(&report.codes), ["ok"]);
    assert!(matches!(&report.attempts[0], Attempt::Panicked(_, m) if m == "decoder bug"));
    assert!(matches!(&report.attempts[1], Attempt::Panicked(..)));
    assert!(matches!(&report.attempts[2], Attempt::Found(_, 1)));
}

#[test]
fn a_decoder_that_always_panics_gives_no_codes() {
    let backend = Arc::new(Flaky {
        panics: usize::MAX,
        calls: AtomicUsize::new(0),
    });
    let decoder = FrameDecoder::new().with_backend(backend);
    assert!(decoder.decode(&GrayImage::new(100, 100)).is_empty());
}

fn write_temp(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn png_bytes(img: &GrayImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

#[test]
fn reads_png_and_jpeg_files() {
    let dir = tempfile::tempdir().unwrap();
    let text = pass_text(100);
    let code = render(text.as_bytes(), EcLevel::Q, 4);
    let png = write_temp(&dir, "pass.png", &png_bytes(&code));
    assert_eq!(texts(&decode_image_file(&png).unwrap()), [text.as_str()]);

    let mut jpeg = std::io::Cursor::new(Vec::new());
    code.write_to(&mut jpeg, image::ImageFormat::Jpeg).unwrap();
    // Named .png on purpose: the format is taken from the content, not the name.
    let jpeg = write_temp(&dir, "photo.png", &jpeg.into_inner());
    assert_eq!(texts(&decode_image_file(&jpeg).unwrap()), [text.as_str()]);
}

#[test]
fn bad_files_give_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let png = png_bytes(&render(pass_text(100).as_bytes(), EcLevel::Q, 4));

    let missing = dir.path().join("missing.png");
    assert!(matches!(
        decode_image_file(&missing),
        Err(DecodeError::Read { .. })
    ));

    let empty = write_temp(&dir, "empty.png", b"");
    assert!(matches!(
        decode_image_file(&empty),
        Err(DecodeError::NotAnImage { .. })
    ));

    let text = write_temp(&dir, "notes.png", "不是图片 not an image".as_bytes());
    assert!(matches!(
        decode_image_file(&text),
        Err(DecodeError::NotAnImage { .. })
    ));

    let gif = write_temp(&dir, "anim.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;");
    assert!(matches!(
        decode_image_file(&gif),
        Err(DecodeError::NotAnImage { .. })
    ));

    for cut in [8, 40, png.len() / 2, png.len() - 13] {
        let truncated = write_temp(&dir, "cut.png", &png[..cut]);
        let err = decode_image_file(&truncated).unwrap_err();
        assert!(
            matches!(err, DecodeError::Corrupt { .. }),
            "cut at {cut}: {err:?}"
        );
        assert!(err.to_string().contains("cut.png"), "{err}");
    }

    let mut jpeg = std::io::Cursor::new(Vec::new());
    GrayImage::from_pixel(64, 64, Luma([200]))
        .write_to(&mut jpeg, image::ImageFormat::Jpeg)
        .unwrap();
    let jpeg = jpeg.into_inner();
    let cut = write_temp(&dir, "cut.jpg", &jpeg[..jpeg.len() / 3]);
    assert!(decode_image_file(&cut).is_err());
}

#[test]
fn huge_images_are_refused_before_decoding() {
    let dir = tempfile::tempdir().unwrap();
    // A valid PNG header claiming 100000 × 100000 pixels, then an empty image data chunk.
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(png_chunk(b"IHDR", &ihdr));
    png.extend(png_chunk(b"IDAT", &[]));
    png.extend(png_chunk(b"IEND", &[]));
    let path = write_temp(&dir, "huge.png", &png);
    match decode_image_file(&path) {
        Err(DecodeError::TooManyPixels { width, height, .. }) => {
            assert_eq!((width, height), (100_000, 100_000))
        }
        other => panic!("{other:?}"),
    }

    // A file over the size cap (sparse, so the test writes almost nothing).
    let big = dir.path().join("big.png");
    let file = std::fs::File::create(&big).unwrap();
    file.set_len(MAX_FILE_BYTES + 1).unwrap();
    assert!(matches!(
        decode_image_file(&big),
        Err(DecodeError::FileTooLarge { .. })
    ));
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(&body);
    chunk.extend_from_slice(&crc32fast::hash(&body).to_be_bytes());
    chunk
}

#[test]
fn manifest_parsing() {
    let rows = corpus::parse_manifest(
        "image\texpected\texact\ttags\na.png\tx\\ny\\\\z\\tw\t1\tq,two_symbols\nb.png\t\t0\t\n",
    )
    .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].expected, "x\ny\\z\tw");
    assert_eq!(rows[0].tags, ["q", "two_symbols"]);
    assert!(!rows[1].exact);
    assert_eq!(
        corpus::parse_manifest("image\texpected\texact\ttags\na.png\tx\t2\t\n")
            .unwrap_err()
            .line,
        2
    );
    assert!(corpus::parse_manifest("nope").is_err());
}

#[test]
fn decoder_can_move_to_a_camera_thread() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<FrameDecoder>();
}
