//! Reading application spreadsheets: `.xlsx` (and the other Excel/ODS formats calamine reads)
//! and `.csv` in UTF-8 or GBK, the encoding Excel on a Chinese Windows saves CSV in. Columns
//! are found by their header, in any order; columns the issuer does not know are ignored. The
//! result is a list of [`RawRow`]s for [`crate::validate`]; this module judges no cell.

use std::collections::{BTreeMap, HashMap};
use std::io::Cursor;
use std::path::Path;

use calamine::{Data, Reader};

use crate::domain::{Checkpoint, District, Place};
use crate::validate::{Cell, Column, RawRow};

/// The sheet the sample workbook keeps its applications in; any other workbook uses its first sheet.
pub const SHEET_NAME: &str = "通行证申请";

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    #[error("无法读取文件 {path}：{source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} 不是可读的 Excel 文件：{message}")]
    Workbook { path: String, message: String },
    #[error("{path} 的文件类型不支持：请提供 .xlsx 或 .csv（UTF-8 或 GBK 编码）")]
    UnsupportedKind { path: String },
    #[error("{path} 既不是 UTF-8 也不是 GBK 编码的文本文件")]
    Encoding { path: String },
    #[error("{path} 第{row}行不是有效的 CSV：{message}")]
    Csv {
        path: String,
        row: u64,
        message: String,
    },
    #[error("{path} 第{row}行：{message}")]
    BadRegistryRow {
        path: String,
        row: usize,
        message: String,
    },
    #[error("{path} 是空文件，没有表头")]
    Empty { path: String },
    #[error("{path} 的表头缺少列：{}（表头应与样例申请表一致）", .missing.join("、"))]
    MissingColumns {
        path: String,
        missing: Vec<&'static str>,
    },
    #[error("{path} 的表头中“{header}”出现了不止一次")]
    DuplicateColumn { path: String, header: &'static str },
    #[error("{path} 过大，拒绝读取：{what}（上限 {limit} 字节）")]
    TooLarge {
        path: String,
        what: String,
        limit: u64,
    },
}

/// The largest file `import` (and `registry load`) reads: 64 MiB, several times a CSV of the
/// most rows an application sheet may have ([`MAX_ROWS`]) and far more than a day's
/// applications. A larger file is refused before it is read into memory.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// The most one entry of a workbook (a zip archive) may inflate to: 256 MiB, room for a
/// sheet of [`MAX_ROWS`] rows. Checked on the central directory's declared sizes before the
/// spreadsheet parser inflates anything (a 3 MB file can declare — and hold — gigabytes); the
/// `zip` crate then stops reading any entry at its declared size, so a header that understates
/// an entry cannot get more past either.
pub const MAX_ENTRY_BYTES: u64 = 256 * 1024 * 1024;
/// The most all entries of a workbook together may inflate to: 512 MiB.
pub const MAX_WORKBOOK_BYTES: u64 = 512 * 1024 * 1024;

/// The text encoding a CSV file was read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    Utf8,
    Gbk,
}

/// A file read into rows, with what was detected about it.
#[derive(Debug)]
pub struct Sheet {
    pub rows: Vec<RawRow>,
    /// `None` for a workbook.
    pub encoding: Option<TextEncoding>,
}

/// Reads an application file, deciding its kind from its first bytes rather than its name.
pub fn read_file(path: &Path) -> Result<Sheet, ImportError> {
    let (shown, bytes) = read_whole(path)?;
    read_bytes(&shown, &bytes)
}

