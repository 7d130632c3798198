//! Update (contract §4.4).

use serde_json::{json, Value};

use crate::both_stores;

both_stores! {
    async fn absent_fields_stay_and_null_clears(app) {
        let id = app.customer(json!({"email": "a@example.com", "first_name": "Alice", "last_name": "Smith", "city": "Recife"})).await;
        let r = app.update_customer(&id, &json!({"last_name": "Johnson", "city": null, "phone_country_code": "1",
            "phone_area_code": "415", "phone_number": "5551234"})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["msg"], "Customer updated");
        let c = r.data();
        assert_eq!(c["first_name"], "Alice");
        assert_eq!(c["last_name"], "Johnson");
        assert_eq!(c["city"], Value::Null);
        assert_eq!(c["phone_number"], "5551234");
        assert_eq!(c["version"], 2);
        assert_eq!(app.get_customer(&id).await.data(), c);
    }

    async fn a_no_op_update_keeps_the_version(app) {
        let id = app.customer(json!({"email": "a@example.com", "first_name": "Alice", "country_code": "br"})).await;
        for body in [json!({}), json!({"first_name": "Alice"}), json!({"first_name": " Alice ", "country_code": "BR"})] {
            let r = app.update_customer(&id, &body).await;
            assert_eq!(r.status, 200);
            assert_eq!(r.data()["version"], 1, "{body}");
        }
        let r = app.update_customer(&id, &json!({"first_name": "Alicia"})).await;
        assert_eq!(r.data()["version"], 2);
        let r = app.update_customer(&id, &json!({"first_name": "Alicia", "country_code": "us"})).await;
        assert_eq!(r.data()["version"], 3);
    }

    async fn email_rules_on_update(app) {
        let a = app.customer(json!({"email": "a@example.com"})).await;
        app.customer(json!({"email": "b@example.com"})).await;
        let r = app.update_customer(&a, &json!({"email": null})).await;
        r.assert_error(422, "validation_error");
        assert_eq!(r.failure_fields(), ["email"]);
        let r = app.update_customer(&a, &json!({"email": "B@EXAMPLE.com"})).await;
        r.assert_error(400, "validation_error");
        assert_eq!(r.reason_codes(), ["duplicate_data"]);
        // Changing only the case of one's own address is allowed and is a change.
        let r = app.update_customer(&a, &json!({"email": "A@example.com"})).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.data()["email"], "A@example.com");
        assert_eq!(app.list_customers("email=a@example.com").await.data()["count"], 1);
    }

    async fn same_validation_as_create(app) {
        let id = app.customer(json!({"email": "a@example.com"})).await;
        let r = app.update_customer(&id, &json!({"country_code": "xx", "status": "APPROVED", "nope": 1})).await;
        r.assert_error(422, "validation_error");
        assert_eq!(r.failure_fields(), ["country_code", "nope", "status"]);
        assert_eq!(app.get_customer(&id).await.data()["version"], 1);
    }

    async fn if_match_guards_concurrent_edits(app) {
        let id = app.customer(json!({"email": "a@example.com"})).await;
        let t = app.merchant.token.clone();
        let r = app.update_customer_as(&t, &id, &json!({"first_name": "A"}), &[("if-match", "1")]).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("etag"), Some("\"2\""));
        let r = app.update_customer_as(&t, &id, &json!({"first_name": "B"}), &[("if-match", "1")]).await;
        r.assert_error(409, "conflict");
        assert_eq!(app.get_customer(&id).await.data()["first_name"], "A");
        let r = app.update_customer_as(&t, &id, &json!({"first_name": "B"}), &[("if-match", "\"2\"")]).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.data()["version"], 3);
        let r = app.update_customer_as(&t, &id, &json!({"first_name": "C"}), &[("if-match", "three")]).await;
        r.assert_error(422, "validation_error");
    }

    async fn unknown_customer_is_404(app) {
        let r = app.update_customer("cus_0192f0c5-7f2e-7c3a-9d6e-1a2b3c4d5e6f", &json!({"first_name": "A"})).await;
        r.assert_error(404, "not_found");
    }
}
