//! Registering (one complaint per transaction, or a batch together) and saving on PostgreSQL,
//! and the `tsvector` search entries written with them.

use std::collections::HashMap;

use redress_store::columns::ComplaintColumns;
use redress_store::{ComplaintFilter, Registered, Registration, SearchDocument, StoreError, StoreResult, TextIndex, TextUpdate, Change};
use redress_store_sql::intake::Intake;
use redress_store_sql::records::{self, OutcomeRows};
use redress_store_sql::stats;
use redress_store_sql::{ROWS_PER_STATEMENT, acquire};
use sqlx::{Connection, PgConnection, PgPool, Postgres, QueryBuilder};

use crate::engine::PostgresEngine;

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

/// Registers one complaint in its own transaction.
///
/// Two identical requests (same idempotency key or external reference) racing each other both
/// miss the replay lookup; the later one then hits the unique index, is rolled back, and
/// replays the complaint the first one committed.
pub async fn register(pool: &PgPool, reg: &Registration) -> StoreResult<Registered> {
    let mut conn = acquire(pool).await?;
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
            match Intake::read::<PostgresEngine>(&mut conn, &[reg]).await?.replay(reg)? {
                Some(earlier) => Ok(Registered::Replayed(Box::new(earlier))),
                None => Err(StoreError::Duplicate(message)),
            }
        }
    }
}

async fn register_in(conn: &mut PgConnection, reg: &Registration) -> Result<Registered, Failed> {
    let mut intake = Intake::read::<PostgresEngine>(conn, &[reg]).await?;
    if let Some(earlier) = intake.replay(reg)? {
        return Ok(Registered::Replayed(Box::new(earlier)));
    }
    let serial: i64 = sqlx::query_scalar("SELECT nextval('complaint_serial')").fetch_one(&mut *conn).await.map_err(db)?;
    let serial = u64::try_from(serial).map_err(|e| StoreError::corrupt("complaint serial", e))?;
    let record = intake.record(reg, serial)?;
    let may_race = reg.idempotency.is_some() || reg.external_ref.is_some();
    match records::insert_complaints::<PostgresEngine>(conn, std::slice::from_ref(&record.row)).await {
        Err(StoreError::Duplicate(message)) if may_race => return Err(Failed::Raced(message)),
        inserted => inserted?,
    }
    records::insert_attachments::<PostgresEngine>(conn, &reg.attachments.iter().collect::<Vec<_>>()).await?;
    record.outcome.insert::<PostgresEngine>(conn).await?;
    insert_text(conn, &record.row.columns, &reg.text).await?;
    if let Some(key) = &record.idempotency {
        match records::insert_idempotency_keys::<PostgresEngine>(conn, std::slice::from_ref(key)).await {
            Err(StoreError::Duplicate(message)) => return Err(Failed::Raced(message)),
            inserted => inserted?,
        }
    }
    if let Some(code) = &record.tracking_code {
        records::insert_tracking_codes::<PostgresEngine>(conn, std::slice::from_ref(code)).await?;
    }
    stats::insert_identity::<PostgresEngine>(conn, &record.identity).await?;
    // In key order and before the handlers' rows, like every writer: concurrent transactions
    // lock the cells they share in one order.
    stats::add_cells::<PostgresEngine>(conn, record.cells).await?;
    // Last, so the handler's row stays locked only for the commit: concurrent registrations
    // for the same department queue on it.
    for (handler, delta) in intake.load_changes() {
        records::adjust_load::<PostgresEngine>(conn, handler, delta).await?;
    }
    Ok(Registered::Created(Box::new(record.complaint)))
}

/// Why a batch of registrations did not commit.
pub enum BatchError {
    /// Rolled back before its commit: nothing of it is stored, and its registrations may run
    /// again one by one.
    Retry(StoreError),
    /// No connection, or the commit itself failed: whether the batch is stored is unknown.
    Final(StoreError),
}

