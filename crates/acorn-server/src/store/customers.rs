//! Customer rows: create, read, update, list with exact counts.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use acorn_types::customer::{FieldKind, FieldSpec, WRITABLE_FIELDS};
use acorn_types::{Customer, CustomerId, CustomerPatch, CustomerStatus, MerchantId};
use anyhow::Context;
use serde_json::{Map, Value};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::events::CustomerEvent;
use super::idempotency::KeyAnswer;
use super::registrations::attach_platforms;
use super::sql::Sql;
use super::{format_time, Dialect, OnUnique, Store, StoreError};

/// Every column read for a customer, in one place.
static COLUMNS: LazyLock<String> = LazyLock::new(|| {
    let mut cols = vec!["id"];
    cols.extend(WRITABLE_FIELDS.iter().map(|s| s.name));
    cols.extend([
        "status",
        "customer_wallet",
        "trading_wallet",
        "account_type",
        "synced",
        "synced_at",
        "version",
        "created_at",
        "updated_at",
    ]);
    cols.join(", ")
});

/// Which page of a list to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// Skip this many, newest first.
    Offset(i64),
    /// Customers older than this one.
    After(CustomerId),
    /// Customers newer than this one.
    Before(CustomerId),
}

/// A validated list request. Each list holds distinct, normalised values (OR-ed); different
/// lists are AND-ed.
#[derive(Debug, Clone)]
pub struct ListQuery {
    /// Lowercased emails.
    pub emails: Vec<String>,
    /// Lowercase country codes.
    pub countries: Vec<String>,
    /// Canonical document types.
    pub document_types: Vec<String>,
    /// Canonical customer statuses.
    pub statuses: Vec<String>,
    /// Registration filters; all given ones must hold on one single registration.
    pub registration: RegistrationFilter,
    /// Where to start.
    pub page: Page,
    /// Page size, 1–100.
    pub limit: i64,
}

/// The `provider`, `target_role` and `provider_registration_status` filters (canonical values).
#[derive(Debug, Clone, Default)]
pub struct RegistrationFilter {
    pub providers: Vec<String>,
    pub roles: Vec<String>,
    pub statuses: Vec<String>,
}

impl RegistrationFilter {
    /// Whether no registration filter is given.
    pub fn is_empty(&self) -> bool {
        self.providers.is_empty() && self.roles.is_empty() && self.statuses.is_empty()
    }
}

/// One page of customers.
#[derive(Debug)]
pub struct ListPage {
    /// All matches, over every page.
    pub count: u64,
    /// This page, newest first.
    pub customers: Vec<Customer>,
    /// Whether more follow in the direction of travel.
    pub has_more: bool,
}

/// The result of an update.
#[derive(Debug)]
pub enum UpdateOutcome {
    /// Something changed; the version went up.
    Updated(Customer),
    /// The request changed nothing.
    Unchanged(Customer),
}

fn bare(id: CustomerId) -> String {
    id.uuid().to_string()
}

fn mer(id: MerchantId) -> String {
    id.uuid().to_string()
}

/// Binds a normalised field value as its column type.
fn bind_value(sql: &mut Sql, kind: FieldKind, value: &Value) {
    match (kind, value) {
        (_, Value::Null) if kind == FieldKind::Number => sql.bind(Option::<f64>::None),
        (_, Value::Null) => sql.bind(Option::<String>::None),
        (FieldKind::Number, v) => sql.bind(v.as_f64()),
        (FieldKind::Object, v) => sql.bind(Some(v.to_string())),
        (_, v) => sql.bind(v.as_str().map(str::to_owned)),
    };
}

