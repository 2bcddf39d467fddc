//! Reading machines to render them: rows completed with the names and
//! related sets they refer to (from `rendercache` when it holds the rows'
//! versions), listings that read ids and versions first and render only
//! what changed, and the background pass that fills the caches.

use std::collections::HashMap;
use std::sync::Arc;

use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};

use crate::api::app::{App, json_bytes};
use crate::error::{Error, Result};
use crate::render::related::{DomainInfo, Place, Related, SharedNames};
use crate::render::{
    API, BlockDeviceJson, FullMachine, InterfaceJson, LinkJson, MACHINE_SELECT, MachineRow,
    SubnetBrief, VlanJson, machine_to_json,
};
use crate::services::auth::User;

// ------------------------------------------------------------ related rows
//
// A machine's interfaces, links and disks are read as JSON arrays of rows,
// one line per machine, together with the machine's `hw_version` and the
// epoch in the same statement (`RELATED_SELECT`), so each set is cached under
// exactly the versions it was read at. Most reads find them cached.

/// An interface with its VLAN, fabric and space (columns of `IFACE_COLS`).
#[derive(serde::Deserialize)]
struct IfaceRow(
    i64,
    i64,
    String,
    String,
    String,
    bool,
    i32,
    i32,
    Vec<String>,
    bool,
    Option<i64>,
    Option<i32>,
    Option<String>,
    Option<i32>,
    Option<bool>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
);

const IFACE_COLS: &str = "i.id, i.machine_id, i.name, i.type, i.mac_address, i.enabled,
    i.link_speed, i.interface_speed, i.tags, i.is_boot, v.id, v.vid, v.name, v.mtu, v.dhcp_on,
    v.external_dhcp, v.relay_vlan_id, f.id, f.name, s.name";
const IFACE_FROM: &str = "FROM interfaces i
    LEFT JOIN vlans v ON v.id = i.vlan_id
    LEFT JOIN fabrics f ON f.id = v.fabric_id
    LEFT JOIN spaces s ON s.id = v.space_id";

/// A link of an interface to a subnet (columns of `LINK_COLS`).
#[derive(serde::Deserialize)]
struct LinkRow(
    i64,
    i64,
    String,
    Option<String>,
    i64,
    String,
    String,
    i64,
    Option<String>,
    Option<String>,
);

const LINK_COLS: &str = "l.id, l.interface_id, l.mode, host(l.ip), s.id, s.name, s.cidr::text,
    s.vlan_id, host(s.gateway_ip), sp.name";
const LINK_FROM: &str = "FROM interface_links l JOIN interfaces i ON i.id = l.interface_id
    JOIN subnets s ON s.id = l.subnet_id
    JOIN vlans v ON v.id = s.vlan_id LEFT JOIN spaces sp ON sp.id = v.space_id";

/// A physical block device (columns of `DISK_COLS`).
#[derive(serde::Deserialize)]
struct DiskRow(
    i64,
    i64,
    String,
    i64,
    i32,
    Vec<String>,
    String,
    String,
    Option<String>,
);

const DISK_COLS: &str = "d.id, d.machine_id, d.name, d.size, d.block_size, d.tags, d.model,
    d.serial, d.id_path";
const DISK_FROM: &str = "FROM block_devices d";

/// Per machine id (`$1`, an array): hardware version, epoch, and the
/// interfaces, links and disks as JSON arrays of rows.
static RELATED_SELECT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT m.id, m.system_id, m.hw_version, (SELECT n FROM render_epoch),
       coalesce(ii.j, '[]'), coalesce(ll.j, '[]'), coalesce(dd.j, '[]')
  FROM machines m
  LEFT JOIN (SELECT i.machine_id, json_agg(json_build_array({IFACE_COLS}) ORDER BY i.id)::text j
               {IFACE_FROM} WHERE i.machine_id = ANY($1) GROUP BY i.machine_id) ii
         ON ii.machine_id = m.id
  LEFT JOIN (SELECT i.machine_id, json_agg(json_build_array({LINK_COLS}) ORDER BY l.id)::text j
               {LINK_FROM} WHERE i.machine_id = ANY($1) GROUP BY i.machine_id) ll
         ON ll.machine_id = m.id
  LEFT JOIN (SELECT d.machine_id, json_agg(json_build_array({DISK_COLS}) ORDER BY d.id)::text j
               {DISK_FROM} WHERE d.machine_id = ANY($1) GROUP BY d.machine_id) dd
         ON dd.machine_id = m.id
 WHERE m.id = ANY($1)"
    )
});

