//! The five-dimension analysis (五维分析): time, space, participants, event and emotion of the
//! complaints of a period, as figures with charts, tables whose counts lead to the complaints
//! behind them, and downloads (CSV, Excel).
//!
//! The filter form is shared with the scorecards page ([`AnalysisForm`]); the figures come from
//! one call of `redress_app::analytics::analyse`; the page and both downloads are drawn from
//! the same [`AnalysisView`].

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jiff::ToSpan;
use jiff::civil::Date;
use redress_analytics::export::{self, Table, Value};
use redress_app::analytics::{self, Analysis, AnalysisFilter, AnalysisParams, Grain, Group};
use redress_app::policy;
use redress_app::{App, AppError, Caller, ErrorKind};
use redress_domain::classify::Dimension;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::chart::{self, Bar, Svg};
use crate::error::PageError;
use crate::form::FieldErrors;
use crate::page::Page;
use crate::pages::render;
use crate::pages::search::group_digits;
use crate::session::Staff;
use crate::show::{Choice, filter_choices, taxonomy_name};

/// The routes of these pages.
pub fn routes() -> Router<App> {
    Router::new().route("/analysis", get(page)).route("/analysis.csv", get(csv)).route("/analysis.xlsx", get(xlsx))
}

/// The filter form of the analysis and scorecards pages, as given in the address (every field
/// optional; blank is "any").
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct AnalysisForm {
    /// First day (`YYYY-MM-DD`, local).
    pub from: String,
    /// Last day.
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
    /// Trend buckets: `day`, `week`, `month`.
    pub grain: String,
    /// Whose scorecards: `handler`, `department`, `unit` (the scorecards page only).
    pub level: String,
}

fn some(v: &str) -> Option<String> {
    let v = v.trim();
    (!v.is_empty()).then(|| v.to_string())
}

/// The wire name of a grain.
pub fn grain_name(g: Grain) -> &'static str {
    match g {
        Grain::Day => "day",
        Grain::Week => "week",
        Grain::Month => "month",
    }
}

impl AnalysisForm {
    /// The use case's parameters; an unknown grain is refused beside its field.
    pub fn params(&self) -> Result<AnalysisParams, AppError> {
        let grain = match self.grain.trim() {
            "" => None,
            "day" => Some(Grain::Day),
            "week" => Some(Grain::Week),
            "month" => Some(Grain::Month),
            _ => return Err(AppError::invalid("grain", "one of day, week, month")),
        };
        Ok(AnalysisParams {
            from: some(&self.from),
            to: some(&self.to),
            unit: some(&self.unit),
            department: some(&self.department),
            channel: some(&self.channel),
            business_type: some(&self.business_type),
            cause: some(&self.cause),
            product: some(&self.product),
            severity: some(&self.severity),
            grain,
        })
    }

    /// The form as the checked filter stands (the default dates filled in).
    pub fn of_filter(f: &AnalysisFilter, level: &str) -> AnalysisForm {
        let o = |v: &Option<String>| v.clone().unwrap_or_default();
        AnalysisForm {
            from: f.period.from.to_string(),
            to: f.period.to.to_string(),
            unit: o(&f.unit),
            department: o(&f.department),
            channel: o(&f.channel),
            business_type: o(&f.business_type),
            cause: o(&f.cause),
            product: o(&f.product),
            severity: o(&f.severity),
            grain: grain_name(f.grain).to_string(),
            level: level.to_string(),
        }
    }

    /// The form's non-blank fields as address parameters, with some replaced.
    pub fn query(&self, replace: &[(&str, &str)]) -> String {
        let mut params: Vec<(&str, String)> = Vec::new();
        for (k, v) in [
            ("from", &self.from),
            ("to", &self.to),
            ("unit", &self.unit),
            ("department", &self.department),
            ("channel", &self.channel),
            ("business_type", &self.business_type),
            ("cause", &self.cause),
            ("product", &self.product),
            ("severity", &self.severity),
            ("grain", &self.grain),
            ("level", &self.level),
        ] {
            let v = replace.iter().find(|(r, _)| *r == k).map_or(v.as_str(), |(_, r)| *r);
            if !v.trim().is_empty() {
                params.push((k, v.trim().to_string()));
            }
        }
        serde_urlencoded::to_string(&params).unwrap_or_default()
    }
}

/// The choices of the filter form, limited to the units and departments in the person's reach.
#[derive(Debug, Clone, Default)]
pub struct FilterChoices {
    /// Channels, business types, causes, severities.
    pub base: filter_choices::Choices,
    /// Units with a department in reach.
    pub units: Vec<Choice>,
    /// Departments in reach.
    pub departments: Vec<Choice>,
    /// Trend buckets.
    pub grains: Vec<Choice>,
}

