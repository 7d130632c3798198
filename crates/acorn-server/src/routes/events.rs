//! `GET /api/v1/events` — the merchant's own event log, newest first.

use acorn_types::{ApiResponse, EventId, FailureReason, ReasonCode};
use axum::extract::{RawQuery, State};
use axum::Json;
use serde_json::{json, Value};

use super::list_query::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::auth::AuthMerchant;
use crate::error::ApiError;
use crate::extract::{comma_list, query_pairs};
use crate::services::events::{self, is_known_event};
use crate::state::AppState;

/// Lists events: `limit` (1–100, default 10), `starting_after` (an event id), `event` (names,
/// comma separated).
pub async fn list(
    State(state): State<AppState>,
    AuthMerchant(merchant): AuthMerchant,
    RawQuery(raw): RawQuery,
) -> Result<Json<ApiResponse<Value>>, ApiError> {
    let mut reasons = Vec::new();
    let (mut limit, mut after, mut names) = (DEFAULT_LIMIT, None, Vec::<String>::new());
    for (key, value) in query_pairs(raw.as_deref()) {
        match key.as_str() {
            "limit" => match value.trim().parse::<i64>() {
                Ok(n) if n >= 1 => limit = n.min(MAX_LIMIT),
                _ => reasons.push(FailureReason::invalid(
                    "limit",
                    "limit must be an integer ≥ 1",
                )),
            },
            "starting_after" => match EventId::parse(value.trim()) {
                Ok(id) => after = Some(id),
                Err(_) => reasons.push(FailureReason::new(
                    ReasonCode::InvalidCursor,
                    "starting_after is not an event id",
                    &["starting_after"],
                )),
            },
            "event" => comma_list(
                "event",
                &value,
                |name| {
                    is_known_event(name)
                        .then(|| name.to_owned())
                        .ok_or_else(|| "is not an event name".to_owned())
                },
                &mut names,
                &mut reasons,
            ),
            other => reasons.push(FailureReason::invalid(
                other,
                format!("{other} is not a known query parameter"),
            )),
        }
    }
    if !reasons.is_empty() {
        return Err(ApiError::validation(reasons));
    }
    let (events, has_more) = events::list(&state.store, merchant, limit, after, &names).await?;
    Ok(Json(ApiResponse::new(
        "Events fetched",
        json!({"event_list": events, "has_more": has_more}),
    )))
}
