//! Reading an e-mail as received into what the intake needs ([`IncomingMail`]): sender,
//! subject, text, attachments, what it answers, and what kind of message it is. mail-parser
//! does the MIME work with every charset (GBK, GB2312, GB18030, Big5 included) and turns HTML
//! into text, leaving out styles and scripts.

use mail_parser::{HeaderValue, MessageParser, MimeHeaders};
use redress_app::mail_intake::{IncomingMail, MailKind};
use sha2::{Digest, Sha256};

use crate::smtp::LOOP_HEADER;

/// Reads a message. Whatever the bytes, the answer keeps them; a message that cannot be read
/// is [`MailKind::Unreadable`] with the reason.
pub fn read_mail(raw: Vec<u8>) -> IncomingMail {
    let key = hex::encode(Sha256::digest(&raw));
    let unreadable = |raw: Vec<u8>, key: String, reason: &str| IncomingMail {
        key,
        raw,
        kind: MailKind::Unreadable { reason: reason.to_string() },
        message_id: None,
        from_address: None,
        from_name: None,
        subject: String::new(),
        body: String::new(),
        answers: Vec::new(),
        attachments: Vec::new(),
        date: None,
    };
    let Some(message) = MessageParser::default().parse(&raw) else {
        return unreadable(raw, key, "not an e-mail message");
    };
    if message.headers().is_empty() {
        return unreadable(raw, key, "no headers");
    }
    let from = message.from().and_then(|a| a.first());
    let from_address = from.and_then(|a| a.address()).map(|a| a.trim().to_string()).filter(|a| a.contains('@'));
    let from_name = from.and_then(|a| a.name()).map(|n| clean(n, false)).filter(|n| !n.is_empty());
    let subject = clean(message.subject().unwrap_or_default(), false);
    let body = (0..message.text_body_count()).filter_map(|i| message.body_text(i)).map(|t| clean(&t, true)).collect::<Vec<_>>().join("\n\n");
    let mut answers = ids(message.in_reply_to());
    answers.extend(ids(message.references()));
    let attachments = message
        .attachments()
        .filter(|p| !p.is_message())
        .enumerate()
        .map(|(i, p)| (p.attachment_name().map(str::to_string).unwrap_or_else(|| format!("attachment-{}", i + 1)), p.contents().to_vec()))
        .collect();
    let header = |name: &str| message.header_raw(name).map(|v| v.trim().to_ascii_lowercase());
    let kind = if let Some(bounce) = bounce(&message) {
        bounce
    } else if header(LOOP_HEADER).is_some() {
        MailKind::Loop
    } else if header("Auto-Submitted").is_some_and(|v| v != "no")
        || header("X-Autoreply").is_some()
        || header("X-Autorespond").is_some()
        || header("Precedence").is_some_and(|v| v == "auto_reply")
    {
        MailKind::AutoReply
    } else if header("List-Id").is_some() || header("Precedence").is_some_and(|v| matches!(v.as_str(), "bulk" | "list" | "junk")) {
        MailKind::Bulk
    } else if from_address.is_none() {
        MailKind::Unreadable { reason: "no sender address".into() }
    } else {
        MailKind::Personal
    };
    let message_id = message.message_id().map(str::to_string);
    let date = message.date().and_then(|d| jiff::Timestamp::from_second(d.to_timestamp()).ok());
    IncomingMail { key, kind, message_id, from_address, from_name, subject, body, answers, attachments, date, raw }
}

/// Text as a person would read it: line ends as `\n` (kept only in a body), tabs kept, every
/// other control character (a NUL in a broken message, a stray escape) dropped.
fn clean(text: &str, multiline: bool) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let kept: String = text
        .chars()
        .map(|c| if c == '\n' && !multiline { ' ' } else { c })
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect();
    kept.trim().to_string()
}

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(t) => vec![t.trim_matches(['<', '>', ' ']).to_string()],
        HeaderValue::TextList(list) => list.iter().map(|t| t.trim_matches(['<', '>', ' ']).to_string()).collect(),
        _ => Vec::new(),
    }
}

/// A delivery status notification (RFC 3464): the failed recipient, the status, and the
/// `Message-ID` of the message that failed, from the returned message or its headers.
fn bounce(message: &mail_parser::Message<'_>) -> Option<MailKind> {
    let report = message.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart") && ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("report")) && ct.attribute("report-type").is_some_and(|t| t.eq_ignore_ascii_case("delivery-status"))
    });
    if !report {
        return None;
    }
    let mut recipient = None;
    let mut status = Vec::new();
    let mut original = None;
    for part in message.parts.iter() {
        let is = |t: &str, s: &str| part.content_type().is_some_and(|ct| ct.ctype().eq_ignore_ascii_case(t) && ct.subtype().is_some_and(|x| x.eq_ignore_ascii_case(s)));
        if is("message", "delivery-status") {
            let text = String::from_utf8_lossy(part.contents()).into_owned();
            for line in text.lines() {
                let Some((name, value)) = line.split_once(':') else { continue };
                let value = value.trim();
                match name.trim().to_ascii_lowercase().as_str() {
                    "final-recipient" | "original-recipient" if recipient.is_none() => recipient = Some(value.rsplit(';').next().unwrap_or(value).trim().to_string()),
                    "action" | "status" | "diagnostic-code" => status.push(format!("{}: {value}", name.trim())),
                    _ => {}
                }
            }
        } else if let Some(inner) = part.message() {
            original = original.or_else(|| inner.message_id().map(str::to_string));
        } else if is("text", "rfc822-headers") || is("message", "rfc822-headers") {
            original = original.or_else(|| {
                let text = String::from_utf8_lossy(part.contents()).into_owned();
                MessageParser::default().parse_headers(text.as_bytes()).and_then(|m| m.message_id().map(str::to_string))
            });
        }
    }
    Some(MailKind::Bounce { original_message_id: original, recipient, status: status.join("; ") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_message_is_read_and_keyed_by_its_bytes() {
        let raw = b"From: =?UTF-8?B?5byg5LiJ?= <zhang@example.cn>\r\nSubject: =?UTF-8?B?5oqV6K+J?=\r\nMessage-ID: <a@b>\r\nIn-Reply-To: <redress-x@bank>\r\n\r\nhello\r\n".to_vec();
        let m = read_mail(raw.clone());
        assert_eq!(m.kind, MailKind::Personal);
        assert_eq!(m.from_name.as_deref(), Some("张三"));
        assert_eq!(m.subject, "投诉");
        assert_eq!(m.answers, ["redress-x@bank"]);
        assert_eq!(m.key, hex::encode(Sha256::digest(&raw)));
    }

    #[test]
    fn bytes_that_are_no_message_are_kept_as_unreadable() {
        let m = read_mail(Vec::new());
        assert!(matches!(m.kind, MailKind::Unreadable { .. }));
    }
}
