//! Handlers of the text-intelligence API: search, similar complaints, the reading of a
//! complaint, free-text analysis, incidents and models.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use redress_domain::complaint::{Complaint, ComplaintId};
use redress_domain::org::Role;
use redress_store::{SearchPhrase, SearchRequest};
use redress_text::{QueryError, SearchQuery};
use serde::Deserialize;
use serde_json::{Value, json};
use tracing::instrument;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::handlers::{ListQuery, filter_from_query, load_visible};
use crate::intelligence::similar_to;
use crate::json::parse_json;

fn invalid_query(e: QueryRejection) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query", e.body_text())
}

/// Longest snippet, in characters.
const SNIPPET_CHARS: usize = 120;

/// `GET /api/v1/search` parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    q: Option<String>,
    status: Option<String>,
    channel: Option<String>,
    department: Option<String>,
    branch: Option<String>,
    category: Option<String>,
    cause: Option<String>,
    severity: Option<String>,
    received_from: Option<String>,
    received_to: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
}

/// The phrases of a parsed query, as the store takes them.
pub fn phrases(query: &SearchQuery) -> Vec<SearchPhrase> {
    query.terms.iter().map(|t| SearchPhrase { tokens: t.tokens.clone(), last_is_prefix: t.last_is_prefix }).collect()
}

/// Parses a query, turning its errors into the API's.
pub fn parse_query(q: &str) -> ApiResult<SearchQuery> {
    SearchQuery::parse(q).map_err(|e: QueryError| ApiError::invalid("q", e.to_string()))
}

/// Snippets of a complaint's fields that contain the query, highlighted.
pub fn snippets(c: &Complaint, query: &SearchQuery) -> Value {
    let mut out = serde_json::Map::new();
    let notes = c.notes.iter().map(|n| n.text.as_str()).collect::<Vec<_>>().join("\n");
    let fields = [
        ("title", c.title.as_ref().map_or("", |t| t.as_str())),
        ("narrative", c.narrative.as_str()),
        ("request", c.request.as_str()),
        ("notes", notes.as_str()),
    ];
    for (name, text) in fields {
        if let Some(s) = redress_text::snippet(text, query, SNIPPET_CHARS) {
            out.insert(name.to_string(), json!({ "text": s.text, "html": s.to_html(), "highlights": s.highlights.iter().map(|r| [r.start, r.end]).collect::<Vec<_>>() }));
        }
    }
    Value::Object(out)
}

/// `GET /api/v1/search?q=…`: full-text search over narrative, request, title and notes with
/// filters, ranked, with highlighted snippets.
#[instrument(skip(st, caller, query))]
pub async fn search(State(st): State<AppState>, caller: Caller, query: Result<Query<SearchParams>, QueryRejection>) -> ApiResult<Json<Value>> {
    let Query(p) = query.map_err(invalid_query)?;
    let text = p.q.as_deref().map(str::trim).filter(|q| !q.is_empty()).ok_or_else(|| ApiError::invalid("q", "give the words to search for as ?q=…"))?;
    let parsed = parse_query(text)?;
    let limit = match &p.limit {
        None => 20,
        Some(l) => l.parse::<u32>().ok().filter(|n| (1..=100).contains(n)).ok_or_else(|| ApiError::invalid("limit", "limit is a number from 1 to 100"))?,
    };
    let offset = match &p.offset {
        None => 0,
        Some(o) => o.parse::<u32>().ok().filter(|n| *n <= 10_000).ok_or_else(|| ApiError::invalid("offset", "offset is a number from 0 to 10000"))?,
    };
    let list = ListQuery {
        status: p.status,
        channel: p.channel,
        department: p.department,
        handler: None,
        severity: p.severity,
        due_state: None,
        business_type: p.category,
        received_from: p.received_from,
        received_to: p.received_to,
        cursor: None,
        limit: None,
    };
    let empty = json!({ "query": text, "total": 0, "total_is_exact": true, "ranking": "relevance", "items": [] });
    let Some(mut filter) = filter_from_query(&caller, &list)? else { return Ok(Json(empty)) };
    filter.cause = p.cause;
    if let Some(branch) = &p.branch {
        if st.rules.org.unit(branch).is_none() {
            return Err(ApiError::invalid("branch", format!("unknown branch '{branch}'")));
        }
        filter.departments = st
            .rules
            .org
            .departments()
            .iter()
            .filter(|d| st.rules.org.is_within(&d.unit, branch))
            .map(|d| d.code.clone())
            .collect();
        if filter.departments.is_empty() {
            return Ok(Json(empty));
        }
    }
    let results = st.store.search(&SearchRequest { phrases: phrases(&parsed), filter, offset, limit }).await?;
    let items: Vec<Value> = results
        .hits
        .iter()
        .map(|h| {
            let c = &h.complaint;
            json!({
                "id": c.id,
                "number": c.number,
                "status": c.status,
                "channel": c.channel,
                "received_at": c.received_at,
                "department": c.owner.department,
                "severity": c.classification.severity,
                "business_type": c.classification.business_type.as_ref().map(|l| &l.code),
                "title": c.title,
                "score": h.score,
                "snippets": snippets(c, &parsed),
            })
        })
        .collect();
    Ok(Json(json!({
        "query": text,
        "total": results.total,
        "total_is_exact": results.total_is_exact,
        "ranking": results.ranking,
        "items": items,
    })))
}

