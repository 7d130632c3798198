//! KYC files (contract §4.7): upload checks, all-or-nothing storage, listing, signed links.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use acorn_server::testing::now_secs;
use acorn_server::testing::sweep_orphans;
use acorn_types::{CustomerFile, FileId, MerchantId};
use axum::body::Body;
use bytes::Bytes;
use futures::StreamExt;
use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tower::ServiceExt;

use crate::both_stores;
use crate::helpers::{file_form, spawn_app, spawn_app_with, Backend, TestApp};

const PDF: &[u8] = b"%PDF-1.7\n";
const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0];
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
const MIB: usize = 1024 * 1024;

/// `len` bytes starting with `signature`, the rest pseudo-random (so every test file differs).
fn doc(signature: &[u8], len: usize, seed: u64) -> Vec<u8> {
    let mut out = signature.to_vec();
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.push(x.to_le_bytes()[0]);
    }
    out.truncate(len);
    out
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

async fn new_customer(app: &TestApp) -> String {
    app.customer(json!({"email": format!("{}@example.com", uuid::Uuid::new_v4().simple())}))
        .await
}

/// Asserts the request stored nothing: no listed file, no object.
#[track_caller]
fn assert_nothing_stored(app: &TestApp, listed: &Value) {
    assert_eq!(listed, &json!([]), "no metadata row may exist");
    assert_eq!(
        app.stored_objects(),
        Vec::<String>::new(),
        "no object may exist"
    );
}

