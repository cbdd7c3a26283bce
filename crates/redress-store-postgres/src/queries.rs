//! The SQL of registering, saving and listing.

use redress_domain::complaint::{ComplaintRef, Outcome, RegistrationContext, UserRef};
use redress_store::columns::{ComplaintColumns, complaint_id, decode_complaint, encode, encode_event};
use redress_store::{
    Change, ComplaintFilter, ComplaintSummary, Cursor, IdempotencyKey, Page, Registered, Registration, SearchDocument, StoreError,
    StoreResult, TextIndex, TextUpdate,
};
use sqlx::{Connection, PgConnection, PgPool, Postgres, QueryBuilder, Row};

/// Why one registration attempt did not complete.
enum Failed {
    /// A concurrent registration with the same idempotency key or external reference won the
    /// race; the caller should look it up again.
    Raced(String),
    /// Any other failure.
    Error(StoreError),
}

impl From<StoreError> for Failed {
    fn from(e: StoreError) -> Self {
        Failed::Error(e)
    }
}

fn db(e: sqlx::Error) -> StoreError {
    StoreError::db(e)
}

async fn body_by(conn: &mut PgConnection, sql: &'static str, key: &str) -> StoreResult<Option<String>> {
    let row = sqlx::query(sql).bind(key).fetch_optional(&mut *conn).await.map_err(db)?;
    row.map(|r| r.try_get::<String, _>(0).map_err(db)).transpose()
}

/// The complaint an earlier request with the same idempotency key or external reference
/// registered, if any.
async fn replay(conn: &mut PgConnection, idempotency: Option<&IdempotencyKey>, external_ref: Option<&str>) -> StoreResult<Option<Registered>> {
    if let Some(key) = idempotency {
        let row = sqlx::query("SELECT request_hash, complaint_id FROM idempotency_keys WHERE user_id = $1 AND key = $2")
            .bind(&key.user_id)
            .bind(&key.key)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)?;
        if let Some(row) = row {
            if row.try_get::<&str, _>(0).map_err(db)? != key.request_hash {
                return Err(StoreError::IdempotencyMismatch);
            }
            let id: String = row.try_get(1).map_err(db)?;
            let body = body_by(conn, "SELECT body FROM complaints WHERE id = $1", &id).await?.ok_or(StoreError::NotFound)?;
            return Ok(Some(Registered::Replayed(Box::new(decode_complaint(&body)?))));
        }
    }
    if let Some(ext) = external_ref
        && let Some(body) = body_by(conn, "SELECT body FROM complaints WHERE external_ref = $1", ext).await?
    {
        return Ok(Some(Registered::Replayed(Box::new(decode_complaint(&body)?))));
    }
    Ok(None)
}

/// Registers one complaint in its own transaction.
///
/// Two identical requests (same idempotency key or external reference) racing each other both
/// miss the replay lookup; the later one then hits the unique index, is rolled back, and
/// replays the complaint the first one committed.
pub async fn register(pool: &PgPool, reg: Registration) -> StoreResult<Registered> {
    let idempotency = reg.idempotency.clone();
    let external_ref = reg.external_ref.clone();
    let mut conn = pool.acquire().await.map_err(db)?;
    let mut tx = conn.begin().await.map_err(db)?;
    match register_in(&mut tx, reg).await {
        Ok(registered) => {
            tx.commit().await.map_err(db)?;
            Ok(registered)
        }
        Err(Failed::Error(e)) => {
            let _ = tx.rollback().await;
            Err(e)
        }
        Err(Failed::Raced(message)) => {
            tx.rollback().await.map_err(db)?;
            match replay(&mut conn, idempotency.as_ref(), external_ref.as_deref()).await? {
                Some(replayed) => Ok(replayed),
                None => Err(StoreError::Duplicate(message)),
            }
        }
    }
}

