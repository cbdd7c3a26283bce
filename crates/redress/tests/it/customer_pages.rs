//! The customers' pages over HTTP, without a browser: submitting online with the form's
//! double-submit token, the receipt's tracking code, tracking (one answer for a wrong number
//! and a wrong code), the materials form, and the signed single-use survey link sent with the
//! decision.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::on_both_engines;
use crate::support::{Engine, TestApp};

on_both_engines!(
    a_customer_submits_tracks_sends_materials_and_answers_the_survey,
    a_survey_link_answers_once_even_after_the_complaint_is_decided_again,
    forms_need_their_token_and_addresses_are_throttled,
);

/// A browser without a cookie jar: the form cookie is carried by hand.
struct Browser<'a> {
    app: &'a TestApp,
    cookie: String,
}

/// The value of the first hidden `name` field of a page.
fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    Some(html[start..].split('"').next()?.to_string())
}

/// The text of the element with this id (up to the next tag).
fn by_id(html: &str, id: &str) -> Option<String> {
    let marker = format!("id=\"{id}\"");
    let rest = &html[html.find(&marker)? + marker.len()..];
    let rest = &rest[rest.find('>')? + 1..];
    Some(rest.split('<').next()?.trim().to_string())
}

impl<'a> Browser<'a> {
    /// Opens a form page, keeping its cookie; returns the page and its token.
    async fn open(app: &'a TestApp, path: &str) -> (Browser<'a>, String, String) {
        let res = app.http.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "GET {path}");
        let cookie = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("rdr_form="))
            .map(|v| v.split(';').next().unwrap().to_string())
            .expect("the form page sets its token cookie");
        let html = res.text().await.unwrap();
        let csrf = hidden(&html, "csrf").expect("the form carries its token");
        assert_eq!(cookie, format!("rdr_form={csrf}"));
        (Browser { app, cookie }, html, csrf)
    }

    async fn get(&self, path: &str) -> (StatusCode, String) {
        let res = self.app.http.get(format!("{}{path}", self.app.base)).header("cookie", &self.cookie).send().await.unwrap();
        (res.status(), res.text().await.unwrap())
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
        let res = self.app.http.post(format!("{}{path}", self.app.base)).header("cookie", &self.cookie).form(fields).send().await.unwrap();
        (res.status(), res.text().await.unwrap())
    }
}

fn complaint_fields<'a>(csrf: &'a str, phone: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("complainant.name", "王五"),
        ("complainant.phone", phone),
        ("complainant.email", ""),
        ("complainant.id_number", ""),
        ("complainant.customer_type", "individual"),
        ("complainant.language", "zh-CN"),
        ("respondent.unit", "SH"),
        ("product", "信用卡"),
        ("amount", "3000"),
        ("request", "要求退还被盗刷的3000元"),
        ("narrative", "我的信用卡在2月1日晚被盗刷了3000元，本人当时在家，卡片也在身边，客服至今没有处理。"),
    ]
}

/// Submits a complaint through the form; the receipt's number and tracking code.
async fn submit(app: &TestApp, phone: &str) -> (String, String) {
    let (b, html, csrf) = Browser::open(app, "/complain").await;
    assert!(html.contains("action=\"/complain\""), "{html}");
    let (status, receipt) = b.post("/complain", &complaint_fields(&csrf, phone)).await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    let number = by_id(&receipt, "receipt-number").expect("the receipt shows the number");
    let code = by_id(&receipt, "receipt-code").expect("the receipt shows the tracking code");
    let deadline = by_id(&receipt, "receipt-deadline").expect("the receipt shows the deadline");
    assert!(number.starts_with("TS-"), "{number}");
    assert_eq!(code.len(), 10, "{code}");
    assert!(code.bytes().all(|c| redress_app::customer::TRACKING_CODE_ALPHABET.contains(&c)), "{code}");
    // Local time (Shanghai), to the minute.
    assert!(deadline.starts_with("2025-"), "{deadline}");
    (number, code)
}

async fn complaint(app: &TestApp, number: &str) -> Value {
    let (status, c) = app.get("supervisor", &format!("/api/v1/complaints/{number}")).await;
    assert_eq!(status, StatusCode::OK, "{c}");
    c
}

/// Takes a complaint to a decision (as the supervisor, who may do each step).
async fn decide(app: &TestApp, number: &str) {
    let id = complaint(app, number).await["id"].as_str().unwrap().to_string();
    let status = complaint(app, number).await["status"].as_str().unwrap().to_string();
    if status != "investigating" {
        app.act("supervisor", &id, "start-investigation", json!({})).await;
    }
    app.act("supervisor", &id, "propose-resolution", json!({ "kind": "explanation", "summary": "经核实为盗刷，已退还3000元" })).await;
    app.act("supervisor", &id, "decide", json!({ "verification": "调取交易记录", "basis": "信用卡章程", "reasons": "非本人交易" })).await;
}

