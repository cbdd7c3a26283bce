//! Use cases on complaints: register, act, attach, and read what the caller may see.

use redress_domain::classify::{ClassifyInput, Dimension};
use redress_domain::complaint::{Action, AttachmentRef, Complaint, ComplaintId, ComplaintRef, Draft, Event, NewComplaint, Outcome, validate_new};
use redress_domain::lifecycle::{ActionKind, Status};
use redress_domain::org::Role;
use redress_store::{
    AttachmentContent, Change, ComplaintFilter, ComplaintSummary, Cursor, IdempotencyKey, Page, Registered, Registration, StoreError,
    StoredEvent, StoredMessage, StoredNotification,
};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tracing::instrument;

use crate::error::{AppError, AppResult};
use crate::policy::{self, Operation};
use crate::{App, Caller};

/// Classifies, routes and registers a validated complaint; durable when this returns.
///
/// A replay (the same idempotency key, or an external reference already registered) answers
/// the earlier complaint only if the caller may see it; otherwise it is a conflict that says
/// nothing of that complaint. Duplicate detection looks only among complaints the caller may
/// see, so a merge never reveals another department's complaint.
#[instrument(skip_all, fields(channel = new.channel.as_str()))]
pub async fn register(app: &App, caller: &Caller, new: NewComplaint, idempotency: Option<IdempotencyKey>) -> AppResult<Registered> {
    register_with_tracking_code(app, caller, new, idempotency, &crate::customer::new_tracking_code(), &[]).await
}

/// Like [`register`], with the files (name, content) that came with the complaint: they are
/// part of the registration, stored in its transaction, so the complaint is stored with all of
/// them or not at all. Each file is checked before anything is written.
#[instrument(skip_all, fields(channel = new.channel.as_str(), files = files.len()))]
pub async fn register_with_files(
    app: &App,
    caller: &Caller,
    new: NewComplaint,
    idempotency: Option<IdempotencyKey>,
    files: &[(String, Vec<u8>)],
) -> AppResult<Registered> {
    register_with_tracking_code(app, caller, new, idempotency, &crate::customer::new_tracking_code(), files).await
}

/// Checks a file that comes with a complaint and detects its media type; the error names the
/// field `files` and the file.
pub fn check_file(name: &str, content: &[u8]) -> AppResult<&'static str> {
    redress_domain::attachment::check(name, content).map_err(|e| AppError::invalid("files", format!("{}: {}", name.trim(), e.message)))
}

/// The files of a registration, checked: their references (one per file, in the order given)
/// and the contents to store (one per distinct content).
fn registration_files(files: &[(String, Vec<u8>)], now: jiff::Timestamp) -> AppResult<(Vec<AttachmentRef>, Vec<AttachmentContent>)> {
    use redress_domain::attachment::MAX_ATTACHMENTS_PER_COMPLAINT;
    if files.len() > MAX_ATTACHMENTS_PER_COMPLAINT {
        return Err(AppError::invalid("files", format!("a complaint carries at most {MAX_ATTACHMENTS_PER_COMPLAINT} files")));
    }
    let mut refs = Vec::with_capacity(files.len());
    let mut contents: Vec<AttachmentContent> = Vec::with_capacity(files.len());
    for (name, content) in files {
        let media_type = check_file(name, content)?;
        let sha256 = hex::encode(Sha256::digest(content));
        refs.push(AttachmentRef { sha256: sha256.clone(), filename: name.trim().to_string(), media_type: media_type.to_string(), size: content.len() as u64 });
        if !contents.iter().any(|c| c.sha256 == sha256) {
            contents.push(AttachmentContent { sha256, media_type: media_type.to_string(), content: content.clone(), at: now });
        }
    }
    Ok((refs, contents))
}

/// Lists the files that came with a complaint on its new record, with an `attach` event for
/// each right after the `register` event (as `Action::Attach` records them: the complaint's
/// status does not change, and the same content is listed once).
fn add_registration_files(c: &mut Complaint, outcome: &mut Outcome, files: &[AttachmentRef]) {
    let Some(registered) = outcome.events.first() else { return };
    let (actor, at, status) = (registered.actor.clone(), registered.at, registered.to_status);
    for (i, attachment) in files.iter().enumerate() {
        if !c.attachments.iter().any(|a| a.sha256 == attachment.sha256) {
            c.attachments.push(attachment.clone());
        }
        let event = Event {
            complaint_id: c.id,
            action: ActionKind::Attach,
            actor: actor.clone(),
            at,
            from_status: Some(status),
            to_status: status,
            reason: None,
            changes: serde_json::json!({ "attachment": attachment }),
        };
        outcome.events.insert(1 + i, event);
    }
}

