//! Regulator reports: the Chinese quarterly supervision report and the FCA complaints return
//! (DISP 1 Annex 1R), from the statistics cells; the CFPB public-database export from the
//! records.
//!
//! A past period reports as it stood at its end: each closing is counted on the day it
//! happened with the department, handler, business type and cause of that moment, and a later
//! reopening does not remove it. Asked to `restate`, closings reopened since are left out.
//! Received figures follow the records as corrected since (a corrected classification moves a
//! complaint to its right business type in every period).

use std::collections::BTreeMap;

use jiff::civil::Date;
use redress_analytics::cells::Measure;
use redress_analytics::groups::FcaGroups;
use redress_store::{StatColumn, StatRow};
use serde::{Deserialize, Serialize};

use crate::analytics::{self, AnalysisFilter, AnalysisParams, Period};
use crate::error::{AppError, AppResult};
use crate::{App, Caller};

/// Which report period: a quarter or a half-year of a year.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReportParams {
    /// The year.
    pub year: Option<String>,
    /// The quarter, 1–4 (quarterly report).
    pub quarter: Option<String>,
    /// The half, 1–2 (FCA return).
    pub half: Option<String>,
    /// Leave out closings reopened since (`true`); by default the period stands as it was.
    pub restate: Option<String>,
    /// Only complaints owned by departments of this unit.
    pub unit: Option<String>,
}

fn year_of(params: &ReportParams, today: Date) -> AppResult<i16> {
    match params.year.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(today.year()),
        Some(y) => y.parse::<i16>().ok().filter(|y| (2000..=2100).contains(y)).ok_or_else(|| AppError::invalid("year", "a year such as 2026")),
    }
}

fn restate(params: &ReportParams) -> AppResult<bool> {
    match params.restate.as_deref().map(str::trim) {
        None | Some("" | "false" | "0" | "no") => Ok(false),
        Some("true" | "1" | "yes" | "on") => Ok(true),
        Some(_) => Err(AppError::invalid("restate", "true or false")),
    }
}

/// The quarter `q` (1–4) of `year`.
pub fn quarter(year: i16, q: i8) -> Period {
    let from = Date::new(year, (q - 1) * 3 + 1, 1).expect("a valid quarter");
    let next = from.checked_add(jiff::Span::new().months(3)).expect("in range");
    Period { from, to: next.yesterday().expect("in range") }
}

/// The half `h` (1–2) of `year`.
pub fn half(year: i16, h: i8) -> Period {
    let from = Date::new(year, (h - 1) * 6 + 1, 1).expect("a valid half");
    let next = from.checked_add(jiff::Span::new().months(6)).expect("in range");
    Period { from, to: next.yesterday().expect("in range") }
}

fn filter_for(app: &App, caller: &Caller, period: Period, unit: &Option<String>) -> AppResult<AnalysisFilter> {
    let params = AnalysisParams { from: Some(period.from.to_string()), to: Some(period.to.to_string()), unit: unit.clone(), ..Default::default() };
    analytics::analysis_filter(app, caller, &params)
}

/// A line of a report: a group and its figures in the period, the period before and a year
/// before.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportLine {
    /// The group's code (business type, cause, channel, unit, region).
    pub key: String,
    /// Received in the period.
    pub n: i64,
    /// In the quarter before.
    pub previous: i64,
    /// In the same quarter a year before.
    pub year_ago: i64,
}

/// The quarterly supervision report (季度投诉情况报告).
#[derive(Debug, Clone, Serialize)]
pub struct QuarterlyReport {
    /// Year.
    pub year: i16,
    /// Quarter 1–4.
    pub quarter: i8,
    /// The quarter's days.
    pub period: Period,
    /// Whether closings reopened since were left out.
    pub restated: bool,
    /// The unit reported on, if not the whole institution.
    pub unit: Option<String>,
    /// Received in the quarter, the one before, and a year before.
    pub received: ReportLine,
    /// By business type (top level of the taxonomy).
    pub business_types: Vec<ReportLine>,
    /// By cause (top level).
    pub causes: Vec<ReportLine>,
    /// By channel.
    pub channels: Vec<ReportLine>,
    /// By unit (the level under the unit reported on).
    pub units: Vec<ReportLine>,
    /// By region.
    pub regions: Vec<ReportLine>,
    /// Closings in the quarter.
    pub closed: i64,
    /// Of which within the deadline.
    pub closed_on_time: i64,
    /// Decisions in the quarter, and of those upheld.
    pub decided: i64,
    /// Upheld decisions.
    pub upheld: i64,
    /// Follow-up answers in the quarter, and of those satisfied.
    pub followed_up: i64,
    /// Satisfied answers.
    pub satisfied: i64,
    /// Redress paid per currency, in hundredths.
    pub redress: BTreeMap<String, i64>,
    /// The most frequent causes (leaf codes), at most five.
    pub top_causes: Vec<ReportLine>,
}

