//! Registering and saving inside the writer's batch transaction.

use redress_store::stats::Cell;
use redress_store::{AttachmentContent, Change, Registered, Registration, StoreError, StoreResult};
use redress_store_sql::intake::Intake;
use redress_store_sql::records::{self, ComplaintRow, IdempotencyRow, OutcomeRows, TrackingCodeRow};
use redress_store_sql::stats::{self, IdentityRow};
use redress_store_sql::{Builder, ROWS_PER_STATEMENT, execute, fetch_optional, get};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use crate::engine::SqliteEngine;
use crate::text::{self, TextRows};

/// A batch's registrations as they go: what they know of the tables, and their rows, inserted
/// together with a few multi-row statements when the batch ends. The files registrations bring
/// are borrowed from them until then.
pub struct Pending<'a> {
    intake: Intake,
    /// The complaint-number counter: as read, and the last number handed out.
    serial: Option<(i64, i64)>,
    complaints: Vec<ComplaintRow>,
    outcomes: OutcomeRows,
    idempotency: Vec<IdempotencyRow>,
    tracking_codes: Vec<TrackingCodeRow>,
    attachments: Vec<&'a AttachmentContent>,
    text: TextRows,
    /// The new complaints' statistics cells, summed by key when the batch ends.
    cells: Vec<Cell>,
    /// Their complainants' identity keys.
    identity: Vec<IdentityRow>,
}

impl<'a> Pending<'a> {
    /// Reads, in a few statements for the whole batch, what its registrations need to know
    /// from the tables.
    pub async fn prefetch(conn: &mut SqliteConnection, registrations: &[&Registration]) -> StoreResult<Pending<'a>> {
        Ok(Pending {
            intake: Intake::read::<SqliteEngine>(conn, registrations).await?,
            serial: None,
            complaints: Vec::new(),
            outcomes: OutcomeRows::default(),
            idempotency: Vec::new(),
            tracking_codes: Vec::new(),
            attachments: Vec::new(),
            text: TextRows::default(),
            cells: Vec::new(),
            identity: Vec::new(),
        })
    }

    async fn next_serial(&mut self, conn: &mut SqliteConnection) -> StoreResult<u64> {
        let (_, next) = match &mut self.serial {
            Some(serial) => serial,
            None => {
                let mut q = QueryBuilder::<Sqlite>::new("SELECT value FROM serials WHERE name = 'complaint'");
                let row = fetch_optional(conn, &mut q).await?.ok_or_else(|| StoreError::corrupt("complaint serial", "the counter row is missing"))?;
                let value: i64 = get(&row, 0)?;
                self.serial.insert((value, value))
            }
        };
        *next += 1;
        u64::try_from(*next).map_err(|e| StoreError::corrupt("complaint serial", e))
    }

    /// Inserts every pending row (the registrations' files first), adds the statistics cells
    /// of the whole batch (summed by key), updates the handlers' loads and records the last
    /// number handed out.
    pub async fn flush(self, conn: &mut SqliteConnection) -> StoreResult<()> {
        records::insert_attachments::<SqliteEngine>(conn, &self.attachments).await?;
        records::insert_complaints::<SqliteEngine>(conn, &self.complaints).await?;
        self.text.insert(conn).await?;
        self.outcomes.insert::<SqliteEngine>(conn).await?;
        records::insert_idempotency_keys::<SqliteEngine>(conn, &self.idempotency).await?;
        records::insert_tracking_codes::<SqliteEngine>(conn, &self.tracking_codes).await?;
        stats::insert_identity::<SqliteEngine>(conn, &self.identity).await?;
        stats::add_cells::<SqliteEngine>(conn, self.cells).await?;
        // Every handler whose load changed, in one statement.
        let changes = self.intake.load_changes();
        for chunk in changes.chunks(ROWS_PER_STATEMENT) {
            let mut q = QueryBuilder::<Sqlite>::new("WITH change (id, delta) AS (VALUES ");
            for (i, (id, delta)) in chunk.iter().enumerate() {
                q.push(if i == 0 { "(" } else { ", (" }).bind(*id).push(", ").bind(*delta).push(")");
            }
            q.push(
                ") UPDATE users SET open_load = MAX(open_load + (SELECT delta FROM change WHERE change.id = users.id), 0) \
                 WHERE id IN (SELECT id FROM change)",
            );
            execute(conn, &mut q).await?;
        }
        if let Some((loaded, next)) = self.serial
            && loaded != next
        {
            let mut q = QueryBuilder::<Sqlite>::new("UPDATE serials SET value = ");
            q.bind(next).push(" WHERE name = 'complaint'");
            execute(conn, &mut q).await?;
        }
        Ok(())
    }
}

/// Registers one complaint inside the open batch transaction, after [`Pending::prefetch`]; its
/// rows, and its files, wait in `pending`. A replay stores no files.
pub async fn register<'a>(conn: &mut SqliteConnection, reg: &'a Registration, pending: &mut Pending<'a>) -> StoreResult<Registered> {
    if let Some(earlier) = pending.intake.replay(reg)? {
        return Ok(Registered::Replayed(Box::new(earlier)));
    }
    let serial = pending.next_serial(conn).await?;
    let record = pending.intake.record(reg, serial)?;
    pending.text.push(conn, &record.row.columns, &reg.text).await?;
    pending.outcomes.append(record.outcome);
    pending.idempotency.extend(record.idempotency);
    pending.tracking_codes.extend(record.tracking_code);
    pending.attachments.extend(&reg.attachments);
    pending.cells.extend(record.cells);
    pending.identity.extend(record.identity);
    pending.complaints.push(record.row);
    Ok(Registered::Created(Box::new(record.complaint)))
}

/// Saves one changed complaint inside the open batch transaction.
pub async fn save(conn: &mut SqliteConnection, change: &Change) -> StoreResult<()> {
    let columns = records::save_change::<SqliteEngine>(conn, change).await?;
    if let Some(update) = &change.text {
        text::update_text(conn, &columns, update).await?;
    }
    Ok(())
}
