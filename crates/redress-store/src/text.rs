//! What the store keeps for text intelligence: the search index, fingerprints for similar
//! complaints, each complaint's text reading, incidents and trained models.
//!
//! The store never analyses text itself. The caller tokenises (see `redress-text`) and the store
//! only encodes the tokens in its engine's index (an FTS5 table on SQLite, a `tsvector` with a GIN
//! index on PostgreSQL), in the same transaction as the complaint, so a complaint is findable
//! the moment its registration is acknowledged, by every application server.

use jiff::Timestamp;
use redress_domain::complaint::{Complaint, ComplaintId};
use serde::{Deserialize, Serialize};

use crate::ComplaintFilter;

/// A complaint's searchable text, already tokenised, one token list per field.
///
/// Tokens consist of alphanumeric characters only (the contract of `redress_text::index_tokens`),
/// so an engine can store them separated by spaces without quoting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchDocument {
    /// Title.
    pub title: Vec<String>,
    /// Narrative.
    pub narrative: Vec<String>,
    /// The customer's request.
    pub request: Vec<String>,
    /// Notes and the communication log (customer messages included).
    pub notes: Vec<String>,
}

impl SearchDocument {
    /// The fields in index column order: title, narrative, request, notes.
    pub fn fields(&self) -> [&[String]; 4] {
        [&self.title, &self.narrative, &self.request, &self.notes]
    }
}

/// Everything text-derived a registration stores beside the record.
#[derive(Debug, Clone, Default)]
pub struct TextIndex {
    /// The search index entry.
    pub document: SearchDocument,
    /// MinHash fingerprint (opaque bytes), if the text had any features.
    pub fingerprint: Option<Vec<u8>>,
    /// Locality-sensitive-hashing keys of the fingerprint: complaints sharing a key are
    /// candidates for similarity.
    pub band_keys: Vec<i64>,
    /// The text reading shown with the complaint (emotion, negativity, keywords, model
    /// predictions), as JSON.
    pub reading: serde_json::Value,
}

/// A change to the text-derived data when a complaint is saved (a note or a customer message
/// was added).
#[derive(Debug, Clone, Default)]
pub struct TextUpdate {
    /// The new search index entry.
    pub document: SearchDocument,
    /// The new reading, if it changed.
    pub reading: Option<serde_json::Value>,
}

/// One phrase of a search: its tokens must appear consecutively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchPhrase {
    /// Tokens, in order.
    pub tokens: Vec<String>,
    /// Whether the last token may be the start of a longer token.
    pub last_is_prefix: bool,
}

/// A full-text search: every phrase must match, and the filter must hold.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    /// The phrases (AND).
    pub phrases: Vec<SearchPhrase>,
    /// Filters; the cursor and limit of the filter are ignored.
    pub filter: ComplaintFilter,
    /// Results to skip (ranked order).
    pub offset: u32,
    /// Results to return (1–100).
    pub limit: u32,
}

/// How results were ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ranking {
    /// By relevance (BM25 on SQLite, cover density on PostgreSQL), newest first among equals.
    Relevance,
    /// Newest first: used when a query matches so many complaints that ranking them all would
    /// be slow; the count says how many there are.
    Newest,
}

/// One search result.
#[derive(Debug, Clone)]
pub struct SearchHit {
    /// The complaint.
    pub complaint: Complaint,
    /// Relevance (higher is better; engine-specific scale).
    pub score: f64,
}

/// Search results.
#[derive(Debug, Clone)]
pub struct SearchResults {
    /// The hits of the requested page.
    pub hits: Vec<SearchHit>,
    /// How many complaints match, counted up to the engine's cap (at most [`RANKED_MATCHES_CAP`]).
    pub total: u64,
    /// Whether `total` is exact (false when the cap was reached).
    pub total_is_exact: bool,
    /// How the hits are ordered.
    pub ranking: Ranking,
}