fn with_query_param(url: &str, name: &str, value: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("url");
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == name {
                value.to_owned()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    parsed.query_pairs_mut().clear().extend_pairs(pairs);
    parsed.to_string()
}

both_stores! {
    async fn pdf_jpeg_and_png_round_trip_through_signed_links(app) {
        let cus = new_customer(&app).await;
        let docs = [
            ("passport.pdf", "passport", doc(PDF, 48_213, 1), "application/pdf", "PASSPORT"),
            ("front.jpg", "Ssn_Front", doc(JPEG, 20_000, 2), "image/jpeg", "SSN_FRONT"),
            ("bill.png", "ADDRESS_PROOF", doc(PNG, 7_000, 3), "image/png", "ADDRESS_PROOF"),
        ];
        let mut ids = Vec::new();
        for (name, file_type, bytes, content_type, canonical) in &docs {
            let r = app.upload(&cus, file_type, &[(name, bytes)]).await;
            assert_eq!(r.status, 201, "{}", r.body);
            assert_eq!(r.body["msg"], "file upload successful");
            assert_eq!(r.data().as_array().map(Vec::len), Some(1));
            let f = &r.data()[0];
            let id = f["id"].as_str().expect("id");
            assert!(id.starts_with("file_"), "{id}");
            assert_eq!(f["fileType"], *canonical);
            assert_eq!(f["file_type"], *canonical);
            assert_eq!(f["name"], *name);
            assert_eq!(f["content_type"], *content_type);
            assert_eq!(f["size"], bytes.len());
            assert_eq!(f["sha256"], sha(bytes));
            assert!(f["created_at"].as_str().is_some_and(|t| t.ends_with('Z')));
            let url = f["url"].as_str().expect("url");
            let prefix = format!("{}/api/v1/files/{id}/content?expires=", app.base);
            assert!(url.starts_with(&prefix) && url.contains("&signature="), "{url}");

            let d = app.download(url).await;
            assert_eq!(d.status, 200);
            assert_eq!(sha(&d.bytes), sha(bytes));
            assert_eq!(&d.bytes, bytes);
            assert_eq!(d.header("content-type"), Some(*content_type));
            assert_eq!(d.header("content-length"), Some(bytes.len().to_string().as_str()));
            let disposition = format!("attachment; filename=\"{name}\"");
            assert_eq!(d.header("content-disposition"), Some(disposition.as_str()));
            ids.push(id.to_owned());
        }

        let listed = app.list_files(&cus).await;
        assert_eq!(listed.status, 200, "{}", listed.body);
        let files: Vec<CustomerFile> = serde_json::from_value(listed.data().clone()).expect("the SDK's type reads the list");
        ids.reverse();
        assert_eq!(files.iter().map(|f| f.id.clone()).collect::<Vec<_>>(), ids, "newest first");
        for (f, (_, _, bytes, ..)) in files.iter().zip(docs.iter().rev()) {
            assert_eq!(f.sha256, sha(bytes));
            let d = app.download(&f.url).await;
            assert_eq!(d.status, 200);
            assert_eq!(sha(&d.bytes), f.sha256);
        }

        // Objects are keyed <merchant>/<file id>, nothing else.
        let objects = app.stored_objects();
        assert_eq!(objects.len(), 3, "{objects:?}");
        for f in &files {
            let bare = f.id.trim_start_matches("file_");
            assert!(objects.iter().any(|o| o.split('/').count() == 2 && o.ends_with(bare)), "{objects:?}");
        }
    }

    async fn several_files_in_one_request(app) {
        let cus = new_customer(&app).await;
        let (a, b, c) = (doc(PDF, 1_000, 4), doc(PNG, 2_000, 5), doc(JPEG, 3_000, 6));
        let r = app.upload(&cus, "cpf_document", &[("a.pdf", &a), ("b.png", &b), ("c.jpg", &c)]).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let names: Vec<&str> = r.data().as_array().expect("array").iter().filter_map(|f| f["name"].as_str()).collect();
        assert_eq!(names, ["a.pdf", "b.png", "c.jpg"]);
        assert!(r.data().as_array().expect("array").iter().all(|f| f["file_type"] == "CPF_DOCUMENT"));

        let listed = app.list_files(&cus).await;
        let names: Vec<&str> = listed.data().as_array().expect("array").iter().filter_map(|f| f["name"].as_str()).collect();
        assert_eq!(names, ["c.jpg", "b.png", "a.pdf"], "newest first");
        assert_eq!(app.stored_objects().len(), 3);
    }

    async fn the_content_decides_the_type_not_the_name(app) {
        let cus = new_customer(&app).await;
        let png = doc(PNG, 5_000, 7);
        let r = app.upload(&cus, "passport", &[("scan.pdf", &png)]).await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.data()[0]["content_type"], "image/png");
        assert_eq!(r.data()[0]["name"], "scan.pdf");
        let d = app.download(r.data()[0]["url"].as_str().expect("url")).await;
        assert_eq!(d.header("content-type"), Some("image/png"));
        assert_eq!(d.header("content-disposition"), Some("attachment; filename=\"scan.png\""));

        let exe = [b"MZ\x90\x00\x03\x00\x00\x00\x04\x00".as_slice(), &[0u8; 200]].concat();
        let elf = [b"\x7fELF\x02\x01\x01\x00".as_slice(), &[0u8; 200]].concat();
        let text = b"%PD is not enough: this is plain text".to_vec();
        for (name, bytes) in [("setup.pdf", &exe), ("tool.pdf", &elf), ("notes.pdf", &text), ("tiny.pdf", &b"%P".to_vec())] {
            let r = app.upload(&cus, "passport", &[(name, bytes)]).await;
            r.assert_error(415, "validation_error");
            assert_eq!(r.reason_codes(), ["unsupported_media_type"], "{name}");
        }
        // A declared PDF content type does not help either.
        let part = Part::bytes(text.clone()).file_name("notes.pdf").mime_str("application/pdf").expect("mime");
        let form = Form::new().text("file_type", "passport").part("file", part);
        app.upload_form_as(&app.merchant.token, &cus, form).await.assert_error(415, "validation_error");

        assert_eq!(app.list_files(&cus).await.data().as_array().map(Vec::len), Some(1));
        assert_eq!(app.stored_objects().len(), 1);
    }

    async fn five_mib_is_the_most_a_file_may_hold(app) {
        let cus = new_customer(&app).await;
        let over = doc(PDF, 5 * MIB + 1, 8);
        let r = app.upload(&cus, "passport", &[("big.pdf", &over)]).await;
        r.assert_error(413, "validation_error");
        assert_eq!(r.reason_codes(), ["payload_too_large"]);
        assert_nothing_stored(&app, app.list_files(&cus).await.data());

        let exact = doc(PDF, 5 * MIB, 9);
        let r = app.upload(&cus, "passport", &[("max.pdf", &exact)]).await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.data()[0]["size"], 5 * MIB);
    }

    async fn one_bad_part_stores_nothing(app) {
        let cus = new_customer(&app).await;
        let good = doc(PDF, 10_000, 10);
        let text = b"plain text".to_vec();
        let big = doc(PNG, 5 * MIB + 1, 11);
        let empty = Vec::new();
        for (bad, status, code) in [(&text, 415, "unsupported_media_type"), (&big, 413, "payload_too_large"), (&empty, 422, "invalid_input")] {
            let r = app.upload(&cus, "passport", &[("good.pdf", &good), ("bad.pdf", bad)]).await;
            r.assert_error(status, "validation_error");
            assert_eq!(r.reason_codes(), [code]);
            assert_nothing_stored(&app, app.list_files(&cus).await.data());
        }
    }

    async fn missing_or_unknown_parts_are_422(app) {
        let cus = new_customer(&app).await;
        let good = doc(PDF, 1_000, 12);
        let t = app.merchant.token.clone();

        let r = app.upload_form_as(&t, &cus, file_form(None, &[("a.pdf", &good)])).await;
        r.assert_error(422, "validation_error");
        assert_eq!(r.failure_fields(), ["file_type"]);
        assert_eq!(r.reason_codes(), ["missing_required_information"]);

        let r = app.upload_form_as(&t, &cus, file_form(Some("passport"), &[])).await;
        r.assert_error(422, "validation_error");
        assert_eq!(r.failure_fields(), ["file"]);
        assert_eq!(r.reason_codes(), ["missing_required_information"]);

        let r = app.upload(&cus, "drivers_license", &[("a.pdf", &good)]).await;
        r.assert_error(422, "validation_error");
        assert_eq!(r.failure_fields(), ["file_type"]);

        let r = app.upload(&cus, "passport", &[("empty.pdf", &[])]).await;
        r.assert_error(422, "validation_error");
        assert_eq!(r.failure_fields(), ["file"]);

        let form = file_form(Some("passport"), &[("a.pdf", &good)]).text("note", "hi");
        let r = app.upload_form_as(&t, &cus, form).await;
        r.assert_error(422, "validation_error");
        assert_eq!(r.failure_fields(), ["note"]);

        let form = file_form(Some("passport"), &[("a.pdf", &good)]).text("file_type", "ssn_back");
        app.upload_form_as(&t, &cus, form).await.assert_error(422, "validation_error");

        let many: Vec<(&str, &[u8])> = (0..11).map(|_| ("a.pdf", good.as_slice())).collect();
        let r = app.upload(&cus, "passport", &many).await;
        r.assert_error(422, "validation_error");
        assert_eq!(r.failure_fields(), ["file"]);

        assert_nothing_stored(&app, app.list_files(&cus).await.data());
    }

    async fn only_multipart_is_accepted(app) {
        let cus = new_customer(&app).await;
        let path = format!("/api/v1/customers/{cus}/files");
        let t = app.merchant.token.clone();
        let r = app.send(Method::POST, &path, Some(&json!({"file_type": "passport"})), Some(&t), &[]).await;
        r.assert_error(415, "validation_error");
        assert_eq!(r.reason_codes(), ["unsupported_media_type"]);
        for content_type in ["text/plain", "multipart/form-data", "multipart/mixed; boundary=x"] {
            let res = app.http.post(format!("{}{path}", app.base)).bearer_auth(&t)
                .header("content-type", content_type).body("%PDF-1.7").send().await.expect("send");
            crate::helpers::decode(res).await.assert_error(415, "validation_error");
        }
        let res = app.http.post(format!("{}{path}", app.base)).bearer_auth(&t).body("%PDF-1.7").send().await.expect("send");
        crate::helpers::decode(res).await.assert_error(415, "validation_error");
        // Uploading needs a token like every other merchant endpoint.
        let res = app.http.post(format!("{}{path}", app.base))
            .multipart(file_form(Some("passport"), &[("a.pdf", PDF)])).send().await.expect("send");
        crate::helpers::decode(res).await.assert_error(401, "authentication_error");
        assert_nothing_stored(&app, app.list_files(&cus).await.data());
    }

    async fn expired_and_altered_links_are_403(app) {
        let cus = new_customer(&app).await;
        let bytes = doc(PDF, 2_000, 13);
        let r = app.upload(&cus, "passport", &[("a.pdf", &bytes), ("b.pdf", &bytes)]).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let url = r.data()[0]["url"].as_str().expect("url").to_owned();
        let other_id = r.data()[1]["id"].as_str().expect("id").to_owned();
        let id = FileId::parse(r.data()[0]["id"].as_str().expect("id")).expect("file id");
        assert_eq!(app.download(&url).await.status, 200);

        let expired = app.state.files.links.url_until(&app.base, id, now_secs() - 1);
        let signature = url::Url::parse(&url).expect("url").query_pairs()
            .find(|(k, _)| k == "signature").map(|(_, v)| v.into_owned()).expect("signature");
        let mut flipped = signature.clone();
        let last = if flipped.ends_with('0') { "1" } else { "0" };
        flipped.replace_range(flipped.len() - 1.., last);
        let later = (now_secs() + 7 * 24 * 3600).to_string();
        let bad = [
            (expired, "download link expired"),
            (with_query_param(&url, "signature", &flipped), "invalid download link"),
            (with_query_param(&url, "expires", &later), "invalid download link"),
            (url.replace(&id.to_string(), &other_id), "invalid download link"),
            (url.replace(&id.to_string(), "file_nope"), "invalid download link"),
            (url.split('?').next().expect("path").to_owned(), "invalid download link"),
            (url.replace("&signature=", "&sig="), "invalid download link"),
        ];
        for (link, msg) in bad {
            let d = app.download(&link).await;
            assert_eq!(d.status, 403, "{link}");
            let body: Value = serde_json::from_slice(&d.bytes).expect("JSON envelope");
            assert_eq!(body["error_code"], "authorization_error", "{link}");
            assert_eq!(body["msg"], msg, "{link}");
            assert_eq!(body["data"], Value::Null);
        }
        assert_eq!(app.download(&url).await.status, 200, "the genuine link still works");
    }

    async fn other_merchants_customers_do_not_exist(app) {
        let cus = new_customer(&app).await;
        let bytes = doc(JPEG, 3_000, 14);
        assert_eq!(app.upload(&cus, "passport", &[("a.jpg", &bytes)]).await.status, 201);
        let other = app.new_merchant("other merchant").await;

        let r = app.upload_as(&other.token, &cus, "passport", &[("b.jpg", &bytes)]).await;
        r.assert_error(404, "not_found");
        app.list_files_as(&other.token, &cus).await.assert_error(404, "not_found");

        let unknown = format!("cus_{}", uuid::Uuid::now_v7());
        for id in [unknown.as_str(), "cus_nope", "42"] {
            app.upload(id, "passport", &[("b.jpg", &bytes)]).await.assert_error(404, "not_found");
            app.list_files(id).await.assert_error(404, "not_found");
        }
        assert_eq!(app.list_files(&cus).await.data().as_array().map(Vec::len), Some(1));
        assert_eq!(app.stored_objects().len(), 1);
    }

    async fn path_traversal_names_are_harmless(app) {
        let cus = new_customer(&app).await;
        let bytes = doc(PDF, 1_000, 15);
        let names = ["../../etc/passwd", "..\\..\\boot.ini", "/abs/dir/x.pdf", "a/../../../b.pdf", "..", "semi;colon name.pdf"];
        let files: Vec<(&str, &[u8])> = names.iter().map(|n| (*n, bytes.as_slice())).collect();
        let r = app.upload(&cus, "passport", &files).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let shown: Vec<&str> = r.data().as_array().expect("array").iter().filter_map(|f| f["name"].as_str()).collect();
        assert_eq!(shown, ["passwd", "boot.ini", "x.pdf", "b.pdf", "file", "semi;colon name.pdf"]);

        let dispositions = ["passwd.pdf", "boot.pdf", "x.pdf", "b.pdf", "file.pdf", "semi_colon_name.pdf"];
        for (f, want) in r.data().as_array().expect("array").iter().zip(dispositions) {
            let d = app.download(f["url"].as_str().expect("url")).await;
            assert_eq!(d.status, 200);
            assert_eq!(d.header("content-disposition"), Some(format!("attachment; filename=\"{want}\"").as_str()));
        }
        let objects = app.stored_objects();
        assert_eq!(objects.len(), names.len());
        for o in &objects {
            let parts: Vec<&str> = o.split('/').collect();
            assert!(parts.len() == 2 && parts.iter().all(|p| uuid::Uuid::parse_str(p).is_ok()), "{o}");
        }
        for escaped in ["etc/passwd", "../etc/passwd", "boot.ini", "../b.pdf"] {
            assert!(!app.config.data_dir.join(escaped).exists(), "{escaped}");
        }
    }

    async fn a_failed_metadata_write_leaves_no_object(app) {
        let cus = new_customer(&app).await;
        sqlx::any::install_default_drivers();
        let db = sqlx::AnyPool::connect(&app.config.database_url).await.expect("connect");
        sqlx::query("ALTER TABLE files RENAME TO files_away").execute(&db).await.expect("rename");
        let bytes = doc(PDF, 1_000, 16);
        let r = app.upload(&cus, "passport", &[("a.pdf", &bytes), ("b.pdf", &bytes)]).await;
        r.assert_error(500, "internal_error");
        assert!(r.body["failure_reasons"][0]["support_reference"].is_string());
        assert_eq!(app.stored_objects(), Vec::<String>::new(), "written objects are removed again");
        sqlx::query("ALTER TABLE files_away RENAME TO files").execute(&db).await.expect("rename back");
        db.close().await;
        assert_eq!(app.upload(&cus, "passport", &[("a.pdf", &bytes)]).await.status, 201);
    }

    async fn the_sweep_removes_only_old_unrecorded_objects(app) {
        let cus = new_customer(&app).await;
        let bytes = doc(PNG, 1_000, 17);
        let r = app.upload(&cus, "passport", &[("a.png", &bytes)]).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let orphan = FileId::new();
        app.state.files.store.put(MerchantId::new(), orphan, Bytes::from(bytes.clone())).await.expect("put");
        std::fs::write(app.config.data_dir.join("files").join("notes.txt"), "not ours").expect("write");
        assert_eq!(app.stored_objects().len(), 3);

        let young = sweep_orphans(&app.state.files, &app.state.store, Duration::from_secs(3600)).await.expect("sweep");
        assert_eq!(young, 0, "recent objects may belong to uploads in flight");
        let removed = sweep_orphans(&app.state.files, &app.state.store, Duration::ZERO).await.expect("sweep");
        assert_eq!(removed, 1);
        let objects = app.stored_objects();
        assert_eq!(objects.len(), 2, "{objects:?}");
        assert!(objects.contains(&"notes.txt".to_owned()));
        assert!(!objects.iter().any(|o| o.ends_with(&orphan.uuid().to_string())));
        assert_eq!(app.download(r.data()[0]["url"].as_str().expect("url")).await.status, 200);
    }
}

