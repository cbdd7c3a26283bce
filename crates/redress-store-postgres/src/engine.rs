//! PostgreSQL's spellings of the statements the engines share.

use redress_store_sql::{Builder, Engine};
use sqlx::{Postgres, QueryBuilder};

/// PostgreSQL, as the shared SQL of `redress-store-sql` sees it.
pub enum PostgresEngine {}

impl Engine for PostgresEngine {
    type Db = Postgres;

    const TRUE: &'static str = "TRUE";

    const FALSE: &'static str = "FALSE";

    const GREATEST: &'static str = "GREATEST";

    const BEGIN_WRITE: &'static str = "BEGIN";

    const SKIP_LOCKED: &'static str = " FOR UPDATE SKIP LOCKED";

    const MIGRATION_LEDGER: &'static str =
        "CREATE TABLE IF NOT EXISTS redress_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())";

    // A transaction-scoped advisory lock on an arbitrary key ("redress" in ASCII): one server
    // migrates, the others wait and then find the work done.
    const MIGRATION_LOCK: Option<&'static str> = Some("SELECT pg_advisory_xact_lock(32199629435401075)");

    // One array parameter: the statement's text, and so its prepared plan, does not change
    // with the length of the list.
    fn push_in(q: &mut QueryBuilder<Postgres>, values: &[String]) {
        q.push(" = ANY(").bind(values.to_vec()).push(")");
    }

    // Case-insensitive and without escape character, like SQLite's default LIKE.
    fn push_starts_with(q: &mut QueryBuilder<Postgres>, column: &str, prefix: String) {
        q.push(format_args!("{column} ILIKE ")).bind(format!("{prefix}%")).push(" ESCAPE ''");
    }

    fn json_text(column: &str, field: &str) -> String {
        format!("({column}::jsonb ->> '{field}')")
    }

    fn push_band_rows(q: &mut QueryBuilder<Postgres>, key: i64, limit: i64) {
        q.push("(SELECT row_id FROM text_bands WHERE band_key = ").bind(key);
        q.push(" ORDER BY row_id DESC LIMIT ").bind(limit).push(")");
    }
}
