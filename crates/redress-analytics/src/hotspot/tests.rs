use super::dist::{ln_beta_inc, ln_gamma, ln_nb_upper_tail, upper_normal_quantile};
use super::*;

/// SplitMix64: a tiny deterministic generator, so the synthetic data is the same on every run.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    /// Poisson by multiplying uniforms (Knuth); fine for the small daily rates used here.
    fn poisson(&mut self, rate: f64) -> u32 {
        let limit = (-rate).exp();
        let mut n = 0;
        let mut product = self.uniform();
        while product > limit {
            n += 1;
            product *= self.uniform();
        }
        n
    }
}

fn series(name: &str, counts: Vec<u32>) -> Series {
    Series { key: vec![name.to_string()], counts }
}

/// `weeks` weeks of Poisson days with a weekday pattern (quiet weekends) around `weekly`.
fn background(rng: &mut Rng, weekly: f64, weeks: usize) -> Vec<u32> {
    const SHAPE: [f64; 7] = [1.3, 1.2, 1.2, 1.1, 1.0, 0.6, 0.6];
    let total: f64 = SHAPE.iter().sum();
    (0..weeks * 7).map(|d| rng.poisson(weekly * SHAPE[d % 7] / total)).collect()
}

fn close(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance * b.abs().max(1e-300)
}

#[test]
fn ln_gamma_matches_factorials_and_half_integers() {
    assert!(ln_gamma(1.0).abs() < 1e-13);
    assert!(ln_gamma(2.0).abs() < 1e-13);
    assert!(close(ln_gamma(10.0), 362_880f64.ln(), 1e-13));
    assert!(close(ln_gamma(0.5), std::f64::consts::PI.sqrt().ln(), 1e-13));
    assert!(close(ln_gamma(0.1), 9.513_507_698_668_732f64.ln(), 1e-12));
    // Stirling far out.
    let x = 1e6f64;
    let stirling = (x - 0.5) * x.ln() - x + 0.5 * (2.0 * std::f64::consts::PI).ln() + 1.0 / (12.0 * x);
    assert!(close(ln_gamma(x), stirling, 1e-13));
}

#[test]
fn negative_binomial_tail_matches_direct_sums() {
    // r = 1 is geometric: P(Y ≥ y) = (1 − p)^y exactly.
    for (y, p) in [(1u64, 0.3f64), (5, 0.5), (40, 0.2), (200, 0.05)] {
        let (mean, variance) = ((1.0 - p) / p, (1.0 - p) / (p * p));
        let expected = y as f64 * (1.0 - p).ln();
        assert!(close(ln_nb_upper_tail(y, mean, variance), expected, 1e-10), "y={y} p={p}");
    }
    // Integer r against the probability mass summed term by term.
    for (r, p, y) in [(3.0f64, 0.25f64, 12u64), (7.0, 0.6, 2), (20.0, 0.4, 60), (50.0, 0.5, 120)] {
        // Sum the tail itself (1 − the sum below would cancel away the digits compared).
        let mut pmf = p.powf(r); // P(Y = 0)
        let mut tail_sum = 0.0;
        for n in 0..y + 5_000 {
            if n >= y {
                tail_sum += pmf;
            }
            pmf *= (n as f64 + r) / (n as f64 + 1.0) * (1.0 - p);
        }
        let (mean, variance) = (r * (1.0 - p) / p, r * (1.0 - p) / (p * p));
        let tail = ln_nb_upper_tail(y, mean, variance).exp();
        assert!(close(tail, tail_sum, 1e-10), "r={r} p={p} y={y}: {tail} vs {tail_sum}");
    }
    assert_eq!(ln_nb_upper_tail(0, 3.0, 6.0), 0.0);
}

#[test]
fn incomplete_beta_is_symmetric_and_stays_finite_far_out() {
    // I_x(a, b) = 1 − I_{1−x}(b, a), on both sides of the switch point.
    for (a, b, x) in [(2.0, 3.0, 0.2), (2.0, 3.0, 0.8), (30.0, 0.7, 0.95), (0.5, 0.5, 0.5)] {
        let left = ln_beta_inc(a, b, x, 1.0 - x).exp();
        let right = ln_beta_inc(b, a, 1.0 - x, x).exp();
        assert!(close(left, 1.0 - right, 1e-10), "{a} {b} {x}");
    }
    // A tail far beyond the smallest f64 keeps a finite logarithm and ranks above a lesser one.
    let far = ln_nb_upper_tail(5_000, 100.0, 300.0);
    let less = ln_nb_upper_tail(1_000, 100.0, 300.0);
    assert!(far.is_finite() && far < -700.0 && far < less, "{far} {less}");
}

