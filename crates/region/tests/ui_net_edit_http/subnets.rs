//! Subnets (create, edit, delete) and address reservations (reserve,
//! release).

use crate::common::TestRegion;
use crate::*;

#[tokio::test]
async fn subnets_are_created_edited_and_deleted() {
    let r = TestRegion::start().await;
    let admin = sign_in(&r, "admin").await;
    let alice = sign_in(&r, "alice").await;
    let (_, f) = r.admin.post("fabrics/", &[("name", "fs")]).await;
    let vlan = f["vlans"][0]["id"].as_i64().unwrap().to_string();
    let (_, page) = get(&r, &admin, "/subnets").await;
    assert!(page.contains("id=\"add-subnet\""));
    assert!(
        page.contains(&format!("<option value=\"{vlan}\">fs / untagged</option>")),
        "{page}"
    );

    let good = [
        ("cidr", "10.50.0.0/24"),
        ("name", "lab"),
        ("vlan", vlan.as_str()),
        ("gateway_ip", "10.50.0.1"),
        ("dns_servers", "10.50.0.2, 10.50.0.3"),
        ("managed", "1"),
        ("allow_proxy", "1"),
    ];
    assert_eq!(post(&r, &alice, "/subnets/add", &good).await.0, 403);
    assert_eq!(post_no_csrf(&r, &admin, "/subnets/add", &good).await, 403);

    // Bad values: the API's messages beside the fields; nothing written.
    let bad = [
        ("cidr", "10.50.0.0/33"),
        ("gateway_ip", "10.50.0.x"),
        ("dns_servers", "1.2.3.4 nope"),
    ];
    let (_, e) = r.admin.post("subnets/", &bad).await;
    let (st, _, page) = post(&r, &admin, "/subnets/add", &bad).await;
    assert_eq!(st, 400);
    for (key, id) in [
        ("cidr", "subnet-cidr"),
        ("gateway_ip", "subnet-gateway_ip"),
        ("dns_servers", "subnet-dns_servers"),
    ] {
        assert_eq!(field_error(&page, id), api_msg(&e, key), "{key}");
    }
    assert!(page.contains("value=\"10.50.0.0/33\""));
    // A gateway outside: the service's message.
    let outside = [("cidr", "10.50.0.0/24"), ("gateway_ip", "10.51.0.1")];
    let (_, e) = r.admin.post("subnets/", &outside).await;
    let (st, _, page) = post(&r, &admin, "/subnets/add", &outside).await;
    assert_eq!(st, 400);
    assert_eq!(
        field_error(&page, "subnet-gateway_ip"),
        api_msg(&e, "gateway_ip")
    );
    assert_eq!(api(&r, "subnets/").await.as_array().unwrap().len(), 0);

    // Created on the chosen VLAN, as the API shows it.
    let (st, loc, _) = post(&r, &admin, "/subnets/add", &good).await;
    assert_eq!(st, 303, "{loc}");
    let sid = id_of(&loc);
    let s = api(&r, &format!("subnets/{sid}/")).await;
    assert_eq!(s["name"], "lab");
    assert_eq!(s["vlan"]["id"].to_string(), vlan);
    assert_eq!(s["gateway_ip"], "10.50.0.1");
    assert_eq!(
        s["dns_servers"],
        serde_json::json!(["10.50.0.2", "10.50.0.3"])
    );
    assert_eq!(
        (s["managed"].as_bool(), s["allow_dns"].as_bool()),
        (Some(true), Some(false))
    );
    assert_eq!(s["allow_proxy"], true);
    // The CIDR again: the service's message.
    let (_, e) = r.admin.post("subnets/", &[("cidr", "10.50.0.0/24")]).await;
    let (st, _, page) = post(&r, &admin, "/subnets/add", &good).await;
    assert_eq!(st, 400);
    assert_eq!(field_error(&page, "subnet-cidr"), api_msg(&e, "cidr"));

    // Edit on the subnet page (admins only).
    let path = format!("/subnet/{sid}");
    let (_, page) = get(&r, &alice, &path).await;
    assert!(!page.contains("id=\"edit-subnet\""));
    let (_, page) = get(&r, &admin, &path).await;
    assert!(page.contains("id=\"edit-subnet\""));
    assert!(page.contains("value=\"10.50.0.2, 10.50.0.3\""), "{page}");
    let edit = format!("{path}/edit");
    let changed = [
        ("cidr", "10.50.0.0/24"),
        ("name", "lab2"),
        ("vlan", vlan.as_str()),
        ("gateway_ip", "10.50.0.254"),
        ("dns_servers", ""),
        ("allow_dns", "1"),
    ];
    assert_eq!(post(&r, &alice, &edit, &changed).await.0, 403);
    assert_eq!(post_no_csrf(&r, &admin, &edit, &changed).await, 403);
    let (st, _, page) = post(&r, &admin, &edit, &[("gateway_ip", "10.9.9.9")]).await;
    assert_eq!(st, 400);
    assert_eq!(
        field_error(&page, "subnet-gateway_ip"),
        "Gateway IP must be within CIDR range."
    );
    assert!(page.contains("value=\"10.9.9.9\""));
    assert_eq!(
        api(&r, &format!("subnets/{sid}/")).await["gateway_ip"],
        "10.50.0.1"
    );
    let (st, loc, _) = post(&r, &admin, &edit, &changed).await;
    assert_eq!((st, loc), (303, format!("/MAAS/r{path}")));
    let s = api(&r, &format!("subnets/{sid}/")).await;
    assert_eq!(
        (s["name"].as_str(), s["gateway_ip"].as_str()),
        (Some("lab2"), Some("10.50.0.254"))
    );
    assert_eq!(s["dns_servers"], serde_json::json!([]));
    assert_eq!(
        (s["managed"].as_bool(), s["allow_dns"].as_bool()),
        (Some(false), Some(true))
    );

    // Delete: confirm, then gone.
    let del = format!("{path}/delete");
    assert_eq!(post(&r, &alice, &del, &[("confirmed", "1")]).await.0, 403);
    assert_eq!(
        post_no_csrf(&r, &admin, &del, &[("confirmed", "1")]).await,
        403
    );
    let (st, _, page) = post(&r, &admin, &del, &[]).await;
    assert_eq!(st, 200);
    assert!(page.contains("name=\"confirmed\""));
    assert_eq!(r.admin.get(&format!("subnets/{sid}/"), &[]).await.0, 200);
    let (st, loc, _) = post(&r, &admin, &del, &[("confirmed", "1")]).await;
    assert_eq!((st, loc.as_str()), (303, "/MAAS/r/subnets"));
    assert_eq!(r.admin.get(&format!("subnets/{sid}/"), &[]).await.0, 404);
}

