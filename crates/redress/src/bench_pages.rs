//! `redress bench pages`: the staff pages (My work, the complaint page, search) on a large
//! database, through the real server, signed in as a handler through the real sign-in form.
//!
//! Loading: the same generated complaints as `bench read`, registered through the store's
//! group commit (the registration steps of `redress_app::complaints::register`: validation,
//! classification, routing, the text reading and search index), except that each record is
//! then carried along a lifecycle with the domain's own actions (`Complaint::apply`) up to the
//! present: most older complaints are decided, followed up, closed and archived; recent ones are
//! under investigation, waiting for approval, paused, transferred or overdue; the deadline
//! sweep's marks (due soon, overdue and the escalation) are applied as the sweep would. So the
//! history, the messages and the queues look like those of a staffed institution, and a
//! handler's queue holds some hundreds to a few thousand open complaints.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use jiff::{SignedDuration, Timestamp};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use redress_app::input::NewComplaintBody;
use redress_app::{App as AppState, Caller};
use redress_domain::classify::ClassifyInput;
use redress_domain::clock::SystemClock;
use redress_domain::complaint::{Action, Actor, Complaint, ComplaintId, Draft, Notification, Outcome, RegistrationContext, ResolutionKind, Rules, Satisfaction, UserRef};
use redress_domain::deadline::DueState;
use redress_domain::fields::{EscalationReason, LongText, Money, ShortText};
use redress_domain::lifecycle::Status;
use redress_domain::messages::Remedy;
use redress_domain::org::Role;
use redress_domain::rulebook::RuleBook;
use redress_store::{ComplaintFilter, Registered, Registration, Store, User};
use tokio::task::JoinSet;

use crate::bench::{CpuMeter, FreshDb, Generator, Latencies, existing_db, fresh_db, load_average, memory, mib, micros, query_escape, start_server};

/// Options of `bench pages`.
#[derive(Args)]
pub struct PagesArgs {
    /// Database to benchmark. Omitted: a new SQLite file in a temporary directory.
    /// `postgres://USER@HOST:PORT/DB`: a new schema `bench_<uuid>` in that database, so no
    /// existing data is read or touched. `sqlite://PATH`: a new file at PATH (refused if it
    /// exists). The temporary file or schema is removed afterwards unless --keep is given.
    #[arg(long, value_name = "URL")]
    pub db: Option<String>,
    /// Complaints to load before measuring.
    #[arg(long, default_value_t = 1_000_000, value_name = "N")]
    pub complaints: usize,
    /// Timed requests of each page, one after another from one signed-in browser.
    #[arg(long, default_value_t = 200, value_name = "N")]
    pub samples: usize,
    /// Untimed requests of each page before its timed ones.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub warmup: usize,
    /// Open complaints per handler the staffing aims at: each department gets as many handlers
    /// as its open complaints need at this load (at least two).
    #[arg(long, default_value_t = 1_000, value_name = "N")]
    pub queue: usize,
    /// Days back over which the complaints' receipt times are spread, oldest first.
    #[arg(long, default_value_t = 365, value_name = "DAYS")]
    pub spread_days: u32,
    /// Registrations in flight while loading (default: 1024 on SQLite, 64 on PostgreSQL).
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Most seconds spent timing one page: a page still slower stops early and reports the
    /// requests it got through (so a very slow page does not hold up the others for hours).
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    pub page_budget: u64,
    /// The handler to sign in as (default: the handler with the median open-complaint count).
    #[arg(long, value_name = "NAME")]
    pub handler: Option<String>,
    /// Seed of the generators, so runs are repeatable.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub rng_seed: u64,
    /// Hide the progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Keep the temporary database (its location is printed) instead of removing it.
    #[arg(long)]
    pub keep: bool,
    /// Load nothing: time the pages on the SQLite file given by --db as it is (one kept by an
    /// earlier run of `bench pages --keep`). The file is left in place.
    #[arg(long, requires = "db", conflicts_with = "keep")]
    pub reuse: bool,
}

/// The goal of the issue: p50 under this many milliseconds for each page.
const GOAL_P50_MS: f64 = 30.0;
/// A password long enough for the product's rule; set only on the users the benches sign in as
/// (the measured handler here, the supervisor in `bench analytics`).
pub(crate) const PASSWORD: &str = "bench-pages-correct-horse-battery";
/// Complaint numbers kept per department for sampling.
const RESERVOIR: usize = 5_000;

