//! Reads the QR corpus with each candidate decoder alone and with the combinations that were
//! tried while choosing the verifier's pipeline; prints read rate (exact rows) and median / p95
//! time per image (median of 3 runs of the decode call on an in-memory grayscale image).
//!
//! Usage: bench-corpus-candidates CORPUS_DIR [DECODER...]   (MISSES=1 lists unread images)

use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::Instant;

use image::GrayImage;

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('\\') => out.push('\\'),
            Some(o) => {
                out.push('\\');
                out.push(o)
            }
            None => out.push('\\'),
        }
    }
    out
}

type Decoder = fn(&GrayImage) -> Vec<String>;

fn rqrr(img: &GrayImage) -> Vec<String> {
    // rqrr panics on some images (qrcode-6/7.png: an assertion in its geometry code).
    catch_unwind(AssertUnwindSafe(|| {
        let mut p = rqrr::PreparedImage::prepare_from_greyscale(
            img.width() as usize,
            img.height() as usize,
            |x, y| img.get_pixel(x as u32, y as u32)[0],
        );
        p.detect_grids()
            .into_iter()
            .filter_map(|g| g.decode().ok().map(|(_, s)| s))
            .collect()
    }))
    .unwrap_or_default()
}

fn rxing(img: &GrayImage) -> Vec<String> {
    let mut hints = rxing::DecodeHints::default()
        .with(rxing::DecodeHintValue::TryHarder(true))
        .with(rxing::DecodeHintValue::AlsoInverted(true))
        .with(rxing::DecodeHintValue::PossibleFormats(HashSet::from([
            rxing::BarcodeFormat::QR_CODE,
        ])));
    catch_unwind(AssertUnwindSafe(|| {
        rxing::helpers::detect_in_luma_slice_with_hints(
            img.as_raw(),
            img.width(),
            img.height(),
            None,
            &mut hints,
        )
        .map(|r| vec![r.getText().to_string()])
        .unwrap_or_default()
    }))
    .unwrap_or_default()
}

fn zxing(
    img: &GrayImage,
    harder: bool,
    b: zxingcpp::Binarizer,
    mode: zxingcpp::TextMode,
) -> Vec<String> {
    let reader = zxingcpp::read()
        .formats([zxingcpp::BarcodeFormat::QRCode])
        .try_harder(harder)
        .try_invert(harder)
        .try_rotate(harder)
        .try_downscale(harder)
        .binarizer(b)
        .text_mode(mode);
    let Ok(view) = zxingcpp::ImageView::from_slice(
        img.as_raw(),
        img.width(),
        img.height(),
        zxingcpp::ImageFormat::Lum,
    ) else {
        return vec![];
    };
    reader
        .from(view)
        .map(|v| v.into_iter().map(|b| b.text()).collect())
        .unwrap_or_default()
}

use zxingcpp::{Binarizer as B, TextMode as T};

fn zxing_default(img: &GrayImage) -> Vec<String> {
    zxing(img, true, B::LocalAverage, T::HRI)
}
fn zxing_fast(img: &GrayImage) -> Vec<String> {
    zxing(img, false, B::LocalAverage, T::HRI)
}
fn zxing_plain(img: &GrayImage) -> Vec<String> {
    zxing(img, true, B::LocalAverage, T::Plain)
}
fn first_of(img: &GrayImage, steps: &[&dyn Fn(&GrayImage) -> Vec<String>]) -> Vec<String> {
    for step in steps {
        let v = step(img);
        if !v.is_empty() {
            return v;
        }
    }
    vec![]
}
fn zxing_bins(img: &GrayImage) -> Vec<String> {
    first_of(
        img,
        &[
            &|i| zxing(i, true, B::LocalAverage, T::Plain),
            &|i| zxing(i, true, B::GlobalHistogram, T::Plain),
            &|i| zxing(i, true, B::FixedThreshold, T::Plain),
        ],
    )
}
fn zxing_then_rxing(img: &GrayImage) -> Vec<String> {
    first_of(img, &[&zxing_plain, &rxing])
}
fn zxing_all_passes(img: &GrayImage) -> Vec<String> {
    use image::imageops::{blur, resize, FilterType::Triangle};
    first_of(
        img,
        &[
            &zxing_bins,
            &|i| zxing_bins(&blur(i, 1.0)),
            &|i| zxing_bins(&resize(i, i.width() / 2, i.height() / 2, Triangle)),
            &|i| zxing_bins(&resize(i, i.width() * 2, i.height() * 2, Triangle)),
        ],
    )
}
fn zxing_all_passes_then_rxing(img: &GrayImage) -> Vec<String> {
    first_of(img, &[&zxing_all_passes, &rxing])
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(root) = args.next() else {
        eprintln!("usage: bench-corpus-candidates CORPUS_DIR [DECODER...]");
        std::process::exit(2);
    };
    let only: Vec<String> = args.collect();
    let decoders: [(&str, Decoder); 9] = [
        ("rqrr 0.11", rqrr),
        ("rxing 0.9.3 (TryHarder, AlsoInverted)", rxing),
        ("zxing-cpp 3.1.1 (defaults)", zxing_default),
        (
            "zxing-cpp, no try-harder/rotate/invert/downscale",
            zxing_fast,
        ),
        ("zxing-cpp, TextMode::Plain", zxing_plain),
        ("zxing-cpp Plain, then rxing", zxing_then_rxing),
        ("zxing-cpp, 3 binarisations", zxing_bins),
        (
            "zxing-cpp, 3 binarisations × (frame, blur, half, double)",
            zxing_all_passes,
        ),
        ("the same, then rxing", zxing_all_passes_then_rxing),
    ];
    println!("| decoder | folder | exact rows | read | rate % | median ms | p95 ms |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for folder in ["zxingcpp-qr", "zxing-qr", "dgc"] {
        let dir = Path::new(&root).join(folder);
        let Ok(manifest) = std::fs::read_to_string(dir.join("manifest.tsv")) else {
            eprintln!("cannot read {}/manifest.tsv", dir.display());
            std::process::exit(1);
        };
        let mut rows = vec![];
        for line in manifest.split('\n').skip(1).filter(|l| !l.is_empty()) {
            let f: Vec<&str> = line.split('\t').collect();
            if f.len() < 3 || f[2] != "1" {
                continue;
            }
            match image::open(dir.join(f[0])) {
                Ok(img) => rows.push((f[0].to_string(), unescape(f[1]), img.into_luma8())),
                Err(e) => eprintln!("{folder}/{}: {e}", f[0]),
            }
        }
        for (name, decode) in &decoders {
            if !only.is_empty() && !only.iter().any(|o| name.starts_with(o.as_str())) {
                continue;
            }
            let (mut times, mut read, mut misses) = (vec![], 0, vec![]);
            for (path, expected, img) in &rows {
                let mut runs = vec![];
                let mut out = vec![];
                for _ in 0..3 {
                    let start = Instant::now();
                    out = decode(img);
                    runs.push(start.elapsed().as_secs_f64() * 1000.0);
                }
                times.push(percentile(&mut runs, 0.5));
                if out.iter().any(|o| o == expected) {
                    read += 1;
                } else {
                    misses.push(path.as_str());
                }
            }
            let n = rows.len();
            println!(
                "| {name} | {folder} | {n} | {read} | {:.1} | {:.2} | {:.2} |",
                100.0 * read as f64 / n.max(1) as f64,
                percentile(&mut times, 0.5),
                percentile(&mut times, 0.95)
            );
            if std::env::var_os("MISSES").is_some() {
                eprintln!("{folder} {name}: not read: {}", misses.join(" "));
            }
        }
    }
}
