//! The HTTP JSON API of Redress. This crate alone knows HTTP: handlers turn wire types into
//! domain values, call the domain and the store, and turn results and errors into JSON.

pub mod auth;
pub mod error;
mod handlers;
pub use handlers::{complaint_view, load_visible};
pub mod intelligence;
pub mod service;
pub mod text_api;
pub mod json;
pub mod scheduler;
pub mod wire;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use redress_domain::clock::Clock;
use redress_domain::rulebook::RuleBook;
use redress_store::Store;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

/// Shared state of every request.
#[derive(Clone)]
pub struct AppState {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The rules.
    pub rules: Arc<RuleBook>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Token cache.
    pub tokens: Arc<auth::TokenCache>,
    /// The text analyser with the active models.
    pub insight: Arc<intelligence::InsightCell>,
}

impl AppState {
    /// New state.
    pub fn new(store: Arc<dyn Store>, rules: Arc<RuleBook>, clock: Arc<dyn Clock>) -> Self {
        Self { store, rules, clock, tokens: Arc::new(auth::TokenCache::default()), insight: Arc::new(intelligence::InsightCell::default()) }
    }
}

/// Largest request body accepted (JSON). Larger bodies get 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The API's routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(handlers::health))
        .route("/api/v1/me", get(handlers::me))
        .route("/api/v1/complaints", post(handlers::create_complaint).get(handlers::list_complaints))
        .route("/api/v1/complaints/{id}", get(handlers::get_complaint))
        .route("/api/v1/complaints/{id}/history", get(handlers::history))
        .route("/api/v1/complaints/{id}/messages", get(handlers::messages))
        .route(
            "/api/v1/complaints/{id}/attachments",
            post(handlers::upload_attachment).layer(DefaultBodyLimit::max(redress_domain::attachment::MAX_ATTACHMENT_BYTES)),
        )
        .route("/api/v1/complaints/{id}/attachments/{sha256}", get(handlers::download_attachment))
        .route("/api/v1/complaints/{id}/{action}", post(handlers::act))
        .route("/api/v1/complaints/{id}/similar", get(text_api::similar))
        .route("/api/v1/complaints/{id}/reading", get(text_api::reading))
        .route("/api/v1/search", get(text_api::search))
        .route("/api/v1/analyze", post(text_api::analyze))
        .route("/api/v1/incidents", get(text_api::incidents))
        .route("/api/v1/incidents/{id}", get(text_api::incident))
        .route("/api/v1/models", get(text_api::models))
        .route("/api/v1/models/{id}/activate", post(text_api::activate_model))
        .route("/api/v1/notifications", get(handlers::notifications))
        .route("/api/v1/users", get(handlers::users))
        .route("/api/v1/profiles/{id}", get(handlers::profile))
        .fallback(handlers::no_route)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves the API on a bound listener until the future `shutdown` completes.
pub async fn serve(listener: TcpListener, state: AppState, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
    let app = router(state);
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}
