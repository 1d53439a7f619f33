-- Ward's base schema: wrapped keys and encrypted records.
-- No column here holds PHI in plaintext: `sealed` holds AES-256-GCM ciphertexts, `public`
-- only fields whose class is public, `lookup` keyed MACs (blind indexes) and tokens.

CREATE TABLE ward_master_check (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  check_value bytea NOT NULL,
  dev boolean NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Per-collection keys wrapped by the master key. purpose 'data' keys rotate (new version,
-- old versions kept for reading); the 'index' root key derives blind-index and token keys.
CREATE TABLE ward_keys (
  collection text NOT NULL,
  purpose text NOT NULL CHECK (purpose IN ('data', 'index')),
  version integer NOT NULL CHECK (version > 0),
  wrapped bytea NOT NULL,
  active boolean NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (collection, purpose, version)
);
CREATE UNIQUE INDEX ward_keys_one_active ON ward_keys (collection, purpose) WHERE active;

-- One row per record. `sealed` and `tokens` are json, not jsonb: the server never looks
-- inside them, and json is stored and returned as text, without parsing on every write and
-- re-serializing on every read. `lookup` holds the blind indexes of its searchable fields and the
-- bytes of its tokens, in one GIN index: equality search and detokenize without a join, and
-- an insert that touches one table (GIN's pending list makes those index inserts cheap).
CREATE TABLE ward_records (
  id uuid PRIMARY KEY,
  collection text NOT NULL,
  version integer NOT NULL DEFAULT 1,
  key_version integer NOT NULL,
  public jsonb NOT NULL DEFAULT '{}',
  sealed json NOT NULL DEFAULT '{}',
  tokens json NOT NULL DEFAULT '{}',
  lookup bytea[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz
);
-- A small pending list: GIN defers index inserts there (cheap writes), but every search scans
-- it; at the 4 MB default a search under write load was 40 times slower than on a clean index.
CREATE INDEX ward_records_lookup ON ward_records USING gin (lookup) WITH (gin_pending_list_limit = 128);

-- Blind indexes of `unique` fields: the primary key enforces uniqueness without the value.
-- Rows are written and deleted in the same statement as their record.
CREATE TABLE ward_unique (
  collection text NOT NULL,
  field text NOT NULL,
  value bytea NOT NULL,
  record_id uuid NOT NULL,
  PRIMARY KEY (collection, field, value)
);
CREATE INDEX ward_unique_record ON ward_unique (record_id);