impl QuarterlyReport {
    /// Share of closings within the deadline (按期办结率).
    pub fn on_time_rate(&self) -> Option<f64> {
        crate::scorecards::rate(self.closed_on_time, self.closed)
    }

    /// Closings per complaint received (办结率).
    pub fn resolution_rate(&self) -> Option<f64> {
        crate::scorecards::rate(self.closed, self.received.n)
    }

    /// Upheld share of decisions.
    pub fn upheld_rate(&self) -> Option<f64> {
        crate::scorecards::rate(self.upheld, self.decided)
    }

    /// Satisfied share of follow-up answers (回访满意率).
    pub fn satisfaction_rate(&self) -> Option<f64> {
        crate::scorecards::rate(self.satisfied, self.followed_up)
    }
}

/// The quarterly report of `params.year` Q`params.quarter` (default: the last whole quarter).
pub async fn quarterly(app: &App, caller: &Caller, params: &ReportParams) -> AppResult<QuarterlyReport> {
    let today = analytics::today(app);
    let (year, q) = match params.quarter.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(q) => (year_of(params, today)?, q.parse::<i8>().ok().filter(|q| (1..=4).contains(q)).ok_or_else(|| AppError::invalid("quarter", "1, 2, 3 or 4"))?),
        None => {
            let current = (today.month() - 1) / 3 + 1;
            if current == 1 { (today.year() - 1, 4) } else { (today.year(), current - 1) }
        }
    };
    let restated = restate(params)?;
    let p = quarter(year, q);
    let prev = p.previous_quarter();
    let ago = p.year_before();
    let f = filter_for(app, caller, p, &params.unit)?;
    use StatColumn as C;
    let queries = vec![
        f.query(Measure::Received, p, &[C::BusinessType]),     // 0
        f.query(Measure::Received, prev, &[C::BusinessType]),  // 1
        f.query(Measure::Received, ago, &[C::BusinessType]),   // 2
        f.query(Measure::Received, p, &[C::Cause]),            // 3
        f.query(Measure::Received, prev, &[C::Cause]),         // 4
        f.query(Measure::Received, ago, &[C::Cause]),          // 5
        f.query(Measure::Received, p, &[C::Channel]),          // 6
        f.query(Measure::Received, prev, &[C::Channel]),       // 7
        f.query(Measure::Received, ago, &[C::Channel]),        // 8
        f.query(Measure::RespondentUnit, p, &[C::Value]),      // 9
        f.query(Measure::RespondentUnit, prev, &[C::Value]),   // 10
        f.query(Measure::RespondentUnit, ago, &[C::Value]),    // 11
        f.query(Measure::Closed, p, &[]),                      // 12
        f.query(Measure::ClosedOnTime, p, &[C::Value]),        // 13
        f.query(Measure::Upheld, p, &[C::Value]),              // 14
        f.query(Measure::FollowUp, p, &[C::Value]),            // 15
        f.query(Measure::Redress, p, &[C::Value]),             // 16
        f.query(Measure::Reopened, p, &[]),                    // 17
    ];
    let rows = analytics::run(app, &queries).await?;
    let taxonomy = app.rules.classifier.taxonomy();
    let top_level = |dimension: redress_domain::classify::Dimension| {
        move |code: &str| -> String {
            let mut code = code.to_string();
            while let Some(parent) = taxonomy.node(dimension, &code).and_then(|n| n.parent.clone()) {
                code = parent;
            }
            code
        }
    };
    let org = &app.rules.org;
    let parent_unit = params.unit.clone().unwrap_or_else(|| org.head_office().code.clone());
    let unit_level = |code: &str| -> String {
        let chain = org.ancestry(code);
        match chain.iter().position(|u| u.code == parent_unit) {
            Some(0) => parent_unit.clone(),
            Some(pos) => chain[pos - 1].code.clone(),
            None => String::new(),
        }
    };
    let region_of = |code: &str| org.ancestry(code).iter().find_map(|u| u.region.clone()).unwrap_or_default();
    let lines = |i: usize, key: &dyn Fn(&str) -> String| lines_of(&rows[i], &rows[i + 1], &rows[i + 2], key);
    let sum = |i: usize| rows[i].iter().map(|r| r.n).sum::<i64>();
    let value = |i: usize, v: &str| rows[i].iter().filter(|r| r.keys.first().is_some_and(|k| k == v)).map(|r| r.n).sum::<i64>();
    let business_types = lines(0, &top_level(redress_domain::classify::Dimension::BusinessType));
    let received = ReportLine { key: String::new(), n: sum(0), previous: sum(1), year_ago: sum(2) };
    let mut top_causes = lines(3, &|c: &str| c.to_string());
    top_causes.retain(|l| !l.key.is_empty() && l.n > 0);
    top_causes.truncate(5);
    // A restated period leaves out the closings reopened since; the on-time share is then
    // that of the closings that stand (a reopened closing's on-time mark is not kept apart).
    let reopened = if restated { sum(17) } else { 0 };
    Ok(QuarterlyReport {
        year,
        quarter: q,
        period: p,
        restated,
        unit: params.unit.clone(),
        received,
        business_types,
        causes: lines(3, &top_level(redress_domain::classify::Dimension::Cause)),
        channels: lines(6, &|c: &str| c.to_string()),
        units: lines(9, &unit_level),
        regions: lines(9, &region_of),
        closed: sum(12) - reopened,
        closed_on_time: value(13, "yes").min(sum(12) - reopened),
        decided: value(14, "yes") + value(14, "no"),
        upheld: value(14, "yes"),
        followed_up: sum(15),
        satisfied: sum(15) - value(15, "dissatisfied"),
        redress: rows[16].iter().map(|r| (r.keys[0].clone(), r.total)).collect(),
        top_causes,
    })
}

