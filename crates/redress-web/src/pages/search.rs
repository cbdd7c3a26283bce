//! Full-text search over the complaints the person may see, with filters, highlighted
//! snippets and a next-page link.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use redress_app::text::{self, SearchItem, SearchParams};
use redress_app::complaints::{self, ListParams};
use redress_app::{App, AppError, ErrorKind};
use redress_domain::classify::Dimension;
use redress_store::{ComplaintSummary, Ranking};
use serde::{Deserialize, Serialize};

use crate::error::PageError;
use crate::form::FieldErrors;
use crate::page::{Page, wire};
use crate::pages::render;
use crate::session::Staff;
use crate::show::{filter_choices, taxonomy_name};

/// Results per page.
pub const PAGE_SIZE: u32 = 20;
/// The furthest the use case pages (its offset limit).
const MAX_OFFSET: u32 = 10_000;

/// The routes of these pages.
pub fn routes() -> Router<App> {
    Router::new().route("/search", get(search))
}

/// The search form as given in the address (every field optional).
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct SearchForm {
    /// The words.
    pub q: String,
    /// Status.
    pub status: String,
    /// Channel.
    pub channel: String,
    /// Business-type code.
    pub business_type: String,
    /// Cause code.
    pub cause: String,
    /// Severity.
    pub severity: String,
    /// Owner department.
    pub department: String,
    /// Owned by a department of this unit or of a unit under it.
    pub unit: String,
    /// Received on or after this day (`YYYY-MM-DD`, local).
    pub from: String,
    /// Received on or before this day.
    pub to: String,
    /// Hits skipped.
    pub offset: String,
    /// Where a list without words goes on (a cursor of the complaint list).
    pub cursor: String,
}

impl SearchForm {
    /// The form's fields as address parameters (blank ones left out), with another offset.
    fn link(&self, offset: u32) -> String {
        let mut params: Vec<(&str, String)> = Vec::new();
        for (k, v) in [
            ("q", &self.q),
            ("status", &self.status),
            ("channel", &self.channel),
            ("business_type", &self.business_type),
            ("cause", &self.cause),
            ("severity", &self.severity),
            ("department", &self.department),
            ("unit", &self.unit),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if !v.trim().is_empty() {
                params.push((k, v.trim().to_string()));
            }
        }
        if offset > 0 {
            params.push(("offset", offset.to_string()));
        }
        format!("/search?{}", serde_urlencoded::to_string(&params).unwrap_or_default())
    }

    /// The filters without words as address parameters, continuing after a cursor.
    fn list_link(&self, cursor: &str) -> String {
        let link = self.link(0);
        let sep = if link.ends_with('?') { "" } else { "&" };
        format!("{link}{sep}{}", serde_urlencoded::to_string([("cursor", cursor)]).unwrap_or_default())
    }

    /// Whether a filter other than the words is given: the complaints matching the filters are
    /// listed newest first even without words (the analysis page links here).
    fn has_filters(&self) -> bool {
        [&self.status, &self.channel, &self.business_type, &self.cause, &self.severity, &self.department, &self.unit, &self.from, &self.to].iter().any(|v| !v.trim().is_empty())
    }
}

/// A piece of a snippet: text, highlighted or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// The text (escaped by the template).
    pub text: String,
    /// Whether it matches the query.
    pub mark: bool,
}

/// A snippet of one field.
#[derive(Debug, Clone)]
pub struct SnippetView {
    /// Catalog key of the field's name.
    pub field: &'static str,
    /// Its pieces in order.
    pub pieces: Vec<Piece>,
}

/// One hit as listed.
#[derive(Debug, Clone)]
pub struct Hit {
    /// Complaint number.
    pub number: String,
    /// Title.
    pub title: Option<String>,
    /// Status wire name.
    pub status: String,
    /// Channel wire name.
    pub channel: String,
    /// Severity wire name.
    pub severity: String,
    /// Received, local.
    pub received: String,
    /// Owner department's name.
    pub department: String,
    /// Business type with its name.
    pub business_type: String,
    /// Highlighted snippets.
    pub snippets: Vec<SnippetView>,
}

/// The search page.
#[derive(Template)]
#[template(path = "staff/search.html")]
pub struct SearchPage {
    /// Common page parts.
    pub p: Page,
    /// The form as given.
    pub form: SearchForm,
    /// Choices of the filter selects.
    pub choices: filter_choices::Choices,
    /// Whether a search ran.
    pub searched: bool,
    /// The hits of this page.
    pub hits: Vec<Hit>,
    /// "12 results", "at least 20,000 results".
    pub total: String,
    /// Catalog key of how the hits are ordered.
    pub ranking: &'static str,
    /// The link to the previous page.
    pub previous: Option<String>,
    /// The link to the next page.
    pub next: Option<String>,
    /// Validation messages by field.
    pub errors: FieldErrors,
    /// Whether the complaints matching the filters were listed (no words given).
    pub listed: bool,
    /// The complaints listed, newest first.
    pub items: Vec<ComplaintSummary>,
}

