//! The shared SQL through both engines' stores: every `Store` method, run on SQLite and, when
//! `REDRESS_TEST_POSTGRES_URL` names a server, on PostgreSQL in a fresh schema.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use redress_domain::classify::ClassifyInput;
use redress_domain::complaint::{
    Action, Actor, AttachmentRef, Channel, Complainant, Complaint, ComplaintId, CustomerType, Draft, Language, NewComplaint, Respondent,
};
use redress_domain::fields::{EscalationReason, ExternalRef, LongText, Narrative, PersonName, Phone, Request};
use redress_domain::lifecycle::Status;
use redress_domain::org::Role;
use redress_domain::rulebook::RuleBook;
use redress_store::{
    AttachmentContent, Change, ComplaintFilter, IdempotencyKey, Incident, IncidentJoin, IncidentMember, IncidentScan, ModelInfo, NewUser,
    Ranking, Registered, Registration, SearchDocument, SearchPhrase, SearchRequest, Store, StoreError, TextIndex, TextUpdate,
};

const POSTGRES_URL_VAR: &str = "REDRESS_TEST_POSTGRES_URL";

fn start() -> Timestamp {
    "2025-03-03T02:00:00Z".parse().unwrap()
}

/// A store of each engine configured here, with what removes it afterwards.
async fn stores() -> Vec<(Arc<dyn Store>, Box<dyn std::any::Any + Send>)> {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("redress.db").display());
    let sqlite: Arc<dyn Store> = Arc::new(redress_store_sqlite::SqliteStore::open(&url).await.unwrap());
    let mut all: Vec<(Arc<dyn Store>, Box<dyn std::any::Any + Send>)> = vec![(sqlite, Box::new(dir))];
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(url) => {
            let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
            let store = redress_store_postgres::PostgresStore::connect_with_schema(&url, &schema).await.unwrap();
            all.push((Arc::new(store), Box::new(SchemaGuard { url, schema })));
        }
        Err(_) => eprintln!("PostgreSQL not tested: {POSTGRES_URL_VAR} is not set"),
    }
    for (store, _) in &all {
        store.migrate().await.unwrap();
        store.migrate().await.expect("migrating again changes nothing");
    }
    all
}

/// Drops a test schema when the test ends.
struct SchemaGuard {
    url: String,
    schema: String,
}

impl Drop for SchemaGuard {
    fn drop(&mut self) {
        let (url, schema) = (self.url.clone(), self.schema.clone());
        // Drop runs inside the test's runtime, which cannot block on async work.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(redress_store_postgres::PostgresStore::drop_schema(&url, &schema))
        })
        .join();
    }
}

fn new_complaint(phone: &str, unit: &str, at: Timestamp) -> NewComplaint {
    NewComplaint {
        channel: Channel::Web,
        regulator_order: None,
        received_at: at,
        complainant: Complainant {
            name: PersonName::parse("name", "李四").unwrap(),
            id_number: None,
            phone: Some(Phone::parse("phone", phone).unwrap()),
            email: None,
            customer_type: CustomerType::Individual,
            language: Language::ZhCn,
        },
        agent: None,
        respondent: Respondent { unit: unit.into(), staff: vec![] },
        product: None,
        business_type: None,
        amount: None,
        request: Request::parse("request", "退还年费").unwrap(),
        narrative: Narrative::parse("narrative", "信用卡年费被乱收费，客服说无法退").unwrap(),
        title: None,
        external_ref: None,
    }
}

/// The text index the service would build: two tokens and three fingerprint bands.
fn text_index() -> TextIndex {
    TextIndex {
        document: SearchDocument { narrative: vec!["年费".into(), "乱收费".into()], request: vec!["退还".into()], ..Default::default() },
        fingerprint: Some(vec![7, 7, 7]),
        band_keys: vec![-3, 11, 11, i64::MAX],
        reading: serde_json::json!({ "keywords": ["年费"] }),
    }
}

struct Intake {
    book: Arc<RuleBook>,
}

