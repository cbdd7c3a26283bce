//! Training, prediction, serialisation and evaluation on the crate's own small fixtures.

use redress_learn::{
    Example, LearnError, Model, Report, TrainConfig, cross_validate, evaluate, holdout_split,
};

fn fixture() -> Vec<Example> {
    include_str!("fixtures/complaints.tsv")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (label, text) = l.split_once('\t').expect("label<TAB>text");
            Example::new(text, label)
        })
        .collect()
}

/// Texts that are not in the fixture, with the label a person would give them.
const UNSEEN: &[(&str, &str)] = &[
    ("my card has still not been delivered", "card_not_received"),
    ("新办的信用卡还没有收到", "card_not_received"),
    (
        "the cash machine swallowed my debit card",
        "atm_swallowed_card",
    ),
    ("取款机吞卡了", "atm_swallowed_card"),
    ("why is there a fee on my statement", "unexpected_fee"),
    ("莫名其妙被扣了手续费", "unexpected_fee"),
    (
        "the adviser said the product was guaranteed but I lost money",
        "mis_selling",
    ),
    ("理财经理承诺保本，结果亏损", "mis_selling"),
];

#[test]
fn learns_the_fixture_and_generalises_to_paraphrases() {
    let examples = fixture();
    assert_eq!(examples.len(), 40);
    let model = Model::train(&examples, &TrainConfig::default()).unwrap();
    assert_eq!(
        model.labels(),
        [
            "atm_swallowed_card",
            "card_not_received",
            "mis_selling",
            "unexpected_fee"
        ]
    );
    let report = evaluate(&model, &examples);
    assert_eq!(report.accuracy, 1.0, "{report}");

    for &(text, label) in UNSEEN {
        let p = model.predict(text);
        assert_eq!(p.label, label, "{text}: {p:?}");
        assert!(p.confidence > 0.25 && p.confidence <= 1.0, "{p:?}");
        assert_eq!(p.ranked.len(), 4);
        assert_eq!(p.ranked[0], (p.label.clone(), p.confidence));
        assert!(p.ranked.windows(2).all(|w| w[0].1 >= w[1].1));
        let total: f32 = p.ranked.iter().map(|r| r.1).sum();
        assert!((total - 1.0).abs() < 1e-4, "probabilities sum to {total}");
    }
}

#[test]
fn full_width_and_case_do_not_matter() {
    let model = Model::train(&fixture(), &TrainConfig::default()).unwrap();
    assert_eq!(
        model.probabilities("ＡＴＭ ＡＴＥ ＭＹ ＣＡＲＤ"),
        model.probabilities("atm ate my card")
    );
}

#[test]
fn serialisation_round_trip_gives_identical_predictions() {
    let examples = fixture();
    let model = Model::train(&examples, &TrainConfig::default()).unwrap();
    let bytes = model.to_bytes();
    assert_eq!(&bytes[..4], b"RDLM");
    let restored = Model::from_bytes(&bytes).unwrap();
    assert_eq!(restored, model);
    assert_eq!(restored.to_bytes(), bytes);
    let texts = examples
        .iter()
        .map(|e| e.text.as_str())
        .chain(UNSEEN.iter().map(|u| u.0))
        .chain(["", "完全无关的内容 unrelated words"]);
    for text in texts {
        assert_eq!(restored.predict(text), model.predict(text), "{text}");
        assert_eq!(restored.scores(text), model.scores(text), "{text}");
    }
}

#[test]
fn damaged_bytes_are_rejected() {
    let model = Model::train(&fixture(), &TrainConfig::default()).unwrap();
    let bytes = model.to_bytes();

    assert_eq!(Model::from_bytes(b"").unwrap_err(), LearnError::NotAModel);
    assert_eq!(
        Model::from_bytes(b"PK\x03\x04 zip").unwrap_err(),
        LearnError::NotAModel
    );
    let mut newer = bytes.clone();
    newer[4] = 99;
    assert_eq!(
        Model::from_bytes(&newer).unwrap_err(),
        LearnError::UnsupportedVersion(99)
    );
    for cut in [7, 30, bytes.len() / 2, bytes.len() - 1] {
        assert!(
            matches!(
                Model::from_bytes(&bytes[..cut]),
                Err(LearnError::Corrupt(_))
            ),
            "cut at {cut}"
        );
    }
    let mut flipped = bytes.clone();
    let mid = bytes.len() / 2;
    flipped[mid] ^= 0x10;
    assert!(matches!(
        Model::from_bytes(&flipped),
        Err(LearnError::Corrupt(_))
    ));
}

