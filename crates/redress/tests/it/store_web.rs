//! What the web front end keeps in the store, through the `Store` trait, the same story on every
//! engine: sessions, sign-in throttling, passwords and account changes, the work queue,
//! tracking codes, single-use links, installation secrets, notification reads, and the files a
//! complaint is registered with.

use std::collections::HashSet;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use redress_domain::classify::ClassifyInput;
use redress_domain::complaint::{
    Action, Actor, AttachmentRef, Channel, Complainant, Complaint, ComplaintId, CustomerType, Draft, Language, NewComplaint, RegistrationContext,
    Respondent,
};
use redress_domain::lifecycle::ActionKind;
use redress_domain::deadline::DueState;
use redress_domain::fields::{Narrative, PersonName, Phone, Request};
use redress_domain::lifecycle::Status;
use redress_domain::org::Role;
use redress_domain::rulebook::RuleBook;
use redress_store::{
    AttachmentContent, Change, ComplaintFilter, IdempotencyKey, NewSession, NewUser, Registered, Registration, Store, StoreError, UserUpdate,
    WorkCursor, WorkQueue,
};

use crate::on_both_engines;
use crate::support::{Database, Engine, Scratch, TestApp, fresh_store, start_time};

on_both_engines!(
    sessions_and_accounts,
    the_work_queue,
    tracking_codes_links_secrets_and_reads,
    what_waits_for_approval,
    files_are_registered_with_the_complaint,
    the_use_cases_register_files_with_the_complaint
);

async fn add_user(store: &dyn Store, name: &str, role: Role, department: Option<&str>) -> String {
    let id = uuid::Uuid::now_v7().to_string();
    let user = NewUser {
        id: id.clone(),
        name: name.into(),
        role,
        department: department.map(Into::into),
        token_hash: format!("hash-{name}"),
        password_hash: None,
        created_at: start_time(),
    };
    store.create_user(user).await.unwrap();
    id
}

/// What a complaint registered by [`registration`] looks like.
#[derive(Clone)]
struct Shape {
    /// The owning department.
    department: &'static str,
    /// Whether the store may assign it to a handler (otherwise nobody owns it).
    assign: bool,
    /// The decision deadline, which an open complaint's queue position follows.
    decide_by: Option<Timestamp>,
    /// Its due state.
    due: DueState,
    /// Its tracking code's hash.
    tracking_code_hash: Option<&'static str>,
}

impl Shape {
    fn new(department: &'static str, decide_by: Option<Timestamp>) -> Shape {
        Shape { department, assign: true, decide_by, due: DueState::OnTime, tracking_code_hash: None }
    }
}

