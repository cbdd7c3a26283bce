//! Tests of registering and of `Complaint::apply`: one test per action kind that walks its rows
//! of the lifecycle table (and checks every other status refuses it), one that crosses every
//! status with every kind, and the record rules that remain in the domain.

use std::sync::OnceLock;

use super::*;
use crate::classify::{Classification, LabelSource};
use crate::lifecycle::{ActionKind as A, Status as S};
use crate::rulebook::RuleBook;

fn book() -> &'static RuleBook {
    static BOOK: OnceLock<RuleBook> = OnceLock::new();
    BOOK.get_or_init(RuleBook::builtin)
}

/// The default profile (`cn-nfra`): merges duplicates, approval above 5,000 CNY, two
/// extension steps, a review stage.
fn rules() -> Rules<'static> {
    book().default_rules()
}

fn now() -> Timestamp {
    "2025-03-03T02:00:00Z".parse().unwrap()
}

fn hours_ago(h: i64) -> Timestamp {
    now() - jiff::SignedDuration::from_hours(h)
}

fn user(id: &str) -> UserRef {
    UserRef { id: id.into(), name: format!("User {id}") }
}

fn actor(id: &str, role: Role, department: Option<&str>) -> Actor {
    Actor { id: id.into(), name: format!("User {id}"), role, department: department.map(str::to_string) }
}

/// The person acting in the table tests; neither the proposer of the fixtures' resolutions nor
/// the requester of their extensions, so maker-checker never gets in the way.
fn checker() -> Actor {
    actor("sup1", Role::Supervisor, None)
}

fn long(text: &str) -> LongText {
    LongText::parse("text", text).unwrap()
}

fn new_complaint() -> NewComplaint {
    NewComplaint {
        channel: Channel::Hotline,
        regulator_order: None,
        received_at: hours_ago(1),
        complainant: Complainant {
            name: PersonName::parse("complainant.name", "张三").unwrap(),
            id_number: None,
            phone: Some(Phone::parse("complainant.phone", "13812345678").unwrap()),
            email: None,
            customer_type: CustomerType::Individual,
            language: Language::ZhCn,
        },
        agent: None,
        respondent: Respondent { unit: "SH".into(), staff: Vec::new() },
        product: None,
        business_type: None,
        amount: None,
        request: Request::parse("request", "退还年费").unwrap(),
        narrative: Narrative::parse("narrative", "信用卡年费被乱收费，客服说无法退").unwrap(),
        title: None,
        external_ref: None,
    }
}

fn register(new: NewComplaint, handler: Option<UserRef>, duplicate_of: Option<ComplaintRef>, rules: Rules<'_>) -> (Complaint, Outcome) {
    let intake = actor("intake1", Role::IntakeAgent, None);
    let draft = Draft::prepare(new, Classification::empty(LabelSource::Rules), rules, &intake, now());
    let ctx = RegistrationContext { id: ComplaintId::generate(now()), serial: 1, handler, duplicate_of };
    draft.register(ctx, rules)
}

fn resolution(needs_approval: bool) -> Resolution {
    Resolution {
        kind: ResolutionKind::Explanation,
        amount: None,
        summary: long("向客户解释年费规则"),
        proposed_by: user("h1"),
        proposed_at: hours_ago(3),
        approved_by: None,
        needs_approval,
    }
}

fn decision() -> DecisionNotice {
    DecisionNotice {
        verification: long("调取通话录音"),
        basis: long("信用卡领用合约"),
        reasons: long("年费按合约收取"),
        remedies: Remedy::ALL.to_vec(),
        decided_at: hours_ago(24),
        decided_by: user("h1"),
    }
}

/// A complaint standing in `status`, with what that status implies on the record (a running
/// pause while waiting, a resolution once proposed, a decision once decided).
fn complaint_in(status: Status) -> Complaint {
    let (mut c, _) = register(new_complaint(), Some(user("h1")), None, rules());
    assert_eq!(c.status, S::Assigned);
    match status {
        S::Received | S::Accepted => c.owner.handler = None,
        S::Waiting => c.clock.pauses.push(Pause { reason: "external_appraisal".into(), from: hours_ago(2), until: None }),
        S::ResolutionProposed => c.resolution = Some(resolution(false)),
        S::AwaitingApproval => c.resolution = Some(resolution(true)),
        S::Decided | S::Closed | S::Archived => {
            c.resolution = Some(resolution(false));
            c.decision = Some(decision());
        }
        S::UnderReview => {
            c.decision = Some(decision());
            c.review = Some(Review { reason: long("不服处理结果"), requested_at: hours_ago(2), previous_department: c.owner.department.clone() });
        }
        _ => {}
    }
    c.status = status;
    c.recompute_deadlines(rules());
    c
}

