//! Acorn ↔ Stripe shapes: a customer profile as Stripe form parameters, a Stripe account as a
//! registration state, and a Stripe balance as balance totals.

use std::collections::BTreeMap;

use acorn_types::{BalanceTotal, DocumentsState, RegistrationStatus};
use serde_json::{Map, Value};

use super::client::Form;
use crate::adapters::providers::ProviderState;

/// A profile (a customer's JSON, or the values of a sync) read by field name.
#[derive(Debug, Clone, Copy)]
pub struct Profile<'a>(pub &'a Map<String, Value>);

impl<'a> Profile<'a> {
    /// The field's text, when it is a non-empty string.
    pub fn text(&self, name: &str) -> Option<&'a str> {
        self.0
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    fn any(&self, names: &[&str]) -> bool {
        names.iter().any(|n| self.text(n).is_some())
    }

    /// `+<country code><area><number>`, when there is a number.
    fn phone(&self) -> Option<String> {
        let number = self.text("phone_number")?;
        let cc = self.text("phone_country_code").unwrap_or_default();
        let area = self.text("phone_area_code").unwrap_or_default();
        let cc = cc.trim_start_matches('+');
        Some(if cc.is_empty() {
            format!("{area}{number}")
        } else {
            format!("+{cc}{area}{number}")
        })
    }

    /// The ISO country code, upper case as Stripe writes it.
    pub fn country(&self) -> Option<String> {
        self.text("country_code").map(str::to_ascii_uppercase)
    }

    /// `first last`, or the company's name.
    fn name(&self) -> Option<String> {
        if let Some(c) = self.text("company_name") {
            return Some(c.to_owned());
        }
        let parts: Vec<&str> = [self.text("first_name"), self.text("last_name")]
            .into_iter()
            .flatten()
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    }
}

const ADDRESS_FIELDS: &[&str] = &[
    "street_name",
    "street_number",
    "house_number",
    "neighborhood",
    "city",
    "state",
    "postal_code",
    "country_code",
];

/// `prefix[line1]`, `prefix[city]`, … from the profile's address fields.
fn address(form: &mut Form, prefix: &str, p: Profile<'_>) {
    if !p.any(ADDRESS_FIELDS) {
        return;
    }
    let line1: Vec<&str> = [p.text("street_name"), p.text("street_number")]
        .into_iter()
        .flatten()
        .collect();
    let line2: Vec<&str> = [p.text("house_number"), p.text("neighborhood")]
        .into_iter()
        .flatten()
        .collect();
    form.opt(format!("{prefix}[line1]"), Some(&line1.join(" ")))
        .opt(format!("{prefix}[line2]"), Some(&line2.join(", ")))
        .opt(format!("{prefix}[city]"), p.text("city"))
        .opt(format!("{prefix}[state]"), p.text("state"))
        .opt(format!("{prefix}[postal_code]"), p.text("postal_code"))
        .opt(format!("{prefix}[country]"), p.country().as_deref());
}

/// The parameters of `POST /v1/customers[/{id}]`: the profile's fields that are present.
pub fn customer_form(p: Profile<'_>) -> Form {
    let mut form = Form::new();
    form.opt("email", p.text("email"))
        .opt("name", p.name().as_deref())
        .opt("phone", p.phone().as_deref());
    address(&mut form, "address", p);
    form
}

/// The person or company parameters of an account (`individual[…]` or `company[…]`).
pub fn account_profile(form: &mut Form, p: Profile<'_>, business_type: &str) {
    form.opt("email", p.text("email"));
    if business_type == "company" {
        form.opt("company[name]", p.text("company_name"))
            .opt(
                "company[tax_id]",
                p.text("tax_id").or(p.text("document_number")),
            )
            .opt("company[phone]", p.phone().as_deref());
        address(form, "company[address]", p);
        return;
    }
    form.opt("individual[first_name]", p.text("first_name"))
        .opt("individual[last_name]", p.text("last_name"))
        .opt("individual[email]", p.text("email"))
        .opt("individual[phone]", p.phone().as_deref())
        .opt("individual[id_number]", p.text("document_number"));
    if let Some((y, m, d)) = p.text("dob").and_then(date_parts) {
        form.push("individual[dob][year]", y)
            .push("individual[dob][month]", m)
            .push("individual[dob][day]", d);
    }
    address(form, "individual[address]", p);
}