impl Intake {
    fn registration(&self, new: NewComplaint, idempotency: Option<IdempotencyKey>, external_ref: Option<&str>) -> Registration {
        let actor = Actor { id: "u-intake".into(), name: "intake".into(), role: Role::IntakeAgent, department: None };
        let mut new = new;
        new.external_ref = external_ref.map(|r| ExternalRef::parse("external_ref", r).unwrap());
        let classification = self.book.classifier.classify(&ClassifyInput { narrative: new.narrative.as_str(), request: new.request.as_str(), ..Default::default() });
        let draft = Draft::prepare(new, classification, self.book.default_rules(), &actor, start());
        let book = self.book.clone();
        Registration {
            id: ComplaintId::generate(start()),
            department: draft.department.clone(),
            duplicate_key: draft.duplicate_key(),
            external_ref: draft.new.external_ref.as_ref().map(|r| r.as_str().to_string()),
            idempotency,
            duplicate_departments: None,
            build: Box::new(move |ctx| draft.clone().register(ctx, book.default_rules())),
            text: text_index(),
            tracking_code_hash: None,
            attachments: Vec::new(),
            stats: Box::new(|_| Vec::new()),
        }
    }

    fn change(&self, before: &Complaint, action: Action, actor: &Actor) -> Change {
        let mut after = before.clone();
        let outcome = after.apply(action, actor, start(), self.book.default_rules()).unwrap();
        Change {
            complaint: after,
            expected_version: before.version,
            previous_handler: before.owner.handler.as_ref().map(|h| h.id.clone()),
            was_open: before.status.is_open(),
            outcome,
            text: None,
            attachment: None,
            consumed_link: None,
            stats: Vec::new(),
        }
    }
}

fn created(r: Registered) -> Complaint {
    match r {
        Registered::Created(c) => *c,
        Registered::Replayed(c) => panic!("expected a new complaint, got a replay of {}", c.number),
    }
}

async fn add_user(store: &dyn Store, name: &str, role: Role, department: Option<&str>) -> String {
    let id = format!("u-{name}");
    let user = NewUser { id: id.clone(), name: name.into(), role, department: department.map(Into::into), token_hash: format!("hash-{name}"), password_hash: None, created_at: start() };
    store.create_user(user).await.unwrap();
    id
}

