//! Readable tables for list responses (`maas PROFILE RESOURCE list`).

use comfy_table::{ContentArrangement, Table, presets};
use serde_json::Value;

/// How a cell's JSON value is shown.
#[derive(Clone, Copy, Debug)]
pub enum Format {
    /// Strings as-is, numbers/bools printed, objects by name/hostname/id.
    Plain,
    /// A MiB count shown in GiB (`8192` → `8 GiB`).
    MibAsGib,
    /// An array joined with commas.
    Join,
}

/// One column: a title and candidate JSON paths (the first present wins).
#[derive(Clone, Debug)]
pub struct Column {
    pub title: &'static str,
    pub paths: &'static [&'static [&'static str]],
    pub format: Format,
}

const fn col(title: &'static str, paths: &'static [&'static [&'static str]]) -> Column {
    Column {
        title,
        paths,
        format: Format::Plain,
    }
}

pub const MACHINES: &[Column] = &[
    col("HOSTNAME", &[&["hostname"]]),
    col("SYSTEM_ID", &[&["system_id"]]),
    col("STATUS", &[&["status_name"]]),
    col("POWER", &[&["power_state"]]),
    col("OWNER", &[&["owner"]]),
    col("ARCH", &[&["architecture"]]),
    col("CPUS", &[&["cpu_count"]]),
    Column {
        title: "RAM",
        paths: &[&["memory"]],
        format: Format::MibAsGib,
    },
    col("ZONE", &[&["zone", "name"]]),
    col("POOL", &[&["pool", "name"]]),
    Column {
        title: "TAGS",
        paths: &[&["tag_names"]],
        format: Format::Join,
    },
];

pub const CONTROLLERS: &[Column] = &[
    col("HOSTNAME", &[&["hostname"]]),
    col("SYSTEM_ID", &[&["system_id"]]),
    col("VERSION", &[&["version"]]),
    col(
        "REGION",
        &[
            &["connected_region"],
            &["connected_to"],
            &["region"],
            &["region_hostname"],
        ],
    ),
    col(
        "LAST_SEEN",
        &[&["last_seen"], &["last_contact"], &["updated"]],
    ),
];

pub const DEVICES: &[Column] = &[
    col("HOSTNAME", &[&["hostname"]]),
    col("SYSTEM_ID", &[&["system_id"]]),
    col("FQDN", &[&["fqdn"]]),
    col("OWNER", &[&["owner"]]),
    col("PARENT", &[&["parent"]]),
    Column {
        title: "IP_ADDRESSES",
        paths: &[&["ip_addresses"]],
        format: Format::Join,
    },
    col("ZONE", &[&["zone", "name"]]),
];

pub const SUBNETS: &[Column] = &[
    col("NAME", &[&["name"]]),
    col("CIDR", &[&["cidr"]]),
    col("GATEWAY", &[&["gateway_ip"]]),
    col("VLAN", &[&["vlan", "vid"]]),
    col("FABRIC", &[&["vlan", "fabric"]]),
    col("SPACE", &[&["space"]]),
    col("MANAGED", &[&["managed"]]),
    Column {
        title: "DNS_SERVERS",
        paths: &[&["dns_servers"]],
        format: Format::Join,
    },
];

pub const DOMAINS: &[Column] = &[
    col("NAME", &[&["name"]]),
    col("ID", &[&["id"]]),
    col("AUTHORITATIVE", &[&["authoritative"]]),
    col("DEFAULT", &[&["is_default"]]),
    col("TTL", &[&["ttl"]]),
    col("RECORDS", &[&["resource_record_count"]]),
];

/// `dnsresources` (addresses) and `dnsresource-records` (other types).
pub const DNS_RECORDS: &[Column] = &[
    col("FQDN", &[&["fqdn"]]),
    col("ID", &[&["id"]]),
    col("TYPE", &[&["rrtype"]]),
    col("TTL", &[&["ttl"], &["address_ttl"]]),
    Column {
        title: "DATA",
        paths: &[&["rrdata"], &["ip_addresses"]],
        format: Format::Join,
    },
];

/// The column set for a resource's `list`, if it has a dedicated one.
pub fn columns_for(resource: &str) -> Option<&'static [Column]> {
    match resource {
        "machines" => Some(MACHINES),
        "rack-controllers" | "region-controllers" => Some(CONTROLLERS),
        "devices" => Some(DEVICES),
        "subnets" => Some(SUBNETS),
        "domains" => Some(DOMAINS),
        "dnsresources" | "dnsresource-records" => Some(DNS_RECORDS),
        _ => None,
    }
}

