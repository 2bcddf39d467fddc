//! Rules for racks: the shared secrets (enrollment secret, cluster CA),
//! enrollment (request checks, the failure limit per address and hostname, recording a
//! new rack), which certificates may open a session, session state, the
//! events racks report, and deleting a rack.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Context;
use maas_model::rack::{Event, EventKind, Interface};
use maas_rpc::tls;
use serde_json::{Value, json};

use crate::crypto::SecretBox;
use crate::error::{Error, Result};
pub use crate::store::racks::NewRack;
use crate::store::racks::{self as db, EventRows};
use crate::store::{self, Pool, keys};

/// LISTEN channels: desired state changed / a rack was deleted (payload: system_id).
pub const STATE_CHANNEL: &str = "maas_rack_state";
pub const REVOKE_CHANNEL: &str = "maas_rack_revoked";

/// Events per batch a rack may send.
pub const MAX_BATCH: usize = 5000;

/// Failed enrollments from one address under one claimed hostname before
/// that pair is refused for the window.
pub const FAIL_LIMIT: u32 = 5;

/// Most an enrollment's timestamp may be off the region's clock.
pub const MAX_CLOCK_SKEW_S: u64 = 600;

/// The rack enrollment secret (created once, shared by every region).
pub async fn enrollment_secret(db: &Pool) -> Result<String> {
    let candidate = hex::encode(rand::random::<[u8; 32]>());
    let mut c = db.acquire().await?;
    keys::insert_if_absent(&mut c, &[("rack_secret", &candidate)]).await?;
    keys::get(&mut c, "rack_secret")
        .await?
        .ok_or_else(|| Error::internal("the rack secret vanished"))
}

/// The cluster CA, created once for all regions. Its key is sealed with the
/// region secret key (shared by regions).
pub async fn load_ca(db: &Pool, secrets: &SecretBox) -> Result<tls::Ca> {
    let (cert_pem, key_pem) = tls::generate_ca()?;
    let sealed = hex::encode(secrets.seal(key_pem.as_bytes()));
    let mut c = db.acquire().await?;
    keys::insert_if_absent(&mut c, &[("ca_cert", &cert_pem), ("ca_key", &sealed)]).await?;
    let missing = || Error::internal("the cluster CA is incomplete in `secrets`");
    let cert = keys::get(&mut c, "ca_cert").await?.ok_or_else(missing)?;
    let key = keys::get(&mut c, "ca_key").await?.ok_or_else(missing)?;
    let key = secrets
        .open(&hex::decode(key).context("CA key is not hex")?)
        .context("cannot open the CA key: do all regions share the same --secret-key-file?")?;
    Ok(tls::Ca::from_pem(
        &cert,
        std::str::from_utf8(&key).context("CA key is not UTF-8")?,
    )?)
}

/// Failed enrollment attempts per (address, claimed hostname): after
/// `FAIL_LIMIT` within the window, that pair is refused until the window has
/// passed. Keyed by the hostname too, so a neighbour guessing secrets from a
/// shared address (a NAT, a shared host) under some hostnames never locks out
/// a rack enrolling from there under another; a correct proof is only ever
/// refused for failures under its own hostname. The secret is 256 random
/// bits, so the limit is against noise and load, not against guessing; a
/// refused rack keeps retrying with back-off and enrolls once the window has
/// passed. At most `MAX_TRACKED` pairs are remembered (expired ones dropped
/// first, then the oldest), so made-up hostnames cannot grow memory.
pub struct EnrollLimiter {
    window: Duration,
    failures: Mutex<HashMap<(IpAddr, String), Failures>>,
}

/// Failed attempts of one (address, hostname) since the window began.
struct Failures {
    count: u32,
    since: Instant,
}

/// Most (address, hostname) pairs the limiter remembers.
pub const MAX_TRACKED: usize = 10_000;

/// Hostnames compare without case (as DNS does).
fn limiter_key(ip: IpAddr, hostname: &str) -> (IpAddr, String) {
    (ip, hostname.to_ascii_lowercase())
}

