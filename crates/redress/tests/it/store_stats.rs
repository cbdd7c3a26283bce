//! The statistics cells and the identity index through the `Store` trait, the same story on
//! every engine: what registrations and saves add (and what they do not), the questions asked
//! of the cells, rebuilding them, and finding a complainant's complaints.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use redress_domain::classify::ClassifyInput;
use redress_domain::complaint::{Action, Actor, Channel, Complainant, Complaint, ComplaintId, CustomerType, Draft, Language, NewComplaint, Respondent};
use redress_domain::fields::{Email, Narrative, PersonName, Phone, Request};
use redress_domain::lifecycle::Status;
use redress_domain::org::Role;
use redress_domain::rulebook::RuleBook;
use redress_store::columns::identity_keys;
use redress_store::stats::{Cell, CellKey, Measure};
use redress_store::{Change, IdempotencyKey, NewUser, Registered, Registration, StatColumn, StatQuery, StatRow, StatsOf, Store, StoreError};

use crate::on_both_engines;
use crate::support::{Engine, fresh_store, start_time};

on_both_engines!(
    registrations_add_their_cells,
    concurrent_registrations_sum_right,
    saves_add_their_difference,
    questions_filter_group_and_sort,
    clearing_and_adding_cells,
    complaints_by_identity_newest_first,
    filing_identities_again_changes_nothing
);

/// The department every registration here is routed to.
const DEPARTMENT: &str = "SH-CARD";

/// A local day number to date cells with (any will do: the store does not interpret them).
const DAY: i32 = 20_108;

/// A key of measure `measure` on `day`, in `department`, broken down by `value`; the other
/// dimensions fixed.
fn key(measure: Measure, day: i32, department: &str, value: &str) -> CellKey {
    CellKey {
        measure,
        day,
        department: department.into(),
        handler: String::new(),
        channel: "web".into(),
        business_type: "BT01".into(),
        cause: "C1".into(),
        severity: "low".into(),
        product: "card".into(),
        value: value.into(),
    }
}

fn cell(key: CellKey, n: i64, total: i64) -> Cell {
    Cell { key, n, total }
}

/// Who complains: a phone number and an e-mail address, either may be missing.
struct Who {
    phone: Option<String>,
    email: Option<String>,
}

impl Who {
    fn new(phone: Option<&str>, email: Option<&str>) -> Who {
        Who { phone: phone.map(Into::into), email: email.map(Into::into) }
    }
}

