//! Redress's channels to the outside: the transports that deliver customer messages (e-mail
//! over SMTP, text messages through an HTTP gateway), configured as data.
//!
//! These are edges: what a provider's answer means for a message is decided by
//! `redress_app::delivery`; here it is only spoken to.

pub mod intake;
pub mod mail;
pub mod smtp;
pub mod sms;
pub mod webhook;

use std::sync::Arc;

use redress_app::delivery::Transport;
use serde::Deserialize;

/// A channel's settings are unusable.
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    /// A setting is wrong or a secret it names is missing.
    #[error("[{section}] {problem}")]
    Settings {
        /// The section of the configuration.
        section: &'static str,
        /// What is wrong.
        problem: String,
    },
}

/// The `[delivery]` section: the channels and the worker's behaviour.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliverySection {
    /// E-mail.
    pub email: Option<smtp::SmtpSettings>,
    /// Text messages.
    pub sms: Option<sms::SmsSettings>,
    /// Retries and when the department is told.
    #[serde(default)]
    pub retry: redress_domain::delivery::RetryPolicy,
    /// Text messages wait out these hours, e.g. `{ start = "21:00", end = "08:00" }`.
    pub sms_quiet_hours: Option<QuietHoursSetting>,
    /// Seconds a worker's claim on a message holds (longer than a send can take).
    pub claim_seconds: Option<u64>,
    /// Milliseconds between looks for due messages when there were none.
    pub poll_milliseconds: Option<u64>,
    /// Messages handed to providers at the same time.
    pub concurrency: Option<usize>,
}

/// The `[intake]` section: the ways complaints come in besides the API and the pages.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntakeSection {
    /// The intake mailbox.
    pub email: Option<intake::MailboxSettings>,
}

/// Quiet hours as written in the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuietHoursSetting {
    /// First quiet minute, `HH:MM`.
    pub start: String,
    /// First minute no longer quiet, `HH:MM`.
    pub end: String,
}

impl DeliverySection {
    /// The transports of the configured channels.
    pub fn transports(&self) -> Result<Vec<Arc<dyn Transport>>, ChannelError> {
        let mut transports: Vec<Arc<dyn Transport>> = Vec::new();
        if let Some(email) = &self.email {
            transports.push(Arc::new(smtp::SmtpTransport::new(email)?));
        }
        if let Some(sms) = &self.sms {
            transports.push(Arc::new(sms::SmsGateway::new(sms)?));
        }
        Ok(transports)
    }

    /// The worker's settings.
    pub fn settings(&self) -> Result<redress_app::delivery::DeliverySettings, ChannelError> {
        let defaults = redress_app::delivery::DeliverySettings::default();
        let sms_quiet_hours = match &self.sms_quiet_hours {
            Some(q) => Some(redress_domain::delivery::QuietHours::parse(&q.start, &q.end).map_err(|problem| ChannelError::Settings { section: "delivery", problem })?),
            None => None,
        };
        Ok(redress_app::delivery::DeliverySettings {
            retry: self.retry,
            lease: self.claim_seconds.map_or(defaults.lease, std::time::Duration::from_secs),
            batch: defaults.batch,
            concurrency: self.concurrency.unwrap_or(defaults.concurrency),
            sms_quiet_hours,
            poll_every: self.poll_milliseconds.map_or(defaults.poll_every, std::time::Duration::from_millis),
        })
    }

    /// How the SMS gateway reports deliveries, if it does.
    pub fn sms_receipts(&self) -> Option<redress_app::delivery::ReceiptFormat> {
        self.sms.as_ref().and_then(|s| s.receipts.clone())
    }
}
