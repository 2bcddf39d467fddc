#!/usr/bin/env python3
"""python-libmaas 0.6.8 building a machine's network: a bond of two physical
NICs, a VLAN on it, STATIC links with and without an address, unlink.

Usage: libmaas_interfaces.py REGION_URL API_KEY SYSTEM_ID SUBNET_ID VLAN_ID TAGGED_VLAN_ID
Exits non-zero on any failure; the last line is `LIBMAAS_RESULT {json}`.
"""

import json
import random
import sys

from maas.client import connect
from maas.client.enum import InterfaceType, LinkMode


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print(f"  ok: {what}", flush=True)


def main():
    url, key, system_id, subnet_id, vlan_id, tagged_id = sys.argv[1:7]
    subnet_id, vlan_id, tagged_id = int(subnet_id), int(vlan_id), int(tagged_id)
    client = connect(url, apikey=key)
    origin = client._origin
    machine = origin.Machine.read(system_id)
    nics = origin.Interfaces.read(machine)
    check(len(nics) == 1, "one commissioned interface")
    eth0 = nics[0]
    check(eth0.vlan.id == vlan_id, "eth0 on the subnet's VLAN")
    mac = "52:54:%02x:%02x:%02x:%02x" % tuple(random.randrange(256) for _ in range(4))
    eth1 = origin.Interfaces.create(
        machine, InterfaceType.PHYSICAL, name="eth1", mac_address=mac, vlan=vlan_id
    )
    check(eth1.type == InterfaceType.PHYSICAL, "physical eth1 created")
    bond = origin.Interfaces.create(
        machine,
        InterfaceType.BOND,
        name="bond0",
        parents=[eth0, eth1],
        bond_mode="active-backup",
        bond_miimon=100,
    )
    check(bond.type == InterfaceType.BOND, "bond created")
    check(sorted(p.name for p in bond.parents) == ["eth0", "eth1"], "bond parents")
    check(bond.params["bond_mode"] == "active-backup", "bond mode")
    vlan_if = origin.Interfaces.create(
        machine, InterfaceType.VLAN, parent=bond, vlan=tagged_id
    )
    check(vlan_if.type == InterfaceType.VLAN, "VLAN interface created")
    check(vlan_if.name == "bond0.20", "VLAN interface named after its parent")
    link = origin.InterfaceLinks.create(
        bond, LinkMode.STATIC, subnet=subnet_id, ip_address="10.30.0.60"
    )
    check(link.ip_address == "10.30.0.60", "STATIC with an address")
    bond = origin.Interface.read(machine, bond.id)
    auto = origin.InterfaceLinks.create(bond, LinkMode.STATIC, subnet=subnet_id)
    check(auto.ip_address == "10.30.0.10", f"STATIC picks the first free address: {auto}")
    bond = origin.Interface.read(machine, bond.id)
    check(len(bond.links) == 2, "two links")
    bond.links[0].delete()
    bond = origin.Interface.read(machine, bond.id)
    check([l.ip_address for l in bond.links] == ["10.30.0.10"], "unlinked")
    machine = origin.Machine.read(system_id)
    names = sorted(i.name for i in machine.interfaces)
    check(names == ["bond0", "bond0.20", "eth0", "eth1"], "machine interfaces")
    print("LIBMAAS_RESULT " + json.dumps({"bond": bond.id, "ips": machine.ip_addresses}))


if __name__ == "__main__":
    main()
