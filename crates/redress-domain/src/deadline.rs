//! Deadline computation.
//!
//! Pure and deterministic: every instant is passed in, nothing reads the system clock, so the
//! same inputs always give the same deadlines (and tests can pin any date).
//!
//! Conventions:
//! - Days are counted in the profile's time zone. The start day is the local date on which the
//!   clock started; a deadline of N days ends with the N-th day after it (calendar basis: start
//!   date + N; working basis: the N-th working day after the start date).
//! - A [`Deadline`] carries the due day (`last_day`, inclusive, for display) and `ends_at`, the
//!   first instant of the following day in the profile's time zone. `ends_at` is exclusive:
//!   something done strictly before it is on time. An exclusive bound avoids picking a last
//!   representable sub-second and compares cleanly with stored timestamps.
//! - Pauses (e.g. external appraisal) do not count. Each pause moves the deadline later by the
//!   days it took, rounded up to whole days: on a calendar basis every day the pause touches
//!   counts in proportion to the time paused on it; on a working basis only working days do.
//!   Thus a pause of exactly 5 × 24 hours moves a calendar-day deadline by 5 days, a pause of
//!   one hour by 1 day, and a pause from Friday evening to Monday morning by 1 working day.
//!   A pause that starts after the deadline has already passed moves nothing: it cannot turn an
//!   overdue complaint into an on-time one. Pauses before the clock started (i.e. before a
//!   restart on new facts) belong to the old clock and are ignored.
//! - Only the decision deadline (and the maximum) is moved by pauses. The acknowledgement and
//!   summary-resolution deadlines are computed from the clock start too; after a restart on new
//!   facts they describe the new material, and callers keep the ones computed at receipt if
//!   the first acknowledgement is what they track.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Span, Timestamp};
use serde::{Deserialize, Serialize};

use crate::calendar::{Calendar, CalendarSet};
use crate::profile::{DayBasis, DeadlineRule, DueSoon, ExtensionStep, RuleProfile};

/// A problem computing deadlines.
#[derive(Debug, thiserror::Error)]
pub enum DeadlineError {
    /// The profile's time zone is not a known IANA zone.
    #[error("rule profile {profile:?}: unknown time zone {timezone:?}: {source}")]
    UnknownTimeZone {
        /// Profile id.
        profile: String,
        /// The zone name.
        timezone: String,
        /// Lookup error.
        #[source]
        source: jiff::Error,
    },
    /// The profile's calendar is not loaded.
    #[error("rule profile {profile:?}: calendar {calendar:?} is not loaded")]
    UnknownCalendar {
        /// Profile id.
        profile: String,
        /// Calendar id.
        calendar: String,
    },
    /// A calendar other than the profile's was passed in.
    #[error("rule profile {profile:?} uses calendar {expected:?}, not {given:?}")]
    CalendarMismatch {
        /// Profile id.
        profile: String,
        /// The profile's calendar id.
        expected: String,
        /// The calendar given.
        given: String,
    },
    /// More extension steps were granted than the rules provide.
    #[error("{granted} extension steps granted, but the rules provide {available}")]
    TooManyExtensions {
        /// Steps granted.
        granted: u32,
        /// Steps the rules provide.
        available: u32,
    },
    /// A pause ends before it starts.
    #[error("pause ends at {end}, before it starts at {start}")]
    PauseEndsBeforeStart {
        /// Start of the pause.
        start: Timestamp,
        /// End of the pause.
        end: Timestamp,
    },
    /// More than one pause is open, or the open pause started before a closed one ended.
    #[error("open pause since {since} overlaps another pause (ending {other_end:?})")]
    OpenPauseOverlaps {
        /// Start of the open pause.
        since: Timestamp,
        /// End of the other pause; None when it is open too.
        other_end: Option<Timestamp>,
    },
    /// A date fell outside the supported range (year 9999).
    #[error("deadline out of the supported date range: {0}")]
    OutOfRange(#[source] jiff::Error),
}

/// A pause of the clock: closed when `end` is set, still running when it is None.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PauseInterval {
    /// When the pause began.
    pub start: Timestamp,
    /// When the clock resumed; None while paused.
    pub end: Option<Timestamp>,
}

impl PauseInterval {
    /// A pause that has ended.
    pub fn closed(start: Timestamp, end: Timestamp) -> Self {
        Self {
            start,
            end: Some(end),
        }
    }

    /// A pause still running.
    pub fn open(start: Timestamp) -> Self {
        Self { start, end: None }
    }
}

impl From<(Timestamp, Option<Timestamp>)> for PauseInterval {
    fn from((start, end): (Timestamp, Option<Timestamp>)) -> Self {
        Self { start, end }
    }
}

/// Everything about one complaint that its deadlines depend on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClockInput<'a> {
    /// Business-type code, for product overrides; None when not yet classified.
    pub business_type: Option<&'a str>,
    /// When the clock started: receipt, or the time new facts restarted it.
    pub started_at: Timestamp,
    /// Extension steps granted so far (0 = none).
    pub extensions_granted: u32,
    /// Pauses in any order: closed ones (overlaps are merged) and at most one open one, which
    /// must be the latest.
    pub pauses: Vec<PauseInterval>,
}

impl ClockInput<'_> {
    /// A clock started at `started_at`, with no extensions or pauses and no business type.
    pub fn started(started_at: Timestamp) -> Self {
        Self {
            started_at,
            ..Self::default()
        }
    }
}

/// A deadline: the due day and the instant it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Deadline {
    /// The last day allowed, in the profile's time zone.
    pub last_day: Date,
    /// The first instant after the due day (exclusive): on time means strictly before this.
    pub ends_at: Timestamp,
}

impl Deadline {
    /// Whether an action at `at` meets this deadline.
    pub fn is_met_by(&self, at: Timestamp) -> bool {
        at < self.ends_at
    }
}

