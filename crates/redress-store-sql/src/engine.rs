//! What the shared SQL needs from an engine, and the helpers that bind, run and read with it.

use futures::TryFutureExt;
use futures::future::BoxFuture;
use redress_store::{StoreError, StoreResult};
use sqlx::pool::PoolConnection;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, QueryBuilder, Row, SqlStr, Type};

/// The sqlx database of an engine.
pub type Db<E> = <E as Engine>::Db;

/// A connection of an engine's database.
pub type Connection<E> = <Db<E> as Database>::Connection;

/// An engine as the shared SQL sees it: its sqlx database, able to bind and read every value
/// type the shared statements use, and the few spellings that differ between engines.
///
/// Each engine crate implements it on a type of its own that names its database.
pub trait Engine: Send + Sync + 'static {
    /// The sqlx database.
    type Db: Run
        + GetStr
        + Bind<i64>
        + Bind<i32>
        + Bind<bool>
        + Bind<f32>
        + Bind<String>
        + for<'a> Bind<&'a str>
        + for<'a> Bind<&'a String>
        + for<'a> Bind<&'a Option<String>>
        + for<'a> Bind<&'a Option<i64>>
        + for<'a> Bind<&'a [u8]>
        + for<'a> Bind<&'a Option<Vec<u8>>>
        + Get<i64>
        + Get<i32>
        + Get<Option<i64>>
        + Get<bool>
        + Get<f32>
        + Get<String>
        + Get<Option<String>>
        + Get<Vec<u8>>
        + Get<Option<Vec<u8>>>;

    /// Boolean true as the engine compares a boolean column with it. SQLite stores booleans as
    /// integers and uses a partial index only when a query repeats the index's condition
    /// (`= 1`) to the letter.
    const TRUE: &'static str;

    /// Boolean false, spelled like [`Engine::TRUE`].
    const FALSE: &'static str;

    /// The function returning the larger of its arguments.
    const GREATEST: &'static str;

    /// Opens a transaction that writes. SQLite takes the write lock at once (`BEGIN
    /// IMMEDIATE`), so such a transaction never fails half-way for want of it.
    const BEGIN_WRITE: &'static str;

    /// Ends a `SELECT` that picks rows to claim: on an engine where several transactions write
    /// at once, the rows other transactions hold are skipped (` FOR UPDATE SKIP LOCKED`).
    const SKIP_LOCKED: &'static str;

    /// Creates the table that records applied migrations, if it does not exist.
    const MIGRATION_LEDGER: &'static str;

    /// Taken first in every migration transaction where several application servers may
    /// start at once against one database; `None` where one process owns the database.
    const MIGRATION_LOCK: Option<&'static str>;

    /// Pushes a test that the expression before it is one of `values` (` IN (…)`).
    fn push_in(q: &mut QueryBuilder<Self::Db>, values: &[String]);

    /// Pushes a case-insensitive test that `column` starts with `prefix` (which holds no
    /// wildcard).
    fn push_starts_with(q: &mut QueryBuilder<Self::Db>, column: &str, prefix: String);

    /// The text field `field` of the JSON document in `column`, as an SQL expression.
    fn json_text(column: &str, field: &str) -> String;

    /// Pushes a sub-query selecting the ids (`row_id`) of at most `limit` text rows, newest
    /// first, whose fingerprint has the band `key`.
    fn push_band_rows(q: &mut QueryBuilder<Self::Db>, key: i64, limit: i64);
}

/// A database that can bind a `T` to a placeholder: sqlx's `T: Encode<DB> + Type<DB>`, stated
/// as a bound on the database, because only such a bound can be promised once by [`Engine`]
/// instead of repeated by every generic function.
pub trait Bind<T>: Database {
    /// Pushes a placeholder and binds `value` to it.
    fn push_bind(q: &mut QueryBuilder<Self>, value: T);
}

impl<DB: Database, T> Bind<T> for DB
where
    T: for<'q> Encode<'q, DB> + Type<DB>,
{
    fn push_bind(q: &mut QueryBuilder<Self>, value: T) {
        q.push_bind(value);
    }
}

/// A database whose rows can give a `T` (see [`Bind`] for why this is a bound on the database).
pub trait Get<T>: Database {
    /// Column `index` of `row`.
    fn get(row: &Self::Row, index: usize) -> Result<T, sqlx::Error>;
}

impl<DB: Database, T> Get<T> for DB
where
    T: for<'r> Decode<'r, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
{
    fn get(row: &Self::Row, index: usize) -> Result<T, sqlx::Error> {
        row.try_get(index)
    }
}

/// A database whose rows can lend a text column without copying it.
pub trait GetStr: Database {
    /// Column `index` of `row`, borrowed.
    fn get_str(row: &Self::Row, index: usize) -> Result<&str, sqlx::Error>;
}

impl<DB: Database> GetStr for DB
where
    for<'r> &'r str: Decode<'r, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
{
    fn get_str(row: &Self::Row, index: usize) -> Result<&str, sqlx::Error> {
        row.try_get(index)
    }
}

