//! `version/` and `describe/`: the anonymous documents clients read first.
//! `describe/` lists every handler with its URI template, parameters and
//! actions; python-libmaas and the `maas` CLI build their calls from it.

use axum::response::Response;
use serde_json::{Value, json};

use crate::api::app::{Req, json};

pub const VERSION: &str = "3.5.0";

pub async fn version(_req: Req) -> Response {
    json(&json!({
        "capabilities": [
            "networks-management", "static-ipaddresses", "ipv6-deployment-ubuntu",
            "devices-management", "storage-deployment-ubuntu", "network-deployment-ubuntu",
            "bridging-interface-ubuntu", "bridging-automatic-ubuntu", "authenticate-api"
        ],
        "version": VERSION,
        "subversion": concat!("maas-rs ", env!("CARGO_PKG_VERSION")),
    }))
}

type Act = (&'static str, &'static str, Option<&'static str>);

/// A handler: (name, path under /MAAS/api/2.0, params, doc, actions).
pub struct Handler {
    pub name: &'static str,
    pub path: &'static str,
    pub params: &'static [&'static str],
    pub doc: &'static str,
    pub actions: &'static [Act],
}

const R: Act = ("read", "GET", None);
const C: Act = ("create", "POST", None);
const U: Act = ("update", "PUT", None);
const D: Act = ("delete", "DELETE", None);

const fn post(op: &'static str) -> Act {
    (op, "POST", Some(op))
}
const fn get(op: &'static str) -> Act {
    (op, "GET", Some(op))
}

