//! The permission matrix of `docs/PERMISSIONS.md` through the HTTP API: every role of the
//! standard users (and a consumer-protection handler and a head of a department with no
//! complaints, added here) on complaints of its own department, of an overseen department and of
//! another, for every read and for the actions whose lifecycle state the test can prepare.
//!
//! What to expect comes from the table in force (`redress_app::policy::permits`), and the table
//! itself is held to a few rows written out by hand: who sees which department, and the rows the
//! issue named (intake agents never withdraw, department heads never approve a resolution above
//! the threshold, a handler of one department neither sees nor acts on another's).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use redress_app::policy::{self, Grant, Operation};
use redress_domain::org::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::on_both_engines;
use crate::support::{Engine, TestApp};

on_both_engines!(
    permission_matrix,
    permission_matrix_actions,
    the_rows_named_in_the_issue_hold,
    notifications_follow_what_the_caller_may_see,
);

/// The departments complaints are made in: a branch department (SH-CARD), the
/// consumer-protection department of its branch, which oversees it (SH-CP), another branch's
/// consumer protection (GZ-CP) and head office's (HO-CP), which oversees every other one.
const DEPARTMENTS: [&str; 4] = ["SH-CARD", "SH-CP", "GZ-CP", "HO-CP"];

/// Who sees a complaint of each of [`DEPARTMENTS`], written out by hand from the table: "see" is
/// `any` for intake agents, supervisors, auditors and admins, `own` for handlers, and
/// `own + overseen` for department heads, where only a consumer-protection department oversees.
const SEES: [(&str, [bool; 4]); 12] = [
    ("intake", [true, true, true, true]),
    ("card_handler", [true, false, false, false]),
    // A handler of a consumer-protection department does not oversee: only its head does.
    ("sh_cp_handler", [false, true, false, false]),
    ("gz_handler", [false, false, true, false]),
    ("ho_handler", [false, false, false, true]),
    // The head of a department that is not consumer protection oversees nobody.
    ("card_head", [true, false, false, false]),
    ("sh_cp_head", [true, true, false, false]),
    ("gz_head", [false, false, true, false]),
    ("ho_head", [true, true, true, true]),
    ("supervisor", [true, true, true, true]),
    ("auditor", [true, true, true, true]),
    ("admin", [true, true, true, true]),
];

/// The actions tried on every department by every caller, with the operation each needs.
const ACTIONS: [(&str, Operation); 8] = [
    ("accept", Operation::Accept),
    ("withdraw", Operation::Withdraw),
    ("notes", Operation::AddNote),
    ("decline", Operation::Decline),
    ("assign", Operation::Assign),
    ("transfer", Operation::Transfer),
    ("approve-resolution", Operation::ApproveResolution),
    ("decide-extension", Operation::DecideExtension),
];

/// The test app with the two users the matrix needs besides the standard ones.
async fn start(engine: Engine) -> Option<TestApp> {
    let mut app = TestApp::start(engine).await?;
    app.add_user("sh_cp_handler", Role::Handler, Some("SH-CP")).await;
    app.add_user("gz_head", Role::DepartmentHead, Some("GZ-CP")).await;
    Some(app)
}

/// A complaint that routing sends to `department`, from a complainant of its own (the phone
/// number comes from `seq`), with `marker` in its narrative to search for.
fn complaint_for(department: &str, seq: u32, marker: &str) -> Value {
    let (unit, business_type, product) = match department {
        // Credit cards in Shanghai go to the branch's card department.
        "SH-CARD" => ("SH", "B0302", "信用卡"),
        // Anything without a routing rule goes to the consumer protection of its unit.
        "SH-CP" => ("SH", "B0301", "借记卡"),
        "GZ-CP" => ("GZ", "B0301", "借记卡"),
        "HO-CP" => ("HO", "B0301", "借记卡"),
        other => panic!("no complaint for {other}"),
    };
    json!({
        "channel": "hotline",
        "complainant": { "name": format!("客户{seq}"), "phone": format!("139{seq:08}"), "customer_type": "individual" },
        "respondent": { "unit": unit },
        "product": product,
        "business_type": business_type,
        "request": "请核实并退还多扣的年费",
        "narrative": format!("我的卡在三月五日被扣了一笔两百元的年费，我从未开通过该服务，联系网点和客服都说不清楚，要求退还。备注 {marker}"),
    })
}

