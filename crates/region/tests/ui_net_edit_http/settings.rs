//! The rest of a subnet's and a VLAN's settings as the API takes them:
//! reverse DNS mode, active discovery, a VLAN's VID, and deleting a subnet
//! whose addresses are in use (the API's `force=true`).

use crate::common::TestRegion;
use crate::*;

#[tokio::test]
async fn rdns_discovery_vid_and_forced_subnet_delete() {
    let r = TestRegion::start().await;
    let admin = sign_in(&r, "admin").await;
    let (_, sn) = r.admin.post("subnets/", &[("cidr", "10.52.0.0/24")]).await;
    let sid = sn["id"].to_string();
    let path = format!("/subnet/{sid}");
    let (_, page) = get(&r, &admin, &path).await;
    assert!(page.contains("id=\"subnet-rdns_mode\""), "{page}");
    assert!(page.contains("id=\"subnet-active_discovery\""), "{page}");

    // Reverse DNS and discovery; a mode the API refuses, with its message.
    let edit = format!("{path}/edit");
    let (st, _, page) = post(&r, &admin, &edit, &[("rdns_mode", "7"), ("managed", "1")]).await;
    assert_eq!(st, 400);
    let (_, e) = r
        .admin
        .put(&format!("subnets/{sid}/"), &[("rdns_mode", "7")])
        .await;
    assert_eq!(
        field_error(&page, "subnet-rdns_mode"),
        api_msg(&e, "rdns_mode")
    );
    let form = [
        ("rdns_mode", "0"),
        ("active_discovery", "1"),
        ("managed", "1"),
        ("allow_dns", "1"),
    ];
    let (st, _, page) = post(&r, &admin, &edit, &form).await;
    assert_eq!(st, 303, "{page}");
    let s = api(&r, &format!("subnets/{sid}/")).await;
    assert_eq!(s["rdns_mode"], 0);
    assert_eq!(s["active_discovery"], true);

    // A VLAN's VID, within the range the service allows.
    let fabric = sn["vlan"]["fabric_id"].to_string();
    let (_, v) = r
        .admin
        .post(&format!("fabrics/{fabric}/vlans/"), &[("vid", "30")])
        .await;
    let vlan = v["id"].to_string();
    let vedit = format!("/vlan/{vlan}/edit");
    let (st, _, page) = post(&r, &admin, &vedit, &[("vid", "5000")]).await;
    assert_eq!(st, 400);
    assert_eq!(
        field_error(&page, "vid"),
        "The VID must be between 1 and 4094."
    );
    let (st, _, page) = post(&r, &admin, &vedit, &[("vid", "31")]).await;
    assert_eq!(st, 303, "{page}");
    assert_eq!(api(&r, &format!("vlans/{vlan}/")).await["vid"], 31);

    // A machine holds a static address: deleting is refused unless forced.
    let m = r.ready_machine("holder", 2, 2048).await;
    let (_, ifs) = r.admin.get(&format!("nodes/{m}/interfaces/"), &[]).await;
    let eth0 = ifs[0]["id"].to_string();
    let vid = sn["vlan"]["id"].to_string();
    let ipath = format!("nodes/{m}/interfaces/{eth0}/");
    let (st, e) = r.admin.put(&ipath, &[("vlan", &vid)]).await;
    assert_eq!(st, 200, "{e}");
    let link = [
        ("mode", "STATIC"),
        ("subnet", &sid),
        ("ip_address", "10.52.0.10"),
    ];
    let (st, e) = r.admin.op(&ipath, "link_subnet", &link).await;
    assert_eq!(st, 200, "{e}");
    let del = format!("{path}/delete");
    let (st, _, page) = post(&r, &admin, &del, &[("confirmed", "1")]).await;
    assert_ne!(st, 303, "{page}");
    assert!(page.contains("force"), "{page}");
    assert_eq!(r.admin.get(&format!("subnets/{sid}/"), &[]).await.0, 200);
    let (st, _, page) = post(&r, &admin, &del, &[("force", "1")]).await;
    assert_eq!(st, 200);
    assert!(page.contains("name=\"force\" value=\"1\""), "{page}");
    let (st, loc, _) = post(&r, &admin, &del, &[("force", "1"), ("confirmed", "1")]).await;
    assert_eq!((st, loc.as_str()), (303, "/MAAS/r/subnets"));
    assert_eq!(r.admin.get(&format!("subnets/{sid}/"), &[]).await.0, 404);
}
