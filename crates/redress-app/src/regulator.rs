//! Complaints the regulator transfers (转办): its transfer list (CSV or XLSX) imported row by row
//! with the work-order numbers and the deadlines it sets, and the answers (处理结果反馈) exported
//! in the same layout, the answer's columns after the list's.
//!
//! The layout is data (`data/intake/regulator-transfer.toml`). Each row is registered in its
//! own transaction or rejected with its line and the column at fault; importing a list again
//! registers nothing twice (the regulator and work order are the complaint's external
//! reference).

use jiff::Timestamp;
use jiff::tz::TimeZone;
use redress_analytics::export::{Table, Value};
use redress_domain::complaint::{Channel, Complainant, Complaint, CustomerType, Language, NewComplaint, RegulatorOrder, Respondent};
use redress_domain::fields::{ExternalRef, FieldError, IdNumber, Narrative, PersonName, Phone, Request, ShortText};
use redress_domain::lifecycle::Status;
use redress_import::sheet::{FieldRow, Layout, Sheet};
use redress_store::{ComplaintFilter, Registered};
use serde::Serialize;

use crate::error::AppResult;
use crate::policy::{self, Operation};
use crate::{App, AppError, Caller};

/// The shipped layout of the transfer list and the reply sheet.
pub fn transfer_layout() -> Layout {
    Layout::parse_toml(include_str!("../../../data/intake/regulator-transfer.toml")).expect("the shipped layout is valid")
}

/// The regulator named when the list has no column for it.
pub const DEFAULT_REGULATOR: &str = "国家金融监督管理总局";

/// What became of one row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RowResult {
    /// Registered as this complaint.
    Registered {
        /// The line.
        line: u64,
        /// The work order.
        order_number: String,
        /// The complaint's number.
        number: String,
    },
    /// Imported before.
    AlreadyPresent {
        /// The line.
        line: u64,
        /// The work order.
        order_number: String,
        /// The complaint's number.
        number: String,
    },
    /// Not imported.
    Rejected {
        /// The line.
        line: u64,
        /// The column at fault, as the file names it.
        column: Option<String>,
        /// Why.
        reason: String,
    },
}

/// Imports a transfer list for a caller who may import.
pub async fn import_transfers(app: &App, caller: &Caller, sheet: &Sheet, regulator: Option<&str>) -> AppResult<Vec<RowResult>> {
    policy::require(caller, Operation::Import)?;
    let layout = transfer_layout();
    let rows = layout.rows(sheet).map_err(|e| AppError::invalid("file", e.to_string()))?;
    let rules = app.rules.default_rules();
    let tz = rules.profile.time_zone();
    let mut results = Vec::with_capacity(rows.len());
    for row in rows {
        let rejected = |e: FieldError| RowResult::Rejected { line: row.line, column: Some(row.header(&e.field).to_string()), reason: e.message };
        let new = match transfer_to_new(app, &row, regulator, &tz) {
            Ok(n) => n,
            Err(e) => {
                results.push(rejected(e));
                continue;
            }
        };
        let order_number = new.regulator_order.as_ref().map(|o| o.order_number.as_str().to_string()).unwrap_or_default();
        results.push(match crate::complaints::register(app, caller, new, None).await {
            Ok(Registered::Created(c)) => RowResult::Registered { line: row.line, order_number, number: c.number.clone() },
            Ok(Registered::Replayed(c)) => RowResult::AlreadyPresent { line: row.line, order_number, number: c.number.clone() },
            Err(e) if e.kind == crate::ErrorKind::Invalid => RowResult::Rejected { line: row.line, column: e.field.as_deref().map(|f| row.header(f).to_string()), reason: e.message },
            Err(e) => return Err(e),
        });
    }
    Ok(results)
}

