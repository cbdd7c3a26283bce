//! Hotspots and early warning: which combinations (business type × cause × unit, or product)
//! rose in the last week against their own previous four weeks, with the test statistic and
//! the evidence (counts, baseline, example complaints, overlapping incidents).
//!
//! The daily series come from the statistics cells (`received`, grouped by day and the
//! combination), so a scan reads 35 days × combinations whatever the size of the store. The
//! test is `redress_analytics::hotspot` (negative binomial against the baseline weeks,
//! Bonferroni over the series tested).

use std::collections::BTreeMap;

use jiff::ToSpan;
use jiff::civil::Date;
use redress_analytics::cells::{Measure, day_number};
use redress_analytics::hotspot::{self, Hotspot, HotspotSettings, Series};
use redress_store::{ComplaintFilter, ComplaintSummary, StatColumn};
use serde::{Deserialize, Serialize};

use crate::analytics::{self, AnalysisFilter, AnalysisParams, Period};
use crate::error::{AppError, AppResult};
use crate::{App, Caller};

/// What a series is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Combination {
    /// Business type × cause × unit (the unit of the owner department).
    #[default]
    BusinessCauseUnit,
    /// The product as named.
    Product,
    /// A keyword of the text at intake (a term many complaints suddenly use).
    Keyword,
}

/// A scan's parameters: the analysis filters (their `to` is the last day of the window under
/// test; `from` is ignored) and the combination.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct HotspotParams {
    /// The filters.
    #[serde(flatten)]
    pub filter: AnalysisParams,
    /// What a series is.
    pub by: Option<Combination>,
}

/// An incident that shares complaints with a hotspot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overlap {
    /// Incident id.
    pub id: String,
    /// Its label.
    pub label: String,
    /// Complaints of the hotspot's window that belong to it (among those read).
    pub shared: usize,
}

/// One series tested, with its evidence.
#[derive(Debug, Clone, Serialize)]
pub struct HotspotItem {
    /// The test.
    pub hotspot: Hotspot,
    /// The daily counts of the window and its baseline, oldest first.
    pub daily: Vec<u32>,
    /// The newest complaints of the window (at most [`EXAMPLES`]); read for alerts only.
    pub examples: Vec<ComplaintSummary>,
    /// Incidents sharing complaints with the window; read for alerts only.
    pub incidents: Vec<Overlap>,
    /// The filters that list the window's complaints.
    pub list: AnalysisParams,
}

/// A scan.
#[derive(Debug, Clone, Serialize)]
pub struct Hotspots {
    /// The window under test.
    pub window: Period,
    /// The baseline before it.
    pub baseline: Period,
    /// What a series is.
    pub by: Combination,
    /// The detector's settings.
    pub settings: HotspotSettings,
    /// Series in the scan (with any complaint in the 35 days).
    pub series: usize,
    /// Series tested (with at least `min_count` complaints in the window).
    pub tested: usize,
    /// Series tested (enough complaints in the window), rising first by statistic; alerts
    /// are marked.
    pub items: Vec<HotspotItem>,
    /// The filters.
    #[serde(skip)]
    pub filter: AnalysisFilter,
}

/// Example complaints shown per hotspot.
pub const EXAMPLES: u32 = 3;
/// Complaints of a window read to find overlapping incidents.
const OVERLAP_READ: u32 = 50;
/// Most items a scan lists (alerts first).
pub const MAX_ITEMS: usize = 20;

/// The detector's settings from the default rule profile.
pub fn settings(app: &App) -> HotspotSettings {
    let rule = &app.rules.default_rules().profile.hotspots;
    use rust_decimal::prelude::ToPrimitive;
    HotspotSettings { min_count: rule.min_count, threshold: rule.alert_level.to_f64().unwrap_or(0.01), ..HotspotSettings::default() }
}

