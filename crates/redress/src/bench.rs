//! `redress bench`: measures the real server in-process against a fresh database.
//!
//! `bench intake` starts the HTTP API exactly as `serve` does (same state, same router, same
//! scheduler) on a free local port and registers complaints through it from concurrent
//! keep-alive clients; `bench read` seeds a large database through the service layer and then
//! times the list and fetch endpoints with one client. Both print figures; none asserts on
//! timings; `bench pages` (module `bench_pages`) times the staff pages signed in as a
//! handler; `bench analytics` (module `bench_analytics`) times the analyses and reports on the
//! database `bench pages` loads. The database is always new: a SQLite file in a temporary
//! directory, or a new schema in the PostgreSQL database named by `--db`, removed afterwards
//! unless `--keep` is given.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use redress_domain::classify::ClassifyInput;
use redress_domain::clock::SystemClock;
use redress_domain::complaint::ComplaintId;
use redress_domain::org::Role;
use redress_domain::rulebook::RuleBook;
use redress_app::input::NewComplaintBody;
use redress_app::{App as AppState, Caller};
use redress_store::Store;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::config::Config;

/// Benchmarks of the real server, against a fresh database.
#[derive(Subcommand)]
pub enum BenchCommand {
    /// Registration throughput and latency: concurrent clients POST realistic complaints to the
    /// real HTTP API over keep-alive connections, then one client does; every answer must be
    /// 201 and the store must hold exactly the acknowledged complaints afterwards.
    Intake(IntakeArgs),
    /// Read latency on a large database: seeds complaints through the service layer (group
    /// commit), then one client times the newest-50 list, the same list filtered by department,
    /// and fetching single complaints by id.
    Read(ReadArgs),
    /// The staff pages on a large database: loads complaints carried along their lifecycle
    /// (most decided and archived, recent ones open in handlers' queues with mixed due states),
    /// signs a handler in through the sign-in form, then times My work (first page, filtered,
    /// page 3 by cursor), complaint pages and search pages with one browser; prints p50, p99,
    /// max and peak memory.
    Pages(crate::bench_pages::PagesArgs),
    /// The analyses on a large database: loads complaints as `bench pages` does (their
    /// statistics cells written with each change), then times, as a supervisor with an API
    /// token and a signed-in session, the five-dimension analysis, scorecards, hotspots, the
    /// quarterly report, the FCA return, the analysis and scorecards pages and the Excel
    /// download; prints p50, p99, max, mean, peak memory, the size of the statistics and how many
    /// cells a question reads.
    Analytics(crate::bench_analytics::AnalyticsArgs),
    /// Delivery of customer messages: registers complaints (each queues its acknowledgement),
    /// then runs the delivery worker until every message is sent, text messages to a local HTTP
    /// gateway and, with `--smtp`, e-mail to that SMTP server; prints messages per second.
    Delivery(crate::bench_channels::DeliveryArgs),
    /// E-mail intake: generated Chinese (GBK) and English e-mails, some with attachments, some
    /// automatic replies, read and taken in one after another; prints e-mails per second.
    Mail(crate::bench_channels::MailArgs),
}

/// Options of `bench intake`.
#[derive(Args)]
pub struct IntakeArgs {
    /// Database to benchmark. Omitted: a new SQLite file in a temporary directory.
    /// `postgres://USER@HOST:PORT/DB`: a new schema `bench_<uuid>` in that database, so no
    /// existing data is read or touched. `sqlite://PATH`: a new file at PATH (refused if it
    /// exists). The temporary file or schema is removed afterwards unless --keep is given.
    #[arg(long, value_name = "URL")]
    pub db: Option<String>,
    /// Concurrent HTTP clients, each with its own keep-alive connection, each sending its share
    /// of the complaints one after another.
    #[arg(long, default_value_t = 64, value_name = "N")]
    pub clients: usize,
    /// Complaints registered in the measured concurrent run.
    #[arg(long, default_value_t = 50_000, value_name = "N")]
    pub count: usize,
    /// Complaints registered first by the same clients and not measured (connections, caches,
    /// the database file grow first).
    #[arg(long, default_value_t = 1_000, value_name = "N")]
    pub warmup: usize,
    /// Complaints registered by a single client after the concurrent run, for the latency of
    /// an unloaded server (0 skips this run).
    #[arg(long, default_value_t = 2_000, value_name = "N")]
    pub single: usize,
    /// Seed of the generator of complaint bodies, so runs are repeatable.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub rng_seed: u64,
    /// Keep the temporary database (its location is printed) instead of removing it.
    #[arg(long)]
    pub keep: bool,
}

/// Options of `bench read`.
#[derive(Args)]
pub struct ReadArgs {
    /// Database to benchmark. Omitted: a new SQLite file in a temporary directory.
    /// `postgres://USER@HOST:PORT/DB`: a new schema `bench_<uuid>` in that database, so no
    /// existing data is read or touched. `sqlite://PATH`: a new file at PATH (refused if it
    /// exists). The temporary file or schema is removed afterwards unless --keep is given.
    #[arg(long, value_name = "URL")]
    pub db: Option<String>,
    /// Complaints to seed before measuring, registered through the service layer (validation,
    /// classification, routing, numbering, history and acknowledgement message included).
    #[arg(long, default_value_t = 1_000_000, value_name = "N")]
    pub seed: usize,
    /// Timed requests of each kind (list newest 50, list by department, fetch by id).
    #[arg(long, default_value_t = 2_000, value_name = "N")]
    pub samples: usize,
    /// Registrations in flight while seeding (default: 1024 on SQLite, whose single writer
    /// commits whatever is waiting in one transaction; 64 on PostgreSQL, whose pool has 16
    /// connections).
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Days back over which the seeded complaints' receipt times are spread, oldest first.
    #[arg(long, default_value_t = 180, value_name = "DAYS")]
    pub spread_days: u32,
    /// Seed of the generator of complaints, so runs are repeatable.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub rng_seed: u64,
    /// Hide the progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Keep the temporary database (its location is printed) instead of removing it.
    #[arg(long)]
    pub keep: bool,
    /// Seed nothing: time the reads on the SQLite file given by --db as it is (one kept by an
    /// earlier run with --keep), on complaints sampled from it. The file is left in place.
    #[arg(long, requires = "db", conflicts_with = "keep")]
    pub reuse: bool,
}

