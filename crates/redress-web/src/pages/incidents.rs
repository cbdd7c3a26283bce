//! Incidents: clusters of look-alike complaints found by the incident detector, with their
//! members and a chart of arrivals per day.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use redress_app::text::{self, IncidentComplaint, IncidentView};
use redress_app::{App, ErrorKind};

use crate::chart::{self, Bar, Svg};
use crate::error::PageError;
use crate::page::Page;
use crate::pages::render;
use crate::session::Staff;

/// Incidents listed.
pub const LIST_LIMIT: u32 = 50;
/// Most days the chart shows (the latest ones).
pub const MAX_CHART_DAYS: usize = 92;

/// The routes of these pages.
pub fn routes() -> Router<App> {
    Router::new()
        .route("/incidents", get(list))
        .route("/incidents/{id}", get(show))
        .route("/incidents/{id}/follow-up", axum::routing::post(follow_up_all))
}

/// An incident as listed.
#[derive(Debug, Clone)]
pub struct IncidentRow {
    /// The incident.
    pub incident: IncidentView,
    /// Names of the departments owning the members the person may see.
    pub departments: Vec<String>,
}

/// The list of incidents.
#[derive(Template)]
#[template(path = "staff/incidents.html")]
pub struct IncidentsPage {
    /// Common page parts.
    pub p: Page,
    /// Incidents, most recently active first.
    pub rows: Vec<IncidentRow>,
}

/// One incident.
#[derive(Template)]
#[template(path = "staff/incident.html")]
pub struct IncidentPage {
    /// Common page parts.
    pub p: Page,
    /// The incident.
    pub incident: IncidentView,
    /// Members the person may see, newest first.
    pub members: Vec<IncidentComplaint>,
    /// Their departments' names, by code.
    pub department_names: BTreeMap<String, String>,
    /// Complaints per day.
    pub chart: Svg,
    /// The days of the chart with their counts, for a table beside it.
    pub per_day: Vec<(String, u64)>,
    /// Members waiting for their follow-up call (decided).
    pub waiting_follow_up: usize,
    /// What the last batch follow-up did.
    pub batch: Option<redress_app::work::BatchFollowUp>,
}

impl IncidentPage {
    /// A department's name.
    pub fn department(&self, code: &str) -> String {
        self.department_names.get(code).cloned().unwrap_or_else(|| code.to_string())
    }

    /// A similarity as a percentage.
    pub fn percent(&self, v: &f32) -> String {
        format!("{:.0}%", f64::from(*v) * 100.0)
    }

    /// Whether some members are not listed (the person may not see them).
    pub fn some_hidden(&self) -> bool {
        self.members.len() as u64 != self.incident.members
    }
}

/// Members per local day, every day from the first to the last (the latest `max_days` of them).
pub fn per_day(members: &[IncidentComplaint], tz: &jiff::tz::TimeZone, max_days: usize) -> Vec<(jiff::civil::Date, u64)> {
    let mut counts: BTreeMap<jiff::civil::Date, u64> = BTreeMap::new();
    for m in members {
        *counts.entry(m.received_at.to_zoned(tz.clone()).date()).or_default() += 1;
    }
    let (Some((&first, _)), Some((&last, _))) = (counts.first_key_value(), counts.last_key_value()) else { return Vec::new() };
    let mut days = Vec::new();
    let mut day = last;
    while day >= first && days.len() < max_days {
        days.push((day, counts.get(&day).copied().unwrap_or(0)));
        match day.yesterday() {
            Ok(d) => day = d,
            Err(_) => break,
        }
    }
    days.reverse();
    days
}