fn transfer_to_new(app: &App, row: &FieldRow, regulator: Option<&str>, tz: &TimeZone) -> Result<NewComplaint, FieldError> {
    let order = row.get("order_number").ok_or_else(|| FieldError::new("order_number", "the work-order number is empty"))?;
    let regulator = row.get("regulator").or(regulator).unwrap_or(DEFAULT_REGULATOR);
    let received_at = match row.get("transferred_at") {
        Some(t) => local_time(t, tz, false).ok_or_else(|| FieldError::new("transferred_at", format!("“{t}” is not a date")))?,
        None => app.clock.now(),
    };
    let deadline = match row.get("deadline") {
        Some(t) => Some(local_time(t, tz, true).ok_or_else(|| FieldError::new("deadline", format!("“{t}” is not a date")))?),
        None => None,
    };
    let narrative = row.get("narrative").ok_or_else(|| FieldError::new("narrative", "the complaint's text is empty"))?;
    let unit = match row.get("unit") {
        Some(u) => app.rules.org.units().iter().find(|x| x.code.eq_ignore_ascii_case(u) || x.name == u).map(|x| x.code.clone()).ok_or_else(|| FieldError::new("unit", format!("“{u}” is no unit of the organisation")))?,
        None => app.rules.org.head_office().code.clone(),
    };
    let name = row.get("complainant").unwrap_or("投诉人");
    Ok(NewComplaint {
        channel: Channel::Regulator,
        regulator_order: Some(RegulatorOrder { regulator: ShortText::parse("regulator", regulator)?, order_number: ShortText::parse("order_number", order)?, deadline }),
        received_at,
        complainant: Complainant {
            name: PersonName::parse("complainant", name)?,
            id_number: row.get("id_number").map(|v| IdNumber::parse("id_number", v)).transpose()?,
            phone: row.get("phone").map(|v| Phone::parse("phone", v)).transpose()?,
            email: None,
            customer_type: CustomerType::Individual,
            language: Language::ZhCn,
        },
        agent: None,
        respondent: Respondent { unit, staff: Vec::new() },
        product: row.get("business").map(|b| ShortText::parse("business", b)).transpose()?,
        business_type: None,
        amount: None,
        request: Request::parse("request", row.get("request").unwrap_or("请依法处理并答复"))?,
        narrative: Narrative::parse("narrative", narrative)?,
        title: None,
        external_ref: Some(ExternalRef::parse("order_number", &format!("regulator:{regulator}:{order}"))?),
    })
}

/// Imports a transfer list file (CSV or XLSX) as [`import_transfers`] does.
pub async fn import_transfer_file(app: &App, caller: &Caller, bytes: &[u8], regulator: Option<&str>) -> AppResult<Vec<RowResult>> {
    policy::require(caller, Operation::Import)?;
    let sheet = redress_import::sheet::read_sheet(bytes).map_err(|e| AppError::invalid("file", e.to_string()))?;
    import_transfers(app, caller, &sheet, regulator).await
}

/// The days `from` to `to` (inclusive, `YYYY-MM-DD`) in the institution's time zone, as
/// `[start, end)`.
pub fn period(app: &App, from: Option<&str>, to: Option<&str>) -> AppResult<(Timestamp, Timestamp)> {
    let tz = app.rules.default_rules().profile.time_zone();
    let day = |field: &str, text: Option<&str>, next: bool| -> AppResult<Timestamp> {
        let text = text.ok_or_else(|| AppError::invalid(field, "required (YYYY-MM-DD)"))?;
        let (date, _) = redress_import::sheet::parse_date_time(text).ok_or_else(|| AppError::invalid(field, format!("“{text}” is not a date")))?;
        let date = if next { date.tomorrow().map_err(|e| AppError::invalid(field, e.to_string()))? } else { date };
        date.to_zoned(tz.clone()).map(|z| z.timestamp()).map_err(|e| AppError::invalid(field, e.to_string()))
    };
    let (start, end) = (day("from", from, false)?, day("to", to, true)?);
    if end <= start {
        return Err(AppError::invalid("to", "the period ends before it starts"));
    }
    Ok((start, end))
}

/// The answers of a period as a file: an XLSX workbook or CSV; with the number of answers.
pub async fn replies_file(app: &App, caller: &Caller, from: Option<&str>, to: Option<&str>, regulator: Option<&str>, xlsx: bool) -> AppResult<(Vec<u8>, usize)> {
    let (start, end) = period(app, from, to)?;
    let table = replies(app, caller, start, end, regulator).await?;
    let bytes = if xlsx { redress_analytics::export::to_xlsx(std::slice::from_ref(&table)).map_err(AppError::internal)? } else { redress_analytics::export::to_csv(&table) };
    Ok((bytes, table.rows.len()))
}

/// A date (or date and time) as the regulator writes it, in the institution's time zone. A
/// deadline given as a day ends with that day.
fn local_time(text: &str, tz: &TimeZone, end_of_day: bool) -> Option<Timestamp> {
    let (date, time) = redress_import::sheet::parse_date_time(text)?;
    let at = match time {
        Some(t) => date.to_datetime(t),
        None if end_of_day => date.tomorrow().ok()?.to_datetime(jiff::civil::Time::midnight()),
        None => date.to_datetime(jiff::civil::Time::midnight()),
    };
    at.to_zoned(tz.clone()).ok().map(|z| z.timestamp())
}

