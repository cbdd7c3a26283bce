//! Complaints by e-mail: a message read from the mailbox or a folder becomes a complaint, joins
//! the complaint it answers, moves a message that bounced, or is ignored or refused with the
//! reason. Whatever happens, the message is kept whole with its outcome, so nothing taken in is
//! dropped silently and taking the same message again does nothing.
//!
//! Reading the bytes (MIME, charsets, HTML) is the edge's job (`redress-channels`); it hands
//! over an [`IncomingMail`].

use jiff::Timestamp;
use redress_domain::complaint::{Action, Channel, Complainant, Complaint, ComplaintId, CustomerType, Language, NewComplaint, Respondent};
use redress_domain::delivery::{DeliveryChannel, DeliveryState};
use redress_domain::fields::{Email, ExternalRef, LongText, Narrative, PersonName, Request, ShortText};
use redress_domain::org::Role;
use redress_store::{DeliveryReceipt, InboundMail, User};
use serde::Serialize;

use crate::error::AppResult;
use crate::{App, Caller};

/// What a message is, as its headers and structure say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailKind {
    /// Written by a person.
    Personal,
    /// An automatic reply (out of office, vacation): `Auto-Submitted`, `X-Autoreply`,
    /// `Precedence: auto_reply`.
    AutoReply,
    /// A list or bulk message: `List-Id`, `Precedence: bulk|list|junk`.
    Bulk,
    /// Redress's own message come back (its loop header, or sent from the intake address).
    Loop,
    /// A delivery status notification saying a message of ours failed.
    Bounce {
        /// The `Message-ID` of our message.
        original_message_id: Option<String>,
        /// Who could not be reached.
        recipient: Option<String>,
        /// The status and diagnostic.
        status: String,
    },
    /// Not readable as a message.
    Unreadable {
        /// Why.
        reason: String,
    },
}

/// A message as the edge read it.
#[derive(Debug, Clone)]
pub struct IncomingMail {
    /// The SHA-256 of the bytes received (hex).
    pub key: String,
    /// The bytes received.
    pub raw: Vec<u8>,
    /// What it is.
    pub kind: MailKind,
    /// `Message-ID`, without angle brackets.
    pub message_id: Option<String>,
    /// The sender's address.
    pub from_address: Option<String>,
    /// The sender's name.
    pub from_name: Option<String>,
    /// The subject, decoded.
    pub subject: String,
    /// The text: the plain part, or the HTML part turned into text.
    pub body: String,
    /// The message ids it answers (`In-Reply-To`, then `References`), without angle brackets.
    pub answers: Vec<String>,
    /// Attached files: name and content.
    pub attachments: Vec<(String, Vec<u8>)>,
    /// When it was written (`Date`).
    pub date: Option<Timestamp>,
}

/// Where the mail comes from and where its complaints go.
#[derive(Debug, Clone)]
pub struct MailIntakeSettings {
    /// The intake address: a message from it is our own come back.
    pub address: Option<String>,
    /// The unit new complaints are registered against (routing then finds the department);
    /// default: the head office.
    pub unit: Option<String>,
    /// Messages larger than this are kept and refused unread.
    pub max_message_bytes: usize,
}

impl Default for MailIntakeSettings {
    fn default() -> Self {
        MailIntakeSettings { address: None, unit: None, max_message_bytes: 30 * 1024 * 1024 }
    }
}

/// What became of a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum MailOutcome {
    /// A new complaint.
    Registered {
        /// Its number.
        number: String,
    },
    /// Added to an existing complaint's communication log.
    Joined {
        /// Its number.
        number: String,
    },
    /// A bounce applied to the message it names.
    Receipt {
        /// Whether a message of ours took it.
        applied: bool,
    },
    /// Not a complaint (automatic reply, loop, list).
    Ignored {
        /// Why.
        reason: String,
    },
    /// Kept, not taken in: unreadable, too large, or refused by the checks.
    Refused {
        /// Why.
        reason: String,
    },
    /// Taken in before.
    Known,
}

/// The service that takes in mail: an intake agent of no department, with no account.
pub fn mail_caller() -> Caller {
    Caller::new(User {
        id: "system:mail".into(),
        name: "e-mail intake".into(),
        role: Role::IntakeAgent,
        department: None,
        active: true,
        open_load: 0,
        language: None,
    })
}

