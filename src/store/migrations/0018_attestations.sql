-- Attestations: controls software cannot check (risk analysis, training, policies, plans, named
-- officials, agreements signed outside Ward) as a person records them: who, when, the evidence
-- file's SHA-256 (never the file), and until when it counts. Never updated or deleted: a newer
-- attestation of the same control supersedes an older one, and the record of what was attested
-- when stays.
CREATE TABLE ward_attestations (
  id uuid PRIMARY KEY,
  control text NOT NULL CHECK (control ~ '^[a-z][a-z0-9-]{0,62}$'),
  attested_by text NOT NULL CHECK (length(attested_by) BETWEEN 1 AND 200),
  evidence_sha256 bytea NOT NULL CHECK (length(evidence_sha256) = 32),
  attested_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz CHECK (expires_at IS NULL OR expires_at > attested_at)
);
CREATE INDEX ward_attestations_control ON ward_attestations (control, attested_at DESC);
-- `ward check` asks when a signed checkpoint was last handed out (audit.checkpoint reads).
CREATE INDEX ward_audit_events_checkpoint_reads ON ward_audit_events (at) WHERE action = 'audit.checkpoint';
CREATE TRIGGER ward_attestations_append_only BEFORE UPDATE OR DELETE ON ward_attestations
  FOR EACH ROW EXECUTE FUNCTION ward_audit_append_only();
CREATE TRIGGER ward_attestations_no_truncate BEFORE TRUNCATE ON ward_attestations
  FOR EACH STATEMENT EXECUTE FUNCTION ward_audit_append_only();
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ward_app') THEN
    RAISE NOTICE 'ward: role ward_app does not exist; grants skipped';
    RETURN;
  END IF;
  GRANT SELECT, INSERT ON ward_attestations TO ward_app;
END
$$;
