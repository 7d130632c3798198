//! Token grant, bearer auth and tenant isolation (contract §1.5, §2).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use acorn_server::testing::AuthMerchant;
use acorn_types::MerchantId;
use axum::body::Body;
use axum::extract::Request;
use axum::middleware::{from_fn, from_fn_with_state, Next};
use axum::routing::{get, post};
use axum::Router;
use reqwest::Method;
use serde_json::json;
use tower::ServiceExt;

use crate::both_stores;
use crate::helpers::{decode, start, Resp, TestApp};

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

/// One operation of the OpenAPI document: the route template, a concrete path for it, and
/// whether the document says it needs no token.
struct Operation {
    method: Method,
    template: String,
    path: String,
    public: bool,
}

/// Every operation the served OpenAPI document lists (it is generated next to the router and
/// covers every API route, sandbox helpers included, but not the signed download link).
async fn documented_operations(app: &TestApp) -> Vec<Operation> {
    let doc = app
        .send(Method::GET, "/openapi.json", None, None, &[])
        .await
        .body;
    let mut out = Vec::new();
    for (template, ops) in doc["paths"].as_object().expect("paths") {
        let path = template
            .split('/')
            .map(|seg| if seg.starts_with('{') { "x" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        for (method, op) in ops.as_object().expect("operations") {
            out.push(Operation {
                method: method.to_uppercase().parse().expect("method"),
                template: template.clone(),
                path: path.clone(),
                public: op.get("security") == Some(&json!([])),
            });
        }
    }
    out
}

/// A request with a malformed JSON body, a bad query, an invalid `Idempotency-Key` and, when
/// given, an `Authorization` header.
async fn hostile(app: &TestApp, method: Method, path: &str, authorization: Option<&str>) -> Resp {
    let mut req = app
        .http
        .request(
            method,
            format!("{}{path}?limit=abc&provider=nope", app.base),
        )
        .header("content-type", "application/json")
        .header("idempotency-key", "k".repeat(300))
        .body("{\"email\": ");
    if let Some(value) = authorization {
        req = req.header("authorization", value);
    }
    decode(req.send().await.expect("send")).await
}

fn merchant_id(merchants: &[acorn_server::admin::MerchantSummary], client_id: &str) -> MerchantId {
    let m = merchants
        .iter()
        .find(|m| m.client_id == client_id)
        .expect("merchant");
    MerchantId::parse(&m.merchant_id).expect("id")
}

both_stores! {
    async fn the_provider_schema_needs_a_token(app) {
        let path = "/api/v1/provider-registration/schema?provider=stripe";
        let r = app.send(Method::GET, path, None, None, &[]).await;
        r.assert_error(401, "authentication_error");
        assert_eq!(r.reason_codes(), ["missing_token"]);
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
        let r = app.send(Method::GET, path, None, Some("garbage"), &[]).await;
        assert_eq!(r.reason_codes(), ["invalid_token"]);
        assert_eq!(app.send(Method::GET, path, None, Some(&app.merchant.token), &[]).await.status, 200);
    }

    async fn unauthenticated_requests_get_401_before_any_other_4xx(app) {
        let url = format!("{}/api/v1/customers", app.base);
        // A bad Idempotency-Key: 401 without a token, 422 with one.
        let bad_key = [("idempotency-key", "\u{e9}t\u{e9}")];
        let body = json!({"email": "a@example.com"});
        for (token, code) in [(None, "missing_token"), (Some("garbage"), "invalid_token")] {
            let r = app.send(Method::POST, "/api/v1/customers", Some(&body), token, &bad_key).await;
            r.assert_error(401, "authentication_error");
            assert_eq!(r.reason_codes(), [code]);
        }
        let long_key = "k".repeat(256);
        let r = app.send(Method::POST, "/api/v1/customers", Some(&body), None, &[("idempotency-key", &long_key)]).await;
        assert_eq!(r.reason_codes(), ["missing_token"]);
        let r = app.send(Method::POST, "/api/v1/customers", Some(&body), Some(&app.merchant.token), &[("idempotency-key", &long_key)]).await;
        r.assert_error(422, "validation_error");
        // A malformed body, a body of the wrong type, a bad query.
        for (ct, raw) in [("application/json", "{\"email\": "), ("application/json", "[1]"), ("text/plain", "hi")] {
            let res = app.http.post(&url).header("content-type", ct).body(raw).send().await.expect("send");
            let r = decode(res).await;
            r.assert_error(401, "authentication_error");
            assert_eq!(r.reason_codes(), ["missing_token"], "{ct} {raw}");
        }
        let r = app.send(Method::GET, "/api/v1/customers?limit=abc&status=nope", None, None, &[]).await;
        assert_eq!((r.status, r.reason_codes()), (401, vec!["missing_token".to_owned()]));
        // Nothing was created, nothing keyed.
        assert_eq!(app.list_customers("").await.data()["count"], 0);
    }

    async fn every_protected_route_answers_401_without_a_token(app) {
        let ops = documented_operations(&app).await;
        // The document now lists every served route, the service endpoints and the signed
        // download link too: of the API routes only those two need no token (Stripe's webhook
        // route, public too, is served only with a Stripe key).
        let mut public: Vec<&str> = ops.iter().filter(|o| o.public && o.template.starts_with("/api/v1/")).map(|o| o.template.as_str()).collect();
        public.sort_unstable();
        assert_eq!(public, ["/api/v1/files/{file_id}/content", "/api/v1/merchant/token/grant"]);
        let protected: Vec<&Operation> = ops.iter().filter(|o| !o.public).collect();
        for template in [
            "/api/v1/provider-registration/schema",
            "/api/v1/customers/{id}/files",
            "/api/v1/sandbox/customers/{id}/balances",
            "/api/v1/sandbox/customers/{id}/registrations/{provider}/{target_role}/status",
        ] {
            assert!(protected.iter().any(|o| o.template == template), "{template} not in the table");
        }
        assert!(protected.len() >= 17, "{} operations", protected.len());
        let bearer = format!("Bearer {}", app.merchant.token);
        for op in protected {
            let what = format!("{} {}", op.method, op.template);
            let r = hostile(&app, op.method.clone(), &op.path, None).await;
            r.assert_error(401, "authentication_error");
            assert_eq!(r.reason_codes(), ["missing_token"], "{what}");
            assert_eq!(r.header("www-authenticate"), Some("Bearer"), "{what}");
            assert!(r.header("x-ratelimit-limit").is_none(), "{what}: unauthenticated, not limited");
            let r = hostile(&app, op.method.clone(), &op.path, Some("Bearer garbage")).await;
            assert_eq!((r.status, r.reason_codes()), (401, vec!["invalid_token".to_owned()]), "{what}");
            // With the token the route exists and gets past auth, into the merchant's rate limit.
            let r = hostile(&app, op.method.clone(), &op.path, Some(&bearer)).await;
            assert!(![401, 405].contains(&r.status), "{what}: {} {}", r.status, r.body);
            assert!(r.header("x-ratelimit-limit").is_some(), "{what}");
        }
    }

    async fn public_routes_answer_without_a_token(app) {
        for path in ["/api/health", "/metrics", "/openapi.json"] {
            let res = app.http.get(format!("{}{path}", app.base)).send().await.expect("send");
            assert_eq!(res.status().as_u16(), 200, "{path}");
            assert!(res.headers().get("x-ratelimit-limit").is_none(), "{path} is not rate limited");
        }
        // The grant is limited per client IP (10/s by default), and only it.
        let r = app.grant(&app.merchant.client_id, &app.merchant.client_secret).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("x-ratelimit-limit"), Some("10"));
        // Signed download links: the signature is the credential, no bearer token.
        let cus = app.customer(json!({"email": "files@example.com"})).await;
        let pdf = [b"%PDF-1.7\n".as_slice(), &[b'a'; 1000]].concat();
        let up = app.upload(&cus, "cpf_document", &[("a.pdf", &pdf)]).await;
        assert_eq!(up.status, 201, "{}", up.body);
        let url = up.data()[0]["url"].as_str().expect("url").to_owned();
        let d = app.download(&url).await;
        assert_eq!(d.status, 200);
        assert_eq!(d.bytes, pdf);
        assert!(d.headers.get("x-ratelimit-limit").is_none());
        let d = app.download(&url.replace("signature=", "signature=0")).await;
        assert_eq!(d.status, 403);
        // Unknown routes and methods keep their answers without a token.
        app.send(Method::GET, "/api/v1/nope", None, None, &[]).await.assert_error(404, "not_found");
        app.send(Method::DELETE, "/api/v1/customers", None, None, &[]).await.assert_error(405, "method_not_allowed");
        app.send(Method::GET, "/api/v1/merchant/token/grant", None, None, &[]).await.assert_error(405, "method_not_allowed");
    }

    async fn limiter_and_idempotency_work_from_the_authenticated_merchant_not_the_header(app) {
        let merchants = app.state.store.list_merchants().await.expect("merchants");
        let merchant = merchant_id(&merchants, &app.merchant.client_id);
        let runs = Arc::new(AtomicUsize::new(0));
        let counter = runs.clone();
        let probe = move || {
            let counter = counter.clone();
            async move { axum::Json(json!({"run": counter.fetch_add(1, Ordering::SeqCst)})) }
        };
        let inner = |router: Router| {
            router
                .route_layer(from_fn_with_state(app.state.clone(), acorn_server::testing::idempotency_layer))
                .route_layer(from_fn_with_state(app.state.clone(), acorn_server::testing::rate_limit_layer))
        };
        let request = |bearer: Option<&str>| {
            let mut req = axum::http::Request::post("/probe")
                .header("content-type", "application/json")
                .header("idempotency-key", "probe-1");
            if let Some(t) = bearer {
                req = req.header("authorization", format!("Bearer {t}"));
            }
            req.body(Body::from("{}")).expect("request")
        };
        // A stand-in auth layer puts the merchant in the extensions; no Authorization header is
        // sent, so the layers can only know the merchant from there.
        let authed = inner(Router::new().route("/probe", post(probe.clone()))).route_layer(from_fn(
            move |mut req: Request, next: Next| async move {
                req.extensions_mut().insert(AuthMerchant(merchant));
                next.run(req).await
            },
        ));
        let first = authed.clone().oneshot(request(None)).await.expect("response");
        assert_eq!(first.status(), 200);
        assert_eq!(first.headers()["x-ratelimit-limit"], "1000");
        assert_eq!(first.headers()["x-ratelimit-remaining"], "1999");
        let second = authed.clone().oneshot(request(None)).await.expect("response");
        assert_eq!(second.headers()["idempotent-replayed"], "true");
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        // Without the extension they stand aside even for a valid bearer header: they never
        // parse or verify the token themselves.
        let bare = inner(Router::new().route("/probe", post(probe)));
        for _ in 0..2 {
            let r = bare.clone().oneshot(request(Some(&app.merchant.token))).await.expect("response");
            assert_eq!(r.status(), 200);
            assert!(r.headers().get("x-ratelimit-limit").is_none());
            assert!(r.headers().get("idempotent-replayed").is_none());
        }
        assert_eq!(runs.load(Ordering::SeqCst), 3);
        // And a handler mounted outside the auth layer refuses: the extractor is a safety net.
        let unguarded = Router::new().route("/who", get(|AuthMerchant(m): AuthMerchant| async move { m.to_string() }));
        let req = axum::http::Request::get("/who")
            .header("authorization", format!("Bearer {}", app.merchant.token))
            .body(Body::empty())
            .expect("request");
        let r = unguarded.oneshot(req).await.expect("response");
        assert_eq!(r.status(), 401);
    }
}
