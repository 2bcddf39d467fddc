#!/usr/bin/env python3
"""python-libmaas 0.6.8 storage flow against a running region: block devices
(create, tag, boot disk, format, mount), partitions (create, format, mount,
unmount, unformat, delete), restore the storage configuration.

Usage: libmaas_storage.py REGION_URL API_KEY SYSTEM_ID
Prints `LIBMAAS_STORAGE_OK` last on success; exits non-zero on any failure.
"""

import sys

from maas.client import connect


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print(f"  ok: {what}", flush=True)


def main():
    url, key, system_id = sys.argv[1], sys.argv[2], sys.argv[3]
    client = connect(url, apikey=key)
    origin = client._origin  # the facade has no storage; viscera has

    machine = client.machines.get(system_id=system_id)
    check(len(machine.block_devices) == 1, "machine lists its block device")
    check(machine.boot_disk.name == "sda", "boot disk is sda")

    dev = origin.BlockDevices.create(
        machine, "sdb", model="QEMU", serial="S-LM", size=20 * 1000**3, block_size=512
    )
    check(dev.name == "sdb" and dev.size == 20 * 1000**3, "block device created")
    dev.tags = ["ssd"]
    dev.save()
    dev = origin.BlockDevice.read(machine, dev.id)
    check(dev.tags == ["ssd"], "tag added through save()")

    part = origin.Partitions.create(dev, 5 * 1000**3)
    check(part.path == "/dev/disk/by-dname/sdb-part2", f"partition created: {part.path}")
    part.format("ext4")
    check(part.filesystem.fstype == "ext4", "partition formatted")
    part.mount("/srv", mount_options="noatime")
    check(part.filesystem.mount_point == "/srv", "partition mounted")
    check(part.used_for == "ext4 formatted filesystem mounted at /srv", part.used_for)

    parts = origin.Partitions.read(machine, dev)
    check(len(parts) == 1 and parts[0].id == part.id, "partitions listed")
    again = origin.Partition.read(machine, dev, part.id)
    check(again.filesystem.mount_options == "noatime", "partition read back")
    dev = origin.BlockDevice.read(machine, dev.id)
    # MAAS sends "GPT"; libmaas 0.6.8's enum wants "gpt" (fails on MAAS too),
    # so the raw field is read.
    check(dev._data["partition_table_type"] == "GPT", "partition table is GPT")
    check(dev.used_for == "GPT partitioned with 1 partition", dev.used_for)

    part.umount()
    # MAAS renders an unmounted filesystem's mount_point as null, which
    # libmaas's Filesystem.mount_point (check(str)) refuses: read the raw data.
    check(part._data["filesystem"]["mount_point"] is None, "partition unmounted")
    part.unformat()
    check(part.filesystem is None, "partition unformatted")
    part.delete()
    check(len(origin.Partitions.read(machine, dev)) == 0, "partition deleted")

    # The emptied table stays (as in MAAS): whole-device formatting on sda.
    sda = machine.boot_disk
    sda.format("xfs")
    sda.mount("/data")
    sda = origin.BlockDevice.read(machine, sda.id)
    check(sda.filesystem.mount_point == "/data", "device formatted and mounted")
    sda.unmount()
    sda.unformat()
    sda = origin.BlockDevice.read(machine, sda.id)
    check(sda.filesystem is None and sda.used_for == "Unused", "device unformatted")

    dev.set_as_boot_disk()
    machine.refresh()
    check(machine.boot_disk.id == dev.id, "boot disk set")
    sda.set_as_boot_disk()

    machine.restore_storage_configuration()
    machine.refresh()
    boot = origin.BlockDevice.read(machine, sda.id)
    check(len(boot.partitions) == 1, "restore applied the flat layout to the boot disk")
    check(boot.partitions[0].filesystem.mount_point == "/", "root filesystem mounted at /")

    dev.delete()
    machine.refresh()
    check(len(machine.block_devices) == 1, "block device deleted")
    print("LIBMAAS_STORAGE_OK", flush=True)


if __name__ == "__main__":
    main()
