//! Customer messages reach customers: by e-mail through a real SMTP server (STARTTLS and
//! authentication required) and by text message through a local HTTP server standing in for the
//! SMS gateway. Retries with their waits, failures for good and the department told, receipts,
//! quiet hours; a server killed in the middle of sending loses nothing and sends nothing twice;
//! two servers deliver each message once.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use redress_app::delivery::{Deliverer, DeliverySettings, ReceiptFormat};
use redress_channels::sms::{SmsGateway, SmsSettings};
use redress_channels::smtp::{Security, SmtpSettings, SmtpTransport};
use redress_domain::delivery::{BodyEncoding, QuietHours, RetryPolicy};
use serde_json::{Value, json};

use crate::mail_servers::SmtpSink;
use crate::on_both_engines;
use crate::support::{Engine, TestApp, card_complaint, start_binary};

on_both_engines!(
    customers_receive_messages_by_email_and_text_message,
    text_messages_wait_out_the_quiet_hours,
    two_servers_deliver_each_message_once,
);

/// One text message the gateway took.
#[derive(Debug, Clone)]
struct SentText {
    to: String,
    text: String,
    key: String,
    id: String,
}

#[derive(Default)]
struct GatewayState {
    requests: usize,
    sent: Vec<SentText>,
    by_key: HashMap<String, String>,
    delay: Duration,
}

/// A local SMS gateway: takes `{"to", "text", "ref"}` with an `Idempotency-Key` header and answers
/// `{"message_id"}`. Like gateways that take idempotency keys, a key it has seen gets the first
/// answer again and sends nothing. `13900000000` is refused (400), `13900000001` finds it busy
/// (503).
pub(crate) struct Gateway {
    url: String,
    state: Arc<Mutex<GatewayState>>,
}

impl Gateway {
    pub(crate) async fn start(delay: Duration) -> Gateway {
        let state = Arc::new(Mutex::new(GatewayState { delay, ..GatewayState::default() }));
        let app = axum::Router::new().route("/send", axum::routing::post(gateway_send)).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/send", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Gateway { url, state }
    }

    fn sent(&self) -> Vec<SentText> {
        self.state.lock().unwrap().sent.clone()
    }

    fn requests(&self) -> usize {
        self.state.lock().unwrap().requests
    }

    fn settings(&self) -> SmsSettings {
        SmsSettings {
            url: self.url.clone(),
            headers: BTreeMap::from([("X-Api-Key".to_string(), "gateway-key".to_string())]),
            encoding: BodyEncoding::Json,
            body: r#"{"to": {to}, "text": {text}, "ref": {key}}"#.into(),
            idempotency_header: Some("Idempotency-Key".into()),
            message_id_pointer: Some("/message_id".into()),
            sender: String::new(),
            timeout_seconds: 10,
            receipts: Some(receipt_format()),
        }
    }
}

async fn gateway_send(State(state): State<Arc<Mutex<GatewayState>>>, headers: HeaderMap, Json(body): Json<Value>) -> (StatusCode, Json<Value>) {
    let delay = {
        let mut s = state.lock().unwrap();
        s.requests += 1;
        s.delay
    };
    tokio::time::sleep(delay).await;
    assert_eq!(headers.get("x-api-key").and_then(|v| v.to_str().ok()), Some("gateway-key"), "the configured header is sent");
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert_eq!(body["ref"], key.as_str(), "the key is in the body too");
    let to = body["to"].as_str().unwrap_or_default().to_string();
    match to.as_str() {
        "13900000000" => return (StatusCode::BAD_REQUEST, Json(json!({"error": "invalid mobile number"}))),
        "13900000001" => return (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"error": "busy"}))),
        _ => {}
    }
    let mut s = state.lock().unwrap();
    if let Some(id) = s.by_key.get(&key) {
        return (StatusCode::OK, Json(json!({ "message_id": id })));
    }
    let id = format!("gw-{}", s.sent.len() + 1);
    s.by_key.insert(key.clone(), id.clone());
    s.sent.push(SentText { to, text: body["text"].as_str().unwrap_or_default().to_string(), key, id: id.clone() });
    (StatusCode::OK, Json(json!({ "message_id": id })))
}

fn receipt_format() -> ReceiptFormat {
    ReceiptFormat {
        token: Some("receipt-secret".into()),
        token_env: None,
        id_pointer: "/message_id".into(),
        status_pointer: "/status".into(),
        detail_pointer: Some("/error".into()),
        delivered: vec!["DELIVRD".into()],
        failed: vec!["UNDELIV".into(), "EXPIRED".into()],
    }
}

