//! `acorn customers …`: the customers endpoints, one subcommand each, plus bulk import and
//! export. Create, get, list and update live here; the per-customer extras in [`super::kyc`].

use std::collections::BTreeSet;

use acorn_sdk::types::{
    Customer, CustomerRequest, CustomerStatus, DocumentType, ListParams, Provider,
    RegistrationStatus, TargetRole,
};
use clap::{Args, Subcommand};
use futures::TryStreamExt;
use serde_json::Value;

use super::config::{self, Client, ClientArgs};
use super::errors::UsageError;
use super::output::{self, opt, Table};
use super::{export, fields, import, kyc};

/// `acorn customers`.
#[derive(Debug, Args)]
pub struct CustomersArgs {
    #[command(flatten)]
    client: ClientArgs,
    #[command(subcommand)]
    command: CustomersCommand,
}

#[derive(Debug, Subcommand)]
enum CustomersCommand {
    /// Create a customer (only --email is required).
    Create(ProfileArgs),
    /// Show one customer.
    Get {
        /// Customer id (`cus_…`).
        id: String,
    },
    /// List customers, newest first.
    List(ListArgs),
    /// Erase a customer on request: personal data and files gone, registrations kept.
    Delete {
        /// Customer id (`cus_…`).
        id: String,
    },
    /// Change a customer's fields (those not given stay as they are).
    Update {
        /// Customer id.
        id: String,
        #[command(flatten)]
        profile: ProfileArgs,
        /// Clear this field (send null); repeatable.
        #[arg(long, value_name = "FIELD")]
        clear: Vec<String>,
    },
    /// Push fields to a provider (asynchronous: the answer means "scheduled").
    Sync(kyc::SyncArgs),
    /// Balances at the customer's provider accounts.
    Balances(kyc::BalancesArgs),
    /// Upload documents of one type (PDF, JPEG or PNG, at most 5 MiB each).
    Upload(kyc::UploadArgs),
    /// List a customer's files, optionally downloading them.
    Files(kyc::FilesArgs),
    /// Create a provider registration (if missing) and merge provider data into it.
    Populate(kyc::PopulateArgs),
    /// Create customers from a CSV or JSON Lines file (headers/keys: the API's customer field
    /// names, e.g. email, first_name; docs/api.md lists them).
    Import(import::ImportArgs),
    /// Write every matching customer as CSV or JSON Lines, page by page.
    Export(export::ExportArgs),
}

/// Fields of a create or update: the common ones as flags, any other as `--field KEY=VALUE`.
#[derive(Debug, Args)]
struct ProfileArgs {
    /// Email address (required on create).
    #[arg(long)]
    email: Option<String>,
    /// First name.
    #[arg(long)]
    first_name: Option<String>,
    /// Last name.
    #[arg(long)]
    last_name: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    #[arg(long)]
    country_code: Option<String>,
    /// Any writable field by its API name (as in the JSON; docs/api.md lists them), e.g.
    /// `--field dob=1990-01-31`; repeatable.
    #[arg(long = "field", value_name = "KEY=VALUE", value_parser = fields::key_value)]
    fields: Vec<(String, String)>,
}

impl ProfileArgs {
    fn request(&self) -> anyhow::Result<CustomerRequest> {
        let mut request = CustomerRequest::default();
        let flags = [
            ("email", &self.email),
            ("first_name", &self.first_name),
            ("last_name", &self.last_name),
            ("country_code", &self.country_code),
        ];
        let given = flags
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| ((*k).to_owned(), v.clone())));
        for (key, value) in given.chain(self.fields.iter().cloned()) {
            fields::set(&mut request, &key, Value::String(value))
                .map_err(|e| anyhow::anyhow!("--field {key}: {e}"))?;
        }
        Ok(request)
    }
}

impl ProfileArgs {
    /// The request of a create, which needs an email.
    fn create_request(&self) -> anyhow::Result<CustomerRequest> {
        let request = self.request()?;
        if request.email.is_none() {
            return Err(UsageError::new(
                &["customers", "create"],
                "--email is required to create a customer (or --field email=…)",
            )
            .into());
        }
        Ok(request)
    }
}

/// List filters, shared by `list` and `export`. Each takes a comma-separated list (OR-ed);
/// different filters are AND-ed.
#[derive(Debug, Args)]
pub struct FilterArgs {
    /// Exact email addresses (case-insensitive).
    #[arg(long, value_delimiter = ',')]
    email: Vec<String>,
    /// Country codes.
    #[arg(long, value_delimiter = ',')]
    country_code: Vec<String>,
    /// Document types.
    #[arg(long, value_delimiter = ',')]
    document_type: Vec<DocumentType>,
    /// Providers the customer is registered with.
    #[arg(long, value_delimiter = ',')]
    provider: Vec<Provider>,
    /// Roles of that registration.
    #[arg(long, value_delimiter = ',')]
    target_role: Vec<TargetRole>,
    /// Statuses of that registration.
    #[arg(long, value_delimiter = ',')]
    registration_status: Vec<RegistrationStatus>,
    /// Customer statuses.
    #[arg(long, value_delimiter = ',')]
    status: Vec<CustomerStatus>,
}

