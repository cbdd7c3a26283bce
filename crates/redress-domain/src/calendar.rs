//! Working-day calendars as data.
//!
//! Public holidays, and in China the make-up working days (调休) that move weekends around them,
//! change every year by government notice. They are therefore kept in TOML files
//! (`data/calendars/*.toml`) rather than code, and a deployment can add next year's notice from a
//! file without a rebuild ([`CalendarSet::insert`] merges it by year; the program reads the file
//! and hands its text to [`crate::rulebook::RuleBook::load`]).
//!
//! File format: one table per year, keyed by the year.
//!
//! ```toml
//! [2025]
//! holidays = ["2025-01-28", "2025-01-29"]      # days off, including weekend days inside a block
//! workdays = ["2025-01-26"]                    # weekend days that are working days (调休上班)
//! names = { "2025-01-28" = "春节 Spring Festival" }  # keyed by the first day of a block
//! ```
//!
//! Outside the listed dates the week is Monday to Friday.

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::{Date, Weekday};

/// Longest run of consecutive holidays searched backwards for a block name. Real blocks are at
/// most nine days; the bound only keeps a malformed calendar from causing a long walk.
const MAX_HOLIDAY_BLOCK_DAYS: usize = 31;

/// A problem in a calendar file or directory.
#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    /// The text is not valid TOML.
    #[error("calendar {id:?}: invalid TOML: {source}")]
    Toml {
        /// Calendar id.
        id: String,
        /// Parser error, with line and column.
        #[source]
        source: toml::de::Error,
    },
    /// A top-level key is not a year.
    #[error("calendar {id:?}: top-level key {key:?} is not a year; expected tables such as [2025]")]
    NotAYear {
        /// Calendar id.
        id: String,
        /// The offending key.
        key: String,
    },
    /// A year entry has the wrong shape (not a table, a list that is not a list, ...).
    #[error("calendar {id:?}, year {year}: {field} must be {expected}")]
    WrongShape {
        /// Calendar id.
        id: String,
        /// Year table.
        year: i16,
        /// Field name (or the year table itself).
        field: String,
        /// What was expected.
        expected: &'static str,
    },
    /// A key inside a year table is not `holidays`, `workdays` or `names`.
    #[error(
        "calendar {id:?}, year {year}: unknown field {field:?}; expected holidays, workdays or names"
    )]
    UnknownField {
        /// Calendar id.
        id: String,
        /// Year table.
        year: i16,
        /// The unknown key.
        field: String,
    },
    /// A value is not a `YYYY-MM-DD` date.
    #[error("calendar {id:?}, year {year}: {field} entry {value:?} is not a date (YYYY-MM-DD)")]
    BadDate {
        /// Calendar id.
        id: String,
        /// Year table.
        year: i16,
        /// Field the value was found in.
        field: &'static str,
        /// The raw value.
        value: String,
    },
    /// A date is listed under another year's table, usually a typo in the year.
    #[error("calendar {id:?}: {date} is listed under year {year}")]
    WrongYear {
        /// Calendar id.
        id: String,
        /// The table it was found in.
        year: i16,
        /// The date.
        date: Date,
    },
    /// The same date is both a holiday and a make-up working day.
    #[error("calendar {id:?}: {date} is listed both as a holiday and as a working day")]
    HolidayAndWorkday {
        /// Calendar id.
        id: String,
        /// The date.
        date: Date,
    },
    /// A name is given for a date that is not a holiday.
    #[error("calendar {id:?}: names has {date}, which is not in holidays")]
    NameWithoutHoliday {
        /// Calendar id.
        id: String,
        /// The date.
        date: Date,
    },
}

/// The dates of one year of a calendar.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct YearDays {
    holidays: BTreeSet<Date>,
    workdays: BTreeSet<Date>,
    names: BTreeMap<Date, String>,
}

/// A working-day calendar: which days are working days, and the names of holidays.
///
/// Years not listed in the calendar fall back to Monday–Friday; callers that must not silently
/// miss holidays check [`Calendar::covers`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    id: String,
    years: BTreeMap<i16, YearDays>,
}

