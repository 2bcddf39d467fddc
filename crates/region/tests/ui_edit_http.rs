//! The machine page's interface and storage edits over plain HTTP: each form
//! changes what the API shows; a refusal shows the service's message beside
//! the field (400) and changes nothing; users and forms without the CSRF
//! token are refused; destructive edits ask first. The browser flow is in
//! `tests/ui/edit.mjs`.

use maas_testkit as common;

use common::TestRegion;
use common::ui::get;
use serde_json::Value;

const GB: i64 = 1_000_000_000;

/// Sign in: the cookie header value and the CSRF token.
async fn sign_in(r: &TestRegion, user: &str) -> (String, String) {
    let s = common::ui::sign_in(r, user, "/machines").await;
    (s.cookie, s.csrf)
}

/// POST a form with the session's token: status, Location, body.
async fn post(
    r: &TestRegion,
    s: &(String, String),
    path: &str,
    form: &[(&str, &str)],
) -> (u16, String, String) {
    let mut f: Vec<(&str, &str)> = vec![("csrf", &s.1)];
    f.extend_from_slice(form);
    common::ui::post(r, &s.0, path, &f, None).await
}

/// POST owned pairs (repeated keys kept).
async fn send(
    r: &TestRegion,
    s: &(String, String),
    path: String,
    f: Vec<(&'static str, String)>,
) -> (u16, String, String) {
    let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    post(r, s, &path, &f).await
}

fn field_error(page: &str, id: &str) -> String {
    common::ui::field_error(page, id).unwrap_or_default()
}

async fn ifaces(r: &TestRegion, m: &str) -> Vec<Value> {
    let (st, v) = r.admin.get(&format!("nodes/{m}/interfaces/"), &[]).await;
    assert_eq!(st, 200, "{v}");
    v.as_array().unwrap().clone()
}

fn named<'a>(list: &'a [Value], name: &str) -> Option<&'a Value> {
    list.iter().find(|i| i["name"] == name)
}

async fn disks(r: &TestRegion, m: &str) -> Vec<Value> {
    let (st, v) = r.admin.get(&format!("nodes/{m}/blockdevices/"), &[]).await;
    assert_eq!(st, 200, "{v}");
    v.as_array().unwrap().clone()
}

async fn disk(r: &TestRegion, m: &str, name: &str, size: i64) -> i64 {
    let (st, d) = r
        .admin
        .post(
            &format!("nodes/{m}/blockdevices/"),
            &[("name", name), ("size", &size.to_string())],
        )
        .await;
    assert_eq!(st, 200, "{d}");
    d["id"].as_i64().unwrap()
}

