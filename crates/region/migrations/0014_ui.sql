-- Web UI sessions and per-machine change notifications (issue 13).

-- A signed-in browser: the cookie carries a random 256-bit id; only its
-- SHA-256 is stored, so a database read does not yield usable cookies.
CREATE TABLE ui_sessions (
    id_hash    bytea PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf       text NOT NULL,
    created    timestamptz NOT NULL DEFAULT now(),
    last_seen  timestamptz NOT NULL DEFAULT now(),
    expires    timestamptz NOT NULL
);
CREATE INDEX ui_sessions_expires ON ui_sessions (expires);
CREATE INDEX ui_sessions_user ON ui_sessions (user_id);

-- One notification per changed machine, payload its system_id, so the UI's
-- live view re-renders just that row (PostgreSQL folds identical payloads
-- within a transaction).
CREATE FUNCTION notify_machine_changed() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('maas_machine', OLD.system_id);
    ELSE
        PERFORM pg_notify('maas_machine', NEW.system_id);
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER machines_notify_ui AFTER INSERT OR UPDATE OR DELETE ON machines
    FOR EACH ROW EXECUTE FUNCTION notify_machine_changed();
