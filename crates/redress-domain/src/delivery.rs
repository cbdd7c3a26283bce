//! The rules of delivering customer messages: which channel a recipient is reached by, the
//! states a message passes through, how long to wait before trying again, SMS quiet hours and
//! the body a text-message gateway is sent.
//!
//! A message is queued `pending` with the action that caused it. A delivery worker claims it
//! (`sending`, for a lease), hands it to the channel's provider under an idempotency key that
//! stays the same on every attempt, and records the provider's answer: `sent` with the
//! provider's message id, or back to `pending` for a later attempt, or `failed` for good.
//! Receipts and bounces later move a sent message to `delivered` or `failed`.

use jiff::civil::Time;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for its (next) attempt.
    Pending,
    /// Claimed by a worker that is handing it to the provider.
    Sending,
    /// Accepted by the provider.
    Sent,
    /// The provider reported it delivered to the customer.
    Delivered,
    /// Given up: refused for good, too many attempts, or bounced.
    Failed,
}

impl DeliveryState {
    /// Every state, in the order a message passes through them.
    pub const ALL: [DeliveryState; 5] = [DeliveryState::Pending, DeliveryState::Sending, DeliveryState::Sent, DeliveryState::Delivered, DeliveryState::Failed];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Sending => "sending",
            DeliveryState::Sent => "sent",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
        }
    }

    /// Parses the wire name.
    pub fn parse(text: &str) -> Option<DeliveryState> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Whether a receipt saying `to` may move a message in this state: only messages the
    /// provider accepted have receipts, a delivered message may still bounce later, and a
    /// failure is final.
    pub fn takes_receipt(self, to: DeliveryState) -> bool {
        matches!((self, to), (DeliveryState::Sent, DeliveryState::Delivered | DeliveryState::Failed) | (DeliveryState::Delivered, DeliveryState::Failed))
    }
}

/// How a message reaches the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryChannel {
    /// E-mail over SMTP.
    Email,
    /// A text message through the SMS gateway.
    Sms,
    /// No contact is known: someone has to reach the customer another way.
    None,
}

impl DeliveryChannel {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryChannel::Email => "email",
            DeliveryChannel::Sms => "sms",
            DeliveryChannel::None => "none",
        }
    }

    /// Parses the wire name.
    pub fn parse(text: &str) -> Option<DeliveryChannel> {
        [DeliveryChannel::Email, DeliveryChannel::Sms, DeliveryChannel::None].into_iter().find(|c| c.as_str() == text)
    }

    /// The channel a recipient is reached by: an address with `@` by e-mail, anything else
    /// (a validated phone number) by text message.
    pub fn of_recipient(recipient: Option<&str>) -> DeliveryChannel {
        match recipient.map(str::trim) {
            Some(r) if r.contains('@') => DeliveryChannel::Email,
            Some(r) if !r.is_empty() => DeliveryChannel::Sms,
            _ => DeliveryChannel::None,
        }
    }
}

/// When to try again and when to give up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryPolicy {
    /// Attempts before a message fails for good.
    pub max_attempts: u32,
    /// The wait after the first failed attempt, in seconds; it doubles after each further one.
    pub first_retry_seconds: u64,
    /// The longest wait between attempts, in seconds.
    pub max_retry_seconds: u64,
    /// After this many failed attempts the complaint's department is told (once), so that a
    /// person can reach the customer another way while the worker keeps trying.
    pub notify_after_failures: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_attempts: 8, first_retry_seconds: 60, max_retry_seconds: 6 * 3600, notify_after_failures: 3 }
    }
}

impl RetryPolicy {
    /// The wait before the next attempt after `failed_attempts` attempts failed (1 or more).
    pub fn retry_delay(&self, failed_attempts: u32) -> SignedDuration {
        let doublings = failed_attempts.saturating_sub(1).min(30);
        let seconds = self.first_retry_seconds.max(1).saturating_mul(1u64 << doublings).min(self.max_retry_seconds.max(1));
        SignedDuration::from_secs(i64::try_from(seconds).unwrap_or(i64::MAX))
    }

    /// What follows a failed attempt: `None` to give up, else when to try again.
    pub fn after_failure(&self, failed_attempts: u32, permanent: bool, now: Timestamp) -> Option<Timestamp> {
        if permanent || failed_attempts >= self.max_attempts {
            return None;
        }
        Some(now.saturating_add(self.retry_delay(failed_attempts)).unwrap_or(now))
    }

    /// Whether the department is told after this failed attempt: once, when the count reaches
    /// the threshold, or when the message fails for good before reaching it.
    pub fn tell_department(&self, failed_attempts: u32, gave_up: bool) -> bool {
        failed_attempts == self.notify_after_failures.max(1) || (gave_up && failed_attempts < self.notify_after_failures.max(1))
    }
}

