//! The applicant's form: every field the notice names, checked by the very rules an imported
//! row goes through ([`crate::validate`], [`crate::intake`]), each problem shown beside its
//! field in Chinese. A good application is stored under the applicant's organisation, with a
//! number the system gives it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::extract::{FromRequest, Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use checkpass::pass::Category;
use maud::{html, Markup};
use tower_sessions::Session;

use super::i18n::{self, t};
use super::pages::layout;
use super::session::{check_csrf, csrf_token, CurrentUser};
use super::{AppState, WebError};
use crate::accounts::{Role, User};
use crate::domain::{Application, Checkpoint, District, ImportOutcome};
use crate::problem::{Problem, ProblemKind};
use crate::report::TestReport;
use crate::store::Amended;
use crate::validate::{self, Cell, Column, NewApplication, RawRow, APPLICANT_TYPES};
use crate::workflow::Status;

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
        Column::ArriveBy => "arrive_by",
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

/// Where the form is sent, and what it is for.
#[derive(Clone, Copy)]
enum Purpose<'a> {
    New,
    /// Correcting a returned application: its number, and whether a report is already kept.
    Amend {
        app_no: &'a str,
        has_report: bool,
    },
}

fn form(
    reg: &Registry,
    csrf: &str,
    purpose: Purpose<'_>,
    values: &HashMap<String, String>,
    errors: &BTreeMap<Option<Column>, Vec<Problem>>,
    report_error: Option<&str>,
) -> Markup {
    let value = |c: Column| values.get(field_name(c)).cloned().unwrap_or_default();
    let errors_of = |c: Option<Column>| -> Markup {
        html! {
            @for p in errors.get(&c).into_iter().flatten() {
                span.error { " " (i18n::problem(p)) }
            }
        }
    };
    let action = match purpose {
        Purpose::New => "/apply".to_string(),
        Purpose::Amend { app_no, .. } => format!("/applications/{app_no}/amend"),
    };
    let report_required = matches!(purpose, Purpose::New);
    html! {
        @if !errors.is_empty() || report_error.is_some() {
            p.error { (t("申请未提交：请按各栏提示更正。", "Not submitted: correct each field as noted.")) }
        }
        (errors_of(None))
        form method="post" action=(action) enctype="multipart/form-data" {
            input type="hidden" name="csrf" value=(csrf);
            @for c in fields() {
                label {
                    (i18n::column(c)) @if c.required() { " *" } " "
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
                                    (i18n::category(cat))
                                }
                            }
                        },
                        Column::TestResult => select name=(field_name(c)) {
                            option value="阴性" { (t("阴性", "negative")) }
                        },
                        Column::Start | Column::End | Column::TestSampledAt | Column::ArriveBy => {
                            input type="datetime-local" name=(field_name(c)) value=(value(c));
                        },
                        Column::Occupants => {
                            input type="number" min="1" max="9" name=(field_name(c))
                                value=(if value(c).is_empty() { "1".to_string() } else { value(c) });
                        },
                        Column::Route => {
                            // Picked in travel order, one select per stop: no typing of codes
                            // on a phone, and no script needed.
                            @let stops = validate::parse_route(&value(c));
                            small { (t(" 按通行顺序选择经过的检查站", " the checkpoints passed, in travel order")) }
                            @for i in 0..ROUTE_STOPS {
                                span.stop {
                                    (i + 1) ". "
                                    select name={ "route" (i + 1) }
                                        aria-label={ (t("第", "stop ")) (i + 1) (t("站", "")) } {
                                        option value="" { "—" }
                                        @for cp in &reg.checkpoints {
                                            option value=(cp.code)
                                                selected[stops.get(i) == Some(&cp.code)] {
                                                (cp.code) " " (cp.name)
                                            }
                                        }
                                    }
                                }
                            }
                        },
                        _ => { input name=(field_name(c)) value=(value(c)); },
                    }
                    (errors_of(Some(c)))
                }
            }
            label {
                (t("核酸检测报告（PNG/JPEG 图片或 PDF，不超过 5 MiB）", "Test report (PNG/JPEG photo or PDF, at most 5 MiB)")) @if report_required { " *" } " "
                input type="file" name="report" accept="image/png,image/jpeg,application/pdf"
                    required[report_required];
                @if let Purpose::Amend { has_report: true, .. } = purpose {
                    small { (t(" 已上传过报告；不选文件则保留原报告。", " A report was uploaded; choose no file to keep it.")) }
                }
                @if let Some(e) = report_error { span.error { " " (e) } }
            }
            button { @if report_required { (t("提交申请", "Submit")) } @else { (t("重新提交", "Submit again")) } }
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
    let body = form(
        &reg,
        &csrf,
        Purpose::New,
        &HashMap::new(),
        &BTreeMap::new(),
        None,
    );
    Ok(Html(
        layout(
            t("在线申请通行证", "Apply for a pass"),
            Some((&user, &csrf)),
            body,
        )
        .into_string(),
    ))
}

