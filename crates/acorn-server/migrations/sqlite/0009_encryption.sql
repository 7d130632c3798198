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
