//! The Windows build (`verifier.exe`, cross-built by scripts/build-windows.sh) under Wine: the
//! same commands give the same verdicts, exit statuses and words as the Linux binary; data
//! directories and files with Chinese names work; the default data directory is the local
//! application data folder; the checkpoint window opens with no camera, and reads a pass from
//! recorded frames into the scan log.
//!
//! These tests need the exe, Wine and (for the window) an X display, so `cargo test` lists them
//! as ignored; scripts/test-windows.sh builds the exe, prepares a Wine prefix and runs them with
//! `--ignored`. Run that way they never skip: a missing exe, Wine or display fails the test.
//!
//! Environment: `VERIFIER_WINDOWS_EXE` (the exe, required), `WINEPREFIX` (required: the tests
//! write into it), `WINE` (default: `wine64` or `wine` on PATH, else Debian's
//! /usr/lib/wine/wine64), `VERIFIER_WINE_SCREENSHOT` (where to save the window's screenshot).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use checkpass::keys::SigningKey;
use checkpass::pass::Serial;
use checkpass::wire;
use common::*;
use image::{GrayImage, Luma};
use qrcode::{EcLevel, QrCode};

const WHY: &str = "needs verifier.exe and Wine: run scripts/test-windows.sh";

fn required_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set ({WHY})"))
}

fn exe() -> PathBuf {
    let exe = PathBuf::from(required_env("VERIFIER_WINDOWS_EXE"));
    assert!(exe.is_file(), "{} does not exist ({WHY})", exe.display());
    exe
}

fn wine() -> PathBuf {
    if let Some(w) = std::env::var_os("WINE") {
        return PathBuf::from(w);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in ["wine64", "wine"] {
        for dir in std::env::split_paths(&path) {
            if dir.join(name).is_file() {
                return dir.join(name);
            }
        }
    }
    let debian = PathBuf::from("/usr/lib/wine/wine64");
    assert!(debian.is_file(), "Wine is not installed ({WHY})");
    debian
}

/// `verifier.exe args…` under Wine in `cwd`, with no data directory from the environment.
fn windows(cwd: &Path, args: &[&str]) -> Output {
    let (stdout, stderr) = (tempfile::tempfile().unwrap(), tempfile::tempfile().unwrap());
    let status = Command::new(wine())
        .arg(exe())
        .args(args)
        .current_dir(cwd)
        .env("WINEDEBUG", "-all")
        .env("WINEPREFIX", required_env("WINEPREFIX"))
        .env_remove("VERIFIER_DATA")
        .stdin(Stdio::null())
        .stdout(stdout.try_clone().unwrap())
        .stderr(stderr.try_clone().unwrap())
        .status()
        .unwrap();
    Output {
        status,
        stdout: read_all(stdout),
        stderr: read_all(stderr),
    }
}

/// Output through files, not pipes: Wine's own background processes (services.exe and
/// friends), started by the first program, inherit the pipes and keep them open, so reading
/// a pipe to its end would wait for them.
fn read_all(mut file: std::fs::File) -> Vec<u8> {
    use std::io::{Read, Seek};
    file.rewind().unwrap();
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).unwrap();
    bytes
}

/// The Linux `verifier args…` in `cwd`.
fn linux(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_verifier"))
        .args(args)
        .current_dir(cwd)
        .env_remove("VERIFIER_DATA")
        .output()
        .unwrap()
}

/// The Windows form of an absolute Unix path under Wine's default drive mapping (Z: is /).
fn wine_path(p: &Path) -> String {
    format!("Z:{}", p.to_str().unwrap().replace('/', "\\"))
}

fn qr_image(text: &str) -> GrayImage {
    QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .unwrap()
        .render::<Luma<u8>>()
        .quiet_zone(true)
        .module_dimensions(4, 4)
        .build()
}

/// A working folder with Chinese names in every path: keys, bundle, pass images and one data
/// directory per platform, the same relative path inside each.
struct Setup {
    f: Fixture,
    /// The Linux binary's working folder.
    linux: PathBuf,
    /// The Windows exe's working folder (same files).
    windows: PathBuf,
    pass: String,
}

