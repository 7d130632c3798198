//! `client.webhooks()` against a real server, and `parse_webhook` on a real delivery: the
//! server's signer checked by the SDK's verifier.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use acorn_sdk::types::{NotificationListParams, RegisterWebhookRequest, UpdateWebhookRequest};
use acorn_sdk::{parse_webhook, OakError};
use axum::body::Bytes;
use axum::http::HeaderMap;

use crate::helpers::{eventually, spawn_server, with_email};

type Hits = Arc<Mutex<Vec<(String, Bytes)>>>;

async fn receiver() -> (String, Hits) {
    let hits: Hits = Arc::default();
    let store = hits.clone();
    let app = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let store = store.clone();
            async move {
                let sig = headers["oak-signature"]
                    .to_str()
                    .unwrap_or_default()
                    .to_owned();
                store.lock().unwrap().push((sig, body));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/hooks"), hits)
}

#[tokio::test]
async fn the_webhook_service_and_parse_webhook() {
    let server = spawn_server().await;
    let client = server.client();
    let hooks = client.webhooks();
    let (url, hits) = receiver().await;
    let req = RegisterWebhookRequest {
        url: url.clone(),
        description: Some("e2e".into()),
        event_types: Some(vec!["customer.created".into()]),
    };
    let hook = hooks.register(&req).await.unwrap().data;
    let secret = hook.secret.clone().expect("secret at registration");
    assert!(hook.id.starts_with("wh_"));
    assert_eq!(hooks.list().await.unwrap().data.len(), 1);
    assert_eq!(hooks.get(&hook.id).await.unwrap().data.secret, None);
    let update = UpdateWebhookRequest {
        description: Some(Some("renamed".into())),
        ..Default::default()
    };
    let updated = hooks.update(&hook.id, &update).await.unwrap().data;
    assert_eq!(updated.description.as_deref(), Some("renamed"));
    assert!(!hooks.toggle(&hook.id).await.unwrap().data.is_active);
    assert!(hooks.toggle(&hook.id).await.unwrap().data.is_active);

    let customer = server
        .customer(&client, with_email("hook@example.com"))
        .await;
    let (sig, body) = eventually("a delivery", || {
        let hits = hits.clone();
        async move { hits.lock().unwrap().first().cloned() }
    })
    .await;
    let event = parse_webhook(&body, &sig, &secret, Some(Duration::from_secs(300))).unwrap();
    assert_eq!(event.event, "customer.created");
    assert_eq!(event.data["id"], customer.id.as_str());
    assert!(parse_webhook(&body, &sig, "whsec_wrong", None).is_err());
    assert!(parse_webhook(b"{}", &sig, &secret, None).is_err());

    let n = eventually("acknowledged", || {
        let hooks = hooks.clone();
        let id = event.id.clone();
        async move {
            let n = hooks.get_notification(&id).await.ok()?.data;
            n.is_acknowledged.then_some(n)
        }
    })
    .await;
    assert_eq!(n.delivery_attempts.len(), 1);
    let params = NotificationListParams {
        limit: Some(5),
        status: Some("delivered".into()),
        ..Default::default()
    };
    let list = hooks.list_notifications(&params).await.unwrap().data;
    assert_eq!(list.count, 1);
    assert_eq!(list.notification_list[0].id, event.id);
    let replayed = hooks.replay(&event.id).await.unwrap();
    assert_eq!(replayed.data, None);
    eventually("the replay", || {
        let hits = hits.clone();
        async move { (hits.lock().unwrap().len() == 2).then_some(()) }
    })
    .await;
    assert!(hooks.delete(&hook.id).await.unwrap().data.success);
    match hooks.get(&hook.id).await {
        Err(e @ OakError::Api { .. }) => assert_eq!(e.status().map(|s| s.as_u16()), Some(404)),
        other => panic!("expected 404, got {other:?}"),
    }
}
