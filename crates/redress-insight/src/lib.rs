//! Reading a complaint's text: everything Redress derives from what the customer wrote.
//!
//! * the search entry (tokens per field, see `redress-text`) and the fingerprint that finds
//!   similar complaints and incidents;
//! * the emotion, its intensity, a negativity score and the phrases behind them
//!   (`redress-emotion`), plus the risk flags of the rule classifier;
//! * labels from models trained on the institution's own labelled complaints
//!   (`redress-learn`), which refine the rule-based classification only where a model is
//!   confident and otherwise leave the rules' labels in place.
//!
//! Everything here is synchronous and pure: the caller decides where to run it (request
//! handlers run it before a complaint enters the store's writer, so the writer's single thread
//! never waits for text analysis).

use std::collections::HashMap;
use std::sync::Arc;

use redress_domain::classify::{Classification, ClassifyInput, Dimension, LabelSource, RiskFlag, RuleClassifier, Severity};
use redress_emotion::{Analyzer, EmotionReading};
use redress_learn::Model;
use serde::{Deserialize, Serialize};

/// The target name of a sentiment model (two labels: `negative` and `positive`).
pub const SENTIMENT: &str = "sentiment";

/// The label of a sentiment model that means "negative".
pub const NEGATIVE: &str = "negative";

/// Below this confidence a model's label does not replace the rules' label.
pub const DEFAULT_MIN_CONFIDENCE: f32 = 0.5;

/// Keywords kept per complaint (they label incidents).
const KEYWORDS: usize = 8;

/// A trained model in use.
#[derive(Clone)]
pub struct ActiveModel {
    /// Its id (version).
    pub id: String,
    /// What it predicts: a taxonomy dimension, `sentiment`, or any other name (e.g. an intent
    /// set from a CSV file), which is then only reported, not applied.
    pub target: String,
    /// The model.
    pub model: Arc<Model>,
}

/// One model's prediction for a text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// The target.
    pub target: String,
    /// The model id.
    pub model: String,
    /// The predicted label.
    pub label: String,
    /// Confidence in [0, 1].
    pub confidence: f32,
    /// Whether it replaced the rules' label in the classification.
    pub applied: bool,
}

/// What is stored with each complaint and shown with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    /// Emotion, intensity, triggers and the lexicon's negativity.
    pub emotion: EmotionReading,
    /// Negativity in [0, 1]: a sentiment model's probability when one is active (learned from
    /// the institution's data), otherwise the lexicon's score.
    pub negative_score: f32,
    /// Where `negative_score` came from: `lexicon` or the model id.
    pub negative_source: String,
    /// The most telling words.
    pub keywords: Vec<String>,
    /// Model predictions.
    pub predictions: Vec<Prediction>,
    /// Readings of customer messages (communication-log notes), oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<MessageReading>,
}

/// The reading of one customer message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageReading {
    /// Index of the note in the complaint's notes.
    pub note: usize,
    /// Emotion.
    pub emotion: EmotionReading,
    /// Negativity.
    pub negative_score: f32,
}

/// The result of analysing one free text (`redress analyze`, `POST /api/v1/analyze`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    /// Emotion kind.
    pub emotion: redress_emotion::EmotionKind,
    /// Intensity in [0, 1].
    pub intensity: f32,
    /// Negativity in [0, 1].
    pub negative_score: f32,
    /// Where the negativity came from.
    pub negative_source: String,
    /// Phrases behind the emotion.
    pub triggers: Vec<redress_emotion::Trigger>,
    /// Risk flags with their evidence.
    pub risk_flags: Vec<RiskFlag>,
    /// Severity implied by the flags.
    pub severity: Severity,
    /// Classification (rules refined by models).
    pub classification: Classification,
    /// Model predictions.
    pub predictions: Vec<Prediction>,
    /// Keywords.
    pub keywords: Vec<String>,
}

/// The searchable, comparable form of a complaint's text.
#[derive(Debug, Clone, PartialEq)]
pub struct TextForm {
    /// Tokens of the title, narrative, request and notes.
    pub fields: [Vec<String>; 4],
    /// Fingerprint bytes (None when the text has no words).
    pub fingerprint: Option<Vec<u8>>,
    /// LSH keys of the fingerprint.
    pub band_keys: Vec<i64>,
}

/// The text analyser: emotion lexicon plus whatever models are active.
#[derive(Clone)]
pub struct Insight {
    emotion: Arc<Analyzer>,
    models: HashMap<String, ActiveModel>,
    min_confidence: f32,
}

impl Default for Insight {
    fn default() -> Self {
        Insight::new(Vec::new())
    }
}

impl Insight {
    /// An analyser using these models (one per target; a later one replaces an earlier).
    pub fn new(models: Vec<ActiveModel>) -> Self {
        // Building the lexicon's automaton takes tens of milliseconds: once per process.
        static SHIPPED: std::sync::OnceLock<Arc<Analyzer>> = std::sync::OnceLock::new();
        Insight {
            emotion: SHIPPED.get_or_init(|| Arc::new(Analyzer::default())).clone(),
            models: models.into_iter().map(|m| (m.target.clone(), m)).collect(),
            min_confidence: DEFAULT_MIN_CONFIDENCE,
        }
    }

    /// The same analyser with another set of models (the lexicon is shared, not rebuilt).
    pub fn with_models(&self, models: Vec<ActiveModel>) -> Self {
        Insight { emotion: self.emotion.clone(), models: models.into_iter().map(|m| (m.target.clone(), m)).collect(), min_confidence: self.min_confidence }
    }

    /// Ids of the models in use, sorted.
    pub fn model_ids(&self) -> Vec<String> {
        let mut ids: Vec<_> = self.models.values().map(|m| m.id.clone()).collect();
        ids.sort();
        ids
    }

