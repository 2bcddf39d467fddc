-- DNS: resources (a name in a domain), their addresses (static IPs MAAS
-- creates for `ip_addresses`) and their other records (DNSData), the SOA
-- serial, and exactly one default domain.

-- At most one default domain (set_default clears the old one first).
CREATE UNIQUE INDEX domains_one_default ON domains (is_default) WHERE is_default;

CREATE TABLE dnsresources (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL,
    domain_id   bigint NOT NULL REFERENCES domains(id) ON DELETE RESTRICT,
    address_ttl integer CHECK (address_ttl >= 0),
    created     timestamptz NOT NULL DEFAULT now(),
    updated     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (domain_id, name)
);

-- Static addresses of DNS resources (MAAS: USER_RESERVED StaticIPAddress).
CREATE TABLE dnsresource_ips (
    id             bigserial PRIMARY KEY,
    dnsresource_id bigint NOT NULL REFERENCES dnsresources(id) ON DELETE CASCADE,
    ip             inet NOT NULL,
    subnet_id      bigint REFERENCES subnets(id) ON DELETE SET NULL,
    user_id        bigint REFERENCES users(id) ON DELETE SET NULL,
    created        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (dnsresource_id, ip)
);
CREATE INDEX dnsresource_ips_ip ON dnsresource_ips (ip);

-- Resource records other than addresses (CNAME, MX, NS, SRV, SSHFP, TXT).
CREATE TABLE dnsdata (
    id             bigserial PRIMARY KEY,
    dnsresource_id bigint NOT NULL REFERENCES dnsresources(id) ON DELETE CASCADE,
    ttl            integer CHECK (ttl >= 0),
    rrtype         text NOT NULL,
    rrdata         text NOT NULL,
    created        timestamptz NOT NULL DEFAULT now(),
    updated        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dnsdata_resource ON dnsdata (dnsresource_id);

-- The SOA serial of every zone (`domains/?op=set_serial` sets the next).
CREATE SEQUENCE dns_zone_serial MINVALUE 1 MAXVALUE 4294967295 CYCLE;

-- Zone content is part of what racks will serve.
CREATE TRIGGER dnsresources_state AFTER INSERT OR UPDATE OR DELETE ON dnsresources
    FOR EACH STATEMENT EXECUTE FUNCTION notify_rack_state();
CREATE TRIGGER dnsresource_ips_state AFTER INSERT OR UPDATE OR DELETE ON dnsresource_ips
    FOR EACH STATEMENT EXECUTE FUNCTION notify_rack_state();
CREATE TRIGGER dnsdata_state AFTER INSERT OR UPDATE OR DELETE ON dnsdata
    FOR EACH STATEMENT EXECUTE FUNCTION notify_rack_state();

-- A machine inserted without a domain goes to the default domain (which
-- `set_default` moves), not to domain 0.
CREATE FUNCTION default_domain_id() RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT id FROM domains WHERE is_default ORDER BY id LIMIT 1
$$;
ALTER TABLE machines ALTER COLUMN domain_id SET DEFAULT default_domain_id();
