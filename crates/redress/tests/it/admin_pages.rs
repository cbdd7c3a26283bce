//! The staff pages for administration, search and notifications, driven over HTTP without a
//! browser: signing in through the sign-in form, posting forms with their CSRF tokens, and
//! reading the pages' HTML.

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION};
use serde_json::json;

use crate::on_both_engines;
use crate::support::{Engine, PAGE_PASSWORD, TestApp, between, card_complaint, csrf_of, sign_in_session};

on_both_engines!(
    admins_create_and_deactivate_users_and_others_are_refused,
    the_search_page_finds_what_the_person_may_see,
    the_notifications_page_lists_and_marks_read,
    the_incident_pages_list_members_and_chart_them,
);

const PASSWORD: &str = PAGE_PASSWORD;

/// A browser without a browser: the session cookie and the CSRF token of its pages.
struct Web {
    base: String,
    http: reqwest::Client,
    session: String,
    csrf: String,
}

impl Web {
    /// Signs in through the sign-in form, as a browser would.
    async fn sign_in(app: &TestApp, name: &str) -> Web {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let session = sign_in_session(&http, &app.base, name, "/notifications").await;
        let mut web = Web { base: app.base.clone(), http, session, csrf: String::new() };
        let (status, page) = web.get("/notifications").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        web.csrf = csrf_of(&page);
        web
    }

    async fn get(&self, path: &str) -> (StatusCode, String) {
        let res = self.http.get(format!("{}{path}", self.base)).header(COOKIE, format!("rdr_session={}", self.session)).send().await.unwrap();
        (res.status(), res.text().await.unwrap())
    }

    /// Posts a form with the session's CSRF token; returns the status, where it redirects and
    /// the page.
    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> (StatusCode, Option<String>, String) {
        let mut form: Vec<(&str, &str)> = vec![("csrf", self.csrf.as_str())];
        form.extend_from_slice(fields);
        self.post_raw(path, &form).await
    }

    async fn post_raw(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, Option<String>, String) {
        let res = self.http.post(format!("{}{path}", self.base)).header(COOKIE, format!("rdr_session={}", self.session)).form(form).send().await.unwrap();
        let status = res.status();
        let location = res.headers().get(LOCATION).and_then(|v| v.to_str().ok()).map(str::to_string);
        (status, location, res.text().await.unwrap())
    }
}

