//! The emotion lexicon: phrases with an emotion and a weight, intensifiers, negators, contrast
//! markers and phrases to ignore, plus the scoring parameters. It is data (TOML) so that a bank
//! can ship its own; the built-in one is `data/text/emotion.toml`.

use std::collections::HashMap;

use redress_domain::classify::normalize;
use serde::{Deserialize, Serialize};

use crate::EmotionKind;

/// The shipped lexicon, as TOML.
pub const SHIPPED_LEXICON: &str = include_str!("../../../data/text/emotion.toml");

/// Why a lexicon could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LexiconError {
    /// The text is not valid TOML or does not have the lexicon's shape.
    #[error("emotion lexicon: {0}")]
    Toml(#[from] toml::de::Error),
    /// The same phrase appears twice; the lexicon would be ambiguous.
    #[error("emotion lexicon: phrase {phrase:?} is listed twice ({first} and {second})")]
    Duplicate {
        /// The phrase as normalised.
        phrase: String,
        /// Where it was listed first.
        first: String,
        /// Where it was listed again.
        second: String,
    },
    /// A phrase is empty after normalisation.
    #[error("emotion lexicon: empty phrase in {section}")]
    EmptyPhrase {
        /// The section that holds it.
        section: String,
    },
    /// A number is negative, not finite, or otherwise out of its range.
    #[error("emotion lexicon: {field} = {value} is out of range ({expected})")]
    OutOfRange {
        /// The setting or section.
        field: String,
        /// The value given.
        value: f32,
        /// What is allowed.
        expected: &'static str,
    },
    /// `neutral` cannot carry weight; phrases that should not count belong under `[ignore]`.
    #[error("emotion lexicon: phrases cannot have emotion \"neutral\"; list them under [ignore]")]
    NeutralPhrase,
}

/// Scoring parameters. Every field has a default (the tuned built-in values), so a bank's
/// lexicon may leave out `[scoring]` or any part of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scoring {
    /// How far a negator reaches forward, in units: a Chinese character counts one, an English
    /// word two (a Chinese word is usually two characters); intensifiers in between do not
    /// count. Clause punctuation always ends its reach.
    pub negation_window: u32,
    /// How far an intensifier reaches forward, in the same units.
    pub intensifier_window: u32,
    /// Cap on the product of intensifier multipliers applying to one phrase.
    pub max_multiplier: f32,
    /// A negated positive phrase (不太满意) counts this share of its weight as disappointment.
    pub negated_positive: f32,
    /// A negated negative phrase (没有问题) counts this share of its weight as satisfaction.
    pub negated_negative: f32,
    /// Multiplier for phrases in the part of a sentence before a contrast marker (但是, but).
    pub contrast_before: f32,
    /// Multiplier for phrases after a contrast marker, to the end of the sentence.
    pub contrast_after: f32,
    /// Multiplier for an English phrase written in capitals (SCAM).
    pub all_caps: f32,
    /// Below this score the strongest emotion is reported as neutral.
    pub min_score: f32,
    /// Score at which intensity reaches `1 - 1/e` (about 0.63).
    pub intensity_scale: f32,
    /// Exponent k in `negative_score` = (1 + N)^k / ((1 + N)^k + (1 + P)^k), N and P the
    /// negative and positive evidence: higher is more decisive.
    pub negative_slope: f32,
}

impl Default for Scoring {
    fn default() -> Self {
        Scoring {
            negation_window: 4,
            intensifier_window: 2,
            max_multiplier: 3.0,
            negated_positive: 0.9,
            negated_negative: 0.3,
            contrast_before: 0.8,
            contrast_after: 1.2,
            all_caps: 1.5,
            min_score: 0.5,
            intensity_scale: 3.0,
            negative_slope: 1.0,
        }
    }
}