fn file(content: &[u8]) -> (AttachmentRef, AttachmentContent) {
    let sha256 = format!("{:064x}", content.iter().map(|b| u64::from(*b)).sum::<u64>());
    let reference = AttachmentRef { sha256: sha256.clone(), filename: "evidence.txt".into(), media_type: "text/plain".into(), size: content.len() as u64 };
    (reference, AttachmentContent { sha256, media_type: "text/plain".into(), content: content.to_vec(), at: start() })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_store_method_on_every_engine() {
    for (store, _scratch) in stores().await {
        story(&*store).await;
    }
}

async fn story(store: &dyn Store) {
    let intake = Intake { book: Arc::new(RuleBook::builtin()) };
    let now = start();

    // Users.
    let h1 = add_user(store, "h1", Role::Handler, Some("SH-CARD")).await;
    let h2 = add_user(store, "h2", Role::Handler, Some("SH-CARD")).await;
    let taken = NewUser { id: "x".into(), name: "h1".into(), role: Role::Handler, department: None, token_hash: "other".into(), password_hash: None, created_at: now };
    assert!(matches!(store.create_user(taken).await, Err(StoreError::Duplicate(_))));
    assert_eq!(store.user_by_token_hash("hash-h1").await.unwrap().unwrap().id, h1);
    assert!(store.user_by_token_hash("nope").await.unwrap().is_none());
    assert_eq!(store.user_by_name("h2").await.unwrap().unwrap().id, h2);
    assert_eq!(store.users().await.unwrap().iter().map(|u| u.name.as_str()).collect::<Vec<_>>(), ["h1", "h2"]);
    assert!(store.user("nobody").await.unwrap().is_none());

    // Registration spreads work to the least-loaded handler.
    let a = created(store.register(intake.registration(new_complaint("13800000001", "SH", now), None, None)).await.unwrap());
    let b = created(store.register(intake.registration(new_complaint("13800000002", "SH", now + SignedDuration::from_secs(1)), None, None)).await.unwrap());
    assert_eq!(a.owner.department, "SH-CARD");
    assert_ne!(a.owner.handler.as_ref().unwrap().id, b.owner.handler.as_ref().unwrap().id);
    assert!(a.number < b.number);
    assert_eq!(store.user(&h1).await.unwrap().unwrap().open_load, 1);

    // Reads.
    assert_eq!(store.complaint(a.id).await.unwrap().unwrap(), a);
    assert_eq!(store.complaint_by_number(&b.number).await.unwrap().unwrap().id, b.id);
    assert!(store.complaint(ComplaintId::generate(now)).await.unwrap().is_none());
    let mut many = store.complaints(&[b.id, ComplaintId::generate(now), a.id]).await.unwrap();
    many.sort_by_key(|c| c.id);
    let mut expected = vec![a.clone(), b.clone()];
    expected.sort_by_key(|c| c.id);
    assert_eq!(many, expected);
    assert!(store.complaints(&[]).await.unwrap().is_empty());
    assert_eq!(store.count().await.unwrap(), 2);
    assert_eq!(store.history(a.id).await.unwrap().iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(store.messages(a.id).await.unwrap()[0].state, "pending");

    // Idempotency keys and external references replay the first answer.
    let key = |hash: &str| Some(IdempotencyKey { user_id: "u-intake".into(), key: "k1".into(), request_hash: hash.into() });
    let first = created(store.register(intake.registration(new_complaint("13800000003", "SH", now), key("h"), None)).await.unwrap());
    let again = store.register(intake.registration(new_complaint("13800000003", "SH", now), key("h"), None)).await.unwrap();
    assert!(matches!(again, Registered::Replayed(c) if c.id == first.id));
    let reused = store.register(intake.registration(new_complaint("13800000003", "SH", now), key("other"), None)).await;
    assert!(matches!(reused, Err(StoreError::IdempotencyMismatch)));
    let ext = created(store.register(intake.registration(new_complaint("13800000004", "SH", now), None, Some("cfpb:1"))).await.unwrap());
    let same_ref = store.register(intake.registration(new_complaint("13800000005", "SH", now), None, Some("cfpb:1"))).await.unwrap();
    assert!(matches!(same_ref, Registered::Replayed(c) if c.id == ext.id));

    // A repeat by the same complainant about the same matter is merged.
    let repeat = created(store.register(intake.registration(new_complaint("13800000001", "SH", now), None, None)).await.unwrap());
    assert_eq!((repeat.status, repeat.merged_into.as_ref().map(|m| m.id)), (Status::Merged, Some(a.id)));
    assert_eq!(store.count().await.unwrap(), 5);

    // Saving, with optimistic concurrency.
    let actor = Actor { id: h1.clone(), name: "h1".into(), role: Role::Handler, department: Some("SH-CARD".into()) };
    let mine = if a.owner.handler.as_ref().unwrap().id == h1 { a.clone() } else { b.clone() };
    let change = intake.change(&mine, Action::StartInvestigation, &actor);
    store.save(change.clone()).await.unwrap();
    assert!(matches!(store.save(change).await, Err(StoreError::Conflict)));
    let saved = store.complaint(mine.id).await.unwrap().unwrap();
    assert_eq!((saved.status, saved.version), (Status::Investigating, mine.version + 1));
    assert_eq!(store.history(mine.id).await.unwrap().iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3, 4]);
    let note = Action::AddNote { text: LongText::parse("text", "called back").unwrap(), customer_contact: false };
    let mut gone = intake.change(&saved, note, &actor);
    gone.complaint.id = ComplaintId::generate(now);
    assert!(matches!(store.save(gone).await, Err(StoreError::NotFound)));

    // An attachment is stored with the save that attaches it; a refused save stores none.
    let (reference, content) = file(b"receipt 1");
    let mut attach = intake.change(&saved, Action::Attach { attachment: reference }, &actor);
    attach.attachment = Some(content.clone());
    store.save(attach).await.unwrap();
    assert_eq!(store.attachment(&content.sha256).await.unwrap(), Some(("text/plain".to_string(), b"receipt 1".to_vec())));
    let (reference, stale_content) = file(b"receipt 22");
    let mut stale = intake.change(&saved, Action::Attach { attachment: reference }, &actor);
    stale.attachment = Some(stale_content.clone());
    assert!(matches!(store.save(stale).await, Err(StoreError::Conflict)));
    assert_eq!(store.attachment(&stale_content.sha256).await.unwrap(), None, "a refused save leaves no file");
    let saved = store.complaint(mine.id).await.unwrap().unwrap();

    // Ending a complaint frees its handler.
    let load_before = store.user(&h1).await.unwrap().unwrap().open_load;
    store.save(intake.change(&saved, Action::Withdraw { reason: None }, &actor)).await.unwrap();
    assert_eq!(store.user(&h1).await.unwrap().unwrap().open_load, load_before - 1);

    // Lists: filters and keyset pagination, newest first.
    let all = store.list(&ComplaintFilter { limit: 200, ..Default::default() }).await.unwrap();
    assert_eq!(all.items.len(), 5);
    assert!(all.items.windows(2).all(|w| (w[0].received_at, w[0].id) >= (w[1].received_at, w[1].id)));
    let mut paged = Vec::new();
    let mut filter = ComplaintFilter { limit: 2, ..Default::default() };
    loop {
        let page = store.list(&filter).await.unwrap();
        paged.extend(page.items.iter().map(|s| s.id));
        match page.next {
            Some(next) => filter.after = Some(next),
            None => break,
        }
    }
    assert_eq!(paged, all.items.iter().map(|s| s.id).collect::<Vec<_>>());
    let ended = store.list(&ComplaintFilter { statuses: vec![Status::Merged, Status::Withdrawn], limit: 50, ..Default::default() }).await.unwrap();
    assert_eq!(ended.items.len(), 2);
    let by_handler = store.list(&ComplaintFilter { handler: Some(h2.clone()), limit: 50, ..Default::default() }).await.unwrap();
    assert!(!by_handler.items.is_empty() && by_handler.items.iter().all(|s| s.handler.as_deref() == Some("h2")));
    let departments = |d: &[&str]| ComplaintFilter { departments: d.iter().map(|s| s.to_string()).collect(), limit: 50, ..Default::default() };
    assert_eq!(store.list(&departments(&["GZ-CP", "SH-CARD"])).await.unwrap().items.len(), 5);
    assert!(store.list(&departments(&["GZ-CP"])).await.unwrap().items.is_empty());
    if let Some(cause) = &a.classification.cause {
        // A code matches the codes below it, whatever the case of the letters asked for.
        let prefix = cause.code[..2].to_lowercase();
        let by_cause = store.list(&ComplaintFilter { cause: Some(prefix), limit: 50, ..Default::default() }).await.unwrap();
        assert_eq!(by_cause.items.len(), 5);
    }
    let later = store.list(&ComplaintFilter { received_from: Some(now + SignedDuration::from_millis(500)), limit: 50, ..Default::default() }).await.unwrap();
    assert_eq!(later.items.len(), 1);

    // Deadlines the scheduler should look at: the open ones.
    let soon = now + SignedDuration::from_hours(24 * 20);
    let candidates = store.due_candidates(now + SignedDuration::from_hours(24 * 16), soon, 100).await.unwrap();
    assert_eq!(candidates.len(), 3);
    assert!(candidates.iter().all(|c| c.status.is_open()));

    // Notifications and label corrections.
    let e = store.complaint(b.id).await.unwrap().unwrap();
    let escalate = Action::Escalate { reason: EscalationReason::parse("reason", "test").unwrap() };
    store.save(intake.change(&e, escalate, &Actor::system())).await.unwrap();
    assert_eq!(store.notifications(Role::DepartmentHead, Some("SH-CARD"), 10).await.unwrap().len(), 1);
    assert!(store.notifications(Role::DepartmentHead, Some("GZ-CP"), 10).await.unwrap().is_empty());
    // Without a department: every department's.
    assert!(store.notifications(Role::DepartmentHead, None, 10).await.unwrap().len() > 1);
    let e = store.complaint(b.id).await.unwrap().unwrap();
    let head = Actor { id: "head".into(), name: "head".into(), role: Role::DepartmentHead, department: Some("SH-CARD".into()) };
    store.save(intake.change(&e, Action::CorrectClassification { dimension: "cause".into(), code: "C11".into() }, &head)).await.unwrap();
    let labels = store.label_corrections(10).await.unwrap();
    assert_eq!((labels.len(), labels[0].complaint_id), (1, b.id));
    let labelled = store.labelled_texts("cause", 10).await.unwrap();
    assert_eq!((labelled.len(), labelled[0].code.as_str(), labelled[0].complaint.id), (1, "C11", b.id));
    assert!(store.labelled_texts("business_type", 10).await.unwrap().is_empty());

    text_story(store, &intake, b.id, a.owner.department.as_str()).await;
    assert!(store.lead_background_jobs().await.unwrap(), "the only server leads");
}

/// Search, a saved note made searchable, similar candidates, incidents and models.
async fn text_story(store: &dyn Store, intake: &Intake, noted_id: ComplaintId, department: &str) {
    let now = start();
    let search = |tokens: &[&str], filter: ComplaintFilter| SearchRequest {
        phrases: vec![SearchPhrase { tokens: tokens.iter().map(|t| t.to_string()).collect(), last_is_prefix: false }],
        filter,
        offset: 0,
        limit: 50,
    };
    let all = store.search(&search(&["年费"], ComplaintFilter::default())).await.unwrap();
    assert_eq!((all.total, all.hits.len(), all.total_is_exact, all.ranking), (5, 5, true, Ranking::Relevance));
    let merged = store.search(&search(&["年费"], ComplaintFilter { statuses: vec![Status::Merged], ..Default::default() })).await.unwrap();
    assert_eq!(merged.hits.len(), 1);
    assert!(store.search(&search(&["盗刷"], ComplaintFilter::default())).await.unwrap().hits.is_empty());

    // A note saved with its new index entry is found at once.
    let noted = store.complaint(noted_id).await.unwrap().unwrap();
    let note = Action::AddNote { text: LongText::parse("text", "已向派出所报案").unwrap(), customer_contact: true };
    let mut change = intake.change(&noted, note, &Actor::system());
    change.text = Some(TextUpdate {
        document: SearchDocument { notes: vec!["派出所".into()], ..text_index().document },
        reading: Some(serde_json::json!({ "keywords": ["报案"] })),
    });
    store.save(change).await.unwrap();
    let found = store.search(&search(&["派出所"], ComplaintFilter::default())).await.unwrap();
    assert_eq!(found.hits.iter().map(|h| h.complaint.id).collect::<Vec<_>>(), [noted_id]);
    assert_eq!(store.text_row(noted_id).await.unwrap().unwrap().reading["keywords"][0], "报案");

    // Similar candidates share fingerprint bands.
    let candidates = store.similar_candidates(&[11, -3, i64::MAX, 99], 100, None, Some(noted_id)).await.unwrap();
    assert_eq!(candidates.len(), 4, "{candidates:?}");
    assert!(candidates.iter().all(|c| c.shared_bands == 3 && c.fingerprint == [7, 7, 7]));
    let later = store.similar_candidates(&[11], 100, Some(now + SignedDuration::from_millis(500)), None).await.unwrap();
    assert_eq!(later.len(), 1);
    assert!(store.similar_candidates(&[], 100, None, None).await.unwrap().is_empty());

    // The incident cursor: a scan applies once.
    assert_eq!(store.incident_cursor().await.unwrap(), 0);
    let rows = store.text_rows_after(0, 100).await.unwrap();
    assert_eq!(rows.len(), 5);
    assert!(rows.windows(2).all(|w| w[0].row < w[1].row));
    let members: Vec<IncidentMember> = rows.iter().take(2).map(|r| IncidentMember { complaint_id: r.complaint_id, received_at: r.received_at, similarity: 0.9 }).collect();
    let incident = Incident { id: "inc-1".into(), label: "年费 乱收费".into(), terms: vec!["年费".into(), "乱收费".into()], first_seen: now, last_seen: now, members: 2, detected_at: now };
    let scan = IncidentScan { from_row: 0, to_row: rows[4].row, created: vec![(incident, members)], joined: vec![] };
    store.apply_incident_scan(scan.clone()).await.unwrap();
    assert!(matches!(store.apply_incident_scan(scan).await, Err(StoreError::Conflict)));
    assert_eq!(store.incident_cursor().await.unwrap(), rows[4].row);
    assert!(store.text_rows_after(rows[4].row, 100).await.unwrap().is_empty());
    let join = IncidentJoin {
        incident_id: "inc-1".into(),
        members: vec![IncidentMember { complaint_id: rows[2].complaint_id, received_at: rows[2].received_at, similarity: 0.5 }],
        label: "年费".into(),
        terms: vec!["年费".into()],
    };
    store.apply_incident_scan(IncidentScan { from_row: rows[4].row, to_row: rows[4].row, created: vec![], joined: vec![join] }).await.unwrap();
    let listed = store.incidents(None, None, 10).await.unwrap();
    assert_eq!((listed.len(), listed[0].members, listed[0].label.as_str(), listed[0].terms.as_slice()), (1, 3, "年费", ["年费".to_string()].as_slice()));
    let (_, members) = store.incident("inc-1").await.unwrap().unwrap();
    assert_eq!(members.len(), 3);
    assert!(members.iter().any(|m| m.similarity == 0.5));
    assert_eq!(store.incidents_of(&[rows[0].complaint_id, rows[3].complaint_id]).await.unwrap(), vec![(rows[0].complaint_id, "inc-1".to_string())]);
    assert!(store.incident("inc-2").await.unwrap().is_none());

    // Incidents seen from some departments: those with a member they own.
    let only = |d: &[&str]| d.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(store.incidents(None, Some(&only(&[department])), 10).await.unwrap().len(), 1);
    assert_eq!(store.incidents(None, Some(&only(&["GZ-CP", department])), 10).await.unwrap().len(), 1);
    assert!(store.incidents(None, Some(&only(&["GZ-CP"])), 10).await.unwrap().is_empty());
    assert!(store.incidents(None, Some(&[]), 10).await.unwrap().is_empty());
    assert!(store.incidents(Some(now + SignedDuration::from_hours(1)), None, 10).await.unwrap().is_empty());

    // Models: versions, one active per target.
    let info = |id: &str, active: bool| ModelInfo { id: id.into(), target: "cause".into(), created_at: now, active, summary: serde_json::json!({ "examples": 3 }), bytes: 0 };
    store.put_model(info("m-1", true), vec![1, 2, 3]).await.unwrap();
    store.put_model(info("m-2", false), vec![4, 5]).await.unwrap();
    let active = |models: Vec<ModelInfo>| models.into_iter().filter(|m| m.active).map(|m| m.id).collect::<Vec<_>>();
    let models = store.models().await.unwrap();
    assert_eq!(models.iter().find(|m| m.id == "m-1").unwrap().bytes, 3);
    assert_eq!(active(models), ["m-1"]);
    store.activate_model("m-2").await.unwrap();
    assert_eq!(active(store.models().await.unwrap()), ["m-2"]);
    store.put_model(info("m-3", true), vec![6]).await.unwrap();
    assert_eq!(active(store.models().await.unwrap()), ["m-3"]);
    assert_eq!(store.model_content("m-2").await.unwrap().unwrap(), vec![4, 5]);
    assert!(store.model_content("m-9").await.unwrap().is_none());
    assert!(matches!(store.activate_model("m-9").await, Err(StoreError::NotFound)));

    // Re-indexing replaces a complaint's entry.
    assert!(store.unindexed(10).await.unwrap().is_empty());
    let mut index = text_index();
    index.document.title = vec!["重新".into()];
    index.band_keys = vec![12345];
    store.index_text(noted_id, now, index).await.unwrap();
    assert_eq!(store.search(&search(&["重新"], ComplaintFilter::default())).await.unwrap().hits.len(), 1);
    assert_eq!(store.similar_candidates(&[12345], 10, None, None).await.unwrap().len(), 1);
    assert_eq!(store.text_row(noted_id).await.unwrap().unwrap().complaint_id, noted_id);
}

/// The duplicate lookup keeps to the departments the registration may see.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_are_looked_for_in_the_departments_given() {
    for (store, _scratch) in stores().await {
        let intake = Intake { book: Arc::new(RuleBook::builtin()) };
        let now = start();
        let register = async |unit: &str, departments: Option<&[&str]>, seconds: i64| {
            let mut r = intake.registration(new_complaint("13900000001", unit, now + SignedDuration::from_secs(seconds)), None, None);
            r.duplicate_departments = departments.map(|d| d.iter().map(|s| s.to_string()).collect());
            created(store.register(r).await.unwrap())
        };
        let in_sh = register("SH", None, 0).await;
        let in_gz = register("GZ", Some(&["GZ-CP"]), 1).await;
        assert_ne!(in_sh.owner.department, in_gz.owner.department, "the two units route to different departments");
        assert_eq!(in_gz.merged_into, None, "the earlier complaint is in a department this registration may not see");
        let seen_from_sh = register("SH", Some(&[in_sh.owner.department.as_str()]), 2).await;
        assert_eq!(seen_from_sh.merged_into.map(|m| m.id), Some(in_sh.id), "the newest open one it may see, not the newest");
        let seen_from_nowhere = register("SH", Some(&[]), 3).await;
        assert_eq!(seen_from_nowhere.merged_into, None);
        let seen_from_everywhere = register("SH", None, 4).await;
        assert_eq!(seen_from_everywhere.merged_into.map(|m| m.id), Some(seen_from_nowhere.id), "the newest open one");
    }
}