/// The survey tokens in the complaint's outbox, oldest first.
async fn survey_tokens(app: &TestApp, number: &str) -> Vec<String> {
    let id = redress_domain::complaint::ComplaintId::parse(complaint(app, number).await["id"].as_str().unwrap()).unwrap();
    let mut out = Vec::new();
    for m in app.state.store.messages(id).await.unwrap() {
        if let Some(at) = m.message.body.find("http://localhost:8080/survey/") {
            let token = m.message.body[at + "http://localhost:8080/survey/".len()..].split_whitespace().next().unwrap().to_string();
            assert_eq!(m.message.kind, redress_domain::messages::MessageKind::Decision);
            out.push(token);
        }
    }
    out
}

async fn a_customer_submits_tracks_sends_materials_and_answers_the_survey(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let (number, code) = submit(&app, "13700000001").await;
    let c = complaint(&app, &number).await;
    assert_eq!(c["channel"], "web");
    assert_eq!(c["registered_by"]["id"], "web", "{}", c["registered_by"]);

    // Tracking with the right code; the code may be typed in lower case with a space.
    let (b, _, csrf) = Browser::open(&app, "/track").await;
    let typed = format!("{} {}", code[..5].to_lowercase(), &code[5..]);
    let (status, page) = b.post("/track", &[("csrf", &csrf), ("number", &number), ("code", &typed)]).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains(&number) && page.contains("id=\"tracked-status\""), "{page}");
    assert!(page.contains("投诉受理通知"), "the acknowledgement is listed: {page}");
    assert!(!page.contains("id=\"materials-form\""), "no materials form while not waiting");
    assert!(!page.contains("id=\"survey-link\""));

    // A wrong code and an unknown number get the same answer.
    let wrong_code = match code.strip_prefix('A') {
        Some(rest) => format!("B{rest}"),
        None => format!("A{}", &code[1..]),
    };
    let (s1, p1) = b.post("/track", &[("csrf", &csrf), ("number", &number), ("code", &wrong_code)]).await;
    let unknown = "TS-20250120-999999";
    let (s2, p2) = b.post("/track", &[("csrf", &csrf), ("number", unknown), ("code", &code)]).await;
    assert_eq!(s1, StatusCode::NOT_FOUND);
    assert_eq!(s2, StatusCode::NOT_FOUND);
    assert!(p1.contains("没有与该投诉编号和查询码相符的投诉"), "{p1}");
    assert_eq!(p1.replace(&number, "N"), p2.replace(unknown, "N"), "the two answers differ");
    assert!(!p1.contains("tracked-status"));

    // While the clock is paused, the customer can send materials.
    let id = c["id"].as_str().unwrap().to_string();
    app.act("supervisor", &id, "start-investigation", json!({})).await;
    app.act("supervisor", &id, "pause", json!({ "reason": "external_appraisal" })).await;
    let (_, page) = b.post("/track", &[("csrf", &csrf), ("number", &number), ("code", &code)]).await;
    assert!(page.contains("id=\"materials-form\""), "{page}");
    assert_eq!(hidden(&page, "code").as_deref(), Some(code.as_str()));
    let (status, page) = b.post("/track/materials", &[("csrf", &csrf), ("number", &number), ("code", &code), ("note", "补充：当晚的通话记录可以证明我在家。")]).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("补充材料已收到"), "{page}");
    let (status, page) = b.post("/track/materials", &[("csrf", &csrf), ("number", &number), ("code", &code), ("note", "")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "nothing to send: {page}");
    let (status, _) = b.post("/track/materials", &[("csrf", &csrf), ("number", &number), ("code", &wrong_code), ("note", "x")]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let c = complaint(&app, &number).await;
    let notes = c["notes"].as_array().expect("notes");
    assert!(notes.iter().any(|n| n["text"] == "补充：当晚的通话记录可以证明我在家。" && n["by"]["id"] == "web" && n["customer_contact"] == true), "{notes:?}");
    app.act("supervisor", &id, "resume", json!({})).await;

    // The decision notice carries a survey link; the tracking page offers one too.
    decide(&app, &number).await;
    let tokens = survey_tokens(&app, &number).await;
    assert_eq!(tokens.len(), 1, "one decision notice with its link");
    let (_, page) = b.post("/track", &[("csrf", &csrf), ("number", &number), ("code", &code)]).await;
    assert!(page.contains("id=\"survey-link\""), "{page}");

    // The link works once.
    let (b, survey, csrf) = Browser::open(&app, &format!("/survey/{}", tokens[0])).await;
    assert!(survey.contains(&number) && survey.contains("survey-form"), "{survey}");
    let path = format!("/survey/{}", tokens[0]);
    let (status, page) = b.post(&path, &[("csrf", &csrf), ("satisfaction", "satisfied"), ("comments", "处理及时")]).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("survey-done"), "{page}");
    let c = complaint(&app, &number).await;
    assert_eq!(c["status"], "closed");
    assert_eq!(c["follow_up"]["satisfaction"], "satisfied");
    assert_eq!(c["follow_up"]["by"]["id"], "web");
    let (status, page) = b.post(&path, &[("csrf", &csrf), ("satisfaction", "dissatisfied"), ("comments", "")]).await;
    assert_eq!(status, StatusCode::CONFLICT, "{page}");
    assert!(page.contains("该链接已使用过"), "{page}");
    assert_eq!(complaint(&app, &number).await["status"], "closed");
    assert_eq!(b.get(&path).await.0, StatusCode::CONFLICT);

    // An altered token, a token of another installation and an expired one get the same page.
    let t = &tokens[0];
    let flipped = if t.ends_with('A') { 'B' } else { 'A' };
    let tampered = format!("{}{flipped}", &t[..t.len() - 1]);
    let (status, invalid) = b.get(&format!("/survey/{tampered}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(invalid.contains("该链接无效或已过期"), "{invalid}");
    let (status, _) = b.post(&format!("/survey/{tampered}"), &[("csrf", &csrf), ("satisfaction", "satisfied")]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(b.get("/survey/not-a-token").await, (StatusCode::NOT_FOUND, invalid.clone()));
    let (other, _) = submit(&app, "13700000002").await;
    decide(&app, &other).await;
    let late = survey_tokens(&app, &other).await.remove(0);
    app.advance_days(31);
    assert_eq!(b.get(&format!("/survey/{late}")).await, (StatusCode::NOT_FOUND, invalid));
}

async fn a_survey_link_answers_once_even_after_the_complaint_is_decided_again(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let (number, _) = submit(&app, "13700000003").await;
    // The same matter again from the same phone is merged into it, and the receipt says so.
    let (b, _, csrf) = Browser::open(&app, "/complain").await;
    let (status, receipt) = b.post("/complain", &complaint_fields(&csrf, "13700000003")).await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    assert!(by_id(&receipt, "receipt-merged").is_some_and(|t| t.ends_with(&number)), "{receipt}");
    decide(&app, &number).await;
    let first = survey_tokens(&app, &number).await.remove(0);
    assert_eq!(b.get(&format!("/survey/{first}")).await.0, StatusCode::OK);
    let (status, page) = b.post(&format!("/survey/{first}"), &[("csrf", &csrf), ("satisfaction", "dissatisfied"), ("comments", "不认可")]).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let c = complaint(&app, &number).await;
    assert_eq!(c["status"], "investigating", "dissatisfaction reopens");
    assert_eq!(c["reopen_count"], 1);
    // Decided again: the used link stays used (the store refuses it), the new one works.
    decide(&app, &number).await;
    let tokens = survey_tokens(&app, &number).await;
    assert_eq!(tokens.len(), 2);
    let (status, page) = b.post(&format!("/survey/{first}"), &[("csrf", &csrf), ("satisfaction", "satisfied")]).await;
    assert_eq!(status, StatusCode::CONFLICT, "{page}");
    assert_eq!(complaint(&app, &number).await["status"], "decided");
    let (status, page) = b.post(&format!("/survey/{}", tokens[1]), &[("csrf", &csrf), ("satisfaction", "basically_satisfied")]).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(complaint(&app, &number).await["status"], "closed");
}

async fn forms_need_their_token_and_addresses_are_throttled(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let (b, _, csrf) = Browser::open(&app, "/complain").await;
    // Without the cookie, or with another token: refused, nothing registered.
    let res = app.http.post(format!("{}/complain", app.base)).form(&complaint_fields(&csrf, "13700000004")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let other = "0".repeat(64);
    let (status, _) = b.post("/complain", &complaint_fields(&other, "13700000004")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(app.state.store.count().await.unwrap(), 0);

    // Errors are shown beside the fields; every attempt counts.
    let mut fields = complaint_fields(&csrf, "13700000004");
    fields.retain(|(k, _)| *k != "complainant.name");
    let (status, page) = b.post("/complain", &fields).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(page.contains("id=\"e-complainant.name\""), "{page}");
    let mut fields = complaint_fields(&csrf, "");
    fields.retain(|(k, _)| *k != "complainant.phone");
    let (status, page) = b.post("/complain", &fields).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(page.contains("请至少填写联系电话或电子邮箱中的一项"), "{page}");
    for _ in 2..redress_app::customer::MAX_SUBMISSIONS_PER_ADDRESS {
        assert_eq!(b.post("/complain", &fields).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let (status, page) = b.post("/complain", &complaint_fields(&csrf, "13700000004")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{page}");
    assert!(page.contains("尝试次数过多"), "{page}");
    assert_eq!(app.state.store.count().await.unwrap(), 0);

    // Failed look-ups are counted; then even the right code waits.
    let (number, code) = {
        app.advance_days(1);
        submit(&app, "13700000005").await
    };
    for i in 0..redress_app::customer::MAX_FAILURES_PER_ADDRESS {
        let (status, _) = b.post("/track", &[("csrf", &csrf), ("number", &format!("TS-20250121-{i:06}")), ("code", "ABCDEFGHJK")]).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    let (status, _) = b.post("/track", &[("csrf", &csrf), ("number", &number), ("code", &code)]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    app.advance_days(1);
    let (status, _) = b.post("/track", &[("csrf", &csrf), ("number", &number), ("code", &code)]).await;
    assert_eq!(status, StatusCode::OK, "the window has passed");
}
