//! The web pages of Redress: the staff workbench and the customers' pages, server-rendered
//! from compile-time-checked templates (`templates/<area>/<page>.html`, one page struct per
//! template), calling the same use cases as the JSON API.
//!
//! Every page works without JavaScript; `static/app.js` only adds conveniences. Every text
//! comes from the catalogs ([`i18n`]); every value is escaped by the templates; every form
//! carries a CSRF token ([`session`]); the Content-Security-Policy allows no inline script or
//! style.

pub mod chart;
pub mod customer;
pub mod error;
pub mod form;
pub mod i18n;
pub mod page;
pub mod pages;
pub mod session;
pub mod show;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use redress_app::App;

/// How the pages are served.
#[derive(Debug, Clone, Default)]
pub struct WebSettings {
    /// Mark cookies `Secure`: the pages are served over TLS.
    pub secure_cookies: bool,
    /// Behind a proxy that terminates TLS: trust the first address of `X-Forwarded-For` as the
    /// client's, and mark cookies `Secure`.
    pub behind_proxy: bool,
}

/// The largest form accepted with its attachments.
pub const MAX_FORM_BYTES: usize = redress_domain::attachment::MAX_ATTACHMENT_BYTES + 512 * 1024;

/// The pages' routes, to be merged into the server's router (which supplies the state).
pub fn routes(settings: WebSettings) -> Router<App> {
    Router::new()
        .route("/", get(pages::home))
        .route("/static/app.css", get(stylesheet))
        .route("/static/app.js", get(script))
        .route("/sign-in", get(pages::account::sign_in_page).post(pages::account::sign_in))
        .route("/sign-out", post(pages::account::sign_out))
        .route("/account", get(pages::account::account_page))
        .route("/account/password", post(pages::account::change_password))
        .route("/account/language", post(pages::account::set_language))
        .route("/language", post(pages::account::set_language_anonymous))
        .route("/work", get(pages::work::my_work))
        .route("/complaints/new", get(pages::register::form).post(pages::register::submit))
        .route("/complaints/{number}", get(pages::complaint::show))
        .route("/complaints/{number}/act/{action}", post(pages::complaint::act))
        .route("/complaints/{number}/attachments", post(pages::complaint::attach))
        .route("/complaints/{number}/attachments/{sha256}", get(pages::complaint::download))
        .route("/complaints/{number}/person", get(pages::person::show))
        .route("/approvals", get(pages::queues::approvals))
        .route("/follow-ups", get(pages::queues::follow_ups))
        .merge(pages::search::routes())
        .merge(pages::incidents::routes())
        .merge(pages::intake::routes())
        .merge(pages::notifications::routes())
        .merge(pages::analysis::routes())
        .merge(pages::scorecards::routes())
        .merge(pages::hotspots::routes())
        .merge(pages::reports::routes())
        .merge(pages::admin::routes())
        .merge(customer::routes())
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
        .layer(axum::middleware::from_fn(error::render_failures))
        .layer(axum::Extension(settings))
}

/// The Content-Security-Policy of every answer: our own script and style only, no inline code,
/// no framing, forms posting only to us.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; connect-src 'self'";

/// Adds the security headers every page needs.
pub async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

async fn stylesheet() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], include_str!("../static/app.css")).into_response()
}

async fn script() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], include_str!("../static/app.js")).into_response()
}
