//! Measuring a classifier: accuracy, per-class precision/recall/F1, confusions, cross-validation,
//! stratified hold-out splits and ROC AUC.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::LearnError;
use crate::model::{Example, Model, TrainConfig};
use crate::rng::SplitMix64;

/// Quality of predictions against known labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Number of examples evaluated.
    pub examples: usize,
    /// Share of examples predicted correctly.
    pub accuracy: f64,
    /// Unweighted mean of the per-class F1 scores, so rare classes count as much as common ones.
    pub macro_f1: f64,
    /// One entry per label that occurs as actual or predicted label, sorted by label.
    pub per_class: Vec<ClassReport>,
    /// The most frequent errors, most frequent first (at most ten).
    pub confused: Vec<ConfusedPair>,
}

/// Precision, recall and F1 of one label.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassReport {
    /// The label.
    pub label: String,
    /// Number of examples whose actual label this is.
    pub support: usize,
    /// Of the examples predicted as this label, the share that are (0 if never predicted).
    pub precision: f64,
    /// Of the examples that are this label, the share predicted as such (0 if no support).
    pub recall: f64,
    /// Harmonic mean of precision and recall (0 if both are 0).
    pub f1: f64,
}

/// An actual label predicted as another, and how often.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfusedPair {
    /// The true label.
    pub actual: String,
    /// The label predicted instead.
    pub predicted: String,
    /// Number of such errors.
    pub count: usize,
}

/// Number of confused pairs kept in a report.
const TOP_CONFUSED: usize = 10;

impl Report {
    /// Builds a report from `(actual, predicted)` label pairs.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Report {
        // Per label: (support, predicted count, true positives).
        let mut counts: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
        let mut errors: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        let mut total = 0;
        let mut correct = 0;
        for (actual, predicted) in pairs {
            total += 1;
            counts.entry(actual).or_default().0 += 1;
            counts.entry(predicted).or_default().1 += 1;
            if actual == predicted {
                correct += 1;
                counts.entry(actual).or_default().2 += 1;
            } else {
                *errors.entry((actual, predicted)).or_default() += 1;
            }
        }

        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let per_class: Vec<ClassReport> = counts
            .iter()
            .map(|(&label, &(support, predicted, tp))| {
                let precision = ratio(tp, predicted);
                let recall = ratio(tp, support);
                let f1 = if precision + recall > 0.0 {
                    2.0 * precision * recall / (precision + recall)
                } else {
                    0.0
                };
                ClassReport {
                    label: label.to_owned(),
                    support,
                    precision,
                    recall,
                    f1,
                }
            })
            .collect();
        let macro_f1 = if per_class.is_empty() {
            0.0
        } else {
            per_class.iter().map(|c| c.f1).sum::<f64>() / per_class.len() as f64
        };

        let mut confused: Vec<ConfusedPair> = errors
            .into_iter()
            .map(|((actual, predicted), count)| ConfusedPair {
                actual: actual.to_owned(),
                predicted: predicted.to_owned(),
                count,
            })
            .collect();
        // Stable sort: equal counts stay in label order.
        confused.sort_by_key(|p| std::cmp::Reverse(p.count));
        confused.truncate(TOP_CONFUSED);

        Report {
            examples: total,
            accuracy: ratio(correct, total),
            macro_f1,
            per_class,
            confused,
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "examples  {}", self.examples)?;
        writeln!(f, "accuracy  {:.4}", self.accuracy)?;
        writeln!(f, "macro-F1  {:.4}", self.macro_f1)?;
        writeln!(f)?;
        let width = self
            .per_class
            .iter()
            .map(|c| display_width(&c.label))
            .chain([5])
            .max()
            .unwrap_or(5);
        writeln!(
            f,
            "{}  precision  recall      f1  support",
            pad("label", width)
        )?;
        for c in &self.per_class {
            writeln!(
                f,
                "{}  {:>9.4}  {:>6.4}  {:>6.4}  {:>7}",
                pad(&c.label, width),
                c.precision,
                c.recall,
                c.f1,
                c.support
            )?;
        }
        if !self.confused.is_empty() {
            writeln!(f)?;
            writeln!(f, "most confused (actual -> predicted: count)")?;
            for p in &self.confused {
                writeln!(f, "  {} -> {}: {}", p.actual, p.predicted, p.count)?;
            }
        }
        Ok(())
    }
}

/// Terminal columns a label takes: CJK characters are two columns wide, so padding by `char`
/// count would misalign Chinese labels.
fn display_width(s: &str) -> usize {
    s.chars()
        .map(|c| {
            if (c as u32) >= 0x1100 && !c.is_ascii() {
                2
            } else {
                1
            }
        })
        .sum()
}

fn pad(s: &str, width: usize) -> String {
    let mut out = s.to_owned();
    out.extend(std::iter::repeat_n(
        ' ',
        width.saturating_sub(display_width(s)),
    ));
    out
}

