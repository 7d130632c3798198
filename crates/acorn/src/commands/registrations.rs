//! `acorn registrations …`: provider schemas, registration status and submission.

use acorn_sdk::types::{Provider, Registration, SubmitRegistrationRequest, TargetRole};
use clap::{Args, Subcommand};
use serde_json::{Map, Value};

use super::config::{Client, ClientArgs};
use super::output::{self, opt, Table};

/// `acorn registrations`.
#[derive(Debug, Args)]
pub struct RegistrationsArgs {
    #[command(flatten)]
    client: ClientArgs,
    #[command(subcommand)]
    command: RegistrationsCommand,
}

#[derive(Debug, Subcommand)]
enum RegistrationsCommand {
    /// What a provider needs before a registration can be submitted, per role.
    Schema {
        /// The provider.
        #[arg(long)]
        provider: Provider,
    },
    /// Every registration of a customer.
    Status {
        /// Customer id.
        id: String,
    },
    /// Submit (or resubmit after a rejection) a customer's registration.
    Submit {
        /// Customer id.
        id: String,
        /// The provider.
        #[arg(long)]
        provider: Provider,
        /// The role at that provider.
        #[arg(long)]
        role: TargetRole,
        /// Provider data as a JSON object, e.g. '{"account_type":"express"}'.
        #[arg(long, value_name = "JSON", value_parser = json_object)]
        data: Option<Map<String, Value>>,
    },
}

fn json_object(raw: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str(raw) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err("must be a JSON object".into()),
        Err(e) => Err(format!("invalid JSON: {e}")),
    }
}

/// Runs `acorn registrations …`.
pub async fn run(args: RegistrationsArgs) -> anyhow::Result<()> {
    let client = args.client.connect()?;
    dispatch(&client, args.command)
        .await
        .map_err(|e| client.explain(e))
}

async fn dispatch(client: &Client, command: RegistrationsCommand) -> anyhow::Result<()> {
    let providers = client.sdk.providers();
    match command {
        RegistrationsCommand::Schema { provider } => {
            let data = providers.get_schema(provider).await?.data;
            if client.json {
                return output::print_json(&data);
            }
            let mut table = Table::new(&["ROLE", "REQUIRED_FIELDS", "PROVIDER_DATA_REQUIRED"]);
            for (role, schema) in &data.schema.roles {
                table.row(vec![
                    role.to_string(),
                    list(&schema.required_fields),
                    list(&schema.provider_data_required),
                ]);
            }
            table.print()?;
            let global = list(&data.schema.global_required_fields);
            output::write_stdout(&format!("Every role also needs: {global}\n"))?;
            Ok(())
        }
        RegistrationsCommand::Status { id } => {
            show(client, &providers.get_registration_status(&id).await?.data)
        }
        RegistrationsCommand::Submit {
            id,
            provider,
            role,
            data,
        } => {
            let mut request = SubmitRegistrationRequest::new(provider, role);
            request.provider_data = data;
            show(
                client,
                &providers.submit_registration(&id, &request).await?.data,
            )
        }
    }
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        output::NONE.to_owned()
    } else {
        items.join(",")
    }
}

/// Registrations as a table (or the JSON).
pub fn show(client: &Client, regs: &[Registration]) -> anyhow::Result<()> {
    if client.json {
        return output::print_json(&regs);
    }
    let mut table = Table::new(&[
        "ID",
        "PROVIDER",
        "ROLE",
        "STATUS",
        "DOCUMENTS",
        "REVIEW",
        "MISSING",
        "PROVIDER_ID",
        "UPDATED_AT",
    ]);
    for r in regs {
        table.row(vec![
            r.id.clone(),
            r.provider.to_string(),
            r.target_role.to_string(),
            r.status.to_string(),
            r.documents.to_string(),
            if r.manual_review { "yes" } else { "no" }.to_owned(),
            list(&r.missing_fields),
            opt(r.provider_customer_id.as_deref()),
            r.updated_at.clone(),
        ]);
    }
    table.print()?;
    Ok(())
}
