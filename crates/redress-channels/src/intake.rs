//! Mail in: a folder of `.eml` files (batches exported from another system) and the intake
//! mailbox over IMAP. Each message is read ([`crate::mail::read_mail`]) and handed to
//! `redress_app::mail_intake::take`, which keeps it with its outcome.
//!
//! The mailbox is read without marking (`BODY.PEEK[]`), and a message is marked `\Seen` only
//! after its outcome is kept; a server that stops in between reads it again next time, and the
//! intake recognises it by its key. Nothing is deleted from the mailbox.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt;
use redress_app::App;
use redress_app::mail_intake::{self, MailIntakeSettings, MailOutcome};
use serde::{Deserialize, Serialize};

use crate::mail::read_mail;

/// Why mail could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    /// The folder or a file could not be read.
    #[error("{path}: {source}")]
    File {
        /// Which.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The mailbox could not be reached or read.
    #[error("the mailbox {mailbox}: {problem}")]
    Mailbox {
        /// `host:port/folder`.
        mailbox: String,
        /// What went wrong.
        problem: String,
    },
    /// A setting is wrong.
    #[error("[intake.email] {0}")]
    Settings(String),
    /// Taking a message in failed (the store); the message is left to the next pass.
    #[error("taking in a message: {0}")]
    App(#[from] redress_app::AppError),
}

/// What a pass took in, by outcome (`registered`, `joined`, `receipt`, `ignored`, `refused`,
/// `known`).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct IntakeReport {
    /// Messages looked at.
    pub messages: usize,
    /// Counts by outcome.
    pub outcomes: BTreeMap<&'static str, usize>,
    /// The numbers of the complaints registered.
    pub registered: Vec<String>,
}

impl IntakeReport {
    fn add(&mut self, outcome: &MailOutcome) {
        self.messages += 1;
        let name = match outcome {
            MailOutcome::Registered { number } => {
                self.registered.push(number.clone());
                "registered"
            }
            MailOutcome::Joined { .. } => "joined",
            MailOutcome::Receipt { .. } => "receipt",
            MailOutcome::Ignored { .. } => "ignored",
            MailOutcome::Refused { .. } => "refused",
            MailOutcome::Known => "known",
        };
        *self.outcomes.entry(name).or_default() += 1;
    }
}

/// Takes in every `.eml` file of a folder, in name order; `progress` is told after each.
/// Running it again takes nothing twice.
pub async fn take_folder(app: &App, settings: &MailIntakeSettings, folder: &Path, mut progress: impl FnMut(usize, usize)) -> Result<IntakeReport, IntakeError> {
    let file_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| IntakeError::File { path, source }
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(folder)
        .map_err(file_error(folder))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("eml")) && p.is_file())
        .collect();
    files.sort();
    let source = format!("folder:{}", folder.display());
    let mut report = IntakeReport::default();
    for (i, path) in files.iter().enumerate() {
        let raw = std::fs::read(path).map_err(file_error(path))?;
        let outcome = mail_intake::take(app, settings, &source, read_mail(raw)).await?;
        report.add(&outcome);
        progress(i + 1, files.len());
    }
    Ok(report)
}

/// How the mailbox is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ImapSecurity {
    /// TLS from the first byte (port 993).
    #[default]
    Tls,
    /// No TLS: only for a server on the same host.
    None,
}

/// The `[intake.email]` settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailboxSettings {
    /// The IMAP server's host name (checked against its certificate).
    pub host: String,
    /// Its port (default 993 with TLS, 143 without).
    pub port: Option<u16>,
    /// TLS or none.
    #[serde(default)]
    pub security: ImapSecurity,
    /// The mailbox's user.
    pub username: String,
    /// The password (better: `password_env`).
    pub password: Option<String>,
    /// The environment variable holding the password.
    pub password_env: Option<String>,
    /// The folder to read (default `INBOX`).
    #[serde(default = "default_folder")]
    pub folder: String,
    /// Seconds between looks at the mailbox.
    #[serde(default = "default_poll")]
    pub poll_seconds: u64,
    /// A PEM file of certificate authorities to trust besides the public ones.
    pub ca_file: Option<PathBuf>,
    /// The intake address (messages from it are our own come back); also where customers
    /// reply.
    pub address: Option<String>,
    /// The unit new complaints are registered against (default: the head office).
    pub unit: Option<String>,
    /// Messages larger than this many bytes are kept and refused unread.
    pub max_message_bytes: Option<usize>,
}

fn default_folder() -> String {
    "INBOX".into()
}

fn default_poll() -> u64 {
    30
}

impl MailboxSettings {
    /// The intake's settings.
    pub fn intake(&self) -> MailIntakeSettings {
        let d = MailIntakeSettings::default();
        MailIntakeSettings { address: self.address.clone(), unit: self.unit.clone(), max_message_bytes: self.max_message_bytes.unwrap_or(d.max_message_bytes) }
    }

    fn name(&self) -> String {
        format!("imap://{}@{}:{}/{}", self.username, self.host, self.port(), self.folder)
    }

