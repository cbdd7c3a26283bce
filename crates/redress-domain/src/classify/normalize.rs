//! Text normalisation for matching, keeping a map back to the original byte offsets.

use std::ops::Range;
use std::sync::OnceLock;

/// Normalises text for phrase matching.
///
/// * full-width ASCII (`Ａ`..`～`, U+FF01–U+FF5E) becomes half-width, so `ＡＴＭ` matches `atm`;
/// * traditional Chinese characters become simplified, one character for one (`銀行卡` matches
///   `银行卡`, `臺灣` matches `台湾`), see [`simplify_char`];
/// * everything is lower-cased;
/// * typographic apostrophes and quotes become ASCII (`won’t` matches `won't`);
/// * every run of whitespace (including the ideographic space U+3000) becomes one space, or one
///   newline if the run contains a line break;
/// * zero-width characters are dropped, since pasted text often carries them inside words.
pub fn normalize(text: &str) -> String {
    Normalized::new(text).text
}

/// Normalised text (see [`normalize`]) with, for each normalised byte, the original byte range of
/// the character it came from, so that match spans found in the normalised text can be reported
/// (highlighted, quoted as evidence) in the caller's text.
///
/// ```
/// use redress_domain::classify::Normalized;
///
/// let original = "我的ＡＴＭ銀行卡";
/// let normalized = Normalized::new(original);
/// assert_eq!(normalized.text(), "我的atm银行卡");
/// let found = normalized.text().find("银行卡").unwrap();
/// let range = normalized.original_range(found..found + "银行卡".len());
/// assert_eq!(&original[range], "銀行卡");
/// ```
#[derive(Debug, Clone)]
pub struct Normalized {
    pub(crate) text: String,
    orig_start: Vec<usize>,
    orig_end: Vec<usize>,
    original_len: usize,
}

impl Normalized {
    /// Normalises `original`, recording where every normalised byte came from.
    pub fn new(original: &str) -> Self {
        let mut out: Vec<u8> = Vec::with_capacity(original.len());
        let mut orig_start = Vec::with_capacity(original.len());
        let mut orig_end = Vec::with_capacity(original.len());
        // Index of the byte emitted for the whitespace run we are in, if any.
        let mut ws_run: Option<usize> = None;
        let mut buf = [0u8; 4];

        for (pos, ch) in original.char_indices() {
            let end = pos + ch.len_utf8();
            if ch.is_whitespace() {
                match ws_run {
                    Some(i) => {
                        orig_end[i] = end;
                        if ch == '\n' {
                            out[i] = b'\n';
                        }
                    }
                    None => {
                        ws_run = Some(out.len());
                        out.push(if ch == '\n' { b'\n' } else { b' ' });
                        orig_start.push(pos);
                        orig_end.push(end);
                    }
                }
                continue;
            }
            if is_invisible(ch) {
                continue;
            }
            ws_run = None;
            let mut emit = |c: char| {
                let bytes = c.encode_utf8(&mut buf).as_bytes();
                out.extend_from_slice(bytes);
                for _ in 0..bytes.len() {
                    orig_start.push(pos);
                    orig_end.push(end);
                }
            };
            let folded = fold(ch);
            if folded.is_ascii() {
                emit(folded.to_ascii_lowercase());
            } else {
                folded.to_lowercase().for_each(&mut emit);
            }
        }

        let text = String::from_utf8(out).expect("only whole UTF-8 characters are emitted");
        Normalized {
            text,
            orig_start,
            orig_end,
            original_len: original.len(),
        }
    }

    /// The normalised text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The byte range of the original text that the normalised byte range `normalized` came from.
    ///
    /// Both ends must lie on character boundaries of the normalised text. A non-empty range maps
    /// to whole original characters: a normalised space covers the whole whitespace run it
    /// replaced, a half-width letter the full-width one it came from. An empty range maps to the
    /// empty range at the start of the original character there (or at the end of the original
    /// text).
    ///
    /// # Panics
    ///
    /// If the range is reversed or extends past the normalised text.
    pub fn original_range(&self, normalized: Range<usize>) -> Range<usize> {
        assert!(
            normalized.start <= normalized.end && normalized.end <= self.text.len(),
            "range {normalized:?} is outside the normalised text of {} bytes",
            self.text.len()
        );
        if normalized.is_empty() {
            let at = self
                .orig_start
                .get(normalized.start)
                .copied()
                .unwrap_or(self.original_len);
            return at..at;
        }
        self.orig_start[normalized.start]..self.orig_end[normalized.end - 1]
    }