/// Runs a benchmark. `config` and `global_db` are the binary's global `--config` and `--db`;
/// the subcommand's own `--db` wins over the global one.
pub async fn run(cmd: BenchCommand, config: Option<&Path>, global_db: Option<&str>) -> anyhow::Result<()> {
    let config = Config::load(config)?;
    let rules = Arc::new(crate::rule_files::load_rule_book(&config.rules).context("loading the rules")?);
    match cmd {
        BenchCommand::Intake(mut args) => {
            args.db = args.db.or(global_db.map(str::to_string));
            intake(args, &config, rules).await
        }
        BenchCommand::Read(mut args) => {
            args.db = args.db.or(global_db.map(str::to_string));
            read(args, rules).await
        }
        BenchCommand::Pages(mut args) => {
            args.db = args.db.or(global_db.map(str::to_string));
            crate::bench_pages::run(args, rules).await
        }
        BenchCommand::Analytics(mut args) => {
            args.db = args.db.or(global_db.map(str::to_string));
            crate::bench_analytics::run(args, rules).await
        }
        BenchCommand::Delivery(mut args) => {
            args.db = args.db.or(global_db.map(str::to_string));
            crate::bench_channels::delivery(args, rules).await
        }
        BenchCommand::Mail(mut args) => {
            args.db = args.db.or(global_db.map(str::to_string));
            crate::bench_channels::mail(args, rules).await
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The fresh database.

enum Cleanup {
    Nothing,
    Dir(PathBuf),
    Schema { url: String, schema: String },
}

pub(crate) struct FreshDb {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) label: String,
    cleanup: Cleanup,
    sqlite_file: Option<PathBuf>,
    pub(crate) postgres: Option<PgProbe>,
}

pub(crate) async fn fresh_db(url: Option<&str>) -> anyhow::Result<FreshDb> {
    match url {
        None => {
            let dir = std::env::temp_dir().join(format!("redress-bench-{}", uuid::Uuid::now_v7().simple()));
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            let file = dir.join("redress.db");
            let store = crate::open_store(&format!("sqlite://{}", file.display())).await?;
            Ok(FreshDb {
                store,
                label: format!("new file {}", file.display()),
                cleanup: Cleanup::Dir(dir),
                sqlite_file: Some(file),
                postgres: None,
            })
        }
        Some(url) if url.starts_with("sqlite:") => {
            let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
            let path = PathBuf::from(path.split('?').next().unwrap_or(path));
            if path.exists() {
                bail!("{} exists: the benchmark needs a new database; name a file that does not exist yet", path.display());
            }
            let store = crate::open_store(url).await?;
            Ok(FreshDb { store, label: format!("new file {}", path.display()), cleanup: Cleanup::Nothing, sqlite_file: Some(path), postgres: None })
        }
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            let schema = format!("bench_{}", uuid::Uuid::now_v7().simple());
            // The store's connections carry the schema's name as their application name, so
            // the server processes serving them can be found for the CPU figures.
            let separator = if url.contains('?') { '&' } else { '?' };
            let tagged = format!("{url}{separator}application_name={schema}");
            let store = redress_store_postgres::PostgresStore::connect_with_schema(&tagged, &schema)
                .await
                .with_context(|| format!("connecting to {url}"))?;
            store.migrate().await.context("migrating the benchmark schema")?;
            Ok(FreshDb {
                store: Arc::new(store),
                label: format!("new schema {schema} in {url}"),
                cleanup: Cleanup::Schema { url: url.to_string(), schema: schema.clone() },
                sqlite_file: None,
                postgres: Some(PgProbe { url: url.to_string(), application_name: schema }),
            })
        }
        Some(other) => bail!("unsupported database URL '{other}': use sqlite://PATH or postgres://…"),
    }
}

/// An SQLite database kept by an earlier run, opened as it is (migrated if it is older).
pub(crate) async fn existing_db(url: &str) -> anyhow::Result<FreshDb> {
    if !url.starts_with("sqlite:") {
        bail!("--reuse takes an SQLite database (sqlite://PATH); '{url}' is not one");
    }
    let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let path = PathBuf::from(path.split('?').next().unwrap_or(path));
    if !path.exists() {
        bail!("{} does not exist: --reuse measures a database kept by an earlier run", path.display());
    }
    let store = crate::open_store(url).await?;
    Ok(FreshDb { store, label: format!("existing file {}", path.display()), cleanup: Cleanup::Nothing, sqlite_file: Some(path), postgres: None })
}

impl FreshDb {
    /// Bytes of the SQLite database and its WAL, if this is SQLite.
    pub(crate) fn sqlite_bytes(&self) -> Option<u64> {
        let file = self.sqlite_file.as_ref()?;
        let mut total = 0;
        for suffix in ["", "-wal", "-shm"] {
            let mut p = file.clone().into_os_string();
            p.push(suffix);
            total += std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
        }
        Some(total)
    }

    /// The SQLite file, if this is SQLite.
    pub(crate) fn sqlite_path(&self) -> Option<&Path> {
        self.sqlite_file.as_deref()
    }

    /// The PostgreSQL URL and the benchmark's schema, if this is PostgreSQL.
    pub(crate) fn postgres_schema(&self) -> Option<(&str, &str)> {
        self.postgres.as_ref().map(|p| (p.url.as_str(), p.application_name.as_str()))
    }

    pub(crate) async fn finish(self, keep: bool) -> anyhow::Result<()> {
        let FreshDb { store, cleanup, label, .. } = self;
        drop(store);
        match cleanup {
            Cleanup::Nothing => {}
            _ if keep => println!("kept the database: {label}"),
            Cleanup::Dir(dir) => std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?,
            Cleanup::Schema { url, schema } => {
                use sqlx::Connection;
                let mut conn = sqlx::PgConnection::connect(&url).await.with_context(|| format!("connecting to {url}"))?;
                // The name was generated above as `bench_` + hex: a plain identifier.
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP SCHEMA IF EXISTS {schema} CASCADE")))
                    .execute(&mut conn)
                    .await
                    .with_context(|| format!("dropping schema {schema}"))?;
                conn.close().await.ok();
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Users and the server.

pub(crate) async fn add_user(store: &dyn Store, name: &str, role: Role, department: Option<&str>) -> anyhow::Result<(String, redress_store::User)> {
    let (user, token) = redress_app::users::create_with_token(store, name, role, department, None, jiff::Timestamp::now())
        .await
        .with_context(|| format!("creating user {name}"))?;
    Ok((token, user))
}

/// Two handlers in every department, so routing's least-loaded assignment runs as it does in
/// a staffed organisation.
async fn add_handlers(store: &dyn Store, rules: &RuleBook) -> anyhow::Result<usize> {
    let mut n = 0;
    for d in rules.org.departments() {
        for k in 1..=2 {
            add_user(store, &format!("bench-handler-{}-{k}", d.code.to_lowercase()), Role::Handler, Some(&d.code)).await?;
            n += 1;
        }
    }
    Ok(n)
}

pub(crate) struct Server {
    pub(crate) base: String,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

pub(crate) async fn start_server(state: AppState) -> anyhow::Result<Server> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.context("binding 127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let (shutdown, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(redress_server::serve(listener, state, async {
        let _ = rx.await;
    }));
    Ok(Server { base: format!("http://{addr}"), shutdown, task })
}

impl Server {
    pub(crate) async fn stop(self) {
        let _ = self.shutdown.send(());
        let _ = tokio::time::timeout(Duration::from_secs(10), self.task).await;
    }
}

fn http_client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder().pool_max_idle_per_host(1).tcp_nodelay(true).timeout(Duration::from_secs(60)).build()?)
}

// ---------------------------------------------------------------------------------------------
// Figures.

/// Peak and current resident memory of this process, in bytes (VmHWM, VmRSS).
pub(crate) fn memory() -> (Option<u64>, Option<u64>) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kb| kb.parse::<u64>().ok())
            .map(|kb| kb * 1024)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// CPU time spent by this process and by the whole machine over an interval, from /proc, so
/// a figure taken while something else was busy on the machine shows it.
pub(crate) struct CpuMeter {
    wall: Instant,
    process: Option<f64>,
    machine: Option<(f64, f64)>,
}

/// Clock ticks per second of /proc figures (USER_HZ, 100 on Linux).
const TICKS: f64 = 100.0;

fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may contain spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    Some((f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?) / TICKS)
}

/// (busy, total) CPU seconds of the machine since boot, summed over CPUs.
fn machine_cpu_seconds() -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let v: Vec<f64> = line.split_whitespace().filter_map(|x| x.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    let total: f64 = v.iter().take(8).sum();
    let idle = v.get(3)? + v.get(4).unwrap_or(&0.0);
    Some(((total - idle) / TICKS, total / TICKS))
}

impl CpuMeter {
    pub(crate) fn start() -> CpuMeter {
        CpuMeter { wall: Instant::now(), process: process_cpu_seconds(), machine: machine_cpu_seconds() }
    }

    /// "this process a s, other processes b s, of c CPU-seconds available".
    pub(crate) fn report(&self) -> String {
        let wall = self.wall.elapsed().as_secs_f64();
        let (Some(p0), Some(p1), Some((b0, t0)), Some((b1, t1))) = (self.process, process_cpu_seconds(), self.machine, machine_cpu_seconds()) else {
            return "n/a".into();
        };
        let process = p1 - p0;
        let others = ((b1 - b0) - process).max(0.0);
        format!(
            "this process {process:.1} s, other processes {others:.1} s, of {:.1} CPU-seconds available ({wall:.1} s × {} CPUs)",
            t1 - t0,
            std::thread::available_parallelism().map_or(0, |n| n.get())
        )
    }

    fn process_seconds(&self) -> f64 {
        match (self.process, process_cpu_seconds()) {
            (Some(a), Some(b)) => b - a,
            _ => f64::NAN,
        }
    }
}

/// Finds the PostgreSQL server processes serving the benchmark's connections.
pub(crate) struct PgProbe {
    url: String,
    application_name: String,
}

/// CPU seconds of a process, from /proc/PID/stat.
fn pid_cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some((f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?) / TICKS)
}

/// Total CPU seconds of every process named `postgres` on this machine (backends of every
/// client, the WAL writer, the checkpointer, …).
fn all_postgres_cpu_seconds() -> f64 {
    let Ok(dir) = std::fs::read_dir("/proc") else { return 0.0 };
    dir.filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        .filter(|pid| std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "postgres"))
        .filter_map(pid_cpu_seconds)
        .sum()
}

/// A snapshot of PostgreSQL CPU: per benchmark backend, and all postgres processes together.
pub(crate) struct PgCpu {
    backends: std::collections::HashMap<u32, f64>,
    all: f64,
}

impl PgProbe {
    async fn backend_pids(&self) -> Vec<u32> {
        use sqlx::Connection;
        let Ok(mut conn) = sqlx::PgConnection::connect(&self.url).await else { return Vec::new() };
        let pids: Vec<i32> = sqlx::query_scalar("SELECT pid FROM pg_stat_activity WHERE application_name = $1")
            .bind(&self.application_name)
            .fetch_all(&mut conn)
            .await
            .unwrap_or_default();
        conn.close().await.ok();
        pids.into_iter().filter_map(|p| u32::try_from(p).ok()).collect()
    }

    pub(crate) async fn snapshot(&self) -> PgCpu {
        let backends = self.backend_pids().await.into_iter().filter_map(|pid| Some((pid, pid_cpu_seconds(pid)?))).collect();
        PgCpu { backends, all: all_postgres_cpu_seconds() }
    }

