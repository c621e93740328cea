//! What can be wrong with an application: every intake rule's finding as a [`ProblemKind`] with
//! a stable code (for scripts, the JSON output and the web service) and its Chinese and English
//! text, worded as the district liaison would fix it. The rules themselves live in
//! [`crate::validate`] (one row) and the import (a file, the store); only their words live here.

use std::fmt;

use checkpass::verdict::Lang;
use serde::ser::SerializeStruct;

use crate::validate::Column;

/// One kind of finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProblemKind {
    /// A required column is empty.
    Missing(Column),
    BadAppNo,
    BadApplicantType,
    UnknownDistrict,
    BadDistrict,
    /// Uploaded by a district liaison, but of another district.
    OtherDistrict,
    BadPlate,
    BadTrailer,
    BadIdShape,
    BadIdBirthDate,
    BadIdCheckDigit,
    IdNotMaskable,
    BadMobile,
    BadOccupants,
    BadCategory,
    /// A time cell that is not a time.
    BadTime(Column),
    WindowReversed,
    WindowTooLong {
        max_hours: i64,
    },
    TestTooOldAtStart {
        max_hours: i64,
    },
    TestAfterStart,
    /// The planned arrival at the last checkpoint is outside the travel window.
    ArrivalOutsideWindow,
    NotNegative,
    UnknownCheckpoint,
    /// Over a limit of the pass format (`checkpass::wire`), in this column if it is one.
    OverWireLimit(Option<Column>),
    NotPassFormat,
    DuplicateInFile,
    PlateOverlap,
    ConflictingNumber,
}

impl ProblemKind {
    /// The field the problem is in, where it is one field's (a web form shows it there).
    pub fn column(self) -> Option<Column> {
        use ProblemKind::*;
        Some(match self {
            Missing(c) | BadTime(c) => c,
            OverWireLimit(c) => return c,
            BadAppNo | DuplicateInFile | ConflictingNumber => Column::AppNo,
            BadApplicantType => Column::ApplicantType,
            UnknownDistrict | BadDistrict | OtherDistrict => Column::District,
            BadPlate | PlateOverlap => Column::Plate,
            BadTrailer => Column::Trailer,
            BadIdShape | BadIdBirthDate | BadIdCheckDigit | IdNotMaskable => Column::DriverId,
            BadMobile => Column::Mobile,
            BadOccupants => Column::Occupants,
            BadCategory => Column::Category,
            WindowReversed | WindowTooLong { .. } => Column::End,
            TestTooOldAtStart { .. } | TestAfterStart => Column::TestSampledAt,
            ArrivalOutsideWindow => Column::ArriveBy,
            NotNegative => Column::TestResult,
            UnknownCheckpoint => Column::Route,
            NotPassFormat => return None,
        })
    }