impl FilterChoices {
    /// The choices for a person.
    pub fn of(app: &App, caller: &Caller, p: &Page) -> FilterChoices {
        let org = &app.rules.org;
        let reach = policy::statistics_departments(caller, org).unwrap_or(Some(Vec::new()));
        let in_reach = |code: &str| reach.as_ref().is_none_or(|r| r.iter().any(|d| d == code));
        let any = (String::new(), p.t("common.any").to_string());
        let mut departments = vec![any.clone()];
        departments.extend(org.departments().iter().filter(|d| in_reach(&d.code)).map(|d| (d.code.clone(), d.name.clone())));
        let mut units = vec![any];
        units.extend(
            org.units()
                .iter()
                .filter(|u| org.departments().iter().any(|d| in_reach(&d.code) && org.is_within(&d.unit, &u.code)))
                .map(|u| (u.code.clone(), u.name.clone())),
        );
        let grains = ["day", "week", "month"].iter().map(|g| (g.to_string(), p.t(grain_key(g)).to_string())).collect();
        FilterChoices { base: filter_choices::of(app, p), units, departments, grains }
    }
}

fn grain_key(g: &str) -> &'static str {
    match g {
        "week" => "analysis.grain_week",
        "month" => "analysis.grain_month",
        _ => "analysis.grain_day",
    }
}

/// `part / whole` as a percentage with one decimal, or a dash when there is nothing to divide.
pub fn percent(part: i64, whole: i64) -> String {
    rate_text(redress_app::scorecards::rate(part, whole))
}

/// A share (0–1) as a percentage with one decimal, or a dash.
pub fn rate_text(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".to_string(), |r| format!("{:.1}%", r * 100.0))
}

/// The change from `before` to `now` in percent with its sign, and its direction (`up`,
/// `down`, `same`; empty when there was nothing before).
pub fn change(now: i64, before: i64) -> (String, &'static str) {
    if before == 0 {
        // Nothing to compare with: no percentage, no direction.
        return ("—".to_string(), "");
    }
    let pct = (now - before) as f64 / before as f64 * 100.0;
    let dir = match now.cmp(&before) {
        std::cmp::Ordering::Greater => "up",
        std::cmp::Ordering::Less => "down",
        std::cmp::Ordering::Equal => "same",
    };
    (format!("{}{pct:.1}%", if pct > 0.0 { "+" } else { "" }), dir)
}

/// An amount in hundredths with its currency: `1,234.56 CNY`.
pub fn money(hundredths: i64, currency: &str) -> String {
    let sign = if hundredths < 0 { "-" } else { "" };
    let abs = hundredths.unsigned_abs();
    format!("{sign}{}.{:02} {currency}", group_digits(abs / 100), abs % 100)
}

/// An amount in hundredths as a decimal number, for downloads.
pub fn decimal(hundredths: i64) -> Decimal {
    Decimal::new(hundredths, 2)
}

/// One line of a breakdown.
#[derive(Debug, Clone)]
pub struct Row {
    /// The group's key (a code, a day, a value).
    pub key: String,
    /// Its name in the page's language.
    pub name: String,
    /// Count in the period.
    pub n: i64,
    /// The complaints behind the count, or a drill-down, where a page can show them.
    pub link: Option<String>,
    /// Share of the whole, in percent.
    pub share: String,
    /// Count in the period before, where compared.
    pub previous: Option<i64>,
    /// Change from the period before, in percent.
    pub change: String,
    /// Its direction: `up`, `down`, `same` or empty.
    pub trend: &'static str,
    /// The sum in hundredths of the currency named by the key (money breakdowns).
    pub total: Option<i64>,
}

impl Row {
    /// The sum as money, or empty.
    pub fn total_text(&self) -> String {
        self.total.map(|t| money(t, &self.key)).unwrap_or_default()
    }
}

/// A breakdown of one dimension: a chart (for the main ones) and its table.
#[derive(Debug, Clone)]
pub struct Breakdown {
    /// Stable id (HTML anchor, download).
    pub id: &'static str,
    /// Catalog key of its title.
    pub title: &'static str,
    /// The chart, for the main breakdowns.
    pub chart: Option<Svg>,
    /// The groups, largest first.
    pub rows: Vec<Row>,
    /// Whether rows carry the period before.
    pub compared: bool,
    /// Whether rows carry money sums (keyed by currency).
    pub money: bool,
    /// Whether the table is folded under its chart (long series).
    pub folded: bool,
}

/// One of the five dimensions.
#[derive(Debug, Clone)]
pub struct Section {
    /// Stable id (HTML anchor).
    pub id: &'static str,
    /// Catalog key of its title.
    pub title: &'static str,
    /// Its breakdowns.
    pub breakdowns: Vec<Breakdown>,
}

