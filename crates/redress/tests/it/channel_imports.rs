//! The regulator's transfer lists (CSV as Excel writes it in GBK, and XLSX) become
//! regulator-forwarded complaints with their work orders and deadlines, and the answers go back
//! in the same layout; the hotline's call records join the caller's complaint or register one,
//! with the recordings as evidence. Bad rows are rejected with their line and column; imports
//! run again add nothing.

use redress_analytics::export::{Table, Value as Cell};
use redress_app::hotline::{CallResult, import_calls};
use reqwest::StatusCode;
use serde_json::Value;

use crate::on_both_engines;
use crate::support::{Engine, TestApp, card_complaint};

on_both_engines!(regulator_transfers_come_in_and_answers_go_back_in_their_layout, hotline_calls_join_their_complaint_or_register_one);

async fn import(app: &TestApp, who: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let res = app.http.post(format!("{}/api/v1/imports/regulator", app.base)).bearer_auth(&app.tokens[who]).body(body).send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn regulator_transfers_come_in_and_answers_go_back_in_their_layout(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let csv = "转办单号,转办日期,办结时限,投诉人,联系电话,被投诉机构,业务类别,投诉诉求,投诉内容\r\n\
ZB-2025-0001,2025-01-18,2025/02/05,王五,13912345678,SH,信用卡,退还年费,\"信用卡年费未经同意扣收300元，\r\n多次联系客服未果。\"\r\n\
ZB-2025-0002,2025-01-18,下周,赵六,13912345679,SH,贷款,停止催收,催收电话每天十余次\r\n\
ZB-2025-0003,2025-01-19,2025-02-06,钱七,13912345670,北京分行,理财,赔偿损失,理财亏损\r\n\
ZB-2025-0005,2025-01-19,2025-02-06,吴十,13912345672,SH,理财,赔偿损失,\r\n\
ZB-2025-0004,2025年1月19日,2025年2月6日,孙八,13912345671,,理财,赔偿损失,理财产品风险等级与宣传不符，亏损2万元\r\n";
    let (gbk, _, _) = encoding_rs::GB18030.encode(csv);
    let (status, _) = import(&app, "card_handler", gbk.to_vec()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a handler does not import");
    let (status, v) = import(&app, "intake", gbk.to_vec()).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let rows = v["rows"].as_array().unwrap();
    let outcomes: Vec<(&str, u64)> = rows.iter().map(|r| (r["outcome"].as_str().unwrap(), r["line"].as_u64().unwrap())).collect();
    // The first row spans two lines of the file.
    assert_eq!(outcomes, [("registered", 2), ("rejected", 4), ("rejected", 5), ("rejected", 6), ("registered", 7)], "{v}");
    assert_eq!(rows[1]["column"], "办结时限");
    assert!(rows[1]["reason"].as_str().unwrap().contains("下周"));
    assert_eq!(rows[2]["column"], "被投诉机构", "{}", rows[2]);
    assert_eq!(rows[3]["column"], "投诉内容", "{}", rows[3]);

    let number = rows[0]["number"].as_str().unwrap();
    let (_, c) = app.get("supervisor", &format!("/api/v1/complaints/{number}")).await;
    assert_eq!(c["channel"], "regulator");
    assert_eq!(c["regulator_order"]["order_number"], "ZB-2025-0001");
    assert_eq!(c["regulator_order"]["regulator"], "国家金融监督管理总局");
    // Due by the end of 5 February in Shanghai.
    assert_eq!(c["regulator_order"]["deadline"], "2025-02-05T16:00:00Z");
    assert!(c["narrative"].as_str().unwrap().contains("多次联系客服未果"));

    // Again, as a workbook: nothing new.
    let table = Table {
        title: "转办清单".into(),
        columns: ["转办单号", "转办日期", "办结时限", "投诉人", "投诉内容"].map(String::from).to_vec(),
        rows: vec![vec![Cell::from("ZB-2025-0001"), Cell::from("2025-01-18"), Cell::from("2025-02-05"), Cell::from("王五"), Cell::from("信用卡年费未经同意扣收300元")]],
    };
    let xlsx = redress_analytics::export::to_xlsx(&[table]).unwrap();
    let (_, v) = import(&app, "intake", xlsx).await;
    assert_eq!(v["rows"][0]["outcome"], "already_present", "{v}");
    assert_eq!(v["rows"][0]["number"], number);

    // The answers, in the list's layout with the answer's columns, as CSV and as XLSX.
    let res = app.http.get(format!("{}/api/v1/exports/regulator-replies?from=2025-01-01&to=2025-01-31", app.base)).bearer_auth(&app.tokens["card_handler"]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "a handler does not export transfers");
    let res = app.http.get(format!("{}/api/v1/exports/regulator-replies?from=2025-01-01&to=2025-01-31&format=xlsx", app.base)).bearer_auth(&app.tokens["intake"]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let sheet = redress_import::sheet::read_sheet(&res.bytes().await.unwrap()).unwrap();
    assert_eq!(&sheet.headers[..4], ["转办单号", "转办单位", "转办日期", "办结时限"]);
    assert!(sheet.headers.iter().any(|h| h == "处理结果") && sheet.headers.iter().any(|h| h == "本机构投诉编号"));
    assert_eq!(sheet.rows.len(), 2);
    let first = &sheet.rows[0].1;
    assert_eq!((first[0].as_str(), first[2].as_str(), first[3].as_str()), ("ZB-2025-0001", "2025-01-18", "2025-02-05"));
    assert!(first.iter().any(|cell| cell == number));
    assert!(first.iter().any(|cell| cell == "办理中"));
    let res = app.http.get(format!("{}/api/v1/exports/regulator-replies?from=2025-01-01&to=2025-01-31", app.base)).bearer_auth(&app.tokens["intake"]).send().await.unwrap();
    let csv = res.bytes().await.unwrap();
    let reread = redress_import::sheet::read_sheet(&csv).unwrap();
    assert_eq!(reread.headers, sheet.headers, "the CSV has the workbook's layout");
    let res = app.http.get(format!("{}/api/v1/exports/regulator-replies?from=2025-02-01&to=2025-01-01", app.base)).bearer_auth(&app.tokens["intake"]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// A valid WAV file of silence.
fn wav(seconds: u32) -> Vec<u8> {
    let data_len = 8000 * seconds;
    let mut w = Vec::new();
    w.extend(b"RIFF");
    w.extend((36 + data_len).to_le_bytes());
    w.extend(b"WAVEfmt ");
    w.extend(16u32.to_le_bytes());
    w.extend(1u16.to_le_bytes());
    w.extend(1u16.to_le_bytes());
    w.extend(8000u32.to_le_bytes());
    w.extend(8000u32.to_le_bytes());
    w.extend(1u16.to_le_bytes());
    w.extend(8u16.to_le_bytes());
    w.extend(b"data");
    w.extend(data_len.to_le_bytes());
    w.extend(std::iter::repeat_n(128u8, data_len as usize));
    w
}

async fn hotline_calls_join_their_complaint_or_register_one(engine: Engine) {
    let Some(app) = TestApp::start(engine).await else { return };
    let existing = app.register(&card_complaint("13812345678")).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rec-001.wav"), wav(2)).unwrap();
    std::fs::write(dir.path().join("rec-002.wav"), wav(1)).unwrap();
    std::fs::write(dir.path().join("rec-003.wav"), b"MZ\x90\x00 not a recording").unwrap();
    let csv = "来电时间,主叫号码,坐席工号,通话时长,录音文件,客户姓名,来电摘要\n\
2025-01-20 09:15:02,138-1234-5678,A1021,0:03:25,rec-001.wav,,客户再次来电催问盗刷处理进度\n\
2025-01-20 09:40:11,13987654321,A1022,95,rec-002.wav,李四,反映理财经理误导销售，要求赔偿\n\
2025-01-20 10:02:40,13987654322,A1022,60,rec-003.wav,周九,投诉网点排队\n\
2025-01-20 10:05:00,,A1023,60,,,\n";
    let sheet = redress_import::sheet::read_sheet(csv.as_bytes()).unwrap();
    let folder = dir.path().to_path_buf();
    let read = move |name: &str| std::fs::read(folder.join(name)).map_err(|e| format!("{name}: {e}"));
    let intake = app.caller("intake").await;
    let results = import_calls(&app.state, &intake, &sheet, &read).await.unwrap();
    let number = existing["number"].as_str().unwrap();
    assert!(matches!(&results[0], CallResult::Attached { line: 2, number: n } if n == number), "{results:?}");
    let CallResult::Registered { line: 3, number: new_number } = &results[1] else { panic!("{results:?}") };
    assert!(matches!(&results[2], CallResult::Rejected { line: 4, column: Some(c), .. } if c == "录音文件"), "{results:?}");
    assert!(matches!(&results[3], CallResult::Rejected { line: 5, column: Some(c), .. } if c == "主叫号码"), "{results:?}");

    let (_, c) = app.get("supervisor", &format!("/api/v1/complaints/{number}")).await;
    assert_eq!(c["attachments"][0]["filename"], "rec-001.wav");
    assert_eq!(c["attachments"][0]["media_type"], "audio/wav");
    let note = c["notes"].as_array().unwrap().last().unwrap();
    assert_eq!(note["customer_contact"], true);
    assert!(note["text"].as_str().unwrap().contains("坐席 A1021") && note["text"].as_str().unwrap().contains("3 分 25 秒"), "{note}");
    let (_, new) = app.get("supervisor", &format!("/api/v1/complaints/{new_number}")).await;
    assert_eq!((new["channel"].as_str(), new["complainant"]["name"].as_str()), (Some("hotline"), Some("李四")));
    assert!(new["narrative"].as_str().unwrap().contains("误导销售"));
    assert_eq!(new["attachments"][0]["filename"], "rec-002.wav");
    assert_eq!(new["received_at"], "2025-01-20T01:40:11Z", "received when the call came, in Shanghai time");

    // Again: nothing new.
    let again = import_calls(&app.state, &intake, &sheet, &read).await.unwrap();
    assert!(matches!(&again[0], CallResult::AlreadyPresent { .. }) && matches!(&again[1], CallResult::AlreadyPresent { .. }), "{again:?}");
    let (_, c) = app.get("supervisor", &format!("/api/v1/complaints/{number}")).await;
    assert_eq!(c["notes"].as_array().unwrap().len(), 1);
}
