//! The complaint page: the record, its deadlines, its history, its messages and files, the
//! reading and similar earlier complaints, and a form for each action the person may take now.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use redress_app::text::{ReadingView, SimilarItem};
use redress_app::{App, AppError, ErrorKind, complaints, text};
use redress_domain::classify::Dimension;
use redress_domain::complaint::Complaint;
use redress_domain::org::Role;
use redress_domain::profile::DayBasis;
use redress_store::{StoredEvent, StoredMessage};
use serde_json::{Value, json};

use crate::error::PageError;
use crate::form::{FieldErrors, FormData};
use crate::i18n::Lang;
use crate::page::{Page, wire};
use crate::pages::{render, see_other};
use crate::session::Staff;
use crate::show::{Choice, mask, taxonomy_name};

/// A deadline as the page shows it.
#[derive(Debug, Clone)]
pub struct DeadlineRow {
    /// Catalog key of its name.
    pub name: &'static str,
    /// When, local.
    pub at: String,
    /// Time left (or overdue), in the profile's days.
    pub left: String,
    /// Passed.
    pub overdue: bool,
}

/// A span of the narrative, highlighted when it is a risk flag's evidence.
#[derive(Debug, Clone)]
pub struct Span {
    /// The text.
    pub text: String,
    /// The flag's label when it is evidence.
    pub flag: Option<String>,
}

/// The complaint page.
#[derive(Template)]
#[template(path = "staff/complaint.html")]
pub struct ComplaintPage {
    /// Common page parts.
    pub p: Page,
    /// The record.
    pub c: Complaint,
    /// Phone as shown (masked).
    pub phone: String,
    /// ID number as shown (masked).
    pub id_number: String,
    /// Whether phone and ID number are shown in full (the answer to the reveal action).
    pub revealed: bool,
    /// Business type and cause with their names.
    pub business_type: String,
    /// Cause with its name.
    pub cause: String,
    /// Owner department's name.
    pub department: String,
    /// The respondent unit's name.
    pub unit: String,
    /// Deadlines.
    pub deadlines: Vec<DeadlineRow>,
    /// History, oldest first.
    pub events: Vec<StoredEvent>,
    /// Customer messages.
    pub messages: Vec<StoredMessage>,
    /// The narrative with risk evidence marked.
    pub narrative: Vec<Span>,
    /// The reading.
    pub reading: Option<ReadingView>,
    /// Emotion and negativity, from the reading.
    pub emotion: Option<(String, String)>,
    /// Similar earlier complaints.
    pub similar: Vec<SimilarItem>,
    /// How many complaints of this complainant the person may see (this one included).
    pub person_complaints: Option<usize>,
    /// The actions the person may take now.
    pub actions: Vec<&'static str>,
    /// What to say on the follow-up call: the follow-up message the profile's templates give.
    pub call_script: Option<String>,
    /// Handlers of the owner department.
    pub handlers: Vec<Choice>,
    /// Every active handler, for a transfer (none chosen first).
    pub all_handlers: Vec<Choice>,
    /// Departments.
    pub departments: Vec<Choice>,
    /// The profile's decline reasons.
    pub decline_reasons: Vec<Choice>,
    /// The profile's pause reasons.
    pub pause_reasons: Vec<Choice>,
    /// Resolution kinds.
    pub resolution_kinds: Vec<Choice>,
    /// Business-type codes, for a correction.
    pub business_types: Vec<Choice>,
    /// Cause codes, for a correction.
    pub causes: Vec<Choice>,
    /// The action whose form failed, with its errors.
    pub failed: Option<String>,
    /// Errors of the failed form.
    pub errors: FieldErrors,
}

impl ComplaintPage {
    /// Whether an action is offered.
    pub fn can(&self, action: &str) -> bool {
        self.actions.contains(&action)
    }

    /// Whether an action's reason may be left out (a withdrawal needs none).
    pub fn reason_optional(&self, action: &str) -> bool {
        action == "withdraw"
    }

    /// Whether this action's form came back refused.
    pub fn is_failed(&self, action: &str) -> bool {
        self.failed.as_deref() == Some(action)
    }

    /// The failed form's message for a field of an action.
    pub fn error_of(&self, action: &str, field: &str) -> Option<&str> {
        if self.failed.as_deref() == Some(action) { self.errors.get(field) } else { None }
    }

    /// A form-wide error of an action (one that names no field of the form).
    pub fn form_error(&self, action: &str) -> Vec<&str> {
        if self.failed.as_deref() == Some(action) { self.errors.messages() } else { Vec::new() }
    }

    /// An event's reason or nothing.
    pub fn event_label(&self, e: &StoredEvent) -> String {
        self.p.label("event", e.event.action.as_str())
    }
}

