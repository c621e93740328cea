//! Corpus benchmark of the QR decoding pipeline (`verifier::decode`).
//!
//! Prints, per corpus folder, the read rate and the median and 95th-percentile decode time per
//! image for the pipeline ([`FrameDecoder::new`]) and for its fast path alone
//! ([`FrameDecoder::fast`], zxing-cpp with default settings); with `--external FILE`, also for
//! the decoders timed by `scripts/bench-corpus.py` (zbar and zxing-cpp's Python module) on the
//! same images. Then it times 1280×720 camera-like frames with a pass-sized QR code.
//!
//! Run it with `scripts/bench-corpus.sh` (installs zbar and zxing-cpp for the comparison), or
//! alone: `cargo bench -p verifier --bench corpus [-- --external FILE] [--quick]`. With
//! `--write-frames DIR`, the camera-like frames are also written to DIR as PNG files with a
//! `manifest.tsv` like the corpus folders', so that the checkpoint web app's decoders are timed
//! on the very same frames (`scripts/bench-checkpoint-web.sh`).
//! Times are wall-clock on the calling thread (one core); the decoder is single-threaded.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use image::{GrayImage, Luma};
use qrcode::{EcLevel, QrCode};
use verifier::decode::corpus::parse_manifest;
use verifier::decode::synth::{camera_frame, Placement};
use verifier::decode::{load_gray_image, Attempt, FrameDecoder, Pass};

const FOLDERS: [&str; 3] = ["zxingcpp-qr", "zxing-qr", "dgc"];

struct Image {
    name: String,
    expected: String,
    frame: GrayImage,
}

/// One decoder's result on one image.
struct Outcome {
    read: bool,
    ms: f64,
}

#[derive(Default)]
struct Table {
    /// (decoder, folder) -> outcomes, in the order decoders were added.
    rows: Vec<(String, String, Vec<Outcome>)>,
}

impl Table {
    fn add(&mut self, decoder: &str, folder: &str, outcome: Outcome) {
        match self
            .rows
            .iter_mut()
            .find(|(d, f, _)| d == decoder && f == folder)
        {
            Some((_, _, v)) => v.push(outcome),
            None => self
                .rows
                .push((decoder.to_string(), folder.to_string(), vec![outcome])),
        }
    }

    fn print(&self, images: &BTreeMap<&str, (usize, usize)>) {
        println!("| decoder | folder | images | exact rows | read | rate % | median ms | p95 ms |");
        println!("|---|---|---:|---:|---:|---:|---:|---:|");
        for (decoder, folder, outcomes) in &self.rows {
            let (all, exact) = images.get(folder.as_str()).copied().unwrap_or_default();
            let read = outcomes.iter().filter(|o| o.read).count();
            let mut ms: Vec<f64> = outcomes.iter().map(|o| o.ms).collect();
            println!(
                "| {decoder} | {folder} | {all} | {exact} | {read} | {:.1} | {:.2} | {:.2} |",
                100.0 * read as f64 / outcomes.len().max(1) as f64,
                percentile(&mut ms, 0.5),
                percentile(&mut ms, 0.95),
            );
        }
    }
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

/// Median of `runs` timings of `f`, in milliseconds, and the last result.
fn timed<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        last = Some(f());
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    match last {
        Some(result) => (percentile(&mut times, 0.5), result),
        None => unreachable!("runs.max(1) >= 1"),
    }
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/corpus")
}

fn load_folder(folder: &str) -> Result<(usize, Vec<Image>)> {
    let dir = corpus_dir().join(folder);
    let manifest_path = dir.join("manifest.tsv");
    let manifest = std::fs::read_to_string(&manifest_path)
        .with_context(|| format!("reading {}", manifest_path.display()))?;
    let rows = parse_manifest(&manifest).with_context(|| manifest_path.display().to_string())?;
    let all = rows.len();
    let mut images = Vec::new();
    for row in rows.into_iter().filter(|r| r.exact) {
        let frame = load_gray_image(dir.join(&row.image))?;
        images.push(Image {
            name: row.image,
            expected: row.expected,
            frame,
        });
    }
    Ok((all, images))
}

