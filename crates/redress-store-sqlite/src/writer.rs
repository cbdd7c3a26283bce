//! The single writer task and its group commit.
//!
//! A batch runs in one transaction. Registrations write their rows into [`Pending`] and the
//! batch inserts them with a few multi-row statements at the end, which is what makes a batch
//! cheap. A request that fails before writing anything (a conflicting version, a reused
//! idempotency key) fails alone inside the batch. Any other failure rolls the whole batch back
//! and runs its requests again one per transaction, so only the faulty one fails and nothing is
//! half-written.

use redress_store::{Change, Registered, Registration, StoreError, StoreResult};
use sqlx::SqliteConnection;
use tokio::sync::{mpsc, oneshot};

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

enum Done {
    Register(StoreResult<Registered>),
    Save(StoreResult<()>),
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
    match run_together(conn, &batch).await {
        Ok(results) => reply(batch, results),
        Err(e) if batch.len() == 1 => reply(batch, vec![error_for(&e, true)]),
        Err(e) => {
            tracing::warn!(error = %e, size = batch.len(), "group commit failed; retrying its requests one by one");
            let mut results = Vec::with_capacity(batch.len());
            for job in &batch {
                let done = match run_together(conn, std::slice::from_ref(job)).await {
                    Ok(mut r) => r.pop().expect("one result per job"),
                    Err(e) => error_for(&e, matches!(job, Job::Register(..))),
                };
                results.push(done);
            }
            reply(batch, results);
        }
    }
}

fn error_for(e: &StoreError, register: bool) -> Done {
    let copy = match e {
        StoreError::Conflict => StoreError::Conflict,
        StoreError::NotFound => StoreError::NotFound,
        StoreError::IdempotencyMismatch => StoreError::IdempotencyMismatch,
        StoreError::Duplicate(m) => StoreError::Duplicate(m.clone()),
        StoreError::Corrupt(m) => StoreError::Corrupt(m.clone()),
        StoreError::Database(m) => StoreError::Database(m.clone()),
    };
    if register { Done::Register(Err(copy)) } else { Done::Save(Err(copy)) }
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
                let _ = tx.send(Err(StoreError::Database("internal: mismatched result".into())));
            }
            (Job::Save(_, tx), Done::Register(_)) => {
                let _ = tx.send(Err(StoreError::Database("internal: mismatched result".into())));
            }
        }
    }
}

/// Runs the jobs in one transaction; `Err` means it was rolled back.
async fn run_together(conn: &mut SqliteConnection, jobs: &[Job]) -> StoreResult<Vec<Done>> {
    exec(conn, "BEGIN IMMEDIATE").await?;
    let result = async {
        let mut pending = Pending::default();
        let registrations: Vec<&Registration> = jobs
            .iter()
            .filter_map(|j| match j {
                Job::Register(r, _) => Some(&**r),
                Job::Save(..) => None,
            })
            .collect();
        let started = std::time::Instant::now();
        pending.prefetch(conn, &registrations).await?;
        let prefetched = started.elapsed();
        let mut results = Vec::with_capacity(jobs.len());
        for job in jobs {
            let done = match job {
                Job::Register(reg, _) => match queries::register(conn, reg, &mut pending).await {
                    Err(e) if !failed_cleanly(&e) => return Err(e),
                    r => Done::Register(r),
                },
                Job::Save(change, _) => match queries::save(conn, change).await {
                    Err(e) if !failed_cleanly(&e) => return Err(e),
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
