//! Tables for download: CSV and Excel workbooks of the figures.
//!
//! A [`Table`] is a title, column names and rows of [`Value`]s. [`to_csv`] writes one table,
//! [`to_xlsx`] a workbook with one worksheet per table.
//!
//! Both are safe to open in a spreadsheet: a text that begins like a formula (`=`, `+`, `-`, `@`,
//! a tab or a carriage return) gets a leading apostrophe ([`neutralise`], the OWASP advice
//! against CSV injection), so a complainant who writes `=HYPERLINK(…)` in a narrative cannot make
//! a manager's Excel run it. Numbers are written as numbers and are never neutralised (a
//! negative amount stays a number). In the workbook, text is also written as a string cell, never
//! as a formula.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
use serde::Serialize;
use thiserror::Error;

/// One cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Value {
    /// Text, neutralised on output.
    Text(String),
    /// A whole number.
    Int(i64),
    /// A decimal amount, written with its own scale (`12.50` stays `12.50`).
    Decimal(Decimal),
    /// A fraction shown as a percentage (`0.125` is 12.5 %); not finite is written empty.
    Percent(f64),
    /// Nothing.
    Empty,
}

impl From<&str> for Value {
    fn from(text: &str) -> Self {
        Value::Text(text.to_string())
    }
}

impl From<String> for Value {
    fn from(text: String) -> Self {
        Value::Text(text)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Int(n)
    }
}

impl From<Decimal> for Value {
    fn from(d: Decimal) -> Self {
        Value::Decimal(d)
    }
}

/// A table for download.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    /// The title: the worksheet's name in a workbook (made valid there).
    pub title: String,
    /// The column names.
    pub columns: Vec<String>,
    /// The rows; a row shorter than the columns is padded with empty cells.
    pub rows: Vec<Vec<Value>>,
}

