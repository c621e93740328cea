//! The SMS sent to the driver with the pass: who, which vehicle, the serial, the validity
//! window, the route by checkpoint name and the conditions. Never the full ID number or a
//! phone number. Kept under [`MAX_CHARS`] characters (a long route is shortened first).

use super::sheet::{city_of, CONDITIONS};
use super::PassSheet;

/// Upper bound on the message length in characters (about three SMS segments of 70).
pub const MAX_CHARS: usize = 200;

/// The SMS text for `sheet`.
pub fn sms_text(s: &PassSheet) -> String {
    let city = city_of(&s.issuer_name);
    let sender = if city.is_empty() {
        s.issuer_name.chars().take(8).collect::<String>()
    } else {
        city.to_string()
    };
    let vehicle = match s.trailer.as_deref().map(str::trim) {
        Some(t) if !t.is_empty() => format!("{}（挂车{}）", s.plate, t),
        _ => s.plate.clone(),
    };
    let (from, to) = window(&s.valid_from, &s.valid_to);
    let names: Vec<&str> = s
        .route
        .iter()
        .map(|stop| {
            if stop.name.is_empty() {
                stop.code.as_str()
            } else {
                stop.name.as_str()
            }
        })
        .collect();
    let conditions = CONDITIONS.join("，");
    let build = |route: &str, greeting: bool| {
        let hello = if greeting {
            format!("{}您好，", s.driver_name)
        } else {
            String::new()
        };
        format!(
            "【{sender}通行证】{hello}车辆{vehicle}的通行证{serial}已签发，有效期{from}至{to}，路线：{route}。{conditions}。通行证由申请单位在线下载或打印交给您，过检查站请出示通行证二维码及核酸报告。",
            serial = s.number
        )
    };
    let full_route = names.join("→");
    let short_route = match names.as_slice() {
        [first, .., last] if names.len() > 2 => format!("{first}→…→{last}（共{}站）", names.len()),
        _ => full_route.clone(),
    };
    for (route, greeting) in [
        (&full_route, true),
        (&short_route, true),
        (&short_route, false),
    ] {
        let text = build(route, greeting);
        if text.chars().count() <= MAX_CHARS {
            return text;
        }
    }
    // Only absurdly long plates or names get here: cut at the limit rather than send a
    // message the gateway would split or refuse.
    let text = build(&short_route, false);
    let mut cut: String = text.chars().take(MAX_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// The validity window, without the year when both ends share it ("2022-03-12 19:00" →
/// "03-12 19:00").
fn window<'a>(from: &'a str, to: &'a str) -> (&'a str, &'a str) {
    let year = |s: &'a str| {
        s.get(..5)
            .filter(|y| y.ends_with('-') && y[..4].bytes().all(|b| b.is_ascii_digit()))
    };
    match (year(from), year(to)) {
        (Some(a), Some(b)) if a == b => (&from[5..], &to[5..]),
        _ => (from, to),
    }
}

/// The SMS that tells a driver their application was refused, with the reason (shortened to
/// keep the message within [`MAX_CHARS`]). Never the ID number.
pub fn rejection_text(
    issuer_name: &str,
    driver_name: &str,
    plate: &str,
    app_no: &str,
    reason: &str,
) -> String {
    let city = city_of(issuer_name);
    let sender = if city.is_empty() {
        issuer_name.chars().take(8).collect::<String>()
    } else {
        city.to_string()
    };
    let build = |reason: &str| {
        format!(
            "【{sender}通行证】{driver_name}您好，车辆{plate}的通行证申请{app_no}未获批准，理由：{reason}。如有疑问请联系所属区市联络员。"
        )
    };
    let full = build(reason);
    if full.chars().count() <= MAX_CHARS {
        return full;
    }
    let room = MAX_CHARS.saturating_sub(build("").chars().count() + 1);
    let short: String = reason.chars().take(room).collect();
    build(&format!("{short}…"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejections_say_why_within_the_limit() {
        let t = rejection_text(
            "威海市交通运输保障专班",
            "张三",
            "鲁K12345",
            "SQ003-0002",
            "资料不全",
        );
        assert_eq!(
            t,
            "【威海市通行证】张三您好，车辆鲁K12345的通行证申请SQ003-0002未获批准，理由：资料不全。如有疑问请联系所属区市联络员。"
        );
        let long = "理".repeat(300);
        let t = rejection_text(
            "威海市交通运输保障专班",
            "张三",
            "鲁K12345",
            "SQ003-0002",
            &long,
        );
        assert!(t.chars().count() <= MAX_CHARS, "{}", t.chars().count());
        assert!(t.contains("理理…。"));
    }
    use crate::render::tests::sample_sheet;

    #[test]
    fn sms_has_the_facts_and_no_secrets() {
        let s = sample_sheet();
        let t = sms_text(&s);
        assert!(t.starts_with("【威海市通行证】秦建您好，"), "{t}");
        for part in [
            s.number.as_str(),
            "鲁KD64755（挂车鲁F1965挂）",
            "03-12 15:00至03-13 15:00",
            "荣成收费站→石岛收费站",
            "驾乘人员全程不得下车",
            "货物送达后不得停留",
            "仅用于应急运输",
        ] {
            assert!(t.contains(part), "missing {part} in {t}");
        }
        // Only the masked ID is known here, and the SMS does not even carry that.
        assert!(!t.contains("320102"));
        assert!(!t.chars().any(|c| c == '*'));
        assert!(
            t.chars().count() <= MAX_CHARS,
            "{} chars",
            t.chars().count()
        );
    }

    #[test]
    fn long_routes_are_shortened_to_fit() {
        let mut s = sample_sheet();
        s.route = (0..12)
            .map(|i| crate::render::RouteStop {
                code: format!("C1{i:02}"),
                name: format!("第{i}号高速收费站"),
                here: false,
            })
            .collect();
        let t = sms_text(&s);
        assert!(t.chars().count() <= MAX_CHARS, "{t}");
        assert!(
            t.contains("第0号高速收费站→…→第11号高速收费站（共12站）"),
            "{t}"
        );
        s.origin = "很长".repeat(200);
        s.plate = "鲁".repeat(300);
        let t = sms_text(&s);
        assert_eq!(t.chars().count(), MAX_CHARS);
        assert!(t.ends_with('…'));
    }

    #[test]
    fn window_keeps_year_when_it_differs() {
        assert_eq!(
            window("2022-12-31 20:00", "2023-01-01 20:00"),
            ("2022-12-31 20:00", "2023-01-01 20:00")
        );
        assert_eq!(
            window("2022-03-12 15:00", "2022-03-13 15:00"),
            ("03-12 15:00", "03-13 15:00")
        );
        assert_eq!(window("", "x"), ("", "x"));
    }
}