/// Runs `bench pages`.
pub async fn run(args: PagesArgs, rules: Arc<RuleBook>) -> anyhow::Result<()> {
    let db = match (&args.db, args.reuse) {
        (Some(url), true) => existing_db(url).await?,
        (url, _) => fresh_db(url.as_deref()).await?,
    };
    let engine = db.store.engine();
    println!("redress bench pages");
    println!("  engine:   {engine} ({})", db.label);
    println!("  machine:  {} CPUs, load average {}", std::thread::available_parallelism().map_or(0, |n| n.get()), load_average());
    let state = AppState::new(db.store.clone(), rules.clone(), Arc::new(SystemClock));

    let samples = if args.reuse {
        let samples = sample_departments(db.store.as_ref(), args.rng_seed).await?;
        println!("\nloading nothing: {} complaint numbers sampled from the existing database", samples.values().map(Vec::len).sum::<usize>());
        samples
    } else {
        load(&args, &db, &state, &rules).await?
    };
    let count = db.store.count().await?;
    if let Some(bytes) = db.sqlite_bytes() {
        println!("  database: {:.0} MiB on disk ({:.1} KiB per complaint)", bytes as f64 / 1048576.0, bytes as f64 / 1024.0 / count.max(1) as f64);
    }
    let (hwm_load, _) = memory();
    // Resets the peak resident size (VmHWM), so the figure printed at the end is that of serving.
    let hwm_reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();

    // The handler to sign in as.
    let users = db.store.users().await?;
    let mut handlers: Vec<&User> = users.iter().filter(|u| u.active && u.role == Role::Handler && u.department.is_some()).collect();
    handlers.sort_by(|a, b| (a.open_load, &a.name).cmp(&(b.open_load, &b.name)));
    let handler = match &args.handler {
        Some(name) => handlers.iter().find(|u| &u.name == name).copied().with_context(|| format!("no active handler named {name}"))?,
        None => *handlers.get(handlers.len() / 2).context("no active handler in the database")?,
    };
    let loads: Vec<i64> = handlers.iter().map(|u| u.open_load).collect();
    println!(
        "\nhandlers: {} (open complaints each: min {}, median {}, max {})",
        handlers.len(),
        loads.first().unwrap_or(&0),
        loads.get(loads.len() / 2).unwrap_or(&0),
        loads.last().unwrap_or(&0)
    );
    let department = handler.department.clone().unwrap_or_default();
    println!("  signing in as {} (department {department}, {} open complaints assigned)", handler.name, handler.open_load);
    let hash = redress_app::users::hash_password(PASSWORD).map_err(|e| anyhow::anyhow!("hashing the password: {}", e.message))?;
    db.store.set_password_hash(&handler.id, &hash).await?;
    let caller = Caller::new(handler.clone());
    let in_scope = samples.get(&department).cloned().unwrap_or_default();
    if in_scope.is_empty() {
        bail!("no complaint of department {department} was sampled");
    }

    let server = start_server(state.clone()).await?;
    println!("  server:   {} (the same router as `redress serve`; the deadline scheduler is not running, so nothing writes)", server.base);
    let browser = Browser::sign_in(&server.base, &handler.name).await?;
    println!("  signed in through POST /sign-in: session cookie {}…", &browser.session[..8.min(browser.session.len())]);

    // The queue as the first pages show it, and the cursor of page 3.
    let first = browser.get("/work").await?;
    let work_html = first.text();
    let counts = (find_count(&work_html, "count-total"), find_count(&work_html, "count-due-soon"), find_count(&work_html, "count-overdue"));
    println!("  My work: {} in the queue, {} due soon, {} overdue", show(counts.0), show(counts.1), show(counts.2));
    let queue_numbers = complaint_links(&work_html);
    let page2 = next_link(&work_html).context("My work has no second page: the queue is shorter than two pages")?;
    let page3 = next_link(&browser.get(&page2).await?.text()).context("My work has no third page: the queue is shorter than three pages")?;
    let overdue_html = browser.get("/work?due_state=overdue").await?.text();
    println!("  My work, overdue: {} complaints", show(find_count(&overdue_html, "count-total")));

    let (one_word, two_words) = chinese_queries(args.rng_seed, &rules, 500);
    println!("  search words (drawn from generated Chinese complaints by how often they occur), e.g. {}", one_word.iter().take(8).cloned().collect::<Vec<_>>().join(" · "));

    println!("\npages: one signed-in browser (one keep-alive connection), {} timed requests of each after {} untimed ones", args.samples, args.warmup);
    println!("  wall = from sending the request to the last byte of the page; to headers = until the status line and headers arrive,");
    println!("  which the server sends only once the page is rendered (server time plus one loopback round trip)");
    println!("  load average before the pages: {}", load_average());
    let cpu = CpuMeter::start();
    let mut rng = StdRng::seed_from_u64(args.rng_seed ^ 0x9a9e5);
    let mut runs: Vec<PageRun> = Vec::new();
    let n = args.samples;
    let w = args.warmup;
    let budget = Duration::from_secs(args.page_budget.max(1));
    runs.push(show_run(browser.timed(budget, "My work, first page", w, n, |_| "/work".to_string(), "count-total").await?));
    runs.push(show_run(browser.timed(budget, "My work, due_state=overdue", w, n, |_| "/work?due_state=overdue".to_string(), "count-total").await?));
    runs.push(show_run(browser.timed(budget, "My work, page 3 (cursor)", w, n, |_| page3.clone(), "count-total").await?));
    let scope = in_scope.clone();
    let mut r1 = StdRng::seed_from_u64(rng.random());
    runs.push(show_run(browser.timed(budget, "complaint page, random in scope", w, n, move |_| format!("/complaints/{}", scope.choose(&mut r1).expect("numbers")), "<h1").await?));
    if !queue_numbers.is_empty() {
        let q = queue_numbers.clone();
        runs.push(show_run(browser.timed(budget, "complaint page, from My work", w, n, move |i| format!("/complaints/{}", q[i % q.len()]), "<h1").await?));
    }
    let ow = one_word.clone();
    runs.push(show_run(browser.timed(budget, "search, one Chinese word", w, n, move |i| format!("/search?q={}", query_escape(&ow[i % ow.len()])), "<h1").await?));
    let tw = two_words.clone();
    runs.push(show_run(browser.timed(budget, "search, two Chinese words", w, n, move |i| format!("/search?q={}", query_escape(&tw[i % tw.len()])), "<h1").await?));
    println!("  CPU during the pages: {}", cpu.report());

    // The same work without HTTP and templates, in this process: where a page's time goes.
    println!("\nwhere the time goes: the use cases and store calls each page makes, called directly ({} each, after {} untimed)", n.min(200), w);
    // A search page far slower than the goal is the query itself (the use case adds nothing
    // to speak of); timing it again here would take as long once more.
    let search_p50 = runs.iter().filter(|r| r.name.starts_with("search")).map(|r| r.wall.pct(50.0)).fold(0.0, f64::max);
    let inputs = Inputs { session: &browser.session, page3: &page3, in_scope: &in_scope, queue: &queue_numbers, one_word: &one_word, two_words: &two_words };
    let parts = breakdown(&state, &caller, inputs, w, n.min(200), search_p50 < 10_000.0, &mut rng).await?;
    for (name, lat) in &parts {
        println!("  {name:<46} {}", lat.line());
    }
    if search_p50 >= 10_000.0 {
        println!("  text::search not timed again: the search pages took over 10 s each, nearly all of it in the store's queries");
    }

    server.stop().await;
    let (hwm, rss) = memory();
    println!("\nmemory: peak resident {} while loading (VmHWM), {} while serving{}, now {}", mib(hwm_load), mib(hwm), if hwm_reset { " (VmHWM reset after loading)" } else { " (VmHWM could not be reset: whole run)" }, mib(rss));
    println!("\nsummary ({engine}, {count} complaints; handler {} with {} open complaints in My work; goal p50 < {GOAL_P50_MS} ms):", handler.name, show(counts.0));
    for r in &runs {
        let p50 = r.wall.pct(50.0);
        println!(
            "  {:<36} p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms  (to headers p50 {:.2} ms)  {}",
            r.name,
            p50,
            r.wall.pct(99.0),
            r.wall.max(),
            r.headers.pct(50.0),
            if r.failed > 0 { format!("FAILED {}", r.failed) } else if p50 < GOAL_P50_MS { "goal met".into() } else { "GOAL MISSED".into() }
        );
    }
    println!("  peak resident memory: {} loading, {} serving", mib(hwm_load), mib(hwm));
    drop(users);
    db.finish(args.keep).await?;
    Ok(())
}

fn show(v: Option<u64>) -> String {
    v.map_or_else(|| "?".into(), |n| n.to_string())
}

// ---------------------------------------------------------------------------------------------
// Loading.

