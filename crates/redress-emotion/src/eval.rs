//! Evaluation helpers: ROC AUC and a deterministic development/test split of a labelled corpus.

/// Area under the ROC curve of `scores` for the binary labels `positives` (`true` = the class
/// the score should rank high). Tied scores count one half, as in the Mann–Whitney U statistic.
/// Returns 0.5 when either class is empty.
///
/// # Panics
/// If the slices differ in length.
pub fn roc_auc(scores: &[f32], positives: &[bool]) -> f64 {
    assert_eq!(
        scores.len(),
        positives.len(),
        "one label per score is needed"
    );
    let n_pos = positives.iter().filter(|&&p| p).count();
    let n_neg = positives.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return 0.5;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Sum of the (average, 1-based) ranks of the positives.
    let mut rank_sum = 0.0f64;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let average_rank = (i + j) as f64 / 2.0 + 1.0;
        let tied_positives = order[i..=j].iter().filter(|&&k| positives[k]).count();
        rank_sum += average_rank * tied_positives as f64;
        i = j + 1;
    }
    let n_pos = n_pos as f64;
    (rank_sum - n_pos * (n_pos + 1.0) / 2.0) / (n_pos * n_neg as f64)
}

/// Half of a corpus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// For reading errors and tuning.
    Dev,
    /// For reporting only.
    Test,
}

/// The half a corpus line belongs to, from a 64-bit FNV-1a hash of its bytes: stable across
/// runs, platforms and file order, and a line repeated in the corpus always lands in the same
/// half.
pub fn split_of(line: &str) -> Split {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in line.as_bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // The low bit of FNV-1a follows the low bits of the input too closely; mix first.
    hash ^= hash >> 33;
    if hash & 1 == 0 {
        Split::Dev
    } else {
        Split::Test
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_inverse_and_random_rankings() {
        let labels = [false, false, true, true];
        assert_eq!(roc_auc(&[0.1, 0.2, 0.8, 0.9], &labels), 1.0);
        assert_eq!(roc_auc(&[0.9, 0.8, 0.2, 0.1], &labels), 0.0);
        assert_eq!(roc_auc(&[0.5, 0.5, 0.5, 0.5], &labels), 0.5);
    }

    #[test]
    fn ties_count_half() {
        // Pairs (pos, neg): (0.5, 0.1) win, (0.5, 0.5) half, (0.9, 0.1) win, (0.9, 0.5) win.
        let auc = roc_auc(&[0.1, 0.5, 0.5, 0.9], &[false, false, true, true]);
        assert!((auc - 3.5 / 4.0).abs() < 1e-12);
    }

    #[test]
    fn agrees_with_pair_counting() {
        let scores: Vec<f32> = (0..200).map(|i| ((i * 37) % 23) as f32 / 7.0).collect();
        let labels: Vec<bool> = (0..200).map(|i| (i * 11) % 5 < 2).collect();
        let mut wins = 0.0;
        let mut pairs = 0.0;
        for (i, &si) in scores.iter().enumerate() {
            for (j, &sj) in scores.iter().enumerate() {
                if labels[i] && !labels[j] {
                    pairs += 1.0;
                    wins += if si > sj {
                        1.0
                    } else if si == sj {
                        0.5
                    } else {
                        0.0
                    };
                }
            }
        }
        assert!((roc_auc(&scores, &labels) - wins / pairs).abs() < 1e-12);
    }

    #[test]
    fn one_class_only_is_uninformative() {
        assert_eq!(roc_auc(&[0.1, 0.9], &[true, true]), 0.5);
        assert_eq!(roc_auc(&[], &[]), 0.5);
    }

    #[test]
    fn split_is_stable_and_roughly_even() {
        assert_eq!(split_of("很好"), split_of("很好"));
        let dev = (0..10_000)
            .filter(|i| split_of(&format!("评论{i}")) == Split::Dev)
            .count();
        assert!((4_700..5_300).contains(&dev), "{dev}");
    }
}
