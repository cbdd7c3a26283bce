//! Tables other systems hand over: a CSV file (UTF-8, or GBK/GB18030 as Excel writes it on a
//! Chinese Windows) or the first worksheet of an XLSX workbook, read into text cells with the
//! line number each row has in the file, and a [`Layout`] (data) that says which header names
//! each field.

use std::collections::HashMap;
use std::io::Cursor;

use calamine::{Data, Reader};
use serde::Deserialize;

use crate::error::ImportError;

/// A table as read: its header and its rows, each with its line (the spreadsheet's row number:
/// the header is line 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sheet {
    /// The header cells, trimmed.
    pub headers: Vec<String>,
    /// The rows that hold anything: (line, cells).
    pub rows: Vec<(u64, Vec<String>)>,
}

/// Why a file is no table.
#[derive(Debug, thiserror::Error)]
pub enum SheetError {
    /// The CSV could not be read.
    #[error("line {line}: {problem}")]
    Csv {
        /// Where.
        line: u64,
        /// What.
        problem: String,
    },
    /// The workbook could not be read.
    #[error("the workbook cannot be read: {0}")]
    Workbook(String),
    /// No header or no worksheet.
    #[error(transparent)]
    Shape(#[from] ImportError),
}

/// Reads a CSV or XLSX file; the kind is told by its content (an XLSX file is a ZIP archive).
pub fn read_sheet(bytes: &[u8]) -> Result<Sheet, SheetError> {
    if bytes.starts_with(b"PK\x03\x04") { read_xlsx(bytes) } else { read_csv(bytes) }
}

fn read_csv(bytes: &[u8]) -> Result<Sheet, SheetError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // A CSV saved by Excel on a Chinese Windows is GB18030 (GBK); anything valid as UTF-8 is
    // taken as UTF-8.
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t.to_string(),
        Err(_) => encoding_rs::GB18030.decode(bytes).0.into_owned(),
    };
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut headers = None;
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    // The reader's own line count lags behind a CRLF, and after one a record "starts" at the
    // LF ending the line before; counting the line ends up to that byte is exact.
    let line_at = |byte: u64| text.as_bytes()[..(byte as usize + 1).min(text.len())].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    loop {
        let more = reader.read_record(&mut record).map_err(|e| SheetError::Csv { line: e.position().map_or(0, |p| line_at(p.byte())), problem: e.to_string() })?;
        if !more {
            break;
        }
        let line = record.position().map_or(0, |p| line_at(p.byte()));
        let cells: Vec<String> = record.iter().map(|c| c.trim().to_string()).collect();
        if headers.is_none() {
            headers = Some(cells);
        } else if cells.iter().any(|c| !c.is_empty()) {
            rows.push((line, cells));
        }
    }
    Ok(Sheet { headers: headers.ok_or(ImportError::Empty)?, rows })
}

fn read_xlsx(bytes: &[u8]) -> Result<Sheet, SheetError> {
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|e| SheetError::Workbook(e.to_string()))?;
    let range = book.worksheet_range_at(0).ok_or(ImportError::Empty)?.map_err(|e| SheetError::Workbook(e.to_string()))?;
    let first_row = u64::from(range.start().map_or(0, |(r, _)| r));
    let mut headers = None;
    let mut rows = Vec::new();
    for (i, row) in range.rows().enumerate() {
        let line = first_row + i as u64 + 1;
        let cells: Vec<String> = row.iter().map(cell_text).collect();
        if headers.is_none() {
            if cells.iter().any(|c| !c.is_empty()) {
                headers = Some(cells);
            }
        } else if cells.iter().any(|c| !c.is_empty()) {
            rows.push((line, cells));
        }
    }
    Ok(Sheet { headers: headers.ok_or(ImportError::Empty)?, rows })
}

/// A cell as text; dates as `YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS`, whole numbers without `.0`
/// (a phone number or a work-order number typed as a number).
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.trim().to_string(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => excel_serial_text(d.as_f64()),
    }
}

