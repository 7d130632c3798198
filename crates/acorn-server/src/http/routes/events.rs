//! `GET /api/v1/events` — the merchant's own event log, newest first.

use acorn_types::{ApiResponse, EventList, EventListParams, DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT};
use axum::extract::{RawQuery, State};
use axum::Json;

use crate::http::auth::AuthMerchant;
use crate::http::error::ApiError;
use crate::http::extract::query_pairs;
use crate::http::state::AppState;
use crate::services::events;

/// Lists events: `limit` (1–100, default 10), `starting_after` (an event id), `event` (names,
/// comma separated).
#[utoipa::path(
    get,
    path = "/api/v1/events",
    operation_id = "events.list",
    tag = "events",
    summary = "The merchant's events, newest first",
    params(("limit" = Option<u32>, Query), ("starting_after" = Option<String>, Query), ("event" = Option<String>, Query)),
    responses((status = 200, description = "A page of events", body = crate::http::openapi::markers::EventsEnvelope))
)]
pub async fn list(
    State(state): State<AppState>,
    AuthMerchant(merchant): AuthMerchant,
    RawQuery(raw): RawQuery,
) -> Result<Json<ApiResponse<EventList>>, ApiError> {
    let p =
        EventListParams::from_query(&query_pairs(raw.as_deref())).map_err(ApiError::validation)?;
    let limit = i64::from(p.limit.unwrap_or(DEFAULT_LIST_LIMIT).min(MAX_LIST_LIMIT));
    let (after, names) = (p.starting_after_id(), p.event.clone());
    let (events, has_more) = events::list(&state.store, merchant, limit, after, &names).await?;
    let list = EventList {
        event_list: events,
        has_more,
    };
    Ok(Json(ApiResponse::new("Events fetched", list)))
}
