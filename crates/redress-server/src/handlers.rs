//! Request handlers.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use redress_domain::complaint::{Complaint, ComplaintId};
use redress_domain::lifecycle::Status;
use redress_domain::org::Role;
use redress_store::{ComplaintFilter, Cursor, IdempotencyKey, Registered};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tracing::instrument;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::json::parse_json;
use crate::wire::{NewComplaintBody, parse_action};

fn body_bytes(body: Result<Bytes, BytesRejection>) -> ApiResult<Bytes> {
    body_within(body, crate::MAX_BODY_BYTES)
}

fn body_within(body: Result<Bytes, BytesRejection>, limit: usize) -> ApiResult<Bytes> {
    body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", format!("the body exceeds {limit} bytes"))
        } else {
            ApiError::new(StatusCode::BAD_REQUEST, "unreadable_body", e.body_text())
        }
    })
}

/// The JSON view of a complaint: the whole record plus `deadline`, the decision deadline.
pub fn complaint_view(c: &Complaint) -> Value {
    let mut v = serde_json::to_value(c).unwrap_or(Value::Null);
    v["deadline"] = json!(c.deadlines.decide_by.or(c.deadlines.max_decide_by));
    v
}

/// The same view as [`complaint_view`], written straight to JSON text: registration answers
/// thousands of these a second, and building a `Value` first doubles the work.
fn complaint_json(c: &Complaint) -> ApiResult<Vec<u8>> {
    let mut out = serde_json::to_vec(c).map_err(ApiError::internal)?;
    // The record serializes as an object; append `deadline` before its closing brace.
    if out.pop() != Some(b'}') {
        return Err(ApiError::internal("a complaint did not serialize as a JSON object"));
    }
    out.extend_from_slice(b",\"deadline\":");
    serde_json::to_writer(&mut out, &c.deadlines.decide_by.or(c.deadlines.max_decide_by)).map_err(ApiError::internal)?;
    out.push(b'}');
    Ok(out)
}

/// `GET /health`.
pub async fn health(State(st): State<AppState>) -> Json<Value> {
    Json(json!({ "status": "ok", "engine": st.store.engine(), "profile": st.rules.default_profile }))
}

/// Unknown routes.
pub async fn no_route() -> ApiError {
    ApiError::not_found("route")
}

/// `GET /api/v1/me`.
pub async fn me(caller: Caller) -> Json<Value> {
    Json(json!(caller.0))
}

