//! `redress import`: bulk intake from files, with a progress bar and a per-row report.

use std::fs::File;
use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use redress_app::import::{RowOutcome, import_cfpb_record};
use redress_app::{App, Caller};
use redress_import::CfpbReader;

/// Import commands.
#[derive(Subcommand)]
pub enum ImportCommand {
    /// Import the CFPB public complaint CSV export (official or underscored re-export columns).
    /// Importing the same file again creates no duplicates: the CFPB Complaint ID is kept as the
    /// external reference.
    Cfpb {
        /// The CSV file.
        file: PathBuf,
        /// Write rejected rows (line and reason) to this file as well as the summary.
        #[arg(long)]
        errors: Option<PathBuf>,
        /// Hide the progress bar.
        #[arg(long)]
        quiet: bool,
    },
}

/// What an import did; the counts add up to the records read.
#[derive(Debug, Default, serde::Serialize)]
pub struct ImportSummary {
    /// Records read.
    pub read: u64,
    /// Newly registered.
    pub imported: u64,
    /// Already present (same external reference).
    pub already_present: u64,
    /// Rejected, each with its line and reason.
    pub rejected: u64,
}

/// Runs an import command.
pub async fn run(cmd: ImportCommand, st: &App) -> anyhow::Result<()> {
    let ImportCommand::Cfpb { file, errors, quiet } = cmd;
    let (summary, rejections) = import_cfpb(st, &file, !quiet).await?;
    for r in rejections.iter().take(50) {
        eprintln!("rejected {r}");
    }
    if rejections.len() > 50 {
        eprintln!("… and {} more rejected rows", rejections.len() - 50);
    }
    if let Some(path) = errors {
        std::fs::write(&path, rejections.join("\n") + "\n").with_context(|| format!("writing {}", path.display()))?;
    }
    println!(
        "read {}, imported {}, already present {}, rejected {}",
        summary.read, summary.imported, summary.already_present, summary.rejected
    );
    Ok(())
}

/// Imports a CFPB CSV file; returns the summary and the rejected rows ("line N: reason"), in
/// line order.
pub async fn import_cfpb(st: &App, file: &std::path::Path, progress: bool) -> anyhow::Result<(ImportSummary, Vec<String>)> {
    let size = std::fs::metadata(file).with_context(|| format!("reading {}", file.display()))?.len();
    let reader = CfpbReader::new(File::open(file).with_context(|| format!("opening {}", file.display()))?)
        .with_context(|| format!("{}", file.display()))?;
    let bar = if progress { ProgressBar::new(size) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let importer = Caller::new(redress_store::User {
        id: "import".into(),
        name: "CFPB import".into(),
        role: redress_domain::org::Role::IntakeAgent,
        department: None,
        active: true,
        open_load: 0,
        language: None,
    });
    let mut summary = ImportSummary::default();
    let mut rejections: Vec<String> = Vec::new();
    // Rows are registered concurrently so the store can commit them in groups; each row still
    // succeeds or fails on its own.
    let mut reader = reader;
    let mut pending = futures::stream::FuturesUnordered::new();
    let mut done_reading = false;
    loop {
        while !done_reading && pending.len() < 256 {
            match reader.next() {
                Some(Ok(record)) => {
                    summary.read += 1;
                    let line = record.line;
                    let st = st.clone();
                    let importer = importer.clone();
                    pending.push(async move { (line, import_cfpb_record(&st, &importer, &record).await) });
                }
                Some(Err(e)) => {
                    summary.read += 1;
                    summary.rejected += 1;
                    rejections.push(e.to_string());
                }
                None => done_reading = true,
            }
        }
        bar.set_position(reader.bytes_read());
        match pending.next().await {
            Some((line, result)) => match result {
                Ok(RowOutcome::Imported) => summary.imported += 1,
                Ok(RowOutcome::AlreadyPresent) => summary.already_present += 1,
                Err(e) => {
                    summary.rejected += 1;
                    match &e.field {
                        Some(field) => rejections.push(format!("line {line}: {field}: {}", e.message)),
                        None => rejections.push(format!("line {line}: {}", e.message)),
                    }
                }
            },
            None if done_reading => break,
            None => {}
        }
        bar.set_message(format!("{} imported, {} present, {} rejected", summary.imported, summary.already_present, summary.rejected));
    }
    bar.finish_and_clear();
    rejections.sort_by_key(|r| r.split(':').next().and_then(|l| l.trim_start_matches("line ").parse::<u64>().ok()).unwrap_or(0));
    debug_assert_eq!(summary.read, summary.imported + summary.already_present + summary.rejected);
    Ok((summary, rejections))
}
