//! The input of the use cases as people and systems send it (the JSON bodies of the API, the
//! files of the command line), converted explicitly into validated domain values.
//!
//! Unknown fields are refused (`deny_unknown_fields`), so a misspelt field is an error instead of
//! silently lost data.

use jiff::Timestamp;
use redress_domain::complaint::{
    Action, Agent, Channel, Complainant, ComplaintRef, CustomerType, Language, NewComplaint, RegulatorOrder, Remedy,
    Respondent, ResolutionKind, Satisfaction, UserRef,
};
use redress_domain::deadline::DueState;
use redress_domain::fields::{EscalationReason, ExternalRef, Email, FieldError, IdNumber, LongText, Money, Narrative, PersonName, Phone, Request, ShortText};
use serde::Deserialize;

/// A new complaint as sent (`POST /api/v1/complaints`, `redress complaint new`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewComplaintBody {
    /// Channel.
    pub channel: Channel,
    /// When received; defaults to now.
    #[serde(default)]
    pub received_at: Option<Timestamp>,
    /// Work order of a regulator-forwarded complaint.
    #[serde(default)]
    pub regulator_order: Option<RegulatorOrderBody>,
    /// Complainant.
    pub complainant: ComplainantBody,
    /// Agent.
    #[serde(default)]
    pub agent: Option<AgentBody>,
    /// Respondent; defaults to the head office.
    #[serde(default)]
    pub respondent: Option<RespondentBody>,
    /// Product.
    #[serde(default)]
    pub product: Option<String>,
    /// Business-type code, if intake knows it.
    #[serde(default)]
    pub business_type: Option<String>,
    /// Amount in dispute.
    #[serde(default)]
    pub amount: Option<MoneyBody>,
    /// Request (诉求).
    pub request: String,
    /// Narrative.
    pub narrative: String,
    /// Title.
    #[serde(default)]
    pub title: Option<String>,
    /// External reference.
    #[serde(default)]
    pub external_ref: Option<String>,
}

/// A regulator's work order.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegulatorOrderBody {
    /// Regulator.
    pub regulator: String,
    /// Work-order number.
    pub order_number: String,
    /// Deadline set by the notice.
    #[serde(default)]
    pub deadline: Option<Timestamp>,
}

/// The complainant.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComplainantBody {
    /// Name.
    pub name: String,
    /// ID number.
    #[serde(default)]
    pub id_number: Option<String>,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
    /// E-mail.
    #[serde(default)]
    pub email: Option<String>,
    /// Customer type.
    #[serde(default)]
    pub customer_type: CustomerType,
    /// Language for messages.
    #[serde(default)]
    pub language: Language,
}

/// An agent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentBody {
    /// Name.
    pub name: String,
    /// Relationship.
    #[serde(default)]
    pub relationship: Option<String>,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
    /// Power of attorney shown.
    #[serde(default)]
    pub power_of_attorney: bool,
}

/// The respondent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RespondentBody {
    /// Unit code.
    pub unit: String,
    /// Staff involved.
    #[serde(default)]
    pub staff: Vec<String>,
}

/// Money: the amount as a decimal string (never a float) and the currency.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoneyBody {
    /// Decimal string, e.g. `"1234.50"`.
    pub amount: String,
    /// ISO 4217 code.
    pub currency: String,
}

fn opt<T>(v: &Option<String>, f: impl FnOnce(&str) -> Result<T, FieldError>) -> Result<Option<T>, FieldError> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => f(s).map(Some),
    }
}

impl MoneyBody {
    fn into_domain(self, field: &str) -> Result<Money, FieldError> {
        Money::parse(field, &self.amount, &self.currency)
    }
}

