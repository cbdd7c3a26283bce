//! SQLite's spellings of the statements the engines share.

use redress_store_sql::{Builder, Engine};
use sqlx::{QueryBuilder, Sqlite};

use crate::text::band_term;

/// SQLite, as the shared SQL of `redress-store-sql` sees it.
pub enum SqliteEngine {}

impl Engine for SqliteEngine {
    type Db = Sqlite;

    const TRUE: &'static str = "1";

    const FALSE: &'static str = "0";

    const GREATEST: &'static str = "MAX";

    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";

    // SQLite runs one writing statement at a time, so a claim never meets another.
    const SKIP_LOCKED: &'static str = "";

    const MIGRATION_LEDGER: &'static str =
        "CREATE TABLE IF NOT EXISTS redress_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)";

    // One process owns an SQLite database.
    const MIGRATION_LOCK: Option<&'static str> = None;

    fn push_in(q: &mut QueryBuilder<Sqlite>, values: &[String]) {
        q.push(" IN (").bind_all(values).push(")");
    }

    // SQLite's LIKE ignores the case of ASCII letters and has no escape character by default.
    fn push_starts_with(q: &mut QueryBuilder<Sqlite>, column: &str, prefix: String) {
        q.push(format_args!("{column} LIKE ")).bind(format!("{prefix}%"));
    }

    fn json_text(column: &str, field: &str) -> String {
        format!("json_extract({column}, '$.{field}')")
    }

    fn push_band_rows(q: &mut QueryBuilder<Sqlite>, key: i64, limit: i64) {
        q.push("SELECT * FROM (SELECT rowid FROM text_band_terms WHERE text_band_terms MATCH ").bind(band_term(key));
        q.push(" ORDER BY rowid DESC LIMIT ").bind(limit).push(")");
    }
}