/// The handler an `assign` gives a complaint of `department` to: an active handler there.
fn handler_in(department: &str) -> &'static str {
    match department {
        "SH-CARD" => "card_handler2",
        "SH-CP" => "sh_cp_handler",
        "GZ-CP" => "gz_handler",
        "HO-CP" => "ho_handler",
        other => panic!("no handler in {other}"),
    }
}

/// Where a `transfer` sends a complaint of `department`.
fn transfer_target(department: &str) -> &'static str {
    if department == "SH-CARD" { "SH-LOAN" } else { "HO-RETAIL" }
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}")).to_string()
}

/// Registers a complaint for `department` as the intake agent, checking where it went.
async fn register_in(app: &TestApp, department: &str, seq: u32, marker: &str) -> Value {
    let c = app.register(&complaint_for(department, seq, marker)).await;
    assert_eq!(c["owner"]["department"], department, "routing of the fixture: {c}");
    c
}

/// Registers a complaint for `department` that is only received, not yet accepted: the API
/// accepts at registration, so this state (the only one `accept` is allowed from) is made
/// through the store with the domain's own record, its `accept` and `assign` steps left out.
async fn register_received(app: &TestApp, department: &str, seq: u32) -> String {
    use redress_domain::classify::ClassifyInput;
    use redress_domain::complaint::{ComplaintId, Draft, RegistrationContext};
    use redress_domain::lifecycle::Status;

    let st = &app.state;
    let now = st.clock.now();
    let body = serde_json::to_vec(&complaint_for(department, seq, "received")).unwrap();
    let wire: redress_app::input::NewComplaintBody = redress_app::json::parse_json(&body).unwrap();
    let new = wire.into_domain(now, &st.rules.org.head_office().code).unwrap();
    let classification = st.rules.classifier.classify(&ClassifyInput {
        narrative: new.narrative.as_str(),
        request: new.request.as_str(),
        product: new.product.as_ref().map(|p| p.as_str()),
        amount_in_cny_equivalent: None,
    });
    let mut draft = Draft::prepare(new, classification, st.rules.default_rules(), &app.caller("intake").await.actor(), now);
    draft.department = department.to_string();
    let complaint_id = ComplaintId::generate(now);
    let book = st.rules.clone();
    let registration = redress_store::Registration {
        id: complaint_id,
        department: department.to_string(),
        duplicate_key: None,
        external_ref: None,
        idempotency: None,
        duplicate_departments: None,
        build: Box::new(move |ctx| {
            let ctx = RegistrationContext { handler: None, duplicate_of: None, ..ctx };
            let (mut c, mut outcome) = draft.clone().register(ctx, book.default_rules());
            c.status = Status::Received;
            // Only the `register` event: the `accept` step is what the test performs.
            outcome.events.truncate(1);
            (c, outcome)
        }),
        text: Default::default(),
        tracking_code_hash: None,
        attachments: Vec::new(),
        stats: Box::new(|_| Vec::new()),
    };
    let registered = st.store.register(registration).await.expect("register a received complaint");
    assert_eq!(registered.complaint().status, Status::Received);
    assert_eq!(registered.complaint().owner.department, department);
    complaint_id.to_string()
}

/// One base complaint per department, as the reads see it.
struct Base {
    department: &'static str,
    id: String,
    number: String,
    phone: String,
    marker: String,
    attachment_sha: String,
    attachment: Vec<u8>,
}

async fn url_get(app: &TestApp, who: &str, path: &str) -> (StatusCode, Vec<u8>) {
    let (status, _, body) = app.send(who, app.http.get(format!("{}{path}", app.base))).await;
    (status, body)
}

