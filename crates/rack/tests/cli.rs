//! `maas-rack serve` refuses bad start-up input with clear errors.

use std::process::Command;

fn rack(args: &[&str], dir: &std::path::Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_maas-rack"))
        .arg("serve")
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .args(["--http-listen", "127.0.0.1:0"])
        .env_remove("MAAS_SECRET")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn start_up_errors_are_clear() {
    let tmp = maas_testkit::tempdir::Dir::new();
    let dir = tmp.0.join("rack");
    let (ok, err) = rack(&["--region", "https://127.0.0.1:9"], &dir);
    assert!(!ok);
    assert!(
        err.contains("not enrolled yet") && err.contains("--secret"),
        "{err}"
    );
    let (ok, err) = rack(
        &["--region", "http://127.0.0.1:5250", "--secret", "x"],
        &dir,
    );
    assert!(!ok);
    assert!(err.contains("https://"), "{err}");
    let (ok, err) = rack(
        &["--region", "https://host:notaport", "--secret", "x"],
        &dir,
    );
    assert!(!ok);
    assert!(err.contains("bad port"), "{err}");
    let (ok, err) = rack(
        &[
            "--region",
            "https://127.0.0.1:9",
            "--secret",
            "x",
            "--services",
            "dhcp,gopher",
        ],
        &dir,
    );
    assert!(!ok);
    assert!(err.contains("unknown service 'gopher'"), "{err}");
    assert!(!dir.join("rack.crt").exists(), "nothing enrolled");
}
