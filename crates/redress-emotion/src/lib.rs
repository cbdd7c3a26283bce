//! Emotion, intensity and a negativity score for complaint texts and customer messages, in
//! Chinese and English, with the phrases that triggered them.
//!
//! The analysis is lexicon-based and pure (no I/O): text is normalised once (full/half width,
//! case, whitespace; see [`redress_domain::classify::normalize`]) and scanned once with a
//! leftmost-longest multi-pattern automaton holding every emotion phrase, intensifier, negator,
//! contrast marker and ignored phrase of the [`Lexicon`].
//!
//! ```
//! use redress_emotion::{Analyzer, EmotionKind};
//!
//! let analyzer = Analyzer::default(); // build once, share across threads
//! let text = "我非常不满意你们的处理！";
//! let reading = analyzer.analyze(text);
//! assert_eq!(reading.emotion, EmotionKind::Disappointment);
//! assert!(reading.negative_score > 0.5);
//! let trigger = &reading.triggers[0];
//! assert_eq!(trigger.phrase, "不满意");
//! assert_eq!(&text[trigger.start..trigger.end], "不满意");
//! assert!(trigger.intensified);
//! ```
//!
//! # How a reading is scored
//!
//! * Each emotion phrase adds its weight to its emotion. Longer phrases win over the shorter ones
//!   inside them, so `不满意` (disappointment) is one phrase, not a negated `满意`, and `好像`
//!   (ignored) hides `好`.
//! * An **intensifier** (非常, 太, extremely, …) within `intensifier_window` units before a phrase
//!   multiplies its weight; exclamation marks (`!!`, `！！！`) and a few words (慢得要死, 好极了)
//!   multiply the phrases of the clause before them; an English phrase written in capitals is
//!   multiplied by `all_caps`. Multipliers
//!   are capped at `max_multiplier`. Reaches are measured in units: a Chinese character counts
//!   one, an English word two.
//! * A **negator** (不, 没有, not, never, …) within `negation_window` units before a phrase, in
//!   the same clause, negates it: a positive phrase then counts `negated_positive` of its weight
//!   as disappointment (`不太满意`), a negative one counts `negated_negative` of its weight as
//!   satisfaction (`没有问题`). An intensifier between the negator and the phrase does not
//!   intensify (`不太好` is milder than `不好`, not stronger).
//! * A negator or intensifier that modifies no phrase may still count as weak evidence, its
//!   **cue**: complaints say what did not happen (没有收到, 不能用, never arrived) and "too"
//!   anything (太重) is a complaint. Such a cue shows up as a trigger on the negator or
//!   intensifier itself.
//! * A **contrast marker** (但是, however, …) multiplies the phrases earlier in its sentence by
//!   `contrast_before` and the later ones by `contrast_after`: the clause after "but" is usually
//!   what the writer means.
//! * `negative_score` = n / (n + p) with n = (1 + N)^k and p = (1 + P)^k, where N is the
//!   negative evidence (anger + anxiety + disappointment + distress), P the satisfaction
//!   evidence and k = `negative_slope`: 0.5 means no evidence either way (or as much on each
//!   side), and each further phrase on one side moves the score less than the one before.
//! * The reported emotion is the one with the highest score, or [`EmotionKind::Neutral`] when no
//!   score reaches `min_score`; `intensity` = 1 − e^(−score / `intensity_scale`) (0 for
//!   neutral).
//!
//! # Evaluation
//!
//! `examples/zh_reviews.rs` measures the ROC AUC of `negative_score` on about 35,000 Chinese
//! consumer reviews (books, products, hotels), split by a hash of each line ([`eval::split_of`])
//! into a DEV half, the only one read while tuning the lexicon, and a TEST half for reporting.
//! With the shipped lexicon: DEV 0.859, TEST 0.861, about a tenth of the reviews carrying no
//! evidence either way. A lexicon reads words, not arguments: irony, comparisons and reviews
//! that list merits before one decisive flaw are where it errs, which is why a learned model
//! sits beside it for the harder cases.

mod analyze;
pub mod eval;
mod lexicon;

use serde::{Deserialize, Serialize};

pub use analyze::Analyzer;
pub use eval::roc_auc;
pub use lexicon::{Lexicon, LexiconError, SHIPPED_LEXICON, Scoring};

