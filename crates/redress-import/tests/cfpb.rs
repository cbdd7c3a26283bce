//! Reading CFPB exports: the official header and a re-export with other column spellings, CRLF
//! and day-first dates, byte order marks, invalid UTF-8, malformed rows, line numbers and read
//! failures, each problem confined to its row unless it makes the whole file unusable; plus the
//! real April 2023 sample when the shared data folder is present.

use std::io::{self, Cursor, Read};
use std::path::Path;

use jiff::civil::date;
use redress_import::{CfpbReader, CfpbRecord, ImportError, RowError};

const OFFICIAL_HEADER: &str = "Date received,Product,Sub-product,Issue,Sub-issue,\
Consumer complaint narrative,Company public response,Company,State,ZIP code,Tags,\
Consumer consent provided?,Submitted via,Date sent to company,\
Company response to consumer,Timely response?,Consumer disputed?,Complaint ID";

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn read_all(input: &[u8]) -> Vec<Result<CfpbRecord, RowError>> {
    CfpbReader::new(Cursor::new(input))
        .expect("header accepted")
        .collect()
}

fn open_err(input: &[u8]) -> ImportError {
    match CfpbReader::new(Cursor::new(input)) {
        Ok(_) => panic!("header unexpectedly accepted"),
        Err(e) => e,
    }
}

/// A record with only the required fields set.
fn minimal(line: u64, id: &str, received: jiff::civil::Date, product: &str) -> CfpbRecord {
    CfpbRecord {
        line,
        complaint_id: id.into(),
        date_received: received,
        product: product.into(),
        sub_product: None,
        issue: None,
        sub_issue: None,
        narrative: None,
        company_public_response: None,
        company: None,
        state: None,
        zip_code: None,
        tags: vec![],
        consumer_consent: None,
        submitted_via: None,
        date_sent_to_company: None,
        company_response: None,
        timely_response: None,
        consumer_disputed: None,
    }
}

fn s(text: &str) -> Option<String> {
    Some(text.to_owned())
}

fn row_err(line: u64, field: Option<&str>, reason: &str) -> RowError {
    RowError {
        line,
        field: field.map(str::to_owned),
        reason: reason.to_owned(),
    }
}

/// An official-header file of `rows`, each row given as `column=value` pairs
/// over otherwise empty cells.
fn official_csv(rows: &[&str]) -> String {
    let mut out = format!("{OFFICIAL_HEADER}\n");
    for row in rows {
        out.push_str(row);
        out.push('\n');
    }
    out
}

