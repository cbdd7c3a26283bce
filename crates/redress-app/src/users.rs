//! User accounts and API tokens.

use rand::RngCore;
use redress_domain::org::Role;
use redress_store::{NewUser, Store, StoreError, User};

use crate::caller::token_hash;
use crate::error::{AppError, AppResult};
use crate::policy::{self, Operation};
use crate::{App, Caller};

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// A new random API token: 256 bits, hex, with a recognisable prefix.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("rdr_{}", hex::encode(bytes))
}

/// The Argon2 hash of a password, refusing one that is too short.
pub fn hash_password(password: &str) -> AppResult<String> {
    use argon2::password_hash::PasswordHasher;
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AppError::invalid("password", format!("a password has at least {MIN_PASSWORD_CHARS} characters")));
    }
    let hash = argon2::Argon2::default().hash_password(password.as_bytes()).map_err(|e| AppError::internal(e.to_string()))?;
    Ok(hash.to_string())
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
    /// A password, if one is set (stored as its Argon2 hash).
    pub password: Option<&'a str>,
}

/// Creates a user with a new random API token, for a caller allowed to manage users; the store
/// keeps only the token's hash, so the token returned here is the only copy.
pub async fn create(app: &App, caller: &Caller, account: Account<'_>) -> AppResult<(User, String)> {
    policy::require(caller, Operation::ManageUsers)?;
    let name = account.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(AppError::invalid("name", "a user name has 1 to 100 characters, without spaces or control characters"));
    }
    if matches!(account.role, Role::Handler | Role::DepartmentHead) && account.department.is_none() {
        return Err(AppError::invalid("department", format!("a {} needs a department", account.role.as_str())));
    }
    if let Some(d) = account.department
        && app.rules.org.department(d).is_none()
    {
        let known: Vec<_> = app.rules.org.departments().iter().map(|d| d.code.as_str()).collect();
        return Err(AppError::invalid("department", format!("unknown department '{d}'; known: {}", known.join(", "))));
    }
    let password_hash = account.password.map(hash_password).transpose()?;
    create_with_token(&*app.store, name, account.role, account.department, password_hash, app.clock.now()).await
}

/// Creates an account with a new random API token straight on a store, without a caller: for
/// setting up an installation (the first start, fixtures of tests and benchmarks). People go
/// through [`create`].
pub async fn create_with_token(store: &dyn Store, name: &str, role: Role, department: Option<&str>, password_hash: Option<String>, at: jiff::Timestamp) -> AppResult<(User, String)> {
    let token = new_token();
    let user = store
        .create_user(NewUser {
            id: uuid::Uuid::now_v7().to_string(),
            name: name.to_string(),
            role,
            department: department.map(str::to_string),
            token_hash: token_hash(&token),
            password_hash,
            created_at: at,
        })
        .await
        .map_err(|e| match e {
            StoreError::Duplicate(m) => AppError::conflict("duplicate", m).with_field("name"),
            other => other.into(),
        })?;
    Ok((user, token))
}

/// Every user account, for a caller allowed to see them.
pub async fn list(app: &App, caller: &Caller) -> AppResult<Vec<User>> {
    policy::require(caller, Operation::ViewUsers)?;
    Ok(app.store.users().await?)
}

/// The first administrator of a fresh installation: an API token and a password, both shown
/// once.
#[derive(Debug, Clone)]
pub struct FirstAdmin {
    /// The API token.
    pub token: String,
    /// The password for the pages.
    pub password: String,
}

/// On a store with no users at all, creates `admin` with a random password and returns its
/// token and password, so a fresh installation can be used at once. `None` when users exist.
pub async fn bootstrap_admin(app: &App) -> AppResult<Option<FirstAdmin>> {
    if !app.store.users().await?.is_empty() {
        return Ok(None);
    }
    let password = crate::accounts::random_secret()[..20].to_string();
    let hash = hash_password(&password)?;
    let (_, token) = create_with_token(&*app.store, "admin", Role::Admin, None, Some(hash), app.clock.now()).await?;
    Ok(Some(FirstAdmin { token, password }))
}
