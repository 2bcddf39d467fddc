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

-- A change to a machine's interfaces, links or disks gives it a new hardware
-- version (and so, by the trigger above, a new version). Statement-level:
-- a bulk change (a subnet deleted with its links, a commissioning rewrite)
-- updates each machine once, locking them in id order.
CREATE FUNCTION machines_new_hw(ids bigint[]) RETURNS void AS $$
    WITH locked AS (SELECT id FROM machines WHERE id = ANY(ids) ORDER BY id FOR NO KEY UPDATE)
    UPDATE machines m SET hw_version = nextval('machine_version_seq')
      FROM locked WHERE m.id = locked.id;
$$ LANGUAGE sql;

-- For interfaces and block_devices (both have machine_id).
CREATE FUNCTION hw_rows_changed() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM machines_new_hw(ARRAY(SELECT DISTINCT machine_id FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM machines_new_hw(ARRAY(SELECT DISTINCT machine_id FROM old_rows));
    ELSE
        PERFORM machines_new_hw(ARRAY(SELECT machine_id FROM old_rows
                                      UNION SELECT machine_id FROM new_rows));
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE FUNCTION link_rows_changed() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM machines_new_hw(ARRAY(SELECT DISTINCT i.machine_id FROM new_rows r
                                        JOIN interfaces i ON i.id = r.interface_id));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM machines_new_hw(ARRAY(SELECT DISTINCT i.machine_id FROM old_rows r
                                        JOIN interfaces i ON i.id = r.interface_id));
    ELSE
        PERFORM machines_new_hw(ARRAY(SELECT i.machine_id FROM old_rows r
                                        JOIN interfaces i ON i.id = r.interface_id
                                      UNION SELECT i.machine_id FROM new_rows r
                                        JOIN interfaces i ON i.id = r.interface_id));
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER interfaces_hw_insert AFTER INSERT ON interfaces
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION hw_rows_changed();
CREATE TRIGGER interfaces_hw_update AFTER UPDATE ON interfaces
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION hw_rows_changed();
CREATE TRIGGER interfaces_hw_delete AFTER DELETE ON interfaces
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION hw_rows_changed();
CREATE TRIGGER block_devices_hw_insert AFTER INSERT ON block_devices
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION hw_rows_changed();
CREATE TRIGGER block_devices_hw_update AFTER UPDATE ON block_devices
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION hw_rows_changed();
CREATE TRIGGER block_devices_hw_delete AFTER DELETE ON block_devices
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION hw_rows_changed();
CREATE TRIGGER interface_links_hw_insert AFTER INSERT ON interface_links
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION link_rows_changed();
CREATE TRIGGER interface_links_hw_update AFTER UPDATE ON interface_links
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION link_rows_changed();
CREATE TRIGGER interface_links_hw_delete AFTER DELETE ON interface_links
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION link_rows_changed();

-- Shared rows a machine's JSON embeds: a change to a column it shows bumps
-- the epoch, which every cached rendering is keyed by. A row, not a
-- sequence, so the new epoch becomes visible exactly when the change does;
-- bumped at commit (deferred), so the lock on it is the last one a
-- transaction takes and cannot be part of a deadlock.
CREATE TABLE render_epoch (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    n   bigint NOT NULL
);
INSERT INTO render_epoch (n) VALUES (1);
CREATE FUNCTION render_epoch_bump() RETURNS trigger AS $$
BEGIN
    UPDATE render_epoch SET n = n + 1;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE CONSTRAINT TRIGGER domains_render
    AFTER UPDATE OF name, ttl, authoritative, is_default OR DELETE ON domains
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION render_epoch_bump();
CREATE CONSTRAINT TRIGGER zones_render AFTER UPDATE OF name, description OR DELETE ON zones
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION render_epoch_bump();
CREATE CONSTRAINT TRIGGER resource_pools_render
    AFTER UPDATE OF name, description OR DELETE ON resource_pools
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION render_epoch_bump();
CREATE CONSTRAINT TRIGGER users_render AFTER UPDATE OF username OR DELETE ON users
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION render_epoch_bump();
CREATE CONSTRAINT TRIGGER fabrics_render AFTER UPDATE OF name OR DELETE ON fabrics
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION render_epoch_bump();
CREATE CONSTRAINT TRIGGER vlans_render
    AFTER UPDATE OF fabric_id, vid, name, mtu, dhcp_on, relay_vlan_id, space_id, external_dhcp
       OR DELETE ON vlans
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION render_epoch_bump();
CREATE CONSTRAINT TRIGGER spaces_render AFTER UPDATE OF name OR DELETE ON spaces
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION render_epoch_bump();
CREATE CONSTRAINT TRIGGER subnets_render
    AFTER UPDATE OF name, cidr, vlan_id, gateway_ip OR DELETE ON subnets
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION render_epoch_bump();

-- TRUNCATE (no row triggers, no deferral): bump at once.
CREATE TRIGGER domains_render_truncate AFTER TRUNCATE ON domains
    FOR EACH STATEMENT EXECUTE FUNCTION render_epoch_bump();
CREATE TRIGGER zones_render_truncate AFTER TRUNCATE ON zones
    FOR EACH STATEMENT EXECUTE FUNCTION render_epoch_bump();
CREATE TRIGGER resource_pools_render_truncate AFTER TRUNCATE ON resource_pools
    FOR EACH STATEMENT EXECUTE FUNCTION render_epoch_bump();
CREATE TRIGGER users_render_truncate AFTER TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION render_epoch_bump();
CREATE TRIGGER fabrics_render_truncate AFTER TRUNCATE ON fabrics
    FOR EACH STATEMENT EXECUTE FUNCTION render_epoch_bump();
CREATE TRIGGER vlans_render_truncate AFTER TRUNCATE ON vlans
    FOR EACH STATEMENT EXECUTE FUNCTION render_epoch_bump();
CREATE TRIGGER spaces_render_truncate AFTER TRUNCATE ON spaces
    FOR EACH STATEMENT EXECUTE FUNCTION render_epoch_bump();
CREATE TRIGGER subnets_render_truncate AFTER TRUNCATE ON subnets
    FOR EACH STATEMENT EXECUTE FUNCTION render_epoch_bump();
CREATE TRIGGER interfaces_render_truncate AFTER TRUNCATE ON interfaces
    FOR EACH STATEMENT EXECUTE FUNCTION render_epoch_bump();
CREATE TRIGGER interface_links_render_truncate AFTER TRUNCATE ON interface_links
    FOR EACH STATEMENT EXECUTE FUNCTION render_epoch_bump();
CREATE TRIGGER block_devices_render_truncate AFTER TRUNCATE ON block_devices
    FOR EACH STATEMENT EXECUTE FUNCTION render_epoch_bump();
