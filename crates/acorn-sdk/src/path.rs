//! Building request paths safely: every caller-supplied segment is percent-encoded, so an id
//! containing `/`, `?` or `#` can never reach another route.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::error::OakError;

/// Everything but RFC 3986 unreserved characters is encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes one path segment given by the caller (an id). Rejects what cannot name a
/// resource: the empty string (it would turn `/customers/{id}` into the list route) and `.` /
/// `..` (URL parsers resolve them, even encoded, into another path).
pub(crate) fn segment(what: &str, value: &str) -> Result<String, OakError> {
    if value.trim().is_empty() {
        return Err(OakError::InvalidArgument(format!(
            "{what} must not be empty"
        )));
    }
    if value == "." || value == ".." {
        return Err(OakError::InvalidArgument(format!(
            "{what} must not be `.` or `..`"
        )));
    }
    Ok(utf8_percent_encode(value, SEGMENT).to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn encodes_everything_that_could_change_the_route() {
        let cases = [
            ("cus_0192-abc", "cus_0192-abc"),
            ("a/b", "a%2Fb"),
            ("a?x=1", "a%3Fx%3D1"),
            ("a#frag", "a%23frag"),
            ("../x", "..%2Fx"),
            ("a b", "a%20b"),
            ("100%", "100%25"),
            ("é", "%C3%A9"),
            ("a;b,c", "a%3Bb%2Cc"),
        ];
        for (raw, want) in cases {
            assert_eq!(segment("id", raw).unwrap(), want, "{raw}");
        }
    }

    #[test]
    fn refuses_ids_that_name_no_resource() {
        for bad in ["", "   ", ".", ".."] {
            assert!(
                matches!(
                    segment("customer id", bad),
                    Err(OakError::InvalidArgument(_))
                ),
                "{bad:?}"
            );
        }
    }
}
