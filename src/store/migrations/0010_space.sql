-- The space a database belongs to: its name and tier, recorded by the first Ward that opens it
-- after migrating. Ward refuses to start on a database of another space or tier, so a production
-- database restored where a nonproduction space runs (or the reverse) is not served.
CREATE TABLE ward_space (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  name text NOT NULL,
  tier text NOT NULL CHECK (tier IN ('production', 'nonproduction')),
  recorded_at timestamptz NOT NULL DEFAULT now()
);

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ward_app') THEN
    RAISE NOTICE 'ward: role ward_app does not exist; grants skipped';
    RETURN;
  END IF;
  GRANT SELECT, INSERT ON ward_space TO ward_app;
END
$$;
