//! The applicant's form: every field the notice names, checked by the very rules an imported
//! row goes through ([`crate::validate`], [`crate::intake`]), each problem shown beside its
//! field in Chinese. A good application is stored under the applicant's organisation, with a
//! number the system gives it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use checkpass::pass::Category;
use maud::{html, Markup};
use tower_sessions::Session;

use super::pages::layout;
use super::session::{check_csrf, csrf_token, CurrentUser};
use super::{AppState, WebError};
use crate::accounts::{Role, User};
use crate::domain::{Checkpoint, District, ImportOutcome};
use crate::problem::{Problem, ProblemKind};
use crate::validate::{self, Cell, Column, RawRow, APPLICANT_TYPES};

/// The form's fields: the spreadsheet's columns but the number, which the system gives.
fn fields() -> impl Iterator<Item = Column> {
    Column::ALL.into_iter().filter(|c| *c != Column::AppNo)
}

/// The form field's name for a column.
fn field_name(c: Column) -> &'static str {
    match c {
        Column::AppNo => "app_no",
        Column::ApplicantType => "applicant_type",
        Column::District => "district",
        Column::Plate => "plate",
        Column::Trailer => "trailer",
        Column::DriverName => "driver_name",
        Column::DriverId => "driver_id",
        Column::Mobile => "mobile",
        Column::Occupants => "occupants",
        Column::Category => "category",
        Column::Cargo => "cargo",
        Column::Origin => "origin",
        Column::Destination => "destination",
        Column::Start => "start",
        Column::End => "end",
        Column::Route => "route",
        Column::TestSampledAt => "test_sampled_at",
        Column::TestResult => "test_result",
    }
}

fn applicant(user: &User) -> Result<String, WebError> {
    match (&user.role, &user.organisation) {
        (Role::Applicant, Some(org)) => Ok(org.clone()),
        _ => Err(WebError::Forbidden(
            "只有申请单位账号可以在线申请（区市联络员可上传申请表）".into(),
        )),
    }
}

/// What the form needs from the registry.
struct Registry {
    districts: Vec<District>,
    checkpoints: Vec<Checkpoint>,
}

async fn registry(state: &AppState) -> Result<Registry, WebError> {
    state
        .store(|s| {
            Ok(Registry {
                districts: s.districts()?,
                checkpoints: s.checkpoints()?,
            })
        })
        .await
}

fn form(
    reg: &Registry,
    csrf: &str,
    values: &HashMap<String, String>,
    errors: &BTreeMap<Option<Column>, Vec<Problem>>,
) -> Markup {
    let value = |c: Column| values.get(field_name(c)).cloned().unwrap_or_default();
    let errors_of = |c: Option<Column>| -> Markup {
        html! {
            @for p in errors.get(&c).into_iter().flatten() {
                span.error { " " (p.to_string()) }
            }
        }
    };
    html! {
        @if !errors.is_empty() { p.error { "申请未提交：请按各栏提示更正。" } }
        (errors_of(None))
        form method="post" action="/apply" {
            input type="hidden" name="csrf" value=(csrf);
            @for c in fields() {
                label {
                    (c.header()) @if c.required() { " *" } " "
                    @match c {
                        Column::ApplicantType => select name=(field_name(c)) {
                            @for t in APPLICANT_TYPES {
                                option value=(t) selected[value(c) == t] { (t) }
                            }
                        },
                        Column::District => select name=(field_name(c)) {
                            @for d in &reg.districts {
                                option value=(d.code) selected[value(c) == d.code.to_string()] {
                                    (d.name) "（" (d.code) "）"
                                }
                            }
                        },
                        Column::Category => select name=(field_name(c)) {
                            @for cat in Category::ALL {
                                option value=(cat.label_zh()) selected[value(c) == cat.label_zh()] {
                                    (cat.label_zh())
                                }
                            }
                        },
                        Column::TestResult => select name=(field_name(c)) {
                            option value="阴性" { "阴性" }
                        },
                        Column::Start | Column::End | Column::TestSampledAt => {
                            input type="datetime-local" name=(field_name(c)) value=(value(c));
                        },
                        Column::Occupants => {
                            input type="number" min="1" max="9" name=(field_name(c))
                                value=(if value(c).is_empty() { "1".to_string() } else { value(c) });
                        },
                        Column::Route => {
                            input name=(field_name(c)) value=(value(c)) placeholder="C201→C101"
                                list="checkpoints";
                            datalist id="checkpoints" {
                                @for cp in &reg.checkpoints { option value=(cp.code) { (cp.name) } }
                            }
                            small { " 按通行顺序填写检查站编码，用 → 或逗号分隔：" }
                            @for cp in &reg.checkpoints { small { " " (cp.code) " " (cp.name) } }
                        },
                        _ => { input name=(field_name(c)) value=(value(c)); },
                    }
                    (errors_of(Some(c)))
                }
            }
            button { "提交申请" }
        }
    }
}