/// A headline figure.
#[derive(Debug, Clone)]
pub struct Figure {
    /// Stable id.
    pub id: &'static str,
    /// Catalog key of its name.
    pub label: &'static str,
    /// The figure.
    pub value: String,
    /// What it is compared with, or its period.
    pub note: String,
    /// Direction of the change: `up`, `down`, `same` or empty.
    pub trend: &'static str,
    /// The complaints behind it, where a page can show them.
    pub link: Option<String>,
}

/// One weekday of the weekday × hour grid.
#[derive(Debug, Clone)]
pub struct HeatRow {
    /// Catalog key of the weekday.
    pub day: &'static str,
    /// Count and shade (0–9) per hour.
    pub cells: Vec<(i64, u8)>,
}

/// The analysis as the page and the downloads show it.
#[derive(Debug, Clone)]
pub struct AnalysisView {
    /// The form as the filter stands.
    pub form: AnalysisForm,
    /// The period, `2025-01-01 – 2025-01-30`.
    pub period: String,
    /// Headline figures.
    pub headline: Vec<Figure>,
    /// Received per bucket.
    pub trend: Breakdown,
    /// Received by weekday × hour.
    pub heat: Vec<HeatRow>,
    /// Space, participants, event and emotion.
    pub sections: Vec<Section>,
    /// The same analysis one level up, when drilled down to a unit.
    pub up_link: Option<String>,
    /// The scorecards of the same filter.
    pub scorecards_link: String,
    /// Downloads.
    pub csv_link: String,
    /// Downloads.
    pub xlsx_link: String,
}

/// The weekday keys, Monday first.
const WEEKDAYS: [&str; 7] =
    ["analysis.weekday_mon", "analysis.weekday_tue", "analysis.weekday_wed", "analysis.weekday_thu", "analysis.weekday_fri", "analysis.weekday_sat", "analysis.weekday_sun"];

/// Builds the view of an analysis: names in the page's language, links, charts.
struct Builder<'a> {
    app: &'a App,
    p: &'a Page,
    f: &'a AnalysisFilter,
    form: AnalysisForm,
    charts: bool,
}

