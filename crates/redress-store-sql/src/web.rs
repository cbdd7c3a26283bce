//! What the web front end keeps: sign-in sessions, failed sign-ins, a handler's work queue,
//! the installation's shared secrets and who has read which notification.

use jiff::{SignedDuration, Timestamp};
use redress_store::columns::{decode_complaint, micros};
use redress_store::{ComplaintSummary, DueCounts, NewSession, StoreError, StoreResult, StoredSession, WorkCursor, WorkPage, WorkQueue};
use sqlx::QueryBuilder;

use crate::filter::push_filter;
use crate::users::user_from;
use crate::{Builder, Connection, Db, Engine, Run, VALUES_PER_LIST, execute, fetch_all, fetch_optional, get, get_text};

/// Stores a new session; [`StoreError::NotFound`] if its user does not exist.
pub async fn create_session<E: Engine>(conn: &mut Connection<E>, s: &NewSession) -> StoreResult<()> {
    let mut q = QueryBuilder::<Db<E>>::new("INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at, revoked, address) VALUES (");
    q.bind(&s.id_hash).push(", ").bind(&s.user_id).push(", ").bind(&s.csrf_token).push(", ").bind(s.created_at.as_microsecond());
    q.push(", ").bind(s.expires_at.as_microsecond()).push(", ").bind(false).push(", ").bind(&s.address).push(")");
    match <Db<E> as Run>::execute(conn, &mut q).await {
        Ok(()) => Ok(()),
        Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => Err(StoreError::NotFound),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(StoreError::Duplicate("this session exists already".into())),
        Err(e) => Err(StoreError::db(e)),
    }
}

/// The live session with this id hash: not revoked, not expired at `now`, its user active.
pub async fn session<E: Engine>(conn: &mut Connection<E>, id_hash: &str, now: Timestamp) -> StoreResult<Option<StoredSession>> {
    // The user's columns first, in the order `user_from` reads them.
    let mut q = QueryBuilder::<Db<E>>::new(
        "SELECT u.id, u.name, u.role, u.department, u.active, u.open_load, u.language, s.id_hash, s.csrf_token, s.created_at, s.expires_at \
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ",
    );
    q.bind(id_hash).push(format_args!(" AND s.revoked = {} AND s.expires_at > ", E::FALSE)).bind(now.as_microsecond());
    q.push(format_args!(" AND u.active = {}", E::TRUE));
    let Some(r) = fetch_optional(conn, &mut q).await? else { return Ok(None) };
    Ok(Some(StoredSession {
        user: user_from::<E>(&r)?,
        id_hash: get(&r, 7)?,
        csrf_token: get(&r, 8)?,
        created_at: micros(get(&r, 9)?)?,
        expires_at: micros(get(&r, 10)?)?,
    }))
}

/// Revokes one session, if it is not revoked yet.
pub async fn revoke_session<E: Engine>(conn: &mut Connection<E>, id_hash: &str, at: Timestamp) -> StoreResult<()> {
    let mut q = QueryBuilder::<Db<E>>::new("UPDATE sessions SET revoked = ");
    q.bind(true).push(", revoked_at = ").bind(at.as_microsecond()).push(" WHERE id_hash = ").bind(id_hash);
    q.push(format_args!(" AND revoked = {}", E::FALSE));
    execute(conn, &mut q).await
}

/// Revokes every session of a user still live at `at`; how many.
pub async fn revoke_sessions_of<E: Engine>(conn: &mut Connection<E>, user_id: &str, at: Timestamp) -> StoreResult<u64> {
    let mut q = QueryBuilder::<Db<E>>::new("UPDATE sessions SET revoked = ");
    q.bind(true).push(", revoked_at = ").bind(at.as_microsecond()).push(" WHERE user_id = ").bind(user_id);
    q.push(format_args!(" AND revoked = {} AND expires_at > ", E::FALSE)).bind(at.as_microsecond());
    q.push(" RETURNING id_hash");
    Ok(fetch_all(conn, &mut q).await?.len() as u64)
}

/// How long failed sign-ins are kept.
const FAILURES_KEPT: SignedDuration = SignedDuration::from_hours(24);

