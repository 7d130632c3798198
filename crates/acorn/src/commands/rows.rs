//! Reading an import file, one row at a time: CSV (a header row of the contract's field names)
//! or JSON Lines (one customer object per line). A row that cannot become a request is kept as
//! an error for the report; only an unusable file (unreadable, unknown columns) stops the import.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use acorn_types::customer::writable_field;
use acorn_types::CustomerRequest;
use anyhow::Context;
use clap::ValueEnum;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::fields;

/// An import or export file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

impl Format {
    /// `explicit`, or else the format named by the file's extension.
    pub fn of(path: &Path, explicit: Option<Format>) -> anyhow::Result<Format> {
        if let Some(f) = explicit {
            return Ok(f);
        }
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        match ext.to_ascii_lowercase().as_str() {
            "csv" => Ok(Format::Csv),
            "jsonl" | "ndjson" => Ok(Format::Jsonl),
            _ => anyhow::bail!(
                "cannot tell the format of {} from its extension: use .csv or .jsonl, or --format",
                path.display()
            ),
        }
    }
}

/// One row of the file.
#[derive(Debug)]
pub struct Row {
    /// CSV: the record's position after the header (the first record is 1). JSON Lines: the
    /// line number.
    pub number: u64,
    /// The row's email, when it has one (for the report).
    pub email: Option<String>,
    /// The create request, or why the row cannot be sent.
    pub request: Result<CustomerRequest, String>,
}

/// The rows of a file, read lazily.
pub type Rows = Box<dyn Iterator<Item = anyhow::Result<Row>> + Send>;

/// The file's SHA-256 in hex.
pub fn digest(path: &Path) -> anyhow::Result<String> {
    let mut file = open_file(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file
            .read(&mut buf)
            .with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            return Ok(hex::encode(hasher.finalize()));
        }
        hasher.update(&buf[..n]);
    }
}

/// Opens `path` for reading its rows. Returns the rows and the read-only columns or keys that
/// will be skipped (an export's `id`, `status`, … — CSV only; JSON Lines skips them silently).
pub fn open(path: &Path, format: Format) -> anyhow::Result<(Rows, Vec<String>)> {
    let file = open_file(path)?;
    match format {
        Format::Csv => csv_rows(file),
        Format::Jsonl => Ok((Box::new(jsonl_rows(BufReader::new(file))), Vec::new())),
    }
}

fn open_file(path: &Path) -> anyhow::Result<File> {
    File::open(path).with_context(|| format!("opening {}", path.display()))
}

fn csv_rows(file: File) -> anyhow::Result<(Rows, Vec<String>)> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(file);
    let headers: Vec<String> = reader
        .headers()
        .context("reading the CSV header")?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    let mut columns: Vec<Option<String>> = Vec::with_capacity(headers.len());
    let (mut ignored, mut unknown) = (Vec::new(), Vec::new());
    for h in &headers {
        if writable_field(h).is_some() {
            if columns.iter().flatten().any(|c| c == h) {
                anyhow::bail!("column {h} appears twice in the CSV header");
            }
            columns.push(Some(h.clone()));
        } else {
            if fields::is_read_only(h) {
                ignored.push(h.clone());
            } else {
                unknown.push(h.clone());
            }
            columns.push(None);
        }
    }
    if !unknown.is_empty() {
        anyhow::bail!(
            "unknown CSV column(s): {}. Headers are the customer's API field names \
             (email, first_name, last_name, country_code, …; docs/api.md lists them)",
            unknown.join(", ")
        );
    }
    if !columns.iter().flatten().any(|c| c == "email") {
        anyhow::bail!("the CSV header has no email column (every customer needs one)");
    }
    let width = headers.len();
    let rows = reader
        .into_records()
        .zip(1u64..)
        .map(move |(record, number)| {
            let record = record.with_context(|| format!("reading CSV row {number}"))?;
            let mut request = CustomerRequest::default();
            let mut problems = Vec::new();
            if record.len() != width {
                problems.push(format!("has {} cells, the header {width}", record.len()));
            }
            for (cell, column) in record.iter().zip(&columns) {
                let Some(name) = column else { continue };
                if cell.trim().is_empty() {
                    continue;
                }
                if let Err(e) = fields::set(&mut request, name, Value::String(cell.to_owned())) {
                    problems.push(e);
                }
            }
            Ok(row(number, request, problems))
        });
    Ok((Box::new(rows), ignored))
}

