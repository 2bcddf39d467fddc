-- A created machine's notification says so ('+' before its system_id), so an
-- open machine list can tell its viewer that machines were added; changes
-- and deletions keep the bare system_id.
CREATE OR REPLACE FUNCTION notify_machine_changed() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('maas_machine', OLD.system_id);
    ELSIF TG_OP = 'INSERT' THEN
        PERFORM pg_notify('maas_machine', '+' || NEW.system_id);
    ELSE
        PERFORM pg_notify('maas_machine', NEW.system_id);
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
