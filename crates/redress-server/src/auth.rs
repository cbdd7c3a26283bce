//! The caller of an API request, from its bearer token (`redress_app::caller` authenticates).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use redress_app::{AppError, Caller};

use crate::AppState;
use crate::error::ApiError;

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Caller);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.strip_prefix("Bearer "))
            .ok_or_else(AppError::unauthenticated)?;
        Ok(Authenticated(state.authenticate(token).await?))
    }
}
