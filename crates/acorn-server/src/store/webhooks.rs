//! Webhook endpoints: the URLs a merchant registers for its events (contract §9).

use acorn_types::{MerchantId, WebhookId};

use super::{OnUnique, Store, StoreError};

/// A registered endpoint.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The endpoint's id.
    pub id: WebhookId,
    /// Where deliveries go.
    pub url: String,
    /// The merchant's note.
    pub description: Option<String>,
    /// The events it receives; `None` = all.
    pub event_types: Option<Vec<String>>,
    /// Whether deliveries are made.
    pub is_active: bool,
    /// The signing secret (shown to the merchant only at registration).
    pub secret: String,
}

/// A new endpoint.
#[derive(Debug, Clone)]
pub struct NewEndpoint {
    /// Where deliveries go.
    pub url: String,
    /// The merchant's note.
    pub description: Option<String>,
    /// The events it receives; `None` = all.
    pub event_types: Option<Vec<String>>,
    /// The signing secret.
    pub secret: String,
}

/// The changes of an update: `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct EndpointPatch {
    /// A new URL.
    pub url: Option<String>,
    /// A new description (`Some(None)` clears it).
    pub description: Option<Option<String>>,
    /// New event types (`Some(None)` = all events).
    pub event_types: Option<Option<Vec<String>>>,
}

#[derive(sqlx::FromRow)]
struct EndpointRow {
    id: String,
    url: String,
    description: Option<String>,
    event_types: Option<String>,
    is_active: i64,
    secret: String,
}

impl TryFrom<EndpointRow> for Endpoint {
    type Error = StoreError;

    fn try_from(r: EndpointRow) -> Result<Self, StoreError> {
        Ok(Endpoint {
            id: WebhookId::parse(&r.id).map_err(|e| anyhow::anyhow!("webhook id: {e}"))?,
            url: r.url,
            description: r.description,
            event_types: r.event_types.as_deref().map(decode_types),
            is_active: r.is_active != 0,
            secret: r.secret,
        })
    }
}

/// `,a,b,` for the `LIKE` match of [`super::notifications::fan_out`].
fn encode_types(types: &Option<Vec<String>>) -> Option<String> {
    types.as_ref().map(|t| format!(",{},", t.join(",")))
}

fn decode_types(text: &str) -> Vec<String> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

const COLUMNS: &str = "id, url, description, event_types, is_active, secret";

impl Store {
    /// Registers an endpoint (active). A URL the merchant already has is `Duplicate("url")`.
    pub async fn insert_endpoint(
        &self,
        merchant: MerchantId,
        new: NewEndpoint,
        now: i64,
    ) -> Result<Endpoint, StoreError> {
        let id = WebhookId::new();
        sqlx::query(
            "INSERT INTO webhook_endpoints (id, merchant_id, url, description, event_types, secret, is_active, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7)",
        )
        .bind(id.uuid().to_string())
        .bind(merchant.uuid().to_string())
        .bind(new.url.clone())
        .bind(new.description.clone())
        .bind(encode_types(&new.event_types))
        .bind(new.secret.clone())
        .bind(now)
        .execute(&mut *self.write.acquire().await?)
        .await
        .on_unique_violation("url")?;
        Ok(Endpoint {
            id,
            url: new.url,
            description: new.description,
            event_types: new.event_types,
            is_active: true,
            secret: new.secret,
        })
    }

    /// One of the merchant's endpoints.
    pub async fn get_endpoint(
        &self,
        merchant: MerchantId,
        id: WebhookId,
    ) -> Result<Endpoint, StoreError> {
        let text =
            format!("SELECT {COLUMNS} FROM webhook_endpoints WHERE merchant_id = $1 AND id = $2");
        let row: Option<EndpointRow> = sqlx::query_as(&text)
            .bind(merchant.uuid().to_string())
            .bind(id.uuid().to_string())
            .fetch_optional(&mut *self.read.acquire().await?)
            .await?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    /// The merchant's endpoints, oldest first.
    pub async fn list_endpoints(&self, merchant: MerchantId) -> Result<Vec<Endpoint>, StoreError> {
        let text =
            format!("SELECT {COLUMNS} FROM webhook_endpoints WHERE merchant_id = $1 ORDER BY id");
        let rows: Vec<EndpointRow> = sqlx::query_as(&text)
            .bind(merchant.uuid().to_string())
            .fetch_all(&mut *self.read.acquire().await?)
            .await?;
        rows.into_iter().map(Endpoint::try_from).collect()
    }

    /// Applies `patch` to one of the merchant's endpoints.
    pub async fn update_endpoint(
        &self,
        merchant: MerchantId,
        id: WebhookId,
        patch: EndpointPatch,
        now: i64,
    ) -> Result<Endpoint, StoreError> {
        let mut tx = self.begin().await?;
        let text = format!(
            "SELECT {COLUMNS} FROM webhook_endpoints WHERE merchant_id = $1 AND id = $2{}",
            self.for_update()
        );
        let row: Option<EndpointRow> = sqlx::query_as(&text)
            .bind(merchant.uuid().to_string())
            .bind(id.uuid().to_string())
            .fetch_optional(&mut *tx)
            .await?;
        let mut endpoint = Endpoint::try_from(row.ok_or(StoreError::NotFound)?)?;
        if let Some(url) = patch.url {
            endpoint.url = url;
        }
        if let Some(description) = patch.description {
            endpoint.description = description;
        }
        if let Some(types) = patch.event_types {
            endpoint.event_types = types;
        }
        sqlx::query(
            "UPDATE webhook_endpoints SET url = $1, description = $2, event_types = $3, updated_at = $4 WHERE id = $5",
        )
        .bind(endpoint.url.clone())
        .bind(endpoint.description.clone())
        .bind(encode_types(&endpoint.event_types))
        .bind(now)
        .bind(id.uuid().to_string())
        .execute(&mut *tx)
        .await
        .on_unique_violation("url")?;
        tx.commit().await?;
        Ok(endpoint)
    }

    /// Flips whether one of the merchant's endpoints is active.
    pub async fn toggle_endpoint(
        &self,
        merchant: MerchantId,
        id: WebhookId,
        now: i64,
    ) -> Result<Endpoint, StoreError> {
        let text = format!(
            "UPDATE webhook_endpoints SET is_active = 1 - is_active, updated_at = $1 \
             WHERE merchant_id = $2 AND id = $3 RETURNING {COLUMNS}"
        );
        let row: Option<EndpointRow> = sqlx::query_as(&text)
            .bind(now)
            .bind(merchant.uuid().to_string())
            .bind(id.uuid().to_string())
            .fetch_optional(&mut *self.write.acquire().await?)
            .await?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    /// Deletes one of the merchant's endpoints; its pending notifications are dead-lettered
    /// (they have nowhere to go).
    pub async fn delete_endpoint(
        &self,
        merchant: MerchantId,
        id: WebhookId,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("DELETE FROM webhook_endpoints WHERE merchant_id = $1 AND id = $2")
            .bind(merchant.uuid().to_string())
            .bind(id.uuid().to_string())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query(
            "UPDATE webhook_notifications SET status = 'dead_lettered', locked_until = NULL, updated_at = $1 \
             WHERE webhook_id = $2 AND status = 'pending'",
        )
        .bind(now)
        .bind(id.uuid().to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
