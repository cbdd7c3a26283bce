//! The complaint lifecycle through the HTTP API.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::on_both_engines;
use crate::support::{Engine, TestApp, card_complaint};

on_both_engines!(
    registration_returns_number_deadline_classification_and_owner,
    requests_without_a_valid_token_get_401,
    handlers_see_only_their_department,
    the_full_lifecycle_is_recorded_in_history,
    idempotency_key_never_registers_twice,
    large_compensation_needs_a_second_person,
    extension_needs_superior_approval_and_notifies_the_customer,
    pausing_the_clock_moves_the_deadline,
    the_scheduler_marks_overdue_and_escalates,
    dissatisfied_follow_up_reopens,
    review_goes_up_the_hierarchy_within_its_window,
    a_repeat_complaint_is_merged_into_the_open_one,
    lists_mask_personal_data_and_paginate,
    a_correction_is_recorded_as_a_label,
    withdrawal_and_decline_end_the_complaint,
);

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

async fn registration_returns_number_deadline_classification_and_owner(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let c = app.register(&card_complaint("13812345678")).await;
    let number = c["number"].as_str().unwrap();
    assert!(number.starts_with("TS-20250120-"), "{number}");
    assert_eq!(number.len(), "TS-20250120-000001".len());
    // Received 20 January 2025 in Shanghai: 15 calendar days, due by the end of 4 February
    // (16:00 UTC), straight through the Spring Festival.
    assert_eq!(c["deadline"], "2025-02-04T16:00:00Z");
    assert_eq!(c["classification"]["business_type"]["code"], "B0302", "{}", c["classification"]);
    assert_eq!(c["owner"]["department"], "SH-CARD");
    assert!(c["owner"]["handler"]["name"].as_str().unwrap().starts_with("card_handler"));
    assert_eq!(c["status"], "assigned");
    // The acknowledgement with the deadline waits in the outbox.
    let (status, m) = app.get("intake", &format!("/api/v1/complaints/{}/messages", id(&c))).await;
    assert_eq!(status, StatusCode::OK);
    let body = m["messages"][0]["body"].as_str().unwrap();
    assert!(body.contains(number) && body.contains("2025年02月04日"), "{body}");
    // Numbers are unique and sortable.
    let c2 = app.register(&card_complaint("13900000000")).await;
    assert!(c2["number"].as_str().unwrap() > number);
}

async fn requests_without_a_valid_token_get_401(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let (status, v) = app.get("nobody", "/api/v1/complaints").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(v["error"]["code"], "unauthenticated");
    let res = app.http.get(format!("{}/api/v1/complaints", app.base)).bearer_auth("rdr_not-a-token").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let (status, _) = app.post("nobody", "/api/v1/complaints", &card_complaint("13812345678")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.state.store.count().await.unwrap(), 0);
}

async fn handlers_see_only_their_department(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let c = app.register(&card_complaint("13812345678")).await;
    let path = format!("/api/v1/complaints/{}", id(&c));
    assert_eq!(app.get("card_handler2", &path).await.0, StatusCode::OK);
    assert_eq!(app.get("auditor", &path).await.0, StatusCode::OK);
    let (status, v) = app.get("gz_handler", &path).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{v}");
    assert!(v.get("number").is_none() && v["error"]["code"] == "not_found");
    assert_eq!(app.get("gz_handler", &format!("{path}/history")).await.0, StatusCode::NOT_FOUND);
    let (status, _) = app.post("gz_handler", &format!("{path}/notes"), &json!({ "text": "x" })).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = app.get("gz_handler", "/api/v1/complaints").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
    let (_, list) = app.get("card_handler", "/api/v1/complaints").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    // The auditor reads everything and changes nothing.
    let (status, v) = app.post("auditor", &format!("{path}/notes"), &json!({ "text": "x" })).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
}

