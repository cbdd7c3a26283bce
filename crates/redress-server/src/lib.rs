//! The HTTP JSON API of Redress. This crate alone knows HTTP: each handler reads a request,
//! calls one use case of `redress_app` and writes the result, or the error, as JSON.

pub mod analytics_api;
pub mod auth;
pub mod error;
mod extract;
mod handlers;
pub mod text_api;

use std::net::SocketAddr;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

/// The state every request shares: the application of use cases.
pub type AppState = redress_app::App;

/// Largest request body accepted (JSON). Larger bodies get 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Every answer may carry personal data: no cache keeps it, and no browser guesses its type.
async fn private_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

/// The API's routes and the web pages, with the pages served as configured by default.
pub fn router(state: AppState) -> Router {
    router_with(state, redress_web::WebSettings::default())
}

/// The API's routes and the web pages.
pub fn router_with(state: AppState, web: redress_web::WebSettings) -> Router {
    Router::new()
        .route("/health", get(handlers::health))
        .route("/api/v1/me", get(handlers::me))
        .route("/api/v1/complaints", post(handlers::create_complaint).get(handlers::list_complaints))
        .route("/api/v1/complaints/{id}", get(handlers::get_complaint))
        .route("/api/v1/complaints/{id}/history", get(handlers::history))
        .route("/api/v1/complaints/{id}/messages", get(handlers::messages))
        .route("/api/v1/delivery/sms-receipts", post(handlers::sms_receipts))
        .route("/api/v1/intake/mail", get(handlers::intake_mail))
        .route("/api/v1/webhooks", get(handlers::webhooks))
        .route("/api/v1/imports/regulator", post(handlers::import_regulator))
        .route("/api/v1/exports/regulator-replies", get(handlers::export_regulator_replies))
        .route("/api/v1/intake/mail/{id}/raw", get(handlers::intake_mail_raw))
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
        .route("/api/v1/analysis", get(analytics_api::analysis))
        .route("/api/v1/scorecards", get(analytics_api::scorecards))
        .route("/api/v1/hotspots", get(analytics_api::hotspots))
        .route("/api/v1/reports/quarterly", get(analytics_api::quarterly))
        .route("/api/v1/reports/quarterly/commentary", post(analytics_api::quarterly_commentary))
        .route("/api/v1/reports/fca", get(analytics_api::fca))
        .route("/api/v1/exports/cfpb", get(analytics_api::cfpb_export))
        .route("/api/v1/complaints/{id}/person", get(analytics_api::person))
        .route("/api/v1/incidents", get(text_api::incidents))
        .route("/api/v1/incidents/{id}", get(text_api::incident))
        .route("/api/v1/models", get(text_api::models))
        .route("/api/v1/models/{id}/activate", post(text_api::activate_model))
        .route("/api/v1/notifications", get(handlers::notifications))
        .route("/api/v1/users", get(handlers::users))
        .route("/api/v1/profiles/{id}", get(handlers::profile))
        .merge(redress_web::routes(web))
        .fallback(handlers::no_route)
        .method_not_allowed_fallback(handlers::method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::map_response(private_headers))
        .layer(axum::middleware::map_response(redress_web::security_headers))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves the API and the pages on a bound listener until the future `shutdown` completes.
pub async fn serve(listener: TcpListener, state: AppState, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
    serve_with(listener, state, redress_web::WebSettings::default(), shutdown).await
}

/// [`serve`] with the pages' settings.
pub async fn serve_with(
    listener: TcpListener,
    state: AppState,
    web: redress_web::WebSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router_with(state, web);
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}
