//! Bulk intake from the CFPB public complaint export: each row becomes a regulator-forwarded
//! complaint registered through [`crate::complaints::register`].

use redress_domain::complaint::{Channel, Complainant, CustomerType, Language, NewComplaint, RegulatorOrder, Respondent};
use redress_domain::fields::{ExternalRef, FieldError, Narrative, PersonName, Request, ShortText};
use redress_import::CfpbRecord;
use redress_store::Registered;

use crate::error::AppResult;
use crate::policy::{self, Operation};
use crate::{App, Caller};

/// Converts one CFPB record into a new complaint: the CFPB forwards complaints to the company,
/// so each becomes a regulator-forwarded complaint whose work-order number is the CFPB
/// Complaint ID.
pub fn cfpb_to_new(r: &CfpbRecord, time_zone: &jiff::tz::TimeZone, head_office: &str) -> Result<NewComplaint, FieldError> {
    let received_at = r
        .date_received
        .to_zoned(time_zone.clone())
        .map_err(|e| FieldError::new("Date received", e.to_string()))?
        .timestamp();
    let issue = [r.issue.as_deref(), r.sub_issue.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" / ");
    let product = [Some(r.product.as_str()), r.sub_product.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" / ");
    let narrative = match &r.narrative {
        Some(n) => n.clone(),
        None if !issue.is_empty() => format!("{product}: {issue}"),
        None => product.clone(),
    };
    Ok(NewComplaint {
        channel: Channel::Regulator,
        regulator_order: Some(RegulatorOrder {
            regulator: ShortText::parse("regulator", "CFPB")?,
            order_number: ShortText::parse("Complaint ID", &r.complaint_id)?,
            deadline: None,
        }),
        received_at,
        complainant: Complainant {
            name: PersonName::parse("complainant", &format!("CFPB consumer {}", r.complaint_id))?,
            id_number: None,
            phone: None,
            email: None,
            customer_type: if r.tags.iter().any(|t| t.contains("Older American")) { CustomerType::Elderly } else { CustomerType::Individual },
            language: Language::En,
        },
        agent: None,
        respondent: Respondent { unit: head_office.to_string(), staff: Vec::new() },
        product: Some(ShortText::parse("Product", &product.chars().take(500).collect::<String>())?),
        business_type: None,
        amount: None,
        request: Request::parse("Issue", if issue.is_empty() { "Resolution of the complaint" } else { &issue })?,
        narrative: Narrative::parse("Consumer complaint narrative", &narrative)?,
        title: ShortText::parse("Issue", &format!("{product} — {issue}").chars().take(200).collect::<String>()).ok(),
        external_ref: Some(ExternalRef::parse("Complaint ID", &format!("cfpb:{}", r.complaint_id))?),
    })
}

/// What importing one record did.
#[derive(Debug)]
pub enum RowOutcome {
    /// Newly registered.
    Imported,
    /// Already present (same external reference).
    AlreadyPresent,
}

/// Registers one CFPB record for a caller allowed to import; a record that fails validation is
/// an `Invalid` error naming the CSV column.
pub async fn import_cfpb_record(app: &App, caller: &Caller, record: &CfpbRecord) -> AppResult<RowOutcome> {
    policy::require(caller, Operation::Import)?;
    let rules = app.rules.default_rules();
    let new = cfpb_to_new(record, &rules.profile.time_zone(), &app.rules.org.head_office().code)?;
    Ok(match crate::complaints::register(app, caller, new, None).await? {
        Registered::Created(_) => RowOutcome::Imported,
        Registered::Replayed(_) => RowOutcome::AlreadyPresent,
    })
}
