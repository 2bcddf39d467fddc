//! Not a test: upload throughput of a 256 MiB image (multipart `content`,
//! and sha256+size then 4 MiB PUT chunks as python-libmaas sends them)
//! against `cp` and `sha256sum` of the same file. Run with
//! `cargo nextest run -p maas-region --test images --run-ignored only bench`.

use std::time::Instant;

use maas_testkit::TestRegion;

use crate::{newest_set, sha};

fn timed(cmd: &str, args: &[&std::ffi::OsStr]) -> f64 {
    let t = Instant::now();
    let ok = std::process::Command::new(cmd).args(args).output().unwrap();
    assert!(ok.status.success(), "{cmd}");
    t.elapsed().as_secs_f64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: cargo nextest run -p maas-region --test images --run-ignored only bench"]
async fn bench_upload_256mib() {
    let r = TestRegion::start().await;
    let mib = 256usize;
    let data: Vec<u8> = (0..mib << 20).map(|i| (i % 251) as u8).collect();
    let digest = sha(&data);
    let src = r.dir.0.join("bench.img");
    std::fs::write(&src, &data).unwrap();
    let dst = r.dir.0.join("bench.copy");
    let cp = timed("cp", &[src.as_os_str(), dst.as_os_str()]);
    let sum = timed("sha256sum", &[src.as_os_str()]);

    let t = Instant::now();
    let (st, res) = crate::upload(
        &r.admin,
        &[
            ("name", "custom/bench"),
            ("architecture", "amd64/generic"),
            ("filetype", "ddraw"),
        ],
        data.clone(),
    )
    .await;
    let multipart = t.elapsed().as_secs_f64();
    assert_eq!(st, 201, "{res}");
    assert_eq!(newest_set(&res)["complete"], true);

    // The chunked form needs content not stored yet.
    let mut data2 = data;
    data2[0] ^= 0xff;
    let digest2 = sha(&data2);
    let size = data2.len().to_string();
    let t = Instant::now();
    let (st, res) = r
        .admin
        .post(
            "boot-resources/",
            &[
                ("name", "custom/bench2"),
                ("architecture", "amd64/generic"),
                ("filetype", "ddraw"),
                ("sha256", &digest2),
                ("size", &size),
            ],
        )
        .await;
    assert_eq!(st, 201, "{res}");
    let uri = newest_set(&res)["files"]["root-dd.raw"]["upload_uri"]
        .as_str()
        .unwrap()
        .to_string();
    for c in data2.chunks(4 << 20) {
        let (st, e) = crate::upload::put(&r, &uri, c.to_vec()).await;
        assert_eq!(st, 200, "{e}");
    }
    let chunked = t.elapsed().as_secs_f64();
    assert_ne!(digest, digest2);
    let mbps = |s: f64| mib as f64 / s;
    println!("256 MiB image       seconds   MiB/s");
    println!("cp                  {cp:7.3}  {:7.1}", mbps(cp));
    println!("sha256sum           {sum:7.3}  {:7.1}", mbps(sum));
    println!(
        "upload (multipart)  {multipart:7.3}  {:7.1}",
        mbps(multipart)
    );
    println!("upload (4 MiB PUTs) {chunked:7.3}  {:7.1}", mbps(chunked));
    println!(
        "RESULT multipart_mib_s={:.1} chunked_mib_s={:.1} cp_mib_s={:.1} sha256sum_mib_s={:.1} ratio_multipart_vs_sha256sum={:.2} ratio_chunked_vs_sha256sum={:.2}",
        mbps(multipart),
        mbps(chunked),
        mbps(cp),
        mbps(sum),
        sum / multipart,
        sum / chunked
    );
}
