//! The applied desired state: written to disk atomically before it is
//! acknowledged, loaded at start so the rack serves without a region. Held
//! as the model's type; stored as the wire message (`state.pb`).

use std::path::PathBuf;
use std::sync::Arc;

use maas_model::desired::Snapshot;
use maas_rpc::pb;
use prost::Message;
use serde_json::{Value, json};
use tokio::sync::watch;

#[derive(Clone)]
pub struct StateStore {
    path: PathBuf,
    tx: Arc<watch::Sender<Option<Arc<Snapshot>>>>,
}

/// Read a stored state (None: unreadable, with the reason).
fn decode(bytes: &[u8]) -> Result<Snapshot, String> {
    let wire = pb::Snapshot::decode(bytes).map_err(|e| e.to_string())?;
    Snapshot::try_from(wire).map_err(|e| e.to_string())
}

impl StateStore {
    pub fn open(dir: &std::path::Path) -> anyhow::Result<StateStore> {
        let path = dir.join("state.pb");
        let snap = match std::fs::read(&path) {
            Ok(b) => match decode(&b) {
                Ok(s) => Some(Arc::new(s)),
                Err(e) => {
                    tracing::warn!(error = %e, "stored state is unreadable; starting empty");
                    None
                }
            },
            Err(_) => None,
        };
        if let Some(s) = &snap {
            tracing::info!(
                generation = s.generation,
                "serving the stored desired state"
            );
        }
        let (tx, _) = watch::channel(snap);
        Ok(StateStore {
            path,
            tx: Arc::new(tx),
        })
    }

    pub fn current(&self) -> Option<Arc<Snapshot>> {
        self.tx.borrow().clone()
    }

    pub fn subscribe(&self) -> watch::Receiver<Option<Arc<Snapshot>>> {
        self.tx.subscribe()
    }

    /// Persist, then swap in (services see all of it or none of it).
    pub fn apply(&self, s: Snapshot) -> anyhow::Result<()> {
        let bytes = pb::Snapshot::from(&s).encode_to_vec();
        crate::identity::write_file_atomic(&self.path, &bytes, false)?;
        self.tx.send_replace(Some(Arc::new(s)));
        Ok(())
    }

    pub fn generation_and_hash(&self) -> (u64, String) {
        self.current()
            .map(|s| (s.generation, s.hash.clone()))
            .unwrap_or((0, String::new()))
    }
}

/// A JSON view of the snapshot for the rack's local `/state` (none is "" or
/// 0, as on the wire).
pub fn to_json(s: &Snapshot) -> Value {
    let b = &s.boot;
    json!({
        "generation": s.generation,
        "hash": s.hash,
        "vlans": s.vlans.iter().map(|v| json!({"id": v.id, "vid": v.vid, "fabric": v.fabric, "mtu": v.mtu, "dhcp_on": v.dhcp_on, "dhcp_role": v.dhcp_role.map(|r| r.as_str()).unwrap_or(""), "relay_vlan_id": v.relay_vlan_id.unwrap_or(0), "serve_dhcp": v.serve_dhcp})).collect::<Vec<_>>(),
        "subnets": s.subnets.iter().map(|x| json!({"id": x.id, "vlan_id": x.vlan_id, "cidr": x.cidr.to_string(), "gateway_ip": x.gateway_ip.map(|g| g.to_string()).unwrap_or_default(), "dns_servers": x.dns_servers, "managed": x.managed, "allow_dns": x.allow_dns, "static_routes": x.static_routes.iter().map(|r| json!({"destination": r.destination.to_string(), "gateway": r.gateway.to_string(), "metric": r.metric})).collect::<Vec<_>>()})).collect::<Vec<_>>(),
        "ranges": s.ranges.iter().map(|r| json!({"subnet_id": r.subnet_id, "type": r.kind.as_str(), "start_ip": r.start_ip.to_string(), "end_ip": r.end_ip.to_string()})).collect::<Vec<_>>(),
        "reservations": s.reservations.iter().map(|r| json!({"subnet_id": r.subnet_id, "mac": r.mac, "ip": r.ip.to_string(), "hostname": r.hostname.as_deref().unwrap_or("")})).collect::<Vec<_>>(),
        "boot": {"default_osystem": b.default_osystem, "default_distro_series": b.default_distro_series, "commissioning_osystem": b.commissioning_osystem, "commissioning_distro_series": b.commissioning_distro_series, "kernel_opts": b.kernel_opts, "maas_url": b.maas_url},
        "zones": s.zones.iter().map(|z| json!({"name": z.name, "ttl": z.ttl, "serial": z.serial, "authoritative": z.authoritative, "records": z.records.iter().map(|r| json!({"name": r.name, "type": r.rtype, "data": r.data, "ttl": r.ttl})).collect::<Vec<_>>()})).collect::<Vec<_>>(),
        "images": s.images.iter().map(|i| json!({"name": i.name, "architecture": i.architecture, "filetype": i.filetype, "filename": i.filename, "sha256": i.sha256, "size": i.size})).collect::<Vec<_>>(),
        "network": {"ntp_servers": s.network.ntp_servers, "upstream_dns": s.network.upstream_dns, "default_domain": s.network.default_domain, "lease_time": s.network.lease_time},
        "machines": s.machines.iter().map(|m| json!({"system_id": m.system_id, "hostname": m.hostname, "status": m.status, "macs": m.macs, "architecture": m.architecture, "osystem": m.osystem, "distro_series": m.distro_series})).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use maas_model::desired::{DhcpRole, Vlan};

    #[test]
    fn applied_state_survives_a_restart_and_bad_files_are_ignored() {
        let d = std::env::temp_dir().join(format!("rackstate-{}", rand::random::<u64>()));
        std::fs::create_dir_all(&d).unwrap();
        let st = StateStore::open(&d).unwrap();
        assert!(st.current().is_none());
        let mut s = Snapshot {
            generation: 4,
            hash: "h".into(),
            ..Snapshot::default()
        };
        s.vlans.push(Vlan {
            id: 1,
            vid: 0,
            fabric: "fabric-0".into(),
            mtu: 1500,
            dhcp_on: true,
            dhcp_role: Some(DhcpRole::Secondary),
            relay_vlan_id: None,
            serve_dhcp: false,
        });
        s.boot.kernel_opts = "quiet".into();
        st.apply(s.clone()).unwrap();
        assert_eq!(st.generation_and_hash(), (4, "h".into()));
        let again = StateStore::open(&d).unwrap();
        assert_eq!(again.current().as_deref(), Some(&s));
        let j = to_json(&s);
        assert_eq!(j["vlans"][0]["dhcp_role"], "secondary");
        assert_eq!(j["vlans"][0]["relay_vlan_id"], 0);
        assert_eq!(j["boot"]["kernel_opts"], "quiet");
        // A stored state that does not convert is dropped, not a panic.
        let mut bad = pb::Snapshot::from(&s);
        bad.vlans[0].dhcp_role = "boss".into();
        std::fs::write(d.join("state.pb"), bad.encode_to_vec()).unwrap();
        assert!(StateStore::open(&d).unwrap().current().is_none());
        std::fs::write(d.join("state.pb"), b"\xff\xff\xff").unwrap();
        assert!(StateStore::open(&d).unwrap().current().is_none());
        let _ = std::fs::remove_dir_all(d);
    }
}
