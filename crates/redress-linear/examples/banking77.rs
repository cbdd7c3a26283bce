//! 5-fold cross-validation on Banking77 (77 intents, real banking queries), the training time on
//! 10,000 texts and the prediction time per text. Reads `../shared/data/banking77/train.csv`
//! (or the file given as the first argument); says so and stops when it is absent.
//!
//! `cargo run --release -p redress-linear --example banking77 [FILE]`

use std::time::Instant;

use redress_linear::{Example, Model, TrainConfig, cross_validate};

fn main() {
    let path = std::env::args().nth(1).unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/banking77/train.csv").to_string());
    let Ok(text) = std::fs::read_to_string(&path) else {
        println!("{path} not found: nothing to measure");
        return;
    };
    let examples = parse_csv(&text);
    println!("{} labelled texts from {path}", examples.len());
    let config = TrainConfig::default();
    let t = Instant::now();
    let model = Model::train(&examples, &config).expect("trains");
    let trained = t.elapsed();
    let t = Instant::now();
    let mut n = 0;
    for e in examples.iter().cycle().take(20_000) {
        n += model.predict(&e.text).label.len();
    }
    let per = t.elapsed().as_secs_f64() / 20_000.0 * 1e6;
    println!("training on {} texts: {:.2} s; prediction: {per:.1} µs per text; model {:.1} MiB ({n})", examples.len(), trained.as_secs_f64(), model.to_bytes().len() as f64 / 1048576.0);
    let t = Instant::now();
    let report = cross_validate(&examples, 5, &config, 7, &mut |done, all| eprintln!("fold {done}/{all}")).expect("cv");
    println!("5-fold cross-validation ({:.1} s):\n{report}", t.elapsed().as_secs_f64());
}

/// `text,category` rows.
fn parse_csv(text: &str) -> Vec<Example> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    reader.records().map(|r| r.expect("a CSV row")).map(|r| Example { text: r[0].to_string(), label: r[1].trim().to_string() }).collect()
}
