//! Administration: user accounts, the rules the installation runs on (read-only), and the
//! trained models (activate one, train a new one from the corrections people made).
//!
//! Who may see and do what is the use cases' decision: someone without the permission gets
//! the forbidden page from them; the pages only leave out the forms a person may not use.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use redress_app::policy::{self, Grant, Operation};
use redress_app::users::Account;
use redress_app::{App, AppError, ErrorKind, accounts, text, users};
use redress_domain::classify::Dimension;
use redress_domain::org::Role;
use redress_domain::profile::{DayBasis, DeadlineRule, DueSoon};
use redress_learn::{Example, LearnError, Model, TrainConfig};
use redress_store::{ModelInfo, UserUpdate};
use serde::Deserialize;
use serde_json::Value;

use crate::error::PageError;
use crate::form::{FieldErrors, FormData};
use crate::i18n::Lang;
use crate::page::{Page, wire};
use crate::pages::{render, see_other};
use crate::session::Staff;
use crate::show::{Choice, taxonomy_name};

/// The dimensions a model can be trained for from the corrections people made.
pub const TRAINABLE: [&str; 2] = ["business_type", "cause"];
/// The most corrections read for one training.
pub const MAX_TRAINING_EXAMPLES: u32 = 200_000;

/// The routes of these pages.
pub fn routes() -> Router<App> {
    Router::new()
        .route("/admin", get(|| async { see_other("/admin/users") }))
        .route("/admin/users", get(users_page).post(create_user))
        .route("/admin/users/{id}", post(update_user))
        .route("/admin/users/{id}/password", post(reset_password))
        .route("/admin/rules", get(rules_page))
        .route("/admin/models", get(models_page))
        .route("/admin/models/train", post(train))
        .route("/admin/models/{id}/activate", post(activate))
}

/// The query of the admin pages after a change: what was done, for the notice.
#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    /// What was done.
    pub done: Option<String>,
}

impl DoneQuery {
    /// The notice for what was done.
    fn notice(&self, p: &Page) -> Option<String> {
        let key = match self.done.as_deref()? {
            "created" => "admin.done_created",
            "updated" => "admin.done_updated",
            "password" => "admin.done_password",
            "activated" => "admin.done_activated",
            "trained" => "admin.done_trained",
            _ => return None,
        };
        Some(p.t(key).to_string())
    }
}

fn may(staff: &Staff, op: Operation) -> bool {
    policy::grant(staff.caller.role(), op) != Grant::None
}

// ---------------------------------------------------------------------------------------------
// Users

/// A user as listed.
#[derive(Debug, Clone)]
pub struct UserRow {
    /// Id.
    pub id: String,
    /// Login name.
    pub name: String,
    /// Role wire name.
    pub role: &'static str,
    /// Department code, or "".
    pub department: String,
    /// Department name, or "".
    pub department_name: String,
    /// Whether the account may act.
    pub active: bool,
    /// Open complaints owned.
    pub open_load: i64,
    /// The person looking.
    pub me: bool,
    /// The change form's values: as stored, or as posted when that change failed.
    pub form: (String, String, bool),
}

/// The create form as typed (never the password).
#[derive(Debug, Clone, Default)]
pub struct NewUserForm {
    /// Login name.
    pub name: String,
    /// Role wire name.
    pub role: String,
    /// Department code.
    pub department: String,
}

/// The users page.
#[derive(Template)]
#[template(path = "admin/users.html")]
pub struct UsersPage {
    /// Common page parts.
    pub p: Page,
    /// The admin section shown.
    pub sub: &'static str,
    /// Every account.
    pub users: Vec<UserRow>,
    /// Whether the person may create and change accounts.
    pub manages: bool,
    /// Role choices.
    pub roles: Vec<Choice>,
    /// Department choices, none first.
    pub departments: Vec<Choice>,
    /// The create form as typed.
    pub new_user: NewUserForm,
    /// Errors of the create form.
    pub create_errors: FieldErrors,
    /// The form that failed (`update` or `password`) and whose.
    pub failed: Option<(&'static str, String)>,
    /// Errors of the failed form.
    pub errors: FieldErrors,
}

impl UsersPage {
    fn failed_is(&self, form: &str, id: &str) -> bool {
        self.failed.as_ref().is_some_and(|(f, i)| *f == form && i == id)
    }

    /// A field's error in a user's change form.
    pub fn update_error(&self, id: &str, field: &str) -> Option<&str> {
        if self.failed_is("update", id) { self.errors.get(field) } else { None }
    }

