//! Measures the classifier on the BANKING77 intent data: 5-fold cross-validation report, the time
//! to train on all texts, the mean prediction time per text and the serialised model size.
//!
//! ```text
//! cargo run --release -p redress-learn --example banking77 [path/to/train.csv]
//! ```
//!
//! The CSV has a header and the columns `text,category`. Without a path the shared data directory
//! next to the workspace is used.

use std::path::PathBuf;
use std::time::Instant;

use redress_learn::{Example, Model, TrainConfig, cross_validate};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../../shared/data/banking77/train.csv")
        });
    let mut reader = csv::Reader::from_path(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut examples = Vec::new();
    for row in reader.records() {
        let row = row?;
        examples.push(Example::new(&row[0], &row[1]));
    }
    println!(
        "{} examples from {} (BANKING77, Casanueva et al. 2020, PolyAI, CC-BY-4.0)",
        examples.len(),
        path.display()
    );
    let config = TrainConfig::default();

    let started = Instant::now();
    let report = cross_validate(&examples, 5, &config, 42, &mut |done, folds| {
        eprintln!("fold {done}/{folds} done after {:.1?}", started.elapsed());
    })?;
    println!(
        "5-fold cross-validation ({:.1?}):\n{report}",
        started.elapsed()
    );

    let started = Instant::now();
    let model = Model::train(&examples, &config)?;
    let train_time = started.elapsed();

    let started = Instant::now();
    let mut correct = 0usize;
    for e in &examples {
        if model.predict(&e.text).label == e.label {
            correct += 1;
        }
    }
    let per_text = started.elapsed() / examples.len() as u32;

    let started = Instant::now();
    let bytes = model.to_bytes();
    let save_time = started.elapsed();
    let started = Instant::now();
    let loaded = Model::from_bytes(&bytes)?;
    let load_time = started.elapsed();
    assert_eq!(
        loaded.predict(&examples[0].text),
        model.predict(&examples[0].text)
    );

    println!("training on {} texts: {train_time:.2?}", examples.len());
    println!(
        "prediction: {:.1} µs per text (training accuracy {:.4})",
        per_text.as_secs_f64() * 1e6,
        correct as f64 / examples.len() as f64
    );
    println!(
        "model: {} features, {} bytes ({:.1} MB), saved in {save_time:.1?}, loaded in {load_time:.1?}",
        model.features(),
        bytes.len(),
        bytes.len() as f64 / 1e6
    );
    Ok(())
}
