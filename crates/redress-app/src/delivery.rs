//! Delivering customer messages: the worker that claims due outbox messages, hands each to its
//! channel's transport and records the answer, and the providers' receipts and bounces.
//!
//! Every server runs the worker; a claim gives each message to one of them. The transports
//! (SMTP, the SMS gateway) are edges that implement [`Transport`]; this module decides what an
//! answer means: sent, try again later with a growing wait, or failed for good, and when the
//! complaint's department must be told that the customer has not been reached.
//!
//! A message keeps one idempotency key for all its attempts ([`idempotency_key`]). A worker that
//! dies after the provider accepted a message but before recording it leaves the message
//! `sending`; when its claim runs out the message is claimed again and handed over under the same
//! key, which the gateway uses to recognise the repeat and e-mail carries as its `Message-ID`.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use jiff::{SignedDuration, Timestamp};
use redress_domain::complaint::{ComplaintId, Notification};
use redress_domain::delivery::{DeliveryChannel, DeliveryState, QuietHours, RetryPolicy};
use redress_domain::messages::OutgoingMessage;
use redress_domain::org::Role;
use redress_store::{ClaimedMessage, DeliveryReceipt, DeliveryUpdate, StoreError, StoredMessage};
use serde::Serialize;

use crate::App;

/// What a transport is given to send.
#[derive(Debug, Clone, Copy)]
pub struct Envelope<'a> {
    /// The same on every attempt of this message.
    pub idempotency_key: &'a str,
    /// The message: recipient, language, subject, body.
    pub message: &'a OutgoingMessage,
}

/// The provider took the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The provider's id of the message, which its receipts name.
    pub provider_id: String,
    /// What the provider said.
    pub detail: Option<String>,
}

/// The provider did not take the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct SendFailure {
    /// Refused for good (an address that does not exist, a request the gateway rejects): not
    /// worth another attempt.
    pub permanent: bool,
    /// What went wrong, for the staff who read the message's state.
    pub detail: String,
}

/// A way of reaching customers.
#[async_trait::async_trait]
pub trait Transport: Send + Sync {
    /// The channel it serves.
    fn channel(&self) -> DeliveryChannel;

    /// Hands one message to the provider.
    async fn send(&self, envelope: Envelope<'_>) -> Result<Accepted, SendFailure>;
}

/// The key a message is handed to providers under, the same on every attempt.
pub fn idempotency_key(complaint_id: ComplaintId, message_id: i64) -> String {
    format!("redress-{complaint_id}-{message_id}")
}

/// How the worker behaves.
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    /// Retries and when the department is told.
    pub retry: RetryPolicy,
    /// How long a claim holds: longer than any one send may take.
    pub lease: Duration,
    /// Messages claimed at once.
    pub batch: u32,
    /// Messages handed to providers at the same time.
    pub concurrency: usize,
    /// No text message is sent in these hours (the default rule profile's time zone).
    pub sms_quiet_hours: Option<QuietHours>,
    /// How often the worker looks for due messages when the last look found none.
    pub poll_every: Duration,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        DeliverySettings { retry: RetryPolicy::default(), lease: Duration::from_secs(120), batch: 100, concurrency: 8, sms_quiet_hours: None, poll_every: Duration::from_secs(2) }
    }
}

/// What one pass of the worker did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DeliveryReport {
    /// Messages claimed.
    pub claimed: usize,
    /// Accepted by a provider.
    pub sent: usize,
    /// To be tried again.
    pub retrying: usize,
    /// Failed for good.
    pub failed: usize,
    /// Claimed by another worker meanwhile (its claim had run out): left to that one.
    pub lost_claims: usize,
}

/// The delivery worker: the transports and the settings.
#[derive(Clone)]
pub struct Deliverer {
    app: App,
    transports: Vec<Arc<dyn Transport>>,
    settings: DeliverySettings,
}

impl Deliverer {
    /// A worker sending through `transports` (at most one per channel; a channel without one
    /// keeps its messages pending).
    pub fn new(app: App, transports: Vec<Arc<dyn Transport>>, settings: DeliverySettings) -> Self {
        Deliverer { app, transports, settings }
    }

