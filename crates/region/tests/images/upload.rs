use base64::Engine;
use maas_testkit::TestRegion;
use serde_json::Value;

use crate::{bytes, fetch, newest_set, sha, stored, upload};

const TINY: [(&str, &str); 3] = [
    ("name", "custom/tiny"),
    ("architecture", "amd64/generic"),
    ("filetype", "ddraw"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_upload_is_stored_by_sha256_and_served_with_range() {
    let r = TestRegion::start().await;
    let data = bytes(3 << 20, 7);
    let digest = sha(&data);
    // Not for users.
    let (st, _) = upload(&r.alice, &TINY, data.clone()).await;
    assert_eq!(st, 403);
    let (st, res) = upload(&r.admin, &TINY, data.clone()).await;
    assert_eq!(st, 201, "{res}");
    let set = newest_set(&res);
    assert_eq!(set["complete"], true, "{res}");
    assert_eq!(set["size"], data.len() as u64);
    let f = &set["files"]["root-dd.raw"];
    assert_eq!(
        (
            f["sha256"].as_str(),
            f["size"].as_u64(),
            f["complete"].as_bool()
        ),
        (Some(digest.as_str()), Some(data.len() as u64), Some(true)),
        "{res}"
    );
    assert_eq!(stored(&r, "by-sha256"), vec![digest.clone()]);
    assert!(stored(&r, "tmp").is_empty());
    let on_disk = std::fs::read(r.dir.0.join("images/by-sha256").join(&digest)).unwrap();
    assert_eq!(on_disk, data);

    // The region serves the bytes, whole and by range.
    let (st, body) = fetch(&r, &digest, None).await;
    assert_eq!((st, body.len()), (200, data.len()));
    assert!(body == data);
    let (st, body) = fetch(&r, &digest, Some("bytes=1000-1999")).await;
    assert_eq!(st, 206);
    assert!(body == data[1000..2000]);
    let (st, body) = fetch(&r, &digest, Some("bytes=-10")).await;
    assert_eq!((st, body.as_slice()), (206, &data[data.len() - 10..]));
    let (st, _) = fetch(&r, &digest, Some(&format!("bytes={}-", data.len()))).await;
    assert_eq!(st, 416);
    assert_eq!(fetch(&r, &"0".repeat(64), None).await.0, 404);
    assert_eq!(fetch(&r, "..%2F..%2Fsecret.key", None).await.0, 404);

    // The same content again (a new set) is not stored twice; deleting one
    // resource keeps the file the other still uses; deleting both removes it.
    let other = [
        ("name", "custom/other"),
        ("architecture", "amd64/generic"),
        ("filetype", "ddraw"),
    ];
    let (st, res2) = upload(&r.admin, &other, data.clone()).await;
    assert_eq!(st, 201, "{res2}");
    assert_eq!(stored(&r, "by-sha256"), vec![digest.clone()]);
    let (st, _) = r
        .admin
        .delete(&format!("boot-resources/{}/", res["id"]))
        .await;
    assert_eq!(st, 204);
    assert_eq!(stored(&r, "by-sha256"), vec![digest.clone()]);
    let (st, _) = r
        .admin
        .delete(&format!("boot-resources/{}/", res2["id"]))
        .await;
    assert_eq!(st, 204);
    assert!(stored(&r, "by-sha256").is_empty());
    assert_eq!(fetch(&r, &digest, None).await.0, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mismatch_is_400_and_nothing_is_kept() {
    let r = TestRegion::start().await;
    let data = bytes(100_000, 1);
    let wrong = sha(b"something else");
    let mut fields = TINY.to_vec();
    fields.push(("sha256", &wrong));
    let (st, e) = upload(&r.admin, &fields, data.clone()).await;
    assert_eq!(st, 400, "{e}");
    assert!(e["sha256"].is_array(), "{e}");
    let mut fields = TINY.to_vec();
    fields.push(("size", "5"));
    let (st, e) = upload(&r.admin, &fields, data.clone()).await;
    assert_eq!(st, 400, "{e}");
    assert!(e["size"].is_array(), "{e}");
    // A refused form (bad architecture) with content keeps nothing either.
    let (st, _) = upload(
        &r.admin,
        &[("name", "custom/x"), ("architecture", "sparc/generic")],
        data.clone(),
    )
    .await;
    assert_eq!(st, 400);
    assert_eq!(r.count("SELECT count(*) FROM boot_resources").await, 0);
    assert!(stored(&r, "by-sha256").is_empty());
    assert!(stored(&r, "tmp").is_empty());

    // sha256 + size, then chunks whose content is not that: the last chunk
    // is refused, the partial upload discarded, the file stays incomplete.
    let size = data.len().to_string();
    let mut fields = TINY.to_vec();
    fields.extend([("sha256", wrong.as_str()), ("size", size.as_str())]);
    let (st, res) = r.admin.post("boot-resources/", &fields).await;
    assert_eq!(st, 201, "{res}");
    let uri = newest_set(&res)["files"]["root-dd.raw"]["upload_uri"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(put(&r, &uri, data[..60_000].to_vec()).await.0, 200);
    let (st, e) = put(&r, &uri, data[60_000..].to_vec()).await;
    assert_eq!(st, 400, "{e}");
    assert!(stored(&r, "by-sha256").is_empty());
    assert!(stored(&r, "uploads").is_empty());
    let (_, res) = r
        .admin
        .get(&format!("boot-resources/{}/", res["id"]), &[])
        .await;
    assert_eq!(newest_set(&res)["complete"], false, "{res}");
    // More than the declared size is refused too.
    let (st, e) = put(&r, &uri, bytes(data.len() + 1, 0)).await;
    assert_eq!(st, 400, "{e}");
    assert!(stored(&r, "uploads").is_empty());
}

/// `PUT` a chunk as python-libmaas does.
pub async fn put(r: &TestRegion, uri: &str, chunk: Vec<u8>) -> (u16, Value) {
    let api = &r.admin;
    api.send(
        api.http
            .put(api.url(uri))
            .header("Content-Type", "application/octet-stream")
            .body(chunk),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sha256_and_size_then_chunks_with_progress() {
    let r = TestRegion::start().await;
    let data = bytes(10 << 20, 3);
    let digest = sha(&data);
    let size = data.len().to_string();
    let mut fields = TINY.to_vec();
    fields.extend([("sha256", digest.as_str()), ("size", size.as_str())]);
    let (st, res) = r.admin.post("boot-resources/", &fields).await;
    assert_eq!(st, 201, "{res}");
    let id = res["id"].clone();
    let f = &newest_set(&res)["files"]["root-dd.raw"];
    assert_eq!(f["complete"], false);
    let uri = f["upload_uri"].as_str().unwrap().to_string();
    let chunk = 4 << 20;
    for (n, c) in data.chunks(chunk).enumerate() {
        let (st, e) = put(&r, &uri, c.to_vec()).await;
        assert_eq!(st, 200, "{e}");
        let (_, res) = r.admin.get(&format!("boot-resources/{id}/"), &[]).await;
        let set = newest_set(&res);
        if (n + 1) * chunk < data.len() {
            let want = ((n + 1) * chunk) as f64 * 100.0 / data.len() as f64;
            let got = set["progress"].as_f64().unwrap();
            assert!((got - want).abs() < 0.01, "{got} vs {want}: {res}");
            assert_eq!(set["complete"], false);
        } else {
            assert_eq!(set["complete"], true, "{res}");
            assert!(set["files"]["root-dd.raw"].get("upload_uri").is_none());
        }
    }
    assert_eq!(stored(&r, "by-sha256"), vec![digest.clone()]);
    assert!(stored(&r, "uploads").is_empty());
    // A complete file takes no more chunks.
    assert_eq!(put(&r, &uri, vec![1]).await.0, 400);
    // Registering the same content again: complete at once.
    let (st, again) = r.admin.post("boot-resources/", &fields).await;
    assert_eq!(st, 201);
    assert_eq!(newest_set(&again)["complete"], true, "{again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn base64_parts_as_python_libmaas_sends_them() {
    let r = TestRegion::start().await;
    let data = bytes(200_001, 9);
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut body = Vec::new();
    let fields = [
        ("name", "custom/b64".as_bytes().to_vec()),
        ("architecture", b"amd64/generic".to_vec()),
        ("filetype", b"ddgz".to_vec()),
        ("content", data.clone()),
    ];
    for (k, v) in &fields {
        let enc = b64.encode(v);
        body.extend_from_slice(b"--XyZ\r\n");
        body.extend_from_slice(
            format!("Content-Disposition: form-data; name=\"{k}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n").as_bytes(),
        );
        for line in enc.as_bytes().chunks(76) {
            body.extend_from_slice(line);
            body.extend_from_slice(b"\r\n");
        }
    }
    body.extend_from_slice(b"--XyZ--\r\n");
    let api = &r.admin;
    let (st, res) = api
        .send(
            api.http
                .post(api.url("boot-resources/"))
                .header("Content-Type", "multipart/form-data; boundary=XyZ")
                .body(body),
        )
        .await;
    assert_eq!(st, 201, "{res}");
    let f = &newest_set(&res)["files"]["root-dd.gz"];
    assert_eq!(f["sha256"], sha(&data).as_str(), "{res}");
    assert_eq!(f["complete"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ephemeral_environment_is_one_set_of_kernel_and_initrd() {
    let r = TestRegion::start().await;
    let eph = |ft: &'static str| {
        [
            ("name", "ephemeral"),
            ("architecture", "amd64/generic"),
            ("filetype", ft),
        ]
    };
    let (st, e) = upload(&r.admin, &eph("ddraw"), vec![1]).await;
    assert_eq!(st, 400, "{e}");
    let (st, e) = upload(&r.admin, &TINY_KERNEL, vec![1]).await;
    assert_eq!(
        st, 400,
        "boot-kernel is for the ephemeral environment only: {e}"
    );
    let (st, res) = upload(&r.admin, &eph("boot-kernel"), bytes(1000, 1)).await;
    assert_eq!(st, 201, "{res}");
    assert_eq!(newest_set(&res)["complete"], false, "{res}");
    let (st, res) = upload(&r.admin, &eph("boot-initrd"), bytes(2000, 2)).await;
    assert_eq!(st, 201, "{res}");
    assert_eq!(res["sets"].as_object().unwrap().len(), 1, "{res}");
    let set = newest_set(&res);
    assert_eq!(set["complete"], true, "{res}");
    assert_eq!(set["files"].as_object().unwrap().len(), 2);
    // A newer kernel starts a new set, complete only with its initrd.
    let (_, res) = upload(&r.admin, &eph("boot-kernel"), bytes(1000, 3)).await;
    assert_eq!(res["sets"].as_object().unwrap().len(), 2, "{res}");
    assert_eq!(newest_set(&res)["complete"], false);
}

const TINY_KERNEL: [(&str, &str); 3] = [
    ("name", "custom/tiny"),
    ("architecture", "amd64/generic"),
    ("filetype", "boot-kernel"),
];
