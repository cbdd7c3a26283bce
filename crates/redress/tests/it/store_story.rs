//! The storage conformance story: one sequence of operations through the `Store` trait that
//! every engine must pass the same way.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use redress_domain::classify::ClassifyInput;
use redress_domain::complaint::{
    Action, Actor, AttachmentRef, Channel, Complainant, Complaint, ComplaintId, CustomerType, Draft, Language, NewComplaint, Respondent,
};
use redress_domain::deadline::DueState;
use redress_domain::fields::{EscalationReason, ExternalRef, Narrative, PersonName, Phone, Request};
use redress_domain::lifecycle::Status;
use redress_domain::org::Role;
use redress_domain::rulebook::RuleBook;
use redress_store::{
    AttachmentContent, Change, ComplaintFilter, IdempotencyKey, Incident, IncidentJoin, IncidentMember, IncidentScan, ModelInfo, NewUser, Ranking, Registered,
    Registration, SearchPhrase, SearchRequest, Store, StoreError, TextUpdate,
};

use crate::on_both_engines;
use crate::support::{Engine, fresh_store, start_time};

on_both_engines!(store_story, a_failing_request_fails_alone_among_concurrent_ones, duplicates_are_looked_for_in_the_departments_given);

fn new_complaint(phone: &str, at: Timestamp) -> NewComplaint {
    new_complaint_in("SH", phone, at)
}