fn days_left(app: &App, c: &Complaint, p: &Page, at: jiff::Timestamp) -> (String, bool) {
    let rules = app.rules.rules(&c.profile).unwrap_or_else(|| app.rules.default_rules());
    let now = app.clock.now();
    let tz = rules.profile.time_zone();
    let today = now.to_zoned(tz.clone()).date();
    let due = at.to_zoned(tz).date();
    let overdue = at < now;
    let (from, to) = if overdue { (due, today) } else { (today, due) };
    let (n, unit) = match rules.profile.decision.basis {
        DayBasis::Working => (rules.calendar.working_days_between(from, to), "complaint.working_days"),
        DayBasis::Calendar => (u32::try_from((to - from).get_days()).unwrap_or(0), "complaint.calendar_days"),
    };
    let text = if overdue { format!("{} {n} {}", p.t("complaint.overdue_by"), p.t(unit)) } else { format!("{n} {} {}", p.t(unit), p.t("complaint.left")) };
    (text, overdue)
}

fn narrative_spans(c: &Complaint, p: &Page) -> Vec<Span> {
    let text = c.narrative.as_str();
    let mut flags: Vec<_> = c
        .classification
        .risk_flags
        .iter()
        .filter(|f| wire(&f.field) == "narrative" && f.start < f.end && f.end <= text.len() && text.is_char_boundary(f.start) && text.is_char_boundary(f.end))
        .collect();
    flags.sort_by_key(|f| f.start);
    let mut spans = Vec::new();
    let mut at = 0;
    for f in flags {
        if f.start < at {
            continue;
        }
        spans.push(Span { text: text[at..f.start].to_string(), flag: None });
        spans.push(Span { text: text[f.start..f.end].to_string(), flag: Some(p.enum_label("risk", &f.kind)) });
        at = f.end;
    }
    spans.push(Span { text: text[at..].to_string(), flag: None });
    spans
}

/// What a page shows besides the record: a refused form with its errors, a notice, or the
/// contact details just revealed.
#[derive(Debug, Default)]
struct Shown {
    failed: Option<String>,
    errors: FieldErrors,
    notice: Option<String>,
    revealed: bool,
}

