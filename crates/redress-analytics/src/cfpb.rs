//! The CFPB public Consumer Complaint Database layout: complaints as rows of the export
//! analysts load, so a bank under the `us-cfpb` profile can hand its complaints over in the
//! regulator's own shape, and complaints imported from the CFPB export go back out unchanged.
//!
//! [`cfpb_record`] is the inverse of the app's import (`redress_app::import::cfpb_to_new`),
//! which turns a CFPB row into a regulator-forwarded complaint:
//!
//! | column | the import puts it in | the export takes it from |
//! |---|---|---|
//! | Date received | `received_at` (midnight, profile's zone) | the local date of `received_at` |
//! | Product, Sub-product | `product` = `Product / Sub-product` | `product`, split at the first ` / ` |
//! | Issue, Sub-issue | `request` = `Issue / Sub-issue` (`Resolution of the complaint` when both are empty) | `request`, split likewise |
//! | Consumer complaint narrative | `narrative` (without one: `Product: Issue`) | `narrative`, unless it is that stand-in |
//! | Tags | `Older American` makes the complainant `elderly` | `Older American` for an elderly complainant |
//! | Complaint ID | `external_ref` = `cfpb:ID`, the regulator order number | the same |
//! | Company | — | the `company` argument |
//!
//! So importing the exported file gives back complaints with the same fields. The other columns
//! are not kept by the import (state, ZIP code, submitted via, consent, company public response,
//! date sent to company, the company's response, timely, disputed); the export fills what the
//! complaint's own handling says:
//!
//! - **Company response to consumer** from the status and resolution: `In progress` while open
//!   (`Untimely response` once overdue), `Closed with monetary relief` (refund, compensation,
//!   fee waiver), `Closed with non-monetary relief` (remediation, apology), `Closed with
//!   explanation` (explanation, rejection), `Closed` (declined, withdrawn, merged, or decided
//!   without a resolution);
//! - **Timely response?** from the first closing (within its deadline or not), `No` for an open
//!   complaint already overdue, empty otherwise;
//! - **Consumer disputed?** `Yes` after a review request or a dissatisfied follow-up, `No` after
//!   a satisfied one, empty otherwise;
//! - **Submitted via** from the channel (`Phone`, `Email`, `Web`, `Postal mail`, `Referral` for
//!   another regulator), empty for a complaint that came from the CFPB itself or a branch;
//! - **Consumer consent provided?** `Consent provided` when a CFPB complaint's published
//!   narrative is written back; state, ZIP code, public response and date sent stay empty.
//!
//! A complaint registered in Redress (not imported) has no CFPB number: its Complaint ID is the
//! digits of its own number (`TS-20250303-000017` → `20250303000017`), unique and digits only as
//! the column requires, and its Issue is its CFPB issue label, else its cause.
//!
//! [`write_cfpb_csv`] streams records out with the official header and `MM/DD/YYYY` dates.
//! Every text cell that begins like a formula gets a leading apostrophe
//! ([`crate::export::neutralise`]); such a text (a narrative beginning with `-`, say) comes back
//! from an import with that apostrophe.

use std::borrow::Borrow;
use std::io::Write;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use redress_domain::complaint::{Channel, Complaint, CustomerType, ResolutionKind, Satisfaction};
use redress_domain::deadline::DueState;
use redress_domain::lifecycle::Status;
use serde::Serialize;

use crate::export::{ExportError, neutralise};

/// The columns of the CFPB public export, in its order (the header [`write_cfpb_csv`] writes).
pub const CFPB_COLUMNS: [&str; 18] = [
    "Date received",
    "Product",
    "Sub-product",
    "Issue",
    "Sub-issue",
    "Consumer complaint narrative",
    "Company public response",
    "Company",
    "State",
    "ZIP code",
    "Tags",
    "Consumer consent provided?",
    "Submitted via",
    "Date sent to company",
    "Company response to consumer",
    "Timely response?",
    "Consumer disputed?",
    "Complaint ID",
];

