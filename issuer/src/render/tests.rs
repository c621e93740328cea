//! Tests of the whole render step: every file written, each one decoded back and checked.

use std::path::Path;

use checkpass::pass::{Category, MaskedId, Pass, PassBody, Serial};

use super::*;

/// Application SQ003-0041 of samples/weihai/applications.csv (a bus of returning workers
/// with a trailer), signed with the fixed test-vector key.
fn sample_pass() -> Pass {
    Pass {
        serial: Serial(41),
        issuer: checkpass::sample::ISSUER.to_string(),
        issued_at: checkpass::sample::ISSUED_AT,
        not_before: 1_647_068_400, // 2022-03-12 15:00 +08:00
        expires_at: 1_647_154_800, // 2022-03-13 15:00 +08:00
        body: PassBody {
            district: 371003,
            plate: "鲁KD64755".into(),
            trailer: Some("鲁F1965挂".into()),
            driver_name: "秦建".into(),
            driver_id: MaskedId::from_full_id("320102199210156650").unwrap(),
            occupants: 36,
            category: Category::ReturningWorkers,
            cargo: "返岗员工".into(),
            origin: "荣成市俚岛镇水产加工园".into(),
            destination: "烟台市福山区物流园".into(),
            route: vec!["C105".into(), "C106".into()],
            test_sampled_at: 1_647_036_000, // 2022-03-12 06:00 +08:00
            arrive_by: None,
        },
    }
}

fn stop(code: &str, name: &str) -> RouteStop {
    RouteStop {
        code: code.into(),
        name: name.into(),
        here: false,
    }
}

pub(crate) fn sample_sheet() -> PassSheet {
    let pass = sample_pass();
    let qr_text =
        checkpass::wire::issue_qr_text(&pass, &checkpass::sample::vector_signing_key()).unwrap();
    let facts = PassFacts {
        number: checkpass::number::printed(pass.body.district, pass.serial),
        plate: pass.body.plate.clone(),
        trailer: pass.body.trailer.clone(),
        driver_name: pass.body.driver_name.clone(),
        driver_id_masked: pass.body.driver_id.to_string(),
        occupants: pass.body.occupants,
        category_zh: pass.body.category.label_zh().to_string(),
        category_en: pass.body.category.label_en().to_string(),
        cargo: pass.body.cargo.clone(),
        origin: pass.body.origin.clone(),
        destination: pass.body.destination.clone(),
        route: vec![stop("C105", "荣成收费站"), stop("C106", "石岛收费站")],
        valid_from: "2022-03-12 15:00".into(),
        valid_to: "2022-03-13 15:00".into(),
        test_sampled_at: "2022-03-12 06:00".into(),
        arrive_by: None,
    };
    PassSheet {
        facts,
        issuer_name: "威海市新冠肺炎疫情防控指挥部".into(),
        qr_text,
    }
}

