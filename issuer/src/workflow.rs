//! The application workflow as a pure state machine: which action moves an application from
//! which status to which. The store applies it inside a transaction and writes the audit row;
//! everything that decides *whether* a change is legal lives here.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// Where an application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Imported from a district spreadsheet or submitted online, not yet reviewed.
    Submitted,
    /// Sent back to the applicant by the district liaison, with a reason, to be corrected and
    /// submitted again. It keeps its plate's window meanwhile.
    Returned,
    /// Checked and forwarded by the district group.
    Forwarded,
    /// Approved by the city group; a pass may be issued.
    Approved,
    /// Refused by the city group (final).
    Rejected,
    /// A signed pass exists.
    Issued,
    /// The pass was revoked (final).
    Revoked,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Submitted,
        Status::Returned,
        Status::Forwarded,
        Status::Approved,
        Status::Rejected,
        Status::Issued,
        Status::Revoked,
    ];

    /// The stable name stored in the database and printed in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Submitted => "submitted",
            Status::Returned => "returned",
            Status::Forwarded => "forwarded",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
            Status::Issued => "issued",
            Status::Revoked => "revoked",
        }
    }

    /// Whether the application is still in play: it holds its plate for its window (no other
    /// application of that plate may overlap it) and its registry codes stay in use. Rejected
    /// and revoked ones free both.
    pub fn is_live(self) -> bool {
        !matches!(self, Status::Rejected | Status::Revoked)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Status::Submitted => "已提交",
            Status::Returned => "已退回待修改",
            Status::Forwarded => "区市已转报",
            Status::Approved => "市级已批准",
            Status::Rejected => "已驳回",
            Status::Issued => "已发证",
            Status::Revoked => "已撤销",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Status::Submitted => "submitted",
            Status::Returned => "returned for correction",
            Status::Forwarded => "forwarded by the district",
            Status::Approved => "approved by the city",
            Status::Rejected => "rejected",
            Status::Issued => "pass issued",
            Status::Revoked => "revoked",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;

    fn from_str(s: &str) -> Result<Status, String> {
        Status::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("未知状态：{s}"))
    }
}

/// Something a person does to an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Forward,
    Approve,
    Reject,
    Issue,
    Revoke,
    /// The liaison sends an application back to its applicant with a reason.
    Return,
    /// The applicant sends a returned application again, corrected.
    Resubmit,
}

impl Action {
    /// The stable name written in the audit table.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Forward => "forward",
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Issue => "issue",
            Action::Revoke => "revoke",
            Action::Return => "return",
            Action::Resubmit => "resubmit",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Action::Forward => "转报",
            Action::Approve => "批准",
            Action::Reject => "驳回",
            Action::Issue => "签发",
            Action::Revoke => "撤销",
            Action::Return => "退回",
            Action::Resubmit => "重新提交",
        }
    }
}

/// A refused change, worded for the operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("不能{action}：申请 {app_no} 当前状态为“{from}”（{from_en}），只有“{needed}”状态的申请可以{action}", action = .action.label_zh(), from = .from.label_zh(), from_en = .from.as_str(), needed = labels(.needed))]
pub struct IllegalTransition {
    pub app_no: String,
    pub action: Action,
    pub from: Status,
    pub needed: &'static [Status],
}

fn labels(statuses: &[Status]) -> String {
    statuses
        .iter()
        .map(|s| s.label_zh())
        .collect::<Vec<_>>()
        .join("”或“")
}

/// The statuses an action may start from and the status it leads to.
pub fn rule(action: Action) -> (&'static [Status], Status) {
    match action {
        Action::Forward => (&[Status::Submitted], Status::Forwarded),
        Action::Approve => (&[Status::Forwarded], Status::Approved),
        // The city may also withdraw its approval until the pass is issued: an application
        // that turned out bad must not wait in the queue forever.
        Action::Reject => (&[Status::Forwarded, Status::Approved], Status::Rejected),
        Action::Issue => (&[Status::Approved], Status::Issued),
        Action::Revoke => (&[Status::Issued], Status::Revoked),
        Action::Return => (&[Status::Submitted], Status::Returned),
        Action::Resubmit => (&[Status::Returned], Status::Submitted),
    }
}

/// The new status, or why the action is not allowed from `from`.
pub fn transition(app_no: &str, from: Status, action: Action) -> Result<Status, IllegalTransition> {
    let (needed, to) = rule(action);
    if needed.contains(&from) {
        Ok(to)
    } else {
        Err(IllegalTransition {
            app_no: app_no.to_string(),
            action,
            from,
            needed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn happy_path() {
        let mut s = Status::Submitted;
        for a in [
            Action::Forward,
            Action::Approve,
            Action::Issue,
            Action::Revoke,
        ] {
            s = transition("A", s, a).unwrap();
        }
        assert_eq!(s, Status::Revoked);
        assert_eq!(
            transition("A", Status::Forwarded, Action::Reject),
            Ok(Status::Rejected)
        );
    }

    #[test]
    fn an_approval_can_be_withdrawn_until_issued() {
        assert_eq!(
            transition("A", Status::Approved, Action::Reject),
            Ok(Status::Rejected)
        );
        let err = transition("A", Status::Issued, Action::Reject).unwrap_err();
        assert!(
            err.to_string().contains("“区市已转报”或“市级已批准”"),
            "{err}"
        );
    }

    #[test]
    fn every_other_pair_is_refused() {
        let actions = [
            Action::Forward,
            Action::Approve,
            Action::Reject,
            Action::Issue,
            Action::Revoke,
            Action::Return,
            Action::Resubmit,
        ];
        let mut allowed = 0;
        for from in Status::ALL {
            for a in actions {
                if transition("A", from, a).is_ok() {
                    allowed += 1;
                }
            }
        }
        assert_eq!(allowed, 8);
        let err = transition("SQ1", Status::Submitted, Action::Approve).unwrap_err();
        assert!(err.to_string().contains("不能批准"), "{err}");
        assert!(err.to_string().contains("已提交"), "{err}");
        assert_eq!(
            transition("A", Status::Rejected, Action::Issue)
                .unwrap_err()
                .needed,
            [Status::Approved]
        );
    }

    #[test]
    fn a_returned_application_comes_back_submitted() {
        let s = transition("A", Status::Submitted, Action::Return).unwrap();
        assert_eq!(s, Status::Returned);
        assert!(s.is_live(), "it keeps its plate's window while corrected");
        assert!(transition("A", s, Action::Forward).is_err());
        assert_eq!(transition("A", s, Action::Resubmit), Ok(Status::Submitted));
        assert!(transition("A", Status::Forwarded, Action::Return).is_err());
    }

    #[test]
    fn names_round_trip() {
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>(), Ok(s));
        }
    }
}
