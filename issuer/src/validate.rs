//! Row validation: pure functions that turn one spreadsheet row into a checked application, or
//! into the list of everything wrong with it (each reason in Chinese, worded as the district
//! liaison would fix it). No I/O here: the registry of checkpoints and districts and the policy
//! come in as values, so every rule is unit-tested.

use std::collections::{BTreeMap, HashSet};
use std::sync::LazyLock;

use checkpass::pass::{Category, MaskedId, PassBody, PassError};
use checkpass::wire::WireError;
use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use regex::Regex;
use serde::Serialize;

pub use crate::problem::{Problem, ProblemKind};

/// The columns of the application spreadsheet, by their Chinese header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Column {
    AppNo,
    ApplicantType,
    District,
    Plate,
    Trailer,
    DriverName,
    DriverId,
    Mobile,
    Occupants,
    Category,
    Cargo,
    Origin,
    Destination,
    Start,
    End,
    Route,
    TestSampledAt,
    TestResult,
    /// Optional: when the vehicle plans to reach the route's last checkpoint.
    ArriveBy,
}

impl Column {
    /// Columns of codes and numbers, where full-width characters typed with a Chinese input
    /// method ("鲁Ｋ１２３４５", "C201，C101") mean their ASCII twins.
    fn holds_codes(self) -> bool {
        matches!(
            self,
            Column::AppNo
                | Column::District
                | Column::Plate
                | Column::Trailer
                | Column::DriverId
                | Column::Mobile
                | Column::Occupants
                | Column::Route
        )
    }

    pub const ALL: [Column; 19] = [
        Column::AppNo,
        Column::ApplicantType,
        Column::District,
        Column::Plate,
        Column::Trailer,
        Column::DriverName,
        Column::DriverId,
        Column::Mobile,
        Column::Occupants,
        Column::Category,
        Column::Cargo,
        Column::Origin,
        Column::Destination,
        Column::Start,
        Column::End,
        Column::Route,
        Column::TestSampledAt,
        Column::TestResult,
        Column::ArriveBy,
    ];

    /// The header text in the sample applications file.
    pub fn header(self) -> &'static str {
        match self {
            Column::AppNo => "申请编号",
            Column::ApplicantType => "申请人类型",
            Column::District => "所属区市",
            Column::Plate => "车牌号",
            Column::Trailer => "挂车号",
            Column::DriverName => "驾驶人员姓名",
            Column::DriverId => "身份证号",
            Column::Mobile => "联系方式",
            Column::Occupants => "随车人员数",
            Column::Category => "货物类别",
            Column::Cargo => "货物名称",
            Column::Origin => "起运地点",
            Column::Destination => "运送地点",
            Column::Start => "拟通行开始时间",
            Column::End => "拟通行结束时间",
            Column::Route => "拟通行路线",
            Column::TestSampledAt => "核酸采样时间",
            Column::TestResult => "核酸检测结果",
            Column::ArriveBy => "预计到达时间",
        }
    }

    /// The column's name in English, for messages.
    pub fn header_en(self) -> &'static str {
        match self {
            Column::AppNo => "Application number",
            Column::ApplicantType => "Applicant type",
            Column::District => "District",
            Column::Plate => "Plate",
            Column::Trailer => "Trailer plate",
            Column::DriverName => "Driver name",
            Column::DriverId => "ID number",
            Column::Mobile => "Contact",
            Column::Occupants => "Occupants",
            Column::Category => "Cargo category",
            Column::Cargo => "Cargo",
            Column::Origin => "Origin",
            Column::Destination => "Destination",
            Column::Start => "Planned start",
            Column::End => "Planned end",
            Column::Route => "Route",
            Column::TestSampledAt => "Test sample time",
            Column::TestResult => "Test result",
            Column::ArriveBy => "Planned arrival",
        }
    }

    /// Matches a header cell, ignoring surrounding spaces and a UTF-8 byte-order mark.
    pub fn from_header(text: &str) -> Option<Column> {
        let text = text.trim_start_matches('\u{feff}').trim();
        Column::ALL.into_iter().find(|c| c.header() == text)
    }

    /// Only the trailer plate and the planned arrival may be left empty (or left out).
    pub fn required(self) -> bool {
        !matches!(self, Column::Trailer | Column::ArriveBy)
    }
}

