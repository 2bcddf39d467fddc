//! The DHCPv4 engine: pure and synchronous. Bytes and receive metadata in,
//! zero or one reply out; lease-log records and lease events queued for the
//! caller, who must make the records durable before sending a reply marked
//! `durable`.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::Arc;

use dhcproto::v4::{DhcpOption, DhcpOptions, Message, MessageType, OptionCode};
use dhcproto::{Decodable, Encodable};

use crate::boot::{self, BootClient};
use crate::config::{Compiled, Hw, Subnet};
use crate::leases::{Entry, State, Table};
use crate::metrics::Metrics;
use crate::store::Record;
use crate::wire::{self, Header};

/// Where a packet came from.
#[derive(Debug, Clone, Copy)]
pub struct RecvMeta<'a> {
    pub ifindex: u32,
    pub ifname: &'a str,
    pub src: SocketAddrV4,
    /// Our address on the receiving interface (or the one the relay sent to).
    pub local: Ipv4Addr,
}

/// A reply to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub bytes: Vec<u8>,
    pub dst: SocketAddrV4,
    pub broadcast: bool,
    /// Send it out of this interface, from `src`.
    pub ifindex: u32,
    pub src: Ipv4Addr,
    /// An ACK that may leave only after the queued records are on disk.
    pub durable: bool,
    pub msg_type: u8,
}

/// Ports the engine addresses replies to.
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    pub server: u16,
    pub client: u16,
}

impl Default for Ports {
    fn default() -> Self {
        Ports {
            server: 67,
            client: 68,
        }
    }
}

pub struct Engine {
    cfg: Arc<Compiled>,
    base: Vec<DhcpOptions>,
    pub table: Table,
    pub metrics: Arc<Metrics>,
    pub ports: Ports,
    records: Vec<Record>,
    events: Vec<maas_model::rack::Lease>,
}

/// Options sent only when asked for, when the client sends a parameter
/// request list.
const OPTIONAL: [u8; 11] = [1, 3, 6, 12, 15, 26, 42, 66, 67, 119, 121];
/// Dropped (in this order) when the reply exceeds the client's size limit.
const SHED: [u8; 6] = [119, 121, 42, 15, 12, 66];

impl Engine {
    pub fn new(cfg: Arc<Compiled>, table: Table, metrics: Arc<Metrics>, ports: Ports) -> Engine {
        let base = cfg.subnets.iter().map(base_options).collect();
        Engine {
            cfg,
            base,
            table,
            metrics,
            ports,
            records: Vec::new(),
            events: Vec::new(),
        }
    }

    /// Swaps in a new configuration; leases are kept (those now outside
    /// the pools are NAKed at renewal).
    pub fn set_config(&mut self, cfg: Arc<Compiled>) {
        self.base = cfg.subnets.iter().map(base_options).collect();
        self.cfg = cfg;
    }

    pub fn config(&self) -> &Arc<Compiled> {
        &self.cfg
    }

    /// Records to make durable (drained).
    pub fn take_records(&mut self, out: &mut Vec<Record>) {
        out.append(&mut self.records);
    }

    /// Lease events to report (drained).
    pub fn take_events(&mut self, out: &mut Vec<maas_model::rack::Lease>) {
        out.append(&mut self.events);
    }

    /// Expires leases and quarantines at `now`.
    pub fn tick(&mut self, now: u64) {
        for (ip, e) in self.table.expire(now) {
            Metrics::inc(&self.metrics.leases_expired);
            self.records.push(Record {
                op: b'F',
                ip,
                hw: e.hw,
                expires: 0,
                hostname: String::new(),
            });
            self.event("expiry", e.hw, ip, &e.hostname, 0);
        }
    }

    fn event(&mut self, action: &str, hw: Hw, ip: Ipv4Addr, host: &str, lease_time: u32) {
        self.events.push(maas_model::rack::Lease {
            action: action.into(),
            mac: hw.to_string(),
            ip: ip.to_string(),
            hostname: host.into(),
            lease_time,
        });
    }

