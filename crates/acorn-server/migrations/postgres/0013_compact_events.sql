-- Events without a second copy of their id (issue #15, bytes per customer): an event is read by
-- (merchant_id, id), so the unique index on that pair is the key and the primary key's own index
-- goes. The category is a function of the event name, so it is a generated column (as on SQLite,
-- where it is virtual).
ALTER TABLE events DROP CONSTRAINT events_pkey;
DROP INDEX events_merchant_id;
CREATE UNIQUE INDEX events_merchant_id ON events (merchant_id, id);
ALTER TABLE events DROP COLUMN category;
ALTER TABLE events ADD COLUMN category TEXT NOT NULL GENERATED ALWAYS AS (
    CASE WHEN substr(event, 1, 14) = 'customer.sync.' THEN 'customer_sync_lifecycle'
    ELSE 'provider_registration_lifecycle' END
) STORED;
