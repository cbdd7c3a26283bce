//! The single writer task and its group commit.
//!
//! A batch runs in one transaction. Registrations queue their rows in [`Pending`] and the
//! batch inserts them with a few multi-row statements at the end, which is what makes a batch
//! cheap. A request that fails before writing anything (a conflicting version, a reused
//! idempotency key, a single-use link used already) fails alone inside the batch. Any other
//! failure, a panic included, rolls the whole batch back and runs its requests again one per
//! transaction, so only the faulty one fails, nothing is half-written, and the writer goes on
//! taking requests.

use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use redress_store::{Change, Registered, Registration, StoreError, StoreResult};
use sqlx::SqliteConnection;
use tokio::sync::{mpsc, oneshot};

use redress_store_sql::records;

use crate::queries::{self, Pending};

/// Most requests committed together; bounds the latency a request can wait behind others.
const MAX_BATCH: usize = 512;

/// A write request.
pub enum Job {
    /// Register a complaint.
    Register(Box<Registration>, oneshot::Sender<StoreResult<Registered>>),
    /// Save an action's result.
    Save(Box<Change>, oneshot::Sender<StoreResult<()>>),
}

/// A request's result, of the kind its job expects.
enum Done {
    Register(StoreResult<Registered>),
    Save(StoreResult<()>),
}

impl Done {
    fn failed(job: &Job, e: StoreError) -> Done {
        match job {
            Job::Register(..) => Done::Register(Err(e)),
            Job::Save(..) => Done::Save(Err(e)),
        }
    }
}

/// A request that failed in the writer for a reason of the writer's own.
#[derive(Debug, thiserror::Error)]
enum WriterFault {
    #[error("the writer failed while running this request")]
    Panicked,
    #[error("the writer lost this request's result")]
    NoResult,
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
        commit(&mut conn, std::mem::take(&mut batch)).await;
    }
}

async fn exec(conn: &mut SqliteConnection, sql: &'static str) -> StoreResult<()> {
    sqlx::raw_sql(sql).execute(&mut *conn).await.map(|_| ()).map_err(StoreError::db)
}

/// Errors raised before the request wrote anything: the rest of the batch is unaffected.
fn failed_cleanly(e: &StoreError) -> bool {
    matches!(e, StoreError::Conflict | StoreError::NotFound | StoreError::IdempotencyMismatch)
}

async fn commit(conn: &mut SqliteConnection, batch: Vec<Job>) {
    let span = tracing::debug_span!("group_commit", size = batch.len());
    let _guard = span.enter();
    match attempt(conn, &batch).await {
        Ok(results) => reply(batch, results),
        Err(e) if batch.len() == 1 => {
            let done = Done::failed(&batch[0], e);
            reply(batch, vec![done]);
        }
        Err(e) => {
            tracing::warn!(error = %e, size = batch.len(), "group commit failed; retrying its requests one by one");
            let mut results = Vec::with_capacity(batch.len());
            for job in &batch {
                let done = match attempt(conn, std::slice::from_ref(job)).await {
                    Ok(mut one) => one.pop().unwrap_or_else(|| Done::failed(job, StoreError::db(WriterFault::NoResult))),
                    Err(e) => Done::failed(job, e),
                };
                results.push(done);
            }
            reply(batch, results);
        }
    }
}

/// Runs the jobs together; a panic (in the code building a record, say) fails them like any
/// other error instead of ending the writer, and with it all intake.
async fn attempt(conn: &mut SqliteConnection, jobs: &[Job]) -> StoreResult<Vec<Done>> {
    match AssertUnwindSafe(run_together(conn, jobs)).catch_unwind().await {
        Ok(result) => result,
        Err(_) => {
            tracing::error!(size = jobs.len(), "a write batch panicked; it is rolled back");
            let _ = exec(conn, "ROLLBACK").await;
            Err(StoreError::db(WriterFault::Panicked))
        }
    }
}

fn reply(batch: Vec<Job>, results: Vec<Done>) {
    for (job, done) in batch.into_iter().zip(results) {
        match (job, done) {
            (Job::Register(_, tx), Done::Register(r)) => {
                let _ = tx.send(r);
            }
            (Job::Save(_, tx), Done::Save(r)) => {
                let _ = tx.send(r);
            }
            (Job::Register(_, tx), Done::Save(_)) => {
                let _ = tx.send(Err(StoreError::db(WriterFault::NoResult)));
            }
            (Job::Save(_, tx), Done::Register(_)) => {
                let _ = tx.send(Err(StoreError::db(WriterFault::NoResult)));
            }
        }
    }
}

/// Runs the jobs in one transaction; `Err` means it was rolled back.
async fn run_together(conn: &mut SqliteConnection, jobs: &[Job]) -> StoreResult<Vec<Done>> {
    exec(conn, "BEGIN IMMEDIATE").await?;
    let result = async {
        let registrations: Vec<&Registration> = jobs
            .iter()
            .filter_map(|j| match j {
                Job::Register(r, _) => Some(&**r),
                Job::Save(..) => None,
            })
            .collect();
        let started = std::time::Instant::now();
        let mut pending = Pending::prefetch(conn, &registrations).await?;
        let prefetched = started.elapsed();
        let mut results = Vec::with_capacity(jobs.len());
        for job in jobs {
            let done = match job {
                Job::Register(reg, _) => match queries::register(conn, reg, &mut pending).await {
                    Err(e) if !failed_cleanly(&e) => return Err(e),
                    r => Done::Register(r),
                },
                Job::Save(change, _) => match queries::save(conn, change).await {
                    // A used link is found before the save writes anything.
                    Err(e) if !failed_cleanly(&e) && !records::is_link_used(&e) => return Err(e),
                    r => Done::Save(r),
                },
            };
            results.push(done);
        }
        let built = started.elapsed();
        pending.flush(conn).await?;
        let flushed = started.elapsed();
        exec(conn, "COMMIT").await?;
        tracing::debug!(
            size = jobs.len(),
            prefetch_us = prefetched.as_micros() as u64,
            requests_us = (built - prefetched).as_micros() as u64,
            insert_us = (flushed - built).as_micros() as u64,
            commit_us = (started.elapsed() - flushed).as_micros() as u64,
            "batch committed"
        );
        Ok(results)
    }
    .await;
    if result.is_err() {
        let _ = exec(conn, "ROLLBACK").await;
    }
    result
}