/// Whether the handling clock is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum ClockState {
    /// The clock runs; the decision deadline is final unless a pause or extension comes.
    Running,
    /// The clock is paused. The reported decision deadline excludes the open pause and will move
    /// later by the pause's length when it ends.
    Paused {
        /// When the pause began.
        since: Timestamp,
        /// Whole days (on the decision basis) from the day the pause began to the due day: what
        /// is left when the clock resumes.
        remaining_days: u32,
    },
}

/// The deadlines of one complaint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadlines {
    /// When the handling clock started (receipt or restart).
    pub started_at: Timestamp,
    /// The local date the handling clock started on.
    pub start_day: Date,
    /// How the decision days are counted.
    pub basis: DayBasis,
    /// Acknowledgement due, if the rules set one.
    pub acknowledgement: Option<Deadline>,
    /// End of the summary-resolution window, if the rules have one.
    pub summary_resolution: Option<Deadline>,
    /// Decision due, with the extensions granted so far and closed pauses.
    pub decision: Deadline,
    /// The latest decision deadline reachable with every extension step granted (same pauses).
    pub maximum: Deadline,
    /// Whether the clock is running or paused.
    pub state: ClockState,
    /// Days the decision deadline was moved by closed pauses.
    pub paused_days: u32,
    /// Extension steps granted.
    pub extensions_granted: u32,
    /// Extension steps the rules provide.
    pub extensions_available: u32,
    /// The step that could be granted next, with its approval requirements.
    pub next_extension: Option<ExtensionStep>,
    /// Id of the product override applied, if any.
    pub product_override: Option<String>,
    /// Years the computation relied on working days for that the calendar does not list:
    /// there the deadline ignores holidays and may be too early. Empty when all is covered.
    pub uncovered_years: Vec<i16>,
}

impl Deadlines {
    /// The decision deadline while the clock runs; None while it is paused, because the
    /// deadline is not fixed until the pause ends.
    pub fn running_decision(&self) -> Option<Deadline> {
        match self.state {
            ClockState::Running => Some(self.decision),
            ClockState::Paused { .. } => None,
        }
    }
}

/// How a complaint stands against its deadline at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DueState {
    /// Not yet due soon.
    #[default]
    OnTime,
    /// Within the profile's due-soon window before the deadline.
    DueSoon,
    /// The deadline has passed.
    Overdue,
    /// The clock is paused.
    Paused,
}

impl DueState {
    /// Stable lower-case name (`on_time`, `due_soon`, `overdue`, `paused`), as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            DueState::OnTime => "on_time",
            DueState::DueSoon => "due_soon",
            DueState::Overdue => "overdue",
            DueState::Paused => "paused",
        }
    }
}

/// Deadlines of a review (核查) of a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewDeadlines {
    /// Last day the customer may apply.
    pub apply_by: Deadline,
    /// When the review must be decided, once an application is known.
    pub decide_by: Option<Deadline>,
    /// Whether the application came in time, once an application is known.
    pub applied_in_time: Option<bool>,
}

/// Computes deadlines for complaints under one rule profile.
///
/// Construct once per profile (it resolves the time zone and the calendar) and reuse it.
#[derive(Debug, Clone)]
pub struct DeadlineCalculator<'a> {
    profile: &'a RuleProfile,
    calendar: &'a Calendar,
    tz: TimeZone,
}

impl<'a> DeadlineCalculator<'a> {
    /// A calculator using the profile's calendar from `calendars`.
    pub fn new(
        profile: &'a RuleProfile,
        calendars: &'a CalendarSet,
    ) -> Result<Self, DeadlineError> {
        let calendar =
            calendars
                .get(&profile.calendar)
                .ok_or_else(|| DeadlineError::UnknownCalendar {
                    profile: profile.id.clone(),
                    calendar: profile.calendar.clone(),
                })?;
        Self::with_calendar(profile, calendar)
    }

    /// A calculator with an explicit calendar, which must have the profile's calendar id.
    pub fn with_calendar(
        profile: &'a RuleProfile,
        calendar: &'a Calendar,
    ) -> Result<Self, DeadlineError> {
        if calendar.id() != profile.calendar {
            return Err(DeadlineError::CalendarMismatch {
                profile: profile.id.clone(),
                expected: profile.calendar.clone(),
                given: calendar.id().to_owned(),
            });
        }
        let tz =
            TimeZone::get(&profile.timezone).map_err(|source| DeadlineError::UnknownTimeZone {
                profile: profile.id.clone(),
                timezone: profile.timezone.clone(),
                source,
            })?;
        Ok(Self {
            profile,
            calendar,
            tz,
        })
    }