/// An action of `kind` that the record rules accept for `c` (preparing `c` where the action
/// needs something waiting on the record); `None` for the kinds only registration produces.
fn action_for(kind: ActionKind, c: &mut Complaint) -> Option<Action> {
    let action = match kind {
        A::Register | A::LinkDuplicate => return None,
        A::Accept => Action::Accept,
        A::Decline => Action::Decline { reason: "not_by_complainant_or_agent".into(), note: None },
        A::Assign => Action::Assign { handler: user("h2") },
        A::TransferToHandler => Action::Transfer {
            department: "SH-CP".into(),
            handler: Some(user("h3")),
            reason: ShortText::parse("reason", "涉及网点服务").unwrap(),
        },
        A::TransferToDepartment => {
            Action::Transfer { department: "SH-CP".into(), handler: None, reason: ShortText::parse("reason", "涉及网点服务").unwrap() }
        }
        A::StartInvestigation => Action::StartInvestigation,
        A::Pause => Action::Pause { reason: "external_appraisal".into(), note: None },
        A::Resume => Action::Resume,
        A::ProposeResolution => Action::ProposeResolution { kind: ResolutionKind::Explanation, amount: None, summary: long("解释") },
        A::ProposeResolutionForApproval => Action::ProposeResolution {
            kind: ResolutionKind::Compensation,
            amount: Some(Money::parse("amount", "10000", "CNY").unwrap()),
            summary: long("补偿客户损失"),
        },
        A::ApproveResolution => Action::ApproveResolution,
        A::RejectResolution => Action::RejectResolution { reason: long("依据不足") },
        A::Decide => Action::Decide {
            verification: long("调取录音"),
            basis: long("合约第五条"),
            reasons: long("按约收费"),
            remedies: Remedy::ALL.to_vec(),
        },
        A::FollowUpSatisfied => Action::RecordFollowUp { satisfaction: Satisfaction::Satisfied, comments: None },
        A::FollowUpDissatisfied => Action::RecordFollowUp { satisfaction: Satisfaction::Dissatisfied, comments: None },
        A::Close => Action::Close,
        A::Reopen => Action::Reopen { reason: long("客户提出新问题") },
        A::RequestReview => Action::RequestReview { reason: long("不服处理结果") },
        A::Archive => Action::Archive,
        A::MergeInto => Action::MergeInto { target: ComplaintRef { id: ComplaintId::generate(hours_ago(48)), number: "TS-20250301-000001".into() } },
        A::Withdraw => Action::Withdraw { reason: None },
        A::RequestExtension => Action::RequestExtension { reason: long("案情复杂") },
        A::DecideExtension => {
            c.clock.pending_extension =
                Some(ExtensionRequest { requested_by: user("h1"), requested_at: hours_ago(1), reason: long("案情复杂"), needs_superior: false });
            Action::DecideExtension { approve: true, note: None }
        }
        A::NewFacts => Action::NewFacts { description: long("客户补充了新的交易记录") },
        A::AddNote => Action::AddNote { text: long("已致电客户"), customer_contact: true },
        A::Attach => Action::Attach {
            attachment: AttachmentRef { sha256: "ab".repeat(32), filename: "receipt.pdf".into(), media_type: "application/pdf".into(), size: 10 },
        },
        A::CorrectClassification => {
            let code = rules().taxonomy.nodes(Dimension::BusinessType).next().unwrap().code.clone();
            Action::CorrectClassification { dimension: "business_type".into(), code }
        }
        A::Escalate => Action::Escalate { reason: EscalationReason::parse("reason", "客户威胁向监管投诉").unwrap() },
        A::MarkDue => Action::MarkDue { state: DueState::DueSoon },
        A::RevealContact => Action::RevealContact,
    };
    assert_eq!(action_kind(&action, rules().profile), kind, "the sample action has the kind it stands for");
    Some(action)
}

