//! Handlers of the complaint, user and notification API: each reads the request, calls one use
//! case of `redress_app` and writes its result as JSON.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use redress_app::complaints::{self, ListParams};
use redress_app::input::{NewComplaintBody, parse_action};
use redress_app::json::parse_json;
use redress_app::view::{complaint_json, complaint_view};
use redress_app::{AppError, ErrorKind};
use redress_store::{IdempotencyKey, Registered};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tracing::instrument;

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::extract;

/// `GET /health`.
pub async fn health(State(st): State<AppState>) -> Json<Value> {
    Json(json!({ "status": "ok", "engine": st.store.engine(), "profile": st.rules.default_profile }))
}

/// Unknown routes.
pub async fn no_route(request: axum::extract::Request) -> Response {
    // Outside the API, a person is at a browser: the answer is a page.
    if request.uri().path().starts_with("/api/") {
        ApiError::from(AppError::not_found("route")).into_response()
    } else {
        redress_web::error::not_found(request).await
    }
}

/// A route that exists with other methods: 405 with the API's error shape.
pub async fn method_not_allowed() -> Response {
    let mut response = ApiError::new(ErrorKind::Malformed, "method_not_allowed", "this method is not allowed here").into_response();
    *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    response
}

/// `GET /api/v1/me`.
pub async fn me(Authenticated(caller): Authenticated) -> Json<Value> {
    Json(json!(caller.user))
}