async fn permission_matrix(engine: Engine) {
    let Some(app) = start(engine).await else { return };
    let org = &app.state.rules.org;

    // The base complaints, the SH-CARD one last so the others are its earlier look-alikes.
    let mut bases: Vec<Base> = Vec::new();
    for (seq, department) in [(1u32, "SH-CP"), (2, "GZ-CP"), (3, "HO-CP"), (4, "SH-CARD")] {
        let marker = format!("zebra{}", department.to_lowercase().replace('-', ""));
        let c = register_in(&app, department, seq, &marker).await;
        let cid = id(&c);
        // Evidence on each, uploaded by the supervisor level.
        let attachment = format!("transaction record for {marker}\n").into_bytes();
        let res = app
            .http
            .post(format!("{}/api/v1/complaints/{cid}/attachments", app.base))
            .query(&[("filename", "record.txt")])
            .bearer_auth(&app.tokens["supervisor"])
            .body(attachment.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let uploaded: Value = res.json().await.unwrap();
        // Escalated, so department heads and supervisors have notifications about it.
        app.act("supervisor2", &cid, "escalate", json!({ "reason": "客户情绪激动，要求尽快处理" })).await;
        bases.push(Base {
            department,
            id: cid,
            number: c["number"].as_str().unwrap().to_string(),
            phone: c["complainant"]["phone"].as_str().unwrap().to_string(),
            marker,
            attachment_sha: uploaded["attachment"]["sha256"].as_str().unwrap().to_string(),
            attachment,
        });
        app.clock.advance(jiff::SignedDuration::from_mins(1));
    }
    bases.sort_by_key(|b| DEPARTMENTS.iter().position(|d| *d == b.department).unwrap());

    // An incident of SH-CARD complaints only.
    for i in 0..6u32 {
        let mut c = complaint_for("SH-CARD", 100 + i, "");
        c["narrative"] = json!(format!("手机银行APP今天上午无法登录，一直提示系统维护，信用卡自动还款失败，产生了滞纳金和利息，要求减免第{i}笔"));
        register_in_body(&app, &c, "SH-CARD").await;
        app.clock.advance(jiff::SignedDuration::from_mins(3));
    }
    let report = redress_app::jobs::detect(&app.state).await.unwrap();
    assert_eq!(report.created, 1, "{report:?}");
    let incidents = app.state.store.incidents(None, None, 10).await.unwrap();
    assert_eq!(incidents.len(), 1);
    let incident_id = incidents[0].id.clone();

    let department_of: HashMap<String, String> = {
        let (_, all) = app.get("admin", "/api/v1/complaints?limit=200").await;
        all["items"].as_array().unwrap().iter().map(|i| (i["id"].as_str().unwrap().to_string(), i["department"].as_str().unwrap().to_string())).collect()
    };
    assert_eq!(department_of.len(), 10);

    for (name, sees) in SEES {
        let caller = app.caller(name).await;
        // The hand-written row is the table in force.
        for (department, &see) in DEPARTMENTS.iter().zip(&sees) {
            assert_eq!(policy::permits(&caller, Operation::See, department, org), see, "{name} seeing {department}");
        }
        let (status, list) = app.get(name, "/api/v1/complaints?limit=200").await;
        assert_eq!(status, StatusCode::OK, "{name}: {list}");
        let listed: BTreeSet<String> = list["items"].as_array().unwrap().iter().map(id).collect();
        for listed_id in &listed {
            let department = &department_of[listed_id];
            assert!(policy::permits(&caller, Operation::See, department, org), "{name} listed a complaint of {department}");
        }

        for (base, &see) in bases.iter().zip(&sees) {
            let want = if see { StatusCode::OK } else { StatusCode::NOT_FOUND };
            let paths = [
                format!("/api/v1/complaints/{}", base.id),
                format!("/api/v1/complaints/{}", base.number),
                format!("/api/v1/complaints/{}/history", base.id),
                format!("/api/v1/complaints/{}/messages", base.id),
                format!("/api/v1/complaints/{}/reading", base.id),
                format!("/api/v1/complaints/{}/similar", base.id),
                format!("/api/v1/complaints/{}/attachments/{}", base.id, base.attachment_sha),
            ];
            for path in &paths {
                let (status, body) = url_get(&app, name, path).await;
                let text = String::from_utf8_lossy(&body);
                assert_eq!(status, want, "{name} GET {path} ({}): {text}", base.department);
                if !see {
                    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    assert_eq!(v["error"]["code"], "not_found", "{name} GET {path}: {text}");
                    assert!(!text.contains(&base.number) && !text.contains(&base.phone), "{name} GET {path} tells of the complaint: {text}");
                }
            }
            let (_, download) = url_get(&app, name, &paths[6]).await;
            if see {
                assert_eq!(download, base.attachment, "{name} downloading from {}", base.department);
            }
            assert_eq!(listed.contains(&base.id), see, "{name} listing {}", base.department);
            let (status, found) = app.get(name, &format!("/api/v1/search?q={}&limit=100", base.marker)).await;
            assert_eq!(status, StatusCode::OK, "{found}");
            let hits: Vec<String> = found["items"].as_array().unwrap().iter().map(id).collect();
            assert_eq!(hits.contains(&base.id), see, "{name} searching {}: {found}", base.marker);
            assert!(hits.len() <= 1, "{found}");
            assert_eq!(found["total"], if see { 1 } else { 0 }, "{name} told how many match {}: {found}", base.marker);
            // Asking for the department by name reaches no further.
            let (status, by_department) = app.get(name, &format!("/api/v1/complaints?department={}&limit=200", base.department)).await;
            assert_eq!(status, StatusCode::OK, "{by_department}");
            let items = by_department["items"].as_array().unwrap();
            assert_eq!(items.iter().any(|i| i["id"] == base.id.as_str()), see, "{name} listing department {}", base.department);
            assert!(see || items.is_empty(), "{name} listing department {}: {by_department}", base.department);
            let (_, in_department) = app.get(name, &format!("/api/v1/search?q={}&department={}", base.marker, base.department)).await;
            assert_eq!(in_department["items"].as_array().unwrap().len(), usize::from(see), "{in_department}");
            if see {
                let (_, similar) = app.get(name, &paths[5]).await;
                for item in similar["items"].as_array().unwrap() {
                    let department = &department_of[item["id"].as_str().unwrap()];
                    assert!(policy::permits(&caller, Operation::See, department, org), "{name} shown a similar complaint of {department}: {similar}");
                }
            }
        }

        // Notifications: those addressed to the caller's role and department, about complaints
        // the caller may see.
        let (status, notes) = app.get(name, "/api/v1/notifications").await;
        assert_eq!(status, StatusCode::OK, "{notes}");
        let shown: BTreeSet<i64> = notes["items"].as_array().unwrap().iter().map(|n| n["id"].as_i64().unwrap()).collect();
        let addressed = app.state.store.notifications(caller.role(), caller.department(), 100).await.unwrap();
        let expected: BTreeSet<i64> = addressed
            .iter()
            .filter(|n| policy::permits(&caller, Operation::See, &department_of[&n.notification.complaint_id.to_string()], org))
            .map(|n| n.id)
            .collect();
        assert_eq!(shown, expected, "{name}: {notes}");

        // Incidents: the list and the detail need the permission, and a member the caller sees.
        let may_view = policy::grant(caller.role(), Operation::ViewIncidents) != Grant::None;
        let (status, list) = app.get(name, "/api/v1/incidents").await;
        let (detail_status, detail) = app.get(name, &format!("/api/v1/incidents/{incident_id}")).await;
        if !may_view {
            assert_eq!(status, StatusCode::FORBIDDEN, "{name}: {list}");
            assert_eq!(detail_status, StatusCode::FORBIDDEN, "{name}: {detail}");
        } else {
            assert_eq!(status, StatusCode::OK, "{name}: {list}");
            let listed: Vec<&str> = list["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
            assert_eq!(listed == [incident_id.as_str()], sees[0], "{name}: {list}");
            assert_eq!(listed.is_empty(), !sees[0], "{name}: {list}");
            let want = if sees[0] { StatusCode::OK } else { StatusCode::NOT_FOUND };
            assert_eq!(detail_status, want, "{name}: {detail}");
            if sees[0] {
                assert_eq!(detail["complaints"].as_array().unwrap().len(), 6, "{detail}");
            }
        }
    }

    // The filters above are not vacuous: the look-alikes exist and the rows differ.
    let sh_card = &bases[0];
    let similar_numbers = |v: &Value| -> BTreeSet<String> { v["items"].as_array().unwrap().iter().map(|i| i["number"].as_str().unwrap().to_string()).collect() };
    let (_, all) = app.get("supervisor", &format!("/api/v1/complaints/{}/similar", sh_card.id)).await;
    assert_eq!(similar_numbers(&all), bases[1..].iter().map(|b| b.number.clone()).collect(), "{all}");
    let (_, overseen) = app.get("sh_cp_head", &format!("/api/v1/complaints/{}/similar", sh_card.id)).await;
    assert_eq!(similar_numbers(&overseen), BTreeSet::from([bases[1].number.clone()]), "{overseen}");
    let (_, own) = app.get("card_handler", &format!("/api/v1/complaints/{}/similar", sh_card.id)).await;
    assert!(similar_numbers(&own).is_empty(), "{own}");
    let (_, notes) = app.get("card_head", "/api/v1/notifications").await;
    assert!(notes["items"].as_array().unwrap().iter().any(|n| n["complaint_id"] == sh_card.id.as_str()), "{notes}");
    let (_, notes) = app.get("ho_head", "/api/v1/notifications").await;
    assert!(notes["items"].as_array().unwrap().len() >= 3, "escalations reach head office: {notes}");
}

async fn register_in_body(app: &TestApp, body: &Value, department: &str) -> Value {
    let c = app.register(body).await;
    assert_eq!(c["owner"]["department"], department, "routing of the fixture: {c}");
    c
}

/// Complaints ready for each action, per department, made as they are used up.
struct Prepared<'a> {
    app: &'a TestApp,
    seq: u32,
    ready: BTreeMap<(&'static str, &'static str), String>,
}

impl Prepared<'_> {
    /// A complaint of `department` in a state where the lifecycle allows `action`.
    async fn get(&mut self, action: &'static str, department: &'static str) -> String {
        if let Some(id) = self.ready.get(&(action, department)) {
            return id.clone();
        }
        self.seq += 1;
        let app = self.app;
        let cid = match action {
            "accept" => register_received(app, department, self.seq).await,
            "approve-resolution" => {
                let cid = id(&register_in(app, department, self.seq, "approve").await);
                app.act("supervisor2", &cid, "start-investigation", json!({})).await;
                let v = app
                    .act("supervisor2", &cid, "propose-resolution", json!({ "kind": "compensation", "amount": { "amount": "8000", "currency": "CNY" }, "summary": "赔偿客户损失" }))
                    .await;
                assert_eq!(v["status"], "awaiting_approval", "{v}");
                cid
            }
            "decide-extension" => {
                let cid = id(&register_in(app, department, self.seq, "extend").await);
                app.act("supervisor2", &cid, "start-investigation", json!({})).await;
                let v = app.act("supervisor2", &cid, "request-extension", json!({ "reason": "需调取第三方商户资料" })).await;
                assert_eq!(v["clock"]["pending_extension"]["needs_superior"], false, "the first step is approved in the department: {v}");
                cid
            }
            _ => id(&register_in(app, department, self.seq, "act").await),
        };
        self.ready.insert((action, department), cid.clone());
        cid
    }

    /// The complaint was changed by a successful action; the next try needs another, except
    /// for actions that leave it where it was.
    fn used(&mut self, action: &'static str, department: &'static str) {
        if !matches!(action, "notes" | "assign") {
            self.ready.remove(&(action, department));
        }
    }
}

