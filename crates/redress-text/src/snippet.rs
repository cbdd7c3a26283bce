//! Search-result snippets: a window of the original text with the query's terms highlighted.

use std::ops::Range;

use redress_domain::classify::Normalized;

use crate::search::{SearchQuery, occurrences};

/// Occurrences tried as the start of the window; beyond this the first ones are as good a choice.
const MAX_WINDOW_ANCHORS: usize = 256;

/// The marker put where a snippet cuts the text.
pub const ELLIPSIS: &str = "…";

/// A window of a text with the matches of a query marked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet {
    /// The window of the original text, with [`ELLIPSIS`] before and after it where it was cut.
    pub text: String,
    /// Byte ranges in `text` to highlight, in order, not overlapping, on character boundaries.
    pub highlights: Vec<Range<usize>>,
}

impl Snippet {
    /// The snippet as HTML: the text escaped, every highlight in `<mark>…</mark>`.
    pub fn to_html(&self) -> String {
        let mut html = String::with_capacity(self.text.len() + self.highlights.len() * 13);
        let mut pos = 0;
        for range in &self.highlights {
            escape_html_into(&self.text[pos..range.start], &mut html);
            html.push_str("<mark>");
            escape_html_into(&self.text[range.clone()], &mut html);
            html.push_str("</mark>");
            pos = range.end;
        }
        escape_html_into(&self.text[pos..], &mut html);
        html
    }

    /// The text with `open` before and `close` after every highlight, nothing escaped: for
    /// terminals (`"\x1b[1m"`, `"\x1b[0m"`) and plain-text reports (`"【"`, `"】"`).
    pub fn marked(&self, open: &str, close: &str) -> String {
        let mut out = String::with_capacity(
            self.text.len() + self.highlights.len() * (open.len() + close.len()),
        );
        let mut pos = 0;
        for range in &self.highlights {
            out.push_str(&self.text[pos..range.start]);
            out.push_str(open);
            out.push_str(&self.text[range.clone()]);
            out.push_str(close);
            pos = range.end;
        }
        out.push_str(&self.text[pos..]);
        out
    }
}

fn escape_html_into(text: &str, out: &mut String) {
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
}

/// A window of about `max_chars` characters of the ORIGINAL text around the first/best match,
/// every occurrence of every query term inside it highlighted, "…" where cut. None if no term
/// occurs.
///
/// The best window is the one, starting at an occurrence, that holds the most different terms;
/// among equals the earliest. The matches are then centred in it. Terms are found as
/// [`crate::matches()`] finds them, so `銀行卡` in the text is highlighted for the query `银行卡`
/// and `ＡＴＭ` for `atm`, as written. A match longer than `max_chars` is shown whole.
pub fn snippet(text: &str, query: &SearchQuery, max_chars: usize) -> Option<Snippet> {
    let normalized = Normalized::new(text);
    let haystack = normalized.text().replace('\n', " ");
    let mut found: Vec<(usize, Range<usize>)> = Vec::new();
    for (term_index, term) in query.terms.iter().enumerate() {
        found.extend(
            occurrences(&haystack, &term.text)
                .map(|range| (term_index, normalized.original_range(range))),
        );
    }
    if found.is_empty() {
        return None;
    }
    found.sort_by_key(|(term, range)| (range.start, range.end, *term));

    let chars = CharIndex::new(text);
    let window = best_window(&found, &chars, query.terms.len(), max_chars);
    let (start, end) = (chars.byte(window.start), chars.byte(window.end));

    let mut snippet_text = String::with_capacity(end - start + 2 * ELLIPSIS.len());
    if window.start > 0 {
        snippet_text.push_str(ELLIPSIS);
    }
    let offset = snippet_text.len();
    snippet_text.push_str(&text[start..end]);
    if window.end < chars.len() {
        snippet_text.push_str(ELLIPSIS);
    }

    let mut highlights: Vec<Range<usize>> = Vec::new();
    for (_, range) in found {
        if range.start < start || range.end > end {
            continue;
        }
        let range = range.start - start + offset..range.end - start + offset;
        match highlights.last_mut() {
            Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
            _ => highlights.push(range),
        }
    }
    Some(Snippet {
        text: snippet_text,
        highlights,
    })
}

/// Chooses the window, as a range of character indices of the original text.
fn best_window(
    found: &[(usize, Range<usize>)],
    chars: &CharIndex<'_>,
    term_count: usize,
    max_chars: usize,
) -> Range<usize> {
    // The window starting at occurrence `anchor`: its width and the character just past the last
    // occurrence it holds whole, and how many different terms those are.
    let measure = |anchor: usize| {
        let first = chars.char_at(found[anchor].1.start);
        let width = max_chars.max(chars.char_at(found[anchor].1.end) - first);
        let limit = first + width;
        let mut seen = vec![false; term_count];
        let mut covered_end = first;
        for (term, range) in &found[anchor..] {
            if chars.char_at(range.start) >= limit {
                break;
            }
            let end = chars.char_at(range.end);
            if end <= limit {
                seen[*term] = true;
                covered_end = covered_end.max(end);
            }
        }
        let distinct = seen.iter().filter(|&&s| s).count();
        (distinct, first, width, covered_end)
    };

    let mut best = measure(0);
    for anchor in 1..found.len().min(MAX_WINDOW_ANCHORS) {
        let candidate = measure(anchor);
        if candidate.0 > best.0 {
            best = candidate;
        }
    }
    let (_, first, width, covered_end) = best;

    // Centre the matches, then slide back from the end of the text if the window passes it.
    let slack = width - (covered_end - first);
    let mut start = first - (slack / 2).min(first);
    let end = (start + width).min(chars.len());
    if end - start < width {
        start = end.saturating_sub(width);
    }
    // A cut is shown with an ellipsis; spaces next to it would only look odd.
    let mut window = start..end;
    while window.start < first && chars.is_whitespace_at(window.start) {
        window.start += 1;
    }
    while window.end > covered_end && chars.is_whitespace_at(window.end - 1) {
        window.end -= 1;
    }
    window
}

/// Byte offsets of the characters of a text, to count in characters.
struct CharIndex<'a> {
    text: &'a str,
    /// The byte offset of every character, then the length of the text.
    starts: Vec<usize>,
}

impl<'a> CharIndex<'a> {
    fn new(text: &'a str) -> Self {
        let starts = text
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(text.len()))
            .collect();
        CharIndex { text, starts }
    }

    /// Number of characters.
    fn len(&self) -> usize {
        self.starts.len() - 1
    }

    /// The character index at byte offset `byte` (a character boundary).
    fn char_at(&self, byte: usize) -> usize {
        self.starts.partition_point(|&b| b < byte)
    }

    /// The byte offset of character `index` (or the text's length for `len()`).
    fn byte(&self, index: usize) -> usize {
        self.starts[index]
    }

    fn is_whitespace_at(&self, index: usize) -> bool {
        self.text[self.starts[index]..]
            .chars()
            .next()
            .is_some_and(char::is_whitespace)
    }
}
