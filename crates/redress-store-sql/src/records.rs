//! Complaint records and what hangs off them: the history, outbox messages, notifications,
//! label corrections and attachments. Reads, the multi-row inserts registering writes, and
//! saving a changed complaint.

use jiff::Timestamp;
use redress_domain::complaint::{Complaint, ComplaintId, Outcome};
use redress_domain::org::Role;
use redress_store::columns::{ComplaintColumns, complaint_id, decode, decode_complaint, decode_event, encode, encode_event, micros};
use redress_store::{AttachmentContent, Change, StoreError, StoreResult, StoredEvent, StoredLabel, StoredNotification};
use sqlx::QueryBuilder;

use crate::engine::insert_unique;
use crate::{Builder, Connection, Db, Engine, ROWS_PER_STATEMENT, Run, VALUES_PER_LIST, execute, fetch_all, fetch_optional, get, get_text};

/// One complaint.
pub async fn complaint<E: Engine>(conn: &mut Connection<E>, id: ComplaintId) -> StoreResult<Option<Complaint>> {
    complaint_where::<E>(conn, "id", &id.to_string()).await
}

/// One complaint by number.
pub async fn complaint_by_number<E: Engine>(conn: &mut Connection<E>, number: &str) -> StoreResult<Option<Complaint>> {
    complaint_where::<E>(conn, "number", number).await
}

async fn complaint_where<E: Engine>(conn: &mut Connection<E>, unique_column: &str, value: &str) -> StoreResult<Option<Complaint>> {
    let mut q = QueryBuilder::<Db<E>>::new(format!("SELECT body FROM complaints WHERE {unique_column} = "));
    q.bind(value);
    let row = fetch_optional(conn, &mut q).await?;
    row.map(|r| decode_complaint(get_text(&r, 0)?)).transpose()
}

/// The complaints among `ids` that exist, in no particular order.
pub async fn complaints<E: Engine>(conn: &mut Connection<E>, ids: &[ComplaintId]) -> StoreResult<Vec<Complaint>> {
    let mut found = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(VALUES_PER_LIST) {
        let ids: Vec<String> = chunk.iter().map(ToString::to_string).collect();
        let mut q = QueryBuilder::<Db<E>>::new("SELECT body FROM complaints WHERE id");
        E::push_in(&mut q, &ids);
        for r in fetch_all(conn, &mut q).await? {
            found.push(decode_complaint(get_text(&r, 0)?)?);
        }
    }
    Ok(found)
}

