//! What the client commands print on stdout: aligned tables for people, the API's `data` as
//! JSON for scripts. Writes go through `io::Write` so a closed pipe is an error, not a panic.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::Value;

/// Printed for an absent value in a table cell.
pub const NONE: &str = "-";

/// A table with a header row; every column but the last is padded to its widest cell.
#[derive(Debug, Default)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers.
    pub fn new(headers: &[&str]) -> Self {
        Self {
            headers: headers.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (one cell per header).
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The rendered table, one line per row, each ending in a newline.
    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| width(h)).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(width(cell));
                }
            }
        }
        let mut out = String::new();
        for row in std::iter::once(&self.headers).chain(&self.rows) {
            let last = row.len().saturating_sub(1);
            for (i, cell) in row.iter().enumerate() {
                out.push_str(cell);
                if i < last {
                    let pad = widths.get(i).copied().unwrap_or(0) - width(cell) + 2;
                    out.push_str(&" ".repeat(pad));
                }
            }
            out.push('\n');
        }
        out
    }

    /// Prints the table on stdout.
    pub fn print(&self) -> io::Result<()> {
        write_stdout(&self.render())
    }
}

fn width(s: &str) -> usize {
    s.chars().count()
}

/// Writes `text` to stdout as is.
pub fn write_stdout(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// Prints `data` as pretty JSON on stdout.
pub fn print_json<T: Serialize>(data: &T) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(data)?;
    text.push('\n');
    Ok(write_stdout(&text)?)
}

/// A cell for an optional value.
pub fn opt(value: Option<&str>) -> String {
    value.unwrap_or(NONE).to_owned()
}

/// A JSON value as one line of text: strings bare, `null` as [`NONE`], the rest as JSON.
pub fn value_text(value: &Value) -> String {
    match value {
        Value::Null => NONE.to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Prints `FIELD  value` lines for the fields of `object` named in `order`, leaving out null
/// ones; `render_field` may replace how a field is shown (`None`: [`value_text`]).
pub fn print_object(
    object: &Value,
    order: &[&str],
    render_field: impl Fn(&str, &Value) -> Option<String>,
) -> io::Result<()> {
    let mut table = Table::new(&["FIELD", "VALUE"]);
    for key in order {
        let Some(value) = object.get(key).filter(|v| !v.is_null()) else {
            continue;
        };
        let text = render_field(key, value).unwrap_or_else(|| value_text(value));
        table.row(vec![(*key).to_owned(), text]);
    }
    table.print()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_and_the_last_is_not_padded() {
        let mut t = Table::new(&["ID", "EMAIL", "STATUS"]);
        t.row(vec!["cus_1".into(), "a@b.co".into(), "APPROVED".into()]);
        t.row(vec!["cus_22".into(), "é@b.co".into(), NONE.into()]);
        assert_eq!(
            t.render(),
            "ID      EMAIL   STATUS\ncus_1   a@b.co  APPROVED\ncus_22  é@b.co  -\n"
        );
    }

    #[test]
    fn values_print_as_one_line() {
        assert_eq!(value_text(&Value::Null), "-");
        assert_eq!(value_text(&serde_json::json!("x")), "x");
        assert_eq!(value_text(&serde_json::json!({"a": 1})), r#"{"a":1}"#);
    }
}
