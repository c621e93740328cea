//! The real UI driven by role and label with egui_kittest (no window, no GPU): verdicts,
//! no camera, a refused bundle import, a handheld-scanner scan, the language switch.
//!
//! kittest fails on any character missing from the fonts, so every screen drawn here also
//! proves that the Chinese text has glyphs (no boxes).

mod gui_support;

use std::cell::Cell;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use checkpass::keys::SigningKey;
use checkpass::verdict::Lang;
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use gui_support::{Fixture, NOW};
use verifier::engine::Engine;
use verifier::gui::app::SourceFactory;
use verifier::gui::scanner::ScanOptions;
use verifier::gui::source::SourceError;
use verifier::gui::state::Field;
use verifier::gui::{Event, FrameInput, Gui, GuiConfig};

/// Makes the GUI with the harness's egui context.
type MakeGui = Box<dyn FnOnce(&egui::Context) -> Gui>;

/// The harness state: the GUI, made on the first frame.
struct App {
    gui: Option<Gui>,
    make: Option<MakeGui>,
}

fn harness(dir: PathBuf, input: FrameInput, clock: Rc<Cell<i64>>) -> Harness<'static, App> {
    harness_of(dir, input, clock, [1280.0, 860.0], false)
}

/// A window of `size` points, with the simulated clock's badge when `simulated`.
fn harness_of(
    dir: PathBuf,
    input: FrameInput,
    clock: Rc<Cell<i64>>,
    size: [f32; 2],
    simulated: bool,
) -> Harness<'static, App> {
    let make = Box::new(move |ctx: &egui::Context| {
        let config = GuiConfig {
            input,
            scan: ScanOptions {
                preview_width: None,
                ..ScanOptions::default()
            },
            clock: Box::new(move || clock.get()),
            simulated_clock: simulated,
            sound: false,
            before_job: None,
        };
        Gui::new(dir, config, ctx)
    });
    let mut h = Harness::builder().with_size(size).build_ui_state(
        |ui, app: &mut App| {
            if app.gui.is_none() {
                if let Some(make) = app.make.take() {
                    app.gui = Some(make(ui.ctx()));
                }
            }
            if let Some(gui) = app.gui.as_mut() {
                // Checks and disk writes are answered by the `verify` worker on a later
                // frame; the tests wait for them before each frame so that a frame after a
                // click shows its result, as the window does a moment later.
                assert!(gui.settle(Duration::from_secs(30)), "verify worker stuck");
                gui.update_ui(ui);
            }
        },
        App {
            gui: None,
            make: Some(make),
        },
    );
    h.run_steps(2);
    h
}

fn gui<'h>(h: &'h mut Harness<'static, App>) -> &'h mut Gui {
    h.state_mut().gui.as_mut().unwrap()
}

fn no_camera() -> FrameInput {
    FrameInput::Custom(SourceFactory(Arc::new(|| Err(SourceError::NoCamera))))
}

/// Types `text` as a handheld scanner does: characters, then Enter, with no text box focused.
fn scanner_types(h: &mut Harness<'static, App>, text: &str) {
    // One character at a time, as a keyboard-wedge scanner sends them.
    for c in text.chars() {
        h.event(egui::Event::Text(c.to_string()));
    }
    h.key_press(egui::Key::Enter);
    h.run_steps(2);
}

#[test]
fn green_verdict_from_a_handheld_scanner_shows_the_facts() {
    let fx = Fixture::new();
    let clock = Rc::new(Cell::new(NOW));
    let mut h = harness(fx.path().to_path_buf(), FrameInput::Off, clock);
    scanner_types(&mut h, &fx.green());
    h.get_by_label("通过");
    h.get_by_label("鲁KP20XL");
    h.get_by_label_contains("邓丽伟");
    h.get_by_label_contains("320102********6657");
    h.get_by_label_contains("工业原材料 / 塑料粒子");
    h.get_by_label_contains("环翠区张村镇工业园 → 环翠区羊亭镇物流中心");
    h.get_by_label_contains("[本站]");
    h.get_by_label_contains("来源：扫码枪");
    h.get_by_label("20 秒后返回扫描");
    // Recorded in the scan log.
    let scans = Engine::open(fx.path()).unwrap().scans(None).unwrap();
    assert_eq!(scans.len(), 1);
    assert_eq!(scans[0].plate.as_deref(), Some("鲁KP20XL"));
}