pub(crate) fn customer_from_row(row: &AnyRow) -> anyhow::Result<Customer> {
    let mut m = Map::new();
    let id = format!("{}{}", CustomerId::PREFIX, row.try_get::<String, _>("id")?);
    m.insert("id".into(), Value::String(id.clone()));
    m.insert("customer_id".into(), Value::String(id));
    for spec in WRITABLE_FIELDS {
        let v = match spec.kind {
            FieldKind::Number => row.try_get::<Option<f64>, _>(spec.name)?.map(Value::from),
            FieldKind::Object => row
                .try_get::<Option<String>, _>(spec.name)?
                .map(|s| serde_json::from_str(&s))
                .transpose()
                .context("stored additional_info")?,
            _ => row
                .try_get::<Option<String>, _>(spec.name)?
                .map(Value::String),
        };
        m.insert(spec.name.into(), v.unwrap_or(Value::Null));
    }
    for col in [
        "status",
        "customer_wallet",
        "trading_wallet",
        "account_type",
    ] {
        m.insert(
            col.into(),
            row.try_get::<Option<String>, _>(col)?
                .map(Value::String)
                .unwrap_or(Value::Null),
        );
    }
    let synced = row.try_get::<Option<i64>, _>("synced")?.map(|s| s != 0);
    m.insert(
        "synced".into(),
        synced.map(Value::Bool).unwrap_or(Value::Null),
    );
    let synced_at = row.try_get::<Option<i64>, _>("synced_at")?.map(format_time);
    m.insert(
        "synced_at".into(),
        synced_at.map(Value::String).unwrap_or(Value::Null),
    );
    m.insert(
        "version".into(),
        Value::from(row.try_get::<i64, _>("version")?),
    );
    m.insert(
        "created_at".into(),
        Value::String(format_time(row.try_get("created_at")?)),
    );
    m.insert(
        "updated_at".into(),
        Value::String(format_time(row.try_get("updated_at")?)),
    );
    m.insert("platforms".into(), Value::Array(vec![]));
    serde_json::from_value(Value::Object(m)).context("decoding a stored customer")
}

