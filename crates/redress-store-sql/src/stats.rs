//! The statistics cells and the identity index.
//!
//! Cells are added, never overwritten: intake adds a new complaint's cells and a save its
//! difference, in the transaction that stores the complaint. Whatever adds them sums them by
//! key first ([`redress_analytics::cells::sum`]: PostgreSQL refuses a statement that touches
//! one row twice) and upserts them in key order, so that concurrent PostgreSQL transactions
//! lock the rows they share in one order and cannot deadlock on them. Every writer adds cells
//! after the complaint's own rows and before the handlers' loads, for the same reason.
//!
//! A question sums the cells of one measure over a range of days; the answer is sorted here,
//! so both engines give it in the same order.

use std::cmp::Ordering;

use redress_analytics::cells::{ALL_DEPARTMENTS, BUSINESS_CAUSE, BUSINESS_CHANNEL, BUSINESS_PRODUCT, BUSINESS_SEVERITY, BY_BUSINESS_TYPE, BY_HANDLER, FCA, FCA_MEASURES, RECEIVED_GROUPINGS, SEPARATOR, daily_sum, sum};
use redress_domain::complaint::{Complaint, ComplaintId};
use redress_store::columns::{decode_complaint, identity_keys};
use redress_store::stats::{Cell, CellKey, Measure};
use redress_store::{StatColumn, StatQuery, StatRow, StoreError, StoreResult};
use sqlx::{Connection as _, QueryBuilder, SqlStr};

use crate::{Builder, Connection, Db, Engine, ROWS_PER_STATEMENT, Run, execute, fetch_all, get, get_text};

/// The key columns of `stat_cells`, in the order of its primary key: day first, so that the
/// cells one change adds (nearly all of one day) share a few pages of the table.
const KEY_COLUMNS: &str = "day, measure, department, handler, channel, business_type, cause, severity, product, value";

/// Identity keys per statement of [`complaints_by_identity`] (each binds two values).
const KEYS_PER_STATEMENT: usize = 100;

/// A complaint filed under one of its complainant's identity keys.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct IdentityRow {
    /// The hashed key ([`identity_keys`]).
    pub key: String,
    /// The complaint.
    pub complaint_id: String,
    /// When the complaint was received, microseconds.
    pub received_at: i64,
}

impl IdentityRow {
    /// The rows filing `complaint` under each of its complainant's keys.
    pub fn of(complaint: &Complaint) -> Vec<IdentityRow> {
        Self::rows(&complaint.id.to_string(), complaint.received_at.as_microsecond(), identity_keys(complaint))
    }

    /// The rows filing complaint `id` under `keys`, each key once, in key order.
    fn rows(id: &str, received_at: i64, keys: impl IntoIterator<Item = String>) -> Vec<IdentityRow> {
        let mut rows: Vec<IdentityRow> = keys.into_iter().map(|key| IdentityRow { key, complaint_id: id.to_string(), received_at }).collect();
        rows.sort_unstable();
        rows.dedup();
        rows
    }
}

/// Files complaints under their identity keys; a row filed already is left as it is.
pub async fn insert_identity<E: Engine>(conn: &mut Connection<E>, rows: &[IdentityRow]) -> StoreResult<()> {
    let mut rows = rows.to_vec();
    rows.sort_unstable();
    rows.dedup_by(|a, b| (&a.key, &a.complaint_id) == (&b.key, &b.complaint_id));
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        execute(conn, &mut insert_identity_rows::<E>(chunk)).await?;
    }
    Ok(())
}

fn insert_identity_rows<E: Engine>(rows: &[IdentityRow]) -> QueryBuilder<Db<E>> {
    let mut q = QueryBuilder::<Db<E>>::new("INSERT INTO complainant_keys (key, complaint_id, received_at) VALUES ");
    for (i, r) in rows.iter().enumerate() {
        q.push(if i == 0 { "(" } else { ", (" }).bind(&r.key).push(", ").bind(&r.complaint_id).push(", ").bind(r.received_at).push(")");
    }
    q.push(" ON CONFLICT (key, complaint_id) DO NOTHING");
    q
}

