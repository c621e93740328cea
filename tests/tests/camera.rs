//! From issue to verdict through a simulated camera: passes are signed with `checkpass`, drawn
//! as QR codes the way the issuer draws them (level Q), placed in a camera-sized frame and
//! damaged the way a phone or webcam at a checkpoint damages them (perspective, rotation,
//! blur, sensor noise, JPEG, uneven light, glare, a dim screen, a crease, a code far away).
//! The verifier's decoder must still read them, and the engine must give the right verdict.
//! And the other direction: a forged, altered or foreign QR, damaged or not, is never green.

use checkpass::bundle::{sign_bundle, RevocationList};
use checkpass::keys::SigningKey;
use checkpass::pass::{Pass, Serial};
use checkpass::verdict::Level;
use checkpass::{rules, sample, wire};
use image::codecs::jpeg::JpegEncoder;
use image::{imageops, GrayImage, ImageReader, Luma};
use imageproc::filter::gaussian_blur_f32;
use imageproc::geometric_transformations::{
    rotate_about_center, warp, Border, Interpolation, Projection,
};
use imageproc::noise::gaussian_noise;
use qrcode::{EcLevel, QrCode};
use verifier::decode::FrameDecoder;
use verifier::engine::Engine;

/// A webcam frame.
const FRAME_W: u32 = 640;
const FRAME_H: u32 = 480;
/// A serial the test bundle revokes.
const REVOKED: u64 = 900;
const NOW: i64 = sample::NOW;

/// A checkpoint (C101) with a fresh data directory and a bundle trusting `signing`.
struct Checkpoint {
    _dir: tempfile::TempDir,
    engine: Engine,
    signing: SigningKey,
    decoder: FrameDecoder,
    /// Scan times go forward a second per scan, as at a real checkpoint.
    clock: i64,
}

impl Checkpoint {
    fn new() -> Checkpoint {
        let dir = tempfile::tempdir().unwrap();
        // Fixed keys: the same QR modules every run, so a damage that reads today reads
        // tomorrow (random keys would change the code's pattern from run to run).
        let root = SigningKey::from_seed(&[0x51; 32]);
        let signing = SigningKey::from_seed(&[0x52; 32]);
        let mut engine = Engine::init(dir.path(), root.public_key(), "C101", Some("E2E")).unwrap();
        let mut bundle = sample::bundle(&signing, 1, sample::ISSUED_AT);
        bundle.revoked = [Serial(REVOKED)].into_iter().collect::<RevocationList>();
        engine
            .install_bundle(&sign_bundle(&bundle, &root).unwrap())
            .unwrap();
        Checkpoint {
            _dir: dir,
            engine,
            signing,
            decoder: FrameDecoder::new(),
            clock: NOW,
        }
    }

    /// The sample pass with `serial`, changed by `f`, signed by this city's key.
    fn pass(&self, serial: u64, f: impl FnOnce(&mut Pass)) -> String {
        let mut p = sample::pass();
        p.serial = Serial(serial);
        f(&mut p);
        wire::issue_qr_text(&p, &self.signing).unwrap()
    }

    /// Reads every QR in the frame and checks each one; returns (text, level, codes).
    fn scan(&mut self, frame: &GrayImage) -> Vec<(String, Level, Vec<&'static str>)> {
        let codes = self.decoder.decode(frame);
        codes
            .into_iter()
            .map(|d| {
                self.clock += 1;
                let checked = self.engine.check_text(&d.text, self.clock).unwrap();
                (d.text, checked.verdict.level(), checked.verdict.codes())
            })
            .collect()
    }
}

/// The QR as the issuer draws it (level Q), `px` pixels per module, with its quiet zone.
fn qr(text: &str, px: u32) -> GrayImage {
    QrCode::with_error_correction_level(text.as_bytes(), EcLevel::Q)
        .unwrap()
        .render::<Luma<u8>>()
        .quiet_zone(true)
        .module_dimensions(px, px)
        .build()
}

/// The code centred in a camera frame whose background is a dim cab interior.
fn in_frame(code: &GrayImage) -> GrayImage {
    let mut frame = GrayImage::from_pixel(FRAME_W, FRAME_H, Luma([90]));
    let x = (i64::from(FRAME_W) - i64::from(code.width())) / 2;
    let y = (i64::from(FRAME_H) - i64::from(code.height())) / 2;
    imageops::overlay(&mut frame, code, x, y);
    frame
}

