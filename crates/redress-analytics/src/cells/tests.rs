use super::*;

fn key(measure: Measure, value: &str) -> CellKey {
    CellKey {
        measure,
        day: 20_000,
        department: "SH-CP".into(),
        handler: String::new(),
        channel: "hotline".into(),
        business_type: "B03".into(),
        cause: "C01".into(),
        severity: "low".into(),
        product: String::new(),
        value: value.into(),
    }
}

#[test]
fn a_difference_is_after_minus_before_without_zeros() {
    let before = vec![Cell { key: key(Measure::Received, ""), n: 1, total: 0 }, Cell { key: key(Measure::CurrentStatus, "accepted"), n: 1, total: 0 }];
    let after = vec![Cell { key: key(Measure::Received, ""), n: 1, total: 0 }, Cell { key: key(Measure::CurrentStatus, "decided"), n: 1, total: 0 }];
    let d = difference(&before, &after);
    assert_eq!(d, vec![
        Cell { key: key(Measure::CurrentStatus, "accepted"), n: -1, total: 0 },
        Cell { key: key(Measure::CurrentStatus, "decided"), n: 1, total: 0 },
    ]);
}

#[test]
fn day_numbers_round_trip() {
    for (y, m, d) in [(1970, 1, 1), (2024, 2, 29), (2026, 12, 31)] {
        let date = Date::constant(y, m, d);
        assert_eq!(day_date(day_number(date)), date);
    }
    assert_eq!(day_number(Date::constant(1970, 1, 2)), 1);
}

#[test]
fn bands_and_measures_have_stable_names() {
    for m in Measure::ALL {
        assert_eq!(Measure::parse(m.as_str()), Some(m));
    }
    assert_eq!(intensity_band(0.1), "low");
    assert_eq!(intensity_band(0.9), "high");
    assert_eq!(hundredths(Decimal::new(12345, 2)), 12345);
}
