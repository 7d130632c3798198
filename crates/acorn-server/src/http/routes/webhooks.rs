//! `/api/v1/merchant/webhooks…` (contract §9; the official SDK's `WebhookService`): endpoint
//! CRUD and toggle, notifications, replay.

use acorn_types::{
    ApiResponse, CustomerId, FailureReason, Mode, NotificationId, ReasonCode, WebhookId,
};
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use crate::http::auth::{AuthMerchant, MerchantMode};
use crate::http::error::ApiError;
use crate::http::extract::{query_pairs, JsonObject};
use crate::http::state::AppState;
use crate::services::webhooks as service;
use crate::store::format_time;
use crate::store::notifications::{Notification, NotificationQuery};
use crate::store::webhooks::{Endpoint, EndpointPatch};
use acorn_types::UpdateWebhookRequest;

type Answer = Result<Json<ApiResponse<Value>>, ApiError>;

fn ok(msg: &str, data: Value) -> Answer {
    Ok(Json(ApiResponse::new(msg, data)))
}

/// An endpoint on the wire; the secret only when `with_secret` (registration).
fn render(e: &Endpoint, with_secret: bool) -> Value {
    let mut v = json!({
        "id": e.id.to_string(),
        "url": e.url,
        "description": e.description,
        "is_active": e.is_active,
        "event_types": e.event_types,
    });
    if with_secret {
        v["secret"] = json!(e.secret);
    }
    v
}

/// A notification on the wire.
pub fn render_notification(n: &Notification) -> Value {
    json!({
        "id": n.id.to_string(),
        "is_acknowledged": n.status == "delivered",
        "event": n.event,
        "category": n.category,
        "data": n.data,
        "status": n.status,
        "webhook_id": n.webhook_id.to_string(),
        "delivery_attempts": n.delivery_attempts,
        "created_at": format_time(n.created_at),
        "updated_at": format_time(n.updated_at),
    })
}

fn webhook_id(raw: &str) -> Result<WebhookId, ApiError> {
    WebhookId::parse(raw.trim()).map_err(|_| ApiError::not_found())
}

fn notification_id(raw: &str) -> Result<NotificationId, ApiError> {
    NotificationId::parse(raw.trim()).map_err(|_| ApiError::not_found())
}

/// The body of a register or update: its one parser ([`UpdateWebhookRequest::read_with`]) with the
/// server's URL rule for the merchant's mode, every problem reported together.
fn read_body(
    state: &AppState,
    mode: Mode,
    body: &Map<String, Value>,
    url_required: bool,
) -> Result<EndpointPatch, ApiError> {
    let w = UpdateWebhookRequest::read_with(body, url_required, |u| {
        service::check_url(&state.config, mode, u)
    })
    .map_err(ApiError::validation)?;
    Ok(EndpointPatch {
        url: w.url,
        description: w.description,
        event_types: w.event_types,
    })
}

/// `POST /api/v1/merchant/webhooks`.
#[utoipa::path(
    post,
    path = "/api/v1/merchant/webhooks",
    operation_id = "webhooks.register",
    tag = "webhooks",
    summary = "Register a webhook endpoint (the only answer with its secret)",
    request_body = acorn_types::RegisterWebhookRequest,
    responses((status = 200, description = "The endpoint, with its signing secret", body = crate::http::openapi::markers::WebhookEnvelope))
)]
pub async fn register(
    State(state): State<AppState>,
    AuthMerchant(merchant): AuthMerchant,
    MerchantMode(mode): MerchantMode,
    JsonObject(body): JsonObject,
) -> Answer {
    let patch = read_body(&state, mode, &body, true)?;
    let url = patch.url.unwrap_or_default();
    let description = patch.description.flatten();
    let types = patch.event_types.flatten();
    let e = service::register(&state.store, merchant, url, description, types).await?;
    ok("Webhook registered", render(&e, true))
}

