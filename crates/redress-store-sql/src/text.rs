//! Text intelligence beside the search index: text rows (fingerprints and readings), similar
//! candidates, the incident detector's cursor and incidents, trained models, labelled texts.
//! The search index itself is each engine's own (FTS5, `tsvector`).

use jiff::Timestamp;
use redress_domain::complaint::{Complaint, ComplaintId, LabelCorrection};
use redress_store::columns::{complaint_id, decode, decode_complaint, encode, micros};
use redress_store::text::MAX_SIMILAR_CANDIDATES;
use redress_store::{Incident, IncidentMember, IncidentScan, LabelledText, ModelInfo, SimilarCandidate, StoreError, StoreResult, TextRow};
use sqlx::{Connection as _, Database, QueryBuilder, SqlStr};

use crate::{Builder, Connection, Db, Engine, ROWS_PER_STATEMENT, VALUES_PER_LIST, execute, fetch_all, fetch_optional, get, get_text};

type DbRow<E> = <Db<E> as Database>::Row;

fn text_row<E: Engine>(r: &DbRow<E>) -> StoreResult<TextRow> {
    Ok(TextRow {
        row: get(r, 0)?,
        complaint_id: complaint_id(get_text(r, 1)?)?,
        received_at: micros(get(r, 2)?)?,
        fingerprint: get(r, 3)?,
        reading: decode("reading", get_text(r, 4)?)?,
    })
}

/// One complaint's text row.
pub async fn text_row_of<E: Engine>(conn: &mut Connection<E>, id: ComplaintId) -> StoreResult<Option<TextRow>> {
    let mut q = QueryBuilder::<Db<E>>::new("SELECT id, complaint_id, received_at, fingerprint, reading FROM text_rows WHERE complaint_id = ");
    q.bind(id.to_string());
    fetch_optional(conn, &mut q).await?.as_ref().map(text_row::<E>).transpose()
}

/// Text rows after `after`, in id order; with `up_to`, none beyond it (an engine whose ids may
/// become visible out of order gives the bound below which every row is committed).
pub async fn text_rows_after<E: Engine>(conn: &mut Connection<E>, after: i64, up_to: Option<i64>, limit: u32) -> StoreResult<Vec<TextRow>> {
    let mut q = QueryBuilder::<Db<E>>::new("SELECT id, complaint_id, received_at, fingerprint, reading FROM text_rows WHERE id > ");
    q.bind(after);
    if let Some(bound) = up_to {
        q.push(" AND id <= ").bind(bound);
    }
    q.push(" ORDER BY id LIMIT ").bind(i64::from(limit));
    fetch_all(conn, &mut q).await?.iter().map(text_row::<E>).collect()
}

/// See `Store::similar_candidates`.
pub async fn similar_candidates<E: Engine>(
    conn: &mut Connection<E>,
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
    let mut q = QueryBuilder::<Db<E>>::new("WITH hits (row_id) AS (");
    for (i, key) in keys.iter().enumerate() {
        if i > 0 {
            q.push(" UNION ALL ");
        }
        E::push_band_rows(&mut q, *key, i64::from(per_key_limit));
    }
    q.push("), shared (row_id, n) AS (SELECT row_id, count(*) FROM hits GROUP BY row_id");
    if received_after.is_none() {
        // Without a time bound, the best candidates are known from the band hits alone: only
        // they (one more, in case `exclude` is among them) are looked up in `text_rows`.
        q.push(" ORDER BY count(*) DESC, row_id DESC LIMIT ").bind(i64::from(MAX_SIMILAR_CANDIDATES) + 1);
    }
    q.push(") SELECT t.id, t.complaint_id, t.received_at, t.fingerprint, s.n FROM shared s JOIN text_rows t ON t.id = s.row_id WHERE t.fingerprint IS NOT NULL");
    if let Some(after) = received_after {
        q.push(" AND t.received_at >= ").bind(after.as_microsecond());
    }
    if let Some(id) = exclude {
        q.push(" AND t.complaint_id <> ").bind(id.to_string());
    }
    q.push(" ORDER BY s.n DESC, t.id DESC LIMIT ").bind(i64::from(MAX_SIMILAR_CANDIDATES));
    fetch_all(conn, &mut q)
        .await?
        .iter()
        .map(|r| {
            Ok(SimilarCandidate {
                row: get(r, 0)?,
                complaint_id: complaint_id(get_text(r, 1)?)?,
                received_at: micros(get(r, 2)?)?,
                fingerprint: get(r, 3)?,
                shared_bands: u32::try_from(get::<_, i64>(r, 4)?).unwrap_or(u32::MAX),
            })
        })
        .collect()
}

