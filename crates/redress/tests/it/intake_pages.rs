//! The intake channels page over HTTP, on both engines: an intake agent uploads the regulator's
//! transfer list through the form and sees every row's outcome, downloads the answers, and reads
//! the e-mails taken in (the refused ones kept as received); a handler has no such page.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE};

use crate::on_both_engines;
use crate::support::{Engine, PAGE_PASSWORD, TestApp, csrf_of, sign_in_session};

on_both_engines!(the_intake_page_imports_a_transfer_list_and_lists_the_mail);

/// Signs `name` in through the form; the session cookie.
async fn session(app: &TestApp, http: &reqwest::Client, name: &str) -> String {
    app.set_password(name, PAGE_PASSWORD).await;
    sign_in_session(http, &app.base, name, "/work").await
}

async fn the_intake_page_imports_a_transfer_list_and_lists_the_mail(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let handler = session(&app, &http, "card_handler").await;
    let res = http.get(format!("{}/intake", app.base)).header(COOKIE, format!("rdr_session={handler}")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "a handler has no intake page");
    let work = http.get(format!("{}/work", app.base)).header(COOKIE, format!("rdr_session={handler}")).send().await.unwrap().text().await.unwrap();
    assert!(!work.contains("href=\"/intake\""), "nor a link to it");

    // An e-mail refused (no text at all) and one registered, kept as received.
    let settings = redress_app::mail_intake::MailIntakeSettings::default();
    let empty = b"From: someone@example.cn\r\nMessage-ID: <empty@example.cn>\r\n\r\n".to_vec();
    redress_app::mail_intake::take(&app.state, &settings, "test", redress_channels::mail::read_mail(empty.clone())).await.unwrap();
    let fine = "From: 张三 <zhang@example.cn>\r\nSubject: =?UTF-8?B?5L+h55So5Y2h55uX5Yi3?=\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n信用卡被盗刷5000元，要求退还。\r\n";
    redress_app::mail_intake::take(&app.state, &settings, "test", redress_channels::mail::read_mail(fine.as_bytes().to_vec())).await.unwrap();

    let intake = session(&app, &http, "intake").await;
    let page = http.get(format!("{}/intake", app.base)).header(COOKIE, format!("rdr_session={intake}")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("href=\"/intake\" aria-current=\"page\""), "the navigation leads here");
    assert!(page.contains("信用卡盗刷") && page.contains("someone@example.cn"), "both e-mails are listed");
    let refused = http.get(format!("{}/intake?outcome=refused", app.base)).header(COOKIE, format!("rdr_session={intake}")).send().await.unwrap().text().await.unwrap();
    assert!(refused.contains("someone@example.cn") && !refused.contains("信用卡盗刷"), "the filter keeps the refused one");
    let link = refused.find("/intake/mail/").map(|i| &refused[i..i + refused[i..].find('"').unwrap()]).expect("a link to the message").to_string();
    let raw = http.get(format!("{}{link}", app.base)).header(COOKIE, format!("rdr_session={intake}")).send().await.unwrap();
    assert_eq!(raw.headers()[CONTENT_TYPE], "message/rfc822");
    assert_eq!(raw.bytes().await.unwrap().as_ref(), empty.as_slice(), "as received");

    // The transfer list through the form: CSRF required, every row's outcome shown.
    let csrf = csrf_of(&page);
    let csv = "转办单号,转办日期,办结时限,投诉人,联系电话,被投诉机构,投诉内容\r\nZB-9,2025-01-18,2025-02-05,王五,13912345678,SH,信用卡年费未经同意扣收\r\nZB-10,2025-01-18,明天,赵六,13912345679,SH,催收电话骚扰\r\n";
    let form = |token: &str| {
        reqwest::multipart::Form::new()
            .text("csrf", token.to_string())
            .text("regulator", "")
            .part("file", reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("转办清单.csv").mime_str("text/csv").unwrap())
    };
    let res = http.post(format!("{}/intake/regulator", app.base)).header(COOKIE, format!("rdr_session={intake}")).multipart(form("forged")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "a form without the session's token changes nothing");
    let res = http.post(format!("{}/intake/regulator", app.base)).header(COOKIE, format!("rdr_session={intake}")).multipart(form(&csrf)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let result = res.text().await.unwrap();
    assert!(result.contains("ZB-9 → <a href=\"/complaints/TS-"), "the registered row links to its complaint");
    assert!(result.contains("办结时限: “明天”"), "the rejected row names its column and value: {}", &result[result.find("row-rejected").unwrap_or(0)..][..300.min(result.len())]);

    // The answers, as a workbook.
    let res = http.get(format!("{}/intake/regulator-replies?from=2025-01-01&to=2025-01-31&format=xlsx", app.base)).header(COOKIE, format!("rdr_session={intake}")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let sheet = redress_import::sheet::read_sheet(&res.bytes().await.unwrap()).unwrap();
    assert_eq!(sheet.rows.len(), 1);
    assert_eq!(sheet.rows[0].1[0], "ZB-9");
}
