//! Nothing tells a caller about a complaint they may not see: replays, duplicate detection,
//! incidents, refused uploads and the answers' headers and shapes.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::on_both_engines;
use crate::support::{Engine, TestApp, card_complaint};

on_both_engines!(
    another_departments_external_ref_is_a_conflict_without_its_contents,
    an_idempotent_replay_after_a_transfer_out_is_a_conflict_without_its_contents,
    duplicate_detection_never_links_to_a_complaint_the_registrant_cannot_see,
    incidents_are_listed_only_to_departments_with_a_member,
    an_attachment_to_a_withdrawn_complaint_is_refused_and_not_stored,
    every_answer_is_private_and_errors_keep_their_shape,
    naming_a_handler_tells_nothing_to_someone_who_may_not_assign,
);

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}")).to_string()
}

/// A complaint against the Guangzhou branch (its consumer protection), from someone else.
fn guangzhou_complaint(phone: &str) -> Value {
    json!({
        "channel": "branch",
        "complainant": { "name": "李四", "phone": phone, "customer_type": "individual" },
        "respondent": { "unit": "GZ" },
        "business_type": "B0301",
        "request": "要求退还手续费",
        "narrative": "在广州分行柜台办理跨行转账，被多收了手续费，柜员未作说明。"
    })
}

/// Registers as `who` with optional extra headers; the status, whether the answer is a replay,
/// and the body as text.
async fn register_as(app: &TestApp, who: &str, body: &Value, idempotency_key: Option<&str>) -> (StatusCode, bool, String) {
    let mut req = app.http.post(format!("{}/api/v1/complaints", app.base)).json(body);
    if let Some(key) = idempotency_key {
        req = req.header("Idempotency-Key", key);
    }
    let (status, headers, bytes) = app.send(who, req).await;
    let replayed = headers.get("idempotent-replayed").is_some_and(|v| v == "true");
    (status, replayed, String::from_utf8(bytes).unwrap())
}

/// Asserts a conflict of the replay kind that names nothing of `hidden`.
fn assert_silent_conflict(status: StatusCode, text: &str, hidden: &Value) {
    assert_eq!(status, StatusCode::CONFLICT, "{text}");
    let v: Value = serde_json::from_str(text).unwrap();
    assert_eq!(v["error"]["code"], "already_registered", "{text}");
    assert_eq!(v.as_object().unwrap().len(), 1, "only the error: {text}");
    for secret in [&hidden["id"], &hidden["number"], &hidden["complainant"]["phone"], &hidden["complainant"]["id_number"], &hidden["complainant"]["name"]] {
        if let Some(s) = secret.as_str() {
            assert!(!text.contains(s), "the conflict tells {s}: {text}");
        }
    }
    assert!(!text.contains(&hidden["owner"]["department"].as_str().unwrap().to_string()), "the conflict tells the department: {text}");
}

async fn another_departments_external_ref_is_a_conflict_without_its_contents(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let mut original = card_complaint("13812345678");
    original["external_ref"] = json!("crm:ACME-2025-0001");
    let first = app.register(&original).await;
    assert_eq!(first["owner"]["department"], "SH-CARD");

    // A Guangzhou handler registers a complaint of their own that carries the same reference.
    let mut theirs = guangzhou_complaint("13900001111");
    theirs["external_ref"] = json!("crm:ACME-2025-0001");
    let (status, _, text) = register_as(&app, "gz_handler", &theirs, None).await;
    assert_silent_conflict(status, &text, &first);
    // With the original's very body too.
    let (status, _, text) = register_as(&app, "gz_handler", &original, None).await;
    assert_silent_conflict(status, &text, &first);
    assert_eq!(app.state.store.count().await.unwrap(), 1);

    // The owner department's handler replaying the reference gets the complaint.
    let (status, replayed, text) = register_as(&app, "card_handler", &original, None).await;
    assert_eq!((status, replayed), (StatusCode::CREATED, true), "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["id"], first["id"]);
    assert_eq!(v["complainant"]["phone"], "13812345678");
    assert_eq!(app.state.store.count().await.unwrap(), 1);
}

async fn an_idempotent_replay_after_a_transfer_out_is_a_conflict_without_its_contents(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let body = card_complaint("13812345678");
    let (status, replayed, text) = register_as(&app, "card_handler", &body, Some("desk-7-call-42")).await;
    assert_eq!((status, replayed), (StatusCode::CREATED, false), "{text}");
    let first: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(first["owner"]["department"], "SH-CARD");
    // While the complaint is theirs, the retry replays it.
    let (status, replayed, text) = register_as(&app, "card_handler", &body, Some("desk-7-call-42")).await;
    assert_eq!((status, replayed), (StatusCode::CREATED, true), "{text}");
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap()["id"], first["id"]);

    app.act("supervisor", &id(&first), "transfer", json!({ "department": "GZ-CP", "reason": "属地管理，转广州分行处理" })).await;
    assert_eq!(app.get("card_handler", &format!("/api/v1/complaints/{}", id(&first))).await.0, StatusCode::NOT_FOUND);
    // Now the same retry must not hand back a complaint of Guangzhou.
    let (status, _, text) = register_as(&app, "card_handler", &body, Some("desk-7-call-42")).await;
    let mut moved = first.clone();
    moved["owner"]["department"] = json!("GZ-CP");
    assert_silent_conflict(status, &text, &moved);
    assert_eq!(app.state.store.count().await.unwrap(), 1);
}

