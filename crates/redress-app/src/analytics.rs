//! Learning from the whole stream: the five-dimension analysis, scorecards and the statistics
//! kept with every change.
//!
//! Every complaint's contribution to the statistics is `redress_analytics::cells_of` of its
//! record; registrations add it and every save adds the difference, in the complaint's own
//! transaction ([`stats_change`]). The analyses here only sum cells (`Store::stat_rows`), so
//! they read in proportion to days × groups. Who sees which departments' figures is
//! [`policy::statistics_departments`].

use std::collections::BTreeMap;

use jiff::ToSpan;
use jiff::civil::Date;
use redress_analytics::cells::{self, Cell, Measure, day_number};
use redress_domain::complaint::{Complaint, EmotionMark, NewComplaint, RepeatOf};
use redress_domain::org::Organisation;
use redress_domain::complaint::Rules;
use redress_store::{StatColumn, StatQuery, StatRow};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};
use crate::policy;
use crate::{App, Caller};

/// The emotion of a reading (the JSON the text analyser stores), as the record keeps it.
pub fn intake_emotion(reading: &serde_json::Value) -> Option<EmotionMark> {
    let emotion = reading.get("emotion")?;
    let kind = emotion.get("emotion")?.as_str()?.to_string();
    let intensity = emotion.get("intensity").and_then(serde_json::Value::as_f64).unwrap_or(0.0) as f32;
    Some(EmotionMark { kind, intensity })
}

/// The most telling words of a reading, as the record keeps them.
pub fn intake_keywords(reading: &serde_json::Value) -> Vec<String> {
    reading
        .get("keywords")
        .and_then(serde_json::Value::as_array)
        .map(|words| words.iter().filter_map(|w| w.as_str()).take(Complaint::MAX_KEYWORDS).map(str::to_string).collect())
        .unwrap_or_default()
}

/// The most complaints of one person read to find a repeat or build a profile.
pub const PERSON_LIMIT: u32 = 500;

/// The complainant's latest earlier complaint that ended within the profile's repeat window
/// before this one was received.
pub async fn repeat_of(app: &App, new: &NewComplaint, rules: Rules<'_>) -> AppResult<Option<RepeatOf>> {
    let keys = redress_store::columns::identity_keys_of(&new.complainant);
    if keys.is_empty() {
        return Ok(None);
    }
    let window = i64::from(rules.profile.repeat_window_days);
    let since = new.received_at.checked_sub(jiff::SignedDuration::from_hours(24 * window)).unwrap_or(new.received_at);
    let earlier = app.store.complaints_by_identity(&keys, PERSON_LIMIT).await?;
    let found = earlier
        .iter()
        .filter_map(|c| c.closings.last().map(|closing| (c, closing)))
        .filter(|(_, closing)| closing.at >= since && closing.at <= new.received_at)
        .max_by_key(|(_, closing)| closing.at);
    Ok(found.map(|(c, closing)| RepeatOf {
        complaint: redress_domain::complaint::ComplaintRef { id: c.id, number: c.number.clone() },
        department: closing.department.clone(),
        handler: closing.handler.clone(),
        closed_at: closing.at,
    }))
}

/// What a change does to the statistics: the cells of the record after it minus those before.
pub fn stats_change(before: &Complaint, after: &Complaint, rules: Rules<'_>) -> Vec<Cell> {
    let tz = redress_domain::complaint::time_zone(rules);
    cells::difference(&cells::cells_of(before, &tz), &cells::cells_of(after, &tz))
}

/// How a trend is bucketed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Grain {
    /// By day.
    #[default]
    Day,
    /// By ISO week (starting Monday).
    Week,
    /// By calendar month.
    Month,
}

