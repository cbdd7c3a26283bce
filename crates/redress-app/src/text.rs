//! Use cases of text intelligence: search, similar complaints, a complaint's reading, free-text
//! analysis, incidents and models. Every complaint they return passes the permission table.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use redress_domain::complaint::{Complaint, ComplaintId, DecisionNotice, Resolution};
use redress_domain::lifecycle::Status;
use redress_store::{Incident, ModelInfo, Ranking, SearchPhrase, SearchRequest};
use redress_text::SearchQuery;
use serde::{Deserialize, Serialize};
use tracing::instrument;

use crate::complaints::{ListParams, get, list_filter};
use crate::error::{AppError, AppResult};
use crate::intelligence::similar_to;
use crate::policy::{self, Operation};
use crate::{App, Caller};

/// Longest snippet, in characters.
const SNIPPET_CHARS: usize = 120;

/// Longest text `analyze` takes, in characters.
pub const MAX_ANALYZE_CHARS: usize = 100_000;

/// Search parameters as people give them.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// The words; quote a phrase.
    pub q: Option<String>,
    /// Statuses, comma-separated.
    pub status: Option<String>,
    /// Channel.
    pub channel: Option<String>,
    /// Owner department.
    pub department: Option<String>,
    /// A unit: its departments and those of the units below it.
    pub branch: Option<String>,
    /// Business-type code prefix.
    pub category: Option<String>,
    /// Cause code prefix.
    pub cause: Option<String>,
    /// Severity.
    pub severity: Option<String>,
    /// Received at or after.
    pub received_from: Option<String>,
    /// Received before.
    pub received_to: Option<String>,
    /// Page size, 1–100.
    pub limit: Option<String>,
    /// Hits skipped, 0–10,000.
    pub offset: Option<String>,
}

/// A highlighted piece of a field that contains the query.
#[derive(Debug, Clone, Serialize)]
pub struct Snippet {
    /// The text.
    pub text: String,
    /// The text as HTML (escaped) with `<mark>` around the matches.
    pub html: String,
    /// The matches as character ranges of `text`.
    pub highlights: Vec<[usize; 2]>,
}

/// One search hit.
#[derive(Debug, Clone, Serialize)]
pub struct SearchItem {
    /// Id.
    pub id: ComplaintId,
    /// Number.
    pub number: String,
    /// Status.
    pub status: Status,
    /// Channel.
    pub channel: redress_domain::complaint::Channel,
    /// Received.
    pub received_at: Timestamp,
    /// Owner department.
    pub department: String,
    /// Severity.
    pub severity: redress_domain::classify::Severity,
    /// Business-type code.
    pub business_type: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// Relevance score (higher is better).
    pub score: f64,
    /// Highlighted snippets by field.
    pub snippets: BTreeMap<String, Snippet>,
}

/// A page of search results.
#[derive(Debug, Clone, Serialize)]
pub struct SearchPage {
    /// The query as given.
    pub query: String,
    /// Matches counted (see `total_is_exact`).
    pub total: u64,
    /// Whether `total` is exact.
    pub total_is_exact: bool,
    /// How the hits are ordered.
    pub ranking: Ranking,
    /// The hits.
    pub items: Vec<SearchItem>,
}

/// The phrases of a parsed query, as the store takes them.
pub fn phrases(query: &SearchQuery) -> Vec<SearchPhrase> {
    query.terms.iter().map(|t| SearchPhrase { tokens: t.tokens.clone(), last_is_prefix: t.last_is_prefix }).collect()
}

/// Parses a query.
pub fn parse_query(q: &str) -> AppResult<SearchQuery> {
    SearchQuery::parse(q).map_err(|e| AppError::invalid("q", e.to_string()))
}

/// Snippets of a complaint's fields that contain the query, highlighted.
pub fn snippets(c: &Complaint, query: &SearchQuery) -> BTreeMap<String, Snippet> {
    let notes = c.notes.iter().map(|n| n.text.as_str()).collect::<Vec<_>>().join("\n");
    let fields = [
        ("title", c.title.as_ref().map_or("", |t| t.as_str())),
        ("narrative", c.narrative.as_str()),
        ("request", c.request.as_str()),
        ("notes", notes.as_str()),
    ];
    let mut out = BTreeMap::new();
    for (name, text) in fields {
        if let Some(s) = redress_text::snippet(text, query, SNIPPET_CHARS) {
            out.insert(name.to_string(), Snippet { html: s.to_html(), highlights: s.highlights.iter().map(|r| [r.start, r.end]).collect(), text: s.text });
        }
    }
    out
}

