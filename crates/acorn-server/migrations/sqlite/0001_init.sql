-- Acorn schema v1. Times are microseconds since the Unix epoch (BIGINT), ids are bare
-- lowercase UUID text (UUIDv7 for rows that are listed, so id order is creation order).

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE merchants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    client_id TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE customers (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    email TEXT NOT NULL,
    email_key TEXT NOT NULL,
    first_name TEXT,
    last_name TEXT,
    company_name TEXT,
    document_number TEXT,
    document_type TEXT,
    dob TEXT,
    phone_country_code TEXT,
    phone_area_code TEXT,
    phone_number TEXT,
    country_code TEXT,
    gender TEXT,
    house_number TEXT,
    street_number TEXT,
    street_name TEXT,
    neighborhood TEXT,
    postal_code TEXT,
    city TEXT,
    state TEXT,
    subdivision TEXT,
    mother_name TEXT,
    owner_legal_name TEXT,
    owner_document_number TEXT,
    owner_document_type TEXT,
    company_start_date TEXT,
    social_name TEXT,
    tax_id TEXT,
    monthly_net_income REAL,
    additional_info TEXT,
    status TEXT NOT NULL,
    customer_wallet TEXT,
    trading_wallet TEXT,
    account_type TEXT,
    synced BIGINT,
    synced_at BIGINT,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- One email per merchant, compared case-insensitively (email_key is the lowercased email).
CREATE UNIQUE INDEX customers_email_key ON customers (merchant_id, email_key);
-- Newest-first listing and cursors: (merchant_id, id) walked backwards.
CREATE INDEX customers_merchant_id ON customers (merchant_id, id);
CREATE INDEX customers_country ON customers (merchant_id, country_code, id);
CREATE INDEX customers_document_type ON customers (merchant_id, document_type, id);
CREATE INDEX customers_status ON customers (merchant_id, status, id);

-- Exact list counts without COUNT(*) over every match: counters kept in the same transaction
-- as each customer write, spread over slots so concurrent writers do not queue on one row.
CREATE TABLE customer_counts (
    merchant_id TEXT NOT NULL,
    dim TEXT NOT NULL,
    value TEXT NOT NULL,
    slot BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, dim, value, slot)
);

CREATE TABLE events (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    customer_id TEXT,
    event TEXT NOT NULL,
    category TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX events_merchant_id ON events (merchant_id, id);
CREATE INDEX events_merchant_event ON events (merchant_id, event, id);
