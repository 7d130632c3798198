//! A real `acorn serve` on a free port with a fresh data directory, and `acorn` client commands
//! pointed at it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command as StdCommand, Stdio};

use assert_cmd::Command;
use serde_json::Value;

/// Variables that would point a command somewhere else than the test server.
const ENV: [&str; 6] = [
    "ACORN_URL",
    "ACORN_CLIENT_ID",
    "ACORN_CLIENT_SECRET",
    "ACORN_DATA_DIR",
    "ACORN_DATABASE_URL",
    "ACORN_LISTEN",
];

/// The `acorn` binary with none of the variables above set.
pub fn acorn_bare() -> Command {
    let mut cmd = Command::cargo_bin("acorn").expect("acorn binary");
    for var in ENV {
        cmd.env_remove(var);
    }
    cmd
}

/// Credentials of one merchant.
#[derive(Clone, Debug)]
pub struct Merchant {
    pub client_id: String,
    pub client_secret: String,
}

/// A running server; stopped with SIGTERM when dropped.
pub struct Server {
    child: Option<Child>,
    pub url: String,
    /// The merchant created on first start.
    pub merchant: Merchant,
    dir: tempfile::TempDir,
}

impl Server {
    /// Starts `acorn serve --listen 127.0.0.1:0` and reads its first-start banner.
    pub fn start() -> Server {
        Self::start_with(&[])
    }

    /// Like [`start`](Self::start), with more `acorn serve` options.
    pub fn start_with(options: &[&str]) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut child = StdCommand::new(assert_cmd::cargo::cargo_bin("acorn"))
            .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
            .args(["--sandbox-step-delay", "0"])
            .args(options)
            .arg("--data-dir")
            .arg(dir.path())
            .env_remove("ACORN_DATABASE_URL")
            .env_remove("ACORN_LISTEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn acorn serve");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut banner = Vec::new();
        for line in lines.by_ref() {
            let line = line.expect("banner line");
            // `--log-format json` prints the banner as JSON objects; their message is the text.
            let line = serde_json::from_str::<Value>(&line)
                .ok()
                .and_then(|v| v["message"].as_str().map(str::to_owned))
                .unwrap_or(line);
            let done = line.starts_with("Acorn listening on ");
            banner.push(line);
            if done {
                break;
            }
        }
        // Keep draining stdout so the server can never block on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        let field = |name: &str| {
            banner
                .iter()
                .find_map(|l| l.trim().strip_prefix(name))
                .map(|v| v.trim().to_owned())
                .unwrap_or_else(|| panic!("{name} in {banner:?}"))
        };
        Server {
            url: field("Acorn listening on"),
            merchant: Merchant {
                client_id: field("client_id:"),
                client_secret: field("client_secret:"),
            },
            child: Some(child),
            dir,
        }
    }

    /// `acorn` as the first-start merchant.
    pub fn acorn(&self) -> Command {
        self.acorn_as(&self.merchant)
    }

    /// `acorn` as `merchant`.
    pub fn acorn_as(&self, merchant: &Merchant) -> Command {
        let mut cmd = acorn_bare();
        cmd.env("ACORN_URL", &self.url)
            .env("ACORN_CLIENT_ID", &merchant.client_id)
            .env("ACORN_CLIENT_SECRET", &merchant.client_secret);
        cmd
    }

    /// Creates another merchant with `acorn merchants create` while the server runs.
    pub fn new_merchant(&self, name: &str) -> Merchant {
        let v = self.operator_json(&["merchants", "create", "--name", name, "--mode", "sandbox"]);
        Merchant {
            client_id: v["client_id"].as_str().expect("id").to_owned(),
            client_secret: v["client_secret"].as_str().expect("secret").to_owned(),
        }
    }

    /// Runs an operator command (`acorn merchants …`, `acorn keys …`) on the server's data
    /// directory with `--json`, expects success, parses stdout.
    pub fn operator_json(&self, args: &[&str]) -> Value {
        let out = acorn_bare()
            .env_remove("ACORN_MASTER_KEY")
            .args(args)
            .arg("--json")
            .env("ACORN_DATA_DIR", self.dir.path())
            .output()
            .expect("run acorn");
        assert!(
            out.status.success(),
            "acorn {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("JSON on stdout")
    }

    /// A scratch directory that lives as long as the server.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Runs `acorn` as `merchant` with `args` and `--json`, expects success, parses stdout.
    pub fn json_as(&self, merchant: &Merchant, args: &[&str]) -> Value {
        let out = self
            .acorn_as(merchant)
            .args(args)
            .arg("--json")
            .output()
            .expect("run acorn");
        assert!(
            out.status.success(),
            "acorn {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("JSON on stdout")
    }

    /// [`json_as`](Self::json_as) for the first-start merchant.
    pub fn json(&self, args: &[&str]) -> Value {
        self.json_as(&self.merchant, args)
    }

    /// How many customers `merchant` has (via `customers list --json`).
    pub fn count_as(&self, merchant: &Merchant) -> u64 {
        self.json_as(merchant, &["customers", "list", "--limit", "1"])["count"]
            .as_u64()
            .expect("count")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = StdCommand::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }
}

/// A command's stdout as text.
pub fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A command's stderr as text.
pub fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

impl Server {
    /// `GET path` on the server without credentials; returns the response body.
    pub fn get_text(&self, path: &str) -> String {
        use std::io::{Read, Write};
        let host = self.url.trim_start_matches("http://").trim_end_matches('/');
        let mut stream = std::net::TcpStream::connect(host).expect("connect");
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        )
        .expect("request");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("response");
        response
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_owned())
            .unwrap_or_default()
    }
}
