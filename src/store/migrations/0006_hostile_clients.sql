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

-- Tokens and the records that hold them, one row each, found through the primary key: a
-- deterministic token shared by many records resolves with one index probe (the token bytes in
-- ward_records.lookup needed a bitmap of every holder). Written and deleted in the same statement
-- as their record, and found by their primary key then too (from the tokens the record holds), so
-- no second index is kept. Existing records' tokens are copied here; their bytes left in `lookup`
-- are no longer read.
CREATE TABLE ward_tokens (
  token bytea NOT NULL,
  record_id uuid NOT NULL,
  collection text NOT NULL,
  field text NOT NULL,
  PRIMARY KEY (token, record_id)
);
INSERT INTO ward_tokens (token, record_id, collection, field)
  SELECT convert_to(t.value, 'UTF8'), r.id, r.collection, t.key FROM ward_records r, json_each_text(r.tokens) AS t
  ON CONFLICT DO NOTHING;

-- The leaf hash of an event, RFC 6962: SHA-256(0x00 || leaf data). The data is the origin, seq and
-- txid, then every other column in its PostgreSQL text form through quote_nullable, joined by
-- commas; `detail` follows only when it is set (quote_literal of NULL is NULL, which concat_ws
-- leaves out), so events without one hash as they did before it existed. audit/checkpoint.leafData
-- is the same rendering in TypeScript. Never change this function: sealed leaves depend on it.
CREATE FUNCTION ward_audit_leaf(e ward_audit_events) RETURNS bytea LANGUAGE sql STABLE AS $$
  SELECT sha256('\x00'::bytea || convert_to(concat_ws(',', 'ward-audit/v1', e.seq::text, e.txid::text,
    quote_literal(to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')), quote_nullable(e.actor), quote_nullable(e.role),
    quote_nullable(e.action), quote_nullable(e.collection), quote_nullable(e.record_ids::text), quote_nullable(e.fields::text),
    quote_nullable(e.purpose), quote_nullable(e.outcome), quote_nullable(e.reason), quote_nullable(e.request_id), quote_nullable(e.client),
    quote_literal(e.detail)), 'UTF8'))
$$;

-- Only the sealer writes leaves and checkpoints, through this function, owned by the schema owner
-- (SECURITY DEFINER): the application's role may call it but not insert into either table. It
-- derives everything it writes from the database itself: the events after the newest checkpoint up
-- to the position given (all below the oldest running transaction), their leaf hashes, the new
-- frontier and root. The caller brings only the count it expects, the root it signed, the time and
-- the signature, which cannot be checked here (verification checks it). So a row no sealer made
-- cannot wedge sealing: leaves beyond the newest checkpoint are refused, naming their position.
CREATE FUNCTION ward_seal_commit(expected bigint, upto_txid xid8, upto_seq bigint, signed_root bytea, signed_at text,
                                 signing_version integer, sig bytea) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  head ward_audit_checkpoints;
  size bigint := 0;
  after_txid xid8 := '0';
  after_seq bigint := 0;
  frontier bytea[] := '{}';
  stray bigint;
  written bigint;
  leaf bytea;
  node bytea;
  s bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(2002874988); -- the sealer's lock, 0x7761726c (store/seal SEAL_LOCK)
  SELECT * INTO head FROM ward_audit_checkpoints ORDER BY tree_size DESC LIMIT 1;
  IF FOUND THEN
    size := head.tree_size; after_txid := head.last_txid; after_seq := head.last_seq; frontier := head.frontier;
  END IF;
  SELECT min(idx) INTO stray FROM ward_audit_leaves WHERE idx >= size;
  IF stray IS NOT NULL THEN
    RAISE EXCEPTION 'ward: the audit leaf at position % was not written by the sealer (no checkpoint covers it); ward audit verify names it', stray
      USING ERRCODE = 'WA001';
  END IF;
  IF upto_txid >= pg_snapshot_xmin(pg_current_snapshot()) THEN
    RAISE EXCEPTION 'ward: events up to the position given are not all committed yet' USING ERRCODE = 'WA002';
  END IF;
  INSERT INTO ward_audit_leaves (idx, seq, hash)
    SELECT size + row_number() OVER (ORDER BY e.txid, e.seq) - 1, e.seq,
           ward_audit_leaf(e)
    FROM ward_audit_events e
    WHERE (e.txid, e.seq) > (after_txid, after_seq) AND (e.txid, e.seq) <= (upto_txid, upto_seq);
  GET DIAGNOSTICS written = ROW_COUNT;
  IF written <> expected OR written = 0 THEN
    RAISE EXCEPTION 'ward: % events lie up to the position given, not the % expected', written, expected USING ERRCODE = 'WA003';
  END IF;
  -- Fold the new leaves into the frontier (RFC 6962: equal-sized neighbours merge), then the root.
  FOR leaf IN SELECT l.hash FROM ward_audit_leaves l WHERE l.idx >= size ORDER BY l.idx LOOP
    node := leaf;
    s := size;
    WHILE s & 1 = 1 LOOP
      node := sha256('\x01'::bytea || frontier[array_length(frontier, 1)] || node);
      frontier := frontier[1:array_length(frontier, 1) - 1];
      s := s >> 1;
    END LOOP;
    frontier := frontier || node;
    size := size + 1;
  END LOOP;
  node := frontier[array_length(frontier, 1)];
  FOR i IN REVERSE array_length(frontier, 1) - 1 .. 1 LOOP
    node := sha256('\x01'::bytea || frontier[i] || node);
  END LOOP;
  IF node IS DISTINCT FROM signed_root THEN
    RAISE EXCEPTION 'ward: the root the sealer signed is not the root of the leaves' USING ERRCODE = 'WA004';
  END IF;
  INSERT INTO ward_audit_checkpoints (tree_size, previous_size, root, sealed_at, key_version, signature, last_txid, last_seq, frontier)
    VALUES (size, coalesce(head.tree_size, 0), node, signed_at, signing_version, sig, upto_txid, upto_seq, frontier);
  RETURN size;
END
$$;
DO $$ BEGIN
  EXECUTE format('ALTER FUNCTION ward_seal_commit(bigint, xid8, bigint, bytea, text, integer, bytea) SET search_path = %I, pg_temp', current_schema());
END $$;

-- Verifications of the sealed log, full (the whole log) or incremental (from the newest checkpoint
-- a verification found sound), each signed with the audit signing key, so a row written without
-- the master key cannot make a later verification skip what it has not checked.
CREATE TABLE ward_audit_verifications (
  id bigserial PRIMARY KEY,
  at text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('full', 'incremental')),
  from_size bigint NOT NULL,
  tree_size bigint NOT NULL,
  ok boolean NOT NULL,
  problem text,
  key_version integer NOT NULL REFERENCES ward_audit_signing_keys (version),
  signature bytea NOT NULL CHECK (length(signature) = 64)
);
CREATE TRIGGER ward_audit_verifications_append_only BEFORE UPDATE OR DELETE ON ward_audit_verifications
  FOR EACH ROW EXECUTE FUNCTION ward_audit_append_only();
