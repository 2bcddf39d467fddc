//! Roles: admins see and do everything; users see unowned machines and their
//! own, act only on their own; BMC credentials are encrypted at rest and
//! never shown to non-admins.

use maas_testkit as common;

use common::TestRegion;

#[tokio::test]
async fn users_see_unowned_and_own_only() {
    let r = TestRegion::start().await;
    let bob = r.user("bob", false).await;
    let free = r.ready_machine("free", 2, 2048).await;
    let mine = r.ready_machine("mine", 2, 2048).await;
    let theirs = r.ready_machine("theirs", 2, 2048).await;
    assert_eq!(
        r.alice
            .op("machines/", "allocate", &[("system_id", &mine)])
            .await
            .0,
        200
    );
    assert_eq!(
        bob.op("machines/", "allocate", &[("system_id", &theirs)])
            .await
            .0,
        200
    );
    let names = |v: serde_json::Value| {
        let mut n: Vec<String> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["hostname"].as_str().unwrap().to_string())
            .collect();
        n.sort();
        n
    };
    assert_eq!(
        names(r.alice.get("machines/", &[]).await.1),
        vec!["free", "mine"]
    );
    assert_eq!(
        names(r.admin.get("machines/", &[]).await.1),
        vec!["free", "mine", "theirs"]
    );
    assert_eq!(
        r.alice.get(&format!("machines/{theirs}/"), &[]).await.0,
        403
    );
    assert_eq!(r.alice.get(&format!("machines/{free}/"), &[]).await.0, 200);
    // Alice cannot act on Bob's machine, nor on an unowned one except to take it.
    for op in [
        "release",
        "deploy",
        "power_on",
        "power_off",
        "mark_broken",
        "lock",
    ] {
        let (st, e) = r.alice.op(&format!("machines/{theirs}/"), op, &[]).await;
        assert_eq!(st, 403, "{op}: {e}");
    }
    assert_eq!(
        r.alice
            .op(&format!("machines/{free}/"), "release", &[])
            .await
            .0,
        403
    );
    assert_eq!(
        r.count("SELECT count(*) FROM machines WHERE status = 10")
            .await,
        2
    );
    // She can work her own machine.
    let p = format!("machines/{mine}/");
    assert_eq!(r.alice.op(&p, "power_on", &[]).await.0, 200);
    assert_eq!(r.alice.op(&p, "deploy", &[]).await.0, 200);
    assert_eq!(r.alice.op(&p, "release", &[]).await.0, 200);
    // Deploying an unowned Ready machine claims it.
    let (st, m) = r
        .alice
        .op(&format!("machines/{free}/"), "deploy", &[])
        .await;
    assert_eq!((st, m["owner"].as_str()), (200, Some("alice")));
    // Admin-only operations.
    for op in [
        "commission",
        "test",
        "abort",
        "mark_fixed",
        "rescue_mode",
        "exit_rescue_mode",
    ] {
        assert_eq!(r.alice.op(&p, op, &[]).await.0, 403, "{op}");
    }
    assert_eq!(r.alice.put(&p, &[("hostname", "x")]).await.0, 403);
    assert_eq!(r.alice.delete(&p).await.0, 403);
    assert_eq!(r.alice.get_op(&p, "get_token", &[]).await.0, 403);
    assert_eq!(r.alice.post("zones/", &[("name", "zz")]).await.0, 403);
    assert_eq!(r.alice.post("tags/", &[("name", "tt")]).await.0, 403);
    assert_eq!(
        r.alice
            .post(
                "users/",
                &[("username", "eve"), ("email", "e@x"), ("password", "p")]
            )
            .await
            .0,
        403
    );
    assert_eq!(
        r.alice
            .op(
                "maas/",
                "set_config",
                &[("name", "maas_name"), ("value", "x")]
            )
            .await
            .0,
        403
    );
    // Events: Alice sees events of machines she can see only.
    let (_, ev) = r
        .alice
        .get_op("events/", "query", &[("limit", "1000")])
        .await;
    assert!(
        ev["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["node"] != theirs.as_str())
    );
    let (_, ev) = r.admin.get_op("events/", "query", &[("id", &theirs)]).await;
    assert!(ev["count"].as_i64().unwrap() > 0);
}

