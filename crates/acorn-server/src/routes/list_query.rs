//! Parsing `GET /customers` query strings (contract §4.3) into a [`ListQuery`].

use acorn_types::{
    fields, CustomerId, CustomerStatus, DocumentType, FailureReason, Provider, ReasonCode,
    RegistrationStatus, TargetRole,
};

use crate::error::ApiError;
use crate::extract::{comma_list, not_one_of};
use crate::store::{ListQuery, Page, RegistrationFilter};

/// Default page size.
pub const DEFAULT_LIMIT: i64 = 10;
/// Largest page size; larger requests are clamped.
pub const MAX_LIMIT: i64 = 100;

/// What was asked and what was applied, for the `X-Limit-*`/`X-Offset-*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageMeta {
    pub limit_requested: i64,
    pub limit_applied: i64,
    pub offset_requested: i64,
    pub offset_applied: i64,
}

/// A parsed list request whose cursor still has to be checked against the store.
#[derive(Debug)]
pub struct ParsedList {
    pub query: ListQuery,
    pub meta: PageMeta,
}

fn integer(name: &str, raw: &str, min: i64, reasons: &mut Vec<FailureReason>) -> Option<i64> {
    match raw.trim().parse::<i64>() {
        Ok(n) if n >= min => Some(n),
        _ => {
            reasons.push(FailureReason::invalid(
                name,
                format!("{name} must be an integer ≥ {min}"),
            ));
            None
        }
    }
}

fn cursor(name: &str, raw: &str, reasons: &mut Vec<FailureReason>) -> Option<CustomerId> {
    match CustomerId::parse(raw.trim()) {
        Ok(id) => Some(id),
        Err(_) => {
            reasons.push(FailureReason::new(
                ReasonCode::InvalidCursor,
                format!("{name} is not a customer id"),
                &[name],
            ));
            None
        }
    }
}

fn canonical<T: std::fmt::Display>(
    r: Result<T, acorn_types::UnknownValue>,
) -> Result<String, String> {
    r.map(|v| v.to_string()).map_err(not_one_of)
}

/// Parses the query pairs. Repeated parameters add to the same list.
pub fn parse(pairs: &[(String, String)]) -> Result<ParsedList, ApiError> {
    let mut reasons = Vec::new();
    let mut q = ListQuery {
        emails: vec![],
        countries: vec![],
        document_types: vec![],
        statuses: vec![],
        registration: RegistrationFilter::default(),
        page: Page::Offset(0),
        limit: DEFAULT_LIMIT,
    };
    let (mut limit, mut offset, mut after, mut before) = (None, None, None, None);
    for (key, value) in pairs {
        let r = &mut reasons;
        match key.as_str() {
            "limit" => limit = integer("limit", value, 1, r),
            "offset" => offset = integer("offset", value, 0, r),
            "email" => comma_list(
                "email",
                value,
                |s| fields::email(s).map(|e| fields::email_key(&e)),
                &mut q.emails,
                r,
            ),
            "country_code" => comma_list(
                "country_code",
                value,
                fields::country_code,
                &mut q.countries,
                r,
            ),
            "document_type" => comma_list(
                "document_type",
                value,
                |s| {
                    DocumentType::parse(s)
                        .map(|d| d.as_str().to_owned())
                        .map_err(not_one_of)
                },
                &mut q.document_types,
                r,
            ),
            "status" => comma_list(
                "status",
                value,
                |s| {
                    CustomerStatus::parse(s)
                        .map(|d| d.as_str().to_owned())
                        .map_err(not_one_of)
                },
                &mut q.statuses,
                r,
            ),
            "starting_after" => after = cursor("starting_after", value, r),
            "ending_before" => before = cursor("ending_before", value, r),
            "provider" => comma_list(
                "provider",
                value,
                |s| canonical(Provider::parse(s)),
                &mut q.registration.providers,
                r,
            ),
            "target_role" => comma_list(
                "target_role",
                value,
                |s| canonical(TargetRole::parse(s)),
                &mut q.registration.roles,
                r,
            ),
            "provider_registration_status" => comma_list(
                "provider_registration_status",
                value,
                |s| canonical(RegistrationStatus::parse(s)),
                &mut q.registration.statuses,
                r,
            ),
            other => r.push(FailureReason::invalid(
                other,
                format!("{other} is not a known query parameter"),
            )),
        }
    }
    let has_offset = pairs.iter().any(|(k, _)| k == "offset");
    let has_after = pairs.iter().any(|(k, _)| k == "starting_after");
    let has_before = pairs.iter().any(|(k, _)| k == "ending_before");
    if has_after && has_before {
        reasons.push(FailureReason::new(
            ReasonCode::InvalidInput,
            "starting_after and ending_before are mutually exclusive",
            &["starting_after", "ending_before"],
        ));
    }
    if has_offset && (has_after || has_before) {
        reasons.push(FailureReason::new(
            ReasonCode::InvalidInput,
            "offset cannot be combined with a cursor",
            &["offset"],
        ));
    }
    if !reasons.is_empty() {
        return Err(ApiError::validation(reasons));
    }
    let limit_requested = limit.unwrap_or(DEFAULT_LIMIT);
    q.limit = limit_requested.min(MAX_LIMIT);
    let offset_requested = offset.unwrap_or(0);
    q.page = match (after, before) {
        (Some(id), _) => Page::After(id),
        (_, Some(id)) => Page::Before(id),
        _ => Page::Offset(offset_requested),
    };
    let offset_applied = if let Page::Offset(o) = q.page { o } else { 0 };
    Ok(ParsedList {
        meta: PageMeta {
            limit_requested,
            limit_applied: q.limit,
            offset_requested,
            offset_applied,
        },
        query: q,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(s: &str) -> Vec<(String, String)> {
        crate::extract::query_pairs(Some(s))
    }

    #[test]
    fn defaults_and_clamp() {
        let p = parse(&pairs("")).expect("ok");
        assert_eq!((p.query.limit, p.query.page), (10, Page::Offset(0)));
        let p = parse(&pairs("limit=500&offset=20")).expect("ok");
        assert_eq!(
            p.meta,
            PageMeta {
                limit_requested: 500,
                limit_applied: 100,
                offset_requested: 20,
                offset_applied: 20
            }
        );
    }

    #[test]
    fn bad_values_are_422() {
        for q in ["limit=0", "limit=-1", "limit=ten", "offset=-1", "country_code=zz", "document_type=nope",
            "status=done", "email=not-an-email", "email=a%40b.co%2C", "nope=1", "provider=nope", "target_role=admin",
            "starting_after=abc", "starting_after=cus_0192f0c5-7f2e-7c3a-9d6e-1a2b3c4d5e6f&ending_before=cus_0192f0c5-7f2e-7c3a-9d6e-1a2b3c4d5e6f",
            "offset=0&starting_after=cus_0192f0c5-7f2e-7c3a-9d6e-1a2b3c4d5e6f"] {
            assert!(parse(&pairs(q)).is_err(), "{q}");
        }
    }

    #[test]
    fn lists_are_decoded_normalised_and_deduplicated() {
        let p = parse(&pairs(
            "country_code=US%2Cbr%2Cus&status=approved,NOT_STARTED&email=A%40b.co",
        ))
        .expect("ok");
        assert_eq!(p.query.countries, ["us", "br"]);
        assert_eq!(p.query.statuses, ["APPROVED", "NOT_STARTED"]);
        assert_eq!(p.query.emails, ["a@b.co"]);
    }
}
