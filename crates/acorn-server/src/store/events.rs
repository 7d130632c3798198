//! Event rows, written in the same transaction as the change they record (contract §9), each
//! with its webhook notifications (one per matching endpoint, [`super::notifications::fan_out`]).

use acorn_types::{CustomerId, Event, EventCategory, EventId, EventKind, MerchantId};
use serde_json::Value;
use sqlx::AnyConnection;

/// Event data sealed with the merchant's key: a provider's answer in it may hold the
/// customer's data.
fn seal(merchant: MerchantId, data: &str) -> Result<String, sqlx::Error> {
    crate::base::crypto::seal_for(merchant, data, "event_data")
        .map_err(|e| sqlx::Error::Encode(e.into()))
}

/// Records one event.
pub(crate) async fn insert_event(
    conn: &mut AnyConnection,
    merchant: MerchantId,
    customer: Option<CustomerId>,
    event: EventKind,
    data: &Value,
    now: i64,
) -> Result<EventId, sqlx::Error> {
    let id = EventId::new();
    sqlx::query(
        "INSERT INTO events (id, merchant_id, customer_id, event, data, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id.uuid().to_string())
    .bind(merchant.uuid().to_string())
    .bind(customer.map(|c| c.uuid().to_string()))
    .bind(event.as_str().to_owned())
    .bind(seal(merchant, &data.to_string())?)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    super::notifications::fan_out(
        conn,
        event.as_str(),
        &[merchant.uuid().to_string()],
        &[id.uuid().to_string()],
    )
    .await?;
    Ok(id)
}

/// One event of a multi-row insert: whose, about which customer, its data and time.
#[derive(Debug, Clone)]
pub(crate) struct CustomerEvent {
    pub merchant: MerchantId,
    pub customer: CustomerId,
    pub data: String,
    pub at: i64,
}

/// Customer events whose data is sealed already: sealing is CPU work, which a single create
/// does in its own request rather than in the one writer of its group.
pub(crate) struct SealedEvents(Vec<CustomerEvent>);

/// A [`CustomerEvent`] whose data is sealed.
#[derive(Debug, Clone)]
pub(crate) struct SealedEvent(CustomerEvent);

impl CustomerEvent {
    /// Seals the event's data.
    pub(crate) fn seal(mut self) -> Result<SealedEvent, sqlx::Error> {
        self.data = seal(self.merchant, &self.data)?;
        Ok(SealedEvent(self))
    }
}

impl FromIterator<SealedEvent> for SealedEvents {
    fn from_iter<I: IntoIterator<Item = SealedEvent>>(iter: I) -> Self {
        SealedEvents(iter.into_iter().map(|e| e.0).collect())
    }
}

/// Records one event of the same kind per row, in one statement (ids in slice order).
pub(crate) async fn insert_customer_events(
    conn: &mut AnyConnection,
    event: EventKind,
    rows: &[CustomerEvent],
) -> Result<(), sqlx::Error> {
    let rows = rows
        .iter()
        .map(|r| {
            Ok(CustomerEvent {
                merchant: r.merchant,
                customer: r.customer,
                data: seal(r.merchant, &r.data)?,
                at: r.at,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    insert_sealed_events(conn, event, SealedEvents(rows)).await
}

/// Records sealed events of one kind, in one statement (ids in order), and their webhook
/// notifications.
pub(crate) async fn insert_sealed_events(
    conn: &mut AnyConnection,
    event: EventKind,
    sealed: SealedEvents,
) -> Result<(), sqlx::Error> {
    let mut script = super::sql::Script::new(conn.backend_name());
    push_sealed_events(&mut script, event, sealed);
    script.run(conn).await?;
    Ok(())
}

/// [`insert_sealed_events`] as statements of `script`.
pub(crate) fn push_sealed_events(
    script: &mut super::sql::Script,
    event: EventKind,
    sealed: SealedEvents,
) {
    let rows = sealed.0;
    if rows.is_empty() {
        return;
    }
    let ids: Vec<String> = rows
        .iter()
        .map(|_| EventId::new().uuid().to_string())
        .collect();
    let mut merchants: Vec<String> = rows.iter().map(|r| r.merchant.uuid().to_string()).collect();
    merchants.sort_unstable();
    merchants.dedup();
    let sql = script.statement();
    sql.push("INSERT INTO events (id, merchant_id, customer_id, event, data, created_at) VALUES ");
    for (i, (row, id)) in rows.into_iter().zip(&ids).enumerate() {
        sql.push(if i == 0 { "(" } else { ", (" });
        sql.bind(id.clone()).push(", ");
        sql.bind(row.merchant.uuid().to_string()).push(", ");
        sql.bind(Some(row.customer.uuid().to_string())).push(", ");
        sql.bind(event.as_str().to_owned()).push(", ");
        sql.bind(row.data).push(", ");
        sql.bind(row.at).push(")");
    }
    super::notifications::push_fan_out(script, event.as_str(), &merchants, &ids);
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
            .fetch_all(&mut *self.read.acquire().await?)
            .await?;
        let mut out = rows
            .into_iter()
            .map(|mut r| {
                r.data = crate::base::crypto::open_for(merchant, r.data, "event_data")?;
                Event::try_from(r)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let has_more = out.len() as i64 > limit;
        out.truncate(usize::try_from(limit).unwrap_or(0));
        Ok((out, has_more))
    }

    /// Deletes the events (and their webhook notifications) created before `before`; returns
    /// how many rows went.
    pub async fn purge_events(&self, before: i64) -> Result<u64, super::StoreError> {
        let mut n = 0;
        for text in [
            "DELETE FROM webhook_notifications WHERE created_at < $1",
            "DELETE FROM events WHERE created_at < $1",
        ] {
            n += sqlx::query(text)
                .bind(before)
                .execute(&mut *self.write.acquire().await?)
                .await?
                .rows_affected();
        }
        Ok(n)
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
                .fetch_optional(&mut *self.read.acquire().await?)
                .await?;
        Ok(found.is_some())
    }
}
