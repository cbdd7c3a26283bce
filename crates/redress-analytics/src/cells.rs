//! What one complaint contributes to the statistics.
//!
//! A [`Cell`] is a count (and a sum) under a key: the measure, the local day, the department,
//! the handler where the measure is about one, the complaint's channel, business type, cause,
//! severity and product, and a value the measure is broken down by (an emotion, a currency, a
//! number of days…). [`cells_of`] is a pure function of the complaint record, so:
//!
//! - the store keeps the sum of every complaint's cells current by adding
//!   `cells_of(after) − cells_of(before)` ([`difference`]) in the same transaction as the
//!   complaint (intake adds `cells_of(new)`);
//! - a recount is the sum of `cells_of` over every stored complaint, and must equal the
//!   stored cells exactly (the conformance tests check it on both engines).
//!
//! Received-side measures are dated by the day the complaint arrived and follow its current
//! record (a transfer moves them to the new department). Closing-side measures are dated by the
//! day each closing happened and keep the department, handler, business type and cause of that
//! moment ([`Closing`]); a complaint reopened later keeps its earlier closings, so a past
//! period does not change.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use redress_domain::complaint::{Closing, Complaint, Priority};
use redress_domain::fields::Money;
use redress_domain::lifecycle::Status;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;

/// What a cell counts. The names are stored, so they never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Complaints received (value empty).
    Received,
    /// Received, by local weekday (1 = Monday) and hour: value `"3-14"`.
    ReceivedHour,
    /// Received, by the complaint's current status.
    CurrentStatus,
    /// Received, by the organisation unit the complaint arose at (value: the unit code).
    RespondentUnit,
    /// Received, by kind of complainant (individual, elderly, vulnerable…).
    ComplainantType,
    /// Received, by whether an agent acts for the complainant: `with_agent` or `without_agent`.
    Agent,
    /// Received, by the emotion read at intake (`unknown` when none was read).
    Emotion,
    /// Received, by the intensity of that emotion: `low`, `medium`, `high` or `unknown`.
    Intensity,
    /// Received, once per risk kind flagged (value: the kind).
    RiskFlag,
    /// Received, once per respondent staff member named (value: the name as written).
    RespondentStaff,
    /// Received, once per keyword read from the text at intake (value: the word).
    Keyword,
    /// Amount in dispute: value the currency, total in hundredths.
    Disputed,
    /// Received, by band of the amount in dispute (`none`, `<1k`, `1k-10k`, `10k-100k`, `>=100k`).
    DisputedBand,
    /// Forwarded by a regulator (value: the regulator).
    RegulatorReferral,
    /// A repeat complaint: the same person's earlier complaint had ended within the repeat
    /// window. Department and handler are those who closed the earlier one.
    Repeat,
    /// Closings, by the status ended in (`decided`, `declined`, `withdrawn`, `merged`).
    Closed,
    /// Closings, by whether they were within the deadline: `yes` or `no`.
    ClosedOnTime,
    /// Decisions, by resolution kind.
    Resolution,
    /// Decisions, by whether upheld (the complainant got a remedy): `yes` or `no`.
    Upheld,
    /// Money refunded, paid or waived at a decision: value the currency, total in hundredths.
    Redress,
    /// Closings, by handling time in the profile's days: value the number of days, total the
    /// days (so a mean and the exact median are both at hand).
    HandlingDays,
    /// Closings, by the FCA's time bands: `3_business_days`, `8_weeks`, `over_8_weeks`.
    ClosedWithin,
    /// Closings that were later reopened (dissatisfied follow-up, reopening).
    Reopened,
    /// Closings of escalated complaints, once each: value the first reason of
    /// `overdue_escalation` (priority raised after intake), `regulator_threat`,
    /// `media_exposure`, `lawsuit`.
    Escalated,
    /// Closings of complaints a regulator referred.
    ClosedReferral,
    /// Follow-up answers, dated by the follow-up: value the satisfaction.
    FollowUp,
}

