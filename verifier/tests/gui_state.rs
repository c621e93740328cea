//! The GUI state without a window: `State::handle(event, now)` with the clock passed in.

mod gui_support;

use checkpass::number::PassNumber;
use checkpass::pass::Serial;
use checkpass::verdict::{Lang, Level};
use gui_support::{Fixture, NOW};
use verifier::decode::Point;
use verifier::engine::{Checked, Engine};
use verifier::gui::prefs::GuiPrefs;
use verifier::gui::state::{
    start_of_day_cst, CameraStatus, InputSource, Screen, Seen, HOLD_SECS, WEDGE_GAP_SECS,
};
use verifier::gui::{Command, Event, State};
use verifier::store::LoggedVerdict;

fn state() -> State {
    State::new(Lang::Zh, GuiPrefs::default())
}

fn seen(text: &str) -> Seen {
    let p = Point { x: 1.0, y: 1.0 };
    Seen {
        text: text.into(),
        corners: [p, p, p, p],
    }
}

fn frame(texts: &[&str]) -> Event {
    Event::Frame {
        width: 1280,
        height: 720,
        codes: texts.iter().map(|t| seen(t)).collect(),
    }
}

fn checks(cmds: &[Command]) -> Vec<(String, InputSource)> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::Check { text, source } => Some((text.clone(), source.clone())),
            _ => None,
        })
        .collect()
}

fn checked(fx: &Fixture, text: &str, now: i64) -> Checked {
    Engine::open(fx.path())
        .unwrap()
        .check_text(text, now)
        .unwrap()
}

#[test]
fn a_pass_held_in_front_of_the_camera_is_checked_once() {
    let mut s = state();
    let c = s.handle(frame(&["TP1:AAA"]), NOW);
    assert_eq!(checks(&c), vec![("TP1:AAA".into(), InputSource::Camera)]);
    // The same code in the following frames, and a few frames without it: no new check.
    for t in 0..10 {
        assert!(checks(&s.handle(frame(&["TP1:AAA"]), NOW + t / 2)).is_empty());
        assert!(checks(&s.handle(frame(&[]), NOW + t / 2)).is_empty());
    }
    // A new pass replaces it at once.
    let c = s.handle(frame(&["TP1:BBB"]), NOW + 5);
    assert_eq!(checks(&c), vec![("TP1:BBB".into(), InputSource::Camera)]);
    // The first pass shown again after it left the camera for longer than the hold time.
    let c = s.handle(frame(&["TP1:AAA"]), NOW + 5 + HOLD_SECS + 1);
    assert_eq!(checks(&c).len(), 1);
    assert_eq!(s.frames, 23);
}

#[test]
fn a_pass_is_preferred_over_another_code_in_the_same_frame() {
    let mut s = state();
    let c = s.handle(frame(&["https://pay.example/qr", "TP1:AAA"]), NOW);
    assert_eq!(checks(&c), vec![("TP1:AAA".into(), InputSource::Camera)]);
    assert_eq!(
        s.overlay.as_ref().unwrap().codes.len(),
        2,
        "both are outlined"
    );
}

#[test]
fn handheld_scanner_text_is_checked_at_enter() {
    let mut s = state();
    assert!(s.handle(Event::Typed("TP1:".into()), NOW).is_empty());
    assert!(s.handle(Event::Typed("6BF".into()), NOW).is_empty());
    assert_eq!(s.pending_scanner_text(), "TP1:6BF");
    let c = s.handle(Event::Enter, NOW);
    assert_eq!(checks(&c), vec![("TP1:6BF".into(), InputSource::Scanner)]);
    assert_eq!(s.pending_scanner_text(), "");
    // Enter alone checks nothing.
    assert!(checks(&s.handle(Event::Enter, NOW)).is_empty());
    // Half a code from a dropped scan is discarded after a pause.
    s.handle(Event::Typed("TP1:XX".into()), NOW);
    s.handle(Event::Typed("TP1:YY".into()), NOW + WEDGE_GAP_SECS + 1);
    let c = s.handle(Event::Enter, NOW + WEDGE_GAP_SECS + 1);
    assert_eq!(checks(&c), vec![("TP1:YY".into(), InputSource::Scanner)]);
}

