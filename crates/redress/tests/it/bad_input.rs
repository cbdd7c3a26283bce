//! Input a client can get wrong, case by case: each is refused with a 4xx naming the field, and
//! nothing is stored; and real long narratives are taken whole.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::on_both_engines;
use crate::support::{Engine, TestApp, card_complaint};

on_both_engines!(
    escalation_reasons_that_are_empty_nul_or_huge_are_refused,
    control_characters_in_an_external_ref_are_refused,
    control_characters_in_an_attachment_name_are_refused,
    a_name_of_zero_width_spaces_is_refused,
    a_complaint_received_in_year_one_is_refused,
    ten_thousand_staff_entries_are_refused,
    an_amount_with_a_digit_separator_is_refused,
    bytes_after_the_json_body_are_refused,
    an_array_where_an_object_belongs_is_refused,
    a_long_narrative_is_registered_whole,
    the_longest_real_cfpb_narrative_is_registered,
    nul_bytes_in_ids_and_filters_are_client_errors,
);

/// Asserts a refusal: the status, the code and the field named.
fn assert_refused(what: &str, status: StatusCode, body: &Value, want: StatusCode, code: &str, field: Option<&str>) {
    assert_eq!(status, want, "{what}: {body}");
    assert_eq!(body["error"]["code"], code, "{what}: {body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{what}: {body}");
    match field {
        Some(f) => assert_eq!(body["error"]["field"], f, "{what}: {body}"),
        None => assert!(body["error"].get("field").is_none(), "{what}: {body}"),
    }
}

/// Posts a complaint body as the intake agent, expecting a refusal naming `field`, and that no
/// complaint was stored.
async fn refused_registration(app: &TestApp, what: &str, body: Vec<u8>, want: StatusCode, code: &str, field: Option<&str>) {
    let before = app.state.store.count().await.unwrap();
    let (status, v) = app.post_raw("intake", "/api/v1/complaints", body).await;
    assert_refused(what, status, &v, want, code, field);
    assert_eq!(app.state.store.count().await.unwrap(), before, "{what} stored a complaint");
}

fn bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

async fn history_len(app: &TestApp, cid: &str) -> usize {
    let (_, h) = app.get("supervisor", &format!("/api/v1/complaints/{cid}/history")).await;
    h["events"].as_array().unwrap().len()
}

async fn notification_count(app: &TestApp, who: &str) -> usize {
    let (_, n) = app.get(who, "/api/v1/notifications").await;
    n["items"].as_array().unwrap().len()
}

async fn escalation_reasons_that_are_empty_nul_or_huge_are_refused(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let c = app.register(&card_complaint("13812345678")).await;
    let cid = c["id"].as_str().unwrap();
    let events_before = history_len(&app, cid).await;
    let notifications_before = notification_count(&app, "supervisor").await;
    let huge = "客户情绪非常激动".repeat(900 * 1024 / 24);
    assert!(huge.len() >= 900 * 1024 - 24 && huge.len() < 1024 * 1024 - 100);
    for (what, reason) in [("empty", String::new()), ("blank", "   ".to_string()), ("NUL", "客户\0要求升级".to_string()), ("900 KB", huge)] {
        let (status, v) = app.post("card_handler", &format!("/api/v1/complaints/{cid}/escalate"), &json!({ "reason": reason })).await;
        assert_refused(what, status, &v, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("reason"));
    }
    // Nothing was written: no event, no notification, the same version and priority.
    assert_eq!(history_len(&app, cid).await, events_before);
    assert_eq!(notification_count(&app, "supervisor").await, notifications_before);
    let (_, after) = app.get("supervisor", &format!("/api/v1/complaints/{cid}")).await;
    assert_eq!(after["version"], c["version"]);
    assert_eq!(after["priority"], c["priority"]);
    assert_eq!(app.state.store.count().await.unwrap(), 1);
    // A sound reason is taken.
    app.act("card_handler", cid, "escalate", json!({ "reason": "客户称将向监管投诉" })).await;
    assert_eq!(history_len(&app, cid).await, events_before + 1);
    assert_eq!(notification_count(&app, "supervisor").await, notifications_before + 1);
}

async fn control_characters_in_an_external_ref_are_refused(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    for (what, reference) in [("CR LF", "crm:1001\r\nX-Injected: yes"), ("LF", "crm:1001\nsecond line"), ("CR", "crm:1001\rover"), ("NUL", "crm:\u{0}1001"), ("ESC", "crm:\u{1b}[2J1001")] {
        let mut c = card_complaint("13812345678");
        c["external_ref"] = json!(reference);
        refused_registration(&app, what, bytes(&c), StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("external_ref")).await;
    }
    assert_eq!(app.state.store.count().await.unwrap(), 0);
}

