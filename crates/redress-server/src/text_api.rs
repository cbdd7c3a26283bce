//! Handlers of the text-intelligence API: search, similar complaints, the reading of a
//! complaint, free-text analysis, incidents and models.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use redress_app::text::{self, SearchParams};
use redress_app::AppError;
use serde::Deserialize;
use serde_json::{Value, json};
use tracing::instrument;

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::ApiResult;
use crate::extract;

/// `GET /api/v1/search?q=…`.
#[instrument(skip(st, caller, q))]
pub async fn search(State(st): State<AppState>, Authenticated(caller): Authenticated, q: Result<Query<SearchParams>, QueryRejection>) -> ApiResult<Json<text::SearchPage>> {
    Ok(Json(text::search(&st, &caller, &extract::query(q)?).await?))
}

/// `?limit=` of similar complaints.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimilarParams {
    limit: Option<String>,
}

/// `GET /api/v1/complaints/{id}/similar`.
#[instrument(skip(st, caller, q))]
pub async fn similar(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    id: Result<Path<String>, PathRejection>,
    q: Result<Query<SimilarParams>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let id = extract::path(id)?;
    let p = extract::query(q)?;
    let limit = match &p.limit {
        None => 10,
        Some(l) => l.parse::<usize>().map_err(|_| AppError::invalid("limit", "limit is a number from 1 to 50"))?,
    };
    let (c, items) = text::similar(&st, &caller, &id, limit).await?;
    Ok(Json(json!({ "complaint_id": c.id, "number": c.number, "items": items })))
}

/// `GET /api/v1/complaints/{id}/reading`.
#[instrument(skip(st, caller))]
pub async fn reading(State(st): State<AppState>, Authenticated(caller): Authenticated, id: Result<Path<String>, PathRejection>) -> ApiResult<Json<text::ReadingView>> {
    Ok(Json(text::reading(&st, &caller, &extract::path(id)?).await?))
}

/// `POST /api/v1/analyze` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalyzeBody {
    text: String,
}

/// `POST /api/v1/analyze {"text": …}`.
#[instrument(skip_all)]
pub async fn analyze(State(st): State<AppState>, _caller: Authenticated, body: Result<Bytes, BytesRejection>) -> ApiResult<Json<Value>> {
    let body = extract::body(body, crate::MAX_BODY_BYTES)?;
    let AnalyzeBody { text } = redress_app::json::parse_json(&body)?;
    let analysis = text::analyze(&st, &text)?;
    Ok(Json(serde_json::to_value(analysis).map_err(AppError::internal)?))
}

/// `GET /api/v1/incidents` parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentParams {
    since: Option<String>,
    limit: Option<String>,
}

/// `GET /api/v1/incidents`.
#[instrument(skip(st, caller, q))]
pub async fn incidents(State(st): State<AppState>, Authenticated(caller): Authenticated, q: Result<Query<IncidentParams>, QueryRejection>) -> ApiResult<Json<Value>> {
    let p = extract::query(q)?;
    let since = match &p.since {
        None => None,
        Some(s) => Some(s.parse::<jiff::Timestamp>().map_err(|_| AppError::invalid("since", "expected an RFC 3339 time"))?),
    };
    let limit = match &p.limit {
        None => 50,
        Some(l) => l.parse::<u32>().map_err(|_| AppError::invalid("limit", "limit is a number from 1 to 200"))?,
    };
    Ok(Json(json!({ "items": text::incidents(&st, &caller, since, limit).await? })))
}

/// `GET /api/v1/incidents/{id}`.
#[instrument(skip(st, caller))]
pub async fn incident(State(st): State<AppState>, Authenticated(caller): Authenticated, id: Result<Path<String>, PathRejection>) -> ApiResult<Json<Value>> {
    let (incident, complaints) = text::incident(&st, &caller, &extract::path(id)?).await?;
    let mut out = serde_json::to_value(incident).map_err(AppError::internal)?;
    out["complaints"] = serde_json::to_value(complaints).map_err(AppError::internal)?;
    Ok(Json(out))
}

/// `GET /api/v1/models`.
pub async fn models(State(st): State<AppState>, Authenticated(caller): Authenticated) -> ApiResult<Json<Value>> {
    let (items, in_use) = text::models(&st, &caller).await?;
    Ok(Json(json!({ "items": items, "in_use": in_use })))
}

/// `POST /api/v1/models/{id}/activate`.
#[instrument(skip(st, caller))]
pub async fn activate_model(State(st): State<AppState>, Authenticated(caller): Authenticated, id: Result<Path<String>, PathRejection>) -> ApiResult<Json<Value>> {
    let id = extract::path(id)?;
    let in_use = text::activate_model(&st, &caller, &id).await?;
    Ok(Json(json!({ "activated": id, "in_use": in_use })))
}
