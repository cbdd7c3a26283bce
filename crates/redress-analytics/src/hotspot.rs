//! Early warning over daily counts: which series rose beyond what their own recent past explains.
//!
//! A [`Series`] is the daily count of one combination (business type × cause × unit, CFPB
//! product × issue × state, …), oldest day first. At a given day the detector compares the
//! **window** (the `window_days` ending that day, a week by default) with the `baseline_days`
//! just before it, cut into windows of the same length (four weeks by default). Whole weeks on
//! both sides make the weekday pattern cancel: every window holds each weekday once, so a quiet
//! Sunday or a busy Monday is never a rise.
//!
//! # The test
//!
//! For one series the baseline gives `k` window counts `x₁ … x_k` (sum `S`), the window gives
//! `y`. The question is how surprising `y` is if nothing changed.
//!
//! - **Expected count.** `μ = (S + ½) / k`: the mean of the baseline windows with half a complaint
//!   added to their total (the Jeffreys prior of a Poisson rate), so a combination never seen
//!   before has a small positive expectation instead of zero, and its first burst is measured
//!   instead of being infinitely surprising.
//! - **Dispersion.** Complaint counts vary more than a Poisson count does (campaigns, outages,
//!   month ends), so the count is modelled as negative binomial with variance `μ + φμ²`. `φ` is
//!   the moment estimate of the baseline windows, `(s² − x̄) / x̄²`, but never below
//!   [`HotspotSettings::min_dispersion`]. Four windows estimate a variance poorly: a baseline
//!   that happens to be flat (`s² ≈ 0`) would otherwise make a series hypersensitive, and a large
//!   series would alert on a few percent of growth. The default floor, 0.02, allows about ±14 %
//!   of ordinary week-to-week variation on top of Poisson noise: on the CFPB complaints of
//!   early 2015 the national weekly totals vary by about 10 % (φ ≈ 0.011) and the median
//!   moment estimate over the (product, issue, state) series tested is 0.012, so the floor sits just
//!   above what real series show and only bites when four weeks happen to look too calm.
//! - **Uncertainty of the mean.** `μ` itself comes from only `k` windows; the variance is
//!   multiplied by `1 + 1/k`, the inflation of the Gamma–Poisson predictive distribution (with
//!   `φ = 0` this is exactly the posterior predictive of `y` under the Jeffreys prior).
//! - **p-value.** `P(Y ≥ y)` for the negative binomial with that mean and variance, one-sided:
//!   only rises are alerts (a fall is reported by [`assess`] with `rising = false` but never
//!   alerts). It is computed from the regularised incomplete beta function in log space, so
//!   surges far in the tail still rank correctly.
//! - **Statistic.** The p-value expressed as a standard normal quantile: a statistic of 4 is as
//!   surprising as a rise of four standard deviations of a normal variable. Alerts sort by it.
//!
//! Only series whose window holds at least [`HotspotSettings::min_count`] complaints are tested:
//! below that nobody acts on a rise, however unusual, and the rule keeps tiny series (3 instead
//! of 0) out of the alerts.
//!
//! # Many series at once
//!
//! A scan tests hundreds or thousands of series at once; at a per-series level of 1 % a scan
//! of 500 series would raise about five false alerts every week. The detector therefore applies
//! a **Bonferroni** correction over the series tested at that day: a series alerts when
//! `p × m ≤ threshold`, `m` being the number of series tested (window count at least
//! `min_count`), so [`HotspotSettings::threshold`] (default 0.01) bounds the probability that a
//! scan raises any false alert at all (taking the set of series tested as given). Bonferroni rather than Benjamini–Hochberg because series of one
//! day are not independent (a holiday, a publication delay or a system outage moves many of them
//! together) and Bonferroni holds under any dependence, because its promise (“a quiet week raises
//! nothing, 99 times in 100”) is the one an early-warning inbox needs, and because each alert can
//! be judged on its own (`p_adjusted`), without the rest of the scan. The price is modest: with
//! the 50 to 65 series a week of the CFPB quarter tested, an alert needs a statistic of about
//! 3.6 instead of 2.3; the bursts found there scored 3.6 to 4.6.
//!
//! [`detect`] scans the latest window, [`assess`] returns every tested series at one day (alert
//! or not, for a table of movers), [`detect_all`] scans every day for back-testing. All are
//! `O(series × days)` (times the number of baseline windows): each series' window sums are
//! computed once by a running sum, and the tail probability only for series tested.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The daily counts of one combination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Series {
    /// What is counted, e.g. `["Mortgage", "Loan servicing", "CA"]`.
    pub key: Vec<String>,
    /// One count per consecutive day, oldest first; every series of a scan has the same length.
    pub counts: Vec<u32>,
}

