//! Importing application files: reading, validating every row, storing the good ones and reporting
//! the refused ones by file, row and application number.

use std::collections::{HashMap, HashSet};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{anyhow, bail, Result};
use checkpass::text::terminal_safe;
use serde::Serialize;

use crate::cli::ImportArgs;
use issuer::domain::ImportOutcome;
use issuer::import::{self, ImportError};
use issuer::problem::{Problem, ProblemKind};
use issuer::validate::{self, NewApplication, RawRow, Rules};

use super::{policy, Ctx, DataDir, EXIT_ROWS_REFUSED};

/// One refused row, as listed to the district liaison.
#[derive(Debug, Serialize)]
struct RefusedRow {
    file: String,
    row: usize,
    app_no: String,
    problems: Vec<Problem>,
}

#[derive(Debug, Serialize, Default)]
struct ImportReport {
    files: Vec<String>,
    /// How each file was read: "utf-8", "gbk" or "workbook".
    encodings: Vec<&'static str>,
    rows: usize,
    imported: usize,
    already_imported: usize,
    refused: Vec<RefusedRow>,
    elapsed_secs: f64,
}

pub(super) fn import_files(data: &DataDir, ctx: &Ctx, args: ImportArgs) -> Result<ExitCode> {
    let actor = ctx.actor()?;
    let mut store = data.open()?;
    let checkpoints = store.checkpoints()?;
    if checkpoints.is_empty() {
        bail!(
            "尚未载入检查站表，无法校验路线：请先运行 issuer registry load --checkpoints FILE / \
             no checkpoints loaded yet: run issuer registry load --checkpoints FILE first"
        );
    }
    let policy = policy(&*store)?;
    let rules = Rules {
        checkpoints: checkpoints.iter().map(|c| c.code.clone()).collect(),
        districts: store.districts()?.iter().map(|d| d.code).collect(),
        max_test_age_secs: policy.max_test_age_secs,
        max_window_secs: policy.max_validity_secs,
    };
    let started = Instant::now();
    let mut report = ImportReport::default();
    // Read every file first: a malformed file stops the import before anything is stored.
    let mut sheets = Vec::new();
    for path in &args.files {
        let sheet = import::read_file(path).map_err(|e: ImportError| anyhow!(e))?;
        sheets.push((path.display().to_string(), sheet.rows, sheet.encoding));
    }
    for (name, rows, encoding) in sheets {
        report.files.push(name.clone());
        report.encodings.push(match encoding {
            Some(import::TextEncoding::Utf8) => "utf-8",
            Some(import::TextEncoding::Gbk) => "gbk",
            None => "workbook",
        });
        report.rows += rows.len();
        let (good, mut refused) = check_rows(&name, &rows, &rules);
        let outcomes = store.import(&good, &name, &actor, issuer::clock::now())?;
        for (app, outcome) in good.iter().zip(outcomes) {
            let problem = match outcome {
                ImportOutcome::Inserted => {
                    report.imported += 1;
                    continue;
                }
                ImportOutcome::AlreadyImported => {
                    report.already_imported += 1;
                    continue;
                }
                ImportOutcome::Conflicting => Problem::with_detail(
                    ProblemKind::ConflictingNumber,
                    "如需更正请使用新的申请编号",
                ),
                ImportOutcome::Overlaps(other) => {
                    Problem::with_detail(ProblemKind::PlateOverlap, format!("与 {other}"))
                }
            };
            refused.push(RefusedRow {
                file: name.clone(),
                row: app.row,
                app_no: app.app_no.clone(),
                problems: vec![problem],
            });
        }
        refused.sort_by_key(|r| r.row);
        report.refused.extend(refused);
    }
    report.elapsed_secs = started.elapsed().as_secs_f64();
    if ctx.json {
        ctx.print_json(&report)?;
    } else {
        for r in &report.refused {
            let reasons: Vec<String> = r.problems.iter().map(Problem::to_string).collect();
            // The file name, number and reasons quote the file's cells: shown, never obeyed.
            println!(
                "拒绝 {} 第{}行 {}：{}",
                terminal_safe(&r.file),
                r.row,
                terminal_safe(&r.app_no),
                terminal_safe(&reasons.join("；"))
            );
        }
        println!(
            "共 {} 行：导入 {} 行，已导入过 {} 行，拒绝 {} 行（用时 {:.2} 秒）",
            report.rows,
            report.imported,
            report.already_imported,
            report.refused.len(),
            report.elapsed_secs
        );
    }
    Ok(if report.refused.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_ROWS_REFUSED)
    })
}

/// Validates rows and the checks that span rows of one file (repeated numbers, overlapping
/// windows of one plate).
fn check_rows(
    file: &str,
    rows: &[RawRow],
    rules: &Rules,
) -> (Vec<NewApplication>, Vec<RefusedRow>) {
    let mut good: Vec<NewApplication> = Vec::new();
    let mut refused = Vec::new();
    let mut seen_numbers: HashSet<String> = HashSet::new();
    let mut by_plate: HashMap<String, Vec<usize>> = HashMap::new();
    for raw in rows {
        let mut problems = match validate::validate_row(raw, rules) {
            Ok(app) => {
                let mut problems = Vec::new();
                if !seen_numbers.insert(app.app_no.clone()) {
                    problems.push(Problem::new(ProblemKind::DuplicateInFile));
                } else if let Some(other) = by_plate.get(&app.plate).and_then(|ids| {
                    ids.iter()
                        .map(|i| &good[*i])
                        .find(|o| app.overlaps(&o.plate, o.start_at, o.end_at))
                }) {
                    problems.push(Problem::with_detail(
                        ProblemKind::PlateOverlap,
                        format!("与 {}", other.app_no),
                    ));
                }
                if problems.is_empty() {
                    by_plate
                        .entry(app.plate.clone())
                        .or_default()
                        .push(good.len());
                    good.push(app);
                    continue;
                }
                problems
            }
            Err(problems) => problems,
        };
        problems.dedup();
        refused.push(RefusedRow {
            file: file.to_string(),
            row: raw.row,
            app_no: raw.app_no(),
            problems,
        });
    }
    (good, refused)
}
