//! python-libmaas against the domain endpoints.

use std::path::PathBuf;
use std::time::Duration;

use crate::common::TestRegion;

/// python-libmaas's viscera: `client.domains` list / create / get / save /
/// delete (it has no DNS resource objects).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_libmaas_domains() {
    let py = PathBuf::from(
        std::env::var("MAAS_TEST_PYTHON")
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "/var/tmp/maas-venv/bin/python".into()),
    );
    assert!(
        py.exists(),
        "python-libmaas venv missing at {}",
        py.display()
    );
    let r = TestRegion::start().await;
    let key = r.admin.key.clone().unwrap();
    let script = r#"
import sys
from maas.client import connect
c = connect(sys.argv[1], apikey=sys.argv[2])
names = [d.name for d in c.domains.list()]
assert names == ["maas"], names
d = c.domains.create("libmaas.example", authoritative=False, ttl=120)
assert (d.name, d.authoritative, d.ttl) == ("libmaas.example", False, 120), d
g = c.domains.get(d.id)
assert g.name == "libmaas.example"
g.ttl = 240
g.name = "renamed.example"
g.save()
g = c.domains.get(d.id)
assert (g.name, g.ttl) == ("renamed.example", 240), g
g.delete()
assert [x.name for x in c.domains.list()] == ["maas"]
print("LIBMAAS_DOMAINS_OK")
"#;
    let out = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new(&py)
            .arg("-c")
            .arg(script)
            .arg(r.url())
            .arg(&key)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("python finished in time")
    .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("LIBMAAS_DOMAINS_OK"),
        "python-libmaas domains flow failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    assert_eq!(r.count("SELECT count(*) FROM domains").await, 1);
}