impl Measure {
    /// Every measure, in a fixed order.
    pub const ALL: [Measure; 26] = [
        Measure::Received,
        Measure::ReceivedHour,
        Measure::CurrentStatus,
        Measure::RespondentUnit,
        Measure::ComplainantType,
        Measure::Agent,
        Measure::Emotion,
        Measure::Intensity,
        Measure::RiskFlag,
        Measure::RespondentStaff,
        Measure::Keyword,
        Measure::Disputed,
        Measure::DisputedBand,
        Measure::RegulatorReferral,
        Measure::Repeat,
        Measure::Closed,
        Measure::ClosedOnTime,
        Measure::Resolution,
        Measure::Upheld,
        Measure::Redress,
        Measure::HandlingDays,
        Measure::ClosedWithin,
        Measure::Reopened,
        Measure::Escalated,
        Measure::ClosedReferral,
        Measure::FollowUp,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Measure::Received => "received",
            Measure::ReceivedHour => "received_hour",
            Measure::CurrentStatus => "current_status",
            Measure::RespondentUnit => "respondent_unit",
            Measure::ComplainantType => "complainant_type",
            Measure::Agent => "agent",
            Measure::Emotion => "emotion",
            Measure::Intensity => "intensity",
            Measure::RiskFlag => "risk_flag",
            Measure::RespondentStaff => "respondent_staff",
            Measure::Keyword => "keyword",
            Measure::Disputed => "disputed",
            Measure::DisputedBand => "disputed_band",
            Measure::RegulatorReferral => "regulator_referral",
            Measure::Repeat => "repeat",
            Measure::Closed => "closed",
            Measure::ClosedOnTime => "closed_on_time",
            Measure::Resolution => "resolution",
            Measure::Upheld => "upheld",
            Measure::Redress => "redress",
            Measure::HandlingDays => "handling_days",
            Measure::ClosedWithin => "closed_within",
            Measure::Reopened => "reopened",
            Measure::Escalated => "escalated",
            Measure::ClosedReferral => "closed_referral",
            Measure::FollowUp => "follow_up",
        }
    }

    /// Whether the measure's cells carry the handler (closing-side measures, follow-ups,
    /// repeats); the others always have an empty handler.
    pub fn per_handler(self) -> bool {
        matches!(
            self,
            Measure::Repeat
                | Measure::Closed
                | Measure::ClosedOnTime
                | Measure::Resolution
                | Measure::Upheld
                | Measure::Redress
                | Measure::HandlingDays
                | Measure::ClosedWithin
                | Measure::Reopened
                | Measure::Escalated
                | Measure::ClosedReferral
                | Measure::FollowUp
        )
    }

    /// Reads a stored name.
    pub fn parse(name: &str) -> Option<Measure> {
        Measure::ALL.into_iter().find(|m| m.as_str() == name)
    }
}

/// Where a count belongs. Text dimensions are empty when the complaint has no value there.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CellKey {
    /// What is counted.
    pub measure: Measure,
    /// Local day, as days since 1970-01-01 ([`day_number`]).
    pub day: i32,
    /// Owner department.
    pub department: String,
    /// Handler id, for closing-side measures; empty otherwise.
    pub handler: String,
    /// Channel wire name.
    pub channel: String,
    /// Business-type code.
    pub business_type: String,
    /// Cause code.
    pub cause: String,
    /// Severity wire name.
    pub severity: String,
    /// Product, as named (trimmed, at most [`PRODUCT_CHARS`] characters).
    pub product: String,
    /// The measure's own breakdown.
    pub value: String,
}

/// The most characters of a product name a cell keeps.
pub const PRODUCT_CHARS: usize = 80;

/// A count and a sum under a key. In a difference both may be negative.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cell {
    /// Where.
    pub key: CellKey,
    /// How many.
    pub n: i64,
    /// The measure's sum (hundredths of money, days), 0 where it has none.
    pub total: i64,
}

/// Days since 1970-01-01 of a date.
pub fn day_number(date: Date) -> i32 {
    let epoch = Date::constant(1970, 1, 1);
    // A span of days between two dates jiff represents always fits.
    date.since(epoch).map(|s| s.get_days()).unwrap_or(0)
}

/// The date of a day number.
pub fn day_date(day: i32) -> Date {
    Date::constant(1970, 1, 1).checked_add(i64::from(day).days()).unwrap_or(Date::MAX)
}

/// The local day number of an instant.
pub fn local_day(at: Timestamp, tz: &TimeZone) -> i32 {
    day_number(at.to_zoned(tz.clone()).date())
}

/// Hundredths of an amount, rounded half away from zero; saturates far beyond any real sum.
pub fn hundredths(amount: Decimal) -> i64 {
    (amount * Decimal::ONE_HUNDRED).round().to_i64().unwrap_or(i64::MAX)
}

/// The band of an amount in dispute.
pub fn disputed_band(money: Option<&Money>) -> &'static str {
    let Some(m) = money else { return "none" };
    let thousand = Decimal::from(1000);
    if m.amount < thousand {
        "<1k"
    } else if m.amount < thousand * Decimal::from(10) {
        "1k-10k"
    } else if m.amount < thousand * Decimal::from(100) {
        "10k-100k"
    } else {
        ">=100k"
    }
}

