//! A customer row as stored, and its decoding into the API's [`Customer`] (opening the sealed
//! columns).

use acorn_types::{Customer, CustomerId, CustomerStatus};
use anyhow::Context;
use sqlx::any::AnyRow;
use sqlx::FromRow;

use super::format_time;
use super::sealing::open;
use crate::crypto::DataKey;

/// A customer row as stored: every column of [`COLUMNS`].
#[derive(sqlx::FromRow)]
struct CustomerRow {
    id: String,
    email: String,
    first_name: Option<String>,
    last_name: Option<String>,
    company_name: Option<String>,
    document_number: Option<String>,
    document_type: Option<String>,
    dob: Option<String>,
    phone_country_code: Option<String>,
    phone_area_code: Option<String>,
    phone_number: Option<String>,
    country_code: Option<String>,
    gender: Option<String>,
    house_number: Option<String>,
    street_number: Option<String>,
    street_name: Option<String>,
    neighborhood: Option<String>,
    postal_code: Option<String>,
    city: Option<String>,
    state: Option<String>,
    subdivision: Option<String>,
    mother_name: Option<String>,
    owner_legal_name: Option<String>,
    owner_document_number: Option<String>,
    owner_document_type: Option<String>,
    company_start_date: Option<String>,
    social_name: Option<String>,
    tax_id: Option<String>,
    monthly_net_income: Option<f64>,
    additional_info: Option<String>,
    status: String,
    customer_wallet: Option<String>,
    trading_wallet: Option<String>,
    account_type: Option<String>,
    synced: Option<i64>,
    synced_at: Option<i64>,
    version: i64,
    created_at: i64,
    updated_at: i64,
}

impl CustomerRow {
    /// Opens the sealed columns in place.
    fn open_sealed(&mut self, k: &DataKey) -> anyhow::Result<()> {
        self.email = k.open_str(std::mem::take(&mut self.email), "email")?;
        for (col, v) in [
            ("document_number", &mut self.document_number),
            ("dob", &mut self.dob),
            ("phone_country_code", &mut self.phone_country_code),
            ("phone_area_code", &mut self.phone_area_code),
            ("phone_number", &mut self.phone_number),
            ("tax_id", &mut self.tax_id),
            ("owner_document_number", &mut self.owner_document_number),
            ("mother_name", &mut self.mother_name),
            ("house_number", &mut self.house_number),
            ("street_number", &mut self.street_number),
            ("street_name", &mut self.street_name),
            ("neighborhood", &mut self.neighborhood),
            ("postal_code", &mut self.postal_code),
            ("additional_info", &mut self.additional_info),
        ] {
            *v = open(k, v.take(), col)?;
        }
        Ok(())
    }
}

impl TryFrom<CustomerRow> for Customer {
    type Error = anyhow::Error;

    fn try_from(r: CustomerRow) -> anyhow::Result<Customer> {
        let id = format!("{}{}", CustomerId::PREFIX, r.id);
        let additional_info = r
            .additional_info
            .map(|s| serde_json::from_str(&s))
            .transpose()
            .context("stored additional_info")?;
        let status = CustomerStatus::parse(&r.status)
            .map_err(|e| anyhow::anyhow!("stored customer status: {e}"))?;
        Ok(Customer {
            customer_id: id.clone(),
            id,
            email: r.email,
            first_name: r.first_name,
            last_name: r.last_name,
            company_name: r.company_name,
            document_number: r.document_number,
            document_type: r.document_type,
            dob: r.dob,
            phone_country_code: r.phone_country_code,
            phone_area_code: r.phone_area_code,
            phone_number: r.phone_number,
            country_code: r.country_code,
            gender: r.gender,
            house_number: r.house_number,
            street_number: r.street_number,
            street_name: r.street_name,
            neighborhood: r.neighborhood,
            postal_code: r.postal_code,
            city: r.city,
            state: r.state,
            subdivision: r.subdivision,
            mother_name: r.mother_name,
            owner_legal_name: r.owner_legal_name,
            owner_document_number: r.owner_document_number,
            owner_document_type: r.owner_document_type,
            company_start_date: r.company_start_date,
            social_name: r.social_name,
            tax_id: r.tax_id,
            monthly_net_income: r.monthly_net_income,
            status,
            customer_wallet: r.customer_wallet,
            trading_wallet: r.trading_wallet,
            account_type: r.account_type,
            additional_info,
            platforms: vec![],
            synced: r.synced.map(|s| s != 0),
            synced_at: r.synced_at.map(format_time),
            version: r.version,
            created_at: format_time(r.created_at),
            updated_at: format_time(r.updated_at),
        })
    }
}

/// Decodes a customer row (without its platforms), opening its sealed columns with `key`.
pub(crate) fn customer_from_row(row: &AnyRow, key: &DataKey) -> anyhow::Result<Customer> {
    let mut r = CustomerRow::from_row(row)?;
    r.open_sealed(key)?;
    Customer::try_from(r)
}