/// Number of complaints stored.
pub async fn count<E: Engine>(conn: &mut Connection<E>) -> StoreResult<u64> {
    let mut q = QueryBuilder::<Db<E>>::new("SELECT COUNT(*) FROM complaints");
    let n: i64 = match fetch_optional(conn, &mut q).await? {
        Some(r) => get(&r, 0)?,
        None => 0,
    };
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Complaints whose due state may need to change; see `Store::due_candidates`.
pub async fn due_candidates<E: Engine>(conn: &mut Connection<E>, now: Timestamp, soon_before: Timestamp, limit: u32) -> StoreResult<Vec<Complaint>> {
    let mut q = QueryBuilder::<Db<E>>::new("SELECT body FROM complaints WHERE watch_at IS NOT NULL AND watch_at < ");
    q.bind(soon_before.as_microsecond());
    q.push(" AND ((watch_at < ").bind(now.as_microsecond()).push(" AND due_state <> 'overdue') OR due_state = 'on_time')");
    q.push(" ORDER BY watch_at LIMIT ").bind(i64::from(limit));
    fetch_all(conn, &mut q).await?.iter().map(|r| decode_complaint(get_text(r, 0)?)).collect()
}

/// A complaint's history, oldest first.
pub async fn history<E: Engine>(conn: &mut Connection<E>, id: ComplaintId) -> StoreResult<Vec<StoredEvent>> {
    let mut q = QueryBuilder::<Db<E>>::new("SELECT seq, body FROM events WHERE complaint_id = ");
    q.bind(id.to_string()).push(" ORDER BY seq");
    fetch_all(conn, &mut q).await?.iter().map(|r| Ok(StoredEvent { seq: get(r, 0)?, event: decode_event(get_text(r, 1)?)? })).collect()
}

/// Notifications for a role, newest first: with a department, those for that department and
/// those for every department.
pub async fn notifications<E: Engine>(conn: &mut Connection<E>, role: Role, department: Option<&str>, limit: u32) -> StoreResult<Vec<StoredNotification>> {
    let mut q = QueryBuilder::<Db<E>>::new("SELECT id, created_at, body FROM notifications WHERE role = ");
    q.bind(role.as_str());
    if let Some(department) = department {
        q.push(" AND (department IS NULL OR department = ").bind(department).push(")");
    }
    q.push(" ORDER BY id DESC LIMIT ").bind(i64::from(limit));
    fetch_all(conn, &mut q)
        .await?
        .iter()
        .map(|r| Ok(StoredNotification { id: get(r, 0)?, created_at: micros(get(r, 1)?)?, notification: decode("notification", get_text(r, 2)?)? }))
        .collect()
}

/// Label corrections, oldest first.
pub async fn label_corrections<E: Engine>(conn: &mut Connection<E>, limit: u32) -> StoreResult<Vec<StoredLabel>> {
    let mut q = QueryBuilder::<Db<E>>::new("SELECT complaint_id, at, body FROM label_corrections ORDER BY id LIMIT ");
    q.bind(i64::from(limit));
    fetch_all(conn, &mut q)
        .await?
        .iter()
        .map(|r| Ok(StoredLabel { complaint_id: complaint_id(get_text(r, 0)?)?, at: micros(get(r, 1)?)?, correction: decode("label", get_text(r, 2)?)? }))
        .collect()
}

/// Attachment content and its media type.
pub async fn attachment<E: Engine>(conn: &mut Connection<E>, sha256: &str) -> StoreResult<Option<(String, Vec<u8>)>> {
    let mut q = QueryBuilder::<Db<E>>::new("SELECT media_type, content FROM attachments WHERE sha256 = ");
    q.bind(sha256);
    fetch_optional(conn, &mut q).await?.map(|r| Ok((get(&r, 0)?, get(&r, 1)?))).transpose()
}

/// Stores attachment content under its SHA-256; the same content stored again is a no-op.
pub async fn put_attachment<E: Engine>(conn: &mut Connection<E>, a: &AttachmentContent) -> StoreResult<()> {
    let mut q = QueryBuilder::<Db<E>>::new("INSERT INTO attachments (sha256, media_type, size, content, created_at) VALUES (");
    q.bind(&a.sha256).push(", ").bind(&a.media_type).push(", ").bind(a.content.len() as i64);
    q.push(", ").bind(a.content.as_slice()).push(", ").bind(a.at.as_microsecond());
    q.push(") ON CONFLICT (sha256) DO NOTHING");
    execute(conn, &mut q).await
}

/// Bytes of file content bound in one multi-row `INSERT` of [`insert_attachments`] (a single
/// larger file goes alone).
const ATTACHMENT_BYTES_PER_STATEMENT: usize = 32 * 1024 * 1024;

/// Stores the files registrations bring, with a few multi-row statements: each content once,
/// in the order of their SHA-256 (so concurrent transactions storing the same files wait for
/// each other in one order), and content stored already is left as it is.
pub async fn insert_attachments<E: Engine>(conn: &mut Connection<E>, files: &[&AttachmentContent]) -> StoreResult<()> {
    let mut files: Vec<&AttachmentContent> = files.to_vec();
    files.sort_unstable_by(|a, b| a.sha256.cmp(&b.sha256));
    files.dedup_by(|a, b| a.sha256 == b.sha256);
    let mut rest = files.as_slice();
    while !rest.is_empty() {
        let mut take = 0;
        let mut bytes = 0;
        while take < rest.len() && take < ROWS_PER_STATEMENT && (take == 0 || bytes + rest[take].content.len() <= ATTACHMENT_BYTES_PER_STATEMENT) {
            bytes += rest[take].content.len();
            take += 1;
        }
        let (chunk, next) = rest.split_at(take);
        let mut q = QueryBuilder::<Db<E>>::new("INSERT INTO attachments (sha256, media_type, size, content, created_at) VALUES ");
        for (i, a) in chunk.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" }).bind(&a.sha256).push(", ").bind(&a.media_type).push(", ").bind(a.content.len() as i64);
            q.push(", ").bind(a.content.as_slice()).push(", ").bind(a.at.as_microsecond()).push(")");
        }
        q.push(" ON CONFLICT (sha256) DO NOTHING");
        execute(conn, &mut q).await?;
        rest = next;
    }
    Ok(())
}

