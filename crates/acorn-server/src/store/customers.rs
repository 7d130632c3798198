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
use super::sealing::{bind_field, bound_field};
use super::sql::Sql;
use super::{OnUnique, Store, StoreError};
use crate::base::crypto;

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

/// A value for one placeholder, worked out before its statement is built (so that the sealing
/// of a new row happens in its request, not in the writer of its group).
#[derive(Debug, Clone)]
pub(crate) enum Bound {
    Text(Option<String>),
    Real(Option<f64>),
    Int(i64),
}

impl Bound {
    /// Binds the value to the next placeholder of `sql`.
    pub(crate) fn bind_to(self, sql: &mut Sql) {
        match self {
            Bound::Text(v) => sql.bind(v),
            Bound::Real(v) => sql.bind(v),
            Bound::Int(v) => sql.bind(v),
        };
    }
}

/// A normalised field value as its column type.
pub(super) fn bound_value(kind: FieldKind, value: &Value) -> Bound {
    match (kind, value) {
        (FieldKind::Number, Value::Null) => Bound::Real(None),
        (_, Value::Null) => Bound::Text(None),
        (FieldKind::Number, v) => Bound::Real(v.as_f64()),
        (FieldKind::Object, v) => Bound::Text(Some(v.to_string())),
        (_, v) => Bound::Text(v.as_str().map(str::to_owned)),
    }
}

/// Pushes `INSERT INTO customers (…) VALUES ` for new customers giving the fields `fields`.
pub(crate) fn insert_head(sql: &mut Sql, fields: &[&'static str]) {
    sql.push(
        "INSERT INTO customers (id, merchant_id, email_key, status, version, created_at, updated_at",
    );
    for name in fields {
        sql.push(", ").push(name);
    }
    sql.push(") VALUES ");
}

/// The values of the row of a new customer (status `NOT_STARTED`, version 1) in
/// [`insert_head`]'s column order, what is sensitive sealed; and its `created_at`.
pub(crate) fn new_row_values(
    merchant: MerchantId,
    id: CustomerId,
    patch: &CustomerPatch,
    now: i64,
) -> Result<(Vec<Bound>, i64), StoreError> {
    // created_at is the id's own timestamp, so id order and creation order agree exactly.
    let (secs, nanos) = id
        .uuid()
        .get_timestamp()
        .map(|t| t.to_unix())
        .unwrap_or((0, 0));
    let created_at = i64::try_from(secs).unwrap_or(0) * 1_000_000 + i64::from(nanos / 1000);
    // An id minted after `now` was read (a batch reads the time once) must not make a new
    // customer look updated before it was created.
    let now = now.max(created_at);
    let email = patch
        .get("email")
        .and_then(Value::as_str)
        .ok_or_else(|| StoreError::Other(anyhow::anyhow!("email missing")))?;
    let key = crypto::data_key(merchant)?;
    let mut values = Vec::with_capacity(7 + patch.values().len());
    values.extend([
        Bound::Text(Some(bare(id))),
        Bound::Text(Some(mer(merchant))),
        Bound::Text(Some(
            key.blind_index(&acorn_types::fields::email_key(email)),
        )),
        Bound::Text(Some(CustomerStatus::NotStarted.as_str().to_owned())),
        Bound::Int(1),
        Bound::Int(created_at),
        Bound::Int(now),
    ]);
    for (spec, value) in patch.values() {
        values.push(bound_field(&key, spec, value));
    }
    Ok((values, created_at))
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
        data: acorn_types::events::customer_data(customer, None, &[]).to_string(),
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
