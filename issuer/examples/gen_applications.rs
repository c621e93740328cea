//! Writes a spreadsheet of valid, distinct applications for benchmarks and load tests:
//!
//! ```text
//! cargo run --release -p issuer --example gen_applications -- 10000 /tmp/apps.xlsx
//! cargo run --release -p issuer --example gen_applications -- 100000 /tmp/apps.xlsx 371002,371003
//! ```
//!
//! The optional third argument lists the district codes the rows take in turn (default: all in
//! 371002, 环翠区).
//! The workbook has the sample file's headers on a sheet named 通行证申请; the travel times
//! are real Excel date-time cells and the test sample time is text, as liaisons mix both.

use std::process::ExitCode;

use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, XlsxError};

const HEADERS: [&str; 18] = [
    "申请编号",
    "申请人类型",
    "所属区市",
    "车牌号",
    "挂车号",
    "驾驶人员姓名",
    "身份证号",
    "联系方式",
    "随车人员数",
    "货物类别",
    "货物名称",
    "起运地点",
    "运送地点",
    "拟通行开始时间",
    "拟通行结束时间",
    "拟通行路线",
    "核酸采样时间",
    "核酸检测结果",
];

/// GB 11643 check character.
fn id_check(first17: &str) -> char {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17
        .bytes()
        .zip(W)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'][(sum % 11) as usize]
}

fn write(n: usize, path: &str, districts: &[&str]) -> Result<(), XlsxError> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("通行证申请")?;
    let time = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    for (c, h) in HEADERS.iter().enumerate() {
        sheet.write_string(0, c as u16, *h)?;
    }
    let routes = [
        "C201→C101",
        "C108→C107→C103→C101",
        "C105→C106",
        "C202→C103",
        "C101→C103→C107",
    ];
    let categories = [
        ("工业原材料", "钢材"),
        ("产成品", "电子元件"),
        ("返岗人员", "返岗员工"),
    ];
    for i in 0..n {
        let r = (i + 1) as u32;
        let first17 = format!(
            "3710021980{:02}{:02}{:03}",
            1 + i % 12,
            1 + i % 28,
            i % 1000
        );
        let id = format!("{first17}{}", id_check(&first17));
        let (category, cargo) = categories[i % categories.len()];
        let day = 12 + (i % 3) as u8;
        let start = ExcelDateTime::from_ymd(2022, 3, day)?.and_hms(8, 0, 0)?;
        let end = ExcelDateTime::from_ymd(2022, 3, day + 1)?.and_hms(20, 0, 0)?;
        let text = |c: u16, v: &str| (c, v.to_string());
        let cells = [
            text(0, &format!("BENCH-{i:06}")),
            text(1, ["运输人", "发货人", "收货人"][i % 3]),
            text(2, districts[i % districts.len()]),
            text(3, &format!("鲁K{:05}", i % 100_000)),
            text(4, if i % 4 == 0 { "鲁F1965挂" } else { "" }),
            text(5, &format!("驾驶员{i}")),
            text(6, &id),
            text(7, &format!("139{:08}", i)),
            text(
                8,
                if category == "返岗人员" {
                    "20"
                } else {
                    "1"
                },
            ),
            text(9, category),
            text(10, cargo),
            text(11, "环翠区张村镇工业园"),
            text(12, "文登区米山镇仓储中心"),
            text(15, routes[i % routes.len()]),
            text(16, &format!("2022-03-{:02} 06:00", day - 1)),
            text(17, "阴性"),
        ];
        for (c, v) in cells {
            if !v.is_empty() {
                sheet.write_string(r, c, v)?;
            }
        }
        sheet.write_datetime_with_format(r, 13, &start, &time)?;
        sheet.write_datetime_with_format(r, 14, &end, &time)?;
    }
    book.save(path)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(n), Some(path)) = (args.get(1).and_then(|n| n.parse().ok()), args.get(2)) else {
        eprintln!("用法 (usage): gen_applications ROWS OUT.xlsx [DISTRICT,DISTRICT,…]");
        return ExitCode::from(2);
    };
    let districts: Vec<&str> = args
        .get(3)
        .map_or("371002", String::as_str)
        .split(',')
        .filter(|d| !d.is_empty())
        .collect();
    if districts.is_empty() {
        eprintln!("用法 (usage): gen_applications ROWS OUT.xlsx [DISTRICT,DISTRICT,…]");
        return ExitCode::from(2);
    }
    match write(n, path, &districts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("错误：{e}");
            ExitCode::FAILURE
        }
    }
}