/// Rows of one breakdown in three periods, grouped by `key`, largest first.
fn lines_of(now: &[StatRow], previous: &[StatRow], year_ago: &[StatRow], key: &dyn Fn(&str) -> String) -> Vec<ReportLine> {
    let mut map: BTreeMap<String, ReportLine> = BTreeMap::new();
    for (which, rows) in [now, previous, year_ago].into_iter().enumerate() {
        for r in rows {
            let k = key(r.keys.first().map(String::as_str).unwrap_or(""));
            let line = map.entry(k.clone()).or_insert(ReportLine { key: k, n: 0, previous: 0, year_ago: 0 });
            match which {
                0 => line.n += r.n,
                1 => line.previous += r.n,
                _ => line.year_ago += r.n,
            }
        }
    }
    let mut out: Vec<ReportLine> = map.into_values().collect();
    out.sort_by(|a, b| b.n.cmp(&a.n).then(b.previous.cmp(&a.previous)).then_with(|| a.key.cmp(&b.key)));
    out
}

/// One product group × cause group line of the FCA return.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct FcaLine {
    /// Product group id.
    pub product_group: String,
    /// Cause group id.
    pub cause: String,
    /// Complaints opened (received) in the half-year.
    pub opened: i64,
    /// Complaints closed in the half-year.
    pub closed: i64,
    /// Closed by the close of the third business day after receipt.
    pub within_3_days: i64,
    /// Closed after that but within eight weeks.
    pub within_8_weeks: i64,
    /// Closed after eight weeks.
    pub after_8_weeks: i64,
    /// Decisions (closings with a decision).
    pub decided: i64,
    /// Upheld decisions.
    pub upheld: i64,
    /// Redress paid per currency, in hundredths.
    pub redress: BTreeMap<String, i64>,
}

