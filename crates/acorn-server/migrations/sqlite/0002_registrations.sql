-- Provider registrations and durable background jobs.

CREATE TABLE registrations (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    customer_id TEXT NOT NULL REFERENCES customers(id),
    provider TEXT NOT NULL,
    target_role TEXT NOT NULL,
    status TEXT NOT NULL,
    provider_customer_id TEXT,
    provider_data TEXT NOT NULL,
    provider_response TEXT,
    rejection_reason TEXT,
    readiness TEXT,
    failure_reasons TEXT,
    changes TEXT,
    action_required BIGINT NOT NULL,
    documents TEXT NOT NULL,
    manual_review BIGINT NOT NULL,
    missing_fields TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- One registration per (customer, provider, role); also serves the list filters' EXISTS probe.
CREATE UNIQUE INDEX registrations_customer_provider_role ON registrations (customer_id, provider, target_role);
CREATE INDEX registrations_merchant_filter ON registrations (merchant_id, provider, target_role, status, customer_id);
CREATE INDEX registrations_merchant_status ON registrations (merchant_id, status, customer_id);

-- Background work. A job is claimed by setting locked_until (a lease); it is deleted in the same
-- transaction as its effect, so a crash before that commit leaves it to be claimed again.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    merchant_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    run_at BIGINT NOT NULL,
    locked_until BIGINT,
    attempts BIGINT NOT NULL,
    last_error TEXT,
    created_at BIGINT NOT NULL
);

CREATE INDEX jobs_due ON jobs (run_at);
