//! A small forward-only migrator: each migration runs once, in its own transaction, recorded in
//! `redress_migrations`. The SQL files are compiled into the binary.

use redress_store::{StoreError, StoreResult};
use sqlx::{Connection, SqliteConnection};

const MIGRATIONS: &[(i64, &str, &str)] = &[(1, "initial", include_str!("../migrations/0001_initial.sql")),
    (2, "attachments", include_str!("../migrations/0002_attachments.sql")),
    (3, "text", include_str!("../migrations/0003_text.sql")),
];

/// Applies every migration not applied yet.
pub async fn run(conn: &mut SqliteConnection) -> StoreResult<()> {
    sqlx::raw_sql("CREATE TABLE IF NOT EXISTS redress_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)")
        .execute(&mut *conn)
        .await
        .map_err(StoreError::db)?;
    for &(version, name, sql) in MIGRATIONS {
        let mut tx = conn.begin().await.map_err(StoreError::db)?;
        let done: Option<i64> = sqlx::query_scalar("SELECT version FROM redress_migrations WHERE version = ?")
            .bind(version)
            .fetch_optional(&mut *tx)
            .await
            .map_err(StoreError::db)?;
        if done.is_none() {
            sqlx::raw_sql(sql).execute(&mut *tx).await.map_err(|e| StoreError::Database(format!("migration {version} ({name}): {e}")))?;
            sqlx::query("INSERT INTO redress_migrations (version, name) VALUES (?, ?)")
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
