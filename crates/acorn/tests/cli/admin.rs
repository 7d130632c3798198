//! Admin commands that never surprise (contract §13, issue "live and sandbox"): commands that
//! read refuse a missing database instead of creating one, merchants are made with a mode and
//! keep it, and the removed `--sandbox` flag says what replaced it.

use predicates::str::contains;
use serde_json::Value;

use crate::helpers::acorn_bare;

#[test]
fn read_only_commands_refuse_a_missing_database_and_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("not-here");
    for args in [
        vec!["merchants", "list"],
        vec!["keys", "status"],
        vec![
            "merchants",
            "set-mode",
            "mer_00000000-0000-0000-0000-000000000000",
            "live",
        ],
    ] {
        acorn_bare()
            .args(&args)
            .arg("--data-dir")
            .arg(&data)
            .assert()
            .failure()
            .stderr(contains("no Acorn database at"))
            .stderr(contains("pass --data-dir or --database-url"));
        assert!(!data.exists(), "{args:?} created {}", data.display());
    }
    // In the working directory too: nothing appears there.
    let cwd = tempfile::tempdir().unwrap();
    acorn_bare()
        .args(["merchants", "list"])
        .current_dir(cwd.path())
        .assert()
        .failure()
        .stderr(contains("no Acorn database at"));
    assert!(std::fs::read_dir(cwd.path()).unwrap().next().is_none());
}

fn create(data: &std::path::Path, name: &str, mode: &str) -> Value {
    let out = acorn_bare()
        .args([
            "merchants",
            "create",
            "--name",
            name,
            "--mode",
            mode,
            "--json",
        ])
        .arg("--data-dir")
        .arg(data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn merchants_are_created_with_a_mode_that_never_changes() {
    let dir = tempfile::tempdir().unwrap();
    let live = create(dir.path(), "Shop", "live");
    assert_eq!(live["mode"], "live");
    assert!(live["client_secret"]
        .as_str()
        .unwrap()
        .starts_with("sk_live_"));
    let dev = create(dir.path(), "Dev", "sandbox");
    assert!(dev["client_secret"]
        .as_str()
        .unwrap()
        .starts_with("sk_test_"));

    let out = acorn_bare()
        .args(["merchants", "list", "--json", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    let modes: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["mode"].as_str().unwrap())
        .collect();
    assert_eq!(modes, ["live", "sandbox"]);
    acorn_bare()
        .args(["merchants", "set-mode"])
        .arg(live["merchant_id"].as_str().unwrap())
        .arg("sandbox")
        .arg("--data-dir")
        .arg(dir.path())
        .assert()
        .failure()
        .stderr(contains(
            "chosen when it was created (live) and cannot change",
        ));
    // A mode is required: no merchant is live or sandbox by accident.
    acorn_bare()
        .args(["merchants", "create", "--name", "X", "--data-dir"])
        .arg(dir.path())
        .assert()
        .failure()
        .stderr(contains("--mode"));
}

#[test]
fn the_sandbox_flag_is_gone_and_says_what_replaced_it() {
    let dir = tempfile::tempdir().unwrap();
    for args in [vec!["--sandbox", "false"], vec!["--sandbox"]] {
        acorn_bare()
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path().join("d"))
            .args(&args)
            .assert()
            .failure()
            .stderr(contains("--sandbox (ACORN_SANDBOX) is gone"))
            .stderr(contains("--modes"));
    }
    acorn_bare()
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--modes",
            "test",
            "--data-dir",
        ])
        .arg(dir.path().join("d"))
        .assert()
        .failure()
        .stderr(contains("sandbox, live"));
    assert!(!dir.path().join("d").exists());
}

#[test]
fn durations_out_of_range_are_refused_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    for (flag, value) in [
        ("--token-ttl", "0"),
        ("--token-ttl", "59"),
        ("--request-timeout", "0"),
        ("--file-link-ttl", "1"),
        ("--event-retention-days", "0"),
    ] {
        acorn_bare()
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                flag,
                value,
                "--data-dir",
            ])
            .arg(dir.path().join("d"))
            .assert()
            .failure()
            .stderr(contains(flag))
            .stderr(contains("not in"));
    }
    assert!(!dir.path().join("d").exists());
}
