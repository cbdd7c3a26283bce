//! Search, similar-complaint candidates, incidents and models on PostgreSQL.

use jiff::Timestamp;
use redress_domain::complaint::ComplaintId;
use redress_store::columns::{complaint_id, decode, decode_complaint, micros};
use redress_store::text::MAX_SIMILAR_CANDIDATES;
#[cfg(doc)]
use redress_store::text::RANKED_MATCHES_CAP;
use redress_store::{
    ComplaintFilter, Incident, IncidentMember, IncidentScan, LabelledText, ModelInfo, Ranking, SearchHit, SearchPhrase,
    SearchRequest, SearchResults, SimilarCandidate, StoreError, StoreResult, TextRow,
};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder, Row};

use crate::queries::push_filter;

/// The `tsquery` literal for phrases: tokens of a phrase joined by `<->` (followed by), the last
/// one a prefix (`:*`) where asked, phrases joined by `&`. Tokens are alphanumeric: nothing to
/// escape.
pub fn tsquery_literal(phrases: &[SearchPhrase]) -> String {
    phrases
        .iter()
        .map(|p| {
            let n = p.tokens.len();
            let parts: Vec<String> = p
                .tokens
                .iter()
                .enumerate()
                .map(|(i, t)| if i + 1 == n && p.last_is_prefix { format!("'{t}':*") } else { format!("'{t}'") })
                .collect();
            format!("({})", parts.join(" <-> "))
        })
        .collect::<Vec<_>>()
        .join(" & ")
}

fn has_filter(f: &ComplaintFilter) -> bool {
    !f.statuses.is_empty()
        || f.channel.is_some()
        || f.department.is_some()
        || !f.departments.is_empty()
        || f.handler.is_some()
        || f.severity.is_some()
        || f.due_state.is_some()
        || f.business_type.is_some()
        || f.cause.is_some()
        || f.received_from.is_some()
        || f.received_to.is_some()
}

/// Cover-density rank with field weights (D notes, C request, B narrative, A title; PostgreSQL
/// takes them in [0, 1]): a word in
/// the title counts most, the notes least. `$1` is the query, always the first bound value.
const RANK: &str = "ts_rank_cd('{0.175, 0.375, 0.25, 1.0}'::float4[], t.document, $1::tsquery)";

/// Matches ranked by relevance at most on PostgreSQL, lower than SQLite's
/// [`RANKED_MATCHES_CAP`]: `ts_rank_cd` reads each match's vector out of TOAST (about 180 ms for
/// 18,000 matches here), where FTS5's BM25 works from its own index. A query matching more is
/// ordered newest first, which the primary key answers without visiting every match.
const RANKED_CAP: i64 = 2_000;