    /// "the benchmark's N PostgreSQL backends a s; all postgres processes b s".
    pub(crate) async fn report(&self, before: &PgCpu, complaints: u64) -> String {
        let after = self.snapshot().await;
        let mine: f64 = after.backends.iter().map(|(pid, cpu)| cpu - before.backends.get(pid).copied().unwrap_or(0.0)).sum();
        let per = if complaints > 0 { format!(" ({:.0} µs per complaint)", mine * 1e6 / complaints as f64) } else { String::new() };
        format!(
            "the benchmark's {} PostgreSQL backends {mine:.1} s{per}; all postgres processes {:.1} s",
            after.backends.len(),
            after.all - before.all
        )
    }
}

pub(crate) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" ")).unwrap_or_default()
}

pub(crate) fn mib(bytes: Option<u64>) -> String {
    bytes.map(|b| format!("{:.0} MiB", b as f64 / (1024.0 * 1024.0))).unwrap_or_else(|| "n/a".into())
}

/// Latencies in microseconds.
pub(crate) struct Latencies(Vec<u32>);

impl Latencies {
    pub(crate) fn new(mut v: Vec<u32>) -> Self {
        v.sort_unstable();
        Latencies(v)
    }

    /// The p-th percentile (nearest rank), in milliseconds.
    pub(crate) fn pct(&self, p: f64) -> f64 {
        if self.0.is_empty() {
            return f64::NAN;
        }
        let rank = ((p / 100.0) * self.0.len() as f64).ceil() as usize;
        self.0[rank.clamp(1, self.0.len()) - 1] as f64 / 1000.0
    }

    /// How many were measured.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    pub(crate) fn max(&self) -> f64 {
        self.0.last().map_or(f64::NAN, |&m| m as f64 / 1000.0)
    }

    pub(crate) fn mean(&self) -> f64 {
        if self.0.is_empty() {
            return f64::NAN;
        }
        self.0.iter().map(|&u| u as f64).sum::<f64>() / self.0.len() as f64 / 1000.0
    }

    pub(crate) fn line(&self) -> String {
        format!(
            "p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms  max {:.2} ms  (mean {:.2} ms, n = {})",
            self.pct(50.0),
            self.pct(90.0),
            self.pct(99.0),
            self.max(),
            self.mean(),
            self.0.len()
        )
    }
}

pub(crate) fn micros(d: Duration) -> u32 {
    d.as_micros().min(u128::from(u32::MAX)) as u32
}

// ---------------------------------------------------------------------------------------------
// Intake.

/// One registration request, ready to send.
struct Prepared {
    key: String,
    body: Vec<u8>,
}

/// What one load run did.
struct LoadRun {
    elapsed: Duration,
    ok: u64,
    failed: u64,
    latencies: Latencies,
    failures: Vec<String>,
}

/// Sends the requests from the given clients concurrently, each sending every n-th request in
/// turn, and times each request to the end of its response body. The clients keep their
/// connections between runs, so a run after the warm-up opens none.
async fn load(base: &str, token: &str, requests: Vec<Prepared>, http: &[reqwest::Client]) -> anyhow::Result<LoadRun> {
    let clients = http.len().max(1).min(requests.len().max(1));
    let mut shares: Vec<Vec<Prepared>> = (0..clients).map(|_| Vec::with_capacity(requests.len() / clients + 1)).collect();
    for (i, r) in requests.into_iter().enumerate() {
        shares[i % clients].push(r);
    }
    let url = format!("{base}/api/v1/complaints");
    let start = Arc::new(tokio::sync::Barrier::new(clients + 1));
    let mut tasks = JoinSet::new();
    for (share, http) in shares.into_iter().zip(http) {
        let http = http.clone();
        let url = url.clone();
        let token = token.to_string();
        let start = start.clone();
        tasks.spawn(async move {
            let mut lat = Vec::with_capacity(share.len());
            let (mut ok, mut failed) = (0u64, 0u64);
            let mut failures = Vec::new();
            start.wait().await;
            for r in share {
                let t = Instant::now();
                let sent = http
                    .post(&url)
                    .bearer_auth(&token)
                    .header("idempotency-key", r.key)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(r.body)
                    .send()
                    .await;
                let outcome = match sent {
                    Ok(res) => {
                        let status = res.status();
                        match res.bytes().await {
                            Ok(_) if status == reqwest::StatusCode::CREATED => Ok(()),
                            Ok(body) => Err(format!("{status}: {}", String::from_utf8_lossy(&body[..body.len().min(300)]))),
                            Err(e) => Err(format!("{status}, reading the body: {e}")),
                        }
                    }
                    Err(e) => Err(format!("request failed: {e}")),
                };
                lat.push(micros(t.elapsed()));
                match outcome {
                    Ok(()) => ok += 1,
                    Err(e) => {
                        failed += 1;
                        if failures.len() < 5 {
                            failures.push(e);
                        }
                    }
                }
            }
            (lat, ok, failed, failures)
        });
    }
    start.wait().await;
    let t0 = Instant::now();
    let mut all = Vec::new();
    let (mut ok, mut failed) = (0, 0);
    let mut failures = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let (lat, o, f, fs) = done.context("a client task failed")?;
        all.extend(lat);
        ok += o;
        failed += f;
        failures.extend(fs);
    }
    let elapsed = t0.elapsed();
    failures.truncate(5);
    Ok(LoadRun { elapsed, ok, failed, latencies: Latencies::new(all), failures })
}

fn print_failures(run: &LoadRun) {
    if run.failed > 0 {
        println!("  FAILED: {} requests did not get 201; first ones:", run.failed);
        for f in &run.failures {
            println!("    {f}");
        }
    }
}

