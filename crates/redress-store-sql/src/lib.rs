//! The SQL both Redress store engines share, written once.
//!
//! Most of what a store does is plain SQL that SQLite and PostgreSQL read alike: the complaint
//! rows and their history, users, lists and their filters, incidents, models, the statistics
//! cells and the identity index, and what the web front end keeps (sessions, failed sign-ins,
//! work queues). It lives here,
//! generic over an [`Engine`]: the engine crate names its sqlx database and the few spellings
//! that differ, and sqlx's `QueryBuilder` writes each engine's placeholders (`?` or `$n`).
//!
//! What truly differs stays in the engine crates: SQLite's group-commit writer and FTS5 index,
//! PostgreSQL's `tsvector` index, sequences and advisory locks.
//!
//! Every column is read with `try_get` (see [`get`]): a row that does not decode is an error
//! for its request, never a panic, which on SQLite's writer thread would stop all intake.

pub mod delivery;
mod engine;
pub mod filter;
pub mod intake;
pub mod migrate;
pub mod records;
pub mod stats;
mod store_impl;
pub mod text;
pub mod users;
pub mod web;

pub use engine::{Bind, Builder, Connection, Db, Engine, Get, GetStr, Run, acquire, execute, fetch_all, fetch_optional, get, text as get_text};

/// Rows per multi-row `INSERT`: SQLite takes at most 32,766 bound values in one statement, and
/// the widest row (a complaint) binds 19.
pub const ROWS_PER_STATEMENT: usize = 400;

/// Values per `IN (…)` list, well below SQLite's limit of bound values per statement.
pub const VALUES_PER_LIST: usize = 500;

/// What [`impl_store!`] expands to refers to these, so that an engine crate needs no imports
/// for it.
#[doc(hidden)]
pub mod macro_support {
    pub use async_trait::async_trait;
    pub use jiff::Timestamp;
    pub use redress_domain::complaint::{Complaint, ComplaintId, Notification};
    pub use redress_domain::org::Role;
    pub use redress_domain::delivery::DeliveryChannel;
    pub use redress_store::{
        ComplaintFilter, ComplaintSummary, Incident, IncidentMember, IncidentScan, LabelledText, ModelInfo, NewSession, NewUser, Page,
        SimilarCandidate, StatQuery, ClaimedMessage, ClaimedNotice, DeliveryReceipt, DeliveryUpdate, InboundMail, NoticeBacklog, NoticeUpdate, StatRow, Store, StoreError, StoreResult, StoredEvent, StoredLabel, StoredMessage, StoredNotification, StoredSession,
        TextRow, User, UserUpdate, WorkPage, WorkQueue,
    };
    pub use redress_store::stats::Cell;
    pub use tracing::instrument;
}