/// `?limit=` of similar complaints.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimilarParams {
    limit: Option<String>,
}

/// `GET /api/v1/complaints/{id}/similar`: earlier complaints whose text resembles this one,
/// with how they were resolved; near-duplicates (template wording) are marked, and whether
/// they came from another complainant.
#[instrument(skip(st, caller, query))]
pub async fn similar(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    query: Result<Query<SimilarParams>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(p) = query.map_err(invalid_query)?;
    let limit = match &p.limit {
        None => 10,
        Some(l) => l.parse::<usize>().ok().filter(|n| (1..=50).contains(n)).ok_or_else(|| ApiError::invalid("limit", "limit is a number from 1 to 50"))?,
    };
    let c = load_visible(&st, &caller, &id).await?;
    // Look further than asked: some matches may be in departments the caller cannot see.
    let found = similar_to(&*st.store, c.id, limit * 3).await?;
    let ids: Vec<ComplaintId> = found.iter().map(|s| s.complaint_id).collect();
    let mut loaded: HashMap<ComplaintId, Complaint> = st.store.complaints(&ids).await?.into_iter().map(|o| (o.id, o)).collect();
    let mut items = Vec::new();
    for s in found {
        let Some(other) = loaded.remove(&s.complaint_id) else { continue };
        if !caller.can_see(&other) {
            continue;
        }
        let same_complainant = other.complainant.name == c.complainant.name
            && (other.complainant.phone == c.complainant.phone || other.complainant.id_number == c.complainant.id_number);
        items.push(json!({
            "id": other.id,
            "number": other.number,
            "status": other.status,
            "received_at": other.received_at,
            "similarity": s.similarity,
            "near_duplicate": s.near_duplicate,
            "same_complainant": same_complainant,
            "title": other.title,
            "narrative": other.narrative,
            "resolution": other.resolution,
            "decision": other.decision,
        }));
        if items.len() == limit {
            break;
        }
    }
    Ok(Json(json!({ "complaint_id": c.id, "number": c.number, "items": items })))
}

/// `GET /api/v1/complaints/{id}/reading`: emotion, negativity, keywords, model predictions and
/// the readings of customer messages, plus the incident the complaint belongs to.
#[instrument(skip(st, caller))]
pub async fn reading(State(st): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let c = load_visible(&st, &caller, &id).await?;
    let row = st.store.text_row(c.id).await?;
    let incident = st.store.incidents_of(&[c.id]).await?.into_iter().next().map(|(_, i)| i);
    Ok(Json(json!({
        "complaint_id": c.id,
        "number": c.number,
        "risk_flags": c.classification.risk_flags,
        "severity": c.classification.severity,
        "reading": row.map(|r| r.reading),
        "incident": incident,
    })))
}

/// `POST /api/v1/analyze` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalyzeBody {
    text: String,
}

/// Longest text `analyze` takes, in characters.
const MAX_ANALYZE_CHARS: usize = 20_000;

/// `POST /api/v1/analyze {"text": …}`: emotion, intensity, negativity, risk flags with
/// evidence, and classification of one text.
#[instrument(skip_all)]
pub async fn analyze(State(st): State<AppState>, _caller: Caller, body: Result<Bytes, BytesRejection>) -> ApiResult<Json<Value>> {
    let body = body.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "unreadable_body", e.body_text()))?;
    let AnalyzeBody { text } = parse_json(&body)?;
    if text.trim().is_empty() {
        return Err(ApiError::invalid("text", "the text is empty"));
    }
    if text.chars().count() > MAX_ANALYZE_CHARS {
        return Err(ApiError::invalid("text", format!("the text is longer than {MAX_ANALYZE_CHARS} characters")));
    }
    let analysis = st.insight.get().analyze(&text, &st.rules.classifier);
    Ok(Json(serde_json::to_value(analysis).map_err(ApiError::internal)?))
}

