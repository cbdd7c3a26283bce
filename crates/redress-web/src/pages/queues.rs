//! The approvals waiting for the person, each with what waits and the forms to decide it, and
//! the follow-up calls due.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use redress_app::work::{self, Approval};
use redress_app::App;
use redress_store::ComplaintSummary;

use crate::error::PageError;
use crate::page::Page;
use crate::pages::render;
use crate::session::Staff;

/// A list of complaints under a heading.
#[derive(Template)]
#[template(path = "staff/queue.html")]
pub struct QueuePage {
    /// Common page parts.
    pub p: Page,
    /// Catalog key of the explanation under the heading.
    pub intro: &'static str,
    /// The complaints.
    pub items: Vec<ComplaintSummary>,
}

/// The approvals waiting for the person: each complaint with its proposed resolution or its
/// extension request (or both) and the forms that decide them.
#[derive(Template)]
#[template(path = "staff/approvals.html")]
pub struct ApprovalsPage {
    /// Common page parts.
    pub p: Page,
    /// What waits, newest first.
    pub items: Vec<Approval>,
}

/// Approvals waiting for the person: proposed resolutions and extension requests.
pub async fn approvals(State(app): State<App>, staff: Staff) -> Result<Response, PageError> {
    let items = work::approvals(&app, &staff.caller).await?;
    render(&ApprovalsPage { p: Page::staff(&app, &staff, "approvals.title", "approvals"), items })
}

/// Follow-up calls due: decided complaints waiting for their call.
pub async fn follow_ups(State(app): State<App>, staff: Staff) -> Result<Response, PageError> {
    let items = work::follow_ups(&app, &staff.caller).await?;
    render(&QueuePage { p: Page::staff(&app, &staff, "follow_ups.title", "follow_ups"), intro: "follow_ups.intro", items })
}

#[cfg(test)]
mod tests {
    use askama::Template;
    use redress_domain::classify::Severity;
    use redress_domain::complaint::{Channel, ComplaintId, ExtensionRequest, Priority, Resolution, ResolutionKind, UserRef};
    use redress_domain::deadline::DueState;
    use redress_domain::fields::{LongText, Money};
    use redress_domain::lifecycle::Status;
    use redress_store::ComplaintSummary;

    use super::*;
    use crate::i18n::Lang;

    fn summary(number: &str, status: Status) -> ComplaintSummary {
        let at: jiff::Timestamp = "2025-01-20T02:00:00Z".parse().unwrap();
        ComplaintSummary {
            id: ComplaintId::generate(at),
            number: number.into(),
            status,
            channel: Channel::Web,
            received_at: at,
            complainant: "王*".into(),
            phone: None,
            id_number: None,
            title: "年费".into(),
            business_type: None,
            cause: None,
            severity: Severity::Low,
            department: "SH-CARD".into(),
            handler: Some("h1".into()),
            decide_by: Some(at),
            due_state: DueState::OnTime,
            priority: Priority::Normal,
        }
    }

    fn user(name: &str) -> UserRef {
        UserRef { id: format!("u-{name}"), name: name.into() }
    }

    #[test]
    fn each_waiting_item_shows_what_waits_and_the_forms_deciding_it() {
        let at: jiff::Timestamp = "2025-01-21T02:00:00Z".parse().unwrap();
        let resolution = Resolution {
            kind: ResolutionKind::Compensation,
            amount: Some(Money::parse("amount", "8000", "CNY").unwrap()),
            summary: LongText::parse("summary", "退还年费并补偿").unwrap(),
            proposed_by: user("李四"),
            proposed_at: at,
            approved_by: None,
            needs_approval: true,
        };
        let extension = ExtensionRequest { requested_by: user("赵六"), requested_at: at, reason: LongText::parse("reason", "需调取外部机构材料").unwrap(), needs_superior: true };
        for lang in Lang::ALL {
            let mut p = Page::anonymous(lang, "approvals.title");
            p.csrf = "token-1".into();
            let items = vec![
                Approval { complaint: summary("TS-1", Status::AwaitingApproval), resolution: Some(resolution.clone()), extension: None },
                Approval { complaint: summary("TS-2", Status::Investigating), resolution: None, extension: Some(extension.clone()) },
            ];
            let html = ApprovalsPage { p: p.clone(), items }.render().unwrap();
            for text in ["href=\"/complaints/TS-1\"", "href=\"/complaints/TS-2\"", "8000", "退还年费并补偿", "李四", "需调取外部机构材料", "赵六"] {
                assert!(html.contains(text), "{} page lacks {text}", lang.tag());
            }
            for action in ["TS-1/act/approve-resolution", "TS-1/act/reject-resolution", "TS-2/act/decide-extension"] {
                assert!(html.contains(&format!("action=\"/complaints/{action}\"")), "{} page lacks the form {action}", lang.tag());
            }
            assert!(!html.contains("TS-2/act/approve-resolution") && !html.contains("TS-1/act/decide-extension"), "only the forms of what waits");
            assert_eq!(html.matches("/act/").count(), 3);
            assert_eq!(html.matches("name=\"csrf\" value=\"token-1\"").count(), html.matches("<form").count(), "every form carries the token");
            assert!(html.contains("name=\"reason\"") && html.contains("name=\"note\""));
            assert!(html.contains("name=\"approve\" value=\"yes\"") && html.contains("name=\"approve\" value=\"no\""));
            assert!(html.contains(p.t("approvals.superior_level")));
            assert!(!html.contains("approvals."), "{} page shows a catalog key", lang.tag());

            let empty = ApprovalsPage { p, items: Vec::new() }.render().unwrap();
            assert!(empty.contains(Lang::catalog(lang).get("common.nothing_waiting")));
        }
    }
}
