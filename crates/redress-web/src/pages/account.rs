//! Signing in and out, and the person's own account (password, language).

use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use redress_app::App;
use redress_app::accounts;
use serde::Deserialize;

use crate::WebSettings;
use crate::error::PageError;
use crate::form::{FieldErrors, FormData};
use crate::i18n::Lang;
use crate::page::Page;
use crate::pages::{render, see_other};
use crate::session::{LANG_COOKIE, SESSION_COOKIE, Staff, Visitor, set_cookie};

/// The sign-in page.
#[derive(Template)]
#[template(path = "staff/sign_in.html")]
pub struct SignInPage {
    /// Common page parts.
    pub p: Page,
    /// Where to go after signing in.
    pub next: String,
    /// The name typed.
    pub name: String,
    /// Why the last attempt failed.
    pub error: Option<String>,
}

/// Query of the sign-in page.
#[derive(Debug, Deserialize)]
pub struct NextQuery {
    /// Where to go after signing in.
    pub next: Option<String>,
}

/// Only a path of this site is a place to go back to (never another host).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") && !n.chars().any(char::is_control) => n.to_string(),
        _ => "/work".to_string(),
    }
}

fn with_cookie(mut response: Response, cookie: Option<String>) -> Response {
    if let Some(c) = cookie
        && let Ok(v) = c.parse()
    {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// Shows the sign-in form.
pub async fn sign_in_page(visitor: Visitor, Query(q): Query<NextQuery>) -> Result<Response, PageError> {
    let (token, cookie) = visitor.form_token();
    let mut p = Page::anonymous(visitor.lang, "sign_in.title");
    p.csrf = token;
    let page = SignInPage { p, next: safe_next(q.next.as_deref()), name: String::new(), error: None };
    Ok(with_cookie(render(&page)?, cookie))
}

/// Signs in, or shows the form again with the reason.
pub async fn sign_in(State(app): State<App>, visitor: Visitor, form: FormData) -> Result<Response, PageError> {
    visitor.check_form(form.csrf())?;
    let next = safe_next(form.get("next"));
    match accounts::sign_in(&app, &form.text("name"), form.raw("password"), visitor.address.as_deref()).await {
        Ok(signed_in) => {
            let mut response = see_other(&next);
            let max_age = accounts::SESSION_LIFETIME.as_secs();
            let headers = response.headers_mut();
            if let Ok(v) = set_cookie(&visitor.settings, SESSION_COOKIE, &signed_in.token, max_age).parse() {
                headers.append(header::SET_COOKIE, v);
            }
            if let Some(lang) = signed_in.user.language.as_deref().and_then(Lang::parse)
                && let Ok(v) = set_cookie(&visitor.settings, LANG_COOKIE, lang.tag(), 60 * 60 * 24 * 365).parse()
            {
                headers.append(header::SET_COOKIE, v);
            }
            Ok(response)
        }
        Err(e) if matches!(e.kind, redress_app::ErrorKind::Unauthenticated | redress_app::ErrorKind::RateLimited) => {
            let mut p = Page::anonymous(visitor.lang, "sign_in.title");
            p.csrf = visitor.form_token().0;
            let error = Some(p.t(if e.kind == redress_app::ErrorKind::RateLimited { "sign_in.throttled" } else { "sign_in.wrong" }).to_string());
            let status = crate::error::status_of(e.kind);
            let page = SignInPage { p, next, name: form.text("name"), error };
            Ok((status, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// Signs out.
pub async fn sign_out(State(app): State<App>, staff: Staff, form: FormData) -> Result<Response, PageError> {
    staff.check_csrf(form.csrf())?;
    accounts::sign_out(&app, &staff.token).await?;
    let response = see_other("/sign-in");
    Ok(with_cookie(response, Some(set_cookie(&staff.settings, SESSION_COOKIE, "", 0))))
}

/// The account page.
#[derive(Template)]
#[template(path = "staff/account.html")]
pub struct AccountPage {
    /// Common page parts.
    pub p: Page,
    /// Errors of the password form.
    pub errors: FieldErrors,
    /// The department's name.
    pub department: String,
}

/// Shows the account page.
pub async fn account_page(State(app): State<App>, staff: Staff) -> Result<Response, PageError> {
    let p = Page::staff(&app, &staff, "account.title", "account");
    let department = staff.caller.department().map(|d| p.department_name(&app.rules.org, d)).unwrap_or_default();
    render(&AccountPage { p, errors: FieldErrors::default(), department })
}

/// Changes the password; every session ends, so the person signs in again.
pub async fn change_password(State(app): State<App>, staff: Staff, form: FormData) -> Result<Response, PageError> {
    staff.check_csrf(form.csrf())?;
    if form.raw("new") != form.raw("repeat") {
        let p = Page::staff(&app, &staff, "account.title", "account");
        let errors = FieldErrors::from_app(&redress_app::AppError::invalid("repeat", p.t("account.mismatch")));
        let department = staff.caller.department().map(|d| p.department_name(&app.rules.org, d)).unwrap_or_default();
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&AccountPage { p, errors, department })?).into_response());
    }
    match accounts::change_password(&app, &staff.caller, form.raw("current"), form.raw("new")).await {
        Ok(()) => Ok(with_cookie(see_other("/sign-in"), Some(set_cookie(&staff.settings, SESSION_COOKIE, "", 0)))),
        Err(e) if e.kind == redress_app::ErrorKind::Invalid => {
            let p = Page::staff(&app, &staff, "account.title", "account");
            let department = staff.caller.department().map(|d| p.department_name(&app.rules.org, d)).unwrap_or_default();
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&AccountPage { p, errors: FieldErrors::from_app(&e), department })?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// Sets the signed-in person's language.
pub async fn set_language(State(app): State<App>, staff: Staff, form: FormData) -> Result<Response, PageError> {
    staff.check_csrf(form.csrf())?;
    let lang = form.get("language").and_then(Lang::parse).unwrap_or_default();
    accounts::set_language(&app, &staff.caller, lang.tag()).await?;
    Ok(with_cookie(see_other("/account"), Some(set_cookie(&staff.settings, LANG_COOKIE, lang.tag(), 60 * 60 * 24 * 365))))
}

/// Sets the language of someone not signed in (a cookie), and returns to the page they were on.
pub async fn set_language_anonymous(visitor: Visitor, Extension(settings): Extension<WebSettings>, headers: axum::http::HeaderMap, form: FormData) -> Result<Response, PageError> {
    visitor.check_form(form.csrf())?;
    let lang = form.get("language").and_then(Lang::parse).unwrap_or_default();
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.find("://").map(|i| &r[i + 3..]))
        .and_then(|rest| rest.find('/').map(|i| rest[i..].to_string()));
    let back = safe_next(back.as_deref());
    Ok(with_cookie(see_other(&back), Some(set_cookie(&settings, LANG_COOKIE, lang.tag(), 60 * 60 * 24 * 365))))
}
