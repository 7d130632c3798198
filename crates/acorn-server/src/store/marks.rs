//! Deep offsets of the unfiltered list without walking the index (SQLite). `customer_marks`
//! cuts each merchant's ids into ranges of about [`MARK_SIZE`] live customers: a row
//! `(merchant_id, upper, n)` counts the live customers whose id is in (the next lower `upper`,
//! `upper`]; the newest range is open (`upper` = [`OPEN`], after every id). A page at offset
//! `o` sums the ranges newest first to the one holding the `o`-th customer and walks from its
//! `upper` only the rest: at a million customers, a thousand counter rows and at most a range
//! of index entries instead of `o` entries.
//!
//! The ranges move in the transaction of every create and erasure (with the list counters,
//! `counts::apply_counts`). A range is closed at its newest id once it holds [`MARK_SIZE`]; on
//! SQLite the one writer makes that exact. PostgreSQL does not keep them (two writers could
//! close a range under each other) and walks its index.

use acorn_types::MerchantId;
use sqlx::{AnyConnection, Row};

use super::customers::mer;
use super::sql::Script;

/// The `upper` of the open range: sorts after every id (hex digits and `-`).
pub(crate) const OPEN: &str = "~";
/// How many live customers a range holds when it is closed.
pub(crate) const MARK_SIZE: i64 = 1024;
/// From this offset on a page starts from the marks; below it the index walk is cheaper.
pub(crate) const MARKS_FROM: i64 = 2048;

/// Whether the marks are kept on this connection's engine.
pub(crate) fn kept(backend: &str) -> bool {
    backend == "SQLite"
}

/// Pushes the statements adding each `(bare customer id, change)` to the range holding the id,
/// then closing the open range if a customer appeared and it is full (nothing where the engine
/// keeps no marks). Both run in the caller's transaction, in one round trip on SQLite.
pub(crate) fn push_adjust(script: &mut Script, merchant: MerchantId, moves: Vec<(String, i64)>) {
    let grew = moves.iter().any(|(_, change)| *change > 0);
    if moves.is_empty() || !script.keeps_marks() {
        return;
    }
    // Each id's range: the smallest upper at or above it (the open range when there is none).
    let sql = script.statement();
    sql.push("INSERT INTO customer_marks (merchant_id, upper, n) SELECT ")
        .bind(mer(merchant))
        .push(", COALESCE((SELECT MIN(m.upper) FROM customer_marks m WHERE m.merchant_id = ")
        .bind(mer(merchant))
        .push(&format!(
            " AND m.upper >= v.column1), '{OPEN}'), SUM(v.column2) FROM (VALUES "
        ));
    for (i, (id, change)) in moves.into_iter().enumerate() {
        sql.push(if i == 0 { "(" } else { ", (" });
        sql.bind(id).push(", ").bind(change).push(")");
    }
    // `WHERE true`: SQLite's parser needs it between a SELECT and an upsert clause.
    sql.push(
        ") AS v WHERE true GROUP BY 2 \
         ON CONFLICT (merchant_id, upper) DO UPDATE SET n = customer_marks.n + excluded.n",
    );
    if grew {
        // The newest live id is in the open range (it holds live customers, all newer than
        // every closed range): a full range closes there, and the next create opens a new one.
        script
            .statement()
            .push("UPDATE customer_marks SET upper = (SELECT MAX(id) FROM customers WHERE merchant_id = ")
            .bind(mer(merchant))
            .push(" AND deleted_at IS NULL) WHERE merchant_id = ")
            .bind(mer(merchant))
            .push(&format!(" AND upper = '{OPEN}' AND n >= {MARK_SIZE}"));
    }
}

/// Where the page at `offset` starts: the `upper` of the range holding the `offset`-th live
/// customer (newest first) and how many to skip from it. `None` when the engine keeps no marks
/// or the merchant has none. Past the last customer it names the oldest range, from which the
/// skip runs off the end.
pub(crate) async fn start_of(
    conn: &mut AnyConnection,
    merchant: MerchantId,
    offset: i64,
) -> Result<Option<(String, i64)>, sqlx::Error> {
    if !kept(conn.backend_name()) {
        return Ok(None);
    }
    let rows = sqlx::query(
        "SELECT upper, n FROM customer_marks WHERE merchant_id = $1 ORDER BY upper DESC",
    )
    .bind(mer(merchant))
    .fetch_all(&mut *conn)
    .await?;
    let mut before = 0;
    let mut last = None;
    for row in rows {
        let (upper, n): (String, i64) = (row.try_get(0)?, row.try_get(1)?);
        if before + n > offset {
            return Ok(Some((upper, offset - before)));
        }
        last = Some((upper, offset - before));
        before += n;
    }
    Ok(last)
}
