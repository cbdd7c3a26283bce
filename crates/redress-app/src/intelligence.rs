//! Text intelligence in the running service: the analyser with the active models, the search
//! entry and reading of each complaint, similar complaints, and the incident detector.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use redress_domain::complaint::{Complaint, ComplaintId};
use redress_insight::{ActiveModel, Insight, Reading};
use redress_store::{
    Incident, IncidentJoin, IncidentMember, IncidentScan, SearchDocument, Store, StoreError, StoreResult, TextIndex,
    TextUpdate,
};
use redress_text::Fingerprint;
use serde::Serialize;

/// The analyser in use; replaced as a whole when the active models change.
#[derive(Default)]
pub struct InsightCell(RwLock<Arc<Insight>>);

impl InsightCell {
    /// The current analyser.
    pub fn get(&self) -> Arc<Insight> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Replaces the analyser.
    pub fn set(&self, insight: Insight) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(insight);
    }
}

/// Loads the store's active models into `cell` if they differ from those in use. Returns the
/// ids now in use.
pub async fn refresh_models(store: &dyn Store, cell: &InsightCell) -> StoreResult<Vec<String>> {
    let mut active: Vec<_> = store.models().await?.into_iter().filter(|m| m.active).collect();
    active.sort_by(|a, b| a.id.cmp(&b.id));
    let ids: Vec<String> = active.iter().map(|m| m.id.clone()).collect();
    let current = cell.get();
    if current.model_ids() == ids {
        return Ok(ids);
    }
    let mut loaded = Vec::new();
    for info in active {
        let Some(bytes) = store.model_content(&info.id).await? else { continue };
        match redress_learn::Model::from_bytes(&bytes) {
            Ok(model) => loaded.push(ActiveModel { id: info.id.clone(), target: info.target.clone(), model: Arc::new(model) }),
            Err(e) => tracing::error!(model = %info.id, error = %e, "a stored model could not be loaded; it is not used"),
        }
    }
    let ids = loaded.iter().map(|m| m.id.clone()).collect::<Vec<_>>();
    tracing::info!(models = ?ids, "active models loaded");
    cell.set(current.with_models(loaded));
    Ok(ids)
}

/// Keeps the analyser's models in step with the store (another server, or `redress train`,
/// may activate a model).
pub fn spawn_model_refresher(store: Arc<dyn Store>, cell: Arc<InsightCell>, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            if let Err(e) = refresh_models(&*store, &cell).await {
                tracing::warn!(error = %e, "refreshing the active models failed");
            }
        }
    })
}

/// The search document of a complaint as it is now (title, narrative, request, notes). Only
/// tokens: the fingerprint does not depend on notes, so it is not recomputed here.
pub fn search_document(c: &Complaint) -> SearchDocument {
    let tokens = redress_text::index_tokens;
    SearchDocument {
        title: c.title.as_ref().map(|t| tokens(t.as_str())).unwrap_or_default(),
        narrative: tokens(c.narrative.as_str()),
        request: tokens(c.request.as_str()),
        notes: c.notes.iter().flat_map(|n| tokens(n.text.as_str())).collect(),
    }
}

/// Everything text-derived stored with a new complaint: its reading (with the models'
/// `predictions`) and its search document and fingerprint.
pub fn text_index(insight: &Insight, title: &str, narrative: &str, request: &str, predictions: Vec<redress_insight::Prediction>) -> TextIndex {
    let (reading, form) = insight.read_new(title, narrative, request, predictions);
    let reading = &reading;
    let [title, narrative, request, notes] = form.fields;
    TextIndex {
        document: SearchDocument { title, narrative, request, notes },
        fingerprint: form.fingerprint,
        band_keys: form.band_keys,
        reading: serde_json::to_value(reading).unwrap_or_default(),
    }
}

/// The text update for a saved complaint whose notes changed: a new search entry, and readings
/// of new customer messages.
pub async fn text_update(st: &crate::App, before_notes: usize, c: &Complaint) -> StoreResult<Option<TextUpdate>> {
    if c.notes.len() == before_notes {
        return Ok(None);
    }
    let customer_notes: Vec<(usize, &str)> =
        c.notes.iter().enumerate().skip(before_notes).filter(|(_, n)| n.customer_contact).map(|(i, n)| (i, n.text.as_str())).collect();
    let reading = if customer_notes.is_empty() {
        None
    } else {
        let insight = st.insight.get();
        let stored = st.store.text_row(c.id).await?.and_then(|r| serde_json::from_value::<Reading>(r.reading).ok());
        let mut reading = stored.unwrap_or_else(|| insight.read(c.narrative.as_str(), c.request.as_str(), Vec::new()));
        for (i, text) in customer_notes {
            insight.read_message(&mut reading, i, text);
        }
        Some(serde_json::to_value(&reading).unwrap_or_default())
    };
    Ok(Some(TextUpdate { document: search_document(c), reading }))
}

