#!/usr/bin/env python3
"""python-libmaas 0.6.8 against a running region: the flow an operator's
script goes through (create, commission, tag, list, allocate, release).

Usage: libmaas_flow.py REGION_URL API_KEY   (or env MAAS_URL / MAAS_APIKEY)
REGION_URL is like http://127.0.0.1:PORT/MAAS. Exits non-zero on any failure;
the last line of stdout is `LIBMAAS_RESULT {json}` for the caller to cross-check.
"""

import json
import random
import sys
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
import uuid

from maas.client import connect
from maas.client.bones import CallError
from maas.client.enum import NodeStatus
from maas.client.viscera.machines import MachineNotFound

STEP = ["start"]


def step(name):
    STEP[0] = name
    print(f"--- {name}", flush=True)


def check(cond, what):
    if not cond:
        raise AssertionError(f"[{STEP[0]}] {what}")
    print(f"  ok: {what}", flush=True)


def random_mac():
    return "52:54:%02x:%02x:%02x:%02x" % tuple(random.randrange(256) for _ in range(4))


def oauth_header(consumer_key, token_key, token_secret):
    # OAuth 1.0a PLAINTEXT, the way MAAS's own clients sign.
    q = urllib.parse.quote
    fields = {
        "oauth_nonce": uuid.uuid4().hex,
        "oauth_timestamp": str(int(time.time())),
        "oauth_version": "1.0",
        "oauth_signature_method": "PLAINTEXT",
        "oauth_consumer_key": consumer_key,
        "oauth_token": token_key,
        "oauth_signature": "&" + q(token_secret, safe=""),
    }
    return 'OAuth realm="OAuth", ' + ", ".join(
        f'{k}="{q(v, safe="")}"' for k, v in fields.items()
    )


def multipart(fields, files):
    boundary = "----maas-flow-" + uuid.uuid4().hex
    out = []
    for k, v in fields.items():
        out.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n'.encode()
            + str(v).encode()
            + b"\r\n"
        )
    for k, (fname, data, ctype) in files.items():
        out.append(
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; '
                f'filename="{fname}"\r\nContent-Type: {ctype}\r\n\r\n'
            ).encode()
            + data
            + b"\r\n"
        )
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={boundary}"