/// Every QR code found in a grayscale image, decoded.
fn scan(img: &image::GrayImage) -> Vec<(rqrr::MetaData, String)> {
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(
        img.width() as usize,
        img.height() as usize,
        |x, y| img.get_pixel(x as u32, y as u32).0[0],
    );
    prepared
        .detect_grids()
        .into_iter()
        .filter_map(|g| g.decode().ok())
        .collect()
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn render_all_writes_every_file_and_each_is_valid() {
    let sheet = sample_sheet();
    assert!(sheet.qr_text.starts_with("TP1:"));
    let dir = tempfile::tempdir().unwrap();
    render_all(&sheet, dir.path(), &Formats::all()).unwrap();

    // qr.txt / sms.txt
    assert_eq!(
        String::from_utf8(read(dir.path(), "qr.txt")).unwrap(),
        format!("{}\n", sheet.qr_text)
    );
    let sms = String::from_utf8(read(dir.path(), "sms.txt")).unwrap();
    assert_eq!(sms.trim_end(), sms_text(&sheet));

    // qr.png: decodes back to the same text, level Q (format bits 11 = Q in rqrr's numbering).
    let qr_png = image::load_from_memory(&read(dir.path(), "qr.png"))
        .unwrap()
        .to_luma8();
    let found = scan(&qr_png);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].1, sheet.qr_text);
    assert_eq!(found[0].0.ecc_level, 3, "error correction level Q");
    let modules = found[0].0.version.to_size() as u32;
    assert_eq!(
        qr_png.width(),
        (modules + 2 * qr::QUIET_ZONE) * qr::PNG_MODULE_PX
    );

    // qr.svg: an SVG whose one path draws the modules, quiet zone included in the view box.
    let svg = String::from_utf8(read(dir.path(), "qr.svg")).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    let side = modules + 2 * qr::QUIET_ZONE;
    assert_eq!(
        root.attribute("viewBox"),
        Some(format!("0 0 {side} {side}").as_str())
    );
    let path = root
        .descendants()
        .find(|n| n.has_tag_name("path"))
        .expect("a <path>");
    assert!(path
        .attribute("d")
        .is_some_and(|d| d.starts_with('M') && d.len() > 1000));

    // pass.png: A5 at 150 dpi, and its QR scans too.
    let sheet_png = image::load_from_memory(&read(dir.path(), "pass.png"))
        .unwrap()
        .to_luma8();
    assert_eq!(sheet_png.dimensions(), (874, 1240));
    let ratio = sheet_png.height() as f32 / sheet_png.width() as f32;
    assert!((ratio - 210.0 / 148.0).abs() < 0.01, "{ratio}");
    let found = scan(&sheet_png);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].1, sheet.qr_text);
    // Text was drawn: a good share of the page is neither white nor the QR.
    let inked = sheet_png.pixels().filter(|p| p.0[0] < 128).count();
    assert!(inked > 50_000, "{inked} dark pixels");

    // pass.pdf: a PDF with the font embedded as a subset, not the whole 2 MB file.
    let pdf = read(dir.path(), "pass.pdf");
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(pdf.ends_with(b"%%EOF") || pdf.ends_with(b"%%EOF\n"));
    let text = String::from_utf8_lossy(&pdf);
    assert!(text.contains("/FontFile"), "no embedded font program");
    assert!(text.contains("/ToUnicode"), "no text layer mapping");
    assert!(text.contains("NotoSansCJKsc"), "font name");
    assert!(pdf.len() < 150_000, "PDF is {} bytes", pdf.len());
    assert!(pdf.len() > 5_000, "PDF is {} bytes", pdf.len());
}

#[test]
fn png_only_writes_just_the_images_and_texts() {
    let dir = tempfile::tempdir().unwrap();
    render_all(&sample_sheet(), dir.path(), &Formats::png_only()).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["pass.png", "qr.png", "qr.txt", "sms.txt"]);
}

#[test]
fn formats_parse_from_a_cli_list() {
    assert_eq!(
        "png,svg,pdf,sheet-png".parse::<Formats>().unwrap(),
        Formats::all()
    );
    assert_eq!("all".parse::<Formats>().unwrap(), Formats::all());
    assert_eq!(
        "png, sheet-png".parse::<Formats>().unwrap(),
        Formats::png_only()
    );
    assert_eq!(
        "PDF".parse::<Formats>().unwrap(),
        Formats {
            qr_png: false,
            qr_svg: false,
            sheet_pdf: true,
            sheet_png: false
        }
    );
    assert_eq!(
        "png,jpg".parse::<Formats>(),
        Err(ParseFormatsError::Unknown("jpg".into()))
    );
    assert_eq!(" , ".parse::<Formats>(), Err(ParseFormatsError::Empty));
    for f in [Formats::all(), Formats::png_only()] {
        assert_eq!(f.to_string().parse::<Formats>().unwrap(), f);
    }
}

