//! Hotspots and early warning (热点预警): the combinations whose complaints rose in the last
//! week against their own four weeks before, alerts first, each with its evidence (the week
//! against the baseline weeks, the test, the daily counts, example complaints, overlapping
//! incidents) and a way to the complaints behind it.
//!
//! The filter form shares its fields with the analysis page (`staff/scope_filters.html`); the
//! figures come from one call of `redress_app::hotspots::scan`.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jiff::ToSpan;
use redress_app::analytics::AnalysisParams;
use redress_app::hotspots::{self, Combination, HotspotItem, HotspotParams, Hotspots, Overlap};
use redress_app::{App, AppError, Caller, ErrorKind, policy};
use redress_domain::classify::Dimension;
use serde::{Deserialize, Serialize};

use crate::chart::{self, Bar, Svg};
use crate::error::PageError;
use crate::form::FieldErrors;
use crate::page::Page;
use crate::pages::analysis::{AnalysisForm, FilterChoices, field_errors};
use crate::pages::render;
use crate::session::Staff;
use crate::show::{Choice, taxonomy_name};

/// The routes of this page.
pub fn routes() -> Router<App> {
    Router::new().route("/hotspots", get(page))
}

/// The filter form of the hotspots page, as given in the address (every field optional; blank
/// is "any").
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct HotspotForm {
    /// The last day of the week under test (`YYYY-MM-DD`, local; default today).
    pub to: String,
    /// Unit code.
    pub unit: String,
    /// Department code.
    pub department: String,
    /// Channel.
    pub channel: String,
    /// Business-type code.
    pub business_type: String,
    /// Cause code.
    pub cause: String,
    /// Product, as named.
    pub product: String,
    /// Severity.
    pub severity: String,
    /// What a series is: `business_cause_unit` (default), `product` or `keyword`.
    pub by: String,
}

/// The wire name of a combination.
pub fn by_name(by: Combination) -> &'static str {
    match by {
        Combination::BusinessCauseUnit => "business_cause_unit",
        Combination::Product => "product",
        Combination::Keyword => "keyword",
    }
}

fn parse_by(v: &str) -> Result<Option<Combination>, AppError> {
    match v.trim() {
        "" => Ok(None),
        "business_cause_unit" => Ok(Some(Combination::BusinessCauseUnit)),
        "product" => Ok(Some(Combination::Product)),
        "keyword" => Ok(Some(Combination::Keyword)),
        _ => Err(AppError::invalid("by", "one of business_cause_unit, product, keyword")),
    }
}

impl HotspotForm {
    /// The same filters as the analysis form (whose fields the page shares).
    fn analysis(&self) -> AnalysisForm {
        AnalysisForm {
            to: self.to.clone(),
            unit: self.unit.clone(),
            department: self.department.clone(),
            channel: self.channel.clone(),
            business_type: self.business_type.clone(),
            cause: self.cause.clone(),
            product: self.product.clone(),
            severity: self.severity.clone(),
            ..AnalysisForm::default()
        }
    }

    /// The use case's parameters; an unknown combination is refused beside its field.
    pub fn params(&self) -> Result<HotspotParams, AppError> {
        let by = parse_by(&self.by)?;
        Ok(HotspotParams { filter: self.analysis().params()?, by })
    }
}

/// One complaint shown as an example of a hotspot.
#[derive(Debug, Clone)]
pub struct Example {
    /// Number (its page is `/complaints/{number}`).
    pub number: String,
    /// Received, local.
    pub received: String,
    /// Title, or the start of the narrative.
    pub title: String,
}

