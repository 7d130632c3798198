//! The per-customer extras of `acorn customers`: sync, balances, document upload and download,
//! and populate platform.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use acorn_sdk::types::{
    BalanceFilter, CustomerFile, FileType, PlatformRequest, Provider, SyncField, SyncRequest,
    TargetRole,
};
use acorn_sdk::FileUpload;
use anyhow::Context;
use clap::Args;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::config::Client;
use super::output::{self, Table};
use super::{fields, registrations};

/// `acorn customers sync`.
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Customer id.
    id: String,
    /// The provider to push to (the customer must be registered with it).
    #[arg(long)]
    provider: Provider,
    /// Fields to push, comma-separated: email, first_name, last_name, phone, shipping.
    #[arg(long, value_delimiter = ',', required = true)]
    fields: Vec<SyncField>,
}

/// `acorn customers balances`.
#[derive(Debug, Args)]
pub struct BalancesArgs {
    /// Customer id.
    id: String,
    /// Only these providers (comma-separated).
    #[arg(long, value_delimiter = ',')]
    provider: Vec<Provider>,
    /// Only these roles (comma-separated).
    #[arg(long, value_delimiter = ',')]
    role: Vec<TargetRole>,
}

/// `acorn customers upload`.
#[derive(Debug, Args)]
pub struct UploadArgs {
    /// Customer id.
    id: String,
    /// Document type: SSN_BACK, SSN_FRONT, CPF_DOCUMENT, PASSPORT, ADDRESS_PROOF.
    #[arg(long = "type", value_name = "TYPE")]
    file_type: FileType,
    /// The files (all or nothing: one bad file stores none).
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// `acorn customers files`.
#[derive(Debug, Args)]
pub struct FilesArgs {
    /// Customer id.
    id: String,
    /// Also download every file into this directory (checked against its SHA-256).
    #[arg(long, value_name = "DIR")]
    download: Option<PathBuf>,
}

/// `acorn customers populate`.
#[derive(Debug, Args)]
pub struct PopulateArgs {
    /// Customer id.
    id: String,
    /// The provider.
    #[arg(long)]
    provider: Provider,
    /// The role at that provider.
    #[arg(long)]
    role: TargetRole,
    /// Provider data as KEY=VALUE (values are strings).
    #[arg(value_name = "KEY=VALUE", value_parser = fields::key_value)]
    data: Vec<(String, String)>,
}

/// Schedules a sync and says so.
pub async fn sync(client: &Client, a: SyncArgs) -> anyhow::Result<()> {
    let request = SyncRequest::new(a.provider, a.fields);
    let answer = client.sdk.customers().sync(&a.id, &request).await?;
    if client.json {
        return output::print_json(&answer.data);
    }
    output::write_stdout(&format!(
        "{} (see `acorn events --event customer.sync.succeeded,customer.sync.failed`)\n",
        answer.msg
    ))?;
    Ok(())
}

/// One row per account and currency.
pub async fn balances(client: &Client, a: BalancesArgs) -> anyhow::Result<()> {
    let filter = BalanceFilter {
        provider: a.provider,
        role: a.role,
    };
    let data = client.sdk.customers().balance(&a.id, &filter).await?.data;
    if client.json {
        return output::print_json(&data);
    }
    let mut table = Table::new(&[
        "ACCOUNT",
        "PROVIDER",
        "ROLE",
        "CURRENCY",
        "AVAILABLE",
        "PENDING",
        "RESERVED",
        "INSTANT_PAYOUTS",
    ]);
    for b in &data.balances {
        let head = [
            b.account_id.clone(),
            b.provider.to_string(),
            b.customer.role.to_string(),
        ];
        if b.totals.is_empty() {
            let none = output::NONE.to_owned();
            table.row([&head[..], &vec![none; 5]].concat());
        }
        for t in &b.totals {
            let amounts = [t.available, t.pending, t.reserved, t.instant_payouts];
            let cells = std::iter::once(t.currency.clone()).chain(amounts.map(|n| n.to_string()));
            table.row(head.iter().cloned().chain(cells).collect());
        }
    }
    table.print()?;
    Ok(())
}

/// Uploads the files and lists what was stored.
pub async fn upload(client: &Client, a: UploadArgs) -> anyhow::Result<()> {
    let mut uploads = Vec::with_capacity(a.files.len());
    for path in &a.files {
        uploads.push(FileUpload::from_path(path).await?);
    }
    let stored = client
        .sdk
        .customers()
        .upload_files(&a.id, a.file_type, uploads)
        .await?
        .data;
    show_files(client, &stored, &[])
}

/// Lists the files, downloading them first when asked.
pub async fn files(client: &Client, a: FilesArgs) -> anyhow::Result<()> {
    let files = client.sdk.customers().get_files(&a.id).await?.data;
    let saved = match &a.download {
        Some(dir) => download(&files, dir).await?,
        None => Vec::new(),
    };
    show_files(client, &files, &saved)
}

/// Creates or updates the registration and shows every registration of the customer.
pub async fn populate(client: &Client, a: PopulateArgs) -> anyhow::Result<()> {
    let mut request = PlatformRequest::new(a.provider, a.role);
    for (key, value) in a.data {
        request.extra.insert(key, Value::String(value));
    }
    let regs = client
        .sdk
        .customers()
        .populate_platform(&a.id, &request)
        .await?
        .data;
    registrations::show(client, &regs)
}

fn show_files(client: &Client, files: &[CustomerFile], saved: &[PathBuf]) -> anyhow::Result<()> {
    if client.json {
        return output::print_json(&files);
    }
    let mut headers = vec!["ID", "TYPE", "NAME", "CONTENT_TYPE", "SIZE", "CREATED_AT"];
    if !saved.is_empty() {
        headers.push("SAVED_AS");
    }
    let mut table = Table::new(&headers);
    for (i, f) in files.iter().enumerate() {
        let mut row = vec![
            f.id.clone(),
            f.file_type.to_string(),
            f.name.clone(),
            f.content_type.clone(),
            f.size.to_string(),
            f.created_at.clone(),
        ];
        if let Some(path) = saved.get(i) {
            row.push(path.display().to_string());
        }
        table.row(row);
    }
    table.print()?;
    Ok(())
}

/// Fetches each file through its signed link (a link needs no token: it is a plain download,
/// not an API call) into `dir`, under its own name (prefixed with its id when two files share
/// a name), and checks the bytes against the listed SHA-256.
async fn download(files: &[CustomerFile], dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    tokio::fs::create_dir_all(dir)
        .await
        .with_context(|| format!("creating {}", dir.display()))?;
    let http = reqwest::Client::new();
    let mut used = HashSet::new();
    let mut saved = Vec::with_capacity(files.len());
    for f in files {
        let base = Path::new(&f.name)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| f.id.clone());
        let name = if used.insert(base.clone()) {
            base
        } else {
            format!("{}-{base}", f.id)
        };
        let response = http
            .get(&f.url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .with_context(|| format!("downloading {}", f.id))?;
        let bytes = response
            .bytes()
            .await
            .with_context(|| format!("downloading {}", f.id))?;
        if hex::encode(Sha256::digest(&bytes)) != f.sha256 {
            anyhow::bail!("{}: the downloaded bytes do not match its sha256", f.id);
        }
        let path = dir.join(name);
        tokio::fs::write(&path, &bytes)
            .await
            .with_context(|| format!("writing {}", path.display()))?;
        saved.push(path);
    }
    Ok(saved)
}
