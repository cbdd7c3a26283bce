//! The complaint record and the actions that move it through its lifecycle.
//!
//! [`Draft::register`] builds a new record; [`Complaint::apply`] performs one action. Both
//! are pure: they take the rules (profile, calendar, organisation) and the current time as
//! arguments and return what happened as an [`Event`] plus any customer messages and
//! notifications, which the caller stores in the same transaction as the record.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::calendar::Calendar;
use crate::classify::{Classification, Dimension, Severity, Taxonomy};
use crate::deadline::{ClockInput, Deadline, DeadlineCalculator, DueState, PauseInterval};
use crate::fields::{EscalationReason, Email, ExternalRef, FieldError, IdNumber, LongText, Money, Narrative, PersonName, Phone, Request, ShortText};
use crate::lifecycle::{ActionKind, Status};
use crate::messages::{DecisionFacts, MessageFacts, MessageKind, OutgoingMessage, ResolutionFacts, Templates};
use crate::org::{Organisation, Role};
use crate::profile::{DueSoon, DuplicateAction, RuleProfile};

// The language and the remedies are part of what customer messages say; they live with the
// messages and are re-exported here, where the record uses them.
pub use crate::messages::{Language, Remedy};

/// A complaint's stable identifier (a UUID v7, so ids sort by creation time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ComplaintId(pub Uuid);

impl ComplaintId {
    /// A new id for a complaint created at `now`.
    pub fn generate(now: Timestamp) -> Self {
        let ts = uuid::Timestamp::from_unix(
            uuid::NoContext,
            now.as_second().max(0) as u64,
            now.subsec_nanosecond().max(0) as u32,
        );
        Self(Uuid::new_v7(ts))
    }

    /// Parses the textual form; `None` if it is not a UUID.
    pub fn parse(text: &str) -> Option<Self> {
        Uuid::parse_str(text).ok().map(Self)
    }
}

impl std::fmt::Display for ComplaintId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Formats the human-readable complaint number: `TS-YYYYMMDD-NNNNNN`, dated in the profile's
/// time zone. The serial comes from the store and only grows, so numbers sort by date.
pub fn complaint_number(received_local_date: jiff::civil::Date, serial: u64) -> String {
    format!("TS-{}-{serial:06}", received_local_date.strftime("%Y%m%d"))
}

/// The complaint numbers in a text (such as an e-mail's subject), in order: what
/// [`complaint_number`] writes (`TS-20261201-000042`), and numbers of the same shape with another
/// prefix of capital letters.
pub fn complaint_numbers_in(subject: &str) -> Vec<String> {
    let chars: Vec<char> = subject.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        while i < chars.len() && chars[i].is_ascii_uppercase() {
            i += 1;
        }
        let letters = i - start;
        let digits = |from: usize, n: usize| from + n <= chars.len() && chars[from..from + n].iter().all(char::is_ascii_digit);
        if (1..=6).contains(&letters)
            && chars.get(i) == Some(&'-')
            && digits(i + 1, 8)
            && chars.get(i + 9) == Some(&'-')
            && digits(i + 10, 6)
            && !chars.get(i + 16).is_some_and(char::is_ascii_digit)
            && (start == 0 || !chars[start - 1].is_ascii_alphanumeric())
        {
            found.push(chars[start..i + 16].iter().collect());
            i += 16;
        } else if letters == 0 {
            i += 1;
        }
    }
    found
}

/// How the complaint reached the institution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Telephone hotline.
    Hotline,
    /// E-mail.
    Email,
    /// Web form or online chat.
    Web,
    /// Mobile app.
    App,
    /// Social media.
    SocialMedia,
    /// Letter.
    Letter,
    /// At a branch counter.
    Branch,
    /// Forwarded by a regulator as a work order (工单).
    Regulator,
}

impl Channel {
    /// Every channel.
    pub const ALL: [Channel; 8] = [
        Channel::Hotline,
        Channel::Email,
        Channel::Web,
        Channel::App,
        Channel::SocialMedia,
        Channel::Letter,
        Channel::Branch,
        Channel::Regulator,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Hotline => "hotline",
            Channel::Email => "email",
            Channel::Web => "web",
            Channel::App => "app",
            Channel::SocialMedia => "social_media",
            Channel::Letter => "letter",
            Channel::Branch => "branch",
            Channel::Regulator => "regulator",
        }
    }

    /// Parses a wire name.
    pub fn parse(value: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == value)
    }
}

/// The kind of customer, which changes priority, routing and follow-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CustomerType {
    /// A private individual.
    #[default]
    Individual,
    /// A small business.
    SmallBusiness,
    /// An elderly customer.
    Elderly,
    /// Another vulnerable customer (illness, disability, hardship).
    Vulnerable,
    /// A VIP customer.
    Vip,
}

impl CustomerType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            CustomerType::Individual => "individual",
            CustomerType::SmallBusiness => "small_business",
            CustomerType::Elderly => "elderly",
            CustomerType::Vulnerable => "vulnerable",
            CustomerType::Vip => "vip",
        }
    }

    /// Whether extra care is owed (follow-up, priority).
    pub fn is_vulnerable(self) -> bool {
        matches!(self, CustomerType::Elderly | CustomerType::Vulnerable)
    }
}

/// The person complaining.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Complainant {
    /// Name.
    pub name: PersonName,
    /// Identity document number.
    pub id_number: Option<IdNumber>,
    /// Telephone.
    pub phone: Option<Phone>,
    /// E-mail.
    pub email: Option<Email>,
    /// Kind of customer.
    pub customer_type: CustomerType,
    /// Language for messages.
    pub language: Language,
}

impl Complainant {
    /// A key that identifies the same person across complaints (ID number first, else phone,
    /// else e-mail), used to find repeat complaints. `None` when nothing identifies them.
    pub fn identity_key(&self) -> Option<String> {
        if let Some(id) = &self.id_number {
            return Some(format!("id:{}", id.as_str()));
        }
        if let Some(p) = &self.phone {
            return Some(format!("phone:{}", p.as_str().trim_start_matches('+')));
        }
        self.email.as_ref().map(|e| format!("email:{}", e.as_str().to_lowercase()))
    }
}

/// Someone acting for the complainant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Agent {
    /// Name.
    pub name: PersonName,
    /// Relationship to the complainant (child, lawyer, …).
    pub relationship: Option<ShortText>,
    /// Telephone.
    pub phone: Option<Phone>,
    /// Whether a power of attorney was shown.
    pub power_of_attorney: bool,
}

/// Who the complaint is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Respondent {
    /// The organisation unit where it arose.
    pub unit: String,
    /// Staff involved, by name or staff number; at most [`Respondent::MAX_STAFF`].
    pub staff: Vec<ShortText>,
}

impl Respondent {
    /// The most staff one complaint may name. A complaint about a whole branch names the branch,
    /// not its payroll.
    pub const MAX_STAFF: usize = 50;
}

/// A regulator's work order for a forwarded complaint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegulatorOrder {
    /// The regulator (e.g. `12378`, `NFRA Shanghai`).
    pub regulator: ShortText,
    /// The regulator's work-order number.
    pub order_number: ShortText,
    /// The deadline the forwarding notice sets, if any; the earlier of this and the profile's
    /// deadline applies.
    pub deadline: Option<Timestamp>,
}

/// A file attached to the complaint, stored once by its content hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttachmentRef {
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// The name it was uploaded under.
    pub filename: String,
    /// Media type detected from the content.
    pub media_type: String,
    /// Size in bytes.
    pub size: u64,
}

