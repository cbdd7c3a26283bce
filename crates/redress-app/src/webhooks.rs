//! Telling the bank's other systems: every registration, status change, approaching and passed
//! deadline is written, with the change, as a notice; the dispatcher posts each notice to the
//! endpoints subscribed to its event, signed with each endpoint's secret, and tries again with
//! a growing wait until every endpoint has it or it is given up.
//!
//! A receiver can check a notice: `X-Redress-Signature: t=<unix seconds>,v1=<hex>` where the hex
//! is HMAC-SHA-256 over `<t>.<body>` with the endpoint's secret ([`signature`]). A notice may
//! arrive twice (an endpoint that answered after its claim ran out); `X-Redress-Delivery` is
//! the same both times.

use std::sync::Arc;
use std::time::Duration;

use hmac::{KeyInit, Mac};
use jiff::SignedDuration;
use redress_domain::delivery::{RetryPolicy, WebhookEvent};
use redress_store::{ClaimedNotice, NoticeUpdate, StoreError};
use serde::{Deserialize, Serialize};

use crate::App;

type HmacSha256 = hmac::Hmac<sha2_for_hmac::Sha256>;

/// One subscriber: `[[webhooks]]` in the configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// Its name (kept with the notices it has).
    pub name: String,
    /// Where notices are posted.
    pub url: String,
    /// The signing secret (better: `secret_env`).
    pub secret: Option<String>,
    /// The environment variable holding the secret.
    pub secret_env: Option<String>,
    /// The events it takes: `registered`, `status_changed`, `due_soon`, `overdue`.
    pub events: Vec<WebhookEvent>,
}

impl Endpoint {
    /// The signing secret.
    pub fn secret(&self) -> Option<String> {
        self.secret_env.as_ref().and_then(|v| std::env::var(v).ok()).or_else(|| self.secret.clone()).filter(|s| !s.is_empty())
    }
}

/// The signature of a body sent at `t` (Unix seconds): hex HMAC-SHA-256 of `t.body`.
pub fn signature(secret: &[u8], t: i64, body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The `X-Redress-Signature` header's value.
pub fn signature_header(secret: &[u8], t: i64, body: &[u8]) -> String {
    format!("t={t},v1={}", signature(secret, t, body))
}

/// One post of a notice to an endpoint.
#[derive(Debug, Clone)]
pub struct Post<'a> {
    /// The endpoint.
    pub endpoint: &'a Endpoint,
    /// The notice's id, the same on every attempt.
    pub delivery: i64,
    /// The event.
    pub event: WebhookEvent,
    /// The JSON body.
    pub body: &'a str,
    /// The signature header.
    pub signature: String,
}

/// The HTTP client that posts notices (an edge implements it).
#[async_trait::async_trait]
pub trait Poster: Send + Sync {
    /// Posts; `Err` with what went wrong unless the endpoint answered 2xx.
    async fn post(&self, post: Post<'_>) -> Result<(), String>;
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DispatchReport {
    /// Notices claimed.
    pub claimed: usize,
    /// Every subscribed endpoint has them.
    pub done: usize,
    /// To be tried again.
    pub retrying: usize,
    /// Given up.
    pub failed: usize,
}

/// The webhook dispatcher.
#[derive(Clone)]
pub struct Dispatcher {
    app: App,
    endpoints: Arc<Vec<Endpoint>>,
    poster: Arc<dyn Poster>,
    retry: RetryPolicy,
    lease: Duration,
}

impl Dispatcher {
    /// A dispatcher to these endpoints.
    pub fn new(app: App, endpoints: Vec<Endpoint>, poster: Arc<dyn Poster>, retry: RetryPolicy) -> Self {
        Dispatcher { app, endpoints: Arc::new(endpoints), poster, retry, lease: Duration::from_secs(60) }
    }

    /// Claims the due notices once and posts them.
    pub async fn dispatch_due(&self) -> Result<DispatchReport, StoreError> {
        let now = self.app.clock.now();
        let lease_until = now.saturating_add(SignedDuration::try_from(self.lease).unwrap_or(SignedDuration::from_secs(60))).unwrap_or(now);
        let claim = uuid::Uuid::now_v7().to_string();
        let notices = self.app.store.claim_notices(now, lease_until, &claim, 100).await?;
        let mut report = DispatchReport { claimed: notices.len(), ..DispatchReport::default() };
        for notice in notices {
            let update = self.post_all(&notice).await;
            match &update {
                NoticeUpdate::Done => report.done += 1,
                NoticeUpdate::Retry { .. } => report.retrying += 1,
                NoticeUpdate::Failed { .. } => report.failed += 1,
            }
            if !self.app.store.finish_notice(notice.id, &notice.claim, update).await? {
                tracing::warn!(notice = notice.id, "the claim on a webhook notice ran out before its result was recorded");
            }
        }
        Ok(report)
    }

    async fn post_all(&self, notice: &ClaimedNotice) -> NoticeUpdate {
        let mut delivered = notice.delivered_to.clone();
        let mut errors = Vec::new();
        for endpoint in self.endpoints.iter().filter(|e| e.events.contains(&notice.event) && !notice.delivered_to.contains(&e.name)) {
            let Some(secret) = endpoint.secret() else {
                errors.push(format!("{}: no signing secret", endpoint.name));
                continue;
            };
            let t = self.app.clock.now().as_second();
            let post = Post { endpoint, delivery: notice.id, event: notice.event, body: &notice.payload, signature: signature_header(secret.as_bytes(), t, notice.payload.as_bytes()) };
            match self.poster.post(post).await {
                Ok(()) => delivered.push(endpoint.name.clone()),
                Err(e) => errors.push(format!("{}: {e}", endpoint.name)),
            }
        }
        if errors.is_empty() {
            return NoticeUpdate::Done;
        }
        let detail = errors.join("; ");
        match self.retry.after_failure(notice.attempts, false, self.app.clock.now()) {
            Some(next_attempt_at) => NoticeUpdate::Retry { next_attempt_at, delivered_to: delivered, detail },
            None => NoticeUpdate::Failed { delivered_to: delivered, detail },
        }
    }

    /// Runs until the task is dropped, on the server that runs the background jobs.
    pub fn spawn(self, every: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                if matches!(self.app.store.lead_background_jobs().await, Ok(true)) {
                    match self.dispatch_due().await {
                        Ok(r) if r.claimed > 0 => {
                            tracing::debug!(?r, "webhooks");
                            continue;
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "webhook pass failed"),
                    }
                }
                tokio::time::sleep(every).await;
            }
        })
    }
}

/// The notices waiting and given up, for administrators.
pub async fn backlog(app: &App, caller: &crate::Caller) -> crate::AppResult<redress_store::NoticeBacklog> {
    crate::policy::require(caller, crate::policy::Operation::RunJobs)?;
    Ok(app.store.notice_backlog().await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hmac_sha256_over_time_and_body() {
        // RFC 4231 test case 2 ("Jefe"), with the message split as `t.body`.
        let sig = signature(b"Jefe", 0, b"");
        assert_eq!(sig.len(), 64);
        let whole = {
            let mut mac = HmacSha256::new_from_slice(b"Jefe").unwrap();
            mac.update(b"what do ya want for nothing?");
            hex::encode(mac.finalize().into_bytes())
        };
        assert_eq!(whole, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        assert_eq!(signature_header(b"k", 1_700_000_000, b"{}"), format!("t=1700000000,v1={}", signature(b"k", 1_700_000_000, b"{}")));
        assert_ne!(signature(b"k", 1, b"{}"), signature(b"k", 2, b"{}"), "the time is signed");
    }
}
