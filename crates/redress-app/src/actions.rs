//! Which actions a person may take on a complaint now: those the lifecycle table allows from
//! its status and the permission table allows the person, so a page offers only what will be
//! accepted.

use redress_domain::complaint::{Action, Complaint, ComplaintId, ComplaintRef, ResolutionKind, Satisfaction, UserRef, action_kind};
use redress_domain::fields::{EscalationReason, LongText, ShortText};

use crate::input::ACTIONS;
use crate::policy;
use crate::{App, Caller};

/// Sample actions of an action name: the forms it may take (a transfer with or without a
/// handler, a proposal with or without approval, a satisfied or a dissatisfied follow-up).
fn samples(name: &str, c: &Complaint, app: &App) -> Vec<Action> {
    let text = LongText::parse("text", "sample").ok();
    let short = ShortText::parse("text", "sample").ok();
    let user = UserRef { id: "sample".into(), name: "sample".into() };
    let rules = app.rules.rules(&c.profile).unwrap_or_else(|| app.rules.default_rules());
    let mut out = Vec::new();
    match name {
        "accept" => out.push(Action::Accept),
        "decline" => {
            if let Some(r) = rules.profile.decline_reasons.first() {
                out.push(Action::Decline { reason: r.code.clone(), note: None });
            }
        }
        "assign" => out.push(Action::Assign { handler: user }),
        "transfer" => {
            if let Some(reason) = short {
                out.push(Action::Transfer { department: c.owner.department.clone(), handler: None, reason: reason.clone() });
                out.push(Action::Transfer { department: c.owner.department.clone(), handler: Some(user), reason });
            }
        }
        "start-investigation" => out.push(Action::StartInvestigation),
        "pause" => {
            if let Some(r) = rules.profile.pause_reasons.first() {
                out.push(Action::Pause { reason: r.code.clone(), note: None });
            }
        }
        "resume" => out.push(Action::Resume),
        "propose-resolution" => {
            if let Some(summary) = text {
                out.push(Action::ProposeResolution { kind: ResolutionKind::Explanation, amount: None, summary: summary.clone() });
                let large = redress_domain::fields::Money::parse("amount", "100000000", "CNY").ok();
                out.push(Action::ProposeResolution { kind: ResolutionKind::Compensation, amount: large, summary });
            }
        }
        "approve-resolution" => out.push(Action::ApproveResolution),
        "reject-resolution" => out.extend(text.map(|reason| Action::RejectResolution { reason })),
        "decide" => out.extend(text.map(|t| Action::Decide { verification: t.clone(), basis: t.clone(), reasons: t, remedies: Vec::new() })),
        "follow-up" => {
            out.push(Action::RecordFollowUp { satisfaction: Satisfaction::Satisfied, comments: None });
            out.push(Action::RecordFollowUp { satisfaction: Satisfaction::Dissatisfied, comments: None });
        }
        "close" => out.push(Action::Close),
        "reopen" => out.extend(text.map(|reason| Action::Reopen { reason })),
        "request-review" => out.extend(text.map(|reason| Action::RequestReview { reason })),
        "archive" => out.push(Action::Archive),
        "merge" => out.push(Action::MergeInto { target: ComplaintRef { id: ComplaintId::generate(c.updated_at), number: String::new() } }),
        "withdraw" => out.push(Action::Withdraw { reason: None }),
        "request-extension" if c.clock.pending_extension.is_none() => out.extend(text.map(|reason| Action::RequestExtension { reason })),
        "decide-extension" if c.clock.pending_extension.is_some() => out.push(Action::DecideExtension { approve: true, note: None }),
        "new-facts" => out.extend(text.map(|description| Action::NewFacts { description })),
        "notes" => out.extend(text.map(|t| Action::AddNote { text: t, customer_contact: false })),
        "classification" => out.push(Action::CorrectClassification { dimension: "business_type".into(), code: String::new() }),
        "reveal-contact" if c.complainant.phone.is_some() || c.complainant.id_number.is_some() => out.push(Action::RevealContact),
        "escalate" => out.extend(EscalationReason::parse("reason", "sample").ok().map(|reason| Action::Escalate { reason })),
        _ => {}
    }
    out
}

/// The action names (as in [`ACTIONS`]) the caller may take on the complaint now.
pub fn available(app: &App, caller: &Caller, c: &Complaint) -> Vec<&'static str> {
    let rules = app.rules.rules(&c.profile).unwrap_or_else(|| app.rules.default_rules());
    ACTIONS
        .iter()
        .copied()
        .filter(|name| {
            if *name == "approve-resolution" && c.resolution.as_ref().is_some_and(|r| r.proposed_by.id == caller.user.id) {
                return false;
            }
            samples(name, c, app).iter().any(|a| {
                c.status.allows(action_kind(a, rules.profile)).is_some() && policy::check_action(caller, c, a, &app.rules.org).is_ok()
            })
        })
        .collect()
}