impl NewComplaintBody {
    /// Validates into the domain's new complaint.
    pub fn into_domain(self, now: Timestamp, default_unit: &str) -> Result<NewComplaint, FieldError> {
        let c = self.complainant;
        let complainant = Complainant {
            name: PersonName::parse("complainant.name", &c.name)?,
            id_number: opt(&c.id_number, |s| IdNumber::parse("complainant.id_number", s))?,
            phone: opt(&c.phone, |s| Phone::parse("complainant.phone", s))?,
            email: opt(&c.email, |s| Email::parse("complainant.email", s))?,
            customer_type: c.customer_type,
            language: c.language,
        };
        let agent = match self.agent {
            Some(a) => Some(Agent {
                name: PersonName::parse("agent.name", &a.name)?,
                relationship: opt(&a.relationship, |s| ShortText::parse("agent.relationship", s))?,
                phone: opt(&a.phone, |s| Phone::parse("agent.phone", s))?,
                power_of_attorney: a.power_of_attorney,
            }),
            None => None,
        };
        let respondent = match self.respondent {
            Some(r) => Respondent {
                unit: r.unit.trim().to_string(),
                staff: r.staff.iter().map(|s| ShortText::parse("respondent.staff", s)).collect::<Result<_, _>>()?,
            },
            None => Respondent { unit: default_unit.to_string(), staff: Vec::new() },
        };
        let regulator_order = match self.regulator_order {
            Some(o) => Some(RegulatorOrder {
                regulator: ShortText::parse("regulator_order.regulator", &o.regulator)?,
                order_number: ShortText::parse("regulator_order.order_number", &o.order_number)?,
                deadline: o.deadline,
            }),
            None => None,
        };
        let external_ref = opt(&self.external_ref, |s| ExternalRef::parse("external_ref", s))?;
        let business_type = match self.business_type.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => Some(s.to_string()),
        };
        Ok(NewComplaint {
            channel: self.channel,
            regulator_order,
            received_at: self.received_at.unwrap_or(now),
            complainant,
            agent,
            respondent,
            product: opt(&self.product, |s| ShortText::parse("product", s))?,
            business_type,
            amount: self.amount.map(|m| m.into_domain("amount")).transpose()?,
            request: Request::parse("request", &self.request)?,
            narrative: Narrative::parse("narrative", &self.narrative)?,
            title: opt(&self.title, |s| ShortText::parse("title", s))?,
            external_ref,
        })
    }
}

