//! Webhook notifications: one row per event and matching endpoint, created in the event's
//! transaction ([`fan_out`]) and delivered by the background deliverer, which claims them
//! under a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, as [`super::jobs`] does).

use acorn_types::{CustomerId, MerchantId, NotificationId, WebhookId};
use serde_json::Value;
use sqlx::AnyConnection;

use super::sql::{Script, Sql};
use super::{Dialect, Store, StoreError};

/// Most delivery attempts kept on a notification (the oldest are dropped first).
const MAX_ATTEMPTS_KEPT: usize = 50;

/// A notification as the merchant sees it.
#[derive(Debug, Clone)]
pub struct Notification {
    /// Its id.
    pub id: NotificationId,
    /// The endpoint it is for.
    pub webhook_id: WebhookId,
    /// The event name.
    pub event: String,
    /// The event category.
    pub category: String,
    /// The event's data.
    pub data: Value,
    /// `pending`, `delivered` or `dead_lettered`.
    pub status: String,
    /// `[{attempted_at, status_code, error, duration_ms}]`, oldest first.
    pub delivery_attempts: Value,
    /// Microseconds.
    pub created_at: i64,
    /// Microseconds.
    pub updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct NotificationRow {
    id: String,
    webhook_id: String,
    event: String,
    category: String,
    data: String,
    status: String,
    delivery_attempts: String,
    created_at: i64,
    updated_at: i64,
}

fn json(text: &str, what: &str) -> Result<Value, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Other(anyhow::anyhow!("{what}: {e}")))
}

impl NotificationRow {
    /// Opens the event data sealed with the merchant's key.
    fn opened(mut self, merchant: MerchantId) -> Result<Self, StoreError> {
        self.data = crate::base::crypto::open_for(merchant, self.data, "event_data")?;
        Ok(self)
    }
}

impl TryFrom<NotificationRow> for Notification {
    type Error = StoreError;

