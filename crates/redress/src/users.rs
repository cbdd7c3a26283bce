//! `redress user`: accounts and API tokens.

use anyhow::{Context, bail};
use clap::Subcommand;
use rand::RngCore;
use redress_domain::org::Role;
use redress_server::AppState;
use redress_server::auth::token_hash;
use redress_store::{NewUser, Store, StoreResult, User};

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
    /// List users.
    List,
}

/// A new random API token: 256 bits, hex, with a recognisable prefix.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("rdr_{}", hex::encode(bytes))
}

/// An account to create together with its API token.
#[derive(Debug, Clone)]
pub struct Account<'a> {
    /// Login name.
    pub name: &'a str,
    /// Role.
    pub role: Role,
    /// Department, for handlers and department heads.
    pub department: Option<&'a str>,
    /// Argon2 hash of a password, if one was set.
    pub password_hash: Option<String>,
}

/// Creates a user with a new random API token; the store keeps only the token's hash, so the
/// token returned here is the only copy.
pub async fn create_with_token(store: &dyn Store, account: Account<'_>, at: jiff::Timestamp) -> StoreResult<(User, String)> {
    let token = new_token();
    let user = store
        .create_user(NewUser {
            id: uuid::Uuid::now_v7().to_string(),
            name: account.name.to_string(),
            role: account.role,
            department: account.department.map(str::to_string),
            token_hash: token_hash(&token),
            password_hash: account.password_hash,
            created_at: at,
        })
        .await?;
    Ok((user, token))
}

fn hash_password(password: &str) -> anyhow::Result<String> {
    use argon2::password_hash::PasswordHasher;
    let hash: argon2::PasswordHash = argon2::Argon2::default().hash_password(password.as_bytes()).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(hash.to_string())
}

/// Runs a user command.
pub async fn run(cmd: UserCommand, st: &AppState) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Add { name, role, department, password_stdin } => {
            let role = Role::parse(&role).map_err(anyhow::Error::msg)?;
            let name = name.trim().to_string();
            if name.is_empty() || name.len() > 100 {
                bail!("a user name has 1 to 100 characters");
            }
            if matches!(role, Role::Handler | Role::DepartmentHead) && department.is_none() {
                bail!("a {} needs --department", role.as_str());
            }
            if let Some(d) = &department
                && st.rules.org.department(d).is_none()
            {
                let known: Vec<_> = st.rules.org.departments().iter().map(|d| d.code.as_str()).collect();
                bail!("unknown department '{d}'; known: {}", known.join(", "));
            }
            let password_hash = if password_stdin {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line).context("reading the password")?;
                let pw = line.trim_end_matches(['\r', '\n']);
                if pw.chars().count() < 12 {
                    bail!("a password has at least 12 characters");
                }
                Some(hash_password(pw)?)
            } else {
                None
            };
            let account = Account { name: &name, role, department: department.as_deref(), password_hash };
            let (user, token) = create_with_token(&*st.store, account, st.clock.now()).await?;
            println!("created user {} ({}, role {}{})", user.name, user.id, user.role.as_str(), user.department.as_ref().map(|d| format!(", department {d}")).unwrap_or_default());
            println!("API token (shown once; send it as 'Authorization: Bearer TOKEN'):");
            println!("{token}");
        }
        UserCommand::List => {
            for u in st.store.users().await? {
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

/// On a store with no users at all, creates `admin` and returns its token, so a fresh
/// installation can be used at once. Returns `None` when users exist.
pub async fn bootstrap_admin(st: &AppState) -> anyhow::Result<Option<String>> {
    if !st.store.users().await?.is_empty() {
        return Ok(None);
    }
    let account = Account { name: "admin", role: Role::Admin, department: None, password_hash: None };
    let (_, token) = create_with_token(&*st.store, account, st.clock.now()).await?;
    Ok(Some(token))
}