/// A validated new complaint, as registered by intake (any channel).
#[derive(Debug, Clone, PartialEq)]
pub struct NewComplaint {
    /// Channel.
    pub channel: Channel,
    /// Regulator work order, required for the regulator channel.
    pub regulator_order: Option<RegulatorOrder>,
    /// When the institution received it (may be earlier than registration).
    pub received_at: Timestamp,
    /// The complainant.
    pub complainant: Complainant,
    /// The agent, if any.
    pub agent: Option<Agent>,
    /// Respondent unit and staff.
    pub respondent: Respondent,
    /// Product named by the complainant.
    pub product: Option<ShortText>,
    /// Business type code given at intake (overrides the rule classification).
    pub business_type: Option<String>,
    /// Amount in dispute.
    pub amount: Option<Money>,
    /// What the complainant asks for.
    pub request: Request,
    /// What happened.
    pub narrative: Narrative,
    /// A short title.
    pub title: Option<ShortText>,
    /// Reference in an external system (e.g. `cfpb:1234567`), unique.
    pub external_ref: Option<ExternalRef>,
}

/// The earliest receipt date accepted (1990-01-01T00:00:00Z): nothing older is a complaint the
/// institution still handles, and an earlier date is a typing or parsing mistake.
pub const EARLIEST_RECEIVED_AT: Timestamp = Timestamp::constant(631_152_000, 0);

/// How far in the future a receipt time may lie: a day covers clocks of intake systems set to
/// the wrong time zone, anything beyond is a mistake.
pub const MAX_RECEIVED_AHEAD: jiff::SignedDuration = jiff::SignedDuration::from_hours(24);

/// Checks the rules of a new complaint that single fields cannot: the regulator's work order
/// against the channel, the respondent unit against the organisation, the size of the staff
/// list, and the receipt time against `now`.
pub fn validate_new(new: &NewComplaint, org: &Organisation, now: Timestamp) -> Result<(), FieldError> {
    if new.channel == Channel::Regulator && new.regulator_order.is_none() {
        return Err(FieldError::new("regulator_order", "a regulator-forwarded complaint needs the work order"));
    }
    if new.channel != Channel::Regulator && new.regulator_order.is_some() {
        return Err(FieldError::new("regulator_order", "only the regulator channel carries a work order"));
    }
    if org.unit(&new.respondent.unit).is_none() {
        return Err(FieldError::new("respondent.unit", format!("unknown organisation unit '{}'", new.respondent.unit)));
    }
    if new.respondent.staff.len() > Respondent::MAX_STAFF {
        return Err(FieldError::new("respondent.staff", format!("names at most {} people", Respondent::MAX_STAFF)));
    }
    if new.received_at < EARLIEST_RECEIVED_AT {
        return Err(FieldError::new("received_at", "must not be before 1990-01-01"));
    }
    if new.received_at > now.checked_add(MAX_RECEIVED_AHEAD).unwrap_or(now) {
        return Err(FieldError::new("received_at", "must not be more than a day in the future"));
    }
    Ok(())
}

/// Who owns a complaint: always a department, and a handler once assigned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Owner {
    /// Department code.
    pub department: String,
    /// Handler, once assigned.
    pub handler: Option<UserRef>,
}

/// A reference to a user, with the name at the time for readable history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRef {
    /// User id.
    pub id: String,
    /// Display name.
    pub name: String,
}

/// The person (or the system) performing an action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// User id, or `system`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Department, for handlers and department heads.
    pub department: Option<String>,
}

impl Actor {
    /// The scheduler and other automatic work.
    pub fn system() -> Actor {
        Actor { id: "system".into(), name: "system".into(), role: Role::Admin, department: None }
    }

    /// This actor as a user reference.
    pub fn as_user_ref(&self) -> UserRef {
        UserRef { id: self.id.clone(), name: self.name.clone() }
    }
}

/// A closed or running pause of the legal clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pause {
    /// Profile pause-reason code.
    pub reason: String,
    /// Start.
    pub from: Timestamp,
    /// End; `None` while running.
    pub until: Option<Timestamp>,
}

/// The state of the legal clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClockState {
    /// When the clock (re)started: receipt, or new facts.
    pub started_at: Timestamp,
    /// Pauses since it started.
    pub pauses: Vec<Pause>,
    /// Extension steps granted.
    pub extensions_granted: u32,
    /// An extension waiting for approval.
    pub pending_extension: Option<ExtensionRequest>,
}

/// A request to extend the deadline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtensionRequest {
    /// Who asked.
    pub requested_by: UserRef,
    /// When.
    pub requested_at: Timestamp,
    /// Why.
    pub reason: LongText,
    /// Whether a superior level must approve.
    pub needs_superior: bool,
}

/// The deadlines shown with a complaint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Deadlines {
    /// Acknowledge by.
    pub acknowledge_by: Option<Timestamp>,
    /// Decide and inform by; `None` while the clock is paused.
    pub decide_by: Option<Timestamp>,
    /// The latest reachable with every extension.
    pub max_decide_by: Option<Timestamp>,
    /// Customer may apply for review until.
    pub review_apply_by: Option<Timestamp>,
    /// Review to be decided by.
    pub review_decide_by: Option<Timestamp>,
    /// Follow-up call due by.
    pub follow_up_by: Option<Timestamp>,
}

/// Priority, raised by escalation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Normal.
    Normal,
    /// High.
    High,
    /// Urgent.
    Urgent,
}

impl Priority {
    fn raised(self) -> Priority {
        match self {
            Priority::Normal => Priority::High,
            _ => Priority::Urgent,
        }
    }
}

/// Kinds of resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResolutionKind {
    /// Explanation only.
    Explanation,
    /// Refund.
    Refund,
    /// Compensation.
    Compensation,
    /// Fee or interest waiver.
    FeeWaiver,
    /// Service remediation.
    Remediation,
    /// Apology.
    Apology,
    /// Rejected, with reasons.
    Rejection,
}

/// A proposed resolution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resolution {
    /// Kind.
    pub kind: ResolutionKind,
    /// Money paid, refunded or waived.
    pub amount: Option<Money>,
    /// What is done and why.
    pub summary: LongText,
    /// Who proposed it (the maker).
    pub proposed_by: UserRef,
    /// When.
    pub proposed_at: Timestamp,
    /// The second person's approval, where needed.
    pub approved_by: Option<UserRef>,
    /// Whether approval is needed.
    pub needs_approval: bool,
}

/// The decision notice sent to the customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionNotice {
    /// How the facts were verified.
    pub verification: LongText,
    /// The basis (rules, contract terms).
    pub basis: LongText,
    /// The reasons.
    pub reasons: LongText,
    /// Remedies open.
    pub remedies: Vec<Remedy>,
    /// When decided.
    pub decided_at: Timestamp,
    /// By whom.
    pub decided_by: UserRef,
}

/// Follow-up satisfaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Satisfaction {
    /// Satisfied.
    Satisfied,
    /// Basically satisfied.
    BasicallySatisfied,
    /// Dissatisfied: reopens and escalates.
    Dissatisfied,
}

/// A recorded follow-up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FollowUp {
    /// Outcome.
    pub satisfaction: Satisfaction,
    /// The customer's comments.
    pub comments: Option<LongText>,
    /// Who called.
    pub by: UserRef,
    /// When.
    pub at: Timestamp,
}

/// A review (核查).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Review {
    /// Why the customer asked.
    pub reason: LongText,
    /// When.
    pub requested_at: Timestamp,
    /// The department that was handling it before the review went up.
    pub previous_department: String,
}

/// A note in the case file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    /// Text.
    pub text: LongText,
    /// Author.
    pub by: UserRef,
    /// When.
    pub at: Timestamp,
    /// Whether it records a contact with the customer (communication log).
    pub customer_contact: bool,
}

