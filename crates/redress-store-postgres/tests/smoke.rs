//! Runs the PostgreSQL store against a real server named by `REDRESS_TEST_POSTGRES_URL`, in a
//! fresh schema that is dropped afterwards.

use std::sync::Arc;

use jiff::Timestamp;
use redress_domain::classify::ClassifyInput;
use redress_domain::complaint::{
    Action, Actor, Channel, Complainant, ComplaintId, CustomerType, Draft, Language, NewComplaint, Respondent, validate_new,
};
use redress_domain::fields::{ExternalRef, Narrative, PersonName, Phone, Request, ShortText};
use redress_domain::lifecycle::Status;
use redress_domain::org::Role;
use redress_domain::rulebook::RuleBook;
use redress_store::{Change, ComplaintFilter, IdempotencyKey, NewUser, Registered, Registration, Store, StoreError};
use redress_store_postgres::PostgresStore;
use sqlx::Connection;

const URL_VAR: &str = "REDRESS_TEST_POSTGRES_URL";

fn now() -> Timestamp {
    "2025-01-20T02:00:00Z".parse().unwrap()
}

fn intake() -> Actor {
    Actor { id: "intake-1".into(), name: "intake".into(), role: Role::IntakeAgent, department: None }
}

fn new_complaint(phone: &str, external_ref: Option<&str>) -> NewComplaint {
    NewComplaint {
        channel: Channel::Hotline,
        regulator_order: None,
        received_at: now() - jiff::SignedDuration::from_hours(1),
        complainant: Complainant {
            name: PersonName::parse("name", "张三").unwrap(),
            id_number: None,
            phone: Some(Phone::parse("phone", phone).unwrap()),
            email: None,
            customer_type: CustomerType::Individual,
            language: Language::ZhCn,
        },
        agent: None,
        respondent: Respondent { unit: "HO".into(), staff: Vec::new() },
        product: Some(ShortText::parse("product", "信用卡").unwrap()),
        business_type: None,
        amount: None,
        request: Request::parse("request", "退还被盗刷的金额").unwrap(),
        narrative: Narrative::parse("narrative", "我的信用卡被盗刷了五千元，银行一直不处理。").unwrap(),
        title: None,
        external_ref: external_ref.map(|r| ExternalRef::parse("external_ref", r).unwrap()),
    }
}

/// Prepares a registration exactly as the service does.
fn registration(book: &Arc<RuleBook>, new: NewComplaint, idempotency: Option<IdempotencyKey>) -> (Registration, String) {
    let rules = book.default_rules();
    validate_new(&new, rules.org, now()).unwrap();
    let classification = book.classifier.classify(&ClassifyInput {
        narrative: new.narrative.as_str(),
        request: new.request.as_str(),
        product: new.product.as_ref().map(|p| p.as_str()),
        amount_in_cny_equivalent: None,
    });
    let draft = Draft::prepare(new, classification, rules, &intake(), now());
    let department = draft.department.clone();
    let registration = Registration {
        id: ComplaintId::generate(now()),
        department: draft.department.clone(),
        duplicate_key: draft.duplicate_key(),
        external_ref: draft.new.external_ref.as_ref().map(|r| r.as_str().to_string()),
        idempotency,
        duplicate_departments: None,
        build: {
            let book = book.clone();
            Box::new(move |ctx| draft.clone().register(ctx, book.default_rules()))
        },
        text: Default::default(),
        tracking_code_hash: None,
        attachments: Vec::new(),
        stats: Box::new(|_| Vec::new()),
    };
    (registration, department)
}