    /// The profile.
    pub fn profile(&self) -> &'a RuleProfile {
        self.profile
    }

    /// The calendar.
    pub fn calendar(&self) -> &'a Calendar {
        self.calendar
    }

    /// The profile's time zone.
    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    /// The local date of `at` in the profile's time zone.
    pub fn local_date(&self, at: Timestamp) -> Date {
        at.to_zoned(self.tz.clone()).date()
    }

    /// The deadline `rule` sets for something that started at `from` (no pauses).
    pub fn deadline_after(
        &self,
        from: Timestamp,
        rule: DeadlineRule,
    ) -> Result<Deadline, DeadlineError> {
        let last_day = self.add_days(self.local_date(from), rule.days, rule.basis)?;
        self.deadline_on(last_day)
    }

    /// Computes the deadlines of a complaint.
    pub fn compute(&self, input: &ClockInput<'_>) -> Result<Deadlines, DeadlineError> {
        let rules = self.profile.rules_for(input.business_type);
        let available = u32::try_from(rules.extensions.len()).unwrap_or(u32::MAX);
        if input.extensions_granted > available {
            return Err(DeadlineError::TooManyExtensions {
                granted: input.extensions_granted,
                available,
            });
        }

        let started_at = input.started_at;
        let start_day = self.local_date(started_at);
        let (closed, open_since) = split_pauses(&input.pauses, started_at)?;
        let basis = rules.decision.basis;

        let granted_days = match input.extensions_granted {
            0 => rules.decision.days,
            k => rules.extensions[k as usize - 1].days_total,
        };
        let max_days = rules
            .extensions
            .last()
            .map_or(rules.decision.days, |s| s.days_total);
        let (decision, paused_days) =
            self.due_with_pauses(start_day, granted_days, basis, &closed)?;
        let (maximum, _) = self.due_with_pauses(start_day, max_days, basis, &closed)?;

        let state = match open_since {
            Some(since) if since < decision.ends_at => {
                let pause_day = self.local_date(since);
                let remaining_days = match basis {
                    DayBasis::Calendar => days_between(pause_day, decision.last_day),
                    DayBasis::Working => self
                        .calendar
                        .working_days_between(pause_day, decision.last_day),
                };
                ClockState::Paused {
                    since,
                    remaining_days,
                }
            }
            _ => ClockState::Running,
        };

        let acknowledgement = rules
            .acknowledgement
            .map(|rule| self.deadline_after(started_at, rule))
            .transpose()?;
        let summary_resolution = self
            .profile
            .summary_resolution
            .map(|rule| self.deadline_after(started_at, rule))
            .transpose()?;

        let uses_working_days = basis == DayBasis::Working
            || rules
                .acknowledgement
                .is_some_and(|r| r.basis == DayBasis::Working)
            || self
                .profile
                .summary_resolution
                .is_some_and(|r| r.basis == DayBasis::Working)
            || matches!(self.profile.due_soon, DueSoon::WorkingDays(n) if n > 0);
        let uncovered_years = if uses_working_days {
            (start_day.year()..=maximum.last_day.year())
                .filter(|&y| !self.calendar.covers(y))
                .collect()
        } else {
            Vec::new()
        };

        Ok(Deadlines {
            started_at,
            start_day,
            basis,
            acknowledgement,
            summary_resolution,
            decision,
            maximum,
            state,
            paused_days,
            extensions_granted: input.extensions_granted,
            extensions_available: available,
            next_extension: rules
                .extensions
                .get(input.extensions_granted as usize)
                .cloned(),
            product_override: rules.product_override.map(|o| o.id.clone()),
            uncovered_years,
        })
    }

    /// How the complaint stands at `now`: paused, overdue, due soon or on time.
    pub fn due_state(&self, deadlines: &Deadlines, now: Timestamp) -> DueState {
        match deadlines.state {
            ClockState::Paused { .. } => DueState::Paused,
            ClockState::Running => self.deadline_state(&deadlines.decision, now),
        }
    }

    /// How `now` stands against a single running deadline, using the profile's due-soon setting.
    pub fn deadline_state(&self, deadline: &Deadline, now: Timestamp) -> DueState {
        if now >= deadline.ends_at {
            return DueState::Overdue;
        }
        let due_soon = match self.profile.due_soon {
            DueSoon::Hours(0) | DueSoon::WorkingDays(0) => false,
            DueSoon::Hours(hours) => deadline
                .ends_at
                .checked_sub(SignedDuration::from_hours(i64::from(hours)))
                .is_ok_and(|from| now >= from),
            DueSoon::WorkingDays(n) => {
                self.calendar
                    .working_days_between(self.local_date(now), deadline.last_day)
                    < n
            }
        };
        if due_soon {
            DueState::DueSoon
        } else {
            DueState::OnTime
        }
    }

    /// Review deadlines for a decision made at `decided_at`: the last day to apply and, once the
    /// customer has applied at `applied_at`, the day the review must be decided.
    /// None when the profile has no review.
    pub fn review(
        &self,
        decided_at: Timestamp,
        applied_at: Option<Timestamp>,
    ) -> Result<Option<ReviewDeadlines>, DeadlineError> {
        let Some(review) = self.profile.review else {
            return Ok(None);
        };
        let apply_by = self.deadline_after(
            decided_at,
            DeadlineRule {
                days: review.apply_within_days,
                basis: review.basis,
            },
        )?;
        let decide_by = applied_at
            .map(|at| {
                self.deadline_after(
                    at,
                    DeadlineRule {
                        days: review.decide_within_days,
                        basis: review.basis,
                    },
                )
            })
            .transpose()?;
        Ok(Some(ReviewDeadlines {
            apply_by,
            decide_by,
            applied_in_time: applied_at.map(|at| apply_by.is_met_by(at)),
        }))
    }

    /// When the follow-up after a decision at `decided_at` is due; None when the profile plans none.
    pub fn follow_up(&self, decided_at: Timestamp) -> Result<Option<Deadline>, DeadlineError> {
        self.profile
            .follow_up
            .map(|f| {
                self.deadline_after(
                    decided_at,
                    DeadlineRule {
                        days: f.within_days,
                        basis: f.basis,
                    },
                )
            })
            .transpose()
    }

    fn add_days(&self, start: Date, days: u32, basis: DayBasis) -> Result<Date, DeadlineError> {
        match basis {
            DayBasis::Calendar => {
                let span = Span::new()
                    .try_days(i64::from(days))
                    .map_err(DeadlineError::OutOfRange)?;
                start.checked_add(span).map_err(DeadlineError::OutOfRange)
            }
            DayBasis::Working => Ok(self.calendar.add_working_days(start, days)),
        }
    }

    fn start_of(&self, day: Date) -> Result<Timestamp, DeadlineError> {
        Ok(day
            .to_zoned(self.tz.clone())
            .map_err(DeadlineError::OutOfRange)?
            .timestamp())
    }

    fn deadline_on(&self, last_day: Date) -> Result<Deadline, DeadlineError> {
        let next = last_day.tomorrow().map_err(DeadlineError::OutOfRange)?;
        Ok(Deadline {
            last_day,
            ends_at: self.start_of(next)?,
        })
    }

    /// The deadline `days` after `start_day`, moved by every pause that began before it was due.
    fn due_with_pauses(
        &self,
        start_day: Date,
        days: u32,
        basis: DayBasis,
        pauses: &[ClosedPause],
    ) -> Result<(Deadline, u32), DeadlineError> {
        let mut paused = 0u32;
        let mut due = self.deadline_on(self.add_days(start_day, days, basis)?)?;
        for pause in pauses {
            if pause.start >= due.ends_at {
                break;
            }
            paused = paused.saturating_add(self.paused_days(pause, basis)?);
            due =
                self.deadline_on(self.add_days(start_day, days.saturating_add(paused), basis)?)?;
        }
        Ok((due, paused))
    }

    /// Days a pause takes on `basis`, rounded up: the fractions of every counted day the pause
    /// covers, summed.
    fn paused_days(&self, pause: &ClosedPause, basis: DayBasis) -> Result<u32, DeadlineError> {
        if pause.end <= pause.start {
            return Ok(0);
        }
        let counts = |day: Date| basis == DayBasis::Calendar || self.calendar.is_working_day(day);
        let first = self.local_date(pause.start);
        let last = self.local_date(pause.end);
        if first == last {
            return Ok(u32::from(counts(first)));
        }
        let first_start = self.start_of(first)?;
        let first_end = self.start_of(first.tomorrow().map_err(DeadlineError::OutOfRange)?)?;
        let first_len = first_end.duration_since(first_start).as_secs();
        let first_covered = if counts(first) {
            first_end.duration_since(pause.start).as_secs()
        } else {
            0
        };
        let last_start = self.start_of(last)?;
        let last_end = self.start_of(last.tomorrow().map_err(DeadlineError::OutOfRange)?)?;
        let last_len = last_end.duration_since(last_start).as_secs();
        // An end exactly at midnight covers nothing of that day.
        let last_covered = if counts(last) {
            pause.end.duration_since(last_start).as_secs()
        } else {
            0
        };

        let whole_days_between = match basis {
            DayBasis::Calendar => days_between(first, last).saturating_sub(1),
            DayBasis::Working => {
                self.calendar.working_days_between(first, last)
                    - u32::from(self.calendar.is_working_day(last))
            }
        };
        // Compare first_covered/first_len + last_covered/last_len with 1 without floating point;
        // day lengths differ on daylight-saving changes.
        let (fc, fl, lc, ll) = (
            i128::from(first_covered),
            i128::from(first_len),
            i128::from(last_covered),
            i128::from(last_len),
        );
        let partial = if fc == 0 && lc == 0 {
            0
        } else if fc * ll + lc * fl <= fl * ll {
            1
        } else {
            2
        };
        Ok(whole_days_between + partial)
    }
}