#[test]
fn official_header_fixture() {
    let got = read_all(&fixture("official.csv"));
    let expected = vec![
        Ok(CfpbRecord {
            sub_product: s("General-purpose credit card or charge card"),
            issue: s("Fees or interest"),
            sub_issue: s("Problem with fees"),
            company_public_response: s(
                "Company has responded to the consumer and the CFPB and chooses not to provide a public response",
            ),
            company: s("CAPITAL ONE FINANCIAL CORPORATION"),
            state: s("VA"),
            zip_code: s("22102"),
            tags: vec!["Older American".into(), "Servicemember".into()],
            consumer_consent: s("Consent not provided"),
            submitted_via: s("Web"),
            date_sent_to_company: Some(date(2023, 4, 28)),
            company_response: s("Closed with explanation"),
            timely_response: Some(true),
            consumer_disputed: Some(false),
            ..minimal(2, "6900001", date(2023, 4, 27), "Credit card")
        }),
        Ok(CfpbRecord {
            submitted_via: s("Phone"),
            ..minimal(3, "6900002", date(2023, 4, 5), "Debt collection")
        }),
        Ok(CfpbRecord {
            sub_product: s("Checking account"),
            issue: s("Managing an account"),
            sub_issue: s("Deposits and withdrawals"),
            narrative: s(
                "I deposited $XXXX on XX/XX/2023.\nThe bank said \"pending\" and\nthen closed my account.",
            ),
            company: s("BANK OF EXAMPLE, N.A."),
            state: s("FL"),
            zip_code: s("330XX"),
            consumer_consent: s("Consent provided"),
            submitted_via: s("Web"),
            date_sent_to_company: Some(date(2023, 4, 7)),
            company_response: s("In progress"),
            timely_response: Some(true),
            ..minimal(
                4,
                "6900003",
                date(2023, 4, 7),
                "Checking or savings account",
            )
        }),
        Ok(CfpbRecord {
            sub_product: s("Conventional home mortgage"),
            issue: s("Trouble during payment process"),
            state: s("CA"),
            zip_code: s("90001"),
            consumer_consent: s("Other"),
            submitted_via: s("Referral"),
            date_sent_to_company: Some(date(2023, 4, 10)),
            company_response: s("Closed with monetary relief"),
            timely_response: Some(false),
            ..minimal(7, "6900004", date(2023, 4, 9), "Mortgage")
        }),
        Ok(CfpbRecord {
            sub_product: s("Loan"),
            issue: s("Getting a loan or lease"),
            company: s("EXAMPLE AUTO FINANCE"),
            state: s("TX"),
            zip_code: s("75001"),
            submitted_via: s("Web"),
            date_sent_to_company: Some(date(2023, 4, 28)),
            company_response: s("In progress"),
            timely_response: Some(true),
            ..minimal(8, "6900005", date(2023, 4, 27), "Vehicle loan or lease")
        }),
        Err(row_err(9, None, "expected 18 fields, found 12")),
        Err(row_err(
            10,
            Some("Date received"),
            "unrecognised date '13/45/2023'",
        )),
        Err(row_err(11, Some("Complaint ID"), "missing value")),
        Err(row_err(
            12,
            Some("Complaint ID"),
            "expected digits, found '69OO009'",
        )),
        Err(row_err(
            13,
            Some("Date sent to company"),
            "unrecognised date '02/30/2023'",
        )),
        Err(row_err(
            14,
            Some("Timely response?"),
            "expected Yes, No or N/A, found 'Maybe'",
        )),
        Ok(CfpbRecord {
            state: s("ME"),
            tags: vec!["Servicemember".into()],
            submitted_via: s("Web"),
            timely_response: Some(true),
            ..minimal(15, "6900012", date(2023, 12, 31), "Student loan")
        }),
    ];
    assert_eq!(got.len(), expected.len());
    for (got, expected) in got.iter().zip(&expected) {
        assert_eq!(got, expected);
    }
}

#[test]
fn row_errors_display_with_line_and_field() {
    let got = read_all(&fixture("official.csv"));
    let messages: Vec<String> = got
        .iter()
        .filter_map(|r| r.as_ref().err())
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        messages,
        [
            "line 9: expected 18 fields, found 12",
            "line 10: Date received: unrecognised date '13/45/2023'",
            "line 11: Complaint ID: missing value",
            "line 12: Complaint ID: expected digits, found '69OO009'",
            "line 13: Date sent to company: unrecognised date '02/30/2023'",
            "line 14: Timely response?: expected Yes, No or N/A, found 'Maybe'",
        ]
    );
}