/// Like [`register_with_files`] with a given tracking code: the code the customer follows the
/// complaint with on the tracking page. Its hash is stored in the same transaction and the code
/// itself goes to the customer in the acknowledgement. A replayed request stores neither the
/// code nor the files.
pub async fn register_with_tracking_code(
    app: &App,
    caller: &Caller,
    new: NewComplaint,
    idempotency: Option<IdempotencyKey>,
    tracking_code: &str,
    files: &[(String, Vec<u8>)],
) -> AppResult<Registered> {
    let tracking_code_hash = Some(crate::customer::tracking_code_hash(tracking_code));
    let tracking_code = tracking_code.to_string();
    policy::require(caller, Operation::Register)?;
    let now = app.clock.now();
    let rules = app.rules.default_rules();
    validate_new(&new, rules.org, now)?;
    // Every file is checked before anything is written: a bad one refuses the whole form.
    let (file_refs, attachments) = registration_files(files, now)?;
    let insight = app.insight.get();
    let mut classification = app.rules.classifier.classify(&ClassifyInput {
        narrative: new.narrative.as_str(),
        request: new.request.as_str(),
        product: new.product.as_ref().map(|p| p.as_str()),
        // Severity thresholds are in CNY; other currencies cannot be compared without a rate.
        amount_in_cny_equivalent: new.amount.filter(|m| m.currency.as_str() == "CNY").map(|m| m.amount),
    });
    // Models trained on the institution's own labels refine the keyword guess where they are
    // confident.
    let text = format!("{}\n{}", new.narrative.as_str(), new.request.as_str());
    let predictions = insight.refine(&text, &mut classification, &app.rules.classifier);
    let text_index = crate::intelligence::text_index(
        &insight,
        new.title.as_ref().map_or("", |t| t.as_str()),
        new.narrative.as_str(),
        new.request.as_str(),
        predictions,
    );
    // A business type stated at intake beats the keyword guess and the models.
    if let Some(code) = &new.business_type {
        let label = app
            .rules
            .classifier
            .taxonomy()
            .label(Dimension::BusinessType, code, 1.0)
            .ok_or_else(|| AppError::invalid("business_type", format!("unknown business-type code '{code}'")))?;
        classification.business_type = Some(label);
    }
    let emotion = crate::analytics::intake_emotion(&text_index.reading);
    let keywords = crate::analytics::intake_keywords(&text_index.reading);
    let repeat_of = crate::analytics::repeat_of(app, &new, rules).await?;
    let draft = Draft::prepare(new, classification, rules, &caller.actor(), now);
    let tz = redress_domain::complaint::time_zone(rules);
    let registration = Registration {
        id: ComplaintId::generate(now),
        department: draft.department.clone(),
        duplicate_key: draft.duplicate_key(),
        external_ref: draft.new.external_ref.clone().map(|r| r.to_string()),
        idempotency,
        duplicate_departments: policy::visible_departments(caller, rules.org),
        build: {
            let book = app.rules.clone();
            Box::new(move |ctx| {
                let (mut c, mut outcome) = draft.clone().register(ctx, book.default_rules());
                crate::customer::add_tracking_code(&mut outcome.messages, &tracking_code);
                add_registration_files(&mut c, &mut outcome, &file_refs);
                c.emotion = emotion.clone();
                c.keywords = keywords.clone();
                c.repeat_of = repeat_of.clone();
                (c, outcome)
            })
        },
        text: text_index,
        tracking_code_hash,
        attachments,
        stats: Box::new(move |c| redress_analytics::cells_of(c, &tz)),
    };
    let registered = app.store.register(registration).await?;
    if let Registered::Replayed(c) = &registered
        && !policy::can_see(caller, c, rules.org)
    {
        return Err(AppError::conflict(
            "already_registered",
            "a complaint with this external reference or idempotency key is already registered; it is not visible to you",
        ));
    }
    Ok(registered)
}

/// Loads a complaint by id or number if the caller may see it; `NotFound` otherwise.
pub async fn get(app: &App, caller: &Caller, id_or_number: &str) -> AppResult<Complaint> {
    // No id or number is this long or holds a control character; such input never reaches the
    // store (PostgreSQL refuses a NUL in a text parameter).
    if id_or_number.len() > 64 || id_or_number.chars().any(char::is_control) {
        return Err(AppError::not_found("complaint"));
    }
    let found = match ComplaintId::parse(id_or_number) {
        Some(id) => app.store.complaint(id).await?,
        None => app.store.complaint_by_number(id_or_number).await?,
    };
    match found {
        Some(c) if policy::can_see(caller, &c, &app.rules.org) => Ok(c),
        _ => Err(AppError::not_found("complaint")),
    }
}