async fn register_in(conn: &mut PgConnection, reg: Registration) -> Result<Registered, Failed> {
    if let Some(replayed) = replay(conn, reg.idempotency.as_ref(), reg.external_ref.as_deref()).await? {
        return Ok(replayed);
    }
    let duplicate_of = match &reg.duplicate_key {
        Some(key) => {
            let row = sqlx::query(
                "SELECT id, number FROM complaints WHERE duplicate_key = $1 AND being_handled ORDER BY received_at DESC LIMIT 1",
            )
            .bind(key)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)?;
            match row {
                Some(r) => Some(ComplaintRef {
                    id: complaint_id(r.try_get::<&str, _>(0).map_err(db)?)?,
                    number: r.try_get(1).map_err(db)?,
                }),
                None => None,
            }
        }
        None => None,
    };
    let handler = sqlx::query(
        "SELECT id, name FROM users WHERE department = $1 AND role = 'handler' AND active ORDER BY open_load, id LIMIT 1",
    )
    .bind(&reg.department)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?
    .map(|r| -> StoreResult<UserRef> { Ok(UserRef { id: r.try_get(0).map_err(db)?, name: r.try_get(1).map_err(db)? }) })
    .transpose()?;
    let serial: i64 = sqlx::query_scalar("SELECT nextval('complaint_serial')").fetch_one(&mut *conn).await.map_err(db)?;
    let serial = u64::try_from(serial).map_err(|_| StoreError::Corrupt(format!("complaint serial {serial} is negative")))?;
    let ctx = RegistrationContext { id: reg.id, serial, handler, duplicate_of };
    let (complaint, outcome) = (reg.build)(ctx);
    let cols = ComplaintColumns::of(&complaint)?;
    let inserted = sqlx::query(
        "INSERT INTO complaints (id, number, status, is_open, being_handled, channel, received_at, department, handler_id, business_type, cause, severity, due_state, watch_at, duplicate_key, external_ref, version, updated_at, body) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
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
            let message = format!("a complaint with this number or external reference exists: {e}");
            return Err(if reg.idempotency.is_some() || reg.external_ref.is_some() {
                Failed::Raced(message)
            } else {
                Failed::Error(StoreError::Duplicate(message))
            });
        }
        Err(e) => return Err(db(e).into()),
    }
    write_outcome(conn, &cols.id, 0, &outcome).await?;
    insert_text(conn, &cols, &reg.text).await?;
    if let Some(key) = &reg.idempotency {
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (user_id, key, request_hash, complaint_id, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&key.user_id)
        .bind(&key.key)
        .bind(&key.request_hash)
        .bind(&cols.id)
        .bind(cols.updated_at)
        .execute(&mut *conn)
        .await;
        match inserted {
            Ok(_) => {}
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(Failed::Raced(format!("this Idempotency-Key is being used by another request: {e}")));
            }
            Err(e) => return Err(db(e).into()),
        }
    }
    // Last, so the handler's row stays locked only for the commit: concurrent registrations
    // for the same department queue on it.
    if let (Some(h), true) = (&cols.handler_id, cols.is_open) {
        adjust_load(conn, h, 1).await?;
    }
    Ok(Registered::Created(Box::new(complaint)))
}

async fn adjust_load(conn: &mut PgConnection, handler: &str, delta: i64) -> StoreResult<()> {
    sqlx::query("UPDATE users SET open_load = GREATEST(open_load + $1, 0) WHERE id = $2")
        .bind(delta)
        .bind(handler)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    Ok(())
}

