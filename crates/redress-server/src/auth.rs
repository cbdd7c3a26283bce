//! Bearer-token authentication.
//!
//! Tokens are random 256-bit values shown once at creation; the store keeps only their SHA-256.
//! Because a token carries its full entropy, a fast hash is as safe here as a slow one and keeps
//! every request cheap. Recently seen tokens are cached for a few seconds so a busy client does
//! not cost a database read per request; deactivating a user takes effect within that time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use redress_domain::complaint::{Actor, Complaint};
use redress_store::User;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::ApiError;

const CACHE_TTL: Duration = Duration::from_secs(10);

/// The hex SHA-256 of a token, as stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A cache of token hash → user.
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
        if map.len() > 10_000 {
            map.retain(|_, (_, at)| at.elapsed() < CACHE_TTL);
        }
        map.insert(hash, (user, Instant::now()));
    }
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller(pub User);

impl Caller {
    /// The caller as the domain's actor.
    pub fn actor(&self) -> Actor {
        Actor { id: self.0.id.clone(), name: self.0.name.clone(), role: self.0.role, department: self.0.department.clone() }
    }

    /// Whether the caller may see a complaint. Department-bound roles see their department's
    /// complaints only.
    pub fn can_see(&self, c: &Complaint) -> bool {
        self.0.role.sees_all_departments() || self.0.department.as_deref() == Some(c.owner.department.as_str())
    }

    /// The department a list must be limited to, if any.
    pub fn department_scope(&self) -> Option<String> {
        if self.0.role.sees_all_departments() { None } else { Some(self.0.department.clone().unwrap_or_default()) }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(axum::http::header::AUTHORIZATION).ok_or_else(ApiError::unauthenticated)?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(ApiError::unauthenticated)?;
        let hash = token_hash(token);
        if let Some(user) = state.tokens.get(&hash) {
            return Ok(Caller(user));
        }
        let user = state.store.user_by_token_hash(&hash).await?.ok_or_else(ApiError::unauthenticated)?;
        state.tokens.put(hash, user.clone());
        Ok(Caller(user))
    }
}
