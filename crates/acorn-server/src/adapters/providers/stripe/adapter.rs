//! [`StripeAdapter`]: the [`ProviderAdapter`] of Stripe.

use acorn_types::{BalanceTotal, Customer, RegistrationStatus, TargetRole};
use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Map, Value};

use super::client::{Client, Form};
use super::mapping::{account_profile, account_state, balance_totals, customer_form, Profile};
use super::StripeConfig;
use crate::adapters::providers::{
    BalanceAccount, ProviderAdapter, ProviderError, ProviderState, RefreshRequest,
    RegistrationRequest, Submitted, SyncPush,
};

/// Stripe, through its REST API.
#[derive(Debug)]
pub struct StripeAdapter {
    client: Client,
    webhook_secret: Option<SecretString>,
    /// Where Stripe sends a person after onboarding (`return_url`/`refresh_url` default).
    public_url: String,
}

fn refused(message: impl Into<String>) -> ProviderError {
    ProviderError {
        message: message.into(),
        retryable: false,
    }
}

fn profile_of(customer: &Customer) -> Result<Map<String, Value>, ProviderError> {
    match serde_json::to_value(customer) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(refused("the customer's profile could not be read")),
    }
}

/// A Stripe id fit for a URL path (Stripe's ids are letters, digits and `_`).
fn path_id(id: &str) -> Result<&str, ProviderError> {
    if !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(id)
    } else {
        Err(refused("the stored Stripe id is not a Stripe id"))
    }
}