/// Adds `cells` to the stored ones inside the caller's transaction: summed by key first (keys
/// that sum to nothing are not written), then upserted in key order with multi-row statements.
pub async fn add_cells<E: Engine>(conn: &mut Connection<E>, cells: impl IntoIterator<Item = Cell>) -> StoreResult<()> {
    let summed: Vec<(CellKey, (i64, i64))> = sum(cells).into_iter().collect();
    for chunk in summed.chunks(ROWS_PER_STATEMENT) {
        let mut q = QueryBuilder::<Db<E>>::new(format!("INSERT INTO stat_cells ({KEY_COLUMNS}, n, total) VALUES "));
        for (i, (k, (n, total))) in chunk.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" });
            q.bind(k.day).push(", ").bind(k.measure.as_str()).push(", ").bind(&k.department).push(", ").bind(&k.handler);
            q.push(", ").bind(&k.channel).push(", ").bind(&k.business_type).push(", ").bind(&k.cause).push(", ").bind(&k.severity);
            q.push(", ").bind(&k.product).push(", ").bind(&k.value).push(", ").bind(*n).push(", ").bind(*total).push(")");
        }
        q.push(format_args!(
            " ON CONFLICT ({KEY_COLUMNS}) DO UPDATE SET n = stat_cells.n + excluded.n, total = stat_cells.total + excluded.total"
        ));
        execute(conn, &mut q).await?;
    }
    // The daily rollup, after the cells and in its own key order (the same lock order in every
    // writer).
    for chunk in daily_sum(summed.iter().map(|(k, v)| (k, v))).chunks(ROWS_PER_STATEMENT) {
        let mut q = QueryBuilder::<Db<E>>::new(format!("INSERT INTO stat_daily ({DAILY_COLUMNS}, n, total) VALUES "));
        for (i, (k, (n, total))) in chunk.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" });
            q.bind(k.day).push(", ").bind(k.measure.as_str()).push(", ").bind(k.breakdown).push(", ").bind(&k.department);
            q.push(", ").bind(&k.handler).push(", ").bind(&k.key).push(", ").bind(*n).push(", ").bind(*total).push(")");
        }
        q.push(format_args!(
            " ON CONFLICT ({DAILY_COLUMNS}) DO UPDATE SET n = stat_daily.n + excluded.n, total = stat_daily.total + excluded.total"
        ));
        execute(conn, &mut q).await?;
    }
    Ok(())
}

/// The key columns of `stat_daily`, in the order of its primary key (day first, as the cells).
const DAILY_COLUMNS: &str = "day, measure, breakdown, department, handler, key";

/// Adds cells in a transaction of their own.
pub async fn add_stat_cells<E: Engine>(conn: &mut Connection<E>, cells: &[Cell]) -> StoreResult<()> {
    let mut tx = conn.begin_with(SqlStr::from_static(E::BEGIN_WRITE)).await.map_err(StoreError::db)?;
    add_cells::<E>(&mut tx, cells.iter().cloned()).await?;
    tx.commit().await.map_err(StoreError::db)
}

/// Removes every cell.
pub async fn clear_stat_cells<E: Engine>(conn: &mut Connection<E>) -> StoreResult<()> {
    let mut tx = conn.begin_with(SqlStr::from_static(E::BEGIN_WRITE)).await.map_err(StoreError::db)?;
    execute(&mut *tx, &mut QueryBuilder::<Db<E>>::new("DELETE FROM stat_cells")).await?;
    execute(&mut *tx, &mut QueryBuilder::<Db<E>>::new("DELETE FROM stat_daily")).await?;
    tx.commit().await.map_err(StoreError::db)
}

/// Every cell whose count or sum is not zero, in the order of [`CellKey`].
pub async fn stat_cells<E: Engine>(conn: &mut Connection<E>) -> StoreResult<Vec<Cell>> {
    let mut q = QueryBuilder::<Db<E>>::new(
        "SELECT measure, day, department, handler, channel, business_type, cause, severity, product, value, n, total FROM stat_cells WHERE n <> 0 OR total <> 0",
    );
    let mut cells = Vec::new();
    for r in fetch_all(conn, &mut q).await? {
        let measure = get_text(&r, 0)?;
        let measure = Measure::parse(measure).ok_or_else(|| StoreError::corrupt("statistics cell", format!("unknown measure '{measure}'")))?;
        let key = CellKey {
            measure,
            day: get(&r, 1)?,
            department: get(&r, 2)?,
            handler: get(&r, 3)?,
            channel: get(&r, 4)?,
            business_type: get(&r, 5)?,
            cause: get(&r, 6)?,
            severity: get(&r, 7)?,
            product: get(&r, 8)?,
            value: get(&r, 9)?,
        };
        cells.push(Cell { key, n: get(&r, 10)?, total: get(&r, 11)? });
    }
    cells.sort_unstable();
    Ok(cells)
}