/// A complaint row to insert: its columns and its duplicate key.
#[derive(Debug, Clone)]
pub struct ComplaintRow {
    /// The indexed columns and the document.
    pub columns: ComplaintColumns,
    /// Same complainant + matter key.
    pub duplicate_key: Option<String>,
}

/// Inserts new complaint rows; a clash with an existing id, number or external reference is
/// [`StoreError::Duplicate`].
pub async fn insert_complaints<E: Engine>(conn: &mut Connection<E>, rows: &[ComplaintRow]) -> StoreResult<()> {
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let mut q = QueryBuilder::<Db<E>>::new(
            "INSERT INTO complaints (id, number, status, is_open, being_handled, awaiting_approval, channel, received_at, department, handler_id, business_type, cause, severity, due_state, watch_at, duplicate_key, external_ref, version, updated_at, body) VALUES ",
        );
        for (i, ComplaintRow { columns: c, duplicate_key }) in chunk.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" });
            q.bind(&c.id).push(", ").bind(&c.number).push(", ").bind(c.status).push(", ").bind(c.is_open).push(", ").bind(c.being_handled).push(", ").bind(c.awaiting_approval);
            q.push(", ").bind(c.channel).push(", ").bind(c.received_at).push(", ").bind(&c.department).push(", ").bind(&c.handler_id);
            q.push(", ").bind(&c.business_type).push(", ").bind(&c.cause).push(", ").bind(&c.severity).push(", ").bind(&c.due_state);
            q.push(", ").bind(&c.watch_at).push(", ").bind(duplicate_key).push(", ").bind(&c.external_ref).push(", ").bind(c.version);
            q.push(", ").bind(c.updated_at).push(", ").bind(&c.body).push(")");
        }
        insert_unique(conn, &mut q, "a complaint with this id, number or external reference exists").await?;
    }
    Ok(())
}

/// An idempotency key to record, with the complaint it registered.
#[derive(Debug, Clone)]
pub struct IdempotencyRow {
    /// The user who sent it.
    pub user_id: String,
    /// The client's key.
    pub key: String,
    /// Hash of the request body.
    pub request_hash: String,
    /// The complaint registered.
    pub complaint_id: String,
    /// When, microseconds.
    pub created_at: i64,
}

/// Records idempotency keys; a key recorded already is [`StoreError::Duplicate`].
pub async fn insert_idempotency_keys<E: Engine>(conn: &mut Connection<E>, rows: &[IdempotencyRow]) -> StoreResult<()> {
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let mut q = QueryBuilder::<Db<E>>::new("INSERT INTO idempotency_keys (user_id, key, request_hash, complaint_id, created_at) VALUES ");
        for (i, k) in chunk.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" });
            q.bind(&k.user_id).push(", ").bind(&k.key).push(", ").bind(&k.request_hash).push(", ").bind(&k.complaint_id).push(", ").bind(k.created_at).push(")");
        }
        insert_unique(conn, &mut q, "this Idempotency-Key is being used by another request").await?;
    }
    Ok(())
}