fn perspective(img: &GrayImage, strength: f32) -> GrayImage {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let s = strength;
    let from = [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)];
    // Seen from below and to the left: the far edge shrinks.
    let to = [
        (w * s, h * s * 0.6),
        (w * (1.0 - s * 0.3), 0.0),
        (w, h),
        (w * s * 0.5, h * (1.0 - s)),
    ];
    let p = Projection::from_control_points(from, to).unwrap();
    warp(
        img,
        p,
        Interpolation::Bilinear,
        Border::Constant(Luma([90])),
    )
}

fn rotate(img: &GrayImage, degrees: f32) -> GrayImage {
    rotate_about_center(
        img,
        degrees.to_radians(),
        Interpolation::Bilinear,
        Border::Constant(Luma([90])),
    )
}

fn jpeg(img: &GrayImage, quality: u8) -> GrayImage {
    let mut bytes = Vec::new();
    JpegEncoder::new_with_quality(&mut bytes, quality)
        .encode_image(img)
        .unwrap();
    ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .unwrap()
        .decode()
        .unwrap()
        .to_luma8()
}

/// Light falling off from one corner to the other (a cab window on one side).
fn uneven_light(img: &GrayImage, darkest: f32) -> GrayImage {
    let (w, h) = (img.width() as f32, img.height() as f32);
    GrayImage::from_fn(img.width(), img.height(), |x, y| {
        let t = (x as f32 / w) * 0.7 + (y as f32 / h) * 0.3;
        let gain = darkest + (1.0 - darkest) * t;
        Luma([(f32::from(img.get_pixel(x, y)[0]) * gain) as u8])
    })
}

/// A bright reflection centred at (cx, cy) (fractions of the frame), as from a phone screen.
fn glare(img: &GrayImage, cx: f32, cy: f32, radius: f32, strength: f32) -> GrayImage {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let (cx, cy, r) = (cx * w, cy * h, radius * w);
    GrayImage::from_fn(img.width(), img.height(), |x, y| {
        let d2 = (x as f32 - cx).powi(2) + (y as f32 - cy).powi(2);
        let add = strength * (-d2 / (2.0 * r * r)).exp();
        Luma([(f32::from(img.get_pixel(x, y)[0]) + add).min(255.0) as u8])
    })
}

/// A phone screen at low brightness: black is not black, white is grey.
fn dim(img: &GrayImage, low: u8, high: u8) -> GrayImage {
    let (lo, hi) = (f32::from(low), f32::from(high));
    GrayImage::from_fn(img.width(), img.height(), |x, y| {
        let v = f32::from(img.get_pixel(x, y)[0]) / 255.0;
        Luma([(lo + v * (hi - lo)) as u8])
    })
}

/// A fold across a printout: a dark line with a light shadow.
fn crease(img: &GrayImage) -> GrayImage {
    let mut out = img.clone();
    let (w, h) = (img.width() as i64, img.height() as i64);
    for x in 0..w {
        let y0 = h / 3 + x / 5;
        for dy in 0..3 {
            let y = y0 + dy;
            if (0..h).contains(&y) {
                let p = out.get_pixel_mut(x as u32, y as u32);
                p[0] = p[0].saturating_sub(90);
            }
        }
    }
    out
}

