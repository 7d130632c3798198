//! Lists filtered by `provider`, `target_role` or `provider_registration_status` (without an
//! email filter, which finds its one customer by index): the exact count is a sum over
//! `registration_cube` (migration 0015), and the page's ids come from the registrations of the
//! merchant, joined to their customers for the customer filters, by one of two walks the
//! counts choose between.

use acorn_types::MerchantId;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::customer_list::{ListQuery, Page};
use super::customers::{bare, columns, mer, HAS_REGISTRATIONS};
use super::sql::Sql;
use super::{Store, StoreError};

/// How a registration-filtered page finds its customers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Walk {
    /// The merchant's registrations in customer order (`registrations_merchant_customer`),
    /// newest first, stopping once the page is full: cheap when matches are dense.
    Newest,
    /// Every matching registration from the filter index, sorted: cheap when they are few.
    Matches,
}

/// The counts a registration-filtered list is planned from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RegistrationCounts {
    /// Customers matching every filter (the list's `count`).
    pub total: i64,
    /// Customers matching the registration filters alone.
    pub matched: i64,
    /// Customers of the merchant with any registration.
    pub registered: i64,
}

impl RegistrationCounts {
    /// The cheaper walk for a page that needs `need` matches: the newest-first walk reads about
    /// `need × registered / total` index entries (an entry costs a tenth of a customer look-up)
    /// and looks up `need × matched / total` customers; the other reads and looks up `matched`.
    pub(crate) fn walk(&self, q: &ListQuery) -> Walk {
        let r = &q.registration;
        // The filter index leads with the provider, the status index with the status; a role
        // alone has no index of its own, so only the newest-first walk serves it.
        if r.providers.is_empty() && r.statuses.is_empty() {
            return Walk::Newest;
        }
        let need = match q.page {
            Page::Offset(offset) => offset.saturating_add(q.limit + 1),
            Page::After(_) | Page::Before(_) => q.limit + 1,
        };
        let total = self.total.max(1);
        let newest = need.saturating_mul(self.registered / 10 + self.matched) / total;
        if newest < self.matched {
            Walk::Newest
        } else {
            Walk::Matches
        }
    }
}

/// Whether a list takes this path.
pub(crate) fn applies(q: &ListQuery) -> bool {
    !q.registration.is_empty() && q.emails.is_empty()
}

/// Appends ` AND {alias}{column} IN (…)` for each filter given.
fn push_in(sql: &mut Sql, alias: &str, filters: [(&str, &Vec<String>); 3]) {
    for (col, values) in filters {
        if !values.is_empty() {
            sql.push(&format!(" AND {alias}{col} IN "))
                .bind_list(values);
        }
    }
}

/// Appends the customer filters (country, document type, status) on columns of `alias`.
fn push_customer_filters(sql: &mut Sql, alias: &str, q: &ListQuery) {
    push_in(
        sql,
        alias,
        [
            ("country_code", &q.countries),
            ("document_type", &q.document_types),
            ("status", &q.statuses),
        ],
    );
}

/// Appends the registration filters on columns of `alias`.
fn push_registration_filters(sql: &mut Sql, alias: &str, q: &ListQuery) {
    let r = &q.registration;
    push_in(
        sql,
        alias,
        [
            ("provider", &r.providers),
            ("target_role", &r.roles),
            ("status", &r.statuses),
        ],
    );
}

/// `SELECT SUM(n) FROM registration_cube WHERE …` over the cells of the sets the registration
/// filters match, with the customer filters when `customer_filters`.
fn push_cube_sum(sql: &mut Sql, merchant: MerchantId, q: &ListQuery, customer_filters: bool) {
    sql.push(
        "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM registration_cube WHERE merchant_id = ",
    )
    .bind(mer(merchant))
    .push(" AND regset IN (SELECT regset FROM registration_sets WHERE 1 = 1");
    push_registration_filters(sql, "", q);
    sql.push(")");
    if customer_filters {
        push_customer_filters(sql, "", q);
    }
}

/// Appends the exact count of a registration-filtered list (a sum of cells).
pub(crate) fn push_count(sql: &mut Sql, merchant: MerchantId, q: &ListQuery) {
    push_cube_sum(sql, merchant, q, true);
}

/// The query of [`RegistrationCounts`]: three sums in one statement.
fn counts_sql(merchant: MerchantId, q: &ListQuery) -> Sql {
    let mut sql = Sql::new("SELECT (");
    push_cube_sum(&mut sql, merchant, q, true);
    sql.push(") AS total, (");
    push_cube_sum(&mut sql, merchant, q, false);
    sql.push(") AS matched, (SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM registration_cube WHERE merchant_id = ")
        .bind(mer(merchant))
        .push(") AS registered");
    sql
}

