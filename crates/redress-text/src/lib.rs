//! The text pipeline behind search, similar complaints and incidents, for Chinese and English.
//!
//! * [`normalize`] (from the domain crate): width, case, traditional → simplified Chinese,
//!   quotes, whitespace; [`Normalized`] maps normalised offsets back to the original text.
//! * Search: [`index_tokens`] for the full-text index, [`SearchQuery`] for what a user types,
//!   [`matches()`] as the exact reference, [`snippet`] for highlighted result excerpts. The token
//!   contract below guarantees that a Chinese search finds every text containing the term,
//!   however a segmenter would have cut it.
//! * Words: [`Segmenter`] (jieba with a finance dictionary and stopwords), [`keywords`] to label
//!   groups of complaints.
//! * Similarity: [`fingerprint`] gives a MinHash [`Fingerprint`] whose band keys find candidate
//!   near-duplicates through an ordinary index.
//!
//! Pure: no SQL, no HTTP, no async, no randomness.
//!
//! # The search token contract
//!
//! The storage layer indexes the tokens of [`index_tokens`] (SQLite FTS5 with the `unicode61`
//! tokenizer, PostgreSQL `tsvector`) and searches with the phrases of [`SearchQuery`]: a document
//! matches when, for every term, the term's tokens occur at consecutive positions, the last one as
//! a prefix when [`QueryTerm::last_is_prefix`] is set.
//!
//! Text is normalised first ([`normalize`]: width, case, traditional → simplified, whitespace) and
//! split into runs of CJK characters and runs of other letters and digits; everything else
//! separates runs.
//!
//! * A letter/digit run is one token: `etc`, `12378`. Latin words therefore match whole words,
//!   not parts of words: `card` does not find `cards`.
//! * A CJK run `c1 c2 … cn` gives `n` tokens: the bigrams `c1c2, c2c3, …, c(n-1)cn` and then the
//!   single last character `cn`. `蚂蚁花呗` → `蚂蚁 蚁花 花呗 呗`.
//! * CFPB redactions (`XXXX`, `XX/XX/XXXX`, `{$XXXX}`: runs of two or more `x`) give no token.
//!
//! A query term is tokenised the same way, except at its end: a final CJK run of one character
//! becomes a prefix token (`A卡` finds `a卡片`, whose run goes on after `卡`), and a final CJK run
//! of two or more characters drops its single last character (`花呗` is the phrase `[花呗]`, which
//! finds `蚂蚁花呗借呗` whose run goes on after `呗`).
//!
//! This gives total recall of substrings: whenever the normalised document contains a term
//! (Latin words whole), the phrase matches. For terms made of CJK characters only the phrase
//! matches exactly when the term is a substring, whatever words a segmenter would have seen. A
//! term that mixes runs may also match where the document puts spaces or punctuation at a place
//! the term changes script (`A卡` also finds `a 卡`); [`matches()`] is the exact reference and can
//! filter such candidates out.
//!
//! Every token consists of `char::is_alphanumeric` characters only, so `unicode61` keeps each one
//! whole when the tokens are stored separated by spaces. (Its character tables are of an older
//! Unicode version: ideographs of the newest extension blocks, which complaints practically never
//! contain, may count as separators there.)
//!
//! Queries ([`SearchQuery::parse`]) have at most [`MAX_QUERY_TERMS`] terms and
//! [`MAX_QUERY_CHARS`] characters; a term needs at least [`MIN_TERM_CHARS`] letters, digits or
//! CJK characters, and a term with none (punctuation, `XXXX`) is skipped.

mod fingerprint;
mod script;
mod search;
mod segment;
mod snippet;

pub use redress_domain::classify::{Normalized, normalize};

pub use fingerprint::{Fingerprint, fingerprint, fingerprint_of_words};
pub use script::is_cjk;
pub use search::{
    MAX_QUERY_CHARS, MAX_QUERY_TERMS, MIN_TERM_CHARS, QueryError, QueryTerm, SearchQuery,
    index_tokens, matches,
};
pub use segment::{Segmenter, keywords, keywords_of_words, segmenter};
pub use snippet::{ELLIPSIS, Snippet, snippet};
