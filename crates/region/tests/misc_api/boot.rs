//! Boot resources and sources.

use maas_testkit as common;

use common::TestRegion;
use common::shape::{int, obj, string};
use serde_json::Value;

use crate::SHA;

fn check_resource(v: &Value) {
    let o = obj(v, "boot resource");
    int(o, "id", "boot resource");
    for k in ["type", "name", "architecture", "resource_uri"] {
        string(o, k, "boot resource");
    }
    assert!(o.contains_key("last_deployed"), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boot_resources() {
    let r = TestRegion::start().await;
    let user = r.user("joe", false).await;
    let (st, list) = r.admin.get("boot-resources/", &[]).await;
    assert_eq!((st, list.clone()), (200, serde_json::json!([])));

    // Refusals write nothing.
    let good = [
        ("name", "custom/alma9"),
        ("title", "Alma 9"),
        ("architecture", "amd64/generic"),
        ("sha256", SHA),
        ("size", "1234"),
    ];
    let (st, _) = user.post("boot-resources/", &good).await;
    assert_eq!(st, 403);
    let (st, e) = r
        .admin
        .post(
            "boot-resources/",
            &[
                ("architecture", "sparc/generic"),
                ("size", "x"),
                ("filetype", "zip"),
            ],
        )
        .await;
    assert_eq!(st, 400, "{e}");
    for f in ["name", "architecture", "sha256", "size", "filetype"] {
        assert!(e[f].is_array(), "{f}: {e}");
    }
    let (st, e) = r
        .admin
        .post("boot-resources/", &[("name", "x"), ("content", "abc")])
        .await;
    assert_eq!(st, 400, "{e}");
    assert_eq!(r.count("SELECT count(*) FROM boot_resources").await, 0);

    let (st, created) = r.admin.post("boot-resources/", &good).await;
    assert_eq!(st, 201, "{created}");
    check_resource(&created);
    assert_eq!(created["type"], "Uploaded");
    assert_eq!(created["subarches"], "generic");
    assert_eq!(created["title"], "Alma 9");
    let sets = created["sets"].as_object().unwrap();
    assert_eq!(sets.len(), 1);
    let set = sets.values().next().unwrap();
    assert_eq!(set["label"], "uploaded");
    assert_eq!(set["size"], 1234);
    assert_eq!(set["complete"], false);
    let file = &set["files"]["root.tgz"];
    assert_eq!(file["filetype"], "root-tgz");
    assert_eq!(file["sha256"], SHA);
    assert!(file["upload_uri"].is_string(), "{file}");
    let id = created["id"].as_i64().unwrap();

    // The same name and architecture again: a new set on the same resource.
    let (st, again) = r.admin.post("boot-resources/", &good).await;
    assert_eq!(st, 201, "{again}");
    assert_eq!(again["id"].as_i64(), Some(id));
    assert_eq!(again["sets"].as_object().unwrap().len(), 2);

    let (st, list) = user.get("boot-resources/", &[]).await;
    assert_eq!(st, 200);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1);
    check_resource(&list[0]);
    assert!(list[0].get("sets").is_none(), "{}", list[0]);
    assert_eq!(list[0]["architecture"], "amd64/generic");
    let (_, up) = user.get("boot-resources/", &[("type", "uploaded")]).await;
    assert_eq!(up.as_array().unwrap().len(), 1);
    let (_, synced) = user.get("boot-resources/", &[("type", "synced")]).await;
    assert_eq!(synced.as_array().unwrap().len(), 0);
    let (st, _) = user.get("boot-resources/", &[("type", "bogus")]).await;
    assert_eq!(st, 400);

    let (st, one) = user.get(&format!("boot-resources/{id}/"), &[]).await;
    assert_eq!(st, 200);
    assert!(one["sets"].is_object());
    let (st, _) = user.get("boot-resources/999/", &[]).await;
    assert_eq!(st, 404);
    let (st, _) = user.get("boot-resources/abc/", &[]).await;
    assert_eq!(st, 404);

    let (st, v) = user.get_op("boot-resources/", "is_importing", &[]).await;
    assert_eq!((st, v), (200, Value::Bool(false)));
    let (st, _) = user.op("boot-resources/", "import", &[]).await;
    assert_eq!(st, 403);
    let (st, v) = r.admin.op("boot-resources/", "import", &[]).await;
    assert_eq!(st, 200, "{v}");
    let (st, _) = r.admin.op("boot-resources/", "stop_import", &[]).await;
    assert_eq!(st, 200);

    // Racks are told about the files of the newest complete set only.
    let snap = maas_region::services::snapshot::compute(r.db(), 0)
        .await
        .unwrap();
    assert!(snap.images.is_empty(), "{:?}", snap.images);
    sqlx::query("UPDATE boot_resource_files SET complete = true")
        .execute(r.db())
        .await
        .unwrap();
    let snap = maas_region::services::snapshot::compute(r.db(), 0)
        .await
        .unwrap();
    assert_eq!(snap.images.len(), 1, "{:?}", snap.images);
    assert_eq!(snap.images[0].name, "custom/alma9");
    assert_eq!(
        (
            snap.images[0].filename.as_str(),
            snap.images[0].filetype.as_str()
        ),
        ("root.tgz", "root-tgz")
    );
    assert_eq!(snap.images[0].architecture, "amd64/generic");
    assert_eq!(
        (snap.images[0].sha256.as_str(), snap.images[0].size),
        (SHA, 1234)
    );
    sqlx::query("UPDATE boot_resource_files SET complete = false")
        .execute(r.db())
        .await
        .unwrap();

    // python-libmaas reads the list and one resource with its sets.
    libmaas_reads(&r).await;

    let (st, _) = user.delete(&format!("boot-resources/{id}/")).await;
    assert_eq!(st, 403);
    let (st, _) = r.admin.delete(&format!("boot-resources/{id}/")).await;
    assert_eq!(st, 204);
    let (st, _) = r.admin.delete(&format!("boot-resources/{id}/")).await;
    assert_eq!(st, 404);
    assert_eq!(r.count("SELECT count(*) FROM boot_resource_sets").await, 0);
}

const LIBMAAS: &str = r#"
import sys
from maas.client import connect
c = connect(sys.argv[1], apikey=sys.argv[2])
rs = c.boot_resources.list()
assert len(rs) == 1, rs
r = c.boot_resources.get(rs[0].id)
assert r.name == "custom/alma9" and r.architecture == "amd64/generic", r
assert r.subarches == "generic", r.subarches
sets = list(r.sets.values())
assert len(sets) == 2 and sets[0].label == "uploaded", sets
f = list(sets[0].files.values())[0]
assert f.filename == "root.tgz" and f.size == 1234 and not f.complete, f
srcs = c.boot_sources.list()
assert srcs[0].url == "https://images.maas.io/ephemeral-v3/stable/", srcs
files = c.files.list()
import io
src = c.boot_sources.create("http://mirror.example.com/", keyring_data=io.BytesIO(b"KEY"))
assert src.keyring_data == "S0VZ" and src.keyring_filename == "", src
sel = c._origin.BootSourceSelections.create(src, "ubuntu", "noble", arches=["amd64", "arm64"])
assert sel.arches == ["amd64", "arm64"] and sel.labels == ["*"], sel
assert [x.release for x in c._origin.BootSourceSelections.read(src)] == ["noble"]
src.delete()
details = c.machines.get(system_id=sys.argv[3]).get_details()
assert details == {"lshw": None, "lldp": None}, details
print("LIBMAAS_OK", len(rs), len(srcs), len(files))
"#;

async fn libmaas_reads(r: &TestRegion) {
    let py = std::env::var("MAAS_TEST_PYTHON")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "/var/tmp/maas-venv/bin/python".into());
    let out = tokio::process::Command::new(&py)
        .arg("-c")
        .arg(LIBMAAS)
        .arg(r.url())
        .arg(r.admin.key.clone().unwrap())
        .arg(r.ready_machine("libmaas", 1, 1024).await)
        .kill_on_drop(true)
        .output()
        .await
        .unwrap_or_else(|e| panic!("cannot run {py}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("LIBMAAS_OK 1 1 0"),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boot_sources_and_selections() {
    let r = TestRegion::start().await;
    let joe = r.user("joe", false).await;
    let (st, _) = joe.get("boot-sources/", &[]).await;
    assert_eq!(st, 403);
    let (st, list) = r.admin.get("boot-sources/", &[]).await;
    assert_eq!(st, 200);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1);
    let src = obj(&list[0], "boot source");
    int(src, "id", "boot source");
    for k in [
        "url",
        "keyring_filename",
        "keyring_data",
        "created",
        "updated",
        "resource_uri",
    ] {
        string(src, k, "boot source");
    }
    assert_eq!(src["url"], "https://images.maas.io/ephemeral-v3/stable/");
    let sid = src["id"].as_i64().unwrap();
    let (st, sels) = r
        .admin
        .get(&format!("boot-sources/{sid}/selections/"), &[])
        .await;
    assert_eq!(st, 200);
    assert_eq!(sels[0]["os"], "ubuntu");
    assert_eq!(sels[0]["boot_source_id"], sid);

    let (st, e) = r
        .admin
        .post("boot-sources/", &[("url", "http://mirror.example.com/")])
        .await;
    assert_eq!(st, 400, "{e}");
    let (st, e) = r
        .admin
        .post(
            "boot-sources/",
            &[
                ("url", "https://images.maas.io/ephemeral-v3/stable/"),
                ("keyring_filename", "/k"),
            ],
        )
        .await;
    assert_eq!(st, 400, "{e}");
    assert_eq!(r.count("SELECT count(*) FROM boot_sources").await, 1);
    let (st, c) = r
        .admin
        .post(
            "boot-sources/",
            &[
                ("url", "http://mirror.example.com/"),
                ("keyring_data", "abc"),
            ],
        )
        .await;
    assert_eq!(st, 201, "{c}");
    assert_eq!(c["keyring_data"], "YWJj");
    let nid = c["id"].as_i64().unwrap();
    let (st, u) = r
        .admin
        .put(
            &format!("boot-sources/{nid}/"),
            &[("keyring_filename", "/etc/k.gpg")],
        )
        .await;
    assert_eq!(st, 200, "{u}");
    assert_eq!(u["keyring_filename"], "/etc/k.gpg");

    let path = format!("boot-sources/{nid}/selections/");
    let (st, e) = r.admin.post(&path, &[("os", "ubuntu")]).await;
    assert_eq!(st, 400, "{e}");
    let (st, s) = r
        .admin
        .post(
            &path,
            &[
                ("os", "ubuntu"),
                ("release", "noble"),
                ("arches", "amd64"),
                ("arches", "arm64"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{s}");
    assert_eq!(s["arches"], serde_json::json!(["amd64", "arm64"]));
    assert_eq!(s["subarches"], serde_json::json!(["*"]));
    let (st, _) = r
        .admin
        .post(&path, &[("os", "ubuntu"), ("release", "noble")])
        .await;
    assert_eq!(st, 400);
    let selid = s["id"].as_i64().unwrap();
    let (st, u) = r
        .admin
        .put(&format!("{path}{selid}/"), &[("labels", "release")])
        .await;
    assert_eq!(st, 200, "{u}");
    assert_eq!(u["labels"], serde_json::json!(["release"]));
    let (st, _) = r
        .admin
        .get(&format!("boot-sources/{sid}/selections/{selid}/"), &[])
        .await;
    assert_eq!(st, 404);
    let (st, _) = joe.delete(&format!("{path}{selid}/")).await;
    assert_eq!(st, 403);
    let (st, _) = r.admin.delete(&format!("{path}{selid}/")).await;
    assert_eq!(st, 204);
    let (st, _) = r.admin.delete(&format!("boot-sources/{nid}/")).await;
    assert_eq!(st, 204);
    let (st, _) = r.admin.get(&format!("boot-sources/{nid}/"), &[]).await;
    assert_eq!(st, 404);
}