/// An analysis's period and filters as people give them (query parameters). Dates are local
/// days `YYYY-MM-DD`, both ends included.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AnalysisParams {
    /// First day; default: 29 days before `to`.
    pub from: Option<String>,
    /// Last day; default: today.
    pub to: Option<String>,
    /// Only complaints owned by departments of this unit and the units under it.
    pub unit: Option<String>,
    /// Only complaints owned by this department.
    pub department: Option<String>,
    /// Only this channel.
    pub channel: Option<String>,
    /// Only this business type (a code and its sub-codes).
    pub business_type: Option<String>,
    /// Only this cause (a code and its sub-codes).
    pub cause: Option<String>,
    /// Only this product.
    pub product: Option<String>,
    /// Only this severity.
    pub severity: Option<String>,
    /// Trend buckets: `day`, `week` or `month`.
    pub grain: Option<Grain>,
}

/// A run of local days, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    /// First day.
    pub from: Date,
    /// Last day.
    pub to: Date,
}

impl Period {
    /// The longest period an analysis covers (a little over three years).
    pub const MAX_DAYS: i32 = 1200;

    /// Number of days.
    pub fn days(&self) -> i32 {
        day_number(self.to) - day_number(self.from) + 1
    }

    /// The same number of days just before.
    pub fn previous(&self) -> Period {
        let to = self.from.yesterday().unwrap_or(self.from);
        let from = to.checked_sub((i64::from(self.days()) - 1).days()).unwrap_or(to);
        Period { from, to }
    }

    /// The calendar quarter before this one (for a period that is a quarter).
    pub fn previous_quarter(&self) -> Period {
        let from = self.from.checked_sub(3.months()).unwrap_or(self.from);
        Period { from, to: self.from.yesterday().unwrap_or(self.from) }
    }

    /// The same dates a year before.
    pub fn year_before(&self) -> Period {
        let back = |d: Date| d.checked_sub(1.year()).unwrap_or(d);
        Period { from: back(self.from), to: back(self.to) }
    }

    /// A question about `measure` over this period (day numbers, end exclusive).
    fn query(&self, measure: Measure) -> StatQuery {
        StatQuery::new(measure, day_number(self.from), day_number(self.to) + 1)
    }
}

/// A checked analysis filter: the period, the filters, and the departments in the caller's
/// reach (`None`: all).
#[derive(Debug, Clone, Serialize)]
pub struct AnalysisFilter {
    /// The period.
    pub period: Period,
    /// Unit filter.
    pub unit: Option<String>,
    /// Department filter.
    pub department: Option<String>,
    /// Channel filter.
    pub channel: Option<String>,
    /// Business-type filter.
    pub business_type: Option<String>,
    /// Cause filter.
    pub cause: Option<String>,
    /// Product filter.
    pub product: Option<String>,
    /// Severity filter.
    pub severity: Option<String>,
    /// Trend buckets.
    pub grain: Grain,
    /// The departments counted: the caller's reach narrowed by the unit and department filters.
    #[serde(skip)]
    pub departments: Option<Vec<String>>,
}

impl AnalysisFilter {
    /// The question for `measure` over `period` with every filter of this one.
    pub fn query(&self, measure: Measure, period: Period, group_by: &[StatColumn]) -> StatQuery {
        let mut q = period.query(measure);
        q.departments = self.departments.clone();
        q.channel = self.channel.clone();
        q.business_type = self.business_type.clone();
        q.cause = self.cause.clone();
        q.product = self.product.clone();
        q.severity = self.severity.clone();
        q.group_by = group_by.to_vec();
        q
    }

    /// The filter as query parameters (for links to lists and downloads).
    pub fn params(&self) -> AnalysisParams {
        AnalysisParams {
            from: Some(self.period.from.to_string()),
            to: Some(self.period.to.to_string()),
            unit: self.unit.clone(),
            department: self.department.clone(),
            channel: self.channel.clone(),
            business_type: self.business_type.clone(),
            cause: self.cause.clone(),
            product: self.product.clone(),
            severity: self.severity.clone(),
            grain: Some(self.grain),
        }
    }
}

fn parse_day(field: &str, value: &str) -> AppResult<Date> {
    value.trim().parse::<Date>().map_err(|_| AppError::invalid(field, "not a date (YYYY-MM-DD)"))
}