/// Checks every row of the table for `kind` (`rows`: from → to, written out here as the
/// expected table) and that every other status refuses it with `invalid_transition`, changing
/// nothing.
fn check_kind(kind: ActionKind, rows: &[(Status, Status)]) {
    for from in Status::ALL {
        let expected = rows.iter().find(|(f, _)| *f == from).map(|(_, to)| *to);
        assert_eq!(from.allows(kind), expected, "the table's answer for {kind} from {from}");
        let mut c = complaint_in(from);
        let action = action_for(kind, &mut c).expect("a kind with an action");
        let before = c.clone();
        let result = c.apply(action, &checker(), now(), rules());
        match expected {
            Some(to) => {
                let out = result.unwrap_or_else(|e| panic!("{kind} from {from} should lead to {to}: {} ({})", e.message, e.code));
                assert_eq!(c.status, to, "{kind} from {from}");
                let event = &out.events[0];
                assert_eq!((event.action, event.from_status, event.to_status), (kind, Some(from), to));
                assert_eq!(c.version, before.version + 1);
            }
            None => {
                let err = result.expect_err(&format!("{kind} from {from} is not in the table"));
                assert_eq!(err.code, "invalid_transition", "{kind} from {from}: {}", err.message);
                assert_eq!(c, before, "a refused action changes nothing");
            }
        }
    }
}

/// The statuses in which the legal clock runs and extensions and new facts apply.
const RUNNING_NOT_WAITING: [Status; 7] =
    [S::Received, S::Accepted, S::Assigned, S::Investigating, S::ResolutionProposed, S::AwaitingApproval, S::UnderReview];

/// Every status that is not final.
const NOT_FINAL: [Status; 10] = [
    S::Received,
    S::Accepted,
    S::Assigned,
    S::Investigating,
    S::Waiting,
    S::ResolutionProposed,
    S::AwaitingApproval,
    S::Decided,
    S::UnderReview,
    S::Closed,
];

fn unchanged(statuses: &[Status]) -> Vec<(Status, Status)> {
    statuses.iter().map(|s| (*s, *s)).collect()
}

fn all_to(statuses: &[Status], to: Status) -> Vec<(Status, Status)> {
    statuses.iter().map(|s| (*s, to)).collect()
}

// ----- the table, row by row -----

#[test]
fn accept_leads_from_received_to_accepted() {
    check_kind(A::Accept, &[(S::Received, S::Accepted)]);
}

#[test]
fn decline_ends_a_complaint_not_yet_investigated() {
    check_kind(A::Decline, &all_to(&[S::Received, S::Accepted, S::Assigned], S::Declined));
}

#[test]
fn assign_gives_an_accepted_complaint_a_handler_and_later_changes_the_handler() {
    check_kind(
        A::Assign,
        &[(S::Accepted, S::Assigned), (S::Assigned, S::Assigned), (S::Investigating, S::Investigating), (S::Waiting, S::Waiting), (S::UnderReview, S::UnderReview)],
    );
}

#[test]
fn transfer_to_a_handler_assigns_an_accepted_complaint_and_keeps_work_under_way() {
    check_kind(
        A::TransferToHandler,
        &[(S::Accepted, S::Assigned), (S::Assigned, S::Assigned), (S::Investigating, S::Investigating), (S::Waiting, S::Waiting), (S::UnderReview, S::UnderReview)],
    );
}

#[test]
fn transfer_to_a_department_waits_there_for_assignment_unless_work_is_under_way() {
    check_kind(
        A::TransferToDepartment,
        &[(S::Accepted, S::Accepted), (S::Assigned, S::Accepted), (S::Investigating, S::Investigating), (S::Waiting, S::Waiting), (S::UnderReview, S::UnderReview)],
    );
}

#[test]
fn start_investigation_leads_from_assigned_to_investigating() {
    check_kind(A::StartInvestigation, &[(S::Assigned, S::Investigating)]);
}

