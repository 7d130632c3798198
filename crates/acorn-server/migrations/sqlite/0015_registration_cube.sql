-- Exact counts for the registration filters (provider, target_role,
-- provider_registration_status), and an index to page through them newest first.
--
-- A customer's registration set is the sorted, comma-joined list of its registrations as
-- `provider:target_role:status`; `registration_sets` lists the members of every set seen, and
-- `registration_cube` counts the live customers with registrations per (set, country, document
-- type, customer status) — each such customer in exactly one cell. A registration filter
-- matches the sets with one member that satisfies every given filter, so its exact count is a
-- sum over their cells (a customer with two matching registrations is counted once). Both are
-- kept in the transaction of every registration status change and customer write.
CREATE TABLE registration_sets (
    regset TEXT NOT NULL,
    provider TEXT NOT NULL,
    target_role TEXT NOT NULL,
    status TEXT NOT NULL,
    PRIMARY KEY (regset, provider, target_role, status)
) WITHOUT ROWID;

CREATE TABLE registration_cube (
    merchant_id TEXT NOT NULL,
    regset TEXT NOT NULL,
    country_code TEXT NOT NULL,
    document_type TEXT NOT NULL,
    status TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, regset, country_code, document_type, status)
) WITHOUT ROWID;

-- A merchant's registrations in customer order: a filtered page walks it newest first.
CREATE INDEX registrations_merchant_customer
    ON registrations (merchant_id, customer_id, provider, target_role, status);

CREATE TEMP TABLE customer_regsets AS
SELECT customer_id,
       group_concat(provider || ':' || target_role || ':' || status, ','
                    ORDER BY provider || ':' || target_role || ':' || status) AS regset
FROM registrations
GROUP BY customer_id;

INSERT INTO registration_sets (regset, provider, target_role, status)
SELECT DISTINCT s.regset, r.provider, r.target_role, r.status
FROM customer_regsets s JOIN registrations r ON r.customer_id = s.customer_id;

INSERT INTO registration_cube (merchant_id, regset, country_code, document_type, status, n)
SELECT c.merchant_id, s.regset, COALESCE(c.country_code, ''), COALESCE(c.document_type, ''),
       c.status, COUNT(*)
FROM customer_regsets s JOIN customers c ON c.id = s.customer_id
WHERE c.deleted_at IS NULL
GROUP BY c.merchant_id, s.regset, COALESCE(c.country_code, ''), COALESCE(c.document_type, ''),
         c.status;

DROP TABLE customer_regsets;
