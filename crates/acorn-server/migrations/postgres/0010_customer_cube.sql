-- Exact counts for any combination of the country, document type and status filters: one
-- counter per (country, document type, status) cell and slot, kept with `customer_counts` in
-- each customer write's transaction ('' stands for no country / no document type). A list
-- filtered by two or three of them sums the matching cells instead of counting rows.
CREATE TABLE customer_cube (
    merchant_id TEXT NOT NULL,
    country_code TEXT NOT NULL,
    document_type TEXT NOT NULL,
    status TEXT NOT NULL,
    slot BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, country_code, document_type, status, slot)
);

INSERT INTO customer_cube (merchant_id, country_code, document_type, status, slot, n)
SELECT merchant_id, COALESCE(country_code, ''), COALESCE(document_type, ''), status, 0, COUNT(*)
FROM customers
WHERE deleted_at IS NULL
GROUP BY merchant_id, COALESCE(country_code, ''), COALESCE(document_type, ''), status;
