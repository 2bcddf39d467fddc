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
