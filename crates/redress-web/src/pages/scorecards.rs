//! Scorecards (考核/激励): handlers, departments or units of a period ranked by how well they
//! handled complaints, with the period before for the trend, and downloads.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use redress_analytics::export::{self, Table, Value};
use redress_app::scorecards::{self, Level, Scorecard, Scorecards};
use redress_app::{App, AppError, Caller, ErrorKind, policy};

use crate::error::PageError;
use crate::form::FieldErrors;
use crate::page::Page;
use crate::pages::analysis::{self, AnalysisForm, CSV, FilterChoices, XLSX, decimal, download, field_errors, money, rate_text};
use crate::pages::render;
use crate::session::Staff;
use crate::show::Choice;

/// The routes of these pages.
pub fn routes() -> Router<App> {
    Router::new().route("/scorecards", get(page)).route("/scorecards.csv", get(csv)).route("/scorecards.xlsx", get(xlsx))
}

/// The wire name of a level.
pub fn level_name(level: Level) -> &'static str {
    match level {
        Level::Handler => "handler",
        Level::Department => "department",
        Level::Unit => "unit",
    }
}

fn parse_level(v: &str) -> Result<Level, AppError> {
    match v.trim() {
        "" | "handler" => Ok(Level::Handler),
        "department" => Ok(Level::Department),
        "unit" => Ok(Level::Unit),
        _ => Err(AppError::invalid("level", "one of handler, department, unit")),
    }
}

/// One scorecard as the table shows it.
#[derive(Debug, Clone)]
pub struct CardRow {
    /// Rank, 1 = best.
    pub rank: usize,
    /// Handler id, department or unit code.
    pub key: String,
    /// Name.
    pub name: String,
    /// The analysis of this department or unit, where there is one.
    pub link: Option<String>,
    /// Closings.
    pub handled: i64,
    /// On-time share.
    pub on_time: String,
    /// Median handling days.
    pub median_days: String,
    /// Satisfaction share of the follow-up answers.
    pub satisfaction: String,
    /// Reopened share.
    pub reopened: String,
    /// Repeat complaints.
    pub repeats: i64,
    /// Escalated closings.
    pub escalations: i64,
    /// Regulator referrals.
    pub regulator_referrals: i64,
    /// Redress paid, per currency.
    pub redress: String,
    /// `up`, `down`, `same` or empty: on-time share against the period before.
    pub trend: &'static str,
    /// On-time share in the period before, when there were closings then.
    pub previous_on_time: Option<String>,
    /// The card, for downloads.
    pub card: Scorecard,
}

/// The scorecards page.
#[derive(Template)]
#[template(path = "staff/scorecards.html")]
pub struct ScorecardsPage {
    /// Common page parts.
    pub p: Page,
    /// The form as given (or as the filter stands).
    pub form: AnalysisForm,
    /// Choices of the selects.
    pub choices: FilterChoices,
    /// Levels.
    pub levels: Vec<Choice>,
    /// Validation messages by field.
    pub errors: FieldErrors,
    /// The period shown.
    pub period: String,
    /// Ranked cards.
    pub rows: Vec<CardRow>,
    /// Whether the scorecards ran.
    pub shown: bool,
    /// Downloads.
    pub csv_link: String,
    /// Downloads.
    pub xlsx_link: String,
}

fn trend(card: &Scorecard) -> &'static str {
    match (card.on_time_rate(), card.previous_on_time_rate()) {
        (Some(now), Some(before)) if now > before => "up",
        (Some(now), Some(before)) if now < before => "down",
        (Some(_), Some(_)) => "same",
        _ => "",
    }
}

/// The cards with names: handlers by their user names, departments and units by the
/// organisation's.
async fn rows(app: &App, p: &Page, s: &Scorecards) -> Result<Vec<CardRow>, PageError> {
    let org = &app.rules.org;
    let users: HashMap<String, String> =
        if s.level == Level::Handler { app.store.users().await?.into_iter().map(|u| (u.id, u.name)).collect() } else { HashMap::new() };
    let form = AnalysisForm::of_filter(&s.filter, "");
    Ok(s.cards
        .iter()
        .map(|c| {
            let (name, link) = match s.level {
                Level::Handler => (users.get(&c.key).cloned().unwrap_or_else(|| c.key.clone()), None),
                Level::Department => (p.department_name(org, &c.key), Some(format!("/analysis?{}", form.query(&[("department", &c.key), ("unit", "")])))),
                Level::Unit => {
                    (org.unit(&c.key).map_or_else(|| c.key.clone(), |u| u.name.clone()), Some(format!("/analysis?{}", form.query(&[("unit", &c.key), ("department", "")]))))
                }
            };
            CardRow {
                rank: c.rank,
                key: c.key.clone(),
                name,
                link,
                handled: c.handled,
                on_time: rate_text(c.on_time_rate()),
                median_days: c.median_days.map_or_else(|| "—".to_string(), |d| format!("{d:.1}")),
                satisfaction: rate_text(c.satisfaction_rate()),
                reopened: rate_text(c.reopen_rate()),
                repeats: c.repeats,
                escalations: c.escalations,
                regulator_referrals: c.regulator_referrals,
                redress: c.redress.iter().map(|(cur, t)| money(*t, cur)).collect::<Vec<_>>().join(", "),
                trend: trend(c),
                previous_on_time: c.previous_on_time_rate().map(|r| rate_text(Some(r))),
                card: c.clone(),
            }
        })
        .collect())
}