/// A pass that carries its planned arrival at the last checkpoint shows it among the facts.
#[test]
fn the_planned_arrival_is_among_the_facts() {
    let fx = Fixture::new();
    let clock = Rc::new(Cell::new(NOW));
    let mut h = harness(fx.path().to_path_buf(), FrameInput::Off, clock);
    let mut pass = checkpass::sample::pass();
    pass.body.arrive_by = Some(pass.not_before + 3600);
    let at = checkpass::time::format_cst(pass.not_before + 3600);
    scanner_types(&mut h, &fx.text(&pass));
    h.get_by_label("预计到达");
    h.get_by_label(&format!("{at}（末站）"));
}

#[test]
fn amber_verdict_names_the_reason_and_counts_down() {
    let fx = Fixture::new();
    let clock = Rc::new(Cell::new(NOW));
    let mut h = harness(fx.path().to_path_buf(), FrameInput::Off, clock.clone());
    let text = fx.amber();
    gui(&mut h).event(Event::Edit(Field::Paste, text));
    h.run_steps(1); // lay out the box with the pasted text before clicking below it
    h.get_by_role_and_label(Role::Button, "核验文本").click();
    h.run_steps(2);
    h.get_by_label("注意");
    h.get_by_label_contains("不在核定路线上");
    clock.set(NOW + 12);
    h.run_steps(2);
    h.get_by_label("8 秒后返回扫描");
    clock.set(NOW + 20);
    h.run_steps(2);
    assert!(h.query_by_label("注意").is_none(), "the verdict went away");
    h.get_by_label("核验文本");
}

#[test]
fn red_verdict_shows_what_the_officer_needs_and_no_more() {
    let fx = Fixture::new();
    let clock = Rc::new(Cell::new(NOW));
    let mut h = harness(fx.path().to_path_buf(), FrameInput::Off, clock);
    scanner_types(&mut h, &fx.red());
    h.get_by_label("拒绝");
    h.get_by_label_contains("通行证已被撤销");
    h.get_by_label("鲁KR9000");
    assert!(
        h.query_by_label_contains("邓丽伟").is_none(),
        "no driver name on red"
    );
    assert!(h.query_by_label_contains("6657").is_none(), "no ID on red");
    // Not a pass at all: red with the reason, nothing else.
    h.get_by_role_and_label(Role::Button, "继续扫描").click();
    h.run_steps(2);
    scanner_types(&mut h, "https://pay.example.com/qr/123");
    h.get_by_label("拒绝");
    h.get_by_label_contains("不是通行证二维码");
}

