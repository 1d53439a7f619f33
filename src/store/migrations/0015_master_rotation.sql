-- Master key rotation. Each master key a database's keys were wrapped under is an epoch, known by
-- its key check value; `ward keys rotate --master` adds the next epoch and rewraps every data and
-- index key under it, one row at a time (an interrupted rotation resumes where it stopped).
CREATE TABLE ward_master_epochs (
  epoch integer PRIMARY KEY CHECK (epoch > 0),
  check_value bytea NOT NULL UNIQUE,
  dev boolean NOT NULL,
  provider text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- when every key was rewrapped under this epoch's master key
  completed_at timestamptz
);
INSERT INTO ward_master_epochs (epoch, check_value, dev, provider, created_at, completed_at)
  SELECT 1, check_value, dev, 'unrecorded', created_at, created_at FROM ward_master_check;

ALTER TABLE ward_keys ADD COLUMN master_epoch integer NOT NULL DEFAULT 1 CHECK (master_epoch > 0);

-- Audit signing keys are append-only: a rotation does not rewrite their rows but appends the seed
-- wrapped under the new master key here (append-only as well). New versions record their epoch.
ALTER TABLE ward_audit_signing_keys ADD COLUMN master_epoch integer NOT NULL DEFAULT 1 CHECK (master_epoch > 0);
CREATE TABLE ward_audit_signing_wraps (
  version integer NOT NULL REFERENCES ward_audit_signing_keys (version),
  epoch integer NOT NULL REFERENCES ward_master_epochs (epoch),
  wrapped bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (version, epoch)
);
CREATE TRIGGER ward_audit_signing_wraps_append_only BEFORE UPDATE OR DELETE ON ward_audit_signing_wraps
  FOR EACH ROW EXECUTE FUNCTION ward_audit_append_only();
CREATE TRIGGER ward_audit_signing_wraps_no_truncate BEFORE TRUNCATE ON ward_audit_signing_wraps
  FOR EACH STATEMENT EXECUTE FUNCTION ward_audit_append_only();

-- A wrapped key changes only from format 1 to 2 (binding it to its space) or to a later master
-- epoch (a master rotation); a new key is wrapped under the newest epoch only, so a Ward still
-- running on the old master key cannot add a key the finished rotation would leave behind.
CREATE OR REPLACE FUNCTION ward_keys_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.collection IS DISTINCT FROM OLD.collection OR NEW.purpose IS DISTINCT FROM OLD.purpose
     OR NEW.version IS DISTINCT FROM OLD.version OR NEW.created_at IS DISTINCT FROM OLD.created_at THEN
    RAISE EXCEPTION 'ward_keys: a key''s identity cannot change' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF (NEW.wrapped IS DISTINCT FROM OLD.wrapped OR NEW.wrap_format IS DISTINCT FROM OLD.wrap_format
      OR NEW.master_epoch IS DISTINCT FROM OLD.master_epoch)
     AND NOT (OLD.wrap_format = 1 AND NEW.wrap_format = 2 AND NEW.master_epoch = OLD.master_epoch)
     AND NOT (NEW.wrap_format = 2 AND OLD.wrap_format = 2 AND NEW.master_epoch > OLD.master_epoch) THEN
    RAISE EXCEPTION 'ward_keys: a wrapped key changes only from format 1 to format 2, or to a later master key'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END
$$;

CREATE FUNCTION ward_keys_newest_epoch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.master_epoch IS DISTINCT FROM (SELECT max(epoch) FROM ward_master_epochs) THEN
    RAISE EXCEPTION 'ward_keys: a new key must be wrapped under the newest master key (epoch %)',
      (SELECT max(epoch) FROM ward_master_epochs) USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER ward_keys_newest_epoch BEFORE INSERT ON ward_keys FOR EACH ROW EXECUTE FUNCTION ward_keys_newest_epoch();
CREATE TRIGGER ward_audit_signing_keys_newest_epoch BEFORE INSERT ON ward_audit_signing_keys
  FOR EACH ROW EXECUTE FUNCTION ward_keys_newest_epoch();

-- Only who may rewrap keys to a new epoch (the owner) may add one: an epoch nobody can finish
-- would leave the database refusing its own master key.
CREATE FUNCTION ward_master_epochs_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.epoch > 1 AND NOT has_column_privilege('ward_keys', 'master_epoch', 'UPDATE') THEN
    RAISE EXCEPTION 'ward_master_epochs: a new master key is added by the database owner (ward keys rotate --master)'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER ward_master_epochs_guard BEFORE INSERT ON ward_master_epochs FOR EACH ROW EXECUTE FUNCTION ward_master_epochs_guard();
CREATE TRIGGER ward_master_epochs_append_only BEFORE DELETE ON ward_master_epochs
  FOR EACH ROW EXECUTE FUNCTION ward_audit_append_only();

-- The application role records the first epoch of a new database and reads the others (and the
-- signing key wraps); adding an
-- epoch and rewrapping under it (the master_epoch column) is the owner's, through `ward keys rotate --master`.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ward_app') THEN
    RAISE NOTICE 'ward: role ward_app does not exist; grants skipped';
    RETURN;
  END IF;
  GRANT SELECT, INSERT ON ward_master_epochs TO ward_app;
  GRANT SELECT ON ward_audit_signing_wraps TO ward_app; -- written by the owner's rotation only
END
$$;
