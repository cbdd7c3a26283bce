//! The outbox as the delivery workers see it: claiming due messages, recording what became of
//! them, and applying the providers' receipts.
//!
//! A claim is one statement: it picks the due rows and marks them `sending` under the worker's
//! token at once, so two workers never hold the same message (PostgreSQL skips the rows another
//! transaction has locked; SQLite runs one writing statement at a time). A worker that dies
//! leaves its rows `sending` with a claim that runs out at `due_at`; the next claim after that
//! takes them again, and the provider sees the same idempotency key.

use jiff::Timestamp;
use redress_domain::complaint::{ComplaintId, Outcome};
use redress_domain::delivery::{DeliveryChannel, DeliveryState};
use redress_store::columns::{complaint_id, decode, micros};
use redress_store::{ClaimedMessage, ClaimedNotice, DeliveryReceipt, DeliveryUpdate, InboundMail, NoticeBacklog, NoticeUpdate, StoreError, StoreResult, StoredMessage};
use sqlx::{Connection as _, QueryBuilder, SqlStr};

use crate::{Builder, Connection, Db, Engine, fetch_all, fetch_optional, get, get_text};

/// The columns [`stored_message`] reads, in its order.
pub const MESSAGE_COLUMNS: &str = "id, complaint_id, state, channel, attempts, due_at, provider_id, detail, sent_at, finished_at, body";

/// One outbox row read with [`MESSAGE_COLUMNS`].
pub fn stored_message<E: Engine>(r: &<Db<E> as sqlx::Database>::Row) -> StoreResult<StoredMessage> {
    let state: String = get(r, 2)?;
    let due_at: i64 = get(r, 5)?;
    let attempts: i64 = get(r, 4)?;
    let optional_time = |v: Option<i64>| v.map(micros).transpose();
    Ok(StoredMessage {
        id: get(r, 0)?,
        complaint_id: complaint_id(get_text(r, 1)?)?,
        // A pending message that has failed before waits for its next attempt.
        next_attempt_at: if state == DeliveryState::Pending.as_str() && attempts > 0 { Some(micros(due_at)?) } else { None },
        state,
        channel: get(r, 3)?,
        attempts,
        provider_id: get(r, 6)?,
        detail: get(r, 7)?,
        sent_at: optional_time(get(r, 8)?)?,
        finished_at: optional_time(get(r, 9)?)?,
        message: decode("message", get_text(r, 10)?)?,
    })
}

/// A complaint's outbox messages, oldest first.
pub async fn messages<E: Engine>(conn: &mut Connection<E>, id: ComplaintId) -> StoreResult<Vec<StoredMessage>> {
    let mut q = QueryBuilder::<Db<E>>::new(format!("SELECT {MESSAGE_COLUMNS} FROM outbox WHERE complaint_id = "));
    q.bind(id.to_string());
    q.push(" ORDER BY id");
    fetch_all(conn, &mut q).await?.iter().map(stored_message::<E>).collect()
}

/// The one claiming statement of a table of things to send (the outbox, the webhook feed): the
/// rows due at `now`, pending or held by a claim that ran out, soonest first, at most `limit`,
/// with `filter`'s conditions, marked `sending` under `claim` until `lease_until` with the
/// attempt counted; `returning` names the columns read back.
fn claim_statement<E: Engine>(
    table: &str,
    now: Timestamp,
    lease_until: Timestamp,
    claim: &str,
    limit: u32,
    returning: &str,
    filter: impl FnOnce(&mut QueryBuilder<Db<E>>),
) -> QueryBuilder<Db<E>> {
    let mut q = QueryBuilder::<Db<E>>::new(format!("UPDATE {table} SET state = 'sending', attempts = attempts + 1, claim = "));
    q.bind(claim.to_string()).push(", due_at = ").bind(lease_until.as_microsecond());
    q.push(format!(" WHERE id IN (SELECT id FROM {table} WHERE state IN ('pending', 'sending') AND due_at <= ")).bind(now.as_microsecond());
    filter(&mut q);
    q.push(" ORDER BY due_at, id LIMIT ").bind(i64::from(limit)).push(E::SKIP_LOCKED);
    q.push(format!(") RETURNING {returning}"));
    q
}

