//! Allocation's network placement specifiers (`subnets=space:2`,
//! `vlans=vid:10`, `fabrics=class:10g`) resolved to ids: subnets for
//! subnet specifiers, VLANs for VLAN and fabric specifiers.

use maas_model::placement::Spec;
use sqlx::{Postgres, QueryBuilder};

use crate::error::Result;
use crate::store::Conn;

/// `AND <condition>` on `s` (subnets), `v` (its VLAN), `f` (its fabric),
/// `sp` (the VLAN's space).
fn push_condition(q: &mut QueryBuilder<Postgres>, spec: &Spec, subnet: bool) {
    match spec {
        Spec::Id(id) if subnet => q.push(" AND s.id = ").push_bind(*id),
        Spec::Id(id) => q.push(" AND v.id = ").push_bind(*id),
        Spec::Name(n) if subnet => q.push(" AND s.name = ").push_bind(n.clone()),
        Spec::Name(n) => q.push(" AND v.name = ").push_bind(n.clone()),
        Spec::Cidr(c) => q
            .push(" AND s.cidr = ")
            .push_bind(c.to_string())
            .push("::cidr"),
        Spec::Ip(ip) => q
            .push(" AND s.cidr >>= ")
            .push_bind(ip.to_string())
            .push("::inet"),
        Spec::Space(sp) if sp == "undefined" => q.push(" AND v.space_id IS NULL"),
        Spec::Space(sp) => q
            .push(" AND (sp.name = ")
            .push_bind(sp.clone())
            .push(" OR sp.id::text = ")
            .push_bind(sp.clone())
            .push(")"),
        Spec::Vid(vid) => q.push(" AND v.vid = ").push_bind(*vid),
        Spec::Fabric(fab) => q
            .push(" AND (f.name = ")
            .push_bind(fab.clone())
            .push(" OR f.id::text = ")
            .push_bind(fab.clone())
            .push(")"),
        Spec::Class(class) => q.push(" AND f.class_type = ").push_bind(class.clone()),
        Spec::Vlan(vl) => q
            .push(" AND (v.name = ")
            .push_bind(vl.clone())
            .push(" OR v.id::text = ")
            .push_bind(vl.clone())
            .push(")"),
    };
}

/// Ids of the subnets a subnet specifier names.
pub async fn subnets(c: &mut Conn, spec: &Spec) -> Result<Vec<i64>> {
    let mut q = QueryBuilder::<Postgres>::new(
        "SELECT s.id FROM subnets s JOIN vlans v ON v.id = s.vlan_id
           JOIN fabrics f ON f.id = v.fabric_id LEFT JOIN spaces sp ON sp.id = v.space_id
          WHERE true",
    );
    push_condition(&mut q, spec, true);
    Ok(q.build_query_scalar().fetch_all(&mut *c).await?)
}

/// Ids of the VLANs a VLAN or fabric specifier names (a fabric's VLANs).
pub async fn vlans(c: &mut Conn, spec: &Spec, fabric: bool) -> Result<Vec<i64>> {
    let mut q = QueryBuilder::<Postgres>::new(
        "SELECT v.id FROM vlans v JOIN fabrics f ON f.id = v.fabric_id
           LEFT JOIN spaces sp ON sp.id = v.space_id WHERE true",
    );
    match (fabric, spec) {
        // A fabric specifier's bare id and name name the fabric.
        (true, Spec::Id(id)) => {
            q.push(" AND f.id = ").push_bind(*id);
        }
        (true, Spec::Name(n)) => {
            q.push(" AND f.name = ").push_bind(n.clone());
        }
        _ => push_condition(&mut q, spec, false),
    }
    Ok(q.build_query_scalar().fetch_all(&mut *c).await?)
}