#[test]
fn every_character_of_the_sample_sheet_is_in_the_font() {
    assert_eq!(unsupported_chars(&sample_sheet()).unwrap(), vec![]);
    // Every row of the sample spreadsheet prints too.
    let csv = include_str!("../../../samples/weihai/applications.csv");
    let font = font::font().unwrap();
    for (n, line) in csv.lines().enumerate() {
        for c in line.chars() {
            assert!(
                font::covers(font, c),
                "applications.csv line {}: {c:?}",
                n + 1
            );
        }
    }
}

#[test]
fn a_name_the_font_cannot_draw_is_refused_not_printed_as_tofu() {
    let mut sheet = sample_sheet();
    sheet.driver_name = "王𠀀".into();
    let dir = tempfile::tempdir().unwrap();
    let err = render_all(&sheet, dir.path(), &Formats::all()).unwrap_err();
    match err {
        RenderError::MissingGlyphs { field, chars } => {
            assert_eq!(field, "驾驶人员");
            assert_eq!(chars, "𠀀");
        }
        other => panic!("{other}"),
    }
    assert!(!dir.path().join("pass.pdf").exists());
    // The QR and SMS alone need no font.
    let only_qr = Formats {
        qr_png: true,
        qr_svg: true,
        sheet_pdf: false,
        sheet_png: false,
    };
    render_all(&sheet, dir.path(), &only_qr).unwrap();
}

#[test]
fn a_bad_qr_text_is_an_error_before_anything_is_written() {
    let mut sheet = sample_sheet();
    sheet.qr_text = sheet.qr_text.to_lowercase();
    let dir = tempfile::tempdir().unwrap();
    let err = render_all(&sheet, dir.path(), &Formats::all()).unwrap_err();
    assert!(
        matches!(err, RenderError::QrNotAlphanumeric { index: 0, ch: 't' }),
        "{err}"
    );
    assert!(err.to_string().contains("二维码"));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn a_missing_directory_is_reported_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-dir");
    let err = render_all(&sample_sheet(), &missing, &Formats::all()).unwrap_err();
    match &err {
        RenderError::Write { path, .. } => assert!(path.starts_with(&missing)),
        other => panic!("{other}"),
    }
    assert!(err.to_string().contains("no-such-dir"));
}

#[test]
fn long_routes_and_places_still_fit_on_the_page_and_scan() {
    let mut sheet = sample_sheet();
    sheet.route = checkpass::sample::checkpoints()
        .into_iter()
        .cycle()
        .take(32)
        .map(|c| stop(&c.code, &c.name))
        .collect();
    sheet.origin = "荣成市俚岛镇水产加工园区东区二号路十八号冷链仓储中心三号库".repeat(2);
    sheet.issuer_name = "威海市新冠肺炎疫情防控指挥部交通运输保障组应急物资运输专班".into();
    // The optional row of the planned arrival too.
    sheet.arrive_by = Some("2022-03-14 10:00".into());
    let dir = tempfile::tempdir().unwrap();
    render_all(&sheet, dir.path(), &Formats::all()).unwrap();
    let png = image::load_from_memory(&read(dir.path(), "pass.png"))
        .unwrap()
        .to_luma8();
    assert_eq!(scan(&png)[0].1, sheet.qr_text);
    // The layout kept everything inside the frame.
    let page = sheet::layout(&sheet, qr::encode(&sheet.qr_text).unwrap()).unwrap();
    for item in &page.items {
        if let sheet::Item::Text(run) = item {
            assert!(
                run.x >= 30.0 && run.x + run.width() <= sheet::PAGE_W - 30.0,
                "{}",
                run.text
            );
            assert!(run.y > 30.0 && run.y < sheet::PAGE_H - 30.0, "{}", run.text);
        }
    }
}

