//! Throwaway measurement: registrations per second through the SQLite writer.
use std::sync::Arc;
use std::time::Instant;

use redress_domain::classify::ClassifyInput;
use redress_domain::complaint::{Actor, Channel, Complainant, ComplaintId, CustomerType, Draft, Language, NewComplaint, Respondent};
use redress_domain::fields::{Narrative, PersonName, Phone, Request};
use redress_domain::org::Role;
use redress_domain::rulebook::RuleBook;
use redress_store::{IdempotencyKey, NewUser, Registration, SearchDocument, Store, TextIndex};

fn reg(book: &Arc<RuleBook>, client: usize, i: usize) -> Registration {
    let now: jiff::Timestamp = "2025-03-03T02:00:00Z".parse().unwrap();
    let new = NewComplaint {
        channel: Channel::Web,
        regulator_order: None,
        received_at: now,
        complainant: Complainant {
            name: PersonName::parse("name", "李四").unwrap(),
            id_number: None,
            phone: Some(Phone::parse("phone", &format!("139{client:02}{i:06}")).unwrap()),
            email: None,
            customer_type: CustomerType::Individual,
            language: Language::ZhCn,
        },
        agent: None,
        respondent: Respondent { unit: "SH".into(), staff: vec![] },
        product: None,
        business_type: None,
        amount: None,
        request: Request::parse("request", "退还年费").unwrap(),
        narrative: Narrative::parse("narrative", "信用卡年费被乱收费，客服说无法退").unwrap(),
        title: None,
        external_ref: None,
    };
    let actor = Actor { id: "u".into(), name: "u".into(), role: Role::IntakeAgent, department: None };
    let classification = book.classifier.classify(&ClassifyInput { narrative: new.narrative.as_str(), request: new.request.as_str(), ..Default::default() });
    let draft = Draft::prepare(new, classification, book.default_rules(), &actor, now);
    let book = book.clone();
    Registration {
        id: ComplaintId::generate(now),
        department: draft.department.clone(),
        duplicate_key: draft.duplicate_key(),
        external_ref: None,
        idempotency: Some(IdempotencyKey { user_id: "u".into(), key: format!("{client}-{i}"), request_hash: "h".into() }),
        duplicate_departments: None,
        build: Box::new(move |ctx| draft.clone().register(ctx, book.default_rules())),
        text: TextIndex {
            document: SearchDocument { narrative: vec!["信用".into(), "用卡".into(), "年费".into(), "乱收".into()], request: vec!["退还".into()], ..Default::default() },
            fingerprint: Some(vec![1; 256]),
            band_keys: (0..32).map(|b| (client * 1000 + i % 50 + b) as i64).collect(),
            reading: serde_json::json!({ "keywords": ["年费"] }),
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore]
async fn intake_rate() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(redress_store_sqlite::SqliteStore::open(&format!("sqlite://{}/r.db", dir.path().display())).await.unwrap());
    store.migrate().await.unwrap();
    let now: jiff::Timestamp = "2025-03-03T02:00:00Z".parse().unwrap();
    for h in 0..4 {
        let user = NewUser { id: format!("h{h}"), name: format!("h{h}"), role: Role::Handler, department: Some("SH-CARD".into()), token_hash: format!("t{h}"), password_hash: None, created_at: now };
        store.create_user(user).await.unwrap();
    }
    let book = Arc::new(RuleBook::builtin());
    for round in 0..3 {
        let started = Instant::now();
        let mut tasks = Vec::new();
        for client in 0..64 {
            let (store, book) = (store.clone(), book.clone());
            tasks.push(tokio::spawn(async move {
                for i in 0..200 {
                    store.register(reg(&book, client, round * 1000 + i)).await.unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let secs = started.elapsed().as_secs_f64();
        println!("round {round}: 12800 registrations in {secs:.2}s = {:.0}/s", 12800.0 / secs);
    }
}
