//! MinHash fingerprints of complaint texts, for similar complaints and near-duplicates, with
//! locality-sensitive-hashing band keys that an SQL index can look up.

use crate::segment::segmenter;

/// Number of hash functions of a fingerprint.
const HASHES: usize = 64;
/// Rows (hashes) per band.
const ROWS_PER_BAND: usize = HASHES / Fingerprint::BANDS;
/// First byte of [`Fingerprint::to_bytes`]. Fingerprints of different versions (other features,
/// hash functions or dictionaries) cannot be compared; a change bumps it.
const FORMAT_VERSION: u8 = 1;
/// Length of [`Fingerprint::to_bytes`].
const ENCODED_LEN: usize = 1 + HASHES * 4;

/// The MinHash signature of a text's features: its segmented words and pairs of consecutive
/// words, as a set.
///
/// The fraction of equal hashes estimates the Jaccard similarity of two feature sets. Hashing uses
/// fixed seeds, so a fingerprint is the same on every run and machine and can be stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint {
    /// For each of 64 hash functions, the least hash over the features (`u32::MAX` for none).
    pub hashes: [u32; 64],
}

/// The fingerprint of `text` (see [`Fingerprint`]).
///
/// ```
/// use redress_text::fingerprint;
///
/// let a = fingerprint("信用卡被盗刷五千元，银行不予退还");
/// assert_eq!(a.similarity(&fingerprint("信用卡被盗刷五千元，银行不予退还")), 1.0);
/// assert!(fingerprint("，。").is_empty());
/// ```
pub fn fingerprint(text: &str) -> Fingerprint {
    fingerprint_of_words(&segmenter().words(text))
}

/// The fingerprint of a text already segmented with [`crate::Segmenter::words`], for callers
/// that need the words for something else too (segmenting is the costly part).
pub fn fingerprint_of_words(words: &[String]) -> Fingerprint {
    let mut features: Vec<u64> = Vec::with_capacity(words.len() * 2);
    features.extend(words.iter().map(|w| feature_hash(&[w])));
    features.extend(
        words
            .windows(2)
            .map(|pair| feature_hash(&[&pair[0], &pair[1]])),
    );
    features.sort_unstable();
    features.dedup();
    Fingerprint::of_features(&features)
}

impl Fingerprint {
    /// Number of LSH bands: 32 bands of 2 hashes. Two texts share a band key with probability
    /// `1 - (1 - s²)³²` for a Jaccard similarity `s`: about 0.28 at `s = 0.1`, 0.73 at 0.2, 0.95 at
    /// 0.3 and 0.9999 at 0.5.
    pub const BANDS: usize = 32;

    /// MinHash of a set of feature hashes.
    fn of_features(features: &[u64]) -> Fingerprint {
        let mut hashes = [u32::MAX; HASHES];
        for &feature in features {
            for (slot, seed) in hashes.iter_mut().zip(SEEDS) {
                // The high half of a 64-bit mix is a well-spread 32-bit hash.
                let hash = (mix64(feature ^ seed) >> 32) as u32;
                *slot = (*slot).min(hash);
            }
        }
        Fingerprint { hashes }
    }

    /// One key per band: a hash of the band's index and its hashes. Texts that share any key are
    /// candidates for similarity; [`Fingerprint::similarity`] then ranks them. Empty fingerprints
    /// all have the same keys: leave them out of an index.
    pub fn band_keys(&self) -> [i64; Self::BANDS] {
        let mut keys = [0i64; Self::BANDS];
        for (band, key) in keys.iter_mut().enumerate() {
            let rows = &self.hashes[band * ROWS_PER_BAND..(band + 1) * ROWS_PER_BAND];
            let mut state = mix64(BAND_SALT ^ band as u64);
            for &row in rows {
                state = mix64(state ^ u64::from(row));
            }
            *key = state as i64;
        }
        keys
    }

    /// Estimated Jaccard similarity of the two texts' features, in `[0, 1]`: the fraction of equal
    /// hashes. 0 if either text had no features.
    pub fn similarity(&self, other: &Fingerprint) -> f32 {
        if self.is_empty() || other.is_empty() {
            return 0.0;
        }
        let equal = self
            .hashes
            .iter()
            .zip(&other.hashes)
            .filter(|(a, b)| a == b)
            .count();
        equal as f32 / HASHES as f32
    }

