//! A small forward-only migrator: each migration runs once, in its own transaction, recorded in
//! `redress_migrations`. The SQL files are compiled into the binary.
//!
//! Several application servers may start at once against the same database, so every
//! transaction here first takes a transaction-scoped advisory lock: one server migrates, the
//! others wait and then find the work done.

use redress_store::{StoreError, StoreResult};
use sqlx::{Connection, PgConnection};

const MIGRATIONS: &[(i64, &str, &str)] = &[(1, "initial", include_str!("../migrations/0001_initial.sql")),
    (2, "attachments", include_str!("../migrations/0002_attachments.sql")),
    (3, "text", include_str!("../migrations/0003_text.sql")),
];

/// Key of the advisory lock that serialises migrations (an arbitrary constant: "redress" in ASCII).
const MIGRATION_LOCK: i64 = 0x0072_6564_7265_7373;

async fn lock(conn: &mut PgConnection) -> StoreResult<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(MIGRATION_LOCK).execute(&mut *conn).await.map_err(StoreError::db)?;
    Ok(())
}

/// Applies every migration not applied yet.
pub async fn run(conn: &mut PgConnection) -> StoreResult<()> {
    let mut tx = conn.begin().await.map_err(StoreError::db)?;
    lock(&mut tx).await?;
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS redress_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    )
    .execute(&mut *tx)
    .await
    .map_err(StoreError::db)?;
    tx.commit().await.map_err(StoreError::db)?;
    for &(version, name, sql) in MIGRATIONS {
        let mut tx = conn.begin().await.map_err(StoreError::db)?;
        lock(&mut tx).await?;
        let done: Option<i64> = sqlx::query_scalar("SELECT version FROM redress_migrations WHERE version = $1")
            .bind(version)
            .fetch_optional(&mut *tx)
            .await
            .map_err(StoreError::db)?;
        if done.is_none() {
            sqlx::raw_sql(sql).execute(&mut *tx).await.map_err(|e| StoreError::Database(format!("migration {version} ({name}): {e}")))?;
            sqlx::query("INSERT INTO redress_migrations (version, name) VALUES ($1, $2)")
                .bind(version)
                .bind(name)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::db)?;
        }
        tx.commit().await.map_err(StoreError::db)?;
    }
    Ok(())
}
