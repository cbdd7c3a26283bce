//! Character classes and the runs that every tokeniser in this crate splits normalised text into.

/// What a run of characters is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RunKind {
    /// Han ideographs, kana or hangul: text written without spaces between words.
    Cjk,
    /// Letters and digits of every other script: a word delimited by anything else.
    Word,
}

/// A maximal stretch of characters of one [`RunKind`] in normalised text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Run<'a> {
    pub(crate) kind: RunKind,
    pub(crate) text: &'a str,
    /// Byte offset of the run in the text it was taken from.
    pub(crate) start: usize,
}

impl Run<'_> {
    /// A CFPB redaction (`XXXX`, the pieces of `XX/XX/XXXX`, `{$XXXX}`): it carries no content.
    pub(crate) fn is_redaction(&self) -> bool {
        self.kind == RunKind::Word && is_redaction(self.text)
    }
}

/// Whether a word is a redaction placeholder: two or more `x` and nothing else, as the CFPB
/// writes them (already lower-cased by normalisation).
pub(crate) fn is_redaction(word: &str) -> bool {
    word.len() >= 2 && word.bytes().all(|b| b == b'x')
}

/// Whether `ch` belongs to a [`RunKind::Cjk`] run: a letter or number of the Han, kana or hangul
/// blocks. Punctuation and marks inside those blocks (`、`, `〃`, `゛`) separate runs instead.
pub fn is_cjk(ch: char) -> bool {
    let code = ch as u32;
    let in_block = matches!(
        code,
        0x1100..=0x11FF // Hangul Jamo
            | 0x3005..=0x3007 // 々 〆 〇
            | 0x3021..=0x3029 // Suzhou numerals
            | 0x3040..=0x30FF // Hiragana, Katakana
            | 0x3130..=0x318F // Hangul Compatibility Jamo
            | 0x31F0..=0x31FF // Katakana Phonetic Extensions
            | 0x3400..=0x4DBF // CJK Extension A
            | 0x4E00..=0x9FFF // CJK Unified Ideographs
            | 0xAC00..=0xD7AF // Hangul Syllables
            | 0xF900..=0xFAFF // CJK Compatibility Ideographs
            | 0x20000..=0x2FA1F // Extensions B to F, I, Compatibility Supplement
            | 0x30000..=0x323AF // Extensions G, H
    );
    in_block && ch.is_alphanumeric()
}

/// Whether `ch` is part of a [`RunKind::Word`] run.
pub(crate) fn is_word_char(ch: char) -> bool {
    ch.is_alphanumeric() && !is_cjk(ch)
}

fn kind_of(ch: char) -> Option<RunKind> {
    if is_cjk(ch) {
        Some(RunKind::Cjk)
    } else if ch.is_alphanumeric() {
        Some(RunKind::Word)
    } else {
        None
    }
}

/// The runs of `text` in order. Everything that is neither CJK nor a letter or digit (spaces,
/// punctuation, symbols, emoji) only separates runs; a change of script also ends a run, so
/// `etc扣费` is the two runs `etc` and `扣费`.
pub(crate) fn runs(text: &str) -> Runs<'_> {
    Runs { text, pos: 0 }
}

/// Iterator returned by [`runs`].
pub(crate) struct Runs<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Iterator for Runs<'a> {
    type Item = Run<'a>;

    fn next(&mut self) -> Option<Run<'a>> {
        let rest = &self.text[self.pos..];
        let (offset, kind) = rest
            .char_indices()
            .find_map(|(i, ch)| kind_of(ch).map(|k| (i, k)))?;
        let start = self.pos + offset;
        let len = self.text[start..]
            .char_indices()
            .find(|&(_, ch)| kind_of(ch) != Some(kind))
            .map_or(self.text.len() - start, |(i, _)| i);
        self.pos = start + len;
        Some(Run {
            kind,
            text: &self.text[start..start + len],
            start,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn describe(text: &str) -> Vec<(RunKind, &str)> {
        runs(text).map(|r| (r.kind, r.text)).collect()
    }

    #[test]
    fn splits_on_script_change_and_separators() {
        assert_eq!(
            describe("etc扣费, 2023年 ok!"),
            vec![
                (RunKind::Word, "etc"),
                (RunKind::Cjk, "扣费"),
                (RunKind::Word, "2023"),
                (RunKind::Cjk, "年"),
                (RunKind::Word, "ok"),
            ]
        );
        assert_eq!(describe(" ，。！ "), vec![]);
        let run = runs("ab 信用卡").nth(1).unwrap();
        assert_eq!(run.start, 3);
    }

    #[test]
    fn classes() {
        assert!(is_cjk('银'));
        assert!(is_cjk('カ'));
        assert!(is_cjk('한'));
        assert!(is_cjk('\u{20BB7}')); // 𠮷, Extension B
        assert!(!is_cjk('、'));
        assert!(!is_cjk('a'));
        assert!(is_word_char('é'));
        assert!(is_word_char('7'));
        assert!(!is_word_char('银'));
        assert!(is_redaction("xxxx"));
        assert!(is_redaction("xx"));
        assert!(!is_redaction("x"));
        assert!(!is_redaction("xxxx1234"));
    }
}