fn non_empty(value: &Option<String>, field: &str, max: usize) -> AppResult<Option<String>> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) if v.chars().count() > max || v.chars().any(char::is_control) => Err(AppError::invalid(field, "too long or holds control characters")),
        Some(v) => Ok(Some(v.to_string())),
    }
}

/// Today's local date in the default profile's time zone.
pub fn today(app: &App) -> Date {
    app.clock.now().to_zoned(redress_domain::complaint::time_zone(app.rules.default_rules())).date()
}

/// Checks an analysis's parameters and narrows the caller's reach by them. A unit or
/// department outside the caller's reach is refused as unknown (it reveals nothing).
pub fn analysis_filter(app: &App, caller: &Caller, params: &AnalysisParams) -> AppResult<AnalysisFilter> {
    let org = &app.rules.org;
    let reach = policy::statistics_departments(caller, org)?;
    let to = match params.to.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(v) => parse_day("to", v)?,
        None => today(app),
    };
    let from = match params.from.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(v) => parse_day("from", v)?,
        None => to.checked_sub(29.days()).unwrap_or(to),
    };
    let period = Period { from, to };
    if period.days() < 1 {
        return Err(AppError::invalid("from", "the first day is after the last"));
    }
    if period.days() > Period::MAX_DAYS {
        return Err(AppError::invalid("from", format!("a period covers at most {} days", Period::MAX_DAYS)));
    }
    let unit = non_empty(&params.unit, "unit", 64)?;
    let department = non_empty(&params.department, "department", 64)?;
    let in_reach = |code: &str| reach.as_ref().is_none_or(|r| r.iter().any(|d| d == code));
    let mut departments = reach.clone();
    if let Some(u) = &unit {
        if org.unit(u).is_none() {
            return Err(AppError::invalid("unit", format!("unknown unit '{u}'")));
        }
        let under: Vec<String> = org.departments_within(u).into_iter().filter(|d| in_reach(d)).collect();
        departments = Some(under);
    }
    if let Some(d) = &department {
        if org.department(d).is_none() || !in_reach(d) {
            return Err(AppError::invalid("department", format!("unknown department '{d}'")));
        }
        departments = Some(departments.map_or_else(|| vec![d.clone()], |list| list.into_iter().filter(|x| x == d).collect()));
    }
    let severity = non_empty(&params.severity, "severity", 16)?;
    if let Some(s) = &severity
        && !["low", "medium", "high", "critical"].contains(&s.as_str())
    {
        return Err(AppError::invalid("severity", "one of low, medium, high, critical"));
    }
    let channel = non_empty(&params.channel, "channel", 32)?;
    if let Some(c) = &channel
        && redress_domain::complaint::Channel::parse(c).is_none()
    {
        return Err(AppError::invalid("channel", format!("unknown channel '{c}'")));
    }
    Ok(AnalysisFilter {
        period,
        unit,
        department,
        channel,
        business_type: non_empty(&params.business_type, "business_type", 32)?,
        cause: non_empty(&params.cause, "cause", 32)?,
        product: non_empty(&params.product, "product", cells::PRODUCT_CHARS)?,
        severity,
        grain: params.grain.unwrap_or_default(),
        departments,
    })
}

/// One group of a breakdown: its key (a code, a day, a value), its count and sum in the period,
/// and the count in the period before.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    /// The group's key.
    pub key: String,
    /// Count in the period.
    pub n: i64,
    /// The measure's sum in the period (hundredths of money, days), 0 where it has none.
    pub total: i64,
    /// Count in the period before, where compared.
    pub previous: Option<i64>,
}

/// A trend point.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    /// First day of the bucket.
    pub start: Date,
    /// Count.
    pub n: i64,
}

