//! `acorn webhooks …`, and `listen` forwarding real deliveries to a local server.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use acorn_sdk::webhook::verify_webhook_signature;

use crate::helpers::Server;

/// One request a [`target`] received: its lower-cased headers and body.
struct Received {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// A tiny HTTP server on 127.0.0.1 standing in for the user's application: it answers 200
/// and sends each request it gets down the channel.
fn target() -> (String, mpsc::Receiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut headers = Vec::new();
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            loop {
                line.clear();
                reader.read_line(&mut line).unwrap();
                let Some((k, v)) = line.trim_end().split_once(':') else {
                    break;
                };
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
            }
            let len: usize = headers
                .iter()
                .find(|(k, _)| k == "content-length")
                .map_or(0, |(_, v)| v.parse().unwrap());
            let mut body = vec![0; len];
            reader.read_exact(&mut body).unwrap();
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            let _ = tx.send(Received { headers, body });
        }
    });
    (url, rx)
}

#[test]
fn endpoints_from_the_command_line() {
    let server = Server::start();
    let hook = server.json(&[
        "webhooks",
        "create",
        "https://hooks.example.com/a",
        "--events",
        "customer.created,customer.updated",
    ]);
    let id = hook["id"].as_str().unwrap().to_owned();
    assert!(hook["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(
        hook["event_types"],
        serde_json::json!(["customer.created", "customer.updated"])
    );
    let list = server.json(&["webhooks", "list"]);
    assert_eq!(list[0]["id"], id.as_str());
    assert!(list[0].get("secret").is_none());
    assert_eq!(
        server.json(&["webhooks", "toggle", &id])["is_active"],
        false
    );
    let got = server.json(&["webhooks", "update", &id, "--description", "main"]);
    assert_eq!(got["description"], "main");
    let moved = [
        "webhooks",
        "update",
        &id,
        "--endpoint-url",
        "https://hooks.example.com/b",
    ];
    assert_eq!(server.json(&moved)["url"], "https://hooks.example.com/b");
    assert_eq!(server.json(&["webhooks", "get", &id])["is_active"], false);
    let n = server.json(&["webhooks", "notifications"]);
    assert_eq!(n["count"], 0);
    assert_eq!(server.json(&["webhooks", "delete", &id])["success"], true);
    let out = server
        .acorn()
        .args(["webhooks", "get", &id])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn listen_forwards_deliveries_to_a_local_server() {
    let server = Server::start();
    let (forward_to, received) = target();
    let mut listener = Command::new(assert_cmd::cargo::cargo_bin("acorn"))
        .args(["webhooks", "listen", "--json", "--forward-to", &forward_to])
        .args(["--events", "customer.created"])
        .env("ACORN_URL", &server.url)
        .env("ACORN_CLIENT_ID", &server.merchant.client_id)
        .env("ACORN_CLIENT_SECRET", &server.merchant.client_secret)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn listen");
    let (tx, lines) = mpsc::channel();
    let out = BufReader::new(listener.stdout.take().unwrap()).lines();
    std::thread::spawn(move || {
        for line in out.map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let next = || {
        let line = lines.recv_timeout(Duration::from_secs(30)).expect("a line");
        serde_json::from_str::<serde_json::Value>(&line).expect("json line")
    };
    let ready = next();
    let secret = ready["secret"].as_str().unwrap().to_owned();
    assert_eq!(
        server.json(&["webhooks", "list"]).as_array().unwrap().len(),
        1
    );

    let customer = server.json(&["customers", "create", "--email", "listen@example.com"]);
    let got = received
        .recv_timeout(Duration::from_secs(30))
        .expect("forwarded");
    let sig = got.header("oak-signature").to_owned();
    assert_eq!(got.header("crowdsplit-signature"), sig);
    verify_webhook_signature(&got.body, &sig, &secret, Some(Duration::from_secs(300)))
        .expect("the forwarded delivery verifies with the printed secret");
    let body: serde_json::Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(body["event"], "customer.created");
    assert_eq!(body["data"]["id"], customer["id"]);
    let line = next();
    assert_eq!(line["event"], "customer.created");
    assert_eq!(line["id"], body["id"]);
    assert_eq!(line["forward_status"], "200");

    Command::new("kill")
        .args(["-INT", &listener.id().to_string()])
        .status()
        .unwrap();
    let status = listener.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert_eq!(server.json(&["webhooks", "list"]), serde_json::json!([]));
}
