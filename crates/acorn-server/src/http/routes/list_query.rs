//! `GET /customers` query strings (contract §4.3): parsed by the contract's own
//! [`ListParams::from_query`] (every invalid parameter reported at once), then turned into the
//! store's [`ListQuery`].

use acorn_types::{ListParams, DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT};

use crate::http::error::ApiError;
use crate::store::{ListQuery, Page, RegistrationFilter};

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

fn strings<T: ToString>(values: &[T]) -> Vec<String> {
    values.iter().map(ToString::to_string).collect()
}

/// Parses the query pairs. Repeated parameters add to the same list.
pub fn parse(pairs: &[(String, String)]) -> Result<ParsedList, ApiError> {
    let p = ListParams::from_query(pairs).map_err(ApiError::validation)?;
    let limit_requested = i64::from(p.limit.unwrap_or(DEFAULT_LIST_LIMIT));
    let limit = i64::from(p.applied_limit());
    let offset_requested = p.offset.map_or(0, |o| i64::try_from(o).unwrap_or(i64::MAX));
    let page = match (p.starting_after_id(), p.ending_before_id()) {
        (Some(id), _) => Page::After(id),
        (_, Some(id)) => Page::Before(id),
        _ => Page::Offset(offset_requested),
    };
    let offset_applied = if let Page::Offset(o) = page { o } else { 0 };
    let query = ListQuery {
        emails: p.email.clone(),
        countries: p.country_code.clone(),
        document_types: strings(&p.document_type),
        statuses: strings(&p.status),
        registration: RegistrationFilter {
            providers: strings(&p.provider),
            roles: strings(&p.target_role),
            statuses: strings(&p.provider_registration_status),
        },
        page,
        limit,
    };
    debug_assert!(limit <= i64::from(MAX_LIST_LIMIT));
    Ok(ParsedList {
        meta: PageMeta {
            limit_requested,
            limit_applied: limit,
            offset_requested,
            offset_applied,
        },
        query,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(s: &str) -> Vec<(String, String)> {
        crate::http::extract::query_pairs(Some(s))
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