/// Registers complaints together in one transaction, with a few multi-row statements; their
/// answers in order.
///
/// A registration that fails before writing (a reused idempotency key with another request)
/// fails alone; any other failure rolls the whole batch back ([`BatchError::Retry`]): a clash
/// with a concurrent registration of the same idempotency key or external reference, for one,
/// which [`register`] then resolves for the registration concerned.
pub async fn register_batch(pool: &PgPool, regs: &[&Registration]) -> Result<Vec<StoreResult<Registered>>, BatchError> {
    let mut conn = acquire(pool).await.map_err(BatchError::Final)?;
    let mut tx = conn.begin().await.map_err(|e| BatchError::Final(db(e)))?;
    match register_batch_in(&mut tx, regs).await {
        Ok(results) => {
            tx.commit().await.map_err(|e| BatchError::Final(db(e)))?;
            Ok(results)
        }
        Err(e) => {
            let _ = tx.rollback().await;
            Err(BatchError::Retry(e))
        }
    }
}

async fn register_batch_in(conn: &mut PgConnection, regs: &[&Registration]) -> StoreResult<Vec<StoreResult<Registered>>> {
    let mut intake = Intake::read::<PostgresEngine>(conn, regs).await?;
    // A number for each registration the tables do not answer already; one left over if two
    // of the batch share an idempotency key or external reference (numbers may have gaps).
    let wanted = regs.iter().filter(|r| matches!(intake.replay(r), Ok(None))).count();
    let mut serials: Vec<i64> = if wanted == 0 {
        Vec::new()
    } else {
        sqlx::query_scalar("SELECT nextval('complaint_serial') FROM generate_series(1, $1)")
            .bind(i64::try_from(wanted).map_err(|e| StoreError::corrupt("batch size", e))?)
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?
    };
    serials.sort_unstable();
    let mut serials = serials.into_iter();
    let mut results = Vec::with_capacity(regs.len());
    let mut rows = Vec::with_capacity(wanted);
    let mut texts = Vec::with_capacity(wanted);
    let mut outcomes = OutcomeRows::default();
    let mut keys = Vec::new();
    let mut tracking_codes = Vec::new();
    let mut attachments = Vec::new();
    let mut cells = Vec::new();
    let mut identity = Vec::new();
    for reg in regs {
        match intake.replay(reg) {
            Ok(Some(earlier)) => {
                results.push(Ok(Registered::Replayed(Box::new(earlier))));
                continue;
            }
            // Nothing written for it: it fails alone.
            Err(e) => {
                results.push(Err(e));
                continue;
            }
            Ok(None) => {}
        }
        let serial = serials.next().ok_or_else(|| StoreError::corrupt("complaint serial", "too few numbers drawn for the batch"))?;
        let serial = u64::try_from(serial).map_err(|e| StoreError::corrupt("complaint serial", e))?;
        let record = intake.record(reg, serial)?;
        texts.push((record.row.columns.id.clone(), record.row.columns.received_at, &reg.text));
        rows.push(record.row);
        outcomes.append(record.outcome);
        keys.extend(record.idempotency);
        tracking_codes.extend(record.tracking_code);
        attachments.extend(&reg.attachments);
        cells.extend(record.cells);
        identity.extend(record.identity);
        results.push(Ok(Registered::Created(Box::new(record.complaint))));
    }
    records::insert_complaints::<PostgresEngine>(conn, &rows).await?;
    records::insert_attachments::<PostgresEngine>(conn, &attachments).await?;
    insert_texts(conn, &texts).await?;
    outcomes.insert::<PostgresEngine>(conn).await?;
    records::insert_idempotency_keys::<PostgresEngine>(conn, &keys).await?;
    records::insert_tracking_codes::<PostgresEngine>(conn, &tracking_codes).await?;
    stats::insert_identity::<PostgresEngine>(conn, &identity).await?;
    // The whole batch's cells summed by key (a statement may not touch a row twice), in key
    // order and before the handlers' rows, like every writer: concurrent transactions lock the
    // cells they share in one order.
    stats::add_cells::<PostgresEngine>(conn, cells).await?;
    // Last, so the handlers' rows stay locked only for the commit; locked in the order of
    // their ids, like every other writer, so that concurrent batches cannot deadlock on them.
    let changes = intake.load_changes();
    if !changes.is_empty() {
        let ids: Vec<String> = changes.iter().map(|(id, _)| (*id).to_string()).collect();
        let deltas: Vec<i64> = changes.iter().map(|(_, delta)| *delta).collect();
        sqlx::query("SELECT 1 FROM users WHERE id = ANY($1) ORDER BY id FOR UPDATE").bind(&ids).execute(&mut *conn).await.map_err(db)?;
        sqlx::query(
            "UPDATE users SET open_load = GREATEST(users.open_load + c.delta, 0) \
             FROM UNNEST($1::text[], $2::bigint[]) AS c(id, delta) WHERE users.id = c.id",
        )
        .bind(&ids)
        .bind(&deltas)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    }
    Ok(results)
}

