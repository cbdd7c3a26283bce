//! `redress`: the complaint-management platform's one binary.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use redress::{app_state, bench, cli_complaint, import, users};

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
    /// Run one deadline sweep now: mark due-soon and overdue complaints, escalate.
    Sweep,
    /// Measure the real server's throughput and latency against a fresh database.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
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
            if let Some(token) = users::bootstrap_admin(&state).await? {
                println!("first start: created user 'admin' (role admin). Its API token, shown once:");
                println!("{token}");
            }
            redress_server::scheduler::spawn(state.clone(), Duration::from_secs(config.scheduler_interval_seconds.max(1)));
            tracing::info!(%addr, engine = state.store.engine(), profile = %state.rules.default_profile, "serving");
            println!("listening on http://{addr}");
            redress_server::serve(listener, state, async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
        }
        Command::Migrate => println!("migrations applied to {}", config.database_url),
        Command::User(cmd) => users::run(cmd, &state).await?,
        Command::Complaint(cmd) => cli_complaint::run(*cmd, &state).await?,
        Command::Import(cmd) => import::run(cmd, &state).await?,
        Command::Sweep => {
            let report = redress_server::scheduler::sweep(&state).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        Command::Bench(_) => unreachable!("handled before the store is opened"),
    }
    Ok(())
}
