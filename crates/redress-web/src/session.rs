//! Who is at the browser: the staff session from its cookie, the language, the address, and
//! the CSRF checks every posted form passes.
//!
//! Staff forms carry the session's own CSRF token. Forms shown before anyone signs in (the
//! sign-in form, the customers' pages) use a double-submit token: a random value in a cookie
//! that the form repeats; a page of another site can neither read the cookie nor set it.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use redress_app::{AppError, Caller, ErrorKind};

use crate::WebSettings;
use crate::error::PageError;
use crate::i18n::Lang;

/// The cookie holding the staff session's secret.
pub const SESSION_COOKIE: &str = "rdr_session";
/// The cookie holding the chosen language.
pub const LANG_COOKIE: &str = "rdr_lang";
/// The cookie holding the double-submit token of forms shown before signing in.
pub const FORM_COOKIE: &str = "rdr_form";

/// The value of a cookie of the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, for the whole site; `Secure` when the pages
/// are served over TLS or from behind a proxy (which terminates it); `max_age` in seconds (0
/// deletes it).
pub fn set_cookie(settings: &WebSettings, name: &str, value: &str, max_age: i64) -> String {
    let secure = if settings.secure_cookies || settings.behind_proxy { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

/// The language of a request: the language cookie, else `Accept-Language`.
pub fn request_lang(headers: &HeaderMap) -> Lang {
    cookie(headers, LANG_COOKIE).and_then(Lang::parse).unwrap_or_else(|| {
        headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map(Lang::from_accept_language)
            .unwrap_or_default()
    })
}

/// Equality that takes as long for every pair of equal-length inputs.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Anyone at the browser: language, address and the double-submit token, if the browser has
/// one.
#[derive(Debug, Clone)]
pub struct Visitor {
    /// Language of the pages.
    pub lang: Lang,
    /// The client's address (for throttling).
    pub address: Option<String>,
    /// The double-submit token the browser holds.
    pub form_token: Option<String>,
    /// How the pages are served.
    pub settings: WebSettings,
}

impl Visitor {
    /// The token to put in an anonymous form, and the cookie to set when the browser has none.
    pub fn form_token(&self) -> (String, Option<String>) {
        match &self.form_token {
            Some(t) => (t.clone(), None),
            None => {
                let t = redress_app::accounts::random_secret();
                let cookie = set_cookie(&self.settings, FORM_COOKIE, &t, 60 * 60 * 24);
                (t, Some(cookie))
            }
        }
    }

    /// Checks an anonymous form's token against the cookie.
    pub fn check_form(&self, posted: Option<&str>) -> Result<(), PageError> {
        match (&self.form_token, posted) {
            (Some(cookie), Some(posted)) if same_secret(cookie, posted) => Ok(()),
            _ => Err(csrf_refused()),
        }
    }
}

/// The error of a form posted without its valid token.
pub fn csrf_refused() -> PageError {
    PageError(AppError::new(ErrorKind::Forbidden, "csrf", "this form has expired or did not come from Redress; reload the page and try again"))
}

impl<S: Send + Sync> FromRequestParts<S> for Visitor {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let settings = parts.extensions.get::<WebSettings>().cloned().unwrap_or_default();
        let lang = parts.extensions.get::<Lang>().copied().unwrap_or_else(|| request_lang(&parts.headers));
        let forwarded = settings
            .behind_proxy
            .then(|| parts.headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()).and_then(|v| v.split(',').next()).map(|v| v.trim().to_string()))
            .flatten();
        let peer = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip().to_string());
        let form_token = cookie(&parts.headers, FORM_COOKIE).filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit())).map(str::to_string);
        Ok(Visitor { lang, address: forwarded.or(peer), form_token, settings })
    }
}

/// A signed-in member of staff.
#[derive(Debug, Clone)]
pub struct Staff {
    /// Who.
    pub caller: Caller,
    /// The session's CSRF token.
    pub csrf: String,
    /// Language of the pages (the user's setting, else the browser's).
    pub lang: Lang,
    /// The session's secret (to sign out).
    pub token: String,
    /// How the pages are served.
    pub settings: WebSettings,
}

impl Staff {
    /// Checks a posted form's CSRF token.
    pub fn check_csrf(&self, posted: Option<&str>) -> Result<(), PageError> {
        match posted {
            Some(p) if same_secret(p, &self.csrf) => Ok(()),
            _ => Err(csrf_refused()),
        }
    }
}

impl FromRequestParts<redress_app::App> for Staff {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, app: &redress_app::App) -> Result<Self, Self::Rejection> {
        let visitor = Visitor::from_request_parts(parts, app).await?;
        let next = parts.uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE).map(str::to_string) else {
            return Err(PageError::sign_in(&next));
        };
        let Some(session) = redress_app::accounts::session(app, &token).await? else {
            return Err(PageError::sign_in(&next));
        };
        let lang = session.language.as_deref().and_then(Lang::parse).unwrap_or(visitor.lang);
        parts.extensions.insert(lang);
        Ok(Staff { caller: session.caller, csrf: session.csrf, lang, token, settings: visitor.settings })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_http_only_same_site_and_secure_behind_tls() {
        let plain = set_cookie(&WebSettings::default(), SESSION_COOKIE, "abc", 60);
        assert_eq!(plain, "rdr_session=abc; Path=/; HttpOnly; SameSite=Lax; Max-Age=60");
        let proxied = WebSettings { secure_cookies: false, behind_proxy: true };
        assert!(set_cookie(&proxied, SESSION_COOKIE, "abc", 60).ends_with("; Secure"));
        let tls = WebSettings { secure_cookies: true, behind_proxy: false };
        assert!(set_cookie(&tls, SESSION_COOKIE, "abc", 60).ends_with("; Secure"));
    }

    #[test]
    fn reads_the_named_cookie_among_several() {
        let mut headers = HeaderMap::new();
        headers.insert(axum::http::header::COOKIE, "a=1; rdr_session=xyz; rdr_lang=en".parse().unwrap());
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("xyz"));
        assert_eq!(request_lang(&headers), Lang::En);
        assert_eq!(cookie(&headers, "missing"), None);
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abcd", "abcd"));
        assert!(!same_secret("abcd", "abce"));
        assert!(!same_secret("abc", "abcd"));
    }
}