/// `12345` as `12,345`.
pub fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Splits a snippet's text at its highlights (byte ranges of the text, in order) into plain
/// and marked pieces. A range that is out of order, out of bounds or not on character
/// boundaries is not highlighted; the text is always shown whole.
pub fn pieces(text: &str, highlights: &[[usize; 2]]) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut at = 0;
    for &[start, end] in highlights {
        if start < at || start >= end || end > text.len() || !text.is_char_boundary(start) || !text.is_char_boundary(end) {
            continue;
        }
        if start > at {
            out.push(Piece { text: text[at..start].to_string(), mark: false });
        }
        out.push(Piece { text: text[start..end].to_string(), mark: true });
        at = end;
    }
    if at < text.len() {
        out.push(Piece { text: text[at..].to_string(), mark: false });
    }
    out
}

/// The order and names of the fields snippets come from.
const SNIPPET_FIELDS: [(&str, &str); 4] =
    [("title", "search.in_title"), ("narrative", "search.in_narrative"), ("request", "search.in_request"), ("notes", "search.in_notes")];

fn hit(app: &App, p: &Page, item: SearchItem) -> Hit {
    let mut snippets = Vec::new();
    for (name, key) in SNIPPET_FIELDS {
        if let Some(s) = item.snippets.get(name) {
            snippets.push(SnippetView { field: key, pieces: pieces(&s.text, &s.highlights) });
        }
    }
    Hit {
        number: item.number,
        title: item.title,
        status: item.status.as_str().to_string(),
        channel: wire(&item.channel),
        severity: wire(&item.severity),
        received: p.time(&item.received_at),
        department: p.department_name(&app.rules.org, &item.department),
        business_type: item.business_type.as_deref().map(|c| taxonomy_name(app, p.lang, Dimension::BusinessType, c)).unwrap_or_default(),
        snippets,
    }
}

fn blank_is_none(v: &str) -> Option<String> {
    let v = v.trim();
    (!v.is_empty()).then(|| v.to_string())
}

/// A local day as the time it starts (`next`: the day after), as the use case takes it; a text
/// that is not a day is passed on for the use case to refuse.
fn day_start(p: &Page, v: &str, next: bool) -> Option<String> {
    let v = blank_is_none(v)?;
    match v.parse::<jiff::civil::Date>() {
        Ok(d) => {
            let d = if next { d.tomorrow().unwrap_or(d) } else { d };
            Some(d.to_zoned(p.tz.clone()).map_or(v, |z| z.timestamp().to_string()))
        }
        Err(_) => Some(v),
    }
}

/// The page's field for a field the use case names.
fn form_field(field: &str) -> &str {
    match field {
        "received_from" => "from",
        "received_to" => "to",
        "category" => "business_type",
        other => other,
    }
}

/// Searches, or shows the empty form.
pub async fn search(State(app): State<App>, staff: Staff, Query(form): Query<SearchForm>) -> Result<Response, PageError> {
    let p = Page::staff(&app, &staff, "search.title", "search");
    let choices = filter_choices::of(&app, &p);
    let mut page = SearchPage {
        choices,
        form,
        searched: false,
        hits: Vec::new(),
        total: String::new(),
        ranking: "search.ranked_relevance",
        previous: None,
        next: None,
        errors: FieldErrors::default(),
        listed: false,
        items: Vec::new(),
        p,
    };
    if page.form.q.trim().is_empty() {
        if page.form.has_filters() {
            return list(&app, &staff, page).await;
        }
        return render(&page);
    }
    let f = &page.form;
    let offset = match blank_is_none(&f.offset) {
        None => 0,
        Some(o) => match o.parse::<u32>() {
            Ok(n) if n <= MAX_OFFSET => n,
            _ => return Err(AppError::new(ErrorKind::Malformed, "malformed_offset", "the page of results is out of range").into()),
        },
    };
    let params = SearchParams {
        q: blank_is_none(&f.q),
        status: blank_is_none(&f.status),
        channel: blank_is_none(&f.channel),
        department: blank_is_none(&f.department),
        branch: blank_is_none(&f.unit),
        category: blank_is_none(&f.business_type),
        cause: blank_is_none(&f.cause),
        severity: blank_is_none(&f.severity),
        received_from: day_start(&page.p, &f.from, false),
        received_to: day_start(&page.p, &f.to, true),
        limit: Some(PAGE_SIZE.to_string()),
        offset: Some(offset.to_string()),
    };
    let results = match text::search(&app, &staff.caller, &params).await {
        Ok(r) => r,
        Err(e) if e.kind == ErrorKind::Invalid => {
            let field = form_field(e.field.as_deref().unwrap_or("")).to_string();
            page.errors = FieldErrors::from_app(&AppError::invalid(field, e.message.clone()));
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
        }
        Err(e) => return Err(e.into()),
    };
    page.searched = true;
    let n = group_digits(results.total);
    page.total = if results.total_is_exact { page.p.t("search.total").replace("{n}", &n) } else { page.p.t("search.total_at_least").replace("{n}", &n) };
    page.ranking = match results.ranking {
        Ranking::Relevance => "search.ranked_relevance",
        Ranking::Newest => "search.ranked_newest",
    };
    let following = offset + PAGE_SIZE;
    if u64::from(following) < results.total && following <= MAX_OFFSET {
        page.next = Some(page.form.link(following));
    }
    if offset > 0 {
        page.previous = Some(page.form.link(offset.saturating_sub(PAGE_SIZE)));
    }
    let hits = results.items.into_iter().map(|item| hit(&app, &page.p, item)).collect();
    page.hits = hits;
    render(&page)
}