impl Calendar {
    /// An empty calendar (every Monday–Friday is a working day).
    pub fn empty(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            years: BTreeMap::new(),
        }
    }

    /// Parses a calendar from the TOML format of `data/calendars/*.toml`.
    pub fn parse_toml(id: &str, text: &str) -> Result<Calendar, CalendarError> {
        let table: toml::Table = toml::from_str(text).map_err(|source| CalendarError::Toml {
            id: id.to_owned(),
            source,
        })?;
        let mut years = BTreeMap::new();
        for (key, value) in &table {
            let year: i16 = key
                .parse()
                .ok()
                .filter(|y| (1..=9999).contains(y))
                .ok_or_else(|| CalendarError::NotAYear {
                    id: id.to_owned(),
                    key: key.clone(),
                })?;
            let year_table = value.as_table().ok_or_else(|| CalendarError::WrongShape {
                id: id.to_owned(),
                year,
                field: format!("[{year}]"),
                expected: "a table",
            })?;
            years.insert(year, parse_year(id, year, year_table)?);
        }
        Ok(Calendar {
            id: id.to_owned(),
            years,
        })
    }

    /// The calendar id (for shipped calendars: `cn`, `gb-eng`, `us`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whether the calendar lists holidays for `year`. Outside covered years only weekends are
    /// days off, so deadlines there may be too early.
    pub fn covers(&self, year: i16) -> bool {
        self.years.contains_key(&year)
    }

    /// The years the calendar lists, in ascending order.
    pub fn covered_years(&self) -> impl Iterator<Item = i16> + '_ {
        self.years.keys().copied()
    }

    /// Whether `date` is a working day: listed holidays are off, listed make-up days are on,
    /// otherwise Monday to Friday.
    pub fn is_working_day(&self, date: Date) -> bool {
        if let Some(year) = self.years.get(&date.year()) {
            if year.holidays.contains(&date) {
                return false;
            }
            if year.workdays.contains(&date) {
                return true;
            }
        }
        !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
    }

    /// Whether `date` is a listed holiday (weekends that are merely weekends are not).
    pub fn is_holiday(&self, date: Date) -> bool {
        self.years
            .get(&date.year())
            .is_some_and(|y| y.holidays.contains(&date))
    }

    /// The name of the holiday `date` belongs to, if it is a listed holiday.
    ///
    /// Names are keyed by the first day of a block, so a day inside a block (e.g. the fourth day
    /// of the Spring Festival break) takes the name of the nearest named holiday before it in the
    /// same unbroken run of holidays.
    pub fn holiday_name(&self, date: Date) -> Option<&str> {
        let mut day = date;
        for _ in 0..MAX_HOLIDAY_BLOCK_DAYS {
            let year = self.years.get(&day.year())?;
            if !year.holidays.contains(&day) {
                return None;
            }
            if let Some(name) = year.names.get(&day) {
                return Some(name);
            }
            day = day.yesterday().ok()?;
        }
        None
    }

    /// The `n`-th working day strictly after `start`; `start` itself when `n` is 0.
    ///
    /// Saturates at the largest representable date.
    pub fn add_working_days(&self, start: Date, n: u32) -> Date {
        let mut day = start;
        let mut counted = 0;
        while counted < n {
            match day.tomorrow() {
                Ok(next) => day = next,
                Err(_) => return day,
            }
            if self.is_working_day(day) {
                counted += 1;
            }
        }
        day
    }

    /// The number of working days in `(from, to]`; 0 when `to` is not after `from`.
    pub fn working_days_between(&self, from: Date, to: Date) -> u32 {
        let mut count = 0;
        let mut day = from;
        while day < to {
            match day.tomorrow() {
                Ok(next) => day = next,
                Err(_) => break,
            }
            if self.is_working_day(day) {
                count += 1;
            }
        }
        count
    }

    /// Adds the years of `other` to this calendar.
    ///
    /// A year present in both is replaced as a whole by `other`'s: a corrected notice must be
    /// able to remove a day, which a union could not do.
    pub fn merge(&mut self, other: Calendar) {
        self.years.extend(other.years);
    }
}

fn parse_year(id: &str, year: i16, table: &toml::Table) -> Result<YearDays, CalendarError> {
    let mut days = YearDays::default();
    for (field, value) in table {
        match field.as_str() {
            "holidays" => days.holidays = parse_date_list(id, year, "holidays", value)?,
            "workdays" => days.workdays = parse_date_list(id, year, "workdays", value)?,
            "names" => {
                let names = value.as_table().ok_or_else(|| CalendarError::WrongShape {
                    id: id.to_owned(),
                    year,
                    field: "names".into(),
                    expected: "a table of \"YYYY-MM-DD\" = \"name\"",
                })?;
                for (key, name) in names {
                    let date = parse_date(id, year, "names", key)?;
                    let name = name.as_str().ok_or_else(|| CalendarError::WrongShape {
                        id: id.to_owned(),
                        year,
                        field: format!("names.\"{key}\""),
                        expected: "a string",
                    })?;
                    days.names.insert(date, name.to_owned());
                }
            }
            other => {
                return Err(CalendarError::UnknownField {
                    id: id.to_owned(),
                    year,
                    field: other.to_owned(),
                });
            }
        }
    }
    if let Some(&date) = days.holidays.intersection(&days.workdays).next() {
        return Err(CalendarError::HolidayAndWorkday {
            id: id.to_owned(),
            date,
        });
    }
    if let Some(&date) = days.names.keys().find(|d| !days.holidays.contains(d)) {
        return Err(CalendarError::NameWithoutHoliday {
            id: id.to_owned(),
            date,
        });
    }
    Ok(days)
}

