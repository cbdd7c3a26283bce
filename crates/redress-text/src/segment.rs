//! Chinese word segmentation with a finance dictionary, stopwords, and keywords.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{OnceLock, RwLock};

use jieba_rs::Jieba;
use redress_domain::classify::normalize;

use crate::script::{RunKind, is_cjk, runs};

/// Words of the complaint domain (products, demands, institutions, regulators) in jieba's user
/// dictionary format, `word frequency tag`, so that jieba keeps them whole.
const FINANCE_DICTIONARY: &str = include_str!("../../../data/text/finance-dict.txt");

/// Chinese and English function words, one a line, `#` starting a comment line.
const STOPWORDS: &str = include_str!("../../../data/text/stopwords.txt");

/// Sum of the word frequencies of jieba's default dictionary: a word's frequency over it is the
/// word's probability in jieba's corpus.
const DICTIONARY_TOTAL_FREQUENCY: f64 = 60_101_964.0;

/// Bounds of a word's rarity (its self-information, `ln(total / frequency)`): the floor keeps
/// very common words from vanishing, the ceiling keeps names and typos that jieba has never seen
/// from outranking the words a text repeats.
const MIN_RARITY: f64 = 2.0;
const MAX_RARITY: f64 = 13.0;

/// Rarity given to words outside CJK scripts, for which jieba's corpus says nothing: about that of
/// a moderately rare Chinese word.
const NON_CJK_RARITY: f64 = 9.0;

/// Weight factor for the words of the finance dictionary: they name what a complaint is about.
const FINANCE_TERM_BOOST: f64 = 1.5;

/// Most words whose rarity is remembered. A text's vocabulary repeats across complaints, and
/// working a rarity out segments the word again; past this many distinct words the rest are
/// worked out each time rather than letting unusual input grow the memory without bound.
const RARITY_CACHE_WORDS: usize = 200_000;

/// Splits normalised text into words: jieba (its default dictionary plus a finance dictionary)
/// for Chinese, whole words for other scripts, without stopwords and redactions.
///
/// Loading the dictionaries takes a noticeable fraction of a second: use the shared instance from
/// [`segmenter`].
pub struct Segmenter {
    jieba: Jieba,
    stopwords: HashSet<String>,
    finance_terms: HashSet<String>,
    rarity: RwLock<HashMap<String, f64>>,
}

impl fmt::Debug for Segmenter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Segmenter")
            .field("jieba", &self.jieba)
            .field("stopwords", &self.stopwords.len())
            .field("finance_terms", &self.finance_terms.len())
            .finish()
    }
}

impl Default for Segmenter {
    fn default() -> Self {
        Self::new()
    }
}

/// The shared [`Segmenter`], loaded on first use.
pub fn segmenter() -> &'static Segmenter {
    static SEGMENTER: OnceLock<Segmenter> = OnceLock::new();
    SEGMENTER.get_or_init(Segmenter::new)
}

impl Segmenter {
    /// Loads jieba's default dictionary and the built-in finance dictionary and stopwords.
    pub fn new() -> Self {
        let mut jieba = Jieba::new();
        jieba
            .load_dict(&mut FINANCE_DICTIONARY.as_bytes())
            .expect("the built-in finance dictionary is well-formed");
        let finance_terms = FINANCE_DICTIONARY
            .lines()
            .filter_map(|line| line.split_whitespace().next())
            .map(normalize)
            .collect();
        let stopwords = STOPWORDS
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .map(normalize)
            .collect();
        Segmenter {
            jieba,
            stopwords,
            finance_terms,
            rarity: RwLock::new(HashMap::new()),
        }
    }

    /// The words of `text`, normalised (see [`normalize`]), in text order: jieba's words for
    /// Chinese (with its hidden Markov model for words not in the dictionaries, such as names),
    /// whole words for letters and digits of other scripts. Stopwords, redactions (`XXXX`),
    /// punctuation and whitespace are left out.
    ///
    /// ```
    /// let words = redress_text::segmenter().words("我的花唄逾期了，要求停息掛賬");
    /// assert_eq!(words, ["花呗", "逾期", "要求", "停息挂账"]);
    /// ```
    pub fn words(&self, text: &str) -> Vec<String> {
        let normalized = normalize(text);
        let mut words = Vec::new();
        for run in runs(&normalized) {
            match run.kind {
                RunKind::Word => {
                    if !run.is_redaction() && !self.is_stopword(run.text) {
                        words.push(run.text.to_owned());
                    }
                }
                RunKind::Cjk => {
                    for token in self.jieba.cut(run.text, true) {
                        if !self.is_stopword(token.word) {
                            words.push(token.word.to_owned());
                        }
                    }
                }
            }
        }
        words
    }

    /// Whether a normalised word is a stopword.
    pub fn is_stopword(&self, word: &str) -> bool {
        self.stopwords.contains(word)
    }

    /// Whether a normalised word is in the finance dictionary.
    pub fn is_finance_term(&self, word: &str) -> bool {
        self.finance_terms.contains(word)
    }

    /// How telling one occurrence of a normalised word is: its rarity in jieba's corpus, more for
    /// longer words and for finance terms.
    fn weight(&self, word: &str) -> f64 {
        let chars = word.chars().count();
        let rarity = if word.chars().all(is_cjk) {
            self.cjk_rarity(word)
        } else {
            NON_CJK_RARITY
        };
        let length = 1.0 + 0.25 * chars.saturating_sub(2).min(4) as f64;
        let domain = if self.is_finance_term(word) {
            FINANCE_TERM_BOOST
        } else {
            1.0
        };
        rarity * length * domain
    }

