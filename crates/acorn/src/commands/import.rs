//! `acorn customers import FILE`: create every row of a CSV or JSON Lines file, several at a
//! time, safely re-runnable.
//!
//! - Each row is sent with the `Idempotency-Key` `acorn-import-<file hash>-<row>`, so running
//!   the same file again (after an interruption, say) replays the first answers instead of
//!   creating anyone twice.
//! - A row the server refuses (invalid data, an email already taken) is reported and the import
//!   goes on. Rate limiting (429) and passing failures (5xx, a dropped connection) are waited out
//!   and retried by the SDK; if they persist the import stops — it never reports them as failed
//!   rows — and the same command resumes it.
//! - Rows go out in batches (`POST /api/v1/customers/batch`, up to `--batch-size` rows and
//!   512 KiB each), every row still with its own key and its own answer: one request and one
//!   database transaction per batch instead of per row is what makes a bulk import fast. A
//!   batch the server refuses as a whole (too large, say) is sent again row by row, so only the
//!   offending row fails.
//! - Rows are read lazily and at most `--concurrency` batches are in flight, so memory does not
//!   grow with the file.

use acorn_sdk::types::{CustomerBatchItem, BATCH_MAX_ITEMS};
use acorn_sdk::{CustomerService, OakError};
use clap::Args;
use futures::StreamExt;
use serde::Serialize;
use std::path::PathBuf;

use super::config::Client;
use super::errors::reason_line;
use super::output;
use super::progress::Progress;
use super::report::Report;
use super::rows::{self, Format, Row};

/// `acorn customers import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A .csv file (header row of field names) or a .jsonl file (one customer object per line).
    file: PathBuf,
    /// Batches in flight at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256))]
    concurrency: u16,
    /// Rows per request (1 sends each row on its own to `POST /api/v1/customers`).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u16).range(1..=100))]
    batch_size: u16,
    /// Write one line per row (row, email, customer_id, error) to this CSV file.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// File format (default: from the extension).
    #[arg(long, value_enum)]
    format: Option<Format>,
}

/// What became of one row.
enum Outcome {
    Imported {
        row: u64,
        email: String,
        id: String,
    },
    Failed {
        row: u64,
        email: String,
        error: String,
    },
    /// The server kept failing for a reason that is not the row's: stop, resume later.
    Stop {
        row: u64,
        error: OakError,
    },
}

/// The end-of-run summary (`--json` prints it as is).
#[derive(Debug, Default, Serialize)]
struct Summary {
    file: String,
    rows: u64,
    imported: u64,
    failed: u64,
    seconds: f64,
    customers_per_second: f64,
    report: Option<String>,
}

/// First pass over the file: its hash (for the keys), its row count (for the ETA), and its
/// header checked before anything is sent; returns the read-only columns it will skip too.
async fn first_pass(path: PathBuf, format: Format) -> anyhow::Result<(String, u64, Vec<String>)> {
    tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let hash = rows::digest(&path)?;
        let (rows, ignored) = rows::open(&path, format)?;
        let mut total = 0u64;
        for row in rows {
            row?;
            total += 1;
        }
        Ok((hash, total, ignored))
    })
    .await?
}

/// Reads the file in a blocking thread, sending batches of up to `batch_size` rows; stops
/// quietly when the import stops (the receiver is gone).
fn spawn_reader(
    path: PathBuf,
    format: Format,
    batch_size: usize,
    tx: tokio::sync::mpsc::Sender<Vec<Row>>,
) -> tokio::task::JoinHandle<anyhow::Result<()>> {
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let (rows, _) = rows::open(&path, format)?;
        let mut batch = Batch::default();
        for row in rows {
            if let Some(full) = batch.add(row?, batch_size) {
                if tx.blocking_send(full).is_err() {
                    return Ok(()); // the import stopped
                }
            }
        }
        if !batch.rows.is_empty() {
            let _ = tx.blocking_send(batch.rows);
        }
        Ok(())
    })
}

