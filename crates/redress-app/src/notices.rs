//! A person's notifications as the pages show them: newest first, each with the number of the
//! complaint it is about and whether the person has read it; and marking them read.
//!
//! Notifications are addressed to a role (and department), so several people receive the same
//! one; what each has read is kept per person.

use std::collections::{HashMap, HashSet};

use jiff::Timestamp;
use redress_domain::complaint::ComplaintId;

use crate::error::{AppError, AppResult};
use crate::{App, Caller, complaints};

/// The most notifications listed (and marked read at once).
pub const MAX_NOTICES: u32 = 200;

/// A notification of the caller's.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    /// Id.
    pub id: i64,
    /// When it was raised.
    pub created_at: Timestamp,
    /// The complaint it is about.
    pub complaint_id: ComplaintId,
    /// That complaint's number.
    pub number: String,
    /// Text.
    pub message: String,
    /// Whether the caller has read it.
    pub read: bool,
}

/// The caller's newest notifications (their role, their department) about complaints they may
/// see, newest first, with their read marks.
pub async fn inbox(app: &App, caller: &Caller, limit: u32) -> AppResult<Vec<Notice>> {
    if !(1..=MAX_NOTICES).contains(&limit) {
        return Err(AppError::invalid("limit", format!("limit is a number from 1 to {MAX_NOTICES}")));
    }
    let items = complaints::notifications(app, caller, limit).await?;
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = items.iter().map(|n| n.id).collect();
    let read: HashSet<i64> = app.store.read_notifications(&caller.user.id, &ids).await?.into_iter().collect();
    let mut complaint_ids: Vec<ComplaintId> = items.iter().map(|n| n.notification.complaint_id).collect();
    complaint_ids.sort_unstable();
    complaint_ids.dedup();
    let numbers: HashMap<ComplaintId, String> = app.store.complaints(&complaint_ids).await?.into_iter().map(|c| (c.id, c.number)).collect();
    Ok(items
        .into_iter()
        .map(|n| Notice {
            id: n.id,
            created_at: n.created_at,
            complaint_id: n.notification.complaint_id,
            number: numbers.get(&n.notification.complaint_id).cloned().unwrap_or_else(|| n.notification.complaint_id.to_string()),
            message: n.notification.message,
            read: read.contains(&n.id),
        })
        .collect())
}

/// Marks notifications of the caller's read; ids that are not among the caller's newest
/// [`MAX_NOTICES`] notifications are left alone. Returns how many were newly marked.
pub async fn mark_read(app: &App, caller: &Caller, ids: &[i64]) -> AppResult<usize> {
    if ids.is_empty() {
        return Ok(0);
    }
    if ids.len() > MAX_NOTICES as usize {
        return Err(AppError::invalid("id", format!("at most {MAX_NOTICES} notifications at once")));
    }
    let wanted: HashSet<i64> = ids.iter().copied().collect();
    let now = app.clock.now();
    let mut marked = 0;
    for notice in inbox(app, caller, MAX_NOTICES).await? {
        if wanted.contains(&notice.id) && !notice.read {
            app.store.mark_notification_read(&caller.user.id, notice.id, now).await?;
            marked += 1;
        }
    }
    Ok(marked)
}