impl FilterArgs {
    /// The list parameters these filters stand for.
    pub fn params(&self) -> ListParams {
        ListParams {
            email: self.email.clone(),
            country_code: self.country_code.clone(),
            document_type: self.document_type.clone(),
            provider: self.provider.clone(),
            target_role: self.target_role.clone(),
            provider_registration_status: self.registration_status.clone(),
            status: self.status.clone(),
            ..Default::default()
        }
    }
}

#[derive(Debug, Args)]
struct ListArgs {
    /// Page size, 1–100 (server default 10).
    #[arg(long)]
    limit: Option<u32>,
    /// Customers to skip.
    #[arg(long, conflicts_with = "all")]
    offset: Option<u64>,
    /// Every matching customer, fetched page by page (for large sets use `export`).
    #[arg(long)]
    all: bool,
    #[command(flatten)]
    filters: FilterArgs,
}

/// Runs `acorn customers …`.
pub async fn run(args: CustomersArgs) -> anyhow::Result<()> {
    if let CustomersCommand::Create(profile) = &args.command {
        // A usage error, found before the credentials are looked at.
        profile.create_request()?;
    }
    let client = match &args.command {
        CustomersCommand::Import(_) | CustomersCommand::Export(_) => {
            args.client.connect_with(config::bulk_retry())?
        }
        _ => args.client.connect()?,
    };
    dispatch(&client, args.command)
        .await
        .map_err(|e| client.explain(e))
}

async fn dispatch(client: &Client, command: CustomersCommand) -> anyhow::Result<()> {
    let customers = client.sdk.customers();
    match command {
        CustomersCommand::Create(profile) => {
            let request = profile.create_request()?;
            show_customer(client, &customers.create(&request).await?.data)
        }
        CustomersCommand::Get { id } => show_customer(client, &customers.get(&id).await?.data),
        CustomersCommand::List(args) => list(client, args).await,
        CustomersCommand::Delete { id } => {
            let data = customers.delete(&id).await?.data;
            if client.json {
                return output::print_json(&data);
            }
            Ok(output::write_stdout(&format!("deleted {}\n", data.id))?)
        }
        CustomersCommand::Update { id, profile, clear } => {
            let mut request = profile.request()?;
            request.null_fields = clear.into_iter().collect::<BTreeSet<_>>();
            show_customer(client, &customers.update(&id, &request).await?.data)
        }
        CustomersCommand::Sync(a) => kyc::sync(client, a).await,
        CustomersCommand::Balances(a) => kyc::balances(client, a).await,
        CustomersCommand::Upload(a) => kyc::upload(client, a).await,
        CustomersCommand::Files(a) => kyc::files(client, a).await,
        CustomersCommand::Populate(a) => kyc::populate(client, a).await,
        CustomersCommand::Import(a) => import::run(client, a).await,
        CustomersCommand::Export(a) => export::run(client, a).await,
    }
}

/// One customer: its set fields as `FIELD VALUE` lines, or the JSON.
fn show_customer(client: &Client, customer: &Customer) -> anyhow::Result<()> {
    if client.json {
        return output::print_json(customer);
    }
    let value = serde_json::to_value(customer)?;
    let order: Vec<&str> = fields::export_columns()
        .into_iter()
        .filter(|c| *c != "customer_id")
        .collect();
    output::print_object(&value, &order, |key, value| {
        let platforms = value.as_array().filter(|_| key == "platforms")?;
        let text: Vec<String> = platforms
            .iter()
            .map(|p| {
                let s = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("?").to_owned();
                format!("{} {}: {}", s("provider"), s("target_role"), s("status"))
            })
            .collect();
        Some(if text.is_empty() {
            output::NONE.to_owned()
        } else {
            text.join("; ")
        })
    })?;
    Ok(())
}

async fn list(client: &Client, args: ListArgs) -> anyhow::Result<()> {
    let mut params = args.filters.params();
    params.limit = args.limit;
    let page = if args.all {
        params.limit = Some(params.limit.unwrap_or(100));
        let all: Vec<Customer> = client
            .sdk
            .customers()
            .list_all(params)
            .try_collect()
            .await?;
        acorn_sdk::types::CustomerList {
            count: all.len() as u64,
            customer_list: all,
            has_more: false,
        }
    } else {
        params.offset = args.offset;
        client.sdk.customers().list(&params).await?.data
    };
    if client.json {
        return output::print_json(&page);
    }
    let mut table = Table::new(&["ID", "EMAIL", "NAME", "COUNTRY", "STATUS", "CREATED_AT"]);
    for c in &page.customer_list {
        let name = [c.first_name.as_deref(), c.last_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        table.row(vec![
            c.id.clone(),
            c.email.clone(),
            opt(Some(name.as_str()).filter(|n| !n.is_empty())),
            opt(c.country_code.as_deref()),
            c.status.to_string(),
            c.created_at.clone(),
        ]);
    }
    table.print()?;
    let shown = page.customer_list.len() as u64;
    let from = args.offset.unwrap_or(0);
    let mut footer = format!("{shown} of {} customers", page.count);
    if page.has_more {
        footer.push_str(&format!(
            " (next page: --offset {}, or --all)",
            from + shown
        ));
    }
    output::write_stdout(&format!("{footer}\n"))?;
    Ok(())
}
