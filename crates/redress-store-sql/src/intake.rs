//! Registering complaints: what a registration needs to know from the tables (an earlier
//! request with the same idempotency key or external reference, an open complaint it repeats,
//! the handlers it may go to) and the decisions made with that.
//!
//! Both engines decide alike, and both read for a whole batch at once: SQLite for a group
//! commit of its writer, PostgreSQL for a batch of one of its registration writers (or for one
//! registration run again in a transaction of its own).

use std::collections::HashMap;

use redress_domain::complaint::{Complaint, ComplaintRef, RegistrationContext, UserRef};
use redress_store::columns::{ComplaintColumns, complaint_id, decode_complaint};
use redress_store::stats::Cell;
use redress_store::{Registration, StoreError, StoreResult};
use sqlx::QueryBuilder;

use crate::records::{ComplaintRow, IdempotencyRow, OutcomeRows, TrackingCodeRow};
use crate::stats::IdentityRow;
use crate::{Builder, Connection, Db, Engine, ROWS_PER_STATEMENT, VALUES_PER_LIST, fetch_all, get, get_text};

/// What registrations know of the complaints before them, read for one registration or a
/// batch, and kept up to date as the batch registers.
#[derive(Default)]
pub struct Intake {
    /// Idempotency keys seen, by user and key: the request hash and the complaint.
    keys: HashMap<(String, String), (String, Earlier)>,
    /// External references seen.
    external_refs: HashMap<String, Earlier>,
    /// Open complaints by duplicate key, oldest first.
    open_by_duplicate_key: HashMap<String, Vec<OpenComplaint>>,
    /// Active handlers by department, with their loads as this batch sees them.
    handlers: HashMap<String, Vec<HandlerSlot>>,
    /// How each handler's open-complaint count changes.
    load_changes: HashMap<String, i64>,
    /// The complaints registered so far.
    created: Vec<Complaint>,
}

/// The complaint an earlier request registered.
enum Earlier {
    /// Stored before: its document (`None` if the complaint is gone).
    Stored(Option<String>),
    /// Registered earlier in this batch: its position in `Intake::created`.
    Created(usize),
}

struct OpenComplaint {
    complaint: ComplaintRef,
    department: String,
}

/// An active handler and their open-complaint count.
struct HandlerSlot {
    id: String,
    name: String,
    load: i64,
}

/// A new complaint and the rows to store for it.
pub struct NewRecord {
    /// The complaint.
    pub complaint: Complaint,
    /// Its row.
    pub row: ComplaintRow,
    /// Its events, acknowledgement and notifications.
    pub outcome: OutcomeRows,
    /// Its idempotency key, if the request had one.
    pub idempotency: Option<IdempotencyRow>,
    /// Its tracking code, if the registration came with one.
    pub tracking_code: Option<TrackingCodeRow>,
    /// Its statistics cells ([`Registration::stats`]), to add with it.
    pub cells: Vec<Cell>,
    /// Its complainant's identity keys.
    pub identity: Vec<IdentityRow>,
}

