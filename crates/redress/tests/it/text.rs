//! Text intelligence through the API and the store: search with total recall, snippets,
//! filters and visibility; similar complaints; incidents; analysis; trained models in use.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::on_both_engines;
use crate::support::{Engine, TestApp, card_complaint};

on_both_engines!(
    a_complaint_is_findable_the_moment_it_is_acknowledged,
    search_finds_every_complaint_containing_the_query,
    search_honours_filters_and_department_visibility,
    notes_and_customer_messages_are_searchable_and_read,
    similar_complaints_and_template_wording,
    complaints_about_one_problem_form_an_incident,
    analyze_reads_emotion_risk_and_classification,
    a_trained_model_classifies_new_complaints,
);

/// A complaint with the given texts and complainant phone, against the Shanghai branch.
fn complaint(narrative: &str, request: &str, phone: &str, name: &str) -> Value {
    json!({
        "channel": "app",
        "complainant": { "name": name, "phone": phone, "customer_type": "individual" },
        "respondent": { "unit": "SH" },
        "request": request,
        "narrative": narrative,
    })
}

fn numbers(v: &Value) -> BTreeSet<String> {
    v["items"].as_array().unwrap().iter().map(|i| i["number"].as_str().unwrap().to_string()).collect()
}

async fn search(app: &TestApp, who: &str, query: &str) -> Value {
    let q: String = url_escape(query);
    let (status, v) = app.get(who, &format!("/api/v1/search?q={q}&limit=100")).await;
    assert_eq!(status, StatusCode::OK, "{query}: {v}");
    v
}

fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