#[test]
fn pasted_text_and_image_files_are_checked() {
    let mut s = state();
    let c = s.handle(Event::Pasted("  TP1:AB \n".into()), NOW);
    assert_eq!(checks(&c), vec![("TP1:AB".into(), InputSource::Pasted)]);
    assert!(s.handle(Event::Pasted("   ".into()), NOW).is_empty());
    let c = s.handle(
        Event::FileDecoded {
            name: "pass.png".into(),
            result: Ok(vec!["other".into(), "TP1:CD".into()]),
        },
        NOW,
    );
    assert_eq!(
        checks(&c),
        vec![("TP1:CD".into(), InputSource::File("pass.png".into()))]
    );
    let c = s.handle(
        Event::FileDecoded {
            name: "blank.png".into(),
            result: Ok(vec![]),
        },
        NOW,
    );
    assert!(c.is_empty());
    let n = s.notice.clone().unwrap();
    assert!(!n.ok && n.text.contains("blank.png") && n.text.contains("未找到二维码"));
}

#[test]
fn verdict_stays_until_timeout_with_countdown_or_next_scan() {
    let fx = Fixture::new();
    let mut s = state();
    assert_eq!(s.prefs.verdict_timeout_secs, 20);
    let c = s.handle(
        Event::Checked {
            checked: Box::new(checked(&fx, &fx.green(), NOW)),
            source: InputSource::Camera,
        },
        NOW,
    );
    assert_eq!(
        c,
        vec![Command::PlaySound(Level::Green), Command::LoadHistory]
    );
    assert_eq!(s.countdown(NOW), Some(20));
    s.handle(Event::Tick, NOW + 15);
    assert_eq!(s.countdown(NOW + 15), Some(5));
    assert!(s.shown.is_some());
    s.handle(Event::Tick, NOW + 20);
    assert!(s.shown.is_none(), "gone after the timeout");
    assert_eq!(s.countdown(NOW + 20), None);

    // The next scan replaces the verdict at once.
    s.handle(
        Event::Checked {
            checked: Box::new(checked(&fx, &fx.green(), NOW + 30)),
            source: InputSource::Camera,
        },
        NOW + 30,
    );
    s.handle(
        Event::Checked {
            checked: Box::new(checked(&fx, &fx.red(), NOW + 31)),
            source: InputSource::Scanner,
        },
        NOW + 31,
    );
    let shown = s.shown.as_ref().unwrap();
    assert_eq!(shown.checked.verdict.level(), Level::Red);
    assert_eq!(s.countdown(NOW + 31), Some(20));
    s.handle(Event::Dismiss, NOW + 32);
    assert!(s.shown.is_none());
}

#[test]
fn sound_off_plays_nothing() {
    let fx = Fixture::new();
    let mut s = State::new(
        Lang::Zh,
        GuiPrefs {
            sound: false,
            ..GuiPrefs::default()
        },
    );
    let c = s.handle(
        Event::Checked {
            checked: Box::new(checked(&fx, &fx.amber(), NOW)),
            source: InputSource::Camera,
        },
        NOW,
    );
    assert_eq!(c, vec![Command::LoadHistory]);
}

#[test]
fn history_filter_and_screens() {
    let fx = Fixture::new();
    let mut engine = Engine::open(fx.path()).unwrap();
    engine.check_text(&fx.green(), NOW).unwrap();
    engine.check_text(&fx.red(), NOW + 1).unwrap();
    engine.check_text(&fx.amber(), NOW + 2).unwrap();
    let mut s = state();
    assert_eq!(
        s.handle(Event::Show(Screen::History), NOW),
        vec![Command::LoadHistory]
    );
    s.handle(
        Event::History(engine.scans(Some(start_of_day_cst(NOW))).unwrap()),
        NOW,
    );
    let all: Vec<LoggedVerdict> = s.filtered_history().iter().map(|r| r.verdict).collect();
    assert_eq!(
        all,
        vec![
            LoggedVerdict::Amber,
            LoggedVerdict::Red,
            LoggedVerdict::Green
        ],
        "newest first"
    );
    s.handle(Event::Filter(Some(LoggedVerdict::Red)), NOW);
    let red = s.filtered_history();
    assert_eq!(red.len(), 1);
    assert_eq!(red[0].plate.as_deref(), Some("鲁KR9000"));
}

#[test]
fn today_starts_at_midnight_china_time() {
    // 2022-03-13 08:00 UTC+8 -> 2022-03-13 00:00 UTC+8 = 2022-03-12 16:00 UTC.
    assert_eq!(start_of_day_cst(NOW), NOW - 8 * 3600);
    assert_eq!(start_of_day_cst(NOW - 8 * 3600), NOW - 8 * 3600);
    assert_eq!(
        start_of_day_cst(NOW - 8 * 3600 - 1),
        NOW - 8 * 3600 - 86_400
    );
}

