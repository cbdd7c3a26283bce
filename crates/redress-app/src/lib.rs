//! The use cases of Redress: every operation a person or a job can perform, with the caller
//! and its permissions, returning typed results or an [`AppError`].
//!
//! The edges (the JSON API, the command line, importers, background jobs, the web pages) are
//! thin: they turn their input into the values these functions take and their results into
//! their own output. Nothing here knows HTTP. Who may see and do what is decided in
//! [`policy`] alone, and every function that returns or reveals a complaint asks it.

pub mod accounts;
pub mod analytics;
pub mod actions;
pub mod caller;
pub mod complaints;
pub mod customer;
pub mod delivery;
pub mod error;
pub mod hotline;
pub mod hotspots;
pub mod import;
pub mod input;
pub mod intelligence;
pub mod jobs;
pub mod json;
pub mod mail_intake;
pub mod notices;
pub mod person;
pub mod policy;
pub mod regulator;
pub mod reports;
pub mod scorecards;
pub mod text;
pub mod users;
pub mod view;
pub mod webhooks;
pub mod work;

use std::sync::Arc;

use redress_domain::clock::Clock;
use redress_domain::rulebook::RuleBook;
use redress_store::Store;

pub use caller::Caller;
pub use error::{AppError, AppResult, ErrorKind};

/// The address of the pages when the configuration names none.
pub const DEFAULT_PUBLIC_URL: &str = "http://localhost:8080";

/// What every use case works with: the store, the rules, the clock, the text analyser and the
/// token cache. Cheap to clone.
#[derive(Clone)]
pub struct App {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The rules.
    pub rules: Arc<RuleBook>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Recently authenticated tokens.
    pub tokens: Arc<caller::TokenCache>,
    /// The text analyser with the active models.
    pub insight: Arc<intelligence::InsightCell>,
    /// The address customers reach the pages at (scheme, host and port, no trailing slash),
    /// for the links sent to them.
    pub public_url: String,
    /// How the SMS gateway reports deliveries, when one is configured.
    pub sms_receipts: Option<Arc<delivery::ReceiptFormat>>,
}

impl App {
    /// The application over a store, rules and a clock.
    pub fn new(store: Arc<dyn Store>, rules: Arc<RuleBook>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            rules,
            clock,
            tokens: Arc::new(caller::TokenCache::default()),
            insight: Arc::new(intelligence::InsightCell::default()),
            public_url: DEFAULT_PUBLIC_URL.to_string(),
            sms_receipts: None,
        }
    }

    /// The same application with the address customers reach the pages at.
    pub fn with_public_url(mut self, url: impl Into<String>) -> Self {
        self.public_url = url.into().trim().trim_end_matches('/').to_string();
        self
    }

    /// The same application accepting the SMS gateway's delivery receipts in this format.
    pub fn with_sms_receipts(mut self, format: Option<delivery::ReceiptFormat>) -> Self {
        self.sms_receipts = format.map(Arc::new);
        self
    }

    /// The caller holding an API token.
    pub async fn authenticate(&self, token: &str) -> AppResult<Caller> {
        caller::authenticate(&*self.store, &self.tokens, token).await
    }
}
