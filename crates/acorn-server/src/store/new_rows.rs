//! New customers written with as few statements as possible: one multi-row
//! `INSERT … ON CONFLICT DO NOTHING RETURNING` per run of rows giving the same fields. Used by
//! the group commit of single creates and by the batch create.

use std::collections::HashMap;

use acorn_types::{Customer, CustomerId, CustomerPatch, MerchantId};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::customers::{bare, columns, customer_from_row, insert_head, push_new_row};
use super::StoreError;

/// A customer to insert (status `NOT_STARTED`, version 1).
pub(crate) struct NewRow<'a> {
    pub merchant: MerchantId,
    pub id: CustomerId,
    pub patch: &'a CustomerPatch,
    pub now: i64,
}

/// Inserts `rows` in their order: each one's customer, or `None` where its email was taken
/// (by a stored customer or an earlier row). A failing statement fails the call; on PostgreSQL
/// that aborts the caller's transaction.
pub(crate) async fn insert_new_rows(
    conn: &mut AnyConnection,
    rows: &[NewRow<'_>],
) -> Result<Vec<Option<Customer>>, StoreError> {
    let mut created = Vec::with_capacity(rows.len());
    let mut start = 0;
    while start < rows.len() {
        let fields = field_names(rows[start].patch);
        let len = rows[start..]
            .iter()
            .take_while(|r| field_names(r.patch) == fields)
            .count();
        created.extend(insert_run(conn, &rows[start..start + len]).await?);
        start += len;
    }
    Ok(created)
}

fn field_names(patch: &CustomerPatch) -> Vec<&'static str> {
    patch.values().iter().map(|(spec, _)| spec.name).collect()
}

/// Inserts rows giving the same fields in one statement.
async fn insert_run(
    conn: &mut AnyConnection,
    rows: &[NewRow<'_>],
) -> Result<Vec<Option<Customer>>, StoreError> {
    let Some(first) = rows.first() else {
        return Ok(vec![]);
    };
    let mut sql = insert_head(first.patch);
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        push_new_row(&mut sql, row.merchant, row.id, row.patch, row.now)?;
    }
    // A new customer has no registrations: the inserted row is the whole customer.
    let backend = conn.backend_name();
    sql.push(" ON CONFLICT DO NOTHING RETURNING ")
        .push(columns(backend));
    let (text, args) = sql.into_parts_for(backend)?;
    let mut returned: HashMap<String, AnyRow> = HashMap::new();
    for row in sqlx::query_with(&text, args).fetch_all(&mut *conn).await? {
        returned.insert(row.try_get("id")?, row);
    }
    rows.iter()
        .map(|row| {
            let Some(stored) = returned.remove(&bare(row.id)) else {
                return Ok(None);
            };
            let key = crate::crypto::data_key(row.merchant)?;
            Ok(Some(customer_from_row(&stored, &key)?))
        })
        .collect()
}