    /// The original byte range of the normalised range `start..end` (`start < end`, both on
    /// character boundaries of the normalised text), as a pair.
    pub(crate) fn original_span(&self, start: usize, end: usize) -> (usize, usize) {
        debug_assert!(start < end && end <= self.text.len());
        let range = self.original_range(start..end);
        (range.start, range.end)
    }
}

fn fold(ch: char) -> char {
    match ch {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(ch as u32 - 0xFEE0).unwrap_or(ch),
        '\u{2018}' | '\u{2019}' | '\u{2032}' => '\'',
        '\u{201C}' | '\u{201D}' => '"',
        _ => simplify_char(ch),
    }
}

fn is_invisible(ch: char) -> bool {
    matches!(
        ch,
        '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}'
    )
}

/// The block of CJK Unified Ideographs, which holds every traditional character that has a
/// simplified form.
const UNIFIED_IDEOGRAPHS: Range<u32> = 0x4E00..0xA000;

/// The simplified form of a traditional Chinese character, or the character itself.
///
/// The mapping is the character table of the `fast2s` crate, applied to one character at a time
/// with no look at its neighbours. Its word-level exceptions (乾隆 keeps 乾 while 乾淨 becomes
/// 干净) are deliberately not applied: a word rule would make the same character normalise
/// differently at the edge of a search term than inside a document, and a search would then miss
/// text it should find. One character for one also keeps every offset map exact.
pub fn simplify_char(ch: char) -> char {
    let code = ch as u32;
    if !UNIFIED_IDEOGRAPHS.contains(&code) {
        return ch;
    }
    simplified_table()[(code - UNIFIED_IDEOGRAPHS.start) as usize]
}

/// For each character of [`UNIFIED_IDEOGRAPHS`], its simplified form.
fn simplified_table() -> &'static [char] {
    static TABLE: OnceLock<Box<[char]>> = OnceLock::new();
    TABLE.get_or_init(|| {
        // `fast2s` exposes only whole-string conversion, whose exceptions look at the previous
        // and next character. Separating every ideograph by an ASCII digit gives each one
        // neighbours that no exception mentions, so the result is the plain character mapping.
        let ideographs: Vec<char> = UNIFIED_IDEOGRAPHS.filter_map(char::from_u32).collect();
        let mut spaced = String::with_capacity(ideographs.len() * 4);
        for &c in &ideographs {
            spaced.push(c);
            spaced.push('0');
        }
        let converted = fast2s::convert(&spaced);
        let simplified: Box<[char]> = converted.chars().step_by(2).collect();
        assert_eq!(
            simplified.len(),
            ideographs.len(),
            "fast2s converts one character into exactly one character"
        );
        simplified
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traditional_becomes_simplified_one_char_for_one() {
        assert_eq!(normalize("銀行卡"), "银行卡");
        assert_eq!(normalize("臺灣"), "台湾");
        assert_eq!(normalize("信用卡逾期還款"), "信用卡逾期还款");
        // Already simplified text and non-Han text are untouched.
        assert_eq!(normalize("银行卡 ATM"), "银行卡 atm");
        // Context-free: 乾 maps the same everywhere, so a search term ending in it still matches.
        assert_eq!(simplify_char('乾'), '干');
        assert_eq!(simplify_char('a'), 'a');
    }

    #[test]
    fn original_range_maps_back_through_every_fold() {
        let original = "Ａ  銀行\u{200B}卡！";
        let n = Normalized::new(original);
        assert_eq!(n.text(), "a 银行卡!");
        let text = n.text();
        let bank = text.find("银行卡").unwrap();
        let range = n.original_range(bank..bank + "银行卡".len());
        // The zero-width space inside the word lies within the span of the original.
        assert_eq!(&original[range], "銀行\u{200B}卡");
        let space = text.find(' ').unwrap();
        assert_eq!(&original[n.original_range(space..space + 1)], "  ");
        assert_eq!(&original[n.original_range(0..1)], "Ａ");
        let bang = text.find('!').unwrap();
        assert_eq!(&original[n.original_range(bang..bang + 1)], "！");
        assert_eq!(
            n.original_range(text.len()..text.len()),
            original.len()..original.len()
        );
        assert_eq!(n.original_range(0..0), 0..0);
    }
}