/// How the detector compares and when it alerts. Read from configuration, a missing field takes
/// its default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HotspotSettings {
    /// Days in the window under test (7: whole weeks cancel the weekday pattern).
    pub window_days: usize,
    /// Days of baseline just before the window; a multiple of `window_days`, at least two
    /// windows (28: four weeks).
    pub baseline_days: usize,
    /// The fewest complaints in the window for a series to be tested at all (10).
    pub min_count: u32,
    /// The significance level of a whole scan: the probability that a scan of series that did
    /// not change raises any alert (Bonferroni over the series tested). Strictly between 0 and 1
    /// (0.01).
    pub threshold: f64,
    /// The floor of the dispersion `φ` (variance `μ + φμ²`); finite, not negative (0.02).
    pub min_dispersion: f64,
    /// The most alerts reported for one day (the strongest first; 20); 0 reports none.
    pub max_alerts: usize,
}

impl Default for HotspotSettings {
    fn default() -> Self {
        HotspotSettings { window_days: 7, baseline_days: 28, min_count: 10, threshold: 0.01, min_dispersion: 0.02, max_alerts: 20 }
    }
}

impl HotspotSettings {
    /// The number of baseline windows (`baseline_days / window_days`).
    pub fn baseline_windows(&self) -> usize {
        self.baseline_days.checked_div(self.window_days).unwrap_or(0)
    }

    /// The days of history a test needs: the baseline and the window.
    pub fn history_days(&self) -> usize {
        self.window_days.saturating_mul(self.baseline_windows().saturating_add(1))
    }

    /// Checks the settings.
    ///
    /// # Errors
    ///
    /// [`HotspotError::Window`], [`HotspotError::Baseline`], [`HotspotError::Threshold`] or
    /// [`HotspotError::Dispersion`] naming the first setting out of range.
    pub fn validate(&self) -> Result<(), HotspotError> {
        if self.window_days == 0 {
            return Err(HotspotError::Window);
        }
        if !self.baseline_days.is_multiple_of(self.window_days) || self.baseline_windows() < 2 {
            return Err(HotspotError::Baseline { baseline_days: self.baseline_days, window_days: self.window_days });
        }
        if !(self.threshold > 0.0 && self.threshold < 1.0) {
            return Err(HotspotError::Threshold(self.threshold));
        }
        if !(self.min_dispersion.is_finite() && self.min_dispersion >= 0.0) {
            return Err(HotspotError::Dispersion(self.min_dispersion));
        }
        Ok(())
    }
}