async fn intake(args: IntakeArgs, config: &Config, rules: Arc<RuleBook>) -> anyhow::Result<()> {
    let db = fresh_db(args.db.as_deref()).await?;
    let engine = db.store.engine();
    println!("redress bench intake");
    println!("  engine:   {engine} ({})", db.label);
    println!("  machine:  {} CPUs", std::thread::available_parallelism().map_or(0, |n| n.get()));
    let state = AppState::new(db.store.clone(), rules.clone(), Arc::new(SystemClock));
    let (token, intake_user) = add_user(db.store.as_ref(), "bench-intake", Role::IntakeAgent, None).await?;
    let handlers = add_handlers(db.store.as_ref(), &rules).await?;
    println!("  users:    {} (intake agent) and {handlers} handlers", intake_user.name);

    let mut generator = Generator::new(args.rng_seed, &rules);
    let t = Instant::now();
    let prepare = |g: &mut Generator, n: usize, phase: &str| -> Vec<Prepared> {
        (0..n)
            .map(|i| {
                let body = g.complaint(None);
                Prepared { key: format!("bench-{}-{phase}-{i}", g.run), body: serde_json::to_vec(&body).expect("JSON") }
            })
            .collect()
    };
    let warmup = prepare(&mut generator, args.warmup, "warmup");
    let measured = prepare(&mut generator, args.count, "run");
    let single = prepare(&mut generator, args.single, "single");
    let body_bytes: usize = measured.iter().chain(&warmup).chain(&single).map(|p| p.body.len()).sum();
    let narrative_chars = generator.narrative_chars as f64 / generator.generated.max(1) as f64;
    println!(
        "  bodies:   {} generated in {:.1} s, {:.1} MiB of JSON (mean {:.0} bytes, narrative mean {:.0} chars, {:.0}% Chinese)",
        args.warmup + args.count + args.single,
        t.elapsed().as_secs_f64(),
        body_bytes as f64 / (1024.0 * 1024.0),
        body_bytes as f64 / (args.warmup + args.count + args.single).max(1) as f64,
        narrative_chars,
        100.0 * generator.chinese as f64 / generator.generated.max(1) as f64,
    );

    let server = start_server(state.clone()).await?;
    let schedule = redress_app::jobs::Schedule { sweep_every: Duration::from_secs(config.scheduler_interval_seconds.max(1)), detect_every: Duration::from_secs(5), alert_every: Duration::from_secs(3600) };
    let scheduler = redress_app::jobs::spawn(state.clone(), schedule);
    println!("  server:   {} (the same router and scheduler as `redress serve`)", server.base);
    let (_, rss_before) = memory();
    println!("  memory before the runs: {} resident (the pre-generated bodies included)", mib(rss_before));

    // One client (one keep-alive connection) per concurrent task, opened by the warm-up and
    // kept for the measured runs; the one-client run reuses the first.
    let clients = (0..args.clients.max(1)).map(|_| http_client()).collect::<anyhow::Result<Vec<_>>>()?;
    let mut acknowledged = 0u64;
    if args.warmup > 0 {
        let run = load(&server.base, &token, warmup, &clients).await?;
        acknowledged += run.ok;
        println!("\nwarm-up: {} complaints with {} clients in {:.1} s (not measured)", run.ok + run.failed, args.clients, run.elapsed.as_secs_f64());
        print_failures(&run);
    }

    println!("  load average before the measured run: {}", load_average());
    let pg_before = match &db.postgres {
        Some(p) => Some(p.snapshot().await),
        None => None,
    };
    let cpu = CpuMeter::start();
    let run = load(&server.base, &token, measured, &clients).await?;
    acknowledged += run.ok;
    let rate = run.ok as f64 / run.elapsed.as_secs_f64();
    println!("\nconcurrent run: {} clients, {} complaints", args.clients, args.count);
    println!("  throughput: {rate:.0} complaints/s ({} acknowledged with 201 in {:.2} s)", run.ok, run.elapsed.as_secs_f64());
    println!("  latency:    {}", run.latencies.line());
    println!("  failures:   {}", run.failed);
    println!("  CPU:        {}", cpu.report());
    println!("              {:.0} µs of this process's CPU per complaint (server and clients together)", cpu.process_seconds() * 1e6 / run.ok.max(1) as f64);
    if let (Some(p), Some(before)) = (&db.postgres, &pg_before) {
        println!("              {}", p.report(before, run.ok).await);
    }
    print_failures(&run);
    let count = db.store.count().await?;
    println!("  durability: the store holds {count} complaints; {acknowledged} were acknowledged with 201 — {}", verdict(count, acknowledged));
    let concurrent = run;

    let mut single_run = None;
    if args.single > 0 {
        let pg_before = match &db.postgres {
            Some(p) => Some(p.snapshot().await),
            None => None,
        };
        let cpu = CpuMeter::start();
        let run = load(&server.base, &token, single, &clients[..1]).await?;
        acknowledged += run.ok;
        println!("\none-client run: {} complaints", args.single);
        println!("  throughput: {:.0} complaints/s", run.ok as f64 / run.elapsed.as_secs_f64());
        println!("  latency:    {}", run.latencies.line());
        println!("  failures:   {}", run.failed);
        println!("  CPU:        {}", cpu.report());
        if let (Some(p), Some(before)) = (&db.postgres, &pg_before) {
            println!("              {}", p.report(before, run.ok).await);
        }
        print_failures(&run);
        let count = db.store.count().await?;
        println!("  durability: the store holds {count} complaints; {acknowledged} were acknowledged with 201 — {}", verdict(count, acknowledged));
        single_run = Some(run);
    }

    scheduler.abort();
    drop(clients);
    server.stop().await;
    let (hwm, rss) = memory();
    println!("\nmemory: peak resident {} (VmHWM), now {}; the process holds the server, the clients and the bodies", mib(hwm), mib(rss));
    if let Some(bytes) = db.sqlite_bytes() {
        println!("database: {:.0} MiB on disk ({:.1} KiB per complaint)", bytes as f64 / 1048576.0, bytes as f64 / 1024.0 / acknowledged.max(1) as f64);
    }

    phases(&rules, &mut generator);

    println!("\nsummary ({engine}):");
    println!("  {} clients: {:.0} complaints/s, p50 {:.2} ms, p99 {:.2} ms, {} failures", args.clients, rate, concurrent.latencies.pct(50.0), concurrent.latencies.pct(99.0), concurrent.failed);
    if let Some(s) = &single_run {
        println!("  1 client:   p50 {:.2} ms, p99 {:.2} ms, {} failures", s.latencies.pct(50.0), s.latencies.pct(99.0), s.failed);
    }
    let count = db.store.count().await?;
    println!("  durable:    {count} stored / {acknowledged} acknowledged — {}", verdict(count, acknowledged));
    db.finish(args.keep).await?;
    Ok(())
}

fn verdict(count: u64, acknowledged: u64) -> &'static str {
    if count == acknowledged { "equal" } else { "MISMATCH" }
}

/// CPU cost of the parts of a registration that do not touch the database, measured on this
/// thread alone: JSON parsing with validation, classification, and the text reading with the
/// search and similarity entries.
fn phases(rules: &RuleBook, generator: &mut Generator) {
    const N: usize = 2_000;
    let bodies: Vec<Vec<u8>> = (0..N).map(|_| serde_json::to_vec(&generator.complaint(None)).expect("JSON")).collect();
    let now = jiff::Timestamp::now();
    let head_office = rules.org.head_office().code.clone();
    let t = Instant::now();
    let mut news = Vec::with_capacity(N);
    for b in &bodies {
        let wire: NewComplaintBody = serde_json::from_slice(b).expect("a generated body parses");
        news.push(wire.into_domain(now, &head_office).expect("a generated body is valid"));
    }
    let parse = t.elapsed();
    let t = Instant::now();
    for n in &news {
        let c = rules.classifier.classify(&ClassifyInput {
            narrative: n.narrative.as_str(),
            request: n.request.as_str(),
            product: n.product.as_ref().map(|p| p.as_str()),
            amount_in_cny_equivalent: n.amount.as_ref().filter(|m| m.currency.as_str() == "CNY").map(|m| m.amount),
        });
        std::hint::black_box(c);
    }
    let classify = t.elapsed();
    let insight = redress_insight::Insight::default();
    // The first reading loads the segmenter's dictionary: not part of a registration's cost.
    std::hint::black_box(insight.read_new("", "预热", "", Vec::new()));
    let t = Instant::now();
    for n in &news {
        let index = redress_app::intelligence::text_index(
            &insight,
            n.title.as_ref().map_or("", |t| t.as_str()),
            n.narrative.as_str(),
            n.request.as_str(),
            Vec::new(),
        );
        std::hint::black_box(index);
    }
    let read = t.elapsed();
    println!("\nCPU per complaint outside the database (one thread, {N} bodies):");
    println!("  parse + validate JSON: {:.1} µs", parse.as_secs_f64() * 1e6 / N as f64);
    println!("  classify:              {:.1} µs", classify.as_secs_f64() * 1e6 / N as f64);
    println!("  text reading + index:  {:.1} µs (segmentation, emotion, keywords, search tokens, fingerprint)", read.as_secs_f64() * 1e6 / N as f64);
}

// ---------------------------------------------------------------------------------------------
// Read.