#[tokio::test]
async fn bmc_credentials_are_encrypted_and_admin_only() {
    let r = TestRegion::start().await;
    let (st, m) = r
        .admin
        .post(
            "machines/",
            &[
                ("architecture", "amd64"),
                ("mac_addresses", &common::random_mac()),
                ("power_type", "ipmi"),
                ("power_parameters_power_address", "10.1.2.3"),
                ("power_parameters_power_user", "root"),
                ("power_parameters_power_pass", "TopSecret123"),
                ("commission", "false"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{m}");
    let sid = m["system_id"].as_str().unwrap().to_string();
    assert!(!m.to_string().contains("TopSecret123"));
    let raw: Vec<u8> =
        sqlx::query_scalar("SELECT power_parameters FROM machines WHERE system_id = $1")
            .bind(&sid)
            .fetch_one(r.db())
            .await
            .unwrap();
    assert!(
        !raw.windows(12).any(|w| w == b"TopSecret123"),
        "stored encrypted"
    );
    let (st, p) = r
        .admin
        .get_op(&format!("machines/{sid}/"), "power_parameters", &[])
        .await;
    assert_eq!(st, 200);
    assert_eq!(p["power_pass"], "TopSecret123");
    assert_eq!(p["power_address"], "10.1.2.3");
    // Non-admins never get them.
    assert_eq!(
        r.alice
            .get_op(&format!("machines/{sid}/"), "power_parameters", &[])
            .await
            .0,
        403
    );
    assert_eq!(
        r.alice.get_op("machines/", "power_parameters", &[]).await.0,
        403
    );
    let (_, m) = r.alice.get(&format!("machines/{sid}/"), &[]).await;
    assert!(!m.to_string().contains("TopSecret123"));
    // Update merges parameters for the same driver.
    r.admin
        .put(
            &format!("machines/{sid}/"),
            &[("power_parameters_power_user", "admin2")],
        )
        .await;
    let (_, p) = r
        .admin
        .get_op(&format!("machines/{sid}/"), "power_parameters", &[])
        .await;
    assert_eq!(
        (p["power_user"].as_str(), p["power_pass"].as_str()),
        (Some("admin2"), Some("TopSecret123"))
    );
    // Unknown parameters for a driver are refused.
    let (st, e) = r
        .admin
        .put(
            &format!("machines/{sid}/"),
            &[("power_parameters_colour", "red")],
        )
        .await;
    assert_eq!(st, 400, "{e}");
    // A region with another key cannot read them (and says so).
    let other = maas_region::crypto::SecretBox::from_key(&[9u8; 32]);
    assert!(other.open(&raw).is_err());
}

#[tokio::test]
async fn an_admin_changes_a_users_role_as_the_web_ui_does() {
    let r = TestRegion::start().await;
    let bob = r.user("bob", false).await;
    let up = [("is_superuser", "true")];
    assert_eq!(bob.put("users/bob/", &up).await.0, 403, "not his own");
    assert_eq!(bob.post("zones/", &[("name", "bz")]).await.0, 403);
    let (st, e) = r.admin.put("users/bob/", &[]).await;
    assert_eq!(st, 400);
    assert_eq!(e["is_superuser"][0], "This field is required.");
    assert_eq!(r.admin.put("users/admin/", &up).await.0, 400, "own role");
    assert_eq!(r.admin.put("users/nobody/", &up).await.0, 404);
    let (st, u) = r.admin.put("users/bob/", &up).await;
    assert_eq!(st, 200, "{u}");
    assert_eq!(u["is_superuser"], true);
    assert_eq!(bob.post("zones/", &[("name", "bz")]).await.0, 200);
    let (_, u) = r
        .admin
        .put("users/bob/", &[("is_superuser", "false")])
        .await;
    assert_eq!(u["is_superuser"], false);
    assert_eq!(bob.post("zones/", &[("name", "bz2")]).await.0, 403);
}

#[tokio::test]
async fn an_empty_role_is_no_role_change() {
    let r = TestRegion::start().await;
    r.user("carol", true).await;
    let (st, e) = r.admin.put("users/carol/", &[("is_superuser", "")]).await;
    assert_eq!(st, 400, "{e}");
    let (_, u) = r.admin.get("users/carol/", &[]).await;
    assert_eq!(u["is_superuser"], true, "still an admin");
}
