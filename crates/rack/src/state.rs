//! The applied desired state: written to disk atomically before it is
//! acknowledged, loaded at start so the rack serves without a region.

use std::path::PathBuf;
use std::sync::Arc;

use maas_rpc::pb;
use prost::Message;
use serde_json::{Value, json};
use tokio::sync::watch;

#[derive(Clone)]
pub struct StateStore {
    path: PathBuf,
    tx: Arc<watch::Sender<Option<Arc<pb::Snapshot>>>>,
}

impl StateStore {
    pub fn open(dir: &std::path::Path) -> anyhow::Result<StateStore> {
        let path = dir.join("state.pb");
        let snap = match std::fs::read(&path) {
            Ok(b) => match pb::Snapshot::decode(b.as_slice()) {
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

    pub fn current(&self) -> Option<Arc<pb::Snapshot>> {
        self.tx.borrow().clone()
    }

    pub fn subscribe(&self) -> watch::Receiver<Option<Arc<pb::Snapshot>>> {
        self.tx.subscribe()
    }

    /// Persist, then swap in (services see all of it or none of it).
    pub fn apply(&self, s: pb::Snapshot) -> anyhow::Result<()> {
        crate::identity::write_file_atomic(&self.path, &s.encode_to_vec(), false)?;
        self.tx.send_replace(Some(Arc::new(s)));
        Ok(())
    }

    pub fn generation_and_hash(&self) -> (u64, String) {
        self.current()
            .map(|s| (s.generation, s.hash.clone()))
            .unwrap_or((0, String::new()))
    }
}

/// A JSON view of the snapshot for the rack's local `/state`.
pub fn to_json(s: &pb::Snapshot) -> Value {
    json!({
        "generation": s.generation,
        "hash": s.hash,
        "vlans": s.vlans.iter().map(|v| json!({"id": v.id, "vid": v.vid, "fabric": v.fabric, "mtu": v.mtu, "dhcp_on": v.dhcp_on, "dhcp_role": v.dhcp_role, "relay_vlan_id": v.relay_vlan_id})).collect::<Vec<_>>(),
        "subnets": s.subnets.iter().map(|x| json!({"id": x.id, "vlan_id": x.vlan_id, "cidr": x.cidr, "gateway_ip": x.gateway_ip, "dns_servers": x.dns_servers, "managed": x.managed, "allow_dns": x.allow_dns})).collect::<Vec<_>>(),
        "ranges": s.ranges.iter().map(|r| json!({"subnet_id": r.subnet_id, "type": r.r#type, "start_ip": r.start_ip, "end_ip": r.end_ip})).collect::<Vec<_>>(),
        "reservations": s.reservations.iter().map(|r| json!({"subnet_id": r.subnet_id, "mac": r.mac, "ip": r.ip, "hostname": r.hostname})).collect::<Vec<_>>(),
        "boot": s.boot.as_ref().map(|b| json!({"default_osystem": b.default_osystem, "default_distro_series": b.default_distro_series, "commissioning_osystem": b.commissioning_osystem, "commissioning_distro_series": b.commissioning_distro_series, "kernel_opts": b.kernel_opts, "maas_url": b.maas_url})),
        "zones": s.zones.iter().map(|z| json!({"name": z.name, "ttl": z.ttl, "authoritative": z.authoritative, "records": z.records.iter().map(|r| json!({"name": r.name, "type": r.rtype, "data": r.data, "ttl": r.ttl})).collect::<Vec<_>>()})).collect::<Vec<_>>(),
        "images": s.images.iter().map(|i| json!({"name": i.name, "architecture": i.architecture, "sha256": i.sha256, "size": i.size})).collect::<Vec<_>>(),
        "power_jobs": s.power_jobs.iter().map(|p| json!({"id": p.id, "system_id": p.system_id, "action": p.action, "power_type": p.power_type})).collect::<Vec<_>>(),
    })
}
