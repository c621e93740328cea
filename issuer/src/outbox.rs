//! What the city sends out: the SMS outbox for the gateway — a message to each driver whose
//! pass was issued (serial, window, route, how to get it) and to each whose application was
//! rejected (with the reason) — and the batch of pass sheets to print. The command line
//! (`issuer sms`, `issuer print`) and the web service (`/outbox`, `/print`) both call these.

use checkpass::pass::Serial;
use serde::Serialize;

use crate::domain::{Application, ListFilter};
use crate::issuing;
use crate::render::{self, PassSheet, RenderError};
use crate::store::{Store, StoreError};
use crate::workflow::Status;

/// Which messages or passes.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Only this district's applications.
    pub district: Option<u32>,
    /// Only passes issued, or rejections decided, at or after this time.
    pub since: Option<i64>,
    /// Issued passes.
    pub issued: bool,
    /// Rejections.
    pub rejected: bool,
}

/// Why a message is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Issued,
    Rejected,
}

impl Kind {
    pub fn label_zh(self) -> &'static str {
        match self {
            Kind::Issued => "已签发",
            Kind::Rejected => "未获批准",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Kind::Issued => "pass issued",
            Kind::Rejected => "rejected",
        }
    }
}

/// One SMS for the gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    pub kind: Kind,
    pub mobile: String,
    pub text: String,
    pub app_no: String,
    /// The pass's number as printed on its sheet, `371003-000001-6` (none for a rejection).
    pub serial: Option<String>,
    /// When the pass was issued or the application rejected.
    pub at: i64,
}

/// The issued, unrevoked passes of `sel`'s district issued since `sel.since`, in serial order.
pub fn issued(store: &dyn Store, sel: &Selection) -> Result<Vec<Application>, StoreError> {
    let mut apps: Vec<Application> = store
        .list(&ListFilter {
            status: Some(Status::Issued),
            district: sel.district,
            plate: None,
            limit: None,
        })?
        .into_iter()
        .filter(|a| match (sel.since, &a.pass) {
            (Some(t), Some(p)) => p.issued_at >= t,
            _ => true,
        })
        .collect();
    sort_by_serial(&mut apps);
    Ok(apps)
}

/// Passes in serial order, each once.
pub fn sort_by_serial(apps: &mut Vec<Application>) {
    apps.sort_by_key(|a| a.pass.as_ref().map(|p| p.serial));
    apps.dedup_by_key(|a| a.pass.as_ref().map(|p| p.serial));
}

/// The pass sheets of `apps` (those with a pass).
pub fn sheets(store: &dyn Store, apps: &[Application]) -> Result<Vec<PassSheet>, StoreError> {
    let checkpoints = store.checkpoints()?;
    let issuer_name = store.issuer_name()?;
    Ok(apps
        .iter()
        .filter_map(|app| {
            let pass = app.pass.as_ref()?;
            Some(issuing::sheet_data(app, pass, &checkpoints, &issuer_name))
        })
        .collect())
}

/// The messages to the drivers of the issued passes `apps`.
pub fn issued_messages(
    store: &dyn Store,
    apps: &[Application],
) -> Result<Vec<Message>, StoreError> {
    Ok(apps
        .iter()
        .zip(sheets(store, apps)?)
        .map(|(app, sheet)| Message {
            kind: Kind::Issued,
            mobile: app.data.mobile.clone(),
            text: render::sms_text(&sheet),
            app_no: app.data.app_no.clone(),
            serial: Some(sheet.number.clone()),
            at: app.pass.as_ref().map_or(0, |p| p.issued_at),
        })
        .collect())
}

/// The messages of `sel`: issued passes first (serial order), then rejections (oldest first).
pub fn messages(store: &dyn Store, sel: &Selection) -> Result<Vec<Message>, StoreError> {
    let mut out = Vec::new();
    if sel.issued {
        out = issued_messages(store, &issued(store, sel)?)?;
    }
    if sel.rejected {
        let issuer_name = store.issuer_name()?;
        let rejected = store.list(&ListFilter {
            status: Some(Status::Rejected),
            district: sel.district,
            plate: None,
            limit: None,
        })?;
        for a in rejected {
            let at = a.decided_at.unwrap_or(0);
            if sel.since.is_some_and(|t| at < t) {
                continue;
            }
            let d = &a.data;
            out.push(Message {
                kind: Kind::Rejected,
                mobile: d.mobile.clone(),
                text: render::rejection_text(
                    &issuer_name,
                    &d.driver_name,
                    &d.plate,
                    &d.app_no,
                    a.reject_reason.as_deref().unwrap_or("未说明"),
                ),
                app_no: d.app_no.clone(),
                serial: None,
                at,
            });
        }
    }
    Ok(out)
}

/// Header of the SMS outbox: the two columns SMS gateways' batch upload takes first, then
/// what the operator needs to trace a message back.
pub const CSV_HEADER: [&str; 4] = ["手机号码", "短信内容", "申请编号", "通行证编号"];

/// The SMS outbox file: a byte-order mark (Excel, and the gateways' Excel templates, read it
/// right), the header, and a row per message. The gateway's operators open it in Excel, so no
/// cell may run as a formula: every cell goes through [`checkpass::text::csv_safe`].
pub fn csv(messages: &[Message]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    w.write_record(CSV_HEADER)?;
    for m in messages {
        let row = [
            m.mobile.as_str(),
            m.text.as_str(),
            m.app_no.as_str(),
            m.serial.as_deref().unwrap_or(""),
        ];
        w.write_record(
            row.map(checkpass::text::csv_safe)
                .iter()
                .map(|c| c.as_bytes()),
        )?;
    }
    w.into_inner()
        .map_err(|e| csv::Error::from(std::io::Error::other(e.to_string())))
}

/// Why a batch cannot be printed.
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error("没有可打印的通行证（已签发且未撤销）")]
    Nothing,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("生成打印文件失败：{0}")]
    Render(#[from] RenderError),
}

/// One PDF, a page (A5) per pass, of `apps`; with the serials printed, in order.
pub fn print_batch(
    store: &dyn Store,
    apps: &[Application],
) -> Result<(Vec<u8>, Vec<Serial>), PrintError> {
    let sheets = sheets(store, apps)?;
    if sheets.is_empty() {
        return Err(PrintError::Nothing);
    }
    let pdf = render::print_pdf(&sheets)?;
    let serials = apps
        .iter()
        .filter_map(|a| a.pass.as_ref().map(|p| p.serial))
        .collect();
    Ok((pdf, serials))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbox_cells_never_run_as_formulas() {
        let m = Message {
            kind: Kind::Rejected,
            mobile: "13912345678".into(),
            text: "=HYPERLINK(\"http://x\")".into(),
            app_no: "A1".into(),
            serial: None,
            at: 0,
        };
        let odd = Message {
            mobile: "+8613551566498".into(),
            app_no: "-1".into(),
            serial: Some("@A1".into()),
            ..m.clone()
        };
        let bytes = csv(&[m, odd]).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
        assert_eq!(lines[0], "手机号码,短信内容,申请编号,通行证编号");
        assert_eq!(
            lines[1],
            "13912345678,\"'=HYPERLINK(\"\"http://x\"\")\",A1,"
        );
        assert_eq!(
            lines[2],
            "'+8613551566498,\"'=HYPERLINK(\"\"http://x\"\")\",'-1,'@A1"
        );
    }
}