#[tokio::test]
async fn interfaces_are_edited_from_the_machine_page() {
    let r = TestRegion::start().await;
    let (st, sn) = r
        .admin
        .post(
            "subnets/",
            &[("cidr", "10.40.0.0/24"), ("gateway_ip", "10.40.0.1")],
        )
        .await;
    assert_eq!(st, 200, "{sn}");
    let (subnet, vlan) = (sn["id"].to_string(), sn["vlan"]["id"].to_string());
    let fabric = sn["vlan"]["fabric_id"].to_string();
    let m = r.ready_machine("edit-net", 2, 2048).await;
    let eth0 = ifaces(&r, &m).await[0]["id"].to_string();
    let (st, v) = r
        .admin
        .put(
            &format!("nodes/{m}/interfaces/{eth0}/"),
            &[("name", "eth0"), ("vlan", &vlan)],
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let admin = sign_in(&r, "admin").await;
    let alice = sign_in(&r, "alice").await;
    let path = format!("/machine/{m}");
    let (st, page) = get(&r, &admin.0, &path).await;
    assert_eq!(st, 200);
    assert!(page.contains("id=\"link-form\"") && page.contains("id=\"bond-form\""));
    // Users see the interfaces, not the forms.
    let (st, page) = get(&r, &alice.0, &path).await;
    assert_eq!(st, 200);
    assert!(
        page.contains("eth0") && !page.contains("link-form"),
        "{page}"
    );

    let link = |ip: &'static str| {
        vec![
            ("iface", eth0.clone()),
            ("subnet", subnet.clone()),
            ("mode", "static".to_string()),
            ("ip_address", ip.to_string()),
        ]
    };
    let links_of = |list: &[Value]| named(list, "eth0").unwrap()["links"].clone();
    let before = links_of(&ifaces(&r, &m).await);

    // No token, a user, an address outside the subnet: refused, nothing changed.
    let (st, _, _) = common::ui::post(
        &r,
        &admin.0,
        &format!("{path}/link"),
        &[("iface", &eth0), ("subnet", &subnet), ("mode", "auto")],
        None,
    )
    .await;
    assert_eq!(st, 403);
    let (st, _, _) = send(&r, &alice, format!("{path}/link"), link("10.40.0.20")).await;
    assert_eq!(st, 403);
    let (st, _, page) = send(&r, &admin, format!("{path}/link"), link("10.41.0.5")).await;
    assert_eq!(st, 400, "{page}");
    assert!(
        field_error(&page, "ip_address").contains("not in the given subnet"),
        "{page}"
    );
    assert!(page.contains("value=\"10.41.0.5\""), "the typed IP is kept");
    assert_eq!(links_of(&ifaces(&r, &m).await), before);

    // A static address: the API shows it, the page lists it.
    let (st, to, page) = send(&r, &admin, format!("{path}/link"), link("10.40.0.20")).await;
    assert_eq!(
        (st, to.as_str()),
        (303, &*format!("/MAAS/r{path}#interfaces")),
        "{page}"
    );
    let l = links_of(&ifaces(&r, &m).await);
    let l = l.as_array().unwrap();
    assert_eq!(l.len(), 1, "{l:?}");
    assert_eq!(
        (&l[0]["mode"], &l[0]["ip_address"]),
        (&"static".into(), &"10.40.0.20".into())
    );
    let link_id = l[0]["id"].to_string();
    assert!(get(&r, &admin.0, &path).await.1.contains("10.40.0.20"));

    // The same address on another machine: in use, beside the field.
    let other = r.ready_machine("edit-net2", 2, 2048).await;
    let o0 = ifaces(&r, &other).await[0]["id"].to_string();
    let f = vec![
        ("iface", o0),
        ("subnet", subnet.clone()),
        ("mode", "static".to_string()),
        ("ip_address", "10.40.0.20".to_string()),
    ];
    let (st, _, page) = send(&r, &admin, format!("/machine/{other}/link"), f).await;
    assert_eq!(st, 400, "{page}");
    assert!(
        field_error(&page, "ip_address").contains("already in use"),
        "{page}"
    );

    // Unlink asks first; confirmed, the link goes.
    let f = vec![("iface", eth0.clone()), ("link", link_id.clone())];
    let (st, _, page) = send(&r, &admin, format!("{path}/unlink"), f.clone()).await;
    assert_eq!(st, 200);
    assert!(
        page.contains("Unlink subnet") && page.contains("10.40.0.20"),
        "{page}"
    );
    assert_eq!(links_of(&ifaces(&r, &m).await).as_array().unwrap().len(), 1);
    let mut fc = f.clone();
    fc.push(("confirmed", "1".into()));
    let (st, _, _) = send(&r, &alice, format!("{path}/unlink"), fc.clone()).await;
    assert_eq!(st, 403);
    let (st, _, _) = send(&r, &admin, format!("{path}/unlink"), fc).await;
    assert_eq!(st, 303);
    let l = links_of(&ifaces(&r, &m).await);
    assert!(
        l.as_array().unwrap().iter().all(|x| x["mode"] != "static"),
        "{l}"
    );

    // A VLAN interface on eth0.
    let (st, tagged) = r
        .admin
        .post(&format!("fabrics/{fabric}/vlans/"), &[("vid", "30")])
        .await;
    assert_eq!(st, 200, "{tagged}");
    let f = vec![("parent", eth0.clone()), ("vlan", tagged["id"].to_string())];
    let (st, _, page) = send(&r, &admin, format!("{path}/vlan"), f).await;
    assert_eq!(st, 303, "{page}");
    let list = ifaces(&r, &m).await;
    let v = named(&list, "eth0.30").expect("the VLAN interface");
    assert_eq!(v["type"], "vlan");

    // A bond of two new interfaces; a bad mode is explained beside it.
    let mut kids = Vec::new();
    for n in ["eth1", "eth2"] {
        let mac = common::random_mac();
        let (st, i) = r
            .admin
            .op(
                &format!("nodes/{m}/interfaces/"),
                "create_physical",
                &[("name", n), ("mac_address", &mac), ("vlan", &vlan)],
            )
            .await;
        assert_eq!(st, 200, "{i}");
        kids.push(i["id"].to_string());
    }
    let bond = |mode: &str| {
        vec![
            ("name", "bond0".to_string()),
            ("parents", kids[0].clone()),
            ("parents", kids[1].clone()),
            ("bond_mode", mode.to_string()),
        ]
    };
    let (st, _, page) = send(&r, &admin, format!("{path}/bond"), bond("fastest")).await;
    assert_eq!(st, 400);
    assert!(
        field_error(&page, "bond_mode").contains("not a valid bond_mode"),
        "{page}"
    );
    assert!(named(&ifaces(&r, &m).await, "bond0").is_none());
    let (st, _, page) = send(&r, &admin, format!("{path}/bond"), bond("active-backup")).await;
    assert_eq!(st, 303, "{page}");
    let list = ifaces(&r, &m).await;
    let b = named(&list, "bond0").expect("the bond");
    assert_eq!(b["params"]["bond_mode"], "active-backup");
    assert_eq!(b["parents"].as_array().unwrap().len(), 2);
    let bond_id = b["id"].to_string();

    // Delete asks first, then the bond goes.
    let del = format!("{path}/interface/{bond_id}/delete");
    let (st, _, page) = send(&r, &admin, del.clone(), vec![]).await;
    assert_eq!(st, 200);
    assert!(page.contains("Delete interface bond0"), "{page}");
    assert!(named(&ifaces(&r, &m).await, "bond0").is_some());
    let (st, _, _) = send(&r, &admin, del, vec![("confirmed", "1".into())]).await;
    assert_eq!(st, 303);
    assert!(named(&ifaces(&r, &m).await, "bond0").is_none());

    // A deployed machine's interfaces are left alone: the service says why.
    r.force_status(&m, 6).await;
    let before = ifaces(&r, &m).await;
    let (st, _, page) = send(&r, &admin, format!("{path}/link"), link("10.40.0.21")).await;
    assert_eq!(st, 400);
    assert!(
        common::ui::unescape(&page).contains("because the machine is not New, Ready"),
        "{page}"
    );
    assert_eq!(ifaces(&r, &m).await, before);
}

