//! Complaint lists: the filter's conditions and keyset pagination, newest first.

use redress_store::columns::decode_complaint;
use redress_store::{ComplaintFilter, ComplaintSummary, Cursor, Page, StoreResult};
use sqlx::QueryBuilder;

use crate::{Builder, Connection, Db, Engine, fetch_all, get_text};

/// Whether the filter has any condition besides its cursor and limit (a search can then skip
/// reading the complaints table).
pub fn is_filtered(f: &ComplaintFilter) -> bool {
    !f.statuses.is_empty()
        || f.channel.is_some()
        || f.department.is_some()
        || !f.departments.is_empty()
        || f.handler.is_some()
        || f.severity.is_some()
        || f.due_state.is_some()
        || f.business_type.is_some()
        || f.cause.is_some()
        || f.received_from.is_some()
        || f.received_to.is_some()
        || f.awaiting_approval
}

/// Appends the filter's conditions (`AND …`) for complaint columns qualified by `p` (`""` or
/// `"c."`); the cursor and limit are the caller's.
pub fn push_filter<E: Engine>(q: &mut QueryBuilder<Db<E>>, f: &ComplaintFilter, p: &str) {
    if !f.statuses.is_empty() {
        q.push(format_args!(" AND {p}status IN (")).bind_all(f.statuses.iter().map(|s| s.as_str())).push(")");
    }
    for (column, value) in [("channel", &f.channel), ("department", &f.department), ("handler_id", &f.handler), ("severity", &f.severity), ("due_state", &f.due_state)] {
        if let Some(v) = value {
            q.push(format_args!(" AND {p}{column} = ")).bind(v);
        }
    }
    if !f.departments.is_empty() {
        q.push(format_args!(" AND {p}department"));
        E::push_in(q, &f.departments);
    }
    // Codes are hierarchical: a code matches every code below it.
    for (column, value) in [("business_type", &f.business_type), ("cause", &f.cause)] {
        if let Some(v) = value {
            q.push(" AND ");
            E::push_starts_with(q, &format!("{p}{column}"), v.replace(['%', '_'], ""));
        }
    }
    if let Some(v) = f.received_from {
        q.push(format_args!(" AND {p}received_at >= ")).bind(v.as_microsecond());
    }
    if let Some(v) = f.received_to {
        q.push(format_args!(" AND {p}received_at < ")).bind(v.as_microsecond());
    }
    if f.awaiting_approval {
        // Spelled as the condition of the partial indexes `complaints_awaiting_approval*`.
        q.push(format_args!(" AND {p}awaiting_approval = {}", E::TRUE));
    }
}

/// Lists complaints newest first with keyset pagination.
pub async fn list<E: Engine>(conn: &mut Connection<E>, f: &ComplaintFilter) -> StoreResult<Page<ComplaintSummary>> {
    let limit = f.limit.clamp(1, 200);
    let mut q = QueryBuilder::<Db<E>>::new("SELECT body FROM complaints WHERE 1 = 1");
    push_filter::<E>(&mut q, f, "");
    if let Some(c) = &f.after {
        let at = c.received_at.as_microsecond();
        q.push(" AND (received_at < ").bind(at);
        q.push(" OR (received_at = ").bind(at);
        q.push(" AND id < ").bind(c.id.to_string());
        q.push("))");
    }
    q.push(" ORDER BY received_at DESC, id DESC LIMIT ").bind(i64::from(limit));
    let rows = fetch_all(conn, &mut q).await?;
    let mut items = Vec::with_capacity(rows.len());
    for r in &rows {
        items.push(ComplaintSummary::from(&decode_complaint(get_text(r, 0)?)?));
    }
    let next = if items.len() as u32 == limit {
        items.last().map(|s| Cursor { received_at: s.received_at, id: s.id })
    } else {
        None
    };
    Ok(Page { items, next })
}
