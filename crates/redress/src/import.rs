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
    /// Import the regulator's transfer list (投诉转办清单, CSV or XLSX): each row becomes a
    /// regulator-forwarded complaint with its work-order number and deadline. Rows that fail
    /// are listed with their line and column; importing the list again adds nothing.
    Regulator {
        /// The CSV or XLSX file.
        file: PathBuf,
        /// The regulator, when the list has no column naming it.
        #[arg(long)]
        regulator: Option<String>,
    },
    /// Import the hotline system's call records (CSV or XLSX: time, caller number, agent,
    /// duration, recording file): each call joins the complaint it names or the caller's open
    /// complaint, else registers one; recordings (paths relative to the file) are stored as
    /// evidence.
    Hotline {
        /// The CSV or XLSX file.
        file: PathBuf,
    },
}

/// Export commands.
#[derive(Subcommand)]
pub enum ExportCommand {
    /// The answers to the regulator's transfers (处理结果反馈) received in a period, in the
    /// transfer list's layout with the answer's columns.
    RegulatorReplies {
        /// First day (YYYY-MM-DD), inclusive.
        #[arg(long)]
        from: String,
        /// Last day (YYYY-MM-DD), inclusive.
        #[arg(long)]
        to: String,
        /// Only this regulator's transfers.
        #[arg(long)]
        regulator: Option<String>,
        /// The file to write: `.xlsx` for a workbook, anything else for CSV.
        #[arg(long)]
        output: PathBuf,
    },
}

/// Runs an export command.
pub async fn export(cmd: ExportCommand, st: &App) -> anyhow::Result<()> {
    let ExportCommand::RegulatorReplies { from, to, regulator, output } = cmd;
    let xlsx = output.extension().is_some_and(|e| e.eq_ignore_ascii_case("xlsx"));
    let (bytes, answers) = redress_app::regulator::replies_file(st, &Caller::system(), Some(&from), Some(&to), regulator.as_deref(), xlsx).await?;
    std::fs::write(&output, bytes).with_context(|| format!("writing {}", output.display()))?;
    println!("{answers} answers written to {}", output.display());
    Ok(())
}

/// Prints the rows of a table import and a summary; rejected rows go to standard error.
fn report_rows<T: serde::Serialize>(rows: &[T]) -> anyhow::Result<()> {
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for row in rows {
        let v = serde_json::to_value(row)?;
        let outcome = v["outcome"].as_str().unwrap_or("?").to_string();
        if outcome == "rejected" {
            let column = v["column"].as_str().map(|c| format!("{c}: ")).unwrap_or_default();
            eprintln!("rejected line {}: {column}{}", v["line"], v["reason"].as_str().unwrap_or_default());
        }
        *counts.entry(outcome).or_default() += 1;
    }
    let summary: Vec<String> = counts.iter().map(|(k, n)| format!("{k} {n}")).collect();
    println!("read {}: {}", rows.len(), summary.join(", "));
    Ok(())
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
    let (file, errors, quiet) = match cmd {
        ImportCommand::Cfpb { file, errors, quiet } => (file, errors, quiet),
        ImportCommand::Regulator { file, regulator } => {
            let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let rows = redress_app::regulator::import_transfer_file(st, &Caller::system(), &bytes, regulator.as_deref()).await?;
            return report_rows(&rows);
        }
        ImportCommand::Hotline { file } => {
            let sheet = redress_import::sheet::read_sheet(&std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?).with_context(|| format!("{}", file.display()))?;
            let folder = file.parent().map(std::path::Path::to_path_buf).unwrap_or_default();
            let read = move |name: &str| -> Result<Vec<u8>, String> {
                let path = folder.join(name);
                std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))
            };
            let rows = redress_app::hotline::import_calls(st, &Caller::system(), &sheet, &read).await?;
            return report_rows(&rows);
        }
    };
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
