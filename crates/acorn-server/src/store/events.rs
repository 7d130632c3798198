//! Event rows, written in the same transaction as the change they record (contract §9).

use acorn_types::{CustomerId, EventId, MerchantId};
use serde_json::Value;
use sqlx::AnyConnection;

/// `provider_registration_lifecycle`: customer and registration events.
pub const CATEGORY_REGISTRATION: &str = "provider_registration_lifecycle";

/// Records one event.
pub(crate) async fn insert_event(
    conn: &mut AnyConnection,
    merchant: MerchantId,
    customer: Option<CustomerId>,
    event: &str,
    category: &str,
    data: &Value,
    now: i64,
) -> Result<EventId, sqlx::Error> {
    let id = EventId::new();
    sqlx::query(
        "INSERT INTO events (id, merchant_id, customer_id, event, category, data, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id.uuid().to_string())
    .bind(merchant.uuid().to_string())
    .bind(customer.map(|c| c.uuid().to_string()))
    .bind(event.to_owned())
    .bind(category.to_owned())
    .bind(data.to_string())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(id)
}