/// As [`read_file`], for bytes already in memory (`name` is used in messages and for the kind).
pub fn read_bytes(name: &str, bytes: &[u8]) -> Result<Sheet, ImportError> {
    const ZIP: &[u8] = b"PK\x03\x04";
    const OLE: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0];
    if bytes.starts_with(ZIP) || bytes.starts_with(OLE) {
        let grid = read_workbook(name, bytes)?;
        let rows = rows_from_grid(name, grid)?;
        return Ok(Sheet {
            rows,
            encoding: None,
        });
    }
    let lower = name.to_lowercase();
    let known_text = [".csv", ".txt"].iter().any(|e| lower.ends_with(e));
    let known_binary = [".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"]
        .iter()
        .any(|e| lower.ends_with(e));
    if known_binary || (!known_text && looks_binary(bytes)) {
        return Err(if known_binary {
            ImportError::Workbook {
                path: name.to_string(),
                message: "文件内容不是 Excel 格式".into(),
            }
        } else {
            ImportError::UnsupportedKind {
                path: name.to_string(),
            }
        });
    }
    let (text, encoding) = decode_text(bytes).ok_or_else(|| ImportError::Encoding {
        path: name.to_string(),
    })?;
    let grid = read_csv(name, &text)?;
    let rows = rows_from_grid(name, grid)?;
    Ok(Sheet {
        rows,
        encoding: Some(encoding),
    })
}

/// NUL bytes never occur in UTF-8 or GBK text, but do in images, archives and executables.
fn looks_binary(bytes: &[u8]) -> bool {
    bytes.iter().take(4096).any(|b| *b == 0)
}

/// UTF-8 (with or without a byte-order mark) if the bytes are valid UTF-8, else GBK if they
/// decode without a single malformed sequence, else `None`.
pub fn decode_text(bytes: &[u8]) -> Option<(String, TextEncoding)> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(s) = std::str::from_utf8(body) {
        return Some((s.to_string(), TextEncoding::Utf8));
    }
    encoding_rs::GBK
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(|s| (s.into_owned(), TextEncoding::Gbk))
}

/// A grid of cells with the 1-based spreadsheet row number of each line.
type Grid = Vec<(usize, Vec<Cell>)>;

fn read_csv(name: &str, text: &str) -> Result<Grid, ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut grid = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| ImportError::Csv {
            path: name.to_string(),
            row: e.position().map(|p| p.line()).unwrap_or(i as u64 + 1),
            message: e.to_string(),
        })?;
        let cells = record.iter().map(|f| Cell::Text(f.to_string())).collect();
        grid.push((i + 1, cells));
    }
    Ok(grid)
}

/// The most rows and columns an application sheet may use: far more than any day's
/// applications, and small enough that a file naming a cell at XFD1048576 cannot make the
/// import allocate a dense grid of billions of cells.
const MAX_ROWS: u32 = 200_000;
const MAX_COLUMNS: u32 = 256;

/// Refuses a zip archive whose entries declare more than [`MAX_ENTRY_BYTES`] each or
/// [`MAX_WORKBOOK_BYTES`] together, reading only its central directory.
fn check_zip_sizes(name: &str, bytes: &[u8]) -> Result<(), ImportError> {
    let broken = |e: zip::result::ZipError| ImportError::Workbook {
        path: name.to_string(),
        message: e.to_string(),
    };
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(broken)?;
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        // Raw: the entry's metadata only, nothing is inflated.
        let entry = archive.by_index_raw(i).map_err(broken)?;
        let size = entry.size();
        if size > MAX_ENTRY_BYTES {
            return Err(ImportError::TooLarge {
                path: name.to_string(),
                what: format!(
                    "压缩包内的 {} 解压后为 {size} 字节",
                    entry
                        .name()
                        .map_or_else(|_| format!("第 {} 项", i + 1), |n| n.into_owned())
                ),
                limit: MAX_ENTRY_BYTES,
            });
        }
        total = total.saturating_add(size);
        if total > MAX_WORKBOOK_BYTES {
            return Err(ImportError::TooLarge {
                path: name.to_string(),
                what: format!("压缩包解压后超过 {total} 字节"),
                limit: MAX_WORKBOOK_BYTES,
            });
        }
    }
    Ok(())
}

