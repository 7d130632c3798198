//! Sealing customer columns with the merchant's data key, and sealing rows written before
//! encryption existed (in the background, after start-up).

use acorn_types::customer::FieldSpec;
use acorn_types::MerchantId;
use anyhow::Context;
use serde_json::Value;
use sqlx::Row;

use super::customers::{bound_value, mer, Bound};
use super::sql::Sql;
use super::{Dialect, Store, StoreError};
use crate::base::crypto::{self, DataKey, SEALED};

/// The columns stored sealed with the merchant's data key (see [`crate::base::crypto`]).
pub(crate) const SEALED_FIELDS: [&str; 15] = [
    "email",
    "document_number",
    "dob",
    "phone_country_code",
    "phone_area_code",
    "phone_number",
    "tax_id",
    "owner_document_number",
    "mother_name",
    "house_number",
    "street_number",
    "street_name",
    "neighborhood",
    "postal_code",
    "additional_info",
];

/// Binds a normalised field value as its column type, sealed when the column is sensitive.
pub(super) fn bind_field(sql: &mut Sql, key: &DataKey, spec: &FieldSpec, value: &Value) {
    bound_field(key, spec, value).bind_to(sql);
}

/// A normalised field value as its column type, sealed when the column is sensitive.
pub(super) fn bound_field(key: &DataKey, spec: &FieldSpec, value: &Value) -> Bound {
    if !SEALED_FIELDS.contains(&spec.name) || value.is_null() {
        return bound_value(spec.kind, value);
    }
    let plain = match value {
        Value::String(s) => s.clone(),
        v => v.to_string(),
    };
    Bound::Text(Some(key.seal_str(&plain, spec.name)))
}

/// Opens a sealed column (legacy plaintext passes as it is).
pub(super) fn open(key: &DataKey, v: Option<String>, col: &str) -> anyhow::Result<Option<String>> {
    v.map(|v| key.open_str(v, col))
        .transpose()
        .with_context(|| format!("stored {col}"))
}

impl Store {
    /// Seals the rows of `merchant` written before encryption (plaintext columns, email_key
    /// holding the lowercased email), `batch` at a time; returns how many it sealed.
    pub(crate) async fn seal_legacy_batch(
        &self,
        merchant: MerchantId,
        batch: i64,
    ) -> Result<u64, StoreError> {
        let key = crypto::data_key(merchant)?;
        let text = format!(
            "SELECT id, email_key, {} FROM customers WHERE merchant_id = $1 AND email_key NOT LIKE 'bi2:%' LIMIT $2",
            SEALED_FIELDS.join(", ")
        );
        let rows = sqlx::query(&text)
            .bind(mer(merchant))
            .bind(batch)
            .fetch_all(&mut *self.read.acquire().await?)
            .await?;
        let mut done = 0;
        for row in rows {
            let id: String = row.try_get("id")?;
            let email_key: String = row.try_get("email_key")?;
            let mut sql = Sql::new("UPDATE customers SET email_key = ");
            sql.bind(key.blind_index(&email_key));
            for col in SEALED_FIELDS {
                let v: Option<String> = row.try_get(col)?;
                if let Some(v) = v.filter(|v| !v.starts_with(SEALED)) {
                    sql.push(", ")
                        .push(col)
                        .push(" = ")
                        .bind(key.seal_str(&v, col));
                }
            }
            // Only if nobody rewrote it meanwhile (a write seals it already).
            sql.push(" WHERE merchant_id = ")
                .bind(mer(merchant))
                .push(" AND id = ")
                .bind(id)
                .push(" AND email_key = ")
                .bind(email_key);
            let (text, args) = sql.into_parts()?;
            done += sqlx::query_with(&text, args)
                .execute(&mut *self.write.acquire().await?)
                .await?
                .rows_affected();
        }
        Ok(done)
    }

    /// Seals every legacy row of every merchant whose key this process holds.
    pub async fn seal_legacy(&self) -> Result<u64, StoreError> {
        // Without statistics SQLite would rather walk the whole email index for DISTINCT
        // merchant_id than the partial index of legacy rows (empty on a sealed database).
        let hint = match self.dialect {
            Dialect::Sqlite => " INDEXED BY customers_legacy_email_key",
            Dialect::Postgres => "",
        };
        let ids: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT DISTINCT merchant_id FROM customers{hint} WHERE email_key NOT LIKE 'bi2:%'"
        ))
        .fetch_all(&mut *self.read.acquire().await?)
        .await?;
        let mut total = 0;
        for id in ids {
            let merchant = MerchantId::parse(&id).context("stored merchant id")?;
            self.ensure_key(merchant).await?;
            loop {
                let n = self.seal_legacy_batch(merchant, 500).await?;
                total += n;
                if n == 0 {
                    break;
                }
            }
        }
        Ok(total)
    }
}
