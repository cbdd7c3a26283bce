//! The SQL of registering, saving and listing.

use std::collections::HashMap;

use redress_domain::complaint::{Complaint, ComplaintRef, Outcome, RegistrationContext, UserRef};
use redress_store::columns::{ComplaintColumns, complaint_id, decode_complaint, encode, encode_event, micros};
use redress_store::{
    Change, ComplaintFilter, ComplaintSummary, Cursor, Page, Registered, Registration, SearchDocument, StoreError, StoreResult, TextIndex,
    TextUpdate,
};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};

/// Rows of a batch's registrations, inserted together at the end of the batch, and the keys a
/// later request in the same batch must see as if they were already in the table.
#[derive(Default)]
pub struct Pending {
    serial: Option<(i64, i64)>,
    complaints: Vec<(ComplaintColumns, Option<String>)>,
    events: Vec<(String, i64, i64, &'static str, String, String)>,
    outbox: Vec<(String, &'static str, i64, String)>,
    notifications: Vec<(&'static str, Option<String>, String, i64, String)>,
    idempotency: Vec<(String, String, String, String, i64)>,
    by_idempotency: HashMap<(String, String), (String, usize)>,
    by_external_ref: HashMap<String, usize>,
    open_by_duplicate_key: HashMap<String, ComplaintRef>,
    created: Vec<Complaint>,
    stored_idempotency: HashMap<(String, String), (String, String)>,
    stored_external_refs: HashMap<String, String>,
    handlers: HashMap<String, Vec<HandlerSlot>>,
    load_changes: HashMap<String, i64>,
    last_text_row: Option<i64>,
    text_rows: Vec<TextRowValues>,
    search_rows: Vec<(i64, [String; 4])>,
    band_terms: Vec<(i64, String)>,
}

/// A `text_rows` row waiting for the batch insert: id, complaint, received at, fingerprint,
/// reading.
type TextRowValues = (i64, String, i64, Option<Vec<u8>>, String);

/// An active handler and their open-complaint count as this batch sees it.
struct HandlerSlot {
    id: String,
    name: String,
    load: i64,
}

/// Rows per multi-row INSERT: far below SQLite's limit of 32,766 bound parameters.
const ROWS_PER_STATEMENT: usize = 400;

impl Pending {
    /// Reads, in a few statements for the whole batch, what its registrations need to know from
    /// the table: earlier idempotency keys, external references, open duplicates, and the
    /// active handlers of the departments involved with their loads.
    pub async fn prefetch(&mut self, conn: &mut SqliteConnection, regs: &[&Registration]) -> StoreResult<()> {
        let keys: Vec<_> = regs.iter().filter_map(|r| r.idempotency.as_ref()).collect();
        if !keys.is_empty() {
            let mut q: QueryBuilder<Sqlite> = QueryBuilder::new("SELECT user_id, key, request_hash, complaint_id FROM idempotency_keys WHERE (user_id, key) IN (VALUES ");
            let mut sep = q.separated(", ");
            for k in &keys {
                sep.push("(").push_bind_unseparated(k.user_id.clone()).push_unseparated(", ").push_bind_unseparated(k.key.clone()).push_unseparated(")");
            }
            q.push(")");
            for r in q.build().fetch_all(&mut *conn).await.map_err(StoreError::db)? {
                self.stored_idempotency.insert((r.get(0), r.get(1)), (r.get(2), r.get(3)));
            }
        }
        let refs: Vec<_> = regs.iter().filter_map(|r| r.external_ref.clone()).collect();
        if !refs.is_empty() {
            let mut q = select_in("SELECT external_ref, body FROM complaints WHERE external_ref IN (", refs);
            q.push(")");
            for r in q.build().fetch_all(&mut *conn).await.map_err(StoreError::db)? {
                self.stored_external_refs.insert(r.get(0), r.get(1));
            }
        }
        let dup_keys: Vec<_> = regs.iter().filter_map(|r| r.duplicate_key.clone()).collect();
        if !dup_keys.is_empty() {
            let mut q = select_in("SELECT duplicate_key, id, number FROM complaints WHERE being_handled = 1 AND duplicate_key IN (", dup_keys);
            // Oldest first, so the newest open complaint of a key is the one kept.
            q.push(") ORDER BY received_at");
            for r in q.build().fetch_all(&mut *conn).await.map_err(StoreError::db)? {
                let found = ComplaintRef { id: complaint_id(r.get::<&str, _>(1))?, number: r.get(2) };
                self.open_by_duplicate_key.insert(r.get(0), found);
            }
        }
        let mut departments: Vec<_> = regs.iter().map(|r| r.department.clone()).collect();
        departments.sort();
        departments.dedup();
        if !departments.is_empty() {
            let mut q = select_in("SELECT id, name, department, open_load FROM users WHERE role = 'handler' AND active = 1 AND department IN (", departments);
            q.push(")");
            for r in q.build().fetch_all(&mut *conn).await.map_err(StoreError::db)? {
                self.handlers.entry(r.get(2)).or_default().push(HandlerSlot { id: r.get(0), name: r.get(1), load: r.get(3) });
            }
        }
        Ok(())
    }

    /// The least-loaded active handler of a department (ties: the smallest id), now counted
    /// with one more complaint.
    fn take_least_loaded(&mut self, department: &str) -> Option<UserRef> {
        let slot = self.handlers.get_mut(department)?.iter_mut().min_by(|a, b| (a.load, &a.id).cmp(&(b.load, &b.id)))?;
        slot.load += 1;
        *self.load_changes.entry(slot.id.clone()).or_default() += 1;
        Some(UserRef { id: slot.id.clone(), name: slot.name.clone() })
    }

    fn give_back(&mut self, department: &str, handler: &str) {
        if let Some(slot) = self.handlers.get_mut(department).and_then(|hs| hs.iter_mut().find(|h| h.id == handler)) {
            slot.load -= 1;
        }
        *self.load_changes.entry(handler.to_string()).or_default() -= 1;
    }

    async fn next_serial(&mut self, conn: &mut SqliteConnection) -> StoreResult<u64> {
        let (_, next) = match &mut self.serial {
            Some(s) => s,
            None => {
                let v: i64 = sqlx::query_scalar("SELECT value FROM serials WHERE name = 'complaint'")
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(StoreError::db)?;
                self.serial.insert((v, v))
            }
        };
        *next += 1;
        Ok(*next as u64)
    }

    async fn next_text_row(&mut self, conn: &mut SqliteConnection) -> StoreResult<i64> {
        let last = match &mut self.last_text_row {
            Some(last) => last,
            None => {
                let v: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM text_rows").fetch_one(&mut *conn).await.map_err(StoreError::db)?;
                self.last_text_row.insert(v)
            }
        };
        *last += 1;
        Ok(*last)
    }

    /// Queues the text rows of a new complaint: its index entry, fingerprint bands and reading.
    async fn push_text(&mut self, conn: &mut SqliteConnection, cols: &ComplaintColumns, text: &TextIndex) -> StoreResult<()> {
        let row = self.next_text_row(conn).await?;
        self.text_rows.push((row, cols.id.clone(), cols.received_at, text.fingerprint.clone(), text.reading.to_string()));
        self.search_rows.push((row, text.document.fields().map(|tokens| tokens.join(" "))));
        if !text.band_keys.is_empty() {
            self.band_terms.push((row, band_terms(&text.band_keys)));
        }
        Ok(())
    }

    /// Inserts every pending row and records the last serial handed out.
    pub async fn flush(self, conn: &mut SqliteConnection) -> StoreResult<()> {
        for chunk in self.complaints.chunks(ROWS_PER_STATEMENT) {
            let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
                "INSERT INTO complaints (id, number, status, is_open, being_handled, channel, received_at, department, handler_id, business_type, cause, severity, due_state, watch_at, duplicate_key, external_ref, version, updated_at, body) ",
            );
            q.push_values(chunk, |mut b, (c, duplicate_key)| {
                b.push_bind(&c.id)
                    .push_bind(&c.number)
                    .push_bind(c.status)
                    .push_bind(c.is_open)
                    .push_bind(c.being_handled)
                    .push_bind(c.channel)
                    .push_bind(c.received_at)
                    .push_bind(&c.department)
                    .push_bind(&c.handler_id)
                    .push_bind(&c.business_type)
                    .push_bind(&c.cause)
                    .push_bind(&c.severity)
                    .push_bind(&c.due_state)
                    .push_bind(c.watch_at)
                    .push_bind(duplicate_key)
                    .push_bind(&c.external_ref)
                    .push_bind(c.version)
                    .push_bind(c.updated_at)
                    .push_bind(&c.body);
            });
            execute(conn, q).await?;
        }
        for chunk in self.text_rows.chunks(ROWS_PER_STATEMENT) {
            let mut q: QueryBuilder<Sqlite> = QueryBuilder::new("INSERT INTO text_rows (id, complaint_id, received_at, fingerprint, reading) ");
            q.push_values(chunk, |mut b, (row, id, at, fingerprint, reading)| {
                b.push_bind(row).push_bind(id).push_bind(at).push_bind(fingerprint).push_bind(reading);
            });
            execute(conn, q).await?;
        }
        for chunk in self.search_rows.chunks(ROWS_PER_STATEMENT) {
            let mut q: QueryBuilder<Sqlite> = QueryBuilder::new("INSERT INTO text_search (rowid, title, narrative, request, notes) ");
            q.push_values(chunk, |mut b, (row, [title, narrative, request, notes])| {
                b.push_bind(row).push_bind(title).push_bind(narrative).push_bind(request).push_bind(notes);
            });
            execute(conn, q).await?;
        }
        for chunk in self.band_terms.chunks(ROWS_PER_STATEMENT) {
            let mut q: QueryBuilder<Sqlite> = QueryBuilder::new("INSERT INTO text_band_terms (rowid, keys) ");
            q.push_values(chunk, |mut b, (row, terms)| {
                b.push_bind(row).push_bind(terms);
            });
            execute(conn, q).await?;
        }
        for chunk in self.events.chunks(ROWS_PER_STATEMENT) {
            let mut q: QueryBuilder<Sqlite> = QueryBuilder::new("INSERT INTO events (complaint_id, seq, at, action, actor_id, body) ");
            q.push_values(chunk, |mut b, (id, seq, at, action, actor, body)| {
                b.push_bind(id).push_bind(seq).push_bind(at).push_bind(*action).push_bind(actor).push_bind(body);
            });
            execute(conn, q).await?;
        }
        for chunk in self.outbox.chunks(ROWS_PER_STATEMENT) {
            let mut q: QueryBuilder<Sqlite> = QueryBuilder::new("INSERT INTO outbox (complaint_id, kind, state, created_at, body) ");
            q.push_values(chunk, |mut b, (id, kind, at, body)| {
                b.push_bind(id).push_bind(*kind).push_bind("pending").push_bind(at).push_bind(body);
            });
            execute(conn, q).await?;
        }
        for chunk in self.notifications.chunks(ROWS_PER_STATEMENT) {
            let mut q: QueryBuilder<Sqlite> = QueryBuilder::new("INSERT INTO notifications (role, department, complaint_id, created_at, body) ");
            q.push_values(chunk, |mut b, (role, department, id, at, body)| {
                b.push_bind(*role).push_bind(department).push_bind(id).push_bind(at).push_bind(body);
            });
            execute(conn, q).await?;
        }
        for chunk in self.idempotency.chunks(ROWS_PER_STATEMENT) {
            let mut q: QueryBuilder<Sqlite> = QueryBuilder::new("INSERT INTO idempotency_keys (user_id, key, request_hash, complaint_id, created_at) ");
            q.push_values(chunk, |mut b, (user, key, hash, id, at)| {
                b.push_bind(user).push_bind(key).push_bind(hash).push_bind(id).push_bind(at);
            });
            execute(conn, q).await?;
        }
        // Every handler whose load changed, in one statement.
        let changes: Vec<_> = self.load_changes.iter().filter(|(_, change)| **change != 0).collect();
        for chunk in changes.chunks(ROWS_PER_STATEMENT) {
            let mut q: QueryBuilder<Sqlite> = QueryBuilder::new("WITH change (id, delta) AS (");
            q.push_values(chunk, |mut b, (id, delta)| {
                b.push_bind((*id).clone()).push_bind(**delta);
            });
            q.push(
                ") UPDATE users SET open_load = MAX(open_load + (SELECT delta FROM change WHERE change.id = users.id), 0) \
                 WHERE id IN (SELECT id FROM change)",
            );
            execute(conn, q).await?;
        }
        if let Some((loaded, next)) = self.serial
            && loaded != next
        {
            sqlx::query("UPDATE serials SET value = ? WHERE name = 'complaint'")
                .bind(next)
                .execute(&mut *conn)
                .await
                .map_err(StoreError::db)?;
        }
        Ok(())
    }
}

/// A query that ends in an open `IN (` list, with the values bound; the caller closes it.
fn select_in(prefix: &'static str, values: Vec<String>) -> QueryBuilder<Sqlite> {
    let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(prefix);
    let mut sep = q.separated(", ");
    for v in values {
        sep.push_bind(v);
    }
    q
}

async fn execute(conn: &mut SqliteConnection, mut q: QueryBuilder<Sqlite>) -> StoreResult<()> {
    match q.build().execute(&mut *conn).await {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(StoreError::Duplicate(format!("a unique value already exists: {e}"))),
        Err(e) => Err(StoreError::db(e)),
    }
}

async fn body_by(conn: &mut SqliteConnection, sql: &'static str, key: &str) -> StoreResult<Option<String>> {
    let row = sqlx::query(sql).bind(key).fetch_optional(&mut *conn).await.map_err(StoreError::db)?;
    Ok(row.map(|r| r.get::<String, _>(0)))
}

/// Registers one complaint inside the open batch transaction; its rows wait in `pending`.
/// Registers one complaint inside the open batch transaction, after [`Pending::prefetch`]; its
/// rows wait in `pending`.
pub async fn register(conn: &mut SqliteConnection, reg: &Registration, pending: &mut Pending) -> StoreResult<Registered> {
    if let Some(key) = &reg.idempotency {
        let id = (key.user_id.clone(), key.key.clone());
        if let Some((hash, index)) = pending.by_idempotency.get(&id) {
            if *hash != key.request_hash {
                return Err(StoreError::IdempotencyMismatch);
            }
            return Ok(Registered::Replayed(Box::new(pending.created[*index].clone())));
        }
        if let Some((hash, complaint)) = pending.stored_idempotency.get(&id) {
            if *hash != key.request_hash {
                return Err(StoreError::IdempotencyMismatch);
            }
            let body = body_by(conn, "SELECT body FROM complaints WHERE id = ?", complaint).await?.ok_or(StoreError::NotFound)?;
            return Ok(Registered::Replayed(Box::new(decode_complaint(&body)?)));
        }
    }
    if let Some(ext) = &reg.external_ref {
        if let Some(index) = pending.by_external_ref.get(ext) {
            return Ok(Registered::Replayed(Box::new(pending.created[*index].clone())));
        }
        if let Some(body) = pending.stored_external_refs.get(ext) {
            return Ok(Registered::Replayed(Box::new(decode_complaint(body)?)));
        }
    }
    let duplicate_of = reg.duplicate_key.as_ref().and_then(|k| pending.open_by_duplicate_key.get(k).cloned());
    let handler = pending.take_least_loaded(&reg.department);
    let serial = pending.next_serial(conn).await?;
    let ctx = RegistrationContext { id: reg.id, serial, handler: handler.clone(), duplicate_of };
    let (complaint, outcome) = (reg.build)(ctx);
    let cols = ComplaintColumns::of(&complaint)?;
    // A complaint merged on arrival is not open: it does not count against the handler.
    if let Some(h) = &handler
        && !(cols.is_open && cols.handler_id.as_deref() == Some(h.id.as_str()))
    {
        pending.give_back(&reg.department, &h.id);
    }
    let index = pending.created.len();
    if let Some(key) = &reg.idempotency {
        pending.by_idempotency.insert((key.user_id.clone(), key.key.clone()), (key.request_hash.clone(), index));
        pending.idempotency.push((key.user_id.clone(), key.key.clone(), key.request_hash.clone(), cols.id.clone(), cols.updated_at));
    }
    if let Some(ext) = &cols.external_ref {
        pending.by_external_ref.insert(ext.clone(), index);
    }
    if let Some(key) = &reg.duplicate_key
        && cols.being_handled
    {
        pending.open_by_duplicate_key.insert(key.clone(), ComplaintRef { id: complaint.id, number: complaint.number.clone() });
    }
    let at = outcome.events.first().map_or(cols.updated_at, |e| e.at.as_microsecond());
    for (i, e) in outcome.events.iter().enumerate() {
        pending.events.push((cols.id.clone(), 1 + i as i64, e.at.as_microsecond(), e.action.as_str(), e.actor.id.clone(), encode_event(e)?));
    }
    for m in &outcome.messages {
        pending.outbox.push((cols.id.clone(), m.kind.as_str(), m.created_at.as_microsecond(), encode(m)?));
    }
    for n in &outcome.notifications {
        pending.notifications.push((n.role.as_str(), n.department.clone(), cols.id.clone(), at, encode(n)?));
    }
    pending.push_text(conn, &cols, &reg.text).await?;
    pending.complaints.push((cols, reg.duplicate_key.clone()));
    pending.created.push(complaint.clone());
    Ok(Registered::Created(Box::new(complaint)))
}

async fn adjust_load(conn: &mut SqliteConnection, handler: &str, delta: i64) -> StoreResult<()> {
    sqlx::query("UPDATE users SET open_load = MAX(open_load + ?, 0) WHERE id = ?")
        .bind(delta)
        .bind(handler)
        .execute(&mut *conn)
        .await
        .map_err(StoreError::db)?;
    Ok(())
}

async fn write_outcome(conn: &mut SqliteConnection, id: &str, last_seq: i64, outcome: &Outcome) -> StoreResult<()> {
    for (i, e) in outcome.events.iter().enumerate() {
        sqlx::query("INSERT INTO events (complaint_id, seq, at, action, actor_id, body) VALUES (?, ?, ?, ?, ?, ?)")
            .bind(id)
            .bind(last_seq + 1 + i as i64)
            .bind(e.at.as_microsecond())
            .bind(e.action.as_str())
            .bind(&e.actor.id)
            .bind(encode_event(e)?)
            .execute(&mut *conn)
            .await
            .map_err(StoreError::db)?;
    }
    for m in &outcome.messages {
        sqlx::query("INSERT INTO outbox (complaint_id, kind, state, created_at, body) VALUES (?, ?, 'pending', ?, ?)")
            .bind(id)
            .bind(m.kind.as_str())
            .bind(m.created_at.as_microsecond())
            .bind(encode(m)?)
            .execute(&mut *conn)
            .await
            .map_err(StoreError::db)?;
    }
    let at = outcome.events.first().map(|e| e.at.as_microsecond()).unwrap_or_default();
    for n in &outcome.notifications {
        sqlx::query("INSERT INTO notifications (role, department, complaint_id, created_at, body) VALUES (?, ?, ?, ?, ?)")
            .bind(n.role.as_str())
            .bind(&n.department)
            .bind(id)
            .bind(at)
            .bind(encode(n)?)
            .execute(&mut *conn)
            .await
            .map_err(StoreError::db)?;
    }
    if let Some(l) = &outcome.label_correction {
        sqlx::query("INSERT INTO label_corrections (complaint_id, at, body) VALUES (?, ?, ?)")
            .bind(id)
            .bind(at)
            .bind(encode(l)?)
            .execute(&mut *conn)
            .await
            .map_err(StoreError::db)?;
    }
    Ok(())
}

/// Saves one changed complaint inside the open batch transaction.
pub async fn save(conn: &mut SqliteConnection, change: &Change) -> StoreResult<()> {
    let cols = ComplaintColumns::of(&change.complaint)?;
    let updated = sqlx::query(
        "UPDATE complaints SET status = ?, is_open = ?, being_handled = ?, department = ?, handler_id = ?, business_type = ?, cause = ?, severity = ?, due_state = ?, watch_at = ?, version = ?, updated_at = ?, body = ? \
         WHERE id = ? AND version = ?",
    )
    .bind(cols.status)
    .bind(cols.is_open)
    .bind(cols.being_handled)
    .bind(&cols.department)
    .bind(&cols.handler_id)
    .bind(&cols.business_type)
    .bind(&cols.cause)
    .bind(&cols.severity)
    .bind(&cols.due_state)
    .bind(cols.watch_at)
    .bind(cols.version)
    .bind(cols.updated_at)
    .bind(&cols.body)
    .bind(&cols.id)
    .bind(i64::from(change.expected_version))
    .execute(&mut *conn)
    .await
    .map_err(StoreError::db)?;
    if updated.rows_affected() == 0 {
        let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM complaints WHERE id = ?")
            .bind(&cols.id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(StoreError::db)?;
        return Err(if exists.is_some() { StoreError::Conflict } else { StoreError::NotFound });
    }
    let before = change.previous_handler.as_deref().filter(|_| change.was_open);
    let after = cols.handler_id.as_deref().filter(|_| cols.is_open);
    if before != after {
        if let Some(h) = before {
            adjust_load(conn, h, -1).await?;
        }
        if let Some(h) = after {
            adjust_load(conn, h, 1).await?;
        }
    }
    let last_seq: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM events WHERE complaint_id = ?")
        .bind(&cols.id)
        .fetch_one(&mut *conn)
        .await
        .map_err(StoreError::db)?;
    if let Some(text) = &change.text {
        update_text(conn, &cols, text).await?;
    }
    write_outcome(conn, &cols.id, last_seq, &change.outcome).await
}

/// Replaces a complaint's index entry (and reading) after its text changed; indexes it if it
/// never was (a complaint stored before the index existed).
async fn update_text(conn: &mut SqliteConnection, cols: &ComplaintColumns, text: &TextUpdate) -> StoreResult<()> {
    let row: Option<i64> = sqlx::query_scalar("SELECT id FROM text_rows WHERE complaint_id = ?")
        .bind(&cols.id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(StoreError::db)?;
    let row = match row {
        Some(row) => {
            sqlx::query("DELETE FROM text_search WHERE rowid = ?").bind(row).execute(&mut *conn).await.map_err(StoreError::db)?;
            if let Some(reading) = &text.reading {
                sqlx::query("UPDATE text_rows SET reading = ? WHERE id = ?")
                    .bind(reading.to_string())
                    .bind(row)
                    .execute(&mut *conn)
                    .await
                    .map_err(StoreError::db)?;
            }
            row
        }
        None => sqlx::query_scalar("INSERT INTO text_rows (complaint_id, received_at, reading) VALUES (?, ?, ?) RETURNING id")
            .bind(&cols.id)
            .bind(cols.received_at)
            .bind(text.reading.as_ref().map_or_else(|| "{}".to_string(), |r| r.to_string()))
            .fetch_one(&mut *conn)
            .await
            .map_err(StoreError::db)?,
    };
    insert_search_row(conn, row, &text.document).await
}

/// The full-text term of a fingerprint band key: `b` and the key's 16 hex digits, as migration
/// 4 wrote the keys of earlier rows.
pub fn band_term(key: i64) -> String {
    format!("b{:016x}", key as u64)
}

/// The `text_band_terms` document of a complaint: its distinct band terms.
pub fn band_terms(keys: &[i64]) -> String {
    let mut keys = keys.to_vec();
    keys.sort_unstable();
    keys.dedup();
    keys.into_iter().map(band_term).collect::<Vec<_>>().join(" ")
}

/// Inserts one complaint's full-text row (its tokens per field) under text row `row`.
pub async fn insert_search_row(conn: &mut SqliteConnection, row: i64, document: &SearchDocument) -> StoreResult<()> {
    let [title, narrative, request, notes] = document.fields().map(|t| t.join(" "));
    sqlx::query("INSERT INTO text_search (rowid, title, narrative, request, notes) VALUES (?, ?, ?, ?, ?)")
        .bind(row)
        .bind(title)
        .bind(narrative)
        .bind(request)
        .bind(notes)
        .execute(&mut *conn)
        .await
        .map_err(StoreError::db)?;
    Ok(())
}

/// Lists complaints newest first with keyset pagination.
pub async fn list(conn: &mut SqliteConnection, f: &ComplaintFilter) -> StoreResult<Page<ComplaintSummary>> {
    let limit = f.limit.clamp(1, 200);
    let mut q: QueryBuilder<Sqlite> = QueryBuilder::new("SELECT body FROM complaints WHERE 1 = 1");
    push_filter(&mut q, f, "");
    if let Some(c) = &f.after {
        let at = c.received_at.as_microsecond();
        q.push(" AND (received_at < ").push_bind(at);
        q.push(" OR (received_at = ").push_bind(at);
        q.push(" AND id < ").push_bind(c.id.to_string());
        q.push("))");
    }
    q.push(" ORDER BY received_at DESC, id DESC LIMIT ").push_bind(i64::from(limit));
    let rows = q.build().fetch_all(&mut *conn).await.map_err(StoreError::db)?;
    let mut items = Vec::with_capacity(rows.len());
    for r in &rows {
        items.push(ComplaintSummary::from(&decode_complaint(r.get::<&str, _>(0))?));
    }
    let next = if items.len() as u32 == limit {
        items.last().map(|s| Cursor { received_at: s.received_at, id: s.id })
    } else {
        None
    };
    let _ = micros;
    Ok(Page { items, next })
}

/// Appends the filter's conditions (`AND …`) for complaint columns qualified by `p` (`""` or
/// `"c."`); the cursor and limit are the caller's.
pub fn push_filter(q: &mut QueryBuilder<Sqlite>, f: &ComplaintFilter, p: &str) {
    if !f.statuses.is_empty() {
        q.push(format!(" AND {p}status IN ("));
        let mut sep = q.separated(", ");
        for s in &f.statuses {
            sep.push_bind(s.as_str());
        }
        q.push(")");
    }
    if let Some(v) = &f.channel {
        q.push(format!(" AND {p}channel = ")).push_bind(v.clone());
    }
    if let Some(v) = &f.department {
        q.push(format!(" AND {p}department = ")).push_bind(v.clone());
    }
    if !f.departments.is_empty() {
        q.push(format!(" AND {p}department IN ("));
        let mut sep = q.separated(", ");
        for d in &f.departments {
            sep.push_bind(d.clone());
        }
        q.push(")");
    }
    if let Some(v) = &f.handler {
        q.push(format!(" AND {p}handler_id = ")).push_bind(v.clone());
    }
    if let Some(v) = &f.cause {
        q.push(format!(" AND {p}cause LIKE ")).push_bind(format!("{}%", v.replace(['%', '_'], "")));
    }
    if let Some(v) = &f.severity {
        q.push(format!(" AND {p}severity = ")).push_bind(v.clone());
    }
    if let Some(v) = &f.due_state {
        q.push(format!(" AND {p}due_state = ")).push_bind(v.clone());
    }
    if let Some(v) = &f.business_type {
        q.push(format!(" AND {p}business_type LIKE ")).push_bind(format!("{}%", v.replace(['%', '_'], "")));
    }
    if let Some(v) = f.received_from {
        q.push(format!(" AND {p}received_at >= ")).push_bind(v.as_microsecond());
    }
    if let Some(v) = f.received_to {
        q.push(format!(" AND {p}received_at < ")).push_bind(v.as_microsecond());
    }
}