/// Scans the series of the filter's departments for rises in the week ending `to` (default
/// today).
pub async fn scan(app: &App, caller: &Caller, params: &HotspotParams) -> AppResult<Hotspots> {
    let settings = settings(app);
    let days = settings.history_days() as i64;
    let mut filter_params = params.filter.clone();
    let to = match filter_params.to.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(t) => t.trim().parse::<Date>().map_err(|_| AppError::invalid("to", "not a date (YYYY-MM-DD)"))?,
        None => analytics::today(app),
    };
    let from = to.checked_sub((days - 1).days()).unwrap_or(to);
    filter_params.from = Some(from.to_string());
    filter_params.to = Some(to.to_string());
    let f = analytics::analysis_filter(app, caller, &filter_params)?;
    let by = params.by.unwrap_or_default();
    let group: &[StatColumn] = match by {
        Combination::BusinessCauseUnit => &[StatColumn::Day, StatColumn::BusinessType, StatColumn::Cause, StatColumn::Department],
        Combination::Product => &[StatColumn::Day, StatColumn::Product],
        Combination::Keyword => &[StatColumn::Day, StatColumn::Value],
    };
    let measure = if by == Combination::Keyword { Measure::Keyword } else { Measure::Received };
    let rows = app.store.stat_rows(&f.query(measure, f.period, group)).await?;
    let org = &app.rules.org;
    let first = day_number(from);
    let mut series: BTreeMap<Vec<String>, Vec<u32>> = BTreeMap::new();
    for r in rows {
        let Some(day) = r.keys.first().and_then(|d| d.parse::<i32>().ok()) else { continue };
        let index = (day - first) as usize;
        let key: Vec<String> = match by {
            Combination::BusinessCauseUnit => {
                let unit = org.department(&r.keys[3]).map_or_else(|| r.keys[3].clone(), |d| d.unit.clone());
                vec![r.keys[1].clone(), r.keys[2].clone(), unit]
            }
            Combination::Product | Combination::Keyword => vec![r.keys[1].clone()],
        };
        if let Some(slot) = series.entry(key).or_insert_with(|| vec![0; days as usize]).get_mut(index) {
            *slot += u32::try_from(r.n.max(0)).unwrap_or(u32::MAX);
        }
    }
    let series: Vec<Series> = series.into_iter().map(|(key, counts)| Series { key, counts }).collect();
    let assessed = hotspot::assess(&series, days as usize - 1, &settings).map_err(|e| AppError::invalid("to", e.to_string()))?;
    let tested = assessed.len();
    let window = Period { from: to.checked_sub((settings.window_days as i64 - 1).days()).unwrap_or(to), to };
    let baseline = Period { from, to: window.from.yesterday().unwrap_or(window.from) };
    let rising: Vec<Hotspot> = assessed.into_iter().filter(|h| h.rising).take(MAX_ITEMS).collect();
    // The evidence (example complaints, overlapping incidents) is read for the alerts only:
    // each is a list of the window's complaints, whose cost grows with the window's volume,
    // and an alert is what the supervisors act on. A rising item without an alert links to
    // its complaints. The alerts' evidence runs together.
    let evidence = futures::future::try_join_all(rising.iter().map(|h| {
        let list = list_params(&f, &h.key, by, window, org);
        async move {
            if !h.alert {
                return AppResult::Ok((list, Vec::new(), Vec::new()));
            }
            let keyword = (by == Combination::Keyword).then(|| h.key[0].as_str());
            let (examples, incidents) = evidence(app, caller, &list, keyword).await?;
            AppResult::Ok((list, examples, incidents))
        }
    }))
    .await?;
    let items: Vec<HotspotItem> = rising
        .into_iter()
        .zip(evidence)
        .map(|(h, (list, examples, incidents))| {
            let daily = series.iter().find(|s| s.key == h.key).map(|s| s.counts.clone()).unwrap_or_default();
            HotspotItem { hotspot: h, daily, examples, incidents, list }
        })
        .collect();
    Ok(Hotspots { window, baseline, by, settings, series: series.len(), tested, items, filter: f })
}

/// The filters listing a series' complaints in the window.
fn list_params(f: &AnalysisFilter, key: &[String], by: Combination, window: Period, org: &redress_domain::org::Organisation) -> AnalysisParams {
    let mut p = f.params();
    p.from = Some(window.from.to_string());
    p.to = Some(window.to.to_string());
    match by {
        Combination::BusinessCauseUnit => {
            p.business_type = Some(key[0].clone()).filter(|s| !s.is_empty());
            p.cause = Some(key[1].clone()).filter(|s| !s.is_empty());
            if org.unit(&key[2]).is_some() {
                p.unit = Some(key[2].clone());
            }
        }
        Combination::Product => p.product = Some(key[0].clone()).filter(|s| !s.is_empty()),
        // A keyword is no list filter: the window's complaints of the filter are listed.
        Combination::Keyword => {}
    }
    p
}

/// Example complaints of a window and the incidents they belong to, read through the
/// caller's own reach.
async fn evidence(app: &App, caller: &Caller, list: &AnalysisParams, keyword: Option<&str>) -> AppResult<(Vec<ComplaintSummary>, Vec<Overlap>)> {
    let f = analytics::analysis_filter(app, caller, list)?;
    let tz = redress_domain::complaint::time_zone(app.rules.default_rules());
    let start = f.period.from.to_zoned(tz.clone()).map_err(AppError::internal)?.timestamp();
    let end = f.period.to.tomorrow().unwrap_or(f.period.to).to_zoned(tz).map_err(AppError::internal)?.timestamp();
    let filter = ComplaintFilter {
        departments: f.departments.clone().unwrap_or_default(),
        business_type: f.business_type.clone(),
        cause: f.cause.clone(),
        received_from: Some(start),
        received_to: Some(end),
        limit: OVERLAP_READ,
        ..Default::default()
    };
    if f.departments.as_ref().is_some_and(Vec::is_empty) {
        return Ok((Vec::new(), Vec::new()));
    }
    let mut page = app.store.list(&filter).await?.items;
    // Neither a product nor a keyword is a list filter: keep the complaints that have it.
    if f.product.is_some() || keyword.is_some() {
        let ids: Vec<_> = page.iter().map(|s| s.id).collect();
        let full = app.store.complaints(&ids).await?;
        let keeps = |c: &redress_domain::complaint::Complaint| {
            f.product.as_ref().is_none_or(|p| redress_analytics::cells::product_key(c.product.as_ref().map(|x| x.as_str())) == *p)
                && keyword.is_none_or(|k| c.keywords.iter().any(|w| redress_analytics::cells::product_key(Some(w)) == k))
        };
        page.retain(|s| full.iter().any(|c| c.id == s.id && keeps(c)));
    }
    let ids: Vec<_> = page.iter().map(|s| s.id).collect();
    let mut shared: BTreeMap<String, usize> = BTreeMap::new();
    for (_, incident) in app.store.incidents_of(&ids).await? {
        *shared.entry(incident).or_default() += 1;
    }
    let mut incidents = Vec::new();
    for (id, count) in shared {
        if let Some((incident, _)) = app.store.incident(&id).await? {
            incidents.push(Overlap { id, label: incident.label, shared: count });
        }
    }
    incidents.sort_by(|a, b| b.shared.cmp(&a.shared).then_with(|| a.id.cmp(&b.id)));
    page.truncate(EXAMPLES as usize);
    Ok((page, incidents))
}
