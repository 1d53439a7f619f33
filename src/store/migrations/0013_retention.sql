-- Retention and legal hold. A record past its expires_at is no longer served (it answers as gone,
-- outcome `expired` in the audit trail); the purge job moves expired records that no hold keeps
-- into ward_records_archive (restorable by an operator until purge_after), then removes them for
-- good. An archived record keeps its unique entries (ward_unique) until then, so a restore never
-- finds its unique values taken. ward_gone keeps the id of every record retention took (an id, never a value), so a later
-- request for it is told it is gone rather than never existed.
CREATE INDEX ward_records_expiry ON ward_records (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE ward_records_archive (
  id uuid PRIMARY KEY,
  collection text NOT NULL,
  version integer NOT NULL,
  key_version integer NOT NULL,
  public jsonb NOT NULL,
  sealed json NOT NULL,
  tokens json NOT NULL,
  lookup bytea[] NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  expires_at timestamptz,
  -- The record's unique entries ([{field, value (hex)}]), to put back on a restore.
  unique_entries jsonb NOT NULL DEFAULT '[]',
  archived_at timestamptz NOT NULL DEFAULT now(),
  purge_after timestamptz NOT NULL
);
CREATE INDEX ward_records_archive_purge ON ward_records_archive (purge_after);

CREATE TABLE ward_gone (
  id uuid PRIMARY KEY,
  collection text NOT NULL,
  gone_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ward_holds (
  id uuid PRIMARY KEY,
  collection text NOT NULL,
  record_id uuid NOT NULL,
  reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
  created_at timestamptz NOT NULL DEFAULT now(),
  created_by text NOT NULL,
  removed_at timestamptz,
  removed_by text
);
CREATE INDEX ward_holds_record ON ward_holds (record_id) WHERE removed_at IS NULL;

-- The retention each collection's expires_at was last computed with (days; null for none), so a
-- changed retention is applied to the records already stored.
CREATE TABLE ward_retention (
  collection text PRIMARY KEY,
  days integer
);

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ward_app') THEN
    RAISE NOTICE 'ward: role ward_app does not exist; grants skipped';
    RETURN;
  END IF;
  GRANT SELECT, INSERT, DELETE ON ward_records_archive TO ward_app;
  GRANT UPDATE (purge_after) ON ward_records_archive TO ward_app; -- the purge locks the rows it removes
  GRANT SELECT, INSERT, DELETE ON ward_gone TO ward_app;
  GRANT SELECT, INSERT ON ward_holds TO ward_app;
  GRANT UPDATE (removed_at, removed_by) ON ward_holds TO ward_app;
  GRANT SELECT, INSERT, UPDATE ON ward_retention TO ward_app;
END
$$;
