//! Registration rows: read, write, and the customer columns a registration change moves.

use std::collections::HashMap;

use acorn_types::{
    Customer, CustomerId, CustomerStatus, DocumentsState, MerchantId, Platform, Provider,
    Registration, RegistrationId, RegistrationStatus, TargetRole,
};
use anyhow::Context;
use serde_json::{json, Value};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, FromRow, Row};

use super::sql::Sql;
use super::{format_time, Store, StoreError};

const COLUMNS: &str = "id, customer_id, provider, target_role, status, provider_customer_id, provider_data, \
    provider_response, rejection_reason, readiness, failure_reasons, changes, action_required, documents, \
    manual_review, missing_fields, created_at, updated_at";

/// Which registration: a customer's, at a provider, in a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistrationKey {
    pub merchant: MerchantId,
    pub customer: CustomerId,
    pub provider: Provider,
    pub role: TargetRole,
}

/// A registration row as stored: every column of [`COLUMNS`].
#[derive(sqlx::FromRow)]
struct RegistrationRow {
    id: String,
    customer_id: String,
    provider: String,
    target_role: String,
    status: String,
    provider_customer_id: Option<String>,
    provider_data: Option<String>,
    provider_response: Option<String>,
    rejection_reason: Option<String>,
    readiness: Option<String>,
    failure_reasons: Option<String>,
    changes: Option<String>,
    action_required: i64,
    documents: String,
    manual_review: i64,
    missing_fields: Option<String>,
    created_at: i64,
    updated_at: i64,
}

fn json_col(value: Option<String>, col: &str) -> anyhow::Result<Option<Value>> {
    value
        .map(|s| serde_json::from_str(&s))
        .transpose()
        .with_context(|| format!("stored registration {col}"))
}

fn parse<T>(r: Result<T, acorn_types::UnknownValue>) -> anyhow::Result<T> {
    r.map_err(|e| anyhow::anyhow!("stored value: {e}"))
}

/// Decodes a row into (bare customer id, registration).
fn from_row(row: &AnyRow) -> anyhow::Result<(String, Registration)> {
    let r = RegistrationRow::from_row(row)?;
    let provider_data = match json_col(r.provider_data, "provider_data")? {
        Some(Value::Object(m)) => Some(m),
        _ => None,
    };
    let missing = json_col(r.missing_fields, "missing_fields")?.unwrap_or(json!([]));
    let reg = Registration {
        id: format!("{}{}", RegistrationId::PREFIX, r.id),
        provider: parse(Provider::parse(&r.provider))?,
        target_role: parse(TargetRole::parse(&r.target_role))?,
        status: parse(RegistrationStatus::parse(&r.status))?,
        provider_customer_id: r.provider_customer_id,
        provider_data,
        provider_response: json_col(r.provider_response, "provider_response")?,
        rejection_reason: r.rejection_reason,
        readiness: json_col(r.readiness, "readiness")?,
        failure_reasons: json_col(r.failure_reasons, "failure_reasons")?,
        changes: json_col(r.changes, "changes")?,
        action_required: r.action_required != 0,
        documents: parse(DocumentsState::parse(&r.documents))?,
        manual_review: r.manual_review != 0,
        missing_fields: serde_json::from_value(missing)?,
        created_at: format_time(r.created_at),
        updated_at: format_time(r.updated_at),
    };
    Ok((r.customer_id, reg))
}

pub(crate) fn reg_uuid(reg: &Registration) -> anyhow::Result<RegistrationId> {
    RegistrationId::parse(&reg.id).map_err(|e| anyhow::anyhow!("registration id: {e}"))
}

/// The `platforms[]` summary of a registration.
pub(crate) fn platform(reg: &Registration) -> Platform {
    Platform {
        provider: reg.provider,
        target_role: reg.target_role,
        status: reg.status,
        provider_customer_id: reg.provider_customer_id.clone(),
        action_required: reg.action_required,
        readiness: reg.readiness.clone(),
        failure_reasons: reg.failure_reasons.clone(),
    }
}

/// The registrations of several customers (by bare id), oldest first — one query.
pub(crate) async fn registrations_of(
    conn: &mut AnyConnection,
    customers: &[String],
) -> Result<HashMap<String, Vec<Registration>>, StoreError> {
    let mut out: HashMap<String, Vec<Registration>> = HashMap::new();
    if customers.is_empty() {
        return Ok(out);
    }
    let mut sql = Sql::new(&format!(
        "SELECT {COLUMNS} FROM registrations WHERE customer_id IN "
    ));
    sql.bind_list(customers).push(" ORDER BY created_at, id");
    let (text, args) = sql.into_parts()?;
    for row in sqlx::query_with(&text, args).fetch_all(conn).await? {
        let (customer, reg) = from_row(&row)?;
        out.entry(customer).or_default().push(reg);
    }
    Ok(out)
}

