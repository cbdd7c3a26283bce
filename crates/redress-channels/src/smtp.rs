//! Customer messages by e-mail, through the institution's SMTP relay (lettre), with TLS and
//! authentication.
//!
//! Every message carries `Message-ID: <idempotency key@domain>`, the same on every attempt: the
//! provider id its bounces name, and what lets a mail store recognise a repeat after a crash.
//! It also carries `Auto-Submitted: auto-generated` (RFC 3834), so that customers' vacation
//! responders do not answer it, and `X-Redress-Loop`, by which Redress's own mail intake knows
//! its own messages.

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use redress_app::delivery::{Accepted, Envelope, SendFailure, Transport};
use redress_domain::delivery::DeliveryChannel;
use redress_domain::messages::Language;
use serde::Deserialize;

use crate::ChannelError;

/// The header Redress marks its own mail with.
pub const LOOP_HEADER: &str = "X-Redress-Loop";

/// How the connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Security {
    /// Plain connection upgraded with STARTTLS, which must succeed (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No TLS: only for a relay on the same host.
    None,
}

/// The `[delivery.email]` settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    /// The relay's host name (checked against its certificate).
    pub host: String,
    /// Its port (default: 587 for STARTTLS, 465 for TLS, 25 without).
    pub port: Option<u16>,
    /// STARTTLS, TLS or none.
    #[serde(default)]
    pub security: Security,
    /// The user to authenticate as; none: no authentication.
    pub username: Option<String>,
    /// The password (better: `password_env`).
    pub password: Option<String>,
    /// The environment variable holding the password.
    pub password_env: Option<String>,
    /// The sender, e.g. `消费者权益保护部 <complaints@bank.example>`.
    pub from: String,
    /// Where customers' replies go (the intake mailbox); default: the sender.
    pub reply_to: Option<String>,
    /// A PEM file of certificate authorities to trust besides the public ones (an institution's
    /// own CA).
    pub ca_file: Option<PathBuf>,
    /// Seconds one conversation with the relay may take.
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
}

fn default_timeout() -> u64 {
    30
}

/// Sends customer messages by e-mail.
pub struct SmtpTransport {
    mailer: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    reply_to: Mailbox,
    domain: String,
}

impl SmtpTransport {
    /// The transport for these settings; reads the password's variable and the CA file now, so a
    /// mistake shows at start-up.
    pub fn new(settings: &SmtpSettings) -> Result<SmtpTransport, ChannelError> {
        let bad = |what: String| ChannelError::Settings { section: "delivery.email", problem: what };
        let from: Mailbox = settings.from.parse().map_err(|e| bad(format!("from “{}”: {e}", settings.from)))?;
        let reply_to: Mailbox = match &settings.reply_to {
            Some(r) => r.parse().map_err(|e| bad(format!("reply_to “{r}”: {e}")))?,
            None => from.clone(),
        };
        let domain = from.email.domain().to_string();
        let tls = || -> Result<TlsParameters, ChannelError> {
            let mut b = TlsParameters::builder(settings.host.clone());
            if let Some(path) = &settings.ca_file {
                let pem = std::fs::read(path).map_err(|e| bad(format!("ca_file {}: {e}", path.display())))?;
                b = b.add_root_certificate(Certificate::from_pem(&pem).map_err(|e| bad(format!("ca_file {}: {e}", path.display())))?);
            }
            b.build_rustls().map_err(|e| bad(format!("TLS: {e}")))
        };
        let (tls, port) = match settings.security {
            Security::Starttls => (Tls::Required(tls()?), 587),
            Security::Tls => (Tls::Wrapper(tls()?), 465),
            Security::None => (Tls::None, 25),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(settings.host.clone())
            .port(settings.port.unwrap_or(port))
            .tls(tls)
            .timeout(Some(Duration::from_secs(settings.timeout_seconds.max(1))));
        if let Some(user) = &settings.username {
            let password = match (&settings.password_env, &settings.password) {
                (Some(var), _) => std::env::var(var).map_err(|_| bad(format!("password_env: the variable {var} is not set")))?,
                (None, Some(p)) => p.clone(),
                (None, None) => return Err(bad("a username needs a password or password_env".into())),
            };
            builder = builder.credentials(Credentials::new(user.clone(), password));
        }
        Ok(SmtpTransport { mailer: builder.build(), from, reply_to, domain })
    }

    /// The `Message-ID` a message is sent with (angle brackets included).
    pub fn message_id(&self, idempotency_key: &str) -> String {
        format!("<{idempotency_key}@{}>", self.domain)
    }

    fn build(&self, envelope: Envelope<'_>, to: Mailbox) -> Result<Message, SendFailure> {
        let m = envelope.message;
        let header = |name: &'static str, value: &str| HeaderValue::new(HeaderName::new_from_ascii_str(name), value.to_string());
        Message::builder()
            .from(self.from.clone())
            .reply_to(self.reply_to.clone())
            .to(to)
            .subject(m.subject.clone())
            .message_id(Some(self.message_id(envelope.idempotency_key)))
            .raw_header(header("Auto-Submitted", "auto-generated"))
            .raw_header(header(LOOP_HEADER, "1"))
            .raw_header(header("Content-Language", match m.language { Language::ZhCn => "zh-CN", Language::En => "en" }))
            .header(ContentType::TEXT_PLAIN)
            .body(m.body.clone())
            .map_err(|e| SendFailure { permanent: true, detail: format!("the message cannot be built: {e}") })
    }
}

#[async_trait::async_trait]
impl Transport for SmtpTransport {
    fn channel(&self) -> DeliveryChannel {
        DeliveryChannel::Email
    }

    async fn send(&self, envelope: Envelope<'_>) -> Result<Accepted, SendFailure> {
        let recipient = envelope.message.recipient.as_deref().unwrap_or_default().trim();
        let to: Mailbox = recipient.parse().map_err(|e| SendFailure { permanent: true, detail: format!("“{recipient}” is not an e-mail address: {e}") })?;
        let message = self.build(envelope, to)?;
        match self.mailer.send(message).await {
            Ok(response) => Ok(Accepted {
                provider_id: self.message_id(envelope.idempotency_key),
                detail: Some(format!("{} {}", response.code(), response.message().collect::<Vec<_>>().join(" "))),
            }),
            // A 5xx answer is the relay's final word on this message; anything else (4xx, a lost
            // connection, a timeout) may pass.
            Err(e) => Err(SendFailure { permanent: e.is_permanent(), detail: smtp_error_text(&e) }),
        }
    }
}

/// The error with those of its causes that its own text does not already say (lettre's errors
/// often repeat their source).
fn smtp_error_text(e: &lettre::transport::smtp::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let cause = s.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
        source = s.source();
    }
    text
}
