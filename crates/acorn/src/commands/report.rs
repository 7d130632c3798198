//! The per-row report of `acorn customers import --report FILE`.

use std::path::Path;

use anyhow::Context;

/// The per-row report: `row,email,customer_id,error`, in the order rows finished.
pub struct Report {
    writer: csv::Writer<std::fs::File>,
}

impl Report {
    /// Creates the file and writes its header.
    pub fn create(path: &Path) -> anyhow::Result<Self> {
        let mut writer = csv::Writer::from_path(path)
            .with_context(|| format!("creating the report {}", path.display()))?;
        writer.write_record(["row", "email", "customer_id", "error"])?;
        Ok(Self { writer })
    }

    /// One row: its number, its email, and the new customer's id or the error.
    pub fn write(&mut self, row: u64, email: &str, id: &str, error: &str) -> anyhow::Result<()> {
        let row = row.to_string();
        Ok(self.writer.write_record([row.as_str(), email, id, error])?)
    }

    /// Flushes what is buffered.
    pub fn flush(&mut self) -> anyhow::Result<()> {
        Ok(self.writer.flush()?)
    }
}
