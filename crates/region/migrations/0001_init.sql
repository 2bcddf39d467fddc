-- Region schema v1: users and keys, placement, machines and their hardware,
-- events, configuration, and the network model DHCP/DNS will be served from.

CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    username      text NOT NULL UNIQUE,
    email         text NOT NULL DEFAULT '',
    password_hash text NOT NULL DEFAULT '',
    is_superuser  boolean NOT NULL DEFAULT false,
    is_local      boolean NOT NULL DEFAULT true,
    created       timestamptz NOT NULL DEFAULT now()
);

-- OAuth tokens: API keys of users, and per-machine node keys (machine_id set).
CREATE TABLE tokens (
    id            bigserial PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    consumer_key  text NOT NULL,
    token_key     text NOT NULL UNIQUE,
    token_secret  text NOT NULL,
    name          text NOT NULL DEFAULT '',
    machine_id    bigint,
    created       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sshkeys (
    id         bigserial PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    key        text NOT NULL,
    keysource  text,
    created    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, key)
);

CREATE TABLE zones (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    description text NOT NULL DEFAULT '',
    created     timestamptz NOT NULL DEFAULT now()
);
INSERT INTO zones (id, name) VALUES (1, 'default');
SELECT setval('zones_id_seq', 1);

CREATE TABLE resource_pools (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    description text NOT NULL DEFAULT '',
    created     timestamptz NOT NULL DEFAULT now()
);
INSERT INTO resource_pools (id, name, description) VALUES (0, 'default', 'Default pool');

CREATE TABLE domains (
    id            bigserial PRIMARY KEY,
    name          text NOT NULL UNIQUE,
    ttl           integer,
    authoritative boolean NOT NULL DEFAULT true,
    is_default    boolean NOT NULL DEFAULT false
);
INSERT INTO domains (id, name, is_default) VALUES (0, 'maas', true);

CREATE TABLE tags (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    comment     text NOT NULL DEFAULT '',
    definition  text NOT NULL DEFAULT '',
    kernel_opts text NOT NULL DEFAULT ''
);

