//! `redress bench analytics`: the analyses, scorecards, hotspots and regulator reports on a
//! large database, through the real server, as a supervisor.
//!
//! Loading is `bench pages`'s loader (`bench_pages::load`): generated complaints registered
//! through the store's group commit, each lived up to the present with the domain's actions, and
//! each registration and save writing its statistics cells (`redress_analytics::cells_of`) in
//! the same transaction, as the product does. The server then runs in-process with the same
//! router as `redress serve`, and one client times the analysis API with a supervisor's API token
//! and the analysis pages with the same supervisor signed in through the sign-in form.
//!
//! The analyses read only the cells, so their cost should follow days × groups and not the
//! number of complaints: the bench prints how many cells the table holds and how many a question
//! reads, and `--save` / `--baseline` compare two runs (say 100,000 and 1,000,000 complaints).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use jiff::ToSpan;
use jiff::civil::Date;
use redress_analytics::cells::day_number;
use redress_app::{App as AppState, Caller};
use redress_domain::classify::Dimension;
use redress_domain::clock::SystemClock;
use redress_domain::org::Role;
use redress_domain::rulebook::RuleBook;
use redress_store::stats::Measure;
use redress_store::{StatColumn, StatQuery, Store};
use serde_json::{Value, json};

use crate::bench::{CpuMeter, FreshDb, Latencies, add_user, existing_db, fresh_db, load_average, memory, mib, micros, query_escape, start_server};
use crate::bench_pages::{Browser, PASSWORD, PagesArgs};

/// Options of `bench analytics`.
#[derive(Args)]
pub struct AnalyticsArgs {
    /// Database to benchmark. Omitted: a new SQLite file in a temporary directory.
    /// `postgres://USER@HOST:PORT/DB`: a new schema `bench_<uuid>` in that database, so no
    /// existing data is read or touched. `sqlite://PATH`: a new file at PATH (refused if it
    /// exists). The temporary file or schema is removed afterwards unless --keep is given.
    #[arg(long, value_name = "URL")]
    pub db: Option<String>,
    /// Complaints to load before measuring (as `bench pages` loads them: lived up to now, with
    /// their statistics cells).
    #[arg(long, default_value_t = 1_000_000, value_name = "N")]
    pub complaints: usize,
    /// Days back over which the complaints' receipt times are spread, oldest first. At a fixed
    /// spread, ten times the complaints means ten times the complaints per day.
    #[arg(long, default_value_t = 365, value_name = "DAYS")]
    pub spread_days: u32,
    /// Timed requests of each kind, one after another from one client.
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub samples: usize,
    /// Untimed requests of each kind before its timed ones.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub warmup: usize,
    /// Open complaints per handler the loader's staffing aims at (as in `bench pages`).
    #[arg(long, default_value_t = 1_000, value_name = "N")]
    pub queue: usize,
    /// Registrations in flight while loading (default: 1024 on SQLite, 64 on PostgreSQL).
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Most seconds spent timing one kind of request: a slower one stops early and reports the
    /// requests it got through (at least 5).
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    pub budget: u64,
    /// Seed of the generators, so runs are repeatable.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub rng_seed: u64,
    /// Hide the progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Keep the temporary database (its location is printed) instead of removing it.
    #[arg(long)]
    pub keep: bool,
    /// Load nothing: time the analyses on the SQLite file given by --db as it is (one kept by an
    /// earlier run of `bench analytics --keep` or `bench pages --keep`). The file is left in
    /// place.
    #[arg(long, requires = "db", conflicts_with = "keep")]
    pub reuse: bool,
    /// Also write the figures as JSON to FILE, for a later run's --baseline.
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,
    /// Compare with the figures an earlier run wrote with --save (for example at a tenth of the
    /// complaints): prints each request's p50 now, then and the growth.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
}

/// The goal of the issue for an analysis page or request: p50 under this many milliseconds.
const GOAL_PAGE_MS: f64 = 100.0;
/// The goal for a regulator report: under this many milliseconds.
const GOAL_REPORT_MS: f64 = 2_000.0;
/// The goal for the growth of a request's p50 from 100,000 to 1,000,000 complaints.
const GOAL_GROWTH: f64 = 1.5;
/// Timed calls of each question in "where the time goes".
const BREAKDOWN_SAMPLES: usize = 20;

/// The (measure, period) of each of the questions `redress_app::analytics::analyse` asks, in
/// its order: `P` the period, `B` the period before, `Y` a year before. Used only to count the
/// cells an analysis reads (a figure printed for the reader), not to answer anything.
const ANALYSIS_QUESTIONS: &[(Measure, char)] = &[
    (Measure::Received, 'P'),
    (Measure::Received, 'B'),
    (Measure::Received, 'Y'),
    (Measure::Received, 'P'),
    (Measure::ReceivedHour, 'P'),
    (Measure::RespondentUnit, 'P'),
    (Measure::Received, 'P'),
    (Measure::Closed, 'P'),
    (Measure::ComplainantType, 'P'),
    (Measure::Agent, 'P'),
    (Measure::RespondentStaff, 'P'),
    (Measure::Received, 'P'),
    (Measure::Received, 'B'),
    (Measure::Received, 'P'),
    (Measure::Received, 'B'),
    (Measure::Received, 'P'),
    (Measure::Received, 'P'),
    (Measure::Received, 'P'),
    (Measure::DisputedBand, 'P'),
    (Measure::Disputed, 'P'),
    (Measure::Closed, 'P'),
    (Measure::Resolution, 'P'),
    (Measure::Redress, 'P'),
    (Measure::Upheld, 'P'),
    (Measure::ClosedOnTime, 'P'),
    (Measure::Emotion, 'P'),
    (Measure::Emotion, 'B'),
    (Measure::Intensity, 'P'),
    (Measure::RiskFlag, 'P'),
    (Measure::RiskFlag, 'B'),
];

