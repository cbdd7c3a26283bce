//! The single writer task and its group commit.

use redress_store::{Change, Registered, Registration, StoreError, StoreResult};
use sqlx::SqliteConnection;
use tokio::sync::{mpsc, oneshot};

use crate::queries;

/// Most requests committed together; bounds the latency a request can wait behind others.
const MAX_BATCH: usize = 512;

/// A write request.
pub enum Job {
    /// Register a complaint.
    Register(Box<Registration>, oneshot::Sender<StoreResult<Registered>>),
    /// Save an action's result.
    Save(Box<Change>, oneshot::Sender<StoreResult<()>>),
}

enum Reply {
    Register(oneshot::Sender<StoreResult<Registered>>, StoreResult<Registered>),
    Save(oneshot::Sender<StoreResult<()>>, StoreResult<()>),
}

/// Runs until every sender is dropped.
pub async fn run(mut conn: SqliteConnection, mut rx: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit_batch(&mut conn, &mut batch).await;
    }
}

async fn exec(conn: &mut SqliteConnection, sql: &'static str) -> StoreResult<()> {
    sqlx::raw_sql(sql).execute(&mut *conn).await.map(|_| ()).map_err(StoreError::db)
}

async fn commit_batch(conn: &mut SqliteConnection, batch: &mut Vec<Job>) {
    let size = batch.len();
    let span = tracing::debug_span!("group_commit", size);
    let _guard = span.enter();
    let mut replies = Vec::with_capacity(size);
    if let Err(e) = exec(conn, "BEGIN IMMEDIATE").await {
        for job in batch.drain(..) {
            fail(job, &e);
        }
        return;
    }
    let mut serial = queries::Serial::default();
    for job in batch.drain(..) {
        // A savepoint per request: a failing request is rolled back alone and the rest of the
        // batch still commits.
        let savepoint = exec(conn, "SAVEPOINT request").await;
        let reply = match job {
            Job::Register(reg, reply) => {
                let result = match savepoint {
                    Ok(()) => queries::register(conn, *reg, &mut serial).await,
                    Err(e) => Err(e),
                };
                finish_savepoint(conn, result.is_ok()).await;
                Reply::Register(reply, result)
            }
            Job::Save(change, reply) => {
                let result = match savepoint {
                    Ok(()) => queries::save(conn, *change).await,
                    Err(e) => Err(e),
                };
                finish_savepoint(conn, result.is_ok()).await;
                Reply::Save(reply, result)
            }
        };
        replies.push(reply);
    }
    let committed = async {
        serial.store(conn).await?;
        exec(conn, "COMMIT").await
    }
    .await;
    if let Err(e) = committed {
        let _ = exec(conn, "ROLLBACK").await;
        for r in replies {
            match r {
                Reply::Register(tx, _) => {
                    let _ = tx.send(Err(StoreError::Database(format!("commit failed: {e}"))));
                }
                Reply::Save(tx, _) => {
                    let _ = tx.send(Err(StoreError::Database(format!("commit failed: {e}"))));
                }
            }
        }
        return;
    }
    for r in replies {
        match r {
            Reply::Register(tx, result) => {
                let _ = tx.send(result);
            }
            Reply::Save(tx, result) => {
                let _ = tx.send(result);
            }
        }
    }
}

async fn finish_savepoint(conn: &mut SqliteConnection, ok: bool) {
    if !ok {
        let _ = exec(conn, "ROLLBACK TO request").await;
    }
    let _ = exec(conn, "RELEASE request").await;
}

fn fail(job: Job, e: &StoreError) {
    let err = || StoreError::Database(e.to_string());
    match job {
        Job::Register(_, tx) => {
            let _ = tx.send(Err(err()));
        }
        Job::Save(_, tx) => {
            let _ = tx.send(Err(err()));
        }
    }
}
