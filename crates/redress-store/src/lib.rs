//! The storage contract of Redress.
//!
//! One trait, [`Store`], with one implementation per engine (`redress-store-sqlite`,
//! `redress-store-postgres`), each with its own migrations. The backend is chosen once at start-up
//! from the database URL; nothing above this crate knows which engine runs.
//!
//! Every write is atomic: a complaint and its events, outbox messages, notifications and label
//! corrections are stored in one transaction or not at all. The history (`events`) is
//! append-only: no code path updates or deletes an event.

use async_trait::async_trait;
use jiff::Timestamp;
use redress_domain::complaint::{Complaint, ComplaintId, Event, Outcome, RegistrationContext};
use redress_domain::lifecycle::Status;
use redress_domain::org::Role;
use serde::{Deserialize, Serialize};

pub mod columns;
pub mod stats;
pub mod summary;
pub mod text;
pub mod web;

pub use stats::{StatColumn, StatQuery, StatRow};
pub use summary::ComplaintSummary;
pub use text::{
    Incident, IncidentJoin, IncidentMember, IncidentScan, LabelledText, ModelInfo, Ranking, SearchDocument, SearchHit,
    SearchPhrase, SearchRequest, SearchResults, SimilarCandidate, TextIndex, TextRow, TextUpdate,
};
pub use web::{DueCounts, NewSession, StoredSession, UserUpdate, WorkCursor, WorkPage, WorkQueue};

/// Any underlying error kept as the cause of a [`StoreError`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Storage failures. Callers map `Conflict`, `NotFound` and `IdempotencyMismatch` to client
/// errors; everything else is the server's problem. Database and decoding failures keep their
/// cause (`source()`), so a log shows the driver's own error.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Someone changed the record since it was read; reload and retry.
    #[error("the complaint was changed by someone else; reload it and try again")]
    Conflict,
    /// The record does not exist.
    #[error("not found")]
    NotFound,
    /// An idempotency key was reused for a different request.
    #[error("this Idempotency-Key was already used for a different request")]
    IdempotencyMismatch,
    /// A uniqueness rule was broken (e.g. a user name taken).
    #[error("{0}")]
    Duplicate(String),
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[source] BoxError),
    /// A stored document did not decode; the data is damaged or from a newer version.
    #[error("stored data could not be read ({what}): {source}")]
    Corrupt {
        /// What was being read.
        what: String,
        /// Why it did not decode.
        #[source]
        source: BoxError,
    },
}

impl StoreError {
    /// Wraps a database error, keeping it as the cause.
    pub fn db(e: impl Into<BoxError>) -> Self {
        StoreError::Database(e.into())
    }

    /// A stored value that did not decode, with the decoder's error as the cause.
    pub fn corrupt(what: impl Into<String>, source: impl Into<BoxError>) -> Self {
        StoreError::Corrupt { what: what.into(), source: source.into() }
    }
}

/// Result alias.
pub type StoreResult<T> = Result<T, StoreError>;

/// A retried request's identity: the same user, key and body replay the first answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    /// The user sending it.
    pub user_id: String,
    /// The client's key.
    pub key: String,
    /// Hash of the request body, to catch a key reused for another request.
    pub request_hash: String,
}

/// Builds the record once the store has supplied the facts only it knows. It may be called
/// more than once (a store that retries a failed group commit request by request builds again),
/// so it must be pure.
pub type BuildRecord = Box<dyn Fn(RegistrationContext) -> (Complaint, Outcome) + Send + Sync>;

/// A complaint to register.
pub struct Registration {
    /// The id the complaint will have.
    pub id: ComplaintId,
    /// The department routing chose; the store picks its least-loaded active handler.
    pub department: String,
    /// Same complainant + matter key; an open complaint with the same key is a duplicate.
    pub duplicate_key: Option<String>,
    /// External reference; a second registration with the same one replays the first.
    pub external_ref: Option<String>,
    /// Idempotency.
    pub idempotency: Option<IdempotencyKey>,
    /// Where an earlier complaint may be found as a duplicate: `None`, in any department;
    /// otherwise only among complaints owned by one of these departments (the registering
    /// person's scope, so a duplicate link never reveals a complaint they may not see).
    pub duplicate_departments: Option<Vec<String>>,
    /// Builds the record.
    pub build: BuildRecord,
    /// Search index entry, fingerprint and reading, stored in the same transaction.
    pub text: TextIndex,
    /// Hash of the tracking code a customer who submitted on the web uses to follow the
    /// complaint, stored in the same transaction (not for a replayed request).
    pub tracking_code_hash: Option<String>,
    /// The files that came with the complaint (the record built lists them), stored in the
    /// same transaction as the complaint, content addressed (content stored already is left as
    /// it is): a registration that fails stores none of them, and neither does a replayed one.
    pub attachments: Vec<AttachmentContent>,
    /// The statistics cells of the record `build` makes, added in the same transaction (not
    /// for a replayed request).
    pub stats: StatsOf,
}

