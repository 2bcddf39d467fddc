//! `pb::Snapshot` ↔ `maas_model::desired::Snapshot`.

use maas_model::desired::{
    BootMachine, BootSettings, DhcpRole, DnsRecord, DnsZone, Image, IpRange, NetworkSettings,
    Reservation, Snapshot, StaticRoute, Subnet, Vlan,
};
use maas_model::net::{Cidr, RangeType};

use super::{Invalid, ip, list, opt_ip, opt_string, vid};
use crate::pb;

impl From<&Snapshot> for pb::Snapshot {
    fn from(s: &Snapshot) -> pb::Snapshot {
        pb::Snapshot {
            generation: s.generation,
            hash: s.hash.clone(),
            vlans: s.vlans.iter().map(Into::into).collect(),
            subnets: s.subnets.iter().map(Into::into).collect(),
            ranges: s.ranges.iter().map(Into::into).collect(),
            reservations: s.reservations.iter().map(Into::into).collect(),
            boot: Some((&s.boot).into()),
            zones: s.zones.iter().map(Into::into).collect(),
            images: s.images.iter().map(Into::into).collect(),
            network: Some((&s.network).into()),
            machines: s.machines.iter().map(Into::into).collect(),
        }
    }
}

impl From<Snapshot> for pb::Snapshot {
    fn from(s: Snapshot) -> pb::Snapshot {
        (&s).into()
    }
}

impl TryFrom<pb::Snapshot> for Snapshot {
    type Error = Invalid;
    fn try_from(s: pb::Snapshot) -> Result<Snapshot, Invalid> {
        Ok(Snapshot {
            generation: s.generation,
            hash: s.hash,
            vlans: list("vlans", s.vlans)?,
            subnets: list("subnets", s.subnets)?,
            ranges: list("ranges", s.ranges)?,
            reservations: list("reservations", s.reservations)?,
            // proto3: an absent message is its defaults.
            boot: s.boot.map(Into::into).unwrap_or_default(),
            zones: s.zones.into_iter().map(Into::into).collect(),
            images: list("images", s.images)?,
            network: s.network.map(Into::into).unwrap_or_default(),
            machines: s.machines.into_iter().map(Into::into).collect(),
        })
    }
}

impl From<&Vlan> for pb::Vlan {
    fn from(v: &Vlan) -> pb::Vlan {
        pb::Vlan {
            id: v.id,
            vid: v.vid.into(),
            fabric: v.fabric.clone(),
            mtu: v.mtu,
            dhcp_on: v.dhcp_on,
            dhcp_role: v.dhcp_role.map(|r| r.as_str()).unwrap_or("").into(),
            relay_vlan_id: v.relay_vlan_id.unwrap_or(0),
            serve_dhcp: v.serve_dhcp,
        }
    }
}

impl TryFrom<pb::Vlan> for Vlan {
    type Error = Invalid;
    fn try_from(v: pb::Vlan) -> Result<Vlan, Invalid> {
        let dhcp_role = match v.dhcp_role.as_str() {
            "" => None,
            r => Some(DhcpRole::parse(r).ok_or_else(|| {
                Invalid::new("dhcp_role", format!("'{r}' is not primary or secondary"))
            })?),
        };
        let relay_vlan_id = match v.relay_vlan_id {
            0 => None,
            r if r > 0 => Some(r),
            r => return Err(Invalid::new("relay_vlan_id", format!("{r} is not an id"))),
        };
        Ok(Vlan {
            id: v.id,
            vid: vid("vid", v.vid)?,
            fabric: v.fabric,
            mtu: v.mtu,
            dhcp_on: v.dhcp_on,
            dhcp_role,
            relay_vlan_id,
            serve_dhcp: v.serve_dhcp,
        })
    }
}

impl From<&Subnet> for pb::Subnet {
    fn from(s: &Subnet) -> pb::Subnet {
        pb::Subnet {
            id: s.id,
            vlan_id: s.vlan_id,
            cidr: s.cidr.to_string(),
            gateway_ip: s.gateway_ip.map(|g| g.to_string()).unwrap_or_default(),
            dns_servers: s.dns_servers.clone(),
            managed: s.managed,
            allow_dns: s.allow_dns,
            static_routes: s
                .static_routes
                .iter()
                .map(|r| pb::StaticRoute {
                    destination: r.destination.to_string(),
                    gateway: r.gateway.to_string(),
                    metric: r.metric,
                })
                .collect(),
        }
    }
}

impl TryFrom<pb::Subnet> for Subnet {
    type Error = Invalid;
    fn try_from(s: pb::Subnet) -> Result<Subnet, Invalid> {
        Ok(Subnet {
            id: s.id,
            vlan_id: s.vlan_id,
            cidr: Cidr::parse(&s.cidr).map_err(|e| Invalid::new("cidr", e.to_string()))?,
            gateway_ip: opt_ip("gateway_ip", &s.gateway_ip)?,
            dns_servers: s.dns_servers,
            managed: s.managed,
            allow_dns: s.allow_dns,
            static_routes: s
                .static_routes
                .into_iter()
                .map(|r| {
                    Ok(StaticRoute {
                        destination: Cidr::parse(&r.destination).map_err(|e| {
                            Invalid::new("static_routes.destination", e.to_string())
                        })?,
                        gateway: ip("static_routes.gateway", &r.gateway)?,
                        metric: r.metric,
                    })
                })
                .collect::<Result<_, Invalid>>()?,
        })
    }
}

impl From<&IpRange> for pb::IpRange {
    fn from(r: &IpRange) -> pb::IpRange {
        pb::IpRange {
            subnet_id: r.subnet_id,
            r#type: r.kind.as_str().into(),
            start_ip: r.start_ip.to_string(),
            end_ip: r.end_ip.to_string(),
        }
    }
}

