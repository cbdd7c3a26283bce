//! Who is asking: the authenticated caller of a use case, and authentication by API token.
//!
//! Tokens are random 256-bit values shown once at creation; the store keeps only their SHA-256.
//! Because a token carries its full entropy, a fast hash is as safe here as a slow one and keeps
//! every request cheap. Recently seen tokens are cached for a few seconds so a busy client does
//! not cost a database read per request; deactivating a user takes effect within that time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use redress_domain::complaint::Actor;
use redress_domain::org::Role;
use redress_store::{Store, User};
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};

const CACHE_TTL: Duration = Duration::from_secs(10);
const CACHE_MAX_ENTRIES: usize = 10_000;

/// The person or job a use case runs for: identity, role and department.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The user account.
    pub user: User,
}

impl Caller {
    /// A caller for a user account.
    pub fn new(user: User) -> Self {
        Caller { user }
    }

    /// The system itself (scheduled jobs, an operator at the server's own terminal): sees and
    /// may do everything.
    pub fn system() -> Self {
        Caller { user: User { id: "system".into(), name: "system".into(), role: Role::Admin, department: None, active: true, open_load: 0, language: None } }
    }

    /// The caller as the domain's actor (recorded in the history).
    pub fn actor(&self) -> Actor {
        Actor { id: self.user.id.clone(), name: self.user.name.clone(), role: self.user.role, department: self.user.department.clone() }
    }

    /// The caller's role.
    pub fn role(&self) -> Role {
        self.user.role
    }

    /// The caller's department, for department-bound roles.
    pub fn department(&self) -> Option<&str> {
        self.user.department.as_deref()
    }
}

/// The hex SHA-256 of a token, as stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A short-lived cache of token hash → user.
#[derive(Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<String, (User, Instant)>>,
}

impl TokenCache {
    fn get(&self, hash: &str) -> Option<User> {
        let map = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        map.get(hash).filter(|(_, at)| at.elapsed() < CACHE_TTL).map(|(u, _)| u.clone())
    }

    fn put(&self, hash: String, user: User) {
        let mut map = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > CACHE_MAX_ENTRIES {
            map.retain(|_, (_, at)| at.elapsed() < CACHE_TTL);
        }
        map.insert(hash, (user, Instant::now()));
    }
}

/// The caller holding an API token; `Unauthenticated` for an unknown token or an inactive
/// user.
pub async fn authenticate(store: &dyn Store, cache: &TokenCache, token: &str) -> AppResult<Caller> {
    let token = token.trim();
    if token.is_empty() || token.len() > 200 {
        return Err(AppError::unauthenticated());
    }
    let hash = token_hash(token);
    if let Some(user) = cache.get(&hash) {
        return Ok(Caller::new(user));
    }
    let user = store.user_by_token_hash(&hash).await?.filter(|u| u.active).ok_or_else(AppError::unauthenticated)?;
    cache.put(hash, user.clone());
    Ok(Caller::new(user))
}