fn read_workbook(name: &str, bytes: &[u8]) -> Result<Grid, ImportError> {
    let broken = |message: String| ImportError::Workbook {
        path: name.to_string(),
        message,
    };
    if bytes.starts_with(b"PK\x03\x04") {
        check_zip_sizes(name, bytes)?;
    }
    // The parser is a third party's and the file anyone's: a panic in it (debug builds check
    // arithmetic overflow on damaged cell references) is a damaged file, not a crash.
    std::panic::catch_unwind(|| read_workbook_unguarded(name, bytes))
        .unwrap_or_else(|_| Err(broken("文件已损坏，无法解析".into())))
}

fn read_workbook_unguarded(name: &str, bytes: &[u8]) -> Result<Grid, ImportError> {
    let err = |e: calamine::Error| ImportError::Workbook {
        path: name.to_string(),
        message: e.to_string(),
    };
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(err)?;
    let names = book.sheet_names();
    let sheet = names
        .iter()
        .find(|n| n.as_str() == SHEET_NAME)
        .or_else(|| names.first())
        .cloned()
        .ok_or_else(|| ImportError::Empty {
            path: name.to_string(),
        })?;
    if let calamine::Sheets::Xlsx(xlsx) = &mut book {
        return xlsx_grid(name, xlsx, &sheet);
    }
    let range = book.worksheet_range(&sheet).map_err(err)?;
    let first_row = range.start().map(|(r, _)| r as usize).unwrap_or(0);
    let first_col = range.start().map(|(_, c)| c as usize).unwrap_or(0);
    let grid = range
        .rows()
        .enumerate()
        .map(|(i, row)| {
            // Keep absolute column positions so headers and cells line up.
            let mut cells = vec![Cell::Empty; first_col];
            cells.extend(row.iter().map(cell_from_data));
            (first_row + i + 1, cells)
        })
        .collect();
    Ok(grid)
}

/// The rows of an xlsx sheet that hold cells, read cell by cell (calamine's range would be
/// dense over the cells' bounding box, whatever positions the file claims).
fn xlsx_grid<RS: std::io::Read + std::io::Seek>(
    name: &str,
    xlsx: &mut calamine::Xlsx<RS>,
    sheet: &str,
) -> Result<Grid, ImportError> {
    let err = |e: calamine::XlsxError| ImportError::Workbook {
        path: name.to_string(),
        message: e.to_string(),
    };
    let mut reader = xlsx.worksheet_cells_reader(sheet).map_err(err)?;
    let mut rows: BTreeMap<u32, Vec<Cell>> = BTreeMap::new();
    while let Some(cell) = reader.next_cell().map_err(err)? {
        let (row, col) = cell.get_position();
        if row >= MAX_ROWS || col >= MAX_COLUMNS {
            return Err(ImportError::Workbook {
                path: name.to_string(),
                message: format!(
                    "第{}行第{}列有内容，超出申请表的范围（最多 {MAX_ROWS} 行、{MAX_COLUMNS} 列）",
                    u64::from(row) + 1,
                    u64::from(col) + 1
                ),
            });
        }
        let cells = rows.entry(row).or_default();
        let col = col as usize;
        if cells.len() <= col {
            cells.resize(col + 1, Cell::Empty);
        }
        cells[col] = cell_from_data(&Data::from(cell.get_value().clone()));
    }
    Ok(rows
        .into_iter()
        .map(|(row, cells)| (row as usize + 1, cells))
        .collect())
}

fn cell_from_data(data: &Data) -> Cell {
    match data {
        Data::Empty => Cell::Empty,
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::Bool(b) => Cell::Text(b.to_string()),
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(t) => Cell::DateTime(t),
            None => Cell::Text(dt.to_string()),
        },
        Data::Error(e) => Cell::Text(format!("#{e}")),
    }
}

fn is_blank(cell: &Cell) -> bool {
    matches!(cell, Cell::Empty) || matches!(cell, Cell::Text(s) if s.trim().is_empty())
}