fn action_body(action: &str, department: &str) -> Value {
    match action {
        "withdraw" => json!({ "reason": "客户来电表示问题已自行解决，撤回投诉" }),
        "notes" => json!({ "text": "已致电客户，说明处理进度" }),
        "decline" => json!({ "reason": "not_by_complainant_or_agent" }),
        "assign" => json!({ "handler": handler_in(department) }),
        "transfer" => json!({ "department": transfer_target(department), "reason": "业务归属调整" }),
        "decide-extension" => json!({ "approve": true }),
        _ => json!({}),
    }
}

/// What a successful action must have done.
fn check_effect(who: &str, action: &str, department: &str, before: &Value, after: &Value) {
    let ctx = format!("{who} {action} on {department}: {after}");
    match action {
        "accept" => assert_eq!(after["status"], "accepted", "{ctx}"),
        "withdraw" => assert_eq!(after["status"], "withdrawn", "{ctx}"),
        "decline" => assert_eq!(after["status"], "declined", "{ctx}"),
        "notes" => assert_eq!(after["notes"].as_array().unwrap().len(), before["notes"].as_array().unwrap().len() + 1, "{ctx}"),
        "assign" => assert_eq!(after["owner"]["handler"]["name"], handler_in(department), "{ctx}"),
        "transfer" => assert_eq!(after["owner"]["department"], transfer_target(department), "{ctx}"),
        "approve-resolution" => {
            assert_eq!(after["status"], "resolution_proposed", "{ctx}");
            assert_eq!(after["resolution"]["approved_by"]["name"], who, "{ctx}");
        }
        "decide-extension" => assert_eq!(after["clock"]["extensions_granted"], 1, "{ctx}"),
        other => panic!("no check for {other}"),
    }
}

