//! Erasure of a customer on request: the row stays (registrations and the ledger keep their
//! customer and statuses, for audit) but every personal field is cleared, the email released,
//! the files' rows removed, and the data of the customer's events and provider answers scrubbed.

use acorn_types::customer::WRITABLE_FIELDS;
use acorn_types::{CustomerId, EventKind, FileId, MerchantId, Provider};
use serde_json::json;
use sqlx::AnyConnection;

use super::counts::adjust_counts;
use super::customers::{bare, mer};
use super::events::insert_event;
use super::sql::Sql;
use super::{Store, StoreError};
use acorn_types::events::customer_data;

/// What an erasure left for the caller to finish outside the transaction.
#[derive(Debug, Default)]
pub struct Erased {
    /// Whether this call erased it (false: it was erased before).
    pub now: bool,
    /// The objects of the customer's files, to delete from the file store.
    pub files: Vec<FileId>,
    /// `(provider, provider_customer_id)` of the registrations, to tell the providers.
    pub provider_customers: Vec<(Provider, String)>,
}

/// Clears the personal columns and releases the email (the blind index becomes a value no
/// email hashes to).
async fn redact_row(
    conn: &mut AnyConnection,
    merchant: MerchantId,
    id: CustomerId,
    now: i64,
) -> Result<(), StoreError> {
    let mut sql = Sql::new("UPDATE customers SET version = version + 1, email = '', email_key = ");
    sql.bind(format!("erased:{}", bare(id)));
    sql.push(", deleted_at = ")
        .bind(now)
        .push(", updated_at = ")
        .bind(now);
    for spec in WRITABLE_FIELDS.iter().filter(|s| s.name != "email") {
        sql.push(", ").push(spec.name).push(" = NULL");
    }
    sql.push(", customer_wallet = NULL, trading_wallet = NULL");
    sql.push(" WHERE merchant_id = ")
        .bind(mer(merchant))
        .push(" AND id = ")
        .bind(bare(id));
    let (text, args) = sql.into_parts()?;
    sqlx::query_with(&text, args).execute(conn).await?;
    Ok(())
}

/// Removes the file rows, scrubs events and provider answers; returns the file ids.
async fn scrub_related(
    conn: &mut AnyConnection,
    merchant: MerchantId,
    id: CustomerId,
) -> Result<Vec<FileId>, StoreError> {
    let (m, c) = (mer(merchant), bare(id));
    let files: Vec<String> =
        sqlx::query_scalar("SELECT id FROM files WHERE merchant_id = $1 AND customer_id = $2")
            .bind(m.clone())
            .bind(c.clone())
            .fetch_all(&mut *conn)
            .await?;
    let scrubbed = json!({"id": id.to_string(), "erased": true}).to_string();
    for text in [
        "DELETE FROM files WHERE merchant_id = $1 AND customer_id = $2",
        "UPDATE sync_attempts SET provider_response = NULL, last_error = NULL WHERE merchant_id = $1 AND customer_id = $2",
        "UPDATE registrations SET provider_response = NULL, provider_data = '{}', rejection_reason = NULL, readiness = NULL, failure_reasons = NULL WHERE merchant_id = $1 AND customer_id = $2",
    ] {
        sqlx::query(text)
            .bind(m.clone())
            .bind(c.clone())
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query("UPDATE events SET data = $1 WHERE merchant_id = $2 AND customer_id = $3")
        .bind(scrubbed)
        .bind(m)
        .bind(c)
        .execute(&mut *conn)
        .await?;
    Ok(files.iter().filter_map(|f| FileId::parse(f).ok()).collect())
}

impl Store {
    /// Erases a customer (repeatable: a second call finds it erased and changes nothing);
    /// `NotFound` when the merchant never had it.
    pub async fn erase_customer(
        &self,
        merchant: MerchantId,
        id: CustomerId,
        now: i64,
    ) -> Result<Erased, StoreError> {
        let mut tx = self.begin().await?;
        let text = format!(
            "SELECT deleted_at FROM customers WHERE merchant_id = $1 AND id = $2{}",
            self.for_update()
        );
        let found: Option<Option<i64>> = sqlx::query_scalar(&text)
            .bind(mer(merchant))
            .bind(bare(id))
            .fetch_optional(&mut *tx)
            .await?;
        match found {
            None => return Err(StoreError::NotFound),
            Some(Some(_)) => return Ok(Erased::default()),
            Some(None) => {}
        }
        let current = Self::fetch_customer(&mut tx, merchant, id, "")
            .await?
            .ok_or(StoreError::NotFound)?;
        let provider_customers = current
            .platforms
            .iter()
            .filter_map(|p| Some((p.provider, p.provider_customer_id.clone()?)))
            .collect();
        redact_row(&mut tx, merchant, id, now).await?;
        adjust_counts(&mut tx, merchant, Some(&current), None).await?;
        let files = scrub_related(&mut tx, merchant, id).await?;
        let mut gone = current;
        gone.version += 1;
        let data = customer_data(&gone, None, &[]);
        insert_event(
            &mut tx,
            merchant,
            Some(id),
            EventKind::CustomerDeleted,
            &data,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(Erased {
            now: true,
            files,
            provider_customers,
        })
    }
}