/// One cell as read from a file. CSV gives only text; xlsx may give numbers and date-times.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    DateTime(NaiveDateTime),
}

impl Cell {
    /// The cell as text; whole numbers lose their ".0" (Excel stores codes and phones as numbers).
    pub fn as_text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.trim().to_string(),
            Cell::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
            Cell::Number(n) => n.to_string(),
            Cell::DateTime(dt) => dt.format("%Y-%m-%d %H:%M").to_string(),
        }
    }

    fn is_blank(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }
}

/// A row as read from a file: the spreadsheet row number (header = row 1) and its cells by column.
#[derive(Debug, Clone, Default)]
pub struct RawRow {
    pub row: usize,
    pub cells: BTreeMap<Column, Cell>,
}

impl RawRow {
    fn text(&self, column: Column) -> String {
        let text = self
            .cells
            .get(&column)
            .map(Cell::as_text)
            .unwrap_or_default();
        if column.holds_codes() {
            half_width(&text)
        } else {
            text
        }
    }

    /// The application number, for listing a bad row even when other cells are unreadable.
    pub fn app_no(&self) -> String {
        self.text(Column::AppNo)
    }
}

/// Applicant roles allowed by the notice.
pub const APPLICANT_TYPES: [&str; 3] = ["运输人", "发货人", "收货人"];

/// The only acceptable nucleic-acid test result.
pub const NEGATIVE: &str = "阴性";

/// A row that passed every check. Times are unix seconds (UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewApplication {
    pub app_no: String,
    pub applicant_type: String,
    pub district: u32,
    pub plate: String,
    pub trailer: Option<String>,
    pub driver_name: String,
    pub driver_id: String,
    pub mobile: String,
    pub occupants: u16,
    #[serde(serialize_with = "serialize_category")]
    pub category: Category,
    pub cargo: String,
    pub origin: String,
    pub destination: String,
    pub start_at: i64,
    pub end_at: i64,
    pub route: Vec<String>,
    pub test_sampled_at: i64,
    pub test_result: String,
    /// When the vehicle plans to reach the route's last checkpoint (unix seconds), if given.
    pub arrive_by: Option<i64>,
    pub row: usize,
}

impl NewApplication {
    /// Whether this application's window overlaps `[start, end)` of another application of the
    /// same plate: one truck cannot hold two passes at once. Windows that only touch do not
    /// overlap. The one home of this rule: the file-level check and the store both call it.
    pub fn overlaps(&self, plate: &str, start: i64, end: i64) -> bool {
        self.plate == plate && self.start_at < end && start < self.end_at
    }

    /// The body of the pass this application becomes (the driver's ID masked): built here
    /// alone, so import checks exactly what issuing will sign.
    pub fn pass_body(&self) -> Result<PassBody, PassError> {
        Ok(PassBody {
            district: self.district,
            plate: self.plate.clone(),
            trailer: self.trailer.clone(),
            driver_name: self.driver_name.clone(),
            driver_id: MaskedId::from_full_id(&self.driver_id)?,
            occupants: self.occupants,
            category: self.category,
            cargo: self.cargo.clone(),
            origin: self.origin.clone(),
            destination: self.destination.clone(),
            route: self.route.clone(),
            test_sampled_at: self.test_sampled_at,
            arrive_by: self.arrive_by,
        })
    }
}

/// The longest application number, in characters.
pub const APP_NO_MAX: usize = 32;

/// An application number: 1 to [`APP_NO_MAX`] ASCII letters, digits, `-`, `_` or `/`, starting
/// with a letter or digit. It is printed, exported to CSV and typed on command lines, so it
/// holds nothing a terminal, a spreadsheet or a shell could read as more than a name.
pub fn is_app_no(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && text.len() <= APP_NO_MAX
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/'))
}

