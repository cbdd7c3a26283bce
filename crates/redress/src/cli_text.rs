//! Text-intelligence commands: `search`, `analyze`, `train`, `eval`, `models`, `reindex`,
//! `incidents`.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use redress_learn::{Example, Model, TrainConfig};
use redress_app::text::SearchParams;
use redress_app::{App, Caller};
use redress_store::ModelInfo;

use crate::cli_error::app_error;

/// `redress search`.
#[derive(Args)]
pub struct SearchArgs {
    /// Words to find (every one must occur; quote a phrase: "银行卡 盗刷").
    #[arg(required = true)]
    pub query: Vec<String>,
    /// Results to show (1–100).
    #[arg(long, default_value_t = 20)]
    pub limit: u32,
    /// Only complaints in one of these statuses (comma-separated).
    #[arg(long)]
    pub status: Option<String>,
    /// Only this department.
    #[arg(long)]
    pub department: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Where labelled texts come from.
#[derive(Args, Clone)]
pub struct LabelledSource {
    /// A CSV file with a header row.
    #[arg(long)]
    pub from: Option<PathBuf>,
    /// The CSV column holding the text.
    #[arg(long, default_value = "text")]
    pub text_column: String,
    /// The CSV column holding the label.
    #[arg(long, default_value = "label")]
    pub label_column: String,
    /// A plain-text file with one text per line, all with one label: LABEL=FILE (repeatable),
    /// e.g. --lines negative=neg.txt --lines positive=pos.txt.
    #[arg(long = "lines", value_name = "LABEL=FILE")]
    pub lines: Vec<String>,
}

/// `redress train`.
#[derive(Args)]
pub struct TrainArgs {
    /// Where the labelled texts come from.
    #[command(flatten)]
    pub source: LabelledSource,
    /// What the model predicts: a taxonomy dimension (business_type, cause, cfpb_product,
    /// cfpb_issue), `sentiment` (labels negative/positive), or any name. Without --from or
    /// --lines, the model learns from the labels people confirmed or corrected in the store.
    #[arg(long)]
    pub target: Option<String>,
    /// Store the model without making it the one in use.
    #[arg(long)]
    pub no_activate: bool,
    /// Also estimate accuracy by k-fold cross-validation before training (0: skip).
    #[arg(long, default_value_t = 0)]
    pub folds: usize,
}

/// `redress eval`.
#[derive(Args)]
pub struct EvalArgs {
    /// Where the labelled texts come from.
    #[command(flatten)]
    pub source: LabelledSource,
    /// Evaluate this stored model on the labelled data instead of training.
    #[arg(long)]
    pub model: Option<String>,
    /// Labels from the store for this target (when no file is given).
    #[arg(long)]
    pub target: Option<String>,
    /// k-fold cross-validation with k folds.
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Instead of k-fold, hold back this fraction for testing (e.g. 0.2).
    #[arg(long)]
    pub holdout: Option<f64>,
    /// Seed for the fold assignment.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

/// `redress models`.
#[derive(Subcommand)]
pub enum ModelsCommand {
    /// List the stored models, newest first.
    List,
    /// Make a stored model the one in use for its target.
    Activate {
        /// Model id.
        id: String,
    },
}

/// `redress incidents`.
#[derive(Subcommand)]
pub enum IncidentsCommand {
    /// Examine the complaints registered since the last pass and group them into incidents
    /// (the server does this every few seconds).
    Detect,
    /// List recent incidents.
    List {
        /// Most to show.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
}

fn spinner(message: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").unwrap_or_else(|_| ProgressStyle::default_spinner()));
    bar.set_message(message.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// Runs `redress search`.
pub async fn search(args: SearchArgs, st: &App) -> anyhow::Result<()> {
    let text = args.query.join(" ");
    // An operator at the server's own terminal sees every department.
    let operator = Caller::system();
    let params = SearchParams { q: Some(text.clone()), status: args.status, department: args.department, limit: Some(args.limit.clamp(1, 100).to_string()), ..Default::default() };
    let query = redress_app::text::parse_query(&text).map_err(app_error)?;
    let started = Instant::now();
    let results = redress_app::text::search(st, &operator, &params).await.map_err(app_error)?;
    let took = started.elapsed();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&results)?);
        return Ok(());
    }
    let total = if results.total_is_exact { results.total.to_string() } else { format!("at least {}", results.total) };
    println!("{total} complaints match \"{text}\" ({:.1} ms)", took.as_secs_f64() * 1000.0);
    for hit in &results.items {
        let shown = ["title", "narrative", "request", "notes"].iter().find_map(|f| hit.snippets.get(*f).map(|s| s.text.clone())).unwrap_or_default();
        let snippet = redress_text::snippet(&shown, &query, 120).map(|s| s.marked("[", "]")).unwrap_or(shown);
        println!("{}  {:<14} {}  {}", hit.number, hit.status.as_str(), hit.received_at.strftime("%Y-%m-%d"), snippet.replace('\n', " "));
    }
    Ok(())
}

/// Runs `redress analyze`: one text per line on standard input, one JSON object per line out.
pub fn analyze(st: &App) -> anyhow::Result<()> {
    let insight = st.insight.get();
    let stdin = std::io::stdin();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (n, line) in stdin.lock().lines().enumerate() {
        let line = line.with_context(|| format!("reading line {} of standard input", n + 1))?;
        if line.trim().is_empty() {
            writeln!(out, "{}", serde_json::json!({ "line": n + 1, "error": "empty line" }))?;
            continue;
        }
        let analysis = insight.analyze(&line, &st.rules.classifier);
        serde_json::to_writer(&mut out, &analysis)?;
        writeln!(out)?;
    }
    out.flush()?;
    Ok(())
}

/// Labelled texts read from files, with the rows that could not be used.
struct Loaded {
    examples: Vec<Example>,
    rejected: Vec<String>,
    source: String,
}

fn read_csv(path: &Path, text_column: &str, label_column: &str) -> anyhow::Result<Loaded> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_path(path).with_context(|| format!("opening {}", path.display()))?;
    let headers = reader.headers().with_context(|| format!("reading the header of {}", path.display()))?.clone();
    let find = |name: &str| headers.iter().position(|h| h.trim() == name);
    let text_at = find(text_column).with_context(|| format!("{} has no column '{text_column}' (columns: {})", path.display(), headers.iter().collect::<Vec<_>>().join(", ")))?;
    let label_at = find(label_column).with_context(|| format!("{} has no column '{label_column}' (columns: {})", path.display(), headers.iter().collect::<Vec<_>>().join(", ")))?;
    let mut loaded = Loaded { examples: Vec::new(), rejected: Vec::new(), source: path.display().to_string() };
    for record in reader.records() {
        match record {
            Ok(r) => {
                let line = r.position().map_or(0, |p| p.line());
                let text = r.get(text_at).map(str::trim).unwrap_or_default();
                let label = r.get(label_at).map(str::trim).unwrap_or_default();
                if text.is_empty() || label.is_empty() {
                    loaded.rejected.push(format!("line {line}: empty {}", if text.is_empty() { text_column } else { label_column }));
                } else {
                    loaded.examples.push(Example { text: text.to_string(), label: label.to_string() });
                }
            }
            Err(e) => loaded.rejected.push(format!("line {}: {e}", e.position().map_or(0, |p| p.line()))),
        }
    }
    Ok(loaded)
}

fn read_lines(spec: &str) -> anyhow::Result<Loaded> {
    let (label, file) = spec.split_once('=').with_context(|| format!("--lines takes LABEL=FILE, not '{spec}'"))?;
    let text = std::fs::read(file).with_context(|| format!("reading {file}"))?;
    let mut loaded = Loaded { examples: Vec::new(), rejected: Vec::new(), source: file.to_string() };
    for (n, line) in text.split(|b| *b == b'\n').enumerate() {
        match std::str::from_utf8(line) {
            Ok(l) if l.trim().is_empty() => {}
            Ok(l) => loaded.examples.push(Example { text: l.trim().to_string(), label: label.to_string() }),
            Err(_) => loaded.rejected.push(format!("{file} line {}: not UTF-8", n + 1)),
        }
    }
    Ok(loaded)
}

async fn load_examples(source: &LabelledSource, target: Option<&str>, st: &App) -> anyhow::Result<Loaded> {
    let bar = spinner("reading labelled texts");
    let loaded = if let Some(path) = &source.from {
        read_csv(path, &source.text_column, &source.label_column)?
    } else if !source.lines.is_empty() {
        let mut all = Loaded { examples: Vec::new(), rejected: Vec::new(), source: String::new() };
        for spec in &source.lines {
            let one = read_lines(spec)?;
            all.examples.extend(one.examples);
            all.rejected.extend(one.rejected);
            all.source = if all.source.is_empty() { one.source } else { format!("{}, {}", all.source, one.source) };
        }
        all
    } else {
        let Some(target) = target else { bail!("give --from FILE, --lines LABEL=FILE, or --target DIMENSION to learn from the labels in the store") };
        let labelled = redress_app::text::labelled_examples(st, &Caller::system(), target, 1_000_000).await.map_err(app_error)?;
        let examples = labelled
            .into_iter()
            .map(|l| Example { text: format!("{}\n{}", l.complaint.narrative.as_str(), l.complaint.request.as_str()), label: l.code })
            .collect();
        Loaded { examples, rejected: Vec::new(), source: format!("labels confirmed in the store ({target})") }
    };
    bar.finish_and_clear();
    // Repeated rows (exports often hold the same text many times) would teach nothing new, and in
    // an evaluation a copy on each side of the split would flatter the figures: keep one.
    let mut loaded = loaded;
    let before = loaded.examples.len();
    let mut seen = std::collections::HashSet::new();
    loaded.examples.retain(|e| seen.insert((e.text.clone(), e.label.clone())));
    let duplicates = before - loaded.examples.len();
    eprintln!(
        "read {} labelled texts from {}; {} repeated rows skipped; {} rows rejected",
        loaded.examples.len(),
        loaded.source,
        duplicates,
        loaded.rejected.len()
    );
    for r in loaded.rejected.iter().take(20) {
        eprintln!("  rejected {r}");
    }
    if loaded.rejected.len() > 20 {
        eprintln!("  … and {} more", loaded.rejected.len() - 20);
    }
    Ok(loaded)
}

fn label_counts(examples: &[Example]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for e in examples {
        *counts.entry(e.label.clone()).or_default() += 1;
    }
    counts
}

fn cross_validate(examples: &[Example], folds: usize, seed: u64) -> anyhow::Result<redress_learn::Report> {
    let bar = ProgressBar::new(folds as u64);
    bar.set_style(ProgressStyle::with_template("{msg} {bar:30} {pos}/{len} folds [{elapsed}]").unwrap_or_else(|_| ProgressStyle::default_bar()));
    bar.set_message("cross-validating");
    let report = redress_learn::cross_validate(examples, folds, &TrainConfig::default(), seed, &mut |done, _| bar.set_position(done as u64))?;
    bar.finish_and_clear();
    Ok(report)
}

/// Runs `redress train`.
pub async fn train(args: TrainArgs, st: &App) -> anyhow::Result<()> {
    let target = match (&args.target, &args.source.from, args.source.lines.is_empty()) {
        (Some(t), _, _) => t.clone(),
        (None, Some(_), _) => args.source.label_column.clone(),
        (None, None, false) => redress_insight::SENTIMENT.to_string(),
        (None, None, true) => bail!("give --target DIMENSION to learn from the labels in the store"),
    };
    let loaded = load_examples(&args.source, Some(&target), st).await?;
    let counts = label_counts(&loaded.examples);
    if counts.len() < 2 {
        bail!("training needs at least two different labels; found {}", counts.len());
    }
    let mut summary = serde_json::json!({
        "source": loaded.source,
        "examples": loaded.examples.len(),
        "rejected": loaded.rejected.len(),
        "labels": counts.len(),
    });
    if args.folds >= 2 {
        let report = cross_validate(&loaded.examples, args.folds, 7)?;
        println!("{args_folds}-fold cross-validation:\n{report}", args_folds = args.folds);
        summary["cross_validation"] = serde_json::json!({ "folds": args.folds, "accuracy": report.accuracy, "macro_f1": report.macro_f1 });
    }
    let bar = spinner(&format!("training on {} texts, {} labels", loaded.examples.len(), counts.len()));
    let started = Instant::now();
    // Training is CPU-bound: off the async threads, so a server in this process keeps serving.
    let examples = loaded.examples;
    let model = tokio::task::spawn_blocking(move || Model::train(&examples, &TrainConfig::default())).await??;
    let took = started.elapsed();
    bar.finish_and_clear();
    summary["training_seconds"] = serde_json::json!(took.as_secs_f64());
    let content = model.to_bytes();
    let id = format!("m-{}", uuid::Uuid::now_v7().simple());
    let info = ModelInfo {
        id: id.clone(),
        target: target.clone(),
        created_at: jiff::Timestamp::now(),
        active: !args.no_activate,
        summary,
        bytes: content.len() as u64,
    };
    redress_app::text::store_model(st, &Caller::system(), info, content).await.map_err(app_error)?;
    println!(
        "trained model {id} for '{target}' on {} labels in {:.2} s ({}); {}",
        counts.len(),
        took.as_secs_f64(),
        human_bytes(model.to_bytes().len()),
        if args.no_activate { "stored, not in use (redress models activate ID)" } else { "now in use" }
    );
    Ok(())
}

fn human_bytes(n: usize) -> String {
    if n >= 1 << 20 { format!("{:.1} MiB", n as f64 / (1 << 20) as f64) } else { format!("{:.1} KiB", n as f64 / 1024.0) }
}

/// Runs `redress eval`.
pub async fn eval(args: EvalArgs, st: &App) -> anyhow::Result<()> {
    let loaded = load_examples(&args.source, args.target.as_deref(), st).await?;
    if loaded.examples.is_empty() {
        bail!("no labelled texts to evaluate on");
    }
    if let Some(id) = &args.model {
        let bytes = st.store.model_content(id).await?.with_context(|| format!("no stored model '{id}' (redress models list)"))?;
        let model = Model::from_bytes(&bytes)?;
        let report = redress_learn::evaluate(&model, &loaded.examples);
        println!("model {id} on {} labelled texts from {}:\n{report}", loaded.examples.len(), loaded.source);
        return Ok(());
    }
    if let Some(fraction) = args.holdout {
        if !(0.0..1.0).contains(&fraction) || fraction == 0.0 {
            bail!("--holdout is a fraction between 0 and 1, e.g. 0.2");
        }
        let (train, test) = redress_learn::holdout_split(&loaded.examples, fraction, args.seed);
        let started = Instant::now();
        let model = Model::train(&train, &TrainConfig::default())?;
        let took = started.elapsed();
        let report = redress_learn::evaluate(&model, &test);
        println!(
            "trained on {} texts in {:.2} s, tested on the {} held back ({:.0}%):\n{report}",
            train.len(),
            took.as_secs_f64(),
            test.len(),
            fraction * 100.0
        );
        print_auc(&model, &test);
        return Ok(());
    }
    if args.folds < 2 {
        bail!("--folds must be at least 2 (or use --holdout)");
    }
    let started = Instant::now();
    let report = cross_validate(&loaded.examples, args.folds, args.seed)?;
    println!(
        "{}-fold cross-validation on {} labelled texts from {} ({:.1} s):\n{report}",
        args.folds,
        loaded.examples.len(),
        loaded.source,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// For a two-label model one of whose labels is `negative` (a sentiment model): the ROC AUC of
/// its probability of `negative`, and of the built-in emotion lexicon's negativity, on `test`.
fn print_auc(model: &Model, test: &[Example]) {
    let negative = redress_insight::NEGATIVE;
    if model.labels().len() != 2 || !model.labels().iter().any(|l| l == negative) {
        return;
    }
    let positives: Vec<bool> = test.iter().map(|e| e.label == negative).collect();
    let learned: Vec<f32> = test
        .iter()
        .map(|e| model.predict(&e.text).ranked.iter().find(|(l, _)| l == negative).map_or(0.0, |(_, p)| *p))
        .collect();
    let lexicon = redress_emotion::Analyzer::default();
    let built_in: Vec<f32> = test.iter().map(|e| lexicon.analyze(&e.text).negative_score).collect();
    println!(
        "ROC AUC of P({negative}) on the held-back texts: {:.4} (this model); {:.4} (the built-in emotion lexicon, which learned nothing from them)",
        redress_learn::roc_auc(&learned, &positives),
        redress_learn::roc_auc(&built_in, &positives)
    );
}

/// Runs `redress models`.
pub async fn models(cmd: ModelsCommand, st: &App) -> anyhow::Result<()> {
    match cmd {
        ModelsCommand::List => {
            let (models, _) = redress_app::text::models(st, &Caller::system()).await.map_err(app_error)?;
            if models.is_empty() {
                println!("no models yet: redress train --help");
            }
            for m in models {
                println!(
                    "{}  {:<14} {}  {:>10}  {}  {}",
                    m.id,
                    m.target,
                    m.created_at.strftime("%Y-%m-%d %H:%M"),
                    human_bytes(m.bytes as usize),
                    if m.active { "in use" } else { "      " },
                    m.summary
                );
            }
        }
        ModelsCommand::Activate { id } => {
            let in_use = redress_app::text::activate_model(st, &Caller::system(), &id).await.map_err(app_error)?;
            println!("{id} is now in use; running servers pick it up within a minute (in use here: {})", in_use.join(", "));
        }
    }
    Ok(())
}

/// Runs `redress reindex`: indexes complaints stored before the text index existed (search,
/// similarity, readings), with progress.
pub async fn reindex(st: &App) -> anyhow::Result<()> {
    let total = st.store.count().await?;
    let bar = ProgressBar::new(total);
    bar.set_style(ProgressStyle::with_template("indexing {bar:30} {pos}/{len} complaints ({per_sec}, {eta})").unwrap_or_else(|_| ProgressStyle::default_bar()));
    let mut done = 0u64;
    loop {
        let indexed = redress_app::text::reindex_batch(st, &Caller::system(), 500).await.map_err(app_error)?;
        if indexed == 0 {
            break;
        }
        done += indexed as u64;
        bar.inc(indexed as u64);
    }
    bar.finish_and_clear();
    println!("indexed {done} complaints");
    Ok(())
}

/// Runs `redress incidents`.
pub async fn incidents(cmd: IncidentsCommand, st: &App) -> anyhow::Result<()> {
    match cmd {
        IncidentsCommand::Detect => {
            let bar = spinner("grouping new complaints into incidents");
            let report = redress_app::jobs::detect(st).await?;
            bar.finish_and_clear();
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        IncidentsCommand::List { limit } => {
            for i in redress_app::text::incidents(st, &Caller::system(), None, limit.clamp(1, 200)).await.map_err(app_error)? {
                println!(
                    "{}  {:>5} complaints  {} → {}  {}",
                    i.id,
                    i.members,
                    i.first_seen.strftime("%Y-%m-%d %H:%M"),
                    i.last_seen.strftime("%Y-%m-%d %H:%M"),
                    i.label
                );
            }
        }
    }
    Ok(())
}
