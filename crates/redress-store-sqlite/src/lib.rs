//! SQLite storage for Redress: the embedded default.
//!
//! All writes that matter for throughput (registering complaints, saving actions) go through one
//! writer task that gathers whatever requests are waiting into a single transaction (group
//! commit): SQLite allows one writer at a time anyway, and one `fsync` for a batch instead of one
//! per complaint is what makes thousands of durable registrations a second possible. A request
//! that fails alone fails alone (see [`writer`]). Reads use a pool of connections that WAL mode
//! lets run beside the writer.
//!
//! Durability: WAL with `synchronous = FULL`, so a registration acknowledged to the caller has
//! been synced to disk.
//!
//! The SQL SQLite shares with PostgreSQL lives in `redress-store-sql`; this crate keeps the
//! writer, the FTS5 search index and the complaint-number counter.

mod engine;
mod migrate;
mod queries;
mod text;
mod writer;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use jiff::Timestamp;
use redress_domain::complaint::ComplaintId;
use redress_store::{Change, Registered, Registration, SearchRequest, SearchResults, StoreError, StoreResult, TextIndex, TextRow};
use redress_store_sql::acquire;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, SqliteConnection};
use tokio::sync::{mpsc, oneshot};
use tracing::instrument;

pub use crate::engine::SqliteEngine;
use crate::writer::Job;

/// The SQLite store.
#[derive(Clone)]
pub struct SqliteStore {
    reads: SqlitePool,
    writer: mpsc::Sender<Job>,
}

/// Why the store could not be opened or its writer could not take a request.
#[derive(Debug, thiserror::Error)]
enum WriterError {
    #[error("cannot create the database's directory {0}")]
    CreateDirectory(PathBuf, #[source] std::io::Error),
    #[error("cannot start the writer")]
    Start(#[source] std::io::Error),
    #[error("the writer has stopped")]
    Stopped,
}

fn options(url: &str) -> StoreResult<SqliteConnectOptions> {
    Ok(SqliteConnectOptions::from_str(url)
        .map_err(StoreError::db)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true)
        .pragma("temp_store", "memory"))
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `url` (`sqlite://PATH`). The parent
    /// directory is created too, so a fresh machine needs no set-up.
    pub async fn open(url: &str) -> StoreResult<SqliteStore> {
        if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            let path = path.split('?').next().unwrap_or(path);
            if let Some(parent) = Path::new(path).parent()
                && !parent.as_os_str().is_empty()
            {
                std::fs::create_dir_all(parent).map_err(|e| StoreError::db(WriterError::CreateDirectory(parent.to_path_buf(), e)))?;
            }
        }
        let opts = options(url)?;
        let reads = SqlitePoolOptions::new()
            .max_connections(4)
            .min_connections(1)
            .connect_with(opts.clone())
            .await
            .map_err(StoreError::db)?;
        let (tx, rx) = mpsc::channel(4096);
        // The writer gets a thread and runtime of its own: every statement it waits for resumes
        // it at once instead of queueing behind the request handlers, and the whole intake
        // rate hangs on how fast this one task turns around.
        let (ready_tx, ready_rx) = oneshot::channel();
        std::thread::Builder::new()
            .name("redress-sqlite-writer".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(StoreError::db(WriterError::Start(e))));
                        return;
                    }
                };
                // A batch's statements differ only by their number of rows, so a large cache
                // keeps every variant prepared instead of compiling SQL on every commit.
                let opts = opts.statement_cache_capacity(2048);
                runtime.block_on(async move {
                    match SqliteConnection::connect_with(&opts).await {
                        Ok(conn) => {
                            let _ = ready_tx.send(Ok(()));
                            writer::run(conn, rx).await;
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(StoreError::db(e)));
                        }
                    }
                });
            })
            .map_err(|e| StoreError::db(WriterError::Start(e)))?;
        ready_rx.await.map_err(|_| StoreError::db(WriterError::Stopped))??;
        Ok(SqliteStore { reads, writer: tx })
    }

    async fn submit<T>(&self, make: impl FnOnce(oneshot::Sender<StoreResult<T>>) -> Job) -> StoreResult<T> {
        let (tx, rx) = oneshot::channel();
        self.writer.send(make(tx)).await.map_err(|_| StoreError::db(WriterError::Stopped))?;
        rx.await.map_err(|_| StoreError::db(WriterError::Stopped))?
    }
}

redress_store_sql::impl_store! {
    engine: SqliteEngine, store: SqliteStore, pool: reads,

    fn engine(&self) -> &'static str {
        "sqlite"
    }

    #[instrument(skip(self))]
    async fn migrate(&self) -> StoreResult<()> {
        migrate::run(&mut *acquire(&self.reads).await?).await
    }

    #[instrument(skip_all, fields(id = %registration.id))]
    async fn register(&self, registration: Registration) -> StoreResult<Registered> {
        self.submit(|reply| Job::Register(Box::new(registration), reply)).await
    }

    #[instrument(skip_all, fields(id = %change.complaint.id))]
    async fn save(&self, change: Change) -> StoreResult<()> {
        self.submit(|reply| Job::Save(Box::new(change), reply)).await
    }

    #[instrument(skip(self, request), fields(phrases = request.phrases.len()))]
    async fn search(&self, request: &SearchRequest) -> StoreResult<SearchResults> {
        text::search(&mut *acquire(&self.reads).await?, request).await
    }

    // The writer hands out text-row ids in commit order: every row up to the last is
    // committed.
    #[instrument(skip(self))]
    async fn text_rows_after(&self, after_row: i64, limit: u32) -> StoreResult<Vec<TextRow>> {
        redress_store_sql::text::text_rows_after::<SqliteEngine>(&mut *acquire(&self.reads).await?, after_row, None, limit).await
    }

    #[instrument(skip(self, text))]
    async fn index_text(&self, id: ComplaintId, received_at: Timestamp, text: TextIndex) -> StoreResult<()> {
        text::index_text(&mut *acquire(&self.reads).await?, id, received_at, &text).await
    }

    // One process owns an SQLite database.
    async fn lead_background_jobs(&self) -> StoreResult<bool> {
        Ok(true)
    }
}
