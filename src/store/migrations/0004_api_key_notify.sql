-- Servers cache validated API keys and drop one when its prefix is notified on ward_api_keys.
-- `ward apikey revoke` notifies in its own statement; this trigger also covers a key changed or
-- deleted directly in SQL (revoked, re-dated, given another role or secret). Touching
-- last_used_at does not notify.
CREATE FUNCTION ward_api_keys_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('ward_api_keys', OLD.prefix);
  RETURN NULL;
END
$$;

CREATE TRIGGER ward_api_keys_changed AFTER UPDATE OF prefix, role, secret_hash, expires_at, revoked_at OR DELETE ON ward_api_keys
  FOR EACH ROW EXECUTE FUNCTION ward_api_keys_notify();
