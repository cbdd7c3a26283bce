//! The analyser: one leftmost-longest scan over normalised text, then scoring.

use aho_corasick::{AhoCorasick, AhoCorasickKind, Input, MatchKind};
use redress_domain::classify::Normalized;

use crate::lexicon::{Entry, Lexicon, Role, Scoring};
use crate::{EmotionKind, EmotionReading, EmotionScores, Trigger};

/// Reads emotion from text with a [`Lexicon`]. Build it once and share it: it is immutable,
/// `Send + Sync`, and [`Analyzer::analyze`] takes `&self`.
#[derive(Debug, Clone)]
pub struct Analyzer {
    automaton: AhoCorasick,
    entries: Vec<Entry>,
    /// Units (Chinese characters, English words) in each entry's pattern.
    entry_units: Vec<u32>,
    scoring: Scoring,
}

impl Default for Analyzer {
    /// The analyser with the shipped lexicon.
    fn default() -> Self {
        Analyzer::new(Lexicon::builtin())
    }
}

/// An emotion phrase (or a cue) found in the text, before the final tally.
struct Hit {
    /// Normalised byte range.
    start: usize,
    end: usize,
    kind: EmotionKind,
    weight: f32,
    multiplier: f32,
    /// Contrast weighting.
    factor: f32,
    negated: bool,
    intensified: bool,
}

/// A negator or intensifier waiting for the phrase it modifies.
#[derive(Clone, Copy)]
struct Pending {
    /// Normalised byte range.
    start: usize,
    end: usize,
    /// Unit count when it ended.
    at: u32,
    /// What it counts as if it ends up modifying no phrase.
    cue: Option<(EmotionKind, f32)>,
    /// Contrast factor where it stood.
    factor: f32,
}

/// An intensifier waiting for the phrase it modifies.
#[derive(Clone, Copy)]
struct PendingIntensifier {
    pending: Pending,
    multiplier: f32,
    /// It came after a pending negator (不太), so it softens the negation rather than
    /// strengthening the phrase.
    after_negator: bool,
}

/// Scan state: the phrases found so far and what is pending in the current clause and sentence.
struct State {
    hits: Vec<Hit>,
    units: u32,
    negator: Option<Pending>,
    intensifier: Option<PendingIntensifier>,
    /// Index in `hits` of the first phrase of the current clause.
    clause_first: usize,
    /// Index in `hits` of the first phrase of the current sentence.
    sentence_first: usize,
    /// Contrast factor for phrases from here to the end of the sentence.
    factor: f32,
}

impl State {
    /// A modifier that found nothing to modify counts as its cue, if it has one.
    fn cue(&mut self, p: Pending) {
        if let Some((kind, weight)) = p.cue {
            self.hits.push(Hit {
                start: p.start,
                end: p.end,
                kind,
                weight,
                multiplier: 1.0,
                factor: p.factor,
                negated: false,
                intensified: false,
            });
        }
    }

    fn expire_negator(&mut self) {
        if let Some(p) = self.negator.take() {
            self.cue(p);
        }
    }

    fn expire_intensifier(&mut self) {
        if let Some(i) = self.intensifier.take() {
            self.cue(i.pending);
        }
    }

    fn end_clause(&mut self) {
        self.expire_negator();
        self.expire_intensifier();
        self.clause_first = self.hits.len();
    }

    fn end_sentence(&mut self) {
        self.end_clause();
        self.sentence_first = self.hits.len();
        self.factor = 1.0;
    }
}

impl Analyzer {
    /// Builds the automaton for `lexicon`.
    ///
    /// # Panics
    /// If the lexicon is too large for any automaton (far beyond hundreds of thousands of
    /// phrases).
    pub fn new(lexicon: Lexicon) -> Self {
        let Lexicon { entries, scoring } = lexicon;
        let patterns = || entries.iter().map(|e| e.pattern.as_str());
        let mut builder = AhoCorasick::builder();
        builder.match_kind(MatchKind::LeftmostLongest);
        // A DFA is the fastest to scan and the shipped lexicon fits easily; a much larger
        // lexicon falls back to whatever representation fits.
        let automaton = builder
            .kind(Some(AhoCorasickKind::DFA))
            .build(patterns())
            .or_else(|_| builder.kind(None).build(patterns()))
            .expect("the lexicon fits in an automaton");
        let entry_units = entries.iter().map(|e| count_units(&e.pattern)).collect();
        Analyzer {
            automaton,
            entries,
            entry_units,
            scoring,
        }
    }

    /// The scoring parameters in use.
    pub fn scoring(&self) -> &Scoring {
        &self.scoring
    }

    /// Reads the emotion of `text`.
    pub fn analyze(&self, text: &str) -> EmotionReading {
        let normal = Normalized::new(text);
        let hits = self.scan(normal.text());
        self.tally(text, &normal, hits)
    }