/// Fills `platforms` of each customer from its registrations.
pub(crate) async fn attach_platforms(
    conn: &mut AnyConnection,
    customers: &mut [Customer],
) -> Result<(), StoreError> {
    let ids: Vec<String> = customers
        .iter()
        .map(|c| c.id.trim_start_matches(CustomerId::PREFIX).to_owned())
        .collect();
    let mut regs = registrations_of(conn, &ids).await?;
    for (c, id) in customers.iter_mut().zip(ids) {
        c.platforms = regs
            .remove(&id)
            .unwrap_or_default()
            .iter()
            .map(platform)
            .collect();
    }
    Ok(())
}

pub(crate) async fn find(
    conn: &mut AnyConnection,
    key: &RegistrationKey,
    suffix: &str,
) -> Result<Option<Registration>, StoreError> {
    let text = format!(
        "SELECT {COLUMNS} FROM registrations WHERE merchant_id = $1 AND customer_id = $2 AND provider = $3 AND target_role = $4{suffix}"
    );
    let row = sqlx::query(&text)
        .bind(key.merchant.uuid().to_string())
        .bind(key.customer.uuid().to_string())
        .bind(key.provider.as_str().to_owned())
        .bind(key.role.as_str().to_owned())
        .fetch_optional(conn)
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?.map(|(_, r)| r))
}

fn opt_json(v: &Option<Value>) -> Option<String> {
    v.as_ref().map(Value::to_string)
}

pub(crate) async fn save(
    conn: &mut AnyConnection,
    key: &RegistrationKey,
    reg: &Registration,
    insert: bool,
    now: i64,
) -> Result<(), StoreError> {
    let id = reg_uuid(reg)?.uuid().to_string();
    let text = if insert {
        "INSERT INTO registrations (status, provider_customer_id, provider_data, provider_response, rejection_reason, \
         readiness, failure_reasons, changes, action_required, documents, manual_review, missing_fields, updated_at, \
         id, merchant_id, customer_id, provider, target_role, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $13)"
    } else {
        "UPDATE registrations SET status = $1, provider_customer_id = $2, provider_data = $3, provider_response = $4, \
         rejection_reason = $5, readiness = $6, failure_reasons = $7, changes = $8, action_required = $9, documents = $10, \
         manual_review = $11, missing_fields = $12, updated_at = $13 \
         WHERE id = $14 AND merchant_id = $15 AND customer_id = $16 AND provider = $17 AND target_role = $18"
    };
    sqlx::query(text)
        .bind(reg.status.as_str().to_owned())
        .bind(reg.provider_customer_id.clone())
        .bind(Value::Object(reg.provider_data.clone().unwrap_or_default()).to_string())
        .bind(opt_json(&reg.provider_response))
        .bind(reg.rejection_reason.clone())
        .bind(opt_json(&reg.readiness))
        .bind(opt_json(&reg.failure_reasons))
        .bind(opt_json(&reg.changes))
        .bind(i64::from(reg.action_required))
        .bind(reg.documents.as_str().to_owned())
        .bind(i64::from(reg.manual_review))
        .bind(json!(reg.missing_fields).to_string())
        .bind(now)
        .bind(id)
        .bind(key.merchant.uuid().to_string())
        .bind(key.customer.uuid().to_string())
        .bind(key.provider.as_str().to_owned())
        .bind(key.role.as_str().to_owned())
        .execute(conn)
        .await?;
    Ok(())
}

/// Every registration of one customer, oldest first.
pub(crate) async fn all_of(
    conn: &mut AnyConnection,
    customer: CustomerId,
) -> Result<Vec<Registration>, StoreError> {
    Ok(registrations_of(conn, &[customer.uuid().to_string()])
        .await?
        .into_values()
        .flatten()
        .collect())
}

/// The registration with this id (locked on PostgreSQL when `suffix` is `FOR UPDATE`), with its
/// customer's id; for background steps that know only the registration.
pub(crate) async fn find_by_id(
    conn: &mut AnyConnection,
    id: RegistrationId,
    suffix: &str,
) -> Result<Option<(MerchantId, CustomerId, Registration)>, StoreError> {
    let text = format!("SELECT {COLUMNS}, merchant_id FROM registrations WHERE id = $1{suffix}");
    let row = sqlx::query(&text)
        .bind(id.uuid().to_string())
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(with_owner).transpose()
}