    /// The errors of a user's change form that name none of its fields.
    pub fn update_errors(&self, id: &str) -> Vec<&str> {
        self.other_errors("update", id, &["role", "department", "active"])
    }

    /// A field's error in a user's password form.
    pub fn password_error(&self, id: &str, field: &str) -> Option<&str> {
        if self.failed_is("password", id) { self.errors.get(field) } else { None }
    }

    /// The errors of a user's password form that name none of its fields.
    pub fn password_errors(&self, id: &str) -> Vec<&str> {
        self.other_errors("password", id, &["password", "repeat"])
    }

    fn other_errors(&self, form: &str, id: &str, fields: &[&str]) -> Vec<&str> {
        if !self.failed_is(form, id) || fields.iter().any(|f| self.errors.has(f)) { Vec::new() } else { self.errors.messages() }
    }

    /// Whether a user's forms are shown open (one of them failed).
    pub fn open(&self, id: &str) -> bool {
        self.failed.as_ref().is_some_and(|(_, i)| i == id)
    }
}

async fn build_users(app: &App, staff: &Staff, notice: Option<String>) -> Result<UsersPage, PageError> {
    let list = users::list(app, &staff.caller).await?;
    let p = Page::staff(app, staff, "admin.users_title", "admin").with_notice(notice);
    let mut rows: Vec<UserRow> = list
        .into_iter()
        .map(|u| UserRow {
            me: u.id == staff.caller.user.id,
            form: (u.role.as_str().to_string(), u.department.clone().unwrap_or_default(), u.active),
            department_name: u.department.as_deref().map(|d| p.department_name(&app.rules.org, d)).unwrap_or_default(),
            department: u.department.unwrap_or_default(),
            id: u.id,
            name: u.name,
            role: u.role.as_str(),
            active: u.active,
            open_load: u.open_load,
        })
        .collect();
    rows.sort_by(|a, b| b.active.cmp(&a.active).then_with(|| a.name.cmp(&b.name)));
    let roles = Role::ALL.iter().map(|r| (r.as_str().to_string(), p.label("role", r.as_str()))).collect();
    let mut departments = vec![(String::new(), p.t("admin.no_department").to_string())];
    departments.extend(app.rules.org.departments().iter().map(|d| (d.code.clone(), format!("{} {}", d.code, d.name))));
    Ok(UsersPage {
        p,
        sub: "users",
        users: rows,
        manages: may(staff, Operation::ManageUsers),
        roles,
        departments,
        new_user: NewUserForm { role: Role::Handler.as_str().to_string(), ..Default::default() },
        create_errors: FieldErrors::default(),
        failed: None,
        errors: FieldErrors::default(),
    })
}

/// Whether a failed use case's error is shown beside the form (rather than as an error page).
fn shown_with_form(e: &AppError) -> bool {
    matches!(e.kind, ErrorKind::Invalid | ErrorKind::Conflict)
}

fn parse_role(form: &FormData) -> Result<Role, AppError> {
    Role::parse(form.get("role").unwrap_or("")).map_err(|m| AppError::invalid("role", m))
}

/// Lists the accounts, with the create form for those who may create them.
pub async fn users_page(State(app): State<App>, staff: Staff, Query(q): Query<DoneQuery>) -> Result<Response, PageError> {
    let p = Page::staff(&app, &staff, "admin.users_title", "admin");
    let page = build_users(&app, &staff, q.notice(&p)).await?;
    render(&page)
}

/// Creates an account with a password.
pub async fn create_user(State(app): State<App>, staff: Staff, form: FormData) -> Result<Response, PageError> {
    staff.check_csrf(form.csrf())?;
    let department = form.get("department");
    let result = match parse_role(&form) {
        Ok(role) => users::create(&app, &staff.caller, Account { name: &form.text("name"), role, department, password: Some(form.raw("password")) }).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(see_other("/admin/users?done=created")),
        Err(e) if shown_with_form(&e) => {
            let mut page = build_users(&app, &staff, None).await?;
            page.new_user = NewUserForm { name: form.text("name"), role: form.text("role"), department: form.text("department") };
            page.create_errors = FieldErrors::from_app(&e);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// Changes an account's role, department and whether it is active.
pub async fn update_user(State(app): State<App>, staff: Staff, Path(id): Path<String>, form: FormData) -> Result<Response, PageError> {
    staff.check_csrf(form.csrf())?;
    let result = match parse_role(&form) {
        Ok(role) => {
            let update = UserUpdate { role: Some(role), department: Some(form.get("department").map(str::to_string)), active: Some(form.checked("active")), language: None };
            accounts::update_user(&app, &staff.caller, &id, update).await.map(|_| ())
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(see_other("/admin/users?done=updated")),
        Err(e) if shown_with_form(&e) => {
            let mut page = build_users(&app, &staff, None).await?;
            for row in page.users.iter_mut().filter(|r| r.id == id) {
                row.form = (form.text("role"), form.text("department"), form.checked("active"));
            }
            page.failed = Some(("update", id));
            page.errors = FieldErrors::from_app(&e);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// Sets another person's password; their sessions end.
pub async fn reset_password(State(app): State<App>, staff: Staff, Path(id): Path<String>, form: FormData) -> Result<Response, PageError> {
    staff.check_csrf(form.csrf())?;
    let result = if form.raw("password") == form.raw("repeat") {
        accounts::reset_password(&app, &staff.caller, &id, form.raw("password")).await.map_err(|e| if e.kind == ErrorKind::Invalid { e.with_field("password") } else { e })
    } else {
        let p = Page::staff(&app, &staff, "admin.users_title", "admin");
        Err(AppError::invalid("repeat", p.t("admin.mismatch")))
    };
    match result {
        Ok(()) => Ok(see_other("/admin/users?done=password")),
        Err(e) if shown_with_form(&e) => {
            let mut page = build_users(&app, &staff, None).await?;
            page.failed = Some(("password", id));
            page.errors = FieldErrors::from_app(&e);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// Rules

/// A unit as listed.
#[derive(Debug, Clone)]
pub struct UnitRow {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Kind, labelled.
    pub kind: String,
    /// The superior unit's name.
    pub parent: String,
    /// Region.
    pub region: String,
}

/// A department as listed.
#[derive(Debug, Clone)]
pub struct DepartmentRow {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Its unit's name.
    pub unit: String,
    /// Whether it is the unit's consumer-protection department.
    pub consumer_protection: bool,
}

/// A routing rule as listed.
#[derive(Debug, Clone)]
pub struct RouteRow {
    /// Its place in the order tried.
    pub n: usize,
    /// Its conditions, labelled ("channel: regulator").
    pub conditions: Vec<String>,
    /// The department it sends to.
    pub department: String,
}

/// A step of the extension ladder.
#[derive(Debug, Clone)]
pub struct ExtensionRow {
    /// Handling period with it granted.
    pub total: String,
    /// Who approves, or a dash.
    pub approval: String,
    /// Whether the customer is told.
    pub notify_customer: bool,
}

/// A reason (pause or decline).
#[derive(Debug, Clone)]
pub struct ReasonRow {
    /// Code.
    pub code: String,
    /// Label in the page's language.
    pub label: String,
    /// Whether the customer is told (pauses).
    pub notify_customer: bool,
}

/// The rules page.
#[derive(Template)]
#[template(path = "admin/rules.html")]
pub struct RulesPage {
    /// Common page parts.
    pub p: Page,
    /// The admin section shown.
    pub sub: &'static str,
    /// Units.
    pub units: Vec<UnitRow>,
    /// Departments.
    pub departments: Vec<DepartmentRow>,
    /// Routing rules in order.
    pub routes: Vec<RouteRow>,
    /// The active profile: id and name.
    pub profile: (String, String),
    /// Its facts: (label, value).
    pub facts: Vec<(String, String)>,
    /// Its deadlines: (label, value).
    pub deadlines: Vec<(String, String)>,
    /// Its extension ladder.
    pub extensions: Vec<ExtensionRow>,
    /// Its pause reasons.
    pub pause_reasons: Vec<ReasonRow>,
    /// Its decline reasons.
    pub decline_reasons: Vec<ReasonRow>,
}

fn days(p: &Page, days: u32, basis: DayBasis) -> String {
    let unit = match basis {
        DayBasis::Calendar => p.t("admin.calendar_days"),
        DayBasis::Working => p.t("admin.working_days"),
    };
    format!("{days} {unit}")
}

fn deadline(p: &Page, rule: &DeadlineRule) -> String {
    days(p, rule.days, rule.basis)
}

fn yes_no(p: &Page, v: bool) -> String {
    p.t(if v { "admin.yes" } else { "admin.no" }).to_string()
}

/// Shows the organisation, the routing rules and the active rule profile.
pub async fn rules_page(State(app): State<App>, staff: Staff) -> Result<Response, PageError> {
    let rules = accounts::view_rules(&app, &staff.caller)?;
    let p = Page::staff(&app, &staff, "admin.rules_title", "admin");
    let org = &rules.org;
    let unit_name = |code: &str| org.unit(code).map_or_else(|| code.to_string(), |u| u.name.clone());
    let units = org
        .units()
        .iter()
        .map(|u| UnitRow {
            code: u.code.clone(),
            name: u.name.clone(),
            kind: p.label("admin.unit_kind", &wire(&u.kind)),
            parent: u.parent.as_deref().map(unit_name).unwrap_or_default(),
            region: u.region.clone().unwrap_or_default(),
        })
        .collect();
    let departments = org
        .departments()
        .iter()
        .map(|d| DepartmentRow { code: d.code.clone(), name: d.name.clone(), unit: unit_name(&d.unit), consumer_protection: d.consumer_protection })
        .collect();
    let routes = org
        .routes()
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut conditions = Vec::new();
            if let Some(v) = &r.business_type {
                conditions.push(format!("{}: {}", p.t("field.business_type"), taxonomy_name(&app, p.lang, Dimension::BusinessType, v)));
            }
            if let Some(v) = &r.cause {
                conditions.push(format!("{}: {}", p.t("field.cause"), taxonomy_name(&app, p.lang, Dimension::Cause, v)));
            }
            if let Some(v) = &r.channel {
                conditions.push(format!("{}: {}", p.t("field.channel"), p.label("channel", v)));
            }
            if let Some(v) = &r.unit {
                conditions.push(format!("{}: {}", p.t("admin.unit"), unit_name(v)));
            }
            if let Some(v) = &r.region {
                conditions.push(format!("{}: {v}", p.t("admin.region")));
            }
            if let Some(v) = &r.min_severity {
                conditions.push(format!("{} ≥ {}", p.t("field.severity"), p.enum_label("severity", v)));
            }
            if let Some(v) = &r.customer_type {
                conditions.push(format!("{}: {}", p.t("admin.customer_type"), p.label("customer_type", v)));
            }
            let department = if r.department.contains("{unit}") {
                r.department.replace("{unit}", p.t("admin.unit_placeholder"))
            } else {
                p.department_name(org, &r.department)
            };
            RouteRow { n: i + 1, conditions, department }
        })
        .collect();
    let active = rules.default_rules();
    let profile = active.profile;
    let pick = |zh: &str, en: &str| if p.lang == Lang::En { en.to_string() } else { zh.to_string() };
    let mut deadlines = Vec::new();
    if let Some(r) = &profile.acknowledgement {
        deadlines.push((p.t("admin.acknowledgement").to_string(), deadline(&p, r)));
    }
    if let Some(r) = &profile.summary_resolution {
        deadlines.push((p.t("admin.summary_resolution").to_string(), deadline(&p, r)));
    }
    deadlines.push((p.t("admin.decision").to_string(), deadline(&p, &profile.decision)));
    if let Some(r) = &profile.review {
        deadlines.push((p.t("admin.review_apply").to_string(), days(&p, r.apply_within_days, r.basis)));
        deadlines.push((p.t("admin.review_decide").to_string(), days(&p, r.decide_within_days, r.basis)));
    }
    if let Some(r) = &profile.follow_up {
        deadlines.push((p.t("admin.follow_up").to_string(), days(&p, r.within_days, r.basis)));
    }
    let due_soon = match profile.due_soon {
        DueSoon::Hours(h) => format!("{h} {}", p.t("admin.hours")),
        DueSoon::WorkingDays(n) => days(&p, n, DayBasis::Working),
    };
    let threshold = &profile.compensation_approval_threshold;
    let facts = vec![
        (p.t("admin.timezone").to_string(), profile.timezone.clone()),
        (p.t("admin.calendar").to_string(), profile.calendar.clone()),
        (p.t("admin.due_soon").to_string(), due_soon),
        (p.t("admin.approval_threshold").to_string(), format!("{} {}", threshold.amount, threshold.currency)),
        (p.t("admin.restart_on_new_facts").to_string(), yes_no(&p, profile.restart_on_new_facts)),
    ];
    let extensions = profile
        .extensions
        .iter()
        .map(|s| ExtensionRow {
            total: days(&p, s.days_total, profile.decision.basis),
            approval: match (s.needs_approval, s.approval_level) {
                (false, _) => p.t("admin.no_approval").to_string(),
                (true, level) => p.label("admin.approval_level", &level.map(|l| wire(&l)).unwrap_or_else(|| "department".to_string())),
            },
            notify_customer: s.notify_customer,
        })
        .collect();
    let pause_reasons =
        profile.pause_reasons.iter().map(|r| ReasonRow { code: r.code.clone(), label: pick(&r.label_zh, &r.label_en), notify_customer: r.notify_customer }).collect();
    let decline_reasons =
        profile.decline_reasons.iter().map(|r| ReasonRow { code: r.code.clone(), label: pick(&r.label_zh, &r.label_en), notify_customer: true }).collect();
    render(&RulesPage {
        sub: "rules",
        units,
        departments,
        routes,
        profile: (profile.id.clone(), profile.name.clone()),
        facts,
        deadlines,
        extensions,
        pause_reasons,
        decline_reasons,
        p,
    })
}

// ---------------------------------------------------------------------------------------------
// Models

/// A model as listed.
#[derive(Debug, Clone)]
pub struct ModelRow {
    /// Id.
    pub id: String,
    /// What it predicts, labelled.
    pub target: String,
    /// When trained, local.
    pub created: String,
    /// Whether it is the active one for its target.
    pub active: bool,
    /// Whether the server has it loaded.
    pub in_use: bool,
    /// Training examples.
    pub examples: String,
    /// Labels it tells apart.
    pub labels: String,
    /// Where the examples came from.
    pub source: String,
    /// Accuracy estimated by cross-validation, if it was.
    pub accuracy: String,
    /// Size.
    pub size: String,
}

/// The models page.
#[derive(Template)]
#[template(path = "admin/models.html")]
pub struct ModelsPage {
    /// Common page parts.
    pub p: Page,
    /// The admin section shown.
    pub sub: &'static str,
    /// Models, newest first.
    pub models: Vec<ModelRow>,
    /// Whether the person may train and activate models.
    pub manages: bool,
    /// The dimensions a model can be trained for.
    pub targets: Vec<Choice>,
    /// The target chosen in the training form.
    pub target: String,
    /// Why the last training did not happen.
    pub error: Option<String>,
}

fn summary_text(summary: &Value, key: &str) -> String {
    match summary.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => "—".to_string(),
    }
}

fn human_bytes(n: u64) -> String {
    if n >= 1 << 20 { format!("{:.1} MiB", n as f64 / f64::from(1u32 << 20)) } else { format!("{:.1} KiB", n as f64 / 1024.0) }
}

async fn build_models(app: &App, staff: &Staff, notice: Option<String>) -> Result<ModelsPage, PageError> {
    let (models, in_use) = text::models(app, &staff.caller).await?;
    let p = Page::staff(app, staff, "admin.models_title", "admin").with_notice(notice);
    let models = models
        .into_iter()
        .map(|m: ModelInfo| ModelRow {
            in_use: in_use.contains(&m.id),
            target: p.label("admin.target_name", &m.target),
            created: p.time(&m.created_at),
            active: m.active,
            examples: summary_text(&m.summary, "examples"),
            labels: summary_text(&m.summary, "labels"),
            source: summary_text(&m.summary, "source"),
            accuracy: m.summary.pointer("/cross_validation/accuracy").and_then(Value::as_f64).map_or_else(|| "—".to_string(), |a| format!("{:.1}%", a * 100.0)),
            size: human_bytes(m.bytes),
            id: m.id,
        })
        .collect();
    let targets = TRAINABLE.iter().map(|t| (t.to_string(), p.label("admin.target_name", t))).collect();
    Ok(ModelsPage { p, sub: "models", models, manages: may(staff, Operation::ManageModels), targets, target: TRAINABLE[0].to_string(), error: None })
}

/// Lists the models.
pub async fn models_page(State(app): State<App>, staff: Staff, Query(q): Query<DoneQuery>) -> Result<Response, PageError> {
    let p = Page::staff(&app, &staff, "admin.models_title", "admin");
    let page = build_models(&app, &staff, q.notice(&p)).await?;
    render(&page)
}

/// Makes a model the active one for its target.
pub async fn activate(State(app): State<App>, staff: Staff, Path(id): Path<String>, form: FormData) -> Result<Response, PageError> {
    staff.check_csrf(form.csrf())?;
    text::activate_model(&app, &staff.caller, &id).await?;
    Ok(see_other("/admin/models?done=activated"))
}

/// Set while a model is being trained: one training at a time per server, since it takes the
/// processor for a while.
static TRAINING: AtomicBool = AtomicBool::new(false);

/// Clears [`TRAINING`] when the training ends, however it ends.
struct TrainingSlot;

impl TrainingSlot {
    fn take() -> Option<TrainingSlot> {
        TRAINING.compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire).ok().map(|_| TrainingSlot)
    }
}

impl Drop for TrainingSlot {
    fn drop(&mut self) {
        TRAINING.store(false, Ordering::Release);
    }
}

/// Why a training could not run, shown on the page.
enum NotTrained {
    /// A message for the page.
    Message(String),
    /// A failure of the use cases.
    Failed(AppError),
}

impl From<AppError> for NotTrained {
    fn from(e: AppError) -> Self {
        NotTrained::Failed(e)
    }
}

/// The corrections people made for `target` as training examples, one per text and label.
async fn examples_from_corrections(app: &App, staff: &Staff, target: &str) -> Result<Vec<Example>, AppError> {
    let labelled = text::labelled_examples(app, &staff.caller, target, MAX_TRAINING_EXAMPLES).await?;
    let mut seen = std::collections::HashSet::new();
    Ok(labelled
        .into_iter()
        .map(|l| Example { text: format!("{}\n{}", l.complaint.narrative.as_str(), l.complaint.request.as_str()), label: l.code })
        .filter(|e| seen.insert((e.text.clone(), e.label.clone())))
        .collect())
}

async fn train_model(app: &App, staff: &Staff, p: &Page, target: &str) -> Result<String, NotTrained> {
    let examples = examples_from_corrections(app, staff, target).await?;
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &examples {
        *counts.entry(e.label.as_str()).or_default() += 1;
    }
    if counts.len() < 2 {
        return Err(NotTrained::Message(
            p.t("admin.too_few_labels").replace("{labels}", &counts.len().to_string()).replace("{examples}", &examples.len().to_string()),
        ));
    }
    let labels = counts.len();
    let Some(_slot) = TrainingSlot::take() else { return Err(NotTrained::Message(p.t("admin.training_busy").to_string())) };
    let n = examples.len();
    let started = std::time::Instant::now();
    // Training is CPU-bound: off the async threads, on half the cores, so the server keeps serving.
    let config = TrainConfig { threads: std::thread::available_parallelism().map_or(1, |c| (c.get() / 2).max(1)), ..TrainConfig::default() };
    let trained = tokio::task::spawn_blocking(move || Model::train(&examples, &config)).await.map_err(AppError::internal)?;
    let model = match trained {
        Ok(m) => m,
        Err(LearnError::TooFewLabels(_) | LearnError::NoFeatures) => return Err(NotTrained::Message(p.t("admin.nothing_to_learn").to_string())),
        Err(e) => return Err(NotTrained::Failed(AppError::internal(e.to_string()))),
    };
    let content = model.to_bytes();
    let id = format!("m-{}", uuid::Uuid::now_v7().simple());
    let summary = serde_json::json!({
        "source": format!("labels confirmed in the store ({target})"),
        "examples": n,
        "rejected": 0,
        "labels": labels,
        "training_seconds": started.elapsed().as_secs_f64(),
        "trained_by": staff.caller.user.name,
    });
    let info = ModelInfo { id: id.clone(), target: target.to_string(), created_at: app.clock.now(), active: true, summary, bytes: content.len() as u64 };
    text::store_model(app, &staff.caller, info, content).await?;
    // The new model is in use on this server at once (others load it within their refresh).
    if let Err(e) = redress_app::intelligence::refresh_models(&*app.store, &app.insight).await {
        tracing::warn!(error = %e, "the new model is stored but not loaded yet");
    }
    Ok(id)
}

/// Trains a model for a dimension from the corrections people made, stores it and makes it the
/// active one; or says why it cannot.
pub async fn train(State(app): State<App>, staff: Staff, form: FormData) -> Result<Response, PageError> {
    staff.check_csrf(form.csrf())?;
    let target = form.text("target");
    let Some(target) = TRAINABLE.iter().find(|t| **t == target) else {
        return Err(AppError::invalid("target", format!("a model is trained for one of {}", TRAINABLE.join(", "))).into());
    };
    let p = Page::staff(&app, &staff, "admin.models_title", "admin");
    match train_model(&app, &staff, &p, target).await {
        Ok(_) => Ok(see_other("/admin/models?done=trained")),
        Err(NotTrained::Message(m)) => {
            let mut page = build_models(&app, &staff, None).await?;
            page.target = target.to_string();
            page.error = Some(m);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(NotTrained::Failed(e)) => Err(e.into()),
    }
}
