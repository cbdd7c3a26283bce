//! A small forward-only migrator: each migration runs once, in its own transaction, recorded in
//! `redress_migrations`. The engines keep their own SQL files, compiled into the binary.

use redress_store::{StoreError, StoreResult};
use sqlx::{Connection as _, QueryBuilder};

use crate::{Builder, Connection, Db, Engine, Run, execute, fetch_optional};

/// One migration: its version (the order it runs in), a name, and its statements.
pub type Migration = (i64, &'static str, &'static str);

/// A migration that failed, with the database's error as the cause.
#[derive(Debug, thiserror::Error)]
#[error("migration {version} ({name}) failed")]
pub struct MigrationFailed {
    /// Its version.
    pub version: i64,
    /// Its name.
    pub name: &'static str,
    /// Why.
    #[source]
    pub source: sqlx::Error,
}

/// Applies every migration not applied yet, in order.
pub async fn run<E: Engine>(conn: &mut Connection<E>, migrations: &[Migration]) -> StoreResult<()> {
    let mut tx = conn.begin().await.map_err(StoreError::db)?;
    lock::<E>(&mut *tx).await?;
    <Db<E> as Run>::execute_script(&mut *tx, E::MIGRATION_LEDGER).await.map_err(StoreError::db)?;
    tx.commit().await.map_err(StoreError::db)?;
    for &(version, name, sql) in migrations {
        let mut tx = conn.begin().await.map_err(StoreError::db)?;
        lock::<E>(&mut *tx).await?;
        let mut applied = QueryBuilder::<Db<E>>::new("SELECT version FROM redress_migrations WHERE version = ");
        applied.bind(version);
        if fetch_optional(&mut *tx, &mut applied).await?.is_none() {
            <Db<E> as Run>::execute_script(&mut *tx, sql).await.map_err(|source| StoreError::db(MigrationFailed { version, name, source }))?;
            let mut record = QueryBuilder::<Db<E>>::new("INSERT INTO redress_migrations (version, name) VALUES (");
            record.bind(version).push(", ").bind(name).push(")");
            execute(&mut *tx, &mut record).await?;
        }
        tx.commit().await.map_err(StoreError::db)?;
    }
    Ok(())
}

async fn lock<E: Engine>(conn: &mut Connection<E>) -> StoreResult<()> {
    match E::MIGRATION_LOCK {
        Some(statement) => <Db<E> as Run>::execute_script(conn, statement).await.map_err(StoreError::db),
        None => Ok(()),
    }
}