/// Complete machine rows for rendering: the names they refer to and their
/// interfaces and disks, from the caches where they hold the rows'
/// versions, else read (one statement for all the related sets).
pub async fn complete(app: &App, rows: Vec<MachineRow>) -> Result<Vec<FullMachine>> {
    let shared = shared_names(app, &rows).await?;
    let mut found: Vec<Option<Arc<Related>>> = rows
        .iter()
        .map(|r| app.render.related(r.id, r.hw_version, r.epoch))
        .collect();
    let missing: Vec<i64> = rows
        .iter()
        .zip(&found)
        .filter(|(_, f)| f.is_none())
        .map(|(r, _)| r.id)
        .collect();
    if !missing.is_empty() {
        let mut loaded = load_related(app, &missing).await?;
        for (r, f) in rows.iter().zip(found.iter_mut()) {
            if f.is_none() {
                // A machine deleted meanwhile renders with no hardware.
                *f = Some(loaded.remove(&r.id).unwrap_or_default());
            }
        }
    }
    Ok(rows
        .into_iter()
        .zip(found)
        .map(|(row, related)| FullMachine {
            row,
            related: related.unwrap_or_default(),
            shared: shared.clone(),
            constraints_by_type: None,
        })
        .collect())
}

/// A shared-names snapshot for `rows`: the cached one if it covers them all,
/// else a fresh read (one at a time; concurrent callers reuse it).
async fn shared_names(app: &App, rows: &[MachineRow]) -> Result<Arc<SharedNames>> {
    let covered = |s: &SharedNames| {
        rows.iter()
            .all(|r| s.covers(r.epoch, r.domain_id, r.zone_id, r.pool_id, r.owner_id))
    };
    let s = app.render.shared();
    if covered(&s) {
        return Ok(s);
    }
    let _one = app.render.shared_reload.lock().await;
    let s = app.render.shared();
    if covered(&s) {
        return Ok(s);
    }
    let s = Arc::new(load_shared(app).await?);
    app.render.put_shared(s.clone());
    Ok(s)
}

/// Column `i` of `r`: a JSON array of rows built by PostgreSQL.
fn json_rows<T: serde::de::DeserializeOwned>(r: &PgRow, i: usize) -> Result<Vec<T>> {
    let text: &str = r.try_get(i)?;
    serde_json::from_str(text).map_err(|e| Error::Internal(e.into()))
}

/// Domains, zones, pools and user names, with the epoch, in one statement.
async fn load_shared(app: &App) -> Result<SharedNames> {
    let q = sqlx::query(
        "SELECT (SELECT n FROM render_epoch),
          (SELECT coalesce(json_agg(json_build_array(id, name, ttl, authoritative, is_default)), '[]')::text
             FROM domains),
          (SELECT coalesce(json_agg(json_build_array(id, name, description)), '[]')::text FROM zones),
          (SELECT coalesce(json_agg(json_build_array(id, name, description)), '[]')::text
             FROM resource_pools),
          (SELECT coalesce(json_agg(json_build_array(id, username)), '[]')::text FROM users)",
    );
    let r = app.hot.run(async |c| q.fetch_one(c).await).await?;
    let places = |i| -> Result<HashMap<i64, Place>> {
        Ok(json_rows::<(i64, String, String)>(&r, i)?
            .into_iter()
            .map(|(id, name, description)| (id, Place { name, description }))
            .collect())
    };
    Ok(SharedNames {
        epoch: r.try_get(0)?,
        domains: json_rows::<(i64, String, Option<i32>, bool, bool)>(&r, 1)?
            .into_iter()
            .map(|(id, name, ttl, authoritative, is_default)| {
                let d = DomainInfo {
                    name,
                    ttl,
                    authoritative,
                    is_default,
                };
                (id, d)
            })
            .collect(),
        zones: places(2)?,
        pools: places(3)?,
        users: json_rows::<(i64, String)>(&r, 4)?.into_iter().collect(),
    })
}