/// The intensity band of an emotion's intensity.
pub fn intensity_band(intensity: f32) -> &'static str {
    if intensity < 0.34 {
        "low"
    } else if intensity < 0.67 {
        "medium"
    } else {
        "high"
    }
}

/// The FCA time band of a closing: by the close of the third business day after receipt,
/// else within eight weeks, else later.
pub fn fca_band(closing: &Closing) -> &'static str {
    if closing.working_days <= 3 {
        "3_business_days"
    } else if closing.calendar_days <= 56 {
        "8_weeks"
    } else {
        "over_8_weeks"
    }
}

/// The serde wire name of a unit enum (statuses, severities, kinds).
pub fn wire<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// A product name as cells keep it.
pub fn product_key(product: Option<&str>) -> String {
    product.map(|p| p.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(PRODUCT_CHARS).collect()).unwrap_or_default()
}

/// Everything `complaint` contributes to the statistics, with local days in `tz` (the zone of
/// the complaint's rule profile).
pub fn cells_of(complaint: &Complaint, tz: &TimeZone) -> Vec<Cell> {
    let c = complaint;
    let received = c.received_at.to_zoned(tz.clone());
    let base = CellKey {
        measure: Measure::Received,
        day: day_number(received.date()),
        department: c.owner.department.clone(),
        handler: String::new(),
        channel: c.channel.as_str().to_string(),
        business_type: c.classification.business_type.as_ref().map(|l| l.code.clone()).unwrap_or_default(),
        cause: c.classification.cause.as_ref().map(|l| l.code.clone()).unwrap_or_default(),
        severity: wire(&c.classification.severity),
        product: product_key(c.product.as_ref().map(|p| p.as_str())),
        value: String::new(),
    };
    let mut out = Vec::with_capacity(16);
    let mut push = |key: &CellKey, measure: Measure, value: String, total: i64| {
        out.push(Cell { key: CellKey { measure, value, ..key.clone() }, n: 1, total });
    };
    push(&base, Measure::Received, String::new(), 0);
    push(&base, Measure::ReceivedHour, format!("{}-{}", received.weekday().to_monday_one_offset(), received.hour()), 0);
    push(&base, Measure::CurrentStatus, c.status.as_str().to_string(), 0);
    push(&base, Measure::RespondentUnit, c.respondent.unit.clone(), 0);
    push(&base, Measure::ComplainantType, c.complainant.customer_type.as_str().to_string(), 0);
    push(&base, Measure::Agent, if c.agent.is_some() { "with_agent" } else { "without_agent" }.to_string(), 0);
    match &c.emotion {
        Some(e) => {
            push(&base, Measure::Emotion, e.kind.clone(), 0);
            push(&base, Measure::Intensity, intensity_band(e.intensity).to_string(), 0);
        }
        None => {
            push(&base, Measure::Emotion, "unknown".to_string(), 0);
            push(&base, Measure::Intensity, "unknown".to_string(), 0);
        }
    }
    let mut kinds: Vec<String> = c.classification.risk_flags.iter().map(|f| wire(&f.kind)).collect();
    kinds.sort();
    kinds.dedup();
    for kind in &kinds {
        push(&base, Measure::RiskFlag, kind.clone(), 0);
    }
    let mut staff: Vec<String> = c.respondent.staff.iter().map(|s| product_key(Some(s.as_str()))).filter(|s| !s.is_empty()).collect();
    staff.sort();
    staff.dedup();
    for name in staff {
        push(&base, Measure::RespondentStaff, name, 0);
    }
    let mut words: Vec<String> = c.keywords.iter().map(|w| product_key(Some(w))).filter(|w| !w.is_empty()).collect();
    words.sort();
    words.dedup();
    for word in words {
        push(&base, Measure::Keyword, word, 0);
    }
    if let Some(m) = &c.amount {
        push(&base, Measure::Disputed, wire(&m.currency), hundredths(m.amount));
    }
    push(&base, Measure::DisputedBand, disputed_band(c.amount.as_ref()).to_string(), 0);
    if let Some(order) = &c.regulator_order {
        push(&base, Measure::RegulatorReferral, product_key(Some(order.regulator.as_str())), 0);
    }
    if let Some(r) = &c.repeat_of {
        let key = CellKey { department: r.department.clone(), handler: r.handler.as_ref().map(|h| h.id.clone()).unwrap_or_default(), ..base.clone() };
        push(&key, Measure::Repeat, String::new(), 0);
    }
    let escalation = escalation_of(c, &kinds);
    for (i, closing) in c.closings.iter().enumerate() {
        let reopened = i + 1 < c.closings.len() || c.status.is_being_handled();
        let key = CellKey {
            day: local_day(closing.at, tz),
            department: closing.department.clone(),
            handler: closing.handler.as_ref().map(|h| h.id.clone()).unwrap_or_default(),
            business_type: closing.business_type.clone().unwrap_or_default(),
            cause: closing.cause.clone().unwrap_or_default(),
            ..base.clone()
        };
        push(&key, Measure::Closed, closing.status.as_str().to_string(), 0);
        push(&key, Measure::ClosedOnTime, yes_no(closing.on_time), 0);
        push(&key, Measure::HandlingDays, closing.handling_days.to_string(), i64::from(closing.handling_days));
        push(&key, Measure::ClosedWithin, fca_band(closing).to_string(), 0);
        if closing.status == Status::Decided {
            push(&key, Measure::Resolution, closing.resolution.as_ref().map(wire).unwrap_or_else(|| "none".into()), 0);
            push(&key, Measure::Upheld, yes_no(closing.upheld()), 0);
        }
        if let Some(m) = &closing.redress {
            push(&key, Measure::Redress, wire(&m.currency), hundredths(m.amount));
        }
        if reopened {
            push(&key, Measure::Reopened, String::new(), 0);
        }
        if let Some(reason) = escalation {
            push(&key, Measure::Escalated, reason.to_string(), 0);
        }
        if c.regulator_order.is_some() {
            push(&key, Measure::ClosedReferral, String::new(), 0);
        }
        if let (Some(s), Some(at)) = (closing.satisfaction, closing.followed_up_at) {
            push(&CellKey { day: local_day(at, tz), ..key.clone() }, Measure::FollowUp, wire(&s), 0);
        }
    }
    out
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}

