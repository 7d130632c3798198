-- Webhooks (contract §9): the endpoints a merchant registers, and one notification per event
-- and matching endpoint, written in the event's transaction and delivered in the background.

CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    url TEXT NOT NULL,
    description TEXT,
    -- NULL = every event; otherwise the names between commas, with a leading and a trailing
    -- comma (",customer.created,customer.updated,"), so a match is one LIKE.
    event_types TEXT,
    -- Kept as given: deliveries are signed with it (so it cannot be hashed).
    secret TEXT NOT NULL,
    is_active BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE UNIQUE INDEX webhook_endpoints_url ON webhook_endpoints (merchant_id, url);

CREATE TABLE webhook_notifications (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    webhook_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event TEXT NOT NULL,
    category TEXT NOT NULL,
    customer_id TEXT,
    -- pending | delivered | dead_lettered
    status TEXT NOT NULL,
    -- Failed attempts since the notification was created or last replayed.
    failures BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    locked_until BIGINT,
    -- JSON array of {attempted_at, status_code, error, duration_ms}.
    delivery_attempts TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE INDEX webhook_notifications_merchant ON webhook_notifications (merchant_id, created_at, id);
CREATE INDEX webhook_notifications_queue ON webhook_notifications (status, webhook_id, event_id);
