//! The scoring rules, checked on a small lexicon written here so that tuning the shipped one
//! does not move these expectations.

use redress_emotion::{
    Analyzer, EmotionKind, EmotionReading, Lexicon, LexiconError, SHIPPED_LEXICON, Scoring,
};

const SMALL: &str = r#"
[scoring]
negation_window = 4
intensifier_window = 2
max_multiplier = 3.0
negated_positive = 1.0
negated_negative = 0.5
contrast_before = 0.5
contrast_after = 2.0
all_caps = 1.5
min_score = 0.5
intensity_scale = 3.0
negative_slope = 1.0

[[phrases]]
emotion = "satisfaction"
weight = 2.0
terms = ["满意", "好", "satisf*", "good"]

[[phrases]]
emotion = "disappointment"
weight = 2.0
terms = ["不满意", "失望", "问题", "disappoint*"]

[[phrases]]
emotion = "anger"
weight = 3.0
terms = ["骗子", "scam"]

[[intensifiers]]
multiplier = 2.0
terms = ["非常", "very", "so"]

[[intensifiers]]
multiplier = 1.5
cue = { emotion = "disappointment", weight = 0.5 }
terms = ["太"]

[[intensifiers]]
multiplier = 1.5
applies_to = "preceding"
terms = ["!!", "!"]

[[negators]]
cue = { emotion = "disappointment", weight = 0.25 }
terms = ["没有", "never"]

[[negators]]
terms = ["不", "not", "no"]

[contrast]
terms = ["但是", "but"]

[ignore]
terms = ["好像"]
"#;

fn small() -> Analyzer {
    Analyzer::new(Lexicon::from_toml(SMALL).expect("the test lexicon parses"))
}

fn trigger<'r>(r: &'r EmotionReading, phrase: &str) -> &'r redress_emotion::Trigger {
    r.triggers
        .iter()
        .find(|t| t.phrase == phrase)
        .unwrap_or_else(|| panic!("no trigger {phrase:?} in {:?}", r.triggers))
}

#[test]
fn longest_phrase_wins_and_ignored_phrases_hide_shorter_ones() {
    let a = small();
    let r = a.analyze("不满意");
    assert_eq!(r.triggers.len(), 1);
    assert_eq!(r.triggers[0].emotion, EmotionKind::Disappointment);
    assert!(!r.triggers[0].negated);
    let r = a.analyze("好像是这样");
    assert!(r.triggers.is_empty());
    assert_eq!(r.negative_score, 0.5);
    assert_eq!(r.emotion, EmotionKind::Neutral);
    assert_eq!(r.intensity, 0.0);
}

#[test]
fn negation_flips_positive_and_dampens_negative_within_its_clause() {
    let a = small();
    let r = a.analyze("不太满意");
    let t = trigger(&r, "满意");
    assert!(t.negated);
    assert_eq!(t.emotion, EmotionKind::Disappointment);
    // The intensifier between negator and phrase softens rather than strengthens.
    assert!(!t.intensified);
    assert_eq!(t.weight, 2.0);
    assert!(r.negative_score > 0.5);

    let r = a.analyze("没有问题");
    let t = trigger(&r, "问题");
    assert!(t.negated);
    assert_eq!(t.emotion, EmotionKind::Satisfaction);
    assert_eq!(t.weight, 1.0);
    assert!(r.negative_score < 0.5);

    // Clause punctuation ends the negator's reach, and then it counts as its cue.
    let r = a.analyze("没有，满意");
    assert!(!trigger(&r, "满意").negated);
    let cue = trigger(&r, "没有");
    assert_eq!(cue.emotion, EmotionKind::Disappointment);
    assert_eq!(cue.weight, 0.25);

    // Too far away: not negated.
    let r = a.analyze("不是我们这里的人满意");
    assert!(!trigger(&r, "满意").negated);

    // "Not dissatisfied" is mildly positive.
    let r = a.analyze("没有不满意");
    let t = trigger(&r, "不满意");
    assert!(t.negated);
    assert_eq!(t.emotion, EmotionKind::Satisfaction);

    // Two negators in a row cancel, and leave no cue behind.
    let r = a.analyze("没有不好");
    assert_eq!(r.triggers.len(), 1);
    let t = trigger(&r, "好");
    assert!(!t.negated);
    assert_eq!(t.emotion, EmotionKind::Satisfaction);
}

