//! Posting webhook notices over HTTP(S): the JSON body with the event, the delivery id and the
//! signature in headers; any 2xx answer is taken, anything else is tried again later.

use std::time::Duration;

use redress_app::webhooks::{Post, Poster};

/// The HTTP client of the webhook dispatcher.
pub struct HttpPoster {
    client: reqwest::Client,
}

impl HttpPoster {
    /// A client that gives an endpoint `timeout` to answer.
    pub fn new(timeout: Duration) -> Result<HttpPoster, crate::ChannelError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("Redress/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| crate::ChannelError::Settings { section: "webhooks", problem: format!("HTTP client: {e}") })?;
        Ok(HttpPoster { client })
    }
}

#[async_trait::async_trait]
impl Poster for HttpPoster {
    async fn post(&self, post: Post<'_>) -> Result<(), String> {
        let response = self
            .client
            .post(&post.endpoint.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("X-Redress-Event", post.event.as_str())
            .header("X-Redress-Delivery", post.delivery.to_string())
            .header("X-Redress-Signature", post.signature)
            .body(post.body.to_string())
            .send()
            .await
            .map_err(|e| format!("no answer: {e}"))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            let text: String = response.text().await.unwrap_or_default().chars().take(200).collect();
            Err(format!("answered {status}: {text}"))
        }
    }
}
