//! PostgreSQL storage for Redress: for deployments that run several application servers
//! against one database.
//!
//! Registrations go through a few writer tasks that register whatever is waiting together, in
//! one transaction with multi-row statements (see [`writer`]); a registration that cannot
//! share its batch's fate runs again in a transaction of its own. Saving an action runs in its
//! own transaction on a connection from the pool. Complaint numbers come from a sequence, so
//! concurrent registrations (and concurrent servers) never wait on each other for one. One
//! server at a time runs the background jobs: the one holding the jobs lock.
//!
//! Durability: the server's `synchronous_commit` (`on` by default), under which a registration
//! acknowledged to the caller has been flushed to the write-ahead log.
//!
//! The SQL PostgreSQL shares with SQLite lives in `redress-store-sql`; this crate keeps the
//! `tsvector` search index, the complaint-number sequence and the advisory locks.

mod engine;
mod jobs;
mod migrate;
mod queries;
mod text;
mod writer;

use std::str::FromStr;
use std::sync::Arc;

use jiff::Timestamp;
use redress_domain::complaint::ComplaintId;
use redress_store::{Change, Registered, Registration, SearchRequest, SearchResults, StoreError, StoreResult, TextIndex, TextRow};
use redress_store_sql::acquire;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Connection, PgConnection};
use tracing::instrument;

pub use crate::engine::PostgresEngine;
use crate::jobs::JobsLock;
use crate::writer::Writer;

/// Most connections the pool opens.
const MAX_CONNECTIONS: u32 = 16;

/// The PostgreSQL store. Clones share the pool, the registration writers and the jobs lock.
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    writer: Writer,
    jobs: Arc<JobsLock>,
}

/// A schema name that is not a plain lower-case SQL identifier.
#[derive(Debug, thiserror::Error)]
#[error("invalid schema name '{0}': use lower-case ASCII letters, digits and '_' (at most 63)")]
pub struct InvalidSchemaName(String);

fn options(url: &str) -> StoreResult<PgConnectOptions> {
    PgConnectOptions::from_str(url).map_err(StoreError::db)
}

async fn pool(opts: PgConnectOptions) -> StoreResult<PgPool> {
    PgPoolOptions::new().max_connections(MAX_CONNECTIONS).min_connections(1).connect_with(opts).await.map_err(StoreError::db)
}

/// Whether `schema` is a plain lower-case SQL identifier that needs no quoting anywhere.
fn plain_identifier(schema: &str) -> bool {
    let mut chars = schema.chars();
    schema.len() <= 63
        && chars.next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://USER@HOST:PORT/DATABASE`, with any of the
    /// parameters libpq-style URLs accept). Call [`Store::migrate`](redress_store::Store::migrate)
    /// before use.
    pub async fn connect(url: &str) -> StoreResult<PostgresStore> {
        let opts = options(url)?;
        let pool = pool(opts.clone()).await?;
        Ok(PostgresStore { writer: Writer::start(pool.clone()), pool, jobs: Arc::new(JobsLock::new(opts, None)) })
    }

    /// Connects like [`PostgresStore::connect`], but keeps every table of the store in the
    /// schema `schema`, which is created if it does not exist yet.
    ///
    /// Each pooled connection gets `search_path` set to that schema alone, so several
    /// independent stores can share one database: tests use a fresh schema each (for example
    /// `t_` followed by a random UUID in simple form) to run isolated and in parallel against a
    /// single PostgreSQL server. Call [`Store::migrate`](redress_store::Store::migrate)
    /// afterwards to create the tables.
    ///
    /// `schema` must be a plain lower-case identifier: ASCII letters, digits and `_`, not
    /// starting with a digit, at most 63 bytes. Anything else is refused with
    /// [`StoreError::Database`] ([`InvalidSchemaName`]).
    pub async fn connect_with_schema(url: &str, schema: &str) -> StoreResult<PostgresStore> {
        if !plain_identifier(schema) {
            return Err(StoreError::db(InvalidSchemaName(schema.to_string())));
        }
        let opts = options(url)?;
        let mut conn = PgConnection::connect_with(&opts).await.map_err(StoreError::db)?;
        // Validated above: a plain identifier cannot inject anything.
        let created = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA IF NOT EXISTS {schema}"))).execute(&mut conn).await;
        match created {
            Ok(_) => {}
            // Another process created it at the same moment: it exists, which is all we need.
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() || e.code().as_deref() == Some("42P06") => {}
            Err(e) => return Err(StoreError::db(e)),
        }
        conn.close().await.map_err(StoreError::db)?;
        let opts = opts.options([("search_path", schema)]);
        let pool = pool(opts.clone()).await?;
        Ok(PostgresStore { writer: Writer::start(pool.clone()), pool, jobs: Arc::new(JobsLock::new(opts, Some(schema))) })
    }

    /// Drops a schema made by [`PostgresStore::connect_with_schema`] with everything in it; for
    /// throw-away test and benchmark databases.
    pub async fn drop_schema(url: &str, schema: &str) -> StoreResult<()> {
        if !plain_identifier(schema) {
            return Err(StoreError::db(InvalidSchemaName(schema.to_string())));
        }
        let mut conn = PgConnection::connect_with(&options(url)?).await.map_err(StoreError::db)?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))).execute(&mut conn).await.map_err(StoreError::db)?;
        conn.close().await.map_err(StoreError::db)
    }

    /// Closes the store's connections (those of every clone): the pool's, and the jobs lock's,
    /// which hands the background jobs to another server at once.
    pub async fn close(&self) {
        self.jobs.release().await;
        self.pool.close().await;
    }
}

redress_store_sql::impl_store! {
    engine: PostgresEngine, store: PostgresStore, pool: pool,

    fn engine(&self) -> &'static str {
        "postgres"
    }

    #[instrument(skip(self))]
    async fn migrate(&self) -> StoreResult<()> {
        migrate::run(&mut *acquire(&self.pool).await?).await
    }

    #[instrument(skip_all, fields(id = %registration.id))]
    async fn register(&self, registration: Registration) -> StoreResult<Registered> {
        self.writer.register(registration).await
    }

    #[instrument(skip_all, fields(id = %change.complaint.id))]
    async fn save(&self, change: Change) -> StoreResult<()> {
        queries::save(&self.pool, &change).await
    }

    #[instrument(skip(self, request), fields(phrases = request.phrases.len()))]
    async fn search(&self, request: &SearchRequest) -> StoreResult<SearchResults> {
        text::search(&mut *acquire(&self.pool).await?, request).await
    }

    #[instrument(skip(self))]
    async fn text_rows_after(&self, after_row: i64, limit: u32) -> StoreResult<Vec<TextRow>> {
        text::text_rows_after(&self.pool, after_row, limit).await
    }

    #[instrument(skip(self, text))]
    async fn index_text(&self, id: ComplaintId, received_at: Timestamp, text: TextIndex) -> StoreResult<()> {
        text::index_text(&self.pool, id, received_at, text).await
    }

    async fn lead_background_jobs(&self) -> StoreResult<bool> {
        self.jobs.lead().await
    }
}