/// The counter keys a customer contributes to (see `customer_counts`).
fn count_keys(c: &Customer) -> Vec<(&'static str, String)> {
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

/// Counter changes: `(dimension, value)` → how much to add.
pub(crate) type CountDelta = BTreeMap<(&'static str, String), i64>;

/// Adds to `delta` the move of one customer from `old` to `new` (either may be absent).
pub(crate) fn count_delta(delta: &mut CountDelta, old: Option<&Customer>, new: Option<&Customer>) {
    for k in old.map(count_keys).unwrap_or_default() {
        *delta.entry(k).or_default() -= 1;
    }
    for k in new.map(count_keys).unwrap_or_default() {
        *delta.entry(k).or_default() += 1;
    }
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
    count_delta(&mut delta, old, new);
    apply_counts(conn, merchant, delta).await
}

/// Applies counter changes in one statement, in the caller's transaction.
pub(crate) async fn apply_counts(
    conn: &mut AnyConnection,
    merchant: MerchantId,
    mut delta: CountDelta,
) -> Result<(), sqlx::Error> {
    delta.retain(|_, d| *d != 0);
    if delta.is_empty() {
        return Ok(());
    }
    let slot = i64::from(rand::random::<u8>() % 8);
    let mut sql =
        Sql::new("INSERT INTO customer_counts (merchant_id, dim, value, slot, n) VALUES ");
    for (i, ((dim, value), d)) in delta.into_iter().enumerate() {
        sql.push(if i == 0 { "(" } else { ", (" });
        sql.bind(mer(merchant))
            .push(", ")
            .bind(dim.to_owned())
            .push(", ")
            .bind(value);
        sql.push(", ").bind(slot).push(", ").bind(d).push(")");
    }
    sql.push(" ON CONFLICT (merchant_id, dim, value, slot) DO UPDATE SET n = customer_counts.n + excluded.n");
    let (text, args) = sql.into_parts();
    sqlx::query_with(&text, args).execute(conn).await?;
    Ok(())
}

/// The `INSERT … RETURNING` of a new customer (status `NOT_STARTED`, version 1) and its id.
/// With `skip_duplicate`, an email already taken inserts nothing and returns no row instead of
/// failing (so a batch can go on in the same transaction).
pub(crate) fn insert_customer_sql(
    merchant: MerchantId,
    patch: &CustomerPatch,
    now: i64,
    skip_duplicate: bool,
) -> Result<(CustomerId, Sql), StoreError> {
    let id = CustomerId::new();
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
        .ok_or(StoreError::Other(anyhow::anyhow!("email missing")))?;

    let mut sql = Sql::new(
        "INSERT INTO customers (id, merchant_id, email_key, status, version, created_at, updated_at",
    );
    for (spec, _) in patch.values() {
        sql.push(", ").push(spec.name);
    }
    sql.push(") VALUES (")
        .bind(bare(id))
        .push(", ")
        .bind(mer(merchant))
        .push(", ");
    sql.bind(acorn_types::fields::email_key(email))
        .push(", ")
        .bind(CustomerStatus::NotStarted.as_str().to_owned());
    sql.push(", 1, ").bind(created_at).push(", ").bind(now);
    for (spec, value) in patch.values() {
        sql.push(", ");
        bind_value(&mut sql, spec.kind, value);
    }
    sql.push(")");
    if skip_duplicate {
        sql.push(" ON CONFLICT DO NOTHING");
    }
    // A new customer has no registrations: the inserted row is the whole customer.
    // (fetch_all, not fetch_one: SQLite must step the statement to its end.)
    sql.push(" RETURNING ").push(&COLUMNS);
    Ok((id, sql))
}

/// Inserts a new customer (status `NOT_STARTED`, version 1); a taken email is
/// [`StoreError::Duplicate`].
pub(crate) async fn insert_customer(
    conn: &mut AnyConnection,
    merchant: MerchantId,
    patch: &CustomerPatch,
    now: i64,
) -> Result<Customer, StoreError> {
    let (_, sql) = insert_customer_sql(merchant, patch, now, false)?;
    let (text, args) = sql.into_parts();
    let rows = sqlx::query_with(&text, args)
        .fetch_all(conn)
        .await
        .on_unique_violation("email")?;
    Ok(rows
        .first()
        .map(customer_from_row)
        .transpose()?
        .ok_or(StoreError::NotFound)?)
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
    let mut sql = Sql::new("UPDATE customers SET version = version + 1, updated_at = ");
    sql.bind(now);
    for (spec, value) in changed {
        sql.push(", ").push(spec.name).push(" = ");
        bind_value(&mut sql, spec.kind, value);
        if spec.name == "email" {
            sql.push(", email_key = ")
                .bind(acorn_types::fields::email_key(
                    value.as_str().unwrap_or_default(),
                ));
        }
    }
    if unsync {
        sql.push(", synced = 0");
    }
    sql.push(" WHERE merchant_id = ")
        .bind(mer(merchant))
        .push(" AND id = ")
        .bind(bare(id));
    let (text, args) = sql.into_parts();
    sqlx::query_with(&text, args)
        .execute(conn)
        .await
        .on_unique_violation("email")?;
    Ok(())
}

/// Inserts a new customer inside a shared transaction (a batch, a group commit) and adds its
/// counter changes and `customer.created` event to those the transaction writes at the end.
/// `None` when the email is already taken (nothing is written then).
pub(crate) async fn insert_new_customer(
    conn: &mut AnyConnection,
    merchant: MerchantId,
    patch: &CustomerPatch,
    now: i64,
    counts: &mut CountDelta,
    events: &mut Vec<CustomerEvent>,
) -> Result<Option<Customer>, StoreError> {
    let (id, sql) = insert_customer_sql(merchant, patch, now, true)?;
    let (text, args) = sql.into_parts();
    let rows = sqlx::query_with(&text, args).fetch_all(&mut *conn).await?;
    let Some(customer) = rows.first().map(customer_from_row).transpose()? else {
        return Ok(None);
    };
    count_delta(counts, None, Some(&customer));
    events.push(CustomerEvent {
        merchant,
        customer: id,
        data: serde_json::to_string(&customer).context("encoding event")?,
        at: now,
    });
    Ok(Some(customer))
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
            "SELECT {} FROM customers WHERE merchant_id = $1 AND id = $2{suffix}",
            *COLUMNS
        );
        let row = sqlx::query(&text)
            .bind(mer(merchant))
            .bind(bare(id))
            .fetch_optional(&mut *conn)
            .await?;
        let Some(mut customer) = row.as_ref().map(customer_from_row).transpose()? else {
            return Ok(None);
        };
        attach_platforms(conn, std::slice::from_mut(&mut customer)).await?;
        Ok(Some(customer))
    }

    /// Creates customers through the group commit when the engine has one (SQLite): `None`
    /// on PostgreSQL, where the caller writes its own transaction.
    pub(crate) async fn create_grouped(
        &self,
        merchant: MerchantId,
        patch: &CustomerPatch,
        now: i64,
        answer: Option<KeyAnswer>,
    ) -> Option<Result<Customer, StoreError>> {
        let combiner = self.combiner.as_ref()?;
        Some(combiner.create(merchant, patch, now, answer).await)
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
        let found: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM customers WHERE merchant_id = $1 AND id = $2")
                .bind(mer(merchant))
                .bind(bare(id))
                .fetch_optional(&self.read)
                .await?;
        Ok(found.is_some())
    }

    fn push_filters(sql: &mut Sql, merchant: MerchantId, q: &ListQuery) {
        sql.push(" WHERE merchant_id = ").bind(mer(merchant));
        for (col, values) in [
            ("email_key", &q.emails),
            ("country_code", &q.countries),
            ("document_type", &q.document_types),
            ("status", &q.statuses),
        ] {
            if !values.is_empty() {
                sql.push(" AND ").push(col).push(" IN ").bind_list(values);
            }
        }
        let r = &q.registration;
        if !r.is_empty() {
            // One registration row must satisfy every given filter (served by the
            // (customer_id, provider, target_role) index).
            sql.push(
                " AND EXISTS (SELECT 1 FROM registrations r WHERE r.customer_id = customers.id",
            );
            for (col, values) in [
                ("r.provider", &r.providers),
                ("r.target_role", &r.roles),
                ("r.status", &r.statuses),
            ] {
                if !values.is_empty() {
                    sql.push(" AND ").push(col).push(" IN ").bind_list(values);
                }
            }
            sql.push(")");
        }
    }

    fn page_sql(merchant: MerchantId, q: &ListQuery) -> Sql {
        let mut sql = Sql::new(&format!("SELECT {} FROM customers", *COLUMNS));
        Self::push_filters(&mut sql, merchant, q);
        match q.page {
            Page::Offset(offset) => {
                sql.push(" ORDER BY id DESC LIMIT ")
                    .bind(q.limit + 1)
                    .push(" OFFSET ")
                    .bind(offset);
            }
            Page::After(cursor) => {
                sql.push(" AND id < ")
                    .bind(bare(cursor))
                    .push(" ORDER BY id DESC LIMIT ")
                    .bind(q.limit + 1);
            }
            Page::Before(cursor) => {
                sql.push(" AND id > ")
                    .bind(bare(cursor))
                    .push(" ORDER BY id ASC LIMIT ")
                    .bind(q.limit + 1);
            }
        }
        sql
    }

    /// The SQL that counts the matches: a sum of maintained counters when the filters are
    /// ones the counters track (none, or a single one of country/document type/status),
    /// else a `COUNT(*)` that the filter indexes serve.
    fn count_sql(merchant: MerchantId, q: &ListQuery) -> Sql {
        let tracked = [
            ("country_code", &q.countries),
            ("document_type", &q.document_types),
            ("status", &q.statuses),
        ];
        let used: Vec<_> = tracked.iter().filter(|(_, v)| !v.is_empty()).collect();
        if q.emails.is_empty() && q.registration.is_empty() && used.len() <= 1 {
            let (dim, values) = match used.first() {
                Some((dim, values)) => (*dim, (*values).clone()),
                None => ("all", vec![String::new()]),
            };
            let mut sql = Sql::new("SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM customer_counts WHERE merchant_id = ");
            sql.bind(mer(merchant))
                .push(" AND dim = ")
                .bind(dim.to_owned())
                .push(" AND value IN ")
                .bind_list(&values);
            return sql;
        }
        let mut sql = Sql::new("SELECT COUNT(*) FROM customers");
        Self::push_filters(&mut sql, merchant, q);
        sql
    }

    /// One page of customers, newest first, with the total count of matches.
    pub async fn list_customers(
        &self,
        merchant: MerchantId,
        q: &ListQuery,
    ) -> Result<ListPage, StoreError> {
        let (text, args) = Self::count_sql(merchant, q).into_parts();
        let count: i64 = sqlx::query_scalar_with(&text, args)
            .fetch_one(&self.read)
            .await?;
        let (text, args) = Self::page_sql(merchant, q).into_parts();
        let mut conn = self.read.acquire().await?;
        let rows = sqlx::query_with(&text, args).fetch_all(&mut *conn).await?;
        let mut customers = rows
            .iter()
            .map(customer_from_row)
            .collect::<anyhow::Result<Vec<_>>>()?;
        let has_more = customers.len() as i64 > q.limit;
        customers.truncate(usize::try_from(q.limit).unwrap_or(0));
        if matches!(q.page, Page::Before(_)) {
            customers.reverse();
        }
        attach_platforms(&mut conn, &mut customers).await?;
        Ok(ListPage {
            count: u64::try_from(count).unwrap_or(0),
            customers,
            has_more,
        })
    }

    /// The engine's plan for a list query's page and count (for plan tests and diagnostics).
    pub async fn explain_list(
        &self,
        merchant: MerchantId,
        q: &ListQuery,
    ) -> Result<String, StoreError> {
        let mut out = String::new();
        for sql in [Self::page_sql(merchant, q), Self::count_sql(merchant, q)] {
            let prefix = match self.dialect {
                Dialect::Sqlite => "EXPLAIN QUERY PLAN ",
                Dialect::Postgres => "EXPLAIN ",
            };
            let text = format!("{prefix}{}", sql.text());
            let (_, args) = sql.into_parts();
            let rows = sqlx::query_with(&text, args).fetch_all(&self.read).await?;
            for row in rows {
                let line: String = match self.dialect {
                    Dialect::Sqlite => row.try_get("detail")?,
                    Dialect::Postgres => row.try_get(0)?,
                };
                out.push_str(&line);
                out.push('\n');
            }
        }
        Ok(out)
    }
}
