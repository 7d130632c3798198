-- The instance that claimed an in-flight Idempotency-Key. A restarted instance releases the
-- claims it left in flight (its requests died with it) instead of making retries wait out the
-- lease. NULL for claims made before this column existed (they keep the lease).
ALTER TABLE idempotency_keys ADD COLUMN instance_id TEXT;
