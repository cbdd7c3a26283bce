//! The bank's other systems are told: registrations, status changes, deadlines near and passed
//! reach each subscribed endpoint (a local HTTP server), signed with its secret; an endpoint
//! that fails gets the notice again later, one that already has it does not; two servers post
//! each notice once.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use redress_app::webhooks::{Dispatcher, Endpoint, signature};
use redress_channels::webhook::HttpPoster;
use redress_domain::delivery::{RetryPolicy, WebhookEvent};
use serde_json::{Value, json};

use crate::on_both_engines;
use crate::support::{Engine, TestApp, card_complaint};

on_both_engines!(subscribers_are_told_of_changes_signed_and_again_after_a_failure, two_servers_post_each_notice_once);

#[derive(Default)]
struct Received {
    /// (event, delivery, body) of the posts answered 2xx.
    taken: Vec<(String, i64, Value)>,
    /// Posts to refuse (503) before taking any.
    refuse: usize,
    posts: usize,
}

/// A receiver checking each post's signature with `secret`.
async fn receiver(secret: &'static str) -> (String, Arc<Mutex<Received>>) {
    let state = Arc::new(Mutex::new(Received::default()));
    let app = axum::Router::new()
        .route(
            "/hook",
            axum::routing::post(|State((state, secret)): State<(Arc<Mutex<Received>>, &'static str)>, headers: HeaderMap, body: String| async move {
                let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
                let sig = header("x-redress-signature");
                let (t, v1) = sig.split_once(",v1=").expect("t=…,v1=…");
                let t: i64 = t.trim_start_matches("t=").parse().unwrap();
                assert_eq!(v1, signature(secret.as_bytes(), t, body.as_bytes()), "the signature checks out");
                let mut s = state.lock().unwrap();
                s.posts += 1;
                if s.refuse > 0 {
                    s.refuse -= 1;
                    return StatusCode::SERVICE_UNAVAILABLE;
                }
                s.taken.push((header("x-redress-event"), header("x-redress-delivery").parse().unwrap(), serde_json::from_str(&body).unwrap()));
                StatusCode::NO_CONTENT
            }),
        )
        .with_state((state.clone(), secret));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, state)
}

fn endpoint(name: &str, url: &str, secret: &str, events: &[WebhookEvent]) -> Endpoint {
    Endpoint { name: name.into(), url: url.into(), secret: Some(secret.into()), secret_env: None, events: events.to_vec() }
}

fn retry() -> RetryPolicy {
    RetryPolicy { max_attempts: 3, first_retry_seconds: 30, max_retry_seconds: 600, notify_after_failures: 2 }
}

async fn subscribers_are_told_of_changes_signed_and_again_after_a_failure(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let (all_url, all) = receiver("secret-a").await;
    let (late_url, late) = receiver("secret-b").await;
    all.lock().unwrap().refuse = 1;
    let endpoints = vec![endpoint("crm", &all_url, "secret-a", &WebhookEvent::ALL), endpoint("risk", &late_url, "secret-b", &[WebhookEvent::Overdue])];
    let dispatcher = Dispatcher::new(app.state.clone(), endpoints, Arc::new(HttpPoster::new(Duration::from_secs(5)).unwrap()), retry());

    let c = app.register(&card_complaint("13812345678")).await;
    let id = c["id"].as_str().unwrap();
    app.act("card_handler", id, "start-investigation", json!({})).await;
    let r = dispatcher.dispatch_due().await.unwrap();
    // The refused first post leaves the first notice for later; the second goes through.
    assert_eq!((r.claimed, r.done, r.retrying), (2, 1, 1), "{r:?}");
    let (status, backlog) = app.get("admin", "/api/v1/webhooks").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(backlog["pending"], 1, "{backlog}");
    assert_eq!(dispatcher.dispatch_due().await.unwrap().claimed, 0, "not before its time");
    app.clock.advance(jiff::SignedDuration::from_secs(30));
    assert_eq!(dispatcher.dispatch_due().await.unwrap().done, 1);

    let taken = all.lock().unwrap().taken.clone();
    let mut events: Vec<(&str, &str)> = taken.iter().map(|(e, _, b)| (e.as_str(), b["status"].as_str().unwrap())).collect();
    events.sort();
    assert_eq!(events, [("registered", "assigned"), ("status_changed", "investigating")], "{taken:?}");
    assert!(taken.iter().all(|(_, _, b)| b["complaint_id"] == id));
    assert!(late.lock().unwrap().taken.is_empty(), "the second endpoint takes only overdue notices");

    // Past the deadline: both endpoints are told, each once.
    app.advance_days(40);
    redress_app::jobs::sweep(&app.state).await.unwrap();
    while dispatcher.dispatch_due().await.unwrap().claimed > 0 {}
    let late_taken = late.lock().unwrap().taken.clone();
    assert_eq!(late_taken.len(), 1, "{late_taken:?}");
    assert_eq!(late_taken[0].0, "overdue");
    assert!(all.lock().unwrap().taken.iter().any(|(e, _, _)| e == "overdue"));
    let (_, backlog) = app.get("admin", "/api/v1/webhooks").await;
    assert_eq!((backlog["pending"].as_i64(), backlog["failed"].as_i64()), (Some(0), Some(0)), "{backlog}");

    // An endpoint that never takes: given up after the attempts, and kept as failed.
    let (down_url, down) = receiver("secret-c").await;
    down.lock().unwrap().refuse = usize::MAX;
    let stubborn = Dispatcher::new(app.state.clone(), vec![endpoint("down", &down_url, "secret-c", &[WebhookEvent::Registered])], Arc::new(HttpPoster::new(Duration::from_secs(5)).unwrap()), retry());
    app.register(&card_complaint("13812345679")).await;
    for _ in 0..3 {
        stubborn.dispatch_due().await.unwrap();
        app.clock.advance(jiff::SignedDuration::from_secs(600));
    }
    assert_eq!(down.lock().unwrap().posts, 3);
    let (_, backlog) = app.get("admin", "/api/v1/webhooks").await;
    assert_eq!(backlog["failed"], 1, "{backlog}");
    assert!(backlog["failures"][0][2].as_str().unwrap().contains("503"), "{backlog}");
    let (status, _) = app.get("card_handler", "/api/v1/webhooks").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn two_servers_post_each_notice_once(engine: Engine) {
    let Some((app, second, _store)) = crate::two_servers::two_servers(engine).await else { return };
    let (url, got) = receiver("s").await;
    const N: usize = 40;
    for i in 0..N {
        app.register(&card_complaint(&format!("1391234{i:04}"))).await;
    }
    let make = |state: &redress_app::App| Dispatcher::new(state.clone(), vec![endpoint("crm", &url, "s", &WebhookEvent::ALL)], Arc::new(HttpPoster::new(Duration::from_secs(5)).unwrap()), retry());
    let runs = [make(&app.state), make(&second)].map(|d| {
        tokio::spawn(async move {
            let mut done = 0;
            loop {
                let r = d.dispatch_due().await.unwrap();
                if r.claimed == 0 {
                    return done;
                }
                done += r.done;
            }
        })
    });
    let mut per_server = Vec::new();
    for run in runs {
        per_server.push(run.await.unwrap());
    }
    assert_eq!(per_server.iter().sum::<usize>(), N, "{per_server:?}");
    let got = got.lock().unwrap();
    assert_eq!(got.posts, N, "each notice was posted once");
    let mut deliveries: Vec<i64> = got.taken.iter().map(|(_, d, _)| *d).collect();
    deliveries.sort_unstable();
    deliveries.dedup();
    assert_eq!(deliveries.len(), N);
}