/// How a complaint's handling ended once: decided, declined, withdrawn or merged. Kept in the
/// record (a reopening clears the decision but not this), so a report of a past period counts
/// what stood at the period's end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Closing {
    /// When.
    pub at: Timestamp,
    /// The status it ended in.
    pub status: Status,
    /// The owner department then.
    pub department: String,
    /// The handler then.
    pub handler: Option<UserRef>,
    /// The business type then (code).
    pub business_type: Option<String>,
    /// The cause then (code).
    pub cause: Option<String>,
    /// The resolution, when decided.
    pub resolution: Option<ResolutionKind>,
    /// Money refunded, paid or waived.
    pub redress: Option<Money>,
    /// Whether it ended within the deadline that applied (review or decision).
    pub on_time: bool,
    /// Calendar days from receipt to the end, in the profile's time zone.
    pub calendar_days: u32,
    /// Working days of the profile's calendar from receipt to the end.
    pub working_days: u32,
    /// The days the profile counts its deadlines in (calendar or working).
    pub handling_days: u32,
    /// The customer's answer at the follow-up after this decision, once recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub satisfaction: Option<Satisfaction>,
    /// When the follow-up was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub followed_up_at: Option<Timestamp>,
}

impl Closing {
    /// Whether the complainant got something: any resolution other than an explanation or a
    /// rejection (the FCA's "upheld").
    pub fn upheld(&self) -> bool {
        matches!(
            self.resolution,
            Some(ResolutionKind::Refund | ResolutionKind::Compensation | ResolutionKind::FeeWaiver | ResolutionKind::Remediation | ResolutionKind::Apology)
        )
    }
}

/// The complainant's emotion as read from the text at intake.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmotionMark {
    /// The emotion's name (e.g. `anger`, `anxiety`, `neutral`).
    pub kind: String,
    /// Intensity from 0 to 1.
    pub intensity: f32,
}

/// The complainant's earlier complaint, ended within the repeat window before this one
/// arrived (a repeat complaint counts against whoever closed the earlier one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepeatOf {
    /// The earlier complaint.
    pub complaint: ComplaintRef,
    /// The department that closed it.
    pub department: String,
    /// The handler who closed it.
    pub handler: Option<UserRef>,
    /// When it was closed.
    pub closed_at: Timestamp,
}

/// The complete complaint record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Complaint {
    /// Id.
    pub id: ComplaintId,
    /// Human-readable number.
    pub number: String,
    /// Status.
    pub status: Status,
    /// Channel.
    pub channel: Channel,
    /// Regulator work order.
    pub regulator_order: Option<RegulatorOrder>,
    /// When received.
    pub received_at: Timestamp,
    /// Who registered it (首问负责: owner until handed over).
    pub registered_by: UserRef,
    /// When registered.
    pub registered_at: Timestamp,
    /// Complainant.
    pub complainant: Complainant,
    /// Agent.
    pub agent: Option<Agent>,
    /// Respondent.
    pub respondent: Respondent,
    /// Product.
    pub product: Option<ShortText>,
    /// Amount in dispute.
    pub amount: Option<Money>,
    /// Request (诉求).
    pub request: Request,
    /// Narrative.
    pub narrative: Narrative,
    /// Title.
    pub title: Option<ShortText>,
    /// Attachments.
    pub attachments: Vec<AttachmentRef>,
    /// Classification.
    pub classification: Classification,
    /// Owner.
    pub owner: Owner,
    /// Rule profile id.
    pub profile: String,
    /// Legal clock.
    pub clock: ClockState,
    /// Deadlines, recomputed after every action.
    pub deadlines: Deadlines,
    /// Due state, set by the scheduler.
    pub due_state: DueState,
    /// Priority.
    pub priority: Priority,
    /// Resolution.
    pub resolution: Option<Resolution>,
    /// Decision notice.
    pub decision: Option<DecisionNotice>,
    /// Follow-up.
    pub follow_up: Option<FollowUp>,
    /// Review.
    pub review: Option<Review>,
    /// Notes and communication log.
    pub notes: Vec<Note>,
    /// An earlier open complaint about the same matter.
    pub duplicate_of: Option<ComplaintRef>,
    /// The complaint this one was merged into.
    pub merged_into: Option<ComplaintRef>,
    /// External reference (unique).
    pub external_ref: Option<String>,
    /// Times reopened.
    pub reopen_count: u32,
    /// Decline or withdrawal reason.
    pub end_reason: Option<String>,
    /// Every time its handling ended, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub closings: Vec<Closing>,
    /// The emotion read from the text at intake.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emotion: Option<EmotionMark>,
    /// The most telling words of the text at intake (at most [`Complaint::MAX_KEYWORDS`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// The complainant's earlier complaint ended shortly before this one arrived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat_of: Option<RepeatOf>,
    /// Optimistic-concurrency version, bumped by every action.
    pub version: u32,
    /// Last change.
    pub updated_at: Timestamp,
}

/// A reference to another complaint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplaintRef {
    /// Id.
    pub id: ComplaintId,
    /// Number.
    pub number: String,
}

/// One entry of a complaint's append-only history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "StoredEvent")]
pub struct Event {
    /// Complaint.
    pub complaint_id: ComplaintId,
    /// What happened.
    pub action: ActionKind,
    /// Who.
    pub actor: UserRef,
    /// When.
    pub at: Timestamp,
    /// Status before.
    pub from_status: Option<Status>,
    /// Status after.
    pub to_status: Status,
    /// Why, in the actor's words or the profile's reason.
    pub reason: Option<String>,
    /// What changed, as a JSON object.
    pub changes: serde_json::Value,
}

/// An event as stored, before its action name is read. The history is append-only (the
/// database refuses to rewrite it), so events written under the names of earlier versions must
/// still be read.
#[derive(Deserialize)]
struct StoredEvent {
    complaint_id: ComplaintId,
    action: String,
    actor: UserRef,
    at: Timestamp,
    from_status: Option<Status>,
    to_status: Status,
    reason: Option<String>,
    changes: serde_json::Value,
}

impl TryFrom<StoredEvent> for Event {
    type Error = String;

    fn try_from(e: StoredEvent) -> Result<Event, String> {
        let action = stored_action_kind(&e.action, e.to_status, &e.changes).ok_or_else(|| format!("unknown action '{}' in the history", e.action))?;
        Ok(Event {
            complaint_id: e.complaint_id,
            action,
            actor: e.actor,
            at: e.at,
            from_status: e.from_status,
            to_status: e.to_status,
            reason: e.reason,
            changes: e.changes,
        })
    }
}

/// Reads an action name from the history. Earlier versions wrote one name for actions whose
/// outcomes are now kinds of their own; the event itself tells which outcome it had: `transfer`
/// by whether the new owner had a handler, `record_follow_up` by the status it led to, and
/// `propose_resolution` by whether it led to awaiting approval.
fn stored_action_kind(name: &str, to: Status, changes: &serde_json::Value) -> Option<ActionKind> {
    match name {
        "transfer" if changes["to"]["handler"].is_null() => Some(ActionKind::TransferToDepartment),
        "transfer" => Some(ActionKind::TransferToHandler),
        "record_follow_up" if to == Status::Investigating => Some(ActionKind::FollowUpDissatisfied),
        "record_follow_up" => Some(ActionKind::FollowUpSatisfied),
        "propose_resolution" if to == Status::AwaitingApproval => Some(ActionKind::ProposeResolutionForApproval),
        _ => ActionKind::parse(name),
    }
}