impl Intake {
    /// Reads, in a few statements for all of them, what `registrations` need to know: earlier
    /// idempotency keys and external references, open complaints with the same duplicate
    /// keys, and the active handlers of their departments with their loads.
    pub async fn read<E: Engine>(conn: &mut Connection<E>, registrations: &[&Registration]) -> StoreResult<Intake> {
        let mut intake = Intake::default();
        let keys: Vec<_> = registrations.iter().filter_map(|r| r.idempotency.as_ref()).collect();
        for chunk in keys.chunks(ROWS_PER_STATEMENT) {
            let mut q = QueryBuilder::<Db<E>>::new(
                "SELECT k.user_id, k.key, k.request_hash, c.body FROM idempotency_keys k LEFT JOIN complaints c ON c.id = k.complaint_id \
                 WHERE (k.user_id, k.key) IN (VALUES ",
            );
            for (i, k) in chunk.iter().enumerate() {
                q.push(if i == 0 { "(" } else { ", (" }).bind(&k.user_id).push(", ").bind(&k.key).push(")");
            }
            q.push(")");
            for r in fetch_all(conn, &mut q).await? {
                intake.keys.insert((get(&r, 0)?, get(&r, 1)?), (get(&r, 2)?, Earlier::Stored(get(&r, 3)?)));
            }
        }
        let refs: Vec<String> = registrations.iter().filter_map(|r| r.external_ref.clone()).collect();
        for chunk in refs.chunks(VALUES_PER_LIST) {
            let mut q = QueryBuilder::<Db<E>>::new("SELECT external_ref, body FROM complaints WHERE external_ref");
            E::push_in(&mut q, chunk);
            for r in fetch_all(conn, &mut q).await? {
                intake.external_refs.insert(get(&r, 0)?, Earlier::Stored(Some(get(&r, 1)?)));
            }
        }
        let duplicate_keys: Vec<String> = registrations.iter().filter_map(|r| r.duplicate_key.clone()).collect();
        for chunk in duplicate_keys.chunks(VALUES_PER_LIST) {
            // The partial index's own condition, repeated so that both engines use it.
            let mut q = QueryBuilder::<Db<E>>::new(format!(
                "SELECT duplicate_key, id, number, department FROM complaints WHERE duplicate_key IS NOT NULL AND being_handled = {} AND duplicate_key",
                E::TRUE
            ));
            E::push_in(&mut q, chunk);
            q.push(" ORDER BY received_at, id");
            for r in fetch_all(conn, &mut q).await? {
                let open = OpenComplaint { complaint: ComplaintRef { id: complaint_id(get_text(&r, 1)?)?, number: get(&r, 2)? }, department: get(&r, 3)? };
                intake.open_by_duplicate_key.entry(get(&r, 0)?).or_default().push(open);
            }
        }
        let mut departments: Vec<String> = registrations.iter().map(|r| r.department.clone()).collect();
        departments.sort();
        departments.dedup();
        for chunk in departments.chunks(VALUES_PER_LIST) {
            let mut q = QueryBuilder::<Db<E>>::new(format!(
                "SELECT id, name, department, open_load FROM users WHERE role = 'handler' AND active = {} AND department",
                E::TRUE
            ));
            E::push_in(&mut q, chunk);
            for r in fetch_all(conn, &mut q).await? {
                let slot = HandlerSlot { id: get(&r, 0)?, name: get(&r, 1)?, load: get(&r, 3)? };
                intake.handlers.entry(get(&r, 2)?).or_default().push(slot);
            }
        }
        Ok(intake)
    }

    /// The complaint an earlier request with the same idempotency key or external reference
    /// registered, if any; [`StoreError::IdempotencyMismatch`] if the key came with another
    /// request.
    pub fn replay(&self, reg: &Registration) -> StoreResult<Option<Complaint>> {
        if let Some(k) = &reg.idempotency
            && let Some((hash, earlier)) = self.keys.get(&(k.user_id.clone(), k.key.clone()))
        {
            if *hash != k.request_hash {
                return Err(StoreError::IdempotencyMismatch);
            }
            return self.complaint_of(earlier).map(Some);
        }
        if let Some(ext) = &reg.external_ref
            && let Some(earlier) = self.external_refs.get(ext)
        {
            return self.complaint_of(earlier).map(Some);
        }
        Ok(None)
    }

    fn complaint_of(&self, earlier: &Earlier) -> StoreResult<Complaint> {
        match earlier {
            Earlier::Stored(Some(body)) => decode_complaint(body),
            Earlier::Stored(None) => Err(StoreError::NotFound),
            Earlier::Created(index) => self.created.get(*index).cloned().ok_or(StoreError::NotFound),
        }
    }

