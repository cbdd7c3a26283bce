//! Following a complaint with its number and tracking code: the status, the deadlines, the
//! messages sent, a form for the materials the handler waits for, and the survey link once
//! the complaint is decided.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use redress_app::customer::{self, Tracked};
use redress_app::{App, AppError, ErrorKind};
use redress_domain::lifecycle::Status;

use super::{field_errors, files_of, page_for, shown_in_form, with_cookie};
use crate::error::PageError;
use crate::form::{FieldErrors, FormData};
use crate::page::Page;
use crate::pages::render;
use crate::session::Visitor;

/// A message sent to the customer, as shown.
#[derive(Debug, Clone)]
pub struct MessageRow {
    /// Subject.
    pub subject: String,
    /// When, local.
    pub at: String,
    /// Body.
    pub body: String,
}

/// The complaint as its customer sees it.
#[derive(Debug, Clone)]
pub struct TrackedView {
    /// The complaint number.
    pub number: String,
    /// The status, labelled for customers.
    pub status: String,
    /// The status's wire name.
    pub status_wire: &'static str,
    /// When it was received, local.
    pub received: String,
    /// The decision deadline, local; `None` while the clock is paused or once decided.
    pub deadline: Option<String>,
    /// When the decision was given, local.
    pub decided: Option<String>,
    /// The customer may ask for a review until then, local.
    pub review_until: Option<String>,
    /// The number of the complaint it was merged into.
    pub merged_into: Option<String>,
    /// The messages sent, newest first.
    pub messages: Vec<MessageRow>,
    /// Whether the handler waits for the customer's materials.
    pub waiting: bool,
    /// The survey page, while the complaint awaits the customer's answer.
    pub survey: Option<String>,
}

/// The tracking page: the form, and the complaint once found.
#[derive(Template)]
#[template(path = "customer/track.html")]
pub struct TrackPage {
    /// Common page parts.
    pub p: Page,
    /// The number typed.
    pub number: String,
    /// Why the look-up failed.
    pub error: Option<String>,
    /// The complaint found.
    pub tracked: Option<TrackedView>,
    /// The code it was found with (sent again by the materials form).
    pub code: String,
    /// Errors of the materials form.
    pub errors: FieldErrors,
    /// The note typed in the materials form (kept when it failed).
    pub note: String,
}

fn view(p: &Page, t: &Tracked) -> TrackedView {
    let c = &t.complaint;
    let mut messages: Vec<MessageRow> = t
        .messages
        .iter()
        .map(|m| MessageRow { subject: m.message.subject.clone(), at: p.time(&m.message.created_at), body: m.message.body.clone() })
        .collect();
    messages.reverse();
    let decided = c.decision.as_ref().map(|d| p.time(&d.decided_at));
    TrackedView {
        number: c.number.clone(),
        status: p.label("customer.status", c.status.as_str()),
        status_wire: c.status.as_str(),
        received: p.time(&c.received_at),
        deadline: if c.status.is_being_handled() { c.deadlines.decide_by.as_ref().map(|d| p.time(d)) } else { None },
        decided,
        review_until: if matches!(c.status, Status::Decided | Status::Closed) { c.deadlines.review_apply_by.as_ref().map(|d| p.time(d)) } else { None },
        merged_into: c.merged_into.as_ref().map(|m| m.number.clone()),
        messages,
        waiting: customer::awaits_materials(c),
        survey: t.survey_token.as_ref().map(|token| format!("/survey/{token}")),
    }
}

/// Shows the empty form.
pub async fn form(State(app): State<App>, visitor: Visitor) -> Result<Response, PageError> {
    let (p, cookie) = page_for(&app, &visitor, "customer.track_title");
    let page = TrackPage { p, number: String::new(), error: None, tracked: None, code: String::new(), errors: FieldErrors::default(), note: String::new() };
    Ok(with_cookie(render(&page)?, cookie))
}

/// The form again with the one answer to a wrong number or code (404 either way).
fn no_match(p: Page, number: String) -> Result<Response, PageError> {
    let error = Some(p.t("customer.no_match").to_string());
    let page = TrackPage { p, number, error, tracked: None, code: String::new(), errors: FieldErrors::default(), note: String::new() };
    Ok((StatusCode::NOT_FOUND, render(&page)?).into_response())
}

/// Looks the complaint up by number and tracking code.
pub async fn look_up(State(app): State<App>, visitor: Visitor, f: FormData) -> Result<Response, PageError> {
    visitor.check_form(f.csrf())?;
    let (p, _) = page_for(&app, &visitor, "customer.track_title");
    let number = f.text("number");
    let code = f.text("code");
    match customer::track(&app, &number, &code, visitor.address.as_deref()).await {
        Ok(t) => {
            let tracked = Some(view(&p, &t));
            render(&TrackPage { p, number, error: None, tracked, code, errors: FieldErrors::default(), note: String::new() })
        }
        Err(e) if e.code == "no_match" => no_match(p, number),
        Err(e) => Err(super::fail(&p, e)),
    }
}

/// Adds the customer's materials, then shows the complaint again with a notice, or with the
/// reasons beside the form.
pub async fn materials(State(app): State<App>, visitor: Visitor, f: FormData) -> Result<Response, PageError> {
    visitor.check_form(f.csrf())?;
    let (p, _) = page_for(&app, &visitor, "customer.track_title");
    let number = f.text("number");
    let code = f.text("code");
    let note = f.raw("note").to_string();
    let files = files_of(&f.files);
    let address = visitor.address.as_deref();
    let (status, notice, errors) = match customer::add_materials(&app, &number, &code, &note, &files, address).await {
        Ok(_) => (StatusCode::OK, Some(p.t("customer.materials_received").to_string()), FieldErrors::default()),
        Err(e) if e.code == "no_match" => return no_match(p, number),
        Err(e) if e.kind == ErrorKind::Conflict => (StatusCode::CONFLICT, Some(super::localized(&p, e).message), FieldErrors::default()),
        Err(e) if shown_in_form(&e) => (crate::error::status_of(e.kind), None, field_errors(&p, e)),
        Err(e) => return Err(super::fail(&p, e)),
    };
    // The materials were checked with the same number and code a moment ago.
    let t = customer::track(&app, &number, &code, address).await.map_err(|e: AppError| super::fail(&p, e))?;
    let tracked = Some(view(&p, &t));
    let kept_note = if errors.is_empty() { String::new() } else { note };
    let p = p.with_notice(notice);
    Ok((status, render(&TrackPage { p, number, error: None, tracked, code, errors, note: kept_note })?).into_response())
}