#[tokio::test]
async fn addresses_are_reserved_and_released() {
    let r = TestRegion::start().await;
    let admin = sign_in(&r, "admin").await;
    let alice = sign_in(&r, "alice").await;
    let (_, s) = r.admin.post("subnets/", &[("cidr", "10.60.0.0/24")]).await;
    let sid = s["id"].as_i64().unwrap();
    let reserve = format!("/subnet/{sid}/reserve");
    let mine = |who: &'static str| {
        let r = &r;
        async move {
            let api = if who == "admin" { &r.admin } else { &r.alice };
            let (st, v) = api.get("ipaddresses/", &[]).await;
            assert_eq!(st, 200);
            v.as_array()
                .unwrap()
                .iter()
                .map(|x| x["ip"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };

    // The form is there for users too (the API lets them reserve).
    let (_, page) = get(&r, &alice, &format!("/subnet/{sid}")).await;
    assert!(page.contains("id=\"reserve\""));
    assert_eq!(
        post_no_csrf(&r, &alice, &reserve, &[("ip", "10.60.0.5")]).await,
        403
    );

    // Refusals beside the IP field, with the service's words.
    let (st, _, page) = post(&r, &alice, &reserve, &[("ip", "10.60.0.x")]).await;
    assert_eq!(st, 400);
    assert_eq!(
        field_error(&page, "reserve-ip"),
        "Enter a valid IPv4 or IPv6 address."
    );
    let (_, e) = r
        .alice
        .op(
            "ipaddresses/",
            "reserve",
            &[("ip", "10.61.0.5"), ("subnet", &sid.to_string())],
        )
        .await;
    let (st, _, page) = post(&r, &alice, &reserve, &[("ip", "10.61.0.5")]).await;
    assert_eq!(st, 400);
    assert!(
        e.as_str()
            .unwrap_or_default()
            .contains("not within subnet CIDR"),
        "{e}"
    );
    assert_eq!(field_error(&page, "reserve-ip"), e.as_str().unwrap());
    assert!(page.contains("value=\"10.61.0.5\""));
    let (st, _, page) = post(&r, &alice, &reserve, &[("mac", "zz")]).await;
    assert_eq!(st, 400);
    assert_eq!(
        field_error(&page, "reserve-mac"),
        "'zz' is not a valid MAC address."
    );
    assert!(mine("alice").await.is_empty());

    // Reserved: listed by the API and on the page, with a release button.
    let (st, loc, _) = post(
        &r,
        &alice,
        &reserve,
        &[("ip", "10.60.0.5"), ("hostname", "printer")],
    )
    .await;
    assert_eq!((st, loc), (303, format!("/MAAS/r/subnet/{sid}#used")));
    assert_eq!(mine("alice").await, vec!["10.60.0.5"]);
    let (_, page) = get(&r, &alice, &format!("/subnet/{sid}")).await;
    assert!(page.contains("aria-label=\"Release 10.60.0.5\""), "{page}");
    // Taken now: the allocator's message beside the field.
    let (st, _, page) = post(&r, &admin, &reserve, &[("ip", "10.60.0.5")]).await;
    assert_eq!(st, 400);
    assert!(
        field_error(&page, "reserve-ip").contains("10.60.0.5"),
        "{page}"
    );
    // No address: the next free one.
    let (st, _, _) = post(&r, &admin, &reserve, &[("hostname", "any")]).await;
    assert_eq!(st, 303);
    let theirs = mine("admin").await;
    assert_eq!(theirs.len(), 1);

    // Release: a user may not release another's (no button, the service's
    // refusal); the confirm step first; then free.
    let release = format!("/subnet/{sid}/release");
    let (_, page) = get(&r, &alice, &format!("/subnet/{sid}")).await;
    assert!(!page.contains(&format!("aria-label=\"Release {}\"", theirs[0])));
    let (st, _, _) = post(
        &r,
        &alice,
        &release,
        &[("ip", &theirs[0]), ("confirmed", "1")],
    )
    .await;
    assert_eq!(st, 400);
    assert_eq!(mine("admin").await.len(), 1);
    assert_eq!(
        post_no_csrf(
            &r,
            &alice,
            &release,
            &[("ip", "10.60.0.5"), ("confirmed", "1")]
        )
        .await,
        403
    );
    let (st, _, page) = post(&r, &alice, &release, &[("ip", "10.60.0.5")]).await;
    assert_eq!(st, 200);
    assert!(page.contains("name=\"confirmed\""));
    assert_eq!(mine("alice").await.len(), 1);
    let (st, _, _) = post(
        &r,
        &alice,
        &release,
        &[("ip", "10.60.0.5"), ("confirmed", "1")],
    )
    .await;
    assert_eq!(st, 303);
    assert!(mine("alice").await.is_empty());
    // An admin releases anyone's (the API's force).
    let (st, _, _) = post(
        &r,
        &admin,
        &release,
        &[("ip", &theirs[0]), ("confirmed", "1")],
    )
    .await;
    assert_eq!(st, 303);
    assert!(mine("admin").await.is_empty());
}
