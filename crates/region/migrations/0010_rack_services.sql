-- What the rack's boot server answers depends on machines' status, names and
-- MACs; DHCP hands out static routes: changes to them reach the racks.
CREATE TRIGGER machines_rack_state
    AFTER INSERT OR DELETE OR UPDATE OF status, hostname, domain_id, architecture, osystem, distro_series
    ON machines FOR EACH STATEMENT EXECUTE FUNCTION notify_rack_state();
CREATE TRIGGER interfaces_rack_state
    AFTER INSERT OR DELETE OR UPDATE OF mac_address, vlan_id, machine_id
    ON interfaces FOR EACH STATEMENT EXECUTE FUNCTION notify_rack_state();
CREATE TRIGGER static_routes_state AFTER INSERT OR UPDATE OR DELETE ON static_routes
    FOR EACH STATEMENT EXECUTE FUNCTION notify_rack_state();

-- Leases racks reported, one row per address (the newest holder).
CREATE TABLE dhcp_leases (
    ip         inet PRIMARY KEY,
    mac        text NOT NULL,
    hostname   text NOT NULL DEFAULT '',
    rack_id    bigint REFERENCES racks(id) ON DELETE SET NULL,
    subnet_id  bigint REFERENCES subnets(id) ON DELETE CASCADE,
    expires    timestamptz NOT NULL,
    updated    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dhcp_leases_mac ON dhcp_leases (mac);

-- A secondary rack serves DHCP while its VLAN's primary is away: a rack
-- connecting or going away changes other racks' state (row-level, so
-- heartbeats that leave the connection as it was notify nothing).
CREATE FUNCTION notify_rack_connection() RETURNS trigger AS $$
BEGIN
    IF OLD.connected_region IS DISTINCT FROM NEW.connected_region THEN
        PERFORM pg_notify('maas_rack_state', 'racks');
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER racks_connection_state AFTER UPDATE OF connected_region ON racks
    FOR EACH ROW EXECUTE FUNCTION notify_rack_connection();