/// A complaint's history, oldest first.
pub async fn history(app: &App, caller: &Caller, id_or_number: &str) -> AppResult<(Complaint, Vec<StoredEvent>)> {
    let c = get(app, caller, id_or_number).await?;
    let events = app.store.history(c.id).await?;
    Ok((c, events))
}

/// A complaint's customer messages (the outbox) with their delivery states.
pub async fn messages(app: &App, caller: &Caller, id_or_number: &str) -> AppResult<(Complaint, Vec<StoredMessage>)> {
    let c = get(app, caller, id_or_number).await?;
    let messages = app.store.messages(c.id).await?;
    Ok((c, messages))
}

/// Performs one action on a complaint the caller can see and may act on, retrying if someone
/// else changed it meanwhile (the action is judged again against the fresh record).
#[instrument(skip(app, caller, action), fields(user = %caller.user.name))]
pub async fn perform(app: &App, caller: &Caller, id_or_number: &str, action: Action) -> AppResult<Complaint> {
    perform_with(app, caller, id_or_number, action, None, None).await
}

/// Like [`perform`], taken through a single-use link (its id): the link is consumed in the
/// same transaction, and a link used before makes the whole action fail with a `Conflict`
/// (code `duplicate`) that changes nothing.
#[instrument(skip(app, caller, action, link_id), fields(user = %caller.user.name))]
pub async fn perform_through_link(app: &App, caller: &Caller, id_or_number: &str, action: Action, link_id: &str) -> AppResult<Complaint> {
    perform_with(app, caller, id_or_number, action, None, Some(link_id.to_string())).await
}