/// (resource name, anonymous handler, authenticated handler)
pub const RESOURCES: &[(&str, Option<Handler>, Option<Handler>)] = &[
    (
        "MachinesHandler",
        Some(Handler {
            name: "AnonMachinesHandler",
            path: "/machines/",
            params: &[],
            doc: "Anonymous access to machines: enlistment.",
            actions: &[C, get("is_registered")],
        }),
        Some(Handler {
            name: "MachinesHandler",
            path: "/machines/",
            params: &[],
            doc: "Manage the collection of all machines.",
            actions: &[
                R,
                C,
                post("allocate"),
                post("release"),
                post("accept"),
                post("accept_all"),
                post("set_zone"),
                get("list_allocated"),
                get("power_parameters"),
                get("is_registered"),
            ],
        }),
    ),
    (
        "MachineHandler",
        None,
        Some(Handler {
            name: "MachineHandler",
            path: "/machines/{system_id}/",
            params: &["system_id"],
            doc: "Manage an individual machine.",
            actions: &[
                R,
                U,
                D,
                post("deploy"),
                post("release"),
                post("commission"),
                post("abort"),
                post("test"),
                post("mark_broken"),
                post("mark_fixed"),
                post("override_failed_testing"),
                post("rescue_mode"),
                post("exit_rescue_mode"),
                post("lock"),
                post("unlock"),
                post("power_on"),
                post("power_off"),
                get("query_power_state"),
                get("power_parameters"),
                get("get_token"),
                post("set_owner_data"),
            ],
        }),
    ),
    (
        "InterfacesHandler",
        None,
        Some(Handler {
            name: "InterfacesHandler",
            path: "/nodes/{system_id}/interfaces/",
            params: &["system_id"],
            doc: "Manage a machine's interfaces.",
            actions: &[R, post("create_physical")],
        }),
    ),
    (
        "BlockDevicesHandler",
        None,
        Some(Handler {
            name: "BlockDevicesHandler",
            path: "/nodes/{system_id}/blockdevices/",
            params: &["system_id"],
            doc: "Manage a machine's block devices.",
            actions: &[R, C],
        }),
    ),
    (
        "VersionHandler",
        Some(Handler {
            name: "VersionHandler",
            path: "/version/",
            params: &[],
            doc: "Information about this MAAS instance.",
            actions: &[R],
        }),
        None,
    ),
    (
        "UsersHandler",
        None,
        Some(Handler {
            name: "UsersHandler",
            path: "/users/",
            params: &[],
            doc: "Manage the user accounts of this MAAS.",
            actions: &[R, C, get("whoami")],
        }),
    ),
    (
        "UserHandler",
        None,
        Some(Handler {
            name: "UserHandler",
            path: "/users/{username}/",
            params: &["username"],
            doc: "Manage a user account.",
            actions: &[R, D],
        }),
    ),
    (
        "AccountHandler",
        None,
        Some(Handler {
            name: "AccountHandler",
            path: "/account/",
            params: &[],
            doc: "Manage the current logged-in user's API keys.",
            actions: &[
                post("create_authorisation_token"),
                post("delete_authorisation_token"),
                get("list_authorisation_tokens"),
                post("update_token_name"),
            ],
        }),
    ),
    (
        "SSHKeysHandler",
        None,
        Some(Handler {
            name: "SSHKeysHandler",
            path: "/account/prefs/sshkeys/",
            params: &[],
            doc: "Manage the current user's SSH keys.",
            actions: &[R, C],
        }),
    ),
    (
        "SSHKeyHandler",
        None,
        Some(Handler {
            name: "SSHKeyHandler",
            path: "/account/prefs/sshkeys/{id}/",
            params: &["id"],
            doc: "Manage an SSH key.",
            actions: &[R, D],
        }),
    ),
    (
        "DomainsHandler",
        None,
        Some(Handler {
            name: "DomainsHandler",
            path: "/domains/",
            params: &[],
            doc: "Manage DNS domains.",
            actions: &[R],
        }),
    ),
    (
        "DomainHandler",
        None,
        Some(Handler {
            name: "DomainHandler",
            path: "/domains/{id}/",
            params: &["id"],
            doc: "Manage a DNS domain.",
            actions: &[R],
        }),
    ),
    (
        "ZonesHandler",
        None,
        Some(Handler {
            name: "ZonesHandler",
            path: "/zones/",
            params: &[],
            doc: "Manage availability zones.",
            actions: &[R, C],
        }),
    ),
    (
        "ZoneHandler",
        None,
        Some(Handler {
            name: "ZoneHandler",
            path: "/zones/{name}/",
            params: &["name"],
            doc: "Manage an availability zone.",
            actions: &[R, U, D],
        }),
    ),
    (
        "ResourcePoolsHandler",
        None,
        Some(Handler {
            name: "ResourcePoolsHandler",
            path: "/resourcepools/",
            params: &[],
            doc: "Manage resource pools.",
            actions: &[R, C],
        }),
    ),
    (
        "ResourcePoolHandler",
        None,
        Some(Handler {
            name: "ResourcePoolHandler",
            path: "/resourcepool/{id}/",
            params: &["id"],
            doc: "Manage a resource pool.",
            actions: &[R, U, D],
        }),
    ),
    (
        "TagsHandler",
        None,
        Some(Handler {
            name: "TagsHandler",
            path: "/tags/",
            params: &[],
            doc: "Manage tags.",
            actions: &[R, C],
        }),
    ),
    (
        "TagHandler",
        None,
        Some(Handler {
            name: "TagHandler",
            path: "/tags/{name}/",
            params: &["name"],
            doc: "Manage a tag.",
            actions: &[R, U, D, post("update_nodes"), get("machines"), get("nodes")],
        }),
    ),
    (
        "RackControllersHandler",
        None,
        Some(Handler {
            name: "RackControllersHandler",
            path: "/rackcontrollers/",
            params: &[],
            doc: "Manage the rack controllers.",
            actions: &[R],
        }),
    ),
    (
        "RackControllerHandler",
        None,
        Some(Handler {
            name: "RackControllerHandler",
            path: "/rackcontrollers/{system_id}/",
            params: &["system_id"],
            doc: "Manage a rack controller; deleting one revokes its certificate.",
            actions: &[R, D],
        }),
    ),
    (
        "EventsHandler",
        None,
        Some(Handler {
            name: "EventsHandler",
            path: "/events/",
            params: &[],
            doc: "Retrieve filtered node events.",
            actions: &[get("query")],
        }),
    ),
    (
        "MaasHandler",
        None,
        Some(Handler {
            name: "MaasHandler",
            path: "/maas/",
            params: &[],
            doc: "Manage the MAAS server's global settings.",
            actions: &[get("get_config"), post("set_config")],
        }),
    ),
    (
        "FabricsHandler",
        None,
        Some(Handler {
            name: "FabricsHandler",
            path: "/fabrics/",
            params: &[],
            doc: "Manage fabrics.",
            actions: &[R, C],
        }),
    ),
    (
        "FabricHandler",
        None,
        Some(Handler {
            name: "FabricHandler",
            path: "/fabrics/{id}/",
            params: &["id"],
            doc: "Manage a fabric.",
            actions: &[R, U, D],
        }),
    ),
    (
        "VlansHandler",
        None,
        Some(Handler {
            name: "VlansHandler",
            path: "/fabrics/{fabric_id}/vlans/",
            params: &["fabric_id"],
            doc: "Manage the VLANs of a fabric.",
            actions: &[R, C],
        }),
    ),
    (
        "VlanHandler",
        None,
        Some(Handler {
            name: "VlanHandler",
            path: "/fabrics/{fabric_id}/vlans/{vid}/",
            params: &["fabric_id", "vid"],
            doc: "Manage a VLAN of a fabric (by its vid); also served by id at /vlans/{vlan_id}/.",
            actions: &[R, U, D],
        }),
    ),
    (
        "SubnetsHandler",
        None,
        Some(Handler {
            name: "SubnetsHandler",
            path: "/subnets/",
            params: &[],
            doc: "Manage subnets.",
            actions: &[R, C],
        }),
    ),
    (
        "SubnetHandler",
        None,
        Some(Handler {
            name: "SubnetHandler",
            path: "/subnets/{id}/",
            params: &["id"],
            doc: "Manage a subnet (by id or CIDR).",
            actions: &[
                R,
                U,
                D,
                get("reserved_ip_ranges"),
                get("unreserved_ip_ranges"),
                get("statistics"),
            ],
        }),
    ),
    (
        "IPRangesHandler",
        None,
        Some(Handler {
            name: "IPRangesHandler",
            path: "/ipranges/",
            params: &[],
            doc: "Manage IP ranges.",
            actions: &[R, C],
        }),
    ),
    (
        "IPRangeHandler",
        None,
        Some(Handler {
            name: "IPRangeHandler",
            path: "/ipranges/{id}/",
            params: &["id"],
            doc: "Manage an IP range.",
            actions: &[R, U, D],
        }),
    ),
    (
        "ReservedIpsHandler",
        None,
        Some(Handler {
            name: "ReservedIpsHandler",
            path: "/reservedips/",
            params: &[],
            doc: "Manage reserved IPs (static DHCP leases).",
            actions: &[R, C],
        }),
    ),
    (
        "ReservedIpHandler",
        None,
        Some(Handler {
            name: "ReservedIpHandler",
            path: "/reservedips/{id}/",
            params: &["id"],
            doc: "Manage a reserved IP.",
            actions: &[R, U, D],
        }),
    ),
    (
        "SpacesHandler",
        None,
        Some(Handler {
            name: "SpacesHandler",
            path: "/spaces/",
            params: &[],
            doc: "Manage spaces.",
            actions: &[R, C],
        }),
    ),
    (
        "SpaceHandler",
        None,
        Some(Handler {
            name: "SpaceHandler",
            path: "/spaces/{id}/",
            params: &["id"],
            doc: "Manage a space.",
            actions: &[R, U, D],
        }),
    ),
];

fn handler_json(h: &Handler, base: &str) -> Value {
    let path = format!("/MAAS/api/2.0{}", h.path);
    json!({
        "name": h.name,
        "doc": h.doc,
        "path": path,
        "uri": format!("{base}{path}"),
        "params": h.params,
        "actions": h.actions.iter().map(|(name, method, op)| json!({
            "name": name, "method": method, "op": op, "restful": op.is_none(), "doc": "",
        })).collect::<Vec<_>>(),
    })
}

pub fn describe_doc(base: &str) -> Value {
    let mut handlers = Vec::new();
    let resources: Vec<Value> = RESOURCES
        .iter()
        .map(|(name, anon, auth)| {
            let a = anon.as_ref().map(|h| handler_json(h, base));
            let b = auth.as_ref().map(|h| handler_json(h, base));
            handlers.extend(a.iter().cloned());
            handlers.extend(b.iter().cloned());
            json!({"name": name, "anon": a, "auth": b})
        })
        .collect();
    json!({
        "doc": "MAAS API",
        "hash": concat!("maas-rs-", env!("CARGO_PKG_VERSION")),
        "resources": resources,
        "handlers": handlers,
    })
}

pub async fn describe(req: Req) -> Response {
    json(&describe_doc(&req.base_url()))
}