/// `POST /api/v1/complaints`.
#[instrument(skip_all, fields(user = %caller.user.name))]
pub async fn create_complaint(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let body = extract::body(body, crate::MAX_BODY_BYTES)?;
    let wire: NewComplaintBody = parse_json(&body)?;
    let new = wire.into_domain(st.clock.now(), &st.rules.org.head_office().code)?;
    let idempotency = match headers.get("idempotency-key") {
        Some(v) => {
            let key = v
                .to_str()
                .ok()
                .map(str::trim)
                .filter(|k| !k.is_empty() && k.len() <= 200 && !k.chars().any(char::is_control))
                .ok_or_else(|| AppError::invalid("Idempotency-Key", "the Idempotency-Key header must be 1 to 200 visible characters"))?;
            Some(IdempotencyKey { user_id: caller.user.id.clone(), key: key.to_string(), request_hash: hex::encode(Sha256::digest(&body)) })
        }
        None => None,
    };
    let registered = complaints::register(&st, &caller, new, idempotency).await?;
    let replayed = matches!(registered, Registered::Replayed(_));
    let body = complaint_json(registered.complaint())?;
    let mut response = (StatusCode::CREATED, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    if replayed {
        response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// `GET /api/v1/complaints/{id}`.
#[instrument(skip(st, caller))]
pub async fn get_complaint(State(st): State<AppState>, Authenticated(caller): Authenticated, id: Result<Path<String>, PathRejection>) -> ApiResult<Json<Value>> {
    let id = extract::path(id)?;
    Ok(Json(complaint_view(&complaints::get(&st, &caller, &id).await?)?))
}

/// `GET /api/v1/complaints/{id}/history`.
#[instrument(skip(st, caller))]
pub async fn history(State(st): State<AppState>, Authenticated(caller): Authenticated, id: Result<Path<String>, PathRejection>) -> ApiResult<Json<Value>> {
    let (c, events) = complaints::history(&st, &caller, &extract::path(id)?).await?;
    Ok(Json(json!({ "complaint_id": c.id, "number": c.number, "events": events })))
}

/// `GET /api/v1/complaints/{id}/messages`.
#[instrument(skip(st, caller))]
pub async fn messages(State(st): State<AppState>, Authenticated(caller): Authenticated, id: Result<Path<String>, PathRejection>) -> ApiResult<Json<Value>> {
    let (c, messages) = complaints::messages(&st, &caller, &extract::path(id)?).await?;
    Ok(Json(json!({ "complaint_id": c.id, "messages": messages })))
}

/// `GET /api/v1/complaints`.
#[instrument(skip(st, caller))]
pub async fn list_complaints(State(st): State<AppState>, Authenticated(caller): Authenticated, q: Result<Query<ListParams>, QueryRejection>) -> ApiResult<Json<Value>> {
    let page = complaints::list(&st, &caller, &extract::query(q)?).await?;
    Ok(Json(json!({ "items": page.items, "next_cursor": page.next.map(|c| c.encode()) })))
}

/// `POST /api/v1/complaints/{id}/{action}`.
#[instrument(skip(st, caller, body))]
pub async fn act(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    p: Result<Path<(String, String)>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let (id, action_name) = extract::path(p)?;
    let body = extract::body(body, crate::MAX_BODY_BYTES)?;
    let action = parse_action(&action_name, &body)?;
    let c = complaints::perform(&st, &caller, &id, action).await?;
    Ok(Json(complaint_view(&c)?))
}

/// `GET /api/v1/notifications`.
pub async fn notifications(State(st): State<AppState>, Authenticated(caller): Authenticated) -> ApiResult<Json<Value>> {
    Ok(Json(json!({ "items": complaints::notifications(&st, &caller, 100).await? })))
}

/// `GET /api/v1/users`.
pub async fn users(State(st): State<AppState>, Authenticated(caller): Authenticated) -> ApiResult<Json<Value>> {
    Ok(Json(json!({ "items": redress_app::users::list(&st, &caller).await? })))
}

/// `GET /api/v1/profiles/{id}`: a rule profile, so clients can show deadlines and reasons.
pub async fn profile(State(st): State<AppState>, _caller: Authenticated, id: Result<Path<String>, PathRejection>) -> ApiResult<Json<Value>> {
    let id = extract::path(id)?;
    let p = st.rules.profiles.get(&id).ok_or_else(|| AppError::not_found("profile"))?;
    Ok(Json(serde_json::to_value(p).map_err(AppError::internal)?))
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
    Authenticated(caller): Authenticated,
    id: Result<Path<String>, PathRejection>,
    query: Result<Query<UploadQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let id = extract::path(id)?;
    let body = extract::body(body, redress_domain::attachment::MAX_ATTACHMENT_BYTES)?;
    let Query(q) = query.map_err(|_| AppError::invalid("filename", "give the file name as ?filename=NAME"))?;
    let (attachment, c) = complaints::attach(&st, &caller, &id, &q.filename, &body).await?;
    Ok((StatusCode::CREATED, Json(json!({ "attachment": attachment, "complaint": complaint_view(&c)? }))))
}

/// `GET /api/v1/complaints/{id}/attachments/{sha256}`.
#[instrument(skip(st, caller))]
pub async fn download_attachment(State(st): State<AppState>, Authenticated(caller): Authenticated, p: Result<Path<(String, String)>, PathRejection>) -> ApiResult<Response> {
    let (id, sha256) = extract::path(p)?;
    let (listed, content) = complaints::attachment(&st, &caller, &id, &sha256).await?;
    let disposition = format!("attachment; filename*=UTF-8''{}", percent_encode(&listed.filename));
    Ok(([(header::CONTENT_TYPE, listed.media_type), (header::CONTENT_DISPOSITION, disposition)], content).into_response())
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

/// `POST /api/v1/delivery/sms-receipts`: the SMS gateway's delivery receipts, in the format its
/// settings describe, authenticated with the receipt token (not a user's API token).
#[instrument(skip(st, headers, body))]
pub async fn sms_receipts(State(st): State<AppState>, headers: HeaderMap, body: Result<Bytes, BytesRejection>) -> ApiResult<Json<Value>> {
    let Some(format) = st.sms_receipts.clone() else {
        return Err(AppError::not_found("SMS receipts (no gateway with receipts is configured)").into());
    };
    let token = headers.get(header::AUTHORIZATION).and_then(|h| h.to_str().ok()).and_then(|h| h.strip_prefix("Bearer "));
    let body = extract::body(body, crate::MAX_BODY_BYTES)?;
    let value: Value = serde_json::from_slice(&body).map_err(|e| ApiError::new(ErrorKind::Malformed, "invalid_json", format!("the receipts are not JSON: {e}")))?;
    let report = redress_app::delivery::sms_receipts(&st, &format, token, &value).await?;
    Ok(Json(json!(report)))
}

/// The query of `GET /api/v1/intake/mail`.
#[derive(Debug, Deserialize)]
pub struct MailListParams {
    /// Only this outcome (`registered`, `joined`, `receipt`, `ignored`, `refused`).
    pub outcome: Option<String>,
    /// At most this many (default 100).
    pub limit: Option<u32>,
}

/// `GET /api/v1/intake/mail`: the e-mails taken in with their outcomes, newest first.
pub async fn intake_mail(State(st): State<AppState>, Authenticated(caller): Authenticated, q: Result<Query<MailListParams>, QueryRejection>) -> ApiResult<Json<Value>> {
    let q = extract::query(q)?;
    let items = redress_app::mail_intake::list(&st, &caller, q.outcome.as_deref(), q.limit.unwrap_or(100)).await?;
    Ok(Json(json!({ "items": items })))
}

/// `GET /api/v1/intake/mail/{id}/raw`: one e-mail as it was received (`message/rfc822`).
pub async fn intake_mail_raw(State(st): State<AppState>, Authenticated(caller): Authenticated, id: Result<Path<i64>, PathRejection>) -> ApiResult<Response> {
    let raw = redress_app::mail_intake::raw(&st, &caller, extract::path(id)?).await?;
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static("message/rfc822"))], raw).into_response())
}