/// The answers to the transfers received in `[from, to)` (of one regulator, when named), in the
/// transfer list's layout with the answer's columns, for a caller who may import.
pub async fn replies(app: &App, caller: &Caller, from: Timestamp, to: Timestamp, regulator: Option<&str>) -> AppResult<Table> {
    policy::require(caller, Operation::Import)?;
    let layout = transfer_layout();
    let tz = app.rules.default_rules().profile.time_zone();
    let filter = ComplaintFilter { channel: Some(Channel::Regulator.as_str().to_string()), received_from: Some(from), received_to: Some(to), limit: 200, ..ComplaintFilter::default() };
    let mut complaints: Vec<Complaint> = Vec::new();
    // Only the complaints the caller may see are read at all.
    let mut filter = crate::complaints::limit_to_scope(caller, app, filter);
    while let Some(f) = &mut filter {
        let page = app.store.list(f).await?;
        let ids: Vec<_> = page.items.iter().map(|s| s.id).collect();
        complaints.extend(app.store.complaints(&ids).await?);
        match page.next {
            Some(next) => f.after = Some(next),
            None => break,
        }
    }
    complaints.retain(|c| c.regulator_order.as_ref().is_some_and(|o| regulator.is_none_or(|r| o.regulator.as_str() == r)));
    complaints.sort_by(|a, b| a.received_at.cmp(&b.received_at).then(a.number.cmp(&b.number)));
    let day = |t: Timestamp| t.to_zoned(tz.clone()).date().to_string();
    let rows = complaints
        .iter()
        .map(|c| {
            let order = c.regulator_order.as_ref();
            let closing = c.closings.last().filter(|_| c.status.is_final() || !c.status.is_open());
            layout
                .fields()
                .map(|field| -> Value {
                    let text: Option<String> = match field {
                        "order_number" => order.map(|o| o.order_number.as_str().to_string()),
                        "regulator" => order.map(|o| o.regulator.as_str().to_string()),
                        "transferred_at" => Some(day(c.received_at)),
                        // The deadline is the first instant after its day; the day is shown.
                        "deadline" => order.and_then(|o| o.deadline).map(|d| day(d.checked_sub(jiff::SignedDuration::from_secs(1)).unwrap_or(d))),
                        "complainant" => Some(c.complainant.name.as_str().to_string()),
                        "phone" => c.complainant.phone.as_ref().map(|p| p.as_str().to_string()),
                        "id_number" => c.complainant.id_number.as_ref().map(|p| p.as_str().to_string()),
                        "unit" => Some(app.rules.org.unit(&c.respondent.unit).map_or(c.respondent.unit.clone(), |u| u.name.clone())),
                        "business" => c.product.as_ref().map(|p| p.as_str().to_string()),
                        "request" => Some(c.request.as_str().to_string()),
                        "narrative" => Some(c.narrative.as_str().to_string()),
                        "reply_status" => Some(status_zh(c.status).to_string()),
                        "reply_result" => reply_text(c),
                        "reply_closed_at" => closing.map(|k| day(k.at)),
                        "reply_on_time" => closing.map(|k| if k.on_time { "是" } else { "否" }.to_string()),
                        "reply_department" => Some(app.rules.org.department(&c.owner.department).map_or(c.owner.department.clone(), |d| d.name.clone())),
                        "reply_number" => Some(c.number.clone()),
                        _ => None,
                    };
                    text.map_or(Value::Empty, Value::Text)
                })
                .collect()
        })
        .collect();
    Ok(Table { title: "处理结果反馈".into(), columns: layout.fields().map(|f| layout.export_header(f).to_string()).collect(), rows })
}

/// The answer as the regulator reads it: the decision's reasons with the resolution, or why the
/// complaint ended otherwise.
fn reply_text(c: &Complaint) -> Option<String> {
    let resolution = c.resolution.as_ref().map(|r| match &r.amount {
        Some(a) => format!("{}（{a}）", r.summary.as_str()),
        None => r.summary.as_str().to_string(),
    });
    match (&c.decision, resolution) {
        (Some(d), Some(r)) => Some(format!("{} {}", r, d.reasons.as_str())),
        (Some(d), None) => Some(d.reasons.as_str().to_string()),
        (None, Some(r)) => Some(r),
        (None, None) => c.end_reason.clone(),
    }
}

fn status_zh(s: Status) -> &'static str {
    if s.is_final() {
        "已办结"
    } else if s.is_open() {
        "办理中"
    } else {
        "已答复"
    }
}