#[test]
fn normal_quantile_of_known_tails() {
    for (p, z) in [(0.5, 0.0), (0.025, 1.959_963_984_540_054), (0.001, 3.090_232_306_167_814), (1e-10, 6.361_340_902_404_056), (0.9, -1.281_551_565_544_6)] {
        let got = upper_normal_quantile(f64::ln(p));
        assert!((got - z).abs() < 1e-8, "p={p}: {got} vs {z}");
    }
    // Far beyond f64: still increasing, and close to the asymptote √(2 ln(1/p)).
    let z = upper_normal_quantile(-2_000.0);
    assert!(z > upper_normal_quantile(-700.0) && (z - 4_000f64.sqrt()).abs() < 0.2, "{z}");
    assert_eq!(upper_normal_quantile(f64::NEG_INFINITY), f64::INFINITY);
}

#[test]
fn settings_are_checked() {
    let ok = HotspotSettings::default();
    assert_eq!(ok.validate(), Ok(()));
    assert_eq!(ok.history_days(), 35);
    let bad = |f: fn(&mut HotspotSettings)| {
        let mut s = HotspotSettings::default();
        f(&mut s);
        s.validate()
    };
    assert_eq!(bad(|s| s.window_days = 0), Err(HotspotError::Window));
    assert!(matches!(bad(|s| s.baseline_days = 30), Err(HotspotError::Baseline { .. })));
    assert!(matches!(bad(|s| s.baseline_days = 7), Err(HotspotError::Baseline { .. })));
    assert!(matches!(bad(|s| s.threshold = 0.0), Err(HotspotError::Threshold(_))));
    assert!(matches!(bad(|s| s.threshold = f64::NAN), Err(HotspotError::Threshold(_))));
    assert!(matches!(bad(|s| s.min_dispersion = -0.1), Err(HotspotError::Dispersion(_))));

    let uneven = [series("a", vec![1; 40]), series("b", vec![1; 39])];
    assert_eq!(detect(&uneven, &ok), Err(HotspotError::UnevenSeries { index: 1, expected: 40, found: 39 }));
    assert_eq!(detect(&[series("a", vec![1; 34])], &ok), Err(HotspotError::TooShort { days: 34, needed: 35 }));
    assert_eq!(assess(&[series("a", vec![1; 40])], 33, &ok), Err(HotspotError::Day { day: 33, first: 34, last: 39 }));
    assert_eq!(detect(&[], &ok), Ok(Vec::new()));
}

#[test]
fn a_flat_poisson_background_raises_no_alert() {
    let mut rng = Rng(20_150_101);
    // 300 series from 1 to 400 complaints a week, 26 weeks each, every day scanned.
    let all: Vec<Series> = (0..300).map(|i| series(&format!("s{i}"), background(&mut rng, 1.0 + 400.0 * (i as f64 / 300.0).powi(2), 26))).collect();
    let settings = HotspotSettings::default();
    let alerts = detect_all(&all, &settings).unwrap();
    let scans = 26 * 7 - settings.history_days() + 1;
    let tested: usize = (settings.history_days() - 1..26 * 7).map(|d| assess(&all, d, &settings).unwrap().len()).sum();
    eprintln!("flat background: {scans} scans, {tested} series tests, {} alerts", alerts.len());
    assert!(alerts.is_empty(), "{alerts:#?}");
    // Without the correction the same data does show its ordinary noise.
    let loose = HotspotSettings { threshold: 0.5, min_dispersion: 0.0, ..settings };
    assert!(!detect_all(&all, &loose).unwrap().is_empty());
}

#[test]
fn a_tripled_week_is_found_first() {
    let mut rng = Rng(7);
    let mut all: Vec<Series> = (0..50).map(|i| series(&format!("s{i}"), background(&mut rng, 20.0 + 2.0 * i as f64, 10))).collect();
    // Triple the last week of a 70-a-week series.
    let target = &mut all[25];
    let n = target.counts.len();
    for c in &mut target.counts[n - 7..] {
        *c *= 3;
    }
    let window: u32 = target.counts[n - 7..].iter().sum();
    let alerts = detect(&all, &HotspotSettings::default()).unwrap();
    eprintln!("tripled week: {alerts:#?}");
    assert_eq!(alerts.len(), 1);
    let top = &alerts[0];
    assert_eq!(top.key, vec!["s25".to_string()]);
    assert_eq!(top.window_count, u64::from(window));
    assert_eq!(top.baseline_counts.len(), 4);
    assert!(top.rising && top.alert && top.ratio > 2.0 && top.statistic > 4.0, "{top:?}");
    assert!(top.p_adjusted >= top.p_value && top.p_adjusted <= 0.01);
    // detect_all finds it on the last day and on no earlier one.
    let all_days = detect_all(&all, &HotspotSettings::default()).unwrap();
    assert!(all_days.iter().any(|(d, h)| *d == n - 1 && h.key == top.key));
    assert!(all_days.iter().all(|(d, _)| *d >= n - 7), "{all_days:?}");
}