-- Network model: fabric → VLAN → subnet (MAAS's shape).
CREATE TABLE spaces (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    description text NOT NULL DEFAULT ''
);

CREATE TABLE fabrics (
    id         bigserial PRIMARY KEY,
    name       text NOT NULL UNIQUE,
    class_type text,
    created    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE vlans (
    id                bigserial PRIMARY KEY,
    fabric_id         bigint NOT NULL REFERENCES fabrics(id) ON DELETE CASCADE,
    vid               integer NOT NULL CHECK (vid BETWEEN 0 AND 4094),
    name              text,
    mtu               integer NOT NULL DEFAULT 1500,
    dhcp_on           boolean NOT NULL DEFAULT false,
    primary_rack_id   bigint,
    secondary_rack_id bigint,
    relay_vlan_id     bigint REFERENCES vlans(id) ON DELETE SET NULL,
    space_id          bigint REFERENCES spaces(id) ON DELETE SET NULL,
    external_dhcp     text,
    description       text NOT NULL DEFAULT '',
    UNIQUE (fabric_id, vid)
);

CREATE TABLE subnets (
    id                bigserial PRIMARY KEY,
    name              text NOT NULL,
    cidr              cidr NOT NULL UNIQUE,
    vlan_id           bigint NOT NULL REFERENCES vlans(id) ON DELETE RESTRICT,
    gateway_ip        inet,
    dns_servers       text[] NOT NULL DEFAULT '{}',
    managed           boolean NOT NULL DEFAULT true,
    allow_dns         boolean NOT NULL DEFAULT true,
    allow_proxy       boolean NOT NULL DEFAULT true,
    active_discovery  boolean NOT NULL DEFAULT false,
    rdns_mode         smallint NOT NULL DEFAULT 2,
    description       text NOT NULL DEFAULT ''
);

CREATE TABLE machines (
    id                bigserial PRIMARY KEY,
    system_id         text NOT NULL UNIQUE,
    hostname          text NOT NULL,
    domain_id         bigint NOT NULL DEFAULT 0 REFERENCES domains(id),
    description       text NOT NULL DEFAULT '',
    node_type         smallint NOT NULL DEFAULT 0,
    status            smallint NOT NULL,
    previous_status   smallint,
    status_expires    timestamptz,
    status_message    text NOT NULL DEFAULT '',
    error_description text NOT NULL DEFAULT '',
    owner_id          bigint REFERENCES users(id) ON DELETE SET NULL,
    zone_id           bigint NOT NULL DEFAULT 1 REFERENCES zones(id),
    pool_id           bigint NOT NULL DEFAULT 0 REFERENCES resource_pools(id),
    architecture      text NOT NULL,
    cpu_count         integer NOT NULL DEFAULT 0,
    cpu_speed         integer NOT NULL DEFAULT 0,
    memory            bigint NOT NULL DEFAULT 0,
    cost              double precision GENERATED ALWAYS AS (cpu_count + memory / 1024.0) STORED,
    swap_size         bigint,
    power_type        text NOT NULL DEFAULT '',
    power_parameters  bytea,
    power_state       text NOT NULL DEFAULT 'unknown',
    power_queried     timestamptz,
    locked            boolean NOT NULL DEFAULT false,
    netboot           boolean NOT NULL DEFAULT true,
    osystem           text NOT NULL DEFAULT '',
    distro_series     text NOT NULL DEFAULT '',
    hwe_kernel        text,
    min_hwe_kernel    text NOT NULL DEFAULT '',
    agent_name        text NOT NULL DEFAULT '',
    user_data         bytea,
    tag_names         text[] NOT NULL DEFAULT '{}',
    hardware_uuid     text,
    hardware_info     jsonb NOT NULL DEFAULT '{}',
    owner_data        jsonb NOT NULL DEFAULT '{}',
    enlisting         boolean NOT NULL DEFAULT false,
    ephemeral_deploy  boolean NOT NULL DEFAULT false,
    bios_boot_method  text,
    created           timestamptz NOT NULL DEFAULT now(),
    updated           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (hostname, domain_id)
);
-- The allocator walks READY machines cheapest first (see docs/decisions).
CREATE INDEX machines_ready_by_cost ON machines (cost, id) WHERE status = 4;
CREATE INDEX machines_status_expires ON machines (status_expires) WHERE status_expires IS NOT NULL;
CREATE INDEX machines_owner ON machines (owner_id);
CREATE INDEX machines_tags ON machines USING gin (tag_names);

ALTER TABLE tokens ADD FOREIGN KEY (machine_id) REFERENCES machines(id) ON DELETE CASCADE;

CREATE TABLE interfaces (
    id              bigserial PRIMARY KEY,
    machine_id      bigint NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
    name            text NOT NULL,
    type            text NOT NULL DEFAULT 'physical',
    mac_address     text NOT NULL,
    enabled         boolean NOT NULL DEFAULT true,
    link_speed      integer NOT NULL DEFAULT 0,
    interface_speed integer NOT NULL DEFAULT 0,
    tags            text[] NOT NULL DEFAULT '{}',
    vlan_id         bigint REFERENCES vlans(id) ON DELETE SET NULL,
    is_boot         boolean NOT NULL DEFAULT false,
    UNIQUE (machine_id, name)
);
CREATE UNIQUE INDEX interfaces_physical_mac ON interfaces (mac_address) WHERE type = 'physical';

-- How an interface is linked to a subnet (MAAS's InterfaceLinkType).
CREATE TABLE interface_links (
    id           bigserial PRIMARY KEY,
    interface_id bigint NOT NULL REFERENCES interfaces(id) ON DELETE CASCADE,
    subnet_id    bigint NOT NULL REFERENCES subnets(id) ON DELETE CASCADE,
    mode         text NOT NULL DEFAULT 'auto',
    ip           inet
);

CREATE TABLE block_devices (
    id         bigserial PRIMARY KEY,
    machine_id bigint NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
    name       text NOT NULL,
    size       bigint NOT NULL,
    block_size integer NOT NULL DEFAULT 512,
    tags       text[] NOT NULL DEFAULT '{}',
    model      text NOT NULL DEFAULT '',
    serial     text NOT NULL DEFAULT '',
    id_path    text,
    UNIQUE (machine_id, name)
);

CREATE TABLE script_results (
    id          bigserial PRIMARY KEY,
    machine_id  bigint NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
    result_type smallint NOT NULL,
    name        text NOT NULL,
    status      smallint NOT NULL,
    exit_status integer,
    runtime     text,
    output      bytea,
    created     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX script_results_machine ON script_results (machine_id, result_type);

CREATE TABLE events (
    id          bigserial PRIMARY KEY,
    machine_id  bigint REFERENCES machines(id) ON DELETE SET NULL,
    system_id   text,
    hostname    text NOT NULL DEFAULT '',
    username    text,
    level       text NOT NULL DEFAULT 'INFO',
    type        text NOT NULL,
    description text NOT NULL DEFAULT '',
    created     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_machine ON events (machine_id, id);

CREATE TABLE config (
    name  text PRIMARY KEY,
    value jsonb NOT NULL
);

CREATE TABLE secrets (
    name  text PRIMARY KEY,
    value text NOT NULL
);
