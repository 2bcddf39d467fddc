//! SQL of the DHCP leases racks report: the `dhcp_leases` table and the
//! addresses of DHCP-mode links (what the API and DNS show for a node whose
//! interface took a lease). Set-based: a batch of thousands of leases is a
//! handful of statements.

use sqlx::PgConnection;

use crate::error::Result;

/// A lease's last state in a batch.
pub struct LeaseRow {
    pub ip: String,
    /// Lower-case.
    pub mac: String,
    pub hostname: String,
    pub lease_time: u32,
}

/// Each `mac` took its `ip`: the lease rows are (re)written, each MAC's DHCP
/// links on the address's subnet show it, and DHCP links of other
/// interfaces holding one of these addresses let it go. One row per `ip`.
pub async fn commit(c: &mut PgConnection, rack_id: i64, leases: &[LeaseRow]) -> Result<()> {
    if leases.is_empty() {
        return Ok(());
    }
    let ips: Vec<&str> = leases.iter().map(|l| l.ip.as_str()).collect();
    let macs: Vec<&str> = leases.iter().map(|l| l.mac.as_str()).collect();
    let names: Vec<&str> = leases.iter().map(|l| l.hostname.as_str()).collect();
    let secs: Vec<f64> = leases.iter().map(|l| f64::from(l.lease_time)).collect();
    sqlx::query(
        "INSERT INTO dhcp_leases (ip, mac, hostname, rack_id, subnet_id, expires, updated)
         SELECT x.ip::inet, x.mac, x.hostname, $5,
                (SELECT s.id FROM subnets s WHERE x.ip::inet <<= s.cidr
                  ORDER BY masklen(s.cidr) DESC LIMIT 1),
                now() + make_interval(secs => x.secs), now()
           FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[]) AS x(ip, mac, hostname, secs)
         ON CONFLICT (ip) DO UPDATE SET mac = EXCLUDED.mac, hostname = EXCLUDED.hostname,
                rack_id = EXCLUDED.rack_id, subnet_id = EXCLUDED.subnet_id,
                expires = EXCLUDED.expires, updated = now()",
    )
    .bind(&ips)
    .bind(&macs)
    .bind(&names)
    .bind(&secs)
    .bind(rack_id)
    .execute(&mut *c)
    .await?;
    sqlx::query(
        "UPDATE interface_links l SET ip = NULL
           FROM interfaces i, unnest($1::text[], $2::text[]) AS x(ip, mac)
          WHERE i.id = l.interface_id AND l.mode = 'dhcp' AND l.ip = x.ip::inet
            AND lower(i.mac_address) <> x.mac",
    )
    .bind(&ips)
    .bind(&macs)
    .execute(&mut *c)
    .await?;
    sqlx::query(
        "UPDATE interface_links l SET ip = d.ip
           FROM interfaces i, dhcp_leases d
          WHERE d.ip = ANY($1::inet[]) AND i.id = l.interface_id AND l.mode = 'dhcp'
            AND lower(i.mac_address) = d.mac AND l.subnet_id = d.subnet_id
            AND l.ip IS DISTINCT FROM d.ip",
    )
    .bind(&ips)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// These (ip, lower-case mac) leases ended (released or expired): the rows
/// go, and the DHCP links showing them are cleared.
pub async fn end(c: &mut PgConnection, ended: &[(String, String)]) -> Result<()> {
    if ended.is_empty() {
        return Ok(());
    }
    let ips: Vec<&str> = ended.iter().map(|e| e.0.as_str()).collect();
    let macs: Vec<&str> = ended.iter().map(|e| e.1.as_str()).collect();
    sqlx::query(
        "DELETE FROM dhcp_leases d USING unnest($1::text[], $2::text[]) AS x(ip, mac)
          WHERE d.ip = x.ip::inet AND d.mac = x.mac",
    )
    .bind(&ips)
    .bind(&macs)
    .execute(&mut *c)
    .await?;
    sqlx::query(
        "UPDATE interface_links l SET ip = NULL
           FROM interfaces i, unnest($1::text[], $2::text[]) AS x(ip, mac)
          WHERE i.id = l.interface_id AND l.mode = 'dhcp' AND l.ip = x.ip::inet
            AND lower(i.mac_address) = x.mac",
    )
    .bind(&ips)
    .bind(&macs)
    .execute(&mut *c)
    .await?;
    Ok(())
}