impl EnrollLimiter {
    pub fn new(window: Duration) -> EnrollLimiter {
        EnrollLimiter {
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Refused (`RateLimited`, with "retry in N s", N rounded up) while
    /// `ip` claiming `hostname` is over the limit. Failures from `ip` under
    /// other hostnames do not count.
    pub fn check(&self, ip: IpAddr, hostname: &str) -> Result<()> {
        let l = self.failures.lock().expect("limiter lock");
        let wait = l.get(&limiter_key(ip, hostname)).and_then(|f| {
            let left = self.window.saturating_sub(f.since.elapsed());
            (f.count >= FAIL_LIMIT && !left.is_zero())
                .then(|| (left.as_millis().div_ceil(1000) as u64).max(1))
        });
        match wait {
            Some(wait) => Err(Error::RateLimited(format!(
                "too many failed enrollment attempts from {ip} as {hostname:?}; retry in {wait} s"
            ))),
            None => Ok(()),
        }
    }

    /// A wrong proof from `ip` claiming `hostname`; returns the failures
    /// counted in the current window.
    pub fn failed(&self, ip: IpAddr, hostname: &str) -> u32 {
        let mut l = self.failures.lock().expect("limiter lock");
        let key = limiter_key(ip, hostname);
        if !l.contains_key(&key) && l.len() >= MAX_TRACKED {
            let window = self.window;
            l.retain(|_, f| f.since.elapsed() <= window);
            if l.len() >= MAX_TRACKED
                && let Some(oldest) = l
                    .iter()
                    .min_by_key(|(_, f)| f.since)
                    .map(|(k, _)| k.clone())
            {
                l.remove(&oldest);
            }
        }
        let f = l.entry(key).or_insert(Failures {
            count: 0,
            since: Instant::now(),
        });
        if f.since.elapsed() > self.window {
            *f = Failures {
                count: 0,
                since: Instant::now(),
            };
        }
        f.count += 1;
        f.count
    }

    /// A correct proof: forget the pair's failures.
    pub fn succeeded(&self, ip: IpAddr, hostname: &str) {
        self.failures
            .lock()
            .expect("limiter lock")
            .remove(&limiter_key(ip, hostname));
    }

    /// Pairs remembered (for tests).
    pub fn tracked(&self) -> usize {
        self.failures.lock().expect("limiter lock").len()
    }
}

/// The shape of an enrollment request; `now` is the region's clock (Unix s).
pub fn check_enroll_request(
    hostname: &str,
    nonce: &[u8],
    csr_der: &[u8],
    timestamp: u64,
    now: u64,
) -> Result<()> {
    if hostname.is_empty() || hostname.len() > 255 || nonce.len() != 32 || csr_der.is_empty() {
        return Err(Error::BadRequest("malformed enrollment request".into()));
    }
    if timestamp.abs_diff(now) > MAX_CLOCK_SKEW_S {
        return Err(Error::BadRequest(
            "enrollment timestamp is more than 10 minutes off the region's clock".into(),
        ));
    }
    Ok(())
}

/// Record an enrolled rack; false when its system id is taken (the caller
/// picks another).
pub async fn register(db: &Pool, rack: &NewRack<'_>) -> Result<bool> {
    db::insert(&mut *db.acquire().await?, rack).await
}

/// A rack with an open session.
#[derive(Clone, Debug)]
pub struct SessionRack {
    pub id: i64,
    pub system_id: String,
}

/// May this certificate (naming `system_id`, serial `serial`) open a
/// session? It must name an existing rack, be its current certificate, and
/// not be revoked.
pub async fn check_rack(db: &Pool, system_id: &str, serial: &str) -> Result<SessionRack> {
    let mut c = db.acquire().await?;
    if db::is_revoked(&mut c, serial).await? {
        return Err(Error::Forbidden(
            "this rack was deleted: its certificate is revoked; enroll it again".into(),
        ));
    }
    let (id, current) = db::id_and_serial(&mut c, system_id).await?.ok_or_else(|| {
        Error::Forbidden(format!(
            "unknown rack {system_id}: it was deleted or never enrolled"
        ))
    })?;
    if current.as_deref() != Some(serial) {
        return Err(Error::Forbidden(
            "this certificate is not the rack's current one".into(),
        ));
    }
    Ok(SessionRack {
        id,
        system_id: system_id.to_string(),
    })
}

/// A session opened on `region` (the rack said hello). Returns the highest
/// event seq stored for the rack.
pub async fn connected(
    db: &Pool,
    rack: &SessionRack,
    hostname: &str,
    version: &str,
    region: &str,
) -> Result<u64> {
    let last = db::connected(
        &mut *db.acquire().await?,
        rack.id,
        hostname,
        version,
        region,
    )
    .await?
    .ok_or_else(|| Error::Forbidden(format!("rack {} was deleted", rack.system_id)))?;
    Ok(last.max(0) as u64)
}

pub async fn disconnected(db: &Pool, rack_id: i64, region: &str) -> Result<()> {
    db::disconnected(&mut *db.acquire().await?, rack_id, region).await
}

/// The rack is still there (periodic, with the certificate re-checked).
pub async fn still_connected(
    db: &Pool,
    rack: &SessionRack,
    serial: &str,
    region: &str,
) -> Result<()> {
    check_rack(db, &rack.system_id, serial).await?;
    db::seen(&mut *db.acquire().await?, rack.id, region).await
}

/// The rack acknowledged applying `generation`.
pub async fn applied(db: &Pool, rack_id: i64, generation: u64) -> Result<()> {
    let g = i64::try_from(generation)
        .map_err(|_| Error::BadRequest(format!("generation {generation} is out of range")))?;
    db::applied(&mut *db.acquire().await?, rack_id, g).await
}

/// Record the interfaces the rack reports and place them in the network
/// model, in one transaction.
pub async fn record_interfaces(db: &Pool, rack_id: i64, ifaces: &[Interface]) -> Result<()> {
    let mut tx = store::begin(db).await?;
    crate::services::network::record_rack_interfaces(&mut tx, rack_id, ifaces).await?;
    tx.commit().await?;
    Ok(())
}

/// An event's data as stored (`rack_events.payload`): the variant's fields by
/// name.
pub fn payload(kind: &EventKind) -> Value {
    let v = match kind {
        EventKind::Lease(x) => serde_json::to_value(x),
        EventKind::Boot(x) => serde_json::to_value(x),
        EventKind::Power(x) => serde_json::to_value(x),
        EventKind::Health(x) => serde_json::to_value(x),
    };
    v.unwrap_or_else(|_| json!({}))
}

/// Store a batch in one transaction, each (rack, seq) once, and the services'
/// health it reports; returns the highest seq now stored.
pub async fn store_events(db: &Pool, rack_id: i64, events: &[Event]) -> Result<u64> {
    if events.len() > MAX_BATCH {
        return Err(Error::BadRequest(format!(
            "at most {MAX_BATCH} events per batch"
        )));
    }
    let mut rows = EventRows::default();
    let mut health = serde_json::Map::new();
    for e in events {
        let seq = i64::try_from(e.seq)
            .ok()
            .filter(|s| *s >= 1)
            .ok_or_else(|| Error::BadRequest("event seq must be ≥ 1".into()))?;
        if let EventKind::Health(h) = &e.kind {
            health.insert(
                h.service.clone(),
                json!({"status": h.status, "info": h.info}),
            );
        }
        rows.seqs.push(seq);
        rows.kinds.push(e.kind.name());
        rows.payloads.push(payload(&e.kind));
        rows.occurred.push(
            chrono::DateTime::from_timestamp_millis(e.occurred_unix_ms)
                .unwrap_or_else(chrono::Utc::now),
        );
    }
    let max = rows.seqs.iter().copied().max().unwrap_or(0);
    let mut tx = store::begin(db).await?;
    db::insert_events(&mut tx, rack_id, &rows).await?;
    apply_leases(&mut tx, rack_id, events).await?;
    let last = db::events_stored(&mut tx, rack_id, max, Value::Object(health)).await?;
    tx.commit().await?;
    Ok(last.max(0) as u64)
}

/// The leases in a batch: each address's last event wins (the batch is in
/// order). A commit shows the address on the node's DHCP link (and so in the
/// API and DNS); a release or expiry takes it away. A lease whose address
/// does not parse is kept only as an event.
async fn apply_leases(c: &mut store::Conn, rack_id: i64, events: &[Event]) -> Result<()> {
    let mut last: HashMap<std::net::IpAddr, &maas_model::rack::Lease> = HashMap::new();
    for e in events {
        let EventKind::Lease(l) = &e.kind else {
            continue;
        };
        match l.ip.parse() {
            Ok(ip) if !l.mac.is_empty() => {
                last.insert(ip, l);
            }
            _ => {
                tracing::warn!(rack_id, ip = %l.ip, mac = %l.mac, "lease event with a bad address")
            }
        }
    }
    let mut commits = Vec::new();
    let mut ended = Vec::new();
    for (ip, l) in last {
        match l.action.as_str() {
            "commit" => commits.push(store::leases::LeaseRow {
                ip: ip.to_string(),
                mac: l.mac.to_ascii_lowercase(),
                hostname: l.hostname.clone(),
                lease_time: l.lease_time,
            }),
            "release" | "expiry" => ended.push((ip.to_string(), l.mac.to_ascii_lowercase())),
            other => tracing::warn!(rack_id, action = other, "unknown lease action"),
        }
    }
    store::leases::commit(c, rack_id, &commits).await?;
    store::leases::end(c, &ended).await
}

/// A rack as the API shows it: its row and its interfaces.
pub struct Rack {
    pub row: db::RackRow,
    pub interfaces: Vec<db::RackIfaceRow>,
}

/// Every rack by hostname, or the one with `system_id`.
pub async fn list(db: &Pool, system_id: Option<&str>) -> Result<Vec<Rack>> {
    let mut c = db.acquire().await?;
    let rows = db::list(&mut c, system_id).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut ifaces: HashMap<i64, Vec<db::RackIfaceRow>> = HashMap::new();
    for i in db::interfaces(&mut c, &ids).await? {
        ifaces.entry(i.rack_id).or_default().push(i);
    }
    Ok(rows
        .into_iter()
        .map(|row| Rack {
            interfaces: ifaces.remove(&row.id).unwrap_or_default(),
            row,
        })
        .collect())
}

/// Delete a rack (by an admin): revoke its certificate and tell every
/// region to close its session.
pub async fn delete(db: &Pool, system_id: &str, username: &str) -> Result<()> {
    let mut tx = store::begin(db).await?;
    let serial = db::delete(&mut tx, system_id).await?.ok_or_else(|| {
        Error::NotFound(format!(
            "No RackController matches the given query ({system_id})."
        ))
    })?;
    if let Some(s) = serial {
        db::revoke(&mut tx, &s).await?;
    }
    db::notify(&mut tx, REVOKE_CHANNEL, system_id).await?;
    crate::services::lifecycle::event(
        &mut tx,
        None,
        Some(username),
        "INFO",
        "Rack deleted",
        &format!("Rack controller {system_id} deleted; its certificate is revoked."),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use maas_model::rack::{Lease, PowerResult, ServiceHealth};

    #[test]
    fn limiter_refuses_after_the_limit_until_the_window_passes() {
        let l = EnrollLimiter::new(Duration::from_millis(300));
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        for i in 0..FAIL_LIMIT {
            assert!(l.check(ip, "rack").is_ok());
            assert_eq!(l.failed(ip, "rack"), i + 1);
        }
        let refused = l.check(ip, "rack");
        assert!(
            matches!(&refused, Err(Error::RateLimited(m))
                if m.contains("too many failed") && m.contains("\"rack\"") && m.contains("retry in 1 s")),
            "{refused:?}"
        );
        // Hostnames compare without case.
        assert!(l.check(ip, "RACK").is_err());
        assert!(l.check(other, "rack").is_ok());
        std::thread::sleep(Duration::from_millis(350));
        assert!(l.check(ip, "rack").is_ok());
        // A new window counts from one again.
        assert_eq!(l.failed(ip, "rack"), 1);
    }

    #[test]
    fn a_noisy_hostname_does_not_lock_out_others_on_its_address() {
        let l = EnrollLimiter::new(Duration::from_secs(60));
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..FAIL_LIMIT * 3 {
            l.failed(ip, "noisy");
        }
        assert!(l.check(ip, "noisy").is_err());
        assert!(l.check(ip, "honest").is_ok());
        // Guessing under many hostnames limits each one, never a new one.
        for h in 0..20 {
            for _ in 0..FAIL_LIMIT {
                l.failed(ip, &format!("guess-{h}"));
            }
        }
        assert!(l.check(ip, "guess-7").is_err());
        assert!(l.check(ip, "honest").is_ok());
        // The hint is the window left, rounded up.
        let m = match l.check(ip, "noisy") {
            Err(Error::RateLimited(m)) => m,
            other => panic!("{other:?}"),
        };
        assert!(m.ends_with("retry in 60 s"), "{m}");
    }

    #[test]
    fn success_forgets_failures() {
        let l = EnrollLimiter::new(Duration::from_secs(60));
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..FAIL_LIMIT - 1 {
            l.failed(ip, "rack");
        }
        l.succeeded(ip, "rack");
        assert_eq!(l.failed(ip, "rack"), 1);
        assert!(l.check(ip, "rack").is_ok());
    }

    #[test]
    fn the_limiter_remembers_a_bounded_number_of_pairs() {
        let l = EnrollLimiter::new(Duration::from_secs(60));
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..FAIL_LIMIT {
            l.failed(ip, "first");
        }
        for h in 0..MAX_TRACKED + 10 {
            l.failed(ip, &format!("made-up-{h}"));
        }
        assert_eq!(l.tracked(), MAX_TRACKED);
        // The oldest pair went first.
        assert!(l.check(ip, "first").is_ok());
    }

    #[test]
    fn enroll_requests_are_checked() {
        let ok =
            |h: &str, n: usize, csr: &[u8], ts| check_enroll_request(h, &vec![0; n], csr, ts, 1000);
        assert!(ok("rack", 32, b"csr", 1000).is_ok());
        assert!(ok("rack", 32, b"csr", 1600).is_ok());
        assert!(ok("", 32, b"csr", 1000).is_err());
        assert!(ok(&"x".repeat(256), 32, b"csr", 1000).is_err());
        assert!(ok("rack", 31, b"csr", 1000).is_err());
        assert!(ok("rack", 32, b"", 1000).is_err());
        assert!(
            matches!(ok("rack", 32, b"csr", 1601), Err(Error::BadRequest(m)) if m.contains("10 minutes"))
        );
    }

    #[test]
    fn payloads_keep_the_stored_json_shape() {
        let lease = EventKind::Lease(Lease {
            action: "commit".into(),
            mac: "m".into(),
            ip: "10.0.0.5".into(),
            hostname: "h".into(),
            lease_time: 600,
        });
        assert_eq!(
            payload(&lease),
            json!({"action": "commit", "mac": "m", "ip": "10.0.0.5", "hostname": "h", "lease_time": 600})
        );
        let power = EventKind::Power(PowerResult {
            job_id: 3,
            ok: true,
            ..Default::default()
        });
        assert_eq!(
            payload(&power),
            json!({"job_id": 3, "system_id": "", "action": "", "ok": true, "state": "", "error": ""})
        );
        let health = EventKind::Health(ServiceHealth {
            service: "rackd".into(),
            status: "running".into(),
            info: "".into(),
        });
        assert_eq!(
            payload(&health),
            json!({"service": "rackd", "status": "running", "info": ""})
        );
        assert_eq!(health.name(), "health");
    }
}