/// Full-text search over narrative, request, title and notes, among the complaints the caller
/// may see, ranked, with highlighted snippets.
#[instrument(skip(app, caller, p))]
pub async fn search(app: &App, caller: &Caller, p: &SearchParams) -> AppResult<SearchPage> {
    let text = p.q.as_deref().map(str::trim).filter(|q| !q.is_empty()).ok_or_else(|| AppError::invalid("q", "give the words to search for"))?;
    if text.chars().count() > 500 || text.chars().any(char::is_control) {
        return Err(AppError::invalid("q", "a query has at most 500 characters, without control characters"));
    }
    let parsed = parse_query(text)?;
    for (field, value) in [("branch", &p.branch), ("cause", &p.cause), ("category", &p.category)] {
        crate::complaints::refuse_odd_text(field, value)?;
    }
    let limit = match &p.limit {
        None => 20,
        Some(l) => l.parse::<u32>().ok().filter(|n| (1..=100).contains(n)).ok_or_else(|| AppError::invalid("limit", "limit is a number from 1 to 100"))?,
    };
    let offset = match &p.offset {
        None => 0,
        Some(o) => o.parse::<u32>().ok().filter(|n| *n <= 10_000).ok_or_else(|| AppError::invalid("offset", "offset is a number from 0 to 10000"))?,
    };
    let empty = SearchPage { query: text.to_string(), total: 0, total_is_exact: true, ranking: Ranking::Relevance, items: Vec::new() };
    let list = ListParams {
        status: p.status.clone(),
        channel: p.channel.clone(),
        department: p.department.clone(),
        severity: p.severity.clone(),
        business_type: p.category.clone(),
        received_from: p.received_from.clone(),
        received_to: p.received_to.clone(),
        ..Default::default()
    };
    // The branch narrows the filter before the caller's scope is applied to it.
    let mut branch_departments = Vec::new();
    if let Some(branch) = &p.branch {
        let org = &app.rules.org;
        if org.unit(branch).is_none() {
            return Err(AppError::invalid("branch", format!("unknown branch '{branch}'")));
        }
        branch_departments = org.departments_within(branch);
        if branch_departments.is_empty() {
            return Ok(empty);
        }
    }
    let Some(mut filter) = list_filter(app, caller, &list)? else { return Ok(empty) };
    filter.cause = p.cause.clone();
    if !branch_departments.is_empty() {
        filter.departments = if filter.departments.is_empty() {
            branch_departments
        } else {
            filter.departments.into_iter().filter(|d| branch_departments.contains(d)).collect()
        };
        if filter.departments.is_empty() {
            return Ok(empty);
        }
    }
    let results = app.store.search(&SearchRequest { phrases: phrases(&parsed), filter, offset, limit }).await?;
    let items = results
        .hits
        .iter()
        // The filter already limits the hits to the caller's scope; this is the same rule
        // asked once more, per record, so no engine's filter bug can reveal a complaint.
        .filter(|h| policy::can_see(caller, &h.complaint, &app.rules.org))
        .map(|h| {
            let c = &h.complaint;
            SearchItem {
                id: c.id,
                number: c.number.clone(),
                status: c.status,
                channel: c.channel,
                received_at: c.received_at,
                department: c.owner.department.clone(),
                severity: c.classification.severity,
                business_type: c.classification.business_type.as_ref().map(|l| l.code.clone()),
                title: c.title.as_ref().map(|t| t.to_string()),
                score: h.score,
                snippets: snippets(c, &parsed),
            }
        })
        .collect();
    Ok(SearchPage { query: text.to_string(), total: results.total, total_is_exact: results.total_is_exact, ranking: results.ranking, items })
}

/// An earlier complaint like another, with how it was resolved.
#[derive(Debug, Clone, Serialize)]
pub struct SimilarItem {
    /// Id.
    pub id: ComplaintId,
    /// Number.
    pub number: String,
    /// Status.
    pub status: Status,
    /// Received.
    pub received_at: Timestamp,
    /// Estimated similarity in [0, 1].
    pub similarity: f32,
    /// Nearly the same wording (template complaints).
    pub near_duplicate: bool,
    /// From the same complainant.
    pub same_complainant: bool,
    /// Title.
    pub title: Option<String>,
    /// Narrative.
    pub narrative: String,
    /// How it was resolved.
    pub resolution: Option<Resolution>,
    /// The decision.
    pub decision: Option<DecisionNotice>,
}