const DATA: &str = "检查站 数据/C101 卡口";
const ROOT_KEY: &str = "密钥/根公钥.pub.json";
const BUNDLE: &str = "信任包/第1号.cose";

impl Setup {
    fn new() -> Setup {
        let f = Fixture::new();
        let linux = f.path("linux 核验");
        let windows = f.path("windows 核验");
        // Revoked: serial 4. Unknown key: a pass signed by a key the bundle does not list.
        let bundle =
            checkpass::bundle::sign_bundle(&f.bundle_with_revoked(1, &[4]), &f.root).unwrap();
        let stranger = SigningKey::from_seed(&[0x77; 32]);
        let images: Vec<(&str, GrayImage)> = vec![
            ("通行证/绿-通过.png", qr_image(&f.pass_text())),
            (
                "通行证/黄-不在路线.png",
                qr_image(&f.pass_text_with(|p| {
                    p.serial = Serial(3);
                    p.body.route = vec!["C201".into(), "C102".into()];
                })),
            ),
            (
                "通行证/红-已撤销.png",
                qr_image(&f.pass_text_with(|p| p.serial = Serial(4))),
            ),
            (
                "通行证/红-未知密钥.png",
                qr_image(&wire::issue_qr_text(&checkpass::sample::pass(), &stranger).unwrap()),
            ),
            (
                "通行证/空白.png",
                GrayImage::from_pixel(200, 200, Luma([255])),
            ),
        ];
        for dir in [&linux, &windows] {
            for sub in ["密钥", "信任包", "通行证", "检查站 数据"] {
                std::fs::create_dir_all(dir.join(sub)).unwrap();
            }
            std::fs::copy(f.root_key_file(), dir.join(ROOT_KEY)).unwrap();
            std::fs::write(dir.join(BUNDLE), &bundle).unwrap();
            for (name, img) in &images {
                img.save(dir.join(name)).unwrap();
            }
            std::fs::write(dir.join("通行证/不是图片.png"), b"not an image at all").unwrap();
        }
        let pass = f.pass_text();
        Setup {
            f,
            linux,
            windows,
            pass,
        }
    }

    /// Runs `--data DATA args…` on both platforms.
    fn both(&self, args: &[&str]) -> (Output, Output) {
        let mut all = vec!["--data", DATA];
        all.extend_from_slice(args);
        (linux(&self.linux, &all), windows(&self.windows, &all))
    }
}

/// The output with the device's log key id (8 hex digits after its label) blanked: each data
/// directory makes its own key at init, so the two platforms' ids differ by design.
fn without_device_key(text: &str) -> String {
    text.lines()
        .map(|line| {
            for label in ["本机记录密钥：", "Device log key: "] {
                if let Some(rest) = line.strip_prefix(label) {
                    let (kid, tail) = rest.split_at(rest.len().min(8));
                    assert!(
                        kid.len() == 8 && kid.chars().all(|c| c.is_ascii_hexdigit()),
                        "a device key id: {line}"
                    );
                    return format!("{label}<device>{tail}\n");
                }
            }
            format!("{line}\n")
        })
        .collect()
}

/// Runs one step on both platforms; the exit statuses must be `expected` on both and stdout
/// and stderr the same bytes. Returns the Windows output.
fn same(s: &Setup, args: &[&str], expected: i32) -> Output {
    let (l, w) = s.both(args);
    let step = args.join(" ");
    assert_eq!(
        (code(&l), code(&w)),
        (expected, expected),
        "{step}: exit status (Linux, Windows)\nLinux:\n{}{}\nWindows:\n{}{}",
        stdout(&l),
        stderr(&l),
        stdout(&w),
        stderr(&w)
    );
    assert_eq!(
        without_device_key(&stdout(&w)),
        without_device_key(&stdout(&l)),
        "{step}: stdout differs"
    );
    assert_eq!(stderr(&w), stderr(&l), "{step}: stderr differs");
    w
}

