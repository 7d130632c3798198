//! The merchant's event log (contract §9).

use acorn_types::{Event, EventId, FailureReason, MerchantId, ReasonCode};

use crate::services::error::ServiceError;
use crate::store::Store;

/// A page of events, newest first, and whether more follow; a cursor must name one of the
/// merchant's own events.
pub async fn list(
    store: &Store,
    merchant: MerchantId,
    limit: i64,
    after: Option<EventId>,
    names: &[String],
) -> Result<(Vec<Event>, bool), ServiceError> {
    if let Some(id) = after {
        if !store.event_exists(merchant, id).await? {
            return Err(ServiceError::validation(vec![FailureReason::new(
                ReasonCode::InvalidCursor,
                "starting_after does not name one of your events",
                &["starting_after"],
            )]));
        }
    }
    Ok(store.list_events(merchant, limit, after, names).await?)
}