/// The search entries of a batch's new complaints (id, received at, text), with their bands.
async fn insert_texts(conn: &mut PgConnection, texts: &[(String, i64, &TextIndex)]) -> StoreResult<()> {
    if texts.is_empty() {
        return Ok(());
    }
    sqlx::query("SELECT pg_advisory_xact_lock_shared($1)").bind(TEXT_ROWS_LOCK).execute(&mut *conn).await.map_err(db)?;
    let mut band_keys = Vec::new();
    let mut band_rows = Vec::new();
    for chunk in texts.chunks(ROWS_PER_STATEMENT) {
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new("INSERT INTO text_rows (complaint_id, received_at, document, fingerprint, reading) ");
        q.push_values(chunk, |mut b, (id, received_at, text)| {
            b.push_bind(id.as_str())
                .push_bind(*received_at)
                .push_bind(tsvector_literal(&text.document))
                .push_unseparated("::tsvector")
                .push_bind(text.fingerprint.as_deref())
                .push_bind(text.reading.to_string());
        });
        q.push(" RETURNING id, complaint_id");
        let inserted: Vec<(i64, String)> = q.build_query_as().fetch_all(&mut *conn).await.map_err(db)?;
        let row_of: HashMap<&str, i64> = inserted.iter().map(|(row, id)| (id.as_str(), *row)).collect();
        for (id, _, text) in chunk {
            let row = *row_of.get(id.as_str()).ok_or_else(|| StoreError::corrupt("text row", "an inserted row was not returned"))?;
            let mut keys = text.band_keys.clone();
            keys.sort_unstable();
            keys.dedup();
            band_rows.extend(std::iter::repeat_n(row, keys.len()));
            band_keys.extend(keys);
        }
    }
    if !band_keys.is_empty() {
        sqlx::query("INSERT INTO text_bands (band_key, row_id) SELECT * FROM UNNEST($1::bigint[], $2::bigint[]) ON CONFLICT DO NOTHING")
            .bind(band_keys)
            .bind(band_rows)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
    }
    Ok(())
}

/// Saves one changed complaint in its own transaction.
pub async fn save(pool: &PgPool, change: &Change) -> StoreResult<()> {
    let mut tx = pool.begin().await.map_err(db)?;
    let columns = records::save_change::<PostgresEngine>(&mut tx, change).await?;
    if let Some(text) = &change.text {
        upsert_text(&mut tx, &columns, text).await?;
    }
    tx.commit().await.map_err(db)
}

/// Appends the filter's conditions (`AND …`) for complaint columns qualified by `p` (`""` or
/// `"c."`); the cursor and limit are the caller's.
pub fn push_filter(q: &mut QueryBuilder<Postgres>, f: &ComplaintFilter, p: &str) {
    redress_store_sql::filter::push_filter::<PostgresEngine>(q, f, p);
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