impl FcaLine {
    fn add(&mut self, other: &FcaLine) {
        self.opened += other.opened;
        self.closed += other.closed;
        self.within_3_days += other.within_3_days;
        self.within_8_weeks += other.within_8_weeks;
        self.after_8_weeks += other.after_8_weeks;
        self.decided += other.decided;
        self.upheld += other.upheld;
        for (c, v) in &other.redress {
            *self.redress.entry(c.clone()).or_default() += v;
        }
    }

    /// Upheld share of closings, as the FCA publishes it.
    pub fn upheld_rate(&self) -> Option<f64> {
        crate::scorecards::rate(self.upheld, self.closed)
    }

    /// Share closed within three business days.
    pub fn within_3_days_rate(&self) -> Option<f64> {
        crate::scorecards::rate(self.within_3_days, self.closed)
    }

    /// Share closed after three days but within eight weeks.
    pub fn within_8_weeks_rate(&self) -> Option<f64> {
        crate::scorecards::rate(self.within_8_weeks, self.closed)
    }
}

/// The FCA complaints return of a half-year.
#[derive(Debug, Clone, Serialize)]
pub struct FcaReturn {
    /// Year.
    pub year: i16,
    /// Half 1–2.
    pub half: i8,
    /// The half-year's days.
    pub period: Period,
    /// The reporting period as the FCA writes it (`2024-07-01 to 2024-12-31`).
    pub reporting_period: String,
    /// Whether closings reopened since were left out.
    pub restated: bool,
    /// Product group × cause lines that have any figure, in the return's order.
    pub lines: Vec<FcaLine>,
    /// One line per product group (cause empty), in the return's order.
    pub product_groups: Vec<FcaLine>,
    /// The whole firm.
    pub total: FcaLine,
    /// Product group ids and names in the return's order.
    pub group_names: Vec<(String, String)>,
    /// Cause group ids and names in the return's order.
    pub cause_names: Vec<(String, String)>,
}

/// The FCA complaints return (DISP 1 Annex 1R) of `params.year` H`params.half` (default: the
/// last whole half-year).
pub async fn fca_return(app: &App, caller: &Caller, params: &ReportParams) -> AppResult<FcaReturn> {
    let today = analytics::today(app);
    let (year, h) = match params.half.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(h) => (year_of(params, today)?, h.parse::<i8>().ok().filter(|h| (1..=2).contains(h)).ok_or_else(|| AppError::invalid("half", "1 or 2"))?),
        None => if today.month() <= 6 { (today.year() - 1, 2) } else { (today.year(), 1) },
    };
    let restated = restate(params)?;
    let p = half(year, h);
    let f = filter_for(app, caller, p, &params.unit)?;
    use StatColumn as C;
    let by = [C::BusinessType, C::Cause, C::Product];
    let with_value = [C::BusinessType, C::Cause, C::Product, C::Value];
    let queries = vec![
        f.query(Measure::Received, p, &by),             // 0
        f.query(Measure::Closed, p, &by),               // 1
        f.query(Measure::ClosedWithin, p, &with_value), // 2
        f.query(Measure::Upheld, p, &with_value),       // 3
        f.query(Measure::Redress, p, &with_value),      // 4
        f.query(Measure::Reopened, p, &by),             // 5
    ];
    let rows = analytics::run(app, &queries).await?;
    let groups = FcaGroups::builtin();
    let mut lines: BTreeMap<(usize, usize), FcaLine> = BTreeMap::new();
    let position = |g: &str, list: &[redress_analytics::groups::FcaGroup]| list.iter().position(|x| x.id == g).unwrap_or(0);
    for (i, set) in rows.iter().enumerate() {
        for r in set {
            let (bt, cause, product) = (&r.keys[0], &r.keys[1], &r.keys[2]);
            let pg = groups.product_group(bt, product);
            let cg = groups.cause(cause);
            let key = (position(&pg.id, &groups.product_groups), position(&cg.id, &groups.causes));
            let line = lines.entry(key).or_insert_with(|| FcaLine { product_group: pg.id.clone(), cause: cg.id.clone(), ..Default::default() });
            let value = r.keys.get(3).map(String::as_str).unwrap_or("");
            match i {
                0 => line.opened += r.n,
                1 => line.closed += r.n,
                2 => match value {
                    "3_business_days" => line.within_3_days += r.n,
                    "8_weeks" => line.within_8_weeks += r.n,
                    _ => line.after_8_weeks += r.n,
                },
                3 => {
                    line.decided += r.n;
                    if value == "yes" {
                        line.upheld += r.n;
                    }
                }
                4 => *line.redress.entry(value.to_string()).or_default() += r.total,
                // Restated: a closing reopened since no longer counts as closed (it is still
                // open, or closed again later).
                5 if restated => line.closed -= r.n,
                _ => {}
            }
        }
    }
    let lines: Vec<FcaLine> = lines.into_values().collect();
    let mut product_groups: Vec<FcaLine> = groups.product_groups.iter().map(|g| FcaLine { product_group: g.id.clone(), ..Default::default() }).collect();
    let mut total = FcaLine::default();
    for l in &lines {
        if let Some(pg) = product_groups.iter_mut().find(|g| g.product_group == l.product_group) {
            pg.add(l);
        }
        total.add(l);
    }
    Ok(FcaReturn {
        year,
        half: h,
        period: p,
        reporting_period: format!("{} to {}", p.from, p.to),
        restated,
        lines,
        product_groups,
        total,
        group_names: groups.product_groups.iter().map(|g| (g.id.clone(), g.name.clone())).collect(),
        cause_names: groups.causes.iter().map(|g| (g.id.clone(), g.name.clone())).collect(),
    })
}

