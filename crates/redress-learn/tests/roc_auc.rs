//! ROC AUC on cases small enough to count by hand.

use redress_learn::roc_auc;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[test]
fn perfect_reversed_and_uninformative_rankings() {
    let labels = [false, false, true, true];
    assert!(close(roc_auc(&[0.1, 0.2, 0.8, 0.9], &labels), 1.0));
    assert!(close(roc_auc(&[0.9, 0.8, 0.2, 0.1], &labels), 0.0));
    assert!(close(roc_auc(&[0.5, 0.5, 0.5, 0.5], &labels), 0.5));
}

#[test]
fn counts_pairs_in_the_right_order() {
    // Positives 0.35 and 0.8 against negatives 0.1 and 0.4: of the four pairs, 0.35 < 0.4 is the
    // only one in the wrong order, so 3/4.
    assert!(close(
        roc_auc(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]),
        0.75
    ));
}

#[test]
fn ties_count_one_half() {
    // Positives {0.5, 0.9}, negative {0.5}: one tie (½) and one win (1) over two pairs.
    assert!(close(roc_auc(&[0.5, 0.5, 0.9], &[true, false, true]), 0.75));
    // Positives {1, 2}, negatives {1, 2}: ½ + 0 + 1 + ½ over four pairs.
    assert!(close(
        roc_auc(&[1.0, 1.0, 2.0, 2.0], &[false, true, false, true]),
        0.5
    ));
}

#[test]
fn undefined_without_both_classes() {
    assert!(roc_auc(&[0.1, 0.2], &[true, true]).is_nan());
    assert!(roc_auc(&[0.1, 0.2], &[false, false]).is_nan());
    assert!(roc_auc(&[], &[]).is_nan());
}

#[test]
#[should_panic(expected = "one label per score")]
fn lengths_must_match() {
    roc_auc(&[0.1], &[true, false]);
}