fn smtp_settings(sink: &SmtpSink) -> SmtpSettings {
    SmtpSettings {
        host: "localhost".into(),
        port: Some(sink.port),
        security: Security::Starttls,
        username: Some(sink.user.clone()),
        password: Some(sink.password.clone()),
        password_env: None,
        from: "消费者权益保护部 <complaints@bank.example>".into(),
        reply_to: Some("complaints@bank.example".into()),
        ca_file: Some(sink.cert.cert_pem.clone()),
        timeout_seconds: 10,
    }
}

pub(crate) fn deliverer(app: &redress_app::App, sink: &SmtpSink, gateway: &Gateway, settings: DeliverySettings) -> Deliverer {
    let transports: Vec<Arc<dyn redress_app::delivery::Transport>> =
        vec![Arc::new(SmtpTransport::new(&smtp_settings(sink)).unwrap()), Arc::new(SmsGateway::new(&gateway.settings()).unwrap())];
    Deliverer::new(app.clone(), transports, settings)
}

fn settings() -> DeliverySettings {
    DeliverySettings { retry: RetryPolicy { max_attempts: 3, first_retry_seconds: 60, max_retry_seconds: 3600, notify_after_failures: 2 }, ..DeliverySettings::default() }
}

fn with_email(email: &str) -> Value {
    let mut c = card_complaint("13812345678");
    c["complainant"]["email"] = json!(email);
    c
}

async fn messages(app: &TestApp, id: &str) -> Vec<Value> {
    let (status, v) = app.get("supervisor", &format!("/api/v1/complaints/{id}/messages")).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v["messages"].as_array().unwrap().clone()
}