/// One rising series as the page shows it.
#[derive(Debug, Clone)]
pub struct HotspotRow {
    /// Whether it is an alert.
    pub alert: bool,
    /// The series' key, its parts joined by `|` (a stable attribute for tests and scripts).
    pub key: String,
    /// The parts of the combination: catalog key of the part's name, and its value named.
    pub parts: Vec<(&'static str, String)>,
    /// Complaints this week.
    pub window_count: u64,
    /// The four baseline weeks, oldest first.
    pub baseline: Vec<u64>,
    /// Expected this week.
    pub expected: String,
    /// This week over expected, `×7.1`.
    pub ratio: String,
    /// The test statistic.
    pub statistic: String,
    /// The p-value adjusted for the number of series tested.
    pub p_adjusted: String,
    /// The daily counts of the 35 days.
    pub sparkline: Svg,
    /// The newest complaints of the week.
    pub examples: Vec<Example>,
    /// Incidents sharing complaints with the week.
    pub incidents: Vec<Overlap>,
    /// The week's complaints on the search page, where it can list them.
    pub search_link: Option<String>,
    /// The week's analysis of the same combination.
    pub analysis_link: String,
}

/// The hotspots page.
#[derive(Template)]
#[template(path = "staff/hotspots.html")]
pub struct HotspotsPage {
    /// Common page parts.
    pub p: Page,
    /// The filters as given (or as the scan stands), in the analysis form's shape.
    pub form: AnalysisForm,
    /// The combination asked for.
    pub by: String,
    /// The combinations offered.
    pub bys: Vec<Choice>,
    /// Choices of the selects.
    pub choices: FilterChoices,
    /// Validation messages by field.
    pub errors: FieldErrors,
    /// The scan, unless the form was refused.
    pub scan: Option<ScanView>,
}

/// A scan as the page shows it.
#[derive(Debug, Clone)]
pub struct ScanView {
    /// The week under test, `2025-01-14 – 2025-01-20`.
    pub window: String,
    /// The four weeks before it.
    pub baseline: String,
    /// Series in the scan.
    pub series: usize,
    /// Combinations tested.
    pub tested: usize,
    /// The fewest complaints in the week for a series to be tested.
    pub min_count: u32,
    /// The significance level of the whole scan.
    pub threshold: String,
    /// Alerts among the rows.
    pub alerts: usize,
    /// Rising series, alerts first.
    pub rows: Vec<HotspotRow>,
}

/// A probability as people read it: three decimals, or scientific when smaller.
pub fn probability(p: f64) -> String {
    if !p.is_finite() {
        "—".to_string()
    } else if p < 0.001 {
        format!("{p:.1e}")
    } else {
        format!("{p:.3}")
    }
}

/// A figure with one decimal, or a dash when it is not a number.
fn one_decimal(v: f64) -> String {
    if v.is_finite() { format!("{v:.1}") } else { "—".to_string() }
}

/// A link to the week's complaints on the search page (those holding `words`, for a keyword),
/// or `None` for a product, which the search page cannot filter by.
pub fn search_link(list: &AnalysisParams, words: Option<&str>) -> Option<String> {
    if list.product.is_some() {
        return None;
    }
    let mut params: Vec<(&str, String)> = Vec::new();
    if let Some(q) = words {
        // Quoted: the keyword as one phrase.
        params.push(("q", format!("\"{q}\"")));
    }
    for (k, v) in [
        ("from", &list.from),
        ("to", &list.to),
        ("department", &list.department),
        ("unit", &list.unit),
        ("business_type", &list.business_type),
        ("cause", &list.cause),
        ("channel", &list.channel),
        ("severity", &list.severity),
    ] {
        if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
            params.push((k, v.clone()));
        }
    }
    Some(format!("/search?{}", serde_urlencoded::to_string(&params).unwrap_or_default()))
}

/// A link to the analysis of the week under the same filters (where the departments table
/// leads on to the complaints).
pub fn analysis_link(list: &AnalysisParams) -> String {
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    let form = AnalysisForm {
        from: o(&list.from),
        to: o(&list.to),
        unit: o(&list.unit),
        department: o(&list.department),
        channel: o(&list.channel),
        business_type: o(&list.business_type),
        cause: o(&list.cause),
        product: o(&list.product),
        severity: o(&list.severity),
        ..AnalysisForm::default()
    };
    format!("/analysis?{}", form.query(&[]))
}

/// One item as a row: names in the page's language, the sparkline, the links.
fn row(app: &App, p: &Page, h: &Hotspots, item: &HotspotItem) -> HotspotRow {
    let t = &item.hotspot;
    let lang = p.lang;
    let taxonomy = |d: Dimension, code: &str| if code.is_empty() { p.t("analysis.unclassified").to_string() } else { taxonomy_name(app, lang, d, code) };
    let part = |i: usize| t.key.get(i).cloned().unwrap_or_default();
    let parts = match h.by {
        Combination::BusinessCauseUnit => {
            let unit = part(2);
            let unit_name = app.rules.org.unit(&unit).map_or_else(|| if unit.is_empty() { p.t("analysis.unknown").to_string() } else { unit.clone() }, |u| u.name.clone());
            vec![
                ("field.business_type", taxonomy(Dimension::BusinessType, &part(0))),
                ("field.cause", taxonomy(Dimension::Cause, &part(1))),
                ("field.unit", unit_name),
            ]
        }
        Combination::Product => {
            let product = part(0);
            vec![("field.product", if product.is_empty() || product == "unknown" { p.t("analysis.unknown").to_string() } else { product })]
        }
        Combination::Keyword => vec![("hotspots.keyword", part(0))],
    };
    let keyword = (h.by == Combination::Keyword).then(|| part(0)).filter(|k| !k.is_empty());
    let bars: Vec<Bar> = item
        .daily
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let day = h.baseline.from.checked_add((i as i64).days()).unwrap_or(h.baseline.from);
            Bar { label: day.to_string(), value: u64::from(*n), tooltip: format!("{day}: {n}") }
        })
        .collect();
    let sparkline = chart::sparkline(p.t("hotspots.daily"), &bars, h.settings.window_days);
    HotspotRow {
        alert: t.alert,
        key: t.key.join("|"),
        parts,
        window_count: t.window_count,
        baseline: t.baseline_counts.clone(),
        expected: one_decimal(t.baseline_expected),
        ratio: if t.ratio.is_finite() { format!("×{:.1}", t.ratio) } else { "—".to_string() },
        statistic: if t.statistic.is_finite() { format!("{:.2}", t.statistic) } else { "—".to_string() },
        p_adjusted: probability(t.p_adjusted),
        sparkline,
        examples: item.examples.iter().map(|c| Example { number: c.number.clone(), received: p.time(&c.received_at), title: c.title.clone() }).collect(),
        incidents: item.incidents.clone(),
        search_link: search_link(&item.list, keyword.as_deref()),
        analysis_link: analysis_link(&item.list),
    }
}