/// A number for an application submitted online: `W` and 12 random hex digits.
fn new_app_no() -> Result<String, WebError> {
    let hex = crate::random_hex(6).map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(format!("W{}", hex.to_uppercase()))
}

/// The form as sent: its text fields, and the report file if one was chosen. The page sends
/// `multipart/form-data`; a plain URL-encoded form (a script, or a browser with the file
/// field removed) is read too and simply has no report.
pub struct Sent {
    pub values: HashMap<String, String>,
    pub report: Option<Vec<u8>>,
}

impl<S: Send + Sync> FromRequest<S> for Sent {
    type Rejection = WebError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Sent, WebError> {
        let multipart = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        if !multipart {
            let Form(values) = Form::<HashMap<String, String>>::from_request(req, state)
                .await
                .map_err(|e| WebError::BadRequest(format!("表单无法读取：{}", e.body_text())))?;
            return Ok(Sent {
                values,
                report: None,
            });
        }
        let bad = |e: axum::extract::multipart::MultipartError| {
            WebError::BadRequest(format!("表单无法读取：{}", e.body_text()))
        };
        let mut form = Multipart::from_request(req, state)
            .await
            .map_err(|e| WebError::BadRequest(format!("表单无法读取：{}", e.body_text())))?;
        let mut sent = Sent {
            values: HashMap::new(),
            report: None,
        };
        while let Some(field) = form.next_field().await.map_err(bad)? {
            let Some(name) = field.name().map(str::to_string) else {
                continue;
            };
            if name == "report" {
                let bytes = field.bytes().await.map_err(bad)?;
                // An empty file part is what a browser sends when no file was chosen.
                if !bytes.is_empty() {
                    sent.report = Some(bytes.to_vec());
                }
            } else {
                sent.values.insert(name, field.text().await.map_err(bad)?);
            }
        }
        Ok(sent)
    }
}

/// The body limit of the form's routes: the report and the text fields.
pub const MAX_FORM_BYTES: usize = crate::report::MAX_REPORT_BYTES + 64 * 1024;

/// How many stops the form offers to pick (a longer route is typed into `route`, as a
/// spreadsheet has it).
pub const ROUTE_STOPS: usize = 6;

/// The route as the form sent it: the picked stops in order (`route1`…), or a typed `route`.
fn route_of(values: &HashMap<String, String>) -> String {
    let picked: Vec<&str> = (1..=ROUTE_STOPS)
        .filter_map(|i| values.get(&format!("route{i}")))
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .collect();
    if picked.is_empty() {
        values.get("route").cloned().unwrap_or_default()
    } else {
        picked.join("→")
    }
}