async fn build(app: &App, staff: &Staff, number: &str, shown: Shown) -> Result<ComplaintPage, PageError> {
    let Shown { failed, errors, notice, revealed } = shown;
    let caller = &staff.caller;
    let (c, events) = complaints::history(app, caller, number).await?;
    let messages = app.store.messages(c.id).await?;
    let reading = text::reading(app, caller, &c.id.to_string()).await.ok();
    let similar = text::similar(app, caller, &c.id.to_string(), 5).await.map(|(_, s)| s).unwrap_or_default();
    // The profile reads the person's complaints by an index (at most a few hundred); the box
    // is left out rather than failing the page.
    let person_complaints = redress_app::person::profile_of(app, caller, &c).await.ok().map(|pr| pr.complaints.len());
    let p = Page::staff(app, staff, "complaint.title", "work").with_notice(notice);
    let lang = p.lang;
    let rules = app.rules.rules(&c.profile).unwrap_or_else(|| app.rules.default_rules());
    let mut deadlines = Vec::new();
    for (name, at) in [
        ("complaint.acknowledge_by", c.deadlines.acknowledge_by),
        ("complaint.decide_by", c.deadlines.decide_by),
        ("complaint.review_decide_by", c.deadlines.review_decide_by),
        ("complaint.follow_up_by", c.deadlines.follow_up_by),
    ] {
        if let Some(at) = at {
            let (left, overdue) = days_left(app, &c, &p, at);
            deadlines.push(DeadlineRow { name, at: p.time(&at), left, overdue });
        }
    }
    let actions = redress_app::actions::available(app, caller, &c);
    // The staff list feeds only the assign and transfer forms; a page without them reads none.
    let users = if actions.iter().any(|a| matches!(*a, "assign" | "transfer")) { app.store.users().await? } else { Vec::new() };
    let mut handlers: Vec<Choice> = users
        .iter()
        .filter(|u| u.active && u.role == Role::Handler && u.department.as_deref() == Some(c.owner.department.as_str()))
        .map(|u| (u.id.clone(), format!("{} ({})", u.name, u.open_load)))
        .collect();
    handlers.sort_by(|a, b| a.1.cmp(&b.1));
    let mut with_none = vec![(String::new(), p.t("complaint.no_handler").to_string())];
    with_none.extend(users.iter().filter(|u| u.active && u.role == Role::Handler).map(|u| (u.id.clone(), format!("{} · {}", u.name, u.department.clone().unwrap_or_default()))));
    let departments = app.rules.org.departments().iter().map(|d| (d.code.clone(), d.name.clone())).collect();
    let pick = |zh: &str, en: &str| if lang == Lang::En { en.to_string() } else { zh.to_string() };
    let decline_reasons = rules.profile.decline_reasons.iter().map(|r| (r.code.clone(), pick(&r.label_zh, &r.label_en))).collect();
    let pause_reasons = rules.profile.pause_reasons.iter().map(|r| (r.code.clone(), pick(&r.label_zh, &r.label_en))).collect();
    let resolution_kinds =
        ["explanation", "refund", "compensation", "fee_waiver", "remediation", "apology", "rejection"].iter().map(|k| (k.to_string(), p.label("resolution", k))).collect();
    let business_types = crate::show::taxonomy_choices(app, &p, Dimension::BusinessType, false).into_iter().skip(1).collect();
    let causes = crate::show::taxonomy_choices(app, &p, Dimension::Cause, false).into_iter().skip(1).collect();
    let emotion = reading.as_ref().and_then(|r| r.reading.as_ref()).map(|r| {
        let emotion = r.pointer("/emotion/emotion").or_else(|| r.get("emotion")).and_then(Value::as_str).unwrap_or("neutral");
        let negativity = r.get("negative_score").or_else(|| r.pointer("/emotion/negative_score")).and_then(Value::as_f64).unwrap_or(0.0);
        (p.label("emotion", emotion), format!("{:.0}%", negativity * 100.0))
    });
    let business_type = c.classification.business_type.as_ref().map(|l| taxonomy_name(app, lang, Dimension::BusinessType, &l.code)).unwrap_or_default();
    let cause = c.classification.cause.as_ref().map(|l| taxonomy_name(app, lang, Dimension::Cause, &l.code)).unwrap_or_default();
    let department = p.department_name(&app.rules.org, &c.owner.department);
    let unit = app.rules.org.unit(&c.respondent.unit).map_or_else(|| c.respondent.unit.clone(), |u| u.name.clone());
    // Masked unless this very answer follows the recorded reveal action.
    let show = |v: &str| if revealed { v.to_string() } else { mask(v) };
    let phone = c.complainant.phone.as_ref().map(|v| show(v.as_str())).unwrap_or_default();
    let id_number = c.complainant.id_number.as_ref().map(|v| show(v.as_str())).unwrap_or_default();
    let narrative = narrative_spans(&c, &p);
    let call_script = actions
        .contains(&"follow-up")
        .then(|| c.message_now(redress_domain::messages::MessageKind::FollowUp, app.clock.now(), rules).body);
    Ok(ComplaintPage {
        p,
        phone,
        id_number,
        revealed,
        business_type,
        cause,
        department,
        unit,
        deadlines,
        events,
        messages,
        narrative,
        reading,
        emotion,
        similar,
        person_complaints,
        actions,
        call_script,
        handlers,
        all_handlers: with_none,
        departments,
        decline_reasons,
        pause_reasons,
        resolution_kinds,
        business_types,
        causes,
        failed,
        errors,
        c,
    })
}

/// Shows a complaint.
pub async fn show(State(app): State<App>, staff: Staff, Path(number): Path<String>, axum::extract::Query(q): axum::extract::Query<NoticeQuery>) -> Result<Response, PageError> {
    let labels = Page::anonymous(staff.lang, "complaint.title");
    let notice = match q.done.as_deref() {
        Some("registered") => Some(format!("{} ✓", labels.t("complaint.registered"))),
        Some("attach") => Some(format!("{} ✓", labels.label("event", "attach"))),
        Some(a) => redress_app::input::ACTIONS.iter().find(|x| **x == a).map(|a| format!("{} ✓", labels.label("action", a))),
        None => None,
    };
    let page = build(&app, &staff, &number, Shown { notice, ..Shown::default() }).await?;
    render(&page)
}

/// The query of the complaint page: the action just done, for the notice.
#[derive(Debug, serde::Deserialize)]
pub struct NoticeQuery {
    /// The action done.
    pub done: Option<String>,
}