impl Builder<'_> {
    /// A link to the complaints received on these days under the filter, with some filters
    /// replaced; `None` where the search page cannot express the filter (a product, or a unit
    /// not narrowed to a department).
    fn search_link(&self, from: Date, to: Date, replace: &[(&str, &str)]) -> Option<String> {
        let f = self.f;
        let department = replace.iter().find(|(k, _)| *k == "department").map(|(_, v)| v.to_string()).or_else(|| f.department.clone());
        if f.product.is_some() {
            return None;
        }
        let mut params: Vec<(&str, String)> = vec![("from", from.to_string()), ("to", to.to_string())];
        let unit = replace.iter().find(|(k, _)| *k == "unit").map(|(_, v)| v.to_string()).or_else(|| f.unit.clone());
        for (k, v) in [("department", &department), ("unit", &unit), ("business_type", &f.business_type), ("cause", &f.cause), ("channel", &f.channel), ("severity", &f.severity)] {
            let v = replace.iter().find(|(r, _)| *r == k).map(|(_, r)| r.to_string()).or_else(|| v.clone());
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                params.push((k, v));
            }
        }
        Some(format!("/search?{}", serde_urlencoded::to_string(&params).unwrap_or_default()))
    }

    /// A link for a group of the whole period with one filter replaced by its key.
    fn group_link(&self, filter: &str, key: &str) -> Option<String> {
        if key.is_empty() {
            return None;
        }
        self.search_link(self.f.period.from, self.f.period.to, &[(filter, key)])
    }

    fn breakdown(&self, (id, title): (&'static str, &'static str), groups: &[Group], whole: i64, name: impl Fn(&str) -> String, link: impl Fn(&str) -> Option<String>, chart: bool) -> Breakdown {
        let compared = groups.iter().any(|g| g.previous.is_some());
        let rows: Vec<Row> = groups
            .iter()
            .map(|g| {
                let (change, trend) = g.previous.map_or((String::new(), ""), |prev| change(g.n, prev));
                Row { key: g.key.clone(), name: name(&g.key), n: g.n, link: if g.n > 0 { link(&g.key) } else { None }, share: percent(g.n, whole), previous: g.previous, change, trend, total: None }
            })
            .collect();
        let chart = (chart && self.charts).then(|| {
            let bars: Vec<Bar> = rows.iter().filter(|r| r.n > 0).map(|r| Bar { label: r.name.clone(), value: r.n.max(0) as u64, tooltip: format!("{}: {}", r.name, r.n) }).collect();
            chart::hbar_chart(self.p.t(title), &bars, self.p.t("analysis.none"))
        });
        Breakdown { id, title, chart, rows, compared, money: false, folded: false }
    }

    fn money_breakdown(&self, id: &'static str, title: &'static str, groups: &[Group]) -> Breakdown {
        let rows = groups
            .iter()
            .map(|g| Row { key: g.key.clone(), name: g.key.clone(), n: g.n, link: None, share: String::new(), previous: None, change: String::new(), trend: "", total: Some(g.total) })
            .collect();
        Breakdown { id, title, chart: None, rows, compared: false, money: true, folded: false }
    }

    fn yes_no(&self, id: &'static str, title: &'static str, (yes, no): (i64, i64)) -> Breakdown {
        let groups = [Group { key: "yes".into(), n: yes, total: 0, previous: None }, Group { key: "no".into(), n: no, total: 0, previous: None }];
        self.breakdown((id, title), &groups, yes + no, |k| self.p.t(if k == "yes" { "analysis.yes" } else { "analysis.no" }).to_string(), |_| None, false)
    }

    fn taxonomy(&self, dimension: Dimension, code: &str) -> String {
        if code.is_empty() { self.p.t("analysis.unclassified").to_string() } else { taxonomy_name(self.app, self.p.lang, dimension, code) }
    }

    fn or_unknown(&self, v: String, key: &str) -> String {
        if key.is_empty() || key == "unknown" { self.p.t("analysis.unknown").to_string() } else { v }
    }

    fn view(self, a: &Analysis) -> AnalysisView {
        let (app, p, f) = (self.app, self.p, self.f);
        let org = &app.rules.org;
        let period = f.period;
        let prev = period.previous();
        let year = period.year_before();
        let closed: i64 = a.closed.iter().map(|g| g.n).sum();
        let (vs_prev, prev_dir) = change(a.received, a.previous_received);
        let (vs_year, year_dir) = change(a.received, a.year_ago_received);
        let span = |x: analytics::Period| format!("{} – {}", x.from, x.to);
        let headline = vec![
            Figure { id: "received", label: "analysis.received", value: group_digits(a.received.max(0) as u64), note: span(period), trend: "", link: self.search_link(period.from, period.to, &[]) },
            Figure {
                id: "previous",
                label: "analysis.vs_previous",
                value: vs_prev,
                note: format!("{} {} · {}", p.t("analysis.previous_count"), a.previous_received, span(prev)),
                trend: prev_dir,
                link: None,
            },
            Figure {
                id: "year_ago",
                label: "analysis.vs_year_ago",
                value: vs_year,
                note: format!("{} {} · {}", p.t("analysis.year_ago_count"), a.year_ago_received, span(year)),
                trend: year_dir,
                link: None,
            },
            Figure { id: "closed", label: "analysis.closed", value: group_digits(closed.max(0) as u64), note: span(period), trend: "", link: None },
            Figure { id: "on_time", label: "analysis.on_time_rate", value: percent(a.on_time.0, a.on_time.0 + a.on_time.1), note: format!("{} / {}", a.on_time.0, a.on_time.0 + a.on_time.1), trend: "", link: None },
            Figure { id: "upheld", label: "analysis.upheld_rate", value: percent(a.upheld.0, a.upheld.0 + a.upheld.1), note: format!("{} / {}", a.upheld.0, a.upheld.0 + a.upheld.1), trend: "", link: None },
        ];

        // Time.
        let bucket_end = |start: Date| -> Date {
            let end = match f.grain {
                Grain::Day => start,
                Grain::Week => start.checked_add(6.days()).unwrap_or(start),
                Grain::Month => start.last_of_month(),
            };
            end.min(period.to)
        };
        let trend_rows: Vec<Row> = a
            .trend
            .iter()
            .map(|pt| {
                let from = pt.start.max(period.from);
                let to = bucket_end(pt.start);
                let name = if from == to { from.to_string() } else { format!("{from} – {to}") };
                Row {
                    key: pt.start.to_string(),
                    name,
                    n: pt.n,
                    link: if pt.n > 0 { self.search_link(from, to, &[]) } else { None },
                    share: percent(pt.n, a.received),
                    previous: None,
                    change: String::new(),
                    trend: "",
                    total: None,
                }
            })
            .collect();
        let trend_chart = self.charts.then(|| {
            let bars: Vec<Bar> = a
                .trend
                .iter()
                .map(|pt| {
                    let label = match f.grain {
                        Grain::Month => pt.start.strftime("%Y-%m").to_string(),
                        _ => pt.start.strftime("%m-%d").to_string(),
                    };
                    Bar { label, value: pt.n.max(0) as u64, tooltip: format!("{}: {}", pt.start, pt.n) }
                })
                .collect();
            chart::bar_chart(p.t("analysis.trend"), &bars, p.t("analysis.none"))
        });
        let trend = Breakdown { id: "trend", title: "analysis.trend", chart: trend_chart, rows: trend_rows, compared: false, money: false, folded: true };
        let max = a.weekday_hour.iter().flat_map(|d| d.iter()).copied().max().unwrap_or(0);
        let heat = a
            .weekday_hour
            .iter()
            .zip(WEEKDAYS)
            .map(|(hours, day)| HeatRow { day, cells: hours.iter().map(|n| (*n, chart::heat_level(*n, max))).collect() })
            .collect();

        // Space.
        let unit_name = |code: &str| org.unit(code).map_or_else(|| code.to_string(), |u| u.name.clone());
        let here = f.unit.clone().unwrap_or_default();
        let form = &self.form;
        let space = Section {
            id: "space",
            title: "analysis.space",
            breakdowns: vec![
                self.breakdown(("units", "analysis.units"),
                    &a.units,
                    a.received,
                    unit_name,
                    |k| (k != here).then(|| format!("/analysis?{}", form.query(&[("unit", k)]))),
                    true,
                ),
                self.breakdown(("regions", "analysis.regions"), &a.regions, a.received, |k| self.or_unknown(k.to_string(), k), |_| None, false),
                self.breakdown(("departments", "analysis.departments"), &a.departments, a.received, |k| p.department_name(org, k), |k| self.group_link("department", k), true),
            ],
        };

        // Participants (handlers are ranked on the scorecards page).
        let participants = Section {
            id: "participants",
            title: "analysis.participants",
            breakdowns: vec![
                self.breakdown(("complainant_types", "analysis.complainant_types"), &a.complainant_types, a.received, |k| p.label("customer_type", k), |_| None, true),
                self.breakdown(("agents", "analysis.agents"),
                    &a.agents,
                    a.received,
                    |k| p.t(if k == "with_agent" { "analysis.with_agent" } else { "analysis.without_agent" }).to_string(),
                    |_| None,
                    false,
                ),
                self.breakdown(("staff", "analysis.staff"), &a.staff, a.received, str::to_string, |_| None, false),
            ],
        };

        // Event.
        let resolutions: i64 = a.resolutions.iter().map(|g| g.n).sum();
        let event = Section {
            id: "event",
            title: "analysis.event",
            breakdowns: vec![
                self.breakdown(("business_types", "analysis.business_types"),
                    &a.business_types,
                    a.received,
                    |k| self.taxonomy(Dimension::BusinessType, k),
                    |k| self.group_link("business_type", k),
                    true,
                ),
                self.breakdown(("causes", "analysis.causes"), &a.causes, a.received, |k| self.taxonomy(Dimension::Cause, k), |k| self.group_link("cause", k), true),
                self.breakdown(("products", "analysis.products"), &a.products, a.received, |k| self.or_unknown(k.to_string(), k), |_| None, false),
                self.breakdown(("channels", "analysis.channels"), &a.channels, a.received, |k| p.label("channel", k), |k| self.group_link("channel", k), true),
                self.breakdown(("severities", "analysis.severities"), &a.severities, a.received, |k| p.label("severity", k), |k| self.group_link("severity", k), false),
                self.breakdown(("disputed_bands", "analysis.disputed_bands"), &a.disputed_bands, a.received, |k| p.t(band_key(k)).to_string(), |_| None, false),
                self.money_breakdown("disputed", "analysis.disputed", &a.disputed),
                self.breakdown(("closed", "analysis.closed_by_status"), &a.closed, closed, |k| p.label("status", k), |_| None, false),
                self.yes_no("on_time", "analysis.on_time", a.on_time),
                self.breakdown(("resolutions", "analysis.resolutions"), &a.resolutions, resolutions, |k| p.label("resolution", k), |_| None, false),
                self.yes_no("upheld", "analysis.upheld", a.upheld),
                self.money_breakdown("redress", "analysis.redress", &a.redress),
            ],
        };

        // Emotion.
        let emotion = Section {
            id: "emotion",
            title: "analysis.emotion",
            breakdowns: vec![
                self.breakdown(("emotions", "analysis.emotions"), &a.emotions, a.received, |k| self.or_unknown(p.label("emotion", k), k), |_| None, true),
                self.breakdown(("intensities", "analysis.intensities"), &a.intensities, a.received, |k| p.t(intensity_key(k)).to_string(), |_| None, false),
                self.breakdown(("risk_flags", "analysis.risk_flags"), &a.risk_flags, a.received, |k| p.label("risk", k), |_| None, true),
            ],
        };
        let up_link = f.unit.as_deref().map(|u| {
            let parent = org.unit(u).and_then(|x| x.parent.clone()).unwrap_or_default();
            format!("/analysis?{}", self.form.query(&[("unit", &parent)]))
        });
        let query = self.form.query(&[("level", "")]);
        AnalysisView {
            period: span(period),
            headline,
            trend,
            heat,
            sections: vec![space, participants, event, emotion],
            up_link,
            scorecards_link: format!("/scorecards?{}", self.form.query(&[("grain", "")])),
            csv_link: format!("/analysis.csv?{query}"),
            xlsx_link: format!("/analysis.xlsx?{query}"),
            form: self.form,
        }
    }
}