#[test]
fn pause_stops_the_clock_of_an_investigation_or_review() {
    check_kind(A::Pause, &all_to(&[S::Investigating, S::UnderReview], S::Waiting));
}

#[test]
fn resume_returns_to_investigating() {
    check_kind(A::Resume, &[(S::Waiting, S::Investigating)]);
}

#[test]
fn propose_resolution_within_authority_leads_to_resolution_proposed() {
    check_kind(A::ProposeResolution, &all_to(&[S::Investigating, S::UnderReview], S::ResolutionProposed));
}

#[test]
fn propose_resolution_for_approval_leads_to_awaiting_approval() {
    check_kind(A::ProposeResolutionForApproval, &all_to(&[S::Investigating, S::UnderReview], S::AwaitingApproval));
}

#[test]
fn approve_resolution_returns_the_proposal_for_decision() {
    check_kind(A::ApproveResolution, &[(S::AwaitingApproval, S::ResolutionProposed)]);
}

#[test]
fn reject_resolution_sends_back_to_investigation() {
    check_kind(A::RejectResolution, &all_to(&[S::AwaitingApproval, S::ResolutionProposed], S::Investigating));
}

#[test]
fn decide_leads_from_resolution_proposed_to_decided() {
    check_kind(A::Decide, &[(S::ResolutionProposed, S::Decided)]);
}

#[test]
fn a_satisfied_follow_up_closes() {
    check_kind(A::FollowUpSatisfied, &[(S::Decided, S::Closed)]);
}

#[test]
fn a_dissatisfied_follow_up_reopens_the_investigation() {
    check_kind(A::FollowUpDissatisfied, &[(S::Decided, S::Investigating)]);
}

#[test]
fn close_leads_from_decided_to_closed() {
    check_kind(A::Close, &[(S::Decided, S::Closed)]);
}

#[test]
fn reopen_returns_a_decided_or_closed_complaint_to_investigation() {
    check_kind(A::Reopen, &all_to(&[S::Decided, S::Closed], S::Investigating));
}

#[test]
fn request_review_puts_a_decided_or_closed_complaint_under_review() {
    check_kind(A::RequestReview, &all_to(&[S::Decided, S::Closed], S::UnderReview));
}

#[test]
fn archive_leads_from_closed_to_archived() {
    check_kind(A::Archive, &[(S::Closed, S::Archived)]);
}

#[test]
fn merge_ends_a_complaint_being_handled_but_not_under_review() {
    check_kind(
        A::MergeInto,
        &all_to(&[S::Received, S::Accepted, S::Assigned, S::Investigating, S::Waiting, S::ResolutionProposed, S::AwaitingApproval], S::Merged),
    );
}

#[test]
fn withdraw_ends_any_open_complaint() {
    let open: Vec<Status> = Status::ALL.into_iter().filter(|s| s.is_open()).collect();
    check_kind(A::Withdraw, &all_to(&open, S::Withdrawn));
}

#[test]
fn request_extension_keeps_the_status_while_the_clock_runs() {
    check_kind(A::RequestExtension, &unchanged(&RUNNING_NOT_WAITING));
}

#[test]
fn decide_extension_keeps_the_status_while_the_clock_runs() {
    check_kind(A::DecideExtension, &unchanged(&RUNNING_NOT_WAITING));
}

#[test]
fn new_facts_keep_the_status_while_the_clock_runs() {
    check_kind(A::NewFacts, &unchanged(&RUNNING_NOT_WAITING));
}

#[test]
fn notes_are_added_to_any_complaint_not_ended() {
    check_kind(A::AddNote, &unchanged(&NOT_FINAL));
}

#[test]
fn files_are_attached_to_any_complaint_not_ended() {
    check_kind(A::Attach, &unchanged(&NOT_FINAL));
}

#[test]
fn classification_is_corrected_on_any_complaint_not_ended() {
    check_kind(A::CorrectClassification, &unchanged(&NOT_FINAL));
}

#[test]
fn escalation_applies_to_any_complaint_not_ended() {
    check_kind(A::Escalate, &unchanged(&NOT_FINAL));
}

#[test]
fn the_due_state_is_marked_on_any_complaint_not_ended() {
    check_kind(A::MarkDue, &unchanged(&NOT_FINAL));
}