/// Days `[from, to]`, both included, as the analyses take them.
#[derive(Debug, Clone, Copy)]
struct Days {
    from: Date,
    to: Date,
}

impl Days {
    /// The `n` days ending `to`.
    fn ending(to: Date, n: i64) -> Days {
        Days { from: to.checked_sub((n - 1).days()).unwrap_or(to), to }
    }

    fn count(&self) -> i64 {
        i64::from(day_number(self.to) - day_number(self.from) + 1)
    }

    /// The same number of days just before.
    fn before(&self) -> Days {
        let to = self.from.yesterday().unwrap_or(self.from);
        Days::ending(to, self.count())
    }

    /// The same days a year before (as `Period::year_before`: a year back from each end).
    fn year_before(&self) -> Days {
        let back = |d: Date| d.checked_sub(1.year()).unwrap_or(d);
        Days { from: back(self.from), to: back(self.to) }
    }

    /// Day numbers, end exclusive, as the store's questions take them.
    fn range(&self) -> (i32, i32) {
        (day_number(self.from), day_number(self.to) + 1)
    }

    fn query(&self, measure: Measure) -> StatQuery {
        let (from, to) = self.range();
        StatQuery::new(measure, from, to)
    }

    fn params(&self) -> String {
        format!("from={}&to={}", self.from, self.to)
    }
}