/// Above this many machines, a read is split in two statements run at
/// once (two backends, two cores).
const SPLIT_READS: usize = 2000;

/// Run `read` on `ids`, split in two concurrent halves when large.
async fn split_read<T, F, Fut>(ids: &[i64], read: F) -> Result<Vec<T>>
where
    F: Fn(Vec<i64>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<T>>>,
{
    if ids.len() <= SPLIT_READS {
        return read(ids.to_vec()).await;
    }
    let (a, b) = ids.split_at(ids.len() / 2);
    let (mut x, y) = tokio::try_join!(read(a.to_vec()), read(b.to_vec()))?;
    x.extend(y);
    Ok(x)
}

/// Read machines' related sets and cache each under the versions it was
/// read at.
async fn load_related(app: &App, ids: &[i64]) -> Result<HashMap<i64, Arc<Related>>> {
    let got = split_read(ids, |ids| async move {
        let q = sqlx::query(sqlx::AssertSqlSafe(RELATED_SELECT.as_str())).bind(ids);
        let got = app.hot.run(async |c| q.fetch_all(c).await).await?;
        got.iter()
            .map(|r| {
                let system_id: &str = r.try_get(1)?;
                let related = assemble(
                    system_id,
                    json_rows(r, 4)?,
                    json_rows(r, 5)?,
                    json_rows(r, 6)?,
                );
                Ok((
                    r.try_get(0)?,
                    r.try_get(2)?,
                    r.try_get(3)?,
                    Arc::new(related),
                ))
            })
            .collect::<Result<Vec<(i64, i64, i64, Arc<Related>)>>>()
    })
    .await?;
    let out = got
        .iter()
        .map(|(id, _, _, rel)| (*id, rel.clone()))
        .collect();
    app.render.put_related(got);
    Ok(out)
}

/// Machine rows by id.
async fn machine_rows(app: &App, ids: &[i64]) -> Result<Vec<MachineRow>> {
    split_read(ids, |ids| async move {
        let q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{MACHINE_SELECT} WHERE m.id = ANY($1)"
        )))
        .bind(ids);
        let rows = app.hot.run(async |c| q.fetch_all(c).await).await?;
        Ok(rows
            .iter()
            .map(MachineRow::from_row)
            .collect::<sqlx::Result<Vec<_>>>()?)
    })
    .await
}

/// Build one machine's related set from its rows.
fn assemble(
    sys: &str,
    iface_rows: Vec<IfaceRow>,
    link_rows: Vec<LinkRow>,
    disk_rows: Vec<DiskRow>,
) -> Related {
    let mut links: HashMap<i64, Vec<LinkJson>> = HashMap::new();
    for l in link_rows {
        let LinkRow(id, iface, mode, ip, sid, name, cidr, vlan, gateway_ip, space) = l;
        links.entry(iface).or_default().push(LinkJson {
            id,
            mode,
            ip_address: ip,
            subnet: Some(SubnetBrief {
                id: sid,
                name,
                cidr,
                vlan,
                space: space.unwrap_or_else(|| "undefined".into()),
                gateway_ip,
                resource_uri: format!("{API}/subnets/{sid}/"),
            }),
        });
    }
    let mut interfaces = Vec::with_capacity(iface_rows.len());
    for r in iface_rows {
        let IfaceRow(
            id,
            mid,
            name,
            type_,
            mac_address,
            enabled,
            link_speed,
            interface_speed,
            tags,
            is_boot,
            vlan_id,
            vid,
            vlan_name,
            mtu,
            dhcp_on,
            external_dhcp,
            relay_vlan,
            fabric_id,
            fabric_name,
            space_name,
        ) = r;
        let vlan = vlan_id.map(|vid_id| VlanJson {
            id: vid_id,
            vid: vid.unwrap_or(0),
            name: vlan_name.unwrap_or_else(|| "untagged".into()),
            mtu: mtu.unwrap_or(1500),
            fabric: fabric_name.unwrap_or_default(),
            fabric_id: fabric_id.unwrap_or(0),
            dhcp_on: dhcp_on.unwrap_or(false),
            external_dhcp,
            primary_rack: None,
            secondary_rack: None,
            relay_vlan,
            space: space_name.unwrap_or_else(|| "undefined".into()),
            resource_uri: format!("{API}/vlans/{vid_id}/"),
        });
        let mtu = vlan.as_ref().map(|v| v.mtu).unwrap_or(1500);
        interfaces.push(InterfaceJson {
            id,
            name,
            type_,
            mac_address,
            enabled,
            tags,
            vlan,
            links: links.remove(&id).unwrap_or_default(),
            params: String::new(),
            parents: vec![],
            children: vec![],
            link_speed,
            interface_speed,
            link_connected: true,
            effective_mtu: mtu,
            discovered: None,
            system_id: sys.to_string(),
            vendor: None,
            product: None,
            firmware_version: None,
            numa_node: 0,
            sriov_max_vf: 0,
            resource_uri: format!("{API}/nodes/{sys}/interfaces/{id}/"),
            is_boot,
            machine_id: mid,
        });
    }
    let disks = disk_rows
        .into_iter()
        .map(|r| {
            let DiskRow(id, mid, name, size, block_size, tags, model, serial, id_path) = r;
            BlockDeviceJson {
                id,
                path: format!("/dev/disk/by-dname/{name}"),
                name,
                type_: "physical",
                id_path,
                size,
                block_size,
                available_size: size,
                used_size: 0,
                used_for: "Unused",
                tags,
                model,
                serial,
                uuid: None,
                filesystem: None,
                partition_table_type: None,
                partitions: vec![],
                storage_pool: None,
                numa_node: 0,
                system_id: sys.to_string(),
                resource_uri: format!("{API}/nodes/{sys}/blockdevices/{id}/"),
                machine_id: mid,
            }
        })
        .collect();
    Related { interfaces, disks }
}

