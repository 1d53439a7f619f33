-- Withstanding hostile clients: log-in monitoring, tokens found with bounded work, sealing that
-- the application's role cannot wedge, and verification that resumes where the last one ended.

-- Figures Ward computed for an event (a lockout's counts), never client input. Most events have
-- none, and the leaf of an event without one is what it always was (see store/seal LEAF_HASH).
ALTER TABLE ward_audit_events ADD COLUMN detail text;

-- Failed authentications per client address (IPv6: per /64) and per API key, shared by every
-- process on this database. Rows are pruned once neither counting nor locking.
CREATE TABLE ward_auth_throttle (
  kind text NOT NULL CHECK (kind IN ('client', 'key')),
  subject text NOT NULL,
  window_start timestamptz NOT NULL,
  failures integer NOT NULL,
  locked_until timestamptz,
  PRIMARY KEY (kind, subject)
);