/// Maps the header row to columns and the remaining non-empty lines to rows.
fn rows_from_grid(name: &str, grid: Grid) -> Result<Vec<RawRow>, ImportError> {
    let mut lines = grid
        .into_iter()
        .skip_while(|(_, cells)| cells.iter().all(is_blank));
    let (_, header) = lines.next().ok_or_else(|| ImportError::Empty {
        path: name.to_string(),
    })?;
    let mut positions: HashMap<Column, usize> = HashMap::new();
    for (i, cell) in header.iter().enumerate() {
        if let Some(column) = Column::from_header(&cell.as_text()) {
            if positions.insert(column, i).is_some() {
                return Err(ImportError::DuplicateColumn {
                    path: name.to_string(),
                    header: column.header(),
                });
            }
        }
    }
    let missing: Vec<&'static str> = Column::ALL
        .into_iter()
        .filter(|c| c.required() && !positions.contains_key(c))
        .map(Column::header)
        .collect();
    if !missing.is_empty() {
        return Err(ImportError::MissingColumns {
            path: name.to_string(),
            missing,
        });
    }
    let rows = lines
        .filter(|(_, cells)| !cells.iter().all(is_blank))
        .map(|(row, cells)| {
            let mapped: BTreeMap<Column, Cell> = positions
                .iter()
                .map(|(column, i)| (*column, cells.get(*i).cloned().unwrap_or(Cell::Empty)))
                .collect();
            RawRow { row, cells: mapped }
        })
        .collect();
    Ok(rows)
}

/// Reads a small registry CSV (UTF-8 or GBK), `name` being what messages call it, into
/// records keyed by the wanted headers.
fn read_registry(
    name: &str,
    bytes: &[u8],
    headers: &[&'static str],
) -> Result<Vec<(usize, Vec<String>)>, ImportError> {
    let name = name.to_string();
    if looks_binary(bytes) || bytes.starts_with(b"PK\x03\x04") {
        return Err(ImportError::UnsupportedKind { path: name });
    }
    let (text, _) =
        decode_text(bytes).ok_or_else(|| ImportError::Encoding { path: name.clone() })?;
    let mut lines = read_csv(&name, &text)?
        .into_iter()
        .filter(|(_, cells)| !cells.iter().all(is_blank));
    let (_, header) = lines
        .next()
        .ok_or_else(|| ImportError::Empty { path: name.clone() })?;
    let header: Vec<String> = header
        .iter()
        .map(|c| c.as_text().trim_start_matches('\u{feff}').to_string())
        .collect();
    let mut positions = Vec::new();
    let mut missing = Vec::new();
    for h in headers {
        match header.iter().position(|x| x == h) {
            Some(i) => positions.push(i),
            None => missing.push(*h),
        }
    }
    if !missing.is_empty() {
        return Err(ImportError::MissingColumns {
            path: name,
            missing,
        });
    }
    Ok(lines
        .map(|(row, cells)| {
            (
                row,
                positions
                    .iter()
                    .map(|i| cells.get(*i).map(Cell::as_text).unwrap_or_default())
                    .collect(),
            )
        })
        .collect())
}

/// A registry row that cannot be used.
fn bad_registry_row(path: &str, row: usize, what: &str) -> ImportError {
    ImportError::BadRegistryRow {
        path: path.to_string(),
        row,
        message: what.to_string(),
    }
}

/// A six-digit district code in the column `column` of a registry row.
fn district_code(path: &str, row: usize, column: &str, text: &str) -> Result<u32, ImportError> {
    text.parse::<u32>()
        .ok()
        .filter(|c| (100_000..=999_999).contains(c))
        .ok_or_else(|| bad_registry_row(path, row, &format!("{column}“{text}”不是6位数字")))
}

/// A file's name for messages, and its bytes: at most [`MAX_FILE_BYTES`], whatever the file
/// claims to be (reading stops there, so a device or a growing file cannot fill memory).
fn read_whole(path: &Path) -> Result<(String, Vec<u8>), ImportError> {
    use std::io::Read as _;
    let name = path.display().to_string();
    let io = |source: std::io::Error| ImportError::Io {
        path: name.clone(),
        source,
    };
    let too_large = || ImportError::TooLarge {
        path: name.clone(),
        what: "文件过大".into(),
        limit: MAX_FILE_BYTES,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    if file.metadata().map_err(io)?.len() > MAX_FILE_BYTES {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large());
    }
    Ok((name, bytes))
}

/// Reads the districts file: 区划代码, 名称, 负责人, 联系电话, 邮箱.
pub fn read_districts(path: &Path) -> Result<Vec<District>, ImportError> {
    let (name, bytes) = read_whole(path)?;
    parse_districts(&name, &bytes)
}

/// As [`read_districts`], for a file already in memory.
pub fn parse_districts(path: &str, bytes: &[u8]) -> Result<Vec<District>, ImportError> {
    read_registry(
        path,
        bytes,
        &["区划代码", "名称", "负责人", "联系电话", "邮箱"],
    )?
    .into_iter()
    .map(|(row, f)| {
        let code = district_code(path, row, "区划代码", &f[0])?;
        if f[1].is_empty() {
            return Err(bad_registry_row(path, row, "缺少名称"));
        }
        Ok(District {
            code,
            name: f[1].clone(),
            contact: f[2].clone(),
            phone: f[3].clone(),
            email: f[4].clone(),
        })
    })
    .collect()
}

/// Reads the checkpoints file: 编码, 名称, 所属区市, 道路.
pub fn read_checkpoints(path: &Path) -> Result<Vec<Checkpoint>, ImportError> {
    let (name, bytes) = read_whole(path)?;
    parse_checkpoints(&name, &bytes)
}

/// As [`read_checkpoints`], for a file already in memory.
pub fn parse_checkpoints(path: &str, bytes: &[u8]) -> Result<Vec<Checkpoint>, ImportError> {
    read_registry(path, bytes, &["编码", "名称", "所属区市", "道路"])?
        .into_iter()
        .map(|(row, f)| {
            let code = f[0].to_ascii_uppercase();
            if code.is_empty()
                || code.len() > checkpass::wire::limits::CHECKPOINT_CODE
                || !code.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                return Err(bad_registry_row(
                    path,
                    row,
                    &format!("检查站编码“{}”无效", f[0]),
                ));
            }
            let district = district_code(path, row, "所属区市", &f[2])?;
            if f[1].is_empty() {
                return Err(bad_registry_row(path, row, "缺少名称"));
            }
            Ok(Checkpoint {
                code,
                name: f[1].clone(),
                district,
                road: f[3].clone(),
            })
        })
        .collect()
}

