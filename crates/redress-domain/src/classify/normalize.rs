//! Text normalisation for matching, keeping a map back to the original byte offsets.

/// Normalises text for phrase matching.
///
/// * full-width ASCII (`Ａ`..`～`, U+FF01–U+FF5E) becomes half-width, so `ＡＴＭ` matches `atm`;
/// * everything is lower-cased;
/// * typographic apostrophes and quotes become ASCII (`won’t` matches `won't`);
/// * every run of whitespace (including the ideographic space U+3000) becomes one space, or one
///   newline if the run contains a line break;
/// * zero-width characters are dropped, since pasted text often carries them inside words.
pub fn normalize(text: &str) -> String {
    Normalized::new(text).text
}

/// Normalised text with, for each normalised byte, the original byte range of the character it
/// came from, so that match spans can be reported in the caller's text.
#[derive(Debug)]
pub(crate) struct Normalized {
    pub(crate) text: String,
    orig_start: Vec<usize>,
    orig_end: Vec<usize>,
}

impl Normalized {
    pub(crate) fn new(original: &str) -> Self {
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
        }
    }

    /// The original byte range of the normalised range `start..end` (`start < end`, both on
    /// character boundaries of the normalised text).
    pub(crate) fn original_span(&self, start: usize, end: usize) -> (usize, usize) {
        debug_assert!(start < end && end <= self.text.len());
        (self.orig_start[start], self.orig_end[end - 1])
    }
}

fn fold(ch: char) -> char {
    match ch {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(ch as u32 - 0xFEE0).unwrap_or(ch),
        '\u{2018}' | '\u{2019}' | '\u{2032}' => '\'',
        '\u{201C}' | '\u{201D}' => '"',
        _ => ch,
    }
}

fn is_invisible(ch: char) -> bool {
    matches!(
        ch,
        '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}'
    )
}
