//! The follow-up survey from a signed, expiring, single-use link: satisfied, basically
//! satisfied or dissatisfied, with comments.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use redress_app::{App, AppError, ErrorKind, customer};
use redress_domain::complaint::Satisfaction;

use super::{field_errors, page_for, with_cookie};
use crate::error::PageError;
use crate::form::{FieldErrors, FormData};
use crate::page::Page;
use crate::pages::render;
use crate::session::Visitor;
use crate::show::Choice;

/// The answers offered, in order.
const ANSWERS: [&str; 3] = ["satisfied", "basically_satisfied", "dissatisfied"];

/// The survey page: the form, or what became of the link.
#[derive(Template)]
#[template(path = "customer/survey.html")]
pub struct SurveyPage {
    /// Common page parts.
    pub p: Page,
    /// `form`, `done`, `reopened`, `used` or `invalid`.
    pub state: &'static str,
    /// The link's token (the form posts back to it).
    pub token: String,
    /// The complaint number (on the form).
    pub number: String,
    /// The answers offered: value and label.
    pub answers: Vec<Choice>,
    /// The answer chosen so far.
    pub chosen: String,
    /// The comments typed so far.
    pub comments: String,
    /// Validation messages.
    pub errors: FieldErrors,
}

fn page(p: Page, state: &'static str, token: String) -> SurveyPage {
    let answers = ANSWERS.iter().map(|a| (a.to_string(), p.label("satisfaction", a))).collect();
    SurveyPage { p, state, token, number: String::new(), answers, chosen: String::new(), comments: String::new(), errors: FieldErrors::default() }
}

/// What a failed look-up or answer shows: the same page for every bad or expired link, another
/// for a link already used; anything else is an error page.
fn refused(p: Page, token: String, e: AppError) -> Result<Response, PageError> {
    match e.code {
        "link_not_valid" => Ok((StatusCode::NOT_FOUND, render(&page(p, "invalid", String::new()))?).into_response()),
        "link_used" => Ok((StatusCode::CONFLICT, render(&page(p, "used", token))?).into_response()),
        _ => Err(super::fail(&p, e)),
    }
}

/// Shows the survey.
pub async fn form(State(app): State<App>, visitor: Visitor, Path(token): Path<String>) -> Result<Response, PageError> {
    let (p, cookie) = page_for(&app, &visitor, "customer.survey_title");
    let response = match customer::open_survey(&app, &token, visitor.address.as_deref()).await {
        Ok(c) => {
            let mut pg = page(p, "form", token);
            pg.number = c.number;
            render(&pg)?
        }
        Err(e) => refused(p, token, e)?,
    };
    Ok(with_cookie(response, cookie))
}

/// Records the answer.
pub async fn answer(State(app): State<App>, visitor: Visitor, Path(token): Path<String>, f: FormData) -> Result<Response, PageError> {
    visitor.check_form(f.csrf())?;
    let (p, _) = page_for(&app, &visitor, "customer.survey_title");
    let chosen = f.text("satisfaction");
    let comments = f.raw("comments").to_string();
    let satisfaction = match chosen.as_str() {
        "satisfied" => Some(Satisfaction::Satisfied),
        "basically_satisfied" => Some(Satisfaction::BasicallySatisfied),
        "dissatisfied" => Some(Satisfaction::Dissatisfied),
        _ => None,
    };
    let result = match satisfaction {
        Some(s) => customer::answer_survey(&app, &token, s, &comments, visitor.address.as_deref()).await,
        None => Err(AppError::invalid("satisfaction", p.t("customer.choose_answer"))),
    };
    match result {
        Ok(_) => {
            let state = if satisfaction == Some(Satisfaction::Dissatisfied) { "reopened" } else { "done" };
            render(&page(p, state, String::new()))
        }
        Err(e) if e.kind == ErrorKind::Invalid => {
            // The form again, for a link that still works.
            let number = match customer::open_survey(&app, &token, visitor.address.as_deref()).await {
                Ok(c) => c.number,
                Err(other) => return refused(p, token, other),
            };
            let errors = field_errors(&p, e);
            let mut pg = page(p, "form", token);
            pg.number = number;
            pg.chosen = chosen;
            pg.comments = comments;
            pg.errors = errors;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&pg)?).into_response())
        }
        Err(e) => refused(p, token, e),
    }
}