/// The checkpoints' coordinates from the optional columns 纬度 (latitude) and 经度
/// (longitude) of the checkpoints file, in decimal degrees; none when the file has neither
/// column. A row may leave both empty (that checkpoint's place is unknown).
pub fn parse_places(path: &str, bytes: &[u8]) -> Result<Vec<Place>, ImportError> {
    let rows = match read_registry(path, bytes, &["编码", "纬度", "经度"]) {
        Ok(rows) => rows,
        Err(ImportError::MissingColumns { missing, .. })
            if missing.contains(&"纬度") && missing.contains(&"经度") && missing.len() == 2 =>
        {
            return Ok(Vec::new())
        }
        Err(e) => return Err(e),
    };
    let mut places = Vec::new();
    for (row, f) in rows {
        if f[1].is_empty() && f[2].is_empty() {
            continue;
        }
        let degrees = |text: &str, column: &str, limit: f64| {
            text.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && v.abs() <= limit)
                .ok_or_else(|| {
                    bad_registry_row(path, row, &format!("{column}“{text}”不是有效的十进制度数"))
                })
        };
        places.push(Place {
            code: f[0].to_ascii_uppercase(),
            lat: degrees(&f[1], "纬度", 90.0)?,
            lon: degrees(&f[2], "经度", 180.0)?,
        });
    }
    Ok(places)
}