/// The rows an action's outcome adds beside its complaint: events, outbox messages,
/// notifications and label corrections. Gathered for one complaint or a whole batch, inserted
/// with a few multi-row statements.
#[derive(Debug, Default)]
pub struct OutcomeRows {
    events: Vec<(String, i64, i64, &'static str, String, String)>,
    messages: Vec<(String, &'static str, &'static str, i64, String)>,
    notifications: Vec<(&'static str, Option<String>, String, i64, String)>,
    labels: Vec<(String, i64, String)>,
    webhooks: Vec<(String, &'static str, i64, String)>,
}

impl OutcomeRows {
    /// Adds the rows of one outcome for complaint `id`, whose history so far ends at
    /// `last_seq`. Notifications and corrections are dated by the outcome's first event, or
    /// `fallback_at` (microseconds) when it has none.
    pub fn push(&mut self, id: &str, last_seq: i64, outcome: &Outcome, fallback_at: i64) -> StoreResult<()> {
        for (i, e) in outcome.events.iter().enumerate() {
            self.events.push((id.to_string(), last_seq + 1 + i as i64, e.at.as_microsecond(), e.action.as_str(), e.actor.id.clone(), encode_event(e)?));
        }
        // What the bank's other systems subscribe to is written with the change itself, so a
        // change is never told without having happened, nor happens untold.
        for n in redress_domain::delivery::webhook_notices(id, last_seq + 1, &outcome.events) {
            self.webhooks.push((id.to_string(), n.event.as_str(), n.at.as_microsecond(), n.payload.to_string()));
        }
        for m in &outcome.messages {
            let channel = redress_domain::delivery::DeliveryChannel::of_recipient(m.recipient.as_deref());
            self.messages.push((id.to_string(), m.kind.as_str(), channel.as_str(), m.created_at.as_microsecond(), encode(m)?));
        }
        let at = outcome.events.first().map_or(fallback_at, |e| e.at.as_microsecond());
        for n in &outcome.notifications {
            self.notifications.push((n.role.as_str(), n.department.clone(), id.to_string(), at, encode(n)?));
        }
        if let Some(l) = &outcome.label_correction {
            self.labels.push((id.to_string(), at, encode(l)?));
        }
        Ok(())
    }

    /// Adds the rows gathered in `other`.
    pub fn append(&mut self, mut other: OutcomeRows) {
        self.events.append(&mut other.events);
        self.messages.append(&mut other.messages);
        self.notifications.append(&mut other.notifications);
        self.labels.append(&mut other.labels);
        self.webhooks.append(&mut other.webhooks);
    }

    /// Inserts every row gathered.
    pub async fn insert<E: Engine>(&self, conn: &mut Connection<E>) -> StoreResult<()> {
        for chunk in self.events.chunks(ROWS_PER_STATEMENT) {
            let mut q = QueryBuilder::<Db<E>>::new("INSERT INTO events (complaint_id, seq, at, action, actor_id, body) VALUES ");
            for (i, (id, seq, at, action, actor, body)) in chunk.iter().enumerate() {
                q.push(if i == 0 { "(" } else { ", (" });
                q.bind(id).push(", ").bind(*seq).push(", ").bind(*at).push(", ").bind(*action).push(", ").bind(actor).push(", ").bind(body).push(")");
            }
            execute(conn, &mut q).await?;
        }
        for chunk in self.messages.chunks(ROWS_PER_STATEMENT) {
            // A new message is due at once.
            let mut q = QueryBuilder::<Db<E>>::new("INSERT INTO outbox (complaint_id, kind, channel, state, created_at, due_at, body) VALUES ");
            for (i, (id, kind, channel, at, body)) in chunk.iter().enumerate() {
                q.push(if i == 0 { "(" } else { ", (" });
                q.bind(id).push(", ").bind(*kind).push(", ").bind(*channel).push(", 'pending', ").bind(*at).push(", ").bind(*at).push(", ").bind(body).push(")");
            }
            execute(conn, &mut q).await?;
        }
        for chunk in self.notifications.chunks(ROWS_PER_STATEMENT) {
            let mut q = QueryBuilder::<Db<E>>::new("INSERT INTO notifications (role, department, complaint_id, created_at, body) VALUES ");
            for (i, (role, department, id, at, body)) in chunk.iter().enumerate() {
                q.push(if i == 0 { "(" } else { ", (" });
                q.bind(*role).push(", ").bind(department).push(", ").bind(id).push(", ").bind(*at).push(", ").bind(body).push(")");
            }
            execute(conn, &mut q).await?;
        }
        for chunk in self.webhooks.chunks(ROWS_PER_STATEMENT) {
            let mut q = QueryBuilder::<Db<E>>::new("INSERT INTO webhook_feed (complaint_id, event, at, payload, due_at) VALUES ");
            for (i, (id, event, at, payload)) in chunk.iter().enumerate() {
                q.push(if i == 0 { "(" } else { ", (" });
                q.bind(id).push(", ").bind(*event).push(", ").bind(*at).push(", ").bind(payload).push(", ").bind(*at).push(")");
            }
            execute(conn, &mut q).await?;
        }
        for chunk in self.labels.chunks(ROWS_PER_STATEMENT) {
            let mut q = QueryBuilder::<Db<E>>::new("INSERT INTO label_corrections (complaint_id, at, body) VALUES ");
            for (i, (id, at, body)) in chunk.iter().enumerate() {
                q.push(if i == 0 { "(" } else { ", (" });
                q.bind(id).push(", ").bind(*at).push(", ").bind(body).push(")");
            }
            execute(conn, &mut q).await?;
        }
        Ok(())
    }
}

/// What a save consuming a single-use link that was used already fails with
/// ([`StoreError::Duplicate`]).
pub const LINK_USED: &str = "this link was already used";

fn link_used() -> StoreError {
    StoreError::Duplicate(LINK_USED.into())
}

/// Whether a save failed because its single-use link was used already: then it failed before
/// writing anything (see [`save_change`]).
pub fn is_link_used(e: &StoreError) -> bool {
    matches!(e, StoreError::Duplicate(message) if message == LINK_USED)
}

/// A tracking code to store with a new complaint.
#[derive(Debug, Clone)]
pub struct TrackingCodeRow {
    /// The complaint.
    pub complaint_id: String,
    /// Hash of the code.
    pub code_hash: String,
}

/// Stores the tracking codes of new complaints, after their rows, in the transaction inserting
/// them.
pub async fn insert_tracking_codes<E: Engine>(conn: &mut Connection<E>, rows: &[TrackingCodeRow]) -> StoreResult<()> {
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let mut q = QueryBuilder::<Db<E>>::new("INSERT INTO tracking_codes (complaint_id, code_hash) VALUES ");
        for (i, row) in chunk.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" }).bind(&row.complaint_id).push(", ").bind(&row.code_hash).push(")");
        }
        insert_unique(conn, &mut q, "this complaint has a tracking code already").await?;
    }
    Ok(())
}

