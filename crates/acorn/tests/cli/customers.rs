//! `acorn customers …` one command at a time: table and `--json` output, API errors.

use predicates::prelude::*;
use predicates::str::{contains, is_match};
use serde_json::Value;

use crate::helpers::{stdout, Server};

/// A `FIELD  value` line of the single-customer view (`value` is a regex).
fn field_line(field: &str, value: &str) -> impl Predicate<str> {
    is_match(format!("(?m)^{field} +{value}$")).expect("regex")
}

/// Creates alice and returns her id.
fn create_alice(server: &Server) -> String {
    let created = server.json(&[
        "customers",
        "create",
        "--email",
        "alice@example.com",
        "--first-name",
        "Alice",
        "--last-name",
        "Smith",
        "--country-code",
        "US",
        "--field",
        "dob=1990-01-31",
        "--field",
        "additional_info={\"tier\":\"gold\"}",
    ]);
    assert_eq!(created["email"], "alice@example.com");
    assert_eq!(created["country_code"], "us");
    assert_eq!(created["dob"], "1990-01-31");
    assert_eq!(created["additional_info"]["tier"], "gold");
    assert_eq!(created["status"], "NOT_STARTED");
    assert_eq!(created["version"], 1);
    created["id"].as_str().expect("id").to_owned()
}

