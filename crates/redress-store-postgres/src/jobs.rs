//! Which of several application servers sharing the database runs the background jobs.
//!
//! The leader holds a session advisory lock on a connection of its own, outside the pool: the
//! lock lasts exactly as long as that connection, so when the server stops or dies, PostgreSQL
//! ends its session, releases the lock, and another server takes it at its next try.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use redress_store::{StoreError, StoreResult};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};
use tokio::sync::Mutex;

/// Key of the jobs lock in a database's own schema ("redrjobs" in ASCII).
const JOBS_LOCK: i64 = 0x7265_6472_6a6f_6273;

/// How long a check of the lock's connection may take before the connection counts as lost.
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// The jobs lock of one store.
pub struct JobsLock {
    options: PgConnectOptions,
    key: i64,
    session: Mutex<Option<Session>>,
    /// Set once released: a closed store no longer competes for the jobs.
    released: AtomicBool,
}

/// The lock's own connection, and whether this server holds the lock on it.
struct Session {
    conn: PgConnection,
    leading: bool,
}

/// Why the lock's connection did not answer.
#[derive(Debug, thiserror::Error)]
#[error("the jobs lock's connection did not answer within {0:?}")]
struct NoAnswer(Duration);

impl JobsLock {
    /// The lock for a store connecting with `options`. Stores in different schemas of one
    /// database are separate deployments (tests, benchmarks), so each schema has a key of its
    /// own.
    pub fn new(options: PgConnectOptions, schema: Option<&str>) -> JobsLock {
        let key = schema.map_or(JOBS_LOCK, |schema| JOBS_LOCK ^ fnv1a(schema.as_bytes()));
        // Named, so that `pg_stat_activity` shows which server runs the jobs.
        let options = options.application_name("redress jobs lock");
        JobsLock { options, key, session: Mutex::new(None), released: AtomicBool::new(false) }
    }

    /// Whether this server leads: it holds the lock, or has just taken it. A connection found
    /// dead is replaced and the lock tried again on the new one.
    pub async fn lead(&self) -> StoreResult<bool> {
        let mut session = self.session.lock().await;
        if self.released.load(Ordering::Acquire) {
            return Ok(false);
        }
        if let Some(held) = session.as_mut()
            && held.leading
        {
            match answer(sqlx::query("SELECT 1").execute(&mut held.conn)).await {
                Ok(_) => return Ok(true),
                Err(e) => {
                    tracing::warn!(error = %e, "lost the connection holding the jobs lock; trying to take it again");
                    *session = None;
                }
            }
        }
        match self.try_lock(&mut session).await {
            Ok(leading) => Ok(leading),
            Err(e) => {
                // The connection may have died since the last call: once more on a new one.
                tracing::debug!(error = %e, "the jobs lock could not be tried; reconnecting");
                *session = None;
                self.try_lock(&mut session).await.inspect_err(|_| *session = None)
            }
        }
    }

    async fn try_lock(&self, session: &mut Option<Session>) -> StoreResult<bool> {
        let held = match session {
            Some(held) => held,
            None => session.insert(Session { conn: answer(PgConnection::connect_with(&self.options)).await?, leading: false }),
        };
        held.leading = answer(sqlx::query_scalar("SELECT pg_try_advisory_lock($1)").bind(self.key).fetch_one(&mut held.conn)).await?;
        Ok(held.leading)
    }

    /// Closes the lock's connection, releasing the lock if this server held it, and stops
    /// competing for it.
    pub async fn release(&self) {
        let mut session = self.session.lock().await;
        self.released.store(true, Ordering::Release);
        if let Some(held) = session.take() {
            let _ = held.conn.close().await;
        }
    }
}

/// Waits for a statement on the lock's connection, at most [`CHECK_TIMEOUT`].
async fn answer<T>(work: impl Future<Output = Result<T, sqlx::Error>>) -> StoreResult<T> {
    match tokio::time::timeout(CHECK_TIMEOUT, work).await {
        Ok(result) => result.map_err(StoreError::db),
        Err(_) => Err(StoreError::db(NoAnswer(CHECK_TIMEOUT))),
    }
}

/// FNV-1a: a hash that does not change between builds or runs, as a lock key must not.
fn fnv1a(bytes: &[u8]) -> i64 {
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3));
    hash as i64
}