    /// Builds a new complaint numbered `serial`: linked to the newest open complaint it
    /// repeats (among the departments the registration may see), assigned to the least-loaded
    /// active handler of its department, with its statistics cells and identity keys. Later
    /// registrations see it as if it were stored.
    pub fn record(&mut self, reg: &Registration, serial: u64) -> StoreResult<NewRecord> {
        let duplicate_of = self.duplicate_of(reg);
        let handler = self.least_loaded(&reg.department);
        let ctx = RegistrationContext { id: reg.id, serial, handler: handler.clone(), duplicate_of };
        let (complaint, outcome) = (reg.build)(ctx);
        let columns = ComplaintColumns::of(&complaint)?;
        let mut rows = OutcomeRows::default();
        rows.push(&columns.id, 0, &outcome, columns.updated_at)?;

        // A complaint merged on arrival is not open: it does not count against the handler.
        if let Some(h) = &handler
            && columns.is_open
            && columns.handler_id.as_deref() == Some(h.id.as_str())
        {
            self.count_against(&reg.department, &h.id);
        }
        let index = self.created.len();
        let idempotency = reg.idempotency.as_ref().map(|k| {
            self.keys.insert((k.user_id.clone(), k.key.clone()), (k.request_hash.clone(), Earlier::Created(index)));
            IdempotencyRow { user_id: k.user_id.clone(), key: k.key.clone(), request_hash: k.request_hash.clone(), complaint_id: columns.id.clone(), created_at: columns.updated_at }
        });
        if let Some(ext) = &columns.external_ref {
            self.external_refs.insert(ext.clone(), Earlier::Created(index));
        }
        if let Some(key) = &reg.duplicate_key
            && columns.being_handled
        {
            let open = OpenComplaint { complaint: ComplaintRef { id: complaint.id, number: complaint.number.clone() }, department: columns.department.clone() };
            self.open_by_duplicate_key.entry(key.clone()).or_default().push(open);
        }
        self.created.push(complaint.clone());
        let tracking_code = reg.tracking_code_hash.as_ref().map(|code_hash| TrackingCodeRow { complaint_id: columns.id.clone(), code_hash: code_hash.clone() });
        let cells = (reg.stats)(&complaint);
        let identity = IdentityRow::of(&complaint);
        Ok(NewRecord {
            complaint,
            row: ComplaintRow { columns, duplicate_key: reg.duplicate_key.clone() },
            outcome: rows,
            idempotency,
            tracking_code,
            cells,
            identity,
        })
    }

    /// The handlers whose open-complaint count changed, with the change, by id (the order in
    /// which to update their rows).
    pub fn load_changes(&self) -> Vec<(&str, i64)> {
        let mut changes: Vec<_> = self.load_changes.iter().filter(|(_, delta)| **delta != 0).map(|(id, delta)| (id.as_str(), *delta)).collect();
        changes.sort_unstable();
        changes
    }

    /// The newest open complaint with the registration's duplicate key, owned by one of the
    /// departments it may look in.
    fn duplicate_of(&self, reg: &Registration) -> Option<ComplaintRef> {
        let open = self.open_by_duplicate_key.get(reg.duplicate_key.as_ref()?)?;
        open.iter()
            .rev()
            .find(|o| reg.duplicate_departments.as_ref().is_none_or(|allowed| allowed.contains(&o.department)))
            .map(|o| o.complaint.clone())
    }

    /// The least-loaded active handler of a department (ties: the smallest id).
    fn least_loaded(&self, department: &str) -> Option<UserRef> {
        let slot = self.handlers.get(department)?.iter().min_by(|a, b| (a.load, &a.id).cmp(&(b.load, &b.id)))?;
        Some(UserRef { id: slot.id.clone(), name: slot.name.clone() })
    }

    fn count_against(&mut self, department: &str, handler: &str) {
        if let Some(slot) = self.handlers.get_mut(department).and_then(|hs| hs.iter_mut().find(|h| h.id == handler)) {
            slot.load += 1;
        }
        *self.load_changes.entry(handler.to_string()).or_default() += 1;
    }
}
