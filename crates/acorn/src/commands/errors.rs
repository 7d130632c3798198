//! How a failed command is shown: the API's `msg` and every failure reason on stderr.

use acorn_sdk::OakError;
use acorn_types::FailureReason;
use serde::Serialize;

/// A usage error found after clap parsed the arguments (a combination clap cannot express):
/// shown like clap's own, with the command's usage, and exits 2.
#[derive(Debug)]
pub struct UsageError {
    /// The subcommand path, e.g. `["customers", "create"]`, for the usage line.
    pub command: &'static [&'static str],
    /// What is wrong.
    pub message: String,
}

impl UsageError {
    /// A usage error of `command`.
    pub fn new(command: &'static [&'static str], message: impl Into<String>) -> Self {
        UsageError {
            command,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UsageError {}

/// The parts of an API error worth showing.
struct Shown<'a> {
    status: u16,
    msg: &'a str,
    error_code: String,
    reasons: &'a [FailureReason],
}

fn shown<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<Shown<'a>> {
    let oak = e.downcast_ref::<OakError>()?;
    if let OakError::Api { status, .. } = oak {
        return Some(Shown {
            status: status.as_u16(),
            msg: oak.msg().unwrap_or_default(),
            error_code: wire_name(&oak.error_code()),
            reasons: oak.failure_reasons(),
        });
    }
    None
}

/// The JSON spelling of a wire enum (`validation_error`, `duplicate_data`, …).
pub fn wire_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => "unknown".to_owned(),
    }
}

/// One failure reason on one line: `email: email is not a valid address (invalid_input)`.
pub fn reason_line(r: &FailureReason) -> String {
    let mut line = String::new();
    if !r.fields.is_empty() {
        line.push_str(&r.fields.join(", "));
        line.push_str(": ");
    }
    line.push_str(&r.message);
    line.push_str(&format!(" ({})", wire_name(&r.code)));
    if let Some(reference) = &r.support_reference {
        line.push_str(&format!(" [support reference {reference}]"));
    }
    line
}

/// The error text for `e`: for an API error its `msg`, status and code, one line per failure
/// reason, then any hint added on the way up; otherwise the error and its causes.
pub fn render(e: &anyhow::Error) -> String {
    let Some(api) = e.chain().find_map(shown) else {
        return format!("error: {}", chain_text(e));
    };
    let mut out = format!(
        "error: {} (HTTP {}, {})",
        api.msg, api.status, api.error_code
    );
    for r in api.reasons {
        out.push_str("\n  - ");
        out.push_str(&reason_line(r));
    }
    for hint in e.chain().take_while(|c| shown(*c).is_none()) {
        out.push_str(&format!("\n{hint}"));
    }
    out
}

/// The error and its causes, `outer: inner`, leaving out a cause whose text the error before it
/// already quotes (the SDK's network error repeats reqwest's).
fn chain_text(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !parts.last().is_some_and(|prev| prev.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

/// Prints [`render`] on stderr.
pub fn report(e: &anyhow::Error) {
    eprintln!("{}", render(e));
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use acorn_types::ErrorEnvelope;

    #[test]
    fn api_errors_show_msg_reasons_and_hints() {
        let envelope: ErrorEnvelope = serde_json::from_value(serde_json::json!({
            "msg": "Validation failed", "error_code": "validation_error", "data": null,
            "failure_reasons": [
                {"code": "invalid_input", "message": "email is not a valid address", "fields": ["email"]},
                {"code": "internal_error", "message": "oops", "support_reference": "req-1"}
            ]
        }))
        .unwrap();
        let e = anyhow::Error::new(OakError::Api {
            status: reqwest::StatusCode::UNPROCESSABLE_ENTITY,
            body: Box::new(envelope),
            headers: Box::default(),
        })
        .context("try again later");
        assert_eq!(
            render(&e),
            "error: Validation failed (HTTP 422, validation_error)\n  \
             - email: email is not a valid address (invalid_input)\n  \
             - oops (internal_error) [support reference req-1]\ntry again later"
        );
    }

    #[test]
    fn other_errors_show_their_chain_once() {
        let e = anyhow::anyhow!("inner").context("outer");
        assert_eq!(render(&e), "error: outer: inner");
        let e = anyhow::anyhow!("refused").context("network error: refused");
        assert_eq!(render(&e), "error: network error: refused");
    }
}
