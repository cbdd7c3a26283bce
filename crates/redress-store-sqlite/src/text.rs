//! The search index on SQLite: an FTS5 table of the tokens of each complaint (`text_search`)
//! and one of its fingerprint's band keys (`text_band_terms`), both keyed by the complaint's
//! text row.

use jiff::Timestamp;
use redress_domain::complaint::ComplaintId;
use redress_store::columns::{ComplaintColumns, decode_complaint};
use redress_store::text::RANKED_MATCHES_CAP;
use redress_store::{Ranking, SearchDocument, SearchHit, SearchPhrase, SearchRequest, SearchResults, StoreError, StoreResult, TextIndex, TextUpdate};
use redress_store_sql::filter::{is_filtered, push_filter};
use redress_store_sql::{Builder, Engine, ROWS_PER_STATEMENT, execute, fetch_all, fetch_optional, get, get_text};
use sqlx::{Connection, QueryBuilder, SqlStr, Sqlite, SqliteConnection};

use crate::engine::SqliteEngine;

/// The FTS5 query for phrases: each phrase a quoted string (tokens are alphanumeric, so they
/// need no escaping), all of them required.
pub fn fts5_query(phrases: &[SearchPhrase]) -> String {
    phrases
        .iter()
        .map(|p| {
            let quoted = format!("\"{}\"", p.tokens.join(" "));
            if p.last_is_prefix { format!("{quoted} *") } else { quoted }
        })
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// Column weights for BM25: a word in the title counts most, the notes least.
const BM25: &str = "bm25(text_search, 4.0, 1.0, 1.5, 0.7)";

/// Full-text search; see [`redress_store::Store::search`].
pub async fn search(conn: &mut SqliteConnection, r: &SearchRequest) -> StoreResult<SearchResults> {
    let limit = i64::from(r.limit.clamp(1, 100));
    let offset = i64::from(r.offset);
    let query = fts5_query(&r.phrases);
    if query.is_empty() {
        return Err(StoreError::Database("a search needs at least one phrase".into()));
    }
    let filtered = is_filtered(&r.filter);
    let cap = RANKED_MATCHES_CAP as i64 + 1;
    // Count first (up to the cap): it decides whether ranking every match is affordable. The
    // index alone counts the matches; a filter (a department's people always have one) is then
    // checked on at most the cap's newest matches, so a common word costs a bounded number of
    // row lookups however few of its matches the filter keeps.
    let mut count = QueryBuilder::<Sqlite>::new("SELECT count(*) FROM (SELECT 1 FROM text_search s WHERE text_search MATCH ");
    count.bind(query.clone()).push(" LIMIT ").bind(cap).push(")");
    let matches: i64 = match fetch_optional(conn, &mut count).await? {
        Some(row) => get(&row, 0)?,
        None => 0,
    };
    let ranked = matches <= RANKED_MATCHES_CAP as i64;
    let kept = if filtered {
        let mut kept = QueryBuilder::<Sqlite>::new(
            "SELECT count(*) FROM (SELECT s.rowid AS row FROM text_search s WHERE text_search MATCH ",
        );
        // Ranked, every match is checked, for the exact total; past the cap, one step's worth of
        // the newest matches gives the "at least" figure.
        kept.bind(query.clone()).push(" ORDER BY s.rowid DESC LIMIT ").bind(if ranked { cap } else { FILTER_STEP });
        kept.push(") m CROSS JOIN text_rows t ON t.id = m.row CROSS JOIN complaints c ON c.id = t.complaint_id WHERE 1 = 1");
        push_filter::<SqliteEngine>(&mut kept, &r.filter, "c.");
        match fetch_optional(conn, &mut kept).await? {
            Some(row) => get(&row, 0)?,
            None => 0,
        }
    } else {
        matches
    };

    let hits = if filtered && !ranked {
        newest_filtered_page(conn, &query, r, limit, offset).await?
    } else {
        // Rank and cut the page first, reading only the index (and the filter columns); the
        // records are read for the page alone.
        let mut q = QueryBuilder::<Sqlite>::new(format!(
            "SELECT c.body, page.score FROM (SELECT s.rowid AS row, {} AS score FROM text_search s",
            if ranked { BM25 } else { "0.0" }
        ));
        if filtered {
            // CROSS JOIN keeps the matches as the outer loop (see `newest_filtered_page`).
            q.push(" CROSS JOIN text_rows ft ON ft.id = s.rowid CROSS JOIN complaints c ON c.id = ft.complaint_id");
        }
        q.push(" WHERE text_search MATCH ").bind(query);
        push_filter::<SqliteEngine>(&mut q, &r.filter, "c.");
        q.push(if ranked { " ORDER BY score, s.rowid DESC" } else { " ORDER BY s.rowid DESC" });
        q.push(" LIMIT ").bind(limit).push(" OFFSET ").bind(offset);
        q.push(") page JOIN text_rows t ON t.id = page.row JOIN complaints c ON c.id = t.complaint_id ORDER BY page.score, page.row DESC");
        let rows = fetch_all(conn, &mut q).await?;
        let mut hits = Vec::with_capacity(rows.len());
        for row in &rows {
            // BM25 in SQLite is negative, smaller is better; callers expect higher is better.
            let score: f64 = get(row, 1)?;
            hits.push(SearchHit { complaint: decode_complaint(get_text(row, 0)?)?, score: -score });
        }
        hits
    };
    // Past the cap, the filter was checked on the newest 2,000 matches only: what it kept there
    // is a lower bound of the total.
    Ok(SearchResults {
        hits,
        total: kept.min(RANKED_MATCHES_CAP as i64) as u64,
        total_is_exact: ranked,
        ranking: if ranked { Ranking::Relevance } else { Ranking::Newest },
    })
}

/// How many matches, newest first, one step of [`newest_filtered_page`] reads from the index.
const FILTER_STEP: i64 = 2_000;

/// A page of a filtered query with too many matches to rank, newest first: the index is walked
/// backwards a step at a time and each step's matches are checked against the filter, until
/// the page is full. A common word then costs a few steps (a department keeps a fair share of
/// its matches), where one joined query let the planner check every match first.
async fn newest_filtered_page(conn: &mut SqliteConnection, query: &str, r: &SearchRequest, limit: i64, offset: i64) -> StoreResult<Vec<SearchHit>> {
    let wanted = offset + limit;
    let mut kept: Vec<SearchHit> = Vec::new();
    let mut before: Option<i64> = None;
    loop {
        let mut step = QueryBuilder::<Sqlite>::new("SELECT rowid FROM text_search WHERE text_search MATCH ");
        step.bind(query.to_string());
        if let Some(b) = before {
            step.push(" AND rowid < ").bind(b);
        }
        step.push(" ORDER BY rowid DESC LIMIT ").bind(FILTER_STEP);
        let rows = fetch_all(conn, &mut step).await?;
        let ids: Vec<i64> = rows.iter().map(|row| get(row, 0)).collect::<StoreResult<_>>()?;
        let Some(&last) = ids.last() else { break };
        before = Some(last);
        // CROSS JOIN fixes the order (SQLite keeps it): the step's rows first, each complaint
        // looked up by key. Left to itself the planner may walk the department's whole index
        // instead and probe the step's rows from there.
        let mut check = QueryBuilder::<Sqlite>::new("SELECT c.body FROM text_rows t CROSS JOIN complaints c ON c.id = t.complaint_id WHERE t.id IN (");
        let mut list = check.separated(", ");
        for id in &ids {
            list.push_bind(*id);
        }
        check.push(")");
        push_filter::<SqliteEngine>(&mut check, &r.filter, "c.");
        check.push(" ORDER BY t.id DESC LIMIT ").bind(wanted - kept.len() as i64);
        for row in fetch_all(conn, &mut check).await? {
            kept.push(SearchHit { complaint: decode_complaint(get_text(&row, 0)?)?, score: 0.0 });
        }
        if kept.len() as i64 >= wanted || (ids.len() as i64) < FILTER_STEP {
            break;
        }
    }
    Ok(kept.into_iter().skip(usize::try_from(offset).unwrap_or(usize::MAX)).collect())
}

/// The full-text term of a fingerprint band key: `b` and the key's 16 hex digits, as migration
/// 4 wrote the keys of earlier rows.
pub fn band_term(key: i64) -> String {
    format!("b{:016x}", key as u64)
}

/// The `text_band_terms` document of a complaint: its distinct band terms.
fn band_terms(keys: &[i64]) -> String {
    let mut keys = keys.to_vec();
    keys.sort_unstable();
    keys.dedup();
    keys.into_iter().map(band_term).collect::<Vec<_>>().join(" ")
}

/// A `text_rows` row waiting for the batch insert: id, complaint, received at, fingerprint,
/// reading.
type TextRowValues = (i64, String, i64, Option<Vec<u8>>, String);

/// The text rows of a batch's registrations, inserted together when the batch ends. The
/// writer numbers them itself: the full-text rows must carry the same ids.
#[derive(Default)]
pub struct TextRows {
    last_id: Option<i64>,
    rows: Vec<TextRowValues>,
    search: Vec<(i64, [String; 4])>,
    bands: Vec<(i64, String)>,
}

impl TextRows {
    /// Queues a new complaint's index entry, fingerprint bands and reading.
    pub async fn push(&mut self, conn: &mut SqliteConnection, complaint: &ComplaintColumns, text: &TextIndex) -> StoreResult<()> {
        let last = match &mut self.last_id {
            Some(last) => last,
            None => {
                let mut q = QueryBuilder::<Sqlite>::new("SELECT COALESCE(MAX(id), 0) FROM text_rows");
                let last: i64 = match fetch_optional(conn, &mut q).await? {
                    Some(row) => get(&row, 0)?,
                    None => 0,
                };
                self.last_id.insert(last)
            }
        };
        *last += 1;
        let id = *last;
        self.rows.push((id, complaint.id.clone(), complaint.received_at, text.fingerprint.clone(), text.reading.to_string()));
        self.search.push((id, text.document.fields().map(|tokens| tokens.join(" "))));
        if !text.band_keys.is_empty() {
            self.bands.push((id, band_terms(&text.band_keys)));
        }
        Ok(())
    }

    /// Inserts every queued row.
    pub async fn insert(&self, conn: &mut SqliteConnection) -> StoreResult<()> {
        for chunk in self.rows.chunks(ROWS_PER_STATEMENT) {
            let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO text_rows (id, complaint_id, received_at, fingerprint, reading) ");
            q.push_values(chunk, |mut b, (id, complaint, at, fingerprint, reading)| {
                b.push_bind(id).push_bind(complaint).push_bind(at).push_bind(fingerprint).push_bind(reading);
            });
            execute(conn, &mut q).await?;
        }
        for chunk in self.search.chunks(ROWS_PER_STATEMENT) {
            let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO text_search (rowid, title, narrative, request, notes) ");
            q.push_values(chunk, |mut b, (id, [title, narrative, request, notes])| {
                b.push_bind(id).push_bind(title).push_bind(narrative).push_bind(request).push_bind(notes);
            });
            execute(conn, &mut q).await?;
        }
        for chunk in self.bands.chunks(ROWS_PER_STATEMENT) {
            let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO text_band_terms (rowid, keys) ");
            q.push_values(chunk, |mut b, (id, terms)| {
                b.push_bind(id).push_bind(terms);
            });
            execute(conn, &mut q).await?;
        }
        Ok(())
    }
}

/// Inserts one complaint's full-text row (its tokens per field) under text row `row`.
async fn insert_search_row(conn: &mut SqliteConnection, row: i64, document: &SearchDocument) -> StoreResult<()> {
    let [title, narrative, request, notes] = document.fields().map(|t| t.join(" "));
    let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO text_search (rowid, title, narrative, request, notes) VALUES (");
    q.bind(row).push(", ").bind(title).push(", ").bind(narrative).push(", ").bind(request).push(", ").bind(notes).push(")");
    execute(conn, &mut q).await
}

async fn text_row_id(conn: &mut SqliteConnection, complaint: &str) -> StoreResult<Option<i64>> {
    let mut q = QueryBuilder::<Sqlite>::new("SELECT id FROM text_rows WHERE complaint_id = ");
    q.bind(complaint);
    fetch_optional(conn, &mut q).await?.map(|row| get(&row, 0)).transpose()
}

/// Deletes text row `row`'s entry from `table`, keyed by its column `key`.
async fn delete_entry(conn: &mut SqliteConnection, table: &str, key: &str, row: i64) -> StoreResult<()> {
    let mut q = QueryBuilder::<Sqlite>::new(format!("DELETE FROM {table} WHERE {key} = "));
    q.bind(row);
    execute(conn, &mut q).await
}

/// Replaces a complaint's index entry (and reading) after its text changed; indexes it if it
/// never was (a complaint stored before the index existed).
pub async fn update_text(conn: &mut SqliteConnection, complaint: &ComplaintColumns, text: &TextUpdate) -> StoreResult<()> {
    let row = match text_row_id(conn, &complaint.id).await? {
        Some(row) => {
            delete_entry(conn, "text_search", "rowid", row).await?;
            if let Some(reading) = &text.reading {
                let mut q = QueryBuilder::<Sqlite>::new("UPDATE text_rows SET reading = ");
                q.bind(reading.to_string()).push(" WHERE id = ").bind(row);
                execute(conn, &mut q).await?;
            }
            row
        }
        None => {
            let reading = text.reading.as_ref().map_or_else(|| "{}".to_string(), |r| r.to_string());
            insert_text_row(conn, &complaint.id, complaint.received_at, &None, reading).await?
        }
    };
    insert_search_row(conn, row, &text.document).await
}

async fn insert_text_row(conn: &mut SqliteConnection, complaint: &str, received_at: i64, fingerprint: &Option<Vec<u8>>, reading: String) -> StoreResult<i64> {
    let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO text_rows (complaint_id, received_at, fingerprint, reading) VALUES (");
    q.bind(complaint).push(", ").bind(received_at).push(", ").bind(fingerprint).push(", ").bind(reading).push(") RETURNING id");
    let row = fetch_optional(conn, &mut q).await?.ok_or_else(|| StoreError::corrupt("text row", "the insert returned no id"))?;
    get(&row, 0)
}

/// Indexes (or re-indexes) one complaint, in a transaction of its own.
pub async fn index_text(conn: &mut SqliteConnection, id: ComplaintId, received_at: Timestamp, text: &TextIndex) -> StoreResult<()> {
    let mut tx = conn.begin_with(SqlStr::from_static(SqliteEngine::BEGIN_WRITE)).await.map_err(StoreError::db)?;
    let id = id.to_string();
    if let Some(old) = text_row_id(&mut tx, &id).await? {
        delete_entry(&mut tx, "text_search", "rowid", old).await?;
        delete_entry(&mut tx, "text_band_terms", "rowid", old).await?;
        delete_entry(&mut tx, "text_rows", "id", old).await?;
    }
    let row = insert_text_row(&mut tx, &id, received_at.as_microsecond(), &text.fingerprint, text.reading.to_string()).await?;
    insert_search_row(&mut tx, row, &text.document).await?;
    if !text.band_keys.is_empty() {
        let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO text_band_terms (rowid, keys) VALUES (");
        q.bind(row).push(", ").bind(band_terms(&text.band_keys)).push(")");
        execute(&mut *tx, &mut q).await?;
    }
    tx.commit().await.map_err(StoreError::db)
}
