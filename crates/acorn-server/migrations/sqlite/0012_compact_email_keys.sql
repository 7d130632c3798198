-- Blind indexes keep 16 bytes of their HMAC: `bi2:` and 32 hex digits instead of `bi1:` and 64
-- (the same HMAC-SHA256, cut, so every stored key converts here without the data keys; 128 bits
-- keep any two emails of a merchant apart). 64 bytes less per customer in the row and in
-- `customers_email_key` (issue #15, bytes per customer).
-- The partial index of keys that are not blind indexes follows the new prefix; it is dropped
-- first so the update does not fill it.
DROP INDEX customers_legacy_email_key;
UPDATE customers SET email_key = 'bi2:' || substr(email_key, 5, 32) WHERE email_key LIKE 'bi1:%';
CREATE INDEX customers_legacy_email_key ON customers (merchant_id) WHERE email_key NOT LIKE 'bi2:%';
