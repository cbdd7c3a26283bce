//! Intake channels, for those who import complaints: the regulator's transfer list uploaded
//! with every row's outcome, the answers downloaded in the list's layout, and the e-mails taken
//! in with what became of each (those refused in particular), each readable as received.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use redress_app::regulator::RowResult;
use redress_app::{App, AppError};
use redress_store::InboundMail;
use serde::Deserialize;

use crate::error::PageError;
use crate::form::FormData;
use crate::page::Page;
use crate::pages::render;
use crate::session::Staff;

/// E-mails listed.
pub const MAIL_LIMIT: u32 = 100;

/// The outcomes an e-mail can have, for the filter.
pub const OUTCOMES: [&str; 5] = ["registered", "joined", "receipt", "ignored", "refused"];

/// The routes of this page.
pub fn routes() -> Router<App> {
    Router::new()
        .route("/intake", get(show))
        .route("/intake/regulator", axum::routing::post(import_regulator))
        .route("/intake/regulator-replies", get(replies))
        .route("/intake/mail/{id}", get(raw_mail))
}

/// The intake page.
#[derive(Template)]
#[template(path = "staff/intake.html")]
pub struct IntakePage {
    /// Common page parts.
    pub p: Page,
    /// The e-mails taken in, newest first.
    pub mails: Vec<InboundMail>,
    /// The outcome the list is filtered by.
    pub outcome: String,
    /// What the last transfer list did, row by row.
    pub rows: Vec<RowResult>,
    /// Why the last transfer list could not be read at all.
    pub file_error: Option<String>,
    /// The replies' period, as last asked.
    pub from: String,
    /// See `from`.
    pub to: String,
}

impl IntakePage {
    /// The outcomes for the filter.
    pub fn outcomes(&self) -> &'static [&'static str] {
        &OUTCOMES
    }

    /// Rows of the last import with this outcome.
    pub fn count(&self, outcome: &str) -> usize {
        self.rows.iter().filter(|r| row_outcome(r) == outcome).count()
    }

    /// A row's outcome's wire name.
    pub fn outcome_of(&self, r: &RowResult) -> &'static str {
        row_outcome(r)
    }
}

fn row_outcome(r: &RowResult) -> &'static str {
    match r {
        RowResult::Registered { .. } => "registered",
        RowResult::AlreadyPresent { .. } => "already_present",
        RowResult::Rejected { .. } => "rejected",
    }
}

/// The query of the page.
#[derive(Debug, Default, Deserialize)]
pub struct IntakeQuery {
    /// Only e-mails with this outcome.
    pub outcome: Option<String>,
}

async fn page(app: &App, staff: &Staff, outcome: Option<String>) -> Result<IntakePage, PageError> {
    let outcome = outcome.filter(|o| OUTCOMES.contains(&o.as_str()));
    let mails = redress_app::mail_intake::list(app, &staff.caller, outcome.as_deref(), MAIL_LIMIT).await?;
    let today = app.clock.now().to_zoned(app.rules.default_rules().profile.time_zone()).date();
    let month_ago = today.checked_sub(jiff::Span::new().days(30)).unwrap_or(today);
    Ok(IntakePage {
        p: Page::staff(app, staff, "intake.title", "intake"),
        mails,
        outcome: outcome.unwrap_or_default(),
        rows: Vec::new(),
        file_error: None,
        from: month_ago.to_string(),
        to: today.to_string(),
    })
}

/// Shows the page.
pub async fn show(State(app): State<App>, staff: Staff, q: Query<IntakeQuery>) -> Result<Response, PageError> {
    render(&page(&app, &staff, q.0.outcome).await?)
}

/// Imports a transfer list and shows every row's outcome.
pub async fn import_regulator(State(app): State<App>, staff: Staff, form: FormData) -> Result<Response, PageError> {
    staff.check_csrf(form.csrf())?;
    let mut shown = page(&app, &staff, None).await?;
    let Some(file) = form.files.first() else {
        shown.file_error = Some(shown.p.t("intake.choose_file").to_string());
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&shown)?).into_response());
    };
    match redress_app::regulator::import_transfer_file(&app, &staff.caller, &file.content, form.get("regulator")).await {
        Ok(rows) => {
            shown.rows = rows;
            render(&shown)
        }
        Err(e) if e.kind == redress_app::ErrorKind::Invalid => {
            shown.file_error = Some(e.message);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&shown)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// The query of the replies' download.
#[derive(Debug, Deserialize)]
pub struct RepliesQuery {
    /// First day.
    pub from: Option<String>,
    /// Last day.
    pub to: Option<String>,
    /// `xlsx` or `csv`.
    pub format: Option<String>,
}

/// Downloads the answers of a period in the transfer list's layout.
pub async fn replies(State(app): State<App>, staff: Staff, q: Query<RepliesQuery>) -> Result<Response, PageError> {
    let xlsx = q.format.as_deref() != Some("csv");
    let (bytes, _) = redress_app::regulator::replies_file(&app, &staff.caller, q.from.as_deref(), q.to.as_deref(), None, xlsx).await?;
    let (content_type, ext) = if xlsx { ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx") } else { ("text/csv; charset=utf-8", "csv") };
    let disposition = format!("attachment; filename=\"regulator-replies.{ext}\"");
    Ok(([(header::CONTENT_TYPE, content_type.to_string()), (header::CONTENT_DISPOSITION, disposition)], bytes).into_response())
}

/// One e-mail as it was received.
pub async fn raw_mail(State(app): State<App>, staff: Staff, Path(id): Path<String>) -> Result<Response, PageError> {
    let id: i64 = id.trim_end_matches(".eml").parse().map_err(|_| AppError::not_found("e-mail"))?;
    let raw = redress_app::mail_intake::raw(&app, &staff.caller, id).await?;
    let disposition = format!("attachment; filename=\"mail-{id}.eml\"");
    Ok(([(header::CONTENT_TYPE, "message/rfc822".to_string()), (header::CONTENT_DISPOSITION, disposition)], raw).into_response())
}
