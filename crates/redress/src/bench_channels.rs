//! `redress bench delivery` and `redress bench mail`: how fast customer messages leave and
//! e-mail comes in.
//!
//! Delivery registers complaints (each queues its acknowledgement), then runs the real delivery
//! worker until every message is sent: text messages to a real HTTP gateway this command serves
//! on a local port, e-mail to the SMTP server named by `--smtp` (for example the project's test
//! sink, `crates/redress/tests/servers/smtp_sink.py`). Mail intake generates complaints as
//! e-mail (Chinese in GBK and English, some with an attachment, some replies, some automatic
//! replies) and takes each in as the mailbox reader does.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use redress_app::delivery::{Deliverer, DeliverySettings, Transport};
use redress_app::mail_intake::{self, MailIntakeSettings};
use redress_app::{App, Caller};
use redress_domain::clock::SystemClock;
use redress_domain::rulebook::RuleBook;

use crate::bench::{Latencies, fresh_db, memory, mib};

/// Options of `bench delivery`.
#[derive(Args)]
pub struct DeliveryArgs {
    /// Database (as `bench intake`): omitted, a new SQLite file; `postgres://…`, a new schema.
    #[arg(long, value_name = "URL")]
    pub db: Option<String>,
    /// Messages to deliver.
    #[arg(long, default_value_t = 5_000)]
    pub count: usize,
    /// Share of the messages sent by e-mail (the rest by text message); needs `--smtp`.
    #[arg(long, default_value_t = 0.0)]
    pub email_share: f64,
    /// The SMTP server, `HOST:PORT`, with STARTTLS.
    #[arg(long)]
    pub smtp: Option<String>,
    /// Its user.
    #[arg(long, default_value = "sender@redress.test")]
    pub smtp_user: String,
    /// Its password.
    #[arg(long, default_value = "smtp-secret")]
    pub smtp_password: String,
    /// The CA (PEM) its certificate is signed by.
    #[arg(long)]
    pub smtp_ca: Option<PathBuf>,
    /// Messages handed to providers at the same time.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Keep the database.
    #[arg(long)]
    pub keep: bool,
}

/// Options of `bench mail`.
#[derive(Args)]
pub struct MailArgs {
    /// Database (as `bench intake`).
    #[arg(long, value_name = "URL")]
    pub db: Option<String>,
    /// E-mails to take in.
    #[arg(long, default_value_t = 2_000)]
    pub count: usize,
    /// Keep the database.
    #[arg(long)]
    pub keep: bool,
}