/// A registration of a complaint by `who`, received at `at`, with the statistics cells `stats`
/// makes of the built record.
fn registration(book: &Arc<RuleBook>, who: Who, at: Timestamp, stats: StatsOf) -> Registration {
    let new = NewComplaint {
        channel: Channel::Web,
        regulator_order: None,
        received_at: at,
        complainant: Complainant {
            name: PersonName::parse("name", "赵六").unwrap(),
            id_number: None,
            phone: who.phone.map(|p| Phone::parse("phone", &p).unwrap()),
            email: who.email.map(|e| Email::parse("email", &e).unwrap()),
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
    let mut draft = Draft::prepare(new, classification, book.default_rules(), &actor, at);
    draft.department = DEPARTMENT.to_string();
    let book = book.clone();
    Registration {
        id: ComplaintId::generate(at),
        department: DEPARTMENT.to_string(),
        duplicate_key: None,
        external_ref: None,
        idempotency: None,
        duplicate_departments: None,
        build: Box::new(move |ctx| draft.clone().register(ctx, book.default_rules())),
        text: Default::default(),
        tracking_code_hash: None,
        attachments: Vec::new(),
        stats,
    }
}

/// A complainant of their own, known by phone.
fn anyone(phone: u32) -> Who {
    Who { phone: Some(format!("1380{phone:07}")), email: None }
}

fn created(r: Registered) -> Complaint {
    match r {
        Registered::Created(c) => *c,
        Registered::Replayed(c) => panic!("expected a new complaint, got a replay of {}", c.number),
    }
}

/// The cells the stats closures of these tests make: one received and one in dispute (total
/// `disputed`) in the built record's department, and one broken down by `value`.
fn stats_of(disputed: i64, value: &'static str) -> StatsOf {
    Box::new(move |c: &Complaint| {
        vec![
            cell(key(Measure::Received, DAY, &c.owner.department, ""), 1, 0),
            cell(key(Measure::Disputed, DAY, &c.owner.department, "CNY"), 1, disputed),
            cell(key(Measure::Emotion, DAY, &c.owner.department, value), 1, 0),
        ]
    })
}

fn sorted(mut cells: Vec<Cell>) -> Vec<Cell> {
    cells.sort();
    cells
}

async fn registrations_add_their_cells(engine: Engine) {
    let Some((store, _dir)) = fresh_store(engine).await else { return };
    let book = Arc::new(RuleBook::builtin());
    let now = start_time();
    assert_eq!(store.stat_cells().await.unwrap(), Vec::new(), "a new store has no cells");

    let first = created(store.register(registration(&book, anyone(1), now, stats_of(500, "anger"))).await.unwrap());
    assert_eq!(first.owner.department, DEPARTMENT, "the closure sees the built record");
    assert_eq!(
        store.stat_cells().await.unwrap(),
        sorted(vec![
            cell(key(Measure::Received, DAY, DEPARTMENT, ""), 1, 0),
            cell(key(Measure::Disputed, DAY, DEPARTMENT, "CNY"), 1, 500),
            cell(key(Measure::Emotion, DAY, DEPARTMENT, "anger"), 1, 0),
        ])
    );

    // A second registration adds to the same keys and makes a new one.
    created(store.register(registration(&book, anyone(2), now, stats_of(250, "anxiety"))).await.unwrap());
    let after_two = sorted(vec![
        cell(key(Measure::Received, DAY, DEPARTMENT, ""), 2, 0),
        cell(key(Measure::Disputed, DAY, DEPARTMENT, "CNY"), 2, 750),
        cell(key(Measure::Emotion, DAY, DEPARTMENT, "anger"), 1, 0),
        cell(key(Measure::Emotion, DAY, DEPARTMENT, "anxiety"), 1, 0),
    ]);
    assert_eq!(store.stat_cells().await.unwrap(), after_two);

    // Cells one registration repeats are summed before they are written.
    let twice: StatsOf = Box::new(|c: &Complaint| {
        let k = key(Measure::RiskFlag, DAY, &c.owner.department, "lawsuit");
        vec![cell(k.clone(), 1, 0), cell(k.clone(), 1, 0), cell(k, -1, 3)]
    });
    created(store.register(registration(&book, anyone(3), now, twice)).await.unwrap());
    let mut after_three = after_two;
    after_three.push(cell(key(Measure::RiskFlag, DAY, DEPARTMENT, "lawsuit"), 1, 3));
    assert_eq!(store.stat_cells().await.unwrap(), sorted(after_three));

    // A replayed registration adds nothing, whatever its closure would make.
    let idempotency = IdempotencyKey { user_id: "u-intake".into(), key: "k-1".into(), request_hash: "h-1".into() };
    let once = created(
        store
            .register(Registration { idempotency: Some(idempotency.clone()), ..registration(&book, anyone(4), now, stats_of(1, "joy")) })
            .await
            .unwrap(),
    );
    let after_four = sorted(vec![
        cell(key(Measure::Received, DAY, DEPARTMENT, ""), 3, 0),
        cell(key(Measure::Disputed, DAY, DEPARTMENT, "CNY"), 3, 751),
        cell(key(Measure::Emotion, DAY, DEPARTMENT, "anger"), 1, 0),
        cell(key(Measure::Emotion, DAY, DEPARTMENT, "anxiety"), 1, 0),
        cell(key(Measure::Emotion, DAY, DEPARTMENT, "joy"), 1, 0),
        cell(key(Measure::RiskFlag, DAY, DEPARTMENT, "lawsuit"), 1, 3),
    ]);
    assert_eq!(store.stat_cells().await.unwrap(), after_four);
    let replay = store.register(Registration { idempotency: Some(idempotency), ..registration(&book, anyone(4), now, stats_of(1_000_000, "fear")) }).await.unwrap();
    match replay {
        Registered::Replayed(c) => assert_eq!(c.id, once.id),
        Registered::Created(c) => panic!("the same request registered {} again", c.number),
    }
    assert_eq!(store.stat_cells().await.unwrap(), after_four, "a replay adds no cells");

    // A registration whose cells cannot be made fails alone, and adds nothing.
    let broken = registration(&book, anyone(5), now, Box::new(|_: &Complaint| panic!("no cells for this one")));
    let broken_id = broken.id;
    assert!(store.register(broken).await.is_err());
    assert_eq!(store.complaint(broken_id).await.unwrap(), None, "nothing of it is stored");
    assert_eq!(store.stat_cells().await.unwrap(), after_four);
    assert_eq!(store.count().await.unwrap(), 4);
}

async fn concurrent_registrations_sum_right(engine: Engine) {
    let Some((store, _dir)) = fresh_store(engine).await else { return };
    let book = Arc::new(RuleBook::builtin());
    let now = start_time();
    const VALUES: [&str; 3] = ["v0", "v1", "v2"];
    let mut registrations = Vec::new();
    // 25 distinct complaints…
    for i in 0..25u32 {
        registrations.push(registration(&book, anyone(100 + i), now, stats_of(i64::from(i) * 100, VALUES[i as usize % 3])));
    }
    // …five copies of one request, of which one registers and four replay…
    for i in 0..5u32 {
        let idempotency = IdempotencyKey { user_id: "u-intake".into(), key: "same".into(), request_hash: "same-hash".into() };
        registrations.push(Registration { idempotency: Some(idempotency), ..registration(&book, anyone(200 + i), now, stats_of(7, "dup")) });
    }
    // …and one that fails (in a batch, it is run again on its own).
    let broken = registration(&book, anyone(300), now, Box::new(|_: &Complaint| panic!("no cells for this one")));
    let broken_id = broken.id;
    registrations.insert(12, broken);
    let results = futures::future::join_all(registrations.into_iter().map(|r| {
        let store = store.clone();
        async move { store.register(r).await }
    }))
    .await;
    let created_count = results.iter().filter(|r| matches!(r, Ok(Registered::Created(_)))).count();
    let replayed = results.iter().filter(|r| matches!(r, Ok(Registered::Replayed(_)))).count();
    let failed = results.iter().filter(|r| r.is_err()).count();
    assert_eq!((created_count, replayed, failed), (26, 4, 1), "{results:?}");
    assert_eq!(store.complaint(broken_id).await.unwrap(), None);
    assert_eq!(store.count().await.unwrap(), 26);

    let disputed: i64 = (0..25).map(|i| i * 100).sum::<i64>() + 7;
    assert_eq!(
        store.stat_cells().await.unwrap(),
        sorted(vec![
            cell(key(Measure::Received, DAY, DEPARTMENT, ""), 26, 0),
            cell(key(Measure::Disputed, DAY, DEPARTMENT, "CNY"), 26, disputed),
            cell(key(Measure::Emotion, DAY, DEPARTMENT, "v0"), 9, 0),
            cell(key(Measure::Emotion, DAY, DEPARTMENT, "v1"), 8, 0),
            cell(key(Measure::Emotion, DAY, DEPARTMENT, "v2"), 8, 0),
            cell(key(Measure::Emotion, DAY, DEPARTMENT, "dup"), 1, 0),
        ])
    );
    let by_value = store.stat_rows(&StatQuery { group_by: vec![StatColumn::Value], ..StatQuery::new(Measure::Emotion, DAY, DAY + 1) }).await.unwrap();
    assert_eq!(
        by_value,
        vec![
            StatRow { keys: vec!["dup".into()], n: 1, total: 0 },
            StatRow { keys: vec!["v0".into()], n: 9, total: 0 },
            StatRow { keys: vec!["v1".into()], n: 8, total: 0 },
            StatRow { keys: vec!["v2".into()], n: 8, total: 0 },
        ]
    );
}

fn handler_actor(id: &str) -> Actor {
    Actor { id: id.into(), name: "handler".into(), role: Role::Handler, department: Some(DEPARTMENT.into()) }
}

/// The change `action` by the complaint's handler makes to `before`, adding `stats`.
fn change(book: &RuleBook, before: &Complaint, action: Action, consumed_link: Option<&str>, stats: Vec<Cell>) -> Change {
    let mut after = before.clone();
    let handler = before.owner.handler.as_ref().map_or("nobody", |h| h.id.as_str()).to_string();
    let outcome = after.apply(action, &handler_actor(&handler), start_time(), book.default_rules()).unwrap();
    Change {
        complaint: after,
        expected_version: before.version,
        previous_handler: before.owner.handler.as_ref().map(|h| h.id.clone()),
        was_open: before.status.is_open(),
        outcome,
        text: None,
        attachment: None,
        consumed_link: consumed_link.map(Into::into),
        stats,
    }
}

async fn add_handler(store: &dyn Store, name: &str) -> String {
    let id = uuid::Uuid::now_v7().to_string();
    let user = NewUser {
        id: id.clone(),
        name: name.into(),
        role: Role::Handler,
        department: Some(DEPARTMENT.into()),
        token_hash: format!("hash-{name}"),
        password_hash: None,
        created_at: start_time(),
    };
    store.create_user(user).await.unwrap();
    id
}

fn status(value: &str, n: i64) -> Cell {
    cell(key(Measure::CurrentStatus, DAY, DEPARTMENT, value), n, 0)
}

async fn saves_add_their_difference(engine: Engine) {
    let Some((store, _dir)) = fresh_store(engine).await else { return };
    let book = Arc::new(RuleBook::builtin());
    let now = start_time();
    add_handler(&*store, "h1").await;
    let assigned: StatsOf = Box::new(|_: &Complaint| vec![status("assigned", 1), cell(key(Measure::Received, DAY, DEPARTMENT, ""), 1, 0)]);
    let c = created(store.register(registration(&book, anyone(1), now, assigned)).await.unwrap());
    assert_eq!(c.status, Status::Assigned);
    let received = cell(key(Measure::Received, DAY, DEPARTMENT, ""), 1, 0);
    assert_eq!(store.stat_cells().await.unwrap(), sorted(vec![status("assigned", 1), received.clone()]));

    // The difference, given unsorted and with a key repeated: what went to zero vanishes.
    let closed = key(Measure::Closed, DAY, DEPARTMENT, "investigating");
    let delta = vec![status("investigating", 1), status("assigned", -1), status("investigating", 1), cell(closed.clone(), 1, 3), status("investigating", -1)];
    store.save(change(&book, &c, Action::StartInvestigation, Some("link-1"), delta)).await.unwrap();
    let investigating = store.complaint(c.id).await.unwrap().unwrap();
    assert_eq!(investigating.status, Status::Investigating);
    let after_save = sorted(vec![status("investigating", 1), cell(closed.clone(), 1, 3), received.clone()]);
    assert_eq!(store.stat_cells().await.unwrap(), after_save, "the assigned cell went to zero and is left out");
    assert_eq!(
        store.stat_rows(&StatQuery { group_by: vec![StatColumn::Value], ..StatQuery::new(Measure::CurrentStatus, DAY, DAY + 1) }).await.unwrap(),
        vec![StatRow { keys: vec!["investigating".into()], n: 1, total: 0 }]
    );

    // A save that fails writes no cells: a stale version…
    let stale = change(&book, &c, Action::Withdraw { reason: None }, None, vec![status("withdrawn", 5)]);
    assert!(matches!(store.save(stale).await, Err(StoreError::Conflict)));
    assert_eq!(store.stat_cells().await.unwrap(), after_save);
    // …or a single-use link used already.
    let reused = change(&book, &investigating, Action::Withdraw { reason: None }, Some("link-1"), vec![status("withdrawn", 7)]);
    assert!(matches!(store.save(reused).await, Err(StoreError::Duplicate(_))));
    assert_eq!(store.stat_cells().await.unwrap(), after_save);
    assert_eq!(store.complaint(c.id).await.unwrap().unwrap(), investigating);

    // Saves racing each other over the same cells, each listing them in another order: every
    // one goes through and the sums are exact.
    let mut others = Vec::new();
    for i in 0..6u32 {
        let stats: StatsOf = Box::new(|_: &Complaint| vec![status("assigned", 1)]);
        others.push(created(store.register(registration(&book, anyone(10 + i), now, stats)).await.unwrap()));
    }
    let values = ["investigating", "assigned", "a", "b", "c"];
    let saves: Vec<Change> = others
        .iter()
        .enumerate()
        .map(|(i, other)| {
            let mut delta: Vec<Cell> = values.iter().map(|v| status(v, 1)).collect();
            delta.push(status("assigned", -2));
            if i % 2 == 1 {
                delta.reverse();
            }
            let len = delta.len();
            delta.rotate_left(i % len);
            change(&book, other, Action::StartInvestigation, None, delta)
        })
        .collect();
    let results = futures::future::join_all(saves.into_iter().map(|s| store.save(s))).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(
        store.stat_cells().await.unwrap(),
        sorted(vec![
            status("investigating", 7),
            status("a", 6),
            status("b", 6),
            status("c", 6),
            cell(closed, 1, 3),
            received,
        ]),
        "assigned: 6 registered, 6 × (+1 − 2), so zero"
    );
}

/// The cells the questions below are asked of: measure `received` unless said otherwise, on
/// days 98 to 103, in departments D1 to D4.
fn question_cells() -> Vec<Cell> {
    let at = |day: i32| key(Measure::Received, day, "D1", "x");
    vec![
        cell(at(99), 1, 10),
        cell(CellKey { department: "D2".into(), handler: "h1".into(), ..at(100) }, 2, 20),
        cell(CellKey { department: "D3".into(), channel: "hotline".into(), business_type: "BT0101".into(), ..at(100) }, 4, 40),
        cell(CellKey { business_type: "BT02".into(), cause: "C10".into(), severity: "high".into(), ..at(101) }, 8, 80),
        cell(
            CellKey {
                department: "D2".into(),
                handler: "h2".into(),
                business_type: "B%X".into(),
                cause: "D1".into(),
                product: "loan".into(),
                value: "y".into(),
                ..at(101)
            },
            16,
            160,
        ),
        // Two cells of one department that cancel out.
        cell(CellKey { department: "D4".into(), value: "y".into(), ..at(102) }, 32, 0),
        cell(CellKey { department: "D4".into(), value: "z".into(), ..at(102) }, -32, 0),
        // Outside the days asked about, and another measure.
        cell(at(103), 64, 640),
        cell(at(98), 128, 1280),
        cell(key(Measure::Closed, 100, "D1", "x"), 256, 2560),
    ]
}

fn row(keys: &[&str], n: i64, total: i64) -> StatRow {
    StatRow { keys: keys.iter().map(|k| (*k).to_string()).collect(), n, total }
}

async fn questions_filter_group_and_sort(engine: Engine) {
    let Some((store, _dir)) = fresh_store(engine).await else { return };
    store.add_stat_cells(&question_cells()).await.unwrap();
    let base = StatQuery::new(Measure::Received, 99, 103);
    let ask = async |query: StatQuery| store.stat_rows(&query).await.unwrap();

    // No filter, no grouping: the grand sums of the days asked about.
    assert_eq!(ask(base.clone()).await, vec![row(&[], 31, 310)]);
    assert_eq!(ask(StatQuery::new(Measure::Received, 98, 104)).await, vec![row(&[], 31 + 64 + 128, 310 + 640 + 1280)]);
    assert_eq!(ask(StatQuery::new(Measure::Closed, 99, 103)).await, vec![row(&[], 256, 2560)]);
    assert_eq!(ask(StatQuery::new(Measure::Received, 104, 200)).await, Vec::new(), "nothing then");
    assert_eq!(ask(StatQuery::new(Measure::Received, 100, 100)).await, Vec::new(), "an empty range");

    // Departments: some, none at all, or only ones whose cells cancel out.
    let departments = |list: &[&str]| Some(list.iter().map(|d| (*d).to_string()).collect::<Vec<_>>());
    assert_eq!(ask(StatQuery { departments: departments(&["D1", "D2"]), ..base.clone() }).await, vec![row(&[], 27, 270)]);
    assert_eq!(ask(StatQuery { departments: departments(&[]), ..base.clone() }).await, Vec::new());
    assert_eq!(ask(StatQuery { departments: departments(&["D4"]), ..base.clone() }).await, Vec::new(), "zero sums are left out");
    assert_eq!(ask(StatQuery { departments: departments(&["nowhere"]), ..base.clone() }).await, Vec::new());

    // Exact filters.
    assert_eq!(ask(StatQuery { handler: Some("h1".into()), ..base.clone() }).await, vec![row(&[], 2, 20)]);
    assert_eq!(ask(StatQuery { channel: Some("hotline".into()), ..base.clone() }).await, vec![row(&[], 4, 40)]);
    assert_eq!(ask(StatQuery { severity: Some("high".into()), ..base.clone() }).await, vec![row(&[], 8, 80)]);
    assert_eq!(ask(StatQuery { product: Some("loan".into()), ..base.clone() }).await, vec![row(&[], 16, 160)]);
    assert_eq!(ask(StatQuery { product: Some("car".into()), ..base.clone() }).await, Vec::new(), "a product is matched whole");
    assert_eq!(ask(StatQuery { value: Some("y".into()), ..base.clone() }).await, vec![row(&[], 48, 160)]);

    // Code prefixes: a code matches every code below it; nothing in a prefix is a wildcard.
    assert_eq!(ask(StatQuery { business_type: Some("BT01".into()), ..base.clone() }).await, vec![row(&[], 7, 70)]);
    assert_eq!(ask(StatQuery { business_type: Some("BT".into()), ..base.clone() }).await, vec![row(&[], 15, 150)]);
    assert_eq!(ask(StatQuery { business_type: Some("B%".into()), ..base.clone() }).await, vec![row(&[], 16, 160)]);
    assert_eq!(ask(StatQuery { business_type: Some("B%X".into()), ..base.clone() }).await, vec![row(&[], 16, 160)]);
    assert_eq!(ask(StatQuery { business_type: Some("B_".into()), ..base.clone() }).await, Vec::new());
    assert_eq!(ask(StatQuery { business_type: Some("%".into()), ..base.clone() }).await, Vec::new());
    assert_eq!(ask(StatQuery { business_type: Some("bt01".into()), ..base.clone() }).await, Vec::new(), "codes are matched as written");
    assert_eq!(ask(StatQuery { cause: Some("C1".into()), ..base.clone() }).await, vec![row(&[], 15, 150)]);
    assert_eq!(ask(StatQuery { cause: Some("C10".into()), ..base.clone() }).await, vec![row(&[], 8, 80)]);
    assert_eq!(ask(StatQuery { cause: Some("C".into()), business_type: Some("BT0".into()), ..base.clone() }).await, vec![row(&[], 15, 150)]);

    // Grouping by two columns, one of them the day: days sort as numbers (99 before 100), and
    // a group whose sums are zero is left out.
    assert_eq!(
        ask(StatQuery { group_by: vec![StatColumn::Day, StatColumn::Department], ..base.clone() }).await,
        vec![row(&["99", "D1"], 1, 10), row(&["100", "D2"], 2, 20), row(&["100", "D3"], 4, 40), row(&["101", "D1"], 8, 80), row(&["101", "D2"], 16, 160)]
    );
    assert_eq!(
        ask(StatQuery { group_by: vec![StatColumn::Value, StatColumn::Day], ..base.clone() }).await,
        vec![row(&["x", "99"], 1, 10), row(&["x", "100"], 6, 60), row(&["x", "101"], 8, 80), row(&["y", "101"], 16, 160), row(&["y", "102"], 32, 0), row(&["z", "102"], -32, 0)]
    );
    assert_eq!(
        ask(StatQuery { group_by: vec![StatColumn::Department], ..base.clone() }).await,
        vec![row(&["D1"], 9, 90), row(&["D2"], 18, 180), row(&["D3"], 4, 40)]
    );
    // Filters and grouping together.
    assert_eq!(
        ask(StatQuery { departments: departments(&["D1", "D2", "D3"]), channel: Some("web".into()), group_by: vec![StatColumn::Handler], ..base.clone() }).await,
        vec![row(&[""], 9, 90), row(&["h1"], 2, 20), row(&["h2"], 16, 160)]
    );
    assert_eq!(
        ask(StatQuery { group_by: vec![StatColumn::BusinessType, StatColumn::Cause, StatColumn::Severity, StatColumn::Product, StatColumn::Channel], ..StatQuery::new(Measure::Received, 101, 102) }).await,
        vec![row(&["B%X", "D1", "low", "loan", "web"], 16, 160), row(&["BT02", "C10", "high", "card", "web"], 8, 80)]
    );
}

async fn clearing_and_adding_cells(engine: Engine) {
    let Some((store, _dir)) = fresh_store(engine).await else { return };
    let cells = question_cells();
    store.add_stat_cells(&cells).await.unwrap();
    assert_eq!(store.stat_cells().await.unwrap(), sorted(cells.clone()));

    store.clear_stat_cells().await.unwrap();
    assert_eq!(store.stat_cells().await.unwrap(), Vec::new());
    assert_eq!(store.stat_rows(&StatQuery::new(Measure::Received, 0, 1000)).await.unwrap(), Vec::new());

    // Added again, and then once more: the sums double.
    store.add_stat_cells(&cells).await.unwrap();
    assert_eq!(store.stat_cells().await.unwrap(), sorted(cells.clone()));
    store.add_stat_cells(&cells).await.unwrap();
    let doubled: Vec<Cell> = cells.iter().map(|c| cell(c.key.clone(), c.n * 2, c.total * 2)).collect();
    assert_eq!(store.stat_cells().await.unwrap(), sorted(doubled));

    // Cells of one call that share a key are summed; what sums to zero is left out.
    let k = key(Measure::Received, 500, "D9", "");
    store.clear_stat_cells().await.unwrap();
    store.add_stat_cells(&[cell(k.clone(), 1, 5), cell(k.clone(), 2, 5), cell(key(Measure::Received, 501, "D9", ""), 1, 0)]).await.unwrap();
    store.add_stat_cells(&[cell(key(Measure::Received, 501, "D9", ""), -1, 0)]).await.unwrap();
    assert_eq!(store.stat_cells().await.unwrap(), vec![cell(k.clone(), 3, 10)]);
    assert_eq!(store.stat_rows(&StatQuery::new(Measure::Received, 500, 502)).await.unwrap(), vec![row(&[], 3, 10)]);
    store.add_stat_cells(&[]).await.unwrap();
    assert_eq!(store.stat_cells().await.unwrap(), vec![cell(k, 3, 10)]);

    // More cells than one statement takes.
    store.clear_stat_cells().await.unwrap();
    let many: Vec<Cell> = (0..1500).map(|d| cell(key(Measure::Received, d, "D1", ""), 1, i64::from(d))).collect();
    store.add_stat_cells(&many).await.unwrap();
    assert_eq!(store.stat_cells().await.unwrap(), many);
    assert_eq!(store.stat_rows(&StatQuery::new(Measure::Received, 0, 1500)).await.unwrap(), vec![row(&[], 1500, (0..1500).sum())]);
}

fn no_stats() -> StatsOf {
    Box::new(|_| Vec::new())
}

async fn complaints_by_identity_newest_first(engine: Engine) {
    let Some((store, _dir)) = fresh_store(engine).await else { return };
    let book = Arc::new(RuleBook::builtin());
    let t0 = start_time();
    let hour = SignedDuration::from_hours(1);
    let register = async |who: Who, at: Timestamp| created(store.register(registration(&book, who, at, no_stats())).await.unwrap());
    let both = register(Who::new(Some("13800000001"), Some("Zhao@Example.com")), t0).await;
    let by_phone = register(Who::new(Some("+86 138 0000 0001"), None), t0 + hour).await;
    let by_email = register(Who::new(None, Some("zhao@example.com")), t0 + hour * 2).await;
    let someone_else = register(Who::new(Some("13900000009"), Some("qian@example.com")), t0 + hour * 3).await;

    let [phone_key] = identity_keys(&by_phone).try_into().expect("one key: the phone");
    let [email_key] = identity_keys(&by_email).try_into().expect("one key: the e-mail");
    assert_eq!(identity_keys(&both), vec![phone_key.clone(), email_key.clone()], "the same phone and e-mail, written otherwise");
    let ids = async |keys: &[String], limit: u32| store.complaints_by_identity(keys, limit).await.unwrap().into_iter().map(|c| c.id).collect::<Vec<_>>();

    assert_eq!(ids(std::slice::from_ref(&phone_key), 10).await, vec![by_phone.id, both.id]);
    assert_eq!(ids(std::slice::from_ref(&email_key), 10).await, vec![by_email.id, both.id]);
    let keys = [email_key.clone(), phone_key.clone()];
    assert_eq!(ids(&keys, 10).await, vec![by_email.id, by_phone.id, both.id], "each complaint once, newest first");
    assert_eq!(ids(&keys, 2).await, vec![by_email.id, by_phone.id]);
    assert_eq!(ids(&keys, 1).await, vec![by_email.id]);
    assert_eq!(ids(&keys, 0).await, Vec::<ComplaintId>::new());
    assert_eq!(ids(&[], 10).await, Vec::<ComplaintId>::new());
    assert_eq!(ids(&["no-such-key".to_string()], 10).await, Vec::<ComplaintId>::new());
    assert_eq!(ids(&identity_keys(&someone_else), 10).await, vec![someone_else.id]);
    let found = store.complaints_by_identity(&keys, 10).await.unwrap();
    assert_eq!(found[2], store.complaint(both.id).await.unwrap().unwrap(), "whole records, as stored");

    // A key given twice, beside unknown ones, changes nothing.
    let repeated = [phone_key.clone(), "unknown".to_string(), phone_key.clone()];
    assert_eq!(ids(&repeated, 10).await, vec![by_phone.id, both.id]);
    // The limit holds with more complaints under one key than it.
    for i in 0..5 {
        register(Who::new(Some("13800000001"), None), t0 + hour * (10 + i)).await;
    }
    let newest = store.complaints_by_identity(std::slice::from_ref(&phone_key), 3).await.unwrap();
    assert_eq!(newest.iter().map(|c| c.received_at).collect::<Vec<_>>(), vec![t0 + hour * 14, t0 + hour * 13, t0 + hour * 12]);
    assert_eq!(ids(&keys, 100).await.len(), 8);
}

async fn filing_identities_again_changes_nothing(engine: Engine) {
    let Some((store, _dir)) = fresh_store(engine).await else { return };
    let book = Arc::new(RuleBook::builtin());
    let t0 = start_time();
    let c = created(store.register(registration(&book, Who::new(Some("13800000001"), None), t0, no_stats())).await.unwrap());
    let later = created(store.register(registration(&book, anyone(2), t0 + SignedDuration::from_hours(1), no_stats())).await.unwrap());
    let [phone_key] = identity_keys(&c).try_into().unwrap();

    // Filing what registration filed already, and a key of its own, twice.
    let keys = vec![phone_key.clone(), "k-old".to_string(), "k-old".to_string()];
    store.index_identity(c.id, c.received_at, &keys).await.unwrap();
    store.index_identity(c.id, c.received_at, &keys).await.unwrap();
    store.index_identity(later.id, later.received_at, &["k-old".to_string()]).await.unwrap();
    store.index_identity(later.id, later.received_at, &[]).await.unwrap();
    let ids = async |keys: &[String]| store.complaints_by_identity(keys, 10).await.unwrap().into_iter().map(|c| c.id).collect::<Vec<_>>();
    assert_eq!(ids(std::slice::from_ref(&phone_key)).await, vec![c.id]);
    assert_eq!(ids(&["k-old".to_string()]).await, vec![later.id, c.id]);
    assert_eq!(ids(&keys).await, vec![later.id, c.id]);

    // A complaint that does not exist cannot be filed.
    let missing = ComplaintId::generate(t0);
    assert!(matches!(store.index_identity(missing, t0, &["k-old".to_string()]).await, Err(StoreError::NotFound)));
    assert_eq!(ids(&["k-old".to_string()]).await, vec![later.id, c.id]);
}
