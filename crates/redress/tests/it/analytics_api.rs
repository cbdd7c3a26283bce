//! The analysis API on both engines: reports that stand as they were at a period's end, the
//! FCA return's bands, hotspots with their evidence, the complainant profile within the
//! caller's reach, scorecards, and who may ask.

use redress_domain::complaint::Complaint;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::on_both_engines;
use crate::support::{Engine, TestApp, card_complaint};

on_both_engines!(
    a_closed_quarter_stands_unless_restated,
    the_fca_return_bands_closings_and_redress,
    a_rising_combination_is_a_hotspot_with_evidence,
    the_profile_shows_only_what_the_caller_may_see,
    scorecards_count_for_whoever_closed,
    who_may_ask_for_statistics,
    the_cfpb_export_imports_back_to_the_same_complaints
);

/// A card complaint by a person known by phone alone (complaints sharing an ID number about
/// the same matter would be merged as duplicates).
fn someone(phone: &str) -> Value {
    let mut c = card_complaint(phone);
    c["complainant"]["id_number"] = Value::Null;
    c
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// Investigates, proposes `kind` and decides, as the Shanghai card handler.
async fn decide(app: &TestApp, cid: &str, kind: &str) {
    let (_, c) = app.get("card_handler", &format!("/api/v1/complaints/{cid}")).await;
    if c["status"] != "investigating" {
        app.act("card_handler", cid, "start-investigation", json!({})).await;
    }
    let mut body = json!({ "kind": kind, "summary": "处理结果" });
    if kind == "refund" {
        body["amount"] = json!({ "amount": "120.00", "currency": "CNY" });
    }
    app.act("card_handler", cid, "propose-resolution", body).await;
    app.act("card_handler", cid, "decide", json!({ "verification": "核实", "basis": "依据", "reasons": "理由" })).await;
}

async fn a_closed_quarter_stands_unless_restated(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    // 2025-01-20: received and decided in the first quarter.
    let c = app.register(&card_complaint("13900000011")).await;
    let cid = id(&c);
    decide(&app, &cid, "refund").await;
    let (_, q1) = app.get("supervisor", "/api/v1/reports/quarterly?year=2025&quarter=1").await;
    assert_eq!(q1["received"]["n"], 1, "{q1}");
    assert_eq!(q1["closed"], 1);
    assert_eq!(q1["upheld"], 1);
    assert_eq!(q1["redress"]["CNY"], 12000);
    // In the second quarter the customer is dissatisfied: reopened, decided again.
    app.advance_days(80);
    app.act("card_handler", &cid, "follow-up", json!({ "satisfaction": "dissatisfied", "comments": "不满意" })).await;
    let (_, q1_again) = app.get("supervisor", "/api/v1/reports/quarterly?year=2025&quarter=1").await;
    assert_eq!(q1_again["closed"], 1, "a reopening does not rewrite a closed quarter: {q1_again}");
    assert_eq!(q1_again["received"]["n"], 1);
    let (_, restated) = app.get("supervisor", "/api/v1/reports/quarterly?year=2025&quarter=1&restate=true").await;
    assert_eq!(restated["closed"], 0, "restated, the reopened closing is left out: {restated}");
    assert_eq!(restated["restated"], true);
    decide(&app, &cid, "explanation").await;
    let (_, q2) = app.get("supervisor", "/api/v1/reports/quarterly?year=2025&quarter=2").await;
    assert_eq!(q2["closed"], 1, "{q2}");
    assert_eq!(q2["received"]["n"], 0);
    assert_eq!(q2["received"]["previous"], 1, "the quarter before");
    assert_eq!(q2["upheld"], 0);
    // Every line of the quarter adds up to the total.
    let lines: i64 = q1["business_types"].as_array().unwrap().iter().map(|l| l["n"].as_i64().unwrap()).sum();
    assert_eq!(lines, 1);
    // The department's own commentary is kept with the quarter.
    let body = json!({ "year": "2025", "quarter": "1", "sections": { "overview": "本季度投诉平稳。\n信用卡盗刷为主。", "remediation": "加强交易监控" } });
    let (status, saved) = app.post("supervisor", "/api/v1/reports/quarterly/commentary", &body).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    let (_, q1_noted) = app.get("supervisor", "/api/v1/reports/quarterly?year=2025&quarter=1").await;
    assert_eq!(q1_noted["commentary"]["sections"]["overview"], "本季度投诉平稳。\n信用卡盗刷为主。");
    assert_eq!(q1_noted["commentary"]["sections"]["remediation"], "加强交易监控");
    let (status, _) = app.post("card_handler", "/api/v1/reports/quarterly/commentary", &body).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "handlers do not write the institution's commentary");
    let (status, e) = app.post("supervisor", "/api/v1/reports/quarterly/commentary", &json!({ "year": "2025", "quarter": "1", "sections": { "gossip": "x" } })).await;
    assert_eq!((status, e["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("gossip")), "{e}");
    let (status, bad) = app.get("supervisor", "/api/v1/reports/quarterly?year=2025&quarter=5").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    assert_eq!(bad["error"]["field"], "quarter", "{bad}");
}

async fn the_fca_return_bands_closings_and_redress(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    // One closed on the day (within three business days), one after ten days (within eight
    // weeks), one after sixty days (after eight weeks).
    let a = id(&app.register(&someone("13900000021")).await);
    decide(&app, &a, "refund").await;
    let b = id(&app.register(&someone("13900000022")).await);
    let c = id(&app.register(&someone("13900000023")).await);
    app.advance_days(10);
    decide(&app, &b, "explanation").await;
    app.advance_days(50);
    decide(&app, &c, "rejection").await;
    let (status, r) = app.get("supervisor", "/api/v1/reports/fca?year=2025&half=1").await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["reporting_period"], "2025-01-01 to 2025-06-30");
    let t = &r["total"];
    assert_eq!((t["opened"].as_i64(), t["closed"].as_i64()), (Some(3), Some(3)), "{t}");
    assert_eq!((t["within_3_days"].as_i64(), t["within_8_weeks"].as_i64(), t["after_8_weeks"].as_i64()), (Some(1), Some(1), Some(1)), "{t}");
    assert_eq!(t["upheld"], 1);
    assert_eq!(t["redress"]["CNY"], 12000);
    let groups = r["product_groups"].as_array().unwrap();
    assert_eq!(groups.len(), 5, "the five product groups the FCA publishes");
    let banking = groups.iter().find(|g| g["product_group"] == "banking_credit_cards").unwrap();
    assert_eq!(banking["closed"], 3, "credit-card complaints are banking and credit cards: {banking}");
}

async fn a_rising_combination_is_a_hotspot_with_evidence(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    // Four quiet weeks of two credit-card complaints a week against the Shanghai branch, then
    // a week of fifteen.
    let now = app.clock_now();
    let at = |days_ago: i64, hour: i64| (now - jiff::SignedDuration::from_hours(24 * days_ago + hour)).to_string();
    let mut n = 0;
    for week in 1..=4 {
        for k in 0..2 {
            let mut c = someone(&format!("1390001{n:04}"));
            c["received_at"] = json!(at(7 * week + 2 * k, 1));
            app.register(&c).await;
            n += 1;
        }
    }
    let mut last_week = Vec::new();
    for k in 0..15 {
        let mut c = someone(&format!("1390001{n:04}"));
        c["received_at"] = json!(at(k % 7, 2));
        last_week.push(app.register(&c).await);
        n += 1;
    }
    let (status, h) = app.get("supervisor", "/api/v1/hotspots").await;
    assert_eq!(status, StatusCode::OK, "{h}");
    let items = h["items"].as_array().unwrap();
    let top = &items[0];
    assert_eq!(top["hotspot"]["alert"], true, "{h}");
    assert_eq!(top["hotspot"]["window_count"], 15);
    assert_eq!(top["hotspot"]["baseline_counts"], json!([2, 2, 2, 2]));
    let business = last_week[0]["classification"]["business_type"]["code"].clone();
    assert_eq!(top["hotspot"]["key"][0], business);
    assert_eq!(top["hotspot"]["key"][2], "SH");
    assert_eq!(top["examples"].as_array().unwrap().len(), 3, "examples of the window");
    assert_eq!(top["daily"].as_array().unwrap().len(), 35);
    assert_eq!(top["list"]["unit"], "SH");
    // The same rise by keyword of the text: the card complaints' words rise together.
    let (status, by_word) = app.get("supervisor", "/api/v1/hotspots?by=keyword").await;
    assert_eq!(status, StatusCode::OK, "{by_word}");
    let top_word = &by_word["items"][0];
    assert_eq!((top_word["hotspot"]["alert"].as_bool(), top_word["hotspot"]["window_count"].as_i64()), (Some(true), Some(15)), "{by_word}");
    let word = top_word["hotspot"]["key"][0].as_str().unwrap();
    let examples = top_word["examples"].as_array().unwrap();
    assert!(!examples.is_empty(), "examples are complaints using the word {word}");
    // The supervisors hear of the alert once, however often the job runs.
    assert_eq!(redress_app::jobs::alert_hotspots(&app.state).await.unwrap(), 1);
    assert_eq!(redress_app::jobs::alert_hotspots(&app.state).await.unwrap(), 0, "the same alert is not sent twice");
    let (_, notes) = app.get("supervisor", "/api/v1/notifications").await;
    let alerts: Vec<&Value> = notes["items"].as_array().unwrap().iter().filter(|n| n["message"].as_str().unwrap().starts_with("hotspot:")).collect();
    assert_eq!(alerts.len(), 1, "{notes}");
    assert!(alerts[0]["message"].as_str().unwrap().contains("15 complaints"), "{}", alerts[0]);
    // A department outside the Shanghai branch sees no hotspot of Shanghai's complaints.
    let (_, gz) = app.get("gz_handler", "/api/v1/hotspots").await;
    assert!(gz["items"].as_array().unwrap().is_empty(), "{gz}");
}

async fn the_profile_shows_only_what_the_caller_may_see(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let first = app.register(&card_complaint("13900000031")).await;
    let mut elsewhere = someone("+86 139-0000-0031");
    elsewhere["respondent"]["unit"] = json!("GZ");
    let second = app.register(&elsewhere).await;
    let unrelated = someone("13900000032");
    app.register(&unrelated).await;
    let (status, p) = app.get("supervisor", &format!("/api/v1/complaints/{}/person", id(&first))).await;
    assert_eq!(status, StatusCode::OK, "{p}");
    let numbers: Vec<&str> = p["complaints"].as_array().unwrap().iter().map(|c| c["number"].as_str().unwrap()).collect();
    assert_eq!(numbers.len(), 2, "the same phone written another way is the same person: {p}");
    assert!(numbers.contains(&second["number"].as_str().unwrap()));
    let other = p["complaints"].as_array().unwrap().iter().find(|c| c["id"] == second["id"]).unwrap();
    assert_eq!(other["matched_on"], json!(["phone"]));
    assert!(!p.to_string().contains("13900000031"), "no contact details in a profile");
    // The Shanghai handler sees only the Shanghai complaint.
    let (_, mine) = app.get("card_handler", &format!("/api/v1/complaints/{}/person", id(&first))).await;
    assert_eq!(mine["complaints"].as_array().unwrap().len(), 1, "{mine}");
    let (status, _) = app.get("card_handler", &format!("/api/v1/complaints/{}/person", id(&second))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn scorecards_count_for_whoever_closed(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let a = id(&app.register(&someone("13900000041")).await);
    decide(&app, &a, "explanation").await;
    app.act("card_handler", &a, "follow-up", json!({ "satisfaction": "satisfied" })).await;
    // The same person again within 90 days: a repeat, counted for whoever closed the first.
    app.advance_days(5);
    app.register(&someone("13900000041")).await;
    let (status, s) = app.get("supervisor", "/api/v1/scorecards?level=handler&from=2025-01-01&to=2025-03-31").await;
    assert_eq!(status, StatusCode::OK, "{s}");
    let cards = s["cards"].as_array().unwrap();
    assert_eq!(cards.len(), 1, "{s}");
    let card = &cards[0];
    let handler = app.state.store.user_by_name("card_handler").await.unwrap().unwrap();
    assert_eq!(card["key"], handler.id);
    assert_eq!((card["handled"].as_i64(), card["on_time"].as_i64(), card["satisfied"].as_i64(), card["repeats"].as_i64()), (Some(1), Some(1), Some(1), Some(1)), "{card}");
    assert_eq!(card["median_days"], 0.0);
    let (_, by_department) = app.get("supervisor", "/api/v1/scorecards?level=department&from=2025-01-01&to=2025-03-31").await;
    assert_eq!(by_department["cards"][0]["key"], "SH-CARD");
    let (status, bad) = app.get("supervisor", "/api/v1/scorecards?level=galaxy").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
}

async fn who_may_ask_for_statistics(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    app.register(&someone("13900000051")).await;
    let (status, _) = app.get("intake", "/api/v1/analysis").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "intake agents see no statistics");
    let (status, a) = app.get("card_handler", "/api/v1/analysis").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(a["received"], 1, "{a}");
    let (_, gz) = app.get("gz_handler", "/api/v1/analysis").await;
    assert_eq!(gz["received"], 0, "another department's figures are not in reach: {gz}");
    let (status, e) = app.get("gz_handler", "/api/v1/analysis?department=SH-CARD").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a department out of reach is unknown: {e}");
    let (status, e) = app.get("supervisor", "/api/v1/analysis?from=2025-13-01").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"]["field"], "from", "{e}");
    let (status, e) = app.get("supervisor", "/api/v1/analysis?colour=red").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    // A figure by unit leads to its complaints: the list takes the unit (branch) too.
    let (_, sh) = app.get("supervisor", "/api/v1/complaints?branch=SH").await;
    assert_eq!(sh["items"].as_array().unwrap().len(), 1, "{sh}");
    let (_, gz) = app.get("supervisor", "/api/v1/complaints?branch=GZ").await;
    assert!(gz["items"].as_array().unwrap().is_empty(), "{gz}");
    let (status, _) = app.get("supervisor", "/api/v1/complaints?branch=NOWHERE").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn the_cfpb_export_imports_back_to_the_same_complaints(engine: Engine) {
    let Some(first) = TestApp::start(engine).await else { return };
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cfpb-small.csv");
    let (summary, _) = redress::import::import_cfpb(&first.state, &fixture, false).await.unwrap();
    assert_eq!(summary.imported, 3);
    let (status, headers, csv) = cfpb_export(&first).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&csv));
    assert!(headers["content-disposition"].to_str().unwrap().contains("complaints-2023-01-01-2023-12-31.csv"));
    let text = String::from_utf8(csv.clone()).unwrap();
    assert!(text.starts_with("Date received,Product,Sub-product,Issue,Sub-issue,Consumer complaint narrative,Company public response,Company,State,ZIP code,Tags,Consumer consent provided?,Submitted via,Date sent to company,Company response to consumer,Timely response?,Consumer disputed?,Complaint ID"), "{text}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.csv");
    std::fs::write(&path, &csv).unwrap();
    // Importing the export where it came from creates nothing.
    let (again, rejected) = redress::import::import_cfpb(&first.state, &path, false).await.unwrap();
    assert_eq!((again.imported, again.already_present, again.rejected), (0, 3, 0), "{rejected:?}");
    // Into a fresh store it gives the same complaints: their export is the same file.
    let Some(second) = TestApp::start(engine).await else { return };
    let (imported, rejected) = redress::import::import_cfpb(&second.state, &path, false).await.unwrap();
    assert_eq!((imported.imported, imported.rejected), (3, 0), "{rejected:?}");
    let (_, _, csv_again) = cfpb_export(&second).await;
    assert_eq!(String::from_utf8(csv_again).unwrap(), text, "export → import → export is the same file");
    let (ca, cb) = (all_records(&first).await, all_records(&second).await);
    for number in ["6800001", "6800002", "6800003"] {
        let pick = |list: &[Complaint]| list.iter().find(|c| c.external_ref.as_deref() == Some(format!("cfpb:{number}").as_str())).cloned().unwrap();
        let (a, b) = (pick(&ca), pick(&cb));
        assert_eq!(a.received_at, b.received_at, "{number}");
        assert_eq!(a.channel, b.channel, "{number}");
        assert_eq!(a.product, b.product, "{number}");
        assert_eq!(a.narrative, b.narrative, "{number}");
        assert_eq!(a.request, b.request, "{number}");
        assert_eq!(a.respondent, b.respondent, "{number}");
        assert_eq!(a.regulator_order, b.regulator_order, "{number}");
        assert_eq!(a.classification.cfpb_product, b.classification.cfpb_product, "{number}");
        assert_eq!(a.classification.cfpb_issue, b.classification.cfpb_issue, "{number}");
        assert_eq!(a.complainant.customer_type, b.complainant.customer_type, "{number}");
    }
}

async fn cfpb_export(app: &TestApp) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let req = app.http.get(format!("{}/api/v1/exports/cfpb?from=2023-01-01&to=2023-12-31", app.base));
    app.send("supervisor", req).await
}

async fn all_records(app: &TestApp) -> Vec<Complaint> {
    let page = app.state.store.list(&redress_store::ComplaintFilter { limit: 200, ..Default::default() }).await.unwrap();
    app.state.store.complaints(&page.items.iter().map(|s| s.id).collect::<Vec<_>>()).await.unwrap()
}