async fn permission_matrix_actions(engine: Engine) {
    let Some(app) = start(engine).await else { return };
    let org = &app.state.rules.org;
    let mut prepared = Prepared { app: &app, seq: 0, ready: BTreeMap::new() };
    let mut outcomes: BTreeMap<&str, BTreeMap<StatusCode, usize>> = BTreeMap::new();
    for (action, op) in ACTIONS {
        for (name, sees) in SEES {
            let caller = app.caller(name).await;
            for (&department, &see) in DEPARTMENTS.iter().zip(&sees) {
                let cid = prepared.get(action, department).await;
                let want = if !see {
                    StatusCode::NOT_FOUND
                } else if !policy::permits(&caller, op, department, org) {
                    StatusCode::FORBIDDEN
                } else {
                    StatusCode::OK
                };
                let (_, before) = app.get("admin", &format!("/api/v1/complaints/{cid}")).await;
                let (status, v) = app.post(name, &format!("/api/v1/complaints/{cid}/{action}"), &action_body(action, department)).await;
                assert_eq!(status, want, "{name} {action} on a complaint of {department}: {v}");
                *outcomes.entry(action).or_default().entry(status).or_default() += 1;
                if status == StatusCode::OK {
                    check_effect(name, action, department, &before, &v);
                    prepared.used(action, department);
                } else {
                    let code = if want == StatusCode::NOT_FOUND { "not_found" } else { "forbidden" };
                    assert_eq!(v["error"]["code"], code, "{name} {action} on {department}: {v}");
                    if want == StatusCode::NOT_FOUND {
                        assert!(!v.to_string().contains(before["number"].as_str().unwrap()), "{v}");
                    }
                    // A refused action writes nothing.
                    let (_, after) = app.get("admin", &format!("/api/v1/complaints/{cid}")).await;
                    assert_eq!(after["version"], before["version"], "{name} {action} on {department} changed the record");
                }
            }
        }
    }
    eprintln!("outcomes of the actions: {outcomes:?}");
    // Every action was allowed to someone, refused as forbidden to someone who sees the
    // complaint, and hidden from someone who does not.
    for (action, counts) in &outcomes {
        for status in [StatusCode::OK, StatusCode::FORBIDDEN, StatusCode::NOT_FOUND] {
            assert!(counts.get(&status).is_some_and(|n| *n > 0), "{action}: no {status} in {counts:?}");
        }
    }
}