/// Takes in one message from `source`.
pub async fn take(app: &App, settings: &MailIntakeSettings, source: &str, mail: IncomingMail) -> AppResult<MailOutcome> {
    if app.store.inbound_mail_known(&mail.key).await? {
        return Ok(MailOutcome::Known);
    }
    let (outcome, complaint_id) = decide(app, settings, &mail).await?;
    let (name, reason) = match &outcome {
        MailOutcome::Registered { .. } => ("registered", None),
        MailOutcome::Joined { .. } => ("joined", None),
        MailOutcome::Receipt { applied } => ("receipt", Some(if *applied { "applied to the message it names" } else { "names no message of ours" }.to_string())),
        MailOutcome::Ignored { reason } => ("ignored", Some(reason.clone())),
        MailOutcome::Refused { reason } => ("refused", Some(reason.clone())),
        MailOutcome::Known => return Ok(MailOutcome::Known),
    };
    if name == "refused" {
        tracing::warn!(source, key = %mail.key, reason = reason.as_deref().unwrap_or_default(), "e-mail kept but not taken in");
    }
    let record = InboundMail {
        id: 0,
        key: mail.key.clone(),
        source: source.to_string(),
        taken_at: app.clock.now(),
        message_id: mail.message_id.clone(),
        sender: mail.from_address.clone(),
        subject: Some(mail.subject.chars().take(500).collect()),
        outcome: name.to_string(),
        complaint_id,
        reason,
        size: i64::try_from(mail.raw.len()).unwrap_or(i64::MAX),
    };
    app.store.record_inbound_mail(record, &mail.raw).await?;
    Ok(outcome)
}

/// What becomes of a message, with the complaint it registered or joined.
async fn decide(app: &App, settings: &MailIntakeSettings, mail: &IncomingMail) -> AppResult<(MailOutcome, Option<ComplaintId>)> {
    let outcome = |o: MailOutcome| Ok((o, None));
    if mail.raw.len() > settings.max_message_bytes {
        return outcome(MailOutcome::Refused { reason: format!("the message has {} bytes, more than the {} taken", mail.raw.len(), settings.max_message_bytes) });
    }
    match &mail.kind {
        MailKind::Unreadable { reason } => return outcome(MailOutcome::Refused { reason: format!("unreadable: {reason}") }),
        MailKind::AutoReply => return outcome(MailOutcome::Ignored { reason: "an automatic reply".into() }),
        MailKind::Bulk => return outcome(MailOutcome::Ignored { reason: "a list or bulk message".into() }),
        MailKind::Loop => return outcome(MailOutcome::Ignored { reason: "our own message come back".into() }),
        MailKind::Bounce { original_message_id, recipient, status } => {
            let Some(original) = original_message_id else { return outcome(MailOutcome::Receipt { applied: false }) };
            let detail = match recipient {
                Some(r) => format!("bounced for {r}: {status}"),
                None => format!("bounced: {status}"),
            };
            let receipt = DeliveryReceipt { channel: DeliveryChannel::Email, provider_id: format!("<{original}>"), state: DeliveryState::Failed, detail: Some(detail), at: app.clock.now() };
            let applied = crate::delivery::record_receipt(app, receipt).await?.is_some();
            return outcome(MailOutcome::Receipt { applied });
        }
        MailKind::Personal => {}
    }
    let from_us = match (&settings.address, &mail.from_address) {
        (Some(ours), Some(from)) => ours.eq_ignore_ascii_case(from),
        _ => false,
    };
    if from_us {
        return outcome(MailOutcome::Ignored { reason: "sent from the intake address itself".into() });
    }
    let Some(from) = mail.from_address.as_deref() else {
        return outcome(MailOutcome::Refused { reason: "no sender address to answer".into() });
    };
    let taken = match answered_complaint(app, mail).await? {
        Some(c) => join(app, mail, from, c).await,
        None => register(app, settings, mail, from).await,
    };
    // What the checks refuse (a text that is no text, a field too long) is kept as refused,
    // with the reason; only a failure of the store stops the intake.
    match taken {
        Err(e) if matches!(e.kind, crate::ErrorKind::Invalid | crate::ErrorKind::Malformed) => {
            let field = e.field.as_deref().map(|f| format!(" ({f})")).unwrap_or_default();
            outcome(MailOutcome::Refused { reason: format!("refused by the checks{field}: {}", e.message) })
        }
        other => other,
    }
}

/// The complaint a message answers: a message id of ours it names (`redress-<complaint id>-…`),
/// else a complaint number in its subject.
async fn answered_complaint(app: &App, mail: &IncomingMail) -> AppResult<Option<Complaint>> {
    for id in &mail.answers {
        let Some(rest) = id.strip_prefix("redress-") else { continue };
        let Some(uuid) = rest.get(..36) else { continue };
        if let Some(cid) = ComplaintId::parse(uuid)
            && let Some(c) = app.store.complaint(cid).await?
        {
            return Ok(Some(c));
        }
    }
    for word in redress_domain::complaint::complaint_numbers_in(&mail.subject) {
        if let Some(c) = app.store.complaint_by_number(&word).await? {
            return Ok(Some(c));
        }
    }
    Ok(None)
}