/// The scan as the page shows it.
pub fn view(app: &App, p: &Page, h: &Hotspots) -> ScanView {
    let mut rows: Vec<HotspotRow> = h.items.iter().map(|item| row(app, p, h, item)).collect();
    // Alerts first, each group in the scan's order (strongest first).
    rows.sort_by_key(|r| !r.alert);
    let span = |x: redress_app::analytics::Period| format!("{} – {}", x.from, x.to);
    ScanView {
        window: span(h.window),
        baseline: span(h.baseline),
        series: h.series,
        tested: h.tested,
        min_count: h.settings.min_count,
        threshold: format!("{}", h.settings.threshold),
        alerts: rows.iter().filter(|r| r.alert).count(),
        rows,
    }
}

/// Runs the scan of the form, or gives back the form's errors.
async fn scanned(app: &App, caller: &Caller, form: &HotspotForm) -> Result<Result<Hotspots, AppError>, PageError> {
    let result = match form.params() {
        Ok(params) => hotspots::scan(app, caller, &params).await,
        // Permission comes before the form: a person without it is refused whatever they ask.
        Err(e) => policy::statistics_departments(caller, &app.rules.org).and(Err(e)),
    };
    match result {
        Ok(h) => Ok(Ok(h)),
        Err(e) if e.kind == ErrorKind::Invalid => Ok(Err(e)),
        Err(e) => Err(e.into()),
    }
}

/// Shows the rising series of the week ending on the day asked for (today by default).
pub async fn page(State(app): State<App>, staff: Staff, Query(form): Query<HotspotForm>) -> Result<Response, PageError> {
    let p = Page::staff(&app, &staff, "hotspots.title", "hotspots");
    let outcome = scanned(&app, &staff.caller, &form).await?;
    let choices = FilterChoices::of(&app, &staff.caller, &p);
    let bys = [Combination::BusinessCauseUnit, Combination::Product, Combination::Keyword].iter().map(|b| (by_name(*b).to_string(), p.label("hotspots.by", by_name(*b)))).collect();
    match outcome {
        Ok(h) => {
            let scan = view(&app, &p, &h);
            let mut shown = AnalysisForm::of_filter(&h.filter, "");
            shown.from = String::new();
            shown.grain = String::new();
            render(&HotspotsPage { form: shown, by: by_name(h.by).to_string(), bys, choices, errors: FieldErrors::default(), scan: Some(scan), p })
        }
        Err(e) => {
            let errors = field_errors(&p, &e);
            let page = HotspotsPage { form: form.analysis(), by: form.by.clone(), bys, choices, errors, scan: None, p };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_becomes_parameters() {
        let form = HotspotForm { to: " 2025-01-20 ".into(), unit: "SH".into(), by: "product".into(), ..Default::default() };
        let params = form.params().expect("valid");
        assert_eq!(params.filter.to.as_deref(), Some("2025-01-20"));
        assert_eq!(params.filter.unit.as_deref(), Some("SH"));
        assert_eq!(params.by, Some(Combination::Product));
        assert_eq!(HotspotForm::default().params().expect("valid").by, None);
        let bad = HotspotForm { by: "galaxy".into(), ..Default::default() };
        assert_eq!(bad.params().expect_err("refused").field.as_deref(), Some("by"));
    }

    #[test]
    fn probabilities_are_readable() {
        assert_eq!(probability(0.0123), "0.012");
        assert_eq!(probability(0.000_000_32), "3.2e-7");
        assert_eq!(probability(f64::NAN), "—");
    }

    #[test]
    fn the_analysis_link_carries_the_week_and_the_combination() {
        let list = AnalysisParams {
            from: Some("2025-01-14".into()),
            to: Some("2025-01-20".into()),
            unit: Some("SH".into()),
            business_type: Some("B0302".into()),
            ..Default::default()
        };
        assert_eq!(analysis_link(&list), "/analysis?from=2025-01-14&to=2025-01-20&unit=SH&business_type=B0302");
    }
}
