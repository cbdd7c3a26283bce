//! The `redress` binary's library half: configuration, opening the store chosen by the URL,
//! and the command-line commands, so the integration tests drive exactly what the binary runs.

pub mod bench;
pub mod bench_analytics;
pub mod bench_channels;
pub mod bench_pages;
pub mod cli_complaint;
pub mod cli_error;
pub mod cli_mail;
pub mod cli_stats;
pub mod cli_text;
pub mod config;
pub mod import;
pub mod redact;
pub mod rule_files;
pub mod users;

use std::sync::Arc;

use anyhow::{Context, bail};
use redress_domain::clock::SystemClock;
use redress_app::App;
use redress_store::Store;

use crate::config::Config;

/// Opens the store named by a URL: the backend is chosen here, once.
pub async fn open_store(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    let store: Arc<dyn Store> = if url.starts_with("sqlite:") {
        Arc::new(redress_store_sqlite::SqliteStore::open(url).await.with_context(|| format!("opening {}", redact::redact_url(url)))?)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Arc::new(redress_store_postgres::PostgresStore::connect(url).await.with_context(|| format!("connecting to {}", redact::redact_url(url)))?)
    } else {
        bail!("unsupported database URL '{}': use sqlite://PATH or postgres://…", redact::redact_url(url));
    };
    store.migrate().await.context("migrating the database")?;
    Ok(store)
}

/// The delivery worker of the configured channels; `None` when no channel is configured (the
/// messages then wait in the outbox, visible as pending).
pub fn deliverer(config: &Config, app: &App) -> anyhow::Result<Option<redress_app::delivery::Deliverer>> {
    let transports = config.delivery.transports().context("the delivery settings")?;
    if transports.is_empty() {
        return Ok(None);
    }
    let settings = config.delivery.settings().context("the delivery settings")?;
    Ok(Some(redress_app::delivery::Deliverer::new(app.clone(), transports, settings)))
}

/// Loads configuration, rules and the store into the application state.
pub async fn app_state(cli_config: Option<&std::path::Path>, db: Option<&str>) -> anyhow::Result<(Config, App)> {
    let mut config = Config::load(cli_config)?;
    if let Some(db) = db {
        config.database_url = db.to_string();
    }
    let rules = rule_files::load_rule_book(&config.rules).context("loading the rules")?;
    let store = open_store(&config.database_url).await?;
    let public_url = config.web.public_url.clone().unwrap_or_else(|| format!("http://{}", config.listen));
    let state = App::new(store, Arc::new(rules), Arc::new(SystemClock)).with_public_url(public_url).with_sms_receipts(config.delivery.sms_receipts());
    redress_app::intelligence::refresh_models(&*state.store, &state.insight).await.context("loading the active models")?;
    Ok((config, state))
}