#[test]
fn create_get_list_update_as_table_and_json() {
    let server = Server::start();
    // Table output of create: one aligned FIELD/VALUE line per set field.
    let out = server
        .acorn()
        .args([
            "customers",
            "create",
            "--email",
            "bob@example.com",
            "--first-name",
            "Bob",
        ])
        .assert()
        .success()
        .get_output()
        .clone();
    let text = stdout(&out);
    assert!(text.starts_with("FIELD"), "{text}");
    assert!(field_line("email", "bob@example.com").eval(&text), "{text}");
    assert!(field_line("status", "NOT_STARTED").eval(&text), "{text}");
    assert!(
        !text.contains("last_name"),
        "null fields are left out: {text}"
    );

    let alice = create_alice(&server);

    // get: table and JSON (the JSON is the API's data: the customer object).
    server
        .acorn()
        .args(["customers", "get", &alice])
        .assert()
        .success()
        .stdout(field_line("id", &alice))
        .stdout(field_line("last_name", "Smith"))
        .stdout(field_line("additional_info", r#"\{"tier":"gold"\}"#));
    let got = server.json(&["customers", "get", &alice]);
    assert_eq!(got["id"], alice.as_str());
    assert_eq!(got["customer_id"], alice.as_str());
    assert!(got
        .as_object()
        .expect("object")
        .contains_key("company_name"));

    // list: an aligned table, newest first, with a footer; --json is {count, customer_list, has_more}.
    let out = server
        .acorn()
        .args(["customers", "list"])
        .output()
        .expect("list");
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("ID  "), "{text}");
    for col in ["EMAIL", "NAME", "COUNTRY", "STATUS", "CREATED_AT"] {
        assert!(lines[0].contains(col), "{text}");
    }
    assert!(
        lines[1].starts_with(&alice) && lines[1].contains("Alice Smith"),
        "{text}"
    );
    assert!(lines[2].contains("bob@example.com"), "{text}");
    let email_col = lines[0].find("EMAIL").expect("EMAIL");
    assert_eq!(
        lines[1].find("alice@"),
        Some(email_col),
        "columns align: {text}"
    );
    assert_eq!(
        lines[2].find("bob@"),
        Some(email_col),
        "columns align: {text}"
    );
    assert_eq!(lines[3], "2 of 2 customers");
    let page = server.json(&["customers", "list", "--limit", "1"]);
    assert_eq!(page["count"], 2);
    assert_eq!(page["has_more"], true);
    assert_eq!(page["customer_list"][0]["id"], alice.as_str());
    let us = server.json(&["customers", "list", "--country-code", "us,br", "--all"]);
    assert_eq!(us["count"], 1);
    server
        .acorn()
        .args(["customers", "list", "--limit", "1"])
        .assert()
        .success()
        .stdout(contains(
            "1 of 2 customers (next page: --offset 1, or --all)",
        ));

    // update: changed fields, cleared fields, version bumped.
    let updated = server.json(&[
        "customers",
        "update",
        &alice,
        "--last-name",
        "Johnson",
        "--clear",
        "dob",
    ]);
    assert_eq!(updated["last_name"], "Johnson");
    assert_eq!(updated["dob"], Value::Null);
    assert_eq!(updated["version"], 2);
    server
        .acorn()
        .args(["customers", "update", &alice, "--field", "city=Lisbon"])
        .assert()
        .success()
        .stdout(field_line("city", "Lisbon"));
}

#[test]
fn api_errors_print_msg_and_every_reason_with_exit_code_1() {
    let server = Server::start();
    server
        .acorn()
        .args([
            "customers",
            "create",
            "--email",
            "alice@example",
            "--country-code",
            "USA",
        ])
        .args(["--field", "dob=2999-01-01"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(contains(
            "error: Validation failed (HTTP 422, validation_error)",
        ))
        .stderr(contains("  - email: "))
        .stderr(contains("  - country_code: "))
        .stderr(contains("  - dob: "));
    create_alice(&server);
    server
        .acorn()
        .args(["customers", "create", "--email", "ALICE@example.com"])
        .assert()
        .code(1)
        .stderr(contains("customer already exists"))
        .stderr(contains("(duplicate_data)"));
    server
        .acorn()
        .args([
            "customers",
            "get",
            "cus_00000000-0000-7000-8000-000000000000",
        ])
        .assert()
        .code(1)
        .stderr(contains("(HTTP 404, not_found)"));
    // A field the contract does not have is refused before anything is sent.
    server
        .acorn()
        .args([
            "customers",
            "create",
            "--email",
            "x@example.com",
            "--field",
            "shoe=42",
        ])
        .assert()
        .code(1)
        .stderr(contains("shoe is not a customer field"));
}

#[test]
fn usage_errors_exit_2() {
    let server = Server::start();
    for args in [
        &["customers", "get"][..],
        &["customers", "list", "--provider", "nope"],
        &["customers", "list", "--all", "--offset", "3"],
        &["customers", "frobnicate"],
        &["customers", "upload", "cus_1", "--type", "SELFIE", "a.pdf"],
        &["customers", "import", "x.csv", "--concurrency", "0"],
    ] {
        server
            .acorn()
            .args(args)
            .assert()
            .code(2)
            .stderr(contains("--help"));
    }
}

#[test]
fn sync_balances_files_and_populate() {
    let server = Server::start();
    let alice = create_alice(&server);

    // Sync before any registration: the API's reason is shown.
    server
        .acorn()
        .args([
            "customers",
            "sync",
            &alice,
            "--provider",
            "stripe",
            "--fields",
            "email",
        ])
        .assert()
        .code(1)
        .stderr(contains("(not_registered)"));

    // Populate: the registrations table, and JSON.
    server
        .acorn()
        .args([
            "customers",
            "populate",
            &alice,
            "--provider",
            "stripe",
            "--role",
            "customer",
        ])
        .arg("kyc_level=basic")
        .assert()
        .success()
        .stdout(contains("PROVIDER  ROLE      STATUS"))
        .stdout(contains("stripe    customer  not_submitted"));
    let regs = server.json(&[
        "customers",
        "populate",
        &alice,
        "--provider",
        "bridge",
        "--role",
        "customer",
    ]);
    assert_eq!(regs.as_array().map(Vec::len), Some(2));

    // Approved at stripe (the sandbox decides by email), then sync and balances.
    server.json(&[
        "registrations",
        "submit",
        &alice,
        "--provider",
        "stripe",
        "--role",
        "customer",
    ]);
    wait_for_status(&server, &alice, "APPROVED");
    server
        .acorn()
        .args(["customers", "sync", &alice, "--provider", "stripe"])
        .args(["--fields", "email,first_name"])
        .assert()
        .success()
        .stdout(contains("Sync scheduled"));
    let data = server.json(&[
        "customers",
        "sync",
        &alice,
        "--provider",
        "stripe",
        "--fields",
        "phone",
    ]);
    assert_eq!(data, Value::Null, "sync answers data: null");

    let out = server
        .acorn()
        .args(["customers", "balances", &alice, "--provider", "stripe"])
        .output()
        .expect("balances");
    let text = stdout(&out);
    assert!(text.starts_with("ACCOUNT"), "{text}");
    assert!(
        text.contains("AVAILABLE  PENDING  RESERVED  INSTANT_PAYOUTS"),
        "{text}"
    );
    assert!(
        text.lines().nth(1).is_some_and(|l| l.contains("stripe")),
        "{text}"
    );
    let balances = server.json(&["customers", "balances", &alice, "--role", "customer"]);
    assert_eq!(balances["filters"]["customer_id"], alice.as_str());
    assert!(balances["balances"].is_array());

    // Upload, list, download.
    let pdf = server.dir().join("passport.pdf");
    std::fs::write(&pdf, b"%PDF-1.4\n% a stand-in passport\n").expect("write pdf");
    server
        .acorn()
        .args(["customers", "upload", &alice, "--type", "passport"])
        .arg(&pdf)
        .assert()
        .success()
        .stdout(contains("PASSPORT  passport.pdf  application/pdf"));
    let files = server.json(&["customers", "files", &alice]);
    assert_eq!(files[0]["file_type"], "PASSPORT");
    assert!(files[0]["url"]
        .as_str()
        .is_some_and(|u| u.contains("signature=")));
    let into = server.dir().join("downloads");
    server
        .acorn()
        .args(["customers", "files", &alice, "--download"])
        .arg(&into)
        .assert()
        .success()
        .stdout(contains("SAVED_AS"));
    assert_eq!(
        std::fs::read(into.join("passport.pdf")).expect("downloaded"),
        std::fs::read(&pdf).expect("original")
    );
    // A file that is not PDF, JPEG or PNG: the API's 415 and reason.
    let txt = server.dir().join("notes.txt");
    std::fs::write(&txt, b"hello").expect("write");
    server
        .acorn()
        .args(["customers", "upload", &alice, "--type", "passport"])
        .arg(&txt)
        .assert()
        .code(1)
        .stderr(contains("(unsupported_media_type)"));
}

/// Polls `customers get` until the status is reached (the sandbox steps run in the background).
pub fn wait_for_status(server: &Server, id: &str, status: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let c = server.json(&["customers", "get", id]);
        if c["status"] == status {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "status stayed {}",
            c["status"]
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn create_without_an_email_is_a_usage_error() {
    // Exit 2 like every usage error, with the command's usage, before credentials are needed.
    crate::helpers::acorn_bare()
        .args(["customers", "create", "--first-name", "Alice"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(contains("error: --email is required to create a customer"))
        .stderr(contains("Usage: acorn customers create"))
        .stderr(contains("--help"));
}

#[test]
fn help_lists_the_global_options_apart() {
    let out = crate::helpers::acorn_bare()
        .args(["customers", "create", "--help"])
        .output()
        .expect("help");
    let help = String::from_utf8_lossy(&out.stdout);
    let (own, global) = help
        .split_once("Global options:")
        .expect("a Global options heading");
    assert!(own.contains("--email"), "{help}");
    for option in ["--url", "--client-id", "--client-secret", "--json"] {
        assert!(!own.contains(option), "{option} is global: {help}");
        assert!(global.contains(option), "{help}");
    }
}