/// Runs `bench analytics`.
pub async fn run(args: AnalyticsArgs, rules: Arc<RuleBook>) -> anyhow::Result<()> {
    let db = match (&args.db, args.reuse) {
        (Some(url), true) => existing_db(url).await?,
        (url, _) => fresh_db(url.as_deref()).await?,
    };
    let engine = db.store.engine();
    println!("redress bench analytics");
    println!("  engine:   {engine} ({})", db.label);
    println!("  machine:  {} CPUs, load average {}", std::thread::available_parallelism().map_or(0, |n| n.get()), load_average());
    let state = AppState::new(db.store.clone(), rules.clone(), Arc::new(SystemClock));

    let load_seconds = if args.reuse {
        println!("\nloading nothing: the existing database as it is");
        None
    } else {
        // The pages' loader, with this command's options.
        let pages = PagesArgs {
            db: args.db.clone(),
            complaints: args.complaints,
            samples: 0,
            warmup: 0,
            queue: args.queue,
            spread_days: args.spread_days,
            concurrency: args.concurrency,
            page_budget: 0,
            handler: None,
            rng_seed: args.rng_seed,
            quiet: args.quiet,
            keep: args.keep,
            reuse: false,
        };
        let t = Instant::now();
        crate::bench_pages::load(&pages, &db, &state, &rules).await?;
        Some(t.elapsed().as_secs_f64())
    };
    let count = db.store.count().await?;
    let db_bytes = database_bytes(&db).await;
    println!("  database: {} complaints, {} on disk{}", count, mib(db_bytes), db_bytes.map_or(String::new(), |b| format!(" ({:.1} KiB per complaint)", b as f64 / 1024.0 / count.max(1) as f64)));
    let (hwm_load, _) = memory();

    // The periods asked about.
    let today = redress_app::analytics::today(&state);
    let last30 = Days::ending(today, 30);
    let last91 = Days::ending(today, 91);
    let store = db.store.as_ref();
    let quarter = last_quarter_with_data(store, today).await?;
    let half = last_half_with_data(store, today).await?;
    let (unit, business_type) = busiest_unit_and_business_type(store, &rules, last30).await?;
    println!(
        "\nperiods (today is {today} in the default profile's time zone): last 30 days {} – {}, last quarter {} – {}; report quarter {}Q{} ({} – {}); FCA half {}H{} ({} – {})",
        last30.from, last30.to, last91.from, last91.to, quarter.0, quarter.1, quarter.2.from, quarter.2.to, half.0, half.1, half.2.from, half.2.to
    );
    println!("  filter: unit {unit} and business type {business_type} (the unit other than the head office and the top-level business type with most complaints in the last 30 days)");

    // The statistics: how many cells there are and how many a question reads.
    let mut sql = Sql::open(&db).await?;
    let cells = cell_figures(&mut sql, last30, last91, quarter.2, half.2).await?;
    cells.print();

    // The supervisor: an API token, and a password to sign in through the form.
    let suffix = uuid::Uuid::now_v7().simple().to_string();
    let (token, supervisor) = add_user(store, &format!("bench-supervisor-{}", &suffix[20..]), Role::Supervisor, None).await?;
    let hash = redress_app::users::hash_password(PASSWORD).map_err(|e| anyhow::anyhow!("hashing the password: {}", e.message))?;
    store.set_password_hash(&supervisor.id, &hash).await?;
    let caller = Caller::new(supervisor.clone());

    let server = start_server(state.clone()).await?;
    println!("\nserver:   {} (the same router as `redress serve`; the deadline scheduler is not running, so nothing writes)", server.base);
    let browser = Browser::sign_in(&server.base, &supervisor.name).await?;
    println!("  supervisor {}: API token, and signed in through POST /sign-in (session cookie {}…)", supervisor.name, &browser.session[..8.min(browser.session.len())]);

    let filtered = format!("{}&unit={}&business_type={}", last30.params(), query_escape(&unit), query_escape(&business_type));
    let requests = vec![
        Request::api("analysis, last 30 days", format!("/api/v1/analysis?{}", last30.params()), Goal::Page),
        Request::api("analysis, last quarter (91 days)", format!("/api/v1/analysis?{}", last91.params()), Goal::Page),
        Request::api("analysis, 30 days, one unit + business type", format!("/api/v1/analysis?{filtered}"), Goal::Page),
        Request::api("scorecards, handlers, 30 days", format!("/api/v1/scorecards?level=handler&{}", last30.params()), Goal::Page),
        Request::api("scorecards, departments, quarter", format!("/api/v1/scorecards?level=department&{}", last91.params()), Goal::Page),
        Request::api("hotspots (week ending today)", "/api/v1/hotspots".to_string(), Goal::Page),
        Request::api("quarterly report", format!("/api/v1/reports/quarterly?year={}&quarter={}", quarter.0, quarter.1), Goal::Report),
        Request::api("FCA return (half year)", format!("/api/v1/reports/fca?year={}&half={}", half.0, half.1), Goal::Report),
        Request::page("page /analysis, 30 days", format!("/analysis?{}", last30.params()), Expect::Html, Goal::Page),
        Request::page("page /scorecards, 30 days", format!("/scorecards?{}", last30.params()), Expect::Html, Goal::Page),
        Request::page("download /analysis.xlsx, quarter", format!("/analysis.xlsx?{}", last91.params()), Expect::Xlsx, Goal::Page),
    ];

    let http = reqwest::Client::builder().pool_max_idle_per_host(1).tcp_nodelay(true).redirect(reqwest::redirect::Policy::none()).timeout(Duration::from_secs(900)).build()?;
    let client = Client { http, base: server.base.clone(), token, session: browser.session.clone() };
    let budget = Duration::from_secs(args.budget.max(1));
    println!("\nrequests: one client, one keep-alive connection, {} timed requests of each after {} untimed ones", args.samples, args.warmup);
    println!("  wall time from sending the request to the last byte; peak RSS = the process's VmHWM, reset before each kind of request");
    println!("  load average before the requests: {}", load_average());
    let cpu = CpuMeter::start();
    let mut runs = Vec::new();
    for r in &requests {
        let run = client.timed(r, args.warmup, args.samples, budget).await?;
        run.print();
        runs.push(run);
    }
    println!("  CPU during the requests: {}", cpu.report());

    // Where the time goes: the use case without HTTP, and single questions with the cells they read.
    println!("\nwhere the time goes: called directly in this process, {BREAKDOWN_SAMPLES} times each after 3 untimed calls");
    let params = redress_app::analytics::AnalysisParams { from: Some(last30.from.to_string()), to: Some(last30.to.to_string()), ..Default::default() };
    let analyse = time_calls(BREAKDOWN_SAMPLES, || async {
        redress_app::analytics::analyse(&state, &caller, &params).await.map(|_| ()).map_err(|e| anyhow::anyhow!("{}: {}", e.code, e.message))
    })
    .await?;
    println!("  {:<58} {}", "analytics::analyse, last 30 days (30 questions)", analyse.line());
    let questions = breakdown_questions(last30, last91, half.2, &rules, &unit, &business_type);
    for (name, q) in &questions {
        let lat = time_calls(BREAKDOWN_SAMPLES, || async { store.stat_rows(q).await.map(|_| ()).map_err(Into::into) }).await?;
        let rows = store.stat_rows(q).await?.len();
        let read = sql.cells_in(q.measure, q.from_day, q.to_day).await?;
        println!("  {name:<58} {}  [{read} stat_cells rows in its days, {rows} groups answered]", lat.line());
    }
    println!("  the statements (`redress_store_sql::stats::stat_rows`), for the last 30 days by business type, and with a unit and business type:");
    for line in sql.plan(last30, &rules.org.departments_within(&unit), &business_type).await? {
        println!("    {line}");
    }

    server.stop().await;
    let (hwm, rss) = memory();
    println!("\nmemory: peak resident {} before the requests (VmHWM: the load, if this run loaded), now {}", mib(hwm_load), mib(rss.or(hwm)));

    // Summary.
    println!(
        "\nsummary ({engine}, {count} complaints over {} days; {} statistics cells, {} of them `received` cells in the last 30 days):",
        args.spread_days, cells.total, cells.received_30
    );
    for r in &runs {
        println!(
            "  {:<46} p50 {:>9.2} ms  p99 {:>9.2} ms  max {:>9.2} ms  mean {:>9.2} ms  n {:>4}  peak RSS {:>8}  {}",
            r.name,
            r.latencies.pct(50.0),
            r.latencies.pct(99.0),
            r.latencies.max(),
            r.latencies.mean(),
            r.n(),
            mib(r.peak_rss),
            r.verdict()
        );
    }
    if let Some(path) = &args.baseline {
        compare(path, &runs, engine, count)?;
    }
    if let Some(path) = &args.save {
        let saved = json!({
            "engine": engine,
            "complaints": count,
            "spread_days": args.spread_days,
            "load_seconds": load_seconds,
            "database_bytes": db_bytes,
            "stat_cells": cells.total,
            "received_cells_30_days": cells.received_30,
            "requests": runs.iter().map(|r| json!({
                "name": r.name,
                "path": r.path,
                "p50_ms": r.latencies.pct(50.0),
                "p99_ms": r.latencies.pct(99.0),
                "max_ms": r.latencies.max(),
                "mean_ms": r.latencies.mean(),
                "samples": r.n(),
                "failed": r.failed,
                "peak_rss_bytes": r.peak_rss,
            })).collect::<Vec<_>>(),
        });
        std::fs::write(path, serde_json::to_vec_pretty(&saved)?).with_context(|| format!("writing {}", path.display()))?;
        println!("  figures saved to {}", path.display());
    }
    drop(sql);
    db.finish(args.keep).await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The periods and the filter.

/// The last whole quarter before today in which complaints were received: (year, quarter, days).
async fn last_quarter_with_data(store: &dyn Store, today: Date) -> anyhow::Result<(i16, i8, Days)> {
    let (mut year, mut q) = (today.year(), (today.month() - 1) / 3 + 1);
    for _ in 0..8 {
        (year, q) = if q == 1 { (year - 1, 4) } else { (year, q - 1) };
        let p = redress_app::reports::quarter(year, q);
        let days = Days { from: p.from, to: p.to };
        if received(store, days).await? > 0 {
            return Ok((year, q, days));
        }
    }
    bail!("no complaint was received in the last eight whole quarters")
}

/// The last whole half-year before today in which complaints were received: (year, half, days).
async fn last_half_with_data(store: &dyn Store, today: Date) -> anyhow::Result<(i16, i8, Days)> {
    let (mut year, mut h) = (today.year(), if today.month() <= 6 { 1 } else { 2 });
    for _ in 0..4 {
        (year, h) = if h == 1 { (year - 1, 2) } else { (year, 1) };
        let p = redress_app::reports::half(year, h);
        let days = Days { from: p.from, to: p.to };
        if received(store, days).await? > 0 {
            return Ok((year, h, days));
        }
    }
    bail!("no complaint was received in the last four whole half-years")
}

async fn received(store: &dyn Store, days: Days) -> anyhow::Result<i64> {
    Ok(store.stat_rows(&days.query(Measure::Received)).await?.iter().map(|r| r.n).sum())
}

/// The unit (other than the head office) whose departments own most complaints received in
/// `days`, and the top-level business type with most of them.
async fn busiest_unit_and_business_type(store: &dyn Store, rules: &RuleBook, days: Days) -> anyhow::Result<(String, String)> {
    let org = &rules.org;
    let head_office = org.head_office().code.clone();
    let mut q = days.query(Measure::Received);
    q.group_by = vec![StatColumn::Department];
    let mut units: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
    for r in store.stat_rows(&q).await? {
        // Every unit above the department's own counts it too (a filter by unit takes the
        // departments within it).
        if let Some(d) = org.department(&r.keys[0]) {
            for u in org.ancestry(&d.unit) {
                if u.code != head_office {
                    *units.entry(u.code.clone()).or_default() += r.n;
                }
            }
        }
    }
    let unit = units.iter().max_by_key(|(code, n)| (**n, std::cmp::Reverse((*code).clone()))).map(|(c, _)| c.clone()).context("no complaint received in the last 30 days outside the head office")?;
    q.group_by = vec![StatColumn::BusinessType];
    let taxonomy = rules.classifier.taxonomy();
    let mut types: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
    for r in store.stat_rows(&q).await? {
        let mut code = r.keys[0].clone();
        while let Some(parent) = taxonomy.node(Dimension::BusinessType, &code).and_then(|n| n.parent.clone()) {
            code = parent;
        }
        if !code.is_empty() {
            *types.entry(code).or_default() += r.n;
        }
    }
    let business_type = types.iter().max_by_key(|(code, n)| (**n, std::cmp::Reverse((*code).clone()))).map(|(c, _)| c.clone()).context("no business type in the last 30 days")?;
    Ok((unit, business_type))
}

/// Single questions worth timing alone: the largest of each kind the requests ask.
fn breakdown_questions(last30: Days, last91: Days, half: Days, rules: &RuleBook, unit: &str, business_type: &str) -> Vec<(String, StatQuery)> {
    let by = |days: Days, m: Measure, group: &[StatColumn]| {
        let mut q = days.query(m);
        q.group_by = group.to_vec();
        q
    };
    let mut filtered = last30.query(Measure::Received);
    filtered.departments = Some(rules.org.departments_within(unit));
    filtered.business_type = Some(business_type.to_string());
    vec![
        ("store.stat_rows: received, 30 days, total".into(), last30.query(Measure::Received)),
        ("store.stat_rows: received, 30 days, by day".into(), by(last30, Measure::Received, &[StatColumn::Day])),
        ("store.stat_rows: received, 30 days, by product".into(), by(last30, Measure::Received, &[StatColumn::Product])),
        ("store.stat_rows: received, 30 days, unit + business type".into(), filtered),
        ("store.stat_rows: closed, 30 days, by handler".into(), by(last30, Measure::Closed, &[StatColumn::Handler])),
        ("store.stat_rows: received_hour, 30 days, by value".into(), by(last30, Measure::ReceivedHour, &[StatColumn::Value])),
        ("store.stat_rows: received, 91 days, by business type".into(), by(last91, Measure::Received, &[StatColumn::BusinessType])),
        ("store.stat_rows: received, half, by business type+cause+product".into(), by(half, Measure::Received, &[StatColumn::BusinessType, StatColumn::Cause, StatColumn::Product])),
    ]
}

// ---------------------------------------------------------------------------------------------
// The statistics table, read with SQL of our own (a benchmark's figures, not the product's).

/// A connection to the benchmark's database beside the store's.
enum Sql {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl Sql {
    async fn open(db: &FreshDb) -> anyhow::Result<Sql> {
        use sqlx::Connection;
        if let Some(path) = db.sqlite_path() {
            let url = format!("sqlite://{}", path.display());
            return Ok(Sql::Sqlite(sqlx::SqliteConnection::connect(&url).await.with_context(|| format!("opening {}", path.display()))?));
        }
        if let Some((url, schema)) = db.postgres_schema() {
            let mut conn = sqlx::PgConnection::connect(url).await.with_context(|| format!("connecting to {url}"))?;
            // The name was generated by the bench as `bench_` + hex: a plain identifier.
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("SET search_path TO {schema}"))).execute(&mut conn).await?;
            return Ok(Sql::Postgres(conn));
        }
        bail!("the benchmark's database is neither an SQLite file nor a PostgreSQL schema")
    }

    /// The one integer `sql` answers (every value in it is a number or a fixed name).
    async fn scalar(&mut self, sql: String) -> anyhow::Result<i64> {
        let q = sqlx::AssertSqlSafe(sql.clone());
        let v = match self {
            Sql::Sqlite(c) => sqlx::query_scalar::<_, i64>(q).fetch_one(c).await,
            Sql::Postgres(c) => sqlx::query_scalar::<_, i64>(q).fetch_one(c).await,
        };
        v.with_context(|| format!("running {sql}"))
    }

    /// The (text, integer) rows `sql` answers.
    async fn pairs(&mut self, sql: String) -> anyhow::Result<Vec<(String, i64)>> {
        let q = sqlx::AssertSqlSafe(sql.clone());
        let v = match self {
            Sql::Sqlite(c) => sqlx::query_as::<_, (String, i64)>(q).fetch_all(c).await,
            Sql::Postgres(c) => sqlx::query_as::<_, (String, i64)>(q).fetch_all(c).await,
        };
        v.with_context(|| format!("running {sql}"))
    }

    /// Cells of `measure` on days `[from, to)`: what a question about them reads from the
    /// cells (a question the daily rollup answers reads the rollup instead).
    async fn cells_in(&mut self, measure: Measure, from: i32, to: i32) -> anyhow::Result<i64> {
        self.scalar(format!("SELECT count(*) FROM stat_cells WHERE measure = '{}' AND day >= {from} AND day < {to}", measure.as_str())).await
    }

    /// Bytes of the statistics table with its index (SQLite: its B-tree, from `dbstat`).
    async fn table_bytes(&mut self) -> Option<i64> {
        let sql = match self {
            Sql::Sqlite(_) => "SELECT CAST(COALESCE(SUM(pgsize), 0) AS BIGINT) FROM dbstat WHERE name = 'stat_cells'",
            Sql::Postgres(_) => "SELECT CAST(pg_total_relation_size('stat_cells') AS BIGINT)",
        };
        self.scalar(sql.to_string()).await.ok()
    }

    /// How the store's statements for the last 30 days by business type are run: institution
    /// wide (the rollup's rows with the departments folded) and for one unit's departments
    /// with a business type (the rollup by business type).
    async fn plan(&mut self, days: Days, departments: &[String], business_type: &str) -> anyhow::Result<Vec<String>> {
        let (from, to) = days.range();
        let listed: Vec<String> = (from..to).map(|d| d.to_string()).collect();
        let listed = listed.join(", ");
        let quoted: Vec<String> = departments.iter().map(|d| format!("'{}'", d.replace('\'', "''"))).collect();
        let statements = [
            format!(
                "SELECT key, CAST(SUM(n) AS BIGINT), CAST(SUM(total) AS BIGINT) FROM stat_daily WHERE day IN ({listed}) AND measure = 'received' AND breakdown = 'business_type' AND department = '*' GROUP BY key HAVING COUNT(*) > 0"
            ),
            format!(
                "SELECT key, CAST(SUM(n) AS BIGINT), CAST(SUM(total) AS BIGINT) FROM stat_daily WHERE day IN ({listed}) AND measure = 'received' AND breakdown = 'by_business_type' AND department IN ({}) AND substr(key, 1, length('{bt}')) = '{bt}' GROUP BY key HAVING COUNT(*) > 0",
                quoted.join(", "),
                bt = business_type.replace('\'', "''")
            ),
        ];
        let mut lines = Vec::new();
        for statement in statements {
            // The day list is shortened in print only.
            lines.push(statement.replace(&listed, &format!("{from}, {}, …, {}", from + 1, to - 1)));
            match self {
                Sql::Sqlite(c) => {
                    let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {statement}"))).fetch_all(&mut *c).await?;
                    lines.extend(rows.into_iter().map(|(_, _, _, detail)| format!("  {detail}")));
                }
                Sql::Postgres(c) => {
                    let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("EXPLAIN (ANALYZE, BUFFERS) {statement}"))).fetch_all(&mut *c).await?;
                    lines.extend(rows.into_iter().map(|r| format!("  {r}")));
                }
            }
        }
        Ok(lines)
    }
}

