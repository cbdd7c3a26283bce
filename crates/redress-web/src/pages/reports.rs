//! Regulator reports as pages: the quarterly complaint report (季度投诉分析报告) with the
//! institution's commentary, printable and downloadable; the FCA complaints return laid out as
//! the FCA publishes firm-level data; the CFPB export; and the index that leads to them.
//!
//! The figures come from `redress_app::reports`; each page and its download are drawn from the
//! same view.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use redress_analytics::export::{self, Table, Value};
use redress_app::analytics::{self, AnalysisParams, Period};
use redress_app::reports::{self, COMMENTARY_SECTIONS, Commentary, FcaLine, FcaReturn, QuarterlyReport, ReportLine, ReportParams};
use redress_app::{App, AppError, Caller, ErrorKind, policy};
use redress_domain::classify::Dimension;
use serde::{Deserialize, Serialize};

use crate::error::PageError;
use crate::form::{FieldErrors, FormData};
use crate::i18n::Lang;
use crate::page::Page;
use crate::pages::analysis::{CSV, FilterChoices, XLSX, change, decimal, download, field_errors, money, percent, rate_text};
use crate::pages::{render, see_other};
use crate::pages::search::group_digits;
use crate::session::Staff;
use crate::show::{Choice, taxonomy_name};

/// The routes of these pages.
pub fn routes() -> Router<App> {
    Router::new()
        .route("/reports", get(index))
        .route("/reports/quarterly", get(quarterly))
        .route("/reports/quarterly.xlsx", get(quarterly_xlsx))
        .route("/reports/quarterly/commentary", post(save_commentary))
        .route("/reports/fca", get(fca))
        .route("/reports/fca.xlsx", get(fca_xlsx))
        .route("/reports/cfpb.csv", get(cfpb_csv))
}

/// The period picker of the report pages, as given in the address (every field optional).
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct ReportForm {
    /// The year.
    pub year: String,
    /// The quarter, 1–4 (quarterly report).
    pub quarter: String,
    /// The half, 1–2 (FCA return).
    pub half: String,
    /// Unit code (quarterly report); blank is the whole institution.
    pub unit: String,
    /// `true`: leave out closings reopened since.
    pub restate: String,
    /// What was just done (`commentary`), for the notice.
    pub done: String,
}

fn some(v: &str) -> Option<String> {
    let v = v.trim();
    (!v.is_empty()).then(|| v.to_string())
}

impl ReportForm {
    /// The use case's parameters.
    pub fn params(&self) -> ReportParams {
        ReportParams { year: some(&self.year), quarter: some(&self.quarter), half: some(&self.half), restate: some(&self.restate), unit: some(&self.unit) }
    }

    /// The form's non-blank fields as address parameters, with some replaced.
    pub fn query(&self, replace: &[(&str, &str)]) -> String {
        let mut params: Vec<(&str, String)> = Vec::new();
        for (k, v) in [("year", &self.year), ("quarter", &self.quarter), ("half", &self.half), ("unit", &self.unit), ("restate", &self.restate), ("done", &self.done)] {
            let v = replace.iter().find(|(r, _)| *r == k).map_or(v.as_str(), |(_, r)| *r);
            if !v.trim().is_empty() {
                params.push((k, v.trim().to_string()));
            }
        }
        serde_urlencoded::to_string(&params).unwrap_or_default()
    }

    /// The form of a quarterly report as it stands.
    fn of_quarterly(r: &QuarterlyReport) -> ReportForm {
        ReportForm {
            year: r.year.to_string(),
            quarter: r.quarter.to_string(),
            unit: r.unit.clone().unwrap_or_default(),
            restate: if r.restated { "true".into() } else { String::new() },
            ..ReportForm::default()
        }
    }

    /// The form of an FCA return as it stands.
    fn of_fca(r: &FcaReturn) -> ReportForm {
        ReportForm { year: r.year.to_string(), half: r.half.to_string(), restate: if r.restated { "true".into() } else { String::new() }, ..ReportForm::default() }
    }

    /// Whether the restate box is ticked.
    pub fn restated(&self) -> bool {
        matches!(self.restate.trim(), "true" | "1" | "yes" | "on")
    }
}

/// A period as the pages write it: `2025-01-01 – 2025-03-31`.
fn span(x: Period) -> String {
    format!("{} – {}", x.from, x.to)
}

/// One line of a quarterly breakdown as shown: the quarter against the one before and the same
/// quarter a year before.
#[derive(Debug, Clone)]
pub struct ReportRow {
    /// The group's code.
    pub key: String,
    /// Its name in the page's language.
    pub name: String,
    /// This quarter.
    pub n: i64,
    /// Share of the quarter's complaints.
    pub share: String,
    /// The quarter before.
    pub previous: i64,
    /// Change from the quarter before (环比), in percent.
    pub vs_previous: String,
    /// Its direction.
    pub previous_trend: &'static str,
    /// The same quarter a year before.
    pub year_ago: i64,
    /// Change from a year before (同比), in percent.
    pub vs_year_ago: String,
    /// Its direction.
    pub year_trend: &'static str,
}