/// `POST /api/v1/complaints`.
#[instrument(skip_all, fields(user = %caller.0.name))]
pub async fn create_complaint(
    State(st): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let body = body_bytes(body)?;
    if !caller.0.role.can_write() {
        return Err(ApiError::forbidden("this role is read-only"));
    }
    let wire: NewComplaintBody = parse_json(&body)?;
    let new = wire.into_domain(st.clock.now(), &st.rules.org.head_office().code)?;
    let idempotency = match headers.get("idempotency-key") {
        Some(v) => {
            let key = v.to_str().ok().map(str::trim).filter(|k| !k.is_empty() && k.len() <= 200).ok_or_else(|| {
                ApiError::invalid("Idempotency-Key", "the Idempotency-Key header must be 1 to 200 visible characters")
            })?;
            Some(IdempotencyKey { user_id: caller.0.id.clone(), key: key.to_string(), request_hash: hex::encode(Sha256::digest(&body)) })
        }
        None => None,
    };
    let registered = crate::service::register(&st, &caller.actor(), new, idempotency).await?;
    let replayed = matches!(registered, Registered::Replayed(_));
    let body = complaint_json(registered.complaint())?;
    let mut response = (StatusCode::CREATED, [(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response();
    if replayed {
        response.headers_mut().insert("idempotent-replayed", axum::http::HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// Loads a complaint by id or number if the caller may see it; 404 otherwise.
pub async fn load_visible(st: &AppState, caller: &Caller, id_or_number: &str) -> ApiResult<Complaint> {
    let found = match ComplaintId::parse(id_or_number) {
        Some(id) => st.store.complaint(id).await?,
        None => st.store.complaint_by_number(id_or_number).await?,
    };
    match found {
        Some(c) if caller.can_see(&c) => Ok(c),
        _ => Err(ApiError::not_found("complaint")),
    }
}

/// `GET /api/v1/complaints/{id}`.
#[instrument(skip(st, caller))]
pub async fn get_complaint(State(st): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(complaint_view(&load_visible(&st, &caller, &id).await?)))
}

/// `GET /api/v1/complaints/{id}/history`.
#[instrument(skip(st, caller))]
pub async fn history(State(st): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let c = load_visible(&st, &caller, &id).await?;
    let events = st.store.history(c.id).await?;
    Ok(Json(json!({ "complaint_id": c.id, "number": c.number, "events": events })))
}

/// `GET /api/v1/complaints/{id}/messages`.
#[instrument(skip(st, caller))]
pub async fn messages(State(st): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let c = load_visible(&st, &caller, &id).await?;
    let messages = st.store.messages(c.id).await?;
    Ok(Json(json!({ "complaint_id": c.id, "messages": messages })))
}

/// List query parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub(crate) status: Option<String>,
    pub(crate) channel: Option<String>,
    pub(crate) department: Option<String>,
    pub(crate) handler: Option<String>,
    pub(crate) severity: Option<String>,
    pub(crate) due_state: Option<String>,
    pub(crate) business_type: Option<String>,
    pub(crate) received_from: Option<String>,
    pub(crate) received_to: Option<String>,
    pub(crate) cursor: Option<String>,
    pub(crate) limit: Option<String>,
}

fn parse_time(field: &str, v: &Option<String>) -> ApiResult<Option<jiff::Timestamp>> {
    match v {
        None => Ok(None),
        Some(s) => s.parse::<jiff::Timestamp>().map(Some).or_else(|_| {
            s.parse::<jiff::civil::Date>()
                .map_err(|_| ApiError::invalid(field, "expected an RFC 3339 time or a date (YYYY-MM-DD)"))
                .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).map(|z| Some(z.timestamp())).map_err(|e| ApiError::invalid(field, e.to_string())))
        }),
    }
}

/// `GET /api/v1/complaints`.
#[instrument(skip(st, caller))]
pub async fn list_complaints(
    State(st): State<AppState>,
    caller: Caller,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(q) = query.map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query", e.body_text()))?;
    let Some(filter) = filter_from_query(&caller, &q)? else {
        return Ok(Json(json!({ "items": [], "next_cursor": null })));
    };
    let page = st.store.list(&filter).await?;
    Ok(Json(json!({ "items": page.items, "next_cursor": page.next.map(|c| c.encode()) })))
}

/// `POST /api/v1/complaints/{id}/{action}`.
#[instrument(skip(st, caller, body))]
pub async fn act(
    State(st): State<AppState>,
    caller: Caller,
    Path((id, action_name)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let body = body_bytes(body)?;
    let action = parse_action(&action_name, &body)?;
    let c = crate::service::perform(&st, &caller, &id, action).await?;
    Ok(Json(complaint_view(&c)))
}

/// `GET /api/v1/notifications`.
pub async fn notifications(State(st): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let items = st.store.notifications(caller.0.role, caller.0.department.as_deref(), 100).await?;
    Ok(Json(json!({ "items": items })))
}

/// `GET /api/v1/users` (admin, supervisor, auditor).
pub async fn users(State(st): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    if !matches!(caller.0.role, Role::Admin | Role::Supervisor | Role::Auditor) {
        return Err(ApiError::forbidden("listing users needs the admin, supervisor or auditor role"));
    }
    Ok(Json(json!({ "items": st.store.users().await? })))
}

/// `GET /api/v1/profiles/{id}`: a rule profile, so clients can show deadlines and reasons.
pub async fn profile(State(st): State<AppState>, _caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let p = st.rules.profiles.get(&id).ok_or_else(|| ApiError::not_found("profile"))?;
    Ok(Json(serde_json::to_value(p).map_err(ApiError::internal)?))
}

/// `?filename=` of an upload.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    filename: String,
}

/// `POST /api/v1/complaints/{id}/attachments?filename=NAME` with the file as the body.
#[instrument(skip(st, caller, body))]
pub async fn upload_attachment(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    query: Result<Query<UploadQuery>, axum::extract::rejection::QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let body = body_within(body, redress_domain::attachment::MAX_ATTACHMENT_BYTES)?;
    let Query(q) = query.map_err(|_| ApiError::invalid("filename", "give the file name as ?filename=NAME"))?;
    let (attachment, c) = crate::service::attach(&st, &caller, &id, &q.filename, &body).await?;
    Ok((StatusCode::CREATED, Json(json!({ "attachment": attachment, "complaint": complaint_view(&c) }))))
}

/// `GET /api/v1/complaints/{id}/attachments/{sha256}`.
#[instrument(skip(st, caller))]
pub async fn download_attachment(State(st): State<AppState>, caller: Caller, Path((id, sha256)): Path<(String, String)>) -> ApiResult<Response> {
    let c = load_visible(&st, &caller, &id).await?;
    let listed = c.attachments.iter().find(|a| a.sha256 == sha256).ok_or_else(|| ApiError::not_found("attachment"))?;
    let (media_type, content) = st.store.attachment(&sha256).await?.ok_or_else(|| ApiError::not_found("attachment"))?;
    let disposition = format!("attachment; filename*=UTF-8''{}", percent_encode(&listed.filename));
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, media_type),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
            (axum::http::header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        content,
    )
        .into_response())
}

