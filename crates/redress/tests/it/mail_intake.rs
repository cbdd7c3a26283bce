//! Complaints by e-mail: the project's fixtures (Chinese in GBK, GB2312, GB18030 and Big5,
//! English, HTML, attachments, replies, automatic replies, loops, a bounce, broken and hostile
//! mail) read as written; a folder of them taken in; replies joining their complaints; a bounce
//! failing the message it names; the intake mailbox read over IMAP from a real Dovecot.

use std::path::{Path, PathBuf};
use std::time::Duration;

use redress_app::delivery::DeliverySettings;
use redress_app::mail_intake::{self, MailIntakeSettings, MailKind, MailOutcome};
use redress_channels::intake::{ImapSecurity, MailboxSettings, poll_mailbox, take_folder};
use redress_channels::mail::read_mail;
use reqwest::StatusCode;
use serde_json::Value;

use crate::delivery::{Gateway, deliverer};
use crate::mail_servers::{ImapServer, SmtpSink};
use crate::on_both_engines;
use crate::support::{Engine, TestApp};

on_both_engines!(a_folder_of_mail_becomes_complaints_and_replies_join_them, the_mailbox_is_read_over_imap_and_each_message_taken_once);

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mail")
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixtures().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn expected() -> toml::Table {
    toml::from_str(&std::fs::read_to_string(fixtures().join("expected.toml")).unwrap()).unwrap()
}

#[test]
fn every_fixture_is_read_as_its_writer_meant() {
    let files = expected();
    let files = files["files"].as_table().unwrap();
    let mut checked = 0;
    for (name, facts) in files {
        if facts.get("generated").and_then(toml::Value::as_bool) == Some(true) {
            continue;
        }
        let m = read_mail(fixture(name));
        let text = |k: &str| facts.get(k).and_then(toml::Value::as_str);
        let kind = text("kind").unwrap();
        match kind {
            "complaint" | "reply" => assert_eq!(m.kind, MailKind::Personal, "{name}"),
            "auto_reply" => assert_eq!(m.kind, MailKind::AutoReply, "{name}"),
            "bulk" => assert_eq!(m.kind, MailKind::Bulk, "{name}"),
            "loop" => assert_eq!(m.kind, MailKind::Loop, "{name}"),
            "bounce" => match &m.kind {
                MailKind::Bounce { original_message_id, recipient, status } => {
                    assert_eq!(original_message_id.as_deref(), text("original_message_id"), "{name}");
                    assert_eq!(recipient.as_deref(), text("failed_recipient"), "{name}");
                    assert!(status.contains(text("status").unwrap()), "{name}: {status}");
                }
                other => panic!("{name}: read as {other:?}"),
            },
            // Survived, whatever it is taken for; its sender is still read.
            "malformed" => {}
            other => panic!("{name}: unknown kind {other}"),
        }
        assert_eq!(m.from_address.as_deref(), text("from_address"), "{name}");
        if kind != "bounce" && kind != "malformed" {
            assert_eq!(m.from_name.as_deref().unwrap_or(""), text("from_name").unwrap_or(""), "{name}");
        }
        if let Some(subject) = text("subject") {
            assert_eq!(m.subject, subject, "{name}");
        }
        if let Some(id) = text("message_id") {
            assert_eq!(m.message_id.as_deref(), Some(id), "{name}");
        }
        for s in facts.get("body_contains").and_then(toml::Value::as_array).into_iter().flatten() {
            assert!(m.body.contains(s.as_str().unwrap()), "{name}: the text lacks {s}:\n{}", m.body);
        }
        for s in facts.get("body_excludes").and_then(toml::Value::as_array).into_iter().flatten() {
            assert!(!m.body.contains(s.as_str().unwrap()), "{name}: the text has {s}:\n{}", m.body);
        }
        let attachments: Vec<(String, i64)> = facts
            .get("attachments")
            .and_then(toml::Value::as_array)
            .into_iter()
            .flatten()
            .map(|a| (a["name"].as_str().unwrap().to_string(), a["size"].as_integer().unwrap()))
            .collect();
        let read: Vec<(String, i64)> = m.attachments.iter().map(|(n, c)| (n.clone(), c.len() as i64)).collect();
        // A bounce's parts are the report and the returned message, not evidence.
        if kind != "malformed" && kind != "bounce" {
            assert_eq!(read, attachments, "{name}");
        }
        if let Some(number) = text("complaint_number") {
            assert_eq!(redress_domain::complaint::complaint_numbers_in(&m.subject), [number], "{name}");
        }
        if let Some(id) = text("in_reply_to") {
            assert!(m.answers.iter().any(|a| a == id), "{name}: {:?}", m.answers);
        }
        checked += 1;
    }
    assert!(checked >= 15, "every fixture on disk was checked ({checked})");
}