/// Every text laid out on the sheet, one per line (no-break spaces as spaces).
fn sheet_text(sheet: &PassSheet) -> String {
    sheet::layout(sheet, qr::encode(&sheet.qr_text).unwrap())
        .unwrap()
        .items
        .iter()
        .filter_map(|i| match i {
            sheet::Item::Text(r) => Some(r.text.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
        .replace('\u{a0}', " ")
}

/// The planned arrival at the last checkpoint is a row of its own, only when the pass has one.
#[test]
fn the_sheet_shows_the_planned_arrival_when_there_is_one() {
    let mut sheet = sample_sheet();
    assert!(!sheet_text(&sheet).contains("预计到达"));
    sheet.arrive_by = Some("2022-03-13 10:00".into());
    let all = sheet_text(&sheet);
    assert!(all.contains("预计到达"), "{all}");
    assert!(all.contains("2022-03-13 10:00（末站）"), "{all}");
}

#[test]
fn the_sheet_shows_every_fact() {
    let sheet = sample_sheet();
    let all = sheet_text(&sheet);
    for fact in [
        "威海市重点物资运输车辆通行证",
        sheet.number.as_str(),
        "鲁KD64755",
        "鲁F1965挂",
        "秦建",
        "320102********6650",
        "36 人",
        "返岗人员",
        "返岗员工",
        "荣成市俚岛镇水产加工园",
        "烟台市福山区物流园",
        "① 荣成收费站 C105 → ② 石岛收费站 C106",
        "2022-03-12 15:00 至 2022-03-13 15:00",
        "2022-03-12 06:00",
        "驾乘人员全程不得下车",
        "货物送达后不得停留",
        "仅用于应急运输",
        "威海市新冠肺炎疫情防控指挥部",
    ] {
        assert!(all.contains(fact), "sheet lacks {fact}:\n{all}");
    }
    let pos = |s: &str| all.find(s).unwrap();
    assert!(pos("荣成收费站") < pos("石岛收费站"), "route order");
}

/// Writes docs/images/pass-sample.png (and pass-sample.pdf into the system temp folder, to
/// look at) from the sample application. Run: `cargo test -p issuer render::tests::write_docs_sample -- --ignored`.
#[test]
#[ignore = "writes docs/images/pass-sample.png"]
fn write_docs_sample() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = tempfile::tempdir().unwrap();
    render_all(&sample_sheet(), dir.path(), &Formats::all()).unwrap();
    std::fs::create_dir_all(root.join("docs/images")).unwrap();
    std::fs::copy(
        dir.path().join("pass.png"),
        root.join("docs/images/pass-sample.png"),
    )
    .unwrap();
    let pdf = std::env::temp_dir().join("pass-sample.pdf");
    std::fs::copy(dir.path().join("pass.pdf"), &pdf).unwrap();
    println!("wrote docs/images/pass-sample.png and {}", pdf.display());
}

/// Times each output of `render_all` over many passes. Run with
/// `cargo test --release -p issuer render::tests::bench_render -- --ignored --nocapture`.
#[test]
#[ignore = "benchmark; prints timings"]
fn bench_render() {
    use std::time::Instant;
    let sheet = sample_sheet();
    let n = 300;
    let dir = tempfile::tempdir().unwrap();
    render_all(&sheet, dir.path(), &Formats::all()).unwrap(); // warm caches
    let code = qr::encode(&sheet.qr_text).unwrap();
    let time = |name: &str, f: &mut dyn FnMut()| {
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        let per = t.elapsed().as_secs_f64() * 1000.0 / n as f64;
        println!("{name:<28} {per:7.3} ms/pass");
    };
    time("qr encode", &mut || {
        qr::encode(&sheet.qr_text).unwrap();
    });
    time("qr.png (image + encode)", &mut || {
        qr::png(&code, 300.0).unwrap();
    });
    time("qr.svg", &mut || {
        qr::svg(&code);
    });
    time("layout", &mut || {
        sheet::layout(&sheet, code.clone()).unwrap();
    });
    let page = sheet::layout(&sheet, code.clone()).unwrap();
    time("pass.pdf", &mut || {
        pdf::pdf_bytes(&page, "t").unwrap();
    });
    time("pass.png rasterise", &mut || {
        raster::rasterise(&page).unwrap();
    });
    let img = raster::rasterise(&page).unwrap();
    time("pass.png encode", &mut || {
        raster::png_bytes(&img, 150.0).unwrap();
    });
    time("sms", &mut || {
        sms_text(&sheet);
    });
    time("font check", &mut || {
        unsupported_chars(&sheet).unwrap();
    });
    // Like the issuer: a fresh folder per pass (overwriting files costs more on ext4).
    let mut k = 0;
    let mut fresh = || {
        k += 1;
        let d = dir.path().join(format!("p{k}"));
        std::fs::create_dir(&d).unwrap();
        d
    };
    let small = vec![0u8; 30_000];
    time("mkdir + write 6 files (30 KB)", &mut || {
        let d = fresh();
        for name in ["a", "b", "c", "d", "e", "f"] {
            std::fs::write(d.join(name), &small).unwrap();
        }
    });
    time("render_all (all, to disk)", &mut || {
        render_all(&sheet, &fresh(), &Formats::all()).unwrap();
    });
    time("render_all (png_only)", &mut || {
        render_all(&sheet, &fresh(), &Formats::png_only()).unwrap();
    });
    // Two threads, as on the 2-core target machine.
    let t = Instant::now();
    std::thread::scope(|scope| {
        for th in 0..2 {
            let (sheet, base) = (&sheet, dir.path());
            scope.spawn(move || {
                for i in 0..n {
                    let d = base.join(format!("t{th}-{i}"));
                    std::fs::create_dir(&d).unwrap();
                    render_all(sheet, &d, &Formats::all()).unwrap();
                }
            });
        }
    });
    println!(
        "2 threads, all formats: {:.0} passes/s",
        2.0 * n as f64 / t.elapsed().as_secs_f64()
    );
    let dir = fresh();
    render_all(&sheet, &dir, &Formats::all()).unwrap();
    for name in [
        "qr.png", "qr.svg", "pass.pdf", "pass.png", "sms.txt", "qr.txt",
    ] {
        println!(
            "{name:<10} {:>8} bytes",
            std::fs::metadata(dir.join(name)).unwrap().len()
        );
    }
}

/// Profiling aid: only the PDF back end, in a loop.
/// `cargo test --release -p issuer render::tests::bench_pdf_only -- --ignored`
#[test]
#[ignore = "benchmark"]
fn bench_pdf_only() {
    let sheet = sample_sheet();
    let page = sheet::layout(&sheet, qr::encode(&sheet.qr_text).unwrap()).unwrap();
    let t = std::time::Instant::now();
    for _ in 0..1000 {
        pdf::pdf_bytes(&page, "t").unwrap();
    }
    // 1000 runs: seconds in total = milliseconds per PDF.
    println!("pass.pdf {:.3} ms/pass", t.elapsed().as_secs_f64());
}

/// Runs a poppler tool, or says why it cannot. Poppler is an independent PDF reader (the one
/// behind most Linux viewers); CI installs it (scripts/install-deps.sh), so there a missing
/// tool is a failure, not a skip.
fn poppler(tool: &str, args: &[&std::ffi::OsStr]) -> Option<std::process::Output> {
    match std::process::Command::new(tool).args(args).output() {
        Ok(out) => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{tool} failed: {stderr}");
            // Poppler reports every syntax problem it recovers from on stderr.
            assert!(stderr.trim().is_empty(), "{tool} complained: {stderr}");
            Some(out)
        }
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!("skipping the poppler check: {tool}: {e} (install poppler-utils)");
            None
        }
        Err(e) => panic!("{tool}: {e}; CI must have poppler-utils"),
    }
}

