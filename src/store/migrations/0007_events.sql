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
-- the change (store/records). `seq` is the order rows were written in; `pos`, the event log's
-- position, is given by ward_sequence_events once the writing transaction has committed, so a
-- reader that has seen position N never later finds a new event below it.
CREATE TABLE ward_outbox (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  pos bigint UNIQUE,
  id uuid NOT NULL,
  topic text NOT NULL,
  record_id uuid NOT NULL,
  body jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ward_outbox_unsequenced ON ward_outbox (seq) WHERE pos IS NULL;
CREATE INDEX ward_outbox_topic_pos ON ward_outbox (topic, pos);

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

-- Gives positions to the committed rows that have none, in the order they were written, under
-- one lock (a second caller waits, then finds them done). Returns the newest position.
CREATE FUNCTION ward_sequence_events() RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  head bigint;
  added bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(2002874989); -- store/events SEQUENCE_LOCK
  SELECT pos INTO head FROM ward_event_state WHERE name = 'head';
  WITH todo AS (SELECT seq, row_number() OVER (ORDER BY seq) AS n FROM ward_outbox WHERE pos IS NULL ORDER BY seq LIMIT 20000)
  UPDATE ward_outbox o SET pos = head + todo.n FROM todo WHERE o.seq = todo.seq;
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
  GRANT SELECT, INSERT, DELETE ON ward_outbox TO ward_app;
  GRANT SELECT, INSERT, UPDATE ON ward_event_state, ward_event_cursors TO ward_app;
  GRANT DELETE ON ward_event_cursors TO ward_app;
END
$$;
