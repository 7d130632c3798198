-- Encryption at rest: one random data key per merchant, wrapped by the master key (which
-- lives outside the database: ACORN_MASTER_KEY or a key file). `master_version` names the
-- master key that wrapped it. The settings row `master_key_check` tells whether the master
-- key given at start-up is the one this database was sealed under.
CREATE TABLE merchant_keys (
    merchant_id TEXT PRIMARY KEY,
    master_version BIGINT NOT NULL,
    wrapped_key TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Erasure (DELETE /api/v1/customers/{id}): the row stays, redacted, so registrations and the
-- ledger keep their customer; reads treat a row with deleted_at as gone.
ALTER TABLE customers ADD COLUMN deleted_at BIGINT;
-- Lists and their counts walk the live rows only: the newest-first index leads with
-- (merchant_id, deleted_at) so `deleted_at IS NULL` stays an index search.
DROP INDEX customers_merchant_id;
CREATE INDEX customers_merchant_id ON customers (merchant_id, deleted_at, id);
