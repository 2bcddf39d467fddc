-- Machine storage: partition tables, partitions, filesystems and the boot
-- disk marker. Each table carries its machine's id so a change gives the
-- machine a new hardware version (machine JSON embeds its storage), with the
-- statement-level triggers 0003_caches.sql made for block_devices.

-- The machine's boot disk (at most one; none: the first disk by id).
ALTER TABLE block_devices ADD COLUMN is_boot boolean NOT NULL DEFAULT false;
CREATE UNIQUE INDEX block_devices_one_boot ON block_devices (machine_id) WHERE is_boot;

-- One partition table per block device. `overhead`: the bytes the table and
-- the boot loader reserve (MAAS: 4 MiB at the start, 1 MiB at the end, and
-- 1 MiB bios_grub on amd64 BIOS machines or 8 MiB PReP on ppc64el), fixed
-- when the table is created.
CREATE TABLE partition_tables (
    id              bigserial PRIMARY KEY,
    machine_id      bigint NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
    block_device_id bigint NOT NULL UNIQUE REFERENCES block_devices(id) ON DELETE CASCADE,
    table_type      text NOT NULL CHECK (table_type IN ('GPT', 'MBR')),
    overhead        bigint NOT NULL
);

CREATE TABLE partitions (
    id                 bigserial PRIMARY KEY,
    machine_id         bigint NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
    partition_table_id bigint NOT NULL REFERENCES partition_tables(id) ON DELETE CASCADE,
    block_device_id    bigint NOT NULL REFERENCES block_devices(id) ON DELETE CASCADE,
    idx                integer NOT NULL,
    uuid               text NOT NULL,
    size               bigint NOT NULL CHECK (size > 0),
    bootable           boolean NOT NULL DEFAULT false,
    tags               text[] NOT NULL DEFAULT '{}',
    UNIQUE (partition_table_id, idx) DEFERRABLE INITIALLY IMMEDIATE
);
CREATE INDEX partitions_block_device ON partitions (block_device_id);

-- A filesystem on a block device, on a partition, or on neither (a special
-- filesystem such as tmpfs, mounted on the machine itself).
CREATE TABLE filesystems (
    id              bigserial PRIMARY KEY,
    machine_id      bigint NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
    block_device_id bigint REFERENCES block_devices(id) ON DELETE CASCADE,
    partition_id    bigint REFERENCES partitions(id) ON DELETE CASCADE,
    fstype          text NOT NULL CHECK (fstype IN ('ext2', 'ext4', 'xfs', 'fat32', 'vfat', 'swap',
                                                    'ramfs', 'tmpfs', 'btrfs', 'zfsroot')),
    uuid            text NOT NULL,
    label           text,
    mount_point     text,
    mount_options   text,
    CHECK (num_nonnulls(block_device_id, partition_id) <= 1)
);
CREATE UNIQUE INDEX filesystems_block_device ON filesystems (block_device_id)
    WHERE block_device_id IS NOT NULL;
CREATE UNIQUE INDEX filesystems_partition ON filesystems (partition_id)
    WHERE partition_id IS NOT NULL;
CREATE INDEX filesystems_machine ON filesystems (machine_id);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['partition_tables', 'partitions', 'filesystems'] LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION hw_rows_changed()', t || '_hw_insert', t);
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I
                        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION hw_rows_changed()', t || '_hw_update', t);
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION hw_rows_changed()', t || '_hw_delete', t);
        EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %I
                        FOR EACH STATEMENT EXECUTE FUNCTION render_epoch_bump()',
                       t || '_render_truncate', t);
    END LOOP;
END $$;