    fn try_from(r: NotificationRow) -> Result<Self, StoreError> {
        Ok(Notification {
            id: NotificationId::parse(&r.id).map_err(|e| anyhow::anyhow!("{e}"))?,
            webhook_id: WebhookId::parse(&r.webhook_id).map_err(|e| anyhow::anyhow!("{e}"))?,
            event: r.event,
            category: r.category,
            data: json(&r.data, "event data")?,
            status: r.status,
            delivery_attempts: json(&r.delivery_attempts, "delivery attempts")?,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// Filters of a notification listing.
#[derive(Debug, Clone, Default)]
pub struct NotificationQuery {
    /// Page size.
    pub limit: i64,
    /// Rows skipped.
    pub offset: i64,
    /// Only this status.
    pub status: Option<String>,
    /// Only about this customer (`reference_id`).
    pub customer: Option<CustomerId>,
    /// Only this category (`reference_module`).
    pub category: Option<String>,
    /// Only for this endpoint.
    pub webhook: Option<WebhookId>,
}

/// A notification claimed for one delivery attempt, with what the request needs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Delivery {
    /// Bare uuid of the notification.
    pub id: String,
    /// The endpoint (bare uuid), the unit of ordering.
    pub webhook_id: String,
    /// The event name.
    pub event: String,
    /// The event category.
    pub category: String,
    /// The event data (JSON text, opened).
    pub data: String,
    /// The merchant (bare uuid) whose key sealed the data.
    pub merchant_id: String,
    /// Failed attempts so far in this round.
    pub failures: i64,
    /// Where to send it.
    pub url: String,
    /// The signing secret.
    pub secret: String,
    /// The lease it was claimed under (the token that proves the claim is still ours).
    pub locked_until: i64,
}

/// What happens after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// Acknowledged.
    Delivered,
    /// Try again at this time (microseconds).
    RetryAt(i64),
    /// No tries left.
    DeadLetter,
}

/// The portable SQL expression of a random UUID (text), for rows made by `INSERT … SELECT`.
fn random_uuid(backend: &str) -> &'static str {
    if backend.eq_ignore_ascii_case("postgresql") {
        "gen_random_uuid()::text"
    } else {
        "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) \
         || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) \
         || '-' || hex(randomblob(6)))"
    }
}

/// `LIKE` pattern matching `,<event>,` inside an endpoint's `event_types`.
fn types_pattern(event: &str) -> String {
    let escaped = event
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%,{escaped},%")
}

/// Creates the notifications of just-inserted events (all named `event`): one per event and
/// active endpoint of its merchant whose `event_types` match (NULL = all). Runs inside the
/// events' transaction, so a rollback sends nothing and a commit loses nothing.
pub(crate) async fn fan_out(
    conn: &mut AnyConnection,
    event: &str,
    merchants: &[String],
    event_ids: &[String],
) -> Result<(), sqlx::Error> {
    let mut script = Script::new(conn.backend_name());
    push_fan_out(&mut script, event, merchants, event_ids);
    script.run(conn).await?;
    Ok(())
}

/// [`fan_out`] as a statement of `script`.
pub(crate) fn push_fan_out(
    script: &mut Script,
    event: &str,
    merchants: &[String],
    event_ids: &[String],
) {
    if event_ids.is_empty() {
        return;
    }
    let uuid = random_uuid(script.backend());
    let sql = script.statement();
    sql.push(&format!(
        "INSERT INTO webhook_notifications (id, merchant_id, webhook_id, event_id, event, category, customer_id, \
           status, failures, next_attempt_at, locked_until, delivery_attempts, created_at, updated_at) \
         SELECT {uuid}, e.merchant_id, w.id, e.id, e.event, e.category, e.customer_id, \
           'pending', 0, e.created_at, NULL, '[]', e.created_at, e.created_at \
         FROM events e JOIN webhook_endpoints w ON w.merchant_id = e.merchant_id \
         WHERE w.is_active = 1 AND (w.event_types IS NULL OR w.event_types LIKE ",
    ));
    sql.bind(types_pattern(event))
        .push(" ESCAPE '\\') AND e.merchant_id IN ")
        .bind_list(merchants)
        .push(" AND e.id IN ")
        .bind_list(event_ids);
}

const SELECT: &str = "SELECT n.id, n.webhook_id, n.event, n.category, e.data, n.status, \
    n.delivery_attempts, n.created_at, n.updated_at \
    FROM webhook_notifications n JOIN events e ON e.merchant_id = n.merchant_id AND e.id = n.event_id WHERE n.merchant_id = ";

impl Store {
    /// A page of the merchant's notifications, newest first, and how many match in all.
    pub async fn list_notifications(
        &self,
        merchant: MerchantId,
        q: &NotificationQuery,
    ) -> Result<(Vec<Notification>, i64), StoreError> {
        let filter = |sql: &mut Sql| {
            sql.bind(merchant.uuid().to_string());
            if let Some(s) = &q.status {
                sql.push(" AND n.status = ").bind(s.clone());
            }
            if let Some(c) = q.customer {
                sql.push(" AND n.customer_id = ").bind(c.uuid().to_string());
            }
            if let Some(c) = &q.category {
                sql.push(" AND n.category = ").bind(c.clone());
            }
            if let Some(w) = q.webhook {
                sql.push(" AND n.webhook_id = ").bind(w.uuid().to_string());
            }
        };
        let mut count =
            Sql::new("SELECT COUNT(*) FROM webhook_notifications n WHERE n.merchant_id = ");
        filter(&mut count);
        let (text, args) = count.into_parts()?;
        let total: i64 = sqlx::query_scalar_with(&text, args)
            .fetch_one(&mut *self.read.acquire().await?)
            .await?;
        let mut page = Sql::new(SELECT);
        filter(&mut page);
        page.push(" ORDER BY n.created_at DESC, n.id DESC LIMIT ")
            .bind(q.limit)
            .push(" OFFSET ")
            .bind(q.offset);
        let (text, args) = page.into_parts()?;
        let rows: Vec<NotificationRow> = sqlx::query_as_with(&text, args)
            .fetch_all(&mut *self.read.acquire().await?)
            .await?;
        let list = rows
            .into_iter()
            .map(|r| Notification::try_from(r.opened(merchant)?))
            .collect::<Result<_, _>>()?;
        Ok((list, total))
    }

    /// One of the merchant's notifications.
    pub async fn get_notification(
        &self,
        merchant: MerchantId,
        id: NotificationId,
    ) -> Result<Notification, StoreError> {
        let text = format!("{SELECT}$1 AND n.id = $2");
        let row: Option<NotificationRow> = sqlx::query_as(&text)
            .bind(merchant.uuid().to_string())
            .bind(id.uuid().to_string())
            .fetch_optional(&mut *self.read.acquire().await?)
            .await?;
        row.ok_or(StoreError::NotFound)?
            .opened(merchant)?
            .try_into()
    }

    /// Queues a delivered or dead-lettered notification for a new round of attempts.
    /// A pending one is a conflict; one whose endpoint was deleted too.
    pub async fn replay_notification(
        &self,
        merchant: MerchantId,
        id: NotificationId,
        now: i64,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE webhook_notifications SET status = 'pending', failures = 0, next_attempt_at = $1, \
               locked_until = NULL, updated_at = $1 \
             WHERE merchant_id = $2 AND id = $3 AND status <> 'pending' \
               AND EXISTS (SELECT 1 FROM webhook_endpoints w WHERE w.id = webhook_notifications.webhook_id)",
        )
        .bind(now)
        .bind(merchant.uuid().to_string())
        .bind(id.uuid().to_string())
        .execute(&mut *self.write.acquire().await?)
        .await?;
        if done.rows_affected() == 1 {
            return Ok(());
        }
        let n = self.get_notification(merchant, id).await?;
        Err(StoreError::Conflict(if n.status == "pending" {
            "the notification is already pending delivery".to_owned()
        } else {
            "the notification's webhook was deleted".to_owned()
        }))
    }

