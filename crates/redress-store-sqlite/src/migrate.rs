//! SQLite's migrations, compiled into the binary and applied by the shared migrator.

use redress_store::StoreResult;
use redress_store_sql::migrate::Migration;
use sqlx::SqliteConnection;

use crate::engine::SqliteEngine;

const MIGRATIONS: &[Migration] = &[
    (1, "initial", include_str!("../migrations/0001_initial.sql")),
    (2, "attachments", include_str!("../migrations/0002_attachments.sql")),
    (3, "text", include_str!("../migrations/0003_text.sql")),
    (4, "band_terms", include_str!("../migrations/0004_band_terms.sql")),
    (5, "web", include_str!("../migrations/0005_web.sql")),
    (6, "awaiting_approval", include_str!("../migrations/0006_awaiting_approval.sql")),
    (7, "stats", include_str!("../migrations/0007_stats.sql")),
    (8, "report_notes", include_str!("../migrations/0008_report_notes.sql")),
    (9, "stat_daily", include_str!("../migrations/0009_stat_daily.sql")),
    (10, "stat_daily_handlers", include_str!("../migrations/0010_stat_daily_handlers.sql")),
    (11, "stats_by_day", include_str!("../migrations/0011_stats_by_day.sql")),
    (12, "stat_daily_business", include_str!("../migrations/0012_stat_daily_business.sql")),
    (13, "delivery", include_str!("../migrations/0013_delivery.sql")),
    (14, "inbound_mail", include_str!("../migrations/0014_inbound_mail.sql")),
    (15, "webhook_feed", include_str!("../migrations/0015_webhook_feed.sql")),
];

/// Applies every migration not applied yet.
pub async fn run(conn: &mut SqliteConnection) -> StoreResult<()> {
    redress_store_sql::migrate::run::<SqliteEngine>(conn, MIGRATIONS).await
}

#[cfg(test)]
mod tests {
    use sqlx::Connection;

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
                .bind(crate::text::band_term(key))
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