async fn read(args: ReadArgs, rules: Arc<RuleBook>) -> anyhow::Result<()> {
    let db = match (&args.db, args.reuse) {
        (Some(url), true) => existing_db(url).await?,
        (url, _) => fresh_db(url.as_deref()).await?,
    };
    let engine = db.store.engine();
    println!("redress bench read");
    println!("  engine:   {engine} ({})", db.label);
    println!("  machine:  {} CPUs", std::thread::available_parallelism().map_or(0, |n| n.get()));
    let state = AppState::new(db.store.clone(), rules.clone(), Arc::new(SystemClock));
    // Names unique to this run, so a reused database does not refuse them.
    let run = uuid::Uuid::now_v7().simple().to_string();
    let (_, intake_user) = add_user(db.store.as_ref(), &format!("bench-intake-{}", &run[20..]), Role::IntakeAgent, None).await?;
    let (reader_token, reader) = add_user(db.store.as_ref(), &format!("bench-supervisor-{}", &run[20..]), Role::Supervisor, None).await?;
    let handlers = if args.reuse { 0 } else { add_handlers(db.store.as_ref(), &rules).await? };
    println!("  users:    {} (seeds), {} (reads), {handlers} handlers", intake_user.name, reader.name);
    let actor = Caller::new(intake_user.clone());

    let (ids, by_department, seed_rate) = if args.reuse {
        let (ids, by_department) = sample_existing(db.store.as_ref(), args.rng_seed).await?;
        println!("\nseeding nothing: {} complaints sampled from the existing database", ids.len());
        (ids, by_department, None)
    } else {
        let (ids, by_department, rate) = seed(&args, &db, &state, &rules, &actor).await?;
        (ids, by_department, Some(rate))
    };
    let count = db.store.count().await?;
    if let Some(bytes) = db.sqlite_bytes() {
        println!("  database: {:.0} MiB on disk ({:.1} KiB per complaint)", bytes as f64 / 1048576.0, bytes as f64 / 1024.0 / count.max(1) as f64);
    }
    if ids.is_empty() {
        bail!("nothing was seeded");
    }

    // Reads through the real server, one client.
    let server = start_server(state.clone()).await?;
    println!("\nreads: one client, {} timed requests of each kind after 100 untimed ones, on {} ({} complaints stored)", args.samples, server.base, count);
    println!("  (the deadline scheduler is not running, so nothing writes during the reads)");
    let http = http_client()?;
    let departments: Vec<String> = by_department.keys().cloned().collect();

    println!("  load average before the reads: {}", load_average());
    let pg_before = match &db.postgres {
        Some(p) => Some(p.snapshot().await),
        None => None,
    };
    let cpu = CpuMeter::start();
    let newest = timed_gets(&http, &reader_token, args.samples, |_| format!("{}/api/v1/complaints?limit=50", server.base), Expect::Items(50)).await?;
    println!("  GET /api/v1/complaints?limit=50                    {}", newest.line());

    let mut k = 0usize;
    let by_dept = timed_gets(
        &http,
        &reader_token,
        args.samples,
        |_| {
            k += 1;
            format!("{}/api/v1/complaints?limit=50&department={}", server.base, departments[k % departments.len()])
        },
        Expect::Items(50),
    )
    .await?;
    println!("  GET /api/v1/complaints?limit=50&department=D       {}   (D rotates over {})", by_dept.line(), departments.join(", "));

    let mut rng = StdRng::seed_from_u64(args.rng_seed ^ 0x5eed);
    let one = timed_gets(
        &http,
        &reader_token,
        args.samples,
        |_| format!("{}/api/v1/complaints/{}", server.base, ids.choose(&mut rng).expect("ids")),
        Expect::Complaint,
    )
    .await?;
    println!("  GET /api/v1/complaints/{{random seeded id}}          {}", one.line());

    let (one_word, two_words) = search_queries(args.rng_seed, &rules, 1_000);
    let search1 = timed_gets(
        &http,
        &reader_token,
        args.samples,
        |i| format!("{}/api/v1/search?q={}&limit=20", server.base, query_escape(&one_word[i % one_word.len()])),
        Expect::List,
    )
    .await?;
    println!("  GET /api/v1/search?q=WORD&limit=20                 {}", search1.line());
    let search2 = timed_gets(
        &http,
        &reader_token,
        args.samples,
        |i| format!("{}/api/v1/search?q={}&limit=20", server.base, query_escape(&two_words[i % two_words.len()])),
        Expect::List,
    )
    .await?;
    println!("  GET /api/v1/search?q=WORD+WORD&limit=20            {}", search2.line());
    println!("    (words drawn from generated complaints by how often they occur; e.g. {})", one_word.iter().take(6).cloned().collect::<Vec<_>>().join(" · "));
    let similar = timed_gets(
        &http,
        &reader_token,
        args.samples,
        |_| format!("{}/api/v1/complaints/{}/similar", server.base, ids.choose(&mut rng).expect("ids")),
        Expect::List,
    )
    .await?;
    println!("  GET /api/v1/complaints/{{random id}}/similar         {}", similar.line());
    println!("  CPU during the reads: {}", cpu.report());
    if let (Some(p), Some(before)) = (&db.postgres, &pg_before) {
        println!("                        {}", p.report(before, 0).await);
    }

    server.stop().await;
    let (hwm, rss) = memory();
    println!("\nmemory: peak resident {} (VmHWM), now {}", mib(hwm), mib(rss));
    println!("\nsummary ({engine}, {count} complaints):");
    if let Some(rate) = seed_rate {
        println!("  seed rate:            {rate:.0} complaints/s");
    }
    println!("  newest 50:            p50 {:.2} ms, p99 {:.2} ms", newest.latencies.pct(50.0), newest.latencies.pct(99.0));
    println!("  newest 50 by dept:    p50 {:.2} ms, p99 {:.2} ms", by_dept.latencies.pct(50.0), by_dept.latencies.pct(99.0));
    println!("  one by id:            p50 {:.2} ms, p99 {:.2} ms", one.latencies.pct(50.0), one.latencies.pct(99.0));
    println!("  search, one word:     p50 {:.2} ms, p99 {:.2} ms", search1.latencies.pct(50.0), search1.latencies.pct(99.0));
    println!("  search, two words:    p50 {:.2} ms, p99 {:.2} ms", search2.latencies.pct(50.0), search2.latencies.pct(99.0));
    println!("  similar complaints:   p50 {:.2} ms, p99 {:.2} ms", similar.latencies.pct(50.0), similar.latencies.pct(99.0));
    let failed = newest.failed + by_dept.failed + one.failed + search1.failed + search2.failed + similar.failed;
    println!("  failed reads:         {failed}");
    drop(ids);
    db.finish(args.keep).await?;
    Ok(())
}

/// Seeds `args.seed` complaints through the service layer, reporting rate, CPU and durability.
/// Returns the ids, the count per owner department and the rate.
async fn seed(
    args: &ReadArgs,
    db: &FreshDb,
    state: &AppState,
    rules: &RuleBook,
    actor: &Caller,
) -> anyhow::Result<(Vec<ComplaintId>, BTreeMap<String, u64>, f64)> {
    let engine = db.store.engine();
    let concurrency = args.concurrency.unwrap_or(if engine == "sqlite" { 1024 } else { 64 }).max(1);
    let mut generator = Generator::new(args.rng_seed, rules);
    let head_office = rules.org.head_office().code.clone();
    let now = jiff::Timestamp::now();
    let span = jiff::SignedDuration::from_hours(24 * i64::from(args.spread_days.max(1)));
    let oldest = now - span;
    let step_us = span.as_micros() as f64 / args.seed.max(1) as f64;
    let bar = if args.quiet { ProgressBar::hidden() } else { ProgressBar::new(args.seed as u64) };
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let plain_progress = bar.is_hidden() && !args.quiet;
    println!("\nseeding {} complaints ({} in flight, receipt times spread over {} days)…", args.seed, concurrency, args.spread_days);
    let mut ids: Vec<ComplaintId> = Vec::with_capacity(args.seed);
    let mut by_department: BTreeMap<String, u64> = BTreeMap::new();
    let mut failures = 0u64;
    let mut first_failures = Vec::new();
    let mut in_flight = JoinSet::new();
    let mut next = 0usize;
    let pg_before = match &db.postgres {
        Some(p) => Some(p.snapshot().await),
        None => None,
    };
    let cpu = CpuMeter::start();
    let t0 = Instant::now();
    let mut last_report = Instant::now();
    while next < args.seed || !in_flight.is_empty() {
        while next < args.seed && in_flight.len() < concurrency {
            let jitter = generator.rng.random_range(0.0..step_us);
            let received = oldest + jiff::SignedDuration::from_micros((next as f64 * step_us + jitter) as i64);
            let body = generator.complaint(Some(received));
            let wire: NewComplaintBody = serde_json::from_value(body).context("a generated body does not parse")?;
            let new = wire.into_domain(now, &head_office).map_err(|e| anyhow::anyhow!("a generated body is invalid: {e}"))?;
            let st = state.clone();
            let actor = actor.clone();
            in_flight.spawn(async move { redress_app::complaints::register(&st, &actor, new, None).await });
            next += 1;
        }
        let Some(done) = in_flight.join_next().await else { continue };
        match done {
            Ok(Ok(registered)) => {
                let c = registered.complaint();
                ids.push(c.id);
                *by_department.entry(c.owner.department.clone()).or_default() += 1;
            }
            Ok(Err(e)) => {
                failures += 1;
                if first_failures.len() < 5 {
                    first_failures.push(format!("{}: {}", e.code, e.message));
                }
            }
            Err(e) => {
                failures += 1;
                if first_failures.len() < 5 {
                    first_failures.push(e.to_string());
                }
            }
        }
        bar.inc(1);
        if plain_progress && last_report.elapsed() >= Duration::from_secs(30) {
            last_report = Instant::now();
            let done = ids.len() as u64 + failures;
            eprintln!("  … {done}/{} seeded, {:.0}/s", args.seed, done as f64 / t0.elapsed().as_secs_f64());
        }
    }
    let seed_time = t0.elapsed();
    bar.finish_and_clear();
    let seed_rate = ids.len() as f64 / seed_time.as_secs_f64();
    println!("  seeded {} complaints in {:.1} s: {seed_rate:.0} complaints/s; {failures} failures", ids.len(), seed_time.as_secs_f64());
    for f in &first_failures {
        println!("    {f}");
    }
    println!("  CPU: {}", cpu.report());
    if let (Some(p), Some(before)) = (&db.postgres, &pg_before) {
        println!("       {}", p.report(before, ids.len() as u64).await);
    }
    let count = db.store.count().await?;
    println!("  durability: the store holds {count} complaints; {} registrations returned Ok — {}", ids.len(), verdict(count, ids.len() as u64));
    println!(
        "  by owner department: {}",
        by_department.iter().map(|(d, n)| format!("{d} {n}")).collect::<Vec<_>>().join(", ")
    );
    Ok((ids, by_department, seed_rate))
}

