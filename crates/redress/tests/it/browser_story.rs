//! The workbench used as people use it, in headless Chromium, on both engines: a hotline agent
//! registers a complaint, the handler investigates and proposes a compensation above the
//! threshold, the department head approves it, the handler decides, and the customer answers
//! the follow-up survey "dissatisfied", which reopens the complaint. Also: another
//! department's handler gets "not found", a form without its CSRF token is refused, and a
//! narrative holding `<script>` shows as text.

use crate::browser::Browser;
use crate::on_both_engines;
use crate::support::{Engine, TestApp};

const PASSWORD: &str = "correct horse battery staple";

async fn with_passwords(app: &TestApp, names: &[&str]) {
    let hash = redress_app::users::hash_password(PASSWORD).expect("hash");
    for name in names {
        let user = app.state.store.user_by_name(name).await.expect("read user").expect("user exists");
        app.state.store.set_password_hash(&user.id, &hash).await.expect("set password");
    }
}

async fn sign_in(b: &Browser, base: &str, name: &str) {
    b.goto(&format!("{base}/sign-in")).await;
    b.fill("#f-name", name).await;
    b.fill("#f-password", PASSWORD).await;
    b.submit("#sign-in button[type=submit]").await;
    b.wait_for("form[action='/sign-out']").await;
}

async fn sign_out(b: &Browser) {
    b.submit("form[action='/sign-out'] button").await;
    b.wait_for("#sign-in").await;
}

/// Opens an action's form (a closed `<details>`), fills it and submits it.
async fn act(b: &Browser, action: &str, fields: &[(&str, &str)], selects: &[(&str, &str)]) {
    let form = format!("#act-{action}");
    if b.exists(&format!("details:has({form}):not([open]) > summary")).await {
        b.click(&format!("details:has({form}) > summary")).await;
    }
    for (css, value) in selects {
        b.select(css, value).await;
    }
    for (css, value) in fields {
        b.fill(css, value).await;
    }
    b.submit(&format!("{form} button[type=submit]")).await;
    b.wait_for("#complaint-status").await;
}

/// Every visible form control has a label, and nothing on the page is inline script or style
/// (the Content-Security-Policy would block it).
async fn assert_accessible(b: &Browser) {
    let found = b
        .execute(
            "return { unlabelled: Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))\
               .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby'))\
               .map(e => e.name || e.id),\
             inline: document.querySelectorAll('[style], script:not([src]), [onclick], [onsubmit]').length };",
        )
        .await;
    assert_eq!(found["unlabelled"], serde_json::json!([]), "unlabelled controls on {}", b.url().await);
    assert_eq!(found["inline"], serde_json::json!(0), "inline script or style on {}", b.url().await);
}

async fn status(b: &Browser) -> String {
    b.attr("#complaint-status", "data-status").await.unwrap_or_default()
}