/// The rules an action is judged by.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    /// Rule profile.
    pub profile: &'a RuleProfile,
    /// Its calendar.
    pub calendar: &'a Calendar,
    /// Organisation.
    pub org: &'a Organisation,
    /// Message templates.
    pub templates: &'a Templates,
    /// Taxonomy, for validating label corrections.
    pub taxonomy: &'a Taxonomy,
}

/// The deadline calculator of a profile. Profiles are validated when the rules are loaded (time
/// zone and calendar resolve), so failing here is a broken invariant, not bad input.
impl Complaint {
    /// The most intake keywords a record keeps (they key the hotspots by term).
    pub const MAX_KEYWORDS: usize = 3;

    /// The closing `next` (this complaint after the action) records when it ends in `to` now.
    fn closing(&self, next: &Complaint, to: Status, now: Timestamp, rules: Rules<'_>) -> Closing {
        let calc = calculator(rules);
        let deadline = if self.status == Status::UnderReview { self.deadlines.review_decide_by } else { self.deadlines.decide_by };
        let (start, end) = (calc.local_date(self.received_at), calc.local_date(now));
        let calendar_days = u32::try_from((end - start).get_days().max(0)).unwrap_or(0);
        let working_days = calc.calendar().working_days_between(start, end);
        let resolution = if to == Status::Decided { next.resolution.as_ref() } else { None };
        let redress = resolution.filter(|r| matches!(r.kind, ResolutionKind::Refund | ResolutionKind::Compensation | ResolutionKind::FeeWaiver)).and_then(|r| r.amount);
        Closing {
            at: now,
            status: to,
            department: next.owner.department.clone(),
            handler: next.owner.handler.clone(),
            business_type: next.classification.business_type.as_ref().map(|l| l.code.clone()),
            cause: next.classification.cause.as_ref().map(|l| l.code.clone()),
            resolution: resolution.map(|r| r.kind),
            redress,
            // A paused clock has no deadline running; ending then is within it.
            on_time: deadline.is_none_or(|d| now <= d),
            calendar_days,
            working_days,
            handling_days: match rules.profile.decision.basis {
                crate::profile::DayBasis::Calendar => calendar_days,
                crate::profile::DayBasis::Working => working_days,
            },
            satisfaction: None,
            followed_up_at: None,
        }
    }
}

fn calculator(rules: Rules<'_>) -> DeadlineCalculator<'_> {
    DeadlineCalculator::with_calendar(rules.profile, rules.calendar).expect("rule profiles are validated at load")
}

/// The profile's time zone.
pub fn time_zone(rules: Rules<'_>) -> jiff::tz::TimeZone {
    calculator(rules).time_zone().clone()
}

/// The latest instant a deadline can have for a complaint to count as due soon now; the
/// scheduler asks the store for complaints watched before it.
pub fn due_soon_horizon(rules: Rules<'_>, now: Timestamp) -> Timestamp {
    let calc = calculator(rules);
    match rules.profile.due_soon {
        DueSoon::Hours(h) => now.checked_add(jiff::SignedDuration::from_hours(i64::from(h))).unwrap_or(now),
        DueSoon::WorkingDays(n) => {
            let day = rules.calendar.add_working_days(calc.local_date(now), n + 1);
            day.to_zoned(calc.time_zone().clone()).map(|z| z.timestamp()).unwrap_or(now)
        }
    }
}

/// What registering or an action produced, to be stored atomically with the record.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// History entries, in order.
    pub events: Vec<Event>,
    /// Customer messages for the outbox.
    pub messages: Vec<OutgoingMessage>,
    /// Internal notifications.
    pub notifications: Vec<Notification>,
    /// A correction of a label, kept as training data.
    pub label_correction: Option<LabelCorrection>,
}

/// An internal notification to a role in a department.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// Who should see it: a role…
    pub role: Role,
    /// …in this department (`None`: everyone with the role).
    pub department: Option<String>,
    /// The complaint.
    pub complaint_id: ComplaintId,
    /// Text.
    pub message: String,
}

/// A person's correction of a classification label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelCorrection {
    /// Dimension corrected (`business_type`, `cause`, …).
    pub dimension: String,
    /// The label before.
    pub previous: Option<String>,
    /// The label now.
    pub code: String,
    /// Who.
    pub by: UserRef,
}

/// An action a person or the system takes on a complaint.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Accept (受理).
    Accept,
    /// Decline with a profile reason code.
    Decline {
        /// Reason code from the profile.
        reason: String,
        /// Explanation.
        note: Option<LongText>,
    },
    /// Give to a handler of the owning department.
    Assign {
        /// The handler.
        handler: UserRef,
    },
    /// Move to another department, and to a handler there when one is named.
    Transfer {
        /// Target department.
        department: String,
        /// Target handler, if known.
        handler: Option<UserRef>,
        /// Why.
        reason: ShortText,
    },
    /// Start investigating.
    StartInvestigation,
    /// Pause the clock.
    Pause {
        /// Profile pause-reason code.
        reason: String,
        /// Detail.
        note: Option<LongText>,
    },
    /// Resume the clock.
    Resume,
    /// Propose a resolution.
    ProposeResolution {
        /// Kind.
        kind: ResolutionKind,
        /// Amount.
        amount: Option<Money>,
        /// Summary.
        summary: LongText,
    },
    /// Approve the proposed resolution (a second person).
    ApproveResolution,
    /// Send the proposal back.
    RejectResolution {
        /// Why.
        reason: LongText,
    },
    /// Decide and notify the customer.
    Decide {
        /// How verified.
        verification: LongText,
        /// Basis.
        basis: LongText,
        /// Reasons.
        reasons: LongText,
        /// Remedies open.
        remedies: Vec<Remedy>,
    },
    /// Record the follow-up call; satisfaction closes the case, dissatisfaction reopens it.
    RecordFollowUp {
        /// Outcome.
        satisfaction: Satisfaction,
        /// Comments.
        comments: Option<LongText>,
    },
    /// Close.
    Close,
    /// Reopen.
    Reopen {
        /// Why.
        reason: LongText,
    },
    /// Customer asks for review.
    RequestReview {
        /// Why.
        reason: LongText,
    },
    /// Archive.
    Archive,
    /// Merge into another open complaint.
    MergeInto {
        /// Target.
        target: ComplaintRef,
    },
    /// Withdrawn by the complainant.
    Withdraw {
        /// Why.
        reason: Option<LongText>,
    },
    /// Ask for the next extension step.
    RequestExtension {
        /// Why.
        reason: LongText,
    },
    /// Approve or refuse the pending extension.
    DecideExtension {
        /// Approve?
        approve: bool,
        /// Comment.
        note: Option<LongText>,
    },
    /// New facts: restart the clock where the profile says so.
    NewFacts {
        /// What is new.
        description: LongText,
    },
    /// Add a note.
    AddNote {
        /// Text.
        text: LongText,
        /// Whether it records a customer contact.
        customer_contact: bool,
    },
    /// Attach a stored file.
    Attach {
        /// The file.
        attachment: AttachmentRef,
    },
    /// Correct a classification label.
    CorrectClassification {
        /// Dimension.
        dimension: String,
        /// New code.
        code: String,
    },
    /// Escalate.
    Escalate {
        /// Why; copied into the notifications.
        reason: EscalationReason,
    },
    /// Scheduler: mark due state.
    MarkDue {
        /// New state.
        state: DueState,
    },
    /// Reveal the complainant's full phone and ID number to the actor; only the history changes.
    RevealContact,
}

/// An action that is not allowed, with a stable code for the API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ActionError {
    /// Stable machine-readable code (`invalid_transition`, `maker_checker`, `invalid_field`, …).
    pub code: &'static str,
    /// Human explanation.
    pub message: String,
    /// Field at fault, if any.
    pub field: Option<String>,
}

