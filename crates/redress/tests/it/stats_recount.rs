//! The statistics equal a recount: random sequences of registrations and actions (transfer,
//! reopen, merge, withdraw, review, extension, decline, decisions, follow-ups, overdue
//! escalation by the sweep) through the real API, then
//!
//! - the stored cells equal the sum of `cells_of` over every stored complaint, exactly, and
//! - the analysis the API answers equals counts taken directly from the complaint records
//!   (received per department and per business type, closings by status, follow-ups by
//!   satisfaction, on-time closings), for several periods,
//!
//! on SQLite and on PostgreSQL.

use std::collections::BTreeMap;

use jiff::civil::Date;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use redress_analytics::cells::{cells_of, sum};
use redress_domain::complaint::Complaint;
use redress_store::ComplaintFilter;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::on_both_engines;
use crate::support::{Engine, TestApp};

on_both_engines!(statistics_equal_a_recount_after_random_work);

const PHONES: [&str; 5] = ["13800000001", "13800000002", "13800000003", "13800000004", "13800000005"];
const UNITS: [&str; 4] = ["SH", "SH-PD", "GZ", "HO"];
const CHANNELS: [&str; 4] = ["hotline", "web", "branch", "letter"];
const DEPARTMENTS: [&str; 4] = ["SH-CARD", "SH-CP", "GZ-CP", "HO-CP"];
const NARRATIVES: [&str; 4] = [
    "信用卡被盗刷5000元，客服态度很差，我要向银保监会投诉",
    "理财产品销售时没有说明风险，亏损严重，要求赔偿",
    "贷款提前还款被收取高额违约金，不合理",
    "手机银行转账失败但扣款了，多次联系无果，要找媒体曝光",
];

fn new_complaint(rng: &mut StdRng, when: &str) -> Value {
    let mut body = json!({
        "channel": CHANNELS[rng.random_range(0..CHANNELS.len())],
        "received_at": when,
        "complainant": {
            "name": "王五",
            "phone": PHONES[rng.random_range(0..PHONES.len())],
            "customer_type": (["individual", "elderly", "vulnerable", "small_business"][rng.random_range(0..4)]),
        },
        "respondent": { "unit": UNITS[rng.random_range(0..UNITS.len())], "staff": [format!("员工{}", rng.random_range(0..3))] },
        "product": (["信用卡", "理财", "贷款"][rng.random_range(0..3)]),
        "request": "要求处理并答复",
        "narrative": NARRATIVES[rng.random_range(0..NARRATIVES.len())],
    });
    if rng.random_bool(0.6) {
        body["amount"] = json!({ "amount": format!("{}.{:02}", rng.random_range(1..200_000), rng.random_range(0..100)), "currency": "CNY" });
    }
    if rng.random_bool(0.2) {
        body["agent"] = json!({ "name": "李律师", "relationship": "律师", "power_of_attorney": true });
    }
    body
}

/// One random action on a random complaint: (who, action, body).
fn random_action(rng: &mut StdRng, ids: &[String], decline_reason: &str) -> (&'static str, &'static str, Value) {
    let other = ids[rng.random_range(0..ids.len())].clone();
    match rng.random_range(0..22) {
        0 => ("admin", "accept", json!({})),
        1 | 2 => ("admin", "start-investigation", json!({})),
        3 => ("admin", "transfer", json!({ "department": DEPARTMENTS[rng.random_range(0..DEPARTMENTS.len())], "reason": "转办" })),
        4 => ("admin", "propose-resolution", json!({ "kind": "explanation", "summary": "解释说明" })),
        5 => ("admin", "propose-resolution", json!({ "kind": "refund", "amount": { "amount": "300.50", "currency": "CNY" }, "summary": "退款" })),
        6 => ("admin", "propose-resolution", json!({ "kind": "compensation", "amount": { "amount": "8000", "currency": "CNY" }, "summary": "赔偿" })),
        7 => ("supervisor", "approve-resolution", json!({})),
        8 | 9 => ("admin", "decide", json!({ "verification": "核实", "basis": "依据", "reasons": "理由" })),
        10 => ("admin", "follow-up", json!({ "satisfaction": "satisfied" })),
        11 => ("admin", "follow-up", json!({ "satisfaction": "dissatisfied", "comments": "不满意" })),
        12 => ("admin", "reopen", json!({ "reason": "客户补充材料" })),
        13 => ("intake", "request-review", json!({ "reason": "申请核查" })),
        14 => ("admin", "merge", json!({ "target": other })),
        15 => ("admin", "withdraw", json!({ "reason": "客户撤回" })),
        16 => ("admin", "request-extension", json!({ "reason": "情况复杂" })),
        17 => ("supervisor", "decide-extension", json!({ "approve": rng.random_bool(0.7) })),
        18 => ("admin", "decline", json!({ "reason": decline_reason })),
        19 => ("admin", "close", json!({})),
        20 => ("admin", "classification", json!({ "dimension": "cause", "code": (["C01", "C02", "C03"][rng.random_range(0..3)]) })),
        _ => ("admin", "escalate", json!({ "reason": "客户情绪激动" })),
    }
}