/// The statistics cells of a built record (`redress_analytics::cells_of` with the profile's
/// time zone); like [`BuildRecord`] it may be called more than once and must be pure.
pub type StatsOf = Box<dyn Fn(&Complaint) -> Vec<stats::Cell> + Send + Sync>;

/// What registering did.
#[derive(Debug, Clone)]
pub enum Registered {
    /// A new complaint.
    Created(Box<Complaint>),
    /// The same request (idempotency key or external reference) was seen before: this is the
    /// complaint it created.
    Replayed(Box<Complaint>),
}

impl Registered {
    /// The complaint either way.
    pub fn complaint(&self) -> &Complaint {
        match self {
            Registered::Created(c) | Registered::Replayed(c) => c,
        }
    }
}

/// A changed complaint to save, with what the action produced.
#[derive(Debug, Clone)]
pub struct Change {
    /// The record after the action.
    pub complaint: Complaint,
    /// The version it had when read; the save fails with `Conflict` if it moved.
    pub expected_version: u32,
    /// The handler before the action, and whether the complaint was open then: the store keeps
    /// handlers' open-complaint counts for least-loaded assignment.
    pub previous_handler: Option<String>,
    /// Whether it was open before.
    pub was_open: bool,
    /// Events, messages, notifications, label corrections.
    pub outcome: Outcome,
    /// New search text and reading, when the action changed the complaint's text.
    pub text: Option<TextUpdate>,
    /// The content of a file the action attaches, stored in the same transaction (content
    /// addressed: storing the same content again is a no-op), so a refused or failed save
    /// leaves no file behind.
    pub attachment: Option<AttachmentContent>,
    /// A single-use link the action was taken through (its id), consumed in the same
    /// transaction: if it was used already, the whole save fails with
    /// [`StoreError::Duplicate`] and nothing of it is written.
    pub consumed_link: Option<String>,
    /// What the save changes in the statistics cells (`after − before`), added in the same
    /// transaction.
    pub stats: Vec<stats::Cell>,
}

/// A file's content, stored under its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentContent {
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// Detected media type.
    pub media_type: String,
    /// The bytes.
    pub content: Vec<u8>,
    /// When it was received.
    pub at: Timestamp,
}

/// One stored history entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    /// Position in the complaint's history, from 1.
    pub seq: i64,
    /// The event.
    #[serde(flatten)]
    pub event: Event,
}

/// One outbox message with its delivery state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredMessage {
    /// Id.
    pub id: i64,
    /// Complaint.
    pub complaint_id: ComplaintId,
    /// Delivery state: `pending`, `sending`, `sent`, `delivered`, `failed`
    /// ([`redress_domain::delivery::DeliveryState`]).
    pub state: String,
    /// The channel it goes by: `email`, `sms` or `none` (no contact known).
    pub channel: String,
    /// Attempts made so far.
    pub attempts: i64,
    /// While pending after a failed attempt: when the next one is due.
    pub next_attempt_at: Option<Timestamp>,
    /// The provider's message id (for e-mail, the `Message-ID` it was sent with).
    pub provider_id: Option<String>,
    /// The provider's last answer or the last error.
    pub detail: Option<String>,
    /// When the provider accepted it.
    pub sent_at: Option<Timestamp>,
    /// When it was delivered or failed for good.
    pub finished_at: Option<Timestamp>,
    /// The message.
    #[serde(flatten)]
    pub message: redress_domain::messages::OutgoingMessage,
}