/// Why a workbook could not be written.
#[derive(Debug, Error)]
pub enum ExportError {
    /// The workbook writer refused (e.g. more rows than a worksheet holds: 1,048,576).
    #[error("cannot write the workbook: {0}")]
    Xlsx(#[from] XlsxError),
    /// Writing the CSV failed.
    #[error("cannot write the CSV: {0}")]
    Csv(#[from] csv::Error),
}

/// The characters that make a spreadsheet read a cell as a formula (or as the start of one).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A text as it may safely go into a spreadsheet cell: with a leading apostrophe when it begins
/// with `=`, `+`, `-`, `@`, a tab or a carriage return; unchanged (and not copied) otherwise.
pub fn neutralise(text: &str) -> Cow<'_, str> {
    if text.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// The text of a cell in a CSV file: numbers as numbers, text neutralised, a percentage as
/// `12.5%` (which spreadsheets read back as the number 0.125).
fn csv_cell(value: &Value) -> Cow<'_, str> {
    match value {
        Value::Text(text) => neutralise(text),
        Value::Int(n) => Cow::Owned(n.to_string()),
        Value::Decimal(d) => Cow::Owned(d.to_string()),
        Value::Percent(f) if f.is_finite() => Cow::Owned(format!("{}%", trim_number(f * 100.0))),
        Value::Percent(_) | Value::Empty => Cow::Borrowed(""),
    }
}

/// At most four decimals, without trailing zeros.
fn trim_number(x: f64) -> String {
    let text = format!("{x:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" { "0".to_string() } else { text.to_string() }
}

/// One table as CSV: UTF-8 with a byte-order mark (so Excel reads Chinese correctly), the
/// column names, then the rows, quoted as RFC 4180 requires, lines ended by CRLF.
pub fn to_csv(table: &Table) -> Vec<u8> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    write_csv(table, &mut out).expect("writing into memory does not fail");
    out
}

fn write_csv(table: &Table, out: &mut Vec<u8>) -> Result<(), ExportError> {
    let mut writer = csv::WriterBuilder::new().flexible(true).terminator(csv::Terminator::CRLF).from_writer(out);
    // An empty record would be written as `""`; a table without columns has no header line.
    if !table.columns.is_empty() {
        writer.write_record(table.columns.iter().map(|c| neutralise(c).into_owned()))?;
    }
    let mut cells: Vec<Cow<'_, str>> = Vec::with_capacity(table.columns.len());
    for row in &table.rows {
        cells.clear();
        cells.extend(row.iter().map(csv_cell));
        while cells.len() < table.columns.len() {
            cells.push(Cow::Borrowed(""));
        }
        writer.write_record(cells.iter().map(|c| c.as_bytes()))?;
    }
    writer.flush().map_err(csv::Error::from)?;
    Ok(())
}

/// The longest text Excel keeps in a cell.
const MAX_CELL_CHARS: usize = 32_767;

/// A workbook with one worksheet per table: sheet names made valid, a bold and frozen header
/// row, text as string cells (neutralised, cut at Excel's 32,767 characters), numbers as
/// numbers, decimals with their scale, percentages with a percent format, columns as wide as
/// their contents (within bounds).
///
/// # Errors
///
/// [`ExportError::Xlsx`] when a table does not fit a worksheet (more than 1,048,575 rows or
/// 16,384 columns).
pub fn to_xlsx(sheets: &[Table]) -> Result<Vec<u8>, ExportError> {
    let mut workbook = Workbook::new();
    let names = sheet_names(sheets.iter().map(|t| t.title.as_str()));
    let header = Format::new().set_bold();
    let percent = Format::new().set_num_format("0.0%");
    let mut decimals: BTreeMap<u32, Format> = BTreeMap::new();
    for (table, name) in sheets.iter().zip(names) {
        let sheet = workbook.add_worksheet();
        sheet.set_name(name)?;
        write_sheet(sheet, table, &header, &percent, &mut decimals)?;
    }
    Ok(workbook.save_to_buffer()?)
}

fn write_sheet(sheet: &mut Worksheet, table: &Table, header: &Format, percent: &Format, decimals: &mut BTreeMap<u32, Format>) -> Result<(), ExportError> {
    let mut widths: Vec<usize> = table.columns.iter().map(|c| display_width(c)).collect();
    for (col, name) in table.columns.iter().enumerate() {
        sheet.write_string_with_format(0, column(col)?, cell_text(name), header)?;
    }
    for (r, row) in table.rows.iter().enumerate() {
        let r = u32::try_from(r + 1).map_err(|_| XlsxError::RowColumnLimitError)?;
        for (col, value) in row.iter().enumerate() {
            let c = column(col)?;
            let width = match value {
                Value::Text(text) => {
                    let text = cell_text(text);
                    let width = display_width(&text);
                    sheet.write_string(r, c, text)?;
                    width
                }
                Value::Int(n) => {
                    // Excel holds numbers as doubles: integers beyond 2^53 lose their last digits.
                    sheet.write_number(r, c, *n as f64)?;
                    n.to_string().len()
                }
                Value::Decimal(d) => {
                    let scale = d.scale().min(10);
                    let format = decimals.entry(scale).or_insert_with(|| Format::new().set_num_format(decimal_format(scale)));
                    sheet.write_number_with_format(r, c, d.to_f64().unwrap_or(f64::NAN), format)?;
                    d.to_string().len() + 2
                }
                Value::Percent(f) if f.is_finite() => {
                    sheet.write_number_with_format(r, c, *f, percent)?;
                    8
                }
                Value::Percent(_) | Value::Empty => 0,
            };
            if col >= widths.len() {
                widths.resize(col + 1, 0);
            }
            widths[col] = widths[col].max(width);
        }
    }
    for (col, width) in widths.into_iter().enumerate() {
        sheet.set_column_width(column(col)?, (width.clamp(6, 60) + 2) as f64)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

fn column(index: usize) -> Result<u16, XlsxError> {
    u16::try_from(index).map_err(|_| XlsxError::RowColumnLimitError)
}

/// A text as written into a workbook: neutralised and cut to what a cell holds.
fn cell_text(text: &str) -> String {
    let text = neutralise(text);
    match text.char_indices().nth(MAX_CELL_CHARS) {
        Some((cut, _)) => text[..cut].to_string(),
        None => text.into_owned(),
    }
}

/// `#,##0`, `#,##0.0`, `#,##0.00`, … for a decimal's scale.
fn decimal_format(scale: u32) -> String {
    if scale == 0 {
        "#,##0".to_string()
    } else {
        format!("#,##0.{}", "0".repeat(scale as usize))
    }
}

/// Roughly how many character widths a text takes: CJK and other wide characters count two.
fn display_width(text: &str) -> usize {
    text.lines().map(|line| line.chars().map(|c| if is_wide(c) { 2 } else { 1 }).sum()).max().unwrap_or(0)
}

fn is_wide(c: char) -> bool {
    matches!(c as u32, 0x1100..=0x115F | 0x2E80..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 | 0x20000..=0x3FFFD)
}

/// Valid, distinct worksheet names for these titles: the characters Excel refuses (`[ ] : * ?
/// / \`) become `_`, no apostrophe at either end, at most 31 UTF-16 units, not empty (`Sheet`),
/// not `History` (reserved by Excel), and unique ignoring case (a ` (2)` suffix, shortened to
/// fit).
pub fn sheet_names<'a>(titles: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    const MAX: usize = 31;
    let mut taken: HashSet<String> = HashSet::new();
    let mut names = Vec::new();
    for title in titles {
        let cleaned: String = title.chars().map(|c| if matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\') || c.is_control() { '_' } else { c }).collect();
        let cleaned = cleaned.trim().trim_matches('\'').trim();
        let mut base = fit(cleaned, MAX);
        if base.is_empty() {
            base = "Sheet".to_string();
        }
        if base.eq_ignore_ascii_case("history") {
            base.push('_');
        }
        let mut name = base.clone();
        let mut n = 2;
        while !taken.insert(name.to_lowercase()) {
            let suffix = format!(" ({n})");
            name = format!("{}{suffix}", fit(&base, MAX - suffix.len()).trim_end_matches('\''));
            n += 1;
        }
        names.push(name);
    }
    names
}

/// The longest prefix of `text` of at most `max` UTF-16 units.
fn fit(text: &str, max: usize) -> String {
    let mut units = 0;
    text.chars()
        .take_while(|c| {
            units += c.len_utf16();
            units <= max
        })
        .collect::<String>()
        .trim_end_matches('\'')
        .to_string()
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn sample() -> Table {
        Table {
            title: "Complaints by cause".into(),
            columns: vec!["原因 cause".into(), "count".into(), "redress".into(), "share".into(), "note".into()],
            rows: vec![
                vec!["服务态度 attitude".into(), Value::Int(12), Value::Decimal(Decimal::new(-1_250, 2)), Value::Percent(0.125), "=HYPERLINK(\"http://x\")".into()],
                vec!["line one\nline \"two\", with comma".into(), Value::Int(-3), Value::Decimal(Decimal::new(7, 0)), Value::Percent(f64::NAN), Value::Empty],
                vec!["@SUM(A1)".into()],
            ],
        }
    }

    #[test]
    fn every_formula_start_is_neutralised() {
        for text in ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"] {
            assert_eq!(neutralise(text), format!("'{text}"), "{text:?}");
        }
        for text in ["", "1+1", "a=b", " =1", "'=1", "投诉", "£5"] {
            assert!(matches!(neutralise(text), Cow::Borrowed(t) if t == text), "{text:?}");
        }
    }

    #[test]
    fn csv_round_trips_through_a_reader() {
        let bytes = to_csv(&sample());
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
        let text = std::str::from_utf8(&bytes).unwrap();
        assert!(text.contains("\r\n"));
        let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(&bytes[3..]);
        assert_eq!(reader.headers().unwrap(), vec!["原因 cause", "count", "redress", "share", "note"]);
        let rows: Vec<Vec<String>> = reader.records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect();
        assert_eq!(rows, vec![
            vec!["服务态度 attitude", "12", "-12.50", "12.5%", "'=HYPERLINK(\"http://x\")"],
            vec!["line one\nline \"two\", with comma", "-3", "7", "", ""],
            vec!["'@SUM(A1)", "", "", "", ""],
        ]);
    }

    #[test]
    fn percentages_are_trimmed() {
        assert_eq!(csv_cell(&Value::Percent(1.0 / 3.0)), "33.3333%");
        assert_eq!(csv_cell(&Value::Percent(0.5)), "50%");
        assert_eq!(csv_cell(&Value::Percent(-0.0)), "0%");
        assert_eq!(csv_cell(&Value::Percent(f64::INFINITY)), "");
    }

    #[test]
    fn sheet_names_are_valid_and_unique() {
        let long = "A very long title that Excel would refuse outright";
        let names = sheet_names(["By cause", "by CAUSE", "a/b: [c]*?\\", "'quoted'", "", "History", long, long, "投诉原因分析表投诉原因分析表投诉原因分析表投诉原因分析表投诉原因"]);
        assert_eq!(names[0], "By cause");
        assert_eq!(names[1], "by CAUSE (2)");
        assert_eq!(names[2], "a_b_ _c____");
        assert_eq!(names[3], "quoted");
        assert_eq!(names[4], "Sheet");
        assert_eq!(names[5], "History_");
        assert_eq!(names[6], "A very long title that Excel wo");
        assert_eq!(names[7], "A very long title that Exce (2)");
        for name in &names {
            assert!(name.encode_utf16().count() <= 31 && !name.is_empty(), "{name}");
            assert!(!name.contains(['[', ']', ':', '*', '?', '/', '\\']) && !name.starts_with('\'') && !name.ends_with('\''), "{name}");
        }
        let lower: HashSet<String> = names.iter().map(|n| n.to_lowercase()).collect();
        assert_eq!(lower.len(), names.len());
    }

    fn unzip(bytes: &[u8]) -> BTreeMap<String, String> {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut files = BTreeMap::new();
        for i in 0..archive.len() {
            let mut file = archive.by_index(i).unwrap();
            let mut text = String::new();
            file.read_to_string(&mut text).unwrap();
            files.insert(file.name().unwrap().to_string(), text);
        }
        files
    }

    #[test]
    fn a_workbook_holds_one_sheet_per_table_with_safe_text() {
        let mut second = sample();
        second.title = "complaints BY cause".into();
        let bytes = to_xlsx(&[sample(), second]).unwrap();
        assert!(bytes.starts_with(b"PK"));
        let files = unzip(&bytes);
        let workbook = &files["xl/workbook.xml"];
        assert!(workbook.contains(r#"name="Complaints by cause""#) && workbook.contains(r#"name="complaints BY cause (2)""#), "{workbook}");
        let sheet = &files["xl/worksheets/sheet1.xml"];
        // No formula anywhere; text cells are shared strings, numbers are numbers.
        assert!(!sheet.contains("<f>"), "{sheet}");
        assert!(sheet.contains(r#"t="s""#));
        assert!(sheet.contains("<v>12</v>") && sheet.contains("<v>-12.5</v>") && sheet.contains("<v>0.125</v>"), "{sheet}");
        // The header row is frozen and the columns have widths.
        assert!(sheet.contains(r#"state="frozen""#) && sheet.contains("<cols>"), "{sheet}");
        let strings = &files["xl/sharedStrings.xml"];
        assert!(strings.contains("<t>'=HYPERLINK(&quot;http://x&quot;)</t>") || strings.contains("<t>'=HYPERLINK(\"http://x\")</t>"), "{strings}");
        assert!(strings.contains("'@SUM(A1)") && strings.contains("服务态度 attitude"), "{strings}");
        let styles = &files["xl/styles.xml"];
        assert!(styles.contains("0.0%") && styles.contains("#,##0.00") && styles.contains("<b/>"), "{styles}");
    }

    #[test]
    fn a_text_longer_than_a_cell_is_cut() {
        let long = "投".repeat(MAX_CELL_CHARS + 10);
        assert_eq!(cell_text(&long).chars().count(), MAX_CELL_CHARS);
        let table = Table { title: "long".into(), columns: vec!["text".into()], rows: vec![vec![Value::Text(long)]] };
        assert!(to_xlsx(&[table]).unwrap().starts_with(b"PK"));
    }

    #[test]
    fn an_empty_table_and_an_empty_workbook_are_fine() {
        let empty = Table { title: String::new(), columns: Vec::new(), rows: Vec::new() };
        assert_eq!(to_csv(&empty), b"\xEF\xBB\xBF".to_vec());
        assert!(to_xlsx(&[empty]).unwrap().starts_with(b"PK"));
        assert!(to_xlsx(&[]).unwrap().starts_with(b"PK"));
    }
}