/// Why a scan could not run.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum HotspotError {
    /// The window is empty.
    #[error("the window must be at least one day")]
    Window,
    /// The baseline is not whole windows, or fewer than two.
    #[error("the baseline ({baseline_days} days) must be at least two whole windows of {window_days} days")]
    Baseline {
        /// The baseline asked for.
        baseline_days: usize,
        /// The window asked for.
        window_days: usize,
    },
    /// The threshold is not a probability strictly between 0 and 1.
    #[error("the threshold must lie strictly between 0 and 1, not {0}")]
    Threshold(f64),
    /// The dispersion floor is negative or not finite.
    #[error("the minimum dispersion must be finite and not negative, not {0}")]
    Dispersion(f64),
    /// Series of different lengths.
    #[error("series {index} has {found} days where the first has {expected}")]
    UnevenSeries {
        /// Position of the offending series.
        index: usize,
        /// Days of the first series.
        expected: usize,
        /// Days of this one.
        found: usize,
    },
    /// Too little history for one window and its baseline.
    #[error("the series cover {days} days; a window and its baseline need {needed}")]
    TooShort {
        /// Days the series cover.
        days: usize,
        /// Days needed.
        needed: usize,
    },
    /// The day asked for is not a day a window can end on.
    #[error("a window cannot end on day {day}: days {first} to {last} can")]
    Day {
        /// The day asked for.
        day: usize,
        /// The first possible day.
        first: usize,
        /// The last day of the series.
        last: usize,
    },
}

/// One series tested at one day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hotspot {
    /// The series' key.
    pub key: Vec<String>,
    /// Complaints in the window.
    pub window_count: u64,
    /// Complaints in each baseline window, oldest first.
    pub baseline_counts: Vec<u64>,
    /// The expected window count: the baseline windows' mean (with half a complaint added to
    /// their total, see the module documentation).
    pub baseline_expected: f64,
    /// The dispersion `φ` used (variance `μ + φμ²` before the `1 + 1/k` inflation).
    pub dispersion: f64,
    /// `window_count / baseline_expected`.
    pub ratio: f64,
    /// The p-value as a standard normal quantile (larger is more surprising).
    pub statistic: f64,
    /// One-sided p-value: the chance of a window count at least this large if nothing changed.
    pub p_value: f64,
    /// The p-value times the number of series tested that day, at most 1 (Bonferroni).
    pub p_adjusted: f64,
    /// Whether the window count is above its expectation.
    pub rising: bool,
    /// Whether it is an alert: `p_adjusted ≤ threshold`.
    pub alert: bool,
}

/// The alerts of the latest window (the window ending on the last day), strongest first, at
/// most `max_alerts`.
///
/// # Errors
///
/// Settings out of range, series of different lengths, or less history than a window and its
/// baseline ([`HotspotError`]). No series at all is no alert.
pub fn detect(series: &[Series], settings: &HotspotSettings) -> Result<Vec<Hotspot>, HotspotError> {
    let Some(days) = check(series, settings)? else {
        return Ok(Vec::new());
    };
    let mut alerts: Vec<Hotspot> = assess(series, days - 1, settings)?.into_iter().filter(|h| h.alert).collect();
    alerts.truncate(settings.max_alerts);
    Ok(alerts)
}

/// Every series tested at the window ending on `day` (0 = the first day of the series), alert
/// or not, strongest first. A series with fewer than `min_count` complaints in the window is
/// not tested and not listed.
///
/// # Errors
///
/// As [`detect`], and [`HotspotError::Day`] when no window with a full baseline ends on `day`.
pub fn assess(series: &[Series], day: usize, settings: &HotspotSettings) -> Result<Vec<Hotspot>, HotspotError> {
    let Some(days) = check(series, settings)? else {
        return Ok(Vec::new());
    };
    let first = settings.history_days() - 1;
    if day < first || day >= days {
        return Err(HotspotError::Day { day, first, last: days - 1 });
    }
    let mut sums = Vec::with_capacity(days);
    let mut tested = Vec::new();
    for (index, s) in series.iter().enumerate() {
        window_sums(&s.counts, settings.window_days, &mut sums);
        if sums[day] >= u64::from(settings.min_count) {
            tested.push((index, evaluate(&sums, day, settings, true)));
        }
    }
    let m = tested.len();
    let mut out: Vec<Hotspot> = tested.into_iter().map(|(index, e)| hotspot(&series[index], day, &e, m, settings)).collect();
    sort(&mut out);
    Ok(out)
}