async fn the_full_lifecycle_is_recorded_in_history(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let c = app.register(&card_complaint("13812345678")).await;
    let cid = id(&c);
    app.act("card_handler", &cid, "start-investigation", json!({})).await;
    app.act("card_handler", &cid, "notes", json!({ "text": "已致电客户核实交易时间", "customer_contact": true })).await;
    let v = app.act("card_handler", &cid, "propose-resolution", json!({ "kind": "refund", "amount": { "amount": "5000.00", "currency": "CNY" }, "summary": "经核实为盗刷，全额退还" })).await;
    assert_eq!(v["status"], "resolution_proposed", "5000 is not above the 5000 threshold");
    let v = app.act("card_handler", &cid, "decide", json!({ "verification": "调取交易记录与客户通话录音", "basis": "《银行卡业务管理办法》", "reasons": "交易发生时卡片在持卡人身边" })).await;
    assert_eq!(v["status"], "decided");
    assert!(v["deadlines"]["follow_up_by"].is_string());
    let v = app.act("card_handler", &cid, "follow-up", json!({ "satisfaction": "satisfied", "comments": "满意" })).await;
    assert_eq!(v["status"], "closed");
    let v = app.act("supervisor", &cid, "archive", json!({})).await;
    assert_eq!(v["status"], "archived");
    // Archived is final: nothing more.
    let (status, e) = app.post("supervisor", &format!("/api/v1/complaints/{cid}/reopen"), &json!({ "reason": "x" })).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(e["error"]["code"], "invalid_transition");
    let (_, h) = app.get("auditor", &format!("/api/v1/complaints/{cid}/history")).await;
    let actions: Vec<&str> = h["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        ["register", "accept", "assign", "start_investigation", "add_note", "propose_resolution", "decide", "follow_up_satisfied", "archive"]
    );
    let seqs: Vec<i64> = h["events"].as_array().unwrap().iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=9).collect::<Vec<_>>());
    let decide = &h["events"][6];
    assert_eq!(decide["actor"]["name"], "card_handler");
    assert_eq!(decide["from_status"], "resolution_proposed");
    assert_eq!(decide["to_status"], "decided");
    // The decision notice went to the outbox.
    let (_, m) = app.get("auditor", &format!("/api/v1/complaints/{cid}/messages")).await;
    let kinds: Vec<&str> = m["messages"].as_array().unwrap().iter().map(|m| m["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["acknowledgement", "decision"]);
    assert!(m["messages"][1]["body"].as_str().unwrap().contains("申请核查"));
}

async fn idempotency_key_never_registers_twice(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let body = card_complaint("13812345678");
    let send = |b: Value, key: &'static str| {
        let req = app.http.post(format!("{}/api/v1/complaints", app.base)).bearer_auth(&app.tokens["intake"]).header("Idempotency-Key", key).json(&b);
        async move {
            let res = req.send().await.unwrap();
            let status = res.status();
            let replayed = res.headers().get("idempotent-replayed").is_some();
            (status, replayed, res.json::<Value>().await.unwrap())
        }
    };
    let (s1, r1, first) = send(body.clone(), "key-1").await;
    let (s2, r2, second) = send(body.clone(), "key-1").await;
    assert_eq!((s1, r1), (StatusCode::CREATED, false));
    assert_eq!((s2, r2), (StatusCode::CREATED, true));
    assert_eq!(first["id"], second["id"]);
    assert_eq!(app.state.store.count().await.unwrap(), 1);
    // The same key with another body is refused, not silently replayed.
    let mut other = body.clone();
    other["narrative"] = json!("另一件事：ATM吞卡");
    let (s3, _, e) = send(other, "key-1").await;
    assert_eq!(s3, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"]["code"], "idempotency_key_reused");
    // Concurrent retries of one request still register once.
    let futures: Vec<_> = (0..8).map(|_| send(body.clone(), "key-2")).collect();
    let results = futures::future::join_all(futures).await;
    let ids: std::collections::HashSet<String> = results.iter().map(|(_, _, v)| v["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(app.state.store.count().await.unwrap(), 2);
}

async fn large_compensation_needs_a_second_person(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let c = app.register(&card_complaint("13812345678")).await;
    let cid = id(&c);
    app.act("card_handler", &cid, "start-investigation", json!({})).await;
    let v = app.act("card_head", &cid, "propose-resolution", json!({ "kind": "compensation", "amount": { "amount": "8000", "currency": "CNY" }, "summary": "赔偿损失" })).await;
    assert_eq!(v["status"], "awaiting_approval");
    let path = format!("/api/v1/complaints/{cid}");
    let (status, e) = app.post("card_handler", &format!("{path}/decide"), &json!({ "verification": "a", "basis": "b", "reasons": "c" })).await;
    assert_eq!(status, StatusCode::CONFLICT, "{e}");
    // Above the threshold a second person approves: a department head over the owner or a
    // supervisor, never a handler, and never the proposer (maker-checker).
    let (status, e) = app.post("card_head", &format!("{path}/approve-resolution"), &json!({})).await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("maker_checker")), "{e}");
    let (status, _) = app.post("card_handler", &format!("{path}/approve-resolution"), &json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Nor the person who proposed it (maker-checker), even at the supervisor level.
    app.act("supervisor", &cid, "reject-resolution", json!({ "reason": "金额需复核" })).await;
    let v = app.act("supervisor", &cid, "propose-resolution", json!({ "kind": "compensation", "amount": { "amount": "8000", "currency": "CNY" }, "summary": "赔偿损失" })).await;
    assert_eq!(v["status"], "awaiting_approval");
    let (status, e) = app.post("supervisor", &format!("{path}/approve-resolution"), &json!({})).await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("maker_checker")), "{e}");
    let v = app.act("supervisor2", &cid, "approve-resolution", json!({})).await;
    assert_eq!(v["resolution"]["approved_by"]["name"], "supervisor2");
    let v = app.act("card_handler", &cid, "decide", json!({ "verification": "a", "basis": "b", "reasons": "c" })).await;
    assert_eq!(v["status"], "decided");
}