/// A refusal by the pass format's own limits, named by the column the liaison must fix.
fn wire_problem(e: &WireError) -> Problem {
    let WireError::InvalidValue { field, why } = e else {
        return Problem::with_detail(ProblemKind::NotPassFormat, e.to_string());
    };
    let column = match *field {
        "plate" => Some(Column::Plate),
        "trailer" => Some(Column::Trailer),
        "driver_name" => Some(Column::DriverName),
        "driver_id" => Some(Column::DriverId),
        "cargo" => Some(Column::Cargo),
        "origin" => Some(Column::Origin),
        "destination" => Some(Column::Destination),
        "route" => Some(Column::Route),
        "district" => Some(Column::District),
        _ => None,
    };
    Problem::with_detail(ProblemKind::OverWireLimit(column), why.clone())
}

pub fn serialize_category<S: serde::Serializer>(c: &Category, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(c.label_zh())
}

/// What the rules depend on besides the row itself.
#[derive(Debug, Clone)]
pub struct Rules {
    /// Known checkpoint codes (C101, ...).
    pub checkpoints: HashSet<String>,
    /// Known district codes; empty means the district table was not loaded and is not checked.
    pub districts: HashSet<u32>,
    /// A test sample may be at most this old at the travel start.
    pub max_test_age_secs: i64,
    /// The longest travel window one pass may cover.
    pub max_window_secs: i64,
}