async fn control_characters_in_an_attachment_name_are_refused(engine: Engine) {
    let Some((app, database)) = TestApp::start_with_database(engine).await else { return };
    let c = app.register(&card_complaint("13812345678")).await;
    let cid = c["id"].as_str().unwrap();
    for name in ["evidence\r\n.txt", "evidence.txt\r\nContent-Type: text/html", "evi\ndence.txt", "evi\u{0}dence.txt", "evi\u{7f}dence.txt"] {
        let req = app.http.post(format!("{}/api/v1/complaints/{cid}/attachments", app.base)).query(&[("filename", name)]).body(b"hello, this is the evidence".to_vec());
        let (status, _, body) = app.send("card_handler", req).await;
        let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        assert_refused(&format!("{name:?}"), status, &v, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("filename"));
    }
    let (_, after) = app.get("supervisor", &format!("/api/v1/complaints/{cid}")).await;
    assert!(after["attachments"].as_array().unwrap().is_empty(), "{after}");
    assert_eq!(after["version"], c["version"]);
    assert_eq!(database.attachment_rows(None).await, 0);
    assert_eq!(app.state.store.count().await.unwrap(), 1);
}

async fn a_name_of_zero_width_spaces_is_refused(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    for (what, name) in [("zero-width spaces", "\u{200B}\u{200B}\u{200B}"), ("zero-width mix", "\u{200B}\u{200C}\u{200D}\u{FEFF}"), ("zero-width around blanks", " \u{200B} \u{200B} ")] {
        let mut c = card_complaint("13812345678");
        c["complainant"]["name"] = json!(name);
        refused_registration(&app, what, bytes(&c), StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("complainant.name")).await;
    }
}

async fn a_complaint_received_in_year_one_is_refused(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    for at in ["0001-01-01T00:00:00Z", "1989-12-31T23:59:59Z"] {
        let mut c = card_complaint("13812345678");
        c["received_at"] = json!(at);
        refused_registration(&app, at, bytes(&c), StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("received_at")).await;
    }
}

async fn ten_thousand_staff_entries_are_refused(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let mut c = card_complaint("13812345678");
    c["respondent"]["staff"] = json!((0..10_000).map(|i| format!("柜员 {i:05}")).collect::<Vec<_>>());
    refused_registration(&app, "10,000 staff", bytes(&c), StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("respondent.staff")).await;
}

async fn an_amount_with_a_digit_separator_is_refused(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    for amount in ["1_000", "1,000", "1 000", "1e3", "+1000"] {
        let mut c = card_complaint("13812345678");
        c["amount"]["amount"] = json!(amount);
        refused_registration(&app, amount, bytes(&c), StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("amount.amount")).await;
    }
}

async fn bytes_after_the_json_body_are_refused(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let body = bytes(&card_complaint("13812345678"));
    for (what, tail) in [("text", &b" trailing"[..]), ("a second object", &b"{\"channel\":\"app\"}"[..]), ("a stray brace", &b"}"[..]), ("a NUL", &b"\0"[..])] {
        let mut with_tail = body.clone();
        with_tail.extend_from_slice(tail);
        refused_registration(&app, what, with_tail, StatusCode::BAD_REQUEST, "malformed_json", None).await;
    }
    // Whitespace after the body is no error.
    let mut spaced = body.clone();
    spaced.extend_from_slice(b" \n");
    let (status, v) = app.post_raw("intake", "/api/v1/complaints", spaced).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
}

async fn an_array_where_an_object_belongs_is_refused(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let c = card_complaint("13812345678");
    refused_registration(&app, "the body as an array", bytes(&json!([c.clone()])), StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("(body)")).await;
    // The fields of the complainant in order, as serde would take them for a struct.
    let mut listed = c.clone();
    listed["complainant"] = json!(["张三", "11010519491231002X", "13812345678", null, "individual", "zh-CN"]);
    refused_registration(&app, "complainant as an array", bytes(&listed), StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("complainant")).await;
    let mut listed = c.clone();
    listed["amount"] = json!(["5000.00", "CNY"]);
    refused_registration(&app, "amount as an array", bytes(&listed), StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("amount")).await;
    // An action body too.
    let registered = app.register(&c).await;
    let (status, v) = app.post("card_handler", &format!("/api/v1/complaints/{}/notes", registered["id"].as_str().unwrap()), &json!(["已联系客户", false])).await;
    assert_refused("a note as an array", status, &v, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("(body)"));
    let (_, after) = app.get("supervisor", &format!("/api/v1/complaints/{}", registered["id"].as_str().unwrap())).await;
    assert_eq!(after["version"], registered["version"]);
}

