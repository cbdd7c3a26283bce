//! The analysis, scorecards and complainant-profile pages over HTTP, on both engines: the
//! figures people see are those of their reach, counts lead to the complaints behind them,
//! downloads are what they claim to be, and a profile lists only what its reader may see.

use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_DISPOSITION, COOKIE};
use serde_json::{Value, json};

use crate::on_both_engines;
use crate::support::{Engine, PAGE_PASSWORD, TestApp, between, card_complaint, sign_in_session};

on_both_engines!(
    the_analysis_page_counts_what_the_person_may_see,
    analysis_and_scorecard_downloads_are_csv_and_excel,
    the_scorecards_page_ranks_the_handler_who_decided,
    the_person_page_lists_the_complaints_of_the_same_phone_in_reach,
);

const PASSWORD: &str = PAGE_PASSWORD;

/// A browser without a browser: the session cookie of a signed-in person.
struct Web {
    base: String,
    http: reqwest::Client,
    session: String,
}

/// An attribute value as the templates escape it, back to its text.
fn unescape(v: &str) -> String {
    v.replace("&#38;", "&").replace("&amp;", "&").replace("&#61;", "=").replace("&#43;", "+")
}

impl Web {
    async fn sign_in(app: &TestApp, name: &str) -> Web {
        app.set_password(name, PASSWORD).await;
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let session = sign_in_session(&http, &app.base, name, "/work").await;
        Web { base: app.base.clone(), http, session }
    }

    async fn fetch(&self, path: &str) -> reqwest::Response {
        self.http.get(format!("{}{path}", self.base)).header(COOKIE, format!("rdr_session={}", self.session)).send().await.unwrap()
    }

    async fn get(&self, path: &str) -> (StatusCode, String) {
        let res = self.fetch(path).await;
        (res.status(), res.text().await.unwrap())
    }
}

/// A complaint known by phone alone (no ID number, so nothing is merged as a duplicate), with
/// a channel, unit and business type of its own.
fn complaint(phone: &str, channel: &str, unit: &str, business_type: &str) -> Value {
    let mut c = card_complaint(phone);
    c["complainant"]["id_number"] = Value::Null;
    c["channel"] = json!(channel);
    c["respondent"]["unit"] = json!(unit);
    c["business_type"] = json!(business_type);
    if business_type == "B0301" {
        c["product"] = json!("借记卡");
    }
    c
}