/// Checks one row against every rule and returns all problems found, not just the first.
pub fn validate_row(raw: &RawRow, rules: &Rules) -> Result<NewApplication, Vec<Problem>> {
    let mut problems = Vec::new();

    for column in Column::ALL {
        let blank = raw.cells.get(&column).is_none_or(Cell::is_blank);
        if column.required() && blank {
            problems.push(Problem::new(ProblemKind::Missing(column)));
        }
    }
    let present = |c: Column| raw.cells.get(&c).is_some_and(|cell| !cell.is_blank());

    let app_no = raw.text(Column::AppNo);
    if present(Column::AppNo) && !is_app_no(&app_no) {
        problems.push(Problem::with_detail(
            ProblemKind::BadAppNo,
            format!("应为1到{APP_NO_MAX}个英文字母、数字或 - _ /，以字母或数字开头"),
        ));
    }

    let applicant_type = raw.text(Column::ApplicantType);
    if present(Column::ApplicantType) && !APPLICANT_TYPES.contains(&applicant_type.as_str()) {
        problems.push(Problem::with_detail(
            ProblemKind::BadApplicantType,
            applicant_type.clone(),
        ));
    }

    let district_text = raw.text(Column::District);
    let district = match district_text.parse::<u32>() {
        Ok(d) if district_text.len() == 6 => {
            if !rules.districts.is_empty() && !rules.districts.contains(&d) {
                problems.push(Problem::with_detail(
                    ProblemKind::UnknownDistrict,
                    district_text.clone(),
                ));
            }
            d
        }
        _ => {
            if present(Column::District) {
                problems.push(Problem::with_detail(
                    ProblemKind::BadDistrict,
                    district_text.clone(),
                ));
            }
            0
        }
    };

    let plate = normalize_plate(&raw.text(Column::Plate));
    if present(Column::Plate) && !is_vehicle_plate(&plate) {
        problems.push(Problem::with_detail(ProblemKind::BadPlate, plate.clone()));
    }
    let trailer = Some(normalize_plate(&raw.text(Column::Trailer))).filter(|t| !t.is_empty());
    if let Some(t) = &trailer {
        if !is_trailer_plate(t) {
            problems.push(Problem::with_detail(ProblemKind::BadTrailer, t.clone()));
        }
    }

    let driver_name = raw.text(Column::DriverName);
    let driver_id = raw.text(Column::DriverId).to_ascii_uppercase();
    if present(Column::DriverId) {
        if let Err(p) = check_id_number(&driver_id) {
            problems.push(p);
        }
    }

    let mobile = raw.text(Column::Mobile);
    if present(Column::Mobile) && !is_mobile(&mobile) {
        problems.push(Problem::with_detail(ProblemKind::BadMobile, mobile.clone()));
    }

    let occupants_text = raw.text(Column::Occupants);
    let occupants = match occupants_text.parse::<u16>() {
        Ok(n) if n >= 1 => n,
        _ => {
            if present(Column::Occupants) {
                problems.push(Problem::with_detail(
                    ProblemKind::BadOccupants,
                    occupants_text.clone(),
                ));
            }
            0
        }
    };

    let category_text = raw.text(Column::Category);
    let category = Category::from_label(&category_text);
    if present(Column::Category) && category.is_none() {
        problems.push(Problem::with_detail(
            ProblemKind::BadCategory,
            category_text.clone(),
        ));
    }

    let mut time = |column: Column| -> Option<i64> {
        let cell = raw.cells.get(&column)?;
        if cell.is_blank() {
            return None;
        }
        match parse_cst(cell) {
            Some(t) => Some(t),
            None => {
                problems.push(Problem::with_detail(
                    ProblemKind::BadTime(column),
                    format!("“{}”，应为 YYYY-MM-DD HH:MM", cell.as_text()),
                ));
                None
            }
        }
    };
    let start_at = time(Column::Start);
    let end_at = time(Column::End);
    let test_sampled_at = time(Column::TestSampledAt);
    let arrive_by = time(Column::ArriveBy);

    if let (Some(start), Some(end)) = (start_at, end_at) {
        if end <= start {
            problems.push(Problem::new(ProblemKind::WindowReversed));
        } else if end - start > rules.max_window_secs {
            problems.push(Problem::new(ProblemKind::WindowTooLong {
                max_hours: rules.max_window_secs / 3600,
            }));
        }
    }
    if let (Some(start), Some(sampled)) = (start_at, test_sampled_at) {
        if start - sampled > rules.max_test_age_secs {
            problems.push(Problem::new(ProblemKind::TestTooOldAtStart {
                max_hours: rules.max_test_age_secs / 3600,
            }));
        } else if sampled > start {
            problems.push(Problem::new(ProblemKind::TestAfterStart));
        }
    }

    if let (Some(start), Some(end), Some(arrive)) = (start_at, end_at, arrive_by) {
        if arrive < start || arrive > end {
            problems.push(Problem::new(ProblemKind::ArrivalOutsideWindow));
        }
    }

    let test_result = raw.text(Column::TestResult);
    if present(Column::TestResult) && test_result != NEGATIVE {
        problems.push(Problem::with_detail(
            ProblemKind::NotNegative,
            test_result.clone(),
        ));
    }

    let route = parse_route(&raw.text(Column::Route));
    let unknown: Vec<&str> = route
        .iter()
        .filter(|c| !rules.checkpoints.contains(c.as_str()))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        problems.push(Problem::with_detail(
            ProblemKind::UnknownCheckpoint,
            unknown.join("、"),
        ));
    }

    match (
        problems.is_empty(),
        category,
        start_at,
        end_at,
        test_sampled_at,
    ) {
        (true, Some(category), Some(start_at), Some(end_at), Some(test_sampled_at)) => {
            let app = NewApplication {
                app_no,
                applicant_type,
                district,
                plate,
                trailer,
                driver_name,
                driver_id,
                mobile,
                occupants,
                category,
                cargo: raw.text(Column::Cargo),
                origin: raw.text(Column::Origin),
                destination: raw.text(Column::Destination),
                start_at,
                end_at,
                route,
                test_sampled_at,
                test_result,
                arrive_by,
                row: raw.row,
            };
            // Last, the pass format's own limits (a 24-character name is 72 bytes, over its
            // 64): a row that passes every rule above but could never be signed is refused
            // here, not approved and then stuck at issuing.
            let body = app.pass_body().map_err(|e| {
                vec![Problem::with_detail(
                    ProblemKind::IdNotMaskable,
                    e.to_string(),
                )]
            })?;
            checkpass::wire::check_body(&body).map_err(|e| vec![wire_problem(&e)])?;
            Ok(app)
        }
        _ => Err(problems),
    }
}

/// Full-width ASCII forms (U+FF01..U+FF5E) and the ideographic space as their ASCII twins.
fn half_width(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .collect()
}

