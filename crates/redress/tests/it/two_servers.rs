//! Two app servers on one database (PostgreSQL; an embedded SQLite store has one server):
//! each runs the background jobs as if it were alone, at the same moment as the other, and
//! still every overdue complaint is escalated once and every incident detected once; the jobs
//! lock is held by exactly one server and passes to the other when it stops.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use redress_app::App;
use redress_domain::org::Role;
use redress_domain::rulebook::RuleBook;
use redress_store::Store;
use redress_store_postgres::PostgresStore;
use serde_json::{Value, json};

use crate::on_both_engines;
use crate::support::{Database, Engine, Scratch, TestApp, card_complaint, fresh_store};

on_both_engines!(
    two_servers_sweeping_at_once_escalate_each_overdue_complaint_once,
    two_servers_detecting_at_once_find_each_incident_once,
    exactly_one_server_leads_the_jobs_and_the_other_takes_over,
);

/// The test app (the first server) and a second server: its own connections to the same
/// schema, the same rules and the same clock. `None`, with a notice, on SQLite.
pub(crate) async fn two_servers(engine: Engine) -> Option<(TestApp, App, PostgresStore)> {
    if engine == Engine::Sqlite {
        eprintln!("skipping on SQLite: an embedded store serves one app server");
        return None;
    }
    let (app, database) = TestApp::start_with_database(engine).await?;
    let Database::Postgres { url, schema } = database else { unreachable!("PostgreSQL") };
    let store = PostgresStore::connect_with_schema(&url, &schema).await.expect("second connection");
    store.migrate().await.expect("migrations are already there");
    let second = App::new(Arc::new(store.clone()), Arc::new(RuleBook::builtin()), app.clock.clone());
    Some((app, second, store))
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

async fn two_servers_sweeping_at_once_escalate_each_overdue_complaint_once(engine: Engine) {
    let Some((app, second, store)) = two_servers(engine).await else { return };
    let mut ids = Vec::new();
    for i in 0..8 {
        let mut c = card_complaint(&format!("1381234{i:04}"));
        c["complainant"]["id_number"] = json!(null);
        if i % 2 == 1 {
            c["respondent"] = json!({ "unit": "GZ" });
            c["business_type"] = json!("B0301");
        }
        ids.push(id(&app.register(&c).await));
    }
    // Past every deadline (15 days).
    app.advance_days(20);
    let mut overdue = 0;
    for _ in 0..4 {
        let (a, b) = tokio::join!(redress_app::jobs::sweep(&app.state), redress_app::jobs::sweep(&second));
        let (a, b) = (a.expect("sweep on the first server"), b.expect("sweep on the second server"));
        overdue += a.overdue + b.overdue;
    }
    assert!(overdue >= ids.len(), "each complaint was found overdue: {overdue}");
    let supervisor_notes = app.state.store.notifications(Role::Supervisor, None, 1000).await.unwrap();
    for cid in &ids {
        let (_, c) = app.get("supervisor", &format!("/api/v1/complaints/{cid}")).await;
        assert_eq!(c["due_state"], "overdue", "{c}");
        assert_eq!(c["priority"], "high", "raised once from normal: {c}");
        let (_, h) = app.get("auditor", &format!("/api/v1/complaints/{cid}/history")).await;
        let actions: Vec<&str> = h["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions.iter().filter(|a| **a == "escalate").count(), 1, "{cid}: {actions:?}");
        assert_eq!(actions.iter().filter(|a| **a == "mark_due").count(), 1, "{cid}: {actions:?}");
        let seqs: Vec<i64> = h["events"].as_array().unwrap().iter().map(|e| e["seq"].as_i64().unwrap()).collect();
        assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "{cid}: one history, no gaps or repeats");
        // One escalation's notifications: the supervisors once, the owner's head once.
        let about: Vec<_> = supervisor_notes.iter().filter(|n| n.notification.complaint_id.to_string() == *cid).collect();
        assert_eq!(about.len(), 1, "{cid}: {about:?}");
        let department = c["owner"]["department"].as_str().unwrap();
        let heads = app.state.store.notifications(Role::DepartmentHead, Some(department), 1000).await.unwrap();
        let about = heads.iter().filter(|n| n.notification.complaint_id.to_string() == *cid && n.notification.department.as_deref() == Some(department)).count();
        assert_eq!(about, 1, "{cid}: the head of {department} told once");
    }
    // Both servers read the same, and a further sweep on either changes nothing.
    let (a, b) = tokio::join!(redress_app::jobs::sweep(&app.state), redress_app::jobs::sweep(&second));
    assert_eq!((a.unwrap().overdue, b.unwrap().overdue), (0, 0));
    store.close().await;
}

async fn two_servers_detecting_at_once_find_each_incident_once(engine: Engine) {
    let Some((app, second, store)) = two_servers(engine).await else { return };
    let mut members = BTreeSet::new();
    for i in 0..7 {
        let c = app
            .register(&json!({
                "channel": "app",
                "complainant": { "name": format!("客户{i}"), "phone": format!("1370000{i:04}"), "customer_type": "individual" },
                "respondent": { "unit": "SH" },
                "request": "要求退还重复扣款",
                "narrative": format!("今天用手机银行缴纳燃气费，同一笔费用被重复扣款两次，客服说系统升级导致，要求尽快退还，第{i}户"),
            }))
            .await;
        members.insert(id(&c));
        app.clock.advance(jiff::SignedDuration::from_mins(4));
        // Both servers look while the complaints keep arriving.
        if i % 2 == 0 {
            let (a, b) = tokio::join!(redress_app::jobs::detect(&app.state), redress_app::jobs::detect(&second));
            a.expect("detect on the first server");
            b.expect("detect on the second server");
        }
    }
    let mut created = 0;
    for _ in 0..3 {
        let (a, b) = tokio::join!(redress_app::jobs::detect(&app.state), redress_app::jobs::detect(&second));
        created += a.unwrap().created + b.unwrap().created;
    }
    let incidents = app.state.store.incidents(None, None, 100).await.unwrap();
    assert_eq!(incidents.len(), 1, "{incidents:?} (created in the last passes: {created})");
    let (incident, listed) = app.state.store.incident(&incidents[0].id).await.unwrap().unwrap();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for m in &listed {
        *seen.entry(m.complaint_id.to_string()).or_default() += 1;
    }
    assert!(seen.values().all(|n| *n == 1), "every member once: {seen:?}");
    assert_eq!(seen.keys().cloned().collect::<BTreeSet<_>>(), members, "every look-alike is a member");
    assert_eq!(incident.members, members.len() as u64, "{incident:?}");
    let ids: Vec<_> = listed.iter().map(|m| m.complaint_id).collect();
    let of = app.state.store.incidents_of(&ids).await.unwrap();
    assert_eq!(of.len(), members.len(), "each complaint in one incident: {of:?}");
    // The second server reads the same incident.
    let again = second.store.incidents(None, None, 100).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].id, incident.id);
    store.close().await;
}