    /// The search tokens and fingerprint of a complaint's text.
    pub fn text_form(title: &str, narrative: &str, request: &str, notes: &[&str]) -> TextForm {
        let words = redress_text::segmenter().words(&format!("{title}\n{narrative}\n{request}"));
        Self::text_form_of(title, narrative, request, notes, &words)
    }

    /// [`Insight::text_form`] with the words of title, narrative and request already segmented.
    fn text_form_of(title: &str, narrative: &str, request: &str, notes: &[&str], words: &[String]) -> TextForm {
        let notes_tokens: Vec<String> = notes.iter().flat_map(|n| redress_text::index_tokens(n)).collect();
        let fp = redress_text::fingerprint_of_words(words);
        let (fingerprint, band_keys) = if fp.is_empty() { (None, Vec::new()) } else { (Some(fp.to_bytes()), fp.band_keys().to_vec()) };
        TextForm {
            fields: [
                redress_text::index_tokens(title),
                redress_text::index_tokens(narrative),
                redress_text::index_tokens(request),
                notes_tokens,
            ],
            fingerprint,
            band_keys,
        }
    }

    fn negativity(&self, text: &str, emotion: &EmotionReading) -> (f32, String) {
        match self.models.get(SENTIMENT) {
            Some(m) => {
                let p = m.model.predict(text);
                let negative = p.ranked.iter().find(|(l, _)| l == NEGATIVE).map(|(_, s)| *s);
                match negative {
                    Some(score) => (score.clamp(0.0, 1.0), m.id.clone()),
                    None => (emotion.negative_score, "lexicon".into()),
                }
            }
            None => (emotion.negative_score, "lexicon".into()),
        }
    }

    /// Applies the active models to a text: every prediction, and for taxonomy dimensions the
    /// confident ones replace the rules' labels in `classification`.
    pub fn refine(&self, text: &str, classification: &mut Classification, classifier: &RuleClassifier) -> Vec<Prediction> {
        let mut predictions = Vec::new();
        let mut targets: Vec<&ActiveModel> = self.models.values().filter(|m| m.target != SENTIMENT).collect();
        targets.sort_by(|a, b| a.target.cmp(&b.target));
        let mut applied_models = Vec::new();
        for m in targets {
            let p = m.model.predict(text);
            let mut applied = false;
            if let Some(dimension) = Dimension::ALL.into_iter().find(|d| d.as_str() == m.target)
                && p.confidence >= self.min_confidence
                && classification.label(dimension).is_none_or(|rule| rule.confidence < p.confidence)
                && let Some(label) = classifier.taxonomy().label(dimension, &p.label, p.confidence)
            {
                classification.set_label(dimension, Some(label));
                applied = true;
                applied_models.push(m.id.clone());
            }
            predictions.push(Prediction { target: m.target.clone(), model: m.id.clone(), label: p.label, confidence: p.confidence, applied });
        }
        if !applied_models.is_empty() {
            classification.source = LabelSource::Model { model_id: applied_models.join(",") };
        }
        predictions
    }

    /// The reading stored with a new complaint. `predictions` are those [`Insight::refine`]
    /// returned for it.
    pub fn read(&self, narrative: &str, request: &str, predictions: Vec<Prediction>) -> Reading {
        let text = if request.is_empty() { narrative.to_string() } else { format!("{narrative}\n{request}") };
        let emotion = self.emotion.analyze(&text);
        let (negative_score, negative_source) = self.negativity(&text, &emotion);
        Reading { emotion, negative_score, negative_source, keywords: redress_text::keywords(&text, KEYWORDS), predictions, messages: Vec::new() }
    }

    /// The reading and the text form of a new complaint, segmenting its text once.
    pub fn read_new(&self, title: &str, narrative: &str, request: &str, predictions: Vec<Prediction>) -> (Reading, TextForm) {
        let words = redress_text::segmenter().words(&format!("{title}\n{narrative}\n{request}"));
        let text = if request.is_empty() { narrative.to_string() } else { format!("{narrative}\n{request}") };
        let emotion = self.emotion.analyze(&text);
        let (negative_score, negative_source) = self.negativity(&text, &emotion);
        let keywords = redress_text::keywords_of_words(&words, KEYWORDS);
        let reading = Reading { emotion, negative_score, negative_source, keywords, predictions, messages: Vec::new() };
        (reading, Self::text_form_of(title, narrative, request, &[], &words))
    }

    /// Adds the reading of a customer message to a complaint's reading.
    pub fn read_message(&self, reading: &mut Reading, note: usize, text: &str) {
        let emotion = self.emotion.analyze(text);
        let (negative_score, _) = self.negativity(text, &emotion);
        reading.messages.retain(|m| m.note != note);
        reading.messages.push(MessageReading { note, emotion, negative_score });
    }

    /// Analyses one free text: emotion, negativity, risk flags, classification.
    pub fn analyze(&self, text: &str, classifier: &RuleClassifier) -> Analysis {
        let mut classification = classifier.classify(&ClassifyInput::new(text));
        let predictions = self.refine(text, &mut classification, classifier);
        let emotion = self.emotion.analyze(text);
        let (negative_score, negative_source) = self.negativity(text, &emotion);
        Analysis {
            emotion: emotion.emotion,
            intensity: emotion.intensity,
            negative_score,
            negative_source,
            triggers: emotion.triggers,
            risk_flags: classification.risk_flags.clone(),
            severity: classification.severity,
            classification,
            predictions,
            keywords: redress_text::keywords(text, KEYWORDS),
        }
    }
}

#[cfg(test)]
mod tests;
