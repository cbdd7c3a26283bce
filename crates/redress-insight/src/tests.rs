use std::sync::Arc;

use redress_domain::classify::{ClassifyInput, Dimension, LabelSource, RuleClassifier, Taxonomy};
use redress_learn::{Example, Model, TrainConfig};

use super::*;

fn classifier() -> RuleClassifier {
    RuleClassifier::new(Taxonomy::builtin())
}

fn cause_model() -> ActiveModel {
    let mut examples = Vec::new();
    for i in 0..20 {
        examples.push(Example { text: format!("{i} 叫号机坏了 排队排了很久 柜台只开一个窗口"), label: "C02".into() });
        examples.push(Example { text: format!("{i} 大堂经理说话难听 不耐烦 服务差"), label: "C01".into() });
    }
    let model = Model::train(&examples, &TrainConfig::default()).expect("trains");
    ActiveModel { id: "m-cause".into(), target: "cause".into(), model: Arc::new(model) }
}

fn sentiment_model() -> ActiveModel {
    let mut examples = Vec::new();
    for i in 0..20 {
        examples.push(Example { text: format!("{i} 太差了 很失望 垃圾服务"), label: NEGATIVE.into() });
        examples.push(Example { text: format!("{i} 很好 满意 推荐"), label: "positive".into() });
    }
    let model = Model::train(&examples, &TrainConfig::default()).expect("trains");
    ActiveModel { id: "m-sentiment".into(), target: SENTIMENT.into(), model: Arc::new(model) }
}

#[test]
fn without_models_the_rules_and_the_lexicon_decide() {
    let insight = Insight::default();
    let c = classifier();
    let a = insight.analyze("我的信用卡被盗刷了，非常气愤，再不处理我就向12378投诉", &c);
    assert_eq!(a.negative_source, "lexicon");
    assert!(a.negative_score > 0.5, "{a:?}");
    assert!(a.risk_flags.iter().any(|f| f.phrase.contains("12378")), "{:?}", a.risk_flags);
    assert_eq!(a.classification.business_type.as_ref().map(|l| l.code.as_str()), Some("B0302"));
    assert_eq!(a.classification.source, LabelSource::Rules);
    assert!(a.predictions.is_empty());
}

#[test]
fn a_confident_model_refines_the_rules_and_says_so() {
    let insight = Insight::new(vec![cause_model()]);
    let c = classifier();
    let text = "今天去网点办业务，叫号机坏了，排队排了很久";
    let mut classification = c.classify(&ClassifyInput::new(text));
    let predictions = insight.refine(text, &mut classification, &c);
    assert_eq!(predictions.len(), 1);
    assert_eq!(predictions[0].label, "C02");
    assert!(predictions[0].applied, "{predictions:?}");
    assert_eq!(classification.label(Dimension::Cause).map(|l| l.code.as_str()), Some("C02"));
    assert_eq!(classification.source, LabelSource::Model { model_id: "m-cause".into() });
}

#[test]
fn a_model_for_an_unknown_target_is_reported_not_applied() {
    let mut m = cause_model();
    m.target = "intent".into();
    let insight = Insight::new(vec![m]);
    let c = classifier();
    let text = "叫号机坏了，排队排了很久";
    let mut classification = c.classify(&ClassifyInput::new(text));
    let before = classification.clone();
    let predictions = insight.refine(text, &mut classification, &c);
    assert!(!predictions[0].applied);
    assert_eq!(classification, before);
}

#[test]
fn a_sentiment_model_gives_the_negativity() {
    let insight = Insight::new(vec![sentiment_model()]);
    let r = insight.read("太差了，很失望", "", Vec::new());
    assert_eq!(r.negative_source, "m-sentiment");
    assert!(r.negative_score > 0.5, "{r:?}");
    let r = insight.read("很好，很满意", "", Vec::new());
    assert!(r.negative_score < 0.5, "{r:?}");
}

#[test]
fn messages_are_read_once_each() {
    let insight = Insight::default();
    let mut r = insight.read("信用卡被盗刷", "退款", Vec::new());
    insight.read_message(&mut r, 2, "我很着急，担心钱追不回来");
    insight.read_message(&mut r, 2, "我很着急，担心钱追不回来");
    assert_eq!(r.messages.len(), 1);
    assert_eq!(r.messages[0].note, 2);
    assert!(!r.keywords.is_empty());
}

#[test]
fn text_form_tokenises_every_field_and_fingerprints_the_complaint() {
    let form = Insight::text_form("盗刷", "我的信用卡被盗刷了", "退还5000元", &["客户来电"]);
    // A CJK run ends with its last character alone, so a longer word starting with it is found.
    assert_eq!(form.fields[0], vec!["盗刷".to_string(), "刷".to_string()]);
    assert!(form.fields[1].contains(&"信用".to_string()));
    assert!(form.fields[3].contains(&"来电".to_string()));
    assert!(form.fingerprint.is_some());
    assert_eq!(form.band_keys.len(), redress_text::Fingerprint::BANDS);
    let empty = Insight::text_form("", "！！！", "", &[]);
    assert!(empty.fingerprint.is_none() && empty.band_keys.is_empty());
}
