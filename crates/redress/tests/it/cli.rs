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

    let c = app.state.store.complaint_by_number(&app.state.store.list(&redress_store::ComplaintFilter { limit: 10, ..Default::default() }).await.unwrap().items.last().unwrap().number).await.unwrap().unwrap();
    assert_eq!(c.external_ref.as_deref(), Some("cfpb:6800001"));
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
    for help in [&["--help"][..], &["serve", "--help"], &["import", "cfpb", "--help"], &["complaint", "act", "--help"], &["user", "add", "--help"]] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_redress")).args(help).output().unwrap();
        assert!(out.status.success() && !out.stdout.is_empty(), "{help:?}");
    }
}