/// A long, realistic account: a customer retelling months of calls about one disputed charge.
fn long_narrative(chars: usize) -> String {
    let places = ["营业厅", "客服热线", "手机银行在线客服", "信用卡中心", "支行柜台"];
    let answers = [
        "对方表示已经提交给后台处理，请我耐心等待三到五个工作日",
        "对方说系统显示交易正常，无法撤销，建议我联系商户",
        "对方让我提供身份证复印件和交易截图，我当天就提交了",
        "对方承认之前的工作人员记录有误，答应重新登记",
        "对方称调查结果需要由总行统一答复，具体时间无法确定",
    ];
    let mut text = String::from("尊敬的贵行领导：我是贵行信用卡持卡人，现将我这几个月来反映一笔争议交易的全部经过如实陈述如下，请认真核查。\n");
    let mut day = 0u32;
    while text.chars().count() < chars {
        let (month, date) = (1 + (day / 28) % 12, 1 + day % 28);
        let place = places[(day as usize) % places.len()];
        let answer = answers[(day as usize * 7 + 3) % answers.len()];
        text.push_str(&format!(
            "{month}月{date}日上午十点左右，我第{n}次通过{place}反映账单上那笔{amount}元的境外消费，工号{staff:04}的工作人员接待了我，{answer}。我再次说明这笔交易发生时我本人在国内，卡片一直在身边，从未出借给他人，也没有在任何网站输入过卡号和验证码。",
            n = day + 1,
            amount = 3000 + day * 7,
            staff = 1000 + day * 13 % 9000,
        ));
        if day % 5 == 4 {
            text.push_str("\n此后我一直没有收到任何书面答复，每月账单仍然计收这笔款项的利息和滞纳金，影响了我的征信记录，我对此非常不满。\n");
        }
        day += 1;
    }
    let mut cut: String = text.chars().take(chars - 1).collect();
    cut.push('。');
    cut
}

async fn a_long_narrative_is_registered_whole(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let narrative = long_narrative(35_000);
    assert_eq!(narrative.chars().count(), 35_000);
    let mut c = card_complaint("13812345678");
    c["narrative"] = json!(narrative);
    let (status, v) = app.post("intake", "/api/v1/complaints", &c).await;
    assert_eq!(status, StatusCode::CREATED, "{}", v["error"]);
    let (_, stored) = app.get("card_handler", &format!("/api/v1/complaints/{}", v["id"].as_str().unwrap())).await;
    assert_eq!(stored["narrative"].as_str().unwrap(), narrative);
    // Findable like any other.
    let (_, found) = app.get("card_handler", "/api/v1/search?q=%E5%A2%83%E5%A4%96%E6%B6%88%E8%B4%B9").await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1, "{found}");
}

/// The longest consumer narrative in the CFPB files of the shared data folder, with its
/// complaint ID, or `None` when the folder is absent or holds no narrative.
fn longest_cfpb_narrative() -> Option<(String, String)> {
    // The shared data folder sits beside the repository: `../shared/data`.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/cfpb");
    let mut files: Vec<_> = std::fs::read_dir(&dir).ok()?.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "csv")).collect();
    files.sort();
    let mut best: Option<(usize, String, String)> = None;
    for file in files {
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_path(&file).expect("open a CFPB file");
        let headers = reader.byte_headers().expect("CFPB headers").clone();
        let column = |name: &str| headers.iter().position(|h| String::from_utf8_lossy(h).trim().replace('_', " ").eq_ignore_ascii_case(name));
        let (Some(narrative), id) = (column("consumer complaint narrative"), column("complaint id")) else { continue };
        let mut record = csv::ByteRecord::new();
        while reader.read_byte_record(&mut record).expect("a CFPB row") {
            let Some(text) = record.get(narrative) else { continue };
            if text.is_empty() {
                continue;
            }
            let text = String::from_utf8_lossy(text);
            let chars = text.chars().count();
            if best.as_ref().is_none_or(|(n, _, _)| chars > *n) {
                let complaint_id = id.and_then(|i| record.get(i)).map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default();
                best = Some((chars, text.into_owned(), complaint_id));
            }
        }
    }
    best.map(|(_, text, complaint_id)| (text, complaint_id))
}