/// `GET /api/v1/merchant/webhooks`.
#[utoipa::path(
    get,
    path = "/api/v1/merchant/webhooks",
    operation_id = "webhooks.list",
    tag = "webhooks",
    summary = "The merchant's webhook endpoints",
    responses((status = 200, description = "The endpoints (no secrets)", body = crate::http::openapi::markers::WebhooksEnvelope))
)]
pub async fn list(State(state): State<AppState>, AuthMerchant(merchant): AuthMerchant) -> Answer {
    let list = service::list(&state.store, merchant).await?;
    let data: Vec<Value> = list.iter().map(|e| render(e, false)).collect();
    ok("Webhooks fetched", Value::Array(data))
}

/// `GET /api/v1/merchant/webhooks/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/merchant/webhooks/{id}",
    operation_id = "webhooks.get",
    tag = "webhooks",
    summary = "One webhook endpoint",
    responses((status = 200, description = "The endpoint (no secret)", body = crate::http::openapi::markers::WebhookEnvelope))
)]
pub async fn get(
    State(state): State<AppState>,
    AuthMerchant(merchant): AuthMerchant,
    Path(id): Path<String>,
) -> Answer {
    let e = service::get(&state.store, merchant, webhook_id(&id)?).await?;
    ok("Webhook fetched", render(&e, false))
}

/// `PUT /api/v1/merchant/webhooks/{id}`.
#[utoipa::path(
    put,
    path = "/api/v1/merchant/webhooks/{id}",
    operation_id = "webhooks.update",
    tag = "webhooks",
    summary = "Update a webhook endpoint",
    request_body = acorn_types::UpdateWebhookRequest,
    responses((status = 200, description = "The endpoint (no secret)", body = crate::http::openapi::markers::WebhookEnvelope))
)]
pub async fn update(
    State(state): State<AppState>,
    AuthMerchant(merchant): AuthMerchant,
    MerchantMode(mode): MerchantMode,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> Answer {
    let id = webhook_id(&id)?;
    let patch = read_body(&state, mode, &body, false)?;
    let e = service::update(&state.store, merchant, id, patch).await?;
    ok("Webhook updated", render(&e, false))
}

/// `PATCH /api/v1/merchant/webhooks/{id}/toggle` (no body).
#[utoipa::path(
    patch,
    path = "/api/v1/merchant/webhooks/{id}/toggle",
    operation_id = "webhooks.toggle",
    tag = "webhooks",
    summary = "Turn a webhook endpoint on or off",
    responses((status = 200, description = "The endpoint with is_active flipped", body = crate::http::openapi::markers::WebhookEnvelope))
)]
pub async fn toggle(
    State(state): State<AppState>,
    AuthMerchant(merchant): AuthMerchant,
    Path(id): Path<String>,
) -> Answer {
    let e = service::toggle(&state.store, merchant, webhook_id(&id)?).await?;
    ok("Webhook toggled", render(&e, false))
}

/// `DELETE /api/v1/merchant/webhooks/{id}`.
#[utoipa::path(
    delete,
    path = "/api/v1/merchant/webhooks/{id}",
    operation_id = "webhooks.delete",
    tag = "webhooks",
    summary = "Delete a webhook endpoint",
    responses((status = 200, description = "Deleted", body = crate::http::openapi::markers::WebhookDeletedEnvelope))
)]
pub async fn delete(
    State(state): State<AppState>,
    AuthMerchant(merchant): AuthMerchant,
    Path(id): Path<String>,
) -> Answer {
    service::delete(&state.store, merchant, webhook_id(&id)?).await?;
    ok("Webhook deleted", json!({"success": true}))
}