    /// Finds the emotion phrases and applies negators, intensifiers and contrast markers.
    fn scan(&self, t: &str) -> Vec<Hit> {
        let s = &self.scoring;
        let bytes = t.as_bytes();
        let mut st = State {
            hits: Vec::new(),
            units: 0,
            negator: None,
            intensifier: None,
            clause_first: 0,
            sentence_first: 0,
            factor: 1.0,
        };
        let mut gap_start = 0;
        let mut pos = 0;
        while pos < t.len() {
            let Some(m) = self.automaton.find(Input::new(t).span(pos..t.len())) else {
                break;
            };
            let id = m.pattern().as_usize();
            let entry = &self.entries[id];
            let (start, end) = (m.start(), m.end());
            let word_before = start > 0 && bytes[start - 1].is_ascii_alphanumeric();
            let word_after = end < bytes.len() && bytes[end].is_ascii_alphanumeric();
            if (entry.bound_start && word_before) || (entry.bound_end && word_after) {
                // Part of a longer English word ("no" in "know"): look again one character on.
                pos = start + t[start..].chars().next().map_or(1, char::len_utf8);
                continue;
            }
            // A stem with `*` ("disappoint*") covers the whole word it starts.
            let mut end = end;
            if word_after && entry.pattern.ends_with(|c: char| c.is_ascii_alphanumeric()) {
                while end < bytes.len()
                    && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'\'')
                {
                    end += 1;
                }
            }
            self.gap(t, gap_start, start, &mut st);
            let pending = |st: &State, cue| Pending {
                start,
                end,
                at: st.units,
                cue,
                factor: st.factor,
            };
            match entry.role {
                Role::Emotion { kind, weight } => {
                    let negated = match st.negator {
                        Some(n) if st.units - n.at <= s.negation_window => {
                            st.negator = None;
                            true
                        }
                        _ => {
                            st.expire_negator();
                            false
                        }
                    };
                    let mut multiplier = 1.0;
                    match st.intensifier {
                        Some(i) if st.units - i.pending.at <= s.intensifier_window => {
                            st.intensifier = None;
                            if !(negated && i.after_negator) {
                                multiplier = i.multiplier;
                            }
                        }
                        _ => st.expire_intensifier(),
                    }
                    st.hits.push(Hit {
                        start,
                        end,
                        kind,
                        weight,
                        multiplier: multiplier.min(s.max_multiplier),
                        factor: st.factor,
                        negated,
                        intensified: multiplier > 1.0,
                    });
                    st.units += self.entry_units[id];
                }
                Role::Intensifier {
                    multiplier,
                    backward: true,
                    ..
                } => {
                    // Exclamation marks close the sentence as well as the clause; words that
                    // intensify what precedes them (慢得要死) do not.
                    let closes = !entry.pattern.chars().any(char::is_alphanumeric);
                    if closes {
                        st.expire_negator();
                        st.expire_intensifier();
                    }
                    for h in &mut st.hits[st.clause_first..] {
                        h.multiplier = (h.multiplier * multiplier).min(s.max_multiplier);
                        h.intensified |= multiplier > 1.0;
                    }
                    if closes {
                        st.end_sentence();
                    }
                }
                Role::Intensifier {
                    multiplier,
                    backward: false,
                    cue,
                } => {
                    let after_negator = st
                        .negator
                        .is_some_and(|n| st.units - n.at <= s.negation_window);
                    let next = match st.intensifier {
                        // 真的非常: intensifiers in a row compound.
                        Some(p) if st.units - p.pending.at <= s.intensifier_window => {
                            PendingIntensifier {
                                pending: Pending {
                                    start: p.pending.start,
                                    ..pending(&st, cue.or(p.pending.cue))
                                },
                                multiplier: p.multiplier * multiplier,
                                after_negator: p.after_negator || after_negator,
                            }
                        }
                        _ => {
                            st.expire_intensifier();
                            PendingIntensifier {
                                pending: pending(&st, cue),
                                multiplier,
                                after_negator,
                            }
                        }
                    };
                    st.intensifier = Some(next);
                }
                Role::Negator { cue } => match st.negator {
                    // Two negators within reach cancel (没有不): the phrase is read as is.
                    Some(n) if st.units - n.at <= s.negation_window => st.negator = None,
                    _ => {
                        st.expire_negator();
                        st.negator = Some(pending(&st, cue));
                    }
                },
                Role::Contrast => {
                    st.end_clause();
                    for h in &mut st.hits[st.sentence_first..] {
                        h.factor *= s.contrast_before;
                    }
                    st.sentence_first = st.hits.len();
                    st.factor = s.contrast_after;
                }
                Role::Ignore => {
                    st.units += self.entry_units[id];
                }
            }
            gap_start = end;
            pos = end;
        }
        self.gap(t, gap_start, t.len(), &mut st);
        st.end_sentence();
        // Cues of expired modifiers are pushed when they expire, after phrases that follow them.
        st.hits.sort_by_key(|h| h.start);
        st.hits
    }

    /// Advances the state over text that matched nothing: counts units and ends clauses and
    /// sentences at punctuation.
    fn gap(&self, t: &str, from: usize, to: usize, st: &mut State) {
        if from >= to {
            return;
        }
        let gap = &t[from..to];
        let mut prev_word = from > 0 && t.as_bytes()[from - 1].is_ascii_alphanumeric();
        for (i, ch) in gap.char_indices() {
            match ch {
                '.' | '!' | '?' | '。' | '\n' | '？' | '！' => st.end_sentence(),
                ',' | ';' | ':' | '、' | '…' | '~' | '(' | ')' | '（' | '）' | '，' | '；'
                | '：' => st.end_clause(),
                ' ' => {
                    // Chinese writers often separate clauses with a space alone.
                    let before = t[..from + i].chars().next_back();
                    let after = t[from + i + 1..].chars().next();
                    if before.is_some_and(|c| !c.is_ascii()) || after.is_some_and(|c| !c.is_ascii())
                    {
                        st.end_clause();
                    }
                }
                c if c.is_ascii_alphanumeric() || c == '\'' => {
                    if !prev_word {
                        st.units += WORD_UNITS;
                    }
                }
                c if c.is_ascii() => {}
                _ => st.units += 1,
            }
            prev_word = ch.is_ascii_alphanumeric() || ch == '\'';
        }
    }

    /// Turns hits into triggers and the reading.
    fn tally(&self, original: &str, normal: &Normalized, hits: Vec<Hit>) -> EmotionReading {
        let s = &self.scoring;
        let mut scores = EmotionScores::default();
        let mut triggers = Vec::with_capacity(hits.len());
        for h in hits {
            let std::ops::Range { start, end } = normal.original_range(h.start..h.end);
            let phrase = &original[start..end];
            let mut multiplier = h.multiplier;
            let mut intensified = h.intensified;
            if is_all_caps(phrase) {
                multiplier = (multiplier * s.all_caps).min(s.max_multiplier);
                intensified |= s.all_caps > 1.0;
            }
            let (emotion, share) = match (h.negated, h.kind) {
                (false, kind) => (kind, 1.0),
                (true, EmotionKind::Satisfaction) => {
                    (EmotionKind::Disappointment, s.negated_positive)
                }
                (true, _) => (EmotionKind::Satisfaction, s.negated_negative),
            };
            let weight = h.weight * multiplier * h.factor * share;
            scores.add(emotion, weight);
            triggers.push(Trigger {
                phrase: phrase.to_owned(),
                start,
                end,
                emotion,
                weight,
                negated: h.negated,
                intensified,
            });
        }

        let (emotion, best) = EmotionKind::ALL[..5]
            .iter()
            .map(|&k| (k, scores.get(k)))
            .fold((EmotionKind::Neutral, 0.0f32), |acc, (k, v)| {
                if v > acc.1 { (k, v) } else { acc }
            });
        let (emotion, intensity) = if best >= s.min_score && best > 0.0 {
            (emotion, 1.0 - (-best / s.intensity_scale).exp())
        } else {
            (EmotionKind::Neutral, 0.0)
        };
        // Ratio of (1 + evidence) on each side: repeated praise or blame counts less and less,
        // and no evidence (or as much on each side) gives exactly 0.5.
        let negative = (1.0 + scores.negative()).powf(s.negative_slope);
        let positive = (1.0 + scores.satisfaction).powf(s.negative_slope);
        let negative_score = negative / (negative + positive);
        EmotionReading {
            emotion,
            intensity,
            negative_score,
            triggers,
            scores,
        }
    }
}

/// Units an English word counts for: a Chinese word is usually two characters, so reaches
/// measured in characters stay comparable across the two languages.
const WORD_UNITS: u32 = 2;

/// Units in a pattern: Chinese (non-ASCII) characters count one, English words two.
fn count_units(text: &str) -> u32 {
    let mut units = 0;
    let mut prev_word = false;
    for ch in text.chars() {
        let word = ch.is_ascii_alphanumeric() || ch == '\'';
        if word && !prev_word {
            units += WORD_UNITS;
        } else if !ch.is_ascii() && !ch.is_whitespace() {
            units += 1;
        }
        prev_word = word;
    }
    units
}

/// An English word or phrase written in capitals ("SCAM", "RIP OFF", full-width "ＳＣＡＭ"): at
/// least two letters, none lower-case, nothing but ASCII and full-width ASCII.
fn is_all_caps(text: &str) -> bool {
    text.chars()
        .all(|c| c.is_ascii() || ('\u{FF01}'..='\u{FF5E}').contains(&c))
        && text.chars().filter(|c| c.is_alphabetic()).count() >= 2
        && !text.chars().any(char::is_lowercase)
}