/// Plates are compared in upper case without spaces ("鲁k 12345" is "鲁K12345").
pub fn normalize_plate(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

/// Province abbreviations used as the first character of a mainland plate.
const PROVINCES: &str = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼";

// Letters on plates skip I and O (they read as 1 and 0).
static ORDINARY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!("^[{PROVINCES}][A-HJ-NP-Z][A-HJ-NP-Z0-9]{{5}}$")).expect("static regex")
});
// New-energy plates: small cars D/F then a letter-or-digit and 4 digits; large vehicles 5 digits then D/F.
static NEW_ENERGY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        "^[{PROVINCES}][A-HJ-NP-Z](?:[DF][A-HJ-NP-Z0-9][0-9]{{4}}|[0-9]{{5}}[DF])$"
    ))
    .expect("static regex")
});
static TRAILER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!("^[{PROVINCES}][A-HJ-NP-Z][A-HJ-NP-Z0-9]{{4}}挂$")).expect("static regex")
});
static MOBILE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new("^1[3-9][0-9]{9}$").expect("static regex"));

/// An ordinary (7-character) or new-energy (8-character) plate of a motor vehicle.
pub fn is_vehicle_plate(plate: &str) -> bool {
    ORDINARY.is_match(plate) || NEW_ENERGY.is_match(plate)
}

/// A trailer plate: province, letter, four characters and 挂.
pub fn is_trailer_plate(plate: &str) -> bool {
    TRAILER.is_match(plate)
}

/// An 11-digit mainland mobile number.
pub fn is_mobile(text: &str) -> bool {
    MOBILE.is_match(text)
}

/// GB 11643 check character for the first 17 digits (values 0–9) of a citizen ID number: ISO
/// 7064 MOD 11-2, the same rule as the national pass number's ([`checkpass::number::mod11_2`]).
pub fn id_check_char(first17: &[u8; 17]) -> char {
    let digits: String = first17.iter().map(|d| char::from(b'0' + d % 10)).collect();
    checkpass::number::mod11_2(&digits).unwrap_or('X')
}

/// Checks an 18-character ID number: digits, a real birth date, and the GB 11643 check character.
pub fn check_id_number(id: &str) -> Result<(), Problem> {
    let bytes = id.as_bytes();
    let shape_ok = bytes.len() == 18
        && bytes[..17].iter().all(u8::is_ascii_digit)
        && (bytes[17].is_ascii_digit() || bytes[17] == b'X');
    if !shape_ok {
        return Err(Problem::with_detail(
            ProblemKind::BadIdShape,
            "应为18位，末位可为X",
        ));
    }
    let birth = &id[6..14];
    if NaiveDate::parse_from_str(birth, "%Y%m%d").is_err() {
        return Err(Problem::with_detail(
            ProblemKind::BadIdBirthDate,
            birth.to_string(),
        ));
    }
    let mut digits = [0u8; 17];
    for (d, b) in digits.iter_mut().zip(bytes) {
        *d = b - b'0';
    }
    if id_check_char(&digits) != char::from(bytes[17]) {
        return Err(Problem::new(ProblemKind::BadIdCheckDigit));
    }
    Ok(())
}

/// Splits a route "C201→C101" into codes; also accepts "->", "-", "，", "," and spaces.
pub fn parse_route(text: &str) -> Vec<String> {
    text.replace("->", "→")
        .split(['→', ',', '，', '-', ' ', '、'])
        .map(|s| s.trim().to_ascii_uppercase())
        .filter(|s| !s.is_empty())
        .collect()
}

pub use checkpass::time::format_cst;

/// A CST wall-clock time to unix seconds.
pub fn cst_to_unix(dt: NaiveDateTime) -> Option<i64> {
    checkpass::time::cst()
        .from_local_datetime(&dt)
        .single()
        .map(|t| t.timestamp())
}

