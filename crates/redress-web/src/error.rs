//! Failures as pages.
//!
//! Policy: a handler returns a [`PageError`] holding the use case's [`AppError`]; the response
//! carries it to [`render_failures`], which knows the request's language and renders the
//! error page with the status of the error's kind. A complaint the person may not see is "not
//! found", as in the API. Someone not signed in is sent to the sign-in page and back. Internal
//! failures are logged with their cause and shown without detail.

use askama::Template;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use redress_app::{AppError, ErrorKind};

use crate::i18n::Lang;
use crate::page::Page;
use crate::session::request_lang;

/// A failed page request.
#[derive(Debug)]
pub struct PageError(pub AppError);

/// The failure a response carries to [`render_failures`].
#[derive(Debug, Clone)]
struct Failure {
    kind: ErrorKind,
    code: &'static str,
    message: String,
}

/// A response that sends the browser to sign in and back.
#[derive(Debug, Clone)]
struct SignInFirst(String);

impl PageError {
    /// Not signed in: go to the sign-in page and come back to `next`.
    pub fn sign_in(next: &str) -> PageError {
        PageError(AppError::unauthenticated().with_field(next.to_string()))
    }
}

impl<E: Into<AppError>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

/// The HTTP status of an error kind.
pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::Malformed => StatusCode::BAD_REQUEST,
        ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let e = self.0;
        if e.kind == ErrorKind::Unauthenticated && e.code == "unauthenticated" {
            let mut r = StatusCode::SEE_OTHER.into_response();
            r.extensions_mut().insert(SignInFirst(e.field.unwrap_or_else(|| "/".into())));
            return r;
        }
        if e.kind == ErrorKind::Internal {
            let cause = e.source.as_ref().map(|s| s.to_string()).unwrap_or_default();
            tracing::error!(error = %e.message, %cause, "internal error on a page");
        }
        let mut r = status_of(e.kind).into_response();
        r.extensions_mut().insert(Failure { kind: e.kind, code: e.code, message: e.message });
        r
    }
}

/// The error page.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    /// Common page parts.
    pub p: Page,
    /// Status code.
    pub status: u16,
    /// Catalog key of the headline.
    pub headline: &'static str,
    /// The explanation.
    pub message: String,
}

/// Middleware: records the request's language for the handlers, and renders the failures
/// handlers return as pages in that language.
pub async fn render_failures(mut request: Request, next: Next) -> Response {
    let lang = request_lang(request.headers());
    request.extensions_mut().insert(lang);
    let response = next.run(request).await;
    if let Some(SignInFirst(next)) = response.extensions().get::<SignInFirst>() {
        let target = format!("/sign-in?next={}", form_urlencoded_component(next));
        return Redirect::to(&target).into_response();
    }
    let Some(failure) = response.extensions().get::<Failure>().cloned() else { return response };
    let status = response.status();
    error_page(lang, status, &failure)
}

fn error_page(lang: Lang, status: StatusCode, failure: &Failure) -> Response {
    let headline = match failure.kind {
        ErrorKind::NotFound => "error.not_found",
        ErrorKind::Forbidden if failure.code == "csrf" => "error.csrf",
        ErrorKind::Forbidden => "error.forbidden",
        ErrorKind::RateLimited => "error.rate_limited",
        ErrorKind::Internal => "error.internal",
        ErrorKind::Conflict => "error.conflict",
        _ => "error.invalid",
    };
    let p = Page::anonymous(lang, "error.title");
    let message = match failure.kind {
        ErrorKind::Internal => String::new(),
        ErrorKind::NotFound => p.t("error.not_found_detail").to_string(),
        _ => p.message(&failure.message),
    };
    let page = ErrorPage { p, status: status.as_u16(), headline, message };
    match page.render() {
        Ok(html) => (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "the error page did not render");
            status.into_response()
        }
    }
}

/// Percent-encodes a query component.
pub fn form_urlencoded_component(s: &str) -> String {
    serde_urlencoded::to_string([("", s)]).map(|q| q.trim_start_matches('=').to_string()).unwrap_or_default()
}

/// The answer to a request for a path that does not exist, as a page.
pub async fn not_found(request: Request) -> Response {
    let lang = request_lang(request.headers());
    error_page(lang, StatusCode::NOT_FOUND, &Failure { kind: ErrorKind::NotFound, code: "not_found", message: String::new() })
}
