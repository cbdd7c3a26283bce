//! `redress mail`: e-mail intake from the terminal: a folder of `.eml` files, one look at the
//! intake mailbox, and the list of e-mails kept with their outcomes (those refused in
//! particular).

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use redress_app::App;
use redress_app::mail_intake;

use crate::config::Config;

/// E-mail intake commands.
#[derive(Subcommand)]
pub enum MailCommand {
    /// Take in every `.eml` file of a folder: each becomes a complaint, joins the complaint it
    /// answers, or is ignored or refused with the reason. Running it again takes nothing twice.
    Folder {
        /// The folder.
        folder: PathBuf,
        /// The unit new complaints are registered against (default: the mailbox's setting, else
        /// the head office).
        #[arg(long)]
        unit: Option<String>,
        /// Hide the progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// Read the unseen messages of the intake mailbox (`[intake.email]`) once.
    Mailbox,
    /// List the e-mails taken in, newest first.
    List {
        /// Only this outcome: registered, joined, receipt, ignored, refused.
        #[arg(long)]
        outcome: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Write one e-mail, as it was received, to standard output.
    Show {
        /// Its id (from `list`).
        id: i64,
    },
}

/// Runs a mail command.
pub async fn run(cmd: MailCommand, config: &Config, app: &App) -> anyhow::Result<()> {
    let admin = redress_app::Caller::system();
    match cmd {
        MailCommand::Folder { folder, unit, quiet } => {
            let mut settings = config.intake.email.as_ref().map(|m| m.intake()).unwrap_or_default();
            if unit.is_some() {
                settings.unit = unit;
            }
            let bar = if quiet { ProgressBar::hidden() } else { ProgressBar::new(0) };
            bar.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} e-mails {elapsed}").expect("a valid template"));
            let report = redress_channels::intake::take_folder(app, &settings, &folder, |done, total| {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            })
            .await?;
            bar.finish_and_clear();
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        MailCommand::Mailbox => {
            let mailbox = config.intake.email.as_ref().context("no mailbox is configured: add [intake.email] to the configuration")?;
            let report = redress_channels::intake::poll_mailbox(app, mailbox).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        MailCommand::List { outcome, limit } => {
            for m in mail_intake::list(app, &admin, outcome.as_deref(), limit).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    m.id,
                    m.taken_at,
                    m.outcome,
                    m.sender.as_deref().unwrap_or("-"),
                    m.subject.as_deref().unwrap_or("-"),
                    m.reason.as_deref().unwrap_or("")
                );
            }
        }
        MailCommand::Show { id } => {
            use std::io::Write;
            let raw = mail_intake::raw(app, &admin, id).await?;
            std::io::stdout().write_all(&raw)?;
        }
    }
    Ok(())
}
