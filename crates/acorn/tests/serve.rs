//! `acorn serve` and `acorn merchants` as a user runs them: first start, credentials, a second
//! merchant created while the server runs, and a clean exit on SIGTERM.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

fn acorn() -> Command {
    Command::new(env!("CARGO_BIN_EXE_acorn"))
}

async fn token(base: &str, client_id: &str, secret: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base}/api/v1/merchant/token/grant"))
        .json(&json!({"client_id": client_id, "client_secret": secret, "grant_type": "client_credentials"}))
        .send()
        .await
        .expect("grant")
}

/// Starts `acorn serve` on a free port; returns the child and its stdout up to the
/// "listening" line.
async fn start(dir: &std::path::Path) -> (std::process::Child, Vec<String>) {
    let mut child = acorn()
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .env("ACORN_DATA_DIR", dir)
        .env_remove("ACORN_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn acorn serve");
    let stdout = child.stdout.take().expect("stdout");
    let lines = tokio::task::spawn_blocking(move || {
        let mut lines = vec![];
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("line");
            let done = line.starts_with("Acorn listening on ");
            lines.push(line);
            if done {
                break;
            }
        }
        lines
    });
    let lines = tokio::time::timeout(Duration::from_secs(60), lines)
        .await
        .expect("server start")
        .expect("reader");
    (child, lines)
}

/// Sends SIGTERM and returns whether the process exited successfully.
async fn stop(child: std::process::Child) -> bool {
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill")
        .success());
    let mut child = child;
    tokio::task::spawn_blocking(move || child.wait())
        .await
        .expect("join")
        .expect("wait")
        .success()
}

#[tokio::test]
async fn first_start_prints_working_credentials_and_sigterm_exits_cleanly() {
    let dir = tempfile::tempdir().expect("dir");
    let (child, lines) = start(dir.path()).await;
    let field = |name: &str| {
        lines
            .iter()
            .find_map(|l| l.trim().strip_prefix(name))
            .map(|v| v.trim().to_owned())
            .expect(name)
    };
    let (client_id, secret) = (field("client_id:"), field("client_secret:"));
    let base = field("Acorn listening on");
    assert!(
        secret.len() >= 43,
        "the secret carries at least 32 random bytes"
    );
    assert!(
        dir.path().join("acorn.db").exists(),
        "SQLite file in the data dir"
    );

    let r = token(&base, &client_id, &secret).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["expires_in"], 3600);

    // The operator adds a merchant while the server runs; its credentials work at once.
    let out = acorn()
        .args(["merchants", "create", "--name", "Shop", "--json"])
        .env("ACORN_DATA_DIR", dir.path())
        .env_remove("ACORN_DATABASE_URL")
        .output()
        .expect("merchants create");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created: Value = serde_json::from_slice(&out.stdout).expect("json output");
    assert!(created["merchant_id"]
        .as_str()
        .is_some_and(|m| m.starts_with("mer_")));
    let r = token(
        &base,
        created["client_id"].as_str().expect("id"),
        created["client_secret"].as_str().expect("secret"),
    )
    .await;
    assert_eq!(r.status(), 200);
    let out = acorn()
        .args(["merchants", "list", "--json"])
        .env("ACORN_DATA_DIR", dir.path())
        .output()
        .expect("list");
    let listed: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(listed.as_array().map(Vec::len), Some(2));
    assert!(!String::from_utf8_lossy(&out.stdout)
        .contains(created["client_secret"].as_str().expect("secret")));

    assert!(
        stop(child).await,
        "SIGTERM must end the server with exit status 0"
    );

    // A restart keeps the data and prints no new credentials.
    let (child, lines) = start(dir.path()).await;
    assert!(
        !lines.iter().any(|l| l.contains("client_secret")),
        "{lines:?}"
    );
    let base = lines
        .last()
        .and_then(|l| l.strip_prefix("Acorn listening on "))
        .expect("address")
        .to_owned();
    assert_eq!(token(&base, &client_id, &secret).await.status(), 200);
    assert!(stop(child).await);
}
