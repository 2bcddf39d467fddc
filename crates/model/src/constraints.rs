//! Allocation constraints (`machines/?op=allocate`): parsing MAAS's parameter
//! syntax and the pure matching rules for storage and interfaces.

use std::collections::BTreeMap;

use crate::filter::list;
use crate::placement::{Kind, Spec, parse_all};

/// The network placement constraints, as parsed specifiers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Placement {
    pub subnets: Vec<Spec>,
    pub not_subnets: Vec<Spec>,
    pub vlans: Vec<Spec>,
    pub not_vlans: Vec<Spec>,
    pub fabrics: Vec<Spec>,
    pub not_fabrics: Vec<Spec>,
    pub fabric_classes: Vec<Spec>,
    pub not_fabric_classes: Vec<Spec>,
}

/// Field → messages, the body of a MAAS 400 answer.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// A request's parameters: each key with all the values it was given.
pub type Params = BTreeMap<String, Vec<String>>;

#[derive(Debug, Clone, PartialEq)]
pub struct StorageConstraint {
    pub label: String,
    /// Minimum size in GB (10^9 bytes).
    pub size_gb: f64,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InterfaceConstraint {
    pub label: String,
    /// (key, value) pairs, all of which must hold for one interface.
    pub filters: Vec<(String, String)>,
}

/// Parsed `allocate` constraints. All are ANDed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Constraints {
    pub system_id: Option<String>,
    pub name: Option<String>,
    pub arch: Vec<String>,
    pub not_arch: Vec<String>,
    pub cpu_count: Option<f64>,
    pub cpu_speed: Option<f64>,
    pub mem: Option<f64>,
    pub tags: Vec<String>,
    pub not_tags: Vec<String>,
    pub zone: Option<String>,
    pub not_in_zone: Vec<String>,
    pub pool: Option<String>,
    pub not_in_pool: Vec<String>,
    pub storage: Vec<StorageConstraint>,
    pub interfaces: Vec<InterfaceConstraint>,
    pub power_state: Option<String>,
    pub not_power_state: Option<String>,
    /// Network placement (`subnets`, `not_subnets`, `vlans`, …), parsed;
    /// the region resolves them to ids.
    pub placement: Placement,
    pub agent_name: Option<String>,
    pub comment: Option<String>,
    pub dry_run: bool,
    pub verbose: bool,
}

/// Parameters `allocate` accepts that are not machine filters, or that MAAS
/// accepts and we ignore (bridge options apply at deploy time).
const OPTION_KEYS: &[&str] = &[
    "op",
    "agent_name",
    "comment",
    "dry_run",
    "verbose",
    "bridge_all",
    "bridge_type",
    "bridge_stp",
    "bridge_fd",
];

const CONSTRAINT_KEYS: &[&str] = &[
    "system_id",
    "name",
    "arch",
    "not_arch",
    "cpu_count",
    "cpu_speed",
    "mem",
    "tags",
    "not_tags",
    "zone",
    "not_in_zone",
    "pool",
    "not_in_pool",
    "storage",
    "interfaces",
    "power_state",
    "not_power_state",
    "subnets",
    "not_subnets",
    "vlans",
    "not_vlans",
    "fabrics",
    "not_fabrics",
    "fabric_classes",
    "not_fabric_classes",
];

/// Constraints MAAS knows that this region does not match yet; refused
/// clearly rather than ignored.
const UNSUPPORTED_KEYS: &[&str] = &[
    "devices",
    "link_speed",
    "deployment_target",
    "not_deployment_target",
    "owner",
    "not_owner",
    "pod",
    "not_pod",
    "pod_type",
    "not_pod_type",
];

pub const INTERFACE_KEYS: &[&str] = &[
    "id",
    "fabric",
    "fabric_class",
    "ip",
    "mode",
    "name",
    "hostname",
    "subnet",
    "space",
    "subnet_cidr",
    "type",
    "vlan",
    "vid",
    "tag",
    "link_speed",
];

fn err(errors: &mut FieldErrors, field: &str, msg: impl Into<String>) {
    errors
        .entry(field.to_string())
        .or_default()
        .push(msg.into());
}

fn single<'a>(params: &'a Params, key: &str) -> Option<&'a str> {
    params
        .get(key)
        .and_then(|v| v.iter().rev().find(|s| !s.is_empty()))
        .map(|s| s.as_str())
}

