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

DO $$
DECLARE
    t text;
    f text;
BEGIN
    FOREACH t IN ARRAY ARRAY['interfaces', 'block_devices', 'interface_links'] LOOP
        f := CASE t WHEN 'interface_links' THEN 'link_rows_changed' ELSE 'hw_rows_changed' END;
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION %I()', t || '_hw_insert', t, f);
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I
                        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION %I()', t || '_hw_update', t, f);
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION %I()', t || '_hw_delete', t, f);
    END LOOP;
END $$;

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
-- (table, the columns of it that machine JSON shows)
DO $$
DECLARE
    tc text[];
BEGIN
    FOREACH tc SLICE 1 IN ARRAY ARRAY[
        ['domains', 'name, ttl, authoritative, is_default'],
        ['zones', 'name, description'],
        ['resource_pools', 'name, description'],
        ['users', 'username'],
        ['fabrics', 'name'],
        ['vlans', 'fabric_id, vid, name, mtu, dhcp_on, relay_vlan_id, space_id, external_dhcp'],
        ['spaces', 'name'],
        ['subnets', 'name, cidr, vlan_id, gateway_ip']] LOOP
        EXECUTE format('CREATE CONSTRAINT TRIGGER %I AFTER UPDATE OF %s OR DELETE ON %I
                        DEFERRABLE INITIALLY DEFERRED
                        FOR EACH ROW EXECUTE FUNCTION render_epoch_bump()',
                       tc[1] || '_render', tc[2], tc[1]);
    END LOOP;
END $$;

-- TRUNCATE (no row triggers, no deferral): bump at once.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['domains', 'zones', 'resource_pools', 'users', 'fabrics', 'vlans',
                             'spaces', 'subnets', 'interfaces', 'interface_links', 'block_devices'] LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %I
                        FOR EACH STATEMENT EXECUTE FUNCTION render_epoch_bump()',
                       t || '_render_truncate', t);
    END LOOP;
END $$;
