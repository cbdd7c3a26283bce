//! Database URLs as they may be shown: the password replaced, wherever a URL is printed or
//! logged (a PostgreSQL URL may carry `user:password@`).

/// The URL with any password replaced by `***`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    // The authority ends at the first '/', '?' or '#'; credentials end at its last '@'.
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let mut out = format!("{scheme}://");
    match authority.rsplit_once('@') {
        Some((credentials, host)) => {
            match credentials.split_once(':') {
                Some((user, _password)) => out.push_str(&format!("{user}:***@{host}")),
                None => out.push_str(&format!("{credentials}@{host}")),
            }
        }
        None => out.push_str(authority),
    }
    let tail = redact_query_password(tail);
    out.push_str(&tail);
    out
}

/// `?password=…` in a query string is a password too.
fn redact_query_password(tail: &str) -> String {
    let Some((path, query)) = tail.split_once('?') else { return tail.to_string() };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
            _ => pair.to_string(),
        })
        .collect();
    format!("{path}?{}", pairs.join("&"))
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_never_show() {
        assert_eq!(redact_url("postgres://redress:s3cr%40t@db.internal:5432/redress"), "postgres://redress:***@db.internal:5432/redress");
        assert_eq!(redact_url("postgres://u:p@ss@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact_url("postgres://postgres@127.0.0.1:5432/test"), "postgres://postgres@127.0.0.1:5432/test");
        assert_eq!(redact_url("postgres://h/db?user=u&password=pw&sslmode=require"), "postgres://h/db?user=u&password=***&sslmode=require");
        assert_eq!(redact_url("sqlite://redress-data/redress.db"), "sqlite://redress-data/redress.db");
    }
}