/// A database whose connections run the statements a [`QueryBuilder`] builds.
pub trait Run: Database {
    /// Every row.
    fn fetch_all<'e>(conn: &'e mut Self::Connection, q: &'e mut QueryBuilder<Self>) -> BoxFuture<'e, Result<Vec<Self::Row>, sqlx::Error>>;

    /// The first row, if any.
    fn fetch_optional<'e>(conn: &'e mut Self::Connection, q: &'e mut QueryBuilder<Self>) -> BoxFuture<'e, Result<Option<Self::Row>, sqlx::Error>>;

    /// Runs the statement for its effect.
    fn execute<'e>(conn: &'e mut Self::Connection, q: &'e mut QueryBuilder<Self>) -> BoxFuture<'e, Result<(), sqlx::Error>>;

    /// Runs several statements without bound values (a migration).
    fn execute_script<'e>(conn: &'e mut Self::Connection, sql: &'static str) -> BoxFuture<'e, Result<(), sqlx::Error>>;
}

impl<DB: Database> Run for DB
where
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    fn fetch_all<'e>(conn: &'e mut Self::Connection, q: &'e mut QueryBuilder<Self>) -> BoxFuture<'e, Result<Vec<Self::Row>, sqlx::Error>> {
        conn.fetch_all(q.build())
    }

    fn fetch_optional<'e>(conn: &'e mut Self::Connection, q: &'e mut QueryBuilder<Self>) -> BoxFuture<'e, Result<Option<Self::Row>, sqlx::Error>> {
        conn.fetch_optional(q.build())
    }

    fn execute<'e>(conn: &'e mut Self::Connection, q: &'e mut QueryBuilder<Self>) -> BoxFuture<'e, Result<(), sqlx::Error>> {
        Box::pin(conn.execute(q.build()).map_ok(|_| ()))
    }

    fn execute_script<'e>(conn: &'e mut Self::Connection, sql: &'static str) -> BoxFuture<'e, Result<(), sqlx::Error>> {
        Box::pin(conn.execute(sqlx::raw_sql(SqlStr::from_static(sql))).map_ok(|_| ()))
    }
}

/// Binding values to a [`QueryBuilder`] of any database that can bind them.
pub trait Builder<DB: Database> {
    /// Pushes a placeholder and binds `value` to it.
    fn bind<T>(&mut self, value: T) -> &mut Self
    where
        DB: Bind<T>;

    /// Pushes placeholders for `values`, separated by commas, and binds them.
    fn bind_all<T>(&mut self, values: impl IntoIterator<Item = T>) -> &mut Self
    where
        DB: Bind<T>;
}

impl<DB: Database> Builder<DB> for QueryBuilder<DB> {
    fn bind<T>(&mut self, value: T) -> &mut Self
    where
        DB: Bind<T>,
    {
        DB::push_bind(self, value);
        self
    }

    fn bind_all<T>(&mut self, values: impl IntoIterator<Item = T>) -> &mut Self
    where
        DB: Bind<T>,
    {
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            DB::push_bind(self, value);
        }
        self
    }
}

/// A connection from `pool`.
pub async fn acquire<DB: Database>(pool: &Pool<DB>) -> StoreResult<PoolConnection<DB>> {
    pool.acquire().await.map_err(StoreError::db)
}

/// Every row the statement returns.
pub async fn fetch_all<DB: Run>(conn: &mut DB::Connection, q: &mut QueryBuilder<DB>) -> StoreResult<Vec<DB::Row>> {
    DB::fetch_all(conn, q).await.map_err(StoreError::db)
}

/// The first row the statement returns, if any.
pub async fn fetch_optional<DB: Run>(conn: &mut DB::Connection, q: &mut QueryBuilder<DB>) -> StoreResult<Option<DB::Row>> {
    DB::fetch_optional(conn, q).await.map_err(StoreError::db)
}

/// Runs the statement for its effect.
pub async fn execute<DB: Run>(conn: &mut DB::Connection, q: &mut QueryBuilder<DB>) -> StoreResult<()> {
    DB::execute(conn, q).await.map_err(StoreError::db)
}

/// Runs an `INSERT` whose unique constraints a request can break: such a failure is
/// [`StoreError::Duplicate`], described by `what`.
pub(crate) async fn insert_unique<DB: Run>(conn: &mut DB::Connection, q: &mut QueryBuilder<DB>, what: &str) -> StoreResult<()> {
    match DB::execute(conn, q).await {
        Ok(()) => Ok(()),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(StoreError::Duplicate(format!("{what}: {e}"))),
        Err(e) => Err(StoreError::db(e)),
    }
}

/// Column `index` of `row`; a column that is missing or of another type is an error, not a
/// panic.
pub fn get<R: Row, T>(row: &R, index: usize) -> StoreResult<T>
where
    R::Database: Get<T>,
{
    <R::Database as Get<T>>::get(row, index).map_err(StoreError::db)
}

/// Text column `index` of `row`, borrowed.
pub fn text<R: Row>(row: &R, index: usize) -> StoreResult<&str>
where
    R::Database: GetStr,
{
    <R::Database as GetStr>::get_str(row, index).map_err(StoreError::db)
}