/// What the import puts in `request` when a CFPB row has neither issue nor sub-issue.
pub const NO_ISSUE_REQUEST: &str = "Resolution of the complaint";

/// The prefix of a CFPB complaint's external reference (`cfpb:1234567`).
pub const EXTERNAL_REF_PREFIX: &str = "cfpb:";

/// One row of the CFPB export, field for field ([`CFPB_COLUMNS`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CfpbRecord {
    /// Date received.
    pub date_received: Date,
    /// Product.
    pub product: String,
    /// Sub-product.
    pub sub_product: Option<String>,
    /// Issue.
    pub issue: Option<String>,
    /// Sub-issue.
    pub sub_issue: Option<String>,
    /// Consumer complaint narrative.
    pub narrative: Option<String>,
    /// Company public response.
    pub company_public_response: Option<String>,
    /// Company.
    pub company: Option<String>,
    /// State.
    pub state: Option<String>,
    /// ZIP code.
    pub zip_code: Option<String>,
    /// Tags (`Older American`, `Servicemember`), written joined by `, `.
    pub tags: Vec<String>,
    /// Consumer consent provided?
    pub consumer_consent: Option<String>,
    /// Submitted via.
    pub submitted_via: Option<String>,
    /// Date sent to company.
    pub date_sent_to_company: Option<Date>,
    /// Company response to consumer.
    pub company_response: Option<String>,
    /// Timely response?
    pub timely_response: Option<bool>,
    /// Consumer disputed?
    pub consumer_disputed: Option<bool>,
    /// Complaint ID: digits.
    pub complaint_id: String,
}

/// The CFPB row of a complaint of `company`, dated in `tz` (the profile's time zone, the one
/// the import used). See the module documentation for each column.
pub fn cfpb_record(complaint: &Complaint, company: &str, tz: &TimeZone) -> CfpbRecord {
    let imported_id = complaint.external_ref.as_deref().and_then(|r| r.strip_prefix(EXTERNAL_REF_PREFIX)).filter(|id| is_digits(id));
    let from_cfpb = imported_id.is_some();
    let product_text = complaint.product.as_ref().map(|p| p.as_str().to_string()).or_else(|| {
        let c = &complaint.classification;
        c.cfpb_product.as_ref().or(c.business_type.as_ref()).map(|l| l.name_en.clone())
    });
    let (product, sub_product) = match &product_text {
        Some(text) => split(text),
        None => ("Other".to_string(), None),
    };
    let request = complaint.request.as_str();
    let (issue, sub_issue) = if from_cfpb {
        if request == NO_ISSUE_REQUEST { (None, None) } else { let (i, s) = split(request); (Some(i), s) }
    } else {
        let c = &complaint.classification;
        (c.cfpb_issue.as_ref().or(c.cause.as_ref()).map(|l| l.name_en.clone()), None)
    };
    let narrative = complaint.narrative.as_str();
    let narrative = if from_cfpb && product_text.as_deref().is_some_and(|p| narrative == stand_in_narrative(p, request)) { None } else { Some(narrative.to_string()) };
    CfpbRecord {
        date_received: complaint.received_at.to_zoned(tz.clone()).date(),
        product,
        sub_product,
        issue,
        sub_issue,
        consumer_consent: (from_cfpb && narrative.is_some()).then(|| "Consent provided".to_string()),
        narrative,
        company_public_response: None,
        company: Some(company.trim()).filter(|c| !c.is_empty()).map(str::to_string),
        state: None,
        zip_code: None,
        tags: if complaint.complainant.customer_type == CustomerType::Elderly { vec!["Older American".to_string()] } else { Vec::new() },
        submitted_via: submitted_via(complaint).map(str::to_string),
        date_sent_to_company: None,
        company_response: Some(company_response(complaint).to_string()),
        timely_response: timely(complaint),
        consumer_disputed: disputed(complaint),
        complaint_id: match imported_id {
            Some(id) => id.to_string(),
            None => own_id(complaint),
        },
    }
}

/// The narrative the import makes up for a row without one.
fn stand_in_narrative(product: &str, request: &str) -> String {
    if request == NO_ISSUE_REQUEST { product.to_string() } else { format!("{product}: {request}") }
}