/// Records a failed sign-in, and purges the failures older than a day.
pub async fn record_sign_in_failure<E: Engine>(conn: &mut Connection<E>, key: &str, at: Timestamp) -> StoreResult<()> {
    let mut q = QueryBuilder::<Db<E>>::new("INSERT INTO sign_in_failures (key, at) VALUES (");
    q.bind(key).push(", ").bind(at.as_microsecond()).push(")");
    execute(conn, &mut q).await?;
    let mut purge = QueryBuilder::<Db<E>>::new("DELETE FROM sign_in_failures WHERE at < ");
    purge.bind(at.as_microsecond().saturating_sub(FAILURES_KEPT.as_micros() as i64));
    execute(conn, &mut purge).await
}

/// Failed sign-ins under `key` at or after `since`.
pub async fn sign_in_failures<E: Engine>(conn: &mut Connection<E>, key: &str, since: Timestamp) -> StoreResult<u64> {
    let mut q = QueryBuilder::<Db<E>>::new("SELECT COUNT(*) FROM sign_in_failures WHERE key = ");
    q.bind(key).push(" AND at >= ").bind(since.as_microsecond());
    count::<E>(conn, &mut q).await
}

/// Forgets the failed sign-ins under `key`.
pub async fn clear_sign_in_failures<E: Engine>(conn: &mut Connection<E>, key: &str) -> StoreResult<()> {
    let mut q = QueryBuilder::<Db<E>>::new("DELETE FROM sign_in_failures WHERE key = ");
    q.bind(key);
    execute(conn, &mut q).await
}