/// The most complaints one CFPB export holds; a longer list is refused with a message to
/// narrow the period.
pub const MAX_EXPORT: usize = 200_000;

/// The complaints received in the filter's period, in the caller's reach, in the layout of the
/// CFPB public complaint database (its 18 columns), newest first. Complaints imported from
/// the CFPB come back with their own Complaint ID, so importing the file again creates nothing.
/// `company` fills the Company column (default: the head office's name).
pub async fn cfpb_export(app: &App, caller: &Caller, params: &AnalysisParams, company: Option<&str>) -> AppResult<(Vec<u8>, u64)> {
    policy_export(caller)?;
    let f = analytics::analysis_filter(app, caller, params)?;
    let company = company.map(str::trim).filter(|c| !c.is_empty()).map_or_else(|| app.rules.org.head_office().name.clone(), str::to_string);
    if company.chars().count() > 200 || company.chars().any(char::is_control) {
        return Err(AppError::invalid("company", "at most 200 characters, no control characters"));
    }
    let mut records = Vec::new();
    if !f.departments.as_ref().is_some_and(Vec::is_empty) {
        let tz = redress_domain::complaint::time_zone(app.rules.default_rules());
        let start = f.period.from.to_zoned(tz.clone()).map_err(AppError::internal)?.timestamp();
        let end = f.period.to.tomorrow().unwrap_or(f.period.to).to_zoned(tz.clone()).map_err(AppError::internal)?.timestamp();
        let mut filter = redress_store::ComplaintFilter {
            departments: f.departments.clone().unwrap_or_default(),
            channel: f.channel.clone(),
            business_type: f.business_type.clone(),
            cause: f.cause.clone(),
            severity: f.severity.clone(),
            received_from: Some(start),
            received_to: Some(end),
            limit: 200,
            ..Default::default()
        };
        loop {
            let page = app.store.list(&filter).await?;
            let ids: Vec<_> = page.items.iter().map(|s| s.id).collect();
            let mut complaints = app.store.complaints(&ids).await?;
            complaints.sort_by(|a, b| b.received_at.cmp(&a.received_at).then_with(|| b.id.to_string().cmp(&a.id.to_string())));
            for c in complaints {
                let product = redress_analytics::cells::product_key(c.product.as_ref().map(|p| p.as_str()));
                if f.product.as_ref().is_none_or(|p| *p == product) {
                    records.push(redress_analytics::cfpb::cfpb_record(&c, &company, &tz));
                }
            }
            if records.len() > MAX_EXPORT {
                return Err(AppError::invalid("from", format!("more than {MAX_EXPORT} complaints; export a shorter period")));
            }
            match page.next {
                Some(next) => filter.after = Some(next),
                None => break,
            }
        }
    }
    let mut out = Vec::new();
    let rows = redress_analytics::cfpb::write_cfpb_csv(&records, &mut out).map_err(AppError::internal)?;
    Ok((out, rows))
}

