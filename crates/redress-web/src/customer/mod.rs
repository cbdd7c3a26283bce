//! The customers' pages: submitting a complaint online, tracking it with its number and
//! tracking code, and answering the follow-up survey from a signed link.
//!
//! Nobody signs in here. Every form carries the double-submit token of [`Visitor`]; every
//! handler calls one use case of `redress_app::customer`, which runs as the online service and
//! throttles per client address. The pages are plain forms that work on a phone and without
//! JavaScript; the texts come from the `customer` catalog.

pub mod complain;
pub mod survey;
pub mod track;

use axum::Router;
use axum::http::header;
use axum::response::Response;
use axum::routing::{get, post};
use redress_app::{App, AppError, ErrorKind};

use crate::error::PageError;
use crate::form::{FieldErrors, Upload};
use crate::page::Page;
use crate::session::Visitor;

/// The routes of these pages.
pub fn routes() -> Router<App> {
    Router::new()
        .route("/complain", get(complain::form).post(complain::submit))
        .route("/track", get(track::form).post(track::look_up))
        .route("/track/materials", post(track::materials))
        .route("/survey/{token}", get(survey::form).post(survey::answer))
}

/// Adds a `Set-Cookie` header, if there is one to set.
pub(crate) fn with_cookie(mut response: Response, cookie: Option<String>) -> Response {
    if let Some(c) = cookie
        && let Ok(v) = c.parse()
    {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// A customer page with the visitor's form token, and the cookie to set when the browser has
/// none yet.
pub(crate) fn page_for(app: &App, visitor: &Visitor, title: &'static str) -> (Page, Option<String>) {
    let (token, cookie) = visitor.form_token();
    (Page::customer(app, visitor.lang, title, token), cookie)
}

/// Uploaded files as the use cases take them.
pub(crate) fn files_of(files: &[Upload]) -> Vec<(String, Vec<u8>)> {
    files.iter().map(|u| (u.filename.clone(), u.content.clone())).collect()
}

/// The catalog key that says a use case's error to a customer, for the errors of the
/// customers' use cases.
fn catalog_key(e: &AppError) -> Option<&'static str> {
    Some(match e.code {
        "too_many_attempts" => "customer.too_many",
        "no_match" => "customer.no_match",
        "link_not_valid" => "customer.link_not_valid",
        "link_used" => "customer.link_used",
        "not_waiting" => "customer.not_waiting",
        "no_contact" => "customer.need_contact",
        "no_materials" => "customer.need_materials",
        _ => return None,
    })
}

/// The error with its message in the page's language when the catalog says it.
pub(crate) fn localized(p: &Page, mut e: AppError) -> AppError {
    if let Some(key) = catalog_key(&e) {
        e.message = p.t(key).to_string();
    }
    e
}

/// Field errors of a failed use case, in the page's language.
pub(crate) fn field_errors(p: &Page, e: AppError) -> FieldErrors {
    FieldErrors::from_app(&localized(p, e))
}

/// A failure that ends the request with the generic error page (throttling, internal
/// failures), its message in the page's language.
pub(crate) fn fail(p: &Page, e: AppError) -> PageError {
    PageError(localized(p, e))
}

/// Whether an error is one the page shows beside the form rather than as an error page.
pub(crate) fn shown_in_form(e: &AppError) -> bool {
    matches!(e.kind, ErrorKind::Invalid | ErrorKind::TooLarge)
}
