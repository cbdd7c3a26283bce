//! The reading of each sentence in `tests/fixtures/cases.toml` matches what is expected of it,
//! and every trigger points at its phrase in the original text.

use redress_emotion::{Analyzer, EmotionKind, EmotionReading};
use serde::Deserialize;

#[derive(Deserialize)]
struct Cases {
    case: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Negativity {
    Negative,
    Positive,
    NotNegative,
    None,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    text: String,
    #[serde(default)]
    emotion: Vec<EmotionKind>,
    negative: Option<Negativity>,
    max_negative: Option<f32>,
    intensified: Option<bool>,
    #[serde(default)]
    triggers: Vec<String>,
    #[serde(default)]
    negated: Vec<String>,
}

fn check(case: &Case, r: &EmotionReading) -> Vec<String> {
    let mut problems = Vec::new();
    if !case.emotion.is_empty() && !case.emotion.contains(&r.emotion) {
        problems.push(format!(
            "emotion {:?}, expected one of {:?}",
            r.emotion, case.emotion
        ));
    }
    let n = r.negative_score;
    let ok = match case.negative {
        Some(Negativity::Negative) => n > 0.6,
        Some(Negativity::Positive) => n < 0.4,
        Some(Negativity::NotNegative) => n <= 0.5,
        Some(Negativity::None) => n == 0.5,
        None => true,
    };
    if !ok {
        problems.push(format!("negative_score {n}"));
    }
    if let Some(max) = case.max_negative
        && n >= max
    {
        problems.push(format!("negative_score {n} >= {max}"));
    }
    if let Some(want) = case.intensified {
        let got = r.triggers.iter().any(|t| t.intensified);
        if got != want {
            problems.push(format!("intensified {got}, expected {want}"));
        }
    }
    for phrase in &case.triggers {
        if !r.triggers.iter().any(|t| &t.phrase == phrase) {
            problems.push(format!("no trigger {phrase:?}"));
        }
    }
    for phrase in &case.negated {
        if !r.triggers.iter().any(|t| &t.phrase == phrase && t.negated) {
            problems.push(format!("no negated trigger {phrase:?}"));
        }
    }
    if r.emotion == EmotionKind::Neutral && r.intensity != 0.0 {
        problems.push(format!("neutral with intensity {}", r.intensity));
    }
    if !(0.0..=1.0).contains(&r.intensity) || !(0.0..=1.0).contains(&r.negative_score) {
        problems.push("intensity or negative_score out of 0..1".into());
    }
    for t in &r.triggers {
        if case.text.get(t.start..t.end) != Some(t.phrase.as_str()) {
            problems.push(format!(
                "trigger {:?} at {}..{} does not slice the original",
                t.phrase, t.start, t.end
            ));
        }
    }
    problems
}

#[test]
fn fixtures_read_as_expected() {
    let cases: Cases = toml::from_str(include_str!("fixtures/cases.toml")).expect("fixtures parse");
    assert!(cases.case.len() >= 20);
    let analyzer = Analyzer::default();
    let mut failures = Vec::new();
    for case in &cases.case {
        let reading = analyzer.analyze(&case.text);
        let problems = check(case, &reading);
        if !problems.is_empty() {
            failures.push(format!(
                "{:?}: {}\n    reading: {:?} intensity {:.2} negative {:.2} triggers {:?}",
                case.text,
                problems.join("; "),
                reading.emotion,
                reading.intensity,
                reading.negative_score,
                reading
                    .triggers
                    .iter()
                    .map(|t| (&t.phrase, t.emotion, t.weight, t.negated, t.intensified))
                    .collect::<Vec<_>>()
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn readings_serialise_to_json() {
    let reading = Analyzer::default().analyze("我非常不满意");
    let json = serde_json::to_value(&reading).unwrap();
    assert_eq!(json["emotion"], "disappointment");
    assert_eq!(json["triggers"][0]["phrase"], "不满意");
    assert_eq!(json["triggers"][0]["start"], 9);
    assert_eq!(json["triggers"][0]["end"], 18);
    assert_eq!(json["triggers"][0]["intensified"], true);
    assert!(json["negative_score"].as_f64().unwrap() > 0.5);
    assert!(json["scores"]["disappointment"].as_f64().unwrap() > 0.0);
}