/// Registrations waiting together (one group commit on SQLite) see each other's complaints as
/// duplicates, within the departments each may see.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrations_together_see_each_other() {
    for (store, _scratch) in stores().await {
        let intake = Intake { book: Arc::new(RuleBook::builtin()) };
        let now = start();
        let restricted = |i: i64| i % 2 == 1;
        let registrations = (0..8).map(|i| {
            let mut r = intake.registration(new_complaint("13900000002", "SH", now + SignedDuration::from_secs(i)), None, None);
            if restricted(i) {
                r.duplicate_departments = Some(vec!["GZ-CP".into()]);
            }
            store.register(r)
        });
        let done: Vec<Complaint> = futures::future::join_all(registrations).await.into_iter().map(|r| created(r.unwrap())).collect();
        for (i, c) in (0..).zip(&done) {
            if restricted(i) {
                assert_eq!(c.merged_into, None, "no open complaint in GZ-CP to merge into");
            }
        }
        // PostgreSQL registers each in a transaction of its own: concurrent ones do not see
        // each other until they commit.
        if store.engine() == "sqlite" {
            let unrestricted_open = (0..).zip(&done).filter(|(i, c)| !restricted(*i) && c.merged_into.is_none()).count();
            assert!(unrestricted_open <= 1, "only the first of them can find nothing to merge into");
        }
        for merged in done.iter().filter_map(|c| c.merged_into.as_ref()) {
            let target = done.iter().find(|c| c.id == merged.id).expect("merged into one of the batch");
            assert_eq!(target.merged_into, None);
        }
    }
}