#[test]
fn underscored_reexport_fixture_with_crlf_and_day_first_dates() {
    let got = read_all(&fixture("reexport.csv"));
    let expected = vec![
        Ok(CfpbRecord {
            sub_product: s("Credit reporting"),
            issue: s("Incorrect information on your report"),
            sub_issue: s("Information belongs to someone else"),
            company: s("EXAMPLE CREDIT BUREAU, INC."),
            state: s("GA"),
            zip_code: s("30318"),
            submitted_via: s("Web"),
            date_sent_to_company: Some(date(2023, 4, 3)),
            company_response: s("In progress"),
            timely_response: Some(true),
            ..minimal(
                2,
                "6800001",
                date(2023, 4, 3),
                "Credit reporting, credit repair services, or other personal consumer reports",
            )
        }),
        Ok(CfpbRecord {
            sub_product: s("I do not know"),
            issue: s("Attempts to collect debt not owed"),
            sub_issue: s("Debt is not yours"),
            narrative: s(
                "XXXX XXXX called me about a debt that is not mine.\nI told them so on XX/XX/XXXX.",
            ),
            company_public_response: s(
                "Company believes it acted appropriately as authorized by contract or law",
            ),
            company: s("EXAMPLE RECOVERY LLC"),
            state: s("OH"),
            zip_code: s("441XX"),
            tags: vec!["Older American".into()],
            consumer_consent: s("Consent provided"),
            submitted_via: s("Web"),
            date_sent_to_company: Some(date(2023, 4, 12)),
            company_response: s("Closed with explanation"),
            timely_response: Some(true),
            ..minimal(3, "6800002", date(2023, 4, 12), "Debt collection")
        }),
        Ok(CfpbRecord {
            sub_product: s("Medical debt"),
            issue: s("Written notification about debt"),
            company: s("EXAMPLE RECOVERY LLC"),
            state: s("OH"),
            submitted_via: s("Postal mail"),
            date_sent_to_company: Some(date(2023, 5, 1)),
            company_response: s("In progress"),
            timely_response: Some(false),
            ..minimal(5, "6800003", date(2023, 4, 30), "Debt collection")
        }),
    ];
    assert_eq!(got, expected);
}

#[test]
fn header_spellings_order_extra_and_absent_columns() {
    let input = "Internal ref,COMPLAINT-ID?,product,date_received,  Zip  Code ,tags,Consumer Disputed\n\
                 A-1,42,Prepaid card,2023/1/2,021XX,,N/A\n";
    assert_eq!(
        read_all(input.as_bytes()),
        [Ok(CfpbRecord {
            zip_code: s("021XX"),
            ..minimal(2, "42", date(2023, 1, 2), "Prepaid card")
        })]
    );
}

#[test]
fn missing_required_columns_are_named() {
    let err = open_err(b"Date received,Issue,Complaint ID\n01/02/2023,x,1\n");
    assert!(
        matches!(&err, ImportError::MissingColumns(c) if c == &["Product"]),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "missing required column 'Product'");

    let err = open_err(b"text,category\nhello,greeting\n");
    assert_eq!(
        err.to_string(),
        "missing required columns 'Date received', 'Product', 'Complaint ID'"
    );
}

#[test]
fn a_column_named_twice_is_rejected() {
    let err = open_err(b"Date received,Product,Complaint ID,Date_Received\n");
    assert_eq!(
        err.to_string(),
        "column 'Date received' appears twice in the header (columns 1 and 4)"
    );
}

#[test]
fn empty_input_is_a_file_error() {
    assert!(matches!(open_err(b""), ImportError::Empty));
    assert!(matches!(open_err(b"\n\r\n"), ImportError::Empty));
    assert!(matches!(open_err(b"\xEF\xBB\xBF"), ImportError::Empty));
}

#[test]
fn header_only_yields_nothing() {
    assert!(read_all(OFFICIAL_HEADER.as_bytes()).is_empty());
}

#[test]
fn byte_order_mark_is_ignored() {
    let mut input = b"\xEF\xBB\xBF".to_vec();
    input.extend_from_slice(official_csv(&["01/02/2023,Mortgage,,,,,,,,,,,,,,,,7"]).as_bytes());
    assert_eq!(
        read_all(&input),
        [Ok(minimal(2, "7", date(2023, 1, 2), "Mortgage"))]
    );
}

