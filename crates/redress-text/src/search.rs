//! Full-text search tokens, query parsing and the reference matcher; the token contract is set
//! out in the crate documentation.

use std::borrow::Cow;

use redress_domain::classify::normalize;

use crate::script::{RunKind, is_word_char, runs};

/// Most terms a query may have.
pub const MAX_QUERY_TERMS: usize = 16;
/// Most characters a query may have.
pub const MAX_QUERY_CHARS: usize = 200;
/// Fewest letters, digits or CJK characters a term must have: one character finds too much to be
/// useful and makes a slow prefix search.
pub const MIN_TERM_CHARS: usize = 2;

/// Tokens of one field for the full-text index, in text order.
///
/// ```
/// assert_eq!(redress_text::index_tokens("蚂蚁花呗"), ["蚂蚁", "蚁花", "花呗", "呗"]);
/// assert_eq!(redress_text::index_tokens("ＥＴＣ扣費 on XX/XX/2023"), ["etc", "扣费", "费", "on", "2023"]);
/// ```
pub fn index_tokens(text: &str) -> Vec<String> {
    let normalized = normalize(text);
    let mut tokens = Vec::new();
    for run in runs(&normalized) {
        match run.kind {
            RunKind::Word if run.is_redaction() => {}
            RunKind::Word => tokens.push(run.text.to_owned()),
            RunKind::Cjk => push_cjk_tokens(run.text, true, &mut tokens),
        }
    }
    tokens
}

/// Pushes the bigrams of a CJK run and, if `with_last_char`, its last character.
fn push_cjk_tokens(run: &str, with_last_char: bool, tokens: &mut Vec<String>) {
    let mut chars = run.char_indices().peekable();
    while let Some((start, _)) = chars.next() {
        match chars.peek() {
            Some(&(next_start, next)) => {
                tokens.push(run[start..next_start + next.len_utf8()].to_owned());
            }
            None if with_last_char => tokens.push(run[start..].to_owned()),
            None => {}
        }
    }
}

/// A parsed search: every term must match (AND).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    /// The terms, in the order typed, without duplicates.
    pub terms: Vec<QueryTerm>,
}

/// One term of a [`SearchQuery`]: a whitespace-separated word or a double-quoted string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryTerm {
    /// The normalised term, without leading and trailing punctuation.
    pub text: String,
    /// A phrase: tokens that must occur at consecutive positions of the index.
    pub tokens: Vec<String>,
    /// Whether the last token only has to be the start of an indexed token.
    pub last_is_prefix: bool,
}

/// Why a search query cannot be run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// Nothing searchable was typed.
    #[error("enter a word to search for")]
    Empty,
    /// A term of one character.
    #[error("\"{term}\" is too short to search for: use at least {MIN_TERM_CHARS} characters")]
    TooShort {
        /// The term as typed.
        term: String,
    },
    /// Too many terms.
    #[error("too many search words: use at most {max}")]
    TooManyTerms {
        /// The most terms allowed.
        max: usize,
    },
    /// The query is too long.
    #[error("the search is too long: use at most {max_chars} characters")]
    TooLong {
        /// The most characters allowed.
        max_chars: usize,
    },
}

impl SearchQuery {
    /// Parses what a user typed into the search box.
    ///
    /// Terms are separated by whitespace; a double-quoted string (`"credit card"`, also with
    /// typographic or full-width quotes) is one term, and an unclosed quote runs to the end.
    /// Terms with nothing searchable (punctuation, redaction placeholders such as `XXXX`) are
    /// skipped, and a repeated term counts once.
    ///
    /// ```
    /// use redress_text::SearchQuery;
    ///
    /// let query = SearchQuery::parse("花唄 “A卡”").unwrap();
    /// assert_eq!(query.terms[0].tokens, ["花呗"]);
    /// assert_eq!(query.terms[1].tokens, ["a", "卡"]);
    /// assert!(query.terms[1].last_is_prefix);
    /// ```
    pub fn parse(q: &str) -> Result<SearchQuery, QueryError> {
        if q.chars().count() > MAX_QUERY_CHARS {
            return Err(QueryError::TooLong {
                max_chars: MAX_QUERY_CHARS,
            });
        }
        let mut terms: Vec<QueryTerm> = Vec::new();
        for raw in split_terms(q) {
            let Some(term) = QueryTerm::parse(raw)? else {
                continue;
            };
            if !terms.iter().any(|t| t.text == term.text) {
                terms.push(term);
            }
        }
        if terms.is_empty() {
            return Err(QueryError::Empty);
        }
        if terms.len() > MAX_QUERY_TERMS {
            return Err(QueryError::TooManyTerms {
                max: MAX_QUERY_TERMS,
            });
        }
        Ok(SearchQuery { terms })
    }
}