async fn extension_needs_superior_approval_and_notifies_the_customer(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let c = app.register(&card_complaint("13812345678")).await;
    let cid = id(&c);
    app.act("card_handler", &cid, "start-investigation", json!({})).await;
    // First step (to 30 days): the department approves.
    let v = app.act("card_handler", &cid, "request-extension", json!({ "reason": "需调取第三方商户资料" })).await;
    assert!(v["clock"]["pending_extension"].is_object());
    let v = app.act("card_head", &cid, "decide-extension", json!({ "approve": true })).await;
    assert_eq!(v["clock"]["extensions_granted"], 1);
    assert_eq!(v["deadline"], "2025-02-19T16:00:00Z");
    // Second step (to 60 days): a superior level must approve; the branch card head cannot.
    app.act("card_handler", &cid, "request-extension", json!({ "reason": "情况特别复杂" })).await;
    let (status, e) = app.post("card_head", &format!("/api/v1/complaints/{cid}/decide-extension"), &json!({ "approve": true })).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{e}");
    let v = app.act("supervisor", &cid, "decide-extension", json!({ "approve": true })).await;
    assert_eq!(v["clock"]["extensions_granted"], 2);
    assert_eq!(v["deadline"], "2025-03-21T16:00:00Z");
    let (status, e) = app.post("card_handler", &format!("/api/v1/complaints/{cid}/request-extension"), &json!({ "reason": "x" })).await;
    assert_eq!((status, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("no_extension_left")));
    let (_, m) = app.get("auditor", &format!("/api/v1/complaints/{cid}/messages")).await;
    let kinds: Vec<&str> = m["messages"].as_array().unwrap().iter().map(|m| m["kind"].as_str().unwrap()).collect();
    assert!(kinds.iter().filter(|k| **k == "extension").count() >= 1, "{kinds:?}");
}