/// RFC 5987 encoding of a file name for `Content-Disposition`.
fn percent_encode(name: &str) -> String {
    let mut out = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The store filter for list parameters, limited to what the caller may see; `None` when the
/// caller asked for a department they cannot see (an empty result, not an error).
pub(crate) fn filter_from_query(caller: &Caller, q: &ListQuery) -> ApiResult<Option<ComplaintFilter>> {
    let mut statuses = Vec::new();
    if let Some(s) = &q.status {
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            statuses.push(Status::parse(part).ok_or_else(|| {
                ApiError::invalid("status", format!("unknown status '{part}'; expected one of {}", Status::ALL.map(|s| s.as_str()).join(", ")))
            })?);
        }
    }
    if let Some(c) = &q.channel
        && redress_domain::complaint::Channel::parse(c).is_none()
    {
        return Err(ApiError::invalid("channel", format!("unknown channel '{c}'")));
    }
    if let Some(d) = &q.due_state
        && crate::wire::parse_due_state(d).is_none()
    {
        return Err(ApiError::invalid("due_state", format!("unknown due state '{d}'")));
    }
    let limit = match &q.limit {
        None => 50,
        Some(l) => l.parse::<u32>().ok().filter(|n| (1..=200).contains(n)).ok_or_else(|| ApiError::invalid("limit", "limit is a number from 1 to 200"))?,
    };
    let after = match &q.cursor {
        None => None,
        Some(c) => Some(Cursor::decode(c).ok_or_else(|| ApiError::invalid("cursor", "not a cursor returned by this API"))?),
    };
    let department = match caller.department_scope() {
        Some(own) => {
            if q.department.as_deref().is_some_and(|d| d != own) {
                return Ok(None);
            }
            Some(own)
        }
        None => q.department.clone(),
    };
    let filter = ComplaintFilter {
        statuses,
        channel: q.channel.clone(),
        department,
        handler: q.handler.clone(),
        severity: q.severity.clone(),
        due_state: q.due_state.clone(),
        business_type: q.business_type.clone(),
        received_from: parse_time("received_from", &q.received_from)?,
        received_to: parse_time("received_to", &q.received_to)?,
        after,
        limit,
        ..Default::default()
    };
    Ok(Some(filter))
}