/// `YYYY-MM-DD` → (year, month, day) without leading zeros.
fn date_parts(s: &str) -> Option<(String, String, String)> {
    let mut it = s.get(..10)?.split('-');
    let mut next = || it.next()?.parse::<u32>().ok().map(|n| n.to_string());
    Some((next()?, next()?, next()?))
}

/// Stripe's requirement name → the Acorn customer field that satisfies it (else the name as
/// Stripe gives it).
fn acorn_field(requirement: &str) -> String {
    let tail = requirement
        .strip_prefix("individual.")
        .or_else(|| requirement.strip_prefix("company."))
        .unwrap_or(requirement);
    let field = match tail {
        "first_name" => "first_name",
        "last_name" => "last_name",
        "email" => "email",
        "phone" => "phone_number",
        "id_number" | "ssn_last_4" => "document_number",
        "tax_id" => "tax_id",
        "name" => "company_name",
        t if t.starts_with("dob.") => "dob",
        "address.line1" => "street_name",
        "address.city" => "city",
        "address.state" => "state",
        "address.postal_code" => "postal_code",
        "address.country" => "country_code",
        _ => return requirement.to_owned(),
    };
    field.to_owned()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_owned))
        .collect()
}

/// What a Stripe account says about its registration: rejected (`disabled_reason` `rejected.*`),
/// processing while requirements are currently or past due (documents required when Stripe asks
/// for verification documents), approved when charges and payouts are enabled, restricted when a
/// capability is inactive or the account is disabled for another reason, else processing.
pub fn account_state(account: &Value) -> ProviderState {
    let req = &account["requirements"];
    let disabled = req["disabled_reason"].as_str();
    let mut due = strings(&req["past_due"]);
    due.extend(strings(&req["currently_due"]));
    let mut state = ProviderState::new(RegistrationStatus::Processing);
    state.provider_customer_id = account["id"].as_str().map(str::to_owned);
    if let Some(reason) = disabled.filter(|r| r.starts_with("rejected.")) {
        state.status = RegistrationStatus::Rejected;
        state.rejection_reason = Some(format!("stripe: {reason}"));
        return state;
    }
    if !due.is_empty() {
        if due.iter().any(|f| f.contains("verification.")) {
            state.documents = Some(DocumentsState::Required);
        }
        let mut fields: Vec<String> = due
            .iter()
            .filter(|f| !f.contains("verification."))
            .map(|f| acorn_field(f))
            .collect();
        fields.sort();
        fields.dedup();
        state.missing_fields = fields;
        return state;
    }
    let enabled = |k: &str| account[k].as_bool().unwrap_or(false);
    let inactive = account["capabilities"]
        .as_object()
        .is_some_and(|caps| caps.values().any(|v| v == "inactive"));
    if enabled("charges_enabled") && enabled("payouts_enabled") && !inactive {
        state.status = RegistrationStatus::Approved;
    } else if disabled == Some("under_review") {
        state.manual_review = true;
    } else if inactive || disabled.is_some() {
        state.status = RegistrationStatus::Restricted;
    }
    state
}

/// Where one Stripe balance bucket goes in a total.
type Slot = fn(&mut BalanceTotal) -> &mut i64;