#[test]
fn apply_ends_where_the_table_says_for_every_status_and_kind() {
    let mut applied = 0;
    for from in Status::ALL {
        for kind in ActionKind::ALL {
            let mut c = complaint_in(from);
            let Some(action) = action_for(kind, &mut c) else { continue };
            match c.apply(action, &checker(), now(), rules()) {
                Ok(out) => {
                    applied += 1;
                    assert_eq!(Some(c.status), from.allows(kind), "{kind} from {from}");
                    assert_eq!(out.events[0].to_status, c.status);
                }
                Err(e) if from.allows(kind).is_none() => assert_eq!(e.code, "invalid_transition", "{kind} from {from}"),
                Err(_) => {}
            }
        }
    }
    assert!(applied > 100, "the fixtures make most allowed actions succeed ({applied})");
}

#[test]
fn registration_steps_are_rows_of_the_table() {
    let earlier = ComplaintRef { id: ComplaintId::generate(hours_ago(48)), number: "TS-20250301-000001".into() };
    for profile in ["cn-nfra", "us-cfpb"] {
        let rules = book().rules(profile).unwrap();
        for handler in [None, Some(user("h1"))] {
            for duplicate in [None, Some(earlier.clone())] {
                let (c, out) = register(new_complaint(), handler.clone(), duplicate.clone(), rules);
                let first = &out.events[0];
                assert_eq!((first.action, first.from_status, first.to_status), (A::Register, None, Status::INITIAL));
                for e in &out.events[1..] {
                    let from = e.from_status.expect("later steps start from a status");
                    assert_eq!(from.allows(e.action), Some(e.to_status), "{profile}: {} from {from}", e.action);
                }
                assert_eq!(Some(c.status), out.events.last().map(|e| e.to_status));
                let kinds: Vec<ActionKind> = out.events.iter().map(|e| e.action).collect();
                let mut expected = vec![A::Register, A::Accept];
                if handler.is_some() {
                    expected.push(A::Assign);
                }
                if duplicate.is_some() {
                    expected.push(if profile == "cn-nfra" { A::MergeInto } else { A::LinkDuplicate });
                }
                assert_eq!(kinds, expected, "{profile}");
            }
        }
    }
}

// ----- what the kinds mean on the record -----

#[test]
fn the_amount_decides_whether_a_proposal_needs_approval() {
    let propose = |amount: &str, currency: &str| Action::ProposeResolution {
        kind: ResolutionKind::Compensation,
        amount: Some(Money::parse("amount", amount, currency).unwrap()),
        summary: long("补偿"),
    };
    let profile = rules().profile;
    assert_eq!(action_kind(&propose("5000", "CNY"), profile), A::ProposeResolution);
    assert_eq!(action_kind(&propose("5000.01", "CNY"), profile), A::ProposeResolutionForApproval);
    assert_eq!(action_kind(&propose("1", "USD"), profile), A::ProposeResolutionForApproval, "another currency is not compared");

    let mut c = complaint_in(S::Investigating);
    let out = c.apply(propose("8000", "CNY"), &actor("h1", Role::Handler, Some("SH-CARD")), now(), rules()).unwrap();
    assert_eq!(c.status, S::AwaitingApproval);
    assert!(c.resolution.as_ref().unwrap().needs_approval);
    assert!(out.notifications.iter().any(|n| n.role == Role::Supervisor));
}

#[test]
fn follow_up_kinds_follow_the_satisfaction() {
    let follow_up = |satisfaction| Action::RecordFollowUp { satisfaction, comments: None };
    let profile = rules().profile;
    assert_eq!(action_kind(&follow_up(Satisfaction::Satisfied), profile), A::FollowUpSatisfied);
    assert_eq!(action_kind(&follow_up(Satisfaction::BasicallySatisfied), profile), A::FollowUpSatisfied);
    assert_eq!(action_kind(&follow_up(Satisfaction::Dissatisfied), profile), A::FollowUpDissatisfied);
}

