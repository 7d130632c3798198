#![allow(clippy::expect_used, clippy::unwrap_used)]

use super::*;
use serde_json::json;

const CUS: &str = "cus_0192f0c5-7f2e-7c3a-9d6e-1a2b3c4d5e6f";

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The query pairs the SDK sends for `params` (each field one value).
fn sent(params: &impl Serialize) -> Vec<(String, String)> {
    let v = serde_json::to_value(params).expect("json");
    v.as_object()
        .expect("object")
        .iter()
        .map(|(k, v)| {
            let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            (k.clone(), text)
        })
        .collect()
}

fn reasons(r: &[FailureReason]) -> Vec<(String, String)> {
    r.iter()
        .map(|r| (r.fields.join(","), r.message.clone()))
        .collect()
}

#[test]
fn list_params_comma_lists_round_trip() {
    let p = ListParams {
        limit: Some(20),
        provider: vec![Provider::Stripe, Provider::PagarMe],
        status: vec![CustomerStatus::Approved],
        email: vec!["a@b.co".into()],
        ..Default::default()
    };
    let v = serde_json::to_value(&p).expect("json");
    assert_eq!(
        v,
        json!({"limit": 20, "provider": "stripe,pagar_me", "status": "APPROVED",
               "email": "a@b.co"})
    );
    let back: ListParams = serde_json::from_value(json!({
        "limit": 20, "provider": "STRIPE, pagar_me", "status": "approved", "email": "a@b.co"
    }))
    .expect("parse");
    assert_eq!(back, p);
    assert!(!format!("{p:?}").contains("a@b.co"));
    assert!(serde_json::from_value::<ListParams>(json!({"provider": "nope"})).is_err());
}

#[test]
fn deserializing_is_from_query() {
    // An array is a repeated parameter; numbers are their text; nulls are absent.
    let back: ListParams = serde_json::from_value(json!({
        "provider": ["stripe", "bridge,stripe"], "limit": 5, "offset": null
    }))
    .expect("parse");
    let pairs = pairs(&[
        ("provider", "stripe"),
        ("provider", "bridge,stripe"),
        ("limit", "5"),
    ]);
    assert_eq!(Ok(back), ListParams::from_query(&pairs));
    let err = serde_json::from_value::<ListParams>(json!({"provider": "stripe,,bridge"}))
        .expect_err("the server refuses an empty item");
    assert_eq!(err.to_string(), "provider contains an empty value");
    let err = serde_json::from_value::<SchemaQuery>(json!({})).expect_err("required");
    assert_eq!(err.to_string(), "provider is required");
    let f: BalanceFilter = serde_json::from_value(json!({"role": "Customer"})).expect("ok");
    assert_eq!(f.role, [TargetRole::Customer]);
}

#[test]
fn what_the_sdk_sends_the_server_reads_back() {
    let p = ListParams {
        limit: Some(50),
        offset: Some(20),
        email: vec!["a@b.co".into(), "c@d.io".into()],
        country_code: vec!["us".into(), "br".into()],
        document_type: vec![DocumentType::Cpf],
        provider: vec![Provider::Stripe, Provider::PagarMe],
        target_role: vec![TargetRole::ConnectedAccount],
        provider_registration_status: vec![RegistrationStatus::Approved],
        status: vec![CustomerStatus::Approved, CustomerStatus::NotStarted],
        ..Default::default()
    };
    assert_eq!(ListParams::from_query(&sent(&p)), Ok(p.clone()));
    let cursor = ListParams {
        starting_after: Some(CUS.into()),
        ..Default::default()
    };
    assert_eq!(ListParams::from_query(&sent(&cursor)), Ok(cursor.clone()));
    assert!(cursor.starting_after_id().is_some());
    let f = BalanceFilter::new(Provider::Stripe, TargetRole::ConnectedAccount);
    assert_eq!(BalanceFilter::from_query(&sent(&f)), Ok(f));
    let s = SchemaQuery {
        provider: Provider::MercadoPago,
    };
    assert_eq!(SchemaQuery::from_query(&sent(&s)), Ok(s));
}

