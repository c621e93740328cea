//! The checkpoint web app (checkpoint-web/, issue 13) in a real browser: `issuer serve
//! --checkpoint-app checkpoint-web/dist` on the sample's data, and Debian's headless Chromium
//! driven by playwright-core (`tests/browser/checkpoint.mjs`): pin the exported root, install
//! the exported bundle, a pass from its QR PNG → 通过 at a checkpoint on its route; offline,
//! reloaded, another pass from the text field → 通过 and the first again → 注意 (repeat);
//! a newer bundle revoking it → 拒绝; the older bundle again → refused. Then, on a desktop-sized
//! window, through a camera: Chromium's fake capture device plays a video of the first pass's
//! sheet photographed tilted and dim (made here from the issuer's `pass.png`) → 通过, and after
//! the revoking bundle is installed, the pass still in view → 拒绝. Last, the single-file app
//! (`checkpoint-offline.html`) copied to a folder and opened from there (`file://`).
//!
//! The web app's signed log (issue 14): the device public key file and two exports the page
//! downloads (all four scans; later, since then: a scan whose test is too old and the newer
//! test report the officer recorded) are opened here with `checkpass::logfile::open_log`:
//! signed by the device key of that file, the entries and verdicts the browser made, the
//! second file joining the first, the report's `sample_at=` note the time typed (and in the
//! CSV); and the single file's own export from `file://`.
//!
//! Builds the app first (`scripts/build-checkpoint-web.sh`). `scripts/install-deps.sh`
//! installs what it needs (Chromium, Node.js and npm, playwright-core, the wasm target,
//! wasm-bindgen). Without them the test says why and passes, except under `CI=true`, where it
//! fails.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use checkpass::keys::{parse_public_key_file, KeyRole};
use checkpass::logfile::open_log;
use checkpass::scanlog::{parse_test_report_note, EntryKind};
use checkpass::time::format_cst;
use common::*;
use image::GrayImage;
use serde_json::Value;
use verifier::decode::synth::{camera_frame, Placement};
use verifier::decode::FrameDecoder;

/// When the checkpoint scans: 2022-03-13 08:00 (UTC+8), inside the passes' window.
const CHECKED_AT: i64 = 1_647_129_600;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

fn runs(cmd: &str, args: &[&str]) -> bool {
    Command::new(cmd)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Why the browser test cannot run here, if it cannot.
fn missing() -> Option<String> {
    if !runs("node", &["--version"]) {
        return Some("node is not installed".into());
    }
    if !runs("npm", &["--version"]) {
        return Some("npm is not installed".into());
    }
    if !chromium().exists() {
        return Some(format!("{} is not installed", chromium().display()));
    }
    let playwright = workspace().join("tests/browser/node_modules/playwright-core/package.json");
    if !playwright.exists() {
        return Some(format!(
            "{} is missing (npm ci in tests/browser)",
            playwright.display()
        ));
    }
    if !runs("wasm-bindgen", &["--version"]) {
        return Some("wasm-bindgen (wasm-bindgen-cli) is not installed".into());
    }
    let targets = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output();
    if !targets.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("wasm32-unknown-unknown"))
    {
        return Some("the wasm32-unknown-unknown target is not installed".into());
    }
    None
}

/// A pass's QR text and what the officer sees of it.
struct Issued {
    dir: PathBuf,
    text: String,
    plate: String,
    route: Vec<String>,
    sampled_at: i64,
    expires_at: i64,
}

fn issued(dir: PathBuf) -> Issued {
    let text = std::fs::read_to_string(dir.join("qr.txt"))
        .unwrap()
        .trim_end()
        .to_string();
    let pass = checkpass::wire::decode_qr_text(&text)
        .unwrap()
        .pass()
        .unwrap();
    Issued {
        dir,
        text,
        plate: pass.body.plate,
        route: pass.body.route,
        sampled_at: pass.body.test_sampled_at,
        expires_at: pass.expires_at,
    }
}

/// Camera frames: 1280×720, as the app asks for.
const VIDEO_W: u32 = 1280;
const VIDEO_H: u32 = 720;