/// A multipart body that never ends (up to 1 GiB): a `file_type` part, then 4 MiB PDFs. Counts
/// the bytes the server pulls.
fn endless_upload(pulled: Arc<AtomicU64>) -> Body {
    const CHUNK: usize = 64 * 1024;
    let head = Bytes::from_static(
        b"--XX\r\nContent-Disposition: form-data; name=\"file_type\"\r\n\r\npassport\r\n",
    );
    let mut file_part = vec![Bytes::from_static(
        b"--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n%PDF-",
    )];
    file_part.resize(1 + 4 * MIB / CHUNK, Bytes::from(vec![0u8; CHUNK]));
    file_part.push(Bytes::from_static(b"\r\n"));
    let chunks = std::iter::once(head).chain(file_part.into_iter().cycle());
    let mut total = 0u64;
    let limited = chunks.take_while(move |c| {
        total += c.len() as u64;
        total <= 1 << 30
    });
    let stream = futures::stream::iter(limited).map(move |c| {
        pulled.fetch_add(c.len() as u64, Ordering::SeqCst);
        Ok::<_, std::io::Error>(c)
    });
    Body::from_stream(stream)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_1_gib_upload_is_refused_early_not_buffered() {
    let app = spawn_app(Backend::Sqlite).await.expect("sqlite app");
    let cus = new_customer(&app).await;
    let send = |announce: bool, pulled: Arc<AtomicU64>| {
        let mut req = http::Request::post(format!("/api/v1/customers/{cus}/files"))
            .header("authorization", format!("Bearer {}", app.merchant.token))
            .header("content-type", "multipart/form-data; boundary=XX");
        if announce {
            req = req.header("content-length", (1u64 << 30).to_string());
        }
        let req = req.body(endless_upload(pulled)).expect("request");
        acorn_server::testing::router(app.state.clone()).oneshot(req)
    };

    // Announced: refused from the header, before a byte is read.
    let pulled = Arc::new(AtomicU64::new(0));
    let res = send(true, pulled.clone()).await.expect("response");
    assert_eq!(res.status(), 413);
    assert_eq!(pulled.load(Ordering::SeqCst), 0);

    // Streamed without a length: cut off at the 26 MiB request limit.
    let pulled = Arc::new(AtomicU64::new(0));
    let res = send(false, pulled.clone()).await.expect("response");
    assert_eq!(res.status(), 413);
    let read = pulled.load(Ordering::SeqCst);
    assert!(read <= 27 * MIB as u64, "read {read} bytes");
    let body = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .expect("body");
    let body: Value = serde_json::from_slice(&body).expect("envelope");
    assert_eq!(body["failure_reasons"][0]["code"], "payload_too_large");
    assert_nothing_stored(&app, app.list_files(&cus).await.data());
}

/// Needs `ACORN_TEST_S3_ENDPOINT` naming an S3-compatible server that accepts unsigned bucket
/// creation (`.ci/run` starts moto's); credentials come from `AWS_ACCESS_KEY_ID` and
/// `AWS_SECRET_ACCESS_KEY` (any value works with moto). Ignored by default, so a run without
/// one shows it as ignored rather than passed; run it with `-- --ignored`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs ACORN_TEST_S3_ENDPOINT (see docs/testing.md)"]
async fn s3_round_trip() {
    let endpoint = std::env::var("ACORN_TEST_S3_ENDPOINT").expect(
        "ACORN_TEST_S3_ENDPOINT is not set: it names the S3-compatible server this test needs \
         (.ci/run starts one; see docs/testing.md)",
    );
    assert!(
        std::env::var("AWS_ACCESS_KEY_ID").is_ok()
            && std::env::var("AWS_SECRET_ACCESS_KEY").is_ok(),
        "ACORN_TEST_S3_ENDPOINT is set: also set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    );
    let endpoint = endpoint.trim_end_matches('/').to_owned();
    let bucket = format!("acorn-test-{}", uuid::Uuid::new_v4().simple());
    let raw = reqwest::Client::new();
    let created = raw
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .expect("create bucket");
    assert!(
        created.status().is_success(),
        "creating the bucket: {}",
        created.status()
    );

    let store = format!("s3://{bucket}/acorn?endpoint={endpoint}");
    let app = spawn_app_with(Backend::Sqlite, |c| c.file_store = Some(store))
        .await
        .expect("app");
    let cus = new_customer(&app).await;
    let (pdf, png) = (doc(PDF, 300_000, 20), doc(PNG, 4_000, 21));
    let r = app
        .upload(&cus, "passport", &[("p.pdf", &pdf), ("p.png", &png)])
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let listed = app.list_files(&cus).await;
    let files: Vec<CustomerFile> = serde_json::from_value(listed.data().clone()).expect("files");
    assert_eq!(files.len(), 2);
    for (f, bytes) in files.iter().zip([&png, &pdf]) {
        let d = app.download(&f.url).await;
        assert_eq!(d.status, 200);
        assert_eq!(sha(&d.bytes), sha(bytes));
        assert_eq!(
            d.header("content-length"),
            Some(bytes.len().to_string().as_str())
        );
    }
    assert!(
        app.stored_objects().is_empty(),
        "nothing goes to the local directory"
    );

    let keys = || async {
        let listing = raw
            .get(format!("{endpoint}/{bucket}?list-type=2"))
            .send()
            .await
            .expect("list");
        listing.text().await.expect("listing")
    };
    let listing = keys().await;
    for f in &files {
        let bare = f.id.trim_start_matches("file_");
        assert!(
            listing.contains("<Key>acorn/") && listing.contains(bare),
            "{listing}"
        );
    }

    let orphan = FileId::new();
    app.state
        .files
        .store
        .put(MerchantId::new(), orphan, Bytes::from(pdf.clone()))
        .await
        .expect("put");
    assert!(keys().await.contains(&orphan.uuid().to_string()));
    let removed = sweep_orphans(&app.state.files, &app.state.store, Duration::ZERO)
        .await
        .expect("sweep");
    assert_eq!(removed, 1);
    let listing = keys().await;
    assert!(!listing.contains(&orphan.uuid().to_string()), "{listing}");
    assert_eq!(app.download(&files[0].url).await.status, 200);
}

both_stores! {
    async fn an_upload_moves_required_documents_through_to_approval(app) {
        let id = app.customer(json!({"email": "dora+documents@example.com", "country_code": "us"})).await;
        let r = app.submit(&id, &json!({"provider": "stripe", "target_role": "customer"})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        app.wait_for_status(&id, "DOCUMENT_REQUIRED").await;
        let reg = app.registration_status(&id).await.data()[0].clone();
        assert_eq!((reg["documents"].as_str(), reg["action_required"].as_bool()), (Some("required"), Some(true)));

        let r = app.upload(&id, "passport", &[("passport.pdf", &doc(PDF, 2048, 7))]).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let c = app.wait_for_status(&id, "APPROVED").await;
        assert_eq!(c["platforms"][0]["status"], "approved");
        let reg = app.registration_status(&id).await.data()[0].clone();
        assert_eq!(reg["documents"], "accepted");

        // Every status on the way was recorded, in order.
        let events = app.events("event=customer.updated&limit=100").await;
        let mut statuses: Vec<String> = events.data()["event_list"]
            .as_array()
            .expect("events")
            .iter()
            .filter(|e| e["data"]["changes"].as_array().is_some_and(|f| f.iter().any(|x| x == "status")))
            .map(|e| e["data"]["status"].as_str().expect("status").to_owned())
            .collect();
        statuses.reverse();
        assert_eq!(statuses, ["INITIATED", "PROCESSING", "DOCUMENT_REQUIRED", "DOCUMENT_PENDING", "DOCUMENT_APPROVED", "APPROVED"]);
    }

    async fn an_upload_without_required_documents_changes_no_status(app) {
        let id = app.customer(json!({"email": "plain@example.com"})).await;
        let r = app.upload(&id, "PASSPORT", &[("p.png", &doc(PNG, 100, 1))]).await;
        assert_eq!(r.status, 201);
        let c = app.get_customer(&id).await;
        assert_eq!((c.data()["status"].as_str(), c.data()["version"].as_i64()), (Some("NOT_STARTED"), Some(1)));
    }
}