/// A message a delivery worker has claimed: it alone sends it until `lease_until`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedMessage {
    /// Id.
    pub id: i64,
    /// Complaint.
    pub complaint_id: ComplaintId,
    /// The channel.
    pub channel: redress_domain::delivery::DeliveryChannel,
    /// Attempts including this one.
    pub attempts: u32,
    /// The claim's token, which the result must show.
    pub claim: String,
    /// The message.
    pub message: redress_domain::messages::OutgoingMessage,
}

/// What became of a claimed message.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryUpdate {
    /// The message.
    pub id: i64,
    /// The claim it was sent under; if another worker holds the message now, nothing changes.
    pub claim: String,
    /// `Sent`, `Pending` (try again at `next_attempt_at`) or `Failed`.
    pub state: redress_domain::delivery::DeliveryState,
    /// When to try again (for `Pending`).
    pub next_attempt_at: Option<Timestamp>,
    /// The provider's message id.
    pub provider_id: Option<String>,
    /// The provider's answer or the error.
    pub detail: Option<String>,
    /// When.
    pub at: Timestamp,
    /// Told to the complaint's department with the update, in the same transaction.
    pub notification: Option<redress_domain::complaint::Notification>,
}

/// A provider's receipt or bounce for a message it accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryReceipt {
    /// The channel.
    pub channel: redress_domain::delivery::DeliveryChannel,
    /// The provider's message id.
    pub provider_id: String,
    /// `Delivered` or `Failed`.
    pub state: redress_domain::delivery::DeliveryState,
    /// The provider's words (a status code, the bounce's diagnostic).
    pub detail: Option<String>,
    /// When.
    pub at: Timestamp,
}

/// A webhook notice a dispatcher has claimed.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedNotice {
    /// Id (the delivery id receivers see).
    pub id: i64,
    /// The event.
    pub event: redress_domain::delivery::WebhookEvent,
    /// The JSON body.
    pub payload: String,
    /// Attempts including this one.
    pub attempts: u32,
    /// The endpoints that have it already.
    pub delivered_to: Vec<String>,
    /// The claim's token.
    pub claim: String,
}

/// What became of a claimed webhook notice.
#[derive(Debug, Clone, PartialEq)]
pub enum NoticeUpdate {
    /// Every endpoint has it: removed.
    Done,
    /// Some endpoint does not have it yet: try again then.
    Retry {
        /// When.
        next_attempt_at: Timestamp,
        /// The endpoints that have it.
        delivered_to: Vec<String>,
        /// What went wrong.
        detail: String,
    },
    /// Given up: kept as failed.
    Failed {
        /// The endpoints that have it.
        delivered_to: Vec<String>,
        /// What went wrong.
        detail: String,
    },
}

/// Webhook notices waiting and given up.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NoticeBacklog {
    /// Waiting or being sent.
    pub pending: i64,
    /// Given up.
    pub failed: i64,
    /// The last error of the notices given up, newest first (at most 20).
    pub failures: Vec<(i64, String, String)>,
}

/// An e-mail taken in and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboundMail {
    /// Id (0 before it is stored).
    pub id: i64,
    /// The SHA-256 of the message as received (hex).
    pub key: String,
    /// Where it came from: the mailbox or the folder.
    pub source: String,
    /// When it was taken in.
    pub taken_at: Timestamp,
    /// Its `Message-ID`.
    pub message_id: Option<String>,
    /// The sender's address.
    pub sender: Option<String>,
    /// The subject, decoded.
    pub subject: Option<String>,
    /// `registered`, `joined`, `receipt`, `ignored` or `refused`.
    pub outcome: String,
    /// The complaint it registered or joined.
    pub complaint_id: Option<ComplaintId>,
    /// Why it was ignored or refused, or what a receipt did.
    pub reason: Option<String>,
    /// Its size in bytes.
    pub size: i64,
}

/// One stored notification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredNotification {
    /// Id.
    pub id: i64,
    /// When.
    pub created_at: Timestamp,
    /// The notification.
    #[serde(flatten)]
    pub notification: redress_domain::complaint::Notification,
}

/// A stored label correction (training data).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredLabel {
    /// Complaint.
    pub complaint_id: ComplaintId,
    /// When.
    pub at: Timestamp,
    /// The correction.
    #[serde(flatten)]
    pub correction: redress_domain::complaint::LabelCorrection,
}