    /// Handles one packet. Never panics; what it drops it counts.
    pub fn handle(&mut self, pkt: &[u8], meta: &RecvMeta<'_>, now: u64) -> Option<Reply> {
        let m = &self.metrics;
        let Some(h) = wire::header(pkt) else {
            Metrics::inc(&m.drop_malformed);
            return None;
        };
        if h.op != 1 {
            Metrics::inc(&m.drop_not_request);
            return None;
        }
        let Ok(msg) = Message::from_bytes(pkt) else {
            Metrics::inc(&m.drop_malformed);
            return None;
        };
        let Some(mt) = msg.opts().msg_type() else {
            Metrics::inc(&m.drop_malformed);
            return None;
        };
        Metrics::inc(match mt {
            MessageType::Discover => &m.in_discover,
            MessageType::Request => &m.in_request,
            MessageType::Release => &m.in_release,
            MessageType::Decline => &m.in_decline,
            MessageType::Inform => &m.in_inform,
            _ => &m.in_other,
        });
        let subnet = if !h.giaddr.is_unspecified() {
            self.cfg.containing(h.giaddr)
        } else {
            self.cfg.on_interface(meta.ifname, meta.local).or_else(|| {
                (mt == MessageType::Inform && !h.ciaddr.is_unspecified())
                    .then(|| self.cfg.containing(h.ciaddr))
                    .flatten()
            })
        };
        let Some(si) = subnet else {
            Metrics::inc(&m.drop_no_subnet);
            return None;
        };
        let cfg = Arc::clone(&self.cfg);
        let sn = &cfg.subnets[si];
        match mt {
            MessageType::Discover => self.discover(pkt, &h, &msg, sn, si, meta, now),
            MessageType::Request => self.request(pkt, &h, &msg, sn, si, meta, now),
            MessageType::Decline => {
                self.decline(&h, &msg, sn, now);
                None
            }
            MessageType::Release => {
                self.release(&h);
                None
            }
            MessageType::Inform => self.reply(
                pkt,
                &h,
                &msg,
                ReplyKind::Inform,
                Ipv4Addr::UNSPECIFIED,
                sn,
                si,
                meta,
            ),
            _ => {
                Metrics::inc(&m.drop_not_request);
                None
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn discover(
        &mut self,
        pkt: &[u8],
        h: &Header,
        msg: &Message,
        sn: &Subnet,
        si: usize,
        meta: &RecvMeta<'_>,
        now: u64,
    ) -> Option<Reply> {
        let hw = h.hw;
        let ip = if let Some((rip, _)) = sn.by_mac.get(&hw) {
            Some(*rip)
        } else if let Some(ip) = self
            .table
            .of_client(hw)
            .filter(|ip| sn.cfg.cidr.contains(ip) && sn.allowed_for(*ip, hw))
        {
            Some(ip)
        } else if let Some(ip) = requested_ip(msg).filter(|ip| {
            sn.cfg.cidr.contains(ip) && sn.allowed_for(*ip, hw) && self.table.free_for(*ip, hw, now)
        }) {
            Some(ip)
        } else {
            self.table.allocate(sn, hw, now)
        };
        let Some(ip) = ip else {
            Metrics::inc(&self.metrics.pool_exhausted);
            tracing::warn!(subnet = %sn.cfg.cidr, client = %hw, "no free address to offer");
            return None;
        };
        let keep_bound = self
            .table
            .get(ip)
            .is_some_and(|e| e.hw == hw && e.state == State::Bound && e.expires > now);
        if !keep_bound {
            self.table.set(
                ip,
                Entry {
                    hw,
                    state: State::Offered,
                    expires: now + u64::from(self.cfg.cfg.offer_hold_secs),
                    hostname: String::new(),
                },
            );
        }
        self.reply(pkt, h, msg, ReplyKind::Offer, ip, sn, si, meta)
    }

    #[allow(clippy::too_many_arguments)]
    fn request(
        &mut self,
        pkt: &[u8],
        h: &Header,
        msg: &Message,
        sn: &Subnet,
        si: usize,
        meta: &RecvMeta<'_>,
        now: u64,
    ) -> Option<Reply> {
        let hw = h.hw;
        let server_id = match msg.opts().get(OptionCode::ServerIdentifier) {
            Some(DhcpOption::ServerIdentifier(s)) => Some(*s),
            _ => None,
        };
        let requested = requested_ip(msg);
        if let Some(sid) = server_id
            && sid != meta.local
        {
            // SELECTING another server's offer: drop ours.
            if let Some(ip) = self.table.of_client(hw)
                && self
                    .table
                    .get(ip)
                    .is_some_and(|e| e.state == State::Offered)
            {
                self.table.remove(ip);
            }
            Metrics::inc(&self.metrics.drop_other_server);
            return None;
        }
        let ip = match (server_id, requested) {
            (_, Some(ip)) => ip,
            (_, None) if !h.ciaddr.is_unspecified() => h.ciaddr,
            _ => {
                Metrics::inc(&self.metrics.drop_malformed);
                return None;
            }
        };
        let ok =
            sn.cfg.cidr.contains(&ip) && sn.allowed_for(ip, hw) && self.table.free_for(ip, hw, now);
        if !ok {
            tracing::debug!(client = %hw, %ip, subnet = %sn.cfg.cidr, "NAK");
            return self.reply(pkt, h, msg, ReplyKind::Nak, ip, sn, si, meta);
        }
        let host = sn
            .by_mac
            .get(&hw)
            .and_then(|(_, n)| n.clone())
            .or_else(|| client_hostname(msg))
            .unwrap_or_default();
        let lt = sn.cfg.lease_time;
        let expires = now + u64::from(lt);
        self.table.set(
            ip,
            Entry {
                hw,
                state: State::Bound,
                expires,
                hostname: host.clone(),
            },
        );
        self.records.push(Record {
            op: b'L',
            ip,
            hw,
            expires,
            hostname: host.clone(),
        });
        Metrics::inc(&self.metrics.leases_committed);
        self.event("commit", hw, ip, &host, lt);
        self.reply(pkt, h, msg, ReplyKind::Ack, ip, sn, si, meta)
    }

    fn decline(&mut self, h: &Header, msg: &Message, sn: &Subnet, now: u64) {
        let Some(ip) = requested_ip(msg).filter(|ip| sn.cfg.cidr.contains(ip)) else {
            Metrics::inc(&self.metrics.drop_malformed);
            return;
        };
        if self.table.get(ip).is_some_and(|e| e.hw != h.hw) {
            Metrics::inc(&self.metrics.drop_unknown_client);
            return;
        }
        let expires = now + u64::from(self.cfg.cfg.decline_quarantine_secs);
        self.table.set(
            ip,
            Entry {
                hw: h.hw,
                state: State::Quarantined,
                expires,
                hostname: String::new(),
            },
        );
        self.records.push(Record {
            op: b'D',
            ip,
            hw: h.hw,
            expires,
            hostname: String::new(),
        });
        Metrics::inc(&self.metrics.declines);
        tracing::warn!(%ip, client = %h.hw, "address declined: quarantined");
    }

    fn release(&mut self, h: &Header) {
        let ip = h.ciaddr;
        match self.table.get(ip) {
            Some(e) if e.hw == h.hw && e.state == State::Bound => {
                let host = e.hostname.clone();
                self.table.remove(ip);
                self.records.push(Record {
                    op: b'F',
                    ip,
                    hw: h.hw,
                    expires: 0,
                    hostname: String::new(),
                });
                Metrics::inc(&self.metrics.leases_released);
                self.event("release", h.hw, ip, &host, 0);
            }
            _ => Metrics::inc(&self.metrics.drop_unknown_client),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn reply(
        &mut self,
        pkt: &[u8],
        h: &Header,
        msg: &Message,
        kind: ReplyKind,
        yiaddr: Ipv4Addr,
        sn: &Subnet,
        si: usize,
        meta: &RecvMeta<'_>,
    ) -> Option<Reply> {
        let server = meta.local;
        let (mt, mt_code) = match kind {
            ReplyKind::Offer => (MessageType::Offer, 2u8),
            ReplyKind::Ack | ReplyKind::Inform => (MessageType::Ack, 5),
            ReplyKind::Nak => (MessageType::Nak, 6),
        };
        let nak = kind == ReplyKind::Nak;
        let mut r = Message::default();
        r.set_opcode(dhcproto::v4::Opcode::BootReply)
            .set_htype(msg.htype())
            .set_xid(h.xid)
            .set_chaddr(h.hw.as_slice())
            .set_giaddr(h.giaddr)
            .set_flags(dhcproto::v4::Flags::new(h.flags));
        if kind == ReplyKind::Inform || (kind == ReplyKind::Ack && !h.ciaddr.is_unspecified()) {
            r.set_ciaddr(h.ciaddr);
        }
        if matches!(kind, ReplyKind::Offer | ReplyKind::Ack) {
            r.set_yiaddr(yiaddr);
        }
        let mut opts = if nak {
            DhcpOptions::new()
        } else {
            self.base.get(si).cloned().unwrap_or_default()
        };
        opts.insert(DhcpOption::MessageType(mt));
        opts.insert(DhcpOption::ServerIdentifier(server));
        if matches!(kind, ReplyKind::Offer | ReplyKind::Ack) {
            let lt = sn.cfg.lease_time;
            opts.insert(DhcpOption::AddressLeaseTime(lt));
            let t2 = sn
                .cfg
                .rebind_time
                .unwrap_or(lt / 8 * 7 + lt % 8 * 7 / 8)
                .min(lt);
            let t1 = sn.cfg.renew_time.unwrap_or(lt / 2).min(t2);
            opts.insert(DhcpOption::Renewal(t1));
            opts.insert(DhcpOption::Rebinding(t2));
        }
        if !nak {
            let host = sn
                .by_mac
                .get(&h.hw)
                .and_then(|(_, n)| n.clone())
                .or_else(|| client_hostname(msg));
            if let Some(host) = host.filter(|s| !s.is_empty()) {
                opts.insert(DhcpOption::Hostname(host));
            }
            self.boot_options(pkt, msg, sn, server, &mut r, &mut opts);
        } else {
            opts.insert(DhcpOption::Message(
                "address not available on this network".into(),
            ));
        }
        if let Some(raw82) = wire::raw_option(pkt, 82) {
            opts.insert(DhcpOption::Unknown(dhcproto::v4::UnknownOption::new(
                OptionCode::from(82u8),
                raw82.to_vec(),
            )));
        }
        if let Some(DhcpOption::ParameterRequestList(prl)) =
            msg.opts().get(OptionCode::ParameterRequestList)
        {
            let asked: Vec<u8> = prl.iter().map(|c| u8::from(*c)).collect();
            opts.retain(|c, _| {
                let c = u8::from(*c);
                !OPTIONAL.contains(&c) || asked.contains(&c)
            });
        }
        let limit = match msg.opts().get(OptionCode::MaxMessageSize) {
            Some(DhcpOption::MaxMessageSize(n)) => usize::from(*n).max(576) - 28,
            _ => 548,
        };
        r.set_opts(opts);
        let mut bytes = r.to_vec().ok()?;
        for code in SHED {
            if bytes.len() <= limit {
                break;
            }
            r.opts_mut().remove(OptionCode::from(code));
            bytes = r.to_vec().ok()?;
        }
        wire::move_first(&mut bytes, 53);
        let (dst, broadcast) = if !h.giaddr.is_unspecified() {
            (SocketAddrV4::new(h.giaddr, self.ports.server), false)
        } else if !nak && !h.ciaddr.is_unspecified() {
            (SocketAddrV4::new(h.ciaddr, self.ports.client), false)
        } else {
            // Broadcast flag set, NAKs, and clients with no address yet:
            // broadcast on the receiving interface (no ARP entry needed).
            (
                SocketAddrV4::new(Ipv4Addr::BROADCAST, self.ports.client),
                true,
            )
        };
        Metrics::inc(match kind {
            ReplyKind::Offer => &self.metrics.out_offer,
            ReplyKind::Ack | ReplyKind::Inform => &self.metrics.out_ack,
            ReplyKind::Nak => &self.metrics.out_nak,
        });
        Some(Reply {
            bytes,
            dst,
            broadcast,
            ifindex: meta.ifindex,
            src: server,
            durable: kind == ReplyKind::Ack,
            msg_type: mt_code,
        })
    }

    fn boot_options(
        &self,
        pkt: &[u8],
        msg: &Message,
        sn: &Subnet,
        server: Ipv4Addr,
        r: &mut Message,
        opts: &mut DhcpOptions,
    ) {
        let class = wire::raw_option(pkt, 60).unwrap_or(&[]);
        let arch = match msg.opts().get(OptionCode::ClientSystemArchitecture) {
            Some(DhcpOption::ClientSystemArchitecture(a)) => Some(a.0),
            _ => None,
        };
        let user_class = wire::raw_option(pkt, 77).unwrap_or(&[]);
        let client = BootClient {
            arch,
            pxe: class.starts_with(b"PXEClient"),
            http: class.starts_with(b"HTTPClient"),
            ipxe: wire::raw_option(pkt, 175).is_some()
                || user_class == b"iPXE"
                || user_class.get(1..) == Some(b"iPXE".as_slice()),
        };
        let next = sn.cfg.next_server.unwrap_or(server);
        let Some(ans) = boot::select(&client, &self.cfg.cfg.boot, next) else {
            return;
        };
        r.set_siaddr(next);
        r.set_fname_str(&ans.filename);
        opts.insert(DhcpOption::TFTPServerName(next.to_string().into_bytes()));
        opts.insert(DhcpOption::BootfileName(ans.filename.into_bytes()));
        if ans.http_client {
            opts.insert(DhcpOption::ClassIdentifier(b"HTTPClient".to_vec()));
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReplyKind {
    Offer,
    Ack,
    Nak,
    Inform,
}

fn requested_ip(msg: &Message) -> Option<Ipv4Addr> {
    match msg.opts().get(OptionCode::RequestedIpAddress) {
        Some(DhcpOption::RequestedIpAddress(ip)) => Some(*ip),
        _ => None,
    }
}

/// The client's hostname (option 12), reduced to what a DNS label allows.
fn client_hostname(msg: &Message) -> Option<String> {
    match msg.opts().get(OptionCode::Hostname) {
        Some(DhcpOption::Hostname(s)) => {
            let clean: String = s
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '.')
                .take(63)
                .collect();
            (!clean.is_empty()).then_some(clean)
        }
        _ => None,
    }
}

/// The per-subnet options every OFFER/ACK carries.
fn base_options(s: &Subnet) -> DhcpOptions {
    let c = &s.cfg;
    let mut o = DhcpOptions::new();
    o.insert(DhcpOption::SubnetMask(c.cidr.netmask()));
    if let Some(r) = c.router {
        o.insert(DhcpOption::Router(vec![r]));
    }
    if !c.dns_servers.is_empty() {
        o.insert(DhcpOption::DomainNameServer(c.dns_servers.clone()));
    }
    if let Some(d) = c.domain.as_ref().filter(|d| !d.is_empty()) {
        o.insert(DhcpOption::DomainName(d.clone()));
    }
    let names: Vec<dhcproto::Name> = c
        .search
        .iter()
        .filter_map(|n| {
            let name: Result<dhcproto::Name, _> = n.parse();
            name.ok()
        })
        .collect();
    if !names.is_empty() {
        o.insert(DhcpOption::DomainSearch(names));
    }
    if !c.ntp_servers.is_empty() {
        o.insert(DhcpOption::NtpServers(c.ntp_servers.clone()));
    }
    if !c.static_routes.is_empty() {
        o.insert(DhcpOption::ClasslessStaticRoute(
            c.static_routes
                .iter()
                .map(|r| (r.destination, r.gateway))
                .collect(),
        ));
    }
    if let Some(mtu) = c.mtu {
        o.insert(DhcpOption::InterfaceMtu(mtu));
    }
    o
}
