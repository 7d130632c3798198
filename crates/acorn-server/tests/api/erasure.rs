//! Erasure on request: `DELETE /api/v1/customers/{id}` (issue 17).

use reqwest::Method;
use serde_json::json;

use crate::at_rest::{assert_no_plaintext, sensitive_customer};
use crate::both_stores;

const SCAN: &[u8] = b"%PDF-1.7\nsecret passport scan 424242";

both_stores! {
    async fn erasure_end_to_end(app) {
        let id = app.customer(sensitive_customer()).await;
        let r = app.update_customer(&id, &json!({"tax_id": "TAXID-77110"})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let r = app.upload(&id, "passport", &[("scan.pdf", SCAN)]).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let url = r.data()[0]["url"].as_str().unwrap().to_owned();
        assert_eq!(app.stored_objects().len(), 1);
        let token = app.merchant.token.clone();
        let path = format!("/api/v1/customers/{id}");

        let r = app.send(Method::DELETE, &path, None, Some(&token), &[]).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.data(), &json!({"id": id, "deleted": true, "livemode": false}));
        assert_eq!(app.get_customer(&id).await.status, 404);
        // Repeatable.
        let again = app.send(Method::DELETE, &path, None, Some(&token), &[]).await;
        assert_eq!(again.status, 200, "{}", again.body);
        assert_eq!(again.data(), &json!({"id": id, "deleted": true, "livemode": false}));
        // Gone from lists and counts; the email is free again.
        let l = app.list_customers("email=secret.person@example.com").await;
        assert_eq!(l.data()["count"], 0, "{}", l.body);
        assert_eq!(app.list_customers("").await.data()["count"], 0);
        assert_eq!(app.list_files(&id).await.status, 404);
        assert!(app.stored_objects().is_empty(), "file objects must be deleted");
        assert_eq!(app.download(&url).await.status, 404);
        // The events keep their names, their data is scrubbed, and customer.deleted is recorded.
        let events = app.events("limit=100").await;
        let list = events.data()["event_list"].as_array().unwrap().clone();
        let names: Vec<&str> = list.iter().map(|e| e["event"].as_str().unwrap()).collect();
        assert!(names.contains(&"customer.created") && names.contains(&"customer.updated"), "{names:?}");
        assert!(names.contains(&"customer.deleted"), "{names:?}");
        for e in &list {
            if e["event"] != "customer.deleted" {
                assert_eq!(e["data"]["erased"], true, "{e}");
            }
        }
        let r = app.create_customer(&json!({"email": "secret.person@example.com"})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let r = app.send(Method::DELETE, "/api/v1/customers/cus_01a23750-cbd2-778e-9e34-86b3bb1d57a4", None, Some(&token), &[]).await;
        assert_eq!(r.status, 404, "{}", r.body);
        assert_no_plaintext(&app.database_bytes(&["customers", "events"]), "the database after erasure");
    }
}
