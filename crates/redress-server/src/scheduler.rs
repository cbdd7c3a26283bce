//! The deadline watcher: marks complaints due soon and overdue, and escalates overdue ones
//! (priority raised, the department head and the supervisors notified).
//!
//! It reads the time from the injected clock, so tests move time and call [`sweep`] directly;
//! the server runs it every interval with [`spawn`].

use std::time::Duration;

use redress_domain::complaint::{Action, Actor};
use redress_domain::deadline::DueState;
use redress_store::{Change, StoreError};
use serde::Serialize;

use crate::AppState;

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    /// Complaints looked at.
    pub examined: usize,
    /// Newly marked due soon.
    pub due_soon: usize,
    /// Newly marked overdue (and escalated).
    pub overdue: usize,
}

/// Most complaints handled per sweep; the next sweep takes the rest.
const SWEEP_LIMIT: u32 = 2_000;

/// Examines every complaint whose watched deadline is near or past and updates its due state.
pub async fn sweep(st: &AppState) -> Result<SweepReport, StoreError> {
    let now = st.clock.now();
    let horizon = st
        .rules
        .profiles
        .iter()
        .filter_map(|p| st.rules.rules(&p.id))
        .map(|r| redress_domain::complaint::due_soon_horizon(r, now))
        .max()
        .unwrap_or(now);
    let mut report = SweepReport::default();
    let actor = Actor::system();
    for candidate in st.store.due_candidates(now, horizon, SWEEP_LIMIT).await? {
        report.examined += 1;
        let rules = st.rules.rules(&candidate.profile).unwrap_or_else(|| st.rules.default_rules());
        let state = candidate.due_state_at(now, rules);
        if state == candidate.due_state || state == DueState::OnTime || state == DueState::Paused {
            continue;
        }
        let mut c = candidate.clone();
        let expected_version = c.version;
        let previous_handler = c.owner.handler.as_ref().map(|h| h.id.clone());
        let was_open = c.status.is_open();
        let Ok(mut outcome) = c.apply(Action::MarkDue { state }, &actor, now, rules) else { continue };
        if state == DueState::Overdue {
            let what = if c.status == redress_domain::lifecycle::Status::Decided { "follow-up" } else { "decision" };
            match c.apply(Action::Escalate { reason: format!("the {what} deadline has passed") }, &actor, now, rules) {
                Ok(more) => {
                    outcome.events.extend(more.events);
                    outcome.notifications.extend(more.notifications);
                }
                Err(e) => tracing::warn!(number = %c.number, error = %e, "could not escalate"),
            }
            report.overdue += 1;
        } else {
            outcome.notifications.push(redress_domain::complaint::Notification {
                role: redress_domain::org::Role::Handler,
                department: Some(c.owner.department.clone()),
                complaint_id: c.id,
                message: format!("{}: the deadline is near", c.number),
            });
            report.due_soon += 1;
        }
        match st.store.save(Change { complaint: c, expected_version, previous_handler, was_open, outcome, text: None }).await {
            Ok(()) | Err(StoreError::Conflict) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(report)
}

/// Runs [`sweep`] every `interval` in the background.
pub fn spawn(st: AppState, interval: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        loop {
            ticker.tick().await;
            match sweep(&st).await {
                Ok(r) if r.due_soon + r.overdue > 0 => tracing::info!(?r, "deadline sweep"),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "deadline sweep failed"),
            }
        }
    })
}
