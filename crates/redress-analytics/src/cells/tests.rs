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

#[test]
fn received_cells_roll_up_by_each_dimension_and_others_by_their_value() {
    let received = key(Measure::Received, "");
    let all = daily_of(&received);
    let (folded, rows): (Vec<_>, Vec<_>) = all.iter().cloned().partition(|r| r.department == ALL_DEPARTMENTS);
    let unfold = |r: &DailyKey| DailyKey { department: received.department.clone(), ..r.clone() };
    assert_eq!(folded.iter().map(unfold).collect::<Vec<_>>(), rows, "every row is also kept with the department folded");
    assert_eq!(rows.iter().map(|r| (r.breakdown, r.key.as_str())).collect::<Vec<_>>(), vec![
        ("value", ""),
        ("business_type", "B03"),
        ("cause", "C01"),
        ("channel", "hotline"),
        ("severity", "low"),
        ("product", ""),
        ("business_cause", "B03\u{1f}C01"),
        ("fca", "B03\u{1f}C01\u{1f}\u{1f}"),
        ("by_business_type", "B03\u{1f}"),
        ("business_channel", "B03\u{1f}hotline"),
        ("business_severity", "B03\u{1f}low"),
        ("business_product", "B03\u{1f}"),
    ]);
    let emotion = key(Measure::Emotion, "anger");
    assert_eq!(
        daily_of(&emotion).iter().map(|r| (r.breakdown, r.department.as_str(), r.key.as_str())).collect::<Vec<_>>(),
        vec![("value", "SH-CP", "anger"), ("by_business_type", "SH-CP", "B03\u{1f}anger"), ("value", "*", "anger"), ("by_business_type", "*", "B03\u{1f}anger")]
    );
    let mut closed = key(Measure::Closed, "decided");
    closed.handler = "h1".into();
    let rows = daily_of(&closed);
    assert_eq!(
        rows.iter().map(|r| (r.breakdown, r.department.as_str(), r.handler.as_str())).collect::<Vec<_>>(),
        vec![
            ("value", "SH-CP", ""),
            ("by_handler", "SH-CP", "h1"),
            ("fca", "SH-CP", ""),
            ("by_business_type", "SH-CP", ""),
            ("value", "*", ""),
            ("fca", "*", ""),
            ("by_business_type", "*", ""),
        ],
        "handlers are folded but for the rollup by handler, which keeps its departments"
    );
    let mut other = key(Measure::Received, "");
    other.channel = "web".into();
    let summed = sum([Cell { key: received.clone(), n: 2, total: 0 }, Cell { key: other, n: 1, total: 0 }]);
    let daily = daily_sum(summed.iter());
    let by = |breakdown: &str, k: &str| daily.iter().find(|(d, _)| d.breakdown == breakdown && d.key == k && d.department != ALL_DEPARTMENTS).map(|(_, v)| v.0);
    assert_eq!(by("value", ""), Some(3));
    assert_eq!(by("channel", "hotline"), Some(2));
    assert_eq!(by("channel", "web"), Some(1));
    assert_eq!(by("business_type", "B03"), Some(3));
}
