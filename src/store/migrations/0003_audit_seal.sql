-- The sealed audit log: a Merkle tree (RFC 6962) over the audit events with signed checkpoints,
-- and database-level protection of everything audit.

-- The sealed order. Each event carries the id of the transaction that wrote it. Every
-- transaction older than the oldest one still running has finished, so the sealer can fold all
-- events below that horizon in (txid, seq) order and never meet a late one later: an event whose
-- transaction commits late has a txid above the horizon and is sealed in a later round.
ALTER TABLE ward_audit_events ADD COLUMN txid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX ward_audit_events_order ON ward_audit_events (txid, seq);

-- One row per sealed event: its position in the tree and its leaf hash, so verification can
-- name the first event that no longer matches.
CREATE TABLE ward_audit_leaves (
  idx bigint PRIMARY KEY CHECK (idx >= 0),
  seq bigint NOT NULL UNIQUE,
  hash bytea NOT NULL CHECK (length(hash) = 32)
);

-- Ed25519 signing keys for checkpoints. The private half is wrapped by the master key (like the
-- data keys); the highest version signs. Rotation adds a version, nothing is ever replaced.
CREATE TABLE ward_audit_signing_keys (
  version integer PRIMARY KEY CHECK (version > 0),
  public_key bytea NOT NULL CHECK (length(public_key) = 32),
  wrapped bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Signed tree heads. The signature covers the checkpoint note (tree size, root, time); the
-- position and frontier are the sealer's bookkeeping, checked against the root before use.
CREATE TABLE ward_audit_checkpoints (
  tree_size bigint PRIMARY KEY CHECK (tree_size > 0),
  root bytea NOT NULL CHECK (length(root) = 32),
  sealed_at text NOT NULL,
  key_version integer NOT NULL REFERENCES ward_audit_signing_keys (version),
  signature bytea NOT NULL CHECK (length(signature) = 64),
  -- The tree size of the checkpoint before this one (0 for the first), signed too: a checkpoint
  -- deleted from the middle of the chain is missed by the next one's note.
  previous_size bigint NOT NULL CHECK (previous_size >= 0 AND previous_size < tree_size),
  last_txid xid8 NOT NULL,
  last_seq bigint NOT NULL,
  frontier bytea[] NOT NULL
);

-- Append-only, whoever connects: a trigger refuses UPDATE, DELETE and TRUNCATE on every audit
-- table. (Only the tables' owner can disable it; Ward's app role is not the owner.)
CREATE FUNCTION ward_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ward: % is append-only (% refused)', TG_TABLE_NAME, TG_OP USING ERRCODE = '42501';
END
$$;

CREATE TRIGGER ward_audit_events_append_only BEFORE UPDATE OR DELETE ON ward_audit_events
  FOR EACH ROW EXECUTE FUNCTION ward_audit_append_only();
CREATE TRIGGER ward_audit_events_no_truncate BEFORE TRUNCATE ON ward_audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION ward_audit_append_only();
CREATE TRIGGER ward_audit_leaves_append_only BEFORE UPDATE OR DELETE ON ward_audit_leaves
  FOR EACH ROW EXECUTE FUNCTION ward_audit_append_only();
CREATE TRIGGER ward_audit_leaves_no_truncate BEFORE TRUNCATE ON ward_audit_leaves
  FOR EACH STATEMENT EXECUTE FUNCTION ward_audit_append_only();
CREATE TRIGGER ward_audit_signing_keys_append_only BEFORE UPDATE OR DELETE ON ward_audit_signing_keys
  FOR EACH ROW EXECUTE FUNCTION ward_audit_append_only();
CREATE TRIGGER ward_audit_signing_keys_no_truncate BEFORE TRUNCATE ON ward_audit_signing_keys
  FOR EACH STATEMENT EXECUTE FUNCTION ward_audit_append_only();
CREATE TRIGGER ward_audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON ward_audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION ward_audit_append_only();
CREATE TRIGGER ward_audit_checkpoints_no_truncate BEFORE TRUNCATE ON ward_audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION ward_audit_append_only();

-- Least privilege: `ward_app` is the group role Ward's server and CLI should log in through
-- (see README, "Database roles"). It may read and write PHI tables but only read and append to
-- the audit tables. Creating the role needs CREATEROLE; without it the grants are skipped with a
-- notice and an administrator creates the role and re-runs these grants by hand.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ward_app') THEN
    BEGIN
      CREATE ROLE ward_app NOLOGIN;
    EXCEPTION
      WHEN duplicate_object OR unique_violation THEN NULL; -- created concurrently for another database
      WHEN insufficient_privilege THEN
        RAISE NOTICE 'ward: no privilege to create role ward_app; grants skipped';
        RETURN;
    END;
  END IF;
  EXECUTE format('GRANT USAGE ON SCHEMA %I TO ward_app', current_schema());
  GRANT SELECT ON ward_migrations TO ward_app;
  GRANT SELECT, INSERT ON ward_master_check, ward_keys TO ward_app;
  GRANT UPDATE (active) ON ward_keys TO ward_app;
  GRANT SELECT, INSERT, UPDATE, DELETE ON ward_records, ward_unique, ward_api_keys TO ward_app;
  -- Audit events: the app names what happened; seq, txid and at come from their defaults only,
  -- so it cannot place an event elsewhere in the sealed order or backdate it.
  GRANT SELECT, INSERT (actor, role, action, collection, record_ids, fields, purpose, outcome, reason, request_id, client)
    ON ward_audit_events TO ward_app;
  GRANT SELECT, INSERT ON ward_audit_leaves, ward_audit_signing_keys, ward_audit_checkpoints TO ward_app;
  GRANT USAGE ON SEQUENCE ward_audit_events_seq_seq TO ward_app;
END
$$;
REVOKE UPDATE, DELETE, TRUNCATE ON ward_audit_events, ward_audit_leaves, ward_audit_signing_keys, ward_audit_checkpoints FROM PUBLIC;