    /// The fingerprint as 257 bytes: a format version, then the hashes in little-endian order.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(ENCODED_LEN);
        bytes.push(FORMAT_VERSION);
        for hash in self.hashes {
            bytes.extend_from_slice(&hash.to_le_bytes());
        }
        bytes
    }

    /// Reads [`Fingerprint::to_bytes`]; `None` if the length or the format version differs (a
    /// fingerprint computed by another version must be computed again from the text).
    pub fn from_bytes(b: &[u8]) -> Option<Fingerprint> {
        let (&version, rest) = b.split_first()?;
        if version != FORMAT_VERSION || rest.len() != HASHES * 4 {
            return None;
        }
        let mut hashes = [0u32; HASHES];
        for (hash, chunk) in hashes.iter_mut().zip(rest.chunks_exact(4)) {
            *hash = u32::from_le_bytes(chunk.try_into().ok()?);
        }
        Some(Fingerprint { hashes })
    }

    /// Whether the text had no features (no words once stopwords and punctuation are gone).
    pub fn is_empty(&self) -> bool {
        self.hashes.iter().all(|&h| h == u32::MAX)
    }
}

/// Hash of a feature: one word, or a pair of words. `0xFF` (never in UTF-8) separates the words,
/// so a pair never collides with a word by construction.
fn feature_hash(words: &[&str]) -> u64 {
    // FNV-1a, then a mix to spread FNV's weak low bits.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, word) in words.iter().enumerate() {
        if i > 0 {
            hash = (hash ^ 0xFF).wrapping_mul(0x0100_0000_01b3);
        }
        for &byte in word.as_bytes() {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    mix64(hash)
}

/// The SplitMix64 output function: a bijection of `u64` with good avalanche.
const fn mix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Salt of the band keys, so that they differ from anything else hashed the same way.
const BAND_SALT: u64 = 0xb4d5_c0de_0000_0000;

/// One seed per hash function, fixed so fingerprints are stable across runs and machines.
const SEEDS: [u64; HASHES] = {
    let mut seeds = [0u64; HASHES];
    let mut i = 0;
    while i < HASHES {
        seeds[i] = mix64(0x5eed_0000_0000_0000 ^ i as u64);
        i += 1;
    }
    seeds
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_and_reject_foreign_data() {
        let fp = fingerprint("信用卡年费未经同意被扣除");
        let bytes = fp.to_bytes();
        assert_eq!(bytes.len(), ENCODED_LEN);
        assert_eq!(Fingerprint::from_bytes(&bytes), Some(fp));
        assert_eq!(Fingerprint::from_bytes(&bytes[..200]), None);
        assert_eq!(Fingerprint::from_bytes(&[]), None);
        let mut other_version = bytes.clone();
        other_version[0] = FORMAT_VERSION + 1;
        assert_eq!(Fingerprint::from_bytes(&other_version), None);
    }

    #[test]
    fn stable_across_runs() {
        // Pinned values: a change means stored fingerprints are stale and FORMAT_VERSION must
        // change with it.
        let fp = fingerprint("信用卡年费未经同意被扣除");
        assert_eq!(fp.hashes[..4], PINNED_HASHES);
        assert_eq!(fp.band_keys()[0], PINNED_FIRST_BAND_KEY);
    }

    const PINNED_HASHES: [u32; 4] = [32880707, 1266802371, 318570911, 346224621];
    const PINNED_FIRST_BAND_KEY: i64 = -2_498_458_796_070_069_164;

    #[test]
    fn empty_text_has_an_empty_fingerprint() {
        let fp = fingerprint(" 的了，。XXXX ");
        assert!(fp.is_empty());
        assert_eq!(fp.similarity(&fp), 0.0);
        assert!(!fingerprint("逾期").is_empty());
    }

    #[test]
    fn band_keys_differ_per_band() {
        let keys = fingerprint("银行卡被冻结无法转账").band_keys();
        let mut distinct = keys.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), Fingerprint::BANDS);
    }
}
