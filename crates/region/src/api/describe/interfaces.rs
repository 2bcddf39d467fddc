//! Machine networking: interfaces, their links, IP address reservations.

use super::{D, R, Resource, U, auth, post};

pub const RESOURCES: &[Resource] = &[
    auth(
        "InterfacesHandler",
        "/nodes/{system_id}/interfaces/",
        &["system_id"],
        "Manage interfaces on a node.",
        &[
            R,
            post("create_physical"),
            post("create_bond"),
            post("create_bridge"),
            post("create_vlan"),
        ],
    ),
    auth(
        "InterfaceHandler",
        "/nodes/{system_id}/interfaces/{id}/",
        &["system_id", "id"],
        "Manage a node's or device's interface.",
        &[
            R,
            U,
            D,
            post("link_subnet"),
            post("unlink_subnet"),
            post("disconnect"),
            post("set_default_gateway"),
            post("add_tag"),
            post("remove_tag"),
        ],
    ),
    auth(
        "IPAddressesHandler",
        "/ipaddresses/",
        &[],
        "Manage IP addresses allocated by MAAS.",
        &[R, post("reserve"), post("release")],
    ),
];
