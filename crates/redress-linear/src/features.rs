//! Text → hashed sparse features.

/// FNV-1a over the bytes, seeded by the feature kind, so that the same n-gram in two kinds
/// never collides by construction.
fn hash(kind: u8, parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ u64::from(kind);
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            h ^= 0x1f;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        for b in p.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F | 0x3040..=0x30FF | 0xAC00..=0xD7AF)
}

/// The words of a normalised text: runs of letters and digits; every CJK character is a word of
/// its own (n-grams over them rebuild the words).
fn words(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (i, c) in text.char_indices() {
        if is_cjk(c) {
            if let Some(s) = start.take() {
                out.push(&text[s..i]);
            }
            out.push(&text[i..i + c.len_utf8()]);
        } else if c.is_alphanumeric() || c == '\'' {
            if start.is_none() {
                start = Some(i);
            }
        } else if let Some(s) = start.take() {
            out.push(&text[s..i]);
        }
    }
    if let Some(s) = start {
        out.push(&text[s..]);
    }
    out
}

/// Raw feature hashes of a text, with repeats (the caller counts them).
pub fn hashes(text: &str, out: &mut Vec<u64>) {
    out.clear();
    let normalized = redress_domain::classify::normalize(text);
    let words = words(&normalized);
    for (i, w) in words.iter().enumerate() {
        out.push(hash(1, &[w]));
        if let Some(next) = words.get(i + 1) {
            out.push(hash(2, &[w, next]));
        }
        if let (Some(a), Some(b)) = (words.get(i + 1), words.get(i + 2)) {
            // Trigrams of single CJK characters are the three-character words of Chinese.
            if w.chars().count() == 1 && a.chars().count() == 1 && b.chars().count() == 1 {
                out.push(hash(3, &[w, a, b]));
            }
        }
        // Character n-grams inside a Latin word, with its boundaries marked: catch stems and
        // misspellings ("transfered", "transferring").
        let chars: Vec<char> = w.chars().collect();
        if chars.len() > 1 {
            let padded: Vec<char> = std::iter::once('<').chain(chars.iter().copied()).chain(std::iter::once('>')).collect();
            let mut buf = String::new();
            for n in 3..=5 {
                if padded.len() < n {
                    break;
                }
                for window in padded.windows(n) {
                    buf.clear();
                    buf.extend(window);
                    out.push(hash(10 + n as u8, &[&buf]));
                }
            }
        }
    }
}