/// Copies fixtures into a folder of their own.
fn folder_of(names: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in names {
        std::fs::write(dir.path().join(name), fixture(name)).unwrap();
    }
    dir
}

async fn a_folder_of_mail_becomes_complaints_and_replies_join_them(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let settings = MailIntakeSettings { address: Some("complaints@bank.example".into()), ..MailIntakeSettings::default() };
    let names = [
        "gbk-plain.eml",
        "gb2312-qp.eml",
        "gb18030-html.eml",
        "big5-traditional.eml",
        "utf8-multipart-attachment.eml",
        "utf8-english-plain.eml",
        "mixed-encoded-headers.eml",
        "evil-attachment.eml",
        "auto-reply.eml",
        "auto-reply-precedence.eml",
        "list-bulk.eml",
        "loop.eml",
        "malformed.eml",
    ];
    let dir = folder_of(&names);
    let mut seen = 0;
    let report = take_folder(&app.state, &settings, dir.path(), |done, _| seen = done).await.unwrap();
    assert_eq!(seen, names.len(), "progress reached the end");
    assert_eq!(report.outcomes.get("ignored"), Some(&4), "{report:?}");
    let registered = report.outcomes.get("registered").copied().unwrap_or(0);
    let refused = report.outcomes.get("refused").copied().unwrap_or(0);
    assert_eq!(registered + refused, 9, "{report:?}");
    assert!(registered >= 8, "every readable complaint is registered: {report:?}");

    // What the intake kept: every message, whole, with its outcome.
    let (status, kept) = app.get("admin", "/api/v1/intake/mail").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(kept["items"].as_array().unwrap().len(), names.len());
    let (status, _) = app.get("card_handler", "/api/v1/intake/mail").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the kept mail is for those who import");
    let loop_row = kept["items"].as_array().unwrap().iter().find(|m| m["sender"] == "complaints@bank.example").expect("the loop is kept");
    assert_eq!(loop_row["outcome"], "ignored");
    let res = app.http.get(format!("{}/api/v1/intake/mail/{}/raw", app.base, loop_row["id"])).bearer_auth(&app.tokens["admin"]).send().await.unwrap();
    assert_eq!(res.bytes().await.unwrap().as_ref(), fixture("loop.eml").as_slice(), "kept as received");

    // The GBK complaint: the customer's name, address and words, in Chinese, acknowledged by
    // e-mail.
    let mut gbk = None;
    let mut multipart = None;
    let mut evil = None;
    for number in &report.registered {
        let c = app.get("supervisor", &format!("/api/v1/complaints/{number}")).await.1;
        match c["complainant"]["email"].as_str() {
            Some("zhang.weiming@example.com") => gbk = Some(c),
            Some("d.okafor@example.org") => multipart = Some(c),
            Some("k.marsh@example.com") => evil = Some(c),
            _ => {}
        }
    }
    let gbk = gbk.expect("the GBK mail is a complaint");
    assert_eq!(gbk["channel"], "email");
    assert_eq!(gbk["complainant"]["name"], "张伟明");
    assert!(gbk["narrative"].as_str().unwrap().contains("客服工号 30215"));
    let (_, messages) = app.get("supervisor", &format!("/api/v1/complaints/{}/messages", gbk["id"].as_str().unwrap())).await;
    let ack = &messages["messages"][0];
    assert_eq!((ack["kind"].as_str(), ack["recipient"].as_str(), ack["language"].as_str(), ack["channel"].as_str()), (Some("acknowledgement"), Some("zhang.weiming@example.com"), Some("zh-CN"), Some("email")));
    let multipart = multipart.expect("the English multipart mail is a complaint");
    let files: Vec<&str> = multipart["attachments"].as_array().unwrap().iter().map(|a| a["filename"].as_str().unwrap()).collect();
    assert_eq!(files, ["交易明细.pdf", "screenshot.png"]);
    assert_eq!(multipart["complainant"]["language"], "en");
    let evil = evil.expect("the mail with a disguised program is a complaint without it");
    assert!(evil["attachments"].as_array().unwrap().is_empty());
    assert!(evil["narrative"].as_str().unwrap().contains("invoice.pdf"), "the refusal is noted: {}", evil["narrative"]);

    // A reply naming the complaint number joins its log; so does one answering our message.
    let number = gbk["number"].as_str().unwrap();
    let reply = format!("From: 张伟明 <zhang.weiming@example.com>\r\nTo: complaints@bank.example\r\nSubject: Re: {number}\r\nMessage-ID: <r1@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n补充：银行流水编号 JJ-2026-120217。\r\n");
    let outcome = mail_intake::take(&app.state, &settings, "test", read_mail(reply.into_bytes())).await.unwrap();
    assert_eq!(outcome, MailOutcome::Joined { number: number.to_string() });
    let our_id = format!("redress-{}-{}@bank.example", gbk["id"].as_str().unwrap(), ack["id"]);
    let answer = format!("From: someone.else@example.net\r\nSubject: Re: your message\r\nIn-Reply-To: <{our_id}>\r\nMessage-ID: <r2@example.net>\r\n\r\nI am writing for my father.\r\n");
    let outcome = mail_intake::take(&app.state, &settings, "test", read_mail(answer.into_bytes())).await.unwrap();
    assert_eq!(outcome, MailOutcome::Joined { number: number.to_string() });
    let (_, history) = app.get("supervisor", &format!("/api/v1/complaints/{number}/history")).await;
    let notes: Vec<String> = history["events"].as_array().or(history["items"].as_array()).into_iter().flatten().filter(|e| e["action"] == "add_note").map(|e| e.to_string()).collect();
    assert_eq!(notes.len(), 2, "{history}");
    assert!(notes[0].contains("JJ-2026-120217"));
    assert!(notes[1].contains("not the address on the complaint"), "a stranger's reply is marked: {}", notes[1]);

    // Taking the same folder again takes nothing twice.
    let again = take_folder(&app.state, &settings, dir.path(), |_, _| {}).await.unwrap();
    assert_eq!(again.outcomes.get("known"), Some(&names.len()), "{again:?}");

    // A message too large is kept and refused, unread.
    let small = MailIntakeSettings { max_message_bytes: 64 * 1024, ..settings.clone() };
    let big = big_mail(256 * 1024);
    let outcome = mail_intake::take(&app.state, &small, "test", read_mail(big.clone())).await.unwrap();
    assert!(matches!(&outcome, MailOutcome::Refused { reason } if reason.contains("bytes")), "{outcome:?}");
    let (_, refused) = app.get("admin", "/api/v1/intake/mail?outcome=refused").await;
    assert!(refused["items"].as_array().unwrap().iter().any(|m| m["size"] == big.len() as i64));
}