fn id_of(object: &Value) -> Result<String, ProviderError> {
    object["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| refused("stripe answered without an object id"))
}

impl StripeAdapter {
    /// Deletes a customer at Stripe (erasure).
    pub async fn delete_customer(&self, customer: &str) -> Result<(), ProviderError> {
        let path = format!("/v1/customers/{customer}");
        self.client.delete(&path, None).await.map(|_| ())
    }
}

impl StripeAdapter {
    /// An adapter for `config`; `public_url` is where onboarding links return to.
    pub fn new(config: &StripeConfig, public_url: Option<&str>) -> anyhow::Result<Self> {
        Ok(StripeAdapter {
            client: Client::new(
                &config.api_base,
                config.secret_key.clone(),
                config.timeout,
                config.max_network_retries,
            )?,
            webhook_secret: config.webhook_secret.clone(),
            public_url: public_url
                .unwrap_or("http://localhost:8080")
                .trim_end_matches('/')
                .to_owned(),
        })
    }

    /// Checks a webhook's `Stripe-Signature` (`None` when no webhook secret is configured).
    pub fn verify_webhook(
        &self,
        header: Option<&str>,
        body: &[u8],
        now: i64,
    ) -> Option<Result<(), super::webhook::SignatureError>> {
        let secrets = self.webhook_secret.as_ref()?.expose_secret();
        // Any of the configured secrets may have signed it; the first refusal is reported.
        let mut first = None;
        for secret in secrets.split(',').map(str::trim) {
            match super::webhook::verify(secret, header, body, now) {
                Ok(()) => return Some(Ok(())),
                Err(e) => {
                    first.get_or_insert(e);
                }
            }
        }
        first.map(Err)
    }

    /// The key of one POST: the registration's idempotency scope and what the call does, so a
    /// retry of the same step reuses it and nothing else does.
    fn key(req: &RegistrationRequest<'_>, purpose: &str) -> String {
        format!("acorn_{}_{purpose}", req.idempotency_scope)
    }

    async fn create_customer(
        &self,
        req: &RegistrationRequest<'_>,
    ) -> Result<Submitted, ProviderError> {
        let profile = profile_of(req.customer)?;
        let mut form = customer_form(Profile(&profile));
        form.push("metadata[acorn_customer_id]", req.customer.id.as_str());
        let customer = self
            .client
            .post("/v1/customers", &form, &Self::key(req, "customer"), None)
            .await?;
        let mut state = ProviderState::new(RegistrationStatus::Approved);
        state.provider_customer_id = Some(id_of(&customer)?);
        Ok(Submitted {
            response: customer,
            state: Some(state),
        })
    }

    async fn create_account(
        &self,
        req: &RegistrationRequest<'_>,
    ) -> Result<Submitted, ProviderError> {
        let data = Profile(req.provider_data);
        let kind = data.text("account_type").unwrap_or("express");
        let business = data.text("business_type").unwrap_or("individual");
        let profile = profile_of(req.customer)?;
        let mut form = Form::new();
        form.push("type", kind)
            .opt("country", Profile(&profile).country().as_deref())
            .push("business_type", business)
            .push("metadata[acorn_customer_id]", req.customer.id.as_str());
        if kind != "standard" {
            form.push("capabilities[card_payments][requested]", "true")
                .push("capabilities[transfers][requested]", "true");
        }
        account_profile(&mut form, Profile(&profile), business);
        let account = self
            .client
            .post("/v1/accounts", &form, &Self::key(req, "account"), None)
            .await?;
        let id = id_of(&account)?;
        let mut response = account.clone();
        if kind != "custom" {
            let link = self.onboarding_link(req, &id).await?;
            response["onboarding_url"] = link["url"].clone();
            response["account_link"] = link;
        }
        Ok(Submitted {
            response,
            state: Some(account_state(&account)),
        })
    }

    async fn onboarding_link(
        &self,
        req: &RegistrationRequest<'_>,
        account: &str,
    ) -> Result<Value, ProviderError> {
        let data = Profile(req.provider_data);
        let fallback = |what: &str| {
            format!(
                "{}/stripe/onboarding/{what}?account={account}",
                self.public_url
            )
        };
        let mut form = Form::new();
        form.push("account", account)
            .push("type", "account_onboarding")
            .push(
                "refresh_url",
                data.text("refresh_url")
                    .map_or_else(|| fallback("refresh"), str::to_owned),
            )
            .push(
                "return_url",
                data.text("return_url")
                    .map_or_else(|| fallback("return"), str::to_owned),
            );
        self.client
            .post(
                "/v1/account_links",
                &form,
                &Self::key(req, "account_link"),
                None,
            )
            .await
    }

    /// The form that updates the registration's Stripe object with `profile`.
    fn update(role: TargetRole, id: &str, profile: Profile<'_>, business: &str) -> (String, Form) {
        if role == TargetRole::ConnectedAccount {
            let mut form = Form::new();
            account_profile(&mut form, profile, business);
            (format!("/v1/accounts/{id}"), form)
        } else {
            (format!("/v1/customers/{id}"), customer_form(profile))
        }
    }
}

#[async_trait]
impl ProviderAdapter for StripeAdapter {
    async fn submit(&self, req: &RegistrationRequest<'_>) -> Result<Submitted, ProviderError> {
        match req.role {
            TargetRole::Customer => self.create_customer(req).await,
            TargetRole::ConnectedAccount => self.create_account(req).await,
            TargetRole::Subaccount => Err(refused("stripe has no subaccount role")),
        }
    }

    async fn populate(&self, req: &RegistrationRequest<'_>) -> Result<Value, ProviderError> {
        let Some(id) = req.provider_customer_id else {
            return Ok(json!({"object": "profile_update", "pushed": false,
                "reason": "no Stripe object yet; the profile is sent when the registration is submitted"}));
        };
        let profile = profile_of(req.customer)?;
        let business = Profile(req.provider_data)
            .text("business_type")
            .unwrap_or("individual");
        let (path, form) = Self::update(req.role, path_id(id)?, Profile(&profile), business);
        let object = self
            .client
            .post(&path, &form, &Self::key(req, "populate"), None)
            .await?;
        Ok(
            json!({"object": "profile_update", "pushed": true, "id": object["id"],
            "fields_sent": form.pairs().iter().map(|(k, _)| k).collect::<Vec<_>>()}),
        )
    }

    async fn sync(&self, push: &SyncPush<'_>) -> Result<Value, ProviderError> {
        let id = push
            .provider_customer_id
            .ok_or_else(|| refused("the registration has no Stripe object to update yet"))?;
        let id = path_id(id)?;
        let business = push
            .provider_data
            .and_then(|d| Profile(d).text("business_type"))
            .unwrap_or("individual");
        let (path, form) = Self::update(push.role, id, Profile(push.values), business);
        if form.pairs().is_empty() {
            return Ok(json!({"object": "sync", "id": id, "fields_updated": []}));
        }
        let key = format!("acorn_{}_try{}_sync", push.attempt_id, push.try_number);
        let object = self.client.post(&path, &form, &key, None).await?;
        Ok(
            json!({"object": "sync", "id": object["id"], "stripe_object": object["object"],
            "fields_updated": push.values.keys().collect::<Vec<_>>()}),
        )
    }

    async fn balances(
        &self,
        accounts: &[BalanceAccount],
    ) -> Result<Vec<(String, Vec<BalanceTotal>)>, ProviderError> {
        let mut out = Vec::with_capacity(accounts.len());
        for a in accounts {
            let id = a
                .provider_account_id
                .clone()
                .unwrap_or_else(|| a.registration_id.to_string());
            // Money at Stripe is held by accounts; a Stripe customer has no balance of its own.
            let totals = match (&a.provider_account_id, a.role) {
                (Some(acct), TargetRole::ConnectedAccount) => {
                    balance_totals(&self.client.get("/v1/balance", Some(acct)).await?)
                }
                _ => vec![],
            };
            out.push((id, totals));
        }
        Ok(out)
    }

    async fn refresh(
        &self,
        reg: &RefreshRequest<'_>,
    ) -> Result<Option<ProviderState>, ProviderError> {
        match (reg.role, reg.provider_customer_id) {
            (TargetRole::ConnectedAccount, Some(id)) => {
                let path = format!("/v1/accounts/{}", path_id(id)?);
                let account = self.client.get(&path, None).await?;
                Ok(Some(account_state(&account)))
            }
            _ => Ok(None),
        }
    }

    fn reconciles(&self, role: TargetRole) -> bool {
        role == TargetRole::ConnectedAccount
    }

    fn simulated(&self) -> bool {
        false
    }
}
