-- The end of a space: `ward destroy` destroys every data and index key and records when here; from
-- then on Ward refuses to serve the database (its audit trail can still be verified).
ALTER TABLE ward_space ADD COLUMN destroyed_at timestamptz;