/// The alerts of every window with a full baseline: `(day, hotspot)` where `day` is the last
/// day of the window (0 = the first day of the series), by day, strongest first within a day,
/// at most `max_alerts` a day. For back-testing a setting over history; keep only the days of
/// interest (e.g. every seventh) from the result.
///
/// # Errors
///
/// As [`detect`].
pub fn detect_all(series: &[Series], settings: &HotspotSettings) -> Result<Vec<(usize, Hotspot)>, HotspotError> {
    let Some(days) = check(series, settings)? else {
        return Ok(Vec::new());
    };
    let first = settings.history_days() - 1;
    let ln_threshold = settings.threshold.ln();
    // Pass 1: the number tested each day, and the tests that could pass whatever that number
    // is (p ≤ threshold, since the number is at least one).
    let mut tested = vec![0usize; days];
    let mut candidates: Vec<(usize, usize, Evaluation)> = Vec::new();
    let mut sums = Vec::with_capacity(days);
    for (index, s) in series.iter().enumerate() {
        window_sums(&s.counts, settings.window_days, &mut sums);
        for day in first..days {
            if sums[day] < u64::from(settings.min_count) {
                continue;
            }
            tested[day] += 1;
            let e = evaluate(&sums, day, settings, false);
            if e.rising() && e.ln_p <= ln_threshold {
                candidates.push((day, index, e));
            }
        }
    }
    // Pass 2: the correction with each day's number tested.
    let mut alerts: Vec<(usize, Hotspot)> = candidates
        .into_iter()
        .map(|(day, index, e)| (day, hotspot(&series[index], day, &e, tested[day], settings)))
        .filter(|(_, h)| h.alert)
        .collect();
    alerts.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| order(&a.1, &b.1)));
    let mut out = Vec::with_capacity(alerts.len());
    let mut current = (usize::MAX, 0usize);
    for (day, h) in alerts {
        if current.0 != day {
            current = (day, 0);
        }
        if current.1 < settings.max_alerts {
            current.1 += 1;
            out.push((day, h));
        }
    }
    Ok(out)
}

/// Validates and returns the number of days, or `None` without series.
fn check(series: &[Series], settings: &HotspotSettings) -> Result<Option<usize>, HotspotError> {
    settings.validate()?;
    let Some(head) = series.first() else {
        return Ok(None);
    };
    let days = head.counts.len();
    if let Some((index, s)) = series.iter().enumerate().find(|(_, s)| s.counts.len() != days) {
        return Err(HotspotError::UnevenSeries { index, expected: days, found: s.counts.len() });
    }
    let needed = settings.history_days();
    if days < needed {
        return Err(HotspotError::TooShort { days, needed });
    }
    Ok(Some(days))
}

/// `sums[d]` = the counts of the `window` days ending on day `d` (days before a full window
/// hold the partial sum and are never read).
fn window_sums(counts: &[u32], window: usize, sums: &mut Vec<u64>) {
    sums.clear();
    let mut running = 0u64;
    for (d, &c) in counts.iter().enumerate() {
        running += u64::from(c);
        if d >= window {
            running -= u64::from(counts[d - window]);
        }
        sums.push(running);
    }
}

/// The test of one series at one day.
#[derive(Debug, Clone, Copy)]
struct Evaluation {
    window: u64,
    expected: f64,
    dispersion: f64,
    ln_p: f64,
}

impl Evaluation {
    fn rising(&self) -> bool {
        self.window as f64 > self.expected
    }
}

