//! What the web front end keeps in the store: sign-in sessions, account changes, the handler's
//! work queue ordered by deadline.

use jiff::Timestamp;
use redress_domain::complaint::ComplaintId;
use redress_domain::org::Role;

use crate::{ComplaintFilter, ComplaintSummary, User};

/// A sign-in session to store. The session id itself never reaches the store, only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// Hash of the session id (the cookie's value), hex.
    pub id_hash: String,
    /// The user signed in.
    pub user_id: String,
    /// The token forms must send back (double-submit protection against cross-site requests).
    pub csrf_token: String,
    /// When the user signed in.
    pub created_at: Timestamp,
    /// When the session ends.
    pub expires_at: Timestamp,
    /// Where the sign-in came from, for the user's own list of sessions and audits.
    pub address: Option<String>,
}

/// A live session with the user it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    /// Hash of the session id.
    pub id_hash: String,
    /// The user, as stored now (an account change shows at the next request).
    pub user: User,
    /// The session's anti-forgery token.
    pub csrf_token: String,
    /// When the user signed in.
    pub created_at: Timestamp,
    /// When the session ends.
    pub expires_at: Timestamp,
}

/// Changes to an account; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserUpdate {
    /// New role.
    pub role: Option<Role>,
    /// New department (`Some(None)` removes it).
    pub department: Option<Option<String>>,
    /// Whether the account may act and receive work.
    pub active: Option<bool>,
    /// Preferred language of the interface (`Some(None)` removes it).
    pub language: Option<Option<String>>,
}

/// A handler's work queue ("My work"): the open complaints assigned to them, and, with a
/// department, the open complaints of that department that nobody is assigned to; soonest
/// deadline first.
#[derive(Debug, Clone)]
pub struct WorkQueue {
    /// The handler.
    pub handler_id: String,
    /// Their department, whose unassigned complaints they may pick up; `None`: only the
    /// complaints assigned to them.
    pub department: Option<String>,
    /// Further conditions, all of which must hold; its `after` and `limit` are ignored.
    pub filter: ComplaintFilter,
    /// Continue after this position.
    pub after: Option<WorkCursor>,
    /// Page size (1–200).
    pub limit: u32,
}

/// A position in a work queue, which is ordered by watched deadline (none last), then id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkCursor {
    /// The watched deadline (microseconds since the epoch) of the last row seen.
    pub watch_at: Option<i64>,
    /// Id of the last row seen.
    pub id: ComplaintId,
}

/// How [`WorkCursor::encode`] writes a complaint without a watched deadline.
const NO_DEADLINE: &str = "none";

impl WorkCursor {
    /// Opaque text form for the API.
    pub fn encode(&self) -> String {
        match self.watch_at {
            Some(micros) => format!("{micros}_{}", self.id),
            None => format!("{NO_DEADLINE}_{}", self.id),
        }
    }

    /// Parses the text form.
    pub fn decode(text: &str) -> Option<WorkCursor> {
        let (at, id) = text.split_once('_')?;
        let watch_at = if at == NO_DEADLINE { None } else { Some(at.parse().ok()?) };
        Some(WorkCursor { watch_at, id: ComplaintId::parse(id)? })
    }
}

/// Counts over a whole work queue (every page, with its filter).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DueCounts {
    /// Complaints in the queue.
    pub total: u64,
    /// Of which due soon.
    pub due_soon: u64,
    /// Of which overdue.
    pub overdue: u64,
}

/// A page of a work queue.
#[derive(Debug, Clone)]
pub struct WorkPage {
    /// Rows, soonest deadline first.
    pub items: Vec<ComplaintSummary>,
    /// Cursor for the next page, if there may be one.
    pub next: Option<WorkCursor>,
    /// Counts over the whole queue.
    pub counts: DueCounts,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_cursors_round_trip() {
        let id = ComplaintId::generate(Timestamp::UNIX_EPOCH);
        for watch_at in [Some(1_737_338_400_000_000), Some(-5), Some(0), None] {
            let cursor = WorkCursor { watch_at, id };
            assert_eq!(WorkCursor::decode(&cursor.encode()), Some(cursor));
        }
        assert_eq!(WorkCursor::decode("soon_x"), None);
        assert_eq!(WorkCursor::decode(&id.to_string()), None);
    }
}