#[test]
fn byte_order_mark_split_across_reads_is_ignored() {
    /// Hands out one byte per read, as a slow pipe might.
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let Some((&first, rest)) = self.0.split_first() else {
                return Ok(0);
            };
            if buf.is_empty() {
                return Ok(0);
            }
            buf[0] = first;
            self.0 = rest;
            Ok(1)
        }
    }
    let mut input = b"\xEF\xBB\xBF".to_vec();
    input.extend_from_slice(b"Date received,Product,Complaint ID\n2023-01-02,Mortgage,7\n");
    let got: Vec<_> = CfpbReader::new(Trickle(&input))
        .expect("header accepted")
        .collect();
    assert_eq!(got, [Ok(minimal(2, "7", date(2023, 1, 2), "Mortgage"))]);
}

#[test]
fn invalid_utf8_fails_only_its_row_and_names_the_field() {
    let mut input = official_csv(&["01/02/2023,Mortgage,,,,,,,,,,,,,,,,1"]).into_bytes();
    // Latin-1 "café" in the company column.
    input.extend_from_slice(b"01/03/2023,Mortgage,,,,,,Caf\xE9 Bank,,,,,,,,,,2\n");
    input.extend_from_slice(b"01/04/2023,Mortgage,,,,,,,,,,,,,,,,3\n");
    let got = read_all(&input);
    assert_eq!(
        got,
        [
            Ok(minimal(2, "1", date(2023, 1, 2), "Mortgage")),
            Err(row_err(
                3,
                Some("Company"),
                "invalid UTF-8 at byte 4 of the value"
            )),
            Ok(minimal(4, "3", date(2023, 1, 4), "Mortgage")),
        ]
    );
    assert_eq!(
        got[1].as_ref().unwrap_err().to_string(),
        "line 3: Company: invalid UTF-8 at byte 4 of the value"
    );
}

#[test]
fn invalid_utf8_in_an_ignored_column_is_harmless() {
    let input = b"Date received,Product,Complaint ID,Notes\n2023-01-02,Mortgage,7,\xFF\xFE\n";
    assert_eq!(
        read_all(input),
        [Ok(minimal(2, "7", date(2023, 1, 2), "Mortgage"))]
    );
}

#[test]
fn too_many_fields_is_a_row_error() {
    let input = official_csv(&[
        "01/02/2023,Mortgage,,,,,,BANK, N.A.,,,,,,,,,,1",
        "01/02/2023,Mortgage,,,,,,,,,,,,,,,,2",
    ]);
    assert_eq!(
        read_all(input.as_bytes()),
        [
            Err(row_err(2, None, "expected 18 fields, found 19")),
            Ok(minimal(3, "2", date(2023, 1, 2), "Mortgage")),
        ]
    );
}

#[test]
fn missing_date_and_product_are_row_errors() {
    let input = official_csv(&[
        ",Mortgage,,,,,,,,,,,,,,,,1",
        "01/02/2023, ,,,,,,,,,,,,,,,,2",
        "04-27-2023,Mortgage,,,,,,,,,,,,,,,,3",
    ]);
    assert_eq!(
        read_all(input.as_bytes()),
        [
            Err(row_err(2, Some("Date received"), "missing value")),
            Err(row_err(3, Some("Product"), "missing value")),
            Err(row_err(
                4,
                Some("Date received"),
                "unrecognised date '04-27-2023'"
            )),
        ]
    );
}

#[test]
fn line_numbers_survive_crlf_blank_lines_and_embedded_newlines() {
    let input = "Date received,Product,Complaint ID,Consumer complaint narrative\r\n\
                 2023-01-02,Mortgage,1,\r\n\
                 \r\n\
                 \r\n\
                 2023-01-03,Mortgage,2,\"two\r\nlines\"\r\n\
                 2023-01-04,Mortgage,3,\"three\nmore\nlines\"\n\
                 \n\
                 2023-01-05,Mortgage,4,";
    let lines: Vec<u64> = read_all(input.as_bytes())
        .into_iter()
        .map(|r| r.expect("row parses").line)
        .collect();
    assert_eq!(lines, [2, 5, 7, 11]);
}