fn split(text: &str) -> (String, Option<String>) {
    match text.split_once(" / ") {
        Some((head, rest)) => (head.to_string(), Some(rest.to_string())),
        None => (text.to_string(), None),
    }
}

fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// The digits of the complaint's own number; its id as a number should it have none.
fn own_id(complaint: &Complaint) -> String {
    let digits: String = complaint.number.chars().filter(char::is_ascii_digit).collect();
    if digits.is_empty() { complaint.id.0.as_u128().to_string() } else { digits }
}

fn submitted_via(complaint: &Complaint) -> Option<&'static str> {
    match complaint.channel {
        Channel::Hotline => Some("Phone"),
        Channel::Email => Some("Email"),
        Channel::Web | Channel::App | Channel::SocialMedia => Some("Web"),
        Channel::Letter => Some("Postal mail"),
        Channel::Branch => None,
        Channel::Regulator => {
            let from_cfpb = complaint.regulator_order.as_ref().is_some_and(|o| o.regulator.as_str().eq_ignore_ascii_case("CFPB"));
            (!from_cfpb).then_some("Referral")
        }
    }
}

fn company_response(complaint: &Complaint) -> &'static str {
    let overdue = complaint.due_state == DueState::Overdue;
    match complaint.status {
        Status::Received
        | Status::Accepted
        | Status::Assigned
        | Status::Investigating
        | Status::Waiting
        | Status::ResolutionProposed
        | Status::AwaitingApproval
        | Status::UnderReview => {
            if overdue {
                "Untimely response"
            } else {
                "In progress"
            }
        }
        Status::Decided | Status::Closed | Status::Archived => {
            let kind = complaint.resolution.as_ref().map(|r| r.kind).or_else(|| complaint.closings.iter().rev().find_map(|c| c.resolution));
            match kind {
                Some(ResolutionKind::Refund | ResolutionKind::Compensation | ResolutionKind::FeeWaiver) => "Closed with monetary relief",
                Some(ResolutionKind::Remediation | ResolutionKind::Apology) => "Closed with non-monetary relief",
                Some(ResolutionKind::Explanation | ResolutionKind::Rejection) => "Closed with explanation",
                None => "Closed",
            }
        }
        Status::Declined | Status::Withdrawn | Status::Merged => "Closed",
    }
}

fn timely(complaint: &Complaint) -> Option<bool> {
    match complaint.closings.first() {
        Some(first) => Some(first.on_time),
        None => (complaint.due_state == DueState::Overdue).then_some(false),
    }
}

fn disputed(complaint: &Complaint) -> Option<bool> {
    if complaint.review.is_some() {
        return Some(true);
    }
    complaint.follow_up.as_ref().map(|f| f.satisfaction == Satisfaction::Dissatisfied)
}

/// The export's date form, `MM/DD/YYYY`.
fn date_text(date: Date) -> String {
    date.strftime("%m/%d/%Y").to_string()
}

fn yes_no(value: Option<bool>) -> &'static str {
    match value {
        Some(true) => "Yes",
        Some(false) => "No",
        None => "",
    }
}

/// The 18 cells of a record, text neutralised.
fn cells(r: &CfpbRecord) -> [String; 18] {
    let text = |value: &Option<String>| value.as_deref().map(|v| neutralise(v).into_owned()).unwrap_or_default();
    [
        date_text(r.date_received),
        neutralise(&r.product).into_owned(),
        text(&r.sub_product),
        text(&r.issue),
        text(&r.sub_issue),
        text(&r.narrative),
        text(&r.company_public_response),
        text(&r.company),
        text(&r.state),
        text(&r.zip_code),
        neutralise(&r.tags.join(", ")).into_owned(),
        text(&r.consumer_consent),
        text(&r.submitted_via),
        r.date_sent_to_company.map(date_text).unwrap_or_default(),
        text(&r.company_response),
        yes_no(r.timely_response).to_string(),
        yes_no(r.consumer_disputed).to_string(),
        neutralise(&r.complaint_id).into_owned(),
    ]
}

