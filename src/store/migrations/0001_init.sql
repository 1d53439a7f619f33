-- Ward's base schema: wrapped keys, encrypted records, blind indexes and tokens.
-- No column here ever holds PHI in plaintext: `sealed` holds AES-256-GCM ciphertexts,
-- `public` only fields whose class is public, blind indexes and tokens are keyed MACs.

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

CREATE TABLE ward_records (
  id uuid PRIMARY KEY,
  collection text NOT NULL,
  version integer NOT NULL DEFAULT 1,
  key_version integer NOT NULL,
  public jsonb NOT NULL DEFAULT '{}',
  sealed jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz
);
CREATE INDEX ward_records_collection ON ward_records (collection, id);
CREATE INDEX ward_records_expiry ON ward_records (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE ward_blind_index (
  collection text NOT NULL,
  field text NOT NULL,
  value bytea NOT NULL,
  record_id uuid NOT NULL REFERENCES ward_records (id) ON DELETE CASCADE,
  is_unique boolean NOT NULL DEFAULT false,
  PRIMARY KEY (collection, field, value, record_id)
);
CREATE UNIQUE INDEX ward_blind_index_unique ON ward_blind_index (collection, field, value) WHERE is_unique;
CREATE INDEX ward_blind_index_record ON ward_blind_index (record_id);

CREATE TABLE ward_tokens (
  token text NOT NULL,
  record_id uuid NOT NULL REFERENCES ward_records (id) ON DELETE CASCADE,
  collection text NOT NULL,
  field text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('random', 'deterministic')),
  PRIMARY KEY (token, record_id)
);
CREATE INDEX ward_tokens_record ON ward_tokens (record_id);