fn jsonl_rows(reader: impl BufRead + Send + 'static) -> impl Iterator<Item = anyhow::Result<Row>> {
    reader
        .lines()
        .zip(1u64..)
        .filter_map(|(line, number)| match line {
            Err(e) => Some(Err(
                anyhow::Error::new(e).context(format!("reading line {number}"))
            )),
            Ok(l) if l.trim().is_empty() => None,
            Ok(l) => Some(Ok(jsonl_row(number, &l))),
        })
}

fn jsonl_row(number: u64, line: &str) -> Row {
    let mut request = CustomerRequest::default();
    let object = match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(map)) => map,
        Ok(_) => return row(number, request, vec!["not a JSON object".into()]),
        Err(e) => return row(number, request, vec![format!("invalid JSON: {e}")]),
    };
    let mut problems = Vec::new();
    for (key, value) in object {
        if value.is_null() || fields::is_read_only(&key) {
            continue;
        }
        if let Err(e) = fields::set(&mut request, &key, value) {
            problems.push(e);
        }
    }
    row(number, request, problems)
}

fn row(number: u64, request: CustomerRequest, problems: Vec<String>) -> Row {
    Row {
        number,
        email: request.email.clone(),
        request: if problems.is_empty() {
            Ok(request)
        } else {
            Err(problems.join("; "))
        },
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file(text: &str, ext: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::Builder::new().suffix(ext).tempfile().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    fn read(f: &tempfile::NamedTempFile) -> Vec<Row> {
        let format = Format::of(f.path(), None).unwrap();
        let (rows, _) = open(f.path(), format).unwrap();
        rows.map(Result::unwrap).collect()
    }

    #[test]
    fn csv_rows_skip_empty_cells_and_read_only_columns() {
        let f = file(
            "id,email,first_name,monthly_net_income\ncus_1,a@b.co,,12\ncus_2,c@d.co,Cy,lots\n",
            ".csv",
        );
        let (_, ignored) = open(f.path(), Format::Csv).unwrap();
        assert_eq!(ignored, ["id"]);
        let rows = read(&f);
        assert_eq!(rows.len(), 2);
        let r = rows[0].request.as_ref().unwrap();
        assert_eq!(r.field_names(), ["email", "monthly_net_income"]);
        assert_eq!(rows[1].number, 2);
        assert_eq!(rows[1].email.as_deref(), Some("c@d.co"));
        assert!(rows[1]
            .request
            .as_ref()
            .unwrap_err()
            .contains("monthly_net_income"));
    }

    #[test]
    fn unusable_csv_headers_stop_before_any_row() {
        let err = open(file("email,shoe_size\n", ".csv").path(), Format::Csv).err();
        assert!(err.unwrap().to_string().contains("shoe_size"));
        assert!(open(file("first_name\n", ".csv").path(), Format::Csv).is_err());
    }

    #[test]
    fn jsonl_rows_number_lines_and_keep_bad_lines_as_errors() {
        let f = file(
            "{\"email\":\"a@b.co\",\"status\":\"APPROVED\",\"city\":null}\n\n[1]\n{oops\n",
            ".jsonl",
        );
        let rows = read(&f);
        assert_eq!(rows.iter().map(|r| r.number).collect::<Vec<_>>(), [1, 3, 4]);
        assert_eq!(rows[0].request.as_ref().unwrap().field_names(), ["email"]);
        assert!(rows[1].request.is_err());
        assert!(rows[2]
            .request
            .as_ref()
            .unwrap_err()
            .contains("invalid JSON"));
    }

    #[test]
    fn format_comes_from_the_extension_unless_given() {
        assert_eq!(Format::of(Path::new("a.CSV"), None).unwrap(), Format::Csv);
        assert_eq!(
            Format::of(Path::new("a.ndjson"), None).unwrap(),
            Format::Jsonl
        );
        assert!(Format::of(Path::new("a.txt"), None).is_err());
        let given = Format::of(Path::new("a.txt"), Some(Format::Jsonl)).unwrap();
        assert_eq!(given, Format::Jsonl);
    }
}