impl SimilarItem {
    /// A similar complaint as listed, with its similarity to the one it was found for.
    fn of(other: Complaint, similarity: f32, same_complainant: bool) -> SimilarItem {
        SimilarItem {
            id: other.id,
            number: other.number,
            status: other.status,
            received_at: other.received_at,
            similarity,
            near_duplicate: similarity >= crate::intelligence::NEAR_DUPLICATE,
            same_complainant,
            title: other.title.map(|t| t.to_string()),
            narrative: other.narrative.to_string(),
            resolution: other.resolution,
            decision: other.decision,
        }
    }
}

/// Earlier complaints whose text resembles complaint `id`, most similar first, among those the
/// caller may see.
#[instrument(skip(app, caller))]
pub async fn similar(app: &App, caller: &Caller, id: &str, limit: usize) -> AppResult<(Complaint, Vec<SimilarItem>)> {
    if !(1..=50).contains(&limit) {
        return Err(AppError::invalid("limit", "limit is a number from 1 to 50"));
    }
    let c = get(app, caller, id).await?;
    // Look further than asked: some matches may be in departments the caller cannot see.
    let found = similar_to(&*app.store, c.id, limit * 3).await?;
    let ids: Vec<ComplaintId> = found.iter().map(|s| s.complaint_id).collect();
    let mut loaded: HashMap<ComplaintId, Complaint> = app.store.complaints(&ids).await?.into_iter().map(|o| (o.id, o)).collect();
    let mut items = Vec::new();
    for s in found {
        let Some(other) = loaded.remove(&s.complaint_id) else { continue };
        if !policy::can_see(caller, &other, &app.rules.org) {
            continue;
        }
        let same_complainant = other.complainant.name == c.complainant.name
            && (other.complainant.phone == c.complainant.phone || other.complainant.id_number == c.complainant.id_number);
        items.push(SimilarItem::of(other, s.similarity, same_complainant));
        if items.len() == limit {
            break;
        }
    }
    Ok((c, items))
}

/// A complaint's reading: emotion, negativity, keywords, model predictions, the readings of
/// customer messages, and the incident it belongs to.
#[derive(Debug, Clone, Serialize)]
pub struct ReadingView {
    /// Id.
    pub complaint_id: ComplaintId,
    /// Number.
    pub number: String,
    /// Risk flags with their evidence.
    pub risk_flags: Vec<redress_domain::classify::RiskFlag>,
    /// Severity.
    pub severity: redress_domain::classify::Severity,
    /// The stored reading.
    pub reading: Option<serde_json::Value>,
    /// The incident it belongs to.
    pub incident: Option<String>,
}

/// The reading of a complaint the caller may see.
pub async fn reading(app: &App, caller: &Caller, id: &str) -> AppResult<ReadingView> {
    let c = get(app, caller, id).await?;
    let row = app.store.text_row(c.id).await?;
    let incident = app.store.incidents_of(&[c.id]).await?.into_iter().next().map(|(_, i)| i);
    Ok(ReadingView {
        complaint_id: c.id,
        number: c.number,
        risk_flags: c.classification.risk_flags,
        severity: c.classification.severity,
        reading: row.map(|r| r.reading),
        incident,
    })
}

/// Emotion, intensity, negativity, risk flags with evidence, and classification of one text.
pub fn analyze(app: &App, text: &str) -> AppResult<redress_insight::Analysis> {
    if text.trim().is_empty() {
        return Err(AppError::invalid("text", "the text is empty"));
    }
    if text.chars().count() > MAX_ANALYZE_CHARS {
        return Err(AppError::invalid("text", format!("the text is longer than {MAX_ANALYZE_CHARS} characters")));
    }
    Ok(app.insight.get().analyze(text, &app.rules.classifier))
}

/// An incident as listed.
#[derive(Debug, Clone, Serialize)]
pub struct IncidentView {
    /// Id.
    pub id: String,
    /// Label (its top terms).
    pub label: String,
    /// Top terms.
    pub terms: Vec<String>,
    /// Member complaints.
    pub members: u64,
    /// First member received.
    pub first_seen: Timestamp,
    /// Last member received.
    pub last_seen: Timestamp,
    /// When detected.
    pub detected_at: Timestamp,
    /// Members per day over its span (at least an hour).
    pub rate_per_day: f64,
}