fn lookup<'a>(item: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut v = item;
    for key in path {
        v = v.get(key)?;
    }
    (!v.is_null()).then_some(v)
}

fn plain(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) if s.is_empty() => "-".into(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(plain).collect();
            if parts.is_empty() {
                "-".into()
            } else {
                parts.join(",")
            }
        }
        Value::Object(map) => ["name", "hostname", "fqdn", "system_id", "ip", "id"]
            .iter()
            .find_map(|k| map.get(*k).filter(|v| !v.is_null()).map(plain))
            .unwrap_or_else(|| v.to_string()),
    }
}

fn gib(v: &Value) -> String {
    let Some(mib) = v
        .as_f64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
    else {
        return plain(v);
    };
    let g = mib / 1024.0;
    let s = format!("{g:.1}");
    let s = s.strip_suffix(".0").unwrap_or(&s);
    format!("{s} GiB")
}

pub fn cell(item: &Value, column: &Column) -> String {
    let Some(v) = column.paths.iter().find_map(|p| lookup(item, p)) else {
        return "-".into();
    };
    match column.format {
        Format::Plain | Format::Join => plain(v),
        Format::MibAsGib => gib(v),
    }
}

/// Columns for a resource without a dedicated set: identifying keys first,
/// then other scalar fields of the first item, at most eight.
pub fn generic_columns(items: &[Value]) -> Vec<(String, Vec<String>)> {
    let Some(Value::Object(first)) = items.first() else {
        return vec![];
    };
    let preferred = ["id", "name", "hostname", "system_id"];
    let mut keys: Vec<String> = preferred
        .iter()
        .filter(|k| first.contains_key(**k))
        .map(|k| k.to_string())
        .collect();
    for (k, v) in first {
        let scalar = !matches!(v, Value::Object(_) | Value::Array(_));
        if scalar && k != "resource_uri" && !keys.contains(k) {
            keys.push(k.clone());
        }
    }
    keys.truncate(8);
    keys.into_iter()
        .map(|k| (k.to_uppercase(), vec![k]))
        .collect()
}

fn items_of(response: &Value) -> Vec<Value> {
    match response {
        Value::Array(a) => a.clone(),
        Value::Null => vec![],
        other => vec![other.clone()],
    }
}

/// Render a list response as a table. Rows are sorted by the first column.
pub fn render(resource: &str, response: &Value) -> String {
    let items = items_of(response);
    let (titles, rows): (Vec<String>, Vec<Vec<String>>) = match columns_for(resource) {
        Some(cols) => (
            cols.iter().map(|c| c.title.to_string()).collect(),
            items
                .iter()
                .map(|it| cols.iter().map(|c| cell(it, c)).collect())
                .collect(),
        ),
        None => {
            let cols = generic_columns(&items);
            (
                cols.iter().map(|(t, _)| t.clone()).collect(),
                items
                    .iter()
                    .map(|it| {
                        cols.iter()
                            .map(|(_, p)| match it.get(&p[0]) {
                                Some(v) => plain(v),
                                None => "-".into(),
                            })
                            .collect()
                    })
                    .collect(),
            )
        }
    };
    render_rows(titles, rows)
}

