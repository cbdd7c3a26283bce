//! "My work": the signed-in person's queue, soonest deadline first.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use redress_app::App;
use redress_app::work::{WorkParams, my_work as queue};
use redress_store::{ComplaintSummary, DueCounts};

use crate::error::PageError;
use crate::page::Page;
use crate::pages::render;
use crate::session::Staff;
use crate::show::filter_choices;

/// The "My work" page.
#[derive(Template)]
#[template(path = "staff/work.html")]
pub struct WorkPage {
    /// Common page parts.
    pub p: Page,
    /// The filters as given.
    pub q: WorkParams,
    /// The complaints of this page of the queue.
    pub items: Vec<ComplaintSummary>,
    /// Counts over the whole queue.
    pub counts: DueCounts,
    /// The link to the next page.
    pub next: Option<String>,
    /// Choices of the filter selects.
    pub choices: filter_choices::Choices,
    /// A validation message about the filters.
    pub error: Option<String>,
}

impl WorkPage {
    /// A filter's current value, or "".
    pub fn value<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }
}

/// Shows the queue.
pub async fn my_work(State(app): State<App>, staff: Staff, Query(q): Query<WorkParams>) -> Result<Response, PageError> {
    let p = Page::staff(&app, &staff, "work.title", "work");
    let choices = filter_choices::of(&app, &p);
    let (page, error) = match queue(&app, &staff.caller, &q).await {
        Ok(page) => (page, None),
        Err(e) if e.kind == redress_app::ErrorKind::Invalid => {
            (redress_store::WorkPage { items: Vec::new(), next: None, counts: DueCounts { total: 0, due_soon: 0, overdue: 0 } }, Some(p.message(&e.message)))
        }
        Err(e) => return Err(e.into()),
    };
    let next = page.next.map(|c| {
        let mut params: Vec<(&str, String)> = Vec::new();
        for (k, v) in [("status", &q.status), ("channel", &q.channel), ("business_type", &q.business_type), ("cause", &q.cause), ("severity", &q.severity), ("due_state", &q.due_state), ("unit", &q.unit)] {
            if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
                params.push((k, v.clone()));
            }
        }
        params.push(("cursor", c.encode()));
        format!("/work?{}", serde_urlencoded::to_string(&params).unwrap_or_default())
    });
    render(&WorkPage { p, q, items: page.items, counts: page.counts, next, choices, error })
}
