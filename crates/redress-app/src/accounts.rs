//! Signing in to the pages: passwords, server-side sessions, throttling, and the account
//! changes that end sessions (a new password, a reset, deactivation).
//!
//! A session is a random 256-bit value held by the browser in a cookie; the store keeps only
//! its SHA-256, with the session's CSRF token and expiry, so a copy of the database signs no
//! one in. Failed sign-ins are counted per user name and per address in the store, so every
//! app server throttles the same attempts.

use jiff::{SignedDuration, Timestamp};
use rand::RngCore;
use redress_store::{NewSession, User, UserUpdate};

use crate::caller::token_hash;
use crate::error::{AppError, AppResult, ErrorKind};
use crate::policy::{self, Operation};
use crate::users::hash_password;
use crate::{App, Caller};

/// How long a session lasts from sign-in (a working day and then some).
pub const SESSION_LIFETIME: SignedDuration = SignedDuration::from_hours(12);
/// The window in which failed sign-ins are counted.
pub const THROTTLE_WINDOW: SignedDuration = SignedDuration::from_mins(15);
/// Failed sign-ins for one user name within the window before it is refused for a while.
pub const MAX_FAILURES_PER_USER: u64 = 5;
/// Failed sign-ins from one address within the window before it is refused for a while.
pub const MAX_FAILURES_PER_ADDRESS: u64 = 20;

/// A new session: the cookie value (shown once), its CSRF token and expiry.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The secret the browser keeps in its cookie.
    pub token: String,
    /// The token every form of this session carries.
    pub csrf: String,
    /// Who signed in.
    pub user: User,
    /// When the session ends.
    pub expires_at: Timestamp,
}

/// A live session's caller and CSRF token.
#[derive(Debug, Clone)]
pub struct Session {
    /// Who.
    pub caller: Caller,
    /// The token its forms carry.
    pub csrf: String,
    /// The user's language setting, if any.
    pub language: Option<String>,
}

/// A random 256-bit secret as hex.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn wrong_credentials() -> AppError {
    AppError::new(ErrorKind::Unauthenticated, "wrong_credentials", "the user name or password is wrong")
}