/// Counts and reports each row's outcome until the rows run out, or returns the row and error
/// that stopped the import.
async fn drain<S>(
    outcomes: &mut S,
    progress: &mut Progress,
    summary: &mut Summary,
    mut report: Option<&mut Report>,
    first_failures: &mut Vec<String>,
) -> anyhow::Result<Option<(u64, OakError)>>
where
    S: futures::Stream<Item = Outcome> + Unpin,
{
    while let Some(outcome) = outcomes.next().await {
        match outcome {
            Outcome::Imported { row, email, id } => {
                summary.imported += 1;
                if let Some(r) = report.as_mut() {
                    r.write(row, &email, &id, "")?;
                }
            }
            Outcome::Failed { row, email, error } => {
                summary.failed += 1;
                if let Some(r) = report.as_mut() {
                    r.write(row, &email, "", &error)?;
                }
                if first_failures.len() < 10 {
                    first_failures.push(format!("row {row}: {error}"));
                }
            }
            Outcome::Stop { row, error } => return Ok(Some((row, error))),
        }
        progress.inc(1);
    }
    Ok(None)
}

/// Runs the import.
pub async fn run(client: &Client, args: ImportArgs) -> anyhow::Result<()> {
    let format = Format::of(&args.file, args.format)?;
    let (hash, total, ignored) = first_pass(args.file.clone(), format).await?;
    if !ignored.is_empty() {
        eprintln!("note: skipping read-only column(s): {}", ignored.join(", "));
    }
    let key_prefix = format!("acorn-import-{}", &hash[..32]);

    let mut report = match &args.report {
        Some(p) => Some(Report::create(p)?),
        None => None,
    };
    let concurrency = usize::from(args.concurrency);
    let batch_size = usize::from(args.batch_size).min(BATCH_MAX_ITEMS);
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<Row>>(concurrency * 2);
    let reader = spawn_reader(args.file.clone(), format, batch_size, tx);
    let customers = client.sdk.customers();
    let batches =
        futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (b, rx)) });
    // Boxed so that dropping it (when the import stops early) also drops the receiver, which
    // ends the reader thread.
    let mut outcomes = Box::pin(
        batches
            .map(|rows| import_batch(&customers, &key_prefix, rows))
            .buffer_unordered(concurrency)
            .flat_map(futures::stream::iter),
    );

    let mut progress = Progress::new("import", "rows", Some(total));
    let mut summary = Summary::default();
    let mut first_failures = Vec::new();
    let stopped = drain(
        &mut outcomes,
        &mut progress,
        &mut summary,
        report.as_mut(),
        &mut first_failures,
    )
    .await?;
    drop(outcomes);
    progress.finish();
    let read = reader.await?;
    if let Some(r) = report.as_mut() {
        r.flush()?;
    }
    if let Some((row, error)) = stopped {
        return Err(anyhow::Error::new(error).context(format!(
            "the import stopped at row {row} after {} rows, because the server kept failing \
             for a reason that is not the row's. Run the same command again to resume: rows \
             already imported are recognised by their Idempotency-Key and not created twice",
            summary.imported + summary.failed
        )));
    }
    read?;

    summary.file = args.file.display().to_string();
    summary.rows = summary.imported + summary.failed;
    summary.seconds = progress.elapsed().as_secs_f64();
    summary.customers_per_second = summary.imported as f64 / summary.seconds.max(1e-9);
    summary.report = args.report.as_ref().map(|p| p.display().to_string());
    print_summary(client, &summary, &first_failures)?;
    if summary.failed > 0 {
        anyhow::bail!(
            "{} of {} rows were not imported{}",
            summary.failed,
            summary.rows,
            match &summary.report {
                Some(r) => format!(" (see {r})"),
                None => " (list them all with --report FILE)".to_owned(),
            }
        );
    }
    Ok(())
}

/// Rows gathered for one request: at most `max` rows and about [`BATCH_BYTES`] of JSON.
#[derive(Default)]
struct Batch {
    rows: Vec<Row>,
    bytes: usize,
}

/// The JSON a batch may carry, well under the server's 1 MiB body limit.
const BATCH_BYTES: usize = 512 * 1024;

