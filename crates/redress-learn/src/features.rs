//! Turning normalised text into hashed sparse features.
//!
//! Three blocks of features are extracted, each later weighted by TF-IDF and L2-normalised on its
//! own, so that a long text does not let one block drown the others:
//!
//! * **words**: stemmed word unigrams and adjacent bigrams;
//! * **pairs**: stemmed word unigrams and unordered pairs of distinct words that occur within a
//!   window of each other. Pairs let a linear model react to combinations ("card" with "arrive"
//!   versus "card" with "fee") that neither word nor bigram features capture;
//! * **chars**: character n-grams inside each token padded with a space on both sides, which
//!   catch misspellings, inflections the stemmer misses and, for Chinese, the words themselves
//!   without a segmenter.
//!
//! A run of CJK characters is one token for character n-grams (so n-grams span the run), but each
//! CJK character is its own word for the word and pair blocks, which makes word bigrams of Chinese
//! text its character bigrams. Latin-script and CJK runs are always separate tokens, so mixed text
//! such as `atm机吞卡` yields `atm` and `机吞卡`.
//!
//! Features are identified by a 64-bit hash of their text and kind rather than by the string, so
//! extraction allocates little and a model stores eight bytes per feature.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use rust_stemmers::{Algorithm, Stemmer};

/// Number of feature blocks (words, pairs, chars).
pub(crate) const BLOCKS: usize = 3;

/// Feature-extraction settings. Stored inside a model, because prediction must extract exactly the
/// features the model was trained on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FeatureSpec {
    /// Weight of the word block; 0 disables it.
    pub word_weight: f32,
    /// Weight of the pair block; 0 disables it.
    pub pair_weight: f32,
    /// Weight of the character block; 0 disables it.
    pub char_weight: f32,
    /// Shortest character n-gram.
    pub char_min: u8,
    /// Longest character n-gram.
    pub char_max: u8,
    /// Two words form a pair feature when at most this many positions apart.
    pub pair_window: u16,
    /// The same for two CJK characters, which are much shorter units than words.
    pub cjk_pair_window: u16,
    /// Whether Latin-script words are reduced to their English stem.
    pub stem: bool,
}

impl FeatureSpec {
    pub(crate) fn weights(&self) -> [f32; BLOCKS] {
        [self.word_weight, self.pair_weight, self.char_weight]
    }
}

/// The features of one text: for each block, distinct feature hashes with their term weight
/// (sublinear term frequency, or 1 for pairs). Sorted by hash.
#[derive(Debug, Default, Clone)]
pub(crate) struct RawFeatures {
    pub blocks: [Vec<(u64, f32)>; BLOCKS],
}

// Seeds that keep the feature kinds apart in hash space: the word "card" as a unigram of the word
// block and of the pair block must be different columns, like a char n-gram "card".
const NS_WORD: u64 = 0x5752_4430_0000_0001;
const NS_BIGRAM: u64 = 0x5752_4430_0000_0002;
const NS_PAIR_UNI: u64 = 0x5752_4430_0000_0003;
const NS_PAIR: u64 = 0x5752_4430_0000_0004;
const NS_CHAR: u64 = 0x5752_4430_0000_0005;
const NS_TOKEN: u64 = 0x5752_4430_0000_0006;