fn number(params: &Params, key: &str, errors: &mut FieldErrors) -> Option<f64> {
    let v = single(params, key)?;
    match v.trim().parse::<f64>() {
        Ok(n) if n.is_finite() && n >= 0.0 => Some(n),
        _ => {
            err(errors, key, format!("Invalid number: {v}"));
            None
        }
    }
}

/// MAAS's message for an integer outside `lo..=hi`, if it is.
pub fn out_of_range(n: i64, lo: i64, hi: i64) -> Option<String> {
    if n < lo {
        Some(format!(
            "Ensure this value is greater than or equal to {lo}."
        ))
    } else if n > hi {
        Some(format!("Ensure this value is less than or equal to {hi}."))
    } else {
        None
    }
}

pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" | "" => Some(false),
        _ => None,
    }
}

impl Constraints {
    /// Parse `allocate` parameters. Unknown keys are an error, as in MAAS.
    pub fn parse(params: &Params) -> Result<Constraints, FieldErrors> {
        let mut errors = FieldErrors::new();
        for key in params.keys() {
            if UNSUPPORTED_KEYS.contains(&key.as_str()) {
                err(
                    &mut errors,
                    key,
                    format!("The '{key}' constraint is not supported by this region yet."),
                );
            } else if !CONSTRAINT_KEYS.contains(&key.as_str())
                && !OPTION_KEYS.contains(&key.as_str())
            {
                err(&mut errors, key, format!("Unknown constraint: {key}"));
            }
        }
        let mut c = Constraints {
            system_id: single(params, "system_id").map(str::to_string),
            name: single(params, "name").map(str::to_string),
            arch: list(params, "arch"),
            not_arch: list(params, "not_arch"),
            cpu_count: number(params, "cpu_count", &mut errors),
            cpu_speed: number(params, "cpu_speed", &mut errors),
            mem: number(params, "mem", &mut errors),
            tags: list(params, "tags"),
            not_tags: list(params, "not_tags"),
            zone: single(params, "zone").map(str::to_string),
            not_in_zone: list(params, "not_in_zone"),
            pool: single(params, "pool").map(str::to_string),
            not_in_pool: list(params, "not_in_pool"),
            power_state: single(params, "power_state").map(str::to_string),
            not_power_state: single(params, "not_power_state").map(str::to_string),
            agent_name: single(params, "agent_name").map(str::to_string),
            comment: single(params, "comment").map(str::to_string),
            ..Default::default()
        };
        for (key, slot) in [("dry_run", &mut c.dry_run), ("verbose", &mut c.verbose)] {
            if let Some(v) = single(params, key) {
                match parse_bool(v) {
                    Some(b) => *slot = b,
                    None => err(&mut errors, key, format!("'{v}' is not a boolean.")),
                }
            }
        }
        for key in ["power_state", "not_power_state"] {
            if let Some(v) = single(params, key)
                && !["on", "off", "unknown", "error"].contains(&v)
            {
                err(&mut errors, key, format!("Invalid power state: {v}"));
            }
        }
        let placement = |key: &str, kind: Kind, errors: &mut FieldErrors| {
            parse_all(kind, &list(params, key)).unwrap_or_else(|e| {
                err(errors, key, e);
                Vec::new()
            })
        };
        c.placement = Placement {
            subnets: placement("subnets", Kind::Subnet, &mut errors),
            not_subnets: placement("not_subnets", Kind::Subnet, &mut errors),
            vlans: placement("vlans", Kind::Vlan, &mut errors),
            not_vlans: placement("not_vlans", Kind::Vlan, &mut errors),
            fabrics: placement("fabrics", Kind::Fabric, &mut errors),
            not_fabrics: placement("not_fabrics", Kind::Fabric, &mut errors),
            fabric_classes: list(params, "fabric_classes")
                .into_iter()
                .map(Spec::Class)
                .collect(),
            not_fabric_classes: list(params, "not_fabric_classes")
                .into_iter()
                .map(Spec::Class)
                .collect(),
        };
        if let Some(s) = single(params, "storage") {
            match parse_storage(s) {
                Ok(v) => c.storage = v,
                Err(e) => err(&mut errors, "storage", e),
            }
        }
        if let Some(s) = single(params, "interfaces") {
            match parse_interfaces(s) {
                Ok(v) => c.interfaces = v,
                Err(e) => err(&mut errors, "interfaces", e),
            }
        }
        if errors.is_empty() {
            Ok(c)
        } else {
            Err(errors)
        }
    }
}