fn verify_password(hash: &str, password: &str) -> bool {
    use argon2::password_hash::PasswordVerifier;
    use argon2::password_hash::phc::PasswordHash;
    PasswordHash::new(hash).is_ok_and(|parsed| argon2::Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Verifies on a blocking thread: Argon2 is deliberately slow and must not stall the runtime.
async fn verify_blocking(hash: String, password: String) -> AppResult<bool> {
    tokio::task::spawn_blocking(move || verify_password(&hash, &password)).await.map_err(AppError::internal)
}

/// A hash of a random password, verified when the user name is unknown so that the answer
/// takes as long as for a known one and does not tell which names exist.
static DECOY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| hash_password(&random_secret()).expect("a random secret is long enough"));

/// Signs a person in with user name and password from an address; refuses while too many
/// attempts failed for the name or the address.
pub async fn sign_in(app: &App, name: &str, password: &str, address: Option<&str>) -> AppResult<SignedIn> {
    let now = app.clock.now();
    let name = name.trim();
    if name.is_empty() || name.len() > 100 || password.is_empty() || password.len() > 1024 {
        return Err(wrong_credentials());
    }
    let since = now - THROTTLE_WINDOW;
    let user_key = format!("user:{}", name.to_lowercase());
    let address_key = address.map(|a| format!("addr:{a}"));
    let too_many = app.store.sign_in_failures(&user_key, since).await? >= MAX_FAILURES_PER_USER
        || match &address_key {
            Some(k) => app.store.sign_in_failures(k, since).await? >= MAX_FAILURES_PER_ADDRESS,
            None => false,
        };
    if too_many {
        return Err(AppError::new(ErrorKind::RateLimited, "too_many_attempts", "too many failed sign-ins; wait a quarter of an hour and try again"));
    }
    let user = app.store.user_by_name(name).await?;
    let hash = match &user {
        Some(u) => app.store.password_hash(&u.id).await?,
        None => None,
    };
    let verified = verify_blocking(hash.clone().unwrap_or_else(|| DECOY_HASH.clone()), password.to_string()).await? && hash.is_some();
    let user = match user {
        Some(u) if verified && u.active => u,
        _ => {
            app.store.record_sign_in_failure(&user_key, now).await?;
            if let Some(k) = &address_key {
                app.store.record_sign_in_failure(k, now).await?;
            }
            return Err(wrong_credentials());
        }
    };
    app.store.clear_sign_in_failures(&user_key).await?;
    let token = random_secret();
    let csrf = random_secret();
    let expires_at = now + SESSION_LIFETIME;
    app.store
        .create_session(NewSession {
            id_hash: token_hash(&token),
            user_id: user.id.clone(),
            csrf_token: csrf.clone(),
            created_at: now,
            expires_at,
            address: address.map(str::to_string),
        })
        .await?;
    Ok(SignedIn { token, csrf, user, expires_at })
}

/// The live session a cookie holds, if any.
pub async fn session(app: &App, token: &str) -> AppResult<Option<Session>> {
    if token.is_empty() || token.len() > 200 {
        return Ok(None);
    }
    let found = app.store.session(&token_hash(token), app.clock.now()).await?;
    Ok(found.map(|s| Session { language: s.user.language.clone(), caller: Caller::new(s.user), csrf: s.csrf_token }))
}

/// Ends a session.
pub async fn sign_out(app: &App, token: &str) -> AppResult<()> {
    app.store.revoke_session(&token_hash(token), app.clock.now()).await?;
    Ok(())
}

/// Changes the caller's own password after checking the current one; every session of the
/// caller ends, so a stolen session does not outlive the change.
pub async fn change_password(app: &App, caller: &Caller, current: &str, new: &str) -> AppResult<()> {
    let hash = app.store.password_hash(&caller.user.id).await?;
    let ok = match hash {
        Some(h) => verify_blocking(h, current.to_string()).await?,
        None => false,
    };
    if !ok {
        return Err(AppError::invalid("current", "the current password is wrong"));
    }
    let new_hash = hash_password(new).map_err(|e| e.with_field("new"))?;
    app.store.set_password_hash(&caller.user.id, &new_hash).await?;
    app.store.revoke_sessions_of(&caller.user.id, app.clock.now()).await?;
    Ok(())
}

/// Sets another user's password (an administrator's reset); that user's sessions end.
pub async fn reset_password(app: &App, caller: &Caller, user_id: &str, new: &str) -> AppResult<()> {
    policy::require(caller, Operation::ManageUsers)?;
    let new_hash = hash_password(new)?;
    app.store.set_password_hash(user_id, &new_hash).await.map_err(|e| match e {
        redress_store::StoreError::NotFound => AppError::not_found("user"),
        other => other.into(),
    })?;
    app.store.revoke_sessions_of(user_id, app.clock.now()).await?;
    Ok(())
}

/// Sets the password of a user by name, for an operator at the server's terminal
/// (`redress user passwd`); that user's sessions end.
pub async fn set_password_by_name(app: &App, name: &str, new: &str) -> AppResult<User> {
    let user = app.store.user_by_name(name).await?.ok_or_else(|| AppError::not_found("user"))?;
    reset_password(app, &Caller::system(), &user.id, new).await?;
    Ok(user)
}

/// Changes a user's role, department or whether the account is active; a deactivated user's
/// sessions end at once.
pub async fn update_user(app: &App, caller: &Caller, user_id: &str, update: UserUpdate) -> AppResult<User> {
    policy::require(caller, Operation::ManageUsers)?;
    if let Some(Some(d)) = &update.department
        && app.rules.org.department(d).is_none()
    {
        return Err(AppError::invalid("department", format!("unknown department '{d}'")));
    }
    if user_id == caller.user.id && (update.active == Some(false) || update.role.is_some_and(|r| r != caller.role())) {
        return Err(AppError::conflict("own_account", "you cannot deactivate yourself or change your own role"));
    }
    let before = app.store.user(user_id).await?.ok_or_else(|| AppError::not_found("user"))?;
    let role = update.role.unwrap_or(before.role);
    let department = update.department.clone().unwrap_or(before.department);
    if matches!(role, redress_domain::org::Role::Handler | redress_domain::org::Role::DepartmentHead) && department.is_none() {
        return Err(AppError::invalid("department", "a handler or department head needs a department"));
    }
    let deactivated = update.active == Some(false);
    let user = app.store.update_user(user_id, update).await.map_err(|e| match e {
        redress_store::StoreError::NotFound => AppError::not_found("user"),
        other => other.into(),
    })?;
    if deactivated {
        app.store.revoke_sessions_of(user_id, app.clock.now()).await?;
    }
    Ok(user)
}

/// Sets the caller's own language for the pages.
pub async fn set_language(app: &App, caller: &Caller, language: &str) -> AppResult<User> {
    let update = UserUpdate { role: None, department: None, active: None, language: Some(Some(language.to_string())) };
    Ok(app.store.update_user(&caller.user.id, update).await?)
}

/// The rules the installation runs on (organisation, routing, rule profiles), for a caller who
/// may see the administration pages: anyone allowed to see users or models.
pub fn view_rules<'a>(app: &'a App, caller: &Caller) -> AppResult<&'a redress_domain::rulebook::RuleBook> {
    if policy::grant(caller.role(), Operation::ViewUsers) == policy::Grant::None && policy::grant(caller.role(), Operation::ViewModels) == policy::Grant::None {
        return Err(AppError::forbidden(format!("the role {} may not view the rules", caller.role().as_str())));
    }
    Ok(&app.rules)
}
