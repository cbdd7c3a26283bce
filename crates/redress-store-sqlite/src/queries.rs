//! The SQL of registering, saving and listing.

use redress_domain::complaint::{ComplaintRef, Outcome, RegistrationContext, UserRef};
use redress_store::columns::{ComplaintColumns, complaint_id, decode_complaint, encode, encode_event, micros};
use redress_store::{Change, ComplaintFilter, ComplaintSummary, Cursor, Page, Registered, Registration, StoreError, StoreResult};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};

/// The complaint-number serial, read once per batch and written back at commit.
#[derive(Default)]
pub struct Serial {
    loaded: Option<i64>,
    next: i64,
}

impl Serial {
    async fn take(&mut self, conn: &mut SqliteConnection) -> StoreResult<u64> {
        if self.loaded.is_none() {
            let v: i64 = sqlx::query_scalar("SELECT value FROM serials WHERE name = 'complaint'")
                .fetch_one(&mut *conn)
                .await
                .map_err(StoreError::db)?;
            self.loaded = Some(v);
            self.next = v;
        }
        self.next += 1;
        Ok(self.next as u64)
    }

    /// Writes the last serial handed out.
    pub async fn store(&self, conn: &mut SqliteConnection) -> StoreResult<()> {
        if self.loaded.is_some_and(|v| v != self.next) {
            sqlx::query("UPDATE serials SET value = ? WHERE name = 'complaint'")
                .bind(self.next)
                .execute(&mut *conn)
                .await
                .map_err(StoreError::db)?;
        }
        Ok(())
    }
}

async fn body_by(conn: &mut SqliteConnection, sql: &'static str, key: &str) -> StoreResult<Option<String>> {
    let row = sqlx::query(sql).bind(key).fetch_optional(&mut *conn).await.map_err(StoreError::db)?;
    Ok(row.map(|r| r.get::<String, _>(0)))
}

