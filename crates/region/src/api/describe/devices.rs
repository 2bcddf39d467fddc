//! Devices, nodes, region controllers and static routes.

use super::{C, D, R, Resource, U, auth, get, post};

pub const RESOURCES: &[Resource] = &[
    auth(
        "DevicesHandler",
        "/devices/",
        &[],
        "Manage the collection of all the devices in the MAAS.",
        &[R, C, get("is_registered"), post("set_zone")],
    ),
    auth(
        "DeviceHandler",
        "/devices/{system_id}/",
        &["system_id"],
        "Manage an individual device.",
        &[
            R,
            U,
            D,
            get("power_parameters"),
            post("restore_default_configuration"),
            post("restore_networking_configuration"),
            post("set_owner_data"),
            post("set_workload_annotations"),
        ],
    ),
    auth(
        "NodesHandler",
        "/nodes/",
        &[],
        "Manage the collection of all the nodes in the MAAS.",
        &[R, get("is_registered"), post("set_zone")],
    ),
    auth(
        "NodeHandler",
        "/nodes/{system_id}/",
        &["system_id"],
        "Manage an individual Node.",
        &[R, D],
    ),
    auth(
        "RegionControllersHandler",
        "/regioncontrollers/",
        &[],
        "Manage the collection of all region controllers in MAAS.",
        &[R],
    ),
    auth(
        "RegionControllerHandler",
        "/regioncontrollers/{system_id}/",
        &["system_id"],
        "Manage an individual region controller.",
        &[R],
    ),
    auth(
        "StaticRoutesHandler",
        "/static-routes/",
        &[],
        "Manage static routes.",
        &[R, C],
    ),
    auth(
        "StaticRouteHandler",
        "/static-routes/{id}/",
        &["id"],
        "Manage a static route.",
        &[R, U, D],
    ),
];