    /// The channels whose messages can go now: those with a transport (text messages not in
    /// quiet hours), and messages with no contact, which fail at once so a person is told.
    pub fn channels_now(&self, now: Timestamp) -> Vec<DeliveryChannel> {
        let quiet = self.settings.sms_quiet_hours.as_ref().is_some_and(|q| q.quiet_until(now, &redress_domain::complaint::time_zone(self.app.rules.default_rules())).is_some());
        let mut channels: Vec<DeliveryChannel> = self.transports.iter().map(|t| t.channel()).filter(|c| !(quiet && *c == DeliveryChannel::Sms)).collect();
        channels.push(DeliveryChannel::None);
        channels
    }

    /// Claims the due messages once and delivers them.
    pub async fn deliver_due(&self) -> Result<DeliveryReport, StoreError> {
        let now = self.app.clock.now();
        let lease_until = now.saturating_add(SignedDuration::try_from(self.settings.lease).unwrap_or(SignedDuration::from_secs(120))).unwrap_or(now);
        let claim = uuid::Uuid::now_v7().to_string();
        let claimed = self.app.store.claim_messages(now, lease_until, &self.channels_now(now), &claim, self.settings.batch).await?;
        let mut report = DeliveryReport { claimed: claimed.len(), ..DeliveryReport::default() };
        let mut results = futures::stream::iter(claimed.into_iter().map(|m| self.deliver_one(m))).buffer_unordered(self.settings.concurrency.max(1));
        while let Some(result) = results.next().await {
            match result? {
                (_, false) => report.lost_claims += 1,
                (DeliveryState::Sent, true) => report.sent += 1,
                (DeliveryState::Pending, true) => report.retrying += 1,
                (_, true) => report.failed += 1,
            }
        }
        Ok(report)
    }

    async fn deliver_one(&self, m: ClaimedMessage) -> Result<(DeliveryState, bool), StoreError> {
        let key = idempotency_key(m.complaint_id, m.id);
        let transport = self.transports.iter().find(|t| t.channel() == m.channel);
        let result = match transport {
            Some(t) if m.message.recipient.is_some() => t.send(Envelope { idempotency_key: &key, message: &m.message }).await,
            _ => Err(SendFailure { permanent: true, detail: "no e-mail address or mobile number is known for the customer".into() }),
        };
        let now = self.app.clock.now();
        let mut update = DeliveryUpdate { id: m.id, claim: m.claim.clone(), state: DeliveryState::Sent, next_attempt_at: None, provider_id: None, detail: None, at: now, notification: None };
        match result {
            Ok(accepted) => {
                update.provider_id = Some(accepted.provider_id);
                update.detail = accepted.detail;
            }
            Err(failure) => {
                let next = self.settings.retry.after_failure(m.attempts, failure.permanent, now);
                update.state = if next.is_some() { DeliveryState::Pending } else { DeliveryState::Failed };
                update.next_attempt_at = next;
                if self.settings.retry.tell_department(m.attempts, next.is_none()) {
                    update.notification = self.failure_notification(&m, &failure.detail, next.is_none()).await?;
                }
                tracing::info!(message = m.id, attempts = m.attempts, permanent = failure.permanent, error = %failure.detail, "message not sent");
                update.detail = Some(failure.detail);
            }
        }
        let state = update.state;
        let held = self.app.store.finish_delivery(update).await?;
        if !held {
            tracing::warn!(message = m.id, "the claim ran out before the message's result was recorded; another worker has it");
        }
        Ok((state, held))
    }

    async fn failure_notification(&self, m: &ClaimedMessage, detail: &str, gave_up: bool) -> Result<Option<Notification>, StoreError> {
        let what = if gave_up { "could not be delivered; reach the customer another way" } else { "has not been delivered yet; still trying" };
        tell_department(&self.app, m.complaint_id, |number| format!("{number}: the {} message {what} ({} attempts: {detail})", m.message.kind.as_str(), m.attempts)).await
    }