async fn write_outcome(conn: &mut PgConnection, id: &str, last_seq: i64, outcome: &Outcome) -> StoreResult<()> {
    // All of an action's events in one statement.
    if !outcome.events.is_empty() {
        let mut seqs = Vec::with_capacity(outcome.events.len());
        let mut ats = Vec::with_capacity(outcome.events.len());
        let mut actions = Vec::with_capacity(outcome.events.len());
        let mut actors = Vec::with_capacity(outcome.events.len());
        let mut bodies = Vec::with_capacity(outcome.events.len());
        for (i, e) in outcome.events.iter().enumerate() {
            seqs.push(last_seq + 1 + i as i64);
            ats.push(e.at.as_microsecond());
            actions.push(e.action.as_str().to_string());
            actors.push(e.actor.id.clone());
            bodies.push(encode_event(e)?);
        }
        sqlx::query(
            "INSERT INTO events (complaint_id, seq, at, action, actor_id, body) \
             SELECT $1, * FROM UNNEST($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[])",
        )
        .bind(id)
        .bind(seqs)
        .bind(ats)
        .bind(actions)
        .bind(actors)
        .bind(bodies)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    }
    for m in &outcome.messages {
        sqlx::query("INSERT INTO outbox (complaint_id, kind, state, created_at, body) VALUES ($1, $2, 'pending', $3, $4)")
            .bind(id)
            .bind(m.kind.as_str())
            .bind(m.created_at.as_microsecond())
            .bind(encode(m)?)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
    }
    let at = outcome.events.first().map(|e| e.at.as_microsecond()).unwrap_or_default();
    for n in &outcome.notifications {
        sqlx::query("INSERT INTO notifications (role, department, complaint_id, created_at, body) VALUES ($1, $2, $3, $4, $5)")
            .bind(n.role.as_str())
            .bind(&n.department)
            .bind(id)
            .bind(at)
            .bind(encode(n)?)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
    }
    if let Some(l) = &outcome.label_correction {
        sqlx::query("INSERT INTO label_corrections (complaint_id, at, body) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(at)
            .bind(encode(l)?)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
    }
    Ok(())
}

/// Saves one changed complaint in its own transaction.
pub async fn save(pool: &PgPool, change: Change) -> StoreResult<()> {
    let mut tx = pool.begin().await.map_err(db)?;
    match save_in(&mut tx, change).await {
        Ok(()) => tx.commit().await.map_err(db),
        Err(e) => {
            let _ = tx.rollback().await;
            Err(e)
        }
    }
}

async fn save_in(conn: &mut PgConnection, change: Change) -> StoreResult<()> {
    let cols = ComplaintColumns::of(&change.complaint)?;
    let updated = sqlx::query(
        "UPDATE complaints SET status = $1, is_open = $2, being_handled = $3, department = $4, handler_id = $5, business_type = $6, cause = $7, severity = $8, due_state = $9, watch_at = $10, version = $11, updated_at = $12, body = $13 \
         WHERE id = $14 AND version = $15",
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
    .map_err(db)?;
    if updated.rows_affected() == 0 {
        let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM complaints WHERE id = $1")
            .bind(&cols.id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)?;
        return Err(if exists.is_some() { StoreError::Conflict } else { StoreError::NotFound });
    }
    let before = change.previous_handler.as_deref().filter(|_| change.was_open);
    let after = cols.handler_id.as_deref().filter(|_| cols.is_open);
    if before != after {
        // Lock the two users' rows in a fixed order, so that two transfers in opposite
        // directions cannot deadlock.
        let mut adjustments: Vec<(&str, i64)> = before.map(|h| (h, -1)).into_iter().chain(after.map(|h| (h, 1))).collect();
        adjustments.sort_unstable();
        for (h, delta) in adjustments {
            adjust_load(conn, h, delta).await?;
        }
    }
    let last_seq: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM events WHERE complaint_id = $1")
        .bind(&cols.id)
        .fetch_one(&mut *conn)
        .await
        .map_err(db)?;
    if let Some(text) = &change.text {
        upsert_text(conn, &cols, text).await?;
    }
    write_outcome(conn, &cols.id, last_seq, &change.outcome).await
}

/// Lists complaints newest first with keyset pagination.
pub async fn list(conn: &mut PgConnection, f: &ComplaintFilter) -> StoreResult<Page<ComplaintSummary>> {
    let limit = f.limit.clamp(1, 200);
    let mut q: QueryBuilder<Postgres> = QueryBuilder::new("SELECT body FROM complaints WHERE 1 = 1");
    push_filter(&mut q, f, "");
    if let Some(c) = &f.after {
        let at = c.received_at.as_microsecond();
        q.push(" AND (received_at < ").push_bind(at);
        q.push(" OR (received_at = ").push_bind(at);
        q.push(" AND id < ").push_bind(c.id.to_string());
        q.push("))");
    }
    q.push(" ORDER BY received_at DESC, id DESC LIMIT ").push_bind(i64::from(limit));
    let rows = q.build().fetch_all(&mut *conn).await.map_err(db)?;
    let mut items = Vec::with_capacity(rows.len());
    for r in &rows {
        items.push(ComplaintSummary::from(&decode_complaint(r.try_get::<&str, _>(0).map_err(db)?)?));
    }
    let next = if items.len() as u32 == limit {
        items.last().map(|s| Cursor { received_at: s.received_at, id: s.id })
    } else {
        None
    };
    Ok(Page { items, next })
}

/// Appends the filter's conditions (`AND …`) for complaint columns qualified by `p` (`""` or
/// `"c."`); the cursor and limit are the caller's.
pub fn push_filter(q: &mut QueryBuilder<Postgres>, f: &ComplaintFilter, p: &str) {
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
        q.push(format!(" AND {p}department = ANY(")).push_bind(f.departments.clone()).push(")");
    }
    if let Some(v) = &f.handler {
        q.push(format!(" AND {p}handler_id = ")).push_bind(v.clone());
    }
    if let Some(v) = &f.severity {
        q.push(format!(" AND {p}severity = ")).push_bind(v.clone());
    }
    if let Some(v) = &f.due_state {
        q.push(format!(" AND {p}due_state = ")).push_bind(v.clone());
    }
    // Case-insensitive without escape characters, like SQLite's default LIKE.
    if let Some(v) = &f.business_type {
        q.push(format!(" AND {p}business_type ILIKE ")).push_bind(format!("{}%", v.replace(['%', '_'], "")));
        q.push(" ESCAPE ''");
    }
    if let Some(v) = &f.cause {
        q.push(format!(" AND {p}cause ILIKE ")).push_bind(format!("{}%", v.replace(['%', '_'], "")));
        q.push(" ESCAPE ''");
    }
    if let Some(v) = f.received_from {
        q.push(format!(" AND {p}received_at >= ")).push_bind(v.as_microsecond());
    }
    if let Some(v) = f.received_to {
        q.push(format!(" AND {p}received_at < ")).push_bind(v.as_microsecond());
    }
}

/// A `tsvector` literal for a document: every token with its positions and its field's weight
/// (A title, B narrative, C request, D notes). Fields are two positions apart, so a phrase never
/// runs from one field into the next.
pub fn tsvector_literal(doc: &SearchDocument) -> String {
    use std::collections::BTreeMap;
    // PostgreSQL keeps positions up to 16,383; later ones are clamped by the server anyway.
    const MAX_POSITION: usize = 16_383;
    let mut positions: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut next = 1usize;
    for (tokens, weight) in doc.fields().into_iter().zip(['A', 'B', 'C', 'D']) {
        for token in tokens {
            let entry = positions.entry(token.as_str()).or_default();
            // A lexeme holds at most 256 positions.
            if entry.len() < 256 {
                entry.push(format!("{}{weight}", next.min(MAX_POSITION)));
            }
            next += 1;
        }
        next += 2;
    }
    let mut out = String::new();
    for (token, pos) in positions {
        if !out.is_empty() {
            out.push(' ');
        }
        // Tokens are alphanumeric: nothing to escape.
        out.push('\'');
        out.push_str(token);
        out.push_str("':");
        out.push_str(&pos.join(","));
    }
    out
}

async fn upsert_text(conn: &mut PgConnection, cols: &ComplaintColumns, text: &TextUpdate) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO text_rows (complaint_id, received_at, document, reading) VALUES ($1, $2, $3::tsvector, $4) \
         ON CONFLICT (complaint_id) DO UPDATE SET document = EXCLUDED.document, \
         reading = CASE WHEN $5 THEN EXCLUDED.reading ELSE text_rows.reading END",
    )
    .bind(&cols.id)
    .bind(cols.received_at)
    .bind(tsvector_literal(&text.document))
    .bind(text.reading.as_ref().map_or_else(|| "{}".to_string(), |r| r.to_string()))
    .bind(text.reading.is_some())
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok(())
}

