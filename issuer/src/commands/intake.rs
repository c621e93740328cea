//! Importing application files: reading, validating every row, storing the good ones and reporting
//! the refused ones by file, row and application number.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{anyhow, Result};
use checkpass::text::terminal_safe;
use serde::Serialize;

use crate::cli::ImportArgs;
use issuer::import::{self, ImportError};
use issuer::intake::{self, RefusedRow};
use issuer::problem::Problem;

use super::{Ctx, DataDir, EXIT_ROWS_REFUSED};

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
    let rules = intake::rules(&*store)?;
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
        let outcome = intake::import_rows(
            &mut *store,
            &name,
            &rows,
            &rules,
            &actor,
            issuer::clock::now(),
        )?;
        report.rows += outcome.rows;
        report.imported += outcome.imported;
        report.already_imported += outcome.already_imported;
        report.refused.extend(outcome.refused);
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