async fn the_rows_named_in_the_issue_hold(engine: Engine) {
    let Some(app) = start(engine).await else { return };

    // An intake agent takes calls about any complaint but withdraws none.
    for (seq, department) in (1u32..).zip(DEPARTMENTS) {
        let cid = id(&register_in(&app, department, seq, "withdraw").await);
        let (status, v) = app.post("intake", &format!("/api/v1/complaints/{cid}/withdraw"), &json!({ "reason": "客户要求撤回" })).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "intake withdrawing in {department}: {v}");
        assert_eq!(v["error"]["code"], "forbidden");
        let (_, c) = app.get("supervisor", &format!("/api/v1/complaints/{cid}")).await;
        assert_ne!(c["status"], "withdrawn");
        // The same agent may add a note about the call.
        app.act("intake", &cid, "notes", json!({ "text": "客户来电询问进度" })).await;
    }

    // Compensation above the profile's threshold (cn-nfra: 5000 CNY) waits for a second person:
    // the head of a department over the owner (or a supervisor); a head elsewhere may not.
    let cid = id(&register_in(&app, "SH-CARD", 10, "approve").await);
    app.act("card_handler", &cid, "start-investigation", json!({})).await;
    let v = app.act("card_handler", &cid, "propose-resolution", json!({ "kind": "compensation", "amount": { "amount": "5000.01", "currency": "CNY" }, "summary": "赔偿损失" })).await;
    assert_eq!(v["status"], "awaiting_approval");
    let (status, e) = app.post("gz_handler", &format!("/api/v1/complaints/{cid}/approve-resolution"), &json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another branch's handler: {e}");
    let v = app.act("card_head", &cid, "approve-resolution", json!({})).await;
    assert_eq!(v["resolution"]["approved_by"]["name"], "card_head");
    // At the threshold itself no approval is needed.
    let cid = id(&register_in(&app, "SH-CARD", 11, "threshold").await);
    app.act("card_handler", &cid, "start-investigation", json!({})).await;
    let v = app.act("card_handler", &cid, "propose-resolution", json!({ "kind": "compensation", "amount": { "amount": "5000", "currency": "CNY" }, "summary": "赔偿损失" })).await;
    assert_eq!(v["status"], "resolution_proposed");

    // A handler of one department neither sees nor acts on another's, whichever way the
    // hierarchy runs.
    let card = id(&register_in(&app, "SH-CARD", 20, "zebracardrow").await);
    let gz = id(&register_in(&app, "GZ-CP", 21, "zebragzrow").await);
    for (who, other, marker) in [("gz_handler", &card, "zebracardrow"), ("card_handler", &gz, "zebragzrow"), ("sh_cp_handler", &card, "zebracardrow"), ("ho_handler", &gz, "zebragzrow")] {
        for path in ["", "/history", "/messages", "/reading", "/similar"] {
            let (status, v) = app.get(who, &format!("/api/v1/complaints/{other}{path}")).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who} GET {path}: {v}");
        }
        for (action, body) in [("notes", json!({ "text": "x" })), ("start-investigation", json!({})), ("withdraw", json!({})), ("transfer", json!({ "department": "HO-CP", "reason": "x" }))] {
            let (status, v) = app.post(who, &format!("/api/v1/complaints/{other}/{action}"), &body).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who} {action}: {v}");
        }
        let (_, list) = app.get(who, "/api/v1/complaints?limit=200").await;
        assert!(!list["items"].as_array().unwrap().iter().any(|i| i["id"] == other.as_str()), "{who}: {list}");
        let (_, found) = app.get(who, &format!("/api/v1/search?q={marker}")).await;
        assert_eq!(found["items"].as_array().unwrap().len(), 0, "{who}: {found}");
    }
    // …while the owner's handler does both.
    app.act("card_handler", &card, "notes", json!({ "text": "已联系客户" })).await;
    let (_, found) = app.get("card_handler", "/api/v1/search?q=zebracardrow").await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1, "{found}");
}

