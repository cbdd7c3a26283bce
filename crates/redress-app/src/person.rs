//! The complainant profile (投诉人画像): one person across all their complaints.
//!
//! A person is matched on their identity document number, telephone and e-mail, each
//! normalised and kept only as a hash (`redress_store::columns::identity_keys`); two
//! complaints are the same person's when any of them matches. The profile is built from the
//! complaints the caller may see and from nothing else: it never tells that a person has
//! complaints outside the caller's reach.

use std::collections::BTreeMap;

use jiff::Timestamp;
use redress_analytics::cells::wire;
use redress_domain::classify::RiskKind;
use redress_domain::complaint::{Complaint, ComplaintId, CustomerType};
use redress_domain::lifecycle::Status;
use redress_store::columns::identity_keys_of;
use serde::Serialize;

use crate::analytics::PERSON_LIMIT;
use crate::error::AppResult;
use crate::policy;
use crate::{App, Caller};

/// One of the person's complaints, as the profile lists it.
#[derive(Debug, Clone, Serialize)]
pub struct PersonComplaint {
    /// Id.
    pub id: ComplaintId,
    /// Number.
    pub number: String,
    /// When received.
    pub received_at: Timestamp,
    /// Status now.
    pub status: Status,
    /// Channel wire name.
    pub channel: String,
    /// Business-type code.
    pub business_type: Option<String>,
    /// Cause code.
    pub cause: Option<String>,
    /// Emotion at intake and its intensity.
    pub emotion: Option<(String, f32)>,
    /// How its handling last ended: status and resolution kind.
    pub outcome: Option<(String, Option<String>)>,
    /// The last follow-up answer.
    pub satisfaction: Option<String>,
    /// Threats of regulator, media or court, and other risk flags.
    pub risk_flags: Vec<String>,
    /// Times reopened.
    pub reopened: u32,
    /// The agent who acted, if any.
    pub agent: Option<String>,
    /// What matched the person: `id_number`, `phone`, `email`.
    pub matched_on: Vec<&'static str>,
}

/// The profile.
#[derive(Debug, Clone, Serialize)]
pub struct PersonProfile {
    /// The complaint the profile was opened from.
    pub from: ComplaintId,
    /// The person's name on that complaint.
    pub name: String,
    /// Kind of customer on that complaint.
    pub customer_type: CustomerType,
    /// Their complaints the caller may see, newest first.
    pub complaints: Vec<PersonComplaint>,
    /// First complaint received.
    pub first: Timestamp,
    /// Last complaint received.
    pub last: Timestamp,
    /// Mean days between complaints, with two or more.
    pub mean_interval_days: Option<f64>,
    /// Complaints in the 365 days before the last.
    pub last_year: usize,
    /// By channel.
    pub channels: Vec<(String, i64)>,
    /// By business type.
    pub business_types: Vec<(String, i64)>,
    /// By cause.
    pub causes: Vec<(String, i64)>,
    /// By outcome (the status each ended in, `open` for those still open).
    pub outcomes: Vec<(String, i64)>,
    /// Decisions upheld and not upheld.
    pub upheld: (i64, i64),
    /// Follow-up answers by satisfaction.
    pub satisfaction: Vec<(String, i64)>,
    /// Escalation signals: threats of regulator, media, court; regulator referrals.
    pub escalations: Vec<(String, i64)>,
    /// Vulnerability: elderly or vulnerable customer, vulnerability flagged in the text.
    pub vulnerable: bool,
    /// Complaints carrying the wording of organised or professional complaints.
    pub organised_signals: i64,
    /// The agents who acted for them, with relationship.
    pub agents: Vec<String>,
}

fn count(map: &mut BTreeMap<String, i64>, key: impl Into<String>) {
    *map.entry(key.into()).or_default() += 1;
}

fn sorted(map: BTreeMap<String, i64>) -> Vec<(String, i64)> {
    let mut v: Vec<(String, i64)> = map.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

/// Which of `c`'s identity matches one of `keys`, by kind.
fn matched_on(c: &Complaint, keys: &[String]) -> Vec<&'static str> {
    let p = &c.complainant;
    let mut kinds = Vec::new();
    if p.id_number.is_some() {
        kinds.push("id_number");
    }
    if p.phone.is_some() {
        kinds.push("phone");
    }
    if p.email.is_some() {
        kinds.push("email");
    }
    // identity_keys_of lists keys in the order id, phone, e-mail for the fields present.
    identity_keys_of(p).into_iter().zip(kinds).filter(|(k, _)| keys.contains(k)).map(|(_, kind)| kind).collect()
}

/// The profile of the person who made a complaint the caller can see, from every complaint of
/// theirs the caller can see.
pub async fn profile(app: &App, caller: &Caller, id_or_number: &str) -> AppResult<PersonProfile> {
    let from = crate::complaints::get(app, caller, id_or_number).await?;
    profile_of(app, caller, &from).await
}