type Damage = (&'static str, fn(&str) -> GrayImage);

/// Each damage takes the QR text and gives a camera frame.
fn damages() -> Vec<Damage> {
    vec![
        ("clean", |t| in_frame(&qr(t, 4))),
        ("perspective", |t| perspective(&in_frame(&qr(t, 4)), 0.25)),
        ("rotated 15°", |t| rotate(&in_frame(&qr(t, 4)), 15.0)),
        ("blur σ2.0", |t| {
            gaussian_blur_f32(&in_frame(&qr(t, 4)), 2.0)
        }),
        ("sensor noise σ30", |t| {
            gaussian_noise(&in_frame(&qr(t, 4)), 0.0, 30.0, 7)
        }),
        ("JPEG q6", |t| jpeg(&in_frame(&qr(t, 4)), 6)),
        ("uneven light", |t| uneven_light(&in_frame(&qr(t, 4)), 0.2)),
        ("glare", |t| {
            glare(&in_frame(&qr(t, 4)), 0.56, 0.55, 0.08, 240.0)
        }),
        ("dim screen", |t| {
            gaussian_noise(&dim(&in_frame(&qr(t, 4)), 60, 140), 0.0, 6.0, 3)
        }),
        ("crease", |t| crease(&in_frame(&qr(t, 4)))),
        ("far away (2 px/module)", |t| in_frame(&qr(t, 2))),
        ("upside down", |t| rotate(&in_frame(&qr(t, 4)), 180.0)),
        ("phone photo (all at once)", phone_photo),
    ]
}

/// Everything at once, milder: what a phone held by an officer through a cab window does.
fn phone_photo(t: &str) -> GrayImage {
    let f = in_frame(&qr(t, 4));
    let f = perspective(&f, 0.10);
    let f = rotate(&f, -5.0);
    let f = gaussian_blur_f32(&f, 0.9);
    let f = uneven_light(&f, 0.5);
    let f = glare(&f, 0.3, 0.3, 0.06, 90.0);
    let f = gaussian_noise(&f, 0.0, 8.0, 11);
    jpeg(&f, 35)
}

#[test]
fn damaged_genuine_passes_are_read_and_green() {
    let mut cp = Checkpoint::new();
    let mut unread = Vec::new();
    for (i, (name, damage)) in damages().into_iter().enumerate() {
        let text = cp.pass(100 + i as u64, |_| {});
        let frame = damage(&text);
        // CAMERA_FRAMES=DIR keeps the frames for a person to look at.
        if let Some(dir) = std::env::var_os("CAMERA_FRAMES") {
            let file = format!("{i:02}-{}.png", name.split(' ').next().unwrap_or("frame"));
            frame.save(std::path::Path::new(&dir).join(file)).unwrap();
        }
        let results = cp.scan(&frame);
        if results.is_empty() {
            unread.push(name);
            continue;
        }
        assert_eq!(results.len(), 1, "{name}: one code in the frame");
        let (read, level, codes) = &results[0];
        assert_eq!(read, &text, "{name}: read exactly");
        assert_eq!(*level, Level::Green, "{name}: {codes:?}");
    }
    assert!(unread.is_empty(), "not read: {unread:?}");
}

#[test]
fn damaged_passes_keep_their_amber_and_red_verdicts() {
    let mut cp = Checkpoint::new();
    let off_route = cp.pass(201, |p| p.body.route = vec!["C201".into(), "C102".into()]);
    let revoked = cp.pass(REVOKED, |_| {});
    let expired = cp.pass(202, |p| {
        p.not_before = NOW - 4 * 86_400;
        p.expires_at = NOW - 86_400;
    });
    let unknown_key =
        wire::issue_qr_text(&sample::pass(), &SigningKey::from_seed(&[0x66; 32])).unwrap();
    let cases: [(&str, &str, Level, &str); 4] = [
        ("off route", &off_route, Level::Amber, "NOT_ON_ROUTE"),
        ("revoked", &revoked, Level::Red, "REVOKED"),
        ("expired", &expired, Level::Red, "EXPIRED"),
        (
            "forged (unknown key)",
            &unknown_key,
            Level::Red,
            "UNKNOWN_KEY",
        ),
    ];
    for (name, text, want, code) in cases {
        for frame in [
            phone_photo(text),
            perspective(&in_frame(&qr(text, 4)), 0.18),
        ] {
            let results = cp.scan(&frame);
            assert_eq!(results.len(), 1, "{name}: read");
            let (read, level, codes) = &results[0];
            assert_eq!(read, text, "{name}");
            assert_eq!(*level, want, "{name}: {codes:?}");
            assert!(codes.contains(&code), "{name}: {codes:?}");
        }
    }
}

/// Base45 alphabet: every character of a pass QR text after the prefix is one of these.
const B45: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

#[test]
fn altered_pass_texts_are_never_green() {
    // Every single-character change of a genuine pass text, at every position, checked by the
    // same rules the engine uses: the signature covers every byte, so none may pass.
    let cp = Checkpoint::new();
    let text = cp.pass(300, |_| {});
    let bundle = cp.engine.bundle().unwrap().clone();
    assert_eq!(
        rules::verify(&text, &bundle, "C101", NOW).level(),
        Level::Green
    );
    let bytes = text.as_bytes();
    let mut checked = 0;
    for i in 0..bytes.len() {
        // Three substitutes per position keep the sweep quick while hitting every byte.
        for k in 1..=3 {
            let pos = B45.iter().position(|&c| c == bytes[i]).unwrap_or(0);
            let mut altered = bytes.to_vec();
            altered[i] = B45[(pos + k * 7) % B45.len()];
            let altered = String::from_utf8(altered).unwrap();
            let v = rules::verify(&altered, &bundle, "C101", NOW);
            assert_ne!(v.level(), Level::Green, "position {i}: {altered}");
            checked += 1;
        }
    }
    // Cut short and extended as well: a scan that lost the tail, or picked up more.
    for cut in 1..text.len() {
        assert_ne!(
            rules::verify(&text[..cut], &bundle, "C101", NOW).level(),
            Level::Green
        );
    }
    for extra in ["0", "ABC", " ", "%", &text[text.len() - 3..]] {
        let longer = format!("{text}{extra}");
        assert_ne!(
            rules::verify(&longer, &bundle, "C101", NOW).level(),
            Level::Green,
            "extended by {extra:?}"
        );
    }
    assert!(checked > 3 * 300);
}

#[test]
fn altered_and_foreign_qrs_through_the_camera_are_never_green() {
    let mut cp = Checkpoint::new();
    let genuine = cp.pass(400, |_| {});
    let mut frames: Vec<(String, GrayImage)> = Vec::new();

    // The genuine text with characters changed, redrawn as a valid QR (a forger's edit).
    for i in [10, genuine.len() / 2, genuine.len() - 5] {
        let mut b = genuine.clone().into_bytes();
        b[i] = if b[i] == b'0' { b'1' } else { b'0' };
        let altered = String::from_utf8(b).unwrap();
        frames.push((format!("altered at {i}"), phone_photo(&altered)));
    }
    // The same pass re-signed by a key the city never issued (the plate changed).
    let mut p = sample::pass();
    p.body.plate = "鲁K99999".into();
    let forged = wire::issue_qr_text(&p, &SigningKey::from_seed(&[0x66; 32])).unwrap();
    frames.push(("re-signed with another key".into(), phone_photo(&forged)));
    // Foreign codes: a URL, a payment code, random bytes.
    for (name, content) in [
        ("url", "https://example.com/tp1".to_string()),
        (
            "payment",
            "wxp://f2f0dd4Jb6ZkQbfDsU1H2sAg3yEwn0Zc9kM3".to_string(),
        ),
        (
            "look-alike prefix",
            format!("TP1:{}", &genuine[4..genuine.len() - 20]),
        ),
    ] {
        frames.push((name.into(), phone_photo(&content)));
    }
    // Foreign health certificates, photographed.
    let dgc =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../verifier/testdata/corpus/dgc");
    for name in [
        "AE_test.png",
        "DK_7.png",
        "SG_1.png",
        "NL_140-NL-vaccination.png",
    ] {
        let img = ImageReader::open(dgc.join(name))
            .unwrap()
            .decode()
            .unwrap()
            .to_luma8();
        let small = imageops::resize(
            &img,
            420,
            420 * img.height() / img.width().max(1),
            imageops::FilterType::Triangle,
        );
        let frame = gaussian_noise(&perspective(&in_frame(&small), 0.1), 0.0, 6.0, 5);
        frames.push((format!("EU certificate {name}"), frame));
    }

    let mut read = 0;
    for (name, frame) in &frames {
        for (text, level, codes) in cp.scan(frame) {
            read += 1;
            assert_ne!(level, Level::Green, "{name}: {codes:?} for {text}");
            assert_eq!(level, Level::Red, "{name}: {codes:?}");
        }
    }
    // Most of them must actually have been read, or the test would prove nothing.
    assert!(
        read >= frames.len() - 2,
        "only {read} of {} foreign codes read",
        frames.len()
    );

    // Heavy damage to a genuine pass, many ways: whatever the decoder makes of it, a text that
    // is not exactly the genuine one is never green.
    for seed in 0..6u64 {
        let mut frame = phone_photo(&genuine);
        // Stickers over parts of the code.
        for k in 0..3 {
            let x = 200 + ((seed * 37 + k * 53) % 200) as u32;
            let y = 130 + ((seed * 59 + k * 31) % 200) as u32;
            let shade = if (seed + k) % 2 == 0 { 20 } else { 235 };
            for dx in 0..22 {
                for dy in 0..22 {
                    if x + dx < FRAME_W && y + dy < FRAME_H {
                        frame.put_pixel(x + dx, y + dy, Luma([shade]));
                    }
                }
            }
        }
        for (text, level, codes) in cp.scan(&frame) {
            if text != genuine {
                assert_ne!(
                    level,
                    Level::Green,
                    "seed {seed}: misread text {text} was green {codes:?}"
                );
            }
        }
    }
}