fn band_key(band: &str) -> &'static str {
    match band {
        "<1k" => "analysis.band_lt_1k",
        "1k-10k" => "analysis.band_1k_10k",
        "10k-100k" => "analysis.band_10k_100k",
        ">=100k" => "analysis.band_ge_100k",
        _ => "analysis.band_none",
    }
}

fn intensity_key(v: &str) -> &'static str {
    match v {
        "low" => "analysis.intensity_low",
        "medium" => "analysis.intensity_medium",
        "high" => "analysis.intensity_high",
        _ => "analysis.unknown",
    }
}

/// The view of an analysis in a page's language (`charts`: draw the charts too).
pub fn view(app: &App, p: &Page, a: &Analysis, charts: bool) -> AnalysisView {
    let form = AnalysisForm::of_filter(&a.filter, "");
    Builder { app, p, f: &a.filter, form, charts }.view(a)
}

/// The analysis page.
#[derive(Template)]
#[template(path = "staff/analysis.html")]
pub struct AnalysisPage {
    /// Common page parts.
    pub p: Page,
    /// The form as given (or as the filter stands, after an analysis).
    pub form: AnalysisForm,
    /// Choices of the selects.
    pub choices: FilterChoices,
    /// Validation messages by field.
    pub errors: FieldErrors,
    /// The figures, unless the form was refused.
    pub view: Option<AnalysisView>,
}

