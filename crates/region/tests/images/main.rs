//! Boot images: uploads (multipart `content`, python-libmaas style base64
//! parts, sha256 + size then chunked PUTs), what is kept on a mismatch,
//! deletion, the ephemeral environment, the region serving bytes to racks,
//! the machine's boot task and deployments refused without their image.

mod bench;
mod libmaas;
mod task;
mod upload;

use maas_testkit::{Api, TestRegion};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub fn sha(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// Deterministic bytes.
pub fn bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// `POST boot-resources/` as multipart with `content` as a file part.
pub async fn upload(api: &Api, fields: &[(&str, &str)], content: Vec<u8>) -> (u16, Value) {
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    form = form.part(
        "content",
        reqwest::multipart::Part::bytes(content).file_name("image"),
    );
    api.send(api.http.post(api.url("boot-resources/")).multipart(form))
        .await
}

/// The files under the region's image dir (`by-sha256`, `tmp`, `uploads`).
pub fn stored(r: &TestRegion, sub: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(r.dir.0.join("images").join(sub))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().to_string())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// The newest set of a resource.
pub fn newest_set(res: &Value) -> Value {
    let sets = res["sets"].as_object().expect("sets");
    let newest = sets.keys().max().expect("a set").clone();
    sets[&newest].clone()
}

/// `GET /MAAS/images/<sha>` with an optional Range: (status, body).
pub async fn fetch(r: &TestRegion, sha256: &str, range: Option<&str>) -> (u16, Vec<u8>) {
    let c = maas_testkit::http_client();
    let mut rq = c.get(format!("{}/images/{sha256}", r.url().trim_end_matches('/')));
    if let Some(rg) = range {
        rq = rq.header("Range", rg);
    }
    let resp = rq.send().await.unwrap();
    let st = resp.status().as_u16();
    (st, resp.bytes().await.unwrap().to_vec())
}