/// A user account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Id.
    pub id: String,
    /// Unique login name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Department, for handlers and department heads.
    pub department: Option<String>,
    /// Whether the account may act and receive work.
    pub active: bool,
    /// Open complaints owned.
    pub open_load: i64,
    /// Preferred language of the interface, if chosen.
    #[serde(default)]
    pub language: Option<String>,
}

/// A user to create; the token is stored only as its hash.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Id.
    pub id: String,
    /// Login name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Department.
    pub department: Option<String>,
    /// SHA-256 of the API token, hex.
    pub token_hash: String,
    /// Argon2 hash of a password, if one was set.
    pub password_hash: Option<String>,
    /// When.
    pub created_at: Timestamp,
}

/// List filters. All given conditions must hold.
#[derive(Debug, Clone, Default)]
pub struct ComplaintFilter {
    /// Any of these statuses.
    pub statuses: Vec<Status>,
    /// Channel wire name.
    pub channel: Option<String>,
    /// Owner department (forced for department-bound roles).
    pub department: Option<String>,
    /// Owner department is one of these (e.g. the departments of one branch); empty: any.
    pub departments: Vec<String>,
    /// Owner handler id.
    pub handler: Option<String>,
    /// Severity wire name.
    pub severity: Option<String>,
    /// Due state wire name.
    pub due_state: Option<String>,
    /// Business-type code prefix.
    pub business_type: Option<String>,
    /// Cause code prefix.
    pub cause: Option<String>,
    /// Received at or after.
    pub received_from: Option<Timestamp>,
    /// Received before.
    pub received_to: Option<Timestamp>,
    /// Only complaints waiting for someone's approval: a proposed resolution in status
    /// `awaiting_approval` or a pending extension request (in any status).
    pub awaiting_approval: bool,
    /// Keyset cursor: continue after this (received_at, id), newest first.
    pub after: Option<Cursor>,
    /// Page size (1–200).
    pub limit: u32,
}

/// A position in the newest-first list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// Received-at of the last row seen.
    pub received_at: Timestamp,
    /// Id of the last row seen.
    pub id: ComplaintId,
}

impl Cursor {
    /// Opaque text form for the API.
    pub fn encode(&self) -> String {
        format!("{}_{}", self.received_at.as_microsecond(), self.id)
    }

    /// Parses the text form.
    pub fn decode(text: &str) -> Option<Cursor> {
        let (micros, id) = text.split_once('_')?;
        Some(Cursor {
            received_at: Timestamp::from_microsecond(micros.parse().ok()?).ok()?,
            id: ComplaintId::parse(id)?,
        })
    }
}

/// A page of results.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// Rows.
    pub items: Vec<T>,
    /// Cursor for the next page, if there may be one.
    pub next: Option<Cursor>,
}

