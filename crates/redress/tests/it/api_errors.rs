//! Bad input: every case is a 4xx with `{ "error": { "code", "message", "field"? } }`, never a
//! 500, never a partial write.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::on_both_engines;
use crate::support::{Engine, TestApp, card_complaint};

on_both_engines!(bad_complaint_bodies_are_refused_with_the_field, bad_actions_and_ids_are_refused, bad_list_queries_are_refused);

fn assert_error(status: StatusCode, body: &Value, want_status: StatusCode, want_code: &str, want_field: Option<&str>) {
    assert_eq!(status, want_status, "{body}");
    let e = &body["error"];
    assert_eq!(e["code"], want_code, "{body}");
    assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    match want_field {
        Some(f) => assert_eq!(e["field"], f, "{body}"),
        None => assert!(e.get("field").is_none(), "{body}"),
    }
}

async fn bad_complaint_bodies_are_refused_with_the_field(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let post = |b: Vec<u8>| app.post_raw("intake", "/api/v1/complaints", b);

    let (s, b) = post(b"{\"channel\": \"hotline\", ".to_vec()).await;
    assert_error(s, &b, StatusCode::BAD_REQUEST, "malformed_json", None);
    let (s, b) = post(b"not json at all".to_vec()).await;
    assert_error(s, &b, StatusCode::BAD_REQUEST, "malformed_json", None);

    let with = |path: &[&str], value: Value| {
        let mut c = card_complaint("13812345678");
        let mut target = &mut c;
        for p in &path[..path.len() - 1] {
            target = &mut target[*p];
        }
        target[path[path.len() - 1]] = value;
        serde_json::to_vec(&c).unwrap()
    };
    let (s, b) = post(with(&["channel"], json!("carrier_pigeon"))).await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("channel"));
    let (s, b) = post(with(&["complainant", "customer_type"], json!("martian"))).await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("complainant.customer_type"));
    let (s, b) = post(with(&["narrative"], json!(42))).await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("narrative"));
    let (s, b) = post(with(&["amount", "amount"], json!(12.5))).await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("amount.amount"));
    let (s, b) = post(with(&["amount", "amount"], json!("-3"))).await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("amount.amount"));
    let (s, b) = post(with(&["complainant", "phone"], json!("call me maybe"))).await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("complainant.phone"));
    let (s, b) = post(with(&["complainant", "id_number"], json!("110105194912310021"))).await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("complainant.id_number"));
    let (s, b) = post(with(&["narrative"], json!("   "))).await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("narrative"));
    let (s, b) = post(with(&["respondent", "unit"], json!("ATLANTIS"))).await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("respondent.unit"));
    let (s, b) = post(with(&["surprise"], json!(1))).await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("surprise"));
    let (s, b) = post(with(&["business_type"], json!("NOPE"))).await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("business_type"));
    let (s, b) = post(with(&["channel"], json!("regulator"))).await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("regulator_order"));
    let (s, b) = post(with(&["received_at"], json!("2030-01-01T00:00:00Z"))).await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("received_at"));

    let mut missing = card_complaint("13812345678");
    missing.as_object_mut().unwrap().remove("request");
    let (s, b) = post(serde_json::to_vec(&missing).unwrap()).await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("request"));
    let mut missing = card_complaint("13812345678");
    missing["complainant"].as_object_mut().unwrap().remove("name");
    let (s, b) = post(serde_json::to_vec(&missing).unwrap()).await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("complainant.name"));

    let mut huge = card_complaint("13812345678");
    huge["narrative"] = json!("很".repeat(400_000));
    let (s, b) = post(serde_json::to_vec(&huge).unwrap()).await;
    assert_error(s, &b, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", None);

    // Invalid UTF-8 inside a string.
    let mut bytes = serde_json::to_vec(&card_complaint("13812345678")).unwrap();
    let at = bytes.windows(4).position(|w| w == b"\"\xe6\x88\x91").unwrap() + 1;
    bytes[at] = 0xff;
    let (s, b) = post(bytes).await;
    assert!(s.is_client_error(), "{s} {b}");

    // Nothing was written by any of these.
    assert_eq!(app.state.store.count().await.unwrap(), 0);
}

async fn bad_actions_and_ids_are_refused(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let c = app.register(&card_complaint("13812345678")).await;
    let cid = c["id"].as_str().unwrap();
    let (s, b) = app.get("supervisor", "/api/v1/complaints/0192f0c4-0000-7000-8000-000000000000").await;
    assert_error(s, &b, StatusCode::NOT_FOUND, "not_found", None);
    let (s, b) = app.get("supervisor", "/api/v1/complaints/TS-19990101-000001/history").await;
    assert_error(s, &b, StatusCode::NOT_FOUND, "not_found", None);
    let (s, b) = app.post("supervisor", &format!("/api/v1/complaints/{cid}/teleport"), &json!({})).await;
    assert_error(s, &b, StatusCode::NOT_FOUND, "not_found", None);
    let (s, b) = app.post("card_handler", &format!("/api/v1/complaints/{cid}/decide"), &json!({ "verification": "a", "basis": "b", "reasons": "c" })).await;
    assert_error(s, &b, StatusCode::CONFLICT, "invalid_transition", None);
    let (s, b) = app.post("card_handler", &format!("/api/v1/complaints/{cid}/notes"), &json!({ "txet": "typo" })).await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("txet"));
    let (s, b) = app.post("card_handler", &format!("/api/v1/complaints/{cid}/follow-up"), &json!({ "satisfaction": "ecstatic" })).await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("satisfaction"));
    let (s, b) = app.post("card_head", &format!("/api/v1/complaints/{cid}/assign"), &json!({ "handler": "gz_handler" })).await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("handler"));
    let (s, b) = app.post("card_handler", &format!("/api/v1/complaints/{cid}/transfer"), &json!({ "department": "MARS", "reason": "x" })).await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "unknown_department", Some("department"));
    let (s, b) = app.post_raw("card_handler", &format!("/api/v1/complaints/{cid}/notes"), b"{".to_vec()).await;
    assert_error(s, &b, StatusCode::BAD_REQUEST, "malformed_json", None);
    let (s, b) = app.get("supervisor", "/api/v1/nowhere").await;
    assert_error(s, &b, StatusCode::NOT_FOUND, "not_found", None);
    // The record is untouched by the refused actions.
    let (_, h) = app.get("auditor", &format!("/api/v1/complaints/{cid}/history")).await;
    assert_eq!(h["events"].as_array().unwrap().len(), 3);
    // A transfer with a reason works and keeps an owner.
    let v = app.act("card_handler", cid, "transfer", json!({ "department": "SH-CP", "reason": "涉及网点服务，转消保部" })).await;
    assert_eq!(v["owner"]["department"], "SH-CP");
    assert_eq!(v["status"], "accepted");
}

async fn bad_list_queries_are_refused(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let (s, b) = app.get("supervisor", "/api/v1/complaints?status=lost").await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("status"));
    let (s, b) = app.get("supervisor", "/api/v1/complaints?limit=100000").await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("limit"));
    let (s, b) = app.get("supervisor", "/api/v1/complaints?cursor=garbage").await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("cursor"));
    let (s, b) = app.get("supervisor", "/api/v1/complaints?received_from=yesterday").await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("received_from"));
    let (s, b) = app.get("supervisor", "/api/v1/complaints?colour=red").await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid_query", None);
}