async fn customers_receive_messages_by_email_and_text_message(engine: Engine) {
    let Some(sink) = SmtpSink::start(None) else { return };
    let gateway = Gateway::start(Duration::ZERO).await;
    let Some((app, _)) = TestApp::start_configured(engine, |s| s.with_sms_receipts(Some(receipt_format()))).await else { return };
    let by_mail = app.register(&with_email("li.si@example.cn")).await;
    let by_text = app.register(&card_complaint("13812345670")).await;
    let refused = app.register(&with_email("reject.me@example.cn")).await;
    let busy = app.register(&card_complaint("13900000001")).await;
    let worker = deliverer(&app.state, &sink, &gateway, settings());

    let report = worker.deliver_due().await.unwrap();
    assert_eq!((report.claimed, report.sent, report.retrying, report.failed), (4, 2, 1, 1), "{report:?}");

    // The e-mail: from the institution, in the customer's language, marked as automatic and
    // as Redress's own, with the Message-ID its bounces will name.
    let mails = sink.wait_for(1, Duration::from_secs(10));
    assert_eq!(mails.len(), 1, "only the deliverable e-mail arrives");
    assert_eq!(mails[0].rcpt_tos, ["li.si@example.cn"]);
    let parsed = mail_parser::MessageParser::default().parse(&mails[0].raw).unwrap();
    let ack = &messages(&app, by_mail["id"].as_str().unwrap()).await[0];
    assert_eq!(parsed.subject(), ack["subject"].as_str());
    assert_eq!(parsed.body_text(0).unwrap().replace("\r\n", "\n").trim_end(), ack["body"].as_str().unwrap().trim_end(), "the body as rendered, lines ended by CRLF on the wire");
    assert!(ack["body"].as_str().unwrap().contains(by_mail["number"].as_str().unwrap()));
    assert_eq!(parsed.from().and_then(|a| a.first()).and_then(|a| a.name()), Some("消费者权益保护部"));
    assert_eq!(parsed.header_raw("Auto-Submitted").map(str::trim), Some("auto-generated"));
    assert_eq!(parsed.header_raw("X-Redress-Loop").map(str::trim), Some("1"));
    assert_eq!(ack["state"], "sent");
    assert_eq!(ack["channel"], "email");
    assert_eq!(ack["attempts"], 1);
    assert_eq!(ack["provider_id"].as_str().map(|s| s.trim_matches(['<', '>'])), parsed.message_id());
    assert_eq!(mails[0].message_id.as_deref().map(|s| s.trim_matches(['<', '>'])), parsed.message_id());

    // The text message.
    let texts = gateway.sent();
    assert_eq!(texts.len(), 1);
    let text_ack = &messages(&app, by_text["id"].as_str().unwrap()).await[0];
    assert_eq!(texts[0].to, "13812345670");
    assert_eq!(texts[0].text, text_ack["body"].as_str().unwrap());
    assert_eq!(texts[0].key, format!("redress-{}-{}", by_text["id"].as_str().unwrap(), text_ack["id"]));
    assert_eq!(text_ack["state"], "sent");
    assert_eq!(text_ack["provider_id"], texts[0].id.as_str());

    // Refused for good at once: failed, with the relay's words, and the department told.
    let refused_ack = &messages(&app, refused["id"].as_str().unwrap()).await[0];
    assert_eq!(refused_ack["state"], "failed");
    assert!(refused_ack["detail"].as_str().unwrap().contains("550"), "{refused_ack}");
    let (_, notes) = app.get("card_handler", "/api/v1/notifications").await;
    let told = |number: &str| notes["items"].as_array().unwrap().iter().filter(|n| n["message"].as_str().unwrap().starts_with(number)).count();
    assert_eq!(told(refused["number"].as_str().unwrap()), 1, "{notes}");

    // Busy: tried again after 60 s, then 120 s; the department is told after the second
    // failure, and the third is the last.
    let busy_id = busy["id"].as_str().unwrap();
    let m = &messages(&app, busy_id).await[0];
    assert_eq!((m["state"].as_str(), m["attempts"].as_i64()), (Some("pending"), Some(1)));
    let next: jiff::Timestamp = m["next_attempt_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(next, app.clock_now() + jiff::SignedDuration::from_secs(60));
    assert_eq!(worker.deliver_due().await.unwrap().claimed, 0, "not before its time");
    app.clock.advance(jiff::SignedDuration::from_secs(60));
    assert_eq!(worker.deliver_due().await.unwrap().retrying, 1);
    let (_, notes) = app.get("card_handler", "/api/v1/notifications").await;
    assert_eq!(notes["items"].as_array().unwrap().iter().filter(|n| n["message"].as_str().unwrap().starts_with(busy["number"].as_str().unwrap())).count(), 1);
    app.clock.advance(jiff::SignedDuration::from_secs(120));
    assert_eq!(worker.deliver_due().await.unwrap().failed, 1);
    let m = &messages(&app, busy_id).await[0];
    assert_eq!((m["state"].as_str(), m["attempts"].as_i64()), (Some("failed"), Some(3)));
    assert!(m["finished_at"].is_string());
    assert_eq!(gateway.requests(), 4, "one text sent, three attempts refused as busy");

    // Receipts: the token is required, an interim status moves nothing, a delivery report moves
    // the message, a repeat is ignored.
    let receipt = json!([{"message_id": texts[0].id, "status": "ENROUTE"}, {"message_id": texts[0].id, "status": "DELIVRD"}]);
    let res = app.http.post(format!("{}/api/v1/delivery/sms-receipts", app.base)).bearer_auth("wrong").json(&receipt).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(messages(&app, by_text["id"].as_str().unwrap()).await[0]["state"], "sent", "a refused receipt changes nothing");
    let res = app.http.post(format!("{}/api/v1/delivery/sms-receipts", app.base)).bearer_auth("receipt-secret").json(&json!([{"status": "DELIVRD"}])).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = app.http.post(format!("{}/api/v1/delivery/sms-receipts", app.base)).bearer_auth("receipt-secret").json(&receipt).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"applied": 1, "ignored": 0, "interim": 1}));
    assert_eq!(messages(&app, by_text["id"].as_str().unwrap()).await[0]["state"], "delivered");
    let res = app.http.post(format!("{}/api/v1/delivery/sms-receipts", app.base)).bearer_auth("receipt-secret").json(&receipt).send().await.unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["ignored"], 1);
}

async fn text_messages_wait_out_the_quiet_hours(engine: Engine) {
    let Some(sink) = SmtpSink::start(None) else { return };
    let gateway = Gateway::start(Duration::ZERO).await;
    let Some(app) = TestApp::start(engine).await else { return };
    app.register(&card_complaint("13812345671")).await;
    app.register(&with_email("quiet@example.cn")).await;
    // The test clock stands at 10:00 in Shanghai: quiet from 09:30 to 11:00.
    let mut quiet = settings();
    quiet.sms_quiet_hours = Some(QuietHours::parse("09:30", "11:00").unwrap());
    let worker = deliverer(&app.state, &sink, &gateway, quiet);
    let report = worker.deliver_due().await.unwrap();
    assert_eq!((report.claimed, report.sent), (1, 1), "the e-mail goes, the text message waits");
    assert!(gateway.sent().is_empty());
    app.clock.advance(jiff::SignedDuration::from_mins(61));
    assert_eq!(worker.deliver_due().await.unwrap().sent, 1);
    assert_eq!(gateway.sent().len(), 1);
}

