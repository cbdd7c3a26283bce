//! Configuration: built-in defaults, then a TOML file, then environment variables, then
//! command-line flags, each overriding the one before.
//!
//! The file is `--config FILE`, else `$REDRESS_CONFIG`, else `./redress.toml` when it exists.
//! Environment: `REDRESS_DATABASE_URL`, `REDRESS_LISTEN`, `REDRESS_PROFILE`,
//! `REDRESS_PUBLIC_URL`, `REDRESS_SECURE_COOKIES`, `REDRESS_BEHIND_PROXY`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

use crate::rule_files::RuleSources;

/// The default database: a file under `./redress-data/`, created on first run.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://redress-data/redress.db";
/// The default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    database: DatabaseSection,
    #[serde(default)]
    server: ServerSection,
    #[serde(default)]
    rules: RulesSection,
    #[serde(default)]
    web: WebSection,
    #[serde(default)]
    delivery: redress_channels::DeliverySection,
    #[serde(default)]
    intake: redress_channels::IntakeSection,
    #[serde(default)]
    webhooks: Vec<redress_app::webhooks::Endpoint>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct WebSection {
    public_url: Option<String>,
    secure_cookies: Option<bool>,
    behind_proxy: Option<bool>,
}

/// How the pages are served.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// The address customers reach the pages at (links in messages); defaults to the listen
    /// address.
    pub public_url: Option<String>,
    /// Mark cookies `Secure` (TLS in front).
    pub secure_cookies: bool,
    /// Trust `X-Forwarded-For` from the proxy in front.
    pub behind_proxy: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DatabaseSection {
    url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerSection {
    listen: Option<String>,
    scheduler_interval_seconds: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesSection {
    profile: Option<String>,
    profiles_dir: Option<PathBuf>,
    calendars_dir: Option<PathBuf>,
    org_file: Option<PathBuf>,
    templates_file: Option<PathBuf>,
    taxonomy_file: Option<PathBuf>,
}

/// The effective configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Database URL.
    pub database_url: String,
    /// Listen address.
    pub listen: String,
    /// Seconds between deadline sweeps.
    pub scheduler_interval_seconds: u64,
    /// Rule files, read at start-up by [`crate::rule_files::load_rule_book`].
    pub rules: RuleSources,
    /// The pages.
    pub web: WebConfig,
    /// Delivering customer messages: the channels and the worker.
    pub delivery: redress_channels::DeliverySection,
    /// Intake channels: the mailbox.
    pub intake: redress_channels::IntakeSection,
    /// The bank's other systems told of registrations, status changes and deadlines.
    pub webhooks: Vec<redress_app::webhooks::Endpoint>,
}

impl Config {
    /// Loads the configuration; `explicit` is the `--config` flag.
    pub fn load(explicit: Option<&Path>) -> anyhow::Result<Config> {
        let path = explicit
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("REDRESS_CONFIG").map(PathBuf::from))
            .or_else(|| Some(PathBuf::from("redress.toml")).filter(|p| p.exists()));
        let file: File = match &path {
            Some(p) => {
                let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
                toml::from_str(&text).with_context(|| format!("in {}", p.display()))?
            }
            None => File::default(),
        };
        // Relative paths in the file are relative to the file, so a config works from any
        // working directory.
        let base = path.as_ref().and_then(|p| p.parent().map(Path::to_path_buf)).unwrap_or_default();
        let rel = |p: Option<PathBuf>| p.map(|p| if p.is_absolute() { p } else { base.join(p) });
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Ok(Config {
            database_url: env("REDRESS_DATABASE_URL").or(file.database.url).unwrap_or_else(|| DEFAULT_DATABASE_URL.into()),
            listen: env("REDRESS_LISTEN").or(file.server.listen).unwrap_or_else(|| DEFAULT_LISTEN.into()),
            scheduler_interval_seconds: file.server.scheduler_interval_seconds.unwrap_or(60),
            rules: RuleSources {
                default_profile: env("REDRESS_PROFILE").or(file.rules.profile),
                profiles_dir: rel(file.rules.profiles_dir),
                calendars_dir: rel(file.rules.calendars_dir),
                org_file: rel(file.rules.org_file),
                templates_file: rel(file.rules.templates_file),
                taxonomy_file: rel(file.rules.taxonomy_file),
            },
            web: WebConfig {
                public_url: env("REDRESS_PUBLIC_URL").or(file.web.public_url),
                secure_cookies: env("REDRESS_SECURE_COOKIES").map(|v| v == "true" || v == "1").or(file.web.secure_cookies).unwrap_or(false),
                behind_proxy: env("REDRESS_BEHIND_PROXY").map(|v| v == "true" || v == "1").or(file.web.behind_proxy).unwrap_or(false),
            },
            delivery: {
                let mut d = file.delivery;
                if let Some(email) = &mut d.email {
                    email.ca_file = rel(email.ca_file.take());
                }
                d
            },
            intake: {
                let mut i = file.intake;
                if let Some(email) = &mut i.email {
                    email.ca_file = rel(email.ca_file.take());
                }
                i
            },
            webhooks: file.webhooks,
        })
    }
}