#[test]
#[ignore = "needs verifier.exe and Wine: run scripts/test-windows.sh"]
fn cli_gives_the_linux_verdicts_and_exit_codes() {
    let s = Setup::new();
    let out = same(
        &s,
        &[
            "init",
            "--root-key",
            ROOT_KEY,
            "--checkpoint",
            "C101",
            "--officer",
            "W001",
        ],
        0,
    );
    assert!(stdout(&out).contains("已初始化数据目录 检查站 数据/C101 卡口"));
    same(&s, &["bundle", "install", BUNDLE], 0);
    same(&s, &["bundle", "show", "--at", NOW_RFC3339], 0);

    // One image at a time, in Chinese and as JSON: every verdict level and the error status.
    let out = same(
        &s,
        &["check", "--at", &at(0), "通行证/绿-通过.png"],
        EXIT_GREEN,
    );
    let text = stdout(&out);
    assert!(text.contains("结论：通过"), "{text}");
    assert!(text.contains("鲁KP20XL"), "{text}");
    same(
        &s,
        &["check", "--json", "--at", &at(10), "通行证/黄-不在路线.png"],
        EXIT_AMBER,
    );
    same(
        &s,
        &["check", "--at", &at(20), "通行证/红-已撤销.png"],
        EXIT_RED,
    );
    same(
        &s,
        &["check", "--json", "--at", &at(30), "通行证/红-未知密钥.png"],
        EXIT_RED,
    );
    same(&s, &["check", "--at", &at(40), "通行证/空白.png"], EXIT_RED);
    same(
        &s,
        &["check", "--at", &at(50), "通行证/不是图片.png"],
        EXIT_ERROR,
    );
    // The same pass again a minute later: a repeat scan, amber.
    let out = same(
        &s,
        &["check", "--json", "--at", &at(60), "通行证/绿-通过.png"],
        EXIT_AMBER,
    );
    assert_eq!(reasons(&json_lines(&out)[0]), vec!["REPEAT_SCAN"]);
    // Several images: the worst verdict; a text in English.
    same(
        &s,
        &[
            "check",
            "--json",
            "--at",
            &at(7200),
            "通行证/黄-不在路线.png",
            "通行证/红-已撤销.png",
        ],
        EXIT_RED,
    );
    same(
        &s,
        &[
            "--lang",
            "en",
            "check",
            "--at",
            &at(9000),
            "--text",
            &s.pass,
        ],
        EXIT_GREEN,
    );
    // A usage error.
    same(
        &s,
        &["check", "--at", "yesterday", "--text", "x"],
        EXIT_ERROR,
    );

    // The scan logs hold the same records, and their hash chains the same head.
    let out = same(&s, &["log", "--csv", "-"], 0);
    let csv = stdout(&out);
    assert!(
        csv.starts_with('\u{FEFF}'),
        "CSV for Excel starts with a BOM"
    );
    // Every QR found was recorded (the file that is not an image and the usage error were not).
    let verdicts: Vec<String> = csv::Reader::from_reader(csv.as_bytes())
        .records()
        .map(|r| r.unwrap()[7].to_owned())
        .collect();
    assert_eq!(
        verdicts,
        ["green", "amber", "red", "red", "red", "amber", "amber", "red", "green"],
        "{csv}"
    );
    // The chain also holds the init and bundle events, stamped with the real clock, so the two
    // heads differ; the entry count and the verdict on the chain must not.
    let (l, w) = s.both(&["log", "verify"]);
    assert_eq!((code(&l), code(&w)), (0, 0), "{}", stderr(&w));
    let first = |o: &Output| stdout(o).lines().next().map(str::to_owned);
    assert_eq!(first(&w), first(&l));
    assert_eq!(
        first(&w).as_deref(),
        Some("查验记录哈希链完整： 11 条"),
        "{}",
        stdout(&w)
    );
    same(&s, &["settings"], 0);

    // Absolute Windows paths with Chinese names (Z: is Wine's view of /), from another folder:
    // the same data directory, its scan log and an image.
    let data = wine_path(&s.windows.join(DATA));
    let image = wine_path(&s.windows.join("通行证/绿-通过.png"));
    let elsewhere = s.windows.join("通行证");
    let out = windows(&elsewhere, &["--data", &data, "settings"]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains(&format!("数据目录：{data}\n")),
        "{}",
        stdout(&out)
    );
    let out = windows(
        &elsewhere,
        &["--data", &data, "check", "--at", &at(12_000), &image],
    );
    assert_eq!(code(&out), EXIT_GREEN, "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!("{image} · 二维码 1/1")),
        "{}",
        stdout(&out)
    );
}

