//! Total recall of the search tokens: every text that contains a term is found by phrase-matching
//! the term's tokens against the index tokens, checked against the reference matcher on the
//! project's own fixtures and on real Chinese reviews.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use redress_text::{QueryTerm, SearchQuery, index_tokens, matches, normalize};

/// A tiny full-text index: for each token, the (document, position) pairs where it occurs.
struct PhraseIndex {
    documents: Vec<Vec<String>>,
    postings: BTreeMap<String, Vec<(usize, usize)>>,
}

impl PhraseIndex {
    fn new<'a>(texts: impl IntoIterator<Item = &'a str>) -> Self {
        let documents: Vec<Vec<String>> = texts.into_iter().map(index_tokens).collect();
        let mut postings: BTreeMap<String, Vec<(usize, usize)>> = BTreeMap::new();
        for (doc, tokens) in documents.iter().enumerate() {
            for (pos, token) in tokens.iter().enumerate() {
                postings.entry(token.clone()).or_default().push((doc, pos));
            }
        }
        PhraseIndex {
            documents,
            postings,
        }
    }

    /// Documents matching every term of the query.
    fn search(&self, query: &SearchQuery) -> BTreeSet<usize> {
        let mut terms = query.terms.iter();
        let first = terms.next().expect("a parsed query has a term");
        let mut found = self.phrase(first);
        for term in terms {
            let docs = self.phrase(term);
            found.retain(|d| docs.contains(d));
        }
        found
    }

    /// Documents where the term's tokens occur at consecutive positions, the last one as a
    /// prefix if the term says so.
    fn phrase(&self, term: &QueryTerm) -> BTreeSet<usize> {
        let tokens = &term.tokens;
        let last = tokens.len() - 1;
        let token_matches = |i: usize, token: &str| {
            if i == last && term.last_is_prefix {
                token.starts_with(tokens[i].as_str())
            } else {
                token == tokens[i]
            }
        };
        let starts: Vec<(usize, usize)> = if last == 0 && term.last_is_prefix {
            self.postings
                .range(tokens[0].clone()..)
                .take_while(|(token, _)| token.starts_with(tokens[0].as_str()))
                .flat_map(|(_, p)| p.iter().copied())
                .collect()
        } else {
            self.postings.get(&tokens[0]).cloned().unwrap_or_default()
        };
        starts
            .into_iter()
            .filter(|&(doc, pos)| {
                let doc_tokens = &self.documents[doc];
                (1..=last).all(|i| {
                    doc_tokens
                        .get(pos + i)
                        .is_some_and(|token| token_matches(i, token))
                })
            })
            .map(|(doc, _)| doc)
            .collect()
    }
}

fn reference(texts: &[&str], query: &SearchQuery) -> BTreeSet<usize> {
    (0..texts.len())
        .filter(|&i| matches(texts[i], query))
        .collect()
}

fn fixture_lines() -> Vec<&'static str> {
    include_str!("fixtures/complaints.txt").lines().collect()
}

#[test]
fn fixtures_are_found_by_index_and_reference_alike() {
    let lines = fixture_lines();
    let index = PhraseIndex::new(lines.iter().copied());
    let cases: &[(&str, &[usize])] = &[
        ("花呗", &[0]),
        ("蚂蚁花呗借呗逾期", &[0]),
        ("ETC", &[1]),
        ("etc扣费", &[1]),
        ("扣费", &[1]),
        ("銀行卡", &[2, 3]),
        ("银行卡 冻结", &[2]),
        ("台湾", &[2]),
        ("ＡＴＭ", &[3]),
        ("atm机", &[3]),
        ("A卡", &[4]),
        ("a卡片", &[4]),
        ("年费", &[4]),
        ("\"credit card\"", &[5]),
        ("card", &[5]),
        ("2023", &[5]),
        ("1200", &[6]),
        ("征信", &[0, 7]),
        ("逾期 征信", &[0, 7]),
        ("全额退保", &[8]),
        ("拒赔", &[9]),
        ("业务员", &[9]),
        ("\"逾期 记录\"", &[7]),
    ];
    for &(q, expected) in cases {
        let query = SearchQuery::parse(q).unwrap_or_else(|e| panic!("{q}: {e}"));
        let expected: BTreeSet<usize> = expected.iter().copied().collect();
        assert_eq!(index.search(&query), expected, "index, query {q:?}");
        assert_eq!(
            reference(&lines, &query),
            expected,
            "reference, query {q:?}"
        );
    }
}