async fn exactly_one_server_leads_the_jobs_and_the_other_takes_over(engine: Engine) {
    if engine == Engine::Sqlite {
        eprintln!("skipping on SQLite: an embedded store serves one app server");
        return;
    }
    let Some((_first, scratch)) = fresh_store(engine).await else { return };
    let Scratch::Schema { url, schema } = &scratch else { unreachable!("PostgreSQL") };
    let a = PostgresStore::connect_with_schema(url, schema).await.unwrap();
    let b = PostgresStore::connect_with_schema(url, schema).await.unwrap();
    let (la, lb) = tokio::join!(a.lead_background_jobs(), b.lead_background_jobs());
    let (la, lb) = (la.unwrap(), lb.unwrap());
    assert!(la ^ lb, "exactly one leads: {la} {lb}");
    // Asking again changes nothing.
    for _ in 0..3 {
        let (la2, lb2) = tokio::join!(a.lead_background_jobs(), b.lead_background_jobs());
        assert_eq!((la2.unwrap(), lb2.unwrap()), (la, lb));
    }
    // Another deployment in another schema of the same database has a lock of its own.
    let Some((other, _other_scratch)) = fresh_store(engine).await else { return };
    assert!(other.lead_background_jobs().await.unwrap(), "another schema is another deployment");

    let (leader, follower) = if la { (a, b) } else { (b, a) };
    leader.close().await;
    drop(leader);
    let mut took_over = false;
    for _ in 0..50 {
        if follower.lead_background_jobs().await.unwrap() {
            took_over = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(took_over, "the other server takes the jobs over once the leader stops");
    assert!(follower.lead_background_jobs().await.unwrap(), "and keeps them");
    follower.close().await;

    // A leader that dies without closing (its connections dropped) hands over too.
    let c = PostgresStore::connect_with_schema(url, schema).await.unwrap();
    let d = PostgresStore::connect_with_schema(url, schema).await.unwrap();
    assert!(c.lead_background_jobs().await.unwrap());
    assert!(!d.lead_background_jobs().await.unwrap());
    drop(c);
    let mut took_over = false;
    for _ in 0..50 {
        if d.lead_background_jobs().await.unwrap() {
            took_over = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(took_over, "the other server takes the jobs over once the leader's store is dropped");
    d.close().await;
}