/// [`profile`] of a complaint already loaded through [`crate::complaints::get`] (so the caller
/// may see it).
pub async fn profile_of(app: &App, caller: &Caller, from: &Complaint) -> AppResult<PersonProfile> {
    let from = from.clone();
    let keys = identity_keys_of(&from.complainant);
    let org = &app.rules.org;
    let mut found = if keys.is_empty() { Vec::new() } else { app.store.complaints_by_identity(&keys, PERSON_LIMIT).await? };
    found.retain(|c| policy::can_see(caller, c, org));
    if !found.iter().any(|c| c.id == from.id) {
        found.push(from.clone());
    }
    found.sort_by(|a, b| b.received_at.cmp(&a.received_at).then_with(|| b.id.to_string().cmp(&a.id.to_string())));
    Ok(build(&from, &found, &keys))
}

/// The profile of `from`'s person over `complaints` (newest first, `from` among them).
pub fn build(from: &Complaint, complaints: &[Complaint], keys: &[String]) -> PersonProfile {
    let (mut channels, mut business_types, mut causes, mut outcomes, mut satisfaction, mut escalations) =
        (BTreeMap::new(), BTreeMap::new(), BTreeMap::new(), BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    let mut upheld = (0, 0);
    let mut vulnerable = false;
    let mut organised = 0;
    let mut agents: Vec<String> = Vec::new();
    let mut list = Vec::with_capacity(complaints.len());
    for c in complaints {
        count(&mut channels, c.channel.as_str());
        if let Some(l) = &c.classification.business_type {
            count(&mut business_types, l.code.clone());
        }
        if let Some(l) = &c.classification.cause {
            count(&mut causes, l.code.clone());
        }
        let last = c.closings.last();
        count(&mut outcomes, if c.status.is_open() && !matches!(c.status, Status::Decided) { "open".to_string() } else { last.map_or_else(|| c.status.as_str().to_string(), |l| l.status.as_str().to_string()) });
        for closing in &c.closings {
            if closing.status == Status::Decided {
                if closing.upheld() {
                    upheld.0 += 1;
                } else {
                    upheld.1 += 1;
                }
            }
            if let Some(s) = closing.satisfaction {
                count(&mut satisfaction, wire(&s));
            }
        }
        let mut flags: Vec<String> = c.classification.risk_flags.iter().map(|f| wire(&f.kind)).collect();
        flags.sort();
        flags.dedup();
        for f in &flags {
            if matches!(f.as_str(), "regulator_threat" | "media_exposure" | "lawsuit" | "group_action") {
                count(&mut escalations, f.clone());
            }
        }
        if c.regulator_order.is_some() {
            count(&mut escalations, "regulator_referral");
        }
        let kinds: Vec<RiskKind> = c.classification.risk_flags.iter().map(|f| f.kind).collect();
        if c.complainant.customer_type.is_vulnerable() || kinds.contains(&RiskKind::VulnerableCustomer) {
            vulnerable = true;
        }
        if kinds.contains(&RiskKind::OrganisedComplaintSignal) {
            organised += 1;
        }
        let agent = c.agent.as_ref().map(|a| match &a.relationship {
            Some(r) => format!("{} ({})", a.name.as_str(), r.as_str()),
            None => a.name.as_str().to_string(),
        });
        if let Some(a) = &agent
            && !agents.contains(a)
        {
            agents.push(a.clone());
        }
        list.push(PersonComplaint {
            id: c.id,
            number: c.number.clone(),
            received_at: c.received_at,
            status: c.status,
            channel: c.channel.as_str().to_string(),
            business_type: c.classification.business_type.as_ref().map(|l| l.code.clone()),
            cause: c.classification.cause.as_ref().map(|l| l.code.clone()),
            emotion: c.emotion.as_ref().map(|e| (e.kind.clone(), e.intensity)),
            outcome: last.map(|l| (l.status.as_str().to_string(), l.resolution.as_ref().map(wire))),
            satisfaction: last.and_then(|l| l.satisfaction).map(|s| wire(&s)),
            risk_flags: flags,
            reopened: c.reopen_count,
            agent,
            matched_on: if c.id == from.id { Vec::new() } else { matched_on(c, keys) },
        });
    }
    let first = complaints.iter().map(|c| c.received_at).min().unwrap_or(from.received_at);
    let last = complaints.iter().map(|c| c.received_at).max().unwrap_or(from.received_at);
    let mean_interval_days = (complaints.len() > 1).then(|| last.duration_since(first).as_secs_f64() / 86_400.0 / (complaints.len() - 1) as f64);
    let year_before_last = last.checked_sub(jiff::SignedDuration::from_hours(24 * 365)).unwrap_or(first);
    PersonProfile {
        from: from.id,
        name: from.complainant.name.as_str().to_string(),
        customer_type: from.complainant.customer_type,
        last_year: complaints.iter().filter(|c| c.received_at > year_before_last).count(),
        complaints: list,
        first,
        last,
        mean_interval_days,
        channels: sorted(channels),
        business_types: sorted(business_types),
        causes: sorted(causes),
        outcomes: sorted(outcomes),
        upheld,
        satisfaction: sorted(satisfaction),
        escalations: sorted(escalations),
        vulnerable,
        organised_signals: organised,
        agents,
    }
}
