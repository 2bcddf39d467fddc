#!/usr/bin/env python3
"""python-libmaas 0.6.8 devices flow: create with MAC addresses, list, read,
delete. Usage: devices_libmaas.py REGION_URL API_KEY. Prints
`DEVICES_RESULT {json}` last."""

import json
import sys

from maas.client import connect

url, key = sys.argv[1], sys.argv[2]
client = connect(url, apikey=key)
d = client.devices.create(
    mac_addresses=["52:54:00:aa:bb:01", "52:54:00:aa:bb:02"], hostname="phone1"
)
assert d.hostname == "phone1", d.hostname
assert d.node_type.value == 1, d.node_type
sid = d.system_id
listed = [x.system_id for x in client.devices.list()]
assert sid in listed, listed
again = client.devices.get(sid)
assert again.fqdn == "phone1.maas", again.fqdn
macs = sorted(i.mac_address for i in again.interfaces)
assert macs == ["52:54:00:aa:bb:01", "52:54:00:aa:bb:02"], macs
assert again.zone.name == "default"
by_host = [x.system_id for x in client.devices.list(hostnames=["phone1"])]
assert by_host == [sid], by_host
again.hostname = "phone9"
again.save()
assert client.devices.get(sid).hostname == "phone9"
nodes = {n.system_id: n.node_type.value for n in client._origin.Nodes.read()}
assert nodes.get(sid) == 1, nodes
again.delete()
left = [x.system_id for x in client.devices.list()]
assert sid not in left, left
print("DEVICES_RESULT " + json.dumps({"created": sid, "left": left}), flush=True)
