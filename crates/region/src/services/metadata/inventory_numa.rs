//! The NUMA nodes of a commissioning inventory (`numa_nodes: [{index,
//! memory, cores}]`), checked and turned into MAAS's `numanode_set` JSON.

use serde_json::{Value, json};

use crate::error::{Error, Result};

/// More nodes, or CPUs in one node, than any machine has.
const MAX_NODES: usize = 1024;
const MAX_CORES: usize = 65536;

fn bad(field: &str, why: &str) -> Error {
    Error::field(&format!("numa_nodes.{field}"), why)
}

/// `numanode_set` as JSON text, sorted by index; `None` when the inventory
/// lists no nodes (the machine keeps what it has).
pub fn parse(inv: &Value) -> Result<Option<String>> {
    let nodes = match inv.get("numa_nodes") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(a)) if a.is_empty() => return Ok(None),
        Some(Value::Array(a)) if a.len() <= MAX_NODES => a,
        Some(_) => {
            return Err(Error::field(
                "numa_nodes",
                format!("A list of at most {MAX_NODES} nodes."),
            ));
        }
    };
    let mut out: Vec<(u64, Value)> = Vec::with_capacity(nodes.len());
    for n in nodes {
        let index = n
            .get("index")
            .and_then(Value::as_u64)
            .filter(|i| *i <= u64::from(u16::MAX))
            .ok_or_else(|| bad("index", "A node index is 0 to 65535."))?;
        if out.iter().any(|(i, _)| *i == index) {
            return Err(bad("index", &format!("Node {index} is listed twice.")));
        }
        let memory = n
            .get("memory")
            .and_then(Value::as_u64)
            .filter(|m| *m <= 1 << 40)
            .ok_or_else(|| bad("memory", "A node's memory is MiB, 0 to 2^40."))?;
        let cores = match n.get("cores") {
            Some(Value::Array(c)) if c.len() <= MAX_CORES => c
                .iter()
                .map(|c| c.as_u64().filter(|c| *c < MAX_CORES as u64))
                .collect::<Option<Vec<u64>>>()
                .ok_or_else(|| bad("cores", "CPU numbers are 0 to 65535."))?,
            _ => return Err(bad("cores", "A list of CPU numbers.")),
        };
        out.push((
            index,
            json!({"index": index, "memory": memory, "cores": cores, "hugepages_set": []}),
        ));
    }
    out.sort_by_key(|(i, _)| *i);
    let set: Vec<Value> = out.into_iter().map(|(_, v)| v).collect();
    Ok(Some(Value::Array(set).to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_become_maas_numanode_set() {
        let inv = json!({"numa_nodes": [
            {"index": 1, "memory": 4096, "cores": [4, 5]},
            {"index": 0, "memory": 2048, "cores": [0, 1]}
        ]});
        let set: Value = serde_json::from_str(&parse(&inv).unwrap().unwrap()).unwrap();
        assert_eq!(
            set,
            json!([
                {"index": 0, "memory": 2048, "cores": [0, 1], "hugepages_set": []},
                {"index": 1, "memory": 4096, "cores": [4, 5], "hugepages_set": []}
            ])
        );
        assert_eq!(parse(&json!({})).unwrap(), None);
        assert_eq!(parse(&json!({"numa_nodes": []})).unwrap(), None);
    }

    #[test]
    fn bad_nodes_are_refused() {
        for (inv, field) in [
            (json!({"numa_nodes": {}}), "numa_nodes"),
            (
                json!({"numa_nodes": [{"index": -1, "memory": 1, "cores": []}]}),
                "numa_nodes.index",
            ),
            (
                json!({"numa_nodes": [{"index": 0, "memory": 1, "cores": []},
                                      {"index": 0, "memory": 1, "cores": []}]}),
                "numa_nodes.index",
            ),
            (
                json!({"numa_nodes": [{"index": 0, "memory": "1", "cores": []}]}),
                "numa_nodes.memory",
            ),
            (
                json!({"numa_nodes": [{"index": 0, "memory": 1, "cores": [70000]}]}),
                "numa_nodes.cores",
            ),
            (
                json!({"numa_nodes": [{"index": 0, "memory": 1}]}),
                "numa_nodes.cores",
            ),
        ] {
            let e = parse(&inv).unwrap_err();
            assert!(format!("{e:?}").contains(field), "{inv}: {e:?}");
        }
    }
}
