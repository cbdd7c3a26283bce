//! Registering a complaint (hotline and branch staff): every field of the record, validation
//! messages beside the fields, a check before saving (the proposed classification, risk flags
//! and emotion), and attachments.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use redress_app::input::{AgentBody, ComplainantBody, MoneyBody, NewComplaintBody, RegulatorOrderBody, RespondentBody};
use redress_app::{App, AppError, ErrorKind, complaints};
use redress_domain::classify::Dimension;
use redress_domain::complaint::Channel;

use crate::error::PageError;
use crate::form::{FieldErrors, FormData};
use crate::page::Page;
use crate::pages::{render, see_other};
use crate::session::Staff;
use crate::show::{CHANNELS, Choice, taxonomy_choices, taxonomy_name};

/// What the check before saving found.
#[derive(Debug, Clone)]
pub struct Preview {
    /// Proposed business type.
    pub business_type: String,
    /// Proposed cause.
    pub cause: String,
    /// Severity label.
    pub severity: String,
    /// Emotion label and negativity.
    pub emotion: String,
    /// Risk flags: label and evidence.
    pub flags: Vec<(String, String)>,
    /// Similar earlier complaints the person may see (repeats of the same complainant marked).
    pub similar: Vec<redress_app::text::SimilarItem>,
}

impl Preview {
    /// The same complainant's complaints among the similar ones that are still open: a repeat.
    pub fn repeats(&self) -> Vec<&redress_app::text::SimilarItem> {
        self.similar.iter().filter(|s| s.same_complainant && s.status.is_open()).collect()
    }
}

/// The registration form.
#[derive(Template)]
#[template(path = "staff/register.html")]
pub struct RegisterPage {
    /// Common page parts.
    pub p: Page,
    /// The values typed so far.
    pub f: FormData,
    /// Validation messages.
    pub errors: FieldErrors,
    /// The check's findings.
    pub preview: Option<Preview>,
    /// Channel choices.
    pub channels: Vec<Choice>,
    /// Customer types.
    pub customer_types: Vec<Choice>,
    /// Units.
    pub units: Vec<Choice>,
    /// Business types.
    pub business_types: Vec<Choice>,
}

impl RegisterPage {
    /// A field's value as typed.
    pub fn v(&self, name: &str) -> String {
        self.f.text(name)
    }
}

fn page(app: &App, staff: &Staff, f: FormData, errors: FieldErrors, preview: Option<Preview>) -> RegisterPage {
    let p = Page::staff(app, staff, "register.title", "register");
    let channels = CHANNELS.iter().map(|c| (c.to_string(), p.label("channel", c))).collect();
    let customer_types =
        ["individual", "small_business", "elderly", "vulnerable", "vip"].iter().map(|c| (c.to_string(), p.label("customer_type", c))).collect();
    let units = app.rules.org.units().iter().map(|u| (u.code.clone(), u.name.clone())).collect();
    let business_types = taxonomy_choices(app, &p, Dimension::BusinessType, false);
    RegisterPage { p, f, errors, preview, channels, customer_types, units, business_types }
}

/// Shows the empty form.
pub async fn form(State(app): State<App>, staff: Staff) -> Result<Response, PageError> {
    redress_app::policy::require(&staff.caller, redress_app::policy::Operation::Register)?;
    let mut f = FormData::default();
    if let Some(unit) = staff.caller.department().and_then(|d| app.rules.org.department(d)).map(|d| d.unit.clone()) {
        f = FormData::from_pairs(vec![("respondent.unit".into(), unit)]);
    }
    render(&page(&app, &staff, f, FieldErrors::default(), None))
}

fn opt(f: &FormData, name: &str) -> Option<String> {
    f.get(name).map(str::to_string)
}

/// A local date and time as typed in a `datetime-local` field (or a date alone, read as the
/// start of that day), in the institution's time zone.
fn local_time(f: &FormData, field: &str, tz: &jiff::tz::TimeZone) -> Result<Option<jiff::Timestamp>, AppError> {
    let Some(v) = f.get(field) else { return Ok(None) };
    let civil = v
        .parse::<jiff::civil::DateTime>()
        .or_else(|_| v.parse::<jiff::civil::Date>().map(|d| d.to_datetime(jiff::civil::Time::midnight())))
        .map_err(|_| AppError::invalid(field, "expected a date and time such as 2025-01-20 10:00"))?;
    civil.to_zoned(tz.clone()).map(|z| Some(z.timestamp())).map_err(|e| AppError::invalid(field, e.to_string()))
}