/// A closed pause, clipped to the clock start.
#[derive(Debug, Clone, Copy)]
struct ClosedPause {
    start: Timestamp,
    end: Timestamp,
}

/// Validates the pauses and splits them into the closed ones that can affect the clock (clipped
/// to the clock start, merged where they overlap, in order) and the start of the open one.
fn split_pauses(
    pauses: &[PauseInterval],
    started_at: Timestamp,
) -> Result<(Vec<ClosedPause>, Option<Timestamp>), DeadlineError> {
    let mut open_since: Option<Timestamp> = None;
    let mut closed = Vec::with_capacity(pauses.len());
    for p in pauses {
        match p.end {
            None => {
                if open_since.is_some() {
                    return Err(DeadlineError::OpenPauseOverlaps {
                        since: p.start,
                        other_end: None,
                    });
                }
                open_since = Some(p.start);
            }
            Some(end) if end < p.start => {
                return Err(DeadlineError::PauseEndsBeforeStart {
                    start: p.start,
                    end,
                });
            }
            Some(end) => closed.push(ClosedPause {
                start: p.start,
                end,
            }),
        }
    }
    if let Some(since) = open_since
        && let Some(overlap) = closed.iter().find(|c| since < c.end)
    {
        return Err(DeadlineError::OpenPauseOverlaps {
            since,
            other_end: Some(overlap.end),
        });
    }
    let mut clipped: Vec<ClosedPause> = closed
        .into_iter()
        .map(|c| ClosedPause {
            start: c.start.max(started_at),
            end: c.end,
        })
        .filter(|c| c.end > c.start)
        .collect();
    clipped.sort_by_key(|c| c.start);
    let mut merged: Vec<ClosedPause> = Vec::with_capacity(clipped.len());
    for c in clipped {
        match merged.last_mut() {
            Some(last) if c.start <= last.end => last.end = last.end.max(c.end),
            _ => merged.push(c),
        }
    }
    // A pause still open when the clock restarted runs on under the new clock.
    Ok((merged, open_since.map(|since| since.max(started_at))))
}

/// Whole calendar days from `from` to `to` (0 if `to` is not after `from`).
fn days_between(from: Date, to: Date) -> u32 {
    from.until((jiff::Unit::Day, to))
        .map(|span| u32::try_from(span.get_days()).unwrap_or(0))
        .unwrap_or(0)
}

/// Computes a complaint's deadlines in one call (see [`DeadlineCalculator`] to reuse the setup).
pub fn compute(
    profile: &RuleProfile,
    calendar: &Calendar,
    input: &ClockInput<'_>,
) -> Result<Deadlines, DeadlineError> {
    DeadlineCalculator::with_calendar(profile, calendar)?.compute(input)
}

/// How deadlines stand at `now` (see [`DeadlineCalculator::due_state`]).
pub fn due_state(
    profile: &RuleProfile,
    calendar: &Calendar,
    deadlines: &Deadlines,
    now: Timestamp,
) -> Result<DueState, DeadlineError> {
    Ok(DeadlineCalculator::with_calendar(profile, calendar)?.due_state(deadlines, now))
}

/// Review deadlines of a decision (see [`DeadlineCalculator::review`]).
pub fn review(
    profile: &RuleProfile,
    calendar: &Calendar,
    decided_at: Timestamp,
    applied_at: Option<Timestamp>,
) -> Result<Option<ReviewDeadlines>, DeadlineError> {
    DeadlineCalculator::with_calendar(profile, calendar)?.review(decided_at, applied_at)
}

