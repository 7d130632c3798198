//! Provider callbacks: Stripe's webhooks. Public — the `Stripe-Signature` is the credential.

use acorn_types::ApiResponse;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde_json::{json, Value};

use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::services::provider_state::{stripe_webhook, WebhookOutcome};

/// `POST /api/v1/providers/stripe/webhook`.
#[utoipa::path(
    post,
    path = "/api/v1/providers/stripe/webhook",
    operation_id = "providers.stripe_webhook",
    tag = "providers",
    summary = "Stripe's events (account.updated, customer.updated, customer.deleted), signed with Stripe-Signature",
    params(("Stripe-Signature" = String, Header, description = "t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<body>\">")),
    request_body = crate::http::openapi::markers::StripeEvent,
    responses((status = 200, description = "Received: the event type and what it changed", body = crate::http::openapi::markers::StripeWebhookEnvelope))
)]
pub async fn stripe(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<ApiResponse<Value>>, ApiError> {
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok());
    let (event, outcome) = stripe_webhook(&state, signature, &body).await?;
    let outcome = match outcome {
        WebhookOutcome::Applied => "applied",
        WebhookOutcome::Unchanged => "unchanged",
        WebhookOutcome::Ignored => "ignored",
    };
    Ok(Json(ApiResponse::new(
        "webhook received",
        json!({"received": true, "type": event, "outcome": outcome}),
    )))
}
