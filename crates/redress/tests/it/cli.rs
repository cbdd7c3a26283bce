//! Command-line paths: the CFPB import.

use std::io::Write;

use crate::on_both_engines;
use crate::support::{Engine, TestApp};

on_both_engines!(cfpb_import_reports_every_row_and_never_duplicates, cfpb_import_rejects_invalid_utf8_rows_alone);

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

async fn cfpb_import_reports_every_row_and_never_duplicates(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let (summary, rejected) = redress::import::import_cfpb(&app.state, &fixture("cfpb-small.csv"), false).await.unwrap();
    assert_eq!(summary.read, 6);
    assert_eq!(summary.imported, 3);
    assert_eq!(summary.already_present, 1, "complaint 6800001 appears twice in the file");
    assert_eq!(summary.rejected, 2);
    assert_eq!(summary.read, summary.imported + summary.already_present + summary.rejected);
    // Physical line numbers: the first record spans lines 2-3.
    assert!(rejected[0].starts_with("line 6:") && rejected[0].contains("Date received"), "{rejected:?}");
    assert!(rejected[1].starts_with("line 7:") && rejected[1].contains("Complaint ID"), "{rejected:?}");
    assert_eq!(app.state.store.count().await.unwrap(), 3);

    let (again, _) = redress::import::import_cfpb(&app.state, &fixture("cfpb-small.csv"), false).await.unwrap();
    assert_eq!((again.imported, again.already_present, again.rejected), (0, 4, 2));
    assert_eq!(app.state.store.count().await.unwrap(), 3);

    // Complaints received on the same day list in the order of their ids, which concurrent
    // writers hand out in no fixed order: find the one by its reference.
    let mut first = None;
    for s in app.state.store.list(&redress_store::ComplaintFilter { limit: 10, ..Default::default() }).await.unwrap().items {
        let c = app.state.store.complaint_by_number(&s.number).await.unwrap().unwrap();
        if c.external_ref.as_deref() == Some("cfpb:6800001") {
            first = Some(c);
        }
    }
    let c = first.expect("complaint 6800001 is stored with its reference");
    assert_eq!(c.channel, redress_domain::complaint::Channel::Regulator);
    assert!(c.narrative.as_str().contains("XXXX"));
    let older = app.state.store.list(&redress_store::ComplaintFilter { limit: 10, ..Default::default() }).await.unwrap();
    assert!(older.items.iter().all(|s| s.received_at.to_string().starts_with("2023-04-0")));
}

async fn cfpb_import_rejects_invalid_utf8_rows_alone(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.csv");
    let mut f = std::fs::File::create(&path).unwrap();
    let text = std::fs::read(fixture("cfpb-small.csv")).unwrap();
    let mut lines: Vec<&[u8]> = text.split(|b| *b == b'\n').collect();
    lines.truncate(4); // header + first record (2 lines) + second record
    f.write_all(&lines.join(&b"\n"[..])).unwrap();
    f.write_all(b"\n04/09/2023,Mortgage,,Closing,,,,EXAMPLE \xff\xfe BANK,CA,94105,,,Web,04/09/2023,In progress,Yes,N/A,6800009\n").unwrap();
    drop(f);
    let (summary, rejected) = redress::import::import_cfpb(&app.state, &path, false).await.unwrap();
    assert_eq!((summary.read, summary.imported, summary.rejected), (3, 2, 1));
    assert!(rejected[0].starts_with("line 5:") && rejected[0].contains("UTF-8"), "{rejected:?}");

    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/cfpb/complaints-2023-04.csv");
    if !shared.exists() {
        eprintln!("skipping the real CFPB file: ../shared/data not present");
        return;
    }
    let (summary, rejected) = redress::import::import_cfpb(&app.state, &shared, false).await.unwrap();
    assert_eq!(summary.read, 3999, "{rejected:?}");
    assert_eq!(summary.read, summary.imported + summary.already_present + summary.rejected);
    assert_eq!(summary.rejected, 0, "{rejected:?}");
}