async fn join(app: &App, mail: &IncomingMail, from: &str, c: Complaint) -> AppResult<(MailOutcome, Option<ComplaintId>)> {
    let caller = mail_caller();
    let number = c.number.as_str();
    let known_sender = c.complainant.email.as_ref().is_some_and(|e| e.as_str().eq_ignore_ascii_case(from));
    let mut text = format!("E-mail from {}{}\nSubject: {}\n\n{}", from, if known_sender { "" } else { " (not the address on the complaint)" }, mail.subject, mail.body.trim());
    let mut refused = Vec::new();
    for (name, content) in &mail.attachments {
        match crate::complaints::attach(app, &caller, number, name, content).await {
            Ok(_) => {}
            Err(e) if e.kind == crate::ErrorKind::Invalid => refused.push(format!("{name}: {}", e.message)),
            Err(e) => return Err(e),
        }
    }
    if !refused.is_empty() {
        text.push_str(&format!("\n\nAttachments not taken: {}", refused.join("; ")));
    }
    let text = LongText::parse("body", &truncate(&text, LongText::MAX_CHARS))?;
    match crate::complaints::perform(app, &caller, number, Action::AddNote { text, customer_contact: true }).await {
        Ok(_) => Ok((MailOutcome::Joined { number: number.to_string() }, Some(c.id))),
        // A complaint that is archived takes no more notes; a person has to look at the mail.
        Err(e) if e.kind == crate::ErrorKind::Conflict => Ok((MailOutcome::Refused { reason: format!("answers {number}, which takes no more notes: {}", e.message) }, None)),
        Err(e) => Err(e),
    }
}

async fn register(app: &App, settings: &MailIntakeSettings, mail: &IncomingMail, from: &str) -> AppResult<(MailOutcome, Option<ComplaintId>)> {
    let outcome = |o: MailOutcome| Ok((o, None));
    let caller = mail_caller();
    let text = mail.body.trim();
    let narrative_text = if text.is_empty() { mail.subject.trim() } else { text };
    if narrative_text.is_empty() {
        return outcome(MailOutcome::Refused { reason: "the message has neither a subject nor a text".into() });
    }
    let chinese = narrative_text.chars().chain(mail.subject.chars()).any(redress_text::is_cjk);
    let email = match Email::parse("from", from) {
        Ok(e) => e,
        Err(e) => return outcome(MailOutcome::Refused { reason: format!("the sender's address cannot be answered: {}", e.message) }),
    };
    let name = mail.from_name.as_deref().map(str::trim).filter(|n| !n.is_empty()).unwrap_or_else(|| from.split('@').next().unwrap_or(from));
    let mut files = Vec::new();
    let mut refused = Vec::new();
    for (file, content) in &mail.attachments {
        match crate::complaints::check_file(file, content) {
            Ok(_) => files.push((file.clone(), content.clone())),
            Err(e) => refused.push(format!("{}: {}", file, e.message)),
        }
    }
    let mut narrative = truncate(narrative_text, Narrative::MAX_CHARS - 2_000);
    if !refused.is_empty() {
        narrative.push_str(&format!("\n\n[{}: {}]", if chinese { "未接收的附件" } else { "Attachments not taken" }, refused.join("; ")));
    }
    let subject = mail.subject.trim();
    let new = NewComplaint {
        channel: Channel::Email,
        regulator_order: None,
        received_at: app.clock.now(),
        complainant: Complainant {
            name: PersonName::parse("from", &truncate(name, PersonName::MAX_CHARS))?,
            id_number: None,
            phone: None,
            email: Some(email),
            customer_type: CustomerType::Individual,
            language: if chinese { Language::ZhCn } else { Language::En },
        },
        agent: None,
        respondent: Respondent { unit: settings.unit.clone().unwrap_or_else(|| app.rules.org.head_office().code.clone()), staff: Vec::new() },
        product: None,
        business_type: None,
        amount: None,
        request: Request::parse("subject", &truncate(if subject.is_empty() { narrative_text } else { subject }, Request::MAX_CHARS))?,
        narrative: Narrative::parse("body", &narrative)?,
        title: ShortText::parse("subject", &truncate(subject, ShortText::MAX_CHARS)).ok(),
        // The message's key makes a second taking of the same message a replay, not a second
        // complaint, even if the first stopped before its outcome was kept.
        external_ref: Some(ExternalRef::parse("message", &format!("mail:{}", mail.key))?),
    };
    let registered = crate::complaints::register_with_files(app, &caller, new, None, &files).await?;
    let c = registered.complaint();
    Ok((MailOutcome::Registered { number: c.number.clone() }, Some(c.id)))
}

/// The e-mails taken in, newest first (with `outcome`, e.g. `refused`, only those), for
/// whoever may import complaints.
pub async fn list(app: &App, caller: &Caller, outcome: Option<&str>, limit: u32) -> AppResult<Vec<InboundMail>> {
    crate::policy::require(caller, crate::policy::Operation::Import)?;
    Ok(app.store.inbound_mails(outcome, limit.clamp(1, 1000)).await?)
}

/// One e-mail as it was received, for whoever may import complaints.
pub async fn raw(app: &App, caller: &Caller, id: i64) -> AppResult<Vec<u8>> {
    crate::policy::require(caller, crate::policy::Operation::Import)?;
    app.store.inbound_mail_raw(id).await?.ok_or_else(|| crate::AppError::not_found("e-mail"))
}

fn truncate(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}