/// The sums a [`StatQuery`] asks for, one row per group whose count or sum is not zero, sorted
/// by the group's keys (days as numbers, texts byte-wise).
///
/// The code-prefix filters (business type, cause) compare the start of the code with the
/// prefix as given, to the letter: no character of it is a wildcard, and case counts.
pub async fn stat_rows<E: Engine>(conn: &mut Connection<E>, query: &StatQuery) -> StoreResult<Vec<StatRow>> {
    if query.departments.as_ref().is_some_and(Vec::is_empty) {
        return Ok(Vec::new());
    }
    if let Some(plan) = daily_plan(query) {
        return daily_rows::<E>(conn, query, plan).await;
    }
    let groups: Vec<&str> = query.group_by.iter().map(|c| c.column()).collect();
    let mut q = QueryBuilder::<Db<E>>::new("SELECT ");
    for column in &groups {
        q.push(column).push(", ");
    }
    q.push("CAST(SUM(n) AS BIGINT), CAST(SUM(total) AS BIGINT) FROM stat_cells WHERE ");
    push_days::<E>(&mut q, query.from_day, query.to_day);
    q.push(" AND measure = ").bind(query.measure.as_str());
    if let Some(departments) = &query.departments {
        q.push(" AND department");
        E::push_in(&mut q, departments);
    }
    let exact = [
        ("handler", &query.handler),
        ("channel", &query.channel),
        ("severity", &query.severity),
        ("product", &query.product),
        ("value", &query.value),
    ];
    for (column, value) in exact {
        if let Some(v) = value {
            q.push(format_args!(" AND {column} = ")).bind(v);
        }
    }
    // Codes are hierarchical: a code matches every code below it. `substr` and `length` count
    // characters on both engines, and nothing in the prefix is a pattern.
    for (column, prefix) in [("business_type", &query.business_type), ("cause", &query.cause)] {
        if let Some(p) = prefix {
            q.push(format_args!(" AND substr({column}, 1, length(")).bind(p).push(")) = ").bind(p);
        }
    }
    if !groups.is_empty() {
        q.push(" GROUP BY ").push(groups.join(", "));
    }
    q.push(" HAVING SUM(n) <> 0 OR SUM(total) <> 0");
    let mut rows = Vec::new();
    for r in fetch_all(conn, &mut q).await? {
        let mut keys = Vec::with_capacity(groups.len());
        for (i, column) in query.group_by.iter().enumerate() {
            keys.push(match column {
                StatColumn::Day => get::<_, i32>(&r, i)?.to_string(),
                _ => get::<_, String>(&r, i)?,
            });
        }
        rows.push(StatRow { keys, n: get(&r, groups.len())?, total: get(&r, groups.len() + 1)? });
    }
    rows.sort_by(|a, b| compare_keys(&query.group_by, &a.keys, &b.keys));
    Ok(rows)
}

/// How the daily rollup answers a question: the breakdown to read, for a composite key the
/// complaint columns its parts hold, in order, and whether the query's business-type prefix
/// is tested on the key (whose first part is then the business type).
struct DailyPlan {
    breakdown: &'static str,
    parts: &'static [StatColumn],
    business_type_prefix: bool,
}

impl DailyPlan {
    fn of(breakdown: &'static str, parts: &'static [StatColumn]) -> Option<DailyPlan> {
        Some(DailyPlan { breakdown, parts, business_type_prefix: false })
    }
}

