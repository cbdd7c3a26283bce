//! SQLite storage for Redress: the embedded default.
//!
//! All writes that matter for throughput (registering complaints, saving actions) go through one
//! writer task that gathers whatever requests are waiting into a single transaction (group
//! commit): SQLite allows one writer at a time anyway, and one `fsync` for a batch instead of one
//! per complaint is what makes thousands of durable registrations a second possible. Each request
//! runs inside its own savepoint, so one bad request fails alone. Reads use a pool of
//! connections that WAL mode lets run beside the writer.
//!
//! Durability: WAL with `synchronous = FULL`, so a registration acknowledged to the caller has
//! been synced to disk.

mod migrate;
mod queries;
mod text;
mod writer;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use redress_domain::complaint::{Complaint, ComplaintId};
use redress_domain::org::Role;
use redress_store::columns::{decode, decode_complaint, decode_event, micros};
use redress_store::{
    Change, ComplaintFilter, ComplaintSummary, Incident, IncidentMember, IncidentScan, LabelledText, ModelInfo, NewUser, Page,
    Registered, Registration, SearchRequest, SearchResults, SimilarCandidate, Store, StoreError, StoreResult, StoredEvent,
    StoredLabel, StoredMessage, StoredNotification, TextRow, User,
};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, Row, SqliteConnection};
use tokio::sync::{mpsc, oneshot};
use tracing::instrument;

use crate::writer::Job;

/// The SQLite store.
#[derive(Clone)]
pub struct SqliteStore {
    reads: SqlitePool,
    writer: mpsc::Sender<Job>,
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
                std::fs::create_dir_all(parent).map_err(|e| StoreError::Database(format!("cannot create {}: {e}", parent.display())))?;
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
                        let _ = ready_tx.send(Err(StoreError::Database(format!("writer runtime: {e}"))));
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
            .map_err(|e| StoreError::Database(format!("starting the writer thread: {e}")))?;
        ready_rx.await.map_err(|_| StoreError::Database("the writer thread stopped".into()))??;
        Ok(SqliteStore { reads, writer: tx })
    }

    async fn submit<T>(&self, make: impl FnOnce(oneshot::Sender<StoreResult<T>>) -> Job) -> StoreResult<T> {
        let (tx, rx) = oneshot::channel();
        self.writer.send(make(tx)).await.map_err(|_| StoreError::Database("the writer has stopped".into()))?;
        rx.await.map_err(|_| StoreError::Database("the writer has stopped".into()))?
    }
}

fn user_from_row(row: &sqlx::sqlite::SqliteRow) -> StoreResult<User> {
    let role: String = row.try_get("role").map_err(StoreError::db)?;
    Ok(User {
        id: row.try_get("id").map_err(StoreError::db)?,
        name: row.try_get("name").map_err(StoreError::db)?,
        role: Role::parse(&role).map_err(StoreError::Corrupt)?,
        department: row.try_get("department").map_err(StoreError::db)?,
        active: row.try_get("active").map_err(StoreError::db)?,
        open_load: row.try_get("open_load").map_err(StoreError::db)?,
    })
}

const USER_COLUMNS: &str = "id, name, role, department, active, open_load";

