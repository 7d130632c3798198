//! New customers written with as few statements as possible: one multi-row
//! `INSERT … ON CONFLICT DO NOTHING RETURNING id` per run of rows giving the same fields. Used
//! by the group commit of single creates and by the batch create. A row is prepared (its
//! sensitive values sealed, the customer it reads back as worked out) before its statement is
//! built: in its own request for a single create, not in the one writer of its group.

use std::collections::HashSet;

use acorn_types::{Customer, CustomerId, CustomerPatch, MerchantId};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::customer_row::new_customer;
use super::customers::{bare, insert_head, new_row_values, Bound};
use super::sql::Script;
use super::StoreError;

/// A customer to insert (status `NOT_STARTED`, version 1), ready to bind.
#[derive(Debug, Clone)]
pub(crate) struct NewRow {
    pub id: CustomerId,
    /// The fields the row gives (rows giving the same go in one statement).
    fields: Vec<&'static str>,
    values: Vec<Bound>,
    /// The customer as the row reads back.
    pub customer: Customer,
}

impl NewRow {
    /// Seals and lays out the row of a new customer `id` of `merchant` with `patch`'s fields.
    pub(crate) fn prepare(
        merchant: MerchantId,
        id: CustomerId,
        patch: &CustomerPatch,
        now: i64,
    ) -> Result<Self, StoreError> {
        let (values, created_at) = new_row_values(merchant, id, patch, now)?;
        Ok(NewRow {
            id,
            fields: patch.values().iter().map(|(spec, _)| spec.name).collect(),
            values,
            customer: new_customer(id, patch, created_at, now.max(created_at))?,
        })
    }
}

/// Inserts `rows` in their order: each one's customer, or `None` where its email was taken
/// (by a stored customer or an earlier row). A failing statement fails the call; on PostgreSQL
/// that aborts the caller's transaction.
pub(crate) async fn insert_new_rows(
    conn: &mut AnyConnection,
    rows: &[&NewRow],
) -> Result<Vec<Option<Customer>>, StoreError> {
    let mut script = Script::new(conn.backend_name());
    push_new_rows(&mut script, rows);
    let returned = script.run(conn).await?;
    created(rows, &returned)
}

/// Pushes the inserts of `rows` to `script`: one statement per run of rows giving the same
/// fields, each returning the ids it inserted (see [`created`]).
pub(crate) fn push_new_rows(script: &mut Script, rows: &[&NewRow]) {
    let mut start = 0;
    while start < rows.len() {
        let fields = &rows[start].fields;
        let len = rows[start..]
            .iter()
            .take_while(|r| &r.fields == fields)
            .count();
        push_run(script, &rows[start..start + len]);
        start += len;
    }
}

/// Each row's customer, or `None` where `returned` (the rows of the statements of
/// [`push_new_rows`], and of no other statement returning rows) says nothing was inserted.
pub(crate) fn created(
    rows: &[&NewRow],
    returned: &[AnyRow],
) -> Result<Vec<Option<Customer>>, StoreError> {
    let mut inserted = HashSet::with_capacity(returned.len());
    for row in returned {
        inserted.insert(row.try_get::<String, _>("id")?);
    }
    Ok(rows
        .iter()
        .map(|row| {
            inserted
                .contains(&bare(row.id))
                .then(|| row.customer.clone())
        })
        .collect())
}

/// Inserts rows giving the same fields in one statement.
fn push_run(script: &mut Script, rows: &[&NewRow]) {
    let Some(first) = rows.first() else {
        return;
    };
    let sql = script.statement();
    insert_head(sql, &first.fields);
    for (i, row) in rows.iter().enumerate() {
        sql.push(if i == 0 { "(" } else { ", (" });
        for (j, value) in row.values.iter().enumerate() {
            if j > 0 {
                sql.push(", ");
            }
            value.clone().bind_to(sql);
        }
        sql.push(")");
    }
    // A new customer has no registrations: the row as prepared is the whole customer.
    sql.push(" ON CONFLICT DO NOTHING RETURNING id");
}
