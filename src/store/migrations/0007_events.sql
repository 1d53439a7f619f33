-- Audit leaf formats, and the outbox of PHI-free change events.

-- Each audit event records the format its leaf is hashed in, so a column added to events later
-- (format 3 and on) leaves the leaves sealed before verifiable. Events written before this
-- migration are format 1 (detail only when set, as 0006 drew it); new ones are format 2 (every
-- column, detail always, quote_nullable). The origin string names the format, so one event's
-- data can never be read as another format's.
ALTER TABLE ward_audit_events ADD COLUMN leaf_format smallint NOT NULL DEFAULT 1;
ALTER TABLE ward_audit_events ALTER COLUMN leaf_format SET DEFAULT 2;
-- An unknown format hashes to NULL: no leaf, so sealing refuses and verification names it.
CREATE OR REPLACE FUNCTION ward_audit_leaf(e ward_audit_events) RETURNS bytea LANGUAGE sql STABLE AS $$
  SELECT sha256('\x00'::bytea || convert_to(CASE e.leaf_format
    WHEN 1 THEN concat_ws(',', 'ward-audit/v1', e.seq::text, e.txid::text,
      quote_literal(to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')), quote_nullable(e.actor), quote_nullable(e.role),
      quote_nullable(e.action), quote_nullable(e.collection), quote_nullable(e.record_ids::text), quote_nullable(e.fields::text),
      quote_nullable(e.purpose), quote_nullable(e.outcome), quote_nullable(e.reason), quote_nullable(e.request_id), quote_nullable(e.client),
      quote_literal(e.detail))
    WHEN 2 THEN concat_ws(',', 'ward-audit/v2', e.seq::text, e.txid::text,
      quote_literal(to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')), quote_nullable(e.actor), quote_nullable(e.role),
      quote_nullable(e.action), quote_nullable(e.collection), quote_nullable(e.record_ids::text), quote_nullable(e.fields::text),
      quote_nullable(e.purpose), quote_nullable(e.outcome), quote_nullable(e.reason), quote_nullable(e.request_id), quote_nullable(e.client),
      quote_nullable(e.detail))
  END, 'UTF8'))
$$;

-- The outbox: one row per event and topic, written by the statement or transaction that makes
-- the change (store/records), in a table with no index, so a write pays for one more tuple and
-- nothing else. ward_sequence_events moves committed rows into ward_events, the event log, giving
-- each its position `pos` in the order they were written: a reader that has seen position N never
-- later finds a new event below it, and a record's events (whose changes lock the record, so
-- commit one after another) keep their order.
CREATE TABLE ward_outbox (
  seq bigint GENERATED ALWAYS AS IDENTITY,
  id uuid NOT NULL,
  topic text NOT NULL,
  record_id uuid NOT NULL,
  body json NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE ward_events (
  pos bigint PRIMARY KEY,
  id uuid NOT NULL,
  topic text NOT NULL,
  record_id uuid NOT NULL,
  body json NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE INDEX ward_events_topic_pos ON ward_events (topic, pos);

-- Positions: `head` (the newest given), `relay` (delivered to the broker), `floor:<topic>` (the
-- newest removed by retention: a reader asking from below it has missed events).
CREATE TABLE ward_event_state (
  name text PRIMARY KEY,
  pos bigint NOT NULL,
  at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO ward_event_state (name, pos) VALUES ('head', 0), ('relay', 0);

-- Where each declared consumer has read a topic over HTTP, and when (stale consumers, lag).
CREATE TABLE ward_event_cursors (
  consumer text NOT NULL,
  topic text NOT NULL,
  pos bigint NOT NULL,
  read_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, topic)
);

-- Moves committed outbox rows (50,000 at most per call) into the event log with their positions,
-- in the order they were written, under one lock (a second caller waits, then finds them moved).
-- Rows of transactions still open are not visible, so they stay for the next call. Returns the
-- newest position.
CREATE FUNCTION ward_sequence_events() RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  head bigint;
  added bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(2002874989); -- store/events SEQUENCE_LOCK
  SELECT pos INTO head FROM ward_event_state WHERE name = 'head';
  WITH moved AS (DELETE FROM ward_outbox WHERE seq IN (SELECT seq FROM ward_outbox ORDER BY seq LIMIT 50000)
                 RETURNING seq, id, topic, record_id, body, created_at)
  INSERT INTO ward_events (pos, id, topic, record_id, body, created_at)
    SELECT head + row_number() OVER (ORDER BY seq), id, topic, record_id, body, created_at FROM moved;
  GET DIAGNOSTICS added = ROW_COUNT;
  IF added > 0 THEN
    UPDATE ward_event_state SET pos = head + added, at = now() WHERE name = 'head';
  END IF;
  RETURN head + added;
END
$$;
DO $$ BEGIN
  EXECUTE format('ALTER FUNCTION ward_sequence_events() SET search_path = %I, pg_temp', current_schema());
END $$;
REVOKE ALL ON FUNCTION ward_sequence_events() FROM PUBLIC;

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ward_app') THEN
    RAISE NOTICE 'ward: role ward_app does not exist; grants skipped';
    RETURN;
  END IF;
  GRANT EXECUTE ON FUNCTION ward_sequence_events() TO ward_app;
  GRANT SELECT, INSERT ON ward_outbox TO ward_app;
  GRANT SELECT, DELETE ON ward_events TO ward_app;
  GRANT SELECT, INSERT, UPDATE ON ward_event_state, ward_event_cursors TO ward_app;
  GRANT DELETE ON ward_event_cursors TO ward_app;
END
$$;