/// Split on `sep` outside parentheses.
fn split_outside_parens(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, ch) in s.char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => depth -= 1,
            c if c == sep && depth == 0 => {
                out.push(&s[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn valid_label(l: &str) -> bool {
    !l.is_empty()
        && l.len() <= 64
        && l.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Parse `label:size(tag,tag),label2:size,...`. Sizes are GB; a label is
/// optional (entries get their position as label).
pub fn parse_storage(s: &str) -> Result<Vec<StorageConstraint>, String> {
    let mut out: Vec<StorageConstraint> = Vec::new();
    for (i, raw) in split_outside_parens(s.trim(), ',').into_iter().enumerate() {
        let part = raw.trim();
        if part.is_empty() {
            return Err(format!(
                "Malformed storage constraint, empty entry in '{s}'."
            ));
        }
        let (label, rest) = match part.split_once(':') {
            Some((l, r)) if !l.contains('(') => (l.trim().to_string(), r.trim()),
            _ => (i.to_string(), part),
        };
        if !valid_label(&label) {
            return Err(format!("Malformed storage constraint label '{label}'."));
        }
        let (size_s, tags) = match rest.find('(') {
            Some(p) => {
                if !rest.ends_with(')') {
                    return Err(format!("Malformed storage constraint '{part}'."));
                }
                let inner = &rest[p + 1..rest.len() - 1];
                let tags: Vec<String> = inner
                    .split(',')
                    .map(|t| t.trim().to_string())
                    .filter(|t| !t.is_empty())
                    .collect();
                if tags.is_empty() || inner.contains(['(', ')']) {
                    return Err(format!("Malformed storage constraint tags in '{part}'."));
                }
                (&rest[..p], tags)
            }
            None => (rest, vec![]),
        };
        let size_gb: f64 = size_s
            .trim()
            .parse()
            .ok()
            .filter(|n: &f64| n.is_finite() && *n >= 0.0)
            .ok_or_else(|| format!("Malformed storage constraint size '{}'.", size_s.trim()))?;
        if out.iter().any(|c| c.label == label) {
            return Err(format!("Duplicate storage constraint label '{label}'."));
        }
        out.push(StorageConstraint {
            label,
            size_gb,
            tags,
        });
    }
    Ok(out)
}

/// Parse `label:key=value[,key=value];label2:key=value`.
pub fn parse_interfaces(s: &str) -> Result<Vec<InterfaceConstraint>, String> {
    let mut out: Vec<InterfaceConstraint> = Vec::new();
    for raw in s.trim().split(';') {
        let part = raw.trim();
        if part.is_empty() {
            return Err(format!(
                "Malformed interfaces constraint, empty entry in '{s}'."
            ));
        }
        let (label, body) = part.split_once(':').ok_or_else(|| {
            format!("Malformed interfaces constraint '{part}': expected label:key=value.")
        })?;
        let label = label.trim().to_string();
        if !valid_label(&label) {
            return Err(format!("Malformed interfaces constraint label '{label}'."));
        }
        let mut filters = Vec::new();
        for kv in body.split(',') {
            let (k, v) = kv.split_once('=').ok_or_else(|| {
                format!("Malformed interfaces constraint '{kv}': expected key=value.")
            })?;
            let (k, v) = (k.trim(), v.trim());
            if !INTERFACE_KEYS.contains(&k) {
                return Err(format!("Unknown interfaces constraint key '{k}'."));
            }
            if v.is_empty() {
                return Err(format!("Empty value for interfaces constraint key '{k}'."));
            }
            if (k == "vid" || k == "link_speed" || k == "id") && v.parse::<i64>().is_err() {
                return Err(format!("'{k}' must be an integer, got '{v}'."));
            }
            filters.push((k.to_string(), v.to_string()));
        }
        if out.iter().any(|c| c.label == label) {
            return Err(format!("Duplicate interfaces constraint label '{label}'."));
        }
        out.push(InterfaceConstraint { label, filters });
    }
    Ok(out)
}

/// A disk as the storage matcher sees it.
#[derive(Debug, Clone)]
pub struct DiskFacts {
    pub id: i64,
    pub name: String,
    pub size_bytes: i64,
    pub tags: Vec<String>,
    /// The machine's chosen boot disk (`set_boot_disk`).
    pub is_boot: bool,
}

fn disk_fits(c: &StorageConstraint, d: &DiskFacts) -> bool {
    (d.size_bytes as f64) >= c.size_gb * 1e9 && c.tags.iter().all(|t| d.tags.contains(t))
}

/// Match storage constraints to distinct disks. The first constraint must be
/// met by the boot disk (the one chosen, else the machine's first disk by
/// id), as in MAAS.
/// Returns label → disk id.
pub fn match_storage(
    constraints: &[StorageConstraint],
    disks: &[DiskFacts],
) -> Option<BTreeMap<String, i64>> {
    if constraints.is_empty() {
        return Some(BTreeMap::new());
    }
    let mut sorted: Vec<&DiskFacts> = disks.iter().collect();
    sorted.sort_by_key(|d| (!d.is_boot, d.id));
    let root = sorted.first()?;
    if !disk_fits(&constraints[0], root) {
        return None;
    }
    let mut used = vec![root.id];
    let mut out = BTreeMap::from([(constraints[0].label.clone(), root.id)]);
    fn assign(
        cs: &[StorageConstraint],
        disks: &[&DiskFacts],
        used: &mut Vec<i64>,
        out: &mut BTreeMap<String, i64>,
    ) -> bool {
        let Some((c, rest)) = cs.split_first() else {
            return true;
        };
        for d in disks {
            if used.contains(&d.id) || !disk_fits(c, d) {
                continue;
            }
            used.push(d.id);
            out.insert(c.label.clone(), d.id);
            if assign(rest, disks, used, out) {
                return true;
            }
            used.pop();
            out.remove(&c.label);
        }
        false
    }
    assign(&constraints[1..], &sorted, &mut used, &mut out).then_some(out)
}

/// An interface as the interfaces matcher sees it: each constraint key maps to
/// the values the interface has for it (e.g. `tag` → all its tags).
#[derive(Debug, Clone, Default)]
pub struct InterfaceFacts {
    pub id: i64,
    pub attrs: BTreeMap<String, Vec<String>>,
    pub link_speed: i64,
}

fn iface_fits(c: &InterfaceConstraint, i: &InterfaceFacts) -> bool {
    c.filters.iter().all(|(k, v)| {
        if k == "link_speed" {
            return v.parse::<i64>().map(|n| i.link_speed >= n).unwrap_or(false);
        }
        i.attrs
            .get(k)
            .is_some_and(|vals| vals.iter().any(|x| x.eq_ignore_ascii_case(v)))
    })
}

/// Match interface constraints to distinct interfaces; label → interface id.
pub fn match_interfaces(
    constraints: &[InterfaceConstraint],
    ifaces: &[InterfaceFacts],
) -> Option<BTreeMap<String, i64>> {
    fn assign(
        cs: &[InterfaceConstraint],
        ifaces: &[InterfaceFacts],
        used: &mut Vec<i64>,
        out: &mut BTreeMap<String, i64>,
    ) -> bool {
        let Some((c, rest)) = cs.split_first() else {
            return true;
        };
        for i in ifaces {
            if used.contains(&i.id) || !iface_fits(c, i) {
                continue;
            }
            used.push(i.id);
            out.insert(c.label.clone(), i.id);
            if assign(rest, ifaces, used, out) {
                return true;
            }
            used.pop();
            out.remove(&c.label);
        }
        false
    }
    let mut out = BTreeMap::new();
    assign(constraints, ifaces, &mut Vec::new(), &mut out).then_some(out)
}

/// MAAS's allocation order: cheapest first by `cpu_count + memory_GiB`.
pub fn cost(cpu_count: i32, memory_mib: i64) -> f64 {
    cpu_count as f64 + memory_mib as f64 / 1024.0
}

/// Whether a machine architecture (`amd64/generic`) matches an `arch`
/// constraint (`amd64` matches any subarchitecture).
pub fn arch_matches(machine_arch: &str, wanted: &str) -> bool {
    crate::filter::Arch::parse(wanted).matches(machine_arch)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(crate) fn params(pairs: &[(&str, &str)]) -> Params {
        let mut p = Params::new();
        for (k, v) in pairs {
            p.entry(k.to_string()).or_default().push(v.to_string());
        }
        p
    }

    #[test]
    fn parses_common_constraints() {
        let c = Constraints::parse(&params(&[
            ("cpu_count", "4"),
            ("mem", "2048.5"),
            ("tags", "ssd,fast"),
            ("tags", "gpu"),
            ("not_in_zone", "z1"),
            ("arch", "amd64"),
            ("storage", "root:80(ssd),data:400"),
            ("interfaces", "eth0:fabric=f1,vid=10;eth1:tag=sriov"),
            ("dry_run", "true"),
        ]))
        .unwrap();
        assert_eq!(c.cpu_count, Some(4.0));
        assert_eq!(c.mem, Some(2048.5));
        assert_eq!(c.tags, vec!["ssd", "fast", "gpu"]);
        assert_eq!(c.storage.len(), 2);
        assert_eq!(c.storage[0].tags, vec!["ssd"]);
        assert_eq!(c.storage[1].size_gb, 400.0);
        assert_eq!(c.interfaces[0].filters.len(), 2);
        assert!(c.dry_run);
    }

    #[test]
    fn rejects_bad_syntax() {
        for (k, v) in [
            ("cpu_count", "four"),
            ("mem", "-1"),
            ("storage", "root:abc"),
            ("storage", "root:10(ssd"),
            ("storage", "a:1,a:2"),
            ("storage", ",,"),
            ("interfaces", "eth0"),
            ("interfaces", "eth0:colour=red"),
            ("interfaces", "eth0:vid=x"),
            ("dry_run", "maybe"),
            ("power_state", "sideways"),
            ("flavour", "x"),
            ("subnets", "cidr:10.0.0.0/99"),
            ("not_subnets", "bogus:1"),
            ("vlans", "vid:x"),
            ("devices", "1"),
        ] {
            let e = Constraints::parse(&params(&[(k, v)])).unwrap_err();
            assert!(e.contains_key(k), "{k}={v} gave {e:?}");
        }
    }

    #[test]
    fn storage_root_must_be_first_disk() {
        let disks = vec![
            DiskFacts {
                id: 2,
                name: "sdb".into(),
                size_bytes: 500_000_000_000,
                tags: vec!["ssd".into()],
                is_boot: false,
            },
            DiskFacts {
                id: 1,
                name: "sda".into(),
                size_bytes: 100_000_000_000,
                tags: vec![],
                is_boot: false,
            },
        ];
        let c = parse_storage("root:80,data:400(ssd)").unwrap();
        let m = match_storage(&c, &disks).unwrap();
        assert_eq!(m["root"], 1);
        assert_eq!(m["data"], 2);
        // Root needs ssd but the first disk has none.
        assert!(match_storage(&parse_storage("root:80(ssd)").unwrap(), &disks).is_none());
        // Two constraints cannot share one disk.
        assert!(match_storage(&parse_storage("a:50,b:400,c:1").unwrap(), &disks).is_none());
        // A chosen boot disk is the root.
        let mut chosen = disks.clone();
        chosen[0].is_boot = true;
        let m = match_storage(&parse_storage("root:400(ssd)").unwrap(), &chosen).unwrap();
        assert_eq!(m["root"], 2);
        assert!(match_storage(&c, &[]).is_none());
    }

    #[test]
    fn interfaces_need_distinct_matches() {
        let mk = |id, fabric: &str, speed| InterfaceFacts {
            id,
            attrs: BTreeMap::from([("fabric".to_string(), vec![fabric.to_string()])]),
            link_speed: speed,
        };
        let ifs = vec![mk(1, "f1", 1000), mk(2, "f2", 10000)];
        let c = parse_interfaces("a:fabric=f1;b:link_speed=5000").unwrap();
        let m = match_interfaces(&c, &ifs).unwrap();
        assert_eq!((m["a"], m["b"]), (1, 2));
        assert!(
            match_interfaces(&parse_interfaces("a:fabric=f1;b:fabric=f1").unwrap(), &ifs).is_none()
        );
    }

    #[test]
    fn arch_rules() {
        assert!(arch_matches("amd64/generic", "amd64"));
        assert!(arch_matches("amd64/generic", "amd64/generic"));
        assert!(!arch_matches("amd64/generic", "amd64/hwe-22.04"));
        assert!(!arch_matches("arm64/generic", "amd64"));
    }

    proptest! {
        #[test]
        fn parsers_never_panic(s in ".{0,64}") {
            let _ = parse_storage(&s);
            let _ = parse_interfaces(&s);
            let _ = Constraints::parse(&params(&[("storage", &s), ("interfaces", &s), ("mem", &s)]));
        }

        #[test]
        fn storage_round_trips(sizes in proptest::collection::vec(0u32..5000, 1..5)) {
            let text: Vec<String> = sizes.iter().enumerate().map(|(i, s)| format!("d{i}:{s}(t{i})")).collect();
            let parsed = parse_storage(&text.join(",")).unwrap();
            prop_assert_eq!(parsed.len(), sizes.len());
            for (i, c) in parsed.iter().enumerate() {
                prop_assert_eq!(c.size_gb, sizes[i] as f64);
                prop_assert_eq!(&c.tags, &vec![format!("t{i}")]);
            }
        }
    }
}