async fn all_complaints(app: &TestApp) -> Vec<Complaint> {
    let mut out = Vec::new();
    let mut filter = ComplaintFilter { limit: 200, ..Default::default() };
    loop {
        let page = app.state.store.list(&filter).await.unwrap();
        let ids: Vec<_> = page.items.iter().map(|s| s.id).collect();
        out.extend(app.state.store.complaints(&ids).await.unwrap());
        match page.next {
            Some(next) => filter.after = Some(next),
            None => break,
        }
    }
    out
}

fn local_date(app: &TestApp, at: jiff::Timestamp) -> Date {
    at.to_zoned(redress_domain::complaint::time_zone(app.state.rules.default_rules())).date()
}

async fn statistics_equal_a_recount_after_random_work(engine: Engine) {
    for seed in [7u64, 1_2345, 2_718_281] {
        let Some(app) = TestApp::start(engine).await else { return };
        let mut rng = StdRng::seed_from_u64(seed);
        let decline_reason = app.state.rules.default_rules().profile.decline_reasons[0].code.clone();
        let mut ids: Vec<String> = Vec::new();
        // The status of each, as the last answer gave it: actions go to complaints not ended.
        let mut status_of: BTreeMap<String, String> = BTreeMap::new();
        let (mut refused, mut done) = (0, 0);
        for step in 0..120 {
            if ids.is_empty() || rng.random_bool(0.3) {
                let when = (app.clock_now() - jiff::SignedDuration::from_hours(rng.random_range(0..30))).to_string();
                let c = app.register(&new_complaint(&mut rng, &when)).await;
                ids.push(c["id"].as_str().unwrap().to_string());
                status_of.insert(c["id"].as_str().unwrap().to_string(), c["status"].as_str().unwrap().to_string());
            } else {
                // A few tries for an action the complaint's status allows; every refusal must
                // have written nothing, which the recount checks too.
                let open: Vec<&String> = ids.iter().filter(|i| !["declined", "archived", "merged", "withdrawn"].contains(&status_of[*i].as_str())).collect();
                if open.is_empty() {
                    continue;
                }
                let id = open[rng.random_range(0..open.len())].clone();
                for _ in 0..8 {
                    let (who, action, body) = random_action(&mut rng, &ids, &decline_reason);
                    let (status, v) = app.post(who, &format!("/api/v1/complaints/{id}/{action}"), &body).await;
                    match status {
                        StatusCode::OK => {
                            done += 1;
                            status_of.insert(id.clone(), v["status"].as_str().unwrap_or_default().to_string());
                            break;
                        }
                        s if s.is_client_error() => refused += 1,
                        s => panic!("seed {seed} step {step}: {action} gave {s}: {v}"),
                    }
                }
            }
            if rng.random_bool(0.15) {
                app.advance_days(rng.random_range(1..12));
                redress_app::jobs::sweep(&app.state).await.unwrap();
            }
        }
        assert!(done > 40, "seed {seed}: only {done} actions succeeded ({refused} refused): the sequence tests too little");

        let complaints = all_complaints(&app).await;
        assert_eq!(complaints.len(), ids.len());
        let tz = redress_domain::complaint::time_zone(app.state.rules.default_rules());
        let recount = sum(complaints.iter().flat_map(|c| cells_of(c, &tz)));
        let stored = sum(app.state.store.stat_cells().await.unwrap());
        assert_eq!(stored.len(), recount.len(), "seed {seed}: {} stored cells, {} recounted", stored.len(), recount.len());
        for (key, value) in &recount {
            assert_eq!(stored.get(key), Some(value), "seed {seed}: cell {key:?}");
        }

        // The analysis against counts taken straight from the records, for a few periods.
        let first = complaints.iter().map(|c| local_date(&app, c.received_at)).min().unwrap();
        let last = local_date(&app, app.clock_now());
        let middle = first.checked_add(jiff::Span::new().days((last - first).get_days() / 2)).unwrap();
        let mut business_filtered = 0;
        for (from, to) in [(first, last), (first, middle), (middle, last)] {
            let (status, a) = app.get("supervisor", &format!("/api/v1/analysis?from={from}&to={to}")).await;
            assert_eq!(status, StatusCode::OK, "{a}");
            let within = |d: Date| d >= from && d <= to;
            let received: Vec<&Complaint> = complaints.iter().filter(|c| within(local_date(&app, c.received_at))).collect();
            assert_eq!(a["received"], json!(received.len()), "seed {seed} {from}..{to}: received");
            let mut by_department: BTreeMap<String, i64> = BTreeMap::new();
            let mut by_business: BTreeMap<String, i64> = BTreeMap::new();
            for c in &received {
                *by_department.entry(c.owner.department.clone()).or_default() += 1;
                *by_business.entry(c.classification.business_type.as_ref().map(|l| l.code.clone()).unwrap_or_default()).or_default() += 1;
            }
            assert_eq!(groups(&a["departments"]), by_department, "seed {seed} {from}..{to}: departments");
            assert_eq!(groups(&a["business_types"]), by_business, "seed {seed} {from}..{to}: business types");
            let mut closed: BTreeMap<String, i64> = BTreeMap::new();
            let (mut on_time, mut late) = (0, 0);
            for closing in complaints.iter().flat_map(|c| &c.closings).filter(|cl| within(local_date(&app, cl.at))) {
                *closed.entry(closing.status.as_str().to_string()).or_default() += 1;
                if closing.on_time { on_time += 1 } else { late += 1 }
            }
            assert_eq!(groups(&a["closed"]), closed, "seed {seed} {from}..{to}: closings");
            assert_eq!(a["on_time"], json!([on_time, late]), "seed {seed} {from}..{to}: on time");
            // Filtered by a complaint dimension, the analysis reads the cells themselves (the
            // unfiltered one reads the daily rollup): both must agree with the records.
            let (status, hotline) = app.get("supervisor", &format!("/api/v1/analysis?from={from}&to={to}&channel=hotline")).await;
            assert_eq!(status, StatusCode::OK, "{hotline}");
            let by_phone: Vec<&&Complaint> = received.iter().filter(|c| c.channel.as_str() == "hotline").collect();
            assert_eq!(hotline["received"], json!(by_phone.len()), "seed {seed} {from}..{to}: received by hotline");
            let mut phone_departments: BTreeMap<String, i64> = BTreeMap::new();
            for c in &by_phone {
                *phone_departments.entry(c.owner.department.clone()).or_default() += 1;
            }
            assert_eq!(groups(&hotline["departments"]), phone_departments, "seed {seed} {from}..{to}: hotline departments");
            // Filtered by business type, it reads the rollups keyed by business type; the
            // prefix is the top level of the most common code, so sub-codes count too.
            let Some(prefix) = by_business.iter().filter(|(k, _)| k.len() >= 3).max_by_key(|(_, n)| **n).map(|(k, _)| k[..3].to_string()) else {
                continue;
            };
            let (status, line) = app.get("supervisor", &format!("/api/v1/analysis?from={from}&to={to}&business_type={prefix}")).await;
            assert_eq!(status, StatusCode::OK, "{line}");
            let of_line: Vec<&&Complaint> =
                received.iter().filter(|c| c.classification.business_type.as_ref().is_some_and(|l| l.code.starts_with(&prefix))).collect();
            assert_eq!(line["received"], json!(of_line.len()), "seed {seed} {from}..{to}: received of {prefix}");
            let count = |f: &dyn Fn(&Complaint) -> String| {
                let mut m: BTreeMap<String, i64> = BTreeMap::new();
                for c in &of_line {
                    *m.entry(f(c)).or_default() += 1;
                }
                m
            };
            let code = |l: &Option<redress_domain::classify::Label>| l.as_ref().map(|l| l.code.clone()).unwrap_or_default();
            assert_eq!(groups(&line["departments"]), count(&|c| c.owner.department.clone()), "seed {seed} {from}..{to}: departments of {prefix}");
            assert_eq!(groups(&line["business_types"]), count(&|c| code(&c.classification.business_type)), "seed {seed} {from}..{to}: business types of {prefix}");
            assert_eq!(groups(&line["causes"]), count(&|c| code(&c.classification.cause)), "seed {seed} {from}..{to}: causes of {prefix}");
            assert_eq!(groups(&line["channels"]), count(&|c| c.channel.as_str().to_string()), "seed {seed} {from}..{to}: channels of {prefix}");
            let trend: i64 = line["trend"].as_array().unwrap().iter().map(|p| p["n"].as_i64().unwrap()).sum();
            assert_eq!(trend, of_line.len() as i64, "seed {seed} {from}..{to}: trend of {prefix}");
            business_filtered += 1;
        }
        assert!(business_filtered > 0, "seed {seed}: no period had a business type to filter by");
        eprintln!("{engine:?} seed {seed}: {} complaints, {done} actions done, {refused} refused, {} cells", complaints.len(), stored.len());
    }
}

/// A breakdown from the API as key → count (groups with a zero count left out).
fn groups(v: &Value) -> BTreeMap<String, i64> {
    v.as_array()
        .unwrap()
        .iter()
        .filter(|g| g["n"].as_i64().unwrap() != 0)
        .map(|g| (g["key"].as_str().unwrap().to_string(), g["n"].as_i64().unwrap()))
        .collect()
}