/// Runs the scorecards of the form, or gives back the form's errors.
async fn ranked(app: &App, caller: &Caller, form: &AnalysisForm) -> Result<Result<Scorecards, AppError>, PageError> {
    let result = match form.params().and_then(|params| parse_level(&form.level).map(|l| (params, l))) {
        Ok((params, level)) => scorecards::scorecards(app, caller, &params, level).await,
        // Permission comes before the form: a person without it is refused whatever they ask.
        Err(e) => policy::statistics_departments(caller, &app.rules.org).and(Err(e)),
    };
    match result {
        Ok(s) => Ok(Ok(s)),
        Err(e) if e.kind == ErrorKind::Invalid => Ok(Err(e)),
        Err(e) => Err(e.into()),
    }
}

/// Shows the ranked scorecards of the period and filters asked for.
pub async fn page(State(app): State<App>, staff: Staff, Query(form): Query<AnalysisForm>) -> Result<Response, PageError> {
    let p = Page::staff(&app, &staff, "scorecards.title", "scorecards");
    let choices = FilterChoices::of(&app, &staff.caller, &p);
    let levels = ["handler", "department", "unit"].iter().map(|l| (l.to_string(), p.label("scorecards.level", l))).collect();
    match ranked(&app, &staff.caller, &form).await? {
        Ok(s) => {
            let rows = rows(&app, &p, &s).await?;
            let form = AnalysisForm::of_filter(&s.filter, level_name(s.level));
            let query = form.query(&[("grain", "")]);
            let period = format!("{} – {}", s.filter.period.from, s.filter.period.to);
            render(&ScorecardsPage {
                p,
                choices,
                levels,
                errors: FieldErrors::default(),
                period,
                rows,
                shown: true,
                csv_link: format!("/scorecards.csv?{query}"),
                xlsx_link: format!("/scorecards.xlsx?{query}"),
                form,
            })
        }
        Err(e) => {
            let errors = field_errors(&p, &e);
            let page = ScorecardsPage { p, form, choices, levels, errors, period: String::new(), rows: Vec::new(), shown: false, csv_link: String::new(), xlsx_link: String::new() };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}

/// The scorecards as one table for download.
fn table(p: &Page, s: &Scorecards, rows: &[CardRow]) -> Table {
    let columns = [
        "scorecards.rank",
        "analysis.col_key",
        "analysis.col_name",
        "scorecards.handled",
        "scorecards.on_time",
        "scorecards.median_days",
        "scorecards.followed_up",
        "scorecards.satisfaction",
        "scorecards.reopened",
        "scorecards.repeats",
        "scorecards.escalations",
        "scorecards.regulator_referrals",
        "scorecards.redress",
        "scorecards.previous_handled",
        "scorecards.previous_on_time",
    ]
    .iter()
    .map(|k| p.t(k).to_string())
    .collect();
    let rate = |r: Option<f64>| r.map_or(Value::Empty, Value::Percent);
    let rows = rows
        .iter()
        .map(|r| {
            let c = &r.card;
            let redress = if c.redress.len() == 1 {
                c.redress.values().next().map_or(Value::Empty, |t| Value::Decimal(decimal(*t)))
            } else {
                Value::Text(r.redress.clone())
            };
            vec![
                Value::Int(i64::try_from(c.rank).unwrap_or(i64::MAX)),
                Value::Text(c.key.clone()),
                Value::Text(r.name.clone()),
                Value::Int(c.handled),
                rate(c.on_time_rate()),
                c.median_days.and_then(rust_decimal::Decimal::from_f64_retain).map_or(Value::Empty, |d| Value::Decimal(d.round_dp(1))),
                Value::Int(c.followed_up),
                rate(c.satisfaction_rate()),
                rate(c.reopen_rate()),
                Value::Int(c.repeats),
                Value::Int(c.escalations),
                Value::Int(c.regulator_referrals),
                redress,
                Value::Int(c.previous_handled),
                rate(c.previous_on_time_rate()),
            ]
        })
        .collect();
    Table { title: format!("{} · {}", p.t("scorecards.title"), p.label("scorecards.level", level_name(s.level))), columns, rows }
}

async fn for_download(app: &App, staff: &Staff, form: &AnalysisForm) -> Result<(Page, Scorecards, Vec<CardRow>), PageError> {
    let p = Page::staff(app, staff, "scorecards.title", "scorecards");
    let s = ranked(app, &staff.caller, form).await??;
    let rows = rows(app, &p, &s).await?;
    Ok((p, s, rows))
}

fn filename(s: &Scorecards, ext: &str) -> String {
    analysis::filename(&format!("scorecards-{}", level_name(s.level)), &s.filter, ext)
}

/// The scorecards as CSV.
pub async fn csv(State(app): State<App>, staff: Staff, Query(form): Query<AnalysisForm>) -> Result<Response, PageError> {
    let (p, s, rows) = for_download(&app, &staff, &form).await?;
    Ok(download(export::to_csv(&table(&p, &s, &rows)), CSV, &filename(&s, "csv")))
}

/// The scorecards as an Excel workbook.
pub async fn xlsx(State(app): State<App>, staff: Staff, Query(form): Query<AnalysisForm>) -> Result<Response, PageError> {
    let (p, s, rows) = for_download(&app, &staff, &form).await?;
    let bytes = export::to_xlsx(&[table(&p, &s, &rows)]).map_err(AppError::internal)?;
    Ok(download(bytes, XLSX, &filename(&s, "xlsx")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_read_from_the_form() {
        assert_eq!(parse_level("").ok(), Some(Level::Handler));
        assert_eq!(parse_level("unit").ok(), Some(Level::Unit));
        assert_eq!(parse_level("team").expect_err("refused").field.as_deref(), Some("level"));
    }
}