impl ReportRow {
    fn of(line: &ReportLine, name: String, whole: i64) -> ReportRow {
        let (vs_previous, previous_trend) = change(line.n, line.previous);
        let (vs_year_ago, year_trend) = change(line.n, line.year_ago);
        ReportRow {
            key: line.key.clone(),
            name,
            n: line.n,
            share: percent(line.n, whole),
            previous: line.previous,
            vs_previous,
            previous_trend,
            year_ago: line.year_ago,
            vs_year_ago,
            year_trend,
        }
    }
}

/// One breakdown of the quarterly report.
#[derive(Debug, Clone)]
pub struct ReportTable {
    /// Stable id (HTML anchor).
    pub id: &'static str,
    /// Catalog key of its title.
    pub title: &'static str,
    /// Its lines, largest first.
    pub rows: Vec<ReportRow>,
}

/// A headline figure of a report.
#[derive(Debug, Clone)]
pub struct Figure {
    /// Stable id.
    pub id: &'static str,
    /// Catalog key of its name.
    pub label: &'static str,
    /// The figure.
    pub value: String,
    /// What it is made of, or compared with.
    pub note: String,
    /// Direction of a change: `up`, `down`, `same` or empty.
    pub trend: &'static str,
}

/// One section of the commentary.
#[derive(Debug, Clone)]
pub struct Section {
    /// Its name (`overview`, `causes`, `remediation`), also the form field's.
    pub name: &'static str,
    /// Catalog key of its title.
    pub title: &'static str,
    /// The text.
    pub text: String,
}

fn section_title(name: &str) -> &'static str {
    match name {
        "overview" => "quarterly.section_overview",
        "causes" => "quarterly.section_causes",
        _ => "quarterly.section_remediation",
    }
}

/// The sections in order with their texts.
fn sections(texts: &BTreeMap<String, String>) -> Vec<Section> {
    COMMENTARY_SECTIONS.iter().map(|name| Section { name, title: section_title(name), text: texts.get(*name).cloned().unwrap_or_default() }).collect()
}

/// The quarterly report as the page and the workbook show it.
#[derive(Debug, Clone)]
pub struct QuarterlyView {
    /// The heading, `2025年第1季度投诉分析报告`.
    pub heading: String,
    /// The institution or the unit reported on.
    pub scope: String,
    /// The quarter's days.
    pub period: String,
    /// Whether closings reopened since are left out.
    pub restated: bool,
    /// The received line (this quarter, before, a year before).
    pub received: ReportRow,
    /// Headline figures: received, changes, closed, the rates.
    pub figures: Vec<Figure>,
    /// Redress paid per currency.
    pub redress: Vec<String>,
    /// The breakdowns.
    pub tables: Vec<ReportTable>,
    /// The five most frequent causes.
    pub top_causes: ReportTable,
    /// The commentary, section by section (empty texts included).
    pub commentary: Vec<Section>,
    /// Who last wrote it and when.
    pub updated: Option<String>,
    /// The workbook of the same report.
    pub xlsx_link: String,
}

impl QuarterlyView {
    /// Whether any section of the commentary is written.
    pub fn written(&self) -> bool {
        self.commentary.iter().any(|s| !s.text.is_empty())
    }
}