#[test]
fn small_series_are_not_tested() {
    // Nothing for four weeks, then 9 in a week: unusual, but below min_count.
    let mut counts = vec![0; 35];
    counts[30] = 5;
    counts[33] = 4;
    let small = series("small", counts);
    let settings = HotspotSettings::default();
    assert!(detect(std::slice::from_ref(&small), &settings).unwrap().is_empty());
    assert!(assess(std::slice::from_ref(&small), 34, &settings).unwrap().is_empty());
    // At the minimum it is tested, and a burst from nothing is an alert.
    let lowered = HotspotSettings { min_count: 9, ..settings };
    let alerts = detect(&[small], &lowered).unwrap();
    assert_eq!(alerts.len(), 1);
    assert!(alerts[0].baseline_expected > 0.0 && alerts[0].ratio.is_finite());
}

#[test]
fn weekday_pattern_and_falls_raise_nothing() {
    // Busy Mondays, empty weekends, the same week after week: no window end is unusual.
    let week = [60, 40, 30, 30, 20, 0, 0];
    let pattern = series("weekdays", (0..70).map(|d| week[d % 7]).collect());
    // A series that halves: a fall is listed by assess, never an alert.
    let falling = series("falling", (0..42).map(|d| if d < 35 { 20 } else { 10 }).chain(std::iter::repeat_n(10, 28)).collect());
    let settings = HotspotSettings::default();
    let all = [pattern, falling];
    assert!(detect_all(&all, &settings).unwrap().is_empty());
    let listed = assess(&all, 41, &settings).unwrap();
    let fall = listed.iter().find(|h| h.key == ["falling"]).unwrap();
    assert!(!fall.rising && !fall.alert && fall.statistic < 0.0, "{fall:?}");
    assert_eq!(fall.baseline_counts, vec![140, 140, 140, 140]);
    assert_eq!(fall.window_count, 70);
}

#[test]
fn a_flat_baseline_is_not_hypersensitive() {
    // Exactly 100 a week for four weeks (no variance at all), then 125: a quarter more is
    // within ordinary variation for a series this size, thanks to the dispersion floor.
    let counts: Vec<u32> = (0..35).map(|d| if d % 7 >= 5 { 0 } else if d < 28 { 20 } else { 25 }).collect();
    let s = series("flat", counts);
    let settings = HotspotSettings::default();
    let listed = assess(std::slice::from_ref(&s), 34, &settings).unwrap();
    assert_eq!((listed[0].window_count, listed[0].baseline_counts.clone()), (125, vec![100; 4]));
    assert_eq!(listed[0].dispersion, settings.min_dispersion);
    assert!(!listed[0].alert && listed[0].p_value > 0.05, "{:?}", listed[0]);
    // Without the floor the same quarter would look significant.
    let bare = HotspotSettings { min_dispersion: 0.0, ..settings };
    assert!(assess(&[s], 34, &bare).unwrap()[0].p_value < 0.05);
}

#[test]
fn the_correction_grows_with_the_series_tested() {
    // One moderately unusual series alone alerts; among many quiet ones it must be stronger.
    let mut rng = Rng(99);
    let mut base = background(&mut rng, 70.0, 6);
    let n = base.len();
    for c in &mut base[n - 7..] {
        *c *= 2;
    }
    let alone = [series("x", base.clone())];
    let settings = HotspotSettings::default();
    let single = detect(&alone, &settings).unwrap();
    assert_eq!(single.len(), 1);
    assert!(close(single[0].p_adjusted, single[0].p_value, 1e-12));
    let mut crowd: Vec<Series> = (0..2_000).map(|i| series(&format!("q{i}"), background(&mut rng, 70.0, 6))).collect();
    crowd.push(series("x", base));
    let listed = assess(&crowd, n - 1, &settings).unwrap();
    let x = listed.iter().find(|h| h.key == ["x"]).unwrap();
    assert!(close(x.p_adjusted, (x.p_value * listed.len() as f64).min(1.0), 1e-9));
    assert_eq!(x.statistic, single[0].statistic);
    assert_eq!(x.alert, x.p_adjusted <= settings.threshold);
}
