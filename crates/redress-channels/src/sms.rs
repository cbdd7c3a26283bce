//! Customer messages by text message, through an HTTP gateway described entirely by its
//! settings: the address, the headers (with secrets from the environment), the body template
//! and where the answer holds the gateway's message id.
//!
//! The idempotency key goes into the body (`{key}`) and, when the gateway takes one, into a
//! header: a gateway that knows the key answers a repeat with the message it already sent.

use std::collections::BTreeMap;
use std::time::Duration;

use redress_app::delivery::{Accepted, Envelope, ReceiptFormat, SendFailure, Transport};
use redress_domain::delivery::{BodyEncoding, DeliveryChannel, fill_gateway_body};
use redress_domain::messages::Language;
use serde::Deserialize;

use crate::ChannelError;

/// The `[delivery.sms]` settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsSettings {
    /// The gateway's send address (`https://…`).
    pub url: String,
    /// Headers sent with every request; `${NAME}` in a value is the environment variable NAME,
    /// so secrets stay out of the file.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// How values are written into the body: `json` or `form`.
    #[serde(default = "default_encoding")]
    pub encoding: BodyEncoding,
    /// The body, with `{to}`, `{text}`, `{key}`, `{sender}` and `{language}`.
    pub body: String,
    /// The header carrying the idempotency key, if the gateway reads one.
    pub idempotency_header: Option<String>,
    /// Where the gateway's answer holds its message id (a JSON pointer, e.g. `/message_id`);
    /// none: the idempotency key stands for it.
    pub message_id_pointer: Option<String>,
    /// The sender id or short code put in `{sender}`.
    #[serde(default)]
    pub sender: String,
    /// Seconds a request may take.
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
    /// How the gateway reports deliveries.
    pub receipts: Option<ReceiptFormat>,
}

fn default_encoding() -> BodyEncoding {
    BodyEncoding::Json
}

fn default_timeout() -> u64 {
    15
}

/// Replaces each `${NAME}` with the environment variable NAME; a variable that is not set is an
/// error naming it.
pub fn expand_env(value: &str) -> Result<String, String> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').ok_or_else(|| format!("“{value}”: an unclosed ${{"))?;
        let name = &after[..end];
        out.push_str(&std::env::var(name).map_err(|_| format!("the environment variable {name} is not set"))?);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Sends customer messages through the SMS gateway.
pub struct SmsGateway {
    client: reqwest::Client,
    settings: SmsSettings,
    headers: reqwest::header::HeaderMap,
}

impl SmsGateway {
    /// The gateway for these settings; the headers' variables are read now, so a missing secret
    /// shows at start-up.
    pub fn new(settings: &SmsSettings) -> Result<SmsGateway, ChannelError> {
        let bad = |problem: String| ChannelError::Settings { section: "delivery.sms", problem };
        reqwest::Url::parse(&settings.url).map_err(|e| bad(format!("url “{}”: {e}", settings.url)))?;
        let mut headers = reqwest::header::HeaderMap::new();
        for (name, value) in &settings.headers {
            let value = expand_env(value).map_err(|e| bad(format!("header {name}: {e}")))?;
            let name = reqwest::header::HeaderName::from_bytes(name.as_bytes()).map_err(|e| bad(format!("header {name}: {e}")))?;
            let value = reqwest::header::HeaderValue::from_str(&value).map_err(|e| bad(format!("header {name}: {e}")))?;
            headers.insert(name, value);
        }
        let content_type = match settings.encoding {
            BodyEncoding::Json => "application/json; charset=utf-8",
            BodyEncoding::Form => "application/x-www-form-urlencoded; charset=utf-8",
        };
        headers.entry(reqwest::header::CONTENT_TYPE).or_insert(reqwest::header::HeaderValue::from_static(content_type));
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(settings.timeout_seconds.max(1)))
            .build()
            .map_err(|e| bad(format!("HTTP client: {e}")))?;
        Ok(SmsGateway { client, settings: settings.clone(), headers })
    }
}

#[async_trait::async_trait]
impl Transport for SmsGateway {
    fn channel(&self) -> DeliveryChannel {
        DeliveryChannel::Sms
    }

    async fn send(&self, envelope: Envelope<'_>) -> Result<Accepted, SendFailure> {
        let m = envelope.message;
        let to = m.recipient.as_deref().unwrap_or_default().trim();
        let language = match m.language {
            Language::ZhCn => "zh-CN",
            Language::En => "en",
        };
        let values = [("to", to), ("text", m.body.as_str()), ("key", envelope.idempotency_key), ("sender", self.settings.sender.as_str()), ("language", language)];
        let body = fill_gateway_body(&self.settings.body, self.settings.encoding, &values);
        let mut request = self.client.post(&self.settings.url).headers(self.headers.clone()).body(body);
        if let Some(h) = &self.settings.idempotency_header {
            request = request.header(h.as_str(), envelope.idempotency_key);
        }
        let response = request.send().await.map_err(|e| SendFailure { permanent: false, detail: format!("the gateway did not answer: {}", error_chain(&e)) })?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let excerpt: String = text.chars().take(300).collect();
        if !status.is_success() {
            // The gateway refuses this request as it is (a bad number, a rejected text); only
            // its being busy or broken is worth another attempt.
            let permanent = status.is_client_error() && !matches!(status.as_u16(), 408 | 409 | 425 | 429);
            return Err(SendFailure { permanent, detail: format!("the gateway answered {status}: {excerpt}") });
        }
        let provider_id = match &self.settings.message_id_pointer {
            None => envelope.idempotency_key.to_string(),
            Some(pointer) => {
                let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| SendFailure { permanent: false, detail: format!("the gateway's answer is not JSON ({e}): {excerpt}") })?;
                match json.pointer(pointer) {
                    Some(serde_json::Value::String(s)) if !s.is_empty() => s.clone(),
                    Some(serde_json::Value::Number(n)) => n.to_string(),
                    _ => return Err(SendFailure { permanent: false, detail: format!("the gateway's answer has no message id at {pointer}: {excerpt}") }),
                }
            }
        };
        Ok(Accepted { provider_id, detail: Some(format!("{status}")) })
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_in_header_values_come_from_the_environment() {
        assert_eq!(expand_env("Bearer ${PATH}").unwrap(), format!("Bearer {}", std::env::var("PATH").unwrap()));
        assert_eq!(expand_env("plain").unwrap(), "plain");
        assert!(expand_env("${REDRESS_SURELY_NOT_SET_ANYWHERE}").unwrap_err().contains("REDRESS_SURELY_NOT_SET_ANYWHERE"));
        assert!(expand_env("${OPEN").is_err());
    }
}
