//! Physical line numbers for records.
//!
//! The CSV layer's own line counter is taken *before* the line breaks that
//! precede a record are skipped, so it points at the previous line for every
//! record after a blank line and for every record in a CRLF file (the `\r`
//! ends a record, the `\n` is counted at the start of the next one). The
//! public CFPB files are CRLF, so the count is done here instead, from the
//! bytes as they stream past.

use std::collections::VecDeque;
use std::io::{self, Read};

/// Passes bytes through unchanged, remembering where line breaks were.
///
/// Only breaks not yet behind the reader's current record are kept, so memory
/// is bounded by the read-ahead buffer plus one record.
pub(crate) struct LineTracker<R> {
    inner: R,
    /// Bytes handed out so far.
    offset: u64,
    /// Offsets of `\r` and `\n` bytes not yet pruned, with `true` for `\n`.
    breaks: VecDeque<(u64, bool)>,
    /// `\n` bytes already pruned from `breaks`.
    pruned_newlines: u64,
}

impl<R> LineTracker<R> {
    pub(crate) fn new(inner: R) -> Self {
        LineTracker {
            inner,
            offset: 0,
            breaks: VecDeque::new(),
            pruned_newlines: 0,
        }
    }

    /// The 1-based line of the first byte of a record the CSV layer reports
    /// as starting at byte `start`, past any line breaks it skipped there.
    ///
    /// Calls must come with non-decreasing `start`, as records do.
    pub(crate) fn start_line(&mut self, start: u64) -> u64 {
        while let Some(&(at, newline)) = self.breaks.front() {
            if at >= start {
                break;
            }
            self.breaks.pop_front();
            self.pruned_newlines += u64::from(newline);
        }
        // The breaks the CSV layer skipped form an unbroken run from `start`.
        let skipped_newlines = (start..)
            .zip(&self.breaks)
            .take_while(|(expected, (at, _))| at == expected)
            .filter(|(_, (_, newline))| *newline)
            .count() as u64;
        self.pruned_newlines + skipped_newlines + 1
    }

    /// The 1-based line of the last byte of a record that ends (terminator
    /// included, if any) just before byte `end`.
    pub(crate) fn end_line(&self, end: u64) -> u64 {
        let mut newlines = self.pruned_newlines;
        for &(at, newline) in &self.breaks {
            if at >= end {
                break;
            }
            // The `\n` that ends the record belongs to its last line.
            if newline && at + 1 != end {
                newlines += 1;
            }
        }
        newlines + 1
    }
}

impl<R: Read> Read for LineTracker<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        for (i, &b) in buf[..n].iter().enumerate() {
            if b == b'\n' || b == b'\r' {
                self.breaks.push_back((self.offset + i as u64, b == b'\n'));
            }
        }
        self.offset += n as u64;
        Ok(n)
    }
}
