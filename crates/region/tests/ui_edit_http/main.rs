//! The machine page's interface and storage edits over plain HTTP: each form
//! changes what the API shows; a refusal shows the service's message beside
//! the field (400) and changes nothing; users and forms without the CSRF
//! token are refused; destructive edits ask first. The browser flow is in
//! `tests/ui/edit.mjs`.

use maas_testkit as common;

use common::TestRegion;
use common::ui::get;
use serde_json::Value;

mod disks;
mod iface;
mod iface_more;
mod params;
mod special;
mod storage;

pub(crate) const GB: i64 = 1_000_000_000;

/// Sign in: the cookie header value and the CSRF token.
pub(crate) async fn sign_in(r: &TestRegion, user: &str) -> (String, String) {
    let s = common::ui::sign_in(r, user, "/machines").await;
    (s.cookie, s.csrf)
}

/// POST a form with the session's token: status, Location, body.
pub(crate) async fn post(
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

pub(crate) fn field_error(page: &str, id: &str) -> String {
    common::ui::field_error(page, id).unwrap_or_default()
}

pub(crate) async fn ifaces(r: &TestRegion, m: &str) -> Vec<Value> {
    let (st, v) = r.admin.get(&format!("nodes/{m}/interfaces/"), &[]).await;
    assert_eq!(st, 200, "{v}");
    v.as_array().unwrap().clone()
}

pub(crate) fn named<'a>(list: &'a [Value], name: &str) -> Option<&'a Value> {
    list.iter().find(|i| i["name"] == name)
}

pub(crate) async fn disks(r: &TestRegion, m: &str) -> Vec<Value> {
    let (st, v) = r.admin.get(&format!("nodes/{m}/blockdevices/"), &[]).await;
    assert_eq!(st, 200, "{v}");
    v.as_array().unwrap().clone()
}

pub(crate) async fn disk(r: &TestRegion, m: &str, name: &str, size: i64) -> i64 {
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
