//! The person's notifications: newest first, the unread ones marked, each linking to its
//! complaint; marking one or all of them read.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use redress_app::notices::{self, Notice};
use redress_app::{App, AppError, ErrorKind};

use crate::error::PageError;
use crate::form::FormData;
use crate::page::Page;
use crate::pages::{render, see_other};
use crate::session::Staff;

/// Notifications listed.
pub const LIST_LIMIT: u32 = 100;

/// The routes of these pages.
pub fn routes() -> Router<App> {
    Router::new().route("/notifications", get(list).post(mark_read))
}

/// The notifications page.
#[derive(Template)]
#[template(path = "staff/notifications.html")]
pub struct NotificationsPage {
    /// Common page parts.
    pub p: Page,
    /// Notifications, newest first.
    pub items: Vec<Notice>,
    /// How many are unread.
    pub unread: usize,
}

/// Shows the notifications.
pub async fn list(State(app): State<App>, staff: Staff) -> Result<Response, PageError> {
    let p = Page::staff(&app, &staff, "notifications.title", "notifications");
    let items = notices::inbox(&app, &staff.caller, LIST_LIMIT).await?;
    let unread = items.iter().filter(|n| !n.read).count();
    render(&NotificationsPage { p, items, unread })
}

fn notification_id(v: &str) -> Result<i64, PageError> {
    v.parse::<i64>().map_err(|_| PageError(AppError::new(ErrorKind::Malformed, "malformed_id", "the notification is not one of the list")))
}

/// Marks one notification read (`id`), or all those listed on the page (`all=1` with the
/// `listed` ids; without them, all the person's notifications).
pub async fn mark_read(State(app): State<App>, staff: Staff, form: FormData) -> Result<Response, PageError> {
    staff.check_csrf(form.csrf())?;
    let ids: Vec<i64> = if form.get("all").is_some() {
        let listed = form.all("listed");
        if listed.is_empty() {
            notices::inbox(&app, &staff.caller, notices::MAX_NOTICES).await?.into_iter().map(|n| n.id).collect()
        } else {
            listed.into_iter().map(notification_id).collect::<Result<_, _>>()?
        }
    } else {
        match form.get("id") {
            Some(id) => vec![notification_id(id)?],
            None => return Err(PageError(AppError::new(ErrorKind::Malformed, "malformed_form", "say which notification to mark read"))),
        }
    };
    notices::mark_read(&app, &staff.caller, &ids).await?;
    Ok(see_other("/notifications"))
}