async fn workbench_story(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let Some(b) = Browser::start("zh-CN").await else { return };
    with_passwords(&app, &["intake", "card_handler", "card_handler2", "card_head", "gz_handler"]).await;
    let base = app.base.clone();

    // A hotline agent registers a complaint about a credit card at the Shanghai branch.
    sign_in(&b, &base, "intake").await;
    b.goto(&format!("{base}/complaints/new")).await;
    assert_accessible(&b).await;
    b.select("#f-channel", "hotline").await;
    b.select("#f-respondent\\.unit", "SH").await;
    b.select("#f-business_type", "B0302").await;
    b.fill("#f-complainant\\.name", "张三").await;
    b.fill("#f-complainant\\.phone", "13812345678").await;
    b.fill("#f-request", "退还年费并赔偿损失").await;
    b.fill("#f-narrative", "信用卡年费被重复扣收两次，客服电话一直打不通。<script>alert(1)</script>").await;
    b.submit("#register-submit").await;
    b.wait_for("#complaint-number").await;
    let number = b.text("#complaint-number").await;
    assert!(number.len() > 6, "a complaint number is shown: {number}");
    // The narrative's markup is text, not code.
    assert!(b.text("#narrative").await.contains("<script>alert(1)</script>"));
    assert!(b.source().await.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    let handler = b.text("#complaint-handler").await;
    assert!(handler == "card_handler" || handler == "card_handler2", "routed to a card handler, got {handler}");
    sign_out(&b).await;

    // The handler finds it in My work and investigates.
    sign_in(&b, &base, &handler).await;
    b.goto(&format!("{base}/work")).await;
    assert_accessible(&b).await;
    b.click(&format!("a[href='/complaints/{number}']")).await;
    b.wait_for("#complaint-status").await;
    assert_accessible(&b).await;
    if b.exists("#act-accept").await {
        act(&b, "accept", &[], &[]).await;
    }
    act(&b, "start-investigation", &[], &[]).await;
    assert_eq!(status(&b).await, "investigating");
    // The phone is masked until the handler reveals it, which the timeline records.
    assert_eq!(b.text("#complaint-phone").await, "*******5678");
    b.submit("#act-reveal-contact button").await;
    b.wait_for("#complaint-phone").await;
    assert_eq!(b.text("#complaint-phone").await, "13812345678");
    assert!(b.text("#timeline").await.contains("查看完整联系方式"), "the reveal is in the history");
    b.goto(&format!("{base}/complaints/{number}")).await;
    assert_eq!(b.text("#complaint-phone").await, "*******5678", "masked again on the next visit");
    // A compensation above the 5,000 CNY threshold needs the department head.
    act(&b, "propose-resolution", &[("#propose-amount", "8000"), ("#propose-summary", "退还重复扣收的年费并补偿")], &[("#propose-kind", "compensation")]).await;
    assert_eq!(status(&b).await, "awaiting_approval");
    assert!(!b.exists("#act-approve-resolution").await, "the proposer may not approve their own resolution");
    sign_out(&b).await;

    // The department head approves it from the approvals list.
    sign_in(&b, &base, "card_head").await;
    b.goto(&format!("{base}/approvals")).await;
    b.click(&format!("a[href='/complaints/{number}']")).await;
    b.wait_for("#act-approve-resolution").await;
    act(&b, "approve-resolution", &[], &[]).await;
    sign_out(&b).await;

    // Another department's handler cannot see it at all.
    sign_in(&b, &base, "gz_handler").await;
    b.goto(&format!("{base}/complaints/{number}")).await;
    b.wait_for("h1").await;
    assert!(!b.exists("#complaint-number").await, "another department's handler sees nothing of it");
    assert!(b.source().await.contains("未找到"), "the page says not found");
    b.goto(&format!("{base}/work")).await;
    sign_out(&b).await;

    // The handler decides and notifies the customer.
    sign_in(&b, &base, &handler).await;
    b.goto(&format!("{base}/complaints/{number}")).await;
    act(
        &b,
        "decide",
        &[("#decide-verification", "核实系统重复扣费"), ("#decide-basis", "信用卡领用合约第十二条"), ("#decide-reasons", "重复扣收属实，予以退还并补偿")],
        &[],
    )
    .await;
    assert_eq!(status(&b).await, "decided");

    // A form posted without its CSRF token is refused and changes nothing.
    let plain = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let refused = plain.post(format!("{base}/complaints/{number}/act/close")).send().await.expect("post");
    assert!(refused.status() == 303 || refused.status() == 403, "no session or no token: {}", refused.status());
    b.goto(&format!("{base}/complaints/{number}")).await;
    let script = format!(
        "const f = document.createElement('form'); f.method = 'post'; f.action = '/complaints/{number}/act/notes';\
         const t = document.createElement('input'); t.name = 'text'; t.value = 'no token'; f.appendChild(t);\
         document.body.appendChild(f); f.submit();"
    );
    b.execute(&script).await;
    b.wait_for("h1").await;
    assert!(b.source().await.contains("表单已失效"), "the page says the form expired");
    b.goto(&format!("{base}/work")).await;
    sign_out(&b).await;

    // The customer tracks it with the number and the tracking code their acknowledgement
    // carried, and answers the follow-up survey "dissatisfied", which reopens it.
    let c = app.state.store.complaint_by_number(&number).await.expect("read").expect("exists");
    let messages = app.state.store.messages(c.id).await.expect("messages");
    let acknowledgement = messages.iter().find(|m| m.message.body.contains("查询码")).expect("the acknowledgement carries the tracking code");
    let code: String = acknowledgement.message.body.split("查询码").nth(1).expect("code").trim().chars().take_while(char::is_ascii_alphanumeric).collect();
    assert_eq!(code.len(), 10, "a tracking code: {code}");
    b.goto(&format!("{base}/track")).await;
    b.fill("#f-number", &number).await;
    b.fill("#f-code", &code).await;
    b.submit("#track button[type=submit]").await;
    b.wait_for("#tracked").await;
    assert!(b.text("#tracked-status").await.contains("已答复"), "the customer sees the decision");
    assert_accessible(&b).await;
    b.click("#survey-link").await;
    b.wait_for("#survey-form").await;
    assert_accessible(&b).await;
    b.click("input[name=satisfaction][value=dissatisfied]").await;
    b.fill("#f-comments", "补偿金额太少").await;
    b.submit("#survey-form button[type=submit]").await;
    b.wait_for("#survey-done").await;
    let after = app.state.store.complaint_by_number(&number).await.expect("read").expect("exists");
    assert_eq!(after.reopen_count, 1, "dissatisfied reopens it");
    assert!(after.status.is_open() && after.status.as_str() != "decided", "reopened: {}", after.status.as_str());
    // The link works once.
    b.goto(&b.url().await).await;
    b.wait_for("h1").await;
    assert!(!b.exists("#survey-form").await, "a used link offers no form");
    b.close().await;
}

/// A customer complains online from a phone-sized browser in English, gets a number and a
/// tracking code, and follows it; staff of another department cannot open it.
async fn a_customer_complains_online(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let Some(b) = Browser::start("en").await else { return };
    with_passwords(&app, &["gz_handler", "card_handler", "card_handler2"]).await;
    let base = app.base.clone();
    b.set_window_size(390, 844).await;
    b.goto(&format!("{base}/complain")).await;
    assert!(b.source().await.contains("lang=\"en\""), "the browser's language chooses English");
    assert_accessible(&b).await;
    b.fill("#f-complainant\\.name", "Jane Smith").await;
    b.fill("#f-complainant\\.phone", "13812345678").await;
    b.select("#f-respondent\\.unit", "SH").await;
    b.fill("#f-request", "Refund the annual fee charged twice").await;
    b.fill("#f-narrative", "My credit card annual fee was charged twice this month. <b>bold</b>").await;
    b.submit("#complain-submit").await;
    b.wait_for("#receipt").await;
    let number = b.text("#receipt-number").await;
    let code = b.text("#receipt-code").await;
    assert_eq!(code.len(), 10, "a tracking code is shown once: {code}");
    assert!(!b.text("#receipt-deadline").await.is_empty(), "the decision deadline is shown");
    let c = app.state.store.complaint_by_number(&number).await.expect("read").expect("registered");
    assert_eq!(c.channel.as_str(), "web");

    // Tracking with a wrong code says the same as an unknown number.
    b.goto(&format!("{base}/track")).await;
    b.fill("#f-number", &number).await;
    b.fill("#f-code", "WRONGCODE2").await;
    b.submit("#track button[type=submit]").await;
    b.wait_for("#track-error").await;
    let wrong_code = b.text("#track-error").await;
    b.fill("#f-number", "TS-20990101-000001").await;
    b.fill("#f-code", &code).await;
    b.submit("#track button[type=submit]").await;
    b.wait_for("#track-error").await;
    assert_eq!(b.text("#track-error").await, wrong_code, "no difference between a wrong code and an unknown number");
    b.fill("#f-number", &number).await;
    b.fill("#f-code", &code).await;
    b.submit("#track button[type=submit]").await;
    b.wait_for("#tracked").await;

    // A handler of another department gets "not found" for its page.
    sign_in(&b, &base, "gz_handler").await;
    b.goto(&format!("{base}/complaints/{number}")).await;
    b.wait_for("h1").await;
    assert!(!b.exists("#complaint-number").await);
    assert!(b.text("h1").await.contains("Not found"));
    b.goto(&format!("{base}/work")).await;
    assert!(!b.exists(&format!("a[href='/complaints/{number}']")).await);
    b.close().await;
}

on_both_engines!(workbench_story, a_customer_complains_online);