#[test]
fn camera_states_settings_and_language() {
    let mut s = state();
    assert_eq!(s.camera, CameraStatus::Starting);
    s.handle(Event::CameraNotFound, NOW);
    assert_eq!(s.camera, CameraStatus::NotFound);
    s.handle(Event::CameraBusy("Device or resource busy".into()), NOW);
    assert!(matches!(s.camera, CameraStatus::Busy(_)));
    let prefs = GuiPrefs {
        verdict_timeout_secs: 5,
        ..GuiPrefs::default()
    };
    assert_eq!(
        s.handle(Event::Prefs(prefs.clone()), NOW),
        vec![Command::SavePrefs]
    );
    let cam = GuiPrefs {
        resolution: (640, 480),
        ..prefs
    };
    assert_eq!(
        s.handle(Event::Prefs(cam), NOW),
        vec![Command::SavePrefs, Command::RestartCamera]
    );
    assert_eq!(
        s.handle(Event::Lang(Lang::En), NOW),
        vec![Command::SaveLang(Lang::En)]
    );
    assert!(s.handle(Event::Lang(Lang::En), NOW).is_empty());
    s.handle(Event::BundleImported(Err("bad signature".into())), NOW);
    let n = s.notice.clone().unwrap();
    assert!(!n.ok);
    assert_eq!(n.text, "Trust bundle refused: bad signature");
}

#[test]
fn history_search_by_pass_number() {
    let fx = Fixture::new();
    let mut engine = Engine::open(fx.path()).unwrap();
    engine.check_text(&fx.green(), NOW).unwrap();
    engine.check_text(&fx.amber(), NOW + 1).unwrap();
    engine.check_text(&fx.green(), NOW + 700).unwrap();
    let mut s = state();
    s.handle(
        Event::History(engine.scans(Some(start_of_day_cst(NOW))).unwrap()),
        NOW,
    );
    // The sample pass: district 371003, serial 1.
    let number = PassNumber::new(371003, Serial(1)).unwrap();
    s.handle(Event::Search(number.to_string()), NOW);
    assert_eq!(s.search_problem(), None);
    let found: Vec<i64> = s.filtered_history().iter().map(|r| r.scanned_at).collect();
    assert_eq!(
        found,
        vec![NOW + 700, NOW],
        "both scans of it, newest first"
    );
    // Typed without dashes, with spaces: the same.
    s.handle(Event::Search(format!(" {} ", number.compact())), NOW);
    assert_eq!(s.filtered_history().len(), 2);
    // The amber pass (serial 2).
    let other = PassNumber::new(371003, Serial(2)).unwrap();
    s.handle(Event::Search(other.compact()), NOW);
    assert_eq!(s.filtered_history().len(), 1);
    // With the verdict filter on top.
    s.handle(Event::Filter(Some(LoggedVerdict::Green)), NOW);
    assert!(s.filtered_history().is_empty());
    s.handle(Event::Filter(None), NOW);
    // A pass not scanned today: nothing.
    s.handle(
        Event::Search(PassNumber::new(371003, Serial(77)).unwrap().to_string()),
        NOW,
    );
    assert!(s.filtered_history().is_empty());
    assert_eq!(s.search_problem(), None);

    // A typo in the number: said so, and nothing hidden meanwhile.
    let mut typo = number.compact().into_bytes();
    typo[8] = if typo[8] == b'9' { b'0' } else { typo[8] + 1 };
    s.handle(Event::Search(String::from_utf8(typo).unwrap()), NOW);
    assert!(
        s.search_problem().unwrap().contains("校验位错误"),
        "{:?}",
        s.search_problem()
    );
    assert_eq!(s.filtered_history().len(), 3);
    s.handle(Event::Search("37100300".into()), NOW);
    assert!(s.search_problem().unwrap().contains("13 位"));
    s.handle(Event::Search("37100300000a1".into()), NOW);
    assert!(s.search_problem().unwrap().contains("非数字"));
    // Cleared: no problem, everything shown.
    s.handle(Event::Search(String::new()), NOW);
    assert_eq!(s.search_problem(), None);
    assert_eq!(s.filtered_history().len(), 3);
}