/// A complaint about the organisation unit `unit`.
fn new_complaint_in(unit: &str, phone: &str, at: Timestamp) -> NewComplaint {
    NewComplaint {
        channel: Channel::Web,
        regulator_order: None,
        received_at: at,
        complainant: Complainant {
            name: PersonName::parse("name", "李四").unwrap(),
            id_number: None,
            phone: Some(Phone::parse("phone", phone).unwrap()),
            email: None,
            customer_type: CustomerType::Elderly,
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

fn registration(book: &Arc<RuleBook>, new: NewComplaint, now: Timestamp, idempotency: Option<IdempotencyKey>, external_ref: Option<&str>) -> Registration {
    let actor = Actor { id: "u-intake".into(), name: "intake".into(), role: Role::IntakeAgent, department: None };
    let mut new = new;
    new.external_ref = external_ref.map(|r| ExternalRef::parse("external_ref", r).unwrap());
    let classification = book.classifier.classify(&ClassifyInput { narrative: new.narrative.as_str(), request: new.request.as_str(), ..Default::default() });
    let text = redress_app::intelligence::text_index(&redress_insight::Insight::default(), "", new.narrative.as_str(), new.request.as_str(), Vec::new());
    let draft = Draft::prepare(new, classification, book.default_rules(), &actor, now);
    Registration {
        id: ComplaintId::generate(now),
        department: draft.department.clone(),
        duplicate_key: draft.duplicate_key(),
        external_ref: draft.new.external_ref.as_ref().map(|r| r.as_str().to_string()),
        idempotency,
        duplicate_departments: None,
        build: {
            let book = book.clone();
            Box::new(move |ctx| draft.clone().register(ctx, book.default_rules()))
        },
        text,
        tracking_code_hash: None,
        attachments: Vec::new(),
        stats: Box::new(|_| Vec::new()),
    }
}

fn created(r: Registered) -> Complaint {
    match r {
        Registered::Created(c) => *c,
        Registered::Replayed(c) => panic!("expected a new complaint, got a replay of {}", c.number),
    }
}

async fn add_user(store: &dyn Store, name: &str, role: Role, department: Option<&str>) -> String {
    let id = uuid::Uuid::now_v7().to_string();
    store
        .create_user(NewUser { id: id.clone(), name: name.into(), role, department: department.map(Into::into), token_hash: format!("hash-{name}"), password_hash: None, created_at: start_time() })
        .await
        .unwrap();
    id
}

async fn store_story(engine: Engine) {
    let Some((store, _dir)) = fresh_store(engine).await else { return };
    store.migrate().await.expect("migrations are idempotent");
    let book = Arc::new(RuleBook::builtin());
    let now = start_time();

    // Users and least-loaded assignment.
    let h1 = add_user(&*store, "h1", Role::Handler, Some("SH-CARD")).await;
    let h2 = add_user(&*store, "h2", Role::Handler, Some("SH-CARD")).await;
    assert!(matches!(store.create_user(NewUser { id: "x".into(), name: "h1".into(), role: Role::Handler, department: None, token_hash: "other".into(), password_hash: None, created_at: now }).await, Err(StoreError::Duplicate(_))));
    assert_eq!(store.user_by_token_hash("hash-h1").await.unwrap().unwrap().id, h1);
    assert!(store.user_by_token_hash("nope").await.unwrap().is_none());
    assert_eq!(store.user_by_name("h2").await.unwrap().unwrap().id, h2);

    let a = created(store.register(registration(&book, new_complaint("13800000001", now), now, None, None)).await.unwrap());
    let b = created(store.register(registration(&book, new_complaint("13800000002", now + SignedDuration::from_secs(1)), now, None, None)).await.unwrap());
    assert_eq!(a.owner.department, "SH-CARD", "{:?}", a.classification);
    let handlers: std::collections::HashSet<_> = [&a, &b].iter().map(|c| c.owner.handler.as_ref().unwrap().id.clone()).collect();
    assert_eq!(handlers.len(), 2, "work is spread to the least-loaded handler");
    assert!(a.number < b.number);
    assert_eq!(store.user(&h1).await.unwrap().unwrap().open_load, 1);

    // Reads.
    assert_eq!(store.complaint(a.id).await.unwrap().unwrap(), a);
    assert_eq!(store.complaint_by_number(&b.number).await.unwrap().unwrap().id, b.id);
    assert!(store.complaint(ComplaintId::generate(now)).await.unwrap().is_none());
    // Several at once: the ones that exist, whatever the order asked.
    let mut many = store.complaints(&[b.id, ComplaintId::generate(now), a.id]).await.unwrap();
    many.sort_by_key(|c| c.id);
    let mut expected = vec![a.clone(), b.clone()];
    expected.sort_by_key(|c| c.id);
    assert_eq!(many, expected);
    assert!(store.complaints(&[]).await.unwrap().is_empty());
    assert_eq!(store.count().await.unwrap(), 2);
    assert_eq!(store.history(a.id).await.unwrap().len(), 3);
    assert_eq!(store.messages(a.id).await.unwrap()[0].state, "pending");

    // Idempotency and external references.
    let key = |hash: &str| Some(IdempotencyKey { user_id: "u-intake".into(), key: "k1".into(), request_hash: hash.into() });
    let first = created(store.register(registration(&book, new_complaint("13800000003", now), now, key("h"), None)).await.unwrap());
    match store.register(registration(&book, new_complaint("13800000003", now), now, key("h"), None)).await.unwrap() {
        Registered::Replayed(c) => assert_eq!(c.id, first.id),
        Registered::Created(_) => panic!("registered twice"),
    }
    assert!(matches!(store.register(registration(&book, new_complaint("13800000003", now), now, key("other"), None)).await, Err(StoreError::IdempotencyMismatch)));
    let ext = created(store.register(registration(&book, new_complaint("13800000004", now), now, None, Some("cfpb:1"))).await.unwrap());
    assert!(matches!(store.register(registration(&book, new_complaint("13800000005", now), now, None, Some("cfpb:1"))).await.unwrap(), Registered::Replayed(c) if c.id == ext.id));

    // A repeat by the same complainant about the same matter is merged (cn-nfra).
    let repeat = created(store.register(registration(&book, new_complaint("13800000001", now), now, None, None)).await.unwrap());
    assert_eq!(repeat.status, Status::Merged);
    assert_eq!(repeat.merged_into.as_ref().unwrap().id, a.id);
    assert_eq!(store.count().await.unwrap(), 5);

    // Saving an action, with optimistic concurrency.
    let actor = Actor { id: h1.clone(), name: "h1".into(), role: Role::Handler, department: Some("SH-CARD".into()) };
    let mine = if a.owner.handler.as_ref().unwrap().id == h1 { a.clone() } else { b.clone() };
    let mut c = mine.clone();
    let outcome = c.apply(Action::StartInvestigation, &actor, now, book.default_rules()).unwrap();
    let change = Change { complaint: c.clone(), expected_version: mine.version, previous_handler: Some(h1.clone()), was_open: true, outcome, text: None, attachment: None, consumed_link: None, stats: Vec::new() };
    store.save(change.clone()).await.unwrap();
    assert!(matches!(store.save(change).await, Err(StoreError::Conflict)));
    let saved = store.complaint(c.id).await.unwrap().unwrap();
    assert_eq!(saved.status, Status::Investigating);
    assert_eq!(saved.version, mine.version + 1);
    let history = store.history(c.id).await.unwrap();
    assert_eq!(history.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2, 3, 4]);

    // Evidence is stored with the save that attaches it; a refused save stores no file.
    let attach = |content: &[u8]| {
        let (reference, file) = evidence(content, now);
        let mut after = saved.clone();
        let outcome = after.apply(Action::Attach { attachment: reference }, &actor, now, book.default_rules()).unwrap();
        let change = Change { complaint: after, expected_version: saved.version, previous_handler: Some(h1.clone()), was_open: true, outcome, text: None, attachment: Some(file.clone()), consumed_link: None, stats: Vec::new() };
        (change, file)
    };
    let (change, file) = attach(b"receipt of the annual fee");
    store.save(change).await.unwrap();
    assert_eq!(store.attachment(&file.sha256).await.unwrap(), Some((file.media_type.clone(), file.content.clone())));
    let (stale, stale_file) = attach(b"another receipt");
    assert!(matches!(store.save(stale).await, Err(StoreError::Conflict)));
    assert!(store.attachment(&stale_file.sha256).await.unwrap().is_none(), "a refused save stores no file");
    let saved = store.complaint(c.id).await.unwrap().unwrap();

    // Ending a complaint frees its handler.
    let load_before = store.user(&h1).await.unwrap().unwrap().open_load;
    let mut w = saved.clone();
    let outcome = w.apply(Action::Withdraw { reason: None }, &actor, now, book.default_rules()).unwrap();
    store.save(Change { complaint: w.clone(), expected_version: saved.version, previous_handler: Some(h1.clone()), was_open: true, outcome, text: None, attachment: None, consumed_link: None, stats: Vec::new() }).await.unwrap();
    assert_eq!(store.user(&h1).await.unwrap().unwrap().open_load, load_before - 1);

    // Lists: filters and keyset pagination, newest first.
    let all = store.list(&ComplaintFilter { limit: 200, ..Default::default() }).await.unwrap();
    assert_eq!(all.items.len(), 5);
    assert!(all.items.windows(2).all(|w| (w[0].received_at, w[0].id) >= (w[1].received_at, w[1].id)));
    let page1 = store.list(&ComplaintFilter { limit: 2, ..Default::default() }).await.unwrap();
    let page2 = store.list(&ComplaintFilter { limit: 2, after: page1.next, ..Default::default() }).await.unwrap();
    let page3 = store.list(&ComplaintFilter { limit: 2, after: page2.next, ..Default::default() }).await.unwrap();
    let paged: Vec<_> = page1.items.iter().chain(&page2.items).chain(&page3.items).map(|s| s.id).collect();
    assert_eq!(paged, all.items.iter().map(|s| s.id).collect::<Vec<_>>());
    let merged = store.list(&ComplaintFilter { statuses: vec![Status::Merged, Status::Withdrawn], limit: 50, ..Default::default() }).await.unwrap();
    assert_eq!(merged.items.len(), 2);
    let by_handler = store.list(&ComplaintFilter { handler: Some(h2.clone()), limit: 50, ..Default::default() }).await.unwrap();
    assert!(by_handler.items.iter().all(|s| s.handler.as_deref() == Some("h2")));
    let dept = store.list(&ComplaintFilter { department: Some("GZ-CP".into()), limit: 50, ..Default::default() }).await.unwrap();
    assert!(dept.items.is_empty());
    let later = store.list(&ComplaintFilter { received_from: Some(now + SignedDuration::from_millis(500)), limit: 50, ..Default::default() }).await.unwrap();
    assert_eq!(later.items.len(), 1);

    // Deadlines the scheduler should look at.
    let soon = now + SignedDuration::from_hours(24 * 20);
    let candidates = store.due_candidates(now + SignedDuration::from_hours(24 * 16), soon, 100).await.unwrap();
    assert!(candidates.iter().all(|c| c.status.is_open()));
    assert_eq!(candidates.len(), 3, "the open ones: b (or a), the idempotent one, the external one");
    let mut overdue = candidates[0].clone();
    let version = overdue.version;
    let outcome = overdue.apply(Action::MarkDue { state: DueState::Overdue }, &Actor::system(), now, book.default_rules()).unwrap();
    store.save(Change { complaint: overdue.clone(), expected_version: version, previous_handler: overdue.owner.handler.as_ref().map(|h| h.id.clone()), was_open: true, outcome, text: None, attachment: None, consumed_link: None, stats: Vec::new() }).await.unwrap();
    let again = store.due_candidates(now + SignedDuration::from_hours(24 * 16), soon, 100).await.unwrap();
    assert_eq!(again.len(), 2);

    // Notifications and label corrections round-trip.
    let mut e = store.complaint(b.id).await.unwrap().unwrap();
    let version = e.version;
    let was = e.owner.handler.as_ref().map(|h| h.id.clone());
    let outcome = e.apply(Action::Escalate { reason: EscalationReason::parse("reason", "test").unwrap() }, &Actor::system(), now, book.default_rules()).unwrap();
    store.save(Change { complaint: e.clone(), expected_version: version, previous_handler: was.clone(), was_open: true, outcome, text: None, attachment: None, consumed_link: None, stats: Vec::new() }).await.unwrap();
    let n = store.notifications(Role::DepartmentHead, Some("SH-CARD"), 10).await.unwrap();
    assert_eq!(n.len(), 1);
    assert!(store.notifications(Role::DepartmentHead, Some("GZ-CP"), 10).await.unwrap().is_empty());
    let version = e.version;
    let outcome = e.apply(Action::CorrectClassification { dimension: "cause".into(), code: "C11".into() }, &actor_head(), now, book.default_rules()).unwrap();
    store.save(Change { complaint: e.clone(), expected_version: version, previous_handler: was, was_open: true, outcome, text: None, attachment: None, consumed_link: None, stats: Vec::new() }).await.unwrap();
    let labels = store.label_corrections(10).await.unwrap();
    assert_eq!(labels.len(), 1);
    assert_eq!(labels[0].complaint_id, b.id);
    let labelled = store.labelled_texts("cause", 10).await.unwrap();
    assert_eq!((labelled.len(), labelled[0].code.as_str(), labelled[0].complaint.id), (1, "C11", b.id));
    assert!(store.labelled_texts("business_type", 10).await.unwrap().is_empty());

    text_story(&*store, &book, &e, now).await;
}

fn phrases(q: &str) -> Vec<SearchPhrase> {
    redress_app::text::phrases(&redress_text::SearchQuery::parse(q).unwrap())
}

/// Search, a saved note made searchable, similar candidates, the incident cursor and models.
async fn text_story(store: &dyn Store, book: &RuleBook, e: &Complaint, now: Timestamp) {
    let search = |q: &str, filter: ComplaintFilter| SearchRequest { phrases: phrases(q), filter, offset: 0, limit: 50 };
    // All five complaints say the same thing; the merged one is findable too.
    let all = store.search(&search("年费", ComplaintFilter::default())).await.unwrap();
    assert_eq!((all.total, all.hits.len(), all.total_is_exact), (5, 5, true));
    assert_eq!(all.ranking, Ranking::Relevance);
    let merged = store.search(&search("乱收费 客服", ComplaintFilter { statuses: vec![Status::Merged], ..Default::default() })).await.unwrap();
    assert_eq!(merged.hits.len(), 1);
    assert_eq!(merged.hits[0].complaint.status, Status::Merged);
    assert!(store.search(&search("年费 盗刷", ComplaintFilter::default())).await.unwrap().hits.is_empty());
    let paged = store.search(&SearchRequest { offset: 3, ..search("年费", ComplaintFilter::default()) }).await.unwrap();
    assert_eq!(paged.hits.len(), 2);

    // A note saved with its new index entry is found at once.
    let mut noted = store.complaint(e.id).await.unwrap().unwrap();
    let version = noted.version;
    let was = noted.owner.handler.as_ref().map(|h| h.id.clone());
    let text = redress_domain::fields::LongText::parse("text", "客户补充：已向派出所报案").unwrap();
    let outcome = noted.apply(Action::AddNote { text, customer_contact: true }, &actor_head(), now, book.default_rules()).unwrap();
    let update = TextUpdate { document: redress_app::intelligence::search_document(&noted), reading: Some(serde_json::json!({ "keywords": ["报案"] })) };
    store.save(Change { complaint: noted.clone(), expected_version: version, previous_handler: was, was_open: true, outcome, text: Some(update), attachment: None, consumed_link: None, stats: Vec::new() }).await.unwrap();
    let found = store.search(&search("派出所", ComplaintFilter::default())).await.unwrap();
    assert_eq!(found.hits.iter().map(|h| h.complaint.id).collect::<Vec<_>>(), vec![e.id]);
    assert_eq!(store.text_row(e.id).await.unwrap().unwrap().reading["keywords"][0], "报案");

    // Similar candidates share fingerprint bands.
    let row = store.text_row(e.id).await.unwrap().unwrap();
    let fp = redress_text::Fingerprint::from_bytes(row.fingerprint.as_deref().unwrap()).unwrap();
    let candidates = store.similar_candidates(&fp.band_keys(), 100, None, Some(e.id)).await.unwrap();
    assert_eq!(candidates.len(), 4, "{candidates:?}");
    assert!(candidates.iter().all(|c| c.shared_bands as usize == redress_text::Fingerprint::BANDS));
    let later = store.similar_candidates(&fp.band_keys(), 100, Some(now + SignedDuration::from_millis(500)), None).await.unwrap();
    assert_eq!(later.len(), 1);

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
    assert_eq!((listed.len(), listed[0].members, listed[0].label.as_str()), (1, 3, "年费"));
    // Seen from some departments: the incidents with a member one of them owns.
    let departments = |names: &[&str]| names.iter().map(|d| d.to_string()).collect::<Vec<_>>();
    assert_eq!(store.incidents(None, Some(&departments(&["SH-CARD"])), 10).await.unwrap().len(), 1);
    assert_eq!(store.incidents(None, Some(&departments(&["GZ-CP", "SH-CARD"])), 10).await.unwrap().len(), 1);
    assert!(store.incidents(None, Some(&departments(&["GZ-CP"])), 10).await.unwrap().is_empty());
    assert!(store.incidents(None, Some(&[]), 10).await.unwrap().is_empty());
    let (_, members) = store.incident("inc-1").await.unwrap().unwrap();
    assert_eq!(members.len(), 3);
    assert_eq!(store.incidents_of(&[rows[0].complaint_id, rows[3].complaint_id]).await.unwrap(), vec![(rows[0].complaint_id, "inc-1".to_string())]);
    assert!(store.incident("inc-2").await.unwrap().is_none());

    // Models: versions, one active per target.
    let info = |id: &str, active: bool| ModelInfo { id: id.into(), target: "cause".into(), created_at: now, active, summary: serde_json::json!({ "examples": 3 }), bytes: 0 };
    store.put_model(info("m-1", true), vec![1, 2, 3]).await.unwrap();
    store.put_model(info("m-2", false), vec![4, 5]).await.unwrap();
    let models = store.models().await.unwrap();
    assert_eq!(models.len(), 2);
    assert_eq!(models.iter().filter(|m| m.active).map(|m| m.id.as_str()).collect::<Vec<_>>(), vec!["m-1"]);
    store.activate_model("m-2").await.unwrap();
    assert_eq!(store.models().await.unwrap().iter().filter(|m| m.active).map(|m| m.id.as_str()).collect::<Vec<_>>(), vec!["m-2"]);
    assert_eq!(store.model_content("m-2").await.unwrap().unwrap(), vec![4, 5]);
    assert_eq!(models.iter().find(|m| m.id == "m-1").unwrap().bytes, 3);
    assert!(matches!(store.activate_model("m-9").await, Err(StoreError::NotFound)));
    assert!(store.unindexed(10).await.unwrap().is_empty());
}

/// A file as the service stores it: its reference in the record, and its content.
fn evidence(content: &[u8], at: Timestamp) -> (AttachmentRef, AttachmentContent) {
    use sha2::Digest;
    let sha256 = hex::encode(sha2::Sha256::digest(content));
    let reference = AttachmentRef { sha256: sha256.clone(), filename: "receipt.txt".into(), media_type: "text/plain".into(), size: content.len() as u64 };
    (reference, AttachmentContent { sha256, media_type: "text/plain".into(), content: content.to_vec(), at })
}

fn actor_head() -> Actor {
    Actor { id: "head".into(), name: "head".into(), role: Role::DepartmentHead, department: Some("SH-CARD".into()) }
}

/// Twenty concurrent registrations, two of which claim the same id: on SQLite they share a
/// group commit, which must fail for the one and succeed for the others.
async fn a_failing_request_fails_alone_among_concurrent_ones(engine: Engine) {
    let Some((store, _dir)) = fresh_store(engine).await else { return };
    let book = Arc::new(RuleBook::builtin());
    let now = start_time();
    let h1 = add_user(&*store, "h1", Role::Handler, Some("SH-CARD")).await;
    let h2 = add_user(&*store, "h2", Role::Handler, Some("SH-CARD")).await;
    let clash = ComplaintId::generate(now);
    let regs: Vec<_> = (0..20)
        .map(|i| {
            let mut r = registration(&book, new_complaint(&format!("1370000{i:04}"), now), now, None, None);
            if i == 7 || i == 13 {
                r.id = clash;
            }
            store.register(r)
        })
        .collect();
    let results = futures::future::join_all(regs).await;
    let failed: Vec<_> = results.iter().filter(|r| r.is_err()).collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(matches!(failed[0], Err(StoreError::Duplicate(_))), "{:?}", failed[0]);
    assert_eq!(store.count().await.unwrap(), 19);
    let survivor = store.complaint(clash).await.unwrap().unwrap();
    assert_eq!(store.history(survivor.id).await.unwrap().len(), 3, "the survivor is whole");
    let loads = store.user(&h1).await.unwrap().unwrap().open_load + store.user(&h2).await.unwrap().unwrap().open_load;
    assert_eq!(loads, 19, "the failed registration's handler load was rolled back");
    let numbers: std::collections::HashSet<_> = results.iter().filter_map(|r| r.as_ref().ok()).map(|r| r.complaint().number.clone()).collect();
    assert_eq!(numbers.len(), 19);
}

/// The duplicate lookup keeps to the departments the registering person may see: a complaint
/// is never linked to one they could not open.
async fn duplicates_are_looked_for_in_the_departments_given(engine: Engine) {
    let Some((store, _dir)) = fresh_store(engine).await else { return };
    let book = Arc::new(RuleBook::builtin());
    let now = start_time();
    let register = async |unit: &str, departments: Option<&[&str]>, seconds: i64| {
        let mut r = registration(&book, new_complaint_in(unit, "13900000001", now + SignedDuration::from_secs(seconds)), now, None, None);
        r.duplicate_departments = departments.map(|d| d.iter().map(|s| s.to_string()).collect());
        created(store.register(r).await.unwrap())
    };
    let in_sh = register("SH", None, 0).await;
    let in_gz = register("GZ", Some(&["GZ-CP"]), 1).await;
    assert_ne!(in_sh.owner.department, in_gz.owner.department, "the two units route to different departments");
    assert_eq!(in_gz.merged_into, None, "the earlier complaint is in a department this registration may not see");
    let from_sh = register("SH", Some(&[in_sh.owner.department.as_str()]), 2).await;
    assert_eq!(from_sh.merged_into.map(|m| m.id), Some(in_sh.id), "the newest open one it may see, not the newest");
    let from_nowhere = register("SH", Some(&[]), 3).await;
    assert_eq!(from_nowhere.merged_into, None);
    let from_everywhere = register("SH", None, 4).await;
    assert_eq!(from_everywhere.merged_into.map(|m| m.id), Some(from_nowhere.id), "the newest open one");
}