/// `available`, `pending`, `connect_reserved` and `instant_available` of a Stripe balance,
/// summed per currency, in currency order.
pub fn balance_totals(balance: &Value) -> Vec<BalanceTotal> {
    let mut by: BTreeMap<String, BalanceTotal> = BTreeMap::new();
    let buckets: [(&str, Slot); 4] = [
        ("available", |t| &mut t.available),
        ("pending", |t| &mut t.pending),
        ("connect_reserved", |t| &mut t.reserved),
        ("instant_available", |t| &mut t.instant_payouts),
    ];
    for (bucket, slot) in buckets {
        for entry in balance[bucket].as_array().into_iter().flatten() {
            let (Some(currency), Some(amount)) =
                (entry["currency"].as_str(), entry["amount"].as_i64())
            else {
                continue;
            };
            let currency = currency.to_ascii_lowercase();
            let total = by.entry(currency.clone()).or_insert_with(|| BalanceTotal {
                currency,
                available: 0,
                pending: 0,
                reserved: 0,
                instant_payouts: 0,
            });
            let s = slot(total);
            *s = s.saturating_add(amount);
        }
    }
    by.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn profile() -> Map<String, Value> {
        json!({"email": "ann@x.com", "first_name": "Ann", "last_name": "Lee",
            "phone_country_code": "+51", "phone_area_code": "1", "phone_number": "5550100",
            "street_name": "Av. Sol", "street_number": "12", "city": "Lima", "country_code": "PE",
            "dob": "1990-04-07", "document_number": "12345678", "company_name": null})
        .as_object()
        .cloned()
        .expect("object")
    }

    fn get<'a>(f: &'a Form, k: &str) -> Option<&'a str> {
        f.pairs()
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn customers_and_individuals_as_forms() {
        let p = profile();
        let f = customer_form(Profile(&p));
        assert_eq!(get(&f, "name"), Some("Ann Lee"));
        assert_eq!(get(&f, "phone"), Some("+5115550100"));
        assert_eq!(get(&f, "address[line1]"), Some("Av. Sol 12"));
        assert_eq!(get(&f, "address[country]"), Some("PE"));
        assert!(!f.has("address[line2]"));
        let mut a = Form::new();
        account_profile(&mut a, Profile(&p), "individual");
        assert_eq!(get(&a, "individual[dob][month]"), Some("4"));
        assert_eq!(get(&a, "individual[id_number]"), Some("12345678"));
        assert_eq!(get(&a, "individual[address][city]"), Some("Lima"));
    }

    #[test]
    fn accounts_map_to_registration_states() {
        let due = account_state(&json!({"id": "acct_1", "requirements": {
            "currently_due": ["individual.dob.day", "individual.verification.document", "business_profile.url"],
            "past_due": ["individual.id_number"], "disabled_reason": "requirements.past_due"}}));
        assert_eq!(due.status, RegistrationStatus::Processing);
        assert_eq!(
            due.missing_fields,
            ["business_profile.url", "dob", "document_number"]
        );
        assert_eq!(due.documents, Some(DocumentsState::Required));
        assert_eq!(due.provider_customer_id.as_deref(), Some("acct_1"));
        let ok = account_state(&json!({"charges_enabled": true, "payouts_enabled": true,
            "requirements": {"currently_due": [], "past_due": []}}));
        assert_eq!(ok.status, RegistrationStatus::Approved);
        let rejected =
            account_state(&json!({"requirements": {"disabled_reason": "rejected.fraud"}}));
        assert_eq!(rejected.status, RegistrationStatus::Rejected);
        assert_eq!(
            rejected.rejection_reason.as_deref(),
            Some("stripe: rejected.fraud")
        );
        let restricted = account_state(&json!({"charges_enabled": true, "payouts_enabled": true,
            "capabilities": {"transfers": "inactive"}, "requirements": {}}));
        assert_eq!(restricted.status, RegistrationStatus::Restricted);
        let review = account_state(&json!({"requirements": {"disabled_reason": "under_review"}}));
        assert!(review.manual_review && review.status == RegistrationStatus::Processing);
    }

    #[test]
    fn balances_sum_per_currency() {
        let t = balance_totals(&json!({"object": "balance",
            "available": [{"amount": 100, "currency": "usd"}, {"amount": 7, "currency": "EUR"}],
            "pending": [{"amount": 5, "currency": "usd"}, {"amount": 1, "currency": "usd"}],
            "instant_available": [{"amount": 50, "currency": "usd"}]}));
        assert_eq!(t.len(), 2);
        assert_eq!((t[0].currency.as_str(), t[0].available), ("eur", 7));
        assert_eq!(
            (t[1].available, t[1].pending, t[1].instant_payouts),
            (100, 6, 50)
        );
    }
}
