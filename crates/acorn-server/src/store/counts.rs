//! Exact list counts without a `COUNT(*)` over every match: counters kept in the same
//! transaction as each customer write, spread over slots so concurrent writers do not queue on
//! one row. `customer_counts` holds one number per merchant for all customers and for each
//! single country, document type and status; `customer_cube` one per (country, document type,
//! status) cell, so any combination of those filters (comma lists too) is a sum of a few cells.
//! `registration_cube` counts the customers with registrations per (registration set, country,
//! document type, status), for the registration filters (see migration 0015).

use std::collections::BTreeMap;

use acorn_types::{Customer, MerchantId};
use sqlx::AnyConnection;

use super::customers::mer;
use super::sql::Script;

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
    /// `(registration set, country, document type, status)` → how much to add to
    /// `registration_cube` (customers with at least one registration only).
    reg_cells: BTreeMap<(String, String, String, String), i64>,
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
            if let Some(set) = registration_set(c) {
                let (country, doc, status) = cell(c);
                *self
                    .reg_cells
                    .entry((set, country, doc, status))
                    .or_default() += d;
            }
        }
    }
}

/// A customer's registration set as `registration_cube` keys it: its registrations as
/// `provider:target_role:status`, sorted bytewise and comma-joined (as migration 0015 builds it
/// in SQL); `None` without registrations.
pub(crate) fn registration_set(c: &Customer) -> Option<String> {
    let mut members: Vec<String> = c
        .platforms
        .iter()
        .map(|p| {
            format!(
                "{}:{}:{}",
                p.provider.as_str(),
                p.target_role.as_str(),
                p.status.as_str()
            )
        })
        .collect();
    if members.is_empty() {
        return None;
    }
    members.sort_unstable();
    Some(members.join(","))
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
    delta: CountDelta,
) -> Result<(), sqlx::Error> {
    let mut script = Script::new(conn.backend_name());
    push_counts(&mut script, merchant, delta);
    script.run(conn).await?;
    Ok(())
}

/// Pushes the statements of counter changes (and the offset marks') to `script`.
pub(crate) fn push_counts(script: &mut Script, merchant: MerchantId, mut delta: CountDelta) {
    super::marks::push_adjust(script, merchant, delta.marks);
    delta.dims.retain(|_, d| *d != 0);
    delta.cells.retain(|_, d| *d != 0);
    delta.reg_cells.retain(|_, d| *d != 0);
    let slot = i64::from(rand::random::<u8>() % 8);
    if !delta.dims.is_empty() {
        let rows = delta
            .dims
            .into_iter()
            .map(|((dim, value), d)| (vec![dim.to_owned(), value], d));
        let cols = ["dim", "value"];
        push_upsert(script, "customer_counts", &cols, merchant, Some(slot), rows);
    }
    if !delta.cells.is_empty() {
        let rows = delta
            .cells
            .into_iter()
            .map(|((country, doc, status), d)| (vec![country, doc, status], d));
        let cols = ["country_code", "document_type", "status"];
        push_upsert(script, "customer_cube", &cols, merchant, Some(slot), rows);
    }
    if !delta.reg_cells.is_empty() {
        let added: Vec<&String> = delta
            .reg_cells
            .iter()
            .filter(|(_, d)| **d > 0)
            .map(|((set, ..), _)| set)
            .collect();
        push_sets(script, &added);
        let rows = delta
            .reg_cells
            .into_iter()
            .map(|((set, country, doc, status), d)| (vec![set, country, doc, status], d));
        let cols = ["regset", "country_code", "document_type", "status"];
        push_upsert(script, "registration_cube", &cols, merchant, None, rows);
    }
}

/// Lists the members of each registration set in `registration_sets` (sets seen before are
/// left as they are), so a filter can find the sets it matches.
fn push_sets(script: &mut Script, sets: &[&String]) {
    let members: Vec<(&String, &str, &str, &str)> = sets
        .iter()
        .flat_map(|set| {
            set.split(',').filter_map(|member| {
                let mut parts = member.splitn(3, ':');
                match (parts.next(), parts.next(), parts.next()) {
                    (Some(provider), Some(role), Some(status)) => {
                        Some((*set, provider, role, status))
                    }
                    _ => None,
                }
            })
        })
        .collect();
    if members.is_empty() {
        return;
    }
    let sql = script.statement();
    sql.push("INSERT INTO registration_sets (regset, provider, target_role, status) VALUES ");
    for (i, (set, provider, role, status)) in members.into_iter().enumerate() {
        sql.push(if i == 0 { "(" } else { ", (" });
        sql.bind(set.clone()).push(", ").bind(provider.to_owned());
        sql.push(", ")
            .bind(role.to_owned())
            .push(", ")
            .bind(status.to_owned());
        sql.push(")");
    }
    sql.push(" ON CONFLICT DO NOTHING");
}

/// `INSERT INTO table (merchant_id, cols…, slot, n) VALUES … ON CONFLICT … DO UPDATE` adding
/// each row's number to its counter (a table without slots: `slot` is `None`).
fn push_upsert(
    script: &mut Script,
    table: &str,
    cols: &[&str],
    merchant: MerchantId,
    slot: Option<i64>,
    rows: impl Iterator<Item = (Vec<String>, i64)>,
) {
    let slotted = if slot.is_some() { ", slot" } else { "" };
    let key = format!("merchant_id, {}{slotted}", cols.join(", "));
    let sql = script.statement();
    sql.push(&format!("INSERT INTO {table} ({key}, n) VALUES "));
    for (i, (values, d)) in rows.enumerate() {
        sql.push(if i == 0 { "(" } else { ", (" });
        sql.bind(mer(merchant));
        for v in values {
            sql.push(", ").bind(v);
        }
        if let Some(slot) = slot {
            sql.push(", ").bind(slot);
        }
        sql.push(", ").bind(d).push(")");
    }
    sql.push(&format!(
        " ON CONFLICT ({key}) DO UPDATE SET n = {table}.n + excluded.n"
    ));
}