pub fn render_rows(titles: Vec<String>, mut rows: Vec<Vec<String>>) -> String {
    rows.sort();
    let mut table = Table::new();
    table
        .load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(titles);
    for r in rows {
        table.add_row(r);
    }
    for column in table.column_iter_mut() {
        column.set_padding((0, 2));
    }
    let mut out: String = table
        .lines()
        .map(|l| l.trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn machine(host: &str, mem: u64) -> Value {
        json!({
            "hostname": host, "system_id": format!("id-{host}"), "status_name": "Ready",
            "power_state": "off", "owner": null, "architecture": "amd64/generic",
            "cpu_count": 4, "memory": mem, "zone": {"name": "default", "id": 1},
            "pool": {"name": "pool-a"}, "tag_names": ["virtual", "ssd"],
        })
    }

    #[test]
    fn machine_cells() {
        let m = machine("node1", 8192);
        let cells: Vec<String> = MACHINES.iter().map(|c| cell(&m, c)).collect();
        assert_eq!(
            cells,
            [
                "node1",
                "id-node1",
                "Ready",
                "off",
                "-",
                "amd64/generic",
                "4",
                "8 GiB",
                "default",
                "pool-a",
                "virtual,ssd"
            ]
        );
        assert_eq!(cell(&machine("x", 1536), &MACHINES[7]), "1.5 GiB");
        assert_eq!(cell(&json!({}), &MACHINES[8]), "-");
    }

    #[test]
    fn machines_table_is_sorted_with_header() {
        let out = render(
            "machines",
            &json!([machine("b-node", 2048), machine("a-node", 1024)]),
        );
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 3, "{out}");
        assert!(
            lines[0].contains("HOSTNAME") && lines[0].contains("TAGS"),
            "{out}"
        );
        assert!(
            lines[1].contains("a-node") && lines[1].contains("1 GiB"),
            "{out}"
        );
        assert!(
            lines[2].contains("b-node") && lines[2].contains("2 GiB"),
            "{out}"
        );
        // an empty list is just the header
        assert_eq!(render("machines", &json!([])).lines().count(), 1);
    }

    #[test]
    fn controllers_use_first_present_field() {
        let rc = json!({"hostname": "rack1", "system_id": "r1", "version": "0.1.0",
                        "connected_to": {"hostname": "region1"}, "last_seen": "2026-01-01T00:00:00"});
        let cells: Vec<String> = CONTROLLERS.iter().map(|c| cell(&rc, c)).collect();
        assert_eq!(
            cells,
            ["rack1", "r1", "0.1.0", "region1", "2026-01-01T00:00:00"]
        );
    }

    #[test]
    fn network_and_dns_tables() {
        let subnet = json!({"name": "pxe", "cidr": "10.0.0.0/24", "gateway_ip": null,
            "vlan": {"vid": 0, "fabric": "fabric-0"}, "space": "undefined", "managed": true,
            "dns_servers": ["10.0.0.2", "10.0.0.3"]});
        let cells: Vec<String> = SUBNETS.iter().map(|c| cell(&subnet, c)).collect();
        assert_eq!(
            cells,
            [
                "pxe",
                "10.0.0.0/24",
                "-",
                "0",
                "fabric-0",
                "undefined",
                "true",
                "10.0.0.2,10.0.0.3"
            ]
        );
        let address = json!({"fqdn": "www.maas", "id": 3, "address_ttl": 60,
            "ip_addresses": [{"ip": "10.0.0.9"}, {"ip": "10.0.0.10"}]});
        let cells: Vec<String> = DNS_RECORDS.iter().map(|c| cell(&address, c)).collect();
        assert_eq!(cells, ["www.maas", "3", "-", "60", "10.0.0.9,10.0.0.10"]);
        let mx =
            json!({"fqdn": "maas", "id": 4, "rrtype": "MX", "ttl": null, "rrdata": "10 mail.maas"});
        let cells: Vec<String> = DNS_RECORDS.iter().map(|c| cell(&mx, c)).collect();
        assert_eq!(cells, ["maas", "4", "MX", "-", "10 mail.maas"]);
        let device = json!({"hostname": "phone", "system_id": "abc123", "fqdn": "phone.maas",
            "owner": "admin", "parent": null, "ip_addresses": ["10.0.0.7"], "zone": {"name": "default"}});
        let cells: Vec<String> = DEVICES.iter().map(|c| cell(&device, c)).collect();
        assert_eq!(
            cells,
            [
                "phone",
                "abc123",
                "phone.maas",
                "admin",
                "-",
                "10.0.0.7",
                "default"
            ]
        );
        assert!(render("domains", &json!([{"name": "maas", "id": 0}])).contains("AUTHORITATIVE"));
    }

    #[test]
    fn generic_tables_pick_scalar_fields() {
        let zones = json!([
            {"id": 2, "name": "z2", "description": "", "resource_uri": "/x/", "nested": {"a": 1}},
            {"id": 1, "name": "z1", "description": "first"}
        ]);
        let out = render("zones", &zones);
        let lines: Vec<&str> = out.lines().collect();
        assert!(
            lines[0].starts_with("ID")
                && lines[0].contains("NAME")
                && lines[0].contains("DESCRIPTION")
        );
        assert!(!lines[0].contains("RESOURCE_URI") && !lines[0].contains("NESTED"));
        assert!(lines[1].contains("z1") && lines[1].contains("first"));
        assert!(lines[2].contains("z2"));
    }
}
