//! `verifier check IMAGE…`: passes rendered to PNG and JPEG are read and checked; several
//! QRs and images give one result each and the worst verdict as exit status.

mod common;

use std::path::Path;

use checkpass::pass::Serial;
use common::*;
use image::codecs::jpeg::JpegEncoder;
use image::{imageops, GrayImage, Luma};
use qrcode::{EcLevel, QrCode};

fn qr_image(text: &str) -> GrayImage {
    QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .unwrap()
        .render::<Luma<u8>>()
        .quiet_zone(true)
        .module_dimensions(4, 4)
        .build()
}

fn save_jpeg(img: &GrayImage, path: &Path, quality: u8) {
    let mut out = std::fs::File::create(path).unwrap();
    JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(img)
        .unwrap();
}

#[test]
fn pass_images_png_and_jpeg() {
    let f = Fixture::ready();
    let png = f.path("pass.png");
    qr_image(&f.pass_text()).save(&png).unwrap();
    let out = f.run(&["check", "--at", NOW_RFC3339, png.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    let s = stdout(&out);
    assert!(s.contains("pass.png · 二维码 1/1"), "{s}");
    assert!(s.contains("结论：通过"), "{s}");
    assert!(s.contains("鲁KP20XL"), "{s}");

    let jpg = f.path("pass.jpg");
    let other = f.pass_text_with(|p| p.serial = Serial(2));
    save_jpeg(&qr_image(&other), &jpg, 60);
    let out = f.run(&[
        "check",
        "--json",
        "--at",
        NOW_RFC3339,
        jpg.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let v = json_lines(&out);
    assert_eq!(v.len(), 1);
    assert_eq!(v[0]["text"], other.as_str());
    assert_eq!(v[0]["serial"], Serial(2).to_string());
    assert_eq!(v[0]["image"], jpg.to_str().unwrap());
}

#[test]
fn several_images_give_the_worst_verdict() {
    let f = Fixture::ready();
    let green = f.path("green.png");
    qr_image(&f.pass_text()).save(&green).unwrap();
    // Not on the route C201 → C101 of this checkpoint: amber.
    let amber = f.path("amber.png");
    qr_image(&f.pass_text_with(|p| {
        p.serial = Serial(3);
        p.body.route = vec!["C201".into(), "C102".into()];
    }))
    .save(&amber)
    .unwrap();
    let blank = f.path("blank.png");
    GrayImage::from_pixel(200, 200, Luma([255]))
        .save(&blank)
        .unwrap();

    let check = |secs: i64, images: &[&Path]| {
        let at = at(secs);
        let mut args = vec!["check", "--json", "--at", at.as_str()];
        args.extend(images.iter().map(|p| p.to_str().unwrap()));
        let out = f.run(&args);
        (code(&out), json_lines(&out))
    };
    let (c, v) = check(0, &[&green, &amber]);
    assert_eq!(c, 10);
    assert_eq!(v.len(), 2);
    assert_eq!(
        (v[0]["verdict"].as_str(), v[1]["verdict"].as_str()),
        (Some("green"), Some("amber"))
    );
    let (c, v) = check(1000, &[&green, &blank]);
    assert_eq!(c, 20);
    assert_eq!(v[1]["text"], serde_json::Value::Null);
    // The same pass in two photos of one run: the second is a repeat.
    let (c, v) = check(5000, &[&green, &green]);
    assert_eq!(c, 10);
    assert_eq!(reasons(&v[1]), vec!["REPEAT_SCAN"]);
}

#[test]
fn two_codes_in_one_image_are_both_reported() {
    let f = Fixture::ready();
    let pass = qr_image(&f.pass_text());
    let url = qr_image("https://example.com/");
    let mut canvas = GrayImage::from_pixel(
        pass.width() + url.width() + 40,
        pass.height().max(url.height()) + 40,
        Luma([255]),
    );
    imageops::overlay(&mut canvas, &pass, 20, 20);
    imageops::overlay(&mut canvas, &url, i64::from(pass.width()) + 20, 20);
    let both = f.path("both.png");
    canvas.save(&both).unwrap();
    let out = f.run(&[
        "check",
        "--json",
        "--at",
        NOW_RFC3339,
        both.to_str().unwrap(),
    ]);
    let v = json_lines(&out);
    assert_eq!(v.len(), 2, "{v:?}");
    let mut verdicts: Vec<&str> = v.iter().map(|o| o["verdict"].as_str().unwrap()).collect();
    verdicts.sort();
    assert_eq!(verdicts, vec!["green", "red"]);
    assert_eq!(code(&out), 20, "the worst verdict counts");
}