async fn duplicate_detection_never_links_to_a_complaint_the_registrant_cannot_see(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let first = app.register(&card_complaint("13812345678")).await;
    assert_eq!(first["owner"]["department"], "SH-CARD");
    let mut again = card_complaint("13812345678");
    again["channel"] = json!("app");
    again["narrative"] = json!("我之前投诉过信用卡被盗刷的事，到现在还没处理，再次投诉！");

    // Someone who sees the earlier complaint: the repeat is merged into it.
    let (status, _, text) = register_as(&app, "card_handler", &again, None).await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    let merged: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(merged["status"], "merged", "{text}");
    assert_eq!(merged["merged_into"]["number"], first["number"]);

    // Someone who does not: a complaint of its own, neither merged nor linked, naming nothing.
    let (status, _, text) = register_as(&app, "gz_handler", &again, None).await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    let separate: Value = serde_json::from_str(&text).unwrap();
    assert_ne!(separate["status"], "merged", "{text}");
    assert!(separate["merged_into"].is_null() && separate["duplicate_of"].is_null(), "{text}");
    for secret in [first["id"].as_str().unwrap(), first["number"].as_str().unwrap()] {
        assert!(!text.contains(secret), "the registration tells {secret}: {text}");
    }
    let (_, history) = app.get("supervisor", &format!("/api/v1/complaints/{}/history", id(&separate))).await;
    let actions: Vec<&str> = history["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(!actions.contains(&"merge_into") && !actions.contains(&"link_duplicate"), "{actions:?}");
    assert!(!history.to_string().contains(first["number"].as_str().unwrap()), "{history}");
    assert_eq!(app.state.store.count().await.unwrap(), 3);
}

async fn incidents_are_listed_only_to_departments_with_a_member(engine: Engine) {
    let Some(mut app) = TestApp::start(engine).await else { return };
    app.add_user("gz_head", redress_domain::org::Role::DepartmentHead, Some("GZ-CP")).await;
    let mut numbers = Vec::new();
    for i in 0..6 {
        let c = app
            .register(&json!({
                "channel": "app",
                "complainant": { "name": format!("客户{i}"), "phone": format!("1370000{i:04}"), "customer_type": "individual" },
                "respondent": { "unit": "SH" },
                "business_type": "B0302",
                "request": "要求减免滞纳金",
                "narrative": format!("手机银行APP今天上午无法登录，一直提示系统维护，信用卡自动还款失败，产生了滞纳金和利息，第{i}次反映"),
            }))
            .await;
        assert_eq!(c["owner"]["department"], "SH-CARD");
        numbers.push(c["number"].as_str().unwrap().to_string());
        app.clock.advance(jiff::SignedDuration::from_mins(5));
    }
    let report = redress_app::jobs::detect(&app.state).await.unwrap();
    assert_eq!(report.created, 1, "{report:?}");
    let (_, all) = app.get("supervisor", "/api/v1/incidents").await;
    let items = all["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{all}");
    let incident = items[0]["id"].as_str().unwrap().to_string();
    // The card department's head sees it…
    let (status, mine) = app.get("card_head", "/api/v1/incidents").await;
    assert_eq!((status, mine["items"].as_array().unwrap().len()), (StatusCode::OK, 1), "{mine}");
    assert_eq!(app.get("card_head", &format!("/api/v1/incidents/{incident}")).await.0, StatusCode::OK);
    // …a head of a department with no member does not, in the list or by its id.
    let (status, theirs) = app.get("gz_head", "/api/v1/incidents").await;
    assert_eq!(status, StatusCode::OK, "{theirs}");
    assert!(theirs["items"].as_array().unwrap().is_empty(), "{theirs}");
    let (status, detail) = app.get("gz_head", &format!("/api/v1/incidents/{incident}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{detail}");
    assert_eq!(detail["error"]["code"], "not_found");
    let text = detail.to_string();
    assert!(numbers.iter().all(|n| !text.contains(n.as_str())), "{text}");
    assert!(!text.contains(items[0]["label"].as_str().unwrap()), "{text}");
}

async fn an_attachment_to_a_withdrawn_complaint_is_refused_and_not_stored(engine: Engine) {
    let Some((app, database)) = TestApp::start_with_database(engine).await else { return };
    let app = &app;
    let withdrawn = id(&app.register(&card_complaint("13812345678")).await);
    app.act("card_handler", &withdrawn, "withdraw", json!({ "reason": "客户表示已自行解决" })).await;
    let mut other = card_complaint("13900002222");
    other["complainant"]["id_number"] = json!(null);
    let open = id(&app.register(&other).await);

    let pdf = b"%PDF-1.7\n1 0 obj <<>> endobj\n% withdrawn evidence 4f1c\ntrailer <<>>\n%%EOF\n".to_vec();
    let sha = hex::encode(Sha256::digest(&pdf));
    let upload = |cid: String| {
        let req = app.http.post(format!("{}/api/v1/complaints/{cid}/attachments", app.base)).query(&[("filename", "流水.pdf")]).body(pdf.clone());
        async move {
            let (status, _, body) = app.send("card_handler", req).await;
            (status, serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null))
        }
    };
    let (status, v) = upload(withdrawn.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    assert!(v["error"]["code"].is_string(), "{v}");
    let (_, c) = app.get("supervisor", &format!("/api/v1/complaints/{withdrawn}")).await;
    assert!(c["attachments"].as_array().unwrap().is_empty(), "{c}");
    // Not downloadable by its hash from any complaint…
    for cid in [&withdrawn, &open] {
        let (status, _, _) = app.send("supervisor", app.http.get(format!("{}/api/v1/complaints/{cid}/attachments/{sha}", app.base))).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    // …and not in the table at all.
    assert_eq!(database.attachment_rows(Some(&sha)).await, 0);
    assert_eq!(database.attachment_rows(None).await, 0);

    // The same file on an open complaint is stored, once (the check above can see a row).
    let (status, v) = upload(open.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert_eq!(v["attachment"]["sha256"], sha.as_str());
    assert_eq!(database.attachment_rows(Some(&sha)).await, 1);
    // Still refused on the withdrawn one, though the content now exists.
    let (status, v) = upload(withdrawn.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    let (status, _, _) = app.send("supervisor", app.http.get(format!("{}/api/v1/complaints/{withdrawn}/attachments/{sha}", app.base))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

fn assert_private(what: &str, headers: &reqwest::header::HeaderMap) {
    assert_eq!(headers.get("cache-control").and_then(|v| v.to_str().ok()), Some("no-store"), "{what}: {headers:?}");
    assert_eq!(headers.get("x-content-type-options").and_then(|v| v.to_str().ok()), Some("nosniff"), "{what}: {headers:?}");
}

fn assert_error_shape(what: &str, body: &[u8]) -> Value {
    let v: Value = serde_json::from_slice(body).unwrap_or_else(|_| panic!("{what}: not JSON: {}", String::from_utf8_lossy(body)));
    let e = &v["error"];
    assert!(e["code"].as_str().is_some_and(|c| !c.is_empty()), "{what}: {v}");
    assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{what}: {v}");
    assert_eq!(v.as_object().unwrap().len(), 1, "{what}: {v}");
    v
}

async fn every_answer_is_private_and_errors_keep_their_shape(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let base = &app.base;
    let (status, headers, body) = app.send("intake", app.http.post(format!("{base}/api/v1/complaints")).json(&card_complaint("13812345678"))).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_private("201", &headers);
    let created: Value = serde_json::from_slice(&body).unwrap();
    let cid = id(&created);

    let (status, headers, _) = app.send("card_handler", app.http.get(format!("{base}/api/v1/complaints/{cid}"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_private("200 complaint", &headers);
    let (status, headers, _) = app.send("card_handler", app.http.get(format!("{base}/api/v1/complaints"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_private("200 list", &headers);

    let (status, headers, body) = app.send("gz_handler", app.http.get(format!("{base}/api/v1/complaints/{cid}"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_private("404", &headers);
    assert_error_shape("404", &body);
    let (status, headers, body) = app.send("intake", app.http.post(format!("{base}/api/v1/complaints")).header("content-type", "application/json").body("{")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_private("400", &headers);
    assert_error_shape("400", &body);
    let (status, headers, body) = app.send("nobody", app.http.get(format!("{base}/api/v1/complaints"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_private("401", &headers);
    assert_error_shape("401", &body);
    let (status, headers, body) = app.send("auditor", app.http.post(format!("{base}/api/v1/complaints/{cid}/notes")).json(&json!({ "text": "x" }))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_private("403", &headers);
    assert_error_shape("403", &body);

    // A path segment that is not UTF-8 once decoded.
    for path in ["/api/v1/complaints/%FF", "/api/v1/complaints/%FF/history", "/api/v1/complaints/%C3%28/reading", "/api/v1/complaints/%FF/notes"] {
        let req = if path.ends_with("notes") { app.http.post(format!("{base}{path}")).json(&json!({ "text": "x" })) } else { app.http.get(format!("{base}{path}")) };
        let (status, headers, body) = app.send("supervisor", req).await;
        assert!(status.is_client_error(), "{path}: {status}");
        assert_private(path, &headers);
        assert_error_shape(path, &body);
    }
    // Nothing was written by the refused requests.
    let (_, history) = app.get("supervisor", &format!("/api/v1/complaints/{cid}/history")).await;
    assert_eq!(history["events"].as_array().unwrap().len(), 3, "{history}");

    // A method the route does not have: 405, in the same shape.
    let (status, headers, body) = app.send("supervisor", app.http.delete(format!("{base}/api/v1/complaints"))).await;
    assert_private("DELETE", &headers);
    assert_error_shape("DELETE /api/v1/complaints", &body);
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{}", String::from_utf8_lossy(&body));
    let (status, _, body) = app.send("supervisor", app.http.put(format!("{base}/api/v1/complaints/{cid}"))).await;
    assert_error_shape("PUT /api/v1/complaints/{id}", &body);
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{}", String::from_utf8_lossy(&body));
}

/// The handler named by `assign` or `transfer` is looked up only for someone who may take the
/// action on that complaint: anyone else gets the same refusal (403 when they see the complaint,
/// 404 when they do not) whatever name they give, so the answer neither tells which user names
/// are active handlers nor differs from that of a complaint that does not exist.
async fn naming_a_handler_tells_nothing_to_someone_who_may_not_assign(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let cid = id(&app.register(&card_complaint("13812345678")).await);
    let missing = "0192f0c4-0000-7000-8000-000000000000";
    for handler in ["card_handler2", "no_such_user", "auditor"] {
        let assign = json!({ "handler": handler });
        let transfer = json!({ "department": "SH-CARD", "handler": handler, "reason": "换人处理" });
        for (action, body) in [("assign", &assign), ("transfer", &transfer)] {
            // The intake agent sees the complaint but may not assign it (nor transfer it).
            let (status, v) = app.post("intake", &format!("/api/v1/complaints/{cid}/{action}"), body).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "intake {action} to {handler}: {v}");
            // Guangzhou does not see it: the same as a complaint that does not exist.
            let (status, v) = app.post("gz_handler", &format!("/api/v1/complaints/{cid}/{action}"), body).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "gz_handler {action} to {handler}: {v}");
            let (status, v) = app.post("gz_handler", &format!("/api/v1/complaints/{missing}/{action}"), body).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "gz_handler {action} on nothing to {handler}: {v}");
        }
    }
    // Someone who may assign is told when the name is wrong.
    let (status, v) = app.post("card_head", &format!("/api/v1/complaints/{cid}/assign"), &json!({ "handler": "no_such_user" })).await;
    assert_eq!((status, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("handler")), "{v}");
}
