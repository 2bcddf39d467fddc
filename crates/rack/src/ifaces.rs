//! The rack's network interfaces, as reported to the region (from
//! `ip -details -json address`).

use maas_model::rack::Interface;
use serde_json::Value;

/// Parse `ip -d -j addr` output. Loopback and link-local addresses are left
/// out; interfaces without addresses are still reported.
pub fn parse_ip_json(text: &str) -> Vec<Interface> {
    let Ok(Value::Array(links)) = serde_json::from_str::<Value>(text) else {
        return vec![];
    };
    let mut out = Vec::new();
    for l in links {
        let name = l["ifname"].as_str().unwrap_or("").to_string();
        if name.is_empty() || l["link_type"] == "loopback" {
            continue;
        }
        let kind = match l["linkinfo"]["info_kind"].as_str() {
            Some("vlan") => "vlan",
            Some("bridge") => "bridge",
            Some("bond") => "bond",
            _ => "physical",
        };
        let vid = l["linkinfo"]["info_data"]["id"]
            .as_i64()
            .and_then(|v| i32::try_from(v).ok())
            .unwrap_or(0);
        let mut addresses = Vec::new();
        for a in l["addr_info"].as_array().into_iter().flatten() {
            let (Some(ip), Some(plen)) = (a["local"].as_str(), a["prefixlen"].as_u64()) else {
                continue;
            };
            if a["scope"] == "link"
                || a["scope"] == "host"
                || ip.starts_with("fe80:")
                || ip.starts_with("169.254.")
            {
                continue;
            }
            addresses.push(format!("{ip}/{plen}"));
        }
        out.push(Interface {
            name,
            mac: l["address"].as_str().unwrap_or("").to_string(),
            kind: kind.into(),
            parent: l["link"]
                .as_str()
                .filter(|p| !p.is_empty())
                .map(String::from),
            vid: (kind == "vlan" && (1..=4094).contains(&vid)).then_some(vid),
            addresses,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Read the host's interfaces now. `MAAS_RACK_IP_JSON` names a file of
/// `ip -d -j addr` output to use instead (simulated racks, tests).
pub async fn read() -> Vec<Interface> {
    if let Ok(path) = std::env::var("MAAS_RACK_IP_JSON") {
        return match tokio::fs::read_to_string(&path).await {
            Ok(t) => parse_ip_json(&t),
            Err(e) => {
                tracing::warn!(%path, error = %e, "cannot read MAAS_RACK_IP_JSON");
                vec![]
            }
        };
    }
    match tokio::process::Command::new("ip")
        .args(["-d", "-j", "addr", "show"])
        .output()
        .await
    {
        Ok(o) if o.status.success() => parse_ip_json(&String::from_utf8_lossy(&o.stdout)),
        Ok(o) => {
            tracing::warn!(stderr = %String::from_utf8_lossy(&o.stderr), "ip addr failed");
            vec![]
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot run ip (iproute2)");
            vec![]
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_ip_json() {
        let text = r#"[
          {"ifname":"lo","link_type":"loopback","address":"00:00:00:00:00:00","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host"}]},
          {"ifname":"br0","link_type":"ether","address":"52:54:00:aa:bb:cc","linkinfo":{"info_kind":"bridge"},"addr_info":[{"family":"inet","local":"10.201.1.1","prefixlen":24,"scope":"global"},{"family":"inet6","local":"fe80::1","prefixlen":64,"scope":"link"}]},
          {"ifname":"eth0.100","link":"eth0","link_type":"ether","address":"52:54:00:aa:bb:cd","linkinfo":{"info_kind":"vlan","info_data":{"protocol":"802.1Q","id":100}},"addr_info":[{"family":"inet6","local":"fd00::2","prefixlen":64,"scope":"global"}]}
        ]"#;
        let v = super::parse_ip_json(text);
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].name, "br0");
        assert_eq!(v[0].kind, "bridge");
        assert_eq!(v[0].addresses, vec!["10.201.1.1/24"]);
        assert_eq!(
            (v[1].kind.as_str(), v[1].vid, v[1].parent.as_deref()),
            ("vlan", Some(100), Some("eth0"))
        );
        assert_eq!((v[0].vid, v[0].parent.as_deref()), (None, None));
        assert!(super::parse_ip_json("not json").is_empty());
    }
}
