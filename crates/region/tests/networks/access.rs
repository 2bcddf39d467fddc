//! Who may read and write, and describe.

use super::*;

#[tokio::test]
async fn users_read_but_only_admins_write() {
    let r = TestRegion::start().await;
    rack(&r, "rack-x").await;
    let s = subnet(&r, &[("cidr", "10.12.0.0/24")]).await;
    let sid = id(&s).to_string();
    let fid = s["vlan"]["fabric_id"].to_string();
    let vid = s["vlan"]["id"].to_string();
    let (_, rng) = r
        .admin
        .post(
            "ipranges/",
            &[
                ("type", "reserved"),
                ("start_ip", "10.12.0.10"),
                ("end_ip", "10.12.0.20"),
            ],
        )
        .await;
    let (_, rip) = r
        .admin
        .post(
            "reservedips/",
            &[("ip", "10.12.0.30"), ("mac_address", "52:54:00:00:00:30")],
        )
        .await;
    let (_, sp) = r.admin.post("spaces/", &[("name", "sp")]).await;
    let rng = format!("ipranges/{}/", id(&rng));
    let rip = format!("reservedips/{}/", id(&rip));
    let spu = format!("spaces/{}/", id(&sp));
    let reads = [
        "fabrics/".to_string(),
        format!("fabrics/{fid}/"),
        format!("fabrics/{fid}/vlans/"),
        format!("fabrics/{fid}/vlans/0/"),
        "vlans/".to_string(),
        format!("vlans/{vid}/"),
        "subnets/".to_string(),
        format!("subnets/{sid}/"),
        "ipranges/".to_string(),
        rng.clone(),
        "reservedips/".to_string(),
        rip.clone(),
        "spaces/".to_string(),
        spu.clone(),
    ];
    for p in &reads {
        let (st, body) = r.alice.get(p, &[]).await;
        assert_eq!(st, 200, "{p}: {body}");
        assert_eq!(r.anon.get(p, &[]).await.0, 401, "{p}");
    }
    for op in ["reserved_ip_ranges", "unreserved_ip_ranges", "statistics"] {
        assert_eq!(
            r.alice.get_op(&format!("subnets/{sid}/"), op, &[]).await.0,
            200,
            "{op}"
        );
    }

    let before = counts(&r).await;
    let snapshot = |r: &TestRegion| {
        let db = r.db().clone();
        async move {
            sqlx::query_scalar::<_, String>(
                "SELECT (SELECT string_agg(f::text, ';' ORDER BY id) FROM fabrics f) || '|' ||
                        (SELECT string_agg(v::text, ';' ORDER BY id) FROM vlans v) || '|' ||
                        (SELECT string_agg(s::text, ';' ORDER BY id) FROM subnets s) || '|' ||
                        (SELECT string_agg(i::text, ';' ORDER BY id) FROM ipranges i) || '|' ||
                        (SELECT string_agg(x::text, ';' ORDER BY id) FROM reserved_ips x) || '|' ||
                        (SELECT string_agg(p::text, ';' ORDER BY id) FROM spaces p)",
            )
            .fetch_one(&db)
            .await
            .unwrap()
        }
    };
    let state = snapshot(&r).await;
    let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
        ("fabrics/".into(), vec![("name", "mine")]),
        (format!("fabrics/{fid}/vlans/"), vec![("vid", "7")]),
        ("subnets/".into(), vec![("cidr", "10.13.0.0/24")]),
        (
            "ipranges/".into(),
            vec![
                ("type", "dynamic"),
                ("start_ip", "10.12.0.100"),
                ("end_ip", "10.12.0.110"),
            ],
        ),
        (
            "reservedips/".into(),
            vec![("ip", "10.12.0.31"), ("mac_address", "52:54:00:00:00:31")],
        ),
        ("spaces/".into(), vec![("name", "mine")]),
    ];
    for (p, form) in &posts {
        let (st, body) = r.alice.post(p, form).await;
        assert_eq!(st, 403, "POST {p}: {body}");
        assert_eq!(r.anon.post(p, form).await.0, 401, "POST {p}");
    }
    let puts: Vec<(String, Vec<(&str, &str)>)> = vec![
        (format!("fabrics/{fid}/"), vec![("name", "mine")]),
        (
            format!("fabrics/{fid}/vlans/0/"),
            vec![("primary_rack", "rack-x")],
        ),
        (format!("vlans/{vid}/"), vec![("mtu", "9000")]),
        (format!("subnets/{sid}/"), vec![("name", "mine")]),
        (rng.clone(), vec![("comment", "mine")]),
        (rip.clone(), vec![("comment", "mine")]),
        (spu.clone(), vec![("name", "mine")]),
    ];
    for (p, form) in &puts {
        let (st, body) = r.alice.put(p, form).await;
        assert_eq!(st, 403, "PUT {p}: {body}");
    }
    for p in [
        rng.as_str(),
        rip.as_str(),
        spu.as_str(),
        &format!("subnets/{sid}/"),
        &format!("fabrics/{fid}/"),
    ] {
        let (st, body) = r.alice.delete(p).await;
        assert_eq!(st, 403, "DELETE {p}: {body}");
    }
    assert_eq!(counts(&r).await, before);
    assert_eq!(snapshot(&r).await, state, "nothing changed");
    // Unsupported verbs.
    assert_eq!(r.admin.post("vlans/", &[]).await.0, 405);
    assert_eq!(r.admin.delete("subnets/").await.0, 405);
}

#[tokio::test]
async fn describe_lists_the_network_handlers() {
    let r = TestRegion::start().await;
    let (_, d) = r.anon.get("describe/", &[]).await;
    let names: Vec<&str> = d["handlers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["name"].as_str())
        .collect();
    for h in [
        "FabricsHandler",
        "FabricHandler",
        "VlansHandler",
        "VlanHandler",
        "SubnetsHandler",
        "SubnetHandler",
        "IPRangesHandler",
        "IPRangeHandler",
        "ReservedIpsHandler",
        "ReservedIpHandler",
        "SpacesHandler",
        "SpaceHandler",
    ] {
        assert!(names.contains(&h), "{h} missing from describe");
    }
}
