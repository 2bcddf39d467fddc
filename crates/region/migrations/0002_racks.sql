-- Racks, their enrollment and session state, the events they report, and
-- the rest of the network model DHCP/DNS are served from.

CREATE TABLE racks (
    id                 bigserial PRIMARY KEY,
    system_id          text NOT NULL UNIQUE,
    hostname           text NOT NULL,
    version            text NOT NULL DEFAULT '',
    cert_serial        text,
    cert_fingerprint   text,
    connected_region   text,
    connected_since    timestamptz,
    last_seen          timestamptz,
    applied_generation bigint NOT NULL DEFAULT 0,
    pushed_generation  bigint NOT NULL DEFAULT 0,
    pushed_hash        text,
    last_event_seq     bigint NOT NULL DEFAULT 0,
    services           jsonb NOT NULL DEFAULT '{}',
    created            timestamptz NOT NULL DEFAULT now()
);

-- Certificates of deleted racks: refused even though the CA signed them.
CREATE TABLE revoked_certs (
    serial  text PRIMARY KEY,
    revoked timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE rack_interfaces (
    id          bigserial PRIMARY KEY,
    rack_id     bigint NOT NULL REFERENCES racks(id) ON DELETE CASCADE,
    name        text NOT NULL,
    mac_address text NOT NULL DEFAULT '',
    type        text NOT NULL DEFAULT 'physical',
    parent      text,
    vid         integer,
    vlan_id     bigint REFERENCES vlans(id) ON DELETE SET NULL,
    addresses   text[] NOT NULL DEFAULT '{}',
    UNIQUE (rack_id, name)
);

ALTER TABLE vlans ADD FOREIGN KEY (primary_rack_id) REFERENCES racks(id) ON DELETE SET NULL;
ALTER TABLE vlans ADD FOREIGN KEY (secondary_rack_id) REFERENCES racks(id) ON DELETE SET NULL;

-- Events racks report (leases, boot requests, power results, service health),
-- stored exactly once per (rack, seq).
CREATE TABLE rack_events (
    rack_id  bigint NOT NULL REFERENCES racks(id) ON DELETE CASCADE,
    seq      bigint NOT NULL,
    kind     text NOT NULL,
    payload  jsonb NOT NULL,
    occurred timestamptz NOT NULL,
    received timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (rack_id, seq)
);

CREATE TABLE ipranges (
    id       bigserial PRIMARY KEY,
    subnet_id bigint NOT NULL REFERENCES subnets(id) ON DELETE CASCADE,
    type     text NOT NULL CHECK (type IN ('dynamic', 'reserved')),
    start_ip inet NOT NULL,
    end_ip   inet NOT NULL,
    comment  text NOT NULL DEFAULT '',
    user_id  bigint REFERENCES users(id) ON DELETE SET NULL
);

CREATE TABLE reserved_ips (
    id          bigserial PRIMARY KEY,
    subnet_id   bigint NOT NULL REFERENCES subnets(id) ON DELETE CASCADE,
    ip          inet NOT NULL UNIQUE,
    mac_address text NOT NULL,
    comment     text NOT NULL DEFAULT ''
);

-- Anything racks serve from changed: regions recompute their racks' snapshots.
CREATE FUNCTION notify_rack_state() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('maas_rack_state', TG_TABLE_NAME);
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER fabrics_state AFTER INSERT OR UPDATE OR DELETE ON fabrics
    FOR EACH STATEMENT EXECUTE FUNCTION notify_rack_state();
CREATE TRIGGER vlans_state AFTER INSERT OR UPDATE OR DELETE ON vlans
    FOR EACH STATEMENT EXECUTE FUNCTION notify_rack_state();
CREATE TRIGGER subnets_state AFTER INSERT OR UPDATE OR DELETE ON subnets
    FOR EACH STATEMENT EXECUTE FUNCTION notify_rack_state();
CREATE TRIGGER ipranges_state AFTER INSERT OR UPDATE OR DELETE ON ipranges
    FOR EACH STATEMENT EXECUTE FUNCTION notify_rack_state();
CREATE TRIGGER reserved_ips_state AFTER INSERT OR UPDATE OR DELETE ON reserved_ips
    FOR EACH STATEMENT EXECUTE FUNCTION notify_rack_state();
CREATE TRIGGER domains_state AFTER INSERT OR UPDATE OR DELETE ON domains
    FOR EACH STATEMENT EXECUTE FUNCTION notify_rack_state();
CREATE TRIGGER config_state AFTER INSERT OR UPDATE OR DELETE ON config
    FOR EACH STATEMENT EXECUTE FUNCTION notify_rack_state();
CREATE TRIGGER interface_links_state AFTER INSERT OR UPDATE OR DELETE ON interface_links
    FOR EACH STATEMENT EXECUTE FUNCTION notify_rack_state();