/// Writes the official header and one row per record, streaming (nothing is held beyond the
/// CSV writer's buffer, which is flushed at the end), RFC 4180 quoting, CRLF line ends, no
/// byte-order mark (as the CFPB publishes it). Returns the number of rows written.
///
/// # Errors
///
/// [`ExportError::Csv`] when writing fails.
pub fn write_cfpb_csv<R: Borrow<CfpbRecord>>(records: impl IntoIterator<Item = R>, writer: impl Write) -> Result<u64, ExportError> {
    let mut csv = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(writer);
    csv.write_record(CFPB_COLUMNS)?;
    let mut rows = 0;
    for record in records {
        csv.write_record(cells(record.borrow()))?;
        rows += 1;
    }
    csv.flush().map_err(csv::Error::from)?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use jiff::Timestamp;
    use redress_domain::classify::{Classification, LabelSource};
    use redress_domain::complaint::{
        Actor, Closing, Complainant, ComplaintId, Draft, FollowUp, Language, NewComplaint, RegistrationContext, RegulatorOrder, Resolution, Respondent, Rules, UserRef,
    };
    use redress_domain::fields::{ExternalRef, FieldError, LongText, Narrative, PersonName, Phone, Request, ShortText};
    use redress_domain::org::Role;
    use redress_domain::rulebook::RuleBook;
    use redress_import::CfpbReader;

    use super::*;

    fn book() -> &'static RuleBook {
        static BOOK: OnceLock<RuleBook> = OnceLock::new();
        BOOK.get_or_init(RuleBook::builtin)
    }

    fn rules() -> Rules<'static> {
        book().rules("us-cfpb").expect("the shipped US profile")
    }

    fn tz() -> TimeZone {
        rules().profile.time_zone()
    }

    /// The app's import of one CFPB row (`redress_app::import::cfpb_to_new`), copied here
    /// because the app depends on this crate through the store; the lead's integration test
    /// runs the app's own.
    fn import(r: &redress_import::CfpbRecord) -> Result<NewComplaint, FieldError> {
        let received_at = r.date_received.to_zoned(tz()).map_err(|e| FieldError::new("Date received", e.to_string()))?.timestamp();
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
            respondent: Respondent { unit: book().org.head_office().code.clone(), staff: Vec::new() },
            product: Some(ShortText::parse("Product", &product.chars().take(500).collect::<String>())?),
            business_type: None,
            amount: None,
            request: Request::parse("Issue", if issue.is_empty() { NO_ISSUE_REQUEST } else { &issue })?,
            narrative: Narrative::parse("Consumer complaint narrative", &narrative)?,
            title: ShortText::parse("Issue", &format!("{product} — {issue}").chars().take(200).collect::<String>()).ok(),
            external_ref: Some(ExternalRef::parse("Complaint ID", &format!("{EXTERNAL_REF_PREFIX}{}", r.complaint_id))?),
        })
    }

    fn now() -> Timestamp {
        "2025-03-03T15:00:00Z".parse().unwrap()
    }

    fn register(new: NewComplaint, serial: u64) -> Complaint {
        let intake = Actor { id: "intake1".into(), name: "Intake".into(), role: Role::IntakeAgent, department: None };
        let draft = Draft::prepare(new, Classification::empty(LabelSource::Rules), rules(), &intake, now());
        let ctx = RegistrationContext { id: ComplaintId::generate(now()), serial, handler: None, duplicate_of: None };
        draft.register(ctx, rules()).0
    }

    fn read(bytes: &[u8]) -> Vec<redress_import::CfpbRecord> {
        CfpbReader::new(bytes).unwrap().map(|r| r.unwrap()).collect()
    }

    /// Three rows of the official layout: everything filled, no narrative, no issue at all.
    const SOURCE: &str = "Date received,Product,Sub-product,Issue,Sub-issue,Consumer complaint narrative,Company public response,Company,State,ZIP code,Tags,Consumer consent provided?,Submitted via,Date sent to company,Company response to consumer,Timely response?,Consumer disputed?,Complaint ID\r\n\
        04/07/2023,Debt collection,Credit card debt,Attempts to collect debt not owed,Debt is not yours,\"They called me at XXXX, twice.\nThen again.\",Company has responded,ACME BANK,FL,330XX,\"Older American, Servicemember\",Consent provided,Web,04/07/2023,Closed with explanation,Yes,N/A,6812750\r\n\
        03/05/2015,Mortgage,FHA mortgage,\"Loan modification,collection,foreclosure\",,,,ACME BANK,CA,92592,,,Referral,03/06/2015,Closed with monetary relief,Yes,No,1255159\r\n\
        2015-01-02,Credit card,,,,,,ACME BANK,,,,,Phone,,In progress,,,1200001\r\n";

    #[test]
    fn an_imported_complaint_goes_back_to_its_row() {
        let source = read(SOURCE.as_bytes());
        let complaints: Vec<Complaint> = source.iter().enumerate().map(|(i, r)| register(import(r).unwrap(), i as u64 + 1)).collect();
        let records: Vec<CfpbRecord> = complaints.iter().map(|c| cfpb_record(c, "ACME BANK", &tz())).collect();

        let full = &records[0];
        assert_eq!(full.date_received, Date::constant(2023, 4, 7));
        assert_eq!((full.product.as_str(), full.sub_product.as_deref()), ("Debt collection", Some("Credit card debt")));
        assert_eq!((full.issue.as_deref(), full.sub_issue.as_deref()), (Some("Attempts to collect debt not owed"), Some("Debt is not yours")));
        assert_eq!(full.narrative.as_deref(), Some("They called me at XXXX, twice.\nThen again."));
        assert_eq!(full.consumer_consent.as_deref(), Some("Consent provided"));
        assert_eq!(full.tags, vec!["Older American"]);
        assert_eq!(full.company.as_deref(), Some("ACME BANK"));
        assert_eq!(full.complaint_id, "6812750");
        // The import keeps none of these; the export says what Redress knows.
        assert_eq!((full.state.as_deref(), full.zip_code.as_deref(), full.submitted_via.as_deref()), (None, None, None));
        assert_eq!(full.company_response.as_deref(), Some("In progress"));
        assert_eq!((full.timely_response, full.consumer_disputed), (None, None));

        let no_narrative = &records[1];
        assert_eq!(no_narrative.issue.as_deref(), Some("Loan modification,collection,foreclosure"));
        assert_eq!((no_narrative.sub_issue.as_deref(), no_narrative.narrative.as_deref(), no_narrative.consumer_consent.as_deref()), (None, None, None));
        assert!(no_narrative.tags.is_empty());

        let bare = &records[2];
        assert_eq!((bare.product.as_str(), bare.sub_product.as_deref(), bare.issue.as_deref(), bare.narrative.as_deref()), ("Credit card", None, None, None));
        assert_eq!(bare.date_received, Date::constant(2015, 1, 2));
    }

    #[test]
    fn export_then_import_gives_the_same_complaints() {
        let source = read(SOURCE.as_bytes());
        let first: Vec<NewComplaint> = source.iter().map(|r| import(r).unwrap()).collect();
        let complaints: Vec<Complaint> = first.iter().enumerate().map(|(i, n)| register(n.clone(), i as u64 + 1)).collect();
        let mut out = Vec::new();
        let rows = write_cfpb_csv(complaints.iter().map(|c| cfpb_record(c, "ACME BANK", &tz())), &mut out).unwrap();
        assert_eq!(rows, 3);
        let again = read(&out);
        assert_eq!(again.len(), 3);
        for ((before, after), original) in first.iter().zip(&again).zip(&source) {
            assert_eq!(&import(after).unwrap(), before, "{after:?}");
            // Row for row, the columns the import keeps come back as they were.
            assert_eq!((&after.date_received, &after.product, &after.sub_product), (&original.date_received, &original.product, &original.sub_product));
            assert_eq!((&after.issue, &after.sub_issue, &after.narrative), (&original.issue, &original.sub_issue, &original.narrative));
            assert_eq!((&after.complaint_id, &after.company), (&original.complaint_id, &original.company));
        }
        // The records themselves survive the file unchanged.
        let written: Vec<CfpbRecord> = complaints.iter().map(|c| cfpb_record(c, "ACME BANK", &tz())).collect();
        for (w, a) in written.iter().zip(&again) {
            assert_eq!((&w.tags, &w.consumer_consent, &w.company_response, w.timely_response, w.consumer_disputed), (&a.tags, &a.consumer_consent, &a.company_response, a.timely_response, a.consumer_disputed));
        }
    }

    fn user(id: &str) -> UserRef {
        UserRef { id: id.into(), name: format!("User {id}") }
    }

    fn hotline() -> NewComplaint {
        NewComplaint {
            channel: Channel::Hotline,
            regulator_order: None,
            received_at: "2025-03-02T16:30:00Z".parse().unwrap(),
            complainant: Complainant {
                name: PersonName::parse("complainant.name", "Jane Roe").unwrap(),
                id_number: None,
                phone: Some(Phone::parse("complainant.phone", "+12025550123").unwrap()),
                email: None,
                customer_type: CustomerType::Elderly,
                language: Language::En,
            },
            agent: None,
            respondent: Respondent { unit: book().org.head_office().code.clone(), staff: Vec::new() },
            product: Some(ShortText::parse("product", "Credit card / Store credit card").unwrap()),
            business_type: None,
            amount: None,
            request: Request::parse("request", "Refund the late fee").unwrap(),
            narrative: Narrative::parse("narrative", "-- I paid on time and was charged a late fee.").unwrap(),
            title: None,
            external_ref: None,
        }
    }

    #[test]
    fn a_complaint_registered_here_in_cfpb_terms() {
        let mut c = register(hotline(), 17);
        let open = cfpb_record(&c, "ACME BANK", &tz());
        // Received 2 March 16:30 UTC is 2 March in New York.
        assert_eq!(open.date_received, Date::constant(2025, 3, 2));
        assert_eq!(open.complaint_id, c.number.chars().filter(char::is_ascii_digit).collect::<String>());
        assert!(open.complaint_id.ends_with("000017"));
        assert_eq!((open.product.as_str(), open.sub_product.as_deref()), ("Credit card", Some("Store credit card")));
        assert_eq!(open.issue, None, "no CFPB issue or cause label: the request is not an issue");
        assert_eq!(open.narrative.as_deref(), Some("-- I paid on time and was charged a late fee."));
        assert_eq!((open.submitted_via.as_deref(), open.consumer_consent.as_deref()), (Some("Phone"), None));
        assert_eq!(open.tags, vec!["Older American"]);
        assert_eq!((open.company_response.as_deref(), open.timely_response, open.consumer_disputed), (Some("In progress"), None, None));

        c.due_state = DueState::Overdue;
        let late = cfpb_record(&c, "ACME BANK", &tz());
        assert_eq!((late.company_response.as_deref(), late.timely_response), (Some("Untimely response"), Some(false)));

        // Decided with a refund, in time, then a dissatisfied follow-up.
        let at = now();
        c.status = Status::Decided;
        c.due_state = DueState::OnTime;
        c.resolution = Some(Resolution {
            kind: ResolutionKind::Refund,
            amount: None,
            summary: LongText::parse("summary", "Late fee refunded").unwrap(),
            proposed_by: user("h1"),
            proposed_at: at,
            approved_by: None,
            needs_approval: false,
        });
        c.closings.push(Closing {
            at,
            status: Status::Decided,
            department: c.owner.department.clone(),
            handler: Some(user("h1")),
            business_type: None,
            cause: None,
            resolution: Some(ResolutionKind::Refund),
            redress: None,
            on_time: true,
            calendar_days: 1,
            working_days: 1,
            handling_days: 1,
            satisfaction: None,
            followed_up_at: None,
        });
        let decided = cfpb_record(&c, "ACME BANK", &tz());
        assert_eq!((decided.company_response.as_deref(), decided.timely_response, decided.consumer_disputed), (Some("Closed with monetary relief"), Some(true), None));
        c.follow_up = Some(FollowUp { satisfaction: Satisfaction::Dissatisfied, comments: None, by: user("h2"), at });
        assert_eq!(cfpb_record(&c, "ACME BANK", &tz()).consumer_disputed, Some(true));
        c.follow_up = Some(FollowUp { satisfaction: Satisfaction::Satisfied, comments: None, by: user("h2"), at });
        assert_eq!(cfpb_record(&c, "ACME BANK", &tz()).consumer_disputed, Some(false));
        c.resolution.as_mut().unwrap().kind = ResolutionKind::Apology;
        assert_eq!(cfpb_record(&c, "ACME BANK", &tz()).company_response.as_deref(), Some("Closed with non-monetary relief"));
        c.status = Status::Withdrawn;
        assert_eq!(cfpb_record(&c, " ", &tz()).company_response.as_deref(), Some("Closed"));
        assert_eq!(cfpb_record(&c, " ", &tz()).company, None);
    }

    #[test]
    fn the_file_has_the_official_header_dates_and_safe_text() {
        let mut c = register(hotline(), 3);
        c.narrative = Narrative::parse("narrative", "=HYPERLINK(\"http://evil.example\",\"click\")").unwrap();
        let record = cfpb_record(&c, "@ACME", &tz());
        let mut out = Vec::new();
        write_cfpb_csv([&record], &mut out).unwrap();
        let text = String::from_utf8(out.clone()).unwrap();
        let mut lines = text.split("\r\n");
        assert_eq!(lines.next(), Some(CFPB_COLUMNS.join(",").as_str()));
        let row = lines.next().unwrap();
        assert!(row.starts_with("03/02/2025,Credit card,Store credit card,,,"), "{row}");
        assert!(row.contains(r#""'=HYPERLINK(""http://evil.example"",""click"")""#) && row.contains(",'@ACME,"), "{row}");
        let back = read(&out);
        assert_eq!(back[0].narrative.as_deref(), Some("'=HYPERLINK(\"http://evil.example\",\"click\")"));
        assert_eq!(back[0].date_received, record.date_received);
        // An empty iterator still writes the header.
        let mut empty = Vec::new();
        assert_eq!(write_cfpb_csv(std::iter::empty::<CfpbRecord>(), &mut empty).unwrap(), 0);
        assert_eq!(empty, format!("{}\r\n", CFPB_COLUMNS.join(",")).into_bytes());
    }

    /// Folds a column name as the importer does (case, spaces, `_` and `-` alike, `?` dropped).
    fn fold(name: &str) -> String {
        let name = name.trim().trim_end_matches('?');
        name.split([' ', '_', '-']).filter(|w| !w.is_empty()).map(str::to_lowercase).collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn the_columns_match_the_real_exports() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/cfpb");
        let header = |file: &str| -> Option<Vec<String>> {
            let path = dir.join(file);
            let mut reader = csv::Reader::from_path(&path).ok()?;
            Some(reader.headers().ok()?.iter().map(str::to_string).collect())
        };
        let (Some(april_2023), Some(early_2015)) = (header("complaints-2023-04.csv"), header("complaints-2015-q1.csv")) else {
            eprintln!("skipping: the CFPB files of ../shared/data/cfpb are absent");
            return;
        };
        // The 2023 re-export has all 18 columns in the official order, with underscores.
        assert_eq!(april_2023.iter().map(|h| fold(h)).collect::<Vec<_>>(), CFPB_COLUMNS.map(fold).to_vec());
        // The 2015 one keeps a subset under the official names, plus an unnamed index and the
        // older "Company response".
        let official: Vec<String> = CFPB_COLUMNS.map(fold).to_vec();
        let other: Vec<&String> = early_2015.iter().filter(|h| !official.contains(&fold(h))).collect();
        eprintln!("2015 columns outside the official 18: {other:?}");
        assert_eq!(other, [&String::new(), &"Company response".to_string()]);
    }
}