impl AnalysisPage {
    /// The hours of the day, for the grid's head.
    pub fn hours(&self) -> std::ops::Range<u8> {
        0..24
    }
}

/// The field errors of a refused filter, in the page's language.
pub fn field_errors(p: &Page, e: &AppError) -> FieldErrors {
    // The page says the use case's fixed message in its own language.
    if e.message == "not a date (YYYY-MM-DD)" {
        return FieldErrors::from_app(&AppError::invalid(e.field.clone().unwrap_or_default(), p.t("analysis.not_a_date").to_string()));
    }
    FieldErrors::from_app(e)
}

/// Runs the analysis of the form, or gives back the form's errors.
async fn analysed(app: &App, caller: &Caller, form: &AnalysisForm) -> Result<Result<Analysis, AppError>, PageError> {
    let result = match form.params() {
        Ok(params) => analytics::analyse(app, caller, &params).await,
        // Permission comes before the form: a person without it is refused whatever they ask.
        Err(e) => policy::statistics_departments(caller, &app.rules.org).and(Err(e)),
    };
    match result {
        Ok(a) => Ok(Ok(a)),
        Err(e) if e.kind == ErrorKind::Invalid => Ok(Err(e)),
        Err(e) => Err(e.into()),
    }
}

/// Shows the analysis of the period and filters asked for (the last 30 days by default).
pub async fn page(State(app): State<App>, staff: Staff, Query(form): Query<AnalysisForm>) -> Result<Response, PageError> {
    let p = Page::staff(&app, &staff, "analysis.title", "analysis");
    match analysed(&app, &staff.caller, &form).await? {
        Ok(a) => {
            let view = view(&app, &p, &a, true);
            let choices = FilterChoices::of(&app, &staff.caller, &p);
            render(&AnalysisPage { form: view.form.clone(), choices, errors: FieldErrors::default(), view: Some(view), p })
        }
        Err(e) => {
            let choices = FilterChoices::of(&app, &staff.caller, &p);
            let errors = field_errors(&p, &e);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&AnalysisPage { p, form, choices, errors, view: None })?).into_response())
        }
    }
}

/// A download: its bytes, media type and file name, never cached.
pub fn download(bytes: Vec<u8>, media_type: &'static str, filename: &str) -> Response {
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    r
}

/// The media type of CSV downloads.
pub const CSV: &str = "text/csv; charset=utf-8";
/// The media type of Excel downloads.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A refused download's form: the error as a page (the form lives on the page).
async fn for_download(app: &App, staff: &Staff, form: &AnalysisForm) -> Result<(Page, Analysis), PageError> {
    let p = Page::staff(app, staff, "analysis.title", "analysis");
    match analysed(app, &staff.caller, form).await? {
        Ok(a) => Ok((p, a)),
        Err(e) => Err(e.into()),
    }
}

fn int(n: i64) -> Value {
    Value::Int(n)
}