/// Hours of the night when no text message is sent (many regulators and every customer expect
/// none), in the institution's time zone. `start` after `end` spans midnight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuietHours {
    /// First quiet minute.
    pub start: Time,
    /// First minute no longer quiet.
    pub end: Time,
}

impl QuietHours {
    /// Parses `"21:00"` and `"08:00"` forms; `field` names the setting in errors.
    pub fn parse(start: &str, end: &str) -> Result<QuietHours, String> {
        let time = |s: &str| Time::strptime("%H:%M", s.trim()).map_err(|_| format!("quiet hours: “{s}” is not a time of day like 21:00"));
        let (start, end) = (time(start)?, time(end)?);
        if start == end {
            return Err("quiet hours: the start and the end are the same time".into());
        }
        Ok(QuietHours { start, end })
    }

    /// When the quiet hours holding `now` end, or `None` if `now` is not in them.
    pub fn quiet_until(&self, now: Timestamp, tz: &TimeZone) -> Option<Timestamp> {
        let local = now.to_zoned(tz.clone());
        let t = local.time();
        let quiet = if self.start < self.end { t >= self.start && t < self.end } else { t >= self.start || t < self.end };
        if !quiet {
            return None;
        }
        let mut day = local.date();
        if t >= self.end {
            day = day.tomorrow().ok()?;
        }
        day.to_datetime(self.end).to_zoned(tz.clone()).ok().map(|z| z.timestamp())
    }
}

/// How the values put into a gateway's body template are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyEncoding {
    /// As JSON strings, quotes included: `{"to": {to}}`.
    Json,
    /// Percent-encoded for an `application/x-www-form-urlencoded` body: `to={to}`.
    Form,
}

/// Fills a gateway's body template: each `{to}`, `{text}`, `{key}` (the idempotency key),
/// `{sender}` and `{language}` becomes its value written for the body's encoding, in one pass,
/// so a value holding braces is never expanded again.
pub fn fill_gateway_body(template: &str, encoding: BodyEncoding, values: &[(&str, &str)]) -> String {
    crate::messages::fill_with(template, |name| {
        let value = values.iter().find(|(k, _)| *k == name)?.1;
        Some(match encoding {
            BodyEncoding::Json => serde_json::Value::String(value.to_string()).to_string(),
            BodyEncoding::Form => form_urlencoded::byte_serialize(value.as_bytes()).collect(),
        })
    })
}

/// What the bank's other systems may subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookEvent {
    /// A complaint was registered.
    Registered,
    /// A complaint's status changed.
    StatusChanged,
    /// A complaint's deadline is near.
    DueSoon,
    /// A complaint's deadline has passed.
    Overdue,
}

impl WebhookEvent {
    /// Every event.
    pub const ALL: [WebhookEvent; 4] = [WebhookEvent::Registered, WebhookEvent::StatusChanged, WebhookEvent::DueSoon, WebhookEvent::Overdue];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookEvent::Registered => "registered",
            WebhookEvent::StatusChanged => "status_changed",
            WebhookEvent::DueSoon => "due_soon",
            WebhookEvent::Overdue => "overdue",
        }
    }

    /// Parses the wire name.
    pub fn parse(text: &str) -> Option<WebhookEvent> {
        Self::ALL.into_iter().find(|e| e.as_str() == text)
    }

    /// What a history event tells subscribers, if anything.
    pub fn of(event: &crate::complaint::Event) -> Option<WebhookEvent> {
        use crate::lifecycle::ActionKind;
        match event.action {
            ActionKind::Register => Some(WebhookEvent::Registered),
            ActionKind::MarkDue => match event.changes.get("due_state").and_then(serde_json::Value::as_str) {
                Some("due_soon") => Some(WebhookEvent::DueSoon),
                Some("overdue") => Some(WebhookEvent::Overdue),
                _ => None,
            },
            _ if event.from_status.is_some_and(|s| s != event.to_status) => Some(WebhookEvent::StatusChanged),
            _ => None,
        }
    }
}

/// A notice for the bank's other systems, as one change tells it.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookNotice {
    /// The event.
    pub event: WebhookEvent,
    /// When it happened.
    pub at: Timestamp,
    /// The JSON body subscribers receive.
    pub payload: serde_json::Value,
}