/// Storage of complaints, their history and the people who handle them.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Engine name, for logs and the health endpoint.
    fn engine(&self) -> &'static str;

    /// Applies pending migrations.
    async fn migrate(&self) -> StoreResult<()>;

    /// Registers a complaint atomically: number, handler, duplicate link, record, events,
    /// acknowledgement message, idempotency key. Durable when this returns `Ok`.
    async fn register(&self, registration: Registration) -> StoreResult<Registered>;

    /// One complaint.
    async fn complaint(&self, id: ComplaintId) -> StoreResult<Option<Complaint>>;

    /// The complaints among `ids` that exist, in no particular order (one query instead of one
    /// per id).
    async fn complaints(&self, ids: &[ComplaintId]) -> StoreResult<Vec<Complaint>>;

    /// One complaint by number.
    async fn complaint_by_number(&self, number: &str) -> StoreResult<Option<Complaint>>;

    /// The newest complaints matching a filter.
    async fn list(&self, filter: &ComplaintFilter) -> StoreResult<Page<ComplaintSummary>>;

    /// Saves a changed complaint with its outcome atomically (optimistic concurrency).
    async fn save(&self, change: Change) -> StoreResult<()>;

    /// A complaint's history, oldest first.
    async fn history(&self, id: ComplaintId) -> StoreResult<Vec<StoredEvent>>;

    /// A complaint's outbox messages, oldest first.
    async fn messages(&self, id: ComplaintId) -> StoreResult<Vec<StoredMessage>>;

    /// Claims at most `limit` webhook notices due at `now` (pending, or sending under a claim
    /// that ran out) under `claim` until `lease_until`; each goes to one claimer.
    async fn claim_notices(&self, now: Timestamp, lease_until: Timestamp, claim: &str, limit: u32) -> StoreResult<Vec<ClaimedNotice>>;

    /// Records what became of a claimed notice; `false` if the claim is no longer held.
    async fn finish_notice(&self, id: i64, claim: &str, update: NoticeUpdate) -> StoreResult<bool>;

    /// The webhook notices waiting and given up.
    async fn notice_backlog(&self) -> StoreResult<NoticeBacklog>;

    /// Whether an e-mail with this key (see [`InboundMail::key`]) was taken in before.
    async fn inbound_mail_known(&self, key: &str) -> StoreResult<bool>;

    /// Keeps an e-mail taken in, whole, with what became of it; `false` (and nothing stored) if
    /// its key was taken in before.
    async fn record_inbound_mail(&self, mail: InboundMail, raw: &[u8]) -> StoreResult<bool>;

    /// E-mails taken in, newest first, those with `outcome` only when given.
    async fn inbound_mails(&self, outcome: Option<&str>, limit: u32) -> StoreResult<Vec<InboundMail>>;

    /// One e-mail as it was received.
    async fn inbound_mail_raw(&self, id: i64) -> StoreResult<Option<Vec<u8>>>;

    /// Claims at most `limit` messages due at `now` on one of `channels` (pending ones whose
    /// attempt is due, and sending ones whose worker's claim ran out, as after a crash): marks
    /// them `sending` under the token `claim` until `lease_until` and counts the attempt. Several
    /// servers may claim at once; each message goes to one of them (on PostgreSQL `FOR UPDATE
    /// SKIP LOCKED`).
    async fn claim_messages(&self, now: Timestamp, lease_until: Timestamp, channels: &[redress_domain::delivery::DeliveryChannel], claim: &str, limit: u32) -> StoreResult<Vec<ClaimedMessage>>;

    /// Records what became of a claimed message, with its notification, atomically; `false`
    /// (and nothing changed) if the claim is no longer held.
    async fn finish_delivery(&self, update: DeliveryUpdate) -> StoreResult<bool>;

    /// Applies a receipt to the message the provider knows by its id, if its state takes it
    /// ([`redress_domain::delivery::DeliveryState::takes_receipt`]); the message as it is now,
    /// or `None` when no message took the receipt.
    async fn record_receipt(&self, receipt: DeliveryReceipt) -> StoreResult<Option<StoredMessage>>;

    /// Notifications for a role (and department), newest first.
    async fn notifications(&self, role: Role, department: Option<&str>, limit: u32) -> StoreResult<Vec<StoredNotification>>;

    /// Label corrections, oldest first (training data).
    async fn label_corrections(&self, limit: u32) -> StoreResult<Vec<StoredLabel>>;

    /// Complaints whose due state may need to change: the watched deadline has passed and they
    /// are not yet marked overdue, or it falls before `soon_before` and they are still marked on
    /// time. Soonest first.
    async fn due_candidates(&self, now: Timestamp, soon_before: Timestamp, limit: u32) -> StoreResult<Vec<Complaint>>;

    /// Creates a user.
    async fn create_user(&self, user: NewUser) -> StoreResult<User>;

    /// The active user holding a token (by hash).
    async fn user_by_token_hash(&self, token_hash: &str) -> StoreResult<Option<User>>;

    /// A user by id.
    async fn user(&self, id: &str) -> StoreResult<Option<User>>;

    /// A user by login name.
    async fn user_by_name(&self, name: &str) -> StoreResult<Option<User>>;

    /// All users.
    async fn users(&self) -> StoreResult<Vec<User>>;

    /// Number of complaints stored.
    async fn count(&self) -> StoreResult<u64>;

    /// Attachment content and its media type.
    async fn attachment(&self, sha256: &str) -> StoreResult<Option<(String, Vec<u8>)>>;

    /// Full-text search with filters, ranked.
    async fn search(&self, request: &SearchRequest) -> StoreResult<SearchResults>;

    /// Complaints sharing at least one of `band_keys`, most shared first, at most
    /// [`text::MAX_SIMILAR_CANDIDATES`]; at most `per_key_limit` newest complaints are read per
    /// key, so a very common key cannot make the lookup slow. `received_after` keeps only later arrivals; `exclude` leaves one out.
    async fn similar_candidates(
        &self,
        band_keys: &[i64],
        per_key_limit: u32,
        received_after: Option<Timestamp>,
        exclude: Option<ComplaintId>,
    ) -> StoreResult<Vec<SimilarCandidate>>;

    /// The text data of one complaint (fingerprint and reading), if indexed.
    async fn text_row(&self, id: ComplaintId) -> StoreResult<Option<TextRow>>;

    /// Text rows registered after `after_row`, in registration order.
    async fn text_rows_after(&self, after_row: i64, limit: u32) -> StoreResult<Vec<TextRow>>;

    /// Where the incident detector's scan stands (0 before the first scan).
    async fn incident_cursor(&self) -> StoreResult<i64>;

    /// Applies one scan of the incident detector atomically; `Conflict` if another detector
    /// moved the cursor first (then nothing is applied).
    async fn apply_incident_scan(&self, scan: IncidentScan) -> StoreResult<()>;

    /// The incidents the given complaints belong to: (complaint, incident id).
    async fn incidents_of(&self, ids: &[ComplaintId]) -> StoreResult<Vec<(ComplaintId, String)>>;

    /// Incidents with a member received at or after `since`, most recently active first. With
    /// `departments`, only incidents with at least one member owned by one of them.
    async fn incidents(&self, since: Option<Timestamp>, departments: Option<&[String]>, limit: u32) -> StoreResult<Vec<Incident>>;

    /// One incident and its members, newest first.
    async fn incident(&self, id: &str) -> StoreResult<Option<(Incident, Vec<IncidentMember>)>>;

    /// Stores a trained model; if `activate`, it becomes the active one for its target
    /// (atomically replacing the previous).
    async fn put_model(&self, info: ModelInfo, content: Vec<u8>) -> StoreResult<()>;

    /// Every stored model, newest first.
    async fn models(&self) -> StoreResult<Vec<ModelInfo>>;

    /// A model's serialised content.
    async fn model_content(&self, id: &str) -> StoreResult<Option<Vec<u8>>>;

    /// Makes a model the active one for its target.
    async fn activate_model(&self, id: &str) -> StoreResult<()>;

    /// Human-confirmed labels (corrections) with the complaint they label, the latest per
    /// complaint and dimension, oldest first.
    async fn labelled_texts(&self, dimension: &str, limit: u32) -> StoreResult<Vec<LabelledText>>;

    /// Complaints not in the text index yet (stored before it existed), oldest first.
    async fn unindexed(&self, limit: u32) -> StoreResult<Vec<Complaint>>;

    /// Indexes one complaint's text (search entry, fingerprint, reading), replacing any entry it
    /// had.
    async fn index_text(&self, id: ComplaintId, received_at: Timestamp, text: TextIndex) -> StoreResult<()>;

    /// Whether this app server should run the background jobs (deadline sweep, incident
    /// detection) now. Several servers share one database: one of them holds the jobs lock
    /// (on PostgreSQL a session advisory lock on a connection of its own, so the lock is
    /// released when that server stops or dies and another takes over at its next call).
    /// An embedded store has one server and always answers `true`.
    async fn lead_background_jobs(&self) -> StoreResult<bool>;

    /// Stores a new sign-in session; `NotFound` if the user does not exist.
    async fn create_session(&self, session: NewSession) -> StoreResult<()>;

    /// The live session: not revoked, not expired at `now`, its user active.
    async fn session(&self, id_hash: &str, now: Timestamp) -> StoreResult<Option<StoredSession>>;

    /// Ends a session (signing out); a session unknown or ended already is left as it is.
    async fn revoke_session(&self, id_hash: &str, at: Timestamp) -> StoreResult<()>;

    /// Revokes every session of a user (password reset, deactivation); returns how many (the
    /// sessions still live at `at`).
    async fn revoke_sessions_of(&self, user_id: &str, at: Timestamp) -> StoreResult<u64>;

    /// Records a failed sign-in under `key` (such as `user:alice` or `addr:1.2.3.4`). Failures
    /// older than a day are purged on the way.
    async fn record_sign_in_failure(&self, key: &str, at: Timestamp) -> StoreResult<()>;

    /// Failed sign-ins under `key` at or after `since`.
    async fn sign_in_failures(&self, key: &str, since: Timestamp) -> StoreResult<u64>;

    /// Forgets the failed sign-ins under `key` (after a successful one).
    async fn clear_sign_in_failures(&self, key: &str) -> StoreResult<()>;

    /// A user's password hash; `None` if the user does not exist or has no password.
    async fn password_hash(&self, user_id: &str) -> StoreResult<Option<String>>;

    /// Sets a user's password hash; `NotFound` if there is no such user.
    async fn set_password_hash(&self, user_id: &str, hash: &str) -> StoreResult<()>;

    /// Changes an account and returns it as stored; `NotFound` if there is no such user. The
    /// open-complaint count is left alone: it counts the complaints the user owns, which an
    /// account change does not move.
    async fn update_user(&self, user_id: &str, update: UserUpdate) -> StoreResult<User>;

    /// A page of a handler's work queue, soonest watched deadline first (none last), then by
    /// id, with counts over the whole queue.
    async fn work_queue(&self, queue: &WorkQueue) -> StoreResult<WorkPage>;

    /// The hash of a complaint's tracking code, if it has one.
    async fn tracking_code_hash(&self, id: ComplaintId) -> StoreResult<Option<String>>;

    /// The installation's secret named `name`, shared by every application server: the first
    /// caller's `candidate` is stored, and every caller (that one included) gets the stored one.
    async fn installation_secret(&self, name: &str, candidate: &[u8]) -> StoreResult<Vec<u8>>;

    /// Records that a user has read a notification (again: no change).
    async fn mark_notification_read(&self, user_id: &str, notification_id: i64, at: Timestamp) -> StoreResult<()>;

    /// Which of `ids` the user has read, ascending.
    async fn read_notifications(&self, user_id: &str, ids: &[i64]) -> StoreResult<Vec<i64>>;

    /// Sums of statistics cells (see [`stats`]).
    async fn stat_rows(&self, query: &StatQuery) -> StoreResult<Vec<StatRow>>;

    /// Every stored cell whose count or sum is not zero, in key order (for checks against a
    /// recount).
    async fn stat_cells(&self) -> StoreResult<Vec<stats::Cell>>;

    /// Empties the statistics cells (before [`Store::add_stat_cells`] rebuilds them from the
    /// records, with no server running).
    async fn clear_stat_cells(&self) -> StoreResult<()>;

    /// Adds cells to the statistics in one transaction.
    async fn add_stat_cells(&self, cells: &[stats::Cell]) -> StoreResult<()>;

    /// Stores `notifications` unless `once` was used before (then stores nothing and answers
    /// `false`): a job run on several servers, or again, tells people of the same thing once.
    async fn notify_once(&self, once: &str, notifications: &[redress_domain::complaint::Notification], at: Timestamp) -> StoreResult<bool>;

    /// The commentary written into a report (`report_key` names the report and its period), as
    /// JSON, with who wrote it last and when.
    async fn report_note(&self, report_key: &str) -> StoreResult<Option<(serde_json::Value, String, Timestamp)>>;

    /// Replaces a report's commentary.
    async fn set_report_note(&self, report_key: &str, body: &serde_json::Value, by: &str, at: Timestamp) -> StoreResult<()>;

    /// Complaints of the person known by any of `keys` (see [`columns::identity_keys`]),
    /// newest first, at most `limit`.
    async fn complaints_by_identity(&self, keys: &[String], limit: u32) -> StoreResult<Vec<Complaint>>;

    /// Files complaint `id`, received at `received_at`, under the identity `keys` (see
    /// [`columns::identity_keys`]); keys filed already are left as they are, so running it
    /// again changes nothing. Registration files new complaints itself; this is for complaints
    /// stored before the identity index existed. [`StoreError::NotFound`] if there is no such
    /// complaint.
    async fn index_identity(&self, id: ComplaintId, received_at: Timestamp, keys: &[String]) -> StoreResult<()>;
}