impl QueryTerm {
    /// Parses one term; `None` if it has nothing searchable.
    fn parse(raw: &str) -> Result<Option<QueryTerm>, QueryError> {
        let normalized = normalize(raw);
        let text = normalized.trim_matches(|c: char| !c.is_alphanumeric());
        let (tokens, last_is_prefix) = query_tokens(text);
        if tokens.is_empty() {
            return Ok(None);
        }
        if text.chars().filter(|c| c.is_alphanumeric()).count() < MIN_TERM_CHARS {
            return Err(QueryError::TooShort {
                term: raw.trim().to_owned(),
            });
        }
        Ok(Some(QueryTerm {
            text: text.to_owned(),
            tokens,
            last_is_prefix,
        }))
    }
}

/// The phrase of a normalised term and whether its last token is a prefix.
fn query_tokens(term: &str) -> (Vec<String>, bool) {
    let term_runs: Vec<_> = runs(term).collect();
    let mut tokens = Vec::new();
    let mut last_is_prefix = false;
    for (i, run) in term_runs.iter().enumerate() {
        let is_last = i + 1 == term_runs.len();
        match run.kind {
            RunKind::Word if run.is_redaction() => {}
            RunKind::Word => tokens.push(run.text.to_owned()),
            // The document's run may go on after the term ends: a lone last character can only
            // be required as the start of a token, and after a bigram the last character adds
            // nothing (it is the bigram's second half).
            RunKind::Cjk if is_last && run.text.chars().nth(1).is_none() => {
                tokens.push(run.text.to_owned());
                last_is_prefix = true;
            }
            RunKind::Cjk => push_cjk_tokens(run.text, !is_last, &mut tokens),
        }
    }
    (tokens, last_is_prefix)
}

/// Whether `ch` opens or closes a quoted term.
fn is_quote(ch: char) -> bool {
    matches!(ch, '"' | '\u{201C}' | '\u{201D}' | '\u{FF02}')
}