/// Lists the complaints matching the filters, newest first, a page at a time.
async fn list(app: &App, staff: &Staff, mut page: SearchPage) -> Result<Response, PageError> {
    let f = &page.form;
    let params = ListParams {
        status: blank_is_none(&f.status),
        channel: blank_is_none(&f.channel),
        department: blank_is_none(&f.department),
        branch: blank_is_none(&f.unit),
        severity: blank_is_none(&f.severity),
        business_type: blank_is_none(&f.business_type),
        cause: blank_is_none(&f.cause),
        received_from: day_start(&page.p, &f.from, false),
        received_to: day_start(&page.p, &f.to, true),
        cursor: blank_is_none(&f.cursor),
        limit: Some(PAGE_SIZE.to_string()),
        ..Default::default()
    };
    let listed = match complaints::list(app, &staff.caller, &params).await {
        Ok(l) => l,
        Err(e) if e.kind == ErrorKind::Invalid => {
            let field = form_field(e.field.as_deref().unwrap_or("")).to_string();
            page.errors = FieldErrors::from_app(&AppError::invalid(field, e.message.clone()));
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
        }
        Err(e) => return Err(e.into()),
    };
    page.listed = true;
    page.next = listed.next.map(|c| page.form.list_link(&c.encode()));
    page.items = listed.items;
    render(&page)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(pieces: &[Piece]) -> Vec<(&str, bool)> {
        pieces.iter().map(|p| (p.text.as_str(), p.mark)).collect()
    }

    #[test]
    fn digits_are_grouped_in_thousands() {
        assert_eq!(group_digits(0), "0");
        assert_eq!(group_digits(999), "999");
        assert_eq!(group_digits(20_000), "20,000");
        assert_eq!(group_digits(1_234_567), "1,234,567");
    }

    #[test]
    fn a_snippet_splits_at_its_highlights() {
        let text = "my <b>card</b> was charged twice";
        let p = pieces(text, &[[6, 10], [27, 32]]);
        assert_eq!(texts(&p), vec![("my <b>", false), ("card", true), ("</b> was charged ", false), ("twice", true)]);
        // Odd ranges are not highlighted and never lose text.
        let p = pieces(text, &[[5, 3], [0, 400], [6, 10], [8, 9]]);
        assert_eq!(p.iter().map(|x| x.text.as_str()).collect::<String>(), text);
        assert_eq!(p.iter().filter(|x| x.mark).count(), 1);
    }

    #[test]
    fn the_use_cases_snippets_split_on_chinese_text() {
        // The use case's ranges are those of `redress_text::snippet`: bytes of the text.
        let query = text::parse_query("盗刷").expect("a query");
        let found = redress_text::snippet("我的信用卡被盗刷了5000元", &query, 120).expect("a match");
        let highlights: Vec<[usize; 2]> = found.highlights.iter().map(|r| [r.start, r.end]).collect();
        let p = pieces(&found.text, &highlights);
        assert_eq!(p.iter().filter(|x| x.mark).map(|x| x.text.as_str()).collect::<Vec<_>>(), vec!["盗刷"]);
        assert_eq!(p.iter().map(|x| x.text.as_str()).collect::<String>(), found.text);
    }

    #[test]
    fn a_link_keeps_the_filters() {
        let form = SearchForm { q: "花呗 逾期".into(), status: "registered".into(), from: "2025-01-01".into(), ..Default::default() };
        let link = form.link(40);
        assert!(link.starts_with("/search?q=%E8%8A%B1%E5%91%97+%E9%80%BE%E6%9C%9F&status=registered&from=2025-01-01&offset=40"), "{link}");
        assert!(!form.link(0).contains("offset"));
    }
}
