//! PostgreSQL storage for Redress: for deployments that run several application servers
//! against one database.
//!
//! Every write (registering a complaint, saving an action) runs in its own transaction on a
//! connection from the pool. PostgreSQL takes concurrent writers in its stride, and its own group
//! commit gathers the `fsync`s of transactions committing together, so no writer task is needed
//! here. Complaint numbers come from a sequence, so concurrent registrations never wait on each
//! other for one.
//!
//! Durability: the server's `synchronous_commit` (`on` by default), under which a registration
//! acknowledged to the caller has been flushed to the write-ahead log.

mod migrate;
mod queries;
mod text;

use std::str::FromStr;

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
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{Connection, PgConnection, Row};
use tracing::instrument;

/// Most connections the pool opens.
const MAX_CONNECTIONS: u32 = 16;

/// The PostgreSQL store.
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

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
    /// parameters libpq-style URLs accept). Call [`Store::migrate`] before use.
    pub async fn connect(url: &str) -> StoreResult<PostgresStore> {
        Ok(PostgresStore { pool: pool(options(url)?).await? })
    }

    /// Connects like [`PostgresStore::connect`], but keeps every table of the store in the
    /// schema `schema`, which is created if it does not exist yet.
    ///
    /// Each pooled connection gets `search_path` set to that schema alone, so several
    /// independent stores can share one database: tests use a fresh schema each (for example
    /// `t_` followed by a random UUID in simple form) to run isolated and in parallel against a
    /// single PostgreSQL server. Call [`Store::migrate`] afterwards to create the tables.
    ///
    /// `schema` must be a plain lower-case identifier: ASCII letters, digits and `_`, not
    /// starting with a digit, at most 63 bytes. Anything else is refused with
    /// [`StoreError::Database`].
    pub async fn connect_with_schema(url: &str, schema: &str) -> StoreResult<PostgresStore> {
        if !plain_identifier(schema) {
            return Err(StoreError::Database(format!(
                "invalid schema name '{schema}': use lower-case ASCII letters, digits and '_' (at most 63)"
            )));
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
        Ok(PostgresStore { pool: pool(opts.options([("search_path", schema)])).await? })
    }

    /// Drops a schema made by [`PostgresStore::connect_with_schema`] with everything in it; for
    /// throw-away test and benchmark databases.
    pub async fn drop_schema(url: &str, schema: &str) -> StoreResult<()> {
        if !plain_identifier(schema) {
            return Err(StoreError::Database(format!("invalid schema name '{schema}'")));
        }
        let mut conn = PgConnection::connect_with(&options(url)?).await.map_err(StoreError::db)?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))).execute(&mut conn).await.map_err(StoreError::db)?;
        conn.close().await.map_err(StoreError::db)
    }
}

fn user_from_row(row: &PgRow) -> StoreResult<User> {
    let role: String = row.try_get("role").map_err(StoreError::db)?;
    Ok(User {
        id: row.try_get("id").map_err(StoreError::db)?,
        name: row.try_get("name").map_err(StoreError::db)?,
        role: Role::parse(&role).map_err(StoreError::Corrupt)?,
        department: row.try_get("department").map_err(StoreError::db)?,
        active: row.try_get::<bool, _>("active").map_err(StoreError::db)?,
        open_load: row.try_get::<i64, _>("open_load").map_err(StoreError::db)?,
    })
}

fn text(row: &PgRow, index: usize) -> StoreResult<&str> {
    row.try_get::<&str, _>(index).map_err(StoreError::db)
}

fn int(row: &PgRow, index: usize) -> StoreResult<i64> {
    row.try_get::<i64, _>(index).map_err(StoreError::db)
}

