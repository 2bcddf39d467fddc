//! Counters, rendered in the Prometheus text format.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// A monotonically increasing counter.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    /// For gauges.
    pub fn set(&self, n: u64) {
        self.0.store(n, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// What the DNS server did, since it started.
#[derive(Debug, Default)]
pub struct Metrics {
    pub queries_udp: Counter,
    pub queries_tcp: Counter,
    /// Answered from the precomputed table.
    pub fast_path: Counter,
    /// Went through hickory's parser.
    pub slow_path: Counter,
    pub rcode_noerror: Counter,
    pub rcode_formerr: Counter,
    pub rcode_servfail: Counter,
    pub rcode_nxdomain: Counter,
    pub rcode_notimp: Counter,
    pub rcode_refused: Counter,
    pub rcode_other: Counter,
    /// Names outside our zones refused to clients outside `recursion_allowed`.
    pub refused_recursion: Counter,
    pub forwarded: Counter,
    pub forward_timeouts: Counter,
    /// Forwarding queue full or upstream unreachable.
    pub forward_dropped: Counter,
    /// Unparseable packets and responses sent to us (dropped or FORMERR).
    pub malformed_dropped: Counter,
    pub truncated: Counter,
    pub zone_swaps: Counter,
    pub zone_records: Counter,
}

impl Metrics {
    pub fn count_rcode(&self, low: u8) {
        match low {
            0 => self.rcode_noerror.inc(),
            1 => self.rcode_formerr.inc(),
            2 => self.rcode_servfail.inc(),
            3 => self.rcode_nxdomain.inc(),
            4 => self.rcode_notimp.inc(),
            5 => self.rcode_refused.inc(),
            _ => self.rcode_other.inc(),
        }
    }

    /// Appends every counter in the Prometheus text format.
    pub fn render_prometheus(&self, out: &mut String) {
        let mut family = |name: &str, help: &str, kind: &str, rows: &[(&str, u64)]| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            for (labels, v) in rows {
                if labels.is_empty() {
                    let _ = writeln!(out, "{name} {v}");
                } else {
                    let _ = writeln!(out, "{name}{{{labels}}} {v}");
                }
            }
        };
        family(
            "maas_dns_queries_total",
            "DNS queries received, by transport.",
            "counter",
            &[
                ("transport=\"udp\"", self.queries_udp.get()),
                ("transport=\"tcp\"", self.queries_tcp.get()),
            ],
        );
        family(
            "maas_dns_query_path_total",
            "Queries answered from the precomputed table (fast) or parsed in full (slow).",
            "counter",
            &[
                ("path=\"fast\"", self.fast_path.get()),
                ("path=\"slow\"", self.slow_path.get()),
            ],
        );
        family(
            "maas_dns_responses_total",
            "Responses sent, by rcode.",
            "counter",
            &[
                ("rcode=\"NOERROR\"", self.rcode_noerror.get()),
                ("rcode=\"FORMERR\"", self.rcode_formerr.get()),
                ("rcode=\"SERVFAIL\"", self.rcode_servfail.get()),
                ("rcode=\"NXDOMAIN\"", self.rcode_nxdomain.get()),
                ("rcode=\"NOTIMP\"", self.rcode_notimp.get()),
                ("rcode=\"REFUSED\"", self.rcode_refused.get()),
                ("rcode=\"other\"", self.rcode_other.get()),
            ],
        );
        family(
            "maas_dns_refused_recursion_total",
            "Names outside our zones refused to clients not allowed to recurse.",
            "counter",
            &[("", self.refused_recursion.get())],
        );
        family(
            "maas_dns_forwarded_total",
            "Queries forwarded upstream.",
            "counter",
            &[("", self.forwarded.get())],
        );
        family(
            "maas_dns_forward_timeouts_total",
            "Forwarded queries no upstream answered (SERVFAIL sent).",
            "counter",
            &[("", self.forward_timeouts.get())],
        );
        family(
            "maas_dns_forward_dropped_total",
            "Queries that could not be forwarded (queue full, send failed).",
            "counter",
            &[("", self.forward_dropped.get())],
        );
        family(
            "maas_dns_malformed_total",
            "Malformed packets (dropped, or answered FORMERR).",
            "counter",
            &[("", self.malformed_dropped.get())],
        );
        family(
            "maas_dns_truncated_total",
            "UDP responses sent truncated (TC).",
            "counter",
            &[("", self.truncated.get())],
        );
        family(
            "maas_dns_zone_swaps_total",
            "Configurations swapped in.",
            "counter",
            &[("", self.zone_swaps.get())],
        );
        family(
            "maas_dns_zone_records",
            "Records in the zones being served.",
            "gauge",
            &[("", self.zone_records.get())],
        );
    }
}