/// A complaint carrying a recording of `size` bytes.
fn big_mail(size: usize) -> Vec<u8> {
    use base64::Engine as _;
    let mut mp3 = b"ID3\x04\x00\x00\x00\x00\x00\x00".to_vec();
    mp3.extend((10..size).map(|i| (i % 251) as u8));
    let encoded = base64::engine::general_purpose::STANDARD.encode(&mp3);
    let lines: Vec<&str> = encoded.as_bytes().chunks(76).map(|c| std::str::from_utf8(c).unwrap()).collect();
    format!(
        "From: Priya Raman <priya.raman@example.net>\r\nSubject: Call recording\r\nMessage-ID: <big@example.net>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nInterest charged despite the promised freeze on loan ending 5127.\r\n--b\r\nContent-Type: audio/mpeg; name=\"recording.mp3\"\r\nContent-Disposition: attachment; filename=\"recording.mp3\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--\r\n",
        lines.join("\r\n")
    )
    .into_bytes()
}

async fn the_mailbox_is_read_over_imap_and_each_message_taken_once(engine: Engine) {
    let Some(imap) = ImapServer::start() else { return };
    let Some(sink) = SmtpSink::start(None) else { return };
    let Some(app) = TestApp::start(engine).await else { return };
    let mailbox = MailboxSettings {
        host: "localhost".into(),
        port: Some(imap.tls_port),
        security: ImapSecurity::Tls,
        username: imap.user.clone(),
        password: Some(imap.password.clone()),
        password_env: None,
        folder: "INBOX".into(),
        poll_seconds: 1,
        ca_file: Some(imap.cert.cert_pem.clone()),
        address: Some("complaints@bank.example".into()),
        unit: None,
        max_message_bytes: None,
    };
    for name in ["gbk-plain.eml", "big5-traditional.eml", "auto-reply.eml"] {
        imap.deliver("INBOX", &fixture(name));
    }
    let report = poll_mailbox(&app.state, &mailbox).await.unwrap();
    assert_eq!((report.messages, report.registered.len()), (3, 2), "{report:?}");
    assert_eq!(imap.seen_count(), 3, "each message is marked seen once its outcome is kept");

    // A message taken in whose mark was lost (the server stopped in between) is recognised.
    let raw = fixture("gb18030-html.eml");
    mail_intake::take(&app.state, &mailbox.intake(), "test", read_mail(raw.clone())).await.unwrap();
    imap.deliver("INBOX", &raw);
    let report = poll_mailbox(&app.state, &mailbox).await.unwrap();
    assert_eq!(report.outcomes.get("known"), Some(&1), "{report:?}");
    assert_eq!(imap.seen_count(), 4);
    assert_eq!(poll_mailbox(&app.state, &mailbox).await.unwrap().messages, 0, "nothing unseen is left");

    // The acknowledgement goes back by e-mail; when it bounces, the message fails and the
    // department is told.
    let gateway = Gateway::start(Duration::ZERO).await;
    let worker = deliverer(&app.state, &sink, &gateway, DeliverySettings::default());
    assert_eq!(worker.deliver_due().await.unwrap().sent, 3);
    let mails = sink.wait_for(3, Duration::from_secs(10));
    let to_zhang = mails.iter().find(|m| m.rcpt_tos == ["zhang.weiming@example.com"]).expect("the acknowledgement went back by e-mail");
    let message_id = to_zhang.message_id.clone().unwrap();
    let bounce = String::from_utf8(fixture("bounce-dsn.eml")).unwrap().replace("msg-7@redress.example", message_id.trim_matches(['<', '>']));
    imap.deliver("INBOX", bounce.as_bytes());
    let report = poll_mailbox(&app.state, &mailbox).await.unwrap();
    assert_eq!(report.outcomes.get("receipt"), Some(&1), "{report:?}");
    let (_, list) = app.get("supervisor", "/api/v1/complaints?limit=50").await;
    let zhang = list["items"].as_array().unwrap().iter().find(|c| c["title"].as_str().is_some_and(|t| t.contains("4417"))).cloned().unwrap_or(Value::Null);
    let id = zhang["id"].as_str().expect("the GBK complaint is listed");
    let (_, messages) = app.get("supervisor", &format!("/api/v1/complaints/{id}/messages")).await;
    let ack = &messages["messages"][0];
    assert_eq!(ack["state"], "failed", "{ack}");
    assert!(ack["detail"].as_str().unwrap().contains("nobody@example.net"), "{ack}");
}