/// The prefix's `AppData\Local\checkpass` folders (one per Wine user), which this test owns.
fn local_app_data_dirs(prefix: &Path) -> Vec<PathBuf> {
    let users = prefix.join("drive_c/users");
    std::fs::read_dir(&users)
        .unwrap_or_else(|e| panic!("{}: {e} (is WINEPREFIX a Wine prefix?)", users.display()))
        .map(|u| u.unwrap().path().join("AppData/Local/checkpass"))
        .collect()
}

#[test]
#[ignore = "needs verifier.exe and Wine: run scripts/test-windows.sh"]
fn default_data_directory_is_local_app_data() {
    let s = Setup::new();
    let prefix = PathBuf::from(required_env("WINEPREFIX"));
    let clear = || {
        for d in local_app_data_dirs(&prefix) {
            if d.exists() {
                std::fs::remove_dir_all(&d).unwrap();
            }
        }
    };
    clear();
    let out = windows(
        &s.windows,
        &["init", "--root-key", ROOT_KEY, "--checkpoint", "C101"],
    );
    assert_ok(&out);
    let shown = stdout(&out);
    let dir = shown
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("已初始化数据目录 "))
        .unwrap_or_else(|| panic!("no data directory in: {shown}"))
        .to_owned();
    assert!(
        dir.starts_with("C:\\") && dir.ends_with("\\AppData\\Local\\checkpass\\verifier\\data"),
        "{dir}"
    );
    let on_disk: Vec<PathBuf> = local_app_data_dirs(&prefix)
        .into_iter()
        .filter(|d| d.join("verifier/data").is_dir())
        .collect();
    assert_eq!(on_disk.len(), 1, "the data directory exists in the prefix");
    // The same directory is found again without --data.
    let out = windows(&s.windows, &["bundle", "install", BUNDLE]);
    assert_ok(&out);
    let out = windows(
        &s.windows,
        &["check", "--at", NOW_RFC3339, "通行证/绿-通过.png"],
    );
    assert_eq!(code(&out), EXIT_GREEN, "{}", stderr(&out));
    clear();
}

/// Initialises the Windows data directory at C101 with the bundle; its Unix path.
fn set_up_windows_data(s: &Setup) -> PathBuf {
    for args in [
        &[
            "--data",
            DATA,
            "init",
            "--root-key",
            ROOT_KEY,
            "--checkpoint",
            "C101",
        ][..],
        &["--data", DATA, "bundle", "install", BUNDLE][..],
    ] {
        assert_ok(&windows(&s.windows, args));
    }
    s.windows.join(DATA)
}

/// Starts the window on `data` with a fixed clock inside the sample pass's window (the screen
/// then says 模拟时间) and waits until it is on the X display.
fn open_window(s: &Setup, data: &Path, env: &[(&str, String)]) -> Child {
    let display = required_env("DISPLAY");
    // Its messages go to a file (see `read_all`).
    let log = tempfile::tempfile().unwrap();
    let mut child = Command::new(wine())
        .arg(exe())
        .args(["--data", &wine_path(data)])
        .current_dir(&s.windows)
        .env("WINEDEBUG", "-all")
        .env("VERIFIER_AT", NOW_RFC3339)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log.try_clone().unwrap())
        .spawn()
        .unwrap();
    // Wine gives the X window the window's title.
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(90) {
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "verifier.exe ended ({status}) before its window showed:\n{}",
                String::from_utf8_lossy(&read_all(log))
            );
        }
        let tree = Command::new("xwininfo")
            .args(["-root", "-tree", "-display", &display])
            .output()
            .expect("xwininfo (x11-utils) is installed");
        if String::from_utf8_lossy(&tree.stdout).contains("Pass verifier") {
            return child;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("no window titled 'Pass verifier' within 90 s");
}