/// Builds the view of a quarterly report in a page's language.
async fn quarterly_view(app: &App, p: &Page, r: &QuarterlyReport, c: &Commentary) -> Result<QuarterlyView, PageError> {
    let org = &app.rules.org;
    let lang = p.lang;
    let taxonomy = |d: Dimension, code: &str| if code.is_empty() { p.t("analysis.unclassified").to_string() } else { taxonomy_name(app, lang, d, code) };
    let unknown = |k: &str, name: String| if k.is_empty() { p.t("analysis.unknown").to_string() } else { name };
    let whole = r.received.n;
    let rows = |lines: &[ReportLine], name: &dyn Fn(&str) -> String| lines.iter().map(|l| ReportRow::of(l, name(&l.key), whole)).collect::<Vec<_>>();
    let unit_name = |k: &str| unknown(k, org.unit(k).map_or_else(|| k.to_string(), |u| u.name.clone()));
    let tables = vec![
        ReportTable { id: "business_types", title: "analysis.business_types", rows: rows(&r.business_types, &|k| taxonomy(Dimension::BusinessType, k)) },
        ReportTable { id: "causes", title: "analysis.causes", rows: rows(&r.causes, &|k| taxonomy(Dimension::Cause, k)) },
        ReportTable { id: "channels", title: "analysis.channels", rows: rows(&r.channels, &|k| unknown(k, p.label("channel", k))) },
        ReportTable { id: "units", title: "analysis.units", rows: rows(&r.units, &unit_name) },
        ReportTable { id: "regions", title: "analysis.regions", rows: rows(&r.regions, &|k| unknown(k, k.to_string())) },
    ];
    let top_causes = ReportTable { id: "top_causes", title: "quarterly.top_causes", rows: rows(&r.top_causes, &|k| taxonomy(Dimension::Cause, k)) };
    let received = ReportRow::of(&r.received, p.t("analysis.received").to_string(), whole);
    let share = |part: i64, all: i64| format!("{part} / {all}");
    let figures = vec![
        Figure { id: "received", label: "analysis.received", value: group_digits(r.received.n.max(0) as u64), note: span(r.period), trend: "" },
        Figure {
            id: "vs_previous",
            label: "quarterly.vs_previous",
            value: received.vs_previous.clone(),
            note: format!("{} {}", p.t("quarterly.previous_count"), r.received.previous),
            trend: received.previous_trend,
        },
        Figure {
            id: "vs_year_ago",
            label: "quarterly.vs_year_ago",
            value: received.vs_year_ago.clone(),
            note: format!("{} {}", p.t("quarterly.year_ago_count"), r.received.year_ago),
            trend: received.year_trend,
        },
        Figure { id: "closed", label: "analysis.closed", value: group_digits(r.closed.max(0) as u64), note: span(r.period), trend: "" },
        Figure { id: "on_time", label: "quarterly.on_time_rate", value: rate_text(r.on_time_rate()), note: share(r.closed_on_time, r.closed), trend: "" },
        Figure { id: "resolution", label: "quarterly.resolution_rate", value: rate_text(r.resolution_rate()), note: share(r.closed, r.received.n), trend: "" },
        Figure { id: "upheld", label: "quarterly.upheld_rate", value: rate_text(r.upheld_rate()), note: share(r.upheld, r.decided), trend: "" },
        Figure { id: "satisfaction", label: "quarterly.satisfaction_rate", value: rate_text(r.satisfaction_rate()), note: share(r.satisfied, r.followed_up), trend: "" },
    ];
    let updated = match (&c.updated_by, &c.updated_at) {
        (Some(by), Some(at)) => {
            let name = app.store.user(by).await?.map_or_else(|| by.clone(), |u| u.name);
            Some(format!("{name} · {}", p.time(at)))
        }
        _ => None,
    };
    let scope = r.unit.as_deref().map_or_else(|| org.head_office().name.clone(), |u| org.unit(u).map_or_else(|| u.to_string(), |x| x.name.clone()));
    let heading = p.t("quarterly.heading").replace("{year}", &r.year.to_string()).replace("{quarter}", &r.quarter.to_string());
    Ok(QuarterlyView {
        heading,
        scope,
        period: span(r.period),
        restated: r.restated,
        received,
        figures,
        redress: r.redress.iter().map(|(cur, t)| money(*t, cur)).collect(),
        tables,
        top_causes,
        commentary: sections(&c.sections),
        updated,
        xlsx_link: format!("/reports/quarterly.xlsx?{}", ReportForm::of_quarterly(r).query(&[])),
    })
}

/// The quarterly report page.
#[derive(Template)]
#[template(path = "staff/quarterly.html")]
pub struct QuarterlyPage {
    /// Common page parts.
    pub p: Page,
    /// The picker as given (or as the report stands).
    pub form: ReportForm,
    /// Quarters offered.
    pub quarters: Vec<Choice>,
    /// Units in the person's reach, after the whole institution.
    pub units: Vec<Choice>,
    /// Validation messages by field (the picker's, or the commentary's).
    pub errors: FieldErrors,
    /// The report, unless the picker was refused.
    pub report: Option<QuarterlyView>,
    /// Whether the person may write the commentary (the form is shown).
    pub may_comment: bool,
    /// The texts in the commentary form: as stored, or as posted when refused.
    pub drafts: Vec<Section>,
}

/// The picker's choices.
fn quarter_choices(p: &Page) -> Vec<Choice> {
    ["1", "2", "3", "4"].iter().map(|q| (q.to_string(), p.label("quarterly.quarter", q))).collect()
}

fn unit_choices(app: &App, caller: &Caller, p: &Page) -> Vec<Choice> {
    let mut units = FilterChoices::of(app, caller, p).units;
    if let Some(first) = units.first_mut() {
        first.1 = p.t("reports.whole_institution").to_string();
    }
    units
}

/// Whether the person may write the commentary of a report.
fn may_comment(caller: &Caller) -> bool {
    policy::grant(caller.role(), policy::Operation::CommentReports) != policy::Grant::None
}

/// Reads the report the form names, or gives back the picker's errors.
async fn quarterly_report(app: &App, caller: &Caller, form: &ReportForm) -> Result<Result<QuarterlyReport, AppError>, PageError> {
    match reports::quarterly(app, caller, &form.params()).await {
        Ok(r) => Ok(Ok(r)),
        Err(e) if e.kind == ErrorKind::Invalid => Ok(Err(e)),
        Err(e) => Err(e.into()),
    }
}

