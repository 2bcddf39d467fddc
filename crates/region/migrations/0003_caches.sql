-- What regions cache in memory, and how they hear that it changed.

-- API keys: a region caches valid tokens and drops one when PostgreSQL
-- notifies 'maas_auth' with its key ('*': drop everything).
CREATE FUNCTION notify_auth_token() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('maas_auth', OLD.token_key);
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE FUNCTION notify_auth_all() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('maas_auth', '*');
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER tokens_auth AFTER UPDATE OR DELETE ON tokens
    FOR EACH ROW EXECUTE FUNCTION notify_auth_token();
CREATE TRIGGER tokens_auth_truncate AFTER TRUNCATE ON tokens
    FOR EACH STATEMENT EXECUTE FUNCTION notify_auth_all();
CREATE TRIGGER users_auth AFTER UPDATE OR DELETE OR TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION notify_auth_all();

-- Links are read per interface (machine rendering, allocation facts).
CREATE INDEX interface_links_interface ON interface_links (interface_id);

-- Rendered machines: regions cache a machine's JSON (and its interfaces and
-- disks) under the versions below, read in the same statement as the data.
-- Both come from one sequence, so a value never repeats.
CREATE SEQUENCE machine_version_seq;
ALTER TABLE machines
    ADD COLUMN version    bigint NOT NULL DEFAULT nextval('machine_version_seq'),
    ADD COLUMN hw_version bigint NOT NULL DEFAULT nextval('machine_version_seq');

-- Every update of a machine row gives it a new version.
CREATE FUNCTION machine_new_version() RETURNS trigger AS $$
BEGIN
    NEW.version := nextval('machine_version_seq');
    RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER machines_version BEFORE UPDATE ON machines
    FOR EACH ROW EXECUTE FUNCTION machine_new_version();

-- A change to a machine's interfaces or disks gives it a new hardware
-- version (and so, by the trigger above, a new version).
CREATE FUNCTION machine_hw_changed() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE machines SET hw_version = nextval('machine_version_seq') WHERE id = OLD.machine_id;
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.machine_id <> OLD.machine_id) THEN
        UPDATE machines SET hw_version = nextval('machine_version_seq') WHERE id = NEW.machine_id;
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER interfaces_hw AFTER INSERT OR UPDATE OR DELETE ON interfaces
    FOR EACH ROW EXECUTE FUNCTION machine_hw_changed();
CREATE TRIGGER block_devices_hw AFTER INSERT OR UPDATE OR DELETE ON block_devices
    FOR EACH ROW EXECUTE FUNCTION machine_hw_changed();

CREATE FUNCTION machine_link_changed() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE machines SET hw_version = nextval('machine_version_seq')
         WHERE id = (SELECT machine_id FROM interfaces WHERE id = OLD.interface_id);
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.interface_id <> OLD.interface_id) THEN
        UPDATE machines SET hw_version = nextval('machine_version_seq')
         WHERE id = (SELECT machine_id FROM interfaces WHERE id = NEW.interface_id);
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER interface_links_hw AFTER INSERT OR UPDATE OR DELETE ON interface_links
    FOR EACH ROW EXECUTE FUNCTION machine_link_changed();

-- Shared rows a machine's JSON embeds: any change bumps the epoch, which
-- every cached rendering is keyed by. A row (not a sequence), so the new
-- epoch becomes visible exactly when the change does; bumped at commit
-- (deferred), so the lock on it is the last one a transaction takes and
-- cannot be part of a deadlock.
CREATE TABLE render_epoch (n bigint NOT NULL);
INSERT INTO render_epoch VALUES (1);
CREATE FUNCTION render_epoch_bump() RETURNS trigger AS $$
BEGIN
    UPDATE render_epoch SET n = n + 1;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE CONSTRAINT TRIGGER domains_render AFTER UPDATE OR DELETE ON domains
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION render_epoch_bump();
CREATE CONSTRAINT TRIGGER zones_render AFTER UPDATE OR DELETE ON zones
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION render_epoch_bump();
CREATE CONSTRAINT TRIGGER resource_pools_render AFTER UPDATE OR DELETE ON resource_pools
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION render_epoch_bump();
CREATE CONSTRAINT TRIGGER users_render AFTER UPDATE OF username OR DELETE ON users
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION render_epoch_bump();
CREATE CONSTRAINT TRIGGER fabrics_render AFTER UPDATE OR DELETE ON fabrics
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION render_epoch_bump();
CREATE CONSTRAINT TRIGGER vlans_render AFTER UPDATE OR DELETE ON vlans
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION render_epoch_bump();
CREATE CONSTRAINT TRIGGER spaces_render AFTER UPDATE OR DELETE ON spaces
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION render_epoch_bump();
CREATE CONSTRAINT TRIGGER subnets_render AFTER UPDATE OR DELETE ON subnets
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION render_epoch_bump();