/// Follow-up deadline after a decision (see [`DeadlineCalculator::follow_up`]).
pub fn follow_up(
    profile: &RuleProfile,
    calendar: &Calendar,
    decided_at: Timestamp,
) -> Result<Option<Deadline>, DeadlineError> {
    DeadlineCalculator::with_calendar(profile, calendar)?.follow_up(decided_at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{ApprovalLevel, ProfileSet};
    use jiff::civil::date;

    struct Fixture {
        profiles: ProfileSet,
        calendars: CalendarSet,
    }

    impl Fixture {
        fn new() -> Self {
            Self {
                profiles: ProfileSet::builtin(),
                calendars: CalendarSet::builtin(),
            }
        }
        fn calc(&self, id: &str) -> DeadlineCalculator<'_> {
            DeadlineCalculator::new(self.profiles.get(id).unwrap(), &self.calendars).unwrap()
        }
    }

    /// An instant given as local wall-clock time in `tz`.
    fn at(tz: &str, y: i16, m: i8, d: i8, h: i8, min: i8) -> Timestamp {
        date(y, m, d)
            .at(h, min, 0, 0)
            .in_tz(tz)
            .unwrap()
            .timestamp()
    }

    fn sh(y: i16, m: i8, d: i8, h: i8, min: i8) -> Timestamp {
        at("Asia/Shanghai", y, m, d, h, min)
    }

    fn nfra_working() -> RuleProfile {
        let mut p = ProfileSet::builtin().get("cn-nfra").unwrap().clone();
        p.id = "cn-working".into();
        p.decision.basis = DayBasis::Working;
        p
    }

    #[test]
    fn nfra_15_calendar_days_run_through_spring_festival() {
        let f = Fixture::new();
        let d = f
            .calc("cn-nfra")
            .compute(&ClockInput::started(sh(2025, 1, 20, 10, 0)))
            .unwrap();
        assert_eq!(d.start_day, date(2025, 1, 20));
        assert_eq!(d.decision.last_day, date(2025, 2, 4));
        // End of 4 Feb in Shanghai = 5 Feb 00:00 +08:00.
        assert_eq!(
            d.decision.ends_at,
            "2025-02-04T16:00:00Z".parse::<Timestamp>().unwrap()
        );
        assert_eq!(d.maximum.last_day, date(2025, 3, 21));
        assert_eq!(d.state, ClockState::Running);
        assert_eq!((d.extensions_granted, d.extensions_available), (0, 2));
        assert_eq!(d.next_extension.unwrap().days_total, 30);
        assert!(d.acknowledgement.is_none());
        assert!(d.uncovered_years.is_empty());
    }

    #[test]
    fn a_late_evening_receipt_counts_from_the_local_day() {
        let f = Fixture::new();
        // 23:30 in Shanghai is still 20 January there (15:30 UTC).
        let d = f
            .calc("cn-nfra")
            .compute(&ClockInput::started(sh(2025, 1, 20, 23, 30)))
            .unwrap();
        assert_eq!(d.decision.last_day, date(2025, 2, 4));
        let d = f
            .calc("cn-nfra")
            .compute(&ClockInput::started(sh(2025, 1, 21, 0, 5)))
            .unwrap();
        assert_eq!(d.decision.last_day, date(2025, 2, 5));
    }

    #[test]
    fn working_day_variant_skips_spring_festival_and_counts_make_up_days() {
        let f = Fixture::new();
        let profile = nfra_working();
        let calc = DeadlineCalculator::new(&profile, &f.calendars).unwrap();
        let d = calc
            .compute(&ClockInput::started(sh(2025, 1, 20, 10, 0)))
            .unwrap();
        // 21–24 Jan (4), Sun 26 Jan (5), 27 Jan (6), 28 Jan–4 Feb off, 5–7 Feb (9),
        // Sat 8 Feb (10), 10–14 Feb (15).
        assert_eq!(d.decision.last_day, date(2025, 2, 14));
        assert_eq!(d.basis, DayBasis::Working);
        assert!(d.uncovered_years.is_empty());
        // With weekends only (no holiday data) it would have been 10 Feb.
        let plain = Calendar::empty("cn");
        let calc = DeadlineCalculator::with_calendar(&profile, &plain).unwrap();
        assert_eq!(
            calc.compute(&ClockInput::started(sh(2025, 1, 20, 10, 0)))
                .unwrap()
                .decision
                .last_day,
            date(2025, 2, 10)
        );
    }

    #[test]
    fn working_days_beyond_the_calendar_are_reported() {
        let f = Fixture::new();
        let profile = nfra_working();
        let calc = DeadlineCalculator::new(&profile, &f.calendars).unwrap();
        let d = calc
            .compute(&ClockInput::started(sh(2026, 12, 1, 9, 0)))
            .unwrap();
        assert_eq!(d.uncovered_years, [2027]);
    }

    #[test]
    fn extension_steps() {
        let f = Fixture::new();
        let calc = f.calc("cn-nfra");
        let mut input = ClockInput::started(sh(2025, 1, 20, 10, 0));
        input.extensions_granted = 1;
        let d = calc.compute(&input).unwrap();
        assert_eq!(d.decision.last_day, date(2025, 2, 19));
        let next = d.next_extension.unwrap();
        assert_eq!(
            (next.days_total, next.approval_level),
            (60, Some(ApprovalLevel::Superior))
        );
        input.extensions_granted = 2;
        let d = calc.compute(&input).unwrap();
        assert_eq!(d.decision.last_day, date(2025, 3, 21));
        assert_eq!(d.decision, d.maximum);
        assert!(d.next_extension.is_none());
        input.extensions_granted = 3;
        assert!(matches!(
            calc.compute(&input),
            Err(DeadlineError::TooManyExtensions {
                granted: 3,
                available: 2
            })
        ));
    }

    #[test]
    fn a_five_day_pause_moves_the_deadline_five_days() {
        let f = Fixture::new();
        let calc = f.calc("cn-nfra");
        let mut input = ClockInput::started(sh(2025, 1, 20, 10, 0));
        input.pauses = vec![PauseInterval::closed(
            sh(2025, 1, 22, 9, 0),
            sh(2025, 1, 27, 9, 0),
        )];
        let d = calc.compute(&input).unwrap();
        assert_eq!(d.paused_days, 5);
        assert_eq!(d.decision.last_day, date(2025, 2, 9));
        assert_eq!(d.maximum.last_day, date(2025, 3, 26));
        assert_eq!(d.state, ClockState::Running);
    }

    #[test]
    fn pause_lengths_round_up_to_whole_days() {
        let f = Fixture::new();
        let calc = f.calc("cn-nfra");
        let shift = |start: Timestamp, end: Timestamp| {
            let mut input = ClockInput::started(sh(2025, 3, 3, 10, 0));
            input.pauses = vec![PauseInterval::closed(start, end)];
            calc.compute(&input).unwrap().paused_days
        };
        assert_eq!(shift(sh(2025, 3, 4, 10, 0), sh(2025, 3, 4, 11, 0)), 1);
        assert_eq!(shift(sh(2025, 3, 4, 15, 0), sh(2025, 3, 5, 10, 0)), 1);
        assert_eq!(shift(sh(2025, 3, 4, 10, 0), sh(2025, 3, 5, 10, 1)), 2);
        assert_eq!(shift(sh(2025, 3, 4, 0, 0), sh(2025, 3, 6, 0, 0)), 2);
        assert_eq!(shift(sh(2025, 3, 4, 10, 0), sh(2025, 3, 4, 10, 0)), 0);
        // Two overlapping pauses count once.
        let mut input = ClockInput::started(sh(2025, 3, 3, 10, 0));
        input.pauses = vec![
            PauseInterval::closed(sh(2025, 3, 4, 10, 0), sh(2025, 3, 7, 10, 0)),
            PauseInterval::closed(sh(2025, 3, 5, 10, 0), sh(2025, 3, 6, 10, 0)),
        ];
        assert_eq!(calc.compute(&input).unwrap().paused_days, 3);
    }

    #[test]
    fn working_day_pauses_count_working_days_only() {
        let f = Fixture::new();
        let profile = nfra_working();
        let calc = DeadlineCalculator::new(&profile, &f.calendars).unwrap();
        let shift = |start: Timestamp, end: Timestamp| {
            let mut input = ClockInput::started(sh(2025, 3, 3, 10, 0));
            input.pauses = vec![PauseInterval::closed(start, end)];
            calc.compute(&input).unwrap().paused_days
        };
        // Friday 17:00 to Monday 09:00: less than one working day.
        assert_eq!(shift(sh(2025, 3, 7, 17, 0), sh(2025, 3, 10, 9, 0)), 1);
        // Saturday to Sunday: nothing.
        assert_eq!(shift(sh(2025, 3, 8, 9, 0), sh(2025, 3, 9, 18, 0)), 0);
        // Monday 10:00 to the next Monday 10:00: five working days.
        assert_eq!(shift(sh(2025, 3, 10, 10, 0), sh(2025, 3, 17, 10, 0)), 5);
    }

    #[test]
    fn pauses_before_the_clock_or_after_the_deadline_move_nothing() {
        let f = Fixture::new();
        let calc = f.calc("cn-nfra");
        let mut input = ClockInput::started(sh(2025, 1, 20, 10, 0));
        input.pauses = vec![
            PauseInterval::closed(sh(2025, 1, 10, 0, 0), sh(2025, 1, 20, 10, 0)),
            PauseInterval::closed(sh(2025, 2, 5, 0, 0), sh(2025, 2, 9, 0, 0)),
        ];
        let d = calc.compute(&input).unwrap();
        assert_eq!(d.paused_days, 0);
        assert_eq!(d.decision.last_day, date(2025, 2, 4));
        // ...but the same late pause still moves the extended maximum, which had not passed.
        assert_eq!(d.maximum.last_day, date(2025, 3, 25));
    }

    #[test]
    fn an_open_pause_reports_paused() {
        let f = Fixture::new();
        let calc = f.calc("cn-nfra");
        let mut input = ClockInput::started(sh(2025, 1, 20, 10, 0));
        input.pauses = vec![PauseInterval::open(sh(2025, 1, 30, 14, 0))];
        let d = calc.compute(&input).unwrap();
        assert_eq!(d.decision.last_day, date(2025, 2, 4));
        assert_eq!(
            d.state,
            ClockState::Paused {
                since: sh(2025, 1, 30, 14, 0),
                remaining_days: 5
            }
        );
        // Long after the nominal deadline, a paused complaint is not overdue.
        assert_eq!(calc.due_state(&d, sh(2025, 3, 1, 0, 0)), DueState::Paused);

        // Once closed after 4 days, the deadline moves by 4.
        input.pauses = vec![PauseInterval::closed(
            sh(2025, 1, 30, 14, 0),
            sh(2025, 2, 3, 14, 0),
        )];
        assert_eq!(
            calc.compute(&input).unwrap().decision.last_day,
            date(2025, 2, 8)
        );

        // A pause opened after the deadline does not stop an overdue clock.
        input.pauses = vec![PauseInterval::open(sh(2025, 2, 6, 9, 0))];
        let d = calc.compute(&input).unwrap();
        assert_eq!(d.state, ClockState::Running);
        assert_eq!(calc.due_state(&d, sh(2025, 2, 7, 0, 0)), DueState::Overdue);
    }

    #[test]
    fn inconsistent_pauses_are_rejected() {
        let f = Fixture::new();
        let calc = f.calc("cn-nfra");
        let mut input = ClockInput::started(sh(2025, 1, 20, 10, 0));
        input.pauses = vec![PauseInterval::closed(
            sh(2025, 1, 25, 0, 0),
            sh(2025, 1, 24, 0, 0),
        )];
        assert!(matches!(
            calc.compute(&input),
            Err(DeadlineError::PauseEndsBeforeStart { .. })
        ));
        input.pauses = vec![
            PauseInterval::closed(sh(2025, 1, 22, 0, 0), sh(2025, 1, 24, 0, 0)),
            PauseInterval::open(sh(2025, 1, 23, 0, 0)),
        ];
        assert!(matches!(
            calc.compute(&input),
            Err(DeadlineError::OpenPauseOverlaps { .. })
        ));
        input.pauses = vec![
            PauseInterval::open(sh(2025, 1, 22, 0, 0)),
            PauseInterval::open(sh(2025, 1, 23, 0, 0)),
        ];
        assert!(matches!(
            calc.compute(&input),
            Err(DeadlineError::OpenPauseOverlaps {
                other_end: None,
                ..
            })
        ));
    }

    #[test]
    fn new_facts_restart_the_clock() {
        let f = Fixture::new();
        let calc = f.calc("cn-nfra");
        // Received 20 Jan; new facts on 25 Jan restart the clock from the new material.
        let mut input = ClockInput::started(sh(2025, 1, 25, 14, 0));
        // A pause before the restart belongs to the old clock.
        input.pauses = vec![PauseInterval::closed(
            sh(2025, 1, 21, 0, 0),
            sh(2025, 1, 23, 0, 0),
        )];
        let d = calc.compute(&input).unwrap();
        assert_eq!(d.started_at, sh(2025, 1, 25, 14, 0));
        assert_eq!(d.start_day, date(2025, 1, 25));
        assert_eq!(d.decision.last_day, date(2025, 2, 9));
        assert_eq!(d.paused_days, 0);
        // A pause still open at the restart runs on under the new clock.
        input.pauses = vec![PauseInterval::open(sh(2025, 1, 24, 0, 0))];
        let d = calc.compute(&input).unwrap();
        assert_eq!(
            d.state,
            ClockState::Paused {
                since: sh(2025, 1, 25, 14, 0),
                remaining_days: 15
            }
        );
    }

    #[test]
    fn fca_eight_weeks_and_summary_resolution() {
        let f = Fixture::new();
        let calc = f.calc("uk-fca");
        let received = at("Europe/London", 2025, 3, 3, 11, 0);
        let d = calc.compute(&ClockInput::started(received)).unwrap();
        assert_eq!(d.decision.last_day, date(2025, 4, 28));
        // British Summer Time: the day ends at 23:00 UTC.
        assert_eq!(
            d.decision.ends_at,
            "2025-04-28T23:00:00Z".parse::<Timestamp>().unwrap()
        );
        assert_eq!(d.decision, d.maximum);
        assert_eq!(d.summary_resolution.unwrap().last_day, date(2025, 3, 6));
        assert_eq!(d.acknowledgement.unwrap().last_day, date(2025, 3, 10));
        assert!(d.product_override.is_none());

        // Received before Christmas: the 3 business days skip 25–26 Dec and the weekend.
        let d = calc
            .compute(&ClockInput::started(at(
                "Europe/London",
                2025,
                12,
                23,
                16,
                0,
            )))
            .unwrap();
        assert_eq!(d.summary_resolution.unwrap().last_day, date(2025, 12, 30));
    }

    #[test]
    fn fca_payment_services_15_business_days_skip_the_bank_holiday() {
        let f = Fixture::new();
        let calc = f.calc("uk-fca");
        let mut input = ClockInput::started(at("Europe/London", 2025, 8, 18, 10, 0));
        input.business_type = Some("B04");
        let d = calc.compute(&input).unwrap();
        // Monday 25 Aug 2025 is the Summer bank holiday.
        assert_eq!(d.decision.last_day, date(2025, 9, 9));
        assert_eq!(d.basis, DayBasis::Working);
        assert_eq!(d.maximum.last_day, date(2025, 10, 7));
        assert_eq!(d.product_override.as_deref(), Some("payment_services"));
        input.extensions_granted = 1;
        assert_eq!(
            calc.compute(&input).unwrap().decision.last_day,
            date(2025, 10, 7)
        );
    }

    #[test]
    fn cfpb_15_and_60_days() {
        let f = Fixture::new();
        let calc = f.calc("us-cfpb");
        let mut input = ClockInput::started(at("America/New_York", 2025, 6, 20, 9, 0));
        let d = calc.compute(&input).unwrap();
        assert_eq!(d.decision.last_day, date(2025, 7, 5));
        assert_eq!(d.maximum.last_day, date(2025, 8, 19));
        assert_eq!(
            d.decision.ends_at,
            "2025-07-06T04:00:00Z".parse::<Timestamp>().unwrap()
        );
        assert!(!d.next_extension.as_ref().unwrap().needs_approval);
        assert!(d.uncovered_years.is_empty());
        input.extensions_granted = 1;
        assert_eq!(
            calc.compute(&input).unwrap().decision.last_day,
            date(2025, 8, 19)
        );
    }

    #[test]
    fn due_soon_and_overdue_boundaries_in_hours() {
        let f = Fixture::new();
        let calc = f.calc("cn-nfra"); // due soon 72 hours before the end
        let d = calc
            .compute(&ClockInput::started(sh(2025, 1, 20, 10, 0)))
            .unwrap();
        let end = d.decision.ends_at; // 2025-02-05 00:00 Shanghai
        let hours = |h: i64| end.checked_sub(SignedDuration::from_hours(h)).unwrap();
        assert_eq!(calc.due_state(&d, sh(2025, 1, 20, 10, 0)), DueState::OnTime);
        assert_eq!(
            calc.due_state(
                &d,
                hours(72)
                    .checked_sub(SignedDuration::from_nanos(1))
                    .unwrap()
            ),
            DueState::OnTime
        );
        assert_eq!(calc.due_state(&d, hours(72)), DueState::DueSoon);
        assert_eq!(
            calc.due_state(&d, end.checked_sub(SignedDuration::from_nanos(1)).unwrap()),
            DueState::DueSoon
        );
        assert_eq!(calc.due_state(&d, end), DueState::Overdue);
        assert!(d.decision.is_met_by(sh(2025, 2, 4, 23, 59)));
        assert!(!d.decision.is_met_by(sh(2025, 2, 5, 0, 0)));
    }

    #[test]
    fn due_soon_in_working_days() {
        let f = Fixture::new();
        let calc = f.calc("uk-fca"); // last 5 working days
        let d = calc
            .compute(&ClockInput::started(at("Europe/London", 2025, 3, 3, 11, 0)))
            .unwrap();
        // Due Monday 28 April; the last five working days are 22–28 April (Easter Monday 21 April is off).
        let london = |m, d, h| at("Europe/London", 2025, m, d, h, 0);
        assert_eq!(calc.due_state(&d, london(4, 17, 12)), DueState::OnTime);
        assert_eq!(calc.due_state(&d, london(4, 18, 12)), DueState::OnTime);
        assert_eq!(calc.due_state(&d, london(4, 21, 23)), DueState::OnTime);
        assert_eq!(calc.due_state(&d, london(4, 22, 0)), DueState::DueSoon);
        assert_eq!(calc.due_state(&d, london(4, 22, 9)), DueState::DueSoon);
        assert_eq!(calc.due_state(&d, london(4, 28, 23)), DueState::DueSoon);
        assert_eq!(calc.due_state(&d, london(4, 29, 0)), DueState::Overdue);
    }

    #[test]
    fn review_window_and_deadline() {
        let f = Fixture::new();
        let calc = f.calc("cn-nfra");
        let decided = sh(2025, 2, 3, 16, 0);
        let r = calc.review(decided, None).unwrap().unwrap();
        assert_eq!(r.apply_by.last_day, date(2025, 3, 5));
        assert!(r.decide_by.is_none() && r.applied_in_time.is_none());
        let r = calc
            .review(decided, Some(sh(2025, 3, 5, 23, 0)))
            .unwrap()
            .unwrap();
        assert_eq!(r.decide_by.unwrap().last_day, date(2025, 4, 4));
        assert_eq!(r.applied_in_time, Some(true));
        let r = calc
            .review(decided, Some(sh(2025, 3, 6, 0, 0)))
            .unwrap()
            .unwrap();
        assert_eq!(r.applied_in_time, Some(false));
        assert!(f.calc("us-cfpb").review(decided, None).unwrap().is_none());
        assert_eq!(
            calc.follow_up(decided).unwrap().unwrap().last_day,
            date(2025, 2, 10)
        );
    }

    #[test]
    fn setup_errors() {
        let f = Fixture::new();
        let mut p = f.profiles.get("cn-nfra").unwrap().clone();
        let us = f.calendars.get("us").unwrap();
        assert!(matches!(
            DeadlineCalculator::with_calendar(&p, us),
            Err(DeadlineError::CalendarMismatch { .. })
        ));
        p.timezone = "Mars/Olympus".into();
        assert!(matches!(
            DeadlineCalculator::new(&p, &f.calendars),
            Err(DeadlineError::UnknownTimeZone { .. })
        ));
        p.calendar = "none".into();
        assert!(matches!(
            DeadlineCalculator::new(&p, &f.calendars),
            Err(DeadlineError::UnknownCalendar { .. })
        ));
    }

    #[test]
    fn one_call_functions_match_the_calculator() {
        let f = Fixture::new();
        let profile = f.profiles.get("cn-nfra").unwrap();
        let cn = f.calendars.get("cn").unwrap();
        let input = ClockInput::started(sh(2025, 1, 20, 10, 0));
        let d = compute(profile, cn, &input).unwrap();
        assert_eq!(d, f.calc("cn-nfra").compute(&input).unwrap());
        assert_eq!(d.running_decision(), Some(d.decision));
        assert_eq!(
            due_state(profile, cn, &d, sh(2025, 2, 5, 0, 0)).unwrap(),
            DueState::Overdue
        );
        let decided = sh(2025, 2, 3, 16, 0);
        assert_eq!(
            review(profile, cn, decided, None)
                .unwrap()
                .unwrap()
                .apply_by
                .last_day,
            date(2025, 3, 5)
        );
        assert_eq!(
            follow_up(profile, cn, decided).unwrap().unwrap().last_day,
            date(2025, 2, 10)
        );
        let us = f.calendars.get("us").unwrap();
        assert!(matches!(
            compute(profile, us, &input),
            Err(DeadlineError::CalendarMismatch { .. })
        ));
    }

    #[test]
    fn due_state_serializes_as_snake_case() {
        for state in [
            DueState::OnTime,
            DueState::DueSoon,
            DueState::Overdue,
            DueState::Paused,
        ] {
            let json = serde_json::to_value(state).unwrap();
            assert_eq!(json, serde_json::Value::String(state.as_str().into()));
            assert_eq!(serde_json::from_value::<DueState>(json).unwrap(), state);
        }
        let pause: PauseInterval = (sh(2025, 1, 1, 0, 0), None).into();
        assert_eq!(pause, PauseInterval::open(sh(2025, 1, 1, 0, 0)));
    }

    #[test]
    fn the_same_inputs_give_the_same_deadlines() {
        let f = Fixture::new();
        let calc = f.calc("uk-fca");
        let mut input = ClockInput::started(at("Europe/London", 2025, 10, 20, 10, 0));
        input.business_type = Some("B0401");
        input.pauses = vec![PauseInterval::closed(
            at("Europe/London", 2025, 10, 24, 12, 0),
            at("Europe/London", 2025, 10, 27, 12, 0),
        )];
        let a = calc.compute(&input).unwrap();
        assert_eq!(a, calc.compute(&input).unwrap());
        // Working-basis pause Fri 12:00 → Mon 12:00 (across the end of BST): half of Friday and
        // half of Monday = 1 working day.
        assert_eq!(a.paused_days, 1);
    }
}