#[test]
fn index_candidates_that_the_reference_filters_out() {
    let lines = fixture_lines();
    let index = PhraseIndex::new(lines.iter().copied());
    // A space inside Chinese text ends a run for both: 逾期记录 is not found in "逾期 记录", whose
    // tokens have no bigram 期记.
    let query = SearchQuery::parse("逾期记录").unwrap();
    assert_eq!(index.search(&query), BTreeSet::new());
    assert_eq!(reference(&lines, &query), BTreeSet::new());
    // A term that changes script may find the change written with a space: a candidate that
    // `matches` removes.
    let spaced = ["a 卡片"];
    let query = SearchQuery::parse("A卡").unwrap();
    assert_eq!(PhraseIndex::new(spaced).search(&query), BTreeSet::from([0]));
    assert!(!matches(spaced[0], &query));
}

/// Cheap deterministic generator, so a failure can be replayed.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn is_han(c: char) -> bool {
    ('\u{4E00}'..='\u{9FFF}').contains(&c)
}

#[test]
fn total_recall_on_real_chinese_reviews() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/zh-reviews/neg.txt");
    let Ok(corpus) = std::fs::read_to_string(&path) else {
        eprintln!("skipped: {} is absent (shared real data)", path.display());
        return;
    };
    let lines: Vec<&str> = corpus
        .lines()
        .filter(|l| !l.trim().is_empty())
        .step_by(9)
        .take(2000)
        .collect();
    let index = PhraseIndex::new(lines.iter().copied());
    // The reference matcher on pre-normalised lines: the same as `matches`, without normalising
    // every line again for every query (checked on a sample below).
    let normalized: Vec<String> = lines.iter().map(|l| normalize(l)).collect();
    let reference_on_normalized = |query: &SearchQuery| -> BTreeSet<usize> {
        (0..lines.len())
            .filter(|&i| query.matches_normalized(&normalized[i]))
            .collect()
    };
    let chars: Vec<Vec<char>> = lines.iter().map(|l| l.chars().collect()).collect();
    let with_latin: Vec<usize> = (0..lines.len())
        .filter(|&i| chars[i].iter().any(|c| c.is_ascii_alphanumeric()))
        .collect();
    assert!(
        with_latin.len() > 100,
        "{} lines with Latin or digits",
        with_latin.len()
    );

    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    let (mut cjk_checked, mut mixed_checked, mut prefix_checked) = (0, 0, 0);
    while cjk_checked < 1000 {
        let line = rng.below(lines.len());
        let len = 2 + rng.below(5);
        if chars[line].len() < len {
            continue;
        }
        let start = rng.below(chars[line].len() - len + 1);
        let piece = &chars[line][start..start + len];
        if !piece.iter().all(|&c| is_han(c)) {
            continue;
        }
        let q: String = piece.iter().collect();
        let query = SearchQuery::parse(&q).unwrap_or_else(|e| panic!("{q}: {e}"));
        let expected = reference_on_normalized(&query);
        if cjk_checked % 100 == 0 {
            assert_eq!(expected, reference(&lines, &query), "{q:?}");
        }
        assert!(expected.contains(&line), "{q:?} is in line {line}");
        assert_eq!(index.search(&query), expected, "CJK-only query {q:?}");
        cjk_checked += 1;
    }
    let mut attempts = 0;
    while attempts < 1000 {
        attempts += 1;
        // A window of 2–6 characters around a Latin letter or digit.
        let line = with_latin[rng.below(with_latin.len())];
        let latin: Vec<usize> = (0..chars[line].len())
            .filter(|&i| chars[line][i].is_ascii_alphanumeric())
            .collect();
        let at = latin[rng.below(latin.len())];
        let len = (2 + rng.below(5)).min(chars[line].len());
        let start = at
            .saturating_sub(rng.below(len))
            .min(chars[line].len() - len);
        let q: String = chars[line][start..start + len].iter().collect();
        let Ok(query) = SearchQuery::parse(&q) else {
            continue;
        };
        prefix_checked += usize::from(query.terms.iter().any(|t| t.last_is_prefix));
        let expected = reference_on_normalized(&query);
        if mixed_checked % 100 == 0 {
            assert_eq!(expected, reference(&lines, &query), "{q:?}");
        }
        let found = index.search(&query);
        assert!(
            found.is_superset(&expected),
            "query {q:?} misses lines {:?}",
            expected.difference(&found).collect::<Vec<_>>()
        );
        mixed_checked += 1;
    }
    eprintln!(
        "{cjk_checked} CJK-only and {mixed_checked} mixed-script queries checked, \
         {prefix_checked} with a prefix token"
    );
    assert!(
        mixed_checked > 500,
        "only {mixed_checked} mixed-script queries parsed"
    );
    assert!(
        prefix_checked > 50,
        "only {prefix_checked} queries with a prefix token"
    );
}
