//! `redress import`: bulk intake from files, with a progress bar and a per-row report.

use std::fs::File;
use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use redress_domain::complaint::{Actor, Channel, Complainant, CustomerType, Language, NewComplaint, RegulatorOrder, Respondent};
use redress_domain::fields::{FieldError, Narrative, PersonName, Request, ShortText};
use redress_domain::org::Role;
use redress_import::{CfpbReader, CfpbRecord};
use redress_server::AppState;
use redress_store::Registered;

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

/// Converts one CFPB record into a new complaint: the CFPB forwards complaints to the company,
/// so each becomes a regulator-forwarded complaint whose work-order number is the CFPB
/// Complaint ID.
pub fn cfpb_to_new(r: &CfpbRecord, time_zone: &jiff::tz::TimeZone, head_office: &str) -> Result<NewComplaint, FieldError> {
    let received_at = r
        .date_received
        .to_zoned(time_zone.clone())
        .map_err(|e| FieldError::new("Date received", e.to_string()))?
        .timestamp();
    let issue = [r.issue.as_deref(), r.sub_issue.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" / ");
    let product = [Some(r.product.as_str()), r.sub_product.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" / ");
    let narrative = match &r.narrative {
        Some(n) => n.clone(),
        None if !issue.is_empty() => format!("{product}: {issue}"),
        None => product.clone(),
    };
    Ok(NewComplaint {
        channel: Channel::Regulator,
        regulator_order: Some(RegulatorOrder {
            regulator: ShortText::parse("regulator", "CFPB")?,
            order_number: ShortText::parse("Complaint ID", &r.complaint_id)?,
            deadline: None,
        }),
        received_at,
        complainant: Complainant {
            name: PersonName::parse("complainant", &format!("CFPB consumer {}", r.complaint_id))?,
            id_number: None,
            phone: None,
            email: None,
            customer_type: if r.tags.iter().any(|t| t.contains("Older American")) { CustomerType::Elderly } else { CustomerType::Individual },
            language: Language::En,
        },
        agent: None,
        respondent: Respondent { unit: head_office.to_string(), staff: Vec::new() },
        product: Some(ShortText::parse("Product", &product.chars().take(500).collect::<String>())?),
        business_type: None,
        amount: None,
        request: Request::parse("Issue", if issue.is_empty() { "Resolution of the complaint" } else { &issue })?,
        narrative: Narrative::parse("Consumer complaint narrative", &narrative)?,
        title: ShortText::parse("Issue", &format!("{product} — {issue}").chars().take(200).collect::<String>()).ok(),
        external_ref: Some(format!("cfpb:{}", r.complaint_id)),
    })
}

/// Runs an import command.
pub async fn run(cmd: ImportCommand, st: &AppState) -> anyhow::Result<()> {
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
pub async fn import_cfpb(st: &AppState, file: &std::path::Path, progress: bool) -> anyhow::Result<(ImportSummary, Vec<String>)> {
    let size = std::fs::metadata(file).with_context(|| format!("reading {}", file.display()))?.len();
    let reader = CfpbReader::new(File::open(file).with_context(|| format!("opening {}", file.display()))?)
        .with_context(|| format!("{}", file.display()))?;
    let bar = if progress { ProgressBar::new(size) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let rules = st.rules.default_rules();
    let time_zone = rules.profile.time_zone();
    let head_office = st.rules.org.head_office().code.clone();
    let actor = Actor { id: "import".into(), name: "CFPB import".into(), role: Role::IntakeAgent, department: None };
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
                    match cfpb_to_new(&record, &time_zone, &head_office) {
                        Ok(new) => {
                            let st = st.clone();
                            let actor = actor.clone();
                            pending.push(async move { (line, redress_server::service::register(&st, &actor, new, None).await) });
                        }
                        Err(e) => {
                            summary.rejected += 1;
                            rejections.push(format!("line {line}: {}: {}", e.field, e.message));
                        }
                    }
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
                Ok(Registered::Created(_)) => summary.imported += 1,
                Ok(Registered::Replayed(_)) => summary.already_present += 1,
                Err(e) => {
                    summary.rejected += 1;
                    rejections.push(format!("line {line}: {}", e.message));
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
