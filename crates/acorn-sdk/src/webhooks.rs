//! `WebhookService`: webhook endpoints and notifications (contract §9), one method per method
//! of the official TypeScript SDK's `WebhookService` (Rust names), plus `replay`.

use std::fmt;
use std::sync::Arc;

use acorn_types::{
    ApiResponse, NotificationList, NotificationListParams, RegisterWebhookRequest,
    UpdateWebhookRequest, WebhookDeleted, WebhookEndpoint, WebhookNotification,
};
use reqwest::Method;
use serde_json::Value;

use crate::error::OakError;
use crate::path::segment;
use crate::transport::{Call, Inner};

const BASE: &str = "/api/v1/merchant/webhooks";

/// Webhook endpoints and notifications. Get one with
/// [`OakClient::webhooks`](crate::OakClient::webhooks).
#[derive(Clone)]
pub struct WebhookService {
    inner: Arc<Inner>,
}

impl fmt::Debug for WebhookService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookService").finish_non_exhaustive()
    }
}

fn endpoint_path(id: &str, rest: &str) -> Result<String, OakError> {
    Ok(format!("{BASE}/{}{rest}", segment("webhook id", id)?))
}

fn notification_path(id: &str, rest: &str) -> Result<String, OakError> {
    Ok(format!(
        "{BASE}/notifications/{}{rest}",
        segment("notification id", id)?
    ))
}

impl WebhookService {
    pub(crate) fn new(inner: Arc<Inner>) -> Self {
        Self { inner }
    }

    /// Registers an endpoint (`POST /api/v1/merchant/webhooks`); the answer is the only time
    /// its signing `secret` is shown.
    ///
    /// ```no_run
    /// # async fn run(client: acorn_sdk::OakClient) -> Result<(), acorn_sdk::OakError> {
    /// use acorn_sdk::types::RegisterWebhookRequest;
    ///
    /// let req = RegisterWebhookRequest { url: "https://example.com/hooks".into(), ..Default::default() };
    /// let hook = client.webhooks().register(&req).await?.data;
    /// println!("{} secret {}", hook.id, hook.secret.unwrap_or_default());
    /// # Ok(()) }
    /// ```
    pub async fn register(
        &self,
        req: &RegisterWebhookRequest,
    ) -> Result<ApiResponse<WebhookEndpoint>, OakError> {
        let call = Call::new(Method::POST, BASE.into()).json(req)?;
        self.inner.call(call).await
    }

    /// The merchant's endpoints (`GET /api/v1/merchant/webhooks`).
    pub async fn list(&self) -> Result<ApiResponse<Vec<WebhookEndpoint>>, OakError> {
        self.inner.call(Call::new(Method::GET, BASE.into())).await
    }

    /// One endpoint (`GET /api/v1/merchant/webhooks/{id}`).
    pub async fn get(&self, id: &str) -> Result<ApiResponse<WebhookEndpoint>, OakError> {
        let call = Call::new(Method::GET, endpoint_path(id, "")?);
        self.inner.call(call).await
    }

    /// Changes an endpoint (`PUT /api/v1/merchant/webhooks/{id}`).
    pub async fn update(
        &self,
        id: &str,
        req: &UpdateWebhookRequest,
    ) -> Result<ApiResponse<WebhookEndpoint>, OakError> {
        let call = Call::new(Method::PUT, endpoint_path(id, "")?).json(req)?;
        self.inner.call(call).await
    }

    /// Flips whether an endpoint is active (`PATCH /api/v1/merchant/webhooks/{id}/toggle`).
    pub async fn toggle(&self, id: &str) -> Result<ApiResponse<WebhookEndpoint>, OakError> {
        let call = Call::new(Method::PATCH, endpoint_path(id, "/toggle")?);
        self.inner.call(call).await
    }

    /// Deletes an endpoint (`DELETE /api/v1/merchant/webhooks/{id}`).
    pub async fn delete(&self, id: &str) -> Result<ApiResponse<WebhookDeleted>, OakError> {
        let call = Call::new(Method::DELETE, endpoint_path(id, "")?);
        self.inner.call(call).await
    }

    /// A page of notifications (`GET /api/v1/merchant/webhooks/notifications`).
    pub async fn list_notifications(
        &self,
        params: &NotificationListParams,
    ) -> Result<ApiResponse<NotificationList>, OakError> {
        let call = Call::new(Method::GET, format!("{BASE}/notifications")).query(params)?;
        self.inner.call(call).await
    }

    /// One notification (`GET /api/v1/merchant/webhooks/notifications/{id}`).
    pub async fn get_notification(
        &self,
        id: &str,
    ) -> Result<ApiResponse<WebhookNotification>, OakError> {
        let call = Call::new(Method::GET, notification_path(id, "")?);
        self.inner.call(call).await
    }

    /// Sends a delivered or dead-lettered notification again
    /// (`POST /api/v1/merchant/webhooks/notifications/{id}/replay`, 202).
    pub async fn replay(&self, id: &str) -> Result<ApiResponse<Option<Value>>, OakError> {
        let call = Call::new(Method::POST, notification_path(id, "/replay")?)
            .json(&serde_json::json!({}))?;
        self.inner.call(call).await
    }
}