/// The JSON body of an action, from its form.
fn action_body(app: &App, staff: &Staff, action: &str, f: &FormData) -> Value {
    let text = |k: &str| f.get(k).map_or(Value::Null, |v| json!(v));
    let _ = (app, staff);
    match action {
        "decline" | "pause" => json!({ "reason": f.text("reason"), "note": text("note") }),
        "assign" => json!({ "handler": f.text("handler") }),
        "transfer" => json!({ "department": f.text("department"), "handler": text("handler"), "reason": f.text("reason") }),
        "propose-resolution" => {
            let amount = f.get("amount").map(|a| json!({ "amount": a, "currency": f.get("currency").unwrap_or("CNY") }));
            json!({ "kind": f.text("kind"), "amount": amount, "summary": f.text("summary") })
        }
        "reject-resolution" | "reopen" | "request-review" | "request-extension" => json!({ "reason": f.text("reason") }),
        "escalate" => json!({ "reason": f.text("reason") }),
        "withdraw" => json!({ "reason": text("reason") }),
        "decide" => json!({ "verification": f.text("verification"), "basis": f.text("basis"), "reasons": f.text("reasons"), "remedies": f.all("remedies") }),
        "follow-up" => json!({ "satisfaction": f.text("satisfaction"), "comments": text("comments") }),
        "decide-extension" => json!({ "approve": f.get("approve") == Some("yes"), "note": text("note") }),
        "new-facts" => json!({ "description": f.text("description") }),
        "notes" => json!({ "text": f.text("text"), "customer_contact": f.checked("customer_contact") }),
        "classification" => json!({ "dimension": f.text("dimension"), "code": f.text("code") }),
        "merge" => json!({ "target": f.text("target") }),
        _ => json!({}),
    }
}

/// Takes an action from its form; on a refusal the page comes back with the reason beside the
/// form.
pub async fn act(State(app): State<App>, staff: Staff, Path((number, action)): Path<(String, String)>, form: FormData) -> Result<Response, PageError> {
    staff.check_csrf(form.csrf())?;
    if !redress_app::input::ACTIONS.contains(&action.as_str()) {
        return Err(AppError::not_found("action").into());
    }
    // The merge form names the target by its number; the action takes its id.
    let mut body = action_body(&app, &staff, &action, &form);
    if action == "merge" {
        match complaints::get(&app, &staff.caller, &form.text("target")).await {
            Ok(target) => body["target"] = json!(target.id.to_string()),
            Err(_) => body["target"] = json!(""),
        }
    }
    let result = async {
        let parsed = redress_app::input::parse_action(&action, body.to_string().as_bytes())?;
        complaints::perform(&app, &staff.caller, &number, parsed).await
    }
    .await;
    match result {
        // The revealed details are shown in this answer only, never through a link that could
        // be reloaded or shared.
        Ok(c) if action == "reveal-contact" => render(&build(&app, &staff, &c.number, Shown { revealed: true, ..Shown::default() }).await?),
        Ok(c) => Ok(see_other(&format!("/complaints/{}?done={action}#top", c.number))),
        Err(e) if matches!(e.kind, ErrorKind::Invalid | ErrorKind::Conflict | ErrorKind::Malformed | ErrorKind::Forbidden) => {
            let status = crate::error::status_of(e.kind);
            let page = build(&app, &staff, &number, Shown { failed: Some(action), errors: FieldErrors::from_app(&e), ..Shown::default() }).await?;
            Ok((status, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// Attaches files to a complaint.
pub async fn attach(State(app): State<App>, staff: Staff, Path(number): Path<String>, form: FormData) -> Result<Response, PageError> {
    staff.check_csrf(form.csrf())?;
    if form.files.is_empty() {
        let errors = FieldErrors::from_app(&AppError::invalid("file", "choose a file"));
        let page = build(&app, &staff, &number, Shown { failed: Some("attach".into()), errors, ..Shown::default() }).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
    }
    for file in &form.files {
        if let Err(e) = complaints::attach(&app, &staff.caller, &number, &file.filename, &file.content).await {
            if e.kind == ErrorKind::Internal || e.kind == ErrorKind::NotFound {
                return Err(e.into());
            }
            let status = crate::error::status_of(e.kind);
            let errors = FieldErrors::from_app(&e.with_field("file"));
            let page = build(&app, &staff, &number, Shown { failed: Some("attach".into()), errors, ..Shown::default() }).await?;
            return Ok((status, render(&page)?).into_response());
        }
    }
    Ok(see_other(&format!("/complaints/{number}?done=attach")))
}

/// Downloads an attachment of a complaint the person may see.
pub async fn download(State(app): State<App>, staff: Staff, Path((number, sha256)): Path<(String, String)>) -> Result<Response, PageError> {
    let (r, content) = complaints::attachment(&app, &staff.caller, &number, &sha256).await?;
    let disposition = format!("attachment; filename*=UTF-8''{}", crate::error::form_urlencoded_component(&r.filename).replace('+', "%20"));
    Ok(([(header::CONTENT_TYPE, r.media_type.clone()), (header::CONTENT_DISPOSITION, disposition)], content).into_response())
}