/// The five-dimension analysis of one period and filter.
#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    /// What was analysed.
    pub filter: AnalysisFilter,
    /// Complaints received in the period.
    pub received: i64,
    /// In the period before (same length).
    pub previous_received: i64,
    /// In the same dates a year before.
    pub year_ago_received: i64,
    /// Time: received per bucket.
    pub trend: Vec<Point>,
    /// Time: received by weekday (0 = Monday) × hour.
    pub weekday_hour: Vec<[i64; 24]>,
    /// Space: by unit where the complaint arose, rolled up to the level under the unit filter
    /// (or under the head office).
    pub units: Vec<Group>,
    /// Space: by region of that unit.
    pub regions: Vec<Group>,
    /// Space: by owner department.
    pub departments: Vec<Group>,
    /// Participants: closings per handler.
    pub handlers: Vec<Group>,
    /// Participants: by kind of complainant.
    pub complainant_types: Vec<Group>,
    /// Participants: with or without an agent.
    pub agents: Vec<Group>,
    /// Participants: respondent staff named most often.
    pub staff: Vec<Group>,
    /// Event: by business type, with the period before.
    pub business_types: Vec<Group>,
    /// Event: by cause, with the period before.
    pub causes: Vec<Group>,
    /// Event: by product.
    pub products: Vec<Group>,
    /// Event: by channel.
    pub channels: Vec<Group>,
    /// Event: by severity.
    pub severities: Vec<Group>,
    /// Event: by band of the amount in dispute.
    pub disputed_bands: Vec<Group>,
    /// Event: amount in dispute per currency (total in hundredths).
    pub disputed: Vec<Group>,
    /// Event: closings in the period by status ended in.
    pub closed: Vec<Group>,
    /// Event: decisions by resolution kind.
    pub resolutions: Vec<Group>,
    /// Event: redress paid per currency (total in hundredths).
    pub redress: Vec<Group>,
    /// Decisions upheld and not upheld.
    pub upheld: (i64, i64),
    /// Closings within and after the deadline.
    pub on_time: (i64, i64),
    /// Emotion: by emotion at intake, with the period before.
    pub emotions: Vec<Group>,
    /// Emotion: by intensity.
    pub intensities: Vec<Group>,
    /// Emotion: risk flags, with the period before.
    pub risk_flags: Vec<Group>,
}

/// Most groups a long breakdown (products, staff, handlers) keeps.
pub const TOP: usize = 20;