#[test]
fn dissatisfaction_reopens_with_a_fresh_clock_and_escalates() {
    let mut c = complaint_in(S::Decided);
    let out = c.apply(Action::RecordFollowUp { satisfaction: Satisfaction::Dissatisfied, comments: None }, &checker(), now(), rules()).unwrap();
    assert_eq!(c.status, S::Investigating);
    assert_eq!(c.reopen_count, 1);
    assert_eq!(c.priority, Priority::High);
    assert!(c.decision.is_none() && c.resolution.is_none());
    assert_eq!(c.clock.started_at, now());
    assert_eq!(out.notifications.len(), 2);
}

#[test]
fn a_transfer_names_its_new_owner() {
    let mut c = complaint_in(S::Assigned);
    let Some(action) = action_for(A::TransferToDepartment, &mut c) else { unreachable!() };
    c.apply(action, &checker(), now(), rules()).unwrap();
    assert_eq!(c.owner, Owner { department: "SH-CP".into(), handler: None });

    let mut c = complaint_in(S::Accepted);
    let Some(action) = action_for(A::TransferToHandler, &mut c) else { unreachable!() };
    c.apply(action, &checker(), now(), rules()).unwrap();
    assert_eq!(c.owner, Owner { department: "SH-CP".into(), handler: Some(user("h3")) });
}

// ----- record rules that stay in the domain -----

#[test]
fn the_proposer_cannot_approve_their_own_resolution() {
    let mut c = complaint_in(S::AwaitingApproval);
    let before = c.clone();
    let err = c.apply(Action::ApproveResolution, &actor("h1", Role::Supervisor, None), now(), rules()).unwrap_err();
    assert_eq!(err.code, "maker_checker");
    assert_eq!(c, before);
}

#[test]
fn the_requester_cannot_decide_their_own_extension() {
    let mut c = complaint_in(S::Investigating);
    let Some(action) = action_for(A::DecideExtension, &mut c) else { unreachable!() };
    let err = c.apply(action, &actor("h1", Role::DepartmentHead, Some("SH-CARD")), now(), rules()).unwrap_err();
    assert_eq!(err.code, "maker_checker");
}

#[test]
fn a_resolution_needing_approval_cannot_be_decided_unapproved() {
    let mut c = complaint_in(S::ResolutionProposed);
    c.resolution = Some(resolution(true));
    let Some(action) = action_for(A::Decide, &mut c) else { unreachable!() };
    assert_eq!(c.apply(action, &checker(), now(), rules()).unwrap_err().code, "approval_required");
}

#[test]
fn who_acts_is_recorded_but_not_judged_here() {
    // Permissions belong to the use-case layer; the domain applies an action for any role.
    for role in Role::ALL {
        let mut c = complaint_in(S::Investigating);
        let Some(action) = action_for(A::AddNote, &mut c) else { unreachable!() };
        let out = c.apply(action, &actor("someone", role, None), now(), rules()).unwrap();
        assert_eq!(out.events[0].actor.id, "someone");
    }
    // A superior-level extension is recorded as approved whoever approves it; checking that the
    // approver stands at the superior level is the permission table's job.
    let mut c = complaint_in(S::Investigating);
    c.clock.pending_extension =
        Some(ExtensionRequest { requested_by: user("h1"), requested_at: hours_ago(1), reason: long("复杂"), needs_superior: true });
    c.apply(Action::DecideExtension { approve: true, note: None }, &actor("head", Role::DepartmentHead, Some("SH-CARD")), now(), rules()).unwrap();
    assert_eq!(c.clock.extensions_granted, 1);
}

#[test]
fn a_decision_names_each_remedy_once() {
    let mut c = complaint_in(S::ResolutionProposed);
    let before = c.clone();
    let action = Action::Decide {
        verification: long("录音"),
        basis: long("合约"),
        reasons: long("理由"),
        remedies: vec![Remedy::Review, Remedy::Mediation, Remedy::Review],
    };
    let err = c.apply(action, &checker(), now(), rules()).unwrap_err();
    assert_eq!((err.code, err.field.as_deref()), ("invalid_field", Some("remedies")));
    assert_eq!(c, before);
}

#[test]
fn the_escalation_reason_reaches_every_notification() {
    let mut c = complaint_in(S::Investigating);
    let reason = EscalationReason::deadline_passed(c.status);
    let out = c.apply(Action::Escalate { reason: reason.clone() }, &Actor::system(), now(), rules()).unwrap();
    assert!(!out.notifications.is_empty());
    assert!(out.notifications.iter().all(|n| n.message.contains(reason.as_str())));
    assert_eq!(out.events[0].reason.as_deref(), Some(reason.as_str()));
}

