//! The indexed columns both engines keep beside each complaint's JSON document.
//!
//! A complaint is stored as one JSON document (the whole record) plus the columns that lists,
//! the scheduler and duplicate detection query. Deriving the columns in one place keeps the two
//! engines' rows identical.

use redress_domain::complaint::{Complaint, ComplaintId, Event};
use redress_domain::lifecycle::Status;

use crate::{StoreError, StoreResult};

/// Column values of one complaint row.
#[derive(Debug, Clone)]
pub struct ComplaintColumns {
    /// `id`
    pub id: String,
    /// `number`
    pub number: String,
    /// `status`
    pub status: &'static str,
    /// `is_open`
    pub is_open: bool,
    /// `being_handled`
    pub being_handled: bool,
    /// `awaiting_approval`: a proposed resolution waits for a second person (status
    /// `awaiting_approval`) or an extension request waits for its decision (in any status)
    pub awaiting_approval: bool,
    /// `channel`
    pub channel: &'static str,
    /// `received_at`, microseconds since the epoch
    pub received_at: i64,
    /// `department`
    pub department: String,
    /// `handler_id`
    pub handler_id: Option<String>,
    /// `business_type`
    pub business_type: Option<String>,
    /// `cause`
    pub cause: Option<String>,
    /// `severity`
    pub severity: String,
    /// `due_state`
    pub due_state: String,
    /// `watch_at`: the deadline the scheduler watches, microseconds
    pub watch_at: Option<i64>,
    /// `external_ref`
    pub external_ref: Option<String>,
    /// `version`
    pub version: i64,
    /// `updated_at`, microseconds
    pub updated_at: i64,
    /// `body`: the record as JSON
    pub body: String,
}

fn wire<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

impl ComplaintColumns {
    /// Derives the columns of a complaint.
    pub fn of(c: &Complaint) -> StoreResult<Self> {
        Ok(ComplaintColumns {
            id: c.id.to_string(),
            number: c.number.clone(),
            status: c.status.as_str(),
            is_open: c.status.is_open(),
            being_handled: c.status.is_being_handled(),
            awaiting_approval: c.status == Status::AwaitingApproval || c.clock.pending_extension.is_some(),
            channel: c.channel.as_str(),
            received_at: c.received_at.as_microsecond(),
            department: c.owner.department.clone(),
            handler_id: c.owner.handler.as_ref().map(|h| h.id.clone()),
            business_type: c.classification.business_type.as_ref().map(|l| l.code.clone()),
            cause: c.classification.cause.as_ref().map(|l| l.code.clone()),
            severity: wire(&c.classification.severity),
            due_state: wire(&c.due_state),
            watch_at: c.watched_deadline().map(|t| t.as_microsecond()),
            external_ref: c.external_ref.clone(),
            version: i64::from(c.version),
            updated_at: c.updated_at.as_microsecond(),
            body: serde_json::to_string(c).map_err(|e| StoreError::corrupt("complaint document", e))?,
        })
    }
}

/// Decodes a stored complaint document.
pub fn decode_complaint(body: &str) -> StoreResult<Complaint> {
    serde_json::from_str(body).map_err(|e| StoreError::corrupt("complaint document", e))
}

/// Encodes an event document.
pub fn encode_event(e: &Event) -> StoreResult<String> {
    serde_json::to_string(e).map_err(|e| StoreError::corrupt("event document", e))
}

/// Decodes an event document.
pub fn decode_event(body: &str) -> StoreResult<Event> {
    serde_json::from_str(body).map_err(|e| StoreError::corrupt("event document", e))
}

/// Encodes any document.
pub fn encode<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::corrupt(std::any::type_name::<T>(), e))
}

/// Decodes any document.
pub fn decode<T: serde::de::DeserializeOwned>(what: &str, body: &str) -> StoreResult<T> {
    serde_json::from_str(body).map_err(|e| StoreError::corrupt(format!("{what} document"), e))
}

/// Microseconds to a timestamp.
pub fn micros(v: i64) -> StoreResult<jiff::Timestamp> {
    jiff::Timestamp::from_microsecond(v).map_err(|e| StoreError::corrupt(format!("timestamp {v}"), e))
}

/// Parses a stored complaint id.
pub fn complaint_id(text: &str) -> StoreResult<ComplaintId> {
    ComplaintId::parse(text).ok_or_else(|| StoreError::corrupt("complaint id", format!("'{text}' is not a complaint id")))
}

/// The wire names of a set of statuses, for `IN (…)` lists.
pub fn status_names(statuses: &[Status]) -> Vec<&'static str> {
    statuses.iter().map(|s| s.as_str()).collect()
}

/// The keys under which a complainant is found again: the SHA-256 (hex) of each of their
/// identity document number, telephone (digits only, a leading `+86`/`86` country code
/// dropped) and e-mail address (lower case), each tagged with its kind. A person is the same
/// when any key matches. Only hashes are stored, so the index holds no contact details.
pub fn identity_keys(complaint: &Complaint) -> Vec<String> {
    identity_keys_of(&complaint.complainant)
}

/// [`identity_keys`] of a complainant.
pub fn identity_keys_of(p: &redress_domain::complaint::Complainant) -> Vec<String> {
    let mut plain = Vec::new();
    if let Some(id) = &p.id_number {
        plain.push(format!("id:{}", id.as_str().to_uppercase()));
    }
    plain.extend(p.phone.as_ref().and_then(phone_plain_key));
    if let Some(email) = &p.email {
        plain.push(format!("email:{}", email.as_str().trim().to_lowercase()));
    }
    plain.iter().map(|k| hash_key(k)).collect()
}

/// The identity key of a telephone number alone (one of [`identity_keys_of`]), for finding the
/// complaints of a caller known only by number.
pub fn phone_identity_key(phone: &redress_domain::fields::Phone) -> Option<String> {
    phone_plain_key(phone).map(|k| hash_key(&k))
}

fn phone_plain_key(phone: &redress_domain::fields::Phone) -> Option<String> {
    let digits: String = phone.as_str().chars().filter(char::is_ascii_digit).collect();
    let national = if digits.len() == 13 && digits.starts_with("86") { &digits[2..] } else { digits.as_str() };
    (!national.is_empty()).then(|| format!("phone:{national}"))
}

fn hash_key(plain: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(plain.as_bytes()))
}