/// The five-dimension analysis (time, space, participants, event, emotion) of a period and
/// filter, over the departments in the caller's reach.
pub async fn analyse(app: &App, caller: &Caller, params: &AnalysisParams) -> AppResult<Analysis> {
    let f = analysis_filter(app, caller, params)?;
    let p = f.period;
    let prev = p.previous();
    use StatColumn as C;
    let q = |m: Measure, period: Period, by: &[StatColumn]| f.query(m, period, by);
    let queries = vec![
        q(Measure::Received, p, &[]),                      // 0
        q(Measure::Received, prev, &[]),                   // 1
        q(Measure::Received, p.year_before(), &[]),        // 2
        q(Measure::Received, p, &[C::Day]),                // 3
        q(Measure::ReceivedHour, p, &[C::Value]),          // 4
        q(Measure::RespondentUnit, p, &[C::Value]),        // 5
        q(Measure::Received, p, &[C::Department]),         // 6
        q(Measure::Closed, p, &[C::Handler]),              // 7
        q(Measure::ComplainantType, p, &[C::Value]),       // 8
        q(Measure::Agent, p, &[C::Value]),                 // 9
        q(Measure::RespondentStaff, p, &[C::Value]),       // 10
        q(Measure::Received, p, &[C::BusinessType]),       // 11
        q(Measure::Received, prev, &[C::BusinessType]),    // 12
        q(Measure::Received, p, &[C::Cause]),              // 13
        q(Measure::Received, prev, &[C::Cause]),           // 14
        q(Measure::Received, p, &[C::Product]),            // 15
        q(Measure::Received, p, &[C::Channel]),            // 16
        q(Measure::Received, p, &[C::Severity]),           // 17
        q(Measure::DisputedBand, p, &[C::Value]),          // 18
        q(Measure::Disputed, p, &[C::Value]),              // 19
        q(Measure::Closed, p, &[C::Value]),                // 20
        q(Measure::Resolution, p, &[C::Value]),            // 21
        q(Measure::Redress, p, &[C::Value]),               // 22
        q(Measure::Upheld, p, &[C::Value]),                // 23
        q(Measure::ClosedOnTime, p, &[C::Value]),          // 24
        q(Measure::Emotion, p, &[C::Value]),               // 25
        q(Measure::Emotion, prev, &[C::Value]),            // 26
        q(Measure::Intensity, p, &[C::Value]),             // 27
        q(Measure::RiskFlag, p, &[C::Value]),              // 28
        q(Measure::RiskFlag, prev, &[C::Value]),           // 29
    ];
    let rows = run(app, &queries).await?;
    let total = |i: usize| rows[i].iter().map(|r| r.n).sum::<i64>();
    let org = &app.rules.org;
    let units = roll_up_units(org, f.unit.as_deref(), &rows[5]);
    let regions = regions_of(org, &rows[5]);
    let yes_no = |i: usize| {
        let get = |k: &str| rows[i].iter().find(|r| r.keys[0] == k).map_or(0, |r| r.n);
        (get("yes"), get("no"))
    };
    Ok(Analysis {
        received: total(0),
        previous_received: total(1),
        year_ago_received: total(2),
        trend: trend(p, f.grain, &rows[3]),
        weekday_hour: weekday_hour(&rows[4]),
        units,
        regions,
        departments: groups(&rows[6], None),
        handlers: top(groups(&rows[7], None)),
        complainant_types: groups(&rows[8], None),
        agents: groups(&rows[9], None),
        staff: top(groups(&rows[10], None)),
        business_types: groups(&rows[11], Some(&rows[12])),
        causes: groups(&rows[13], Some(&rows[14])),
        products: top(groups(&rows[15], None)),
        channels: groups(&rows[16], None),
        severities: groups(&rows[17], None),
        disputed_bands: groups(&rows[18], None),
        disputed: groups(&rows[19], None),
        closed: groups(&rows[20], None),
        resolutions: groups(&rows[21], None),
        redress: groups(&rows[22], None),
        upheld: yes_no(23),
        on_time: yes_no(24),
        emotions: groups(&rows[25], Some(&rows[26])),
        intensities: groups(&rows[27], None),
        risk_flags: groups(&rows[28], Some(&rows[29])),
        filter: f,
    })
}

/// Runs the questions at once (each is a sum over its period's cells).
pub async fn run(app: &App, queries: &[StatQuery]) -> AppResult<Vec<Vec<StatRow>>> {
    let answers = futures::future::try_join_all(queries.iter().map(|q| app.store.stat_rows(q))).await?;
    Ok(answers)
}

/// Rows grouped by one column into groups, largest first (ties by key), each with its count in
/// `previous` where given.
pub fn groups(rows: &[StatRow], previous: Option<&[StatRow]>) -> Vec<Group> {
    let mut out: Vec<Group> = rows
        .iter()
        .map(|r| Group {
            key: r.keys.first().cloned().unwrap_or_default(),
            n: r.n,
            total: r.total,
            previous: previous.map(|p| p.iter().filter(|x| x.keys.first() == r.keys.first()).map(|x| x.n).sum()),
        })
        .collect();
    // Groups only the earlier period had are shown too: a cause that vanished is news.
    if let Some(prev) = previous {
        for r in prev {
            let key = r.keys.first().cloned().unwrap_or_default();
            if !out.iter().any(|g| g.key == key) {
                out.push(Group { key, n: 0, total: 0, previous: Some(r.n) });
            }
        }
    }
    out.sort_by(|a, b| b.n.cmp(&a.n).then_with(|| a.key.cmp(&b.key)));
    out
}

fn top(mut groups: Vec<Group>) -> Vec<Group> {
    groups.truncate(TOP);
    groups
}