#[test]
fn a_case_file_has_a_bounded_number_of_notes() {
    let mut c = complaint_in(S::Investigating);
    let note = Note { text: long("记录"), by: user("h1"), at: hours_ago(1), customer_contact: false };
    c.notes = vec![note; MAX_NOTES_PER_COMPLAINT];
    let Some(action) = action_for(A::AddNote, &mut c) else { unreachable!() };
    assert_eq!(c.apply(action, &checker(), now(), rules()).unwrap_err().code, "too_many_notes");
}

// ----- new complaints -----

#[test]
fn a_35000_character_narrative_registers_whole() {
    let paragraph = "On XX/XX/2023 I disputed a charge with the bank; nobody answered my letters. ";
    let text: String = paragraph.chars().cycle().take(35_000).collect();
    let mut new = new_complaint();
    new.narrative = Narrative::parse("narrative", &text).unwrap();
    validate_new(&new, rules().org, now()).unwrap();
    let (c, _) = register(new, None, None, rules());
    assert_eq!(c.narrative.as_str().chars().count(), text.trim_end().chars().count());
}

#[test]
fn the_receipt_time_must_be_plausible() {
    let with_received = |at: Timestamp| NewComplaint { received_at: at, ..new_complaint() };
    let field = |at: Timestamp| validate_new(&with_received(at), rules().org, now()).err().map(|e| e.field);
    assert_eq!(field("1989-12-31T23:59:59Z".parse().unwrap()), Some("received_at".into()));
    assert_eq!(field(EARLIEST_RECEIVED_AT), None);
    assert_eq!(field(now() + jiff::SignedDuration::from_hours(23)), None);
    assert_eq!(field(now() + jiff::SignedDuration::from_hours(25)), Some("received_at".into()));
}

#[test]
fn the_respondent_names_at_most_fifty_staff() {
    let staff = |n: usize| (0..n).map(|i| ShortText::parse("respondent.staff", &format!("工号{i}")).unwrap()).collect::<Vec<_>>();
    let mut new = new_complaint();
    new.respondent.staff = staff(Respondent::MAX_STAFF);
    assert!(validate_new(&new, rules().org, now()).is_ok());
    new.respondent.staff = staff(Respondent::MAX_STAFF + 1);
    assert_eq!(validate_new(&new, rules().org, now()).unwrap_err().field, "respondent.staff");
}

#[test]
fn the_external_reference_is_kept_on_the_record() {
    let mut new = new_complaint();
    new.external_ref = Some(ExternalRef::parse("external_ref", "cfpb:6800001").unwrap());
    let (c, _) = register(new, None, None, rules());
    assert_eq!(c.external_ref.as_deref(), Some("cfpb:6800001"));
}

#[test]
fn messages_copy_typed_braces_as_written() {
    let mut new = new_complaint();
    new.complainant.name = PersonName::parse("complainant.name", "{deadline}").unwrap();
    let (_, out) = register(new, None, None, rules());
    let ack = &out.messages[0];
    assert_eq!(ack.kind, MessageKind::Acknowledgement);
    assert!(ack.body.starts_with("{deadline}，您好"), "{}", ack.body);
    assert_eq!(ack.recipient.as_deref(), Some("13812345678"));
}

// ----- the history -----

fn stored_event(action: &str, to_status: &str, changes: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "complaint_id": ComplaintId::generate(now()),
        "action": action,
        "actor": { "id": "h1", "name": "User h1" },
        "at": now(),
        "from_status": "investigating",
        "to_status": to_status,
        "reason": null,
        "changes": changes,
    })
}