/// Parses a time cell written in CST: "YYYY-MM-DD HH:MM" (seconds optional, '/' also accepted),
/// or an Excel date-time cell.
pub fn parse_cst(cell: &Cell) -> Option<i64> {
    match cell {
        Cell::DateTime(dt) => cst_to_unix(*dt),
        Cell::Text(text) => checkpass::time::parse_cst(&text.trim().replace('/', "-")),
        Cell::Empty | Cell::Number(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Rules {
        Rules {
            checkpoints: ["C101", "C201"].iter().map(|s| s.to_string()).collect(),
            districts: [371003].into_iter().collect(),
            max_test_age_secs: 48 * 3600,
            max_window_secs: 72 * 3600,
        }
    }

    fn good_row() -> RawRow {
        let values = [
            (Column::AppNo, "SQ003-0001"),
            (Column::ApplicantType, "收货人"),
            (Column::District, "371003"),
            (Column::Plate, "鲁KP20XL"),
            (Column::Trailer, ""),
            (Column::DriverName, "邓丽伟"),
            (Column::DriverId, "320102199210156657"),
            (Column::Mobile, "18635013331"),
            (Column::Occupants, "1"),
            (Column::Category, "工业原材料"),
            (Column::Cargo, "塑料粒子"),
            (Column::Origin, "环翠区张村镇工业园"),
            (Column::Destination, "环翠区羊亭镇物流中心"),
            (Column::Start, "2022-03-12 19:00"),
            (Column::End, "2022-03-14 19:00"),
            (Column::Route, "C201→C101"),
            (Column::TestSampledAt, "2022-03-11 22:00"),
            (Column::TestResult, "阴性"),
        ];
        RawRow {
            row: 2,
            cells: values
                .iter()
                .map(|(c, v)| (*c, Cell::Text(v.to_string())))
                .collect(),
        }
    }

    fn reasons(row: &RawRow) -> Vec<String> {
        match validate_row(row, &rules()) {
            Ok(_) => vec![],
            Err(p) => p.into_iter().map(|p| p.reason()).collect(),
        }
    }

    fn with(column: Column, value: &str) -> RawRow {
        let mut row = good_row();
        row.cells.insert(column, Cell::Text(value.to_string()));
        row
    }

    /// The planned arrival at the last checkpoint is optional; given, it must fall in the
    /// window, and the pass then carries it.
    #[test]
    fn a_planned_arrival_is_optional_and_inside_the_window() {
        assert_eq!(validate_row(&good_row(), &rules()).unwrap().arrive_by, None);
        assert_eq!(
            validate_row(&with(Column::ArriveBy, ""), &rules())
                .unwrap()
                .arrive_by,
            None
        );
        let app = validate_row(&with(Column::ArriveBy, "2022-03-14 10:00"), &rules()).unwrap();
        assert_eq!(app.arrive_by, Some(1_647_223_200));
        assert_eq!(app.pass_body().unwrap().arrive_by, Some(1_647_223_200));
        for outside in ["2022-03-12 18:59", "2022-03-14 19:01"] {
            assert_eq!(
                reasons(&with(Column::ArriveBy, outside)),
                vec!["预计到达时间不在通行时间段内"],
                "{outside}"
            );
        }
        assert_eq!(reasons(&with(Column::ArriveBy, "明天")).len(), 1);
    }

    #[test]
    fn good_row_passes_with_cst_times() {
        let app = validate_row(&good_row(), &rules()).unwrap();
        // 2022-03-12 19:00 CST = 11:00 UTC.
        assert_eq!(app.start_at, 1_647_082_800);
        assert_eq!(app.route, vec!["C201", "C101"]);
        assert_eq!(app.trailer, None);
        assert_eq!(format_cst(app.start_at), "2022-03-12 19:00");
    }

    #[test]
    fn full_width_codes_read_as_ascii() {
        let mut row = good_row();
        for (column, value) in [
            (Column::Plate, "鲁ＫＰ２０ＸＬ"),
            (Column::Trailer, "鲁Ｆ１９６５挂"),
            (Column::DriverId, "３２０１０２１９９２１０１５６６５７"),
            (Column::Mobile, "１８６３５０１３３３１"),
            (Column::Occupants, "２"),
            (Column::Route, "Ｃ２０１，Ｃ１０１"),
            (Column::District, "３７１００３"),
        ] {
            row.cells.insert(column, Cell::Text(value.to_string()));
        }
        let app = validate_row(&row, &rules()).unwrap();
        assert_eq!(app.plate, "鲁KP20XL");
        assert_eq!(app.trailer.as_deref(), Some("鲁F1965挂"));
        assert_eq!(app.driver_id, "320102199210156657");
        assert_eq!(app.mobile, "18635013331");
        assert_eq!(app.occupants, 2);
        assert_eq!(app.route, vec!["C201", "C101"]);
        assert_eq!(app.district, 371003);
        // Free text keeps what was typed.
        let app = validate_row(&with(Column::Cargo, "钢材（Ｑ２３５）"), &rules()).unwrap();
        assert_eq!(app.cargo, "钢材（Ｑ２３５）");
    }

    #[test]
    fn id_checksum() {
        assert!(check_id_number("320102199210156657").is_ok());
        assert!(check_id_number("37021119650131929X").is_ok());
        assert_eq!(
            check_id_number("320102199210156650").unwrap_err().reason(),
            "身份证号校验位错误"
        );
        assert_eq!(
            check_id_number("3201021992101566").unwrap_err().reason(),
            "身份证号格式错误"
        );
        assert_eq!(
            check_id_number("320102199213316650").unwrap_err().reason(),
            "身份证号出生日期无效"
        );
        assert_eq!(
            reasons(&with(Column::DriverId, "320102199210156650")),
            ["身份证号校验位错误"]
        );
    }

    #[test]
    fn plates() {
        for ok in [
            "鲁KP20XL",
            "鲁K75385",
            "鲁KD64755",
            "鲁KF97998",
            "冀BD35602",
            "苏A12345D",
        ] {
            assert!(is_vehicle_plate(ok), "{ok}");
        }
        for bad in [
            "鲁K12",
            "鲁KI2345",
            "XX12345",
            "鲁K1234挂",
            "鲁KD1234567",
            "粤",
        ] {
            assert!(!is_vehicle_plate(bad), "{bad}");
        }
        assert!(is_trailer_plate("鲁F1965挂"));
        assert!(!is_trailer_plate("鲁F19651挂"));
        assert!(!is_trailer_plate("鲁F1965"));
        assert_eq!(normalize_plate(" 鲁k p20xl "), "鲁KP20XL");
        assert_eq!(reasons(&with(Column::Plate, "鲁K12")), ["车牌号格式错误"]);
        assert_eq!(
            reasons(&with(Column::Trailer, "鲁F1965")),
            ["挂车号格式错误"]
        );
    }

    #[test]
    fn mobile() {
        assert!(is_mobile("13551566498"));
        assert!(!is_mobile("12551566498"));
        assert!(!is_mobile("1355156649"));
        assert!(!is_mobile("0631-7257127"));
        assert_eq!(
            reasons(&with(Column::Mobile, "1355156649")),
            ["联系方式不是11位手机号"]
        );
    }

    #[test]
    fn category_result_and_required() {
        assert_eq!(
            reasons(&with(Column::Category, "危险品")),
            ["货物类别不在允许范围"]
        );
        assert_eq!(
            reasons(&with(Column::TestResult, "阳性")),
            ["核酸检测结果不是阴性"]
        );
        assert_eq!(
            reasons(&with(Column::DriverName, " ")),
            ["缺少驾驶人员姓名"]
        );
        assert_eq!(
            reasons(&with(Column::ApplicantType, "司机")),
            ["申请人类型不在允许范围"]
        );
        assert_eq!(
            reasons(&with(Column::Occupants, "0")),
            ["随车人员数不是正整数"]
        );
        assert_eq!(
            reasons(&with(Column::District, "371099")),
            ["所属区市代码未知"]
        );
        let mut row = good_row();
        row.cells.remove(&Column::Trailer);
        assert!(reasons(&row).is_empty());
    }

    #[test]
    fn times_and_windows() {
        assert_eq!(
            reasons(&with(Column::End, "2022-03-12 18:00")),
            ["通行结束时间早于开始时间"]
        );
        assert_eq!(
            reasons(&with(Column::End, "2022-03-12 19:00")),
            ["通行结束时间早于开始时间"]
        );
        assert_eq!(
            reasons(&with(Column::End, "2022-03-16 19:00")),
            ["通行时间段超过72小时"]
        );
        // Exactly 48 h before the start is allowed; one minute more is not.
        assert!(reasons(&with(Column::TestSampledAt, "2022-03-10 19:00")).is_empty());
        assert_eq!(
            reasons(&with(Column::TestSampledAt, "2022-03-10 18:59")),
            ["核酸采样时间早于通行开始48小时以上"]
        );
        assert_eq!(
            reasons(&with(Column::TestSampledAt, "2022-03-12 20:00")),
            ["核酸采样时间晚于通行开始时间"]
        );
        assert_eq!(
            reasons(&with(Column::Start, "明天")),
            ["拟通行开始时间格式错误"]
        );
        assert!(reasons(&with(Column::Start, "2022/03/12 19:00:00")).is_empty());
    }

    #[test]
    fn excel_cells() {
        let mut row = good_row();
        let dt = NaiveDate::from_ymd_opt(2022, 3, 12)
            .unwrap()
            .and_hms_opt(19, 0, 0)
            .unwrap();
        row.cells.insert(Column::Start, Cell::DateTime(dt));
        row.cells.insert(Column::District, Cell::Number(371003.0));
        row.cells
            .insert(Column::Mobile, Cell::Number(18635013331.0));
        let app = validate_row(&row, &rules()).unwrap();
        assert_eq!(app.start_at, 1_647_082_800);
        assert_eq!(app.mobile, "18635013331");
    }

    #[test]
    fn route_codes() {
        assert_eq!(
            parse_route("C108→C107 → c103->C101"),
            ["C108", "C107", "C103", "C101"]
        );
        assert_eq!(
            reasons(&with(Column::Route, "C201→C999")),
            ["路线含未知检查站编码"]
        );
    }

    #[test]
    fn a_driver_name_over_the_wire_limit_is_refused_at_import() {
        // 24 characters, 72 UTF-8 bytes: every rule of the row passes, the pass format's
        // 64-byte limit does not.
        let long = "张".repeat(24);
        let err = validate_row(&with(Column::DriverName, &long), &rules()).unwrap_err();
        assert_eq!(
            err,
            [Problem::with_detail(
                ProblemKind::OverWireLimit(Some(Column::DriverName)),
                "72 bytes > 64"
            )]
        );
        assert!(validate_row(&with(Column::DriverName, &"张".repeat(21)), &rules()).is_ok());
        let err = validate_row(&with(Column::Cargo, &"钢".repeat(40)), &rules()).unwrap_err();
        assert_eq!(err[0].reason(), "货物名称超出通行证格式的限制");
        let err = validate_row(&with(Column::Origin, "仓库\u{1b}[2J"), &rules()).unwrap_err();
        assert_eq!(err[0].reason(), "起运地点超出通行证格式的限制");
    }

    #[test]
    fn application_number_outside_the_charset_is_refused() {
        for ok in ["SQ003-0001", "a", "2022/03_17-x", &"9".repeat(APP_NO_MAX)] {
            assert!(is_app_no(ok), "{ok}");
            assert!(reasons(&with(Column::AppNo, ok)).is_empty(), "{ok}");
        }
        for bad in [
            "=1+1",
            "-SQ1",
            "SQ 1",
            "SQ1\u{1b}[2J",
            "申请1",
            "SQ1;rm",
            &"9".repeat(APP_NO_MAX + 1),
        ] {
            assert!(!is_app_no(bad), "{bad}");
            assert_eq!(
                reasons(&with(Column::AppNo, bad)),
                ["申请编号格式错误"],
                "{bad}"
            );
        }
        // Full-width forms typed with a Chinese input method still read as ASCII.
        assert!(reasons(&with(Column::AppNo, "ＳＱ００３－０００１")).is_empty());
    }

    #[test]
    fn many_problems_are_all_listed() {
        let mut row = with(Column::Mobile, "123");
        row.cells.insert(Column::Plate, Cell::Text("鲁K12".into()));
        assert_eq!(reasons(&row), ["车牌号格式错误", "联系方式不是11位手机号"]);
    }
}
