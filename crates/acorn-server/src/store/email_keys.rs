//! Re-keys customers stored before email keys normalised IDNA domains: such a row's key still
//! holds the Unicode domain (`user@exämple.com`), where a new write computes the ASCII form
//! (`user@xn--exmple-cua.com`). Only keys with non-ASCII characters can differ, so only those
//! are read; a row whose new key another customer of the merchant already holds keeps its old
//! key (two customers that are now one address need a person to merge them) and is logged.
//! A blind index (`bi2:…`) is ASCII, so only legacy plaintext keys are read, through the partial
//! index `customers_legacy_email_key` (empty once every row is sealed).

use sqlx::Row;

use super::Store;

/// Brings every stored email key to the current [`acorn_types::fields::email_key`] form.
pub(super) async fn rekey(store: &Store) -> anyhow::Result<()> {
    let rows = sqlx::query(
        "SELECT id, email, email_key FROM customers WHERE email_key NOT LIKE 'bi2:%' AND length(email_key) <> octet_length(email_key)",
    )
    .fetch_all(&mut *store.write.acquire().await?)
    .await?;
    for row in rows {
        let (id, email, old): (String, String, String) =
            (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        let key = acorn_types::fields::email_key(&email);
        if key == old {
            continue;
        }
        let updated = sqlx::query("UPDATE customers SET email_key = $1 WHERE id = $2")
            .bind(&key)
            .bind(&id)
            .execute(&mut *store.write.acquire().await?)
            .await;
        if let Err(e) = updated {
            tracing::warn!(customer_id = %id, error = %e,
                "email key not normalised: another customer of the merchant has the same address");
        }
    }
    Ok(())
}