/// The query of the regulator's transfer list import and replies export.
#[derive(Debug, Deserialize)]
pub struct RegulatorParams {
    /// The regulator, when the list names none (import), or the only one (export).
    pub regulator: Option<String>,
    /// First day, inclusive (export).
    pub from: Option<String>,
    /// Last day, inclusive (export).
    pub to: Option<String>,
    /// `csv` (default) or `xlsx` (export).
    pub format: Option<String>,
}

/// `POST /api/v1/imports/regulator`: the regulator's transfer list as the body (CSV or XLSX);
/// the answer lists every row's outcome with its line.
pub async fn import_regulator(
    State(st): State<AppState>,
    Authenticated(caller): Authenticated,
    q: Result<Query<RegulatorParams>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let q = extract::query(q)?;
    let body = extract::body(body, crate::MAX_BODY_BYTES)?;
    let rows = redress_app::regulator::import_transfer_file(&st, &caller, &body, q.regulator.as_deref()).await?;
    Ok(Json(json!({ "rows": rows })))
}

/// `GET /api/v1/exports/regulator-replies?from=…&to=…`: the answers in the transfer list's
/// layout, as CSV or XLSX (`format=xlsx`).
pub async fn export_regulator_replies(State(st): State<AppState>, Authenticated(caller): Authenticated, q: Result<Query<RegulatorParams>, QueryRejection>) -> ApiResult<Response> {
    let q = extract::query(q)?;
    let xlsx = q.format.as_deref() == Some("xlsx");
    let (bytes, _) = redress_app::regulator::replies_file(&st, &caller, q.from.as_deref(), q.to.as_deref(), q.regulator.as_deref(), xlsx).await?;
    let (content_type, ext) = if xlsx { ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx") } else { ("text/csv; charset=utf-8", "csv") };
    let disposition = format!("attachment; filename=\"regulator-replies.{ext}\"");
    Ok(([(header::CONTENT_TYPE, content_type.to_string()), (header::CONTENT_DISPOSITION, disposition)], bytes).into_response())
}

/// `GET /api/v1/webhooks`: the notices waiting for the bank's other systems and those given up.
pub async fn webhooks(State(st): State<AppState>, Authenticated(caller): Authenticated) -> ApiResult<Json<Value>> {
    Ok(Json(json!(redress_app::webhooks::backlog(&st, &caller).await?)))
}