/// Advisory lock that orders text-row ids with commits: registrations hold it shared while they
/// insert, and a reader that needs "every row up to N is committed" takes it exclusively to
/// read N (see `text_rows_after`).
pub const TEXT_ROWS_LOCK: i64 = 0x7265_6472_7478_7431;

async fn insert_text(conn: &mut PgConnection, cols: &ComplaintColumns, text: &TextIndex) -> StoreResult<()> {
    sqlx::query("SELECT pg_advisory_xact_lock_shared($1)").bind(TEXT_ROWS_LOCK).execute(&mut *conn).await.map_err(db)?;
    let row: i64 = sqlx::query_scalar(
        "INSERT INTO text_rows (complaint_id, received_at, document, fingerprint, reading) VALUES ($1, $2, $3::tsvector, $4, $5) RETURNING id",
    )
    .bind(&cols.id)
    .bind(cols.received_at)
    .bind(tsvector_literal(&text.document))
    .bind(&text.fingerprint)
    .bind(text.reading.to_string())
    .fetch_one(&mut *conn)
    .await
    .map_err(db)?;
    if !text.band_keys.is_empty() {
        let mut keys = text.band_keys.clone();
        keys.sort_unstable();
        keys.dedup();
        sqlx::query("INSERT INTO text_bands (band_key, row_id) SELECT k, $2 FROM UNNEST($1::bigint[]) AS k ON CONFLICT DO NOTHING")
            .bind(keys)
            .bind(row)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
    }
    Ok(())
}