impl From<&Incident> for IncidentView {
    fn from(i: &Incident) -> Self {
        let span_hours = (i.last_seen.as_second() - i.first_seen.as_second()).max(3600) as f64 / 3600.0;
        IncidentView {
            id: i.id.clone(),
            label: i.label.clone(),
            terms: i.terms.clone(),
            members: i.members,
            first_seen: i.first_seen,
            last_seen: i.last_seen,
            detected_at: i.detected_at,
            rate_per_day: (i.members as f64 / span_hours * 24.0 * 10.0).round() / 10.0,
        }
    }
}

/// A member complaint of an incident.
#[derive(Debug, Clone, Serialize)]
pub struct IncidentComplaint {
    /// Id.
    pub id: ComplaintId,
    /// Number.
    pub number: String,
    /// Status.
    pub status: Status,
    /// Received.
    pub received_at: Timestamp,
    /// Owner department.
    pub department: String,
    /// Similarity to the incident.
    pub similarity: f32,
    /// Title.
    pub title: Option<String>,
}

/// Incidents with a member the caller may see, most recently active first.
pub async fn incidents(app: &App, caller: &Caller, since: Option<Timestamp>, limit: u32) -> AppResult<Vec<IncidentView>> {
    policy::require(caller, Operation::ViewIncidents)?;
    if !(1..=200).contains(&limit) {
        return Err(AppError::invalid("limit", "limit is a number from 1 to 200"));
    }
    let scope = policy::visible_departments(caller, &app.rules.org);
    if scope.as_ref().is_some_and(Vec::is_empty) {
        return Ok(Vec::new());
    }
    Ok(app.store.incidents(since, scope.as_deref(), limit).await?.iter().map(IncidentView::from).collect())
}

/// One incident with its members the caller may see; `NotFound` when the caller sees none.
pub async fn incident(app: &App, caller: &Caller, id: &str) -> AppResult<(IncidentView, Vec<IncidentComplaint>)> {
    policy::require(caller, Operation::ViewIncidents)?;
    if id.len() > 64 || id.chars().any(char::is_control) {
        return Err(AppError::not_found("incident"));
    }
    let (incident, members) = app.store.incident(id).await?.ok_or_else(|| AppError::not_found("incident"))?;
    let ids: Vec<ComplaintId> = members.iter().map(|m| m.complaint_id).collect();
    let mut loaded: HashMap<ComplaintId, Complaint> = app.store.complaints(&ids).await?.into_iter().map(|c| (c.id, c)).collect();
    let mut listed = Vec::new();
    for m in members {
        let Some(c) = loaded.remove(&m.complaint_id) else { continue };
        if !policy::can_see(caller, &c, &app.rules.org) {
            continue;
        }
        listed.push(IncidentComplaint {
            id: c.id,
            number: c.number,
            status: c.status,
            received_at: c.received_at,
            department: c.owner.department,
            similarity: m.similarity,
            title: c.title.map(|t| t.to_string()),
        });
    }
    if listed.is_empty() {
        return Err(AppError::not_found("incident"));
    }
    Ok((IncidentView::from(&incident), listed))
}

/// Trained models, newest first, and the ids in use.
pub async fn models(app: &App, caller: &Caller) -> AppResult<(Vec<ModelInfo>, Vec<String>)> {
    policy::require(caller, Operation::ViewModels)?;
    Ok((app.store.models().await?, app.insight.get().model_ids()))
}

/// Makes a model the active one for its target; returns the ids now in use.
pub async fn activate_model(app: &App, caller: &Caller, id: &str) -> AppResult<Vec<String>> {
    policy::require(caller, Operation::ManageModels)?;
    if id.len() > 64 || id.chars().any(char::is_control) {
        return Err(AppError::not_found("model"));
    }
    match app.store.activate_model(id).await {
        Err(redress_store::StoreError::NotFound) => return Err(AppError::not_found("model")),
        other => other?,
    }
    Ok(crate::intelligence::refresh_models(&*app.store, &app.insight).await?)
}