/// About 2,000 complaints of an existing database, spread over its receipt times: pages of the
/// newest-first list that start at random moments between its oldest and newest complaint.
async fn sample_existing(store: &dyn Store, rng_seed: u64) -> anyhow::Result<(Vec<ComplaintId>, BTreeMap<String, u64>)> {
    use redress_store::ComplaintFilter;
    let newest = store.list(&ComplaintFilter { limit: 1, ..Default::default() }).await?;
    let Some(newest) = newest.items.first().map(|c| c.received_at) else { return Ok((Vec::new(), BTreeMap::new())) };
    let oldest = {
        // The oldest receipt time, found by halving the span while older complaints exist.
        let mut span = jiff::SignedDuration::from_hours(24 * 365 * 20);
        let mut oldest = newest;
        while span >= jiff::SignedDuration::from_hours(1) {
            let probe = oldest - span;
            let older = store.list(&ComplaintFilter { limit: 1, received_to: Some(oldest), received_from: Some(probe), ..Default::default() }).await?;
            if older.items.is_empty() {
                span /= 2;
            } else {
                oldest = probe;
            }
        }
        oldest
    };
    let mut rng = StdRng::seed_from_u64(rng_seed ^ 0x5a3e);
    let window = newest.duration_since(oldest).as_micros().max(1) as f64;
    let mut ids = Vec::new();
    let mut by_department: BTreeMap<String, u64> = BTreeMap::new();
    for _ in 0..40 {
        let at = oldest + jiff::SignedDuration::from_micros((rng.random_range(0.0..1.0) * window) as i64);
        let page = store.list(&ComplaintFilter { limit: 50, received_to: Some(at), ..Default::default() }).await?;
        for c in page.items {
            ids.push(c.id);
            *by_department.entry(c.department.clone()).or_default() += 1;
        }
    }
    ids.sort();
    ids.dedup();
    Ok((ids, by_department))
}

enum Expect {
    /// A list page with this many items.
    Items(usize),
    /// One complaint.
    Complaint,
    /// Any answer with an `items` array (search, similar).
    List,
}

struct ReadRun {
    latencies: Latencies,
    failed: u64,
}

impl ReadRun {
    fn line(&self) -> String {
        let mut s = self.latencies.line();
        if self.failed > 0 {
            s.push_str(&format!("  FAILED: {}", self.failed));
        }
        s
    }
}

/// Sends `100 + samples` GETs one after another and times the last `samples`. Each answer must
/// be 200; the first one's shape is checked.
async fn timed_gets(http: &reqwest::Client, token: &str, samples: usize, mut url: impl FnMut(usize) -> String, expect: Expect) -> anyhow::Result<ReadRun> {
    const WARMUP: usize = 100;
    let mut lat = Vec::with_capacity(samples);
    let mut failed = 0u64;
    for i in 0..WARMUP + samples {
        let u = url(i);
        let t = Instant::now();
        let res = http.get(&u).bearer_auth(token).send().await;
        let (ok, body) = match res {
            Ok(res) => {
                let status = res.status();
                match res.bytes().await {
                    Ok(b) => (status == reqwest::StatusCode::OK, Some(b)),
                    Err(_) => (false, None),
                }
            }
            Err(_) => (false, None),
        };
        let elapsed = t.elapsed();
        if i == 0 {
            let body = body.as_deref().unwrap_or_default();
            let v: Value = serde_json::from_slice(body).with_context(|| format!("GET {u}: not JSON: {}", String::from_utf8_lossy(body)))?;
            match expect {
                Expect::Items(n) => {
                    let items = v["items"].as_array().map_or(0, Vec::len);
                    if items != n {
                        println!("  note: GET {u} returned {items} items, not {n}");
                    }
                }
                Expect::Complaint => {
                    if v["id"].as_str().is_none() {
                        bail!("GET {u} did not return a complaint: {v}");
                    }
                }
                Expect::List => {
                    if v["items"].as_array().is_none() {
                        bail!("GET {u} did not return a list: {v}");
                    }
                }
            }
        }
        if i >= WARMUP {
            lat.push(micros(elapsed));
            if !ok {
                failed += 1;
            }
        }
    }
    Ok(ReadRun { latencies: Latencies::new(lat), failed })
}

/// Search queries a user might type: words of generated complaints (a word is picked as often as
/// it occurs, so common words dominate, as they do in real use), one word or two from the same
/// complaint.
fn search_queries(seed: u64, rules: &RuleBook, n: usize) -> (Vec<String>, Vec<String>) {
    queries_of_words(seed, rules, n, |w| w.chars().count() >= 2 && !w.chars().all(|c| c.is_ascii_digit()))
}

/// `n` one-word and `n` two-word queries from the words of generated complaints that `keep`
/// accepts; two words come from the same complaint.
pub fn queries_of_words(seed: u64, rules: &RuleBook, n: usize, keep: impl Fn(&str) -> bool) -> (Vec<String>, Vec<String>) {
    let mut generator = Generator::new(seed ^ 0x5ea4c4, rules);
    let mut rng = StdRng::seed_from_u64(seed ^ 0x9e37);
    let segmenter = redress_text::segmenter();
    let (mut one, mut two) = (Vec::with_capacity(n), Vec::with_capacity(n));
    while one.len() < n || two.len() < n {
        let body = generator.complaint(None);
        let words: Vec<String> = segmenter.words(body["narrative"].as_str().unwrap_or_default()).into_iter().filter(|w| keep(w)).collect();
        if words.len() < 2 {
            continue;
        }
        let a = words.choose(&mut rng).expect("words").clone();
        let b = words.choose(&mut rng).expect("words").clone();
        if one.len() < n {
            one.push(a.clone());
        }
        if two.len() < n && a != b {
            two.push(format!("{a} {b}"));
        }
    }
    (one, two)
}

/// Percent-encodes a query-string value.
pub(crate) fn query_escape(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

// ---------------------------------------------------------------------------------------------
// Realistic complaints.

/// Generates complaint bodies (`POST /api/v1/complaints`): Chinese and English narratives from
/// varied templates, distinct complainants with valid phone and resident-ID numbers, the units
/// of the organisation, decimal-string amounts.
pub(crate) struct Generator {
    pub(crate) rng: StdRng,
    /// Identifies this run in idempotency keys and work-order numbers.
    run: String,
    units: Vec<String>,
    /// Complainants generated so far; each gets distinct phone and ID numbers from it.
    index: u64,
    generated: u64,
    chinese: u64,
    narrative_chars: u64,
}

const UNITS: [&str; 4] = ["HO", "SH", "SH-PD", "GZ"];

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "罗", "高", "郑", "梁", "谢", "宋", "唐", "欧阳",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀兰", "霞", "平", "刚", "桂英", "建华",
    "志强", "海燕", "晓东", "子涵", "雨欣", "浩然", "文博", "佳怡", "国庆", "淑芬",
];
const FIRST_EN: &[&str] =
    &["James", "Mary", "Wei", "Emily", "Daniel", "Olivia", "Michael", "Sophie", "David", "Grace", "Hannah", "Thomas", "Mei", "Robert", "Anna"];
const LAST_EN: &[&str] = &["Smith", "Brown", "Chen", "Wilson", "Taylor", "Li", "Johnson", "Walker", "Wright", "Zhang", "Evans", "Wang", "Clarke"];
const MOBILE_PREFIXES: &[&str] = &[
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "156", "157", "158", "159", "166", "176", "177",
    "180", "181", "182", "186", "187", "188", "189", "198", "199",
];
/// Region codes of resident IDs (Beijing Chaoyang, Shanghai Pudong, Shanghai Xuhui, Guangzhou
/// Tianhe, Shenzhen Futian, Hangzhou Xihu, Chengdu Wuhou, Nanjing Gulou).
const ID_REGIONS: &[&str] = &["110105", "310115", "310104", "440106", "440304", "330106", "510107", "320106"];
const PLACES: &[&str] = &["上海市浦东新区", "广州市天河区", "北京市朝阳区", "深圳市福田区", "杭州市西湖区", "一家境外网站", "某电商平台", "澳门"];
const PLACES_EN: &[&str] = &["Lujiazui", "Tianhe Road", "the airport", "Nanjing Road", "Zhujiang New Town", "a shopping mall in Pudong"];
const BRANCHES: &[&str] = &["陆家嘴支行", "浦东支行", "天河支行", "总行营业部", "徐汇支行", "越秀支行"];
const MONTHS_EN: &[&str] = &["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

/// Sentences that lengthen a Chinese narrative, in any order.
const DETAILS_ZH: &[&str] = &[
    "我前后打了{calls}次客服电话，每次都说已经记录、让我等通知。",
    "网点工作人员态度很差，说这件事不归他们管，让我自己去找总行。",
    "我今年{age}岁了，不太会用手机银行，希望能有人当面给我解释清楚。",
    "我已经保留了通话录音、短信截图和银行流水，可以随时提供。",
    "当时接待我的工作人员工号是{staff}，她承诺三个工作日内回复，但一直没有兑现。",
    "这件事严重影响了我的个人征信，我现在申请房贷都被拒了。",
    "我多次去网点要求查看监控和交易凭证，都被以内部规定为由拒绝。",
    "客服给我的工单号是{ticket}，但每次打过去都说查不到处理进度。",
    "我家里还有老人和孩子要照顾，这笔钱对我来说非常重要。",
    "我不明白为什么银行的风控系统没有拦截这种明显异常的交易。",
    "我要求银行出具书面的调查结果，并说明依据。",
    "之前在{year}年也出现过类似的问题，当时也是拖了很久才解决。",
    "我认为银行在这件事上存在明显过错，应当承担相应的责任。",
    "上周我又去了一趟{branch}，大堂经理让我填了一张表就让我回去等。",
    "我在贵行开户已经{years}年了，一直是老客户，这次的处理让我非常失望。",
    "我在网上也看到很多人反映同样的问题，说明这不是个别现象。",
    "对方在电话里暗示如果我继续追究，以后可能会影响我在贵行办理业务。",
    "希望贵行能够调取相关的通话录音和业务记录，还原事情的经过。",
    "客服人员说要等第三方机构回复，但一直没有告诉我具体要等多久。",
    "为了这件事我已经请了{calls}天假，误工损失也不小。",
];
const DETAILS_EN: &[&str] = &[
    "I have called customer service {calls} times and every time I am told someone will call me back.",
    "The staff at the branch were dismissive and told me it was not their department.",
    "I am {age} years old and not comfortable with the app, so I need someone to explain this to me properly.",
    "I have kept the text messages, call records and my bank statements and can provide them.",
    "The agent I spoke to, staff number {staff}, promised a reply within three working days, which never came.",
    "This has damaged my credit record and my mortgage application was declined.",
    "My reference number is {ticket}, but nobody can tell me what is happening with it.",
    "I do not understand why your fraud systems did not stop such obviously unusual transactions.",
    "I would like a written explanation of your investigation and the reasons for your decision.",
    "I have been a customer for {years} years and I am very disappointed with how this has been handled.",
    "Other customers online report exactly the same problem, so this is clearly not an isolated case.",
];
const RISK_ZH: &[&str] = &[
    "如果再不解决，我就打12378热线投诉。",
    "我已经准备投诉到银保监会，并向人民银行反映。",
    "我会联系媒体曝光你们的做法。",
    "我已经咨询了律师，准备向法院起诉。",
    "再拖下去我就去金融监管局信访。",
];
const RISK_EN: &[&str] = &[
    "If this is not resolved I will take it to the regulator (12378) and instruct a lawyer.",
    "I have already spoken to a journalist about how I have been treated.",
    "I am prepared to go to court over this and have consulted a lawyer.",
];
const CLOSINGS_ZH: &[&str] = &["请尽快给我一个答复。", "希望贵行认真核实，尽快处理。", "请给我一个合理的解释和解决方案。", ""];
const CLOSINGS_EN: &[&str] = &["Please deal with this urgently.", "I expect a full refund and an apology.", ""];

/// A complaint scenario: product, narrative core, request, whether an amount is in dispute.
struct Scenario {
    product: &'static str,
    core: &'static str,
    requests: &'static [&'static str],
    title: &'static str,
}