/// The test of the window ending on `day`; the tail probability of a falling series is only
/// computed when `falling_too` (a fall never alerts).
fn evaluate(sums: &[u64], day: usize, settings: &HotspotSettings, falling_too: bool) -> Evaluation {
    let (w, k) = (settings.window_days, settings.baseline_windows());
    let y = sums[day];
    let kf = k as f64;
    let (mut total, mut squares) = (0.0, 0.0);
    for j in 1..=k {
        let x = sums[day - j * w] as f64;
        total += x;
        squares += x * x;
    }
    let mean = total / kf;
    let variance = ((squares - total * mean) / (kf - 1.0)).max(0.0);
    let moment = if mean > 0.0 { (variance - mean) / (mean * mean) } else { 0.0 };
    let dispersion = moment.max(settings.min_dispersion);
    let expected = (total + 0.5) / kf;
    let predictive = (expected + dispersion * expected * expected) * (1.0 + 1.0 / kf);
    let ln_p = if falling_too || y as f64 > expected { dist::ln_nb_upper_tail(y, expected, predictive) } else { 0.0 };
    Evaluation { window: y, expected, dispersion, ln_p }
}

fn hotspot(series: &Series, day: usize, e: &Evaluation, tested: usize, settings: &HotspotSettings) -> Hotspot {
    let (w, k) = (settings.window_days, settings.baseline_windows());
    let baseline_counts = (1..=k)
        .rev()
        .map(|j| {
            let end = day + 1 - j * w;
            series.counts[end - w..end].iter().map(|&c| u64::from(c)).sum()
        })
        .collect();
    let ln_adjusted = (e.ln_p + (tested.max(1) as f64).ln()).min(0.0);
    Hotspot {
        key: series.key.clone(),
        window_count: e.window,
        baseline_counts,
        baseline_expected: e.expected,
        dispersion: e.dispersion,
        ratio: e.window as f64 / e.expected,
        statistic: dist::upper_normal_quantile(e.ln_p),
        p_value: e.ln_p.exp(),
        p_adjusted: ln_adjusted.exp(),
        rising: e.rising(),
        alert: e.rising() && ln_adjusted <= settings.threshold.ln(),
    }
}

/// Strongest first; ties by key so the order never depends on the input order.
fn order(a: &Hotspot, b: &Hotspot) -> std::cmp::Ordering {
    b.statistic.total_cmp(&a.statistic).then_with(|| a.key.cmp(&b.key))
}

fn sort(hotspots: &mut [Hotspot]) {
    hotspots.sort_by(order);
}

/// The distributions the test needs, in log space where tails get small.
mod dist {
    use std::f64::consts::PI;

    /// `ln Γ(x)` for `x > 0` (Lanczos, g = 7, nine terms; relative error about 1e-15).
    pub(super) fn ln_gamma(x: f64) -> f64 {
        const G: f64 = 7.0;
        const C: [f64; 9] = [
            0.999_999_999_999_809_9,
            676.520_368_121_885_1,
            -1_259.139_216_722_402_8,
            771.323_428_777_653_1,
            -176.615_029_162_140_6,
            12.507_343_278_686_905,
            -0.138_571_095_265_720_12,
            9.984_369_578_019_572e-6,
            1.505_632_735_149_311_6e-7,
        ];
        if x < 0.5 {
            // Reflection: Γ(x) Γ(1 − x) = π / sin(πx).
            return (PI / (PI * x).sin()).ln() - ln_gamma(1.0 - x);
        }
        let x = x - 1.0;
        let t = x + G + 0.5;
        let series = C[1..].iter().enumerate().fold(C[0], |acc, (i, c)| acc + c / (x + (i + 1) as f64));
        0.5 * (2.0 * PI).ln() + (x + 0.5) * t.ln() - t + series.ln()
    }

    fn ln_beta(a: f64, b: f64) -> f64 {
        ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
    }

