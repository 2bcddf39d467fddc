//! The addresses in use on a subnet, with who holds them: nodes'
//! interface links, users' reservations (`ipaddresses/`), DNS resources'
//! static addresses.

use sqlx::Row;

use crate::error::Result;
use crate::store::Conn;

/// One address in use.
#[derive(Debug, Clone)]
pub struct UsedAddress {
    pub ip: String,
    /// `node`, `reservation` or `dns`.
    pub kind: &'static str,
    /// The node's hostname, the reservation's hostname, or the DNS name.
    pub holder: String,
    /// The node's system_id (nodes only).
    pub system_id: Option<String>,
    /// The node's owner, or the user who reserved the address.
    pub owner: Option<String>,
}

/// Every address in use on subnet `id`, by address.
pub async fn of_subnet(c: &mut Conn, id: i64) -> Result<Vec<UsedAddress>> {
    let rows = sqlx::query(
        "SELECT host(addr) AS ip, kind, holder, system_id, owner FROM (
           SELECT l.ip AS addr, 'node' AS kind, m.hostname AS holder, m.system_id,
                  u.username AS owner
             FROM interface_links l
             JOIN interfaces i ON i.id = l.interface_id
             JOIN machines m ON m.id = i.machine_id
             LEFT JOIN users u ON u.id = m.owner_id
            WHERE l.subnet_id = $1 AND l.ip IS NOT NULL
           UNION ALL
           SELECT r.ip, 'reservation', r.hostname, NULL, u.username
             FROM ip_reservations r LEFT JOIN users u ON u.id = r.user_id
            WHERE r.subnet_id = $1
           UNION ALL
           SELECT d.ip, 'dns', CASE WHEN dr.name = '@' OR dr.name = '' THEN dom.name
                                    ELSE dr.name || '.' || dom.name END,
                  NULL, u.username
             FROM dnsresource_ips d
             JOIN dnsresources dr ON dr.id = d.dnsresource_id
             JOIN domains dom ON dom.id = dr.domain_id
             LEFT JOIN users u ON u.id = d.user_id
            WHERE d.subnet_id = $1
         ) x ORDER BY addr, kind, holder",
    )
    .bind(id)
    .fetch_all(&mut *c)
    .await?;
    Ok(rows
        .iter()
        .map(|r| UsedAddress {
            ip: r.get("ip"),
            kind: match r.get::<String, _>("kind").as_str() {
                "node" => "node",
                "reservation" => "reservation",
                _ => "dns",
            },
            holder: r.get("holder"),
            system_id: r.get("system_id"),
            owner: r.get("owner"),
        })
        .collect())
}