/// Render each machine to its JSON object; large sets on two threads (the
/// cost of a cold listing is mostly this and row decoding).
fn render_each(ms: &[FullMachine]) -> Vec<Arc<[u8]>> {
    fn render(ms: &[FullMachine]) -> Vec<Arc<[u8]>> {
        ms.iter().map(|m| Arc::from(machine_to_json(m))).collect()
    }
    if ms.len() < 512 {
        return render(ms);
    }
    let (a, b) = ms.split_at(ms.len() / 2);
    std::thread::scope(|scope| {
        let second = scope.spawn(|| render(b));
        let mut out = render(a);
        out.extend(second.join().unwrap_or_default());
        out
    })
}

/// Whether `m` was completed exactly as of its row's versions: names of
/// the row's epoch and the related set its hardware version names (either
/// can be newer when something changed between the reads). Only such a
/// rendering may be cached under the row's versions.
fn cacheable(app: &App, m: &FullMachine) -> bool {
    m.shared.epoch == m.row.epoch
        && app
            .render
            .related(m.row.id, m.row.hw_version, m.row.epoch)
            .is_some_and(|r| Arc::ptr_eq(&r, &m.related))
}

/// A machine listing. `q` is `MACHINE_VERSIONS` plus the caller's WHERE and
/// `ORDER BY m.id` (and `LIMIT limit + 1` when paginating): one cheap read of
/// ids and versions, then only machines whose current rendering is not
/// cached are read whole and rendered. With `limit`, a further page is
/// announced in `X-MAAS-Next-Cursor`.
pub async fn list_response(
    app: &App,
    viewer: &User,
    mut q: QueryBuilder<Postgres>,
    limit: Option<i64>,
) -> Result<Response> {
    let vrows = app.hot.run(async |c| q.build().fetch_all(c).await).await?;
    // (id, version, hw_version, epoch)
    let mut keys = vrows
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
        .collect::<sqlx::Result<Vec<(i64, i64, i64, i64)>>>()?;
    let mut next: Option<String> = None;
    if let Some(l) = limit
        && keys.len() as i64 > l
    {
        keys.truncate(l as usize);
        next = keys.last().map(|k| format!("c{:x}", k.0));
    }
    let pieces = rendered_for(app, Some(viewer), &keys).await?;
    let total: usize = pieces.iter().flatten().map(|p| p.len() + 1).sum();
    let mut body = Vec::with_capacity(total + 2);
    body.push(b'[');
    for p in pieces.iter().flatten() {
        if body.len() > 1 {
            body.push(b',');
        }
        body.extend_from_slice(p);
    }
    body.push(b']');
    let mut resp = json_bytes(StatusCode::OK, body);
    if let Some(n) = next
        && let Ok(v) = HeaderValue::from_str(&n)
    {
        resp.headers_mut().insert("x-maas-next-cursor", v);
    }
    Ok(resp)
}