    /// Claims up to `limit` due notifications for `lease_micros`: per endpoint only the oldest
    /// due one, and none of an endpoint that has one in flight, so each endpoint receives its
    /// events one at a time and in order (a notification waiting for a retry does not block
    /// the later ones).
    pub async fn claim_deliveries(
        &self,
        now: i64,
        lease_micros: i64,
        limit: i64,
    ) -> Result<Vec<Delivery>, StoreError> {
        let skip_locked = match self.dialect {
            Dialect::Postgres => " FOR UPDATE OF n SKIP LOCKED",
            Dialect::Sqlite => "",
        };
        let text = format!(
            "UPDATE webhook_notifications SET locked_until = $1 \
             WHERE id IN (SELECT n.id FROM webhook_notifications n \
                 JOIN webhook_endpoints w ON w.id = n.webhook_id AND w.is_active = 1 \
                 WHERE n.status = 'pending' AND n.next_attempt_at <= $2 \
                   AND (n.locked_until IS NULL OR n.locked_until <= $2) \
                   AND NOT EXISTS (SELECT 1 FROM webhook_notifications o \
                       WHERE o.webhook_id = n.webhook_id AND o.status = 'pending' AND o.id <> n.id \
                         AND (o.locked_until > $2 OR (o.next_attempt_at <= $2 AND o.event_id < n.event_id))) \
                 ORDER BY n.next_attempt_at LIMIT $3{skip_locked}) \
               AND status = 'pending' AND (locked_until IS NULL OR locked_until <= $2) \
             RETURNING id"
        );
        let lease = now + lease_micros;
        let mut tx = self.begin().await?;
        let ids: Vec<String> = sqlx::query_scalar(&text)
            .bind(lease)
            .bind(now)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new(
            "SELECT n.id, n.webhook_id, n.event, n.category, e.data, n.merchant_id, n.failures, w.url, w.secret, n.locked_until \
             FROM webhook_notifications n JOIN webhook_endpoints w ON w.id = n.webhook_id \
             JOIN events e ON e.merchant_id = n.merchant_id AND e.id = n.event_id WHERE n.locked_until = ",
        );
        sql.bind(lease).push(" AND n.id IN ").bind_list(&ids);
        let (text, args) = sql.into_parts()?;
        let mut out: Vec<Delivery> = sqlx::query_as_with(&text, args)
            .fetch_all(&mut *self.write.acquire().await?)
            .await?;
        for d in &mut out {
            let merchant = MerchantId::parse(&d.merchant_id)
                .map_err(|e| anyhow::anyhow!("stored merchant id: {e}"))?;
            d.data =
                crate::base::crypto::open_for(merchant, std::mem::take(&mut d.data), "event_data")?;
        }
        Ok(out)
    }

    /// Records an attempt of a claimed delivery and what follows it. Returns false (and
    /// changes nothing) when the claim was lost (its lease ran out and another took it).
    pub async fn record_attempt(
        &self,
        delivery: &Delivery,
        attempt: Value,
        next: NextStep,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let text = format!(
            "SELECT delivery_attempts FROM webhook_notifications WHERE id = $1 AND locked_until = $2{}",
            self.for_update()
        );
        let Some(log): Option<String> = sqlx::query_scalar(&text)
            .bind(delivery.id.clone())
            .bind(delivery.locked_until)
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(false);
        };
        let mut attempts = match json(&log, "delivery attempts")? {
            Value::Array(a) => a,
            _ => Vec::new(),
        };
        attempts.push(attempt);
        let excess = attempts.len().saturating_sub(MAX_ATTEMPTS_KEPT);
        attempts.drain(..excess);
        let (status, failures, next_at) = match next {
            NextStep::Delivered => ("delivered", delivery.failures, now),
            NextStep::RetryAt(at) => ("pending", delivery.failures + 1, at),
            NextStep::DeadLetter => ("dead_lettered", delivery.failures + 1, now),
        };
        sqlx::query(
            "UPDATE webhook_notifications SET status = $1, failures = $2, next_attempt_at = $3, \
               locked_until = NULL, delivery_attempts = $4, updated_at = $5 WHERE id = $6",
        )
        .bind(status)
        .bind(failures)
        .bind(next_at)
        .bind(Value::Array(attempts).to_string())
        .bind(now)
        .bind(delivery.id.clone())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Pending notifications (every instance's) and the creation time of the oldest.
    pub async fn delivery_queue(&self) -> Result<(i64, Option<i64>), StoreError> {
        let (depth, oldest): (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), MIN(created_at) FROM webhook_notifications WHERE status = 'pending'",
        )
        .fetch_one(&mut *self.read.acquire().await?)
        .await?;
        Ok((depth, oldest))
    }
}
