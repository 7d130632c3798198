//! A customer row as stored, and its decoding into the API's [`Customer`] (opening the sealed
//! columns).
//!
//! A customer is read as three values, not forty: `id`, `monthly_net_income` (a float, kept
//! exact) and every other column packed by the database into one JSON array (`packed`). A
//! driver copies every selected value, NULL or not (SQLite's `sqlite3_value_dup`, then the
//! `Any` row's own copy); on a list page of mostly empty columns those copies were a quarter
//! of a request's CPU, against one text per row here.

use std::sync::LazyLock;

use acorn_types::{Customer, CustomerId, CustomerPatch, CustomerStatus};
use anyhow::Context;
use serde::Deserialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::customers::{bound_value, Bound};
use super::format_time;
use super::sealing::open;
use crate::base::crypto::DataKey;

/// The columns packed into `packed`, in the order of [`CustomerRow`]'s fields: every stored
/// column but `id` and `monthly_net_income`.
pub(crate) const PACKED: [&str; 37] = [
    "email",
    "first_name",
    "last_name",
    "company_name",
    "document_number",
    "document_type",
    "dob",
    "phone_country_code",
    "phone_area_code",
    "phone_number",
    "country_code",
    "gender",
    "house_number",
    "street_number",
    "street_name",
    "neighborhood",
    "postal_code",
    "city",
    "state",
    "subdivision",
    "mother_name",
    "owner_legal_name",
    "owner_document_number",
    "owner_document_type",
    "company_start_date",
    "social_name",
    "tax_id",
    "additional_info",
    "status",
    "customer_wallet",
    "trading_wallet",
    "account_type",
    "synced",
    "synced_at",
    "version",
    "created_at",
    "updated_at",
];

static SQLITE_COLUMNS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "id, monthly_net_income, json_array({}) AS packed",
        PACKED.join(", ")
    )
});

static POSTGRES_COLUMNS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "id, monthly_net_income, json_build_array({})::text AS packed",
        PACKED.join(", ")
    )
});

/// What a statement selects (or returns) to read whole customers of `customers`, on the
/// engine whose name sqlx gives (`AnyConnection::backend_name`).
pub(crate) fn columns(backend: &str) -> &'static str {
    if backend == "PostgreSQL" {
        &POSTGRES_COLUMNS
    } else {
        &SQLITE_COLUMNS
    }
}

/// A customer row as stored: `id`, `monthly_net_income`, then the values of `packed` in
/// [`PACKED`]'s order (a JSON array deserializes into a struct's fields in order).
#[derive(Deserialize)]
struct CustomerRow {
    #[serde(skip)]
    id: String,
    #[serde(skip)]
    monthly_net_income: Option<f64>,
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
    let packed: &str = row.try_get("packed")?;
    let mut r: CustomerRow = serde_json::from_str(packed).context("stored customer")?;
    r.id = row.try_get("id")?;
    r.monthly_net_income = row.try_get("monthly_net_income")?;
    r.open_sealed(key)?;
    Customer::try_from(r)
}

/// The customer a new row of `patch`'s fields reads back as (status `NOT_STARTED`, version 1,
/// no registrations), without reading it: the stored values (before sealing) go through the
/// same decoding as a stored row's.
pub(crate) fn new_customer(
    id: CustomerId,
    patch: &CustomerPatch,
    created_at: i64,
    now: i64,
) -> anyhow::Result<Customer> {
    let stored = |name: &str| -> serde_json::Value {
        let Some(spec) = patch.values().iter().find(|(s, _)| s.name == name) else {
            return serde_json::Value::Null;
        };
        match bound_value(spec.0.kind, &spec.1) {
            Bound::Text(v) => v.map_or(serde_json::Value::Null, serde_json::Value::String),
            Bound::Real(v) => v.map_or(serde_json::Value::Null, serde_json::Value::from),
            Bound::Int(v) => v.into(),
        }
    };
    let packed: Vec<serde_json::Value> = PACKED
        .iter()
        .map(|name| match *name {
            "status" => CustomerStatus::NotStarted.as_str().into(),
            "version" => 1.into(),
            "created_at" => created_at.into(),
            "updated_at" => now.into(),
            name => stored(name),
        })
        .collect();
    let mut r: CustomerRow =
        serde_json::from_value(serde_json::Value::Array(packed)).context("new customer")?;
    r.id = id.uuid().to_string();
    r.monthly_net_income = stored("monthly_net_income").as_f64();
    Customer::try_from(r)
}

#[cfg(test)]
mod tests {
    use super::PACKED;
    use acorn_types::customer::WRITABLE_FIELDS;

    #[test]
    fn every_stored_column_is_read() {
        // A writable field added to the API but not here would read back as missing: the
        // writable fields (but the float, read on its own) come first, in their order.
        let writable: Vec<&str> = WRITABLE_FIELDS
            .iter()
            .map(|f| f.name)
            .filter(|n| *n != "monthly_net_income")
            .collect();
        assert_eq!(&PACKED[..writable.len()], writable.as_slice());
        assert_eq!(PACKED[writable.len()], "status");
    }
}