/// Results written by scripts/bench-corpus.py: `decoder folder image read ms` per line.
fn load_external(path: &Path, table: &mut Table) -> Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    for (i, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        let [decoder, folder, _image, read, ms] = f.as_slice() else {
            bail!("{} line {}: expected 5 fields", path.display(), i + 1);
        };
        let ms: f64 = ms
            .parse()
            .with_context(|| format!("{} line {}: time", path.display(), i + 1))?;
        table.add(
            decoder,
            folder,
            Outcome {
                read: *read == "1",
                ms,
            },
        );
    }
    Ok(())
}

fn bench_corpus(runs: usize, external: Option<&Path>) -> Result<()> {
    let pipeline = FrameDecoder::new();
    let fast = FrameDecoder::fast();
    let mut table = Table::default();
    let mut sizes = BTreeMap::new();
    // Which pass read each image the pipeline read (to see which fallbacks earn their time).
    let mut by_pass: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut misses: Vec<String> = Vec::new();
    for folder in FOLDERS {
        let (all, images) = load_folder(folder)?;
        sizes.insert(folder, (all, images.len()));
        for image in &images {
            let (ms, report) = timed(runs, || pipeline.decode_report(&image.frame));
            let read = report.codes.iter().any(|c| c.text == image.expected);
            if read {
                let pass = report.attempts.iter().find_map(|a| match a {
                    Attempt::Found(pass, _) => Some(pass.to_string()),
                    _ => None,
                });
                *by_pass
                    .entry((folder.to_string(), pass.unwrap_or_default()))
                    .or_default() += 1;
            } else {
                misses.push(format!("{folder}/{}", image.name));
            }
            table.add("pipeline (FrameDecoder::new)", folder, Outcome { read, ms });

            let (ms, codes) = timed(runs, || fast.decode(&image.frame));
            let read = codes.iter().any(|c| c.text == image.expected);
            table.add("fast path alone (zxing-cpp)", folder, Outcome { read, ms });
        }
    }
    if let Some(path) = external {
        load_external(path, &mut table)?;
    }
    println!("## Corpus (read rate on exact rows; time per image, median of {runs} runs)\n");
    table.print(&sizes);
    println!("\nImages read by each pass of the pipeline:\n");
    println!("| folder | pass | images |\n|---|---|---:|");
    for ((folder, pass), n) in &by_pass {
        println!("| {folder} | {pass} | {n} |");
    }
    println!("\nNot read by the pipeline: {}\n", misses.join(" "));
    Ok(())
}

fn pass_text(len: usize) -> String {
    verifier::decode::synth::pass_text(len, 2026)
}

