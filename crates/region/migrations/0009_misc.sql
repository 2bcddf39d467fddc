-- Boot resources and sources, stored files, notifications, package
-- repositories, SSL keys and license keys: what MAAS's client-facing reads
-- and small CRUD resources keep. None of it is shown in machine JSON.

-- rtype: 0 = Synced, 1 = Generated, 2 = Uploaded (MAAS's values).
CREATE TABLE boot_resources (
    id            bigserial PRIMARY KEY,
    rtype         smallint NOT NULL,
    name          text NOT NULL,
    architecture  text NOT NULL,
    extra         jsonb NOT NULL DEFAULT '{}',
    base_image    text NOT NULL DEFAULT '',
    last_deployed timestamptz,
    created       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (name, architecture)
);

CREATE TABLE boot_resource_sets (
    id          bigserial PRIMARY KEY,
    resource_id bigint NOT NULL REFERENCES boot_resources(id) ON DELETE CASCADE,
    version     text NOT NULL,
    label       text NOT NULL,
    UNIQUE (resource_id, version)
);

CREATE TABLE boot_resource_files (
    id       bigserial PRIMARY KEY,
    set_id   bigint NOT NULL REFERENCES boot_resource_sets(id) ON DELETE CASCADE,
    filename text NOT NULL,
    filetype text NOT NULL,
    sha256   text NOT NULL,
    size     bigint NOT NULL,
    complete boolean NOT NULL DEFAULT false,
    UNIQUE (set_id, filename)
);

CREATE TABLE boot_sources (
    id               bigserial PRIMARY KEY,
    url              text NOT NULL UNIQUE,
    keyring_filename text NOT NULL DEFAULT '',
    keyring_data     bytea NOT NULL DEFAULT '',
    created          timestamptz NOT NULL DEFAULT now(),
    updated          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE boot_source_selections (
    id             bigserial PRIMARY KEY,
    boot_source_id bigint NOT NULL REFERENCES boot_sources(id) ON DELETE CASCADE,
    os             text NOT NULL,
    release        text NOT NULL,
    arches         text[] NOT NULL DEFAULT '{*}',
    subarches      text[] NOT NULL DEFAULT '{*}',
    labels         text[] NOT NULL DEFAULT '{*}',
    UNIQUE (boot_source_id, os, release)
);

INSERT INTO boot_sources (url, keyring_filename)
VALUES ('https://images.maas.io/ephemeral-v3/stable/',
        '/usr/share/keyrings/ubuntu-cloudimage-keyring.gpg');
INSERT INTO boot_source_selections (boot_source_id, os, release, arches)
SELECT id, 'ubuntu', 'jammy', '{amd64}' FROM boot_sources;

-- Files users store (Juju's provider state): bytes in the database.
CREATE TABLE files (
    id       bigserial PRIMARY KEY,
    owner_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    filename text NOT NULL,
    content  bytea NOT NULL,
    key      text NOT NULL UNIQUE,
    UNIQUE (owner_id, filename)
);

CREATE TABLE notifications (
    id          bigserial PRIMARY KEY,
    ident       text UNIQUE,
    user_id     bigint REFERENCES users(id) ON DELETE CASCADE,
    users       boolean NOT NULL DEFAULT false,
    admins      boolean NOT NULL DEFAULT false,
    message     text NOT NULL,
    context     jsonb NOT NULL DEFAULT '{}',
    category    text NOT NULL DEFAULT 'info',
    dismissable boolean NOT NULL DEFAULT true,
    created     timestamptz NOT NULL DEFAULT now(),
    updated     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE notification_dismissals (
    notification_id bigint NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
    user_id         bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (notification_id, user_id)
);

CREATE TABLE package_repositories (
    id                  bigserial PRIMARY KEY,
    name                text NOT NULL UNIQUE,
    url                 text NOT NULL,
    distributions       text[] NOT NULL DEFAULT '{}',
    disabled_pockets    text[] NOT NULL DEFAULT '{}',
    disabled_components text[] NOT NULL DEFAULT '{}',
    disable_sources     boolean NOT NULL DEFAULT true,
    components          text[] NOT NULL DEFAULT '{}',
    arches              text[] NOT NULL DEFAULT '{}',
    key                 text NOT NULL DEFAULT '',
    enabled             boolean NOT NULL DEFAULT true,
    is_default          boolean NOT NULL DEFAULT false
);

INSERT INTO package_repositories (name, url, arches, is_default) VALUES
    ('main_archive', 'http://archive.ubuntu.com/ubuntu', '{amd64,i386}', true),
    ('ports_archive', 'http://ports.ubuntu.com/ubuntu-ports', '{armhf,arm64,ppc64el,s390x}', true);

CREATE TABLE sslkeys (
    id      bigserial PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    key     text NOT NULL,
    UNIQUE (user_id, key)
);

CREATE TABLE license_keys (
    id            bigserial PRIMARY KEY,
    osystem       text NOT NULL,
    distro_series text NOT NULL,
    license_key   text NOT NULL,
    UNIQUE (osystem, distro_series)
);

-- Racks are told which complete images exist: a change moves their state.
CREATE TRIGGER boot_resources_state AFTER INSERT OR UPDATE OR DELETE ON boot_resources
    FOR EACH STATEMENT EXECUTE FUNCTION notify_rack_state();
CREATE TRIGGER boot_resource_sets_state AFTER INSERT OR UPDATE OR DELETE ON boot_resource_sets
    FOR EACH STATEMENT EXECUTE FUNCTION notify_rack_state();
CREATE TRIGGER boot_resource_files_state AFTER INSERT OR UPDATE OR DELETE ON boot_resource_files
    FOR EACH STATEMENT EXECUTE FUNCTION notify_rack_state();