/// Bytes of the whole database: the SQLite file with its WAL, or the benchmark's schema.
async fn database_bytes(db: &FreshDb) -> Option<u64> {
    if let Some(bytes) = db.sqlite_bytes() {
        return Some(bytes);
    }
    let (url, schema) = db.postgres_schema()?;
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await.ok()?;
    let bytes: Option<i64> = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(pg_total_relation_size(c.oid)), 0) AS BIGINT) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind IN ('r', 'm')",
    )
    .bind(schema)
    .fetch_one(&mut conn)
    .await
    .ok();
    conn.close().await.ok();
    bytes.and_then(|b| u64::try_from(b).ok())
}

/// How big the statistics are and what the analyses read.
struct CellFigures {
    total: i64,
    bytes: Option<i64>,
    days: i64,
    received_30: i64,
    complaints_30: i64,
    days_30: i64,
    received_91: i64,
    analysis_30: i64,
    analysis_91: i64,
    by_measure_30: Vec<(Measure, i64)>,
    received_quarter: i64,
    received_half: i64,
    daily: Option<DailyFigures>,
}

/// The daily rollup (`stat_daily`), where the store has one: the rows that answer the questions
/// with no filter on a complaint dimension.
struct DailyFigures {
    total: i64,
    /// Rows of `received` in the last 30 days, by breakdown.
    received_30: Vec<(String, i64)>,
    /// Rows of every measure's own breakdown (`value`) in the last 30 days.
    value_30: i64,
}