impl Batch {
    /// Adds `row`; returns a batch to send when one is full.
    fn add(&mut self, row: Row, max: usize) -> Option<Vec<Row>> {
        let size = row
            .request
            .as_ref()
            .map_or(0, |r| serde_json::to_vec(r).map_or(0, |v| v.len()) + 64);
        // Full by size: send what came before this row (this row starts the next batch).
        let flushed =
            (!self.rows.is_empty() && self.bytes + size > BATCH_BYTES).then(|| self.take());
        self.bytes += size;
        self.rows.push(row);
        // Full by count (a flush above leaves one row, which is below `max` unless `max` is 1,
        // and then the batch was empty before this row).
        flushed.or_else(|| (self.rows.len() >= max).then(|| self.take()))
    }

    fn take(&mut self) -> Vec<Row> {
        self.bytes = 0;
        std::mem::take(&mut self.rows)
    }
}

/// Sends one batch; rows that cannot become a request fail without being sent.
async fn import_batch(
    customers: &CustomerService,
    key_prefix: &str,
    rows: Vec<Row>,
) -> Vec<Outcome> {
    let mut out = Vec::with_capacity(rows.len());
    let mut sendable = Vec::with_capacity(rows.len());
    for row in rows {
        let email = row.email.unwrap_or_default();
        match row.request {
            Ok(request) => sendable.push((row.number, email, request)),
            Err(error) => out.push(Outcome::Failed {
                row: row.number,
                email,
                error,
            }),
        }
    }
    if sendable.is_empty() {
        return out;
    }
    let key = |row: u64| format!("{key_prefix}-{row}");
    let items: Vec<CustomerBatchItem> = sendable
        .iter()
        .map(|(row, _, request)| CustomerBatchItem {
            idempotency_key: Some(key(*row)),
            customer: request.clone(),
        })
        .collect();
    let answers = if items.len() == 1 {
        Err(None)
    } else {
        match customers.create_batch(&items).await {
            Ok(outcomes) => Ok(outcomes.into_iter().map(|o| o.result.map(|r| r.data.id))),
            // Refused as a whole (too large, say): send the rows one by one, so that only the
            // offending row fails.
            Err(e) if is_rows_fault(&e) => Err(None),
            Err(error) => Err(Some(error)),
        }
    };
    let answers: Vec<Result<String, OakError>> = match answers {
        Ok(answers) => answers.collect(),
        Err(Some(error)) => {
            out.push(Outcome::Stop {
                row: sendable[0].0,
                error,
            });
            return out;
        }
        Err(None) => {
            let mut each = Vec::with_capacity(sendable.len());
            for (row, _, request) in &sendable {
                let r = customers
                    .create_with_idempotency_key(request, &key(*row))
                    .await;
                each.push(r.map(|c| c.data.id));
            }
            each
        }
    };
    for ((row, email, _), answer) in sendable.into_iter().zip(answers) {
        out.push(match answer {
            Ok(id) => Outcome::Imported { row, email, id },
            Err(e) if is_rows_fault(&e) => Outcome::Failed {
                row,
                email,
                error: describe(&e),
            },
            Err(error) => Outcome::Stop { row, error },
        });
    }
    out
}

/// Whether the server refused this row for what it contains (as opposed to being unavailable,
/// rate limiting after every retry, or refusing our credentials).
fn is_rows_fault(e: &OakError) -> bool {
    match e {
        OakError::Api { status, .. } => {
            status.is_client_error() && ![401, 403, 408, 409, 429].contains(&status.as_u16())
        }
        OakError::InvalidArgument(_) => true,
        _ => false,
    }
}

/// `msg: reason; reason` for the report.
fn describe(e: &OakError) -> String {
    let reasons: Vec<String> = e.failure_reasons().iter().map(reason_line).collect();
    match (e.msg(), reasons.is_empty()) {
        (Some(msg), false) => format!("{msg}: {}", reasons.join("; ")),
        (Some(msg), true) => msg.to_owned(),
        (None, _) => e.to_string(),
    }
}

