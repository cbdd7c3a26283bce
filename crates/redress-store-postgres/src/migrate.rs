//! PostgreSQL's migrations, compiled into the binary and applied by the shared migrator.
//!
//! Several application servers may start at once against the same database, so every
//! migration transaction first takes an advisory lock (see `PostgresEngine::MIGRATION_LOCK`):
//! one server migrates, the others wait and then find the work done.

use redress_store::StoreResult;
use redress_store_sql::migrate::Migration;
use sqlx::PgConnection;

use crate::engine::PostgresEngine;

const MIGRATIONS: &[Migration] = &[
    (1, "initial", include_str!("../migrations/0001_initial.sql")),
    (2, "attachments", include_str!("../migrations/0002_attachments.sql")),
    (3, "text", include_str!("../migrations/0003_text.sql")),
    (4, "web", include_str!("../migrations/0004_web.sql")),
    (5, "awaiting_approval", include_str!("../migrations/0005_awaiting_approval.sql")),
    (6, "stats", include_str!("../migrations/0006_stats.sql")),
    (7, "report_notes", include_str!("../migrations/0007_report_notes.sql")),
    (8, "stat_daily", include_str!("../migrations/0008_stat_daily.sql")),
    (9, "stat_daily_handlers", include_str!("../migrations/0009_stat_daily_handlers.sql")),
    (10, "stats_by_day", include_str!("../migrations/0010_stats_by_day.sql")),
    (11, "stat_daily_business", include_str!("../migrations/0011_stat_daily_business.sql")),
    (12, "delivery", include_str!("../migrations/0012_delivery.sql")),
    (13, "inbound_mail", include_str!("../migrations/0013_inbound_mail.sql")),
    (14, "webhook_feed", include_str!("../migrations/0014_webhook_feed.sql")),
];

/// Applies every migration not applied yet.
pub async fn run(conn: &mut PgConnection) -> StoreResult<()> {
    redress_store_sql::migrate::run::<PostgresEngine>(conn, MIGRATIONS).await
}
