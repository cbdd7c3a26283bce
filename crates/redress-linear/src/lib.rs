//! A text classifier that learns from an institution's own labelled complaints.
//!
//! Features are words, word pairs and character n-grams of the normalised text (character
//! n-grams cover Chinese without a segmenter and survive typos in English), weighted by
//! sublinear term frequency and inverse document frequency and scaled to unit length. One linear
//! model per label is trained by dual coordinate descent on the L2-regularised squared hinge loss
//! (the method of LIBLINEAR), one against the rest; a prediction is the label with the highest
//! score, with a softmax of the scores as its confidence.

mod features;
mod metrics;
mod model;

pub use metrics::{ClassReport, ConfusedPair, Report, cross_validate, evaluate, holdout_split, roc_auc};
pub use model::{Model, Prediction, TrainConfig};

/// One labelled text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// The text.
    pub text: String,
    /// Its label.
    pub label: String,
}

/// Why training or loading failed.
#[derive(Debug, thiserror::Error)]
pub enum LearnError {
    /// Training needs at least two different labels.
    #[error("training needs at least two different labels; found {0}")]
    TooFewLabels(usize),
    /// No texts with any features.
    #[error("none of the texts has anything to learn from")]
    NoFeatures,
    /// Cross-validation needs at least two folds and as many examples.
    #[error("cross-validation needs at least 2 folds and at least as many examples (folds {folds}, examples {examples})")]
    BadFolds {
        /// Folds asked for.
        folds: usize,
        /// Examples given.
        examples: usize,
    },
    /// A stored model could not be read.
    #[error("not a model this version can read: {0}")]
    BadModel(String),
}
