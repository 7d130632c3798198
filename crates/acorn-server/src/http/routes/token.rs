//! `POST /api/v1/merchant/token/grant` — OAuth 2.0 client credentials (contract §2).

use acorn_types::{FromBody, ReasonCode, TokenRequest, TokenResponse};
use axum::extract::{Request, State};
use axum::http::header;
use axum::Json;
use serde_json::{Map, Value};

use crate::http::error::ApiError;
use crate::http::extract::{body_bytes, parse_object};
use crate::http::state::AppState;

/// Reads the grant body: JSON (what the Oak SDKs send) or a standard OAuth form body.
async fn grant_body(state: &AppState, req: Request) -> Result<Map<String, Value>, ApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let is_form = content_type.starts_with("application/x-www-form-urlencoded");
    if !is_form && !content_type.starts_with("application/json") {
        return Err(ApiError::unsupported_media_type(
            "expected Content-Type: application/json",
        ));
    }
    let bytes = body_bytes(req, state).await?;
    if is_form {
        Ok(url::form_urlencoded::parse(&bytes)
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect())
    } else {
        parse_object(&bytes)
    }
}

/// Exchanges client credentials for a bearer token.
#[utoipa::path(
    post,
    path = "/api/v1/merchant/token/grant",
    operation_id = "grant_token",
    tag = "auth",
    summary = "Exchange client credentials for a bearer token",
    request_body(content((acorn_types::TokenRequest = "application/json"), (acorn_types::TokenRequest = "application/x-www-form-urlencoded"))),
    responses((status = 200, description = "A bearer token", body = crate::http::openapi::markers::TokenResponse))
)]
pub async fn grant(
    State(state): State<AppState>,
    req: Request,
) -> Result<Json<TokenResponse>, ApiError> {
    let body = grant_body(&state, req).await?;
    let TokenRequest {
        client_id,
        client_secret: secret,
        ..
    } = TokenRequest::from_body(&body).map_err(ApiError::validation)?;

    let merchant = state.store.merchant_by_client_id(&client_id).await?;
    // Hash even for unknown ids so timing does not say which of the two was wrong.
    let stored = merchant
        .as_ref()
        .map(|m| m.secret_hash.as_str())
        .unwrap_or("");
    let ok = state.auth.secret_matches(&secret, stored);
    let Some(merchant) = merchant.filter(|_| ok) else {
        return Err(ApiError::unauthorized(
            ReasonCode::InvalidClient,
            "invalid client credentials",
        ));
    };
    if !state.config.modes.hosts(merchant.mode) {
        return Err(crate::http::auth::mode_not_hosted(
            merchant.mode,
            state.config.modes,
        ));
    }
    let (access_token, expires_in) = state.auth.issue(merchant.id)?;
    Ok(Json(TokenResponse {
        access_token,
        token_type: "Bearer".to_owned(),
        expires_in,
        livemode: merchant.mode.is_live(),
    }))
}
