//! Shared fixtures of the GUI tests: a data directory set up as checkpoint C101 with a bundle
//! trusting a test signing key, and QR texts for a green, an amber and a red verdict.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use checkpass::bundle::{sign_bundle, RevocationList};
use checkpass::keys::SigningKey;
use checkpass::pass::{Pass, Serial};
use checkpass::{sample, wire};
use image::GrayImage;
use qrcode::{EcLevel, QrCode};
use verifier::decode::synth::{camera_frame, Placement};
use verifier::engine::Engine;

/// Inside the sample pass's validity window.
pub const NOW: i64 = sample::NOW;
/// A serial the test bundle revokes.
pub const REVOKED: u64 = 900;

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub root: SigningKey,
    pub signing: SigningKey,
}

impl Fixture {
    /// A checkpoint C101, officer W-007, bundle sequence 1 issued 22 hours before [`NOW`].
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let root = SigningKey::from_seed(&[0x22; 32]);
        let signing = SigningKey::from_seed(&[0x11; 32]);
        let mut engine =
            Engine::init(dir.path(), root.public_key(), "C101", Some("W-007")).unwrap();
        let mut bundle = sample::bundle(&signing, 1, sample::ISSUED_AT);
        bundle.revoked = [Serial(REVOKED)].into_iter().collect::<RevocationList>();
        engine
            .install_bundle(&sign_bundle(&bundle, &root).unwrap())
            .unwrap();
        Fixture { dir, root, signing }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn text(&self, pass: &Pass) -> String {
        wire::issue_qr_text(pass, &self.signing).unwrap()
    }

    /// The sample pass: C101 is on its route.
    pub fn green(&self) -> String {
        self.text(&sample::pass())
    }

    /// A valid pass whose route does not pass C101: amber (NOT_ON_ROUTE).
    pub fn amber(&self) -> String {
        let mut p = sample::pass();
        p.serial = Serial(2);
        p.body.route = vec!["C201".into(), "C202".into()];
        self.text(&p)
    }

    /// A revoked pass: red.
    pub fn red(&self) -> String {
        let mut p = sample::pass();
        p.serial = Serial(REVOKED);
        p.body.plate = "鲁KR9000".into();
        self.text(&p)
    }

    /// A bundle file signed by `root` with `sequence`.
    pub fn bundle_file(&self, root: &SigningKey, sequence: u64, name: &str) -> PathBuf {
        let bundle = sample::bundle(&self.signing, sequence, sample::ISSUED_AT);
        let path = self.dir.path().join(name);
        std::fs::write(&path, sign_bundle(&bundle, root).unwrap()).unwrap();
        path
    }
}

/// `text` as a QR code the way the issuer prints it (level Q), 8 px modules.
pub fn qr_image(text: &str) -> GrayImage {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::Q).unwrap();
    code.render::<image::Luma<u8>>()
        .module_dimensions(8, 8)
        .quiet_zone(true)
        .build()
}

/// A 1280×720 camera-like frame holding `text`, or an empty one.
pub fn frame(text: Option<&str>, seed: u64) -> GrayImage {
    let p = Placement {
        seed,
        noise: 6,
        falloff: 0.2,
        angle_deg: 7.0,
        ..Placement::default()
    };
    match text {
        Some(t) => camera_frame(&qr_image(t), &p),
        None => camera_frame(&GrayImage::from_pixel(8, 8, image::Luma([120])), &p),
    }
}

/// Writes a recording: one PNG per entry, in order (`None`: a frame with no code).
pub fn record(dir: &Path, frames: &[Option<&str>]) -> PathBuf {
    let folder = dir.join("frames");
    std::fs::create_dir_all(&folder).unwrap();
    for (i, t) in frames.iter().enumerate() {
        frame(*t, i as u64 + 1)
            .save(folder.join(format!("frame-{i:04}.png")))
            .unwrap();
    }
    folder
}
