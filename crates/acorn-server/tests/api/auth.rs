//! Token grant, bearer auth and tenant isolation (contract §1.5, §2).

use reqwest::Method;
use serde_json::json;

use crate::both_stores;
use crate::helpers::start;

both_stores! {
    async fn grant_issues_a_bearer_token_without_envelope(app) {
        let r = app.grant(&app.merchant.client_id, &app.merchant.client_secret).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body["token_type"], "Bearer");
        assert_eq!(r.body["expires_in"], 3600);
        assert!(r.body["access_token"].as_str().is_some_and(|t| t.split('.').count() == 3));
        assert!(r.body.get("msg").is_none());
        // The standard OAuth form encoding works too.
        let res = app.http.post(format!("{}/api/v1/merchant/token/grant", app.base))
            .form(&[("client_id", app.merchant.client_id.as_str()), ("client_secret", app.merchant.client_secret.as_str()), ("grant_type", "client_credentials")])
            .send().await.expect("send");
        assert_eq!(res.status().as_u16(), 200);
    }

    async fn bad_credentials_do_not_say_which_part_was_wrong(app) {
        let wrong_secret = app.grant(&app.merchant.client_id, "sk_wrong").await;
        let unknown_id = app.grant("acorn_unknown", &app.merchant.client_secret).await;
        for r in [&wrong_secret, &unknown_id] {
            r.assert_error(401, "authentication_error");
            assert_eq!(r.body["msg"], "invalid client credentials");
            assert_eq!(r.reason_codes(), ["invalid_client"]);
            assert!(r.header("www-authenticate").is_some_and(|v| v.starts_with("Bearer")));
        }
        assert_eq!(wrong_secret.body, unknown_id.body);
    }

    async fn malformed_grants_are_422(app) {
        let id = app.merchant.client_id.clone();
        for body in [
            json!({"client_id": id, "grant_type": "client_credentials"}),
            json!({"client_id": id, "client_secret": "x", "grant_type": "password"}),
            json!({"client_id": id, "client_secret": "x"}),
            json!({"client_id": id, "client_secret": "x", "grant_type": "client_credentials", "scope": "all"}),
            json!({"client_id": 5, "client_secret": "x", "grant_type": "client_credentials"}),
        ] {
            let r = app.send(Method::POST, "/api/v1/merchant/token/grant", Some(&body), None, &[]).await;
            r.assert_error(422, "validation_error");
        }
    }

    async fn bearer_tokens_are_checked(app) {
        let r = app.send(Method::GET, "/api/v1/customers", None, None, &[]).await;
        r.assert_error(401, "authentication_error");
        assert_eq!(r.reason_codes(), ["missing_token"]);
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));

        let (expired, _) = app.state.auth.issue_at(
            acorn_types::MerchantId::parse(&app.state.store.list_merchants().await.expect("merchants")[0].merchant_id).expect("id"),
            1_000_000,
        ).expect("token");
        let mut tampered = app.merchant.token.clone();
        tampered.insert(tampered.len() / 2, 'x');
        let foreign = jsonwebtoken::encode(
            &jsonwebtoken::Header::default(),
            &json!({"sub": "mer_0192f0c5-7f2e-7c3a-9d6e-1a2b3c4d5e6f", "iss": "acorn", "iat": 1, "exp": 4_000_000_000u64}),
            &jsonwebtoken::EncodingKey::from_secret(b"some other key that is long enough"),
        ).expect("jwt");
        for token in ["garbage", expired.as_str(), tampered.as_str(), foreign.as_str(), ""] {
            let r = app.send(Method::GET, "/api/v1/customers", None, None, &[("authorization", &format!("Bearer {token}"))]).await;
            r.assert_error(401, "authentication_error");
            assert_eq!(r.reason_codes(), ["invalid_token"], "token {token:?}");
        }
        let r = app.send(Method::GET, "/api/v1/customers", None, None, &[("authorization", &format!("Basic {}", app.merchant.token))]).await;
        r.assert_error(401, "authentication_error");
        // The scheme is case-insensitive.
        let r = app.send(Method::GET, "/api/v1/customers", None, None, &[("authorization", &format!("bearer {}", app.merchant.token))]).await;
        assert_eq!(r.status, 200);
    }

    async fn a_deleted_merchants_token_stops_working(app) {
        let gone = app.new_merchant("short-lived").await;
        assert_eq!(app.list_customers_as(&gone.token, "").await.status, 200);
        let merchants = app.state.store.list_merchants().await.expect("merchants");
        let id = merchants.iter().find(|m| m.client_id == gone.client_id).expect("merchant").merchant_id.clone();
        app.state.store.delete_merchant(acorn_types::MerchantId::parse(&id).expect("id")).await.expect("delete");
        let r = app.list_customers_as(&gone.token, "").await;
        r.assert_error(401, "authentication_error");
        assert_eq!(r.reason_codes(), ["invalid_token"]);
    }

    async fn merchants_never_see_each_others_customers(app) {
        let mine = app.customer(json!({"email": "mine@example.com", "country_code": "br"})).await;
        let other = app.new_merchant("other").await;
        app.get_customer_as(&other.token, &mine).await.assert_error(404, "not_found");
        app.update_customer_as(&other.token, &mine, &json!({"first_name": "X"}), &[]).await.assert_error(404, "not_found");
        for q in ["", "country_code=br", "email=mine@example.com", "status=NOT_STARTED"] {
            let r = app.list_customers_as(&other.token, q).await;
            assert_eq!(r.data()["count"], 0, "{q}");
            assert_eq!(r.data()["customer_list"], json!([]));
        }
        assert_eq!(app.get_customer(&mine).await.data()["first_name"], serde_json::Value::Null);
        let theirs = app.create_customer_as(&other.token, &json!({"email": "theirs@example.com"})).await;
        assert_eq!(theirs.status, 200);
        assert_eq!(app.list_customers("").await.data()["count"], 1);
    }

    async fn tokens_survive_a_restart_and_work_on_every_process(app) {
        // A second server process on the same database accepts the first one's token.
        let (_state, base, server) = start(app.config.clone()).await;
        let res = app.http.get(format!("{base}/api/v1/customers")).bearer_auth(&app.merchant.token).send().await.expect("send");
        assert_eq!(res.status().as_u16(), 200);
        server.abort();
    }
}
