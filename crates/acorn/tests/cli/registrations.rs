//! `acorn registrations …`: schema, submit, status.

use predicates::str::contains;

use crate::customers::wait_for_status;
use crate::helpers::{stdout, Server};

#[test]
fn schema_submit_and_status() {
    let server = Server::start();
    let out = server
        .acorn()
        .args(["registrations", "schema", "--provider", "stripe"])
        .output()
        .expect("schema");
    let text = stdout(&out);
    assert!(text.starts_with("ROLE  "), "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("connected_account")
            && l.contains("country_code")
            && l.contains("account_type")),
        "{text}"
    );
    assert!(text.contains("Every role also needs: email"), "{text}");
    let schema = server.json(&["registrations", "schema", "--provider", "STRIPE"]);
    assert_eq!(schema["schema"]["provider"], "stripe");

    let id = server.json(&["customers", "create", "--email", "dora@example.com"])["id"]
        .as_str()
        .expect("id")
        .to_owned();
    // Missing fields: every one is listed, exit code 1.
    server
        .acorn()
        .args(["registrations", "submit", &id, "--provider", "stripe"])
        .args(["--role", "connected_account"])
        .assert()
        .code(1)
        .stderr(contains("(HTTP 422, validation_error)"))
        .stderr(contains("  - country_code: "))
        .stderr(contains("(missing_required_information)"));
    server
        .acorn()
        .args(["registrations", "submit", &id, "--provider", "stripe"])
        .args(["--role", "customer", "--data", "not json"])
        .assert()
        .code(2);
    server
        .acorn()
        .args(["registrations", "submit", &id, "--provider", "stripe"])
        .args(["--role", "customer", "--data", r#"{"note":"vip"}"#])
        .assert()
        .success()
        .stdout(contains("stripe    customer  submitted"));
    wait_for_status(&server, &id, "APPROVED");
    server
        .acorn()
        .args(["registrations", "status", &id])
        .assert()
        .success()
        .stdout(contains("stripe    customer  approved"));
    let regs = server.json(&["registrations", "status", &id]);
    assert_eq!(regs[0]["status"], "approved");
    assert_eq!(regs[0]["provider_data"]["note"], "vip");
    // Submitting it again while approved: the API's conflict.
    server
        .acorn()
        .args([
            "registrations",
            "submit",
            &id,
            "--provider",
            "stripe",
            "--role",
            "customer",
        ])
        .assert()
        .code(1)
        .stderr(contains("(HTTP 409, conflict)"));
}