/// Runs the real binary against a database; returns stdout, failing on a non-zero exit.
fn redress(dir: &std::path::Path, db: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_redress"))
        .arg("--db")
        .arg(db)
        .args(args)
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run redress");
    assert!(out.status.success(), "redress {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_command_line_registers_and_acts_like_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("cli.db").display());
    let out = redress(dir.path(), &db, &["user", "add", "wang", "--role", "handler", "--department", "SH-CARD"]);
    let token = out.lines().last().unwrap();
    assert!(token.starts_with("rdr_") && token.len() == 68, "{out}");
    redress(dir.path(), &db, &["user", "add", "li", "--role", "intake_agent"]);
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_redress"))
        .args(["--db", &db, "user", "add", "zhao", "--role", "wizard"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown role 'wizard'"));

    let out = redress(dir.path(), &db, &[
        "complaint", "new", "--as", "li", "--name", "王五", "--phone", "13512345678", "--unit", "SH",
        "--product", "信用卡", "--narrative", "信用卡年费乱收费，客服态度很差", "--request", "退还年费",
    ]);
    let created: serde_json::Value = serde_json::from_str(&out).unwrap();
    let number = created["number"].as_str().unwrap();
    assert_eq!(created["owner"]["department"], "SH-CARD");
    assert_eq!(created["owner"]["handler"]["name"], "wang");

    let out = redress(dir.path(), &db, &["complaint", "act", "--as", "wang", number, "start-investigation"]);
    assert!(out.contains("investigating"), "{out}");
    let out = redress(dir.path(), &db, &["complaint", "act", "--as", "wang", number, "notes", "text=已联系客户", "customer_contact=true"]);
    assert!(out.contains("investigating"), "{out}");
    let out = redress(dir.path(), &db, &["complaint", "list", "--as", "wang"]);
    assert!(out.contains(number) && out.contains("135****5678"), "{out}");
    let out = redress(dir.path(), &db, &["complaint", "history", "--as", "wang", number]);
    assert_eq!(out.lines().count(), 5, "{out}");
    let evidence = dir.path().join("通话记录.txt");
    std::fs::write(&evidence, "2025-01-20 10:02 客户来电，反映年费问题").unwrap();
    let out = redress(dir.path(), &db, &["complaint", "attach", "--as", "wang", number, evidence.to_str().unwrap()]);
    assert!(out.contains("1 attachment"), "{out}");
    let users = redress(dir.path(), &db, &["user", "list"]);
    assert!(users.contains("wang") && users.contains("open=1"), "{users}");

    // A use case's refusal is a message with its code and an exit code of its kind.
    let refused = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_redress")).arg("--db").arg(&db).args(args).env("RUST_LOG", "warn").output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).to_string())
    };
    let (code, err) = refused(&["complaint", "act", "--as", "li", number, "withdraw"]);
    assert_eq!(code, Some(77), "an intake agent may not withdraw: {err}");
    assert!(err.contains("forbidden"), "{err}");
    let (code, err) = refused(&["complaint", "show", "--as", "wang", "TS-20000101-000001"]);
    assert_eq!(code, Some(66), "{err}");
    let (code, err) = refused(&["complaint", "act", "--as", "wang", number, "escalate", "reason="]);
    assert_eq!(code, Some(65), "{err}");
    assert!(err.contains("(reason)"), "the field is named: {err}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_redress"))
        .args(["--db", "postgres://redress:s3cret@127.0.0.1:1/none", "migrate"])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "{err}");
    assert!(!err.contains("s3cret") && err.contains("redress:***@"), "the password is never shown: {err}");
    for help in [&["--help"][..], &["serve", "--help"], &["import", "cfpb", "--help"], &["complaint", "act", "--help"], &["user", "add", "--help"]] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_redress")).args(help).output().unwrap();
        assert!(out.status.success() && !out.stdout.is_empty(), "{help:?}");
    }
}