/// The API's body for the form's values, so both paths validate alike; times are read in the
/// institution's time zone.
pub fn body_of(f: &FormData, tz: &jiff::tz::TimeZone) -> Result<NewComplaintBody, AppError> {
    let channel = Channel::parse(&f.text("channel")).ok_or_else(|| AppError::invalid("channel", "choose a channel"))?;
    let customer_type = serde_json::from_value(serde_json::json!(f.get("complainant.customer_type").unwrap_or("individual")))
        .map_err(|_| AppError::invalid("complainant.customer_type", "choose a customer type"))?;
    let language = serde_json::from_value(serde_json::json!(f.get("complainant.language").unwrap_or("zh-CN")))
        .map_err(|_| AppError::invalid("complainant.language", "choose a language"))?;
    let order_deadline = local_time(f, "regulator_order.deadline", tz)?;
    Ok(NewComplaintBody {
        channel,
        received_at: local_time(f, "received_at", tz)?,
        regulator_order: f.get("regulator_order.order_number").map(|n| RegulatorOrderBody {
            regulator: f.text("regulator_order.regulator"),
            order_number: n.to_string(),
            deadline: order_deadline,
        }),
        complainant: ComplainantBody {
            name: f.text("complainant.name"),
            id_number: opt(f, "complainant.id_number"),
            phone: opt(f, "complainant.phone"),
            email: opt(f, "complainant.email"),
            customer_type,
            language,
        },
        agent: f.get("agent.name").map(|name| AgentBody {
            name: name.to_string(),
            relationship: opt(f, "agent.relationship"),
            phone: opt(f, "agent.phone"),
            power_of_attorney: f.checked("agent.power_of_attorney"),
        }),
        respondent: f.get("respondent.unit").map(|unit| RespondentBody {
            unit: unit.to_string(),
            staff: f.text("respondent.staff").split([',', '，', '、']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect(),
        }),
        product: opt(f, "product"),
        business_type: opt(f, "business_type"),
        amount: f.get("amount").map(|a| MoneyBody { amount: a.to_string(), currency: f.get("currency").unwrap_or("CNY").to_string() }),
        request: f.text("request"),
        narrative: f.text("narrative"),
        title: opt(f, "title"),
        external_ref: None,
    })
}

async fn preview(app: &App, staff: &Staff, p: &Page, f: &FormData) -> Option<Preview> {
    let text = format!("{}\n{}", f.text("narrative"), f.text("request"));
    let a = redress_app::text::analyze(app, &text).ok()?;
    let draft = redress_app::text::DraftText {
        title: f.get("title").unwrap_or(""),
        narrative: f.get("narrative").unwrap_or(""),
        request: f.get("request").unwrap_or(""),
        name: f.get("complainant.name").unwrap_or(""),
        phone: f.get("complainant.phone"),
        id_number: f.get("complainant.id_number"),
    };
    let similar = redress_app::text::similar_to_draft(app, &staff.caller, draft, 5).await.unwrap_or_default();
    let lang = p.lang;
    Some(Preview {
        business_type: a.classification.business_type.as_ref().map(|l| taxonomy_name(app, lang, Dimension::BusinessType, &l.code)).unwrap_or_else(|| "—".into()),
        cause: a.classification.cause.as_ref().map(|l| taxonomy_name(app, lang, Dimension::Cause, &l.code)).unwrap_or_else(|| "—".into()),
        severity: p.enum_label("severity", &a.severity),
        emotion: format!("{} · {:.0}%", p.enum_label("emotion", &a.emotion), a.negative_score * 100.0),
        flags: a.risk_flags.iter().map(|r| (p.enum_label("risk", &r.kind), r.phrase.clone())).collect(),
        similar,
    })
}

/// Checks or registers. "Check" shows what the system makes of the complaint without saving;
/// "Register" validates, saves whole (with the files) and opens the complaint.
pub async fn submit(State(app): State<App>, staff: Staff, mut f: FormData) -> Result<Response, PageError> {
    staff.check_csrf(f.csrf())?;
    let now = app.clock.now();
    let head_office = app.rules.org.head_office().code.clone();
    let tz = app.rules.default_rules().profile.time_zone();
    let new = body_of(&f, &tz).and_then(|b| b.into_domain(now, &head_office).map_err(AppError::from));
    // Files are checked before anything is saved, so a bad file never leaves a complaint
    // without its evidence.
    let files_ok = f.files.iter().try_for_each(|u| redress_domain::attachment::check(&u.filename, &u.content).map(|_| ()).map_err(|e| AppError::from(e).with_field("files")));
    if f.get("intent") == Some("check") {
        let errors = match (&new, &files_ok) {
            (Err(e), _) | (_, Err(e)) => FieldErrors::from_app(e),
            _ => FieldErrors::default(),
        };
        let pg = Page::staff(&app, &staff, "register.title", "register");
        let preview = preview(&app, &staff, &pg, &f).await;
        return render(&page(&app, &staff, f, errors, preview));
    }
    let new = match new.and_then(|n| files_ok.map(|()| n)) {
        Ok(n) => n,
        Err(e) => {
            let errors = FieldErrors::from_app(&e);
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page(&app, &staff, f, errors, None))?).into_response());
        }
    };
    // The files are part of the registration: stored in its transaction, with the complaint.
    // (The form shown again after a refusal never holds the files.)
    let files: Vec<(String, Vec<u8>)> = std::mem::take(&mut f.files).into_iter().map(|u| (u.filename, u.content)).collect();
    let registered = match complaints::register_with_files(&app, &staff.caller, new, None, &files).await {
        Ok(r) => r,
        Err(e) if matches!(e.kind, ErrorKind::Invalid | ErrorKind::Conflict) => {
            let status = crate::error::status_of(e.kind);
            return Ok((status, render(&page(&app, &staff, f, FieldErrors::from_app(&e), None))?).into_response());
        }
        Err(e) => return Err(e.into()),
    };
    Ok(see_other(&format!("/complaints/{}?done=registered", registered.complaint().number)))
}
