//! Handlers of the analysis API: the five-dimension analysis, scorecards and the complainant
//! profile, as JSON.

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use redress_app::analytics::{self, AnalysisParams};
use redress_app::hotspots;
use redress_app::person;
use redress_app::reports;
use redress_app::scorecards::{self, Level};
use redress_app::AppError;
use tracing::instrument;

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::ApiResult;
use crate::extract;

/// `GET /api/v1/analysis?from=…&to=…&unit=…&department=…&channel=…&business_type=…&cause=…&product=…&severity=…&grain=day|week|month`.
#[instrument(skip(st, caller, q))]
pub async fn analysis(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    q: Result<Query<AnalysisParams>, QueryRejection>,
) -> ApiResult<Json<analytics::Analysis>> {
    Ok(Json(analytics::analyse(&st, &caller, &extract::query(q)?).await?))
}

/// `GET /api/v1/scorecards?level=handler|department|unit&…` with the analysis filters.
#[instrument(skip(st, caller, q))]
pub async fn scorecards(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    q: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> ApiResult<Json<scorecards::Scorecards>> {
    let (level, params) = split_level(extract::query(q)?)?;
    Ok(Json(scorecards::scorecards(&st, &caller, &params, level).await?))
}

/// Takes `level` out of the query and reads the rest as analysis filters.
fn split_level(pairs: Vec<(String, String)>) -> Result<(Level, AnalysisParams), AppError> {
    let (level, params) = split(pairs, "level")?;
    let level = match level.as_deref() {
        None | Some("handler") => Level::Handler,
        Some("department") => Level::Department,
        Some("unit") => Level::Unit,
        Some(_) => return Err(AppError::invalid("level", "one of handler, department, unit")),
    };
    Ok((level, params))
}

/// Takes the parameter `name` out of the query and reads the rest as analysis filters.
fn split(pairs: Vec<(String, String)>, name: &str) -> Result<(Option<String>, AnalysisParams), AppError> {
    let mut taken = None;
    let mut rest = Vec::with_capacity(pairs.len());
    for (k, v) in pairs {
        if k == name {
            taken = Some(v);
        } else {
            rest.push((k, v));
        }
    }
    let text = serde_urlencoded::to_string(&rest).map_err(AppError::internal)?;
    let params = serde_urlencoded::from_str::<AnalysisParams>(&text).map_err(|e| AppError::invalid("query", e.to_string()))?;
    Ok((taken, params))
}

/// `GET /api/v1/hotspots?to=…&by=business_cause_unit|product&…` with the analysis filters:
/// the combinations rising in the week ending `to`, with their evidence.
#[instrument(skip(st, caller, q))]
pub async fn hotspots(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    q: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> ApiResult<Json<hotspots::Hotspots>> {
    let (by, filter) = split(extract::query(q)?, "by")?;
    let by = match by.as_deref() {
        None | Some("business_cause_unit") => hotspots::Combination::BusinessCauseUnit,
        Some("product") => hotspots::Combination::Product,
        Some("keyword") => hotspots::Combination::Keyword,
        Some(_) => return Err(AppError::invalid("by", "business_cause_unit, product or keyword").into()),
    };
    Ok(Json(hotspots::scan(&st, &caller, &hotspots::HotspotParams { filter, by: Some(by) }).await?))
}

/// `GET /api/v1/complaints/{id}/person`: the complainant profile.
#[instrument(skip(st, caller))]
pub async fn person(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<person::PersonProfile>> {
    Ok(Json(person::profile(&st, &caller, &extract::path(id)?).await?))
}

/// `GET /api/v1/reports/quarterly?year=…&quarter=…&restate=…&unit=…`: the quarterly
/// supervision report, with the commentary written into it.
#[instrument(skip(st, caller, q))]
pub async fn quarterly(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    q: Result<Query<reports::ReportParams>, QueryRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let report = reports::quarterly(&st, &caller, &extract::query(q)?).await?;
    let commentary = reports::commentary(&st, &report).await?;
    let mut out = serde_json::to_value(&report).map_err(AppError::internal)?;
    out["commentary"] = serde_json::to_value(&commentary).map_err(AppError::internal)?;
    Ok(Json(out))
}

/// The body of `POST /api/v1/reports/quarterly/commentary`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommentaryBody {
    /// The report's year.
    pub year: Option<String>,
    /// Its quarter, 1–4.
    pub quarter: Option<String>,
    /// Its unit, if not the whole institution.
    pub unit: Option<String>,
    /// Section → text (`overview`, `causes`, `remediation`); an empty text removes one.
    pub sections: std::collections::BTreeMap<String, String>,
}

/// `POST /api/v1/reports/quarterly/commentary` with `{"year", "quarter", "unit"?, "sections":
/// {"overview": "…", "causes": "…", "remediation": "…"}}`: writes the institution's
/// commentary into a quarterly report (supervisors and administrators).
#[instrument(skip(st, caller, body))]
pub async fn quarterly_commentary(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<Json<reports::Commentary>> {
    let body = extract::body(body, crate::MAX_BODY_BYTES)?;
    let wire: CommentaryBody = redress_app::json::parse_json(&body)?;
    let report = reports::ReportParams { year: wire.year, quarter: wire.quarter, unit: wire.unit, ..Default::default() };
    Ok(Json(reports::save_commentary(&st, &caller, &report, &wire.sections).await?))
}

/// `GET /api/v1/reports/fca?year=…&half=…&restate=…`: the FCA complaints return.
#[instrument(skip(st, caller, q))]
pub async fn fca(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    q: Result<Query<reports::ReportParams>, QueryRejection>,
) -> ApiResult<Json<reports::FcaReturn>> {
    Ok(Json(reports::fca_return(&st, &caller, &extract::query(q)?).await?))
}

/// `GET /api/v1/exports/cfpb?from=…&to=…&company=…` with the analysis filters: the complaints
/// received in the period, in the CFPB public database's CSV layout.
#[instrument(skip(st, caller, q))]
pub async fn cfpb_export(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    q: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> ApiResult<Response> {
    let (company, filter) = split(extract::query(q)?, "company")?;
    let (csv, _) = reports::cfpb_export(&st, &caller, &filter, company.as_deref()).await?;
    let name = format!("complaints-{}-{}.csv", filter.from.as_deref().unwrap_or("start"), filter.to.as_deref().unwrap_or("today"));
    let disposition = format!("attachment; filename=\"{}\"", name.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '.', "_"));
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, disposition)],
        csv,
    )
        .into_response())
}