/// The rollup that answers `query`, if one can.
///
/// Without a filter on a complaint dimension: grouping by day, department, handler and either
/// the measure's breakdown, or for received complaints one complaint dimension or business type
/// and cause together, or for the FCA return's measures business type, cause and product
/// (handlers folded). Filtered by business type alone: the same groupings but by handler, from
/// the rollups keyed by business type.
fn daily_plan(query: &StatQuery) -> Option<DailyPlan> {
    use StatColumn as C;
    if query.channel.is_some() || query.cause.is_some() || query.severity.is_some() || query.product.is_some() {
        return None;
    }
    let mut dimensions: Vec<StatColumn> =
        query.group_by.iter().copied().filter(|c| !matches!(c, C::Day | C::Department | C::Handler | C::Value)).collect();
    dimensions.sort_by_key(|c| c.column());
    let by_value = query.group_by.contains(&C::Value);
    let received = query.measure == Measure::Received && query.value.is_none() && !by_value;
    let by_handler = query.handler.is_some() || query.group_by.contains(&C::Handler);
    if query.business_type.is_some() {
        if by_handler {
            return None;
        }
        let plan = match dimensions.as_slice() {
            [] | [C::BusinessType] => DailyPlan::of(BY_BUSINESS_TYPE, &[C::BusinessType, C::Value]),
            [C::Cause] | [C::BusinessType, C::Cause] if received => DailyPlan::of(BUSINESS_CAUSE, &[C::BusinessType, C::Cause]),
            [C::Channel] if received => DailyPlan::of(BUSINESS_CHANNEL, &[C::BusinessType, C::Channel]),
            [C::Severity] if received => DailyPlan::of(BUSINESS_SEVERITY, &[C::BusinessType, C::Severity]),
            [C::Product] if received => DailyPlan::of(BUSINESS_PRODUCT, &[C::BusinessType, C::Product]),
            _ => None,
        };
        return plan.map(|p| DailyPlan { business_type_prefix: true, ..p });
    }
    match dimensions.as_slice() {
        // Handlers are folded in `value` and kept by handler only for the measures that carry
        // one; the cells answer any other question about handlers.
        [] if by_handler && query.measure.per_handler() => DailyPlan::of(BY_HANDLER, &[]),
        [] if by_handler => None,
        [] => DailyPlan::of("value", &[]),
        [one] if received && !by_handler => RECEIVED_GROUPINGS.into_iter().find(|g| *g == one.column()).and_then(|breakdown| DailyPlan::of(breakdown, &[])),
        [C::BusinessType, C::Cause] if received && !by_handler => DailyPlan::of(BUSINESS_CAUSE, &[C::BusinessType, C::Cause]),
        [C::BusinessType, C::Cause, C::Product]
            if FCA_MEASURES.contains(&query.measure) && query.handler.is_none() && !query.group_by.contains(&C::Handler) =>
        {
            DailyPlan::of(FCA, &[C::BusinessType, C::Cause, C::Product, C::Value])
        }
        _ => None,
    }
}