#[test]
fn unbalanced_quote_is_reported_with_its_extent() {
    let input = official_csv(&[
        "01/02/2023,Mortgage,,,,\"never closed,,,,,,,,,,,,1",
        "01/02/2023,Mortgage,,,,,,,,,,,,,,,,2",
        "01/02/2023,Mortgage,,,,,,,,,,,,,,,,3",
    ]);
    assert_eq!(
        read_all(input.as_bytes()),
        [Err(row_err(
            2,
            None,
            "expected 18 fields, found 6 (the record runs from line 2 to line 4; \
             a quote may be unbalanced)"
        ))]
    );
}

#[test]
fn long_values_are_shortened_in_messages() {
    let input = official_csv(&[&format!("{},Mortgage,,,,,,,,,,,,,,,,1", "9".repeat(100))]);
    let err = read_all(input.as_bytes()).remove(0).unwrap_err();
    assert_eq!(
        err.reason,
        format!("unrecognised date '{}...'", "9".repeat(40))
    );
}

#[test]
fn bytes_read_tracks_progress_to_the_end() {
    let input = fixture("official.csv");
    let mut reader = CfpbReader::new(Cursor::new(&input)).unwrap();
    let mut last = reader.bytes_read();
    assert!(last > 0 && last < input.len() as u64);
    while reader.next().is_some() {
        let now = reader.bytes_read();
        assert!(now > last, "progress must advance with each record");
        last = now;
    }
    assert_eq!(reader.bytes_read(), input.len() as u64);
}

#[test]
fn read_failure_midway_ends_with_one_row_error() {
    /// Fails once `ok` bytes have been delivered.
    struct Failing<'a> {
        data: &'a [u8],
        ok: usize,
    }
    impl Read for Failing<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.ok == 0 {
                return Err(io::Error::other("disk on fire"));
            }
            let n = buf.len().min(self.ok).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            self.ok -= n;
            Ok(n)
        }
    }
    let input = official_csv(&[
        "01/02/2023,Mortgage,,,,,,,,,,,,,,,,1",
        "01/03/2023,Mortgage",
    ]);
    let ok = OFFICIAL_HEADER.len() + "\n01/02/2023,Mortgage,,,,,,,,,,,,,,,,1\n01/03".len();
    let got: Vec<_> = CfpbReader::new(Failing {
        data: input.as_bytes(),
        ok,
    })
    .expect("header accepted")
    .collect();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0], Ok(minimal(2, "1", date(2023, 1, 2), "Mortgage")));
    let err = got[1].as_ref().unwrap_err();
    assert_eq!((err.line, err.field.as_deref()), (3, None));
    assert!(err.reason.contains("disk on fire"), "{err}");
}

/// The April 2023 sample of the real database, when the shared data folder
/// is present beside the checkout.
#[test]
fn real_cfpb_sample() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/cfpb/complaints-2023-04.csv");
    let Ok(file) = std::fs::File::open(&path) else {
        println!("skipping: ../shared/data not present");
        return;
    };
    let size = file.metadata().unwrap().len();
    let mut reader = CfpbReader::new(file).expect("header accepted");
    let (mut ok, mut failed, mut narratives) = (0, 0, 0);
    let mut last_line = 0;
    for item in reader.by_ref() {
        match item {
            Ok(record) => {
                ok += 1;
                narratives += usize::from(record.narrative.is_some());
                assert!(record.line > last_line);
                last_line = record.line;
            }
            Err(err) => {
                failed += 1;
                eprintln!("{err}");
            }
        }
    }
    assert_eq!(ok + failed, 3_999);
    assert_eq!(
        failed, 0,
        "every row of the published sample is well formed"
    );
    assert_eq!(narratives, 141);
    assert_eq!(reader.bytes_read(), size);
    // The file has 4,591 physical lines; the last record is one of them.
    assert_eq!(last_line, 4_591);
}