async fn daily_figures(sql: &mut Sql, last30: Days) -> Option<DailyFigures> {
    let total = sql.scalar("SELECT count(*) FROM stat_daily".into()).await.ok()?;
    let (a, b) = last30.range();
    let received_30 = sql
        .pairs(format!("SELECT breakdown, count(*) FROM stat_daily WHERE measure = 'received' AND day >= {a} AND day < {b} GROUP BY breakdown ORDER BY breakdown"))
        .await
        .ok()?;
    let value_30 = sql.scalar(format!("SELECT count(*) FROM stat_daily WHERE breakdown = 'value' AND day >= {a} AND day < {b}")).await.ok()?;
    Some(DailyFigures { total, received_30, value_30 })
}

async fn cell_figures(sql: &mut Sql, last30: Days, last91: Days, quarter: Days, half: Days) -> anyhow::Result<CellFigures> {
    let t = Instant::now();
    let total = sql.scalar("SELECT count(*) FROM stat_cells".into()).await?;
    let days = sql.scalar("SELECT count(DISTINCT day) FROM stat_cells WHERE measure = 'received'".into()).await?;
    let bytes = sql.table_bytes().await;
    let (a, b) = last30.range();
    let received_30 = sql.cells_in(Measure::Received, a, b).await?;
    let complaints_30 = sql.scalar(format!("SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM stat_cells WHERE measure = 'received' AND day >= {a} AND day < {b}")).await?;
    let days_30 = sql.scalar(format!("SELECT count(DISTINCT day) FROM stat_cells WHERE measure = 'received' AND day >= {a} AND day < {b}")).await?;
    let mut by_measure_30 = Vec::new();
    for m in Measure::ALL {
        by_measure_30.push((m, sql.cells_in(m, a, b).await?));
    }
    let (a91, b91) = last91.range();
    let received_91 = sql.cells_in(Measure::Received, a91, b91).await?;
    let mut analysis = [0i64; 2];
    for (slot, days) in [last30, last91].into_iter().enumerate() {
        for (m, which) in ANALYSIS_QUESTIONS {
            let d = match which {
                'B' => days.before(),
                'Y' => days.year_before(),
                _ => days,
            };
            let (from, to) = d.range();
            analysis[slot] += sql.cells_in(*m, from, to).await?;
        }
    }
    let (qa, qb) = quarter.range();
    let (ha, hb) = half.range();
    let received_quarter = sql.cells_in(Measure::Received, qa, qb).await?;
    let received_half = sql.cells_in(Measure::Received, ha, hb).await?;
    let daily = daily_figures(sql, last30).await;
    println!("\nstatistics cells (counted in {:.1} s):", t.elapsed().as_secs_f64());
    Ok(CellFigures {
        total,
        bytes,
        days,
        received_30,
        complaints_30,
        days_30,
        received_91,
        analysis_30: analysis[0],
        analysis_91: analysis[1],
        by_measure_30,
        received_quarter,
        received_half,
        daily,
    })
}