/// A phone's photo of the pass sheet: the part of `pass.png` around its QR code (with the
/// printed text beside it), tilted, foreshortened, dim, unevenly lit, a little out of focus
/// and noisy, in a 1280×720 frame. Checked here to be readable by the native decoder, so the
/// browser is held to what the desktop verifier reads.
fn photographed_sheet(sheet: &Path, qr_text: &str, seed: u64) -> GrayImage {
    let sheet = image::open(sheet).unwrap().to_luma8();
    let found = FrameDecoder::new().decode(&sheet);
    let code = found
        .iter()
        .find(|d| d.text == qr_text)
        .expect("the sheet's QR code reads");
    let xs = code.corners.map(|p| p.x);
    let ys = code.corners.map(|p| p.y);
    let (x0, x1) = (
        xs.iter().cloned().fold(f32::MAX, f32::min),
        xs.iter().cloned().fold(0.0, f32::max),
    );
    let (y0, y1) = (
        ys.iter().cloned().fold(f32::MAX, f32::min),
        ys.iter().cloned().fold(0.0, f32::max),
    );
    // A square around the code with half its side of paper and print on each side.
    let side = (x1 - x0).max(y1 - y0) * 2.0;
    let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    let left = (cx - side / 2.0).clamp(0.0, sheet.width() as f32 - 1.0) as u32;
    let top = (cy - side / 2.0).clamp(0.0, sheet.height() as f32 - 1.0) as u32;
    let w = (side as u32).min(sheet.width() - left);
    let h = (side as u32).min(sheet.height() - top);
    let crop = image::imageops::crop_imm(&sheet, left, top, w, h).to_image();
    camera_frame(
        &crop,
        &Placement {
            width: VIDEO_W,
            height: VIDEO_H,
            centre: (0.48, 0.52),
            side: 660.0,
            angle_deg: 9.0,
            foreshorten: 0.85,
            dark: 40,
            light: 170,
            background: 70,
            falloff: 0.3,
            blur_sigma: 0.8,
            noise: 6,
            seed,
        },
    )
}

/// A Y4M video (the format Chromium's fake capture device plays, in a loop) of `frames`, gray:
/// 4:2:0 with neutral colour planes.
fn y4m(frames: &[GrayImage], out: &Path) {
    let mut bytes =
        format!("YUV4MPEG2 W{VIDEO_W} H{VIDEO_H} F10:1 Ip A1:1 C420jpeg\n").into_bytes();
    let chroma = vec![128u8; (VIDEO_W as usize / 2) * (VIDEO_H as usize / 2)];
    for frame in frames {
        assert_eq!(frame.dimensions(), (VIDEO_W, VIDEO_H));
        bytes.extend_from_slice(b"FRAME\n");
        bytes.extend_from_slice(frame.as_raw());
        bytes.extend_from_slice(&chroma);
        bytes.extend_from_slice(&chroma);
    }
    std::fs::write(out, bytes).unwrap();
}

