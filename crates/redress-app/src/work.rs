//! A person's own queues: the work waiting for them ("My work"), the approvals and the
//! follow-up calls waiting for them.

use redress_domain::complaint::{Action, ExtensionRequest, Resolution};
use redress_domain::lifecycle::{ActionKind, Status};
use redress_store::{ComplaintFilter, ComplaintSummary, DueCounts, WorkCursor, WorkPage, WorkQueue};
use serde::Deserialize;

use crate::complaints::{ListParams, list_filter};
use crate::error::{AppError, AppResult};
use crate::policy;
use crate::{App, Caller};

/// The filters of "My work" as people give them; every value is validated.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct WorkParams {
    /// Statuses, comma-separated.
    pub status: Option<String>,
    /// Channel.
    pub channel: Option<String>,
    /// Business-type code prefix.
    pub business_type: Option<String>,
    /// Cause code prefix.
    pub cause: Option<String>,
    /// Severity.
    pub severity: Option<String>,
    /// Due state.
    pub due_state: Option<String>,
    /// Unit code: complaints owned by departments of this unit and the units below it.
    pub unit: Option<String>,
    /// Continue after this cursor.
    pub cursor: Option<String>,
    /// Page size, 1–200.
    pub limit: Option<String>,
}

fn blank_is_none(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

/// The open complaints waiting for the caller, soonest deadline first: those assigned to them
/// and, for a department's people, the department's complaints nobody holds yet; with the
/// counts of the whole queue (due soon, overdue).
pub async fn my_work(app: &App, caller: &Caller, p: &WorkParams) -> AppResult<WorkPage> {
    let list = ListParams {
        status: blank_is_none(&p.status),
        channel: blank_is_none(&p.channel),
        severity: blank_is_none(&p.severity),
        due_state: blank_is_none(&p.due_state),
        business_type: blank_is_none(&p.business_type),
        cause: blank_is_none(&p.cause),
        limit: blank_is_none(&p.limit),
        ..Default::default()
    };
    let empty = || WorkPage { items: Vec::new(), next: None, counts: DueCounts { total: 0, due_soon: 0, overdue: 0 } };
    let Some(mut filter) = list_filter(app, caller, &list)? else { return Ok(empty()) };
    if let Some(unit) = blank_is_none(&p.unit) {
        let org = &app.rules.org;
        if org.unit(&unit).is_none() {
            return Err(AppError::invalid("unit", format!("unknown unit '{unit}'")));
        }
        let in_unit = org.departments_within(&unit);
        filter.departments =
            if filter.departments.is_empty() { in_unit } else { filter.departments.into_iter().filter(|d| in_unit.contains(d)).collect() };
        if filter.departments.is_empty() {
            return Ok(empty());
        }
    }
    let after = match blank_is_none(&p.cursor) {
        None => None,
        Some(c) => Some(WorkCursor::decode(&c).ok_or_else(|| AppError::invalid("cursor", "not a cursor of this list"))?),
    };
    let limit = filter.limit;
    let queue = WorkQueue {
        handler_id: caller.user.id.clone(),
        department: caller.department().map(str::to_string),
        filter: ComplaintFilter { after: None, ..filter },
        after,
        limit,
    };
    Ok(app.store.work_queue(&queue).await?)
}

/// One complaint of the approvals list and what in it waits for the caller's decision: a
/// proposed resolution, an extension request, or both.
#[derive(Debug, Clone)]
pub struct Approval {
    /// The complaint.
    pub complaint: ComplaintSummary,
    /// The proposed resolution, when it waits for the caller's approval.
    pub resolution: Option<Resolution>,
    /// The extension request, when it waits for the caller's decision.
    pub extension: Option<ExtensionRequest>,
}

/// Approvals waiting for the caller, newest first: proposed resolutions awaiting a second
/// person and extension requests (in any status the lifecycle lets them be decided in), among
/// the complaints the caller may see, that the caller may decide. What the caller asked for or
/// proposed themselves is left out: someone else decides it.
pub async fn approvals(app: &App, caller: &Caller) -> AppResult<Vec<Approval>> {
    let Some(filter) = crate::complaints::limit_to_scope(caller, app, ComplaintFilter { awaiting_approval: true, limit: 200, ..Default::default() })
    else {
        return Ok(Vec::new());
    };
    let page = app.store.list(&filter).await?;
    let ids: Vec<_> = page.items.iter().map(|s| s.id).collect();
    let mut complaints = app.store.complaints(&ids).await?;
    // The store returns them in no particular order; the list's is newest first.
    complaints.sort_by_key(|c| std::cmp::Reverse((c.received_at, c.id)));
    let org = &app.rules.org;
    let me = caller.user.id.as_str();
    Ok(complaints
        .iter()
        .filter_map(|c| {
            let extension = c.clock.pending_extension.as_ref().filter(|x| {
                x.requested_by.id != me
                    && c.status.allows(ActionKind::DecideExtension).is_some()
                    && policy::check_action(caller, c, &Action::DecideExtension { approve: true, note: None }, org).is_ok()
            });
            let resolution = c.resolution.as_ref().filter(|r| {
                c.status == Status::AwaitingApproval && r.proposed_by.id != me && policy::check_action(caller, c, &Action::ApproveResolution, org).is_ok()
            });
            (extension.is_some() || resolution.is_some()).then(|| Approval {
                complaint: ComplaintSummary::from(c),
                resolution: resolution.cloned(),
                extension: extension.cloned(),
            })
        })
        .collect())
}

/// Decided complaints waiting for their follow-up call, among those the caller may see,
/// soonest follow-up deadline first.
pub async fn follow_ups(app: &App, caller: &Caller) -> AppResult<Vec<ComplaintSummary>> {
    let Some(filter) =
        crate::complaints::limit_to_scope(caller, app, ComplaintFilter { statuses: vec![Status::Decided], limit: 200, ..Default::default() })
    else {
        return Ok(Vec::new());
    };
    let mut items = app.store.list(&filter).await?.items;
    items.sort_by_key(|s| s.decide_by);
    Ok(items)
}

/// What a batch follow-up did.
#[derive(Debug, Clone, Default)]
pub struct BatchFollowUp {
    /// Complaints whose follow-up was recorded.
    pub recorded: Vec<String>,
    /// Complaints left alone (not waiting for a follow-up, or refused), with the reason.
    pub skipped: Vec<(String, String)>,
}

/// Records the same follow-up outcome for every member of an incident the caller may see that
/// waits for its follow-up call: many customers who complained about one glitch are called
/// back as one batch. Each complaint is its own transaction; one refused does not stop the rest.
pub async fn follow_up_incident(
    app: &App,
    caller: &Caller,
    incident_id: &str,
    satisfaction: redress_domain::complaint::Satisfaction,
    comments: Option<redress_domain::fields::LongText>,
) -> AppResult<BatchFollowUp> {
    let (_, members) = crate::text::incident(app, caller, incident_id).await?;
    let mut result = BatchFollowUp::default();
    for m in members {
        if m.status != Status::Decided {
            result.skipped.push((m.number, format!("status {}", m.status.as_str())));
            continue;
        }
        let action = Action::RecordFollowUp { satisfaction, comments: comments.clone() };
        match crate::complaints::perform(app, caller, &m.id.to_string(), action).await {
            Ok(_) => result.recorded.push(m.number),
            Err(e) if e.kind == crate::ErrorKind::Internal => return Err(e),
            Err(e) => result.skipped.push((m.number, e.message)),
        }
    }
    Ok(result)
}
