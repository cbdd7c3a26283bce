//! Evaluation: accuracy, macro-F1, per-class precision and recall, confusions; folds and
//! hold-out splits; ROC AUC for binary scorers.

use std::collections::BTreeMap;
use std::fmt;

use crate::{Example, LearnError, Model, TrainConfig};

/// Figures for one class.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassReport {
    /// The label.
    pub label: String,
    /// Examples that have it.
    pub support: usize,
    /// Of those predicted as it, the share that have it.
    pub precision: f64,
    /// Of those that have it, the share predicted as it.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
}

/// A frequent error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfusedPair {
    /// The true label.
    pub actual: String,
    /// What was predicted instead.
    pub predicted: String,
    /// How often.
    pub count: usize,
}

/// An evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Examples evaluated.
    pub examples: usize,
    /// Share predicted correctly.
    pub accuracy: f64,
    /// Mean F1 over classes.
    pub macro_f1: f64,
    /// Per class, by label.
    pub per_class: Vec<ClassReport>,
    /// The ten most frequent errors.
    pub confused: Vec<ConfusedPair>,
}

impl Report {
    /// The report of (actual, predicted) pairs.
    pub fn from_pairs(pairs: &[(String, String)]) -> Report {
        let mut labels: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new(); // (support, predicted, correct)
        let mut confusions: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        let mut correct = 0;
        for (actual, predicted) in pairs {
            labels.entry(actual).or_default().0 += 1;
            labels.entry(predicted).or_default().1 += 1;
            if actual == predicted {
                correct += 1;
                labels.entry(actual).or_default().2 += 1;
            } else {
                *confusions.entry((actual, predicted)).or_default() += 1;
            }
        }
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let per_class: Vec<ClassReport> = labels
            .iter()
            .filter(|(_, (support, _, _))| *support > 0)
            .map(|(label, (support, predicted, hits))| {
                let precision = ratio(*hits, *predicted);
                let recall = ratio(*hits, *support);
                let f1 = if precision + recall == 0.0 { 0.0 } else { 2.0 * precision * recall / (precision + recall) };
                ClassReport { label: label.to_string(), support: *support, precision, recall, f1 }
            })
            .collect();
        let macro_f1 = if per_class.is_empty() { 0.0 } else { per_class.iter().map(|c| c.f1).sum::<f64>() / per_class.len() as f64 };
        let mut confused: Vec<ConfusedPair> =
            confusions.into_iter().map(|((a, p), count)| ConfusedPair { actual: a.to_string(), predicted: p.to_string(), count }).collect();
        confused.sort_by(|a, b| b.count.cmp(&a.count).then(a.actual.cmp(&b.actual)).then(a.predicted.cmp(&b.predicted)));
        confused.truncate(10);
        Report { examples: pairs.len(), accuracy: ratio(correct, pairs.len()), macro_f1, per_class, confused }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "examples  {}", self.examples)?;
        writeln!(f, "accuracy  {:.4}", self.accuracy)?;
        writeln!(f, "macro-F1  {:.4}", self.macro_f1)?;
        let width = self.per_class.iter().map(|c| c.label.chars().count()).max().unwrap_or(5).max(5);
        writeln!(f, "\n{:<width$}  precision  recall     f1  support", "label")?;
        for c in &self.per_class {
            writeln!(f, "{:<width$}  {:>9.3}  {:>6.3}  {:>5.3}  {:>7}", c.label, c.precision, c.recall, c.f1, c.support)?;
        }
        if !self.confused.is_empty() {
            writeln!(f, "\nmost confused (actual → predicted)")?;
            for p in &self.confused {
                writeln!(f, "  {:>4}  {} → {}", p.count, p.actual, p.predicted)?;
            }
        }
        Ok(())
    }
}

/// Evaluates a model on labelled texts.
pub fn evaluate(model: &Model, examples: &[Example]) -> Report {
    let pairs: Vec<(String, String)> = examples.iter().map(|e| (e.label.clone(), model.predict(&e.text).label)).collect();
    Report::from_pairs(&pairs)
}

fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut rng = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    for i in (1..items.len()).rev() {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        items.swap(i, (rng % (i as u64 + 1)) as usize);
    }
}

/// Indices grouped by label, each group shuffled: the basis of stratified splits.
fn strata(examples: &[Example], seed: u64) -> Vec<Vec<usize>> {
    let mut by_label: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, e) in examples.iter().enumerate() {
        by_label.entry(&e.label).or_default().push(i);
    }
    let mut groups: Vec<Vec<usize>> = by_label.into_values().collect();
    for (k, g) in groups.iter_mut().enumerate() {
        shuffle(g, seed ^ (k as u64 + 1));
    }
    groups
}

/// Splits into (train, test), holding back about `test_fraction` of every label.
pub fn holdout_split(examples: &[Example], test_fraction: f64, seed: u64) -> (Vec<Example>, Vec<Example>) {
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for group in strata(examples, seed) {
        let n_test = ((group.len() as f64) * test_fraction).round() as usize;
        for (i, idx) in group.into_iter().enumerate() {
            if i < n_test { test.push(examples[idx].clone()) } else { train.push(examples[idx].clone()) }
        }
    }
    (train, test)
}