/// Estimated similarity from which two complaints count as near-duplicates (template wording).
pub const NEAR_DUPLICATE: f32 = 0.6;

/// Least similarity reported as "similar".
pub const MIN_SIMILARITY: f32 = 0.1;

/// Newest complaints read per fingerprint band: bounds the cost of a lookup whatever the size
/// of the store.
pub const PER_BAND_LIMIT: u32 = 64;

/// A complaint found similar to another.
#[derive(Debug, Clone, Serialize)]
pub struct Similar {
    /// Its id.
    pub complaint_id: ComplaintId,
    /// Estimated similarity of the texts in [0, 1].
    pub similarity: f32,
    /// Whether the wording is nearly the same.
    pub near_duplicate: bool,
}

/// Complaints received before `id` whose text resembles it, most similar first.
pub async fn similar_to(store: &dyn Store, id: ComplaintId, limit: usize) -> StoreResult<Vec<Similar>> {
    let Some(row) = store.text_row(id).await? else { return Ok(Vec::new()) };
    let Some(fp) = row.fingerprint.as_deref().and_then(Fingerprint::from_bytes) else { return Ok(Vec::new()) };
    let candidates = store.similar_candidates(&fp.band_keys(), PER_BAND_LIMIT, None, Some(id)).await?;
    let mut found: Vec<Similar> = candidates
        .into_iter()
        // Earlier: received before it, or at the same moment but registered before it.
        .filter(|c| (c.received_at, c.row) < (row.received_at, row.row))
        .filter_map(|c| {
            let other = Fingerprint::from_bytes(&c.fingerprint)?;
            let similarity = fp.similarity(&other);
            (similarity >= MIN_SIMILARITY).then_some(Similar { complaint_id: c.complaint_id, similarity, near_duplicate: similarity >= NEAR_DUPLICATE })
        })
        .collect();
    found.sort_by(|a, b| b.similarity.total_cmp(&a.similarity).then(b.complaint_id.cmp(&a.complaint_id)));
    found.truncate(limit);
    Ok(found)
}

/// How the incident detector groups arrivals.
#[derive(Debug, Clone, Copy)]
pub struct IncidentRules {
    /// Complaints about one problem count together when they arrive within this window.
    pub window: SignedDuration,
    /// Least similarity of two complaints about the same problem.
    pub min_similarity: f32,
    /// Complaints (the newcomer included) that make an incident.
    pub min_members: usize,
}

impl Default for IncidentRules {
    fn default() -> Self {
        IncidentRules { window: SignedDuration::from_hours(48), min_similarity: 0.25, min_members: 5 }
    }
}

/// What one detection pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DetectReport {
    /// Complaints examined.
    pub examined: usize,
    /// Incidents created.
    pub created: usize,
    /// Complaints added to incidents (creations included).
    pub joined: usize,
}

/// Most arrivals examined per scan.
const SCAN_ROWS: u32 = 500;

fn keywords_of(reading: &serde_json::Value) -> Vec<String> {
    reading.get("keywords").and_then(|k| serde_json::from_value(k.clone()).ok()).unwrap_or_default()
}

/// The most common keywords of a group of complaints (at most five), as an incident's terms.
fn top_terms(readings: &[serde_json::Value]) -> Vec<String> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for r in readings {
        for k in keywords_of(r) {
            *counts.entry(k).or_default() += 1;
        }
    }
    let mut terms: Vec<(String, usize)> = counts.into_iter().filter(|(_, n)| *n >= 2).collect();
    terms.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    terms.into_iter().take(5).map(|(t, _)| t).collect()
}