/// Where the incident detector's scan stands.
pub async fn incident_cursor<E: Engine>(conn: &mut Connection<E>) -> StoreResult<i64> {
    let mut q = QueryBuilder::<Db<E>>::new("SELECT value FROM detector_cursors WHERE name = 'incidents'");
    match fetch_optional(conn, &mut q).await? {
        Some(r) => get(&r, 0),
        None => Ok(0),
    }
}

/// Applies a detector scan atomically with its cursor: [`StoreError::Conflict`], and nothing
/// applied, if another detector moved the cursor first.
pub async fn apply_incident_scan<E: Engine>(conn: &mut Connection<E>, scan: &IncidentScan) -> StoreResult<()> {
    let mut tx = conn.begin_with(SqlStr::from_static(E::BEGIN_WRITE)).await.map_err(StoreError::db)?;
    let mut q = QueryBuilder::<Db<E>>::new("UPDATE detector_cursors SET value = ");
    q.bind(scan.to_row).push(" WHERE name = 'incidents' AND value = ").bind(scan.from_row).push(" RETURNING value");
    if fetch_optional(&mut *tx, &mut q).await?.is_none() {
        return Err(StoreError::Conflict);
    }
    for (incident, members) in &scan.created {
        let mut q = QueryBuilder::<Db<E>>::new("INSERT INTO incidents (id, label, first_seen, last_seen, members, detected_at, terms) VALUES (");
        q.bind(&incident.id).push(", ").bind(&incident.label).push(", ").bind(incident.first_seen.as_microsecond());
        q.push(", ").bind(incident.last_seen.as_microsecond()).push(", 0, ").bind(incident.detected_at.as_microsecond());
        q.push(", ").bind(encode(&incident.terms)?).push(")");
        execute(&mut *tx, &mut q).await?;
        add_members::<E>(&mut *tx, &incident.id, members, &incident.label, &incident.terms).await?;
    }
    for join in &scan.joined {
        add_members::<E>(&mut *tx, &join.incident_id, &join.members, &join.label, &join.terms).await?;
    }
    tx.commit().await.map_err(StoreError::db)
}

/// Adds members to an incident (a complaint already in it stays as it was) and recomputes its
/// label, count and first and last seen.
async fn add_members<E: Engine>(conn: &mut Connection<E>, incident: &str, members: &[IncidentMember], label: &str, terms: &[String]) -> StoreResult<()> {
    for chunk in members.chunks(ROWS_PER_STATEMENT) {
        let mut q = QueryBuilder::<Db<E>>::new("INSERT INTO incident_members (incident_id, complaint_id, received_at, similarity) VALUES ");
        for (i, m) in chunk.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" }).bind(incident).push(", ").bind(m.complaint_id.to_string());
            q.push(", ").bind(m.received_at.as_microsecond()).push(", ").bind(m.similarity).push(")");
        }
        q.push(" ON CONFLICT DO NOTHING");
        execute(conn, &mut q).await?;
    }
    let mut q = QueryBuilder::<Db<E>>::new("UPDATE incidents SET label = ");
    q.bind(label).push(", terms = ").bind(encode(&terms)?);
    q.push(
        ", members = (SELECT count(*) FROM incident_members WHERE incident_id = incidents.id), \
         first_seen = (SELECT min(received_at) FROM incident_members WHERE incident_id = incidents.id), \
         last_seen = (SELECT max(received_at) FROM incident_members WHERE incident_id = incidents.id) WHERE id = ",
    );
    q.bind(incident);
    execute(conn, &mut q).await
}

