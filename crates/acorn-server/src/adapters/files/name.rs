//! File names: kept for display only, never used as a path.

use super::sniff::Kind;

/// Longest display name kept, in characters.
const MAX_NAME_CHARS: usize = 255;

/// The name to keep for an uploaded file: the last path component of what the client sent,
/// without control characters, at most 255 characters; `file` when nothing usable remains.
pub fn display_name(sent: Option<&str>) -> String {
    let last = sent
        .unwrap_or_default()
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default();
    let clean: String = last
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect();
    let clean = clean.trim();
    if clean.is_empty() || clean == "." || clean == ".." {
        "file".to_owned()
    } else {
        clean.to_owned()
    }
}

/// The name offered in `Content-Disposition` on download: the display name's stem reduced to
/// `[A-Za-z0-9._-]` (safe inside a quoted header value on every client), with the extension of
/// the content actually served.
pub fn attachment_name(display: &str, kind: Option<Kind>) -> String {
    let stem = match (kind, display.rsplit_once('.')) {
        (Some(_), Some((stem, _))) if !stem.is_empty() => stem,
        _ => display,
    };
    let mut safe: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    let trimmed = safe.trim_matches(['.', '_']);
    safe = if trimmed.is_empty() {
        "file".to_owned()
    } else {
        trimmed.to_owned()
    };
    match kind {
        Some(kind) => format!("{safe}.{}", kind.extension()),
        None => safe,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_lose_their_directories() {
        let cases = [
            (Some("passport.pdf"), "passport.pdf"),
            (Some("../../etc/passwd"), "passwd"),
            (Some("..\\..\\windows\\win.ini"), "win.ini"),
            (Some("dir/"), "file"),
            (Some(".."), "file"),
            (Some("  a\u{0}b\r\n.pdf "), "ab.pdf"),
            (Some("Passeport été.pdf"), "Passeport été.pdf"),
            (None, "file"),
        ];
        for (sent, want) in cases {
            assert_eq!(display_name(sent), want, "{sent:?}");
        }
        assert_eq!(display_name(Some(&"x".repeat(400))).len(), 255);
    }

    #[test]
    fn attachment_names_are_header_safe_and_match_the_content() {
        let cases = [
            ("passport.pdf", Some(Kind::Pdf), "passport.pdf"),
            ("scan.pdf", Some(Kind::Png), "scan.png"),
            ("a\"b; c.pdf", Some(Kind::Pdf), "a_b__c.pdf"),
            ("Passeport été.jpeg", Some(Kind::Jpeg), "Passeport__t.jpg"),
            ("..", Some(Kind::Pdf), "file.pdf"),
            ("noext", Some(Kind::Pdf), "noext.pdf"),
            ("weird", None, "weird"),
        ];
        for (display, kind, want) in cases {
            assert_eq!(attachment_name(display, kind), want, "{display}");
        }
    }
}