/// Extracts the features of an already normalised text.
pub(crate) fn extract(spec: &FeatureSpec, normalized: &str) -> RawFeatures {
    let runs = runs(normalized);
    let mut out = RawFeatures::default();
    let stemmer = spec.stem.then(|| Stemmer::create(Algorithm::English));

    if spec.word_weight > 0.0 || spec.pair_weight > 0.0 {
        let words = word_hashes(&runs, stemmer.as_ref());
        if spec.word_weight > 0.0 {
            let mut hashes = Vec::with_capacity(words.len() * 2);
            hashes.extend(words.iter().map(|&(w, _)| mix(w ^ NS_WORD)));
            hashes.extend(words.windows(2).map(|p| combine(NS_BIGRAM, p[0].0, p[1].0)));
            out.blocks[0] = count_sublinear(hashes);
        }
        if spec.pair_weight > 0.0 {
            let window = usize::from(spec.pair_window.max(1));
            let cjk_window = usize::from(spec.cjk_pair_window.max(1));
            let mut hashes = Vec::with_capacity(words.len() * (window + 1));
            hashes.extend(words.iter().map(|&(w, _)| mix(w ^ NS_PAIR_UNI)));
            for (i, &(a, a_cjk)) in words.iter().enumerate() {
                for (d, &(b, b_cjk)) in words[i + 1..].iter().enumerate().take(window) {
                    if a_cjk && b_cjk && d >= cjk_window {
                        continue;
                    }
                    if a != b {
                        // Unordered: "fee card" and "card fee" are the same pair.
                        hashes.push(combine(NS_PAIR, a.min(b), a.max(b)));
                    }
                }
            }
            out.blocks[1] = count_binary(hashes);
        }
    }

    if spec.char_weight > 0.0 {
        let (lo, hi) = (
            usize::from(spec.char_min.max(1)),
            usize::from(spec.char_max.max(1)),
        );
        let mut hashes = Vec::new();
        let mut padded = String::new();
        let mut bounds: Vec<usize> = Vec::new();
        for run in &runs {
            padded.clear();
            padded.push(' ');
            padded.push_str(run.text);
            padded.push(' ');
            bounds.clear();
            bounds.extend(padded.char_indices().map(|(i, _)| i));
            bounds.push(padded.len());
            let chars = bounds.len() - 1;
            for n in lo..=hi.min(chars) {
                for start in 0..=(chars - n) {
                    let gram = &padded.as_bytes()[bounds[start]..bounds[start + n]];
                    hashes.push(hash_bytes(NS_CHAR, gram));
                }
            }
        }
        out.blocks[2] = count_sublinear(hashes);
    }
    out
}

/// Whether a character belongs to a script written without spaces between words.
fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{3040}'..='\u{30FF}'   // hiragana, katakana
        | '\u{3400}'..='\u{4DBF}' // CJK extension A
        | '\u{4E00}'..='\u{9FFF}' // CJK unified ideographs
        | '\u{AC00}'..='\u{D7AF}' // hangul syllables
        | '\u{F900}'..='\u{FAFF}' // CJK compatibility ideographs
        | '\u{20000}'..='\u{2FA1F}')
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Script {
    Cjk,
    Word,
}

#[derive(Debug, Clone, Copy)]
struct Run<'a> {
    text: &'a str,
    script: Script,
}

/// Splits text into maximal runs of word characters of one script; everything else separates.
fn runs(text: &str) -> Vec<Run<'_>> {
    let mut out = Vec::new();
    let mut start: Option<(usize, Script)> = None;
    for (i, c) in text.char_indices() {
        let script = if is_cjk(c) {
            Some(Script::Cjk)
        } else if c.is_alphanumeric() || c == '_' {
            Some(Script::Word)
        } else {
            None
        };
        match (start, script) {
            (Some((_, cur)), Some(s)) if cur == s => {}
            (Some((from, cur)), _) => {
                out.push(Run {
                    text: &text[from..i],
                    script: cur,
                });
                start = script.map(|s| (i, s));
            }
            (None, Some(s)) => start = Some((i, s)),
            (None, None) => {}
        }
    }
    if let Some((from, cur)) = start {
        out.push(Run {
            text: &text[from..],
            script: cur,
        });
    }
    out
}