    /// Runs the worker until the task is dropped: a pass whenever the last one found work, else
    /// every [`DeliverySettings::poll_every`].
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                match self.deliver_due().await {
                    Ok(r) if r.claimed > 0 => {
                        tracing::debug!(?r, "delivery pass");
                        continue;
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "delivery pass failed"),
                }
                tokio::time::sleep(self.settings.poll_every).await;
            }
        })
    }
}

/// Applies a provider's receipt or a bounce. A message that failed after it was sent is told to
/// the complaint's department once. `None` when no sent message has that provider id (or its
/// state does not take the receipt).
pub async fn record_receipt(app: &App, receipt: DeliveryReceipt) -> Result<Option<StoredMessage>, StoreError> {
    let failed = receipt.state == DeliveryState::Failed;
    let detail = receipt.detail.clone().unwrap_or_default();
    let Some(message) = app.store.record_receipt(receipt).await? else { return Ok(None) };
    if failed
        && let Some(n) = tell_department(app, message.complaint_id, |number| format!("{number}: the {} message bounced; reach the customer another way ({detail})", message.message.kind.as_str())).await?
    {
        app.store.notify_once(&format!("bounce|{}", message.id), &[n], app.clock.now()).await?;
    }
    Ok(Some(message))
}

/// A notification to the handlers of the department that owns a complaint (who must reach the
/// customer another way); `text` is given the complaint's number. `None` if there is no such
/// complaint.
async fn tell_department(app: &App, complaint: ComplaintId, text: impl FnOnce(&str) -> String) -> Result<Option<Notification>, StoreError> {
    let Some(c) = app.store.complaint(complaint).await? else { return Ok(None) };
    Ok(Some(Notification { role: Role::Handler, department: Some(c.owner.department.clone()), message: text(&c.number), complaint_id: c.id }))
}

/// How the SMS gateway reports deliveries to Redress (`POST /api/v1/delivery/sms-receipts`): a
/// JSON object or an array of them, read with JSON pointers, with the gateway's own words for
/// delivered and failed. Configured with the gateway (`[delivery.sms.receipts]`).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptFormat {
    /// The secret the gateway sends as `Authorization: Bearer …` (better: `token_env`).
    pub token: Option<String>,
    /// The environment variable holding the secret.
    pub token_env: Option<String>,
    /// Where the gateway's message id is, e.g. `/message_id`.
    pub id_pointer: String,
    /// Where the status is, e.g. `/status`.
    pub status_pointer: String,
    /// Where an explanation is, if anywhere.
    pub detail_pointer: Option<String>,
    /// Status values meaning delivered, e.g. `["DELIVRD"]`.
    pub delivered: Vec<String>,
    /// Status values meaning failed, e.g. `["UNDELIV", "EXPIRED", "REJECTD"]`.
    pub failed: Vec<String>,
}

/// Why a receipt was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    /// The secret is missing or wrong.
    #[error("the receipt token is missing or wrong")]
    Unauthorised,
    /// The body is not what the format describes.
    #[error("receipt {index}: {problem}")]
    Malformed {
        /// Which receipt of the batch (from 0).
        index: usize,
        /// What is wrong.
        problem: String,
    },
}

/// What a batch of receipts did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReceiptReport {
    /// Receipts that moved a message.
    pub applied: usize,
    /// Receipts for messages unknown here, or whose state did not take them (a repeat).
    pub ignored: usize,
    /// Receipts with a status that is neither delivered nor failed (e.g. still en route).
    pub interim: usize,
}

impl ReceiptFormat {
    /// The secret, from the setting or its variable.
    pub fn secret(&self) -> Option<String> {
        self.token_env.as_ref().and_then(|v| std::env::var(v).ok()).or_else(|| self.token.clone()).filter(|t| !t.is_empty())
    }

