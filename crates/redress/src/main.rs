//! `redress`: the complaint-management platform's one binary.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use redress::{app_state, bench, cli_complaint, cli_mail, cli_stats, cli_text, import, users};
use redress_app::jobs;

// The request path allocates many small strings and JSON values from several threads at once;
// mimalloc's per-thread heaps keep that cheap.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Redress: complaint management for financial institutions.
#[derive(Parser)]
#[command(name = "redress", version, about, long_about = None)]
struct Cli {
    /// Configuration file (default: $REDRESS_CONFIG, else ./redress.toml if present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://… (default: sqlite://redress-data/redress.db).
    #[arg(long, global = true)]
    db: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP JSON API (and run the deadline scheduler).
    Serve {
        /// Address to listen on (default 127.0.0.1:8080; port 0 picks a free port).
        #[arg(long)]
        listen: Option<String>,
    },
    /// Apply database migrations (serve does this too).
    Migrate,
    /// Manage users and their API tokens.
    #[command(subcommand)]
    User(users::UserCommand),
    /// Register, view and act on complaints from the terminal.
    #[command(subcommand)]
    Complaint(Box<cli_complaint::ComplaintCommand>),
    /// Import complaints from files.
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// Export data in the layouts other systems take.
    #[command(subcommand)]
    Export(import::ExportCommand),
    /// Take in complaints by e-mail: a folder of .eml files, the intake mailbox, and the list of
    /// e-mails kept.
    #[command(subcommand)]
    Mail(cli_mail::MailCommand),
    /// Deliver the customer messages that are due now, once, through the configured channels
    /// (`[delivery]` in the configuration), and print what became of them.
    Deliver,
    /// Run one deadline sweep now: mark due-soon and overdue complaints, escalate.
    Sweep,
    /// Full-text search over complaints (narrative, request, title, notes).
    Search(cli_text::SearchArgs),
    /// Read texts, one per line, from standard input and write one JSON object per line:
    /// emotion, intensity, negativity, risk flags with evidence, classification.
    Analyze,
    /// Train a classifier from labelled texts (a CSV file, text files, or the labels people
    /// confirmed in the store), store it as a new model version and put it in use.
    Train(cli_text::TrainArgs),
    /// Measure a classifier: k-fold cross-validation or a held-back part of labelled data, or a
    /// stored model on another labelled file. Prints accuracy, macro-F1, per-class precision and
    /// recall, and the most confused pairs.
    Eval(cli_text::EvalArgs),
    /// List stored models or choose the one in use.
    #[command(subcommand)]
    Models(cli_text::ModelsCommand),
    /// Index complaints stored before the text index existed.
    Reindex,
    /// The statistics behind the analyses and reports.
    #[command(subcommand)]
    Stats(cli_stats::StatsCommand),
    /// Detect incidents now, or list them.
    #[command(subcommand)]
    Incidents(cli_text::IncidentsCommand),
    /// Measure the real server's throughput and latency against a fresh database.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(redress::cli_error::exit_code(&e))
        }
    }
}

async fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    if let Command::Bench(cmd) = cli.command {
        return bench::run(cmd, cli.config.as_deref(), cli.db.as_deref()).await;
    }
    let (config, state) = app_state(cli.config.as_deref(), cli.db.as_deref()).await?;
    match cli.command {
        Command::Serve { listen } => {
            let listen = listen.unwrap_or(config.listen.clone());
            let listener = tokio::net::TcpListener::bind(&listen).await.with_context(|| format!("binding {listen}"))?;
            let addr = listener.local_addr()?;
            if let Some(first) = redress_app::users::bootstrap_admin(&state).await? {
                println!("first start: created user 'admin' (role admin).");
                println!("sign in at http://{addr}/sign-in as 'admin' with the password (shown once; change it under My account):");
                println!("{}", first.password);
                println!("its API token (shown once; send it as 'Authorization: Bearer TOKEN'):");
                println!("{}", first.token);
            }
            let schedule = jobs::Schedule { sweep_every: Duration::from_secs(config.scheduler_interval_seconds.max(1)), detect_every: Duration::from_secs(5), alert_every: Duration::from_secs(3600) };
            jobs::spawn(state.clone(), schedule);
            match redress::deliverer(&config, &state)? {
                Some(d) => {
                    d.spawn();
                }
                None => tracing::info!("no delivery channel is configured: customer messages wait in the outbox"),
            }
            if let Some(e) = config.webhooks.iter().find(|e| e.secret().is_none()) {
                anyhow::bail!("[[webhooks]] {}: no signing secret (secret or secret_env)", e.name);
            }
            // Always running, so that with no endpoint the notices are cleared as they come.
            let poster = redress_channels::webhook::HttpPoster::new(Duration::from_secs(15))?;
            redress_app::webhooks::Dispatcher::new(state.clone(), config.webhooks.clone(), std::sync::Arc::new(poster), config.delivery.retry).spawn(Duration::from_secs(1));
            if let Some(mailbox) = config.intake.email.clone() {
                redress_channels::intake::spawn_mailbox(state.clone(), mailbox);
            }
            redress_app::intelligence::spawn_model_refresher(state.store.clone(), state.insight.clone(), Duration::from_secs(30));
            tracing::info!(%addr, engine = state.store.engine(), profile = %state.rules.default_profile, "serving");
            let web = redress_web::WebSettings { secure_cookies: config.web.secure_cookies, behind_proxy: config.web.behind_proxy };
            println!("sign in at http://{addr}/sign-in · customers: http://{addr}/complain and http://{addr}/track");
            // The last line: whoever started the server may stop reading its output here.
            println!("listening on http://{addr}");
            redress_server::serve_with(listener, state, web, async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
        }
        Command::Migrate => println!("migrations applied to {}", redress::redact::redact_url(&config.database_url)),
        Command::User(cmd) => users::run(cmd, &state).await?,
        Command::Complaint(cmd) => cli_complaint::run(*cmd, &state).await?,
        Command::Import(cmd) => import::run(cmd, &state).await?,
        Command::Export(cmd) => import::export(cmd, &state).await?,
        Command::Mail(cmd) => cli_mail::run(cmd, &config, &state).await?,
        Command::Deliver => {
            let Some(d) = redress::deliverer(&config, &state)? else {
                anyhow::bail!("no delivery channel is configured: add [delivery.email] or [delivery.sms] to the configuration");
            };
            let report = d.deliver_due().await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        Command::Sweep => {
            let report = jobs::sweep(&state).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        Command::Search(args) => cli_text::search(args, &state).await?,
        Command::Analyze => cli_text::analyze(&state)?,
        Command::Train(args) => cli_text::train(args, &state).await?,
        Command::Eval(args) => cli_text::eval(args, &state).await?,
        Command::Models(cmd) => cli_text::models(cmd, &state).await?,
        Command::Reindex => cli_text::reindex(&state).await?,
        Command::Incidents(cmd) => cli_text::incidents(cmd, &state).await?,
        Command::Stats(cmd) => cli_stats::run(cmd, &state).await?,
        Command::Bench(_) => unreachable!("handled before the store is opened"),
    }
    Ok(())
}