/// Full-text search; see [`redress_store::Store::search`].
pub async fn search(conn: &mut PgConnection, r: &SearchRequest) -> StoreResult<SearchResults> {
    let limit = i64::from(r.limit.clamp(1, 100));
    let offset = i64::from(r.offset);
    let query = tsquery_literal(&r.phrases);
    if query.is_empty() {
        return Err(StoreError::Database("a search needs at least one phrase".into()));
    }
    let filtered = has_filter(&r.filter);
    let cap = RANKED_CAP + 1;
    // Count first (up to the cap): it decides whether ranking every match is affordable.
    let mut count: QueryBuilder<Postgres> = QueryBuilder::new("SELECT count(*) FROM (SELECT 1 FROM text_rows t");
    if filtered {
        count.push(" JOIN complaints c ON c.id = t.complaint_id");
    }
    count.push(" WHERE t.document @@ ").push_bind(query.clone()).push("::tsquery");
    push_filter(&mut count, &r.filter, "c.");
    count.push(" LIMIT ").push_bind(cap).push(") AS matches");
    let matches: i64 = count.build_query_scalar().fetch_one(&mut *conn).await.map_err(StoreError::db)?;
    let ranked = matches <= RANKED_CAP;

    // Rank and cut the page first; the records are read for the page alone.
    let mut q: QueryBuilder<Postgres> = QueryBuilder::new(format!(
        "SELECT c.body, page.rank FROM (SELECT t.id, {}::float8 AS rank FROM text_rows t",
        if ranked { RANK } else { "0.0" }
    ));
    if filtered {
        q.push(" JOIN complaints c ON c.id = t.complaint_id");
    }
    q.push(" WHERE t.document @@ ").push_bind(query).push("::tsquery");
    push_filter(&mut q, &r.filter, "c.");
    q.push(if ranked { " ORDER BY rank DESC, t.id DESC" } else { " ORDER BY t.id DESC" });
    q.push(" LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(offset);
    q.push(") AS page JOIN text_rows t ON t.id = page.id JOIN complaints c ON c.id = t.complaint_id ORDER BY page.rank DESC, page.id DESC");
    let rows = q.build().fetch_all(&mut *conn).await.map_err(StoreError::db)?;
    let mut hits = Vec::with_capacity(rows.len());
    for row in &rows {
        let score: f64 = row.get(1);
        hits.push(SearchHit { complaint: decode_complaint(row.get::<&str, _>(0))?, score });
    }
    Ok(SearchResults {
        hits,
        total: matches.min(RANKED_CAP) as u64,
        total_is_exact: ranked,
        ranking: if ranked { Ranking::Relevance } else { Ranking::Newest },
    })
}

/// See [`redress_store::Store::similar_candidates`].
pub async fn similar_candidates(
    pool: &PgPool,
    band_keys: &[i64],
    per_key_limit: u32,
    received_after: Option<Timestamp>,
    exclude: Option<ComplaintId>,
) -> StoreResult<Vec<SimilarCandidate>> {
    if band_keys.is_empty() {
        return Ok(Vec::new());
    }
    let mut keys = band_keys.to_vec();
    keys.sort_unstable();
    keys.dedup();
    // One bounded index range per key (newest rows first), then counted per complaint.
    let mut q: QueryBuilder<Postgres> = QueryBuilder::new("WITH hits (row_id) AS (");
    for (i, key) in keys.iter().enumerate() {
        if i > 0 {
            q.push(" UNION ALL ");
        }
        q.push("(SELECT row_id FROM text_bands WHERE band_key = ")
            .push_bind(*key)
            .push(" ORDER BY row_id DESC LIMIT ")
            .push_bind(i64::from(per_key_limit))
            .push(")");
    }
    q.push("), shared (row_id, n) AS (SELECT row_id, count(*) FROM hits GROUP BY row_id");
    match received_after {
        // Without a time bound, the best candidates are known from the band hits alone: only
        // they (one more, in case `exclude` is among them) are looked up in `text_rows`.
        None => {
            q.push(" ORDER BY count(*) DESC, row_id DESC LIMIT ").push_bind(i64::from(MAX_SIMILAR_CANDIDATES) + 1);
            q.push(") SELECT t.id, t.complaint_id, t.received_at, t.fingerprint, s.n FROM shared s JOIN text_rows t ON t.id = s.row_id WHERE t.fingerprint IS NOT NULL");
        }
        Some(after) => {
            q.push(") SELECT t.id, t.complaint_id, t.received_at, t.fingerprint, s.n FROM shared s JOIN text_rows t ON t.id = s.row_id WHERE t.fingerprint IS NOT NULL");
            q.push(" AND t.received_at >= ").push_bind(after.as_microsecond());
        }
    }
    if let Some(id) = exclude {
        q.push(" AND t.complaint_id <> ").push_bind(id.to_string());
    }
    q.push(" ORDER BY s.n DESC, t.id DESC LIMIT ").push_bind(i64::from(MAX_SIMILAR_CANDIDATES));
    let rows = q.build().fetch_all(pool).await.map_err(StoreError::db)?;
    rows.iter()
        .map(|r| {
            Ok(SimilarCandidate {
                row: r.get(0),
                complaint_id: complaint_id(r.get::<&str, _>(1))?,
                received_at: micros(r.get(2))?,
                fingerprint: r.get(3),
                shared_bands: r.get::<i64, _>(4) as u32,
            })
        })
        .collect()
}

fn text_row(r: &PgRow) -> StoreResult<TextRow> {
    Ok(TextRow {
        row: r.get(0),
        complaint_id: complaint_id(r.get::<&str, _>(1))?,
        received_at: micros(r.get(2))?,
        fingerprint: r.get(3),
        reading: decode("reading", r.get::<&str, _>(4))?,
    })
}

/// One complaint's text row.
pub async fn text_row_of(pool: &PgPool, id: ComplaintId) -> StoreResult<Option<TextRow>> {
    let row = sqlx::query("SELECT id, complaint_id, received_at, fingerprint, reading FROM text_rows WHERE complaint_id = $1")
        .bind(id.to_string())
        .fetch_optional(pool)
        .await
        .map_err(StoreError::db)?;
    row.as_ref().map(text_row).transpose()
}

/// Text rows after a position, in id order, never skipping one: identity values are handed out
/// before commit, so a row with a smaller id may become visible after a larger one. Taking the
/// registrations' advisory lock exclusively waits for every registration in flight; the largest
/// id seen then is a bound below which every row is committed.
pub async fn text_rows_after(pool: &PgPool, after: i64, limit: u32) -> StoreResult<Vec<TextRow>> {
    let bound: i64 = in_write_transaction(pool, async |conn: &mut PgConnection| {
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(crate::queries::TEXT_ROWS_LOCK).execute(&mut *conn).await.map_err(StoreError::db)?;
        sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM text_rows").fetch_one(&mut *conn).await.map_err(StoreError::db)
    })
    .await?;
    let rows = sqlx::query("SELECT id, complaint_id, received_at, fingerprint, reading FROM text_rows WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $3")
        .bind(after)
        .bind(bound)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await
        .map_err(StoreError::db)?;
    rows.iter().map(text_row).collect()
}

/// The incident detector's position.
pub async fn incident_cursor(pool: &PgPool) -> StoreResult<i64> {
    sqlx::query_scalar("SELECT value FROM detector_cursors WHERE name = 'incidents'").fetch_one(pool).await.map_err(StoreError::db)
}

/// Runs `work` in a transaction.
async fn in_write_transaction<T>(pool: &PgPool, work: impl AsyncFnOnce(&mut PgConnection) -> StoreResult<T>) -> StoreResult<T> {
    let mut tx = pool.begin().await.map_err(StoreError::db)?;
    match work(&mut tx).await {
        Ok(v) => {
            tx.commit().await.map_err(StoreError::db)?;
            Ok(v)
        }
        Err(e) => {
            let _ = tx.rollback().await;
            Err(e)
        }
    }
}

async fn insert_members(conn: &mut PgConnection, incident: &str, members: &[IncidentMember]) -> StoreResult<()> {
    for m in members {
        sqlx::query("INSERT INTO incident_members (incident_id, complaint_id, received_at, similarity) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
            .bind(incident)
            .bind(m.complaint_id.to_string())
            .bind(m.received_at.as_microsecond())
            .bind(m.similarity)
            .execute(&mut *conn)
            .await
            .map_err(StoreError::db)?;
    }
    Ok(())
}

/// Recomputes an incident's count and first/last seen from its members.
async fn refresh_incident(conn: &mut PgConnection, incident: &str, label: &str, terms: &[String]) -> StoreResult<()> {
    sqlx::query(
        "UPDATE incidents SET label = $1, terms = $2, \
         members = (SELECT count(*) FROM incident_members WHERE incident_id = incidents.id), \
         first_seen = (SELECT min(received_at) FROM incident_members WHERE incident_id = incidents.id), \
         last_seen = (SELECT max(received_at) FROM incident_members WHERE incident_id = incidents.id) WHERE id = $3",
    )
    .bind(label)
    .bind(serde_json::to_string(terms).map_err(StoreError::db)?)
    .bind(incident)
    .execute(&mut *conn)
    .await
    .map_err(StoreError::db)?;
    Ok(())
}

/// Applies a detector scan atomically with its cursor.
pub async fn apply_incident_scan(pool: &PgPool, scan: IncidentScan) -> StoreResult<()> {
    in_write_transaction(pool, async |conn: &mut PgConnection| {
        let moved = sqlx::query("UPDATE detector_cursors SET value = $1 WHERE name = 'incidents' AND value = $2")
            .bind(scan.to_row)
            .bind(scan.from_row)
            .execute(&mut *conn)
            .await
            .map_err(StoreError::db)?;
        if moved.rows_affected() == 0 {
            return Err(StoreError::Conflict);
        }
        for (incident, members) in &scan.created {
            sqlx::query("INSERT INTO incidents (id, label, first_seen, last_seen, members, detected_at, terms) VALUES ($1, $2, $3, $4, 0, $5, $6)")
                .bind(&incident.id)
                .bind(&incident.label)
                .bind(incident.first_seen.as_microsecond())
                .bind(incident.last_seen.as_microsecond())
                .bind(incident.detected_at.as_microsecond())
                .bind(serde_json::to_string(&incident.terms).map_err(StoreError::db)?)
                .execute(&mut *conn)
                .await
                .map_err(StoreError::db)?;
            insert_members(conn, &incident.id, members).await?;
            refresh_incident(conn, &incident.id, &incident.label, &incident.terms).await?;
        }
        for join in &scan.joined {
            insert_members(conn, &join.incident_id, &join.members).await?;
            refresh_incident(conn, &join.incident_id, &join.label, &join.terms).await?;
        }
        Ok(())
    })
    .await
}

/// Which incidents these complaints belong to.
pub async fn incidents_of(pool: &PgPool, ids: &[ComplaintId]) -> StoreResult<Vec<(ComplaintId, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q: QueryBuilder<Postgres> = QueryBuilder::new("SELECT complaint_id, incident_id FROM incident_members WHERE complaint_id IN (");
    let mut sep = q.separated(", ");
    for id in ids {
        sep.push_bind(id.to_string());
    }
    q.push(")");
    let rows = q.build().fetch_all(pool).await.map_err(StoreError::db)?;
    rows.iter().map(|r| Ok((complaint_id(r.get::<&str, _>(0))?, r.get(1)))).collect()
}

fn incident_from(r: &PgRow) -> StoreResult<Incident> {
    Ok(Incident {
        id: r.get(0),
        label: r.get(1),
        first_seen: micros(r.get(2))?,
        last_seen: micros(r.get(3))?,
        members: r.get::<i64, _>(4) as u64,
        detected_at: micros(r.get(5))?,
        terms: decode("incident terms", r.get::<&str, _>(6))?,
    })
}

const INCIDENT_COLUMNS: &str = "id, label, first_seen, last_seen, members, detected_at, terms";

/// Recently active incidents.
pub async fn incidents(pool: &PgPool, since: Option<Timestamp>, limit: u32) -> StoreResult<Vec<Incident>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE last_seen >= $1 ORDER BY last_seen DESC, id LIMIT $2"
    )))
    .bind(since.map_or(i64::MIN, |t| t.as_microsecond()))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(StoreError::db)?;
    rows.iter().map(incident_from).collect()
}

