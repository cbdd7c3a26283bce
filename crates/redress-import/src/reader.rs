use std::io::Read;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::date::parse_cfpb_date;
use crate::error::{ImportError, RowError};
use crate::header::{Col, ColumnMap};
use crate::lines::LineTracker;

/// One complaint from the CFPB public Consumer Complaint Database export.
///
/// Text fields are trimmed, and empty ones are `None`; the narrative is kept
/// exactly as published (including its `XXXX` redactions and line breaks)
/// unless it is blank.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CfpbRecord {
    /// 1-based physical line where the record starts (the header is line 1).
    pub line: u64,
    /// The CFPB's complaint number: a non-empty string of ASCII digits.
    pub complaint_id: String,
    /// Date the CFPB received the complaint.
    pub date_received: Date,
    /// Product, e.g. `Debt collection`.
    pub product: String,
    /// Sub-product, e.g. `Credit reporting`.
    pub sub_product: Option<String>,
    /// Issue, e.g. `Incorrect information on your report`.
    pub issue: Option<String>,
    /// Sub-issue.
    pub sub_issue: Option<String>,
    /// The consumer's own account, published only with consent; personal
    /// details are redacted as `XXXX`.
    pub narrative: Option<String>,
    /// The company's optional public statement.
    pub company_public_response: Option<String>,
    /// The company complained about.
    pub company: Option<String>,
    /// Consumer's state (two-letter code in practice).
    pub state: Option<String>,
    /// Consumer's ZIP code, possibly masked (`330XX`).
    pub zip_code: Option<String>,
    /// Tags such as `Older American` and `Servicemember`.
    pub tags: Vec<String>,
    /// Whether the consumer consented to publish the narrative, as worded in
    /// the export (`Consent provided`, `Consent not provided`, `Other`, ...).
    pub consumer_consent: Option<String>,
    /// Channel, e.g. `Web`, `Phone`, `Referral`.
    pub submitted_via: Option<String>,
    /// Date the CFPB forwarded the complaint to the company.
    pub date_sent_to_company: Option<Date>,
    /// Response category, e.g. `Closed with explanation`, `In progress`.
    pub company_response: Option<String>,
    /// Whether the company responded in time; `None` when not stated.
    pub timely_response: Option<bool>,
    /// Whether the consumer disputed the response; `None` when not stated or
    /// `N/A` (the CFPB stopped collecting it in 2017).
    pub consumer_disputed: Option<bool>,
}

/// Streaming reader of a CFPB complaint CSV export.
///
/// Accepts the official header and re-exports of it: column names match
/// ignoring case, with spaces, underscores and hyphens treated alike and a
/// trailing `?` ignored; columns may come in any order; unknown columns are
/// ignored; optional columns may be absent. A leading UTF-8 BOM is skipped.
///
/// Iterating yields one item per CSV record. A record that cannot be imported
/// (wrong number of fields, invalid UTF-8, a bad date, a missing complaint
/// number, ...) yields a [`RowError`] and reading continues with the next
/// record. If the input fails to read part-way, one last [`RowError`] with no
/// field reports it and the iteration ends.
pub struct CfpbReader<R: Read> {
    csv: csv::Reader<LineTracker<R>>,
    columns: ColumnMap,
    record: csv::ByteRecord,
    done: bool,
}

impl<R: Read> CfpbReader<R> {
    /// Reads the header and checks that the file can be imported.
    ///
    /// The reader is buffered internally; there is no need to wrap `reader`
    /// in a `BufReader`.
    ///
    /// # Errors
    ///
    /// [`ImportError::Empty`] if there is no header, [`ImportError::MissingColumns`]
    /// if `Date received`, `Product` or `Complaint ID` is absent,
    /// [`ImportError::DuplicateColumn`] if a column is named twice and
    /// [`ImportError::Io`] if reading fails.
    pub fn new(reader: R) -> Result<Self, ImportError> {
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(LineTracker::new(reader));
        let mut header = csv::ByteRecord::new();
        if !csv
            .read_byte_record(&mut header)
            .map_err(std::io::Error::from)?
        {
            return Err(ImportError::Empty);
        }
        let columns = ColumnMap::from_header(header.iter())?;
        Ok(CfpbReader {
            csv,
            columns,
            record: header,
            done: false,
        })
    }

    /// Bytes of the input consumed so far, for progress against the file
    /// size. Reaches the input's length once iteration is over.
    pub fn bytes_read(&self) -> u64 {
        self.csv.position().byte()
    }