/// The notices the events of one change tell, the first of them at position `first_seq` of the
/// complaint's history. A registration is one notice with the status it ends in (its accept,
/// assign and duplicate steps are part of it).
pub fn webhook_notices(complaint_id: &str, first_seq: i64, events: &[crate::complaint::Event]) -> Vec<WebhookNotice> {
    let registration = events.first().is_some_and(|e| e.action == crate::lifecycle::ActionKind::Register);
    let told = if registration { &events[..1] } else { events };
    told.iter()
        .enumerate()
        .filter_map(|(i, e)| {
            let event = WebhookEvent::of(e)?;
            let status = if registration { events.last().map_or(e.to_status, |l| l.to_status) } else { e.to_status };
            let payload = serde_json::json!({
                "event": event.as_str(),
                "complaint_id": complaint_id,
                "seq": first_seq + i as i64,
                "action": e.action.as_str(),
                "from_status": e.from_status.map(|s| s.as_str()),
                "status": status.as_str(),
                "at": e.at,
            });
            Some(WebhookNotice { event, at: e.at, payload })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_choose_their_channel() {
        assert_eq!(DeliveryChannel::of_recipient(Some("li@example.cn")), DeliveryChannel::Email);
        assert_eq!(DeliveryChannel::of_recipient(Some("13812345678")), DeliveryChannel::Sms);
        assert_eq!(DeliveryChannel::of_recipient(Some("  ")), DeliveryChannel::None);
        assert_eq!(DeliveryChannel::of_recipient(None), DeliveryChannel::None);
    }

    #[test]
    fn waits_double_up_to_the_cap_and_the_department_is_told_once() {
        let p = RetryPolicy { max_attempts: 5, first_retry_seconds: 30, max_retry_seconds: 100, notify_after_failures: 2 };
        let secs = (1..=4).map(|n| p.retry_delay(n).as_secs()).collect::<Vec<_>>();
        assert_eq!(secs, [30, 60, 100, 100]);
        let now: Timestamp = "2026-12-01T00:00:00Z".parse().unwrap();
        assert_eq!(p.after_failure(1, false, now), Some("2026-12-01T00:00:30Z".parse().unwrap()));
        assert_eq!(p.after_failure(5, false, now), None, "the fifth failure is the last");
        assert_eq!(p.after_failure(1, true, now), None, "a permanent refusal is not retried");
        let told = (1..=5).filter(|&n| p.tell_department(n, n == 5)).collect::<Vec<_>>();
        assert_eq!(told, [2]);
        assert!(p.tell_department(1, true), "a message refused for good at once is reported at once");
    }

    #[test]
    fn quiet_hours_span_midnight_in_the_local_zone() {
        let q = QuietHours::parse("21:00", "08:00").unwrap();
        let tz = TimeZone::get("Asia/Shanghai").unwrap();
        // 22:30 in Shanghai is quiet until 08:00 the next morning.
        let late: Timestamp = "2026-12-01T14:30:00Z".parse().unwrap();
        assert_eq!(q.quiet_until(late, &tz), Some("2026-12-02T00:00:00Z".parse().unwrap()));
        // 06:00 is quiet until 08:00 the same morning.
        let early: Timestamp = "2026-12-01T22:00:00Z".parse().unwrap();
        assert_eq!(q.quiet_until(early, &tz), Some("2026-12-02T00:00:00Z".parse().unwrap()));
        // 10:00 is not quiet.
        assert_eq!(q.quiet_until("2026-12-02T02:00:00Z".parse().unwrap(), &tz), None);
        let day = QuietHours::parse("12:00", "13:30").unwrap();
        assert_eq!(day.quiet_until("2026-12-02T04:10:00Z".parse().unwrap(), &tz), Some("2026-12-02T05:30:00Z".parse().unwrap()));
        assert!(QuietHours::parse("25:00", "08:00").is_err());
        assert!(QuietHours::parse("08:00", "08:00").is_err());
    }

    #[test]
    fn gateway_bodies_escape_what_they_are_given() {
        let values = [("to", "13812345678"), ("text", "您好 \"张三\" {key}\n& more"), ("key", "k-1")];
        let json = fill_gateway_body(r#"{"mobile": {to}, "content": {text}, "ref": {key}, "keep": "{other}"}"#, BodyEncoding::Json, &values);
        let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed["content"], "您好 \"张三\" {key}\n& more");
        assert_eq!(parsed["ref"], "k-1");
        assert_eq!(parsed["keep"], "{other}");
        let form = fill_gateway_body("to={to}&msg={text}", BodyEncoding::Form, &values);
        let pairs: Vec<(String, String)> = form_urlencoded::parse(form.as_bytes()).into_owned().collect();
        assert_eq!(pairs[1].1, "您好 \"张三\" {key}\n& more");
    }

    #[test]
    fn receipts_move_only_accepted_messages() {
        use DeliveryState::*;
        assert!(Sent.takes_receipt(Delivered));
        assert!(Sent.takes_receipt(Failed));
        assert!(Delivered.takes_receipt(Failed));
        assert!(!Pending.takes_receipt(Delivered));
        assert!(!Failed.takes_receipt(Delivered));
        assert!(!Delivered.takes_receipt(Delivered));
    }
}
