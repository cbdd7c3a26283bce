//! Calls from the hotline system: its call records (time, caller number, agent, duration,
//! recording file, and where it has them the complaint number, the caller's name and a summary)
//! attach to the complaint they concern, or register one. The recording is stored as the
//! complaint's evidence, with the same type and size checks as any file.
//!
//! A call concerns the complaint its record names, else the caller's newest open complaint
//! (matched on the normalised number). Importing the same records again adds nothing: a
//! registered call is the complaint's external reference, an attached one is named in the
//! note it leaves.

use jiff::tz::TimeZone;
use redress_domain::complaint::{Action, Channel, Complainant, CustomerType, Language, NewComplaint, Respondent};
use redress_domain::fields::{ExternalRef, FieldError, LongText, Narrative, PersonName, Phone, Request};
use redress_import::sheet::{FieldRow, Layout, Sheet};
use redress_store::Registered;
use serde::Serialize;

use crate::error::AppResult;
use crate::policy::{self, Operation};
use crate::{App, AppError, Caller};

/// The shipped layout of the call records.
pub fn calls_layout() -> Layout {
    Layout::parse_toml(include_str!("../../../data/intake/hotline-calls.toml")).expect("the shipped layout is valid")
}

/// What became of one call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum CallResult {
    /// A new complaint.
    Registered {
        /// The line.
        line: u64,
        /// Its number.
        number: String,
    },
    /// Added to a complaint's log, with its recording.
    Attached {
        /// The line.
        line: u64,
        /// The complaint's number.
        number: String,
    },
    /// Imported before.
    AlreadyPresent {
        /// The line.
        line: u64,
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

/// A call as read from its row.
struct Call {
    at: jiff::Timestamp,
    local_time: String,
    phone: Phone,
    agent: Option<String>,
    seconds: Option<u64>,
    recording: Option<(String, Vec<u8>)>,
    complaint: Option<String>,
    name: Option<String>,
    summary: Option<String>,
    unit: Option<String>,
}

impl Call {
    /// The key naming this call wherever it is recorded.
    fn key(&self) -> String {
        format!("hotline:{}:{}", self.phone.as_str(), self.at.as_second())
    }

    fn description(&self) -> String {
        let mut text = format!("热线来电 {}，来电号码 {}", self.local_time, self.phone.as_str());
        if let Some(a) = &self.agent {
            text.push_str(&format!("，坐席 {a}"));
        }
        if let Some(s) = self.seconds {
            text.push_str(&format!("，通话 {} 分 {} 秒", s / 60, s % 60));
        }
        if let Some((name, _)) = &self.recording {
            text.push_str(&format!("，录音 {name}"));
        }
        text.push('。');
        if let Some(s) = &self.summary {
            text.push('\n');
            text.push_str(s);
        }
        text.push_str(&format!("\n[{}]", self.key()));
        text
    }
}

/// Imports call records for a caller who may import; `recording` reads a recording file named
/// in a row (the edge resolves it, e.g. against the records' folder).
pub async fn import_calls(app: &App, caller: &Caller, sheet: &Sheet, recording: &(dyn Fn(&str) -> Result<Vec<u8>, String> + Sync)) -> AppResult<Vec<CallResult>> {
    policy::require(caller, Operation::Import)?;
    let rows = calls_layout().rows(sheet).map_err(|e| AppError::invalid("file", e.to_string()))?;
    let tz = app.rules.default_rules().profile.time_zone();
    let mut results = Vec::with_capacity(rows.len());
    for row in rows {
        let call = match read_call(&row, &tz, recording) {
            Ok(c) => c,
            Err(e) => {
                results.push(CallResult::Rejected { line: row.line, column: Some(row.header(&e.field).to_string()), reason: e.message });
                continue;
            }
        };
        let result = match take_call(app, caller, &row, call).await {
            Ok(r) => r,
            Err(e) if e.kind == crate::ErrorKind::Invalid => CallResult::Rejected { line: row.line, column: e.field.as_deref().map(|f| row.header(f).to_string()), reason: e.message },
            Err(e) if e.kind == crate::ErrorKind::NotFound => CallResult::Rejected { line: row.line, column: Some(row.header("complaint").to_string()), reason: e.message },
            Err(e) => return Err(e),
        };
        results.push(result);
    }
    Ok(results)
}

fn read_call(row: &FieldRow, tz: &TimeZone, recording: &(dyn Fn(&str) -> Result<Vec<u8>, String> + Sync)) -> Result<Call, FieldError> {
    let time = row.get("time").ok_or_else(|| FieldError::new("time", "the call's time is empty"))?;
    let (date, clock) = redress_import::sheet::parse_date_time(time).ok_or_else(|| FieldError::new("time", format!("“{time}” is not a date and time")))?;
    let at = date
        .to_datetime(clock.unwrap_or(jiff::civil::Time::midnight()))
        .to_zoned(tz.clone())
        .map_err(|e| FieldError::new("time", e.to_string()))?
        .timestamp();
    let phone = Phone::parse("caller", row.get("caller").ok_or_else(|| FieldError::new("caller", "the caller's number is empty"))?)?;
    let seconds = row.get("duration").map(|d| duration_seconds(d).ok_or_else(|| FieldError::new("duration", format!("“{d}” is not a duration (seconds, or h:mm:ss)")))).transpose()?;
    let recording = match row.get("recording") {
        Some(path) => {
            let content = recording(path).map_err(|e| FieldError::new("recording", e))?;
            let name = path.rsplit(['/', '\\']).next().unwrap_or(path).to_string();
            redress_domain::attachment::check(&name, &content).map_err(|e| FieldError::new("recording", format!("{name}: {}", e.message)))?;
            Some((name, content))
        }
        None => None,
    };
    Ok(Call {
        at,
        local_time: time.to_string(),
        phone,
        agent: row.get("agent").map(str::to_string),
        seconds,
        recording,
        complaint: row.get("complaint").map(str::to_string),
        name: row.get("name").map(str::to_string),
        summary: row.get("summary").map(str::to_string),
        unit: row.get("unit").map(str::to_string),
    })
}

/// `125`, `125s`, `2:05`, `0:02:05` or `2分5秒` as seconds.
fn duration_seconds(text: &str) -> Option<u64> {
    let t = text.trim().trim_end_matches(['s', '秒']);
    if let Ok(n) = t.parse::<u64>() {
        return Some(n);
    }
    if let Some((m, s)) = t.split_once('分') {
        return Some(m.trim().parse::<u64>().ok()? * 60 + s.trim().parse::<u64>().unwrap_or(0));
    }
    let parts: Vec<u64> = t.split(':').map(|p| p.trim().parse().ok()).collect::<Option<_>>()?;
    match parts[..] {
        [m, s] => Some(m * 60 + s),
        [h, m, s] => Some(h * 3600 + m * 60 + s),
        _ => None,
    }
}

async fn take_call(app: &App, caller: &Caller, row: &FieldRow, call: Call) -> AppResult<CallResult> {
    let key = call.key();
    let existing = match &call.complaint {
        Some(number) => Some(crate::complaints::get(app, caller, number).await?),
        None => {
            let keys: Vec<String> = redress_store::columns::phone_identity_key(&call.phone).into_iter().collect();
            let mut theirs = app.store.complaints_by_identity(&keys, 20).await?;
            theirs.retain(|c| c.status.is_open() && policy::can_see(caller, c, &app.rules.org));
            theirs.into_iter().max_by_key(|c| c.received_at)
        }
    };
    if let Some(c) = existing {
        if c.external_ref.as_deref() == Some(key.as_str()) || c.notes.iter().any(|n| n.text.as_str().contains(&key)) {
            return Ok(CallResult::AlreadyPresent { line: row.line, number: c.number });
        }
        if let Some((name, content)) = &call.recording {
            crate::complaints::attach(app, caller, &c.number, name, content).await?;
        }
        let text = LongText::parse("summary", &call.description())?;
        let c = crate::complaints::perform(app, caller, &c.number, Action::AddNote { text, customer_contact: true }).await?;
        return Ok(CallResult::Attached { line: row.line, number: c.number });
    }
    let unit = match &call.unit {
        Some(u) => app.rules.org.units().iter().find(|x| x.code.eq_ignore_ascii_case(u) || x.name == *u).map(|x| x.code.clone()).ok_or_else(|| AppError::invalid("unit", format!("“{u}” is no unit of the organisation")))?,
        None => app.rules.org.head_office().code.clone(),
    };
    let new = NewComplaint {
        channel: Channel::Hotline,
        regulator_order: None,
        received_at: call.at,
        complainant: Complainant {
            name: PersonName::parse("name", call.name.as_deref().unwrap_or("来电客户"))?,
            id_number: None,
            phone: Some(call.phone.clone()),
            email: None,
            customer_type: CustomerType::Individual,
            language: Language::ZhCn,
        },
        agent: None,
        respondent: Respondent { unit, staff: Vec::new() },
        product: None,
        business_type: None,
        amount: None,
        request: Request::parse("summary", "详见来电录音与摘要")?,
        narrative: Narrative::parse("summary", &call.description())?,
        title: None,
        external_ref: Some(ExternalRef::parse("time", &key)?),
    };
    let files: Vec<(String, Vec<u8>)> = call.recording.into_iter().collect();
    Ok(match crate::complaints::register_with_files(app, caller, new, None, &files).await? {
        Registered::Created(c) => CallResult::Registered { line: row.line, number: c.number.clone() },
        Registered::Replayed(c) => CallResult::AlreadyPresent { line: row.line, number: c.number.clone() },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_the_forms_call_systems_write() {
        for (text, seconds) in [("125", 125), ("125s", 125), ("2:05", 125), ("0:02:05", 125), ("2分5秒", 125), ("3分", 180)] {
            assert_eq!(duration_seconds(text), Some(seconds), "{text}");
        }
        assert_eq!(duration_seconds("long"), None);
    }
}