async fn count<E: Engine>(conn: &mut Connection<E>, q: &mut QueryBuilder<Db<E>>) -> StoreResult<u64> {
    let n: i64 = match fetch_optional(conn, q).await? {
        Some(r) => get(&r, 0)?,
        None => 0,
    };
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The order of a work queue: the watched deadline, none last. No deadline is that late (the
/// latest timestamp is in the year 9999, about 2.5 × 10¹⁷ microseconds). The work-queue
/// indexes are on this very expression, which both engines match to the letter.
const WORK_KEY: &str = "COALESCE(watch_at, 9223372036854775807)";

/// Which part of a work queue a statement reads; the two are disjoint.
#[derive(Clone, Copy)]
enum Part {
    /// Assigned to the handler.
    Assigned,
    /// In the department, assigned to nobody.
    Unassigned,
}

impl Part {
    fn of(queue: &WorkQueue) -> Vec<(Part, &str)> {
        let mut parts = vec![(Part::Assigned, queue.handler_id.as_str())];
        if let Some(department) = &queue.department {
            parts.push((Part::Unassigned, department.as_str()));
        }
        parts
    }

    /// Pushes the conditions selecting the part's complaints, with the queue's filter: each
    /// part's own partial index answers them.
    fn push_conditions<E: Engine>(self, q: &mut QueryBuilder<Db<E>>, owner: &str, queue: &WorkQueue) {
        q.push(format_args!(" WHERE is_open = {}", E::TRUE));
        match self {
            Part::Assigned => q.push(" AND handler_id = ").bind(owner),
            Part::Unassigned => q.push(" AND department = ").bind(owner).push(" AND handler_id IS NULL"),
        };
        push_filter::<E>(q, &queue.filter, "");
    }
}

/// A page of a handler's work queue with counts over all of it.
///
/// Each part of the queue (assigned to the handler; unassigned in the department) is read
/// along its own index in queue order from the cursor, at most a page of it, and the two are
/// merged: a page costs about its length, however long the queue. The counts read the whole
/// queue once, through the same indexes.
pub async fn work_queue<E: Engine>(conn: &mut Connection<E>, queue: &WorkQueue) -> StoreResult<WorkPage> {
    let limit = i64::from(queue.limit.clamp(1, 200));
    let parts = Part::of(queue);

    let mut q = QueryBuilder::<Db<E>>::new("");
    for (i, (part, owner)) in parts.iter().enumerate() {
        if i > 0 {
            q.push(" UNION ALL ");
        }
        q.push(format_args!("SELECT body, watch_at, work_key, id FROM (SELECT body, watch_at, {WORK_KEY} AS work_key, id FROM complaints"));
        part.push_conditions::<E>(&mut q, owner, queue);
        if let Some(after) = &queue.after {
            // `(key, id) > (…)`, spelled so that SQLite too seeks the index to the key instead of
            // reading the part from its start.
            let key = after.watch_at.unwrap_or(i64::MAX);
            q.push(format_args!(" AND {WORK_KEY} >= ")).bind(key);
            q.push(format_args!(" AND ({WORK_KEY} > ")).bind(key).push(" OR id > ").bind(after.id.to_string()).push(")");
        }
        q.push(format_args!(" ORDER BY {WORK_KEY}, id LIMIT ")).bind(limit).push(format_args!(") AS part{i}"));
    }
    q.push(" ORDER BY work_key, id LIMIT ").bind(limit);
    let rows = fetch_all(conn, &mut q).await?;
    let mut items = Vec::with_capacity(rows.len());
    let mut last = None;
    for r in &rows {
        let summary = ComplaintSummary::from(&decode_complaint(get_text(r, 0)?)?);
        last = Some(WorkCursor { watch_at: get(r, 1)?, id: summary.id });
        items.push(summary);
    }
    let next = if items.len() as i64 == limit { last } else { None };

    let mut q = QueryBuilder::<Db<E>>::new("");
    for (i, (part, owner)) in parts.iter().enumerate() {
        if i > 0 {
            q.push(" UNION ALL ");
        }
        q.push("SELECT COUNT(*), COUNT(CASE WHEN due_state = 'due_soon' THEN 1 END), COUNT(CASE WHEN due_state = 'overdue' THEN 1 END) FROM complaints");
        part.push_conditions::<E>(&mut q, owner, queue);
    }
    let mut counts = DueCounts::default();
    for r in fetch_all(conn, &mut q).await? {
        let n = |i: usize| -> StoreResult<u64> { Ok(u64::try_from(get::<_, i64>(&r, i)?).unwrap_or(0)) };
        counts.total += n(0)?;
        counts.due_soon += n(1)?;
        counts.overdue += n(2)?;
    }
    Ok(WorkPage { items, next, counts })
}

/// The installation's secret `name`: `candidate` if none was stored yet (whoever stores first
/// wins a race), else the stored one.
pub async fn installation_secret<E: Engine>(conn: &mut Connection<E>, name: &str, candidate: &[u8]) -> StoreResult<Vec<u8>> {
    let mut q = QueryBuilder::<Db<E>>::new("INSERT INTO installation_secrets (name, secret) VALUES (");
    q.bind(name).push(", ").bind(candidate).push(") ON CONFLICT (name) DO NOTHING");
    execute(conn, &mut q).await?;
    let mut q = QueryBuilder::<Db<E>>::new("SELECT secret FROM installation_secrets WHERE name = ");
    q.bind(name);
    let row = fetch_optional(conn, &mut q).await?.ok_or_else(|| StoreError::corrupt("installation secret", format!("the secret '{name}' vanished")))?;
    get(&row, 0)
}

/// Records that a user has read a notification; a second time changes nothing.
pub async fn mark_notification_read<E: Engine>(conn: &mut Connection<E>, user_id: &str, notification_id: i64, at: Timestamp) -> StoreResult<()> {
    let mut q = QueryBuilder::<Db<E>>::new("INSERT INTO notification_reads (user_id, notification_id, at) VALUES (");
    q.bind(user_id).push(", ").bind(notification_id).push(", ").bind(at.as_microsecond());
    q.push(") ON CONFLICT (user_id, notification_id) DO NOTHING");
    execute(conn, &mut q).await
}

/// Which of `ids` the user has read, ascending.
pub async fn read_notifications<E: Engine>(conn: &mut Connection<E>, user_id: &str, ids: &[i64]) -> StoreResult<Vec<i64>> {
    let mut read = Vec::new();
    for chunk in ids.chunks(VALUES_PER_LIST) {
        let mut q = QueryBuilder::<Db<E>>::new("SELECT notification_id FROM notification_reads WHERE user_id = ");
        q.bind(user_id).push(" AND notification_id IN (").bind_all(chunk.iter().copied()).push(")");
        for r in fetch_all(conn, &mut q).await? {
            read.push(get::<_, i64>(&r, 0)?);
        }
    }
    read.sort_unstable();
    read.dedup();
    Ok(read)
}
