//! One multi-phrase matcher over normalised text.
//!
//! Phrases are indexed by their first character, so a text is scanned once and at each position
//! only the phrases that can start there are compared. With a few hundred phrases this stays
//! linear in the text for practical purposes, without pulling in an automaton crate.

use std::collections::HashMap;

/// A phrase occurrence in normalised text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Occurrence {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) phrase: usize,
}

/// The occurrences that do not lie strictly inside a longer one, in start order. Sort-and-sweep,
/// so a long text with thousands of matches stays cheap.
pub(crate) fn outermost(mut occurrences: Vec<&Occurrence>) -> Vec<&Occurrence> {
    occurrences.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    let mut kept = Vec::with_capacity(occurrences.len());
    // Largest end among occurrences that start before the current start.
    let mut earlier_max_end = 0;
    let mut i = 0;
    while i < occurrences.len() {
        let start = occurrences[i].start;
        let group_max_end = occurrences[i].end;
        while i < occurrences.len() && occurrences[i].start == start {
            let o = occurrences[i];
            if earlier_max_end < o.end && group_max_end <= o.end {
                kept.push(o);
            }
            i += 1;
        }
        earlier_max_end = earlier_max_end.max(group_max_end);
    }
    kept
}

#[derive(Debug, Clone)]
struct Pattern {
    text: String,
    /// The phrase starts with an ASCII letter or digit, so it must not continue a word.
    bound_start: bool,
    /// The phrase ends with an ASCII letter or digit and has no trailing `*`.
    bound_end: bool,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct PhraseMatcher {
    patterns: Vec<Pattern>,
    ids: HashMap<(String, bool), usize>,
    ascii_first: Vec<Vec<usize>>,
    other_first: HashMap<char, Vec<usize>>,
}

impl PhraseMatcher {
    pub(crate) fn new() -> Self {
        PhraseMatcher {
            ascii_first: vec![Vec::new(); 128],
            ..PhraseMatcher::default()
        }
    }

    /// Adds a phrase that is already normalised (see [`super::normalize`]); a trailing `*` allows
    /// the match to continue into a longer word. Returns the phrase id (the same id for the same
    /// phrase), or `None` for an empty phrase.
    pub(crate) fn add(&mut self, normalised: &str) -> Option<usize> {
        let (text, wildcard) = match normalised.strip_suffix('*') {
            Some(stem) => (stem.trim(), true),
            None => (normalised.trim(), false),
        };
        let first = text.chars().next()?;
        let last = text.chars().next_back()?;
        let bound_end = last.is_ascii_alphanumeric() && !wildcard;
        let key = (text.to_owned(), bound_end);
        if let Some(&id) = self.ids.get(&key) {
            return Some(id);
        }
        let id = self.patterns.len();
        self.patterns.push(Pattern {
            text: text.to_owned(),
            bound_start: first.is_ascii_alphanumeric(),
            bound_end,
        });
        self.ids.insert(key, id);
        let bucket = if first.is_ascii() {
            &mut self.ascii_first[first as usize]
        } else {
            self.other_first.entry(first).or_default()
        };
        bucket.push(id);
        Some(id)
    }

    /// Every occurrence of every phrase, overlapping ones included, ordered by start.
    pub(crate) fn find_all(&self, text: &str) -> Vec<Occurrence> {
        let bytes = text.as_bytes();
        let mut found = Vec::new();
        for (pos, ch) in text.char_indices() {
            let bucket = if ch.is_ascii() {
                &self.ascii_first[ch as usize]
            } else {
                match self.other_first.get(&ch) {
                    Some(b) => b,
                    None => continue,
                }
            };
            if bucket.is_empty() {
                continue;
            }
            let after_word = pos > 0 && bytes[pos - 1].is_ascii_alphanumeric();
            let rest = &text[pos..];
            for &id in bucket {
                let p = &self.patterns[id];
                if p.bound_start && after_word {
                    continue;
                }
                if !rest.starts_with(p.text.as_str()) {
                    continue;
                }
                let end = pos + p.text.len();
                if p.bound_end && end < bytes.len() && bytes[end].is_ascii_alphanumeric() {
                    continue;
                }
                found.push(Occurrence {
                    start: pos,
                    end,
                    phrase: id,
                });
            }
        }
        found
    }
}

/// Whether `text[..at]` ends at a word boundary for an ASCII phrase starting at `at`.
pub(crate) fn starts_word(text: &str, at: usize) -> bool {
    at == 0 || !text.as_bytes()[at - 1].is_ascii_alphanumeric()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_boundaries_apply_to_ascii_edges_only() {
        let mut m = PhraseMatcher::new();
        let sue = m.add("sue").unwrap();
        let harass = m.add("harass*").unwrap();
        let atm = m.add("atm").unwrap();
        let card = m.add("信用卡").unwrap();
        let found = |t: &str| m.find_all(t).iter().map(|o| o.phrase).collect::<Vec<_>>();
        assert_eq!(found("an issue with pursue"), Vec::<usize>::new());
        assert_eq!(found("i will sue."), vec![sue]);
        assert_eq!(found("they harassed me"), vec![harass]);
        assert_eq!(found("atm机吞卡"), vec![atm]);
        assert_eq!(found("batman"), Vec::<usize>::new());
        assert_eq!(found("我的信用卡"), vec![card]);
    }

    #[test]
    fn outermost_drops_contained_matches_only() {
        let occ = |start, end| Occurrence {
            start,
            end,
            phrase: 0,
        };
        let all = [
            occ(0, 4),
            occ(2, 4),
            occ(0, 2),
            occ(3, 6),
            occ(8, 9),
            occ(8, 9),
        ];
        let kept: Vec<(usize, usize)> = outermost(all.iter().collect())
            .iter()
            .map(|o| (o.start, o.end))
            .collect();
        assert_eq!(kept, [(0, 4), (3, 6), (8, 9), (8, 9)]);
    }

    #[test]
    fn same_phrase_gets_same_id() {
        let mut m = PhraseMatcher::new();
        assert_eq!(m.add("fee"), m.add("fee"));
        assert_ne!(m.add("fee"), m.add("fee*"));
        assert_eq!(m.add(""), None);
        assert_eq!(m.add("*"), None);
    }
}
