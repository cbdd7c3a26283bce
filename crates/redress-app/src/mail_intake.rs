//! Complaints by e-mail: a message read from the mailbox or a folder becomes a complaint, joins
//! the complaint it answers, moves a message that bounced, or is ignored or refused with the
//! reason. Whatever happens, the message is kept whole with its outcome, so nothing taken in is
//! dropped silently and taking the same message again does nothing.
//!
//! Reading the bytes (MIME, charsets, HTML) is the edge's job (`redress-channels`); it hands
//! over an [`IncomingMail`].

use jiff::Timestamp;
use redress_domain::complaint::{Action, Channel, Complainant, ComplaintId, CustomerType, Language, NewComplaint, Respondent};
use redress_domain::delivery::{DeliveryChannel, DeliveryState};
use redress_domain::fields::{Email, ExternalRef, LongText, Narrative, PersonName, Request, ShortText};
use redress_domain::org::Role;
use redress_store::{DeliveryReceipt, InboundMail, Registered, User};
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
    let outcome = decide(app, settings, &mail).await?;
    let (name, complaint_id, reason) = match &outcome {
        MailOutcome::Registered { number } => ("registered", complaint_of(app, number).await?, None),
        MailOutcome::Joined { number } => ("joined", complaint_of(app, number).await?, None),
        MailOutcome::Receipt { applied } => ("receipt", None, Some(if *applied { "applied to the message it names" } else { "names no message of ours" }.to_string())),
        MailOutcome::Ignored { reason } => ("ignored", None, Some(reason.clone())),
        MailOutcome::Refused { reason } => ("refused", None, Some(reason.clone())),
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

async fn complaint_of(app: &App, number: &str) -> AppResult<Option<ComplaintId>> {
    Ok(app.store.complaint_by_number(number).await?.map(|c| c.id))
}

async fn decide(app: &App, settings: &MailIntakeSettings, mail: &IncomingMail) -> AppResult<MailOutcome> {
    if mail.raw.len() > settings.max_message_bytes {
        return Ok(MailOutcome::Refused { reason: format!("the message has {} bytes, more than the {} taken", mail.raw.len(), settings.max_message_bytes) });
    }
    match &mail.kind {
        MailKind::Unreadable { reason } => return Ok(MailOutcome::Refused { reason: format!("unreadable: {reason}") }),
        MailKind::AutoReply => return Ok(MailOutcome::Ignored { reason: "an automatic reply".into() }),
        MailKind::Bulk => return Ok(MailOutcome::Ignored { reason: "a list or bulk message".into() }),
        MailKind::Loop => return Ok(MailOutcome::Ignored { reason: "our own message come back".into() }),
        MailKind::Bounce { original_message_id, recipient, status } => {
            let Some(original) = original_message_id else { return Ok(MailOutcome::Receipt { applied: false }) };
            let detail = match recipient {
                Some(r) => format!("bounced for {r}: {status}"),
                None => format!("bounced: {status}"),
            };
            let receipt = DeliveryReceipt { channel: DeliveryChannel::Email, provider_id: format!("<{original}>"), state: DeliveryState::Failed, detail: Some(detail), at: app.clock.now() };
            let applied = crate::delivery::record_receipt(app, receipt).await?.is_some();
            return Ok(MailOutcome::Receipt { applied });
        }
        MailKind::Personal => {}
    }
    let from_us = match (&settings.address, &mail.from_address) {
        (Some(ours), Some(from)) => ours.eq_ignore_ascii_case(from),
        _ => false,
    };
    if from_us {
        return Ok(MailOutcome::Ignored { reason: "sent from the intake address itself".into() });
    }
    let Some(from) = mail.from_address.as_deref() else {
        return Ok(MailOutcome::Refused { reason: "no sender address to answer".into() });
    };
    let taken = match answered_complaint(app, mail).await? {
        Some(number) => join(app, mail, from, &number).await,
        None => register(app, settings, mail, from).await,
    };
    // What the checks refuse (a text that is no text, a field too long) is kept as refused,
    // with the reason; only a failure of the store stops the intake.
    match taken {
        Err(e) if matches!(e.kind, crate::ErrorKind::Invalid | crate::ErrorKind::Malformed) => {
            let field = e.field.as_deref().map(|f| format!(" ({f})")).unwrap_or_default();
            Ok(MailOutcome::Refused { reason: format!("refused by the checks{field}: {}", e.message) })
        }
        other => other,
    }
}

/// The complaint a message answers: a message id of ours it names (`redress-<complaint id>-…`),
/// else a complaint number in its subject.
async fn answered_complaint(app: &App, mail: &IncomingMail) -> AppResult<Option<String>> {
    for id in &mail.answers {
        let Some(rest) = id.strip_prefix("redress-") else { continue };
        let Some(uuid) = rest.get(..36) else { continue };
        if let Some(cid) = ComplaintId::parse(uuid)
            && let Some(c) = app.store.complaint(cid).await?
        {
            return Ok(Some(c.number));
        }
    }
    for word in complaint_numbers(&mail.subject) {
        if let Some(c) = app.store.complaint_by_number(&word).await? {
            return Ok(Some(c.number));
        }
    }
    Ok(None)
}

/// The complaint numbers (`TS-20261201-000042`: letters, a dash, eight digits, a dash, six
/// digits) in a subject, in order.
pub fn complaint_numbers(subject: &str) -> Vec<String> {
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

async fn join(app: &App, mail: &IncomingMail, from: &str, number: &str) -> AppResult<MailOutcome> {
    let caller = mail_caller();
    let c = app.store.complaint_by_number(number).await?.ok_or_else(|| crate::AppError::not_found("complaint"))?;
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
        Ok(_) => Ok(MailOutcome::Joined { number: number.to_string() }),
        // A complaint that is archived takes no more notes; a person has to look at the mail.
        Err(e) if e.kind == crate::ErrorKind::Conflict => Ok(MailOutcome::Refused { reason: format!("answers {number}, which takes no more notes: {}", e.message) }),
        Err(e) => Err(e),
    }
}

async fn register(app: &App, settings: &MailIntakeSettings, mail: &IncomingMail, from: &str) -> AppResult<MailOutcome> {
    let caller = mail_caller();
    let text = mail.body.trim();
    let narrative_text = if text.is_empty() { mail.subject.trim() } else { text };
    if narrative_text.is_empty() {
        return Ok(MailOutcome::Refused { reason: "the message has neither a subject nor a text".into() });
    }
    let chinese = narrative_text.chars().chain(mail.subject.chars()).any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
    let email = match Email::parse("from", from) {
        Ok(e) => e,
        Err(e) => return Ok(MailOutcome::Refused { reason: format!("the sender's address cannot be answered: {}", e.message) }),
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
    let files_registered = crate::complaints::register_with_files(app, &caller, new, None, &files).await?;
    let number = match files_registered {
        Registered::Created(c) | Registered::Replayed(c) => c.number.clone(),
    };
    Ok(MailOutcome::Registered { number })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complaint_numbers_are_found_in_subjects() {
        assert_eq!(complaint_numbers("Re: 投诉受理通知 TS-20261201-000042"), ["TS-20261201-000042"]);
        assert_eq!(complaint_numbers("回复：TS-20261201-000042，TS-20261202-000001"), ["TS-20261201-000042", "TS-20261202-000001"]);
        assert!(complaint_numbers("order XTS-20261201-0000421").is_empty());
        assert!(complaint_numbers("TS-2026120-000042 and ts-20261201-000042").is_empty());
    }
}
