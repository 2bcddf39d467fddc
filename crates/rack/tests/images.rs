//! Images uploaded to the region reach the rack's image dir (checked by
//! sha256), are served by the rack's HTTP boot server to a client in
//! another namespace (whole and by Range), the ephemeral environment is
//! linked where iPXE fetches it, the region shows the rack in sync, and an
//! image deleted in the region disappears from the rack.

mod common;

use std::time::Duration;

use common::*;
use maas_lab::require_tools;
use serde_json::Value;
use sha2::{Digest, Sha256};

fn sha(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

fn bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(13).wrapping_add(seed))
        .collect()
}

async fn upload(lab: &RackLab, name: &str, filetype: &str, content: Vec<u8>) -> Value {
    let api = &lab.r.admin;
    let form = reqwest::multipart::Form::new()
        .text("name", name.to_string())
        .text("architecture", "amd64/generic")
        .text("filetype", filetype.to_string())
        .part(
            "content",
            reqwest::multipart::Part::bytes(content).file_name("f"),
        );
    let (st, res) = api
        .send(api.http.post(api.url("boot-resources/")).multipart(form))
        .await;
    assert_eq!(st, 201, "{res}");
    res
}

/// `curl` from the client namespace: (HTTP status, body).
fn curl(lab: &RackLab, path: &str, range: Option<&str>) -> (u16, Vec<u8>) {
    let out = lab.tmp.0.join("curl.out");
    let _ = std::fs::remove_file(&out);
    let url = format!("http://{}.1:5248{path}", lab.prefix);
    let mut c = lab.l.cli.cmd("curl");
    c.args(["-sS", "--max-time", "10", "-o"])
        .arg(&out)
        .args(["-w", "%{http_code}"]);
    if let Some(r) = range {
        c.args(["-r", r]);
    }
    let o = c.arg(&url).output().unwrap();
    let code = String::from_utf8_lossy(&o.stdout)
        .trim()
        .parse()
        .unwrap_or(0);
    if code == 0 {
        eprintln!(
            "curl {url}: {} {}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }
    (code, std::fs::read(&out).unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploaded_images_reach_the_rack_and_are_served() {
    require_tools(&["curl"]).unwrap();
    let p = "10.77.9";
    let lab = RackLab::start(p).await;
    // The client has a static address on the rack's link.
    lab.l
        .cli
        .ip(&["addr", "add", &format!("{p}.50/24"), "dev", "eth0"])
        .unwrap();
    // The rack reaches the region's HTTP API only through the host it
    // enrolled with (127.0.0.1 in its namespace); maas_url names a host it
    // cannot reach, so the sync falls back to the enrolled host.
    let http = lab.r.running.as_ref().unwrap().addr;
    let _fwd = lab
        .l
        .srv
        .forward_tcp("127.0.0.1:5240".parse().unwrap(), http)
        .unwrap();
    let (st, e) = lab
        .r
        .admin
        .op(
            "maas/",
            "set_config",
            &[
                ("name", "maas_url"),
                ("value", "http://10.255.255.1:5240/MAAS"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{e}");

    let root = bytes(3 << 20, 1);
    let (kernel, initrd) = (bytes(300_000, 2), bytes(500_000, 3));
    let tiny = upload(&lab, "custom/tiny", "ddraw", root.clone()).await;
    upload(&lab, "ephemeral", "boot-kernel", kernel.clone()).await;
    upload(&lab, "ephemeral", "boot-initrd", initrd.clone()).await;

    let dir = lab.tmp.0.join("rack/images");
    let want = [sha(&root), sha(&kernel), sha(&initrd)];
    wait_for(
        "the images on the rack",
        Duration::from_secs(30),
        || async {
            want.iter()
                .all(|s| std::fs::read(dir.join("by-sha256").join(s)).is_ok_and(|b| sha(&b) == *s))
        },
    )
    .await;

    // Served to a client by the rack, whole and by range.
    let (st, body) = curl(&lab, &format!("/images/{}", want[0]), None);
    assert_eq!(
        (st, body.len()),
        (200, root.len()),
        "{}",
        lab.rack.log_text()
    );
    assert_eq!(sha(&body), want[0]);
    let (st, body) = curl(&lab, &format!("/images/{}", want[0]), Some("1000-1999"));
    assert_eq!(st, 206);
    assert!(body == root[1000..2000]);
    // The ephemeral environment where iPXE fetches it.
    let (st, body) = curl(&lab, "/images/ephemeral/amd64/kernel", None);
    assert_eq!(st, 200);
    assert!(body == kernel, "the linked kernel");
    let (st, body) = curl(&lab, "/images/ephemeral/amd64/initrd", None);
    assert_eq!(st, 200);
    assert!(body == initrd, "the linked initrd");

    // The region shows the rack in sync.
    wait_for("the rack's sync state", Duration::from_secs(15), || async {
        let (_, s) = lab
            .r
            .admin
            .get_op("boot-resources/", "rack_sync", &[])
            .await;
        s["rack-ns"]["sync"]["state"] == "synced" && s["rack-ns"]["sync"]["images"] == 3
    })
    .await;

    // A newer kernel replaces the linked one once its initrd is there.
    let kernel2 = bytes(310_000, 4);
    upload(&lab, "ephemeral", "boot-kernel", kernel2.clone()).await;
    upload(&lab, "ephemeral", "boot-initrd", initrd.clone()).await;
    wait_for("the new kernel linked", Duration::from_secs(30), || async {
        curl(&lab, "/images/ephemeral/amd64/kernel", None).1 == kernel2
    })
    .await;

    // Deleted in the region: gone from the rack.
    let (st, _) = lab
        .r
        .admin
        .delete(&format!("boot-resources/{}/", tiny["id"]))
        .await;
    assert_eq!(st, 204);
    wait_for(
        "the image gone from the rack",
        Duration::from_secs(30),
        || async { !dir.join("by-sha256").join(&want[0]).exists() },
    )
    .await;
    assert_eq!(curl(&lab, &format!("/images/{}", want[0]), None).0, 404);
    // The old kernel went with its set being superseded.
    assert!(!dir.join("by-sha256").join(&want[1]).exists());
}