    /// Reads a body into receipts (interim statuses give `None`), checking every one before any
    /// is applied.
    pub fn read(&self, body: &serde_json::Value, at: Timestamp) -> Result<Vec<Option<DeliveryReceipt>>, ReceiptError> {
        let items: Vec<&serde_json::Value> = match body {
            serde_json::Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        let text = |v: &serde_json::Value, pointer: &str| match v.pointer(pointer) {
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        items
            .iter()
            .enumerate()
            .map(|(index, item)| {
                let malformed = |problem: String| ReceiptError::Malformed { index, problem };
                let id = text(item, &self.id_pointer).ok_or_else(|| malformed(format!("no message id at {}", self.id_pointer)))?;
                let status = text(item, &self.status_pointer).ok_or_else(|| malformed(format!("no status at {}", self.status_pointer)))?;
                let state = if self.delivered.iter().any(|s| s.eq_ignore_ascii_case(&status)) {
                    DeliveryState::Delivered
                } else if self.failed.iter().any(|s| s.eq_ignore_ascii_case(&status)) {
                    DeliveryState::Failed
                } else {
                    return Ok(None);
                };
                let detail = self.detail_pointer.as_deref().and_then(|p| text(item, p)).map_or(status.clone(), |d| format!("{status}: {d}"));
                Ok(Some(DeliveryReceipt { channel: DeliveryChannel::Sms, provider_id: id, state, detail: Some(detail), at }))
            })
            .collect()
    }
}

/// Applies a batch of SMS receipts sent with `token`; nothing is applied unless the token is
/// right and every receipt reads.
pub async fn sms_receipts(app: &App, format: &ReceiptFormat, token: Option<&str>, body: &serde_json::Value) -> Result<ReceiptReport, crate::AppError> {
    let expected = format.secret().ok_or_else(|| crate::AppError::forbidden("SMS receipts are not accepted: no receipt token is configured"))?;
    if !token.is_some_and(|t| constant_time_eq(t.as_bytes(), expected.as_bytes())) {
        return Err(crate::AppError::new(crate::ErrorKind::Unauthenticated, "unauthenticated", ReceiptError::Unauthorised.to_string()));
    }
    let receipts = format.read(body, app.clock.now()).map_err(|e| {
        let field = match &e {
            ReceiptError::Malformed { index, .. } => format!("[{index}]"),
            ReceiptError::Unauthorised => String::new(),
        };
        crate::AppError::invalid(field, e.to_string())
    })?;
    let mut report = ReceiptReport::default();
    for receipt in receipts {
        match receipt {
            None => report.interim += 1,
            Some(r) => match record_receipt(app, r).await? {
                Some(_) => report.applied += 1,
                None => report.ignored += 1,
            },
        }
    }
    Ok(report)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format() -> ReceiptFormat {
        ReceiptFormat {
            token: Some("t".into()),
            token_env: None,
            id_pointer: "/msgid".into(),
            status_pointer: "/stat".into(),
            detail_pointer: Some("/err".into()),
            delivered: vec!["DELIVRD".into()],
            failed: vec!["UNDELIV".into(), "EXPIRED".into()],
        }
    }

    #[test]
    fn receipts_read_in_the_gateways_words() {
        let at: Timestamp = "2026-12-01T00:00:00Z".parse().unwrap();
        let body = serde_json::json!([{"msgid": 77, "stat": "delivrd"}, {"msgid": "a", "stat": "UNDELIV", "err": "absent subscriber"}, {"msgid": "b", "stat": "ENROUTE"}]);
        let read = format().read(&body, at).unwrap();
        assert_eq!(read[0].as_ref().unwrap().provider_id, "77");
        assert_eq!(read[0].as_ref().unwrap().state, DeliveryState::Delivered);
        assert_eq!(read[1].as_ref().unwrap().detail.as_deref(), Some("UNDELIV: absent subscriber"));
        assert!(read[2].is_none(), "an interim status moves nothing");
        let bad = format().read(&serde_json::json!([{"msgid": "a", "stat": "DELIVRD"}, {"stat": "DELIVRD"}]), at).unwrap_err();
        assert_eq!(bad, ReceiptError::Malformed { index: 1, problem: "no message id at /msgid".into() });
    }
}
