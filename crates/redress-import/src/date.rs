use jiff::civil::Date;

/// Parses a date as written in CFPB exports and their re-exports.
///
/// Accepted shapes (surrounding whitespace is ignored; day and month may have
/// one or two digits, the year always has four):
///
/// * `YYYY-MM-DD` and `YYYY/M/D`: year first, then month, then day;
/// * `MM/DD/YYYY` and `M/D/YYYY`: slashes with the year last are US order;
/// * `DD-MM-YYYY`: hyphens with the year last are day-first order.
///
/// The separator decides between US and day-first order rather than the
/// values: guessing from the values would silently swap day and month for
/// any date up to the 12th. So `04-27-2023` is rejected, not reinterpreted.
///
/// Returns `None` for anything else and for dates that do not exist
/// (`02/30/2023`).
pub fn parse_cfpb_date(text: &str) -> Option<Date> {
    let text = text.trim();
    let sep = if text.contains('/') { '/' } else { '-' };
    let mut parts = text.split(sep);
    let (a, b, c) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let (year, month, day) = if a.len() == 4 {
        (a, b, c)
    } else if c.len() == 4 && sep == '/' {
        (c, a, b)
    } else if c.len() == 4 {
        (c, b, a)
    } else {
        return None;
    };
    if year.len() != 4 || !(1..=2).contains(&month.len()) || !(1..=2).contains(&day.len()) {
        return None;
    }
    Date::new(number(year)?, number(month)?, number(day)?).ok()
}

/// `str::parse` alone would accept a leading `+`.
fn number<T: std::str::FromStr>(digits: &str) -> Option<T> {
    if digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::parse_cfpb_date;
    use jiff::civil::date;

    #[test]
    fn accepts_every_published_shape() {
        let d = date(2023, 4, 7);
        for text in [
            "04/07/2023",
            "4/7/2023",
            "2023-04-07",
            "2023-4-7",
            "2023/4/7",
            "2023/04/07",
            "07-04-2023",
            "7-4-2023",
            " 04/07/2023 ",
        ] {
            assert_eq!(parse_cfpb_date(text), Some(d), "{text}");
        }
    }

    #[test]
    fn separator_decides_day_and_month_order() {
        assert_eq!(parse_cfpb_date("12/01/2023"), Some(date(2023, 12, 1)));
        assert_eq!(parse_cfpb_date("12-01-2023"), Some(date(2023, 1, 12)));
        assert_eq!(parse_cfpb_date("04-27-2023"), None);
    }

    #[test]
    fn rejects_impossible_and_malformed_dates() {
        for text in [
            "",
            "13/45/2023",
            "02/30/2023",
            "2023-02-29",
            "31-04-2023",
            "2023-04",
            "2023-04-07-01",
            "04/07/23",
            "2023/04-07",
            "+4/7/2023",
            "004/7/2023",
            "2023-04-07T00:00:00",
            "April 7, 2023",
        ] {
            assert_eq!(parse_cfpb_date(text), None, "{text:?}");
        }
    }
}