/// Predicts every example and compares with its label.
pub fn evaluate(model: &Model, examples: &[Example]) -> Report {
    let predicted: Vec<String> = examples
        .iter()
        .map(|e| model.predict(&e.text).label)
        .collect();
    Report::from_pairs(
        examples
            .iter()
            .zip(&predicted)
            .map(|(e, p)| (e.label.as_str(), p.as_str())),
    )
}

/// Stratified k-fold cross-validation: each fold holds out about `1/folds` of every label, a model
/// is trained on the rest, and the report pools the held-out predictions of all folds.
/// Deterministic for a seed. `progress(done, folds)` is called after each fold.
///
/// Fails if `folds < 2`, if there are fewer examples than folds, or if training fails.
pub fn cross_validate(
    examples: &[Example],
    folds: usize,
    config: &TrainConfig,
    seed: u64,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Report, LearnError> {
    if folds < 2 || examples.len() < folds {
        return Err(LearnError::InvalidFolds {
            folds,
            examples: examples.len(),
        });
    }
    let fold_of = stratified_folds(examples, folds, seed);
    let mut predicted: Vec<Option<String>> = vec![None; examples.len()];
    for k in 0..folds {
        let train: Vec<Example> = examples
            .iter()
            .zip(&fold_of)
            .filter(|&(_, &f)| f != k)
            .map(|(e, _)| e.clone())
            .collect();
        let model = Model::train(&train, config)?;
        for (i, e) in examples.iter().enumerate() {
            if fold_of[i] == k {
                predicted[i] = Some(model.predict(&e.text).label);
            }
        }
        progress(k + 1, folds);
    }
    Ok(Report::from_pairs(examples.iter().zip(&predicted).map(
        |(e, p)| {
            (
                e.label.as_str(),
                p.as_deref().expect("every example is in exactly one fold"),
            )
        },
    )))
}

/// Assigns each example a fold in `0..folds` so that every label is spread evenly: the examples
/// of each label are shuffled and dealt round-robin, continuing where the previous label stopped
/// so that fold sizes also stay balanced.
fn stratified_folds(examples: &[Example], folds: usize, seed: u64) -> Vec<usize> {
    let mut by_label: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, e) in examples.iter().enumerate() {
        by_label.entry(e.label.as_str()).or_default().push(i);
    }
    let mut rng = SplitMix64::new(seed);
    let mut fold_of = vec![0; examples.len()];
    let mut next = 0;
    for members in by_label.values_mut() {
        rng.shuffle(members);
        for &i in members.iter() {
            fold_of[i] = next % folds;
            next += 1;
        }
    }
    fold_of
}

/// Splits examples into `(train, test)` with about `test_fraction` of every label in the test
/// part (rounded, but for a fraction below 1 never all of a label's examples, so that every label
/// can still be learnt). Both parts keep the input order. Deterministic for a seed.
pub fn holdout_split(
    examples: &[Example],
    test_fraction: f64,
    seed: u64,
) -> (Vec<Example>, Vec<Example>) {
    let fraction = if test_fraction.is_finite() {
        test_fraction.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let mut by_label: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, e) in examples.iter().enumerate() {
        by_label.entry(e.label.as_str()).or_default().push(i);
    }
    let mut rng = SplitMix64::new(seed);
    let mut test: BTreeSet<usize> = BTreeSet::new();
    for members in by_label.values_mut() {
        rng.shuffle(members);
        let n = members.len();
        let mut k = (n as f64 * fraction).round() as usize;
        if fraction < 1.0 {
            k = k.min(n - 1);
        }
        test.extend(members.iter().take(k));
    }
    let mut train_part = Vec::with_capacity(examples.len() - test.len());
    let mut test_part = Vec::with_capacity(test.len());
    for (i, e) in examples.iter().enumerate() {
        if test.contains(&i) {
            test_part.push(e.clone());
        } else {
            train_part.push(e.clone());
        }
    }
    (train_part, test_part)
}

/// Area under the ROC curve of `scores` (higher = more likely positive) against `positives`: the
/// probability that a random positive scores above a random negative, ties counting one half.
/// Computed from average ranks (Mann–Whitney U). Returns NaN when there are no positives or no
/// negatives, where the area is undefined.
///
/// # Panics
/// If the slices differ in length.
pub fn roc_auc(scores: &[f32], positives: &[bool]) -> f64 {
    assert_eq!(
        scores.len(),
        positives.len(),
        "one label per score is needed"
    );
    let pos = positives.iter().filter(|&&p| p).count();
    let neg = positives.len() - pos;
    if pos == 0 || neg == 0 {
        return f64::NAN;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum = 0.0f64;
    let mut i = 0;
    while i < order.len() {
        let mut j = i + 1;
        while j < order.len() && scores[order[j]] == scores[order[i]] {
            j += 1;
        }
        // Ranks i+1..=j share their average.
        let avg = (i + 1 + j) as f64 / 2.0;
        rank_sum += avg * order[i..j].iter().filter(|&&k| positives[k]).count() as f64;
        i = j;
    }
    let (pos, neg) = (pos as f64, neg as f64);
    (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}
