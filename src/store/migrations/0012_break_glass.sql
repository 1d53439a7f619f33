-- Break-glass uses (emergency access, 45 CFR 164.312(a)(2)(ii)): who declared one, why (the stated
-- reason with any PHI the detector finds masked), its window, and its review. Each access under a
-- use is an audit event whose reason is `break_glass:<use id>`. A use is never deleted.
CREATE TABLE ward_break_glass (
  id uuid PRIMARY KEY,
  actor text NOT NULL,
  role text NOT NULL,
  reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
  started_at timestamptz NOT NULL DEFAULT now(),
  ends_at timestamptz NOT NULL CHECK (ends_at > started_at),
  reviewed_at timestamptz,
  reviewed_by text,
  review_note text CHECK (review_note IS NULL OR length(review_note) <= 1000)
);
CREATE INDEX ward_break_glass_actor ON ward_break_glass (actor, ends_at);
CREATE INDEX ward_break_glass_unreviewed ON ward_break_glass (started_at) WHERE reviewed_at IS NULL;
-- The accesses under each use, counted for the listing without scanning the trail.
CREATE INDEX ward_audit_events_break_glass ON ward_audit_events (reason, at) WHERE reason LIKE 'break_glass:%';

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ward_app') THEN
    RAISE NOTICE 'ward: role ward_app does not exist; grants skipped';
    RETURN;
  END IF;
  GRANT SELECT, INSERT ON ward_break_glass TO ward_app;
  GRANT UPDATE (reviewed_at, reviewed_by, review_note, ends_at) ON ward_break_glass TO ward_app;
END
$$;