/// An Excel date serial (days since 1899-12-30, the fraction the time of day) as text.
pub fn excel_serial_text(serial: f64) -> String {
    let days = serial.floor() as i64;
    let seconds = ((serial - serial.floor()) * 86_400.0).round() as i64;
    let Ok(date) = jiff::civil::date(1899, 12, 30).checked_add(jiff::Span::new().days(days)) else { return serial.to_string() };
    if seconds == 0 {
        return date.to_string();
    }
    let time = jiff::civil::Time::midnight().saturating_add(jiff::SignedDuration::from_secs(seconds));
    format!("{date} {}", time.strftime("%H:%M:%S"))
}

/// A date, and the time of day when given, as people and systems write them: `2026-12-01`,
/// `2026/12/1`, `2026.12.01`, `2026年12月1日`, `20261201`, each optionally followed by `14:30` or
/// `14:30:05` (or an ISO `T`).
pub fn parse_date_time(text: &str) -> Option<(jiff::civil::Date, Option<jiff::civil::Time>)> {
    let text = text.trim().replace('T', " ");
    let (date_part, time_part) = match text.split_once(char::is_whitespace) {
        Some((d, t)) => (d.to_string(), Some(t.trim().to_string())),
        None => (text.clone(), None),
    };
    let numbers: Vec<&str> = date_part.split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty()).collect();
    let (y, m, d): (i16, i8, i8) = match numbers[..] {
        [ymd] if ymd.len() == 8 => (ymd[..4].parse().ok()?, ymd[4..6].parse().ok()?, ymd[6..].parse().ok()?),
        [y, m, d] if y.len() == 4 => (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?),
        _ => return None,
    };
    let date = jiff::civil::Date::new(y, m, d).ok()?;
    let time = match time_part.filter(|t| !t.is_empty()) {
        None => None,
        Some(t) => {
            let parts: Vec<&str> = t.split(':').collect();
            let (h, mi, s): (i8, i8, i8) = match parts[..] {
                [h, m] => (h.parse().ok()?, m.parse().ok()?, 0),
                [h, m, s] => (h.parse().ok()?, m.parse().ok()?, s.split('.').next()?.parse().ok()?),
                _ => return None,
            };
            Some(jiff::civil::Time::new(h, mi, s, 0).ok()?)
        }
    };
    Some((date, time))
}

/// Which header names each field of a table, as data: for each field the headers it may have,
/// the first being the one written on export.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layout {
    /// What the table is, for messages.
    pub name: String,
    /// Fields every row needs.
    pub required: Vec<String>,
    /// Field → its accepted headers.
    pub columns: indexmap_like::OrderedColumns,
}

/// Columns in the order the file lists them.
pub mod indexmap_like {
    use serde::Deserialize;

    /// Field → headers, in file order.
    #[derive(Debug, Clone, Default)]
    pub struct OrderedColumns(pub Vec<(String, Vec<String>)>);

    impl<'de> Deserialize<'de> for OrderedColumns {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            // TOML tables keep no order through serde's maps; an array of tables does.
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            struct Column {
                field: String,
                headers: Vec<String>,
            }
            let columns = Vec::<Column>::deserialize(d)?;
            Ok(OrderedColumns(columns.into_iter().map(|c| (c.field, c.headers)).collect()))
        }
    }
}

/// A row's cells by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRow {
    /// The line in the file.
    pub line: u64,
    cells: HashMap<String, (String, String)>,
}

impl FieldRow {
    /// The cell of `field`, trimmed, `None` when empty or absent.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.cells.get(field).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }

    /// The header the file gives `field` (for messages), or the field's name.
    pub fn header<'a>(&'a self, field: &'a str) -> &'a str {
        self.cells.get(field).map_or(field, |(h, _)| h.as_str())
    }
}

impl Layout {
    /// Parses a layout file.
    pub fn parse_toml(text: &str) -> Result<Layout, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// The header written for `field` on export.
    pub fn export_header<'a>(&'a self, field: &'a str) -> &'a str {
        self.columns.0.iter().find(|(f, _)| f == field).and_then(|(_, h)| h.first()).map_or(field, String::as_str)
    }

