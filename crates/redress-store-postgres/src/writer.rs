//! The registration writers and their group commit.
//!
//! Registrations queue for a few writer tasks. Each takes whatever registrations are waiting
//! (up to [`MAX_BATCH`]) and registers them in one transaction with a few multi-row statements
//! ([`queries::register_batch`]), so one commit, one `fsync` and a handful of round trips serve
//! a whole batch instead of each registration. A registration that fails before writing
//! anything (a reused idempotency key) fails alone inside the batch; if the batch transaction
//! fails before its commit (a concurrent server registered the same idempotency key or external
//! reference, say), its registrations run again one per transaction ([`queries::register`]), so
//! only the faulty one fails or replays, with the same answers as ever. A single waiting
//! registration takes the one-per-transaction path at once.
//!
//! The writers share the store's pool: at most [`WRITERS`] of its connections write
//! registrations at a time.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use redress_store::{Registered, Registration, StoreError, StoreResult};
use sqlx::PgPool;
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::queries::{self, BatchError};

/// Most registrations committed together; bounds the latency one can wait behind others.
const MAX_BATCH: usize = 256;

/// Writer tasks: batches being gathered, written and committed at once.
const WRITERS: usize = 4;

/// A registration waiting for a writer, and where its answer goes.
struct Job {
    registration: Box<Registration>,
    answer: oneshot::Sender<StoreResult<Registered>>,
}

/// A request that failed in the writer for a reason of the writer's own.
#[derive(Debug, thiserror::Error)]
enum WriterFault {
    #[error("the registration writer has stopped")]
    Stopped,
    #[error("the registration writer failed while running this request")]
    Panicked,
    #[error("the registration writer lost this request's result")]
    NoResult,
    #[error("the commit of this registration's batch failed: {0}")]
    Commit(String),
}

/// The queue to the writer tasks. The tasks end once every clone is dropped.
#[derive(Clone)]
pub struct Writer {
    queue: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer tasks on the current runtime.
    pub fn start(pool: PgPool) -> Writer {
        let (queue, rx) = mpsc::channel(MAX_BATCH * WRITERS);
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..WRITERS {
            tokio::spawn(run(pool.clone(), Arc::clone(&rx)));
        }
        Writer { queue }
    }

    /// Registers a complaint; the answer comes once its transaction has committed.
    pub async fn register(&self, registration: Registration) -> StoreResult<Registered> {
        let (answer, rx) = oneshot::channel();
        self.queue.send(Job { registration: Box::new(registration), answer }).await.map_err(|_| StoreError::db(WriterFault::Stopped))?;
        rx.await.map_err(|_| StoreError::db(WriterFault::NoResult))?
    }
}

async fn run(pool: PgPool, rx: Arc<Mutex<mpsc::Receiver<Job>>>) {
    loop {
        let batch = {
            let mut rx = rx.lock().await;
            let Some(first) = rx.recv().await else { return };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            batch
        };
        commit(&pool, batch).await;
    }
}

/// Registers one complaint in its own transaction; a panic fails it like any other error.
async fn one(pool: &PgPool, registration: &Registration) -> StoreResult<Registered> {
    match AssertUnwindSafe(queries::register(pool, registration)).catch_unwind().await {
        Ok(result) => result,
        Err(_) => {
            tracing::error!(id = %registration.id, "a registration panicked; it is rolled back");
            Err(StoreError::db(WriterFault::Panicked))
        }
    }
}

async fn commit(pool: &PgPool, batch: Vec<Job>) {
    if let [job] = batch.as_slice() {
        let result = one(pool, &job.registration).await;
        reply(batch, vec![result]);
        return;
    }
    let span = tracing::debug_span!("group_commit", size = batch.len());
    let _guard = span.enter();
    let registrations: Vec<&Registration> = batch.iter().map(|j| &*j.registration).collect();
    let attempt = AssertUnwindSafe(queries::register_batch(pool, &registrations)).catch_unwind().await;
    let results = match attempt {
        Ok(Ok(results)) => results,
        Ok(Err(BatchError::Final(e))) => {
            // The commit itself failed (or no connection could be had): whether the batch is
            // stored is unknown, so running it again could register its complaints twice.
            let message = e.to_string();
            registrations.iter().map(|_| Err(StoreError::db(WriterFault::Commit(message.clone())))).collect()
        }
        Ok(Err(BatchError::Retry(e))) => {
            tracing::debug!(error = %e, size = batch.len(), "batch registration failed; retrying its registrations one by one");
            retry(pool, &registrations).await
        }
        Err(_) => {
            tracing::error!(size = batch.len(), "a registration batch panicked; it is rolled back");
            retry(pool, &registrations).await
        }
    };
    reply(batch, results);
}

async fn retry(pool: &PgPool, registrations: &[&Registration]) -> Vec<StoreResult<Registered>> {
    let mut results = Vec::with_capacity(registrations.len());
    for registration in registrations {
        results.push(one(pool, registration).await);
    }
    results
}

fn reply(batch: Vec<Job>, results: Vec<StoreResult<Registered>>) {
    let mut results = results.into_iter();
    for job in batch {
        let result = results.next().unwrap_or_else(|| Err(StoreError::db(WriterFault::NoResult)));
        let _ = job.answer.send(result);
    }
}
