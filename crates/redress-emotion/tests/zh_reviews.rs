//! ROC AUC of `negative_score` on the TEST half of the Chinese review corpus (books, products,
//! hotels; `shared/data/zh-reviews`, outside the repository). The lexicon was tuned on the DEV
//! half only; `examples/zh_reviews.rs` prints both figures.

use std::path::PathBuf;

use redress_emotion::eval::{Split, split_of};
use redress_emotion::{Analyzer, roc_auc};

/// TEST AUC measured when the lexicon was last tuned (0.861), less a margin for small lexicon
/// edits. A drop below this means a change made the lexicon worse on real text.
const MIN_TEST_AUC: f64 = 0.85;

#[test]
fn test_half_auc_stays_above_the_tuned_level() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/zh-reviews");
    let (Ok(neg), Ok(pos)) = (
        std::fs::read_to_string(dir.join("neg.txt")),
        std::fs::read_to_string(dir.join("pos.txt")),
    ) else {
        eprintln!(
            "skipping: the review corpus is not at {} (it lives in shared/, beside the repository)",
            dir.display()
        );
        return;
    };
    let analyzer = Analyzer::default();
    let mut scores = Vec::new();
    let mut negatives = Vec::new();
    for (content, negative) in [(&neg, true), (&pos, false)] {
        for line in content.lines().map(str::trim) {
            if line.is_empty() || split_of(line) != Split::Test {
                continue;
            }
            scores.push(analyzer.analyze(line).negative_score);
            negatives.push(negative);
        }
    }
    assert!(scores.len() > 15_000, "only {} TEST reviews", scores.len());
    let auc = roc_auc(&scores, &negatives);
    eprintln!("TEST AUC {auc:.4} on {} reviews", scores.len());
    assert!(auc > MIN_TEST_AUC, "TEST AUC {auc:.4} <= {MIN_TEST_AUC}");
}
