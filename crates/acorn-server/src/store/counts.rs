//! Exact list counts without a `COUNT(*)` over every match: counters kept in the same
//! transaction as each customer write, spread over slots so concurrent writers do not queue on
//! one row. `customer_counts` holds one number per merchant for all customers and for each
//! single country, document type and status; `customer_cube` one per (country, document type,
//! status) cell, so any combination of those filters (comma lists too) is a sum of a few cells.

use std::collections::BTreeMap;

use acorn_types::{Customer, MerchantId};
use sqlx::AnyConnection;

use super::customers::mer;
use super::sql::Sql;

/// Counter changes of one merchant.
#[derive(Debug, Default)]
pub(crate) struct CountDelta {
    /// `(dimension, value)` → how much to add to `customer_counts`.
    dims: BTreeMap<(&'static str, String), i64>,
    /// `(country, document type, status)` → how much to add to `customer_cube` (`''` for a
    /// customer without country or document type).
    cells: BTreeMap<(String, String, String), i64>,
    /// `(bare id, ±1)` of each customer that appears or goes, for `customer_marks`.
    marks: Vec<(String, i64)>,
}

impl CountDelta {
    /// No change yet.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Adds the move of one customer from `old` to `new` (either may be absent).
    pub(crate) fn add(&mut self, old: Option<&Customer>, new: Option<&Customer>) {
        match (old, new) {
            (None, Some(c)) => self.marks.push((bare_id(c), 1)),
            (Some(c), None) => self.marks.push((bare_id(c), -1)),
            _ => {}
        }
        for (c, d) in [(old, -1), (new, 1)] {
            let Some(c) = c else { continue };
            for k in dim_keys(c) {
                *self.dims.entry(k).or_default() += d;
            }
            *self.cells.entry(cell(c)).or_default() += d;
        }
    }
}

/// The id as stored (`cus_` dropped).
fn bare_id(c: &Customer) -> String {
    c.id.strip_prefix("cus_").unwrap_or(&c.id).to_owned()
}

/// The `customer_counts` keys a customer contributes to.
fn dim_keys(c: &Customer) -> Vec<(&'static str, String)> {
    let mut keys = vec![
        ("all", String::new()),
        ("status", c.status.as_str().to_owned()),
    ];
    if let Some(v) = &c.country_code {
        keys.push(("country_code", v.clone()));
    }
    if let Some(v) = &c.document_type {
        keys.push(("document_type", v.clone()));
    }
    keys
}

/// The `customer_cube` cell of a customer.
fn cell(c: &Customer) -> (String, String, String) {
    (
        c.country_code.clone().unwrap_or_default(),
        c.document_type.clone().unwrap_or_default(),
        c.status.as_str().to_owned(),
    )
}

/// Moves the list counters from `old` to `new` (either may be absent), in the caller's
/// transaction.
pub(crate) async fn adjust_counts(
    conn: &mut AnyConnection,
    merchant: MerchantId,
    old: Option<&Customer>,
    new: Option<&Customer>,
) -> Result<(), sqlx::Error> {
    let mut delta = CountDelta::new();
    delta.add(old, new);
    apply_counts(conn, merchant, delta).await
}

/// Applies counter changes (one statement per table, and the offset marks), in the caller's
/// transaction.
pub(crate) async fn apply_counts(
    conn: &mut AnyConnection,
    merchant: MerchantId,
    mut delta: CountDelta,
) -> Result<(), sqlx::Error> {
    super::marks::adjust(conn, merchant, &delta.marks).await?;
    delta.dims.retain(|_, d| *d != 0);
    delta.cells.retain(|_, d| *d != 0);
    let slot = i64::from(rand::random::<u8>() % 8);
    if !delta.dims.is_empty() {
        let rows = delta
            .dims
            .into_iter()
            .map(|((dim, value), d)| (vec![dim.to_owned(), value], d));
        upsert(
            conn,
            "customer_counts",
            &["dim", "value"],
            merchant,
            slot,
            rows,
        )
        .await?;
    }
    if !delta.cells.is_empty() {
        let rows = delta
            .cells
            .into_iter()
            .map(|((country, doc, status), d)| (vec![country, doc, status], d));
        let cols = ["country_code", "document_type", "status"];
        upsert(conn, "customer_cube", &cols, merchant, slot, rows).await?;
    }
    Ok(())
}

/// `INSERT INTO table (merchant_id, cols…, slot, n) VALUES … ON CONFLICT … DO UPDATE` adding
/// each row's number to its counter.
async fn upsert(
    conn: &mut AnyConnection,
    table: &str,
    cols: &[&str],
    merchant: MerchantId,
    slot: i64,
    rows: impl Iterator<Item = (Vec<String>, i64)>,
) -> Result<(), sqlx::Error> {
    let key = format!("merchant_id, {}, slot", cols.join(", "));
    let mut sql = Sql::new(&format!("INSERT INTO {table} ({key}, n) VALUES "));
    for (i, (values, d)) in rows.enumerate() {
        sql.push(if i == 0 { "(" } else { ", (" });
        sql.bind(mer(merchant));
        for v in values {
            sql.push(", ").bind(v);
        }
        sql.push(", ").bind(slot).push(", ").bind(d).push(")");
    }
    sql.push(&format!(
        " ON CONFLICT ({key}) DO UPDATE SET n = {table}.n + excluded.n"
    ));
    let (text, args) = sql.into_parts_for(conn.backend_name())?;
    sqlx::query_with(&text, args).execute(conn).await?;
    Ok(())
}