/// The hash of a complaint's tracking code, if it has one.
pub async fn tracking_code_hash<E: Engine>(conn: &mut Connection<E>, id: ComplaintId) -> StoreResult<Option<String>> {
    let mut q = QueryBuilder::<Db<E>>::new("SELECT code_hash FROM tracking_codes WHERE complaint_id = ");
    q.bind(id.to_string());
    fetch_optional(conn, &mut q).await?.map(|r| get(&r, 0)).transpose()
}

/// Changes a handler's open-complaint count by `delta`, never below zero.
pub async fn adjust_load<E: Engine>(conn: &mut Connection<E>, handler: &str, delta: i64) -> StoreResult<()> {
    let mut q = QueryBuilder::<Db<E>>::new(format!("UPDATE users SET open_load = {}(open_load + ", E::GREATEST));
    q.bind(delta).push(", 0) WHERE id = ").bind(handler);
    execute(conn, &mut q).await
}

/// Saves a changed complaint inside the caller's transaction: the record if its version is
/// still the expected one (else [`StoreError::Conflict`] or [`StoreError::NotFound`], before
/// anything is written), its statistics cells' difference, the handlers' loads, the attached
/// file and the outcome's rows. The text index is the engine's part: it gets the columns back
/// to update it.
///
/// A single-use link the change consumes is looked up first: if it was used already, the save
/// fails with [`StoreError::Duplicate`] ([`LINK_USED`]) before anything is written, so an
/// engine that commits several saves together may let it fail alone. It is recorded after the
/// record, and a concurrent save that recorded it first fails this one the same way (its
/// transaction then has to be rolled back).
pub async fn save_change<E: Engine>(conn: &mut Connection<E>, change: &Change) -> StoreResult<ComplaintColumns> {
    let cols = ComplaintColumns::of(&change.complaint)?;
    if let Some(link) = &change.consumed_link {
        let mut q = QueryBuilder::<Db<E>>::new("SELECT link_id FROM consumed_links WHERE link_id = ");
        q.bind(link);
        if fetch_optional(conn, &mut q).await?.is_some() {
            return Err(link_used());
        }
    }
    let mut q = QueryBuilder::<Db<E>>::new("UPDATE complaints SET status = ");
    q.bind(cols.status).push(", is_open = ").bind(cols.is_open).push(", being_handled = ").bind(cols.being_handled);
    q.push(", awaiting_approval = ").bind(cols.awaiting_approval);
    q.push(", department = ").bind(&cols.department).push(", handler_id = ").bind(&cols.handler_id);
    q.push(", business_type = ").bind(&cols.business_type).push(", cause = ").bind(&cols.cause);
    q.push(", severity = ").bind(&cols.severity).push(", due_state = ").bind(&cols.due_state).push(", watch_at = ").bind(&cols.watch_at);
    q.push(", version = ").bind(cols.version).push(", updated_at = ").bind(cols.updated_at).push(", body = ").bind(&cols.body);
    q.push(" WHERE id = ").bind(&cols.id).push(" AND version = ").bind(i64::from(change.expected_version));
    q.push(" RETURNING id");
    if fetch_optional(conn, &mut q).await?.is_none() {
        let mut exists = QueryBuilder::<Db<E>>::new("SELECT id FROM complaints WHERE id = ");
        exists.bind(&cols.id);
        return Err(if fetch_optional(conn, &mut exists).await?.is_some() { StoreError::Conflict } else { StoreError::NotFound });
    }
    // The cells before the handlers' rows, as every writer adds them (see `crate::stats`).
    crate::stats::add_cells::<E>(conn, change.stats.iter().cloned()).await?;
    let before = change.previous_handler.as_deref().filter(|_| change.was_open);
    let after = cols.handler_id.as_deref().filter(|_| cols.is_open);
    if before != after {
        // In a fixed order, so that two transfers in opposite directions cannot deadlock on
        // the users' rows.
        let mut adjustments: Vec<(&str, i64)> = before.map(|h| (h, -1)).into_iter().chain(after.map(|h| (h, 1))).collect();
        adjustments.sort_unstable();
        for (h, delta) in adjustments {
            adjust_load::<E>(conn, h, delta).await?;
        }
    }
    if let Some(file) = &change.attachment {
        put_attachment::<E>(conn, file).await?;
    }
    if let Some(link) = &change.consumed_link {
        let mut q = QueryBuilder::<Db<E>>::new("INSERT INTO consumed_links (link_id, complaint_id, at) VALUES (");
        q.bind(link).push(", ").bind(&cols.id).push(", ").bind(cols.updated_at).push(")");
        match <Db<E> as Run>::execute(conn, &mut q).await {
            Ok(()) => {}
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => return Err(link_used()),
            Err(e) => return Err(StoreError::db(e)),
        }
    }
    let mut q = QueryBuilder::<Db<E>>::new("SELECT COALESCE(MAX(seq), 0) FROM events WHERE complaint_id = ");
    q.bind(&cols.id);
    let last_seq: i64 = match fetch_optional(conn, &mut q).await? {
        Some(r) => get(&r, 0)?,
        None => 0,
    };
    let mut rows = OutcomeRows::default();
    rows.push(&cols.id, last_seq, &change.outcome, cols.updated_at)?;
    rows.insert::<E>(conn).await?;
    Ok(cols)
}