/// Matches counted and ranked by relevance at most; a query matching more reports "at least"
/// this many and is ordered newest first, which the engines can answer without visiting every
/// match. An engine whose ranking is dearer uses a lower cap (PostgreSQL: 2,000).
pub const RANKED_MATCHES_CAP: u64 = 20_000;

/// Candidates returned by a similarity lookup at most (those sharing the most bands).
pub const MAX_SIMILAR_CANDIDATES: u32 = 200;

/// A complaint that may be similar to another: it shares at least one fingerprint band.
#[derive(Debug, Clone)]
pub struct SimilarCandidate {
    /// The complaint.
    pub complaint_id: ComplaintId,
    /// Its position in the text index (increasing with registration).
    pub row: i64,
    /// When it was received.
    pub received_at: Timestamp,
    /// Its fingerprint bytes.
    pub fingerprint: Vec<u8>,
    /// How many bands it shares with the probe.
    pub shared_bands: u32,
}

/// A complaint's text data in registration order, for detectors that follow new arrivals.
#[derive(Debug, Clone)]
pub struct TextRow {
    /// Position in the text index.
    pub row: i64,
    /// The complaint.
    pub complaint_id: ComplaintId,
    /// When it was received.
    pub received_at: Timestamp,
    /// Fingerprint bytes, if any.
    pub fingerprint: Option<Vec<u8>>,
    /// The stored reading.
    pub reading: serde_json::Value,
}

/// An incident: many complaints about the same problem arriving close together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// Id.
    pub id: String,
    /// Top terms, as a label.
    pub label: String,
    /// The top terms.
    pub terms: Vec<String>,
    /// First member received.
    pub first_seen: Timestamp,
    /// Last member received.
    pub last_seen: Timestamp,
    /// Number of member complaints.
    pub members: u64,
    /// When the incident was detected.
    pub detected_at: Timestamp,
}

/// A member of an incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentMember {
    /// The complaint.
    pub complaint_id: ComplaintId,
    /// When it was received.
    pub received_at: Timestamp,
    /// Its similarity to the complaint that brought it in.
    pub similarity: f32,
}

/// What an incident detector decided for one scan of new arrivals; applied atomically with the
/// scan cursor so that several servers never apply the same scan twice.
#[derive(Debug, Clone, Default)]
pub struct IncidentScan {
    /// The cursor the scan started from (compare-and-set).
    pub from_row: i64,
    /// The last row the scan covered.
    pub to_row: i64,
    /// New incidents, with their members.
    pub created: Vec<(Incident, Vec<IncidentMember>)>,
    /// Members added to existing incidents, with the incident's new label, terms and last-seen.
    pub joined: Vec<IncidentJoin>,
}

/// Members joining an existing incident.
#[derive(Debug, Clone)]
pub struct IncidentJoin {
    /// The incident.
    pub incident_id: String,
    /// New members.
    pub members: Vec<IncidentMember>,
    /// Refreshed label.
    pub label: String,
    /// Refreshed terms.
    pub terms: Vec<String>,
}

/// A trained model as stored: metadata and the serialised model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// Id (`m-` + a time-ordered UUID), also the version: later ids are newer.
    pub id: String,
    /// What it predicts: a taxonomy dimension (`business_type`, `cause`, `cfpb_product`,
    /// `cfpb_issue`) or `sentiment`.
    pub target: String,
    /// When it was trained.
    pub created_at: Timestamp,
    /// Whether the server uses it.
    pub active: bool,
    /// Training facts: examples, labels, source, evaluation figures.
    pub summary: serde_json::Value,
    /// Size of the serialised model.
    pub bytes: u64,
}

/// A human-confirmed label with the text it labels (training data from the store).
#[derive(Debug, Clone)]
pub struct LabelledText {
    /// The complaint.
    pub complaint_id: ComplaintId,
    /// Dimension (`business_type`, …).
    pub dimension: String,
    /// The label code.
    pub code: String,
    /// The complaint, for its text.
    pub complaint: Complaint,
}
