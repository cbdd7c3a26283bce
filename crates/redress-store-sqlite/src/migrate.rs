//! A small forward-only migrator: each migration runs once, in its own transaction, recorded in
//! `redress_migrations`. The SQL files are compiled into the binary.

use redress_store::{StoreError, StoreResult};
use sqlx::{Connection, SqliteConnection};

const MIGRATIONS: &[(i64, &str, &str)] = &[(1, "initial", include_str!("../migrations/0001_initial.sql")),
    (2, "attachments", include_str!("../migrations/0002_attachments.sql")),
    (3, "text", include_str!("../migrations/0003_text.sql")),
    (4, "band_terms", include_str!("../migrations/0004_band_terms.sql")),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A database indexed before migration 4 keeps its similar-complaint candidates: the band
    /// rows become terms that the lookup finds, newest row first.
    #[tokio::test]
    async fn band_rows_of_earlier_versions_become_terms() {
        let mut conn = SqliteConnection::connect("sqlite::memory:").await.unwrap();
        for &(_, _, sql) in &MIGRATIONS[..3] {
            sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
        }
        for (key, row) in [(-5i64, 7i64), (255, 7), (-5, 8), (i64::MIN, 9)] {
            sqlx::query("INSERT INTO text_bands (band_key, row_id) VALUES (?, ?)").bind(key).bind(row).execute(&mut conn).await.unwrap();
        }
        sqlx::raw_sql(MIGRATIONS[3].2).execute(&mut conn).await.unwrap();
        let rows_with = async |conn: &mut SqliteConnection, key: i64| -> Vec<i64> {
            sqlx::query_scalar("SELECT rowid FROM text_band_terms WHERE text_band_terms MATCH ? ORDER BY rowid DESC")
                .bind(crate::queries::band_term(key))
                .fetch_all(&mut *conn)
                .await
                .unwrap()
        };
        assert_eq!(rows_with(&mut conn, -5).await, [8, 7]);
        assert_eq!(rows_with(&mut conn, 255).await, [7]);
        assert_eq!(rows_with(&mut conn, i64::MIN).await, [9]);
        assert!(rows_with(&mut conn, 6).await.is_empty());
        let old_table: Option<String> = sqlx::query_scalar("SELECT name FROM sqlite_master WHERE name = 'text_bands'").fetch_optional(&mut conn).await.unwrap();
        assert_eq!(old_table, None);
    }
}