fn key(k: &str, hash: &str) -> Option<IdempotencyKey> {
    Some(IdempotencyKey { user_id: "intake-1".into(), key: k.into(), request_hash: hash.into() })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn store_round_trip() {
    let Ok(url) = std::env::var(URL_VAR) else {
        println!("skipping: {URL_VAR} not set");
        return;
    };
    let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
    // Several servers starting at once against the same, not yet existing schema.
    let mut starting = Vec::new();
    for _ in 0..4 {
        let (url, schema) = (url.clone(), schema.clone());
        starting.push(tokio::spawn(async move {
            let other = PostgresStore::connect_with_schema(&url, &schema).await?;
            other.migrate().await
        }));
    }
    for s in starting {
        s.await.unwrap().expect("concurrent start-up");
    }
    let store = PostgresStore::connect_with_schema(&url, &schema).await.expect("connect");
    let result = tokio::spawn(exercise(store.clone(), url.clone(), schema.clone())).await;
    drop(store);
    let mut admin = sqlx::PgConnection::connect(&url).await.expect("connect for clean-up");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE"))).execute(&mut admin).await.expect("drop schema");
    if let Err(panic) = result {
        std::panic::resume_unwind(panic.into_panic());
    }
}

async fn exercise(store: PostgresStore, url: String, schema: String) {
    assert_eq!(store.engine(), "postgres");
    assert!(PostgresStore::connect_with_schema("postgres://localhost/x", "Bad-Name").await.is_err());
    store.migrate().await.expect("migrate");
    store.migrate().await.expect("migrate again");
    let book = Arc::new(RuleBook::builtin());

    let (reg, department) = registration(&book, new_complaint("13800138000", Some("ext:1")), key("k1", "h1"));
    let handler = store
        .create_user(NewUser {
            id: "handler-1".into(),
            name: "handler".into(),
            role: Role::Handler,
            department: Some(department.clone()),
            token_hash: "tok-handler".into(),
            password_hash: None,
            created_at: now(),
        })
        .await
        .expect("create user");
    assert!(handler.active);
    assert_eq!(handler.open_load, 0);
    let again = store
        .create_user(NewUser {
            id: "handler-2".into(),
            name: "handler".into(),
            role: Role::Handler,
            department: None,
            token_hash: "tok-other".into(),
            password_hash: None,
            created_at: now(),
        })
        .await;
    assert!(matches!(again, Err(StoreError::Duplicate(_))), "{again:?}");
    assert_eq!(store.user_by_token_hash("tok-handler").await.unwrap().unwrap().id, "handler-1");
    assert_eq!(store.user_by_name("handler").await.unwrap().unwrap().id, "handler-1");
    assert_eq!(store.users().await.unwrap().len(), 1);

    // Register and read back.
    let registered = store.register(reg).await.expect("register");
    let Registered::Created(created) = registered else { panic!("expected a new complaint") };
    assert_eq!(created.status, Status::Assigned);
    assert_eq!(created.owner.handler.as_ref().map(|h| h.id.as_str()), Some("handler-1"));
    assert!(created.number.ends_with("-000001"), "{}", created.number);
    let read = store.complaint(created.id).await.unwrap().expect("stored");
    assert_eq!(read, *created);
    assert_eq!(store.complaint_by_number(&created.number).await.unwrap().as_ref(), Some(&*created));
    assert_eq!(store.count().await.unwrap(), 1);
    assert_eq!(store.user("handler-1").await.unwrap().unwrap().open_load, 1);
    let history = store.history(created.id).await.unwrap();
    assert_eq!(history.iter().map(|e| e.seq).collect::<Vec<_>>(), (1..=history.len() as i64).collect::<Vec<_>>());
    assert!(history.len() >= 3);
    assert_eq!(store.messages(created.id).await.unwrap().len(), 1);
    let page = store.list(&ComplaintFilter { limit: 10, ..Default::default() }).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].id, created.id);
    let page = store
        .list(&ComplaintFilter { statuses: vec![Status::Assigned], department: Some(department.clone()), limit: 10, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);

    // Replays: same idempotency key, same external reference; a reused key is refused.
    let (reg, _) = registration(&book, new_complaint("13800138000", Some("ext:1")), key("k1", "h1"));
    assert!(matches!(store.register(reg).await.unwrap(), Registered::Replayed(c) if c.id == created.id));
    let (reg, _) = registration(&book, new_complaint("13800138000", Some("ext:1")), None);
    assert!(matches!(store.register(reg).await.unwrap(), Registered::Replayed(c) if c.id == created.id));
    let (reg, _) = registration(&book, new_complaint("13800138000", None), key("k1", "other"));
    assert!(matches!(store.register(reg).await, Err(StoreError::IdempotencyMismatch)));

    // Concurrent identical requests: one complaint, every caller gets it.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (reg, _) = registration(&book, new_complaint("13900139000", Some("ext:race")), key("race", "h"));
        let store = store.clone();
        tasks.push(tokio::spawn(async move { store.register(reg).await }));
    }
    let mut ids = Vec::new();
    let mut created_count = 0;
    for t in tasks {
        let r = t.await.unwrap().expect("racing registration");
        created_count += usize::from(matches!(r, Registered::Created(_)));
        ids.push(r.complaint().id);
    }
    assert_eq!(created_count, 1);
    assert!(ids.iter().all(|id| *id == ids[0]));

    // Concurrent distinct registrations get distinct numbers.
    let mut tasks = Vec::new();
    for i in 0..16 {
        let (reg, _) = registration(&book, new_complaint(&format!("1370000{i:04}"), None), None);
        let store = store.clone();
        tasks.push(tokio::spawn(async move { store.register(reg).await }));
    }
    let mut numbers = Vec::new();
    for t in tasks {
        numbers.push(t.await.unwrap().expect("registration").complaint().number.clone());
    }
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 16);
    assert_eq!(store.count().await.unwrap(), 18);
    assert_eq!(store.user("handler-1").await.unwrap().unwrap().open_load, 18);

    // Keyset pagination walks every complaint once.
    let mut seen = Vec::new();
    let mut filter = ComplaintFilter { limit: 5, ..Default::default() };
    loop {
        let page = store.list(&filter).await.unwrap();
        seen.extend(page.items.iter().map(|s| s.id));
        match page.next {
            Some(c) => filter.after = Some(c),
            None => break,
        }
    }
    assert_eq!(seen.len(), 18);
    seen.dedup();
    assert_eq!(seen.len(), 18);

    // Saving an action, then a stale save.
    let mut c = store.complaint(created.id).await.unwrap().unwrap();
    let expected_version = c.version;
    let actor = Actor { id: "handler-1".into(), name: "handler".into(), role: Role::Handler, department: Some(department.clone()) };
    let outcome = c.apply(Action::StartInvestigation, &actor, now(), book.default_rules()).expect("start investigation");
    let change = Change { complaint: c.clone(), expected_version, previous_handler: Some("handler-1".into()), was_open: true, outcome, text: None, attachment: None, consumed_link: None, stats: Vec::new() };
    store.save(change.clone()).await.expect("save");
    assert_eq!(store.complaint(created.id).await.unwrap().unwrap(), c);
    assert_eq!(store.history(created.id).await.unwrap().len(), history.len() + 1);
    assert!(matches!(store.save(change).await, Err(StoreError::Conflict)));
    assert_eq!(store.user("handler-1").await.unwrap().unwrap().open_load, 18);

    // The history cannot be rewritten.
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let update = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("UPDATE {schema}.events SET action = 'x'"))).execute(&pool).await;
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DELETE FROM {schema}.events"))).execute(&pool).await;
    assert!(delete.unwrap_err().to_string().contains("append-only"));
    pool.close().await;
}

