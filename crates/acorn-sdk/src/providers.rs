//! `ProviderService`: provider registrations (contract §6).

use std::fmt;
use std::sync::Arc;

use acorn_types::{
    ApiResponse, Provider, ProviderSchemaResponse, Registration, SchemaQuery,
    SubmitRegistrationRequest,
};
use reqwest::Method;

use crate::error::OakError;
use crate::path::segment;
use crate::transport::{Call, Inner};

/// The provider registration endpoints. Get one with
/// [`OakClient::providers`](crate::OakClient::providers).
#[derive(Clone)]
pub struct ProviderService {
    inner: Arc<Inner>,
}

impl fmt::Debug for ProviderService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderService").finish_non_exhaustive()
    }
}

fn registration_path(customer_id: &str, action: &str) -> Result<String, OakError> {
    Ok(format!(
        "/api/v1/provider-registration/{}/{action}",
        segment("customer id", customer_id)?
    ))
}

impl ProviderService {
    pub(crate) fn new(inner: Arc<Inner>) -> Self {
        Self { inner }
    }

    /// What a provider needs before a registration can be submitted, per role
    /// (`GET /api/v1/provider-registration/schema?provider=…`).
    ///
    /// ```no_run
    /// # async fn run(client: acorn_sdk::OakClient) -> Result<(), acorn_sdk::OakError> {
    /// use acorn_sdk::types::Provider;
    ///
    /// let result = client.providers().get_schema(Provider::Stripe).await?;
    /// for (role, schema) in &result.data.schema.roles {
    ///     println!("{role}: needs {:?}", schema.required_fields);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn get_schema(
        &self,
        provider: Provider,
    ) -> Result<ApiResponse<ProviderSchemaResponse>, OakError> {
        let call = Call::new(Method::GET, "/api/v1/provider-registration/schema".into())
            .query(&SchemaQuery { provider })?;
        self.inner.call(call).await
    }

    /// Every registration of a customer
    /// (`GET /api/v1/provider-registration/{customer_id}/status`).
    ///
    /// ```no_run
    /// # async fn run(client: acorn_sdk::OakClient) -> Result<(), acorn_sdk::OakError> {
    /// let result = client.providers().get_registration_status("cus_abc123").await?;
    /// for r in &result.data {
    ///     println!("{} as {}: {}", r.provider, r.target_role, r.status);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn get_registration_status(
        &self,
        customer_id: &str,
    ) -> Result<ApiResponse<Vec<Registration>>, OakError> {
        let call = Call::new(Method::GET, registration_path(customer_id, "status")?);
        self.inner.call(call).await
    }

    /// Submits (or resubmits after a rejection) a customer's registration with a provider
    /// (`POST /api/v1/provider-registration/{customer_id}/submit`). Returns every registration of
    /// the customer, the submitted one first.
    ///
    /// ```no_run
    /// # async fn run(client: acorn_sdk::OakClient) -> Result<(), acorn_sdk::OakError> {
    /// use acorn_sdk::types::{Provider, SubmitRegistrationRequest, TargetRole};
    ///
    /// let req = SubmitRegistrationRequest::new(Provider::Stripe, TargetRole::ConnectedAccount)
    ///     .with("account_type", "express");
    /// let result = client.providers().submit_registration("cus_abc123", &req).await?;
    /// println!("Status: {}", result.data[0].status);
    /// # Ok(()) }
    /// ```
    pub async fn submit_registration(
        &self,
        customer_id: &str,
        request: &SubmitRegistrationRequest,
    ) -> Result<ApiResponse<Vec<Registration>>, OakError> {
        let call =
            Call::new(Method::POST, registration_path(customer_id, "submit")?).json(request)?;
        self.inner.call(call).await
    }
}