/// A registration of a complaint shaped as asked, with a phone number of its own (so it is no
/// one's duplicate).
fn registration(book: &Arc<RuleBook>, phone: u32, shape: Shape) -> Registration {
    let now = start_time();
    let new = NewComplaint {
        channel: Channel::Web,
        regulator_order: None,
        received_at: now,
        complainant: Complainant {
            name: PersonName::parse("name", "王五").unwrap(),
            id_number: None,
            phone: Some(Phone::parse("phone", &format!("1390{phone:07}")).unwrap()),
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
    let actor = Actor { id: "u-intake".into(), name: "intake".into(), role: Role::IntakeAgent, department: None };
    let classification = book.classifier.classify(&ClassifyInput { narrative: new.narrative.as_str(), request: new.request.as_str(), ..Default::default() });
    let mut draft = Draft::prepare(new, classification, book.default_rules(), &actor, now);
    draft.department = shape.department.to_string();
    let book = book.clone();
    let Shape { department, assign, decide_by, due, tracking_code_hash } = shape;
    Registration {
        id: ComplaintId::generate(now),
        department: department.to_string(),
        duplicate_key: None,
        external_ref: None,
        idempotency: None,
        duplicate_departments: None,
        build: Box::new(move |ctx| {
            let ctx = if assign { ctx } else { RegistrationContext { handler: None, ..ctx } };
            let (mut c, outcome) = draft.clone().register(ctx, book.default_rules());
            c.deadlines.decide_by = decide_by;
            c.due_state = due;
            (c, outcome)
        }),
        text: Default::default(),
        tracking_code_hash: tracking_code_hash.map(Into::into),
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

fn handler_actor(id: &str) -> Actor {
    Actor { id: id.into(), name: "handler".into(), role: Role::Handler, department: Some("SH-CARD".into()) }
}

/// The change an action of the complaint's handler makes to a complaint as stored now.
async fn change(store: &dyn Store, book: &RuleBook, id: ComplaintId, action: Action, consumed_link: Option<&str>) -> Change {
    change_by(store, book, id, action, None, consumed_link).await
}

/// The change an action makes to a complaint as stored now, by the actor given or else by the
/// complaint's handler.
async fn change_by(store: &dyn Store, book: &RuleBook, id: ComplaintId, action: Action, actor: Option<&Actor>, consumed_link: Option<&str>) -> Change {
    let before = store.complaint(id).await.unwrap().unwrap();
    let mut after = before.clone();
    let handler = before.owner.handler.as_ref().map_or("nobody", |h| h.id.as_str()).to_string();
    let actor = actor.cloned().unwrap_or_else(|| handler_actor(&handler));
    let outcome = after.apply(action, &actor, start_time(), book.default_rules()).unwrap();
    Change {
        complaint: after,
        expected_version: before.version,
        previous_handler: before.owner.handler.as_ref().map(|h| h.id.clone()),
        was_open: before.status.is_open(),
        outcome,
        text: None,
        attachment: None,
        consumed_link: consumed_link.map(Into::into),
        stats: Vec::new(),
    }
}

async fn sessions_and_accounts(engine: Engine) {
    let Some((store, _dir)) = fresh_store(engine).await else { return };
    store.migrate().await.expect("migrations are idempotent");
    let now = start_time();
    let hour = SignedDuration::from_hours(1);
    let alice = add_user(&*store, "alice", Role::Handler, Some("SH-CARD")).await;
    let bob = add_user(&*store, "bob", Role::DepartmentHead, Some("SH-CARD")).await;
    assert_eq!(store.user(&alice).await.unwrap().unwrap().language, None, "a new user has no language yet");

    // Sessions: live until they expire or are revoked.
    let session = |id_hash: &str, user_id: &str| NewSession {
        id_hash: id_hash.into(),
        user_id: user_id.into(),
        csrf_token: format!("csrf-{id_hash}"),
        created_at: now,
        expires_at: now + hour,
        address: Some("192.0.2.7".into()),
    };
    store.create_session(session("s1", &alice)).await.unwrap();
    let live = store.session("s1", now).await.unwrap().expect("a new session is live");
    assert_eq!((live.id_hash.as_str(), live.user.id.as_str(), live.csrf_token.as_str()), ("s1", alice.as_str(), "csrf-s1"));
    assert_eq!((live.created_at, live.expires_at), (now, now + hour));
    assert_eq!(live.user, store.user(&alice).await.unwrap().unwrap());
    assert!(store.session("s1", now + hour - SignedDuration::from_secs(1)).await.unwrap().is_some());
    assert!(store.session("s1", now + hour).await.unwrap().is_none(), "expired at its expiry");
    assert!(store.session("s1", now + hour * 2).await.unwrap().is_none());
    assert!(store.session("nope", now).await.unwrap().is_none());
    assert!(matches!(store.create_session(session("s9", "no-such-user")).await, Err(StoreError::NotFound)));

    store.revoke_session("s1", now).await.unwrap();
    assert!(store.session("s1", now).await.unwrap().is_none(), "revoked");
    store.revoke_session("s1", now).await.unwrap();
    store.revoke_session("nope", now).await.unwrap();

    // Revoking all of a user's sessions: the live ones, not someone else's.
    store.create_session(session("s2", &alice)).await.unwrap();
    store.create_session(session("s3", &alice)).await.unwrap();
    store.create_session(NewSession { expires_at: now + SignedDuration::from_secs(1), ..session("s4", &alice) }).await.unwrap();
    store.create_session(session("b1", &bob)).await.unwrap();
    let later = now + SignedDuration::from_secs(10);
    assert_eq!(store.revoke_sessions_of(&alice, later).await.unwrap(), 2, "s2 and s3; s1 was revoked, s4 expired");
    assert!(store.session("s2", later).await.unwrap().is_none());
    assert!(store.session("s3", later).await.unwrap().is_none());
    assert!(store.session("b1", later).await.unwrap().is_some());
    assert_eq!(store.revoke_sessions_of(&alice, later).await.unwrap(), 0);

    // A deactivated user's sessions are not live; reactivated, they are again.
    let inactive = store.update_user(&bob, UserUpdate { active: Some(false), ..Default::default() }).await.unwrap();
    assert!(!inactive.active);
    assert!(store.session("b1", now).await.unwrap().is_none());
    store.update_user(&bob, UserUpdate { active: Some(true), ..Default::default() }).await.unwrap();
    assert!(store.session("b1", now).await.unwrap().is_some());

    // Throttling sign-ins: failures per key, counted since a time, cleared, kept a day.
    let minute = SignedDuration::from_mins(1);
    for i in 0..3 {
        store.record_sign_in_failure("user:alice", now + minute * i).await.unwrap();
    }
    store.record_sign_in_failure("addr:192.0.2.7", now).await.unwrap();
    assert_eq!(store.sign_in_failures("user:alice", now).await.unwrap(), 3);
    assert_eq!(store.sign_in_failures("user:alice", now + SignedDuration::from_secs(90)).await.unwrap(), 1);
    assert_eq!(store.sign_in_failures("user:bob", now).await.unwrap(), 0);
    store.clear_sign_in_failures("user:alice").await.unwrap();
    assert_eq!(store.sign_in_failures("user:alice", now).await.unwrap(), 0);
    assert_eq!(store.sign_in_failures("addr:192.0.2.7", now).await.unwrap(), 1, "another key is kept");
    let next_day = now + SignedDuration::from_hours(25);
    store.record_sign_in_failure("addr:198.51.100.1", next_day).await.unwrap();
    assert_eq!(store.sign_in_failures("addr:192.0.2.7", Timestamp::UNIX_EPOCH).await.unwrap(), 0, "failures older than a day are purged");
    assert_eq!(store.sign_in_failures("addr:198.51.100.1", now).await.unwrap(), 1);

    // Passwords.
    assert_eq!(store.password_hash(&alice).await.unwrap(), None);
    store.set_password_hash(&alice, "$argon2id$v=19$first").await.unwrap();
    store.set_password_hash(&alice, "$argon2id$v=19$second").await.unwrap();
    assert_eq!(store.password_hash(&alice).await.unwrap().as_deref(), Some("$argon2id$v=19$second"));
    assert_eq!(store.password_hash(&bob).await.unwrap(), None);
    assert_eq!(store.password_hash("no-such-user").await.unwrap(), None);
    assert!(matches!(store.set_password_hash("no-such-user", "x").await, Err(StoreError::NotFound)));

    // Account changes: only the fields given.
    let before = store.user(&alice).await.unwrap().unwrap();
    let changed = store
        .update_user(&alice, UserUpdate { role: Some(Role::DepartmentHead), department: Some(Some("GZ-CP".into())), active: None, language: Some(Some("en".into())) })
        .await
        .unwrap();
    assert_eq!((changed.role, changed.department.as_deref(), changed.active, changed.language.as_deref()), (Role::DepartmentHead, Some("GZ-CP"), true, Some("en")));
    assert_eq!((changed.id.as_str(), changed.name.as_str(), changed.open_load), (alice.as_str(), "alice", before.open_load));
    assert_eq!(store.user(&alice).await.unwrap().unwrap(), changed);
    assert_eq!(store.user_by_name("alice").await.unwrap().unwrap().language.as_deref(), Some("en"));
    assert_eq!(store.update_user(&alice, UserUpdate::default()).await.unwrap(), changed, "nothing to change");
    let cleared = store.update_user(&alice, UserUpdate { department: Some(None), language: Some(None), ..Default::default() }).await.unwrap();
    assert_eq!((cleared.department, cleared.language, cleared.role), (None, None, Role::DepartmentHead));
    assert_eq!(store.password_hash(&alice).await.unwrap().as_deref(), Some("$argon2id$v=19$second"), "the password is untouched");
    assert!(matches!(store.update_user("no-such-user", UserUpdate { active: Some(false), ..Default::default() }).await, Err(StoreError::NotFound)));
    assert!(matches!(store.update_user("no-such-user", UserUpdate::default()).await, Err(StoreError::NotFound)));

    // A user stored as JSON before users had a language still reads.
    let old: redress_store::User = serde_json::from_value(serde_json::json!({
        "id": "u1", "name": "old", "role": "handler", "department": null, "active": true, "open_load": 0
    }))
    .unwrap();
    assert_eq!(old.language, None);
}

/// Every page of a queue, following the cursors; the counts of each page, which must agree.
async fn all_pages(store: &dyn Store, queue: &WorkQueue) -> (Vec<ComplaintId>, redress_store::DueCounts) {
    let mut ids = Vec::new();
    let mut after = None;
    let mut counts = None;
    for _ in 0..100 {
        let page = store.work_queue(&WorkQueue { after, ..queue.clone() }).await.unwrap();
        assert!(page.items.len() <= queue.limit as usize);
        assert!(counts.is_none_or(|c| c == page.counts), "every page counts the whole queue");
        counts = Some(page.counts);
        ids.extend(page.items.iter().map(|s| s.id));
        match page.next {
            Some(next) => {
                assert_eq!(WorkCursor::decode(&next.encode()), Some(next));
                after = Some(next);
            }
            None => return (ids, page.counts),
        }
    }
    panic!("the queue does not end");
}

async fn the_work_queue(engine: Engine) {
    let Some((store, _dir)) = fresh_store(engine).await else { return };
    let book = Arc::new(RuleBook::builtin());
    let now = start_time();
    let day = SignedDuration::from_hours(24);
    let h1 = add_user(&*store, "h1", Role::Handler, Some("SH-CARD")).await;
    let h2 = add_user(&*store, "h2", Role::Handler, Some("SH-CARD")).await;
    let h3 = add_user(&*store, "h3", Role::Handler, Some("GZ-CP")).await;

    // Complaints of SH-CARD, spread over h1 and h2 (deadlines out of order, two equal, some
    // none), unassigned ones of SH-CARD and of GZ-CP, and GZ-CP's, which h3 gets.
    let mut shapes = Vec::new();
    for (i, days) in [5, 2, 9, 2, 7, 1, 4, 3, 8, 6].into_iter().enumerate() {
        let due = match i % 3 {
            0 => DueState::OnTime,
            1 => DueState::DueSoon,
            _ => DueState::Overdue,
        };
        shapes.push(Shape { due, ..Shape::new("SH-CARD", Some(now + day * days)) });
    }
    shapes.push(Shape::new("SH-CARD", None));
    shapes.push(Shape { due: DueState::Overdue, ..Shape::new("SH-CARD", None) });
    shapes.push(Shape::new("SH-CARD", None));
    for days in [3, 1, 10] {
        shapes.push(Shape { assign: false, ..Shape::new("SH-CARD", Some(now + day * days)) });
    }
    shapes.push(Shape { assign: false, due: DueState::Overdue, ..Shape::new("SH-CARD", None) });
    shapes.push(Shape { assign: false, ..Shape::new("GZ-CP", Some(now + day)) });
    shapes.push(Shape::new("GZ-CP", Some(now + day)));
    shapes.push(Shape::new("GZ-CP", None));
    let mut complaints = Vec::new();
    for (i, shape) in shapes.into_iter().enumerate() {
        complaints.push(created(store.register(registration(&book, i as u32, shape)).await.unwrap()));
    }
    let owner = |c: &Complaint| c.owner.handler.as_ref().map(|h| h.id.clone());
    assert!(complaints.iter().filter(|c| c.owner.department == "GZ-CP").all(|c| owner(c).is_none() || owner(c).as_deref() == Some(h3.as_str())));
    assert!(complaints.iter().any(|c| owner(c).as_deref() == Some(h3.as_str())));

    // One of h1's complaints ends: it leaves the queue.
    let ended = complaints.iter().find(|c| owner(c).as_deref() == Some(h1.as_str())).unwrap().id;
    store.save(change(&*store, &book, ended, Action::Withdraw { reason: None }, None).await).await.unwrap();

    // The expected queue, from the records themselves.
    let stored = store.complaints(&complaints.iter().map(|c| c.id).collect::<Vec<_>>()).await.unwrap();
    let expected = |handler: &str, department: Option<&str>, keep: &dyn Fn(&Complaint) -> bool| {
        let mut queue: Vec<&Complaint> = stored
            .iter()
            .filter(|c| c.status.is_open())
            .filter(|c| owner(c).as_deref() == Some(handler) || (owner(c).is_none() && Some(c.owner.department.as_str()) == department))
            .filter(|c| keep(c))
            .collect();
        queue.sort_by_key(|c| (c.watched_deadline().map_or(i64::MAX, |t| t.as_microsecond()), c.id));
        let due = |state: DueState| queue.iter().filter(|c| c.due_state == state).count() as u64;
        let counts = redress_store::DueCounts { total: queue.len() as u64, due_soon: due(DueState::DueSoon), overdue: due(DueState::Overdue) };
        (queue.iter().map(|c| c.id).collect::<Vec<_>>(), counts)
    };
    let queue = |handler: &str, department: Option<&str>, limit: u32| WorkQueue {
        handler_id: handler.into(),
        department: department.map(Into::into),
        filter: ComplaintFilter::default(),
        after: None,
        limit,
    };
    let everything = |_: &Complaint| true;

    // h1 with their department: theirs and SH-CARD's unassigned, nothing of h2 or GZ-CP.
    let (ids, counts) = expected(&h1, Some("SH-CARD"), &everything);
    let (mine, mine_counts) = expected(&h1, None, &everything);
    assert_eq!((mine.len(), ids.len()), (6, 6 + 4), "h1 has 7 of SH-CARD's 13 (one ended); SH-CARD has 4 unassigned");
    assert!(!ids.contains(&ended));
    assert!(counts.due_soon > 0 && counts.overdue > 0);
    for limit in [1, 2, 3, 200] {
        let (paged, paged_counts) = all_pages(&*store, &queue(&h1, Some("SH-CARD"), limit)).await;
        assert_eq!(paged, ids, "pages of {limit}: everything once, soonest deadline first, none last");
        assert_eq!(paged_counts, counts);
    }
    let first = store.work_queue(&queue(&h1, Some("SH-CARD"), 3)).await.unwrap();
    assert_eq!(first.items.len(), 3);
    assert_eq!(first.items[0].id, ids[0]);
    assert_eq!(first.items.iter().map(|s| s.department.as_str()).collect::<HashSet<_>>(), HashSet::from(["SH-CARD"]));
    let last = stored.iter().find(|c| c.id == ids[ids.len() - 1]).unwrap();
    assert_eq!(last.watched_deadline(), None, "complaints without a deadline come last");

    // Without a department: only the complaints assigned to the handler.
    assert_eq!(all_pages(&*store, &queue(&h1, None, 2)).await, (mine.clone(), mine_counts));
    assert!(mine.len() < ids.len());
    let (h2_ids, h2_counts) = expected(&h2, Some("SH-CARD"), &everything);
    assert_eq!(all_pages(&*store, &queue(&h2, Some("SH-CARD"), 4)).await, (h2_ids.clone(), h2_counts));
    assert!(h2_ids.iter().all(|id| !mine.contains(id)));
    let (h3_ids, h3_counts) = expected(&h3, Some("GZ-CP"), &everything);
    assert_eq!(h3_ids.len(), 3);
    assert_eq!(all_pages(&*store, &queue(&h3, Some("GZ-CP"), 2)).await, (h3_ids, h3_counts));
    assert_eq!(all_pages(&*store, &queue("nobody", Some("XX"), 5)).await.0, Vec::<ComplaintId>::new());

    // Filters narrow the queue, its pages and its counts alike.
    let filtered = |filter: ComplaintFilter| WorkQueue { filter, ..queue(&h1, Some("SH-CARD"), 2) };
    let overdue = ComplaintFilter { due_state: Some("overdue".into()), limit: 1, after: Some(redress_store::Cursor { received_at: now, id: ids[0] }), ..Default::default() };
    let (expected_overdue, overdue_counts) = expected(&h1, Some("SH-CARD"), &|c| c.due_state == DueState::Overdue);
    assert!(!expected_overdue.is_empty());
    assert_eq!(overdue_counts.total, overdue_counts.overdue);
    assert_eq!(all_pages(&*store, &filtered(overdue)).await, (expected_overdue, overdue_counts), "the filter's own cursor and limit are ignored");
    let statuses = stored.iter().filter(|c| ids.contains(&c.id)).map(|c| c.status).collect::<HashSet<_>>();
    let status = *statuses.iter().next().unwrap();
    let by_status = ComplaintFilter { statuses: vec![status], channel: Some("web".into()), ..Default::default() };
    assert_eq!(all_pages(&*store, &filtered(by_status)).await, expected(&h1, Some("SH-CARD"), &|c| c.status == status));
    let elsewhere = ComplaintFilter { departments: vec!["GZ-CP".into()], ..Default::default() };
    assert_eq!(all_pages(&*store, &filtered(elsewhere)).await.1.total, 0);
    let later = ComplaintFilter { received_from: Some(now + SignedDuration::from_secs(1)), ..Default::default() };
    assert_eq!(all_pages(&*store, &filtered(later)).await.1.total, 0);
    let received = ComplaintFilter { received_from: Some(now), received_to: Some(now + SignedDuration::from_secs(1)), ..Default::default() };
    assert_eq!(all_pages(&*store, &filtered(received)).await, expected(&h1, Some("SH-CARD"), &everything));

    // An account change keeps the handler's load.
    let load = store.user(&h1).await.unwrap().unwrap().open_load;
    assert_eq!(load, mine.len() as i64);
    let changed = store.update_user(&h1, UserUpdate { language: Some(Some("zh-CN".into())), active: Some(false), ..Default::default() }).await.unwrap();
    assert_eq!(changed.open_load, load);
    assert_eq!(store.update_user(&h1, UserUpdate { active: Some(true), ..Default::default() }).await.unwrap().open_load, load);
}

async fn tracking_codes_links_secrets_and_reads(engine: Engine) {
    let Some((store, _dir)) = fresh_store(engine).await else { return };
    let book = Arc::new(RuleBook::builtin());
    let now = start_time();
    let h1 = add_user(&*store, "h1", Role::Handler, Some("SH-CARD")).await;
    let h2 = add_user(&*store, "h2", Role::Handler, Some("SH-CARD")).await;

    // Tracking codes are stored with the registration, alone or in a batch.
    let coded = created(store.register(registration(&book, 1, Shape { tracking_code_hash: Some("code-1"), ..Shape::new("SH-CARD", None) })).await.unwrap());
    let plain = created(store.register(registration(&book, 2, Shape::new("SH-CARD", None))).await.unwrap());
    assert_eq!(store.tracking_code_hash(coded.id).await.unwrap().as_deref(), Some("code-1"));
    assert_eq!(store.tracking_code_hash(plain.id).await.unwrap(), None);
    assert_eq!(store.tracking_code_hash(ComplaintId::generate(now)).await.unwrap(), None);
    const CODES: [&str; 12] = ["c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9", "c10", "c11"];
    let together = CODES.iter().enumerate().map(|(i, code)| {
        let code = (i % 3 != 0).then_some(*code);
        let reg = registration(&book, 100 + i as u32, Shape { tracking_code_hash: code, ..Shape::new("SH-CARD", None) });
        let store = store.clone();
        async move { (created(store.register(reg).await.unwrap()).id, code) }
    });
    for (id, code) in futures::future::join_all(together).await {
        assert_eq!(store.tracking_code_hash(id).await.unwrap().as_deref(), code);
    }

    // A single-use link works once; the second change through it is refused whole.
    let first = change(&*store, &book, coded.id, Action::StartInvestigation, Some("link-1")).await;
    store.save(first).await.unwrap();
    let before = store.complaint(coded.id).await.unwrap().unwrap();
    let history = store.history(coded.id).await.unwrap().len();
    let load = store.user(&h1).await.unwrap().unwrap().open_load + store.user(&h2).await.unwrap().unwrap().open_load;
    let again = change(&*store, &book, coded.id, Action::Withdraw { reason: None }, Some("link-1")).await;
    match store.save(again).await {
        Err(StoreError::Duplicate(message)) => assert_eq!(message, "this link was already used"),
        other => panic!("a used link was accepted: {other:?}"),
    }
    assert_eq!(store.complaint(coded.id).await.unwrap().unwrap(), before, "nothing of the refused change is written");
    assert_eq!(store.history(coded.id).await.unwrap().len(), history);
    assert_eq!(store.user(&h1).await.unwrap().unwrap().open_load + store.user(&h2).await.unwrap().unwrap().open_load, load);
    // Through another link, the same change goes through.
    store.save(change(&*store, &book, coded.id, Action::Withdraw { reason: None }, Some("link-2")).await).await.unwrap();
    assert_eq!(store.complaint(coded.id).await.unwrap().unwrap().status, Status::Withdrawn);

    // Two changes racing through one link (on SQLite, likely in one group commit): one wins,
    // the other is refused whole; other saves beside them are unaffected.
    let others: Vec<ComplaintId> = store.list(&ComplaintFilter { statuses: vec![plain.status], limit: 5, ..Default::default() }).await.unwrap().items.iter().map(|s| s.id).collect();
    assert_eq!(others.len(), 5);
    let mut saves = Vec::new();
    for (i, id) in others.iter().enumerate() {
        let link = if i < 2 { Some("link-3".to_string()) } else { Some(format!("own-{i}")) };
        saves.push(change(&*store, &book, *id, Action::StartInvestigation, link.as_deref()).await);
    }
    let results = futures::future::join_all(saves.into_iter().map(|c| store.save(c))).await;
    assert!(results[2..].iter().all(Result::is_ok), "{results:?}");
    assert_eq!(results[..2].iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
    let (won, lost) = if results[0].is_ok() { (others[0], others[1]) } else { (others[1], others[0]) };
    assert!(matches!(&results[if won == others[0] { 1 } else { 0 }], Err(StoreError::Duplicate(m)) if m == "this link was already used"));
    assert_eq!(store.complaint(won).await.unwrap().unwrap().status, Status::Investigating);
    assert_eq!(store.complaint(lost).await.unwrap().unwrap().status, plain.status);
    for id in &others[2..] {
        assert_eq!(store.complaint(*id).await.unwrap().unwrap().status, Status::Investigating);
    }

    // The installation's secrets: the first candidate stored is everyone's.
    assert_eq!(store.installation_secret("cookie-key", b"first").await.unwrap(), b"first");
    assert_eq!(store.installation_secret("cookie-key", b"second").await.unwrap(), b"first");
    assert_eq!(store.installation_secret("link-key", &[0, 255, 7]).await.unwrap(), vec![0, 255, 7]);
    let racing = (0..8u8).map(|i| {
        let store = store.clone();
        async move { store.installation_secret("raced-key", &[i; 32]).await.unwrap() }
    });
    let answers: HashSet<Vec<u8>> = futures::future::join_all(racing).await.into_iter().collect();
    assert_eq!(answers.len(), 1, "every server gets the same secret");

    // Notification reads, per user, idempotent.
    store.mark_notification_read(&h1, 5, now).await.unwrap();
    store.mark_notification_read(&h1, 7, now).await.unwrap();
    store.mark_notification_read(&h1, 5, now + SignedDuration::from_secs(1)).await.unwrap();
    store.mark_notification_read(&h2, 6, now).await.unwrap();
    assert_eq!(store.read_notifications(&h1, &[7, 6, 5, 9]).await.unwrap(), vec![5, 7]);
    assert_eq!(store.read_notifications(&h2, &[5, 6, 7]).await.unwrap(), vec![6]);
    assert!(store.read_notifications(&h1, &[]).await.unwrap().is_empty());
    assert!(store.read_notifications("nobody", &[5]).await.unwrap().is_empty());
    let many: Vec<i64> = (0..1200).collect();
    assert_eq!(store.read_notifications(&h1, &many).await.unwrap(), vec![5, 7], "longer lists than one statement takes");
}

/// Where a test's database lives, to change its tables behind the store's back.
enum RawDb {
    Sqlite(std::path::PathBuf),
    Postgres { url: String, schema: String },
}

impl RawDb {
    /// Takes the `awaiting_approval` column, its index and its migration away, as in a
    /// database from before that migration, so that the next `migrate` adds the column again
    /// and fills it from the documents.
    async fn forget_awaiting_approval(&self) {
        use sqlx::Connection;
        match self {
            RawDb::Sqlite(path) => {
                let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(path).create_if_missing(false);
                let mut conn = sqlx::SqliteConnection::connect_with(&opts).await.expect("open the sqlite file");
                sqlx::raw_sql(
                    "DROP INDEX complaints_awaiting_approval; DROP INDEX complaints_awaiting_approval_newest; \
                     ALTER TABLE complaints DROP COLUMN awaiting_approval; \
                     DELETE FROM redress_migrations WHERE name = 'awaiting_approval';",
                )
                .execute(&mut conn)
                .await
                .expect("forget the column");
                let _ = conn.close().await;
            }
            RawDb::Postgres { url, schema } => {
                let mut conn = sqlx::PgConnection::connect(url).await.expect("connect postgres");
                // The schema name is made by `fresh_store`: a plain identifier.
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "ALTER TABLE {schema}.complaints DROP COLUMN awaiting_approval; \
                     DELETE FROM {schema}.redress_migrations WHERE name = 'awaiting_approval';"
                )))
                .execute(&mut conn)
                .await
                .expect("forget the column");
                let _ = conn.close().await;
            }
        }
    }
}

/// Every complaint the filter finds, page by page.
async fn every_page(store: &dyn Store, filter: ComplaintFilter) -> Vec<ComplaintId> {
    let mut ids = Vec::new();
    let mut after = None;
    for _ in 0..100 {
        let page = store.list(&ComplaintFilter { after, ..filter.clone() }).await.unwrap();
        ids.extend(page.items.iter().map(|s| s.id));
        match page.next {
            Some(next) => after = Some(next),
            None => return ids,
        }
    }
    panic!("the list does not end");
}

/// The approvals list's filter: proposed resolutions waiting for a second person and extension
/// requests waiting for their decision, found by the `awaiting_approval` column (also when a
/// migration filled it from the documents), and gone once decided.
async fn what_waits_for_approval(engine: Engine) {
    let (store, _scratch, raw) = match engine {
        Engine::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let path = dir.path().join("redress.db");
            let store = redress::open_store(&format!("sqlite://{}", path.display())).await.expect("open sqlite");
            (store, Scratch::Dir(dir), RawDb::Sqlite(path))
        }
        Engine::Postgres => {
            let Some((store, scratch)) = fresh_store(engine).await else { return };
            let Scratch::Schema { url, schema } = &scratch else { panic!("a PostgreSQL store has a schema") };
            let raw = RawDb::Postgres { url: url.clone(), schema: schema.clone() };
            (store, scratch, raw)
        }
    };
    let book = Arc::new(RuleBook::builtin());
    let h1 = add_user(&*store, "h1", Role::Handler, Some("SH-CARD")).await;
    add_user(&*store, "h2", Role::Handler, Some("GZ-CP")).await;
    let head = Actor { id: add_user(&*store, "head", Role::DepartmentHead, Some("SH-CARD")).await, name: "head".into(), role: Role::DepartmentHead, department: Some("SH-CARD".into()) };
    let text = |t: &str| redress_domain::fields::LongText::parse("text", t).unwrap();
    let money = |amount: &str| Some(redress_domain::fields::Money::parse("amount", amount, "CNY").unwrap());
    let mut ids = Vec::new();
    for (i, department) in ["SH-CARD", "SH-CARD", "SH-CARD", "SH-CARD", "SH-CARD", "GZ-CP"].into_iter().enumerate() {
        let c = created(store.register(registration(&book, 500 + i as u32, Shape::new(department, None))).await.unwrap());
        assert!(c.owner.handler.is_some(), "a handler of {department} has it");
        store.save(change(&*store, &book, c.id, Action::StartInvestigation, None).await).await.unwrap();
        ids.push(c.id);
    }
    let [extension, resolution, plain, proposed, withdrawn, elsewhere] = ids[..] else { unreachable!() };
    let act = async |id: ComplaintId, action: Action, actor: Option<&Actor>| {
        store.save(change_by(&*store, &book, id, action, actor, None).await).await.unwrap();
    };
    act(extension, Action::RequestExtension { reason: text("需调取外部机构材料") }, None).await;
    act(resolution, Action::ProposeResolution { kind: redress_domain::complaint::ResolutionKind::Compensation, amount: money("8000"), summary: text("补偿") }, None).await;
    act(proposed, Action::ProposeResolution { kind: redress_domain::complaint::ResolutionKind::Explanation, amount: None, summary: text("解释说明") }, None).await;
    act(withdrawn, Action::RequestExtension { reason: text("等待客户补充材料") }, None).await;
    act(withdrawn, Action::Withdraw { reason: None }, None).await;
    act(elsewhere, Action::RequestExtension { reason: text("跨机构核实") }, None).await;
    let stored = store.complaints(&ids).await.unwrap();
    let status = |id: ComplaintId| stored.iter().find(|c| c.id == id).unwrap().status;
    assert_eq!(status(resolution), Status::AwaitingApproval);
    assert_eq!(status(proposed), Status::ResolutionProposed);
    assert_eq!(status(withdrawn), Status::Withdrawn);
    assert_eq!(status(extension), Status::Investigating);
    assert_eq!(status(plain), Status::Investigating);

    // Newest first, like every list (all were received at once: by id).
    let newest_first = |mut v: Vec<ComplaintId>| {
        v.sort_by(|a, b| b.cmp(a));
        v
    };
    let waiting = ComplaintFilter { awaiting_approval: true, limit: 50, ..Default::default() };
    let expected = newest_first(vec![extension, resolution, withdrawn, elsewhere]);
    let check = async |expected: &[ComplaintId]| {
        assert_eq!(every_page(&*store, waiting.clone()).await, expected, "an extension in any status, a resolution awaiting approval");
        assert_eq!(every_page(&*store, ComplaintFilter { limit: 1, ..waiting.clone() }).await, expected, "page by page");
        let sh_card: Vec<ComplaintId> = expected.iter().copied().filter(|id| *id != elsewhere).collect();
        assert_eq!(every_page(&*store, ComplaintFilter { department: Some("SH-CARD".into()), ..waiting.clone() }).await, sh_card);
        let gz: Vec<ComplaintId> = expected.iter().copied().filter(|id| *id == elsewhere).collect();
        assert_eq!(every_page(&*store, ComplaintFilter { departments: vec!["GZ-CP".into()], ..waiting.clone() }).await, gz);
        let investigating: Vec<ComplaintId> = expected.iter().copied().filter(|id| [extension, elsewhere].contains(id)).collect();
        assert_eq!(every_page(&*store, ComplaintFilter { statuses: vec![Status::Investigating], ..waiting.clone() }).await, investigating, "with the other conditions");
    };
    check(&expected).await;
    assert_eq!(every_page(&*store, ComplaintFilter { limit: 50, ..Default::default() }).await.len(), 6, "without the condition, everything");

    // The work queue honours it too: h1's open complaints waiting for approval.
    let queue = WorkQueue { handler_id: h1.clone(), department: Some("SH-CARD".into()), filter: waiting.clone(), after: None, limit: 10 };
    let mut queued = all_pages(&*store, &queue).await.0;
    queued.sort();
    let mut open_waiting = vec![extension, resolution];
    open_waiting.sort();
    assert_eq!(queued, open_waiting);

    // A database from before the column: its migration fills it from the documents.
    raw.forget_awaiting_approval().await;
    store.migrate().await.expect("migrate again");
    check(&expected).await;

    // Decided, they leave the list: the extension approved, the resolution approved, the other
    // department's extension refused.
    act(extension, Action::DecideExtension { approve: true, note: None }, Some(&head)).await;
    check(&newest_first(vec![resolution, withdrawn, elsewhere])).await;
    act(resolution, Action::ApproveResolution, Some(&head)).await;
    let other_head = Actor { id: "gz-head".into(), name: "gz head".into(), role: Role::DepartmentHead, department: Some("GZ-CP".into()) };
    act(elsewhere, Action::DecideExtension { approve: false, note: Some(text("材料已齐")) }, Some(&other_head)).await;
    check(&[withdrawn]).await;
    let after = store.complaints(&[extension, resolution, elsewhere]).await.unwrap();
    assert!(after.iter().all(|c| c.clock.pending_extension.is_none() && c.status != Status::AwaitingApproval));
}

/// A fresh store of the engine and where its database lives, to count its rows behind the
/// store's back.
async fn store_with_database(engine: Engine) -> Option<(Arc<dyn Store>, Scratch, Database)> {
    match engine {
        Engine::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let path = dir.path().join("redress.db");
            let store = redress::open_store(&format!("sqlite://{}", path.display())).await.expect("open sqlite");
            Some((store, Scratch::Dir(dir), Database::Sqlite(path)))
        }
        Engine::Postgres => {
            let (store, scratch) = fresh_store(engine).await?;
            let Scratch::Schema { url, schema } = &scratch else { panic!("a PostgreSQL store has a schema") };
            let database = Database::Postgres { url: url.clone(), schema: schema.clone() };
            Some((store, scratch, database))
        }
    }
}