impl CellFigures {
    fn print(&self) {
        println!("  stat_cells: {} rows, {} (table and its primary key), {} days with received complaints", self.total, mib(self.bytes.and_then(|b| u64::try_from(b).ok())), self.days);
        println!(
            "  last 30 days: {} complaints received on {} days in {} `received` cells: {:.0} cells (groups) a day, {:.2} cells per complaint",
            self.complaints_30,
            self.days_30,
            self.received_30,
            self.received_30 as f64 / self.days_30.max(1) as f64,
            self.received_30 as f64 / self.complaints_30.max(1) as f64
        );
        println!(
            "    a 30-day question about received complaints answered from the cells reads those {} cells: SELECT count(*) FROM stat_cells WHERE measure = 'received' AND day BETWEEN first AND last",
            self.received_30
        );
        println!("  last 91 days: {} `received` cells; the report's quarter {}; the FCA half {}", self.received_91, self.received_quarter, self.received_half);
        println!("  cells of each measure in the last 30 days: {}", self.by_measure_30.iter().filter(|(_, n)| *n > 0).map(|(m, n)| format!("{} {n}", m.as_str())).collect::<Vec<_>>().join(", "));
        println!(
            "  the 30 questions of one analysis, were each answered from the cells, would read {} cells for the last 30 days, {} for the last quarter",
            self.analysis_30, self.analysis_91
        );
        match &self.daily {
            Some(d) => {
                println!("  stat_daily (the daily rollup, which answers the questions without a filter on a complaint dimension or filtered by business type alone): {} rows", d.total);
                println!(
                    "    last 30 days: `received` rows by breakdown: {}; every measure's `value` rows: {}",
                    d.received_30.iter().map(|(b, n)| format!("{b} {n}")).collect::<Vec<_>>().join(", "),
                    d.value_30
                );
            }
            None => println!("  no daily rollup (stat_daily) in this database: every question reads the cells"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The requests.

#[derive(Clone, Copy)]
enum Expect {
    /// A JSON object.
    Json,
    /// A page with its heading.
    Html,
    /// An Excel workbook (a ZIP file).
    Xlsx,
}

#[derive(Clone, Copy)]
enum Goal {
    /// An analysis page or request: p50 under [`GOAL_PAGE_MS`].
    Page,
    /// A regulator report: under [`GOAL_REPORT_MS`].
    Report,
}

struct Request {
    name: &'static str,
    path: String,
    /// With the API token (`true`) or the session cookie.
    token: bool,
    expect: Expect,
    goal: Goal,
}

impl Request {
    fn api(name: &'static str, path: String, goal: Goal) -> Request {
        Request { name, path, token: true, expect: Expect::Json, goal }
    }

    fn page(name: &'static str, path: String, expect: Expect, goal: Goal) -> Request {
        Request { name, path, token: false, expect, goal }
    }
}

struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
    session: String,
}

struct Run {
    name: &'static str,
    path: String,
    latencies: Latencies,
    failed: u64,
    mean_bytes: u64,
    peak_rss: Option<u64>,
    goal: Goal,
}

impl Run {
    fn n(&self) -> usize {
        self.latencies.len()
    }

    fn goal_ms(&self) -> f64 {
        match self.goal {
            Goal::Page => GOAL_PAGE_MS,
            Goal::Report => GOAL_REPORT_MS,
        }
    }

    fn verdict(&self) -> String {
        if self.failed > 0 {
            return format!("FAILED {}", self.failed);
        }
        let p50 = self.latencies.pct(50.0);
        let goal = self.goal_ms();
        if p50 < goal { format!("goal (p50 < {goal:.0} ms) met") } else { format!("GOAL (p50 < {goal:.0} ms) MISSED") }
    }

    fn print(&self) {
        println!(
            "  {:<46} {}  {:.1} KiB each, peak RSS {}{}",
            self.name,
            self.latencies.line(),
            self.mean_bytes as f64 / 1024.0,
            mib(self.peak_rss),
            if self.failed > 0 { format!("  FAILED: {}", self.failed) } else { String::new() }
        );
    }
}

/// Resets the process's peak resident size (VmHWM) to the current one; false where it cannot.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

impl Client {
    /// One GET: status, body, wall time to the last byte.
    async fn get(&self, r: &Request) -> anyhow::Result<(reqwest::StatusCode, Vec<u8>, Duration)> {
        let t = Instant::now();
        let mut req = self.http.get(format!("{}{}", self.base, r.path)).header(reqwest::header::ACCEPT_LANGUAGE, "zh-CN,zh;q=0.9");
        req = if r.token { req.bearer_auth(&self.token) } else { req.header(reqwest::header::COOKIE, format!("rdr_session={}", self.session)) };
        let res = req.send().await.with_context(|| format!("GET {}", r.path))?;
        let status = res.status();
        let body = res.bytes().await.with_context(|| format!("reading GET {}", r.path))?.to_vec();
        Ok((status, body, t.elapsed()))
    }

    /// Whether an answer is what the request should get.
    fn good(r: &Request, status: reqwest::StatusCode, body: &[u8], check_body: bool) -> Result<(), String> {
        if status != reqwest::StatusCode::OK {
            return Err(format!("{status}: {}", String::from_utf8_lossy(&body[..body.len().min(300)])));
        }
        match r.expect {
            Expect::Json if check_body => match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(_)) => Ok(()),
                _ => Err(format!("not a JSON object: {}", String::from_utf8_lossy(&body[..body.len().min(300)]))),
            },
            Expect::Html if !String::from_utf8_lossy(body).contains("<h1") => Err("a page without its heading".into()),
            Expect::Xlsx if !body.starts_with(b"PK") => Err("not an Excel workbook".into()),
            _ => Ok(()),
        }
    }

    /// `warmup` untimed and `samples` timed requests; every answer must be 200 and of its kind.
    async fn timed(&self, r: &Request, warmup: usize, samples: usize, budget: Duration) -> anyhow::Result<Run> {
        let reset = reset_peak_rss();
        let started = Instant::now();
        let mut first_failure = None;
        let mut failed = 0u64;
        for i in 0..warmup {
            if started.elapsed() > budget / 4 {
                break;
            }
            let (status, body, _) = self.get(r).await?;
            if let Err(e) = Self::good(r, status, &body, i == 0) {
                first_failure.get_or_insert(e);
            }
        }
        let mut lat = Vec::with_capacity(samples);
        let mut bytes = 0u64;
        let timed_from = Instant::now();
        for k in 0..samples {
            if k >= 5 && timed_from.elapsed() > budget - budget / 4 {
                println!("  note ({}): stopped after {k} timed requests, the {} s budget being spent", r.name, budget.as_secs());
                break;
            }
            let (status, body, elapsed) = self.get(r).await?;
            lat.push(micros(elapsed));
            bytes += body.len() as u64;
            if let Err(e) = Self::good(r, status, &body, k == 0) {
                failed += 1;
                first_failure.get_or_insert(e);
            }
        }
        if let Some(e) = &first_failure {
            println!("  FAILED ({}): GET {}: {e}", r.name, r.path);
        }
        let peak_rss = if reset { memory().0 } else { None };
        let n = lat.len().max(1) as u64;
        Ok(Run { name: r.name, path: r.path.clone(), latencies: Latencies::new(lat), failed, mean_bytes: bytes / n, peak_rss, goal: r.goal })
    }
}

async fn time_calls<F, Fut>(samples: usize, mut f: F) -> anyhow::Result<Latencies>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    for _ in 0..3 {
        f().await?;
    }
    let mut lat = Vec::with_capacity(samples);
    for _ in 0..samples {
        let t = Instant::now();
        f().await?;
        lat.push(micros(t.elapsed()));
    }
    Ok(Latencies::new(lat))
}