/// Several servers on one database: one of them runs the background jobs, and when it stops
/// (or loses its connection) another takes over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_server_leads_the_background_jobs() {
    let Ok(url) = std::env::var(URL_VAR) else {
        println!("skipping: {URL_VAR} not set");
        return;
    };
    let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
    let connect = || PostgresStore::connect_with_schema(&url, &schema);
    let first = connect().await.expect("connect");
    let second = connect().await.expect("connect");
    assert!(first.lead_background_jobs().await.unwrap());
    assert!(!second.lead_background_jobs().await.unwrap());
    assert!(first.lead_background_jobs().await.unwrap(), "the leader goes on leading");
    assert!(!second.lead_background_jobs().await.unwrap());

    // A store in another schema is another deployment, with a leader of its own.
    let other_schema = format!("t_{}", uuid::Uuid::now_v7().simple());
    let other = PostgresStore::connect_with_schema(&url, &other_schema).await.expect("connect");
    assert!(other.lead_background_jobs().await.unwrap());

    // The leader stops: its connection closes with it, and the next one to ask leads.
    drop(first);
    assert!(eventually(&second).await, "the second server takes over once the first is gone");
    let third = connect().await.expect("connect");
    assert!(!third.lead_background_jobs().await.unwrap());

    // The leader's lock connection dies: the lock is free for another, and the old leader,
    // connected again, follows.
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(a.pid) FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid \
         WHERE a.application_name = 'redress jobs lock' AND l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 \
         AND (l.classid::bigint << 32 | l.objid::bigint) = $1",
    )
    .bind(jobs_lock_key(&schema))
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert_eq!(killed, [true], "the leader's lock connection");
    assert!(eventually(&third).await, "the third server takes over once the lock's connection is gone");
    assert!(!second.lead_background_jobs().await.unwrap(), "the second server, connected again, follows");
    assert!(!second.lead_background_jobs().await.unwrap());
    third.close().await;
    assert!(eventually(&second).await, "the second server takes over once the third has closed");
    second.close().await;
    other.close().await;
    admin.close().await.unwrap();
    for schema in [&schema, &other_schema] {
        PostgresStore::drop_schema(&url, schema).await.unwrap();
    }
}

/// The jobs lock's key for a store in `schema`, as the store derives it (FNV-1a of the schema
/// name mixed into a fixed key), to find the lock in `pg_locks`.
fn jobs_lock_key(schema: &str) -> i64 {
    let hash = schema.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    0x7265_6472_6a6f_6273 ^ hash as i64
}

/// Whether `store` comes to lead within a few seconds (PostgreSQL ends a closed session, and
/// releases its locks, shortly after the client goes).
async fn eventually(store: &PostgresStore) -> bool {
    for _ in 0..100 {
        if store.lead_background_jobs().await.unwrap() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}
