//! Reading the network model in MAAS's shape: rows from the store, JSON from
//! `render::networks`, nested objects (a subnet's VLAN, a range's subnet)
//! read once per listing.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::error::Result;
use crate::render::networks as render;
use crate::services::network::not_found;
use crate::store::Conn;
use crate::store::networks::vlans::{VlanFilter, VlanRow};
use crate::store::networks::{fabrics, ranges, spaces, subnets, vlans};

/// VLANs matching `f`, by fabric and vid.
pub async fn vlans(c: &mut Conn, f: &VlanFilter) -> Result<Vec<Value>> {
    Ok(vlans::list(c, f).await?.iter().map(render::vlan).collect())
}

pub async fn vlan(c: &mut Conn, id: i64) -> Result<Value> {
    let f = VlanFilter {
        ids: Some(vec![id]),
        ..VlanFilter::default()
    };
    vlans(c, &f).await?.pop().ok_or_else(|| not_found("VLAN"))
}

/// Every fabric (or the one with `id`) with its VLANs.
pub async fn fabrics(c: &mut Conn, id: Option<i64>) -> Result<Vec<Value>> {
    let rows = fabrics::list(c, id).await?;
    let f = VlanFilter {
        fabrics: Some(rows.iter().map(|r| r.id).collect()),
        ..VlanFilter::default()
    };
    let all = vlans::list(c, &f).await?;
    let mut by_fabric: HashMap<i64, Vec<&VlanRow>> = HashMap::new();
    for v in &all {
        by_fabric.entry(v.fabric_id).or_default().push(v);
    }
    Ok(rows
        .iter()
        .map(|r| render::fabric(r, by_fabric.get(&r.id).map_or(&[], |v| v)))
        .collect())
}

pub async fn fabric(c: &mut Conn, id: i64) -> Result<Value> {
    fabrics(c, Some(id))
        .await?
        .pop()
        .ok_or_else(|| not_found("Fabric"))
}

/// Subnets (those with `ids` and/or in `space`) as (id, JSON), with their
/// VLANs nested.
async fn subnets_by_id(
    c: &mut Conn,
    ids: Option<&[i64]>,
    space: Option<i64>,
) -> Result<Vec<(i64, Value)>> {
    let rows = subnets::list(c, ids, space).await?;
    let vlan_ids: HashSet<i64> = rows.iter().map(|r| r.vlan_id).collect();
    let f = VlanFilter {
        ids: Some(vlan_ids.into_iter().collect()),
        ..VlanFilter::default()
    };
    let vlans: HashMap<i64, VlanRow> = vlans::list(c, &f)
        .await?
        .into_iter()
        .map(|v| (v.id, v))
        .collect();
    Ok(rows
        .iter()
        .map(|r| (r.id, render::subnet(r, vlans.get(&r.vlan_id))))
        .collect())
}

/// Subnets (those with `ids` and/or in `space`), by id.
pub async fn subnets(c: &mut Conn, ids: Option<&[i64]>, space: Option<i64>) -> Result<Vec<Value>> {
    Ok(subnets_by_id(c, ids, space)
        .await?
        .into_iter()
        .map(|(_, v)| v)
        .collect())
}

pub async fn subnet(c: &mut Conn, id: i64) -> Result<Value> {
    subnets(c, Some(&[id]), None)
        .await?
        .pop()
        .ok_or_else(|| not_found("Subnet"))
}

async fn subnet_map(c: &mut Conn, ids: &[i64]) -> Result<HashMap<i64, Value>> {
    Ok(subnets_by_id(c, Some(ids), None)
        .await?
        .into_iter()
        .collect())
}

/// Every IP range (or the one with `id`) with its subnet.
pub async fn ipranges(c: &mut Conn, id: Option<i64>) -> Result<Vec<Value>> {
    let rows = ranges::list(c, id).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.subnet_id).collect();
    let subnets = subnet_map(c, &ids).await?;
    Ok(rows
        .iter()
        .map(|r| {
            let subnet = subnets.get(&r.subnet_id).cloned().unwrap_or(Value::Null);
            render::iprange(r, subnet)
        })
        .collect())
}

/// Every reserved IP (or the one with `id`) with its subnet.
pub async fn reserved_ips(c: &mut Conn, id: Option<i64>) -> Result<Vec<Value>> {
    let rows = ranges::reserved_list(c, id).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.subnet_id).collect();
    let subnets = subnet_map(c, &ids).await?;
    Ok(rows
        .iter()
        .map(|r| {
            let subnet = subnets.get(&r.subnet_id).cloned().unwrap_or(Value::Null);
            render::reserved_ip(r, subnet)
        })
        .collect())
}

/// Every space (or the one with `id`) with its VLANs and subnets.
pub async fn spaces(c: &mut Conn, id: Option<i64>) -> Result<Vec<Value>> {
    let rows = spaces::list(c, id).await?;
    let mut out = Vec::with_capacity(rows.len());
    for s in &rows {
        let f = VlanFilter {
            space: Some(s.id),
            ..VlanFilter::default()
        };
        let vlans = vlans::list(c, &f).await?;
        let subnets = subnets(c, None, Some(s.id)).await?;
        out.push(render::space(s, &vlans, subnets));
    }
    Ok(out)
}