#[test]
fn values_are_normalised_deduplicated_and_repeats_add_up() {
    let p = ListParams::from_query(&pairs(&[
        ("country_code", "US,br,us"),
        ("status", "approved,NOT_STARTED"),
        ("email", "A@b.co"),
        ("provider", "stripe"),
        ("provider", "BRIDGE, stripe"),
        ("ending_before", &CUS["cus_".len()..]),
    ]))
    .expect("ok");
    assert_eq!(p.country_code, ["us", "br"]);
    assert_eq!(
        p.status,
        [CustomerStatus::Approved, CustomerStatus::NotStarted]
    );
    assert_eq!(p.email, ["a@b.co"]);
    assert_eq!(p.provider, [Provider::Stripe, Provider::Bridge]);
    assert_eq!(p.ending_before.as_deref(), Some(CUS));
    assert_eq!(ListParams::default().applied_limit(), 10);
    let big = ListParams::from_query(&pairs(&[("limit", "500")])).expect("ok");
    assert_eq!((big.limit, big.applied_limit()), (Some(500), 100));
}

#[test]
fn every_bad_value_is_reported_with_the_servers_words() {
    let err = ListParams::from_query(&pairs(&[
        ("limit", "0"),
        ("offset", "-1"),
        ("email", "not-an-email"),
        ("document_type", "nope"),
        ("starting_after", "abc"),
        ("ending_before", CUS),
        ("nope", "1"),
    ]))
    .expect_err("bad");
    let got = reasons(&err);
    let want = [
        ("limit", "limit must be an integer ≥ 1"),
        ("offset", "offset must be an integer ≥ 0"),
        (
            "email",
            "email: \"not-an-email\" is not a valid email address",
        ),
        ("starting_after", "starting_after is not a customer id"),
        ("nope", "nope is not a known query parameter"),
        (
            "starting_after,ending_before",
            "starting_after and ending_before are mutually exclusive",
        ),
        ("offset", "offset cannot be combined with a cursor"),
    ];
    assert_eq!(got.len(), want.len() + 1, "{got:?}");
    assert!(got[3]
        .1
        .starts_with("document_type: \"nope\" is not one of: cpf, cnpj"));
    let mut without_doc = got.clone();
    without_doc.remove(3);
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(f, m)| ((*f).to_owned(), (*m).to_owned()))
        .collect();
    assert_eq!(without_doc, want);
    assert_eq!(err[4].code, ReasonCode::InvalidCursor);
}

#[test]
fn balance_and_schema_queries_report_every_problem() {
    let err = BalanceFilter::from_query(&pairs(&[
        ("provider", "stripe,paypal"),
        ("role", ""),
        ("x", "1"),
    ]))
    .expect_err("bad");
    let got = reasons(&err);
    assert!(got[0]
        .1
        .starts_with("provider: \"paypal\" is not one of: stripe"));
    assert_eq!(got[1].1, "role contains an empty value");
    assert_eq!(got[2].1, "x is not a known query parameter");

    let err = SchemaQuery::from_query(&pairs(&[("x", "1")])).expect_err("bad");
    assert_eq!(
        reasons(&err),
        [
            (
                "x".to_owned(),
                "x is not a known query parameter".to_owned()
            ),
            ("provider".to_owned(), "provider is required".to_owned())
        ]
    );
    assert_eq!(err[1].code, ReasonCode::MissingRequiredInformation);
    let err = SchemaQuery::from_query(&pairs(&[("provider", "nope")])).expect_err("bad");
    assert!(err[0]
        .message
        .starts_with("\"nope\" is not a valid provider; allowed:"));
    let ok = SchemaQuery::from_query(&pairs(&[("provider", "Stripe"), ("provider", "x")]));
    assert_eq!(
        ok.map(|q| q.provider),
        Ok(Provider::Stripe),
        "the first counts"
    );
}