const SCENARIOS_ZH: &[Scenario] = &[
    Scenario {
        product: "信用卡",
        core: "我的尾号{card4}的信用卡于{date}晚上在{place}被盗刷了{n}笔，共计{amount}元。当时卡片一直在我身边，我也没有收到过任何验证码。发现后我立即致电客服挂失，客服说会提交调查，但{days}天过去了还是没有任何进展，账单却已经出来了，要求我按期还款。",
        requests: &["退还被盗刷的{amount}元并赔偿损失", "撤销盗刷交易，不要影响我的征信", "要求银行承担盗刷损失{amount}元"],
        title: "信用卡被盗刷",
    },
    Scenario {
        product: "个人消费贷款",
        core: "我在贵行办理的个人消费贷款因为收入下降逾期了{months}个月，欠款约{amount}元。最近催收人员每天打电话{calls}次以上，还给我的父母、同事和单位领导打电话，说要上门，言语中带有威胁。我愿意协商分期还款，但对方拒绝沟通，只让我一次性还清。",
        requests: &["停止暴力催收，协商分期还款方案", "要求停止骚扰我的家人和同事", "要求调查催收人员的违规行为并道歉"],
        title: "贷款催收骚扰",
    },
    Scenario {
        product: "理财产品",
        core: "{year}年{month}月我在{branch}柜台办理定期存款时，理财经理向我推荐一款理财产品，说是保本保息、年化收益{rate}%，比定期存款划算。我当时{age}岁，没有做风险评估，也没有录音录像。现在产品亏损了{amount}元，我才知道这是中高风险的非保本产品。",
        requests: &["要求全额赔偿本金损失{amount}元", "要求撤销购买合同并退还本金", "要求核查销售过程是否合规"],
        title: "理财产品误导销售",
    },
    Scenario {
        product: "借记卡",
        core: "{date}我在{place}的ATM机上取款{amount}元，机器显示交易成功，但实际一分钱都没有吐出来，账户却被扣了{amount}元。我当场拨打了机器上贴的客服电话，对方说要等清机核对。已经过去{days}天了，网点说账款相符，不给退款。",
        requests: &["退还ATM多扣的{amount}元", "要求调取ATM监控和清机记录"],
        title: "ATM取款未出钞",
    },
    Scenario {
        product: "手机银行",
        core: "{date}上午手机银行APP一直无法登录，提示系统繁忙。我转账{amount}元给房东，页面显示处理中，钱被扣了但对方一直没有收到。因为这笔钱没有按时到账，我被收了违约金。打客服电话排队{mins}分钟都没人接，在线客服只会发固定回复。",
        requests: &["尽快退回或到账{amount}元并赔偿违约金", "要求说明系统故障原因并赔偿损失"],
        title: "手机银行转账失败",
    },
    Scenario {
        product: "借记卡",
        core: "我的借记卡账户每个季度都被扣小额账户管理费，另外还有短信通知费和年费，开户时从来没有人告诉我会收这些费用。我查了流水，过去{years}年一共被扣了{amount}元。按照规定银行应该提前告知，我要求退还。",
        requests: &["退还不合理收取的费用{amount}元", "要求免除账户管理费并退还已扣费用"],
        title: "账户乱收费",
    },
    Scenario {
        product: "代销保险",
        core: "{year}年我在贵行网点存钱时，经工作人员推荐买了一份保险，每年缴费{premium}元，当时说是和存款一样的理财。今年{month}月我住院花了{amount}元，申请理赔被保险公司以既往症为由拒绝。当初销售时工作人员没有说明这是保险，也没有让我做健康告知。",
        requests: &["要求银行协助理赔{amount}元", "要求退保并全额退还已交保费", "要求追究销售人员误导责任"],
        title: "代销保险理赔纠纷",
    },
];

const SCENARIOS_EN: &[Scenario] = &[
    Scenario {
        product: "Credit card",
        core: "On {date_en} I noticed {n} unauthorised transactions on my credit card ending in {card4}, totalling {amount} yuan. The card was with me the whole time and I never shared my PIN or any verification code. I reported it the same evening and was told a dispute had been opened, but {days} days later nobody has contacted me and I am being asked to pay the statement.",
        requests: &["Refund the {amount} yuan of fraudulent charges", "Reverse the unauthorised transactions and correct my credit record"],
        title: "Unauthorised card transactions",
    },
    Scenario {
        product: "Personal loan",
        core: "My personal loan has been {months} months past due since I lost my job. The collectors call me {calls} times a day, have contacted my employer and my parents, and have threatened to come to my home. I offered a repayment plan in writing and received no answer.",
        requests: &["Stop the harassment and agree an instalment plan", "Investigate the collectors' conduct"],
        title: "Debt collection harassment",
    },
    Scenario {
        product: "Wealth management product",
        core: "In {month_en} {year} a relationship manager at the {branch_en} branch sold my mother, then {age}, a wealth management product described as capital-guaranteed with a {rate}% return. It was in fact a higher-risk product and has lost {amount} yuan. No risk assessment was done and the sale was not recorded.",
        requests: &["Compensate the {amount} yuan lost", "Cancel the purchase and return the principal"],
        title: "Mis-sold wealth management product",
    },
    Scenario {
        product: "Debit card",
        core: "The ATM at {place_en} debited {amount} yuan from my account on {date_en} but did not dispense any cash. I called the number on the machine at once. The branch now says the machine balanced and refuses to refund me.",
        requests: &["Refund the {amount} yuan debited by the ATM"],
        title: "ATM debit without cash",
    },
    Scenario {
        product: "Mobile banking",
        core: "The mobile banking app was unavailable for most of {date_en}. A transfer of {amount} yuan was taken from my account but never arrived, and I was charged a late fee on my rent as a result. I waited {mins} minutes on the phone without reaching anyone.",
        requests: &["Return or deliver the {amount} yuan and cover the late fee"],
        title: "App outage, transfer lost",
    },
    Scenario {
        product: "Debit card",
        core: "I have been charged account management and SMS fees every quarter on an account I was told was free. Over {years} years this adds up to {amount} yuan, and the fees were never explained to me when I opened the account.",
        requests: &["Refund the {amount} yuan of fees"],
        title: "Undisclosed account fees",
    },
    Scenario {
        product: "Insurance sold by the bank",
        core: "In {year} I bought a critical illness policy at your branch after being told it was a savings product, paying {premium} yuan a year. My claim for {amount} yuan of hospital costs was rejected for a pre-existing condition that nobody asked me about when I signed.",
        requests: &["Help me recover the {amount} yuan claim", "Cancel the policy and refund all premiums"],
        title: "Insurance claim refused",
    },
];