/// The first day of the bucket holding `day`.
pub fn bucket_start(day: Date, grain: Grain) -> Date {
    match grain {
        Grain::Day => day,
        Grain::Week => day.checked_sub(i64::from(day.weekday().to_monday_zero_offset()).days()).unwrap_or(day),
        Grain::Month => day.first_of_month(),
    }
}

/// Received per bucket over the whole period, empty buckets included.
fn trend(period: Period, grain: Grain, by_day: &[StatRow]) -> Vec<Point> {
    let mut buckets: BTreeMap<Date, i64> = BTreeMap::new();
    let mut day = period.from;
    while day <= period.to {
        buckets.entry(bucket_start(day, grain)).or_default();
        match day.tomorrow() {
            Ok(next) => day = next,
            Err(_) => break,
        }
    }
    for r in by_day {
        if let Some(d) = r.keys.first().and_then(|k| k.parse::<i32>().ok()) {
            *buckets.entry(bucket_start(cells::day_date(d), grain)).or_default() += r.n;
        }
    }
    buckets.into_iter().map(|(start, n)| Point { start, n }).collect()
}

fn weekday_hour(rows: &[StatRow]) -> Vec<[i64; 24]> {
    let mut grid = vec![[0i64; 24]; 7];
    for r in rows {
        let Some((w, h)) = r.keys.first().and_then(|k| k.split_once('-')) else { continue };
        if let (Ok(w), Ok(h)) = (w.parse::<usize>(), h.parse::<usize>())
            && (1..=7).contains(&w)
            && h < 24
        {
            grid[w - 1][h] += r.n;
        }
    }
    grid
}

/// Counts by unit rolled up to the children of `parent` (the head office when none): a
/// complaint about a sub-branch counts for its branch; one about `parent` itself counts for it.
fn roll_up_units(org: &Organisation, parent: Option<&str>, by_unit: &[StatRow]) -> Vec<Group> {
    let parent = parent.map_or_else(|| org.head_office().code.clone(), str::to_string);
    let mut sums: BTreeMap<String, i64> = BTreeMap::new();
    for r in by_unit {
        let code = r.keys.first().map(String::as_str).unwrap_or("");
        let chain = org.ancestry(code);
        let Some(pos) = chain.iter().position(|u| u.code == parent) else { continue };
        let target = if pos == 0 { parent.clone() } else { chain[pos - 1].code.clone() };
        *sums.entry(target).or_default() += r.n;
    }
    let mut out: Vec<Group> = sums.into_iter().map(|(key, n)| Group { key, n, total: 0, previous: None }).collect();
    out.sort_by(|a, b| b.n.cmp(&a.n).then_with(|| a.key.cmp(&b.key)));
    out
}

fn regions_of(org: &Organisation, by_unit: &[StatRow]) -> Vec<Group> {
    let mut sums: BTreeMap<String, i64> = BTreeMap::new();
    for r in by_unit {
        let code = r.keys.first().map(String::as_str).unwrap_or("");
        let region = org.ancestry(code).iter().find_map(|u| u.region.clone()).unwrap_or_default();
        *sums.entry(region).or_default() += r.n;
    }
    let mut out: Vec<Group> = sums.into_iter().map(|(key, n)| Group { key, n, total: 0, previous: None }).collect();
    out.sort_by(|a, b| b.n.cmp(&a.n).then_with(|| a.key.cmp(&b.key)));
    out
}