/// Stores a trained model (active at once when `activate`), for the caller allowed to manage
/// models.
pub async fn store_model(app: &App, caller: &Caller, info: ModelInfo, content: Vec<u8>) -> AppResult<()> {
    policy::require(caller, Operation::ManageModels)?;
    app.store.put_model(info, content).await?;
    Ok(())
}

/// Human-confirmed labels of one dimension as training examples (text, label).
pub async fn labelled_examples(app: &App, caller: &Caller, dimension: &str, limit: u32) -> AppResult<Vec<redress_store::LabelledText>> {
    policy::require(caller, Operation::ManageModels)?;
    Ok(app.store.labelled_texts(dimension, limit).await?)
}

/// Indexes up to `batch` complaints stored before the text index existed; returns how many.
pub async fn reindex_batch(app: &App, caller: &Caller, batch: u32) -> AppResult<usize> {
    policy::require(caller, Operation::RunJobs)?;
    let insight = app.insight.get();
    let complaints = app.store.unindexed(batch).await?;
    for c in &complaints {
        let mut classification = c.classification.clone();
        let text = format!("{}\n{}", c.narrative.as_str(), c.request.as_str());
        let predictions = insight.refine(&text, &mut classification, &app.rules.classifier);
        let mut index = crate::intelligence::text_index(&insight, c.title.as_ref().map_or("", |t| t.as_str()), c.narrative.as_str(), c.request.as_str(), predictions);
        index.document = crate::intelligence::search_document(c);
        app.store.index_text(c.id, c.received_at, index).await?;
    }
    Ok(complaints.len())
}

/// A complaint not yet registered, as the intake form has it, for the check before saving.
#[derive(Debug, Clone, Copy)]
pub struct DraftText<'a> {
    /// Title.
    pub title: &'a str,
    /// Narrative.
    pub narrative: &'a str,
    /// Request.
    pub request: &'a str,
    /// Complainant's name.
    pub name: &'a str,
    /// Complainant's phone, as typed.
    pub phone: Option<&'a str>,
    /// Complainant's ID number, as typed.
    pub id_number: Option<&'a str>,
}

/// Earlier complaints the caller may see whose text resembles a complaint being registered,
/// most similar first; `same_complainant` marks those from the same person, so an open one of
/// theirs warns of a repeat before the new one is saved.
pub async fn similar_to_draft(app: &App, caller: &Caller, draft: DraftText<'_>, limit: usize) -> AppResult<Vec<SimilarItem>> {
    policy::require(caller, Operation::Register)?;
    let index = crate::intelligence::text_index(&app.insight.get(), draft.title, draft.narrative, draft.request, Vec::new());
    let Some(fp) = index.fingerprint.as_deref().and_then(redress_text::Fingerprint::from_bytes) else { return Ok(Vec::new()) };
    let candidates = app.store.similar_candidates(&fp.band_keys(), crate::intelligence::PER_BAND_LIMIT, None, None).await?;
    let mut scored: Vec<(f32, ComplaintId)> = candidates
        .iter()
        .filter_map(|c| {
            let other = redress_text::Fingerprint::from_bytes(&c.fingerprint)?;
            let similarity = fp.similarity(&other);
            (similarity >= crate::intelligence::MIN_SIMILARITY).then_some((similarity, c.complaint_id))
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)));
    scored.truncate(limit * 3);
    let ids: Vec<ComplaintId> = scored.iter().map(|s| s.1).collect();
    let mut loaded: HashMap<ComplaintId, Complaint> = app.store.complaints(&ids).await?.into_iter().map(|o| (o.id, o)).collect();
    let digits = |s: &str| s.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_uppercase();
    let mut items = Vec::new();
    for (similarity, id) in scored {
        let Some(other) = loaded.remove(&id) else { continue };
        if !policy::can_see(caller, &other, &app.rules.org) {
            continue;
        }
        let same_phone = draft.phone.zip(other.complainant.phone.as_ref()).is_some_and(|(a, b)| digits(a) == digits(b.as_str()));
        let same_id = draft.id_number.zip(other.complainant.id_number.as_ref()).is_some_and(|(a, b)| digits(a) == digits(b.as_str()));
        let same_complainant = other.complainant.name.as_str() == draft.name.trim() && (same_phone || same_id);
        items.push(SimilarItem::of(other, similarity, same_complainant));
        if items.len() == limit {
            break;
        }
    }
    Ok(items)
}