/// The word sequence used by the word and pair blocks, as hashes: stemmed Latin-script words and
/// single CJK characters (flagged `true`).
fn word_hashes(runs: &[Run<'_>], stemmer: Option<&Stemmer>) -> Vec<(u64, bool)> {
    let mut out = Vec::with_capacity(runs.len());
    let mut buf = [0u8; 4];
    for run in runs {
        match run.script {
            Script::Word => {
                let word = match stemmer {
                    Some(s) => s.stem(run.text),
                    None => Cow::Borrowed(run.text),
                };
                out.push((hash_bytes(NS_TOKEN, word.as_bytes()), false));
            }
            Script::Cjk => {
                out.extend(run.text.chars().map(|c| {
                    (
                        hash_bytes(NS_TOKEN, c.encode_utf8(&mut buf).as_bytes()),
                        true,
                    )
                }));
            }
        }
    }
    out
}

/// Distinct hashes with term weight `1 + ln(count)`: a word said twice matters more, but not twice
/// as much.
fn count_sublinear(mut hashes: Vec<u64>) -> Vec<(u64, f32)> {
    hashes.sort_unstable();
    let mut out: Vec<(u64, f32)> = Vec::with_capacity(hashes.len());
    let mut i = 0;
    while i < hashes.len() {
        let h = hashes[i];
        let mut j = i + 1;
        while j < hashes.len() && hashes[j] == h {
            j += 1;
        }
        out.push((h, 1.0 + ((j - i) as f32).ln()));
        i = j;
    }
    out
}

/// Distinct hashes with weight 1.
fn count_binary(mut hashes: Vec<u64>) -> Vec<(u64, f32)> {
    hashes.sort_unstable();
    hashes.dedup();
    hashes.into_iter().map(|h| (h, 1.0)).collect()
}

/// FNV-1a over the bytes followed by a strong finaliser. Fixed here (not `std`'s hasher) because
/// stored models depend on these values never changing.
pub(crate) fn hash_bytes(seed: u64, bytes: &[u8]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325 ^ seed;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    mix(h)
}

/// Order-sensitive combination of two hashes under a namespace.
fn combine(ns: u64, a: u64, b: u64) -> u64 {
    mix(mix(a ^ ns).wrapping_add(b.rotate_left(23)))
}

/// The SplitMix64 finaliser: every input bit affects every output bit.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A hasher for keys that are already well-mixed 64-bit hashes: re-hashing them would only cost
/// time on every lookup.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct PassThroughHasher(u64);

impl Hasher for PassThroughHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used for our keys; this keeps the hasher correct for anything else.
        for &b in bytes {
            self.0 = mix(self.0 ^ u64::from(b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Map from feature hash to something, without re-hashing the hash.
pub(crate) type HashIndex<V> = HashMap<u64, V, BuildHasherDefault<PassThroughHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> FeatureSpec {
        FeatureSpec {
            word_weight: 1.0,
            pair_weight: 1.0,
            char_weight: 1.0,
            char_min: 1,
            char_max: 5,
            pair_window: 16,
            cjk_pair_window: 4,
            stem: true,
        }
    }

    #[test]
    fn runs_split_scripts_and_punctuation() {
        let r: Vec<_> = runs("atm机吞卡, my card!").iter().map(|r| r.text).collect();
        assert_eq!(r, ["atm", "机吞卡", "my", "card"]);
    }

    #[test]
    fn stemming_merges_inflections() {
        let s = spec();
        let a = extract(&s, "cards arrived");
        let b = extract(&s, "card arrive");
        assert_eq!(a.blocks[0], b.blocks[0]);
        assert_eq!(a.blocks[1], b.blocks[1]);
        // Character n-grams still see the difference.
        assert_ne!(a.blocks[2], b.blocks[2]);
    }

    #[test]
    fn pairs_are_unordered_and_bigrams_are_not() {
        let s = spec();
        let a = extract(&s, "card fee");
        let b = extract(&s, "fee card");
        assert_eq!(a.blocks[1], b.blocks[1]);
        assert_ne!(a.blocks[0], b.blocks[0]);
    }

    #[test]
    fn counts_are_sublinear_and_char_grams_cover_cjk() {
        let s = FeatureSpec {
            word_weight: 0.0,
            pair_weight: 0.0,
            ..spec()
        };
        let f = extract(&s, "卡卡");
        // Padded " 卡卡 ": 1-grams ' ', '卡' (each twice); 2-grams " 卡", "卡卡", "卡 "; 3-grams
        // " 卡卡", "卡卡 "; 4-gram " 卡卡 ".
        assert_eq!(f.blocks[2].len(), 2 + 3 + 2 + 1);
        let twice = f.blocks[2].iter().filter(|(_, w)| *w > 1.0).count();
        assert_eq!(twice, 2);
        assert!(f.blocks[0].is_empty() && f.blocks[1].is_empty());
    }

    #[test]
    fn pair_window_limits_distance() {
        let narrow = FeatureSpec {
            pair_window: 1,
            ..spec()
        };
        let wide = spec();
        let text = "alpha beta gamma delta";
        // Four unigrams plus 3 adjacent pairs, versus all 6 pairs.
        assert_eq!(extract(&narrow, text).blocks[1].len(), 4 + 3);
        assert_eq!(extract(&wide, text).blocks[1].len(), 4 + 6);
        // CJK characters use their own, shorter window (4): of the 15 pairs of six distinct
        // characters, those 5 apart do not count.
        assert_eq!(extract(&wide, "一二三四五六").blocks[1].len(), 6 + 15 - 1);
    }
}
