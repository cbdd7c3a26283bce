//! The staff workbench's pages, one module per area; each handler reads its input, calls one
//! use case and renders one template.

pub mod account;
pub mod admin;
pub mod analysis;
pub mod complaint;
pub mod hotspots;
pub mod incidents;
pub mod intake;
pub mod notifications;
pub mod person;
pub mod queues;
pub mod register;
pub mod reports;
pub mod scorecards;
pub mod search;
pub mod work;

use askama::Template;
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::error::PageError;
use crate::session::{SESSION_COOKIE, cookie};

/// The front door: staff with a session go to their work, everyone else to sign in.
pub async fn home(headers: axum::http::HeaderMap) -> Response {
    if cookie(&headers, SESSION_COOKIE).is_some() { Redirect::to("/work").into_response() } else { Redirect::to("/sign-in").into_response() }
}

/// Renders a template as an HTML answer.
pub fn render(t: &impl Template) -> Result<Response, PageError> {
    let html = t.render().map_err(redress_app::AppError::internal)?;
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], Html(html)).into_response())
}

/// After a successful post: back to a page (303, so a reload does not post again).
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}
