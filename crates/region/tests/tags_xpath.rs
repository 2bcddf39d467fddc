//! Automatic tags: an XPath definition over the lshw XML a machine uploads
//! while commissioning decides which machines carry the tag — when the tag
//! is created or its definition changes (every machine), and when a machine
//! finishes commissioning (that machine); allocation matches on them.

use maas_testkit as common;

use common::{TestRegion, node_api, signal};

fn lshw(cap: &str, mem: u64) -> Vec<u8> {
    format!(
        r#"<?xml version="1.0" standalone="yes" ?>
<list><node id="box" class="system"><vendor>QEMU</vendor>
<node id="core" class="bus">
<node id="cpu:0" class="processor"><capabilities><capability id="{cap}" /></capabilities></node>
<node id="memory" class="memory"><size units="bytes">{mem}</size></node>
</node></node></list>"#
    )
    .into_bytes()
}

/// Commission `sid`, uploading `xml` as its lshw output; Ready after.
async fn commission(r: &TestRegion, sid: &str, xml: Vec<u8>) {
    let (st, e) = r
        .admin
        .op(&format!("machines/{sid}/"), "commission", &[])
        .await;
    assert_eq!(st, 200, "{e}");
    let node = node_api(r, sid).await;
    let (st, b) = signal(&node, &[("status", "OK")], Some(("maas-lshw", xml))).await;
    assert_eq!(st, 200, "{b}");
    assert_eq!(r.status_of(sid).await, 4);
}