async fn admins_create_and_deactivate_users_and_others_are_refused(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    for name in ["admin", "card_handler", "auditor"] {
        app.set_password(name, PASSWORD).await;
    }
    let admin = Web::sign_in(&app, "admin").await;
    let (status, page) = admin.get("/admin/users").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"data-name="card_handler""#), "every account is listed");
    assert!(page.contains(r#"action="/admin/users""#), "with the create form");
    assert!(page.contains(r#"href="/admin/rules""#) && page.contains(r#"href="/admin/models""#), "and the admin sub-navigation");

    // Create a user from the page.
    let (status, to, page) =
        admin.post("/admin/users", &[("name", "web_user"), ("role", "handler"), ("department", "SH-CARD"), ("password", PASSWORD)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    assert_eq!(to.as_deref(), Some("/admin/users?done=created"));
    let created = app.state.store.user_by_name("web_user").await.unwrap().expect("created");
    assert_eq!((created.role.as_str(), created.department.as_deref(), created.active), ("handler", Some("SH-CARD"), true));
    let (_, page) = admin.get("/admin/users?done=created").await;
    assert!(page.contains(r#"class="notice""#) && page.contains(r#"data-name="web_user""#));

    // A mistake comes back beside the form, with what was typed (never the password).
    let (status, _, page) = admin.post("/admin/users", &[("name", "short_pw"), ("role", "handler"), ("department", "SH-CARD"), ("password", "short")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains(r#"id="e-password""#) && page.contains(r#"value="short_pw""#) && !page.contains(r#"value="short""#), "{page}");
    assert!(app.state.store.user_by_name("short_pw").await.unwrap().is_none());
    let (status, _, page) = admin.post("/admin/users", &[("name", "web_user"), ("role", "handler"), ("department", "SH-CARD"), ("password", PASSWORD)]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a name is taken once");
    assert!(page.contains(r#"id="e-name""#), "{page}");
    // Names are escaped where they are shown.
    let (status, _, page) = admin.post("/admin/users", &[("name", "<b>x</b>"), ("role", "auditor"), ("password", PASSWORD)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    let (_, page) = admin.get("/admin/users").await;
    assert!(page.contains("&#60;b&#62;x&#60;/b&#62;") && !page.contains("<b>x</b>"));

    // The new person signs in; deactivating them ends their session.
    let newcomer = Web::sign_in(&app, "web_user").await;
    let (status, _) = newcomer.get("/work").await;
    assert_eq!(status, StatusCode::OK);
    let path = format!("/admin/users/{}", created.id);
    let (status, to, page) = admin.post(&path, &[("role", "handler"), ("department", "SH-CARD")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    assert_eq!(to.as_deref(), Some("/admin/users?done=updated"));
    let after = app.state.store.user(&created.id).await.unwrap().unwrap();
    assert!(!after.active, "an unticked box deactivates");
    let (status, _) = newcomer.get("/work").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "a deactivated person's session ends at once");
    let (_, page) = admin.get("/admin/users").await;
    assert!(page.contains(r#"class="user inactive" data-name="web_user""#), "{page}");

    // Refused changes: one's own account, an unknown department, a form without its token.
    let me = app.state.store.user_by_name("admin").await.unwrap().unwrap();
    let (status, _, page) = admin.post(&format!("/admin/users/{}", me.id), &[("role", "admin")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "nobody deactivates themselves");
    assert!(page.contains(r#"<details class="action-box" open>"#), "the failed form is shown open");
    assert!(app.state.store.user(&me.id).await.unwrap().unwrap().active);
    let (status, _, _) = admin.post(&path, &[("role", "handler"), ("department", "NOWHERE"), ("active", "1")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _, _) = admin.post_raw(&path, &[("role", "handler"), ("department", "SH-CARD"), ("active", "1")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a form without its CSRF token");
    assert!(!app.state.store.user(&created.id).await.unwrap().unwrap().active, "refused changes change nothing");

    // A password reset: both fields must agree; the new one works.
    let reset = format!("/admin/users/{}/password", created.id);
    let (status, _, _) = admin.post(&reset, &[("password", "another long password"), ("repeat", "something else entirely")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, to, _) = admin.post(&reset, &[("password", PASSWORD), ("repeat", PASSWORD)]).await;
    assert_eq!((status, to.as_deref()), (StatusCode::SEE_OTHER, Some("/admin/users?done=password")));

    // The rules and the models.
    let (status, page) = admin.get("/admin/rules").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("SH-CARD") && page.contains("cn-nfra"), "departments and the profile in use");
    let (status, page) = admin.get("/admin/models").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"action="/admin/models/train""#));
    let (status, _, page) = admin.post("/admin/models/train", &[("target", "cause")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "no corrections yet: nothing to train on");
    assert!(page.contains(r#"id="train-error""#), "{page}");
    assert!(app.state.store.models().await.unwrap().is_empty());
    let (status, _, _) = admin.post("/admin/models/no-such-model/activate", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // With corrections of two kinds, a model is trained, stored and put in use.
    let texts = [
        ("客服态度恶劣，电话里对我大声呵斥", "C01"),
        ("柜员服务态度差，不耐烦，还翻白眼", "C01"),
        ("手机银行系统崩溃，一直无法登录转账", "C02"),
        ("ATM机故障吞卡，系统显示交易失败但扣款了", "C02"),
    ];
    for (i, (text, cause)) in texts.iter().enumerate() {
        let mut body = card_complaint(&format!("1390000{i:04}"));
        body["narrative"] = json!(text);
        body["complainant"]["name"] = json!(format!("客户{i}"));
        // Without the shared ID number, so they are four complainants, not one complaint merged.
        body["complainant"].as_object_mut().unwrap().remove("id_number");
        let c = app.register(&body).await;
        app.act("card_handler", c["id"].as_str().unwrap(), "classification", json!({ "dimension": "cause", "code": cause })).await;
    }
    let (status, to, page) = admin.post("/admin/models/train", &[("target", "cause")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    assert_eq!(to.as_deref(), Some("/admin/models?done=trained"));
    let models = app.state.store.models().await.unwrap();
    assert_eq!(models.len(), 1);
    assert!(models[0].active && models[0].target == "cause");
    assert_eq!(models[0].summary["examples"], 4);
    let (_, page) = admin.get("/admin/models?done=trained").await;
    assert!(page.contains(&models[0].id) && page.contains("model-active") && page.contains("model-in-use"), "{page}");
    let (status, _, _) = admin.post("/admin/models/train", &[("target", "channel")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "only business type and cause");

    // A handler may not see the administration; an auditor may look but not change.
    let handler = Web::sign_in(&app, "card_handler").await;
    for path in ["/admin/users", "/admin/rules", "/admin/models"] {
        let (status, _) = handler.get(path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
    let (status, _, _) = handler.post("/admin/users", &[("name", "sneaky"), ("role", "admin"), ("password", PASSWORD)]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = handler.post(&path, &[("role", "admin"), ("active", "1")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = handler.post("/admin/models/train", &[("target", "cause")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(app.state.store.user_by_name("sneaky").await.unwrap().is_none());
    let auditor = Web::sign_in(&app, "auditor").await;
    let (status, page) = auditor.get("/admin/users").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains(r#"action="/admin/users""#), "no create form for those who may not create");
    let (status, _, _) = auditor.post("/admin/users", &[("name", "sneaky"), ("role", "admin"), ("password", PASSWORD)]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn the_search_page_finds_what_the_person_may_see(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let c = app.register(&card_complaint("13812345678")).await;
    let number = c["number"].as_str().unwrap().to_string();
    for name in ["card_handler", "gz_handler"] {
        app.set_password(name, PASSWORD).await;
    }
    let handler = Web::sign_in(&app, "card_handler").await;
    let (status, page) = handler.get("/search").await;
    assert_eq!(status, StatusCode::OK, "the empty form");
    assert!(!page.contains("search-total"));
    let (status, page) = handler.get("/search?q=%E7%9B%97%E5%88%B7&status=&channel=hotline&department=").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&format!(r#"href="/complaints/{number}""#)), "{page}");
    assert!(page.contains("<mark>盗刷</mark>"), "the match is highlighted: {page}");
    assert!(page.contains(r#"<span id="search-total">"#));
    // Filters narrow; a wrong date is reported beside its field.
    let (_, page) = handler.get("/search?q=%E7%9B%97%E5%88%B7&channel=letter").await;
    assert!(!page.contains(&number));
    let (status, page) = handler.get("/search?q=%E7%9B%97%E5%88%B7&from=yesterday").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains(r#"id="e-from""#), "{page}");
    // What was typed comes back escaped.
    let (_, page) = handler.get("/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E").await;
    assert!(!page.contains("<script>alert(1)") && page.contains("&#60;script&#62;alert(1)"));
    // Someone in Guangzhou does not find a Shanghai complaint.
    let other = Web::sign_in(&app, "gz_handler").await;
    let (status, page) = other.get("/search?q=%E7%9B%97%E5%88%B7").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains(&number));
}

async fn the_notifications_page_lists_and_marks_read(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let c = app.register(&card_complaint("13812345678")).await;
    let id = c["id"].as_str().unwrap().to_string();
    let number = c["number"].as_str().unwrap().to_string();
    app.act("card_handler", &id, "escalate", json!({ "reason": "客户称将向监管投诉" })).await;
    app.set_password("supervisor", PASSWORD).await;
    app.set_password("supervisor2", PASSWORD).await;
    let web = Web::sign_in(&app, "supervisor").await;
    let (status, page) = web.get("/notifications").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&format!(r#"href="/complaints/{number}""#)), "{page}");
    let unread = |page: &str| -> usize { between(page, r#"id="unread-count">"#, "<").expect("the unread count").parse().expect("a number") };
    let before = unread(&page);
    assert!(before >= 1, "{page}");
    let notification: String = between(&page, r#"name="id" value=""#, "\"").expect("a mark-read form").to_string();
    let unread_item = format!(r#"class="notification unread" id="n-{notification}""#);
    let read_item = format!(r#"class="notification" id="n-{notification}""#);
    assert!(page.contains(&unread_item));

    let (status, to, _) = web.post("/notifications", &[("id", &notification)]).await;
    assert_eq!((status, to.as_deref()), (StatusCode::SEE_OTHER, Some("/notifications")));
    let (_, page) = web.get("/notifications").await;
    assert!(page.contains(&read_item), "still listed, now read: {page}");
    assert_eq!(unread(&page), before - 1);
    let (status, _, _) = web.post("/notifications", &[("id", "not-a-number")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Read marks are each person's own: the other supervisor still has it unread, until "all".
    let other = Web::sign_in(&app, "supervisor2").await;
    let (_, page) = other.get("/notifications").await;
    assert!(page.contains(&unread_item));
    let (status, _, _) = other.post("/notifications", &[("all", "1"), ("listed", &notification)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = other.get("/notifications").await;
    assert!(page.contains(&read_item));
    let (status, _, _) = other.post("/notifications", &[("all", "1")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = other.get("/notifications").await;
    assert_eq!(unread(&page), 0, "all of them");
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

async fn the_incident_pages_list_members_and_chart_them(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    for (i, text) in OVERDUE.iter().enumerate() {
        // Spread over two days, so the chart has more than one bar.
        app.clock.advance(jiff::SignedDuration::from_hours(4));
        let mut body = card_complaint(&format!("1360000{i:04}"));
        body["narrative"] = json!(text);
        body["request"] = json!("请核实并更正");
        body["complainant"]["name"] = json!(format!("用户{i}"));
        app.register(&body).await;
    }
    let report = redress_app::intelligence::detect_incidents(&*app.state.store, Default::default(), app.clock_now()).await.unwrap();
    assert_eq!(report.created, 1, "{report:?}");
    app.set_password("supervisor", PASSWORD).await;
    app.set_password("card_handler", PASSWORD).await;
    let web = Web::sign_in(&app, "supervisor").await;
    let (status, page) = web.get("/incidents").await;
    assert_eq!(status, StatusCode::OK);
    let id = between(&page, r#"href="/incidents/"#, "\"").unwrap_or_else(|| panic!("an incident is listed: {page}")).to_string();
    assert!(page.contains("逾期"), "labelled by its key terms: {page}");

    let (status, page) = web.get(&format!("/incidents/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    let svg = between(&page, "<svg", "</svg>").expect("a chart");
    assert!(svg.contains(r#"role="img""#) && svg.contains("aria-label="), "{svg}");
    assert!(svg.matches(r#"<rect class="bar chart-bar""#).count() >= 2, "a bar per day: {svg}");
    assert!(svg.contains("<title>"), "bars with tooltips");
    assert!(!svg.contains("style="), "no inline style: the Content-Security-Policy forbids it");
    let listed = page.matches(r#"class="complaint-link""#).count();
    assert!(listed >= 5, "the members, linked: {page}");

    // Handlers see no incident lists; an unknown incident is not found.
    let handler = Web::sign_in(&app, "card_handler").await;
    let (status, _) = handler.get("/incidents").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = web.get("/incidents/no-such-incident").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
