-- Subjects and crypto-shredding. A collection may name a subject field (e.g. mrn): each subject's
-- records are sealed under a per-subject data key, kept OUTSIDE this database (the subject key
-- store, see README "Subjects and crypto-shredding"), so a backup of this database holds no
-- subject key. `subject` is a keyed MAC of the subject's value (never the value); `subject_key`
-- the id of the key that sealed the record (random, not key material).
ALTER TABLE ward_records ADD COLUMN subject bytea, ADD COLUMN subject_key bytea;
ALTER TABLE ward_records_archive ADD COLUMN subject bytea, ADD COLUMN subject_key bytea;
CREATE INDEX ward_records_subject ON ward_records (collection, subject) WHERE subject IS NOT NULL;
CREATE INDEX ward_records_archive_subject ON ward_records_archive (collection, subject) WHERE subject IS NOT NULL;

-- Each subject's current key id, mirrored from the key store: a shred deletes the row first (its
-- lock waits for writes under way), so no record is written under a key being destroyed.
CREATE TABLE ward_subjects (
  collection text NOT NULL,
  subject bytea NOT NULL,
  key_id bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (collection, subject)
);

-- What was shredded, and when: the subject's MAC, the id of the key destroyed and how many records
-- it took (no value). A key id here is never written under again; `key_destroyed_at` is set once
-- the key store no longer holds the key (a shred commits here first, then destroys the key, and a
-- shred whose key store step failed is finished by the next one, or at start).
CREATE TABLE ward_subject_shreds (
  collection text NOT NULL,
  subject bytea NOT NULL,
  key_id bytea NOT NULL,
  records integer NOT NULL,
  shredded_at timestamptz NOT NULL DEFAULT now(),
  key_destroyed_at timestamptz,
  PRIMARY KEY (collection, subject, key_id)
);
CREATE INDEX ward_subject_shreds_pending ON ward_subject_shreds (shredded_at) WHERE key_destroyed_at IS NULL;

-- A record sealed under a subject key is written only while that key is the subject's current
-- one. The check runs in a volatile function (a fresh snapshot) and share-locks the subject's row:
-- a shred that deletes the row first makes the write fail (WA410),
-- which Ward retries under the subject's new key.
CREATE FUNCTION ward_subject_current() RETURNS trigger LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  IF NEW.subject IS NULL THEN
    RETURN NEW;
  END IF;
  PERFORM 1 FROM ward_subjects s
    WHERE s.collection = NEW.collection AND s.subject = NEW.subject AND s.key_id = NEW.subject_key FOR SHARE;
  IF NOT FOUND OR EXISTS (SELECT 1 FROM ward_subject_shreds x
                          WHERE x.collection = NEW.collection AND x.subject = NEW.subject AND x.key_id = NEW.subject_key) THEN
    RAISE EXCEPTION 'ward: the subject''s key was shredded during the write' USING ERRCODE = 'WA410';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER ward_records_subject_current BEFORE INSERT OR UPDATE OF subject, subject_key, sealed ON ward_records
  FOR EACH ROW EXECUTE FUNCTION ward_subject_current();

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ward_app') THEN
    RAISE NOTICE 'ward: role ward_app does not exist; grants skipped';
    RETURN;
  END IF;
  GRANT SELECT, INSERT, UPDATE, DELETE ON ward_subjects TO ward_app;
  GRANT SELECT, INSERT ON ward_subject_shreds TO ward_app;
  GRANT UPDATE (key_destroyed_at) ON ward_subject_shreds TO ward_app;
END
$$;