impl TryFrom<pb::IpRange> for IpRange {
    type Error = Invalid;
    fn try_from(r: pb::IpRange) -> Result<IpRange, Invalid> {
        Ok(IpRange {
            subnet_id: r.subnet_id,
            kind: RangeType::parse(&r.r#type).ok_or_else(|| {
                Invalid::new("type", format!("'{}' is not dynamic or reserved", r.r#type))
            })?,
            start_ip: ip("start_ip", &r.start_ip)?,
            end_ip: ip("end_ip", &r.end_ip)?,
        })
    }
}

impl From<&Reservation> for pb::Reservation {
    fn from(r: &Reservation) -> pb::Reservation {
        pb::Reservation {
            subnet_id: r.subnet_id,
            mac: r.mac.clone(),
            ip: r.ip.to_string(),
            hostname: r.hostname.clone().unwrap_or_default(),
        }
    }
}

impl TryFrom<pb::Reservation> for Reservation {
    type Error = Invalid;
    fn try_from(r: pb::Reservation) -> Result<Reservation, Invalid> {
        Ok(Reservation {
            subnet_id: r.subnet_id,
            mac: r.mac,
            ip: ip("ip", &r.ip)?,
            hostname: opt_string(r.hostname),
        })
    }
}

impl From<&BootSettings> for pb::BootSettings {
    fn from(b: &BootSettings) -> pb::BootSettings {
        pb::BootSettings {
            default_osystem: b.default_osystem.clone(),
            default_distro_series: b.default_distro_series.clone(),
            commissioning_osystem: b.commissioning_osystem.clone(),
            commissioning_distro_series: b.commissioning_distro_series.clone(),
            kernel_opts: b.kernel_opts.clone(),
            maas_url: b.maas_url.clone(),
        }
    }
}

impl From<pb::BootSettings> for BootSettings {
    fn from(b: pb::BootSettings) -> BootSettings {
        BootSettings {
            default_osystem: b.default_osystem,
            default_distro_series: b.default_distro_series,
            commissioning_osystem: b.commissioning_osystem,
            commissioning_distro_series: b.commissioning_distro_series,
            kernel_opts: b.kernel_opts,
            maas_url: b.maas_url,
        }
    }
}

impl From<&DnsZone> for pb::DnsZone {
    fn from(z: &DnsZone) -> pb::DnsZone {
        pb::DnsZone {
            name: z.name.clone(),
            ttl: z.ttl,
            serial: z.serial,
            authoritative: z.authoritative,
            records: z
                .records
                .iter()
                .map(|r| pb::DnsRecord {
                    name: r.name.clone(),
                    rtype: r.rtype.clone(),
                    data: r.data.clone(),
                    ttl: r.ttl,
                })
                .collect(),
        }
    }
}

impl From<pb::DnsZone> for DnsZone {
    fn from(z: pb::DnsZone) -> DnsZone {
        DnsZone {
            name: z.name,
            ttl: z.ttl,
            serial: z.serial,
            authoritative: z.authoritative,
            records: z
                .records
                .into_iter()
                .map(|r| DnsRecord {
                    name: r.name,
                    rtype: r.rtype,
                    data: r.data,
                    ttl: r.ttl,
                })
                .collect(),
        }
    }
}

impl From<&Image> for pb::Image {
    fn from(i: &Image) -> pb::Image {
        pb::Image {
            name: i.name.clone(),
            architecture: i.architecture.clone(),
            sha256: i.sha256.clone(),
            size: i.size,
            filetype: i.filetype.clone(),
            filename: i.filename.clone(),
        }
    }
}

impl TryFrom<pb::Image> for Image {
    type Error = Invalid;
    fn try_from(i: pb::Image) -> Result<Image, Invalid> {
        // The rack names files by it: only a real digest is accepted.
        if !Image::valid_sha256(&i.sha256) {
            return Err(Invalid::new("sha256", "not 64 lower-case hex digits"));
        }
        Ok(Image {
            name: i.name,
            architecture: i.architecture,
            filetype: i.filetype,
            filename: i.filename,
            sha256: i.sha256,
            size: i.size,
        })
    }
}

impl From<&NetworkSettings> for pb::NetworkSettings {
    fn from(n: &NetworkSettings) -> pb::NetworkSettings {
        pb::NetworkSettings {
            ntp_servers: n.ntp_servers.clone(),
            upstream_dns: n.upstream_dns.clone(),
            default_domain: n.default_domain.clone(),
            lease_time: n.lease_time,
        }
    }
}

impl From<pb::NetworkSettings> for NetworkSettings {
    fn from(n: pb::NetworkSettings) -> NetworkSettings {
        NetworkSettings {
            ntp_servers: n.ntp_servers,
            upstream_dns: n.upstream_dns,
            default_domain: n.default_domain,
            lease_time: n.lease_time,
        }
    }
}

impl From<&BootMachine> for pb::BootMachine {
    fn from(m: &BootMachine) -> pb::BootMachine {
        pb::BootMachine {
            system_id: m.system_id.clone(),
            hostname: m.hostname.clone(),
            status: m.status.clone(),
            macs: m.macs.clone(),
            architecture: m.architecture.clone(),
            osystem: m.osystem.clone(),
            distro_series: m.distro_series.clone(),
            netboot: m.netboot,
        }
    }
}

impl From<pb::BootMachine> for BootMachine {
    fn from(m: pb::BootMachine) -> BootMachine {
        BootMachine {
            system_id: m.system_id,
            hostname: m.hostname,
            status: m.status,
            macs: m.macs,
            architecture: m.architecture,
            osystem: m.osystem,
            distro_series: m.distro_series,
            netboot: m.netboot,
        }
    }
}