async fn pausing_the_clock_moves_the_deadline(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let c = app.register(&card_complaint("13812345678")).await;
    let cid = id(&c);
    app.act("card_handler", &cid, "start-investigation", json!({})).await;
    let (status, e) = app.post("card_handler", &format!("/api/v1/complaints/{cid}/pause"), &json!({ "reason": "holiday" })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let v = app.act("card_handler", &cid, "pause", json!({ "reason": "external_appraisal", "note": "送司法鉴定" })).await;
    assert_eq!(v["status"], "waiting");
    assert!(v["deadlines"]["decide_by"].is_null(), "no running deadline while paused");
    app.advance_days(5);
    let v = app.act("card_handler", &cid, "resume", json!({})).await;
    assert_eq!(v["status"], "investigating");
    assert_eq!(v["deadline"], "2025-02-09T16:00:00Z");
    // New facts restart the clock from the new material.
    app.advance_days(1);
    let v = app.act("card_handler", &cid, "new-facts", json!({ "description": "客户补充了新的交易记录" })).await;
    assert_eq!(v["deadline"], "2025-02-10T16:00:00Z");
}

async fn the_scheduler_marks_overdue_and_escalates(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let c = app.register(&card_complaint("13812345678")).await;
    let cid = id(&c);
    let report = redress_app::jobs::sweep(&app.state).await.unwrap();
    assert_eq!((report.due_soon, report.overdue), (0, 0));
    app.advance_days(13);
    let report = redress_app::jobs::sweep(&app.state).await.unwrap();
    assert_eq!((report.due_soon, report.overdue), (1, 0));
    let (_, v) = app.get("card_handler", &format!("/api/v1/complaints/{cid}")).await;
    assert_eq!(v["due_state"], "due_soon");
    app.advance_days(3);
    let report = redress_app::jobs::sweep(&app.state).await.unwrap();
    assert_eq!(report.overdue, 1);
    let (_, v) = app.get("card_handler", &format!("/api/v1/complaints/{cid}")).await;
    assert_eq!(v["due_state"], "overdue");
    assert_eq!(v["priority"], "high", "escalation raises the priority");
    // A second sweep changes nothing.
    let report = redress_app::jobs::sweep(&app.state).await.unwrap();
    assert_eq!((report.due_soon, report.overdue), (0, 0));
    let (_, n) = app.get("card_head", "/api/v1/notifications").await;
    assert!(n["items"].as_array().unwrap().iter().any(|i| i["message"].as_str().unwrap().contains("deadline has passed")), "{n}");
    let (_, n) = app.get("supervisor", "/api/v1/notifications").await;
    assert!(!n["items"].as_array().unwrap().is_empty());
    let (_, h) = app.get("auditor", &format!("/api/v1/complaints/{cid}/history")).await;
    let actions: Vec<&str> = h["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.ends_with(&["mark_due", "mark_due", "escalate"]), "{actions:?}");
}

async fn dissatisfied_follow_up_reopens(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let c = app.register(&card_complaint("13812345678")).await;
    let cid = id(&c);
    app.act("card_handler", &cid, "start-investigation", json!({})).await;
    app.act("card_handler", &cid, "propose-resolution", json!({ "kind": "explanation", "summary": "解释说明" })).await;
    app.act("card_handler", &cid, "decide", json!({ "verification": "a", "basis": "b", "reasons": "c" })).await;
    let v = app.act("card_handler", &cid, "follow-up", json!({ "satisfaction": "dissatisfied", "comments": "不满意，要求赔偿" })).await;
    assert_eq!(v["status"], "investigating");
    assert_eq!(v["reopen_count"], 1);
    assert!(v["deadline"].is_string());
    let (_, n) = app.get("supervisor", "/api/v1/notifications").await;
    assert!(n["items"].as_array().unwrap().iter().any(|i| i["message"].as_str().unwrap().contains("dissatisfied")));
}

async fn review_goes_up_the_hierarchy_within_its_window(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let c = app.register(&card_complaint("13812345678")).await;
    let cid = id(&c);
    app.act("card_handler", &cid, "start-investigation", json!({})).await;
    app.act("card_handler", &cid, "propose-resolution", json!({ "kind": "rejection", "summary": "不予支持" })).await;
    app.act("card_handler", &cid, "decide", json!({ "verification": "a", "basis": "b", "reasons": "c" })).await;
    app.advance_days(10);
    let v = app.act("intake", &cid, "request-review", json!({ "reason": "客户不认可处理结果，申请核查" })).await;
    assert_eq!(v["status"], "under_review");
    // SH-CARD sits in the Shanghai branch; the review goes to head-office consumer protection.
    assert_eq!(v["owner"]["department"], "HO-CP");
    assert!(v["deadlines"]["review_decide_by"].is_string());
    assert_eq!(app.get("card_handler", &format!("/api/v1/complaints/{cid}")).await.0, StatusCode::NOT_FOUND);

    let mut late = card_complaint("13900000001");
    late["complainant"]["id_number"] = json!(null);
    let late = app.register(&late).await;
    let lid = id(&late);
    app.act("card_handler", &lid, "start-investigation", json!({})).await;
    app.act("card_handler", &lid, "propose-resolution", json!({ "kind": "explanation", "summary": "解释" })).await;
    app.act("card_handler", &lid, "decide", json!({ "verification": "a", "basis": "b", "reasons": "c" })).await;
    app.advance_days(31);
    let (status, e) = app.post("intake", &format!("/api/v1/complaints/{lid}/request-review"), &json!({ "reason": "太晚了" })).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(e["error"]["code"], "review_window_closed");
}

async fn a_repeat_complaint_is_merged_into_the_open_one(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let first = app.register(&card_complaint("13812345678")).await;
    let mut again = card_complaint("13812345678");
    again["channel"] = json!("app");
    again["narrative"] = json!("我之前投诉过信用卡被盗刷的事，到现在还没处理，再次投诉！");
    let second = app.register(&again).await;
    assert_ne!(first["id"], second["id"], "the repeat is recorded, not lost");
    assert_eq!(second["status"], "merged");
    assert_eq!(second["merged_into"]["number"], first["number"]);
    // A different person's complaint is not a duplicate.
    let mut other = card_complaint("13700000000");
    other["complainant"]["id_number"] = json!(null);
    let third = app.register(&other).await;
    assert_eq!(third["status"], "assigned");
}

async fn lists_mask_personal_data_and_paginate(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    for i in 0..5 {
        let mut c = card_complaint(&format!("1381234567{i}"));
        c["complainant"]["id_number"] = json!(null);
        app.register(&c).await;
        app.clock.advance(jiff::SignedDuration::from_mins(1));
    }
    let (status, page1) = app.get("supervisor", "/api/v1/complaints?limit=2").await;
    assert_eq!(status, StatusCode::OK);
    let items = page1["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["phone"], "138****5674", "newest first, masked");
    let cursor = page1["next_cursor"].as_str().unwrap();
    let (_, page2) = app.get("supervisor", &format!("/api/v1/complaints?limit=2&cursor={cursor}")).await;
    assert_eq!(page2["items"][0]["phone"], "138****5672");
    let (_, all) = app.get("supervisor", "/api/v1/complaints?status=assigned,accepted&department=SH-CARD&channel=hotline").await;
    assert_eq!(all["items"].as_array().unwrap().len(), 5);
    let (_, none) = app.get("supervisor", "/api/v1/complaints?status=closed").await;
    assert_eq!(none["items"].as_array().unwrap().len(), 0);
    // The full record is not masked for those who may see it.
    let id = items[0]["id"].as_str().unwrap();
    let (_, full) = app.get("card_handler", &format!("/api/v1/complaints/{id}")).await;
    assert_eq!(full["complainant"]["phone"], "13812345674");
}

async fn a_correction_is_recorded_as_a_label(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let c = app.register(&card_complaint("13812345678")).await;
    let cid = id(&c);
    let v = app.act("card_handler", &cid, "classification", json!({ "dimension": "cause", "code": "C01" })).await;
    assert_eq!(v["classification"]["cause"]["code"], "C01");
    assert_eq!(v["classification"]["source"]["kind"], "human");
    let (status, e) = app.post("card_handler", &format!("/api/v1/complaints/{cid}/classification"), &json!({ "dimension": "cause", "code": "ZZ" })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let labels = app.state.store.label_corrections(10).await.unwrap();
    assert_eq!(labels.len(), 1);
    assert_eq!(labels[0].correction.code, "C01");
    assert_eq!(labels[0].correction.by.name, "card_handler");
}

async fn withdrawal_and_decline_end_the_complaint(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let c = app.register(&card_complaint("13812345678")).await;
    // The hotline records calls about any complaint but does not end one.
    let (status, e) = app.post("intake", &format!("/api/v1/complaints/{}/withdraw", id(&c)), &json!({ "reason": "客户表示已自行解决" })).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{e}");
    let v = app.act("card_handler", &id(&c), "withdraw", json!({ "reason": "客户表示已自行解决" })).await;
    assert_eq!(v["status"], "withdrawn");
    let mut other = card_complaint("13900000002");
    other["complainant"]["id_number"] = json!(null);
    let d = app.register(&other).await;
    let (status, e) = app.post("intake", &format!("/api/v1/complaints/{}/decline", id(&d)), &json!({ "reason": "made_up_reason" })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let reason = app.state.rules.default_rules().profile.decline_reasons[0].code.clone();
    let v = app.act("intake", &id(&d), "decline", json!({ "reason": reason })).await;
    assert_eq!(v["status"], "declined");
    let (_, users) = app.get("admin", "/api/v1/users").await;
    let loads: i64 = users["items"].as_array().unwrap().iter().map(|u| u["open_load"].as_i64().unwrap()).sum();
    assert_eq!(loads, 0, "ended complaints no longer count against their handler");
}

on_both_engines!(attachments_are_content_addressed_and_type_checked);

async fn attachments_are_content_addressed_and_type_checked(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let c = app.register(&card_complaint("13812345678")).await;
    let cid = id(&c);
    let upload = |who: &'static str, name: &str, bytes: Vec<u8>| {
        let req = app.http.post(format!("{}/api/v1/complaints/{cid}/attachments", app.base)).query(&[("filename", name)]).bearer_auth(&app.tokens[who]).body(bytes);
        async move {
            let res = req.send().await.unwrap();
            (res.status(), res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let pdf = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n".to_vec();
    let (status, v) = upload("card_handler", "交易流水.pdf", pdf.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let sha = v["attachment"]["sha256"].as_str().unwrap().to_string();
    assert_eq!(v["attachment"]["media_type"], "application/pdf");
    assert_eq!(v["complaint"]["attachments"].as_array().unwrap().len(), 1);
    // The same content again is stored once and listed once.
    let (status, v) = upload("card_handler", "交易流水.pdf", pdf.clone()).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(v["complaint"]["attachments"].as_array().unwrap().len(), 1);
    // Type checks and limits.
    let (status, v) = upload("card_handler", "invoice.pdf", b"MZ\x90\x00binary".to_vec()).await;
    assert_eq!((status, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("content")), "{v}");
    let (status, v) = upload("card_handler", "photo.png", pdf.clone()).await;
    assert_eq!((status, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("filename")), "{v}");
    let (status, v) = upload("card_handler", "big.txt", vec![b'a'; redress_domain::attachment::MAX_ATTACHMENT_BYTES + 10]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    // Another department cannot upload or read.
    let (status, _) = upload("gz_handler", "x.txt", b"hello".to_vec()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let path = format!("{}/api/v1/complaints/{cid}/attachments/{sha}", app.base);
    let res = app.http.get(&path).bearer_auth(&app.tokens["gz_handler"]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app.http.get(&path).bearer_auth(&app.tokens["auditor"]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert_eq!(res.bytes().await.unwrap().to_vec(), pdf);
    let (_, h) = app.get("auditor", &format!("/api/v1/complaints/{cid}/history")).await;
    assert_eq!(h["events"].as_array().unwrap().iter().filter(|e| e["action"] == "attach").count(), 2);
}

on_both_engines!(an_extension_clears_a_stale_due_soon_mark);

async fn an_extension_clears_a_stale_due_soon_mark(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let c = app.register(&card_complaint("13812345678")).await;
    let cid = id(&c);
    app.act("card_handler", &cid, "start-investigation", json!({})).await;
    app.advance_days(13);
    redress_app::jobs::sweep(&app.state).await.unwrap();
    let (_, v) = app.get("card_handler", &format!("/api/v1/complaints/{cid}")).await;
    assert_eq!(v["due_state"], "due_soon");
    app.act("card_handler", &cid, "request-extension", json!({ "reason": "需要调取监控" })).await;
    let v = app.act("card_head", &cid, "decide-extension", json!({ "approve": true })).await;
    assert_eq!(v["due_state"], "on_time", "the new deadline is two weeks away");
    let report = redress_app::jobs::sweep(&app.state).await.unwrap();
    assert_eq!((report.due_soon, report.overdue), (0, 0));
}