/// `GET /apply`.
pub async fn apply_page(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    session: Session,
) -> Result<Html<String>, WebError> {
    applicant(&user)?;
    let csrf = csrf_token(&session).await?;
    let reg = registry(&state).await?;
    let body = form(&reg, &csrf, &HashMap::new(), &BTreeMap::new());
    Ok(Html(
        layout("在线申请通行证", Some((&user, &csrf)), body).into_string(),
    ))
}

/// A number for an application submitted online: `W` and 12 random hex digits.
fn new_app_no() -> Result<String, WebError> {
    let hex = crate::random_hex(6).map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(format!("W{}", hex.to_uppercase()))
}

/// `POST /apply`: checked like an imported row; stored, or the form again with every problem
/// beside its field (400).
pub async fn submit(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Form(mut values): Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    check_csrf(&session, values.get("csrf").map(String::as_str)).await?;
    let organisation = applicant(&user)?;
    let csrf = csrf_token(&session).await?;
    if values.values().any(|v| v.len() > 1024) {
        return Err(WebError::BadRequest("某一栏过长".into()));
    }
    let app_no = new_app_no()?;
    let mut cells = BTreeMap::new();
    cells.insert(Column::AppNo, Cell::Text(app_no.clone()));
    for c in fields() {
        let mut v = values.get(field_name(c)).cloned().unwrap_or_default();
        if matches!(c, Column::Start | Column::End | Column::TestSampledAt) {
            // A browser's datetime-local value (2022-03-12T08:00) as the files write it.
            v = v.replace('T', " ");
        }
        cells.insert(
            c,
            if v.trim().is_empty() {
                Cell::Empty
            } else {
                Cell::Text(v)
            },
        );
    }
    let raw = RawRow { row: 1, cells };
    let actor = user.name.clone();
    let now = crate::clock::now();
    let source = format!("网页申请 {}", user.name);
    let problems: Vec<Problem> = state
        .store(move |s| {
            let rules = crate::intake::rules(s).map_err(|e| WebError::Internal(e.to_string()))?;
            let app = match validate::validate_row(&raw, &rules) {
                Ok(app) => app,
                Err(problems) => return Ok(problems),
            };
            let outcome = s.import_as(&[app], &source, Some(&organisation), &actor, now)?;
            Ok(match outcome.into_iter().next() {
                Some(ImportOutcome::Inserted) | Some(ImportOutcome::AlreadyImported) => vec![],
                Some(ImportOutcome::Overlaps(other)) => vec![Problem::with_detail(
                    ProblemKind::PlateOverlap,
                    format!("与 {other}"),
                )],
                Some(ImportOutcome::Conflicting) | None => {
                    vec![Problem::new(ProblemKind::ConflictingNumber)]
                }
            })
        })
        .await?;
    if problems.is_empty() {
        return Ok(Redirect::to(&format!("/applications/{app_no}")).into_response());
    }
    let mut errors: BTreeMap<Option<Column>, Vec<Problem>> = BTreeMap::new();
    for p in problems {
        errors.entry(p.kind.column()).or_default().push(p);
    }
    values.remove("csrf");
    let reg = registry(&state).await?;
    let body = form(&reg, &csrf, &values, &errors);
    Ok((
        StatusCode::BAD_REQUEST,
        Html(layout("在线申请通行证", Some((&user, &csrf)), body).into_string()),
    )
        .into_response())
}