fn read_query(raw: Option<&str>) -> Result<NotificationQuery, ApiError> {
    let mut q = NotificationQuery {
        limit: i64::from(acorn_types::DEFAULT_LIST_LIMIT),
        ..Default::default()
    };
    let mut reasons = Vec::new();
    for (key, value) in query_pairs(raw) {
        let value = value.trim().to_owned();
        match key.as_str() {
            "limit" => match value.parse::<i64>() {
                Ok(n) if n >= 1 => q.limit = n.min(i64::from(acorn_types::MAX_LIST_LIMIT)),
                _ => reasons.push(FailureReason::invalid(
                    "limit",
                    "limit must be an integer ≥ 1",
                )),
            },
            "offset" => match value.parse::<i64>() {
                Ok(n) if n >= 0 => q.offset = n,
                _ => reasons.push(FailureReason::invalid(
                    "offset",
                    "offset must be an integer ≥ 0",
                )),
            },
            "status" => match value.as_str() {
                "pending" | "delivered" | "dead_lettered" => q.status = Some(value),
                _ => reasons.push(FailureReason::invalid(
                    "status",
                    "status must be pending, delivered or dead_lettered",
                )),
            },
            "reference_id" => match CustomerId::parse(&value) {
                Ok(c) => q.customer = Some(c),
                // An id that is no customer matches nothing.
                Err(_) => q.customer = Some(CustomerId::from_uuid(uuid::Uuid::nil())),
            },
            "reference_module" => q.category = Some(value),
            "webhook_id" => match WebhookId::parse(&value) {
                Ok(w) => q.webhook = Some(w),
                Err(_) => reasons.push(FailureReason::new(
                    ReasonCode::InvalidInput,
                    "webhook_id is not a webhook id",
                    &["webhook_id"],
                )),
            },
            other => reasons.push(FailureReason::invalid(
                other,
                format!("{other} is not a known query parameter"),
            )),
        }
    }
    if reasons.is_empty() {
        Ok(q)
    } else {
        Err(ApiError::validation(reasons))
    }
}

/// `GET /api/v1/merchant/webhooks/notifications`: `limit`, `offset`, `status`,
/// `reference_id` (a customer id), `reference_module` (a category), `webhook_id`.
#[utoipa::path(
    get,
    path = "/api/v1/merchant/webhooks/notifications",
    operation_id = "webhooks.list_notifications",
    tag = "webhooks",
    summary = "The merchant's webhook notifications, newest first",
    params(("limit" = Option<u32>, Query), ("offset" = Option<u32>, Query), ("status" = Option<String>, Query), ("reference_id" = Option<String>, Query), ("reference_module" = Option<String>, Query), ("webhook_id" = Option<String>, Query)),
    responses((status = 200, description = "A page of notifications and their count", body = crate::http::openapi::markers::NotificationsEnvelope))
)]
pub async fn notifications(
    State(state): State<AppState>,
    AuthMerchant(merchant): AuthMerchant,
    RawQuery(raw): RawQuery,
) -> Answer {
    let q = read_query(raw.as_deref())?;
    let (list, count) = service::notifications(&state.store, merchant, &q).await?;
    let list: Vec<Value> = list.iter().map(render_notification).collect();
    ok(
        "Notifications fetched",
        json!({"count": count, "notification_list": list}),
    )
}

/// `GET /api/v1/merchant/webhooks/notifications/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/merchant/webhooks/notifications/{id}",
    operation_id = "webhooks.get_notification",
    tag = "webhooks",
    summary = "One webhook notification with its delivery attempts",
    responses((status = 200, description = "The notification", body = crate::http::openapi::markers::NotificationEnvelope))
)]
pub async fn notification(
    State(state): State<AppState>,
    AuthMerchant(merchant): AuthMerchant,
    Path(id): Path<String>,
) -> Answer {
    let n = service::notification(&state.store, merchant, notification_id(&id)?).await?;
    ok("Notification fetched", render_notification(&n))
}

/// `POST /api/v1/merchant/webhooks/notifications/{id}/replay` → 202.
#[utoipa::path(
    post,
    path = "/api/v1/merchant/webhooks/notifications/{id}/replay",
    operation_id = "webhooks.replay",
    tag = "webhooks",
    summary = "Send a delivered or dead-lettered notification again",
    responses((status = 202, description = "Queued for delivery", body = crate::http::openapi::markers::NullEnvelope))
)]
pub async fn replay(
    State(state): State<AppState>,
    AuthMerchant(merchant): AuthMerchant,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    service::replay(&state.store, merchant, notification_id(&id)?).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(ApiResponse::new(
            "Notification queued for delivery",
            Value::Null,
        )),
    )
        .into_response())
}