    /// The continued fraction of the incomplete beta function (modified Lentz).
    fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
        const TINY: f64 = 1e-300;
        const EPS: f64 = 1e-15;
        // Converges in O(√max(a, b)) steps below the switch point used by the caller.
        const MAX_STEPS: usize = 100_000;
        let guard = |v: f64| if v.abs() < TINY { TINY } else { v };
        let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
        let mut c = 1.0;
        let mut d = 1.0 / guard(1.0 - qab * x / qap);
        let mut h = d;
        for m in 1..=MAX_STEPS {
            let m = m as f64;
            let m2 = 2.0 * m;
            let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
            d = 1.0 / guard(1.0 + aa * d);
            c = guard(1.0 + aa / c);
            h *= d * c;
            let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
            d = 1.0 / guard(1.0 + aa * d);
            c = guard(1.0 + aa / c);
            let step = d * c;
            h *= step;
            if (step - 1.0).abs() < EPS {
                break;
            }
        }
        h
    }

    /// `ln I_x(a, b)`, the regularised incomplete beta function; `y = 1 − x` is passed apart
    /// so that callers keep its precision.
    pub(super) fn ln_beta_inc(a: f64, b: f64, x: f64, y: f64) -> f64 {
        if x <= 0.0 {
            return f64::NEG_INFINITY;
        }
        if y <= 0.0 {
            return 0.0;
        }
        let ln_front = a * x.ln() + b * y.ln() - ln_beta(a, b);
        if x < (a + 1.0) / (a + b + 2.0) {
            ln_front + beta_fraction(a, b, x).ln() - a.ln()
        } else {
            let rest = (ln_front + beta_fraction(b, a, y).ln() - b.ln()).exp();
            (-rest.min(1.0)).ln_1p()
        }
    }

    /// `ln P(Y ≥ y)` for a negative binomial `Y` with this mean and variance (`variance >
    /// mean > 0`).
    pub(super) fn ln_nb_upper_tail(y: u64, mean: f64, variance: f64) -> f64 {
        if y == 0 {
            return 0.0;
        }
        // Y counts failures before the r-th success, success probability p = mean / variance:
        // P(Y ≤ n) = I_p(r, n + 1), so P(Y ≥ y) = I_{1−p}(y, r).
        let excess = variance - mean;
        let r = mean * mean / excess;
        ln_beta_inc(y as f64, r, excess / variance, mean / variance)
    }

    /// The `z` with `P(Z ≥ z) = exp(ln_p)` for a standard normal `Z` (Acklam's rational
    /// approximation, relative error below 1.2e-9; fed the logarithm, it keeps working for
    /// p-values far below the smallest `f64`).
    pub(super) fn upper_normal_quantile(ln_p: f64) -> f64 {
        const A: [f64; 6] = [-39.696_830_286_653_76, 220.946_098_424_520_5, -275.928_510_446_968_7, 138.357_751_867_269, -30.664_798_066_147_16, 2.506_628_277_459_239];
        const B: [f64; 5] = [-54.476_098_798_224_06, 161.585_836_858_040_9, -155.698_979_859_886_6, 66.801_311_887_719_72, -13.280_681_552_885_72];
        const C: [f64; 6] = [-0.007_784_894_002_430_293, -0.322_396_458_041_136_5, -2.400_758_277_161_838, -2.549_732_539_343_734, 4.374_664_141_464_968, 2.938_163_982_698_783];
        const D: [f64; 4] = [0.007_784_695_709_041_462, 0.322_467_129_070_039_8, 2.445_134_137_142_996, 3.754_408_661_907_416];
        const LOW: f64 = 0.02425;
        // The lower-tail branch: Φ⁻¹(p) for small p, from q = √(−2 ln p).
        let tail = |q: f64| {
            (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
        };
        if ln_p.is_nan() {
            return f64::NAN;
        }
        if ln_p >= 0.0 {
            return f64::NEG_INFINITY;
        }
        if ln_p == f64::NEG_INFINITY {
            return f64::INFINITY;
        }
        let p = ln_p.exp();
        if p < LOW {
            -tail((-2.0 * ln_p).sqrt())
        } else if p > 1.0 - LOW {
            tail((-2.0 * (-p).ln_1p()).sqrt())
        } else {
            let q = p - 0.5;
            let r = q * q;
            -(((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
        }
    }
}

#[cfg(test)]
mod tests;