/// The registration whose provider object is `provider_id` at `provider` in `role` (locked
/// when `suffix` is `FOR UPDATE`), with its merchant and customer; for provider webhooks,
/// which know only the provider's id.
pub(crate) async fn find_by_provider_id(
    conn: &mut AnyConnection,
    provider: Provider,
    role: TargetRole,
    provider_id: &str,
    suffix: &str,
) -> Result<Option<(MerchantId, CustomerId, Registration)>, StoreError> {
    let text = format!(
        "SELECT {COLUMNS}, merchant_id FROM registrations \
         WHERE provider = $1 AND target_role = $2 AND provider_customer_id = $3 ORDER BY created_at DESC LIMIT 1{suffix}"
    );
    let row = sqlx::query(&text)
        .bind(provider.as_str().to_owned())
        .bind(role.as_str().to_owned())
        .bind(provider_id.to_owned())
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(with_owner).transpose()
}

/// A row selected with `merchant_id` as (merchant, customer, registration).
fn with_owner(row: &AnyRow) -> Result<(MerchantId, CustomerId, Registration), StoreError> {
    let (customer, reg) = from_row(row)?;
    let customer = CustomerId::parse(&customer).map_err(|e| anyhow::anyhow!("{e}"))?;
    let merchant = MerchantId::parse(&row.try_get::<String, _>("merchant_id")?)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((merchant, customer, reg))
}

/// What a registration change moves on its customer: the derived status, and the provider
/// fields set on approval (each only where the customer has none yet).
#[derive(Debug, Default, Clone)]
pub struct CustomerChange {
    /// The new derived status, when it moved.
    pub status: Option<CustomerStatus>,
    /// `(column, value)` of `account_type`, `customer_wallet`, `trading_wallet` to fill.
    pub fills: Vec<(&'static str, String)>,
}

impl CustomerChange {
    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.status.is_none() && self.fills.is_empty()
    }

    /// The names of the changed customer fields.
    pub fn changed_fields(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = self.status.iter().map(|_| "status").collect();
        out.extend(self.fills.iter().map(|(col, _)| *col));
        out
    }
}

/// Writes a [`CustomerChange`], bumping the customer's version.
pub(crate) async fn apply_customer_change(
    conn: &mut AnyConnection,
    merchant: MerchantId,
    customer: CustomerId,
    change: &CustomerChange,
    now: i64,
) -> Result<(), StoreError> {
    const FILLABLE: [&str; 3] = ["account_type", "customer_wallet", "trading_wallet"];
    let mut sql = Sql::new("UPDATE customers SET version = version + 1, updated_at = ");
    sql.bind(now);
    if let Some(status) = change.status {
        sql.push(", status = ").bind(status.as_str().to_owned());
    }
    for (col, value) in &change.fills {
        let col = FILLABLE
            .iter()
            .find(|c| *c == col)
            .ok_or_else(|| anyhow::anyhow!("{col} is not a column a registration fills"))?;
        sql.push(", ").push(col).push(" = ").bind(value.clone());
    }
    sql.push(" WHERE merchant_id = ")
        .bind(merchant.uuid().to_string());
    sql.push(" AND id = ").bind(customer.uuid().to_string());
    let (text, args) = sql.into_parts()?;
    sqlx::query_with(&text, args).execute(conn).await?;
    Ok(())
}

/// The customer's email (the sandbox chooses its outcome by it).
pub(crate) async fn customer_email(
    conn: &mut AnyConnection,
    customer: CustomerId,
) -> Result<Option<String>, StoreError> {
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT merchant_id, email FROM customers WHERE id = $1")
            .bind(customer.uuid().to_string())
            .fetch_optional(conn)
            .await?;
    let Some((merchant, email)) = row else {
        return Ok(None);
    };
    let merchant =
        MerchantId::parse(&merchant).map_err(|e| anyhow::anyhow!("stored merchant id: {e}"))?;
    let key = crate::base::crypto::data_key(merchant)?;
    Ok(Some(key.open_str(email, "email")?))
}

impl Store {
    /// A customer's registrations, oldest first; `NotFound` for an unknown customer.
    pub async fn registrations(
        &self,
        merchant: MerchantId,
        customer: CustomerId,
    ) -> Result<Vec<Registration>, StoreError> {
        let mut conn = self.read.acquire().await?;
        if Self::fetch_customer(&mut conn, merchant, customer, "")
            .await?
            .is_none()
        {
            return Err(StoreError::NotFound);
        }
        all_of(&mut conn, customer).await
    }

    /// The existing registration for `key`, if any (no lock; for choosing ids up front).
    pub async fn registration(
        &self,
        key: &RegistrationKey,
    ) -> Result<Option<Registration>, StoreError> {
        let mut conn = self.read.acquire().await?;
        find(&mut conn, key, "").await
    }
}
