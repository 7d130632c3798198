//! Customer lists: one page by offset or cursor, filtered, with the exact count of matches
//! (from maintained counters where the filters allow, else a `COUNT(*)` the indexes serve).

use acorn_types::{Customer, CustomerId, MerchantId};
use sqlx::Row;

use super::customers::{
    bare, columns, customer_from_row, has_registrations, mer, HAS_REGISTRATIONS,
};
use super::registration_list;
use super::registrations::attach_platforms;
use super::sql::Sql;
use super::{Dialect, Store, StoreError};

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

/// The query with its emails as the blind index stores them. The lowercased emails stay too,
/// so rows written before encryption (whose key is the lowercased email) are still found.
fn blind(q: &ListQuery, key: &crate::base::crypto::DataKey) -> ListQuery {
    let mut q = q.clone();
    let hashed: Vec<String> = q.emails.iter().map(|e| key.blind_index(e)).collect();
    q.emails.extend(hashed);
    q
}

impl Store {
    fn push_filters(sql: &mut Sql, merchant: MerchantId, q: &ListQuery) {
        sql.push(" WHERE merchant_id = ").bind(mer(merchant));
        sql.push(" AND deleted_at IS NULL");
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
            // One registration row must satisfy every given filter. The set of such customers
            // comes from the registrations index (merchant_id, provider, target_role, status,
            // customer_id), and customers are looked up by id: testing every customer of the
            // merchant for a registration (`EXISTS`) took seconds at a million customers.
            sql.push(
                " AND id IN (SELECT r.customer_id FROM registrations r WHERE r.merchant_id = ",
            )
            .bind(mer(merchant));
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

    /// Where a deep offset page of the unfiltered list starts, from the marks
    /// ([`super::marks`]): the `upper` to walk down from and how many to skip there.
    async fn offset_start(
        conn: &mut sqlx::AnyConnection,
        merchant: MerchantId,
        q: &ListQuery,
    ) -> Result<Option<(String, i64)>, StoreError> {
        let unfiltered = q.emails.is_empty()
            && q.countries.is_empty()
            && q.document_types.is_empty()
            && q.statuses.is_empty()
            && q.registration.is_empty();
        Ok(match q.page {
            Page::Offset(offset) if unfiltered && offset >= super::marks::MARKS_FROM => {
                super::marks::start_of(conn, merchant, offset).await?
            }
            _ => None,
        })
    }

    /// The page's query; with `count`, each row also carries the count of all matches
    /// (column `total`), so a list is one query. `start`: where an offset page starts
    /// ([`Store::offset_start`]).
    fn page_sql(
        backend: &str,
        merchant: MerchantId,
        q: &ListQuery,
        count: bool,
        start: Option<&(String, i64)>,
    ) -> Sql {
        let mut sql = Sql::new(&format!("SELECT {}{HAS_REGISTRATIONS}", columns(backend)));
        if count {
            sql.push(", (");
            Self::push_count(&mut sql, merchant, q);
            sql.push(") AS total");
        }
        sql.push(" FROM customers");
        Self::push_filters(&mut sql, merchant, q);
        match q.page {
            Page::Offset(mut offset) => {
                if let Some((upper, skip)) = start {
                    sql.push(" AND id <= ").bind(upper.clone());
                    offset = *skip;
                }
                sql.push(" ORDER BY id DESC LIMIT ")
                    .bind(q.limit + 1)
                    .push(" OFFSET ")
                    .bind(offset);
            }
            Page::After(cursor) => {
                Self::push_cursor_exists(&mut sql, merchant, cursor);
                sql.push(" AND id < ")
                    .bind(bare(cursor))
                    .push(" ORDER BY id DESC LIMIT ")
                    .bind(q.limit + 1);
            }
            Page::Before(cursor) => {
                Self::push_cursor_exists(&mut sql, merchant, cursor);
                sql.push(" AND id > ")
                    .bind(bare(cursor))
                    .push(" ORDER BY id ASC LIMIT ")
                    .bind(q.limit + 1);
            }
        }
        sql
    }

    /// A cursor must name a live customer of the merchant: a page from a cursor that does not
    /// is empty (the engine tests it once, not per row), and only an empty page costs the
    /// service a second query to tell the two apart ([`Store::customer_exists`]).
    pub(super) fn push_cursor_exists(sql: &mut Sql, merchant: MerchantId, cursor: CustomerId) {
        sql.push(" AND EXISTS (SELECT 1 FROM customers cur WHERE cur.merchant_id = ")
            .bind(mer(merchant))
            .push(" AND cur.id = ")
            .bind(bare(cursor))
            .push(" AND cur.deleted_at IS NULL)");
    }

    /// The SQL that counts the matches: a sum of maintained counters when the filters are
    /// ones the counters track (none or any of country, document type and status: one of them
    /// from `customer_counts`, two or three from the cells of `customer_cube`), else a
    /// `COUNT(*)` that the filter indexes serve (an email matches one row at most).
    fn count_sql(merchant: MerchantId, q: &ListQuery) -> Sql {
        let mut sql = Sql::new("");
        Self::push_count(&mut sql, merchant, q);
        sql
    }

    /// Appends the counting query of [`Store::count_sql`] to `sql`.
    fn push_count(sql: &mut Sql, merchant: MerchantId, q: &ListQuery) {
        let tracked = [
            ("country_code", &q.countries),
            ("document_type", &q.document_types),
            ("status", &q.statuses),
        ];
        let used: Vec<_> = tracked.iter().filter(|(_, v)| !v.is_empty()).collect();
        if registration_list::applies(q) {
            registration_list::push_count(sql, merchant, q);
            return;
        }
        if !q.emails.is_empty() || !q.registration.is_empty() {
            sql.push("SELECT COUNT(*) FROM customers");
            Self::push_filters(sql, merchant, q);
            return;
        }
        let sum = "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM ";
        if used.len() >= 2 {
            sql.push(&format!("{sum}customer_cube WHERE merchant_id = "))
                .bind(mer(merchant));
            for (col, values) in used {
                sql.push(" AND ").push(col).push(" IN ").bind_list(values);
            }
            return;
        }
        let (dim, values) = match used.first() {
            Some((dim, values)) => (*dim, (*values).clone()),
            None => ("all", vec![String::new()]),
        };
        sql.push(&format!("{sum}customer_counts WHERE merchant_id = "))
            .bind(mer(merchant))
            .push(" AND dim = ")
            .bind(dim.to_owned())
            .push(" AND value IN ")
            .bind_list(&values);
    }

    /// The count and rows of a page filtered by customer columns (or an email) only.
    async fn customer_page(
        conn: &mut sqlx::AnyConnection,
        merchant: MerchantId,
        q: &ListQuery,
    ) -> Result<(i64, Vec<sqlx::any::AnyRow>), StoreError> {
        let start = Self::offset_start(conn, merchant, q).await?;
        let (text, args) =
            Self::page_sql(conn.backend_name(), merchant, q, true, start.as_ref()).into_parts()?;
        let rows = sqlx::query_with(&text, args).fetch_all(&mut *conn).await?;
        let count: i64 = match rows.first() {
            Some(row) => row.try_get("total")?,
            // No row carries the count: ask for it alone.
            None => {
                let (text, args) = Self::count_sql(merchant, q).into_parts()?;
                sqlx::query_scalar_with(&text, args)
                    .fetch_one(&mut *conn)
                    .await?
            }
        };
        Ok((count, rows))
    }

    /// One page of customers, newest first, with the total count of matches.
    pub async fn list_customers(
        &self,
        merchant: MerchantId,
        q: &ListQuery,
    ) -> Result<ListPage, StoreError> {
        let key = crate::base::crypto::data_key(merchant)?;
        let q = &blind(q, &key);
        let mut conn = self.read.acquire().await?;
        let (count, rows) = if registration_list::applies(q) {
            registration_list::page(&mut conn, merchant, q).await?
        } else {
            Self::customer_page(&mut conn, merchant, q).await?
        };
        let with_registrations = rows
            .iter()
            .map(has_registrations)
            .collect::<Result<Vec<_>, _>>()?;
        let mut customers = rows
            .iter()
            .map(|r| customer_from_row(r, &key))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let has_more = customers.len() as i64 > q.limit;
        customers.truncate(usize::try_from(q.limit).unwrap_or(0));
        if matches!(q.page, Page::Before(_)) {
            customers.reverse();
        }
        if with_registrations.contains(&true) {
            attach_platforms(&mut conn, &mut customers).await?;
        }
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
        let mut conn = self.read.acquire().await?;
        let backend = self.backend_name();
        let sqls = if registration_list::applies(q) {
            let walk = registration_list::counts(&mut conn, merchant, q)
                .await?
                .walk(q);
            // The page's rows are looked up by the ids the walk found: a full page of them.
            let ids: Vec<String> = (0..=q.limit).map(|i| format!("{i:036}")).collect();
            vec![
                registration_list::ids_sql(backend, merchant, q, walk),
                registration_list::rows_sql(backend, merchant, &ids, q),
                Self::count_sql(merchant, q),
            ]
        } else {
            let start = Self::offset_start(&mut conn, merchant, q).await?;
            vec![
                Self::page_sql(backend, merchant, q, false, start.as_ref()),
                Self::count_sql(merchant, q),
            ]
        };
        drop(conn);
        for sql in sqls {
            let prefix = match self.dialect {
                Dialect::Sqlite => "EXPLAIN QUERY PLAN ",
                Dialect::Postgres => "EXPLAIN ",
            };
            let text = format!("{prefix}{}", sql.text());
            let (_, args) = sql.into_parts()?;
            let rows = sqlx::query_with(&text, args)
                .fetch_all(&mut *self.read.acquire().await?)
                .await?;
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