/// The rendered object of each `(id, version, hw_version, epoch)` key, in
/// order: cached ones as they are, the rest read, rendered and cached.
/// `None` for a machine deleted since the keys were read, or (with a
/// `viewer`) no longer visible to them.
async fn rendered_for(
    app: &App,
    viewer: Option<&User>,
    keys: &[(i64, i64, i64, i64)],
) -> Result<Vec<Option<Arc<[u8]>>>> {
    let wanted: Vec<(i64, i64, i64)> = keys.iter().map(|k| (k.0, k.1, k.3)).collect();
    let mut pieces = app.render.rendered(&wanted);
    let missing: Vec<&(i64, i64, i64, i64)> = keys
        .iter()
        .zip(&pieces)
        .filter(|(_, p)| p.is_none())
        .map(|(k, _)| k)
        .collect();
    if !missing.is_empty() {
        // Rows, and the related sets not cached at the versions just read,
        // at once.
        let ids: Vec<i64> = missing.iter().map(|k| k.0).collect();
        let unrelated: Vec<i64> = missing
            .iter()
            .filter(|k| app.render.related(k.0, k.2, k.3).is_none())
            .map(|k| k.0)
            .collect();
        let (mut rows, _) = tokio::try_join!(machine_rows(app, &ids), async {
            if unrelated.is_empty() {
                return Ok(HashMap::new());
            }
            load_related(app, &unrelated).await
        })?;
        // A machine changed since the first read may no longer be the
        // viewer's to see (allocated to someone else meanwhile).
        if let Some(v) = viewer {
            rows.retain(|r| crate::api::machines::can_view(v, r.owner_id));
        }
        // Related sets come from the cache at each row's own versions; a
        // machine whose hardware changed between the reads is read again.
        let machines = complete(app, rows).await?;
        let (machines, rendered) = tokio::task::spawn_blocking(move || {
            let r = render_each(&machines);
            (machines, r)
        })
        .await
        .map_err(|e| Error::Internal(e.into()))?;
        let mut by_id: HashMap<i64, Arc<[u8]>> = HashMap::with_capacity(machines.len());
        let mut fresh = Vec::with_capacity(machines.len());
        for (m, json) in machines.iter().zip(rendered) {
            if cacheable(app, m) {
                fresh.push((m.row.id, m.row.version, m.row.epoch, json.clone()));
            }
            by_id.insert(m.row.id, json);
        }
        app.render.put_rendered(fresh);
        for (k, p) in keys.iter().zip(pieces.iter_mut()) {
            if p.is_none() {
                // None: deleted since the first read; left out.
                *p = by_id.remove(&k.0);
            }
        }
    }
    Ok(pieces)
}

/// Read and render every machine once, in pages, so a region that just
/// started (or just dropped its caches) answers from warm caches. Runs in
/// the background; one pass at a time.
pub async fn preload(app: App) {
    use std::sync::atomic::Ordering;
    if app.render.preloading.swap(true, Ordering::AcqRel) {
        return;
    }
    let t0 = std::time::Instant::now();
    let mut last = 0i64;
    let mut n = 0usize;
    let result: Result<()> = async {
        while n < app.render.max_entries() {
            let q = sqlx::query(
                "SELECT m.id, m.version, m.hw_version, (SELECT n FROM render_epoch)
                   FROM machines m WHERE m.id > $1 ORDER BY m.id LIMIT 2000",
            )
            .bind(last);
            let rows = app.hot.run(async |c| q.fetch_all(c).await).await?;
            let keys = rows
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
                .collect::<sqlx::Result<Vec<(i64, i64, i64, i64)>>>()?;
            let Some(k) = keys.last() else { break };
            last = k.0;
            n += keys.len();
            rendered_for(&app, None, &keys).await?;
        }
        Ok(())
    }
    .await;
    app.render.preloading.store(false, Ordering::Release);
    match result {
        Ok(()) => tracing::info!(
            machines = n,
            ms = t0.elapsed().as_millis() as u64,
            "render caches loaded"
        ),
        Err(e) => tracing::warn!(error = %e, "render cache preload stopped"),
    }
}
