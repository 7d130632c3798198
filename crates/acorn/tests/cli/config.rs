//! Client configuration: missing, wrong or unreachable — each says which and what to do.

use predicates::prelude::*;
use predicates::str::contains;

use crate::helpers::{acorn_bare, Server};

#[test]
fn missing_credentials_name_the_missing_one_and_how_to_get_it() {
    acorn_bare()
        .args(["customers", "list"])
        .assert()
        .code(1)
        .stderr(contains(
            "missing client id (--client-id or ACORN_CLIENT_ID)",
        ))
        .stderr(contains(
            "client secret (--client-secret or ACORN_CLIENT_SECRET)",
        ))
        .stderr(contains("acorn merchants create --name NAME"));
    acorn_bare()
        .args(["events", "--client-id", "acorn_x"])
        .assert()
        .code(1)
        .stderr(contains("missing client secret"))
        .stderr(contains("client id").not());
}

#[test]
fn wrong_credentials_and_wrong_url_say_what_to_fix() {
    let server = Server::start();
    server
        .acorn()
        .env("ACORN_CLIENT_SECRET", "sk_wrong")
        .args(["customers", "list"])
        .assert()
        .code(1)
        .stderr(contains(
            "invalid client credentials (HTTP 401, authentication_error)",
        ))
        .stderr(contains("refused the client id or client secret"))
        .stderr(contains("acorn merchants create"));
    // Flags win over the variables.
    server
        .acorn()
        .env("ACORN_CLIENT_SECRET", "sk_wrong")
        .args([
            "customers",
            "list",
            "--client-secret",
            &server.merchant.client_secret,
        ])
        .assert()
        .success();
    server
        .acorn()
        .args(["customers", "list", "--url", "http://127.0.0.1:1"])
        .assert()
        .code(1)
        .stderr(contains(
            "cannot reach an Acorn server at http://127.0.0.1:1",
        ));
    server
        .acorn()
        .args(["customers", "list", "--url", "not a url"])
        .assert()
        .code(1)
        .stderr(contains("--url or ACORN_URL"));
}