fn print_summary(client: &Client, s: &Summary, first_failures: &[String]) -> anyhow::Result<()> {
    if client.json {
        return output::print_json(s);
    }
    for line in first_failures {
        eprintln!("{line}");
    }
    if s.failed as usize > first_failures.len() && s.report.is_none() {
        eprintln!("… and {} more", s.failed as usize - first_failures.len());
    }
    let mut text = format!(
        "Imported {} of {} rows from {} in {:.2} s ({:.0} customers/s)",
        s.imported, s.rows, s.file, s.seconds, s.customers_per_second
    );
    if s.failed > 0 {
        text.push_str(&format!("; {} failed", s.failed));
    }
    if let Some(r) = &s.report {
        text.push_str(&format!("; report: {r}"));
    }
    text.push('\n');
    output::write_stdout(&text)?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use acorn_types::ErrorEnvelope;
    use std::time::Duration;

    fn api(status: u16, reasons: serde_json::Value) -> OakError {
        let body: ErrorEnvelope = serde_json::from_value(serde_json::json!({
            "msg": "Validation failed", "error_code": "validation_error",
            "failure_reasons": reasons, "data": null
        }))
        .unwrap();
        OakError::Api {
            status: reqwest::StatusCode::from_u16(status).unwrap(),
            body: Box::new(body),
            headers: Box::default(),
        }
    }

    #[test]
    fn only_refusals_of_the_row_itself_are_failed_rows() {
        for status in [400, 404, 413, 415, 422] {
            assert!(
                is_rows_fault(&api(status, serde_json::json!([]))),
                "{status}"
            );
        }
        // Credentials, conflicts (a key still in flight), rate limits and server trouble stop
        // the import instead: the same command resumes it.
        for status in [401, 403, 408, 409, 429, 500, 502, 503] {
            assert!(
                !is_rows_fault(&api(status, serde_json::json!([]))),
                "{status}"
            );
        }
        assert!(!is_rows_fault(&OakError::Timeout(Duration::from_secs(1))));
        assert!(is_rows_fault(&OakError::InvalidArgument("x".into())));
    }

    fn row(number: u64, first_name_len: usize) -> Row {
        Row {
            number,
            email: None,
            request: Ok(acorn_sdk::types::CustomerRequest {
                email: Some(format!("r{number}@example.com")),
                first_name: Some("x".repeat(first_name_len)),
                ..Default::default()
            }),
        }
    }

    fn numbers(rows: &[Row]) -> Vec<u64> {
        rows.iter().map(|r| r.number).collect()
    }

    #[test]
    fn batches_close_on_count_and_on_size() {
        let mut b = Batch::default();
        assert!(b.add(row(1, 10), 3).is_none());
        assert!(b.add(row(2, 10), 3).is_none());
        assert_eq!(numbers(&b.add(row(3, 10), 3).unwrap()), [1, 2, 3]);
        assert!(b.rows.is_empty());
        // A row that would take the batch past the byte budget starts the next one.
        assert!(b.add(row(4, 300 * 1024), 100).is_none());
        assert_eq!(numbers(&b.add(row(5, 300 * 1024), 100).unwrap()), [4]);
        assert_eq!(numbers(&b.rows), [5]);
        // A single row over the budget still goes (alone); the server judges it.
        let mut b = Batch::default();
        assert!(b.add(row(6, 600 * 1024), 100).is_none());
        assert_eq!(numbers(&b.add(row(7, 1), 100).unwrap()), [6]);
        // One row per request.
        let mut b = Batch::default();
        assert_eq!(numbers(&b.add(row(8, 1), 1).unwrap()), [8]);
        assert_eq!(numbers(&b.add(row(9, 1), 1).unwrap()), [9]);
    }

    #[test]
    fn a_failed_row_is_described_by_msg_and_reasons() {
        let e = api(
            422,
            serde_json::json!([{"code": "invalid_input", "message": "bad", "fields": ["email"]}]),
        );
        assert_eq!(
            describe(&e),
            "Validation failed: email: bad (invalid_input)"
        );
        assert_eq!(
            describe(&api(400, serde_json::json!([]))),
            "Validation failed"
        );
    }
}
