//! A checked QR as the officer reads it (Chinese by default, English on request) and as one
//! JSON object for scripts. Pure: values in, text out.

use checkpass::msg;
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
        (Some(img), 0) => line(msg!(lang, report.heading_no_qr, image = sanitize(img, 200))),
        (Some(img), n) => line(msg!(
            lang,
            report.heading_qr,
            image = sanitize(img, 200),
            index = src.index,
            count = n
        )),
        (None, _) => {}
    }
    let label = match level {
        Level::Green => "GREEN",
        Level::Amber => "AMBER",
        Level::Red => "RED",
    };
    line(msg!(
        lang,
        report.verdict,
        word = level.word(lang),
        label = label
    ));
    for r in &v.reasons {
        line(format!("  · {}  [{}]", r.message(lang), r.code().as_str()));
    }
    match &v.view {
        Some(view) => facts(view, lang, &mut line),
        None => {
            if let Some(text) = src.text {
                line(msg!(lang, report.qr_content, text = sanitize(text, 80)));
            }
        }
    }
    out
}

fn facts(view: &OfficerView, lang: Lang, line: &mut impl FnMut(String)) {
    line(msg!(lang, report.number, number = &view.number));
    line(msg!(
        lang,
        report.plate,
        plate = &view.plate,
        trailer = view.trailer.as_deref().unwrap_or("—")
    ));
    line(msg!(
        lang,
        report.driver,
        name = &view.driver_name,
        id = &view.driver_id_masked,
        occupants = view.occupants
    ));
    line(msg!(
        lang,
        report.category,
        category = view.category(lang),
        cargo = &view.cargo
    ));
    line(msg!(
        lang,
        report.origin_destination,
        origin = &view.origin,
        destination = &view.destination
    ));
    let route = view
        .route
        .iter()
        .map(|stop| {
            let name = if stop.name == stop.code {
                stop.code.clone()
            } else {
                format!("{} {}", stop.code, stop.name)
            };
            if stop.here {
                msg!(lang, report.route_here, name = name)
            } else {
                name
            }
        })
        .collect::<Vec<String>>()
        .join(" → ");
    if view.route.iter().any(|s| s.here) {
        line(msg!(lang, report.route, route = route));
    } else {
        line(msg!(lang, report.route_not_here, route = route));
    }
    line(msg!(
        lang,
        report.valid,
        from = &view.valid_from,
        to = &view.valid_to
    ));
    line(msg!(
        lang,
        report.test_sample,
        sampled_at = &view.test_sampled_at,
        hours = view.test_age_hours
    ));
    if let Some(arrive_by) = &view.arrive_by {
        line(msg!(lang, report.arrive_by, arrive_by = arrive_by));
    }
}

/// The line under a verdict after `--test-seen`: recorded (the sample time seen), or why not.
pub fn test_report_line(recorded: &Result<i64, String>, lang: Lang) -> String {
    match recorded {
        Ok(at) => msg!(
            lang,
            report.test_report_recorded,
            sampled_at = checkpass::time::format_cst(*at)
        ),
        Err(why) => msg!(lang, report.test_report_not_recorded, why = why),
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

/// One JSON object per checked QR: `text`, `verdict`, `reasons` (stable codes), `serial`
/// and, for a pass whose signature verified, its fields.
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