/// Which incidents these complaints belong to.
pub async fn incidents_of<E: Engine>(conn: &mut Connection<E>, ids: &[ComplaintId]) -> StoreResult<Vec<(ComplaintId, String)>> {
    let mut found = Vec::new();
    for chunk in ids.chunks(VALUES_PER_LIST) {
        let ids: Vec<String> = chunk.iter().map(ToString::to_string).collect();
        let mut q = QueryBuilder::<Db<E>>::new("SELECT complaint_id, incident_id FROM incident_members WHERE complaint_id");
        E::push_in(&mut q, &ids);
        for r in fetch_all(conn, &mut q).await? {
            found.push((complaint_id(get_text(&r, 0)?)?, get(&r, 1)?));
        }
    }
    Ok(found)
}

const INCIDENT_COLUMNS: &str = "id, label, first_seen, last_seen, members, detected_at, terms";

fn incident_from<E: Engine>(r: &DbRow<E>) -> StoreResult<Incident> {
    Ok(Incident {
        id: get(r, 0)?,
        label: get(r, 1)?,
        first_seen: micros(get(r, 2)?)?,
        last_seen: micros(get(r, 3)?)?,
        members: u64::try_from(get::<_, i64>(r, 4)?).unwrap_or(0),
        detected_at: micros(get(r, 5)?)?,
        terms: decode("incident terms", get_text(r, 6)?)?,
    })
}

