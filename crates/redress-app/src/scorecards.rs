//! Scorecards (激励机制): how well each handler, department and unit handled complaints in a
//! period, from the statistics cells.
//!
//! A closing counts for the handler and department that closed it; a follow-up answer for the
//! closing it followed; a repeat complaint (the same person again within the profile's repeat
//! window) for whoever closed the earlier one.

use std::collections::BTreeMap;

use redress_analytics::cells::Measure;
use redress_store::{StatColumn, StatRow};
use serde::{Deserialize, Serialize};

use crate::analytics::{self, AnalysisFilter, AnalysisParams, Period, median};
use crate::error::AppResult;
use crate::{App, Caller};

/// Whose scorecards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// One per handler.
    #[default]
    Handler,
    /// One per department.
    Department,
    /// One per unit (departments rolled up to the unit they belong to).
    Unit,
}

/// One scorecard.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scorecard {
    /// Handler id, department code or unit code.
    pub key: String,
    /// Closings (decided, declined, withdrawn, merged).
    pub handled: i64,
    /// Closings within the deadline.
    pub on_time: i64,
    /// Median handling time in the profile's days.
    pub median_days: Option<f64>,
    /// Follow-up answers.
    pub followed_up: i64,
    /// Of which satisfied or basically satisfied.
    pub satisfied: i64,
    /// Closings later reopened.
    pub reopened: i64,
    /// Repeat complaints after their closings.
    pub repeats: i64,
    /// Closings of escalated complaints (overdue escalation, threats of regulator, media or
    /// court).
    pub escalations: i64,
    /// Closings of complaints a regulator referred.
    pub regulator_referrals: i64,
    /// Redress paid, per currency, in hundredths.
    pub redress: BTreeMap<String, i64>,
    /// Closings in the period before (the trend).
    pub previous_handled: i64,
    /// On-time closings in the period before.
    pub previous_on_time: i64,
    /// Rank by on-time share, then satisfaction, then volume (1 = best).
    pub rank: usize,
}

impl Scorecard {
    fn new(key: String) -> Self {
        Scorecard {
            key,
            handled: 0,
            on_time: 0,
            median_days: None,
            followed_up: 0,
            satisfied: 0,
            reopened: 0,
            repeats: 0,
            escalations: 0,
            regulator_referrals: 0,
            redress: BTreeMap::new(),
            previous_handled: 0,
            previous_on_time: 0,
            rank: 0,
        }
    }

    /// Share of closings within the deadline.
    pub fn on_time_rate(&self) -> Option<f64> {
        rate(self.on_time, self.handled)
    }

    /// Share of follow-up answers satisfied.
    pub fn satisfaction_rate(&self) -> Option<f64> {
        rate(self.satisfied, self.followed_up)
    }

    /// Share of closings reopened.
    pub fn reopen_rate(&self) -> Option<f64> {
        rate(self.reopened, self.handled)
    }

    /// On-time share in the period before.
    pub fn previous_on_time_rate(&self) -> Option<f64> {
        rate(self.previous_on_time, self.previous_handled)
    }
}

/// `part / whole`, `None` when nothing to divide.
pub fn rate(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// Scorecards of a period.
#[derive(Debug, Clone, Serialize)]
pub struct Scorecards {
    /// The period and filters.
    pub filter: AnalysisFilter,
    /// Whose.
    pub level: Level,
    /// Ranked, best first.
    pub cards: Vec<Scorecard>,
}

/// The scorecards of every handler, department or unit in the caller's reach for a period
/// and filter, ranked.
pub async fn scorecards(app: &App, caller: &Caller, params: &AnalysisParams, level: Level) -> AppResult<Scorecards> {
    let f = analytics::analysis_filter(app, caller, params)?;
    let p = f.period;
    let prev: Period = p.previous();
    let by = match level {
        Level::Handler => StatColumn::Handler,
        Level::Department | Level::Unit => StatColumn::Department,
    };
    let q = |m: Measure, period: Period, extra: Option<StatColumn>| {
        let mut group = vec![by];
        group.extend(extra);
        f.query(m, period, &group)
    };
    let queries = vec![
        q(Measure::Closed, p, None),                                  // 0
        q(Measure::ClosedOnTime, p, Some(StatColumn::Value)),         // 1
        q(Measure::HandlingDays, p, Some(StatColumn::Value)),         // 2
        q(Measure::FollowUp, p, Some(StatColumn::Value)),             // 3
        q(Measure::Reopened, p, None),                                // 4
        q(Measure::Repeat, p, None),                                  // 5
        q(Measure::Escalated, p, Some(StatColumn::Value)),            // 6
        q(Measure::Redress, p, Some(StatColumn::Value)),              // 7
        q(Measure::Closed, prev, None),                               // 8
        q(Measure::ClosedOnTime, prev, Some(StatColumn::Value)),      // 9
        q(Measure::ClosedReferral, p, None),                          // 10
    ];
    let rows = analytics::run(app, &queries).await?;
    let org = &app.rules.org;
    let key_of = |row: &StatRow| -> String {
        let k = row.keys.first().cloned().unwrap_or_default();
        match level {
            Level::Unit => org.department(&k).map_or(k, |d| d.unit.clone()),
            _ => k,
        }
    };
    let mut cards: BTreeMap<String, Scorecard> = BTreeMap::new();
    let mut days: BTreeMap<String, Vec<(i64, i64)>> = BTreeMap::new();
    let value = |row: &StatRow| row.keys.get(1).cloned().unwrap_or_default();
    for (i, set) in rows.iter().enumerate() {
        for row in set {
            let key = key_of(row);
            // A closing nobody held (declined at intake) has no handler: no handler's card.
            if level == Level::Handler && key.is_empty() {
                continue;
            }
            let card = cards.entry(key.clone()).or_insert_with(|| Scorecard::new(key.clone()));
            match i {
                0 => card.handled += row.n,
                1 if value(row) == "yes" => card.on_time += row.n,
                2 => days.entry(key).or_default().push((value(row).parse().unwrap_or(0), row.n)),
                3 => {
                    card.followed_up += row.n;
                    if value(row) != "dissatisfied" {
                        card.satisfied += row.n;
                    }
                }
                4 => card.reopened += row.n,
                5 => card.repeats += row.n,
                6 => card.escalations += row.n,
                7 => *card.redress.entry(value(row)).or_default() += row.total,
                8 => card.previous_handled += row.n,
                9 if value(row) == "yes" => card.previous_on_time += row.n,
                10 => card.regulator_referrals += row.n,
                _ => {}
            }
        }
    }
    for (key, hist) in days {
        if let Some(card) = cards.get_mut(&key) {
            card.median_days = median(&hist);
        }
    }
    let mut cards: Vec<Scorecard> = cards.into_values().filter(|c| c.handled > 0 || c.followed_up > 0 || c.repeats > 0).collect();
    cards.sort_by(|a, b| {
        let score = |c: &Scorecard| (c.on_time_rate().unwrap_or(0.0), c.satisfaction_rate().unwrap_or(0.0), c.handled);
        let (x, y) = (score(a), score(b));
        y.0.total_cmp(&x.0).then(y.1.total_cmp(&x.1)).then(y.2.cmp(&x.2)).then_with(|| a.key.cmp(&b.key))
    });
    for (i, c) in cards.iter_mut().enumerate() {
        c.rank = i + 1;
    }
    Ok(Scorecards { filter: f, level, cards })
}