/// Runs the real binary with `input` on standard input.
fn redress_with_input(dir: &std::path::Path, db: &str, args: &[&str], input: &str) -> String {
    use std::process::Stdio;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_redress"))
        .arg("--db")
        .arg(db)
        .args(args)
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run redress");
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "redress {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_command_line_searches_analyses_trains_and_evaluates() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("text.db").display());
    redress(dir.path(), &db, &["user", "add", "li", "--role", "intake_agent"]);
    for (phone, narrative) in [("13512345678", "我的蚂蚁花呗借呗逾期记录有误"), ("13512345679", "高速ETC扣费两次，要求退还")] {
        redress(dir.path(), &db, &["complaint", "new", "--as", "li", "--name", "王五", "--phone", phone, "--unit", "SH", "--narrative", narrative, "--request", "请核实"]);
    }
    let out = redress(dir.path(), &db, &["search", "花呗"]);
    assert!(out.starts_with("1 complaints match") && out.contains("[花呗]"), "{out}");
    let out = redress(dir.path(), &db, &["search", "--json", "ETC", "扣费"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["total"], 1, "{v}");

    // analyze: one JSON object per input line, an error object for an empty line.
    let out = redress_with_input(dir.path(), &db, &["analyze"], "我非常不满意，再不处理我就打12378投诉\n\nThank you, the issue is resolved and I am very happy\n");
    let lines: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[0]["negative_score"].as_f64().unwrap() > 0.6, "{}", lines[0]);
    assert_eq!(lines[0]["risk_flags"][0]["kind"], "regulator_threat", "{}", lines[0]);
    assert_eq!(lines[1]["error"], "empty line");
    assert!(lines[2]["negative_score"].as_f64().unwrap() < 0.4, "{}", lines[2]);

    // train and eval from a CSV with its own column names; a row without a label is reported.
    let csv = dir.path().join("labelled.csv");
    let mut rows = String::from("内容,类别\n");
    for i in 0..25 {
        rows.push_str(&format!("\"第{i}次 信用卡 年费 乱收费\",fees\n\"第{i}次 转账 失败 资金 未到账\",transfer\n\"第{i}次 柜员 态度 差 不耐烦\",service\n"));
    }
    rows.push_str("没有标签的一行,\n");
    std::fs::write(&csv, rows).unwrap();
    let args = ["--from", csv.to_str().unwrap(), "--text-column", "内容", "--label-column", "类别"];
    let out = redress(dir.path(), &db, &[&["eval", "--folds", "5"][..], &args].concat());
    assert!(out.contains("5-fold cross-validation on 75 labelled texts") && out.contains("macro-F1"), "{out}");
    let out = redress(dir.path(), &db, &[&["train", "--target", "intent"][..], &args].concat());
    assert!(out.contains("trained model m-") && out.contains("now in use"), "{out}");
    let id = out.split_whitespace().find(|w| w.starts_with("m-")).unwrap().to_string();
    let out = redress(dir.path(), &db, &["models", "list"]);
    assert!(out.contains(&id) && out.contains("in use"), "{out}");
    let out = redress(dir.path(), &db, &[&["eval", "--model", &id][..], &args].concat());
    assert!(out.contains("accuracy"), "{out}");
    let out = redress_with_input(dir.path(), &db, &["analyze"], "柜员态度很差，很不耐烦\n");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["predictions"][0]["label"], "service", "{v}");
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_redress")).args(["--db", &db, "train", "--from", csv.to_str().unwrap(), "--text-column", "text"]).output().unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no column 'text'"), "{}", String::from_utf8_lossy(&bad.stderr));
    for help in [&["search", "--help"][..], &["analyze", "--help"], &["train", "--help"], &["eval", "--help"], &["models", "--help"], &["reindex", "--help"], &["incidents", "--help"]] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_redress")).args(help).output().unwrap();
        assert!(out.status.success() && !out.stdout.is_empty(), "{help:?}");
    }
}
