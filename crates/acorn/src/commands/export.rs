//! `acorn customers export`: every matching customer as CSV or JSON Lines, to stdout or a file.
//!
//! Memory stays flat however many customers there are: the SDK's `list_all` stream holds one
//! cursor page (`--page-size`, at most 100 customers) at a time, and each customer is written
//! out as soon as it arrives, through a buffered writer. Nothing accumulates.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use acorn_sdk::types::{Customer, ListParams};
use anyhow::Context;
use clap::Args;
use futures::TryStreamExt;
use serde_json::Value;

use super::config::Client;
use super::customers::FilterArgs;
use super::fields::export_columns;
use super::progress::Progress;
use super::rows::Format;

/// `acorn customers export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// csv (a header row of the customer's API field names) or jsonl (each customer exactly as the
    /// API returns it). Default: from the --output extension, else csv.
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Write here instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Customers fetched per request (1–100).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100))]
    page_size: u32,
    #[command(flatten)]
    filters: FilterArgs,
}

/// Writes customers in one format.
enum Sink {
    Csv {
        writer: Box<csv::Writer<Box<dyn Write>>>,
        columns: Vec<&'static str>,
    },
    Jsonl(BufWriter<Box<dyn Write>>),
}

impl Sink {
    fn new(format: Format, out: Box<dyn Write>) -> anyhow::Result<Self> {
        Ok(match format {
            Format::Csv => {
                let columns = export_columns();
                let mut writer = Box::new(csv::Writer::from_writer(out));
                writer.write_record(&columns)?;
                Sink::Csv { writer, columns }
            }
            Format::Jsonl => Sink::Jsonl(BufWriter::new(out)),
        })
    }

    fn write(&mut self, customer: &Customer) -> anyhow::Result<()> {
        match self {
            Sink::Csv { writer, columns } => {
                let value = serde_json::to_value(customer)?;
                let cells = columns
                    .iter()
                    .map(|c| csv_cell(value.get(*c).unwrap_or(&Value::Null)));
                writer.write_record(cells)?;
            }
            Sink::Jsonl(w) => {
                serde_json::to_writer(&mut *w, customer)?;
                w.write_all(b"\n")?;
            }
        }
        Ok(())
    }

    fn finish(self) -> anyhow::Result<()> {
        match self {
            Sink::Csv { mut writer, .. } => writer.flush()?,
            Sink::Jsonl(mut w) => w.flush()?,
        }
        Ok(())
    }
}

/// A CSV cell: empty for null, strings bare, anything else as JSON (`12.5`, `true`, `{…}`).
fn csv_cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Runs the export.
pub async fn run(client: &Client, args: ExportArgs) -> anyhow::Result<()> {
    let format = match (&args.format, &args.output) {
        (Some(f), _) => *f,
        (None, Some(path)) => Format::of(path, None).unwrap_or(Format::Csv),
        (None, None) => Format::Csv,
    };
    let customers = client.sdk.customers();
    let filters = args.filters.params();
    // How many to expect, for the progress bar (the set may change while it runs).
    let probe = ListParams {
        limit: Some(1),
        ..filters.clone()
    };
    let expected = customers.list(&probe).await?.data.count;

    let out: Box<dyn Write> = match &args.output {
        Some(path) => {
            Box::new(File::create(path).with_context(|| format!("creating {}", path.display()))?)
        }
        None => Box::new(io::stdout()),
    };
    let mut sink = Sink::new(format, out)?;
    let mut progress = Progress::new("export", "customers", Some(expected));
    let params = ListParams {
        limit: Some(args.page_size),
        ..filters
    };
    let mut all = std::pin::pin!(customers.list_all(params));
    let mut written = 0u64;
    while let Some(customer) = all.try_next().await? {
        sink.write(&customer)?;
        written += 1;
        progress.inc(1);
    }
    sink.finish()?;
    progress.finish();
    let secs = progress.elapsed().as_secs_f64();
    let target = args
        .output
        .as_ref()
        .map_or("stdout".to_owned(), |p| p.display().to_string());
    eprintln!(
        "Exported {written} customers to {target} in {secs:.2} s ({:.0} customers/s)",
        written as f64 / secs.max(1e-9)
    );
    Ok(())
}