impl Generator {
    pub(crate) fn new(seed: u64, rules: &RuleBook) -> Generator {
        let mut units: Vec<String> = UNITS.iter().filter(|u| rules.org.unit(u).is_some()).map(|u| u.to_string()).collect();
        if units.is_empty() {
            units = rules.org.units().iter().map(|u| u.code.clone()).collect();
        }
        Generator {
            rng: StdRng::seed_from_u64(seed),
            run: uuid::Uuid::now_v7().simple().to_string()[..12].to_string(),
            units,
            index: 0,
            generated: 0,
            chinese: 0,
            narrative_chars: 0,
        }
    }

    /// A distinct Chinese mobile number for complainant `i`.
    fn phone(&mut self, i: u64) -> String {
        let prefix = MOBILE_PREFIXES.choose(&mut self.rng).expect("prefixes");
        // 7919 is prime to 10^8, so the suffixes of the first 10^8 complainants differ.
        format!("{prefix}{:08}", (i.wrapping_mul(7919) + 31_415_926) % 100_000_000)
    }

    /// A distinct 18-digit resident ID with a valid check digit for complainant `i`.
    fn resident_id(&mut self, i: u64) -> String {
        let region = ID_REGIONS.choose(&mut self.rng).expect("regions");
        let born = jiff::civil::date(1945, 1, 1) + jiff::Span::new().days((i % 21_000) as i64);
        let serial = (i / 21_000) % 1000;
        let first17 = format!("{region}{}{serial:03}", born.strftime("%Y%m%d"));
        const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
        const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
        let sum: u32 = first17.chars().zip(WEIGHTS).map(|(c, w)| c.to_digit(10).unwrap_or(0) * w).sum();
        format!("{first17}{}", CHECK[(sum % 11) as usize])
    }

    /// An amount in yuan and fen, skewed towards small sums.
    fn amount(&mut self) -> (u64, u32) {
        let scale = [200u64, 2_000, 20_000, 200_000].choose(&mut self.rng).copied().unwrap_or(2_000);
        let yuan = self.rng.random_range(50..scale.max(51));
        let fen = if self.rng.random_bool(0.4) { self.rng.random_range(0..100) } else { 0 };
        (yuan, fen)
    }

    fn fill(&mut self, template: &str, amount: &str, english: bool) -> String {
        let mut out = template.to_string();
        let r = &mut self.rng;
        let month = r.random_range(1..=12u32);
        let day = r.random_range(1..=28u32);
        let pairs: Vec<(&str, String)> = vec![
            ("{amount}", amount.to_string()),
            ("{card4}", format!("{:04}", r.random_range(0..10_000))),
            ("{date}", format!("{month}月{day}日")),
            ("{date_en}", format!("{} {day}", MONTHS_EN[(month - 1) as usize])),
            ("{place}", PLACES.choose(r).expect("places").to_string()),
            ("{place_en}", PLACES_EN.choose(r).expect("places").to_string()),
            ("{branch}", BRANCHES.choose(r).expect("branches").to_string()),
            ("{branch_en}", ["Pudong", "Tianhe", "Xuhui", "Head Office"].choose(r).expect("branches").to_string()),
            ("{n}", r.random_range(2..=9u32).to_string()),
            ("{days}", r.random_range(3..=45u32).to_string()),
            ("{months}", r.random_range(1..=8u32).to_string()),
            ("{calls}", r.random_range(3..=12u32).to_string()),
            ("{year}", r.random_range(2018..=2025u32).to_string()),
            ("{month}", month.to_string()),
            ("{month_en}", MONTHS_EN[(month - 1) as usize].to_string()),
            ("{rate}", format!("{}.{}", r.random_range(3..=6u32), r.random_range(0..10u32))),
            ("{age}", r.random_range(58..=82u32).to_string()),
            ("{mins}", r.random_range(20..=90u32).to_string()),
            ("{years}", r.random_range(2..=15u32).to_string()),
            ("{premium}", (r.random_range(3..=30u32) * 1000).to_string()),
            ("{staff}", format!("{:04}", r.random_range(0..10_000))),
            ("{ticket}", format!("{}{:08}", if english { "REF" } else { "KF" }, r.random_range(0..100_000_000u32))),
        ];
        for (k, v) in pairs {
            if out.contains(k) {
                out = out.replace(k, &v);
            }
        }
        out
    }

    /// One complaint body. `received_at` backdates it (seeding); otherwise it is received now.
    pub(crate) fn complaint(&mut self, received_at: Option<jiff::Timestamp>) -> Value {
        let i = self.index;
        self.index += 1;
        self.generated += 1;
        let english = self.rng.random_bool(0.25);
        let scenarios = if english { SCENARIOS_EN } else { SCENARIOS_ZH };
        let scenario = scenarios.choose(&mut self.rng).expect("scenarios");
        let (yuan, fen) = self.amount();
        let amount_text = if fen == 0 { format!("{yuan}") } else { format!("{yuan}.{fen:02}") };
        let amount_decimal = format!("{yuan}.{fen:02}");

        // Narrative: the scenario, then details in random order up to a target length, then
        // sometimes a risk phrase, then a closing.
        let target = 100 + ((self.rng.random_range(0..=480u32) + self.rng.random_range(0..=480u32)) / 2) as usize;
        let mut narrative = self.fill(scenario.core, &amount_text, english);
        let mut details: Vec<&str> = if english { DETAILS_EN.to_vec() } else { DETAILS_ZH.to_vec() };
        details.shuffle(&mut self.rng);
        let risk = if self.rng.random_bool(0.2) {
            Some((if english { RISK_EN } else { RISK_ZH }).choose(&mut self.rng).expect("risk").to_string())
        } else {
            None
        };
        let closing = (if english { CLOSINGS_EN } else { CLOSINGS_ZH }).choose(&mut self.rng).expect("closings").to_string();
        let reserve = risk.as_ref().map_or(0, |r| r.chars().count() + 1) + closing.chars().count() + 1;
        for d in details {
            let len = narrative.chars().count();
            if len + reserve >= target {
                break;
            }
            let d = self.fill(d, &amount_text, english);
            if len + d.chars().count() + reserve + 1 > 600 {
                break;
            }
            if english {
                narrative.push(' ');
            }
            narrative.push_str(&d);
        }
        for tail in [risk.as_deref(), Some(closing.as_str())].into_iter().flatten().filter(|t| !t.is_empty()) {
            if english {
                narrative.push(' ');
            }
            narrative.push_str(tail);
        }
        let request_template = *scenario.requests.choose(&mut self.rng).expect("requests");
        let request = self.fill(request_template, &amount_text, english);
        self.narrative_chars += narrative.chars().count() as u64;
        if !english {
            self.chinese += 1;
        }

        let name = if english {
            format!("{} {}", FIRST_EN.choose(&mut self.rng).expect("names"), LAST_EN.choose(&mut self.rng).expect("names"))
        } else {
            format!("{}{}", SURNAMES.choose(&mut self.rng).expect("names"), GIVEN.choose(&mut self.rng).expect("names"))
        };
        let mut complainant = json!({ "name": name, "phone": self.phone(i) });
        if !english && self.rng.random_bool(0.45) {
            complainant["id_number"] = json!(self.resident_id(i));
        }
        if english {
            complainant["language"] = json!("en");
            if self.rng.random_bool(0.5) {
                complainant["email"] = json!(format!("customer{i}@example.com"));
            }
        }
        let customer_type = match self.rng.random_range(0..100) {
            0..=74 => "individual",
            75..=86 => "elderly",
            87..=93 => "small_business",
            94..=97 => "vip",
            _ => "vulnerable",
        };
        complainant["customer_type"] = json!(customer_type);

        let unit = self.units.choose(&mut self.rng).expect("units").clone();
        let channel = *["hotline", "hotline", "hotline", "app", "web", "branch", "email", "letter", "social_media", "regulator"]
            .choose(&mut self.rng)
            .expect("channels");
        let mut respondent = json!({ "unit": unit });
        if self.rng.random_bool(0.3) {
            respondent["staff"] = json!([format!("{} {:04}", if english { "staff" } else { "工号" }, self.rng.random_range(0..10_000))]);
        }
        let mut body = json!({
            "channel": channel,
            "complainant": complainant,
            "respondent": respondent,
            "request": request,
            "narrative": narrative,
        });
        if channel == "regulator" {
            let regulator = if english { "NFRA" } else { "国家金融监督管理总局" };
            body["regulator_order"] = json!({ "regulator": regulator, "order_number": format!("JG-{}-{i:08}", self.run) });
        }
        if self.rng.random_bool(0.85) {
            body["product"] = json!(scenario.product);
        }
        if self.rng.random_bool(0.75) {
            body["amount"] = json!({ "amount": amount_decimal, "currency": "CNY" });
        }
        if self.rng.random_bool(0.3) {
            body["title"] = json!(scenario.title);
        }
        if let Some(at) = received_at {
            body["received_at"] = json!(at.to_string());
        }
        body
    }
}
