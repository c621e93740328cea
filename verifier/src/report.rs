//! A checked QR as the officer reads it (Chinese by default, English on request) and as one
//! JSON object for scripts. Pure: values in, text out.

use checkpass::verdict::tr as t;
use checkpass::verdict::{Lang, Level, OfficerView};
use serde_json::{json, Map, Value};

use crate::engine::Checked;
use crate::timefmt;

/// Where a QR text came from, for the report's heading.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// The image file, or `None` for `--text`.
    pub image: Option<&'a str>,
    /// The raw QR text read, or `None` when the image held no QR at all.
    pub text: Option<&'a str>,
    /// Which QR of the image (1-based) and how many were found.
    pub index: usize,
    pub count: usize,
}

/// At most `max` characters of untrusted text, control characters made visible, so a hostile
/// QR cannot rewrite the officer's terminal (the rule is shared with the issuer).
pub use checkpass::text::sanitize;

/// The report printed for one checked QR.
pub fn human(src: &Source<'_>, checked: &Checked, lang: Lang) -> String {
    let v = &checked.verdict;
    let level = v.level();
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    match (src.image, src.count) {
        (Some(img), 0) => line(format!(
            "── {} · {} ──",
            sanitize(img, 200),
            t(lang, "未找到二维码", "no QR code found")
        )),
        (Some(img), n) => line(format!(
            "── {} · {} {}/{} ──",
            sanitize(img, 200),
            t(lang, "二维码", "QR"),
            src.index,
            n
        )),
        (None, _) => {}
    }
    let label = match level {
        Level::Green => "GREEN",
        Level::Amber => "AMBER",
        Level::Red => "RED",
    };
    line(format!(
        "{}{} ({label})",
        t(lang, "结论：", "Verdict: "),
        level.word(lang)
    ));
    for r in &v.reasons {
        line(format!("  · {}  [{}]", r.message(lang), r.code().as_str()));
    }
    match &v.view {
        Some(view) => facts(view, lang, &mut line),
        None => {
            if let Some(text) = src.text {
                line(format!(
                    "{}{}",
                    t(lang, "二维码内容：", "QR content: "),
                    sanitize(text, 80)
                ));
            }
        }
    }
    out
}

fn facts(view: &OfficerView, lang: Lang, line: &mut impl FnMut(String)) {
    let none = "—";
    line(format!(
        "{}{}",
        t(lang, "通行证编号：", "Pass number: "),
        view.number
    ));
    line(format!(
        "{}{}  {}{}",
        t(lang, "车牌：", "Plate:       "),
        view.plate,
        t(lang, "挂车：", "trailer: "),
        view.trailer.as_deref().unwrap_or(none)
    ));
    line(format!(
        "{}{}  {}{}  {}{}",
        t(lang, "驾驶人：", "Driver:      "),
        view.driver_name,
        t(lang, "身份证：", "ID: "),
        view.driver_id_masked,
        t(lang, "随车人数：", "occupants: "),
        view.occupants
    ));
    let category = view.category(lang);
    line(format!(
        "{}{}  {}{}",
        t(lang, "类别：", "Category:    "),
        category,
        t(lang, "货物：", "cargo: "),
        view.cargo
    ));
    line(format!(
        "{}{} → {}",
        t(lang, "起讫：", "From → to:   "),
        view.origin,
        view.destination
    ));
    let route: Vec<String> = view
        .route
        .iter()
        .map(|stop| {
            let name = if stop.name == stop.code {
                stop.code.clone()
            } else {
                format!("{} {}", stop.code, stop.name)
            };
            if stop.here {
                format!("【{name}】")
            } else {
                name
            }
        })
        .collect();
    let off_route = if view.route.iter().any(|s| s.here) {
        ""
    } else {
        t(
            lang,
            "（本站不在路线上）",
            " (this checkpoint is not on it)",
        )
    };
    line(format!(
        "{}{}{off_route}",
        t(lang, "路线：", "Route:       "),
        route.join(" → ")
    ));
    line(format!(
        "{}{} {} {} (UTC+8)",
        t(lang, "有效期：", "Valid:       "),
        view.valid_from,
        t(lang, "至", "to"),
        view.valid_to
    ));
    line(format!(
        "{}{} ({} {})",
        t(lang, "核酸采样：", "Test sample: "),
        view.test_sampled_at,
        view.test_age_hours,
        t(lang, "小时前", "h ago")
    ));
}