/// A file as a registration carries it: the reference the record lists and the content.
fn file(name: &str, content: &[u8]) -> (AttachmentRef, AttachmentContent) {
    use sha2::Digest;
    let sha256 = hex::encode(sha2::Sha256::digest(content));
    let reference = AttachmentRef { sha256: sha256.clone(), filename: name.into(), media_type: "text/plain".into(), size: content.len() as u64 };
    (reference, AttachmentContent { sha256, media_type: "text/plain".into(), content: content.to_vec(), at: start_time() })
}

/// The registration with these files: their contents to store, their references on the record.
fn with_files(mut reg: Registration, files: &[(AttachmentRef, AttachmentContent)]) -> Registration {
    let refs: Vec<AttachmentRef> = files.iter().map(|(r, _)| r.clone()).collect();
    let build = std::mem::replace(&mut reg.build, Box::new(|_| unreachable!("replaced")));
    reg.build = Box::new(move |ctx| {
        let (mut c, outcome) = build(ctx);
        c.attachments.extend(refs.iter().cloned());
        (c, outcome)
    });
    reg.attachments = files.iter().map(|(_, content)| content.clone()).collect();
    reg
}

/// A complaint registered with files has them, contents and references, from its registration
/// on (alone and in a batch); a registration that fails (its build panics, its id clashes)
/// leaves none of its files behind, and a replayed one stores none.
async fn files_are_registered_with_the_complaint(engine: Engine) {
    let Some((store, _scratch, database)) = store_with_database(engine).await else { return };
    let book = Arc::new(RuleBook::builtin());
    add_user(&*store, "h1", Role::Handler, Some("SH-CARD")).await;
    let sha = |f: &(AttachmentRef, AttachmentContent)| f.0.sha256.clone();

    // Two files, stored in one go with the complaint.
    let receipt = file("receipt.txt", b"receipt: annual fee 300 CNY charged on 2024-11-20");
    let letter = file("letter.txt", b"letter: the bank refuses to refund the annual fee");
    let c = created(store.register(with_files(registration(&book, 1, Shape::new("SH-CARD", None)), &[receipt.clone(), letter.clone()])).await.unwrap());
    assert_eq!(c.attachments, vec![receipt.0.clone(), letter.0.clone()]);
    assert_eq!(store.complaint(c.id).await.unwrap().unwrap().attachments, c.attachments, "the stored record lists both");
    for f in [&receipt, &letter] {
        assert_eq!(store.attachment(&f.0.sha256).await.unwrap(), Some(("text/plain".to_string(), f.1.content.clone())));
        assert_eq!(database.attachment_rows(Some(&f.0.sha256)).await, 1);
    }
    assert_eq!(database.attachment_rows(None).await, 2);

    // Content stored already (and the same content twice in one registration) is stored once.
    let photo = file("photo.txt", b"photo: the statement with the fee circled");
    let again = created(store.register(with_files(registration(&book, 2, Shape::new("SH-CARD", None)), &[receipt.clone(), photo.clone(), photo.clone()])).await.unwrap());
    assert_eq!(again.attachments.len(), 3);
    assert_eq!(database.attachment_rows(None).await, 3);
    assert_eq!(database.attachment_rows(Some(&photo.0.sha256)).await, 1);

    // A registration whose build panics stores nothing, its files included.
    let lost = file("lost.txt", b"lost: this file belongs to a registration that fails");
    let mut failing = with_files(registration(&book, 3, Shape::new("SH-CARD", None)), std::slice::from_ref(&lost));
    failing.build = Box::new(|_| panic!("the record cannot be built"));
    assert!(store.register(failing).await.is_err());
    assert_eq!(database.attachment_rows(Some(&sha(&lost))).await, 0, "no file of a failed registration");
    assert_eq!(store.count().await.unwrap(), 2);

    // Registrations together, one of which clashes with a stored complaint's id: it fails alone
    // and leaves none of its files; the others are stored with theirs.
    let clash = file("clash.txt", b"clash: this registration reuses a stored complaint's id");
    let together: Vec<_> = (0..8u32)
        .map(|i| {
            let mine = file(&format!("mine-{i}.txt"), format!("evidence number {i} of the batch").as_bytes());
            let mut reg = registration(&book, 10 + i, Shape::new("SH-CARD", None));
            let reg = if i == 5 {
                reg.id = c.id;
                with_files(reg, &[clash.clone(), mine.clone()])
            } else {
                with_files(reg, std::slice::from_ref(&mine))
            };
            let store = store.clone();
            async move { (i, mine, store.register(reg).await) }
        })
        .collect();
    for (i, mine, result) in futures::future::join_all(together).await {
        if i == 5 {
            assert!(matches!(result, Err(StoreError::Duplicate(_))), "{result:?}");
            assert_eq!(database.attachment_rows(Some(&sha(&mine))).await, 0, "no file of the clashing registration");
        } else {
            let c = created(result.unwrap());
            assert_eq!(c.attachments, vec![mine.0.clone()]);
            assert_eq!(database.attachment_rows(Some(&sha(&mine))).await, 1);
        }
    }
    assert_eq!(database.attachment_rows(Some(&sha(&clash))).await, 0);
    assert_eq!(database.attachment_rows(None).await, 3 + 7);
    assert_eq!(store.count().await.unwrap(), 2 + 7);

    // A replayed registration stores no files.
    let key = IdempotencyKey { user_id: "u-intake".into(), key: "form-1".into(), request_hash: "hash-1".into() };
    let first = created(store.register(Registration { idempotency: Some(key.clone()), ..registration(&book, 30, Shape::new("SH-CARD", None)) }).await.unwrap());
    let late = file("late.txt", b"late: a file sent with a retried request");
    let replay = with_files(Registration { idempotency: Some(key), ..registration(&book, 30, Shape::new("SH-CARD", None)) }, std::slice::from_ref(&late));
    match store.register(replay).await.unwrap() {
        Registered::Replayed(c) => assert_eq!((c.id, c.attachments.len()), (first.id, 0)),
        Registered::Created(c) => panic!("registered twice: {}", c.number),
    }
    assert_eq!(database.attachment_rows(Some(&sha(&late))).await, 0, "a replay stores no file");
    assert_eq!(database.attachment_rows(None).await, 10);
}