/// Builds the quarterly page: the report and its commentary, or the picker with its errors.
/// `drafts` are texts posted and refused, shown instead of the stored ones.
async fn quarterly_page(app: &App, staff: &Staff, form: &ReportForm, drafts: Option<&BTreeMap<String, String>>, errors: FieldErrors) -> Result<(StatusCode, QuarterlyPage), PageError> {
    let p = Page::staff(app, staff, "quarterly.title", "reports");
    let notice = (form.done == "commentary").then(|| p.t("quarterly.saved").to_string());
    let p = p.with_notice(notice);
    let quarters = quarter_choices(&p);
    let units = unit_choices(app, &staff.caller, &p);
    let may_comment = may_comment(&staff.caller);
    match quarterly_report(app, &staff.caller, form).await? {
        Ok(r) => {
            let c = reports::commentary(app, &r).await?;
            let view = quarterly_view(app, &p, &r, &c).await?;
            let drafts = sections(drafts.unwrap_or(&c.sections));
            let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
            Ok((status, QuarterlyPage { form: ReportForm::of_quarterly(&r), quarters, units, errors, report: Some(view), may_comment, drafts, p }))
        }
        Err(e) => {
            let errors = field_errors(&p, &e);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, QuarterlyPage { form: form.clone(), quarters, units, errors, report: None, may_comment, drafts: Vec::new(), p }))
        }
    }
}

/// Shows the quarterly report of the quarter asked for (the last whole quarter by default).
pub async fn quarterly(State(app): State<App>, staff: Staff, Query(form): Query<ReportForm>) -> Result<Response, PageError> {
    let (status, page) = quarterly_page(&app, &staff, &form, None, FieldErrors::default()).await?;
    Ok((status, render(&page)?).into_response())
}

