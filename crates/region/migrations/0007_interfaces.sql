-- Machine networking: bonds, bridges and VLAN interfaces (children of other
-- interfaces), their parameters, default gateways, and IP addresses users
-- reserve (MAAS's USER_RESERVED StaticIPAddress).

-- An interface's parameters as MAAS keeps them (mtu, accept-ra, bond_*,
-- bridge_*); NULL renders as "".
ALTER TABLE interfaces
    ADD COLUMN params         jsonb,
    ADD COLUMN link_connected boolean NOT NULL DEFAULT true,
    -- Created by the API (not found by commissioning): dropped again by
    -- restore_networking_configuration.
    ADD COLUMN user_created   boolean NOT NULL DEFAULT false;

-- The machine's default gateway per family is one of its links.
ALTER TABLE interface_links
    ADD COLUMN default_gateway boolean NOT NULL DEFAULT false;

-- A bond, bridge or VLAN interface and the interfaces it is built on.
CREATE TABLE interface_parents (
    child_id  bigint NOT NULL REFERENCES interfaces(id) ON DELETE CASCADE,
    parent_id bigint NOT NULL REFERENCES interfaces(id) ON DELETE CASCADE,
    PRIMARY KEY (child_id, parent_id)
);
CREATE INDEX interface_parents_parent ON interface_parents (parent_id);

-- Parents and children are shown in machine JSON: a change gives the
-- machine a new hardware version, as interfaces and links do.
CREATE FUNCTION parent_rows_changed() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM machines_new_hw(ARRAY(SELECT DISTINCT i.machine_id FROM new_rows r
                                        JOIN interfaces i ON i.id = r.child_id));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM machines_new_hw(ARRAY(SELECT DISTINCT i.machine_id FROM old_rows r
                                        JOIN interfaces i ON i.id = r.child_id));
    ELSE
        PERFORM machines_new_hw(ARRAY(SELECT i.machine_id FROM old_rows r
                                        JOIN interfaces i ON i.id = r.child_id
                                      UNION SELECT i.machine_id FROM new_rows r
                                        JOIN interfaces i ON i.id = r.child_id));
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER interface_parents_hw_insert AFTER INSERT ON interface_parents
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION parent_rows_changed();
CREATE TRIGGER interface_parents_hw_update AFTER UPDATE ON interface_parents
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION parent_rows_changed();
CREATE TRIGGER interface_parents_hw_delete AFTER DELETE ON interface_parents
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION parent_rows_changed();
CREATE TRIGGER interface_parents_render_truncate AFTER TRUNCATE ON interface_parents
    FOR EACH STATEMENT EXECUTE FUNCTION render_epoch_bump();

-- IP addresses reserved through `ipaddresses/` (MAAS's USER_RESERVED).
CREATE TABLE ip_reservations (
    id          bigserial PRIMARY KEY,
    ip          inet NOT NULL UNIQUE,
    subnet_id   bigint NOT NULL REFERENCES subnets(id) ON DELETE CASCADE,
    user_id     bigint REFERENCES users(id) ON DELETE CASCADE,
    hostname    text NOT NULL DEFAULT '',
    mac_address text,
    created     timestamptz NOT NULL DEFAULT now(),
    updated     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ip_reservations_subnet ON ip_reservations (subnet_id);
CREATE TRIGGER ip_reservations_state AFTER INSERT OR UPDATE OR DELETE ON ip_reservations
    FOR EACH STATEMENT EXECUTE FUNCTION notify_rack_state();