/// [`stat_rows`] from the daily rollup.
async fn daily_rows<E: Engine>(conn: &mut Connection<E>, query: &StatQuery, plan: DailyPlan) -> StoreResult<Vec<StatRow>> {
    // Day, department and handler are columns of the rollup; everything else is (a part of)
    // its `key`, split here for a composite key.
    let mut selected: Vec<&str> = Vec::new();
    for c in &query.group_by {
        let column = match c {
            StatColumn::Day => "day",
            StatColumn::Department => "department",
            StatColumn::Handler => "handler",
            _ => "key",
        };
        if !selected.contains(&column) {
            selected.push(column);
        }
    }
    if !plan.parts.is_empty() && !selected.contains(&"key") {
        selected.push("key");
    }
    let mut q = QueryBuilder::<Db<E>>::new("SELECT ");
    for c in &selected {
        q.push(c).push(", ");
    }
    q.push("CAST(SUM(n) AS BIGINT), CAST(SUM(total) AS BIGINT) FROM stat_daily WHERE ");
    push_days::<E>(&mut q, query.from_day, query.to_day);
    q.push(" AND measure = ").bind(query.measure.as_str()).push(" AND breakdown = ").bind(plan.breakdown);
    // An institution-wide question reads the rows with the departments folded; one by
    // department or about some departments reads the departments' own rows.
    match &query.departments {
        Some(departments) => {
            q.push(" AND department");
            E::push_in(&mut q, departments);
        }
        None if selected.contains(&"department") || plan.breakdown == BY_HANDLER => {
            q.push(" AND department <> ").bind(ALL_DEPARTMENTS);
        }
        None => {
            q.push(" AND department = ").bind(ALL_DEPARTMENTS);
        }
    }
    if let Some(h) = &query.handler {
        q.push(" AND handler = ").bind(h);
    }
    if let Some(v) = query.value.as_ref().filter(|_| plan.parts.is_empty()) {
        q.push(" AND key = ").bind(v);
    }
    // The key starts with the business type, and the prefix holds no separator: it matches
    // the business types it starts, as on the cells.
    if let Some(p) = query.business_type.as_ref().filter(|_| plan.business_type_prefix) {
        q.push(" AND substr(key, 1, length(").bind(p).push(")) = ").bind(p);
    }
    if !selected.is_empty() {
        q.push(" GROUP BY ").push(selected.join(", "));
    }
    // Without groups an aggregate over no rows is one row of NULLs.
    q.push(" HAVING COUNT(*) > 0");
    let mut sums: std::collections::BTreeMap<Vec<String>, (i64, i64)> = std::collections::BTreeMap::new();
    for r in fetch_all(conn, &mut q).await? {
        let mut columns: Vec<String> = Vec::with_capacity(selected.len());
        for (i, c) in selected.iter().enumerate() {
            columns.push(if *c == "day" { get::<_, i32>(&r, i)?.to_string() } else { get::<_, String>(&r, i)? });
        }
        let column_of = |name: &str| selected.iter().position(|c| *c == name).map(|i| columns[i].clone()).unwrap_or_default();
        let key = column_of("key");
        let parts: Vec<&str> = if plan.parts.is_empty() { Vec::new() } else { key.split(SEPARATOR).collect() };
        let part = |c: &StatColumn| plan.parts.iter().position(|p| p == c).and_then(|i| parts.get(i)).map(|s| s.to_string());
        if let (Some(v), false) = (&query.value, plan.parts.is_empty())
            && part(&StatColumn::Value).as_ref() != Some(v)
        {
            continue;
        }
        let keys: Vec<String> = query
            .group_by
            .iter()
            .map(|c| match c {
                StatColumn::Day => column_of("day"),
                StatColumn::Department => column_of("department"),
                StatColumn::Handler => column_of("handler"),
                other => part(other).unwrap_or_else(|| key.clone()),
            })
            .collect();
        let e = sums.entry(keys).or_default();
        e.0 += get::<_, i64>(&r, selected.len())?;
        e.1 += get::<_, i64>(&r, selected.len() + 1)?;
    }
    let mut rows: Vec<StatRow> = sums.into_iter().filter(|(_, v)| *v != (0, 0)).map(|(keys, (n, total))| StatRow { keys, n, total }).collect();
    rows.sort_by(|a, b| compare_keys(&query.group_by, &a.keys, &b.keys));
    Ok(rows)
}

/// The longest run of days a question lists one by one (about ten years); a longer one reads
/// the range.
const MAX_LISTED_DAYS: i32 = 3660;

/// Pushes the test that `day` is one of `[from, to)`, day by day: the tables are keyed by day
/// then measure, and a list of days lets both engines seek each day's rows of the measure
/// where a range would read every measure's rows of the days.
fn push_days<E: Engine>(q: &mut QueryBuilder<Db<E>>, from: i32, to: i32) {
    if from >= to {
        q.push("1 = 0");
        return;
    }
    if to - from > MAX_LISTED_DAYS {
        q.push("day >= ").bind(from).push(" AND day < ").bind(to);
        return;
    }
    let days: Vec<String> = (from..to).map(|d| d.to_string()).collect();
    // Day numbers are integers made here, not text from outside.
    q.push(format_args!("day IN ({})", days.join(", ")));
}

