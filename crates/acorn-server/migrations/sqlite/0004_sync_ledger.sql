-- Sync attempts and the sandbox's append-only balance ledger.

CREATE TABLE sync_attempts (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    customer_id TEXT NOT NULL REFERENCES customers(id),
    provider TEXT NOT NULL,
    fields TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    max_attempts BIGINT NOT NULL,
    next_attempt_at BIGINT,
    last_error TEXT,
    provider_response TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    completed_at BIGINT
);

CREATE INDEX sync_attempts_customer ON sync_attempts (merchant_id, customer_id, id);

-- Never updated or deleted: a balance is the sum of its entries.
CREATE TABLE ledger_entries (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    registration_id TEXT NOT NULL REFERENCES registrations(id),
    currency TEXT NOT NULL,
    bucket TEXT NOT NULL,
    amount BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX ledger_entries_registration ON ledger_entries (registration_id, currency, bucket);