fn text(s: impl Into<String>) -> Value {
    Value::Text(s.into())
}

/// The whole analysis in long form: one row per group of every breakdown.
pub fn long_table(p: &Page, v: &AnalysisView, a: &Analysis) -> Table {
    let columns = ["analysis.col_dimension", "analysis.col_key", "analysis.col_name", "analysis.col_count", "analysis.col_previous", "analysis.col_total"]
        .iter()
        .map(|k| p.t(k).to_string())
        .collect();
    let mut rows: Vec<Vec<Value>> = Vec::new();
    let received = p.t("analysis.received").to_string();
    rows.push(vec![text(&received), text(""), text(&v.period), int(a.received), int(a.previous_received), Value::Empty]);
    rows.push(vec![text(p.t("analysis.year_ago_received")), text(""), text(&v.period), int(a.year_ago_received), Value::Empty, Value::Empty]);
    for r in &v.trend.rows {
        rows.push(vec![text(p.t(v.trend.title)), text(&r.key), text(&r.name), int(r.n), Value::Empty, Value::Empty]);
    }
    for (i, day) in v.heat.iter().enumerate() {
        for (h, (n, _)) in day.cells.iter().enumerate() {
            if *n != 0 {
                rows.push(vec![text(p.t("analysis.weekday_hour")), text(format!("{}-{h:02}", i + 1)), text(format!("{} {h:02}:00", p.t(day.day))), int(*n), Value::Empty, Value::Empty]);
            }
        }
    }
    for s in &v.sections {
        for b in &s.breakdowns {
            for r in &b.rows {
                rows.push(vec![
                    text(p.t(b.title)),
                    text(&r.key),
                    text(&r.name),
                    int(r.n),
                    r.previous.map_or(Value::Empty, int),
                    r.total.map_or(Value::Empty, |t| Value::Decimal(decimal(t))),
                ]);
            }
        }
    }
    Table { title: p.t("analysis.title").to_string(), columns, rows }
}

/// One sheet per breakdown, after a summary of the filter and the headline figures.
pub fn sheets(p: &Page, v: &AnalysisView) -> Vec<Table> {
    let mut out = Vec::new();
    let f = &v.form;
    let mut summary = vec![vec![text(p.t("analysis.period")), text(&v.period)]];
    for (key, value) in [
        ("field.unit", &f.unit),
        ("field.department", &f.department),
        ("field.channel", &f.channel),
        ("field.business_type", &f.business_type),
        ("field.cause", &f.cause),
        ("field.product", &f.product),
        ("field.severity", &f.severity),
    ] {
        if !value.is_empty() {
            summary.push(vec![text(p.t(key)), text(value)]);
        }
    }
    for fig in &v.headline {
        summary.push(vec![text(p.t(fig.label)), text(format!("{} ({})", fig.value, fig.note))]);
    }
    out.push(Table { title: p.t("analysis.summary").to_string(), columns: vec![p.t("analysis.col_name").to_string(), p.t("analysis.col_value").to_string()], rows: summary });
    out.push(sheet(p, &v.trend));
    let mut heat_columns = vec![p.t("analysis.weekday").to_string()];
    heat_columns.extend((0..24).map(|h| format!("{h:02}")));
    let heat_rows = v.heat.iter().map(|d| std::iter::once(text(p.t(d.day))).chain(d.cells.iter().map(|(n, _)| int(*n))).collect()).collect();
    out.push(Table { title: p.t("analysis.weekday_hour").to_string(), columns: heat_columns, rows: heat_rows });
    for s in &v.sections {
        for b in &s.breakdowns {
            out.push(sheet(p, b));
        }
    }
    out
}

fn sheet(p: &Page, b: &Breakdown) -> Table {
    let mut columns = vec![p.t("analysis.col_key").to_string(), p.t("analysis.col_name").to_string(), p.t("analysis.col_count").to_string()];
    if b.money {
        columns.push(p.t("analysis.col_total").to_string());
    } else {
        columns.push(p.t("analysis.col_share").to_string());
    }
    if b.compared {
        columns.push(p.t("analysis.col_previous").to_string());
        columns.push(p.t("analysis.col_change").to_string());
    }
    let rows = b
        .rows
        .iter()
        .map(|r| {
            let mut row = vec![text(&r.key), text(&r.name), int(r.n)];
            if b.money {
                row.push(r.total.map_or(Value::Empty, |t| Value::Decimal(decimal(t))));
            } else {
                row.push(share_value(&r.share));
            }
            if b.compared {
                row.push(r.previous.map_or(Value::Empty, int));
                row.push(r.previous.filter(|prev| *prev != 0).map_or(Value::Empty, |prev| Value::Percent((r.n - prev) as f64 / prev as f64)));
            }
            row
        })
        .collect();
    Table { title: p.t(b.title).to_string(), columns, rows }
}