#[async_trait]
impl Store for PostgresStore {
    fn engine(&self) -> &'static str {
        "postgres"
    }

    #[instrument(skip(self))]
    async fn migrate(&self) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(StoreError::db)?;
        migrate::run(&mut conn).await
    }

    #[instrument(skip_all, fields(id = %registration.id))]
    async fn register(&self, registration: Registration) -> StoreResult<Registered> {
        queries::register(&self.pool, registration).await
    }

    #[instrument(skip(self))]
    async fn complaint(&self, id: ComplaintId) -> StoreResult<Option<Complaint>> {
        let row = sqlx::query("SELECT body FROM complaints WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::db)?;
        row.map(|r| decode_complaint(text(&r, 0)?)).transpose()
    }

    #[instrument(skip(self), fields(n = ids.len()))]
    async fn complaints(&self, ids: &[ComplaintId]) -> StoreResult<Vec<Complaint>> {
        let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
        let rows = sqlx::query("SELECT body FROM complaints WHERE id = ANY($1)")
            .bind(&ids)
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::db)?;
        rows.iter().map(|r| decode_complaint(text(r, 0)?)).collect()
    }

    #[instrument(skip(self))]
    async fn complaint_by_number(&self, number: &str) -> StoreResult<Option<Complaint>> {
        let row = sqlx::query("SELECT body FROM complaints WHERE number = $1")
            .bind(number)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::db)?;
        row.map(|r| decode_complaint(text(&r, 0)?)).transpose()
    }

    #[instrument(skip(self))]
    async fn list(&self, filter: &ComplaintFilter) -> StoreResult<Page<ComplaintSummary>> {
        let mut conn = self.pool.acquire().await.map_err(StoreError::db)?;
        queries::list(&mut conn, filter).await
    }

    #[instrument(skip_all, fields(id = %change.complaint.id))]
    async fn save(&self, change: Change) -> StoreResult<()> {
        queries::save(&self.pool, change).await
    }

    #[instrument(skip(self))]
    async fn history(&self, id: ComplaintId) -> StoreResult<Vec<StoredEvent>> {
        let rows = sqlx::query("SELECT seq, body FROM events WHERE complaint_id = $1 ORDER BY seq")
            .bind(id.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::db)?;
        rows.iter().map(|r| Ok(StoredEvent { seq: int(r, 0)?, event: decode_event(text(r, 1)?)? })).collect()
    }

    #[instrument(skip(self))]
    async fn messages(&self, id: ComplaintId) -> StoreResult<Vec<StoredMessage>> {
        let rows = sqlx::query("SELECT id, state, body FROM outbox WHERE complaint_id = $1 ORDER BY id")
            .bind(id.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::db)?;
        rows.iter()
            .map(|r| {
                Ok(StoredMessage {
                    id: int(r, 0)?,
                    complaint_id: id,
                    state: text(r, 1)?.to_string(),
                    message: decode("message", text(r, 2)?)?,
                })
            })
            .collect()
    }

    #[instrument(skip(self))]
    async fn notifications(&self, role: Role, department: Option<&str>, limit: u32) -> StoreResult<Vec<StoredNotification>> {
        let rows = sqlx::query(
            "SELECT id, created_at, body FROM notifications WHERE role = $1 AND (department IS NULL OR $2::text IS NULL OR department = $2) ORDER BY id DESC LIMIT $3",
        )
        .bind(role.as_str())
        .bind(department)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::db)?;
        rows.iter()
            .map(|r| {
                Ok(StoredNotification {
                    id: int(r, 0)?,
                    created_at: micros(int(r, 1)?)?,
                    notification: decode("notification", text(r, 2)?)?,
                })
            })
            .collect()
    }

    #[instrument(skip(self))]
    async fn label_corrections(&self, limit: u32) -> StoreResult<Vec<StoredLabel>> {
        let rows = sqlx::query("SELECT complaint_id, at, body FROM label_corrections ORDER BY id LIMIT $1")
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::db)?;
        rows.iter()
            .map(|r| {
                Ok(StoredLabel {
                    complaint_id: redress_store::columns::complaint_id(text(r, 0)?)?,
                    at: micros(int(r, 1)?)?,
                    correction: decode("label", text(r, 2)?)?,
                })
            })
            .collect()
    }

    #[instrument(skip(self))]
    async fn due_candidates(&self, now: Timestamp, soon_before: Timestamp, limit: u32) -> StoreResult<Vec<Complaint>> {
        let rows = sqlx::query(
            "SELECT body FROM complaints WHERE watch_at IS NOT NULL AND watch_at < $1 \
             AND ((watch_at < $2 AND due_state <> 'overdue') OR due_state = 'on_time') ORDER BY watch_at LIMIT $3",
        )
        .bind(soon_before.as_microsecond())
        .bind(now.as_microsecond())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::db)?;
        rows.iter().map(|r| decode_complaint(text(r, 0)?)).collect()
    }

    #[instrument(skip(self, user), fields(name = %user.name))]
    async fn create_user(&self, user: NewUser) -> StoreResult<User> {
        let result = sqlx::query(
            "INSERT INTO users (id, name, role, department, token_hash, password_hash, active, open_load, created_at) VALUES ($1, $2, $3, $4, $5, $6, TRUE, 0, $7)",
        )
        .bind(&user.id)
        .bind(&user.name)
        .bind(user.role.as_str())
        .bind(&user.department)
        .bind(&user.token_hash)
        .bind(&user.password_hash)
        .bind(user.created_at.as_microsecond())
        .execute(&self.pool)
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
        let row = sqlx::query("SELECT id, name, role, department, active, open_load FROM users WHERE token_hash = $1 AND active")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::db)?;
        row.as_ref().map(user_from_row).transpose()
    }

    #[instrument(skip(self))]
    async fn user(&self, id: &str) -> StoreResult<Option<User>> {
        let row = sqlx::query("SELECT id, name, role, department, active, open_load FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::db)?;
        row.as_ref().map(user_from_row).transpose()
    }

    #[instrument(skip(self))]
    async fn user_by_name(&self, name: &str) -> StoreResult<Option<User>> {
        let row = sqlx::query("SELECT id, name, role, department, active, open_load FROM users WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::db)?;
        row.as_ref().map(user_from_row).transpose()
    }

    #[instrument(skip(self))]
    async fn users(&self) -> StoreResult<Vec<User>> {
        let rows = sqlx::query("SELECT id, name, role, department, active, open_load FROM users ORDER BY name")
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::db)?;
        rows.iter().map(user_from_row).collect()
    }

    #[instrument(skip(self))]
    async fn count(&self) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM complaints").fetch_one(&self.pool).await.map_err(StoreError::db)?;
        Ok(n as u64)
    }
    #[instrument(skip(self, content), fields(size = content.len()))]
    async fn put_attachment(&self, sha256: &str, media_type: &str, content: &[u8], at: Timestamp) -> StoreResult<()> {
        sqlx::query("INSERT INTO attachments (sha256, media_type, size, content, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (sha256) DO NOTHING")
            .bind(sha256)
            .bind(media_type)
            .bind(content.len() as i64)
            .bind(content)
            .bind(at.as_microsecond())
            .execute(&self.pool)
            .await
            .map_err(StoreError::db)?;
        Ok(())
    }

    #[instrument(skip(self))]
    async fn attachment(&self, sha256: &str) -> StoreResult<Option<(String, Vec<u8>)>> {
        let row = sqlx::query("SELECT media_type, content FROM attachments WHERE sha256 = $1")
            .bind(sha256)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::db)?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
    }
    #[instrument(skip(self, request), fields(phrases = request.phrases.len()))]
    async fn search(&self, request: &SearchRequest) -> StoreResult<SearchResults> {
        let mut conn = self.pool.acquire().await.map_err(StoreError::db)?;
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
        text::similar_candidates(&self.pool, band_keys, per_key_limit, received_after, exclude).await
    }

    #[instrument(skip(self))]
    async fn text_row(&self, id: ComplaintId) -> StoreResult<Option<TextRow>> {
        text::text_row_of(&self.pool, id).await
    }

    #[instrument(skip(self))]
    async fn text_rows_after(&self, after_row: i64, limit: u32) -> StoreResult<Vec<TextRow>> {
        text::text_rows_after(&self.pool, after_row, limit).await
    }

    async fn incident_cursor(&self) -> StoreResult<i64> {
        text::incident_cursor(&self.pool).await
    }

    #[instrument(skip(self, scan), fields(from = scan.from_row, to = scan.to_row))]
    async fn apply_incident_scan(&self, scan: IncidentScan) -> StoreResult<()> {
        text::apply_incident_scan(&self.pool, scan).await
    }

    async fn incidents_of(&self, ids: &[ComplaintId]) -> StoreResult<Vec<(ComplaintId, String)>> {
        text::incidents_of(&self.pool, ids).await
    }

    #[instrument(skip(self))]
    async fn incidents(&self, since: Option<Timestamp>, limit: u32) -> StoreResult<Vec<Incident>> {
        text::incidents(&self.pool, since, limit).await
    }

    #[instrument(skip(self))]
    async fn incident(&self, id: &str) -> StoreResult<Option<(Incident, Vec<IncidentMember>)>> {
        text::incident(&self.pool, id).await
    }

    #[instrument(skip(self, info, content), fields(id = %info.id, target = %info.target))]
    async fn put_model(&self, info: ModelInfo, content: Vec<u8>) -> StoreResult<()> {
        text::put_model(&self.pool, info, content).await
    }

    async fn models(&self) -> StoreResult<Vec<ModelInfo>> {
        text::models(&self.pool).await
    }

    async fn model_content(&self, id: &str) -> StoreResult<Option<Vec<u8>>> {
        text::model_content(&self.pool, id).await
    }

    async fn activate_model(&self, id: &str) -> StoreResult<()> {
        text::activate_model(&self.pool, id).await
    }

    async fn labelled_texts(&self, dimension: &str, limit: u32) -> StoreResult<Vec<LabelledText>> {
        text::labelled_texts(&self.pool, dimension, limit).await
    }

    async fn unindexed(&self, limit: u32) -> StoreResult<Vec<Complaint>> {
        text::unindexed(&self.pool, limit).await
    }

    #[instrument(skip(self, text))]
    async fn index_text(&self, id: ComplaintId, received_at: Timestamp, text: redress_store::TextIndex) -> StoreResult<()> {
        text::index_text(&self.pool, id, received_at, text).await
    }
}