impl Scoring {
    fn validate(&self) -> Result<(), LexiconError> {
        let checks: [(&str, f32, f32, &'static str); 9] = [
            ("max_multiplier", self.max_multiplier, 1.0, ">= 1"),
            ("negated_positive", self.negated_positive, 0.0, ">= 0"),
            ("negated_negative", self.negated_negative, 0.0, ">= 0"),
            ("contrast_before", self.contrast_before, 0.0, ">= 0"),
            ("contrast_after", self.contrast_after, 0.0, ">= 0"),
            ("all_caps", self.all_caps, 0.0, ">= 0"),
            ("min_score", self.min_score, 0.0, ">= 0"),
            (
                "intensity_scale",
                self.intensity_scale,
                f32::MIN_POSITIVE,
                "> 0",
            ),
            (
                "negative_slope",
                self.negative_slope,
                f32::MIN_POSITIVE,
                "> 0",
            ),
        ];
        for (field, value, min, expected) in checks {
            if !value.is_finite() || value < min {
                return Err(LexiconError::OutOfRange {
                    field: format!("scoring.{field}"),
                    value,
                    expected,
                });
            }
        }
        Ok(())
    }
}

/// What a matched phrase does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Role {
    /// Evidence for an emotion.
    Emotion { kind: EmotionKind, weight: f32 },
    /// Multiplies the next emotion phrase (forward) or the phrases of the clause it closes
    /// (backward, for punctuation such as `!!!`). With a cue, an intensifier that modifies no
    /// phrase counts as that evidence (太重: "too" anything is a complaint).
    Intensifier {
        multiplier: f32,
        backward: bool,
        cue: Option<(EmotionKind, f32)>,
    },
    /// Flips or dampens the next emotion phrase within its reach. With a cue, a negator that
    /// negates no phrase counts as that evidence (没有收到, 不能用).
    Negator { cue: Option<(EmotionKind, f32)> },
    /// Weights the rest of the sentence more and what came before less.
    Contrast,
    /// Matched only so that a shorter phrase inside it does not fire (好像 hides 好).
    Ignore,
}

impl Role {
    fn describe(&self) -> String {
        match self {
            Role::Emotion { kind, weight } => format!("{} {weight}", kind.as_str()),
            Role::Intensifier { .. } => "intensifiers".into(),
            Role::Negator { .. } => "negators".into(),
            Role::Contrast => "contrast".into(),
            Role::Ignore => "ignore".into(),
        }
    }
}

/// One pattern of the lexicon, normalised.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// The normalised phrase without a trailing `*`.
    pub(crate) pattern: String,
    /// The phrase starts with an ASCII letter or digit, so it must not continue a word.
    pub(crate) bound_start: bool,
    /// The phrase ends with an ASCII letter or digit and had no trailing `*`, so the word must
    /// end with it.
    pub(crate) bound_end: bool,
    pub(crate) role: Role,
}