/// An emotion the analyser can report.
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[serde(rename_all = "snake_case")]
pub enum EmotionKind {
    /// 愤怒: anger, outrage, feeling cheated.
    Anger,
    /// 焦虑: worry, urgency, fear.
    Anxiety,
    /// 失望: disappointment, dissatisfaction, regret.
    Disappointment,
    /// 无奈/崩溃: distress, helplessness, despair.
    Distress,
    /// 满意: satisfaction, gratitude, praise.
    Satisfaction,
    /// No emotion found (or too little evidence).
    Neutral,
}

impl EmotionKind {
    /// Every emotion, neutral last.
    pub const ALL: [EmotionKind; 6] = [
        EmotionKind::Anger,
        EmotionKind::Anxiety,
        EmotionKind::Disappointment,
        EmotionKind::Distress,
        EmotionKind::Satisfaction,
        EmotionKind::Neutral,
    ];

    /// The snake_case name used in TOML and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            EmotionKind::Anger => "anger",
            EmotionKind::Anxiety => "anxiety",
            EmotionKind::Disappointment => "disappointment",
            EmotionKind::Distress => "distress",
            EmotionKind::Satisfaction => "satisfaction",
            EmotionKind::Neutral => "neutral",
        }
    }

    /// The Chinese name, for display.
    pub fn name_zh(self) -> &'static str {
        match self {
            EmotionKind::Anger => "愤怒",
            EmotionKind::Anxiety => "焦虑",
            EmotionKind::Disappointment => "失望",
            EmotionKind::Distress => "无助",
            EmotionKind::Satisfaction => "满意",
            EmotionKind::Neutral => "平静",
        }
    }

    /// Whether the emotion counts as negative evidence.
    pub fn is_negative(self) -> bool {
        matches!(
            self,
            EmotionKind::Anger
                | EmotionKind::Anxiety
                | EmotionKind::Disappointment
                | EmotionKind::Distress
        )
    }
}

/// A phrase that contributed to a reading.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct Trigger {
    /// The phrase as written in the original text (`&text[start..end]`).
    pub phrase: String,
    /// Byte offset of the phrase in the original text.
    pub start: usize,
    /// Byte offset just past the phrase in the original text.
    pub end: usize,
    /// The emotion the phrase counted towards, after negation: a negated `满意` counts towards
    /// disappointment.
    pub emotion: EmotionKind,
    /// What it added to that emotion's score, after negation, intensifiers and contrast.
    pub weight: f32,
    /// A negator within reach flipped or dampened it.
    pub negated: bool,
    /// An intensifier, exclamation marks or capitals strengthened it.
    pub intensified: bool,
}

/// The evidence for each emotion (sums of trigger weights).
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Debug, Default)]
pub struct EmotionScores {
    /// Evidence for anger.
    pub anger: f32,
    /// Evidence for anxiety.
    pub anxiety: f32,
    /// Evidence for disappointment.
    pub disappointment: f32,
    /// Evidence for distress.
    pub distress: f32,
    /// Evidence for satisfaction.
    pub satisfaction: f32,
}

impl EmotionScores {
    /// The score of one emotion (0 for neutral).
    pub fn get(&self, kind: EmotionKind) -> f32 {
        match kind {
            EmotionKind::Anger => self.anger,
            EmotionKind::Anxiety => self.anxiety,
            EmotionKind::Disappointment => self.disappointment,
            EmotionKind::Distress => self.distress,
            EmotionKind::Satisfaction => self.satisfaction,
            EmotionKind::Neutral => 0.0,
        }
    }

    fn add(&mut self, kind: EmotionKind, weight: f32) {
        match kind {
            EmotionKind::Anger => self.anger += weight,
            EmotionKind::Anxiety => self.anxiety += weight,
            EmotionKind::Disappointment => self.disappointment += weight,
            EmotionKind::Distress => self.distress += weight,
            EmotionKind::Satisfaction => self.satisfaction += weight,
            EmotionKind::Neutral => {}
        }
    }

    /// Anger + anxiety + disappointment + distress.
    pub fn negative(&self) -> f32 {
        self.anger + self.anxiety + self.disappointment + self.distress
    }
}

/// The emotional reading of one text.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct EmotionReading {
    /// The dominant emotion, or neutral.
    pub emotion: EmotionKind,
    /// How strong the dominant emotion is, 0..1 (0 for neutral).
    pub intensity: f32,
    /// How negative the text is, 0..1, probability-like: 0.5 means no evidence either way.
    pub negative_score: f32,
    /// The phrases that counted, in text order.
    pub triggers: Vec<Trigger>,
    /// The evidence per emotion.
    pub scores: EmotionScores,
}
