-- Idempotency keys: one row per (merchant, key), claimed before the request runs and
-- completed with its response (in the same transaction as the change, where there is one).

CREATE TABLE idempotency_keys (
    merchant_id TEXT NOT NULL,
    key TEXT NOT NULL,
    method TEXT NOT NULL,
    route TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status TEXT NOT NULL,
    response_status BIGINT,
    response_body TEXT,
    locked_until BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, key)
);

CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