    fn port(&self) -> u16 {
        self.port.unwrap_or(match self.security {
            ImapSecurity::Tls => 993,
            ImapSecurity::None => 143,
        })
    }

    fn password(&self) -> Result<String, IntakeError> {
        match (&self.password_env, &self.password) {
            (Some(var), _) => std::env::var(var).map_err(|_| IntakeError::Settings(format!("password_env: the variable {var} is not set"))),
            (None, Some(p)) => Ok(p.clone()),
            (None, None) => Err(IntakeError::Settings("the mailbox needs a password or password_env".into())),
        }
    }

    fn tls(&self) -> Result<tokio_rustls::TlsConnector, IntakeError> {
        let mut roots = tokio_rustls::rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(path) = &self.ca_file {
            use rustls_pki_types::pem::PemObject;
            let certs = rustls_pki_types::CertificateDer::pem_file_iter(path).map_err(|e| IntakeError::Settings(format!("ca_file {}: {e}", path.display())))?;
            for cert in certs {
                let cert = cert.map_err(|e| IntakeError::Settings(format!("ca_file {}: {e}", path.display())))?;
                roots.add(cert).map_err(|e| IntakeError::Settings(format!("ca_file {}: {e}", path.display())))?;
            }
        }
        let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(Arc::new(tokio_rustls::rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| IntakeError::Settings(format!("TLS: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
    }
}

/// Reads the unseen messages of the mailbox once.
pub async fn poll_mailbox(app: &App, settings: &MailboxSettings) -> Result<IntakeReport, IntakeError> {
    let mailbox = settings.name();
    let fail = |problem: String| IntakeError::Mailbox { mailbox: mailbox.clone(), problem };
    let password = settings.password()?;
    let tcp = tokio::time::timeout(Duration::from_secs(30), tokio::net::TcpStream::connect((settings.host.as_str(), settings.port())))
        .await
        .map_err(|_| fail("no answer within 30 s".into()))?
        .map_err(|e| fail(format!("cannot connect: {e}")))?;
    match settings.security {
        ImapSecurity::Tls => {
            let name = rustls_pki_types::ServerName::try_from(settings.host.clone()).map_err(|e| fail(format!("host name: {e}")))?;
            let tls = settings.tls()?.connect(name, tcp).await.map_err(|e| fail(format!("TLS: {e}")))?;
            read_unseen(app, settings, tls, &password, &fail).await
        }
        ImapSecurity::None => read_unseen(app, settings, tcp, &password, &fail).await,
    }
}

async fn read_unseen<T>(app: &App, settings: &MailboxSettings, stream: T, password: &str, fail: &(dyn Fn(String) -> IntakeError + Sync)) -> Result<IntakeReport, IntakeError>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    let mut client = async_imap::Client::new(stream);
    client.read_response().await.map_err(|e| fail(format!("no greeting: {e}")))?;
    let mut session = client.login(&settings.username, password).await.map_err(|(e, _)| fail(format!("sign-in refused: {e}")))?;
    session.select(&settings.folder).await.map_err(|e| fail(format!("cannot open the folder: {e}")))?;
    let mut uids: Vec<u32> = session.uid_search("UNSEEN").await.map_err(|e| fail(format!("search: {e}")))?.into_iter().collect();
    uids.sort_unstable();
    let intake = settings.intake();
    let source = settings.name();
    let mut report = IntakeReport::default();
    for uid in uids {
        let raw = {
            let fetches: Vec<_> = session.uid_fetch(uid.to_string(), "BODY.PEEK[]").await.map_err(|e| fail(format!("fetch {uid}: {e}")))?.try_collect().await.map_err(|e| fail(format!("fetch {uid}: {e}")))?;
            fetches.iter().find_map(|f| f.body().map(<[u8]>::to_vec))
        };
        let Some(raw) = raw else { continue };
        let outcome = mail_intake::take(app, &intake, &source, read_mail(raw)).await?;
        report.add(&outcome);
        let _: Vec<_> = session
            .uid_store(uid.to_string(), "+FLAGS (\\Seen)")
            .await
            .map_err(|e| fail(format!("mark {uid} seen: {e}")))?
            .try_collect()
            .await
            .map_err(|e| fail(format!("mark {uid} seen: {e}")))?;
    }
    let _ = session.logout().await;
    Ok(report)
}

/// Looks at the mailbox every `poll_seconds` until the task is dropped, on the server that
/// runs the background jobs (so that with several servers one reads the mailbox).
pub fn spawn_mailbox(app: App, settings: MailboxSettings) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match app.store.lead_background_jobs().await {
                Ok(true) => {}
                Ok(false) => {
                    tokio::time::sleep(Duration::from_secs(settings.poll_seconds.max(1))).await;
                    continue;
                }
                Err(e) => tracing::warn!(error = %e, "could not learn whether this server reads the mailbox"),
            }
            match poll_mailbox(&app, &settings).await {
                Ok(r) if r.messages > 0 => tracing::info!(?r, "mail taken in"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "reading the intake mailbox failed"),
            }
            tokio::time::sleep(Duration::from_secs(settings.poll_seconds.max(1))).await;
        }
    })
}