CREATE TRIGGER ward_audit_verifications_no_truncate BEFORE TRUNCATE ON ward_audit_verifications
  FOR EACH STATEMENT EXECUTE FUNCTION ward_audit_append_only();

-- Least privilege for the new objects, and the sealer's tables closed to direct writes.
REVOKE ALL ON FUNCTION ward_seal_commit(bigint, xid8, bigint, bytea, text, integer, bytea) FROM PUBLIC;
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ward_app') THEN
    RAISE NOTICE 'ward: role ward_app does not exist; grants skipped';
    RETURN;
  END IF;
  GRANT INSERT (detail) ON ward_audit_events TO ward_app;
  REVOKE INSERT ON ward_audit_leaves, ward_audit_checkpoints FROM ward_app;
  GRANT EXECUTE ON FUNCTION ward_seal_commit(bigint, xid8, bigint, bytea, text, integer, bytea) TO ward_app;
  GRANT SELECT, INSERT, UPDATE, DELETE ON ward_auth_throttle, ward_tokens TO ward_app;
  GRANT SELECT, INSERT ON ward_audit_verifications TO ward_app;
  GRANT USAGE ON SEQUENCE ward_audit_verifications_id_seq TO ward_app;
END
$$;
REVOKE UPDATE, DELETE, TRUNCATE ON ward_audit_verifications FROM PUBLIC;
