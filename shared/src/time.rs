//! Times as the people of the sample city read and write them: China Standard Time (UTC+8),
//! minutes precision. The model keeps unix seconds; only display and input use this module.

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone};

/// UTC+8, which China uses all year.
pub const CST: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+8 is a valid offset"),
};

pub fn cst() -> FixedOffset {
    CST
}

/// `2022-03-12 19:00` in UTC+8.
pub fn format_cst(unix: i64) -> String {
    match DateTime::from_timestamp(unix, 0) {
        Some(t) => t.with_timezone(&cst()).format("%Y-%m-%d %H:%M").to_string(),
        None => format!("@{unix}"),
    }
}

/// Reads `2022-03-12 19:00` (or with seconds, or `T` between date and time) as UTC+8.
pub fn parse_cst(text: &str) -> Option<i64> {
    let text = text.trim();
    [
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y/%m/%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
    .and_then(|naive| cst().from_local_datetime(&naive).single())
    .map(|t| t.timestamp())
}

/// Whole hours in a number of seconds, rounded down (negative durations round towards zero).
pub fn hours(secs: i64) -> i64 {
    secs / 3600
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cst_round_trip() {
        let t = parse_cst("2022-03-12 19:00").unwrap();
        assert_eq!(t, 1_647_082_800);
        assert_eq!(format_cst(t), "2022-03-12 19:00");
        assert_eq!(parse_cst("2022-03-12T19:00:00"), Some(t));
        assert_eq!(parse_cst("2022-03-32 19:00"), None);
        assert_eq!(parse_cst(""), None);
    }
}
