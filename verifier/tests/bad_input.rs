//! Hostile and foreign input: any QR content and any image file gives a red verdict or a
//! clear error (exit 2), never a panic, and the scan log keeps every earlier record intact.

mod common;

use std::path::Path;

use common::*;
use image::{GrayImage, Luma};
use qrcode::{EcLevel, QrCode};

/// A deterministic byte stream for "random" content (splitmix64).
fn random_bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            (z ^ (z >> 31)) as u8
        })
        .collect()
}

/// The first EU Digital COVID Certificate of the test corpus (a real foreign QR text).
fn eu_health_certificate() -> String {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/corpus/dgc/manifest.tsv");
    let text = std::fs::read_to_string(manifest).unwrap();
    let line = text.lines().nth(1).unwrap();
    let expected = line.split('\t').nth(1).unwrap().to_owned();
    assert!(expected.starts_with("HC1:"));
    expected
}

/// Foreign and hostile QR texts, each with a name for failure messages.
fn hostile_texts(f: &Fixture) -> Vec<(&'static str, String)> {
    let pass = f.pass_text();
    let mut flipped = pass.clone().into_bytes();
    let i = flipped.len() / 2;
    flipped[i] = if flipped[i] == b'A' { b'B' } else { b'A' };
    let lossy_random = String::from_utf8_lossy(&random_bytes(7, 400))
        .replace('\0', "")
        .to_string();
    vec![
        ("url", "https://example.com/pass?id=00000000014".into()),
        ("wechat pay", "wxp://f2f0dd4Jb6ZkQbfDsU1H2sAg3yEwn0Zc9kM3".into()),
        ("alipay", "https://qr.alipay.com/fkx19543jv3gqzucrfzbg2c".into()),
        (
            "emvco payment",
            "00020101021126330014BR.GOV.BCB.PIX0111123456789015204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D"
                .into(),
        ),
        ("wifi", "WIFI:T:WPA;S:checkpoint;P:hunter2;;".into()),
        ("eu health certificate", eu_health_certificate()),
        ("random bytes", lossy_random),
        ("3 KB of text", "通行证".repeat(1024)),
        ("10 KB of text", "A".repeat(10 * 1024)),
        ("empty", String::new()),
        ("prefix only", "TP1:".into()),
        ("bad base45", "TP1:!!!!$$$$####".into()),
        (
            "base45 of random bytes",
            format!("TP1:{}", base45_encode(&random_bytes(9, 300))),
        ),
        ("future version", "TP9:6BFOXN%TS3DH".into()),
        ("truncated pass", pass[..pass.len() / 2].to_owned()),
        ("pass with trailing junk", format!("{pass}00")),
        ("pass lowercased", pass.to_lowercase()),
        ("one character changed", String::from_utf8(flipped).unwrap()),
        ("terminal escape", "\u{1b}[2J\u{1b}[31mGREEN 通过".into()),
    ]
}

/// Base45 (RFC 9285), written out here so the test does not trust the code under test.
fn base45_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    let mut out = String::new();
    for chunk in bytes.chunks(2) {
        let (mut n, digits) = match chunk {
            [a, b] => (u32::from(*a) * 256 + u32::from(*b), 3),
            [a] => (u32::from(*a), 2),
            _ => unreachable!(),
        };
        for _ in 0..digits {
            out.push(ALPHABET[(n % 45) as usize] as char);
            n /= 45;
        }
    }
    out
}

#[test]
fn hostile_qr_texts_are_red_and_logged() {
    let f = Fixture::ready();
    // One good scan first: it must survive everything below unchanged.
    assert_eq!(f.check_json(&f.pass_text(), 0, &[]).0, 0);
    let before = f.log_rows();
    let mut n = before.len();
    for (name, text) in hostile_texts(&f) {
        let (c, v) = f.check_json(&text, 1, &[]);
        assert_eq!(c, 20, "{name}: expected red, got {c}: {v:?}");
        assert_eq!(v.len(), 1, "{name}");
        assert_eq!(v[0]["verdict"], "red", "{name}");
        assert_eq!(
            v[0]["text"],
            text.as_str(),
            "{name}: the raw text is echoed"
        );
        assert_eq!(v[0]["serial"], serde_json::Value::Null, "{name}");
        // The human output does not break on it either, and hides control characters.
        let out = f.check_text(&text, 1, &[]);
        assert_eq!(code(&out), 20, "{name}");
        assert!(
            !stdout(&out).contains('\u{1b}'),
            "{name}: escape reached the terminal"
        );
        n += 2;
        let rows = f.log_rows();
        assert_eq!(rows.len(), n, "{name}: every check is recorded once");
        assert_eq!(
            rows[..before.len()],
            before[..],
            "{name}: earlier records intact"
        );
        assert!(
            rows[before.len()..].iter().all(|r| r.get(7) == Some("red")),
            "{name}"
        );
    }
}

fn render_png(text: &[u8], path: &Path) {
    let code = QrCode::with_error_correction_level(text, EcLevel::L).unwrap();
    let img = code
        .render::<Luma<u8>>()
        .quiet_zone(true)
        .module_dimensions(3, 3)
        .build();
    img.save(path).unwrap();
}