    /// The rarity of a Chinese word in jieba's corpus, remembered once worked out.
    fn cjk_rarity(&self, word: &str) -> f64 {
        if let Some(&rarity) = self.rarity.read().unwrap_or_else(|e| e.into_inner()).get(word) {
            return rarity;
        }
        let frequency = self.jieba.suggest_freq(word).max(1) as f64;
        let rarity = (DICTIONARY_TOTAL_FREQUENCY / frequency)
            .ln()
            .clamp(MIN_RARITY, MAX_RARITY);
        let mut cache = self.rarity.write().unwrap_or_else(|e| e.into_inner());
        if cache.len() < RARITY_CACHE_WORDS {
            cache.insert(word.to_owned(), rarity);
        }
        rarity
    }

    /// Whether a word may be a keyword: single characters and bare numbers (amounts, dates) say
    /// little about what a complaint is about, unless the number is a known one such as a
    /// regulator's hotline.
    fn is_keyword_candidate(&self, word: &str) -> bool {
        let mut chars = word.chars();
        if chars.next().is_none() || chars.next().is_none() {
            return false;
        }
        !word.chars().all(|c| c.is_numeric()) || self.is_finance_term(word)
    }
}

/// The most telling words of a text, best first, at most `limit`: each word's frequency in the
/// text times a weight that favours words that are rarer in general Chinese, longer, or finance
/// terms. Stopwords, single characters and bare numbers are left out; among equal scores the word
/// that appears first comes first.
///
/// ```
/// let words = redress_text::keywords("系统故障，按时还款却显示逾期，逾期记录还上了征信，要求删除逾期记录。", 3);
/// assert!(words.contains(&"逾期记录".to_owned()), "{words:?}");
/// ```
pub fn keywords(text: &str, limit: usize) -> Vec<String> {
    keywords_of_words(&segmenter().words(text), limit)
}

/// [`keywords`] of a text already segmented with [`Segmenter::words`].
pub fn keywords_of_words(words: &[String], limit: usize) -> Vec<String> {
    let segmenter = segmenter();
    // For each distinct word: its count and where it first appears.
    let mut stats: HashMap<&str, (usize, usize)> = HashMap::new();
    for (position, word) in words.iter().enumerate() {
        stats.entry(word.as_str()).or_insert((0, position)).0 += 1;
    }
    let mut scored: Vec<(f64, usize, &str)> = stats
        .into_iter()
        .filter(|(word, _)| segmenter.is_keyword_candidate(word))
        .map(|(word, (count, first))| (count as f64 * segmenter.weight(word), first, word))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    scored
        .into_iter()
        .take(limit)
        .map(|(_, _, word)| word.to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dictionaries_are_normalised_and_well_formed() {
        for line in FINANCE_DICTIONARY.lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(fields.len(), 3, "word frequency tag: {line:?}");
            assert_eq!(normalize(fields[0]), fields[0], "{line:?}");
            assert!(fields[1].parse::<usize>().is_ok_and(|f| f > 0), "{line:?}");
        }
        assert!(FINANCE_DICTIONARY.lines().count() >= 150);
        for line in STOPWORDS.lines().filter(|l| !l.starts_with('#')) {
            assert_eq!(normalize(line), line, "{line:?}");
            assert!(!line.is_empty() && !line.contains(' '), "{line:?}");
        }
        let s = segmenter();
        assert!(s.stopwords.len() >= 300, "{}", s.stopwords.len());
        assert!(s.is_stopword("的") && s.is_stopword("the"));
        assert!(s.is_finance_term("停息挂账") && s.is_finance_term("12378"));
    }

    #[test]
    fn finance_terms_stay_whole() {
        let s = segmenter();
        for term in [
            "停息挂账",
            "征信修复",
            "代理退保",
            "全额退保",
            "减免息费",
            "暴力催收",
            "销售误导",
            "代签名",
            "微粒贷",
            "金融监管总局",
            "招商银行",
            "年化利率",
            "保证保险",
        ] {
            let text = format!("我要求{term}处理");
            assert!(
                s.words(&text).contains(&term.to_owned()),
                "{term}: {:?}",
                s.words(&text)
            );
        }
    }

    #[test]
    fn words_normalise_and_drop_noise() {
        let s = segmenter();
        assert_eq!(
            s.words("The ＡＴＭ at XXXX swallowed my card on XX/XX/2023"),
            ["atm", "swallowed", "card", "2023"]
        );
        let words = s.words("招商銀行的信用卡被盜刷了5000元");
        assert_eq!(words, ["招商银行", "信用卡", "盗刷", "5000", "元"]);
    }

    #[test]
    fn keywords_rank_repeated_telling_words_first() {
        let text = "系统升级导致我按时还款却被显示逾期。逾期记录影响了征信，\
                    客服说系统问题，逾期会处理，但是征信上的逾期一直没有消除。";
        let top = keywords(text, 3);
        assert_eq!(top.len(), 3);
        assert_eq!(top[0], "逾期", "{top:?}");
        assert!(top.contains(&"征信".to_owned()), "{top:?}");
        for word in keywords(text, 20) {
            assert!(!segmenter().is_stopword(&word), "{word}");
            assert!(word.chars().count() >= 2, "{word}");
        }
        assert!(keywords(text, 0).is_empty());
        assert!(keywords("，。的了", 5).is_empty());
    }

    #[test]
    fn keyword_ties_keep_text_order() {
        assert_eq!(keywords("alpha bravo", 2), ["alpha", "bravo"]);
        assert_eq!(keywords("bravo alpha", 2), ["bravo", "alpha"]);
        // Amounts are no keywords; a regulator's hotline is.
        assert_eq!(keywords("call 12378 about 5000", 5), ["12378", "call"]);
    }
}