/// A gateway answering every request at once, counting them.
async fn local_gateway() -> anyhow::Result<(String, Arc<AtomicUsize>)> {
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    let app = axum::Router::new().route(
        "/send",
        axum::routing::post(move |body: String| {
            let counter = counter.clone();
            async move {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let _ = body;
                axum::Json(serde_json::json!({ "message_id": format!("gw-{n}") }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/send", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((url, count))
}

/// Runs `bench delivery`.
pub async fn delivery(args: DeliveryArgs, rules: Arc<RuleBook>) -> anyhow::Result<()> {
    let db = fresh_db(args.db.as_deref()).await?;
    println!("database: {}", db.label);
    let app = App::new(db.store.clone(), rules.clone(), Arc::new(SystemClock));
    let (url, gateway_count) = local_gateway().await?;
    let mut transports: Vec<Arc<dyn Transport>> = vec![Arc::new(redress_channels::sms::SmsGateway::new(&redress_channels::sms::SmsSettings {
        url,
        headers: Default::default(),
        encoding: redress_domain::delivery::BodyEncoding::Json,
        body: r#"{"to": {to}, "text": {text}, "ref": {key}}"#.into(),
        idempotency_header: Some("Idempotency-Key".into()),
        message_id_pointer: Some("/message_id".into()),
        sender: String::new(),
        timeout_seconds: 30,
        receipts: None,
    })?)];
    if let Some(smtp) = &args.smtp {
        let (host, port) = smtp.rsplit_once(':').context("--smtp HOST:PORT")?;
        transports.push(Arc::new(redress_channels::smtp::SmtpTransport::new(&redress_channels::smtp::SmtpSettings {
            host: host.to_string(),
            port: Some(port.parse().context("--smtp HOST:PORT")?),
            security: redress_channels::smtp::Security::Starttls,
            username: Some(args.smtp_user.clone()),
            password: Some(args.smtp_password.clone()),
            password_env: None,
            from: "complaints@bank.example".into(),
            reply_to: None,
            ca_file: args.smtp_ca.clone(),
            timeout_seconds: 30,
        })?));
    } else if args.email_share > 0.0 {
        anyhow::bail!("--email-share needs --smtp HOST:PORT");
    }
    // Register the complaints; each queues its acknowledgement.
    let mut generator = crate::bench::Generator::new(7, &rules);
    let head_office = rules.org.head_office().code.clone();
    let now = jiff::Timestamp::now();
    let emails = (args.count as f64 * args.email_share).round() as usize;
    let t_load = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..args.count {
        let mut body = generator.complaint(None);
        if i < emails {
            body["complainant"]["email"] = serde_json::json!(format!("customer{i}@example.cn"));
        }
        let wire: redress_app::input::NewComplaintBody = serde_json::from_value(body)?;
        let new = wire.into_domain(now, &head_office).map_err(|e| anyhow::anyhow!("a generated body is invalid: {e}"))?;
        let app = app.clone();
        set.spawn(async move { redress_app::complaints::register(&app, &Caller::system(), new, None).await });
        if set.len() >= 256 {
            set.join_next().await.transpose()?.transpose()?;
        }
    }
    while let Some(r) = set.join_next().await {
        r??;
    }
    println!("registered {} complaints in {:.1} s ({} by e-mail, {} by text message)", args.count, t_load.elapsed().as_secs_f64(), emails, args.count - emails);

    let settings = DeliverySettings { concurrency: args.concurrency, batch: 200, ..DeliverySettings::default() };
    let worker = Deliverer::new(app.clone(), transports, settings);
    let t0 = Instant::now();
    let mut batches = Vec::new();
    let mut sent = 0;
    loop {
        let tb = Instant::now();
        let r = worker.deliver_due().await?;
        if r.claimed == 0 {
            break;
        }
        if r.retrying + r.failed > 0 {
            anyhow::bail!("{} messages were not sent: {r:?}", r.retrying + r.failed);
        }
        sent += r.sent;
        // Per message: the batch's wall time shared by its messages.
        let per = (tb.elapsed().as_micros() / r.claimed.max(1) as u128) as u32;
        batches.extend(std::iter::repeat_n(per, r.claimed));
    }
    let wall = t0.elapsed().as_secs_f64();
    println!("\ndelivered {sent} messages in {wall:.2} s: {:.0} messages/s (claim, send, record; concurrency {})", sent as f64 / wall, args.concurrency);
    println!("  per message (batch wall time / batch size): {}", Latencies::new(batches).line());
    println!("  the gateway took {} requests", gateway_count.load(Ordering::Relaxed));
    let (hwm, rss) = memory();
    println!("memory: peak resident {} (VmHWM), now {}", mib(hwm), mib(rss));
    db.finish(args.keep).await
}

/// Generated e-mails: Chinese in GBK and English, a third with a small PDF, one in ten an
/// automatic reply.
fn generated_mail(i: usize, generator: &mut crate::bench::Generator) -> Vec<u8> {
    use base64::Engine as _;
    let body = generator.complaint(None);
    let narrative = body["narrative"].as_str().unwrap_or("投诉").to_string();
    let name = body["complainant"]["name"].as_str().unwrap_or("客户").to_string();
    let chinese = narrative.chars().any(redress_text::is_cjk);
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let (charset, text) = if chinese { ("GBK", encoding_rs::GBK.encode(&narrative).0.into_owned()) } else { ("UTF-8", narrative.clone().into_bytes()) };
    let subject = format!("=?UTF-8?B?{}?=", b64(format!("投诉 {i}").as_bytes()));
    let from = format!("=?UTF-8?B?{}?= <customer{i}@example.cn>", b64(name.as_bytes()));
    let auto = if i % 10 == 9 { "Auto-Submitted: auto-replied\r\n" } else { "" };
    let text_part = format!("Content-Type: text/plain; charset={charset}\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n", b64(&text));
    let mime = if i.is_multiple_of(3) {
        let pdf = format!("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% statement {i}\n%%EOF\n");
        format!(
            "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n{text_part}--b{i}\r\nContent-Type: application/pdf; name=\"statement.pdf\"\r\nContent-Disposition: attachment; filename=\"statement.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--b{i}--\r\n",
            b64(pdf.as_bytes())
        )
    } else {
        format!("MIME-Version: 1.0\r\n{text_part}")
    };
    format!("From: {from}\r\nTo: complaints@bank.example\r\nSubject: {subject}\r\nMessage-ID: <bench-{i}@example.cn>\r\nDate: Tue, 1 Dec 2026 09:00:00 +0800\r\n{auto}{mime}").into_bytes()
}

/// Runs `bench mail`.
pub async fn mail(args: MailArgs, rules: Arc<RuleBook>) -> anyhow::Result<()> {
    let db = fresh_db(args.db.as_deref()).await?;
    println!("database: {}", db.label);
    let app = App::new(db.store.clone(), rules.clone(), Arc::new(SystemClock));
    let mut generator = crate::bench::Generator::new(11, &rules);
    let mails: Vec<Vec<u8>> = (0..args.count).map(|i| generated_mail(i, &mut generator)).collect();
    let bytes: usize = mails.iter().map(Vec::len).sum();
    let settings = MailIntakeSettings { address: Some("complaints@bank.example".into()), ..MailIntakeSettings::default() };
    let mut outcomes: HashMap<&'static str, usize> = HashMap::new();
    let mut parse = Vec::with_capacity(mails.len());
    let mut take = Vec::with_capacity(mails.len());
    let t0 = Instant::now();
    for raw in mails {
        let tp = Instant::now();
        let mail = redress_channels::mail::read_mail(raw);
        parse.push(tp.elapsed().as_micros() as u32);
        let tt = Instant::now();
        let outcome = mail_intake::take(&app, &settings, "bench", mail).await?;
        take.push(tt.elapsed().as_micros() as u32);
        let name = match outcome {
            mail_intake::MailOutcome::Registered { .. } => "registered",
            mail_intake::MailOutcome::Joined { .. } => "joined",
            mail_intake::MailOutcome::Ignored { .. } => "ignored",
            mail_intake::MailOutcome::Refused { .. } => "refused",
            mail_intake::MailOutcome::Receipt { .. } => "receipt",
            mail_intake::MailOutcome::Known => "known",
        };
        *outcomes.entry(name).or_default() += 1;
    }
    let wall = t0.elapsed().as_secs_f64();
    println!("\ntook in {} e-mails ({:.1} MiB) in {wall:.2} s: {:.0} e-mails/s, one after another as the mailbox reader does", args.count, bytes as f64 / 1048576.0, args.count as f64 / wall);
    println!("  outcomes: {outcomes:?}");
    println!("  reading (MIME, charsets):      {}", Latencies::new(parse).line());
    println!("  taking in (register, keep):    {}", Latencies::new(take).line());
    let (hwm, rss) = memory();
    println!("memory: peak resident {} (VmHWM), now {}", mib(hwm), mib(rss));
    db.finish(args.keep).await
}