/// Examines the complaints registered since the last pass and groups those about the same
/// problem into incidents. Several servers may run it: each scan is applied atomically with
/// its cursor, and a scan that lost the race is dropped (the winner covered the same rows).
pub async fn detect_incidents(store: &dyn Store, rules: IncidentRules, now: Timestamp) -> StoreResult<DetectReport> {
    let mut report = DetectReport::default();
    loop {
        let cursor = store.incident_cursor().await?;
        let rows = store.text_rows_after(cursor, SCAN_ROWS).await?;
        let Some(last) = rows.last().map(|r| r.row) else { return Ok(report) };
        let mut scan = IncidentScan { from_row: cursor, to_row: last, ..Default::default() };
        // Decisions of this scan, so a later row sees incidents an earlier one created.
        let mut incident_of: HashMap<ComplaintId, String> = HashMap::new();
        let mut joins: BTreeMap<String, IncidentJoin> = BTreeMap::new();
        for row in &rows {
            report.examined += 1;
            let Some(fp) = row.fingerprint.as_deref().and_then(Fingerprint::from_bytes) else { continue };
            let since = row.received_at - rules.window;
            let candidates = store.similar_candidates(&fp.band_keys(), PER_BAND_LIMIT, Some(since), Some(row.complaint_id)).await?;
            let close: Vec<(ComplaintId, Timestamp, f32)> = candidates
                .iter()
                .filter(|c| c.row < row.row && c.received_at <= row.received_at)
                .filter_map(|c| {
                    let s = fp.similarity(&Fingerprint::from_bytes(&c.fingerprint)?);
                    (s >= rules.min_similarity).then_some((c.complaint_id, c.received_at, s))
                })
                .collect();
            if close.is_empty() {
                continue;
            }
            let ids: Vec<ComplaintId> = close.iter().map(|c| c.0).collect();
            for (cid, incident) in store.incidents_of(&ids).await? {
                incident_of.entry(cid).or_insert(incident);
            }
            let me = IncidentMember { complaint_id: row.complaint_id, received_at: row.received_at, similarity: 1.0 };
            // Join the incident most of the similar complaints belong to.
            let mut votes: BTreeMap<&String, usize> = BTreeMap::new();
            for (cid, _, _) in &close {
                if let Some(i) = incident_of.get(cid) {
                    *votes.entry(i).or_default() += 1;
                }
            }
            if let Some((incident, _)) = votes.into_iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0))) {
                let incident = incident.clone();
                let best = close.iter().filter(|c| incident_of.get(&c.0) == Some(&incident)).map(|c| c.2).fold(0.0, f32::max);
                let entry = match joins.get_mut(&incident) {
                    Some(e) => e,
                    None => {
                        let (label, terms) = match scan.created.iter().find(|(i, _)| i.id == incident) {
                            Some((i, _)) => (i.label.clone(), i.terms.clone()),
                            None => store.incident(&incident).await?.map(|(i, _)| (i.label, i.terms)).unwrap_or_default(),
                        };
                        joins.entry(incident.clone()).or_insert(IncidentJoin { incident_id: incident.clone(), members: Vec::new(), label, terms })
                    }
                };
                entry.members.push(IncidentMember { similarity: best, ..me });
                incident_of.insert(row.complaint_id, incident);
                report.joined += 1;
                continue;
            }
            let free: Vec<&(ComplaintId, Timestamp, f32)> = close.iter().filter(|c| !incident_of.contains_key(&c.0)).collect();
            if free.len() + 1 < rules.min_members {
                continue;
            }
            let mut readings = vec![row.reading.clone()];
            for (cid, _, _) in &free {
                if let Some(r) = store.text_row(*cid).await? {
                    readings.push(r.reading);
                }
            }
            let terms = top_terms(&readings);
            let id = format!("inc-{}", uuid::Uuid::now_v7().simple());
            let mut members: Vec<IncidentMember> =
                free.iter().map(|(cid, at, s)| IncidentMember { complaint_id: *cid, received_at: *at, similarity: *s }).collect();
            members.push(me);
            let first = members.iter().map(|m| m.received_at).min().unwrap_or(row.received_at);
            let incident = Incident {
                id: id.clone(),
                label: if terms.is_empty() { "unlabelled".into() } else { terms.join(" ") },
                terms,
                first_seen: first,
                last_seen: row.received_at,
                members: members.len() as u64,
                detected_at: now,
            };
            for m in &members {
                incident_of.insert(m.complaint_id, id.clone());
            }
            report.created += 1;
            report.joined += members.len();
            scan.created.push((incident, members));
        }
        // Members joining an incident created in this same scan go in with its creation.
        let created_ids: HashSet<String> = scan.created.iter().map(|(i, _)| i.id.clone()).collect();
        for (id, join) in joins {
            if created_ids.contains(&id) {
                if let Some((_, members)) = scan.created.iter_mut().find(|(i, _)| i.id == id) {
                    members.extend(join.members);
                }
            } else {
                scan.joined.push(join);
            }
        }
        match store.apply_incident_scan(scan).await {
            Ok(()) => {}
            // Another server applied this scan first; start again from its cursor.
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e),
        }
    }
}