fn bench_frames(runs: usize, write_to: Option<&Path>) -> Result<()> {
    let text = pass_text(300);
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::Q)?;
    let version = match code.version() {
        qrcode::Version::Normal(v) => v.to_string(),
        other => format!("{other:?}"),
    };
    let modules = code.width();
    let rendered = code
        .render::<Luma<u8>>()
        .quiet_zone(true)
        .module_dimensions(4, 4)
        .build();
    let mut placements = Vec::new();
    for side in [260.0, 360.0, 520.0] {
        for angle in [0.0, 12.0, 37.0, 97.0] {
            for (blur, foreshorten, dark, light, falloff, noise) in [
                (0.0, 1.0, 30, 220, 0.0, 0),
                (1.0, 0.85, 60, 180, 0.3, 8),
                (1.6, 0.75, 80, 160, 0.5, 14),
            ] {
                placements.push(Placement {
                    side,
                    angle_deg: angle,
                    blur_sigma: blur,
                    foreshorten,
                    dark,
                    light,
                    falloff,
                    noise,
                    seed: placements.len() as u64 + 1,
                    centre: (0.45, 0.55),
                    ..Placement::default()
                });
            }
        }
    }
    println!(
        "## 1280×720 frames with a pass-sized QR (version {version}, {modules}×{modules} modules, \
         {} alphanumeric characters, ECC Q)\n",
        text.len()
    );
    println!(
        "{} frames: code side 260/360/520 px, turned 0/12/37/97°, sharp / slightly blurred, \
         tilted, dim / blurred, tilted, dim, unevenly lit and noisy. One thread, median of {runs} \
         runs per frame.\n",
        placements.len()
    );
    println!(
        "| decoder | frames | read | median ms | p95 ms | max ms |\n|---|---:|---:|---:|---:|---:|"
    );
    let frames: Vec<GrayImage> = placements
        .iter()
        .map(|p| camera_frame(&rendered, p))
        .collect();
    if let Some(dir) = write_to {
        write_frames(dir, &frames, &placements, &text)?;
    }
    let blank = camera_frame(
        &GrayImage::new(0, 0),
        &Placement {
            noise: 8,
            falloff: 0.3,
            ..Placement::default()
        },
    );
    for (name, decoder) in [
        ("pipeline (FrameDecoder::new)", FrameDecoder::new()),
        ("fast path alone (FrameDecoder::fast)", FrameDecoder::fast()),
    ] {
        let mut times = Vec::new();
        let mut read = 0;
        let mut unread = Vec::new();
        for (frame, p) in frames.iter().zip(&placements) {
            let (ms, codes) = timed(runs, || decoder.decode(frame));
            times.push(ms);
            if codes.iter().any(|c| c.text == text) {
                read += 1;
            } else {
                unread.push(format!(
                    "side {} angle {} blur {}",
                    p.side, p.angle_deg, p.blur_sigma
                ));
            }
        }
        let max = times.iter().copied().fold(0.0, f64::max);
        println!(
            "| {name} | {} | {read} | {:.2} | {:.2} | {max:.2} |",
            frames.len(),
            percentile(&mut times, 0.5),
            percentile(&mut times, 0.95),
        );
        if !unread.is_empty() {
            eprintln!("{name}: not read: {}", unread.join("; "));
        }
        let (ms, codes) = timed(runs, || decoder.decode(&blank));
        println!(
            "| {name}, frame without a code | 1 | {} | {ms:.2} | | |",
            codes.len()
        );
    }
    println!();
    Ok(())
}

/// The frames as `frame-NN.png` and a manifest (image, expected text, exact, tags).
fn write_frames(
    dir: &Path,
    frames: &[GrayImage],
    placements: &[Placement],
    text: &str,
) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut manifest = String::from("image\texpected\texact\ttags\n");
    for (i, (frame, p)) in frames.iter().zip(placements).enumerate() {
        let name = format!("frame-{i:02}.png");
        frame
            .save(dir.join(&name))
            .with_context(|| format!("writing {name}"))?;
        manifest.push_str(&format!(
            "{name}\t{text}\t1\tside-{},angle-{},blur-{}\n",
            p.side, p.angle_deg, p.blur_sigma
        ));
    }
    std::fs::write(dir.join("manifest.tsv"), manifest).context("writing manifest.tsv")?;
    Ok(())
}

fn main() -> Result<()> {
    let mut external = None;
    let mut write_frames_to = None;
    let mut quick = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--external" => external = Some(PathBuf::from(args.next().context("--external FILE")?)),
            "--quick" => quick = true,
            "--write-frames" => {
                write_frames_to = Some(PathBuf::from(args.next().context("--write-frames DIR")?))
            }
            // cargo bench passes --bench; other harness flags are ignored too.
            _ => {}
        }
    }
    let runs = if quick { 1 } else { 3 };
    let passes: Vec<String> = FrameDecoder::new()
        .passes()
        .iter()
        .map(Pass::to_string)
        .collect();
    println!("Pipeline passes, in order: {}\n", passes.join(", "));
    bench_corpus(runs, external.as_deref())?;
    bench_frames(runs, write_frames_to.as_deref())?;
    Ok(())
}