async fn tags_of(r: &TestRegion, sid: &str) -> Vec<String> {
    let (_, m) = r.admin.get(&format!("machines/{sid}/"), &[]).await;
    serde_json::from_value(m["tag_names"].clone()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xpath_tags_follow_commissioning_output() {
    let r = TestRegion::start().await;
    let small = r.ready_machine("small-vmx", 2, 2048).await;
    let big = r.ready_machine("big-svm", 8, 8192).await;
    // Defined before anyone commissions: commissioning applies it.
    let (st, t) = r
        .admin
        .post(
            "tags/",
            &[
                ("name", "virt"),
                (
                    "definition",
                    "//node[@class='processor']/capabilities/capability[@id='vmx']",
                ),
            ],
        )
        .await;
    assert_eq!(st, 200, "{t}");
    assert!(tags_of(&r, &small).await.is_empty(), "no lshw yet");
    commission(&r, &small, lshw("vmx", 2_147_483_648)).await;
    commission(&r, &big, lshw("svm", 8_589_934_592)).await;
    assert_eq!(tags_of(&r, &small).await, ["virt"]);
    assert!(tags_of(&r, &big).await.is_empty());

    // Defined after: every machine's latest lshw is read at once.
    let (st, t) = r
        .admin
        .post(
            "tags/",
            &[
                ("name", "bigmem"),
                ("definition", "//node[@id='memory']/size >= 4000000000"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{t}");
    assert_eq!(tags_of(&r, &big).await, ["bigmem"]);
    assert_eq!(tags_of(&r, &small).await, ["virt"]);
    // Allocation matches on it.
    let (st, m) = r
        .admin
        .op("machines/", "allocate", &[("tags", "bigmem")])
        .await;
    assert_eq!(st, 200, "{m}");
    assert_eq!(m["system_id"], big.as_str());
    let (st, _) = r
        .admin
        .op(&format!("machines/{big}/"), "release", &[])
        .await;
    assert_eq!(st, 200);

    // Applied by hand: refused, the definition decides.
    let (st, _) = r
        .admin
        .op("tags/virt/", "update_nodes", &[("add", &big)])
        .await;
    assert_eq!(st, 409);
    // A new definition moves the tag.
    let (st, t) = r
        .admin
        .put("tags/virt/", &[("definition", "//capability[@id='svm']")])
        .await;
    assert_eq!(st, 200, "{t}");
    assert_eq!(t["definition"], "//capability[@id='svm']");
    assert!(!tags_of(&r, &small).await.contains(&"virt".to_string()));
    assert!(tags_of(&r, &big).await.contains(&"virt".to_string()));
    // A bad definition changes nothing.
    let (st, e) = r
        .admin
        .put("tags/virt/", &[("definition", "//capability[")])
        .await;
    assert_eq!(st, 400);
    assert!(
        e["definition"][0]
            .as_str()
            .unwrap()
            .starts_with("Invalid xpath")
    );
    let (_, t) = r.admin.get("tags/virt/", &[]).await;
    assert_eq!(t["definition"], "//capability[@id='svm']");

    // Recommissioning with other hardware re-evaluates that machine.
    commission(&r, &small, lshw("svm", 8_589_934_592)).await;
    let mut got = tags_of(&r, &small).await;
    got.sort();
    assert_eq!(got, ["bigmem", "virt"]);
    // rebuild: admins only; a manual tag has nothing to rebuild from.
    assert_eq!(r.admin.op("tags/virt/", "rebuild", &[]).await.0, 200);
    let bob = r.user("bob", false).await;
    assert_eq!(bob.op("tags/virt/", "rebuild", &[]).await.0, 403);
    assert_eq!(r.admin.post("tags/", &[("name", "manual")]).await.0, 200);
    assert_eq!(r.admin.op("tags/manual/", "rebuild", &[]).await.0, 400);
}

const LLDP: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<lldp label="LLDP neighbors">
<interface label="Interface" name="ens3" via="LLDP">
<chassis label="Chassis"><id label="ChassisID" type="mac">0a:00:00:00:00:01</id><name label="SysName">tor-1</name></chassis>
</interface>
</lldp>"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xpath_tags_read_lldp_and_lshw_in_their_namespaces() {
    let r = TestRegion::start().await;
    let sid = r.ready_machine("racked", 2, 2048).await;
    let other = r.ready_machine("elsewhere", 2, 2048).await;
    let tag = |name: &'static str, def: &'static str| {
        let admin = &r.admin;
        async move {
            let (st, t) = admin
                .post("tags/", &[("name", name), ("definition", def)])
                .await;
            (st, t)
        }
    };
    // Defined before: evaluated when the machine finishes commissioning.
    let (st, t) = tag("tor1", "//lldp:chassis/lldp:name = 'tor-1'").await;
    assert_eq!(st, 200, "{t}");
    let (st, e) = tag("bad", "//lldq:chassis").await;
    assert_eq!(st, 400, "an unbound prefix: {e}");

    let (st, e) = r
        .admin
        .op(&format!("machines/{sid}/"), "commission", &[])
        .await;
    assert_eq!(st, 200, "{e}");
    let node = node_api(&r, &sid).await;
    let (st, b) = signal(
        &node,
        &[("status", "WORKING"), ("exit_status", "0")],
        Some(("maas-capture-lldpd", LLDP.as_bytes().to_vec())),
    )
    .await;
    assert_eq!(st, 200, "{b}");
    let (st, b) = signal(
        &node,
        &[("status", "WORKING"), ("exit_status", "0")],
        Some(("maas-lshw", lshw("vmx", 2_147_483_648))),
    )
    .await;
    assert_eq!(st, 200, "{b}");
    // A runner's stderr companion, newer than the output, is not lshw.
    let (st, b) = signal(
        &node,
        &[("status", "OK")],
        Some(("maas-lshw.err", b"lshw: warning".to_vec())),
    )
    .await;
    assert_eq!(st, 200, "{b}");
    assert_eq!(tags_of(&r, &sid).await, ["tor1"]);
    commission(&r, &other, lshw("vmx", 2_147_483_648)).await;
    assert!(tags_of(&r, &other).await.is_empty(), "no neighbours");

    // Defined after: every machine's details, lshw also under `lshw:`.
    let (st, t) = tag(
        "vmx",
        "//lshw:node[@class='processor']//lshw:capability[@id='vmx']",
    )
    .await;
    assert_eq!(st, 200, "{t}");
    let (st, t) = tag(
        "near-tor1",
        "//lldp:interface[lldp:chassis/lldp:name='tor-1'] and //node[@id='memory']",
    )
    .await;
    assert_eq!(st, 200, "{t}");
    let mut got = tags_of(&r, &sid).await;
    got.sort();
    assert_eq!(got, ["near-tor1", "tor1", "vmx"]);
    assert_eq!(tags_of(&r, &other).await, ["vmx"]);
}