/// Lists the incidents the person may see.
pub async fn list(State(app): State<App>, staff: Staff) -> Result<Response, PageError> {
    let p = Page::staff(&app, &staff, "incidents.title", "incidents");
    let incidents = text::incidents(&app, &staff.caller, None, LIST_LIMIT).await?;
    let mut rows = Vec::with_capacity(incidents.len());
    for incident in incidents {
        // The departments of the members this person may see (the same rule as the incident page).
        let mut codes: Vec<String> = match text::incident(&app, &staff.caller, &incident.id).await {
            Ok((_, members)) => members.into_iter().map(|m| m.department).collect(),
            Err(e) if e.kind == ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        codes.sort();
        codes.dedup();
        let departments = codes.iter().map(|c| p.department_name(&app.rules.org, c)).collect();
        rows.push(IncidentRow { incident, departments });
    }
    render(&IncidentsPage { p, rows })
}

/// Shows one incident.
pub async fn show(State(app): State<App>, staff: Staff, Path(id): Path<String>) -> Result<Response, PageError> {
    render(&incident_page(&app, &staff, &id, None).await?)
}

/// Records one follow-up outcome for every member waiting for its call, and shows what it did.
pub async fn follow_up_all(State(app): State<App>, staff: Staff, Path(id): Path<String>, form: crate::form::FormData) -> Result<Response, PageError> {
    staff.check_csrf(form.csrf())?;
    let satisfaction: redress_domain::complaint::Satisfaction = serde_json::from_value(serde_json::json!(form.text("satisfaction")))
        .map_err(|_| redress_app::AppError::invalid("satisfaction", "choose satisfied, basically satisfied or dissatisfied"))?;
    let comments = form.get("comments").map(|c| redress_domain::fields::LongText::parse("comments", c)).transpose().map_err(redress_app::AppError::from)?;
    let batch = redress_app::work::follow_up_incident(&app, &staff.caller, &id, satisfaction, comments).await?;
    render(&incident_page(&app, &staff, &id, Some(batch)).await?)
}

async fn incident_page(app: &App, staff: &Staff, id: &str, batch: Option<redress_app::work::BatchFollowUp>) -> Result<IncidentPage, PageError> {
    let (incident, members) = text::incident(app, &staff.caller, id).await?;
    let p = Page::staff(app, staff, "incidents.one_title", "incidents");
    let department_names = members.iter().map(|m| (m.department.clone(), p.department_name(&app.rules.org, &m.department))).collect();
    let days = per_day(&members, &p.tz, MAX_CHART_DAYS);
    let bars: Vec<Bar> = days
        .iter()
        .map(|(d, n)| Bar { label: d.strftime("%m-%d").to_string(), value: *n, tooltip: format!("{}: {n}", d.strftime("%Y-%m-%d")) })
        .collect();
    let chart = chart::bar_chart(p.t("incidents.chart_label"), &bars, p.t("incidents.chart_empty"));
    let per_day = days.into_iter().map(|(d, n)| (d.strftime("%Y-%m-%d").to_string(), n)).collect();
    let waiting_follow_up = members.iter().filter(|m| m.status == redress_domain::lifecycle::Status::Decided).count();
    Ok(IncidentPage { p, incident, members, department_names, chart, per_day, waiting_follow_up, batch })
}

#[cfg(test)]
mod tests {
    use super::*;
    use redress_domain::complaint::ComplaintId;
    use redress_domain::lifecycle::Status;

    fn member(at: &str) -> IncidentComplaint {
        let received_at: jiff::Timestamp = at.parse().expect("a time");
        IncidentComplaint {
            id: ComplaintId::generate(received_at),
            number: "X".into(),
            status: Status::ALL[0],
            received_at,
            department: "SH-CARD".into(),
            similarity: 0.9,
            title: None,
        }
    }

    #[test]
    fn members_are_counted_per_local_day_with_the_quiet_days_in_between() {
        let tz = jiff::tz::TimeZone::fixed(jiff::tz::offset(8));
        // 23:30 UTC on the 19th is the 20th in Shanghai.
        let members = [member("2025-01-19T23:30:00Z"), member("2025-01-20T02:00:00Z"), member("2025-01-22T02:00:00Z")];
        let days: Vec<(String, u64)> = per_day(&members, &tz, 92).into_iter().map(|(d, n)| (d.to_string(), n)).collect();
        assert_eq!(days, vec![("2025-01-20".to_string(), 2), ("2025-01-21".to_string(), 0), ("2025-01-22".to_string(), 1)]);
        assert_eq!(per_day(&members, &tz, 2).len(), 2, "only the latest days");
        assert!(per_day(&[], &tz, 92).is_empty());
    }
}
