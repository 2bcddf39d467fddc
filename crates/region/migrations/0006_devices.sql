-- Devices (non-deployable nodes), their interfaces in `interfaces`, static
-- routes, and the regions that run.

CREATE TABLE devices (
    id          bigserial PRIMARY KEY,
    system_id   text NOT NULL UNIQUE,
    hostname    text NOT NULL,
    domain_id   bigint NOT NULL DEFAULT 0 REFERENCES domains(id),
    description text NOT NULL DEFAULT '',
    owner_id    bigint REFERENCES users(id) ON DELETE SET NULL,
    -- A deleted zone's devices move to the default zone (as machines do).
    zone_id     bigint NOT NULL DEFAULT 1 REFERENCES zones(id) ON DELETE SET DEFAULT,
    -- A machine (a container's host, say); deleting it deletes its devices.
    parent_id   bigint REFERENCES machines(id) ON DELETE CASCADE,
    owner_data  jsonb NOT NULL DEFAULT '{}',
    created     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (domain_id, hostname)
);
CREATE INDEX devices_owner ON devices (owner_id);
CREATE INDEX devices_parent ON devices (parent_id) WHERE parent_id IS NOT NULL;

-- Machines, devices and racks share one system id namespace: an insert
-- whose system id another kind of node holds is skipped (no row returned),
-- so the writer draws another id, exactly as on its own table's conflict.
CREATE FUNCTION node_system_id_free() RETURNS trigger AS $$
BEGIN
    IF (TG_TABLE_NAME <> 'machines' AND EXISTS (SELECT 1 FROM machines WHERE system_id = NEW.system_id))
       OR (TG_TABLE_NAME <> 'devices' AND EXISTS (SELECT 1 FROM devices WHERE system_id = NEW.system_id))
       OR (TG_TABLE_NAME <> 'racks' AND EXISTS (SELECT 1 FROM racks WHERE system_id = NEW.system_id)) THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER machines_system_id BEFORE INSERT ON machines
    FOR EACH ROW EXECUTE FUNCTION node_system_id_free();
CREATE TRIGGER devices_system_id BEFORE INSERT ON devices
    FOR EACH ROW EXECUTE FUNCTION node_system_id_free();

-- A device's hostname and domain are in the rack's DHCP/DNS state.
CREATE TRIGGER devices_state AFTER UPDATE OF hostname, domain_id OR DELETE ON devices
    FOR EACH STATEMENT EXECUTE FUNCTION notify_rack_state();

-- Interfaces belong to a machine or a device. Triggers on `interfaces`
-- (hardware versions) pass machine_id; a device's NULL matches no machine.
ALTER TABLE interfaces ALTER COLUMN machine_id DROP NOT NULL;
ALTER TABLE interfaces ADD COLUMN device_id bigint REFERENCES devices(id) ON DELETE CASCADE;
ALTER TABLE interfaces ADD CONSTRAINT interfaces_one_node
    CHECK ((machine_id IS NULL) <> (device_id IS NULL));
ALTER TABLE interfaces ADD CONSTRAINT interfaces_device_name UNIQUE (device_id, name);

-- Static routes (MAAS's StaticRoute): from a subnet to another via a gateway.
CREATE TABLE static_routes (
    id             bigserial PRIMARY KEY,
    source_id      bigint NOT NULL REFERENCES subnets(id) ON DELETE CASCADE,
    destination_id bigint NOT NULL REFERENCES subnets(id) ON DELETE CASCADE,
    gateway_ip     inet NOT NULL,
    metric         integer NOT NULL DEFAULT 0 CHECK (metric >= 0),
    created        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source_id, destination_id, gateway_ip)
);

-- Regions register themselves at start and refresh last_seen.
CREATE TABLE regions (
    id        bigserial PRIMARY KEY,
    system_id text NOT NULL UNIQUE,
    hostname  text NOT NULL,
    version   text NOT NULL DEFAULT '',
    created   timestamptz NOT NULL DEFAULT now(),
    last_seen timestamptz NOT NULL DEFAULT now()
);