/// The count of a group in a breakdown of the analysis page, or `None` when the group is not
/// shown.
fn count(page: &str, breakdown: &str, key: &str) -> Option<i64> {
    let section = between(page, &format!(r#"id="b-{breakdown}""#), "</table>")?;
    let n = between(section, &format!(r#"data-key="{key}" data-n=""#), "\"")?;
    Some(n.parse().expect("a count"))
}

/// The number of a registered complaint.
fn number(v: &Value) -> String {
    v["number"].as_str().expect("a number").to_string()
}

/// Four complaints: two credit-card ones in Shanghai (SH-CARD) by hotline and app, two debit-card
/// ones in Guangzhou (GZ-CP) by web and hotline; the first Shanghai and the first Guangzhou one
/// are by the same phone. The first is decided by its handler. Returns the four and the handler.
async fn four_complaints(app: &TestApp) -> (Vec<Value>, String) {
    let complaints = vec![
        app.register(&complaint("13900000061", "hotline", "SH", "B0302")).await,
        app.register(&complaint("+86 139-0000-0061", "web", "GZ", "B0301")).await,
        app.register(&complaint("13900000062", "app", "SH", "B0302")).await,
        app.register(&complaint("13900000063", "hotline", "GZ", "B0301")).await,
    ];
    assert_eq!(complaints[0]["owner"]["department"], "SH-CARD", "{}", complaints[0]);
    assert_eq!(complaints[1]["owner"]["department"], "GZ-CP", "{}", complaints[1]);
    let handler = complaints[0]["owner"]["handler"]["name"].as_str().expect("assigned").to_string();
    let cid = complaints[0]["id"].as_str().unwrap().to_string();
    app.act(&handler, &cid, "start-investigation", json!({})).await;
    app.act(&handler, &cid, "propose-resolution", json!({ "kind": "refund", "amount": { "amount": "120.50", "currency": "CNY" }, "summary": "退还年费" })).await;
    app.act(&handler, &cid, "decide", json!({ "verification": "核实", "basis": "依据", "reasons": "理由" })).await;
    (complaints, handler)
}

const JANUARY: &str = "from=2025-01-01&to=2025-01-31";

async fn the_analysis_page_counts_what_the_person_may_see(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let (complaints, _) = four_complaints(&app).await;
    let supervisor = Web::sign_in(&app, "supervisor").await;
    let (status, page) = supervisor.get(&format!("/analysis?{JANUARY}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains(r#"href="/analysis""#) && page.contains(r#"href="/scorecards""#), "the navigation offers the statistics");
    assert_eq!(between(&page, r#"id="fig-received" data-value=""#, "\""), Some("4"), "received in January");
    assert_eq!(count(&page, "business_types", "B0302"), Some(2));
    assert_eq!(count(&page, "business_types", "B0301"), Some(2));
    assert_eq!(count(&page, "channels", "hotline"), Some(2));
    assert_eq!(count(&page, "channels", "web"), Some(1));
    assert_eq!(count(&page, "departments", "SH-CARD"), Some(2));
    assert_eq!(count(&page, "resolutions", "refund"), Some(1), "the decision is an event of the period");
    assert!(page.contains("120.50 CNY"), "redress in its currency");
    assert!(page.contains(r#"class="heat""#) && page.contains("<svg class=\"chart"), "charts and the weekday × hour grid");
    assert!(!page.contains("style="), "no inline style");
    // The default period is the last 30 days: the same complaints.
    let (_, default) = supervisor.get("/analysis").await;
    assert_eq!(between(&default, r#"id="fig-received" data-value=""#, "\""), Some("4"));

    // A count leads to the complaints behind it.
    let row = between(&page, r#"data-key="B0302" data-n="2""#, "</tr>").expect("the credit-card row");
    let link = unescape(between(row, r#"<a href=""#, "\"").expect("a linked count"));
    assert!(link.starts_with("/search?") && link.contains("business_type=B0302") && link.contains("from=2025-01-01"), "{link}");
    let (status, list) = supervisor.get(&link).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert!(list.contains(&number(&complaints[0])) && list.contains(&number(&complaints[2])), "{list}");
    assert!(!list.contains(&number(&complaints[1])) && !list.contains(&number(&complaints[3])), "only the credit-card ones");
    // A unit leads to the same analysis drilled down.
    let unit_row = between(&page, r#"data-key="SH" data-n=""#, "</tr>").expect("the Shanghai branch");
    let drill = unescape(between(unit_row, r#"<a href=""#, "\"").expect("a drill-down"));
    assert!(drill.starts_with("/analysis?") && drill.contains("unit=SH"), "{drill}");
    let (_, shanghai) = supervisor.get(&drill).await;
    assert_eq!(between(&shanghai, r#"id="fig-received" data-value=""#, "\""), Some("2"), "Shanghai's complaints");

    // A Guangzhou handler sees Guangzhou's figures only.
    let gz = Web::sign_in(&app, "gz_handler").await;
    let (status, page) = gz.get(&format!("/analysis?{JANUARY}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(between(&page, r#"id="fig-received" data-value=""#, "\""), Some("2"));
    assert_eq!(count(&page, "business_types", "B0301"), Some(2));
    assert_eq!(count(&page, "business_types", "B0302"), None, "Shanghai's credit cards are out of reach");
    assert_eq!(count(&page, "departments", "SH-CARD"), None);
    assert!(!page.contains(r#"<option value="SH-CARD""#), "nor offered as a filter");
    let (status, page) = gz.get("/analysis?department=SH-CARD").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a department out of reach is refused: {page}");
    assert!(page.contains(r#"id="e-department""#));

    // An intake agent sees no statistics and is not offered them.
    let intake = Web::sign_in(&app, "intake").await;
    for path in ["/analysis", "/analysis.csv", "/analysis.xlsx", "/scorecards", "/scorecards.csv", "/analysis?from=nonsense"] {
        let (status, _) = intake.get(path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
    let (_, work) = intake.get("/work").await;
    assert!(!work.contains(r#"href="/analysis""#) && !work.contains(r#"href="/scorecards""#));

    // A date that is not one is shown beside its field, not as a failure.
    for path in ["/analysis?from=2025-13-45", "/scorecards?from=2025-13-45", "/analysis?from=2025-02-01&to=2025-01-01", "/analysis?grain=year"] {
        let (status, page) = supervisor.get(path).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {page}");
        let field = if path.contains("grain") { "grain" } else { "from" };
        assert!(page.contains(&format!(r#"id="e-{field}""#)), "{path}: {page}");
        assert!(page.contains(r#"action="/analysis""#) || page.contains(r#"action="/scorecards""#), "the form comes back");
    }
}

async fn analysis_and_scorecard_downloads_are_csv_and_excel(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    four_complaints(&app).await;
    let supervisor = Web::sign_in(&app, "supervisor").await;
    let res = supervisor.fetch(&format!("/analysis.csv?{JANUARY}")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let disposition = res.headers().get(CONTENT_DISPOSITION).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    assert!(disposition.contains("analysis-2025-01-01_2025-01-31.csv"), "{disposition}");
    assert_eq!(res.headers().get(CACHE_CONTROL).and_then(|v| v.to_str().ok()), Some("no-store"));
    let bytes = res.bytes().await.unwrap();
    assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "a BOM, so Excel reads UTF-8");
    let text = String::from_utf8(bytes[3..].to_vec()).expect("UTF-8");
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split(',').collect()).collect();
    assert!(rows.iter().any(|r| r.get(1) == Some(&"B0302") && r.get(3) == Some(&"2")), "the credit-card row: {text}");
    assert!(rows.iter().any(|r| r.get(1) == Some(&"hotline") && r.get(3) == Some(&"2")), "the hotline row: {text}");
    assert!(rows.iter().any(|r| r.get(1) == Some(&"CNY") && r.get(5) == Some(&"120.50")), "redress as a decimal: {text}");

    let res = supervisor.fetch(&format!("/analysis.xlsx?{JANUARY}")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers().get(CACHE_CONTROL).and_then(|v| v.to_str().ok()), Some("no-store"));
    assert!(res.headers().get(CONTENT_DISPOSITION).and_then(|v| v.to_str().ok()).unwrap_or("").contains(".xlsx"));
    assert!(res.bytes().await.unwrap().starts_with(b"PK"), "a workbook is a zip");

    let res = supervisor.fetch(&format!("/scorecards.csv?level=department&{JANUARY}")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().get(CONTENT_DISPOSITION).and_then(|v| v.to_str().ok()).unwrap_or("").contains("scorecards-department-2025-01-01_2025-01-31.csv"));
    let text = String::from_utf8(res.bytes().await.unwrap().to_vec()).expect("UTF-8");
    assert!(text.lines().any(|l| l.contains(",SH-CARD,")), "{text}");
    let res = supervisor.fetch(&format!("/scorecards.xlsx?{JANUARY}")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.bytes().await.unwrap().starts_with(b"PK"));
}

async fn the_scorecards_page_ranks_the_handler_who_decided(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let (_, handler) = four_complaints(&app).await;
    let handler_id = app.state.store.user_by_name(&handler).await.unwrap().expect("the handler").id;
    let supervisor = Web::sign_in(&app, "supervisor").await;
    let (status, page) = supervisor.get(&format!("/scorecards?{JANUARY}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let row = between(&page, &format!(r#"data-key="{handler_id}" data-rank="1""#), "</tr>").unwrap_or_else(|| panic!("the handler's card: {page}"));
    assert!(row.contains(&handler), "named: {row}");
    assert!(row.contains("100.0%"), "closed on time: {row}");
    assert!(row.contains("120.50 CNY"), "with the redress paid: {row}");
    let (_, by_department) = supervisor.get(&format!("/scorecards?level=department&{JANUARY}")).await;
    assert!(by_department.contains(r#"data-key="SH-CARD""#), "{by_department}");
    let (status, page) = supervisor.get("/scorecards?level=galaxy").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains(r#"id="e-level""#));
    // A Guangzhou handler sees no card of Shanghai's.
    let gz = Web::sign_in(&app, "gz_handler").await;
    let (status, page) = gz.get(&format!("/scorecards?{JANUARY}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains(&handler_id), "{page}");
}

async fn the_person_page_lists_the_complaints_of_the_same_phone_in_reach(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let (complaints, _) = four_complaints(&app).await;
    let (first, second) = (number(&complaints[0]), number(&complaints[1]));
    let supervisor = Web::sign_in(&app, "supervisor").await;
    let (status, page) = supervisor.get(&format!("/complaints/{first}/person")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains(&format!(r#"data-number="{first}""#)) && page.contains(&format!(r#"data-number="{second}""#)), "{page}");
    assert!(!page.contains(&format!(r#"data-number="{}""#, number(&complaints[2]))), "another person's complaint is not theirs");
    assert_eq!(between(&page, r#"id="person-count">"#, "<"), Some("2"));
    assert!(!page.contains("13900000061") && !page.contains("*0061"), "no contact details, not even masked");
    assert!(page.contains("<svg class=\"chart"), "the emotion over time");
    // The complaint page says how many there are.
    let (_, complaint) = supervisor.get(&format!("/complaints/{first}")).await;
    assert_eq!(between(&complaint, r#"id="person-box-count">"#, "<"), Some("2"), "{complaint}");
    assert!(complaint.contains(&format!(r#"href="/complaints/{first}/person""#)));

    // A Shanghai card handler may not see the Guangzhou complaint: it is not in their profile.
    let card = Web::sign_in(&app, "card_handler").await;
    let (status, page) = card.get(&format!("/complaints/{first}/person")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains(&format!(r#"data-number="{first}""#)));
    assert!(!page.contains(&second), "a complaint out of reach is not shown, nor its number");
    assert_eq!(between(&page, r#"id="person-count">"#, "<"), Some("1"));
    let (_, complaint) = card.get(&format!("/complaints/{first}")).await;
    assert_eq!(between(&complaint, r#"id="person-box-count">"#, "<"), Some("1"));
    let (status, _) = card.get(&format!("/complaints/{second}/person")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nor may they open its profile");
}
