-- A merchant's mode (contract §13): 'sandbox' or 'live', chosen at creation and fixed.
-- Merchants created before modes existed start as 'sandbox' with mode_set_at NULL: an operator
-- who ran one in production marks it live once (`acorn merchants set-mode ID live`), which
-- sets mode_set_at; a merchant whose mode_set_at is set never changes mode again.
ALTER TABLE merchants ADD COLUMN mode TEXT NOT NULL DEFAULT 'sandbox';
ALTER TABLE merchants ADD COLUMN mode_set_at BIGINT;
