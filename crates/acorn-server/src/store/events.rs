//! Event rows, written in the same transaction as the change they record (contract §9).

use acorn_types::{CustomerId, Event, EventCategory, EventId, EventKind, MerchantId};
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

/// One event of a multi-row insert: whose, about which customer, its data and time.
pub(crate) struct CustomerEvent {
    pub merchant: MerchantId,
    pub customer: CustomerId,
    pub data: String,
    pub at: i64,
}

/// Records one event of the same kind per row, in one statement (ids in slice order).
pub(crate) async fn insert_customer_events(
    conn: &mut AnyConnection,
    event: &str,
    category: &str,
    rows: &[CustomerEvent],
) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut sql = super::sql::Sql::new(
        "INSERT INTO events (id, merchant_id, customer_id, event, category, data, created_at) VALUES ",
    );
    for (i, row) in rows.iter().enumerate() {
        sql.push(if i == 0 { "(" } else { ", (" });
        sql.bind(EventId::new().uuid().to_string()).push(", ");
        sql.bind(row.merchant.uuid().to_string()).push(", ");
        sql.bind(Some(row.customer.uuid().to_string())).push(", ");
        sql.bind(event.to_owned()).push(", ");
        sql.bind(category.to_owned()).push(", ");
        sql.bind(row.data.clone()).push(", ");
        sql.bind(row.at).push(")");
    }
    let (text, args) = sql.into_parts()?;
    sqlx::query_with(&text, args).execute(conn).await?;
    Ok(())
}

/// An event row as stored.
#[derive(sqlx::FromRow)]
struct EventRow {
    id: String,
    event: String,
    category: String,
    data: String,
    created_at: i64,
}

impl TryFrom<EventRow> for Event {
    type Error = super::StoreError;

    fn try_from(r: EventRow) -> Result<Self, super::StoreError> {
        let stored = |e: acorn_types::UnknownValue| anyhow::anyhow!("stored event: {e}");
        Ok(Event {
            id: format!("{}{}", EventId::PREFIX, r.id),
            api_version: "v1".to_owned(),
            event: EventKind::parse(&r.event).map_err(stored)?,
            category: EventCategory::parse(&r.category).map_err(stored)?,
            data: serde_json::from_str(&r.data).map_err(anyhow::Error::from)?,
            created_at: super::format_time(r.created_at),
        })
    }
}

impl super::Store {
    /// A merchant's events, newest first, optionally after a cursor and filtered by name.
    /// Returns the page and whether more follow.
    pub async fn list_events(
        &self,
        merchant: MerchantId,
        limit: i64,
        after: Option<EventId>,
        names: &[String],
    ) -> Result<(Vec<Event>, bool), super::StoreError> {
        let mut sql = super::sql::Sql::new(
            "SELECT id, event, category, data, created_at FROM events WHERE merchant_id = ",
        );
        sql.bind(merchant.uuid().to_string());
        if let Some(after) = after {
            sql.push(" AND id < ").bind(after.uuid().to_string());
        }
        if !names.is_empty() {
            sql.push(" AND event IN ").bind_list(names);
        }
        sql.push(" ORDER BY id DESC LIMIT ").bind(limit + 1);
        let (text, args) = sql.into_parts()?;
        let rows: Vec<EventRow> = sqlx::query_as_with(&text, args)
            .fetch_all(&self.read)
            .await?;
        let mut out = rows
            .into_iter()
            .map(Event::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        let has_more = out.len() as i64 > limit;
        out.truncate(usize::try_from(limit).unwrap_or(0));
        Ok((out, has_more))
    }

    /// Whether the merchant has this event (cursor validation).
    pub async fn event_exists(
        &self,
        merchant: MerchantId,
        id: EventId,
    ) -> Result<bool, super::StoreError> {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM events WHERE merchant_id = $1 AND id = $2")
                .bind(merchant.uuid().to_string())
                .bind(id.uuid().to_string())
                .fetch_optional(&self.read)
                .await?;
        Ok(found.is_some())
    }
}
