//! Customer rows: create, read, update, list with exact counts.

use acorn_types::customer::{FieldKind, FieldSpec};
use acorn_types::{Customer, CustomerId, CustomerPatch, CustomerStatus, MerchantId};
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::AnyConnection;

use super::counts::CountDelta;
use super::events::CustomerEvent;
use super::idempotency::KeyAnswer;
use super::registrations::attach_platforms;
use super::sealing::bind_field;
use super::sql::Sql;
use super::{OnUnique, Store, StoreError};
use crate::crypto;

pub(crate) use super::customer_row::columns;

/// An extra column of a customer read: whether it has registrations, so that reading customers
/// without any (most of them) takes no second query.
pub(crate) const HAS_REGISTRATIONS: &str = ", CAST(CASE WHEN EXISTS (SELECT 1 FROM registrations r WHERE r.customer_id = customers.id) THEN 1 ELSE 0 END AS BIGINT) AS has_registrations";

/// The [`HAS_REGISTRATIONS`] column of a row.
pub(crate) fn has_registrations(row: &AnyRow) -> Result<bool, sqlx::Error> {
    use sqlx::Row;
    Ok(row.try_get::<i64, _>("has_registrations")? != 0)
}

pub(crate) use super::customer_row::customer_from_row;

/// The result of an update.
#[derive(Debug)]
pub enum UpdateOutcome {
    /// Something changed; the version went up.
    Updated(Customer),
    /// The request changed nothing.
    Unchanged(Customer),
}

pub(crate) fn bare(id: CustomerId) -> String {
    id.uuid().to_string()
}

pub(crate) fn mer(id: MerchantId) -> String {
    id.uuid().to_string()
}

/// Binds a normalised field value as its column type.
pub(super) fn bind_value(sql: &mut Sql, kind: FieldKind, value: &Value) {
    match (kind, value) {
        (_, Value::Null) if kind == FieldKind::Number => sql.bind(Option::<f64>::None),
        (_, Value::Null) => sql.bind(Option::<String>::None),
        (FieldKind::Number, v) => sql.bind(v.as_f64()),
        (FieldKind::Object, v) => sql.bind(Some(v.to_string())),
        (_, v) => sql.bind(v.as_str().map(str::to_owned)),
    };
}

/// `INSERT INTO customers (…) VALUES ` for new customers with `patch`'s fields.
pub(crate) fn insert_head(patch: &CustomerPatch) -> Sql {
    let mut sql = Sql::new(
        "INSERT INTO customers (id, merchant_id, email_key, status, version, created_at, updated_at",
    );
    for (spec, _) in patch.values() {
        sql.push(", ").push(spec.name);
    }
    sql.push(") VALUES ");
    sql
}

/// Appends the `(…)` row of a new customer (status `NOT_STARTED`, version 1) to an
/// [`insert_head`] of the same fields, sealing what is sensitive.
pub(crate) fn push_new_row(
    sql: &mut Sql,
    merchant: MerchantId,
    id: CustomerId,
    patch: &CustomerPatch,
    now: i64,
) -> Result<(), StoreError> {
    // created_at is the id's own timestamp, so id order and creation order agree exactly.
    let (secs, nanos) = id
        .uuid()
        .get_timestamp()
        .map(|t| t.to_unix())
        .unwrap_or((0, 0));
    let created_at = i64::try_from(secs).unwrap_or(0) * 1_000_000 + i64::from(nanos / 1000);
    let email = patch
        .get("email")
        .and_then(Value::as_str)
        .ok_or_else(|| StoreError::Other(anyhow::anyhow!("email missing")))?;
    let key = crypto::data_key(merchant)?;
    sql.push("(")
        .bind(bare(id))
        .push(", ")
        .bind(mer(merchant))
        .push(", ");
    sql.bind(key.blind_index(&acorn_types::fields::email_key(email)))
        .push(", ")
        .bind(CustomerStatus::NotStarted.as_str().to_owned());
    sql.push(", 1, ").bind(created_at).push(", ").bind(now);
    for (spec, value) in patch.values() {
        sql.push(", ");
        bind_field(sql, &key, spec, value);
    }
    sql.push(")");
    Ok(())
}

