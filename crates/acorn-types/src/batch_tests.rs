#![allow(clippy::expect_used, clippy::unwrap_used)]

use super::*;
use serde_json::json;

fn body(v: Value) -> Map<String, Value> {
    v.as_object().cloned().expect("object")
}

fn reasons_of(v: Value) -> Vec<(String, String)> {
    CustomerBatchBody::from_body(&body(v))
        .expect_err("invalid")
        .into_iter()
        .map(|r| (r.fields.join(","), r.message))
        .collect()
}

fn request() -> CustomerBatchRequest {
    let customer = |email: &str| CustomerRequest {
        email: Some(email.into()),
        country_code: Some("br".into()),
        ..Default::default()
    };
    CustomerBatchRequest {
        items: vec![
            CustomerBatchItem {
                idempotency_key: Some("signup 1".into()),
                customer: customer("dan@example.com"),
            },
            CustomerBatchItem {
                idempotency_key: None,
                customer: customer("eve@example.com"),
            },
        ],
    }
}

#[test]
fn what_the_sdk_sends_the_server_reads() {
    let req = request();
    let sent = serde_json::to_value(&req).expect("json");
    let read = CustomerBatchBody::from_body(&body(sent.clone())).expect("valid");
    assert_eq!(read.items.len(), 2);
    assert_eq!(
        read.items[0]
            .idempotency_key
            .as_ref()
            .map(IdempotencyKey::as_str),
        Some("signup 1")
    );
    assert_eq!(read.items[1].idempotency_key, None);
    for (item, sent_item) in read.items.iter().zip(&req.items) {
        assert_eq!(
            Value::Object(item.customer.clone()),
            serde_json::to_value(&sent_item.customer).expect("json")
        );
        assert_eq!(
            item.patch().expect("valid"),
            sent_item
                .customer
                .to_patch(WriteMode::Create)
                .expect("valid")
        );
    }
    let back: CustomerBatchRequest = serde_json::from_value(sent).expect("deserialize");
    assert_eq!(
        serde_json::to_value(&back).expect("json"),
        serde_json::to_value(&req).expect("json")
    );
    assert!(!format!("{read:?}").contains("dan@"), "{read:?}");
}

#[test]
fn a_customers_own_errors_are_not_the_batchs() {
    let read = CustomerBatchBody::from_body(&body(json!({"items": [
        {"customer": {"email": "not-an-email"}}
    ]})))
    .expect("the batch is well-formed");
    assert!(read.items[0].patch().is_err());
    let err = serde_json::from_value::<CustomerBatchRequest>(json!({"items": [
        {"customer": {"email": "not-an-email"}}
    ]}))
    .expect_err("typed customers must be valid");
    assert!(
        err.to_string()
            .contains("email is not a valid email address"),
        "{err}"
    );
    let typed = CustomerBatchRequest::try_from(&read).expect_err("invalid");
    assert_eq!(typed[0].fields, ["items[0].customer.email"]);
}

#[test]
fn every_malformed_part_is_named_at_once() {
    let got = reasons_of(json!({"extra": 1, "items": [
        "x",
        {"idempotency_key": "tab\there", "customer": []},
        {"idempotency_key": 7, "other": true},
        {"customer": {}, "idempotency_key": null}
    ]}));
    let want = [
        (
            "extra",
            "extra is not a known field (a batch has only items)",
        ),
        ("items[0]", "items[0] must be an object"),
        (
            "items[1].idempotency_key",
            "items[1].idempotency_key must be 1 to 255 printable ASCII characters",
        ),
        ("items[1].customer", "items[1].customer must be an object"),
        (
            "items[2].other",
            "items[2].other is not a known field (an item has idempotency_key and customer)",
        ),
        (
            "items[2].idempotency_key",
            "items[2].idempotency_key must be 1 to 255 printable ASCII characters",
        ),
        ("items[2].customer", "items[2].customer is required"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(f, m)| ((*f).to_owned(), (*m).to_owned()))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn items_must_be_a_non_empty_array_of_at_most_100() {
    assert_eq!(
        reasons_of(json!({})),
        [("items".to_owned(), "items is required".to_owned())]
    );
    assert_eq!(
        reasons_of(json!({"items": {}})),
        [("items".to_owned(), "items must be an array".to_owned())]
    );
    let many: Vec<Value> = (0..=BATCH_MAX_ITEMS)
        .map(|_| json!({"customer": {}}))
        .collect();
    for items in [vec![], many] {
        assert_eq!(
            reasons_of(json!({ "items": items })),
            [(
                "items".to_owned(),
                "items must hold 1 to 100 customers".to_owned()
            )]
        );
    }
}
