//! `redress stats`: the statistics kept with every change.

use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use redress_app::{App, Caller};

use crate::cli_error::app_error;

/// `redress stats …`.
#[derive(Subcommand)]
pub enum StatsCommand {
    /// Rebuild the statistics and the complainant identity index from the complaint records
    /// (after upgrading a store kept before they existed, or to repair). Stop the servers
    /// first: the statistics are emptied and refilled.
    Rebuild,
}

/// Runs `redress stats …`.
pub async fn run(cmd: StatsCommand, st: &App) -> anyhow::Result<()> {
    match cmd {
        StatsCommand::Rebuild => {
            let total = st.store.count().await?;
            let bar = ProgressBar::new(total);
            bar.set_style(ProgressStyle::with_template("rebuilding {bar:30} {pos}/{len} complaints ({per_sec}, {eta})").unwrap_or_else(|_| ProgressStyle::default_bar()));
            let report = redress_app::analytics::rebuild(st, &Caller::system(), &|n| bar.set_position(n)).await.map_err(app_error)?;
            bar.finish_and_clear();
            println!("rebuilt the statistics of {} complaints ({} cells)", report.complaints, report.cells);
        }
    }
    Ok(())
}