/// Reads the [`RegistrationCounts`] of a list.
pub(crate) async fn counts(
    conn: &mut AnyConnection,
    merchant: MerchantId,
    q: &ListQuery,
) -> Result<RegistrationCounts, StoreError> {
    let (text, args) = counts_sql(merchant, q).into_parts()?;
    let row = sqlx::query_with(&text, args).fetch_one(&mut *conn).await?;
    Ok(RegistrationCounts {
        total: row.try_get("total")?,
        matched: row.try_get("matched")?,
        registered: row.try_get("registered")?,
    })
}

/// The ids of the page (one more than the limit, to tell whether more follow), in the direction
/// of travel: the matching registrations of live customers that match the customer filters, one
/// row per customer.
pub(crate) fn ids_sql(backend: &str, merchant: MerchantId, q: &ListQuery, walk: Walk) -> Sql {
    let mut sql = Sql::new("SELECT r.customer_id FROM registrations r");
    if backend == "SQLite" {
        // SQLite has no statistics here to weigh the two walks: name the index the counts chose.
        sql.push(match walk {
            Walk::Newest => " INDEXED BY registrations_merchant_customer",
            Walk::Matches if q.registration.providers.is_empty() => {
                " INDEXED BY registrations_merchant_status"
            }
            Walk::Matches => " INDEXED BY registrations_merchant_filter",
        });
    }
    sql.push(" WHERE r.merchant_id = ").bind(mer(merchant));
    push_registration_filters(&mut sql, "r.", q);
    // The customer is looked up by its key for each registration the walk reads (a scalar
    // subquery, which PostgreSQL runs per row, where a join lets it hash the whole table).
    sql.push(" AND (SELECT 1 FROM customers c WHERE c.id = r.customer_id AND c.merchant_id = ")
        .bind(mer(merchant))
        .push(" AND c.deleted_at IS NULL");
    push_customer_filters(&mut sql, "c.", q);
    sql.push(") = 1");
    let (offset, order) = match q.page {
        Page::Offset(offset) => (offset, "DESC"),
        Page::After(cursor) => {
            Store::push_cursor_exists(&mut sql, merchant, cursor);
            sql.push(" AND r.customer_id < ").bind(bare(cursor));
            (0, "DESC")
        }
        Page::Before(cursor) => {
            Store::push_cursor_exists(&mut sql, merchant, cursor);
            sql.push(" AND r.customer_id > ").bind(bare(cursor));
            (0, "ASC")
        }
    };
    sql.push(&format!(
        " GROUP BY r.customer_id ORDER BY r.customer_id {order} LIMIT "
    ))
    .bind(q.limit + 1)
    .push(" OFFSET ")
    .bind(offset);
    sql
}

/// The query for the rows of a page of customers by id, in the direction of travel.
pub(crate) fn rows_sql(backend: &str, merchant: MerchantId, ids: &[String], q: &ListQuery) -> Sql {
    let order = if matches!(q.page, Page::Before(_)) {
        "ASC"
    } else {
        "DESC"
    };
    // Without statistics SQLite prices `merchant_id = ?` on its index below eleven probes of
    // the primary key and walks every customer of the merchant: `+` keeps it off that index.
    let merchant_col = if backend == "SQLite" {
        "+merchant_id"
    } else {
        "merchant_id"
    };
    let mut sql = Sql::new(&format!(
        "SELECT {}{HAS_REGISTRATIONS} FROM customers WHERE {merchant_col} = ",
        columns(backend)
    ));
    sql.bind(mer(merchant))
        .push(" AND id IN ")
        .bind_list(ids)
        .push(&format!(" ORDER BY id {order}"));
    sql
}

/// The rows of a page of customers by id, in the direction of travel.
async fn rows_of(
    conn: &mut AnyConnection,
    merchant: MerchantId,
    ids: &[String],
    q: &ListQuery,
) -> Result<Vec<AnyRow>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let (text, args) = rows_sql(conn.backend_name(), merchant, ids, q).into_parts()?;
    Ok(sqlx::query_with(&text, args).fetch_all(&mut *conn).await?)
}

/// The count of a registration-filtered list and its page's rows (one more than the limit
/// when more follow). No match, or an offset past the last one, costs one query.
pub(crate) async fn page(
    conn: &mut AnyConnection,
    merchant: MerchantId,
    q: &ListQuery,
) -> Result<(i64, Vec<AnyRow>), StoreError> {
    let counts = counts(conn, merchant, q).await?;
    let past_end = matches!(q.page, Page::Offset(offset) if offset >= counts.total);
    if counts.total == 0 || past_end {
        return Ok((counts.total, Vec::new()));
    }
    let sql = ids_sql(conn.backend_name(), merchant, q, counts.walk(q));
    let (text, args) = sql.into_parts()?;
    let ids: Vec<String> = sqlx::query_scalar_with(&text, args)
        .fetch_all(&mut *conn)
        .await?;
    Ok((counts.total, rows_of(conn, merchant, &ids, q).await?))
}