/// The sent fields as a spreadsheet row numbered `app_no`.
fn raw_row(app_no: &str, values: &HashMap<String, String>) -> Result<RawRow, WebError> {
    if values.values().any(|v| v.len() > 1024) {
        return Err(WebError::BadRequest("某一栏过长".into()));
    }
    let mut cells = BTreeMap::new();
    cells.insert(Column::AppNo, Cell::Text(app_no.to_string()));
    for c in fields() {
        let mut v = if c == Column::Route {
            route_of(values)
        } else {
            values.get(field_name(c)).cloned().unwrap_or_default()
        };
        if matches!(
            c,
            Column::Start | Column::End | Column::TestSampledAt | Column::ArriveBy
        ) {
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
    Ok(RawRow { row: 1, cells })
}

/// The form's values for a stored application (to correct it).
fn values_of(app: &NewApplication) -> HashMap<String, String> {
    let local = |t: i64| checkpass::time::format_cst(t).replace(' ', "T");
    let mut v = HashMap::new();
    let mut put = |c: Column, text: String| {
        v.insert(field_name(c).to_string(), text);
    };
    put(Column::ApplicantType, app.applicant_type.clone());
    put(Column::District, app.district.to_string());
    put(Column::Plate, app.plate.clone());
    put(Column::Trailer, app.trailer.clone().unwrap_or_default());
    put(Column::DriverName, app.driver_name.clone());
    put(Column::DriverId, app.driver_id.clone());
    put(Column::Mobile, app.mobile.clone());
    put(Column::Occupants, app.occupants.to_string());
    put(Column::Category, app.category.label_zh().to_string());
    put(Column::Cargo, app.cargo.clone());
    put(Column::Origin, app.origin.clone());
    put(Column::Destination, app.destination.clone());
    put(Column::Start, local(app.start_at));
    put(Column::End, local(app.end_at));
    put(Column::Route, app.route.join("→"));
    put(Column::TestSampledAt, local(app.test_sampled_at));
    put(Column::TestResult, app.test_result.clone());
    put(
        Column::ArriveBy,
        app.arrive_by.map(local).unwrap_or_default(),
    );
    v
}

/// The form again with every problem beside its field (400).
#[allow(clippy::too_many_arguments)]
async fn refused(
    state: &AppState,
    user: &User,
    session: &Session,
    purpose: Purpose<'_>,
    mut values: HashMap<String, String>,
    problems: Vec<Problem>,
    report_error: Option<String>,
) -> Result<Response, WebError> {
    let csrf = csrf_token(session).await?;
    let mut errors: BTreeMap<Option<Column>, Vec<Problem>> = BTreeMap::new();
    for p in problems {
        errors.entry(p.kind.column()).or_default().push(p);
    }
    values.remove("csrf");
    let route = route_of(&values);
    values.insert(field_name(Column::Route).to_string(), route);
    let reg = registry(state).await?;
    let body = form(
        &reg,
        &csrf,
        purpose,
        &values,
        &errors,
        report_error.as_deref(),
    );
    let title = match purpose {
        Purpose::New => t("在线申请通行证", "Apply for a pass").to_string(),
        Purpose::Amend { app_no, .. } => {
            format!(
                "{}{app_no}",
                t("修改并重新提交 ", "Correct and submit again ")
            )
        }
    };
    Ok((
        StatusCode::BAD_REQUEST,
        Html(layout(&title, Some((user, &csrf)), body).into_string()),
    )
        .into_response())
}

/// The report file checked, or why not; `None` when none was sent.
fn checked_report(
    app_no: &str,
    bytes: Option<Vec<u8>>,
    user: &User,
) -> Option<Result<TestReport, String>> {
    bytes.map(|b| {
        TestReport::new(app_no, b, &user.name, crate::clock::now()).map_err(|e| e.to_string())
    })
}

/// `POST /apply`: checked like an imported row, with its test report; stored, or the form
/// again with every problem beside its field (400).
pub async fn submit(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    session: Session,
    sent: Sent,
) -> Result<Response, WebError> {
    check_csrf(&session, sent.values.get("csrf").map(String::as_str)).await?;
    let organisation = applicant(&user)?;
    let app_no = new_app_no()?;
    let raw = raw_row(&app_no, &sent.values)?;
    let report = match checked_report(&app_no, sent.report, &user) {
        Some(Ok(r)) => Ok(r),
        Some(Err(e)) => Err(e),
        None => Err(t(
            "请上传司机的核酸检测报告",
            "Upload the driver's test report",
        )
        .to_string()),
    };
    let actor = user.name.clone();
    let now = crate::clock::now();
    let source = format!("网页申请 {}", user.name);
    let stored_report = report.clone().ok();
    let problems: Vec<Problem> = state
        .store(move |s| {
            let rules = crate::intake::rules(s).map_err(|e| WebError::Internal(e.to_string()))?;
            let app = match validate::validate_row(&raw, &rules) {
                Ok(app) => app,
                Err(problems) => return Ok(problems),
            };
            // Nothing is stored while the report is missing or refused.
            let Some(report) = stored_report else {
                return Ok(vec![]);
            };
            let outcome = s.import_as(&[app], &source, Some(&organisation), &actor, now)?;
            Ok(match outcome.into_iter().next() {
                Some(ImportOutcome::Inserted) => {
                    s.put_report(&report, &actor, now)?;
                    vec![]
                }
                Some(ImportOutcome::AlreadyImported) => vec![],
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
    if problems.is_empty() && report.is_ok() {
        return Ok(Redirect::to(&format!("/applications/{app_no}")).into_response());
    }
    refused(
        &state,
        &user,
        &session,
        Purpose::New,
        sent.values,
        problems,
        report.err(),
    )
    .await
}

/// The returned application `app_no` of the signed-in applicant's organisation, to correct.
async fn returned(
    state: &AppState,
    user: &User,
    app_no: String,
) -> Result<(Application, bool), WebError> {
    let (app, has_report) = state
        .store(move |s| {
            let app = s.get(&app_no)?;
            let has = s.report_info(&app_no)?.is_some();
            Ok((app, has))
        })
        .await?;
    if !user.may_see(&app) {
        return Err(WebError::NotFound(format!(
            "找不到申请 {}",
            app.data.app_no
        )));
    }
    user.may_resubmit(&app)?;
    if app.status != Status::Returned {
        return Err(WebError::Conflict(format!(
            "申请 {} 当前状态为“{}”，只有退回的申请可以修改后重新提交",
            app.data.app_no,
            app.status.label_zh()
        )));
    }
    Ok((app, has_report))
}

/// `GET /applications/{no}/amend`: a returned application's form, filled in, with the
/// liaison's reason.
pub async fn amend_page(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Path(app_no): Path<String>,
) -> Result<Html<String>, WebError> {
    let (app, has_report) = returned(&state, &user, app_no).await?;
    let csrf = csrf_token(&session).await?;
    let reg = registry(&state).await?;
    let no = app.data.app_no.clone();
    let body = html! {
        @if let Some(r) = &app.reject_reason {
            p.error { (t("退回理由：", "Returned because: ")) (r) }
        }
        (form(&reg, &csrf, Purpose::Amend { app_no: &no, has_report }, &values_of(&app.data),
              &BTreeMap::new(), None))
    };
    Ok(Html(
        layout(
            &format!("{}{no}", t("修改并重新提交 ", "Correct and submit again ")),
            Some((&user, &csrf)),
            body,
        )
        .into_string(),
    ))
}

/// `POST /applications/{no}/amend`: the corrected application, checked as a new one, back in
/// its district's queue; a new report replaces the old one.
pub async fn amend(
    State(state): State<Arc<AppState>>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Path(app_no): Path<String>,
    sent: Sent,
) -> Result<Response, WebError> {
    check_csrf(&session, sent.values.get("csrf").map(String::as_str)).await?;
    let (app, has_report) = returned(&state, &user, app_no).await?;
    let no = app.data.app_no.clone();
    let raw = raw_row(&no, &sent.values)?;
    let report = checked_report(&no, sent.report, &user).transpose();
    let stored_report = report.clone().ok().flatten();
    let report_ok = report.is_ok();
    let actor = user.name.clone();
    let now = crate::clock::now();
    let problems: Vec<Problem> = state
        .store(move |s| {
            let rules = crate::intake::rules(s).map_err(|e| WebError::Internal(e.to_string()))?;
            let new = match validate::validate_row(&raw, &rules) {
                Ok(app) => app,
                Err(problems) => return Ok(problems),
            };
            if !report_ok {
                return Ok(vec![]);
            }
            match s.amend(&new, &actor, now)? {
                Amended::Resubmitted(_) => {
                    if let Some(r) = stored_report {
                        s.put_report(&r, &actor, now)?;
                    }
                    Ok(vec![])
                }
                Amended::Overlaps(other) => Ok(vec![Problem::with_detail(
                    ProblemKind::PlateOverlap,
                    format!("与 {other}"),
                )]),
            }
        })
        .await?;
    if problems.is_empty() && report_ok {
        return Ok(Redirect::to(&format!("/applications/{no}")).into_response());
    }
    refused(
        &state,
        &user,
        &session,
        Purpose::Amend {
            app_no: &no,
            has_report,
        },
        sent.values,
        problems,
        report.err(),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_route_is_the_picked_stops_in_order_or_the_typed_text() {
        let sent = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            route_of(&sent(&[
                ("route1", "C201"),
                ("route2", ""),
                ("route3", "C101")
            ])),
            "C201→C101"
        );
        assert_eq!(route_of(&sent(&[("route", "C201,C101")])), "C201,C101");
        assert_eq!(route_of(&sent(&[])), "");
    }
}