fn parse_date_list(
    id: &str,
    year: i16,
    field: &'static str,
    value: &toml::Value,
) -> Result<BTreeSet<Date>, CalendarError> {
    let items = value.as_array().ok_or_else(|| CalendarError::WrongShape {
        id: id.to_owned(),
        year,
        field: field.into(),
        expected: "a list of \"YYYY-MM-DD\" dates",
    })?;
    items
        .iter()
        .map(|item| {
            // Accept both "2025-01-01" and a bare TOML date 2025-01-01: users write either.
            let raw = match item {
                toml::Value::String(s) => s.clone(),
                toml::Value::Datetime(dt) => dt.to_string(),
                other => other.to_string(),
            };
            parse_date(id, year, field, &raw)
        })
        .collect()
}

fn parse_date(id: &str, year: i16, field: &'static str, raw: &str) -> Result<Date, CalendarError> {
    let text = raw.trim();
    // jiff also accepts a full datetime as a date; a time of day here would be a mistake.
    let is_plain_date =
        text.len() == 10 && text.as_bytes()[4] == b'-' && text.as_bytes()[7] == b'-';
    let parsed = if is_plain_date {
        text.parse::<Date>().ok()
    } else {
        None
    };
    let date = parsed.ok_or_else(|| CalendarError::BadDate {
        id: id.to_owned(),
        year,
        field,
        value: raw.to_owned(),
    })?;
    if date.year() != year {
        return Err(CalendarError::WrongYear {
            id: id.to_owned(),
            year,
            date,
        });
    }
    Ok(date)
}

/// Calendars by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CalendarSet {
    calendars: BTreeMap<String, Calendar>,
}

/// The calendars shipped in `data/calendars/`, by id.
const BUILTIN_CALENDARS: [(&str, &str); 3] = [
    ("cn", include_str!("../../../data/calendars/cn.toml")),
    (
        "gb-eng",
        include_str!("../../../data/calendars/gb-eng.toml"),
    ),
    ("us", include_str!("../../../data/calendars/us.toml")),
];

