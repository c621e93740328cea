//! Times as the officer reads and types them, beyond what `checkpass::time` offers: RFC 3339
//! for machines, dates and RFC 3339 on the command line, durations in words. The model keeps
//! unix seconds (UTC); people at the checkpoint read China Standard Time (UTC+8).

use checkpass::msg;
use checkpass::verdict::Lang;
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone};

pub use checkpass::time::{cst, format_cst as minutes};

/// `2022-03-12T19:00:00+08:00`, for machines (JSON, CSV).
pub fn rfc3339(t: i64) -> String {
    match cst().timestamp_opt(t, 0).single() {
        Some(dt) => dt.to_rfc3339(),
        None => format!("@{t}"),
    }
}

/// Why a time the user typed was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub struct TimeParseError {
    pub input: String,
}

impl std::fmt::Display for TimeParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let input = format!("{:?}", self.input);
        checkpass::messages::write_bilingual(
            f,
            |lang| msg!(lang, error.time.unrecognised, input = &input),
            None,
        )
    }
}

/// Parses an RFC 3339 time (any offset), or a local UTC+8 `YYYY-MM-DD HH:MM[:SS]` /
/// `YYYY-MM-DDTHH:MM[:SS]`, or a date `YYYY-MM-DD` (midnight UTC+8).
pub fn parse(input: &str) -> Result<i64, TimeParseError> {
    let s = input.trim();
    let err = || TimeParseError {
        input: input.to_owned(),
    };
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Ok(dt.timestamp());
    }
    if let Some(t) = checkpass::time::parse_cst(s) {
        return Ok(t);
    }
    if let Ok(date) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return date.and_hms_opt(0, 0, 0).and_then(local).ok_or_else(err);
    }
    Err(err())
}

fn local(naive: NaiveDateTime) -> Option<i64> {
    cst()
        .from_local_datetime(&naive)
        .single()
        .map(|dt| dt.timestamp())
}

/// Start of the day (UTC+8) that contains `now`: where "today's scans" begin.
pub fn start_of_day_cst(now: i64) -> i64 {
    let offset = 8 * 3600;
    (now + offset).div_euclid(86_400) * 86_400 - offset
}

/// A duration for people: `3 天 4 小时`, `2 小时 5 分`, `45 秒` (or English).
pub fn duration(secs: i64, en: bool) -> String {
    let neg = secs < 0;
    let s = secs.unsigned_abs();
    let (d, h, m) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60);
    let lang = if en { Lang::En } else { Lang::Zh };
    let body = match (d, h, m) {
        (1.., _, _) => msg!(lang, duration.days_hours, days = d, hours = h),
        (0, 1.., _) => msg!(lang, duration.hours_minutes, hours = h, minutes = m),
        (0, 0, 1..) => msg!(lang, duration.minutes, minutes = m),
        (0, 0, 0) => msg!(lang, duration.seconds, seconds = s),
    };
    if neg {
        format!("-{body}")
    } else {
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2022-03-12 19:00 UTC+8 = 11:00 UTC.
    const T: i64 = 1_647_082_800;

    #[test]
    fn formats_in_utc_plus_8() {
        assert_eq!(minutes(T), "2022-03-12 19:00");
        assert_eq!(rfc3339(T), "2022-03-12T19:00:00+08:00");
    }

    #[test]
    fn parses_the_usual_forms() {
        assert_eq!(parse("2022-03-12T19:00:00+08:00"), Ok(T));
        assert_eq!(parse("2022-03-12T11:00:00Z"), Ok(T));
        assert_eq!(parse("2022-03-12 19:00"), Ok(T));
        assert_eq!(parse(" 2022-03-12T19:00:00 "), Ok(T));
        assert_eq!(parse("2022-03-12"), Ok(T - 19 * 3600));
        assert!(parse("yesterday").is_err());
        assert!(parse("2022-13-40").is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(duration(3 * 86_400 + 4 * 3600 + 59, false), "3 天 4 小时");
        assert_eq!(duration(2 * 3600 + 5 * 60, true), "2 h 5 min");
        assert_eq!(duration(45, false), "45 秒");
        assert_eq!(duration(-120, true), "-2 min");
    }
}