async fn perform_with(
    app: &App,
    caller: &Caller,
    id_or_number: &str,
    mut action: Action,
    file: Option<AttachmentContent>,
    consumed_link: Option<String>,
) -> AppResult<Complaint> {
    let actor = caller.actor();
    let org = &app.rules.org;
    // Whether the caller may take this action at all is settled before any reference is
    // resolved, so a refusal tells nothing about the users or complaints the action names.
    let current = get(app, caller, id_or_number).await?;
    policy::check_action(caller, &current, &action, org)?;
    // Resolve references to users and complaints before touching the record.
    let mut handler_department = None;
    match &mut action {
        Action::Assign { handler } | Action::Transfer { handler: Some(handler), .. } => {
            if handler.id.chars().count() > 100 || handler.id.chars().any(char::is_control) {
                return Err(AppError::invalid("handler", "not a user id or name"));
            }
            let user = match app.store.user(&handler.id).await? {
                Some(u) => Some(u),
                None => app.store.user_by_name(&handler.id).await?,
            };
            let user = user
                .filter(|u| u.active && matches!(u.role, Role::Handler | Role::DepartmentHead))
                .ok_or_else(|| AppError::invalid("handler", format!("'{}' is not an active handler", handler.id)))?;
            handler.id = user.id.clone();
            handler.name = user.name.clone();
            handler_department = user.department;
        }
        Action::MergeInto { target } => {
            let t = get(app, caller, &target.id.to_string()).await.map_err(|_| AppError::invalid("target", "unknown complaint"))?;
            if !t.status.is_being_handled() {
                return Err(AppError::conflict("invalid_target", format!("{} is not open for merging", t.number)));
            }
            *target = ComplaintRef { id: t.id, number: t.number };
        }
        _ => {}
    }
    for attempt in 0..3 {
        let mut c = get(app, caller, id_or_number).await?;
        policy::check_action(caller, &c, &action, org)?;
        let target_department = match &action {
            Action::Assign { .. } => Some(c.owner.department.as_str()),
            Action::Transfer { department, handler: Some(_), .. } => Some(department.as_str()),
            _ => None,
        };
        if let Some(dept) = target_department
            && handler_department.as_deref() != Some(dept)
        {
            return Err(AppError::invalid("handler", format!("the handler does not belong to department {dept}")));
        }
        let rules = app.rules.rules(&c.profile).unwrap_or_else(|| app.rules.default_rules());
        let expected_version = c.version;
        let previous_handler = c.owner.handler.as_ref().map(|h| h.id.clone());
        let was_open = c.status.is_open();
        let notes_before = c.notes.len();
        let before = c.clone();
        let mut outcome = c.apply(action.clone(), &actor, app.clock.now(), rules)?;
        // The decision notice carries the customer's survey link (the domain renders the
        // notice; the link needs the installation's secret and public address).
        crate::customer::add_survey_links(app, &c, &mut outcome.messages).await?;
        let text = crate::intelligence::text_update(app, notes_before, &c).await?;
        let change = Change {
            complaint: c.clone(),
            expected_version,
            previous_handler,
            was_open,
            outcome,
            text,
            attachment: file.clone(),
            consumed_link: consumed_link.clone(),
            stats: crate::analytics::stats_change(&before, &c, rules),
        };
        match app.store.save(change).await {
            Ok(()) => return Ok(c),
            Err(StoreError::Conflict) if attempt < 2 => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(StoreError::Conflict.into())
}

/// Stores a file (content-addressed, type-checked) and attaches it to a complaint, in one
/// transaction: a refused attachment stores nothing.
#[instrument(skip(app, caller, content), fields(size = content.len()))]
pub async fn attach(app: &App, caller: &Caller, id_or_number: &str, filename: &str, content: &[u8]) -> AppResult<(AttachmentRef, Complaint)> {
    let c = get(app, caller, id_or_number).await?;
    let media_type = redress_domain::attachment::check(filename, content)?;
    let sha256 = hex::encode(Sha256::digest(content));
    let attachment = AttachmentRef { sha256: sha256.clone(), filename: filename.trim().to_string(), media_type: media_type.to_string(), size: content.len() as u64 };
    let file = AttachmentContent { sha256, media_type: media_type.to_string(), content: content.to_vec(), at: app.clock.now() };
    let c = perform_with(app, caller, &c.id.to_string(), Action::Attach { attachment: attachment.clone() }, Some(file), None).await?;
    Ok((attachment, c))
}

/// A file attached to a complaint the caller may see: its name, media type and content.
pub async fn attachment(app: &App, caller: &Caller, id_or_number: &str, sha256: &str) -> AppResult<(AttachmentRef, Vec<u8>)> {
    let c = get(app, caller, id_or_number).await?;
    let listed = c.attachments.iter().find(|a| a.sha256 == sha256).cloned().ok_or_else(|| AppError::not_found("attachment"))?;
    let (_, content) = app.store.attachment(sha256).await?.ok_or_else(|| AppError::not_found("attachment"))?;
    Ok((listed, content))
}

/// List filters as people give them (query parameters, command-line flags); every value is
/// validated by [`list_filter`].
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Statuses, comma-separated.
    pub status: Option<String>,
    /// Channel.
    pub channel: Option<String>,
    /// Owner department.
    pub department: Option<String>,
    /// Owned by a department of this unit or of a unit under it.
    pub branch: Option<String>,
    /// Owner handler id.
    pub handler: Option<String>,
    /// Severity.
    pub severity: Option<String>,
    /// Due state.
    pub due_state: Option<String>,
    /// Business-type code prefix.
    pub business_type: Option<String>,
    /// Cause code prefix.
    pub cause: Option<String>,
    /// Received at or after (RFC 3339 or a date).
    pub received_from: Option<String>,
    /// Received before (RFC 3339 or a date).
    pub received_to: Option<String>,
    /// Continue after this cursor.
    pub cursor: Option<String>,
    /// Page size, 1–200.
    pub limit: Option<String>,
}

fn parse_time(field: &str, v: &Option<String>) -> AppResult<Option<jiff::Timestamp>> {
    match v {
        None => Ok(None),
        Some(s) => s.parse::<jiff::Timestamp>().map(Some).or_else(|_| {
            s.parse::<jiff::civil::Date>()
                .map_err(|_| AppError::invalid(field, "expected an RFC 3339 time or a date (YYYY-MM-DD)"))
                .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).map(|z| Some(z.timestamp())).map_err(|e| AppError::invalid(field, e.to_string())))
        }),
    }
}

/// Limits a filter to what the caller may see. `None` when nothing can match (the caller asked
/// for departments they may not see, or sees none): an empty result, not an error.
pub fn limit_to_scope(caller: &Caller, app: &App, mut filter: ComplaintFilter) -> Option<ComplaintFilter> {
    let Some(visible) = policy::visible_departments(caller, &app.rules.org) else { return Some(filter) };
    if let Some(d) = &filter.department
        && !visible.contains(d)
    {
        return None;
    }
    filter.departments = if filter.departments.is_empty() { visible } else { filter.departments.into_iter().filter(|d| visible.contains(d)).collect() };
    // An empty list means "any department" to the store: seeing none must match nothing.
    if filter.departments.is_empty() { None } else { Some(filter) }
}

