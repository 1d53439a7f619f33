-- Business Associate Agreements: the services that may receive PHI (or data about it) from Ward.
-- Managed and audited by the operator and admin roles; an agreement is never deleted, only
-- revoked, so the record of what was covered when stays.
CREATE TABLE ward_baa (
  id uuid PRIMARY KEY,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  hosts text[] NOT NULL CHECK (cardinality(hosts) BETWEEN 1 AND 50),
  signed date NOT NULL,
  expires date NOT NULL CHECK (expires > signed),
  scope text NOT NULL CHECK (scope IN ('phi', 'no-phi')),
  document_sha256 bytea CHECK (document_sha256 IS NULL OR length(document_sha256) = 32),
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ward_app') THEN
    RAISE NOTICE 'ward: role ward_app does not exist; grants skipped';
    RETURN;
  END IF;
  GRANT SELECT, INSERT ON ward_baa TO ward_app;
  GRANT UPDATE (revoked_at) ON ward_baa TO ward_app;
END
$$;