async fn a_complaint_is_findable_the_moment_it_is_acknowledged(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let c = app.register(&card_complaint("13812345678")).await;
    // No wait, no refresh: the index entry was committed with the complaint.
    let v = search(&app, "supervisor", "盗刷").await;
    assert_eq!(numbers(&v), BTreeSet::from([c["number"].as_str().unwrap().to_string()]), "{v}");
    assert_eq!(v["total"], 1);
    assert_eq!(v["ranking"], "relevance");
    let narrative = &v["items"][0]["snippets"]["narrative"];
    assert!(narrative["html"].as_str().unwrap().contains("<mark>盗刷</mark>"), "{narrative}");
    // The request field matched too, and is highlighted on its own.
    assert!(v["items"][0]["snippets"]["request"]["text"].as_str().unwrap().contains("盗刷"));

    let huabei = app.register(&complaint("我的蚂蚁花呗借呗逾期了，但是我已经还清了", "要求核实并更正记录", "13900000001", "李四")).await;
    let etc = app.register(&complaint("高速ETC扣费两次，银行卡被重复扣款", "退还多扣的费用", "13900000002", "王五")).await;
    assert_eq!(numbers(&search(&app, "supervisor", "花呗").await), BTreeSet::from([huabei["number"].as_str().unwrap().to_string()]));
    assert_eq!(numbers(&search(&app, "supervisor", "ETC").await), BTreeSet::from([etc["number"].as_str().unwrap().to_string()]));
    // Traditional characters and full-width letters find the simplified, half-width text.
    assert_eq!(numbers(&search(&app, "supervisor", "銀行卡").await), BTreeSet::from([etc["number"].as_str().unwrap().to_string()]));
    assert_eq!(numbers(&search(&app, "supervisor", "ｅｔｃ扣费").await), BTreeSet::from([etc["number"].as_str().unwrap().to_string()]));
    // Two words: both must occur.
    assert_eq!(numbers(&search(&app, "supervisor", "信用卡 客服").await).len(), 1);
    assert!(numbers(&search(&app, "supervisor", "信用卡 花呗").await).is_empty());
    // A query too short to mean anything is refused, naming the field.
    let (status, v) = app.get("supervisor", "/api/v1/search?q=%E5%8D%A1").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"]["field"], "q");
    let (status, _) = app.get("supervisor", "/api/v1/search").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// Own Chinese complaint texts: every substring of two to four characters of every text is
/// searched for, and the results must be exactly the texts that contain it.
const CORPUS: &[&str] = &[
    "信用卡年费未经同意被扣收，客服称系统自动扣费",
    "蚂蚁花呗借呗逾期记录有误，影响房贷审批",
    "理财产品到期未兑付，销售人员承诺保本保息",
    "ETC扣费两次，银行卡余额不足导致罚息",
    "网银转账失败但资金被扣，三天未退回",
    "柜员态度恶劣，办理挂失等候两个小时",
    "代理退保机构冒充银行工作人员联系我",
    "车险理赔被拒，保险公司说不在保障范围",
    "征信修复公司收取高额费用后失联",
    "停息挂账申请被拒绝，催收电话每天骚扰家人",
    "手机银行登录异常，验证码收不到",
    "信用卡分期手续费远高于宣传的费率",
];

async fn search_finds_every_complaint_containing_the_query(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let mut by_number = Vec::new();
    for (i, text) in CORPUS.iter().enumerate() {
        let c = app.register(&complaint(text, "请核实处理", &format!("1380000{i:04}"), &format!("客户{i}"))).await;
        by_number.push((c["number"].as_str().unwrap().to_string(), *text));
    }
    let mut queries = BTreeSet::new();
    for text in CORPUS {
        let chars: Vec<char> = text.chars().collect();
        for len in 2..=4 {
            for start in (0..chars.len().saturating_sub(len - 1)).step_by(3) {
                queries.insert(chars[start..start + len].iter().collect::<String>());
            }
        }
    }
    let mut checked = 0;
    for q in &queries {
        let Ok(parsed) = redress_text::SearchQuery::parse(q) else { continue };
        let expected: BTreeSet<String> = by_number
            .iter()
            .filter(|(_, text)| redress_text::matches(text, &parsed) || redress_text::matches("请核实处理", &parsed))
            .map(|(n, _)| n.clone())
            .collect();
        let results = app
            .state
            .store
            .search(&redress_store::SearchRequest {
                phrases: redress_app::text::phrases(&parsed),
                limit: 100,
                ..Default::default()
            })
            .await
            .unwrap();
        let found: BTreeSet<String> = results.hits.iter().map(|h| h.complaint.number.clone()).collect();
        assert_eq!(found, expected, "query {q:?}");
        checked += 1;
    }
    assert!(checked > 100, "only {checked} queries checked");
}

async fn search_honours_filters_and_department_visibility(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let card = app.register(&card_complaint("13812345678")).await;
    let mut other = complaint("我在广州分行办理业务时信用卡被冻结", "解冻信用卡", "13912345678", "赵六");
    other["respondent"]["unit"] = json!("GZ");
    let gz = app.register(&other).await;
    assert_eq!(numbers(&search(&app, "supervisor", "信用卡").await).len(), 2);
    // A card handler in Shanghai sees only their department's complaints.
    let v = search(&app, "card_handler", "信用卡").await;
    assert_eq!(numbers(&v), BTreeSet::from([card["number"].as_str().unwrap().to_string()]), "{v}");
    // Branch (the owning departments of a unit and its sub-branches), status and date filters.
    // Credit cards raised in Guangzhou go to the head-office card centre (no card department
    // there), so the Shanghai branch owns only its own.
    assert_eq!(gz["owner"]["department"], "HO-CARD");
    let (_, v) = app.get("supervisor", &format!("/api/v1/search?q={}&branch=SH", url_escape("信用卡"))).await;
    assert_eq!(numbers(&v), BTreeSet::from([card["number"].as_str().unwrap().to_string()]), "{v}");
    let (_, v) = app.get("supervisor", &format!("/api/v1/search?q={}&branch=GZ", url_escape("信用卡"))).await;
    assert!(numbers(&v).is_empty(), "{v}");
    let (_, v) = app.get("supervisor", &format!("/api/v1/search?q={}&status=closed", url_escape("信用卡"))).await;
    assert!(numbers(&v).is_empty(), "{v}");
    let (_, v) = app.get("supervisor", &format!("/api/v1/search?q={}&received_from=2030-01-01", url_escape("信用卡"))).await;
    assert!(numbers(&v).is_empty(), "{v}");
    let (status, v) = app.get("supervisor", &format!("/api/v1/search?q={}&branch=NOPE", url_escape("信用卡"))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"]["field"], "branch");
    let (status, v) = app.get("supervisor", &format!("/api/v1/search?q={}&status=sleeping", url_escape("信用卡"))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
}

async fn notes_and_customer_messages_are_searchable_and_read(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let c = app.register(&card_complaint("13812345678")).await;
    let id = c["id"].as_str().unwrap();
    assert!(numbers(&search(&app, "supervisor", "派出所").await).is_empty());
    app.act("card_handler", id, "notes", json!({ "text": "客户来电：已经去派出所报案，非常着急，担心钱追不回来", "customer_contact": true })).await;
    assert_eq!(numbers(&search(&app, "supervisor", "派出所").await).len(), 1);
    let (status, r) = app.get("supervisor", &format!("/api/v1/complaints/{id}/reading")).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    let reading = &r["reading"];
    assert!(reading["negative_score"].as_f64().unwrap() > 0.5, "{r}");
    assert!(!reading["keywords"].as_array().unwrap().is_empty(), "{r}");
    let messages = reading["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "{r}");
    assert_eq!(messages[0]["emotion"]["emotion"], "anxiety", "{r}");
}

async fn similar_complaints_and_template_wording(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let template = "本人因经济困难无法按期还款，贵行暴力催收严重影响本人生活，现申请停息挂账，减免全部息费，并修复征信，否则将向金融监管总局投诉";
    let first = app.register(&complaint(template, "停息挂账，减免息费", "13800000001", "陈一")).await;
    app.register(&complaint("网银转账失败但资金被扣，三天未退回", "退回资金", "13800000002", "周二")).await;
    let copy = app.register(&complaint(&template.replace("本人", "我"), "停息挂账，减免息费", "13800000003", "吴三")).await;
    let (status, v) = app.get("supervisor", &format!("/api/v1/complaints/{}/similar", copy["id"].as_str().unwrap())).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "only the template complaint resembles it: {v}");
    assert_eq!(items[0]["number"], first["number"]);
    assert_eq!(items[0]["near_duplicate"], true, "{v}");
    assert_eq!(items[0]["same_complainant"], false, "{v}");
    assert!(items[0]["similarity"].as_f64().unwrap() >= 0.6, "{v}");
    // The first complaint has no earlier one like it.
    let (_, v) = app.get("supervisor", &format!("/api/v1/complaints/{}/similar", first["id"].as_str().unwrap())).await;
    assert!(v["items"].as_array().unwrap().is_empty(), "{v}");
}

/// Customers writing, each in their own words, that an on-time repayment was shown as overdue.
const OVERDUE: &[&str] = &[
    "我的房贷明明按时还款了，系统却显示逾期，还影响了征信",
    "本月按时还款，手机银行上却显示贷款逾期，请尽快核实处理",
    "我昨天已经按时还款成功，今天收到短信说贷款逾期了，系统是不是出问题了",
    "已按时还款却被系统标记逾期，要求更正并消除征信影响",
    "还款日当天就按时还款了，现在系统显示逾期还产生了罚息",
    "按时还款后系统显示贷款逾期，产生罚息，要求退还罚息",
    "我每月都按时还款，这次系统显示逾期，征信受影响",
    "按时还款成功但系统显示逾期，客服说系统故障，要求修复征信",
];

async fn complaints_about_one_problem_form_an_incident(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    for (i, text) in CORPUS.iter().enumerate() {
        app.register(&complaint(text, "请核实处理", &format!("1370000{i:04}"), &format!("客户{i}"))).await;
    }
    let mut overdue = BTreeSet::new();
    for (i, text) in OVERDUE.iter().enumerate() {
        app.clock.advance(jiff::SignedDuration::from_mins(37));
        let c = app.register(&complaint(text, "请核实并更正", &format!("1360000{i:04}"), &format!("用户{i}"))).await;
        overdue.insert(c["number"].as_str().unwrap().to_string());
    }
    let report = redress_app::intelligence::detect_incidents(&*app.state.store, Default::default(), app.clock_now()).await.unwrap();
    assert_eq!(report.examined, CORPUS.len() + OVERDUE.len());
    assert_eq!(report.created, 1, "{report:?}");
    let (status, v) = app.get("supervisor", "/api/v1/incidents").await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let incidents = v["items"].as_array().unwrap();
    assert_eq!(incidents.len(), 1, "{v}");
    let label = incidents[0]["label"].as_str().unwrap();
    assert!(label.contains("逾期"), "{label}");
    let (_, detail) = app.get("supervisor", &format!("/api/v1/incidents/{}", incidents[0]["id"].as_str().unwrap())).await;
    let members: BTreeSet<String> = detail["complaints"].as_array().unwrap().iter().map(|c| c["number"].as_str().unwrap().to_string()).collect();
    assert!(members.is_subset(&overdue), "only overdue complaints: {detail}");
    assert!(members.len() >= 6, "most of the {} overdue complaints: {detail}", overdue.len());
    assert!(detail["rate_per_day"].as_f64().unwrap() > 0.0);
    // A second pass finds nothing new; a later complaint about the same problem joins.
    let again = redress_app::intelligence::detect_incidents(&*app.state.store, Default::default(), app.clock_now()).await.unwrap();
    assert_eq!(again.examined, 0);
    app.register(&complaint("按时还款了，系统还是显示逾期，征信受影响，要求更正", "更正", "13500000000", "新用户")).await;
    let later = redress_app::intelligence::detect_incidents(&*app.state.store, Default::default(), app.clock_now()).await.unwrap();
    assert_eq!((later.examined, later.joined, later.created), (1, 1, 0), "{later:?}");
    // Handlers do not see incident lists.
    let (status, _) = app.get("card_handler", "/api/v1/incidents").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn analyze_reads_emotion_risk_and_classification(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let (status, v) = app.post("intake", "/api/v1/analyze", &json!({ "text": "我的信用卡被盗刷，我非常不满意你们的处理，再不解决我就打12378投诉并找媒体曝光" })).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert!(v["negative_score"].as_f64().unwrap() > 0.6, "{v}");
    assert_ne!(v["emotion"], "neutral");
    assert_ne!(v["emotion"], "satisfaction");
    let flags: Vec<&str> = v["risk_flags"].as_array().unwrap().iter().map(|f| f["kind"].as_str().unwrap()).collect();
    assert!(flags.contains(&"regulator_threat") && flags.contains(&"media_exposure"), "{v}");
    let regulator = v["risk_flags"].as_array().unwrap().iter().find(|f| f["kind"] == "regulator_threat").unwrap();
    assert!(regulator["phrase"].as_str().unwrap().contains("12378"), "{regulator}");
    assert_eq!(v["classification"]["business_type"]["code"], "B0302", "{v}");
    let (_, calm) = app.post("intake", "/api/v1/analyze", &json!({ "text": "问题已经解决了，非常满意，谢谢你们" })).await;
    assert!(calm["negative_score"].as_f64().unwrap() < 0.4, "{calm}");
    // Bad input: a clear error naming the field.
    let (status, v) = app.post("intake", "/api/v1/analyze", &json!({ "text": "  " })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"]["field"], "text");
    let (status, v) = app.post("intake", "/api/v1/analyze", &json!({ "txt": "x" })).await;
    assert!(status.is_client_error(), "{v}");
}

async fn a_trained_model_classifies_new_complaints(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    // Labels an institution might keep: its own cause codes for wording the rules do not know.
    let mut examples = Vec::new();
    for i in 0..30 {
        examples.push(redress_learn::Example { text: format!("第{i}次 柜台排队太久 叫号系统故障 等了很久"), label: "C02".into() });
        examples.push(redress_learn::Example { text: format!("第{i}次 工作人员说话难听 服务差 不耐烦"), label: "C01".into() });
    }
    let model = redress_learn::Model::train(&examples, &redress_learn::TrainConfig::default()).unwrap();
    let info = redress_store::ModelInfo {
        id: "m-test-cause".into(),
        target: "cause".into(),
        created_at: app.clock_now(),
        active: true,
        summary: json!({ "examples": examples.len() }),
        bytes: 0,
    };
    app.state.store.put_model(info, model.to_bytes()).await.unwrap();
    let in_use = redress_app::intelligence::refresh_models(&*app.state.store, &app.state.insight).await.unwrap();
    assert_eq!(in_use, vec!["m-test-cause".to_string()]);
    let c = app.register(&complaint("今天去网点，叫号系统故障，柜台排队太久", "改进", "13800009999", "钱七")).await;
    assert_eq!(c["classification"]["cause"]["code"], "C02", "{}", c["classification"]);
    let (_, r) = app.get("supervisor", &format!("/api/v1/complaints/{}/reading", c["id"].as_str().unwrap())).await;
    let predictions = r["reading"]["predictions"].as_array().unwrap();
    assert_eq!(predictions[0]["model"], "m-test-cause", "{r}");
    assert_eq!(predictions[0]["applied"], true, "{r}");
    let (status, v) = app.get("admin", "/api/v1/models").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["in_use"], json!(["m-test-cause"]));
    let (status, _) = app.get("card_handler", "/api/v1/models").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