/// Registers one complaint inside the open batch transaction.
pub async fn register(conn: &mut SqliteConnection, reg: Registration, serial: &mut Serial) -> StoreResult<Registered> {
    if let Some(key) = &reg.idempotency {
        let row = sqlx::query("SELECT request_hash, complaint_id FROM idempotency_keys WHERE user_id = ? AND key = ?")
            .bind(&key.user_id)
            .bind(&key.key)
            .fetch_optional(&mut *conn)
            .await
            .map_err(StoreError::db)?;
        if let Some(row) = row {
            if row.get::<&str, _>(0) != key.request_hash {
                return Err(StoreError::IdempotencyMismatch);
            }
            let id: String = row.get(1);
            let body = body_by(conn, "SELECT body FROM complaints WHERE id = ?", &id).await?.ok_or(StoreError::NotFound)?;
            return Ok(Registered::Replayed(Box::new(decode_complaint(&body)?)));
        }
    }
    if let Some(ext) = &reg.external_ref
        && let Some(body) = body_by(conn, "SELECT body FROM complaints WHERE external_ref = ?", ext).await?
    {
        return Ok(Registered::Replayed(Box::new(decode_complaint(&body)?)));
    }
    let duplicate_of = match &reg.duplicate_key {
        Some(key) => {
            let row = sqlx::query("SELECT id, number FROM complaints WHERE duplicate_key = ? AND being_handled = 1 ORDER BY received_at DESC LIMIT 1")
                .bind(key)
                .fetch_optional(&mut *conn)
                .await
                .map_err(StoreError::db)?;
            match row {
                Some(r) => Some(ComplaintRef { id: complaint_id(r.get::<&str, _>(0))?, number: r.get(1) }),
                None => None,
            }
        }
        None => None,
    };
    let handler = sqlx::query("SELECT id, name FROM users WHERE department = ? AND role = 'handler' AND active = 1 ORDER BY open_load, id LIMIT 1")
        .bind(&reg.department)
        .fetch_optional(&mut *conn)
        .await
        .map_err(StoreError::db)?
        .map(|r| UserRef { id: r.get(0), name: r.get(1) });
    let serial = serial.take(conn).await?;
    let ctx = RegistrationContext { id: reg.id, serial, handler, duplicate_of };
    let (complaint, outcome) = (reg.build)(ctx);
    let cols = ComplaintColumns::of(&complaint)?;
    let inserted = sqlx::query(
        "INSERT INTO complaints (id, number, status, is_open, being_handled, channel, received_at, department, handler_id, business_type, cause, severity, due_state, watch_at, duplicate_key, external_ref, version, updated_at, body) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&cols.id)
    .bind(&cols.number)
    .bind(cols.status)
    .bind(cols.is_open)
    .bind(cols.being_handled)
    .bind(cols.channel)
    .bind(cols.received_at)
    .bind(&cols.department)
    .bind(&cols.handler_id)
    .bind(&cols.business_type)
    .bind(&cols.cause)
    .bind(&cols.severity)
    .bind(&cols.due_state)
    .bind(cols.watch_at)
    .bind(&reg.duplicate_key)
    .bind(&cols.external_ref)
    .bind(cols.version)
    .bind(cols.updated_at)
    .bind(&cols.body)
    .execute(&mut *conn)
    .await;
    match inserted {
        Ok(_) => {}
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            return Err(StoreError::Duplicate(format!("a complaint with this number or external reference exists: {e}")));
        }
        Err(e) => return Err(StoreError::db(e)),
    }
    if let (Some(h), true) = (&cols.handler_id, cols.is_open) {
        adjust_load(conn, h, 1).await?;
    }
    write_outcome(conn, &cols.id, 0, &outcome).await?;
    if let Some(key) = &reg.idempotency {
        sqlx::query("INSERT INTO idempotency_keys (user_id, key, request_hash, complaint_id, created_at) VALUES (?, ?, ?, ?, ?)")
            .bind(&key.user_id)
            .bind(&key.key)
            .bind(&key.request_hash)
            .bind(&cols.id)
            .bind(cols.updated_at)
            .execute(&mut *conn)
            .await
            .map_err(StoreError::db)?;
    }
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
pub async fn save(conn: &mut SqliteConnection, change: Change) -> StoreResult<()> {
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
    write_outcome(conn, &cols.id, last_seq, &change.outcome).await
}

/// Lists complaints newest first with keyset pagination.
pub async fn list(conn: &mut SqliteConnection, f: &ComplaintFilter) -> StoreResult<Page<ComplaintSummary>> {
    let limit = f.limit.clamp(1, 200);
    let mut q: QueryBuilder<Sqlite> = QueryBuilder::new("SELECT body FROM complaints WHERE 1 = 1");
    if !f.statuses.is_empty() {
        q.push(" AND status IN (");
        let mut sep = q.separated(", ");
        for s in &f.statuses {
            sep.push_bind(s.as_str());
        }
        q.push(")");
    }
    if let Some(v) = &f.channel {
        q.push(" AND channel = ").push_bind(v.clone());
    }
    if let Some(v) = &f.department {
        q.push(" AND department = ").push_bind(v.clone());
    }
    if let Some(v) = &f.handler {
        q.push(" AND handler_id = ").push_bind(v.clone());
    }
    if let Some(v) = &f.severity {
        q.push(" AND severity = ").push_bind(v.clone());
    }
    if let Some(v) = &f.due_state {
        q.push(" AND due_state = ").push_bind(v.clone());
    }
    if let Some(v) = &f.business_type {
        q.push(" AND business_type LIKE ").push_bind(format!("{}%", v.replace(['%', '_'], "")));
    }
    if let Some(v) = f.received_from {
        q.push(" AND received_at >= ").push_bind(v.as_microsecond());
    }
    if let Some(v) = f.received_to {
        q.push(" AND received_at < ").push_bind(v.as_microsecond());
    }
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