/// A loaded emotion lexicon. Build an [`crate::Analyzer`] from it.
#[derive(Debug, Clone)]
pub struct Lexicon {
    pub(crate) entries: Vec<Entry>,
    pub(crate) scoring: Scoring,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLexicon {
    #[serde(default)]
    scoring: Scoring,
    #[serde(default)]
    phrases: Vec<RawPhrases>,
    #[serde(default)]
    intensifiers: Vec<RawIntensifiers>,
    #[serde(default)]
    negators: Vec<RawModifiers>,
    #[serde(default)]
    contrast: RawTerms,
    #[serde(default)]
    ignore: RawTerms,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPhrases {
    emotion: EmotionKind,
    weight: f32,
    terms: Vec<String>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
enum AppliesTo {
    #[default]
    Following,
    Preceding,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIntensifiers {
    multiplier: f32,
    #[serde(default)]
    applies_to: AppliesTo,
    cue: Option<RawCue>,
    terms: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModifiers {
    cue: Option<RawCue>,
    terms: Vec<String>,
}

/// Evidence a modifier gives when it modifies no phrase.
#[derive(Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
struct RawCue {
    emotion: EmotionKind,
    weight: f32,
}

impl RawCue {
    fn check(
        cue: Option<RawCue>,
        section: &str,
    ) -> Result<Option<(EmotionKind, f32)>, LexiconError> {
        let Some(cue) = cue else { return Ok(None) };
        if cue.emotion == EmotionKind::Neutral {
            return Err(LexiconError::NeutralPhrase);
        }
        check_number(&format!("{section}.cue.weight"), cue.weight, 0.0, ">= 0")?;
        Ok(Some((cue.emotion, cue.weight)))
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTerms {
    terms: Vec<String>,
}

impl Lexicon {
    /// Parses a lexicon in the format of `data/text/emotion.toml`.
    ///
    /// Phrases are normalised like complaint text (full/half width, case), so they may be
    /// written either way. A trailing `*` lets an English phrase match the start of a longer
    /// word (`disappoint*`). A phrase may appear only once in the whole file.
    pub fn from_toml(text: &str) -> Result<Self, LexiconError> {
        let raw: RawLexicon = toml::from_str(text)?;
        raw.scoring.validate()?;
        let mut entries = Vec::new();
        let mut seen: HashMap<String, String> = HashMap::new();
        let mut add = |term: &str, role: Role| -> Result<(), LexiconError> {
            let normalised = normalize(term.trim());
            let (stem, wildcard) = match normalised.strip_suffix('*') {
                Some(stem) => (stem.trim_end(), true),
                None => (normalised.as_str(), false),
            };
            let (Some(first), Some(last)) = (stem.chars().next(), stem.chars().next_back()) else {
                return Err(LexiconError::EmptyPhrase {
                    section: role.describe(),
                });
            };
            let key = if wildcard {
                format!("{stem}*")
            } else {
                stem.to_owned()
            };
            if let Some(first) = seen.get(&key) {
                return Err(LexiconError::Duplicate {
                    phrase: key,
                    first: first.clone(),
                    second: role.describe(),
                });
            }
            seen.insert(key, role.describe());
            entries.push(Entry {
                pattern: stem.to_owned(),
                bound_start: first.is_ascii_alphanumeric(),
                bound_end: last.is_ascii_alphanumeric() && !wildcard,
                role,
            });
            Ok(())
        };

        for group in &raw.phrases {
            if group.emotion == EmotionKind::Neutral {
                return Err(LexiconError::NeutralPhrase);
            }
            check_number("phrases.weight", group.weight, 0.0, ">= 0")?;
            for term in &group.terms {
                add(
                    term,
                    Role::Emotion {
                        kind: group.emotion,
                        weight: group.weight,
                    },
                )?;
            }
        }
        for group in &raw.intensifiers {
            check_number("intensifiers.multiplier", group.multiplier, 0.0, ">= 0")?;
            let backward = group.applies_to == AppliesTo::Preceding;
            let cue = RawCue::check(group.cue, "intensifiers")?;
            for term in &group.terms {
                add(
                    term,
                    Role::Intensifier {
                        multiplier: group.multiplier,
                        backward,
                        cue,
                    },
                )?;
            }
        }
        for group in &raw.negators {
            let cue = RawCue::check(group.cue, "negators")?;
            for term in &group.terms {
                add(term, Role::Negator { cue })?;
            }
        }
        for term in &raw.contrast.terms {
            add(term, Role::Contrast)?;
        }
        for term in &raw.ignore.terms {
            add(term, Role::Ignore)?;
        }
        Ok(Lexicon {
            entries,
            scoring: raw.scoring,
        })
    }

    /// The lexicon shipped with Redress (`data/text/emotion.toml`).
    pub fn builtin() -> Self {
        Lexicon::from_toml(SHIPPED_LEXICON).expect("the shipped emotion lexicon is valid")
    }

    /// The scoring parameters.
    pub fn scoring(&self) -> &Scoring {
        &self.scoring
    }

    /// Replaces the scoring parameters, e.g. to try other values on an evaluation set.
    pub fn set_scoring(&mut self, scoring: Scoring) -> Result<(), LexiconError> {
        scoring.validate()?;
        self.scoring = scoring;
        Ok(())
    }

    /// Number of patterns (emotion phrases, intensifiers, negators, contrast markers, ignored
    /// phrases).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the lexicon has no patterns at all.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The emotion phrases with their emotion and weight, normalised, a trailing `*` kept.
    pub fn emotion_phrases(&self) -> impl Iterator<Item = (String, EmotionKind, f32)> + '_ {
        self.entries.iter().filter_map(|e| match e.role {
            Role::Emotion { kind, weight } => {
                let wildcard = !e.bound_end
                    && e.pattern
                        .chars()
                        .next_back()
                        .is_some_and(|c| c.is_ascii_alphanumeric());
                let phrase = if wildcard {
                    format!("{}*", e.pattern)
                } else {
                    e.pattern.clone()
                };
                Some((phrase, kind, weight))
            }
            _ => None,
        })
    }
}

fn check_number(
    field: &str,
    value: f32,
    min: f32,
    expected: &'static str,
) -> Result<(), LexiconError> {
    if value.is_finite() && value >= min {
        Ok(())
    } else {
        Err(LexiconError::OutOfRange {
            field: field.to_owned(),
            value,
            expected,
        })
    }
}