impl ActionError {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), field: None }
    }
    fn field(code: &'static str, field: &str, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), field: Some(field.into()) }
    }
}

/// Facts the store supplies while registering (from inside its transaction).
#[derive(Debug, Clone)]
pub struct RegistrationContext {
    /// The new complaint's id.
    pub id: ComplaintId,
    /// Serial for the number.
    pub serial: u64,
    /// The least-loaded active handler of the routed department, if any.
    pub handler: Option<UserRef>,
    /// An open complaint by the same complainant about the same matter.
    pub duplicate_of: Option<ComplaintRef>,
}

/// A complaint ready to register: validated, classified and routed, waiting only for the
/// store's facts.
#[derive(Debug, Clone)]
pub struct Draft {
    /// The validated input.
    pub new: NewComplaint,
    /// Classification.
    pub classification: Classification,
    /// Routed department.
    pub department: String,
    /// Registering user.
    pub registered_by: Actor,
    /// Registration time.
    pub now: Timestamp,
}

impl Draft {
    /// Classifies and routes a validated new complaint.
    pub fn prepare(
        new: NewComplaint,
        mut classification: Classification,
        rules: Rules<'_>,
        actor: &Actor,
        now: Timestamp,
    ) -> Draft {
        if new.complainant.customer_type.is_vulnerable() && classification.severity < Severity::Medium {
            classification.severity = Severity::Medium;
        }
        let department = rules
            .org
            .route(&crate::org::RoutingFacts {
                business_type: classification.business_type.as_ref().map(|l| l.code.as_str()),
                cause: classification.cause.as_ref().map(|l| l.code.as_str()),
                channel: new.channel.as_str(),
                unit: &new.respondent.unit,
                severity: classification.severity,
                customer_type: new.complainant.customer_type.as_str(),
            })
            .code
            .clone();
        Draft { new, classification, department, registered_by: actor.clone(), now }
    }

    /// The duplicate-detection key: same complainant, same business type and cause.
    pub fn duplicate_key(&self) -> Option<String> {
        let who = self.new.complainant.identity_key()?;
        let bt = self.classification.business_type.as_ref().map_or("-", |l| l.code.as_str());
        let cause = self.classification.cause.as_ref().map_or("-", |l| l.code.as_str());
        Some(format!("{who}|{bt}|{cause}"))
    }

    /// Builds the record and its first events.
    pub fn register(self, ctx: RegistrationContext, rules: Rules<'_>) -> (Complaint, Outcome) {
        let Draft { new, classification, department, registered_by, now } = self;
        let local_date = new.received_at.to_zoned(time_zone(rules)).date();
        let number = complaint_number(local_date, ctx.serial);
        let actor = registered_by.as_user_ref();
        let mut c = Complaint {
            id: ctx.id,
            number,
            status: Status::INITIAL,
            channel: new.channel,
            regulator_order: new.regulator_order,
            received_at: new.received_at,
            registered_by: actor.clone(),
            registered_at: now,
            complainant: new.complainant,
            agent: new.agent,
            respondent: new.respondent,
            product: new.product,
            amount: new.amount,
            request: new.request,
            narrative: new.narrative,
            title: new.title,
            attachments: Vec::new(),
            priority: if classification.severity >= Severity::High { Priority::High } else { Priority::Normal },
            classification,
            owner: Owner { department: department.clone(), handler: None },
            profile: rules.profile.id.clone(),
            clock: ClockState { started_at: new.received_at, pauses: Vec::new(), extensions_granted: 0, pending_extension: None },
            deadlines: Deadlines::default(),
            due_state: DueState::OnTime,
            resolution: None,
            decision: None,
            follow_up: None,
            review: None,
            notes: Vec::new(),
            duplicate_of: None,
            merged_into: None,
            external_ref: new.external_ref.map(|r| r.as_str().to_string()),
            reopen_count: 0,
            end_reason: None,
            closings: Vec::new(),
            emotion: None,
            keywords: Vec::new(),
            repeat_of: None,
            version: 0,
            updated_at: now,
        };
        c.recompute_deadlines(rules);
        let mut out = Outcome::default();
        out.events.push(c.event(ActionKind::Register, &actor, now, None, None, serde_json::json!({
            "number": c.number,
            "channel": c.channel,
            // The first labels, so later corrections can be read against them; the full
            // classification and deadlines are in the record itself.
            "classification": {
                "business_type": c.classification.business_type.as_ref().map(|l| &l.code),
                "cause": c.classification.cause.as_ref().map(|l| &l.code),
                "severity": c.classification.severity,
                "risk_flags": c.classification.risk_flags.iter().map(|f| f.kind).collect::<Vec<_>>(),
            },
            "decide_by": c.deadlines.decide_by,
        })));
        out.messages.push(c.render(MessageKind::Acknowledgement, now, rules));
        // Intake accepts at once and hands over to the routed department (首问负责 ends here).
        let from = c.advance(ActionKind::Accept);
        out.events.push(c.event(ActionKind::Accept, &actor, now, Some(from), None, serde_json::json!({
            "owner": { "department": department },
        })));
        if let Some(handler) = ctx.handler {
            c.owner.handler = Some(handler.clone());
            let from = c.advance(ActionKind::Assign);
            out.events.push(c.event(ActionKind::Assign, &actor, now, Some(from), Some("least-loaded handler of the routed department".into()), serde_json::json!({
                "handler": handler,
            })));
        }
        if let Some(dup) = ctx.duplicate_of {
            let reason = Some("same complainant and matter within the handling period".to_string());
            c.duplicate_of = Some(dup.clone());
            if rules.profile.duplicates.policy == DuplicateAction::Merge {
                c.merged_into = Some(dup.clone());
                let from = c.advance(ActionKind::MergeInto);
                out.events.push(c.event(ActionKind::MergeInto, &actor, now, Some(from), reason, serde_json::json!({ "target": dup })));
            } else {
                let from = c.advance(ActionKind::LinkDuplicate);
                out.events.push(c.event(ActionKind::LinkDuplicate, &actor, now, Some(from), reason, serde_json::json!({ "duplicate_of": dup })));
            }
        }
        c.version = 1;
        (c, out)
    }
}

impl Complaint {
    /// Moves a complaint being registered one step along the lifecycle table and returns the
    /// status it left. Registration's steps (accept, assign, merge or link) are rows of the
    /// table from the statuses registration passes through, so a miss is a defect in the table,
    /// which the tests cover.
    fn advance(&mut self, kind: ActionKind) -> Status {
        let from = self.status;
        self.status = from
            .allows(kind)
            .unwrap_or_else(|| panic!("the lifecycle table has no row for registration's step {kind} from {from}"));
        from
    }

