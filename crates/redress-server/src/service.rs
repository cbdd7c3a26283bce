//! The application's use cases, shared by the HTTP handlers and the command line: register a
//! complaint, perform an action. They validate, call the domain and store the result in one
//! transaction.

use redress_domain::classify::{ClassifyInput, Dimension};
use redress_domain::complaint::{Action, Actor, AttachmentRef, Complaint, ComplaintId, ComplaintRef, Draft, NewComplaint, validate_new};
use sha2::{Digest, Sha256};
use redress_domain::org::Role;
use redress_store::{Change, IdempotencyKey, Registered, Registration, StoreError};
use axum::http::StatusCode;
use tracing::instrument;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::handlers::load_visible;

/// Classifies, routes and registers a validated complaint; durable when this returns.
#[instrument(skip_all, fields(channel = new.channel.as_str()))]
pub async fn register(st: &AppState, actor: &Actor, new: NewComplaint, idempotency: Option<IdempotencyKey>) -> ApiResult<Registered> {
    if !actor.role.can_write() {
        return Err(ApiError::forbidden("this role is read-only"));
    }
    let now = st.clock.now();
    let rules = st.rules.default_rules();
    validate_new(&new, rules.org, now)?;
    let insight = st.insight.get();
    let mut classification = st.rules.classifier.classify(&ClassifyInput {
        narrative: new.narrative.as_str(),
        request: new.request.as_str(),
        product: new.product.as_ref().map(|p| p.as_str()),
        // Severity thresholds are in CNY; other currencies cannot be compared without a rate.
        amount_in_cny_equivalent: new.amount.filter(|m| m.currency.as_str() == "CNY").map(|m| m.amount),
    });
    // Models trained on the institution's own labels refine the keyword guess where they are
    // confident.
    let text = format!("{}\n{}", new.narrative.as_str(), new.request.as_str());
    let predictions = insight.refine(&text, &mut classification, &st.rules.classifier);
    let text_index = crate::intelligence::text_index(
        &insight,
        new.title.as_ref().map_or("", |t| t.as_str()),
        new.narrative.as_str(),
        new.request.as_str(),
        predictions,
    );
    // A business type stated at intake beats the keyword guess and the models.
    if let Some(code) = &new.business_type {
        let label = st.rules.classifier.taxonomy().label(Dimension::BusinessType, code, 1.0).ok_or_else(|| {
            ApiError::invalid("business_type", format!("unknown business-type code '{code}'"))
        })?;
        classification.business_type = Some(label);
    }
    let draft = Draft::prepare(new, classification, rules, actor, now);
    let registration = Registration {
        id: ComplaintId::generate(now),
        department: draft.department.clone(),
        duplicate_key: draft.duplicate_key(),
        external_ref: draft.new.external_ref.clone(),
        idempotency,
        build: {
            let book = st.rules.clone();
            Box::new(move |ctx| draft.clone().register(ctx, book.default_rules()))
        },
        text: text_index,
    };
    Ok(st.store.register(registration).await?)
}

/// Performs one action on a complaint the caller can see, retrying if someone else changed it
/// meanwhile (the action is re-judged against the fresh record).
#[instrument(skip(st, caller, action), fields(user = %caller.0.name))]
pub async fn perform(st: &AppState, caller: &Caller, id: &str, mut action: Action) -> ApiResult<Complaint> {
    let actor = caller.actor();
    // Resolve references to users and complaints before touching the record.
    match &mut action {
        Action::Assign { handler } | Action::Transfer { handler: Some(handler), .. } => {
            let user = match st.store.user(&handler.id).await? {
                Some(u) => Some(u),
                None => st.store.user_by_name(&handler.id).await?,
            };
            let user = user.filter(|u| u.active && matches!(u.role, Role::Handler | Role::DepartmentHead)).ok_or_else(|| {
                ApiError::invalid("handler", format!("'{}' is not an active handler", handler.id))
            })?;
            handler.id = user.id.clone();
            handler.name = user.name.clone();
        }
        Action::MergeInto { target } => {
            let t = load_visible(st, caller, &target.id.to_string()).await.map_err(|_| ApiError::invalid("target", "unknown complaint"))?;
            if !t.status.is_being_handled() {
                return Err(ApiError::new(StatusCode::CONFLICT, "invalid_target", format!("{} is not open for merging", t.number)));
            }
            *target = ComplaintRef { id: t.id, number: t.number };
        }
        _ => {}
    }
    let handler_department = match &action {
        Action::Assign { handler } | Action::Transfer { handler: Some(handler), .. } => {
            st.store.user(&handler.id).await?.and_then(|u| u.department)
        }
        _ => None,
    };
    for attempt in 0..3 {
        let mut c = load_visible(st, caller, id).await?;
        let target_department = match &action {
            Action::Assign { .. } => Some(c.owner.department.as_str()),
            Action::Transfer { department, handler: Some(_), .. } => Some(department.as_str()),
            _ => None,
        };
        if let Some(dept) = target_department
            && handler_department.as_deref() != Some(dept)
        {
            return Err(ApiError::invalid("handler", format!("the handler does not belong to department {dept}")));
        }
        let rules = st.rules.rules(&c.profile).unwrap_or_else(|| st.rules.default_rules());
        let expected_version = c.version;
        let previous_handler = c.owner.handler.as_ref().map(|h| h.id.clone());
        let was_open = c.status.is_open();
        let notes_before = c.notes.len();
        let now = st.clock.now();
        let outcome = c.apply(action.clone(), &actor, now, rules)?;
        let text = crate::intelligence::text_update(st, notes_before, &c).await?;
        match st.store.save(Change { complaint: c.clone(), expected_version, previous_handler, was_open, outcome, text }).await {
            Ok(()) => return Ok(c),
            Err(StoreError::Conflict) if attempt < 2 => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(StoreError::Conflict.into())
}

/// Stores a file (content-addressed, type-checked) and attaches it to a complaint the caller
/// may change.
#[instrument(skip(st, caller, content), fields(size = content.len()))]
pub async fn attach(st: &AppState, caller: &Caller, id: &str, filename: &str, content: &[u8]) -> ApiResult<(AttachmentRef, Complaint)> {
    // Check the caller may touch the complaint before storing anything.
    let c = load_visible(st, caller, id).await?;
    if !caller.0.role.can_write() {
        return Err(ApiError::forbidden("this role is read-only"));
    }
    let media_type = redress_domain::attachment::check(filename, content)?;
    let sha256 = hex::encode(Sha256::digest(content));
    st.store.put_attachment(&sha256, media_type, content, st.clock.now()).await?;
    let attachment = AttachmentRef { sha256, filename: filename.trim().to_string(), media_type: media_type.to_string(), size: content.len() as u64 };
    let c = perform(st, caller, &c.id.to_string(), Action::Attach { attachment: attachment.clone() }).await?;
    Ok((attachment, c))
}