/// The exact median of a histogram of (value, count), or `None` when empty. With an even
/// count it is the mean of the two middle values.
pub fn median(histogram: &[(i64, i64)]) -> Option<f64> {
    let mut sorted: Vec<(i64, i64)> = histogram.iter().copied().filter(|(_, n)| *n > 0).collect();
    sorted.sort_unstable();
    let count: i64 = sorted.iter().map(|(_, n)| n).sum();
    if count == 0 {
        return None;
    }
    let nth = |k: i64| {
        let mut seen = 0;
        for (v, n) in &sorted {
            seen += n;
            if seen > k {
                return *v;
            }
        }
        sorted.last().map_or(0, |(v, _)| *v)
    };
    Some(if count % 2 == 1 { nth(count / 2) as f64 } else { (nth(count / 2 - 1) + nth(count / 2)) as f64 / 2.0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_of_histograms() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[(5, 1)]), Some(5.0));
        assert_eq!(median(&[(1, 1), (3, 1)]), Some(2.0));
        assert_eq!(median(&[(10, 2), (1, 3)]), Some(1.0));
        assert_eq!(median(&[(2, 2), (4, 2), (0, 0)]), Some(3.0));
    }

    #[test]
    fn periods_before_and_buckets() {
        let p = Period { from: Date::constant(2026, 3, 1), to: Date::constant(2026, 3, 31) };
        assert_eq!(p.days(), 31);
        assert_eq!(p.previous(), Period { from: Date::constant(2026, 1, 29), to: Date::constant(2026, 2, 28) });
        assert_eq!(p.year_before().from, Date::constant(2025, 3, 1));
        assert_eq!(bucket_start(Date::constant(2026, 12, 3), Grain::Week), Date::constant(2026, 11, 30));
        assert_eq!(bucket_start(Date::constant(2026, 12, 3), Grain::Month), Date::constant(2026, 12, 1));
    }

    #[test]
    fn units_roll_up_to_the_level_asked() {
        let org = Organisation::builtin();
        let row = |unit: &str, n| StatRow { keys: vec![unit.into()], n, total: 0 };
        let rows = [row("SH-PD", 2), row("SH", 3), row("GZ", 1), row("HO", 4)];
        let top = roll_up_units(&org, None, &rows);
        assert_eq!(top.iter().map(|g| (g.key.as_str(), g.n)).collect::<Vec<_>>(), vec![("SH", 5), ("HO", 4), ("GZ", 1)]);
        let sh = roll_up_units(&org, Some("SH"), &rows);
        assert_eq!(sh.iter().map(|g| (g.key.as_str(), g.n)).collect::<Vec<_>>(), vec![("SH", 3), ("SH-PD", 2)]);
    }
}

/// What [`rebuild`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RebuildReport {
    /// Complaints read.
    pub complaints: u64,
    /// Distinct cells written.
    pub cells: u64,
}

/// Complaints whose cells are summed in memory before they are written.
const REBUILD_BATCH: usize = 5_000;

/// Rebuilds the statistics cells and the complainant identity index from the records: for a
/// store kept before they existed, or to repair. Run it while no server writes (the cells are
/// emptied first); `progress` hears how many complaints were read so far.
pub async fn rebuild(app: &App, caller: &Caller, progress: &(dyn Fn(u64) + Send + Sync)) -> AppResult<RebuildReport> {
    policy::require(caller, policy::Operation::RunJobs)?;
    app.store.clear_stat_cells().await?;
    let mut report = RebuildReport::default();
    let mut filter = redress_store::ComplaintFilter { limit: 200, ..Default::default() };
    let mut pending: Vec<Cell> = Vec::new();
    let mut in_batch = 0usize;
    loop {
        let page = app.store.list(&filter).await?;
        let ids: Vec<_> = page.items.iter().map(|s| s.id).collect();
        for c in app.store.complaints(&ids).await? {
            let rules = app.rules.rules(&c.profile).unwrap_or_else(|| app.rules.default_rules());
            pending.extend(cells::cells_of(&c, &redress_domain::complaint::time_zone(rules)));
            app.store.index_identity(c.id, c.received_at, &redress_store::columns::identity_keys(&c)).await?;
            report.complaints += 1;
            in_batch += 1;
        }
        if in_batch >= REBUILD_BATCH || page.next.is_none() {
            let summed: Vec<Cell> = cells::sum(std::mem::take(&mut pending)).into_iter().map(|(key, (n, total))| Cell { key, n, total }).collect();
            report.cells += summed.len() as u64;
            app.store.add_stat_cells(&summed).await?;
            in_batch = 0;
        }
        progress(report.complaints);
        match page.next {
            Some(next) => filter.after = Some(next),
            None => break,
        }
    }
    Ok(report)
}