/// Prints each request's p50 against the same request's in figures saved by an earlier run.
/// The growth goal is judged only against a smaller database of the same engine.
fn compare(path: &PathBuf, runs: &[Run], engine: &str, complaints: u64) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let base: Value = serde_json::from_str(&text).with_context(|| format!("{} is not JSON saved by --save", path.display()))?;
    let base_complaints = base["complaints"].as_u64().unwrap_or(0);
    let base_engine = base["engine"].as_str().unwrap_or("?");
    let growth_run = base_engine == engine && base_complaints < complaints;
    println!(
        "\n{} {} ({base_engine}, {base_complaints} complaints, {} cells) to this run ({engine}, {complaints} complaints): p50 now / p50 then{}",
        if growth_run { "growth from" } else { "compared with" },
        path.display(),
        base["stat_cells"].as_i64().unwrap_or(0),
        if growth_run { format!(" (goal < {GOAL_GROWTH}×)") } else { " (not a growth: another engine or not a smaller database)".to_string() }
    );
    let empty = Vec::new();
    let saved = base["requests"].as_array().unwrap_or(&empty);
    for r in runs {
        let Some(b) = saved.iter().find(|b| b["name"].as_str() == Some(r.name)) else {
            println!("  {:<46} not in the baseline", r.name);
            continue;
        };
        let then = b["p50_ms"].as_f64().unwrap_or(f64::NAN);
        let now = r.latencies.pct(50.0);
        let growth = now / then;
        println!(
            "  {:<46} p50 {then:>9.2} → {now:>9.2} ms  ×{growth:.2}  (p99 {:.2} → {:.2} ms)  {}",
            r.name,
            b["p99_ms"].as_f64().unwrap_or(f64::NAN),
            r.latencies.pct(99.0),
            if !growth_run {
                ""
            } else if growth < GOAL_GROWTH {
                "goal met"
            } else {
                "GOAL MISSED"
            }
        );
    }
    Ok(())
}