    fn convert(&mut self, line: u64) -> Result<CfpbRecord, RowError> {
        if self.record.len() != self.columns.width {
            let mut reason = format!(
                "expected {} fields, found {}",
                self.columns.width,
                self.record.len()
            );
            // An unbalanced quote swallows the following lines into this
            // record; saying how far it runs points at the culprit.
            let end = self.csv.get_ref().end_line(self.bytes_read());
            if end > line {
                reason.push_str(&format!(
                    " (the record runs from line {line} to line {end}; a quote may be unbalanced)"
                ));
            }
            return Err(RowError::record(line, reason));
        }
        let row = Row {
            record: &self.record,
            columns: &self.columns,
            line,
        };
        Ok(CfpbRecord {
            line,
            date_received: row
                .date(Col::DateReceived)?
                .ok_or_else(|| row.missing(Col::DateReceived))?,
            product: row
                .text(Col::Product)?
                .ok_or_else(|| row.missing(Col::Product))?,
            sub_product: row.text(Col::SubProduct)?,
            issue: row.text(Col::Issue)?,
            sub_issue: row.text(Col::SubIssue)?,
            narrative: row.narrative()?,
            company_public_response: row.text(Col::CompanyPublicResponse)?,
            company: row.text(Col::Company)?,
            state: row.text(Col::State)?,
            zip_code: row.text(Col::ZipCode)?,
            tags: row.tags()?,
            consumer_consent: row.text(Col::ConsumerConsent)?,
            submitted_via: row.text(Col::SubmittedVia)?,
            date_sent_to_company: row.date(Col::DateSentToCompany)?,
            company_response: row.text(Col::CompanyResponse)?,
            timely_response: row.yes_no(Col::TimelyResponse)?,
            consumer_disputed: row.yes_no(Col::ConsumerDisputed)?,
            complaint_id: row.complaint_id()?,
        })
    }
}

impl<R: Read> Iterator for CfpbReader<R> {
    type Item = Result<CfpbRecord, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let start = self.bytes_read();
        match self.csv.read_byte_record(&mut self.record) {
            Ok(true) => {
                let line = self.csv.get_mut().start_line(start);
                Some(self.convert(line))
            }
            Ok(false) => {
                self.done = true;
                None
            }
            Err(err) => {
                // After a failed read the CSV layer's state is unknown, so
                // carrying on could loop or yield garbage.
                self.done = true;
                let line = self.csv.get_mut().start_line(start);
                Some(Err(RowError::record(
                    line,
                    format!("cannot read the input: {err}"),
                )))
            }
        }
    }
}

/// Field access for one record, turning each problem into a [`RowError`]
/// that names the column.
struct Row<'a> {
    record: &'a csv::ByteRecord,
    columns: &'a ColumnMap,
    line: u64,
}

impl Row<'_> {
    fn error(&self, col: Col, reason: impl Into<String>) -> RowError {
        RowError::field(self.line, col.name(), reason)
    }

    fn missing(&self, col: Col) -> RowError {
        self.error(col, "missing value")
    }

    /// The raw cell, or `None` when the file has no such column.
    fn raw(&self, col: Col) -> Result<Option<&str>, RowError> {
        let Some(bytes) = self.columns.position(col).and_then(|i| self.record.get(i)) else {
            return Ok(None);
        };
        std::str::from_utf8(bytes).map(Some).map_err(|e| {
            self.error(
                col,
                format!("invalid UTF-8 at byte {} of the value", e.valid_up_to() + 1),
            )
        })
    }

    fn trimmed(&self, col: Col) -> Result<Option<&str>, RowError> {
        Ok(self.raw(col)?.map(str::trim).filter(|s| !s.is_empty()))
    }

    fn text(&self, col: Col) -> Result<Option<String>, RowError> {
        Ok(self.trimmed(col)?.map(str::to_owned))
    }

    fn narrative(&self) -> Result<Option<String>, RowError> {
        Ok(self
            .raw(Col::Narrative)?
            .filter(|s| !s.trim().is_empty())
            .map(str::to_owned))
    }

    fn date(&self, col: Col) -> Result<Option<Date>, RowError> {
        self.trimmed(col)?
            .map(|s| {
                parse_cfpb_date(s)
                    .ok_or_else(|| self.error(col, format!("unrecognised date '{}'", shorten(s))))
            })
            .transpose()
    }

    fn yes_no(&self, col: Col) -> Result<Option<bool>, RowError> {
        let Some(value) = self.trimmed(col)? else {
            return Ok(None);
        };
        if value.eq_ignore_ascii_case("yes") {
            Ok(Some(true))
        } else if value.eq_ignore_ascii_case("no") {
            Ok(Some(false))
        } else if value.eq_ignore_ascii_case("n/a") {
            Ok(None)
        } else {
            Err(self.error(
                col,
                format!("expected Yes, No or N/A, found '{}'", shorten(value)),
            ))
        }
    }

    fn tags(&self) -> Result<Vec<String>, RowError> {
        Ok(self
            .trimmed(Col::Tags)?
            .map(|s| {
                s.split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default())
    }

    fn complaint_id(&self) -> Result<String, RowError> {
        let id = self
            .trimmed(Col::ComplaintId)?
            .ok_or_else(|| self.missing(Col::ComplaintId))?;
        if id.bytes().all(|b| b.is_ascii_digit()) {
            Ok(id.to_owned())
        } else {
            Err(self.error(
                Col::ComplaintId,
                format!("expected digits, found '{}'", shorten(id)),
            ))
        }
    }
}

/// Keeps quoted values readable when a misplaced narrative lands in a short
/// field.
fn shorten(value: &str) -> String {
    const MAX: usize = 40;
    match value.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", &value[..cut]),
        None => value.to_owned(),
    }
}