#[test]
fn events_written_under_earlier_action_names_are_read_as_their_kinds() {
    let read = |action: &str, to: &str, changes: serde_json::Value| serde_json::from_value::<Event>(stored_event(action, to, changes)).map(|e| e.action);
    let owner = |handler: serde_json::Value| serde_json::json!({ "to": { "department": "SH-CP", "handler": handler } });
    assert_eq!(read("transfer", "investigating", owner(serde_json::json!({ "id": "h3", "name": "h3" }))).unwrap(), A::TransferToHandler);
    assert_eq!(read("transfer", "accepted", owner(serde_json::Value::Null)).unwrap(), A::TransferToDepartment);
    assert_eq!(read("record_follow_up", "closed", serde_json::json!({})).unwrap(), A::FollowUpSatisfied);
    assert_eq!(read("record_follow_up", "investigating", serde_json::json!({})).unwrap(), A::FollowUpDissatisfied);
    assert_eq!(read("propose_resolution", "awaiting_approval", serde_json::json!({})).unwrap(), A::ProposeResolutionForApproval);
    assert_eq!(read("propose_resolution", "resolution_proposed", serde_json::json!({})).unwrap(), A::ProposeResolution);
    assert!(read("teleport", "closed", serde_json::json!({})).is_err());
}

#[test]
fn events_round_trip_under_their_wire_names() {
    let mut c = complaint_in(S::Decided);
    let out = c.apply(Action::RecordFollowUp { satisfaction: Satisfaction::Satisfied, comments: None }, &checker(), now(), rules()).unwrap();
    let json = serde_json::to_value(&out.events[0]).unwrap();
    assert_eq!(json["action"], "follow_up_satisfied");
    assert_eq!(serde_json::from_value::<Event>(json).unwrap(), out.events[0]);
}

#[test]
fn each_ending_is_kept_as_a_closing_that_a_reopening_leaves_in_place() {
    let handler = actor("h1", Role::Handler, Some("SH-CARD"));
    let mut c = complaint_in(S::ResolutionProposed);
    c.apply(Action::Decide { verification: long("核实"), basis: long("依据"), reasons: long("理由"), remedies: Vec::new() }, &handler, now(), rules()).unwrap();
    assert_eq!(c.closings.len(), 1);
    let first = c.closings[0].clone();
    assert_eq!((first.status, first.at, first.resolution), (S::Decided, now(), Some(ResolutionKind::Explanation)));
    assert_eq!(first.department, c.owner.department);
    assert_eq!(first.handler.as_ref().map(|h| h.id.as_str()), Some("h1"));
    assert!(first.on_time && !first.upheld());
    assert_eq!(first.handling_days, first.calendar_days, "cn-nfra counts calendar days");
    // The follow-up is recorded on the closing it follows; dissatisfaction reopens and the
    // closing stays.
    c.apply(Action::RecordFollowUp { satisfaction: Satisfaction::Dissatisfied, comments: None }, &handler, now(), rules()).unwrap();
    assert_eq!(c.status, S::Investigating);
    assert_eq!(c.closings.len(), 1);
    assert_eq!(c.closings[0].satisfaction, Some(Satisfaction::Dissatisfied));
    assert_eq!(c.closings[0].followed_up_at, Some(now()));
    // Withdrawing ends it again: a second closing.
    c.apply(Action::Withdraw { reason: None }, &handler, now(), rules()).unwrap();
    assert_eq!(c.closings.iter().map(|x| x.status).collect::<Vec<_>>(), vec![S::Decided, S::Withdrawn]);
    assert_eq!(c.closings[1].resolution, None);
    // Actions that end nothing add no closing.
    let mut open = complaint_in(S::Investigating);
    open.apply(Action::AddNote { text: long("致电客户"), customer_contact: true }, &handler, now(), rules()).unwrap();
    assert!(open.closings.is_empty());
}

#[test]
fn complaint_numbers_are_found_in_subjects() {
    assert_eq!(complaint_numbers_in("Re: 投诉受理通知 TS-20261201-000042"), ["TS-20261201-000042"]);
    assert_eq!(complaint_numbers_in("回复：TS-20261201-000042，TS-20261202-000001"), ["TS-20261201-000042", "TS-20261202-000001"]);
    assert!(complaint_numbers_in("order XTS-20261201-0000421").is_empty());
    assert!(complaint_numbers_in("TS-2026120-000042 and ts-20261201-000042").is_empty());
    let written = complaint_number(jiff::civil::date(2026, 12, 1), 42);
    assert_eq!(complaint_numbers_in(&format!("Re: {written}")), [written], "what complaint_number writes is found");
}