/// An export lists complaints: only those who may see statistics (and, through the filter,
/// only their departments) may take one.
fn policy_export(caller: &Caller) -> AppResult<()> {
    crate::policy::require(caller, crate::policy::Operation::ViewStatistics)
}

/// The sections of the quarterly report's commentary, in order: the overall situation, the
/// analysis of the main causes, the remediation taken (整改措施).
pub const COMMENTARY_SECTIONS: [&str; 3] = ["overview", "causes", "remediation"];

/// The most characters one commentary section holds.
pub const COMMENTARY_CHARS: usize = 5_000;

/// The commentary of one quarterly report.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Commentary {
    /// Section → text, for the sections written.
    pub sections: BTreeMap<String, String>,
    /// Who wrote it last (user id).
    pub updated_by: Option<String>,
    /// When.
    pub updated_at: Option<jiff::Timestamp>,
}

/// The key a quarterly report's commentary is kept under: the quarter and the unit.
fn quarterly_key(report: &QuarterlyReport, org: &redress_domain::org::Organisation) -> String {
    let unit = report.unit.clone().unwrap_or_else(|| org.head_office().code.clone());
    format!("quarterly|{}-Q{}|{unit}", report.year, report.quarter)
}

/// The commentary written into a quarterly report (empty when none was).
pub async fn commentary(app: &App, report: &QuarterlyReport) -> AppResult<Commentary> {
    let Some((body, by, at)) = app.store.report_note(&quarterly_key(report, &app.rules.org)).await? else {
        return Ok(Commentary::default());
    };
    let sections = serde_json::from_value(body).map_err(AppError::internal)?;
    Ok(Commentary { sections, updated_by: Some(by), updated_at: Some(at) })
}

/// Writes the commentary of the quarterly report `params` names (supervisors and
/// administrators). Every section given replaces the one stored; an empty text removes it.
pub async fn save_commentary(app: &App, caller: &Caller, params: &ReportParams, sections: &BTreeMap<String, String>) -> AppResult<Commentary> {
    crate::policy::require(caller, crate::policy::Operation::CommentReports)?;
    let report = quarterly(app, caller, params).await?;
    let mut current = commentary(app, &report).await?.sections;
    for (name, text) in sections {
        if !COMMENTARY_SECTIONS.contains(&name.as_str()) {
            return Err(AppError::invalid(name.clone(), format!("not a section of the report; one of {}", COMMENTARY_SECTIONS.join(", "))));
        }
        let text = text.trim();
        if text.chars().count() > COMMENTARY_CHARS {
            return Err(AppError::invalid(name.clone(), format!("at most {COMMENTARY_CHARS} characters")));
        }
        if text.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
            return Err(AppError::invalid(name.clone(), "holds control characters"));
        }
        if text.is_empty() {
            current.remove(name);
        } else {
            current.insert(name.clone(), text.replace("\r\n", "\n"));
        }
    }
    let body = serde_json::to_value(&current).map_err(AppError::internal)?;
    let now = app.clock.now();
    app.store.set_report_note(&quarterly_key(&report, &app.rules.org), &body, &caller.user.id, now).await?;
    Ok(Commentary { sections: current, updated_by: Some(caller.user.id.clone()), updated_at: Some(now) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarters_and_halves() {
        assert_eq!(quarter(2026, 1), Period { from: Date::constant(2026, 1, 1), to: Date::constant(2026, 3, 31) });
        assert_eq!(quarter(2024, 4).to, Date::constant(2024, 12, 31));
        assert_eq!(half(2024, 2), Period { from: Date::constant(2024, 7, 1), to: Date::constant(2024, 12, 31) });
        assert_eq!(quarter(2026, 2).previous_quarter(), quarter(2026, 1));
        assert_eq!(quarter(2026, 1).previous_quarter(), quarter(2025, 4));
    }
}
