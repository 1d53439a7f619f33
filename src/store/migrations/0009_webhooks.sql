-- Events a webhook could not deliver after its attempts: kept (ids and positions, never a body)
-- for an operator to look at; the webhook goes on with the next event.
CREATE TABLE ward_webhook_dead_letters (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  webhook text NOT NULL,
  topic text NOT NULL,
  event_id uuid,
  pos bigint NOT NULL,
  attempts integer NOT NULL,
  last_status integer,
  last_reason text,
  at timestamptz NOT NULL DEFAULT now()
);

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ward_app') THEN
    RAISE NOTICE 'ward: role ward_app does not exist; grants skipped';
    RETURN;
  END IF;
  GRANT SELECT, INSERT ON ward_webhook_dead_letters TO ward_app;
END
$$;
