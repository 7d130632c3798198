//! What every example shares: a client configured from the environment, a fresh customer so
//! each example runs on its own, and waiting for the sandbox to decide a registration.
//!
//! Environment: `ACORN_URL` (default `http://127.0.0.1:8080`), `ACORN_CLIENT_ID`,
//! `ACORN_CLIENT_SECRET` (both printed by `acorn serve` on its first start).

// Each example uses only some of these.
#![allow(dead_code)]

use std::error::Error;
use std::fmt;
use std::time::{Duration, Instant};

use acorn_sdk::types::{
    Customer, CustomerRequest, Provider, Registration, RegistrationStatus, TargetRole,
};
use acorn_sdk::{OakClient, OakError};

/// The result of every example's `main`: any failure ends the program with a non-zero exit.
pub type Result<T, E = Failure> = std::result::Result<T, E>;

/// Any error, printed (when `main` returns it) as its message and its causes rather than as a
/// `Debug` dump; an `OakError` as its own `Debug` (status, code, message, failure reasons).
pub struct Failure(Box<dyn Error>);

impl<E: Into<Box<dyn Error>>> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure(e.into())
    }
}

impl fmt::Debug for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // An `OakError`'s own `Debug` already reads well: status, code, message, reasons.
        if let Some(e) = self.0.downcast_ref::<OakError>() {
            return write!(f, "{e:?}");
        }
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, "\n  caused by: {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

/// A client for the server named by `ACORN_URL`, with the merchant's credentials.
pub fn client() -> Result<OakClient> {
    let url = std::env::var("ACORN_URL").unwrap_or_else(|_| "http://127.0.0.1:8080".to_owned());
    let client = OakClient::builder()
        .custom_url(url)
        .client_id(required_env("ACORN_CLIENT_ID")?)
        .client_secret(required_env("ACORN_CLIENT_SECRET")?)
        .build()?;
    Ok(client)
}

fn required_env(name: &str) -> Result<String> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(format!("{name} is not set (acorn serve prints it on its first start)").into()),
    }
}

/// `name+<random>@example.com`, so every run creates a new customer. `name` may carry a sandbox
/// outcome tag, e.g. `bob+review`.
pub fn unique_email(name: &str) -> String {
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    format!("{name}+{}@example.com", &suffix[..12])
}

/// Creates a customer to work on.
pub async fn new_customer(client: &OakClient, first_name: &str) -> Result<Customer> {
    let created = client
        .customers()
        .create(&CustomerRequest {
            email: Some(unique_email(&first_name.to_lowercase())),
            first_name: Some(first_name.to_owned()),
            last_name: Some("Smith".to_owned()),
            country_code: Some("US".to_owned()),
            ..Default::default()
        })
        .await?;
    Ok(created.data)
}

/// Polls the customer's registrations until the one with `provider` as `role` leaves
/// `submitted`/`processing` (the sandbox decides after `--sandbox-step-delay`), for at most 30 s.
pub async fn wait_for_decision(
    client: &OakClient,
    customer_id: &str,
    provider: Provider,
    role: TargetRole,
) -> Result<Registration> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let regs = client
            .providers()
            .get_registration_status(customer_id)
            .await?
            .data;
        let reg = regs
            .into_iter()
            .find(|r| r.provider == provider && r.target_role == role)
            .ok_or("the registration is missing")?;
        if !matches!(
            reg.status,
            RegistrationStatus::Submitted | RegistrationStatus::Processing
        ) {
            return Ok(reg);
        }
        if Instant::now() > deadline {
            return Err(format!("still {} after 30 s", reg.status).into());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
