//! Screenshots of the main pages at desktop and phone widths in both languages, for people to
//! look at (`cargo test -p redress --test it screenshots -- --ignored`; the pictures go to
//! `target/screenshots/`, which git ignores). Not part of the suite: it asserts only that every
//! page rendered.

use serde_json::json;

use crate::browser::Browser;
use crate::support::{Engine, TestApp};

const PASSWORD: &str = "correct horse battery staple";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "writes pictures for people to look at; run by hand"]
async fn screenshots_of_the_main_pages() {
    let Some(app) = TestApp::start(Engine::Sqlite).await else { return };
    let hash = redress_app::users::hash_password(PASSWORD).expect("hash");
    for name in ["card_handler", "card_handler2", "card_head", "admin", "supervisor"] {
        let user = app.state.store.user_by_name(name).await.expect("read").expect("user");
        app.state.store.set_password_hash(&user.id, &hash).await.expect("password");
    }
    let narratives = [
        ("张三", "13812345678", "信用卡年费被重复扣收两次，客服电话一直打不通，再不处理我就向银保监会投诉。"),
        ("李四", "13987654321", "分期手续费没有提前告知，要求退还多收的费用。"),
        ("王五", "13700001111", "我的信用卡被盗刷了5000元，挂失后仍有交易，<script>alert(1)</script>"),
    ];
    let mut numbers = Vec::new();
    for (name, phone, narrative) in narratives {
        let c = app
            .register(&json!({
                "channel": "hotline", "complainant": { "name": name, "phone": phone }, "respondent": { "unit": "SH" },
                "business_type": "B0302", "request": "退还费用", "narrative": narrative
            }))
            .await;
        numbers.push(c["number"].as_str().expect("number").to_string());
    }
    // The first complaint's acknowledgement: the gateway was busy, the next attempt is due.
    let claimed = app.state.store.claim_messages(app.clock_now(), app.clock_now() + jiff::SignedDuration::from_secs(60), &[redress_domain::delivery::DeliveryChannel::Sms], "shot", 1).await.expect("claim");
    let update = redress_store::DeliveryUpdate {
        id: claimed[0].id,
        claim: "shot".into(),
        state: redress_domain::delivery::DeliveryState::Pending,
        next_attempt_at: Some(app.clock_now() + jiff::SignedDuration::from_secs(60)),
        provider_id: None,
        detail: Some("the gateway answered 503 Service Unavailable: busy".into()),
        at: app.clock_now(),
        notification: None,
    };
    assert!(app.state.store.finish_delivery(update).await.expect("record"));
    // E-mails taken in: a complaint in GBK, our own message come back, one with no text.
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mail");
    let settings = redress_app::mail_intake::MailIntakeSettings { address: Some("complaints@bank.example".into()), ..Default::default() };
    for raw in [std::fs::read(fixtures.join("gbk-plain.eml")).expect("fixture"), std::fs::read(fixtures.join("loop.eml")).expect("fixture"), b"From: someone@example.cn\r\n\r\n".to_vec()] {
        redress_app::mail_intake::take(&app.state, &settings, "imap://complaints@imap.bank.example:993/INBOX", redress_channels::mail::read_mail(raw)).await.expect("taken");
    }
    // One complaint waits for the department head's approval of a large compensation.
    let second = app.state.store.complaint_by_number(&numbers[1]).await.expect("read").expect("exists");
    let handler = second.owner.handler.as_ref().expect("assigned").name.clone();
    let cid = second.id.to_string();
    app.act(&handler, &cid, "start-investigation", json!({})).await;
    app.act(&handler, &cid, "propose-resolution", json!({ "kind": "compensation", "amount": { "amount": "8000", "currency": "CNY" }, "summary": "退还手续费并补偿" })).await;
    // Guangzhou's debit-card complaints: two a week for four weeks, then fifteen in a week (a
    // hotspot), one of them decided with a refund; the quarter's commentary written.
    let now = app.clock_now();
    let mut week = Vec::new();
    for n in 0..23i64 {
        let days_ago = if n < 8 { 7 * (n / 2 + 1) + 2 * (n % 2) } else { (n - 8) % 7 };
        let received_at = (now - jiff::SignedDuration::from_hours(24 * days_ago + 1)).to_string();
        let c = app
            .register(&json!({
                "channel": if n % 3 == 0 { "web" } else { "hotline" }, "complainant": { "name": "赵六", "phone": format!("1370000{n:04}") },
                "respondent": { "unit": "GZ" }, "business_type": "B0301", "product": "借记卡", "received_at": received_at,
                "request": "退还跨行转账手续费", "narrative": "借记卡跨行转账被重复收取手续费，柜台和热线都说不清原因。"
            }))
            .await;
        week.push(c);
    }
    let decided = week.last().expect("a complaint");
    let gz_handler = decided["owner"]["handler"]["name"].as_str().expect("assigned").to_string();
    let gid = decided["id"].as_str().expect("id").to_string();
    app.act(&gz_handler, &gid, "start-investigation", json!({})).await;
    app.act(&gz_handler, &gid, "propose-resolution", json!({ "kind": "refund", "amount": { "amount": "35.00", "currency": "CNY" }, "summary": "退还手续费" })).await;
    app.act(&gz_handler, &gid, "decide", json!({ "verification": "核实", "basis": "收费标准", "reasons": "重复收费属实" })).await;
    let commentary = json!({ "year": "2025", "quarter": "1", "sections": {
        "overview": "本季度受理投诉以信用卡年费和借记卡手续费争议为主，总体平稳。\n广州分行借记卡跨行转账手续费投诉在一月中旬集中出现。",
        "remediation": "核查跨行转账收费系统参数；对已多收的手续费主动退还。"
    } });
    let (status, _) = app.post("supervisor", "/api/v1/reports/quarterly/commentary", &commentary).await;
    assert_eq!(status, reqwest::StatusCode::OK, "the commentary is written");
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&out).expect("screenshot folder");
    for lang in ["zh-CN", "en"] {
        let Some(b) = Browser::start(lang).await else { return };
        let base = &app.base;
        for (width, height, device) in [(1280, 900, "desktop"), (390, 844, "phone")] {
            b.set_window_size(width, height).await;
            b.goto(&format!("{base}/sign-in")).await;
            b.screenshot(out.join(format!("{lang}-{device}-sign-in.png"))).await;
            b.goto(&format!("{base}/complain")).await;
            b.screenshot(out.join(format!("{lang}-{device}-complain.png"))).await;
            b.goto(&format!("{base}/track")).await;
            b.screenshot(out.join(format!("{lang}-{device}-track.png"))).await;
            b.goto(&format!("{base}/sign-in")).await;
            b.fill("#f-name", "card_handler").await;
            b.fill("#f-password", PASSWORD).await;
            b.submit("#sign-in button[type=submit]").await;
            for (page, path) in [
                ("work", "/work".to_string()),
                ("complaint", format!("/complaints/{}", numbers[0])),
                ("register", "/complaints/new".to_string()),
                ("search", "/search?q=%E5%B9%B4%E8%B4%B9".to_string()),
                ("analysis", "/analysis".to_string()),
                ("scorecards", "/scorecards?level=department".to_string()),
                ("person", format!("/complaints/{}/person", numbers[0])),
                ("follow-ups", "/follow-ups".to_string()),
                ("notifications", "/notifications".to_string()),
                ("account", "/account".to_string()),
            ] {
                b.goto(&format!("{base}{path}")).await;
                b.wait_for("main h1").await;
                b.screenshot(out.join(format!("{lang}-{device}-{page}.png"))).await;
            }
            b.submit("form[action='/sign-out'] button").await;
            b.fill("#f-name", "card_head").await;
            b.fill("#f-password", PASSWORD).await;
            b.submit("#sign-in button[type=submit]").await;
            b.goto(&format!("{base}/approvals")).await;
            b.wait_for("main h1").await;
            b.screenshot(out.join(format!("{lang}-{device}-approvals.png"))).await;
            b.submit("form[action='/sign-out'] button").await;
            b.fill("#f-name", "admin").await;
            b.fill("#f-password", PASSWORD).await;
            b.submit("#sign-in button[type=submit]").await;
            for (page, path) in [("admin-users", "/admin/users"), ("admin-rules", "/admin/rules"), ("incidents", "/incidents"), ("notifications", "/notifications"), ("intake", "/intake")] {
                b.goto(&format!("{base}{path}")).await;
                b.wait_for("main h1").await;
                b.screenshot(out.join(format!("{lang}-{device}-{page}.png"))).await;
            }
            b.submit("form[action='/sign-out'] button").await;
            b.fill("#f-name", "supervisor").await;
            b.fill("#f-password", PASSWORD).await;
            b.submit("#sign-in button[type=submit]").await;
            for (page, path) in [
                ("hotspots", "/hotspots"),
                ("reports", "/reports"),
                ("quarterly", "/reports/quarterly?year=2025&quarter=1"),
                ("fca", "/reports/fca?year=2025&half=1"),
            ] {
                b.goto(&format!("{base}{path}")).await;
                b.wait_for("main h1").await;
                b.screenshot(out.join(format!("{lang}-{device}-{page}.png"))).await;
            }
            b.submit("form[action='/sign-out'] button").await;
        }
        b.close().await;
    }
    println!("screenshots in {}", out.display());
}
