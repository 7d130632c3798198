//! `CustomerService`: the customers endpoints (contract §4), one method per TypeScript SDK
//! method.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;

use acorn_types::{
    ApiResponse, BalanceFilter, Balances, Customer, CustomerBatchItem, CustomerBatchRequest,
    CustomerBatchResponse, CustomerDeleted, CustomerFile, CustomerList, CustomerRequest, FileType,
    IdempotencyKey, ListParams, PlatformRequest, Registration, SyncRequest, BATCH_MAX_ITEMS,
};
use futures::Stream;
use reqwest::Method;

use crate::error::OakError;
use crate::path::segment;
use crate::transport::{decode, Body, Call, Inner};
use crate::upload::FileUpload;

/// The customers endpoints. Get one with [`OakClient::customers`](crate::OakClient::customers).
#[derive(Clone)]
pub struct CustomerService {
    inner: Arc<Inner>,
}

impl fmt::Debug for CustomerService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CustomerService").finish_non_exhaustive()
    }
}

/// What became of one item of [`CustomerService::create_batch`].
#[derive(Debug)]
pub struct BatchOutcome {
    /// The key the item was sent with: the caller's, or one generated for it.
    pub idempotency_key: String,
    /// Whether the answer is the stored one of an earlier use of the key.
    pub replayed: bool,
    /// The customer, or the error `create` would have returned for this item.
    pub result: Result<ApiResponse<Customer>, OakError>,
}

/// The server's rule for keys ([`acorn_types::is_valid_idempotency_key`]), checked before
/// anything is sent.
fn check_key(key: &str) -> Result<(), OakError> {
    IdempotencyKey::parse(key)
        .map(|_| ())
        .map_err(|e| OakError::InvalidArgument(e.to_string()))
}

fn customer_path(id: &str, rest: &str) -> Result<String, OakError> {
    Ok(format!(
        "/api/v1/customers/{}{rest}",
        segment("customer id", id)?
    ))
}

impl CustomerService {
    pub(crate) fn new(inner: Arc<Inner>) -> Self {
        Self { inner }
    }

    /// Creates a customer (`POST /api/v1/customers`). `email` is required.
    ///
    /// ```no_run
    /// # async fn run(client: acorn_sdk::OakClient) -> Result<(), acorn_sdk::OakError> {
    /// use acorn_sdk::types::CustomerRequest;
    ///
    /// let customers = client.customers();
    /// let result = customers
    ///     .create(&CustomerRequest {
    ///         email: Some("alice@example.com".into()),
    ///         first_name: Some("Alice".into()),
    ///         last_name: Some("Smith".into()),
    ///         country_code: Some("US".into()),
    ///         ..Default::default()
    ///     })
    ///     .await?;
    /// println!("Customer ID: {}", result.data.id);
    /// # Ok(()) }
    /// ```
    pub async fn create(
        &self,
        customer: &CustomerRequest,
    ) -> Result<ApiResponse<Customer>, OakError> {
        let call = Call::new(Method::POST, "/api/v1/customers".into()).json(customer)?;
        self.inner.call(call).await
    }

    /// Like [`create`](Self::create), but sends `key` as the `Idempotency-Key` (on every
    /// attempt) instead of a fresh random one, so that repeating the call — in a later process,
    /// after a crash — creates the customer at most once: within the server's retention window
    /// (24 h by default) a repeat with the same key and body gets the first answer replayed.
    /// A key must be 1–255 printable ASCII characters, space included (the server's rule,
    /// [`acorn_types::is_valid_idempotency_key`]); the same key with a different body is
    /// refused by the server (422 `idempotency_mismatch`).
    ///
    /// ```no_run
    /// # async fn run(client: acorn_sdk::OakClient) -> Result<(), acorn_sdk::OakError> {
    /// use acorn_sdk::types::CustomerRequest;
    ///
    /// let alice = CustomerRequest { email: Some("alice@example.com".into()), ..Default::default() };
    /// let first = client.customers().create_with_idempotency_key(&alice, "import-42").await?;
    /// let again = client.customers().create_with_idempotency_key(&alice, "import-42").await?;
    /// assert_eq!(first.data.id, again.data.id);
    /// # Ok(()) }
    /// ```
    pub async fn create_with_idempotency_key(
        &self,
        customer: &CustomerRequest,
        key: &str,
    ) -> Result<ApiResponse<Customer>, OakError> {
        check_key(key)?;
        let mut call = Call::new(Method::POST, "/api/v1/customers".into()).json(customer)?;
        call.idempotency_key = Some(key.to_owned());
        self.inner.call(call).await
    }