/// Splits a raw query into raw terms: whitespace separates, quotes group.
fn split_terms(q: &str) -> Vec<&str> {
    let mut terms = Vec::new();
    let mut in_quotes = false;
    let mut start: Option<usize> = None;
    for (i, ch) in q.char_indices() {
        let ends_term = if in_quotes {
            is_quote(ch)
        } else {
            ch.is_whitespace() || is_quote(ch)
        };
        if ends_term {
            if let Some(s) = start.take() {
                terms.push(&q[s..i]);
            }
            if is_quote(ch) {
                in_quotes = !in_quotes;
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        terms.push(&q[s..]);
    }
    terms
}

/// Reference semantics (slow): does `text` match the query?
///
/// Every term must occur in the normalised text (any whitespace matching any whitespace); where
/// the term begins or ends with a letter or digit of a non-CJK script, the text must not continue
/// the word there (Latin words match whole words, like the index). This is independent of the
/// token machinery, which it bounds: a document matching here always matches the index phrases.
pub fn matches(text: &str, query: &SearchQuery) -> bool {
    query.matches_normalized(&normalize(text))
}

impl SearchQuery {
    /// [`matches()`] for text that is already normalised (the output of [`normalize`]): to check
    /// many queries against the same text, normalise it once.
    pub fn matches_normalized(&self, normalized_text: &str) -> bool {
        let haystack: Cow<'_, str> = if normalized_text.contains('\n') {
            Cow::Owned(normalized_text.replace('\n', " "))
        } else {
            Cow::Borrowed(normalized_text)
        };
        self.terms
            .iter()
            .all(|term| occurrences(&haystack, &term.text).next().is_some())
    }
}

/// Byte ranges of the occurrences of the normalised `term` in `haystack` (normalised text with
/// every newline replaced by a space), including overlapping ones, with whole-word edges for
/// words.
pub(crate) fn occurrences<'a>(
    haystack: &'a str,
    term: &str,
) -> impl Iterator<Item = std::ops::Range<usize>> + 'a {
    let term = term.replace('\n', " ");
    let needs_word_start = term.chars().next().is_some_and(is_word_char);
    let needs_word_end = term.chars().next_back().is_some_and(is_word_char);
    let mut from = 0;
    std::iter::from_fn(move || {
        if term.is_empty() {
            return None;
        }
        while let Some(offset) = haystack.get(from..).and_then(|rest| rest.find(&term)) {
            let start = from + offset;
            let end = start + term.len();
            let first_len = haystack[start..].chars().next().map_or(1, char::len_utf8);
            from = start + first_len;
            let starts_word = !needs_word_start
                || !haystack[..start]
                    .chars()
                    .next_back()
                    .is_some_and(is_word_char);
            let ends_word =
                !needs_word_end || !haystack[end..].chars().next().is_some_and(is_word_char);
            if starts_word && ends_word {
                return Some(start..end);
            }
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(q: &str) -> QueryTerm {
        let query = SearchQuery::parse(q).unwrap();
        assert_eq!(query.terms.len(), 1, "{q}");
        query.terms.into_iter().next().unwrap()
    }

    #[test]
    fn index_tokens_follow_the_contract() {
        assert_eq!(index_tokens("蚂蚁花呗"), ["蚂蚁", "蚁花", "花呗", "呗"]);
        assert_eq!(index_tokens("卡"), ["卡"]);
        assert_eq!(index_tokens("ETC扣费"), ["etc", "扣费", "费"]);
        assert_eq!(index_tokens("Call 12378!"), ["call", "12378"]);
        assert_eq!(index_tokens("銀行卡"), ["银行", "行卡", "卡"]);
        assert_eq!(
            index_tokens("On XX/XX/XXXX I paid {$XXXX} to account XXXX1234, xx"),
            ["on", "i", "paid", "to", "account", "xxxx1234"]
        );
        assert!(index_tokens("  ，。!? ").is_empty());
        for token in index_tokens("混合 text、かな・한국어 ½ café") {
            assert!(token.chars().all(char::is_alphanumeric), "{token}");
        }
    }

    #[test]
    fn query_terms_drop_or_prefix_the_last_cjk_char() {
        let t = term("花呗");
        assert_eq!(
            (t.tokens, t.last_is_prefix),
            (vec!["花呗".to_owned()], false)
        );
        let t = term("蚂蚁花呗");
        assert_eq!(t.tokens, ["蚂蚁", "蚁花", "花呗"]);
        let t = term("A卡");
        assert_eq!(
            (t.text.as_str(), t.tokens, t.last_is_prefix),
            ("a卡", vec!["a".to_owned(), "卡".to_owned()], true)
        );
        // A CJK run followed by Latin keeps its last character: the document's run ends there too.
        let t = term("扣费ETC");
        assert_eq!(
            (t.tokens, t.last_is_prefix),
            (
                vec!["扣费".to_owned(), "费".to_owned(), "etc".to_owned()],
                false
            )
        );
        let t = term("ETC");
        assert_eq!(
            (t.tokens, t.last_is_prefix),
            (vec!["etc".to_owned()], false)
        );
        let t = term("“信用卡，逾期”");
        assert_eq!(t.text, "信用卡,逾期");
        assert_eq!(t.tokens, ["信用", "用卡", "卡", "逾期"]);
    }

    #[test]
    fn parse_splits_quotes_and_skips_noise() {
        let q = SearchQuery::parse(r#" 逾期  "credit card" XXXX -- 逾期 "#).unwrap();
        let texts: Vec<_> = q.terms.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(texts, ["逾期", "credit card"]);
        assert_eq!(q.terms[1].tokens, ["credit", "card"]);
        let q = SearchQuery::parse("ab\"unclosed quote").unwrap();
        let texts: Vec<_> = q.terms.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(texts, ["ab", "unclosed quote"]);
    }

    #[test]
    fn parse_errors() {
        assert_eq!(SearchQuery::parse(""), Err(QueryError::Empty));
        assert_eq!(SearchQuery::parse("  。， XXXX "), Err(QueryError::Empty));
        assert_eq!(
            SearchQuery::parse("信用卡 卡"),
            Err(QueryError::TooShort { term: "卡".into() })
        );
        assert_eq!(
            SearchQuery::parse("a."),
            Err(QueryError::TooShort { term: "a.".into() })
        );
        let many: Vec<String> = (0..17).map(|i| format!("w{i}")).collect();
        assert_eq!(
            SearchQuery::parse(&many.join(" ")),
            Err(QueryError::TooManyTerms {
                max: MAX_QUERY_TERMS
            })
        );
        assert!(SearchQuery::parse(&many[..16].join(" ")).is_ok());
        assert_eq!(
            SearchQuery::parse(&"信".repeat(201)),
            Err(QueryError::TooLong {
                max_chars: MAX_QUERY_CHARS
            })
        );
        assert!(SearchQuery::parse(&"信".repeat(200)).is_ok());
        assert_eq!(
            QueryError::TooShort { term: "卡".into() }.to_string(),
            "\"卡\" is too short to search for: use at least 2 characters"
        );
    }

    #[test]
    fn reference_matching() {
        let q = |s: &str| SearchQuery::parse(s).unwrap();
        assert!(matches("蚂蚁花呗借呗逾期", &q("花呗")));
        assert!(matches("蚂蚁花呗借呗逾期", &q("花呗 逾期")));
        assert!(!matches("蚂蚁花呗借呗", &q("花呗 逾期")));
        assert!(matches("ETC扣费", &q("etc")));
        assert!(!matches("my cards", &q("card")));
        assert!(matches("the card, again", &q("CARD")));
        assert!(matches("credit\n card", &q("\"credit card\"")));
        assert!(matches("臺灣銀行卡", &q("台湾")));
        // An occurrence overlapping one that is not a whole word still counts.
        assert!(matches("ba-a-a", &q("\"a-a\"")));
        assert!(!matches("ba-ab", &q("\"a-a\"")));
    }

    #[test]
    fn occurrences_report_every_whole_word() {
        let hay = normalize("Card cards CARD");
        let found: Vec<_> = occurrences(&hay, "card").collect();
        assert_eq!(found, [0..4, 11..15]);
        let hay = normalize("花花花");
        assert_eq!(occurrences(&hay, "花花").count(), 2);
    }
}
