//! Customer messages rendered from templates (zh-CN and en), bound for the outbox.
//!
//! Templates are data (`data/templates/messages.toml`), so wording can change without a
//! rebuild. Sending through real channels is the outbox's consumer's job; here a message is
//! only rendered and queued in the same transaction as the action that caused it.

use std::collections::HashMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::fields::Money;

/// The language customer messages are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Language {
    /// Simplified Chinese.
    #[default]
    #[serde(rename = "zh-CN")]
    ZhCn,
    /// English.
    #[serde(rename = "en")]
    En,
}

impl Language {
    /// The key of this language in the template file.
    fn template_key(self) -> &'static str {
        match self {
            Language::ZhCn => "zh-CN",
            Language::En => "en",
        }
    }
}

/// Remedies open to the customer after a decision, named in the decision notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Remedy {
    /// Review (核查) by the institution.
    Review,
    /// Mediation.
    Mediation,
    /// Arbitration.
    Arbitration,
    /// Litigation.
    Litigation,
}

impl Remedy {
    /// Every remedy.
    pub const ALL: [Remedy; 4] = [Remedy::Review, Remedy::Mediation, Remedy::Arbitration, Remedy::Litigation];
}

/// The facts about a complaint that customer messages tell: what a template can fill in.
///
/// The complaint record builds this (`Complaint::message_facts`), so templates depend on these
/// few facts rather than on the whole record.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageFacts<'a> {
    /// The complainant's name, for the greeting.
    pub complainant_name: &'a str,
    /// The language the complainant reads.
    pub language: Language,
    /// Where to send it: e-mail, phone (SMS), or none known.
    pub recipient: Option<&'a str>,
    /// The complaint number.
    pub number: &'a str,
    /// When the complaint was received.
    pub received_at: Timestamp,
    /// The decision deadline shown to the customer, if known.
    pub deadline: Option<Timestamp>,
    /// The proposed resolution, once there is one.
    pub resolution: Option<ResolutionFacts<'a>>,
    /// The decision, once made.
    pub decision: Option<DecisionFacts<'a>>,
}

/// The resolution as a message tells it.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolutionFacts<'a> {
    /// What is done and why.
    pub summary: &'a str,
    /// Money paid, refunded or waived.
    pub amount: Option<&'a Money>,
}

/// The decision as the notice tells it.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionFacts<'a> {
    /// How the facts were verified.
    pub verification: &'a str,
    /// The basis (rules, contract terms).
    pub basis: &'a str,
    /// The reasons.
    pub reasons: &'a str,
    /// The remedies open to the customer.
    pub remedies: &'a [Remedy],
}

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
            for lang in [Language::ZhCn, Language::En].map(Language::template_key) {
                if !t.subject.contains_key(lang) || !t.body.contains_key(lang) {
                    return Err(TemplateError::Missing(format!("[{}] lacks the {lang} subject or body", kind.as_str())));
                }
            }
        }
        Ok(Templates { by_kind: raw })
    }

    /// Renders a message from a complaint's facts in the complainant's language, dates shown in
    /// `time_zone` (the rule profile's).
    pub fn render(&self, kind: MessageKind, facts: &MessageFacts<'_>, now: Timestamp, time_zone: &jiff::tz::TimeZone) -> OutgoingMessage {
        let language = facts.language;
        let lang = language.template_key();
        let zh = language == Language::ZhCn;
        let fmt_time = |t: Option<Timestamp>| match t {
            Some(t) => {
                // Deadlines end at the first instant of the next day; show the due day itself.
                let z = t.checked_sub(jiff::SignedDuration::from_secs(1)).unwrap_or(t).to_zoned(time_zone.clone());
                if zh { z.strftime("%Y年%m月%d日").to_string() } else { z.strftime("%-d %B %Y").to_string() }
            }
            None => if zh { "（待定）".into() } else { "(to be confirmed)".into() },
        };
        let remedies = facts.decision.as_ref().map(|d| {
            d.remedies.iter().map(|r| remedy_name(*r, zh)).collect::<Vec<_>>().join(if zh { "、" } else { ", " })
        });
        let resolution = facts.resolution.as_ref().map(|r| match r.amount {
            Some(m) => format!("{} ({m})", r.summary),
            None => r.summary.to_string(),
        });
        let decision = facts.decision.as_ref();
        let decision_part = |part: fn(&DecisionFacts<'_>) -> String| decision.map(part).unwrap_or_default();
        let vars: [(&str, String); 9] = [
            ("name", facts.complainant_name.to_string()),
            ("number", facts.number.to_string()),
            ("received", fmt_time(Some(facts.received_at))),
            ("deadline", fmt_time(facts.deadline)),
            ("resolution", resolution.unwrap_or_default()),
            ("verification", decision_part(|d| d.verification.to_string())),
            ("basis", decision_part(|d| d.basis.to_string())),
            ("reasons", decision_part(|d| d.reasons.to_string())),
            ("remedies", remedies.unwrap_or_default()),
        ];
        let t = &self.by_kind[&kind];
        let fill = |template: &str| fill_placeholders(template.trim_start_matches('\n'), &vars);
        let recipient = facts.recipient.map(str::to_string);
        OutgoingMessage { kind, language, recipient, subject: fill(&t.subject[lang]), body: fill(&t.body[lang]), created_at: now }
    }
}