/// Stratified k-fold cross-validation; the report pools the predictions of all folds.
/// `progress(done, folds)` is called after each fold.
pub fn cross_validate(
    examples: &[Example],
    folds: usize,
    config: &TrainConfig,
    seed: u64,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Report, LearnError> {
    if folds < 2 || examples.len() < folds {
        return Err(LearnError::BadFolds { folds, examples: examples.len() });
    }
    let mut fold_of = vec![0usize; examples.len()];
    let mut next = 0;
    for group in strata(examples, seed) {
        for idx in group {
            fold_of[idx] = next % folds;
            next += 1;
        }
    }
    let mut pairs = Vec::with_capacity(examples.len());
    for fold in 0..folds {
        let train: Vec<Example> = examples.iter().zip(&fold_of).filter(|(_, f)| **f != fold).map(|(e, _)| e.clone()).collect();
        let model = Model::train(&train, config)?;
        for (e, f) in examples.iter().zip(&fold_of) {
            if *f == fold {
                pairs.push((e.label.clone(), model.predict(&e.text).label));
            }
        }
        progress(fold + 1, folds);
    }
    Ok(Report::from_pairs(&pairs))
}

/// Area under the ROC curve of `scores` for the `positives` (ties count half).
pub fn roc_auc(scores: &[f32], positives: &[bool]) -> f64 {
    let mut order: Vec<usize> = (0..scores.len().min(positives.len())).collect();
    order.sort_by(|a, b| scores[*a].total_cmp(&scores[*b]));
    let (mut rank_sum, mut i) = (0.0f64, 0usize);
    while i < order.len() {
        let mut j = i + 1;
        while j < order.len() && scores[order[j]] == scores[order[i]] {
            j += 1;
        }
        let average_rank = (i + j + 1) as f64 / 2.0;
        rank_sum += order[i..j].iter().filter(|k| positives[**k]).count() as f64 * average_rank;
        i = j;
    }
    let p = order.iter().filter(|k| positives[**k]).count() as f64;
    let n = order.len() as f64 - p;
    if p == 0.0 || n == 0.0 {
        return 0.5;
    }
    (rank_sum - p * (p + 1.0) / 2.0) / (p * n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(text: &str, label: &str) -> Example {
        Example { text: text.into(), label: label.into() }
    }

    #[test]
    fn metrics_of_a_hand_computed_confusion() {
        let pairs: Vec<(String, String)> =
            [("a", "a"), ("a", "a"), ("a", "b"), ("b", "b"), ("b", "a"), ("c", "c")].iter().map(|(x, y)| (x.to_string(), y.to_string())).collect();
        let r = Report::from_pairs(&pairs);
        assert_eq!(r.examples, 6);
        assert!((r.accuracy - 4.0 / 6.0).abs() < 1e-9);
        let a = &r.per_class[0];
        assert_eq!((a.label.as_str(), a.support), ("a", 3));
        assert!((a.precision - 2.0 / 3.0).abs() < 1e-9 && (a.recall - 2.0 / 3.0).abs() < 1e-9);
        let b = &r.per_class[1];
        assert!((b.precision - 0.5).abs() < 1e-9 && (b.recall - 0.5).abs() < 1e-9);
        assert!((r.macro_f1 - (2.0 / 3.0 + 0.5 + 1.0) / 3.0).abs() < 1e-9);
        assert_eq!(r.confused[0], ConfusedPair { actual: "a".into(), predicted: "b".into(), count: 1 });
        assert!(r.to_string().contains("most confused"));
    }

    #[test]
    fn roc_auc_of_known_cases() {
        assert_eq!(roc_auc(&[0.1, 0.2, 0.8, 0.9], &[false, false, true, true]), 1.0);
        assert_eq!(roc_auc(&[0.9, 0.8, 0.2, 0.1], &[false, false, true, true]), 0.0);
        assert_eq!(roc_auc(&[0.5, 0.5, 0.5, 0.5], &[false, true, false, true]), 0.5);
        assert!((roc_auc(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]) - 0.75).abs() < 1e-9);
    }

    #[test]
    fn splits_are_stratified_and_deterministic() {
        let examples: Vec<Example> = (0..50).map(|i| ex(&format!("t{i}"), if i % 5 == 0 { "rare" } else { "common" })).collect();
        let (train, test) = holdout_split(&examples, 0.2, 3);
        assert_eq!(train.len() + test.len(), 50);
        assert_eq!(test.iter().filter(|e| e.label == "rare").count(), 2);
        assert_eq!(holdout_split(&examples, 0.2, 3).1, test);
        assert!(matches!(cross_validate(&examples[..1], 2, &TrainConfig::default(), 1, &mut |_, _| {}), Err(LearnError::BadFolds { .. })));
    }

    #[test]
    fn learns_a_separable_set_and_round_trips() {
        let mut examples = Vec::new();
        for i in 0..15 {
            examples.push(ex(&format!("my card was charged twice {i}"), "charge"));
            examples.push(ex(&format!("信用卡年费被乱收 {i}"), "fee"));
            examples.push(ex(&format!("transfer failed money missing {i}"), "transfer"));
        }
        let model = Model::train(&examples, &TrainConfig::default()).unwrap();
        assert_eq!(model.predict("the card was charged twice").label, "charge");
        assert_eq!(model.predict("年费乱收").label, "fee");
        let p = model.predict("my transfer failed");
        assert_eq!(p.label, "transfer");
        assert!(p.confidence > 0.5 && p.ranked.len() == 3, "{p:?}");
        let copy = Model::from_bytes(&model.to_bytes()).unwrap();
        assert_eq!(copy, model);
        assert_eq!(copy.predict("信用卡年费"), model.predict("信用卡年费"));
        assert!(Model::from_bytes(b"nope").is_err());
        assert!(Model::from_bytes(&model.to_bytes()[..100]).is_err());
        let report = cross_validate(&examples, 3, &TrainConfig::default(), 1, &mut |_, _| {}).unwrap();
        assert_eq!(report.accuracy, 1.0);
    }

    #[test]
    fn one_label_is_refused() {
        assert!(matches!(Model::train(&[ex("a b", "x"), ex("c d", "x")], &TrainConfig::default()), Err(LearnError::TooFewLabels(1))));
    }
}
