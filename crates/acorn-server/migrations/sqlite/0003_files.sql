-- KYC files (contract §4.7): metadata here, bytes in the file store under
-- <merchant_id>/<id>. Ids are UUIDv7 text, so id order is upload order.

CREATE TABLE files (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    customer_id TEXT NOT NULL REFERENCES customers(id),
    file_type TEXT NOT NULL,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- A customer's files, newest first.
CREATE INDEX files_customer ON files (merchant_id, customer_id, id);
