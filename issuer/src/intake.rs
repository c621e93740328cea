//! Intake: turning the rows of one application file (or one web form) into stored
//! applications, with every refused row listed by row number, application number and the
//! problems found. The rules of one row are in [`crate::validate`]; this module adds the rules
//! that span rows of one file (a number twice, two overlapping windows of one plate) and the
//! store's verdict (already imported, conflicting, overlapping a stored application).

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::domain::ImportOutcome;
use crate::problem::{Problem, ProblemKind};
use crate::store::{Store, StoreError};
use crate::validate::{self, NewApplication, RawRow, Rules};

/// One refused row, as listed to the district liaison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RefusedRow {
    pub file: String,
    pub row: usize,
    pub app_no: String,
    pub problems: Vec<Problem>,
}

/// What importing one file did.
#[derive(Debug, Default, Serialize)]
pub struct FileOutcome {
    pub rows: usize,
    pub imported: usize,
    pub already_imported: usize,
    /// In row order.
    pub refused: Vec<RefusedRow>,
}

/// Why intake cannot start.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error(
        "尚未载入检查站表，无法校验路线：请先运行 issuer registry load --checkpoints FILE / \
         no checkpoints loaded yet: run issuer registry load --checkpoints FILE first"
    )]
    NoCheckpoints,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The row rules as the store's registry and policy set them.
pub fn rules(store: &dyn Store) -> Result<Rules, IntakeError> {
    let checkpoints = store.checkpoints()?;
    if checkpoints.is_empty() {
        return Err(IntakeError::NoCheckpoints);
    }
    let policy = store.policy()?;
    Ok(Rules {
        checkpoints: checkpoints.into_iter().map(|c| c.code).collect(),
        districts: store.districts()?.iter().map(|d| d.code).collect(),
        max_test_age_secs: policy.max_test_age_secs,
        max_window_secs: policy.max_validity_secs,
    })
}

/// Validates rows and the checks that span rows of one file (repeated numbers, overlapping
/// windows of one plate): the good applications, and the refused rows.
pub fn check_rows(
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

/// Checks the rows of one file and stores the good ones in one transaction, as `actor` at
/// `now`. A row the store refuses (a number imported before with other content, a plate whose
/// window overlaps a stored application's) is listed with the rest.
pub fn import_rows(
    store: &mut dyn Store,
    file: &str,
    rows: &[RawRow],
    rules: &Rules,
    actor: &str,
    now: i64,
) -> Result<FileOutcome, StoreError> {
    import_rows_of(store, file, rows, rules, None, actor, now)
}

/// [`import_rows`] for a district liaison: a row of another district than `district` is
/// refused ([`ProblemKind::OtherDistrict`]).
pub fn import_rows_of(
    store: &mut dyn Store,
    file: &str,
    rows: &[RawRow],
    rules: &Rules,
    district: Option<u32>,
    actor: &str,
    now: i64,
) -> Result<FileOutcome, StoreError> {
    let (mut good, mut refused) = check_rows(file, rows, rules);
    if let Some(own) = district {
        let (mine, others): (Vec<_>, Vec<_>) = good.into_iter().partition(|a| a.district == own);
        good = mine;
        refused.extend(others.into_iter().map(|a| RefusedRow {
            file: file.to_string(),
            row: a.row,
            app_no: a.app_no,
            problems: vec![Problem::new(ProblemKind::OtherDistrict)],
        }));
    }
    let outcomes = store.import(&good, file, actor, now)?;
    let mut out = FileOutcome {
        rows: rows.len(),
        ..FileOutcome::default()
    };
    for (app, outcome) in good.iter().zip(outcomes) {
        let problem = match outcome {
            ImportOutcome::Inserted => {
                out.imported += 1;
                continue;
            }
            ImportOutcome::AlreadyImported => {
                out.already_imported += 1;
                continue;
            }
            ImportOutcome::Conflicting => {
                Problem::with_detail(ProblemKind::ConflictingNumber, "如需更正请使用新的申请编号")
            }
            ImportOutcome::Overlaps(other) => {
                Problem::with_detail(ProblemKind::PlateOverlap, format!("与 {other}"))
            }
        };
        refused.push(RefusedRow {
            file: file.to_string(),
            row: app.row,
            app_no: app.app_no.clone(),
            problems: vec![problem],
        });
    }
    refused.sort_by_key(|r| r.row);
    out.refused = refused;
    Ok(out)
}
