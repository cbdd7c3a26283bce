//! The background jobs: the deadline sweep (marks complaints due soon and overdue, and
//! escalates overdue ones: priority raised, the department head and the supervisors notified)
//! and the incident detector.
//!
//! They read the time from the injected clock, so tests move time and call [`sweep`] directly;
//! a server runs them every interval with [`spawn`]. Several servers may share one database:
//! only the one holding the store's jobs lock runs them (`Store::lead_background_jobs`), and
//! another takes over when it stops. Even if two ran at once, versioned saves keep a complaint
//! from being escalated twice and incident scans are applied with their cursor.

use std::time::Duration;

use redress_domain::complaint::{Action, Actor};
use redress_domain::deadline::DueState;
use redress_store::{Change, StoreError};
use serde::Serialize;

use crate::App;
use crate::intelligence::{DetectReport, IncidentRules, detect_incidents};

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
pub async fn sweep(st: &App) -> Result<SweepReport, StoreError> {
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
            match c.apply(Action::Escalate { reason: redress_domain::fields::EscalationReason::deadline_passed(c.status) }, &actor, now, rules) {
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
        // A follow-up notice carries the customer's survey link, as one sent by a person does.
        if let Err(e) = crate::customer::add_survey_links(st, &c, &mut outcome.messages).await {
            tracing::warn!(number = %c.number, error = %e, "could not add the survey link");
        }
        let stats = crate::analytics::stats_change(&candidate, &c, rules);
        match st.store.save(Change { complaint: c, expected_version, previous_handler, was_open, outcome, text: None, attachment: None, consumed_link: None, stats }).await {
            Ok(()) | Err(StoreError::Conflict) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(report)
}

/// How often each background job runs.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    /// Deadline sweep interval.
    pub sweep_every: Duration,
    /// Incident detection interval.
    pub detect_every: Duration,
    /// Hotspot scan interval (alerts to the supervisors).
    pub alert_every: Duration,
}

/// Runs the background jobs on this server whenever it holds the store's jobs lock; asks
/// again at every tick, so a server takes over within one interval when the holder stops.
pub fn spawn(app: App, schedule: Schedule) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut sweep_tick = tokio::time::interval(schedule.sweep_every);
        let mut detect_tick = tokio::time::interval(schedule.detect_every);
        let mut alert_tick = tokio::time::interval(schedule.alert_every);
        loop {
            let job = tokio::select! {
                _ = sweep_tick.tick() => Job::Sweep,
                _ = detect_tick.tick() => Job::Detect,
                _ = alert_tick.tick() => Job::Alert,
            };
            match app.store.lead_background_jobs().await {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "could not learn whether this server runs the background jobs");
                    continue;
                }
            }
            match job {
                Job::Sweep => match sweep(&app).await {
                    Ok(r) if r.due_soon + r.overdue > 0 => tracing::info!(?r, "deadline sweep"),
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "deadline sweep failed"),
                },
                Job::Detect => match detect(&app).await {
                    Ok(r) if r.created > 0 || r.joined > 0 => tracing::info!(?r, "incident detection"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "incident detection failed"),
                },
                Job::Alert => match alert_hotspots(&app).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(alerts = n, "hotspot alerts sent"),
                    Err(e) => tracing::warn!(error = %e, "hotspot scan failed"),
                },
            }
        }
    })
}

/// The jobs of the background loop.
enum Job {
    Sweep,
    Detect,
    Alert,
}

/// Scans the whole institution for hotspots and tells the consumer-protection supervisors of
/// each new alert once (a rise is one alert per combination and week, however many servers
/// scan); returns how many alerts were new.
pub async fn alert_hotspots(app: &App) -> Result<usize, crate::AppError> {
    let scan = crate::hotspots::scan(app, &crate::Caller::system(), &crate::hotspots::HotspotParams::default()).await?;
    let mut sent = 0;
    for item in scan.items.iter().filter(|i| i.hotspot.alert) {
        let Some(example) = item.examples.first() else { continue };
        let h = &item.hotspot;
        let message = format!(
            "hotspot: {} — {} complaints in the week to {} against {:.1} expected (×{:.1}, statistic {:.1})",
            h.key.iter().map(|k| if k.is_empty() { "-" } else { k.as_str() }).collect::<Vec<_>>().join(" × "),
            h.window_count,
            scan.window.to,
            h.baseline_expected,
            h.ratio,
            h.statistic
        );
        let notification = redress_domain::complaint::Notification { role: redress_domain::org::Role::Supervisor, department: None, complaint_id: example.id, message };
        let once = format!("hotspot|{}|{}", h.key.join("|"), scan.window.to);
        if app.store.notify_once(&once, &[notification], app.clock.now()).await? {
            sent += 1;
        }
    }
    Ok(sent)
}

/// One pass of the incident detector over the complaints registered since the last one.
pub async fn detect(app: &App) -> Result<DetectReport, StoreError> {
    detect_incidents(&*app.store, IncidentRules::default(), app.clock.now()).await
}