    /// The facts customer messages tell about this complaint.
    pub fn message_facts(&self) -> MessageFacts<'_> {
        MessageFacts {
            complainant_name: self.complainant.name.as_str(),
            language: self.complainant.language,
            recipient: self
                .complainant
                .email
                .as_ref()
                .map(Email::as_str)
                .or_else(|| self.complainant.phone.as_ref().map(Phone::as_str)),
            number: &self.number,
            received_at: self.received_at,
            deadline: self.deadlines.decide_by.or(self.deadlines.max_decide_by),
            resolution: self.resolution.as_ref().map(|r| ResolutionFacts { summary: r.summary.as_str(), amount: r.amount.as_ref() }),
            decision: self.decision.as_ref().map(|d| DecisionFacts {
                verification: d.verification.as_str(),
                basis: d.basis.as_str(),
                reasons: d.reasons.as_str(),
                remedies: &d.remedies,
            }),
        }
    }

    /// Renders a customer message about this complaint with the rules' templates and time zone.
    /// The message of a kind this complaint would send now: what a person says on a call (the
    /// follow-up script) is the same text the customer would receive.
    pub fn message_now(&self, kind: MessageKind, now: Timestamp, rules: Rules<'_>) -> OutgoingMessage {
        self.render(kind, now, rules)
    }

    fn render(&self, kind: MessageKind, now: Timestamp, rules: Rules<'_>) -> OutgoingMessage {
        rules.templates.render(kind, &self.message_facts(), now, &time_zone(rules))
    }

    fn event(
        &self,
        action: ActionKind,
        actor: &UserRef,
        at: Timestamp,
        from: Option<Status>,
        reason: Option<String>,
        changes: serde_json::Value,
    ) -> Event {
        Event {
            complaint_id: self.id,
            action,
            actor: actor.clone(),
            at,
            from_status: from,
            to_status: self.status,
            reason,
            changes,
        }
    }

    /// Recomputes every deadline from the clock state and the rules.
    pub fn recompute_deadlines(&mut self, rules: Rules<'_>) {
        let calc = calculator(rules);
        let input = ClockInput {
            business_type: self.classification.business_type.as_ref().map(|l| l.code.as_str()),
            started_at: self.clock.started_at,
            extensions_granted: self.clock.extensions_granted,
            pauses: self.clock.pauses.iter().map(|p| PauseInterval { start: p.from, end: p.until }).collect(),
        };
        let paused = self.clock.pauses.last().is_some_and(|p| p.until.is_none());
        match calc.compute(&input) {
            Ok(d) => {
                self.deadlines.acknowledge_by = d.acknowledgement.map(|a| a.ends_at);
                self.deadlines.max_decide_by = Some(d.maximum.ends_at);
                let mut decide_by = d.decision.ends_at;
                if let Some(order) = self.regulator_order.as_ref().and_then(|o| o.deadline) {
                    decide_by = decide_by.min(order);
                }
                self.deadlines.decide_by = (self.status.is_being_handled() && !paused).then_some(decide_by);
            }
            Err(e) => {
                // Only a date beyond year 9999 gets here; keep the last deadlines rather than none.
                let _ = e;
            }
        }
        if let Some(decision) = &self.decision
            && let Ok(Some(r)) = calc.review(decision.decided_at, self.review.as_ref().map(|r| r.requested_at))
        {
            self.deadlines.review_apply_by = Some(r.apply_by.ends_at);
            self.deadlines.review_decide_by = r.decide_by.map(|d| d.ends_at);
        }
        if self.status == Status::UnderReview {
            self.deadlines.decide_by = if paused { None } else { self.deadlines.review_decide_by };
        }
    }

    /// How the complaint stands against its watched deadline at `now`.
    pub fn due_state_at(&self, now: Timestamp, rules: Rules<'_>) -> DueState {
        if self.clock.pauses.last().is_some_and(|p| p.until.is_none()) && self.status.is_being_handled() {
            return DueState::Paused;
        }
        let Some(ends_at) = self.watched_deadline() else { return DueState::OnTime };
        let calc = calculator(rules);
        let last_day = calc.local_date(ends_at.checked_sub(jiff::SignedDuration::from_nanos(1)).unwrap_or(ends_at));
        calc.deadline_state(&Deadline { last_day, ends_at }, now)
    }

    /// The deadline the scheduler watches: the decision (or review) deadline while the clock
    /// runs, the follow-up deadline after a decision.
    pub fn watched_deadline(&self) -> Option<Timestamp> {
        match self.status {
            Status::Decided => self.deadlines.follow_up_by,
            s if s.is_being_handled() => self.deadlines.decide_by,
            _ => None,
        }
    }

    /// Performs one action. On success the record is updated (version bumped) and the outcome
    /// lists what to store with it; on error nothing changed.
    ///
    /// The action's kind ([`action_kind`]) is looked up in the lifecycle table
    /// ([`Status::allows`]), whose answer is the resulting status; an action the table does not
    /// list from the current status is refused with `invalid_transition`. Who may perform an
    /// action is not decided here but by the caller's permission table; the rules of the record
    /// itself are (the maker of a resolution or an extension request cannot also approve it,
    /// amounts, the profile's reasons).
    pub fn apply(&mut self, action: Action, actor: &Actor, now: Timestamp, rules: Rules<'_>) -> Result<Outcome, ActionError> {
        let kind = action_kind(&action, rules.profile);
        let Some(to) = self.status.allows(kind) else {
            return Err(ActionError::new(
                "invalid_transition",
                format!("cannot {} a complaint that is {}", kind.describe(), self.status),
            ));
        };
        let mut next = self.clone();
        let from = self.status;
        let who = actor.as_user_ref();
        let mut out = Outcome::default();
        let mut reason: Option<String> = None;
        let changes: serde_json::Value;
        match action {
            Action::Accept => {
                changes = serde_json::json!({});
            }
            Action::Decline { reason: code, note } => {
                if rules.profile.decline_reason(&code).is_none() {
                    return Err(ActionError::field("invalid_reason", "reason", format!("the profile '{}' does not allow the decline reason '{code}'", rules.profile.id)));
                }
                next.end_reason = Some(code.clone());
                reason = Some(code);
                changes = serde_json::json!({ "note": note });
            }
            Action::Assign { handler } => {
                next.owner.handler = Some(handler.clone());
                changes = serde_json::json!({ "handler": handler });
            }
            Action::Transfer { department, handler, reason: why } => {
                if rules.org.department(&department).is_none() {
                    return Err(ActionError::field("unknown_department", "department", format!("unknown department '{department}'")));
                }
                let previous = next.owner.clone();
                next.owner = Owner { department, handler };
                reason = Some(why.to_string());
                changes = serde_json::json!({ "from": previous, "to": next.owner });
            }
            Action::StartInvestigation => {
                changes = serde_json::json!({});
            }
            Action::Pause { reason: code, note } => {
                if rules.profile.pause_reason(&code).is_none() {
                    return Err(ActionError::field("invalid_reason", "reason", format!("the profile '{}' does not allow pausing for '{code}'", rules.profile.id)));
                }
                next.clock.pauses.push(Pause { reason: code.clone(), from: now, until: None });
                reason = Some(code);
                changes = serde_json::json!({ "note": note });
            }
            Action::Resume => {
                if let Some(p) = next.clock.pauses.last_mut() {
                    p.until = Some(now);
                }
                changes = serde_json::json!({});
            }
            Action::ProposeResolution { kind: rkind, amount, summary } => {
                if matches!(rkind, ResolutionKind::Refund | ResolutionKind::Compensation | ResolutionKind::FeeWaiver) && amount.is_none() {
                    return Err(ActionError::field("missing_field", "amount", "a refund, compensation or waiver needs an amount"));
                }
                // The kind already says whether the amount needs a second person (see `action_kind`).
                let needs_approval = kind == ActionKind::ProposeResolutionForApproval;
                next.resolution = Some(Resolution { kind: rkind, amount, summary, proposed_by: who.clone(), proposed_at: now, approved_by: None, needs_approval });
                if needs_approval {
                    out.notifications.push(Notification { role: Role::Supervisor, department: None, complaint_id: self.id, message: format!("{}: a resolution above the approval threshold waits for a second person", self.number) });
                }
                changes = serde_json::json!({ "resolution": next.resolution });
            }
            Action::ApproveResolution => {
                let res = next.resolution.as_mut().ok_or_else(|| ActionError::new("invalid_transition", "there is no resolution to approve"))?;
                if res.proposed_by.id == actor.id {
                    return Err(ActionError::new("maker_checker", "the person who proposed a resolution cannot approve it"));
                }
                res.approved_by = Some(who.clone());
                changes = serde_json::json!({ "approved_by": who });
            }
            Action::RejectResolution { reason: why } => {
                reason = Some(why.to_string());
                changes = serde_json::json!({ "resolution": next.resolution.take() });
            }
            Action::Decide { verification, basis, reasons, remedies } => {
                let res = next.resolution.as_ref().ok_or_else(|| ActionError::new("invalid_transition", "propose a resolution before deciding"))?;
                if res.needs_approval && res.approved_by.is_none() {
                    return Err(ActionError::new("approval_required", "the resolution needs a second person's approval first"));
                }
                // Each remedy is named once: the list is copied into the customer's notice.
                if remedies.iter().enumerate().any(|(i, r)| remedies[..i].contains(r)) {
                    return Err(ActionError::field("invalid_field", "remedies", "names a remedy more than once"));
                }
                next.decision = Some(DecisionNotice { verification, basis, reasons, remedies, decided_at: now, decided_by: who.clone() });
                next.deadlines.follow_up_by = calculator(rules).follow_up(now).ok().flatten().map(|d| d.ends_at);
                changes = serde_json::json!({ "decision": next.decision });
            }
            Action::RecordFollowUp { satisfaction, comments } => {
                next.follow_up = Some(FollowUp { satisfaction, comments, by: who.clone(), at: now });
                if let Some(last) = next.closings.last_mut() {
                    last.satisfaction = Some(satisfaction);
                    last.followed_up_at = Some(now);
                }
                // Dissatisfaction reopens and escalates (the table sends it back to
                // investigation); the rest closes the case.
                if kind == ActionKind::FollowUpDissatisfied {
                    next.reopen_count += 1;
                    next.priority = next.priority.raised();
                    next.decision = None;
                    next.resolution = None;
                    next.clock = ClockState { started_at: now, pauses: Vec::new(), extensions_granted: 0, pending_extension: None };
                    out.notifications.push(Notification { role: Role::DepartmentHead, department: Some(next.owner.department.clone()), complaint_id: self.id, message: format!("{}: the customer is dissatisfied after the decision; reopened", self.number) });
                    out.notifications.push(Notification { role: Role::Supervisor, department: None, complaint_id: self.id, message: format!("{}: dissatisfied follow-up, reopened and escalated", self.number) });
                }
                changes = serde_json::json!({ "follow_up": next.follow_up });
            }
            Action::Close => {
                changes = serde_json::json!({});
            }
            Action::Reopen { reason: why } => {
                next.reopen_count += 1;
                next.decision = None;
                next.resolution = None;
                next.clock = ClockState { started_at: now, pauses: Vec::new(), extensions_granted: 0, pending_extension: None };
                reason = Some(why.to_string());
                changes = serde_json::json!({ "reopen_count": next.reopen_count });
            }
            Action::RequestReview { reason: why } => {
                let decided_at = self.decision.as_ref().map(|d| d.decided_at).ok_or_else(|| ActionError::new("invalid_transition", "there is no decision to review"))?;
                let window = calculator(rules).review(decided_at, Some(now)).ok().flatten().ok_or_else(|| {
                    ActionError::new("no_review", format!("the profile '{}' has no review stage", rules.profile.id))
                })?;
                if window.applied_in_time == Some(false) {
                    return Err(ActionError::new("review_window_closed", format!("the review window closed on {}", window.apply_by.last_day)));
                }
                let previous_department = next.owner.department.clone();
                // Review goes up the hierarchy: a superior level re-examines the decision.
                next.owner = Owner { department: rules.org.superior_department(&previous_department).code.clone(), handler: None };
                next.review = Some(Review { reason: why.clone(), requested_at: now, previous_department });
                reason = Some(why.to_string());
                changes = serde_json::json!({ "owner": next.owner });
            }
            Action::Archive => {
                changes = serde_json::json!({});
            }
            Action::MergeInto { target } => {
                if target.id == self.id {
                    return Err(ActionError::field("invalid_target", "target", "a complaint cannot be merged into itself"));
                }
                next.merged_into = Some(target.clone());
                changes = serde_json::json!({ "target": target });
            }
            Action::Withdraw { reason: why } => {
                next.end_reason = Some("withdrawn".into());
                reason = why.map(|w| w.to_string());
                changes = serde_json::json!({});
            }
            Action::RequestExtension { reason: why } => {
                if next.clock.pending_extension.is_some() {
                    return Err(ActionError::new("extension_pending", "an extension request already waits for approval"));
                }
                let step = extension_step(rules, &next).ok_or_else(|| {
                    ActionError::new("no_extension_left", "the profile allows no further extension")
                })?;
                let needs_superior = step.approval_level == Some(crate::profile::ApprovalLevel::Superior);
                reason = Some(why.to_string());
                if step.needs_approval {
                    next.clock.pending_extension = Some(ExtensionRequest { requested_by: who.clone(), requested_at: now, reason: why, needs_superior });
                    let department = if needs_superior { rules.org.superior_department(&next.owner.department).code.clone() } else { next.owner.department.clone() };
                    out.notifications.push(Notification { role: Role::DepartmentHead, department: Some(department), complaint_id: self.id, message: format!("{}: an extension waits for approval", self.number) });
                    changes = serde_json::json!({ "pending": true, "needs_superior": needs_superior });
                } else {
                    next.clock.extensions_granted += 1;
                    if step.notify_customer {
                        next.recompute_deadlines(rules);
                        out.messages.push(next.render(MessageKind::Extension, now, rules));
                    }
                    changes = serde_json::json!({ "granted": true, "extensions_granted": next.clock.extensions_granted });
                }
            }
            Action::DecideExtension { approve, note } => {
                let pending = next.clock.pending_extension.take().ok_or_else(|| ActionError::new("invalid_transition", "no extension request waits for approval"))?;
                if pending.requested_by.id == actor.id {
                    return Err(ActionError::new("maker_checker", "the person who asked for an extension cannot approve it"));
                }
                if approve {
                    let step = extension_step(rules, &next).ok_or_else(|| ActionError::new("no_extension_left", "the profile allows no further extension"))?;
                    next.clock.extensions_granted += 1;
                    if step.notify_customer {
                        next.recompute_deadlines(rules);
                        out.messages.push(next.render(MessageKind::Extension, now, rules));
                    }
                }
                reason = note.map(|n| n.to_string());
                changes = serde_json::json!({ "approved": approve, "extensions_granted": next.clock.extensions_granted });
            }
            Action::NewFacts { description } => {
                if next.notes.len() >= MAX_NOTES_PER_COMPLAINT {
                    return Err(ActionError::new("too_many_notes", "this complaint has the most notes allowed"));
                }
                if rules.profile.restart_on_new_facts {
                    next.clock = ClockState { started_at: now, pauses: Vec::new(), extensions_granted: 0, pending_extension: None };
                }
                next.notes.push(Note { text: description.clone(), by: who.clone(), at: now, customer_contact: true });
                reason = Some(description.to_string());
                changes = serde_json::json!({ "clock_restarted": rules.profile.restart_on_new_facts });
            }
            Action::AddNote { text, customer_contact } => {
                if next.notes.len() >= MAX_NOTES_PER_COMPLAINT {
                    return Err(ActionError::new("too_many_notes", "this complaint has the most notes allowed"));
                }
                next.notes.push(Note { text: text.clone(), by: who.clone(), at: now, customer_contact });
                changes = serde_json::json!({ "text": text, "customer_contact": customer_contact });
            }
            Action::Attach { attachment } => {
                if next.attachments.len() >= crate::attachment::MAX_ATTACHMENTS_PER_COMPLAINT {
                    return Err(ActionError::new("too_many_attachments", "this complaint has the most attachments allowed"));
                }
                if !next.attachments.iter().any(|a| a.sha256 == attachment.sha256) {
                    next.attachments.push(attachment.clone());
                }
                changes = serde_json::json!({ "attachment": attachment });
            }
            Action::CorrectClassification { dimension, code } => {
                let dim: Dimension = serde_json::from_value(serde_json::Value::String(dimension.clone())).map_err(|_| {
                    ActionError::field("invalid_label", "dimension", format!("unknown dimension '{dimension}'; one of channel, business_type, cause, insurance_line, cfpb_product"))
                })?;
                let previous = next.classification.label(dim).map(|l| l.code.clone());
                next.classification.correct(rules.taxonomy, dim, Some(&code), &actor.id).map_err(|e| ActionError::field("invalid_label", "code", e.to_string()))?;
                out.label_correction = Some(LabelCorrection { dimension: dimension.clone(), previous: previous.clone(), code: code.clone(), by: who.clone() });
                changes = serde_json::json!({ "dimension": dimension, "from": previous, "to": code });
            }
            Action::Escalate { reason: why } => {
                next.priority = next.priority.raised();
                out.notifications.push(Notification { role: Role::DepartmentHead, department: Some(next.owner.department.clone()), complaint_id: self.id, message: format!("{}: {why}", self.number) });
                // Escalation goes up the hierarchy: the consumer-protection department one level up
                // hears of it too (at the head office that is the owner's own superior).
                let superior = rules.org.superior_department(&next.owner.department).code.clone();
                if superior != next.owner.department {
                    out.notifications.push(Notification { role: Role::DepartmentHead, department: Some(superior), complaint_id: self.id, message: format!("{}: {why} (escalated from {})", self.number, next.owner.department) });
                }
                out.notifications.push(Notification { role: Role::Supervisor, department: None, complaint_id: self.id, message: format!("{}: {why}", self.number) });
                reason = Some(why.to_string());
                changes = serde_json::json!({ "priority": next.priority });
            }
            Action::MarkDue { state } => {
                // The follow-up call is announced to the customer when it becomes due.
                if next.status == Status::Decided && state == DueState::DueSoon && next.follow_up.is_none() {
                    out.messages.push(next.render(MessageKind::FollowUp, now, rules));
                }
                next.due_state = state;
                changes = serde_json::json!({ "due_state": state });
            }
            Action::RevealContact => {
                changes = serde_json::json!({ "revealed": ["complainant.phone", "complainant.id_number"] });
            }
        }
        if matches!(to, Status::Decided | Status::Declined | Status::Withdrawn | Status::Merged) && from != to {
            next.closings.push(self.closing(&next, to, now, rules));
        }
        next.status = to;
        next.recompute_deadlines(rules);
        // A moved deadline (extension, resume, restart, reopening, decision) is judged afresh
        // by the scheduler; a stale "due soon" or "overdue" would otherwise stick.
        if kind != ActionKind::MarkDue && next.watched_deadline() != self.watched_deadline() {
            next.due_state = DueState::OnTime;
        }
        if kind == ActionKind::Decide {
            out.messages.push(next.render(MessageKind::Decision, now, rules));
        }
        next.version += 1;
        next.updated_at = now;
        let event = next.event(kind, &who, now, Some(from), reason, changes);
        out.events.insert(0, event);
        *self = next;
        Ok(out)
    }
}