/// Orders two groups' keys: days by their numbers, the other columns byte-wise.
fn compare_keys(columns: &[StatColumn], a: &[String], b: &[String]) -> Ordering {
    for ((column, x), y) in columns.iter().zip(a).zip(b) {
        let order = match column {
            StatColumn::Day => x.parse::<i64>().ok().cmp(&y.parse::<i64>().ok()).then_with(|| x.cmp(y)),
            _ => x.cmp(y),
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    Ordering::Equal
}

/// Files complaint `id` under `keys`; keys filed already are left as they are.
/// [`StoreError::NotFound`] if there is no such complaint.
pub async fn index_identity<E: Engine>(conn: &mut Connection<E>, id: ComplaintId, received_at: i64, keys: &[String]) -> StoreResult<()> {
    let rows = IdentityRow::rows(&id.to_string(), received_at, keys.iter().cloned());
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        match <Db<E> as Run>::execute(conn, &mut insert_identity_rows::<E>(chunk)).await {
            Ok(()) => {}
            Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => return Err(StoreError::NotFound),
            Err(e) => return Err(StoreError::db(e)),
        }
    }
    Ok(())
}

/// The complaints filed under any of `keys`, newest first (received at, then id), at most
/// `limit`.
///
/// Each key's newest `limit` complaints are read along the index `complainant_keys_newest`, so
/// the cost does not grow with a person's number of complaints.
pub async fn complaints_by_identity<E: Engine>(conn: &mut Connection<E>, keys: &[String], limit: u32) -> StoreResult<Vec<Complaint>> {
    let mut keys: Vec<&String> = keys.iter().collect();
    keys.sort_unstable();
    keys.dedup();
    let limit = i64::from(limit);
    if keys.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    let mut found: Vec<(i64, String, Complaint)> = Vec::new();
    for chunk in keys.chunks(KEYS_PER_STATEMENT) {
        let mut q = QueryBuilder::<Db<E>>::new("SELECT received_at, id, body FROM complaints WHERE id IN (");
        for (i, key) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(" UNION ALL ");
            }
            q.push("SELECT complaint_id FROM (SELECT complaint_id FROM complainant_keys WHERE key = ").bind(*key);
            q.push(" ORDER BY received_at DESC, complaint_id DESC LIMIT ").bind(limit).push(format_args!(") AS k{i}"));
        }
        q.push(") ORDER BY received_at DESC, id DESC LIMIT ").bind(limit);
        for r in fetch_all(conn, &mut q).await? {
            found.push((get(&r, 0)?, get(&r, 1)?, decode_complaint(get_text(&r, 2)?)?));
        }
    }
    found.sort_unstable_by(|a, b| (b.0, &b.1).cmp(&(a.0, &a.1)));
    found.dedup_by(|a, b| a.1 == b.1);
    Ok(found.into_iter().take(usize::try_from(limit).unwrap_or(usize::MAX)).map(|(_, _, c)| c).collect())
}

/// Stores `notifications` (dated `at`, microseconds) unless `once` was used before, in one
/// transaction; whether they were stored.
pub async fn notify_once<E: Engine>(conn: &mut Connection<E>, once: &str, notifications: &[redress_domain::complaint::Notification], at: i64) -> StoreResult<bool> {
    let mut tx = conn.begin_with(SqlStr::from_static(E::BEGIN_WRITE)).await.map_err(StoreError::db)?;
    let mut q = QueryBuilder::<Db<E>>::new("INSERT INTO notified_once (key, at) VALUES (");
    q.bind(once.to_string()).push(", ").bind(at).push(") ON CONFLICT (key) DO NOTHING RETURNING key");
    if fetch_all(&mut *tx, &mut q).await?.is_empty() {
        return Ok(false);
    }
    let mut rows = crate::records::OutcomeRows::default();
    for n in notifications {
        let outcome = redress_domain::complaint::Outcome { notifications: vec![n.clone()], ..Default::default() };
        rows.push(&n.complaint_id.to_string(), 0, &outcome, at)?;
    }
    rows.insert::<E>(&mut *tx).await?;
    tx.commit().await.map_err(StoreError::db)?;
    Ok(true)
}

/// A report's commentary, with who wrote it last and when (microseconds).
pub async fn report_note<E: Engine>(conn: &mut Connection<E>, report_key: &str) -> StoreResult<Option<(serde_json::Value, String, i64)>> {
    let mut q = QueryBuilder::<Db<E>>::new("SELECT body, updated_by, updated_at FROM report_notes WHERE report_key = ");
    q.bind(report_key.to_string());
    let Some(r) = crate::fetch_optional(conn, &mut q).await? else { return Ok(None) };
    let body: String = get(&r, 0)?;
    let body = serde_json::from_str(&body).map_err(|e| StoreError::corrupt("report note", e))?;
    Ok(Some((body, get(&r, 1)?, get(&r, 2)?)))
}

/// Replaces a report's commentary.
pub async fn set_report_note<E: Engine>(conn: &mut Connection<E>, report_key: &str, body: &serde_json::Value, by: &str, at: i64) -> StoreResult<()> {
    let mut q = QueryBuilder::<Db<E>>::new("INSERT INTO report_notes (report_key, body, updated_by, updated_at) VALUES (");
    q.bind(report_key.to_string()).push(", ").bind(body.to_string()).push(", ").bind(by.to_string()).push(", ").bind(at);
    q.push(") ON CONFLICT (report_key) DO UPDATE SET body = excluded.body, updated_by = excluded.updated_by, updated_at = excluded.updated_at");
    execute(conn, &mut q).await
}
