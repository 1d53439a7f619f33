-- Data and index keys are bound to their space: from wrap format 2 on, the space name takes part
-- in the wrapping (the AEAD's associated data), so a copy of a database restored under another
-- space does not decrypt there even with the same master key. Keys wrapped before (format 1) are
-- rewrapped to format 2 by the first Ward that opens the database in its recorded space.
ALTER TABLE ward_keys ADD COLUMN wrap_format smallint NOT NULL DEFAULT 1 CHECK (wrap_format IN (1, 2));
ALTER TABLE ward_keys ALTER COLUMN wrap_format SET DEFAULT 2;

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ward_app') THEN
    RAISE NOTICE 'ward: role ward_app does not exist; grants skipped';
    RETURN;
  END IF;
  GRANT UPDATE (wrapped, wrap_format) ON ward_keys TO ward_app;
END
$$;
