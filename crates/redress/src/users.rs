//! `redress user`: accounts and API tokens.

use anyhow::Context;
use clap::Subcommand;
use redress_app::users::Account;
use redress_app::{App, Caller};
use redress_domain::org::Role;

use crate::cli_error::app_error;

/// User commands.
#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user and print a new API token (as the last line).
    Add {
        /// Unique login name.
        name: String,
        /// Role: intake_agent, handler, department_head, supervisor, auditor, admin.
        #[arg(long)]
        role: String,
        /// Department code (required for handlers and department heads).
        #[arg(long)]
        department: Option<String>,
        /// Also set a password, read from the first line of standard input (stored as an
        /// Argon2 hash).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a user's password, read from the first line of standard input; the user's
    /// sessions end.
    Passwd {
        /// Login name.
        name: String,
        /// Read the password from standard input (the only way; kept explicit so a password is
        /// never typed on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// List users.
    List,
}

fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).context("reading the password")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Runs a user command.
pub async fn run(cmd: UserCommand, st: &App) -> anyhow::Result<()> {
    // An operator at the server's own terminal acts as the system.
    let operator = Caller::system();
    match cmd {
        UserCommand::Add { name, role, department, password_stdin } => {
            let role = Role::parse(&role).map_err(anyhow::Error::msg)?;
            let password = if password_stdin { Some(read_password()?) } else { None };
            let account = Account { name: &name, role, department: department.as_deref(), password: password.as_deref() };
            let (user, token) = redress_app::users::create(st, &operator, account).await.map_err(app_error)?;
            println!("created user {} ({}, role {}{})", user.name, user.id, user.role.as_str(), user.department.as_ref().map(|d| format!(", department {d}")).unwrap_or_default());
            println!("API token (shown once; send it as 'Authorization: Bearer TOKEN'):");
            println!("{token}");
        }
        UserCommand::Passwd { name, password_stdin: _ } => {
            let password = read_password()?;
            let user = redress_app::accounts::set_password_by_name(st, &name, &password).await.map_err(app_error)?;
            println!("password of {} set; their sessions have ended", user.name);
        }
        UserCommand::List => {
            for u in redress_app::users::list(st, &operator).await.map_err(app_error)? {
                println!(
                    "{:<24} {:<16} {:<12} open={:<5} {}{}",
                    u.name,
                    u.role.as_str(),
                    u.department.as_deref().unwrap_or("-"),
                    u.open_load,
                    u.id,
                    if u.active { "" } else { " (inactive)" }
                );
            }
        }
    }
    Ok(())
}