/// A step of a complaint's life after registration, at a planned time.
#[derive(Clone, Debug)]
enum Step {
    Start,
    Note(&'static str, bool),
    Pause,
    Resume,
    RequestExtension,
    ApproveExtension { superior: bool },
    Propose(ResolutionKind, Option<Money>, &'static str),
    Approve,
    Decide,
    FollowUp(Satisfaction),
    Close,
    Archive,
    Decline(usize),
    Withdraw,
    Transfer(String),
}

/// A complaint's planned life: steps at times after its receipt. Steps planned after the
/// present are not taken.
#[derive(Clone, Debug, Default)]
struct Plan {
    steps: Vec<(Timestamp, Step)>,
}

const NOTES: &[&str] = &[
    "已致电客户了解情况，客户表示会提供交易凭证和通话记录。",
    "已调取交易流水和网点监控记录，正在逐笔核实。",
    "已联系涉事网点负责人了解经过，网点将于两个工作日内书面说明。",
    "客户来电询问处理进度，已解释目前进展并告知预计答复时间。",
    "已提交风险管理部协查，等待反馈。",
    "Called the customer to confirm the transactions in dispute; statements requested.",
];
const SUMMARIES: &[(ResolutionKind, &str)] = &[
    (ResolutionKind::Explanation, "经核实，向客户说明交易经过及相关收费依据，并提供书面材料。"),
    (ResolutionKind::Refund, "经核实属我行差错，退还客户被多扣款项。"),
    (ResolutionKind::Compensation, "综合考虑客户损失，给予客户一次性经济补偿。"),
    (ResolutionKind::Apology, "向客户诚恳致歉，并对相关员工进行服务规范培训。"),
    (ResolutionKind::Rejection, "经核实，客户诉求缺乏事实依据，不予支持，已向客户说明理由。"),
];

fn days(d: f64) -> SignedDuration {
    SignedDuration::from_secs_f64(d * 86_400.0)
}

/// Plans the life of a complaint received at `received`, `cut` being the present.
fn plan(rng: &mut StdRng, received: Timestamp, cut: Timestamp, departments: &[String], book: &RuleBook) -> Plan {
    let age = cut.duration_since(received).as_secs_f64() / 86_400.0;
    let at = |d: f64| received + days(d);
    let mut steps: Vec<(Timestamp, Step)> = Vec::new();
    let profile = book.default_rules().profile;
    let u: f64 = rng.random();
    if u < 0.03 && !profile.decline_reasons.is_empty() {
        let reason = rng.random_range(0..profile.decline_reasons.len());
        steps.push((at(rng.random_range(0.2..3.0)), Step::Decline(reason)));
        return Plan { steps };
    }
    // A recent complaint that belongs elsewhere waits, unassigned, in the department it was
    // sent to.
    if age < 6.0 && rng.random_bool(0.04) && departments.len() > 1 {
        let to = departments.choose(rng).expect("departments").clone();
        steps.push((at(rng.random_range(0.05..1.5)), Step::Transfer(to)));
        return Plan { steps };
    }
    let start = rng.random_range(0.1..1.5);
    steps.push((at(start), Step::Start));
    let x: f64 = rng.random();
    let mut decide = if x < 0.85 {
        rng.random_range(3.0..14.5)
    } else if x < 0.95 {
        rng.random_range(14.5..28.0)
    } else {
        rng.random_range(28.0..55.0)
    };
    // A paused clock (external appraisal) moves the deadline; no extension is asked for then.
    let paused = rng.random_bool(0.05) && !profile.pause_reasons.is_empty();
    if paused {
        let from = start + rng.random_range(0.5..3.0);
        let length = rng.random_range(3.0..20.0);
        steps.push((at(from), Step::Pause));
        steps.push((at(from + length), Step::Resume));
        decide = (decide + length).max(from + length + rng.random_range(1.0..5.0));
    } else if decide > 14.0 && rng.random_bool(0.8) {
        // Asked for before the 15-day deadline, granted before the resolution is proposed.
        let ask = (decide - rng.random_range(2.0..4.0)).clamp(start + 0.1, 14.0);
        steps.push((at(ask), Step::RequestExtension));
        steps.push((at(ask + rng.random_range(0.05..1.0)), Step::ApproveExtension { superior: false }));
        if decide > 29.0 && rng.random_bool(0.7) {
            let ask = (decide - rng.random_range(2.0..4.0)).clamp(ask + 1.1, 29.0);
            steps.push((at(ask), Step::RequestExtension));
            steps.push((at(ask + rng.random_range(0.05..1.0)), Step::ApproveExtension { superior: true }));
        }
    }
    // Withdrawn by the complainant before the decision, after any notes.
    let withdrawn = rng.random_bool(0.015).then(|| rng.random_range(start..decide));
    for _ in 0..[0, 0, 0, 1, 1, 2, 3].choose(rng).copied().unwrap_or(0) {
        let note = *NOTES.choose(rng).expect("notes");
        let when = rng.random_range(start..withdrawn.unwrap_or(decide).max(start + 0.01));
        steps.push((at(when), Step::Note(note, rng.random_bool(0.5))));
    }
    if let Some(when) = withdrawn {
        steps.retain(|(t, _)| *t < at(when));
        steps.push((at(when), Step::Withdraw));
        return finish(steps);
    }
    // Some complaints stall: never decided, overdue in somebody's queue.
    if rng.random_bool(if age < 90.0 { 0.02 } else { 0.002 }) {
        return finish(steps);
    }
    let propose = decide - rng.random_range(0.1..1.0);
    let (kind, summary) = *SUMMARIES.choose(rng).expect("summaries");
    let amount = match kind {
        ResolutionKind::Refund => Some(rng.random_range(50..8_000)),
        ResolutionKind::Compensation => Some(rng.random_range(200..20_000)),
        _ => None,
    }
    .and_then(|yuan| Money::parse("amount", &format!("{yuan}.00"), "CNY").ok());
    steps.push((at(propose), Step::Propose(kind, amount, summary)));
    steps.push((at(propose + rng.random_range(0.02..(decide - propose).max(0.03))), Step::Approve));
    steps.push((at(decide), Step::Decide));
    let y: f64 = rng.random();
    let called = decide + rng.random_range(0.3..7.5);
    let closed = if y < 0.88 {
        let s = if rng.random_bool(0.7) { Satisfaction::Satisfied } else { Satisfaction::BasicallySatisfied };
        steps.push((at(called), Step::FollowUp(s)));
        called
    } else if y < 0.92 {
        // Dissatisfied: reopened, decided again, then satisfied.
        steps.push((at(called), Step::FollowUp(Satisfaction::Dissatisfied)));
        let again = called + rng.random_range(3.0..13.0);
        steps.push((at(again - 0.5), Step::Propose(ResolutionKind::Explanation, None, SUMMARIES[0].1)));
        steps.push((at(again - 0.3), Step::Approve));
        steps.push((at(again), Step::Decide));
        let called = again + rng.random_range(0.3..6.0);
        steps.push((at(called), Step::FollowUp(Satisfaction::BasicallySatisfied)));
        called
    } else {
        let closed = decide + rng.random_range(7.5..12.0);
        steps.push((at(closed), Step::Close));
        closed
    };
    steps.push((at(closed + rng.random_range(20.0..40.0)), Step::Archive));
    finish(steps)
}

fn finish(mut steps: Vec<(Timestamp, Step)>) -> Plan {
    steps.sort_by_key(|(at, _)| *at);
    Plan { steps }
}

/// Department heads by department, who approve extensions and resolutions above the threshold.
type Heads = HashMap<String, Actor>;

/// Takes the planned steps up to `cut` with the domain's actions, then marks the due state as
/// the deadline sweep would. Returns the step the domain refused, if one was (the plan stops
/// there).
fn live(c: &mut Complaint, out: &mut Outcome, plan: &Plan, heads: &Heads, rules: Rules<'_>, cut: Timestamp) -> Option<String> {
    let h = c.owner.handler.clone()?;
    let handler = Actor { id: h.id, name: h.name, role: Role::Handler, department: Some(c.owner.department.clone()) };
    let mut last = c.updated_at;
    let mut refused = None;
    let text = |field: &str, s: &str| LongText::parse(field, s).ok();
    for (at, step) in &plan.steps {
        if *at > cut {
            break;
        }
        let at = (*at).max(last);
        let head = heads.get(&c.owner.department);
        let superior_head = heads.get(&rules.org.superior_department(&c.owner.department).code).or(head);
        let (action, actor) = match step {
            Step::Start => (Action::StartInvestigation, &handler),
            Step::Note(t, contact) => match text("text", t) {
                Some(t) => (Action::AddNote { text: t, customer_contact: *contact }, &handler),
                None => continue,
            },
            Step::Pause => {
                let reason = rules.profile.pause_reasons.first().map(|r| r.code.clone()).unwrap_or_default();
                (Action::Pause { reason, note: text("note", "已委托第三方机构进行鉴定评估。") }, &handler)
            }
            Step::Resume => (Action::Resume, &handler),
            Step::RequestExtension => match text("reason", "案情复杂，需调取外部机构材料，申请延长处理期限。") {
                Some(reason) => (Action::RequestExtension { reason }, &handler),
                None => continue,
            },
            Step::ApproveExtension { superior } => {
                if c.clock.pending_extension.is_none() {
                    continue;
                }
                let Some(approver) = (if *superior { superior_head } else { head }) else { continue };
                (Action::DecideExtension { approve: true, note: None }, approver)
            }
            Step::Propose(kind, amount, summary) => match text("summary", summary) {
                Some(summary) => (Action::ProposeResolution { kind: *kind, amount: *amount, summary }, &handler),
                None => continue,
            },
            Step::Approve => {
                if c.status != Status::AwaitingApproval {
                    continue;
                }
                let Some(head) = head else { continue };
                (Action::ApproveResolution, head)
            }
            Step::Decide => {
                let (Some(verification), Some(basis), Some(reasons)) = (
                    text("verification", "调取交易记录、通话录音及网点监控，并与客户当面核实。"),
                    text("basis", "《银行业保险业消费投诉处理管理办法》及双方合同约定。"),
                    text("reasons", "根据调查核实的情况，作出上述处理决定。"),
                ) else {
                    continue;
                };
                (Action::Decide { verification, basis, reasons, remedies: vec![Remedy::Review, Remedy::Mediation, Remedy::Litigation] }, &handler)
            }
            Step::FollowUp(s) => (Action::RecordFollowUp { satisfaction: *s, comments: text("comments", "客户表示已收到处理结果。") }, &handler),
            Step::Close => (Action::Close, &handler),
            Step::Archive => (Action::Archive, &handler),
            Step::Decline(i) => {
                let reason = rules.profile.decline_reasons.get(*i).map(|r| r.code.clone()).unwrap_or_default();
                (Action::Decline { reason, note: text("note", "经核实，投诉非本人或其授权代理人提出。") }, &handler)
            }
            Step::Withdraw => (Action::Withdraw { reason: text("reason", "客户来电表示问题已自行解决，撤回投诉。") }, &handler),
            Step::Transfer(to) => {
                if *to == c.owner.department {
                    continue;
                }
                match ShortText::parse("reason", "业务归属其他部门处理") {
                    Ok(reason) => (Action::Transfer { department: to.clone(), handler: None, reason }, &handler),
                    Err(_) => continue,
                }
            }
        };
        match c.apply(action, actor, at, rules) {
            Ok(o) => {
                merge(out, o);
                last = at;
            }
            Err(e) => {
                let name = format!("{step:?}");
                refused = Some(format!("{} from {}: {}", name.split(['(', ' ']).next().unwrap_or(&name), c.status, e.code));
                break;
            }
        }
    }
    // The deadline sweep's marks, as `redress_app::jobs::sweep` makes them.
    let state = c.due_state_at(cut, rules);
    if c.status.is_open() && matches!(state, DueState::DueSoon | DueState::Overdue) && state != c.due_state {
        let deadline = c.watched_deadline().unwrap_or(cut);
        // The sweep marks "due soon" once the deadline is within the profile's warning window.
        let window = redress_domain::complaint::due_soon_horizon(rules, deadline).duration_since(deadline);
        let marked = if state == DueState::Overdue { deadline } else { deadline - window };
        let at = marked.max(last).min(cut.max(last));
        let system = Actor::system();
        if let Ok(o) = c.apply(Action::MarkDue { state }, &system, at, rules) {
            merge(out, o);
            if state == DueState::Overdue {
                if let Ok(o) = c.apply(Action::Escalate { reason: EscalationReason::deadline_passed(c.status) }, &system, at, rules) {
                    merge(out, o);
                }
            } else {
                out.notifications.push(Notification {
                    role: Role::Handler,
                    department: Some(c.owner.department.clone()),
                    complaint_id: c.id,
                    message: format!("{}: the deadline is near", c.number),
                });
            }
        }
    }
    refused
}

fn merge(out: &mut Outcome, more: Outcome) {
    out.events.extend(more.events);
    out.messages.extend(more.messages);
    out.notifications.extend(more.notifications);
    if more.label_correction.is_some() {
        out.label_correction = more.label_correction;
    }
}

/// One generated complaint, validated, classified (refined by the active models, as
/// registration does) and routed, with the models' predictions for its text reading.
fn draft(
    generator: &mut Generator,
    received: Timestamp,
    now: Timestamp,
    book: &RuleBook,
    registrar: &Actor,
    insight: &redress_insight::Insight,
) -> anyhow::Result<(Draft, Vec<redress_insight::Prediction>)> {
    let body = generator.complaint(Some(received));
    let wire: NewComplaintBody = serde_json::from_value(body).context("a generated body does not parse")?;
    let head_office = book.org.head_office().code.clone();
    let new = wire.into_domain(now, &head_office).map_err(|e| anyhow::anyhow!("a generated body is invalid: {e}"))?;
    let mut classification = book.classifier.classify(&ClassifyInput {
        narrative: new.narrative.as_str(),
        request: new.request.as_str(),
        product: new.product.as_ref().map(|p| p.as_str()),
        amount_in_cny_equivalent: new.amount.as_ref().filter(|m| m.currency.as_str() == "CNY").map(|m| m.amount),
    });
    let text = format!("{}\n{}", new.narrative.as_str(), new.request.as_str());
    let predictions = insight.refine(&text, &mut classification, &book.classifier);
    // Registered a little after receipt, as a person at intake would.
    let registered = (received + SignedDuration::from_secs(generator.rng.random_range(120..6 * 3_600))).min(now);
    Ok((Draft::prepare(new, classification, book.default_rules(), registrar, registered), predictions))
}

/// How many handlers each department needs for about `queue` open complaints each: a sample of
/// the complaints is planned and lived (without the text reading) to count the open ones.
fn staffing(args: &PagesArgs, book: &RuleBook, registrar: &Actor, cut: Timestamp) -> anyhow::Result<BTreeMap<String, usize>> {
    let sample = args.complaints.clamp(1, 20_000);
    let mut generator = Generator::new(args.rng_seed ^ 0x57aff, book);
    let mut rng = StdRng::seed_from_u64(args.rng_seed ^ 0x51a);
    let departments: Vec<String> = book.org.departments().iter().map(|d| d.code.clone()).collect();
    let heads: Heads = departments
        .iter()
        .map(|d| (d.clone(), Actor { id: format!("head-{d}"), name: format!("head-{d}"), role: Role::DepartmentHead, department: Some(d.clone()) }))
        .collect();
    let span = days(f64::from(args.spread_days.max(1)));
    let mut open: BTreeMap<String, usize> = departments.iter().map(|d| (d.clone(), 0)).collect();
    let insight = redress_insight::Insight::default();
    for i in 0..sample {
        let received = cut - span + SignedDuration::from_secs_f64(span.as_secs_f64() * (i as f64 + rng.random::<f64>()) / sample as f64);
        let (d, _) = draft(&mut generator, received, cut, book, registrar, &insight)?;
        let department = d.department.clone();
        let plan = plan(&mut rng, received, cut, &departments, book);
        let ctx = RegistrationContext {
            id: ComplaintId::generate(d.now),
            serial: i as u64 + 1,
            handler: Some(UserRef { id: "estimate".into(), name: "estimate".into() }),
            duplicate_of: None,
        };
        let (mut c, mut out) = d.register(ctx, book.default_rules());
        live(&mut c, &mut out, &plan, &heads, book.default_rules(), cut);
        if c.status.is_open() && c.owner.handler.is_some() {
            *open.entry(department).or_default() += 1;
        }
    }
    let scale = args.complaints as f64 / sample as f64;
    Ok(open.into_iter().map(|(d, n)| (d, ((n as f64 * scale / args.queue.max(1) as f64).round() as usize).max(2))).collect())
}

/// Creates the users, then loads the complaints; returns up to [`RESERVOIR`] complaint numbers
/// of each department, sampled uniformly. Also the loader of `bench analytics`, which passes
/// its own options as `PagesArgs`.
pub(crate) async fn load(args: &PagesArgs, db: &FreshDb, state: &AppState, book: &Arc<RuleBook>) -> anyhow::Result<BTreeMap<String, Vec<String>>> {
    let now = Timestamp::now();
    let store = db.store.as_ref();
    let (intake, _) = redress_app::users::create_with_token(store, "bench-intake", Role::IntakeAgent, None, None, now).await.context("creating the intake user")?;
    let registrar = Caller::new(intake.clone()).actor();

    let t = Instant::now();
    let staff = staffing(args, book, &registrar, now)?;
    let mut heads: Heads = HashMap::new();
    let mut total_handlers = 0;
    for (d, n) in &staff {
        let code = d.to_lowercase();
        let (head, _) = redress_app::users::create_with_token(store, &format!("bench-head-{code}"), Role::DepartmentHead, Some(d), None, now).await?;
        heads.insert(d.clone(), Caller::new(head).actor());
        for k in 1..=*n {
            redress_app::users::create_with_token(store, &format!("bench-handler-{code}-{k:03}"), Role::Handler, Some(d), None, now).await?;
        }
        total_handlers += n;
    }
    println!(
        "  users:    bench-intake (registers), a department head in each of {} departments, {total_handlers} handlers for about {} open complaints each ({}; planned in {:.1} s)",
        staff.len(),
        args.queue,
        staff.iter().map(|(d, n)| format!("{d} {n}")).collect::<Vec<_>>().join(", "),
        t.elapsed().as_secs_f64()
    );
    let heads = Arc::new(heads);

    let engine = store.engine();
    let concurrency = args.concurrency.unwrap_or(if engine == "sqlite" { 1024 } else { 64 }).max(1);
    let mut generator = Generator::new(args.rng_seed, book);
    let mut rng = StdRng::seed_from_u64(args.rng_seed ^ 0x11fe);
    let departments: Vec<String> = book.org.departments().iter().map(|d| d.code.clone()).collect();
    let span = days(f64::from(args.spread_days.max(1)));
    let oldest = now - span;
    let step = span.as_secs_f64() / args.complaints.max(1) as f64;
    let bar = if args.quiet { ProgressBar::hidden() } else { ProgressBar::new(args.complaints as u64) };
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} {per_sec} eta {eta}").unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let plain_progress = bar.is_hidden() && !args.quiet;
    println!(
        "\nloading {} complaints ({concurrency} in flight; received over the last {} days, oldest first; lived up to now with the domain's actions)…",
        args.complaints, args.spread_days
    );
    let refused: Arc<std::sync::Mutex<BTreeMap<String, u64>>> = Arc::default();
    let mut reservoirs: BTreeMap<String, (u64, Vec<String>)> = BTreeMap::new();
    let mut statuses: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut due: BTreeMap<String, u64> = BTreeMap::new();
    let mut unassigned_open = 0u64;
    let mut versions = 0u64;
    let (mut ok, mut failures) = (0u64, 0u64);
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
    let duplicate_departments = redress_app::policy::visible_departments(&Caller::new(intake.clone()), &book.org);
    let insight = state.insight.get();
    while next < args.complaints || !in_flight.is_empty() {
        while next < args.complaints && in_flight.len() < concurrency {
            let received = oldest + SignedDuration::from_secs_f64((next as f64 + rng.random::<f64>()) * step);
            let (d, predictions) = draft(&mut generator, received, now, book, &registrar, &insight)?;
            let plan = plan(&mut rng, received, now, &departments, book);
            let st = state.clone();
            let book = book.clone();
            let heads = heads.clone();
            let refused = refused.clone();
            let duplicate_departments = duplicate_departments.clone();
            in_flight.spawn(async move {
                let insight = st.insight.get();
                let new = &d.new;
                let index = redress_app::intelligence::text_index(&insight, new.title.as_ref().map_or("", |t| t.as_str()), new.narrative.as_str(), new.request.as_str(), predictions);
                let emotion = redress_app::analytics::intake_emotion(&index.reading);
                let keywords = redress_app::analytics::intake_keywords(&index.reading);
                let tz = redress_domain::complaint::time_zone(book.default_rules());
                let registration = Registration {
                    id: ComplaintId::generate(d.now),
                    department: d.department.clone(),
                    duplicate_key: d.duplicate_key(),
                    external_ref: d.new.external_ref.clone().map(|r| r.to_string()),
                    idempotency: None,
                    duplicate_departments,
                    build: Box::new(move |ctx| {
                        let rules = book.default_rules();
                        let (mut c, mut out) = d.clone().register(ctx, rules);
                        c.emotion = emotion.clone();
                        c.keywords = keywords.clone();
                        if let Some(step) = live(&mut c, &mut out, &plan, &heads, rules, now)
                            && let Ok(mut refused) = refused.lock()
                        {
                            *refused.entry(step).or_default() += 1;
                        }
                        (c, out)
                    }),
                    text: index,
                    tracking_code_hash: None,
                    attachments: Vec::new(),
                    stats: Box::new(move |c| redress_analytics::cells_of(c, &tz)),
                };
                st.store.register(registration).await
            });
            next += 1;
        }
        let Some(done) = in_flight.join_next().await else { continue };
        match done {
            Ok(Ok(Registered::Created(c) | Registered::Replayed(c))) => {
                ok += 1;
                *statuses.entry(c.status.as_str()).or_default() += 1;
                versions += u64::from(c.version);
                if c.status.is_open() {
                    *due.entry(format!("{:?}", c.due_state)).or_default() += 1;
                    if c.owner.handler.is_none() {
                        unassigned_open += 1;
                    }
                }
                let (seen, kept) = reservoirs.entry(c.owner.department.clone()).or_default();
                *seen += 1;
                if kept.len() < RESERVOIR {
                    kept.push(c.number.clone());
                } else {
                    let j = rng.random_range(0..*seen);
                    if (j as usize) < RESERVOIR {
                        kept[j as usize] = c.number.clone();
                    }
                }
            }
            Ok(Err(e)) => {
                failures += 1;
                if first_failures.len() < 5 {
                    first_failures.push(e.to_string());
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
            let done = ok + failures;
            eprintln!("  … {done}/{} loaded, {:.0}/s", args.complaints, done as f64 / t0.elapsed().as_secs_f64());
        }
    }
    let elapsed = t0.elapsed();
    bar.finish_and_clear();
    println!("  loaded {ok} complaints in {:.1} s: {:.0} complaints/s; {failures} failures", elapsed.as_secs_f64(), ok as f64 / elapsed.as_secs_f64());
    for f in &first_failures {
        println!("    {f}");
    }
    println!("  CPU: {}", cpu.report());
    if let (Some(p), Some(before)) = (&db.postgres, &pg_before) {
        println!("       {}", p.report(before, ok).await);
    }
    let refused = refused.lock().map(|r| r.clone()).unwrap_or_default();
    if !refused.is_empty() {
        println!(
            "  note: planned steps the domain refused (those complaints stopped there): {}",
            refused.iter().map(|(s, n)| format!("{s} ×{n}")).collect::<Vec<_>>().join(", ")
        );
    }
    let open: u64 = statuses.iter().filter(|(s, _)| Status::parse(s).is_some_and(Status::is_open)).map(|(_, n)| n).sum();
    println!("  statuses: {}", statuses.iter().map(|(s, n)| format!("{s} {n}")).collect::<Vec<_>>().join(", "));
    println!(
        "  open: {open} ({unassigned_open} unassigned in a department's queue); due states of the open ones: {}",
        due.iter().map(|(s, n)| format!("{s} {n}")).collect::<Vec<_>>().join(", ")
    );
    println!("  history: {:.1} versions per complaint on average (each action one event, registration three)", versions as f64 / ok.max(1) as f64);
    let count = store.count().await?;
    println!("  durability: the store holds {count} complaints; {ok} registrations returned Ok — {}", if count == ok { "equal" } else { "MISMATCH" });
    Ok(reservoirs.into_iter().map(|(d, (_, kept))| (d, kept)).collect())
}

/// Complaint numbers of each department of an existing database: pages of the department's
/// newest-first list that start at random moments of the last year.
async fn sample_departments(store: &dyn Store, rng_seed: u64) -> anyhow::Result<BTreeMap<String, Vec<String>>> {
    let users = store.users().await?;
    let mut departments: Vec<String> = users.iter().filter_map(|u| u.department.clone()).collect();
    departments.sort();
    departments.dedup();
    let mut rng = StdRng::seed_from_u64(rng_seed ^ 0x5a3e);
    let now = Timestamp::now();
    let mut out = BTreeMap::new();
    for d in departments {
        let mut numbers = Vec::new();
        for _ in 0..40 {
            let at = now - days(rng.random_range(0.0..400.0));
            let page = store.list(&ComplaintFilter { department: Some(d.clone()), received_to: Some(at), limit: 50, ..Default::default() }).await?;
            numbers.extend(page.items.into_iter().map(|c| c.number));
        }
        numbers.sort();
        numbers.dedup();
        out.insert(d, numbers);
    }
    Ok(out)
}

/// Search queries of Chinese words, as a user might type them: words of generated Chinese
/// complaints, picked as often as they occur; two words come from the same complaint.
fn chinese_queries(seed: u64, book: &RuleBook, n: usize) -> (Vec<String>, Vec<String>) {
    crate::bench::queries_of_words(seed, book, n, |w| w.chars().count() >= 2 && w.chars().all(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)))
}

// ---------------------------------------------------------------------------------------------
// The browser.

/// A signed-in browser: one keep-alive connection, the session cookie, no redirects followed.
pub(crate) struct Browser {
    http: reqwest::Client,
    base: String,
    /// The session cookie's value.
    pub(crate) session: String,
}

struct Fetched {
    status: reqwest::StatusCode,
    to_headers: Duration,
    total: Duration,
    body: Vec<u8>,
}

impl Fetched {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn cookie_value(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| k.trim() == name)
        .map(|(_, v)| v.to_string())
}

impl Browser {
    /// Signs in through the pages: GET /sign-in for the form cookie and token, POST the form.
    pub(crate) async fn sign_in(base: &str, name: &str) -> anyhow::Result<Browser> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .tcp_nodelay(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(900))
            .build()?;
        let res = http.get(format!("{base}/sign-in?next=/work")).header(reqwest::header::ACCEPT_LANGUAGE, "zh-CN,zh;q=0.9").send().await?;
        let form_cookie = cookie_value(&res, "rdr_form").context("GET /sign-in set no rdr_form cookie")?;
        let html = res.text().await?;
        let csrf = attribute_after(&html, "name=\"csrf\"", "value").context("the sign-in form has no csrf field")?;
        let body = [("name", name), ("password", PASSWORD), ("csrf", csrf.as_str()), ("next", "/work")]
            .iter()
            .map(|(k, v)| format!("{k}={}", query_escape(v)))
            .collect::<Vec<_>>()
            .join("&");
        let res = http
            .post(format!("{base}/sign-in"))
            .header(reqwest::header::COOKIE, format!("rdr_form={form_cookie}"))
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await?;
        let status = res.status();
        let session = cookie_value(&res, "rdr_session").filter(|s| !s.is_empty());
        let Some(session) = session else {
            let text = res.text().await.unwrap_or_default();
            bail!("signing in as {name} failed: {status}: {}", text.chars().take(300).collect::<String>());
        };
        Ok(Browser { http, base: base.to_string(), session })
    }

    async fn get(&self, path: &str) -> anyhow::Result<Fetched> {
        let t = Instant::now();
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .header(reqwest::header::COOKIE, format!("rdr_session={}", self.session))
            .header(reqwest::header::ACCEPT_LANGUAGE, "zh-CN,zh;q=0.9")
            .send()
            .await
            .with_context(|| format!("GET {path}"))?;
        let to_headers = t.elapsed();
        let status = res.status();
        let body = res.bytes().await.with_context(|| format!("reading GET {path}"))?.to_vec();
        let total = t.elapsed();
        if status != reqwest::StatusCode::OK && status.is_redirection() {
            bail!("GET {path}: {status} (the session was not accepted?)");
        }
        Ok(Fetched { status, to_headers, total, body })
    }

    /// `warmup` untimed and `samples` timed GETs of `path(i)`; each must be 200 and hold `marker`.
    async fn timed(&self, budget: Duration, name: &'static str, warmup: usize, samples: usize, mut path: impl FnMut(usize) -> String, marker: &str) -> anyhow::Result<PageRun> {
        let (mut wall, mut headers) = (Vec::with_capacity(samples), Vec::with_capacity(samples));
        let mut failed = 0u64;
        let mut bytes = 0u64;
        let mut first_failure = None;
        // The warm-up gets a quarter of the budget, the timed requests the rest (at least 5).
        let started = Instant::now();
        let mut i = 0;
        while i < warmup && started.elapsed() < budget / 4 {
            // A failed warm-up request shows again among the timed ones.
            let _ = self.get(&path(i)).await;
            i += 1;
        }
        let timed_from = Instant::now();
        for k in 0..samples {
            if k >= 5 && timed_from.elapsed() > budget - budget / 4 {
                println!("  note ({name}): stopped after {k} timed requests, the page's {} s budget being spent", budget.as_secs());
                break;
            }
            let p = path(i + k);
            let t = Instant::now();
            match self.get(&p).await {
                Ok(f) => {
                    let good = f.status == reqwest::StatusCode::OK && f.text().contains(marker);
                    wall.push(micros(f.total));
                    headers.push(micros(f.to_headers));
                    bytes += f.body.len() as u64;
                    if !good {
                        failed += 1;
                        if first_failure.is_none() {
                            first_failure = Some(format!("GET {p}: {} {}", f.status, f.text().chars().take(200).collect::<String>()));
                        }
                    }
                }
                // A request that fails (a time-out) counts with the time it took.
                Err(e) => {
                    wall.push(micros(t.elapsed()));
                    headers.push(micros(t.elapsed()));
                    failed += 1;
                    if first_failure.is_none() {
                        first_failure = Some(format!("{e:#}"));
                    }
                }
            }
        }
        if let Some(f) = &first_failure {
            println!("  FAILED ({name}): {f}");
        }
        let n = wall.len().max(1) as u64;
        Ok(PageRun { name, wall: Latencies::new(wall), headers: Latencies::new(headers), failed, mean_bytes: bytes / n })
    }
}

/// Prints a page's figures as soon as they are measured.
fn show_run(run: PageRun) -> PageRun {
    run.print();
    run
}

struct PageRun {
    name: &'static str,
    wall: Latencies,
    headers: Latencies,
    failed: u64,
    mean_bytes: u64,
}

impl PageRun {
    fn print(&self) {
        println!("  {:<36} wall:       {}", self.name, self.wall.line());
        println!(
            "  {:<36} to headers: p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms; pages of {:.1} KiB on average{}",
            "",
            self.headers.pct(50.0),
            self.headers.pct(99.0),
            self.headers.max(),
            self.mean_bytes as f64 / 1024.0,
            if self.failed > 0 { format!("  FAILED: {}", self.failed) } else { String::new() }
        );
    }
}

/// The value of attribute `attr` in the tag where `anchor` occurs.
fn attribute_after(html: &str, anchor: &str, attr: &str) -> Option<String> {
    let at = html.find(anchor)?;
    let tag_start = html[..at].rfind('<')?;
    let tag_end = at + html[at..].find('>')?;
    let tag = &html[tag_start..tag_end];
    let key = format!("{attr}=\"");
    let v = tag.find(&key)? + key.len();
    let end = tag[v..].find('"')?;
    Some(unescape(&tag[v..v + end]))
}

fn unescape(s: &str) -> String {
    s.replace("&amp;", "&").replace("&#x2f;", "/").replace("&#x2F;", "/").replace("&#47;", "/").replace("&quot;", "\"").replace("&#x27;", "'").replace("&#39;", "'")
}

/// The number in the element with this id (`<span class="count" id="count-total">123</span>`).
fn find_count(html: &str, id: &str) -> Option<u64> {
    let key = format!("id=\"{id}\">");
    let at = html.find(&key)? + key.len();
    let end = html[at..].find('<')?;
    html[at..at + end].trim().replace(',', "").parse().ok()
}

/// The page's link to the next page (`rel="next"`).
fn next_link(html: &str) -> Option<String> {
    attribute_after(html, "rel=\"next\"", "href")
}

/// The complaint numbers a list links to.
fn complaint_links(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find("href=\"/complaints/") {
        rest = &rest[i + "href=\"/complaints/".len()..];
        if let Some(end) = rest.find('"') {
            let n = &rest[..end];
            if !n.is_empty() && !n.contains('/') && n != "new" && !out.iter().any(|x| x == n) {
                out.push(n.to_string());
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Where the time goes.

/// Most seconds spent timing one call of the breakdown (at least 3 calls are timed).
const CALL_BUDGET: Duration = Duration::from_secs(60);

async fn time_calls<F, Fut>(warmup: usize, samples: usize, mut f: F) -> anyhow::Result<Latencies>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let mut lat = Vec::with_capacity(samples);
    let started = Instant::now();
    let mut i = 0;
    while i < warmup && started.elapsed() < CALL_BUDGET / 4 {
        f(i).await?;
        i += 1;
    }
    let timed_from = Instant::now();
    for k in 0..samples {
        if k >= 3 && timed_from.elapsed() > CALL_BUDGET {
            break;
        }
        let t = Instant::now();
        f(i + k).await?;
        lat.push(micros(t.elapsed()));
    }
    Ok(Latencies::new(lat))
}

fn app_err(e: redress_app::AppError) -> anyhow::Error {
    anyhow::anyhow!("{}: {}", e.code, e.message)
}

/// What the breakdown times: the same pages' inputs as the HTTP run.
struct Inputs<'a> {
    session: &'a str,
    page3: &'a str,
    in_scope: &'a [String],
    queue: &'a [String],
    one_word: &'a [String],
    two_words: &'a [String],
}

/// Decodes `%XX` escapes and `+` of a query-string value.
fn percent_decode(s: &str) -> String {
    let hex = |c: u8| (c as char).to_digit(16);
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn breakdown(app: &AppState, caller: &Caller, inputs: Inputs<'_>, warmup: usize, samples: usize, search: bool, rng: &mut StdRng) -> anyhow::Result<Vec<(String, Latencies)>> {
    use redress_app::work::{WorkParams, my_work};
    let Inputs { session, page3, in_scope, queue, one_word, two_words } = inputs;
    let mut out = Vec::new();
    let cursor = page3.split("cursor=").nth(1).map(|c| percent_decode(c.split('&').next().unwrap_or(c))).unwrap_or_default();
    out.push((
        "session lookup (every page: accounts::session)".to_string(),
        time_calls(warmup, samples, move |_| async move { redress_app::accounts::session(app, session).await.map(|_| ()).map_err(app_err) }).await?,
    ));
    let first = &WorkParams::default();
    out.push(("My work: work::my_work, first page".into(), time_calls(warmup, samples, move |_| async move { my_work(app, caller, first).await.map(|_| ()).map_err(app_err) }).await?));
    let overdue = &WorkParams { due_state: Some("overdue".into()), ..Default::default() };
    out.push(("My work: work::my_work, due_state=overdue".into(), time_calls(warmup, samples, move |_| async move { my_work(app, caller, overdue).await.map(|_| ()).map_err(app_err) }).await?));
    let third = &WorkParams { cursor: Some(cursor), ..Default::default() };
    out.push(("My work: work::my_work, page 3".into(), time_calls(warmup, samples, move |_| async move { my_work(app, caller, third).await.map(|_| ()).map_err(app_err) }).await?));

    let picks: Vec<String> = (0..warmup + samples).map(|_| in_scope.choose(rng).expect("numbers").clone()).collect();
    let picks = &picks;
    out.push((
        "complaint: complaints::history".into(),
        time_calls(warmup, samples, move |i| async move { redress_app::complaints::history(app, caller, &picks[i]).await.map(|_| ()).map_err(app_err) }).await?,
    ));
    let mut ids = Vec::with_capacity(picks.len());
    for n in picks {
        ids.push(redress_app::complaints::get(app, caller, n).await.map_err(app_err)?.id);
    }
    let ids = &ids;
    out.push(("complaint: store.messages".into(), time_calls(warmup, samples, move |i| async move { app.store.messages(ids[i]).await.map(|_| ()).map_err(Into::into) }).await?));
    out.push((
        "complaint: text::reading".into(),
        time_calls(warmup, samples, move |i| async move { redress_app::text::reading(app, caller, &ids[i].to_string()).await.map(|_| ()).map_err(app_err) }).await?,
    ));
    out.push((
        "complaint: text::similar (5)".into(),
        time_calls(warmup, samples, move |i| async move { redress_app::text::similar(app, caller, &ids[i].to_string(), 5).await.map(|_| ()).map_err(app_err) }).await?,
    ));
    out.push(("complaint: store.users (every user)".into(), time_calls(warmup, samples, move |_| async move { app.store.users().await.map(|_| ()).map_err(Into::into) }).await?));
    let complaints: Vec<Complaint> = {
        let mut v = Vec::new();
        for id in ids.iter().take(50) {
            if let Some(c) = app.store.complaint(*id).await? {
                v.push(c);
            }
        }
        v
    };
    let complaints = &complaints;
    out.push((
        "complaint: actions::available".into(),
        time_calls(warmup, samples, move |i| async move {
            std::hint::black_box(redress_app::actions::available(app, caller, &complaints[i % complaints.len()]));
            Ok(())
        })
        .await?,
    ));
    if !queue.is_empty() {
        out.push((
            "complaint from My work: complaints::history".into(),
            time_calls(warmup, samples, move |i| async move { redress_app::complaints::history(app, caller, &queue[i % queue.len()]).await.map(|_| ()).map_err(app_err) }).await?,
        ));
    }
    if !search {
        return Ok(out);
    }
    for (name, words) in [("search: text::search, one word", one_word), ("search: text::search, two words", two_words)] {
        out.push((
            name.into(),
            time_calls(warmup, samples, move |i| async move {
                let p = redress_app::text::SearchParams { q: Some(words[i % words.len()].clone()), limit: Some("20".into()), offset: Some("0".into()), ..Default::default() };
                redress_app::text::search(app, caller, &p).await.map(|_| ()).map_err(app_err)
            })
            .await?,
        ));
    }
    Ok(out)
}