/// See [`redress_store::Store::claim_messages`].
pub async fn claim<E: Engine>(
    conn: &mut Connection<E>,
    now: Timestamp,
    lease_until: Timestamp,
    channels: &[DeliveryChannel],
    claim: &str,
    limit: u32,
) -> StoreResult<Vec<ClaimedMessage>> {
    if channels.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    let channels: Vec<String> = channels.iter().map(|c| c.as_str().to_string()).collect();
    let mut q = claim_statement::<E>("outbox", now, lease_until, claim, limit, "id, complaint_id, channel, attempts, body", |q| {
        q.push(" AND channel");
        E::push_in(q, &channels);
    });
    let mut claimed = fetch_all(conn, &mut q)
        .await?
        .iter()
        .map(|r| {
            let channel: String = get(r, 2)?;
            let attempts: i64 = get(r, 3)?;
            Ok(ClaimedMessage {
                id: get(r, 0)?,
                complaint_id: complaint_id(get_text(r, 1)?)?,
                channel: DeliveryChannel::parse(&channel).ok_or_else(|| StoreError::corrupt("outbox channel", channel.clone()))?,
                attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                claim: claim.to_string(),
                message: decode("message", get_text(r, 4)?)?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    claimed.sort_by_key(|m| m.id);
    Ok(claimed)
}

/// See [`redress_store::Store::finish_delivery`].
pub async fn finish<E: Engine>(conn: &mut Connection<E>, update: &DeliveryUpdate) -> StoreResult<bool> {
    let mut tx = conn.begin_with(SqlStr::from_static(E::BEGIN_WRITE)).await.map_err(StoreError::db)?;
    let at = update.at.as_microsecond();
    let mut q = QueryBuilder::<Db<E>>::new("UPDATE outbox SET state = ");
    q.bind(update.state.as_str().to_string());
    q.push(", claim = NULL, detail = ");
    q.bind(&update.detail);
    match update.state {
        DeliveryState::Pending => {
            q.push(", due_at = ");
            q.bind(update.next_attempt_at.unwrap_or(update.at).as_microsecond());
        }
        DeliveryState::Sent => {
            q.push(", provider_id = ");
            q.bind(&update.provider_id);
            q.push(", sent_at = ");
            q.bind(at);
        }
        DeliveryState::Failed | DeliveryState::Delivered => {
            q.push(", finished_at = ");
            q.bind(at);
        }
        DeliveryState::Sending => return Err(StoreError::corrupt("delivery update", "a message cannot be put back to sending")),
    }
    q.push(" WHERE id = ");
    q.bind(update.id);
    q.push(" AND state = 'sending' AND claim = ");
    q.bind(update.claim.clone());
    q.push(" RETURNING complaint_id");
    let rows = fetch_all(&mut *tx, &mut q).await?;
    let Some(row) = rows.first() else {
        return Ok(false);
    };
    if let Some(n) = &update.notification {
        let id = complaint_id(get_text(row, 0)?)?;
        let mut rows = crate::records::OutcomeRows::default();
        rows.push(&id.to_string(), 0, &Outcome { notifications: vec![n.clone()], ..Default::default() }, at)?;
        rows.insert::<E>(&mut *tx).await?;
    }
    tx.commit().await.map_err(StoreError::db)?;
    Ok(true)
}

/// See [`redress_store::Store::record_receipt`].
pub async fn receipt<E: Engine>(conn: &mut Connection<E>, receipt: &DeliveryReceipt) -> StoreResult<Option<StoredMessage>> {
    let from = DeliveryState::ALL.into_iter().filter(|s| s.takes_receipt(receipt.state)).map(|s| s.as_str().to_string()).collect::<Vec<_>>();
    if from.is_empty() {
        return Ok(None);
    }
    let mut q = QueryBuilder::<Db<E>>::new("UPDATE outbox SET state = ");
    q.bind(receipt.state.as_str().to_string());
    q.push(", finished_at = ");
    q.bind(receipt.at.as_microsecond());
    q.push(", detail = ");
    q.bind(&receipt.detail);
    q.push(" WHERE channel = ");
    q.bind(receipt.channel.as_str().to_string());
    q.push(" AND provider_id = ");
    q.bind(receipt.provider_id.clone());
    q.push(" AND state");
    E::push_in(&mut q, &from);
    q.push(format!(" RETURNING {MESSAGE_COLUMNS}"));
    let rows = fetch_all(conn, &mut q).await?;
    rows.first().map(stored_message::<E>).transpose()
}

/// See [`redress_store::Store::claim_notices`].
pub async fn claim_notices<E: Engine>(conn: &mut Connection<E>, now: Timestamp, lease_until: Timestamp, claim: &str, limit: u32) -> StoreResult<Vec<ClaimedNotice>> {
    let mut q = claim_statement::<E>("webhook_feed", now, lease_until, claim, limit, "id, event, payload, attempts, delivered_to", |_| {});
    let mut claimed = fetch_all(conn, &mut q)
        .await?
        .iter()
        .map(|r| {
            let event: String = get(r, 1)?;
            let attempts: i64 = get(r, 3)?;
            Ok(ClaimedNotice {
                id: get(r, 0)?,
                event: redress_domain::delivery::WebhookEvent::parse(&event).ok_or_else(|| StoreError::corrupt("webhook event", event.clone()))?,
                payload: get(r, 2)?,
                attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                delivered_to: decode("webhook endpoints", get_text(r, 4)?)?,
                claim: claim.to_string(),
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    claimed.sort_by_key(|n| n.id);
    Ok(claimed)
}

/// See [`redress_store::Store::finish_notice`].
pub async fn finish_notice<E: Engine>(conn: &mut Connection<E>, id: i64, claim: &str, update: &NoticeUpdate) -> StoreResult<bool> {
    let encode = |v: &Vec<String>| serde_json::to_string(v).unwrap_or_else(|_| "[]".into());
    let mut q = match update {
        NoticeUpdate::Done => QueryBuilder::<Db<E>>::new("DELETE FROM webhook_feed"),
        NoticeUpdate::Retry { next_attempt_at, delivered_to, detail } => {
            let mut q = QueryBuilder::<Db<E>>::new("UPDATE webhook_feed SET state = 'pending', claim = NULL, due_at = ");
            q.bind(next_attempt_at.as_microsecond()).push(", delivered_to = ").bind(encode(delivered_to)).push(", detail = ").bind(detail.clone());
            q
        }
        NoticeUpdate::Failed { delivered_to, detail } => {
            let mut q = QueryBuilder::<Db<E>>::new("UPDATE webhook_feed SET state = 'failed', claim = NULL, delivered_to = ");
            q.bind(encode(delivered_to)).push(", detail = ").bind(detail.clone());
            q
        }
    };
    q.push(" WHERE id = ").bind(id).push(" AND state = 'sending' AND claim = ").bind(claim.to_string()).push(" RETURNING id");
    Ok(!fetch_all(conn, &mut q).await?.is_empty())
}

/// See [`redress_store::Store::notice_backlog`].
pub async fn notice_backlog<E: Engine>(conn: &mut Connection<E>) -> StoreResult<NoticeBacklog> {
    let mut backlog = NoticeBacklog::default();
    let mut q = QueryBuilder::<Db<E>>::new("SELECT state, COUNT(*) FROM webhook_feed GROUP BY state");
    for r in fetch_all(conn, &mut q).await? {
        let state: String = get(&r, 0)?;
        let n: i64 = get(&r, 1)?;
        if state == "failed" {
            backlog.failed += n;
        } else {
            backlog.pending += n;
        }
    }
    let mut q = QueryBuilder::<Db<E>>::new("SELECT id, event, detail FROM webhook_feed WHERE state = 'failed' ORDER BY id DESC LIMIT 20");
    for r in fetch_all(conn, &mut q).await? {
        let detail: Option<String> = get(&r, 2)?;
        backlog.failures.push((get(&r, 0)?, get(&r, 1)?, detail.unwrap_or_default()));
    }
    Ok(backlog)
}

/// See [`redress_store::Store::inbound_mail_known`].
pub async fn inbound_mail_known<E: Engine>(conn: &mut Connection<E>, key: &str) -> StoreResult<bool> {
    let mut q = QueryBuilder::<Db<E>>::new("SELECT id FROM inbound_mail WHERE key = ");
    q.bind(key.to_string());
    Ok(fetch_optional(conn, &mut q).await?.is_some())
}

/// See [`redress_store::Store::record_inbound_mail`].
pub async fn record_inbound_mail<E: Engine>(conn: &mut Connection<E>, m: &InboundMail, raw: &[u8]) -> StoreResult<bool> {
    let complaint = m.complaint_id.map(|c| c.to_string());
    let mut q = QueryBuilder::<Db<E>>::new("INSERT INTO inbound_mail (key, source, taken_at, message_id, sender, subject, outcome, complaint_id, reason, size, raw) VALUES (");
    q.bind(m.key.clone()).push(", ").bind(m.source.clone()).push(", ").bind(m.taken_at.as_microsecond()).push(", ");
    q.bind(&m.message_id).push(", ").bind(&m.sender).push(", ").bind(&m.subject).push(", ").bind(m.outcome.clone()).push(", ");
    q.bind(&complaint).push(", ").bind(&m.reason).push(", ").bind(m.size).push(", ").bind(raw);
    q.push(") ON CONFLICT (key) DO NOTHING RETURNING id");
    Ok(!fetch_all(conn, &mut q).await?.is_empty())
}

/// See [`redress_store::Store::inbound_mails`].
pub async fn inbound_mails<E: Engine>(conn: &mut Connection<E>, outcome: Option<&str>, limit: u32) -> StoreResult<Vec<InboundMail>> {
    let mut q = QueryBuilder::<Db<E>>::new("SELECT id, key, source, taken_at, message_id, sender, subject, outcome, complaint_id, reason, size FROM inbound_mail");
    if let Some(outcome) = outcome {
        q.push(" WHERE outcome = ").bind(outcome.to_string());
    }
    q.push(" ORDER BY id DESC LIMIT ").bind(i64::from(limit));
    fetch_all(conn, &mut q)
        .await?
        .iter()
        .map(|r| {
            let complaint: Option<String> = get(r, 8)?;
            Ok(InboundMail {
                id: get(r, 0)?,
                key: get(r, 1)?,
                source: get(r, 2)?,
                taken_at: micros(get(r, 3)?)?,
                message_id: get(r, 4)?,
                sender: get(r, 5)?,
                subject: get(r, 6)?,
                outcome: get(r, 7)?,
                complaint_id: complaint.as_deref().map(complaint_id).transpose()?,
                reason: get(r, 9)?,
                size: get(r, 10)?,
            })
        })
        .collect()
}

/// See [`redress_store::Store::inbound_mail_raw`].
pub async fn inbound_mail_raw<E: Engine>(conn: &mut Connection<E>, id: i64) -> StoreResult<Option<Vec<u8>>> {
    let mut q = QueryBuilder::<Db<E>>::new("SELECT raw FROM inbound_mail WHERE id = ");
    q.bind(id);
    fetch_optional(conn, &mut q).await?.map(|r| get(&r, 0)).transpose()
}

#[cfg(test)]
mod tests {
    #[test]
    fn message_columns_name_eleven_columns() {
        assert_eq!(super::MESSAGE_COLUMNS.split(", ").count(), 11);
    }
}