    /// Creates up to 100 customers in one request (`POST /api/v1/customers/batch`, an Acorn
    /// extension for bulk imports). Each item is answered exactly as
    /// [`create_with_idempotency_key`](Self::create_with_idempotency_key) with its key would
    /// have been, in the order given; an item without a key gets a generated one, so retrying a
    /// batch (the SDK does, on 429, 5xx and network errors) never creates anyone twice.
    ///
    /// The outer `Result` fails only when the batch as a whole does (network, credentials, a
    /// malformed batch); each item's own refusal is in its [`BatchOutcome::result`].
    ///
    /// ```no_run
    /// # async fn run(client: acorn_sdk::OakClient) -> Result<(), acorn_sdk::OakError> {
    /// use acorn_sdk::types::{CustomerBatchItem, CustomerRequest};
    ///
    /// let items: Vec<CustomerBatchItem> = ["ana@example.com", "bo@example.com"]
    ///     .iter()
    ///     .enumerate()
    ///     .map(|(row, email)| CustomerBatchItem {
    ///         idempotency_key: Some(format!("signup-import-{row}")),
    ///         customer: CustomerRequest { email: Some((*email).into()), ..Default::default() },
    ///     })
    ///     .collect();
    /// for outcome in client.customers().create_batch(&items).await? {
    ///     match outcome.result {
    ///         Ok(created) => println!("{} created", created.data.id),
    ///         Err(e) => println!("{}: {}", outcome.idempotency_key, e),
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn create_batch(
        &self,
        items: &[CustomerBatchItem],
    ) -> Result<Vec<BatchOutcome>, OakError> {
        if items.is_empty() || items.len() > BATCH_MAX_ITEMS {
            return Err(OakError::InvalidArgument(format!(
                "a batch holds 1 to {BATCH_MAX_ITEMS} customers, got {}",
                items.len()
            )));
        }
        let mut request = CustomerBatchRequest {
            items: items.to_vec(),
        };
        for item in &mut request.items {
            match &item.idempotency_key {
                Some(key) => check_key(key)?,
                None => item.idempotency_key = Some(uuid::Uuid::new_v4().to_string()),
            }
        }
        let mut call = Call::new(Method::POST, "/api/v1/customers/batch".into()).json(&request)?;
        call.keyed_items = true;
        let response: ApiResponse<CustomerBatchResponse> = self.inner.call(call).await?;
        let results = response.data.results;
        if results.len() != request.items.len() {
            return Err(OakError::Decode {
                status: reqwest::StatusCode::OK,
                path: "data.results".into(),
                message: format!(
                    "{} results for {} items",
                    results.len(),
                    request.items.len()
                ),
            });
        }
        let mut out = Vec::with_capacity(results.len());
        for (item, r) in request.items.into_iter().zip(results) {
            let status = reqwest::StatusCode::from_u16(r.status).map_err(|_| OakError::Decode {
                status: reqwest::StatusCode::OK,
                path: "data.results[].status".into(),
                message: format!("{} is not an HTTP status", r.status),
            })?;
            let raw = serde_json::to_vec(&r.body).unwrap_or_default();
            let result = if status.is_success() {
                decode(status, &raw)
            } else {
                Err(OakError::api(
                    status,
                    reqwest::header::HeaderMap::new(),
                    &raw,
                ))
            };
            out.push(BatchOutcome {
                idempotency_key: item.idempotency_key.unwrap_or_default(),
                replayed: r.replayed,
                result,
            });
        }
        Ok(out)
    }

    /// Gets one customer, with its `platforms` (`GET /api/v1/customers/{id}`).
    ///
    /// ```no_run
    /// # async fn run(client: acorn_sdk::OakClient) -> Result<(), acorn_sdk::OakError> {
    /// let result = client.customers().get("cus_abc123").await?;
    /// println!("Email: {}", result.data.email);
    /// # Ok(()) }
    /// ```
    pub async fn get(&self, id: &str) -> Result<ApiResponse<Customer>, OakError> {
        let call = Call::new(Method::GET, customer_path(id, "")?);
        self.inner.call(call).await
    }

    /// Erases a customer (`DELETE /api/v1/customers/{id}`): personal data and files are gone,
    /// registrations and ledger stay. Repeatable.
    pub async fn delete(&self, id: &str) -> Result<ApiResponse<CustomerDeleted>, OakError> {
        let call = Call::new(Method::DELETE, customer_path(id, "")?);
        self.inner.call(call).await
    }