#[async_trait]
impl Store for SqliteStore {
    fn engine(&self) -> &'static str {
        "sqlite"
    }

    #[instrument(skip(self))]
    async fn migrate(&self) -> StoreResult<()> {
        let mut conn = self.reads.acquire().await.map_err(StoreError::db)?;
        migrate::run(&mut conn).await
    }

    #[instrument(skip_all, fields(id = %registration.id))]
    async fn register(&self, registration: Registration) -> StoreResult<Registered> {
        self.submit(|reply| Job::Register(Box::new(registration), reply)).await
    }

    #[instrument(skip(self))]
    async fn complaint(&self, id: ComplaintId) -> StoreResult<Option<Complaint>> {
        let row = sqlx::query("SELECT body FROM complaints WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&self.reads)
            .await
            .map_err(StoreError::db)?;
        row.map(|r| decode_complaint(r.get::<&str, _>(0))).transpose()
    }

    #[instrument(skip(self), fields(n = ids.len()))]
    async fn complaints(&self, ids: &[ComplaintId]) -> StoreResult<Vec<Complaint>> {
        let mut found = Vec::with_capacity(ids.len());
        // Well below SQLite's limit of bound parameters per statement.
        for chunk in ids.chunks(500) {
            let mut q: sqlx::QueryBuilder<sqlx::Sqlite> = sqlx::QueryBuilder::new("SELECT body FROM complaints WHERE id IN (");
            let mut list = q.separated(", ");
            for id in chunk {
                list.push_bind(id.to_string());
            }
            q.push(")");
            let rows = q.build().fetch_all(&self.reads).await.map_err(StoreError::db)?;
            for r in &rows {
                found.push(decode_complaint(r.get::<&str, _>(0))?);
            }
        }
        Ok(found)
    }

    #[instrument(skip(self))]
    async fn complaint_by_number(&self, number: &str) -> StoreResult<Option<Complaint>> {
        let row = sqlx::query("SELECT body FROM complaints WHERE number = ?")
            .bind(number)
            .fetch_optional(&self.reads)
            .await
            .map_err(StoreError::db)?;
        row.map(|r| decode_complaint(r.get::<&str, _>(0))).transpose()
    }

    #[instrument(skip(self))]
    async fn list(&self, filter: &ComplaintFilter) -> StoreResult<Page<ComplaintSummary>> {
        let mut conn = self.reads.acquire().await.map_err(StoreError::db)?;
        queries::list(&mut conn, filter).await
    }

    #[instrument(skip_all, fields(id = %change.complaint.id))]
    async fn save(&self, change: Change) -> StoreResult<()> {
        self.submit(|reply| Job::Save(Box::new(change), reply)).await
    }

    #[instrument(skip(self))]
    async fn history(&self, id: ComplaintId) -> StoreResult<Vec<StoredEvent>> {
        let rows = sqlx::query("SELECT seq, body FROM events WHERE complaint_id = ? ORDER BY seq")
            .bind(id.to_string())
            .fetch_all(&self.reads)
            .await
            .map_err(StoreError::db)?;
        rows.iter().map(|r| Ok(StoredEvent { seq: r.get(0), event: decode_event(r.get::<&str, _>(1))? })).collect()
    }

    #[instrument(skip(self))]
    async fn messages(&self, id: ComplaintId) -> StoreResult<Vec<StoredMessage>> {
        let rows = sqlx::query("SELECT id, state, body FROM outbox WHERE complaint_id = ? ORDER BY id")
            .bind(id.to_string())
            .fetch_all(&self.reads)
            .await
            .map_err(StoreError::db)?;
        rows.iter()
            .map(|r| Ok(StoredMessage { id: r.get(0), complaint_id: id, state: r.get(1), message: decode("message", r.get::<&str, _>(2))? }))
            .collect()
    }

    #[instrument(skip(self))]
    async fn notifications(&self, role: Role, department: Option<&str>, limit: u32) -> StoreResult<Vec<StoredNotification>> {
        let rows = sqlx::query(
            "SELECT id, created_at, body FROM notifications WHERE role = ? AND (department IS NULL OR ? IS NULL OR department = ?) ORDER BY id DESC LIMIT ?",
        )
        .bind(role.as_str())
        .bind(department)
        .bind(department)
        .bind(i64::from(limit))
        .fetch_all(&self.reads)
        .await
        .map_err(StoreError::db)?;
        rows.iter()
            .map(|r| Ok(StoredNotification { id: r.get(0), created_at: micros(r.get(1))?, notification: decode("notification", r.get::<&str, _>(2))? }))
            .collect()
    }

    #[instrument(skip(self))]
    async fn label_corrections(&self, limit: u32) -> StoreResult<Vec<StoredLabel>> {
        let rows = sqlx::query("SELECT complaint_id, at, body FROM label_corrections ORDER BY id LIMIT ?")
            .bind(i64::from(limit))
            .fetch_all(&self.reads)
            .await
            .map_err(StoreError::db)?;
        rows.iter()
            .map(|r| {
                Ok(StoredLabel {
                    complaint_id: redress_store::columns::complaint_id(r.get::<&str, _>(0))?,
                    at: micros(r.get(1))?,
                    correction: decode("label", r.get::<&str, _>(2))?,
                })
            })
            .collect()
    }

    #[instrument(skip(self))]
    async fn due_candidates(&self, now: Timestamp, soon_before: Timestamp, limit: u32) -> StoreResult<Vec<Complaint>> {
        let rows = sqlx::query(
            "SELECT body FROM complaints WHERE watch_at IS NOT NULL AND watch_at < ? \
             AND ((watch_at < ? AND due_state <> 'overdue') OR due_state = 'on_time') ORDER BY watch_at LIMIT ?",
        )
            .bind(soon_before.as_microsecond())
            .bind(now.as_microsecond())
            .bind(i64::from(limit))
            .fetch_all(&self.reads)
            .await
            .map_err(StoreError::db)?;
        rows.iter().map(|r| decode_complaint(r.get::<&str, _>(0))).collect()
    }

    #[instrument(skip(self, user), fields(name = %user.name))]
    async fn create_user(&self, user: NewUser) -> StoreResult<User> {
        let result = sqlx::query(
            "INSERT INTO users (id, name, role, department, token_hash, password_hash, active, open_load, created_at) VALUES (?, ?, ?, ?, ?, ?, 1, 0, ?)",
        )
        .bind(&user.id)
        .bind(&user.name)
        .bind(user.role.as_str())
        .bind(&user.department)
        .bind(&user.token_hash)
        .bind(&user.password_hash)
        .bind(user.created_at.as_microsecond())
        .execute(&self.reads)
        .await;
        match result {
            Ok(_) => {}
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(StoreError::Duplicate(format!("a user named '{}' already exists", user.name)));
            }
            Err(e) => return Err(StoreError::db(e)),
        }
        self.user(&user.id).await?.ok_or(StoreError::NotFound)
    }

    #[instrument(skip_all)]
    async fn user_by_token_hash(&self, token_hash: &str) -> StoreResult<Option<User>> {
        let row = sqlx::query("SELECT id, name, role, department, active, open_load FROM users WHERE token_hash = ? AND active = 1")
            .bind(token_hash)
            .fetch_optional(&self.reads)
            .await
            .map_err(StoreError::db)?;
        row.as_ref().map(user_from_row).transpose()
    }

    #[instrument(skip(self))]
    async fn user(&self, id: &str) -> StoreResult<Option<User>> {
        let row = sqlx::query("SELECT id, name, role, department, active, open_load FROM users WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.reads)
            .await
            .map_err(StoreError::db)?;
        row.as_ref().map(user_from_row).transpose()
    }

    #[instrument(skip(self))]
    async fn user_by_name(&self, name: &str) -> StoreResult<Option<User>> {
        let row = sqlx::query("SELECT id, name, role, department, active, open_load FROM users WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.reads)
            .await
            .map_err(StoreError::db)?;
        row.as_ref().map(user_from_row).transpose()
    }

    #[instrument(skip(self))]
    async fn users(&self) -> StoreResult<Vec<User>> {
        let _ = USER_COLUMNS;
        let rows = sqlx::query("SELECT id, name, role, department, active, open_load FROM users ORDER BY name")
            .fetch_all(&self.reads)
            .await
            .map_err(StoreError::db)?;
        rows.iter().map(user_from_row).collect()
    }

    #[instrument(skip(self))]
    async fn count(&self) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM complaints").fetch_one(&self.reads).await.map_err(StoreError::db)?;
        Ok(n as u64)
    }
    #[instrument(skip(self, content), fields(size = content.len()))]
    async fn put_attachment(&self, sha256: &str, media_type: &str, content: &[u8], at: Timestamp) -> StoreResult<()> {
        sqlx::query("INSERT INTO attachments (sha256, media_type, size, content, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING")
            .bind(sha256)
            .bind(media_type)
            .bind(content.len() as i64)
            .bind(content)
            .bind(at.as_microsecond())
            .execute(&self.reads)
            .await
            .map_err(StoreError::db)?;
        Ok(())
    }

    #[instrument(skip(self))]
    async fn attachment(&self, sha256: &str) -> StoreResult<Option<(String, Vec<u8>)>> {
        let row = sqlx::query("SELECT media_type, content FROM attachments WHERE sha256 = ?")
            .bind(sha256)
            .fetch_optional(&self.reads)
            .await
            .map_err(StoreError::db)?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
    }

    #[instrument(skip(self, request), fields(phrases = request.phrases.len()))]
    async fn search(&self, request: &SearchRequest) -> StoreResult<SearchResults> {
        let mut conn = self.reads.acquire().await.map_err(StoreError::db)?;
        text::search(&mut conn, request).await
    }

    #[instrument(skip(self, band_keys))]
    async fn similar_candidates(
        &self,
        band_keys: &[i64],
        per_key_limit: u32,
        received_after: Option<Timestamp>,
        exclude: Option<ComplaintId>,
    ) -> StoreResult<Vec<SimilarCandidate>> {
        text::similar_candidates(&self.reads, band_keys, per_key_limit, received_after, exclude).await
    }

    #[instrument(skip(self))]
    async fn text_row(&self, id: ComplaintId) -> StoreResult<Option<TextRow>> {
        text::text_row_of(&self.reads, id).await
    }

    #[instrument(skip(self))]
    async fn text_rows_after(&self, after_row: i64, limit: u32) -> StoreResult<Vec<TextRow>> {
        text::text_rows_after(&self.reads, after_row, limit).await
    }

    async fn incident_cursor(&self) -> StoreResult<i64> {
        text::incident_cursor(&self.reads).await
    }

    #[instrument(skip(self, scan), fields(from = scan.from_row, to = scan.to_row))]
    async fn apply_incident_scan(&self, scan: IncidentScan) -> StoreResult<()> {
        text::apply_incident_scan(&self.reads, scan).await
    }

    async fn incidents_of(&self, ids: &[ComplaintId]) -> StoreResult<Vec<(ComplaintId, String)>> {
        text::incidents_of(&self.reads, ids).await
    }

    #[instrument(skip(self))]
    async fn incidents(&self, since: Option<Timestamp>, limit: u32) -> StoreResult<Vec<Incident>> {
        text::incidents(&self.reads, since, limit).await
    }

    #[instrument(skip(self))]
    async fn incident(&self, id: &str) -> StoreResult<Option<(Incident, Vec<IncidentMember>)>> {
        text::incident(&self.reads, id).await
    }

    #[instrument(skip(self, info, content), fields(id = %info.id, target = %info.target))]
    async fn put_model(&self, info: ModelInfo, content: Vec<u8>) -> StoreResult<()> {
        text::put_model(&self.reads, info, content).await
    }

    async fn models(&self) -> StoreResult<Vec<ModelInfo>> {
        text::models(&self.reads).await
    }

    async fn model_content(&self, id: &str) -> StoreResult<Option<Vec<u8>>> {
        text::model_content(&self.reads, id).await
    }

    async fn activate_model(&self, id: &str) -> StoreResult<()> {
        text::activate_model(&self.reads, id).await
    }

    async fn labelled_texts(&self, dimension: &str, limit: u32) -> StoreResult<Vec<LabelledText>> {
        text::labelled_texts(&self.reads, dimension, limit).await
    }

    async fn unindexed(&self, limit: u32) -> StoreResult<Vec<Complaint>> {
        text::unindexed(&self.reads, limit).await
    }

    #[instrument(skip(self, text))]
    async fn index_text(&self, id: ComplaintId, received_at: Timestamp, text: redress_store::TextIndex) -> StoreResult<()> {
        text::index_text(&self.reads, id, received_at, text).await
    }
}
