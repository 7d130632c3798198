//! Master key rotation beside a running server (issue 17): nothing lost under load, the old key
//! alone refused after, `ACORN_MASTER_KEY` rotations.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use acorn_server::admin::Store;
use acorn_server::admin::{KeySource, Keyring};
use serde_json::json;

use crate::helpers::{spawn_app_with, Backend, MerchantCreds, TestApp};

/// One created customer: whose token, its id, its document number.
type Made = (String, String, String);

/// Creates customers (and now and then a new merchant, whose first write makes its data key)
/// until `stop`; returns what it made.
async fn writer(
    app: Arc<TestApp>,
    n: usize,
    stop: Arc<AtomicBool>,
    count: Arc<AtomicUsize>,
) -> Vec<Made> {
    let mut made = Vec::new();
    let mut merchant: MerchantCreds = app.merchant.clone();
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        if i % 5 == 0 {
            merchant = app.new_merchant(&format!("writer {n} merchant {i}")).await;
        }
        let doc = format!("DOC-{n}-{i}");
        let r = app
            .create_customer_as(
                &merchant.token,
                &json!({"email": format!("w{n}-{i}@example.com"), "document_number": doc}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        made.push((
            merchant.token.clone(),
            r.data()["id"].as_str().unwrap().to_owned(),
            doc,
        ));
        count.fetch_add(1, Ordering::Relaxed);
        i += 1;
    }
    made
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_under_load_loses_nothing() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        // The writers make merchants (and so token grants) faster than the grant limit allows.
        let Some(app) = spawn_app_with(backend, |c| {
            c.rate_limit = None;
            c.grant_rate_limit = None;
        })
        .await
        else {
            continue;
        };
        rotate_under_load(app).await;
    }
}

async fn rotate_under_load(app: TestApp) {
    let source = KeySource::of(&app.config).unwrap();
    let KeySource::File(path) = source.clone() else {
        panic!("tests keep keys in a file")
    };
    let old_file = std::fs::read_to_string(&path).unwrap();
    let app = Arc::new(app);
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..3)
        .map(|n| tokio::spawn(writer(app.clone(), n, stop.clone(), count.clone())))
        .collect();
    wait_until("writes before the rotation", || {
        count.load(Ordering::Relaxed) >= 20
    })
    .await;
    // As `acorn keys rotate` does: its own connection to the database, the same key file.
    let store = Store::open(&app.config.database_url).await.unwrap();
    let rotation =
        acorn_server::admin::rotate(&store, Keyring::load(source.clone()).unwrap(), |_| {})
            .await
            .unwrap();
    let after = count.load(Ordering::Relaxed);
    wait_until("writes after the rotation", || {
        count.load(Ordering::Relaxed) >= after + 20
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    let mut made = Vec::new();
    for w in writers {
        made.extend(w.await.unwrap());
    }
    assert_eq!(rotation.to, 2);
    assert!(rotation.key_file_pruned);
    assert!(rotation.rewrapped >= 1, "{rotation:?}");
    let status = acorn_server::admin::key_status(&store).await.unwrap();
    assert_eq!(status.version, 2);
    assert_eq!(
        status.data_keys.keys().copied().collect::<Vec<_>>(),
        [2],
        "{status:?}"
    );
    let file = std::fs::read_to_string(&path).unwrap();
    assert!(
        file.starts_with("v2:") && file.lines().count() == 1,
        "{file}"
    );

    // A restart with the rotated key file opens every data key (under v2 only)…
    let mut config = app.config.clone();
    config.listen = "127.0.0.1:0".parse().unwrap();
    let again = acorn_server::Application::build(config.clone())
        .await
        .expect("restart after rotation");
    drop(again);
    // …and every customer written before, during and after the rotation reads back.
    for (token, id, doc) in &made {
        let r = app.get_customer_as(token, id).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.data()["document_number"], doc.as_str());
    }
    // The old key alone is refused, naming the version, and changes nothing.
    let old = path.with_file_name("old.key");
    std::fs::write(&old, old_file).unwrap();
    config.master_key_file = Some(old);
    let err = acorn_server::Application::build(config)
        .await
        .err()
        .expect("the old key must be refused");
    assert!(
        format!("{err:#}").contains("rotated to master key v2"),
        "{err:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_env_key_rotates_once_the_new_version_is_given() {
    let v1 = "11".repeat(32);
    let v2 = "22".repeat(32);
    let app = spawn_app_with(Backend::Sqlite, |c| c.master_key = Some(v1.clone().into()))
        .await
        .expect("sqlite app");
    let id = app
        .customer(json!({"email": "env@example.com", "document_number": "4242"}))
        .await;
    let store = Store::open(&app.config.database_url).await.unwrap();
    let ring = |text: &str| Keyring::load(KeySource::Env(text.to_owned().into())).unwrap();
    let err = acorn_server::admin::rotate(&store, ring(&v1), |_| {})
        .await
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("already wrapped under v1"),
        "{err:#}"
    );
    let done = acorn_server::admin::rotate(&store, ring(&format!("v2:{v2},v1:{v1}")), |_| {})
        .await
        .unwrap();
    assert_eq!((done.to, done.key_file_pruned), (2, false));
    let mut config = app.config.clone();
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.master_key = Some(format!("v2:{v2}").into());
    acorn_server::Application::build(config.clone())
        .await
        .expect("the new key alone opens it");
    assert_eq!(
        app.get_customer(&id).await.data()["document_number"],
        "4242"
    );
    config.master_key = Some(v1.into());
    let err = acorn_server::Application::build(config.clone())
        .await
        .err()
        .expect("v1 alone is refused");
    assert!(
        format!("{err:#}").contains("rotated to master key v2"),
        "{err:#}"
    );
    // A different key under a known version is refused too.
    config.master_key = Some(format!("v2:{}", "33".repeat(32)).into());
    let err = acorn_server::Application::build(config)
        .await
        .err()
        .expect("a wrong v2 is refused");
    assert!(format!("{err:#}").contains("wrong master key"), "{err:#}");
}