#[test]
fn english_negation_counts_words() {
    let a = small();
    let r = a.analyze("I am not satisfied");
    let t = trigger(&r, "satisfied");
    assert!(t.negated);
    assert_eq!(t.emotion, EmotionKind::Disappointment);
    // Five words on, the negator no longer reaches.
    let r = a.analyze("not refunded and so I am disappointed");
    let t = trigger(&r, "disappointed");
    assert!(!t.negated);
}

#[test]
fn intensifiers_multiply_and_cap() {
    let a = small();
    let r = a.analyze("非常满意");
    let t = trigger(&r, "满意");
    assert!(t.intensified);
    assert_eq!(t.weight, 4.0);
    // Exclamation marks strengthen the clause they close, capped at max_multiplier.
    let r = a.analyze("非常失望!!");
    assert_eq!(trigger(&r, "失望").weight, 6.0);
    let r = a.analyze("失望!! 好");
    assert_eq!(trigger(&r, "失望").weight, 3.0);
    assert_eq!(trigger(&r, "好").weight, 2.0);
    // Intensifier before the negator strengthens the negated phrase.
    let r = a.analyze("非常不好");
    let t = trigger(&r, "好");
    assert!(t.negated && t.intensified);
    assert_eq!(t.weight, 4.0);
}

#[test]
fn capitals_intensify_english_phrases() {
    let a = small();
    let r = a.analyze("this is a SCAM");
    let t = trigger(&r, "SCAM");
    assert!(t.intensified);
    assert_eq!(t.weight, 4.5);
    assert!(!trigger(&a.analyze("this is a scam"), "scam").intensified);
}

#[test]
fn an_intensifier_alone_counts_as_its_cue() {
    let a = small();
    let r = a.analyze("太重了");
    let t = trigger(&r, "太");
    assert_eq!(t.emotion, EmotionKind::Disappointment);
    assert_eq!(t.weight, 0.5);
    assert!(r.negative_score > 0.5);
    // Used on a phrase, it is no cue.
    let r = a.analyze("太好了");
    assert_eq!(r.triggers.len(), 1);
    assert!(trigger(&r, "好").intensified);
}

#[test]
fn contrast_weights_the_clause_after_it() {
    let a = small();
    let r = a.analyze("服务好，但是问题没解决");
    assert_eq!(trigger(&r, "好").weight, 1.0);
    assert_eq!(trigger(&r, "问题").weight, 4.0);
    assert_eq!(r.emotion, EmotionKind::Disappointment);
    // A new sentence starts afresh.
    let r = a.analyze("服务好，但是问题没解决。满意");
    assert_eq!(trigger(&r, "满意").weight, 2.0);
}

#[test]
fn english_phrases_match_whole_words_and_stems_cover_the_word() {
    let a = small();
    // "no" inside "know", "so" inside "also", "scam" inside "scampi": none count.
    let r = a.analyze("I know they also serve scampi, good");
    assert_eq!(r.triggers.len(), 1);
    let t = trigger(&r, "good");
    assert!(!t.negated && !t.intensified);
    // A stem reports the whole word it matched.
    let r = a.analyze("Disappointing!");
    let t = trigger(&r, "Disappointing");
    assert!(t.intensified);
}

#[test]
fn spans_slice_the_original_text() {
    let a = small();
    for text in [
        "ＮＯＴ  ＳＡＴＩＳＦＩＥＤ",
        "我　非常\u{200B}不满意！！",
        "服務太差，騙子",
        "  very\t\tdisappointed ",
        "",
    ] {
        let r = a.analyze(text);
        for t in &r.triggers {
            assert_eq!(&text[t.start..t.end], t.phrase, "in {text:?}");
        }
    }
    let r = a.analyze("ＮＯＴ  ＳＡＴＩＳＦＩＥＤ");
    let t = trigger(&r, "ＳＡＴＩＳＦＩＥＤ");
    assert!(t.negated && t.intensified);
    let r = a.analyze("他們是騙子");
    assert_eq!(trigger(&r, "騙子").emotion, EmotionKind::Anger);
}