async fn two_servers_deliver_each_message_once(engine: Engine) {
    let Some(sink) = SmtpSink::start(None) else { return };
    let gateway = Gateway::start(Duration::from_millis(5)).await;
    let Some((app, second, _store)) = crate::two_servers::two_servers(engine).await else { return };
    const N: usize = 60;
    for i in 0..N {
        app.register(&card_complaint(&format!("1381234{i:04}"))).await;
    }
    let small = DeliverySettings { batch: 7, ..settings() };
    let workers = [deliverer(&app.state, &sink, &gateway, small.clone()), deliverer(&second, &sink, &gateway, small)];
    let runs = workers.map(|w| {
        tokio::spawn(async move {
            let mut sent = 0;
            loop {
                let r = w.deliver_due().await.unwrap();
                if r.claimed == 0 {
                    return sent;
                }
                sent += r.sent;
            }
        })
    });
    let mut per_server = Vec::new();
    for run in runs {
        per_server.push(run.await.unwrap());
    }
    assert_eq!(per_server.iter().sum::<usize>(), N, "{per_server:?}");
    assert!(per_server.iter().all(|&n| n > 0), "both servers took part: {per_server:?}");
    assert_eq!(gateway.requests(), N, "no message was handed to the gateway twice");
    assert_eq!(gateway.sent().len(), N);
}

/// SIGKILL while messages are in the providers' hands: the server is killed while the SMTP
/// server holds its answer to the message's data and the gateway holds its answer to the
/// request. After the restart every message is sent, each e-mail arrived once and each text
/// message was sent once (the repeat came with the same idempotency key).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_while_sending_loses_nothing_and_sends_nothing_twice() {
    let Some(sink) = SmtpSink::start(Some(1.5)) else { return };
    let gateway = Gateway::start(Duration::from_millis(1500)).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("redress.toml");
    std::fs::write(
        &config,
        format!(
            r#"[database]
url = "sqlite://{db}"

[delivery]
claim_seconds = 4
poll_milliseconds = 100

[delivery.email]
host = "localhost"
port = {port}
username = "{user}"
password = "{password}"
from = "complaints@bank.example"
ca_file = "{ca}"

[delivery.sms]
url = "{url}"
headers = {{ X-Api-Key = "gateway-key" }}
body = '{{"to": {{to}}, "text": {{text}}, "ref": {{key}}}}'
idempotency_header = "Idempotency-Key"
message_id_pointer = "/message_id"
"#,
            db = dir.path().join("kill.db").display(),
            port = sink.port,
            user = sink.user,
            password = sink.password,
            ca = sink.cert.cert_pem.display(),
            url = gateway.url,
        ),
    )
    .unwrap();
    let (server, token) = start_binary(&["--config", config.to_str().unwrap()], dir.path());
    let token = token.expect("the first start prints the admin token");
    let http = reqwest::Client::new();
    const N: usize = 6;
    let mut ids = Vec::new();
    for i in 0..N {
        let body = if i % 2 == 0 { with_email(&format!("kill{i}@example.cn")) } else { card_complaint(&format!("1381111{i:04}")) };
        let res = http.post(format!("{}/api/v1/complaints", server.base)).bearer_auth(&token).json(&body).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        ids.push(res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string());
    }
    // Wait until the gateway holds requests, then kill: the SMTP server is holding its answer too.
    for _ in 0..100 {
        if gateway.requests() >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(gateway.requests() >= 1, "the server started delivering");
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(server);
    assert!(sink.received().len() < N / 2, "the kill came before every e-mail was taken");

    let (server, _) = start_binary(&["--config", config.to_str().unwrap()], dir.path());
    let mut states = Vec::new();
    for _ in 0..200 {
        states.clear();
        for id in &ids {
            let v: Value = http.get(format!("{}/api/v1/complaints/{id}/messages", server.base)).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
            states.push(v["messages"][0]["state"].as_str().unwrap().to_string());
        }
        if states.iter().all(|s| s == "sent") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(states.iter().all(|s| s == "sent"), "every message is sent after the restart: {states:?}");
    let mails = sink.wait_for(N / 2, Duration::from_secs(5));
    let mut ids_seen: Vec<_> = mails.iter().map(|m| m.message_id.clone().unwrap()).collect();
    ids_seen.sort();
    ids_seen.dedup();
    assert_eq!((mails.len(), ids_seen.len()), (N / 2, N / 2), "each e-mail arrived once");
    let texts = gateway.sent();
    assert_eq!(texts.len(), N / 2, "each text message was sent once");
    assert!(gateway.requests() > N / 2, "the message in the gateway's hands at the kill was handed over again ({} requests), under the same key", gateway.requests());
    drop(server);
}