/// Saves the commentary posted for a quarter and goes back to the report; a refused text comes
/// back in the form with its message beside it.
pub async fn save_commentary(State(app): State<App>, staff: Staff, form: FormData) -> Result<Response, PageError> {
    staff.check_csrf(form.csrf())?;
    let picked = ReportForm { year: form.text("year"), quarter: form.text("quarter"), unit: form.text("unit"), restate: form.text("restate"), ..ReportForm::default() };
    // Only the sections the form carries: a missing field leaves its text as it is.
    let texts: BTreeMap<String, String> = COMMENTARY_SECTIONS.iter().filter(|s| form.has(s)).map(|s| (s.to_string(), form.raw(s).to_string())).collect();
    match reports::save_commentary(&app, &staff.caller, &picked.params(), &texts).await {
        Ok(_) => Ok(see_other(&format!("/reports/quarterly?{}#commentary", picked.query(&[("done", "commentary")])))),
        Err(e) if e.kind == ErrorKind::Invalid && e.field.as_deref().is_some_and(|f| COMMENTARY_SECTIONS.contains(&f)) => {
            let (_, page) = quarterly_page(&app, &staff, &picked, Some(&texts), FieldErrors::from_app(&e)).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

fn int(n: i64) -> Value {
    Value::Int(n)
}

fn text(s: impl Into<String>) -> Value {
    Value::Text(s.into())
}

fn ratio(part: i64, whole: i64) -> Value {
    redress_app::scorecards::rate(part, whole).map_or(Value::Empty, Value::Percent)
}

/// The change from `before` to `now` as a spreadsheet percentage.
fn change_value(now: i64, before: i64) -> Value {
    if before == 0 { Value::Empty } else { Value::Percent((now - before) as f64 / before as f64) }
}

/// The quarterly report as sheets: a summary with the rates and the commentary, then one per
/// breakdown.
pub fn quarterly_sheets(p: &Page, v: &QuarterlyView, r: &QuarterlyReport) -> Vec<Table> {
    let yes_no = |b: bool| text(p.t(if b { "analysis.yes" } else { "analysis.no" }));
    let mut summary = vec![
        vec![text(p.t("quarterly.title")), text(&v.heading)],
        vec![text(p.t("quarterly.scope")), text(&v.scope)],
        vec![text(p.t("analysis.period")), text(&v.period)],
        vec![text(p.t("quarterly.restated")), yes_no(r.restated)],
        vec![text(p.t("analysis.received")), int(r.received.n)],
        vec![text(p.t("quarterly.previous_quarter")), int(r.received.previous)],
        vec![text(p.t("quarterly.vs_previous")), change_value(r.received.n, r.received.previous)],
        vec![text(p.t("quarterly.year_ago")), int(r.received.year_ago)],
        vec![text(p.t("quarterly.vs_year_ago")), change_value(r.received.n, r.received.year_ago)],
        vec![text(p.t("analysis.closed")), int(r.closed)],
        vec![text(p.t("quarterly.on_time_rate")), ratio(r.closed_on_time, r.closed)],
        vec![text(p.t("quarterly.resolution_rate")), ratio(r.closed, r.received.n)],
        vec![text(p.t("quarterly.upheld_rate")), ratio(r.upheld, r.decided)],
        vec![text(p.t("quarterly.satisfaction_rate")), ratio(r.satisfied, r.followed_up)],
    ];
    for (currency, total) in &r.redress {
        summary.push(vec![text(format!("{} ({currency})", p.t("analysis.redress"))), Value::Decimal(decimal(*total))]);
    }
    for s in &v.commentary {
        summary.push(vec![text(p.t(s.title)), text(&s.text)]);
    }
    let mut out = vec![Table { title: p.t("analysis.summary").to_string(), columns: vec![p.t("analysis.col_name").to_string(), p.t("analysis.col_value").to_string()], rows: summary }];
    for t in v.tables.iter().chain(std::iter::once(&v.top_causes)) {
        out.push(report_sheet(p, t));
    }
    out
}

fn report_sheet(p: &Page, t: &ReportTable) -> Table {
    let columns = [
        "analysis.col_key",
        "analysis.col_name",
        "quarterly.this_quarter",
        "quarterly.previous_quarter",
        "quarterly.vs_previous",
        "quarterly.year_ago",
        "quarterly.vs_year_ago",
    ]
    .iter()
    .map(|k| p.t(k).to_string())
    .collect();
    let rows = t
        .rows
        .iter()
        .map(|r| vec![text(&r.key), text(&r.name), int(r.n), int(r.previous), change_value(r.n, r.previous), int(r.year_ago), change_value(r.n, r.year_ago)])
        .collect();
    Table { title: p.t(t.title).to_string(), columns, rows }
}

/// The quarterly report as an Excel workbook.
pub async fn quarterly_xlsx(State(app): State<App>, staff: Staff, Query(form): Query<ReportForm>) -> Result<Response, PageError> {
    let p = Page::staff(&app, &staff, "quarterly.title", "reports");
    let r = reports::quarterly(&app, &staff.caller, &form.params()).await?;
    let c = reports::commentary(&app, &r).await?;
    let v = quarterly_view(&app, &p, &r, &c).await?;
    let bytes = export::to_xlsx(&quarterly_sheets(&p, &v, &r)).map_err(AppError::internal)?;
    let unit = r.unit.as_deref().map(|u| format!("-{u}")).unwrap_or_default();
    Ok(download(bytes, XLSX, &format!("quarterly-{}-Q{}{unit}.xlsx", r.year, r.quarter)))
}

/// A product or cause group of the FCA return: its id, its name in the page's language (in
/// Chinese, the catalog's label), and the return's English name.
#[derive(Debug, Clone)]
pub struct GroupName {
    /// Id.
    pub id: String,
    /// The catalog's label, in a language other than English.
    pub local: Option<String>,
    /// The return's name.
    pub english: String,
}

impl GroupName {
    fn of(p: &Page, family: &str, (id, english): &(String, String)) -> GroupName {
        let key = format!("fca.{family}.{id}");
        let catalog = p.lang.catalog();
        let local = (p.lang != Lang::En && catalog.has(&key)).then(|| catalog.get(&key).to_string());
        GroupName { id: id.clone(), local, english: english.clone() }
    }

    /// The name as one text (`银行与信用卡 Banking and credit cards`).
    pub fn full(&self) -> String {
        match &self.local {
            Some(l) => format!("{l} {}", self.english),
            None => self.english.clone(),
        }
    }
}

/// One figure of the FCA return across the product groups.
#[derive(Debug, Clone)]
pub struct FcaMeasure {
    /// Stable id.
    pub id: &'static str,
    /// Catalog key of its name.
    pub label: &'static str,
    /// One cell per product group, in the return's order.
    pub cells: Vec<String>,
    /// The whole firm.
    pub total: String,
}

/// One product group's line of the product group × cause table.
#[derive(Debug, Clone)]
pub struct FcaCauseRow {
    /// The product group.
    pub group: GroupName,
    /// Complaints opened, one per cause group in the return's order.
    pub cells: Vec<i64>,
    /// Opened in the product group.
    pub total: i64,
}

/// The FCA return as the page shows it.
#[derive(Debug, Clone)]
pub struct FcaView {
    /// `2025-01-01 to 2025-06-30`.
    pub reporting_period: String,
    /// Whether closings reopened since are left out.
    pub restated: bool,
    /// The product groups, in the return's order.
    pub groups: Vec<GroupName>,
    /// The cause groups, in the return's order.
    pub causes: Vec<GroupName>,
    /// The figures by product group.
    pub measures: Vec<FcaMeasure>,
    /// Opened by product group × cause.
    pub by_cause: Vec<FcaCauseRow>,
    /// Opened per cause across the product groups.
    pub cause_totals: Vec<i64>,
    /// Opened in the whole firm.
    pub opened: i64,
    /// The workbook of the same return.
    pub xlsx_link: String,
}

fn redress_text(l: &FcaLine) -> String {
    if l.redress.is_empty() { "—".to_string() } else { l.redress.iter().map(|(cur, t)| money(*t, cur)).collect::<Vec<_>>().join(", ") }
}

/// The view of an FCA return in a page's language.
pub fn fca_view(p: &Page, r: &FcaReturn) -> FcaView {
    let groups: Vec<GroupName> = r.group_names.iter().map(|g| GroupName::of(p, "group", g)).collect();
    let causes: Vec<GroupName> = r.cause_names.iter().map(|c| GroupName::of(p, "cause", c)).collect();
    // The lines per product group in the return's order (every group has one).
    let lines: Vec<&FcaLine> = groups
        .iter()
        .map(|g| r.product_groups.iter().find(|l| l.product_group == g.id).unwrap_or(&r.total))
        .collect();
    let measure = |id: &'static str, label: &'static str, f: &dyn Fn(&FcaLine) -> String| FcaMeasure { id, label, cells: lines.iter().map(|l| f(l)).collect(), total: f(&r.total) };
    let measures = vec![
        measure("opened", "fca.opened", &|l| l.opened.to_string()),
        measure("closed", "fca.closed", &|l| l.closed.to_string()),
        measure("within_3_days", "fca.within_3_days", &|l| rate_text(l.within_3_days_rate())),
        measure("within_8_weeks", "fca.within_8_weeks", &|l| rate_text(l.within_8_weeks_rate())),
        measure("after_8_weeks", "fca.after_8_weeks", &|l| l.after_8_weeks.to_string()),
        measure("upheld", "fca.upheld", &|l| rate_text(l.upheld_rate())),
        measure("redress", "fca.redress", &redress_text),
    ];
    let opened = |g: &str, c: &str| r.lines.iter().filter(|l| l.product_group == g && l.cause == c).map(|l| l.opened).sum::<i64>();
    let by_cause: Vec<FcaCauseRow> = groups
        .iter()
        .map(|g| {
            let cells: Vec<i64> = causes.iter().map(|c| opened(&g.id, &c.id)).collect();
            FcaCauseRow { group: g.clone(), total: cells.iter().sum(), cells }
        })
        .collect();
    let cause_totals = causes.iter().map(|c| by_cause.iter().map(|row| opened(&row.group.id, &c.id)).sum()).collect();
    FcaView {
        reporting_period: r.reporting_period.clone(),
        restated: r.restated,
        opened: r.total.opened,
        groups,
        causes,
        measures,
        by_cause,
        cause_totals,
        xlsx_link: format!("/reports/fca.xlsx?{}", ReportForm::of_fca(r).query(&[])),
    }
}

/// The FCA return page.
#[derive(Template)]
#[template(path = "staff/fca.html")]
pub struct FcaPage {
    /// Common page parts.
    pub p: Page,
    /// The picker as given (or as the return stands).
    pub form: ReportForm,
    /// Halves offered.
    pub halves: Vec<Choice>,
    /// Validation messages by field.
    pub errors: FieldErrors,
    /// The return, unless the picker was refused.
    pub view: Option<FcaView>,
}

/// Shows the FCA complaints return of the half-year asked for (the last whole one by default).
pub async fn fca(State(app): State<App>, staff: Staff, Query(form): Query<ReportForm>) -> Result<Response, PageError> {
    let p = Page::staff(&app, &staff, "fca.title", "reports");
    let halves = ["1", "2"].iter().map(|h| (h.to_string(), p.label("fca.half", h))).collect();
    match reports::fca_return(&app, &staff.caller, &form.params()).await {
        Ok(r) => {
            let view = fca_view(&p, &r);
            render(&FcaPage { form: ReportForm::of_fca(&r), halves, errors: FieldErrors::default(), view: Some(view), p })
        }
        Err(e) if e.kind == ErrorKind::Invalid => {
            let errors = field_errors(&p, &e);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&FcaPage { p, form, halves, errors, view: None })?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// The FCA return as sheets: the return's heading, the product groups, and product group ×
/// cause lines.
pub fn fca_sheets(p: &Page, v: &FcaView, r: &FcaReturn) -> Vec<Table> {
    let summary = vec![
        vec![text(p.t("fca.reporting_period")), text(&r.reporting_period)],
        vec![text(p.t("quarterly.restated")), text(p.t(if r.restated { "analysis.yes" } else { "analysis.no" }))],
    ];
    let figure_columns = ["fca.opened", "fca.closed", "fca.within_3_days", "fca.within_8_weeks", "fca.after_8_weeks", "fca.upheld"];
    let figures = |l: &FcaLine| {
        vec![
            int(l.opened),
            int(l.closed),
            l.within_3_days_rate().map_or(Value::Empty, Value::Percent),
            l.within_8_weeks_rate().map_or(Value::Empty, Value::Percent),
            int(l.after_8_weeks),
            l.upheld_rate().map_or(Value::Empty, Value::Percent),
        ]
    };
    // Redress in one column per currency paid anywhere in the return.
    let currencies: Vec<&String> = r.total.redress.keys().collect();
    let redress = |l: &FcaLine| currencies.iter().map(|c| l.redress.get(*c).map_or(Value::Empty, |t| Value::Decimal(decimal(*t)))).collect::<Vec<_>>();
    let mut columns: Vec<String> = vec![p.t("fca.product_group").to_string()];
    columns.extend(figure_columns.iter().map(|k| p.t(k).to_string()));
    columns.extend(currencies.iter().map(|c| format!("{} ({c})", p.t("fca.redress"))));
    let mut group_rows: Vec<Vec<Value>> = Vec::new();
    for g in &v.groups {
        let line = r.product_groups.iter().find(|l| l.product_group == g.id).unwrap_or(&r.total);
        let mut row = vec![text(g.full())];
        row.extend(figures(line));
        row.extend(redress(line));
        group_rows.push(row);
    }
    let mut total = vec![text(p.t("fca.total"))];
    total.extend(figures(&r.total));
    total.extend(redress(&r.total));
    group_rows.push(total);
    let name = |list: &[GroupName], id: &str| list.iter().find(|g| g.id == id).map_or_else(|| id.to_string(), GroupName::full);
    let mut line_columns: Vec<String> = vec![p.t("fca.product_group").to_string(), p.t("fca.cause_group").to_string()];
    line_columns.extend(figure_columns.iter().map(|k| p.t(k).to_string()));
    line_columns.extend(currencies.iter().map(|c| format!("{} ({c})", p.t("fca.redress"))));
    let line_rows = r
        .lines
        .iter()
        .map(|l| {
            let mut row = vec![text(name(&v.groups, &l.product_group)), text(name(&v.causes, &l.cause))];
            row.extend(figures(l));
            row.extend(redress(l));
            row
        })
        .collect();
    vec![
        Table { title: p.t("fca.title").to_string(), columns: vec![p.t("analysis.col_name").to_string(), p.t("analysis.col_value").to_string()], rows: summary },
        Table { title: p.t("fca.by_group").to_string(), columns, rows: group_rows },
        Table { title: p.t("fca.by_cause").to_string(), columns: line_columns, rows: line_rows },
    ]
}

/// The FCA return as an Excel workbook.
pub async fn fca_xlsx(State(app): State<App>, staff: Staff, Query(form): Query<ReportForm>) -> Result<Response, PageError> {
    let p = Page::staff(&app, &staff, "fca.title", "reports");
    let r = reports::fca_return(&app, &staff.caller, &form.params()).await?;
    let v = fca_view(&p, &r);
    let bytes = export::to_xlsx(&fca_sheets(&p, &v, &r)).map_err(AppError::internal)?;
    Ok(download(bytes, XLSX, &format!("fca-return-{}-H{}.xlsx", r.year, r.half)))
}

/// The CFPB export form, as given in the address.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct CfpbForm {
    /// First day received (`YYYY-MM-DD`).
    pub from: String,
    /// Last day received.
    pub to: String,
    /// The Company column; blank is the head office's name.
    pub company: String,
}

/// A report the index leads to: its link and its period.
#[derive(Debug, Clone)]
pub struct ReportLink {
    /// Stable id.
    pub id: &'static str,
    /// Catalog key of its name.
    pub title: &'static str,
    /// Catalog key of what it is.
    pub about: &'static str,
    /// The period it covers, named.
    pub period: String,
    /// The page.
    pub link: String,
}

/// The reports index.
#[derive(Template)]
#[template(path = "staff/reports.html")]
pub struct ReportsPage {
    /// Common page parts.
    pub p: Page,
    /// The reports of the last whole periods.
    pub links: Vec<ReportLink>,
    /// The CFPB export form (the default dates filled in).
    pub cfpb: CfpbForm,
    /// The Company column's default.
    pub company: String,
    /// Validation messages of the CFPB form.
    pub errors: FieldErrors,
}

/// The last whole quarter and half-year before `today`.
fn last_whole(today: jiff::civil::Date) -> ((i16, i8), (i16, i8)) {
    let current = (today.month() - 1) / 3 + 1;
    let quarter = if current == 1 { (today.year() - 1, 4) } else { (today.year(), current - 1) };
    let half = if today.month() <= 6 { (today.year() - 1, 2) } else { (today.year(), 1) };
    (quarter, half)
}

fn index_page(app: &App, staff: &Staff, cfpb: Option<CfpbForm>, errors: FieldErrors) -> ReportsPage {
    let p = Page::staff(app, staff, "reports.title", "reports");
    let ((year, q), (half_year, h)) = last_whole(analytics::today(app));
    let quarter = reports::quarter(year, q);
    let half = reports::half(half_year, h);
    let links = vec![
        ReportLink {
            id: "quarterly",
            title: "quarterly.title",
            about: "reports.quarterly_about",
            period: format!("{} · {}", p.t("quarterly.quarter_of").replace("{year}", &year.to_string()).replace("{quarter}", &q.to_string()), span(quarter)),
            link: format!("/reports/quarterly?year={year}&quarter={q}"),
        },
        ReportLink {
            id: "fca",
            title: "fca.title",
            about: "reports.fca_about",
            period: format!("{half_year} {} · {} to {}", p.label("fca.half", &h.to_string()), half.from, half.to),
            link: format!("/reports/fca?year={half_year}&half={h}"),
        },
    ];
    let cfpb = cfpb.unwrap_or_else(|| CfpbForm { from: quarter.from.to_string(), to: quarter.to.to_string(), company: String::new() });
    ReportsPage { links, cfpb, company: app.rules.org.head_office().name.clone(), errors, p }
}

/// The reports index: the quarterly report and the FCA return of the last whole periods, and
/// the CFPB export form.
pub async fn index(State(app): State<App>, staff: Staff) -> Result<Response, PageError> {
    policy::require(&staff.caller, policy::Operation::ViewStatistics)?;
    render(&index_page(&app, &staff, None, FieldErrors::default()))
}

/// The complaints received in a period in the layout of the CFPB public complaint database, as
/// a CSV download; a refused form comes back on the index beside its fields.
pub async fn cfpb_csv(State(app): State<App>, staff: Staff, Query(form): Query<CfpbForm>) -> Result<Response, PageError> {
    let params = AnalysisParams { from: some(&form.from), to: some(&form.to), ..AnalysisParams::default() };
    // The filter names the period (the default dates filled in) for the file's name.
    let result = match analytics::analysis_filter(&app, &staff.caller, &params) {
        Ok(f) => reports::cfpb_export(&app, &staff.caller, &params, Some(form.company.as_str())).await.map(|(bytes, _)| (f.period, bytes)),
        Err(e) => Err(e),
    };
    match result {
        Ok((period, bytes)) => Ok(download(bytes, CSV, &format!("cfpb-{}_{}.csv", period.from, period.to))),
        Err(e) if e.kind == ErrorKind::Invalid => {
            let p = Page::staff(&app, &staff, "reports.title", "reports");
            let errors = field_errors(&p, &e);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&index_page(&app, &staff, Some(form), errors))?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_picker_becomes_parameters_and_links() {
        let form = ReportForm { year: " 2025 ".into(), quarter: "1".into(), restate: "true".into(), ..Default::default() };
        let params = form.params();
        assert_eq!(params.year.as_deref(), Some("2025"));
        assert_eq!(params.unit, None);
        assert!(form.restated());
        assert_eq!(form.query(&[("done", "commentary")]), "year=2025&quarter=1&restate=true&done=commentary");
        assert!(!ReportForm::default().restated());
    }

    #[test]
    fn the_last_whole_periods_are_before_today() {
        let d = |s: &str| s.parse::<jiff::civil::Date>().expect("a date");
        assert_eq!(last_whole(d("2025-01-20")), ((2024, 4), (2024, 2)));
        assert_eq!(last_whole(d("2025-05-02")), ((2025, 1), (2024, 2)));
        assert_eq!(last_whole(d("2025-07-01")), ((2025, 2), (2025, 1)));
        assert_eq!(last_whole(d("2025-12-31")), ((2025, 3), (2025, 1)));
    }

    /// Keys these pages pass around as values (`p.t(t.title)`), which the catalog test that
    /// looks for `t("…")` does not see.
    #[test]
    fn every_key_of_these_pages_is_in_both_catalogs() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let files = ["src/pages/reports.rs", "src/pages/hotspots.rs", "templates/staff/quarterly.html", "templates/staff/fca.html", "templates/staff/reports.html", "templates/staff/hotspots.html"];
        let mut keys = Vec::new();
        for file in files {
            let text = std::fs::read_to_string(root.join(file)).expect("readable");
            for piece in text.split('"').skip(1).step_by(2) {
                let family = ["quarterly.", "fca.", "reports.", "hotspots.", "analysis."].iter().any(|f| piece.starts_with(f));
                if family && piece.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_') && !piece.ends_with('.') {
                    keys.push(piece.to_string());
                }
            }
        }
        assert!(keys.len() > 50, "the scan found the keys: {}", keys.len());
        for lang in Lang::ALL {
            let c = lang.catalog();
            let prefix = |k: &str| c.keys().any(|x| x.starts_with(&format!("{k}.")));
            let missing: Vec<&String> = keys.iter().filter(|k| !c.has(k) && !prefix(k)).collect();
            assert!(missing.is_empty(), "{} lacks {missing:?}", lang.tag());
        }
        // Every group of the return has its Chinese label.
        let groups = redress_analytics::groups::FcaGroups::builtin();
        for id in groups.product_groups.iter().map(|g| format!("fca.group.{}", g.id)).chain(groups.causes.iter().map(|g| format!("fca.cause.{}", g.id))) {
            assert!(Lang::ZhCn.catalog().has(&id), "zh-CN lacks {id}");
        }
    }
}
