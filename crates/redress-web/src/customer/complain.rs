//! Submitting a complaint online: the form, and the receipt with the complaint number, the
//! decision deadline and the tracking code.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use redress_app::input::{ComplainantBody, MoneyBody, NewComplaintBody, RespondentBody};
use redress_app::{App, AppError, ErrorKind, customer};
use redress_domain::complaint::Channel;

use super::{field_errors, files_of, page_for, shown_in_form, with_cookie};
use crate::error::PageError;
use crate::form::{FieldErrors, FormData};
use crate::page::Page;
use crate::pages::render;
use crate::session::Visitor;
use crate::show::Choice;

/// The customer types a customer may choose for themselves.
const CUSTOMER_TYPES: [&str; 4] = ["individual", "small_business", "elderly", "vulnerable"];

/// The complaint form.
#[derive(Template)]
#[template(path = "customer/complain.html")]
pub struct ComplainPage {
    /// Common page parts.
    pub p: Page,
    /// The values typed so far.
    pub f: FormData,
    /// Validation messages.
    pub errors: FieldErrors,
    /// Customer types.
    pub customer_types: Vec<Choice>,
    /// Units (branches), "not sure" first.
    pub units: Vec<Choice>,
}

impl ComplainPage {
    /// A field's value as typed.
    pub fn v(&self, name: &str) -> String {
        self.f.text(name)
    }

    /// The language chosen for the answers (the page's, until one is chosen).
    pub fn language(&self) -> String {
        self.f.get("complainant.language").map_or_else(|| self.p.lang.tag().to_string(), str::to_string)
    }
}

/// The receipt.
#[derive(Template)]
#[template(path = "customer/receipt.html")]
pub struct ReceiptPage {
    /// Common page parts.
    pub p: Page,
    /// The complaint number.
    pub number: String,
    /// The decision deadline, local.
    pub deadline: String,
    /// The tracking code.
    pub code: String,
    /// Whether some files could not be kept.
    pub files_missing: bool,
    /// The earlier complaint about the same matter it was merged into, if any.
    pub merged_into: Option<String>,
}

fn page(app: &App, p: Page, f: FormData, errors: FieldErrors) -> ComplainPage {
    let customer_types = CUSTOMER_TYPES.iter().map(|c| (c.to_string(), p.label("customer_type", c))).collect();
    let mut units = vec![(String::new(), p.t("customer.unit_unknown").to_string())];
    units.extend(app.rules.org.units().iter().map(|u| (u.code.clone(), u.name.clone())));
    ComplainPage { p, f, errors, customer_types, units }
}

/// Shows the empty form.
pub async fn form(State(app): State<App>, visitor: Visitor) -> Result<Response, PageError> {
    let (p, cookie) = page_for(&app, &visitor, "customer.complain_title");
    Ok(with_cookie(render(&page(&app, p, FormData::default(), FieldErrors::default()))?, cookie))
}

fn opt(f: &FormData, name: &str) -> Option<String> {
    f.get(name).map(str::to_string)
}

/// The API's body for the form's values (channel `web`), so every path validates alike and
/// errors name the same fields.
pub fn body_of(f: &FormData, default_language: &str) -> Result<NewComplaintBody, AppError> {
    let customer_type = f.get("complainant.customer_type").unwrap_or("individual");
    if !CUSTOMER_TYPES.contains(&customer_type) {
        return Err(AppError::invalid("complainant.customer_type", "choose a customer type"));
    }
    let customer_type = serde_json::from_value(serde_json::json!(customer_type)).map_err(|_| AppError::invalid("complainant.customer_type", "choose a customer type"))?;
    let language = serde_json::from_value(serde_json::json!(f.get("complainant.language").unwrap_or(default_language)))
        .map_err(|_| AppError::invalid("complainant.language", "choose a language"))?;
    Ok(NewComplaintBody {
        channel: Channel::Web,
        received_at: None,
        regulator_order: None,
        complainant: ComplainantBody {
            name: f.text("complainant.name"),
            id_number: opt(f, "complainant.id_number"),
            phone: opt(f, "complainant.phone"),
            email: opt(f, "complainant.email"),
            customer_type,
            language,
        },
        agent: None,
        respondent: f.get("respondent.unit").map(|unit| RespondentBody { unit: unit.to_string(), staff: Vec::new() }),
        product: opt(f, "product"),
        business_type: None,
        amount: f.get("amount").map(|a| MoneyBody { amount: a.to_string(), currency: "CNY".to_string() }),
        request: f.text("request"),
        narrative: f.text("narrative"),
        title: None,
        external_ref: None,
    })
}

/// Submits the complaint and shows the receipt, or the form again with the reasons beside the
/// fields. Every attempt counts against the address.
pub async fn submit(State(app): State<App>, visitor: Visitor, f: FormData) -> Result<Response, PageError> {
    visitor.check_form(f.csrf())?;
    let (p, _) = page_for(&app, &visitor, "customer.complain_title");
    customer::count_submission(&app, visitor.address.as_deref()).await.map_err(|e| super::fail(&p, e))?;
    let now = app.clock.now();
    let head_office = app.rules.org.head_office().code.clone();
    let new = body_of(&f, p.lang.tag()).and_then(|b| b.into_domain(now, &head_office).map_err(AppError::from));
    let files = files_of(&f.files);
    let submitted = match new {
        Ok(new) => customer::submit(&app, new, &files).await,
        Err(e) => Err(e),
    };
    match submitted {
        Ok(s) => {
            let (p, _) = page_for(&app, &visitor, "customer.receipt_title");
            let c = &s.complaint;
            let merged_into = c.merged_into.as_ref().map(|m| m.number.clone());
            let deadline = if merged_into.is_some() { "—".to_string() } else { p.time_or_dash(&c.deadlines.decide_by) };
            let files_missing = s.attached < files.len();
            let receipt = ReceiptPage { p, number: c.number.clone(), deadline, code: s.tracking_code, files_missing, merged_into };
            render(&receipt)
        }
        Err(e) if shown_in_form(&e) => {
            let status = crate::error::status_of(e.kind);
            let errors = field_errors(&p, e);
            Ok((status, render(&page(&app, p, f, errors))?).into_response())
        }
        Err(e) if e.kind == ErrorKind::Conflict => Ok((StatusCode::CONFLICT, render(&page(&app, p, f, FieldErrors::from_app(&e)))?).into_response()),
        Err(e) => Err(super::fail(&p, e)),
    }
}