    /// The stable code.
    pub fn code(self) -> &'static str {
        use ProblemKind::*;
        match self {
            Missing(_) => "MISSING",
            BadAppNo => "BAD_APP_NO",
            BadApplicantType => "BAD_APPLICANT_TYPE",
            UnknownDistrict => "UNKNOWN_DISTRICT",
            OtherDistrict => "OTHER_DISTRICT",
            BadDistrict => "BAD_DISTRICT",
            BadPlate => "BAD_PLATE",
            BadTrailer => "BAD_TRAILER",
            BadIdShape => "BAD_ID_NUMBER",
            BadIdBirthDate => "BAD_ID_BIRTH_DATE",
            BadIdCheckDigit => "BAD_ID_CHECK_DIGIT",
            IdNotMaskable => "ID_NOT_MASKABLE",
            BadMobile => "BAD_MOBILE",
            BadOccupants => "BAD_OCCUPANTS",
            BadCategory => "BAD_CATEGORY",
            BadTime(_) => "BAD_TIME",
            WindowReversed => "WINDOW_REVERSED",
            WindowTooLong { .. } => "WINDOW_TOO_LONG",
            TestTooOldAtStart { .. } => "TEST_TOO_OLD_AT_START",
            TestAfterStart => "TEST_AFTER_START",
            ArrivalOutsideWindow => "ARRIVAL_OUTSIDE_WINDOW",
            NotNegative => "TEST_NOT_NEGATIVE",
            UnknownCheckpoint => "UNKNOWN_CHECKPOINT",
            OverWireLimit(_) => "OVER_PASS_LIMIT",
            NotPassFormat => "NOT_PASS_FORMAT",
            DuplicateInFile => "DUPLICATE_IN_FILE",
            PlateOverlap => "PLATE_OVERLAP",
            ConflictingNumber => "CONFLICTING_APP_NO",
        }
    }

    /// The sentence the liaison reads.
    pub fn message(self, lang: Lang) -> String {
        use ProblemKind::*;
        let column = |c: Option<Column>| match (c, lang) {
            (Some(c), Lang::Zh) => c.header(),
            (Some(c), Lang::En) => c.header_en(),
            (None, Lang::Zh) => "字段",
            (None, Lang::En) => "a field",
        };
        let text = |zh: &str, en: &str| match lang {
            Lang::Zh => zh.to_string(),
            Lang::En => en.to_string(),
        };
        match self {
            Missing(c) => match lang {
                Lang::Zh => format!("缺少{}", c.header()),
                Lang::En => format!("{} is missing", c.header_en()),
            },
            BadAppNo => text("申请编号格式错误", "Malformed application number"),
            BadApplicantType => text("申请人类型不在允许范围", "Applicant type not allowed"),
            UnknownDistrict => text("所属区市代码未知", "Unknown district code"),
            OtherDistrict => text(
                "不属于本区市：请由所属区市的联络员提交",
                "Of another district: its own liaison submits it",
            ),
            BadDistrict => text("所属区市代码格式错误", "Malformed district code"),
            BadPlate => text("车牌号格式错误", "Malformed plate"),
            BadTrailer => text("挂车号格式错误", "Malformed trailer plate"),
            BadIdShape => text("身份证号格式错误", "Malformed ID number"),
            BadIdBirthDate => text("身份证号出生日期无效", "ID number has no valid birth date"),
            BadIdCheckDigit => text("身份证号校验位错误", "ID number check character is wrong"),
            IdNotMaskable => text("身份证号无法脱敏", "ID number cannot be masked"),
            BadMobile => text(
                "联系方式不是11位手机号",
                "Contact is not an 11-digit mobile number",
            ),
            BadOccupants => text("随车人员数不是正整数", "Occupants is not a positive number"),
            BadCategory => text("货物类别不在允许范围", "Cargo category not allowed"),
            BadTime(c) => match lang {
                Lang::Zh => format!("{}格式错误", c.header()),
                Lang::En => format!("{} is not a time", c.header_en()),
            },
            WindowReversed => text("通行结束时间早于开始时间", "Travel ends before it starts"),
            WindowTooLong { max_hours } => match lang {
                Lang::Zh => format!("通行时间段超过{max_hours}小时"),
                Lang::En => format!("Travel window longer than {max_hours} h"),
            },
            TestTooOldAtStart { max_hours } => match lang {
                Lang::Zh => format!("核酸采样时间早于通行开始{max_hours}小时以上"),
                Lang::En => {
                    format!("Test sampled more than {max_hours} h before the travel starts")
                }
            },
            TestAfterStart => text(
                "核酸采样时间晚于通行开始时间",
                "Test sampled after the travel starts",
            ),
            ArrivalOutsideWindow => text(
                "预计到达时间不在通行时间段内",
                "Planned arrival is outside the travel window",
            ),
            NotNegative => text("核酸检测结果不是阴性", "Test result is not negative"),
            UnknownCheckpoint => text("路线含未知检查站编码", "Route has unknown checkpoint codes"),
            OverWireLimit(c) => match lang {
                Lang::Zh => format!("{}超出通行证格式的限制", column(c)),
                Lang::En => format!("{} is over the pass format's limit", column(c)),
            },
            NotPassFormat => text("不符合通行证格式", "Does not fit the pass format"),
            DuplicateInFile => text(
                "申请编号在文件中重复",
                "Application number repeated in the file",
            ),
            PlateOverlap => text(
                "同一车牌通行时间段重叠",
                "Overlaps another application of the same plate",
            ),
            ConflictingNumber => text(
                "申请编号已存在，但内容与已导入的不同",
                "Application number already imported with other contents",
            ),
        }
    }
}

/// One thing wrong with a row: the kind, and optional detail (the offending value, a hint).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub kind: ProblemKind,
    pub detail: Option<String>,
}

impl Problem {
    pub fn new(kind: ProblemKind) -> Problem {
        Problem { kind, detail: None }
    }

    pub fn with_detail(kind: ProblemKind, detail: impl Into<String>) -> Problem {
        Problem {
            kind,
            detail: Some(detail.into()),
        }
    }

    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// The reason in Chinese (what the liaison reads first).
    pub fn reason(&self) -> String {
        self.kind.message(Lang::Zh)
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.detail {
            Some(d) => write!(f, "{}（{}）", self.reason(), d),
            None => f.write_str(&self.reason()),
        }
    }
}

/// `{code, reason (zh), reason_en, detail?}`.
impl serde::Serialize for Problem {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Problem", 4)?;
        st.serialize_field("code", self.code())?;
        st.serialize_field("reason", &self.kind.message(Lang::Zh))?;
        st.serialize_field("reason_en", &self.kind.message(Lang::En))?;
        if let Some(d) = &self.detail {
            st.serialize_field("detail", d)?;
        }
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_code_and_both_languages() {
        let p = Problem::with_detail(ProblemKind::Missing(Column::Plate), "x");
        assert_eq!(p.to_string(), "缺少车牌号（x）");
        assert_eq!(p.kind.message(Lang::En), "Plate is missing");
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["code"], "MISSING");
        assert_eq!(json["reason"], "缺少车牌号");
        assert_eq!(json["detail"], "x");
        let kinds = [
            ProblemKind::WindowTooLong { max_hours: 72 },
            ProblemKind::OverWireLimit(None),
            ProblemKind::ConflictingNumber,
        ];
        for k in kinds {
            assert!(!k.message(Lang::En).is_empty() && !k.message(Lang::Zh).is_empty());
            assert!(k.code().chars().all(|c| c.is_ascii_uppercase() || c == '_'));
        }
    }
}
