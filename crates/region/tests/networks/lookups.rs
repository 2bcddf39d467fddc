//! The store's lookups by specifier, which every caller naming a network
//! object uses: ids, `id:`, `name:`, plain names, CIDRs, `cidr:` and `ip:`.

use maas_region::store::networks::{
    fabric_by_spec, rack_by_spec, space_by_spec, subnet_by_spec, subnet_containing,
};

use super::*;

#[tokio::test]
async fn lookups_by_spec() {
    let r = TestRegion::start().await;
    let lab = id(&fabric(&r, "lab").await);
    let (st, dmz) = r.admin.post("spaces/", &[("name", "dmz")]).await;
    assert_eq!(st, 200, "{dmz}");
    let dmz = id(&dmz);
    let wide = id(&subnet(&r, &[("cidr", "10.0.0.0/16")]).await);
    let narrow = id(&subnet(&r, &[("cidr", "10.0.1.0/24"), ("name", "office")]).await);
    // A rack whose hostname is another rack's system_id: the system_id wins.
    let r1 = rack(&r, "abc123").await;
    let r2: i64 = sqlx::query_scalar(
        "INSERT INTO racks (system_id, hostname) VALUES ('def456', 'abc123') RETURNING id",
    )
    .fetch_one(r.db())
    .await
    .unwrap();
    let mut c = r.db().acquire().await.unwrap();

    for (spec, want) in [
        ("lab", Some(lab)),
        ("name:lab", Some(lab)),
        (&lab.to_string()[..], Some(lab)),
        (&format!(" id:{lab} ")[..], Some(lab)),
        ("id:lab", None),
        ("nosuch", None),
    ] {
        assert_eq!(fabric_by_spec(&mut c, spec).await.unwrap(), want, "{spec}");
    }
    for (spec, want) in [
        ("dmz", Some(dmz)),
        ("name:dmz", Some(dmz)),
        (&dmz.to_string()[..], Some(dmz)),
        ("undefined", None),
    ] {
        assert_eq!(space_by_spec(&mut c, spec).await.unwrap(), want, "{spec}");
    }
    for (spec, want) in [
        (&narrow.to_string()[..], Some(narrow)),
        (&format!("id:{wide}")[..], Some(wide)),
        ("name:office", Some(narrow)),
        ("10.0.1.0/24", Some(narrow)),
        ("cidr:10.0.0.0/16", Some(wide)),
        ("ip:10.0.1.7", Some(narrow)),
        ("ip:10.0.2.7", Some(wide)),
        ("ip:192.168.0.1", None),
        ("ip:nonsense", None),
        ("10.0.1.0/25", None),
        ("office", None),
    ] {
        assert_eq!(subnet_by_spec(&mut c, spec).await.unwrap(), want, "{spec}");
    }
    let ip = "10.0.1.200".parse().unwrap();
    assert_eq!(subnet_containing(&mut c, &ip).await.unwrap(), Some(narrow));
    assert_eq!(rack_by_spec(&mut c, "abc123").await.unwrap(), Some(r1));
    assert_eq!(rack_by_spec(&mut c, " def456 ").await.unwrap(), Some(r2));
    assert_eq!(rack_by_spec(&mut c, "nosuch").await.unwrap(), None);
}
