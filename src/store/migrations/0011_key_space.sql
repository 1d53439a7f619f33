-- Data and index keys are bound to their space: from wrap format 2 on, the space's name and tier
-- take part in the wrapping (the AEAD's associated data), so a copy of a database restored under
-- another space does not decrypt there even with the same master key. Keys wrapped before
-- (format 1) are rewrapped to format 2 by the first Ward that opens the database in its recorded
-- space. The default stays 1: a Ward from before this migration, still running during a deploy,
-- inserts keys wrapped the old way, and they must be read that way (and rewrapped later).
ALTER TABLE ward_keys ADD COLUMN wrap_format smallint NOT NULL DEFAULT 1 CHECK (wrap_format IN (1, 2));

-- The wrapping of a key may change once, from format 1 to format 2 (the same key, bound to the
-- space); nothing else about a stored key may change but whether it is active. Without this, the
-- application role's UPDATE on `wrapped` could overwrite every key and destroy the data.
CREATE FUNCTION ward_keys_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.collection IS DISTINCT FROM OLD.collection OR NEW.purpose IS DISTINCT FROM OLD.purpose
     OR NEW.version IS DISTINCT FROM OLD.version OR NEW.created_at IS DISTINCT FROM OLD.created_at THEN
    RAISE EXCEPTION 'ward_keys: a key''s identity cannot change' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF (NEW.wrapped IS DISTINCT FROM OLD.wrapped OR NEW.wrap_format IS DISTINCT FROM OLD.wrap_format)
     AND NOT (OLD.wrap_format = 1 AND NEW.wrap_format = 2) THEN
    RAISE EXCEPTION 'ward_keys: a wrapped key changes only from format 1 to format 2' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER ward_keys_guard BEFORE UPDATE ON ward_keys FOR EACH ROW EXECUTE FUNCTION ward_keys_guard();

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ward_app') THEN
    RAISE NOTICE 'ward: role ward_app does not exist; grants skipped';
    RETURN;
  END IF;
  GRANT UPDATE (wrapped, wrap_format) ON ward_keys TO ward_app;
END
$$;