/// The store filter for list parameters, limited to what the caller may see; `None` when
/// nothing can match.
pub fn list_filter(app: &App, caller: &Caller, q: &ListParams) -> AppResult<Option<ComplaintFilter>> {
    for (field, value) in [("department", &q.department), ("branch", &q.branch), ("handler", &q.handler), ("severity", &q.severity), ("business_type", &q.business_type), ("cause", &q.cause)] {
        refuse_odd_text(field, value)?;
    }
    // The branch narrows the departments before the caller's scope is applied to them.
    let mut branch_departments = Vec::new();
    if let Some(branch) = &q.branch {
        let org = &app.rules.org;
        if org.unit(branch).is_none() {
            return Err(AppError::invalid("branch", format!("unknown branch '{branch}'")));
        }
        branch_departments = org.departments_within(branch);
    }
    let mut statuses = Vec::new();
    if let Some(s) = &q.status {
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            statuses.push(Status::parse(part).ok_or_else(|| {
                AppError::invalid("status", format!("unknown status '{part}'; expected one of {}", Status::ALL.map(|s| s.as_str()).join(", ")))
            })?);
        }
    }
    if let Some(c) = &q.channel
        && redress_domain::complaint::Channel::parse(c).is_none()
    {
        return Err(AppError::invalid("channel", format!("unknown channel '{c}'")));
    }
    if let Some(d) = &q.due_state
        && crate::input::parse_due_state(d).is_none()
    {
        return Err(AppError::invalid("due_state", format!("unknown due state '{d}'")));
    }
    let limit = match &q.limit {
        None => 50,
        Some(l) => l.parse::<u32>().ok().filter(|n| (1..=200).contains(n)).ok_or_else(|| AppError::invalid("limit", "limit is a number from 1 to 200"))?,
    };
    let after = match &q.cursor {
        None => None,
        Some(c) => Some(Cursor::decode(c).ok_or_else(|| AppError::invalid("cursor", "not a cursor returned by this API"))?),
    };
    let filter = ComplaintFilter {
        statuses,
        channel: q.channel.clone(),
        department: q.department.clone(),
        handler: q.handler.clone(),
        severity: q.severity.clone(),
        due_state: q.due_state.clone(),
        business_type: q.business_type.clone(),
        cause: q.cause.clone(),
        received_from: parse_time("received_from", &q.received_from)?,
        received_to: parse_time("received_to", &q.received_to)?,
        departments: branch_departments.clone(),
        after,
        limit,
        ..Default::default()
    };
    // A branch without departments matches nothing (an empty list would mean any).
    if q.branch.is_some() && branch_departments.is_empty() {
        return Ok(None);
    }
    Ok(limit_to_scope(caller, app, filter))
}

/// Refuses a filter value with a control character or longer than any code or id.
pub(crate) fn refuse_odd_text(field: &str, value: &Option<String>) -> AppResult<()> {
    match value {
        Some(v) if v.chars().count() > 100 || v.chars().any(char::is_control) => {
            Err(AppError::invalid(field, "at most 100 characters, without control characters"))
        }
        _ => Ok(()),
    }
}

/// The newest complaints the caller may see, filtered, one page at a time.
pub async fn list(app: &App, caller: &Caller, q: &ListParams) -> AppResult<Page<ComplaintSummary>> {
    match list_filter(app, caller, q)? {
        Some(filter) => Ok(app.store.list(&filter).await?),
        None => Ok(Page { items: Vec::new(), next: None }),
    }
}

/// The caller's notifications (their role, their department), newest first; only those about
/// complaints the caller may still see.
pub async fn notifications(app: &App, caller: &Caller, limit: u32) -> AppResult<Vec<StoredNotification>> {
    let items = app.store.notifications(caller.role(), caller.department(), limit).await?;
    let ids: Vec<ComplaintId> = items.iter().map(|n| n.notification.complaint_id).collect();
    let visible: std::collections::HashSet<ComplaintId> =
        app.store.complaints(&ids).await?.into_iter().filter(|c| policy::can_see(caller, c, &app.rules.org)).map(|c| c.id).collect();
    Ok(items.into_iter().filter(|n| visible.contains(&n.notification.complaint_id)).collect())
}