/// Parses an action body into the domain action. `action` is the last path segment.
/// User references come back with the given id as their name; the handler resolves them.
pub fn parse_action(action: &str, body: &[u8]) -> Result<Action, crate::error::AppError> {
    use crate::error::AppError;
    use crate::json::parse_json;
    let long = |field: &str, v: &str| LongText::parse(field, v);
    let long_opt = |field: &str, v: Option<String>| -> Result<Option<LongText>, FieldError> { opt(&v, |s| LongText::parse(field, s)) };
    macro_rules! body {
        ($t:ty) => {
            parse_json::<$t>(if body.is_empty() { b"{}" } else { body })?
        };
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Empty {}
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct ReasonNote {
        reason: String,
        #[serde(default)]
        note: Option<String>,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct ReasonText {
        reason: String,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct OptReason {
        #[serde(default)]
        reason: Option<String>,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct AssignBody {
        handler: String,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct TransferBody {
        department: String,
        #[serde(default)]
        handler: Option<String>,
        reason: String,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct ProposeBody {
        kind: ResolutionKind,
        #[serde(default)]
        amount: Option<MoneyBody>,
        summary: String,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct DecideBody {
        verification: String,
        basis: String,
        reasons: String,
        #[serde(default = "default_remedies")]
        remedies: Vec<Remedy>,
    }
    fn default_remedies() -> Vec<Remedy> {
        vec![Remedy::Review, Remedy::Mediation, Remedy::Arbitration, Remedy::Litigation]
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct FollowUpBody {
        satisfaction: Satisfaction,
        #[serde(default)]
        comments: Option<String>,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct MergeBody {
        target: String,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct DecideExtensionBody {
        approve: bool,
        #[serde(default)]
        note: Option<String>,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct NewFactsBody {
        description: String,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct NoteBody {
        text: String,
        #[serde(default)]
        customer_contact: bool,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct CorrectBody {
        dimension: String,
        code: String,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct EscalateBody {
        reason: String,
    }
    let user = |field: &str, id: &str| -> Result<UserRef, AppError> {
        let id = id.trim();
        if id.is_empty() {
            return Err(AppError::invalid(field, "must not be empty"));
        }
        Ok(UserRef { id: id.to_string(), name: id.to_string() })
    };
    let action = match action {
        "accept" => {
            body!(Empty);
            Action::Accept
        }
        "decline" => {
            let b = body!(ReasonNote);
            Action::Decline { reason: b.reason, note: long_opt("note", b.note)? }
        }
        "assign" => {
            let b = body!(AssignBody);
            Action::Assign { handler: user("handler", &b.handler)? }
        }
        "transfer" => {
            let b = body!(TransferBody);
            let handler = match b.handler {
                Some(h) => Some(user("handler", &h)?),
                None => None,
            };
            Action::Transfer { department: b.department, handler, reason: ShortText::parse("reason", &b.reason)? }
        }
        "start-investigation" => {
            body!(Empty);
            Action::StartInvestigation
        }
        "pause" => {
            let b = body!(ReasonNote);
            Action::Pause { reason: b.reason, note: long_opt("note", b.note)? }
        }
        "resume" => {
            body!(Empty);
            Action::Resume
        }
        "propose-resolution" => {
            let b = body!(ProposeBody);
            Action::ProposeResolution {
                kind: b.kind,
                amount: b.amount.map(|m| m.into_domain("amount")).transpose()?,
                summary: long("summary", &b.summary)?,
            }
        }
        "approve-resolution" => {
            body!(Empty);
            Action::ApproveResolution
        }
        "reject-resolution" => {
            let b = body!(ReasonText);
            Action::RejectResolution { reason: long("reason", &b.reason)? }
        }
        "decide" => {
            let b = body!(DecideBody);
            Action::Decide {
                verification: long("verification", &b.verification)?,
                basis: long("basis", &b.basis)?,
                reasons: long("reasons", &b.reasons)?,
                remedies: b.remedies,
            }
        }
        "follow-up" => {
            let b = body!(FollowUpBody);
            Action::RecordFollowUp { satisfaction: b.satisfaction, comments: long_opt("comments", b.comments)? }
        }
        "close" => {
            body!(Empty);
            Action::Close
        }
        "reopen" => {
            let b = body!(ReasonText);
            Action::Reopen { reason: long("reason", &b.reason)? }
        }
        "request-review" => {
            let b = body!(ReasonText);
            Action::RequestReview { reason: long("reason", &b.reason)? }
        }
        "archive" => {
            body!(Empty);
            Action::Archive
        }
        "merge" => {
            let b = body!(MergeBody);
            // The target's number is filled in by the handler once the target is loaded.
            let id = redress_domain::complaint::ComplaintId::parse(&b.target)
                .ok_or_else(|| AppError::invalid("target", "not a complaint id"))?;
            Action::MergeInto { target: ComplaintRef { id, number: String::new() } }
        }
        "withdraw" => {
            let b = body!(OptReason);
            Action::Withdraw { reason: long_opt("reason", b.reason)? }
        }
        "request-extension" => {
            let b = body!(ReasonText);
            Action::RequestExtension { reason: long("reason", &b.reason)? }
        }
        "decide-extension" => {
            let b = body!(DecideExtensionBody);
            Action::DecideExtension { approve: b.approve, note: long_opt("note", b.note)? }
        }
        "new-facts" => {
            let b = body!(NewFactsBody);
            Action::NewFacts { description: long("description", &b.description)? }
        }
        "notes" => {
            let b = body!(NoteBody);
            Action::AddNote { text: long("text", &b.text)?, customer_contact: b.customer_contact }
        }
        "classification" => {
            let b = body!(CorrectBody);
            Action::CorrectClassification { dimension: b.dimension, code: b.code }
        }
        "reveal-contact" => {
            body!(Empty);
            Action::RevealContact
        }
        "escalate" => {
            let b = body!(EscalateBody);
            Action::Escalate { reason: EscalationReason::parse("reason", &b.reason)? }
        }
        other => {
            return Err(AppError::not_found(&format!("action '{other}'")));
        }
    };
    Ok(action)
}

/// The action names the API accepts, for documentation and errors.
pub const ACTIONS: &[&str] = &[
    "accept", "decline", "assign", "transfer", "start-investigation", "pause", "resume", "propose-resolution",
    "approve-resolution", "reject-resolution", "decide", "follow-up", "close", "reopen", "request-review", "archive",
    "merge", "withdraw", "request-extension", "decide-extension", "new-facts", "notes", "classification", "escalate",
    "reveal-contact",
];

/// Parses a due-state filter value.
pub fn parse_due_state(v: &str) -> Option<DueState> {
    serde_json::from_value(serde_json::Value::String(v.to_string())).ok()
}