#[test]
fn without_a_camera_the_other_ways_in_are_offered() {
    let fx = Fixture::new();
    let clock = Rc::new(Cell::new(NOW));
    let mut h = harness(fx.path().to_path_buf(), no_camera(), clock);
    for _ in 0..50 {
        h.run_steps(1);
        if h.query_by_label_contains("请连接摄像头").is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    h.get_by_label_contains("请连接摄像头");
    h.get_by_role_and_label(Role::Button, "重新打开摄像头");
    h.get_by_role_and_label(Role::Button, "打开图像");
    h.get_by_role_and_label(Role::Button, "核验文本");
    // An image file works instead.
    let png = fx.path().join("pass.png");
    gui_support::qr_image(&fx.green()).save(&png).unwrap();
    gui(&mut h).event(Event::Edit(Field::ImagePath, png.display().to_string()));
    h.get_by_role_and_label(Role::Button, "打开图像").click();
    for _ in 0..200 {
        h.run_steps(1);
        if h.query_by_label("通过").is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    h.get_by_label("通过");
    h.get_by_label_contains("来源：pass.png");
}

#[test]
fn a_bundle_from_another_root_is_refused_with_the_reason() {
    let fx = Fixture::new();
    let clock = Rc::new(Cell::new(NOW));
    let mut h = harness(fx.path().to_path_buf(), FrameInput::Off, clock);
    h.get_by_label("设置").click();
    h.run_steps(2);
    let foreign = fx.bundle_file(&SigningKey::from_seed(&[0x99; 32]), 5, "foreign.cose");
    let field = h.get_by_label("信任包文件");
    field.focus();
    field.type_text(&foreign.display().to_string());
    h.run_steps(2);
    h.get_by_role_and_label(Role::Button, "导入信任包").click();
    h.run_steps(2);
    h.get_by_label_contains("信任包被拒绝");
    h.get_by_label_contains("foreign.cose");
    // The installed bundle is still the old one.
    h.get_by_label_contains("序号 1，");
    // A good, newer bundle is accepted.
    let good = fx.bundle_file(&fx.root, 2, "good.cose");
    gui(&mut h).event(Event::Edit(Field::BundlePath, good.display().to_string()));
    h.get_by_role_and_label(Role::Button, "导入信任包").click();
    h.run_steps(2);
    h.get_by_label_contains("已导入信任包：序号 2");
}

/// The officer sets the lane's direction on the settings screen: saved with the checkpoint and
/// shown in the status bar (the CLI tests show it logged with each scan).
#[test]
fn the_lane_direction_is_set_on_the_settings_screen() {
    let fx = Fixture::new();
    let clock = Rc::new(Cell::new(NOW));
    let mut h = harness(fx.path().to_path_buf(), FrameInput::Off, clock);
    h.get_by_label("设置").click();
    h.run_steps(2);
    h.get_by_label("车道方向");
    assert_eq!(h.query_all_by_label("出城").count(), 1, "only the choice");
    h.get_by_label("出城").click();
    h.run_steps(2);
    h.get_by_role_and_label(Role::Button, "保存").click();
    h.run_steps(2);
    h.get_by_label_contains("已保存");
    assert_eq!(
        h.query_all_by_label("出城").count(),
        2,
        "the choice and the status bar"
    );
    let engine = Engine::open(fx.path()).unwrap();
    assert_eq!(
        engine.settings().direction,
        Some(checkpass::scanlog::Direction::Outbound)
    );
}

/// On a small laptop screen (1024 points wide) the status bar's items wrap onto another line
/// instead of being drawn over each other — the simulated-clock badge included — in either
/// language.
#[test]
fn the_status_bar_wraps_on_a_narrow_window() {
    let fx = Fixture::new();
    let clock = Rc::new(Cell::new(NOW));
    let mut h = harness_of(
        fx.path().to_path_buf(),
        FrameInput::Off,
        clock,
        [1024.0, 700.0],
        true,
    );
    let items = |h: &Harness<'static, App>, labels: &[&str]| -> Vec<(String, egui::Rect)> {
        labels
            .iter()
            .map(|l| {
                // The status bar's label: in the top rows (the scan screen may say it too), and
                // the smallest node that holds the text (not a row around it).
                let top = h
                    .query_all_by_label_contains(l)
                    .map(|n| n.rect())
                    .filter(|r| r.min.y < 100.0)
                    .min_by(|a, b| a.area().total_cmp(&b.area()))
                    .unwrap_or_else(|| panic!("no {l} in the status bar"));
                (l.to_string(), top)
            })
            .collect()
    };
    let assert_apart = |items: &[(String, egui::Rect)]| {
        for (i, (a, ra)) in items.iter().enumerate() {
            assert!(ra.max.x <= 1024.0 + 0.5, "{a} runs off the window: {ra:?}");
            for (b, rb) in &items[i + 1..] {
                assert!(
                    !ra.shrink(0.5).intersects(rb.shrink(0.5)),
                    "{a} {ra:?} is drawn over {b} {rb:?}"
                );
            }
        }
    };
    let zh = items(
        &h,
        &[
            "今日记录",
            "检查站 C101",
            "根密钥 ",
            "信任包 序号",
            "模拟时间 ",
            "扫描已停止",
        ],
    );
    assert_apart(&zh);
    h.get_by_label("设置").click();
    h.run_steps(2);
    h.get_by_label("English").click();
    h.run_steps(2);
    let en = items(
        &h,
        &[
            "Today's scans",
            "Checkpoint C101",
            "Root key ",
            "Bundle #",
            "Simulated time ",
            "Scanning stopped",
        ],
    );
    assert_apart(&en);
}

#[test]
fn the_language_switch_changes_the_window_and_is_remembered() {
    let fx = Fixture::new();
    let clock = Rc::new(Cell::new(NOW));
    let mut h = harness(fx.path().to_path_buf(), FrameInput::Off, clock);
    h.get_by_label("设置").click();
    h.run_steps(2);
    h.get_by_label("English").click();
    h.run_steps(2);
    h.get_by_label("Settings");
    h.get_by_label("Scan").click();
    h.run_steps(2);
    scanner_types(&mut h, &fx.green());
    h.get_by_label("PASS");
    h.get_by_label_contains("industrial raw materials");
    assert_eq!(Engine::open(fx.path()).unwrap().settings().lang, Lang::En);
}

#[test]
fn history_lists_todays_scans_filters_and_exports() {
    let fx = Fixture::new();
    let clock = Rc::new(Cell::new(NOW));
    let mut h = harness(fx.path().to_path_buf(), FrameInput::Off, clock.clone());
    scanner_types(&mut h, &fx.green());
    clock.set(NOW + 60);
    scanner_types(&mut h, &fx.red());
    h.get_by_label("今日记录").click();
    h.run_steps(2);
    h.get_by_label("今日共 2 条");
    h.get_by_label("只看拒绝").click();
    h.run_steps(2);
    h.get_by_label("今日共 1 条");
    h.get_by_label("鲁KR9000");
    assert!(h.query_by_label("鲁KP20XL").is_none());
    let out = fx.path().join("today.csv");
    gui(&mut h).event(Event::Edit(Field::ExportPath, out.display().to_string()));
    h.get_by_role_and_label(Role::Button, "导出 CSV").click();
    h.run_steps(2);
    h.get_by_label_contains("已导出 1 条记录");
    let csv = std::fs::read_to_string(out).unwrap();
    assert!(csv.contains("鲁KR9000") && csv.contains("REVOKED") && !csv.contains("鲁KP20XL"));
}

#[test]
fn an_uninitialised_device_is_set_up_from_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let fx = Fixture::new();
    let key_file = fx.path().join("root.pub.json");
    std::fs::write(
        &key_file,
        checkpass::keys::public_key_file(&fx.root.public_key(), checkpass::keys::KeyRole::Root),
    )
    .unwrap();
    let clock = Rc::new(Cell::new(NOW));
    let mut h = harness(dir.path().to_path_buf(), FrameInput::Off, clock);
    // Checking before set-up says why it cannot.
    scanner_types(&mut h, &fx.green());
    h.get_by_label_contains("尚未初始化");
    h.get_by_label("设置").click();
    h.run_steps(2);
    h.get_by_label("根公钥文件").focus();
    h.run_steps(1);
    h.get_by_label("根公钥文件")
        .type_text(&key_file.display().to_string());
    h.run_steps(1);
    h.get_by_label("检查站编码").focus();
    h.run_steps(1);
    h.get_by_label("检查站编码").type_text("C101");
    h.run_steps(2);
    h.get_by_role_and_label(Role::Button, "初始化").click();
    h.run_steps(2);
    h.get_by_label("已初始化，请导入信任包");
    let engine = Engine::open(dir.path()).unwrap();
    assert_eq!(engine.settings().checkpoint, "C101");
    assert_eq!(engine.settings().root_key, fx.root.public_key());
}

#[test]
fn a_clock_correction_is_recorded_from_the_settings_screen() {
    let fx = Fixture::new();
    let clock = Rc::new(Cell::new(NOW));
    let mut h = harness(fx.path().to_path_buf(), FrameInput::Off, clock);
    h.get_by_label("设置").click();
    h.run_steps(2);
    // Without a reason nothing is recorded.
    h.get_by_role_and_label(Role::Button, "登记时钟校正")
        .click();
    h.run_steps(2);
    h.get_by_label_contains("请填写校正理由");
    let field = h.get_by_label("校正理由");
    field.focus();
    field.type_text("时钟快了一天，已校正");
    h.run_steps(2);
    h.get_by_role_and_label(Role::Button, "登记时钟校正")
        .click();
    h.run_steps(2);
    h.get_by_label_contains("已登记时钟校正");
    drop(h);
    assert!(
        Engine::open(fx.path())
            .unwrap()
            .verify_log()
            .unwrap()
            .entries
            >= 2
    );
}