/// The most notes (including new facts) one complaint may carry. Every save rewrites the whole
/// record, so an endless case file would slow every later action on it; real files stay far
/// below this.
pub const MAX_NOTES_PER_COMPLAINT: usize = 2_000;

/// The next extension step the profile offers a complaint, if any.
fn extension_step(rules: Rules<'_>, c: &Complaint) -> Option<crate::profile::ExtensionStep> {
    let business_type = c.classification.business_type.as_ref().map(|l| l.code.as_str());
    rules.profile.rules_for(business_type).extensions.get(c.clock.extensions_granted as usize).cloned()
}

/// Whether a resolution paying `amount` needs a second person's approval under `profile`.
fn resolution_needs_approval(amount: Option<&Money>, profile: &RuleProfile) -> bool {
    amount.is_some_and(|m| profile.compensation_approval_threshold.requires_second_approval(m.amount, m.currency.as_str()))
}

/// The kind of an action: what the action is together with the outcome the lifecycle gives
/// it, so that [`Status::allows`] alone says which status it leads to.
///
/// Where one action can end in two statuses, the action's content decides the kind: a transfer
/// naming a handler is [`ActionKind::TransferToHandler`], one naming only a department
/// [`ActionKind::TransferToDepartment`]; a proposal whose amount the profile puts above its
/// approval threshold (or in another currency) is [`ActionKind::ProposeResolutionForApproval`];
/// a dissatisfied follow-up is [`ActionKind::FollowUpDissatisfied`], a satisfied or basically
/// satisfied one [`ActionKind::FollowUpSatisfied`]. The profile is the one the complaint is
/// handled under. Permission checks use the same kind, so they see what [`Complaint::apply`]
/// will do.
pub fn action_kind(action: &Action, profile: &RuleProfile) -> ActionKind {
    match action {
        Action::Accept => ActionKind::Accept,
        Action::Decline { .. } => ActionKind::Decline,
        Action::Assign { .. } => ActionKind::Assign,
        Action::Transfer { handler: Some(_), .. } => ActionKind::TransferToHandler,
        Action::Transfer { handler: None, .. } => ActionKind::TransferToDepartment,
        Action::StartInvestigation => ActionKind::StartInvestigation,
        Action::Pause { .. } => ActionKind::Pause,
        Action::Resume => ActionKind::Resume,
        Action::ProposeResolution { amount, .. } if resolution_needs_approval(amount.as_ref(), profile) => ActionKind::ProposeResolutionForApproval,
        Action::ProposeResolution { .. } => ActionKind::ProposeResolution,
        Action::ApproveResolution => ActionKind::ApproveResolution,
        Action::RejectResolution { .. } => ActionKind::RejectResolution,
        Action::Decide { .. } => ActionKind::Decide,
        Action::RecordFollowUp { satisfaction: Satisfaction::Dissatisfied, .. } => ActionKind::FollowUpDissatisfied,
        Action::RecordFollowUp { satisfaction: Satisfaction::Satisfied | Satisfaction::BasicallySatisfied, .. } => ActionKind::FollowUpSatisfied,
        Action::Close => ActionKind::Close,
        Action::Reopen { .. } => ActionKind::Reopen,
        Action::RequestReview { .. } => ActionKind::RequestReview,
        Action::Archive => ActionKind::Archive,
        Action::MergeInto { .. } => ActionKind::MergeInto,
        Action::Withdraw { .. } => ActionKind::Withdraw,
        Action::RequestExtension { .. } => ActionKind::RequestExtension,
        Action::DecideExtension { .. } => ActionKind::DecideExtension,
        Action::NewFacts { .. } => ActionKind::NewFacts,
        Action::AddNote { .. } => ActionKind::AddNote,
        Action::Attach { .. } => ActionKind::Attach,
        Action::CorrectClassification { .. } => ActionKind::CorrectClassification,
        Action::Escalate { .. } => ActionKind::Escalate,
        Action::MarkDue { .. } => ActionKind::MarkDue,
        Action::RevealContact => ActionKind::RevealContact,
    }
}

#[cfg(test)]
mod tests;