fn close(mut child: Child) {
    child.kill().unwrap();
    let _ = child.wait();
}

#[test]
#[ignore = "needs verifier.exe, Wine and an X display: run scripts/test-windows.sh"]
fn window_opens_without_a_camera() {
    let display = required_env("DISPLAY");
    let s = Setup::new();
    let data = set_up_windows_data(&s);
    let mut child = open_window(&s, &data, &[]);
    // Some frames drawn, the camera looked for and not found; still running.
    std::thread::sleep(Duration::from_secs(8));
    assert!(
        child.try_wait().unwrap().is_none(),
        "verifier.exe ended after opening its window"
    );
    let shot = std::env::var_os("VERIFIER_WINE_SCREENSHOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| s.f.path("window.png"));
    // The whole screen, trimmed to the window (Xvfb's background is black, there is no
    // window manager to draw a frame).
    let status = Command::new("import")
        .args(["-display", &display, "-window", "root", "-trim", "+repage"])
        .arg(&shot)
        .status()
        .expect("import (ImageMagick) is installed");
    close(child);
    assert!(status.success(), "screenshot failed");
    // The screen is drawn, not a blank or single-colour window: egui's panels, anti-aliased
    // text and the coloured badges give many shades.
    let img = image::open(&shot).unwrap().into_rgb8();
    let mut colours: Vec<[u8; 3]> = img.pixels().map(|p| p.0).collect();
    colours.sort_unstable();
    colours.dedup();
    assert!(
        colours.len() > 50,
        "only {} colours on screen",
        colours.len()
    );
}

#[test]
#[ignore = "needs verifier.exe, Wine and an X display: run scripts/test-windows.sh"]
fn the_window_reads_a_pass_from_recorded_frames() {
    // The window's whole scanning path on Windows: frames → zxing-cpp on the scanner thread →
    // verification → the scan log in SQLite, with no camera (VERIFIER_FRAMES plays a folder).
    let s = Setup::new();
    let data = set_up_windows_data(&s);
    let frames = s.windows.join("录像帧");
    std::fs::create_dir_all(&frames).unwrap();
    std::fs::copy(
        s.windows.join("通行证/绿-通过.png"),
        frames.join("0001.png"),
    )
    .unwrap();
    let child = open_window(&s, &data, &[("VERIFIER_FRAMES", wine_path(&frames))]);
    let start = Instant::now();
    let mut rows = Vec::new();
    while start.elapsed() < Duration::from_secs(60) && rows.is_empty() {
        std::thread::sleep(Duration::from_secs(2));
        let out = windows(&s.windows, &["--data", DATA, "log", "--csv", "-"]);
        assert_ok(&out);
        rows = csv::Reader::from_reader(&out.stdout[..])
            .records()
            .map(|r| r.unwrap())
            .collect();
    }
    close(child);
    assert_eq!(rows.len(), 1, "one scan recorded by the window: {rows:?}");
    // Columns: id, scanned_at, scanned_at_unix, checkpoint, officer, serial, plate, verdict, …
    assert_eq!(&rows[0][3], "C101");
    assert_eq!(&rows[0][7], "green", "{:?}", rows[0]);
    assert_eq!(&rows[0][10], "yes", "marked as simulated time");
}

const EXIT_GREEN: i32 = verifier::cli::EXIT_GREEN as i32;
const EXIT_AMBER: i32 = verifier::cli::EXIT_AMBER as i32;
const EXIT_RED: i32 = verifier::cli::EXIT_RED as i32;
const EXIT_ERROR: i32 = verifier::cli::EXIT_ERROR as i32;
