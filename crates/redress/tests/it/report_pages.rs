//! The hotspots and report pages over HTTP, on both engines: an alert shows with its evidence
//! and leads to the complaints behind it, only within the person's reach; the quarterly report
//! shows its figures and keeps the commentary written through its form by those who may; the
//! FCA return and the downloads are what they claim to be; intake agents see none of it.

use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_DISPOSITION, COOKIE, LOCATION};
use serde_json::{Value, json};

use crate::on_both_engines;
use crate::support::{Engine, PAGE_PASSWORD, TestApp, between, card_complaint, sign_in_session};

on_both_engines!(
    the_hotspots_page_shows_an_alert_with_its_evidence_in_reach,
    the_quarterly_report_shows_its_figures_and_keeps_the_commentary,
    the_fca_return_and_the_downloads_are_what_they_claim,
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
    v.replace("&#38;", "&").replace("&amp;", "&").replace("&#61;", "=").replace("&#43;", "+").replace("&#34;", "\"").replace("&quot;", "\"")
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

    /// Posts a form; returns the status, where it sends the browser, and the page.
    async fn post(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, Option<String>, String) {
        let res = self.http.post(format!("{}{path}", self.base)).header(COOKIE, format!("rdr_session={}", self.session)).form(form).send().await.unwrap();
        let location = res.headers().get(LOCATION).and_then(|v| v.to_str().ok()).map(str::to_string);
        (res.status(), location, res.text().await.unwrap())
    }

    /// The CSRF token of the person's forms, read from a page.
    async fn csrf(&self) -> String {
        let (_, page) = self.get("/work").await;
        between(&page, r#"name="csrf" value=""#, "\"").expect("a CSRF field").to_string()
    }
}

/// A credit-card complaint against the Shanghai branch by a person known by phone alone (no ID
/// number, so nothing is merged as a duplicate).
fn someone(phone: &str) -> Value {
    let mut c = card_complaint(phone);
    c["complainant"]["id_number"] = Value::Null;
    c
}

fn number(v: &Value) -> String {
    v["number"].as_str().expect("a number").to_string()
}

/// Four quiet weeks of two credit-card complaints a week against the Shanghai branch, then a
/// week of fifteen. Returns the quiet ones and the week's.
async fn a_rising_week(app: &TestApp) -> (Vec<Value>, Vec<Value>) {
    let now = app.clock_now();
    let at = |days_ago: i64, hours: i64| (now - jiff::SignedDuration::from_hours(24 * days_ago + hours)).to_string();
    let mut n = 0;
    let mut quiet = Vec::new();
    for week in 1..=4 {
        for k in 0..2 {
            let mut c = someone(&format!("1390002{n:04}"));
            c["received_at"] = json!(at(7 * week + 2 * k, 1));
            quiet.push(app.register(&c).await);
            n += 1;
        }
    }
    let mut week = Vec::new();
    for k in 0..15 {
        let mut c = someone(&format!("1390002{n:04}"));
        c["received_at"] = json!(at(k % 7, 2));
        week.push(app.register(&c).await);
        n += 1;
    }
    (quiet, week)
}

/// The cards of the hotspots page that are alerts.
fn alerts(page: &str) -> Vec<&str> {
    // A card's own end is alone on its line; its inner items end on theirs.
    page.split(r#"<li class="card hotspot hotspot-alert""#).skip(1).map(|card| &card[..card.find("\n</li>").unwrap_or(card.len())]).collect()
}

async fn the_hotspots_page_shows_an_alert_with_its_evidence_in_reach(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let (quiet, week) = a_rising_week(&app).await;
    let supervisor = Web::sign_in(&app, "supervisor").await;
    let (status, page) = supervisor.get("/hotspots").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains(r#"href="/hotspots""#) && page.contains(r#"href="/reports""#), "the navigation offers hotspots and reports");
    assert!(!page.contains("style="), "no inline style");
    assert_eq!(between(&page, r#"id="window">"#, "<"), Some("2025-01-14 – 2025-01-20"), "the week ending today");
    assert_eq!(between(&page, r#"id="baseline">"#, "<"), Some("2024-12-17 – 2025-01-13"));
    let cards = alerts(&page);
    assert_eq!(cards.len(), 1, "one alert: {page}");
    let card = cards[0];
    let business = week[0]["classification"]["business_type"]["code"].as_str().expect("classified").to_string();
    let key = unescape(between(card, r#"data-key=""#, "\"").expect("a key"));
    assert!(key.starts_with(&format!("{business}|")) && key.ends_with("|SH"), "business type × cause × unit: {key}");
    assert!(card.contains(r#"data-count="15""#), "{card}");
    assert!(card.contains("上海分行"), "the unit by name: {card}");
    assert_eq!(between(card, r#"class="baseline-counts">"#, "<"), Some("2 · 2 · 2 · 2"), "the four weeks before");
    assert!(card.contains(r#"<svg class="chart chart-spark""#) && card.matches("<rect ").count() == 35, "35 days of counts");
    // The examples are complaints of the week, linked to their pages.
    let examples: Vec<&str> = card.split(r#"<a href="/complaints/"#).skip(1).map(|s| &s[..s.find('"').expect("closed")]).collect();
    assert_eq!(examples.len(), 3, "{card}");
    for e in &examples {
        assert!(week.iter().any(|c| number(c) == *e), "{e} is of the week");
    }
    // The week's complaints of the unit are one search away, and its analysis one click.
    let unit_search = unescape(&format!("/search?{}", between(card, r#"<a href="/search?"#, "\"").expect("a search link")));
    assert!(unit_search.contains("unit=SH") && unit_search.contains("from=2025-01-14"), "{unit_search}");
    let (status, unit_list) = supervisor.get(&unit_search).await;
    assert_eq!(status, StatusCode::OK, "{unit_list}");
    for c in &week {
        assert!(unit_list.contains(&number(c)), "{} is listed by unit", number(c));
    }
    let analysis = unescape(&format!("/analysis?{}", between(card, r#"<a href="/analysis?"#, "\"").expect("an analysis link")));
    assert!(analysis.contains("from=2025-01-14") && analysis.contains("unit=SH") && analysis.contains(&format!("business_type={business}")), "{analysis}");
    let (status, week_analysis) = supervisor.get(&analysis).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(between(&week_analysis, r#"id="fig-received" data-value=""#, "\""), Some("15"), "the week's complaints");

    // Narrowed to the card department, the week's complaints are one search away.
    let (status, narrowed) = supervisor.get("/hotspots?department=SH-CARD").await;
    assert_eq!(status, StatusCode::OK, "{narrowed}");
    let card = alerts(&narrowed).first().copied().expect("the alert");
    let search = unescape(&format!("/search?{}", between(card, r#"<a href="/search?"#, "\"").expect("a search link")));
    assert!(search.contains("department=SH-CARD") && search.contains("from=2025-01-14") && search.contains("to=2025-01-20"), "{search}");
    let (status, list) = supervisor.get(&search).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    for c in &week {
        assert!(list.contains(&number(c)), "{} is listed", number(c));
    }
    for c in &quiet {
        assert!(!list.contains(&format!(">{}<", number(c))), "{} is of an earlier week", number(c));
    }
    // The Shanghai card handler's reach is one department: the search link comes straight away.
    let card_handler = Web::sign_in(&app, "card_handler").await;
    let (_, mine) = card_handler.get("/hotspots").await;
    let card = alerts(&mine).first().copied().expect("the handler sees the alert of their department");
    assert!(card.contains(r#"<a href="/search?"#), "{card}");

    // A Guangzhou handler sees no hotspot of Shanghai's complaints.
    let gz = Web::sign_in(&app, "gz_handler").await;
    let (status, page) = gz.get("/hotspots").await;
    assert_eq!(status, StatusCode::OK);
    assert!(alerts(&page).is_empty() && page.contains(r#"id="no-hotspots""#), "{page}");
    for e in &examples {
        assert!(!page.contains(e));
    }

    // A form that cannot be read comes back with the message beside its field.
    for (path, field) in [("/hotspots?by=galaxy", "by"), ("/hotspots?to=2025-13-45", "to")] {
        let (status, page) = supervisor.get(path).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        assert!(page.contains(&format!(r#"id="e-{field}""#)) && page.contains(r#"action="/hotspots""#), "{path}: {page}");
    }
    // An intake agent sees no hotspots and is not offered them.
    let intake = Web::sign_in(&app, "intake").await;
    let (status, _) = intake.get("/hotspots").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = intake.get("/hotspots?by=galaxy").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "permission before the form");
    let (_, work) = intake.get("/work").await;
    assert!(!work.contains(r#"href="/hotspots""#) && !work.contains(r#"href="/reports""#));
}

/// Four complaints of January 2025: three by hotline against the Shanghai card department, the
/// first decided on the day by its handler (on time, with a refund), and a debit-card one by
/// web against Guangzhou.
async fn four_complaints(app: &TestApp) -> Vec<Value> {
    let mut complaints = Vec::new();
    for phone in ["13900000071", "13900000072", "13900000073"] {
        complaints.push(app.register(&someone(phone)).await);
    }
    let mut gz = someone("13900000074");
    gz["respondent"]["unit"] = json!("GZ");
    gz["channel"] = json!("web");
    gz["business_type"] = json!("B0301");
    gz["product"] = json!("借记卡");
    complaints.push(app.register(&gz).await);
    let handler = complaints[0]["owner"]["handler"]["name"].as_str().expect("assigned").to_string();
    let cid = complaints[0]["id"].as_str().unwrap().to_string();
    app.act(&handler, &cid, "start-investigation", json!({})).await;
    app.act(&handler, &cid, "propose-resolution", json!({ "kind": "refund", "amount": { "amount": "120.50", "currency": "CNY" }, "summary": "退还年费" })).await;
    app.act(&handler, &cid, "decide", json!({ "verification": "核实", "basis": "依据", "reasons": "理由" })).await;
    complaints
}

const Q1: &str = "/reports/quarterly?year=2025&quarter=1";

async fn the_quarterly_report_shows_its_figures_and_keeps_the_commentary(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    four_complaints(&app).await;
    let supervisor = Web::sign_in(&app, "supervisor").await;
    let (status, page) = supervisor.get(Q1).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(!page.contains("style="), "no inline style");
    assert!(page.contains("2025年第1季度"), "the quarter in the heading");
    assert_eq!(between(&page, r#"id="period">"#, "<"), Some("2025-01-01 – 2025-03-31"));
    assert_eq!(between(&page, r#"id="fig-received" data-value=""#, "\""), Some("4"), "received in the quarter");
    assert_eq!(between(&page, r#"id="fig-closed" data-value=""#, "\""), Some("1"));
    assert_eq!(between(&page, r#"id="fig-on_time" data-value=""#, "\""), Some("100.0%"), "closed on time");
    assert_eq!(between(&page, r#"id="fig-upheld" data-value=""#, "\""), Some("100.0%"), "a refund upholds the complaint");
    assert!(page.contains("120.50 CNY"), "redress paid");
    assert!(page.contains(r#"id="t-channels""#) && page.contains(r#"data-key="hotline" data-n="3""#) && page.contains(r#"data-key="web" data-n="1""#), "by channel");
    assert!(page.contains(r#"id="t-units""#) && page.contains(r#"data-key="SH" data-n="3""#), "by unit");
    assert!(page.contains(r#"id="restate-note""#));
    assert!(page.contains(r#"href="/reports/quarterly.xlsx?year=2025&#38;quarter=1""#) || page.contains("/reports/quarterly.xlsx?year=2025&amp;quarter=1"), "the workbook");

    // The supervisor writes the commentary through the form and reads it after the redirect.
    assert!(page.contains(r#"id="commentary-form""#), "the supervisor may write the commentary");
    let csrf = between(&page, r#"name="csrf" value=""#, "\"").expect("a token").to_string();
    let overview = "本季度投诉总体平稳。\n信用卡年费争议为主 <script>alert(1)</script>";
    let form = [("csrf", csrf.as_str()), ("year", "2025"), ("quarter", "1"), ("unit", ""), ("restate", ""), ("overview", overview), ("causes", ""), ("remediation", "加强年费告知")];
    let (status, location, _) = supervisor.post("/reports/quarterly/commentary", &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = location.expect("back to the report");
    assert!(location.starts_with("/reports/quarterly?year=2025&quarter=1"), "{location}");
    let (status, page) = supervisor.get(&location).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"class="notice""#), "saved: {page}");
    let shown = between(&page, r#"id="c-overview">"#, "</div>").expect("the overview");
    assert!(shown.contains("本季度投诉总体平稳。\n信用卡年费争议为主 &#60;script&#62;"), "as written, escaped: {shown}");
    assert!(!page.contains("<script>alert"), "never as markup");
    assert!(between(&page, r#"id="c-remediation">"#, "</div>").expect("remediation").contains("加强年费告知"));
    assert!(between(&page, r#"id="commentary-updated">"#, "<").expect("who wrote it").contains("supervisor"));
    // A text too long comes back beside its field, with what was typed.
    let long = "长".repeat(5_001);
    let (status, _, page) = supervisor.post("/reports/quarterly/commentary", &[("csrf", csrf.as_str()), ("year", "2025"), ("quarter", "1"), ("overview", long.as_str())]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains(r#"id="e-overview""#) && page.contains(&long), "{}", &page[..page.len().min(400)]);
    // Without the token nothing is written.
    let (status, _, _) = supervisor.post("/reports/quarterly/commentary", &[("year", "2025"), ("quarter", "1"), ("overview", "伪造")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // A handler reads the report of their reach, without the form; a forged post is refused.
    let handler = Web::sign_in(&app, "card_handler").await;
    let (status, page) = handler.get(Q1).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains(r#"id="commentary-form""#) && !page.contains(r#"action="/reports/quarterly/commentary""#), "no form for a handler");
    let token = handler.csrf().await;
    let (status, _, _) = handler.post("/reports/quarterly/commentary", &[("csrf", token.as_str()), ("year", "2025"), ("quarter", "1"), ("overview", "经办人改写")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, page) = supervisor.get(Q1).await;
    assert!(!page.contains("经办人改写") && page.contains("本季度投诉总体平稳"), "the commentary stands");

    // A quarter that is not one is shown beside its field.
    let (status, page) = supervisor.get("/reports/quarterly?year=2025&quarter=5").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains(r#"id="e-quarter""#), "{page}");

    let res = supervisor.fetch("/reports/quarterly.xlsx?year=2025&quarter=1").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers().get(CACHE_CONTROL).and_then(|v| v.to_str().ok()), Some("no-store"));
    assert!(res.headers().get(CONTENT_DISPOSITION).and_then(|v| v.to_str().ok()).unwrap_or("").contains("quarterly-2025-Q1.xlsx"));
    assert!(res.bytes().await.unwrap().starts_with(b"PK"), "a workbook is a zip");

    let intake = Web::sign_in(&app, "intake").await;
    for path in ["/reports", Q1, "/reports/quarterly.xlsx", "/reports/fca", "/reports/fca.xlsx", "/reports/cfpb.csv"] {
        let (status, _) = intake.get(path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
}

async fn the_fca_return_and_the_downloads_are_what_they_claim(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let complaints = four_complaints(&app).await;
    let supervisor = Web::sign_in(&app, "supervisor").await;

    // The index leads to the reports of the last whole periods.
    let (status, index) = supervisor.get("/reports").await;
    assert_eq!(status, StatusCode::OK, "{index}");
    assert!(index.contains(r#"href="/reports/quarterly?year=2024&#38;quarter=4""#) || index.contains("/reports/quarterly?year=2024&amp;quarter=4"), "{index}");
    assert!(index.contains("/reports/fca?year=2024&#38;half=2") || index.contains("/reports/fca?year=2024&amp;half=2"), "{index}");
    assert!(index.contains(r#"action="/reports/cfpb.csv""#));

    let (status, page) = supervisor.get("/reports/fca?year=2025&half=1").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(!page.contains("style="), "no inline style");
    assert_eq!(between(&page, r#"id="reporting-period">"#, "<"), Some("2025-01-01 to 2025-06-30"));
    let head = between(&page, r#"id="fca-groups""#, "</thead>").expect("the product groups");
    let groups: Vec<&str> = head.split(r#"data-group=""#).skip(1).map(|s| &s[..s.find('"').expect("closed")]).collect();
    assert_eq!(groups, ["banking_credit_cards", "decumulation_pensions", "home_finance", "insurance_pure_protection", "investments"], "the five groups in the return's order");
    assert!(head.contains("银行与信用卡") && head.contains("Banking and credit cards"), "the Chinese label beside the return's name");
    let opened = between(&page, r#"<tr data-measure="opened">"#, "</tr>").expect("opened");
    assert!(opened.contains(r#"<td class="num total">4</td>"#), "{opened}");
    let closed = between(&page, r#"<tr data-measure="closed">"#, "</tr>").expect("closed");
    assert!(closed.contains(r#"<td class="num total">1</td>"#), "{closed}");
    assert_eq!(between(&page, r#"id="fca-opened">"#, "<"), Some("4"), "the product group × cause table adds up");
    let res = supervisor.fetch("/reports/fca.xlsx?year=2025&half=1").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().get(CONTENT_DISPOSITION).and_then(|v| v.to_str().ok()).unwrap_or("").contains("fca-return-2025-H1.xlsx"));
    assert!(res.bytes().await.unwrap().starts_with(b"PK"), "a workbook is a zip");
    let (status, page) = supervisor.get("/reports/fca?year=2025&half=3").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains(r#"id="e-half""#));

    // The CFPB export: the public database's columns, one row per complaint of the period.
    let res = supervisor.fetch("/reports/cfpb.csv?from=2025-01-01&to=2025-01-31&company=Redress+Bank").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers().get(CACHE_CONTROL).and_then(|v| v.to_str().ok()), Some("no-store"));
    assert!(res.headers().get(CONTENT_DISPOSITION).and_then(|v| v.to_str().ok()).unwrap_or("").contains("cfpb-2025-01-01_2025-01-31.csv"));
    let text = String::from_utf8(res.bytes().await.unwrap().to_vec()).expect("UTF-8");
    assert!(text.starts_with("Date received,Product,"), "{text}");
    assert_eq!(text.lines().count(), 1 + complaints.len(), "{text}");
    assert!(text.contains("Redress Bank"));
    let (status, page) = supervisor.get("/reports/cfpb.csv?from=2025-13-45").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a date that is not one comes back on the form");
    assert!(page.contains(r#"id="e-from""#) && page.contains(r#"action="/reports/cfpb.csv""#), "{page}");
    // A Guangzhou handler exports Guangzhou's complaint only.
    let gz = Web::sign_in(&app, "gz_handler").await;
    let res = gz.fetch("/reports/cfpb.csv?from=2025-01-01&to=2025-01-31").await;
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
}