/// Reads the coordinates in a checkpoints file ([`parse_places`]).
pub fn read_places(path: &Path) -> Result<Vec<Place>, ImportError> {
    let (name, bytes) = read_whole(path)?;
    parse_places(&name, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sheet with one cell far out (here the last cell Excel allows) is refused by its
    /// position, without building a grid over the whole sheet.
    #[test]
    fn places_are_optional_columns_of_the_checkpoints_file() {
        let plain = "编码,名称,所属区市,道路\nC101,威海收费站,371002,G18\n";
        assert_eq!(parse_places("c.csv", plain.as_bytes()).unwrap(), vec![]);
        let placed = "编码,名称,所属区市,道路,纬度,经度\nc101,威海,371002,G18,37.468,122.083\nC102,初村,371071,G18,,\n";
        assert_eq!(
            parse_places("c.csv", placed.as_bytes()).unwrap(),
            vec![Place {
                code: "C101".into(),
                lat: 37.468,
                lon: 122.083
            }]
        );
        let bad = "编码,纬度,经度\nC101,北纬37,122\n";
        let err = parse_places("c.csv", bad.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(err.contains("纬度“北纬37”不是有效的十进制度数"), "{err}");
        let half = "编码,纬度\nC101,37\n";
        assert!(parse_places("c.csv", half.as_bytes()).is_err());
    }

    #[test]
    fn an_xlsx_cell_beyond_the_application_sheet_is_refused() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "申请编号").unwrap();
        sheet.write_string(1_048_575, 16_383, "x").unwrap();
        let bytes = book.save_to_buffer().unwrap();
        let err = read_bytes("far.xlsx", &bytes).unwrap_err();
        assert_eq!(
            err.to_string(),
            "far.xlsx 不是可读的 Excel 文件：第1048576行第16384列有内容，超出申请表的范围（最多 200000 行、256 列）"
        );
    }

    /// Sets the declared uncompressed size of the zip entry `entry` in its local header (when
    /// it states one) and in the central directory.
    fn declare_size(zip: &mut [u8], entry: &str, size: u32) {
        let mut patched = 0;
        let mut i = 0;
        while i + 46 <= zip.len() {
            let (at, name_at) = match &zip[i..i + 4] {
                b"PK\x03\x04" => (i + 22, i + 30),
                b"PK\x01\x02" => (i + 24, i + 46),
                _ => {
                    i += 1;
                    continue;
                }
            };
            let len_at = if name_at == i + 30 { i + 26 } else { i + 28 };
            let name_len = usize::from(u16::from_le_bytes([zip[len_at], zip[len_at + 1]]));
            if zip.get(name_at..name_at + name_len) == Some(entry.as_bytes())
                && zip[at..at + 4] != [0; 4]
            {
                zip[at..at + 4].copy_from_slice(&size.to_le_bytes());
                patched += 1;
            }
            i += 4;
        }
        assert!(patched > 0, "no entry {entry}");
    }

    fn workbook_with_strings(n: usize) -> Vec<u8> {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "申请编号").unwrap();
        for i in 0..n {
            sheet
                .write_string(i as u32 + 1, 0, format!("SQ{i:06}-{}", "x".repeat(40)))
                .unwrap();
        }
        book.save_to_buffer().unwrap()
    }

    /// An entry declaring 3 GiB (the real file declared and held that much) is refused by its
    /// declared size from the central directory, before anything is inflated.
    #[test]
    fn xlsx_with_a_huge_declared_entry_is_refused_before_inflating() {
        let mut bytes = workbook_with_strings(3);
        declare_size(&mut bytes, "xl/sharedStrings.xml", 3 << 30);
        let err = read_bytes("bomb.xlsx", &bytes).unwrap_err();
        assert!(
            matches!(
                err,
                ImportError::TooLarge {
                    limit: MAX_ENTRY_BYTES,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("xl/sharedStrings.xml"), "{err}");
    }

    /// An entry that inflates to more than its header declares is not read past the declared
    /// size (the zip reader under calamine enforces it): understating the size cannot get a
    /// big entry past the check above.
    #[test]
    fn an_xlsx_entry_larger_than_it_declares_is_not_read_past_it() {
        let mut bytes = workbook_with_strings(20_000);
        // Read whole (and then refused for its missing columns, which is not the point here).
        assert!(matches!(
            read_bytes("ok.xlsx", &bytes),
            Err(ImportError::MissingColumns { .. })
        ));
        declare_size(&mut bytes, "xl/sharedStrings.xml", 1000);
        let err = read_bytes("liar.xlsx", &bytes).unwrap_err();
        assert!(matches!(err, ImportError::Workbook { .. }), "{err}");
        // What calamine relies on: the zip crate's reader (calamine reads entries with
        // `by_name`) fails once an entry passes its declared size, instead of going on.
        let mut archive = zip::ZipArchive::new(Cursor::new(&bytes)).unwrap();
        let mut entry = archive.by_name("xl/sharedStrings.xml").unwrap();
        let mut read = Vec::new();
        let err = std::io::Read::read_to_end(&mut entry, &mut read).unwrap_err();
        assert!(
            err.to_string().contains("declared uncompressed size"),
            "{err}"
        );
        // (At most one read past it: the check follows each read.)
        assert!(read.len() <= 1000 + 8192, "{} bytes read", read.len());
    }

    /// A file over the cap is refused before it is read into memory.
    #[test]
    fn an_application_file_over_the_cap_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.csv");
        let file = std::fs::File::create(&path).unwrap();
        file.set_len(MAX_FILE_BYTES + 1).unwrap();
        let err = read_file(&path).unwrap_err();
        assert!(matches!(err, ImportError::TooLarge { .. }), "{err}");
    }

    /// Damaged files of every kind give an error that says something, or rows (never more
    /// than the whole file has, but for a row split by a flipped byte), never a panic: every truncation of the sample xlsx and CSVs
    /// (in steps), and single flipped bytes through them. A cut xlsx has lost its zip's
    /// central directory, so it is always an error.
    #[test]
    fn damaged_application_files_never_panic() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples/weihai");
        for name in [
            "applications.xlsx",
            "applications.csv",
            "applications-gbk.csv",
        ] {
            let whole = std::fs::read(dir.join(name)).unwrap();
            let all_rows = read_bytes(name, &whole).unwrap().rows.len();
            assert!(all_rows > 0, "{name}");
            let step = (whole.len() / 300).max(1);
            let mut cases: Vec<(Vec<u8>, bool)> = (0..whole.len())
                .step_by(step)
                .map(|n| (whole[..n].to_vec(), true))
                .collect();
            for at in (0..whole.len()).step_by(step) {
                let mut flipped = whole.clone();
                flipped[at] ^= 0x5A;
                cases.push((flipped, false));
            }
            for (bytes, cut) in cases {
                let len = bytes.len();
                let outcome = std::panic::catch_unwind(|| {
                    read_bytes(name, &bytes).map(|sheet| sheet.rows.len())
                });
                let Ok(result) = outcome else {
                    panic!("{name}: panicked on a damaged file of {len} bytes");
                };
                match result {
                    Ok(rows) => {
                        // A flipped byte may turn into a line break and split a row in two.
                        let most = if cut { all_rows } else { all_rows + 1 };
                        assert!(rows <= most, "{name} ({len} bytes): {rows} rows");
                        assert!(
                            !(cut && name.ends_with(".xlsx")),
                            "{name} cut to {len} bytes was read"
                        );
                    }
                    Err(e) => assert!(!e.to_string().is_empty(), "{name}: empty error"),
                }
            }
        }
    }

    #[test]
    fn a_bad_registry_row_is_named_by_file_row_and_value() {
        let districts = "区划代码,名称,负责人,联系电话,邮箱\n371002,环翠区,,,\n37100,文登区,,,\n";
        let err = parse_districts("d.csv", districts.as_bytes()).unwrap_err();
        assert_eq!(err.to_string(), "d.csv 第3行：区划代码“37100”不是6位数字");
        let checkpoints =
            "编码,名称,所属区市,道路\nC101,威海收费站,371002,G1813\nC1-2,桥头,371002,\n\
                           C103,文登收费站,3710O3,\n";
        let err = parse_checkpoints("c.csv", checkpoints.as_bytes()).unwrap_err();
        assert_eq!(err.to_string(), "c.csv 第3行：检查站编码“C1-2”无效");
        let fixed = checkpoints.replace("C1-2", "C102");
        let err = parse_checkpoints("c.csv", fixed.as_bytes()).unwrap_err();
        assert_eq!(err.to_string(), "c.csv 第4行：所属区市“3710O3”不是6位数字");
    }

    const HEADER: &str = "申请编号,申请人类型,所属区市,车牌号,挂车号,驾驶人员姓名,身份证号,联系方式,随车人员数,货物类别,货物名称,起运地点,运送地点,拟通行开始时间,拟通行结束时间,拟通行路线,核酸采样时间,核酸检测结果";

    #[test]
    fn csv_by_header_in_any_order_with_extra_columns() {
        let text = "备注,核酸检测结果,申请编号,车牌号,申请人类型,所属区市,挂车号,驾驶人员姓名,身份证号,联系方式,随车人员数,货物类别,货物名称,起运地点,运送地点,拟通行开始时间,拟通行结束时间,拟通行路线,核酸采样时间\n\
                    x,阴性,SQ1,鲁K12345,运输人,371003,,张三,1,2,3,4,5,6,7,8,9,10,11\n,,,,,,,,,,,,,,,,,,\n";
        let sheet = read_bytes("a.csv", text.as_bytes()).unwrap();
        assert_eq!(sheet.encoding, Some(TextEncoding::Utf8));
        assert_eq!(sheet.rows.len(), 1);
        let row = &sheet.rows[0];
        assert_eq!(row.row, 2);
        assert_eq!(row.cells[&Column::AppNo], Cell::Text("SQ1".into()));
        assert_eq!(row.cells[&Column::TestResult], Cell::Text("阴性".into()));
        assert_eq!(row.cells[&Column::Plate], Cell::Text("鲁K12345".into()));
    }

    #[test]
    fn gbk_is_detected() {
        let text = format!("{HEADER}\nSQ1,运输人,371003,鲁K12345\n");
        let (gbk, _, _) = encoding_rs::GBK.encode(&text);
        let sheet = read_bytes("a.csv", &gbk).unwrap();
        assert_eq!(sheet.encoding, Some(TextEncoding::Gbk));
        assert_eq!(
            sheet.rows[0].cells[&Column::ApplicantType],
            Cell::Text("运输人".into())
        );
        // BOM-prefixed UTF-8 works too.
        let bom = format!("\u{feff}{text}");
        assert_eq!(
            read_bytes("b.csv", bom.as_bytes()).unwrap().encoding,
            Some(TextEncoding::Utf8)
        );
    }

    #[test]
    fn bad_files_are_refused_with_reasons() {
        let e = read_bytes("a.csv", "申请编号,车牌号\nSQ1,鲁K1\n".as_bytes()).unwrap_err();
        assert!(matches!(e, ImportError::MissingColumns { .. }), "{e}");
        assert!(e.to_string().contains("驾驶人员姓名"), "{e}");
        let e = read_bytes("a.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap_err();
        assert!(matches!(e, ImportError::UnsupportedKind { .. }), "{e}");
        let e = read_bytes("a.xlsx", b"not a workbook").unwrap_err();
        assert!(matches!(e, ImportError::Workbook { .. }), "{e}");
        let e = read_bytes("a.xlsx", b"PK\x03\x04garbage").unwrap_err();
        assert!(matches!(e, ImportError::Workbook { .. }), "{e}");
        let e = read_bytes("a.csv", b"").unwrap_err();
        assert!(matches!(e, ImportError::Empty { .. }), "{e}");
        let e = read_bytes("a.csv", &[0xff, 0xfe, 0xff, 0x81, 0x30]).unwrap_err();
        assert!(matches!(e, ImportError::Encoding { .. }), "{e}");
        let dup = format!("{HEADER},车牌号\n");
        assert!(matches!(
            read_bytes("a.csv", dup.as_bytes()),
            Err(ImportError::DuplicateColumn { .. })
        ));
    }
}
