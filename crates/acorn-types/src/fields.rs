//! Parsers for the scalar customer fields. Each takes the raw JSON string and returns the
//! normalised form that is stored and returned, or a message saying what is wrong.

use chrono::{Datelike, NaiveDate, Utc};

use crate::countries::is_country_code;

/// Longest free-text field (names, address lines), in characters.
pub const MAX_TEXT_CHARS: usize = 255;

/// A free-text field: trimmed, non-empty, at most 255 characters, no control characters.
pub fn text(raw: &str) -> Result<String, String> {
    let t = raw.trim();
    if t.is_empty() {
        return Err("must not be empty (send null to clear it)".into());
    }
    if t.chars().count() > MAX_TEXT_CHARS {
        return Err(format!("must be at most {MAX_TEXT_CHARS} characters"));
    }
    if t.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(t.to_owned())
}

/// An email address: trimmed, kept as given; compare it through [`email_key`].
pub fn email(raw: &str) -> Result<String, String> {
    const MSG: &str = "is not a valid email address";
    let t = raw.trim();
    if t.len() > 254 {
        return Err("must be at most 254 characters".into());
    }
    let (local, domain) = t.rsplit_once('@').ok_or(MSG)?;
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && labels.last().is_some_and(|tld| {
            tld.chars().count() >= 2 && !tld.chars().all(|c| c.is_ascii_digit())
        });
    if local_ok && domain_ok {
        Ok(t.to_owned())
    } else {
        Err(MSG.into())
    }
}

/// The form an email is compared in (uniqueness, filters): the local part lowercase, the domain
/// in its IDNA ASCII form (UTS 46), so `user@exämple.com` and `user@xn--exmple-cua.com` are one
/// address. A domain IDNA refuses is kept lowercase.
pub fn email_key(email: &str) -> String {
    let t = email.trim();
    let Some((local, domain)) = t.rsplit_once('@') else {
        return t.to_lowercase();
    };
    let domain = idna::domain_to_ascii(domain).unwrap_or_else(|_| domain.to_lowercase());
    format!("{}@{domain}", local.to_lowercase())
}

/// An ISO 3166-1 alpha-2 country code, returned lowercase.
pub fn country_code(raw: &str) -> Result<String, String> {
    let t = raw.trim().to_ascii_lowercase();
    if t.len() == 2 && is_country_code(&t) {
        Ok(t)
    } else {
        Err("is not an ISO 3166-1 alpha-2 country code (e.g. \"us\", \"br\")".into())
    }
}

/// A calendar date `YYYY-MM-DD`, not in the future and not before 1900.
pub fn past_date(raw: &str) -> Result<String, String> {
    let t = raw.trim();
    let date = (t.len() == 10)
        .then(|| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok())
        .flatten()
        .ok_or("must be a calendar date in the form YYYY-MM-DD")?;
    if date > Utc::now().date_naive() {
        return Err("must not be in the future".into());
    }
    if date.year() < 1900 {
        return Err("must not be before 1900-01-01".into());
    }
    Ok(date.format("%Y-%m-%d").to_string())
}

/// A phone country code: an optional `+` then 1–4 digits, stored as given after trimming.
pub fn phone_country_code(raw: &str) -> Result<String, String> {
    let t = raw.trim();
    let digits = t.strip_prefix('+').unwrap_or(t);
    if (1..=4).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(t.to_owned())
    } else {
        Err("must be an optional '+' followed by 1 to 4 digits".into())
    }
}

/// A run of 1–20 digits (phone area code and number).
pub fn digits(raw: &str) -> Result<String, String> {
    let t = raw.trim();
    if (1..=20).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit()) {
        Ok(t.to_owned())
    } else {
        Err("must contain only digits (1 to 20)".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for ok in [
            "alice@example.com",
            " Alice.Smith+tag@Example.co.uk ",
            "a@b.io",
            "josé@exemplo.com.br",
        ] {
            assert!(email(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            email("  Alice@Example.com ").as_deref(),
            Ok("Alice@Example.com")
        );
        for bad in [
            "",
            "alice",
            "alice@",
            "@example.com",
            "alice@example",
            "a b@example.com",
            "alice@@example.com",
            ".a@example.com",
            "a..b@example.com",
            "a@-x.com",
            "a@x.123",
            "a@exa mple.com",
        ] {
            assert!(email(bad).is_err(), "{bad}");
        }
        assert!(email(&format!("{}@example.com", "a".repeat(65))).is_err());
        assert_eq!(email_key(" Alice@Example.COM"), "alice@example.com");
        assert_eq!(email_key("user@exämple.com"), "user@xn--exmple-cua.com");
        assert_eq!(
            email_key("User@EXÄMPLE.com"),
            email_key("user@xn--exmple-cua.com")
        );
        assert!(email("user@xn--exmple-cua.com").is_ok() && email("user@exämple.com").is_ok());
    }

    #[test]
    fn countries() {
        assert_eq!(country_code("US").as_deref(), Ok("us"));
        assert_eq!(country_code(" br ").as_deref(), Ok("br"));
        for bad in ["", "USA", "xx", "u", "1"] {
            assert!(country_code(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dates() {
        assert_eq!(past_date("1990-05-17").as_deref(), Ok("1990-05-17"));
        for bad in [
            "1990-5-17",
            "17/05/1990",
            "1990-02-30",
            "2999-01-01",
            "1800-01-01",
            "",
        ] {
            assert!(past_date(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn phones() {
        assert_eq!(phone_country_code(" +55 ").as_deref(), Ok("+55"));
        assert!(phone_country_code("1").is_ok());
        for bad in ["", "+", "++1", "+12345", "1a"] {
            assert!(phone_country_code(bad).is_err(), "{bad}");
        }
        assert!(digits("5551234").is_ok());
        for bad in ["", "555-1234", "555 1234", "abc"] {
            assert!(digits(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn text_fields() {
        assert_eq!(text("  Alice ").as_deref(), Ok("Alice"));
        assert!(text("   ").is_err());
        assert!(text(&"x".repeat(256)).is_err());
        assert!(text(&"é".repeat(255)).is_ok());
        assert!(text("a\u{0}b").is_err());
    }
}