#[test]
fn training_errors() {
    assert_eq!(
        Model::train(&[], &TrainConfig::default()).unwrap_err(),
        LearnError::TooFewLabels(0)
    );
    let one_label = vec![
        Example::new("card not received", "card"),
        Example::new("卡没收到", "card"),
    ];
    assert_eq!(
        Model::train(&one_label, &TrainConfig::default()).unwrap_err(),
        LearnError::TooFewLabels(1)
    );
    let empty_texts = vec![Example::new("", "a"), Example::new(" ?! ", "b")];
    assert_eq!(
        Model::train(&empty_texts, &TrainConfig::default()).unwrap_err(),
        LearnError::NoFeatures
    );

    let examples = fixture();
    for bad in [
        TrainConfig {
            c: 0.0,
            ..TrainConfig::default()
        },
        TrainConfig {
            tolerance: f64::NAN,
            ..TrainConfig::default()
        },
        TrainConfig {
            word_weight: 0.0,
            pair_weight: 0.0,
            char_weight: 0.0,
            ..TrainConfig::default()
        },
        TrainConfig {
            confidence_scale: Some(-1.0),
            ..TrainConfig::default()
        },
    ] {
        assert!(
            matches!(
                Model::train(&examples, &bad),
                Err(LearnError::InvalidConfig(_))
            ),
            "{bad:?}"
        );
    }
}

#[test]
fn a_fixed_confidence_scale_is_used_as_given() {
    let examples = fixture();
    let fitted = Model::train(&examples, &TrainConfig::default()).unwrap();
    assert!(fitted.confidence_scale() > 0.0);
    let fixed = Model::train(
        &examples,
        &TrainConfig {
            confidence_scale: Some(3.0),
            ..TrainConfig::default()
        },
    )
    .unwrap();
    assert_eq!(fixed.confidence_scale(), 3.0);
    // The scale changes probabilities, not the ranking.
    for &(text, _) in UNSEEN {
        assert_eq!(
            fixed.predict(text).label,
            fitted.predict(text).label,
            "{text}"
        );
    }
}

#[test]
fn two_label_model_gives_both_probabilities() {
    let examples = vec![
        Example::new("服务很好，非常满意", "positive"),
        Example::new("质量不错，下次还买", "positive"),
        Example::new("great service, very happy", "positive"),
        Example::new("态度很差，非常失望", "negative"),
        Example::new("质量太差，再也不买了", "negative"),
        Example::new("terrible service, very disappointed", "negative"),
    ];
    let model = Model::train(&examples, &TrainConfig::default()).unwrap();
    assert_eq!(model.labels(), ["negative", "positive"]);
    let p = model.probabilities("非常失望，态度太差");
    assert_eq!(p.len(), 2);
    assert!((p[0] + p[1] - 1.0).abs() < 1e-5);
    assert!(p[0] > 0.5, "{p:?}");
    let s = model.scores("非常失望，态度太差");
    assert!((s[0] + s[1]).abs() < 1e-4, "mirrored scores {s:?}");
    let pred = model.predict("非常满意");
    assert_eq!(pred.label, "positive");
    assert_eq!(pred.ranked.len(), 2);
}

#[test]
fn cross_validation_is_stratified_deterministic_and_reports_progress() {
    let examples = fixture();
    let mut calls = Vec::new();
    let report = cross_validate(&examples, 5, &TrainConfig::default(), 3, &mut |d, n| {
        calls.push((d, n))
    })
    .unwrap();
    assert_eq!(calls, [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]);
    assert_eq!(report.examples, 40);
    assert!(report.accuracy >= 0.75, "{report}");
    assert!(report.per_class.iter().all(|c| c.support == 10));

    let again = cross_validate(&examples, 5, &TrainConfig::default(), 3, &mut |_, _| {}).unwrap();
    assert_eq!(again, report);

    assert!(matches!(
        cross_validate(&examples, 1, &TrainConfig::default(), 3, &mut |_, _| {}),
        Err(LearnError::InvalidFolds { folds: 1, .. })
    ));
    assert!(matches!(
        cross_validate(
            &examples[..3],
            5,
            &TrainConfig::default(),
            3,
            &mut |_, _| {}
        ),
        Err(LearnError::InvalidFolds { .. })
    ));
}

#[test]
fn holdout_split_is_stratified_and_deterministic() {
    let examples = fixture();
    let (train, test) = holdout_split(&examples, 0.2, 11);
    assert_eq!((train.len(), test.len()), (32, 8));
    for label in [
        "atm_swallowed_card",
        "card_not_received",
        "mis_selling",
        "unexpected_fee",
    ] {
        assert_eq!(
            test.iter().filter(|e| e.label == label).count(),
            2,
            "{label}"
        );
    }
    // Together they are the input, each part in input order.
    let mut all: Vec<&Example> = train.iter().chain(&test).collect();
    all.sort_by_key(|e| examples.iter().position(|x| x == *e));
    assert_eq!(all, examples.iter().collect::<Vec<_>>());
    assert_eq!(
        holdout_split(&examples, 0.2, 11),
        (train.clone(), test.clone())
    );
    assert_ne!(holdout_split(&examples, 0.2, 12).1, test);

    // A label with a single example stays in training.
    let (train, test) = holdout_split(&[Example::new("x", "a")], 0.5, 1);
    assert_eq!((train.len(), test.len()), (1, 0));
}

