//! Customer messages rendered from templates (zh-CN and en), bound for the outbox.
//!
//! Templates are data (`data/templates/messages.toml`), so wording can change without a
//! rebuild. Sending through real channels is the outbox's consumer's job; here a message is
//! only rendered and queued in the same transaction as the action that caused it.

use std::collections::HashMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::complaint::{Complaint, Language, Remedy};

/// Kinds of customer message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// Acknowledgement with the deadline.
    Acknowledgement,
    /// Deadline extended.
    Extension,
    /// Decision notice.
    Decision,
    /// Follow-up announcement.
    FollowUp,
}

impl MessageKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Acknowledgement => "acknowledgement",
            MessageKind::Extension => "extension",
            MessageKind::Decision => "decision",
            MessageKind::FollowUp => "follow_up",
        }
    }
}

/// A rendered message waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutgoingMessage {
    /// Kind.
    pub kind: MessageKind,
    /// Language.
    pub language: Language,
    /// Where to send it: e-mail, phone (SMS), or none known.
    pub recipient: Option<String>,
    /// Subject.
    pub subject: String,
    /// Body.
    pub body: String,
    /// When queued.
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Template {
    subject: HashMap<String, String>,
    body: HashMap<String, String>,
}

/// Errors in a template file.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// Not valid TOML.
    #[error("templates: {0}")]
    Toml(#[from] toml::de::Error),
    /// A kind or language is missing.
    #[error("templates: {0}")]
    Missing(String),
}

/// The message templates.
#[derive(Debug, Clone)]
pub struct Templates {
    by_kind: HashMap<MessageKind, Template>,
}

impl Templates {
    /// The shipped templates.
    pub fn builtin() -> Templates {
        Self::parse_toml(include_str!("../../../data/templates/messages.toml")).expect("shipped templates are valid")
    }

    /// Parses a template file; every kind needs both languages.
    pub fn parse_toml(text: &str) -> Result<Templates, TemplateError> {
        let raw: HashMap<MessageKind, Template> = toml::from_str(text)?;
        for kind in [MessageKind::Acknowledgement, MessageKind::Extension, MessageKind::Decision, MessageKind::FollowUp] {
            let t = raw.get(&kind).ok_or_else(|| TemplateError::Missing(format!("no [{}] template", kind.as_str())))?;
            for lang in ["zh-CN", "en"] {
                if !t.subject.contains_key(lang) || !t.body.contains_key(lang) {
                    return Err(TemplateError::Missing(format!("[{}] lacks the {lang} subject or body", kind.as_str())));
                }
            }
        }
        Ok(Templates { by_kind: raw })
    }

    /// Renders a message about `complaint` in the complainant's language, dates shown in
    /// `time_zone` (the rule profile's).
    pub fn render(&self, kind: MessageKind, complaint: &Complaint, now: Timestamp, time_zone: &jiff::tz::TimeZone) -> OutgoingMessage {
        let language = complaint.complainant.language;
        let lang = match language {
            Language::ZhCn => "zh-CN",
            Language::En => "en",
        };
        let zh = language == Language::ZhCn;
        let fmt_time = |t: Option<Timestamp>| match t {
            Some(t) => {
                // Deadlines end at the first instant of the next day; show the due day itself.
                let z = t.checked_sub(jiff::SignedDuration::from_secs(1)).unwrap_or(t).to_zoned(time_zone.clone());
                if zh { z.strftime("%Y年%m月%d日").to_string() } else { z.strftime("%-d %B %Y").to_string() }
            }
            None => if zh { "（待定）".into() } else { "(to be confirmed)".into() },
        };
        let remedies = complaint.decision.as_ref().map(|d| {
            d.remedies.iter().map(|r| remedy_name(*r, zh)).collect::<Vec<_>>().join(if zh { "、" } else { ", " })
        });
        let resolution = complaint.resolution.as_ref().map(|r| match &r.amount {
            Some(m) => format!("{} ({m})", r.summary),
            None => r.summary.to_string(),
        });
        let vars: [(&str, String); 9] = [
            ("name", complaint.complainant.name.to_string()),
            ("number", complaint.number.clone()),
            ("received", fmt_time(Some(complaint.received_at))),
            ("deadline", fmt_time(complaint.deadlines.decide_by.or(complaint.deadlines.max_decide_by))),
            ("resolution", resolution.unwrap_or_default()),
            ("verification", complaint.decision.as_ref().map(|d| d.verification.to_string()).unwrap_or_default()),
            ("basis", complaint.decision.as_ref().map(|d| d.basis.to_string()).unwrap_or_default()),
            ("reasons", complaint.decision.as_ref().map(|d| d.reasons.to_string()).unwrap_or_default()),
            ("remedies", remedies.unwrap_or_default()),
        ];
        let t = &self.by_kind[&kind];
        let fill = |s: &str| {
            let mut out = s.trim_start_matches('\n').to_string();
            for (k, v) in &vars {
                out = out.replace(&format!("{{{k}}}"), v);
            }
            out
        };
        let recipient = complaint
            .complainant
            .email
            .as_ref()
            .map(|e| e.as_str().to_string())
            .or_else(|| complaint.complainant.phone.as_ref().map(|p| p.as_str().to_string()));
        OutgoingMessage { kind, language, recipient, subject: fill(&t.subject[lang]), body: fill(&t.body[lang]), created_at: now }
    }
}

fn remedy_name(r: Remedy, zh: bool) -> &'static str {
    match (r, zh) {
        (Remedy::Review, true) => "申请核查",
        (Remedy::Mediation, true) => "申请调解",
        (Remedy::Arbitration, true) => "申请仲裁",
        (Remedy::Litigation, true) => "提起诉讼",
        (Remedy::Review, false) => "ask us to review the decision",
        (Remedy::Mediation, false) => "mediation",
        (Remedy::Arbitration, false) => "arbitration",
        (Remedy::Litigation, false) => "court proceedings",
    }
}