/// Writes the changed fields of a customer and bumps its version; `unsync` turns
/// `synced: true` into false (a syncable field changed). A taken email is
/// [`StoreError::Duplicate`].
pub(crate) async fn update_fields(
    conn: &mut AnyConnection,
    merchant: MerchantId,
    id: CustomerId,
    changed: &[&(&'static FieldSpec, Value)],
    unsync: bool,
    now: i64,
) -> Result<(), StoreError> {
    let key = crypto::data_key(merchant)?;
    let mut sql = Sql::new("UPDATE customers SET version = version + 1, updated_at = ");
    sql.bind(now);
    for (spec, value) in changed {
        sql.push(", ").push(spec.name).push(" = ");
        bind_field(&mut sql, &key, spec, value);
        if spec.name == "email" {
            sql.push(", email_key = ")
                .bind(key.blind_index(&acorn_types::fields::email_key(
                    value.as_str().unwrap_or_default(),
                )));
        }
    }
    if unsync {
        sql.push(", synced = 0");
    }
    sql.push(" WHERE merchant_id = ")
        .bind(mer(merchant))
        .push(" AND id = ")
        .bind(bare(id));
    let (text, args) = sql.into_parts()?;
    sqlx::query_with(&text, args)
        .execute(conn)
        .await
        .on_unique_violation("email")?;
    Ok(())
}

/// Adds a created customer's counter changes and `customer.created` event to those its
/// transaction writes at the end.
pub(crate) fn account_created(
    customer: &Customer,
    id: CustomerId,
    merchant: MerchantId,
    now: i64,
    counts: &mut CountDelta,
    events: &mut Vec<CustomerEvent>,
) {
    counts.add(None, Some(customer));
    events.push(CustomerEvent {
        merchant,
        customer: id,
        data: super::events::customer_data(customer, None, &[]).to_string(),
        at: now,
    });
}

impl Store {
    /// One customer with its platforms, on `conn`; `suffix` may row-lock it
    /// ([`Store::for_update`]).
    pub(crate) async fn fetch_customer(
        conn: &mut AnyConnection,
        merchant: MerchantId,
        id: CustomerId,
        suffix: &str,
    ) -> Result<Option<Customer>, StoreError> {
        let text = format!(
            "SELECT {}{HAS_REGISTRATIONS} FROM customers WHERE merchant_id = $1 AND id = $2 AND deleted_at IS NULL{suffix}",
            columns(conn.backend_name())
        );
        let row = sqlx::query(&text)
            .bind(mer(merchant))
            .bind(bare(id))
            .fetch_optional(&mut *conn)
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let key = crypto::data_key(merchant)?;
        let mut customer = customer_from_row(&row, &key)?;
        if has_registrations(&row)? {
            attach_platforms(conn, std::slice::from_mut(&mut customer)).await?;
        }
        Ok(Some(customer))
    }

    /// Creates a customer through the group commit ([`super::combine`]).
    pub(crate) async fn create_grouped(
        &self,
        merchant: MerchantId,
        patch: &CustomerPatch,
        now: i64,
        answer: Option<KeyAnswer>,
    ) -> Result<Customer, StoreError> {
        self.combiner.create(merchant, patch, now, answer).await
    }

    /// One customer of this merchant.
    pub async fn get_customer(
        &self,
        merchant: MerchantId,
        id: CustomerId,
    ) -> Result<Option<Customer>, StoreError> {
        let mut conn = self.read.acquire().await?;
        Self::fetch_customer(&mut conn, merchant, id, "").await
    }

    /// Whether this merchant has this customer.
    pub async fn customer_exists(
        &self,
        merchant: MerchantId,
        id: CustomerId,
    ) -> Result<bool, StoreError> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM customers WHERE merchant_id = $1 AND id = $2 AND deleted_at IS NULL",
        )
        .bind(mer(merchant))
        .bind(bare(id))
        .fetch_optional(&mut *self.read.acquire().await?)
        .await?;
        Ok(found.is_some())
    }
}