def signal_commissioned(root, token, cpus, memory):
    """What a commissioning machine's boot agent does at the end: POST the
    metadata signal with its hardware inventory, signed with its own token."""
    body, ctype = multipart(
        {"status": "OK"},
        {
            "hardware.json": (
                "hardware.json",
                json.dumps({"cpu_count": cpus, "memory": memory}).encode(),
                "application/json",
            )
        },
    )
    req = urllib.request.Request(
        f"{root}/MAAS/metadata/latest/?op=signal",
        data=body,
        method="POST",
        headers={
            "Content-Type": ctype,
            "Authorization": oauth_header(
                token["consumer_key"], token["token_key"], token["token_secret"]
            ),
        },
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def main():
    url = sys.argv[1] if len(sys.argv) > 1 else None
    key = sys.argv[2] if len(sys.argv) > 2 else None
    if url is None or key is None:
        import os

        url = url or os.environ.get("MAAS_URL")
        key = key or os.environ.get("MAAS_APIKEY")
    if not url or not key:
        print("usage: libmaas_flow.py REGION_URL API_KEY", file=sys.stderr)
        return 2
    url = url.rstrip("/")
    parts = urllib.parse.urlsplit(url)
    root = f"{parts.scheme}://{parts.netloc}"
    suffix = uuid.uuid4().hex[:6]

    step("connect")
    client = connect(url, apikey=key)
    me = client.users.whoami()
    check(me.username == "admin" and me.is_admin, f"whoami is admin ({me.username})")

    step("create 3 machines")
    # Hardware found by commissioning: cost (cpus + GiB) 4 < 8 < 16.
    specs = [
        (f"lm-small-{suffix}", 2, 2048),
        (f"lm-medium-{suffix}", 4, 4096),
        (f"lm-large-{suffix}", 8, 8192),
    ]
    machines = {}
    for hostname, cpus, mem in specs:
        m = client.machines.create(
            architecture="amd64/generic",
            mac_addresses=[random_mac()],
            power_type="manual",
            hostname=hostname,
        )
        print(f"  created {m.system_id} {m.hostname} status={m.status_name}")
        check(m.hostname == hostname, f"hostname {hostname}")
        check(
            m.status == NodeStatus.COMMISSIONING and m.status_name == "Commissioning",
            f"{hostname} is Commissioning after an admin's create (got {m.status_name})",
        )
        machines[hostname] = (m, cpus, mem)

    step("commission: get_token + metadata signal with hardware.json")
    machine_handler = client._origin.Machine._handler
    for hostname, (m, cpus, mem) in machines.items():
        token = machine_handler.get_token(system_id=m.system_id)
        check(
            isinstance(token, dict)
            and all(token.get(k) for k in ("consumer_key", "token_key", "token_secret")),
            f"get_token for {hostname} returns the machine's key",
        )
        again = machine_handler.get_token(system_id=m.system_id)
        check(again == token, f"get_token for {hostname} is stable")
        status, text = signal_commissioned(root, token, cpus, mem)
        check(status == 200, f"signal OK for {hostname} -> HTTP {status} {text[:200]!r}")
        m.refresh()
        check(
            m.status == NodeStatus.READY and m.status_name == "Ready",
            f"{hostname} is Ready after commissioning (got {m.status_name})",
        )
        check(
            m.cpus == cpus and m.memory == mem,
            f"{hostname} has cpu_count={cpus} memory={mem} (got {m.cpus}/{m.memory})",
        )
        # The user's key cannot speak for a machine on the metadata API.
        bad_status, _ = signal_commissioned(
            root, dict(zip(("consumer_key", "token_key", "token_secret"), key.split(":"))), 1, 1
        )
        check(bad_status in (401, 403), f"user key refused on metadata signal ({bad_status})")

    step("tag machines")
    tag_name = f"lmtag-{suffix}"
    tag = client.tags.create(tag_name, comment="python-libmaas interop")
    check(tag.name == tag_name, f"tag {tag_name} created")
    tagged = [f"lm-medium-{suffix}", f"lm-large-{suffix}"]
    # One through libmaas' managed set, one through the raw update_nodes call.
    m_medium = machines[tagged[0]][0]
    m_medium.tags.add(tag)
    res = tag._handler.update_nodes(name=tag_name, add=machines[tagged[1]][0].system_id)
    print(f"  update_nodes -> {res}")
    check(
        isinstance(res, dict) and res.get("added") == 1,
        f"update_nodes added 1 machine ({res})",
    )
    raw = client._origin.Tag._handler.machines(name=tag_name)
    check(
        sorted(x["hostname"] for x in raw) == sorted(tagged),
        f"tag {tag_name} lists {sorted(tagged)} (got {sorted(x['hostname'] for x in raw)})",
    )

    step("list machines")
    listed = {m.hostname: m for m in client.machines.list()}
    for hostname, (_, cpus, mem) in machines.items():
        check(hostname in listed, f"{hostname} is listed")
        lm = listed[hostname]
        check(lm.status_name == "Ready", f"{hostname} lists as Ready ({lm.status_name})")
        check(lm.owner is None, f"{hostname} has no owner")
        names = sorted(t.name for t in lm.tags)
        want = [tag_name] if hostname in tagged else []
        check(names == want, f"{hostname} tags {want} (got {names})")
    only = client.machines.list(hostnames=[f"lm-small-{suffix}"])
    check(
        [m.hostname for m in only] == [f"lm-small-{suffix}"],
        "hostname filter returns exactly that machine",
    )

    step("allocate (cheapest match)")
    got = client.machines.allocate(cpus=2, memory=1024, tags=[tag_name])
    print(f"  allocated {got.system_id} {got.hostname} status={got.status_name}")
    check(
        got.hostname == f"lm-medium-{suffix}",
        f"cheapest tagged machine chosen: lm-medium (got {got.hostname})",
    )
    check(got.status == NodeStatus.ALLOCATED, f"status is Allocated ({got.status_name})")
    check(got.owner is not None and got.owner.username == "admin", f"owner is admin ({got.owner})")
    got.refresh()
    check(got.status_name == "Allocated", "still Allocated on re-read")
    # Without the tag the small one is cheapest; asking for 3 cpus skips it.
    dry = client._origin.Machines._handler.allocate(cpu_count="3", dry_run=True)
    check(
        dry["hostname"] == f"lm-large-{suffix}",
        f"dry run for cpus>=3 picks lm-large (medium is taken) (got {dry['hostname']})",
    )
    allocated_sid = got.system_id

    step("release")
    got.release()
    got.refresh()
    check(got.status_name == "Ready", f"released machine is Ready ({got.status_name})")
    check(got.owner is None, f"released machine has no owner ({got.owner})")

    step("allocate with impossible constraints")
    try:
        m = client.machines.allocate(cpus=100000, memory=1024, tags=[tag_name])
    except MachineNotFound as e:
        check(True, f"MachineNotFound raised ({str(e)[:80]})")
    except CallError as e:
        raise AssertionError(f"expected MachineNotFound (409), got CallError {getattr(e, 'status', '?')}: {e}")
    else:
        raise AssertionError(f"allocation should fail, but got {m.system_id} {m.hostname}")
    for hostname, (m, _, _) in machines.items():
        m.refresh()
        check(m.status_name == "Ready", f"{hostname} still Ready after the failed allocation")

    result = {
        "allocated": allocated_sid,
        "tag": tag_name,
        "machines": {
            h: {"system_id": m.system_id, "cpu_count": c, "memory": mem}
            for h, (m, c, mem) in machines.items()
        },
    }
    print("LIBMAAS_RESULT " + json.dumps(result, sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # noqa: BLE001 - diagnostics for the test log
        traceback.print_exc()
        print(f"FAILED at step '{STEP[0]}': {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