    /// The fields in file order.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.columns.0.iter().map(|(f, _)| f.as_str())
    }

    /// The rows of a sheet by field; the required fields' columns must be present.
    pub fn rows(&self, sheet: &Sheet) -> Result<Vec<FieldRow>, ImportError> {
        let normal = |h: &str| h.trim().to_lowercase().replace([' ', '\u{3000}'], "");
        let mut index: HashMap<&str, (usize, &str)> = HashMap::new();
        for (field, names) in &self.columns.0 {
            let found: Vec<usize> = sheet.headers.iter().enumerate().filter(|(_, h)| names.iter().any(|n| normal(n) == normal(h))).map(|(i, _)| i).collect();
            if let [first, second, ..] = found[..] {
                return Err(ImportError::DuplicateColumn { column: field.clone(), first: first + 1, second: second + 1 });
            }
            if let Some(&i) = found.first() {
                index.insert(field.as_str(), (i, sheet.headers[i].as_str()));
            }
        }
        let missing: Vec<String> = self.required.iter().filter(|f| !index.contains_key(f.as_str())).map(|f| self.export_header(f).to_string()).collect();
        if !missing.is_empty() {
            return Err(ImportError::MissingColumns(missing));
        }
        Ok(sheet
            .rows
            .iter()
            .map(|(line, cells)| FieldRow {
                line: *line,
                cells: index.iter().map(|(f, (i, h))| (f.to_string(), (h.to_string(), cells.get(*i).cloned().unwrap_or_default()))).collect(),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAYOUT: &str = r#"
name = "test"
required = ["order", "text"]
[[columns]]
field = "order"
headers = ["转办单号", "Work order"]
[[columns]]
field = "text"
headers = ["投诉内容"]
[[columns]]
field = "phone"
headers = ["联系电话"]
"#;

    #[test]
    fn a_gbk_csv_is_read_with_its_lines() {
        let text = "转办单号,投诉内容,联系电话\r\nZB-1,\"多行\n内容\",13800000000\r\n,,\r\nZB-2,第二条,\r\n";
        let (gbk, _, _) = encoding_rs::GB18030.encode(text);
        let sheet = read_sheet(&gbk).unwrap();
        let layout = Layout::parse_toml(LAYOUT).unwrap();
        let rows = layout.rows(&sheet).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].line, rows[0].get("text")), (2, Some("多行\n内容")));
        assert_eq!((rows[1].line, rows[1].get("order"), rows[1].get("phone")), (5, Some("ZB-2"), None));
        assert_eq!(rows[1].header("order"), "转办单号");
    }

    #[test]
    fn missing_and_doubled_columns_are_named() {
        let layout = Layout::parse_toml(LAYOUT).unwrap();
        let sheet = read_sheet("Work order,联系电话\nZB-1,1\n".as_bytes()).unwrap();
        assert_eq!(layout.rows(&sheet).unwrap_err().to_string(), "missing required column '投诉内容'");
        let sheet = read_sheet("Work order,转办单号,投诉内容\n".as_bytes()).unwrap();
        assert!(matches!(layout.rows(&sheet).unwrap_err(), ImportError::DuplicateColumn { first: 1, second: 2, .. }));
    }

    #[test]
    fn dates_are_read_in_the_forms_people_write() {
        let d = jiff::civil::date(2026, 12, 1);
        for text in ["2026-12-01", "2026/12/1", "2026.12.01", "2026年12月1日", "20261201"] {
            assert_eq!(parse_date_time(text), Some((d, None)), "{text}");
        }
        assert_eq!(parse_date_time("2026-12-01 14:30"), Some((d, Some(jiff::civil::time(14, 30, 0, 0)))));
        assert_eq!(parse_date_time("2026-12-01T14:30:05"), Some((d, Some(jiff::civil::time(14, 30, 5, 0)))));
        assert_eq!(parse_date_time("2026-13-01"), None);
        assert_eq!(parse_date_time("next week"), None);
    }

    #[test]
    fn excel_serials_are_dates() {
        assert_eq!(excel_serial_text(46357.0), "2026-12-01");
        assert_eq!(excel_serial_text(46357.5), "2026-12-01 12:00:00");
    }
}