async fn notifications_follow_what_the_caller_may_see(engine: Engine) {
    let Some(app) = start(engine).await else { return };
    let cid = id(&register_in(&app, "SH-CARD", 1, "notify").await);
    app.act("supervisor", &cid, "escalate", json!({ "reason": "客户多次来电" })).await;
    let about = |v: &Value| v["items"].as_array().unwrap().iter().filter(|n| n["complaint_id"] == cid.as_str()).count();
    let (_, n) = app.get("card_head", "/api/v1/notifications").await;
    assert_eq!(about(&n), 1, "{n}");
    let (_, n) = app.get("ho_head", "/api/v1/notifications").await;
    assert_eq!(about(&n), 1, "the consumer protection one level up hears of it: {n}");
    // Moved to Guangzhou, it is out of the card department's sight, notifications included.
    app.act("supervisor", &cid, "transfer", json!({ "department": "GZ-CP", "reason": "属地管理" })).await;
    let (_, n) = app.get("card_head", "/api/v1/notifications").await;
    assert_eq!(about(&n), 0, "{n}");
    assert_eq!(app.get("card_head", &format!("/api/v1/complaints/{cid}")).await.0, StatusCode::NOT_FOUND);
    let (_, n) = app.get("ho_head", "/api/v1/notifications").await;
    assert_eq!(about(&n), 1, "head office still oversees it: {n}");
    let (_, n) = app.get("supervisor", "/api/v1/notifications").await;
    assert_eq!(about(&n), 1, "{n}");
}
