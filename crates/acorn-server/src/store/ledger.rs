//! The sandbox's append-only balance ledger: entries are only ever inserted; a balance is the
//! sum of its entries per currency and bucket.

use std::collections::{BTreeMap, HashMap};

use acorn_types::{BalanceTotal, MerchantId, RegistrationId};
use sqlx::Row;

use super::sql::Sql;
use super::{Store, StoreError};

impl Store {
    /// Appends one entry; returns its id (bare uuid).
    pub async fn append_ledger_entry(
        &self,
        merchant: MerchantId,
        registration: RegistrationId,
        currency: &str,
        bucket: &str,
        amount: i64,
        now: i64,
    ) -> Result<String, StoreError> {
        let id = uuid::Uuid::now_v7().to_string();
        sqlx::query(
            "INSERT INTO ledger_entries (id, merchant_id, registration_id, currency, bucket, amount, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id.clone())
        .bind(merchant.uuid().to_string())
        .bind(registration.uuid().to_string())
        .bind(currency.to_owned())
        .bind(bucket.to_owned())
        .bind(amount)
        .bind(now)
        .execute(&mut *self.write.acquire().await?)
        .await?;
        Ok(id)
    }

    /// The totals of each registration's account, currencies in order; one query for all.
    pub async fn ledger_totals(
        &self,
        registrations: &[RegistrationId],
    ) -> Result<HashMap<RegistrationId, Vec<BalanceTotal>>, StoreError> {
        let mut out: HashMap<RegistrationId, BTreeMap<String, BalanceTotal>> = HashMap::new();
        if registrations.is_empty() {
            return Ok(HashMap::new());
        }
        let ids: Vec<String> = registrations.iter().map(|r| r.uuid().to_string()).collect();
        let mut sql = Sql::new(
            "SELECT registration_id, currency, bucket, CAST(SUM(amount) AS BIGINT) AS total FROM ledger_entries WHERE registration_id IN ",
        );
        sql.bind_list(&ids)
            .push(" GROUP BY registration_id, currency, bucket");
        let (text, args) = sql.into_parts()?;
        let rows = sqlx::query_with(&text, args)
            .fetch_all(&mut *self.read.acquire().await?)
            .await?;
        for row in rows {
            let reg: String = row.try_get("registration_id")?;
            let reg = RegistrationId::parse(&reg).map_err(|e| anyhow::anyhow!("{e}"))?;
            let currency: String = row.try_get("currency")?;
            let bucket: String = row.try_get("bucket")?;
            let total: i64 = row.try_get("total")?;
            let t = out
                .entry(reg)
                .or_default()
                .entry(currency.clone())
                .or_insert_with(|| BalanceTotal {
                    currency,
                    available: 0,
                    pending: 0,
                    reserved: 0,
                    instant_payouts: 0,
                });
            match bucket.as_str() {
                "available" => t.available = total,
                "pending" => t.pending = total,
                "reserved" => t.reserved = total,
                _ => t.instant_payouts = total,
            }
        }
        Ok(out
            .into_iter()
            .map(|(k, v)| (k, v.into_values().collect()))
            .collect())
    }
}
