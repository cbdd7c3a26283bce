//! The hotspot detector on real complaints: the CFPB database, 1 January – 19 March 2015, as
//! daily series per (product, issue, state). Reads `../shared/data/cfpb/complaints-2015-q1.csv`
//! beside the repository and skips, saying so, when it is absent.

use std::collections::BTreeMap;
use std::path::PathBuf;

use jiff::civil::Date;
use redress_analytics::hotspot::{Hotspot, HotspotSettings, Series, assess, detect_all};

fn data_file() -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/cfpb/complaints-2015-q1.csv");
    if path.is_file() {
        Some(path)
    } else {
        eprintln!("skipping: {} is absent (the shared data folder ../shared/data is not beside the repository)", path.display());
        None
    }
}

/// Daily series per (product, issue, state) and the first day.
fn load(path: &PathBuf) -> (Vec<Series>, Date) {
    let mut reader = csv::Reader::from_path(path).expect("readable CSV");
    let header = reader.headers().expect("a header").clone();
    let column = |name: &str| header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name:?} in {header:?}"));
    let (date, product, issue, state) = (column("Date received"), column("Product"), column("Issue"), column("State"));
    let mut rows: Vec<(Date, Vec<String>)> = Vec::new();
    for record in reader.records() {
        let record = record.expect("a well-formed record");
        let day = redress_import::parse_cfpb_date(&record[date]).unwrap_or_else(|| panic!("date {:?}", &record[date]));
        let key = [product, issue, state].iter().map(|&i| record[i].trim().to_string()).collect();
        rows.push((day, key));
    }
    let first = rows.iter().map(|r| r.0).min().expect("rows");
    let last = rows.iter().map(|r| r.0).max().expect("rows");
    let days = usize::try_from((last - first).get_days()).expect("ordered") + 1;
    let mut by_key: BTreeMap<Vec<String>, Vec<u32>> = BTreeMap::new();
    for (day, key) in rows {
        let index = usize::try_from((day - first).get_days()).expect("after the first day");
        by_key.entry(key).or_insert_with(|| vec![0; days])[index] += 1;
    }
    (by_key.into_iter().map(|(key, counts)| Series { key, counts }).collect(), first)
}

fn day_date(first: Date, day: usize) -> Date {
    first.checked_add(jiff::Span::new().days(i64::try_from(day).expect("small"))).expect("in range")
}

fn show(h: &Hotspot) -> String {
    format!(
        "{} | window {} vs baseline {:?} (expected {:.1}, ×{:.2}) φ {:.3} statistic {:.2} p {:.2e} adjusted {:.2e}",
        h.key.join(" / "),
        h.window_count,
        h.baseline_counts,
        h.baseline_expected,
        h.ratio,
        h.dispersion,
        h.statistic,
        h.p_value,
        h.p_adjusted
    )
}

/// Week ends aligned on the last day of the data, as a live scan on that day would be.
fn week_ends(days: usize, settings: &HotspotSettings) -> Vec<usize> {
    let first = settings.history_days() - 1;
    (first..days).filter(|d| (days - 1 - d).is_multiple_of(settings.window_days)).collect()
}

#[test]
fn real_cfpb_quarter_back_test_and_injected_rise() {
    let Some(path) = data_file() else {
        return;
    };
    let (series, first) = load(&path);
    let days = series[0].counts.len();
    let total: u64 = series.iter().flat_map(|s| &s.counts).map(|&c| u64::from(c)).sum();
    let settings = HotspotSettings::default();
    eprintln!("{} complaints, {} series (product × issue × state), {days} days from {first}", total, series.len());
    assert_eq!(total, 28_156);

    // (a) Every week end after the first baseline.
    let all = detect_all(&series, &settings).expect("valid series");
    let ends = week_ends(days, &settings);
    let mut real_alerts = 0;
    for &end in &ends {
        let tested = assess(&series, end, &settings).expect("a full baseline").len();
        let alerts: Vec<&Hotspot> = all.iter().filter(|(d, _)| *d == end).map(|(_, h)| h).collect();
        real_alerts += alerts.len();
        eprintln!(
            "week {} – {}: {tested} series tested, {} alerts",
            day_date(first, end + 1 - settings.window_days),
            day_date(first, end),
            alerts.len()
        );
        for h in alerts {
            eprintln!("    {}", show(h));
        }
    }
    eprintln!("alerts at week ends: {real_alerts}; at any day (windows ending on every day, overlapping): {}", all.len());
    for (day, h) in &all {
        eprintln!("    window ending {}: {}", day_date(first, *day), show(h));
    }
    // Bounds chosen after looking: 1 alert at week ends, 6 at any day, all of them bursts of
    // credit-report disputes (see the crate's report).
    assert!(real_alerts <= 3, "{real_alerts} alerts at week ends");
    assert!(all.len() <= 10, "{} alerts at any day", all.len());

    // (b) A rise injected into one real mid-volume series in the last complete week before the
    // export's publication lag (the window ending on Thursday 26 February 2015).
    let end = *ends.iter().find(|&&d| day_date(first, d) == Date::constant(2015, 2, 26)).expect("a week end on 26 February");
    let before = assess(&series, end, &settings).expect("a full baseline");
    let target = before
        .iter()
        .filter(|h| !h.alert)
        .min_by(|a, b| (a.baseline_expected - 30.0).abs().total_cmp(&(b.baseline_expected - 30.0).abs()))
        .expect("a mid-volume series")
        .clone();
    // Add N a day so the week is about 2.5 times its baseline.
    let per_day = ((2.5 * target.baseline_expected - target.window_count as f64) / 7.0).round().max(1.0) as u32;
    let mut injected = series.clone();
    let s = injected.iter_mut().find(|s| s.key == target.key).expect("the target series");
    for c in &mut s.counts[end + 1 - settings.window_days..=end] {
        *c += per_day;
    }
    eprintln!("injected +{per_day} a day into {}", show(&target));
    let after = detect_all(&injected, &settings).expect("valid series");
    let week: Vec<&Hotspot> = after.iter().filter(|(d, _)| *d == end).map(|(_, h)| h).collect();
    for (rank, h) in week.iter().enumerate() {
        eprintln!("    #{} {}", rank + 1, show(h));
    }
    let found = week.iter().position(|h| h.key == target.key).expect("the injected rise is an alert");
    let rise = week[found];
    eprintln!("the injected rise ranks #{} of {} with statistic {:.2} (×{:.2})", found + 1, week.len(), rise.statistic, rise.ratio);
    assert!(rise.ratio > 2.0 && rise.ratio < 3.0, "{}", show(rise));
    // The rest of that week's alerts are those of the real data, unchanged.
    let real_week: Vec<&Hotspot> = all.iter().filter(|(d, _)| *d == end).map(|(_, h)| h).collect();
    let others: Vec<&Hotspot> = week.iter().copied().filter(|h| h.key != target.key).collect();
    assert_eq!(others, real_week);
}