/// The registration use cases take the files with the complaint: staff registration and the
/// customers' online form store the complaint with its files, listed on the record and in its
/// history, in one go; a bad file refuses the whole form before anything is stored.
async fn the_use_cases_register_files_with_the_complaint(engine: Engine) {
    let Some((app, database)) = TestApp::start_with_database(engine).await else { return };
    let st = &app.state;
    let intake = app.caller("intake").await;
    let new = |phone: &str| {
        let body: redress_app::input::NewComplaintBody = serde_json::from_value(crate::support::card_complaint(phone)).unwrap();
        body.into_domain(st.clock.now(), &st.rules.org.head_office().code).unwrap()
    };
    let pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec();
    let txt = "转账记录：11月20日 21:14 消费 5000.00 元".as_bytes().to_vec();
    let files = vec![("交易流水.pdf".to_string(), pdf.clone()), (" 说明.txt ".to_string(), txt.clone())];

    let registered = redress_app::complaints::register_with_files(st, &intake, new("13800000001"), None, &files).await.unwrap();
    let Registered::Created(c) = registered else { panic!("a new complaint") };
    let names: Vec<&str> = c.attachments.iter().map(|a| a.filename.as_str()).collect();
    assert_eq!(names, ["交易流水.pdf", "说明.txt"]);
    assert_eq!(c.attachments[0].media_type, "application/pdf");
    assert_eq!((c.attachments[1].size, c.version), (txt.len() as u64, 1), "registered with its files: one version");
    for (a, content) in c.attachments.iter().zip([&pdf, &txt]) {
        let (listed, stored) = redress_app::complaints::attachment(st, &intake, &c.number, &a.sha256).await.unwrap();
        assert_eq!((&listed, &stored), (a, content));
    }
    let (_, history) = redress_app::complaints::history(st, &intake, &c.number).await.unwrap();
    let kinds: Vec<ActionKind> = history.iter().map(|e| e.event.action).collect();
    assert_eq!(&kinds[..3], [ActionKind::Register, ActionKind::Attach, ActionKind::Attach], "{kinds:?}");
    assert!(history[1..3].iter().all(|e| e.event.from_status == Some(e.event.to_status) && e.event.to_status == history[0].event.to_status));
    assert_eq!(history[2].event.changes["attachment"]["filename"], "说明.txt");
    assert_eq!(database.attachment_rows(None).await, 2);

    // A bad file among good ones: the form is refused, nothing is stored.
    let count = st.store.count().await.unwrap();
    let bad = vec![("收据.txt".to_string(), b"another receipt".to_vec()), ("invoice.pdf".to_string(), b"MZ\x90\x00binary".to_vec())];
    let e = redress_app::complaints::register_with_files(st, &intake, new("13800000002"), None, &bad).await.unwrap_err();
    assert_eq!((e.kind, e.field.as_deref()), (redress_app::ErrorKind::Invalid, Some("files")), "{e:?}");
    assert!(e.message.contains("invoice.pdf"), "{}", e.message);
    let too_many: Vec<(String, Vec<u8>)> =
        (0..=redress_domain::attachment::MAX_ATTACHMENTS_PER_COMPLAINT).map(|i| (format!("{i}.txt"), format!("file {i}").into_bytes())).collect();
    let e = redress_app::complaints::register_with_files(st, &intake, new("13800000003"), None, &too_many).await.unwrap_err();
    assert_eq!(e.field.as_deref(), Some("files"), "{e:?}");
    assert_eq!(st.store.count().await.unwrap(), count);
    assert_eq!(database.attachment_rows(None).await, 2);

    // The customers' online form: the receipt counts the files, all stored with the complaint.
    let photo = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89".to_vec();
    let online = vec![("截图.png".to_string(), photo.clone()), ("交易流水.pdf".to_string(), pdf.clone())];
    let submitted = redress_app::customer::submit(st, new("13800000004"), &online).await.unwrap();
    assert_eq!(submitted.attached, 2);
    assert_eq!(submitted.complaint.attachments.len(), 2);
    let stored = st.store.complaint(submitted.complaint.id).await.unwrap().unwrap();
    assert_eq!(stored.attachments, submitted.complaint.attachments);
    assert_eq!(st.store.attachment(&stored.attachments[0].sha256).await.unwrap().map(|(_, c)| c), Some(photo));
    assert_eq!(database.attachment_rows(None).await, 3, "the PDF is stored once");
}
