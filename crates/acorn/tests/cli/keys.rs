//! `acorn keys`: status, rotation beside a running server, a new key.

use predicates::str::contains;

use crate::helpers::{acorn_bare, Server};

#[test]
fn keys_rotate_beside_a_running_server_and_the_server_keeps_serving() {
    let server = Server::start();
    let dir = server.dir().to_owned();
    let created = server.json(&[
        "customers",
        "create",
        "--email",
        "rotate@example.com",
        "--field",
        "document_number=12345678900",
    ]);
    let id = created["id"].as_str().expect("id").to_owned();
    let status = |args: &[&str]| server.operator_json(args);
    assert_eq!(status(&["keys", "status"])["version"], 1);
    let done = status(&["keys", "rotate"]);
    assert_eq!(done["to"], 2, "{done}");
    assert_eq!(done["key_file_pruned"], true);
    assert!(done["rewrapped"].as_u64().expect("count") >= 1, "{done}");
    let after = status(&["keys", "status"]);
    assert_eq!(after["version"], 2);
    assert_eq!(
        after["data_keys"]
            .as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>()),
        Some(vec!["2".to_owned()])
    );
    let file = std::fs::read_to_string(dir.join("master.key")).expect("key file");
    assert!(
        file.starts_with("v2:") && file.lines().count() == 1,
        "{file}"
    );
    // The running server still reads and writes.
    let got = server.json(&["customers", "get", &id]);
    assert_eq!(got["document_number"], "12345678900");
    let other = server.new_merchant("after rotation");
    server.json_as(
        &other,
        &[
            "customers",
            "create",
            "--email",
            "later@example.com",
            "--field",
            "document_number=555",
        ],
    );
    assert_eq!(status(&["keys", "status"])["data_keys"]["2"], 2);
}

#[test]
fn keys_generate_prints_a_new_key() {
    let out = acorn_bare()
        .args(["keys", "generate"])
        .output()
        .expect("acorn keys generate");
    assert!(out.status.success());
    let key = String::from_utf8(out.stdout).expect("utf-8");
    assert_eq!(key.trim().len(), 64);
    assert!(key.trim().chars().all(|c| c.is_ascii_hexdigit()));
    // Rotating where there is no database refuses, and creates none.
    let dir = tempfile::tempdir().expect("dir");
    acorn_bare()
        .env("ACORN_MASTER_KEY", key.trim())
        .args(["keys", "rotate", "--data-dir"])
        .arg(dir.path().join("none"))
        .assert()
        .code(1)
        .stderr(contains("no Acorn database at"));
    assert!(!dir.path().join("none").exists());
}