/// Replaces each `{name}` of `template` with its value in one pass, so a value that itself
/// contains `{…}` (a name or reason typed by a person) is copied as written, never expanded.
/// Unknown placeholders stay as they are.
fn fill_placeholders(template: &str, vars: &[(&str, String)]) -> String {
    fill_with(template, |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone()))
}

/// Replaces each `{name}` of `template` for which `value` has text, in one pass (a value
/// holding braces is never expanded again); other `{…}` stay as they are.
pub fn fill_with(template: &str, mut value: impl FnMut(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}').and_then(|close| value(&after[..close]).map(|v| (close, v))) {
            Some((close, v)) => {
                out.push_str(&v);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_once_and_unknown_ones_kept() {
        let vars = [("name", "{number}".to_string()), ("number", "TS-1".to_string())];
        assert_eq!(fill_placeholders("{name} / {number} / {other} / {", &vars), "{number} / TS-1 / {other} / {");
        assert_eq!(fill_placeholders("no braces", &vars), "no braces");
        assert_eq!(fill_placeholders("{{name}}", &vars), "{{number}}");
    }

    #[test]
    fn every_template_renders_in_both_languages_from_facts_alone() {
        let templates = Templates::builtin();
        let amount = Money::parse("amount", "200", "CNY").unwrap();
        let remedies = [Remedy::Review, Remedy::Litigation];
        for language in [Language::ZhCn, Language::En] {
            let facts = MessageFacts {
                complainant_name: "Li Si",
                language,
                recipient: Some("li@example.cn"),
                number: "TS-20250303-000001",
                received_at: "2025-03-03T02:00:00Z".parse().unwrap(),
                deadline: Some("2025-03-19T16:00:00Z".parse().unwrap()),
                resolution: Some(ResolutionFacts { summary: "refund of the annual fee", amount: Some(&amount) }),
                decision: Some(DecisionFacts { verification: "call recording", basis: "card terms", reasons: "fee charged twice", remedies: &remedies }),
            };
            for kind in [MessageKind::Acknowledgement, MessageKind::Extension, MessageKind::Decision, MessageKind::FollowUp] {
                let m = templates.render(kind, &facts, facts.received_at, &jiff::tz::TimeZone::UTC);
                assert!(m.body.contains("Li Si"), "{kind:?} {language:?}: {}", m.body);
                assert!(!m.subject.contains('{') && !m.body.contains('{'), "{kind:?} {language:?}: every placeholder is filled");
                assert_eq!(m.recipient.as_deref(), Some("li@example.cn"));
            }
        }
    }
}
