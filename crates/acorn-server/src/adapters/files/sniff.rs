//! Recognising an accepted document by its leading bytes, whatever its name or declared type.

/// How many leading bytes [`detect`] needs to decide (the PNG signature is the longest).
pub const SNIFF_LEN: usize = 8;

/// A content type Acorn accepts for KYC documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `%PDF-`.
    Pdf,
    /// `FF D8 FF`.
    Jpeg,
    /// `89 50 4E 47 0D 0A 1A 0A`.
    Png,
}

impl Kind {
    /// The MIME type the file is stored and served as.
    pub fn content_type(self) -> &'static str {
        match self {
            Kind::Pdf => "application/pdf",
            Kind::Jpeg => "image/jpeg",
            Kind::Png => "image/png",
        }
    }

    /// The kind of a stored content type.
    pub fn from_content_type(content_type: &str) -> Option<Kind> {
        [Kind::Pdf, Kind::Jpeg, Kind::Png]
            .into_iter()
            .find(|k| k.content_type() == content_type)
    }

    /// The file extension matching the content (without the dot).
    pub fn extension(self) -> &'static str {
        match self {
            Kind::Pdf => "pdf",
            Kind::Jpeg => "jpg",
            Kind::Png => "png",
        }
    }
}

/// The accepted kind whose signature starts `head`, if any.
pub fn detect(head: &[u8]) -> Option<Kind> {
    const SIGNATURES: [(&[u8], Kind); 3] = [
        (b"%PDF-", Kind::Pdf),
        (&[0xFF, 0xD8, 0xFF], Kind::Jpeg),
        (&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A], Kind::Png),
    ];
    SIGNATURES
        .iter()
        .find(|(sig, _)| head.starts_with(sig))
        .map(|(_, kind)| *kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures() {
        let cases: [(&[u8], Option<Kind>); 9] = [
            (b"%PDF-1.7\n", Some(Kind::Pdf)),
            (&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10], Some(Kind::Jpeg)),
            (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", Some(Kind::Png)),
            (b"\x89PNG\r\n", None),
            (b"%PDF", None),
            (b"MZ\x90\0", None),
            (b"\x7fELF\x02\x01", None),
            (b"hello, this is text", None),
            (b"", None),
        ];
        for (head, want) in cases {
            assert_eq!(detect(head), want, "{head:?}");
        }
    }

    #[test]
    fn content_types_round_trip() {
        for kind in [Kind::Pdf, Kind::Jpeg, Kind::Png] {
            assert_eq!(Kind::from_content_type(kind.content_type()), Some(kind));
        }
        assert_eq!(Kind::from_content_type("text/plain"), None);
    }
}
