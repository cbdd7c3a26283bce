//! Attachments: evidence files, call recordings, letters. Stored once by content hash; the
//! type is detected from the content itself, never trusted from the uploader, and only the kinds
//! a complaint file needs are accepted.

use crate::fields::FieldError;

/// The largest attachment accepted, in bytes.
pub const MAX_ATTACHMENT_BYTES: usize = 20 * 1024 * 1024;

/// Most attachments one complaint may carry.
pub const MAX_ATTACHMENTS_PER_COMPLAINT: usize = 100;

/// The longest file name accepted, in characters.
pub const MAX_FILENAME_CHARS: usize = 200;

/// Checks size and name and detects the media type from the content. The file name's
/// extension must agree with the content, so a renamed executable is refused.
pub fn check(filename: &str, content: &[u8]) -> Result<&'static str, FieldError> {
    let name = filename.trim();
    check_filename(name)?;
    if content.is_empty() {
        return Err(FieldError::new("content", "the file is empty"));
    }
    if content.len() > MAX_ATTACHMENT_BYTES {
        return Err(FieldError::new("content", format!("the file exceeds {} MiB", MAX_ATTACHMENT_BYTES / (1024 * 1024))));
    }
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    let detected = sniff(content, &ext).ok_or_else(|| {
        FieldError::new("content", "unsupported file type; accepted: PDF, images (PNG, JPEG, GIF, WebP), audio (MP3, WAV, M4A, OGG), Word/Excel (DOCX, XLSX) and plain text")
    })?;
    let expected: &[&str] = match detected {
        "application/pdf" => &["pdf"],
        "image/png" => &["png"],
        "image/jpeg" => &["jpg", "jpeg"],
        "image/gif" => &["gif"],
        "image/webp" => &["webp"],
        "audio/wav" => &["wav"],
        "audio/mpeg" => &["mp3"],
        "audio/mp4" => &["m4a", "mp4"],
        "audio/ogg" => &["ogg", "oga", "opus"],
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => &["docx"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => &["xlsx"],
        _ => &["txt", "text", "eml", "csv", "log"],
    };
    if !expected.contains(&ext.as_str()) {
        return Err(FieldError::new("filename", format!("the content is {detected}, which does not match the extension '.{ext}'")));
    }
    Ok(detected)
}

/// A file name is shown in lists and put into download headers: it is one line of visible
/// text, without path separators or control characters (a CR/LF would split a header).
fn check_filename(name: &str) -> Result<(), FieldError> {
    if name.is_empty() || name.chars().count() > MAX_FILENAME_CHARS {
        return Err(FieldError::new("filename", format!("a file name has 1 to {MAX_FILENAME_CHARS} characters")));
    }
    if name.contains(['/', '\\']) {
        return Err(FieldError::new("filename", "a file name has no path separators"));
    }
    if name.chars().any(char::is_control) {
        return Err(FieldError::new("filename", "a file name must not contain control characters"));
    }
    // A direction override shows `invoice<U+202E>fdp.exe` as `invoiceexe.pdf`.
    if name.chars().any(|c| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')) {
        return Err(FieldError::new("filename", "a file name must not contain text-direction controls"));
    }
    if !name.chars().any(crate::fields::is_visible) {
        return Err(FieldError::new("filename", "a file name needs at least one visible character"));
    }
    Ok(())
}

fn sniff(b: &[u8], ext: &str) -> Option<&'static str> {
    let starts = |p: &[u8]| b.starts_with(p);
    if starts(b"%PDF-") {
        return Some("application/pdf");
    }
    if starts(b"\x89PNG\r\n\x1a\n") {
        return Some("image/png");
    }
    if starts(b"\xff\xd8\xff") {
        return Some("image/jpeg");
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return Some("image/gif");
    }
    if b.len() >= 12 && &b[..4] == b"RIFF" {
        return match &b[8..12] {
            b"WEBP" => Some("image/webp"),
            b"WAVE" => Some("audio/wav"),
            _ => None,
        };
    }
    if starts(b"ID3") || (b.len() >= 2 && b[0] == 0xff && (b[1] & 0xe0) == 0xe0) {
        return Some("audio/mpeg");
    }
    if b.len() >= 12 && &b[4..8] == b"ftyp" {
        return Some("audio/mp4");
    }
    if starts(b"OggS") {
        return Some("audio/ogg");
    }
    // Office files are ZIP containers; the extension tells which (the container is checked).
    if starts(b"PK\x03\x04") {
        return match ext {
            "docx" => Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            "xlsx" => Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            _ => None,
        };
    }
    if std::str::from_utf8(b).is_ok_and(|t| !t.contains('\0')) {
        return Some("text/plain");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_decides_the_type() {
        assert_eq!(check("receipt.pdf", b"%PDF-1.7 ...").unwrap(), "application/pdf");
        assert_eq!(check("call.wav", b"RIFF\x24\x00\x00\x00WAVEfmt ").unwrap(), "audio/wav");
        assert_eq!(check("说明.txt", "客户补充说明".as_bytes()).unwrap(), "text/plain");
        assert_eq!(check("photo.JPG", b"\xff\xd8\xff\xe0rest").unwrap(), "image/jpeg");
    }

    #[test]
    fn mismatches_and_unknown_kinds_are_refused() {
        assert_eq!(check("invoice.pdf", b"MZ\x90\x00\x03\x00\x00\x00").unwrap_err().field, "content");
        assert_eq!(check("report.pdf", b"\x89PNG\r\n\x1a\n....").unwrap_err().field, "filename");
        assert!(check("evil.exe", b"plain text").is_err());
        assert!(check("../etc/passwd.txt", b"x").is_err());
        assert!(check("empty.txt", b"").is_err());
        assert!(check("big.txt", &vec![b'a'; MAX_ATTACHMENT_BYTES + 1]).is_err());
        assert!(check("archive.zip", b"PK\x03\x04....").is_err());
    }

    #[test]
    fn file_names_are_one_visible_line() {
        let text = b"plain text";
        for bad in ["a\r\nContent-Type: text/html.txt", "tab\tname.txt", "nul\0.txt", "\u{200B}\u{200B}", "invoice\u{202E}txt.pdf"] {
            let err = check(bad, text).unwrap_err();
            assert_eq!(err.field, "filename", "{bad:?}");
        }
        assert!(check(&format!("{}.txt", "x".repeat(MAX_FILENAME_CHARS - 4)), text).is_ok());
        assert!(check(&format!("{}.txt", "x".repeat(MAX_FILENAME_CHARS - 3)), text).is_err());
        assert!(check("客户 说明 (1).txt", text).is_ok());
    }
}
