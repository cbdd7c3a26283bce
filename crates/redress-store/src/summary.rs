//! The list view of a complaint: what a queue shows, personal data masked.

use jiff::Timestamp;
use redress_domain::classify::Severity;
use redress_domain::complaint::{Channel, Complaint, ComplaintId, Priority};
use redress_domain::deadline::DueState;
use redress_domain::lifecycle::Status;
use serde::{Deserialize, Serialize};

/// One row of a complaint list. Phone and ID numbers are masked (`138****5678`), because lists
/// are seen by many more people than the case file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComplaintSummary {
    /// Id.
    pub id: ComplaintId,
    /// Number.
    pub number: String,
    /// Status.
    pub status: Status,
    /// Channel.
    pub channel: Channel,
    /// Received.
    pub received_at: Timestamp,
    /// Complainant name.
    pub complainant: String,
    /// Masked phone.
    pub phone: Option<String>,
    /// Masked ID number.
    pub id_number: Option<String>,
    /// Title, or the start of the narrative.
    pub title: String,
    /// Business-type code.
    pub business_type: Option<String>,
    /// Cause code.
    pub cause: Option<String>,
    /// Severity.
    pub severity: Severity,
    /// Owner department.
    pub department: String,
    /// Owner handler name.
    pub handler: Option<String>,
    /// Decision deadline.
    pub decide_by: Option<Timestamp>,
    /// Due state.
    pub due_state: DueState,
    /// Priority.
    pub priority: Priority,
}

impl From<&Complaint> for ComplaintSummary {
    fn from(c: &Complaint) -> Self {
        let title = match &c.title {
            Some(t) => t.to_string(),
            None => c.narrative.as_str().chars().take(60).collect(),
        };
        ComplaintSummary {
            id: c.id,
            number: c.number.clone(),
            status: c.status,
            channel: c.channel,
            received_at: c.received_at,
            complainant: c.complainant.name.to_string(),
            phone: c.complainant.phone.as_ref().map(|p| p.masked()),
            id_number: c.complainant.id_number.as_ref().map(|i| i.masked()),
            title,
            business_type: c.classification.business_type.as_ref().map(|l| l.code.clone()),
            cause: c.classification.cause.as_ref().map(|l| l.code.clone()),
            severity: c.classification.severity,
            department: c.owner.department.clone(),
            handler: c.owner.handler.as_ref().map(|h| h.name.clone()),
            decide_by: c.deadlines.decide_by,
            due_state: c.due_state,
            priority: c.priority,
        }
    }
}