/// One JSON object per checked QR: `text`, `verdict`, `reasons` (stable codes), `serial`
/// and, for a pass whose signature verified, its fields.
/// The line under a verdict after `--test-seen`: recorded (the sample time seen), or why not.
pub fn test_report_line(recorded: &Result<i64, String>, lang: Lang) -> String {
    match (recorded, lang) {
        (Ok(at), Lang::Zh) => format!(
            "已记录民警所见核酸报告：采样 {} (UTC+8)；结论仍为注意，由民警决定",
            checkpass::time::format_cst(*at)
        ),
        (Ok(at), Lang::En) => format!(
            "Recorded the newer test report the officer saw: sampled {} (UTC+8); the verdict stays amber, the officer decides",
            checkpass::time::format_cst(*at)
        ),
        (Err(why), _) => format!("{}{why}", t(lang, "未记录核酸报告：", "Test report not recorded: ")),
    }
}

/// The `test_report` field of a JSON line after `--test-seen`.
pub fn test_report_json(recorded: &Result<i64, String>) -> Value {
    match recorded {
        Ok(at) => {
            json!({ "recorded": true, "sample_at": at, "sample_at_cst": checkpass::time::format_cst(*at) })
        }
        Err(why) => json!({ "recorded": false, "error": why }),
    }
}

pub fn json(src: &Source<'_>, checked: &Checked, lang: Lang) -> Value {
    let v = &checked.verdict;
    let mut obj = Map::new();
    obj.insert("image".into(), json!(src.image));
    obj.insert("text".into(), json!(src.text));
    obj.insert("verdict".into(), json!(v.level().as_str()));
    obj.insert("verdict_word".into(), json!(v.level().word(lang)));
    obj.insert("reasons".into(), json!(v.codes()));
    obj.insert(
        "messages".into(),
        json!(v
            .reasons
            .iter()
            .map(|r| r.message(lang))
            .collect::<Vec<_>>()),
    );
    obj.insert("checkpoint".into(), json!(checked.checkpoint));
    obj.insert(
        "checked_at".into(),
        json!(timefmt::rfc3339(checked.record.scanned_at)),
    );
    obj.insert("scan_id".into(), json!(checked.record.id));
    obj.insert(
        "serial".into(),
        json!(v.pass.as_ref().map(|p| p.serial.to_string())),
    );
    if let (Some(pass), Some(view)) = (&v.pass, &v.view) {
        if let Ok(Value::Object(fields)) = serde_json::to_value(view) {
            for (k, val) in fields {
                obj.entry(k).or_insert(val);
            }
        }
        obj.insert("issuer".into(), json!(pass.issuer));
        obj.insert("district".into(), json!(pass.body.district));
        obj.insert("category".into(), json!(pass.body.category.code()));
        obj.insert("issued_at".into(), json!(timefmt::rfc3339(pass.issued_at)));
        obj.insert(
            "not_before".into(),
            json!(timefmt::rfc3339(pass.not_before)),
        );
        obj.insert(
            "expires_at".into(),
            json!(timefmt::rfc3339(pass.expires_at)),
        );
        obj.insert(
            "test_sampled_at".into(),
            json!(timefmt::rfc3339(pass.body.test_sampled_at)),
        );
    }
    Value::Object(obj)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_cuts_and_hides_controls() {
        assert_eq!(sanitize("abc", 5), "abc");
        assert_eq!(sanitize("abcdef", 3), "abc…");
        assert_eq!(sanitize("a\u{1b}[2Jb", 10), "a\u{FFFD}[2Jb");
    }
}