/// `GET /api/v1/incidents` parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentParams {
    since: Option<String>,
    limit: Option<String>,
}

fn incident_json(i: &redress_store::Incident) -> Value {
    let span_hours = (i.last_seen.as_second() - i.first_seen.as_second()).max(3600) as f64 / 3600.0;
    json!({
        "id": i.id,
        "label": i.label,
        "terms": i.terms,
        "members": i.members,
        "first_seen": i.first_seen,
        "last_seen": i.last_seen,
        "detected_at": i.detected_at,
        "rate_per_day": (i.members as f64 / span_hours * 24.0 * 10.0).round() / 10.0,
    })
}

/// `GET /api/v1/incidents`: incidents (many complaints about one problem arriving close
/// together), most recently active first.
#[instrument(skip(st, caller, query))]
pub async fn incidents(State(st): State<AppState>, caller: Caller, query: Result<Query<IncidentParams>, QueryRejection>) -> ApiResult<Json<Value>> {
    let Query(p) = query.map_err(invalid_query)?;
    if !caller.0.role.sees_all_departments() && caller.0.role != Role::DepartmentHead {
        return Err(ApiError::forbidden("incidents are for department heads, supervisors, auditors and admins"));
    }
    let since = match &p.since {
        None => None,
        Some(s) => Some(s.parse::<jiff::Timestamp>().map_err(|_| ApiError::invalid("since", "expected an RFC 3339 time"))?),
    };
    let limit = match &p.limit {
        None => 50,
        Some(l) => l.parse::<u32>().ok().filter(|n| (1..=200).contains(n)).ok_or_else(|| ApiError::invalid("limit", "limit is a number from 1 to 200"))?,
    };
    let items: Vec<Value> = st.store.incidents(since, limit).await?.iter().map(incident_json).collect();
    Ok(Json(json!({ "items": items })))
}

/// `GET /api/v1/incidents/{id}`: an incident with its member complaints.
#[instrument(skip(st, caller))]
pub async fn incident(State(st): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    if !caller.0.role.sees_all_departments() && caller.0.role != Role::DepartmentHead {
        return Err(ApiError::forbidden("incidents are for department heads, supervisors, auditors and admins"));
    }
    let (incident, members) = st.store.incident(&id).await?.ok_or_else(|| ApiError::not_found("incident"))?;
    let mut out = incident_json(&incident);
    let ids: Vec<ComplaintId> = members.iter().map(|m| m.complaint_id).collect();
    let mut loaded: HashMap<ComplaintId, Complaint> = st.store.complaints(&ids).await?.into_iter().map(|c| (c.id, c)).collect();
    let mut listed = Vec::new();
    for m in members {
        let Some(c) = loaded.remove(&m.complaint_id) else { continue };
        if !caller.can_see(&c) {
            continue;
        }
        listed.push(json!({
            "id": c.id,
            "number": c.number,
            "status": c.status,
            "received_at": c.received_at,
            "department": c.owner.department,
            "similarity": m.similarity,
            "title": c.title,
        }));
    }
    out["complaints"] = Value::Array(listed);
    Ok(Json(out))
}

/// `GET /api/v1/models`: trained models, newest first.
pub async fn models(State(st): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    if !matches!(caller.0.role, Role::Admin | Role::Supervisor | Role::Auditor) {
        return Err(ApiError::forbidden("models are for admins, supervisors and auditors"));
    }
    Ok(Json(json!({ "items": st.store.models().await?, "in_use": st.insight.get().model_ids() })))
}

/// `POST /api/v1/models/{id}/activate` (admin): the server uses this model from now on.
#[instrument(skip(st, caller))]
pub async fn activate_model(State(st): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    if caller.0.role != Role::Admin {
        return Err(ApiError::forbidden("activating a model needs the admin role"));
    }
    st.store.activate_model(&id).await?;
    let in_use = crate::intelligence::refresh_models(&*st.store, &st.insight).await?;
    Ok(Json(json!({ "activated": id, "in_use": in_use })))
}