/// Why a complaint counts as escalated on a scorecard, the first of: priority raised after
/// intake (overdue escalation or dissatisfaction), threats of regulator, media or court.
fn escalation_of(c: &Complaint, kinds: &[String]) -> Option<&'static str> {
    let started_high = c.classification.severity >= redress_domain::classify::Severity::High;
    if c.priority == Priority::Urgent || (c.priority == Priority::High && !started_high) {
        return Some("overdue_escalation");
    }
    ["regulator_threat", "media_exposure", "lawsuit"].into_iter().find(|k| kinds.iter().any(|x| x == k))
}

/// A row of the daily rollup: a cell with the complaint dimensions folded away, kept beside
/// the cells so that the common questions (by department, handler, day and the measure's own
/// breakdown, or received complaints by one dimension) read a few rows per department and day
/// instead of one per combination.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DailyKey {
    /// The measure.
    pub measure: Measure,
    /// Local day number.
    pub day: i32,
    /// Department.
    pub department: String,
    /// Handler.
    pub handler: String,
    /// What `key` holds: `value` (the measure's breakdown, handler folded), [`BY_HANDLER`] (the
    /// same by handler), [`BY_BUSINESS_TYPE`], or for received complaints one of
    /// [`RECEIVED_GROUPINGS`], [`BUSINESS_CAUSE`], [`BUSINESS_CHANNEL`], [`BUSINESS_SEVERITY`],
    /// [`BUSINESS_PRODUCT`], [`FCA`].
    pub breakdown: &'static str,
    /// The breakdown's value.
    pub key: String,
}

/// The dimensions received complaints are also rolled up by.
pub const RECEIVED_GROUPINGS: [&str; 5] = ["business_type", "cause", "channel", "severity", "product"];

