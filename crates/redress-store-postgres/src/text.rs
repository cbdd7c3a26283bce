//! Search, similar-complaint candidates, incidents and models on PostgreSQL.

use jiff::Timestamp;
use redress_domain::complaint::ComplaintId;
use redress_store::columns::decode_complaint;
#[cfg(doc)]
use redress_store::text::RANKED_MATCHES_CAP;
use redress_store::{Ranking, SearchHit, SearchPhrase, SearchRequest, SearchResults, StoreError, StoreResult, TextRow};
use redress_store_sql::filter::is_filtered as has_filter;
use redress_store_sql::{acquire, get, get_text};
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};

use crate::engine::PostgresEngine;
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
        let score: f64 = get(row, 1)?;
        hits.push(SearchHit { complaint: decode_complaint(get_text(row, 0)?)?, score });
    }
    Ok(SearchResults {
        hits,
        total: matches.min(RANKED_CAP) as u64,
        total_is_exact: ranked,
        ranking: if ranked { Ranking::Relevance } else { Ranking::Newest },
    })
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
    redress_store_sql::text::text_rows_after::<PostgresEngine>(&mut *acquire(pool).await?, after, Some(bound), limit).await
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