async fn the_longest_real_cfpb_narrative_is_registered(engine: Engine) {
    let Some((narrative, complaint_id)) = longest_cfpb_narrative() else {
        eprintln!("skipping: no CFPB narratives (the shared data folder ../shared/data/cfpb is absent or has none)");
        return;
    };
    let Some(app) = TestApp::start(engine).await else { return };
    let chars = narrative.chars().count();
    eprintln!("the longest CFPB narrative: complaint {complaint_id}, {chars} characters");
    let body = json!({
        "channel": "web",
        "complainant": { "name": "CFPB consumer", "language": "en" },
        "respondent": { "unit": "HO" },
        "request": "Investigate and correct the problem described.",
        "narrative": narrative,
        "external_ref": format!("cfpb:{complaint_id}"),
    });
    let (status, v) = app.post("intake", "/api/v1/complaints", &body).await;
    assert_eq!(status, StatusCode::CREATED, "complaint {complaint_id} ({chars} characters): {}", v["error"]);
    let (_, stored) = app.get("supervisor", &format!("/api/v1/complaints/{}", v["id"].as_str().unwrap())).await;
    // Stored whole: line breaks are kept as `\n`, nothing else changes.
    let expected = narrative.trim().replace("\r\n", "\n").replace('\r', "\n");
    assert_eq!(stored["narrative"].as_str().unwrap(), expected);
}

/// A NUL byte cannot be stored in PostgreSQL text, so one that reaches a query as a bound
/// value fails there: every identifier and filter value must be answered as a client error (or
/// as matching nothing), never as a 500.
async fn nul_bytes_in_ids_and_filters_are_client_errors(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let c = app.register(&card_complaint("13812345678")).await;
    let cid = c["id"].as_str().unwrap();
    let paths = [
        "/api/v1/complaints/%00".to_string(),
        "/api/v1/complaints/TS-20250120-%00/history".to_string(),
        "/api/v1/complaints/%00/similar".to_string(),
        "/api/v1/complaints/%00/reading".to_string(),
        format!("/api/v1/complaints/{cid}/attachments/%00"),
        "/api/v1/incidents/%00".to_string(),
        "/api/v1/profiles/%00".to_string(),
        "/api/v1/complaints?department=%00".to_string(),
        "/api/v1/complaints?handler=%00".to_string(),
        "/api/v1/complaints?severity=%00".to_string(),
        "/api/v1/complaints?business_type=B03%00".to_string(),
        "/api/v1/search?q=%E7%9B%97%E5%88%B7&department=%00".to_string(),
        "/api/v1/search?q=%E7%9B%97%E5%88%B7&category=%00".to_string(),
        "/api/v1/search?q=%E7%9B%97%E5%88%B7&cause=%00".to_string(),
        "/api/v1/search?q=ab%00cd".to_string(),
    ];
    let mut server_errors = Vec::new();
    for path in &paths {
        let (status, v) = app.get("supervisor", path).await;
        if status.is_server_error() {
            server_errors.push(format!("{path}: {status} {v}"));
            continue;
        }
        if status.is_client_error() {
            assert!(v["error"]["code"].is_string(), "{path}: {v}");
        } else {
            assert_eq!(status, StatusCode::OK, "{path}: {v}");
            assert!(v["items"].as_array().is_some_and(|i| i.is_empty()), "{path} matches nothing: {v}");
        }
    }
    let posts = [
        ("/api/v1/complaints/%00/notes".to_string(), json!({ "text": "x" })),
        (format!("/api/v1/complaints/{cid}/assign"), json!({ "handler": "card_handler\u{0}" })),
        (format!("/api/v1/complaints/{cid}/transfer"), json!({ "department": "SH-CARD", "handler": "\u{0}", "reason": "x" })),
    ];
    for (path, body) in &posts {
        let (status, v) = app.post("supervisor", path, body).await;
        if status.is_server_error() {
            server_errors.push(format!("POST {path} {body}: {status} {v}"));
        } else {
            assert!(status.is_client_error(), "POST {path} {body}: {status} {v}");
        }
    }
    assert!(server_errors.is_empty(), "server errors:\n{}", server_errors.join("\n"));
    // The complaint is untouched.
    let (_, after) = app.get("supervisor", &format!("/api/v1/complaints/{cid}")).await;
    assert_eq!(after["version"], c["version"]);
}
