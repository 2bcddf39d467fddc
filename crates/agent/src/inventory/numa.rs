//! NUMA nodes from /sys/devices/system/node/node<N>: the CPUs of each
//! (`cpulist`) and its memory (`meminfo`'s MemTotal), as MAAS lists them in
//! `numanode_set`.

use std::path::Path;

use serde_json::{Value, json};

use super::read_trim;

/// The most CPUs read from one list (a bound, not a real limit).
const MAX_CPUS: usize = 65536;

#[derive(Debug, Clone, PartialEq)]
pub struct NumaNode {
    pub index: u32,
    /// MiB.
    pub memory: u64,
    pub cores: Vec<u32>,
}

impl NumaNode {
    pub fn to_json(&self) -> Value {
        json!({"index": self.index, "memory": self.memory, "cores": self.cores})
    }
}

/// A kernel CPU list (`0-3,8,10-11`); what does not parse is left out.
pub fn cpu_list(s: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for part in s.trim().split(',').filter(|p| !p.is_empty()) {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let (Ok(a), Ok(b)) = (a.trim().parse::<u32>(), b.trim().parse::<u32>()) else {
            continue;
        };
        for c in a..=b {
            if out.len() >= MAX_CPUS {
                return out;
            }
            out.push(c);
        }
    }
    out
}

pub fn numa_nodes(root: &Path) -> Vec<NumaNode> {
    let dir = root.join("sys/devices/system/node");
    let mut out: Vec<NumaNode> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let index: u32 = name.strip_prefix("node")?.parse().ok()?;
            let node = dir.join(&name);
            let kb = std::fs::read_to_string(node.join("meminfo"))
                .unwrap_or_default()
                .lines()
                .find_map(|l| {
                    let (_, rest) = l.split_once("MemTotal:")?;
                    rest.split_whitespace().next()?.parse::<u64>().ok()
                })
                .unwrap_or(0);
            Some(NumaNode {
                index,
                memory: kb / 1024,
                cores: cpu_list(&read_trim(&node.join("cpulist")).unwrap_or_default()),
            })
        })
        .collect();
    out.sort_by_key(|n| n.index);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists_are_expanded() {
        assert_eq!(cpu_list("0-3,8,10-11\n"), [0, 1, 2, 3, 8, 10, 11]);
        assert_eq!(cpu_list(""), Vec::<u32>::new());
        assert_eq!(cpu_list("x,2,3-y"), [2], "what does not parse is left out");
        assert_eq!(cpu_list("0-4294967295").len(), MAX_CPUS);
    }

    #[test]
    fn nodes_are_read_with_their_cpus_and_memory() {
        let root = std::env::temp_dir().join(format!("agent-numa-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let node = |n: &str, cpus: &str, kb: u64| {
            let d = root.join("sys/devices/system/node").join(n);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("cpulist"), cpus).unwrap();
            std::fs::write(
                d.join("meminfo"),
                format!("Node 0 MemTotal:       {kb} kB\nNode 0 MemFree:   1 kB\n"),
            )
            .unwrap();
        };
        node("node1", "4-7\n", 4 * 1024 * 1024);
        node("node0", "0-3\n", 2 * 1024 * 1024 + 512);
        std::fs::create_dir_all(root.join("sys/devices/system/node/power")).unwrap();
        let n = numa_nodes(&root);
        let _ = std::fs::remove_dir_all(&root);
        assert_eq!(
            n,
            [
                NumaNode {
                    index: 0,
                    memory: 2048,
                    cores: vec![0, 1, 2, 3]
                },
                NumaNode {
                    index: 1,
                    memory: 4096,
                    cores: vec![4, 5, 6, 7]
                },
            ]
        );
        assert!(numa_nodes(Path::new("/nonexistent")).is_empty());
    }
}