/// One incident with its members.
pub async fn incident(pool: &PgPool, id: &str) -> StoreResult<Option<(Incident, Vec<IncidentMember>)>> {
    let Some(row) = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = $1")))
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(StoreError::db)?
    else {
        return Ok(None);
    };
    let members = sqlx::query("SELECT complaint_id, received_at, similarity FROM incident_members WHERE incident_id = $1 ORDER BY received_at DESC, complaint_id")
        .bind(id)
        .fetch_all(pool)
        .await
        .map_err(StoreError::db)?;
    let members = members
        .iter()
        .map(|r| {
            Ok(IncidentMember {
                complaint_id: complaint_id(r.get::<&str, _>(0))?,
                received_at: micros(r.get(1))?,
                similarity: r.get::<f32, _>(2),
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Some((incident_from(&row)?, members)))
}

/// Stores a model, activating it if asked.
pub async fn put_model(pool: &PgPool, info: ModelInfo, content: Vec<u8>) -> StoreResult<()> {
    in_write_transaction(pool, async |conn: &mut PgConnection| {
        if info.active {
            sqlx::query("UPDATE models SET active = FALSE WHERE target = $1 AND active").bind(&info.target).execute(&mut *conn).await.map_err(StoreError::db)?;
        }
        sqlx::query("INSERT INTO models (id, target, created_at, active, summary, bytes, content) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(&info.id)
            .bind(&info.target)
            .bind(info.created_at.as_microsecond())
            .bind(info.active)
            .bind(info.summary.to_string())
            .bind(content.len() as i64)
            .bind(content)
            .execute(&mut *conn)
            .await
            .map_err(StoreError::db)?;
        Ok(())
    })
    .await
}

/// Every model, newest first.
pub async fn models(pool: &PgPool) -> StoreResult<Vec<ModelInfo>> {
    let rows = sqlx::query("SELECT id, target, created_at, active, summary, bytes FROM models ORDER BY created_at DESC, id DESC")
        .fetch_all(pool)
        .await
        .map_err(StoreError::db)?;
    rows.iter()
        .map(|r| {
            Ok(ModelInfo {
                id: r.get(0),
                target: r.get(1),
                created_at: micros(r.get(2))?,
                active: r.get::<bool, _>(3),
                summary: decode("model summary", r.get::<&str, _>(4))?,
                bytes: r.get::<i64, _>(5) as u64,
            })
        })
        .collect()
}

/// A model's content.
pub async fn model_content(pool: &PgPool, id: &str) -> StoreResult<Option<Vec<u8>>> {
    sqlx::query_scalar("SELECT content FROM models WHERE id = $1").bind(id).fetch_optional(pool).await.map_err(StoreError::db)
}

/// Makes a model the active one of its target.
pub async fn activate_model(pool: &PgPool, id: &str) -> StoreResult<()> {
    in_write_transaction(pool, async |conn: &mut PgConnection| {
        let target: Option<String> =
            sqlx::query_scalar("SELECT target FROM models WHERE id = $1").bind(id).fetch_optional(&mut *conn).await.map_err(StoreError::db)?;
        let target = target.ok_or(StoreError::NotFound)?;
        sqlx::query("UPDATE models SET active = FALSE WHERE target = $1 AND active").bind(&target).execute(&mut *conn).await.map_err(StoreError::db)?;
        sqlx::query("UPDATE models SET active = TRUE WHERE id = $1").bind(id).execute(&mut *conn).await.map_err(StoreError::db)?;
        Ok(())
    })
    .await
}

/// The latest human label per complaint for a dimension, with the complaint.
pub async fn labelled_texts(pool: &PgPool, dimension: &str, limit: u32) -> StoreResult<Vec<LabelledText>> {
    let rows = sqlx::query(
        "SELECT l.complaint_id, l.body, c.body FROM label_corrections l JOIN complaints c ON c.id = l.complaint_id \
         WHERE l.id IN (SELECT max(id) FROM label_corrections WHERE (body::jsonb ->> 'dimension') = $1 GROUP BY complaint_id) \
         ORDER BY l.id LIMIT $2",
    )
    .bind(dimension)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(StoreError::db)?;
    rows.iter()
        .map(|r| {
            let correction: redress_domain::complaint::LabelCorrection = decode("label correction", r.get::<&str, _>(1))?;
            Ok(LabelledText {
                complaint_id: complaint_id(r.get::<&str, _>(0))?,
                dimension: correction.dimension,
                code: correction.code,
                complaint: decode_complaint(r.get::<&str, _>(2))?,
            })
        })
        .collect()
}

/// Complaints without a text row.
pub async fn unindexed(pool: &PgPool, limit: u32) -> StoreResult<Vec<redress_domain::complaint::Complaint>> {
    let rows = sqlx::query(
        "SELECT c.body FROM complaints c WHERE NOT EXISTS (SELECT 1 FROM text_rows t WHERE t.complaint_id = c.id) ORDER BY c.received_at, c.id LIMIT $1",
    )
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(StoreError::db)?;
    rows.iter().map(|r| decode_complaint(r.get::<&str, _>(0))).collect()
}

/// Indexes (or re-indexes) one complaint.
pub async fn index_text(pool: &PgPool, id: ComplaintId, received_at: Timestamp, text: redress_store::TextIndex) -> StoreResult<()> {
    in_write_transaction(pool, async |conn: &mut PgConnection| {
        let id = id.to_string();
        sqlx::query("SELECT pg_advisory_xact_lock_shared($1)").bind(crate::queries::TEXT_ROWS_LOCK).execute(&mut *conn).await.map_err(StoreError::db)?;
        let old: Option<i64> =
            sqlx::query_scalar("SELECT id FROM text_rows WHERE complaint_id = $1").bind(&id).fetch_optional(&mut *conn).await.map_err(StoreError::db)?;
        if let Some(row) = old {
            sqlx::query("DELETE FROM text_bands WHERE row_id = $1").bind(row).execute(&mut *conn).await.map_err(StoreError::db)?;
            sqlx::query("DELETE FROM text_rows WHERE id = $1").bind(row).execute(&mut *conn).await.map_err(StoreError::db)?;
        }
        let row: i64 = sqlx::query_scalar(
            "INSERT INTO text_rows (complaint_id, received_at, document, fingerprint, reading) VALUES ($1, $2, $3::tsvector, $4, $5) RETURNING id",
        )
        .bind(&id)
        .bind(received_at.as_microsecond())
        .bind(crate::queries::tsvector_literal(&text.document))
        .bind(&text.fingerprint)
        .bind(text.reading.to_string())
        .fetch_one(&mut *conn)
        .await
        .map_err(StoreError::db)?;
        if !text.band_keys.is_empty() {
            sqlx::query("INSERT INTO text_bands (band_key, row_id) SELECT DISTINCT k, $2 FROM UNNEST($1::bigint[]) AS k ON CONFLICT DO NOTHING")
                .bind(&text.band_keys)
                .bind(row)
                .execute(&mut *conn)
                .await
                .map_err(StoreError::db)?;
        }
        Ok(())
    })
    .await
}