#[tokio::test]
async fn storage_is_edited_from_the_machine_page() {
    let r = TestRegion::start().await;
    let m = r.ready_machine("edit-disks", 2, 2048).await;
    let sda = disk(&r, &m, "sda", 100 * GB).await.to_string();
    let sdb = disk(&r, &m, "sdb", 10 * GB).await.to_string();
    let admin = sign_in(&r, "admin").await;
    let alice = sign_in(&r, "alice").await;
    let path = format!("/machine/{m}");
    let parts_of = |d: &[Value], id: &str| -> Vec<Value> {
        d.iter()
            .find(|x| x["id"].as_i64().map(|n| n.to_string()).as_deref() == Some(id))
            .unwrap()["partitions"]
            .as_array()
            .unwrap()
            .clone()
    };

    // Refusals: no token, a user, bad sizes; nothing is written.
    let (st, _, _) = common::ui::post(
        &r,
        &admin.0,
        &format!("{path}/partitions"),
        &[("disk", &sda), ("size", "10G")],
        None,
    )
    .await;
    assert_eq!(st, 403);
    let (st, _, _) = post(
        &r,
        &alice,
        &format!("{path}/partitions"),
        &[("disk", &sda), ("size", "10G")],
    )
    .await;
    assert_eq!(st, 403);
    for (size, msg) in [
        ("ten", "Enter a valid value."),
        ("200G", "less than or equal to"),
        ("1000", "greater than or equal to"),
    ] {
        let (st, _, page) = post(
            &r,
            &admin,
            &format!("{path}/partitions"),
            &[("disk", &sda), ("size", size)],
        )
        .await;
        assert_eq!(st, 400, "{size}");
        assert!(field_error(&page, "size").contains(msg), "{size}: {page}");
        assert!(page.contains(&format!("value=\"{size}\"")), "kept: {size}");
    }
    assert!(parts_of(&disks(&r, &m).await, &sda).is_empty());

    // A 10G partition, listed by the API and on the page.
    let (st, to, page) = post(
        &r,
        &admin,
        &format!("{path}/partitions"),
        &[("disk", &sda), ("size", "10G")],
    )
    .await;
    assert_eq!((st, to), (303, format!("/MAAS/r{path}#storage")), "{page}");
    let ps = parts_of(&disks(&r, &m).await, &sda);
    assert_eq!(ps.len(), 1);
    assert!(ps[0]["size"].as_i64().unwrap() > 9 * GB);
    let part = ps[0]["id"].to_string();
    let pname = ps[0]["path"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let (_, page) = get(&r, &admin.0, &path).await;
    assert!(page.contains(&format!("id=\"part-{part}\"")) && page.contains(&pname));

    // Format and mount it; a bad mount point is explained beside the field.
    let target = format!("{sda}/{part}");
    let (st, _, page) = post(
        &r,
        &admin,
        &format!("{path}/format"),
        &[("target", &target), ("fstype", "ext4")],
    )
    .await;
    assert_eq!(st, 303, "{page}");
    let (st, _, page) = post(
        &r,
        &admin,
        &format!("{path}/mount"),
        &[("target", &target), ("mount_point", "srv")],
    )
    .await;
    assert_eq!(st, 400);
    assert_eq!(field_error(&page, "mount_point"), "Enter a valid value.");
    let (st, _, _) = post(
        &r,
        &admin,
        &format!("{path}/mount"),
        &[("target", &target), ("mount_point", "/srv")],
    )
    .await;
    assert_eq!(st, 303);
    let fs = parts_of(&disks(&r, &m).await, &sda)[0]["filesystem"].clone();
    assert_eq!(
        (&fs["fstype"], &fs["mount_point"]),
        (&"ext4".into(), &"/srv".into())
    );
    assert!(get(&r, &admin.0, &path).await.1.contains("/srv"));

    // A disk with a partition table cannot be formatted: beside the target.
    let (st, _, page) = post(
        &r,
        &admin,
        &format!("{path}/format"),
        &[("target", &sda), ("fstype", "xfs")],
    )
    .await;
    assert_eq!(st, 400);
    assert!(
        field_error(&page, "format_target").contains("partition table"),
        "{page}"
    );

    // Unmount, then unformat (asks first).
    let (st, _, _) = post(
        &r,
        &admin,
        &format!("{path}/unmount"),
        &[("target", &target)],
    )
    .await;
    assert_eq!(st, 303);
    let fs = parts_of(&disks(&r, &m).await, &sda)[0]["filesystem"].clone();
    assert!(fs["mount_point"].is_null(), "{fs}");
    let (st, _, page) = post(
        &r,
        &admin,
        &format!("{path}/unformat"),
        &[("target", &target)],
    )
    .await;
    assert_eq!(st, 200);
    assert!(page.contains(&format!("Unformat {pname}")), "{page}");
    assert!(parts_of(&disks(&r, &m).await, &sda)[0]["filesystem"].is_object());
    let (st, _, _) = post(
        &r,
        &admin,
        &format!("{path}/unformat"),
        &[("target", &target), ("confirmed", "1")],
    )
    .await;
    assert_eq!(st, 303);
    assert!(parts_of(&disks(&r, &m).await, &sda)[0]["filesystem"].is_null());

    // A whole disk formatted and mounted; then the boot disk moves to it.
    for (op, f) in [
        ("format", ("fstype", "xfs")),
        ("mount", ("mount_point", "/data")),
    ] {
        let (st, _, page) = post(&r, &admin, &format!("{path}/{op}"), &[("target", &sdb), f]).await;
        assert_eq!(st, 303, "{op}: {page}");
    }
    let d = disks(&r, &m).await;
    let b = d.iter().find(|x| x["name"] == "sdb").unwrap();
    assert_eq!(b["filesystem"]["mount_point"], "/data");
    let (st, _, _) = post(&r, &alice, &format!("{path}/boot-disk"), &[("disk", &sdb)]).await;
    assert_eq!(st, 403);
    let (st, _, _) = post(&r, &admin, &format!("{path}/boot-disk"), &[("disk", &sdb)]).await;
    assert_eq!(st, 303);
    let (_, mj) = r.admin.get(&format!("machines/{m}/"), &[]).await;
    assert_eq!(mj["boot_disk"]["name"], "sdb");

    // Deleting the partition asks first.
    let (st, _, page) = post(
        &r,
        &admin,
        &format!("{path}/partition/delete"),
        &[("disk", &sda), ("partition", &part)],
    )
    .await;
    assert_eq!(st, 200);
    assert!(
        page.contains(&format!("Delete partition {pname}")),
        "{page}"
    );
    let f = [
        ("disk", sda.as_str()),
        ("partition", part.as_str()),
        ("confirmed", "1"),
    ];
    let (st, _, _) = post(&r, &admin, &format!("{path}/partition/delete"), &f).await;
    assert_eq!(st, 303);
    assert!(parts_of(&disks(&r, &m).await, &sda).is_empty());

    // The flat layout, after its confirm step, on the boot disk (sdb).
    let (st, _, page) = post(
        &r,
        &admin,
        &format!("{path}/layout"),
        &[("storage_layout", "flat")],
    )
    .await;
    assert_eq!(st, 200);
    assert!(page.contains("Apply storage layout"), "{page}");
    assert_eq!(mj["boot_disk"]["filesystem"]["fstype"], "xfs");
    let f = [("storage_layout", "flat"), ("confirmed", "1")];
    let (st, _, page) = post(&r, &admin, &format!("{path}/layout"), &f).await;
    assert_eq!(st, 303, "{page}");
    let (_, mj) = r.admin.get(&format!("machines/{m}/"), &[]).await;
    let root = &mj["boot_disk"]["partitions"];
    assert!(
        root.as_array()
            .unwrap()
            .iter()
            .any(|p| p["filesystem"]["mount_point"] == "/"),
        "{mj}"
    );
    // An unsupported layout: the service's refusal above the form.
    let f = [("storage_layout", "lvm"), ("confirmed", "1")];
    let (st, _, page) = post(&r, &admin, &format!("{path}/layout"), &f).await;
    assert_eq!(st, 400);
    assert!(page.contains("not supported by this region"), "{page}");

    // Not Ready: no new partitions, the service's reason shown.
    r.force_status(&m, 6).await;
    let (st, _, page) = post(
        &r,
        &admin,
        &format!("{path}/partitions"),
        &[("disk", &sda), ("size", "10G")],
    )
    .await;
    assert_eq!(st, 400);
    assert!(page.contains("because the node is not Ready"), "{page}");
    assert!(parts_of(&disks(&r, &m).await, &sda).is_empty());
}