/// The rollup rows a cell adds to: its measure's breakdown, and for received complaints each
/// dimension of [`RECEIVED_GROUPINGS`].
pub fn daily_of(key: &CellKey) -> Vec<DailyKey> {
    let row = |breakdown: &'static str, value: &str| DailyKey {
        measure: key.measure,
        day: key.day,
        department: key.department.clone(),
        handler: key.handler.clone(),
        breakdown,
        key: value.to_string(),
    };
    // The measure's breakdown with the handler folded (most questions do not ask by
    // handler), and for measures that carry one, also by handler.
    let mut out = vec![DailyKey { handler: String::new(), ..row("value", &key.value) }];
    if key.measure.per_handler() {
        out.push(row(BY_HANDLER, &key.value));
    }
    if key.measure == Measure::Received {
        for (breakdown, value) in RECEIVED_GROUPINGS.into_iter().zip([&key.business_type, &key.cause, &key.channel, &key.severity, &key.product]) {
            out.push(row(breakdown, value));
        }
        out.push(row(BUSINESS_CAUSE, &[key.business_type.as_str(), &key.cause].join(SEPARATOR)));
    }
    if FCA_MEASURES.contains(&key.measure) {
        let parts = [key.business_type.as_str(), &key.cause, &key.product, &key.value].join(SEPARATOR);
        out.push(DailyKey { handler: String::new(), ..row(FCA, &parts) });
    }
    // By business type, for the questions filtered by one (a product line looking at its own
    // complaints): every measure's breakdown, and received complaints by the dimensions an
    // analysis breaks them down by (cause is in `BUSINESS_CAUSE`).
    let business = |part: &str| [key.business_type.as_str(), part].join(SEPARATOR);
    out.push(DailyKey { handler: String::new(), ..row(BY_BUSINESS_TYPE, &business(&key.value)) });
    if key.measure == Measure::Received {
        for (breakdown, part) in [(BUSINESS_CHANNEL, &key.channel), (BUSINESS_SEVERITY, &key.severity), (BUSINESS_PRODUCT, &key.product)] {
            out.push(row(breakdown, &business(part)));
        }
    }
    // The same with the department folded, for the institution-wide questions: they then read
    // one row per value and day however many departments there are. Rows by handler are not
    // folded (a question by handler lists handlers, who belong to departments anyway).
    let folded: Vec<DailyKey> =
        out.iter().filter(|d| d.breakdown != BY_HANDLER).map(|d| DailyKey { department: ALL_DEPARTMENTS.to_string(), ..d.clone() }).collect();
    out.extend(folded);
    out
}

/// The department of rollup rows that hold every department's sum: the organisation's
/// reserved code, which no department has.
pub use redress_domain::org::ALL_DEPARTMENTS;

/// Joins the parts of a composite rollup key; refused in every text taken from outside, so it
/// never occurs in a part.
pub const SEPARATOR: &str = "\u{1f}";

/// The rollup of the handler-carrying measures by handler and breakdown value.
pub const BY_HANDLER: &str = "by_handler";

/// The rollup of received complaints by business type and cause together (the hotspots'
/// combinations): key `business type ␟ cause`.
pub const BUSINESS_CAUSE: &str = "business_cause";

/// The rollup of every measure by business type and breakdown value (handlers folded): key
/// `business type ␟ value`.
pub const BY_BUSINESS_TYPE: &str = "by_business_type";

/// The rollup of received complaints by business type and channel: key `business type ␟ channel`.
pub const BUSINESS_CHANNEL: &str = "business_channel";

/// The rollup of received complaints by business type and severity.
pub const BUSINESS_SEVERITY: &str = "business_severity";

/// The rollup of received complaints by business type and product.
pub const BUSINESS_PRODUCT: &str = "business_product";

/// The rollup of the FCA return's measures by business type, cause, product and breakdown
/// (handlers folded): key `business type ␟ cause ␟ product ␟ value`.
pub const FCA: &str = "fca";

/// The measures the FCA return reads.
pub const FCA_MEASURES: [Measure; 6] = [Measure::Received, Measure::Closed, Measure::ClosedWithin, Measure::Upheld, Measure::Redress, Measure::Reopened];

/// The rollup of summed cells, summed by rollup key (zeros left out), in key order.
pub fn daily_sum<'a>(cells: impl IntoIterator<Item = (&'a CellKey, &'a (i64, i64))>) -> Vec<(DailyKey, (i64, i64))> {
    let mut map: BTreeMap<DailyKey, (i64, i64)> = BTreeMap::new();
    for (key, (n, total)) in cells {
        for d in daily_of(key) {
            let e = map.entry(d).or_default();
            e.0 += n;
            e.1 += total;
        }
    }
    map.into_iter().filter(|(_, v)| *v != (0, 0)).collect()
}

/// Adds cells up by key; keys whose count and sum are both zero are left out.
pub fn sum(cells: impl IntoIterator<Item = Cell>) -> BTreeMap<CellKey, (i64, i64)> {
    let mut map: BTreeMap<CellKey, (i64, i64)> = BTreeMap::new();
    for c in cells {
        let e = map.entry(c.key).or_default();
        e.0 += c.n;
        e.1 += c.total;
    }
    map.retain(|_, v| *v != (0, 0));
    map
}

/// What changes when a complaint's cells go from `before` to `after`: `after − before`, by
/// key, in key order (so concurrent writers touch rows in the same order), zeros left out.
pub fn difference(before: &[Cell], after: &[Cell]) -> Vec<Cell> {
    let negated = before.iter().map(|c| Cell { key: c.key.clone(), n: -c.n, total: -c.total });
    sum(after.iter().cloned().chain(negated)).into_iter().map(|(key, (n, total))| Cell { key, n, total }).collect()
}

#[cfg(test)]
mod tests;
