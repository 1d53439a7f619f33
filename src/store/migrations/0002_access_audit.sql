-- API keys and the audit trail.

-- Only a SHA-256 of each key's secret is stored (keys are 256-bit random, so a fast hash is
-- enough); the prefix lets operators recognize a key without holding it.
CREATE TABLE ward_api_keys (
  id uuid PRIMARY KEY,
  name text NOT NULL,
  role text NOT NULL,
  prefix text NOT NULL UNIQUE,
  secret_hash bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  revoked_at timestamptz,
  last_used_at timestamptz
);

-- One row per touch of PHI, allowed or denied, and per failed authentication. Never values:
-- record ids, field names and codes only. Written in the same statement or transaction as the
-- operation it records, so an operation whose audit row cannot be written does not happen.
CREATE TABLE ward_audit_events (
  seq bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT clock_timestamp(),
  actor text NOT NULL,
  role text,
  action text NOT NULL,
  collection text,
  record_ids uuid[] NOT NULL DEFAULT '{}',
  fields text[] NOT NULL DEFAULT '{}',
  purpose text,
  outcome text NOT NULL,
  reason text,
  request_id text,
  client text
);
CREATE INDEX ward_audit_events_at ON ward_audit_events (at);
CREATE INDEX ward_audit_events_records ON ward_audit_events USING gin (record_ids);
