//! An acknowledged complaint survives a crash: the real binary is killed with SIGKILL while
//! clients are posting, restarted on the same database, and every complaint that got a 201 is
//! there.

use std::time::Duration;

use serde_json::Value;

use crate::support::{BinaryServer, card_complaint, start_binary};

fn start(db: &str, dir: &std::path::Path) -> (BinaryServer, Option<String>) {
    start_binary(&["--db", db], dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_complaints_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("crash.db").display());
    let (mut server, token) = start(&db, dir.path());
    let token = token.expect("the first start prints the admin token");
    let http = reqwest::Client::new();
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut tasks = Vec::new();
    for client in 0..8 {
        let (http, base, token, acknowledged) = (http.clone(), server.base.clone(), token.clone(), acknowledged.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..10_000 {
                let mut body = card_complaint(&format!("139{client:02}{i:06}"));
                // Distinct complainants: none of these is a repeat of another.
                body["complainant"]["id_number"] = Value::Null;
                let Ok(res) = http.post(format!("{base}/api/v1/complaints")).bearer_auth(&token).json(&body).send().await else { break };
                if res.status() != 201 {
                    break;
                }
                let Ok(v) = res.json::<Value>().await else { break };
                acknowledged.lock().unwrap().push(v["id"].as_str().unwrap().to_string());
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.child.kill().expect("SIGKILL");
    server.child.wait().unwrap();
    for t in tasks {
        let _ = t.await;
    }
    let acked = acknowledged.lock().unwrap().clone();
    assert!(acked.len() > 50, "the clients got going before the kill ({} acknowledged)", acked.len());

    let (server, token_again) = start(&db, dir.path());
    assert!(token_again.is_none(), "the restart finds the existing admin");
    for id in &acked {
        let res = http.get(format!("{}/api/v1/complaints/{id}", server.base)).bearer_auth(&token).send().await.unwrap();
        assert_eq!(res.status(), 200, "acknowledged complaint {id} was lost in the crash");
    }
    let history = http.get(format!("{}/api/v1/complaints/{}/history", server.base, acked[0])).bearer_auth(&token).send().await.unwrap();
    let actions: Vec<String> = history.json::<Value>().await.unwrap()["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_string()).collect();
    assert_eq!(actions, ["register", "accept"], "the whole registration (no handler exists in this database)");
}
