//! The complainant profile (投诉人画像): the person behind a complaint across their complaints
//! the signed-in person may see. Contact details are never shown here.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use redress_app::App;
use redress_app::person::{self, PersonProfile};
use redress_domain::classify::Dimension;

use crate::chart::{self, Level, Svg};
use crate::error::PageError;
use crate::page::Page;
use crate::pages::render;
use crate::session::Staff;
use crate::show::taxonomy_name;

/// One of the person's complaints as listed.
#[derive(Debug, Clone)]
pub struct PersonRow {
    /// Number.
    pub number: String,
    /// Received, local.
    pub received: String,
    /// Status wire name.
    pub status: String,
    /// Channel.
    pub channel: String,
    /// Business type with its name.
    pub business_type: String,
    /// Emotion at intake with its intensity.
    pub emotion: String,
    /// How it ended (status, resolution).
    pub outcome: String,
    /// The last follow-up answer.
    pub satisfaction: String,
    /// Risk flags.
    pub risk_flags: Vec<String>,
    /// Times reopened.
    pub reopened: u32,
    /// What matched the person, or nothing for the complaint the profile was opened from.
    pub matched_on: Vec<String>,
    /// The complaint the profile was opened from.
    pub is_from: bool,
}

/// The complainant profile page.
#[derive(Template)]
#[template(path = "staff/person.html")]
pub struct PersonPage {
    /// Common page parts.
    pub p: Page,
    /// The complaint the profile was opened from.
    pub number: String,
    /// The profile.
    pub profile: PersonProfile,
    /// Customer type, named.
    pub customer_type: String,
    /// First and last complaint, local days.
    pub first: String,
    /// Last complaint.
    pub last: String,
    /// Mean days between complaints.
    pub mean_interval: String,
    /// Counts by channel, named.
    pub channels: Vec<(String, i64)>,
    /// By business type.
    pub business_types: Vec<(String, i64)>,
    /// By cause.
    pub causes: Vec<(String, i64)>,
    /// By outcome.
    pub outcomes: Vec<(String, i64)>,
    /// By follow-up answer.
    pub satisfaction: Vec<(String, i64)>,
    /// Escalation signals.
    pub escalations: Vec<(String, i64)>,
    /// Their complaints, newest first.
    pub rows: Vec<PersonRow>,
    /// Emotion intensity by date, oldest first.
    pub chart: Svg,
}

impl PersonPage {
    /// The counts by kind, with the catalog key of each kind's name.
    pub fn patterns(&self) -> [(&'static str, &[(String, i64)]); 6] {
        [
            ("person.channels", &self.channels),
            ("person.business_types", &self.business_types),
            ("person.causes", &self.causes),
            ("person.outcomes", &self.outcomes),
            ("person.satisfaction", &self.satisfaction),
            ("person.escalations", &self.escalations),
        ]
    }
}

fn named(list: &[(String, i64)], name: impl Fn(&str) -> String) -> Vec<(String, i64)> {
    list.iter().map(|(k, n)| (name(k), *n)).collect()
}

/// Builds the page of a profile.
pub fn page(app: &App, p: Page, number: String, profile: PersonProfile) -> PersonPage {
    let lang = p.lang;
    let taxonomy = |d: Dimension| move |code: &str| taxonomy_name(app, lang, d, code);
    let outcome_name = |k: &str| if k == "open" { p.t("person.open").to_string() } else { p.label("status", k) };
    let escalation_name = |k: &str| if k == "regulator_referral" { p.t("person.regulator_referral").to_string() } else { p.label("risk", k) };
    let matched = |k: &str| match k {
        "id_number" => p.t("person.matched_id_number").to_string(),
        "phone" => p.t("person.matched_phone").to_string(),
        "email" => p.t("person.matched_email").to_string(),
        other => other.to_string(),
    };
    let rows = profile
        .complaints
        .iter()
        .map(|c| PersonRow {
            number: c.number.clone(),
            received: p.time(&c.received_at),
            status: c.status.as_str().to_string(),
            channel: p.label("channel", &c.channel),
            business_type: c.business_type.as_deref().map(taxonomy(Dimension::BusinessType)).unwrap_or_default(),
            emotion: c.emotion.as_ref().map(|(k, i)| format!("{} {:.0}%", p.label("emotion", k), f64::from(*i) * 100.0)).unwrap_or_default(),
            outcome: c
                .outcome
                .as_ref()
                .map(|(status, resolution)| match resolution {
                    Some(r) => format!("{} · {}", p.label("status", status), p.label("resolution", r)),
                    None => p.label("status", status),
                })
                .unwrap_or_default(),
            satisfaction: c.satisfaction.as_deref().map(|s| p.label("satisfaction", s)).unwrap_or_default(),
            risk_flags: c.risk_flags.iter().map(|f| p.label("risk", f)).collect(),
            reopened: c.reopened,
            matched_on: c.matched_on.iter().map(|k| matched(k)).collect(),
            is_from: c.id == profile.from,
        })
        .collect();
    let points: Vec<Level> = profile
        .complaints
        .iter()
        .rev()
        .filter_map(|c| {
            let (kind, intensity) = c.emotion.as_ref()?;
            let day = p.date(&c.received_at);
            Some(Level { tooltip: format!("{} · {day}: {} {:.0}%", c.number, p.label("emotion", kind), f64::from(*intensity) * 100.0), label: day, value: f64::from(*intensity) })
        })
        .collect();
    let chart = chart::level_chart(p.t("person.intensity_chart"), &points, p.t("person.no_emotion"));
    PersonPage {
        customer_type: p.enum_label("customer_type", &profile.customer_type),
        first: p.date(&profile.first),
        last: p.date(&profile.last),
        mean_interval: profile.mean_interval_days.map_or_else(|| "—".to_string(), |d| format!("{d:.1}")),
        channels: named(&profile.channels, |k| p.label("channel", k)),
        business_types: named(&profile.business_types, taxonomy(Dimension::BusinessType)),
        causes: named(&profile.causes, taxonomy(Dimension::Cause)),
        outcomes: named(&profile.outcomes, outcome_name),
        satisfaction: named(&profile.satisfaction, |k| p.label("satisfaction", k)),
        escalations: named(&profile.escalations, escalation_name),
        rows,
        chart,
        number,
        profile,
        p,
    }
}

/// Shows the profile of the person who made a complaint.
pub async fn show(State(app): State<App>, staff: Staff, Path(number): Path<String>) -> Result<Response, PageError> {
    let profile = person::profile(&app, &staff.caller, &number).await?;
    let p = Page::staff(&app, &staff, "person.title", "work");
    let number = profile.complaints.iter().find(|c| c.id == profile.from).map_or(number, |c| c.number.clone());
    render(&page(&app, p, number, profile))
}