#[test]
fn report_matches_a_hand_computed_confusion() {
    // actual → predicted:
    //   a: a a a b      (3 right, 1 as b)
    //   b: b b a        (2 right, 1 as a)
    //   c: a            (0 right, 1 as a)
    let pairs = [
        ("a", "a"),
        ("a", "a"),
        ("a", "a"),
        ("a", "b"),
        ("b", "b"),
        ("b", "b"),
        ("b", "a"),
        ("c", "a"),
    ];
    let r = Report::from_pairs(pairs);
    assert_eq!(r.examples, 8);
    assert!((r.accuracy - 5.0 / 8.0).abs() < 1e-12);

    let close = |x: f64, y: f64| (x - y).abs() < 1e-12;
    let [a, b, c] = &r.per_class[..] else {
        panic!("{r:?}")
    };
    // a: predicted 5 times, 3 right; 4 actual.
    assert_eq!((a.label.as_str(), a.support), ("a", 4));
    assert!(close(a.precision, 3.0 / 5.0) && close(a.recall, 3.0 / 4.0));
    assert!(close(a.f1, 2.0 * 0.6 * 0.75 / 1.35));
    // b: predicted 3 times, 2 right; 3 actual.
    assert!(close(b.precision, 2.0 / 3.0) && close(b.recall, 2.0 / 3.0) && close(b.f1, 2.0 / 3.0));
    // c: never predicted.
    assert_eq!((c.support, c.precision, c.recall, c.f1), (1, 0.0, 0.0, 0.0));
    assert!(close(r.macro_f1, (a.f1 + b.f1 + 0.0) / 3.0));

    let confused: Vec<_> = r
        .confused
        .iter()
        .map(|p| (p.actual.as_str(), p.predicted.as_str(), p.count))
        .collect();
    assert_eq!(confused, [("a", "b", 1), ("b", "a", 1), ("c", "a", 1)]);

    let table = r.to_string();
    assert!(table.contains("accuracy  0.6250"), "{table}");
    assert!(table.contains("macro-F1"), "{table}");
    assert!(table.contains("c -> a: 1"), "{table}");
}

#[test]
fn report_table_aligns_chinese_labels() {
    let r = Report::from_pairs([("投诉", "投诉"), ("咨询", "投诉"), ("card", "card")]);
    let table = r.to_string();
    let row = |label: &str| {
        table
            .lines()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("no row for {label} in\n{table}"))
    };
    // "投诉" is four columns wide like "card" (but six bytes), so the numbers start at the same
    // column when its row is two bytes longer.
    assert_eq!(row("投诉").len(), row("card").len() + 2, "{table}");
}

#[test]
fn chinese_labels_survive_serialisation() {
    let examples = vec![
        Example::new("我要投诉你们的服务", "投诉"),
        Example::new("对处理结果不满意，要求投诉", "投诉"),
        Example::new("请问信用卡怎么办理", "咨询"),
        Example::new("想咨询一下贷款利率", "咨询"),
    ];
    let model = Model::train(&examples, &TrainConfig::default()).unwrap();
    let restored = Model::from_bytes(&model.to_bytes()).unwrap();
    // Sorted by code point: 咨 (U+54A8) before 投 (U+6295).
    assert_eq!(restored.labels(), ["咨询", "投诉"]);
    assert_eq!(restored.predict("我要投诉"), model.predict("我要投诉"));
    assert_eq!(model.predict("我要投诉").label, "投诉");
}

#[test]
fn odd_inputs_are_classified_without_panicking() {
    let model = Model::train(&fixture(), &TrainConfig::default()).unwrap();
    let long = "卡被吞了 my card was swallowed ".repeat(2_000);
    let inputs = [
        "",
        "   \n\t ",
        "😡😡😡 !!!",
        "e\u{301}te\u{301} cafe\u{301}",
        "ǅemal Ångström straße ÉCOLE",
        "مرحبا بالعالم",
        "１２３４５６ 0123456789",
        "\u{200B}\u{FEFF}",
        "a",
        long.as_str(),
    ];
    for text in inputs {
        let p = model.predict(text);
        assert!(
            p.confidence.is_finite() && p.confidence > 0.0,
            "{text:?}: {p:?}"
        );
        assert!(model.labels().contains(&p.label));
    }
    assert_eq!(model.predict(&long).label, "atm_swallowed_card");
}