/// A share as shown (`12.5%`) as a number for a spreadsheet.
fn share_value(shown: &str) -> Value {
    shown.strip_suffix('%').and_then(|n| n.parse::<f64>().ok()).map_or(Value::Empty, |n| Value::Percent(n / 100.0))
}

/// A file name with the period: `analysis-2025-01-01_2025-01-30.csv`.
pub fn filename(stem: &str, f: &AnalysisFilter, ext: &str) -> String {
    format!("{stem}-{}_{}.{ext}", f.period.from, f.period.to)
}

/// The analysis as CSV, in long form.
pub async fn csv(State(app): State<App>, staff: Staff, Query(form): Query<AnalysisForm>) -> Result<Response, PageError> {
    let (p, a) = for_download(&app, &staff, &form).await?;
    let v = view(&app, &p, &a, false);
    let bytes = export::to_csv(&long_table(&p, &v, &a));
    Ok(download(bytes, CSV, &filename("analysis", &a.filter, "csv")))
}

/// The analysis as an Excel workbook, one sheet per breakdown.
pub async fn xlsx(State(app): State<App>, staff: Staff, Query(form): Query<AnalysisForm>) -> Result<Response, PageError> {
    let (p, a) = for_download(&app, &staff, &form).await?;
    let v = view(&app, &p, &a, false);
    let bytes = export::to_xlsx(&sheets(&p, &v)).map_err(AppError::internal)?;
    Ok(download(bytes, XLSX, &filename("analysis", &a.filter, "xlsx")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn figures_are_formatted() {
        assert_eq!(percent(1, 8), "12.5%");
        assert_eq!(percent(0, 0), "—");
        assert_eq!(change(12, 10), ("+20.0%".to_string(), "up"));
        assert_eq!(change(9, 12), ("-25.0%".to_string(), "down"));
        assert_eq!(change(5, 5), ("0.0%".to_string(), "same"));
        assert_eq!(change(3, 0), ("—".to_string(), ""));
        assert_eq!(money(123_456_789, "CNY"), "1,234,567.89 CNY");
        assert_eq!(money(-5, "USD"), "-0.05 USD");
        assert_eq!(decimal(500_000).to_string(), "5000.00");
    }

    #[test]
    fn the_form_becomes_parameters_and_links() {
        let form = AnalysisForm { from: " 2025-01-01 ".into(), grain: "week".into(), unit: "SH".into(), ..Default::default() };
        let params = form.params().expect("valid");
        assert_eq!(params.from.as_deref(), Some("2025-01-01"));
        assert_eq!(params.grain, Some(Grain::Week));
        assert_eq!(params.to, None);
        let bad = AnalysisForm { grain: "year".into(), ..Default::default() };
        assert_eq!(bad.params().expect_err("refused").field.as_deref(), Some("grain"));
        assert_eq!(form.query(&[("unit", "SH-PD")]), "from=2025-01-01&unit=SH-PD&grain=week");
        assert_eq!(form.query(&[("grain", "")]), "from=2025-01-01&unit=SH");
    }

    /// Keys these pages pass around as values (`p.t(b.title)`), which the catalog test that
    /// looks for `t("…")` does not see.
    #[test]
    fn every_key_of_these_pages_is_in_both_catalogs() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let files = ["src/pages/analysis.rs", "src/pages/scorecards.rs", "src/pages/person.rs", "templates/staff/analysis.html", "templates/staff/scorecards.html", "templates/staff/person.html"];
        let mut keys = Vec::new();
        for file in files {
            let text = std::fs::read_to_string(root.join(file)).expect("readable");
            for piece in text.split('"').skip(1).step_by(2) {
                let family = ["analysis.", "scorecards.", "person."].iter().any(|f| piece.starts_with(f));
                if family && piece.chars().all(|c| c.is_ascii_lowercase() || c == '.' || c == '_') && !piece.ends_with('.') {
                    keys.push(piece.to_string());
                }
            }
        }
        assert!(keys.len() > 100, "the scan found the keys: {}", keys.len());
        for lang in Lang::ALL {
            let c = lang.catalog();
            let prefix = |k: &str| c.keys().any(|x| x.starts_with(&format!("{k}.")));
            let missing: Vec<&String> = keys.iter().filter(|k| !c.has(k) && !prefix(k)).collect();
            assert!(missing.is_empty(), "{} lacks {missing:?}", lang.tag());
        }
    }

    #[test]
    fn shares_become_spreadsheet_percentages() {
        assert!(matches!(share_value("12.5%"), Value::Percent(x) if (x - 0.125).abs() < 1e-9));
        assert!(matches!(share_value("—"), Value::Empty));
    }
}
