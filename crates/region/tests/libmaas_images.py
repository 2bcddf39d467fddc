#!/usr/bin/env python3
"""python-libmaas 0.6.8 uploads a boot resource the way it does: sha256 and
size first, then the bytes in PUT chunks with a progress callback.

Usage: libmaas_images.py REGION_URL API_KEY. The last line of stdout is
`LIBMAAS_RESULT {json}` for the caller to cross-check.
"""

import hashlib
import io
import json
import sys

from maas.client import connect
from maas.client.viscera.boot_resources import BootResourceFileType

url, key = sys.argv[1], sys.argv[2]
client = connect(url, apikey=key)
data = bytes((i * 7) % 251 for i in range(5 * 1024 * 1024 + 123))
progress = []
res = client.boot_resources.create(
    "custom/libmaas",
    "amd64/generic",
    io.BytesIO(data),
    title="libmaas upload",
    filetype=BootResourceFileType.DDTGZ,
    chunk_size=1 << 20,
    progress_callback=progress.append,
)
if not hasattr(res, "sets"):
    res = client.boot_resources.get(res.id) if hasattr(client.boot_resources, "get") else res
newest = max(res.sets)
rset = res.sets[newest]
files = {name: {"sha256": f.sha256, "size": f.size, "complete": f.complete}
         for name, f in rset.files.items()}
listed = [r.name for r in client.boot_resources.list()]
print("LIBMAAS_RESULT " + json.dumps({
    "id": res.id,
    "sha256": hashlib.sha256(data).hexdigest(),
    "size": len(data),
    "complete": rset.complete,
    "files": files,
    "progress": progress,
    "listed": listed,
}))
