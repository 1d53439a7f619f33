-- Sync (Connect): each mapping's state and watermark, the source rows it has written (by a keyed
-- MAC of the external id: no source value is stored here), and per-record failures (the source's
-- own reference, field names and rule: never values).
CREATE TABLE ward_sync_state (
  mapping text PRIMARY KEY,
  collection text NOT NULL,
  state text NOT NULL DEFAULT 'IDLE' CHECK (state IN ('IDLE', 'POLLING', 'PAUSED', 'SCHEMA_CHANGED', 'NEED_AUTHENTICATION')),
  watermark jsonb,
  -- the source's fields as last accepted (names and types), for drift
  schema jsonb,
  paused_reason text,
  last_pass jsonb,
  api_calls_day date,
  api_calls integer NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ward_sync_rows (
  mapping text NOT NULL,
  -- keyed MAC of the external id (the upsert field's value)
  external bytea NOT NULL,
  record_id uuid NOT NULL,
  -- keyed MAC of the mapped values as last written: an unchanged row is not written again
  digest bytea NOT NULL,
  -- the source's reference (an id or primary key), for orphan and duplicate reports
  source_ref text NOT NULL,
  deleted boolean NOT NULL DEFAULT false,
  seen_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (mapping, external)
);
CREATE INDEX ward_sync_rows_record ON ward_sync_rows (record_id);

CREATE TABLE ward_sync_errors (
  id bigserial PRIMARY KEY,
  mapping text NOT NULL,
  source_ref text NOT NULL,
  fields text[] NOT NULL DEFAULT '{}',
  rule text NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  retried_at timestamptz
);
CREATE INDEX ward_sync_errors_open ON ward_sync_errors (mapping, at) WHERE retried_at IS NULL;

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ward_app') THEN
    RAISE NOTICE 'ward: role ward_app does not exist; grants skipped';
    RETURN;
  END IF;
  GRANT SELECT, INSERT, UPDATE ON ward_sync_state, ward_sync_rows TO ward_app;
  GRANT DELETE ON ward_sync_rows TO ward_app;
  GRANT SELECT, INSERT, UPDATE ON ward_sync_errors TO ward_app;
  GRANT USAGE ON SEQUENCE ward_sync_errors_id_seq TO ward_app;
END
$$;