impl CalendarSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The calendars shipped with the program: `cn` (mainland China, with 调休), `gb-eng`
    /// (England and Wales bank holidays) and `us` (US federal holidays).
    pub fn builtin() -> Self {
        let mut set = Self::new();
        for (id, text) in BUILTIN_CALENDARS {
            // The shipped files are checked by the tests below, so a failure here is a build defect.
            let calendar = Calendar::parse_toml(id, text)
                .unwrap_or_else(|e| panic!("shipped calendar {id} is invalid: {e}"));
            set.insert(calendar);
        }
        set
    }

    /// Adds a calendar, merging its years into an existing calendar with the same id.
    pub fn insert(&mut self, calendar: Calendar) {
        match self.calendars.get_mut(calendar.id()) {
            Some(existing) => existing.merge(calendar),
            None => {
                self.calendars.insert(calendar.id.clone(), calendar);
            }
        }
    }

    /// The calendar with this id.
    pub fn get(&self, id: &str) -> Option<&Calendar> {
        self.calendars.get(id)
    }

    /// The ids present, in ascending order.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.calendars.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn cn() -> Calendar {
        CalendarSet::builtin().get("cn").unwrap().clone()
    }

    #[test]
    fn builtin_has_the_three_calendars_for_2024_to_2026() {
        let set = CalendarSet::builtin();
        assert_eq!(set.ids().collect::<Vec<_>>(), ["cn", "gb-eng", "us"]);
        for id in ["cn", "gb-eng", "us"] {
            let cal = set.get(id).unwrap();
            assert!(
                cal.covers(2024) && cal.covers(2025) && cal.covers(2026),
                "{id}"
            );
            assert!(!cal.covers(2027), "{id}");
        }
    }

    #[test]
    fn cn_2025_spring_festival_with_make_up_days() {
        let cal = cn();
        for d in 28..=31 {
            assert!(!cal.is_working_day(date(2025, 1, d)), "2025-01-{d}");
        }
        for d in 1..=4 {
            assert!(!cal.is_working_day(date(2025, 2, d)), "2025-02-0{d}");
        }
        // Sunday 26 January and Saturday 8 February are working days (调休).
        assert_eq!(date(2025, 1, 26).weekday(), Weekday::Sunday);
        assert!(cal.is_working_day(date(2025, 1, 26)));
        assert_eq!(date(2025, 2, 8).weekday(), Weekday::Saturday);
        assert!(cal.is_working_day(date(2025, 2, 8)));
        assert!(cal.is_working_day(date(2025, 1, 27)));
        assert!(cal.is_working_day(date(2025, 2, 5)));
        assert!(!cal.is_working_day(date(2025, 2, 9)));
        assert_eq!(
            cal.holiday_name(date(2025, 1, 28)),
            Some("春节 Spring Festival")
        );
        assert_eq!(
            cal.holiday_name(date(2025, 2, 2)),
            Some("春节 Spring Festival")
        );
        assert_eq!(cal.holiday_name(date(2025, 1, 26)), None);
        assert_eq!(cal.holiday_name(date(2025, 2, 5)), None);
    }

    #[test]
    fn cn_2024_and_2026_examples() {
        let cal = cn();
        // 2024 Spring Festival 10–17 Feb, make-up Sundays 4 and 18 Feb.
        assert!(!cal.is_working_day(date(2024, 2, 12)));
        assert!(cal.is_working_day(date(2024, 2, 4)));
        assert!(cal.is_working_day(date(2024, 2, 18)));
        // 除夕 2024-02-09 was only encouraged leave, so a working day.
        assert!(cal.is_working_day(date(2024, 2, 9)));
        assert_eq!(
            cal.holiday_name(date(2024, 10, 7)),
            Some("国庆节 National Day")
        );
        // 2026: New Year 1–3 Jan with Sunday 4 Jan worked; Spring Festival 15–23 Feb,
        // Saturdays 14 and 28 Feb worked.
        assert!(!cal.is_working_day(date(2026, 1, 2)));
        assert!(cal.is_working_day(date(2026, 1, 4)));
        assert!(!cal.is_working_day(date(2026, 2, 23)));
        assert!(cal.is_working_day(date(2026, 2, 14)));
        assert!(cal.is_working_day(date(2026, 2, 28)));
        assert_eq!(
            cal.holiday_name(date(2026, 2, 20)),
            Some("春节 Spring Festival")
        );
    }

    #[test]
    fn uk_bank_holidays() {
        let set = CalendarSet::builtin();
        let cal = set.get("gb-eng").unwrap();
        assert!(!cal.is_working_day(date(2025, 8, 25)));
        assert_eq!(
            cal.holiday_name(date(2025, 8, 25)),
            Some("Summer bank holiday")
        );
        assert!(!cal.is_working_day(date(2025, 12, 25)));
        assert!(!cal.is_working_day(date(2025, 12, 26)));
        assert_eq!(cal.holiday_name(date(2025, 12, 26)), Some("Boxing Day"));
        assert!(cal.is_working_day(date(2025, 12, 29)));
        // 26 Dec 2026 is a Saturday; the substitute day is Monday 28 Dec.
        assert!(!cal.is_working_day(date(2026, 12, 28)));
        assert_eq!(
            cal.add_working_days(date(2025, 12, 24), 1),
            date(2025, 12, 29)
        );
    }

    #[test]
    fn us_federal_holidays() {
        let set = CalendarSet::builtin();
        let cal = set.get("us").unwrap();
        assert!(!cal.is_working_day(date(2025, 7, 4)));
        assert_eq!(cal.holiday_name(date(2025, 7, 4)), Some("Independence Day"));
        assert!(!cal.is_working_day(date(2025, 11, 27)));
        assert_eq!(
            cal.holiday_name(date(2025, 11, 27)),
            Some("Thanksgiving Day")
        );
        assert!(cal.is_working_day(date(2025, 11, 28)));
        assert!(!cal.is_working_day(date(2026, 7, 3)));
    }

    #[test]
    fn add_working_days_across_national_day_2025() {
        let cal = cn();
        // Sunday 28 Sep is a make-up working day.
        assert_eq!(
            cal.add_working_days(date(2025, 9, 26), 1),
            date(2025, 9, 28)
        );
        assert_eq!(
            cal.add_working_days(date(2025, 9, 26), 3),
            date(2025, 9, 30)
        );
        // 1–8 Oct off; Saturday 11 Oct worked.
        assert_eq!(
            cal.add_working_days(date(2025, 9, 30), 1),
            date(2025, 10, 9)
        );
        assert_eq!(
            cal.add_working_days(date(2025, 9, 30), 3),
            date(2025, 10, 11)
        );
        assert_eq!(
            cal.add_working_days(date(2025, 9, 30), 4),
            date(2025, 10, 13)
        );
        assert_eq!(
            cal.add_working_days(date(2025, 10, 3), 0),
            date(2025, 10, 3)
        );
    }

    #[test]
    fn working_days_between_is_half_open() {
        let cal = cn();
        assert_eq!(
            cal.working_days_between(date(2025, 9, 30), date(2025, 10, 11)),
            3
        );
        assert_eq!(
            cal.working_days_between(date(2025, 9, 30), date(2025, 9, 30)),
            0
        );
        assert_eq!(
            cal.working_days_between(date(2025, 10, 11), date(2025, 9, 30)),
            0
        );
        for n in 0..40 {
            let end = cal.add_working_days(date(2025, 1, 20), n);
            assert_eq!(cal.working_days_between(date(2025, 1, 20), end), n);
        }
    }

    #[test]
    fn uncovered_years_fall_back_to_weekends() {
        let cal = cn();
        assert!(cal.is_working_day(date(2027, 1, 1))); // a Friday, no 2027 notice loaded
        assert!(!cal.is_working_day(date(2027, 1, 2)));
    }

    #[test]
    fn merge_a_user_calendar_for_2027() {
        let mut set = CalendarSet::builtin();
        set.insert(
            Calendar::parse_toml(
                "cn",
                "[2027]\nholidays = [\"2027-01-01\", 2027-01-02, \"2027-01-03\"]\n\
                 workdays = [\"2027-01-09\"]\nnames = { \"2027-01-01\" = \"元旦\" }\n",
            )
            .unwrap(),
        );
        set.insert(Calendar::parse_toml("xx", "[2027]\nholidays = [\"2027-03-01\"]\n").unwrap());

        let cal = set.get("cn").unwrap();
        assert!(cal.covers(2025) && cal.covers(2027));
        assert!(!cal.is_working_day(date(2027, 1, 1)));
        assert!(cal.is_working_day(date(2027, 1, 9)));
        assert_eq!(cal.holiday_name(date(2027, 1, 3)), Some("元旦"));
        // Earlier years are untouched.
        assert!(cal.is_working_day(date(2025, 1, 26)));
        assert!(!set.get("xx").unwrap().is_working_day(date(2027, 3, 1)));
    }

    #[test]
    fn merge_replaces_a_year_as_a_whole() {
        let mut cal = cn();
        let fix = Calendar::parse_toml("cn", "[2026]\nholidays = [\"2026-10-01\"]\n").unwrap();
        cal.merge(fix);
        assert!(!cal.is_working_day(date(2026, 10, 1)));
        assert!(cal.is_working_day(date(2026, 10, 2)));
        assert!(!cal.is_working_day(date(2025, 10, 2)));
    }

    #[test]
    fn parse_errors_are_specific() {
        let err = |text: &str| Calendar::parse_toml("t", text).unwrap_err();
        assert!(matches!(
            err("[2025]\nholidays = [\"2025-02-30\"]"),
            CalendarError::BadDate { .. }
        ));
        assert!(matches!(
            err("[2025]\nholidays = [\"2024-10-01\"]"),
            CalendarError::WrongYear { year: 2025, .. }
        ));
        let both = err("[2025]\nholidays = [\"2025-01-26\"]\nworkdays = [\"2025-01-26\"]");
        assert!(matches!(both, CalendarError::HolidayAndWorkday { .. }));
        assert!(both.to_string().contains("2025-01-26"), "{both}");
        assert!(matches!(
            err("[twenty]\nholidays = []"),
            CalendarError::NotAYear { .. }
        ));
        assert!(matches!(
            err("[2025]\nholiday = []"),
            CalendarError::UnknownField { .. }
        ));
        assert!(matches!(
            err("[2025]\nholidays = \"2025-01-01\""),
            CalendarError::WrongShape { .. }
        ));
        assert!(matches!(
            err("[2025]\nholidays = []\nnames = { \"2025-01-01\" = \"x\" }"),
            CalendarError::NameWithoutHoliday { .. }
        ));
        assert!(matches!(err("[2025\n"), CalendarError::Toml { .. }));
        assert!(matches!(
            err("[2025]\nholidays = [\"2025-01-01T00:00:00\"]"),
            CalendarError::BadDate { .. }
        ));
    }
}