/// A PNG that claims to be `w` × `h` pixels and holds nothing else.
fn png_header_only(w: u32, h: u32) -> Vec<u8> {
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(b"IHDR");
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit gray, no interlace
    let crc = crc32fast::hash(&ihdr);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend_from_slice(&13u32.to_be_bytes());
    out.extend_from_slice(&ihdr);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

#[test]
fn broken_and_hostile_image_files_never_panic() {
    let f = Fixture::ready();
    assert_eq!(f.check_json(&f.pass_text(), 0, &[]).0, 0);
    let before = f.log_rows();

    let good = f.path("good.png");
    render_png(f.pass_text().as_bytes(), &good);
    let bytes = std::fs::read(&good).unwrap();
    let truncated = f.path("truncated.png");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let header_only = f.path("header-only.png");
    std::fs::write(&header_only, &bytes[..40]).unwrap();
    let huge = f.path("huge.png");
    std::fs::write(&huge, png_header_only(100_000, 100_000)).unwrap();
    let wide = f.path("wide.png");
    std::fs::write(&wide, png_header_only(u32::MAX / 2, 1)).unwrap();
    let text_file = f.path("notes.png");
    std::fs::write(&text_file, "this is not an image\n").unwrap();
    let empty = f.path("empty.jpg");
    std::fs::write(&empty, b"").unwrap();
    let random = f.path("random.jpg");
    let mut r = vec![0xFF, 0xD8, 0xFF, 0xE0];
    r.extend(random_bytes(3, 5000));
    std::fs::write(&random, r).unwrap();
    let missing = f.path("missing.png");
    let directory = f.tmp.path().to_path_buf();

    for path in [
        &truncated,
        &header_only,
        &huge,
        &wide,
        &text_file,
        &empty,
        &random,
        &missing,
        &directory,
    ] {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        for json in [false, true] {
            let mut args = vec!["check", "--at", NOW_RFC3339];
            if json {
                args.push("--json");
            }
            args.push(path.to_str().unwrap());
            let out = f.run(&args);
            let c = code(&out);
            assert!(c == 2 || c == 20, "{name}: status {c}");
            if c == 2 {
                assert!(
                    stderr(&out).contains(&name),
                    "{name}: the error names the file: {}",
                    stderr(&out)
                );
            }
            for v in json_lines(&out) {
                assert_eq!(v["verdict"], "red", "{name}");
            }
        }
        let rows = f.log_rows();
        assert_eq!(
            rows[..before.len()],
            before[..],
            "{name}: earlier records intact"
        );
        assert!(
            rows[before.len()..].iter().all(|r| r.get(7) == Some("red")),
            "{name}"
        );
    }

    // A broken file among good ones: the good ones are still checked, the status says error.
    let out = f.run(&[
        "check",
        "--at",
        &at(700),
        "--json",
        good.to_str().unwrap(),
        truncated.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 2);
    let v = json_lines(&out);
    assert_eq!(v.len(), 1);
    assert_eq!(v[0]["verdict"], "green");
}

#[test]
fn foreign_qr_images_are_red() {
    let f = Fixture::ready();
    let dgc = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/corpus/dgc");
    let images: Vec<String> = [
        "AE_test.png",
        "DK_7.png",
        "NL_140-NL-vaccination.png",
        "SG_1.png",
    ]
    .iter()
    .map(|n| dgc.join(n).to_string_lossy().into_owned())
    .collect();
    let mut args = vec!["check", "--json", "--at", NOW_RFC3339];
    args.extend(images.iter().map(String::as_str));
    let out = f.run(&args);
    assert_eq!(code(&out), 20);
    let v = json_lines(&out);
    assert_eq!(v.len(), images.len(), "one object per QR found: {v:?}");
    for obj in &v {
        assert_eq!(obj["verdict"], "red");
        assert_eq!(reasons(obj), vec!["NOT_A_PASS"]);
        assert!(obj["text"].as_str().unwrap().starts_with("HC1:"));
    }

    // Random bytes and a URL as QR codes (byte mode), and 2.5 KB of text.
    for (name, content) in [
        ("bytes.png", random_bytes(11, 200)),
        ("url.png", b"https://example.com/".to_vec()),
        ("long.png", "A".repeat(2500).into_bytes()),
    ] {
        let p = f.path(name);
        render_png(&content, &p);
        let out = f.run(&["check", "--json", "--at", NOW_RFC3339, p.to_str().unwrap()]);
        assert_eq!(code(&out), 20, "{name}");
        let v = json_lines(&out);
        assert_eq!(v.len(), 1, "{name}: {v:?}");
        assert_eq!(v[0]["verdict"], "red", "{name}");
        assert!(v[0]["text"].is_string(), "{name}: the QR was read");
    }
}

#[test]
fn image_without_a_qr_is_red_with_null_text() {
    let f = Fixture::ready();
    let blank = f.path("blank.png");
    GrayImage::from_pixel(400, 300, Luma([235]))
        .save(&blank)
        .unwrap();
    let out = f.run(&[
        "check",
        "--json",
        "--at",
        NOW_RFC3339,
        blank.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 20);
    let v = json_lines(&out);
    assert_eq!(v.len(), 1);
    assert_eq!(v[0]["text"], serde_json::Value::Null);
    assert_eq!(v[0]["verdict"], "red");
    assert_eq!(v[0]["image"], blank.to_str().unwrap());
    let out = f.run(&["check", "--at", NOW_RFC3339, blank.to_str().unwrap()]);
    assert_eq!(code(&out), 20);
    assert!(stdout(&out).contains("未找到二维码"), "{}", stdout(&out));
    assert!(stdout(&out).contains("拒绝"), "{}", stdout(&out));
    assert_eq!(f.log_rows().len(), 2);
}
