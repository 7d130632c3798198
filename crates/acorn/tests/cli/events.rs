//! `acorn events [--follow]`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use predicates::str::contains;

use crate::helpers::{stdout, Server};

#[test]
fn latest_events_as_table_and_json() {
    let server = Server::start();
    let id = server.json(&["customers", "create", "--email", "erin@example.com"])["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let out = server.acorn().args(["events"]).output().expect("events");
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("CREATED_AT"), "{text}");
    assert!(
        lines[1].contains("customer.created") && lines[1].contains(&id),
        "{text}"
    );
    let data = server.json(&["events", "--limit", "5", "--event", "customer.created"]);
    assert_eq!(data["has_more"], false);
    assert_eq!(data["event_list"][0]["event"], "customer.created");
    assert_eq!(data["event_list"][0]["data"]["id"], id.as_str());
    server
        .acorn()
        .args(["events", "--event", "customer.nope"])
        .assert()
        .code(1)
        .stderr(contains("(HTTP 422, validation_error)"))
        .stderr(contains("  - event: "));
}

#[test]
fn follow_prints_new_events_as_they_happen() {
    let server = Server::start();
    server.json(&["customers", "create", "--email", "first@example.com"]);
    let mut follower = Command::new(assert_cmd::cargo::cargo_bin("acorn"))
        .args(["events", "--follow", "--json", "--interval", "0.2"])
        .env("ACORN_URL", &server.url)
        .env("ACORN_CLIENT_ID", &server.merchant.client_id)
        .env("ACORN_CLIENT_SECRET", &server.merchant.client_secret)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn follower");
    let (tx, rx) = mpsc::channel();
    let lines = BufReader::new(follower.stdout.take().expect("stdout")).lines();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let next = || {
        rx.recv_timeout(Duration::from_secs(30))
            .expect("an event line")
    };
    let first: serde_json::Value = serde_json::from_str(&next()).expect("json line");
    assert_eq!(first["event"], "customer.created");
    assert!(first["data"]["id"]
        .as_str()
        .is_some_and(|id| id.starts_with("cus_")));
    assert_eq!(first["data"]["status"], "NOT_STARTED");

    let later = server.json(&["customers", "create", "--email", "later@example.com"]);
    let seen: serde_json::Value = serde_json::from_str(&next()).expect("json line");
    assert_eq!(seen["event"], "customer.created");
    assert_eq!(seen["data"]["id"], later["id"]);
    follower.kill().expect("stop follower");
    let _ = follower.wait();
}