/// pass.pdf as another program sees it: poppler finds the subset font embedded with a
/// Unicode map, extracts the Chinese text, and renders a page that matches pass.png pixel for
/// pixel except for anti-aliasing, with a QR that scans to the pass. Two sheets: the sample,
/// and one with no trailer, three stops and places long enough to wrap.
#[test]
fn pdf_reads_back_in_poppler_as_the_same_sheet() {
    let mut long = sample_sheet();
    long.trailer = None;
    long.occupants = 1;
    long.origin = "文登区米山镇工业园区东侧物流中心三号仓库装卸区南门".into();
    long.destination = "荣成市石岛管理区王连街道海洋食品产业园冷链物流基地".into();
    long.route.push(stop("C101", "威海收费站"));
    for sheet in [sample_sheet(), long] {
        if !poppler_reads(&sheet) {
            return;
        }
    }
}

/// Checks one sheet's PDF with poppler; false when poppler is missing outside CI.
fn poppler_reads(sheet: &PassSheet) -> bool {
    let dir = tempfile::tempdir().unwrap();
    render_all(sheet, dir.path(), &Formats::all()).unwrap();
    let pdf = dir.path().join("pass.pdf");

    let Some(fonts) = poppler("pdffonts", &[pdf.as_os_str()]) else {
        return false;
    };
    let fonts = String::from_utf8_lossy(&fonts.stdout);
    // Two subsets of the one font: the glyphs every sheet draws, and this sheet's own.
    let rows: Vec<&str> = fonts
        .lines()
        .filter(|l| l.contains("NotoSansCJKsc"))
        .collect();
    assert_eq!(rows.len(), 2, "font rows in\n{fonts}");
    for row in rows {
        let cols: Vec<&str> = row.split_whitespace().collect();
        assert!(
            cols[0].len() > 7 && cols[0].as_bytes()[6] == b'+',
            "subset tag: {row}"
        );
        assert!(row.contains("CID Type 0C"), "{row}");
        assert!(
            row.contains("yes yes yes"),
            "embedded, subset, unicode: {row}"
        );
    }

    poppler("pdftotext", &["-layout".as_ref(), pdf.as_os_str()]);
    let text = std::fs::read_to_string(dir.path().join("pass.txt")).unwrap();
    // Wrapped lines break words across lines in the extracted text: compare without spaces.
    let flat: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let mut wanted = vec![
        "威海市重点物资运输车辆通行证",
        &sheet.number,
        &sheet.plate,
        &sheet.driver_name,
        &sheet.driver_id_masked,
        &sheet.origin,
        &sheet.destination,
        &sheet.valid_to,
        "驾乘人员全程不得下车",
        "货物送达后不得停留",
        "仅用于应急运输",
    ];
    wanted.extend(sheet.route.iter().map(|s| s.name.as_str()));
    for want in wanted {
        let want: String = want.chars().filter(|c| !c.is_whitespace()).collect();
        assert!(flat.contains(&want), "{want} not in the PDF text:\n{text}");
    }

    let page = dir.path().join("page");
    let mut args: Vec<&std::ffi::OsStr> = ["-r", "150", "-gray", "-png", "-singlefile"]
        .iter()
        .map(|a| a.as_ref())
        .collect();
    args.extend([pdf.as_os_str(), page.as_os_str()]);
    poppler("pdftoppm", &args);
    let rendered = image::open(dir.path().join("page.png")).unwrap().to_luma8();
    let png = image::load_from_memory(&read(dir.path(), "pass.png"))
        .unwrap()
        .to_luma8();
    // poppler rounds the A5 page up to 875 × 1241.
    assert!(rendered.width().abs_diff(png.width()) <= 1);
    assert!(rendered.height().abs_diff(png.height()) <= 1);
    let (w, h) = (
        png.width().min(rendered.width()),
        png.height().min(rendered.height()),
    );
    let far = (0..h)
        .flat_map(|y| (0..w).map(move |x| (x, y)))
        .filter(|&(x, y)| rendered.get_pixel(x, y).0[0].abs_diff(png.get_pixel(x, y).0[0]) > 128)
        .count();
    let share = far as f64 / f64::from(w * h);
    assert!(share < 0.02, "{:.2} % of pixels differ", share * 100.0);
    let found = scan(&rendered);
    assert_eq!(found.len(), 1, "the QR of the rendered PDF");
    assert_eq!(found[0].1, sheet.qr_text);
    true
}