#[test]
fn intensity_and_emotion_follow_the_strongest_evidence() {
    let a = small();
    let mild = a.analyze("失望");
    let strong = a.analyze("非常失望!!");
    assert_eq!(mild.emotion, EmotionKind::Disappointment);
    assert!(strong.intensity > mild.intensity);
    assert!(strong.negative_score > mild.negative_score);
    assert!((0.0..1.0).contains(&strong.intensity));
    let r = a.analyze("骗子，失望");
    assert_eq!(r.emotion, EmotionKind::Anger);
    assert_eq!(r.scores.anger, 3.0);
    assert_eq!(r.scores.disappointment, 2.0);
}

#[test]
fn lexicon_errors_say_what_is_wrong() {
    // The same phrase twice, once in full-width capitals: equal after normalisation.
    let dup = "[[phrases]]\nemotion = \"anger\"\nweight = 1.0\nterms = [\"scam\"]\n\
               [[negators]]\nterms = [\"ＳＣＡＭ\"]\n";
    assert!(matches!(
        Lexicon::from_toml(dup),
        Err(LexiconError::Duplicate { phrase, .. }) if phrase == "scam"
    ));
    assert!(matches!(
        Lexicon::from_toml("[[phrases]]\nemotion = \"neutral\"\nweight = 1.0\nterms = [\"x\"]\n"),
        Err(LexiconError::NeutralPhrase)
    ));
    assert!(matches!(
        Lexicon::from_toml("[[phrases]]\nemotion = \"anger\"\nweight = -1.0\nterms = [\"x\"]\n"),
        Err(LexiconError::OutOfRange { .. })
    ));
    assert!(matches!(
        Lexicon::from_toml("[[phrases]]\nemotion = \"anger\"\nweight = 1.0\nterms = [\" \"]\n"),
        Err(LexiconError::EmptyPhrase { .. })
    ));
    assert!(matches!(
        Lexicon::from_toml("[scoring]\nintensity_scale = 0.0\n"),
        Err(LexiconError::OutOfRange { .. })
    ));
    assert!(matches!(
        Lexicon::from_toml("[[phrases]]\nemotion = \"joy\"\nweight = 1.0\nterms = [\"x\"]\n"),
        Err(LexiconError::Toml(_))
    ));
    assert!(matches!(
        Lexicon::from_toml("[scoring]\nnegation_windw = 3\n"),
        Err(LexiconError::Toml(_))
    ));
}

#[test]
fn shipped_lexicon_loads_and_its_scoring_is_the_default() {
    let lexicon = Lexicon::from_toml(SHIPPED_LEXICON).unwrap();
    assert!(lexicon.len() > 500, "{}", lexicon.len());
    assert_eq!(lexicon.scoring(), &Scoring::default());
    // Every emotion has phrases in both languages.
    for kind in &EmotionKind::ALL[..5] {
        let phrases: Vec<String> = lexicon
            .emotion_phrases()
            .filter(|(_, k, _)| k == kind)
            .map(|(p, _, _)| p)
            .collect();
        assert!(
            phrases.iter().any(|p| p.is_ascii()),
            "{kind:?} has no English"
        );
        assert!(
            phrases.iter().any(|p| !p.is_ascii()),
            "{kind:?} has no Chinese"
        );
    }
}

#[test]
fn an_empty_lexicon_reads_everything_as_neutral() {
    let a = Analyzer::new(Lexicon::from_toml("").unwrap());
    let r = a.analyze("我非常不满意");
    assert_eq!(r.emotion, EmotionKind::Neutral);
    assert_eq!(r.negative_score, 0.5);
}

#[test]
fn the_analyzer_is_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Analyzer>();
    let a = std::sync::Arc::new(Analyzer::default());
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let a = a.clone();
            std::thread::spawn(move || a.analyze("太过分了").emotion)
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), EmotionKind::Anger);
    }
}
