//! `EventService`: the merchant's event log (contract §9).

use std::fmt;
use std::sync::Arc;

use acorn_types::{ApiResponse, EventList, EventListParams};
use reqwest::Method;

use crate::error::OakError;
use crate::transport::{Call, Inner};

/// The event log. Get one with [`OakClient::events`](crate::OakClient::events).
#[derive(Clone)]
pub struct EventService {
    inner: Arc<Inner>,
}

impl fmt::Debug for EventService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventService").finish_non_exhaustive()
    }
}

impl EventService {
    pub(crate) fn new(inner: Arc<Inner>) -> Self {
        Self { inner }
    }

    /// The merchant's events, newest first (`GET /api/v1/events`).
    ///
    /// ```no_run
    /// # async fn run(client: acorn_sdk::OakClient) -> Result<(), acorn_sdk::OakError> {
    /// use acorn_sdk::types::EventListParams;
    ///
    /// let params = EventListParams { limit: Some(20), event: vec!["customer.verified".into()], ..Default::default() };
    /// let result = client.events().list(&params).await?;
    /// for e in &result.data.event_list {
    ///     println!("{} {} {}", e.created_at, e.event, e.id);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn list(&self, params: &EventListParams) -> Result<ApiResponse<EventList>, OakError> {
        let call = Call::new(Method::GET, "/api/v1/events".into()).query(params)?;
        self.inner.call(call).await
    }
}