    /// Lists customers, newest first (`GET /api/v1/customers`). `count` is the total matching
    /// the filters; `has_more` says whether another page follows.
    ///
    /// ```no_run
    /// # async fn run(client: acorn_sdk::OakClient) -> Result<(), acorn_sdk::OakError> {
    /// use acorn_sdk::types::ListParams;
    ///
    /// let result = client
    ///     .customers()
    ///     .list(&ListParams {
    ///         limit: Some(10),
    ///         offset: Some(0),
    ///         email: vec!["alice@example.com".into()],
    ///         ..Default::default()
    ///     })
    ///     .await?;
    /// println!("Total: {}", result.data.count);
    /// for c in &result.data.customer_list {
    ///     println!(" {} — {}", c.id, c.email);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn list(&self, params: &ListParams) -> Result<ApiResponse<CustomerList>, OakError> {
        let call = Call::new(Method::GET, "/api/v1/customers".into()).query(params)?;
        self.inner.call(call).await
    }

    /// Every customer matching `params`, newest first, fetched page by page with cursors
    /// (`starting_after` = the last id of the previous page), so no customer is skipped or
    /// repeated when others are created meanwhile.
    ///
    /// `params.limit` is the page size; `params.starting_after` may give where to start.
    /// `offset` and `ending_before` cannot be used here: the stream yields
    /// [`OakError::InvalidArgument`] if they are set. The stream ends after the first error.
    ///
    /// ```no_run
    /// # async fn run(client: acorn_sdk::OakClient) -> Result<(), acorn_sdk::OakError> {
    /// use acorn_sdk::types::{CustomerStatus, ListParams};
    /// use futures::TryStreamExt;
    ///
    /// let params = ListParams { limit: Some(100), status: vec![CustomerStatus::Approved], ..Default::default() };
    /// let mut all = std::pin::pin!(client.customers().list_all(params));
    /// while let Some(customer) = all.try_next().await? {
    ///     println!("{}", customer.id);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn list_all(
        &self,
        params: ListParams,
    ) -> impl Stream<Item = Result<Customer, OakError>> + Send + 'static {
        struct Pager {
            service: CustomerService,
            params: ListParams,
            buffer: VecDeque<Customer>,
            done: bool,
        }
        let invalid = if params.offset.is_some() || params.ending_before.is_some() {
            Some(OakError::InvalidArgument(
                "list_all pages with starting_after; offset and ending_before must be unset".into(),
            ))
        } else {
            None
        };
        let pager = Pager {
            service: self.clone(),
            params,
            buffer: VecDeque::new(),
            done: false,
        };
        futures::stream::unfold((pager, invalid), |(mut p, invalid)| async move {
            if let Some(e) = invalid {
                p.done = true;
                return Some((Err(e), (p, None)));
            }
            loop {
                if let Some(c) = p.buffer.pop_front() {
                    return Some((Ok(c), (p, None)));
                }
                if p.done {
                    return None;
                }
                match p.service.list(&p.params).await {
                    Ok(page) => {
                        let page = page.data;
                        p.done = !page.has_more || page.customer_list.is_empty();
                        if let Some(last) = page.customer_list.last() {
                            p.params.starting_after = Some(last.id.clone());
                        }
                        p.buffer.extend(page.customer_list);
                    }
                    Err(e) => {
                        p.done = true;
                        return Some((Err(e), (p, None)));
                    }
                }
            }
        })
    }

    /// Updates a customer (`PUT /api/v1/customers/{id}`): fields left `None` are unchanged,
    /// fields named in `null_fields` are cleared.
    ///
    /// ```no_run
    /// # async fn run(client: acorn_sdk::OakClient) -> Result<(), acorn_sdk::OakError> {
    /// use acorn_sdk::types::CustomerRequest;
    ///
    /// let result = client
    ///     .customers()
    ///     .update(
    ///         "cus_abc123",
    ///         &CustomerRequest {
    ///             first_name: Some("Alice".into()),
    ///             last_name: Some("Johnson".into()),
    ///             phone_country_code: Some("1".into()),
    ///             phone_area_code: Some("415".into()),
    ///             phone_number: Some("5551234".into()),
    ///             ..Default::default()
    ///         },
    ///     )
    ///     .await?;
    /// println!("Updated: {:?}", result.data.last_name);
    /// # Ok(()) }
    /// ```
    pub async fn update(
        &self,
        id: &str,
        customer: &CustomerRequest,
    ) -> Result<ApiResponse<Customer>, OakError> {
        let call = Call::new(Method::PUT, customer_path(id, "")?).json(customer)?;
        self.inner.call(call).await
    }

    /// Schedules pushing customer fields to one provider (`POST /api/v1/customers/{id}/sync`).
    /// The sync itself runs asynchronously on the server; `data` is `null`.
    ///
    /// ```no_run
    /// # async fn run(client: acorn_sdk::OakClient) -> Result<(), acorn_sdk::OakError> {
    /// use acorn_sdk::types::{Provider, SyncField, SyncRequest};
    ///
    /// let sync = SyncRequest::new(Provider::Stripe, [SyncField::Email, SyncField::FirstName, SyncField::LastName]);
    /// client.customers().sync("cus_abc123", &sync).await?;
    /// println!("Synced successfully");
    /// # Ok(()) }
    /// ```
    pub async fn sync(
        &self,
        id: &str,
        sync: &SyncRequest,
    ) -> Result<ApiResponse<Option<serde_json::Value>>, OakError> {
        let call = Call::new(Method::POST, customer_path(id, "/sync")?).json(sync)?;
        self.inner.call(call).await
    }

    /// A customer's balances at its provider accounts
    /// (`GET /api/v1/customers/{id}/balances?provider=&role=`).
    ///
    /// ```no_run
    /// # async fn run(client: acorn_sdk::OakClient) -> Result<(), acorn_sdk::OakError> {
    /// use acorn_sdk::types::{BalanceFilter, Provider, TargetRole};
    ///
    /// let result = client
    ///     .customers()
    ///     .balance("cus_abc123", &BalanceFilter::new(Provider::Stripe, TargetRole::ConnectedAccount))
    ///     .await?;
    /// for b in &result.data.balances {
    ///     println!("Account: {} — Provider: {}", b.account_id, b.provider);
    ///     for t in &b.totals {
    ///         println!("  {}: {} (pending: {})", t.currency, t.available, t.pending);
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn balance(
        &self,
        id: &str,
        filter: &BalanceFilter,
    ) -> Result<ApiResponse<Balances>, OakError> {
        let call = Call::new(Method::GET, customer_path(id, "/balances")?).query(filter)?;
        self.inner.call(call).await
    }

    /// Uploads one or more documents of one type (`POST /api/v1/customers/{id}/files`,
    /// multipart: a `file_type` text part and one `file` part per document). All or nothing.
    ///
    /// ```no_run
    /// # async fn run(client: acorn_sdk::OakClient) -> Result<(), acorn_sdk::OakError> {
    /// use acorn_sdk::FileUpload;
    /// use acorn_sdk::types::FileType;
    ///
    /// let passport = FileUpload::from_path("passport.pdf").await?;
    /// let result = client
    ///     .customers()
    ///     .upload_files("cus_abc123", FileType::Passport, vec![passport])
    ///     .await?;
    /// println!("Files uploaded: {}", result.data.len());
    /// # Ok(()) }
    /// ```
    pub async fn upload_files(
        &self,
        id: &str,
        file_type: FileType,
        files: Vec<FileUpload>,
    ) -> Result<ApiResponse<Vec<CustomerFile>>, OakError> {
        if files.is_empty() {
            return Err(OakError::InvalidArgument(
                "at least one file is required".into(),
            ));
        }
        for f in &files {
            if let Some(ct) = &f.content_type {
                if reqwest::multipart::Part::bytes(Vec::new())
                    .mime_str(ct)
                    .is_err()
                {
                    return Err(OakError::InvalidArgument(format!(
                        "invalid content type {ct:?}"
                    )));
                }
            }
        }
        let mut call = Call::new(Method::POST, customer_path(id, "/files")?);
        call.body = Body::Multipart {
            file_type: file_type.as_str().to_owned(),
            files,
        };
        self.inner.call(call).await
    }

    /// A customer's stored files, newest first, each with a temporary download link
    /// (`GET /api/v1/customers/{id}/files`).
    ///
    /// ```no_run
    /// # async fn run(client: acorn_sdk::OakClient) -> Result<(), acorn_sdk::OakError> {
    /// let result = client.customers().get_files("cus_abc123").await?;
    /// for file in &result.data {
    ///     println!("File: {} — {}", file.id, file.name);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn get_files(&self, id: &str) -> Result<ApiResponse<Vec<CustomerFile>>, OakError> {
        let call = Call::new(Method::GET, customer_path(id, "/files")?);
        self.inner.call(call).await
    }

    /// Creates (if missing) the customer's registration for a provider and role, merges the
    /// extra keys into its provider data and pushes the customer's profile to the provider
    /// (`POST /api/v1/customers/{id}/platforms`). Returns every registration of the customer.
    ///
    /// ```no_run
    /// # async fn run(client: acorn_sdk::OakClient) -> Result<(), acorn_sdk::OakError> {
    /// use acorn_sdk::types::{PlatformRequest, Provider, TargetRole};
    ///
    /// let req = PlatformRequest::new(Provider::Stripe, TargetRole::Customer);
    /// let result = client.customers().populate_platform("cus_abc123", &req).await?;
    /// println!("Platform data populated: {} registration(s)", result.data.len());
    /// # Ok(()) }
    /// ```
    pub async fn populate_platform(
        &self,
        id: &str,
        request: &PlatformRequest,
    ) -> Result<ApiResponse<Vec<Registration>>, OakError> {
        let call = Call::new(Method::POST, customer_path(id, "/platforms")?).json(request)?;
        self.inner.call(call).await
    }
}