/// Incidents with a member received at or after `since`, most recently active first; with
/// `departments`, only those with a member owned by one of them.
pub async fn incidents<E: Engine>(conn: &mut Connection<E>, since: Option<Timestamp>, departments: Option<&[String]>, limit: u32) -> StoreResult<Vec<Incident>> {
    if departments.is_some_and(<[String]>::is_empty) {
        return Ok(Vec::new());
    }
    let mut q = QueryBuilder::<Db<E>>::new(format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE last_seen >= "));
    q.bind(since.map_or(i64::MIN, |t| t.as_microsecond()));
    if let Some(departments) = departments {
        q.push(
            " AND EXISTS (SELECT 1 FROM incident_members m JOIN complaints c ON c.id = m.complaint_id \
             WHERE m.incident_id = incidents.id AND c.department",
        );
        E::push_in(&mut q, departments);
        q.push(")");
    }
    q.push(" ORDER BY last_seen DESC, id LIMIT ").bind(i64::from(limit));
    fetch_all(conn, &mut q).await?.iter().map(incident_from::<E>).collect()
}

/// One incident with its members, newest first.
pub async fn incident<E: Engine>(conn: &mut Connection<E>, id: &str) -> StoreResult<Option<(Incident, Vec<IncidentMember>)>> {
    let mut q = QueryBuilder::<Db<E>>::new(format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = "));
    q.bind(id);
    let Some(row) = fetch_optional(conn, &mut q).await? else {
        return Ok(None);
    };
    let incident = incident_from::<E>(&row)?;
    let mut q = QueryBuilder::<Db<E>>::new("SELECT complaint_id, received_at, similarity FROM incident_members WHERE incident_id = ");
    q.bind(id).push(" ORDER BY received_at DESC, complaint_id");
    let members = fetch_all(conn, &mut q)
        .await?
        .iter()
        .map(|r| Ok(IncidentMember { complaint_id: complaint_id(get_text(r, 0)?)?, received_at: micros(get(r, 1)?)?, similarity: get(r, 2)? }))
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Some((incident, members)))
}

/// Stores a model; if it is active, it replaces the active model of its target.
pub async fn put_model<E: Engine>(conn: &mut Connection<E>, info: &ModelInfo, content: &[u8]) -> StoreResult<()> {
    let mut tx = conn.begin_with(SqlStr::from_static(E::BEGIN_WRITE)).await.map_err(StoreError::db)?;
    if info.active {
        deactivate::<E>(&mut *tx, &info.target).await?;
    }
    let mut q = QueryBuilder::<Db<E>>::new("INSERT INTO models (id, target, created_at, active, summary, bytes, content) VALUES (");
    q.bind(&info.id).push(", ").bind(&info.target).push(", ").bind(info.created_at.as_microsecond()).push(", ").bind(info.active);
    q.push(", ").bind(info.summary.to_string()).push(", ").bind(content.len() as i64).push(", ").bind(content).push(")");
    execute(&mut *tx, &mut q).await?;
    tx.commit().await.map_err(StoreError::db)
}

async fn deactivate<E: Engine>(conn: &mut Connection<E>, target: &str) -> StoreResult<()> {
    let mut q = QueryBuilder::<Db<E>>::new("UPDATE models SET active = ");
    q.bind(false).push(" WHERE target = ").bind(target).push(format_args!(" AND active = {}", E::TRUE));
    execute(conn, &mut q).await
}

/// Every model, newest first.
pub async fn models<E: Engine>(conn: &mut Connection<E>) -> StoreResult<Vec<ModelInfo>> {
    let mut q = QueryBuilder::<Db<E>>::new("SELECT id, target, created_at, active, summary, bytes FROM models ORDER BY created_at DESC, id DESC");
    fetch_all(conn, &mut q)
        .await?
        .iter()
        .map(|r| {
            Ok(ModelInfo {
                id: get(r, 0)?,
                target: get(r, 1)?,
                created_at: micros(get(r, 2)?)?,
                active: get(r, 3)?,
                summary: decode("model summary", get_text(r, 4)?)?,
                bytes: u64::try_from(get::<_, i64>(r, 5)?).unwrap_or(0),
            })
        })
        .collect()
}

/// A model's serialised content.
pub async fn model_content<E: Engine>(conn: &mut Connection<E>, id: &str) -> StoreResult<Option<Vec<u8>>> {
    let mut q = QueryBuilder::<Db<E>>::new("SELECT content FROM models WHERE id = ");
    q.bind(id);
    fetch_optional(conn, &mut q).await?.map(|r| get(&r, 0)).transpose()
}

/// Makes a model the active one of its target.
pub async fn activate_model<E: Engine>(conn: &mut Connection<E>, id: &str) -> StoreResult<()> {
    let mut tx = conn.begin_with(SqlStr::from_static(E::BEGIN_WRITE)).await.map_err(StoreError::db)?;
    let mut q = QueryBuilder::<Db<E>>::new("SELECT target FROM models WHERE id = ");
    q.bind(id);
    let target: String = match fetch_optional(&mut *tx, &mut q).await? {
        Some(r) => get(&r, 0)?,
        None => return Err(StoreError::NotFound),
    };
    deactivate::<E>(&mut *tx, &target).await?;
    let mut q = QueryBuilder::<Db<E>>::new("UPDATE models SET active = ");
    q.bind(true).push(" WHERE id = ").bind(id);
    execute(&mut *tx, &mut q).await?;
    tx.commit().await.map_err(StoreError::db)
}

/// The latest human label per complaint for a dimension, with the complaint, oldest first.
pub async fn labelled_texts<E: Engine>(conn: &mut Connection<E>, dimension: &str, limit: u32) -> StoreResult<Vec<LabelledText>> {
    let mut q = QueryBuilder::<Db<E>>::new(format!(
        "SELECT l.complaint_id, l.body, c.body FROM label_corrections l JOIN complaints c ON c.id = l.complaint_id \
         WHERE l.id IN (SELECT max(id) FROM label_corrections WHERE {} = ",
        E::json_text("body", "dimension")
    ));
    q.bind(dimension).push(" GROUP BY complaint_id) ORDER BY l.id LIMIT ").bind(i64::from(limit));
    fetch_all(conn, &mut q)
        .await?
        .iter()
        .map(|r| {
            let correction: LabelCorrection = decode("label correction", get_text(r, 1)?)?;
            Ok(LabelledText {
                complaint_id: complaint_id(get_text(r, 0)?)?,
                dimension: correction.dimension,
                code: correction.code,
                complaint: decode_complaint(get_text(r, 2)?)?,
            })
        })
        .collect()
}

/// Complaints not in the text index yet, oldest first.
pub async fn unindexed<E: Engine>(conn: &mut Connection<E>, limit: u32) -> StoreResult<Vec<Complaint>> {
    let mut q = QueryBuilder::<Db<E>>::new(
        "SELECT c.body FROM complaints c WHERE NOT EXISTS (SELECT 1 FROM text_rows t WHERE t.complaint_id = c.id) ORDER BY c.received_at, c.id LIMIT ",
    );
    q.bind(i64::from(limit));
    fetch_all(conn, &mut q).await?.iter().map(|r| decode_complaint(get_text(r, 0)?)).collect()
}
