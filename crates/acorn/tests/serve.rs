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
    let mut command = acorn();
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .env("ACORN_DATA_DIR", dir)
        .env_remove("ACORN_DATABASE_URL")
        .stderr(Stdio::null());
    start_command(command).await
}

/// Runs a prepared `acorn serve` command; returns the child and its stdout up to the
/// "listening" line.
async fn start_command(mut command: Command) -> (std::process::Child, Vec<String>) {
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn acorn serve");
    let stdout = child.stdout.take().expect("stdout");
    let lines = tokio::task::spawn_blocking(move || {
        let mut lines = vec![];
        for line in BufReader::new(stdout).lines() {
            let line = banner_text(&line.expect("line"));
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

/// A banner line as text: with `--log-format json` each line is a JSON object whose `message`
/// is the text line.
fn banner_text(line: &str) -> String {
    match serde_json::from_str::<Value>(line) {
        Ok(v) => v["message"]
            .as_str()
            .expect("a JSON banner line has a message")
            .to_owned(),
        Err(_) => line.to_owned(),
    }
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
        .args([
            "merchants",
            "create",
            "--name",
            "Shop",
            "--mode",
            "sandbox",
            "--json",
        ])
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

/// The value after `name` on the banner line that starts with it.
fn banner_field(lines: &[String], name: &str) -> String {
    lines
        .iter()
        .find_map(|l| l.trim().strip_prefix(name))
        .map(|v| v.trim().to_owned())
        .unwrap_or_else(|| panic!("no {name} line in {lines:?}"))
}

fn signal(child: &std::process::Child, name: &str) {
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args([name, &pid])
        .status()
        .expect("kill")
        .success());
}

/// Waits up to `limit` for the child to exit.
fn exit_within(
    child: &mut std::process::Child,
    limit: Duration,
) -> Option<std::process::ExitStatus> {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        if std::time::Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn the_banner_names_the_absolute_data_directory_and_the_database() {
    // Started without --data-dir, in some directory: the banner says where the data went.
    let cwd = tempfile::tempdir().expect("dir");
    let mut command = acorn();
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .current_dir(cwd.path())
        .env_remove("ACORN_DATA_DIR")
        .env_remove("ACORN_DATABASE_URL")
        .stderr(Stdio::null());
    let (child, lines) = start_command(command).await;
    let expected = cwd
        .path()
        .canonicalize()
        .expect("canonical")
        .join("acorn-data");
    let dir = banner_field(&lines, "Data directory:");
    assert!(
        dir.starts_with(&format!(
            "{} (the default ./acorn-data;",
            expected.display()
        )),
        "{dir}"
    );
    assert!(dir.contains("--data-dir or ACORN_DATA_DIR"), "{dir}");
    assert_eq!(
        banner_field(&lines, "Database:"),
        format!("sqlite://{}", expected.join("acorn.db").display())
    );
    assert!(expected.join("acorn.db").exists());
    assert!(stop(child).await);

    // An explicit data directory is shown without the hint.
    let pinned = tempfile::tempdir().expect("dir");
    let (child, lines) = start(pinned.path()).await;
    assert_eq!(
        banner_field(&lines, "Data directory:"),
        pinned.path().display().to_string()
    );
    assert!(stop(child).await);
}

#[tokio::test]
async fn a_second_signal_exits_at_once_while_a_request_is_in_flight() {
    let dir = tempfile::tempdir().expect("dir");
    let log = dir.path().join("serve.log");
    let mut command = acorn();
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .arg("--data-dir")
        .arg(dir.path())
        .env_remove("ACORN_DATABASE_URL")
        .stderr(std::fs::File::create(&log).expect("log file"));
    let (mut child, lines) = start_command(command).await;
    let base = banner_field(&lines, "Acorn listening on");
    let r = token(
        &base,
        &banner_field(&lines, "client_id:"),
        &banner_field(&lines, "client_secret:"),
    )
    .await;
    let body: Value = r.json().await.expect("json");
    let access = body["access_token"].as_str().expect("token").to_owned();

    // A create whose body never finishes arriving keeps the graceful stop waiting (10 s). With
    // `Expect: 100-continue` the server says when the handler starts reading the body, so the
    // request is known to be in flight before the first signal.
    let addr = base.trim_start_matches("http://").to_owned();
    let mut slow = std::net::TcpStream::connect(&addr).expect("connect");
    slow.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let head = format!(
        "POST /api/v1/customers HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {access}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n"
    );
    std::io::Write::write_all(&mut slow, head.as_bytes()).expect("write");
    let mut answer = [0u8; 64];
    let n = std::io::Read::read(&mut slow, &mut answer).expect("100 Continue");
    let answer = String::from_utf8_lossy(&answer[..n]).into_owned();
    assert!(answer.starts_with("HTTP/1.1 100 Continue"), "{answer}");
    std::io::Write::write_all(&mut slow, b"{\"email\":").expect("write");

    signal(&child, "-INT");
    assert!(
        exit_within(&mut child, Duration::from_secs(1)).is_none(),
        "the first Ctrl-C waits for the request in flight"
    );
    let second = std::time::Instant::now();
    signal(&child, "-INT");
    let status = exit_within(&mut child, Duration::from_secs(5))
        .expect("the second Ctrl-C ends the server at once, not after the grace period");
    assert!(second.elapsed() < Duration::from_secs(5));
    assert_eq!(status.code(), Some(130), "{status:?}");
    let log = std::fs::read_to_string(&log).expect("log");
    assert!(
        log.contains("a second Ctrl-C or SIGTERM exits at once"),
        "{log}"
    );
    assert!(log.contains("second signal: exiting now"), "{log}");
    assert!(
        log.contains("stopped at once by a second signal"),
        "the reason is printed: {log}"
    );
    drop(slow);
}

fn merchants(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    acorn()
        .arg("merchants")
        .args(args)
        .env("ACORN_DATA_DIR", dir)
        .env_remove("ACORN_DATABASE_URL")
        .output()
        .expect("acorn merchants")
}

#[tokio::test]
async fn merchants_delete_removes_a_merchant_that_owns_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let (child, lines) = start(dir.path()).await;
    let base = banner_field(&lines, "Acorn listening on");

    let out = merchants(
        dir.path(),
        &["create", "--name", "Oops", "--mode", "sandbox", "--json"],
    );
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("(database: sqlite://{}", dir.path().display())),
        "every merchants command names its database: {stderr}"
    );
    let oops: Value = serde_json::from_slice(&out.stdout).expect("json");
    let oops_id = oops["merchant_id"].as_str().expect("id");
    let out = merchants(dir.path(), &["delete", oops_id]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("Deleted merchant {oops_id}.")
    );
    let r = token(
        &base,
        oops["client_id"].as_str().expect("id"),
        oops["client_secret"].as_str().expect("secret"),
    )
    .await;
    assert_eq!(
        r.status(),
        401,
        "a deleted merchant's credentials stop working"
    );
    let listed: Value =
        serde_json::from_slice(&merchants(dir.path(), &["list", "--json"]).stdout).expect("json");
    assert_eq!(listed.as_array().map(Vec::len), Some(1));

    // Unknown, malformed, and a merchant that owns customers: refused, exit 1, saying why.
    let out = merchants(dir.path(), &["delete", oops_id]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains(&format!("no merchant {oops_id} in sqlite://")));
    let out = merchants(dir.path(), &["delete", "acorn_123"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a merchant id"));

    let body: Value = token(
        &base,
        &banner_field(&lines, "client_id:"),
        &banner_field(&lines, "client_secret:"),
    )
    .await
    .json()
    .await
    .expect("json");
    let created = reqwest::Client::new()
        .post(format!("{base}/api/v1/customers"))
        .bearer_auth(body["access_token"].as_str().expect("token"))
        .json(&json!({"email": "owned@example.com"}))
        .send()
        .await
        .expect("create");
    assert_eq!(created.status(), 200);
    let default_id = listed[0]["merchant_id"].as_str().expect("id");
    let out = merchants(dir.path(), &["delete", default_id]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("still owns data"), "{stderr}");
    assert!(stop(child).await);
}

/// Pretty logs written to a file (not a terminal) carry no ANSI colour codes.
#[tokio::test]
async fn pretty_logs_to_a_file_are_plain_text() {
    let dir = tempfile::tempdir().expect("dir");
    let log = dir.path().join("serve.log");
    let mut command = acorn();
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "pretty"])
        .arg("--data-dir")
        .arg(dir.path())
        .env_remove("ACORN_DATABASE_URL")
        .env_remove("NO_COLOR")
        .stderr(std::fs::File::create(&log).expect("log file"));
    let (child, lines) = start_command(command).await;
    let base = banner_field(&lines, "Acorn listening on");
    let r = reqwest::get(format!("{base}/api/health"))
        .await
        .expect("health");
    assert_eq!(r.status().as_u16(), 200);
    assert!(stop(child).await);
    let text = std::fs::read_to_string(&log).expect("log");
    assert!(
        text.contains("/api/health"),
        "the request is logged: {text}"
    );
    assert!(
        !text.contains('\u{1b}'),
        "no ANSI escapes in a file: {text:?}"
    );
}

/// With `--log-format json`, stdout and stderr joined are JSON lines only: the first-start banner
/// (with the client secret) is JSON objects too, not plain text in the log stream.
#[tokio::test]
async fn json_logs_and_the_banner_are_one_json_stream() {
    let dir = tempfile::tempdir().expect("dir");
    let mut child = acorn()
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .arg("--data-dir")
        .arg(dir.path())
        .env_remove("ACORN_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let raw = tokio::task::spawn_blocking(move || {
        let mut raw = vec![];
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("line");
            let done = line.contains("Acorn listening on ");
            raw.push(line);
            if done {
                break;
            }
        }
        raw
    })
    .await
    .expect("reader");
    assert!(stop(child).await);
    assert!(raw.iter().any(|l| l.contains("client_secret:")), "{raw:?}");
    for line in &raw {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        assert_eq!(v["target"], "acorn::banner", "{line}");
    }
}

/// A SQLite `--database-url` without `--data-dir`: the data directory is the database's own, so
/// the master key and uploaded files live beside the database, not in `./acorn-data`.
#[tokio::test]
async fn a_sqlite_url_keeps_its_files_and_key_beside_the_database() {
    let root = tempfile::tempdir().expect("dir");
    let cwd = root.path().join("work");
    std::fs::create_dir(&cwd).unwrap();
    let db = root.path().join("db").join("acorn.db");
    let mut command = acorn();
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .arg("--database-url")
        .arg(format!("sqlite://{}", db.display()))
        .current_dir(&cwd)
        .env_remove("ACORN_DATA_DIR")
        .env_remove("ACORN_DATABASE_URL")
        .stderr(Stdio::null());
    let (child, lines) = start_command(command).await;
    assert_eq!(
        banner_field(&lines, "Data directory:"),
        root.path().join("db").display().to_string()
    );
    assert!(root.path().join("db").join("master.key").exists());
    assert!(
        !cwd.join("acorn-data").exists(),
        "nothing in the working directory"
    );
    assert!(stop(child).await);
}