#[test]
fn the_checkpoint_web_app_in_a_real_browser_offline_too() {
    if let Some(why) = missing() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!(
                "the checkpoint web test cannot run: {why}; scripts/install-deps.sh installs it"
            );
        }
        eprintln!("checkpoint web test skipped: {why} (scripts/install-deps.sh installs it)");
        return;
    }
    let started = Instant::now();
    let build = Command::new(workspace().join("scripts/build-checkpoint-web.sh"))
        .output()
        .unwrap();
    assert!(
        build.status.success(),
        "build-checkpoint-web.sh failed:\n{}{}",
        String::from_utf8_lossy(&build.stdout),
        String::from_utf8_lossy(&build.stderr)
    );
    let built = started.elapsed();

    // The city: two passes issued, the root exported, bundle 1; then the first pass revoked
    // and bundle 2.
    let env = Env::init();
    env.import_sample();
    env.ok(&["forward", "--all"]);
    env.ok(&["approve", "--all"]);
    let approved = env.json(&["list", "--status", "approved"]);
    for app in approved.as_array().unwrap().iter().take(2) {
        env.ok(&["issue", app["app_no"].as_str().unwrap(), "--formats", "png"]);
    }
    let passes: Vec<Issued> = env.pass_dirs().into_iter().map(issued).collect();
    assert_eq!(passes.len(), 2);
    let checkpoint = passes[0]
        .route
        .iter()
        .find(|c| passes[1].route.contains(c))
        .expect("the two passes share a checkpoint")
        .clone();
    let keys = env.path("public-keys");
    env.ok(&["keys", "export", "--out", keys.to_str().unwrap()]);
    let root_file = keys.join("root.pub");
    let (root, role) =
        parse_public_key_file(&std::fs::read_to_string(&root_file).unwrap()).unwrap();
    assert_eq!(role, KeyRole::Root);
    let bundle1 = env.path("bundle-1.cose");
    env.ok(&["bundle", "--out", bundle1.to_str().unwrap()]);
    let serial = passes[0]
        .dir
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    // Another city's bundle (its own root): refused by a checkpoint pinned to this one.
    let other_city = Env::init();
    let bundle_other = env.path("bundle-other-root.cose");
    other_city.ok(&["bundle", "--out", bundle_other.to_str().unwrap()]);
    env.ok(&["revoke", &serial, "--reason", "浏览器测试 browser test"]);
    let bundle2 = env.path("bundle-2.cose");
    env.ok(&["bundle", "--out", bundle2.to_str().unwrap()]);

    // Later the same trip: the second pass's test is too old, the pass still valid.
    let policy = checkpass::bundle::open_bundle(&std::fs::read(&bundle2).unwrap(), &root, None)
        .unwrap()
        .policy;
    let later = passes[1].sampled_at + policy.max_test_age_secs + 3600;
    assert!(
        later > CHECKED_AT && later + policy.clock_skew_secs < passes[1].expires_at,
        "the second pass is valid when its test is too old"
    );
    // The report the driver shows, and two the app refuses (minutes: a datetime input's).
    let minute = |t: i64| t - t.rem_euclid(60);
    let report_ok = minute(later - 2 * 3600);
    let local = |t: i64| format_cst(minute(t)).replace(' ', "T");

    // The camera's video: the first pass's sheet, photographed (two frames of different noise).
    let video = env.path("camera.y4m");
    let frames: Vec<GrayImage> = (1..=2)
        .map(|seed| photographed_sheet(&passes[0].dir.join("pass.png"), &passes[0].text, seed))
        .collect();
    for frame in &frames {
        let read = FrameDecoder::new().decode(frame);
        assert!(
            read.iter().any(|d| d.text == passes[0].text),
            "the native decoder reads the photographed sheet"
        );
    }
    frames[0]
        .save(Path::new(env!("CARGO_TARGET_TMPDIR")).join("checkpoint-web-camera-frame.png"))
        .unwrap();
    y4m(&frames, &video);

    let dist = workspace().join("checkpoint-web/dist");
    // The single file, copied to a folder as a checkpoint with no server would (a Chinese
    // name, as a USB stick's folder could have).
    let copied = env.path("检查站 离线");
    std::fs::create_dir_all(&copied).unwrap();
    let offline_html = copied.join("checkpoint-offline.html");
    std::fs::copy(dist.join("checkpoint-offline.html"), &offline_html).unwrap();
    let offline_url = format!(
        "file://{}",
        offline_html
            .to_str()
            .unwrap()
            .replace('%', "%25")
            .replace(' ', "%20")
    );
    let (mut server, addr, lines) = env.serve_with(&["--checkpoint-app", dist.to_str().unwrap()]);
    let server_log = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>());
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("checkpoint-web");
    let _ = std::fs::remove_dir_all(&out_dir);
    let browsing = Instant::now();
    let run = Command::new("node")
        .arg("checkpoint.mjs")
        .current_dir(workspace().join("tests/browser"))
        .env("BASE_URL", format!("http://{addr}"))
        .env("ROOT", &root_file)
        .env("ROOT_KID", root.kid().to_hex())
        .env("BUNDLE1", &bundle1)
        .env("BUNDLE2", &bundle2)
        .env("BUNDLE_OTHER", &bundle_other)
        .env("QR_PNG", passes[0].dir.join("qr.png"))
        .env("CAMERA_VIDEO", &video)
        .env("OFFLINE_HTML", &offline_url)
        .env("QR_TEXT_1", &passes[0].text)
        .env("QR_TEXT_2", &passes[1].text)
        .env("PLATE_1", &passes[0].plate)
        .env("PLATE_2", &passes[1].plate)
        .env("CHECKPOINT", &checkpoint)
        .env("NOW", CHECKED_AT.to_string())
        .env("LATER", later.to_string())
        .env("REPORT_OK", local(report_ok))
        .env("REPORT_OK_CST", format_cst(report_ok))
        .env("REPORT_FUTURE", local(later + 3600))
        .env("REPORT_OLD", local(passes[1].sampled_at - 3600))
        .env("OUT_DIR", &out_dir)
        .env("CHROMIUM", chromium())
        .output()
        .unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
    let server_log = server_log.join().unwrap().join("\n");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.success(),
        "the browser script failed ({}):\n{stdout}\n{stderr}\nserver:\n{server_log}\n\
         (the page at the failure: {})",
        run.status,
        out_dir.join("failure.png").display()
    );
    let result: Value = stdout
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("RESULT "))
        .map(|j| serde_json::from_str(j).unwrap())
        .unwrap_or_else(|| panic!("no RESULT line:\n{stdout}\n{stderr}"));
    eprintln!("{stderr}");

    // The signed log as the city receives it.
    let (device, role) =
        parse_public_key_file(&std::fs::read_to_string(out_dir.join("device.pub")).unwrap())
            .unwrap();
    assert_eq!(role, KeyRole::Device);
    assert_eq!(result["device_kid"], device.kid().to_hex());
    let first = open_log(&std::fs::read(out_dir.join("export-1.cose")).unwrap()).unwrap();
    let second = open_log(&std::fs::read(out_dir.join("export-2.cose")).unwrap()).unwrap();
    assert_eq!((first.device, second.device), (device, device));
    assert_eq!(first.prev, checkpass::scanlog::GENESIS);
    assert_eq!(
        second.prev,
        first.head(),
        "the second export joins the first"
    );
    // What the browser scanned, in order: entry id, kind, verdict, plate.
    let summary = |log: &checkpass::logfile::ScanLogFile| {
        log.entries
            .iter()
            .map(|e| (e.id, e.kind, e.verdict.clone(), e.plate.clone()))
            .collect::<Vec<_>>()
    };
    let entry = |id, kind, verdict: Option<&str>, plate: &str| {
        (
            id,
            kind,
            verdict.map(str::to_string),
            Some(plate.to_string()),
        )
    };
    let (plate1, plate2) = (passes[0].plate.as_str(), passes[1].plate.as_str());
    let scan = EntryKind::Scan;
    assert_eq!(
        summary(&first),
        [
            entry(1, scan, Some("green"), plate1),
            entry(2, scan, Some("green"), plate2),
            entry(3, scan, Some("amber"), plate1),
            entry(4, scan, Some("red"), plate1),
        ]
    );
    let reasons: Vec<&str> = first.entries.iter().map(|e| e.reasons.as_str()).collect();
    assert_eq!(reasons[..3], ["", "", "REPEAT_SCAN"]);
    assert!(reasons[3].split(' ').any(|r| r == "REVOKED"), "{reasons:?}");
    assert_eq!(
        summary(&second),
        [
            entry(5, scan, Some("amber"), plate2),
            entry(6, EntryKind::TestReport, None, plate2),
        ]
    );
    assert_eq!(second.entries[0].reasons, "TEST_TOO_OLD");
    assert_eq!(second.entries[1].reasons, "");
    let (too_old, report) = (&second.entries[0], &second.entries[1]);
    assert_eq!(too_old.at, later);
    assert_eq!(report.serial, too_old.serial);
    assert_eq!(report.checkpoint, checkpoint);
    assert_eq!(report.officer.as_deref(), Some("E2E-007"));
    assert_eq!(
        report.note.as_deref().and_then(parse_test_report_note),
        Some(report_ok)
    );
    let csv = std::fs::read_to_string(out_dir.join("scans.csv")).unwrap();
    assert!(
        csv.contains(&format!("\"test_report\",\"sample_at={report_ok}\"")),
        "{csv}"
    );
    // The single file (file://) signs with its own device key too.
    let (offline_device, _) = parse_public_key_file(
        &std::fs::read_to_string(out_dir.join("offline-device.pub")).unwrap(),
    )
    .unwrap();
    let offline = open_log(&std::fs::read(out_dir.join("offline-export.cose")).unwrap()).unwrap();
    assert_eq!(offline.device, offline_device);
    assert_ne!(offline_device, device);
    let verdicts: Vec<_> = offline
        .entries
        .iter()
        .map(|e| e.verdict.as_deref())
        .collect();
    assert_eq!(verdicts, [Some("green"), Some("green")]);
    assert!(first
        .entries
        .iter()
        .chain(&second.entries)
        .all(|e| e.simulated && e.checkpoint == checkpoint));

    eprintln!(
        "headless Chromium, fake 1280×720 camera: page load → app ready {} ms, camera start → ready {} ms, \
         frame → verdict on screen {} ms",
        result["camera"]["app_ready_ms"],
        result["camera"]["ready_ms"],
        result["camera"]["frame_to_verdict_ms"]
    );
    eprintln!(
        "checkpoint web app: build {:.1} s, browser {:.1} s, {:.1} s in all",
        built.as_secs_f64(),
        browsing.elapsed().as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}
